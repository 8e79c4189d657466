//! The AOF end to end: the propagated stream byte for byte against redis-server's own incr file, restarts,
//! torn tails, runtime CONFIG SET appendonly, BGREWRITEAOF, DEBUG LOADAOF, replay of a random workload
//! (DEBUG DIGEST equal), interop of the appendonlydir with redis-server in both directions, redis-check-aof,
//! and a crash test: SIGKILL under load with `appendfsync always` loses no acknowledged write.

mod common;

use common::scratch::SharedDir;
use common::{Rng, TestServer, require_redis};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The path of incr file `seq` in `dir`'s appendonlydir.
fn incr(dir: &SharedDir, seq: u32) -> PathBuf {
    dir.0.join(format!("appendonlydir/appendonly.aof.{seq}.incr.aof"))
}

fn start(kind: common::ServerKind, dir: &SharedDir, extra: &[&str]) -> TestServer {
    let mut args = vec!["--dir", dir.path(), "--appendonly", "yes", "--enable-debug-command", "yes"];
    args.extend_from_slice(extra);
    match kind {
        common::ServerKind::Ferrokv => TestServer::ferrokv(&args),
        common::ServerKind::Redis => TestServer::redis(&args),
    }
}

fn text(reply: Vec<u8>) -> String {
    String::from_utf8_lossy(&reply).into_owned()
}

/// The commands of an AOF file, one line each, with every number of 12 or more digits (a unix-ms
/// deadline computed from the clock) shown as `<ms>`.
fn commands_of(path: &Path) -> Vec<String> {
    let data = fs::read(path).unwrap_or_default();
    let mut out = Vec::new();
    let mut pos = 0;
    let line = |pos: &mut usize| {
        let end = pos.to_owned() + data[*pos..].windows(2).position(|w| w == b"\r\n").unwrap();
        let n: usize = std::str::from_utf8(&data[*pos + 1..end]).unwrap().parse().unwrap();
        *pos = end + 2;
        n
    };
    while pos < data.len() {
        let argc = line(&mut pos);
        let mut words = Vec::new();
        for _ in 0..argc {
            let len = line(&mut pos);
            let word = String::from_utf8_lossy(&data[pos..pos + len]).into_owned();
            let is_ms = word.len() >= 12 && word.bytes().all(|b| b.is_ascii_digit());
            words.push(if is_ms { "<ms>".to_string() } else { word });
            pos += len + 2;
        }
        out.push(words.join(" "));
    }
    out
}

