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
//! excepted: see `Value::OwnInt`) and a per-key idle time. OBJECT FREQ and IDLETIME read the key's access word
//! (`db::access`) under the `maxmemory-policy`, each refusing with Redis's error under the policy that does not
//! keep its figure.

use super::args::{self, Args, Keyword};
use super::errors::{self, CmdError, CmdResult};
use super::{Ctx, Handlers};
use crate::config::notify;
use crate::db::{access, lazyfree};
use crate::resp::reply::Reply;
use crate::state::propagation;
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

const LFU_SELECTED: &str = "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when \
                            switching between policies at runtime LRU and LFU data will take some time to adjust.";
const LFU_NOT_SELECTED: &str = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please \
                                note that when switching between policies at runtime LRU and LFU data will take \
                                some time to adjust.";

/// The next argument as a database index, as MOVE and COPY read it: a C `int` (getIntFromObjectOrReply), then
/// an existing database (selectDb).
fn next_db_index(ctx: &Ctx<'_>, args: &mut Args<'_>) -> Result<usize, CmdError> {
    let index = args.next_int_in(i32::MIN.into(), i32::MAX.into())?;
    usize::try_from(index).ok().filter(|&i| i < ctx.state.keyspace.dbs.len()).ok_or(errors::DB_INDEX_RANGE.into())
}

/// DEL and UNLINK. UNLINK (and DEL under `lazyfree-lazy-user-del`) hands a big value to the lazyfree thread;
/// a small one costs less to free here than to hand off (see `db::lazyfree`).
fn del(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let now_ms = ctx.now_ms;
    let lazy = ctx.cmd.spec.name == "unlink" || ctx.state.config.lazyfree_lazy_user_del;
    let mut deleted = 0;
    for key in ctx.args().rest() {
        if let Some(value) = ctx.db().remove(key, now_ms) {
            lazyfree::free_value(value, lazy);
            ctx.key_changed(key);
            ctx.notify(notify::GENERIC, "del", key);
            deleted += 1;
        }
    }
    reply.int(deleted);
    Ok(())
}

/// EXISTS counts a key once per mention, so `EXISTS k k` is 2.
fn exists(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let found = ctx.args().rest().iter().filter(|key| ctx.peek_key(key).is_some()).count();
    reply.int(found as i64);
    Ok(())
}

fn touch(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let found = ctx.args().rest().iter().filter(|key| ctx.read_key(key).is_some()).count();
    reply.int(found as i64);
    Ok(())
}

fn type_(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let key = ctx.args().next_key()?;
    reply.simple(ctx.peek_key(key).map_or("none", |e| e.value.value_type().name()));
    Ok(())
}

fn keys(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let pattern = ctx.args().next_bytes()?;
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

/// The options after a SCAN, SSCAN or HSCAN cursor.
#[derive(Debug)]
pub(crate) struct ScanOptions<'a> {
    pub count: usize,
    /// `None` when absent or `*`, which matches everything.
    pub pattern: Option<&'a [u8]>,
    /// SCAN's TYPE, compared as Redis compares it (`strcasecmp` with the type's name).
    pub type_name: Option<Keyword<'a>>,
}

