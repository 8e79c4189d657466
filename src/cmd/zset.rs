//! Sorted set commands (Redis's t_zset.c): BZMPOP BZPOPMAX BZPOPMIN ZADD ZCARD ZCOUNT ZDIFF ZDIFFSTORE ZINCRBY
//! ZINTER ZINTERCARD ZINTERSTORE ZLEXCOUNT ZMPOP ZMSCORE ZPOPMAX ZPOPMIN ZRANDMEMBER ZRANGE ZRANGEBYLEX
//! ZRANGEBYSCORE ZRANGESTORE ZRANK ZREM ZREMRANGEBYLEX ZREMRANGEBYRANK ZREMRANGEBYSCORE ZREVRANGE
//! ZREVRANGEBYLEX ZREVRANGEBYSCORE ZREVRANK ZSCAN ZSCORE ZUNION ZUNIONSTORE.
//!
//! - `range`: score and lex bounds, the ZRANGE family with ZRANGESTORE, ZCOUNT, ZLEXCOUNT, ZREMRANGEBY*.
//! - `pop`: ZPOPMIN/MAX, ZMPOP and their blocking forms, ZRANDMEMBER.
//! - `algebra`: ZUNION ZINTER ZDIFF, their STORE forms, ZINTERCARD (sets count as scores of 1).
//! - Here: the table, ZADD/ZINCRBY and the single-member reads and writes, ZSCAN.
//!
//! Each handler checks its arguments and the key's type in Redis 7.0's order, then changes anything. A sorted
//! set emptied by any command is deleted; every modified key gets one `ctx.key_changed`.

mod pop;
mod range;
mod zset_algebra;

use super::errors::{self, CmdError, CmdResult};
use super::keys::{self, ScanOptions};
use super::{Ctx, Handlers};
use crate::config::notify;
use crate::db::Value;
use crate::resp::reply::Reply;
use crate::types::zset_object::{Limits, Zset};
use crate::util::glob::glob_match;
use crate::util::num;

const NAN_SCORE: &str = "ERR resulting score is not a number (NaN)";
const XX_AND_NX: &str = "ERR XX and NX options at the same time are not compatible";
const GT_LT_NX: &str = "ERR GT, LT, and/or NX options at the same time are not compatible";
const INCR_PAIRS: &str = "ERR INCR option supports a single increment-element pair";

/// This family's handlers by command name, bound to the entries of its src/cmd/meta file.
pub const HANDLERS: &[Handlers] = &[&[
    ("bzmpop", pop::bzmpop),
    ("bzpopmax", pop::bzpopmax),
    ("bzpopmin", pop::bzpopmin),
    ("zadd", zadd),
    ("zcard", zcard),
    ("zcount", range::zcount),
    ("zdiff", zset_algebra::zdiff),
    ("zdiffstore", zset_algebra::zdiffstore),
    ("zincrby", zincrby),
    ("zinter", zset_algebra::zinter),
    ("zintercard", zset_algebra::zintercard),
    ("zinterstore", zset_algebra::zinterstore),
    ("zlexcount", range::zlexcount),
    ("zmpop", pop::zmpop),
    ("zmscore", zmscore),
    ("zpopmax", pop::zpopmax),
    ("zpopmin", pop::zpopmin),
    ("zrandmember", pop::zrandmember),
    ("zrange", range::zrange),
    ("zrangebylex", range::zrangebylex),
    ("zrangebyscore", range::zrangebyscore),
    ("zrangestore", range::zrangestore),
    ("zrank", zrank),
    ("zrem", zrem),
    ("zremrangebylex", range::zremrangebylex),
    ("zremrangebyrank", range::zremrangebyrank),
    ("zremrangebyscore", range::zremrangebyscore),
    ("zrevrange", range::zrevrange),
    ("zrevrangebylex", range::zrevrangebylex),
    ("zrevrangebyscore", range::zrevrangebyscore),
    ("zrevrank", zrevrank),
    ("zscan", zscan),
    ("zscore", zscore),
    ("zunion", zset_algebra::zunion),
    ("zunionstore", zset_algebra::zunionstore),
]];

