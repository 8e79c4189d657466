//! Stream commands: their difftest templates.
//!
//! IDs are explicit and small (`1-0` .. `30-3`, bare ms, `(` bounds, `-`/`+`, invalid ones), so both servers
//! assign the same IDs and replies are deterministic; nothing generates `*` (clock-based IDs) or reads idle
//! times (XPENDING's extended form, XINFO CONSUMERS, XINFO STREAM FULL), which differ by the clock.
//! Keys come from the shared key space, so streams meet other types (WRONGTYPE) and each other.

use super::{Argv, Gen, Template, cmd, t};

pub const TEMPLATES: &[Template] = &[
    t("xadd", 14, gen_xadd),
    t("xlen", 2, |g| cmd("XLEN").arg(g.key())),
    t("xrange", 4, |g| range(g, "XRANGE")),
    t("xrevrange", 3, |g| range(g, "XREVRANGE")),
    t("xdel", 3, |g| cmd("XDEL").arg(g.key()).arg(id(g)).arg(id(g))),
    t("xtrim", 3, gen_xtrim),
    t("xsetid", 2, gen_xsetid),
    t("xread", 4, gen_xread),
    t("xgroup", 5, gen_xgroup),
    t("xreadgroup", 6, gen_xreadgroup),
    t("xack", 3, |g| cmd("XACK").arg(g.key()).arg(group(g)).arg(id(g)).arg(id(g))),
    t("xpending", 2, |g| cmd("XPENDING").arg(g.key()).arg(group(g))),
    t("xclaim", 3, gen_xclaim),
    t("xautoclaim", 3, gen_xautoclaim),
    t("xinfo", 3, gen_xinfo),
];

fn id(g: &mut Gen) -> String {
    match g.rng.below(12) {
        0 => {
            g.rng.pick(&["-", "+", "0-0", "abc", "1-x", "-1", "18446744073709551615-18446744073709551615"]).to_string()
        }
        1 => g.rng.range(0, 30).to_string(),
        _ => format!("{}-{}", g.rng.range(0, 30), g.rng.range(0, 3)),
    }
}

fn bound(g: &mut Gen) -> String {
    let plain = id(g);
    if g.rng.chance(0.2) { format!("({plain}") } else { plain }
}

fn group(g: &mut Gen) -> String {
    g.rng.pick(&["g1", "g1", "g2", "nog"]).to_string()
}

fn consumer(g: &mut Gen) -> String {
    g.rng.pick(&["alice", "bob", "carol"]).to_string()
}

fn trim(g: &mut Gen, argv: Argv) -> Argv {
    let kind = g.pick_word(&["MAXLEN", "MINID", "LIMIT"]);
    let minid = kind.eq_ignore_ascii_case(b"minid");
    let mut argv = argv.arg(kind);
    if g.rng.chance(0.4) {
        argv = argv.arg(*g.rng.pick(&["=", "~"]));
    }
    argv = argv.arg(if minid { id(g) } else { g.rng.pick(&["0", "1", "3", "-1", "x"]).to_string() });
    if g.rng.chance(0.2) {
        argv = argv.arg("LIMIT").arg(*g.rng.pick(&["0", "2", "-1"]));
    }
    argv
}

fn gen_xadd(g: &mut Gen) -> Argv {
    let mut argv = cmd("XADD").arg(g.key());
    if g.rng.chance(0.1) {
        argv = argv.arg("NOMKSTREAM");
    }
    if g.rng.chance(0.2) {
        argv = trim(g, argv);
    }
    let ms = g.rng.range(0, 30);
    argv = argv.arg(if g.rng.chance(0.3) { format!("{ms}-*") } else { id(g) });
    let pairs = if g.rng.chance(0.05) { 0 } else { 1 + g.rng.below(3) };
    for _ in 0..pairs {
        argv = argv.arg(g.value()).arg(g.value());
    }
    argv
}

fn range(g: &mut Gen, name: &str) -> Argv {
    let mut argv = cmd(name).arg(g.key()).arg(bound(g)).arg(bound(g));
    if g.rng.chance(0.4) {
        argv = argv.arg(g.pick_word(&["COUNT", "COUNT", "LIMIT"])).arg(*g.rng.pick(&["0", "1", "2", "-1", "x"]));
    }
    argv
}

fn gen_xtrim(g: &mut Gen) -> Argv {
    let argv = cmd("XTRIM").arg(g.key());
    trim(g, argv)
}

