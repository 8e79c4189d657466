//! DEBUG: the subcommands tests and tools rely on, OBJECT, QUICKLIST-PACKED-THRESHOLD, SLEEP,
//! SET-ACTIVE-EXPIRE, SET-DISABLE-DENY-SCRIPTS (scripts may call `noscript` commands), PAUSE-CRON and LOADAOF,
//! plus HELP. Any other
//! subcommand, or a wrong argument count, gets Redis's `addReplySubcommandSyntaxError` text.
//!
//! Like Redis 7.0, DEBUG is refused unless `enable-debug-command` is `yes` (or `local`, for a loopback
//! client); test suites start the server with `--enable-debug-command yes`. Redis checks this before
//! authentication, we check it in the handler: only an unauthenticated DEBUG sees a different error (NOAUTH).
//!
//! Redis parses DEBUG's numbers loosely (`strtod` and `atoi`: a bad number reads as 0, trailing garbage is
//! ignored), and so do we, because test suites send e.g. `DEBUG SLEEP 0` or `1` and expect no error.
//! `DEBUG OBJECT`'s `serializedlength` is the RDB length of the value, LZF included when `rdbcompression` is on.
//! RELOAD saves, empties and loads the dataset for real through `crate::persist`.

use bytes::Bytes;
use std::time::Duration;

use super::super::Ctx;
use super::super::errors::{self, CmdResult};
use crate::db::{Value, digest};
use crate::resp::reply::Reply;
use crate::types::list_object;
use crate::util::num::atoi;

/// DEBUG HELP: Redis's lines for the subcommands we have.
const HELP: &[&str] = &[
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "LOADAOF",
    "    Flush the AOF buffers on disk and reload the AOF in memory.",
    "OBJECT <key>",
    "    Show low level info about `key` and associated value.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type. <type> can be: string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
    "    true, false.",
    "RELOAD [option ...]",
    "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
    "    * MERGE: conflicting keys will be loaded from RDB.",
    "    * NOFLUSH: the existing database will not be removed before load, but",
    "      conflicting keys will generate an exception and kill the server.",
    "    * NOSAVE: the database will be loaded from an existing RDB file.",
    "    Examples:",
    "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
    "      the database.",
    "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
    "      existing RDB file.",
    "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
    "      file to the database.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "QUICKLIST-PACKED-THRESHOLD <size>",
    "    Sets the threshold for elements to be inserted as plain vs packed nodes",
    "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
];

/// DEBUG PROTOCOL's sample double: Redis's literal 3.141 (not π; clippy would suggest the constant).
#[allow(clippy::approx_constant)]
const PROTOCOL_DOUBLE: f64 = 3.141;
/// DEBUG PROTOCOL's answer to a type it does not know.
const PROTOCOL_TYPES_ERROR: &str = "ERR Wrong protocol type name. Please use one of the following: \
                                    string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false";

/// The access word's width Redis shows (its LRU_BITS): `lru:` is the key's word modulo 2^24.
const LRU_CLOCK_MAX: u32 = (1 << 24) - 1;

/// Redis refuses DEBUG unless `enable-debug-command` allows the caller (it is `no` by default).
const NOT_ALLOWED: &str = "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", \
                           you can run it from a local connection, otherwise you need to set this option in the \
                           configuration file, and then restart the server.";

pub(super) fn debug(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let local = super::caller_is_local(ctx);
    if !ctx.state.config.enable_debug_command.allows(local) {
        return Err(NOT_ALLOWED.into());
    }
    // DEBUG is one command in Redis, which matches its subcommands with strcasecmp: they end at a NUL.
    let mut args = ctx.args();
    let sub = args.next_keyword()?;
    match args.remaining() {
        0 if sub.is("help") => super::reply_help(reply, "DEBUG", HELP),
        0 if sub.is("digest") => reply.simple(&digest::hex(&digest::dataset_digest(&ctx.state.keyspace.dbs))),
        _ if sub.is("digest-value") => debug_digest_value(ctx, reply, args.rest()),
        1 if sub.is("object") => debug_object(ctx, reply, args.next_key()?)?,
        1 if sub.is("protocol") => debug_protocol(args.next_keyword()?.as_bytes(), reply)?,
        1 if sub.is("sleep") => {
            sleep_like_nanosleep(strtod_prefix(args.next_bytes()?));
            reply.ok();
        }
        1 if sub.is("quicklist-packed-threshold") => {
            let set = crate::config::memory_to_u64(args.next_bytes()?).is_some_and(list_object::set_packed_threshold);
            if !set {
                return Err("ERR argument must be a memory value bigger than 1 and smaller than 4gb".into());
            }
            reply.ok();
        }
        0 if sub.is("loadaof") => debug_loadaof(ctx, reply),
        _ if sub.is("reload") => debug_reload(ctx, reply, args.rest())?,
        1..=3 if sub.is("populate") => debug_populate(ctx, reply, args.rest())?,
        1 if sub.is("pause-cron") => {
            ctx.state.cron_paused = atoi(args.next_bytes()?) != 0;
            reply.ok();
        }
        1 if sub.is("set-disable-deny-scripts") => {
            ctx.state.script_disable_deny = atoi(args.next_bytes()?) != 0;
            reply.ok();
        }
        1 if sub.is("set-active-expire") => {
            ctx.state.active_expire_enabled = atoi(args.next_bytes()?) != 0;
            reply.ok();
        }
        _ => return Err(errors::subcommand_syntax(&ctx.argv[0], &ctx.argv[1])),
    }
    Ok(())
}

