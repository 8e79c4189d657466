//! Log lines in redis-server's format: `<pid>:<role> <dd Mon yyyy HH:MM:SS.mmm> <level> <message>`.
//!
//! Tools wait for exact lines (testcontainers waits for `Ready to accept connections`), so the layout and the
//! level marks (`.` debug, `-` verbose, `*` notice, `#` warning) are Redis's. Like Redis, the log file is
//! opened for each line, so rotating it needs no signal. Times are UTC.

use std::io::Write;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, Ordering};

/// Severity, lowest first: the config's `loglevel` values.
pub use crate::config::LogLevel as Level;

static MIN_LEVEL: AtomicU8 = AtomicU8::new(Level::Notice as u8);
static LOG_FILE: OnceLock<String> = OnceLock::new();

/// Sets the level filter and the file (empty = stdout). The file can be set once; the level at any time.
pub fn init(level: Level, logfile: &str) {
    set_level(level);
    let _ = LOG_FILE.set(logfile.to_string());
}

pub fn set_level(level: Level) {
    MIN_LEVEL.store(level as u8, Ordering::Relaxed);
}

/// Writes one line with role `M` (master), unless filtered out by level.
pub fn log(level: Level, msg: std::fmt::Arguments<'_>) {
    log_as('M', level, msg)
}

/// Writes one line with the given role mark (`C` before the server is set up, as Redis does).
pub fn log_as(role: char, level: Level, msg: std::fmt::Arguments<'_>) {
    if (level as u8) < MIN_LEVEL.load(Ordering::Relaxed) {
        return;
    }
    let mark = ['.', '-', '*', '#'][level as usize];
    let line = format!("{}:{} {} {} {}\n", std::process::id(), role, timestamp(crate::clock::unix_ms()), mark, msg);
    match LOG_FILE.get().map(String::as_str) {
        Some(path) if !path.is_empty() => {
            if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
                let _ = f.write_all(line.as_bytes());
            }
        }
        _ => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(line.as_bytes());
            let _ = out.flush();
        }
    }
}

/// `23 Nov 2026 07:25:01.123` for a Unix time in milliseconds.
pub fn timestamp(unix_ms: i64) -> String {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let secs = unix_ms.div_euclid(1000);
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    format!(
        "{:02} {} {} {:02}:{:02}:{:02}.{:03}",
        day,
        MONTHS[(month - 1) as usize],
        year,
        sod / 3600,
        sod % 3600 / 60,
        sod % 60,
        unix_ms.rem_euclid(1000)
    )
}

/// Days since 1970-01-01 to (year, month 1..=12, day 1..=31), Howard Hinnant's `civil_from_days`.
pub(crate) fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `log!(Notice, "Ready to accept connections")`.
#[macro_export]
macro_rules! log {
    ($level:ident, $($arg:tt)*) => {
        $crate::log::log($crate::log::Level::$level, format_args!($($arg)*))
    };
}

/// At most one line per `interval`, for warnings a client can trigger at will (Redis's cross-protocol
/// warning, accept errors), so an attacker cannot fill the disk with the same line.
#[derive(Debug)]
pub struct Throttle {
    interval: std::time::Duration,
    last: Option<std::time::Instant>,
}

impl Throttle {
    pub const fn new(interval: std::time::Duration) -> Throttle {
        Throttle { interval, last: None }
    }

    /// Whether a line may be written at `now`; if so, the next one must wait `interval` from now.
    pub fn ready(&mut self, now: std::time::Instant) -> bool {
        if self.last.is_some_and(|at| now.duration_since(at) < self.interval) {
            return false;
        }
        self.last = Some(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::{Throttle, timestamp};

    #[test]
    fn throttle_lets_one_line_through_per_interval() {
        let start = std::time::Instant::now();
        let second = std::time::Duration::from_secs(1);
        let mut throttle = Throttle::new(second);
        let at = |ms| start + std::time::Duration::from_millis(ms);
        assert_eq!(
            [0, 1, 999, 1000, 1500, 2001].map(|ms| throttle.ready(at(ms))),
            [true, false, false, true, false, true]
        );
    }

    #[test]
    fn formats_like_redis() {
        assert_eq!(timestamp(0), "01 Jan 1970 00:00:00.000");
        // 2026-11-23 07:25:01.123 UTC
        assert_eq!(timestamp(1_795_418_701_123), "23 Nov 2026 07:25:01.123");
        assert_eq!(timestamp(951_782_400_000), "29 Feb 2000 00:00:00.000");
    }
}
