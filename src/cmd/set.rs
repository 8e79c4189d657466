//! Set commands (Redis's t_set.c): SADD SCARD SDIFF SDIFFSTORE SINTER SINTERCARD SINTERSTORE SISMEMBER
//! SMEMBERS SMISMEMBER SMOVE SPOP SRANDMEMBER SREM SSCAN SUNION SUNIONSTORE.
//!
//! - `algebra`: SINTER SINTERCARD SUNION SDIFF and their STORE forms, on source sets taken out of the
//!   keyspace for the command's duration.
//! - `random`: SPOP and SRANDMEMBER.
//! - Here: the table, the single-key reads and writes, SMOVE and SSCAN.
//!
//! The representation (intset, packed, table) and its conversions live in `types::set`; handlers pass it the
//! thresholds from the config at every write, so CONFIG SET takes effect on the next add, as in Redis. A set
//! emptied by any command is deleted, and every modified key gets one `ctx.key_changed`. Reads go through
//! `ctx.read_key` (keyspace hits and misses, as lookupKeyRead); writes through `Db::get_mut`.

mod algebra;
mod spop_srandmember;

use super::errors::CmdResult;
use super::keys::{self, ScanOptions};
use super::{Ctx, Handlers};
use crate::config::notify;
use crate::db::Value;
use crate::resp::reply::Reply;
use crate::types::set_object::{Limits, Member, Set};
use crate::util::glob::glob_match;

/// This family's handlers by command name, bound to the entries of its src/cmd/meta file.
pub const HANDLERS: &[Handlers] = &[&[
    ("sadd", sadd),
    ("scard", scard),
    ("sdiff", algebra::sdiff),
    ("sdiffstore", algebra::sdiffstore),
    ("sinter", algebra::sinter),
    ("sintercard", algebra::sintercard),
    ("sinterstore", algebra::sinterstore),
    ("sismember", sismember),
    ("smembers", smembers),
    ("smismember", smismember),
    ("smove", smove),
    ("spop", spop_srandmember::spop),
    ("srandmember", spop_srandmember::srandmember),
    ("srem", srem),
    ("sscan", sscan),
    ("sunion", algebra::sunion),
    ("sunionstore", algebra::sunionstore),
]];

/// The conversion thresholds as configured now. Redis 7.0 has no `set-max-listpack-*` directives (7.2
/// added them), so the packed encoding keeps its built-in limits.
fn limits(ctx: &Ctx<'_>) -> Limits {
    Limits { intset_entries: ctx.state.config.set_max_intset_entries, ..Limits::default() }
}

/// Writes one member as a bulk string.
fn reply_member(reply: &mut Reply, member: Member<'_>) {
    match member {
        Member::Int(n) => reply.bulk_i64(n),
        Member::Bytes(bytes) => reply.bulk(bytes),
    }
}

/// Writes a whole set as a RESP3 set (an array in RESP2): SMEMBERS, and the set-algebra replies.
fn reply_set(reply: &mut Reply, set: &Set) {
    reply.set(set.len());
    set.iter().for_each(|member| reply_member(reply, member));
}

/// Deletes `key` if the set under it is empty, with its `del` event: a collection emptied by any command
/// disappears.
fn delete_if_empty(ctx: &mut Ctx<'_>, key: &[u8]) {
    let now_ms = ctx.now_ms;
    if matches!(ctx.db().get(key, now_ms), Some(Value::Set(set)) if set.is_empty()) {
        ctx.db().remove(key, now_ms);
        ctx.notify(notify::GENERIC, "del", key);
    }
}

fn sadd(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let (key, members) = (args.next_key()?, args.rest());
    let limits = limits(ctx);
    let added = match ctx.write_typed::<Set>(key)? {
        Some(set) => members.iter().filter(|member| set.add(member, &limits)).count(),
        None => {
            let mut set = Set::new();
            let added = members.iter().filter(|member| set.add(member, &limits)).count();
            ctx.db().insert_new(key, Value::Set(set));
            added
        }
    };
    if added > 0 {
        ctx.key_changed_by(key, added);
        ctx.notify(notify::SET, "sadd", key);
    }
    reply.int(added as i64);
    Ok(())
}

