//! MIGRATE between ferrokv and a real redis-server 7.0, both ways: every type and encoding arrives with its
//! contents (DEBUG DIGEST-VALUE, which ferrokv computes byte-identically) and its TTL, and every reply of a
//! scripted session (COPY, REPLACE, KEYS, AUTH and AUTH2 against a target with requirepass, NOKEY, BUSYKEY, a
//! db out of range, the syntax errors, a refused connection, a target that accepts and never answers) is
//! byte for byte what redis-server answers as the source, whichever server is the target. The cached
//! connection is checked on the wire (SELECT only when the db changes, seen by MONITOR on the target) and in
//! INFO (closed after MIGRATE_SOCKET_CACHE_TTL, 10 s of idleness).

mod common;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::{RespConn, ServerKind, TestServer, escape, pipeline, redis_server_available, skip};

const DEBUG: &[&str] = &["--enable-debug-command", "yes"];

fn start(kind: ServerKind, extra_args: &[&str]) -> TestServer {
    let args: Vec<&str> = DEBUG.iter().chain(extra_args).copied().collect();
    match kind {
        ServerKind::Ferrokv => TestServer::ferrokv(&args),
        ServerKind::Redis => TestServer::redis(&args),
    }
}

fn have_redis() -> bool {
    if redis_server_available() {
        return true;
    }
    skip("redis-server is not installed (apt-get install -y redis-server)");
    false
}

fn words(argv: &[&str]) -> Vec<String> {
    argv.iter().map(|word| word.to_string()).collect()
}

/// Keys of every type, in each encoding a server keeps them in, some with TTLs; returns the key names.
fn fill(conn: &mut RespConn) -> Vec<String> {
    let mut requests = vec![
        words(&["SET", "s:int", "12345"]),
        words(&["SET", "s:short", "hello"]),
        vec!["SET".into(), "s:raw".into(), "r".repeat(100)],
        vec!["SET".into(), "s:big".into(), "b".repeat(1 << 20)],
        words(&["PFADD", "hll", "a", "b", "c"]),
        words(&["RPUSH", "l:small", "a", "b", "1", "2"]),
        words(&["HSET", "h:small", "f1", "v1", "f2", "2"]),
        words(&["SADD", "set:int", "1", "2", "3"]),
        words(&["SADD", "set:str", "a", "b", "c"]),
        words(&["ZADD", "z:small", "1", "a", "2.5", "b"]),
        words(&["XADD", "x", "1-1", "f", "v"]),
        words(&["XADD", "x", "2-1", "f", "v", "g", "w"]),
        words(&["XGROUP", "CREATE", "x", "grp", "0"]),
        words(&["XREADGROUP", "GROUP", "grp", "alice", "COUNT", "1", "STREAMS", "x", ">"]),
        words(&["PEXPIRE", "s:raw", "100000"]),
        words(&["PEXPIRE", "l:small", "200000"]),
        words(&["PEXPIRE", "x", "300000"]),
    ];
    for i in 0..300 {
        let (n, member) = (i.to_string(), format!("member:{i}"));
        requests.push(vec!["RPUSH".into(), "l:big".into(), member.clone()]);
        requests.push(vec!["HSET".into(), "h:big".into(), member.clone(), n.clone()]);
        requests.push(vec!["SADD".into(), "set:big".into(), member.clone()]);
        requests.push(vec!["ZADD".into(), "z:big".into(), format!("{i}.5"), member]);
    }
    requests.push(words(&["PEXPIRE", "z:big", "400000"]));
    pipeline(conn, &requests);
    let keys = "s:int s:short s:raw s:big hll l:small h:small set:int set:str z:small x l:big h:big set:big z:big";
    keys.split(' ').map(String::from).collect()
}

fn digest(conn: &mut RespConn, key: &str) -> Vec<u8> {
    conn.cmd(&["DEBUG", "DIGEST-VALUE", key])
}

fn pttl(conn: &mut RespConn, key: &str) -> i64 {
    let reply = String::from_utf8(conn.cmd(&["PTTL", key])).unwrap();
    reply.trim_start_matches(':').trim_end().parse().unwrap()
}

