//! BITFIELD and BITFIELD_RO (Redis's bitfieldGeneric): integer fields of 1 to 64 bits (`i1`..`i64`,
//! `u1`..`u63`) at any bit offset of a string, read with GET and written with SET and INCRBY under the
//! OVERFLOW mode in force (WRAP, SAT, FAIL), which applies to the operations after it.
//!
//! Every operation is parsed before the key is touched, so a bad argument anywhere answers its error alone.
//! A command with any write grows the string once, to its farthest written bit, before the first operation
//! runs; a read-only one never creates the key.

use super::{bit_offset, writable_bits};
use crate::cmd::Ctx;
use crate::cmd::args::{self, Keyword};
use crate::cmd::errors::{self, CmdError, CmdResult};
use crate::config::notify;
use crate::resp::reply::Reply;
use crate::types::bitstring::{self, Overflow};

const TYPE_INVALID: &str =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
const OVERFLOW_INVALID: &str = "ERR Invalid OVERFLOW type specified";
const RO_ONLY_GET: &str = "ERR BITFIELD_RO only supports the GET subcommand";

/// What one operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Get,
    Set(i64),
    IncrBy(i64),
}

/// One parsed operation: the field (signedness, width, bit offset), the action and the overflow mode in
/// force where it appeared.
#[derive(Debug, Clone, Copy)]
struct FieldOp {
    signed: bool,
    bits: u32,
    offset: u64,
    action: Action,
    overflow: Overflow,
}

pub fn bitfield(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    bitfield_generic(ctx, reply, false)
}

pub fn bitfield_ro(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    bitfield_generic(ctx, reply, true)
}

fn bitfield_generic(ctx: &mut Ctx<'_>, reply: &mut Reply, read_only: bool) -> CmdResult {
    let argv = ctx.argv;
    let key = &argv[1];
    let ops = parse_ops(&argv[2..], ctx.state.config.proto_max_bulk_len)?;
    let highest_bit =
        ops.iter().filter(|op| op.action != Action::Get).map(|op| op.offset + u64::from(op.bits) - 1).max();
    let Some(highest_bit) = highest_bit else {
        return bitfield_reads(ctx, reply, key, &ops);
    };
    if read_only {
        return Err(RO_ONLY_GET.into());
    }
    let (bytes, grew) = writable_bits(ctx, key, (highest_bit >> 3) as usize + 1)?;
    reply.array(ops.len());
    let mut changes = 0;
    for op in &ops {
        match op.action {
            Action::Get => reply.int(read_field(bytes, op)),
            Action::Set(_) | Action::IncrBy(_) => match write_field(bytes, op) {
                Some((reported, changed)) => {
                    // A write counts when it changed the field or the command created or grew the string.
                    changes += u64::from(changed || grew);
                    reply.int(reported);
                }
                None => reply.null(),
            },
        }
    }
    if changes > 0 {
        // Redis counts one change per counted write.
        ctx.key_changed_by(key, changes as usize);
        ctx.notify(notify::STRING, "setbit", key);
    }
    Ok(())
}

/// The operations of a BITFIELD argument list, each checked as Redis checks it: the subcommand and its
/// argument count, then the type, the offset and the value.
fn parse_ops(argv: &[bytes::Bytes], len_max: u64) -> Result<Vec<FieldOp>, CmdError> {
    let mut ops = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut rest = argv;
    while let Some((name, tail)) = rest.split_first() {
        let name = Keyword::of(name);
        let needs = if name.is("get") {
            2
        } else if name.is("set") || name.is("incrby") {
            3
        } else {
            0
        };
        if name.is("overflow") && !tail.is_empty() {
            overflow = Keyword::of(&tail[0])
                .pick(&[("wrap", Overflow::Wrap), ("sat", Overflow::Sat), ("fail", Overflow::Fail)])
                .ok_or(OVERFLOW_INVALID)?;
            rest = &tail[1..];
            continue;
        }
        if needs == 0 || tail.len() < needs {
            return Err(errors::SYNTAX.into());
        }
        let (signed, bits) = field_type(&tail[0])?;
        let offset = bit_offset(&tail[1], Some(bits), len_max)?;
        let action = match needs {
            2 => Action::Get,
            _ if name.is("set") => Action::Set(args::int(&tail[2])?),
            _ => Action::IncrBy(args::int(&tail[2])?),
        };
        ops.push(FieldOp { signed, bits, offset, action, overflow });
        rest = &tail[needs..];
    }
    Ok(ops)
}

/// A field type, `i1`..`i64` or `u1`..`u63` (Redis's getBitfieldTypeFromArgument: the digits end at a NUL).
fn field_type(arg: &[u8]) -> Result<(bool, u32), CmdError> {
    let signed = match arg.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(TYPE_INVALID.into()),
    };
    let bits = args::int(errors::c_str(&arg[1..], usize::MAX)).map_err(|_| TYPE_INVALID)?;
    match bits {
        1..=64 if signed => Ok((true, bits as u32)),
        1..=63 => Ok((false, bits as u32)),
        _ => Err(TYPE_INVALID.into()),
    }
}

/// Runs a BITFIELD without writes: the key may be missing (all fields read 0) but not of another type.
fn bitfield_reads(ctx: &mut Ctx<'_>, reply: &mut Reply, key: &[u8], ops: &[FieldOp]) -> CmdResult {
    match ctx.read_key(key) {
        None => write_reads(reply, ops, b""),
        Some(value) => value.with_str(|s| write_reads(reply, ops, s)).ok_or(errors::WRONGTYPE)?,
    }
    Ok(())
}

/// Replies one integer per GET over `s`.
fn write_reads(reply: &mut Reply, ops: &[FieldOp], s: &[u8]) {
    reply.array(ops.len());
    for op in ops {
        reply.int(read_field(s, op));
    }
}

fn read_field(bytes: &[u8], op: &FieldOp) -> i64 {
    if op.signed {
        bitstring::get_signed(bytes, op.offset, op.bits)
    } else {
        bitstring::get_unsigned(bytes, op.offset, op.bits) as i64
    }
}

/// Runs a SET or INCRBY on `bytes` (which covers the field): what it replies and whether the field changed,
/// or `None` when OVERFLOW FAIL refused the write. SET replies the old value, INCRBY the new one.
fn write_field(bytes: &mut [u8], op: &FieldOp) -> Option<(i64, bool)> {
    let old = read_field(bytes, op);
    let (operand, incr) = match op.action {
        Action::Set(value) => (value, 0),
        Action::IncrBy(incr) => (old, incr),
        Action::Get => return Some((old, false)),
    };
    let sum = if op.signed {
        bitstring::signed_add(operand, incr, op.bits, op.overflow)
    } else {
        bitstring::unsigned_add(operand as u64, incr, op.bits, op.overflow).map(|v| v as i64).map_err(|v| v as i64)
    };
    let new = match sum {
        Ok(new) => new,
        Err(_) if op.overflow == Overflow::Fail => return None,
        Err(limited) => limited,
    };
    bitstring::set_field(bytes, op.offset, op.bits, new as u64);
    let reported = if matches!(op.action, Action::Set(_)) { old } else { new };
    Some((reported, new != old))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_types_follow_redis() {
        assert_eq!(field_type(b"i64"), Ok((true, 64)));
        assert_eq!(field_type(b"u63"), Ok((false, 63)));
        assert_eq!(field_type(b"u8\0junk"), Ok((false, 8)));
        for bad in [&b"u64"[..], b"i65", b"i0", b"I8", b"", b"u", b"u-1", b"u+1"] {
            assert!(field_type(bad).is_err(), "{bad:?}");
        }
    }
}