/// DEBUG POPULATE count [prefix] [size]: adds string keys `<prefix>:<j>` (prefix `key`) holding `value:<j>`,
/// cut or padded with zero bytes to `size` when given, for j below `count`, skipping names that exist, as
/// Redis's debugCommand does (no keyspace event, no dirty count, but WATCH and tracking see the keys).
fn debug_populate(ctx: &mut Ctx<'_>, reply: &mut Reply, args: &[Bytes]) -> CmdResult {
    // getPositiveLongFromObjectOrReply: anything but a non-negative integer gets the range error.
    let positive = |arg: &[u8]| {
        crate::util::num::parse_i64(arg)
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(|| errors::CmdError::from(errors::POP_COUNT_RANGE))
    };
    let count = positive(&args[0])?;
    let prefix = args.get(1).map_or(&b"key"[..], |p| &p[..]);
    let size = args.get(2).map(|s| positive(s)).transpose()?;
    // Redis would try to allocate any size; a value longer than a client could send is refused instead.
    if size.is_some_and(|size| size > ctx.state.config.proto_max_bulk_len) {
        return Err("ERR size is larger than proto-max-bulk-len".into());
    }
    let now_ms = ctx.now_ms;
    ctx.db().reserve(usize::try_from(count).unwrap_or(usize::MAX).min(crate::limits::POPULATE_RESERVE_MAX));
    let (mut key, mut value, mut digits) = (Vec::new(), Vec::new(), itoa::Buffer::new());
    for j in 0..count {
        let j_text = digits.format(j).as_bytes();
        key.clear();
        key.extend_from_slice(prefix);
        key.push(b':');
        key.extend_from_slice(j_text);
        if ctx.db().contains(&key, now_ms) {
            continue;
        }
        value.clear();
        value.extend_from_slice(b"value:");
        value.extend_from_slice(j_text);
        if let Some(size) = size {
            value.resize(size as usize, 0);
        }
        // `set`, not an insert: with expiry paused, a stale key of that name is still stored.
        ctx.db().set(&key, Value::from_bytes(&value), false, now_ms);
        ctx.key_changed(&key);
    }
    reply.ok();
    Ok(())
}

/// DEBUG LOADAOF: the AOF's pending writes go to disk, the dataset is emptied and the files replayed. A
/// failure exits the process, as in Redis: a half-loaded dataset must not be served as if whole.
fn debug_loadaof(ctx: &mut Ctx<'_>, reply: &mut Reply) {
    let Some(reload) = ctx.state.aof.reload else {
        reply.error("ERR AOF is not enabled");
        return;
    };
    if let Err(line) = reload(ctx.state) {
        crate::log!(Warning, "{line}");
        std::process::exit(1);
    }
    reply.ok();
}

/// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save the snapshot (unless NOSAVE), empty the dataset (unless
/// NOFLUSH or MERGE) and load the file back; MERGE lets loaded keys replace existing ones.
fn debug_reload(ctx: &mut Ctx<'_>, reply: &mut Reply, flags: &[Bytes]) -> CmdResult {
    let (mut merge, mut flush, mut save) = (false, true, true);
    for flag in flags {
        let flag = super::super::args::Keyword::of(flag);
        if flag.is("merge") {
            merge = true;
        } else if flag.is("noflush") {
            flush = false;
        } else if flag.is("nosave") {
            save = false;
        } else {
            return Err("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.".into());
        }
    }
    if save && crate::persist::save(ctx.state).is_err() {
        return Err("ERR".into());
    }
    let mode = match (flush && !merge, merge) {
        (true, _) => crate::persist::LoadMode::Replace,
        (false, true) => crate::persist::LoadMode::Merge,
        (false, false) => crate::persist::LoadMode::Add,
    };
    if mode == crate::persist::LoadMode::Replace {
        // Emptying the dataset invalidates every cached key, as Redis's emptyData does.
        crate::cmd::tracking::flushed(ctx.state);
    }
    let path = crate::persist::rdb_path(&ctx.state.config);
    let loaded = crate::persist::load_file(ctx.state, &path, mode).map_err(|e| e.to_string()).and_then(|r| r);
    if let Err(e) = loaded {
        crate::log!(Warning, "{}", e);
        return Err("ERR Error trying to load the RDB dump, check server logs.".into());
    }
    crate::log!(Notice, "DB reloaded by DEBUG RELOAD");
    reply.ok();
    Ok(())
}

/// DEBUG DIGEST-VALUE key...: one digest per key, of its value as stored (a logically expired key still has
/// one, as in Redis, which looks the keys up without expiring them); all zeros for a missing key.
fn debug_digest_value(ctx: &mut Ctx<'_>, reply: &mut Reply, keys: &[Bytes]) {
    reply.array(keys.len());
    let db = ctx.db();
    for key in keys {
        let value_digest = db.find_raw(key).map(digest::value_digest).unwrap_or_default();
        reply.simple(&digest::hex(&value_digest));
    }
}

/// DEBUG PROTOCOL type: a sample reply of each RESP type, which client libraries and Redis's suite use to test
/// their parsers.
fn debug_protocol(name: &[u8], reply: &mut Reply) -> CmdResult {
    match name.to_ascii_lowercase().as_slice() {
        b"string" => reply.bulk(b"Hello World"),
        b"integer" => reply.int(12345),
        b"double" => reply.double(PROTOCOL_DOUBLE),
        b"bignum" => reply.big_number(b"1234567999999999999999999999999999999"),
        b"null" => reply.null(),
        b"array" => {
            reply.array(3);
            (0..3).for_each(|n| reply.int(n));
        }
        b"set" => {
            reply.set(3);
            (0..3).for_each(|n| reply.int(n));
        }
        b"map" => {
            reply.map(3);
            for n in 0..3 {
                reply.int(n);
                reply.bool(n == 1);
            }
        }
        b"attrib" => {
            // Attributes are not a reply of their own, so a real reply follows them, and RESP2 gets only that.
            if reply.resp3 {
                reply.attribute(1);
                reply.bulk(b"key-popularity");
                reply.array(2);
                reply.bulk(b"key:123");
                reply.int(90);
            }
            reply.bulk(b"Some real reply following the attribute");
        }
        b"push" => {
            if !reply.resp3 {
                return Err("ERR RESP2 is not supported by this command".into());
            }
            // A push is out of band, so a real reply follows it for clients that wait for one.
            reply.push(2);
            reply.bulk(b"server-cpu-usage");
            reply.int(42);
            reply.bulk(b"Some real reply following the push reply");
        }
        b"true" => reply.bool(true),
        b"false" => reply.bool(false),
        b"verbatim" => reply.verbatim("txt", b"This is a verbatim\nstring"),
        _ => return Err(PROTOCOL_TYPES_ERROR.into()),
    }
    Ok(())
}

/// DEBUG OBJECT key: Redis's one status line about the value, with its access word as `lru:` and, under a
/// non-LFU policy, its idle seconds (under LFU the word is a counter, and Redis's figure means nothing).
fn debug_object(ctx: &mut Ctx<'_>, reply: &mut Reply, key: &[u8]) -> CmdResult {
    let now_ms = ctx.now_ms;
    let compress = ctx.state.config.rdbcompression;
    let lfu = ctx.db().policy.access.lfu;
    // The table as it is, as debug.c's dictFind: a key past its deadline is still shown, not expired.
    let entry = ctx.db().find_raw(key).ok_or(errors::NO_SUCH_KEY)?;
    let (value, word) = (&entry.value, entry.access_word());
    let idle_s = if lfu { 0 } else { crate::db::access::lru_idle_s(word, now_ms) };
    let line = format!(
        "Value at:{:p} refcount:{} encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{}",
        value,
        value.refcount(),
        value.encoding(),
        serialized_len(value, compress),
        word & LRU_CLOCK_MAX,
        idle_s,
    );
    reply.simple(&line);
    Ok(())
}

