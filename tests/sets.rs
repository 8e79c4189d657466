//! Set commands over real sockets: what the difftest cannot compare byte for byte (random members, multi-step
//! SSCAN, encodings across CONFIG SET), the exact order of intset replies checked against redis-server, and the
//! memory of 100k small sets against Redis's.

mod common;

use common::{RespConn, TestServer, pipeline, require_redis, split_aggregate, used_memory};
use std::collections::HashSet;

/// The bulk-string children of an aggregate reply, decoded.
fn members(reply: &[u8]) -> Vec<Vec<u8>> {
    let (_, children) = split_aggregate(reply).expect("an aggregate reply");
    children
        .iter()
        .map(|child| {
            let header_len = child.windows(2).position(|pair| pair == b"\r\n").expect("a bulk header") + 2;
            child[header_len..child.len() - 2].to_vec()
        })
        .collect()
}

fn sadd_range(conn: &mut RespConn, key: &str, range: std::ops::Range<i64>) {
    let mut argv = vec!["SADD".to_string(), key.to_string()];
    argv.extend(range.map(|n| n.to_string()));
    conn.cmd(&argv);
}

fn encoding(conn: &mut RespConn, key: &str) -> Vec<u8> {
    conn.cmd(&["OBJECT", "ENCODING", key])
}

/// The same script on both servers: intset replies (sorted) and every encoding must be identical.
#[test]
fn intset_order_and_conversions_match_redis() {
    let Some(redis) = require_redis() else { return };
    let subject = TestServer::subject(&[]);
    let script: &[&[&str]] = &[
        &["SADD", "s", "5", "-3", "100", "70000", "-9223372036854775808", "32767", "-32768"],
        &["SMEMBERS", "s"],
        &["OBJECT", "ENCODING", "s"],
        &["SADD", "s", "007"],
        &["OBJECT", "ENCODING", "s"],
        &["SREM", "s", "007"],
        &["OBJECT", "ENCODING", "s"],
        &["SADD", "t", "3", "1", "2"],
        &["SUNIONSTORE", "u", "t", "t"],
        &["OBJECT", "ENCODING", "u"],
        &["SMEMBERS", "u"],
        &["SADD", "h", "a", "1", "2"],
        &["SINTERSTORE", "i", "h", "t"],
        &["OBJECT", "ENCODING", "i"],
        &["SDIFFSTORE", "d", "h", "t"],
        &["OBJECT", "ENCODING", "d"],
        &["CONFIG", "SET", "set-max-intset-entries", "4"],
        &["SADD", "c", "1", "2", "3", "4"],
        &["OBJECT", "ENCODING", "c"],
        &["SADD", "c", "5"],
        &["OBJECT", "ENCODING", "c"],
        &["SPOP", "t", "100"],
        &["EXISTS", "t"],
        &["HELLO", "3"],
        &["SADD", "r", "9", "-1", "300000"],
        &["SMEMBERS", "r"],
        &["SPOP", "u", "0"],
        &["SRANDMEMBER", "u", "10"],
    ];
    let mut ours = subject.conn();
    let mut theirs = redis.conn();
    for argv in script {
        let (got, want) = (ours.cmd(argv), theirs.cmd(argv));
        if argv[0] == "HELLO" {
            continue;
        }
        assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(&want), "{argv:?}");
    }
}

#[test]
fn intset_converts_past_512_members() {
    let server = TestServer::subject(&[]);
    let mut conn = server.conn();
    sadd_range(&mut conn, "s", 0..512);
    assert_eq!(encoding(&mut conn, "s"), b"$6\r\nintset\r\n");
    sadd_range(&mut conn, "s", 512..513);
    assert_eq!(encoding(&mut conn, "s"), b"$9\r\nhashtable\r\n");
    conn.cmd(&["SREM", "s", "0", "1", "2"]);
    assert_eq!(encoding(&mut conn, "s"), b"$9\r\nhashtable\r\n", "no conversion back");
    assert_eq!(conn.cmd(&["SCARD", "s"]), b":510\r\n");
}

