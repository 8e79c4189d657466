//! MONITOR against redis-server: the same commands give the same monitor lines once the timestamp and the
//! client's port are masked (quoting, redaction, which commands are hidden, MULTI/EXEC order, the db shown),
//! and a monitor may not touch the keyspace.

mod common;

use common::{TestServer, encode_command, require_redis};

/// The monitor lines `commands` produce on `server`, with `<time>` and `<port>` masked.
fn monitor_lines(server: &TestServer, commands: &[&[&str]]) -> Vec<String> {
    let (mut monitor, mut client) = (server.conn(), server.conn());
    assert_eq!(monitor.cmd(&["MONITOR"]), b"+OK\r\n");
    for argv in commands {
        client.send_raw(&encode_command(argv));
        client.read_reply();
    }
    client.cmd(&["ECHO", "end"]);
    let mut lines = Vec::new();
    loop {
        let line = String::from_utf8_lossy(&monitor.read_reply()).into_owned();
        let (_, rest) = line.split_once(' ').expect("a timestamp");
        let (db, rest) = rest.split_once(':').expect("an address");
        let (_, args) = rest.split_once(']').expect("the bracket");
        let masked = format!("<time> {db}:<port>]{args}");
        if masked.contains("\"end\"") {
            break;
        }
        lines.push(masked);
    }
    assert_eq!(monitor.cmd(&["GET", "k"]), b"-ERR Replica can't interact with the keyspace\r\n");
    assert_eq!(monitor.cmd(&["PING"]), b"+PONG\r\n");
    lines
}

#[test]
fn monitor_lines_match_redis() {
    let commands: &[&[&str]] = &[
        &["SET", "k", "quote\" back\\slash\n\r\t\x07\x08 \x01 \u{e9}"],
        &["GET", "k"],
        &["CONFIG", "GET", "maxmemory"],
        &["CLIENT", "LIST"],
        &["GET"],
        &["NOSUCH"],
        &["AUTH", "not-a-password"],
        &["HELLO", "2", "AUTH", "default", "secret"],
        &["MULTI"],
        &["INCR", "n"],
        &["EXEC"],
        &["SELECT", "3"],
        &["BLPOP", "nolist", "0.01"],
        &["PUBLISH", "c", "m"],
    ];
    let Some(redis) = require_redis() else { return };
    let ferrokv = TestServer::ferrokv(&[]);
    let want = monitor_lines(&redis, commands);
    assert!(want.len() >= 10, "redis showed {want:?}");
    assert_eq!(monitor_lines(&ferrokv, commands), want);
}
