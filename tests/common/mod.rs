//! Shared helpers for ferrokv's integration tests (`mod common;` in each `tests/*.rs`).
//!
//! - [`TestServer`] spawns a `ferrokv` or a `redis-server` on a free loopback port with redis-server's
//!   command line, waits until it logs `Ready to accept connections` and answers `PING`, captures its
//!   stdout and stderr in a log file ([`TestServer::log`]) and kills it on drop.
//!   [`TestServer::subject`] is the server under test: ferrokv, or a redis-server when the env var
//!   `DIFFTEST_AGAINST_REDIS=1` is set, which is how the tests themselves are checked against the real thing.
//! - [`require_redis`] starts the reference redis-server, or skips (see [`skip`]) and returns `None` when it is
//!   not installed. [`skip`] is the one way a test skips: it prints the reason where `cargo test` shows it and
//!   records it in [`skip_log_path`]; under `CI=true` it fails instead, so CI can never pass vacuously.
//! - [`RespConn`] is a blocking client over `std::net::TcpStream`. It sends requests as multibulk (or raw
//!   bytes) and returns each reply as the exact bytes the server sent, so tests compare bytes, not a decoded
//!   model that could hide differences. [`reply_len`] frames one RESP2/RESP3 reply without recursion.
//! - [`http_client::HttpConn`] is a blocking HTTP/1.1 client for the gateway tests.
//! - [`Rng`] is a tiny seeded xorshift generator for reproducible random tests.
//! - [`scratch`]: a directory shared by several servers, and npm packages installed for a test.
//!
//! Invariants: every wait is bounded (server start, each read), every server and temp dir is cleaned up on
//! drop, and ports handed out in one test process are never handed out twice.
#![allow(dead_code)] // Each test crate compiles this module on its own and uses a different part of it.

pub mod http_client;
pub mod scratch;

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// How long a server may take from spawn to answering `PING`.
pub const STARTUP_TIMEOUT_MS: u64 = 10_000;
/// How long [`RespConn`] waits for the next bytes of a reply before failing.
pub const READ_TIMEOUT_MS: u64 = 10_000;
/// How long a server may take to exit after SIGTERM.
pub const SHUTDOWN_TIMEOUT_MS: u64 = 10_000;
/// Nesting cap of the reply framer; Redis itself never nests replies more than a few levels deep.
pub const REPLY_DEPTH_MAX: usize = 64;
/// Largest bulk reply the framer accepts: Redis's default `proto-max-bulk-len`.
pub const REPLY_BULK_LEN_MAX: usize = 512 * 1024 * 1024;
/// The line both redis-server and ferrokv print once they accept connections.
pub const READY_LINE: &str = "Ready to accept connections";

/// Start attempts, each on a fresh port: a port picked from bind(0) can be taken by another process between
/// our probe and the server's own bind, and then the server exits and we try again.
const START_ATTEMPTS_MAX: usize = 5;

/// Which program a [`TestServer`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKind {
    Ferrokv,
    Redis,
}

/// A server process owned by one test: killed and reaped on drop, its temp dir removed.
#[derive(Debug)]
pub struct TestServer {
    pub port: u16,
    /// The HTTP gateway's port; 0 when the server runs without it (the default, see [`TestServer::ferrokv`]).
    pub http_port: u16,
    pub kind: ServerKind,
    child: Child,
    dir: PathBuf,
    log_path: PathBuf,
}

/// True when the env var `DIFFTEST_AGAINST_REDIS=1` asks to run ferrokv's tests against a redis-server.
pub fn against_redis() -> bool {
    std::env::var("DIFFTEST_AGAINST_REDIS").is_ok_and(|value| value == "1")
}

/// True when `redis-server` can be run.
pub fn redis_server_available() -> bool {
    Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// The reference redis-server, or `None` (after saying so) when it is not installed. Under `CI=true` a
/// missing redis-server panics: CI must run the differential tests, not skip them.
pub fn require_redis() -> Option<TestServer> {
    require_redis_with(&[])
}

/// [`require_redis`] with extra command-line arguments for the redis-server.
pub fn require_redis_with(extra_args: &[&str]) -> Option<TestServer> {
    if redis_server_available() {
        return Some(TestServer::redis(extra_args));
    }
    skip("redis-server is not installed (apt-get install -y redis-server)");
    None
}

/// True under `CI=true`, where nothing may skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| value == "true")
}

