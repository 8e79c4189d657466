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
