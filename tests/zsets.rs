//! Sorted sets over real sockets against redis-server: the packed form's scores (short decimals, raw f64s)
//! replied, dumped, restored and reloaded exactly as Redis replies them, and the memory targets for
//! 100k small sorted sets and for one sorted set of 1M members, against redis-server's `used_memory` on the
//! same data.

mod common;

use common::{RespConn, Rng, TestServer, escape, pipeline, require_redis, used_memory};

/// The scores whose packed forms differ: inline integers, short decimals of every length, and the raw f64s
/// (-0 is stored as 0 in a listpack, by both servers).
const TRICKY_SCORES: &[f64] = &[
    0.0,
    -0.0,
    1.5,
    -2.25,
    126.0,
    127.0,
    -1.0,
    0.1,
    0.1 + 0.2,
    1.0 / 3.0,
    1e300,
    -1e300,
    5e-324,
    f64::MIN_POSITIVE,
    f64::INFINITY,
    f64::NEG_INFINITY,
    1234.5678,
    1_700_000_000.0,
    9_007_199_254_740_993.0,
    123_456_789.123_456_79,
    -0.000_001,
];

/// Scores as ZADD arguments: Rust's shortest round-trip text, which strtod reads back exactly.
fn score_arg(score: f64) -> String {
    format!("{score:?}")
}

fn zadd_tricky(conn: &mut RespConn, key: &str) {
    let mut argv = vec!["ZADD".to_string(), key.to_string()];
    for (i, score) in TRICKY_SCORES.iter().enumerate() {
        argv.push(score_arg(*score));
        argv.push(format!("member:{i}"));
    }
    assert!(!conn.cmd(&argv).starts_with(b"-"));
}

/// The bytes of a bulk-string reply.
fn bulk_body(reply: Vec<u8>) -> Vec<u8> {
    let header_len = reply.windows(2).position(|pair| pair == b"\r\n").expect("a bulk header") + 2;
    reply[header_len..reply.len() - 2].to_vec()
}

/// The packed form's scores through every reader: ZRANGE WITHSCORES (both protocols and reversed), ZSCORE,
/// ZRANGEBYSCORE over exclusive bounds, then DUMP and RESTORE, DEBUG RELOAD and the conversion to a skiplist,
/// each reply byte for byte as redis-server's.
#[test]
fn packed_scores_reply_exactly_as_redis() {
    let Some(redis) = require_redis() else { return };
    let ours = TestServer::ferrokv(&["--enable-debug-command", "yes"]);
    let reads: Vec<Vec<String>> = {
        let mut reads: Vec<Vec<String>> = vec![
            vec!["ZRANGE".into(), "z".into(), "0".into(), "-1".into(), "WITHSCORES".into()],
            vec!["ZREVRANGE".into(), "z".into(), "0".into(), "-1".into(), "WITHSCORES".into()],
            vec!["ZRANGEBYSCORE".into(), "z".into(), "(0".into(), "(1e300".into(), "WITHSCORES".into()],
            vec!["OBJECT".into(), "ENCODING".into(), "z".into()],
            vec!["ZCARD".into(), "z".into()],
        ];
        reads.extend((0..TRICKY_SCORES.len()).map(|i| vec!["ZSCORE".into(), "z".into(), format!("member:{i}")]));
        reads
    };
    let mut conns = [ours.conn(), redis.conn()];
    for conn in &mut conns {
        zadd_tricky(conn, "z");
    }
    let compare = |conns: &mut [RespConn; 2], stage: &str| {
        for argv in &reads {
            let (got, want) = (conns[0].cmd(argv), conns[1].cmd(argv));
            assert_eq!(escape(&got), escape(&want), "{stage}: {argv:?}");
        }
    };
    compare(&mut conns, "packed");
    for conn in &mut conns {
        conn.cmd(&["HELLO", "3"]);
    }
    compare(&mut conns, "packed, RESP3");
    for conn in &mut conns {
        conn.cmd(&["HELLO", "2"]);
    }
    // DUMP on each side, RESTORE of redis-server's payload into ours.
    let theirs = bulk_body(conns[1].cmd(&["DUMP", "z"]));
    assert_eq!(conns[0].cmd(&[&b"RESTORE"[..], b"z", b"0", &theirs, b"REPLACE"]), b"+OK\r\n");
    compare(&mut conns, "restored from redis-server's DUMP");
    let ours_payload = bulk_body(conns[0].cmd(&["DUMP", "z"]));
    assert_eq!(conns[1].cmd(&[&b"RESTORE"[..], b"z", b"0", &ours_payload, b"REPLACE"]), b"+OK\r\n");
    compare(&mut conns, "redis-server restored from our DUMP");
    assert_eq!(conns[0].cmd(&["DEBUG", "RELOAD"]), b"+OK\r\n");
    compare(&mut conns, "after DEBUG RELOAD");
    for conn in &mut conns {
        conn.cmd(&["CONFIG", "SET", "zset-max-listpack-entries", "4"]);
        conn.cmd(&["ZADD", "z", "7", "member:extra"]);
    }
    compare(&mut conns, "converted to a skiplist");
}

