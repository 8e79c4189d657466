//! The configuration against the real redis-server 7.0.15: `CONFIG GET *`, CONFIG SET round trips and
//! their errors byte for byte, Debian's stock redis.conf, and the directives that act on the process
//! (`tcp-backlog`, `daemonize`, `pidfile`, a busy port) or must say they do not.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{RespConn, ServerKind, TestServer, assert_reply, encode_command, escape, require_redis, split_aggregate};
use std::io::{Read, Write};

/// Debian's /etc/redis/redis.conf of redis-server 7.0.15, unchanged.
const DEBIAN_CONF: &str = "tests/data/debian-redis.conf";

/// How long a detached daemon or a failing server may take to do what a test waits for.
const WAIT_MS: u64 = 10_000;

/// The text of a bulk string reply.
fn bulk_text(reply: &[u8]) -> String {
    let body = reply.splitn(2, |&b| b == b'\n').nth(1).unwrap_or_default();
    String::from_utf8_lossy(body.strip_suffix(b"\r\n").unwrap_or(body)).into_owned()
}

/// CONFIG GET `pattern` as a name → value map.
fn config_map(conn: &mut RespConn, pattern: &str) -> BTreeMap<String, String> {
    let reply = conn.cmd(&["CONFIG", "GET", pattern]);
    let (_, items) = split_aggregate(&reply).unwrap_or_else(|| panic!("not an array: {}", escape(&reply)));
    items.chunks(2).map(|pair| (bulk_text(pair[0]), bulk_text(pair[1]))).collect()
}

/// The two maps, less `skip`, are equal; a mismatch lists every differing name.
fn assert_same_config(ours: &BTreeMap<String, String>, redis: &BTreeMap<String, String>, skip: &[&str]) {
    let names: std::collections::BTreeSet<&String> = ours.keys().chain(redis.keys()).collect();
    let differences: Vec<String> = names
        .into_iter()
        .filter(|name| !skip.contains(&name.as_str()) && ours.get(*name) != redis.get(*name))
        .map(|name| format!("{name}: ferrokv {:?}, redis {:?}", ours.get(name), redis.get(name)))
        .collect();
    assert!(differences.is_empty(), "CONFIG GET differs:\n{}", differences.join("\n"));
}

/// Names that differ between two servers started the same way: each has its own port and temp dir; the
/// `http-*` directives are ferrokv's own.
const PER_SERVER: &[&str] =
    &["port", "dir", "http-port", "http-max-body", "http-idle-timeout", "http-allow-origins", "http-allow-hosts"];

#[test]
fn config_get_star_is_redis_s() {
    let Some(redis) = require_redis() else { return };
    let ferrokv = TestServer::ferrokv(&[]);
    let ours = config_map(&mut ferrokv.conn(), "*");
    let theirs = config_map(&mut redis.conn(), "*");
    assert_eq!(theirs.len(), 192);
    assert_same_config(&ours, &theirs, PER_SERVER);
    assert_eq!(config_map(&mut ferrokv.conn(), "maxmemory*").len(), 5);
    // Hidden directives answer only to their exact name, in both.
    for conn in [&mut ferrokv.conn(), &mut redis.conn()] {
        assert_eq!(
            conn.cmd(&["CONFIG", "GET", "rdb-key-save-delay"]),
            b"*2\r\n$18\r\nrdb-key-save-delay\r\n$1\r\n0\r\n"
        );
    }
}

