//! String commands (Redis's t_string.c): APPEND DECR DECRBY GET GETDEL GETEX GETRANGE GETSET INCR INCRBY
//! INCRBYFLOAT LCS MGET MSET MSETNX PSETEX SET SETEX SETNX SETRANGE STRLEN SUBSTR.
//!
//! - `set`: SET's options and `set_generic`, the one write path of SET, SETNX, SETEX, PSETEX and GETSET
//!   (Redis's setGenericCommand), plus GETEX, which shares SET's option parser.
//! - `lcs`: LCS and its dynamic-programming core.
//! - Here: the table, the reads (GET GETDEL MGET GETRANGE SUBSTR STRLEN), MSET/MSETNX, the INCR family,
//!   APPEND and SETRANGE.
//!
//! Every handler validates its arguments before it touches the keyspace, and checks the type of an existing
//! value before it changes anything, so an error reply never comes with a side effect. Lookups made on behalf
//! of a read (`get_generic`, MGET, GETRANGE, STRLEN, LCS) go through `ctx.read_key` so they count keyspace
//! hits and misses as Redis's lookupKeyRead does; lookups made to write do not.
//!
//! Encodings follow Redis because OBJECT ENCODING shows them: values stored from arguments go through
//! `Value::from_arg` (tryObjectEncoding), the INCR family stores `Value::Int`, INCRBYFLOAT stores
//! `Value::from_bytes` (createStringObject), and APPEND/SETRANGE edit in place, which makes the value raw.

mod lcs;
mod set_generic;

use std::ops::Range;

use super::errors::{self, CmdResult};
use super::{Ctx, Handlers};
use crate::config::notify;
use crate::db::Value;
use crate::resp::reply::Reply;
use crate::state::propagation;
use crate::util::num::{self, IncrFloatError};
use bytes::Bytes;

/// This family's handlers by command name, bound to the entries of its src/cmd/meta file.
pub const HANDLERS: &[Handlers] = &[&[
    ("append", append),
    ("decr", decr),
    ("decrby", decrby),
    ("get", get),
    ("getdel", getdel),
    ("getex", set_generic::getex),
    ("getrange", getrange),
    ("getset", set_generic::getset),
    ("incr", incr),
    ("incrby", incrby),
    ("incrbyfloat", incrbyfloat),
    ("lcs", lcs::lcs),
    ("mget", mget),
    ("mset", mset),
    ("msetnx", msetnx),
    ("psetex", set_generic::psetex),
    ("set", set_generic::set),
    ("setex", set_generic::setex),
    ("setnx", set_generic::setnx),
    ("setrange", setrange),
    ("strlen", strlen),
    ("substr", getrange),
]];

/// DECRBY's own error for an increment of i64::MIN, whose negation does not exist.
const DECREMENT_OVERFLOW: &str = "ERR decrement would overflow";
const OFFSET_OUT_OF_RANGE: &str = "ERR offset is out of range";

/// Replies with the string at `key`, or null if there is none (Redis's getGenericCommand). Returns whether the
/// key existed; WRONGTYPE leaves the reply untouched so callers can stop before any write.
fn get_generic(ctx: &mut Ctx<'_>, reply: &mut Reply, key: &[u8]) -> Result<bool, errors::CmdError> {
    match ctx.read_key(key) {
        None => {
            reply.null();
            Ok(false)
        }
        Some(value) => {
            value.with_str(|s| reply.bulk(s)).ok_or(errors::WRONGTYPE)?;
            Ok(true)
        }
    }
}

fn get(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let key = ctx.args().next_key()?;
    get_generic(ctx, reply, key).map(drop)
}

fn getdel(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let key = ctx.args().next_key()?;
    let now_ms = ctx.now_ms;
    if get_generic(ctx, reply, key)? {
        ctx.db().remove(key, now_ms);
        ctx.key_changed(key);
        ctx.notify(notify::GENERIC, "del", key);
        let key = ctx.argv[1].clone();
        ctx.propagate_as(|| [propagation::arg(b"DEL"), key]);
    }
    Ok(())
}

