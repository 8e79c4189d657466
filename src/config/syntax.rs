//! Parsers for the value syntaxes of redis.conf, each with the exact acceptance rules of the C helper it
//! mirrors, because a value Redis accepts must be accepted here and vice versa.
//!
//! - [`yes_no`]: `yesnotoi` (case-insensitive `yes`/`no`).
//! - [`string_to_i64`]: `string2ll`, the strict integer syntax of integer configs (no `+`, no leading zeros,
//!   no spaces).
//! - [`memory_to_u64`]: `memtoull`, digits plus an optional unit (`b`, `k`=1000, `kb`=1024, `m`, `mb`, `g`,
//!   `gb`, any case), saturating and wrapping exactly as C does.
//! - [`strtoll_exact`]: `strtoll(s, &end, 10)` with `*end == '\0'`, the loose syntax of `save`;
//!   [`strtoll_octal_exact`] is the same in base 8 without saturation (`unixsocketperm`).
//! - [`keyspace_events_flags`] / [`keyspace_events_string`]: notify.c's flag letters both ways.

/// Bit values of notify-keyspace-events, as in Redis's server.h.
pub mod notify {
    pub const KEYSPACE: u32 = 1 << 0;
    pub const KEYEVENT: u32 = 1 << 1;
    pub const GENERIC: u32 = 1 << 2;
    pub const STRING: u32 = 1 << 3;
    pub const LIST: u32 = 1 << 4;
    pub const SET: u32 = 1 << 5;
    pub const HASH: u32 = 1 << 6;
    pub const ZSET: u32 = 1 << 7;
    pub const EXPIRED: u32 = 1 << 8;
    pub const EVICTED: u32 = 1 << 9;
    pub const STREAM: u32 = 1 << 10;
    /// Excluded from [`ALL`] on purpose, as in Redis.
    pub const KEY_MISS: u32 = 1 << 11;
    pub const MODULE: u32 = 1 << 13;
    /// Excluded from [`ALL`], as in Redis 7.0.
    pub const NEW: u32 = 1 << 14;
    /// What the `A` letter stands for.
    pub const ALL: u32 = GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;
}

/// `yes` → true, `no` → false, any case; anything else is `None`.
pub fn yes_no(v: &[u8]) -> Option<bool> {
    if v.eq_ignore_ascii_case(b"yes") {
        Some(true)
    } else if v.eq_ignore_ascii_case(b"no") {
        Some(false)
    } else {
        None
    }
}

/// Redis's `string2ll`: an optional `-`, then `0` alone or digits not starting with `0`, within i64, and
/// shorter than 21 bytes.
pub fn string_to_i64(v: &[u8]) -> Option<i64> {
    const LONG_STR_SIZE: usize = 21;
    if v.is_empty() || v.len() >= LONG_STR_SIZE {
        return None;
    }
    if v == b"0" {
        return Some(0);
    }
    let (negative, digits) = match v.strip_prefix(b"-") {
        Some(rest) => (true, rest),
        None => (false, v),
    };
    if !matches!(digits.first(), Some(b'1'..=b'9')) || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let magnitude = digits.iter().try_fold(0u64, |acc, d| acc.checked_mul(10)?.checked_add(u64::from(d - b'0')))?;
    if negative { 0i64.checked_sub_unsigned(magnitude) } else { i64::try_from(magnitude).ok() }
}

/// Redis's `memtoull`: leading digits (possibly none, which reads as 0) and a unit. Like the C code, a
/// number too big for u64 saturates (strtoull's ERANGE is not checked) and the unit multiplication wraps.
pub fn memory_to_u64(v: &[u8]) -> Option<u64> {
    // memtoull copies the digits into a 128-byte buffer and refuses numbers that do not fit.
    const DIGITS_MAX: usize = 127;
    let digits = v.iter().take_while(|b| b.is_ascii_digit()).count();
    let unit = &v[digits..];
    let multiplier: u64 = match unit.to_ascii_lowercase().as_slice() {
        b"" | b"b" => 1,
        b"k" => 1000,
        b"kb" => 1024,
        b"m" => 1000 * 1000,
        b"mb" => 1024 * 1024,
        b"g" => 1000 * 1000 * 1000,
        b"gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    if digits > DIGITS_MAX {
        return None;
    }
    let value = v[..digits].iter().fold(0u64, |acc, d| acc.saturating_mul(10).saturating_add(u64::from(d - b'0')));
    Some(value.wrapping_mul(multiplier))
}

/// `strtoll(v, &end, 10)` accepted only when `*end == '\0'`: optional leading C whitespace, an optional
/// sign and digits, saturating at the i64 limits. An empty string reads as 0 (strtoll consumes nothing
/// and `end` already points at the terminator), which `save` relies on.
pub fn strtoll_exact(v: &[u8]) -> Option<i64> {
    strtoll_whole(v, 10).map(|(value, _)| value)
}

