//! CLIENT PAUSE and UNPAUSE with several clients, on ferrokv and redis-server alike: which commands a pause
//! holds, that held clients count as blocked, and that they are answered, in order, when the pause ends by
//! UNPAUSE or by its timeout.

mod common;

use common::{TestServer, require_redis};
use std::time::{Duration, Instant};

fn info_field(conn: &mut common::RespConn, name: &str) -> String {
    let info = String::from_utf8(conn.cmd(&["INFO", "clients"])).expect("utf8");
    let line = info.lines().find(|line| line.starts_with(name)).unwrap_or_else(|| panic!("{name} in {info}"));
    line[name.len() + 1..].to_string()
}

/// Runs the pause scenarios on `server`, asserting as it goes.
fn scenarios(server: &TestServer) {
    let (mut admin, mut writer) = (server.conn(), server.conn());
    assert_eq!(admin.cmd(&["CLIENT", "PAUSE", "10", "NONE"]), b"-ERR CLIENT PAUSE mode must be WRITE or ALL\r\n");
    assert_eq!(admin.cmd(&["CLIENT", "PAUSE", "-1"]), b"-ERR timeout is negative\r\n");
    assert_eq!(admin.cmd(&["CLIENT", "PAUSE", "60000", "WRITE"]), b"+OK\r\n");
    // Reads and syntax errors go through; a write is held, and so is what the client sends after it.
    assert_eq!(writer.cmd(&["GET", "k"]), b"$-1\r\n");
    assert_eq!(writer.cmd(&["SET", "k"]), b"-ERR wrong number of arguments for 'set' command\r\n");
    writer.send_raw(&common::encode_command(&["SET", "k", "v"]));
    writer.send_raw(&common::encode_command(&["GET", "k"]));
    writer.set_read_timeout_ms(100);
    assert!(writer.try_read_reply().is_err(), "{}: a write must wait for the pause", server.name());
    assert_eq!(info_field(&mut admin, "blocked_clients"), "1");
    assert_eq!(admin.cmd(&["GET", "k"]), b"$-1\r\n");
    assert_eq!(admin.cmd(&["CLIENT", "UNPAUSE"]), b"+OK\r\n");
    writer.set_read_timeout_ms(5000);
    assert_eq!(writer.read_reply(), b"+OK\r\n");
    assert_eq!(writer.read_reply(), b"$1\r\nv\r\n");
    assert_eq!(info_field(&mut admin, "blocked_clients"), "0");
    // ALL holds everything, until the timeout.
    let started = Instant::now();
    assert_eq!(admin.cmd(&["CLIENT", "PAUSE", "200"]), b"+OK\r\n");
    assert_eq!(writer.cmd(&["PING"]), b"+PONG\r\n");
    assert!(started.elapsed() >= Duration::from_millis(150), "{}: PING was not held", server.name());
    // A transaction that writes is held at EXEC; one that only reads is not.
    assert_eq!(writer.cmd(&["MULTI"]), b"+OK\r\n");
    assert_eq!(writer.cmd(&["INCR", "n"]), b"+QUEUED\r\n");
    assert_eq!(admin.cmd(&["CLIENT", "PAUSE", "60000", "WRITE"]), b"+OK\r\n");
    writer.send_raw(&common::encode_command(&["EXEC"]));
    writer.set_read_timeout_ms(100);
    assert!(writer.try_read_reply().is_err(), "{}: EXEC of a write must wait", server.name());
    assert_eq!(admin.cmd(&["MULTI"]), b"+OK\r\n");
    assert_eq!(admin.cmd(&["GET", "n"]), b"+QUEUED\r\n");
    assert_eq!(admin.cmd(&["EXEC"]), b"*1\r\n$-1\r\n");
    assert_eq!(admin.cmd(&["CLIENT", "UNPAUSE"]), b"+OK\r\n");
    writer.set_read_timeout_ms(5000);
    assert_eq!(writer.read_reply(), b"*1\r\n:1\r\n");
}

#[test]
fn pauses_hold_writes_or_everything_until_unpause_or_timeout() {
    let Some(redis) = require_redis() else { return };
    scenarios(&redis);
    scenarios(&TestServer::ferrokv(&[]));
}

