//! Set commands: their difftest templates.
//!
//! Members are integers more than half the time (small, 32-bit, 64-bit and non-canonical ones), so intsets,
//! their width upgrades and their conversion to hashtables all happen; an occasional SADD of a hundred
//! integers pushes a set past set-max-intset-entries (512). Keys come from the shared small key space, so set
//! commands meet strings (WRONGTYPE), other sets and each other's STORE results.

use super::{Argv, Gen, INTS, Template, cmd, t};

pub const TEMPLATES: &[Template] = &[
    t("sadd", 12, gen_sadd),
    t("scard", 3, |g| cmd("SCARD").arg(g.key())),
    t("sdiff", 3, |g| cmd("SDIFF").args(g.keys(1, 3))),
    t("sdiffstore", 3, |g| cmd("SDIFFSTORE").arg(g.key()).args(g.keys(1, 3))),
    t("sinter", 3, |g| cmd("SINTER").args(g.keys(1, 3))),
    t("sintercard", 3, gen_sintercard),
    t("sinterstore", 3, |g| cmd("SINTERSTORE").arg(g.key()).args(g.keys(1, 3))),
    t("sismember", 3, |g| cmd("SISMEMBER").arg(g.key()).arg(g.member())),
    t("smembers", 4, |g| cmd("SMEMBERS").arg(g.key())),
    t("smismember", 3, |g| cmd("SMISMEMBER").arg(g.key()).args(g.members(1, 4))),
    t("smove", 4, |g| cmd("SMOVE").arg(g.key()).arg(g.key()).arg(g.member())),
    t("spop", 2, gen_spop),
    t("srandmember", 3, gen_srandmember),
    t("srem", 6, |g| cmd("SREM").arg(g.key()).args(g.members(1, 4))),
    t("sscan", 3, gen_sscan),
    t("sunion", 3, |g| cmd("SUNION").args(g.keys(1, 3))),
    t("sunionstore", 3, |g| cmd("SUNIONSTORE").arg(g.key()).args(g.keys(1, 3))),
];

/// Integers at the intset's width boundaries (16, 32, 64 bits).
const WIDE_INTS: &[&str] = &["32767", "32768", "-32769", "70000", "2147483648", "-2147483649", "5000000000"];

fn gen_sadd(g: &mut Gen) -> Argv {
    let argv = cmd("SADD").arg(g.key());
    if g.rng.chance(0.03) {
        let start = g.rng.range(-50, 600);
        return argv.args((start..start + 100).map(|n| n.to_string()));
    }
    argv.args(g.members(1, 4))
}

/// SINTERCARD numkeys key... [LIMIT n]: usually well formed, sometimes with a bad numkeys or option.
fn gen_sintercard(g: &mut Gen) -> Argv {
    let keys = g.keys(1, 3);
    let numkeys = match g.rng.below(10) {
        0 => g.rng.pick(&["0", "-1", "abc", "", "9223372036854775807", "4"]).to_string(),
        1 => (keys.len() + 1).to_string(),
        _ => keys.len().to_string(),
    };
    let mut argv = cmd("SINTERCARD").arg(numkeys).args(keys);
    if g.rng.chance(0.5) {
        argv = argv.arg(g.pick_word(&["LIMIT", "LIMIT", "LIMIT", "BOGUS"]));
        if g.rng.chance(0.9) {
            argv = argv.arg(g.rng.pick(&["0", "1", "2", "5", "-1", "abc", "9223372036854775807"]));
        }
    }
    argv
}

/// SPOP with a count that covers any set, is zero, or is invalid: the only forms whose effect is not random.
fn gen_spop(g: &mut Gen) -> Argv {
    let count = g.rng.pick(&["0", "100000", "9223372036854775807", "-1", "abc", "", "1.5", "-9223372036854775808"]);
    let argv = cmd("SPOP").arg(g.key()).arg(count);
    if g.rng.chance(0.05) { argv.arg("1") } else { argv }
}

fn gen_srandmember(g: &mut Gen) -> Argv {
    let argv = cmd("SRANDMEMBER").arg(g.key());
    match g.rng.below(10) {
        0..=1 => argv,
        2..=7 => argv.arg(g.rng.range(-6, 6).to_string()),
        8 => argv.arg(g.rng.pick(&["1000", "-9223372036854775808", "9223372036854775807", "abc", "", "1.5"])),
        _ => argv.arg("1").arg("2"),
    }
}

fn gen_sscan(g: &mut Gen) -> Argv {
    let cursor = if g.rng.chance(0.85) { "0" } else { *g.rng.pick(&["abc", "-1", "18446744073709551616", "", "7"]) };
    let mut argv = cmd("SSCAN").arg(g.key()).arg(cursor);
    for _ in 0..g.rng.below(3) {
        argv = match g.rng.below(6) {
            0..=1 => argv.arg(g.word("MATCH")).arg(g.rng.pick(&["*", "1*", "*0", "-*", "?", "[a-z]*", "k*"])),
            2..=3 => argv.arg(g.word("COUNT")).arg(g.rng.pick(&["1000", "1000", "1", "0", "-1", "abc"])),
            4 => argv.arg(g.word("TYPE")).arg("string"),
            _ => argv.arg(g.pick_word(&["MATCH", "COUNT", "NOPE"])),
        };
    }
    argv
}

impl Gen {
    /// A set member: mostly an integer (canonical, at the width boundaries, or not canonical), else any value.
    fn member(&mut self) -> Vec<u8> {
        match self.rng.below(20) {
            0..=8 => self.rng.range(-20, 40).to_string().into_bytes(),
            9..=10 => self.rng.pick(WIDE_INTS).as_bytes().to_vec(),
            11..=12 => self.rng.pick(INTS).as_bytes().to_vec(),
            _ => self.value(),
        }
    }

    fn members(&mut self, count_min: usize, count_max: usize) -> Vec<Vec<u8>> {
        let count = count_min + self.rng.below(count_max - count_min + 1);
        (0..count).map(|_| self.member()).collect()
    }
}
