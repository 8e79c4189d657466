//! Transactions (MULTI/EXEC/DISCARD/WATCH/UNWATCH): their difftest templates.
//!
//! One stream is one connection, so WATCH is invalidated by the stream's own writes (and by expiry and
//! FLUSHDB/SWAPDB), which is what these streams check; races between two clients are in tests/tx.rs. EXEC is
//! drawn more often than MULTI so transactions stay short, and commands rejected while queuing (the
//! mutations' arity errors, unknown commands) exercise EXECABORT.

use super::{Template, cmd, t};

pub const TEMPLATES: &[Template] = &[
    t("multi", 3, |_| cmd("MULTI")),
    t("exec", 4, |_| cmd("EXEC")),
    t("discard", 1, |_| cmd("DISCARD")),
    t("watch", 3, |g| cmd("WATCH").args(g.keys(1, 3))),
    t("unwatch", 1, |_| cmd("UNWATCH")),
];
