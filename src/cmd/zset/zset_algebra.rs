//! ZUNION ZINTER ZDIFF, their STORE forms and ZINTERCARD (Redis's zunionInterDiffGenericCommand). Sources may
//! be sorted sets or plain sets (each member scoring 1), every key's type is checked before the options are
//! read, as in Redis.
//!
//! The result is accumulated in a hash table read one source at a time (union adds, intersection keeps what
//! the next source also holds, difference drops it), so no two sources are borrowed at once; union and
//! intersection visit the sources from the smallest, as Redis's qsort by cardinality does, so a SUM adds in
//! Redis's order.

use bytes::Bytes;
use hashbrown::HashMap;

use super::{Ctx, limits, reply_pair, reply_pairs_header, store};
use crate::cmd::args::Args;
use crate::cmd::errors::{self, CmdError, CmdResult};
use crate::db::Value;
use crate::resp::reply::Reply;
use crate::types::zset_object::Zset;
use crate::types::zset_tree::precedes;
use crate::util::num;

const WEIGHT_NOT_FLOAT: &str = "ERR weight value is not a float";
const LIMIT_NEGATIVE: &str = "ERR LIMIT can't be negative";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Inter,
    Diff,
}

#[derive(Debug, Clone, Copy)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

impl Aggregate {
    /// Redis's zunionInterAggregate: a SUM that gives NaN (inf + -inf) is 0.
    fn apply(self, target: f64, value: f64) -> f64 {
        match self {
            Aggregate::Sum => {
                let sum = target + value;
                if sum.is_nan() { 0.0 } else { sum }
            }
            Aggregate::Min => target.min(value),
            Aggregate::Max => target.max(value),
        }
    }
}

/// The options after the keys.
struct Options {
    weights: Vec<f64>,
    aggregate: Aggregate,
    with_scores: bool,
    limit: usize,
}

/// Calls `f(member, score)` for each member of the source `value` (a sorted set, or a set scoring 1).
fn for_each_member(value: Option<&Value>, mut f: impl FnMut(&[u8], f64)) {
    match value {
        Some(Value::Zset(zset)) => zset.for_each(|score, member| f(member, score)),
        Some(Value::Set(set)) => set.iter().for_each(|member| member.with_bytes(|m| f(m, 1.0))),
        _ => {}
    }
}

fn score_in(value: Option<&Value>, member: &[u8]) -> Option<f64> {
    match value {
        Some(Value::Zset(zset)) => zset.score(member),
        Some(Value::Set(set)) => set.contains(member).then_some(1.0),
        _ => None,
    }
}

fn cardinality(value: Option<&Value>) -> usize {
    match value {
        Some(Value::Zset(zset)) => zset.len(),
        Some(Value::Set(set)) => set.len(),
        _ => 0,
    }
}

/// `numkeys key...`, each key checked to be missing, a sorted set or a set, then the options.
fn parse<'a>(
    ctx: &mut Ctx<'_>,
    mut args: Args<'a>,
    op: Op,
    store: bool,
    card: bool,
) -> Result<(&'a [Bytes], Options), CmdError> {
    let numkeys = args.next_int()?;
    if numkeys < 1 {
        return Err(format!("ERR at least 1 input key is needed for '{}' command", ctx.cmd.spec.name).into());
    }
    let keys = usize::try_from(numkeys).ok().and_then(|n| args.take(n)).ok_or(errors::SYNTAX)?;
    for key in keys {
        if ctx.read_key(key).is_some_and(|value| !matches!(value, Value::Zset(_) | Value::Set(_))) {
            return Err(errors::WRONGTYPE.into());
        }
    }
    let mut options =
        Options { weights: vec![1.0; keys.len()], aggregate: Aggregate::Sum, with_scores: false, limit: 0 };
    while let Some(option) = args.next_option() {
        let remaining = args.remaining();
        if op != Op::Diff && !card && remaining >= keys.len() && option.is("weights") {
            for weight in &mut options.weights {
                *weight = num::parse_f64(args.next_bytes()?).ok_or(WEIGHT_NOT_FLOAT)?;
            }
        } else if op != Op::Diff && !card && remaining >= 1 && option.is("aggregate") {
            let choices = [("sum", Aggregate::Sum), ("min", Aggregate::Min), ("max", Aggregate::Max)];
            options.aggregate = args.next_keyword()?.pick(&choices).ok_or(errors::SYNTAX)?;
        } else if !store && !card && option.is("withscores") {
            options.with_scores = true;
        } else if card && remaining >= 1 && option.is("limit") {
            options.limit = args.next_int_in_or(0, i64::MAX, LIMIT_NEGATIVE)? as usize;
        } else {
            return Err(errors::SYNTAX.into());
        }
    }
    Ok((keys, options))
}

