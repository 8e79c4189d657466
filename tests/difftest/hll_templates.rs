//! HyperLogLog commands: their difftest templates (PFADD PFCOUNT PFMERGE PFDEBUG, and SETRANGE aimed at
//! HLLs). PFSELFTEST is left out: it adds ten million elements, seconds of work per call.
//!
//! Elements come from a pool big enough that sparse HLLs grow, and a PFADD of a few hundred elements now and
//! then turns one dense, so both encodings, the promotion and PFMERGE/PFCOUNT across them all happen. The
//! replies and the raw bytes (GET, drawn by the string templates on the same keys) must match Redis's. The
//! corrupting template damages whatever the key holds (see `gen_pfcorrupt`), so INVALIDOBJ, the HLL
//! WRONGTYPE and a forged cached count are all compared too.

use super::{Argv, Gen, Template, cmd, t};

pub const TEMPLATES: &[Template] = &[
    t("pfadd", 10, gen_pfadd),
    t("pfcount", 6, |g| cmd("PFCOUNT").args(g.keys(1, 3))),
    t("pfmerge", 3, |g| cmd("PFMERGE").arg(g.key()).args(g.keys(0, 3))),
    t("pfdebug", 3, gen_pfdebug),
    t("pfcorrupt", 2, gen_pfcorrupt),
];

fn gen_pfadd(g: &mut Gen) -> Argv {
    let count = if g.rng.chance(0.05) { 200 + g.rng.below(400) } else { g.rng.below(6) };
    let elements: Vec<String> = (0..count).map(|_| element(g)).collect();
    cmd("PFADD").arg(g.key()).args(elements)
}

/// An element: a number from a pool of 20000 (so repeats happen and leave registers alone), or a word.
fn element(g: &mut Gen) -> String {
    if g.rng.chance(0.9) { g.rng.below(20_000).to_string() } else { g.rng.pick(&["", "a", "hello", "\0x"]).to_string() }
}

fn gen_pfdebug(g: &mut Gen) -> Argv {
    let sub = g.pick_word(&["ENCODING", "DECODE", "DECODE", "TODENSE", "GETREG", "BOGUS"]);
    let argv = cmd("PFDEBUG").arg(sub).arg(g.key());
    if g.rng.chance(0.05) { argv.arg("extra") } else { argv }
}

/// Corrupts whatever the key holds as an HLL would be corrupted: random header bytes (magic, encoding,
/// cache), one code byte replaced by a one-byte opcode (ZERO or VAL), or whole opcodes appended (the code
/// then covers too many registers). Not random code bytes: a string that ends in the first byte of an XZERO
/// makes Redis read and later write past the string's end (its terminator), which no correct server can
/// reproduce byte for byte; tests/hyperloglog.rs checks such strings for errors and crashes instead.
fn gen_pfcorrupt(g: &mut Gen) -> Argv {
    match g.rng.below(3) {
        0 => {
            let len = 1 + g.rng.below(3);
            cmd("SETRANGE").arg(g.key()).arg(g.rng.below(16).to_string()).arg(g.rng.bytes(len))
        }
        1 => {
            let opcode = if g.rng.chance(0.5) { g.rng.below(64) } else { 128 + g.rng.below(128) } as u8;
            cmd("SETRANGE").arg(g.key()).arg((16 + g.rng.below(24)).to_string()).arg([opcode])
        }
        _ => {
            let ops: &[&[u8]] = &[b"\x00", b"\x3f", b"\x80", b"\xff", b"\x40\x00", b"\x7f\xff", b"\x41\x10"];
            let op = *g.rng.pick(ops);
            cmd("APPEND").arg(g.key()).arg(op.repeat(1 + g.rng.below(2)))
        }
    }
}
