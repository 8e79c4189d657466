//! COMMAND [COUNT | INFO | DOCS | LIST | GETKEYS | GETKEYSANDFLAGS | HELP], answered from the command table.
//!
//! COMMAND INFO entries have Redis 7.0's ten elements: name, arity, flags, first key, last key, step, ACL
//! categories, tips, key specs, subcommands. Flags, categories, tips and key specs are sets in RESP3, as in
//! Redis; an empty subcommand list is an empty set, a non-empty one an array. ACL categories are the declared
//! ones plus those Redis implies from the flags (`setImplicitACLCategories`), in Redis's category order.
//!
//! COMMAND DOCS gives summary, since, group, complexity (when known) and nested subcommands; the argument
//! trees and history Redis also sends are not in our table. redis-cli's interactive mode reads this reply
//! and asserts on its shape: every entry is a map keyed by bulk strings, with string values for summary,
//! since and group (it reads them uninitialised otherwise) and `container|sub` keys for subcommands.
//!
//! A command with key positions but no `key_specs` gets one derived range spec, flagged `RO access` when
//! read-only and `RW access update` otherwise. GETKEYS applies the key specs generically, as Redis's
//! `getKeysUsingKeySpecs`; Redis's per-command key functions (used for SET's variable flags, for example) are
//! not reproduced.

use std::borrow::Cow;

use bytes::Bytes;

use super::super::args::Keyword;
use super::super::errors::{self, CmdResult};
use super::super::{BeginSearch, CommandSpec, Ctx, FindKeys, KeySpec, Resolved, Table, flag, flag::*};
use crate::resp::reply::Reply;
use crate::util::glob::glob_match;

pub(super) const SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("count", 2, LOADING | STALE, command_count).acl("slow connection").docs(
        "server",
        "2.8.13",
        "Get total number of Redis commands",
        "O(1)",
    ),
    CommandSpec::new("docs", -2, LOADING | STALE, command_docs)
        .acl("slow connection")
        .tips("nondeterministic_output_order")
        .docs(
            "server",
            "7.0.0",
            "Get array of specific Redis command documentation",
            "O(N) where N is the number of commands to look up",
        ),
    CommandSpec::new("getkeys", -4, LOADING | STALE, command_getkeys).acl("slow connection").docs(
        "server",
        "2.8.13",
        "Extract keys given a full Redis command",
        "O(N) where N is the number of arguments to the command",
    ),
    CommandSpec::new("getkeysandflags", -4, LOADING | STALE, command_getkeysandflags).acl("slow connection").docs(
        "server",
        "7.0.0",
        "Extract keys and access flags given a full Redis command",
        "O(N) where N is the number of arguments to the command",
    ),
    CommandSpec::new("help", 2, LOADING | STALE, command_help).acl("slow connection").docs(
        "server",
        "5.0.0",
        "Show helpful text about the different subcommands",
        "O(1)",
    ),
    CommandSpec::new("info", -2, LOADING | STALE, command_info)
        .acl("slow connection")
        .tips("nondeterministic_output_order")
        .docs(
            "server",
            "2.8.13",
            "Get array of specific Redis command details, or all when no argument is given.",
            "O(N) where N is the number of commands to look up",
        ),
    CommandSpec::new("list", -2, LOADING | STALE, command_list)
        .acl("slow connection")
        .tips("nondeterministic_output_order")
        .docs(
            "server",
            "7.0.0",
            "Get an array of Redis command names",
            "O(N) where N is the total number of Redis commands",
        ),
];

const HELP: &[&str] = &[
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
];

/// Redis's ACL categories in its own order (`ACLCommandCategories`), which COMMAND INFO follows.
const ACL_CATEGORIES: [&str; 21] = [
    "keyspace",
    "read",
    "write",
    "set",
    "sortedset",
    "list",
    "hash",
    "string",
    "bitmap",
    "hyperloglog",
    "geo",
    "stream",
    "pubsub",
    "admin",
    "fast",
    "slow",
    "blocking",
    "dangerous",
    "connection",
    "transaction",
    "scripting",
];

/// COMMAND without a subcommand: every top-level command's INFO entry.
pub(super) fn command(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let table = &ctx.state.table;
    reply.array(table.top.len());
    for cmd in table.commands() {
        reply_info(reply, table, cmd);
    }
    Ok(())
}