/// The conversion thresholds as configured now (CONFIG SET acts on the next write, as in Redis).
fn limits(ctx: &Ctx<'_>) -> Limits {
    let config = &ctx.state.config;
    Limits { entries_max: config.zset_max_listpack_entries, value_max: config.zset_max_listpack_value }
}

/// Writes `len` (member, score) pairs' header: a flat array in RESP2 (or without scores), an array of pairs in
/// RESP3 with scores; `pair` then writes each pair's own header.
fn reply_pairs_header(reply: &mut Reply, len: usize, with_scores: bool) {
    match (with_scores, reply.resp3) {
        (true, false) => reply.array(len * 2),
        _ => reply.array(len),
    }
}

/// Writes one member, with its score when asked (as a pair in RESP3).
fn reply_pair(reply: &mut Reply, member: &[u8], score: f64, with_scores: bool) {
    if with_scores && reply.resp3 {
        reply.array(2);
    }
    reply.bulk(member);
    if with_scores {
        reply.double(score);
    }
}

/// Records a change of `changes` members of the sorted set at `key`: `event` (zrem, zpopmin, ...), then `del`
/// if the change emptied it, which deletes it (Redis sends the two in that order).
fn changed(ctx: &mut Ctx<'_>, key: &[u8], changes: usize, event: &str) {
    ctx.key_changed_by(key, changes);
    ctx.notify(notify::ZSET, event, key);
    if remove_if_empty(ctx, key) {
        ctx.notify(notify::GENERIC, "del", key);
    }
}

/// `changed` for a caller that knows whether the change emptied the set (a pop counts what it takes), which
/// saves looking the key up again when it did not.
fn changed_emptied(ctx: &mut Ctx<'_>, key: &[u8], changes: usize, event: &str, emptied: bool) {
    if emptied {
        changed(ctx, key, changes, event);
    } else {
        ctx.key_changed_by(key, changes);
        ctx.notify(notify::ZSET, event, key);
    }
}

/// Deletes `key` if the sorted set under it is empty; whether it did.
fn remove_if_empty(ctx: &mut Ctx<'_>, key: &[u8]) -> bool {
    let now_ms = ctx.now_ms;
    let empty = matches!(ctx.db().get(key, now_ms), Some(Value::Zset(zset)) if zset.is_empty());
    empty && ctx.db().remove(key, now_ms).is_some()
}

/// Stores `zset` at `destination` (replacing any value) with the keyspace event `event` (zunionstore,
/// georadiusstore, ...), or deletes the destination when it is empty (a `del` event), and answers the new
/// length as the STORE commands do. A store counts one change, or one per member with `count_members` (the
/// geo stores, as Redis's georadiusGeneric counts them).
pub(crate) fn store(
    ctx: &mut Ctx<'_>,
    reply: &mut Reply,
    destination: &[u8],
    (zset, count_members): (Zset, bool),
    event: &str,
) {
    let now_ms = ctx.now_ms;
    let len = zset.len();
    if len > 0 {
        ctx.db().set(destination, Value::Zset(zset), false, now_ms);
        ctx.key_changed_by(destination, if count_members { len } else { 1 });
        ctx.notify(notify::ZSET, event, destination);
    } else if ctx.db().delete(destination, now_ms) {
        ctx.key_changed(destination);
        ctx.notify(notify::GENERIC, "del", destination);
    }
    reply.int(len as i64);
}

/// ZADD's flags.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct AddFlags {
    pub nx: bool,
    pub xx: bool,
    pub gt: bool,
    pub lt: bool,
    pub ch: bool,
    pub incr: bool,
}

/// What adding one member did.
#[derive(Debug, PartialEq, Eq)]
enum Added {
    New,
    Updated,
    Same,
    Skipped,
}