/// Fills `source`, migrates everything to `target` db 5 in one MIGRATE, and checks what arrived.
fn migrate_everything(source: &TestServer, target: &TestServer) {
    let (mut from, mut to) = (source.conn(), target.conn());
    let keys = fill(&mut from);
    let before: Vec<(Vec<u8>, i64)> = keys.iter().map(|key| (digest(&mut from, key), pttl(&mut from, key))).collect();
    let port = target.port.to_string();
    let mut argv = words(&["MIGRATE", "127.0.0.1", &port, "", "5", "10000", "KEYS"]);
    argv.extend(keys.iter().cloned());
    assert_eq!(escape(&from.cmd(&argv)), escape(b"+OK\r\n"), "{:?} to {:?}", source.kind, target.kind);
    assert_eq!(from.cmd(&["DBSIZE"]), b":0\r\n", "every key left the source");
    assert_eq!(to.cmd(&["SELECT", "5"]), b"+OK\r\n");
    for (key, (digest_before, pttl_before)) in keys.iter().zip(before) {
        assert_eq!(escape(&digest(&mut to, key)), escape(&digest_before), "{key} from {:?}", source.kind);
        let pttl_after = pttl(&mut to, key);
        if pttl_before < 0 {
            assert_eq!(pttl_after, -1, "{key}");
        } else {
            assert!(
                pttl_after <= pttl_before + 50 && pttl_after > pttl_before - 5000,
                "{key}: {pttl_before} {pttl_after}"
            );
        }
    }
}

#[test]
fn every_type_moves_from_ferrokv_to_redis_with_its_ttl() {
    if !have_redis() {
        return;
    }
    migrate_everything(&start(ServerKind::Ferrokv, &[]), &start(ServerKind::Redis, &[]));
}

#[test]
fn every_type_moves_from_redis_to_ferrokv_with_its_ttl() {
    if !have_redis() {
        return;
    }
    migrate_everything(&start(ServerKind::Redis, &[]), &start(ServerKind::Ferrokv, &[]));
}

#[test]
fn every_type_moves_from_ferrokv_to_ferrokv() {
    migrate_everything(&start(ServerKind::Ferrokv, &[]), &start(ServerKind::Ferrokv, &[]));
}

/// Redis's own "MIGRATE can correctly transfer large values": a list of 800,000 elements, a payload of
/// megabytes written in many 64 KiB chunks, arrives whole (its length, its TTL and samples of its elements).
fn migrate_large_list(source: &TestServer, target: &TestServer) {
    let (mut from, mut to) = (source.conn(), target.conn());
    // The same elements as Redis's test (ten numbers, then ten "item N", 40,000 times), fewer commands.
    let elements: Vec<String> = (1..=10).map(|n| n.to_string()).chain((1..=10).map(|n| format!("item {n}"))).collect();
    let batch: Vec<Vec<String>> = (0..800)
        .map(|_| {
            ["RPUSH", "key"].into_iter().map(String::from).chain(elements.iter().cycle().take(1000).cloned()).collect()
        })
        .collect();
    for chunk in batch.chunks(100) {
        pipeline(&mut from, chunk);
    }
    // Samples rather than DEBUG DIGEST-VALUE, which takes seconds over 800,000 elements in a debug build; the
    // payload's CRC-64 already vouches for the rest.
    let samples: &[&[&str]] =
        &[&["LRANGE", "key", "0", "99"], &["LRANGE", "key", "399950", "400049"], &["LRANGE", "key", "-100", "-1"]];
    let before: Vec<Vec<u8>> = samples.iter().map(|argv| from.cmd(argv)).collect();
    let reply = from.cmd(&["MIGRATE", "127.0.0.1", &target.port.to_string(), "key", "9", "10000"]);
    assert_eq!(escape(&reply), escape(b"+OK\r\n"), "{:?} to {:?}", source.kind, target.kind);
    assert_eq!(from.cmd(&["EXISTS", "key"]), b":0\r\n");
    assert_eq!(to.cmd(&["SELECT", "9"]), b"+OK\r\n");
    assert_eq!(to.cmd(&["LLEN", "key"]), b":800000\r\n");
    assert_eq!(to.cmd(&["TTL", "key"]), b":-1\r\n");
    for (argv, before) in samples.iter().zip(before) {
        assert_eq!(escape(&to.cmd(argv)), escape(&before), "{argv:?}");
    }
}

#[test]
fn a_large_list_moves_between_ferrokv_and_redis_both_ways() {
    if !have_redis() {
        return;
    }
    migrate_large_list(&start(ServerKind::Ferrokv, &[]), &start(ServerKind::Redis, &[]));
    migrate_large_list(&start(ServerKind::Redis, &[]), &start(ServerKind::Ferrokv, &[]));
}