fn command_count(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    reply.int(ctx.state.table.top.len() as i64);
    Ok(())
}

fn command_help(_ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    super::reply_help(reply, "COMMAND", HELP);
    Ok(())
}

/// COMMAND INFO [name ...]: one entry per name (null for an unknown one), or every command.
fn command_info(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let names = ctx.sub_args().rest();
    if names.is_empty() {
        return command(ctx, reply);
    }
    let table = &ctx.state.table;
    reply.array(names.len());
    for name in names {
        match lookup_full(table, name) {
            Some(cmd) => reply_info(reply, table, cmd),
            None => reply.null(),
        }
    }
    Ok(())
}

/// COMMAND DOCS [name ...]: a map of the known names to their docs, or of every command.
fn command_docs(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let names = ctx.sub_args().rest();
    let table = &ctx.state.table;
    let found: Vec<Resolved> = if names.is_empty() {
        table.commands().collect()
    } else {
        names.iter().filter_map(|name| lookup_full(table, name)).collect()
    };
    reply.map(found.len());
    for cmd in found {
        reply.bulk(table.names[cmd.id].as_bytes());
        reply_docs(reply, table, cmd);
    }
    Ok(())
}

/// What COMMAND LIST FILTERBY keeps.
enum ListFilter<'a> {
    All,
    /// No command comes from a module, so this keeps nothing.
    Module,
    /// A category name as Redis's ACLGetCommandCategoryFlagByName compares it (strcasecmp).
    AclCategory(Keyword<'a>),
    Pattern(&'a [u8]),
}

/// COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern]: full names, subcommands included.
fn command_list(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.sub_args();
    let filter = match args.next_option() {
        None => ListFilter::All,
        Some(filterby) if filterby.is("filterby") && args.remaining() == 2 => {
            let kind = args.next_keyword()?;
            if kind.is("module") {
                ListFilter::Module
            } else if kind.is("aclcat") {
                ListFilter::AclCategory(args.next_keyword()?)
            } else if kind.is("pattern") {
                ListFilter::Pattern(args.next_bytes()?)
            } else {
                return Err(errors::SYNTAX.into());
            }
        }
        Some(_) => return Err(errors::SYNTAX.into()),
    };
    let table = &ctx.state.table;
    let keep = |cmd: Resolved| match filter {
        ListFilter::All => true,
        ListFilter::Module => false,
        ListFilter::AclCategory(wanted) => acl_categories(cmd.spec).iter().any(|category| wanted.is(category)),
        ListFilter::Pattern(pattern) => glob_match(pattern, table.names[cmd.id].as_bytes(), true),
    };
    let start = reply.begin_array();
    let mut count = 0;
    for cmd in table.commands().flat_map(|top| std::iter::once(top).chain(Table::subcommands(top))) {
        if keep(cmd) {
            reply.bulk(table.names[cmd.id].as_bytes());
            count += 1;
        }
    }
    reply.end_array(start, count);
    Ok(())
}

fn command_getkeys(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    getkeys(ctx, reply, false)
}

fn command_getkeysandflags(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    getkeys(ctx, reply, true)
}

/// COMMAND GETKEYS / GETKEYSANDFLAGS <command> [arg ...], with Redis's checks and errors in its order.
fn getkeys(ctx: &mut Ctx<'_>, reply: &mut Reply, with_flags: bool) -> CmdResult {
    let table = &ctx.state.table;
    let target = ctx.sub_args().rest();
    let cmd = lookup_argv(table, target).ok_or("ERR Invalid command specified")?;
    let specs = key_specs(cmd.spec);
    if specs.is_empty() {
        return Err("ERR The command has no key arguments".into());
    }
    if !cmd.spec.arity_ok(target.len()) {
        return Err("ERR Invalid number of arguments specified for command".into());
    }
    let keys = keys_from_specs(&specs, target).unwrap_or_default();
    if keys.is_empty() && cmd.spec.flags & NO_MANDATORY_KEYS == 0 {
        return Err("ERR Invalid arguments specified for command".into());
    }
    reply.array(keys.len());
    for (position, spec) in keys {
        if with_flags {
            reply.array(2);
            reply.bulk(&target[position]);
            reply_words(reply, spec.flags);
        } else {
            reply.bulk(&target[position]);
        }
    }
    Ok(())
}

/// Finds a command by full name: `get`, or `config|get` for a subcommand, ignoring case.
fn lookup_full(table: &Table, name: &[u8]) -> Option<Resolved> {
    match name.iter().position(|&c| c == b'|') {
        None => table.lookup(name),
        Some(bar) => {
            let container = table.lookup(&name[..bar])?;
            table.lookup_sub(container, &name[bar + 1..])
        }
    }
}

/// Finds the command a full request would run, as dispatch does (Redis's `lookupCommand`).
fn lookup_argv(table: &Table, argv: &[Bytes]) -> Option<Resolved> {
    let top = table.lookup(argv.first()?)?;
    match argv.get(1) {
        Some(sub) if !top.spec.subcommands.is_empty() => table.lookup_sub(top, sub),
        _ => Some(top),
    }
}

/// Declared ACL categories plus the ones Redis implies from the flags, in Redis's category order.
fn acl_categories(spec: &CommandSpec) -> Vec<&'static str> {
    let declared: Vec<&str> = spec.acl.split_whitespace().collect();
    let has = |category: &str| declared.contains(&category);
    let implied = |category: &str| match category {
        "write" => spec.flags & WRITE != 0,
        "read" => spec.flags & READONLY != 0 && !has("scripting"),
        "admin" | "dangerous" => spec.flags & ADMIN != 0,
        "pubsub" => spec.flags & PUBSUB != 0,
        "fast" => spec.flags & FAST != 0,
        "blocking" => spec.flags & BLOCKING != 0,
        _ => false,
    };
    let fast = has("fast") || implied("fast");
    ACL_CATEGORIES
        .into_iter()
        .filter(|&category| has(category) || implied(category) || (category == "slow" && !fast))
        .collect()
}

