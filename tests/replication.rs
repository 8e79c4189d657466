//! ferrokv as a master: a real redis-server 7.0 replicates from it (disk-based and diskless full syncs) and
//! ends with the same DEBUG DIGEST; the stream a SYNC client reads after the snapshot is byte for byte the
//! stream redis-server sends for the same commands; WAIT, ROLE, INFO replication and REPLCONF answer as
//! Redis's do. Skips without redis-server, except in CI.

mod common;

use common::{RespConn, TestServer, require_redis_with};
use std::io::Read;
use std::time::{Duration, Instant};

const DEBUG_ON: &[&str] = &["--enable-debug-command", "yes"];

fn text(reply: &[u8]) -> String {
    String::from_utf8_lossy(reply).into_owned()
}

/// The value of `field` in INFO `section`.
fn info_field(conn: &mut RespConn, section: &str, field: &str) -> String {
    let info = text(&conn.cmd(&["INFO", section]));
    let prefix = format!("{field}:");
    info.lines().find_map(|l| l.strip_prefix(&prefix)).map(str::to_string).unwrap_or_default()
}

/// Waits (up to 20 s) until `done` holds.
fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(20), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Writes a value of every type over several databases.
fn write_every_type(conn: &mut RespConn) {
    for db in ["0", "3"] {
        conn.cmd(&["SELECT", db]);
        conn.cmd(&["SET", "s", "v"]);
        conn.cmd(&["SET", "n", "12345"]);
        conn.cmd(&["SET", "ttl", "x", "PX", "100000"]);
        conn.cmd(&["RPUSH", "l", "a", "b", "c"]);
        conn.cmd(&["HSET", "h", "f1", "v1", "f2", "v2"]);
        conn.cmd(&["SADD", "set", "1", "2", "x"]);
        conn.cmd(&["ZADD", "z", "1.5", "m", "2", "n"]);
        conn.cmd(&["XADD", "st", "1-1", "f", "v"]);
        conn.cmd(&["SETBIT", "bits", "77", "1"]);
    }
    conn.cmd(&["SELECT", "0"]);
}

/// A redis-server replica of `master` gets the snapshot and then the stream, and both end with the same
/// digest; `master_args` choose the kind of sync.
fn replica_follows(master_args: &[&str]) {
    let Some(probe) = require_redis_with(&[]) else { return };
    drop(probe);
    let args: Vec<&str> = DEBUG_ON.iter().chain(master_args).copied().collect();
    let master = TestServer::ferrokv(&args);
    let mut m = master.conn();
    write_every_type(&mut m);
    let port = master.port.to_string();
    let replica = TestServer::redis(&["--enable-debug-command", "yes", "--replicaof", "127.0.0.1", &port]);
    let mut r = replica.conn();
    eventually("the replica's link", || info_field(&mut r, "replication", "master_link_status") == "up");
    // Writes after the sync come through the stream, in another database too.
    m.cmd(&["SELECT", "5"]);
    m.cmd(&["LPUSH", "later", "1", "2"]);
    m.cmd(&["SELECT", "0"]);
    m.cmd(&["INCRBYFLOAT", "f", "1.5"]);
    m.cmd(&["DEL", "s"]);
    m.cmd(&["MULTI"]);
    m.cmd(&["SET", "t1", "1"]);
    m.cmd(&["SET", "t2", "2"]);
    m.cmd(&["EXEC"]);
    assert_eq!(m.cmd(&["WAIT", "1", "5000"]), b":1\r\n");
    let digest = m.cmd(&["DEBUG", "DIGEST"]);
    eventually("the same digest", || r.cmd(&["DEBUG", "DIGEST"]) == digest);
    let offset = info_field(&mut m, "replication", "master_repl_offset");
    eventually("the replica's offset", || info_field(&mut r, "replication", "master_repl_offset") == offset);
    let slave0 = info_field(&mut m, "replication", "slave0");
    assert!(slave0.starts_with(&format!("ip=127.0.0.1,port={},state=online,offset=", replica.port)), "{slave0}");
    assert_eq!(info_field(&mut m, "replication", "connected_slaves"), "1");
    let role = text(&m.cmd(&["ROLE"]));
    assert!(role.starts_with(&format!("*3\r\n$6\r\nmaster\r\n:{offset}\r\n*1\r\n*3\r\n$9\r\n127.0.0.1\r\n")), "{role}");
    drop(replica);
    eventually("the replica to be gone", || info_field(&mut m, "replication", "connected_slaves") == "0");
    assert!(master.log().contains("Connection with replica"), "{}", master.log());
}

#[test]
fn a_redis_replica_follows_a_disk_based_sync() {
    replica_follows(&["--repl-diskless-sync", "no"]);
}

#[test]
fn a_redis_replica_follows_a_diskless_sync() {
    replica_follows(&["--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0"]);
}

