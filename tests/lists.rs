//! Lists through a real client library (the `redis` crate), over RESP2 and RESP3: pipelines of pushes, pops
//! and reads; a long list with tiny nodes (so every command crosses node boundaries) checked against a
//! model; a blocked BLPOP/BLMPOP served by another connection's push; and plain nodes (DEBUG
//! QUICKLIST-PACKED-THRESHOLD) compared with a real redis-server.

mod common;

use common::{RespConn, Rng, TestServer, escape, escape_argv, require_redis_with};
use redis::{Connection, RedisResult};
use std::collections::VecDeque;
use std::thread;
use std::time::Duration;

fn connect(server: &TestServer, resp3: bool) -> Connection {
    let url = format!("redis://127.0.0.1:{}/{}", server.port, if resp3 { "?protocol=resp3" } else { "" });
    redis::Client::open(url).expect("valid url").get_connection().expect("connect")
}

fn pipelined_pushes_pops_and_reads(con: &mut Connection) {
    type Replies = (i64, i64, Vec<String>, i64, Vec<String>, (String, Vec<String>), Option<String>, i64);
    let replies: Replies = redis::pipe()
        .cmd("RPUSH")
        .arg("q")
        .arg(&["a", "b", "c", "d"])
        .cmd("LPUSH")
        .arg("q")
        .arg("z")
        .cmd("LRANGE")
        .arg("q")
        .arg(0)
        .arg(-1)
        .cmd("LLEN")
        .arg("q")
        .cmd("LPOP")
        .arg("q")
        .arg(2)
        .cmd("LMPOP")
        .arg(2)
        .arg("missing")
        .arg("q")
        .arg("RIGHT")
        .arg("COUNT")
        .arg(2)
        .cmd("LINDEX")
        .arg("q")
        .arg(5)
        .cmd("LPOS")
        .arg("q")
        .arg("b")
        .query(con)
        .unwrap();
    assert_eq!(replies.0, 4);
    assert_eq!(replies.1, 5);
    assert_eq!(replies.2, ["z", "a", "b", "c", "d"]);
    assert_eq!(replies.3, 5);
    assert_eq!(replies.4, ["z", "a"]);
    assert_eq!(replies.5, ("q".to_string(), vec!["d".to_string(), "c".to_string()]));
    assert_eq!(replies.6, None);
    assert_eq!(replies.7, 0);
    let (moved, encoding, popped): (String, String, Option<Vec<String>>) = redis::pipe()
        .cmd("LMOVE")
        .arg("q")
        .arg("dst")
        .arg("LEFT")
        .arg("RIGHT")
        .cmd("OBJECT")
        .arg("ENCODING")
        .arg("dst")
        .cmd("RPOP")
        .arg("q")
        .arg(3)
        .query(con)
        .unwrap();
    assert_eq!((moved.as_str(), encoding.as_str(), popped), ("b", "quicklist", None));
    let exists: i64 = redis::cmd("EXISTS").arg("q").query(con).unwrap();
    assert_eq!(exists, 0, "an emptied list is deleted");
    let err: RedisResult<i64> = redis::cmd("LPUSH").arg("dst").arg("x").arg("y").query(con).map(|len: i64| len);
    assert_eq!(err.unwrap(), 3);
    let _: () = redis::cmd("SET").arg("str").arg("v").query(con).unwrap();
    let err = redis::cmd("LLEN").arg("str").query::<i64>(con).unwrap_err();
    assert_eq!(err.code(), Some("WRONGTYPE"));
}

/// Thousands of elements in nodes of three entries, edited in the middle, against a `VecDeque`.
fn long_list_with_tiny_nodes(con: &mut Connection) {
    let _: () = redis::cmd("CONFIG").arg("SET").arg("list-max-listpack-size").arg(3).query(con).unwrap();
    let mut model: VecDeque<String> = VecDeque::new();
    let mut pipe = redis::pipe();
    for i in 0..3000 {
        let value = format!("v{}", i % 7);
        if i % 2 == 0 {
            pipe.cmd("RPUSH").arg("long").arg(&value).ignore();
            model.push_back(value);
        } else {
            pipe.cmd("LPUSH").arg("long").arg(&value).ignore();
            model.push_front(value);
        }
    }
    let _: () = pipe.query(con).unwrap();
    let removed: i64 = redis::cmd("LREM").arg("long").arg(-100).arg("v3").query(con).unwrap();
    assert_eq!(removed, 100);
    let mut seen = 0;
    for index in (0..model.len()).rev() {
        if model[index] == "v3" && seen < 100 {
            model.remove(index);
            seen += 1;
        }
    }
    let len: i64 = redis::cmd("LINSERT").arg("long").arg("AFTER").arg("v5").arg("new").query(con).unwrap();
    let pivot = model.iter().position(|v| v == "v5").unwrap();
    model.insert(pivot + 1, "new".to_string());
    assert_eq!(len as usize, model.len());
    let _: () = redis::cmd("LSET").arg("long").arg(-1500).arg("set").query(con).unwrap();
    let at = model.len() - 1500;
    model[at] = "set".to_string();
    let _: () = redis::cmd("LTRIM").arg("long").arg(10).arg(-11).query(con).unwrap();
    model.drain(..10);
    model.drain(model.len() - 10..);
    let all: Vec<String> = redis::cmd("LRANGE").arg("long").arg(0).arg(-1).query(con).unwrap();
    assert!(all.iter().eq(model.iter()), "LRANGE differs from the model");
    let middle: Vec<String> = redis::cmd("LRANGE").arg("long").arg(1000).arg(1099).query(con).unwrap();
    assert!(middle.iter().eq(model.iter().skip(1000).take(100)));
    let last: String = redis::cmd("LINDEX").arg("long").arg(-1).query(con).unwrap();
    assert_eq!(&last, model.back().unwrap());
    let _: () = redis::cmd("CONFIG").arg("SET").arg("list-max-listpack-size").arg(-2).query(con).unwrap();
}

