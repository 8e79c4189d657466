//! COMMAND against a real redis-server 7.0: for every command and subcommand ferrokv has, the raw bytes of
//! `COMMAND INFO <name>` and `COMMAND DOCS <name>` must equal Redis's, in RESP2 and in RESP3; so must COMMAND
//! GETKEYS / GETKEYSANDFLAGS for representative commands, and COMMAND, COMMAND DOCS and COMMAND LIST (with
//! filters) taken as sets, since Redis sends those in hash order.
//!
//! Two normalisations, both for facts of Redis rather than differences: a container's subcommands come in
//! hash order (the dict is seeded randomly at startup), so they are compared sorted; and ferrokv implements
//! only some of CLIENT's and CLUSTER's subcommands, so Redis's list is cut to the ones ferrokv has. Every
//! other byte, each kept subcommand's entry included, is compared as sent.
//!
//! Without redis-server the test skips with a message, except under `CI=true`, where it fails.

mod common;

use std::collections::BTreeSet;

use common::{RespConn, TestServer, escape, split_aggregate};

/// A connection to each server, both on the same protocol.
struct Pair {
    ferrokv: RespConn,
    redis: RespConn,
}

impl Pair {
    fn new(ferrokv: &TestServer, redis: &TestServer, protocol: u8) -> Pair {
        let mut pair = Pair { ferrokv: ferrokv.conn(), redis: redis.conn() };
        if protocol == 3 {
            pair.both(&["HELLO", "3"]);
        }
        pair
    }

    /// The replies of ferrokv and of Redis to `argv`.
    fn both(&mut self, argv: &[&str]) -> (Vec<u8>, Vec<u8>) {
        (self.ferrokv.cmd(argv), self.redis.cmd(argv))
    }
}

fn bulk(text: &str) -> Vec<u8> {
    format!("${}\r\n{text}\r\n", text.len()).into_bytes()
}

/// The text of a bulk string reply.
fn bulk_text(reply: &[u8]) -> String {
    let start = reply.windows(2).position(|pair| pair == b"\r\n").expect("a bulk reply") + 2;
    String::from_utf8_lossy(&reply[start..reply.len() - 2]).into_owned()
}

fn children(reply: &[u8]) -> Vec<&[u8]> {
    split_aggregate(reply).unwrap_or_else(|| panic!("not an aggregate: {}", escape(reply))).1
}

/// An aggregate of `kind` (`*`, `%`, `~`) from its children; a map's count is its pairs.
fn aggregate(kind: u8, children: &[Vec<u8>]) -> Vec<u8> {
    let count = if kind == b'%' { children.len() / 2 } else { children.len() };
    let mut out = format!("{}{count}\r\n", kind as char).into_bytes();
    children.iter().for_each(|child| out.extend_from_slice(child));
    out
}

/// The header byte of a map: `%` in RESP3, `*` (flattened pairs) in RESP2.
fn map_kind(reply: &[u8]) -> u8 {
    reply[0]
}

/// COMMAND INFO entry with its subcommand entries cut to `known` names and sorted.
fn normalize_info_entry(entry: &[u8], known: &BTreeSet<String>) -> Vec<u8> {
    if entry.starts_with(b"*-1") || entry.starts_with(b"_") || entry.starts_with(b"$-1") {
        return entry.to_vec();
    }
    let mut fields: Vec<Vec<u8>> = children(entry).into_iter().map(<[u8]>::to_vec).collect();
    let subcommands = &fields[9];
    if subcommands.starts_with(b"*") {
        let mut kept: Vec<Vec<u8>> = children(subcommands)
            .into_iter()
            .filter(|sub| known.contains(&bulk_text(children(sub)[0])))
            .map(|sub| normalize_info_entry(sub, known))
            .collect();
        kept.sort();
        fields[9] = aggregate(b'*', &kept);
    }
    aggregate(entry[0], &fields)
}

/// A COMMAND INFO reply (an array of entries), each entry normalised.
fn normalize_info(reply: &[u8], known: &BTreeSet<String>) -> Vec<u8> {
    let entries: Vec<Vec<u8>> = children(reply).into_iter().map(|entry| normalize_info_entry(entry, known)).collect();
    aggregate(reply[0], &entries)
}

