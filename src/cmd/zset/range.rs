//! Ranges of a sorted set (Redis's zrangeGenericCommand and friends): ZRANGE with BYSCORE BYLEX REV LIMIT
//! WITHSCORES, its older forms (ZRANGEBYSCORE ZRANGEBYLEX ZREVRANGE ZREVRANGEBYSCORE ZREVRANGEBYLEX),
//! ZRANGESTORE, ZCOUNT, ZLEXCOUNT and ZREMRANGEBYRANK/SCORE/LEX.
//!
//! Every range becomes a span of ascending ranks `lo..hi` first (a score or lex bound is a `count_while`
//! on the set, O(log n) on a large one), then is walked or removed.

use bytes::Bytes;

use super::{Ctx, changed, limits, reply_pair, reply_pairs_header, store};
use crate::cmd::args::{self, Args};
use crate::cmd::errors::{self, CmdError, CmdResult};
use crate::cmd::list::clamp_range;
use crate::resp::reply::Reply;
use crate::types::zset_object::Zset;
use crate::util::num;

const NOT_FLOAT_RANGE: &str = "ERR min or max is not a float";
const NOT_LEX_RANGE: &str = "ERR min or max not valid string range item";
const LIMIT_WITH_RANK: &str = "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX";
const WITHSCORES_WITH_LEX: &str = "ERR syntax error, WITHSCORES not supported in combination with BYLEX";
/// The largest LIMIT count an ascending score range answers by walking forward from its start (Redis's way),
/// at most this many entries past the range's end, instead of finding the end with a second search.
const LIMIT_WALK_MAX: usize = 1024;

/// One end of a score range: the value and whether it is excluded (`(`).
#[derive(Debug, Clone, Copy)]
struct ScoreBound {
    value: f64,
    exclusive: bool,
}

/// Parses a score bound as zslParseRange does: an optional `(`, then `strtod` over the C string (leading
/// whitespace allowed, overflow saturating, the empty string 0), NaN refused.
fn score_bound(arg: &[u8]) -> Option<ScoreBound> {
    let text = errors::c_str(arg, usize::MAX);
    let (exclusive, text) = match text.strip_prefix(b"(") {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let value = if text.is_empty() {
        0.0
    } else {
        let trimmed = text.trim_ascii_start();
        if trimmed.is_empty() {
            return None;
        }
        num::parse_f64_saturating(trimmed)?
    };
    (!value.is_nan()).then_some(ScoreBound { value, exclusive })
}

/// One end of a lex range.
#[derive(Debug, Clone, Copy)]
enum LexBound<'a> {
    Lowest,
    Highest,
    Inclusive(&'a [u8]),
    Exclusive(&'a [u8]),
}

/// Parses a lex bound as zslParseLexRangeItem does: `-`, `+`, `[member` or `(member`.
fn lex_bound(arg: &[u8]) -> Option<LexBound<'_>> {
    let alone = |arg: &[u8]| arg.get(1).is_none_or(|&c| c == 0);
    match arg.first() {
        Some(b'+') if alone(arg) => Some(LexBound::Highest),
        Some(b'-') if alone(arg) => Some(LexBound::Lowest),
        Some(b'[') => Some(LexBound::Inclusive(&arg[1..])),
        Some(b'(') => Some(LexBound::Exclusive(&arg[1..])),
        _ => None,
    }
}

/// A parsed range of either kind.
#[derive(Debug, Clone, Copy)]
enum Bounds<'a> {
    Score(ScoreBound, ScoreBound),
    Lex(LexBound<'a>, LexBound<'a>),
}

fn score_bounds<'a>(min: &[u8], max: &[u8]) -> Result<Bounds<'a>, CmdError> {
    match (score_bound(min), score_bound(max)) {
        (Some(min), Some(max)) => Ok(Bounds::Score(min, max)),
        _ => Err(NOT_FLOAT_RANGE.into()),
    }
}

