//! SORT and SORT_RO: their difftest templates.
//!
//! Sorts run over whatever the shared keys hold (lists, sets, sorted sets, strings for WRONGTYPE), with BY
//! and GET patterns that name the shared keys themselves (`k*`, `*`), hash fields (`k*->f`), `#`, constant
//! BY patterns (no sorting), LIMIT windows, ALPHA, DESC and STORE. Non-numeric elements without ALPHA give
//! Redis's conversion error, which is compared too; STORE always comes with ALPHA (see `gen_sort`).

use super::{Argv, Gen, Template, cmd, t};

pub const TEMPLATES: &[Template] =
    &[t("sort", 6, |g| gen_sort(g, "SORT", true)), t("sort_ro", 2, |g| gen_sort(g, "SORT_RO", false))];

const BY_PATTERNS: &[&str] = &["k*", "*", "nosort", "k*->f", "k*->", "x_*", "#"];
const GET_PATTERNS: &[&str] = &["#", "k*", "*", "k*->f", "nosuch_*", "k*->v"];

fn gen_sort(g: &mut Gen, name: &str, store: bool) -> Argv {
    let mut argv = cmd(name).arg(g.key());
    for _ in 0..g.rng.below(4) {
        argv = match g.rng.below(8) {
            0 => argv.arg(g.word("BY")).arg(*g.rng.pick(BY_PATTERNS)),
            1 => argv.arg(g.word("GET")).arg(*g.rng.pick(GET_PATTERNS)),
            2 => argv
                .arg(g.word("LIMIT"))
                .arg(*g.rng.pick(&["0", "1", "-1", "5", "x"]))
                .arg(*g.rng.pick(&["1", "2", "-1", "0", "10"])),
            3 => argv.arg(g.pick_word(&["ASC", "DESC"])),
            4 | 5 => argv.arg(g.word("ALPHA")),
            // A stored sort is ALPHA: Redis's numeric check can fail on a stale errno (see `Compare::Sort`),
            // and a failed STORE would leave the two keyspaces apart.
            6 if store => argv.arg(g.word("STORE")).arg(g.key()).arg(g.word("ALPHA")),
            _ => argv.arg(g.pick_word(&["ALPHA", "BOGUS", "LIMIT"])),
        };
    }
    argv
}