/// The script both servers run; every reply must be deterministic (one-member sets for SPOP).
const SCRIPT: &[&str] = &[
    "DEBUG SET-ACTIVE-EXPIRE 0",
    "SET a 1 EX 100",
    "SET b 2",
    "EXPIRE b 100",
    "PEXPIRE b 200000 GT",
    "PEXPIREAT b 99999999999000",
    "EXPIREAT b 99999999999",
    "INCRBYFLOAT f 1.5",
    "SET fs 1 EX 100",
    "INCRBYFLOAT fs 1",
    "HINCRBYFLOAT h x 2.5",
    "SADD s1 x",
    "SPOP s1",
    "SADD s2 1 2 3",
    "SPOP s2 5",
    "GETEX a EX 50",
    "GETEX a PERSIST",
    "GETEX a",
    "GETEX a PXAT 1",
    "GETDEL b",
    "GETSET g 6",
    "SET g 7 GET",
    "SET g 8 KEEPTTL get",
    "SETEX sx 100 v",
    "PSETEX px 100000 v",
    "SETNX g 9",
    "SET neg 1 EX 100",
    "EXPIRE neg -1",
    "DEL nothing",
    "INCR counter",
    "SELECT 3",
    "SET x 1",
    "SELECT 0",
    "MULTI",
    "SET m1 1",
    "SET m2 2",
    "EXEC",
    "MULTI",
    "SET m3 3",
    "GET m3",
    "EXEC",
    "MULTI",
    "SET q1 1",
    "SELECT 1",
    "SET q2 2",
    "SELECT 0",
    "EXEC",
    "SET e 1 PX 1",
    "SLEEP",
    "GET e",
    "SET e2 1 PX 1",
    "SLEEP",
    "MULTI",
    "SET q3 1",
    "GET e2",
    "EXEC",
    "RPUSH l a b c d e",
    "BLPOP l 0",
    "BRPOP l 0",
    "BLMOVE l l2 LEFT right 0",
    "BRPOPLPUSH l l2 0",
    "LMPOP 2 nope l2 LEFT COUNT 10",
    "RPUSH l x y",
    "BLMPOP 0 1 l RIGHT COUNT 5",
    "MULTI",
    "BLPOP l 0",
    "EXEC",
    "SADD sm a",
    "SMOVE sm sm2 a",
    "XADD st 1-1 a 1",
    "XADD st 2-* b 2",
    "XADD st MAXLEN ~ 1 LIMIT 5 3-0 c 3",
    "XTRIM st MAXLEN ~ 0",
    "XTRIM st MINID 2",
    "XDEL st 3-0",
    "XSETID st 10-0",
    "XGROUP CREATE st g 0",
    "XGROUP CREATE st2 g2 $ MKSTREAM",
    "XADD st 11-0 d 4",
    "XADD st 12-0 e 5",
    "XADD st 13-0 e 6",
    "XREADGROUP GROUP g alice COUNT 2 STREAMS st >",
    "XREADGROUP GROUP g bob NOACK STREAMS st >",
    "XREADGROUP GROUP g alice STREAMS st 0",
    "XCLAIM st g carol 0 11-0 TIME 1000 JUSTID",
    "XAUTOCLAIM st g dave 0 0 JUSTID",
    "XACK st g 11-0",
    "XGROUP SETID st g 0",
    "XGROUP CREATECONSUMER st g erin",
    "XGROUP DELCONSUMER st g erin",
    "XGROUP DESTROY st g",
    "XADD stx NOMKSTREAM 1-0 f 6",
    "ZADD z 1 a 2 b 3 c",
    "ZADD z INCR 5 a",
    "ZINCRBY z 2 b",
    "ZADD z GT CH 10 c",
    "ZADD z NX 1 c",
    "ZREM z nope c",
    "ZPOPMIN z",
    "ZADD z 1 x 2 y 3 w",
    "ZPOPMAX z 2",
    "ZPOPMIN z 0",
    "ZMPOP 1 z MIN COUNT 10",
    "ZMPOP 1 z MIN COUNT 10",
    "ZADD z 1 a 2 b 3 c",
    "BZPOPMIN z 0",
    "BZPOPMAX nope z 0",
    "ZADD z 1 a 2 b",
    "BZMPOP 0 1 z MAX COUNT 1",
    "BZMPOP 0 1 z MIN",
    "ZADD z 1 a 2 b 3 c",
    "ZREMRANGEBYRANK z 0 0",
    "ZREMRANGEBYSCORE z 2 2",
    "ZREMRANGEBYLEX z - +",
    "ZADD z 1 a 2 b 3 c",
    "ZRANGESTORE z2 z 0 1",
    "ZUNIONSTORE z3 2 z z2 WEIGHTS 1 2",
    "ZINTERSTORE z3 2 z z2",
    "ZDIFFSTORE z3 2 z z2",
    "ZRANGESTORE z3 z 5 6",
    "GEOADD geo 13.361389 38.115556 Palermo 15.087269 37.502669 Catania",
    "GEOADD geo XX CH 13.361389 38.115556 Palermo",
    "GEORADIUS geo 15 37 200 km STORE gs",
    "GEORADIUSBYMEMBER geo Palermo 500 km STOREDIST gs",
    "GEOSEARCHSTORE gs geo FROMLONLAT 15 37 BYRADIUS 200 km",
    "GEOSEARCHSTORE gs geo FROMLONLAT 0 0 BYRADIUS 1 km",
    "RPUSH sl 3 1 2",
    "SORT sl STORE sls",
    "SORT nope STORE sls",
    "SETBIT bits 7 1",
    "SETBIT bits 7 1",
    "BITOP NOT bits2 bits",
    "BITFIELD bf SET u8 0 255 INCRBY u8 0 1 GET u8 0",
    "BITFIELD bf INCRBY u8 0 0 OVERFLOW FAIL INCRBY u8 0 1000",
    "BITFIELD_RO bf GET u8 0",
    "PFADD hll a b c",
    "PFCOUNT hll",
    "PFCOUNT hll",
    "PFADD hll2 d",
    "PFCOUNT hll hll2",
    "PFMERGE hll3 hll hll2",
    "PFCOUNT hll3",
    "FLUSHDB",
    "SET k v",
    "SWAPDB 0 1",
    "FLUSHALL",
    "CONFIG SET lazyfree-lazy-expire yes",
    "SET lz 1 PX 1",
    "SLEEP",
    "GET lz",
    "SET lz2 1",
    "EXPIRE lz2 0",
    "CONFIG SET lazyfree-lazy-expire no",
    "FLUSHALL",
    "SET r1 1 PX 1",
    "SET r2 1 PX 1",
    "SLEEP",
    "RANDOMKEY",
    "SET g1 1 PX 1",
    "SET g2 1 PX 1",
    "SLEEP",
    "MGET g1 g2",
    // KEYS skips stale keys without deleting them; SCAN deletes (and propagates) those it would return only.
    "SET k1 1 PX 1",
    "SET k2 1 PX 1",
    "SET k3 1 PX 1",
    "SET kk 1",
    "SLEEP",
    "KEYS k*",
    "SCAN 0 MATCH k1 COUNT 1000",
    "DBSIZE",
    "SCAN 0 MATCH k2 TYPE string COUNT 1000",
    "DBSIZE",
];

fn run_script(server: &TestServer) -> Vec<String> {
    let mut conn = server.conn();
    let mut replies = Vec::new();
    for line in SCRIPT {
        if *line == "SLEEP" {
            std::thread::sleep(Duration::from_millis(20));
            continue;
        }
        let argv: Vec<&str> = line.split(' ').collect();
        replies.push(text(conn.cmd(&argv)));
    }
    replies
}