fn lex_bounds<'a>(min: &'a [u8], max: &'a [u8]) -> Result<Bounds<'a>, CmdError> {
    match (lex_bound(min), lex_bound(max)) {
        (Some(min), Some(max)) => Ok(Bounds::Lex(min, max)),
        _ => Err(NOT_LEX_RANGE.into()),
    }
}

impl LexBound<'_> {
    /// Where the bound sits among members: -1 below all, 1 above all, 0 at a member.
    fn order(&self) -> (i8, &[u8]) {
        match *self {
            LexBound::Lowest => (-1, &[]),
            LexBound::Highest => (1, &[]),
            LexBound::Inclusive(b) | LexBound::Exclusive(b) => (0, b),
        }
    }

    fn is_exclusive(&self) -> bool {
        matches!(self, LexBound::Exclusive(_))
    }
}

/// Whether a lex range can hold nothing whatever the set (Redis's sdscmplex test in zzlIsInLexRange).
fn lex_range_empty(min: LexBound<'_>, max: LexBound<'_>) -> bool {
    let cmp = min.order().cmp(&max.order());
    cmp.is_gt() || (cmp.is_eq() && (min.is_exclusive() || max.is_exclusive()))
}

impl Bounds<'_> {
    /// The ascending ranks `lo..hi` of the members inside the range (`lo == hi` when none is), found from
    /// the end a walk starts at (the top when `rev`). Only a lex range over members of unequal scores can
    /// tell the ends apart: there a listpack is scanned as Redis scans it.
    fn ranks(&self, zset: &Zset, rev: bool, deleting: bool) -> (usize, usize) {
        match *self {
            Bounds::Score(min, max) => {
                let lo = zset.count_scores_while(|s| if min.exclusive { s <= min.value } else { s < min.value });
                let hi = zset.count_scores_while(|s| if max.exclusive { s < max.value } else { s <= max.value });
                (lo, hi.max(lo))
            }
            Bounds::Lex(min, max) if lex_range_empty(min, max) => (0, 0),
            Bounds::Lex(min, max) => {
                let at_least_min = |m: &[u8]| match min {
                    LexBound::Lowest => true,
                    LexBound::Highest => false,
                    LexBound::Inclusive(b) => m >= b,
                    LexBound::Exclusive(b) => m > b,
                };
                let at_most_max = |m: &[u8]| match max {
                    LexBound::Lowest => false,
                    LexBound::Highest => true,
                    LexBound::Inclusive(b) => m <= b,
                    LexBound::Exclusive(b) => m < b,
                };
                zset.lex_span(at_least_min, at_most_max, rev, deleting)
            }
        }
    }
}

/// How a range is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum By {
    Rank,
    Score,
    Lex,
}

pub fn zrange(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    range_generic(ctx, reply, ctx.args(), None, None, None)
}

pub fn zrangebyscore(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    range_generic(ctx, reply, ctx.args(), None, Some(By::Score), Some(false))
}

pub fn zrevrangebyscore(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    range_generic(ctx, reply, ctx.args(), None, Some(By::Score), Some(true))
}

pub fn zrangebylex(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    range_generic(ctx, reply, ctx.args(), None, Some(By::Lex), Some(false))
}

pub fn zrevrangebylex(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    range_generic(ctx, reply, ctx.args(), None, Some(By::Lex), Some(true))
}

pub fn zrevrange(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    range_generic(ctx, reply, ctx.args(), None, Some(By::Rank), Some(true))
}

pub fn zrangestore(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let destination = args.next_key()?;
    range_generic(ctx, reply, args, Some(destination), None, None)
}

