//! Keyspace commands (Redis's db.c and expire.c, plus OBJECT from object.c): DEL UNLINK EXISTS TOUCH TYPE
//! KEYS SCAN RANDOMKEY DBSIZE RENAME RENAMENX MOVE COPY SWAPDB FLUSHDB FLUSHALL, the EXPIRE and TTL families,
//! PERSIST, and OBJECT ENCODING|FREQ|IDLETIME|REFCOUNT|HELP.
//!
//! Each handler reads like its Redis counterpart and keeps its order of checks, because that order decides
//! which error a bad request gets: options are parsed before the keyspace is touched, and a failed check
//! leaves no side effect. The lookups are chosen as Redis chooses them, because they are observable: readers
//! that count keyspace hits (`read_key`, `peek_key`) versus writers that do not (`Db::get_entry`), and readers
//! that mark the key accessed for OBJECT IDLETIME (`read_key`, `get_entry`) versus those that do not (`peek_key`
//! in TTL, TYPE, EXISTS, OBJECT).
//!
//! Known differences from Redis, all in reply order or object-sharing details no client relies on: KEYS and
//! SCAN return keys in our shard order, and a SCAN cursor is a shard index (see `db`), so any cursor past the
//! last shard ends the iteration; KEYS deletes the stale keys it meets where Redis only skips them. Redis shares
//! one object per integer below 10000, so its OBJECT REFCOUNT and IDLETIME for such values describe the shared
//! object; we report the shared refcount for such integers (COPY's duplicates, which Redis does not share,
//! excepted: see `Value::OwnInt`) and a per-key idle time. There is no maxmemory policy yet, so OBJECT FREQ always gets Redis's
//! "not LFU" error and IDLETIME never gets the "LFU selected" one.

use bytes::Bytes;

use super::errors::{self, CmdError, CmdResult};
use super::{Ctx, Handlers, args};
use crate::resp::reply::Reply;
use crate::util::glob::glob_match;

/// This family's handlers by command name, bound to the entries of its src/cmd/meta file.
pub const HANDLERS: &[Handlers] = &[&[
    ("del", del),
    ("unlink", del),
    ("exists", exists),
    ("touch", touch),
    ("type", type_),
    ("keys", keys),
    ("scan", scan),
    ("randomkey", randomkey),
    ("rename", rename),
    ("renamenx", renamenx),
    ("move", move_),
    ("copy", copy),
    ("expire", expire),
    ("expireat", expireat),
    ("pexpire", pexpire),
    ("pexpireat", pexpireat),
    ("ttl", ttl),
    ("pttl", pttl),
    ("expiretime", expiretime),
    ("pexpiretime", pexpiretime),
    ("persist", persist),
    ("object", object),
    ("dbsize", dbsize),
    ("flushdb", flushdb),
    ("flushall", flushall),
    ("swapdb", swapdb),
    ("object|encoding", object_encoding),
    ("object|freq", object_freq),
    ("object|help", object_help),
    ("object|idletime", object_idletime),
    ("object|refcount", object_refcount),
]];

/// Redis's getIntFromObjectOrReply text for an integer outside the C `int` range (MOVE, COPY ... DB).
const INT_OUT_OF_RANGE: &str = "ERR value is out of range, value must between -2147483648 and 2147483647";
const LFU_NOT_SELECTED: &str = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please \
                                note that when switching between policies at runtime LRU and LFU data will take \
                                some time to adjust.";

/// The part of an argument before its first NUL byte. Redis matches options with `strcasecmp` and parses
/// cursors with `strtoul`, which stop there, so `NX\0junk` is NX to Redis and must be to us.
fn c_str(arg: &[u8]) -> &[u8] {
    arg.iter().position(|&c| c == 0).map_or(arg, |nul| &arg[..nul])
}

/// Whether `arg` names `option`, compared as Redis's `strcasecmp` compares it.
fn is_option(arg: &[u8], option: &str) -> bool {
    args::is(c_str(arg), option)
}

/// A database index argument as MOVE and COPY read it: a C `int` (getIntFromObjectOrReply), then an existing
/// database (selectDb).
fn db_index_arg(ctx: &Ctx<'_>, arg: &[u8]) -> Result<usize, CmdError> {
    let index = i32::try_from(args::int(arg)?).map_err(|_| INT_OUT_OF_RANGE)?;
    usize::try_from(index).ok().filter(|&i| i < ctx.state.keyspace.dbs.len()).ok_or(errors::DB_INDEX_RANGE.into())
}

