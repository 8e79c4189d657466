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
use super::keys::ScanOptions;
use super::{CommandSpec, Ctx, KeySpec, flag::*};
use crate::db::Value;
use crate::resp::reply::Reply;
use crate::types::set_object::{Limits, Member, Set};
use crate::util::glob::glob_match;

const SCAN_COMPLEXITY: &str = "O(1) for every call. O(N) for a complete iteration, including enough command calls for \
    the cursor to return back to 0. N is the number of elements inside the collection..";

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("sadd", -3, WRITE | DENYOOM | FAST, sadd)
        .keys(1, 1, 1)
        .acl("write set fast")
        .docs(
            "set",
            "1.0.0",
            "Add one or more members to a set",
            "O(1) for each element added, so O(N) to add N elements when the command is called with multiple \
             arguments.",
        )
        .key_specs(&[KeySpec::range("RW insert", 1, 0, 1)]),
    CommandSpec::new("scard", 2, READONLY | FAST, scard)
        .keys(1, 1, 1)
        .acl("read set fast")
        .docs("set", "1.0.0", "Get the number of members in a set", "O(1)")
        .key_specs(&[KeySpec::range("RO", 1, 0, 1)]),
    CommandSpec::new("sdiff", -2, READONLY, algebra::sdiff)
        .keys(1, -1, 1)
        .acl("read set slow")
        .docs("set", "1.0.0", "Subtract multiple sets", algebra::UNION_COMPLEXITY)
        .tips("nondeterministic_output_order"),
    CommandSpec::new("sdiffstore", -3, WRITE | DENYOOM, algebra::sdiffstore)
        .keys(1, -1, 1)
        .acl("write set slow")
        .docs("set", "1.0.0", "Subtract multiple sets and store the resulting set in a key", algebra::UNION_COMPLEXITY)
        .key_specs(algebra::STORE_OVERWRITE_KEY_SPECS),
    CommandSpec::new("sinter", -2, READONLY, algebra::sinter)
        .keys(1, -1, 1)
        .acl("read set slow")
        .docs("set", "1.0.0", "Intersect multiple sets", algebra::INTER_COMPLEXITY)
        .tips("nondeterministic_output_order"),
    CommandSpec::new("sintercard", -3, READONLY | MOVABLE_KEYS, algebra::sintercard)
        .acl("read set slow")
        .docs(
            "set",
            "7.0.0",
            "Intersect multiple sets and return the cardinality of the result",
            algebra::INTER_COMPLEXITY,
        )
        .key_specs(&[KeySpec::keynum("RO access", 1, 0, 1, 1)]),
    CommandSpec::new("sinterstore", -3, WRITE | DENYOOM, algebra::sinterstore)
        .keys(1, -1, 1)
        .acl("write set slow")
        .docs("set", "1.0.0", "Intersect multiple sets and store the resulting set in a key", algebra::INTER_COMPLEXITY)
        .key_specs(&[KeySpec::range("RW update", 1, 0, 1), KeySpec::range("RO access", 2, -1, 1)]),
    CommandSpec::new("sismember", 3, READONLY | FAST, sismember)
        .keys(1, 1, 1)
        .acl("read set fast")
        .docs("set", "1.0.0", "Determine if a given value is a member of a set", "O(1)")
        .key_specs(&[KeySpec::range("RO", 1, 0, 1)]),
    CommandSpec::new("smembers", 2, READONLY, smembers)
        .keys(1, 1, 1)
        .acl("read set slow")
        .docs("set", "1.0.0", "Get all the members in a set", "O(N) where N is the set cardinality.")
        .tips("nondeterministic_output_order"),
    CommandSpec::new("smismember", -3, READONLY | FAST, smismember).keys(1, 1, 1).acl("read set fast").docs(
        "set",
        "6.2.0",
        "Returns the membership associated with the given elements for a set",
        "O(N) where N is the number of elements being checked for membership",
    ),
    CommandSpec::new("smove", 4, WRITE | FAST, smove)
        .keys(1, 2, 1)
        .acl("write set fast")
        .docs("set", "1.0.0", "Move a member from one set to another", "O(1)")
        .key_specs(&[KeySpec::range("RW access delete", 1, 0, 1), KeySpec::range("RW insert", 2, 0, 1)]),
    CommandSpec::new("spop", -2, WRITE | FAST, spop_srandmember::spop)
        .keys(1, 1, 1)
        .acl("write set fast")
        .docs(
            "set",
            "1.0.0",
            "Remove and return one or multiple random members from a set",
            "Without the count argument O(1), otherwise O(N) where N is the value of the passed count.",
        )
        .tips("nondeterministic_output")
        .key_specs(&[KeySpec::range("RW access delete", 1, 0, 1)]),
    CommandSpec::new("srandmember", -2, READONLY, spop_srandmember::srandmember)
        .keys(1, 1, 1)
        .acl("read set slow")
        .docs(
            "set",
            "1.0.0",
            "Get one or multiple random members from a set",
            "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.",
        )
        .tips("nondeterministic_output"),
    CommandSpec::new("srem", -3, WRITE | FAST, srem)
        .keys(1, 1, 1)
        .acl("write set fast")
        .docs(
            "set",
            "1.0.0",
            "Remove one or more members from a set",
            "O(N) where N is the number of members to be removed.",
        )
        .key_specs(&[KeySpec::range("RW delete", 1, 0, 1)]),
    CommandSpec::new("sscan", -3, READONLY, sscan)
        .keys(1, 1, 1)
        .acl("read set slow")
        .docs("set", "2.8.0", "Incrementally iterate Set elements", SCAN_COMPLEXITY)
        .tips("nondeterministic_output"),
    CommandSpec::new("sunion", -2, READONLY, algebra::sunion)
        .keys(1, -1, 1)
        .acl("read set slow")
        .docs("set", "1.0.0", "Add multiple sets", algebra::UNION_COMPLEXITY)
        .tips("nondeterministic_output_order"),
    CommandSpec::new("sunionstore", -3, WRITE | DENYOOM, algebra::sunionstore)
        .keys(1, -1, 1)
        .acl("write set slow")
        .docs("set", "1.0.0", "Add multiple sets and store the resulting set in a key", algebra::UNION_COMPLEXITY)
        .key_specs(algebra::STORE_OVERWRITE_KEY_SPECS),
];

