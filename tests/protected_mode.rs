//! Protected mode, as Redis 7.0 has it: with `protected-mode yes` (the default) and no password, a client
//! whose address is not 127.0.0.1 or ::1 gets `-DENIED ...` and is closed (an HTTP client a 403).
//!
//! The test runs in a network namespace it creates (`unshare --net`), where only a loopback interface
//! exists, and connects from 127.0.0.2: Redis compares the peer's address text with `127.0.0.1`, so that
//! address counts as remote, and no real network is needed. The test re-runs its own binary inside the
//! namespace (with `FERROKV_TEST_IN_NETNS=1`) and the inner run does the work.

mod common;

use common::{TestServer, assert_reply, redis_server_available};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::Duration;

const INSIDE: &str = "FERROKV_TEST_IN_NETNS";

/// A connection to `port` on 127.0.0.1 from `source`.
fn connect_from(source: [u8; 4], port: u16) -> TcpStream {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.bind(&SocketAddr::from((source, 0)).into()).unwrap();
    socket.connect(&SocketAddr::from(([127, 0, 0, 1], port)).into()).unwrap();
    let stream: TcpStream = socket.into();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    stream
}

/// What a client from `source` reads after sending `request`, until the server closes (or 5 s pass).
fn exchange_from(source: [u8; 4], port: u16, request: &[u8]) -> Vec<u8> {
    let mut stream = connect_from(source, port);
    let _ = stream.write_all(request);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    answer
}

const REMOTE: [u8; 4] = [127, 0, 0, 2];
const LOCAL: [u8; 4] = [127, 0, 0, 1];

#[test]
fn protected_mode_refuses_clients_from_other_addresses() {
    if std::env::var_os(INSIDE).is_some() {
        check_inside_the_namespace();
        return;
    }
    let exe = std::env::current_exe().expect("test binary path");
    let test = "protected_mode_refuses_clients_from_other_addresses";
    let outcome = Command::new("unshare")
        .args(["--net", "--map-root-user", "--", "sh", "-c", r#"ip link set lo up && exec "$@""#, "sh"])
        .arg(exe)
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(INSIDE, "1")
        .output();
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(e) => return common::skip(&format!("cannot run unshare ({e})")),
    };
    let stderr = String::from_utf8_lossy(&outcome.stderr);
    let stdout = String::from_utf8_lossy(&outcome.stdout);
    if !outcome.status.success() && !stdout.contains("running 1 test") {
        return common::skip(&format!("cannot create a network namespace here: {}", stderr.trim()));
    }
    assert!(outcome.status.success(), "inside the namespace:\n{stdout}\n{stderr}");
    assert!(stdout.contains("1 passed"), "{stdout}");
}

fn check_inside_the_namespace() {
    let redis = redis_server_available().then(|| TestServer::redis(&[]));
    let ferrokv = TestServer::ferrokv_with_http(&[]);
    let denied = exchange_from(REMOTE, ferrokv.port, b"SET k v\r\n");
    assert!(denied.starts_with(b"-DENIED Redis is running in protected mode"), "{}", String::from_utf8_lossy(&denied));
    if let Some(redis) = &redis {
        assert_reply(&denied, exchange_from(REMOTE, redis.port, b"SET k v\r\n"));
    }
    assert_reply(ferrokv.conn().cmd(&["EXISTS", "k"]), ":0\r\n");
    assert_reply(exchange_from(LOCAL, ferrokv.port, b"PING\r\nQUIT\r\n"), "+PONG\r\n+OK\r\n");
    let http = String::from_utf8(exchange_from(
        REMOTE,
        ferrokv.http_port,
        b"GET /_health HTTP/1.1\r\nHost: localhost\r\n\r\n",
    ));
    assert!(http.as_ref().is_ok_and(|h| h.starts_with("HTTP/1.1 403 Forbidden")), "{http:?}");
    let mut admin = ferrokv.conn();
    let stats = String::from_utf8_lossy(&admin.cmd(&["INFO", "stats"])).into_owned();
    assert!(stats.contains("\r\nrejected_connections:2\r\n"), "{stats}");

    // A password, or protected mode off, lets the remote client in, as in Redis.
    assert_reply(admin.cmd(&["CONFIG", "SET", "requirepass", "pw"]), "+OK\r\n");
    assert_reply(exchange_from(REMOTE, ferrokv.port, b"AUTH pw\r\nQUIT\r\n"), "+OK\r\n+OK\r\n");
    assert_reply(admin.cmd(&["AUTH", "pw"]), "+OK\r\n");
    assert_reply(admin.cmd(&["CONFIG", "SET", "requirepass", ""]), "+OK\r\n");
    assert_reply(admin.cmd(&["CONFIG", "SET", "protected-mode", "no"]), "+OK\r\n");
    assert_reply(exchange_from(REMOTE, ferrokv.port, b"PING\r\nQUIT\r\n"), "+PONG\r\n+OK\r\n");
}