/// The command's key specs, or the one range spec its legacy key positions describe.
fn key_specs(spec: &CommandSpec) -> Cow<'static, [KeySpec]> {
    let (first, last, step) = spec.keys;
    if !spec.key_specs.is_empty() || first == 0 {
        return Cow::Borrowed(spec.key_specs);
    }
    let flags = if spec.flags & READONLY != 0 { "RO access" } else { "RW access update" };
    let lastkey = if last < 0 { last } else { last - first };
    Cow::Owned(vec![KeySpec::range(flags, first, lastkey, step)])
}

/// Key positions in `argv` (command name at 0) per Redis's `getKeysUsingKeySpecs`, each with its spec.
/// `None` when a spec does not fit the arguments (a key count out of range, for example).
fn keys_from_specs<'a>(specs: &'a [KeySpec], argv: &[Bytes]) -> Option<Vec<(usize, &'a KeySpec)>> {
    let argc = argv.len() as i64;
    let mut keys = Vec::new();
    for spec in specs {
        let Some(first) = begin_search(spec.begin_search, argv) else { continue };
        let (first, last, step) = match spec.find_keys {
            FindKeys::Range { lastkey, keystep, limit } => {
                let last = if lastkey >= 0 {
                    first + i64::from(lastkey)
                } else if limit == 0 {
                    argc + i64::from(lastkey)
                } else {
                    first + ((argc - first) / i64::from(limit) + i64::from(lastkey))
                };
                (first, last, keystep)
            }
            FindKeys::Keynum { keynumidx, firstkey, keystep } => {
                let count = argv.get(usize::try_from(first + i64::from(keynumidx)).ok()?)?;
                let count = crate::util::num::parse_i64(count).filter(|&n| n >= 0)?;
                let first = first + i64::from(firstkey);
                (first, first.checked_add(count)? - 1, keystep)
            }
        };
        if last >= argc || last < first || first >= argc {
            return None;
        }
        let step = usize::try_from(step).ok().filter(|&s| s > 0)?;
        keys.extend((first as usize..=last as usize).step_by(step).map(|position| (position, spec)));
    }
    Some(keys)
}

