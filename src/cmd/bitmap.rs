//! Bitmap commands (Redis's bitops.c): SETBIT GETBIT BITCOUNT BITPOS BITOP, and through `bitfield`
//! BITFIELD and BITFIELD_RO. The bit arithmetic is in `types::bitstring`.
//!
//! Bitmaps are strings. A write (SETBIT, BITFIELD's SET and INCRBY) turns the value into the growable `raw`
//! form once and then grows it in place, zero-filled, with the vector's amortised doubling, so a stream of
//! SETBITs past the end costs O(1) each beyond the bytes it adds (Redis's sdsgrowzero). Reads take the string
//! as it is, formatting an `int`-encoded one on the stack.
//!
//! Bit offsets are checked against proto-max-bulk-len before anything grows, with Redis's error; BITCOUNT
//! and BITPOS look the key up before they read their range, so a missing key answers 0 (or BITPOS's -1/0)
//! whatever the range says, as in 7.0.

mod bitfield;

use super::args::{self, Keyword};
use super::errors::{self, CmdError, CmdResult};
use super::{Ctx, Handlers};
use crate::config::notify;
use crate::db::Value;
use crate::resp::reply::Reply;
use crate::types::bitstring::{self, BitOp};

/// This family's handlers by command name, bound to the entries of its src/cmd/meta file.
pub const HANDLERS: &[Handlers] = &[&[
    ("bitcount", bitcount),
    ("bitfield", bitfield::bitfield),
    ("bitfield_ro", bitfield::bitfield_ro),
    ("bitop", bitop),
    ("bitpos", bitpos),
    ("getbit", getbit),
    ("setbit", setbit),
]];

const BIT_OFFSET_INVALID: &str = "ERR bit offset is not an integer or out of range";
const BIT_VALUE_INVALID: &str = "ERR bit is not an integer or out of range";
const BITPOS_BIT_INVALID: &str = "ERR The bit argument must be 1 or 0.";
const BITOP_NOT_ONE_SOURCE: &str = "ERR BITOP NOT must be called with a single source key.";

/// A bit offset argument (Redis's getBitOffsetFromArgument): a non-negative integer whose byte is below
/// proto-max-bulk-len `len_max`. With `field_bits` (BITFIELD), `#N` means field number N, bit N * bits;
/// the product wraps as C's does and is then refused as negative.
fn bit_offset(arg: &[u8], field_bits: Option<u32>, len_max: u64) -> Result<u64, CmdError> {
    let (digits, scale) = match (arg.first(), field_bits) {
        (Some(b'#'), Some(bits)) => (&arg[1..], i64::from(bits)),
        _ => (arg, 1),
    };
    let offset = args::int(digits).map_err(|_| BIT_OFFSET_INVALID)?.wrapping_mul(scale);
    match u64::try_from(offset) {
        Ok(offset) if offset >> 3 < len_max => Ok(offset),
        _ => Err(BIT_OFFSET_INVALID.into()),
    }
}

/// The string at `key` made writable and at least `byte_len` bytes long, created if missing (Redis's
/// lookupStringForBitCommand). Returns the bytes and whether the key was created or grew.
fn writable_bits<'a>(ctx: &'a mut Ctx<'_>, key: &[u8], byte_len: usize) -> Result<(&'a mut Vec<u8>, bool), CmdError> {
    let now_ms = ctx.now_ms;
    let db = ctx.db();
    if db.get(key, now_ms).is_none() {
        db.insert_new(key, Value::Raw(Box::new(vec![0; byte_len])));
        let bytes = db.get_mut(key, now_ms).and_then(Value::make_raw).ok_or(errors::WRONGTYPE)?;
        return Ok((bytes, true));
    }
    let bytes = db.get_mut(key, now_ms).and_then(Value::make_raw).ok_or(errors::WRONGTYPE)?;
    let grew = bytes.len() < byte_len;
    if grew {
        bytes.resize(byte_len, 0);
    }
    Ok((bytes, grew))
}

