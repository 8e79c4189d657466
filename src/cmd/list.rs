//! List commands (Redis's t_list.c): BLMOVE BLMPOP BLPOP BRPOP BRPOPLPUSH LINDEX LINSERT LLEN LMOVE LMPOP
//! LPOP LPOS LPUSH LPUSHX LRANGE LREM LSET LTRIM RPOP RPOPLPUSH RPUSH RPUSHX.
//!
//! Each handler checks its arguments and the key's type in Redis 7.0's order (that order decides which error
//! a doubly wrong command gets), and only then changes anything. A list emptied by a pop, LREM or LTRIM is
//! deleted, so a key never holds an empty list. Reads (LINDEX LLEN LPOS LRANGE) look up through
//! `ctx.read_key`, which counts keyspace hits and misses as Redis's lookupKeyRead does.
//!
//! Blocking forms first try to serve exactly as their non-blocking form, from the first key (in argument
//! order) that holds a list; a wrong-typed key met before that is a WRONGTYPE error. When nothing can be
//! served they call `ctx.block` and write nothing: the blocking machinery either answers the timeout or runs
//! the handler again from the start once a key is ready, so a handler must be correct when re-run. A re-run
//! serves from the ready key alone (`Ctx::keys_to_serve`), as Redis 7.0's serveClientsBlockedOnListKey does.

use bytes::Bytes;

use super::args::{self, Args};
use super::errors::{self, CmdError, CmdResult};
use super::{Ctx, Handlers};
use crate::config::notify;
use crate::db::{Value, ValueType};
use crate::resp::reply::Reply;
use crate::state::propagation;
use crate::types::list_object::{End, List};

const INDEX_OUT_OF_RANGE: &str = "ERR index out of range";
const RANK_ZERO: &str = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use \
    negative to start from the end of the list";
const COUNT_NEGATIVE: &str = "ERR COUNT can't be negative";
const MAXLEN_NEGATIVE: &str = "ERR MAXLEN can't be negative";

/// This family's handlers by command name, bound to the entries of its src/cmd/meta file.
pub const HANDLERS: &[Handlers] = &[&[
    ("blmove", blmove),
    ("blmpop", blmpop),
    ("blpop", blpop),
    ("brpop", brpop),
    ("brpoplpush", brpoplpush),
    ("lindex", lindex),
    ("linsert", linsert),
    ("llen", llen),
    ("lmove", lmove),
    ("lmpop", lmpop),
    ("lpop", lpop),
    ("lpos", lpos),
    ("lpush", lpush),
    ("lpushx", lpushx),
    ("lrange", lrange),
    ("lrem", lrem),
    ("lset", lset),
    ("ltrim", ltrim),
    ("rpop", rpop),
    ("rpoplpush", rpoplpush),
    ("rpush", rpush),
    ("rpushx", rpushx),
]];

/// The list under `key` for a push, created (with the configured node size) when the key is missing. The
/// caller has already checked the type of an existing value.
fn list_for_push<'a>(ctx: &'a mut Ctx<'_>, key: &[u8]) -> &'a mut List {
    let now_ms = ctx.now_ms;
    let fill = ctx.state.config.list_max_listpack_size;
    let db = ctx.db();
    if db.get(key, now_ms).is_none() {
        db.insert_new(key, Value::List(Box::new(List::new(fill))));
    }
    match db.get_mut(key, now_ms) {
        Some(Value::List(list)) => list,
        _ => unreachable!("the key was checked to hold a list or was just created as one"),
    }
}

/// The next argument as LEFT or RIGHT, any case (Redis's getListPositionFromObjectOrReply).
fn next_end(args: &mut Args<'_>) -> Result<End, CmdError> {
    args.next_keyword()?.pick(&[("left", End::Front), ("right", End::Back)]).ok_or_else(|| errors::SYNTAX.into())
}

/// Resolves a possibly negative index against `len`.
fn resolve_index(index: i64, len: usize) -> Option<usize> {
    let index = if index < 0 { index.checked_add(len as i64)? } else { index };
    usize::try_from(index).ok().filter(|&index| index < len)
}

