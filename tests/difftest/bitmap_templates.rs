//! Bitmap commands: their difftest templates (SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO).
//!
//! Keys are the shared small key space, so bit commands read strings built by SET, APPEND and SETRANGE
//! (integers, embstr and raw values alike), meet other types (WRONGTYPE) and each other's results. Offsets are
//! mostly within the first few hundred bits, sometimes a few kilobytes out (growth), and otherwise invalid:
//! negative, not a number, or just past proto-max-bulk-len. An accepted offset near the limit would make both
//! servers allocate half a gigabyte, so none is drawn.

use super::{Argv, Gen, Template, cmd, t};

pub const TEMPLATES: &[Template] = &[
    t("setbit", 8, |g| cmd("SETBIT").arg(g.key()).arg(g.bit_offset()).arg(g.bit_value())),
    t("getbit", 5, |g| cmd("GETBIT").arg(g.key()).arg(g.bit_offset())),
    t("bitcount", 5, gen_bitcount),
    t("bitpos", 6, gen_bitpos),
    t("bitop", 4, gen_bitop),
    t("bitfield", 6, |g| gen_bitfield(g, "BITFIELD", true)),
    t("bitfield_ro", 3, |g| {
        let writes = g.rng.chance(0.2);
        gen_bitfield(g, "BITFIELD_RO", writes)
    }),
];

/// Range bounds as BITCOUNT and BITPOS read them: small, negative, at the edges of i64, or not numbers.
fn range_index(g: &mut Gen) -> String {
    match g.rng.below(12) {
        0..=9 => g.rng.range(-30, 30).to_string(),
        _ => g.rng.pick(&["9223372036854775807", "-9223372036854775808", "x", "1.5", ""]).to_string(),
    }
}

fn range_unit(g: &mut Gen) -> Vec<u8> {
    g.pick_word(&["BYTE", "BIT", "BIT", "BITS", "bytes"])
}

/// BITCOUNT key [start end [BYTE|BIT]], sometimes with only a start (a syntax error for existing keys).
fn gen_bitcount(g: &mut Gen) -> Argv {
    let argv = cmd("BITCOUNT").arg(g.key());
    match g.rng.below(6) {
        0 => argv,
        1 => argv.arg(range_index(g)),
        2 | 3 => argv.arg(range_index(g)).arg(range_index(g)),
        _ => argv.arg(range_index(g)).arg(range_index(g)).arg(range_unit(g)),
    }
}

/// BITPOS key bit [start [end [BYTE|BIT]]].
fn gen_bitpos(g: &mut Gen) -> Argv {
    let bit = *g.rng.pick(&["0", "1", "0", "1", "2", "-1", "x"]);
    let argv = cmd("BITPOS").arg(g.key()).arg(bit);
    match g.rng.below(5) {
        0 => argv,
        1 => argv.arg(range_index(g)),
        2 => argv.arg(range_index(g)).arg(range_index(g)),
        _ => argv.arg(range_index(g)).arg(range_index(g)).arg(range_unit(g)),
    }
}

/// BITOP op destkey key...: NOT with one source mostly, the others with one to four.
fn gen_bitop(g: &mut Gen) -> Argv {
    let op = g.pick_word(&["AND", "OR", "XOR", "NOT", "NOT", "NAND"]);
    let sources = if op.eq_ignore_ascii_case(b"not") && g.rng.chance(0.8) { 1 } else { 1 + g.rng.below(4) };
    cmd("BITOP").arg(op).arg(g.key()).args(g.keys(sources, sources))
}

/// BITFIELD key [GET type offset | SET type offset value | INCRBY type offset increment | OVERFLOW mode]...;
/// only GETs (and OVERFLOW) unless `writes`.
fn gen_bitfield(g: &mut Gen, name: &str, writes: bool) -> Argv {
    let mut argv = cmd(name).arg(g.key());
    for _ in 0..g.rng.below(5) {
        let sub = match g.rng.below(10) {
            0..=3 => "GET",
            4..=5 if writes => "SET",
            4..=7 if writes => "INCRBY",
            8 => "OVERFLOW",
            9 => *g.rng.pick(&["GET", "BOGUS", "SET"]),
            _ => "GET",
        };
        argv = argv.arg(g.word(sub));
        if sub == "OVERFLOW" {
            argv = argv.arg(g.pick_word(&["WRAP", "SAT", "FAIL", "FAIL", "NONE"]));
            continue;
        }
        argv = argv.arg(field_type(g)).arg(field_offset(g));
        if sub != "GET" {
            argv = argv.arg(field_value(g));
        }
    }
    argv
}

fn field_type(g: &mut Gen) -> String {
    match g.rng.below(10) {
        0..=7 => format!("{}{}", g.rng.pick(&["i", "u"]), 1 + g.rng.below(64)),
        _ => g.rng.pick(&["i64", "u63", "u64", "i65", "i0", "I8", "x8", "", "u"]).to_string(),
    }
}

fn field_offset(g: &mut Gen) -> String {
    match g.rng.below(10) {
        0..=5 => g.rng.below(200).to_string(),
        6..=7 => format!("#{}", g.rng.below(20)),
        _ => g.rng.pick(&["-1", "#-1", "x", "4294967296", "#9223372036854775807", "#", "5000"]).to_string(),
    }
}

fn field_value(g: &mut Gen) -> String {
    match g.rng.below(10) {
        0..=5 => g.rng.range(-300, 300).to_string(),
        6..=7 => g.rng.range(-5, 5).to_string(),
        _ => {
            g.rng.pick(&["9223372036854775807", "-9223372036854775808", "4611686018427387904", "x", "1.5"]).to_string()
        }
    }
}

impl Gen {
    /// A SETBIT/GETBIT offset.
    fn bit_offset(&mut self) -> String {
        match self.rng.below(20) {
            0..=15 => self.rng.below(400).to_string(),
            16 => self.rng.below(40_000).to_string(),
            _ => self.rng.pick(&["-1", "4294967296", "abc", "", "1.0", "9223372036854775807", "#8"]).to_string(),
        }
    }

    fn bit_value(&mut self) -> String {
        self.rng.pick(&["0", "1", "1", "0", "2", "-1", "x", ""]).to_string()
    }
}