/// A COMMAND DOCS map (name to docs), its pairs cut to `known` names and sorted, each docs map normalised.
fn normalize_docs(reply: &[u8], known: &BTreeSet<String>) -> Vec<u8> {
    let flat = children(reply);
    let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = flat
        .chunks(2)
        .filter(|pair| known.contains(&bulk_text(pair[0])))
        .map(|pair| (pair[0].to_vec(), normalize_doc_fields(pair[1], known)))
        .collect();
    pairs.sort();
    let flat: Vec<Vec<u8>> = pairs.into_iter().flat_map(|(name, docs)| [name, docs]).collect();
    aggregate(map_kind(reply), &flat)
}

/// One command's docs map, its `subcommands` map normalised.
fn normalize_doc_fields(docs: &[u8], known: &BTreeSet<String>) -> Vec<u8> {
    let mut fields: Vec<Vec<u8>> = children(docs).into_iter().map(<[u8]>::to_vec).collect();
    if let Some(at) = fields.iter().step_by(2).position(|key| *key == bulk("subcommands")) {
        fields[2 * at + 1] = normalize_docs(&fields[2 * at + 1], known);
    }
    aggregate(map_kind(docs), &fields)
}

/// The bulk strings of an array reply, as a set.
fn name_set(reply: &[u8]) -> BTreeSet<String> {
    children(reply).into_iter().map(bulk_text).collect()
}

/// How much of each reply a failure shows, from a little before the first difference.
const SHOWN_BYTES: usize = 400;

#[track_caller]
fn assert_same(what: &str, ferrokv: &[u8], redis: &[u8]) {
    if ferrokv == redis {
        return;
    }
    let same = ferrokv.iter().zip(redis).take_while(|(a, b)| a == b).count();
    let from = same.saturating_sub(SHOWN_BYTES / 4);
    let shown = |reply: &[u8]| escape(&reply[from.min(reply.len())..(from + SHOWN_BYTES).min(reply.len())]);
    panic!("{what}: differ at byte {same}; from byte {from}:\n ferrokv {}\n redis   {}", shown(ferrokv), shown(redis));
}

/// Every name ferrokv has (`get`, `config|get`), from its own COMMAND LIST.
fn ferrokv_names(ferrokv: &TestServer) -> BTreeSet<String> {
    let names = name_set(&ferrokv.conn().cmd(&["COMMAND", "LIST"]));
    assert!(names.len() > 100 && names.contains("config|get"), "COMMAND LIST gave {names:?}");
    names
}

/// ferrokv, the reference redis-server and ferrokv's command names; `None` (after saying so) without
/// redis-server outside CI.
fn servers() -> Option<(TestServer, TestServer, BTreeSet<String>)> {
    let redis = common::require_redis()?;
    let ferrokv = TestServer::ferrokv(&[]);
    let known = ferrokv_names(&ferrokv);
    Some((ferrokv, redis, known))
}

#[test]
fn command_info_and_docs_match_redis_for_every_command() {
    let Some((ferrokv, redis, known)) = servers() else { return };
    for protocol in [2, 3] {
        let mut pair = Pair::new(&ferrokv, &redis, protocol);
        for name in &known {
            let (ours, theirs) = pair.both(&["COMMAND", "INFO", name]);
            let what = format!("RESP{protocol} COMMAND INFO {name}");
            assert_same(&what, &normalize_info(&ours, &known), &normalize_info(&theirs, &known));
            let (ours, theirs) = pair.both(&["COMMAND", "DOCS", name]);
            let what = format!("RESP{protocol} COMMAND DOCS {name}");
            assert_same(&what, &normalize_docs(&ours, &known), &normalize_docs(&theirs, &known));
        }
        // Several names at once, an unknown one among them, in mixed case.
        let argv = ["COMMAND", "INFO", "GET", "nosuch", "Config|Get", "client"];
        let (ours, theirs) = pair.both(&argv);
        assert_same("COMMAND INFO of several", &normalize_info(&ours, &known), &normalize_info(&theirs, &known));
        let argv = ["COMMAND", "DOCS", "GET", "nosuch", "Config|Get", "client"];
        let (ours, theirs) = pair.both(&argv);
        assert_same("COMMAND DOCS of several", &normalize_docs(&ours, &known), &normalize_docs(&theirs, &known));
    }
}