fn lpush(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    push_generic(ctx, reply, End::Front, true)
}

fn rpush(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    push_generic(ctx, reply, End::Back, true)
}

fn lpushx(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    push_generic(ctx, reply, End::Front, false)
}

fn rpushx(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    push_generic(ctx, reply, End::Back, false)
}

/// LPUSH RPUSH LPUSHX RPUSHX: the X forms answer 0 for a missing key instead of creating it.
fn push_generic(ctx: &mut Ctx<'_>, reply: &mut Reply, end: End, create: bool) -> CmdResult {
    let mut args = ctx.args();
    let (key, elements) = (args.next_key()?, args.rest());
    if ctx.write_typed::<List>(key)?.is_none() && !create {
        reply.int(0);
        return Ok(());
    }
    let list = list_for_push(ctx, key);
    for element in elements {
        list.push(end, element);
    }
    reply.int(list.len() as i64);
    ctx.key_changed_by(key, elements.len());
    ctx.notify(notify::LIST, push_event(end), key);
    Ok(())
}

/// The event a push at `end` sends.
fn push_event(end: End) -> &'static str {
    match end {
        End::Front => "lpush",
        End::Back => "rpush",
    }
}

/// The event a pop at `end` sends.
fn pop_event(end: End) -> &'static str {
    match end {
        End::Front => "lpop",
        End::Back => "rpop",
    }
}

fn lpop(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    pop_generic(ctx, reply, End::Front)
}

fn rpop(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    pop_generic(ctx, reply, End::Back)
}

/// LPOP/RPOP key [count]: without a count one bulk string (null when missing); with one an array (the null
/// array when missing, empty for a count of 0). The count is parsed before the key is looked up.
fn pop_generic(ctx: &mut Ctx<'_>, reply: &mut Reply, end: End) -> CmdResult {
    let mut args = ctx.args();
    if args.remaining() > 2 {
        return Err(errors::wrong_arity(ctx.cmd.spec.name));
    }
    let key = args.next_key()?;
    let count = match args.remaining() {
        0 => None,
        _ => Some(args.next_int_in_or(0, i64::MAX, errors::POP_COUNT_RANGE)?),
    };
    let Some(list) = ctx.write_typed::<List>(key)? else {
        if count.is_some() {
            reply.null_array()
        } else {
            reply.null()
        }
        return Ok(());
    };
    let n = match count {
        None => 1,
        Some(count) => {
            let n = list.len().min(count as usize);
            reply.array(n);
            n
        }
    };
    if n > 0 {
        pop_into(ctx, reply, key, end, n);
    }
    Ok(())
}

/// Pops `n` elements (at most the list's length) from the list at `key`, writing each as a bulk string, and
/// deletes the key if that empties it.
fn pop_into(ctx: &mut Ctx<'_>, reply: &mut Reply, key: &[u8], end: End, n: usize) {
    let now_ms = ctx.now_ms;
    let db = ctx.db();
    if let Some(Value::List(list)) = db.get_mut(key, now_ms) {
        for _ in 0..n {
            list.pop_with(end, |element| reply.bulk(element));
        }
    }
    ctx.key_changed_by(key, n);
    ctx.notify(notify::LIST, pop_event(end), key);
    delete_if_empty(ctx, key);
}

/// Deletes `key` if it holds an emptied list, with its `del` event: Redis never keeps an empty list.
fn delete_if_empty(ctx: &mut Ctx<'_>, key: &[u8]) {
    if matches!(ctx.write_typed::<List>(key), Ok(Some(list)) if list.is_empty()) {
        let now_ms = ctx.now_ms;
        ctx.db().remove(key, now_ms);
        ctx.notify(notify::GENERIC, "del", key);
    }
}

/// The first of `keys` that holds a list, with its length; WRONGTYPE if a key of another type comes first.
fn first_list<'k>(ctx: &mut Ctx<'_>, keys: &'k [Bytes]) -> Result<Option<(&'k Bytes, usize)>, CmdError> {
    for key in keys {
        if let Some(list) = ctx.write_typed::<List>(key)? {
            return Ok(Some((key, list.len())));
        }
    }
    Ok(None)
}

