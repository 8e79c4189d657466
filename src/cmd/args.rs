//! `Args`, the one cursor over a command's arguments, reading them with Redis's rules and error texts.
//!
//! A handler starts one with `ctx.args()` (just after the command's name) or `ctx.sub_args()` (after a
//! subcommand's name) and reads left to right, as Redis's handlers walk `c->argv`:
//!
//! - `next_key`, `next_bytes`: the next argument as it is (a key, a value, a pattern).
//! - `next_int` (`string2ll`: `ERR value is not an integer or out of range`; `next_int_or` with a message
//!   of the command's own), `next_int_in` (Redis's
//!   getRangeLongFromObjectOrReply without a message: a range error naming the bounds) and `next_int_in_or`
//!   (with a message, used for both failures); `next_float` (`strtod` with Redis's checks:
//!   `ERR value is not a valid float`); `next_timeout` (a blocking command's timeout); `next_cursor` (a SCAN
//!   cursor, `strtoul`'s rules).
//! - `next_keyword`, `next_option`, `eat`: an option name, compared as `strcasecmp` compares it (below).
//! - `peek`, `rest` (every argument left, as a slice), `take` (the next `n`), `remaining`, and `finish`
//!   (`ERR syntax error` if anything is left).
//!
//! Running out of arguments is `ERR syntax error`: that is what Redis answers for an option without its
//! value, and a fixed position is already guaranteed by the arity check in dispatch.
//!
//! Keywords versus numbers: Redis compares option names with `strcasecmp` on the C string, which ends at the
//! first NUL byte, so `SET k v "NX\0junk"` is `SET k v NX` to Redis and is here ([`Keyword`]). Numbers are
//! read from the whole argument (`string2ll` and the checks after `strtod` use the sds length), so `"5\0"`
//! is not a number. Subcommand names are not keywords: dispatch finds them in a table, as Redis finds them in
//! a dict hashed over the full length.
//!
//! Nothing here allocates on success: the cursor borrows argv and returns references into it.

use bytes::Bytes;

use super::errors::{self, CmdError, CmdResult};
use crate::util::num;

/// A cursor over argv; `at` is the index of the next argument to read.
#[derive(Debug, Clone)]
pub struct Args<'a> {
    argv: &'a [Bytes],
    at: usize,
}

impl<'a> Args<'a> {
    /// A cursor over `argv` whose first unread argument is `argv[at]`.
    pub fn new(argv: &'a [Bytes], at: usize) -> Args<'a> {
        Args { argv, at: at.min(argv.len()) }
    }

    /// The next argument as it is.
    pub fn next_bytes(&mut self) -> Result<&'a Bytes, CmdError> {
        let arg = self.argv.get(self.at).ok_or_else(|| CmdError::from(errors::SYNTAX))?;
        self.at += 1;
        Ok(arg)
    }

