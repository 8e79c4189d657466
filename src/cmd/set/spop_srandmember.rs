//! SPOP and SRANDMEMBER (Redis's spopCommand, spopWithCountCommand, srandmemberWithCountCommand).
//!
//! Counts never size an allocation: SPOP removes at most the set's size, SRANDMEMBER's distinct sample keeps
//! at most the set's members, and a negative SRANDMEMBER count (repeats allowed) writes its members one by one,
//! as Redis does. Randomness comes from the server's `Rng`; the difftest compares only the deterministic parts.

use super::{delete_if_empty, reply_member, reply_set};
use crate::cmd::Ctx;
use crate::cmd::errors::{self, CmdResult};
use crate::config::notify;
use crate::resp::reply::Reply;
use crate::state::propagation;
use crate::types::set_object::Set;
use bytes::Bytes;

/// getPositiveLongFromObjectOrReply's text without a message of its own, for anything but a count >= 0.
const SPOP_COUNT_RANGE: &str = "ERR value is out of range, must be positive";

/// SPOP key [count]; more arguments are a syntax error before the count is read, as in Redis.
pub(super) fn spop(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let key = args.next_key()?;
    match args.remaining() {
        0 => spop_one(ctx, reply, key),
        1 => {
            let count = args.next_int_in_or(0, i64::MAX, SPOP_COUNT_RANGE)?;
            spop_count(ctx, reply, key, count as usize)
        }
        _ => Err(errors::SYNTAX.into()),
    }
}

fn spop_one(ctx: &mut Ctx<'_>, reply: &mut Reply, key: &[u8]) -> CmdResult {
    let (set, rng) = ctx.write_typed_and_rng::<Set>(key)?;
    let Some(popped) = set.and_then(|set| set.pop_random(rng)) else {
        reply.null();
        return Ok(());
    };
    reply_member(reply, popped.as_member());
    ctx.key_changed(key);
    ctx.notify(notify::SET, "spop", key);
    delete_if_empty(ctx, key);
    // Replayed as the removal of the member drawn (Redis's spopCommand: SREM even when the set emptied).
    let key = ctx.argv[1].clone();
    ctx.propagate_as(|| [propagation::arg(b"SREM"), key, popped.as_member().with_bytes(Bytes::copy_from_slice)]);
    Ok(())
}

/// SREMs of a partial SPOP with a count go out in units of this many, as Redis's spopWithCountCommand flushes
/// them (each unit a MULTI/EXEC), so a huge pop never builds one huge transaction.
const SPOP_PROPAGATE_BATCH: usize = 1024;

/// SPOP key count: the count is checked before the key; a count of 0 changes nothing, and a count covering
/// the whole set returns all of it and deletes the key.
fn spop_count(ctx: &mut Ctx<'_>, reply: &mut Reply, key: &[u8], count: usize) -> CmdResult {
    let propagating = ctx.propagating();
    let (set, rng) = ctx.write_typed_and_rng::<Set>(key)?;
    let Some(set) = set.filter(|_| count > 0) else {
        reply.set(0);
        return Ok(());
    };
    let mut drawn = Vec::new();
    let emptied = count >= set.len();
    let popped = count.min(set.len());
    if emptied {
        reply_set(reply, set);
        let now_ms = ctx.now_ms;
        ctx.db().remove(key, now_ms);
        let key = ctx.argv[1].clone();
        ctx.propagate_as(|| [propagation::arg(b"DEL"), key]);
    } else {
        reply.set(count);
        for _ in 0..count {
            let popped = set.pop_random(rng).expect("count is below the set's size");
            reply_member(reply, popped.as_member());
            if propagating {
                drawn.push(popped.as_member().with_bytes(Bytes::copy_from_slice));
            }
        }
    }
    ctx.key_changed_by(key, popped);
    ctx.notify(notify::SET, "spop", key);
    if emptied {
        ctx.notify(notify::GENERIC, "del", key);
    }
    propagate_drawn(ctx, drawn);
    Ok(())
}

/// A partial SPOP with a count propagates one SREM per member drawn, as Redis does, not the SPOP itself.
fn propagate_drawn(ctx: &mut Ctx<'_>, drawn: Vec<Bytes>) {
    if drawn.is_empty() {
        return;
    }
    let key = ctx.argv[1].clone();
    for (index, member) in drawn.into_iter().enumerate() {
        ctx.also_propagate(|| [propagation::arg(b"SREM"), key.clone(), member]);
        if (index + 1) % SPOP_PROPAGATE_BATCH == 0 {
            ctx.propagate_pending();
        }
    }
    ctx.prevent_propagation();
}

/// SRANDMEMBER key [count]; more arguments are a syntax error before the count is read, as in Redis. The
/// count must have a positive counterpart (getRangeLongFromObjectOrReply(-LONG_MAX, LONG_MAX)).
pub(super) fn srandmember(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let key = args.next_key()?;
    match args.remaining() {
        0 => {
            let (set, rng) = ctx.read_typed_and_rng::<Set>(key)?;
            match set.and_then(|set| set.random(rng)) {
                Some(member) => reply_member(reply, member),
                None => reply.null(),
            }
            Ok(())
        }
        1 => {
            let count = args.next_int_in(-i64::MAX, i64::MAX)?;
            srandmember_count(ctx, reply, key, count)
        }
        _ => Err(errors::SYNTAX.into()),
    }
}

/// SRANDMEMBER key count: a negative count may repeat members; a positive one returns distinct members, all
/// of them (in the set's order) when it covers the set.
fn srandmember_count(ctx: &mut Ctx<'_>, reply: &mut Reply, key: &[u8], count: i64) -> CmdResult {
    let (set, rng) = ctx.read_typed_and_rng::<Set>(key)?;
    let Some(set) = set.filter(|_| count != 0) else {
        reply.array(0);
        return Ok(());
    };
    let distinct = usize::try_from(count).ok();
    match distinct {
        None => {
            let repeats = count.unsigned_abs();
            reply.array(repeats as usize);
            for _ in 0..repeats {
                reply_member(reply, set.random(rng).expect("the set is not empty"));
            }
        }
        Some(count) if count >= set.len() => {
            reply.array(set.len());
            set.iter().for_each(|member| reply_member(reply, member));
        }
        Some(count) => {
            reply.array(count);
            set.sample_distinct(count, rng, |member| reply_member(reply, member));
        }
    }
    Ok(())
}
