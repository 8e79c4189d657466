//! HRANDFIELD and HSCAN: the hash replies that are not one plain walk of the hash.
//!
//! HRANDFIELD follows Redis 7.0's cases (hrandfieldWithCountCommand): count 0 is an empty array; a negative
//! count (repeats allowed) or a count of 1 draws independently; a count of at least the hash's size returns the
//! whole hash in its own order (insertion order for a listpack, so that case is deterministic); otherwise
//! `count` distinct fields in random order. The draws work on a vector of the hash's pairs, sized by the hash,
//! never by the count: a count such as -9223372036854775807 sizes nothing (it streams that many replies, as
//! Redis does).
//!
//! HSCAN parses its cursor before it looks the key up, and its options after (Redis's scanGenericCommand),
//! so a missing key answers the empty scan even with bad options. The stepping is `Hash::scan`'s.

use super::{CmdResult, Ctx, Hash};
use crate::cmd::keys::{self, ScanOptions};
use crate::resp::reply::Reply;
use crate::util::glob::glob_match;
use crate::util::rng::Rng;

/// WITHVALUES doubles the reply length, so Redis refuses counts whose double overflows, of either sign.
const WITHVALUES_RANGE: &str = "ERR value is out of range";

/// HRANDFIELD key [count [WITHVALUES]]. The count must have a positive counterpart (not LONG_MIN), as in
/// Redis's getRangeLongFromObjectOrReply(-LONG_MAX, LONG_MAX).
pub(super) fn hrandfield(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let key = args.next_key()?;
    if args.remaining() == 0 {
        return hrandfield_one(ctx, reply, key);
    }
    let count = args.next_int_in(-i64::MAX, i64::MAX)?;
    let withvalues = args.eat("withvalues");
    args.finish()?;
    if withvalues && count.unsigned_abs() > (i64::MAX / 2) as u64 {
        return Err(WITHVALUES_RANGE.into());
    }
    match ctx.read_typed_and_rng::<Hash>(key)? {
        (Some(hash), rng) if count != 0 => hrandfield_count(hash, count, withvalues, rng, reply),
        _ => reply.array(0),
    }
    Ok(())
}

/// HRANDFIELD without a count: one random field, or null.
fn hrandfield_one(ctx: &mut Ctx<'_>, reply: &mut Reply, key: &[u8]) -> CmdResult {
    match ctx.read_typed_and_rng::<Hash>(key)? {
        (None, _) => reply.null(),
        (Some(hash), rng) => {
            let (field, _) = hash.iter().nth(rng.below(hash.len())).expect("index below the length");
            reply.bulk(field);
        }
    }
    Ok(())
}

fn hrandfield_count(hash: &Hash, count: i64, withvalues: bool, rng: &mut Rng, reply: &mut Reply) {
    let mut pairs: Vec<(&[u8], &[u8])> = hash.iter().collect();
    let size = pairs.len();
    let repeats = count < 0 || count == 1;
    let len = if repeats { count.unsigned_abs() } else { (count as u64).min(size as u64) };
    if withvalues && !reply.resp3 {
        reply.array(2 * len as usize);
    } else {
        reply.array(len as usize);
    }
    if repeats {
        for _ in 0..len {
            let (field, value) = pairs[rng.below(size)];
            hrandfield_pair(reply, withvalues, field, value);
        }
        return;
    }
    let len = len as usize;
    if len < size {
        // A partial Fisher-Yates shuffle: the first `len` slots become a uniform random sample, in random order.
        for i in 0..len {
            let j = i + rng.below(size - i);
            pairs.swap(i, j);
        }
    }
    for &(field, value) in &pairs[..len] {
        hrandfield_pair(reply, withvalues, field, value);
    }
}

/// One drawn field; with WITHVALUES, RESP3 nests each pair in an array where RESP2 flattens them.
fn hrandfield_pair(reply: &mut Reply, withvalues: bool, field: &[u8], value: &[u8]) {
    if !withvalues {
        return reply.bulk(field);
    }
    if reply.resp3 {
        reply.array(2);
    }
    reply.bulk(field);
    reply.bulk(value);
}

/// HSCAN key cursor [MATCH pattern] [COUNT count].
pub(super) fn hscan(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let (key, cursor) = (args.next_key()?, args.next_cursor()?);
    let Some(hash) = ctx.read_typed::<Hash>(key)? else {
        keys::reply_scan(reply, 0, 0, &[]);
        return Ok(());
    };
    let ScanOptions { pattern, count, .. } = ScanOptions::parse(args, false)?;
    let mut pairs = Reply::new(reply.resp3);
    let mut found = 0;
    let next = hash.scan(cursor, count, |field, value| {
        if pattern.is_none_or(|pattern| glob_match(pattern, field, false)) {
            pairs.bulk(field);
            pairs.bulk(value);
            found += 2;
        }
    });
    keys::reply_scan(reply, next, found, &pairs.buf);
    Ok(())
}
