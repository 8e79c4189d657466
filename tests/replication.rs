//! ferrokv as a master: a real redis-server 7.0 replicates from it (disk-based and diskless full syncs) and
//! ends with the same DEBUG DIGEST; the stream a SYNC client reads after the snapshot is byte for byte the
//! stream redis-server sends for the same commands; WAIT, ROLE, INFO replication and REPLCONF answer as
//! Redis's do. Skips without redis-server, except in CI.

mod common;

use common::{RespConn, TestServer, require_redis, require_redis_with};
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

/// Runs `session` on redis-server and on ferrokv, each with a SYNC client attached, and asserts that the two
/// streams up to a final `SET end 1` are equal. Relative expiries become absolute, so the deadline's digits are
/// blanked; PINGs come when the replication cron's second says, so they are left out. Each name in `blanked`
/// (keys whose order follows the hash table's) is shown as `<key>`.
fn streams_match(blanked: &[&str], session: impl Fn(&mut RespConn)) {
    let args = ["--repl-diskless-sync", "no", "--enable-debug-command", "yes"];
    let Some(redis) = require_redis_with(&args) else { return };
    let ferrokv = TestServer::ferrokv(&args);
    let mut streams = Vec::new();
    for server in [&redis, &ferrokv] {
        let mut stream = attach(server);
        let mut c = server.conn();
        session(&mut c);
        c.cmd(&["SET", "end", "1"]);
        let got = read_until(&mut stream, b"$3\r\nend\r\n$1\r\n1\r\n");
        let mut shown = text(&got).replace("*1\r\n$4\r\nPING\r\n", "");
        while let Some(at) = shown.find("PXAT\r\n$13\r\n") {
            shown.replace_range(at..at + 24, "<pxat deadline...>");
        }
        for name in blanked {
            shown = shown.replace(&format!("${}\r\n{name}\r\n", name.len()), "<key>");
        }
        streams.push(shown);
    }
    assert_eq!(streams[1], streams[0]);
}

#[test]
fn the_stream_after_sync_is_redis_s() {
    streams_match(&[], |c| {
        c.cmd(&["SET", "k", "v", "EX", "100"]);
        // An absolute PXAT is rewritten too (the digits are blanked, so the deadline must be the same width).
        c.cmd(&["SET", "k", "v", "pxat", "1900000000000", "GET"]);
        c.cmd(&["GETEX", "k", "pxat", "1900000000000"]);
        c.cmd(&["SELECT", "2"]);
        c.cmd(&["RPUSH", "l", "a", "b"]);
        c.cmd(&["LPOP", "l"]);
        c.cmd(&["GET", "k"]);
        c.cmd(&["MULTI"]);
        c.cmd(&["INCR", "n"]);
        c.cmd(&["DEL", "missing"]);
        c.cmd(&["HSET", "h", "f", "v"]);
        c.cmd(&["EXEC"]);
    });
}

/// PUBLISH goes to the replicas though it changes nothing (alone, in MULTI alone, and in MULTI beside a write,
/// where it counts for the MULTI/EXEC wrap), and a SAVE refused inside MULTI aborts the transaction unsent.
#[test]
fn publish_reaches_the_stream_as_in_redis() {
    streams_match(&[], |c| {
        c.cmd(&["PUBLISH", "ch", "alone"]);
        c.cmd(&["MULTI"]);
        c.cmd(&["PUBLISH", "ch", "in multi"]);
        c.cmd(&["EXEC"]);
        c.cmd(&["MULTI"]);
        c.cmd(&["PUBLISH", "ch", "beside"]);
        c.cmd(&["SET", "k", "v"]);
        c.cmd(&["EXEC"]);
        c.cmd(&["MULTI"]);
        c.cmd(&["SET", "not", "sent"]);
        assert_eq!(text(&c.cmd(&["SAVE"])), "-ERR Command not allowed inside a transaction\r\n");
        assert!(text(&c.cmd(&["EXEC"])).starts_with("-EXECABORT"));
    });
}