/// SPOP with a count below the size removes that many distinct members, which were in the set.
#[test]
fn spop_removes_distinct_members_of_the_set() {
    let server = TestServer::subject(&[]);
    let mut conn = server.conn();
    for (key, items) in [("ints", (0..50).map(|n| n.to_string()).collect::<Vec<_>>()), ("strs", words(50))] {
        let mut argv = vec!["SADD".to_string(), key.to_string()];
        argv.extend(items.iter().cloned());
        conn.cmd(&argv);
        let popped = members(&conn.cmd(&["SPOP", key, "20"]));
        let distinct: HashSet<&Vec<u8>> = popped.iter().collect();
        assert_eq!(distinct.len(), 20, "{key}");
        assert!(popped.iter().all(|m| items.iter().any(|item| item.as_bytes() == m.as_slice())));
        assert_eq!(conn.cmd(&["SCARD", key]), b":30\r\n");
        for member in &popped {
            assert_eq!(conn.cmd(&[b"SISMEMBER".to_vec(), key.as_bytes().to_vec(), member.clone()]), b":0\r\n");
        }
        let one = conn.cmd(&["SPOP", key]);
        assert!(one.starts_with(b"$"), "{key}");
        assert_eq!(conn.cmd(&["SCARD", key]), b":29\r\n");
        members(&conn.cmd(&["SPOP", key, "29"]));
        assert_eq!(conn.cmd(&["EXISTS", key]), b":0\r\n", "an emptied set is deleted");
    }
}

fn words(count: usize) -> Vec<String> {
    (0..count).map(|n| format!("member:{n}")).collect()
}

fn sadd_words(conn: &mut RespConn, key: &str, count: usize) {
    let mut argv = vec!["SADD".to_string(), key.to_string()];
    argv.extend(words(count));
    conn.cmd(&argv);
}

#[test]
fn srandmember_counts() {
    let server = TestServer::subject(&[]);
    let mut conn = server.conn();
    sadd_words(&mut conn, "s", 300);
    for count in [1, 5, 99, 150, 299] {
        let sample = members(&conn.cmd(&["SRANDMEMBER", "s", &count.to_string()]));
        let distinct: HashSet<&Vec<u8>> = sample.iter().collect();
        assert_eq!(distinct.len(), count, "positive counts give distinct members");
    }
    assert_eq!(members(&conn.cmd(&["SRANDMEMBER", "s", "1000"])).len(), 300);
    let repeats = members(&conn.cmd(&["SRANDMEMBER", "s", "-1000"]));
    assert_eq!(repeats.len(), 1000, "negative counts may repeat");
    assert!(repeats.iter().all(|m| m.starts_with(b"member:")));
    assert_eq!(conn.cmd(&["SCARD", "s"]), b":300\r\n", "SRANDMEMBER removes nothing");
    conn.cmd(&["SADD", "one", "x"]);
    assert_eq!(conn.cmd(&["SRANDMEMBER", "one", "-3"]), b"*3\r\n$1\r\nx\r\n$1\r\nx\r\n$1\r\nx\r\n");
}

/// A scan in small steps visits every member present throughout, even while the set grows under it.
#[test]
fn sscan_in_steps_visits_every_member() {
    let server = TestServer::subject(&[]);
    let mut conn = server.conn();
    sadd_words(&mut conn, "s", 2000);
    let mut seen = HashSet::new();
    let mut cursor = b"0".to_vec();
    for step in 0..10_000 {
        let reply = conn.cmd(&[b"SSCAN".to_vec(), b"s".to_vec(), cursor.clone(), b"COUNT".to_vec(), b"7".to_vec()]);
        let (_, parts) = split_aggregate(&reply).expect("[cursor, members]");
        cursor = members(&[b"*1\r\n".as_slice(), parts[0]].concat()).remove(0);
        seen.extend(members(parts[1]));
        if step == 50 {
            let mut more = vec!["SADD".to_string(), "s".to_string()];
            more.extend((0..3000).map(|n| format!("extra:{n}")));
            conn.cmd(&more);
        }
        if cursor == b"0" {
            break;
        }
    }
    assert_eq!(cursor, b"0", "the scan ends");
    assert!(words(2000).iter().all(|w| seen.contains(w.as_bytes())));
    let filtered = conn.cmd(&["SSCAN", "s", "0", "MATCH", "member:1?", "COUNT", "100000"]);
    let (_, parts) = split_aggregate(&filtered).expect("[cursor, members]");
    assert_eq!(members(parts[1]).len(), 10);
}

