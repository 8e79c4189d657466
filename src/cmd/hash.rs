//! Hash commands (Redis's t_hash.c): HDEL HEXISTS HGET HGETALL HINCRBY HINCRBYFLOAT HKEYS HLEN HMGET HMSET
//! HRANDFIELD HSCAN HSET HSETNX HSTRLEN HVALS.
//!
//! - Here: the table, the reads, the writes (HSET HMSET HSETNX HDEL and the HINCRBY family).
//! - `random`: HRANDFIELD and HSCAN, the two commands whose replies are not a plain walk of the hash.
//!
//! The structure is `types::hash::Hash`; this file only parses, checks types and writes replies. Every
//! handler checks its arguments in Redis's order (usually: numbers first, then the key's type), so errors
//! match Redis's when several apply, and it fails before any change: a key is created only by a write that
//! then succeeds. HDEL, the only command that can empty a hash, deletes the key with its last field.
//! Reads go through `ctx.read_key` so keyspace hits and misses count as in Redis's lookupKeyRead.

mod hrandfield_hscan;

use super::errors::{self, CmdError, CmdResult};
use super::{Ctx, Handlers};
use crate::config::notify;
use crate::db::Value;
use crate::resp::reply::Reply;
use crate::types::hash_object::{Hash, Limits};
use crate::util::num::{self, HincrFloatError};
use bytes::Bytes;

const HASH_NOT_INTEGER: &str = "ERR hash value is not an integer";
const HASH_NOT_FLOAT: &str = "ERR hash value is not a float";
const INCR_NAN_OR_INFINITY: &str = "ERR value is NaN or Infinity";

/// This family's handlers by command name, bound to the entries of its src/cmd/meta file.
pub const HANDLERS: &[Handlers] = &[&[
    ("hdel", hdel),
    ("hexists", hexists),
    ("hget", hget),
    ("hgetall", hgetall),
    ("hincrby", hincrby),
    ("hincrbyfloat", hincrbyfloat),
    ("hkeys", hkeys),
    ("hlen", hlen),
    ("hmget", hmget),
    ("hmset", hmset),
    ("hrandfield", hrandfield_hscan::hrandfield),
    ("hscan", hrandfield_hscan::hscan),
    ("hset", hset),
    ("hsetnx", hsetnx),
    ("hstrlen", hstrlen),
    ("hvals", hvals),
]];

/// The hash at `key` for writing, created empty if missing (Redis's hashTypeLookupWriteOrCreate). Callers
/// call it only once nothing can fail any more, so a created hash always receives a field.
fn hash_for_write<'a>(ctx: &'a mut Ctx<'_>, key: &[u8]) -> &'a mut Hash {
    let now_ms = ctx.now_ms;
    let db = ctx.db();
    if !db.contains(key, now_ms) {
        db.insert_new(key, Value::Hash(Hash::default()));
    }
    match db.get_mut(key, now_ms) {
        Some(Value::Hash(hash)) => hash,
        _ => unreachable!("the caller checked the type, and the key exists now"),
    }
}

/// Fails with WRONGTYPE if `key` holds something other than a hash.
fn check_hash(ctx: &mut Ctx<'_>, key: &[u8]) -> CmdResult {
    ctx.write_typed::<Hash>(key).map(drop)
}

fn limits(ctx: &Ctx<'_>) -> Limits {
    let config = &ctx.state.config;
    Limits { entries_max: config.hash_max_listpack_entries, value_max: config.hash_max_listpack_value }
}

/// The write of HSETNX and the HINCRBY family, once every check has passed: one field set, the key's change
/// recorded.
fn hash_set_one(ctx: &mut Ctx<'_>, key: &[u8], field: &[u8], value: &[u8], event: &str) {
    let limits = limits(ctx);
    let hash = hash_for_write(ctx, key);
    hash.set(field, value, limits);
    ctx.key_changed(key);
    ctx.notify(notify::HASH, event, key);
}

fn hset(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let added = hset_generic(ctx)?;
    reply.int(added as i64);
    Ok(())
}

/// HMSET: HSET with Redis 2's reply.
fn hmset(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    hset_generic(ctx)?;
    reply.ok();
    Ok(())
}

/// Sets every field/value pair of HSET/HMSET; returns how many fields are new.
fn hset_generic(ctx: &mut Ctx<'_>) -> Result<usize, CmdError> {
    let mut args = ctx.args();
    let (key, pairs) = (args.next_key()?, args.rest());
    if !pairs.len().is_multiple_of(2) {
        return Err(errors::wrong_arity(ctx.cmd.spec.name));
    }
    check_hash(ctx, key)?;
    let limits = limits(ctx);
    let hash = hash_for_write(ctx, key);
    let added = pairs.chunks_exact(2).filter(|pair| hash.set(&pair[0], &pair[1], limits)).count();
    // Redis counts every pair set, new or not.
    ctx.key_changed_by(key, pairs.len() / 2);
    ctx.notify(notify::HASH, "hset", key);
    Ok(added)
}

fn hsetnx(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let (key, field, value) = (args.next_key()?, args.next_bytes()?, args.next_bytes()?);
    if ctx.write_typed::<Hash>(key)?.is_some_and(|hash| hash.contains(field)) {
        reply.int(0);
        return Ok(());
    }
    hash_set_one(ctx, key, field, value, "hset");
    reply.int(1);
    Ok(())
}

