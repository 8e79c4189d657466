//! MIGRATE (Redis 7.0's migrateCommand in cluster.c): moves keys to another instance by sending it RESTOREs
//! of their DUMP payloads, then deletes them here (unless COPY).
//!
//! `MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE] [AUTH password | AUTH2 username password]
//! [KEYS key ...]`, in Redis's order: the options (each password redacted from the slow log and MONITOR as
//! soon as it is read, `redacted_positions`), the timeout and the db, the keys looked up (+NOKEY, with no
//! connection, when none exists), then the exchange: one request of AUTH, SELECT (only when the cached
//! connection has another db selected) and a RESTORE per key with its remaining TTL, written at once, then
//! the replies read one line each. A key the target acknowledged is deleted and the command is propagated as
//! `DEL` of those keys; the first error the target replied is forwarded (`ERR Target instance replied with
//! error: ...`). A failure of the connection before any reply was read is retried once on a new connection
//! unless it was a timeout, as Redis does, since a cached connection the target closed is common.
//!
//! **The one command that does I/O.** The exchange is synchronous on blocking sockets with the command's
//! timeout (`net::migrate_sockets`), so the event loop, and with it every other client, waits for it, exactly
//! as Redis's does: the keyspace never leaves the loop's thread and nothing can change the keys between their
//! lookup and their deletion.

use std::time::Duration;

use bytes::Bytes;

use super::args::{self, Keyword};
use super::errors::{self, CmdError, CmdResult};
use super::{Ctx, Handlers};
use crate::config::notify;
use crate::net::migrate_sockets::{MigrateSocket, SyncError};
use crate::rdb::payload;
use crate::resp::reply::Reply;
use crate::state::propagation::encode_command;

/// This family's handlers by command name, bound to the entries of its src/cmd/meta file.
pub const HANDLERS: &[Handlers] = &[&[("migrate", migrate)]];

/// The key flags Redis's migrateGetKeys reports for every key (COMMAND GETKEYSANDFLAGS).
pub const KEY_FLAGS: &[&str] = &["RW", "access", "delete"];

const KEYS_NEED_EMPTY_KEY: &str =
    "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string";
const IOERR_CONNECTING: &str = "IOERR error or timeout connecting to the client";
const IOERR_WRITING: &str = "IOERR error or timeout writing to target instance";
const IOERR_READING: &str = "IOERR error or timeout reading to target instance";
/// Redis's default when the timeout argument is 0 or negative.
const TIMEOUT_DEFAULT_MS: i64 = 1000;

/// MIGRATE's options after the five fixed arguments.
#[derive(Debug)]
struct Options<'a> {
    copy: bool,
    replace: bool,
    username: Option<&'a [u8]>,
    password: Option<&'a [u8]>,
    /// The keys to migrate: the key argument, or those after KEYS.
    keys: &'a [Bytes],
}

/// Reads the options as Redis's loop does, calling `redact` with the position of each password argument as it
/// is read (redactClientCommandArgument), so an error further on still leaves the earlier ones redacted.
fn options<'a>(argv: &'a [Bytes], mut redact: impl FnMut(usize)) -> Result<Options<'a>, CmdError> {
    let mut opts = Options { copy: false, replace: false, username: None, password: None, keys: &argv[3..4] };
    let mut j = 6;
    while j < argv.len() {
        let more_args = argv.len() - 1 - j;
        let option = Keyword::of(&argv[j]);
        if option.is("copy") {
            opts.copy = true;
        } else if option.is("replace") {
            opts.replace = true;
        } else if option.is("auth") {
            if more_args == 0 {
                return Err(errors::SYNTAX.into());
            }
            j += 1;
            opts.password = Some(&argv[j][..]);
            redact(j);
        } else if option.is("auth2") {
            if more_args < 2 {
                return Err(errors::SYNTAX.into());
            }
            opts.username = Some(&argv[j + 1][..]);
            redact(j + 1);
            opts.password = Some(&argv[j + 2][..]);
            redact(j + 2);
            j += 2;
        } else if option.is("keys") {
            if !argv[3].is_empty() {
                return Err(KEYS_NEED_EMPTY_KEY.into());
            }
            // Every argument after KEYS is a key.
            opts.keys = &argv[j + 1..];
            break;
        } else {
            return Err(errors::SYNTAX.into());
        }
        j += 1;
    }
    Ok(opts)
}