fn setbit(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let key = args.next_key()?;
    let offset = bit_offset(args.next_bytes()?, None, ctx.state.config.proto_max_bulk_len)?;
    let on = match args::int(args.next_bytes()?) {
        Ok(0) => false,
        Ok(1) => true,
        _ => return Err(BIT_VALUE_INVALID.into()),
    };
    let (bytes, dirty) = writable_bits(ctx, key, (offset >> 3) as usize + 1)?;
    let byte = &mut bytes[(offset >> 3) as usize];
    let mask = 0x80u8 >> (offset & 7);
    let was_on = *byte & mask != 0;
    *byte = if on { *byte | mask } else { *byte & !mask };
    if dirty || was_on != on {
        ctx.key_changed(key);
        ctx.notify(notify::STRING, "setbit", key);
    }
    reply.int(i64::from(was_on));
    Ok(())
}

fn getbit(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let key = args.next_key()?;
    let offset = bit_offset(args.next_bytes()?, None, ctx.state.config.proto_max_bulk_len)?;
    let on = match ctx.read_key(key) {
        None => false,
        Some(value) => value
            .with_str(|s| s.get((offset >> 3) as usize).is_some_and(|byte| byte & (0x80 >> (offset & 7)) != 0))
            .ok_or(errors::WRONGTYPE)?,
    };
    reply.int(i64::from(on));
    Ok(())
}

/// A BITCOUNT or BITPOS range resolved against a string of `len` bytes: inclusive bit positions, or `None`
/// when it selects nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct BitRange {
    first: u64,
    last: u64,
}

/// Resolves `start..=end` (bytes, or bits with `in_bits`; negative counts from the end; clamped into the
/// string) as Redis's bitcountCommand and bitposCommand do. A byte range covers whole bytes.
fn resolve_range(len: usize, start: i64, end: i64, in_bits: bool) -> Option<BitRange> {
    // A string is at most 512 MiB (proto-max-bulk-len is a long), so its length in bits fits in an i64.
    let total = if in_bits { len as i64 * 8 } else { len as i64 };
    let from_end = |index: i64| if index < 0 { total.saturating_add(index).max(0) } else { index };
    let (start, end) = (from_end(start), from_end(end).min(total - 1));
    if start > end {
        return None;
    }
    let (first, last) = if in_bits { (start, end) } else { (start * 8, end * 8 + 7) };
    Some(BitRange { first: first as u64, last: last as u64 })
}

/// BYTE or BIT, as BITCOUNT's and BITPOS's last argument.
fn range_unit(arg: &[u8]) -> Result<bool, CmdError> {
    Keyword::of(arg).pick(&[("bit", true), ("byte", false)]).ok_or_else(|| errors::SYNTAX.into())
}

/// BITCOUNT key [start end [BYTE|BIT]].
fn bitcount(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let argv = ctx.argv;
    let Some(value) = ctx.read_key(&argv[1]) else {
        reply.int(0);
        return Ok(());
    };
    let count = value.with_str(|s| bitcount_of(s, &argv[2..])).ok_or(errors::WRONGTYPE)??;
    reply.int(count as i64);
    Ok(())
}

fn bitcount_of(s: &[u8], range: &[bytes::Bytes]) -> Result<u64, CmdError> {
    let range = match range {
        [] => resolve_range(s.len(), 0, -1, false),
        [start, end, unit @ ..] if unit.len() <= 1 => {
            let (start, end) = (args::int(start)?, args::int(end)?);
            if start < 0 && end < 0 && start > end {
                return Ok(0);
            }
            let in_bits = unit.first().map(|unit| range_unit(unit)).transpose()?.unwrap_or(false);
            resolve_range(s.len(), start, end, in_bits)
        }
        _ => return Err(errors::SYNTAX.into()),
    };
    Ok(range.map_or(0, |r| bitstring::count_ones(s, r.first, r.last)))
}

/// BITPOS key bit [start [end [BYTE|BIT]]]. Looking for a 0 without an end treats the string as padded with
/// zeros: all ones answers the first bit past it. With an end given, the range is exact and answers -1.
fn bitpos(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let argv = ctx.argv;
    let bit = match args::int(&argv[2])? {
        0 => false,
        1 => true,
        _ => return Err(BITPOS_BIT_INVALID.into()),
    };
    let Some(value) = ctx.read_key(&argv[1]) else {
        reply.int(if bit { -1 } else { 0 });
        return Ok(());
    };
    let pos = value.with_str(|s| bitpos_of(s, bit, &argv[3..])).ok_or(errors::WRONGTYPE)??;
    reply.int(pos);
    Ok(())
}