#[test]
fn propagated_stream_matches_redis() {
    let Some(_probe) = require_redis() else { return };
    let (ours_dir, theirs_dir) = (SharedDir::new("aof", "stream-ours"), SharedDir::new("aof", "stream-redis"));
    let ours = start(common::ServerKind::Ferrokv, &ours_dir, &["--appendfsync", "always"]);
    let theirs = start(common::ServerKind::Redis, &theirs_dir, &["--appendfsync", "always"]);
    assert_eq!(run_script(&ours), run_script(&theirs));
    let (ours_stream, theirs_stream) = (commands_of(&incr(&ours_dir, 1)), commands_of(&incr(&theirs_dir, 1)));
    // RANDOMKEY meets its two stale keys in a random order.
    let in_order = |mut stream: Vec<String>| {
        if let Some(at) = stream.iter().position(|c| c == "DEL r2") {
            stream[at..at + 2].sort();
        }
        stream
    };
    let (ours_stream, theirs_stream) = (in_order(ours_stream), in_order(theirs_stream));
    assert!(theirs_stream.len() > 40, "{theirs_stream:?}");
    assert_eq!(ours_stream, theirs_stream);
}

#[test]
fn a_served_waiter_is_its_own_unit_after_the_transaction() {
    let Some(_probe) = require_redis() else { return };
    let waits: [&[&str]; 2] = [&["BLPOP", "q", "0"], &["BLPOP", "q", "0"]];
    let writes: [&[&str]; 4] = [&["MULTI"], &["RPUSH", "q", "a", "b"], &["SET", "z", "1"], &["EXEC"]];
    let streams = served_waiter_streams("waiter", &waits, &writes);
    assert_eq!(streams[0], ["SELECT 0", "MULTI", "RPUSH q a b", "SET z 1", "EXEC", "LPOP q", "LPOP q"]);
    assert_eq!(streams[0], streams[1]);
}

/// The streams of ferrokv and redis-server when clients parked on `waits` (sent in order) are served by
/// `writes`.
fn served_waiter_streams(name: &str, waits: &[&[&str]], writes: &[&[&str]]) -> Vec<Vec<String>> {
    let mut streams = Vec::new();
    for kind in [common::ServerKind::Ferrokv, common::ServerKind::Redis] {
        let dir = SharedDir::new("aof", &format!("{name}-{kind:?}"));
        let server = start(kind, &dir, &["--appendfsync", "always"]);
        let mut conn = server.conn();
        let mut waiters = Vec::new();
        for wait in waits {
            let mut waiter = server.conn();
            waiter.send_raw(&common::encode_command(wait));
            // One at a time, so the waiters queue in this order.
            let blocked = format!("blocked_clients:{}", waiters.len() + 1);
            let deadline = Instant::now() + Duration::from_secs(5);
            while !text(conn.cmd(&["INFO", "clients"])).contains(&blocked) {
                assert!(Instant::now() < deadline, "waiters never blocked");
            }
            waiters.push(waiter);
        }
        for cmd in writes {
            conn.cmd(cmd);
        }
        for waiter in &mut waiters {
            waiter.read_reply();
        }
        streams.push(commands_of(&incr(&dir, 1)));
    }
    streams
}

#[test]
fn served_sorted_set_waiters_propagate_as_zpop() {
    let Some(_probe) = require_redis() else { return };
    let waits: [&[&str]; 3] = [
        &["BZPOPMIN", "z", "0"],
        &["BZMPOP", "0", "1", "z", "MAX", "COUNT", "5"],
        &["BZMPOP", "0", "2", "y", "z", "MIN"],
    ];
    let writes: [&[&str]; 2] = [&["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"], &["ZADD", "z", "5", "e"]];
    let streams = served_waiter_streams("zwaiter", &waits, &writes);
    let want = ["SELECT 0", "ZADD z 1 a 2 b 3 c 4 d", "ZPOPMIN z", "ZPOPMAX z 3", "ZADD z 5 e", "ZPOPMIN z 1"];
    assert_eq!(streams[0], want);
    assert_eq!(streams[0], streams[1]);
}