/// DEL and UNLINK. UNLINK frees in the background in Redis; a string is one allocation, so freeing it here costs
/// no more than handing it off would.
fn del(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let argv = ctx.argv;
    let now_ms = ctx.now_ms;
    let mut deleted = 0;
    for key in &argv[1..] {
        if ctx.db().remove(key, now_ms).is_some() {
            ctx.key_changed(key);
            deleted += 1;
        }
    }
    reply.int(deleted);
    Ok(())
}

/// EXISTS counts a key once per mention, so `EXISTS k k` is 2.
fn exists(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let argv = ctx.argv;
    let found = argv[1..].iter().filter(|key| ctx.peek_key(key).is_some()).count();
    reply.int(found as i64);
    Ok(())
}

fn touch(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let argv = ctx.argv;
    let found = argv[1..].iter().filter(|key| ctx.read_key(key).is_some()).count();
    reply.int(found as i64);
    Ok(())
}

fn type_(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let argv = ctx.argv;
    reply.simple(ctx.peek_key(&argv[1]).map_or("none", |e| e.value.value_type().name()));
    Ok(())
}

fn keys(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let pattern = &ctx.argv[1];
    let all = &pattern[..] == b"*";
    let now_ms = ctx.now_ms;
    let start = reply.begin_array();
    let mut found = 0;
    ctx.db().for_each(now_ms, |entry| {
        if all || glob_match(pattern, entry.key(), false) {
            reply.bulk(entry.key());
            found += 1;
        }
    });
    reply.end_array(start, found);
    Ok(())
}

/// SCAN's options after the cursor.
#[derive(Debug)]
struct ScanOptions<'a> {
    count: usize,
    /// `None` when absent or `*`, which matches everything.
    pattern: Option<&'a [u8]>,
    type_name: Option<&'a [u8]>,
}

/// Parses `[MATCH pattern] [COUNT count] [TYPE type]` in any order, each possibly repeated (the last wins), as
/// Redis's scanGenericCommand does: an option without its value, or an unknown one, is a syntax error.
fn scan_options(options: &[Bytes]) -> Result<ScanOptions<'_>, CmdError> {
    let mut parsed = ScanOptions { count: 10, pattern: None, type_name: None };
    for pair in options.chunks(2) {
        let [name, value] = pair else { return Err(errors::SYNTAX.into()) };
        if is_option(name, "count") {
            parsed.count = usize::try_from(args::int(value)?).ok().filter(|&n| n >= 1).ok_or(errors::SYNTAX)?;
        } else if is_option(name, "match") {
            parsed.pattern = (&value[..] != b"*").then_some(&value[..]);
        } else if is_option(name, "type") {
            parsed.type_name = Some(c_str(value));
        } else {
            return Err(errors::SYNTAX.into());
        }
    }
    Ok(parsed)
}

