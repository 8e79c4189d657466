//! Argument parsing helpers with Redis's error texts, so handlers read as `let n = args::int(ctx.arg(2))?;`.

use super::errors::{self, CmdError};
use crate::util::num;

/// A strict 64-bit integer argument (`ERR value is not an integer or out of range`).
pub fn int(arg: &[u8]) -> Result<i64, CmdError> {
    num::parse_i64(arg).ok_or_else(|| errors::NOT_INTEGER.into())
}

/// An integer argument that must lie in `min..=max`, else `msg`.
pub fn int_in(arg: &[u8], min: i64, max: i64, msg: &'static str) -> Result<i64, CmdError> {
    match num::parse_i64(arg) {
        Some(n) if (min..=max).contains(&n) => Ok(n),
        Some(_) => Err(msg.into()),
        None => Err(errors::NOT_INTEGER.into()),
    }
}

/// A float argument (`ERR value is not a valid float`).
pub fn float(arg: &[u8]) -> Result<f64, CmdError> {
    num::parse_f64(arg).ok_or_else(|| errors::NOT_FLOAT.into())
}

/// Case-insensitive comparison of an argument with an option name.
pub fn is(arg: &[u8], option: &str) -> bool {
    arg.eq_ignore_ascii_case(option.as_bytes())
}

/// A blocking command's timeout in seconds, as Redis 7.0 reads it: a `long double`, times 1000, truncated to
/// a C `long long`. Returns the deadline in unix ms, or `None` for 0 (block forever).
///
/// 7.0 casts without a range check; on x86 a value beyond `long long` (including `inf`) becomes LLONG_MIN and
/// is refused as negative, and a tiny negative such as -0.0001 truncates to 0, which blocks forever.
pub fn timeout(arg: &[u8], now_ms: i64) -> Result<Option<i64>, CmdError> {
    let secs = num::parse_f64_saturating(arg).ok_or(CmdError::from(errors::TIMEOUT_NOT_FLOAT))?;
    let ms = secs * 1000.0;
    if ms >= i64::MAX as f64 || ms <= -1.0 {
        return Err(errors::TIMEOUT_NEGATIVE.into());
    }
    Ok(match ms as i64 {
        0 => None,
        ms => Some(now_ms.saturating_add(ms)),
    })
}