#[test]
fn restore_propagates_an_absolute_ttl_and_a_past_one_as_del() {
    let Some(_probe) = require_redis() else { return };
    let mut streams = Vec::new();
    for kind in [common::ServerKind::Ferrokv, common::ServerKind::Redis] {
        let dir = SharedDir::new("aof", &format!("restore-{kind:?}"));
        let server = start(kind, &dir, &["--appendfsync", "always"]);
        let mut conn = server.conn();
        conn.cmd(&["SET", "src", "hello"]);
        let dump = conn.cmd(&["DUMP", "src"]);
        let start = dump.iter().position(|&b| b == b'\n').expect("a bulk reply") + 1;
        let payload = &dump[start..dump.len() - 2];
        let restores: [&[&[u8]]; 5] = [
            &[b"RESTORE", b"a", b"0", payload],
            &[b"RESTORE", b"b", b"100000", payload, b"IDLETIME", b"5"],
            &[b"RESTORE", b"c", b"99999999999000", payload, b"ABSTTL"],
            &[b"RESTORE", b"a", b"1", payload, b"REPLACE", b"ABSTTL"],
            &[b"RESTORE", b"d", b"1", payload, b"ABSTTL"],
        ];
        for restore in restores {
            assert_eq!(text(conn.cmd(restore)), "+OK\r\n", "{kind:?}");
        }
        // The payload's bytes are the same on both sides; only its place is compared.
        streams.push(
            commands_of(&incr(&dir, 1))
                .into_iter()
                .map(|c| c.replace(&*String::from_utf8_lossy(payload), "<payload>"))
                .collect::<Vec<_>>(),
        );
    }
    let want = [
        "SELECT 0",
        "SET src hello",
        "RESTORE a 0 <payload>",
        "RESTORE b <ms> <payload> IDLETIME 5 ABSTTL",
        "RESTORE c <ms> <payload> ABSTTL",
        "DEL a",
    ];
    assert_eq!(streams[0], want);
    assert_eq!(streams[0], streams[1]);
}

#[test]
fn data_survives_restart_under_each_policy() {
    for policy in ["always", "everysec", "no"] {
        let dir = SharedDir::new("aof", &format!("restart-{policy}"));
        let server = start(common::ServerKind::Ferrokv, &dir, &["--appendfsync", policy]);
        let mut conn = server.conn();
        conn.cmd(&["SET", "k", "v", "EX", "1000"]);
        conn.cmd(&["RPUSH", "l", "a", "b"]);
        conn.cmd(&["SELECT", "5"]);
        conn.cmd(&["HSET", "h", "f", "v"]);
        let digest = text(conn.cmd(&["DEBUG", "DIGEST"]));
        let (status, _) = server.terminate();
        assert!(status.success());
        let server = start(common::ServerKind::Ferrokv, &dir, &["--appendfsync", policy]);
        let mut conn = server.conn();
        assert_eq!(text(conn.cmd(&["DEBUG", "DIGEST"])), digest, "{policy}");
        let ttl: i64 = text(conn.cmd(&["TTL", "k"]))[1..].trim().parse().unwrap();
        assert!((990..=1000).contains(&ttl), "{ttl}");
        assert!(server.log().contains("DB loaded from append only file"));
    }
}

#[test]
fn a_torn_last_command_is_cut_or_refused() {
    let dir = SharedDir::new("aof", "torn");
    let server = start(common::ServerKind::Ferrokv, &dir, &[]);
    server.conn().cmd(&["SET", "whole", "1"]);
    server.terminate();
    let incr = incr(&dir, 1);
    let whole = fs::read(&incr).unwrap();
    let mut torn = whole.clone();
    torn.extend_from_slice(b"*3\r\n$3\r\nSET\r\n$4\r\ntorn\r\n$1");
    fs::write(&incr, &torn).unwrap();
    let refused = Command::new(env!("CARGO_BIN_EXE_ferrokv"))
        .args(["--port", "0", "--http-port", "0", "--dir", dir.path(), "--appendonly", "yes"])
        .args(["--aof-load-truncated", "no"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stdout).contains("Unexpected end of file reading the append only file"));
    let server = start(common::ServerKind::Ferrokv, &dir, &[]);
    assert!(server.log().contains("!!! Truncating the AOF appendonly.aof.1.incr.aof at offset"), "{}", server.log());
    assert_eq!(text(server.conn().cmd(&["GET", "whole"])), "$1\r\n1\r\n");
    assert_eq!(text(server.conn().cmd(&["EXISTS", "torn"])), ":0\r\n");
    server.terminate();
    assert!(fs::read(&incr).unwrap().starts_with(&whole));
    // A transaction without its EXEC is cut whole.
    let mut open_multi = fs::read(&incr).unwrap();
    open_multi.extend_from_slice(b"*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$4\r\nhalf\r\n$1\r\n1\r\n");
    fs::write(&incr, &open_multi).unwrap();
    let server = start(common::ServerKind::Ferrokv, &dir, &[]);
    assert_eq!(text(server.conn().cmd(&["EXISTS", "half"])), ":0\r\n");
    assert!(server.log().contains("Revert incomplete MULTI/EXEC transaction"));
}

