//! SET and its relatives: the option parser SET and GETEX share (Redis's parseExtendedStringArgumentsOrReply),
//! expire arguments turned into deadlines (getExpireMillisecondsOrReply), and `set_generic`, the one write path
//! of SET, SETNX, SETEX, PSETEX and GETSET (setGenericCommand).
//!
//! Order of checks, as in Redis: option syntax, then the expire value, then GET's read (which may fail with
//! WRONGTYPE), then NX/XX. So `SET k v GET NX` on a list is WRONGTYPE, and on a string it replies the old value
//! without setting. GETEX looks the key up before it validates the expire value, so a missing key answers null
//! even when the time is invalid.
//!
//! Deadlines are absolute Unix ms computed from the command's `now_ms`. SET stores a deadline that is already
//! past as given (the key then expires on its next access: DBSIZE still counts it, as in Redis 7.0), while
//! GETEX deletes the key at once when an EXAT/PXAT deadline has passed, as Redis does.

use super::get_generic;
use crate::cmd::Ctx;
use crate::cmd::args::Args;
use crate::cmd::errors::{self, CmdError, CmdResult};
use crate::config::notify;
use crate::db::Value;
use crate::resp::reply::Reply;
use crate::state::propagation;
use crate::util::num;
use bytes::Bytes;

// Redis's OBJ_* option flags.
const NX: u16 = 1 << 0;
const XX: u16 = 1 << 1;
const GET: u16 = 1 << 2;
const KEEPTTL: u16 = 1 << 3;
const PERSIST: u16 = 1 << 4;
const EX: u16 = 1 << 5;
const PX: u16 = 1 << 6;
const EXAT: u16 = 1 << 7;
const PXAT: u16 = 1 << 8;
/// The options that take a time argument; at most one kind may be given (repeating the same one is allowed).
const EXPIRES: u16 = EX | PX | EXAT | PXAT;

const OPTION_NAMES: [(&str, u16); 9] = [
    ("nx", NX),
    ("xx", XX),
    ("get", GET),
    ("keepttl", KEEPTTL),
    ("persist", PERSIST),
    ("ex", EX),
    ("px", PX),
    ("exat", EXAT),
    ("pxat", PXAT),
];

/// Whose options are being parsed: SET's (NX XX GET KEEPTTL) or GETEX's (PERSIST); both take the expire kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Set,
    GetEx,
}

/// Parsed options: the flags, and the argument of the expire option if one was given.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Options<'a> {
    flags: u16,
    expire: Option<&'a [u8]>,
}

impl Options<'_> {
    fn has(&self, flag: u16) -> bool {
        self.flags & flag != 0
    }
}

/// What a SET-family command replies when it stores the value, and when NX/XX make it skip (unless GET replied).
#[derive(Debug, Clone, Copy)]
enum Replies {
    /// `+OK`, or null.
    OkOrNull,
    /// `:1`, or `:0` (SETNX).
    OneOrZero,
}

impl Replies {
    fn stored(self, reply: &mut Reply) {
        match self {
            Replies::OkOrNull => reply.ok(),
            Replies::OneOrZero => reply.int(1),
        }
    }

    fn skipped(self, reply: &mut Reply) {
        match self {
            Replies::OkOrNull => reply.null(),
            Replies::OneOrZero => reply.int(0),
        }
    }
}

/// Parses the rest of `args` as the options after SET's value or GETEX's key; any unknown, misplaced or
/// conflicting option, or an expire option without its argument, is `ERR syntax error`.
fn parse_options<'a>(mut args: Args<'a>, family: Family) -> Result<Options<'a>, CmdError> {
    let mut parsed = Options::default();
    while let Some(option) = args.next_option() {
        let has_argument = args.remaining() > 0;
        let flag = option
            .pick(&OPTION_NAMES)
            .filter(|&flag| option_allowed(parsed.flags, flag, family, has_argument))
            .ok_or(errors::SYNTAX)?;
        parsed.flags |= flag;
        if flag & EXPIRES != 0 {
            parsed.expire = Some(args.next_bytes()?);
        }
    }
    Ok(parsed)
}

