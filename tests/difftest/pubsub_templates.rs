//! Pub/sub commands on one connection: their difftest templates.
//!
//! A stream is one client, so it subscribes to at most one channel, one pattern and one shard channel, named
//! exactly (no case or NUL variants, which would be other channels), and publishes only to channels it never
//! subscribes to: each request then has exactly one reply frame, and an unsubscribe-all has no order to
//! disagree on. While it is subscribed, a RESP2 stream's other commands meet Redis's subscribed-mode refusal.
//! Messages between clients are in tests/pubsub.rs.

use super::{Template, cmd, t};

/// The templates whose commands answer one frame per argument, which must not get the harness's shape noise.
pub const ONE_FRAME_PER_ARGUMENT: &[&str] =
    &["subscribe", "unsubscribe", "psubscribe", "punsubscribe", "ssubscribe", "sunsubscribe"];

pub const TEMPLATES: &[Template] = &[
    t("subscribe", 2, |_| cmd("SUBSCRIBE").arg("ch")),
    t("unsubscribe", 3, |g| match *g.rng.pick(&["ch", "other", ""]) {
        "" => cmd("UNSUBSCRIBE"),
        channel => cmd("UNSUBSCRIBE").arg(channel),
    }),
    t("psubscribe", 1, |_| cmd("PSUBSCRIBE").arg("c?")),
    t("punsubscribe", 2, |g| match *g.rng.pick(&["c?", ""]) {
        "" => cmd("PUNSUBSCRIBE"),
        pattern => cmd("PUNSUBSCRIBE").arg(pattern),
    }),
    t("ssubscribe", 1, |_| cmd("SSUBSCRIBE").arg("sch")),
    t("sunsubscribe", 2, |g| match *g.rng.pick(&["sch", ""]) {
        "" => cmd("SUNSUBSCRIBE"),
        channel => cmd("SUNSUBSCRIBE").arg(channel),
    }),
    t("publish", 3, |g| cmd("PUBLISH").arg(*g.rng.pick(&["news", "other"])).arg(g.value())),
    t("spublish", 2, |g| cmd("SPUBLISH").arg(*g.rng.pick(&["news", "other"])).arg(g.value())),
    t("pubsub", 4, |g| {
        let sub = g.pick_name(&["channels", "numsub", "numpat", "shardchannels", "shardnumsub", "help", "nosuch"]);
        cmd("PUBSUB").arg(sub).args(g.keys(0, 2))
    }),
];
