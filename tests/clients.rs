//! A real client library against ferrokv: the `redis` crate, over RESP2 and over RESP3 (it sends `HELLO 3`
//! first and refuses to go on if the reply is not a proper map). Also the expiry behaviour a client sees:
//! keys with a TTL vanish on access, and keys nobody touches are reclaimed by active expiry.

mod common;

use common::TestServer;
use redis::{Commands, Connection, Value};
use std::time::{Duration, Instant};

fn connect(server: &TestServer, resp3: bool) -> Connection {
    let url = format!("redis://127.0.0.1:{}/{}", server.port, if resp3 { "?protocol=resp3" } else { "" });
    redis::Client::open(url).expect("valid url").get_connection().expect("connect")
}

fn strings_and_counters(con: &mut Connection) {
    let _: () = con.set("greeting", "hello").unwrap();
    assert_eq!(con.get::<_, String>("greeting").unwrap(), "hello");
    assert_eq!(con.get::<_, Option<String>>("missing").unwrap(), None);
    assert_eq!(con.incr::<_, _, i64>("counter", 5).unwrap(), 5);
    assert_eq!(con.decr::<_, _, i64>("counter", 7).unwrap(), -2);
    let _: () = con.mset(&[("a", "1"), ("b", "2")]).unwrap();
    assert_eq!(
        con.mget::<_, Vec<Option<String>>>(&["a", "x", "b"]).unwrap(),
        vec![Some("1".into()), None, Some("2".into())]
    );
    assert_eq!(con.append::<_, _, i64>("greeting", " world").unwrap(), 11);
    assert_eq!(con.getrange::<_, String>("greeting", 6, -1).unwrap(), "world");
    let err = con.incr::<_, _, i64>("greeting", 1).unwrap_err();
    assert_eq!(err.code(), Some("ERR"));
    assert!(err.to_string().contains("value is not an integer or out of range"), "{err}");
}

fn pipelines_and_ttls(con: &mut Connection) {
    let (set, ttl, exists): (String, i64, bool) = redis::pipe()
        .cmd("SET")
        .arg("t")
        .arg("v")
        .arg("EX")
        .arg(100)
        .cmd("TTL")
        .arg("t")
        .cmd("EXISTS")
        .arg("t")
        .query(con)
        .unwrap();
    assert_eq!(set, "OK");
    assert!((99..=100).contains(&ttl), "ttl {ttl}");
    assert!(exists);
    assert!(con.persist::<_, bool>("t").unwrap());
    assert_eq!(con.ttl::<_, i64>("t").unwrap(), -1);
    let _: () = con.pset_ex("short", "v", 30).unwrap();
    std::thread::sleep(Duration::from_millis(60));
    assert_eq!(con.get::<_, Option<String>>("short").unwrap(), None, "expired keys vanish on access");
}

#[test]
fn redis_crate_over_resp2() {
    let server = TestServer::subject(&[]);
    let mut con = connect(&server, false);
    strings_and_counters(&mut con);
    pipelines_and_ttls(&mut con);
}

#[test]
fn redis_crate_over_resp3() {
    let server = TestServer::subject(&[]);
    let mut con = connect(&server, true);
    strings_and_counters(&mut con);
    pipelines_and_ttls(&mut con);
    // A RESP3 map reply arrives as a map, not a flat array.
    let hello: Value = redis::cmd("HELLO").arg(3).query(&mut con).unwrap();
    let Value::Map(fields) = hello else { panic!("HELLO 3 must reply with a map, got {hello:?}") };
    assert!(fields.iter().any(|(k, v)| *k == Value::SimpleString("proto".into())
        || (*k == Value::BulkString(b"proto".to_vec()) && *v == Value::Int(3))));
}

#[test]
fn active_expiry_reclaims_untouched_keys() {
    let server = TestServer::subject(&["--hz", "100"]);
    let mut con = connect(&server, false);
    for i in 0..2000 {
        let _: () = con.pset_ex(format!("volatile:{i}"), "v", 1500).unwrap();
    }
    let _: () = con.set("durable", "v").unwrap();
    assert_eq!(redis::cmd("DBSIZE").query::<i64>(&mut con).unwrap(), 2001);
    // Nobody touches the volatile keys again; the background cycle must reclaim them within seconds.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let size: i64 = redis::cmd("DBSIZE").query(&mut con).unwrap();
        if size == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "active expiry left {size} keys after 10 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    let info: String = redis::cmd("INFO").arg("stats").query(&mut con).unwrap();
    assert!(info.contains("expired_keys:2000"), "{info}");
}