fn llen(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let key = ctx.args().next_key()?;
    let len = ctx.read_typed::<List>(key)?.map_or(0, List::len);
    reply.int(len as i64);
    Ok(())
}

/// LINDEX: the key's type is checked before the index is parsed, as in Redis.
fn lindex(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let Some(list) = ctx.read_typed::<List>(args.next_key()?)? else {
        reply.null();
        return Ok(());
    };
    let index = args.next_int()?;
    match resolve_index(index, list.len()).and_then(|index| list.get(index)) {
        Some(element) => reply.bulk(element),
        None => reply.null(),
    }
    Ok(())
}

/// Redis's LRANGE/LTRIM index arithmetic: the inclusive range `start..=end` clamped to the list, or `None`
/// when it is empty.
pub(crate) fn clamp_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 { (start + len).max(0) } else { start };
    let end = if end < 0 { end + len } else { end };
    if start > end || start >= len {
        return None;
    }
    Some((start as usize, end.min(len - 1) as usize))
}

fn lrange(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let (key, start, end) = (args.next_key()?, args.next_int()?, args.next_int()?);
    let Some(list) = ctx.read_typed::<List>(key)? else {
        reply.array(0);
        return Ok(());
    };
    let Some((start, end)) = clamp_range(start, end, list.len()) else {
        reply.array(0);
        return Ok(());
    };
    reply.array(end - start + 1);
    for element in list.range(start, end - start + 1) {
        reply.bulk(element);
    }
    Ok(())
}

fn ltrim(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let (key, start, end) = (args.next_key()?, args.next_int()?, args.next_int()?);
    if let Some(list) = ctx.write_typed::<List>(key)? {
        let len = list.len();
        match clamp_range(start, end, len) {
            Some((start, end)) => list.trim(start, len - end - 1),
            None => list.trim(len, 0),
        }
        let removed = len - list.len();
        ctx.key_changed_by(key, removed);
        ctx.notify(notify::LIST, "ltrim", key);
        delete_if_empty(ctx, key);
    }
    reply.ok();
    Ok(())
}

/// LREM key count element: count > 0 removes from the head, < 0 from the tail, 0 removes every match.
fn lrem(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let (key, count, element) = (args.next_key()?, args.next_int()?, args.next_bytes()?);
    let removed = match ctx.write_typed::<List>(key)? {
        None => 0,
        Some(list) => {
            let from = if count < 0 { End::Back } else { End::Front };
            let limit = usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX);
            list.remove_matching(element, limit, from)
        }
    };
    if removed > 0 {
        ctx.key_changed_by(key, removed);
        ctx.notify(notify::LIST, "lrem", key);
        delete_if_empty(ctx, key);
    }
    reply.int(removed as i64);
    Ok(())
}

/// LSET: the key is looked up (ERR no such key, WRONGTYPE) before the index is parsed, as in Redis.
fn lset(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let key = args.next_key()?;
    let list = ctx.write_typed::<List>(key)?.ok_or(errors::NO_SUCH_KEY)?;
    let index = args.next_int()?;
    let index = resolve_index(index, list.len()).ok_or(INDEX_OUT_OF_RANGE)?;
    list.set(index, args.next_bytes()?);
    ctx.key_changed(key);
    ctx.notify(notify::LIST, "lset", key);
    reply.ok();
    Ok(())
}

/// LINSERT key BEFORE|AFTER pivot element: the new length, -1 without the pivot, 0 without the key.
fn linsert(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let key = args.next_key()?;
    let after = args.next_keyword()?.pick(&[("after", true), ("before", false)]).ok_or(errors::SYNTAX)?;
    let (pivot, element) = (args.next_bytes()?, args.next_bytes()?);
    let Some(list) = ctx.write_typed::<List>(key)? else {
        reply.int(0);
        return Ok(());
    };
    let Some(index) = list.index_of(pivot) else {
        reply.int(-1);
        return Ok(());
    };
    list.insert(index + usize::from(after), element);
    reply.int(list.len() as i64);
    ctx.key_changed(key);
    ctx.notify(notify::LIST, "linsert", key);
    Ok(())
}