/// Bytes the value's body takes in an RDB file written with `compress` (`rdbcompression`): Redis's
/// `rdbSavedObjectLen`, which DEBUG OBJECT reports.
fn serialized_len(value: &Value, compress: bool) -> usize {
    let mut out = Vec::new();
    crate::rdb::encode::value(&mut out, value, crate::rdb::Options { compress });
    out.len()
}

/// Sleeps as Redis's `nanosleep` of `seconds` truncated to microseconds: nothing for zero, negative, NaN,
/// infinite or overflowing times (nanosleep rejects them), the given time otherwise.
fn sleep_like_nanosleep(seconds: f64) {
    let micros = seconds * 1e6;
    if (1.0..9.2e18).contains(&micros) {
        std::thread::sleep(Duration::from_micros(micros as u64));
    }
}

/// C's `strtod` on a string: the value of its longest numeric prefix after leading whitespace, 0 if none.
/// Decimal forms and `inf`/`infinity`/`nan` are read; hexadecimal forms read as their leading `0`.
fn strtod_prefix(s: &[u8]) -> f64 {
    let s = trim_c_space(s);
    let sign_len = usize::from(matches!(s.first(), Some(b'+' | b'-')));
    let body = &s[sign_len..];
    let lower = body.iter().take(8).map(u8::to_ascii_lowercase).collect::<Vec<u8>>();
    let special = ["infinity", "inf", "nan"].into_iter().find(|word| lower.starts_with(word.as_bytes()));
    let len = match special {
        Some(word) => word.len(),
        None => decimal_prefix_len(body),
    };
    std::str::from_utf8(&s[..sign_len + len]).ok().and_then(|t| t.parse().ok()).unwrap_or(0.0)
}

/// Length of the longest `digits[.digits][e[sign]digits]` prefix (at least one mantissa digit), else 0.
fn decimal_prefix_len(s: &[u8]) -> usize {
    let digits = |from: usize| s[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let int_len = digits(0);
    let mut end = int_len;
    let mut mantissa_digits = int_len;
    if s.get(end) == Some(&b'.') {
        let frac_len = digits(end + 1);
        mantissa_digits += frac_len;
        end += 1 + frac_len;
    }
    if mantissa_digits == 0 {
        return 0;
    }
    if matches!(s.get(end), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(s.get(end + 1), Some(b'+' | b'-')));
        let exp_len = digits(end + 1 + sign);
        if exp_len > 0 {
            end += 1 + sign + exp_len;
        }
    }
    end
}

