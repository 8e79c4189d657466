//! Sorted set commands: their difftest templates.
//!
//! Members come from a small pool (so adds update, ranges find things and the STORE commands overlap) and
//! now and then a long one (past zset-max-listpack-value, so sets convert); scores include -inf, inf, -0,
//! fractions and invalid texts, and range bounds add `(`, `[`, `-`, `+` and junk. An occasional ZADD of 150
//! members pushes a set past zset-max-listpack-entries. Blocking pops only get timeouts that end at once or
//! are refused (as the list templates do).
//!
//! Lex ranges over members of unequal scores are unspecified in Redis: on a listpack ferrokv walks as Redis
//! does, but on a skiplist Redis's answer depends on its random node levels. The default mixed stream passes
//! with these templates; a stream of only the sorted-set templates (`DIFFTEST_ONLY`) can build such sets and
//! then differ on a lex range of one, which is not a bug of either server.

use super::{Argv, Gen, Template, cmd, t};

pub const TEMPLATES: &[Template] = &[
    t("zadd", 14, gen_zadd),
    t("zincrby", 4, |g| cmd("ZINCRBY").arg(g.key()).arg(score(g)).arg(member(g))),
    t("zcard", 3, |g| cmd("ZCARD").arg(g.key())),
    t("zcount", 3, |g| cmd("ZCOUNT").arg(g.key()).arg(score_bound(g)).arg(score_bound(g))),
    t("zlexcount", 3, |g| cmd("ZLEXCOUNT").arg(g.key()).arg(lex_bound(g)).arg(lex_bound(g))),
    t("zscore", 3, |g| cmd("ZSCORE").arg(g.key()).arg(member(g))),
    t("zmscore", 2, |g| cmd("ZMSCORE").arg(g.key()).args(members(g, 1, 4))),
    t("zrank", 3, |g| cmd("ZRANK").arg(g.key()).arg(member(g))),
    t("zrevrank", 2, |g| cmd("ZREVRANK").arg(g.key()).arg(member(g))),
    t("zrem", 5, |g| cmd("ZREM").arg(g.key()).args(members(g, 1, 4))),
    t("zrange", 8, |g| {
        let argv = cmd("ZRANGE").arg(g.key());
        gen_zrange(g, argv, true)
    }),
    t("zrangestore", 3, |g| {
        let argv = cmd("ZRANGESTORE").arg(g.key()).arg(g.key());
        gen_zrange(g, argv, false)
    }),
    t("zrangebyscore", 4, |g| {
        let argv = cmd("ZRANGEBYSCORE").arg(g.key()).arg(score_bound(g)).arg(score_bound(g));
        range_options(g, argv, true)
    }),
    t("zrevrangebyscore", 3, |g| {
        let argv = cmd("ZREVRANGEBYSCORE").arg(g.key()).arg(score_bound(g)).arg(score_bound(g));
        range_options(g, argv, true)
    }),
    t("zrangebylex", 3, |g| {
        let argv = cmd("ZRANGEBYLEX").arg(g.key()).arg(lex_bound(g)).arg(lex_bound(g));
        range_options(g, argv, false)
    }),
    t("zrevrangebylex", 2, |g| {
        let argv = cmd("ZREVRANGEBYLEX").arg(g.key()).arg(lex_bound(g)).arg(lex_bound(g));
        range_options(g, argv, false)
    }),
    t("zrevrange", 3, |g| {
        let argv = cmd("ZREVRANGE").arg(g.key()).arg(g.index()).arg(g.index());
        range_options(g, argv, true)
    }),
    t("zremrangebyrank", 2, |g| cmd("ZREMRANGEBYRANK").arg(g.key()).arg(g.index()).arg(g.index())),
    t("zremrangebyscore", 2, |g| cmd("ZREMRANGEBYSCORE").arg(g.key()).arg(score_bound(g)).arg(score_bound(g))),
    t("zremrangebylex", 2, |g| cmd("ZREMRANGEBYLEX").arg(g.key()).arg(lex_bound(g)).arg(lex_bound(g))),
    t("zpopmin", 3, |g| gen_zpop(g, cmd("ZPOPMIN"))),
    t("zpopmax", 3, |g| gen_zpop(g, cmd("ZPOPMAX"))),
    t("zmpop", 3, |g| gen_mpop(g, cmd("ZMPOP"))),
    t("bzpopmin", 2, |g| cmd("BZPOPMIN").args(g.keys(1, 3)).arg(timeout(g))),
    t("bzpopmax", 2, |g| cmd("BZPOPMAX").args(g.keys(1, 3)).arg(timeout(g))),
    t("bzmpop", 2, |g| {
        let argv = cmd("BZMPOP").arg(timeout(g));
        gen_mpop(g, argv)
    }),
    t("zrandmember", 3, gen_zrandmember),
    t("zscan", 2, gen_zscan),
    t("zunion", 3, |g| gen_algebra(g, cmd("ZUNION"), true, true)),
    t("zinter", 3, |g| gen_algebra(g, cmd("ZINTER"), true, true)),
    t("zdiff", 3, |g| gen_algebra(g, cmd("ZDIFF"), false, true)),
    t("zunionstore", 3, |g| {
        let argv = cmd("ZUNIONSTORE").arg(g.key());
        gen_algebra(g, argv, true, false)
    }),
    t("zinterstore", 3, |g| {
        let argv = cmd("ZINTERSTORE").arg(g.key());
        gen_algebra(g, argv, true, false)
    }),
    t("zdiffstore", 2, |g| {
        let argv = cmd("ZDIFFSTORE").arg(g.key());
        gen_algebra(g, argv, false, false)
    }),
    t("zintercard", 2, gen_zintercard),
];