/// Where a spec's keys start, or `None` when its keyword is absent (that spec then has no keys).
fn begin_search(begin: BeginSearch, argv: &[Bytes]) -> Option<i64> {
    match begin {
        BeginSearch::Index(index) => Some(i64::from(index)),
        BeginSearch::Keyword { keyword, startfrom } => {
            let argc = argv.len() as i64;
            // Redis compares the keyword with strcasecmp.
            let found = |i: &i64| Keyword::of(&argv[*i as usize]).is(keyword);
            let position = if startfrom > 0 {
                (i64::from(startfrom)..argc - 1).find(found)
            } else {
                (2..=argc + i64::from(startfrom)).rev().find(found)
            };
            position.map(|i| i + 1)
        }
    }
}

/// One COMMAND INFO entry.
fn reply_info(reply: &mut Reply, table: &Table, cmd: Resolved) {
    let spec = cmd.spec;
    reply.array(10);
    reply.bulk(table.names[cmd.id].as_bytes());
    reply.int(i64::from(spec.arity));
    let flags: Vec<&str> = flag::NAMES.iter().filter(|(bit, _)| spec.flags & bit != 0).map(|(_, name)| *name).collect();
    reply_status_set(reply, &flags);
    for position in [spec.keys.0, spec.keys.1, spec.keys.2] {
        reply.int(i64::from(position));
    }
    let categories: Vec<String> = acl_categories(spec).into_iter().map(|c| format!("@{c}")).collect();
    reply_status_set(reply, &categories);
    let tips: Vec<&str> = spec.tips.split_whitespace().collect();
    reply.set(tips.len());
    for tip in tips {
        reply.bulk(tip.as_bytes());
    }
    let specs = key_specs(spec);
    reply.set(specs.len());
    for key_spec in specs.iter() {
        reply_key_spec(reply, key_spec);
    }
    if spec.subcommands.is_empty() {
        reply.set(0);
    } else {
        reply.array(spec.subcommands.len());
        for sub in Table::subcommands(cmd) {
            reply_info(reply, table, sub);
        }
    }
}

/// A key spec as a map: notes (if any), flags, begin_search, find_keys.
fn reply_key_spec(reply: &mut Reply, spec: &KeySpec) {
    reply.map(3 + usize::from(!spec.notes.is_empty()));
    if !spec.notes.is_empty() {
        reply.bulk(b"notes");
        reply.bulk(spec.notes.as_bytes());
    }
    reply.bulk(b"flags");
    reply_words(reply, spec.flags);
    reply.bulk(b"begin_search");
    match spec.begin_search {
        BeginSearch::Index(index) => reply_typed_spec(reply, "index", &[("index", Spec::Int(index))]),
        BeginSearch::Keyword { keyword, startfrom } => {
            reply_typed_spec(reply, "keyword", &[("keyword", Spec::Text(keyword)), ("startfrom", Spec::Int(startfrom))])
        }
    }
    reply.bulk(b"find_keys");
    match spec.find_keys {
        FindKeys::Range { lastkey, keystep, limit } => reply_typed_spec(
            reply,
            "range",
            &[("lastkey", Spec::Int(lastkey)), ("keystep", Spec::Int(keystep)), ("limit", Spec::Int(limit))],
        ),
        FindKeys::Keynum { keynumidx, firstkey, keystep } => reply_typed_spec(
            reply,
            "keynum",
            &[("keynumidx", Spec::Int(keynumidx)), ("firstkey", Spec::Int(firstkey)), ("keystep", Spec::Int(keystep))],
        ),
    }
}

