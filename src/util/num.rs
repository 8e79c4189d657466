//! Redis's number parsing and printing (util.c, object.c, t_string.c, t_hash.c at 7.0), byte for byte.
//!
//! Clients see these texts in replies and errors, so each function reproduces the C library call Redis makes
//! rather than Rust's own idea of a number:
//!
//! - [`parse_i64`] is `string2ll`: strict decimal, no `+`, no leading zeros, no `-0`, at most 20 bytes.
//! - [`parse_f64`] is `getDoubleFromObject` (`strtod` plus Redis's checks): `inf`, `+1.5`, `1e3`, `.5`, hex
//!   floats are accepted; leading whitespace, trailing bytes, NaN and out-of-range values are not.
//! - [`write_double`] is the `%.17g` text of `addReplyDouble` (and of `d2string`, which prints the same bytes).
//! - [`incr_by_float`] and [`hincr_by_float`] are INCRBYFLOAT and HINCRBYFLOAT: parse both operands with
//!   `strtold`, add in 80-bit `long double`, print with `%.17Lf` trimmed (`ld2string` in `LD_STR_HUMAN` mode).
//!   `f64` cannot emulate this (10.5 + 0.1 must print `10.6`), so the arithmetic runs in the small C file
//!   `longdouble.c`, built by `build.rs`. Its one FFI call is the only `unsafe` in this module.
//!
//! Invariant: nothing here panics or allocates according to the input's claims; every function is pure.

use std::ffi::{c_char, c_int};
use std::io::Write;

/// `LONG_STR_SIZE - 1` in Redis: the longest text an i64 can have (`-9223372036854775808`).
const I64_STR_LEN_MAX: usize = 20;

/// `MAX_LONG_DOUBLE_CHARS` in Redis: the buffer size of `string2ld` and of `ld2string`'s callers. Operands this
/// long or longer are not floats, and results that would not fit come out empty, as in Redis.
const LONG_DOUBLE_CHARS_MAX: usize = 5 * 1024;

/// Parses an integer exactly as `string2ll` does.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > I64_STR_LEN_MAX {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    // The first digit must be 1-9: this rejects "", "-", "-0", "007" and "+5" in one test.
    if !matches!(digits.first(), Some(b'1'..=b'9')) {
        return None;
    }
    let mut magnitude: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        magnitude = magnitude.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    if negative { 0i64.checked_sub_unsigned(magnitude) } else { i64::try_from(magnitude).ok() }
}

/// C's `atoi` as glibc computes it, `(int) strtol(s, NULL, 10)`: leading whitespace, an optional sign, then
/// as many digits as there are (the rest, from the first other byte or a NUL, is ignored; no digit is 0), the
/// value saturated to a 64-bit `long` and then truncated to 32 bits. Redis reads MIGRATE's port and DEBUG's
/// switches (SET-ACTIVE-EXPIRE, PAUSE-CRON, ...) this way.
pub fn atoi(s: &[u8]) -> i32 {
    let start = s.iter().position(|c| !matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')).unwrap_or(s.len());
    let (negative, digits) = match &s[start..] {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        rest => (false, rest),
    };
    let mut value: i64 = 0;
    for &c in digits.iter().take_while(|c| c.is_ascii_digit()) {
        let digit = i64::from(c - b'0');
        value = if negative {
            value.saturating_mul(10).saturating_sub(digit)
        } else {
            value.saturating_mul(10).saturating_add(digit)
        };
    }
    value as i32
}

/// Parses a double exactly as `getDoubleFromObject` does: `strtod` must use every byte, the first byte must not
/// be whitespace, and NaN or a finite literal outside the double range (ERANGE to ±inf or to 0) is rejected.
/// Literal `inf`/`infinity` (any case, optional sign) is accepted.
pub fn parse_f64(s: &[u8]) -> Option<f64> {
    parse_float_literal(s, false)
}

/// Parses a float with `string2ld`'s grammar (as [`parse_f64`]), saturating a literal beyond the double range to
/// ±inf or 0 instead of rejecting it: `long double` still holds such values, and callers that only compare the
/// result against limits (blocking timeouts) need just its side of them.
pub fn parse_f64_saturating(s: &[u8]) -> Option<f64> {
    parse_float_literal(s, true)
}

fn parse_float_literal(s: &[u8], saturate: bool) -> Option<f64> {
    let (negative, body) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, s),
    };
    // Digits only, at most 15 of them: an integer below 2^53, which strtod gives exactly (the usual score,
    // leading zeros included, as redis-benchmark sends them).
    let magnitude = if !body.is_empty() && body.len() <= 15 && body.iter().all(u8::is_ascii_digit) {
        body.iter().fold(0u64, |n, &c| n * 10 + u64::from(c - b'0')) as f64
    } else if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
        f64::INFINITY
    } else if let Some(hex) = body.strip_prefix(b"0x").or_else(|| body.strip_prefix(b"0X")) {
        parse_hex_float(hex)?
    } else {
        parse_decimal_float(body, saturate)?
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// A strtod literal split into its parts: `int_digits[.frac_digits][<marker>[sign]exp_digits]`.
struct FloatLiteral<'a> {
    int_digits: &'a [u8],
    frac_digits: &'a [u8],
    exponent: i64,
}

