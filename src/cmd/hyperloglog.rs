//! HyperLogLog commands (Redis's hyperloglog.c commands): PFADD PFCOUNT PFMERGE PFDEBUG PFSELFTEST, over the
//! representation in `types::hll_sketch`.
//!
//! An HLL is a string value, held `raw` so it is edited in place: PFADD, PFMERGE, PFDEBUG and a single-key
//! PFCOUNT make it raw first (Redis's dbUnshareStringValue), so OBJECT ENCODING answers as Redis does. A
//! string that fails the header checks answers Redis's WRONGTYPE variant; one whose sparse code is broken
//! answers INVALIDOBJ. PFCOUNT of one key stores the estimate in the header's cache (a write, counted as
//! one), so a later PFCOUNT without PFADD in between reads it back.

use super::args::Keyword;
use super::errors::{self, CmdError, CmdResult};
use super::{Ctx, Handlers};
use crate::config::notify;
use crate::db::Value;
use crate::resp::reply::Reply;
use crate::types::hll_sketch::{self as hll, REGISTERS};

/// This family's handlers by command name, bound to the entries of its src/cmd/meta file.
pub const HANDLERS: &[Handlers] = &[&[
    ("pfadd", pfadd),
    ("pfcount", pfcount),
    ("pfdebug", pfdebug),
    ("pfmerge", pfmerge),
    ("pfselftest", pfselftest),
]];

const NOT_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";
const CORRUPT: &str = "INVALIDOBJ Corrupted HLL object detected";
const NO_SUCH_KEY: &str = "ERR The specified key does not exist";
const NOT_SPARSE: &str = "ERR HLL encoding is not sparse";

impl From<hll::Corrupt> for CmdError {
    fn from(_: hll::Corrupt) -> CmdError {
        CORRUPT.into()
    }
}

/// The bytes of a value that passes the HLL header checks (isHLLObjectOrReply): WRONGTYPE for another type,
/// Redis's HLL-specific WRONGTYPE for a string that is not an HLL (an `int` string never is).
fn hll_bytes(value: &Value) -> Result<&[u8], CmdError> {
    let bytes: &[u8] = match value {
        Value::Str(s) => &s[..],
        Value::Raw(v) => &v[..],
        Value::Int(_) | Value::OwnInt(_) => return Err(NOT_HLL.into()),
        _ => return Err(errors::WRONGTYPE.into()),
    };
    if hll::is_hll(bytes) { Ok(bytes) } else { Err(NOT_HLL.into()) }
}

/// The HLL at `key` made raw for an edit in place, after the header checks; `None` if the key is missing.
fn writable_hll<'a>(ctx: &'a mut Ctx<'_>, key: &[u8]) -> Result<Option<&'a mut Vec<u8>>, CmdError> {
    let now_ms = ctx.now_ms;
    let Some(value) = ctx.db().get_mut(key, now_ms) else {
        return Ok(None);
    };
    hll_bytes(value)?;
    Ok(value.make_raw())
}

/// PFADD key [element ...]: 1 if the key was created or any register grew.
fn pfadd(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let argv = ctx.argv;
    let (key, elements) = (&argv[1], &argv[2..]);
    let sparse_max = ctx.state.config.hll_sparse_max_bytes;
    let now_ms = ctx.now_ms;
    let mut created = false;
    let hll = match writable_hll(ctx, key)? {
        Some(hll) => hll,
        None => {
            created = true;
            let db = ctx.db();
            db.insert_new(key, Value::Raw(Box::new(hll::new_sparse())));
            db.get_mut(key, now_ms).and_then(Value::make_raw).ok_or(errors::WRONGTYPE)?
        }
    };
    // Redis counts the creation and each element that raised a register.
    let mut updated = usize::from(created);
    for element in elements {
        // A corrupt code stops the command where it is, as in Redis: earlier registers stay raised.
        updated += usize::from(hll::add(hll, element, sparse_max)?);
    }
    if updated > 0 {
        hll::invalidate_cache(hll);
        ctx.key_changed_by(key, updated);
        ctx.notify(notify::STRING, "pfadd", key);
    }
    reply.int(i64::from(updated > 0));
    Ok(())
}