/// Fills a fresh server with 100k sorted sets of 10 members (`member(i, j)` with `score(j)`) and returns the
/// growth of used_memory.
fn small_zsets_memory(server: &TestServer, member: fn(usize, usize) -> String, score: fn(usize) -> f64) -> u64 {
    let before = used_memory(server);
    let mut conn = server.conn();
    for batch in 0..100 {
        let requests: Vec<Vec<String>> = (0..1000)
            .map(|n| {
                let i = batch * 1000 + n;
                let mut argv = vec!["ZADD".to_string(), format!("zset:{i}")];
                for j in 0..10 {
                    argv.push(score_arg(score(j)));
                    argv.push(member(i, j));
                }
                argv
            })
            .collect();
        pipeline(&mut conn, &requests);
    }
    used_memory(server) - before
}

/// A pseudo-random id for member `j` of set `i`, the same on both servers.
fn random_id(i: usize, j: usize) -> u64 {
    let mut rng = Rng::new((i * 10 + j) as u64);
    rng.next_u64() % 10_000_000
}

type MemberText = fn(usize, usize) -> String;
type Score = fn(usize) -> f64;

/// The target: 100k sorted sets of 10 members take at most 0.7x Redis's memory, with fractional
/// scores (j * 1.5), with integer scores, and with ids of random digits behind a common prefix.
#[test]
fn small_zsets_take_at_most_seven_tenths_of_redis_memory() {
    let kinds: [(&str, MemberText, Score); 3] = [
        ("fractional scores", |_, j| format!("member{j}"), |j| j as f64 * 1.5),
        ("integer scores", |_, j| format!("member{j}"), |j| j as f64),
        ("member:<random id>, fractional scores", |i, j| format!("member:{}", random_id(i, j)), |j| j as f64 * 1.5),
    ];
    for (kind, member, score) in kinds {
        let Some(redis) = require_redis() else { return };
        let ours = TestServer::ferrokv(&[]);
        let ours_bytes = small_zsets_memory(&ours, member, score);
        let redis_bytes = small_zsets_memory(&redis, member, score);
        let ratio = ours_bytes as f64 / redis_bytes as f64;
        println!("100k sorted sets x 10, {kind}: ferrokv {ours_bytes} bytes, redis {redis_bytes} bytes ({ratio:.2}x)");
        assert!(ratio <= 0.7, "{kind}: ferrokv {ours_bytes} bytes vs redis {redis_bytes} bytes ({ratio:.2}x)");
    }
}

/// Fills one sorted set with `count` members `member:<n>` and returns the growth of used_memory.
fn large_zset_memory(server: &TestServer, count: usize, score: impl Fn(usize) -> f64) -> u64 {
    let before = used_memory(server);
    let mut conn = server.conn();
    const PER_COMMAND: usize = 1000;
    for batch in (0..count).step_by(PER_COMMAND * 50) {
        let requests: Vec<Vec<String>> = (batch..(batch + PER_COMMAND * 50).min(count))
            .step_by(PER_COMMAND)
            .map(|first| {
                let mut argv = vec!["ZADD".to_string(), "big".to_string()];
                for n in first..(first + PER_COMMAND).min(count) {
                    argv.push(score_arg(score(n)));
                    argv.push(format!("member:{n}"));
                }
                argv
            })
            .collect();
        pipeline(&mut conn, &requests);
    }
    assert_eq!(conn.cmd(&["ZCARD", "big"]), format!(":{count}\r\n").into_bytes());
    used_memory(server) - before
}

/// The target: one sorted set of 1M members takes at most 0.7x Redis's memory, with random scores
/// (which leave the B+tree's leaves partly full) and with ascending ones (which fill them).
#[test]
fn a_large_zset_takes_at_most_seven_tenths_of_redis_memory() {
    const COUNT: usize = 1_000_000;
    let random = |n: usize| (Rng::new(n as u64).next_u64() % 100_000_000) as f64 / 100.0;
    let kinds: [(&str, &dyn Fn(usize) -> f64); 2] = [("random scores", &random), ("ascending scores", &|n| n as f64)];
    for (kind, score) in kinds {
        let Some(redis) = require_redis() else { return };
        let ours = TestServer::ferrokv(&[]);
        let ours_bytes = large_zset_memory(&ours, COUNT, score);
        let redis_bytes = large_zset_memory(&redis, COUNT, score);
        let ratio = ours_bytes as f64 / redis_bytes as f64;
        println!(
            "one sorted set of 1M members, {kind}: ferrokv {ours_bytes} bytes, redis {redis_bytes} bytes ({ratio:.2}x)"
        );
        assert!(ratio <= 0.7, "{kind}: ferrokv {ours_bytes} bytes vs redis {redis_bytes} bytes ({ratio:.2}x)");
    }
}