/// A SCAN cursor read as Redis reads it with `strtoul`: an optional sign (a minus negates modulo 2^64), decimal
/// digits, nothing after them, no leading space, and no overflow. The empty string is cursor 0.
pub(crate) fn parse_cursor(arg: &[u8]) -> Option<u64> {
    let text = c_str(arg);
    let (negative, digits) = match text.first() {
        None => return Some(0),
        Some(b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') => return None,
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        Some(_) => (false, text),
    };
    if digits.is_empty() {
        return None;
    }
    let mut cursor: u64 = 0;
    for &c in digits {
        let digit = char::from(c).to_digit(10)?;
        cursor = cursor.checked_mul(10)?.checked_add(u64::from(digit))?;
    }
    Some(if negative { cursor.wrapping_neg() } else { cursor })
}

fn scan(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let argv = ctx.argv;
    let cursor = parse_cursor(&argv[1]).ok_or(errors::INVALID_CURSOR)?;
    let options = scan_options(&argv[2..])?;
    let now_ms = ctx.now_ms;
    let state = &mut *ctx.state;
    let stats = &mut state.stats;
    // The keys go to a scratch reply first, because the next cursor, which comes before them, is known only
    // after the scan.
    let mut keys = Reply::new(reply.resp3);
    let mut found = 0;
    let next = state.keyspace.dbs[ctx.db_index].scan(cursor, options.count, now_ms, |entry| {
        if options.pattern.is_some_and(|pattern| !glob_match(pattern, entry.key(), false)) {
            return;
        }
        if let Some(wanted) = options.type_name {
            // Redis looks each candidate up to learn its type, which counts as a keyspace hit.
            stats.keyspace_hits += 1;
            if !args::is(wanted, entry.value.value_type().name()) {
                return;
            }
        }
        keys.bulk(entry.key());
        found += 1;
    });
    reply.array(2);
    reply.bulk(itoa::Buffer::new().format(next).as_bytes());
    reply.array(found);
    reply.buf.extend_from_slice(&keys.buf);
    Ok(())
}

fn randomkey(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let now_ms = ctx.now_ms;
    let state = &mut *ctx.state;
    match state.keyspace.dbs[ctx.db_index].random_key(&mut state.rng, now_ms) {
        Some(key) => reply.bulk(&key),
        None => reply.null(),
    }
    Ok(())
}

fn rename(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    rename_generic(ctx, reply, false)
}

fn renamenx(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    rename_generic(ctx, reply, true)
}

/// RENAME and RENAMENX (`nx`). The value keeps its TTL under the new name. Renaming a key to itself changes
/// nothing but still needs the key to exist.
fn rename_generic(ctx: &mut Ctx<'_>, reply: &mut Reply, nx: bool) -> CmdResult {
    let argv = ctx.argv;
    let (src, dst) = (&argv[1], &argv[2]);
    let now_ms = ctx.now_ms;
    let db = ctx.db();
    if db.get_entry(src, now_ms).is_none() {
        return Err(errors::NO_SUCH_KEY.into());
    }
    if src == dst {
        if nx {
            reply.int(0)
        } else {
            reply.ok()
        }
        return Ok(());
    }
    if nx && db.get_entry(dst, now_ms).is_some() {
        reply.int(0);
        return Ok(());
    }
    let (value, expire_at_ms) = db.remove_entry(src, now_ms).expect("the source was found above");
    db.remove(dst, now_ms);
    db.insert_expiring(dst, value, expire_at_ms);
    ctx.key_changed(src);
    ctx.key_changed(dst);
    if nx {
        reply.int(1)
    } else {
        reply.ok()
    }
    Ok(())
}

/// MOVE key db: moves the key with its TTL unless the target database already has it.
fn move_(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let argv = ctx.argv;
    let key = &argv[1];
    let target = db_index_arg(ctx, &argv[2])?;
    if target == ctx.db_index {
        return Err(errors::SAME_OBJECT.into());
    }
    let now_ms = ctx.now_ms;
    let dbs = &mut ctx.state.keyspace.dbs;
    if dbs[ctx.db_index].get_entry(key, now_ms).is_none() || dbs[target].get_entry(key, now_ms).is_some() {
        reply.int(0);
        return Ok(());
    }
    let (value, expire_at_ms) = dbs[ctx.db_index].remove_entry(key, now_ms).expect("the key was found above");
    dbs[target].insert_expiring(key, value, expire_at_ms);
    ctx.key_changed(key);
    ctx.key_changed_in(target, key);
    reply.int(1);
    Ok(())
}

/// COPY source destination [DB index] [REPLACE]: options are checked in order, so the first bad one decides
/// the error, as in Redis.
fn copy(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let argv = ctx.argv;
    let (src, dst) = (&argv[1], &argv[2]);
    let mut replace = false;
    let mut target = ctx.db_index;
    let mut i = 3;
    while i < argv.len() {
        if is_option(&argv[i], "replace") {
            replace = true;
        } else if is_option(&argv[i], "db") && i + 1 < argv.len() {
            target = db_index_arg(ctx, &argv[i + 1])?;
            i += 1;
        } else {
            return Err(errors::SYNTAX.into());
        }
        i += 1;
    }
    if target == ctx.db_index && src == dst {
        return Err(errors::SAME_OBJECT.into());
    }
    if ctx.read_key(src).is_none() {
        reply.int(0);
        return Ok(());
    }
    copy_to(ctx, target, replace, reply);
    Ok(())
}

/// The part of COPY after the source was found: replace or keep the destination, then write the duplicate.
fn copy_to(ctx: &mut Ctx<'_>, target: usize, replace: bool, reply: &mut Reply) {
    let argv = ctx.argv;
    let (src, dst) = (&argv[1], &argv[2]);
    let now_ms = ctx.now_ms;
    let dbs = &mut ctx.state.keyspace.dbs;
    if dbs[target].get_entry(dst, now_ms).is_some() {
        if !replace {
            return reply.int(0);
        }
        dbs[target].remove(dst, now_ms);
    }
    let (value, expire_at_ms) = dbs[ctx.db_index].copy_entry(src, now_ms).expect("the source was found by COPY");
    dbs[target].insert_expiring(dst, value, expire_at_ms);
    ctx.key_changed_in(target, dst);
    reply.int(1);
}

fn expire(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let now_ms = ctx.now_ms;
    expire_generic(ctx, reply, now_ms, true)
}

fn expireat(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    expire_generic(ctx, reply, 0, true)
}

fn pexpire(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let now_ms = ctx.now_ms;
    expire_generic(ctx, reply, now_ms, false)
}

fn pexpireat(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    expire_generic(ctx, reply, 0, false)
}

/// EXPIRE's NX XX GT LT options.
#[derive(Debug, Default)]
struct ExpireFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

impl ExpireFlags {
    /// Parses the options after the time, as Redis's parseExtendedExpireArgumentsOrReply does.
    fn parse(options: &[Bytes]) -> Result<ExpireFlags, CmdError> {
        let mut flags = ExpireFlags::default();
        for option in options {
            let name = c_str(option);
            let flag = if args::is(name, "nx") {
                &mut flags.nx
            } else if args::is(name, "xx") {
                &mut flags.xx
            } else if args::is(name, "gt") {
                &mut flags.gt
            } else if args::is(name, "lt") {
                &mut flags.lt
            } else {
                let mut msg = b"ERR Unsupported option ".to_vec();
                msg.extend_from_slice(name);
                return Err(msg.into());
            };
            *flag = true;
        }
        if flags.nx && (flags.xx || flags.gt || flags.lt) {
            return Err("ERR NX and XX, GT or LT options at the same time are not compatible".into());
        }
        if flags.gt && flags.lt {
            return Err("ERR GT and LT options at the same time are not compatible".into());
        }
        Ok(flags)
    }

    fn any(&self) -> bool {
        self.nx || self.xx || self.gt || self.lt
    }

    /// Whether the new deadline `at_ms` may replace `current` (`None`: no TTL, which GT and LT treat as
    /// infinite).
    fn allow(&self, at_ms: i64, current: Option<i64>) -> bool {
        !(self.nx && current.is_some()
            || self.xx && current.is_none()
            || self.gt && current.is_none_or(|c| at_ms <= c)
            || self.lt && current.is_some_and(|c| at_ms >= c))
    }
}

/// The EXPIRE family: the time argument plus `base_ms` (now for relative forms, 0 for absolute ones), in seconds
/// or milliseconds. A deadline already past deletes the key and still replies 1, as Redis does.
fn expire_generic(ctx: &mut Ctx<'_>, reply: &mut Reply, base_ms: i64, seconds: bool) -> CmdResult {
    let argv = ctx.argv;
    let key = &argv[1];
    let flags = ExpireFlags::parse(&argv[3..])?;
    let when = args::int(&argv[2])?;
    let invalid = || errors::invalid_expire(ctx.cmd.spec.name);
    let when_ms = if seconds { when.checked_mul(1000).ok_or_else(invalid)? } else { when };
    let at_ms = when_ms.checked_add(base_ms).ok_or_else(invalid)?;
    let now_ms = ctx.now_ms;
    let db = ctx.db();
    let exists = db.get_entry(key, now_ms).is_some();
    if !exists || flags.any() && !flags.allow(at_ms, db.expire_at(key, now_ms).flatten()) {
        reply.int(0);
        return Ok(());
    }
    if at_ms <= now_ms {
        db.remove(key, now_ms);
    } else {
        db.set_expire(key, at_ms, now_ms);
    }
    ctx.key_changed(key);
    reply.int(1);
    Ok(())
}

fn ttl(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    ttl_generic(ctx, reply, false, false)
}

fn pttl(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    ttl_generic(ctx, reply, true, false)
}

fn expiretime(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    ttl_generic(ctx, reply, false, true)
}

fn pexpiretime(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    ttl_generic(ctx, reply, true, true)
}

/// TTL, PTTL, EXPIRETIME and PEXPIRETIME: -2 for a missing key, -1 for no TTL, else the time left (or the
/// deadline when `absolute`), in ms or in seconds rounded to nearest as Redis rounds: (ms + 500) / 1000.
fn ttl_generic(ctx: &mut Ctx<'_>, reply: &mut Reply, millis: bool, absolute: bool) -> CmdResult {
    let argv = ctx.argv;
    let now_ms = ctx.now_ms;
    if ctx.peek_key(&argv[1]).is_none() {
        reply.int(-2);
        return Ok(());
    }
    let Some(at_ms) = ctx.db().expire_at(&argv[1], now_ms).flatten() else {
        reply.int(-1);
        return Ok(());
    };
    // A live key's deadline is after now, so neither value is negative.
    let left_ms = (if absolute { at_ms } else { at_ms - now_ms }).max(0);
    // Rounded in u64: Redis's (ttl + 500) overflows for deadlines near i64::MAX and gets the true quotient.
    reply.int(if millis { left_ms } else { ((left_ms as u64 + 500) / 1000) as i64 });
    Ok(())
}

fn persist(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let argv = ctx.argv;
    let now_ms = ctx.now_ms;
    let removed = ctx.db().persist(&argv[1], now_ms);
    if removed {
        ctx.key_changed(&argv[1]);
    }
    reply.int(i64::from(removed));
    Ok(())
}

/// OBJECT alone is only a container: dispatch sends `OBJECT <sub>` to a subcommand, or replies with the
/// unknown-subcommand error itself, so this answers the same way should it ever be reached.
fn object(ctx: &mut Ctx<'_>, _reply: &mut Reply) -> CmdResult {
    Err(errors::unknown_subcommand(&ctx.argv[0], &ctx.argv[1]))
}

fn object_encoding(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let argv = ctx.argv;
    match ctx.peek_key(&argv[2]) {
        Some(entry) => reply.bulk(entry.value.encoding().as_bytes()),
        None => reply.null(),
    }
    Ok(())
}

/// OBJECT FREQ needs an LFU maxmemory policy, and we have none yet, so an existing key gets Redis's error.
fn object_freq(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let argv = ctx.argv;
    match ctx.peek_key(&argv[2]) {
        Some(_) => return Err(LFU_NOT_SELECTED.into()),
        None => reply.null(),
    }
    Ok(())
}

fn object_idletime(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let argv = ctx.argv;
    let now_ms = ctx.now_ms;
    match ctx.peek_key(&argv[2]) {
        Some(entry) => reply.int(i64::from(entry.idle_s(now_ms))),
        None => reply.null(),
    }
    Ok(())
}

/// Redis shares one object for each integer below 10000 and reports it with an `INT_MAX` count; every other
/// value has one owner.
fn object_refcount(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let argv = ctx.argv;
    match ctx.peek_key(&argv[2]).map(|e| &e.value) {
        Some(value) => reply.int(value.refcount()),
        None => reply.null(),
    }
    Ok(())
}

const OBJECT_HELP: &[&str] = &[
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
];

fn object_help(_ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    reply.array(OBJECT_HELP.len());
    for line in OBJECT_HELP {
        reply.simple(line);
    }
    Ok(())
}

fn dbsize(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    reply.int(ctx.db().len() as i64);
    Ok(())
}

/// FLUSHDB's and FLUSHALL's optional ASYNC|SYNC; without it they flush synchronously (Redis's default
/// `lazyfree-lazy-user-flush no`). Returns whether to free lazily.
fn flush_lazy(argv: &[Bytes]) -> Result<bool, CmdError> {
    match argv {
        [_] => Ok(false),
        [_, mode] if is_option(mode, "sync") => Ok(false),
        [_, mode] if is_option(mode, "async") => Ok(true),
        _ => Err(errors::SYNTAX.into()),
    }
}

fn flushdb(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let lazy = flush_lazy(ctx.argv)?;
    ctx.db_flushing(ctx.db_index);
    let removed = ctx.db().flush(lazy);
    // Redis counts one change per key removed.
    ctx.state.dirty += removed as u64;
    reply.ok();
    Ok(())
}

fn flushall(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let lazy = flush_lazy(ctx.argv)?;
    for index in 0..ctx.state.keyspace.dbs.len() {
        ctx.db_flushing(index);
        let removed = ctx.state.keyspace.dbs[index].flush(lazy);
        ctx.state.dirty += removed as u64;
    }
    // Redis counts one change per key removed plus one for the flush itself.
    ctx.state.dirty += 1;
    reply.ok();
    Ok(())
}

/// A SWAPDB index: a C `int`, else `msg` (Redis's getIntFromObjectOrReply with a message).
fn swapdb_index(arg: &[u8], msg: &'static str) -> Result<i32, CmdError> {
    args::int(arg).ok().and_then(|n| i32::try_from(n).ok()).ok_or(msg.into())
}

/// SWAPDB a b: clients keep their database numbers and see the other data.
fn swapdb(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let argv = ctx.argv;
    let first = swapdb_index(&argv[1], "ERR invalid first DB index")?;
    let second = swapdb_index(&argv[2], "ERR invalid second DB index")?;
    let dbs = ctx.state.keyspace.dbs.len();
    let in_range = |i: i32| usize::try_from(i).ok().filter(|&i| i < dbs);
    let (Some(first), Some(second)) = (in_range(first), in_range(second)) else {
        return Err(errors::DB_INDEX_RANGE.into());
    };
    ctx.state.keyspace.dbs.swap(first, second);
    if first != second {
        ctx.dbs_swapped(first, second);
    }
    ctx.state.dirty += 1;
    reply.ok();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(items: &[&[u8]]) -> Vec<Bytes> {
        items.iter().map(|s| Bytes::copy_from_slice(s)).collect()
    }

    #[test]
    fn cursor_follows_strtoul() {
        assert_eq!(parse_cursor(b"0"), Some(0));
        assert_eq!(parse_cursor(b""), Some(0));
        assert_eq!(parse_cursor(b"+17"), Some(17));
        assert_eq!(parse_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"-18446744073709551615"), Some(1));
        assert_eq!(parse_cursor(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"18446744073709551616"), None);
        assert_eq!(parse_cursor(b"5\0junk"), Some(5));
        for bad in [&b" 1"[..], b"\x0b1", b"1 ", b"-", b"+", b"x", b"0x10", b"1.0"] {
            assert_eq!(parse_cursor(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn scan_options_parse_like_redis() {
        let opts = argv(&[b"MATCH", b"a*", b"count", b"5", b"TYPE", b"string\0x"]);
        let parsed = scan_options(&opts).unwrap();
        assert_eq!((parsed.count, parsed.pattern, parsed.type_name), (5, Some(&b"a*"[..]), Some(&b"string"[..])));
        assert_eq!(scan_options(&argv(&[b"match", b"*"])).unwrap().pattern, None);
        let err = |items: &[&[u8]]| scan_options(&argv(items)).unwrap_err().text();
        assert_eq!(err(&[b"count", b"0"]), errors::SYNTAX);
        assert_eq!(err(&[b"count", b"x"]), errors::NOT_INTEGER);
        assert_eq!(err(&[b"count"]), errors::SYNTAX);
        assert_eq!(err(&[b"bogus", b"1"]), errors::SYNTAX);
    }

    #[test]
    fn expire_flags_errors_and_rules() {
        let parse = |items: &[&[u8]]| ExpireFlags::parse(&argv(items));
        assert_eq!(
            parse(&[b"nx", b"xx"]).unwrap_err().text(),
            "ERR NX and XX, GT or LT options at the same time are not compatible"
        );
        assert_eq!(
            parse(&[b"xx", b"gt", b"lt"]).unwrap_err().text(),
            "ERR GT and LT options at the same time are not compatible"
        );
        assert_eq!(parse(&[b"gt", b"foo\0bar"]).unwrap_err().text(), "ERR Unsupported option foo");
        let gt = parse(&[b"GT"]).unwrap();
        assert!(!gt.allow(10, None) && !gt.allow(10, Some(10)) && gt.allow(11, Some(10)));
        let lt = parse(&[b"lt\0"]).unwrap();
        assert!(lt.allow(10, None) && !lt.allow(10, Some(10)) && lt.allow(9, Some(10)));
        let nx = parse(&[b"nx"]).unwrap();
        assert!(nx.allow(1, None) && !nx.allow(1, Some(5)));
        let xx = parse(&[b"xx"]).unwrap();
        assert!(!xx.allow(1, None) && xx.allow(1, Some(5)));
    }

    #[test]
    fn flush_modes() {
        assert_eq!(flush_lazy(&argv(&[b"flushall"])), Ok(false));
        assert_eq!(flush_lazy(&argv(&[b"flushall", b"ASYNC"])), Ok(true));
        assert_eq!(flush_lazy(&argv(&[b"flushall", b"sync"])), Ok(false));
        assert_eq!(flush_lazy(&argv(&[b"flushall", b"now"])).unwrap_err().text(), errors::SYNTAX);
        assert_eq!(flush_lazy(&argv(&[b"flushall", b"async", b"x"])).unwrap_err().text(), errors::SYNTAX);
    }

    #[test]
    fn swapdb_index_messages() {
        assert_eq!(swapdb_index(b"3", "m"), Ok(3));
        assert_eq!(swapdb_index(b"-3", "m"), Ok(-3));
        assert_eq!(swapdb_index(b"2147483648", "m").unwrap_err().text(), "m");
        assert_eq!(swapdb_index(b"x", "m").unwrap_err().text(), "m");
    }
}