/// Where [`skip`] records skipped tests, one line each: cargo's per-target temp dir, which outlives the run, so
/// `scripts/check.sh` and `.ci/run` can print the list after `cargo test` (and clear it before).
pub fn skip_log_path() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("skipped-tests.txt")
}

/// Skips the calling test for `reason` (a missing tool, an unreachable registry); the caller then returns.
/// Under `CI=true` a skip is a failure instead (this panics), so CI can never pass vacuously.
///
/// The line goes to the process's stderr directly: cargo test captures `eprintln!` and shows it only for
/// failing tests, so a skip printed that way would look like a pass. It is also appended to
/// [`skip_log_path`] for the summary printed after the run.
pub fn skip(reason: &str) {
    let current = thread::current();
    let test = current.name().unwrap_or("a test");
    if in_ci() {
        panic!("{test} cannot run: {reason}; CI=true does not allow skipping");
    }
    let line = format!("SKIPPED {test}: {reason}\n");
    let _ = io::stderr().write_all(line.as_bytes());
    let log = fs::OpenOptions::new().create(true).append(true).open(skip_log_path());
    if let Ok(mut log) = log {
        let _ = log.write_all(line.as_bytes());
    }
}

impl TestServer {
    /// Starts the ferrokv binary built by cargo for this test run, with the HTTP gateway off: its default port
    /// is fixed, and parallel test servers would fight over it.
    pub fn ferrokv(extra_args: &[&str]) -> TestServer {
        TestServer::ferrokv_binary(extra_args, false)
    }

    /// Starts ferrokv with the HTTP gateway on a free port of its own ([`TestServer::http_port`]).
    pub fn ferrokv_with_http(extra_args: &[&str]) -> TestServer {
        TestServer::ferrokv_binary(extra_args, true)
    }

    fn ferrokv_binary(extra_args: &[&str], http: bool) -> TestServer {
        TestServer::start(ServerKind::Ferrokv, ferrokv_program(), None, extra_args, http)
    }

    /// Starts a redis-server with no persistence, its working directory in a temp dir.
    pub fn redis(extra_args: &[&str]) -> TestServer {
        assert!(redis_server_available(), "redis-server is not installed");
        TestServer::start(ServerKind::Redis, "redis-server", None, extra_args, false)
    }

    /// Starts `kind` with `conf` as its config file (the first argument, as redis-server wants it), then
    /// only the overrides a test needs (a free `port`, `dir` in the temp dir, `daemonize no`, and for ferrokv
    /// no HTTP gateway), then `extra_args`.
    pub fn with_config_file(kind: ServerKind, conf: &std::path::Path, extra_args: &[&str]) -> TestServer {
        let program = match kind {
            ServerKind::Ferrokv => ferrokv_program(),
            ServerKind::Redis => "redis-server",
        };
        TestServer::start(kind, program, Some(conf), extra_args, false)
    }

    /// Starts `kind` (no HTTP gateway) through `wrapper`, a command that then runs the server with its
    /// arguments (`prlimit --nofile=64:64`); one attempt, panicking with the log if it fails.
    pub fn wrapped(kind: ServerKind, wrapper: &[&str], extra_args: &[&str]) -> TestServer {
        let program = match kind {
            ServerKind::Ferrokv => ferrokv_program(),
            ServerKind::Redis => "redis-server",
        };
        let launch = Launch { kind, program, conf: None, extra_args, http: false, wrapper };
        TestServer::try_start(launch).unwrap_or_else(|failure| panic!("could not start {program}: {failure}"))
    }

    /// The temp dir the server runs in.
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// The server under test: ferrokv, or redis-server under `DIFFTEST_AGAINST_REDIS=1`.
    pub fn subject(extra_args: &[&str]) -> TestServer {
        if against_redis() { TestServer::redis(extra_args) } else { TestServer::ferrokv(extra_args) }
    }

    /// A short name for reports: `ferrokv` or `redis`.
    pub fn name(&self) -> &'static str {
        match self.kind {
            ServerKind::Ferrokv => "ferrokv",
            ServerKind::Redis => "redis",
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The exit status if the process has exited, `None` while it runs.
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().expect("poll server process")
    }

    /// A new client connection to this server.
    pub fn conn(&self) -> RespConn {
        RespConn::connect(self.port)
    }

    /// Everything the server wrote to stdout and stderr so far.
    pub fn log(&self) -> String {
        String::from_utf8_lossy(&fs::read(&self.log_path).unwrap_or_default()).into_owned()
    }