/// Whether option `flag` may follow the options in `flags` (Redis's conditions, one per option).
fn option_allowed(flags: u16, flag: u16, family: Family, has_argument: bool) -> bool {
    let set = family == Family::Set;
    match flag {
        NX => set && flags & XX == 0,
        XX => set && flags & NX == 0,
        GET => set,
        KEEPTTL => set && flags & (PERSIST | EXPIRES) == 0,
        PERSIST => !set && flags & (KEEPTTL | EXPIRES) == 0,
        _ => has_argument && flags & (KEEPTTL | PERSIST) == 0 && flags & EXPIRES & !flag == 0,
    }
}

/// The absolute deadline (Unix ms) that expire argument `arg` sets, for the expire kind in `flags`. The value
/// must be positive, and neither the conversion to ms nor adding `now_ms` may overflow; otherwise the error is
/// `ERR invalid expire time in '<command>' command`.
fn expire_at_ms(arg: &[u8], flags: u16, now_ms: i64, command: &str) -> Result<i64, CmdError> {
    let n = num::parse_i64(arg).ok_or(errors::NOT_INTEGER)?;
    let in_seconds = flags & (EX | EXAT) != 0;
    if n <= 0 || (in_seconds && n > i64::MAX / 1000) {
        return Err(errors::invalid_expire(command));
    }
    let ms = if in_seconds { n * 1000 } else { n };
    let at_ms = if flags & (EX | PX) != 0 { ms.checked_add(now_ms) } else { Some(ms) };
    at_ms.filter(|&at_ms| at_ms > 0).ok_or_else(|| errors::invalid_expire(command))
}

/// Stores `value` at `key` under `options` (Redis's setGenericCommand); see the module header for the order.
fn set_generic(
    ctx: &mut Ctx<'_>,
    reply: &mut Reply,
    options: Options<'_>,
    key: &[u8],
    value: &[u8],
    replies: Replies,
) -> CmdResult {
    let now_ms = ctx.now_ms;
    let deadline_ms = options.expire.map(|arg| expire_at_ms(arg, options.flags, now_ms, ctx.cmd.spec.name));
    let deadline_ms = deadline_ms.transpose()?;
    let get = options.has(GET);
    if get {
        get_generic(ctx, reply, key)?;
    }
    let found = ctx.db().contains(key, now_ms);
    if (options.has(NX) && found) || (options.has(XX) && !found) {
        if !get {
            replies.skipped(reply);
        }
        return Ok(());
    }
    // When a new deadline follows, keeping the old one lets `set_expire` update it in place.
    let keep_ttl = options.has(KEEPTTL) || deadline_ms.is_some();
    let db = ctx.db();
    db.set(key, Value::from_arg(value), keep_ttl, now_ms);
    if let Some(at_ms) = deadline_ms {
        db.set_expire(key, at_ms, now_ms);
    }
    ctx.key_changed(key);
    ctx.notify(notify::STRING, "set", key);
    if deadline_ms.is_some() {
        ctx.notify(notify::GENERIC, "expire", key);
    }
    propagate_set(ctx, options, deadline_ms, (key, value));
    if !get {
        replies.stored(reply);
    }
    Ok(())
}