    /// The next argument, which names a key (the same read as `next_bytes`; the name says what it is).
    pub fn next_key(&mut self) -> Result<&'a Bytes, CmdError> {
        self.next_bytes()
    }

    /// The next argument as a strict 64-bit integer (Redis's `string2ll`).
    pub fn next_int(&mut self) -> Result<i64, CmdError> {
        int(self.next_bytes()?)
    }

    /// The next argument as a strict 64-bit integer, and `msg` when it is not one (getLongLongFromObjectOrReply
    /// with a message).
    pub fn next_int_or(&mut self, msg: &'static str) -> Result<i64, CmdError> {
        self.next_int_in_or(i64::MIN, i64::MAX, msg)
    }

    /// The next argument as an integer in `min..=max` (getRangeLongFromObjectOrReply without a message):
    /// `ERR value is out of range, value must between <min> and <max>` outside it.
    pub fn next_int_in(&mut self, min: i64, max: i64) -> Result<i64, CmdError> {
        let n = self.next_int()?;
        if (min..=max).contains(&n) {
            Ok(n)
        } else {
            Err(format!("ERR value is out of range, value must between {min} and {max}").into())
        }
    }

    /// The next argument as an integer in `min..=max`, and `msg` when it is not one, whether not a number or
    /// out of range (getRangeLongFromObjectOrReply with a message).
    pub fn next_int_in_or(&mut self, min: i64, max: i64, msg: &'static str) -> Result<i64, CmdError> {
        let arg = self.next_bytes()?;
        num::parse_i64(arg).filter(|n| (min..=max).contains(n)).ok_or_else(|| msg.into())
    }

    /// The next argument as a double (`strtod` plus Redis's checks; see `num::parse_f64`).
    pub fn next_float(&mut self) -> Result<f64, CmdError> {
        num::parse_f64(self.next_bytes()?).ok_or_else(|| errors::NOT_FLOAT.into())
    }

    /// The next argument as a blocking command's timeout in seconds: the deadline in unix ms, or `None` for 0
    /// (block forever). See [`timeout`].
    pub fn next_timeout(&mut self, now_ms: i64) -> Result<Option<i64>, CmdError> {
        timeout(self.next_bytes()?, now_ms)
    }

    /// The next argument as a SCAN cursor (`strtoul`'s rules, see [`scan_cursor`]): `ERR invalid cursor`.
    pub fn next_cursor(&mut self) -> Result<u64, CmdError> {
        scan_cursor(self.next_bytes()?).ok_or_else(|| errors::INVALID_CURSOR.into())
    }

    /// The next argument as an option keyword.
    pub fn next_keyword(&mut self) -> Result<Keyword<'a>, CmdError> {
        self.next_bytes().map(|arg| Keyword::of(arg))
    }

    /// The next argument as an option keyword, or `None` at the end: the head of an option loop,
    /// `while let Some(option) = args.next_option() { ... }`.
    pub fn next_option(&mut self) -> Option<Keyword<'a>> {
        self.next_keyword().ok()
    }

    /// Reads the next argument if it is the keyword `name`; leaves the cursor alone otherwise.
    pub fn eat(&mut self, name: &str) -> bool {
        let found = self.peek().is_some_and(|arg| Keyword::of(arg).is(name));
        self.at += usize::from(found);
        found
    }

    /// The next argument, without reading it.
    pub fn peek(&self) -> Option<&'a Bytes> {
        self.argv.get(self.at)
    }

    /// Reads every argument left.
    pub fn rest(&mut self) -> &'a [Bytes] {
        let rest = &self.argv[self.at..];
        self.at = self.argv.len();
        rest
    }

    /// Reads the next `n` arguments, or `None` (reading nothing) if fewer are left.
    pub fn take(&mut self, n: usize) -> Option<&'a [Bytes]> {
        let end = self.at.checked_add(n).filter(|&end| end <= self.argv.len())?;
        let taken = &self.argv[self.at..end];
        self.at = end;
        Some(taken)
    }

    /// How many arguments are left.
    pub fn remaining(&self) -> usize {
        self.argv.len() - self.at
    }

    /// `numkeys key...`: a numkeys of at least 1 (else `range_error`), then that many keys (a syntax error
    /// when fewer are left), as LMPOP, ZMPOP and the ZUNION family read them.
    pub fn numkeys_keys(&mut self, range_error: &'static str) -> Result<&'a [Bytes], CmdError> {
        let numkeys = self.next_int_in_or(1, i64::MAX, range_error)?;
        usize::try_from(numkeys).ok().and_then(|n| self.take(n)).ok_or_else(|| errors::SYNTAX.into())
    }

    /// The rest as LMPOP's and ZMPOP's `[COUNT n]` (n at least 1): 1 when absent, a syntax error for anything
    /// else or a second COUNT.
    pub fn mpop_count(&mut self) -> Result<usize, CmdError> {
        let mut count = None;
        while let Some(option) = self.next_option() {
            if count.is_none() && option.is("count") && self.remaining() > 0 {
                count = Some(self.next_int_in_or(1, i64::MAX, errors::MPOP_COUNT_RANGE)? as usize);
            } else {
                return Err(errors::SYNTAX.into());
            }
        }
        Ok(count.unwrap_or(1))
    }

    /// `ERR syntax error` if any argument is left.
    pub fn finish(&self) -> CmdResult {
        if self.remaining() == 0 { Ok(()) } else { Err(errors::SYNTAX.into()) }
    }
}

/// An argument read as an option keyword: its bytes up to the first NUL, which is all of it that C's
/// `strcasecmp` (and `%s` in an error text) sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keyword<'a>(&'a [u8]);