/// Splits `s` along strtod's grammar for decimal (`e` exponent, decimal digits) or hex (`p` exponent, hex digits)
/// literals. The whole string must match: strtod would stop early on anything else, and Redis rejects a literal
/// that leaves bytes unread. The exponent saturates far beyond any finite double's range.
fn split_literal(s: &[u8], is_digit: fn(&u8) -> bool, marker: u8) -> Option<FloatLiteral<'_>> {
    let int_len = s.iter().take_while(|c| is_digit(c)).count();
    let (int_digits, rest) = s.split_at(int_len);
    let (frac_digits, rest) = match rest.strip_prefix(b".") {
        Some(after_point) => after_point.split_at(after_point.iter().take_while(|c| is_digit(c)).count()),
        None => (&rest[..0], rest),
    };
    if int_digits.is_empty() && frac_digits.is_empty() {
        return None;
    }
    let exponent = match rest.split_first() {
        None => 0,
        Some((c, exp)) if c.to_ascii_lowercase() == marker => parse_exponent(exp)?,
        Some(_) => return None,
    };
    Some(FloatLiteral { int_digits, frac_digits, exponent })
}

/// Parses `[sign]digits` of an exponent, saturating at a magnitude no double exponent can reach.
fn parse_exponent(s: &[u8]) -> Option<i64> {
    const SATURATED: i64 = 1 << 40;
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let magnitude = digits.iter().fold(0i64, |acc, &c| (acc * 10 + i64::from(c - b'0')).min(SATURATED));
    Some(if negative { -magnitude } else { magnitude })
}

/// The unsigned decimal part of [`parse_f64`]. Rust's parser rounds exactly like glibc's strtod (correctly),
/// so it does the conversion once the grammar and range checks have been done here.
fn parse_decimal_float(s: &[u8], saturate: bool) -> Option<f64> {
    let literal = split_literal(s, u8::is_ascii_digit, b'e')?;
    let value: f64 = std::str::from_utf8(s).ok()?.parse().ok()?;
    let nonzero_digit = literal.int_digits.iter().chain(literal.frac_digits).any(|&c| c != b'0');
    // strtod reports ERANGE both for overflow to infinity and for underflow to zero; Redis rejects both.
    if !saturate && (value.is_infinite() || (value == 0.0 && nonzero_digit)) {
        return None;
    }
    Some(value)
}

/// The unsigned hex part of [`parse_f64`] (after `0x`), rounded to nearest-even like glibc's strtod.
fn parse_hex_float(s: &[u8]) -> Option<f64> {
    let literal = split_literal(s, u8::is_ascii_hexdigit, b'p')?;
    // The value is mantissa * 2^exponent, plus a nonzero tail below the mantissa's last bit when `sticky`.
    let mut mantissa: u64 = 0;
    let mut exponent = literal.exponent;
    let mut sticky = false;
    let digits = literal.int_digits.iter().map(|c| (c, true)).chain(literal.frac_digits.iter().map(|c| (c, false)));
    for (&c, before_point) in digits {
        let digit = u64::from(hex_value(c));
        if mantissa >> 60 == 0 {
            mantissa = mantissa << 4 | digit;
            if !before_point {
                exponent -= 4;
            }
        } else {
            // The mantissa is full (more bits than a double keeps): later digits only decide the rounding.
            sticky |= digit != 0;
            if before_point {
                exponent += 4;
            }
        }
    }
    if mantissa == 0 {
        return Some(0.0);
    }
    compose_binary_float(mantissa, exponent, sticky)
}

fn hex_value(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        _ => (c | 0x20) - b'a' + 10,
    }
}

/// Rounds `mantissa * 2^exponent` (+ a tail when `sticky`) to the nearest double, ties to even; `None` when that
/// overflows or underflows to zero (strtod's ERANGE cases). `mantissa` must be nonzero.
fn compose_binary_float(mantissa: u64, exponent: i64, sticky: bool) -> Option<f64> {
    const MANTISSA_BITS: i64 = 52;
    const LSB_EXPONENT_MIN: i64 = -1074;
    let width = 64 - i64::from(mantissa.leading_zeros());
    let top_exponent = exponent.saturating_add(width - 1);
    if top_exponent > 1023 {
        return None;
    }
    // Normal doubles keep 53 bits; below 2^-1022 the last kept bit stays at 2^-1074 (subnormals).
    let lsb_exponent = (top_exponent - MANTISSA_BITS).max(LSB_EXPONENT_MIN);
    let dropped_bits = lsb_exponent - exponent;
    let kept = if dropped_bits <= 0 {
        mantissa << -dropped_bits
    } else {
        round_half_even(u128::from(mantissa), dropped_bits.min(65) as u32, sticky)
    };
    if kept == 0 {
        return None;
    }
    // With the exponent field stacked above the 52 fraction bits, a carry out of the fraction (kept == 2^53) or a
    // subnormal reaching 2^52 moves into the exponent field, which is exactly the IEEE encoding of the result.
    let bits = (((lsb_exponent - LSB_EXPONENT_MIN) as u64) << MANTISSA_BITS) + kept;
    let value = f64::from_bits(bits);
    value.is_finite().then_some(value)
}