    /// Sends SIGTERM and waits (bounded) for the process to exit; returns its status and final log.
    pub fn terminate(mut self) -> (ExitStatus, String) {
        let pid = self.child.id().to_string();
        // `kill(1)` rather than libc keeps the tests free of `unsafe`.
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.is_ok_and(|status| status.success()), "kill -TERM {pid} failed");
        let deadline = Instant::now() + Duration::from_millis(SHUTDOWN_TIMEOUT_MS);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for server") {
                return (status, self.log());
            }
            if Instant::now() > deadline {
                panic!("server still running {SHUTDOWN_TIMEOUT_MS} ms after SIGTERM; log:\n{}", self.log());
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits (bounded) for a process that was told to stop (SHUTDOWN) to exit; its status and final log.
    pub fn wait_exit(mut self) -> (ExitStatus, String) {
        let deadline = Instant::now() + Duration::from_millis(SHUTDOWN_TIMEOUT_MS);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for server") {
                return (status, self.log());
            }
            assert!(Instant::now() < deadline, "server still running; log:\n{}", self.log());
            thread::sleep(Duration::from_millis(10));
        }
    }

    fn start(kind: ServerKind, program: &str, conf: Option<&std::path::Path>, args: &[&str], http: bool) -> TestServer {
        let mut failures = Vec::new();
        for _ in 0..START_ATTEMPTS_MAX {
            match TestServer::try_start(Launch { kind, program, conf, extra_args: args, http, wrapper: &[] }) {
                Ok(server) => return server,
                Err(failure) => failures.push(failure),
            }
        }
        panic!("could not start {program} {args:?}:\n{}", failures.join("\n---\n"));
    }

    /// One start attempt on a fresh port. Readiness needs both the ready line in *our* log and a PONG:
    /// the PONG alone could come from another test's server that won a race for the same port.
    fn try_start(launch: Launch<'_>) -> Result<TestServer, String> {
        let Launch { kind, program, conf, extra_args, http, wrapper } = launch;
        let port = free_port();
        let http_port = if http { free_port() } else { 0 };
        let dir = temp_dir();
        let log_path = dir.join("server.log");
        let log = File::create(&log_path).map_err(|err| format!("create log: {err}"))?;
        let log_err = log.try_clone().map_err(|err| format!("clone log: {err}"))?;
        let mut args: Vec<String> = conf.map(|path| path.display().to_string()).into_iter().collect();
        args.extend(["--port".to_string(), port.to_string()]);
        if conf.is_none() {
            args.extend(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"].map(String::from));
        }
        if kind == ServerKind::Redis || conf.is_some() {
            args.extend(["--daemonize", "no", "--dir"].map(String::from));
            args.push(dir.display().to_string());
        }
        if kind == ServerKind::Ferrokv {
            // Before the extra arguments, so a test may still choose its own.
            args.extend(["--http-port".to_string(), http_port.to_string()]);
        }
        args.extend(extra_args.iter().map(|arg| arg.to_string()));
        let (runner, runner_args) = match wrapper.split_first() {
            Some((runner, rest)) => (*runner, rest.iter().copied().chain([program]).collect()),
            None => (program, Vec::new()),
        };
        let child = Command::new(runner)
            .args(runner_args)
            .args(&args)
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|err| format!("spawn {program}: {err}"))?;
        let mut server = TestServer { port, http_port, kind, child, dir, log_path };
        server.wait_ready()?;
        Ok(server)
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_millis(STARTUP_TIMEOUT_MS);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().map_err(|err| err.to_string())? {
                return Err(format!("exited early with {status}; log:\n{}", self.log()));
            }
            if self.log().contains(READY_LINE) && ping_answers(self.port) {
                return Ok(());
            }
            thread::sleep(Duration::from_millis(10));
        }
        Err(format!("not ready after {STARTUP_TIMEOUT_MS} ms; log:\n{}", self.log()))
    }
}

/// What one start attempt runs.
#[derive(Clone, Copy)]
struct Launch<'a> {
    kind: ServerKind,
    program: &'a str,
    /// A config file, passed first.
    conf: Option<&'a std::path::Path>,
    extra_args: &'a [&'a str],
    /// Whether ferrokv gets an HTTP gateway port.
    http: bool,
    /// A command that runs the server (`prlimit --nofile=64`, ...); empty to run it directly.
    wrapper: &'a [&'a str],
}