/// A port that accepts connections (the kernel completes them) and never answers.
fn silent_listener() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").unwrap()
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// One scripted session with `source_kind` as the source and `target_kind` as the targets (one plain, one
/// with requirepass): every reply, then the keys left on each side.
fn session(source_kind: ServerKind, target_kind: ServerKind) -> Vec<String> {
    let source = start(source_kind, &[]);
    let target = start(target_kind, &[]);
    let locked = start(target_kind, &["--requirepass", "sesame"]);
    let silent = silent_listener();
    let (port, locked_port) = (target.port.to_string(), locked.port.to_string());
    let silent_port = silent.local_addr().unwrap().port().to_string();
    let refused_port = closed_port().to_string();
    let (mut from, mut to) = (source.conn(), target.conn());
    let mut seen = Vec::new();
    let mut run = |conn: &mut RespConn, argv: &[&str]| {
        let reply = conn.cmd(argv);
        seen.push(format!("{} -> {}", argv.join(" "), escape(&reply)));
    };
    run(&mut from, &["MSET", "k", "v", "l", "1", "a", "1", "b", "2", "c", "3", "d", "4"]);
    run(&mut from, &["RPUSH", "list", "x", "y"]);
    run(&mut to, &["SET", "k", "there"]);
    let p = port.as_str();
    let steps: &[&[&str]] = &[
        &["MIGRATE", "127.0.0.1", p, "nokey", "0", "1000"],
        &["MIGRATE", "127.0.0.1", p, "", "0", "1000", "KEYS", "no1", "no2"],
        &["MIGRATE", "127.0.0.1", p, "", "0", "1000", "KEYS"],
        &["MIGRATE", "127.0.0.1", p, "k", "0", "1000"],
        &["MIGRATE", "127.0.0.1", p, "k", "0", "1000", "COPY"],
        &["MIGRATE", "127.0.0.1", p, "k", "0", "1000", "COPY", "REPLACE"],
        &["MIGRATE", "127.0.0.1", p, "list", "0", "1000", "copy"],
        &["MIGRATE", "127.0.0.1", p, "list", "1", "1000"],
        &["MIGRATE", "127.0.0.1", p, "l", "99", "1000"],
        &["MIGRATE", "127.0.0.1", p, "", "0", "1000", "REPLACE", "KEYS", "a", "nokey", "b"],
        &["MIGRATE", "127.0.0.1", p, "k", "0", "1000", "REPLACE"],
        &["MIGRATE", "127.0.0.1", p, "k", "0", "1000", "BOGUS"],
        &["MIGRATE", "127.0.0.1", p, "c", "0", "1000", "AUTH"],
        &["MIGRATE", "127.0.0.1", p, "c", "0", "1000", "AUTH2", "user"],
        &["MIGRATE", "127.0.0.1", p, "c", "0", "1000", "KEYS", "c"],
        &["MIGRATE", "127.0.0.1", p, "c", "zero", "1000"],
        &["MIGRATE", "127.0.0.1", p, "c", "0", "soon"],
        &["MIGRATE", "127.0.0.1", p, "c", "0"],
    ];
    for argv in steps {
        run(&mut from, argv);
    }
    let lp = locked_port.as_str();
    run(&mut from, &["MIGRATE", "127.0.0.1", lp, "c", "0", "1000"]);
    run(&mut from, &["MIGRATE", "127.0.0.1", lp, "c", "0", "1000", "AUTH", "wrong"]);
    run(&mut from, &["MIGRATE", "127.0.0.1", lp, "c", "0", "1000", "AUTH2", "default", "wrong"]);
    run(&mut from, &["MIGRATE", "127.0.0.1", lp, "c", "0", "1000", "AUTH", "sesame"]);
    run(&mut from, &["MIGRATE", "127.0.0.1", lp, "d", "2", "1000", "AUTH2", "default", "sesame", "COPY"]);
    // A refused connection is only noticed when written to, in Redis 7.0; a name that does not resolve is not
    // connected at all.
    run(&mut from, &["MIGRATE", "127.0.0.1", &refused_port, "d", "0", "1000"]);
    run(&mut from, &["MIGRATE", "", &refused_port, "d", "0", "1000"]);
    // The port is atoi'd and given to getaddrinfo, which refuses a negative one and makes 0 of "abc".
    run(&mut from, &["MIGRATE", "127.0.0.1", "-1", "d", "0", "1000"]);
    run(&mut from, &["MIGRATE", "127.0.0.1", "abc", "d", "0", "1000"]);
    let started = Instant::now();
    run(&mut from, &["MIGRATE", "127.0.0.1", &silent_port, "d", "0", "300"]);
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(300) && took < Duration::from_secs(5), "{source_kind:?}: {took:?}");
    run(&mut from, &["MGET", "k", "a", "b", "c", "d", "l"]);
    run(&mut from, &["EXISTS", "list"]);
    run(&mut from, &["INFO", "errorstats"]);
    for db in ["0", "1", "2"] {
        run(&mut to, &["SELECT", db]);
        run(&mut to, &["MGET", "k", "list", "a", "b", "c", "d", "l"]);
    }
    let mut locked_conn = locked.conn();
    run(&mut locked_conn, &["AUTH", "sesame"]);
    for db in ["0", "2"] {
        run(&mut locked_conn, &["SELECT", db]);
        run(&mut locked_conn, &["MGET", "c", "d"]);
    }
    // MIGRATE looks its keys up as reads (hits and misses), as lookupKeyRead counts them.
    let stats = String::from_utf8(from.cmd(&["INFO", "stats"])).unwrap();
    seen.extend(stats.lines().filter(|line| line.starts_with("keyspace_")).map(String::from));
    // The ports differ from run to run; the servers they name do not.
    let names = [(port, "<target>"), (locked_port, "<locked>"), (silent_port, "<silent>"), (refused_port, "<refused>")];
    seen.into_iter()
        .map(|line| {
            names.iter().fold(line, |line, (port, name)| line.replace(&format!(" {port} "), &format!(" {name} ")))
        })
        .collect()
}