/// MGET answers null for missing keys and for keys of other types alike: it never fails on a key.
fn mget(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let keys = ctx.args().rest();
    reply.array(keys.len());
    for key in keys {
        let written = ctx.read_key(key).and_then(|value| value.with_str(|s| reply.bulk(s)));
        if written.is_none() {
            reply.null();
        }
    }
    Ok(())
}

fn mset(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    mset_generic(ctx, false)?;
    reply.ok();
    Ok(())
}

/// MSETNX sets every pair or, if any key exists, none.
fn msetnx(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let stored = mset_generic(ctx, true)?;
    reply.int(i64::from(stored));
    Ok(())
}

/// Stores every key/value pair of MSET/MSETNX, dropping their TTLs; with `nx`, stores nothing if any key exists.
/// Returns whether the pairs were stored. A later pair wins over an earlier one with the same key.
fn mset_generic(ctx: &mut Ctx<'_>, nx: bool) -> Result<bool, errors::CmdError> {
    let pairs = ctx.args().rest();
    if !pairs.len().is_multiple_of(2) {
        return Err(errors::wrong_arity(ctx.cmd.spec.name));
    }
    let now_ms = ctx.now_ms;
    if nx && pairs.chunks_exact(2).any(|pair| ctx.db().contains(&pair[0], now_ms)) {
        return Ok(false);
    }
    for pair in pairs.chunks_exact(2) {
        ctx.db().set(&pair[0], Value::from_arg(&pair[1]), false, now_ms);
        ctx.key_changed(&pair[0]);
        ctx.notify(notify::STRING, "set", &pair[0]);
    }
    Ok(true)
}

fn incr(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let key = ctx.args().next_key()?;
    incr_decr(ctx, reply, key, 1)
}

fn decr(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let key = ctx.args().next_key()?;
    incr_decr(ctx, reply, key, -1)
}

fn incrby(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let (key, incr) = (args.next_key()?, args.next_int()?);
    incr_decr(ctx, reply, key, incr)
}

fn decrby(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let (key, decr) = (args.next_key()?, args.next_int()?);
    let incr = decr.checked_neg().ok_or(DECREMENT_OVERFLOW)?;
    incr_decr(ctx, reply, key, incr)
}

/// Adds `incr` to the integer at `key` (0 if missing), keeping its TTL (Redis's incrDecrCommand).
fn incr_decr(ctx: &mut Ctx<'_>, reply: &mut Reply, key: &[u8], incr: i64) -> CmdResult {
    let now_ms = ctx.now_ms;
    let db = ctx.db();
    let result = match db.get_mut(key, now_ms) {
        Some(value) => {
            let result = stored_int(value)?.checked_add(incr).ok_or(errors::OVERFLOW)?;
            *value = Value::Int(result);
            result
        }
        None => {
            db.insert_new(key, Value::Int(incr));
            incr
        }
    };
    ctx.key_changed(key);
    ctx.notify(notify::STRING, "incrby", key);
    reply.int(result);
    Ok(())
}

/// The integer a string value holds, with the errors INCR gives for other values.
fn stored_int(value: &Value) -> Result<i64, errors::CmdError> {
    match value.as_int() {
        Some(n) => Ok(n),
        None => value.with_str(num::parse_i64).ok_or(errors::WRONGTYPE)?.ok_or_else(|| errors::NOT_INTEGER.into()),
    }
}

/// INCRBYFLOAT: the sum is computed and formatted by `num::incr_by_float` (long double precision, as Redis) and
/// stored as a plain string, keeping the key's TTL.
fn incrbyfloat(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let (key, incr) = (args.next_key()?, args.next_bytes()?);
    let now_ms = ctx.now_ms;
    let db = ctx.db();
    let sum = match db.get(key, now_ms) {
        None => num::incr_by_float(b"0", incr),
        Some(value) => value.with_str(|current| num::incr_by_float(current, incr)).ok_or(errors::WRONGTYPE)?,
    };
    let sum = sum.map_err(|err| match err {
        IncrFloatError::NotFloat => errors::NOT_FLOAT,
        IncrFloatError::NanOrInfinity => errors::NAN_OR_INFINITY,
    })?;
    db.set(key, Value::from_bytes(&sum), true, now_ms);
    ctx.key_changed(key);
    ctx.notify(notify::STRING, "incrbyfloat", key);
    // Replayed as the result, since a float sum may round differently elsewhere (Redis's incrbyfloatCommand).
    let key = ctx.argv[1].clone();
    ctx.propagate_as(|| [propagation::arg(b"SET"), key, Bytes::copy_from_slice(&sum), propagation::arg(b"KEEPTTL")]);
    reply.bulk(&sum);
    Ok(())
}