fn hdel(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let (key, fields) = (args.next_key()?, args.rest());
    let Some(hash) = ctx.write_typed::<Hash>(key)? else {
        reply.int(0);
        return Ok(());
    };
    let deleted = fields.iter().filter(|field| hash.remove(field)).count();
    let emptied = hash.is_empty();
    if emptied {
        let now_ms = ctx.now_ms;
        ctx.db().remove(key, now_ms);
    }
    if deleted > 0 {
        ctx.key_changed_by(key, deleted);
        ctx.notify(notify::HASH, "hdel", key);
        if emptied {
            ctx.notify(notify::GENERIC, "del", key);
        }
    }
    reply.int(deleted as i64);
    Ok(())
}

/// HINCRBY: the increment is checked first, then the key's type, then the field's value.
fn hincrby(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let (key, field, incr) = (args.next_key()?, args.next_bytes()?, args.next_int()?);
    let current = match ctx.write_typed::<Hash>(key)?.and_then(|hash| hash.get(field)) {
        None => 0,
        Some(value) => num::parse_i64(value).ok_or(HASH_NOT_INTEGER)?,
    };
    let sum = current.checked_add(incr).ok_or(errors::OVERFLOW)?;
    hash_set_one(ctx, key, field, itoa::Buffer::new().format(sum).as_bytes(), "hincrby");
    reply.int(sum);
    Ok(())
}

/// HINCRBYFLOAT: long-double arithmetic and formatting through `num::hincr_by_float`, whose errors come in
/// Redis's order (the increment before the field's value); the key's type is checked between the two.
fn hincrbyfloat(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let (key, field, incr) = (args.next_key()?, args.next_bytes()?, args.next_bytes()?);
    let sum = match ctx.write_typed::<Hash>(key) {
        Err(wrongtype) => {
            // The increment's own errors win over WRONGTYPE.
            num::hincr_by_float(b"0", incr).map_err(hincrbyfloat_error)?;
            return Err(wrongtype);
        }
        Ok(hash) => {
            let current = hash.and_then(|hash| hash.get(field)).unwrap_or(b"0");
            num::hincr_by_float(current, incr).map_err(hincrbyfloat_error)?
        }
    };
    hash_set_one(ctx, key, field, &sum, "hincrbyfloat");
    // Replayed as the result, as Redis's hincrbyfloatCommand propagates it.
    let (key, field) = (ctx.argv[1].clone(), ctx.argv[2].clone());
    ctx.propagate_as(|| [crate::state::propagation::arg(b"HSET"), key, field, Bytes::copy_from_slice(&sum)]);
    reply.bulk(&sum);
    Ok(())
}

fn hincrbyfloat_error(err: HincrFloatError) -> CmdError {
    match err {
        HincrFloatError::IncrNotFloat => errors::NOT_FLOAT,
        HincrFloatError::IncrNanOrInfinity => INCR_NAN_OR_INFINITY,
        HincrFloatError::HashValueNotFloat => HASH_NOT_FLOAT,
        HincrFloatError::NanOrInfinity => errors::NAN_OR_INFINITY,
    }
    .into()
}

/// Replies with `f(value of field)`, or `missing` when the key or the field is absent.
fn field_reply(
    ctx: &mut Ctx<'_>,
    reply: &mut Reply,
    missing: impl FnOnce(&mut Reply),
    found: impl FnOnce(&mut Reply, &[u8]),
) -> CmdResult {
    let mut args = ctx.args();
    let (key, field) = (args.next_key()?, args.next_bytes()?);
    match ctx.read_typed::<Hash>(key)?.and_then(|hash| hash.get(field)) {
        Some(value) => found(reply, value),
        None => missing(reply),
    }
    Ok(())
}

fn hget(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    field_reply(ctx, reply, Reply::null, Reply::bulk)
}

fn hexists(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    field_reply(ctx, reply, |reply| reply.int(0), |reply, _| reply.int(1))
}

fn hstrlen(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    field_reply(ctx, reply, |reply| reply.int(0), |reply, value| reply.int(value.len() as i64))
}

fn hlen(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let key = ctx.args().next_key()?;
    let len = ctx.read_typed::<Hash>(key)?.map_or(0, Hash::len);
    reply.int(len as i64);
    Ok(())
}

/// HMGET: a missing key answers nulls, but a key of another type is WRONGTYPE (unlike MGET).
fn hmget(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let (key, fields) = (args.next_key()?, args.rest());
    let hash = ctx.read_typed::<Hash>(key)?;
    reply.array(fields.len());
    for field in fields {
        match hash.and_then(|hash| hash.get(field)) {
            Some(value) => reply.bulk(value),
            None => reply.null(),
        }
    }
    Ok(())
}

fn hgetall(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let key = ctx.args().next_key()?;
    let hash = ctx.read_typed::<Hash>(key)?;
    reply.map(hash.map_or(0, Hash::len));
    for (field, value) in hash.iter().flat_map(|hash| hash.iter()) {
        reply.bulk(field);
        reply.bulk(value);
    }
    Ok(())
}

fn hkeys(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    walk_one_side(ctx, reply, false)
}

fn hvals(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    walk_one_side(ctx, reply, true)
}

/// HKEYS and HVALS: an array of the fields (or the `values`) of every pair, in the hash's order.
fn walk_one_side(ctx: &mut Ctx<'_>, reply: &mut Reply, values: bool) -> CmdResult {
    let key = ctx.args().next_key()?;
    let hash = ctx.read_typed::<Hash>(key)?;
    reply.array(hash.map_or(0, Hash::len));
    for (field, value) in hash.iter().flat_map(|hash| hash.iter()) {
        reply.bulk(if values { value } else { field });
    }
    Ok(())
}
