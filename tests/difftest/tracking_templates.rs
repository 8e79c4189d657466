//! Client-side caching on one connection: CLIENT TRACKING's refused forms, CLIENT CACHING, GETREDIR and
//! TRACKINGINFO, as difftest templates. A stream never turns tracking on (its own writes would then send
//! it invalidation pushes in RESP3, one frame more than its request), so every TRACKING form generated is
//! one Redis refuses (or OFF), and these templates get no shape noise, which could make one it accepts.
//! Invalidations between clients are in tests/tracking.rs.

use super::{Template, cmd, t};

/// The templates that must not get the harness's shape noise.
pub const NOT_MUTATED: &[&str] = &["client-tracking", "client-caching"];

/// CLIENT TRACKING forms Redis refuses, each for another of its checks, and OFF.
const REFUSED: &[&[&str]] = &[
    &["off"],
    &["maybe"],
    &["on", "nosuch"],
    &["on", "REDIRECT"],
    &["on", "REDIRECT", "x"],
    &["on", "REDIRECT", "0"],
    &["on", "REDIRECT", "99999999"],
    &["on", "PREFIX", "a"],
    &["on", "OPTIN", "OPTOUT"],
    &["on", "BCAST", "optin"],
    &["on", "bcast", "OPTOUT", "noloop"],
    &["on", "BCAST", "PREFIX", "ab", "PREFIX", "a"],
    &["on", "BCAST", "PREFIX", "", "PREFIX", "x"],
    &["off", "PREFIX"],
];

pub const TEMPLATES: &[Template] = &[
    t("client-tracking", 3, |g| cmd("CLIENT").arg("TRACKING").args(g.rng.pick(REFUSED).iter().copied())),
    t("client-caching", 2, |g| cmd("CLIENT").arg("CACHING").arg(*g.rng.pick(&["yes", "NO", "maybe"]))),
    t("client-getredir", 1, |_| cmd("CLIENT").arg("GETREDIR")),
    t("client-trackinginfo", 1, |_| cmd("CLIENT").arg("TRACKINGINFO")),
];