/// The argument positions Redis replaces with `(redacted)` in the slow log and for MONITOR: the passwords (and
/// AUTH2's user name) its option parser got to.
pub fn redacted_positions(argv: &[Bytes]) -> Vec<usize> {
    let mut positions = Vec::new();
    if argv.len() >= 6 {
        let _ = options(argv, |position| positions.push(position));
    }
    positions
}

/// The key positions Redis's migrateGetKeys finds (what COMMAND GETKEYS falls back to once the KEYS spec,
/// flagged `incomplete`, matched): the key argument, or everything after a KEYS option when the key argument
/// is empty. The options before KEYS are skipped with their arguments (a password may well be `keys`), and
/// KEYS after a non-empty key is a syntax error with no keys.
pub fn key_positions(argv: &[Bytes]) -> Vec<usize> {
    if argv.len() < 4 {
        return Vec::new();
    }
    let (mut first, mut count) = (3, 1);
    let mut i = 6;
    while i < argv.len() {
        let word = Keyword::of(&argv[i]);
        if word.is("keys") {
            (first, count) = if argv[3].is_empty() { (i + 1, argv.len() - i - 1) } else { (first, 0) };
            break;
        }
        i += 1 + word.pick(&[("copy", 0), ("replace", 0), ("auth", 1), ("auth2", 2)]).unwrap_or(0);
    }
    (first..first + count).collect()
}

/// A key found here, ready to send: its name, deadline and DUMP payload.
#[derive(Debug)]
struct Migrating {
    key: Bytes,
    expire_at_ms: Option<i64>,
    payload: Vec<u8>,
}

/// Where the keys go.
#[derive(Debug)]
struct Target<'a> {
    /// The cache's name for the connection, `host:port` as given.
    name: Vec<u8>,
    host: &'a [u8],
    /// `atoi` of the port argument, as Redis hands it to getaddrinfo.
    port: i32,
    dbid: i64,
    timeout: Duration,
}

/// What one attempt at the exchange came to.
#[derive(Debug, PartialEq, Eq)]
enum Attempt {
    Done,
    /// The connection failed before anything was read and not by a timeout: try once more on a new one.
    Retry,
}

fn migrate(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let argv = ctx.argv;
    let opts = options(argv, |_| {})?;
    let timeout_ms = match args::int(&argv[5])? {
        ms if ms <= 0 => TIMEOUT_DEFAULT_MS,
        ms => ms,
    };
    let dbid = args::int(&argv[4])?;
    let mut keys = lookup(ctx, opts.keys);
    if keys.is_empty() {
        // Not an error: the keys often expired in the meantime.
        reply.simple("NOKEY");
        return Ok(());
    }
    let (host, port) = (&argv[1][..], &argv[2][..]);
    let target = Target {
        name: [host, b":", port].concat(),
        host,
        port: crate::util::num::atoi(port),
        dbid,
        timeout: Duration::from_millis(timeout_ms as u64),
    };
    if attempt(ctx, &target, &opts, &mut keys, true, reply)? == Attempt::Retry {
        attempt(ctx, &target, &opts, &mut keys, false, reply)?;
    }
    Ok(())
}

/// The keys of `names` that exist (lookupKeyRead: counted as hits and misses), each with its payload.
fn lookup(ctx: &mut Ctx<'_>, names: &[Bytes]) -> Vec<Migrating> {
    let opts = crate::rdb::Options { compress: ctx.state.config.rdbcompression };
    let mut found = Vec::new();
    for key in names {
        let Some(value) = ctx.read_key(key) else { continue };
        let payload = payload::dump(value, opts);
        let now_ms = ctx.now_ms;
        let expire_at_ms = ctx.db().expire_at(key, now_ms).flatten();
        found.push(Migrating { key: key.clone(), expire_at_ms, payload });
    }
    found
}