#[test]
fn garbage_is_refused_without_a_panic() {
    let dir = SharedDir::new("aof", "garbage");
    start(common::ServerKind::Ferrokv, &dir, &[]).terminate();
    fs::write(incr(&dir, 1), b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nnot a command\r\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ferrokv"))
        .args(["--port", "0", "--http-port", "0", "--dir", dir.path(), "--appendonly", "yes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Bad file format reading the append only file"));
}

#[test]
fn config_set_appendonly_and_bgrewriteaof() {
    let dir = SharedDir::new("aof", "runtime");
    let preamble_off = ["--dir", dir.path(), "--enable-debug-command", "yes", "--aof-use-rdb-preamble", "no"];
    let server = TestServer::ferrokv(&preamble_off);
    let mut conn = server.conn();
    conn.cmd(&["SET", "before", "1"]);
    conn.cmd(&["SADD", "s", "a", "b"]);
    assert_eq!(text(conn.cmd(&["CONFIG", "SET", "appendonly", "yes"])), "+OK\r\n");
    conn.cmd(&["SET", "after", "2"]);
    assert!(text(conn.cmd(&["INFO", "persistence"])).contains("aof_enabled:1"));
    wait_rewrite(&mut conn, 1);
    let base = fs::read_to_string(dir.0.join("appendonlydir/appendonly.aof.1.base.aof")).unwrap();
    assert!(base.contains("before") && base.contains("SADD"), "{base:?}");
    assert_eq!(text(conn.cmd(&["BGREWRITEAOF"])), "+Background append only file rewriting started\r\n");
    conn.cmd(&["SET", "later", "3"]);
    wait_rewrite(&mut conn, 2);
    let manifest = fs::read_to_string(dir.0.join("appendonlydir/appendonly.aof.manifest")).unwrap();
    assert_eq!(manifest, "file appendonly.aof.2.base.aof seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n");
    assert!(!incr(&dir, 1).exists());
    assert_eq!(commands_of(&incr(&dir, 2)), ["SELECT 0", "SET later 3"]);
    let digest = text(conn.cmd(&["DEBUG", "DIGEST"]));
    assert_eq!(text(conn.cmd(&["DEBUG", "LOADAOF"])), "+OK\r\n");
    assert_eq!(text(conn.cmd(&["DEBUG", "DIGEST"])), digest);
    assert_eq!(text(conn.cmd(&["CONFIG", "SET", "appendonly", "no"])), "+OK\r\n");
    conn.cmd(&["SET", "unlogged", "4"]);
    server.terminate();
    let server = start(common::ServerKind::Ferrokv, &dir, &[]);
    let mut conn = server.conn();
    assert_eq!(
        text(conn.cmd(&["MGET", "before", "after", "later", "unlogged"])),
        "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$-1\r\n"
    );
}

#[test]
fn bgrewriteaof_while_off_writes_a_base_debug_loadaof_reads() {
    let dir = SharedDir::new("aof", "off");
    let server = TestServer::ferrokv(&["--dir", dir.path(), "--enable-debug-command", "yes"]);
    let mut conn = server.conn();
    conn.cmd(&["RPUSH", "l", "a", "b"]);
    conn.cmd(&["BGREWRITEAOF"]);
    wait_rewrite(&mut conn, 1);
    let manifest = fs::read_to_string(dir.0.join("appendonlydir/appendonly.aof.manifest")).unwrap();
    assert_eq!(manifest, "file appendonly.aof.1.base.rdb seq 1 type b\n");
    conn.cmd(&["DEL", "l"]);
    assert_eq!(text(conn.cmd(&["DEBUG", "LOADAOF"])), "+OK\r\n");
    assert_eq!(text(conn.cmd(&["LRANGE", "l", "0", "-1"])), "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
    server.terminate();
    // Turned on at the next start, the base is loaded and an incr file is added.
    let server = start(common::ServerKind::Ferrokv, &dir, &[]);
    assert_eq!(text(server.conn().cmd(&["LLEN", "l"])), ":2\r\n");
    let manifest = fs::read_to_string(dir.0.join("appendonlydir/appendonly.aof.manifest")).unwrap();
    assert!(manifest.ends_with("file appendonly.aof.1.incr.aof seq 1 type i\n"), "{manifest}");
}

#[test]
fn a_failing_write_refuses_writes_with_misconf_and_reads_go_on() {
    // The incr file the next rewrite opens is made /dev/full, where every write fails with ENOSPC.
    let dir = SharedDir::new("aof", "full");
    let server = start(common::ServerKind::Ferrokv, &dir, &["--appendfsync", "everysec"]);
    let mut conn = server.conn();
    conn.cmd(&["SET", "k", "v"]);
    std::os::unix::fs::symlink("/dev/full", incr(&dir, 2)).unwrap();
    conn.cmd(&["BGREWRITEAOF"]);
    wait_rewrite(&mut conn, 1);
    conn.cmd(&["SET", "lost", "1"]);
    let misconf = "-MISCONF Errors writing to the AOF file: No space left on device\r\n";
    let deadline = Instant::now() + Duration::from_secs(5);
    while text(conn.cmd(&["SET", "k2", "v2"])) != misconf {
        assert!(Instant::now() < deadline, "writes were never refused");
    }
    assert_eq!(text(conn.cmd(&["GET", "k"])), "$1\r\nv\r\n");
    assert_eq!(text(conn.cmd(&["PING"])), misconf);
    assert!(text(conn.cmd(&["INFO", "persistence"])).contains("aof_last_write_status:err"));
    assert!(server.log().contains("Error writing to the AOF file: No space left on device"));
}

/// Waits until INFO reports `rewrites` finished rewrites and none running.
fn wait_rewrite(conn: &mut common::RespConn, rewrites: u32) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let info = text(conn.cmd(&["INFO", "persistence"]));
        if info.contains(&format!("aof_rewrites:{rewrites}\r\n")) && info.contains("aof_rewrite_in_progress:0") {
            assert!(info.contains("aof_last_bgrewrite_status:ok"), "{info}");
            return;
        }
        assert!(Instant::now() < deadline, "no rewrite: {info}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A seeded random workload over every type, expiries and transactions included.
fn random_workload(conn: &mut common::RespConn, seed: u64, commands: usize) {
    let mut rng = Rng::new(seed);
    for _ in 0..commands {
        let key = format!("k{}", rng.next_u64() % 50);
        let n = (rng.next_u64() % 100).to_string();
        let stream = format!("x{}", rng.next_u64() % 3);
        let argv: Vec<String> = match rng.next_u64() % 23 {
            18 => vec!["XADD".into(), stream, "MAXLEN".into(), "~".into(), "5".into(), "*".into(), "f".into(), n],
            19 => vec!["XGROUP".into(), "CREATE".into(), stream, "g".into(), "0".into(), "MKSTREAM".into()],
            20 => vec![
                "XREADGROUP".into(),
                "GROUP".into(),
                "g".into(),
                n,
                "COUNT".into(),
                "2".into(),
                "STREAMS".into(),
                stream,
                ">".into(),
            ],
            21 => vec![
                "XAUTOCLAIM".into(),
                stream,
                "g".into(),
                "c".into(),
                "0".into(),
                "0".into(),
                "COUNT".into(),
                "1".into(),
            ],
            0 => vec!["SET".into(), key, n, "EX".into(), "1000".into()],
            1 => vec!["INCRBYFLOAT".into(), format!("f{}", rng.next_u64() % 5), "1.1".into()],
            2 => vec!["RPUSH".into(), format!("l{}", rng.next_u64() % 5), n.clone(), n],
            3 => vec!["LPOP".into(), format!("l{}", rng.next_u64() % 5)],
            4 => vec!["SADD".into(), format!("s{}", rng.next_u64() % 5), n],
            5 => vec!["SPOP".into(), format!("s{}", rng.next_u64() % 5)],
            6 => vec!["SPOP".into(), format!("s{}", rng.next_u64() % 5), "2".into()],
            7 => vec!["HSET".into(), format!("h{}", rng.next_u64() % 5), key, n],
            8 => vec!["HINCRBYFLOAT".into(), format!("h{}", rng.next_u64() % 5), "fl".into(), "0.3".into()],
            9 => vec!["EXPIRE".into(), key, format!("1{n}")],
            10 => vec!["GETEX".into(), key, "PX".into(), "100000".into()],
            11 => vec!["DEL".into(), key],
            12 => vec!["SELECT".into(), (rng.next_u64() % 3).to_string()],
            13 => vec!["SET".into(), key, n, "PX".into(), "1".into()],
            14 => vec!["LMOVE".into(), format!("l{}", rng.next_u64() % 5), "l0".into(), "LEFT".into(), "RIGHT".into()],
            15 => vec!["ZADD".into(), format!("z{}", rng.next_u64() % 5), format!("{n}.25"), key],
            16 => vec!["ZINCRBY".into(), format!("z{}", rng.next_u64() % 5), "-1.5".into(), key],
            17 => vec!["ZPOPMIN".into(), format!("z{}", rng.next_u64() % 5)],
            _ => vec!["GETDEL".into(), key],
        };
        conn.cmd(&argv);
    }
}

#[test]
fn replaying_a_random_workload_gives_the_same_dataset() {
    let dir = SharedDir::new("aof", "replay");
    let server = start(common::ServerKind::Ferrokv, &dir, &[]);
    let mut conn = server.conn();
    random_workload(&mut conn, 7, 3000);
    conn.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    let digest = text(conn.cmd(&["DEBUG", "DIGEST"]));
    assert_eq!(text(conn.cmd(&["DEBUG", "LOADAOF"])), "+OK\r\n");
    assert_eq!(text(conn.cmd(&["DEBUG", "DIGEST"])), digest);
    // After a restart, expiry may delete keys whose TTL passed: compare the live keys.
    let values = expire_stale(&mut conn);
    server.terminate();
    let server = start(common::ServerKind::Ferrokv, &dir, &[]);
    assert_eq!(expire_stale(&mut server.conn()), values);
}

/// Deletes every key of `random_workload` whose TTL has passed (EXISTS expires it, and the deletion is
/// propagated), so digests compare live keys only (a rewrite leaves stale keys out, as Redis's does), and
/// returns each live key's DIGEST-VALUE.
fn expire_stale(conn: &mut common::RespConn) -> Vec<String> {
    let mut values = Vec::new();
    for db in 0..3 {
        conn.cmd(&["SELECT", &db.to_string()]);
        let names = (0..50)
            .map(|n| format!("k{n}"))
            .chain("flshzx".chars().flat_map(|t| (0..5).map(move |n| format!("{t}{n}"))));
        for key in names {
            if text(conn.cmd(&["EXISTS", &key])) == ":1\r\n" {
                values.push(format!("{db} {key} {}", text(conn.cmd(&["DEBUG", "DIGEST-VALUE", &key]))));
            }
        }
    }
    values.sort();
    conn.cmd(&["SELECT", "0"]);
    values
}

#[test]
fn appendonlydir_moves_between_redis_and_ferrokv() {
    let Some(_probe) = require_redis() else { return };
    let pairs = [
        (common::ServerKind::Ferrokv, common::ServerKind::Redis),
        (common::ServerKind::Redis, common::ServerKind::Ferrokv),
    ];
    for ((writer, reader), preamble) in pairs.iter().flat_map(|&pair| [(pair, "no"), (pair, "yes")]) {
        let preamble_arg = ["--aof-use-rdb-preamble", preamble];
        let dir = SharedDir::new("aof", &format!("interop-{writer:?}-{preamble}"));
        let server = start(writer, &dir, &preamble_arg);
        let mut conn = server.conn();
        random_workload(&mut conn, 11, 1500);
        conn.cmd(&["BGREWRITEAOF"]);
        random_workload(&mut conn, 12, 500);
        wait_rewrite(&mut conn, 1);
        conn.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
        let values = expire_stale(&mut conn);
        let digest = text(conn.cmd(&["DEBUG", "DIGEST"]));
        server.terminate();
        let check = Command::new("redis-check-aof").arg(dir.0.join("appendonlydir/appendonly.aof.manifest")).output();
        match check {
            Ok(check) => assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout)),
            Err(_) => common::skip("redis-check-aof is not installed"),
        }
        let server = start(reader, &dir, &preamble_arg);
        let mut conn = server.conn();
        conn.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
        assert_eq!(expire_stale(&mut conn), values, "{writer:?} -> {reader:?}, preamble {preamble}");
        assert_eq!(text(conn.cmd(&["DEBUG", "DIGEST"])), digest, "{writer:?} -> {reader:?}, preamble {preamble}");
    }
}

#[test]
fn no_acknowledged_write_is_lost_under_always() {
    crash_rounds("always", Duration::ZERO);
}

#[test]
fn at_most_a_second_is_lost_under_everysec() {
    crash_rounds("everysec", Duration::from_millis(1500));
}

/// Rounds of a MULTI { INCR counter; RPUSH log x } load SIGKILLed at a random moment, then restarted: the
/// counter must hold every transaction acknowledged more than `loss_max` before the kill (plus at most the
/// ones in flight), and the list must have exactly as many elements (a transaction is all or nothing).
/// `AOF_CRASH_ROUNDS` sets the number of rounds (scripts/aof-crash-test runs many).
fn crash_rounds(policy: &str, loss_max: Duration) {
    let dir = SharedDir::new("aof", &format!("crash-{policy}"));
    let rounds: usize = std::env::var("AOF_CRASH_ROUNDS").ok().and_then(|n| n.parse().ok()).unwrap_or(6);
    let mut rng = Rng::new(99);
    let mut acks: Vec<Instant> = Vec::new();
    let mut killed_at = Instant::now();
    for round in 0..rounds {
        let server = start(common::ServerKind::Ferrokv, &dir, &["--appendfsync", policy]);
        let mut conn = server.conn();
        let found: usize = text(conn.cmd(&["GET", "counter"])).lines().nth(1).map_or(0, |n| n.parse().unwrap());
        let safe = acks.iter().filter(|&&at| at + loss_max <= killed_at).count();
        assert!(found >= safe && found <= acks.len() + 1, "round {round}: {found} of {} acknowledged", acks.len());
        let list_len: usize = text(conn.cmd(&["LLEN", "log"]))[1..].trim().parse().unwrap();
        assert_eq!(list_len, found, "the MULTI pairs stay whole");
        acks.truncate(found);
        acks.resize(found, killed_at);
        let pid = server.pid();
        let delay_ms = 20 + rng.next_u64() % 200;
        let killer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(delay_ms));
            let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
            Instant::now()
        });
        loop {
            let mut batch = common::encode_command(&["MULTI"]);
            batch.extend(common::encode_command(&["INCR", "counter"]));
            batch.extend(common::encode_command(&["RPUSH", "log", "x"]));
            batch.extend(common::encode_command(&["EXEC"]));
            // The server may die mid-write: an error ends the round, it is not a failure.
            if std::io::Write::write_all(&mut conn.stream(), &batch).is_err() {
                break;
            }
            let replies: Result<Vec<_>, _> = (0..4).map(|_| conn.try_read_reply()).collect();
            match replies {
                Ok(r) if r[3].starts_with(b"*2") => acks.push(Instant::now()),
                _ => break,
            }
        }
        killed_at = killer.join().unwrap();
        drop(server);
    }
    assert!(!acks.is_empty());
}

