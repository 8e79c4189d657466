//! DUMP and RESTORE: their difftest templates.
//!
//! DUMP runs on the shared key space, so it meets every type and encoding the other templates build; its
//! payloads must be Redis's byte for byte (LZF included), except a hashtable's member order (see
//! `nondeterminism`). RESTORE draws from payloads written by redis-server 7.0.15, intact and damaged
//! (checksum, version, truncation, a body that does not decode), with valid and invalid TTLs and every
//! option, valid or not, so BUSYKEY, each error text and the order of the checks are compared.

use super::{Argv, Gen, Template, cmd, t};

pub const TEMPLATES: &[Template] = &[t("dump", 4, |g| cmd("DUMP").arg(g.key())), t("restore", 4, gen_restore)];

/// redis-server 7.0.15's DUMP of: SET 1, RPUSH a 1, SADD 1 2, HSET f v, 24 × "a" (LZF), ZADD 1 a 2.5 b -inf c
/// (listpack), ZADD 1 <65 × "x"> 2 y (ZSET_2: a skiplist, its member LZF-compressed, written from the tail).
const PAYLOADS: &[&[u8]] = &[
    b"\x00\xc0\x01\x0a\x00\x26\x78\xe7\xb6\xd1\x01\x11\xfc",
    b"\x12\x01\x02\x0c\x0c\x00\x00\x00\x02\x00\x81\x61\x02\x01\x01\xff\x0a\x00\x94\x96\x2b\x23\xac\x17\xaa\x85",
    b"\x0b\x0c\x02\x00\x00\x00\x02\x00\x00\x00\x01\x00\x02\x00\x0a\x00\x6f\x79\x38\xb1\x34\xeb\x20\x2e",
    b"\x10\x0d\x0d\x00\x00\x00\x02\x00\x81\x66\x02\x81\x76\x02\xff\x0a\x00\x20\xf1\x3d\x44\x23\x54\x08\x9d",
    b"\x00\xc3\x09\x18\x01\x61\x61\xe0\x0b\x00\x01\x61\x61\x0a\x00\x58\x5c\xed\xc3\x8b\xe5\x46\xa5",
    b"\x11\x1d\x1d\x00\x00\x00\x06\x00\x81\x63\x02\x84\x2d\x69\x6e\x66\x05\x81\x61\x02\x01\x01\x81\x62\x02\x83\x32\x2e\x35\x04\xff\x0a\x00\x39\x92\x33\x9b\xe1\x1f\x32\x3d",
    b"\x05\x02\x01\x79\x00\x00\x00\x00\x00\x00\x00\x40\xc3\x09\x40\x41\x01\x78\x78\xe0\x34\x00\x01\x78\x78\x00\x00\x00\x00\x00\x00\xf0\x3f\x0a\x00\xb1\xa8\xdf\xd2\xa4\xe5\x7d\x50",
];

/// A payload, intact most of the time, else damaged in one of the ways RESTORE must refuse.
fn payload(g: &mut Gen) -> Vec<u8> {
    let mut p = g.rng.pick(PAYLOADS).to_vec();
    let len = p.len();
    match g.rng.below(12) {
        0 => p[len - 1] ^= 1,              // checksum
        1 => p[len - 10] = 11,             // version 11
        2 => p.truncate(g.rng.below(len)), // truncated
        3 => p = b"garbage".to_vec(),
        _ => {}
    }
    p
}

fn gen_restore(g: &mut Gen) -> Argv {
    // No TTL of a few ms: whether it passed before the next command would depend on timing.
    let ttl = g.rng.pick(&["0", "0", "0", "100000", "-1", "abc", "4102444800000", "1000000000000"]);
    let mut argv = cmd("RESTORE").arg(g.key()).arg(ttl).arg(payload(g));
    for _ in 0..g.rng.below(3) {
        argv = match g.rng.below(8) {
            0 | 1 => argv.arg(g.pick_word(&["REPLACE"])),
            2 => argv.arg(g.pick_word(&["ABSTTL"])),
            3 => argv.arg(g.pick_word(&["IDLETIME"])).arg(g.rng.pick(&["0", "100", "-1", "x"])),
            4 => argv.arg(g.pick_word(&["FREQ"])).arg(g.rng.pick(&["0", "100", "256", "-1", "x"])),
            5 => argv.arg(g.pick_word(&["IDLETIME", "FREQ"])),
            _ => argv.arg(g.pick_word(&["BOGUS", "REPLACE"])),
        };
    }
    argv
}