/// CONFIG SET pairs (one command each, in order) whose replies and resulting CONFIG GET must be Redis's.
const SET_CASES: &[(&str, &str)] = &[
    ("maxmemory-clients", "10%"),
    ("maxmemory-clients", "101%"),
    ("maxmemory-clients", "18446744073709551615"),
    ("maxmemory-clients", "-5"),
    ("maxmemory-clients", "1mb"),
    ("maxmemory", "18446744073709551615gb"),
    ("maxmemory", "-1"),
    ("maxmemory", "0"),
    ("unixsocketperm", "700"),
    ("client-output-buffer-limit", "replica 1kb 2mb 4294967297"),
    ("client-output-buffer-limit", "master 1 1 1"),
    ("client-output-buffer-limit", "normal 1 1"),
    ("client-output-buffer-limit", "normal 0 0 -1"),
    ("client-output-buffer-limit", "pubsub 32mb 8mb 60 normal 0 0 0"),
    ("latency-tracking-info-percentiles", "50 99.99999999 1e1"),
    ("latency-tracking-info-percentiles", "101"),
    ("latency-tracking-info-percentiles", "abc"),
    ("latency-tracking-info-percentiles", ""),
    ("latency-tracking-info-percentiles", "50 99 99.9"),
    ("oom-score-adj-values", "0 200 3000"),
    ("oom-score-adj-values", "0 200"),
    ("oom-score-adj-values", "0 100 900"),
    ("oom-score-adj", "relative"),
    ("oom-score-adj", "maybe"),
    ("oom-score-adj", "no"),
    ("shutdown-on-sigint", "nosave now"),
    ("shutdown-on-sigint", "now force save"),
    ("shutdown-on-sigint", "save nosave"),
    ("shutdown-on-sigint", ""),
    ("shutdown-on-sigterm", "default now"),
    ("shutdown-on-sigterm", "default"),
    ("proc-title-template", "{title}"),
    ("proc-title-template", "{foo} x"),
    ("proc-title-template", "x {port} {{ }"),
    ("proc-title-template", "{title} {listen-addr} {server-mode}"),
    ("cluster-announce-hostname", "a_b"),
    ("cluster-announce-hostname", "node-1.example"),
    ("replicaof", "no one"),
    ("slaveof", "127.0.0.1 1"),
    ("io-threads", "2"),
    ("cluster-enabled", "yes"),
    ("tcp-backlog", "100"),
    ("daemonize", "yes"),
    ("activedefrag", "yes"),
    ("activedefrag", "no"),
    ("slave-read-only", "no"),
    ("replica-read-only", "maybe"),
    ("lua-time-limit", "100"),
    ("busy-reply-threshold", "-1"),
    ("list-compress-depth", "2"),
    ("stream-node-max-entries", "1k"),
    ("stream-node-max-bytes", "1k"),
    ("hz", "1000"),
    ("hz", "0"),
    ("appendfsync", "ALWAYS"),
    ("repl-diskless-load", "swapdb"),
    ("repl-backlog-size", "0"),
    ("hash-max-ziplist-entries", "1"),
    ("latency-tracking", "no"),
    ("set-max-listpack-entries", "1"),
    ("notify-keyspace-events", "KEA"),
    ("notify-keyspace-events", ""),
    ("tracking-table-max-keys", "-1"),
    ("save", "100 x"),
    ("save", "100 10 200"),
    ("save", ""),
];

/// A value no directive takes as it is; strings take it, which the comparison checks too.
const GARBAGE: &str = "garbage-value!";

/// Directives whose CONFIG SET acts on the process in redis-server (rebinding, AUTH for every later
/// command, moving its working directory), so the sweep leaves them out.
const SWEEP_SKIPS: &[&str] = &[
    "port",
    "bind",
    "requirepass",
    "dir",
    "http-port",
    "http-max-body",
    "http-idle-timeout",
    "http-allow-origins",
    "http-allow-hosts",
];