/// The ZRANGE family: `key min max` and options, read as Redis's zrangeGenericCommand reads them (a form
/// with a fixed kind or direction refuses the keyword that would set it), then the range.
fn range_generic(
    ctx: &mut Ctx<'_>,
    reply: &mut Reply,
    mut args: Args<'_>,
    destination: Option<&Bytes>,
    mut by: Option<By>,
    mut rev: Option<bool>,
) -> CmdResult {
    let key = args.next_key()?;
    let (first, second) = (args.next_bytes()?, args.next_bytes()?);
    let (mut with_scores, mut limit) = (false, None);
    while let Some(option) = args.next_option() {
        if destination.is_none() && option.is("withscores") {
            with_scores = true;
        } else if option.is("limit") && args.remaining() >= 2 {
            limit = Some((args.next_int()?, args.next_int()?));
        } else if rev.is_none() && option.is("rev") {
            rev = Some(true);
        } else if by.is_none() && option.is("bylex") {
            by = Some(By::Lex);
        } else if by.is_none() && option.is("byscore") {
            by = Some(By::Score);
        } else {
            return Err(errors::SYNTAX.into());
        }
    }
    let (by, rev) = (by.unwrap_or(By::Rank), rev.unwrap_or(false));
    // Redis keeps "no LIMIT" as a count of -1, so `LIMIT <offset> -1` passes with a rank range.
    if limit.is_some_and(|(_, count)| count != -1) && by == By::Rank {
        return Err(LIMIT_WITH_RANK.into());
    }
    if with_scores && by == By::Lex {
        return Err(WITHSCORES_WITH_LEX.into());
    }
    let (min, max) = if rev && by != By::Rank { (second, first) } else { (first, second) };
    let span = match by {
        By::Rank => Span::Ranks(args::int(min)?, args::int(max)?),
        By::Score => Span::Bounds(score_bounds(min, max)?, limit),
        By::Lex => Span::Bounds(lex_bounds(min, max)?, limit),
    };
    let limits = limits(ctx);
    let Some(zset) = ctx.read_typed::<Zset>(key)? else {
        match destination {
            Some(destination) => store(ctx, reply, destination, (Zset::default(), false), "zrangestore"),
            None => reply.array(0),
        }
        return Ok(());
    };
    if let (None, false, Span::Bounds(Bounds::Score(min, max), Some((offset, count)))) = (destination, rev, &span)
        && let (Ok(offset), Ok(count @ 0..=LIMIT_WALK_MAX)) = (usize::try_from(*offset), usize::try_from(*count))
    {
        reply_score_walk(reply, zset, (*min, *max), offset, count, with_scores);
        return Ok(());
    }
    let (lo, hi) = span.ranks(zset, rev, false);
    match destination {
        None => {
            reply_pairs_header(reply, hi - lo, with_scores);
            zset.visit(lo, hi, rev, |score, member| reply_pair(reply, member, score, with_scores));
        }
        Some(destination) => {
            let mut result = Zset::with_hint(hi - lo, 0, &limits);
            zset.visit(lo, hi, rev, |score, member| {
                result.set(member, score, &limits);
            });
            store(ctx, reply, destination, (result, false), "zrangestore");
        }
    }
    Ok(())
}

/// An ascending score range with `LIMIT offset count` (count small): from the first member at or above `min`,
/// skips `offset`, then replies with up to `count` members while they are at or below `max`, the array's
/// length written once they are counted. The same members as `Span::ranks` selects, with one search where
/// that needs two (the range's end is found by walking at most `count` entries).
fn reply_score_walk(
    reply: &mut Reply,
    zset: &Zset,
    (min, max): (ScoreBound, ScoreBound),
    offset: usize,
    count: usize,
    with_scores: bool,
) {
    let below_min = |s: f64| if min.exclusive { s <= min.value } else { s < min.value };
    let at_most_max = |s: f64| if max.exclusive { s < max.value } else { s <= max.value };
    let header = reply.begin_array();
    let mut found = 0;
    zset.visit_from_score(below_min, offset, count, |score, member| {
        if at_most_max(score) {
            reply_pair(reply, member, score, with_scores);
            found += 1;
        }
    });
    let items = if with_scores && !reply.resp3 { found * 2 } else { found };
    reply.end_array(header, items);
}

/// What a range command selects: Redis's rank arithmetic, or bounds with an optional LIMIT.
enum Span<'a> {
    Ranks(i64, i64),
    Bounds(Bounds<'a>, Option<(i64, i64)>),
}