fn srem(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let (key, members) = (args.next_key()?, args.rest());
    let removed = match ctx.write_typed::<Set>(key)? {
        Some(set) => members.iter().filter(|member| set.remove(member)).count(),
        None => 0,
    };
    if removed > 0 {
        ctx.key_changed_by(key, removed);
        ctx.notify(notify::SET, "srem", key);
        delete_if_empty(ctx, key);
    }
    reply.int(removed as i64);
    Ok(())
}

fn scard(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let key = ctx.args().next_key()?;
    let len = ctx.read_typed::<Set>(key)?.map_or(0, Set::len);
    reply.int(len as i64);
    Ok(())
}

fn sismember(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let (key, member) = (args.next_key()?, args.next_bytes()?);
    let found = ctx.read_typed::<Set>(key)?.is_some_and(|set| set.contains(member));
    reply.int(i64::from(found));
    Ok(())
}

fn smismember(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let (key, members) = (args.next_key()?, args.rest());
    let set = ctx.read_typed::<Set>(key)?;
    reply.array(members.len());
    for member in members {
        reply.int(i64::from(set.is_some_and(|set| set.contains(member))));
    }
    Ok(())
}

fn smembers(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let key = ctx.args().next_key()?;
    match ctx.read_typed::<Set>(key)? {
        Some(set) => reply_set(reply, set),
        None => reply.set(0),
    }
    Ok(())
}

/// SMOVE checks in Redis's order: a missing source answers 0 before the destination's type is looked at;
/// then both types; then source == destination answers membership without a change.
fn smove(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let (source, destination, member) = (args.next_key()?, args.next_key()?, args.next_bytes()?);
    let limits = limits(ctx);
    let destination_exists = ctx.write_typed::<Set>(destination).map(|set| set.is_some());
    let Some(source_set) = ctx.write_typed::<Set>(source)? else {
        reply.int(0);
        return Ok(());
    };
    if source == destination {
        let found = source_set.contains(member);
        destination_exists?;
        reply.int(i64::from(found));
        return Ok(());
    }
    destination_exists?;
    if !source_set.remove(member) {
        reply.int(0);
        return Ok(());
    }
    ctx.key_changed(source);
    ctx.notify(notify::SET, "srem", source);
    delete_if_empty(ctx, source);
    let added = match ctx.write_typed::<Set>(destination)? {
        Some(set) => set.add(member, &limits),
        None => {
            let mut set = Set::new();
            set.add(member, &limits);
            ctx.db().insert_new(destination, Value::Set(set));
            true
        }
    };
    if added {
        ctx.key_changed(destination);
        ctx.notify(notify::SET, "sadd", destination);
    }
    reply.int(1);
    Ok(())
}

/// SSCAN key cursor [MATCH pattern] [COUNT count], checked as Redis 7.0 does: the cursor first, then the key
/// (a missing key answers an empty scan without looking at the options), then its type, then the options in
/// order (TYPE is SCAN's only).
fn sscan(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let (key, cursor) = (args.next_key()?, args.next_cursor()?);
    let Some(set) = ctx.read_typed::<Set>(key)? else {
        keys::reply_scan(reply, 0, 0, &[]);
        return Ok(());
    };
    let ScanOptions { pattern, count, .. } = ScanOptions::parse(args, false)?;
    let mut members = Reply::new(reply.resp3);
    let mut found = 0;
    let next = set.scan(cursor, count, |member| {
        if pattern.is_none_or(|pattern| member.with_bytes(|bytes| glob_match(pattern, bytes, false))) {
            reply_member(&mut members, member);
            found += 1;
        }
    });
    keys::reply_scan(reply, next, found, &members.buf);
    Ok(())
}