/// Sends SYNC and reads the snapshot's `$<len>` and payload (skipping keepalive newlines).
fn attach(server: &TestServer) -> std::net::TcpStream {
    let mut conn = server.conn();
    conn.cmd(&["CONFIG", "SET", "repl-ping-replica-period", "3600"]);
    let mut stream = conn.stream().try_clone().unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    std::io::Write::write_all(&mut stream, b"SYNC\r\n").unwrap();
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        stream.read_exact(&mut byte).unwrap();
        if byte[0] == b'\n' {
            if line.is_empty() {
                continue;
            }
            break;
        }
        line.push(byte[0]);
    }
    assert_eq!(line[0], b'$', "{}", text(&line));
    let len: usize = text(&line[1..]).trim_end().parse().unwrap();
    let mut payload = vec![0; len];
    stream.read_exact(&mut payload).unwrap();
    assert!(payload.starts_with(b"REDIS0010"));
    std::mem::forget(conn);
    stream
}

/// Reads what arrives on `stream` until `until` appears in it.
fn read_until(stream: &mut std::net::TcpStream, until: &[u8]) -> Vec<u8> {
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    while !got.windows(until.len()).any(|w| w == until) {
        let n = stream.read(&mut chunk).expect("the stream");
        assert!(n > 0, "closed after {}", text(&got));
        got.extend_from_slice(&chunk[..n]);
    }
    got
}

#[test]
fn the_stream_after_sync_is_redis_s() {
    let Some(redis) = require_redis_with(&["--repl-diskless-sync", "no"]) else { return };
    let ferrokv = TestServer::ferrokv(&["--repl-diskless-sync", "no"]);
    let mut streams = Vec::new();
    for server in [&redis, &ferrokv] {
        let mut stream = attach(server);
        let mut c = server.conn();
        c.cmd(&["SET", "k", "v", "EX", "100"]);
        c.cmd(&["SELECT", "2"]);
        c.cmd(&["RPUSH", "l", "a", "b"]);
        c.cmd(&["LPOP", "l"]);
        c.cmd(&["GET", "k"]);
        c.cmd(&["MULTI"]);
        c.cmd(&["INCR", "n"]);
        c.cmd(&["DEL", "missing"]);
        c.cmd(&["HSET", "h", "f", "v"]);
        c.cmd(&["EXEC"]);
        c.cmd(&["SET", "end", "1"]);
        let got = read_until(&mut stream, b"$3\r\nend\r\n$1\r\n1\r\n");
        // Relative expiries become absolute: compare the stream with the deadline's digits blanked. PINGs
        // come when the replication cron's second says, so they are left out.
        let mut shown = text(&got).replace("*1\r\n$4\r\nPING\r\n", "");
        if let Some(at) = shown.find("PXAT\r\n$13\r\n") {
            shown.replace_range(at + 11..at + 24, "<deadline...>");
        }
        streams.push(shown);
    }
    assert_eq!(streams[1], streams[0]);
}

#[test]
fn replconf_sync_and_wait_answer_as_redis() {
    let Some(redis) = require_redis_with(&[]) else { return };
    let ferrokv = TestServer::ferrokv(&[]);
    for server in [&redis, &ferrokv] {
        let mut c = server.conn();
        let cases: &[(&[&str], &[u8])] = &[
            (&["REPLCONF", "listening-port", "6380"], b"+OK\r\n"),
            (&["REPLCONF", "capa", "eof", "capa", "psync2"], b"+OK\r\n"),
            (&["REPLCONF", "listening-port"], b"-ERR syntax error\r\n"),
            (&["REPLCONF", "nonsense", "1"], b"-ERR Unrecognized REPLCONF option: nonsense\r\n"),
            (&["REPLCONF", "listening-port", "x"], b"-ERR value is not an integer or out of range\r\n"),
            (&["WAIT", "0", "0"], b":0\r\n"),
            (&["WAIT", "1", "-1"], b"-ERR timeout is negative\r\n"),
            (&["WAIT", "1", "x"], b"-ERR timeout is not an integer or out of range\r\n"),
            (&["WAIT", "1", "50"], b":0\r\n"),
            (&["ROLE"], b"*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n"),
            (&["PSYNC", "?", "x"], b"-ERR value is not an integer or out of range\r\n"),
        ];
        for (argv, want) in cases {
            assert_eq!(text(&c.cmd(argv)), text(want), "{}: {argv:?}", server.name());
        }
        // A replica waiting in WAIT is answered at its deadline with the count, inside MULTI at once.
        c.cmd(&["MULTI"]);
        c.cmd(&["WAIT", "1", "0"]);
        assert_eq!(c.cmd(&["EXEC"]), b"*1\r\n:0\r\n");
    }
}