#[test]
fn config_set_replies_and_results_are_redis_s() {
    let Some(redis) = require_redis() else { return };
    let ferrokv = TestServer::ferrokv(&[]);
    let (mut ours, mut theirs) = (ferrokv.conn(), redis.conn());
    for (name, value) in SET_CASES {
        let set = ["CONFIG", "SET", name, value];
        assert_eq!(escape(&ours.cmd(&set)), escape(&theirs.cmd(&set)), "CONFIG SET {name} {value:?}");
        let get = ["CONFIG", "GET", name];
        assert_eq!(escape(&ours.cmd(&get)), escape(&theirs.cmd(&get)), "after CONFIG SET {name} {value:?}");
    }
    // Every directive, with a value most refuse: the same error text, or the same accepted value.
    let names: Vec<String> = config_map(&mut theirs, "*").into_keys().collect();
    for name in names.iter().filter(|n| !SWEEP_SKIPS.contains(&n.as_str())) {
        let set = ["CONFIG", "SET", name, GARBAGE];
        assert_eq!(escape(&ours.cmd(&set)), escape(&theirs.cmd(&set)), "CONFIG SET {name} {GARBAGE}");
    }
    assert_same_config(&config_map(&mut ours, "*"), &config_map(&mut theirs, "*"), PER_SERVER);
    let both = ["CONFIG", "SET", "maxmemory", "1", "maxmemory", "2"];
    assert_eq!(escape(&ours.cmd(&both)), escape(&theirs.cmd(&both)));
    let alias_and_name = ["CONFIG", "SET", "slave-priority", "1", "replica-priority", "2"];
    assert_eq!(escape(&ours.cmd(&alias_and_name)), escape(&theirs.cmd(&alias_and_name)));
}

/// A copy of Debian's redis.conf in a fresh temp dir, which the returned guard removes.
struct ConfCopy(PathBuf);

