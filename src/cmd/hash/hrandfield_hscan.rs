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

use super::{CmdError, CmdResult, Ctx, Hash};
use crate::cmd::args;
use crate::cmd::errors;
use crate::resp::reply::Reply;
use crate::util::glob::glob_match;
use crate::util::rng::Rng;

/// getRangeLongFromObjectOrReply's text for a count of LONG_MIN, which has no positive counterpart.
const COUNT_RANGE: &str = "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
/// WITHVALUES doubles the reply length, so Redis refuses counts whose double overflows, of either sign.
const WITHVALUES_RANGE: &str = "ERR value is out of range";

pub(super) fn hrandfield(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let argv = ctx.argv;
    if argv.len() == 2 {
        return hrandfield_one(ctx, reply);
    }
    let count = match args::int(&argv[2])? {
        i64::MIN => return Err(COUNT_RANGE.into()),
        count => count,
    };
    let withvalues = match &argv[3..] {
        [] => false,
        [option] if args::is(option, "withvalues") => true,
        _ => return Err(errors::SYNTAX.into()),
    };
    if withvalues && count.unsigned_abs() > (i64::MAX / 2) as u64 {
        return Err(WITHVALUES_RANGE.into());
    }
    match ctx.read_typed_and_rng::<Hash>(&argv[1])? {
        (Some(hash), rng) if count != 0 => hrandfield_count(hash, count, withvalues, rng, reply),
        _ => reply.array(0),
    }
    Ok(())
}

/// HRANDFIELD without a count: one random field, or null.
fn hrandfield_one(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let argv = ctx.argv;
    match ctx.read_typed_and_rng::<Hash>(&argv[1])? {
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

/// HSCAN's options: `[MATCH pattern] [COUNT count]`, in any order, the last of each winning.
fn hscan_options(options: &[bytes::Bytes]) -> Result<(Option<&[u8]>, usize), CmdError> {
    let (mut pattern, mut count) = (None, 10);
    for pair in options.chunks(2) {
        let [name, value] = pair else { return Err(errors::SYNTAX.into()) };
        if args::is(name, "count") {
            count = usize::try_from(args::int(value)?).ok().filter(|&n| n >= 1).ok_or(errors::SYNTAX)?;
        } else if args::is(name, "match") {
            pattern = (&value[..] != b"*").then_some(&value[..]);
        } else {
            return Err(errors::SYNTAX.into());
        }
    }
    Ok((pattern, count))
}

pub(super) fn hscan(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let argv = ctx.argv;
    let cursor = crate::cmd::args::Args::new(argv, 2).next_cursor()?;
    let Some(hash) = ctx.read_typed::<Hash>(&argv[1])? else {
        reply.array(2);
        reply.bulk(b"0");
        reply.array(0);
        return Ok(());
    };
    let (pattern, count) = hscan_options(&argv[3..])?;
    // The pairs go to a scratch reply first, because the next cursor, which comes before them, is known only
    // after the scan.
    let mut pairs = Reply::new(reply.resp3);
    let mut found = 0;
    let next = hash.scan(cursor, count, |field, value| {
        if pattern.is_none_or(|pattern| glob_match(pattern, field, false)) {
            pairs.bulk(field);
            pairs.bulk(value);
            found += 2;
        }
    });
    reply.array(2);
    reply.bulk(itoa::Buffer::new().format(next).as_bytes());
    reply.array(found);
    reply.buf.extend_from_slice(&pairs.buf);
    Ok(())
}