impl Drop for TestServer {
    fn drop(&mut self) {
        // Both fail harmlessly when the process already exited (after `terminate`).
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// The ferrokv binary cargo built for this test run.
fn ferrokv_program() -> &'static str {
    // option_env keeps the tests compiling before the `ferrokv` bin target exists.
    let Some(binary) = option_env!("CARGO_BIN_EXE_ferrokv") else {
        panic!(
            "the ferrokv binary target does not exist yet; \
             set DIFFTEST_AGAINST_REDIS=1 to run these tests against redis-server"
        );
    };
    binary
}

/// A loopback port that was free a moment ago and that no other server of this process was given.
fn free_port() -> u16 {
    static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    loop {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local addr").port();
        if HANDED_OUT.lock().unwrap_or_else(|poison| poison.into_inner()).insert(port) {
            return port;
        }
    }
}

/// A fresh directory under the system temp dir, unique within and across test processes.
fn temp_dir() -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let name = format!("ferrokv-test-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
    let dir = std::env::temp_dir().join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

fn ping_answers(port: u16) -> bool {
    let attempt = || -> io::Result<bool> {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(200))?;
        stream.set_read_timeout(Some(Duration::from_millis(500)))?;
        stream.write_all(b"*1\r\n$4\r\nPING\r\n")?;
        let mut reply = [0u8; 7];
        stream.read_exact(&mut reply)?;
        // A server with requirepass answers NOAUTH, which proves it is up just as well.
        Ok(&reply == b"+PONG\r\n" || &reply == b"-NOAUTH")
    };
    attempt().unwrap_or(false)
}

/// The server's INFO `used_memory`: the heap bytes live now, as its allocator counts them (the figure memory
/// targets compare, since both servers report it the same way).
pub fn used_memory(server: &TestServer) -> u64 {
    let reply = server.conn().cmd(&["INFO", "memory"]);
    let info = String::from_utf8_lossy(&reply);
    let line = info.lines().find(|line| line.starts_with("used_memory:")).expect("used_memory in INFO");
    line["used_memory:".len()..].trim().parse().expect("a number")
}

/// Sends `requests` (each one argv) back to back and reads every reply, so bulk loads cost one round trip per
/// batch rather than per command.
pub fn pipeline(conn: &mut RespConn, requests: &[Vec<String>]) {
    let bytes: Vec<u8> = requests.iter().flat_map(|argv| encode_command(argv)).collect();
    conn.send_raw(&bytes);
    for _ in requests {
        let reply = conn.read_reply();
        assert!(!reply.starts_with(b"-"), "error reply: {}", escape(&reply));
    }
}

/// Encodes argv as one RESP multibulk request.
pub fn encode_command<A: AsRef<[u8]>>(argv: &[A]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", argv.len()).into_bytes();
    for arg in argv {
        let arg = arg.as_ref();
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Bytes as a double-quoted string with `\r`, `\n`, `\t`, `\"`, `\\` and `\xHH` escapes, like redis-cli.
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    for &byte in bytes {
        match byte {
            b'\r' => out.push_str("\\r"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(byte as char),
            _ => out.push_str(&format!("\\x{byte:02x}")),
        }
    }
    out.push('"');
    out
}

/// Asserts that a reply is exactly `want`, showing both escaped (not as byte arrays) when it is not.
#[track_caller]
pub fn assert_reply(got: impl AsRef<[u8]>, want: impl AsRef<[u8]>) {
    let (got, want) = (got.as_ref(), want.as_ref());
    assert!(got == want, "reply {} but expected {}", escape(got), escape(want));
}

/// An argv rendered for humans: each argument escaped, separated by spaces.
pub fn escape_argv<A: AsRef<[u8]>>(argv: &[A]) -> String {
    argv.iter().map(|arg| escape(arg.as_ref())).collect::<Vec<_>>().join(" ")
}

/// The length of the one complete reply at the start of `buf`: `Ok(None)` when more bytes are needed,
/// `Err` when the bytes are not RESP. Aggregates are walked with an explicit stack of remaining child
/// counts, capped at [`REPLY_DEPTH_MAX`], so hostile input cannot recurse or allocate by a claimed length.
pub fn reply_len(buf: &[u8]) -> Result<Option<usize>, String> {
    let mut pending_children: Vec<u64> = Vec::new();
    let mut pos = 0;
    loop {
        let Some(header) = reply_header(&buf[pos..])? else {
            return Ok(None);
        };
        pos += header.len;
        if header.children > 0 {
            if pending_children.len() == REPLY_DEPTH_MAX {
                return Err(format!("reply nested deeper than {REPLY_DEPTH_MAX}"));
            }
            pending_children.push(header.children);
            continue;
        }
        // A finished element completes every aggregate whose last child it was.
        loop {
            let Some(remaining) = pending_children.last_mut() else {
                return Ok(Some(pos));
            };
            *remaining -= 1;
            if *remaining > 0 {
                break;
            }
            pending_children.pop();
        }
    }
}

/// The first element of a reply: its own bytes and, for a non-empty aggregate, how many children follow.
struct ReplyHeader {
    len: usize,
    children: u64,
}

fn reply_header(buf: &[u8]) -> Result<Option<ReplyHeader>, String> {
    let Some(line_end) = buf.windows(2).position(|pair| pair == b"\r\n") else {
        return Ok(None);
    };
    let Some(&kind) = buf.first() else {
        return Ok(None);
    };
    let line = &buf[1..line_end];
    let line_len = line_end + 2;
    let count = || -> Result<i64, String> {
        std::str::from_utf8(line)
            .ok()
            .and_then(|text| text.parse::<i64>().ok())
            .filter(|&count| count >= -1)
            .ok_or_else(|| format!("bad length line {}", escape(line)))
    };
    let children =
        |count: i64, per_entry: u64| Ok(Some(ReplyHeader { len: line_len, children: count.max(0) as u64 * per_entry }));
    match kind {
        b'+' | b'-' | b':' | b'_' | b',' | b'#' | b'(' => Ok(Some(ReplyHeader { len: line_len, children: 0 })),
        b'$' | b'!' | b'=' => {
            let len = count()?;
            if len == -1 {
                return Ok(Some(ReplyHeader { len: line_len, children: 0 }));
            }
            let len = usize::try_from(len).map_err(|_| "bad bulk length".to_string())?;
            if len > REPLY_BULK_LEN_MAX {
                return Err(format!("bulk of {len} bytes exceeds {REPLY_BULK_LEN_MAX}"));
            }
            let total = line_len + len + 2;
            if buf.len() < total {
                return Ok(None);
            }
            if &buf[total - 2..total] != b"\r\n" {
                return Err("bulk not terminated by CRLF".to_string());
            }
            Ok(Some(ReplyHeader { len: total, children: 0 }))
        }
        b'*' | b'~' | b'>' => children(count()?, 1),
        b'%' => children(count()?, 2),
        // An attribute map is followed by the reply it annotates, framed here as one more child.
        b'|' => children(count()?, 2).map(|header| header.map(|h| ReplyHeader { children: h.children + 1, ..h })),
        other => Err(format!("unknown reply type byte {}", escape(&[other]))),
    }
}

/// Splits an aggregate reply into its header line and its children's raw bytes; `None` for scalars,
/// null aggregates and malformed input.
pub fn split_aggregate(reply: &[u8]) -> Option<(&[u8], Vec<&[u8]>)> {
    if !matches!(reply.first(), Some(b'*' | b'~' | b'>' | b'%')) {
        return None;
    }
    let header_len = reply.windows(2).position(|pair| pair == b"\r\n")? + 2;
    let count: i64 = std::str::from_utf8(&reply[1..header_len - 2]).ok()?.parse().ok()?;
    let count = if reply[0] == b'%' { count.checked_mul(2)? } else { count };
    let mut children = Vec::new();
    let mut pos = header_len;
    for _ in 0..count {
        let len = reply_len(&reply[pos..]).ok()??;
        children.push(&reply[pos..pos + len]);
        pos += len;
    }
    (pos == reply.len()).then_some((&reply[..header_len], children))
}

/// A blocking client that returns raw reply bytes. Bytes read past one reply are kept for the next.
#[derive(Debug)]
pub struct RespConn {
    stream: TcpStream,
    buf: Vec<u8>,
    /// Start of the unread bytes in `buf`; consumed bytes are dropped in bulk, not per reply.
    start: usize,
}

impl RespConn {
    pub fn connect(port: u16) -> RespConn {
        RespConn::try_connect(port).unwrap_or_else(|err| panic!("connect to port {port}: {err}"))
    }

    pub fn try_connect(port: u16) -> io::Result<RespConn> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_read_timeout(Some(Duration::from_millis(READ_TIMEOUT_MS)))?;
        stream.set_nodelay(true)?;
        Ok(RespConn { stream, buf: Vec::new(), start: 0 })
    }

    /// The socket, e.g. to `try_clone` it for a writer thread.
    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }

    pub fn set_read_timeout_ms(&mut self, timeout_ms: u64) {
        self.stream.set_read_timeout(Some(Duration::from_millis(timeout_ms))).expect("set timeout");
    }

    /// Sends one multibulk request and returns the raw bytes of its reply.
    pub fn cmd<A: AsRef<[u8]>>(&mut self, argv: &[A]) -> Vec<u8> {
        self.try_cmd(argv).unwrap_or_else(|err| panic!("{}: {err}", escape_argv(argv)))
    }

    pub fn try_cmd<A: AsRef<[u8]>>(&mut self, argv: &[A]) -> io::Result<Vec<u8>> {
        self.stream.write_all(&encode_command(argv))?;
        self.try_read_reply()
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.try_send_raw(bytes).expect("write to server");
    }

    /// `send_raw` for bytes the server may stop reading (a client it evicts or closes meanwhile).
    pub fn try_send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// The raw bytes of exactly one complete reply.
    pub fn read_reply(&mut self) -> Vec<u8> {
        self.try_read_reply().unwrap_or_else(|err| panic!("read reply: {err}"))
    }

    pub fn try_read_reply(&mut self) -> io::Result<Vec<u8>> {
        loop {
            let unread = &self.buf[self.start..];
            match reply_len(unread) {
                Ok(Some(len)) => {
                    let reply = unread[..len].to_vec();
                    self.consume(len);
                    return Ok(reply);
                }
                Ok(None) => {
                    if self.fill()? == 0 {
                        let partial = escape(&self.buf[self.start..]);
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            format!("closed mid-reply after {partial}"),
                        ));
                    }
                }
                Err(msg) => {
                    return Err(io::Error::new(io::ErrorKind::InvalidData, format!("{msg} in {}", escape(unread))));
                }
            }
        }
    }

    /// Everything the server sends until it closes the connection (bounded by the read timeout).
    pub fn read_to_close(&mut self) -> Vec<u8> {
        loop {
            match self.fill() {
                Ok(0) => break,
                Ok(_) => {}
                Err(err) if err.kind() == io::ErrorKind::ConnectionReset => break,
                Err(err) => panic!("connection not closed ({err}); read so far: {}", escape(&self.buf[self.start..])),
            }
        }
        let rest = self.buf[self.start..].to_vec();
        self.consume(rest.len());
        rest
    }

    /// True when the server has closed the connection (EOF or reset within 200 ms); bytes that arrive
    /// meanwhile are kept for the next read.
    pub fn is_closed(&mut self) -> bool {
        let timeout = self.stream.read_timeout().expect("read timeout");
        self.stream.set_read_timeout(Some(Duration::from_millis(200))).expect("set timeout");
        let closed = match self.fill() {
            Ok(read_len) => read_len == 0,
            Err(err) => err.kind() == io::ErrorKind::ConnectionReset,
        };
        self.stream.set_read_timeout(timeout).expect("set timeout");
        closed
    }

    /// Closes our sending side, as a client that is done writing.
    pub fn shutdown_write(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Write);
    }

    fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 64 * 1024];
        let read_len = self.stream.read(&mut chunk)?;
        self.buf.extend_from_slice(&chunk[..read_len]);
        Ok(read_len)
    }

    fn consume(&mut self, len: usize) {
        self.start += len;
        if self.start * 2 >= self.buf.len() {
            self.buf.drain(..self.start);
            self.start = 0;
        }
    }
}

/// A seeded xorshift64* generator: tiny, fast and identical on every platform, so a seed reproduces a run.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        // splitmix64 spreads nearby seeds apart and never yields the all-zero state xorshift cannot leave.
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Rng { state: (z ^ (z >> 31)) | 1 }
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `0..n` (modulo bias is negligible for test-sized `n`). Panics if `n == 0`.
    pub fn below(&mut self, n: usize) -> usize {
        assert!(n > 0, "Rng::below(0)");
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform in `low..=high`.
    pub fn range(&mut self, low: i64, high: i64) -> i64 {
        assert!(low <= high, "Rng::range({low}, {high})");
        let span = high.abs_diff(low).saturating_add(1);
        low.wrapping_add((self.next_u64() % span.max(1)) as i64)
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}