/// Adds or updates `member` as Redis's zsetAdd does, returning what happened and the member's score after.
fn add_one(
    zset: &mut Zset,
    score: f64,
    member: &[u8],
    flags: AddFlags,
    limits: &Limits,
) -> Result<(Added, f64), CmdError> {
    match zset.score(member) {
        Some(current) => {
            if flags.nx {
                return Ok((Added::Skipped, current));
            }
            let new = if flags.incr { current + score } else { score };
            if new.is_nan() {
                return Err(NAN_SCORE.into());
            }
            if (flags.lt && new >= current) || (flags.gt && new <= current) {
                return Ok((Added::Skipped, current));
            }
            if new == current {
                return Ok((Added::Same, current));
            }
            zset.set(member, new, limits);
            Ok((Added::Updated, new))
        }
        None if flags.xx => Ok((Added::Skipped, score)),
        None => {
            zset.set(member, score, limits);
            Ok((Added::New, score))
        }
    }
}

fn zadd(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    zadd_generic(ctx, reply, AddFlags::default())
}

fn zincrby(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    zadd_generic(ctx, reply, AddFlags { incr: true, ..AddFlags::default() })
}

/// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member ... and ZINCRBY key increment member.
fn zadd_generic(ctx: &mut Ctx<'_>, reply: &mut Reply, mut flags: AddFlags) -> CmdResult {
    let mut args = ctx.args();
    let key = args.next_key()?;
    if !flags.incr {
        while let Some(arg) = args.peek() {
            let option = crate::cmd::args::Keyword::of(arg);
            let flag = match () {
                _ if option.is("nx") => &mut flags.nx,
                _ if option.is("xx") => &mut flags.xx,
                _ if option.is("gt") => &mut flags.gt,
                _ if option.is("lt") => &mut flags.lt,
                _ if option.is("ch") => &mut flags.ch,
                _ if option.is("incr") => &mut flags.incr,
                _ => break,
            };
            *flag = true;
            args.next_bytes()?;
        }
    }
    let pairs = args.rest();
    if pairs.is_empty() || !pairs.len().is_multiple_of(2) {
        return Err(errors::SYNTAX.into());
    }
    if flags.nx && flags.xx {
        return Err(XX_AND_NX.into());
    }
    if (flags.nx && (flags.gt || flags.lt)) || (flags.gt && flags.lt) {
        return Err(GT_LT_NX.into());
    }
    if flags.incr && pairs.len() > 2 {
        return Err(INCR_PAIRS.into());
    }
    for pair in pairs.chunks(2) {
        num::parse_f64(&pair[0]).ok_or(errors::NOT_FLOAT)?;
    }
    let scored = pairs.chunks(2).map(|pair| (num::parse_f64(&pair[0]).expect("checked above"), &pair[1][..]));
    add_all(ctx, reply, key, flags, scored)
}

/// ZADD's work once every argument is checked: adds `pairs` (score, member) to the set at `key`, creating
/// it, and answers as ZADD does. GEOADD adds through here too.
pub(crate) fn add_all<'m>(
    ctx: &mut Ctx<'_>,
    reply: &mut Reply,
    key: &[u8],
    flags: AddFlags,
    pairs: impl Iterator<Item = (f64, &'m [u8])> + Clone,
) -> CmdResult {
    let limits = limits(ctx);
    let exists = ctx.write_typed::<Zset>(key)?.is_some();
    if !exists {
        if flags.xx {
            if flags.incr {
                reply.null()
            } else {
                reply.int(0)
            }
            return Ok(());
        }
        // Redis 7.0 picks the form from the first member alone; later adds convert as they cross a limit.
        let first_len = pairs.clone().next().map_or(0, |(_, member)| member.len());
        ctx.db().insert_new(key, Value::Zset(Zset::with_hint(1, first_len, &limits)));
    }
    let zset = ctx.write_typed::<Zset>(key)?.expect("checked or created above");
    let (mut added, mut updated, mut processed, mut last_score) = (0, 0, 0, 0.0);
    let mut failure = None;
    for (score, member) in pairs {
        match add_one(zset, score, member, flags, &limits) {
            Ok((outcome, score)) => {
                added += i64::from(outcome == Added::New);
                updated += i64::from(outcome == Added::Updated);
                processed += i64::from(outcome != Added::Skipped);
                last_score = score;
            }
            Err(err) => {
                failure = Some(err);
                break;
            }
        }
    }
    if added + updated > 0 {
        // Adding never empties the set, so unlike `changed` there is no emptiness check.
        ctx.key_changed_by(key, (added + updated) as usize);
        ctx.notify(notify::ZSET, if flags.incr { "zincr" } else { "zadd" }, key);
    } else {
        // Nothing was added to the set this command created (a failure on its first member).
        remove_if_empty(ctx, key);
    }
    if let Some(err) = failure {
        return Err(err);
    }
    match (flags.incr, processed > 0) {
        (true, true) => reply.double(last_score),
        (true, false) => reply.null(),
        (false, _) => reply.int(if flags.ch { added + updated } else { added }),
    }
    Ok(())
}