#[test]
fn replies_match_redis_as_the_source_whatever_the_target() {
    if !have_redis() {
        return;
    }
    let want = session(ServerKind::Redis, ServerKind::Redis);
    assert!(want.iter().any(|line| line.contains("BUSYKEY")), "{want:#?}");
    for expected in
        ["WRONGPASS", "NOAUTH", "DB index is out of range", "IOERR error or timeout reading", "connecting", "+NOKEY"]
    {
        assert!(want.iter().any(|line| line.contains(expected)), "no {expected} in {want:#?}");
    }
    for (source, target) in [
        (ServerKind::Ferrokv, ServerKind::Redis),
        (ServerKind::Redis, ServerKind::Ferrokv),
        (ServerKind::Ferrokv, ServerKind::Ferrokv),
    ] {
        let got = session(source, target);
        for (got, want) in got.iter().zip(&want) {
            assert_eq!(got, want, "{source:?} to {target:?}");
        }
        assert_eq!(got.len(), want.len());
    }
}

/// The commands the target received, by name, as MONITOR on the target shows them.
fn commands_seen_by_target(source_kind: ServerKind, target_kind: ServerKind) -> Vec<String> {
    let source = start(source_kind, &[]);
    let target = start(target_kind, &["--requirepass", "pw"]);
    let mut monitor = target.conn();
    assert_eq!(monitor.cmd(&["AUTH", "pw"]), b"+OK\r\n");
    assert_eq!(monitor.cmd(&["MONITOR"]), b"+OK\r\n");
    let mut from = source.conn();
    let port = target.port.to_string();
    pipeline(&mut from, &[words(&["MSET", "a", "1", "b", "2", "c", "3", "d", "4"])]);
    for (key, db) in [("a", "0"), ("b", "0"), ("c", "3"), ("d", "3")] {
        let reply = from.cmd(&["MIGRATE", "127.0.0.1", &port, key, db, "1000", "AUTH", "pw"]);
        assert_eq!(reply, b"+OK\r\n", "{}", escape(&reply));
    }
    let info = String::from_utf8(from.cmd(&["INFO", "stats"])).unwrap();
    assert!(info.contains("migrate_cached_sockets:1\r\n"), "{info}");
    let mut names = Vec::new();
    while names.len() < 10 {
        let line = String::from_utf8_lossy(&monitor.read_reply()).into_owned();
        let args = line.split_once(']').expect("a monitor line").1;
        let shown: Vec<&str> = args.split(' ').filter(|word| !word.is_empty()).take(2).collect();
        // The password is redacted; the key name is kept, the TTL and payload are not compared.
        names.push(shown.join(" "));
    }
    names
}

#[test]
fn the_cached_connection_sends_auth_every_time_and_select_only_when_the_db_changes() {
    if !have_redis() {
        return;
    }
    let want = commands_seen_by_target(ServerKind::Redis, ServerKind::Redis);
    assert_eq!(want.iter().filter(|name| name.starts_with("\"SELECT\"")).count(), 2, "{want:?}");
    assert_eq!(commands_seen_by_target(ServerKind::Ferrokv, ServerKind::Redis), want);
    assert_eq!(commands_seen_by_target(ServerKind::Redis, ServerKind::Ferrokv), want);
}