/// One exchange with the target on a cached or new connection: connect, write the request, read the replies,
/// delete what the target acknowledged and reply. `Err` is the command's error reply.
fn attempt(
    ctx: &mut Ctx<'_>,
    target: &Target<'_>,
    opts: &Options<'_>,
    keys: &mut Vec<Migrating>,
    may_retry: bool,
    reply: &mut Reply,
) -> Result<Attempt, CmdError> {
    let state = &mut *ctx.state;
    let rng = &mut state.rng;
    let now_s = crate::clock::unix_ms() / 1000;
    let checkout =
        state.migrate_sockets.checkout(&target.name, target.host, target.port, target.timeout, now_s, |n| rng.below(n));
    let mut socket = checkout.map_err(|_| CmdError::from(IOERR_CONNECTING))?;
    let select = socket.last_dbid != target.dbid;
    let request = request(opts, keys, target.dbid, select);
    // From here, a socket that failed is dropped, which closes it (migrateCloseSocket).
    if let Err(err) = socket.write_all(&request, target.timeout) {
        return socket_error(err, may_retry, IOERR_WRITING);
    }
    let replies = match read_replies(&mut socket, opts.password.is_some(), select, keys.len(), target.timeout) {
        Ok(replies) => replies,
        Err(err) => return socket_error(err, may_retry, IOERR_READING),
    };
    if replies.read == 0 && may_retry && replies.read_error == Some(SyncError::Failed) {
        // The first RESTORE reply never came, so nothing was processed: retry on a new connection.
        return Ok(Attempt::Retry);
    }
    if !opts.copy {
        delete_acknowledged(ctx, keys, &replies.acked);
    }
    match (replies.target_error, replies.read_error) {
        (None, Some(_)) => Err(IOERR_READING.into()),
        (None, None) => {
            socket.last_dbid = target.dbid;
            ctx.state.migrate_sockets.checkin(&target.name, socket);
            reply.ok();
            Ok(Attempt::Done)
        }
        (Some(text), read_error) => {
            // Redis forgets the selected db after a target error (it may not be what it thinks).
            socket.last_dbid = -1;
            if read_error.is_none() {
                ctx.state.migrate_sockets.checkin(&target.name, socket);
            }
            Err(text.into())
        }
    }
}

/// Where a failed socket leads: a retry if allowed and not a timeout, else the IOERR.
fn socket_error(err: SyncError, may_retry: bool, text: &'static str) -> Result<Attempt, CmdError> {
    if may_retry && err != SyncError::TimedOut { Ok(Attempt::Retry) } else { Err(text.into()) }
}

/// The whole request: AUTH or AUTH2's AUTH, SELECT if `select`, then a RESTORE per key with the TTL it has
/// left (at least 1 ms, as 0 would mean none). Keys that expired since their lookup are left out, and out of
/// `keys`, as Redis compacts its arrays.
fn request(opts: &Options<'_>, keys: &mut Vec<Migrating>, dbid: i64, select: bool) -> Vec<u8> {
    let size: usize = keys.iter().map(|k| k.key.len() + k.payload.len() + 64).sum();
    let mut out = Vec::with_capacity(size + 128);
    match (opts.username, opts.password) {
        (Some(username), Some(password)) => encode_command(&mut out, &[&b"AUTH"[..], username, password]),
        (None, Some(password)) => encode_command(&mut out, &[&b"AUTH"[..], password]),
        _ => {}
    }
    if select {
        encode_command(&mut out, &[&b"SELECT"[..], dbid.to_string().as_bytes()]);
    }
    let now_ms = crate::clock::unix_ms();
    keys.retain(|k| k.expire_at_ms.is_none_or(|at| at.saturating_sub(now_ms) >= 0));
    for k in keys.iter() {
        let ttl = k.expire_at_ms.map_or(0, |at| at.saturating_sub(now_ms).max(1));
        let ttl = ttl.to_string();
        let restore: [&[u8]; 5] = [b"RESTORE", &k.key, ttl.as_bytes(), &k.payload, b"REPLACE"];
        encode_command(&mut out, if opts.replace { &restore[..] } else { &restore[..4] });
    }
    out
}

/// What the RESTORE replies said.
#[derive(Debug)]
struct Replies {
    /// Indexes (into the keys sent) of the keys the target restored, when AUTH and SELECT went well too.
    acked: Vec<usize>,
    /// The first error, as the command replies it.
    target_error: Option<Vec<u8>>,
    /// How many RESTORE replies were read before `read_error`.
    read: usize,
    read_error: Option<SyncError>,
}

