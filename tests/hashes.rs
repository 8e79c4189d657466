//! Hashes through a real client (the `redis` crate, RESP2 and RESP3), the listpack's insertion order and the
//! conversion thresholds compared with redis-server byte for byte, HSCAN's guarantee on a hashtable that changes
//! during the scan, and the memory of 100k small hashes against Redis's.

mod common;

use common::{TestServer, require_redis, used_memory};
use redis::{Connection, Value};
use std::collections::{HashMap, HashSet};

fn connect(server: &TestServer, resp3: bool) -> Connection {
    let url = format!("redis://127.0.0.1:{}/{}", server.port, if resp3 { "?protocol=resp3" } else { "" });
    redis::Client::open(url).expect("valid url").get_connection().expect("connect")
}

fn run<T: redis::FromRedisValue>(con: &mut Connection, argv: &[&str]) -> T {
    let mut cmd = redis::cmd(argv[0]);
    for arg in &argv[1..] {
        cmd.arg(*arg);
    }
    cmd.query(con).unwrap_or_else(|err| panic!("{argv:?}: {err}"))
}

fn client_round_trip(con: &mut Connection) {
    assert_eq!(run::<i64>(con, &["HSET", "h", "a", "1", "b", "2"]), 2);
    assert_eq!(run::<Option<String>>(con, &["HGET", "h", "a"]), Some("1".into()));
    assert_eq!(run::<Option<String>>(con, &["HGET", "h", "zz"]), None);
    assert_eq!(run::<i64>(con, &["HINCRBY", "h", "a", "41"]), 42);
    assert_eq!(run::<String>(con, &["HINCRBYFLOAT", "h", "b", "0.5"]), "2.5");
    let all: HashMap<String, String> = run(con, &["HGETALL", "h"]);
    assert_eq!(all, HashMap::from([("a".into(), "42".into()), ("b".into(), "2.5".into())]));
    assert_eq!(run::<Vec<Option<String>>>(con, &["HMGET", "h", "b", "x"]), vec![Some("2.5".into()), None]);
    let picked: Vec<String> = run(con, &["HRANDFIELD", "h", "-5"]);
    assert!(picked.len() == 5 && picked.iter().all(|field| field == "a" || field == "b"));
    let err = redis::cmd("HINCRBY").arg("h").arg("b").arg(1).query::<i64>(con).unwrap_err();
    assert!(err.to_string().contains("hash value is not an integer"), "{err}");
    assert_eq!(run::<i64>(con, &["HDEL", "h", "a", "b", "c"]), 2);
    assert_eq!(run::<i64>(con, &["EXISTS", "h"]), 0, "an emptied hash is deleted");
}

#[test]
fn commands_through_a_client_in_both_protocols() {
    let server = TestServer::ferrokv(&[]);
    client_round_trip(&mut connect(&server, false));
    client_round_trip(&mut connect(&server, true));
    // RESP3 nests WITHVALUES pairs and answers HGETALL with a map.
    let mut con = connect(&server, true);
    run::<i64>(&mut con, &["HSET", "h", "f", "v"]);
    let pairs: Value = run(&mut con, &["HRANDFIELD", "h", "1", "WITHVALUES"]);
    assert!(matches!(&pairs, Value::Array(items) if matches!(&items[..], [Value::Array(pair)] if pair.len() == 2)));
    assert!(matches!(run::<Value>(&mut con, &["HGETALL", "h"]), Value::Map(map) if map.len() == 1));
}

/// Replays `script` into ferrokv and redis-server and asserts identical raw replies: small hashes answer in
/// insertion order, so HGETALL/HKEYS/HVALS/HSCAN compare exactly while the hash is a listpack.
#[test]
fn listpack_order_and_conversions_match_redis() {
    let Some(redis) = require_redis() else { return };
    let ours = TestServer::ferrokv(&[]);
    let long = "x".repeat(65);
    let mut script: Vec<Vec<String>> = vec![
        vec!["CONFIG".into(), "SET".into(), "hash-max-listpack-entries".into(), "4".into()],
        vec!["HSET".into(), "h".into(), "c".into(), "1".into(), "a".into(), "2".into(), "b".into(), "3".into()],
        vec!["HSET".into(), "h".into(), "a".into(), "9".into()],
        vec!["HDEL".into(), "h".into(), "c".into()],
        vec!["HSET".into(), "h".into(), "c".into(), "0".into()],
    ];
    for read in ["HGETALL", "HKEYS", "HVALS", "OBJECT"] {
        let mut argv = vec![read.to_string(), "h".to_string()];
        if read == "OBJECT" {
            argv.insert(1, "ENCODING".into());
        }
        script.push(argv);
    }
    script.push(vec!["HSCAN".into(), "h".into(), "0".into(), "MATCH".into(), "[ab]".into()]);
    script.push(vec!["HRANDFIELD".into(), "h".into(), "10".into(), "WITHVALUES".into()]);
    // Five fields cross the entry limit; a 65-byte value crosses hash-max-listpack-value (64) on another key;
    // deleting back down keeps the hashtable.
    script.push(vec!["HSET".into(), "h".into(), "d".into(), "1".into(), "e".into(), "2".into()]);
    script.push(vec!["OBJECT".into(), "ENCODING".into(), "h".into()]);
    script.push(vec!["HDEL".into(), "h".into(), "d".into(), "e".into(), "a".into()]);
    script.push(vec!["OBJECT".into(), "ENCODING".into(), "h".into()]);
    script.push(vec!["HSETNX".into(), "g".into(), "f".into(), long.clone()]);
    script.push(vec!["OBJECT".into(), "ENCODING".into(), "g".into()]);
    script.push(vec!["HINCRBYFLOAT".into(), "i".into(), long, "1".into()]);
    script.push(vec!["OBJECT".into(), "ENCODING".into(), "i".into()]);
    let (mut a, mut b) = (ours.conn(), redis.conn());
    for argv in &script {
        assert_eq!(common::escape(&a.cmd(argv)), common::escape(&b.cmd(argv)), "{argv:?}");
    }
}