const MEMBERS: &[&str] = &["a", "b", "c", "d", "e", "f", "g", "1", "-5", "x y", "", "\x00z"];
const SCORES: &[&str] = &[
    "0", "1", "2", "3", "-1", "1.5", "-0", "inf", "-inf", "+inf", "1e3", "0.1", "10", "100", "3.0", "x", "nan", "",
    "1e400", " 1", "0x10",
];
const SCORE_BOUNDS: &[&str] = &[
    "-inf", "+inf", "inf", "0", "1", "2", "(1", "(2", "(0", "1.5", "(inf", "(-inf", "-1", "3", "x", "(x", "nan", "",
    "(", " 2", "10",
];
const LEX_BOUNDS: &[&str] = &["-", "+", "[a", "(a", "[c", "(c", "[e", "[", "(", "a", "+x", "-x", "[g", "(1"];
const TIMEOUTS: &[&str] = &["0.01", "0.01", "0.02", ".005", "-1", "abc", "inf", ""];

fn member(g: &mut Gen) -> Vec<u8> {
    if g.rng.chance(0.03) {
        return vec![b'm'; 70];
    }
    g.rng.pick(MEMBERS).as_bytes().to_vec()
}

fn members(g: &mut Gen, min: usize, max: usize) -> Vec<Vec<u8>> {
    let count = min + g.rng.below(max - min + 1);
    (0..count).map(|_| member(g)).collect()
}

fn score(g: &mut Gen) -> &'static str {
    let scores = if g.rng.chance(0.8) { &SCORES[..14] } else { SCORES };
    let pick: &&'static str = g.rng.pick(scores);
    pick
}

fn score_bound(g: &mut Gen) -> &'static str {
    let pick: &&'static str = g.rng.pick(SCORE_BOUNDS);
    pick
}

fn lex_bound(g: &mut Gen) -> &'static str {
    let pick: &&'static str = g.rng.pick(LEX_BOUNDS);
    pick
}

fn timeout(g: &mut Gen) -> &'static str {
    let pick: &&'static str = g.rng.pick(TIMEOUTS);
    pick
}

fn gen_zadd(g: &mut Gen) -> Argv {
    let mut argv = cmd("ZADD").arg(g.key());
    if g.rng.chance(0.02) {
        let start = g.rng.range(0, 100);
        return argv.args((start..start + 150).flat_map(|n| [n.to_string(), format!("m{n}")]));
    }
    for _ in 0..g.rng.below(3) {
        argv = argv.arg(g.pick_word(&["NX", "XX", "GT", "LT", "CH", "INCR", "CH", "GT"]));
    }
    let pairs = if g.rng.chance(0.1) { 1 } else { 1 + g.rng.below(3) };
    for _ in 0..pairs {
        argv = argv.arg(score(g)).arg(member(g));
    }
    if g.rng.chance(0.03) { argv.arg("1") } else { argv }
}

/// ZRANGE/ZRANGESTORE: rank, score or lex bounds to match the kind usually, any options.
fn gen_zrange(g: &mut Gen, argv: Argv, read: bool) -> Argv {
    let by = g.rng.below(3);
    let argv = match by {
        0 => argv.arg(g.index()).arg(g.index()),
        1 => argv.arg(score_bound(g)).arg(score_bound(g)),
        _ => argv.arg(lex_bound(g)).arg(lex_bound(g)),
    };
    let mut argv = argv;
    if by == 1 && g.rng.chance(0.8) {
        argv = argv.arg(g.word("BYSCORE"));
    }
    if by == 2 && g.rng.chance(0.8) {
        argv = argv.arg(g.word("BYLEX"));
    }
    if g.rng.chance(0.3) {
        argv = argv.arg(g.word("REV"));
    }
    range_options(g, argv, read)
}