/// Reads AUTH's and SELECT's replies if they were sent (a failure there is the caller's socket error), then one
/// line per RESTORE, stopping at the first that fails. An error from AUTH or SELECT is the one reported, and
/// makes every key count as refused, as in Redis.
fn read_replies(
    socket: &mut MigrateSocket,
    auth: bool,
    select: bool,
    count: usize,
    timeout: Duration,
) -> Result<Replies, SyncError> {
    let (mut auth_line, mut select_line, mut line) = (Vec::new(), Vec::new(), Vec::new());
    if auth {
        socket.read_line(&mut auth_line, timeout)?;
    }
    if select {
        socket.read_line(&mut select_line, timeout)?;
    }
    let is_error = |line: &[u8]| line.first() == Some(&b'-');
    let mut replies = Replies { acked: Vec::new(), target_error: None, read: 0, read_error: None };
    for index in 0..count {
        if let Err(err) = socket.read_line(&mut line, timeout) {
            replies.read_error = Some(err);
            break;
        }
        replies.read += 1;
        let failed = [(auth, &auth_line), (select, &select_line), (true, &line)]
            .into_iter()
            .find(|(sent, reply)| *sent && is_error(reply));
        match failed {
            Some((_, reply)) if replies.target_error.is_none() => {
                replies.target_error = Some(target_error(&reply[1..]));
            }
            Some(_) => {}
            None => replies.acked.push(index),
        }
    }
    Ok(replies)
}

/// `ERR Target instance replied with error: <text>`, with any CR or LF in the text made a space, as
/// addReplyErrorFormat does.
fn target_error(text: &[u8]) -> Vec<u8> {
    let mut error = b"ERR Target instance replied with error: ".to_vec();
    error.extend(text.iter().map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c }));
    error
}