/// Drops the low `dropped_bits` (1..=65) bits of `mantissa`, rounding to nearest with ties to even.
fn round_half_even(mantissa: u128, dropped_bits: u32, sticky: bool) -> u64 {
    let kept = (mantissa >> dropped_bits) as u64;
    let remainder = mantissa & ((1u128 << dropped_bits) - 1);
    let half = 1u128 << (dropped_bits - 1);
    let round_up = remainder > half || (remainder == half && (sticky || kept & 1 == 1));
    kept + u64::from(round_up)
}

/// Appends `v` as Redis 7.0 prints a double reply: `printf("%.17g")`, with `inf`/`-inf` spelled out.
///
/// `addReplyDouble` (ZSCORE, WITHSCORES, RESP3 doubles) and `d2string` (zset listpack entries, GEO) produce the
/// same bytes for every value they are given: d2string's integer fast path prints what `%.17g` prints, and
/// both write `-0` for negative zero. NaN, which neither caller lets through, is written as d2string's `nan`.
pub fn write_double(out: &mut Vec<u8>, v: f64) {
    if v.is_nan() {
        out.extend_from_slice(b"nan");
        return;
    }
    if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 { b"inf" } else { b"-inf" });
        return;
    }
    // An integral value below 2^53 has at most 16 digits, which %.17g prints exactly and in fixed notation:
    // the integer itself (the usual score, and much cheaper than the digit generation below).
    const EXACT_INT_MAX: f64 = 9_007_199_254_740_992.0;
    if v.fract() == 0.0 && v.abs() < EXACT_INT_MAX {
        if v == 0.0 && v.is_sign_negative() {
            out.extend_from_slice(b"-0");
        } else {
            out.extend_from_slice(itoa::Buffer::new().format(v as i64).as_bytes());
        }
        return;
    }
    write_g(out, v, 17);
}

/// Appends finite `v` as C's `printf("%.<precision>g")` (precision 1 to 17): Lua's `tostring` is `%.14g`, and
/// so is lua-cjson's number encoding by default.
pub fn write_g(out: &mut Vec<u8>, v: f64, precision: usize) {
    let precision = precision.clamp(1, 17);
    // `{:.Ne}` gives the N+1 significant digits of %g, rounded the same way (exactly, ties to even); %g's
    // layout is then rebuilt from them. Writing into a Vec cannot fail.
    let start = out.len();
    let _ = write!(out, "{:.*e}", precision - 1, v.abs());
    let mut digits = [0u8; 17];
    let mut count = 0;
    let mut exponent = 0i32;
    for (i, &c) in out[start..].iter().enumerate() {
        match c {
            b'0'..=b'9' if count < digits.len() => {
                digits[count] = c;
                count += 1;
            }
            b'e' => {
                exponent = std::str::from_utf8(&out[start + i + 1..]).ok().and_then(|e| e.parse().ok()).unwrap_or(0);
                break;
            }
            _ => {}
        }
    }
    out.truncate(start);
    if v.is_sign_negative() {
        out.push(b'-');
    }
    write_g_layout(out, &digits[..count], exponent);
}

/// Lays out significant digits `d.ddd * 10^exponent` as `%g` does: fixed notation when -4 <= exponent < 17,
/// scientific otherwise (`e+XX`, at least two exponent digits), trailing fractional zeros removed.
fn write_g_layout(out: &mut Vec<u8>, digits: &[u8], exponent: i32) {
    let precision = digits.len() as i32;
    if (-4..precision).contains(&exponent) {
        if exponent < 0 {
            out.extend_from_slice(b"0.");
            out.extend(std::iter::repeat_n(b'0', (-exponent - 1) as usize));
            out.extend_from_slice(trim_zeros(digits));
        } else {
            let (int_part, frac_part) = digits.split_at(exponent as usize + 1);
            out.extend_from_slice(int_part);
            push_fraction(out, trim_zeros(frac_part));
        }
    } else {
        let (first, rest) = digits.split_at(1);
        out.extend_from_slice(first);
        push_fraction(out, trim_zeros(rest));
        out.extend_from_slice(if exponent < 0 { b"e-" } else { b"e+" });
        // Writing into a Vec cannot fail.
        let _ = write!(out, "{:02}", exponent.unsigned_abs());
    }
}