/// LPOS options; `count` is `None` when COUNT was not given (the reply is then one index, not an array).
struct LposOptions {
    rank: i64,
    count: Option<i64>,
    maxlen: i64,
}

/// Parses the rest of `args` as LPOS's options. COUNT and MAXLEN are getPositiveLongFromObjectOrReply's: their
/// message for anything but a non-negative integer, a non-number included.
fn lpos_options(mut args: Args<'_>) -> Result<LposOptions, CmdError> {
    let mut options = LposOptions { rank: 1, count: None, maxlen: 0 };
    while let Some(option) = args.next_option() {
        let has_value = args.remaining() > 0;
        if option.is("rank") && has_value {
            options.rank = args.next_int()?;
            if options.rank == 0 {
                return Err(RANK_ZERO.into());
            }
        } else if option.is("count") && has_value {
            options.count = Some(args.next_int_in_or(0, i64::MAX, COUNT_NEGATIVE)?);
        } else if option.is("maxlen") && has_value {
            options.maxlen = args.next_int_in_or(0, i64::MAX, MAXLEN_NEGATIVE)?;
        } else {
            return Err(errors::SYNTAX.into());
        }
    }
    Ok(options)
}

/// LPOS key element [RANK r] [COUNT n] [MAXLEN m]. A negative rank scans from the tail. Redis 7.0 negates
/// the rank in a C `long` and compares with wrapping arithmetic; this does the same, so RANK
/// -9223372036854775808 behaves as it does there (every match qualifies, and COUNT never stops the scan).
fn lpos(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let (key, wanted) = (args.next_key()?, args.next_bytes()?);
    let LposOptions { rank, count, maxlen } = lpos_options(args)?;
    let Some(list) = ctx.read_typed::<List>(key)? else {
        if count.is_some() {
            reply.array(0)
        } else {
            reply.null()
        }
        return Ok(());
    };
    let from_tail = rank < 0;
    let rank = if from_tail { rank.wrapping_neg() } else { rank };
    let len = list.len();
    let scan_len = if maxlen == 0 { len } else { len.min(maxlen as usize) };
    let elements: Box<dyn Iterator<Item = &[u8]>> =
        if from_tail { Box::new(list.iter().rev()) } else { Box::new(list.iter()) };
    let mut found = Vec::new();
    let mut matches: i64 = 0;
    for (scanned, element) in elements.take(scan_len).enumerate() {
        if element != wanted {
            continue;
        }
        matches += 1;
        if matches < rank {
            continue;
        }
        found.push(if from_tail { len - scanned - 1 } else { scanned });
        match count {
            None => break,
            Some(count) if count != 0 && matches.wrapping_sub(rank).wrapping_add(1) >= count => break,
            Some(_) => {}
        }
    }
    match (count, found.first()) {
        (Some(_), _) => {
            reply.array(found.len());
            found.iter().for_each(|&index| reply.int(index as i64));
        }
        (None, Some(&index)) => reply.int(index as i64),
        (None, None) => reply.null(),
    }
    Ok(())
}

fn lmove(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let keys = (args.next_key()?, args.next_key()?);
    let (from, to) = (next_end(&mut args)?, next_end(&mut args)?);
    move_generic(ctx, reply, keys, from, to)
}

fn rpoplpush(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let keys = (args.next_key()?, args.next_key()?);
    move_generic(ctx, reply, keys, End::Back, End::Front)
}

/// LMOVE's core: null when the source is missing (the destination is not even looked at), WRONGTYPE for
/// either key of another type. The same key for both rotates the list.
fn move_generic(ctx: &mut Ctx<'_>, reply: &mut Reply, keys: (&Bytes, &Bytes), from: End, to: End) -> CmdResult {
    let (source, destination) = keys;
    if ctx.write_typed::<List>(source)?.is_none() {
        reply.null();
        return Ok(());
    }
    ctx.write_typed::<List>(destination)?;
    let Some(element) = ctx.write_typed::<List>(source)?.and_then(|list| list.pop(from)) else {
        reply.null();
        return Ok(());
    };
    list_for_push(ctx, destination).push(to, &element);
    // Redis counts the move as one change.
    ctx.key_changed(source);
    ctx.key_changed_by(destination, 0);
    // Redis's order: the push's event, then the pop's, then the source's deletion.
    ctx.notify(notify::LIST, push_event(to), destination);
    ctx.notify(notify::LIST, pop_event(from), source);
    delete_if_empty(ctx, source);
    reply.bulk(&element);
    Ok(())
}