/// The result of `op` over `keys` as member → score.
fn compute(ctx: &mut Ctx<'_>, keys: &[Bytes], op: Op, options: &Options) -> HashMap<Vec<u8>, f64> {
    let now_ms = ctx.now_ms;
    let db = ctx.db();
    let mut order: Vec<usize> = (0..keys.len()).collect();
    if op != Op::Diff {
        order.sort_by_key(|&i| cardinality(db.get(&keys[i], now_ms)));
    }
    let weighted = |score: f64, weight: f64| {
        let product = score * weight;
        if product.is_nan() { 0.0 } else { product }
    };
    let mut result: HashMap<Vec<u8>, f64> = HashMap::new();
    let (first, rest) = order.split_first().expect("at least one key");
    let weight = options.weights[*first];
    for_each_member(db.get(&keys[*first], now_ms), |member, score| {
        result.insert(member.to_vec(), if op == Op::Diff { score } else { weighted(score, weight) });
    });
    for &i in rest {
        let value = db.get(&keys[i], now_ms);
        let weight = options.weights[i];
        match op {
            Op::Union => for_each_member(value, |member, score| {
                let score = weighted(score, weight);
                result
                    .entry_ref(member)
                    .and_modify(|target| *target = options.aggregate.apply(*target, score))
                    .or_insert_with(|| score);
            }),
            Op::Inter => result.retain(|member, target| match score_in(value, member) {
                Some(score) => {
                    *target = options.aggregate.apply(*target, weighted(score, weight));
                    true
                }
                None => false,
            }),
            Op::Diff => result.retain(|member, _| score_in(value, member).is_none()),
        }
        if result.is_empty() && op != Op::Union {
            break;
        }
    }
    result
}

/// The result in (score, member) order.
fn sorted(result: HashMap<Vec<u8>, f64>) -> Vec<(f64, Vec<u8>)> {
    let mut items: Vec<(f64, Vec<u8>)> = result.into_iter().map(|(member, score)| (score, member)).collect();
    items.sort_by(
        |a, b| {
            if precedes(a.0, &a.1, b.0, &b.1) { std::cmp::Ordering::Less } else { std::cmp::Ordering::Greater }
        },
    );
    items
}

/// ZUNION/ZINTER/ZDIFF numkeys key... [options] [WITHSCORES].
fn read_generic(ctx: &mut Ctx<'_>, reply: &mut Reply, op: Op) -> CmdResult {
    let (keys, options) = parse(ctx, ctx.args(), op, false, false)?;
    let items = sorted(compute(ctx, keys, op, &options));
    reply_pairs_header(reply, items.len(), options.with_scores);
    for (score, member) in &items {
        reply_pair(reply, member, *score, options.with_scores);
    }
    Ok(())
}

/// ZUNIONSTORE/ZINTERSTORE/ZDIFFSTORE destination numkeys key... [options].
fn store_generic(ctx: &mut Ctx<'_>, reply: &mut Reply, op: Op) -> CmdResult {
    let mut args = ctx.args();
    let destination = args.next_key()?;
    let (keys, options) = parse(ctx, args, op, true, false)?;
    let items = sorted(compute(ctx, keys, op, &options));
    let limits = limits(ctx);
    let member_len_max = items.iter().map(|(_, m)| m.len()).max().unwrap_or(0);
    let mut zset = Zset::with_hint(items.len(), member_len_max, &limits);
    for (score, member) in &items {
        zset.set(member, *score, &limits);
    }
    // The event is the command's name: zunionstore, zinterstore, zdiffstore.
    let event = ctx.cmd.spec.name;
    store(ctx, reply, destination, (zset, false), event);
    Ok(())
}

pub fn zunion(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    read_generic(ctx, reply, Op::Union)
}

pub fn zinter(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    read_generic(ctx, reply, Op::Inter)
}

pub fn zdiff(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    read_generic(ctx, reply, Op::Diff)
}

pub fn zunionstore(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    store_generic(ctx, reply, Op::Union)
}

pub fn zinterstore(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    store_generic(ctx, reply, Op::Inter)
}

pub fn zdiffstore(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    store_generic(ctx, reply, Op::Diff)
}

/// ZINTERCARD numkeys key... [LIMIT limit]: the intersection's size, stopping at a non-zero limit.
pub fn zintercard(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let (keys, options) = parse(ctx, ctx.args(), Op::Inter, false, true)?;
    let len = compute(ctx, keys, Op::Inter, &options).len();
    let len = if options.limit > 0 { len.min(options.limit) } else { len };
    reply.int(len as i64);
    Ok(())
}
