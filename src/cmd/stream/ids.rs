//! Stream ID arguments as Redis parses them (streamGenericParseIDOrReply): `ms-seq`, `ms` (the sequence
//! defaulted), `-` and `+` where not strict, `ms-*` for XADD, and `(` exclusive interval bounds.

use crate::cmd::errors::CmdError;
use crate::types::stream_object::StreamId;

pub const INVALID_ID: &str = "ERR Invalid stream ID specified as stream command argument";
const INVALID_START: &str = "ERR invalid start ID for the interval";
const INVALID_END: &str = "ERR invalid end ID for the interval";
/// Redis copies an ID argument into a 128-byte buffer and refuses longer ones.
const ID_ARG_MAX: usize = 127;

/// Redis's string2ull: string2ll when it fits, else strtoull's rules (leading space, a sign, decimal digits,
/// no overflow).
fn parse_u64(arg: &[u8]) -> Option<u64> {
    if let Some(n) = crate::util::num::parse_i64(arg) {
        return u64::try_from(n).ok();
    }
    let text = arg.trim_ascii_start();
    let (negative, digits) = match text.first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = digits.iter().try_fold(0u64, |n, d| n.checked_mul(10)?.checked_add(u64::from(d - b'0')))?;
    Some(if negative { n.wrapping_neg() } else { n })
}

/// Parses an ID; `-`/`+` only when not `strict`; a missing sequence is `missing_seq`. With `allow_auto_seq`,
/// `ms-*` parses with `seq_given` false. Returns the ID and whether the sequence was given.
fn parse_generic(arg: &[u8], missing_seq: u64, strict: bool, allow_auto_seq: bool) -> Option<(StreamId, bool)> {
    if arg.len() > ID_ARG_MAX {
        return None;
    }
    if !strict && arg == b"-" {
        return Some((StreamId::MIN, true));
    }
    if !strict && arg == b"+" {
        return Some((StreamId::MAX, true));
    }
    // C stops at a NUL, as the buffer copy does.
    let arg = arg.split(|&b| b == 0).next().unwrap_or_default();
    match arg.iter().position(|&b| b == b'-') {
        Some(dash) => {
            let ms = parse_u64(&arg[..dash])?;
            let seq = &arg[dash + 1..];
            if allow_auto_seq && seq == b"*" {
                return Some((StreamId::new(ms, 0), false));
            }
            Some((StreamId::new(ms, parse_u64(seq)?), true))
        }
        None => Some((StreamId::new(parse_u64(arg)?, missing_seq), true)),
    }
}

/// A strict ID (no `-` or `+`), as XADD (which also takes `ms-*`), XDEL, XSETID, XACK and XCLAIM take them.
pub fn parse_strict(arg: &[u8], missing_seq: u64) -> Result<(StreamId, bool), CmdError> {
    parse_generic(arg, missing_seq, true, true).ok_or_else(|| INVALID_ID.into())
}

/// A strict ID without `ms-*`.
pub fn parse_plain(arg: &[u8], missing_seq: u64) -> Result<StreamId, CmdError> {
    parse_generic(arg, missing_seq, true, false).map(|(id, _)| id).ok_or_else(|| INVALID_ID.into())
}

/// An ID that may be `-` or `+`.
pub fn parse_id(arg: &[u8], missing_seq: u64) -> Result<StreamId, CmdError> {
    parse_generic(arg, missing_seq, false, false).map(|(id, _)| id).ok_or_else(|| INVALID_ID.into())
}

/// An interval start: `(id` is exclusive.
pub fn parse_range_start(arg: &[u8]) -> Result<StreamId, CmdError> {
    match arg.strip_prefix(b"(").filter(|rest| !rest.is_empty()) {
        Some(rest) => {
            let id = parse_plain(rest, 0)?;
            id.next().ok_or_else(|| INVALID_START.into())
        }
        None => parse_id(arg, 0),
    }
}

/// An interval end: `(id` is exclusive.
pub fn parse_range_end(arg: &[u8]) -> Result<StreamId, CmdError> {
    match arg.strip_prefix(b"(").filter(|rest| !rest.is_empty()) {
        Some(rest) => {
            let id = parse_plain(rest, u64::MAX)?;
            id.prev().ok_or_else(|| INVALID_END.into())
        }
        None => parse_id(arg, u64::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_as_redis_does() {
        assert_eq!(parse_id(b"5", u64::MAX).unwrap(), StreamId::new(5, u64::MAX));
        assert_eq!(parse_id(b"-", 0).unwrap(), StreamId::MIN);
        assert!(parse_strict(b"+", 0).is_err());
        assert_eq!(parse_strict(b"3-*", 0).unwrap(), (StreamId::new(3, 0), false));
        assert!(parse_plain(b"3-*", 0).is_err());
        assert!(parse_id(b"1-x", 0).is_err());
        assert!(parse_id(b"-1", 0).is_err());
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert!(parse_range_start(b"(18446744073709551615-18446744073709551615").is_err());
        assert!(parse_range_end(b"(0-0").is_err());
    }
}
