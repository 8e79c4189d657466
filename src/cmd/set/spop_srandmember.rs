//! SPOP and SRANDMEMBER (Redis's spopCommand, spopWithCountCommand, srandmemberWithCountCommand).
//!
//! Counts never size an allocation: SPOP removes at most the set's size, SRANDMEMBER's distinct sample keeps
//! at most the set's members, and a negative SRANDMEMBER count (repeats allowed) writes its members one by one,
//! as Redis does. Randomness comes from the server's `Rng`; the difftest compares only the deterministic parts.

use super::{delete_if_empty, reply_member, reply_set};
use crate::cmd::errors::{self, CmdResult};
use crate::cmd::{Ctx, args};
use crate::resp::reply::Reply;
use crate::types::set_object::Set;
use crate::util::num::parse_i64;

const SPOP_COUNT_RANGE: &str = "ERR value is out of range, must be positive";
/// getRangeLongFromObjectOrReply's text for SRANDMEMBER's -LONG_MAX..LONG_MAX (LONG_MIN has no absolute value).
const SRANDMEMBER_COUNT_RANGE: &str =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";

pub(super) fn spop(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    match ctx.argv.len() {
        2 => spop_one(ctx, reply),
        3 => spop_count(ctx, reply),
        _ => Err(errors::SYNTAX.into()),
    }
}

fn spop_one(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let argv = ctx.argv;
    let (set, rng) = ctx.write_typed_and_rng::<Set>(&argv[1])?;
    let Some(popped) = set.and_then(|set| set.pop_random(rng)) else {
        reply.null();
        return Ok(());
    };
    reply_member(reply, popped.as_member());
    delete_if_empty(ctx, &argv[1]);
    ctx.key_changed(&argv[1]);
    Ok(())
}

/// SPOP key count: the count is checked before the key; a count of 0 changes nothing, and a count covering
/// the whole set returns all of it and deletes the key.
fn spop_count(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let argv = ctx.argv;
    let count = parse_i64(&argv[2]).and_then(|n| usize::try_from(n).ok()).ok_or(SPOP_COUNT_RANGE)?;
    let (set, rng) = ctx.write_typed_and_rng::<Set>(&argv[1])?;
    let Some(set) = set.filter(|_| count > 0) else {
        reply.set(0);
        return Ok(());
    };
    if count >= set.len() {
        reply_set(reply, set);
        let now_ms = ctx.now_ms;
        ctx.db().remove(&argv[1], now_ms);
    } else {
        reply.set(count);
        for _ in 0..count {
            let popped = set.pop_random(rng).expect("count is below the set's size");
            reply_member(reply, popped.as_member());
        }
    }
    ctx.key_changed(&argv[1]);
    Ok(())
}

pub(super) fn srandmember(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let argv = ctx.argv;
    match argv.len() {
        2 => {
            let (set, rng) = ctx.read_typed_and_rng::<Set>(&argv[1])?;
            match set.and_then(|set| set.random(rng)) {
                Some(member) => reply_member(reply, member),
                None => reply.null(),
            }
            Ok(())
        }
        3 => srandmember_count(ctx, reply),
        _ => Err(errors::SYNTAX.into()),
    }
}

/// SRANDMEMBER key count: a negative count may repeat members; a positive one returns distinct members, all
/// of them (in the set's order) when it covers the set.
fn srandmember_count(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let argv = ctx.argv;
    let count = args::int(&argv[2])?;
    if count == i64::MIN {
        return Err(SRANDMEMBER_COUNT_RANGE.into());
    }
    let (set, rng) = ctx.read_typed_and_rng::<Set>(&argv[1])?;
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