impl ConfCopy {
    fn new(tag: &str) -> ConfCopy {
        let dir = std::env::temp_dir().join(format!("ferrokv-conf-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(DEBIAN_CONF, dir.join("redis.conf")).unwrap();
        ConfCopy(dir)
    }

    fn conf(&self) -> PathBuf {
        self.0.join("redis.conf")
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }
}

impl Drop for ConfCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The names of the directives a config file sets, in file order, each once.
fn directives_of(text: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let words = text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#'));
    for name in words.filter_map(|line| line.split_whitespace().next()) {
        if !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    }
    names
}

/// Directives the test overrides on the command line so the server can run inside a test.
const DEBIAN_OVERRIDES: &[&str] = &["port", "dir", "logfile", "pidfile", "daemonize"];

#[test]
fn debian_redis_conf_starts_and_config_get_agrees_with_it() {
    let copy = ConfCopy::new("debian");
    let pidfile = copy.path("redis.pid");
    let overrides = ["--logfile", "", "--pidfile", &pidfile];
    let ferrokv = TestServer::with_config_file(ServerKind::Ferrokv, &copy.conf(), &overrides);
    let ours = config_map(&mut ferrokv.conn(), "*");
    let text = std::fs::read_to_string(copy.conf()).unwrap();
    let names = directives_of(&text);
    assert_eq!(names.len(), 69, "{names:?}");
    // The file's plain single-word values, read back as written.
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let (name, value) = line.split_once(' ').unwrap();
        let value = value.trim_matches('"');
        let plain = !value.contains(' ') && !value.ends_with("mb") && !DEBIAN_OVERRIDES.contains(&name);
        if plain && name != "client-output-buffer-limit" {
            assert_eq!(ours.get(name).map(String::as_str), Some(value), "{line}");
        }
    }
    assert_eq!(ours["bind"], "127.0.0.1 -::1");
    assert_eq!(ours["auto-aof-rewrite-min-size"], "67108864");
    assert_eq!(ours["pidfile"], pidfile);
    assert_eq!(std::fs::read_to_string(&pidfile).unwrap(), format!("{}\n", ferrokv.pid()));
    // And every directive of the file reads back as redis-server reports it after the same file.
    if let Some(_available) = require_redis() {
        let redis = TestServer::with_config_file(
            ServerKind::Redis,
            &copy.conf(),
            &["--logfile", "", "--pidfile", &copy.path("r.pid")],
        );
        let theirs = config_map(&mut redis.conn(), "*");
        for name in names.iter().filter(|n| !DEBIAN_OVERRIDES.contains(&n.as_str())) {
            assert_eq!(ours.get(name), theirs.get(name), "{name}");
        }
    }
    let (status, log) = ferrokv.terminate();
    assert!(status.success(), "{log}");
    // Save points act now, so Debian's `save` lines no longer warn, and SIGTERM saves.
    assert!(!log.contains("is accepted but not acted on: ferrokv has no RDB"), "{log}");
    assert!(log.contains("Saving the final RDB snapshot before exiting."), "{log}");
    assert!(log.contains("Removing the pid file."), "{log}");
    assert!(!Path::new(&pidfile).exists());
}

#[test]
fn unsupported_directives_are_logged_and_info_does_not_pretend() {
    let args = [
        "--aof-timestamp-enabled",
        "yes",
        "--maxmemory",
        "1mb",
        "--maxmemory-policy",
        "allkeys-lru",
        "--io-threads",
        "4",
    ];
    let ferrokv = TestServer::ferrokv(&args);
    let mut conn = ferrokv.conn();
    let info = String::from_utf8_lossy(&conn.cmd(&["INFO"])).into_owned();
    for field in ["aof_enabled:0\r\n", "maxmemory:1048576\r\n", "maxmemory_policy:allkeys-lru\r\n"] {
        assert!(info.contains(field), "{field:?} not in INFO");
    }
    assert!(info.contains("io_threads_active:0\r\n") && info.contains("hz:10\r\nconfigured_hz:10\r\n"));
    common::assert_reply(
        conn.cmd(&["CONFIG", "SET", "cluster-announce-ip", "x", "list-compress-depth", "1"]),
        "+OK\r\n",
    );
    let log = ferrokv.log();
    for directive in ["'aof-timestamp-enabled yes'", "'io-threads 4'", "'list-compress-depth 1'"] {
        assert!(log.contains(&format!("# WARNING: {directive} is accepted but not acted on: ")), "{directive}:\n{log}");
    }
    assert!(!log.contains("'maxmemory 1048576' is accepted"), "maxmemory is enforced now:\n{log}");
    assert!(!log.contains("'save "), "no save points were given:\n{log}");
}

/// A loopback port nobody listens on right now.
fn unused_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Runs ferrokv (or redis-server) to its exit and returns its code and output, after `timeout`.
fn run_to_exit(program: &str, args: &[&str]) -> (Option<i32>, String) {
    let output = Command::new(program).args(args).stdin(Stdio::null()).output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    (output.status.code(), text)
}

/// The log lines at WARNING level, without the pid and time prefix.
fn warnings(log: &str) -> Vec<String> {
    log.lines().filter_map(|line| line.split_once(" # ").map(|(_, message)| message.to_string())).collect()
}

#[test]
fn a_busy_port_names_the_listener_that_failed() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port().to_string();
    let ferrokv = env!("CARGO_BIN_EXE_ferrokv");
    let resp = ["--port", &port, "--bind", "127.0.0.1", "--http-port", "0", "--save", ""];
    let (code, log) = run_to_exit(ferrokv, &resp);
    assert_eq!(code, Some(1), "{log}");
    let expected = [
        format!("Warning: Could not create server TCP listening socket 127.0.0.1:{port}: bind: Address already in use"),
        format!("Failed listening on port {port} (TCP), aborting."),
    ];
    assert!(warnings(&log).ends_with(&expected), "{log}");
    if common::redis_server_available() {
        let (code, redis_log) = run_to_exit("redis-server", &["--port", &port, "--bind", "127.0.0.1", "--save", ""]);
        assert_eq!(code, Some(1));
        assert!(warnings(&redis_log).ends_with(&expected), "redis-server says:\n{redis_log}");
    }
    let free = unused_port().to_string();
    let http = ["--port", &free, "--bind", "127.0.0.1", "--http-port", &port, "--save", ""];
    let (code, log) = run_to_exit(ferrokv, &http);
    assert_eq!(code, Some(1), "{log}");
    let expected = [
        format!(
            "Warning: Could not create HTTP gateway listening socket 127.0.0.1:{port} (http-port): bind: Address already \
             in use"
        ),
        format!("Failed listening on port {port} (HTTP gateway, http-port), aborting."),
    ];
    assert!(warnings(&log).ends_with(&expected), "{log}");
}