/// SCAN's guarantee on a hashtable: every field present from the first call to the last is returned, while
/// other fields come and go between the calls (which makes the table grow and shrink).
#[test]
fn hscan_returns_every_stable_field_while_the_hash_changes() {
    let server = TestServer::ferrokv(&[]);
    let mut con = connect(&server, false);
    for chunk in (0..3000).collect::<Vec<_>>().chunks(500) {
        let mut cmd = redis::cmd("HSET");
        cmd.arg("big");
        for i in chunk {
            cmd.arg(format!("stable{i}")).arg(i);
        }
        cmd.query::<i64>(&mut con).unwrap();
    }
    assert_eq!(run::<String>(&mut con, &["OBJECT", "ENCODING", "big"]), "hashtable");
    let (mut cursor, mut seen, mut round) = ("0".to_string(), HashSet::new(), 0u64);
    loop {
        let (next, items): (String, Vec<String>) = run(&mut con, &["HSCAN", "big", &cursor, "COUNT", "25"]);
        seen.extend(items.chunks(2).map(|pair| pair[0].clone()));
        round += 1;
        let churn = format!("churn{round}");
        run::<i64>(&mut con, &["HSET", "big", &churn, "x"]);
        if round % 3 == 0 {
            run::<i64>(&mut con, &["HDEL", "big", &format!("churn{}", round - 2)]);
        }
        assert!(round < 10_000, "HSCAN does not terminate");
        if next == "0" {
            break;
        }
        cursor = next;
    }
    let missing: Vec<i32> = (0..3000).filter(|i| !seen.contains(&format!("stable{i}"))).collect();
    assert!(missing.is_empty(), "HSCAN missed {} stable fields: {:?}", missing.len(), &missing[..missing.len().min(5)]);
}

/// Fills 100k hashes of 10 small fields and returns the growth of used_memory.
fn small_hashes_memory(server: &TestServer) -> u64 {
    let before = used_memory(server);
    let mut con = connect(server, false);
    for batch in 0..100 {
        let mut pipe = redis::pipe();
        for i in 0..1000 {
            let cmd = pipe.cmd("HSET").arg(format!("hash:{}", batch * 1000 + i));
            for field in 0..10 {
                cmd.arg(format!("field{field}")).arg(format!("value{}", i + field));
            }
            cmd.ignore();
        }
        pipe.query::<()>(&mut con).unwrap();
    }
    used_memory(server) - before
}

/// The memory target: 100k hashes of 10 small fields take about the memory they take in Redis.
///
/// Measured 27.06 MB against Redis's 26.74 MB (1.01x): per hash, the key's 64-byte record and its table slot
/// (about 76 bytes with the table's slack) plus one exact-size `Compact` buffer of about 171 bytes, which
/// jemalloc serves from its 192-byte class. Until used_memory counted size classes (as Redis's does) the same
/// data read 25.1 MB, the bytes asked for; the honest comparison leaves ferrokv within 2% of Redis, not below.
#[test]
fn small_hashes_take_about_the_memory_they_take_in_redis() {
    let Some(redis) = require_redis() else { return };
    let ours = TestServer::ferrokv(&[]);
    let (ours_bytes, redis_bytes) = (small_hashes_memory(&ours), small_hashes_memory(&redis));
    println!("100k hashes x 10 fields: ferrokv {ours_bytes} bytes, redis {redis_bytes} bytes");
    assert!(ours_bytes * 100 <= redis_bytes * 102, "ferrokv {ours_bytes} bytes vs redis {redis_bytes} bytes");
}