/// A value inside a key spec's `spec` map.
enum Spec {
    Int(i32),
    Text(&'static str),
}

/// `{type: <kind>, spec: {<fields>}}`.
fn reply_typed_spec(reply: &mut Reply, kind: &str, fields: &[(&str, Spec)]) {
    reply.map(2);
    reply.bulk(b"type");
    reply.bulk(kind.as_bytes());
    reply.bulk(b"spec");
    reply.map(fields.len());
    for (name, value) in fields {
        reply.bulk(name.as_bytes());
        match value {
            Spec::Int(n) => reply.int(i64::from(*n)),
            Spec::Text(text) => reply.bulk(text.as_bytes()),
        }
    }
}

/// Space-separated words (key spec flags) as a set of status replies.
fn reply_words(reply: &mut Reply, words: &str) {
    reply_status_set(reply, &words.split_whitespace().collect::<Vec<_>>());
}

/// A set of status replies: how Redis sends flags and categories.
fn reply_status_set(reply: &mut Reply, items: &[impl AsRef<str>]) {
    reply.set(items.len());
    for item in items {
        reply.simple(item.as_ref());
    }
}

/// One COMMAND DOCS entry: summary, since, group, complexity (when known), subcommands (for a container).
fn reply_docs(reply: &mut Reply, table: &Table, cmd: Resolved) {
    let spec = cmd.spec;
    let has_complexity = !spec.complexity.is_empty();
    let has_subcommands = !spec.subcommands.is_empty();
    reply.map(3 + usize::from(has_complexity) + usize::from(has_subcommands));
    for (name, value) in [("summary", spec.summary), ("since", spec.since), ("group", spec.group)] {
        reply.bulk(name.as_bytes());
        reply.bulk(value.as_bytes());
    }
    if has_complexity {
        reply.bulk(b"complexity");
        reply.bulk(spec.complexity.as_bytes());
    }
    if has_subcommands {
        reply.bulk(b"subcommands");
        reply.map(spec.subcommands.len());
        for sub in Table::subcommands(cmd) {
            reply.bulk(table.names[sub.id].as_bytes());
            reply_docs(reply, table, sub);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::admin::testkit::TestServer;

    #[test]
    fn command_replies() {
        let mut t = TestServer::new();
        let me = t.connect();
        let count = t.server.state.table.top.len();
        assert_eq!(t.run(me, "COMMAND COUNT"), format!(":{count}\r\n"));
        assert!(t.run(me, "COMMAND").starts_with(&format!("*{count}\r\n*10\r\n")));
        assert_eq!(
            t.run(me, "COMMAND INFO time nosuch"),
            "*2\r\n*10\r\n$4\r\ntime\r\n:1\r\n*3\r\n+loading\r\n+stale\r\n+fast\r\n:0\r\n:0\r\n:0\r\n*1\r\n+@fast\r\n\
             *1\r\n$23\r\nnondeterministic_output\r\n*0\r\n*0\r\n$-1\r\n"
        );
        let get = "*1\r\n$5\r\nflags\r\n";
        assert!(t.run(me, "COMMAND INFO get").contains(&get[4..]));
        assert_eq!(t.run(me, "COMMAND DOCS nosuch"), "*0\r\n");
        assert_eq!(
            t.run(me, "COMMAND DOCS config|help"),
            "*2\r\n$11\r\nconfig|help\r\n*8\r\n$7\r\nsummary\r\n$49\r\nShow helpful text about the different \
             subcommands\r\n$5\r\nsince\r\n$5\r\n5.0.0\r\n$5\r\ngroup\r\n$6\r\nserver\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n"
        );
        assert!(t.run(me, "COMMAND DOCS client").contains("$11\r\nsubcommands\r\n*20\r\n$14\r\nclient|getname\r\n"));
        assert_eq!(t.run(me, "COMMAND GETKEYS set a b"), "*1\r\n$1\r\na\r\n");
        assert_eq!(t.run(me, "COMMAND GETKEYSANDFLAGS get a"), "*1\r\n*2\r\n$1\r\na\r\n*2\r\n+RO\r\n+access\r\n");
        assert_eq!(t.run(me, "COMMAND GETKEYS nosuch a"), "-ERR Invalid command specified\r\n");
        assert_eq!(t.run(me, "COMMAND GETKEYS get a b"), "-ERR Invalid number of arguments specified for command\r\n");
        assert_eq!(t.run(me, "COMMAND GETKEYS client list"), "-ERR The command has no key arguments\r\n");
        assert_eq!(t.run(me, "COMMAND LIST FILTERBY MODULE x"), "*0\r\n");
        assert_eq!(t.run(me, "COMMAND LIST FILTERBY PATTERN"), "-ERR syntax error\r\n");
        let connection = t.run(me, "COMMAND LIST FILTERBY ACLCAT Connection");
        assert!(connection.contains("$5\r\nhello\r\n") && connection.contains("$11\r\nclient|kill\r\n"));
        assert!(!connection.contains("$4\r\ntime\r\n"));
        let all = t.run(me, "COMMAND LIST");
        assert!(all.contains("$6\r\nconfig\r\n$10\r\nconfig|get\r\n"));
        t.run(me, "HELLO 3");
        assert!(t.run(me, "COMMAND INFO config").starts_with(
            "*1\r\n*10\r\n$6\r\nconfig\r\n:-2\r\n~0\r\n:0\r\n:0\r\n:0\r\n~1\r\n+@slow\r\n~0\r\n~0\r\n*5\r\n"
        ));
        assert_eq!(t.run(me, "COMMAND DOCS nosuch"), "%0\r\n");
    }

    fn words(list: &str) -> Vec<Bytes> {
        list.split(' ').map(|w| Bytes::copy_from_slice(w.as_bytes())).collect()
    }

    fn keys(specs: &[KeySpec], argv: &str) -> Option<Vec<usize>> {
        keys_from_specs(specs, &words(argv)).map(|found| found.into_iter().map(|(p, _)| p).collect())
    }

    #[test]
    fn range_specs() {
        let get = [KeySpec::range("RO access", 1, 0, 1)];
        assert_eq!(keys(&get, "get a"), Some(vec![1]));
        let mset = [KeySpec::range("OW update", 1, -1, 2)];
        assert_eq!(keys(&mset, "mset a 1 b 2"), Some(vec![1, 3]));
        let blpop = [KeySpec::range("RW access delete", 1, -2, 1)];
        assert_eq!(keys(&blpop, "blpop a b 0"), Some(vec![1, 2]));
        assert_eq!(keys(&blpop, "blpop 0"), None);
        // XREAD's STREAMS keys: the first half of what follows the keyword.
        let xread = [KeySpec::range("RO access", 0, -1, 1)
            .begin(BeginSearch::Keyword { keyword: "STREAMS", startfrom: 1 })
            .find(FindKeys::Range { lastkey: -1, keystep: 1, limit: 2 })];
        assert_eq!(keys(&xread, "xread count 1 streams a b 0 0"), Some(vec![4, 5]));
        assert_eq!(keys(&xread, "xread count 1"), Some(vec![]));
    }

    #[test]
    fn keynum_specs() {
        let eval = [KeySpec::keynum("RW access update", 2, 0, 1, 1)];
        assert_eq!(keys(&eval, "eval s 2 a b c"), Some(vec![3, 4]));
        assert_eq!(keys(&eval, "eval s 0"), None);
        assert_eq!(keys(&eval, "eval s 5 a b c"), None);
        assert_eq!(keys(&eval, "eval s x a"), None);
        assert_eq!(keys(&eval, "eval s -1 a"), None);
    }

    #[test]
    fn implicit_acl_categories() {
        fn nop(_: &mut Ctx<'_>, _: &mut Reply) -> CmdResult {
            Ok(())
        }
        let get = CommandSpec::new("get", 2, READONLY | FAST, nop).acl("string");
        assert_eq!(acl_categories(&get), ["read", "string", "fast"]);
        let kill = CommandSpec::new("kill", -3, ADMIN | NOSCRIPT, nop).acl("connection");
        assert_eq!(acl_categories(&kill), ["admin", "slow", "dangerous", "connection"]);
        let declared = CommandSpec::new("kill", -3, ADMIN, nop).acl("admin slow dangerous connection");
        assert_eq!(acl_categories(&declared), ["admin", "slow", "dangerous", "connection"]);
        let eval = CommandSpec::new("fcall_ro", -3, READONLY, nop).acl("slow scripting");
        assert_eq!(acl_categories(&eval), ["slow", "scripting"]);
    }

    #[test]
    fn derived_key_spec_from_positions() {
        fn nop(_: &mut Ctx<'_>, _: &mut Reply) -> CmdResult {
            Ok(())
        }
        let mset = CommandSpec::new("mset", -3, WRITE, nop).keys(1, -1, 2);
        assert_eq!(&*key_specs(&mset), &[KeySpec::range("RW access update", 1, -1, 2)]);
        let lcs = CommandSpec::new("lcs", -3, READONLY, nop).keys(1, 2, 1);
        assert_eq!(&*key_specs(&lcs), &[KeySpec::range("RO access", 1, 1, 1)]);
        let ping = CommandSpec::new("ping", -1, FAST, nop);
        assert!(key_specs(&ping).is_empty());
    }
}
