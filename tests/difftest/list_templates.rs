//! List commands: their difftest templates.
//!
//! Lists share the key space with strings (and the other types), so WRONGTYPE comes up by itself. Pushes
//! weigh more than the removals so lists grow long enough for ranges, LPOS ranks and LREM counts to matter.
//! Blocking commands only get timeouts that end at once or are invalid (never 0, which waits forever): on a
//! missing key both servers wait a few milliseconds and answer the timeout, so a stream never stalls.

use super::{Argv, Gen, Template, cmd, t};

pub const TEMPLATES: &[Template] = &[
    t("lpush", 8, |g| cmd("LPUSH").arg(g.key()).args(g.values(1, 4))),
    t("rpush", 8, |g| cmd("RPUSH").arg(g.key()).args(g.values(1, 4))),
    t("lpushx", 2, |g| cmd("LPUSHX").arg(g.key()).args(g.values(1, 3))),
    t("rpushx", 2, |g| cmd("RPUSHX").arg(g.key()).args(g.values(1, 3))),
    t("lpop", 3, |g| cmd("LPOP").arg(g.key()).args(pop_count(g))),
    t("rpop", 3, |g| cmd("RPOP").arg(g.key()).args(pop_count(g))),
    t("llen", 3, |g| cmd("LLEN").arg(g.key())),
    t("lindex", 3, |g| cmd("LINDEX").arg(g.key()).arg(g.index())),
    t("linsert", 3, |g| {
        let side = g.pick_word(&["BEFORE", "AFTER", "BEFORE", "AFTER", "MIDDLE"]);
        cmd("LINSERT").arg(g.key()).arg(side).arg(g.value()).arg(g.value())
    }),
    t("lrange", 4, |g| cmd("LRANGE").arg(g.key()).arg(g.index()).arg(g.index())),
    t("lrem", 3, |g| cmd("LREM").arg(g.key()).arg(g.int()).arg(g.value())),
    t("lset", 3, |g| cmd("LSET").arg(g.key()).arg(g.index()).arg(g.value())),
    t("ltrim", 2, |g| cmd("LTRIM").arg(g.key()).arg(g.index()).arg(g.index())),
    t("lpos", 4, gen_lpos),
    t("lmove", 3, |g| cmd("LMOVE").arg(g.key()).arg(g.key()).arg(side(g)).arg(side(g))),
    t("rpoplpush", 2, |g| cmd("RPOPLPUSH").arg(g.key()).arg(g.key())),
    t("lmpop", 3, |g| gen_mpop(g, cmd("LMPOP"))),
    t("blpop", 2, |g| cmd("BLPOP").args(g.keys(1, 3)).arg(timeout(g))),
    t("brpop", 2, |g| cmd("BRPOP").args(g.keys(1, 3)).arg(timeout(g))),
    t("brpoplpush", 1, |g| cmd("BRPOPLPUSH").arg(g.key()).arg(g.key()).arg(timeout(g))),
    t("blmove", 1, |g| cmd("BLMOVE").arg(g.key()).arg(g.key()).arg(side(g)).arg(side(g)).arg(timeout(g))),
    t("blmpop", 2, |g| {
        let argv = cmd("BLMPOP").arg(timeout(g));
        gen_mpop(g, argv)
    }),
];

/// LPOP/RPOP's optional count: absent, small, zero, negative, huge or not a number.
fn pop_count(g: &mut Gen) -> Option<String> {
    g.rng.chance(0.5).then(|| g.count())
}

/// LEFT or RIGHT, now and then something else.
fn side(g: &mut Gen) -> Vec<u8> {
    g.pick_word(&["LEFT", "RIGHT", "LEFT", "RIGHT", "LEFT", "RIGHT", "UP"])
}

/// Blocking timeouts that cannot stall a stream: a few milliseconds, or values Redis refuses.
const TIMEOUTS: &[&str] = &["0.01", "0.01", "0.01", "0.02", ".005", "-1", "-0.5", "abc", "nan", "inf", "1e400", ""];

fn timeout(g: &mut Gen) -> &'static str {
    let timeout: &&'static str = g.rng.pick(TIMEOUTS);
    timeout
}

/// `[numkeys key... LEFT|RIGHT [COUNT n]]` appended to `argv`, numkeys mostly matching the keys.
fn gen_mpop(g: &mut Gen, argv: Argv) -> Argv {
    let keys = g.keys(1, 3);
    let numkeys = match g.rng.below(10) {
        0 => g.rng.pick(&["0", "-1", "x", "4", "9223372036854775807"]).to_string(),
        _ => keys.len().to_string(),
    };
    let mut argv = argv.arg(numkeys).args(keys).arg(side(g));
    if g.rng.chance(0.5) {
        argv = argv.arg(g.word("COUNT")).arg(g.count());
    }
    if g.rng.chance(0.05) {
        argv = argv.arg(g.pick_word(&["COUNT", "BOGUS"]));
    }
    argv
}

/// LPOS with up to three options, each valid or not.
fn gen_lpos(g: &mut Gen) -> Argv {
    let mut argv = cmd("LPOS").arg(g.key()).arg(g.value());
    for _ in 0..g.rng.below(4) {
        argv = match g.rng.below(7) {
            0 | 1 => {
                let rank = g.rng.pick(&["1", "2", "-1", "-2", "3", "0", "-9223372036854775808", "x"]);
                argv.arg(g.word("RANK")).arg(rank)
            }
            2 | 3 => argv.arg(g.word("COUNT")).arg(g.count()),
            4 | 5 => argv.arg(g.word("MAXLEN")).arg(g.count()),
            _ => argv.arg(g.pick_word(&["RANK", "BOGUS"])),
        };
    }
    argv
}
