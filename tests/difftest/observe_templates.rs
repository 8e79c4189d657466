//! SLOWLOG and LATENCY: their difftest templates, for the replies that do not depend on timing: help texts,
//! arity and argument errors, RESET, the latency monitor's empty state (it is off in the streams) and DOCTOR's
//! text for it. The slow log's entries and the duration histograms depend on timing, so the commands that
//! would print them are never generated, and these templates get no shape noise (which could make them).

use super::{Template, cmd, t};

/// The templates that must not get the harness's shape noise.
pub const NOT_MUTATED: &[&str] = &["slowlog", "latency"];

pub const TEMPLATES: &[Template] = &[
    t("slowlog", 2, |g| match *g.rng.pick(&["help", "reset", "get", "len", "nosuch"]) {
        "get" => cmd("SLOWLOG").arg("GET").arg(*g.rng.pick(&["-2", "x", "1x"])),
        "len" => cmd("SLOWLOG").arg("LEN").arg("extra"),
        sub => cmd("SLOWLOG").arg(sub),
    }),
    t("latency", 2, |g| {
        let sub = g.pick_name(&["help", "history", "reset", "doctor", "latest", "histogram", "nosuch"]);
        let events = ["command", "fast-command", "nosuch", "expire-cycle"];
        // HISTOGRAM without a name prints every command's timings: always give it one (never a command).
        let count = g.rng.below(3) + usize::from(sub.eq_ignore_ascii_case(b"histogram"));
        cmd("LATENCY").arg(sub).args((0..count).map(|_| *g.rng.pick(&events)))
    }),
];