/// Drops the leading bytes C's `isspace` accepts.
fn trim_c_space(s: &[u8]) -> &[u8] {
    let skip = s.iter().take_while(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')).count();
    &s[skip..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::admin::testkit::TestServer;
    use crate::config::Allow;

    #[test]
    fn debug_subcommands() {
        let mut t = TestServer::new();
        let me = t.connect();
        assert_eq!(t.run(me, "DEBUG SLEEP 0"), format!("-{NOT_ALLOWED}\r\n"));
        t.state.config.enable_debug_command = Allow::Local;
        assert_eq!(t.run(me, "DEBUG SLEEP 0"), "+OK\r\n");
        t.state.config.enable_debug_command = Allow::Yes;
        t.run(me, "SET n 123");
        let object = t.run(me, "DEBUG OBJECT n");
        assert!(object.starts_with("+Value at:0x"), "{object}");
        assert!(object.contains(" refcount:2147483647 encoding:int serializedlength:2 lru:"), "{object}");
        assert_eq!(t.run(me, "DEBUG OBJECT nosuch"), "-ERR no such key\r\n");
        assert_eq!(t.run(me, "DEBUG SET-ACTIVE-EXPIRE 0"), "+OK\r\n");
        assert!(!t.state.active_expire_enabled);
        assert_eq!(t.run(me, "DEBUG set-active-expire 2"), "+OK\r\n");
        assert!(t.state.active_expire_enabled);
        assert_eq!(t.run(me, "DEBUG SLEEP 0"), "+OK\r\n");
        let error = "-ERR unknown subcommand or wrong number of arguments for 'Sleep'. Try DEBUG HELP.\r\n";
        assert_eq!(t.run(me, "DEBUG Sleep"), error);
        assert!(t.run(me, "DEBUG JMAP").contains("for 'JMAP'. Try DEBUG HELP."));
        assert!(t.run(me, "DEBUG HELP").starts_with("*37\r\n+DEBUG <subcommand>"));
        let zeros = "0".repeat(40);
        assert_eq!(t.run(me, "DEBUG DIGEST-VALUE nosuch"), format!("*1\r\n+{zeros}\r\n"));
        assert_eq!(t.run(me, "DEBUG DIGEST-VALUE"), "*0\r\n");
        assert_ne!(t.run(me, "DEBUG DIGEST"), format!("+{zeros}\r\n"));
        assert_eq!(t.run(me, "DEBUG PROTOCOL bignum"), "$37\r\n1234567999999999999999999999999999999\r\n");
        assert_eq!(t.run(me, "DEBUG PROTOCOL push"), "-ERR RESP2 is not supported by this command\r\n");
        assert!(t.run(me, "DEBUG PROTOCOL pi").starts_with("-ERR Wrong protocol type name."));
    }

    #[test]
    fn quicklist_packed_threshold_takes_memory_values_below_4gb() {
        let mut t = TestServer::with_config(crate::config::Config {
            enable_debug_command: Allow::Yes,
            port: 0,
            ..Default::default()
        });
        let me = t.connect();
        let refused = "-ERR argument must be a memory value bigger than 1 and smaller than 4gb\r\n";
        assert_eq!(t.run(me, "DEBUG QUICKLIST-PACKED-THRESHOLD 5x"), refused);
        assert_eq!(t.run(me, "DEBUG QUICKLIST-PACKED-THRESHOLD 5000000000"), refused);
        assert_eq!(t.run(me, "DEBUG quicklist-packed-threshold 1b"), "+OK\r\n");
        // Every element is now large: each gets a node of its own, and the list still reads back the same.
        t.run(me, "RPUSH l a bb ccc");
        t.run(me, "LINSERT l BEFORE bb x");
        t.run(me, "LSET l 0 y");
        assert_eq!(t.run(me, "LRANGE l 0 -1"), "*4\r\n$1\r\ny\r\n$1\r\nx\r\n$2\r\nbb\r\n$3\r\nccc\r\n");
        // A node per element costs more than packed nodes: the setting acts on the structure.
        let usage = |t: &mut TestServer, key: &str| t.run(me, &format!("MEMORY USAGE {key} SAMPLES 0"));
        for i in 0..100 {
            t.run(me, &format!("RPUSH plain {i}"));
        }
        assert_eq!(t.run(me, "DEBUG QUICKLIST-PACKED-THRESHOLD 0"), "+OK\r\n");
        for i in 0..100 {
            t.run(me, &format!("RPUSH packed {i}"));
        }
        let bytes = |reply: String| reply.trim_start_matches(':').trim_end().parse::<usize>().unwrap();
        assert!(bytes(usage(&mut t, "plain")) > 2 * bytes(usage(&mut t, "packed")));
    }

    #[test]
    fn strtod_reads_the_numeric_prefix() {
        assert_eq!(strtod_prefix(b"0.1"), 0.1);
        assert_eq!(strtod_prefix(b" 1"), 1.0);
        assert_eq!(strtod_prefix(b"1e-1"), 0.1);
        assert_eq!(strtod_prefix(b"2.5xyz"), 2.5);
        assert_eq!(strtod_prefix(b"1e"), 1.0);
        assert_eq!(strtod_prefix(b"-.5"), -0.5);
        assert_eq!(strtod_prefix(b"."), 0.0);
        assert_eq!(strtod_prefix(b"x"), 0.0);
        assert_eq!(strtod_prefix(b""), 0.0);
        assert_eq!(strtod_prefix(b"0x1"), 0.0);
        assert!(strtod_prefix(b"INF").is_infinite());
        assert!(strtod_prefix(b"-infinity").is_infinite());
        assert!(strtod_prefix(b"nan").is_nan());
    }

    #[test]
    fn serialized_lengths_match_redis() {
        // Values checked against DEBUG OBJECT on Redis 7.0.
        assert_eq!(serialized_len(&Value::from_arg(b"bar"), true), 4);
        assert_eq!(serialized_len(&Value::from_arg(b"123"), true), 2);
        assert_eq!(serialized_len(&Value::from_arg(b"12345"), true), 3);
        assert_eq!(serialized_len(&Value::from_arg(b""), true), 1);
        assert_eq!(serialized_len(&Value::from_arg(b"100000"), true), 5);
        assert_eq!(serialized_len(&Value::from_arg(b"10000000000"), true), 12);
        assert_eq!(serialized_len(&Value::from_bytes(b"12"), true), 2);
        assert_eq!(serialized_len(&Value::from_arg(b"007"), true), 4);
        assert_eq!(serialized_len(&Value::from_arg(&[b'x'; 100]), true), 13);
        assert_eq!(serialized_len(&Value::from_arg(&[b'x'; 100]), false), 102);
    }
}