/// Sends `signal` to `pid` with kill(1).
fn signal(pid: &str, signal: &str) {
    assert!(Command::new("kill").args([signal, pid]).status().unwrap().success(), "kill {signal} {pid}");
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_millis(WAIT_MS);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn tcp_backlog_is_the_listen_backlog() {
    let ferrokv = TestServer::ferrokv(&["--tcp-backlog", "1"]);
    let pid = ferrokv.pid().to_string();
    // Stopped, the server accepts nothing: the kernel queues backlog + 1 connections and leaves the next
    // one waiting in SYN_SENT.
    signal(&pid, "-STOP");
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], ferrokv.port).into();
    let queued: Vec<_> = (0..2).map(|_| std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2))).collect();
    let third = std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(500));
    signal(&pid, "-CONT");
    assert!(queued.iter().all(Result::is_ok), "{queued:?}");
    assert!(third.is_err(), "a third connection was queued: the backlog is not 1");
    common::assert_reply(
        ferrokv.conn().cmd(&["CONFIG", "GET", "tcp-backlog"]),
        "*2\r\n$11\r\ntcp-backlog\r\n$1\r\n1\r\n",
    );
}

#[test]
fn daemonize_detaches_writes_the_pid_file_and_removes_it_at_shutdown() {
    let copy = ConfCopy::new("daemon");
    let (pidfile, logfile, dir) = (copy.path("ferrokv.pid"), copy.path("ferrokv.log"), copy.path(""));
    let port = unused_port().to_string();
    let args = ["--port", &port, "--bind", "127.0.0.1", "--http-port", "0", "--save", "", "--daemonize", "yes"];
    let args: Vec<&str> =
        args.into_iter().chain(["--pidfile", &pidfile, "--logfile", &logfile, "--dir", &dir]).collect();
    let started = Instant::now();
    let (code, output) = run_to_exit(env!("CARGO_BIN_EXE_ferrokv"), &args);
    // The parent returns at once, with nothing on its own stdout: the daemon writes to the log file.
    assert_eq!(code, Some(0), "{output}");
    assert!(output.is_empty(), "{output}");
    assert!(started.elapsed() < Duration::from_millis(WAIT_MS));
    wait_until("the pid file", || std::fs::read_to_string(&pidfile).is_ok_and(|p| p.ends_with('\n')));
    let pid = std::fs::read_to_string(&pidfile).unwrap().trim().to_string();
    wait_until("the daemon to answer", || RespConn::try_connect(port.parse().unwrap()).is_ok());
    common::assert_reply(RespConn::connect(port.parse().unwrap()).cmd(&["PING"]), "+PONG\r\n");
    // The daemon leads its own session (setsid), so it is not the test's child.
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat.rsplit_once(") ").unwrap().1.split(' ').collect();
    assert_eq!(fields[3], pid, "session id of the daemon: {stat}");
    signal(&pid, "-TERM");
    wait_until("the pid file to go", || !Path::new(&pidfile).exists());
    wait_until("the daemon to exit", || !Path::new(&format!("/proc/{pid}")).exists() || zombie(&pid));
    let log = std::fs::read_to_string(&logfile).unwrap();
    assert!(log.contains("Ready to accept connections") && log.contains("Removing the pid file."), "{log}");
}

/// Whether `pid` has exited and waits for its (new) parent to reap it.
fn zombie(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| stat.contains(") Z "))
}