/// Refuses a string of `len` bytes grown by `extra` bytes beyond proto-max-bulk-len `len_max` (Redis's
/// checkStringLength, overflow included).
fn check_string_len(len: usize, extra: usize, len_max: u64) -> CmdResult {
    match (len as u64).checked_add(extra as u64) {
        Some(total) if total <= len_max => Ok(()),
        _ => Err(errors::STRING_TOO_LONG.into()),
    }
}

/// APPEND: a missing key is created from the argument as SET would; an existing string becomes raw and grows.
fn append(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let (key, tail) = (args.next_key()?, args.next_bytes()?);
    let now_ms = ctx.now_ms;
    let len_max = ctx.state.config.proto_max_bulk_len;
    let db = ctx.db();
    let total_len = match db.get_mut(key, now_ms) {
        None => {
            db.insert_new(key, Value::from_arg(tail));
            tail.len()
        }
        Some(value) => {
            // Checked before the value turns raw, so a refused APPEND leaves the encoding alone.
            check_string_len(value.str_len().ok_or(errors::WRONGTYPE)?, tail.len(), len_max)?;
            let bytes = value.make_raw().ok_or(errors::WRONGTYPE)?;
            bytes.extend_from_slice(tail);
            bytes.len()
        }
    };
    ctx.key_changed(key);
    ctx.notify(notify::STRING, "append", key);
    reply.int(total_len as i64);
    Ok(())
}

/// SETRANGE: writing nothing changes nothing (and creates no key); otherwise the string is zero-padded up to
/// `offset` as needed. A key it creates is raw from the start, as in Redis.
fn setrange(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let key = args.next_key()?;
    let offset = usize::try_from(args.next_int()?).map_err(|_| OFFSET_OUT_OF_RANGE)?;
    let patch = args.next_bytes()?;
    let now_ms = ctx.now_ms;
    let len_max = ctx.state.config.proto_max_bulk_len;
    let db = ctx.db();
    let current_len = match db.get(key, now_ms) {
        None => None,
        Some(value) => Some(value.str_len().ok_or(errors::WRONGTYPE)?),
    };
    if patch.is_empty() {
        reply.int(current_len.unwrap_or(0) as i64);
        return Ok(());
    }
    check_string_len(offset, patch.len(), len_max)?;
    if current_len.is_none() {
        db.insert_new(key, Value::Raw(Box::default()));
    }
    let bytes = db.get_mut(key, now_ms).and_then(Value::make_raw).ok_or(errors::WRONGTYPE)?;
    setrange_apply(bytes, offset, patch);
    let new_len = bytes.len();
    ctx.key_changed(key);
    ctx.notify(notify::STRING, "setrange", key);
    reply.int(new_len as i64);
    Ok(())
}

/// Writes `patch` at `offset`, zero-filling any gap past the end.
fn setrange_apply(bytes: &mut Vec<u8>, offset: usize, patch: &[u8]) {
    let end = offset + patch.len();
    if bytes.len() < end {
        bytes.resize(end, 0);
    }
    bytes[offset..end].copy_from_slice(patch);
}

/// GETRANGE and SUBSTR: a missing key reads as the empty string.
fn getrange(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let (key, start, end) = (args.next_key()?, args.next_int()?, args.next_int()?);
    let Some(value) = ctx.read_key(key) else {
        reply.bulk(b"");
        return Ok(());
    };
    value
        .with_str(|s| match getrange_bounds(s.len(), start, end) {
            Some(range) => reply.bulk(&s[range]),
            None => reply.bulk(b""),
        })
        .ok_or(errors::WRONGTYPE)?;
    Ok(())
}

