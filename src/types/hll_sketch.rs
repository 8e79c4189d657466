//! HyperLogLog in Redis's exact representation (hyperloglog.c), so the bytes a string holds are the bytes
//! Redis would hold after the same writes, and either server reads the other's HLLs.
//!
//! Layout: a 16-byte header (`HYLL`, the encoding byte, three unused bytes, the cached cardinality as 8
//! little-endian bytes whose top bit marks it stale), then 16384 registers of 6 bits, either *dense* (12288
//! bytes, register i at bit 6i, least significant bits first) or *sparse*, a run-length code: `00xxxxxx` ZERO
//! (1..64 zero registers), `01xxxxxx yyyyyyyy` XZERO (1..16384), `1vvvvvxx` VAL (value 1..32, 1..4
//! registers). A new HLL is sparse; it turns dense for good when a register needs more than 32 or the code
//! would pass hll-sparse-max-bytes. An element's register and value come from MurmurHash64A with Redis's
//! seed; the estimate is Ertl's improved estimator from the register histogram, as in Redis 7.0.
//!
//! The strings come from users (SET, SETRANGE, RESTORE), so every reader assumes they may be corrupt: the
//! header is checked by `is_hll`, and code that does not cover exactly 16384 registers gives `Corrupt`,
//! never a panic or an out-of-bounds access.

use crate::util::rng::Rng;

pub const REGISTERS: usize = 1 << P;
/// Header bytes.
pub const HEADER_LEN: usize = 16;
/// The whole dense string: header and 16384 six-bit registers.
pub const DENSE_LEN: usize = HEADER_LEN + REGISTERS * REGISTER_BITS / 8;
/// Index bits of the hash (Redis's HLL_P).
const P: usize = 14;
/// Hash bits left for the run of zeros (HLL_Q).
const Q: usize = 64 - P;
const REGISTER_BITS: usize = 6;
const REGISTER_MAX: u8 = 63;
const SEED: u64 = 0xadc8_3b19;
const ENCODING_DENSE: u8 = 0;
const ENCODING_SPARSE: u8 = 1;
const VAL_VALUE_MAX: u8 = 32;
const VAL_LEN_MAX: usize = 4;
const ZERO_LEN_MAX: usize = 64;
const XZERO_LEN_MAX: usize = 16384;
/// Where the encoding byte and the cached cardinality sit in the header.
const ENCODING_AT: usize = 4;
const CARD_AT: usize = 8;

/// The string is not a well-formed HyperLogLog (Redis's INVALIDOBJ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt;

/// A new, empty HLL: sparse, one XZERO over every register, cached cardinality 0 (createHLLObject).
pub fn new_sparse() -> Vec<u8> {
    let mut hll = vec![0u8; HEADER_LEN];
    hll[..4].copy_from_slice(b"HYLL");
    hll[ENCODING_AT] = ENCODING_SPARSE;
    for _ in 0..REGISTERS.div_ceil(XZERO_LEN_MAX) {
        hll.extend_from_slice(&xzero_op(XZERO_LEN_MAX));
    }
    hll
}

/// Whether `s` passes Redis's header checks (isHLLObjectOrReply): the magic, a known encoding, and the exact
/// length for a dense one. The sparse code itself is checked only as it is read.
pub fn is_hll(s: &[u8]) -> bool {
    s.len() >= HEADER_LEN
        && s.starts_with(b"HYLL")
        && s[ENCODING_AT] <= ENCODING_SPARSE
        && (s[ENCODING_AT] != ENCODING_DENSE || s.len() == DENSE_LEN)
}

pub fn is_sparse(hll: &[u8]) -> bool {
    hll[ENCODING_AT] == ENCODING_SPARSE
}

/// The cached cardinality, unless marked stale.
pub fn cached_count(hll: &[u8]) -> Option<u64> {
    let card = u64::from_le_bytes(hll[CARD_AT..HEADER_LEN].try_into().unwrap_or([0xff; 8]));
    (card >> 63 == 0).then_some(card)
}