fn gen_xsetid(g: &mut Gen) -> Argv {
    let mut argv = cmd("XSETID").arg(g.key()).arg(id(g));
    if g.rng.chance(0.3) {
        argv = argv.arg("ENTRIESADDED").arg(*g.rng.pick(&["0", "5", "100", "-1"]));
    }
    if g.rng.chance(0.3) {
        argv = argv.arg("MAXDELETEDID").arg(id(g));
    }
    argv
}

fn gen_xread(g: &mut Gen) -> Argv {
    let mut argv = cmd("XREAD");
    if g.rng.chance(0.4) {
        argv = argv.arg("COUNT").arg(*g.rng.pick(&["0", "1", "2", "-1", "x"]));
    }
    if g.rng.chance(0.05) {
        argv = argv.arg(g.pick_word(&["GROUP", "NOACK", "BOGUS"]));
    }
    let keys = g.keys(1, 2);
    let mut ids: Vec<String> = keys.iter().map(|_| if g.rng.chance(0.2) { "$".to_string() } else { id(g) }).collect();
    if g.rng.chance(0.05) {
        ids.pop();
    }
    argv.arg("STREAMS").args(keys).args(ids)
}

fn gen_xgroup(g: &mut Gen) -> Argv {
    let key = g.key();
    match g.rng.below(8) {
        0..=2 => {
            let mut argv = cmd("XGROUP").arg("CREATE").arg(key).arg(group(g));
            argv = argv.arg(if g.rng.chance(0.3) { "$".to_string() } else { id(g) });
            if g.rng.chance(0.5) {
                argv = argv.arg("MKSTREAM");
            }
            if g.rng.chance(0.2) {
                argv = argv.arg("ENTRIESREAD").arg(*g.rng.pick(&["0", "3", "-1", "-2"]));
            }
            argv
        }
        3 => cmd("XGROUP").arg("SETID").arg(key).arg(group(g)).arg(id(g)),
        4 => cmd("XGROUP").arg("DESTROY").arg(key).arg(group(g)),
        5 => cmd("XGROUP").arg("CREATECONSUMER").arg(key).arg(group(g)).arg(consumer(g)),
        6 => cmd("XGROUP").arg("DELCONSUMER").arg(key).arg(group(g)).arg(consumer(g)),
        // Plain words: Redis's XGROUP and XINFO match HELP with strcasecmp (HELP\0junk is HELP), which the
        // shared dispatcher does not imitate.
        _ => cmd("XGROUP").arg(*g.rng.pick(&["HELP", "help", "BOGUS"])),
    }
}

fn gen_xreadgroup(g: &mut Gen) -> Argv {
    let mut argv = cmd("XREADGROUP");
    if g.rng.chance(0.95) {
        argv = argv.arg("GROUP").arg(group(g)).arg(consumer(g));
    }
    if g.rng.chance(0.4) {
        argv = argv.arg("COUNT").arg(*g.rng.pick(&["0", "1", "2"]));
    }
    if g.rng.chance(0.2) {
        argv = argv.arg("NOACK");
    }
    let key = g.key();
    let from = match g.rng.below(5) {
        0 => id(g),
        1 => "$".to_string(),
        _ => ">".to_string(),
    };
    argv.arg("STREAMS").arg(key).arg(from)
}

fn gen_xclaim(g: &mut Gen) -> Argv {
    let mut argv = cmd("XCLAIM").arg(g.key()).arg(group(g)).arg(consumer(g)).arg(*g.rng.pick(&["0", "0", "x"]));
    argv = argv.arg(id(g)).arg(id(g)).arg("JUSTID");
    if g.rng.chance(0.3) {
        argv = argv.arg(g.pick_word(&["FORCE", "RETRYCOUNT", "LASTID", "BOGUS"]));
        if g.rng.chance(0.5) {
            argv = argv.arg(id(g));
        }
    }
    argv
}

fn gen_xautoclaim(g: &mut Gen) -> Argv {
    let mut argv = cmd("XAUTOCLAIM").arg(g.key()).arg(group(g)).arg(consumer(g)).arg("0").arg(bound(g));
    if g.rng.chance(0.4) {
        argv = argv.arg("COUNT").arg(*g.rng.pick(&["1", "2", "0", "x"]));
    }
    argv.arg("JUSTID")
}

fn gen_xinfo(g: &mut Gen) -> Argv {
    match g.rng.below(4) {
        0 | 1 => cmd("XINFO").arg("STREAM").arg(g.key()),
        2 => cmd("XINFO").arg("GROUPS").arg(g.key()),
        _ => cmd("XINFO").arg(*g.rng.pick(&["HELP", "help", "BOGUS"])),
    }
}
