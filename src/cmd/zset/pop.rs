//! Pops and random picks (Redis's genericZpopCommand, blockingGenericZpopCommand, zmpopGenericCommand,
//! zrandmemberCommand): ZPOPMIN ZPOPMAX ZMPOP BZPOPMIN BZPOPMAX BZMPOP ZRANDMEMBER.
//!
//! The blocking forms try first and call `Ctx::block` when no key holds a sorted set; run again for a ready
//! key they serve from that key alone (`Ctx::keys_to_serve`), as serveClientsBlockedOnSortedSetKey does.

use bytes::Bytes;

use super::{Ctx, reply_pair, reply_pairs_header};
use crate::cmd::args;
use crate::cmd::errors::{self, CmdError, CmdResult};
use crate::db::ValueType;
use crate::resp::reply::Reply;
use crate::state::propagation;
use crate::types::zset_object::Zset;

const RANDMEMBER_RANGE: &str = "ERR value is out of range";

/// Which end a pop takes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Min,
    Max,
}

/// How a pop's reply is shaped (Redis's emitkey and use_nested_array).
#[derive(Debug, Clone, Copy)]
struct Shape {
    with_key: bool,
    nested: bool,
}

/// The first of `keys` that holds a sorted set; WRONGTYPE if a key of another type comes first.
fn first_zset<'k>(ctx: &mut Ctx<'_>, keys: &'k [Bytes]) -> Result<Option<&'k Bytes>, CmdError> {
    for key in keys {
        if ctx.write_typed::<Zset>(key)?.is_some() {
            return Ok(Some(key));
        }
    }
    Ok(None)
}

/// Pops up to `count` members from the set at `key` (which holds one), replying in `shape`; returns how many.
fn pop_from(ctx: &mut Ctx<'_>, reply: &mut Reply, key: &Bytes, end: End, count: usize, shape: Shape) -> usize {
    pop_if_present(ctx, reply, key, end, count, shape).ok().flatten().expect("the caller found a sorted set here")
}

/// `pop_from` for a key not looked up yet: `None` (and no reply) if it holds nothing, WRONGTYPE if it holds
/// another type.
fn pop_if_present(
    ctx: &mut Ctx<'_>,
    reply: &mut Reply,
    key: &Bytes,
    end: End,
    count: usize,
    shape: Shape,
) -> Result<Option<usize>, CmdError> {
    let Some(zset) = ctx.write_typed::<Zset>(key)? else { return Ok(None) };
    let n = count.min(zset.len());
    let emptied = n == zset.len();
    match (shape.with_key, shape.nested) {
        (false, false) => reply.array(n * 2),
        (false, true) => reply.array(n),
        (true, false) => {
            reply.array(n * 2 + 1);
            reply.bulk(key);
        }
        (true, true) => {
            reply.array(2);
            reply.bulk(key);
            reply.array(n);
        }
    }
    let (lo, hi) = match end {
        End::Min => (0, n),
        End::Max => (zset.len() - n, zset.len()),
    };
    zset.visit(lo, hi, end == End::Max, |score, member| {
        if shape.nested {
            reply.array(2);
        }
        reply.bulk(member);
        reply.double(score);
    });
    zset.remove_ranks(lo, hi);
    super::changed_emptied(ctx, key, n, if end == End::Max { "zpopmax" } else { "zpopmin" }, emptied);
    Ok(Some(n))
}

/// The ZPOPMIN or ZPOPMAX that a blocking pop or ZMPOP propagates as (with `count` for the MPOP forms, the
/// number popped), as Redis's blockingGenericZpopCommand and genericZpopCommand rewrite them.
fn propagate_pop(ctx: &mut Ctx<'_>, key: &Bytes, end: End, count: Option<usize>) {
    let name: &[u8] = if end == End::Max { b"ZPOPMAX" } else { b"ZPOPMIN" };
    let key = key.clone();
    ctx.propagate_as(|| [propagation::arg(name), key].into_iter().chain(count.map(|n| propagation::int(n as i64))));
}

pub fn zpopmin(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    pop_generic(ctx, reply, End::Min)
}

pub fn zpopmax(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    pop_generic(ctx, reply, End::Max)
}

/// ZPOPMIN/ZPOPMAX key [count]: a flat array, nested pairs in RESP3 when a count is given.
fn pop_generic(ctx: &mut Ctx<'_>, reply: &mut Reply, end: End) -> CmdResult {
    let mut args = ctx.args();
    if args.remaining() > 2 {
        return Err(errors::SYNTAX.into());
    }
    let key = args.next_key()?;
    let count = match args.remaining() {
        0 => None,
        _ => Some(args.next_int_in_or(0, i64::MAX, errors::POP_COUNT_RANGE)? as usize),
    };
    if count == Some(0) {
        ctx.write_typed::<Zset>(key)?;
        reply.array(0);
        return Ok(());
    }
    let shape = Shape { with_key: false, nested: reply.resp3 && count.is_some() };
    if pop_if_present(ctx, reply, key, end, count.unwrap_or(1), shape)?.is_none() {
        reply.array(0);
    }
    Ok(())
}