#[test]
fn an_idle_cached_connection_is_closed_after_ten_seconds() {
    let (source, target) = (start(ServerKind::Ferrokv, &[]), start(ServerKind::Ferrokv, &[]));
    let mut from = source.conn();
    assert_eq!(from.cmd(&["SET", "k", "v"]), b"+OK\r\n");
    let info = |conn: &mut RespConn| String::from_utf8(conn.cmd(&["INFO", "stats"])).unwrap();
    assert!(info(&mut from).contains("migrate_cached_sockets:0\r\n"));
    let used = Instant::now();
    assert_eq!(from.cmd(&["MIGRATE", "127.0.0.1", &target.port.to_string(), "k", "0", "1000"]), b"+OK\r\n");
    assert!(info(&mut from).contains("migrate_cached_sockets:1\r\n"));
    let target_clients = || {
        let listed = String::from_utf8(target.conn().cmd(&["CLIENT", "LIST"])).unwrap();
        listed.lines().filter(|line| line.starts_with("id=")).count()
    };
    assert_eq!(target_clients(), 2, "the cached connection and this one");
    while info(&mut from).contains("migrate_cached_sockets:1\r\n") {
        assert!(used.elapsed() < Duration::from_secs(14), "still cached after 14 s");
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(used.elapsed() >= Duration::from_secs(10), "closed after {:?}", used.elapsed());
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(target_clients(), 1, "the target saw the connection close");
}

/// COMMAND GETKEYS and GETKEYSANDFLAGS for MIGRATE's forms, compared with redis-server.
#[test]
fn getkeys_matches_redis() {
    if !have_redis() {
        return;
    }
    let forms: &[&[&str]] = &[
        &["MIGRATE", "h", "6379", "key", "0", "5000"],
        &["MIGRATE", "h", "6379", "", "0", "5000", "KEYS", "k1", "k2"],
        &["MIGRATE", "h", "6379", "", "0", "5000", "COPY", "REPLACE", "KEYS", "k1"],
        &["MIGRATE", "h", "6379", "", "0", "5000", "AUTH", "keys", "KEYS", "k1", "k2"],
        &["MIGRATE", "h", "6379", "", "0", "5000", "AUTH2", "keys", "keys", "KEYS", "k1"],
        &["MIGRATE", "h", "6379", "key", "0", "5000", "KEYS", "k1"],
        &["MIGRATE", "h", "6379", "", "0", "5000", "KEYS"],
        &["MIGRATE", "h", "6379", "key", "0"],
    ];
    let answers = |server: &TestServer| {
        let mut conn = server.conn();
        let mut out = Vec::new();
        for form in forms {
            for sub in ["GETKEYS", "GETKEYSANDFLAGS"] {
                let argv: Vec<&str> = ["COMMAND", sub].into_iter().chain(form.iter().copied()).collect();
                out.push(format!("{} -> {}", argv.join(" "), escape(&conn.cmd(&argv))));
            }
        }
        out
    };
    let want = answers(&start(ServerKind::Redis, &[]));
    assert_eq!(answers(&start(ServerKind::Ferrokv, &[])), want);
}

/// The slow log keeps MIGRATE's passwords out as Redis does (up to where its option parser got).
#[test]
fn slowlog_redacts_migrate_passwords_as_redis() {
    if !have_redis() {
        return;
    }
    let entries = |server: &TestServer| {
        let mut conn = server.conn();
        conn.cmd(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
        conn.cmd(&["SLOWLOG", "RESET"]);
        let port = closed_port().to_string();
        for tail in [&["AUTH", "pw"][..], &["AUTH2", "user", "pw", "COPY"], &["BAD", "AUTH", "pw"], &["AUTH"]] {
            let argv: Vec<&str> =
                ["MIGRATE", "127.0.0.1", &port, "nokey", "9", "500"].into_iter().chain(tail.iter().copied()).collect();
            conn.cmd(&argv);
        }
        conn.cmd(&["CONFIG", "SET", "slowlog-log-slower-than", "-1"]);
        let log = String::from_utf8_lossy(&conn.cmd(&["SLOWLOG", "GET", "-1"])).into_owned();
        // Keep the argument lists only: ids, times, durations and peers differ.
        log.split("\r\n")
            .filter(|line| !line.starts_with(':') && !line.contains("127.0.0.1:"))
            .collect::<Vec<_>>()
            .join("|")
            .replace(&port, "<port>")
    };
    let want = entries(&start(ServerKind::Redis, &[]));
    assert!(want.contains("(redacted)"), "{want}");
    assert_eq!(entries(&start(ServerKind::Ferrokv, &[])), want);
}