/// LMPOP/BLMPOP arguments after the numkeys: the keys, the end, and the count (default 1).
struct Mpop<'a> {
    keys: &'a [Bytes],
    end: End,
    count: usize,
}

/// Parses the rest of `args` as `numkeys key... LEFT|RIGHT [COUNT n]`, with Redis's errors (a numkeys beyond
/// the arguments is a syntax error).
fn mpop_args(mut args: Args<'_>) -> Result<Mpop<'_>, CmdError> {
    let keys = args.numkeys_keys(errors::NUMKEYS_RANGE)?;
    let end = next_end(&mut args)?;
    Ok(Mpop { keys, end, count: args.mpop_count()? })
}

/// Serves an [B]LMPOP from the first key holding a list: `[key, [elements]]`. False when none does.
fn mpop_serve(ctx: &mut Ctx<'_>, reply: &mut Reply, mpop: &Mpop<'_>) -> Result<bool, CmdError> {
    let Some((key, len)) = first_list(ctx, ctx.keys_to_serve(mpop.keys))? else {
        return Ok(false);
    };
    let n = len.min(mpop.count);
    reply.array(2);
    reply.bulk(key);
    reply.array(n);
    pop_into(ctx, reply, key, mpop.end, n);
    let key = key.clone();
    ctx.propagate_as(|| [propagation::arg(pop_name(mpop.end)), key, propagation::int(n as i64)]);
    Ok(true)
}

/// The non-blocking pop a served pop is replayed as (Redis propagates BLPOP as LPOP, [B]LMPOP as LPOP/RPOP
/// with the count popped), so a replay never blocks.
fn pop_name(end: End) -> &'static [u8] {
    match end {
        End::Front => b"LPOP",
        End::Back => b"RPOP",
    }
}

fn lmpop(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mpop = mpop_args(ctx.args())?;
    if !mpop_serve(ctx, reply, &mpop)? {
        reply.null_array();
    }
    Ok(())
}

/// BLMPOP timeout numkeys key... LEFT|RIGHT [COUNT n]: the timeout is parsed after the rest, as in Redis.
fn blmpop(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let timeout = args.next_bytes()?;
    let mpop = mpop_args(args)?;
    let deadline_ms = args::timeout(timeout, ctx.now_ms)?;
    if !mpop_serve(ctx, reply, &mpop)? {
        ctx.block(mpop.keys, ValueType::List, deadline_ms, reply);
    }
    Ok(())
}

fn blpop(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    bpop_generic(ctx, reply, End::Front)
}

fn brpop(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    bpop_generic(ctx, reply, End::Back)
}

/// BLPOP/BRPOP key... timeout: `[key, element]` from the first key holding a list, or block.
fn bpop_generic(ctx: &mut Ctx<'_>, reply: &mut Reply, end: End) -> CmdResult {
    let (timeout, keys) = ctx.args().rest().split_last().ok_or(errors::SYNTAX)?;
    let deadline_ms = args::timeout(timeout, ctx.now_ms)?;
    match first_list(ctx, ctx.keys_to_serve(keys))? {
        Some((key, _)) => {
            reply.array(2);
            reply.bulk(key);
            pop_into(ctx, reply, key, end, 1);
            let key = key.clone();
            ctx.propagate_as(|| [propagation::arg(pop_name(end)), key]);
        }
        None => ctx.block(keys, ValueType::List, deadline_ms, reply),
    }
    Ok(())
}

/// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout.
fn blmove(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let keys = (args.next_key()?, args.next_key()?);
    let (from, to) = (next_end(&mut args)?, next_end(&mut args)?);
    let deadline_ms = args.next_timeout(ctx.now_ms)?;
    bmove_generic(ctx, reply, keys, (from, to), deadline_ms)
}