pub fn bzpopmin(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    bpop_generic(ctx, reply, End::Min)
}

pub fn bzpopmax(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    bpop_generic(ctx, reply, End::Max)
}

/// BZPOPMIN/BZPOPMAX key... timeout: `[key, member, score]` from the first key holding a sorted set.
fn bpop_generic(ctx: &mut Ctx<'_>, reply: &mut Reply, end: End) -> CmdResult {
    let (timeout, keys) = ctx.args().rest().split_last().ok_or(errors::SYNTAX)?;
    let deadline_ms = args::timeout(timeout, ctx.now_ms)?;
    match first_zset(ctx, ctx.keys_to_serve(keys))? {
        Some(key) => {
            pop_from(ctx, reply, key, end, 1, Shape { with_key: true, nested: false });
            propagate_pop(ctx, key, end, None);
        }
        None => ctx.block(keys, ValueType::Zset, deadline_ms, reply),
    }
    Ok(())
}

/// ZMPOP/BZMPOP arguments after the timeout: `numkeys key... MIN|MAX [COUNT n]`.
struct Mpop<'a> {
    keys: &'a [Bytes],
    end: End,
    count: usize,
}

fn mpop_args(mut args: args::Args<'_>) -> Result<Mpop<'_>, CmdError> {
    let keys = args.numkeys_keys(errors::NUMKEYS_RANGE)?;
    let end = args.next_keyword()?.pick(&[("min", End::Min), ("max", End::Max)]).ok_or(errors::SYNTAX)?;
    Ok(Mpop { keys, end, count: args.mpop_count()? })
}

/// Serves a [B]ZMPOP from the first key holding a sorted set; false when none does.
fn mpop_serve(ctx: &mut Ctx<'_>, reply: &mut Reply, mpop: &Mpop<'_>) -> Result<bool, CmdError> {
    let Some(key) = first_zset(ctx, ctx.keys_to_serve(mpop.keys))? else {
        return Ok(false);
    };
    let popped = pop_from(ctx, reply, key, mpop.end, mpop.count, Shape { with_key: true, nested: true });
    propagate_pop(ctx, key, mpop.end, Some(popped));
    Ok(true)
}

pub fn zmpop(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mpop = mpop_args(ctx.args())?;
    if !mpop_serve(ctx, reply, &mpop)? {
        reply.null_array();
    }
    Ok(())
}

/// BZMPOP timeout numkeys key... MIN|MAX [COUNT n]: the timeout is checked after the rest, as in Redis.
pub fn bzmpop(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let timeout = args.next_bytes()?;
    let mpop = mpop_args(args)?;
    let deadline_ms = args::timeout(timeout, ctx.now_ms)?;
    if !mpop_serve(ctx, reply, &mpop)? {
        ctx.block(mpop.keys, ValueType::Zset, deadline_ms, reply);
    }
    Ok(())
}

/// ZRANDMEMBER key [count [WITHSCORES]]: one member, or `count` distinct ones (all when the count covers the
/// set, in order), or with a negative count that many picks that may repeat.
pub fn zrandmember(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let key = args.next_key()?;
    let Some(count) = args.peek().map(|_| args.next_int_in(-i64::MAX, i64::MAX)).transpose()? else {
        let (zset, rng) = ctx.read_typed_and_rng::<Zset>(key)?;
        let picked = zset.and_then(|zset| zset.with_rank(rng.below(zset.len()), |_, member| reply.bulk(member)));
        if picked.is_none() {
            reply.null();
        }
        return Ok(());
    };
    let with_scores = match args.remaining() {
        0 => false,
        1 if args.eat("withscores") => true,
        _ => return Err(errors::SYNTAX.into()),
    };
    if with_scores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return Err(RANDMEMBER_RANGE.into());
    }
    let (zset, rng) = ctx.read_typed_and_rng::<Zset>(key)?;
    let Some(zset) = zset.filter(|_| count != 0) else {
        reply.array(0);
        return Ok(());
    };
    let len = zset.len();
    if count < 0 {
        let n = count.unsigned_abs() as usize;
        reply_pairs_header(reply, n, with_scores);
        for _ in 0..n {
            zset.with_rank(rng.below(len), |score, member| reply_pair(reply, member, score, with_scores))
                .expect("a rank below the length");
        }
        return Ok(());
    }
    let n = (count as usize).min(len);
    reply_pairs_header(reply, n, with_scores);
    if n == len {
        // Redis answers a count covering the set with the whole set by rank, highest score first (what
        // redis-server 7.0.15 returns for listpack and skiplist sets alike).
        zset.visit(0, len, true, |score, member| reply_pair(reply, member, score, with_scores));
        return Ok(());
    }
    // A partial Fisher-Yates shuffle of the ranks picks `n` distinct ones; n < len here, and len is what the
    // set already holds, so the index vector is bounded by the data.
    let mut ranks: Vec<usize> = (0..len).collect();
    for i in 0..n {
        let j = i + rng.below(len - i);
        ranks.swap(i, j);
        zset.with_rank(ranks[i], |score, member| reply_pair(reply, member, score, with_scores))
            .expect("a rank below the length");
    }
    Ok(())
}