/// Sends `argv` on `conn` and checks that the pause holds it (no reply within 100 ms).
fn assert_held(server: &TestServer, conn: &mut common::RespConn, argv: &[&str]) {
    conn.send_raw(&common::encode_command(argv));
    conn.set_read_timeout_ms(100);
    assert!(conn.try_read_reply().is_err(), "{}: {argv:?} must wait for the pause", server.name());
    conn.set_read_timeout_ms(5000);
}

/// CLIENT PAUSE WRITE holds what may replicate (PFCOUNT, PUBLISH, EVAL of a script that did not declare
/// `no-writes`), lets declared read-only scripts through, and read-only scripts may not call may-replicate
/// commands.
fn may_replicate_scenarios(server: &TestServer) {
    let mut admin = server.conn();
    admin.cmd(&["PFADD", "hll", "a"]);
    let library = "#!lua name=ro\nredis.register_function{function_name='ro', callback=function() return 'hi' end, flags={'no-writes'}}";
    assert_eq!(admin.cmd(&["FUNCTION", "LOAD", "REPLACE", library]), b"$2\r\nro\r\n");
    assert_eq!(admin.cmd(&["CLIENT", "PAUSE", "60000", "WRITE"]), b"+OK\r\n");
    let mut held: Vec<common::RespConn> = Vec::new();
    for argv in [
        &["PFCOUNT", "hll"][..],
        &["PUBLISH", "ch", "m"],
        &["EVAL", "return 1", "0"],
        &["EVAL", "#!lua\nreturn 2", "0"],
    ] {
        let mut conn = server.conn();
        assert_held(server, &mut conn, argv);
        held.push(conn);
    }
    let mut reader = server.conn();
    assert_eq!(reader.cmd(&["EVAL", "#!lua flags=no-writes\nreturn 3", "0"]), b":3\r\n");
    assert_eq!(reader.cmd(&["FCALL", "ro", "0"]), b"$2\r\nhi\r\n");
    let refused = reader.cmd(&["EVAL_RO", "return redis.call('publish', 'ch', 'm')", "0"]);
    let text = String::from_utf8_lossy(&refused).into_owned();
    assert!(text.starts_with("-ERR Write commands are not allowed from read-only scripts. script:"), "{text}");
    assert_eq!(info_field(&mut admin, "blocked_clients"), "4");
    assert_eq!(admin.cmd(&["CLIENT", "UNPAUSE"]), b"+OK\r\n");
    let replies: Vec<Vec<u8>> = held.iter_mut().map(|conn| conn.read_reply()).collect();
    assert_eq!(replies, [&b":1\r\n"[..], b":0\r\n", b":1\r\n", b":2\r\n"]);
}

#[test]
fn pause_write_holds_what_may_replicate() {
    let Some(redis) = require_redis() else { return };
    may_replicate_scenarios(&redis);
    may_replicate_scenarios(&TestServer::ferrokv(&[]));
}

/// While paused, a key whose TTL passed reads as missing but is not deleted (no expired_keys, no DEL to
/// propagate); the first read after the pause deletes it.
fn expiry_scenarios(server: &TestServer) {
    let mut conn = server.conn();
    let expired = |conn: &mut common::RespConn| {
        let info = String::from_utf8(conn.cmd(&["INFO", "stats"])).expect("utf8");
        let line = info.lines().find(|line| line.starts_with("expired_keys:")).expect("expired_keys").to_string();
        line["expired_keys:".len()..].parse::<u64>().expect("a number")
    };
    let before = expired(&mut conn);
    assert_eq!(conn.cmd(&["SET", "short", "v", "PX", "10"]), b"+OK\r\n");
    assert_eq!(conn.cmd(&["CLIENT", "PAUSE", "60000", "WRITE"]), b"+OK\r\n");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(conn.cmd(&["GET", "short"]), b"$-1\r\n");
    assert_eq!(expired(&mut conn), before, "{}: a key expired during the pause", server.name());
    assert_eq!(conn.cmd(&["CLIENT", "UNPAUSE"]), b"+OK\r\n");
    assert_eq!(conn.cmd(&["GET", "short"]), b"$-1\r\n");
    assert_eq!(expired(&mut conn), before + 1, "{}", server.name());
}

#[test]
fn pause_holds_expiry() {
    let Some(redis) = require_redis() else { return };
    expiry_scenarios(&redis);
    expiry_scenarios(&TestServer::ferrokv(&[]));
}