fn trim_zeros(digits: &[u8]) -> &[u8] {
    let len = digits.iter().rposition(|&c| c != b'0').map_or(0, |i| i + 1);
    &digits[..len]
}

fn push_fraction(out: &mut Vec<u8>, fraction: &[u8]) {
    if !fraction.is_empty() {
        out.push(b'.');
        out.extend_from_slice(fraction);
    }
}

/// Why INCRBYFLOAT failed; the comments give Redis's reply for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncrFloatError {
    /// The stored value or the increment is not a float: `-ERR value is not a valid float`.
    NotFloat,
    /// The sum is NaN or infinite: `-ERR increment would produce NaN or Infinity`.
    NanOrInfinity,
}

/// Why HINCRBYFLOAT failed, in the order Redis checks (increment first); the comments give Redis's reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HincrFloatError {
    /// The increment is not a float: `-ERR value is not a valid float`.
    IncrNotFloat,
    /// The increment is `inf` or `-inf`: `-ERR value is NaN or Infinity`.
    IncrNanOrInfinity,
    /// The field's value is not a float: `-ERR hash value is not a float`.
    HashValueNotFloat,
    /// The sum is NaN or infinite: `-ERR increment would produce NaN or Infinity`.
    NanOrInfinity,
}

/// INCRBYFLOAT's new value for stored value `current` plus `incr` (pass `b"0"` for a missing key: Redis starts
/// from 0, which is what strtold makes of "0"). The stored value is checked first, as in Redis.
pub fn incr_by_float(current: &[u8], incr: &[u8]) -> Result<Vec<u8>, IncrFloatError> {
    let (sum, status) = long_double_add(current, incr);
    if status & (STATUS_CURRENT_NOT_FLOAT | STATUS_INCR_NOT_FLOAT) != 0 {
        return Err(IncrFloatError::NotFloat);
    }
    if status != 0 {
        return Err(IncrFloatError::NanOrInfinity);
    }
    Ok(sum)
}

/// HINCRBYFLOAT's new value for field value `current` plus `incr` (pass `b"0"` for a missing field). Redis
/// validates the increment before it looks at the field, so the errors come in that order.
pub fn hincr_by_float(current: &[u8], incr: &[u8]) -> Result<Vec<u8>, HincrFloatError> {
    let (sum, status) = long_double_add(current, incr);
    let error = if status & STATUS_INCR_NOT_FLOAT != 0 {
        HincrFloatError::IncrNotFloat
    } else if status & STATUS_INCR_NOT_FINITE != 0 {
        HincrFloatError::IncrNanOrInfinity
    } else if status & STATUS_CURRENT_NOT_FLOAT != 0 {
        HincrFloatError::HashValueNotFloat
    } else if status != 0 {
        HincrFloatError::NanOrInfinity
    } else {
        return Ok(sum);
    };
    Err(error)
}

// Status bits returned (negated) by `ferrokv_incrbyfloat`; they must match longdouble.c, which also sets 8 when
// the sum is NaN or infinite (the only other way to fail, so Rust needs no name for it).
const STATUS_CURRENT_NOT_FLOAT: c_int = 1;
const STATUS_INCR_NOT_FLOAT: c_int = 2;
const STATUS_INCR_NOT_FINITE: c_int = 4;

unsafe extern "C" {
    /// Defined in longdouble.c: parses both operands with `string2ld`'s rules, adds them as `long double` and
    /// writes the `ld2string(LD_STR_HUMAN)` text into `out`. Returns the text's length, or minus the OR of the
    /// status bits when an operand is invalid or the sum is not finite.
    fn ferrokv_incrbyfloat(
        cur: *const c_char,
        cur_len: usize,
        incr: *const c_char,
        incr_len: usize,
        out: *mut c_char,
        out_cap: usize,
    ) -> c_int;
}