/// The conversion thresholds as configured now.
fn limits(ctx: &Ctx<'_>) -> Limits {
    let config = &ctx.state.config;
    Limits {
        intset_entries: config.set_max_intset_entries,
        packed_entries: config.set_max_listpack_entries,
        packed_value: config.set_max_listpack_value,
    }
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

/// Deletes `key` if the set under it is empty: a collection emptied by any command disappears.
fn delete_if_empty(ctx: &mut Ctx<'_>, key: &[u8]) {
    let now_ms = ctx.now_ms;
    if matches!(ctx.db().get(key, now_ms), Some(Value::Set(set)) if set.is_empty()) {
        ctx.db().remove(key, now_ms);
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
        ctx.key_changed(key);
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
        delete_if_empty(ctx, key);
        ctx.key_changed(key);
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
    delete_if_empty(ctx, source);
    ctx.key_changed(source);
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
        reply.array(2);
        reply.bulk(b"0");
        reply.array(0);
        return Ok(());
    };
    let ScanOptions { pattern, count, .. } = ScanOptions::parse(args, false)?;
    // Members go to a scratch reply first: the cursor, which comes before them, is known only after the scan.
    let mut members = Reply::new(reply.resp3);
    let mut found = 0;
    let next = set.scan(cursor, count, |member| {
        if pattern.is_none_or(|pattern| member.with_bytes(|bytes| glob_match(pattern, bytes, false))) {
            reply_member(&mut members, member);
            found += 1;
        }
    });
    reply.array(2);
    reply.bulk(itoa::Buffer::new().format(next).as_bytes());
    reply.array(found);
    reply.buf.extend_from_slice(&members.buf);
    Ok(())
}