pub fn set_cached_count(hll: &mut [u8], card: u64) {
    hll[CARD_AT..HEADER_LEN].copy_from_slice(&card.to_le_bytes());
}

pub fn invalidate_cache(hll: &mut [u8]) {
    hll[HEADER_LEN - 1] |= 0x80;
}

/// Redis's MurmurHash64A (little-endian words), the hash behind every register choice.
pub fn murmur64a(key: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (key.len() as u64).wrapping_mul(M);
    let mut words = key.chunks_exact(8);
    for word in words.by_ref() {
        let mut k = u64::from_le_bytes(word.try_into().unwrap_or([0; 8]));
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = words.remainder();
    if !tail.is_empty() {
        for (i, &byte) in tail.iter().enumerate() {
            h ^= u64::from(byte) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element lands in and the value it offers: one more than the run of zeros after the
/// index bits, at most Q + 1 (hllPatLen).
fn register_of(element: &[u8]) -> (usize, u8) {
    let hash = murmur64a(element, SEED);
    let index = (hash as usize) & (REGISTERS - 1);
    let rest = (hash >> P) | (1 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

/// Adds an element: whether a register grew (hllAdd). `sparse_max` is hll-sparse-max-bytes.
pub fn add(hll: &mut Vec<u8>, element: &[u8], sparse_max: usize) -> Result<bool, Corrupt> {
    let (index, count) = register_of(element);
    set_register(hll, index, count, sparse_max)
}

/// Raises register `index` to `count` if it is lower: whether it changed. May turn a sparse HLL dense.
pub fn set_register(hll: &mut Vec<u8>, index: usize, count: u8, sparse_max: usize) -> Result<bool, Corrupt> {
    match hll[ENCODING_AT] {
        ENCODING_DENSE => Ok(dense_set(&mut hll[HEADER_LEN..], index, count)),
        ENCODING_SPARSE => sparse_set(hll, index, count, sparse_max),
        _ => Err(Corrupt),
    }
}

fn dense_get(registers: &[u8], index: usize) -> u8 {
    let (byte, shift) = (index * REGISTER_BITS / 8, index * REGISTER_BITS % 8);
    // The last register's second byte is past the array; Redis reads the sds terminator there, a zero.
    let pair = u16::from(registers[byte]) | u16::from(registers.get(byte + 1).copied().unwrap_or(0)) << 8;
    (pair >> shift) as u8 & REGISTER_MAX
}

fn dense_put(registers: &mut [u8], index: usize, value: u8) {
    let (byte, shift) = (index * REGISTER_BITS / 8, index * REGISTER_BITS % 8);
    let mask = u16::from(REGISTER_MAX) << shift;
    let value = u16::from(value) << shift;
    registers[byte] = (registers[byte] & !(mask as u8)) | value as u8;
    if let Some(high) = registers.get_mut(byte + 1) {
        *high = (*high & !((mask >> 8) as u8)) | (value >> 8) as u8;
    }
}

fn dense_set(registers: &mut [u8], index: usize, count: u8) -> bool {
    let grows = count > dense_get(registers, index);
    if grows {
        dense_put(registers, index, count);
    }
    grows
}

/// Calls `f` with each group of four registers decoded from three bytes of a dense array.
fn dense_for_each(registers: &[u8], mut f: impl FnMut(usize, [u8; 4])) {
    for (group, b) in registers.chunks_exact(3).enumerate() {
        let regs = [b[0] & 63, (b[0] >> 6 | b[1] << 2) & 63, (b[1] >> 4 | b[2] << 4) & 63, b[2] >> 2];
        f(group * 4, regs);
    }
}

/// One sparse opcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Zero(usize),
    XZero(usize),
    Val(u8, usize),
}

impl Op {
    /// The opcode at `at` (`at < code.len()`); an XZERO cut off by the end reads a zero second byte, as
    /// Redis reads the terminator.
    fn at(code: &[u8], at: usize) -> Op {
        let b = code[at];
        if b & 0x80 != 0 {
            Op::Val(((b >> 2) & 0x1f) + 1, usize::from(b & 3) + 1)
        } else if b & 0x40 != 0 {
            Op::XZero(((usize::from(b & 0x3f) << 8) | usize::from(code.get(at + 1).copied().unwrap_or(0))) + 1)
        } else {
            Op::Zero(usize::from(b & 0x3f) + 1)
        }
    }

    fn len(self) -> usize {
        if matches!(self, Op::XZero(_)) { 2 } else { 1 }
    }

    fn span(self) -> usize {
        match self {
            Op::Zero(n) | Op::XZero(n) | Op::Val(_, n) => n,
        }
    }
}

fn val_op(value: u8, len: usize) -> u8 {
    0x80 | ((value - 1) << 2) | (len - 1) as u8
}

fn xzero_op(len: usize) -> [u8; 2] {
    let l = len - 1;
    [0x40 | (l >> 8) as u8, l as u8]
}

/// Appends the code for a run of `len` zero registers (ZERO when it fits, else XZERO).
fn push_zeros(seq: &mut Vec<u8>, len: usize) {
    if len > ZERO_LEN_MAX {
        seq.extend_from_slice(&xzero_op(len));
    } else {
        seq.push((len - 1) as u8);
    }
}

/// Walks a sparse code, calling `f(first_register, value, run)` for each VAL run. The code must cover
/// exactly the 16384 registers: an opcode that would pass the last one is `Corrupt` before anything is
/// written for it (Debian's 7.0.15 carries the fix for CVE-2025-32023, which refuses any overflowing
/// opcode, where 7.0.15 itself stopped only at an overflowing VAL).
fn sparse_walk(code: &[u8], mut f: impl FnMut(usize, u8, usize)) -> Result<(), Corrupt> {
    let (mut at, mut index) = (0, 0);
    while at < code.len() {
        let op = Op::at(code, at);
        if index + op.span() > REGISTERS {
            return Err(Corrupt);
        }
        if let Op::Val(value, run) = op {
            f(index, value, run);
        }
        index += op.span();
        at += op.len();
    }
    if index == REGISTERS { Ok(()) } else { Err(Corrupt) }
}

/// Raises one register of a sparse HLL in place (hllSparseSet): finds the opcode covering it, rewrites it
/// as up to three opcodes, merges equal neighbouring VALs, and promotes to dense when the value or the
/// length no longer fits the sparse form.
fn sparse_set(hll: &mut Vec<u8>, index: usize, count: u8, sparse_max: usize) -> Result<bool, Corrupt> {
    if count > VAL_VALUE_MAX {
        return promote(hll, index, count);
    }
    let (mut at, mut first, mut prev, mut found) = (HEADER_LEN, 0, None, None);
    while at < hll.len() {
        let op = Op::at(hll, at);
        if index < first + op.span() {
            found = Some(op);
            break;
        }
        prev = Some(at);
        at += op.len();
        first += op.span();
    }
    let op = found.ok_or(Corrupt)?;
    let last = first + op.span() - 1;
    let mut seq = Vec::with_capacity(5);
    match op {
        Op::Val(value, _) if value >= count => return Ok(false),
        Op::Val(_, 1) | Op::Zero(1) => seq.push(val_op(count, 1)),
        Op::Zero(_) | Op::XZero(_) => {
            if index != first {
                push_zeros(&mut seq, index - first);
            }
            seq.push(val_op(count, 1));
            if index != last {
                push_zeros(&mut seq, last - index);
            }
        }
        Op::Val(value, _) => {
            if index != first {
                seq.push(val_op(value, index - first));
            }
            seq.push(val_op(count, 1));
            if index != last {
                seq.push(val_op(value, last - index));
            }
        }
    }
    if seq.len() > op.len() && hll.len() + seq.len() - op.len() > sparse_max {
        return promote(hll, index, count);
    }
    // An XZERO cut off by the end of the string took its second byte from the terminator in Redis, whose
    // length arithmetic then counts that byte as replaced: the new sequence's last byte falls off the end.
    let new_len = hll.len() + seq.len() - op.len();
    let op_end = (at + op.len()).min(hll.len());
    hll.splice(at..op_end, seq);
    hll.truncate(new_len);
    sparse_merge_vals(hll, prev.unwrap_or(HEADER_LEN));
    invalidate_cache(hll);
    Ok(true)
}

/// Merges adjacent VAL opcodes of equal value whose runs fit one opcode, scanning up to five opcodes from
/// `at` (step 4 of hllSparseSet).
fn sparse_merge_vals(hll: &mut Vec<u8>, mut at: usize) {
    for _ in 0..5 {
        if at >= hll.len() {
            return;
        }
        match Op::at(hll, at) {
            op @ (Op::Zero(_) | Op::XZero(_)) => at += op.len(),
            Op::Val(value, run) => match hll.get(at + 1).map(|&b| Op::at(&[b], 0)) {
                Some(Op::Val(next_value, next_run)) if next_value == value && run + next_run <= VAL_LEN_MAX => {
                    hll[at + 1] = val_op(value, run + next_run);
                    hll.remove(at);
                }
                _ => at += 1,
            },
        }
    }
}

/// Turns a sparse HLL dense, then raises the register that did not fit.
fn promote(hll: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, Corrupt> {
    to_dense(hll)?;
    let grew = dense_set(&mut hll[HEADER_LEN..], index, count);
    debug_assert!(grew, "a register that did not fit the sparse form is below its new value");
    Ok(grew)
}

/// Converts a sparse HLL to dense in place, keeping the header (cached cardinality included): whether it
/// was sparse (hllSparseToDense).
pub fn to_dense(hll: &mut Vec<u8>) -> Result<bool, Corrupt> {
    if hll[ENCODING_AT] == ENCODING_DENSE {
        return Ok(false);
    }
    let mut dense = vec![0u8; DENSE_LEN];
    dense[..HEADER_LEN].copy_from_slice(&hll[..HEADER_LEN]);
    dense[ENCODING_AT] = ENCODING_DENSE;
    let registers = &mut dense[HEADER_LEN..];
    sparse_walk(&hll[HEADER_LEN..], |first, value, run| {
        (first..first + run).for_each(|index| dense_put(registers, index, value));
    })?;
    *hll = dense;
    Ok(true)
}

/// Raises `max[i]` to register i of `hll` (hllMerge), for PFCOUNT of several keys and PFMERGE.
pub fn merge_into(max: &mut [u8; REGISTERS], hll: &[u8]) -> Result<(), Corrupt> {
    if hll[ENCODING_AT] == ENCODING_DENSE {
        dense_for_each(&hll[HEADER_LEN..], |first, regs| {
            for (slot, reg) in max[first..first + 4].iter_mut().zip(regs) {
                *slot = (*slot).max(reg);
            }
        });
        return Ok(());
    }
    sparse_walk(&hll[HEADER_LEN..], |first, value, run| {
        max[first..first + run].iter_mut().for_each(|slot| *slot = (*slot).max(value));
    })
}

/// The estimate of one HLL (hllCount), or `Corrupt` for a sparse code that does not cover every register.
pub fn count(hll: &[u8]) -> Result<u64, Corrupt> {
    let mut histogram = [0u32; 64];
    if hll[ENCODING_AT] == ENCODING_DENSE {
        dense_for_each(&hll[HEADER_LEN..], |_, regs| regs.iter().for_each(|&reg| histogram[usize::from(reg)] += 1));
    } else {
        let code = &hll[HEADER_LEN..];
        let (mut at, mut index) = (0usize, 0usize);
        // Unlike sparse_walk, no early stop: Redis counts every run and then checks the total.
        while at < code.len() {
            let op = Op::at(code, at);
            let value = if let Op::Val(value, _) = op { usize::from(value) } else { 0 };
            histogram[value] = histogram[value].wrapping_add(op.span() as u32);
            index += op.span();
            at += op.len();
        }
        if index != REGISTERS {
            return Err(Corrupt);
        }
    }
    Ok(estimate(&histogram))
}

/// The estimate of registers held one per byte, as `merge_into` leaves them.
pub fn count_registers(registers: &[u8; REGISTERS]) -> u64 {
    let mut histogram = [0u32; 64];
    registers.iter().for_each(|&reg| histogram[usize::from(reg & 63)] += 1);
    estimate(&histogram)
}

/// Ertl's improved raw estimator ("New cardinality estimation algorithms for HyperLogLog sketches",
/// arXiv:1702.01284) over the register histogram, computed in the same order as Redis so the double
/// rounding is the same.
fn estimate(histogram: &[u32; 64]) -> u64 {
    const ALPHA_INF: f64 = 0.721_347_520_444_481_7;
    let m = REGISTERS as f64;
    let mut z = m * tau((m - f64::from(histogram[Q + 1])) / m);
    for &count in histogram[1..=Q].iter().rev() {
        z += f64::from(count);
        z *= 0.5;
    }
    z += m * sigma(f64::from(histogram[0]) / m);
    (ALPHA_INF * m * m / z).round() as u64
}

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let (mut y, mut z) = (1.0, x);
    loop {
        x *= x;
        let previous = z;
        z += x * y;
        y += y;
        if previous == z {
            return z;
        }
    }
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let (mut y, mut z) = (1.0, 1.0 - x);
    loop {
        x = x.sqrt();
        let previous = z;
        y *= 0.5;
        z -= (1.0 - x) * (1.0 - x) * y;
        if previous == z {
            return z / 3.0;
        }
    }
}

/// The registers of a dense HLL, in order (PFDEBUG GETREG).
pub fn dense_registers(hll: &[u8]) -> impl Iterator<Item = u8> + '_ {
    (0..REGISTERS).map(move |index| dense_get(&hll[HEADER_LEN..], index))
}

/// A sparse HLL's code as PFDEBUG DECODE prints it: `z:<len>`, `Z:<len>`, `v:<value>,<len>`.
pub fn decode(hll: &[u8]) -> String {
    use std::fmt::Write;
    let code = &hll[HEADER_LEN..];
    let mut text = String::new();
    let mut at = 0;
    while at < code.len() {
        let op = Op::at(code, at);
        let separator = if at == 0 { "" } else { " " };
        // Writing to a String cannot fail.
        let _ = match op {
            Op::Zero(n) => write!(text, "{separator}z:{n}"),
            Op::XZero(n) => write!(text, "{separator}Z:{n}"),
            Op::Val(value, n) => write!(text, "{separator}v:{value},{n}"),
        };
        at += op.len();
    }
    text
}

/// PFSELFTEST (pfselftestCommand): register access on a dense array, then 10 million elements added to a
/// dense and a sparse HLL side by side, which must agree and stay within six standard errors at each power
/// of ten. Returns Redis's TESTFAILED text on failure.
pub fn self_test(rng: &mut Rng, sparse_max: usize) -> Result<(), String> {
    const CYCLES: usize = 1000;
    let mut dense = vec![0u8; DENSE_LEN];
    dense[..4].copy_from_slice(b"HYLL");
    let mut expected = vec![0u8; REGISTERS];
    for _ in 0..CYCLES {
        for (index, slot) in expected.iter_mut().enumerate() {
            *slot = rng.next_u64() as u8 & REGISTER_MAX;
            dense_put(&mut dense[HEADER_LEN..], index, *slot);
        }
        for (index, &want) in expected.iter().enumerate() {
            let got = dense_get(&dense[HEADER_LEN..], index);
            if got != want {
                return Err(format!("TESTFAILED Register {index} should be {want} but is {got}"));
            }
        }
    }
    dense[HEADER_LEN..].fill(0);
    let mut sparse = new_sparse();
    let relative_error = 1.04 / (REGISTERS as f64).sqrt();
    let seed = rng.next_u64();
    let mut checkpoint = 1u64;
    for j in 1..=10_000_000u64 {
        let element = (j ^ seed).to_ne_bytes();
        let (index, value) = register_of(&element);
        dense_set(&mut dense[HEADER_LEN..], index, value);
        set_register(&mut sparse, index, value, sparse_max).map_err(|_| "TESTFAILED corrupted sparse HLL")?;
        if j != checkpoint {
            continue;
        }
        if (j as usize) < sparse_max / 2 && !is_sparse(&sparse) {
            return Err("TESTFAILED sparse encoding not used".into());
        }
        let card = count(&dense).unwrap_or(0);
        if Ok(card) != count(&sparse) {
            return Err("TESTFAILED dense/sparse disagree".into());
        }
        let error = checkpoint.abs_diff(card);
        let error_max = if j == 10 { 1 } else { (relative_error * 6.0 * checkpoint as f64).ceil() as u64 };
        if error > error_max {
            return Err(format!("TESTFAILED Too big error. card:{checkpoint} abserr:{error}"));
        }
        checkpoint *= 10;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_hll_is_redis_empty_sparse() {
        let hll = new_sparse();
        assert_eq!(hll, b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\0\x7f\xff");
        assert!(is_hll(&hll) && is_sparse(&hll));
        assert_eq!(cached_count(&hll), Some(0));
        assert_eq!(count(&hll), Ok(0));
        assert_eq!(decode(&hll), "Z:16384");
    }

    #[test]
    fn registers_match_redis() {
        // From redis-server 7.0.15: PFADD q <element>, then PFDEBUG DECODE q.
        assert_eq!(register_of(b"a"), (12711, 2));
        assert_eq!(register_of(b"hello world"), (9399, 4));
        assert_eq!(register_of(b""), (5938, 2));
        let mut hll = new_sparse();
        add(&mut hll, b"a", 3000).unwrap();
        assert_eq!(decode(&hll), "Z:12711 v:2,1 Z:3672");
    }

    #[test]
    fn sparse_and_dense_agree() {
        let mut sparse = new_sparse();
        let mut dense = new_sparse();
        to_dense(&mut dense).unwrap();
        for i in 0..5000u32 {
            let element = i.to_string();
            let a = add(&mut sparse, element.as_bytes(), 1 << 20).unwrap();
            let b = add(&mut dense, element.as_bytes(), 1 << 20).unwrap();
            assert_eq!(a, b);
        }
        assert!(is_sparse(&sparse));
        assert_eq!(count(&sparse), count(&dense));
        let mut converted = sparse.clone();
        to_dense(&mut converted).unwrap();
        assert_eq!(converted[HEADER_LEN..], dense[HEADER_LEN..]);
        let card = count(&dense).unwrap();
        assert!(card.abs_diff(5000) < 200, "{card}");
    }

    #[test]
    fn corrupt_codes_are_reported() {
        let mut hll = new_sparse();
        hll.push(0x00);
        assert_eq!(count(&hll), Err(Corrupt));
        let mut max = [0u8; REGISTERS];
        assert_eq!(merge_into(&mut max, &hll), Err(Corrupt));
        assert_eq!(to_dense(&mut hll.clone()), Err(Corrupt));
        let mut short = new_sparse();
        short.truncate(HEADER_LEN + 1);
        assert_eq!(count(&short), Err(Corrupt));
        assert_eq!(add(&mut short, b"x", 3000).is_ok(), add(&mut short, b"x", 3000).is_ok());
    }

    /// Random codes of every length: every reader answers, none panics, and an HLL that counts is whole.
    #[test]
    fn random_codes_never_panic() {
        let mut rng = Rng::new(3);
        for round in 0..2000 {
            let mut hll = new_sparse();
            hll.truncate(HEADER_LEN);
            let len = rng.below(if round % 10 == 0 { 3000 } else { 12 });
            hll.extend((0..len).map(|_| rng.next_u64() as u8));
            let mut max = [0u8; REGISTERS];
            let merged = merge_into(&mut max, &hll);
            assert_eq!(merged.is_ok(), count(&hll).is_ok());
            for i in 0..20u32 {
                let _ = add(&mut hll, &i.to_ne_bytes(), 3000);
            }
            let _ = to_dense(&mut hll);
            let _ = decode(&hll);
        }
    }
}
