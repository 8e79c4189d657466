//! DEBUG against a real redis-server: DIGEST and DIGEST-VALUE must give Redis's hex signatures for the same
//! data (every type and encoding we have, integers, TTLs, several databases), and DEBUG PROTOCOL the same
//! bytes for every sample type in RESP2 and RESP3, and DEBUG POPULATE the same keys. Skips without
//! redis-server, except under CI=true.

mod common;

use common::{RespConn, TestServer, assert_reply, require_redis_with};

const DEBUG_ON: &[&str] = &["--enable-debug-command", "yes"];

/// One dataset covering every value digest path: strings (int, embstr, raw), lists, sets (intset, listpack,
/// hashtable), hashes (listpack, hashtable), a TTL, and a second database.
fn fill(conn: &mut RespConn) {
    let long = "x".repeat(100);
    let big: Vec<String> = (0..200).map(|n| format!("member-{n}")).collect();
    let commands: Vec<Vec<&str>> = vec![
        vec!["SET", "int", "12345"],
        vec!["SET", "small", "hello"],
        vec!["SET", "raw", &long],
        vec!["APPEND", "appended", "abc"],
        vec!["RPUSH", "list", "a", "b", "1", "c"],
        vec!["SADD", "intset", "3", "1", "2"],
        vec!["SADD", "packed", "a", "b", "7"],
        vec!["HSET", "hash", "f1", "v1", "f2", "2"],
        vec!["HSET", "bighash", "field", &long],
        vec!["SET", "ttl", "v", "EX", "1000"],
        vec!["SELECT", "3"],
        vec!["SET", "int", "12345"],
        vec!["SELECT", "0"],
    ];
    for argv in commands {
        conn.cmd(&argv);
    }
    let mut sadd = vec!["SADD", "table"];
    sadd.extend(big.iter().map(String::as_str));
    conn.cmd(&sadd);
}

#[test]
fn digests_match_redis() {
    let Some(redis) = require_redis_with(DEBUG_ON) else { return };
    let ferrokv = TestServer::ferrokv(DEBUG_ON);
    let (mut ours, mut theirs) = (ferrokv.conn(), redis.conn());
    assert_reply(ours.cmd(&["DEBUG", "DIGEST"]), b"+0000000000000000000000000000000000000000\r\n");
    fill(&mut ours);
    fill(&mut theirs);
    let keys = ["DEBUG", "DIGEST-VALUE", "int", "small", "raw", "appended", "list", "intset", "packed"];
    let more = ["DEBUG", "DIGEST-VALUE", "table", "hash", "bighash", "ttl", "missing"];
    for argv in [&["DEBUG", "DIGEST"][..], &keys, &more, &["DEBUG", "DIGEST-VALUE"]] {
        assert_reply(ours.cmd(argv), theirs.cmd(argv));
    }
}

/// DEBUG POPULATE: the same keys and values (cut or padded to a size), existing names skipped, the same
/// refusals, so the same digest.
#[test]
fn debug_populate_matches_redis() {
    let Some(redis) = require_redis_with(DEBUG_ON) else { return };
    let ferrokv = TestServer::ferrokv(DEBUG_ON);
    let (mut ours, mut theirs) = (ferrokv.conn(), redis.conn());
    let script: &[&[&str]] = &[
        &["SET", "key:1", "kept"],
        &["DEBUG", "POPULATE", "1000"],
        &["DEBUG", "POPULATE", "10", "padded", "12"],
        &["DEBUG", "POPULATE", "10", "cut", "3"],
        &["DEBUG", "POPULATE", "-1"],
        &["DEBUG", "POPULATE", "many"],
        &["DEBUG", "POPULATE", "1", "a", "b", "c"],
        &["DBSIZE"],
        &["GET", "key:1"],
        &["GET", "padded:7"],
        &["OBJECT", "ENCODING", "cut:2"],
        &["DEBUG", "DIGEST"],
    ];
    for argv in script {
        assert_reply(ours.cmd(argv), theirs.cmd(argv));
    }
}

#[test]
fn debug_protocol_matches_redis() {
    let Some(redis) = require_redis_with(DEBUG_ON) else { return };
    let ferrokv = TestServer::ferrokv(DEBUG_ON);
    let (mut ours, mut theirs) = (ferrokv.conn(), redis.conn());
    let types = [
        "string", "integer", "double", "bignum", "null", "array", "set", "map", "attrib", "push", "verbatim", "true",
        "false", "nosuch", "BIGNUM",
    ];
    for version in ["2", "3"] {
        ours.cmd(&["HELLO", version]);
        theirs.cmd(&["HELLO", version]);
        for name in types {
            let argv = ["DEBUG", "PROTOCOL", name];
            let want = theirs.cmd(&argv);
            assert_reply(ours.cmd(&argv), &want);
            // The push sample is followed by a real reply, which must come too (the framer reads an attribute
            // and the reply it annotates as one).
            if version == "3" && name == "push" {
                assert_reply(ours.read_reply(), theirs.read_reply());
            }
        }
    }
}