/// `strtoll(v, &end, 8)` with `errno == 0 && *end == '\0'`, as OCTAL_CONFIG reads `unixsocketperm`: like
/// [`strtoll_exact`] in base 8, but a value beyond the i64 range is refused instead of saturated.
pub fn strtoll_octal_exact(v: &[u8]) -> Option<i64> {
    strtoll_whole(v, 8).filter(|&(_, overflowed)| !overflowed).map(|(value, _)| value)
}

/// strtoll over the whole of `v` in `radix` (at most 10): the saturated value and whether it saturated
/// (ERANGE).
fn strtoll_whole(v: &[u8], radix: u8) -> Option<(i64, bool)> {
    if v.is_empty() {
        return Some((0, false));
    }
    let start = v.iter().take_while(|&&b| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')).count();
    let rest = &v[start..];
    let (negative, digits) = match rest.first() {
        Some(b'-') => (true, &rest[1..]),
        Some(b'+') => (false, &rest[1..]),
        _ => (false, rest),
    };
    if digits.is_empty() || !digits.iter().all(|d| d.is_ascii_digit() && d - b'0' < radix) {
        return None;
    }
    let magnitude = digits.iter().fold(0i128, |acc, d| (acc * i128::from(radix) + i128::from(d - b'0')).min(1 << 64));
    let signed = if negative { -magnitude } else { magnitude };
    let clamped = signed.clamp(i128::from(i64::MIN), i128::from(i64::MAX));
    // Clamped into i64's range first, so the cast cannot truncate.
    Some((clamped as i64, clamped != signed))
}

/// notify.c's `keyspaceEventsStringToFlags`: `None` on a letter outside `Ag$lshzxeKEtmdn`.
pub fn keyspace_events_flags(classes: &[u8]) -> Option<u32> {
    classes.iter().try_fold(0, |flags, c| {
        let flag = match c {
            b'A' => notify::ALL,
            b'g' => notify::GENERIC,
            b'$' => notify::STRING,
            b'l' => notify::LIST,
            b's' => notify::SET,
            b'h' => notify::HASH,
            b'z' => notify::ZSET,
            b'x' => notify::EXPIRED,
            b'e' => notify::EVICTED,
            b'K' => notify::KEYSPACE,
            b'E' => notify::KEYEVENT,
            b't' => notify::STREAM,
            b'm' => notify::KEY_MISS,
            b'd' => notify::MODULE,
            b'n' => notify::NEW,
            _ => return None,
        };
        Some(flags | flag)
    })
}

/// notify.c's `keyspaceEventsFlagsToString`. Like Redis, `A` replaces the type letters, and `n` is only
/// shown next to them (so "An" renders as "A").
pub fn keyspace_events_string(flags: u32) -> String {
    const TYPE_LETTERS: [(u32, char); 11] = [
        (notify::GENERIC, 'g'),
        (notify::STRING, '$'),
        (notify::LIST, 'l'),
        (notify::SET, 's'),
        (notify::HASH, 'h'),
        (notify::ZSET, 'z'),
        (notify::EXPIRED, 'x'),
        (notify::EVICTED, 'e'),
        (notify::STREAM, 't'),
        (notify::MODULE, 'd'),
        (notify::NEW, 'n'),
    ];
    const TARGET_LETTERS: [(u32, char); 3] =
        [(notify::KEYSPACE, 'K'), (notify::KEYEVENT, 'E'), (notify::KEY_MISS, 'm')];
    let mut out = String::new();
    if flags & notify::ALL == notify::ALL {
        out.push('A');
    } else {
        out.extend(TYPE_LETTERS.iter().filter(|(f, _)| flags & f != 0).map(|(_, c)| c));
    }
    out.extend(TARGET_LETTERS.iter().filter(|(f, _)| flags & f != 0).map(|(_, c)| c));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yes_no_is_case_insensitive_and_strict() {
        assert_eq!(yes_no(b"yes"), Some(true));
        assert_eq!(yes_no(b"YeS"), Some(true));
        assert_eq!(yes_no(b"NO"), Some(false));
        assert_eq!(yes_no(b"y"), None);
        assert_eq!(yes_no(b"1"), None);
        assert_eq!(yes_no(b""), None);
        assert_eq!(yes_no(b"yes "), None);
    }

    #[test]
    fn string_to_i64_follows_string2ll() {
        assert_eq!(string_to_i64(b"0"), Some(0));
        assert_eq!(string_to_i64(b"10"), Some(10));
        assert_eq!(string_to_i64(b"-2"), Some(-2));
        assert_eq!(string_to_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(string_to_i64(b"-9223372036854775808"), Some(i64::MIN));
        for bad in ["", "-", "-0", "007", "+5", " 5", "5 ", "1k", "9223372036854775808", "1.5", "0x10"] {
            assert_eq!(string_to_i64(bad.as_bytes()), None, "{bad:?}");
        }
        // 21 bytes is too long even when the value would fit.
        assert_eq!(string_to_i64(b"-00000000000000000001"), None);
    }

    #[test]
    fn memory_to_u64_follows_memtoull() {
        assert_eq!(memory_to_u64(b"100"), Some(100));
        assert_eq!(memory_to_u64(b"5b"), Some(5));
        assert_eq!(memory_to_u64(b"5B"), Some(5));
        assert_eq!(memory_to_u64(b"1k"), Some(1000));
        assert_eq!(memory_to_u64(b"1KB"), Some(1024));
        assert_eq!(memory_to_u64(b"2m"), Some(2_000_000));
        assert_eq!(memory_to_u64(b"2Mb"), Some(2 << 20));
        assert_eq!(memory_to_u64(b"3g"), Some(3_000_000_000));
        assert_eq!(memory_to_u64(b"3gB"), Some(3 << 30));
        assert_eq!(memory_to_u64(b"0005"), Some(5));
        // No digits reads as zero, as in C.
        assert_eq!(memory_to_u64(b""), Some(0));
        assert_eq!(memory_to_u64(b"kb"), Some(0));
        // Saturation, then a wrapping multiplication: what redis-server 7.0.15 reports.
        assert_eq!(memory_to_u64(b"99999999999999999999999"), Some(u64::MAX));
        assert_eq!(memory_to_u64(b"18446744073709551615gb"), Some(18446744072635809792));
        assert_eq!(memory_to_u64("1".repeat(127).as_bytes()), Some(u64::MAX));
        assert_eq!(memory_to_u64("1".repeat(128).as_bytes()), None);
        for bad in ["-1", "+5", " 5", "1.5mb", "1x", "1kbb", "k1"] {
            assert_eq!(memory_to_u64(bad.as_bytes()), None, "{bad:?}");
        }
    }

    #[test]
    fn strtoll_exact_is_loose_like_strtoll() {
        assert_eq!(strtoll_exact(b"10"), Some(10));
        assert_eq!(strtoll_exact(b"010"), Some(10));
        assert_eq!(strtoll_exact(b"+1"), Some(1));
        assert_eq!(strtoll_exact(b" \t7"), Some(7));
        assert_eq!(strtoll_exact(b"-0"), Some(0));
        assert_eq!(strtoll_exact(b""), Some(0));
        assert_eq!(strtoll_exact(b"99999999999999999999"), Some(i64::MAX));
        assert_eq!(strtoll_exact(b"-99999999999999999999"), Some(i64::MIN));
        for bad in ["5x", "5 ", " ", "-", "+", "1.0"] {
            assert_eq!(strtoll_exact(bad.as_bytes()), None, "{bad:?}");
        }
    }

    #[test]
    fn strtoll_octal_exact_refuses_overflow_and_non_octal_digits() {
        assert_eq!(strtoll_octal_exact(b"777"), Some(0o777));
        assert_eq!(strtoll_octal_exact(b"0700"), Some(0o700));
        assert_eq!(strtoll_octal_exact(b" -1"), Some(-1));
        assert_eq!(strtoll_octal_exact(b""), Some(0));
        assert_eq!(strtoll_octal_exact(b"777777777777777777777"), Some(i64::MAX));
        for bad in ["8", "79", "1777777777777777777777", "7 ", "0x7"] {
            assert_eq!(strtoll_octal_exact(bad.as_bytes()), None, "{bad:?}");
        }
    }

    #[test]
    fn keyspace_events_round_trip_like_redis() {
        let render = |s: &str| keyspace_events_flags(s.as_bytes()).map(keyspace_events_string);
        // Pairs observed on redis-server 7.0.15 (CONFIG SET then CONFIG GET).
        assert_eq!(render("KEA").as_deref(), Some("AKE"));
        assert_eq!(render("Kx").as_deref(), Some("xK"));
        assert_eq!(render("gg").as_deref(), Some("g"));
        assert_eq!(render("ln").as_deref(), Some("ln"));
        assert_eq!(render("g$lshzxetd").as_deref(), Some("A"));
        assert_eq!(render("g$lshzxetdn").as_deref(), Some("A"));
        assert_eq!(render("mEKA").as_deref(), Some("AKEm"));
        assert_eq!(render("").as_deref(), Some(""));
        assert_eq!(render("Q"), None);
        assert_eq!(render("KEa"), None);
    }
}