/// A stream as a client sees it, consumers' seen times aside (a replayed XCLAIM sees its consumer now):
/// XINFO GROUPS and XINFO STREAM FULL up to its first consumers list.
fn stream_picture(conn: &mut common::RespConn, key: &str) -> (String, String) {
    let full = text(conn.cmd(&["XINFO", "STREAM", key, "FULL", "COUNT", "0"]));
    let cut = full.find("consumers").unwrap_or(full.len());
    (text(conn.cmd(&["XINFO", "GROUPS", key])), full[..cut].to_string())
}

#[test]
fn a_rewrite_rebuilds_streams_with_groups_and_pending_entries() {
    let dir = SharedDir::new("aof", "streams");
    let server = start(common::ServerKind::Ferrokv, &dir, &["--aof-use-rdb-preamble", "no"]);
    let mut conn = server.conn();
    for i in 1..=30 {
        conn.cmd(&["XADD", "s", &format!("{i}-1"), "f", &i.to_string()]);
    }
    conn.cmd(&["XDEL", "s", "4-1", "30-1"]);
    conn.cmd(&["XGROUP", "CREATE", "s", "g", "0", "ENTRIESREAD", "0"]);
    conn.cmd(&["XREADGROUP", "GROUP", "g", "alice", "COUNT", "3", "STREAMS", "s", ">"]);
    conn.cmd(&["XREADGROUP", "GROUP", "g", "bob", "COUNT", "2", "STREAMS", "s", ">"]);
    conn.cmd(&["XGROUP", "CREATECONSUMER", "s", "g", "idle"]);
    conn.cmd(&["XGROUP", "CREATE", "s", "h", "$"]);
    conn.cmd(&["XADD", "empty", "7-7", "a", "b"]);
    conn.cmd(&["XDEL", "empty", "7-7"]);
    let (digest, before, empty) =
        (text(conn.cmd(&["DEBUG", "DIGEST"])), stream_picture(&mut conn, "s"), stream_picture(&mut conn, "empty"));
    conn.cmd(&["BGREWRITEAOF"]);
    wait_rewrite(&mut conn, 1);
    let base = fs::read_to_string(dir.0.join("appendonlydir/appendonly.aof.2.base.aof")).unwrap();
    assert!(base.contains("XCLAIM") && base.contains("CREATECONSUMER"), "{base:?}");
    assert_eq!(text(conn.cmd(&["DEBUG", "LOADAOF"])), "+OK\r\n");
    assert_eq!(text(conn.cmd(&["DEBUG", "DIGEST"])), digest);
    assert_eq!(stream_picture(&mut conn, "s"), before);
    assert_eq!(stream_picture(&mut conn, "empty"), empty);
    let consumers = text(conn.cmd(&["XINFO", "CONSUMERS", "s", "g"]));
    assert!(consumers.contains("alice") && consumers.contains("bob") && consumers.contains("idle"), "{consumers}");
}