/// PFCOUNT key [key ...]: one key answers (and caches) its estimate; several answer the estimate of their
/// union, computed on the side without changing any of them.
fn pfcount(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let argv = ctx.argv;
    if argv.len() > 2 {
        // 16 KiB on the stack, as in Redis: no allocation per call.
        let mut max = [0u8; REGISTERS];
        merge_sources(ctx, &argv[1..], &mut max)?;
        reply.int(hll::count_registers(&max) as i64);
        return Ok(());
    }
    let key = &argv[1];
    if ctx.read_key(key).is_none() {
        reply.int(0);
        return Ok(());
    }
    let hll = writable_hll(ctx, key)?.ok_or(errors::WRONGTYPE)?;
    let card = match hll::cached_count(hll) {
        Some(card) => card,
        None => {
            let card = hll::count(hll)?;
            hll::set_cached_count(hll, card);
            ctx.key_changed(key);
            card
        }
    };
    reply.int(card as i64);
    Ok(())
}

/// Raises `max` to the registers of every HLL among `keys` (missing keys are empty HLLs). Returns whether
/// any of them is dense.
fn merge_sources(ctx: &mut Ctx<'_>, keys: &[bytes::Bytes], max: &mut [u8; REGISTERS]) -> Result<bool, CmdError> {
    let mut any_dense = false;
    for key in keys {
        let Some(value) = ctx.read_key(key) else {
            continue;
        };
        let bytes = hll_bytes(value)?;
        any_dense |= !hll::is_sparse(bytes);
        hll::merge_into(max, bytes)?;
    }
    Ok(any_dense)
}

/// PFMERGE destkey [sourcekey ...]: the union of destkey and the sources into destkey, dense if any input
/// was dense.
fn pfmerge(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let argv = ctx.argv;
    let key = &argv[1];
    let mut max = [0u8; REGISTERS];
    let any_dense = merge_sources(ctx, &argv[1..], &mut max)?;
    let sparse_max = ctx.state.config.hll_sparse_max_bytes;
    let now_ms = ctx.now_ms;
    if ctx.db().get(key, now_ms).is_none() {
        ctx.db().insert_new(key, Value::Raw(Box::new(hll::new_sparse())));
    }
    let hll = writable_hll(ctx, key)?.ok_or(errors::WRONGTYPE)?;
    if any_dense {
        hll::to_dense(hll)?;
    }
    for (index, &count) in max.iter().enumerate().filter(|&(_, &count)| count > 0) {
        // Redis ignores a failure here: the destination's code was checked by the merge above.
        let _ = hll::set_register(hll, index, count, sparse_max);
    }
    hll::invalidate_cache(hll);
    ctx.key_changed(key);
    // Redis sends pfadd for PFMERGE too, "since in theory this is a mass-add of elements".
    ctx.notify(notify::STRING, "pfadd", key);
    reply.ok();
    Ok(())
}

/// PFDEBUG GETREG|DECODE|ENCODING|TODENSE key. The key is checked before the subcommand, as in Redis.
fn pfdebug(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let argv = ctx.argv;
    let sub = Keyword::of(&argv[1]);
    let hll = writable_hll(ctx, &argv[2])?.ok_or(NO_SUCH_KEY)?;
    let quoted = |prefix: &[u8], suffix: &[u8]| CmdError::from([prefix, sub.as_bytes(), suffix].concat());
    if !["getreg", "decode", "encoding", "todense"].iter().any(|name| sub.is(name)) {
        return Err(quoted(b"ERR Unknown PFDEBUG subcommand '", b"'"));
    }
    if argv.len() != 3 {
        return Err(quoted(b"ERR Wrong number of arguments for the '", b"' subcommand"));
    }
    let mut converted = false;
    if sub.is("getreg") {
        converted = hll::to_dense(hll)?;
        reply.array(REGISTERS);
        hll::dense_registers(hll).for_each(|reg| reply.int(i64::from(reg)));
    } else if sub.is("decode") {
        if !hll::is_sparse(hll) {
            return Err(NOT_SPARSE.into());
        }
        reply.bulk(hll::decode(hll).as_bytes());
    } else if sub.is("encoding") {
        reply.simple(if hll::is_sparse(hll) { "sparse" } else { "dense" });
    } else {
        converted = hll::to_dense(hll)?;
        reply.int(i64::from(converted));
    }
    // A changed encoding is a write Redis propagates, though the key is not signalled.
    ctx.state.dirty += u64::from(converted);
    Ok(())
}

fn pfselftest(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let sparse_max = ctx.state.config.hll_sparse_max_bytes;
    hll::self_test(&mut ctx.state.rng, sparse_max)?;
    reply.ok();
    Ok(())
}