impl<'a> ScanOptions<'a> {
    /// Parses the rest of `args` as `[MATCH pattern] [COUNT count]`, plus `[TYPE type]` when `with_type` (SCAN
    /// itself), in any order, each possibly repeated (the last wins), as Redis's scanGenericCommand does: an
    /// option without its value, or an unknown one, is a syntax error.
    pub(crate) fn parse(mut args: Args<'a>, with_type: bool) -> Result<ScanOptions<'a>, CmdError> {
        let mut parsed = ScanOptions { count: 10, pattern: None, type_name: None };
        while let Some(option) = args.next_option() {
            if option.is("count") {
                parsed.count = usize::try_from(args.next_int()?).ok().filter(|&n| n >= 1).ok_or(errors::SYNTAX)?;
            } else if option.is("match") {
                let pattern = args.next_bytes()?;
                parsed.pattern = (&pattern[..] != b"*").then_some(&pattern[..]);
            } else if option.is("type") && with_type {
                parsed.type_name = Some(args.next_keyword()?);
            } else {
                return Err(errors::SYNTAX.into());
            }
        }
        Ok(parsed)
    }
}

/// Writes a SCAN-family reply: the next cursor, then the `found` items already encoded in `items` (the
/// items are gathered in a scratch reply first, because the cursor, which comes before them, is known only
/// after the scan).
pub(crate) fn reply_scan(reply: &mut Reply, next: impl itoa::Integer, found: usize, items: &[u8]) {
    reply.array(2);
    reply.bulk(itoa::Buffer::new().format(next).as_bytes());
    reply.array(found);
    reply.buf.extend_from_slice(items);
}

fn scan(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let cursor = args.next_cursor()?;
    let options = ScanOptions::parse(args, true)?;
    let now_ms = ctx.now_ms;
    let state = &mut *ctx.state;
    let stats = &mut state.stats;
    let mut keys = Reply::new(reply.resp3);
    let mut found = 0;
    let mut stale_keys: Vec<Box<[u8]>> = Vec::new();
    let next = state.keyspace.dbs[ctx.db_index].scan(cursor, options.count, now_ms, |entry, stale| {
        if options.pattern.is_some_and(|pattern| !glob_match(pattern, entry.key(), false)) {
            return;
        }
        if stale {
            // A key it would return is expired instead (Redis's lookup for TYPE, or expireIfNeeded): a miss.
            if options.type_name.is_some() {
                stats.keyspace_misses += 1;
            }
            stale_keys.push(entry.key().into());
            return;
        }
        if let Some(wanted) = options.type_name {
            // Redis looks each candidate up to learn its type, which counts as a keyspace hit.
            stats.keyspace_hits += 1;
            if !wanted.is(entry.value.value_type().name()) {
                return;
            }
        }
        keys.bulk(entry.key());
        found += 1;
    });
    // Deleted through a lookup, so each is counted, announced and propagated as a DEL like any lazy expiry.
    for key in stale_keys {
        ctx.db().peek(&key, now_ms);
    }
    // Their DELs go out one by one, not in one MULTI, as RANDOMKEY's.
    propagation::propagate_expired_apart(ctx.state);
    reply_scan(reply, next, found, &keys.buf);
    Ok(())
}

fn randomkey(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let now_ms = ctx.now_ms;
    let state = &mut *ctx.state;
    match state.keyspace.dbs[ctx.db_index].random_key(&mut state.rng, now_ms) {
        Some(key) => reply.bulk(&key),
        None => reply.null(),
    }
    // The stale keys it met and deleted go out as DELs of their own, not in one MULTI (as Redis 7.0.15).
    propagation::propagate_expired_apart(ctx.state);
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
    let mut args = ctx.args();
    let (src, dst) = (args.next_key()?, args.next_key()?);
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
    db.delete(dst, now_ms);
    db.insert_expiring(dst, value, expire_at_ms);
    // Redis counts a rename as one change.
    ctx.key_changed(src);
    ctx.key_changed_by(dst, 0);
    ctx.notify(notify::GENERIC, "rename_from", src);
    ctx.notify(notify::GENERIC, "rename_to", dst);
    if nx {
        reply.int(1)
    } else {
        reply.ok()
    }
    Ok(())
}

/// MOVE key db: moves the key with its TTL unless the target database already has it.
fn move_(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let key = args.next_key()?;
    let target = next_db_index(ctx, &mut args)?;
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
    // Redis counts a move as one change.
    ctx.key_changed(key);
    ctx.key_changed_in_by(target, key, 0);
    ctx.notify(notify::GENERIC, "move_from", key);
    ctx.notify_in(target, notify::GENERIC, "move_to", key);
    reply.int(1);
    Ok(())
}

/// COPY source destination [DB index] [REPLACE]: options are checked in order, so the first bad one decides
/// the error, as in Redis.
fn copy(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let (src, dst) = (args.next_key()?, args.next_key()?);
    let mut replace = false;
    let mut target = ctx.db_index;
    while let Some(option) = args.next_option() {
        if option.is("replace") {
            replace = true;
        } else if option.is("db") && args.remaining() > 0 {
            target = next_db_index(ctx, &mut args)?;
        } else {
            return Err(errors::SYNTAX.into());
        }
    }
    if target == ctx.db_index && src == dst {
        return Err(errors::SAME_OBJECT.into());
    }
    if ctx.read_key(src).is_none() {
        reply.int(0);
        return Ok(());
    }
    copy_to(ctx, (src, dst), target, replace, reply);
    Ok(())
}

/// The part of COPY after the source was found: replace or keep the destination, then write the duplicate.
fn copy_to(ctx: &mut Ctx<'_>, (src, dst): (&[u8], &[u8]), target: usize, replace: bool, reply: &mut Reply) {
    let now_ms = ctx.now_ms;
    let dbs = &mut ctx.state.keyspace.dbs;
    if dbs[target].get_entry(dst, now_ms).is_some() {
        if !replace {
            return reply.int(0);
        }
        dbs[target].delete(dst, now_ms);
    }
    let (value, expire_at_ms) = dbs[ctx.db_index].copy_entry(src, now_ms).expect("the source was found by COPY");
    dbs[target].insert_expiring(dst, value, expire_at_ms);
    ctx.key_changed_in(target, dst);
    ctx.notify_in(target, notify::GENERIC, "copy_to", dst);
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
    /// Parses the rest of `args`, the options after the time, as Redis's parseExtendedExpireArgumentsOrReply
    /// does.
    fn parse(mut args: Args<'_>) -> Result<ExpireFlags, CmdError> {
        let mut flags = ExpireFlags::default();
        while let Some(option) = args.next_option() {
            let flag = if option.is("nx") {
                &mut flags.nx
            } else if option.is("xx") {
                &mut flags.xx
            } else if option.is("gt") {
                &mut flags.gt
            } else if option.is("lt") {
                &mut flags.lt
            } else {
                let mut msg = b"ERR Unsupported option ".to_vec();
                msg.extend_from_slice(option.as_bytes());
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
    let mut args = ctx.args();
    let (key, when) = (args.next_key()?, args.next_bytes()?);
    // The options are checked before the time, as in Redis.
    let flags = ExpireFlags::parse(args)?;
    let when = args::int(when)?;
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
    // While the AOF loads, a deadline already past is set, not a deletion (Redis's checkAlreadyExpired).
    let deleted = at_ms <= now_ms && !db.loading;
    let event = if deleted {
        db.remove(key, now_ms);
        "del"
    } else {
        db.set_expire(key, at_ms, now_ms);
        "expire"
    };
    ctx.key_changed(key);
    ctx.notify(notify::GENERIC, event, key);
    propagate_expire(ctx, deleted, at_ms, base_ms != 0 || seconds);
    reply.int(1);
    Ok(())
}

/// What the EXPIRE family propagates, as Redis's expireGenericCommand: a deadline already past as the
/// deletion it caused, any other as PEXPIREAT with the absolute ms (PEXPIREAT itself as given), the options kept.
fn propagate_expire(ctx: &mut Ctx<'_>, deleted: bool, at_ms: i64, rewrite_time: bool) {
    let argv = ctx.argv;
    if deleted {
        let verb = propagation::deletion(ctx.state.config.lazyfree_lazy_expire);
        ctx.propagate_as(|| [propagation::arg(verb), argv[1].clone()]);
    } else if rewrite_time {
        ctx.propagate_as(|| {
            let head = [propagation::arg(b"PEXPIREAT"), argv[1].clone(), propagation::int(at_ms)];
            head.into_iter().chain(argv[3..].iter().cloned())
        });
    }
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
    let key = ctx.args().next_key()?;
    let now_ms = ctx.now_ms;
    if ctx.peek_key(key).is_none() {
        reply.int(-2);
        return Ok(());
    }
    let Some(at_ms) = ctx.db().expire_at(key, now_ms).flatten() else {
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
    let key = ctx.args().next_key()?;
    let now_ms = ctx.now_ms;
    let removed = ctx.db().persist(key, now_ms);
    if removed {
        ctx.key_changed(key);
        ctx.notify(notify::GENERIC, "persist", key);
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
    let key = ctx.sub_args().next_key()?;
    match ctx.peek_key(key) {
        Some(entry) => reply.bulk(entry.value.encoding().as_bytes()),
        None => reply.null(),
    }
    Ok(())
}

/// OBJECT FREQ: the key's decayed LFU counter, which only an LFU policy keeps; the key is looked up first, so a
/// missing one is a null under any policy, as in Redis.
fn object_freq(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let key = ctx.sub_args().next_key()?;
    let now_ms = ctx.now_ms;
    let Some(word) = ctx.peek_key(key).map(|e| e.access_word()) else {
        reply.null();
        return Ok(());
    };
    let policy = ctx.db().policy.access;
    if !policy.lfu {
        return Err(LFU_NOT_SELECTED.into());
    }
    reply.int(i64::from(access::lfu_freq(word, now_ms, policy)));
    Ok(())
}

/// OBJECT IDLETIME: seconds since the key's last access, which an LFU policy does not keep.
fn object_idletime(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let key = ctx.sub_args().next_key()?;
    let now_ms = ctx.now_ms;
    let Some(word) = ctx.peek_key(key).map(|e| e.access_word()) else {
        reply.null();
        return Ok(());
    };
    if ctx.db().policy.access.lfu {
        return Err(LFU_SELECTED.into());
    }
    reply.int(access::lru_idle_s(word, now_ms) as i64);
    Ok(())
}

/// Redis shares one object for each integer below 10000 and reports it with an `INT_MAX` count; every other
/// value has one owner.
fn object_refcount(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let key = ctx.sub_args().next_key()?;
    match ctx.peek_key(key).map(|e| &e.value) {
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

/// FLUSHDB's and FLUSHALL's optional ASYNC|SYNC, the rest of `args`; without it they follow
/// `lazyfree-lazy-user-flush` (`default_lazy`). Returns whether to free lazily.
fn flush_lazy(mut args: Args<'_>, default_lazy: bool) -> Result<bool, CmdError> {
    let lazy = match args.next_option() {
        None => default_lazy,
        Some(mode) => mode.pick(&[("sync", false), ("async", true)]).ok_or(errors::SYNTAX)?,
    };
    args.finish()?;
    Ok(lazy)
}

fn flushdb(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let lazy = flush_lazy(ctx.args(), ctx.state.config.lazyfree_lazy_user_flush)?;
    super::tracking::flushed(ctx.state);
    ctx.db_flushing(ctx.db_index);
    let removed = ctx.db().flush(lazy);
    // Redis counts one change per key removed.
    ctx.state.dirty += removed as u64;
    reply.ok();
    Ok(())
}

fn flushall(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let lazy = flush_lazy(ctx.args(), ctx.state.config.lazyfree_lazy_user_flush)?;
    super::tracking::flushed(ctx.state);
    for index in 0..ctx.state.keyspace.dbs.len() {
        ctx.db_flushing(index);
        let removed = ctx.state.keyspace.dbs[index].flush(lazy);
        ctx.state.dirty += removed as u64;
    }
    // As Redis's flushAllDataAndResetRDB: a snapshot in progress is of data that is gone, and with save
    // points the empty dataset is saved at once, which resets the change count (Redis 7.0 adds nothing for the
    // flush itself), so the flush is propagated even when it changed nothing.
    crate::persist::kill_rdb_child(ctx.state);
    if !ctx.state.config.save.is_empty() {
        let _ = crate::persist::save(ctx.state);
    }
    let argv = ctx.argv;
    ctx.prevent_propagation();
    ctx.also_propagate(|| argv.iter().cloned());
    reply.ok();
    Ok(())
}

/// SWAPDB a b: clients keep their database numbers and see the other data. Each index is a C `int`, else its
/// own message (Redis's getIntFromObjectOrReply with a message).
fn swapdb(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let (min, max) = (i32::MIN.into(), i32::MAX.into());
    let first = args.next_int_in_or(min, max, "ERR invalid first DB index")?;
    let second = args.next_int_in_or(min, max, "ERR invalid second DB index")?;
    let dbs = ctx.state.keyspace.dbs.len();
    let in_range = |i: i64| usize::try_from(i).ok().filter(|&i| i < dbs);
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
    use crate::cmd::admin::testkit::TestServer;
    use crate::cmd::args::test_argv;

    /// Runs `parse` over a cursor on `words` (space-separated, `\0` for a NUL byte).
    fn parse_words<T>(words: &str, parse: impl FnOnce(Args<'_>) -> Result<T, CmdError>) -> Result<T, String> {
        parse(Args::new(&test_argv(words), 0)).map_err(|e| e.text())
    }

    #[test]
    fn scan_options_parse_like_redis() {
        let argv = test_argv(r"MATCH a* count 5 TYPE string\0x");
        let parsed = ScanOptions::parse(Args::new(&argv, 0), true).unwrap();
        assert_eq!((parsed.count, parsed.pattern), (5, Some(&b"a*"[..])));
        assert_eq!(parsed.type_name.map(Keyword::as_bytes), Some(&b"string"[..]));
        let scan = |words| parse_words(words, |args| ScanOptions::parse(args, true).map(|o| o.pattern.is_none()));
        assert_eq!(scan("match *"), Ok(true));
        assert_eq!(scan(r"Count\0x 3 MATCH\0 x"), Ok(false));
        assert_eq!(scan("count 0"), Err(errors::SYNTAX.into()));
        assert_eq!(scan("count x"), Err(errors::NOT_INTEGER.into()));
        assert_eq!(scan("count"), Err(errors::SYNTAX.into()));
        assert_eq!(scan("bogus 1"), Err(errors::SYNTAX.into()));
        assert_eq!(
            parse_words("type hash", |args| ScanOptions::parse(args, false).map(drop)),
            Err(errors::SYNTAX.into())
        );
    }

    #[test]
    fn expire_flags_errors_and_rules() {
        let parse = |words| parse_words(words, ExpireFlags::parse);
        assert_eq!(parse("nx xx").unwrap_err(), "ERR NX and XX, GT or LT options at the same time are not compatible");
        assert_eq!(parse("xx gt lt").unwrap_err(), "ERR GT and LT options at the same time are not compatible");
        assert_eq!(parse(r"gt foo\0bar").unwrap_err(), "ERR Unsupported option foo");
        let gt = parse("GT").unwrap();
        assert!(!gt.allow(10, None) && !gt.allow(10, Some(10)) && gt.allow(11, Some(10)));
        let lt = parse(r"lt\0").unwrap();
        assert!(lt.allow(10, None) && !lt.allow(10, Some(10)) && lt.allow(9, Some(10)));
        let nx = parse("nx").unwrap();
        assert!(nx.allow(1, None) && !nx.allow(1, Some(5)));
        let xx = parse("xx").unwrap();
        assert!(!xx.allow(1, None) && xx.allow(1, Some(5)));
    }

    #[test]
    fn flush_modes() {
        let flush = |words| parse_words(words, |args| flush_lazy(args, false));
        assert_eq!(flush(""), Ok(false));
        assert_eq!(flush("ASYNC"), Ok(true));
        assert_eq!(flush(r"sync\0junk"), Ok(false));
        assert_eq!(flush("now"), Err(errors::SYNTAX.into()));
        assert_eq!(flush("async x"), Err(errors::SYNTAX.into()));
    }

    #[test]
    fn database_index_messages() {
        let mut t = TestServer::new();
        let me = t.connect();
        assert_eq!(t.run(me, "SWAPDB 0 2147483648"), "-ERR invalid second DB index\r\n");
        assert_eq!(t.run(me, "SWAPDB x 0"), "-ERR invalid first DB index\r\n");
        assert_eq!(t.run(me, "SWAPDB -3 0"), "-ERR DB index is out of range\r\n");
        let range = "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n";
        assert_eq!(t.run(me, "MOVE k 2147483648"), range);
        assert_eq!(t.run(me, "COPY a b DB -2147483649"), range);
        assert_eq!(t.run(me, "COPY a b DB"), "-ERR syntax error\r\n");
        assert_eq!(t.run(me, "COPY a b DB 16"), "-ERR DB index is out of range\r\n");
    }
}