/// The bytes GETRANGE returns from a `len`-byte string for the inclusive indexes `start..=end`, where negative
/// indexes count from the end; indexes are clamped into the string, and `None` means the empty string.
fn getrange_bounds(len: usize, start: i64, end: i64) -> Option<Range<usize>> {
    // Two negative indexes in the wrong order select nothing, even where clamping would leave a byte
    // (`-6 -9` of a 5-byte string); Redis tests this before converting.
    if start < 0 && end < 0 && start > end {
        return None;
    }
    // A string is at most isize::MAX bytes, so `len + index` with a negative index cannot overflow.
    let len = len as i64;
    let from_end = |index: i64| if index < 0 { len + index } else { index };
    let start = from_end(start).max(0);
    let end = from_end(end).max(0).min(len - 1);
    (len > 0 && start <= end).then(|| start as usize..end as usize + 1)
}

fn strlen(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let key = ctx.args().next_key()?;
    let len = match ctx.read_key(key) {
        None => 0,
        Some(value) => value.str_len().ok_or(errors::WRONGTYPE)?,
    };
    reply.int(len as i64);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range_of(s: &str, start: i64, end: i64) -> &str {
        getrange_bounds(s.len(), start, end).map_or("", |r| &s[r])
    }

    #[test]
    fn getrange_matches_redis() {
        // Expected values recorded from redis-server 7.0.15.
        let s = "Hello World";
        assert_eq!(range_of(s, 0, 4), "Hello");
        assert_eq!(range_of(s, -3, -1), "rld");
        assert_eq!(range_of(s, -1, -3), "");
        assert_eq!(range_of(s, 5, 3), "");
        assert_eq!(range_of(s, 0, -100), "H");
        assert_eq!(range_of(s, -100, -100), "H");
        assert_eq!(range_of(s, -100, -50), "H");
        assert_eq!(range_of(s, 0, 100), "Hello World");
        assert_eq!(range_of(s, 100, 200), "");
        assert_eq!(range_of(s, 11, 11), "");
        assert_eq!(range_of(s, 10, 10), "d");
        assert_eq!(range_of(s, i64::MAX, i64::MAX), "");
        assert_eq!(range_of(s, i64::MIN, i64::MAX), "Hello World");
        assert_eq!(range_of(s, i64::MIN, i64::MIN), "H");
        assert_eq!(range_of("", 0, -1), "");
        assert_eq!(range_of("", -1, 0), "");
        assert_eq!(range_of("12345", 1, -2), "234");
        assert_eq!(range_of("abcde", -6, -9), "");
        assert_eq!(range_of("abcde", -1, i64::MIN), "");
        assert_eq!(range_of("abcde", -9, -6), "a");
    }

    #[test]
    fn string_len_limit_includes_overflow() {
        let max = 512 * 1024 * 1024;
        assert_eq!(check_string_len(max - 1, 1, max as u64), Ok(()));
        assert_eq!(check_string_len(max, 1, max as u64), Err(errors::STRING_TOO_LONG.into()));
        assert_eq!(check_string_len(usize::MAX, 1, u64::MAX), Err(errors::STRING_TOO_LONG.into()));
        assert_eq!(check_string_len(0, 0, 0), Ok(()));
    }

    #[test]
    fn setrange_pads_and_overwrites() {
        let mut bytes = Vec::new();
        setrange_apply(&mut bytes, 3, b"abc");
        assert_eq!(bytes, b"\0\0\0abc");
        setrange_apply(&mut bytes, 1, b"X");
        assert_eq!(bytes, b"\0X\0abc");
        setrange_apply(&mut bytes, 5, b"yz");
        assert_eq!(bytes, b"\0X\0abyz");
    }

    #[test]
    fn stored_int_follows_string2ll() {
        assert_eq!(stored_int(&Value::Int(-7)), Ok(-7));
        assert_eq!(stored_int(&Value::from_bytes(b"42")), Ok(42));
        assert_eq!(stored_int(&Value::Raw(Box::new(b"51".to_vec()))), Ok(51));
        for bad in [&b"1.5"[..], b" 1", b"01", b"+1", b"99999999999999999999", b"", b"abc"] {
            assert_eq!(stored_int(&Value::from_bytes(bad)), Err(errors::NOT_INTEGER.into()), "{bad:?}");
        }
    }
}