fn zrem(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let (key, members) = (args.next_key()?, args.rest());
    let removed = match ctx.write_typed::<Zset>(key)? {
        Some(zset) => members.iter().filter(|member| zset.remove(member)).count(),
        None => 0,
    };
    if removed > 0 {
        changed(ctx, key, removed, "zrem");
    }
    reply.int(removed as i64);
    Ok(())
}

fn zcard(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let key = ctx.args().next_key()?;
    let len = ctx.read_typed::<Zset>(key)?.map_or(0, Zset::len);
    reply.int(len as i64);
    Ok(())
}

fn zscore(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let (key, member) = (args.next_key()?, args.next_bytes()?);
    match ctx.read_typed::<Zset>(key)?.and_then(|zset| zset.score(member)) {
        Some(score) => reply.double(score),
        None => reply.null(),
    }
    Ok(())
}

fn zmscore(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    reply_each_score(ctx, reply, Reply::double, Reply::null)
}

/// ZMSCORE's reply shape, which GEOHASH and GEOPOS share: an array with, for each member after the key,
/// `found(reply, score)`, or `missing(reply)` when the member or the key is not there.
pub(super) fn reply_each_score(
    ctx: &mut Ctx<'_>,
    reply: &mut Reply,
    found: impl Fn(&mut Reply, f64),
    missing: impl Fn(&mut Reply),
) -> CmdResult {
    let mut args = ctx.args();
    let (key, members) = (args.next_key()?, args.rest());
    let zset = ctx.read_typed::<Zset>(key)?;
    reply.array(members.len());
    for member in members {
        match zset.and_then(|zset| zset.score(member)) {
            Some(score) => found(reply, score),
            None => missing(reply),
        }
    }
    Ok(())
}

fn zrank(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    rank_generic(ctx, reply, false)
}

fn zrevrank(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    rank_generic(ctx, reply, true)
}

fn rank_generic(ctx: &mut Ctx<'_>, reply: &mut Reply, rev: bool) -> CmdResult {
    let mut args = ctx.args();
    let (key, member) = (args.next_key()?, args.next_bytes()?);
    let Some(zset) = ctx.read_typed::<Zset>(key)? else {
        reply.null();
        return Ok(());
    };
    match zset.rank(member) {
        Some((rank, _)) => reply.int(if rev { zset.len() - 1 - rank } else { rank } as i64),
        None => reply.null(),
    }
    Ok(())
}

/// ZSCAN key cursor [MATCH pattern] [COUNT count]: members with their scores as bulk strings.
fn zscan(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let (key, cursor) = (args.next_key()?, args.next_cursor()?);
    let Some(zset) = ctx.read_typed::<Zset>(key)? else {
        keys::reply_scan(reply, 0, 0, &[]);
        return Ok(());
    };
    let ScanOptions { pattern, count, .. } = ScanOptions::parse(args, false)?;
    let mut items = Reply::new(reply.resp3);
    let mut found = 0;
    let mut text = Vec::with_capacity(24);
    let next = zset.scan(cursor, count, |score, member| {
        if pattern.is_none_or(|pattern| glob_match(pattern, member, false)) {
            items.bulk(member);
            text.clear();
            num::write_double(&mut text, score);
            items.bulk(&text);
            found += 2;
        }
    });
    keys::reply_scan(reply, next, found, &items.buf);
    Ok(())
}