/// BRPOPLPUSH source destination timeout.
fn brpoplpush(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let keys = (args.next_key()?, args.next_key()?);
    let deadline_ms = args.next_timeout(ctx.now_ms)?;
    bmove_generic(ctx, reply, keys, (End::Back, End::Front), deadline_ms)
}

/// Moves as LMOVE when the source holds a list; blocks on the source when it is missing. Inside EXEC,
/// where nothing may block, Redis answers these two with a null bulk string (its timeout reply, and the
/// other blocking commands' answer there, is the null array).
fn bmove_generic(
    ctx: &mut Ctx<'_>,
    reply: &mut Reply,
    (source, destination): (&Bytes, &Bytes),
    (from, to): (End, End),
    deadline_ms: Option<i64>,
) -> CmdResult {
    if ctx.write_typed::<List>(source)?.is_none() {
        if ctx.state.in_exec {
            reply.null();
        } else {
            ctx.block(std::slice::from_ref(source), ValueType::List, deadline_ms, reply);
        }
        return Ok(());
    }
    move_generic(ctx, reply, (source, destination), from, to)?;
    // Replayed as the non-blocking move: BLMOVE as LMOVE with its own end arguments, BRPOPLPUSH as RPOPLPUSH.
    let argv = ctx.argv;
    if ctx.cmd.spec.name == "blmove" {
        ctx.propagate_as(|| std::iter::once(propagation::arg(b"LMOVE")).chain(argv[1..5].iter().cloned()));
    } else {
        ctx.propagate_as(|| [propagation::arg(b"RPOPLPUSH"), argv[1].clone(), argv[2].clone()]);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_redis_arithmetic() {
        assert_eq!(clamp_range(0, -1, 3), Some((0, 2)));
        assert_eq!(clamp_range(-100, 100, 3), Some((0, 2)));
        assert_eq!(clamp_range(2, 1, 3), None);
        assert_eq!(clamp_range(3, 5, 3), None);
        assert_eq!(clamp_range(0, -4, 3), None);
        assert_eq!(clamp_range(i64::MIN, i64::MAX, 3), Some((0, 2)));
        assert_eq!(clamp_range(0, 0, 0), None);
    }

    #[test]
    fn indexes_resolve_from_either_end() {
        assert_eq!(resolve_index(0, 3), Some(0));
        assert_eq!(resolve_index(-1, 3), Some(2));
        assert_eq!(resolve_index(-3, 3), Some(0));
        assert_eq!(resolve_index(-4, 3), None);
        assert_eq!(resolve_index(3, 3), None);
        assert_eq!(resolve_index(i64::MIN, 3), None);
    }

    #[test]
    fn mpop_arguments_parse_with_redis_errors() {
        let ok = args::test_argv(r"lmpop 2 a b right\0x CoUnt\0 3");
        let parsed = mpop_args(Args::new(&ok, 1)).unwrap_or_else(|e| panic!("{}", e.text()));
        assert_eq!((parsed.keys, parsed.end, parsed.count), (&ok[2..4], End::Back, 3));
        let err = |words: &[&str]| mpop_args(Args::new(&args::test_argv(&words.join(" ")), 1)).err().map(|e| e.text());
        assert_eq!(err(&["lmpop", "0", "a", "left"]).as_deref(), Some(errors::NUMKEYS_RANGE));
        assert_eq!(err(&["lmpop", "3", "a", "left"]).as_deref(), Some(errors::SYNTAX));
        assert_eq!(err(&["lmpop", "9223372036854775807", "a", "left"]).as_deref(), Some(errors::SYNTAX));
        assert_eq!(err(&["lmpop", "1", "a", "left", "count", "0"]).as_deref(), Some(errors::MPOP_COUNT_RANGE));
        assert_eq!(err(&["lmpop", "1", "a", "left", "count", "1", "count", "1"]).as_deref(), Some(errors::SYNTAX));
        assert_eq!(err(&["lmpop", "1", "a", "up"]).as_deref(), Some(errors::SYNTAX));
    }
}
