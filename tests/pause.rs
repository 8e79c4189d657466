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
