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
use crate::types::set_object::Set;

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
    Ok(())
}

/// SPOP key count: the count is checked before the key; a count of 0 changes nothing, and a count covering
/// the whole set returns all of it and deletes the key.
fn spop_count(ctx: &mut Ctx<'_>, reply: &mut Reply, key: &[u8], count: usize) -> CmdResult {
    let (set, rng) = ctx.write_typed_and_rng::<Set>(key)?;
    let Some(set) = set.filter(|_| count > 0) else {
        reply.set(0);
        return Ok(());
    };
    let emptied = count >= set.len();
    if emptied {
        reply_set(reply, set);
        let now_ms = ctx.now_ms;
        ctx.db().remove(key, now_ms);
    } else {
        reply.set(count);
        for _ in 0..count {
            let popped = set.pop_random(rng).expect("count is below the set's size");
            reply_member(reply, popped.as_member());
        }
    }
    ctx.key_changed(key);
    ctx.notify(notify::SET, "spop", key);
    if emptied {
        ctx.notify(notify::GENERIC, "del", key);
    }
    Ok(())
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
