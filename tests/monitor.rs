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
        let (client, args) = rest.split_once(']').expect("the bracket");
        // `[0 127.0.0.1:port]` for a connection, `[0 lua]` for a script's calls.
        let client = client.split_once(':').map_or(client.to_string(), |(addr, _)| format!("{addr}:<port>"));
        let masked = format!("<time> {client}]{args}");
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
        &["MIGRATE", "127.0.0.1", "1", "nokey", "9", "5000", "AUTH", "secret"],
        &["MIGRATE", "127.0.0.1", "1", "nokey", "9", "5000", "COPY", "AUTH2", "user", "secret"],
        &["MIGRATE", "127.0.0.1", "1", "nokey", "9", "5000", "AUTH2", "user"],
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

/// Scripts are shown before they run and their calls after them from the client `lua`, as redis-server shows
/// them; a script that fails (NOSCRIPT, a compile error) is shown too.
#[test]
fn monitor_shows_scripts_and_their_calls_as_redis() {
    let library =
        "#!lua name=mon\nredis.register_function('setfoo', function() return redis.call('set', 'foo', 'bar') end)";
    let commands: &[&[&str]] = &[
        &["EVAL", "redis.call('set', KEYS[1], ARGV[1]) return redis.call('get', KEYS[1])", "1", "k", "v"],
        &["EVAL_RO", "return redis.call('get', KEYS[1])", "1", "k"],
        &["EVALSHA", "0123456789012345678901234567890123456789", "0"],
        &["EVAL", "syntax error(", "0"],
        &["FUNCTION", "LOAD", "REPLACE", library],
        &["FCALL", "setfoo", "0"],
        &["FCALL", "nosuchfunction", "0"],
        &["MULTI"],
        &["EVAL", "return redis.call('incr', 'n')", "0"],
        &["EXEC"],
    ];
    let Some(redis) = require_redis() else { return };
    let ferrokv = TestServer::ferrokv(&[]);
    let want = monitor_lines(&redis, commands);
    assert!(want.iter().any(|line| line.contains("lua]")), "redis showed {want:?}");
    assert_eq!(monitor_lines(&ferrokv, commands), want);
}