fn bitpos_of(s: &[u8], bit: bool, range: &[bytes::Bytes]) -> Result<i64, CmdError> {
    if range.len() > 3 {
        return Err(errors::SYNTAX.into());
    }
    let start = range.first().map(|start| args::int(start)).transpose()?.unwrap_or(0);
    let in_bits = range.get(2).map(|unit| range_unit(unit)).transpose()?.unwrap_or(false);
    let end = range.get(1).map(|end| args::int(end)).transpose()?;
    let Some(range) = resolve_range(s.len(), start, end.unwrap_or(-1), in_bits) else {
        return Ok(-1);
    };
    Ok(match bitstring::find_bit(s, range.first, range.last, bit) {
        Some(pos) => pos as i64,
        // Only the end of the whole string may be crossed: a byte range ends on a byte boundary, and a bit
        // range without an end runs to the string's last bit.
        None if !bit && end.is_none() => range.last as i64 + 1,
        None => -1,
    })
}

/// BITOP op destkey key [key ...]: a missing source is the empty string; an empty result deletes destkey.
/// The result is stored as a new `raw` string without TTL, and the reply is its length.
fn bitop(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let argv = ctx.argv;
    let op = Keyword::of(&argv[1])
        .pick(&[("and", BitOp::And), ("or", BitOp::Or), ("xor", BitOp::Xor), ("not", BitOp::Not)])
        .ok_or(errors::SYNTAX)?;
    let (dest, sources) = (&argv[2], &argv[3..]);
    if op == BitOp::Not && sources.len() != 1 {
        return Err(BITOP_NOT_ONE_SOURCE.into());
    }
    let mut result = Vec::new();
    for (i, key) in sources.iter().enumerate() {
        match ctx.read_key(key) {
            None => bitstring::bitop_fold(op, &mut result, b"", i == 0),
            Some(value) => {
                value.with_str(|s| bitstring::bitop_fold(op, &mut result, s, i == 0)).ok_or(errors::WRONGTYPE)?
            }
        }
    }
    let len = result.len();
    let now_ms = ctx.now_ms;
    if len > 0 {
        ctx.db().set(dest, Value::Raw(Box::new(result)), false, now_ms);
        ctx.key_changed(dest);
        ctx.notify(notify::STRING, "set", dest);
    } else if ctx.db().delete(dest, now_ms) {
        ctx.key_changed(dest);
        ctx.notify(notify::GENERIC, "del", dest);
    }
    reply.int(len as i64);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_redis() {
        let r = |first, last| Some(BitRange { first, last });
        assert_eq!(resolve_range(3, 0, -1, false), r(0, 23));
        assert_eq!(resolve_range(3, 1, 1, false), r(8, 15));
        assert_eq!(resolve_range(3, -100, 100, false), r(0, 23));
        assert_eq!(resolve_range(3, 5, 1, true), None);
        assert_eq!(resolve_range(3, 5, 9, true), r(5, 9));
        assert_eq!(resolve_range(3, -3, -1, true), r(21, 23));
        assert_eq!(resolve_range(0, 0, -1, false), None);
        assert_eq!(resolve_range(3, i64::MIN, i64::MAX, true), r(0, 23));
    }

    #[test]
    fn offsets_follow_get_bit_offset_from_argument() {
        let max = 512 << 20;
        assert_eq!(bit_offset(b"0", None, max), Ok(0));
        assert_eq!(bit_offset(b"4294967295", None, max), Ok(4294967295));
        assert!(bit_offset(b"4294967296", None, max).is_err());
        assert!(bit_offset(b"-1", None, max).is_err());
        assert!(bit_offset(b"#1", None, max).is_err());
        assert_eq!(bit_offset(b"#3", Some(8), max), Ok(24));
        assert!(bit_offset(b"#9223372036854775807", Some(8), max).is_err());
        assert!(bit_offset(b"#", Some(8), max).is_err());
    }
}