/// The files of an AOF directory, sorted, with the rewrite child's pid taken out of its temp file's name.
fn aof_files(dir: &SharedDir) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir.0.join("appendonlydir"))
        .map(|entries| entries.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn config_set_appendonly_yes_writes_the_first_base_in_a_child_as_redis_does() {
    let Some(_probe) = require_redis() else { return };
    let mut seen = Vec::new();
    for kind in [common::ServerKind::Ferrokv, common::ServerKind::Redis] {
        let dir = SharedDir::new("aof", &format!("start-{kind:?}"));
        let server = start(kind, &dir, &["--appendonly", "no", "--aof-use-rdb-preamble", "no"]);
        let mut conn = server.conn();
        let mut saw = Vec::new();
        for i in 0..20 {
            conn.cmd(&["SET", &format!("k{i}"), "v"]);
        }
        // 20 keys at 50 ms each: the child takes a second, long enough to look at what happens meanwhile.
        conn.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "50000"]);
        saw.push(text(conn.cmd(&["CONFIG", "SET", "appendonly", "yes"])));
        saw.push(text(conn.cmd(&["SET", "during", "1"])));
        let info = text(conn.cmd(&["INFO", "persistence"]));
        saw.extend(["aof_enabled:1", "aof_rewrite_in_progress:1"].map(|line| info.contains(line).to_string()));
        saw.push(aof_files(&dir).join(" "));
        saw.push(text(conn.cmd(&["SHUTDOWN"])));
        saw.push(server.log().contains("Writing initial AOF, can't exit.").to_string());
        wait_rewrite(&mut conn, 1);
        saw.push(aof_files(&dir).join(" "));
        saw.push(fs::read_to_string(dir.0.join("appendonlydir/appendonly.aof.manifest")).unwrap());
        saw.push(commands_of(&dir.0.join("appendonlydir/appendonly.aof.1.incr.aof")).join(";"));
        conn.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "0"]);
        // Off and on again: the second start's files are the next generation, the first ones deleted.
        saw.push(text(conn.cmd(&["CONFIG", "SET", "appendonly", "no"])));
        saw.push(text(conn.cmd(&["CONFIG", "SET", "appendonly", "yes"])));
        wait_rewrite(&mut conn, 2);
        saw.push(aof_files(&dir).join(" "));
        drop(conn);
        server.terminate();
        let server = start(kind, &dir, &[]);
        saw.push(text(server.conn().cmd(&["MGET", "k0", "k19", "during"])));
        seen.push(saw);
    }
    assert_eq!(seen[0], seen[1], "ferrokv, then redis-server");
}