#[test]
fn unixsocket_serves_resp_clients_with_redis_s_client_list_line() {
    let dir = std::env::temp_dir().join(format!("ferrokv-unix-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ferrokv.sock");
    let path_text = path.display().to_string();
    let server = TestServer::ferrokv(&["--unixsocket", &path_text, "--unixsocketperm", "700"]);
    // Served beside the TCP port, by the same reactor and keyspace.
    assert_reply(server.conn().cmd(&["SET", "over", "tcp"]), "+OK\r\n");
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&path).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o700);
    let mut unix = std::os::unix::net::UnixStream::connect(&path).unwrap();
    let mut ask = |argv: &[&str]| -> String {
        unix.write_all(&encode_command(argv)).unwrap();
        let mut buf = vec![0u8; 4096];
        let n = unix.read(&mut buf).unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    assert_eq!(ask(&["GET", "over"]), "$3\r\ntcp\r\n");
    let line = ask(&["CLIENT", "INFO"]);
    assert!(line.contains(&format!(" addr={path_text}:0 laddr={path_text}:0 ")), "{line}");
    assert!(line.contains(" flags=U "), "{line}");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

/// CONFIG SET port, bind and http-port rebind the listeners, as Redis's apply functions do, and a port that
/// cannot be bound fails the whole CONFIG SET with Redis's text and rolls every parameter back.
#[test]
fn config_set_port_bind_and_http_port_rebind_the_listeners() {
    let Some(redis) = require_redis() else { return };
    let ours = TestServer::ferrokv_with_http(&[]);
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy_port = busy.local_addr().unwrap().port().to_string();
    for server in [&redis, &ours] {
        let mut conn = server.conn();
        let refused = conn.cmd(&["CONFIG", "SET", "maxmemory", "10000001", "port", &busy_port]);
        let want = "-ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port. \
                    Check server logs.\r\n";
        assert_eq!(escape(&refused), escape(want.as_bytes()), "{}", server.name());
        assert_eq!(config_map(&mut conn, "maxmemory")["maxmemory"], "0", "{} rolls back", server.name());
        let bad_bind = conn.cmd(&["CONFIG", "SET", "bind", "999.999.999.999"]);
        let want = "-ERR CONFIG SET failed (possibly related to argument 'bind') - Failed to bind to specified \
                    addresses.\r\n";
        assert_eq!(escape(&bad_bind), escape(want.as_bytes()), "{}", server.name());
        assert_reply(RespConn::connect(server.port).cmd(&["PING"]), "+PONG\r\n");
        // The same port again, and the same bind with an optional address, change nothing.
        assert_reply(conn.cmd(&["CONFIG", "SET", "port", &server.port.to_string()]), "+OK\r\n");
        assert_reply(conn.cmd(&["CONFIG", "SET", "bind", "127.0.0.1 -::1"]), "+OK\r\n");
        assert_reply(RespConn::connect(server.port).cmd(&["PING"]), "+PONG\r\n");
    }
    // A new port: served there at once, no longer on the old one, and existing connections stay.
    let mut conn = ours.conn();
    let moved = unused_port();
    assert_reply(conn.cmd(&["CONFIG", "SET", "port", &moved.to_string()]), "+OK\r\n");
    assert_reply(RespConn::connect(moved).cmd(&["PING"]), "+PONG\r\n");
    assert!(RespConn::try_connect(ours.port).is_err(), "the old port still listens");
    assert_reply(conn.cmd(&["ECHO", "still here"]), "$10\r\nstill here\r\n");
    let info = String::from_utf8(conn.cmd(&["INFO", "server"])).unwrap();
    assert!(info.contains(&format!("\r\ntcp_port:{moved}\r\n")), "{info}");
    // The HTTP gateway moves the same way.
    let http = unused_port();
    assert_reply(conn.cmd(&["CONFIG", "SET", "http-port", &http.to_string()]), "+OK\r\n");
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", http)).unwrap();
    stream.write_all(b"GET /_health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(std::net::TcpStream::connect(("127.0.0.1", ours.http_port)).is_err(), "the old http-port listens");
    drop(busy);
}