/// A BLPOP and a BLMPOP parked on empty keys, then served by pushes from this connection.
fn blocked_pops_are_served_by_pushes(server: &TestServer, con: &mut Connection, resp3: bool) {
    let waiter = {
        let mut waiter_con = connect(server, resp3);
        thread::spawn(move || {
            let first: (String, String) =
                redis::cmd("BLPOP").arg("empty1").arg("empty2").arg(5).query(&mut waiter_con).unwrap();
            let second: (String, Vec<String>) = redis::cmd("BLMPOP")
                .arg(5)
                .arg(1)
                .arg("empty3")
                .arg("LEFT")
                .arg("COUNT")
                .arg(5)
                .query(&mut waiter_con)
                .unwrap();
            (first, second)
        })
    };
    wait_blocked(con, 1);
    let _: i64 = redis::cmd("RPUSH").arg("empty2").arg("x").query(con).unwrap();
    wait_blocked(con, 1);
    let _: i64 = redis::cmd("RPUSH").arg("empty3").arg(&["a", "b"]).query(con).unwrap();
    let (first, second) = waiter.join().unwrap();
    assert_eq!(first, ("empty2".to_string(), "x".to_string()));
    assert_eq!(second, ("empty3".to_string(), vec!["a".to_string(), "b".to_string()]));
    let timed_out: Option<(String, String)> = redis::cmd("BLPOP").arg("none").arg(0.01).query(con).unwrap();
    assert_eq!(timed_out, None);
}

/// Waits until `count` clients are blocked (INFO clients), so a push lands after the waiter parked.
fn wait_blocked(con: &mut Connection, count: usize) {
    for _ in 0..1000 {
        let info: String = redis::cmd("INFO").arg("clients").query(con).unwrap();
        if info.lines().any(|line| line.trim() == format!("blocked_clients:{count}")) {
            return;
        }
        thread::sleep(Duration::from_millis(5));
    }
    panic!("never saw {count} blocked clients");
}

fn all_scenarios(resp3: bool) {
    let server = TestServer::subject(&[]);
    let mut con = connect(&server, resp3);
    pipelined_pushes_pops_and_reads(&mut con);
    long_list_with_tiny_nodes(&mut con);
    blocked_pops_are_served_by_pushes(&server, &mut con, resp3);
}

#[test]
fn lists_through_the_redis_crate_over_resp2() {
    all_scenarios(false);
}

#[test]
fn lists_through_the_redis_crate_over_resp3() {
    all_scenarios(true);
}

/// Thresholds around the element sizes below, plus values DEBUG refuses.
const PACKED_THRESHOLDS: &[&str] = &["1b", "5b", "10b", "100b", "0", "5x", "5000000000"];

/// An element of 0 to 119 bytes, of two letters only, so LREM and LINSERT find their pivots.
fn plain_nodes_element(rng: &mut Rng) -> String {
    let len = *rng.pick(&[0, 1, 2, 4, 5, 6, 9, 10, 11, 50, 99, 100, 101, 119]);
    let letter = *rng.pick(&["a", "b"]);
    letter.repeat(len)
}

/// One command of the plain-nodes stream: list writes on two keys, a threshold or node-size change now and
/// then, and LRANGE of the whole list, which shows any element a write put in the wrong place.
fn plain_nodes_command(rng: &mut Rng) -> Vec<String> {
    let key = rng.pick(&["l1", "l2"]).to_string();
    let element = plain_nodes_element(rng);
    let index = rng.range(-6, 6).to_string();
    let words: Vec<&str> = match rng.below(12) {
        0 => vec!["DEBUG", "QUICKLIST-PACKED-THRESHOLD", *rng.pick(PACKED_THRESHOLDS)],
        1 => vec!["CONFIG", "SET", "list-max-listpack-size", *rng.pick(&["1", "2", "3", "-1"])],
        2 => vec!["LPUSH", &key, &element],
        3 => vec!["RPUSH", &key, &element],
        4 => vec!["LINSERT", &key, *rng.pick(&["BEFORE", "AFTER"]), "", &element],
        5 => vec!["LSET", &key, &index, &element],
        6 => vec!["LREM", &key, &index, &element],
        7 => vec!["LTRIM", &key, &index, "-1"],
        8 => vec![*rng.pick(&["LPOP", "RPOP"]), &key],
        9 => vec!["LMOVE", "l1", "l2", *rng.pick(&["LEFT", "RIGHT"]), *rng.pick(&["LEFT", "RIGHT"])],
        _ => vec!["LRANGE", &key, "0", "-1"],
    };
    let mut argv: Vec<String> = words.into_iter().map(String::from).collect();
    if argv[0] == "LINSERT" {
        argv[3] = plain_nodes_element(rng);
    }
    argv
}

/// Plain nodes against redis-server: the same seeded stream to both, every reply byte for byte equal.
#[test]
fn plain_nodes_match_redis() {
    let args = ["--enable-debug-command", "yes"];
    let Some(redis) = require_redis_with(&args) else { return };
    let subject = TestServer::subject(&args);
    let mut conns: [RespConn; 2] = [subject.conn(), redis.conn()];
    let mut rng = Rng::new(3);
    for step in 0..4000 {
        let argv = plain_nodes_command(&mut rng);
        let [ours, theirs] = [0, 1].map(|i| escape(&conns[i].cmd(&argv)));
        assert_eq!(ours, theirs, "step {step}: {}", escape_argv(&argv));
    }
}