/// Deletes the keys the target acknowledged (signalling and announcing each, as DEL would) and propagates the
/// command as `DEL` of exactly those keys.
fn delete_acknowledged(ctx: &mut Ctx<'_>, keys: &[Migrating], acked: &[usize]) {
    if acked.is_empty() {
        return;
    }
    let now_ms = ctx.now_ms;
    for &index in acked {
        let key = &keys[index].key;
        ctx.db().delete(key, now_ms);
        ctx.key_changed(key);
        ctx.notify(notify::GENERIC, "del", key);
    }
    ctx.propagate_as(|| {
        std::iter::once(crate::state::propagation::arg(b"DEL"))
            .chain(acked.iter().map(|&index| keys[index].key.clone()))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::admin::testkit::TestServer;
    use crate::cmd::args::test_argv;
    use crate::state::session::ClientId;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    use std::thread;
    use std::time::Instant;

    /// COPY, REPLACE, the user name, the password and the keys, as text.
    type Parsed = (bool, bool, Option<String>, Option<String>, Vec<String>);

    fn parse(words: &str) -> Result<Parsed, String> {
        let argv = test_argv(words);
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        options(&argv, |_| {})
            .map(|o| {
                (
                    o.copy,
                    o.replace,
                    o.username.map(text),
                    o.password.map(text),
                    o.keys.iter().map(|k| text(k)).collect(),
                )
            })
            .map_err(|err| err.text())
    }

    #[test]
    fn options_parse_as_redis_reads_them() {
        let none = (false, false, None, None, vec!["k".to_string()]);
        assert_eq!(parse("MIGRATE h 1 k 0 100"), Ok(none));
        let all = parse("MIGRATE h 1 k 0 100 copy REPLACE auth2 u p").unwrap();
        assert_eq!(all, (true, true, Some("u".into()), Some("p".into()), vec!["k".to_string()]));
        assert_eq!(parse("MIGRATE h 1 k 0 100 AUTH").unwrap_err(), "ERR syntax error");
        assert_eq!(parse("MIGRATE h 1 k 0 100 AUTH2 u").unwrap_err(), "ERR syntax error");
        assert_eq!(parse("MIGRATE h 1 k 0 100 nope").unwrap_err(), "ERR syntax error");
        assert_eq!(parse("MIGRATE h 1 k 0 100 KEYS a").unwrap_err(), KEYS_NEED_EMPTY_KEY);
        // KEYS ends the options: whatever follows is a key, even an option's name.
        let argv: Vec<Bytes> = ["MIGRATE", "h", "1", "", "0", "100", "AUTH", "keys", "KEYS", "copy", "x"]
            .into_iter()
            .map(Bytes::from)
            .collect();
        let opts = options(&argv, |_| {}).unwrap();
        assert_eq!(opts.password, Some(&b"keys"[..]));
        assert_eq!(opts.keys, &argv[9..]);
        assert!(!opts.copy);
    }

    #[test]
    fn passwords_are_redacted_up_to_where_parsing_stopped() {
        assert_eq!(redacted_positions(&test_argv("MIGRATE h 1 k 9 5000")), Vec::<usize>::new());
        assert_eq!(redacted_positions(&test_argv("MIGRATE h 1 k 9 5000 AUTH pw")), [7]);
        assert_eq!(redacted_positions(&test_argv("MIGRATE h 1 k 9 5000 AUTH2 u pw copy")), [7, 8]);
        assert_eq!(redacted_positions(&test_argv("MIGRATE h 1 k 9 5000 AUTH pw bad AUTH pw2")), [7]);
        assert_eq!(redacted_positions(&test_argv("MIGRATE h 1 k 9 5000 bad AUTH pw")), Vec::<usize>::new());
    }

    #[test]
    fn key_positions_are_migrate_get_keys() {
        assert_eq!(key_positions(&test_argv("MIGRATE h 1 k 0 5000")), [3]);
        let argv = |words: &[&str]| words.iter().map(|w| Bytes::from(w.to_string())).collect::<Vec<_>>();
        assert_eq!(key_positions(&argv(&["MIGRATE", "h", "1", "", "0", "5", "KEYS", "a", "b"])), [7, 8]);
        assert_eq!(key_positions(&argv(&["MIGRATE", "h", "1", "", "0", "5", "AUTH", "keys", "KEYS", "a"])), [9]);
        assert_eq!(
            key_positions(&argv(&["MIGRATE", "h", "1", "", "0", "5", "AUTH2", "keys", "keys", "keys"])),
            Vec::<usize>::new()
        );
        assert_eq!(key_positions(&argv(&["MIGRATE", "h", "1", "k", "0", "5", "KEYS", "a"])), Vec::<usize>::new());
    }

    #[test]
    fn the_request_restores_with_the_ttl_left() {
        let argv = test_argv("MIGRATE h 1 k 0 100 REPLACE AUTH2 u p");
        let opts = options(&argv, |_| {}).unwrap();
        let now_ms = crate::clock::unix_ms();
        let mut keys = vec![
            Migrating { key: Bytes::from("a"), expire_at_ms: None, payload: b"P1".to_vec() },
            Migrating { key: Bytes::from("gone"), expire_at_ms: Some(now_ms - 10), payload: b"P2".to_vec() },
            Migrating { key: Bytes::from("b"), expire_at_ms: Some(now_ms + 60_000), payload: b"P3".to_vec() },
        ];
        let sent = String::from_utf8(request(&opts, &mut keys, 3, true)).unwrap();
        assert_eq!(keys.len(), 2);
        let head = "*3\r\n$4\r\nAUTH\r\n$1\r\nu\r\n$1\r\np\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n\
                    *5\r\n$7\r\nRESTORE\r\n$1\r\na\r\n$1\r\n0\r\n$2\r\nP1\r\n$7\r\nREPLACE\r\n\
                    *5\r\n$7\r\nRESTORE\r\n$1\r\nb\r\n$5\r\n";
        assert!(sent.starts_with(head), "{sent:?}");
        let ttl: i64 = sent[head.len()..head.len() + 5].parse().unwrap();
        assert!((59_000..=60_000).contains(&ttl), "{ttl}");
        assert!(sent.ends_with("\r\n$2\r\nP3\r\n$7\r\nREPLACE\r\n"));
        let argv = test_argv("MIGRATE h 1 k 0 100");
        let opts = options(&argv, |_| {}).unwrap();
        let mut keys = vec![Migrating { key: Bytes::from("a"), expire_at_ms: None, payload: b"P".to_vec() }];
        assert_eq!(request(&opts, &mut keys, 0, false), b"*4\r\n$7\r\nRESTORE\r\n$1\r\na\r\n$1\r\n0\r\n$1\r\nP\r\n");
    }

    /// How the scripted target answers one request.
    #[derive(Debug, Clone)]
    enum Answer {
        Line(&'static str),
        /// The line, then the connection is closed.
        LineThenClose(&'static str),
        Close,
        Silent,
    }

    type Script = dyn Fn(usize, &[String]) -> Answer + Send + Sync;

    /// A scripted target instance: each request it reads on its `n`th accepted connection is recorded and
    /// answered by `script(n, argv)`.
    struct FakeTarget {
        port: u16,
        seen: Arc<Mutex<Vec<Vec<String>>>>,
        accepted: Arc<AtomicUsize>,
    }

    impl FakeTarget {
        fn new(script: impl Fn(usize, &[String]) -> Answer + Send + Sync + 'static) -> FakeTarget {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let port = listener.local_addr().unwrap().port();
            let (seen, accepted) = (Arc::new(Mutex::new(Vec::new())), Arc::new(AtomicUsize::new(0)));
            let script: Arc<Script> = Arc::new(script);
            let (seen_by_thread, accepted_by_thread) = (seen.clone(), accepted.clone());
            thread::spawn(move || {
                for stream in listener.incoming() {
                    let Ok(stream) = stream else { return };
                    let index = accepted_by_thread.fetch_add(1, Ordering::SeqCst);
                    let (seen, script) = (seen_by_thread.clone(), script.clone());
                    thread::spawn(move || serve(stream, index, &*script, &seen));
                }
            });
            FakeTarget { port, seen, accepted }
        }

        /// The command names and first arguments it received, `SELECT 3`, `RESTORE k`.
        fn commands(&self) -> Vec<String> {
            let seen = self.seen.lock().unwrap();
            seen.iter().map(|argv| argv.iter().take(2).cloned().collect::<Vec<_>>().join(" ")).collect()
        }

        fn accepted(&self) -> usize {
            self.accepted.load(Ordering::SeqCst)
        }
    }

    fn serve(stream: TcpStream, index: usize, script: &Script, seen: &Mutex<Vec<Vec<String>>>) {
        let mut writer = stream.try_clone().unwrap();
        let mut reader = BufReader::new(stream);
        while let Some(argv) = read_request(&mut reader) {
            seen.lock().unwrap().push(argv.clone());
            match script(index, &argv) {
                Answer::Line(line) => writer.write_all(format!("{line}\r\n").as_bytes()).unwrap(),
                Answer::LineThenClose(line) => {
                    writer.write_all(format!("{line}\r\n").as_bytes()).unwrap();
                    return;
                }
                Answer::Close => return,
                Answer::Silent => {}
            }
        }
    }

    fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Vec<String>> {
        let mut line = String::new();
        let mut next_line = |reader: &mut BufReader<TcpStream>| {
            line.clear();
            reader.read_line(&mut line).ok().filter(|&n| n > 0)?;
            line.trim_end().get(1..)?.parse::<usize>().ok()
        };
        let count = next_line(reader)?;
        let mut argv = Vec::new();
        for _ in 0..count {
            let len = next_line(reader)?;
            let mut arg = vec![0; len + 2];
            reader.read_exact(&mut arg).ok()?;
            arg.truncate(len);
            argv.push(String::from_utf8_lossy(&arg).into_owned());
        }
        Some(argv)
    }

    /// Answers +OK to everything.
    fn ok(_: usize, _: &[String]) -> Answer {
        Answer::Line("+OK")
    }

    fn server() -> (TestServer, ClientId) {
        let mut t = TestServer::new();
        let me = t.connect();
        (t, me)
    }

    #[test]
    fn keys_move_with_their_ttl_and_the_connection_is_cached() {
        let target = FakeTarget::new(ok);
        let (mut t, me) = server();
        t.state.set_propagating(true);
        t.run(me, "SET a 1 PX 100000");
        t.run(me, "SET b 2");
        t.state.propagation.stream.clear();
        let port = target.port;
        assert_eq!(t.run(me, &format!("MIGRATE 127.0.0.1 {port} a 3 1000")), "+OK\r\n");
        assert_eq!(t.run(me, "EXISTS a"), ":0\r\n");
        let stream = String::from_utf8_lossy(&t.state.propagation.stream).into_owned();
        assert!(stream.ends_with("*2\r\n$3\r\nDEL\r\n$1\r\na\r\n"), "{stream:?}");
        let ttl: i64 = target.seen.lock().unwrap()[1][2].parse().unwrap();
        assert!((99_000..=100_000).contains(&ttl), "{ttl}");
        // The same database again: no SELECT; the same connection.
        assert_eq!(t.run(me, &format!("MIGRATE 127.0.0.1 {port} b 3 1000 COPY")), "+OK\r\n");
        assert_eq!(t.run(me, "EXISTS b"), ":1\r\n");
        assert_eq!(target.commands(), ["SELECT 3", "RESTORE a", "RESTORE b"]);
        assert_eq!(target.seen.lock().unwrap()[2][2], "0", "no TTL");
        assert_eq!(target.accepted(), 1);
        assert!(t.run(me, "INFO stats").contains("migrate_cached_sockets:1\r\n"));
        t.state.migrate_sockets.close_idle(crate::clock::unix_ms() / 1000 + 11);
        assert!(t.run(me, "INFO stats").contains("migrate_cached_sockets:0\r\n"));
    }

    #[test]
    fn db_minus_one_on_a_new_connection_sends_no_select() {
        let target = FakeTarget::new(ok);
        let (mut t, me) = server();
        t.run(me, "SET a 1");
        assert_eq!(t.run(me, &format!("MIGRATE 127.0.0.1 {} a -1 1000 REPLACE", target.port)), "+OK\r\n");
        assert_eq!(target.commands(), ["RESTORE a"]);
        assert_eq!(target.seen.lock().unwrap()[0].last().map(String::as_str), Some("REPLACE"));
    }

    #[test]
    fn only_acknowledged_keys_are_deleted_and_the_first_error_is_forwarded() {
        let target = FakeTarget::new(|_, argv| match argv[1].as_str() {
            "b" | "c" => Answer::Line("-BUSYKEY Target key name already exists."),
            _ => Answer::Line("+OK"),
        });
        let (mut t, me) = server();
        t.state.set_propagating(true);
        t.run(me, "MSET a 1 b 2 c 3 d 4");
        t.state.propagation.stream.clear();
        let got = t.run(me, &format!("MIGRATE 127.0.0.1 {}  0 1000 KEYS a nokey b c d", target.port));
        assert_eq!(got, "-ERR Target instance replied with error: BUSYKEY Target key name already exists.\r\n");
        assert_eq!(t.run(me, "EXISTS a b c d"), ":2\r\n");
        let stream = String::from_utf8_lossy(&t.state.propagation.stream).into_owned();
        assert!(stream.ends_with("*3\r\n$3\r\nDEL\r\n$1\r\na\r\n$1\r\nd\r\n"), "{stream:?}");
        // After an error the selected database is not trusted: SELECT again, on the same connection.
        assert_eq!(t.run(me, &format!("MIGRATE 127.0.0.1 {} b 0 1000", target.port)).as_bytes()[0], b'-');
        assert_eq!(
            target.commands(),
            ["SELECT 0", "RESTORE a", "RESTORE b", "RESTORE c", "RESTORE d", "SELECT 0", "RESTORE b"]
        );
        assert_eq!(target.accepted(), 1);
    }

    #[test]
    fn an_auth_or_select_error_is_reported_first_and_refuses_every_key() {
        let target = FakeTarget::new(|_, argv| match argv[0].as_str() {
            "AUTH" => Answer::Line("-WRONGPASS invalid username-password pair or user is disabled."),
            "SELECT" => Answer::Line("-ERR DB index is out of range"),
            _ => Answer::Line("+OK"),
        });
        let (mut t, me) = server();
        t.run(me, "SET a 1");
        let got = t.run(me, &format!("MIGRATE 127.0.0.1 {} a 99 1000 AUTH2 user pw", target.port));
        assert_eq!(
            got,
            "-ERR Target instance replied with error: WRONGPASS invalid username-password pair or user is disabled.\r\n"
        );
        let got = t.run(me, &format!("MIGRATE 127.0.0.1 {} a 99 1000", target.port));
        assert_eq!(got, "-ERR Target instance replied with error: ERR DB index is out of range\r\n");
        assert_eq!(t.run(me, "EXISTS a"), ":1\r\n", "restored there, but SELECT failed");
        assert_eq!(target.seen.lock().unwrap()[0], ["AUTH", "user", "pw"]);
    }

    #[test]
    fn a_connection_the_target_closed_is_replaced_once() {
        // The first connection is closed after its first exchange, the second ones at once.
        let target = FakeTarget::new(|connection, argv| match (connection, argv[0].as_str()) {
            (0, "RESTORE") => Answer::LineThenClose("+OK"),
            (1, _) => Answer::Close,
            _ => Answer::Line("+OK"),
        });
        let (mut t, me) = server();
        t.run(me, "MSET a 1 b 2 c 3");
        let port = target.port;
        assert_eq!(t.run(me, &format!("MIGRATE 127.0.0.1 {port} a 0 1000")), "+OK\r\n");
        // The cached connection is dead, and so is the new one: the error after one retry.
        assert_eq!(t.run(me, &format!("MIGRATE 127.0.0.1 {port} b 0 1000")), format!("-{IOERR_READING}\r\n"));
        assert_eq!(target.accepted(), 2);
        assert_eq!(t.run(me, &format!("MIGRATE 127.0.0.1 {port} c 0 1000")), "+OK\r\n");
        assert_eq!(target.accepted(), 3);
        assert_eq!(t.run(me, "EXISTS a b c"), ":1\r\n");
    }

    #[test]
    fn a_failure_after_some_replies_keeps_what_was_acknowledged() {
        let target = FakeTarget::new(|_, argv| match argv[1].as_str() {
            "b" => Answer::Close,
            _ => Answer::Line("+OK"),
        });
        let (mut t, me) = server();
        t.run(me, "MSET a 1 b 2 c 3");
        let got = t.run(me, &format!("MIGRATE 127.0.0.1 {}  0 1000 KEYS a b c", target.port));
        assert_eq!(got, format!("-{IOERR_READING}\r\n"));
        assert_eq!(t.run(me, "EXISTS a b c"), ":2\r\n");
        assert_eq!(target.accepted(), 1, "no retry once a reply was read");
    }

    #[test]
    fn a_silent_target_times_out_without_a_retry() {
        let target = FakeTarget::new(|_, _| Answer::Silent);
        let (mut t, me) = server();
        t.run(me, "SET a 1");
        let started = Instant::now();
        assert_eq!(t.run(me, &format!("MIGRATE 127.0.0.1 {} a 0 200", target.port)), format!("-{IOERR_READING}\r\n"));
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(200) && took < Duration::from_secs(3), "{took:?}");
        assert_eq!(target.accepted(), 1);
        assert_eq!(t.run(me, "EXISTS a"), ":1\r\n");
        assert!(t.run(me, "INFO stats").contains("migrate_cached_sockets:0\r\n"), "a failed socket is closed");
    }

    #[test]
    fn nothing_to_move_or_no_one_to_move_it_to() {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let (mut t, me) = server();
        assert_eq!(t.run(me, &format!("MIGRATE 127.0.0.1 {port} a 0 1000")), "+NOKEY\r\n");
        assert_eq!(t.run(me, &format!("MIGRATE 127.0.0.1 {port}  0 1000 KEYS")), "+NOKEY\r\n");
        t.run(me, "SET a 1");
        // Redis 7.0 takes a connect that fails after EINPROGRESS for a connection whose writes fail.
        assert_eq!(t.run(me, &format!("MIGRATE 127.0.0.1 {port} a 0 1000")), format!("-{IOERR_WRITING}\r\n"));
        assert_eq!(t.run(me, &format!("MIGRATE  {port} a 0 1000")), format!("-{IOERR_CONNECTING}\r\n"));
        assert_eq!(t.run(me, "MIGRATE 127.0.0.1 1 a x 1000"), "-ERR value is not an integer or out of range\r\n");
        assert_eq!(t.run(me, "MIGRATE 127.0.0.1 1 a 0 1000 KEYS a"), format!("-{KEYS_NEED_EMPTY_KEY}\r\n"));
        assert_eq!(t.run(me, "EXISTS a"), ":1\r\n");
    }

    #[test]
    fn command_getkeys_falls_back_to_migrate_get_keys_once_keys_matched() {
        let (mut t, me) = server();
        assert_eq!(t.run(me, "COMMAND GETKEYS MIGRATE h 6379 key 0 5000"), "*1\r\n$3\r\nkey\r\n");
        assert_eq!(t.run(me, "COMMAND GETKEYS MIGRATE h 6379  0 5000 KEYS k1 k2"), "*2\r\n$2\r\nk1\r\n$2\r\nk2\r\n");
        let got = t.run(me, "COMMAND GETKEYSANDFLAGS MIGRATE h 6379  0 5000 AUTH keys KEYS k1");
        assert_eq!(got, "*1\r\n*2\r\n$2\r\nk1\r\n*3\r\n+RW\r\n+access\r\n+delete\r\n");
    }

    #[test]
    fn target_errors_are_quoted_on_one_line() {
        assert_eq!(target_error(b"BUSYKEY x\ry"), b"ERR Target instance replied with error: BUSYKEY x y");
    }
}