/// What a SET that stored its value propagates, as Redis 7.0.15's setGenericCommand: any expiry (PXAT given
/// too, in whatever case and beside whatever other options) as `SET key value PXAT <unix-ms>` (the same
/// deadline on replay), else the argv without GET, which a replay does not need.
fn propagate_set(ctx: &mut Ctx<'_>, options: Options<'_>, deadline_ms: Option<i64>, (key, value): (&[u8], &[u8])) {
    let argv = ctx.argv;
    match deadline_ms {
        Some(at_ms) => ctx.propagate_as(|| {
            let (key, value) = (Bytes::copy_from_slice(key), Bytes::copy_from_slice(value));
            [propagation::arg(b"SET"), key, value, propagation::arg(b"PXAT"), propagation::int(at_ms)]
        }),
        _ if options.has(GET) && ctx.cmd.spec.name == "set" => {
            // Redis skips every argument from the fourth on that reads `get` as a C string (ending at a NUL).
            let is_get = |arg: &Bytes| arg.split(|&b| b == 0).next().is_some_and(|a| a.eq_ignore_ascii_case(b"get"));
            ctx.propagate_as(|| {
                argv.iter().enumerate().filter(|(i, arg)| *i < 3 || !is_get(arg)).map(|(_, arg)| arg.clone())
            });
        }
        _ => {}
    }
}

/// SET key value [NX | XX] [GET] [EX s | PX ms | EXAT unix-s | PXAT unix-ms | KEEPTTL]
pub(super) fn set(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let (key, value) = (args.next_key()?, args.next_bytes()?);
    let options = parse_options(args, Family::Set)?;
    set_generic(ctx, reply, options, key, value, Replies::OkOrNull)
}

/// SETNX key value, SETEX key seconds value, PSETEX key ms value and GETSET key value: SET with the options
/// `flags` (and the expire argument for `EX | PX`).
fn set_with(ctx: &mut Ctx<'_>, reply: &mut Reply, flags: u16, replies: Replies) -> CmdResult {
    let mut args = ctx.args();
    let key = args.next_key()?;
    let expire = if flags & EXPIRES != 0 { Some(&args.next_bytes()?[..]) } else { None };
    let value = args.next_bytes()?;
    set_generic(ctx, reply, Options { flags, expire }, key, value, replies)
}

pub(super) fn setnx(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    set_with(ctx, reply, NX, Replies::OneOrZero)
}

pub(super) fn setex(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    set_with(ctx, reply, EX, Replies::OkOrNull)
}

pub(super) fn psetex(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    set_with(ctx, reply, PX, Replies::OkOrNull)
}

/// GETSET is `SET key value GET`: it replies the old value and drops the TTL.
pub(super) fn getset(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    set_with(ctx, reply, GET, Replies::OkOrNull)?;
    let argv = ctx.argv;
    ctx.propagate_as(|| [propagation::arg(b"SET"), argv[1].clone(), argv[2].clone()]);
    Ok(())
}