#[test]
fn command_all_docs_all_and_list_match_redis_as_sets() {
    let Some((ferrokv, redis, known)) = servers() else { return };
    for protocol in [2, 3] {
        let mut pair = Pair::new(&ferrokv, &redis, protocol);
        let (ours, theirs) = pair.both(&["COMMAND"]);
        let entries = |reply: &[u8]| -> BTreeSet<Vec<u8>> {
            let entries = children(reply).into_iter().filter(|entry| known.contains(&bulk_text(children(entry)[0])));
            entries.map(|entry| normalize_info_entry(entry, &known)).collect()
        };
        let top_level = known.iter().filter(|name| !name.contains('|')).count();
        assert_eq!(children(&ours).len(), top_level, "RESP{protocol} COMMAND lists every top-level command");
        assert_eq!(entries(&ours), entries(&theirs), "RESP{protocol} COMMAND");
        let (ours, theirs) = pair.both(&["COMMAND", "COUNT"]);
        assert_eq!((ours, theirs.len() > 2), (format!(":{top_level}\r\n").into_bytes(), true));
        let (ours, theirs) = pair.both(&["COMMAND", "DOCS"]);
        assert_same(
            &format!("RESP{protocol} COMMAND DOCS"),
            &normalize_docs(&ours, &known),
            &normalize_docs(&theirs, &known),
        );
        for filter in [
            &["FILTERBY", "ACLCAT", "connection"][..],
            &["FILTERBY", "aclcat", "KEYSPACE"],
            &["FILTERBY", "ACLCAT", "dangerous"],
            &["FILTERBY", "PATTERN", "*s*"],
            &["FILTERBY", "PATTERN", "CONFIG|*"],
            &["FILTERBY", "MODULE", "nosuch"],
        ] {
            let argv: Vec<&str> = ["COMMAND", "LIST"].iter().chain(filter).copied().collect();
            let (ours, theirs) = pair.both(&argv);
            let theirs: BTreeSet<String> = name_set(&theirs).intersection(&known).cloned().collect();
            assert_eq!(name_set(&ours), theirs, "RESP{protocol} {argv:?}");
        }
        for argv in [&["COMMAND", "LIST", "FILTERBY", "PATTERN"][..], &["COMMAND", "LIST", "FILTERBY", "X", "y"]] {
            let (ours, theirs) = pair.both(argv);
            assert_same(&format!("{argv:?}"), &ours, &theirs);
        }
    }
}

#[test]
fn command_getkeys_match_redis() {
    let Some((ferrokv, redis, _)) = servers() else { return };
    let requests: &[&str] = &[
        "get k",
        "set k v",
        "set k v get",
        "set k v EX 10 GET",
        "set k v XX",
        "set k v GET\0junk",
        "del a b c",
        "mset a 1 b 2",
        "msetnx a 1 b 2",
        "rename a b",
        "copy a b",
        "lcs a b",
        "exists a b",
        "blpop a b 0",
        "blmove a b left right 0",
        "lmpop 2 a b left",
        "lmpop 3 a b left",
        "lmpop 0 a left",
        "lmpop 5 a left",
        "blmpop 0 2 a b left count 2",
        "sintercard 2 a b limit 1",
        "sintercard 2 a",
        "sinterstore d a b",
        "sunionstore d a b",
        "smove a b m",
        "object encoding k",
        "hset h f v",
        "get k extra",
        "ping",
        "client list",
        "nosuch a",
        "config get maxmemory",
    ];
    for protocol in [2, 3] {
        let mut pair = Pair::new(&ferrokv, &redis, protocol);
        for request in requests {
            for subcommand in ["GETKEYS", "GETKEYSANDFLAGS"] {
                let argv: Vec<&str> = ["COMMAND", subcommand].into_iter().chain(request.split(' ')).collect();
                let (ours, theirs) = pair.both(&argv);
                assert_same(&format!("RESP{protocol} {argv:?}"), &ours, &theirs);
            }
        }
    }
}