impl Span<'_> {
    /// The ascending ranks `lo..hi` selected, walked downwards when `rev`.
    fn ranks(&self, zset: &Zset, rev: bool, deleting: bool) -> (usize, usize) {
        let len = zset.len();
        match *self {
            Span::Ranks(start, end) => match clamp_range(start, end, len) {
                None => (0, 0),
                Some((start, end)) if rev => (len - 1 - end, len - start),
                Some((start, end)) => (start, end + 1),
            },
            Span::Bounds(bounds, limit) => {
                let (lo, hi) = bounds.ranks(zset, rev, deleting);
                let Some((offset, count)) = limit else { return (lo, hi) };
                // A negative offset skips everything and a negative count takes everything, as Redis's
                // `while (offset--)` and `while (limit--)` loops do.
                let Ok(offset) = usize::try_from(offset) else { return (0, 0) };
                let count = usize::try_from(count).unwrap_or(usize::MAX);
                if rev {
                    let top = hi.saturating_sub(offset).max(lo);
                    (top.saturating_sub(count).max(lo), top)
                } else {
                    let bottom = lo.saturating_add(offset).min(hi);
                    (bottom, bottom.saturating_add(count).min(hi))
                }
            }
        }
    }
}

pub fn zcount(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let key = args.next_key()?;
    let bounds = score_bounds(args.next_bytes()?, args.next_bytes()?)?;
    count_generic(ctx, reply, key, bounds)
}

pub fn zlexcount(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let key = args.next_key()?;
    let bounds = lex_bounds(args.next_bytes()?, args.next_bytes()?)?;
    count_generic(ctx, reply, key, bounds)
}

fn count_generic(ctx: &mut Ctx<'_>, reply: &mut Reply, key: &[u8], bounds: Bounds<'_>) -> CmdResult {
    let count = ctx.read_typed::<Zset>(key)?.map_or(0, |zset| {
        let (lo, hi) = bounds.ranks(zset, false, false);
        hi - lo
    });
    reply.int(count as i64);
    Ok(())
}

pub fn zremrangebyrank(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let key = args.next_key()?;
    let span = Span::Ranks(args.next_int()?, args.next_int()?);
    remrange_generic(ctx, reply, key, span)
}

pub fn zremrangebyscore(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let key = args.next_key()?;
    let span = Span::Bounds(score_bounds(args.next_bytes()?, args.next_bytes()?)?, None);
    remrange_generic(ctx, reply, key, span)
}

pub fn zremrangebylex(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let key = args.next_key()?;
    let span = Span::Bounds(lex_bounds(args.next_bytes()?, args.next_bytes()?)?, None);
    remrange_generic(ctx, reply, key, span)
}

fn remrange_generic(ctx: &mut Ctx<'_>, reply: &mut Reply, key: &[u8], span: Span<'_>) -> CmdResult {
    let removed = match ctx.write_typed::<Zset>(key)? {
        None => 0,
        Some(zset) => {
            let (lo, hi) = span.ranks(zset, false, true);
            zset.remove_ranks(lo, hi);
            hi - lo
        }
    };
    if removed > 0 {
        // The event is the command's name: zremrangebyrank, zremrangebyscore, zremrangebylex.
        let event = ctx.cmd.spec.name;
        changed(ctx, key, removed, event);
    }
    reply.int(removed as i64);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_bounds_follow_zsl_parse_range() {
        let b = |s: &str| score_bound(s.as_bytes()).map(|b| (b.value, b.exclusive));
        assert_eq!(b("1.5"), Some((1.5, false)));
        assert_eq!(b("(1"), Some((1.0, true)));
        assert_eq!(b(""), Some((0.0, false)));
        assert_eq!(b("("), Some((0.0, true)));
        assert_eq!(b(" 1"), Some((1.0, false)));
        assert_eq!(b("-inf"), Some((f64::NEG_INFINITY, false)));
        assert_eq!(b("1e400"), Some((f64::INFINITY, false)));
        assert_eq!(b("nan"), None);
        assert_eq!(b(" "), None);
        assert_eq!(b("1x"), None);
    }
}
