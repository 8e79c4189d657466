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
use super::{CommandSpec, Ctx, KeySpec, flag::*};
use crate::db::Value;
use crate::resp::reply::Reply;
use crate::types::hash_object::{Hash, Limits};
use crate::util::num::{self, HincrFloatError};

const HASH_NOT_INTEGER: &str = "ERR hash value is not an integer";
const HASH_NOT_FLOAT: &str = "ERR hash value is not a float";
const INCR_NAN_OR_INFINITY: &str = "ERR value is NaN or Infinity";

const SPEC_RO: &[KeySpec] = &[KeySpec::range("RO", 1, 0, 1)];
const SPEC_RO_ACCESS: &[KeySpec] = &[KeySpec::range("RO access", 1, 0, 1)];
const SPEC_RW_UPDATE: &[KeySpec] = &[KeySpec::range("RW update", 1, 0, 1)];
const SPEC_RW_ACCESS_UPDATE: &[KeySpec] = &[KeySpec::range("RW access update", 1, 0, 1)];
const SPEC_RW_INSERT: &[KeySpec] = &[KeySpec::range("RW insert", 1, 0, 1)];
const SPEC_RW_DELETE: &[KeySpec] = &[KeySpec::range("RW delete", 1, 0, 1)];

const WALK_COMPLEXITY: &str = "O(N) where N is the size of the hash.";

/// A hash command on one key at argument 1, as every hash command is.
const fn hash_cmd(name: &'static str, arity: i32, flags: u32, run: super::Handler, acl: &'static str) -> CommandSpec {
    CommandSpec::new(name, arity, flags, run).keys(1, 1, 1).acl(acl)
}

pub const COMMANDS: &[CommandSpec] = &[
    hash_cmd("hdel", -3, WRITE | FAST, hdel, "write hash fast")
        .docs("hash", "2.0.0", "Delete one or more hash fields", "O(N) where N is the number of fields to be removed.")
        .key_specs(SPEC_RW_DELETE),
    hash_cmd("hexists", 3, READONLY | FAST, hexists, "read hash fast")
        .docs("hash", "2.0.0", "Determine if a hash field exists", "O(1)")
        .key_specs(SPEC_RO),
    hash_cmd("hget", 3, READONLY | FAST, hget, "read hash fast")
        .docs("hash", "2.0.0", "Get the value of a hash field", "O(1)")
        .key_specs(SPEC_RO_ACCESS),
    hash_cmd("hgetall", 2, READONLY, hgetall, "read hash slow")
        .docs("hash", "2.0.0", "Get all the fields and values in a hash", WALK_COMPLEXITY)
        .tips("nondeterministic_output_order")
        .key_specs(SPEC_RO_ACCESS),
    hash_cmd("hincrby", 4, WRITE | DENYOOM | FAST, hincrby, "write hash fast")
        .docs("hash", "2.0.0", "Increment the integer value of a hash field by the given number", "O(1)")
        .key_specs(SPEC_RW_ACCESS_UPDATE),
    hash_cmd("hincrbyfloat", 4, WRITE | DENYOOM | FAST, hincrbyfloat, "write hash fast")
        .docs("hash", "2.6.0", "Increment the float value of a hash field by the given amount", "O(1)")
        .key_specs(SPEC_RW_ACCESS_UPDATE),
    hash_cmd("hkeys", 2, READONLY, hkeys, "read hash slow")
        .docs("hash", "2.0.0", "Get all the fields in a hash", WALK_COMPLEXITY)
        .tips("nondeterministic_output_order")
        .key_specs(SPEC_RO_ACCESS),
    hash_cmd("hlen", 2, READONLY | FAST, hlen, "read hash fast")
        .docs("hash", "2.0.0", "Get the number of fields in a hash", "O(1)")
        .key_specs(SPEC_RO),
    hash_cmd("hmget", -3, READONLY | FAST, hmget, "read hash fast")
        .docs(
            "hash",
            "2.0.0",
            "Get the values of all the given hash fields",
            "O(N) where N is the number of fields being requested.",
        )
        .key_specs(SPEC_RO_ACCESS),
    hash_cmd("hmset", -4, WRITE | DENYOOM | FAST, hmset, "write hash fast")
        .docs(
            "hash",
            "2.0.0",
            "Set multiple hash fields to multiple values",
            "O(N) where N is the number of fields being set.",
        )
        .key_specs(SPEC_RW_UPDATE),
    hash_cmd("hrandfield", -2, READONLY, hrandfield_hscan::hrandfield, "read hash slow")
        .docs(
            "hash",
            "6.2.0",
            "Get one or multiple random fields from a hash",
            "O(N) where N is the number of fields returned",
        )
        .tips("nondeterministic_output")
        .key_specs(SPEC_RO_ACCESS),
    hash_cmd("hscan", -3, READONLY, hrandfield_hscan::hscan, "read hash slow")
        .docs(
            "hash",
            "2.8.0",
            "Incrementally iterate hash fields and associated values",
            "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to \
             return back to 0. N is the number of elements inside the collection..",
        )
        .tips("nondeterministic_output")
        .key_specs(SPEC_RO_ACCESS),
    hash_cmd("hset", -4, WRITE | DENYOOM | FAST, hset, "write hash fast")
        .docs(
            "hash",
            "2.0.0",
            "Set the string value of a hash field",
            "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called \
             with multiple field/value pairs.",
        )
        .key_specs(SPEC_RW_UPDATE),
    hash_cmd("hsetnx", 4, WRITE | DENYOOM | FAST, hsetnx, "write hash fast")
        .docs("hash", "2.0.0", "Set the value of a hash field, only if the field does not exist", "O(1)")
        .key_specs(SPEC_RW_INSERT),
    hash_cmd("hstrlen", 3, READONLY | FAST, hstrlen, "read hash fast")
        .docs("hash", "3.2.0", "Get the length of the value of a hash field", "O(1)")
        .key_specs(SPEC_RO),
    hash_cmd("hvals", 2, READONLY, hvals, "read hash slow")
        .docs("hash", "2.0.0", "Get all the values in a hash", WALK_COMPLEXITY)
        .tips("nondeterministic_output_order")
        .key_specs(SPEC_RO_ACCESS),
];

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
fn hash_set_one(ctx: &mut Ctx<'_>, key: &[u8], field: &[u8], value: &[u8]) {
    let limits = limits(ctx);
    let hash = hash_for_write(ctx, key);
    hash.set(field, value, limits);
    ctx.key_changed(key);
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
    ctx.key_changed(key);
    Ok(added)
}

fn hsetnx(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let (key, field, value) = (args.next_key()?, args.next_bytes()?, args.next_bytes()?);
    if ctx.write_typed::<Hash>(key)?.is_some_and(|hash| hash.contains(field)) {
        reply.int(0);
        return Ok(());
    }
    hash_set_one(ctx, key, field, value);
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
        ctx.key_changed(key);
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
    hash_set_one(ctx, key, field, itoa::Buffer::new().format(sum).as_bytes());
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
    hash_set_one(ctx, key, field, &sum);
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