/// GETEX key [EX s | PX ms | EXAT unix-s | PXAT unix-ms | PERSIST]: GET that may change the TTL.
pub(super) fn getex(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let key = args.next_key()?;
    let options = parse_options(args, Family::GetEx)?;
    let (now_ms, command) = (ctx.now_ms, ctx.cmd.spec.name);
    let deadline_ms = options.expire.map(|arg| expire_at_ms(arg, options.flags, now_ms, command));
    let Some(value) = ctx.read_key(key) else {
        reply.null();
        return Ok(());
    };
    if value.str_len().is_none() {
        return Err(errors::WRONGTYPE.into());
    }
    let deadline_ms = deadline_ms.transpose()?;
    value.with_str(|s| reply.bulk(s));
    let db = ctx.db();
    let deleted = deadline_ms.is_some_and(|at_ms| options.has(EXAT | PXAT) && at_ms <= now_ms);
    let event = match deadline_ms {
        Some(_) if deleted => db.remove(key, now_ms).map(|_| "del"),
        Some(at_ms) => db.set_expire(key, at_ms, now_ms).then_some("expire"),
        None => (options.has(PERSIST) && db.persist(key, now_ms)).then_some("persist"),
    };
    if let Some(event) = event {
        ctx.key_changed(key);
        ctx.notify(notify::GENERIC, event, key);
        // Redis's getexCommand: the new deadline as PEXPIREAT, a past one as the deletion it caused.
        let key = ctx.argv[1].clone();
        let lazy = ctx.state.config.lazyfree_lazy_expire;
        ctx.propagate_as(|| match deadline_ms {
            Some(_) if deleted => [propagation::arg(propagation::deletion(lazy)), key].to_vec(),
            Some(at_ms) => [propagation::arg(b"PEXPIREAT"), key, propagation::int(at_ms)].to_vec(),
            None => [propagation::arg(b"PERSIST"), key].to_vec(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(options: &str, family: Family) -> Result<u16, CmdError> {
        parse_options(Args::new(&crate::cmd::args::test_argv(options), 0), family).map(|parsed| parsed.flags)
    }

    #[test]
    fn set_options_combine_as_in_redis() {
        // Each case was checked against redis-server 7.0.15.
        let syntax = Err(CmdError::from(errors::SYNTAX));
        assert_eq!(parse("", Family::Set), Ok(0));
        assert_eq!(parse("nx GET", Family::Set), Ok(NX | GET));
        assert_eq!(parse("xx get get", Family::Set), Ok(XX | GET));
        assert_eq!(parse("ex 10 ex 10", Family::Set), Ok(EX));
        assert_eq!(parse("KeepTTL xx", Family::Set), Ok(KEEPTTL | XX));
        // Option names end at a NUL byte, as C strings do for Redis's strcasecmp.
        assert_eq!(parse("NX\\0junk GET\\0 ex\\0x 10", Family::Set), Ok(NX | GET | EX));
        for bad in [
            "NXjunk",
            "N\\0X",
            "xx nx",
            "nx xx",
            "ex 10 px 100",
            "keepttl ex 10",
            "ex 10 keepttl",
            "ex",
            "persist",
            "foo",
            "ex 10 foo",
            "pxat 1 exat 1",
        ] {
            assert_eq!(parse(bad, Family::Set), syntax, "{bad}");
        }
    }

    #[test]
    fn getex_options_combine_as_in_redis() {
        let syntax = Err(CmdError::from(errors::SYNTAX));
        assert_eq!(parse("persist persist", Family::GetEx), Ok(PERSIST));
        assert_eq!(parse("ex 10 ex 20", Family::GetEx), Ok(EX));
        for bad in ["persist ex 10", "ex 10 persist", "keepttl", "nx", "get", "ex"] {
            assert_eq!(parse(bad, Family::GetEx), syntax, "{bad}");
        }
    }

    #[test]
    fn expire_arguments_become_deadlines() {
        let now_ms = 1_700_000_000_000;
        assert_eq!(expire_at_ms(b"10", EX, now_ms, "set"), Ok(now_ms + 10_000));
        assert_eq!(expire_at_ms(b"10", PX, now_ms, "set"), Ok(now_ms + 10));
        assert_eq!(expire_at_ms(b"10", EXAT, now_ms, "set"), Ok(10_000));
        assert_eq!(expire_at_ms(b"1", PXAT, now_ms, "set"), Ok(1));
        assert_eq!(expire_at_ms(b"9223372036854775807", PXAT, now_ms, "set"), Ok(i64::MAX));
        assert_eq!(expire_at_ms(b"9223372036854775", EXAT, now_ms, "set"), Ok(9_223_372_036_854_775_000));
        assert_eq!(expire_at_ms(b"abc", EX, now_ms, "set"), Err(errors::NOT_INTEGER.into()));
        let invalid = Err(errors::invalid_expire("setex"));
        for (arg, flags) in [
            (&b"0"[..], EX),
            (b"-1", PX),
            (b"9223372036854775807", EX),
            (b"9223372036854776", EXAT),
            // Fits in ms, but adding the current time overflows.
            (b"9223372036854774", EX),
            (b"9223372036854775807", PX),
        ] {
            assert_eq!(expire_at_ms(arg, flags, now_ms, "setex"), invalid, "{arg:?}");
        }
    }
}