/// LIMIT and WITHSCORES (when `with_scores` may be asked), sometimes a stray keyword.
fn range_options(g: &mut Gen, mut argv: Argv, with_scores: bool) -> Argv {
    if g.rng.chance(0.3) {
        argv = argv
            .arg(g.word("LIMIT"))
            .arg(g.rng.pick(&["0", "1", "-1", "2", "x"]))
            .arg(g.rng.pick(&["1", "2", "-1", "0", "x"]));
    }
    if with_scores && g.rng.chance(0.5) {
        argv = argv.arg(g.word("WITHSCORES"));
    }
    if g.rng.chance(0.05) {
        argv = argv.arg(g.pick_word(&["BYSCORE", "BYLEX", "REV", "LIMIT", "BOGUS", "WITHSCORES"]));
    }
    argv
}

/// ZPOPMIN/ZPOPMAX key [count], now and then with a bad count or one argument too many.
fn gen_zpop(g: &mut Gen, argv: Argv) -> Argv {
    let argv = argv.arg(g.key());
    match g.rng.below(10) {
        0..=3 => argv,
        4..=7 => argv.arg(g.rng.pick(&["1", "2", "0", "10"])),
        8 => argv.arg(g.rng.pick(&["-1", "x", "9223372036854775807"])),
        _ => argv.arg("1").arg("2"),
    }
}

/// `numkeys key... MIN|MAX [COUNT n]` appended to `argv`.
fn gen_mpop(g: &mut Gen, argv: Argv) -> Argv {
    let keys = g.keys(1, 3);
    let numkeys = match g.rng.below(10) {
        0 => g.rng.pick(&["0", "-1", "x", "4"]).to_string(),
        _ => keys.len().to_string(),
    };
    let mut argv = argv.arg(numkeys).args(keys).arg(g.pick_word(&["MIN", "MAX", "MIN", "MAX", "LEFT"]));
    if g.rng.chance(0.5) {
        argv = argv.arg(g.word("COUNT")).arg(g.rng.pick(&["1", "2", "10", "0", "-1", "x"]));
    }
    if g.rng.chance(0.05) { argv.arg("COUNT") } else { argv }
}

fn gen_zrandmember(g: &mut Gen) -> Argv {
    let argv = cmd("ZRANDMEMBER").arg(g.key());
    match g.rng.below(10) {
        0..=1 => argv,
        2..=5 => argv.arg(g.rng.range(-4, 4).to_string()),
        6..=7 => argv.arg(g.rng.pick(&["1000", "-3", "2"])).arg(g.pick_word(&["WITHSCORES", "WITHSCORES", "BOGUS"])),
        8 => argv.arg(g.rng.pick(&["-9223372036854775808", "9223372036854775807", "x", ""])),
        _ => argv.arg("-9223372036854775807").arg("WITHSCORES"),
    }
}

fn gen_zscan(g: &mut Gen) -> Argv {
    let cursor = if g.rng.chance(0.85) { "0" } else { *g.rng.pick(&["abc", "-1", "7"]) };
    let mut argv = cmd("ZSCAN").arg(g.key()).arg(cursor);
    if g.rng.chance(0.3) {
        argv = argv.arg(g.word("MATCH")).arg(g.rng.pick(&["*", "a*", "?", "[a-c]"]));
    }
    if g.rng.chance(0.3) {
        argv = argv.arg(g.word("COUNT")).arg(g.rng.pick(&["1", "100", "0", "x"]));
    }
    argv
}

/// The set-algebra commands: numkeys usually right, WEIGHTS/AGGREGATE where allowed, WITHSCORES for reads.
fn gen_algebra(g: &mut Gen, argv: Argv, weighted: bool, read: bool) -> Argv {
    let keys = g.keys(1, 3);
    let numkeys = match g.rng.below(12) {
        0 => g.rng.pick(&["0", "-1", "x", "9"]).to_string(),
        _ => keys.len().to_string(),
    };
    let count = keys.len();
    let mut argv = argv.arg(numkeys).args(keys);
    if (weighted || g.rng.chance(0.05)) && g.rng.chance(0.4) {
        argv = argv.arg(g.word("WEIGHTS"));
        for _ in 0..count {
            argv = argv.arg(g.rng.pick(&["1", "2", "0", "-1", "0.5", "inf", "x"]));
        }
    }
    if (weighted || g.rng.chance(0.05)) && g.rng.chance(0.4) {
        argv = argv.arg(g.word("AGGREGATE")).arg(g.pick_word(&["SUM", "MIN", "MAX", "AVG"]));
    }
    if (read || g.rng.chance(0.05)) && g.rng.chance(0.5) {
        argv = argv.arg(g.word("WITHSCORES"));
    }
    argv
}

fn gen_zintercard(g: &mut Gen) -> Argv {
    let keys = g.keys(1, 3);
    let numkeys = if g.rng.chance(0.1) { g.rng.pick(&["0", "x", "5"]).to_string() } else { keys.len().to_string() };
    let mut argv = cmd("ZINTERCARD").arg(numkeys).args(keys);
    if g.rng.chance(0.5) {
        argv = argv.arg(g.pick_word(&["LIMIT", "LIMIT", "BOGUS"])).arg(g.rng.pick(&["0", "1", "-1", "x"]));
    }
    argv
}