impl<'a> Keyword<'a> {
    pub fn of(arg: &'a [u8]) -> Keyword<'a> {
        Keyword(errors::c_str(arg, usize::MAX))
    }

    /// Whether this is the option `name`, compared as `strcasecmp(arg, name) == 0` (ASCII case folding).
    pub fn is(self, name: &str) -> bool {
        self.0.eq_ignore_ascii_case(name.as_bytes())
    }

    /// The value paired with this keyword's name in `choices`, if any.
    pub fn pick<T: Copy>(self, choices: &[(&str, T)]) -> Option<T> {
        choices.iter().find(|(name, _)| self.is(name)).map(|&(_, value)| value)
    }

    /// The C string, for error texts that quote the option as Redis's `%s` does.
    pub fn as_bytes(self) -> &'a [u8] {
        self.0
    }
}

/// An argument read as a strict 64-bit integer (Redis's `string2ll`: `ERR value is not an integer or out of
/// range`), for the few handlers that must check other arguments before this one's value (EXPIRE's options
/// come before its time, as in Redis).
pub fn int(arg: &[u8]) -> Result<i64, CmdError> {
    num::parse_i64(arg).ok_or_else(|| errors::NOT_INTEGER.into())
}

/// A SCAN cursor read as Redis reads it with `strtoul` (parseScanCursorOrReply): an optional sign (a minus
/// negates modulo 2^64), decimal digits, nothing after them up to the first NUL, no leading space, and no
/// overflow. The empty string is cursor 0.
fn scan_cursor(arg: &[u8]) -> Option<u64> {
    let text = errors::c_str(arg, usize::MAX);
    let (negative, digits) = match text.first() {
        None => return Some(0),
        Some(b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') => return None,
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        Some(_) => (false, text),
    };
    if digits.is_empty() {
        return None;
    }
    let mut cursor: u64 = 0;
    for &c in digits {
        let digit = char::from(c).to_digit(10)?;
        cursor = cursor.checked_mul(10)?.checked_add(u64::from(digit))?;
    }
    Some(if negative { cursor.wrapping_neg() } else { cursor })
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

/// Argv for unit tests from space-separated words, where `\0` in a word stands for a NUL byte.
#[cfg(test)]
pub(crate) fn test_argv(words: &str) -> Vec<Bytes> {
    words.split_whitespace().map(|word| Bytes::from(word.replace("\\0", "\0"))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&[u8]]) -> Vec<Bytes> {
        words.iter().map(|w| Bytes::copy_from_slice(w)).collect()
    }

    fn err<T: std::fmt::Debug>(result: Result<T, CmdError>) -> String {
        result.unwrap_err().text()
    }

    #[test]
    fn reads_in_order_and_runs_out_with_a_syntax_error() {
        let argv = argv(&[b"cmd", b"k", b"v"]);
        let mut args = Args::new(&argv, 1);
        assert_eq!((args.remaining(), args.peek().map(|a| &a[..])), (2, Some(&b"k"[..])));
        assert_eq!(&args.next_key().unwrap()[..], b"k");
        assert_eq!(err(args.finish()), errors::SYNTAX);
        assert_eq!(&args.next_bytes().unwrap()[..], b"v");
        assert_eq!((args.remaining(), args.peek(), args.finish()), (0, None, Ok(())));
        assert_eq!(err(args.next_bytes()), errors::SYNTAX);
        assert_eq!(err(args.next_int()), errors::SYNTAX);
        assert_eq!(args.next_option(), None);
        assert!(Args::new(&argv, 9).rest().is_empty());
    }

    #[test]
    fn rest_and_take_hand_out_slices_of_argv() {
        let argv = argv(&[b"cmd", b"a", b"b", b"c"]);
        let mut args = Args::new(&argv, 1);
        assert_eq!(args.take(4), None);
        assert_eq!(args.take(usize::MAX), None);
        assert_eq!(args.take(2), Some(&argv[1..3]));
        assert_eq!(args.take(0), Some(&argv[3..3]));
        assert_eq!(args.rest(), &argv[3..]);
        assert_eq!((args.remaining(), args.rest().len()), (0, 0));
    }

    #[test]
    fn integers_follow_string2ll_and_redis_range_texts() {
        let argv = argv(&[b"cmd", b"42", b"-0", b"5\0", b"9223372036854775808", b"7", b"7", b"x", b"-5"]);
        let mut args = Args::new(&argv, 1);
        assert_eq!(args.next_int(), Ok(42));
        assert_eq!(err(args.next_int()), errors::NOT_INTEGER);
        assert_eq!(err(args.next_int()), errors::NOT_INTEGER);
        assert_eq!(err(args.next_int()), errors::NOT_INTEGER);
        assert_eq!(
            err(args.next_int_in(i32::MIN.into(), 6)),
            "ERR value is out of range, value must between -2147483648 and 6"
        );
        assert_eq!(args.next_int_in(-i64::MAX, i64::MAX), Ok(7));
        assert_eq!(err(args.next_int_in_or(0, i64::MAX, "ERR m")), "ERR m");
        assert_eq!(err(args.next_int_in_or(0, i64::MAX, "ERR m")), "ERR m");
        let argv = test_argv("cmd -9223372036854775808 1.0");
        let mut args = Args::new(&argv, 1);
        assert_eq!(args.next_int_or("ERR m"), Ok(i64::MIN));
        assert_eq!(err(args.next_int_or("ERR m")), "ERR m");
    }

    #[test]
    fn floats_follow_strtod_with_redis_checks() {
        let argv = argv(&[b"cmd", b"1.5", b"-inf", b"nan", b"1.5\0", b" 1"]);
        let mut args = Args::new(&argv, 1);
        assert_eq!(args.next_float(), Ok(1.5));
        assert_eq!(args.next_float(), Ok(f64::NEG_INFINITY));
        for _ in 0..3 {
            assert_eq!(err(args.next_float()), errors::NOT_FLOAT);
        }
    }

    #[test]
    fn cursors_follow_strtoul() {
        assert_eq!(scan_cursor(b"0"), Some(0));
        assert_eq!(scan_cursor(b""), Some(0));
        assert_eq!(scan_cursor(b"+17"), Some(17));
        assert_eq!(scan_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(scan_cursor(b"-18446744073709551615"), Some(1));
        assert_eq!(scan_cursor(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(scan_cursor(b"18446744073709551616"), None);
        assert_eq!(scan_cursor(b"5\0junk"), Some(5));
        for bad in [&b" 1"[..], b"\x0b1", b"1 ", b"-", b"+", b"x", b"0x10", b"1.0"] {
            assert_eq!(scan_cursor(bad), None, "{bad:?}");
        }
        let argv = argv(&[b"scan", b"x"]);
        assert_eq!(err(Args::new(&argv, 1).next_cursor()), errors::INVALID_CURSOR);
    }

    #[test]
    fn timeouts_become_deadlines() {
        let argv = argv(&[b"cmd", b"0", b"1.5", b"-1", b"x", b"inf"]);
        let mut args = Args::new(&argv, 1);
        assert_eq!(args.next_timeout(1000), Ok(None));
        assert_eq!(args.next_timeout(1000), Ok(Some(2500)));
        assert_eq!(err(args.next_timeout(1000)), errors::TIMEOUT_NEGATIVE);
        assert_eq!(err(args.next_timeout(1000)), errors::TIMEOUT_NOT_FLOAT);
        assert_eq!(err(args.next_timeout(1000)), errors::TIMEOUT_NEGATIVE);
    }

    #[test]
    fn keywords_compare_as_strcasecmp_on_c_strings() {
        // Each case was checked against redis-server 7.0.15: `SET k v NX\0junk` is `+OK`, `NXjunk` and
        // `N\0X` are syntax errors.
        assert!(Keyword::of(b"NX\0junk").is("nx"));
        assert!(Keyword::of(b"nX").is("nx") && Keyword::of(b"nx\0").is("NX"));
        assert!(!Keyword::of(b"NXjunk").is("nx") && !Keyword::of(b"N\0X").is("nx") && !Keyword::of(b"").is("nx"));
        assert!(Keyword::of(b"\0nx").is(""));
        assert_eq!(Keyword::of(b"Foo\0bar").as_bytes(), b"Foo");
        assert_eq!(Keyword::of(b"Right").pick(&[("left", 1), ("right", 2)]), Some(2));
        assert_eq!(Keyword::of(b"up").pick(&[("left", 1), ("right", 2)]), None);
    }

    #[test]
    fn eat_reads_only_a_matching_keyword() {
        let argv = argv(&[b"cmd", b"WITHSCORES\0x", b"limit"]);
        let mut args = Args::new(&argv, 1);
        assert!(!args.eat("limit"));
        assert!(args.eat("withscores"));
        assert_eq!(args.next_option().map(Keyword::as_bytes), Some(&b"limit"[..]));
        assert!(!args.eat("limit"));
    }
}
