//! HyperLogLog and bitmaps over real sockets, beyond the difftest's small streams: the same random elements
//! PFADDed into ferrokv and redis-server leave byte-identical strings and counts through the sparse form, the
//! promotion and the dense form; hll-sparse-max-bytes moves the promotion as in Redis; random damage to an
//! HLL's code never crashes the server; and a bitmap grown bit by bit to megabytes stays exact.

mod common;

use common::{RespConn, Rng, TestServer, assert_reply, escape, require_redis};

/// PFADDs `rounds` batches of random elements into `key` on both connections, comparing every reply, then
/// the raw string and the count after each batch.
fn pfadd_both(subject: &mut RespConn, redis: &mut RespConn, rng: &mut Rng, key: &str, rounds: usize) {
    for round in 0..rounds {
        let mut argv = vec![b"PFADD".to_vec(), key.as_bytes().to_vec()];
        for _ in 0..1 + rng.below(20) {
            let len = rng.below(12);
            argv.push(rng.bytes(len));
        }
        for probe in [argv, vec![b"GET".to_vec(), key.into()], vec![b"PFCOUNT".to_vec(), key.into()]] {
            let (ours, theirs) = (subject.cmd(&probe), redis.cmd(&probe));
            assert!(ours == theirs, "round {round}, {:?}: {} vs {}", probe[0], escape(&ours), escape(&theirs));
        }
    }
}

#[test]
fn random_pfadds_leave_redis_bytes_and_counts() {
    let Some(redis_server) = require_redis() else { return };
    let subject_server = TestServer::subject(&[]);
    let (mut subject, mut redis) = (subject_server.conn(), redis_server.conn());
    let mut rng = Rng::new(0x5eed);
    // Enough rounds to pass 3000 sparse bytes: the later rounds run on the dense form.
    pfadd_both(&mut subject, &mut redis, &mut rng, "a", 400);
    pfadd_both(&mut subject, &mut redis, &mut rng, "b", 40);
    for conn in [&mut subject, &mut redis] {
        assert_reply(conn.cmd(&["PFDEBUG", "ENCODING", "a"]), "+dense\r\n");
        assert_reply(conn.cmd(&["PFDEBUG", "ENCODING", "b"]), "+sparse\r\n");
    }
    for probe in [&["PFCOUNT", "a", "b", "missing"][..], &["PFMERGE", "c", "b", "a"], &["GET", "c"], &["PFCOUNT", "c"]]
    {
        assert_reply(subject.cmd(probe), redis.cmd(probe));
    }
}

#[test]
fn sparse_limit_follows_the_config() {
    let Some(redis_server) = require_redis() else { return };
    let subject_server = TestServer::subject(&[]);
    let (mut subject, mut redis) = (subject_server.conn(), redis_server.conn());
    for conn in [&mut subject, &mut redis] {
        conn.cmd(&["CONFIG", "SET", "hll-sparse-max-bytes", "60"]);
    }
    let mut rng = Rng::new(7);
    pfadd_both(&mut subject, &mut redis, &mut rng, "h", 8);
    assert_reply(subject.cmd(&["PFDEBUG", "ENCODING", "h"]), redis.cmd(&["PFDEBUG", "ENCODING", "h"]));
}

/// Random bytes written anywhere into HLLs of every size: each command answers (a count, INVALIDOBJ, the HLL
/// WRONGTYPE) and the server stays up.
#[test]
fn damaged_hlls_never_crash() {
    let server = TestServer::ferrokv(&[]);
    let mut conn = server.conn();
    let mut rng = Rng::new(99);
    for trial in 0..400 {
        conn.cmd(&["DEL", "h", "d"]);
        let elements: Vec<String> =
            (0..[1, 10, 100, 3000][trial % 4]).map(|_| rng.below(1 << 30).to_string()).collect();
        let mut argv = vec!["PFADD".to_string(), "h".to_string()];
        argv.extend(elements);
        conn.cmd(&argv);
        for _ in 0..1 + rng.below(4) {
            let offset = rng.below(if trial % 4 == 3 { 12_400 } else { 60 }).to_string();
            let len = 1 + rng.below(4);
            conn.cmd(&[b"SETRANGE".to_vec(), b"h".to_vec(), offset.into_bytes(), rng.bytes(len)]);
        }
        for probe in
            [&["PFADD", "h", "x", "y", "z"][..], &["PFCOUNT", "h"], &["PFCOUNT", "h", "d"], &["PFMERGE", "d", "h"]]
        {
            let reply = conn.cmd(probe);
            assert!(
                reply.starts_with(b":")
                    || reply.starts_with(b"+OK")
                    || reply.starts_with(b"-INVALIDOBJ")
                    || reply.starts_with(b"-WRONGTYPE"),
                "trial {trial}, {probe:?}: {}",
                escape(&reply)
            );
        }
        conn.cmd(&["PFDEBUG", "DECODE", "h"]);
        conn.cmd(&["PFDEBUG", "GETREG", "h"]);
    }
    assert_reply(conn.cmd(&["PING"]), "+PONG\r\n");
}

/// SETBIT far past the end, then bit by bit over a megabyte: every count and position stays exact.
#[test]
fn bitmaps_grow_in_place_and_stay_exact() {
    let server = TestServer::ferrokv(&[]);
    let mut conn = server.conn();
    const BITS: u64 = 8 << 20;
    for bit in (0..BITS).step_by(4099) {
        conn.cmd(&["SETBIT", "b", &bit.to_string(), "1"]);
    }
    let set = BITS.div_ceil(4099);
    assert_reply(conn.cmd(&["BITCOUNT", "b"]), format!(":{set}\r\n"));
    assert_reply(conn.cmd(&["STRLEN", "b"]), format!(":{}\r\n", (BITS - 1) / 4099 * 4099 / 8 + 1));
    assert_reply(conn.cmd(&["BITPOS", "b", "1", "1"]), format!(":{}\r\n", 4099));
    assert_reply(conn.cmd(&["BITCOUNT", "b", "4099", "-1", "BIT"]), format!(":{}\r\n", set - 1));
    assert_reply(conn.cmd(&["OBJECT", "ENCODING", "b"]), "$3\r\nraw\r\n");
}
