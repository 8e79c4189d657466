//! Output buffer limits: which `client-output-buffer-limit` class a session is in, and whether its unsent
//! replies passed that class's hard limit, or its soft limit for longer than the soft seconds
//! (Redis's `checkClientOutputBufferLimits`). The event loop asks after each command and before each write
//! (`server::client_limits`), and closes the client with Redis's log line when the answer is yes.
//!
//! A client that must AUTH and has not yet is held to [`UNAUTH_OUTPUT_BYTES_MAX`] whatever its class says
//! (the CVE-2025-21605 fix of Redis 7.2.8/7.4.3), so a client without the password can no longer make the
//! server hold its replies (`-NOAUTH` errors it never reads) without bound.
//!
//! As in Redis, the bytes counted are those beyond the 16 KiB a client's static reply buffer holds (Redis's
//! `omem`, the reply list), and the soft-limit clock is in whole seconds.

use super::session::Session;
use crate::config::{OutputBufferLimit, OutputBufferLimits};

/// Replies Redis keeps in a client's fixed buffer (PROTO_REPLY_CHUNK_BYTES), which no limit counts.
pub const STATIC_REPLY_BYTES: usize = 16 * 1024;
/// Most reply bytes (beyond the static buffer) a client that still has to AUTH may leave unread
/// (Redis's REPLY_BUFFER_SIZE_UNAUTHENTICATED_CLIENT).
pub const UNAUTH_OUTPUT_BYTES_MAX: usize = 1024;

/// The class whose `client-output-buffer-limit` applies to a session (Redis's getClientType, masters
/// counted as normal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputClass {
    Normal,
    Replica,
    Pubsub,
}

impl OutputClass {
    /// This class's limits in the configuration.
    pub fn limits(self, all: &OutputBufferLimits) -> OutputBufferLimit {
        match self {
            OutputClass::Normal => all.normal,
            OutputClass::Replica => all.replica,
            OutputClass::Pubsub => all.pubsub,
        }
    }
}

impl Session {
    /// The session's output-limit class, as Redis's getClientType: `Pubsub` while subscribed to any channel,
    /// pattern or shard channel (under RESP2 or RESP3: Redis's CLIENT_PUBSUB flag), `Replica` once SYNC or
    /// PSYNC attached it, else `Normal`.
    pub fn output_class(&self) -> OutputClass {
        if self.is_replica() {
            OutputClass::Replica
        } else if self.is_subscribed() {
            OutputClass::Pubsub
        } else {
            OutputClass::Normal
        }
    }

    /// The reply bytes the limits count: those unsent beyond the static buffer.
    pub fn output_limited_bytes(&self) -> usize {
        self.reply_pending().saturating_sub(STATIC_REPLY_BYTES)
    }

    /// Whether the session's unsent replies are over its limits at `now_s` (Unix seconds); keeps the time the
    /// soft limit was first passed, and forgets it once the output is back under it.
    pub fn output_limit_reached(&mut self, all: &OutputBufferLimits, now_s: i64) -> bool {
        let used = self.output_limited_bytes() as u64;
        // HTTP requests authenticate one by one (a Bearer header each), so the rule is RESP's.
        if !self.authenticated && !self.is_http() && used > UNAUTH_OUTPUT_BYTES_MAX as u64 {
            return true;
        }
        let limit = self.output_class().limits(all);
        let hard = limit.hard_bytes > 0 && used >= limit.hard_bytes;
        let over_soft = limit.soft_bytes > 0 && used >= limit.soft_bytes;
        let soft = match (over_soft, self.soft_limit_since_s) {
            (false, _) => {
                self.soft_limit_since_s = None;
                false
            }
            (true, None) => {
                self.soft_limit_since_s = Some(now_s);
                false
            }
            (true, Some(since)) => now_s - since > i64::from(limit.soft_seconds),
        };
        hard || soft
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session_with_pending(bytes: usize, authenticated: bool) -> Session {
        let mut session = Session::new(1, None, 0, authenticated);
        session.reply.buf.resize(bytes, b'x');
        session
    }

    fn limits(hard_bytes: u64, soft_bytes: u64, soft_seconds: u32) -> OutputBufferLimits {
        let normal = OutputBufferLimit { hard_bytes, soft_bytes, soft_seconds };
        OutputBufferLimits { normal, ..OutputBufferLimits::default() }
    }

    #[test]
    fn hard_limit_counts_bytes_beyond_the_static_buffer() {
        let all = limits(1000, 0, 0);
        assert!(!session_with_pending(STATIC_REPLY_BYTES + 999, true).output_limit_reached(&all, 0));
        assert!(session_with_pending(STATIC_REPLY_BYTES + 1000, true).output_limit_reached(&all, 0));
        assert!(!session_with_pending(10 << 20, true).output_limit_reached(&limits(0, 0, 0), 0));
    }

    #[test]
    fn soft_limit_needs_to_be_exceeded_for_longer_than_its_seconds() {
        let all = limits(0, 1000, 3);
        let mut session = session_with_pending(STATIC_REPLY_BYTES + 2000, true);
        assert!(!session.output_limit_reached(&all, 100));
        assert!(!session.output_limit_reached(&all, 103));
        assert!(session.output_limit_reached(&all, 104));
        // Back under the soft limit: the clock starts again.
        session.reply.buf.truncate(10);
        assert!(!session.output_limit_reached(&all, 105));
        session.reply.buf.resize(STATIC_REPLY_BYTES + 2000, b'x');
        assert!(!session.output_limit_reached(&all, 106));
    }

    #[test]
    fn unauthenticated_clients_get_a_kilobyte_whatever_the_class_allows() {
        let none = limits(0, 0, 0);
        assert!(!session_with_pending(STATIC_REPLY_BYTES + 1024, false).output_limit_reached(&none, 0));
        assert!(session_with_pending(STATIC_REPLY_BYTES + 1025, false).output_limit_reached(&none, 0));
        assert!(!session_with_pending(STATIC_REPLY_BYTES + 1025, true).output_limit_reached(&none, 0));
    }
}