/// Runs the C addition; returns the printed sum, or an empty text and the status bits on failure.
fn long_double_add(current: &[u8], incr: &[u8]) -> (Vec<u8>, c_int) {
    let mut out = vec![0u8; LONG_DOUBLE_CHARS_MAX];
    // SAFETY: the C function reads exactly `current.len()` bytes from `current` and `incr.len()` bytes from `incr`
    // (it copies them into its own NUL-terminated stack buffer, so neither input needs a terminator), and writes
    // at most `out.len()` bytes into `out` (snprintf is bounded by `out_cap`). All three slices are live and
    // unaliased for the whole call, and the function keeps no pointer after it returns. It touches only errno,
    // which is thread-local, and no other global state.
    let rc = unsafe {
        ferrokv_incrbyfloat(
            current.as_ptr().cast(),
            current.len(),
            incr.as_ptr().cast(),
            incr.len(),
            out.as_mut_ptr().cast(),
            out.len(),
        )
    };
    match usize::try_from(rc) {
        Ok(len) => {
            out.truncate(len.min(LONG_DOUBLE_CHARS_MAX));
            (out, 0)
        }
        Err(_) => (Vec::new(), -rc),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atoi_is_glibcs() {
        let cases: &[(&[u8], i32)] = &[
            (b"6379", 6379),
            (b" \t+6379abc", 6379),
            (b"  -12abc", -12),
            (b"+7", 7),
            (b"-1", -1),
            (b"", 0),
            (b"abc", 0),
            (b"12\x0034", 12),
            (b"70000", 70000),
            (b"4294967297", 1),
            // strtol saturates at LONG_MAX (all ones below the sign), whose low 32 bits are -1 as an int.
            (b"99999999999999999999", -1),
            (b"-99999999999999999999", 0),
        ];
        for &(input, expected) in cases {
            assert_eq!(atoi(input), expected, "{:?}", String::from_utf8_lossy(input));
        }
    }

    /// An oracle case: operands and Redis's answer.
    type Case<E> = (&'static [u8], &'static [u8], Result<&'static [u8], E>);

    #[test]
    fn parse_i64_is_string2ll() {
        // Expected values are redis-server 7.0.15's: `SET k <input>` then `INCRBY k 0` (an error means None).
        let cases: &[(&[u8], Option<i64>)] = &[
            (b"0", Some(0)),
            (b"1", Some(1)),
            (b"-1", Some(-1)),
            (b"123456789", Some(123456789)),
            (b"9223372036854775807", Some(i64::MAX)),
            (b"-9223372036854775808", Some(i64::MIN)),
            (b"9223372036854775808", None),
            (b"-9223372036854775809", None),
            (b"18446744073709551615", None),
            (b"18446744073709551616", None),
            (b"-18446744073709551616", None),
            (b"99999999999999999999", None),
            (b"111111111111111111111", None),
            (b"-0", None),
            (b"+1", None),
            (b"01", None),
            (b"00", None),
            (b"0001", None),
            (b"-01", None),
            (b"", None),
            (b"-", None),
            (b" 1", None),
            (b"1 ", None),
            (b"12a", None),
            (b"1\0", None),
        ];
        for &(input, expected) in cases {
            assert_eq!(parse_i64(input), expected, "{:?}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn parse_f64_and_write_double_match_zadd_zscore() {
        // Expected values are redis-server 7.0.15's: `CONFIG SET zset-max-listpack-entries 0` (so the score is
        // kept as a double, not re-parsed from listpack text), `ZADD z <input> m`, then `ZSCORE z m`, which
        // replies with addReplyDouble's text (RESP2 and RESP3 print the same digits). None: ZADD replied
        // "ERR value is not a valid float".
        let cases: &[(&[u8], Option<&[u8]>)] = &[
            (b"0", Some(b"0")),
            (b"1", Some(b"1")),
            (b"-1", Some(b"-1")),
            (b"3", Some(b"3")),
            (b"10", Some(b"10")),
            (b"-123", Some(b"-123")),
            (b"0.1", Some(b"0.10000000000000001")),
            (b"0.2", Some(b"0.20000000000000001")),
            (b"0.3", Some(b"0.29999999999999999")),
            (b"1.1", Some(b"1.1000000000000001")),
            (b"2.5", Some(b"2.5")),
            (b"3.14159", Some(b"3.1415899999999999")),
            (b"1e15", Some(b"1000000000000000")),
            (b"1e16", Some(b"10000000000000000")),
            (b"1e17", Some(b"1e+17")),
            (b"123456789012345678", Some(b"1.2345678901234568e+17")),
            (b"9007199254740993", Some(b"9007199254740992")),
            (b"1e21", Some(b"1e+21")),
            (b"1e100", Some(b"1e+100")),
            (b"1e-4", Some(b"0.0001")),
            (b"1e-5", Some(b"1.0000000000000001e-05")),
            (b"0.00012345", Some(b"0.00012344999999999999")),
            (b"1.5e-5", Some(b"1.5e-05")),
            (b"123456789.123456789", Some(b"123456789.12345679")),
            (b"-0.0", Some(b"-0")),
            (b"0.0", Some(b"0")),
            (b"1e308", Some(b"1e+308")),
            (b"-1e308", Some(b"-1e+308")),
            (b"1e-308", Some(b"9.9999999999999991e-309")),
            (b"2.2250738585072014e-308", Some(b"2.2250738585072014e-308")),
            (b"5e-324", Some(b"4.9406564584124654e-324")),
            (b"1e-310", Some(b"9.9999999999999694e-311")),
            (b"1.7976931348623157e308", Some(b"1.7976931348623157e+308")),
            (b"inf", Some(b"inf")),
            (b"-inf", Some(b"-inf")),
            (b"+inf", Some(b"inf")),
            (b"infinity", Some(b"inf")),
            (b"INF", Some(b"inf")),
            (b"-Infinity", Some(b"-inf")),
            (b"1.00000762939453125", Some(b"1.0000076293945312")),
            (b"1.00002288818359375", Some(b"1.0000228881835938")),
            (b"4503599627370495", Some(b"4503599627370495")),
            (b"4503599627370496", Some(b"4503599627370496")),
            (b"-4503599627370495", Some(b"-4503599627370495")),
            (b"9223372036854775807", Some(b"9.2233720368547758e+18")),
            (b"0x1p3", Some(b"8")),
            (b"0x1.8p1", Some(b"3")),
            (b"0x1p-1074", Some(b"4.9406564584124654e-324")),
            (b"0x1.fffffffffffffp1023", Some(b"1.7976931348623157e+308")),
            (b"0x1.0000000000000801p0", Some(b"1.0000000000000002")),
            (b"0x1.00000000000008p0", Some(b"1")),
            (b"0x1.00000000000018p0", Some(b"1.0000000000000004")),
            (b"0x.8", Some(b"0.5")),
            (b"0X1P+2", Some(b"4")),
            (b"0x0p99999", Some(b"0")),
            (b"0x1p-1075", None),
            (b"0x1.8p-1075", Some(b"4.9406564584124654e-324")),
            (b"0x1p1024", None),
            (b"0x1.fffffffffffff8p1023", None),
            (b"0xABCDEF.123p-4", Some(b"703710.94194030762")),
            (b"+1.5", Some(b"1.5")),
            (b"1e3", Some(b"1000")),
            (b".5", Some(b"0.5")),
            (b"5.", Some(b"5")),
            (b"1.e2", Some(b"100")),
            (b"00012", Some(b"12")),
            (b"-.5", Some(b"-0.5")),
            (b"1e+5", Some(b"100000")),
            (b"1E-2", Some(b"0.01")),
            (b"0e-400", Some(b"0")),
            (b"0e400", Some(b"0")),
            (b"100000000000000000000000000000000000000000000000000e-50", Some(b"1")),
            (b"2.4703282292062328e-324", Some(b"4.9406564584124654e-324")),
            (b"1e400", None),
            (b"-1e400", None),
            (b"1e-400", None),
            (b"nan", None),
            (b"-nan", None),
            (b"NaN", None),
            (b"", None),
            (b" 1", None),
            (b"1 ", None),
            (b"1e", None),
            (b"0x", None),
            (b"0x1p", None),
            (b".", None),
            (b"-", None),
            (b"+", None),
            (b"1_0", None),
            (b"1,5", None),
            (b"0x1g", None),
            (b"  ", None),
            (b"1.7976931348623159e308", None),
            (b"2.4703282292062327e-324", None),
            (b"0.1e-5000", None),
            (b"+-1", None),
            (b"--1", None),
            (b"- 1", None),
            (b"0x-1", None),
            (b"1e1.5", None),
            (b"1.5f", None),
            (b"1d", None),
            (b"1\x00", None),
            (b"\x001", None),
            (b"\x0b1", None),
            (b"infinit", None),
            (b"infx", None),
            (b"0xp1", None),
            (b"0x.p1", None),
        ];
        for &(input, expected) in cases {
            let printed = parse_f64(input).map(|v| {
                let mut out = Vec::new();
                write_double(&mut out, v);
                out
            });
            assert_eq!(printed.as_deref(), expected, "{:?}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn random_doubles_round_trip_through_hex_decimal_and_write_double() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..5000 {
            // xorshift64, so a failure is reproducible.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let v = f64::from_bits(state);
            if !v.is_finite() {
                continue;
            }
            let fraction = state & ((1 << 52) - 1);
            let biased_exponent = (state >> 52) & 0x7ff;
            let sign = if v.is_sign_negative() { "-" } else { "" };
            let hex = if biased_exponent == 0 {
                format!("{sign}0x0.{fraction:013x}p-1022")
            } else {
                format!("{sign}0x1.{fraction:013x}p{}", biased_exponent as i64 - 1023)
            };
            let mut printed = Vec::new();
            write_double(&mut printed, v);
            for text in [hex.into_bytes(), format!("{v:e}").into_bytes(), printed] {
                // Subnormals included: strtod flags them ERANGE, but Redis only rejects a result of 0 or ±inf.
                let parsed = parse_f64(&text).map(f64::to_bits);
                assert_eq!(parsed, Some(v.to_bits()), "{}", String::from_utf8_lossy(&text));
            }
        }
    }

    #[test]
    fn write_double_edge_layouts() {
        let cases: &[(f64, &str)] = &[
            (f64::NAN, "nan"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (-0.0, "-0"),
            (1e16, "10000000000000000"),
            (9.999999999999999e16, "99999999999999984"),
            (1e-4, "0.0001"),
            (9.999999999999999e-5, "9.9999999999999991e-05"),
            (1e300, "1.0000000000000001e+300"),
            (-1.5e-7, "-1.4999999999999999e-07"),
            (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
        ];
        for &(v, expected) in cases {
            let mut out = b"prefix:".to_vec();
            write_double(&mut out, v);
            assert_eq!(String::from_utf8_lossy(&out), format!("prefix:{expected}"), "{v:e}");
        }
    }

    #[test]
    fn incr_by_float_matches_incrbyfloat() {
        use IncrFloatError::*;
        // Expected values are redis-server 7.0.15's: `SET k <current>` then `INCRBYFLOAT k <incr>`.
        let cases: &[Case<IncrFloatError>] = &[
            (b"0", b"0", Ok(b"0")),
            (b"1", b"0", Ok(b"1")),
            (b"-1", b"0", Ok(b"-1")),
            (b"3", b"0", Ok(b"3")),
            (b"10", b"0", Ok(b"10")),
            (b"-123", b"0", Ok(b"-123")),
            (b"9223372036854775807", b"0", Ok(b"9223372036854775807")),
            (b"-9223372036854775808", b"0", Ok(b"-9223372036854775808")),
            (b"18446744073709551616", b"0", Ok(b"18446744073709551616")),
            (b"0.1", b"0", Ok(b"0.1")),
            (b"0.3", b"0", Ok(b"0.3")),
            (b"1.1", b"0", Ok(b"1.1")),
            (b"3.14159", b"0", Ok(b"3.14159")),
            (b"1e17", b"0", Ok(b"100000000000000000")),
            (b"1e18", b"0", Ok(b"1000000000000000000")),
            (b"1e20", b"0", Ok(b"100000000000000000000")),
            (b"1e30", b"0", Ok(b"1000000000000000000024696061952")),
            (b"1.5e-5", b"0", Ok(b"0.000015")),
            (b"1e-17", b"0", Ok(b"0.00000000000000001")),
            (b"1e-18", b"0", Ok(b"0")),
            (b"-1e-18", b"0", Ok(b"0")),
            (b"0.000000000000000015", b"0", Ok(b"0.00000000000000002")),
            (b"123456789.123456789", b"0", Ok(b"123456789.12345678899873747")),
            (b"-0.0", b"0", Ok(b"0")),
            (b"-0", b"0", Ok(b"0")),
            (
                b"1e308",
                b"0",
                Ok(concat!(
                    "999999999999999999966858796558456456605600998474155672077970479949217348688380618721001269218885",
                    "393204467472250540132231521347495939605835974208144301964187679591000196031907786631096045071066",
                    "679391533957889389145605435630612683649016186302170865892534448816237913008557573181424245104527",
                    "28255046343928578048",
                )
                .as_bytes()),
            ),
            (b"1e-308", b"0", Ok(b"0")),
            (b"0x1p3", b"0", Ok(b"8")),
            (b"0x1.8p1", b"0", Ok(b"3")),
            (b"0X1P-2", b"0", Ok(b"0.25")),
            (b"+1.5", b"0", Ok(b"1.5")),
            (b"1E3", b"0", Ok(b"1000")),
            (b".5", b"0", Ok(b"0.5")),
            (b"5.", b"0", Ok(b"5")),
            (b"1.e2", b"0", Ok(b"100")),
            (b"00012", b"0", Ok(b"12")),
            (b"-.5", b"0", Ok(b"-0.5")),
            (b"0.1234567890123456789", b"0", Ok(b"0.12345678901234568")),
            (b"99999999999999999999.5", b"0", Ok(b"100000000000000000000")),
            (b"1e-7", b"0", Ok(b"0.0000001")),
            (b"10.5", b"0.1", Ok(b"10.6")),
            (b"0.1", b"0.2", Ok(b"0.3")),
            (b"1.1", b"2.2", Ok(b"3.3")),
            (b"3.0e3", b"1.0e3", Ok(b"4000")),
            (b"5.0e3", b"2.0e-3", Ok(b"5000.00199999999999978")),
            (b"1e17", b"1", Ok(b"100000000000000001")),
            (b"17179869184", b"0.1", Ok(b"17179869184.09999999962747097")),
            (b"-1.5", b"1.5", Ok(b"0")),
            (b"0", b"-0.0", Ok(b"0")),
            (b"100", b"-0.01", Ok(b"99.99")),
            (b"9223372036854775807", b"1", Ok(b"9223372036854775808")),
            (b"1", b"1e-20", Ok(b"1")),
            (b"-5", b"2.5", Ok(b"-2.5")),
            (b"2", b"0x1p-60", Ok(b"2")),
            (b"0", b"1e-4950", Ok(b"0")),
            (b"0.1", b"-0.1", Ok(b"0")),
            (
                b"1e308",
                b"1e308",
                Ok(concat!(
                    "199999999999999999993371759311691291321120199694831134415594095989843469737676123744200253843777",
                    "078640893494450108026446304269499187921167194841628860392837535918200039206381557326219209014213",
                    "335878306791577877829121087126122536729803237260434173178506889763247582601711514636284849020905",
                    "456510092687857156096",
                )
                .as_bytes()),
            ),
            (b"inf", b"0", Err(NanOrInfinity)),
            (b"-inf", b"0", Err(NanOrInfinity)),
            (b"infinity", b"0", Err(NanOrInfinity)),
            (b"1", b"inf", Err(NanOrInfinity)),
            (b"1", b"-inf", Err(NanOrInfinity)),
            (b"1e4932", b"1e4932", Err(NanOrInfinity)),
            (b"nan", b"0", Err(NotFloat)),
            (b"NaN", b"0", Err(NotFloat)),
            (b" 1", b"0", Err(NotFloat)),
            (b"1 ", b"0", Err(NotFloat)),
            (b"\x091", b"0", Err(NotFloat)),
            (b"", b"0", Err(NotFloat)),
            (b"-", b"0", Err(NotFloat)),
            (b"1e", b"0", Err(NotFloat)),
            (b"0x", b"0", Err(NotFloat)),
            (b"0x1p", b"0", Err(NotFloat)),
            (b"1e+", b"0", Err(NotFloat)),
            (b"abc", b"0", Err(NotFloat)),
            (b"1.2.3", b"0", Err(NotFloat)),
            (b"1e5000", b"0", Err(NotFloat)),
            (b"1e-5000", b"0", Err(NotFloat)),
            (b"0", b"1e-4960", Err(NotFloat)),
            (b"1", b"nan", Err(NotFloat)),
            (b"abc", b"1", Err(NotFloat)),
            (b"1", b"abc", Err(NotFloat)),
            (b"abc", b"inf", Err(NotFloat)),
            (b"1\x00abc", b"1", Err(NotFloat)),
            (b"1", b"2\x00x", Err(NotFloat)),
        ];
        for &(current, incr, expected) in cases {
            let got = incr_by_float(current, incr);
            assert_eq!(got.as_deref().map_err(|e| *e), expected, "{:?} + {:?}", current, incr);
        }
    }

    #[test]
    fn incr_by_float_operand_length_limit() {
        // redis-server 7.0.15: a 5119-byte operand parses, a 5120-byte one is "not a valid float".
        let mut operand = b"1.".to_vec();
        operand.resize(LONG_DOUBLE_CHARS_MAX - 1, b'0');
        assert_eq!(incr_by_float(&operand, b"0").as_deref(), Ok(&b"1"[..]));
        assert_eq!(incr_by_float(b"1", &operand).as_deref(), Ok(&b"2"[..]));
        operand.push(b'0');
        assert_eq!(incr_by_float(&operand, b"0"), Err(IncrFloatError::NotFloat));
        assert_eq!(incr_by_float(b"1", &operand), Err(IncrFloatError::NotFloat));
    }

    #[test]
    fn incr_by_float_prints_huge_sums_in_full() {
        // redis-server 7.0.15: `SET k 1e4000`, `INCRBYFLOAT k 0` prints all 4000 integer digits.
        let sum = incr_by_float(b"1e4000", b"0").expect("long double holds 1e4000");
        assert_eq!(sum.len(), 4000);
        assert!(sum.starts_with(b"99999999999999999999654638730996237849"));
        assert!(sum.ends_with(b"40672"));
        // LDBL_MAX still fits Redis's 5120-byte buffer: 4933 digits.
        assert_eq!(incr_by_float(b"1.18973149535723176502e+4932", b"0").map(|s| s.len()), Ok(4933));
    }

    #[test]
    fn hincr_by_float_checks_the_increment_first() {
        use HincrFloatError::*;
        // Expected values are redis-server 7.0.15's: `HSET h f <current>` then `HINCRBYFLOAT h f <incr>`.
        let cases: &[Case<HincrFloatError>] = &[
            (b"abc", b"1", Err(HashValueNotFloat)),
            (b"abc", b"inf", Err(IncrNanOrInfinity)),
            (b"abc", b"x", Err(IncrNotFloat)),
            (b"1", b"inf", Err(IncrNanOrInfinity)),
            (b"1", b"-inf", Err(IncrNanOrInfinity)),
            (b"1", b"x", Err(IncrNotFloat)),
            (b"inf", b"1", Err(NanOrInfinity)),
            (b"10.5", b"0.1", Ok(b"10.6")),
            (b"1e4932", b"1e4932", Err(NanOrInfinity)),
            (b"0", b"2.5", Ok(b"2.5")),
            (b"5", b"0x1p-2", Ok(b"5.25")),
        ];
        for &(current, incr, expected) in cases {
            let got = hincr_by_float(current, incr);
            assert_eq!(got.as_deref().map_err(|e| *e), expected, "{:?} + {:?}", current, incr);
        }
    }
}
