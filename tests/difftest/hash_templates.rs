//! Hash commands: their difftest templates.
//!
//! Fields come mostly from a handful of names so writes collide and deletes hit; values are the shared
//! vocabulary, whose 300-byte strings push a hash past hash-max-listpack-value into the hashtable encoding
//! (that is why HGETALL, HKEYS, HVALS and HSCAN are compared unordered: see `nondeterminism`).
//!
//! HRANDFIELD never gets a huge negative count Redis would honour: `HRANDFIELD k -9223372036854775807` makes
//! Redis stream 9e18 replies (and with WITHVALUES, counts from -4611686018427387903 up make it abort), so the
//! template always writes a count, from a list without those, and the shape noise of `Gen::mutate` can only
//! drop an argument (a count or WITHVALUES from a safe draw) or append a word that is a syntax error.

use super::{Argv, Gen, Template, cmd, t};

pub const TEMPLATES: &[Template] = &[
    t("hset", 10, |g| cmd("HSET").arg(g.key()).args(g.field_pairs())),
    t("hmset", 3, |g| cmd("HMSET").arg(g.key()).args(g.field_pairs())),
    t("hsetnx", 3, |g| cmd("HSETNX").arg(g.key()).arg(g.field()).arg(g.value())),
    t("hget", 6, |g| cmd("HGET").arg(g.key()).arg(g.field())),
    t("hmget", 4, |g| cmd("HMGET").arg(g.key()).args(g.fields())),
    t("hexists", 3, |g| cmd("HEXISTS").arg(g.key()).arg(g.field())),
    t("hstrlen", 3, |g| cmd("HSTRLEN").arg(g.key()).arg(g.field())),
    t("hlen", 3, |g| cmd("HLEN").arg(g.key())),
    t("hdel", 5, |g| cmd("HDEL").arg(g.key()).args(g.fields())),
    t("hgetall", 4, |g| cmd("HGETALL").arg(g.key())),
    t("hkeys", 3, |g| cmd("HKEYS").arg(g.key())),
    t("hvals", 3, |g| cmd("HVALS").arg(g.key())),
    t("hincrby", 5, |g| cmd("HINCRBY").arg(g.key()).arg(g.field()).arg(g.int())),
    t("hincrbyfloat", 4, |g| cmd("HINCRBYFLOAT").arg(g.key()).arg(g.field()).arg(g.float())),
    t("hrandfield", 4, gen_hrandfield),
    t("hscan", 3, gen_hscan),
];

/// HRANDFIELD counts: every case of Redis's (0, 1, negative, below and above the size) and its range
/// errors, but no large negative count Redis would serve (see the module docs).
const HRANDFIELD_COUNTS: &[&str] =
    &["0", "1", "2", "3", "5", "100", "-1", "-3", "-7", "9223372036854775807", "-9223372036854775808", "x", "1.5", ""];

fn gen_hrandfield(g: &mut Gen) -> Argv {
    let argv = cmd("HRANDFIELD").arg(g.key()).arg(g.rng.pick(HRANDFIELD_COUNTS));
    match g.rng.below(4) {
        0 | 1 => argv,
        2 => argv.arg(g.word("WITHVALUES")),
        _ => argv.arg(g.pick_word(&["WITHVALUE", "COUNT"])),
    }
}

fn gen_hscan(g: &mut Gen) -> Argv {
    let cursor = g.rng.pick(&["0", "0", "0", "1", "-1", "x", "18446744073709551616", ""]);
    let mut argv = cmd("HSCAN").arg(g.key()).arg(cursor);
    for _ in 0..g.rng.below(3) {
        argv = match g.rng.below(4) {
            0 => argv.arg(g.word("MATCH")).arg(g.rng.pick(&["f*", "*", "f[0-2]", "?", "nomatch"])),
            1 => argv.arg(g.word("COUNT")).arg(g.count()),
            2 => argv.arg(g.word("TYPE")).arg("hash"),
            _ => argv.arg(g.word("MATCH")),
        };
    }
    argv
}

impl Gen {
    /// A field: mostly one of six names; sometimes any value (empty, binary, long).
    fn field(&mut self) -> Vec<u8> {
        if self.rng.chance(0.85) { format!("f{}", self.rng.below(6)).into_bytes() } else { self.value() }
    }

    fn fields(&mut self) -> Vec<Vec<u8>> {
        (0..1 + self.rng.below(3)).map(|_| self.field()).collect()
    }

    /// Field/value pairs for HSET and HMSET, occasionally missing the last value.
    fn field_pairs(&mut self) -> Vec<Vec<u8>> {
        let mut args: Vec<Vec<u8>> = (0..1 + self.rng.below(3)).flat_map(|_| [self.field(), self.value()]).collect();
        if self.rng.chance(0.05) {
            args.pop();
        }
        args
    }
}