/// `min-replicas-to-write`: writes (and an EXEC holding one) are refused until a good replica is attached;
/// reads are not, and `min-replicas-max-lag 0` turns the check off, as in Redis.
#[test]
fn min_replicas_to_write_refuses_writes_as_redis() {
    let Some(redis) = require_redis_with(&["--repl-diskless-sync", "no"]) else { return };
    let ferrokv = TestServer::ferrokv(&["--repl-diskless-sync", "no"]);
    for server in [&redis, &ferrokv] {
        let (mut c, mut admin) = (server.conn(), server.conn());
        let name = server.name();
        // Queued before the limit was set: EXEC, which holds a write, is refused and names why.
        c.cmd(&["MULTI"]);
        c.cmd(&["INCR", "n"]);
        assert_eq!(admin.cmd(&["CONFIG", "SET", "min-replicas-to-write", "1"]), b"+OK\r\n", "{name}");
        assert_eq!(
            text(&c.cmd(&["EXEC"])),
            "-EXECABORT Transaction discarded because of: NOREPLICAS Not enough good replicas to write.\r\n",
            "{name}"
        );
        assert_eq!(info_field(&mut c, "replication", "min_slaves_good_slaves"), "0", "{name}");
        let refused = "-NOREPLICAS Not enough good replicas to write.\r\n";
        assert_eq!(text(&c.cmd(&["SET", "k", "v"])), refused, "{name}");
        assert_eq!(c.cmd(&["GET", "k"]), b"$-1\r\n", "{name}");
        // Queued after: refused while queuing, which dooms the transaction.
        c.cmd(&["MULTI"]);
        assert_eq!(text(&c.cmd(&["INCR", "n"])), refused, "{name}");
        assert_eq!(text(&c.cmd(&["EXEC"])), "-EXECABORT Transaction discarded because of previous errors.\r\n");
        c.cmd(&["MULTI"]);
        c.cmd(&["GET", "n"]);
        assert_eq!(c.cmd(&["EXEC"]), b"*1\r\n$-1\r\n", "{name}");
        assert_eq!(c.cmd(&["CONFIG", "SET", "min-replicas-max-lag", "0"]), b"+OK\r\n", "{name}");
        assert_eq!(c.cmd(&["SET", "k", "v"]), b"+OK\r\n", "{name}");
        assert_eq!(info_field(&mut c, "replication", "min_slaves_good_slaves"), "", "{name}");
        assert_eq!(c.cmd(&["CONFIG", "SET", "min-replicas-max-lag", "10"]), b"+OK\r\n", "{name}");
        let _replica = attach(server);
        eventually("a good replica", || c.cmd(&["SET", "k", "w"]) == b"+OK\r\n");
        assert_eq!(info_field(&mut c, "replication", "min_slaves_good_slaves"), "1", "{name}");
    }
}

/// Scripts under `min-replicas-to-write`: one that declared flags without `no-writes` counts as a write
/// when it arrives, one without a shebang only when it calls a write; both answer as Redis does, byte for
/// byte.
#[test]
fn min_replicas_to_write_refuses_script_writes_as_redis() {
    let Some(redis) = require_redis() else { return };
    let ferrokv = TestServer::ferrokv(&[]);
    let transcript = |server: &TestServer| {
        let mut c = server.conn();
        c.cmd(&["SET", "x", "some value"]);
        c.cmd(&["CONFIG", "SET", "min-replicas-to-write", "1"]);
        let scripts = [
            "#!lua flags=no-writes\nreturn redis.call('get','x')",
            "return redis.call('get','x')",
            "#!lua\nreturn redis.call('get','x')",
            "return redis.call('set','x',1)",
            "return redis.pcall('set','x',1)",
        ];
        let mut replies: Vec<String> = scripts.iter().map(|body| text(&c.cmd(&["EVAL", body, "1", "x"]))).collect();
        replies.push(text(&c.cmd(&["GET", "x"])));
        replies
    };
    let expected = transcript(&redis);
    assert!(expected[2].starts_with("-NOREPLICAS"), "{expected:?}");
    assert_eq!(transcript(&ferrokv), expected);
}

/// The stale keys SCAN and RANDOMKEY delete go out as DELs of their own, not in MULTI/EXEC (Redis's
/// CMD_TOUCHES_ARBITRARY_KEYS), but inside a transaction they stay in its MULTI/EXEC.
#[test]
fn lazy_expiry_by_scan_and_randomkey_is_not_wrapped_as_in_redis() {
    let expire_two = |c: &mut RespConn| {
        c.cmd(&["SET", "foo1", "bar", "PX", "1"]);
        c.cmd(&["SET", "foo2", "bar", "PX", "1"]);
        std::thread::sleep(Duration::from_millis(5));
    };
    streams_match(&["foo1", "foo2"], |c| {
        assert_eq!(c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), b"+OK\r\n");
        expire_two(c);
        c.cmd(&["SCAN", "0"]);
        expire_two(c);
        assert_eq!(c.cmd(&["RANDOMKEY"]), b"$-1\r\n");
        c.cmd(&["SET", "foo1", "bar", "PX", "1"]);
        std::thread::sleep(Duration::from_millis(5));
        c.cmd(&["MULTI"]);
        c.cmd(&["SET", "x", "1"]);
        c.cmd(&["SCAN", "0"]);
        c.cmd(&["EXEC"]);
        c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]);
    });
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