#[test]
fn smove_between_sets_and_types() {
    let server = TestServer::subject(&[]);
    let mut conn = server.conn();
    conn.cmd(&["SADD", "a", "1", "x"]);
    conn.cmd(&["SET", "str", "v"]);
    assert_eq!(conn.cmd(&["SMOVE", "a", "b", "1"]), b":1\r\n");
    assert_eq!(encoding(&mut conn, "b"), b"$6\r\nintset\r\n");
    assert_eq!(
        conn.cmd(&["SMOVE", "a", "str", "x"]),
        b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(conn.cmd(&["SMOVE", "a", "b", "x"]), b":1\r\n");
    assert_eq!(conn.cmd(&["EXISTS", "a"]), b":0\r\n", "the emptied source is deleted");
    assert_eq!(conn.cmd(&["SCARD", "b"]), b":2\r\n");
    assert_eq!(conn.cmd(&["SMOVE", "b", "b", "x"]), b":1\r\n");
    assert_eq!(conn.cmd(&["SINTERCARD", "1", "b", "LIMIT", "1"]), b":1\r\n");
}

/// keyspace_hits and keyspace_misses from INFO stats.
fn hits_and_misses(conn: &mut RespConn) -> (u64, u64) {
    let info = String::from_utf8_lossy(&conn.cmd(&["INFO", "stats"])).into_owned();
    let field = |name: &str| {
        info.lines().find_map(|line| line.strip_prefix(name)).and_then(|v| v.trim().parse().ok()).unwrap_or(u64::MAX)
    };
    (field("keyspace_hits:"), field("keyspace_misses:"))
}

/// Reads count keyspace hits and misses as Redis's lookupKeyRead does; writes, STORE sources included, do not.
#[test]
fn keyspace_hits_count_like_redis() {
    let Some(redis) = require_redis() else { return };
    let subject = TestServer::subject(&[]);
    let script: &[&[&str]] = &[
        &["SADD", "a", "1", "2", "x"],
        &["SADD", "b", "2", "3"],
        &["SINTER", "a", "b", "nokey"],
        &["SINTERSTORE", "d", "a", "b", "nokey"],
        &["SUNIONSTORE", "d", "a", "b"],
        &["SDIFF", "a", "nokey"],
        &["SINTERCARD", "2", "a", "b"],
        &["SMEMBERS", "a"],
        &["SISMEMBER", "nokey", "1"],
        &["SRANDMEMBER", "a"],
        &["SRANDMEMBER", "a", "2"],
        &["SPOP", "b"],
        &["SMOVE", "a", "b", "1"],
        &["SSCAN", "a", "0"],
        &["SCARD", "a"],
        &["SMISMEMBER", "a", "1"],
        &["SREM", "a", "x"],
    ];
    let (mut ours, mut theirs) = (subject.conn(), redis.conn());
    for argv in script {
        ours.cmd(argv);
        theirs.cmd(argv);
        assert_eq!(hits_and_misses(&mut ours), hits_and_misses(&mut theirs), "after {argv:?}");
    }
}

/// Fills a fresh server with 100k sets of the 10 members `member(0..10)` and returns the growth of used_memory.
fn small_sets_memory(server: &TestServer, member: impl Fn(i64) -> String) -> u64 {
    let before = used_memory(server);
    let mut conn = server.conn();
    for batch in 0..100 {
        let requests: Vec<Vec<String>> = (0..1000)
            .map(|i| {
                let mut argv = vec!["SADD".to_string(), format!("set:{}", batch * 1000 + i)];
                argv.extend((0..10).map(&member));
                argv
            })
            .collect();
        pipeline(&mut conn, &requests);
    }
    used_memory(server) - before
}

/// The text of member number n of a set.
type MemberText = fn(i64) -> String;

/// The issue's memory target: 100k sets of 10 small members take no more memory than in Redis, as intsets
/// (small integers, and 32-bit ones, which our frame-of-reference intset stores a byte each) and as packed
/// short strings.
#[test]
fn small_sets_take_no_more_memory_than_redis() {
    let kinds: [(&str, MemberText); 3] = [
        ("small integers", |n| n.to_string()),
        ("32-bit integers", |n| (1_000_000_000 + n).to_string()),
        ("short strings", |n| format!("member{n}")),
    ];
    for (kind, member) in kinds {
        let Some(redis) = require_redis() else { return };
        let ours = TestServer::ferrokv(&[]);
        let (ours_bytes, redis_bytes) = (small_sets_memory(&ours, member), small_sets_memory(&redis, member));
        println!("100k sets x 10 {kind}: ferrokv {ours_bytes} bytes, redis {redis_bytes} bytes");
        assert!(ours_bytes <= redis_bytes, "{kind}: ferrokv {ours_bytes} bytes vs redis {redis_bytes} bytes");
    }
}
