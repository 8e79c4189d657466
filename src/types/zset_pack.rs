//! `PackedZset`: the packed form of a small sorted set (`OBJECT ENCODING listpack`), member and score pairs in
//! (score, member) order in one exact-size buffer, smaller than a generic `packed::Compact` in the two ways a
//! sorted set allows.
//!
//! - **Scores as short decimals.** A score is a header byte and at most 8 more. An integer 0..=126 is the header
//!   alone. A score that is a decimal m / 10^k (|m| < 2^53, k ≤ 15) whose quotient, rounded to an f64, is the
//!   same f64 bit for bit, is the header (k and m's length) and m's shortest little-endian two's complement:
//!   1.5 takes 2 bytes, 1234.5678 5, where Redis's listpack keeps "1.5" as text in 5. Anything else (-0, ±inf,
//!   0.1 + 0.2, 1e300, subnormals) is its 8 raw f64 bytes after a 0xff header. Reading a score costs at most
//!   one division, never a parse, and every f64 comes back exactly.
//! - **Members front-coded.** A member may share its first bytes with the member before it, as in a sorted
//!   string table: `member:10` after `member:9` stores the shared length 7 and `10`. Members with a common
//!   prefix (`user:`, `member:`) cost their distinct bytes; a member sharing fewer than `SHARED_MIN` bytes
//!   costs its length header alone, as in `Compact`.
//!
//! Layout: entries, each its member then its score, then the entry count as a reversed LEB128 trailer read
//! from the last byte (as `Compact`'s); an empty set allocates nothing. A member is `varint(suffix_len * 2 +
//! shares)`, `varint(shared)` when it shares, then its suffix. A scan rebuilds each member in the `Cursor`'s
//! scratch buffer from its predecessor, so members are handed out one at a time, never as slices of the
//! buffer. An edit (`splice`) rewrites the run from the first changed entry up to the member after the last
//! (whose shared prefix depends on its new predecessor) into a buffer of the exact new size: one allocation
//! per write, as Redis's listpack reallocates once.
//!
//! **Invariant:** a member's shared length is at most its predecessor's length, and the first member shares
//! nothing.

use super::packed::{read_back_len, read_varint, varint_len, write_back_len, write_varint};

/// The powers of ten a decimal score divides by, each exact in an f64 (10^22 is the last exact one).
const POW10: [f64; 16] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];
/// 2^53: from here on an f64 no longer holds every integer, so a decimal's mantissa stays below it.
const MANTISSA_LIMIT: f64 = 9_007_199_254_740_992.0;
/// The header of a score kept as its 8 raw f64 bytes.
const RAW: u8 = 0xff;
/// Headers from `INLINE_BASE` up to `RAW - 1` are the integer scores 0..=`INLINE_MAX`, with no payload.
const INLINE_BASE: u8 = 0x80;
const INLINE_MAX: i64 = (RAW - 1 - INLINE_BASE) as i64;
/// The longest score encoding: the header and 8 bytes.
const SCORE_LEN_MAX: usize = 9;
/// The shortest prefix a member shares with its predecessor (sharing 1 byte would cost the byte it saves).
const SHARED_MIN: usize = 2;
/// The longest LEB128 of a usize.
const VARINT_LEN_MAX: usize = 10;

/// A score in its packed encoding (see the module docs).
#[derive(Debug, Clone, Copy)]
pub struct PackedScore {
    bytes: [u8; SCORE_LEN_MAX],
    len: usize,
}

impl PackedScore {
    pub fn of(score: f64) -> PackedScore {
        let mut bytes = [0; SCORE_LEN_MAX];
        let Some((m, k)) = decimal_of(score) else {
            bytes[0] = RAW;
            bytes[1..].copy_from_slice(&score.to_le_bytes());
            return PackedScore { bytes, len: SCORE_LEN_MAX };
        };
        if k == 0 && (0..=INLINE_MAX).contains(&m) {
            bytes[0] = INLINE_BASE + m as u8;
            return PackedScore { bytes, len: 1 };
        }
        let le = m.to_le_bytes();
        let n = (1..8).find(|&n| sign_extend(&le[..n]) == m).unwrap_or(7);
        bytes[0] = ((k as u8) << 3) | n as u8;
        bytes[1..=n].copy_from_slice(&le[..n]);
        PackedScore { bytes, len: 1 + n }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// The decimal m / 10^k with the smallest k that rounds to exactly `score` (bit for bit, so -0 has none).
/// Scaling may be inexact, but the candidate is checked by decoding it, so a miss only costs the raw form.
fn decimal_of(score: f64) -> Option<(i64, usize)> {
    if !score.is_finite() {
        return None;
    }
    for (k, pow) in POW10.iter().enumerate() {
        let scaled = (score * pow).round();
        if scaled.abs() >= MANTISSA_LIMIT {
            return None;
        }
        let m = scaled as i64;
        if decimal(m, k).to_bits() == score.to_bits() {
            return Some((m, k));
        }
    }
    None
}

/// m / 10^k, correctly rounded: both operands are exact in an f64 (|m| < 2^53, k ≤ 15) and IEEE division rounds
/// once.
fn decimal(m: i64, k: usize) -> f64 {
    if k == 0 { m as f64 } else { m as f64 / POW10[k] }
}

/// The integer held in `bytes` (little-endian two's complement of at most 8 bytes, sign-extended; empty is 0).
/// Assembled in a register: copying the bytes into an 8-byte buffer and loading it whole stalled every read on
/// the failed store-to-load forward (half of a packed ZADD's time, by perf).
fn sign_extend(bytes: &[u8]) -> i64 {
    if bytes.is_empty() {
        return 0;
    }
    let raw = bytes.iter().rev().fold(0u64, |n, &byte| (n << 8) | u64::from(byte));
    let unused_bits = 64 - 8 * bytes.len() as u32;
    ((raw << unused_bits) as i64) >> unused_bits
}

/// The score encoded at the start of `bytes`, and its encoded length.
fn read_score(bytes: &[u8]) -> (f64, usize) {
    match bytes[0] {
        RAW => {
            let raw: [u8; 8] = bytes[1..SCORE_LEN_MAX].try_into().expect("a raw score's 8 bytes");
            (f64::from_le_bytes(raw), SCORE_LEN_MAX)
        }
        header @ INLINE_BASE.. => (f64::from(header - INLINE_BASE), 1),
        header => {
            let (k, n) = (usize::from(header >> 3), usize::from(header & 7));
            (decimal(sign_extend(&bytes[1..=n]), k), 1 + n)
        }
    }
}

/// Appends `member`, front-coded against `prev` (the member before it, empty for the first), to `out`.
fn write_member(out: &mut Vec<u8>, prev: &[u8], member: &[u8]) {
    let shared = prev.iter().zip(member).take_while(|(a, b)| a == b).count();
    let mut header = [0u8; VARINT_LEN_MAX];
    if shared >= SHARED_MIN {
        let n = write_varint((member.len() - shared) * 2 + 1, &mut header);
        out.extend_from_slice(&header[..n]);
        let n = write_varint(shared, &mut header);
        out.extend_from_slice(&header[..n]);
        out.extend_from_slice(&member[shared..]);
    } else {
        let n = write_varint(member.len() * 2, &mut header);
        out.extend_from_slice(&header[..n]);
        out.extend_from_slice(member);
    }
}

/// Reads the member encoded at `pos` into `member` (which holds its predecessor); returns where it ends.
fn read_member(entries: &[u8], mut pos: usize, member: &mut Vec<u8>) -> usize {
    let (header, n) = read_varint(&entries[pos..]);
    pos += n;
    if header & 1 == 1 {
        let (shared, n) = read_varint(&entries[pos..]);
        pos += n;
        debug_assert!(shared <= member.len(), "a member shares at most its predecessor's length");
        member.truncate(shared);
    } else {
        member.clear();
    }
    let end = pos + (header >> 1);
    member.extend_from_slice(&entries[pos..end]);
    end
}

/// Where an entry lies in the buffer, and its score, as a `Cursor` reads it.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    /// The entry's first byte (its member's header).
    pub start: usize,
    /// The first byte of its score, one past its member.
    pub score_at: usize,
    pub score: f64,
}

/// A forward scan over the entries, rebuilding each member in its own scratch buffer (`member`).
#[derive(Debug)]
pub struct Cursor<'a> {
    entries: &'a [u8],
    pos: usize,
    member: Vec<u8>,
}

impl Cursor<'_> {
    /// Steps to the next entry, whose member `member` then returns; `None` past the last.
    pub fn advance(&mut self) -> Option<Entry> {
        if self.pos >= self.entries.len() {
            return None;
        }
        let start = self.pos;
        let score_at = read_member(self.entries, start, &mut self.member);
        let (score, score_len) = read_score(&self.entries[score_at..]);
        self.pos = score_at + score_len;
        Some(Entry { start, score_at, score })
    }

    /// The member of the entry `advance` last returned.
    pub fn member(&self) -> &[u8] {
        &self.member
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackedZset {
    /// Entries, then the entry count as a reversed LEB128; empty (no allocation) when there are no entries.
    buf: Box<[u8]>,
}

impl PackedZset {
    /// The number of entries, read from the trailer: O(1).
    pub fn len(&self) -> usize {
        if self.buf.is_empty() { 0 } else { read_back_len(&self.buf).0 }
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Heap bytes held: the buffer is exact-size, so its length (MEMORY USAGE).
    pub fn heap_bytes(&self) -> usize {
        self.buf.len()
    }

    /// The entries without the count trailer.
    fn entries(&self) -> &[u8] {
        if self.buf.is_empty() { &[] } else { &self.buf[..read_back_len(&self.buf).1] }
    }

    pub fn cursor(&self) -> Cursor<'_> {
        Cursor { entries: self.entries(), pos: 0, member: Vec::new() }
    }

    /// The rank and score of `member`, if present.
    pub fn find(&self, member: &[u8]) -> Option<(usize, f64)> {
        let mut cursor = self.cursor();
        let mut rank = 0;
        while let Some(entry) = cursor.advance() {
            if cursor.member() == member {
                return Some((rank, entry.score));
            }
            rank += 1;
        }
        None
    }

    /// One scan for a write of `member` at `score`: its current rank and score, if present, and the rank the
    /// entry belongs at among the others, counting entries for which `before(score, member)` holds (which must
    /// be a prefix of the order once `member` is left out).
    pub fn locate(&self, member: &[u8], mut before: impl FnMut(f64, &[u8]) -> bool) -> (Option<(usize, f64)>, usize) {
        let mut cursor = self.cursor();
        let (mut rank, mut existing, mut at) = (0, None, None);
        while let Some(entry) = cursor.advance() {
            if existing.is_none() && cursor.member() == member {
                existing = Some((rank, entry.score));
            } else if at.is_none() && !before(entry.score, cursor.member()) {
                at = Some(rank - usize::from(existing.is_some()));
            }
            if existing.is_some() && at.is_some() {
                break;
            }
            rank += 1;
        }
        let others = self.len() - usize::from(existing.is_some());
        (existing, at.unwrap_or(others))
    }

    /// How many entries come before the first for which `before(score, member)` is false.
    pub fn count_while(&self, mut before: impl FnMut(f64, &[u8]) -> bool) -> usize {
        let mut cursor = self.cursor();
        let mut count = 0;
        while let Some(entry) = cursor.advance() {
            if !before(entry.score, cursor.member()) {
                break;
            }
            count += 1;
        }
        count
    }

    /// Calls `f(score, member)` for the ranks `start..end` (clipped to the set), ascending.
    pub fn visit(&self, start: usize, end: usize, mut f: impl FnMut(f64, &[u8])) {
        let mut cursor = self.cursor();
        let mut rank = 0;
        while rank < end {
            let Some(entry) = cursor.advance() else { return };
            if rank >= start {
                f(entry.score, cursor.member());
            }
            rank += 1;
        }
    }

    /// Replaces the entries of ranks `lo..hi` with `items`, which must be in order and sort between the
    /// entries around them.
    pub fn splice(&mut self, lo: usize, hi: usize, items: &[(&[u8], f64)]) {
        let count = self.len();
        debug_assert!(lo <= hi && hi <= count, "ranks {lo}..{hi} of {count}");
        let count = count - (hi - lo) + items.len();
        if count == 0 {
            self.buf = Box::default();
            return;
        }
        let entries_len = self.entries().len();
        // Find where rank `lo` starts, the member before it, and rank `hi`'s member and score position: that
        // member is written again, against its new predecessor, and everything from its score on is kept.
        let (start, prev, next) = {
            let mut cursor = self.cursor();
            let (mut start, mut prev, mut next) = (entries_len, Vec::new(), None);
            let mut rank = 0;
            while let Some(entry) = cursor.advance() {
                if rank == lo {
                    start = entry.start;
                }
                if rank == hi {
                    next = Some((entry.score_at, cursor.member().to_vec()));
                    break;
                }
                if rank + 1 == lo {
                    prev = cursor.member().to_vec();
                }
                rank += 1;
            }
            (start, prev, next)
        };
        let mut middle = Vec::new();
        let mut last: &[u8] = &prev;
        for &(member, score) in items {
            write_member(&mut middle, last, member);
            middle.extend_from_slice(PackedScore::of(score).as_bytes());
            last = member;
        }
        let kept_from = match &next {
            Some((score_at, member)) => {
                write_member(&mut middle, last, member);
                *score_at
            }
            None => entries_len,
        };
        let trailer_len = varint_len(count);
        let total = start + middle.len() + (entries_len - kept_from) + trailer_len;
        let mut buf = Vec::with_capacity(total);
        buf.extend_from_slice(&self.buf[..start]);
        buf.extend_from_slice(&middle);
        buf.extend_from_slice(&self.buf[kept_from..entries_len]);
        buf.resize(total, 0);
        write_back_len(count, &mut buf[total - trailer_len..]);
        self.buf = buf.into_boxed_slice();
    }
}

/// Builds a `PackedZset` from entries pushed in order, with one exact allocation at the end.
#[derive(Debug, Default)]
pub struct Builder {
    out: Vec<u8>,
    prev: Vec<u8>,
    count: usize,
}

impl Builder {
    /// Appends an entry, which must sort after every entry pushed before it.
    pub fn push(&mut self, member: &[u8], score: f64) {
        write_member(&mut self.out, &self.prev, member);
        self.out.extend_from_slice(PackedScore::of(score).as_bytes());
        self.prev.clear();
        self.prev.extend_from_slice(member);
        self.count += 1;
    }

    pub fn finish(mut self) -> PackedZset {
        if self.count == 0 {
            return PackedZset::default();
        }
        let end = self.out.len();
        self.out.resize(end + varint_len(self.count), 0);
        write_back_len(self.count, &mut self.out[end..]);
        PackedZset { buf: self.out.into_boxed_slice() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::rng::Rng;

    fn round_trip(score: f64) -> (f64, usize) {
        let packed = PackedScore::of(score);
        let (back, len) = read_score(packed.as_bytes());
        assert_eq!(len, packed.len, "{score:e}: the length read is the length written");
        (back, len)
    }

    #[test]
    fn every_score_comes_back_bit_for_bit() {
        let specials = [
            0.0,
            -0.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MIN_POSITIVE,
            f64::MIN_POSITIVE / 3.0,
            -f64::MIN_POSITIVE / 7.0,
            5e-324,
            -5e-324,
            f64::MAX,
            f64::MIN,
            f64::EPSILON,
            1e300,
            -1e300,
            1e-300,
            0.1 + 0.2,
            0.1,
            0.3,
            1.0 / 3.0,
            9_007_199_254_740_991.0,
            9_007_199_254_740_992.0,
            -9_007_199_254_740_993.0,
            1e16,
            123_456_789.123_456_79,
            -0.000_001,
            126.0,
            127.0,
            -1.0,
            i64::MAX as f64,
            i64::MIN as f64,
        ];
        for score in specials {
            assert_eq!(round_trip(score).0.to_bits(), score.to_bits(), "{score:e}");
        }
        let mut rng = Rng::new(11);
        for _ in 0..200_000 {
            let score = f64::from_bits(rng.next_u64());
            if !score.is_nan() {
                assert_eq!(round_trip(score).0.to_bits(), score.to_bits(), "{:#x}", score.to_bits());
            }
            // Decimals of up to 15 places, the scores this encoding shortens.
            let places = rng.below(16) as i32;
            let m = (rng.next_u64() % 1_000_000_000_000) as f64 - 500_000_000_000.0;
            let decimal = m / 10f64.powi(places);
            assert_eq!(round_trip(decimal).0.to_bits(), decimal.to_bits(), "{decimal:e}");
        }
    }

    #[test]
    fn integers_and_short_decimals_are_short() {
        let cases = [
            (0.0, 1),
            (126.0, 1),
            (127.0, 2),
            (-1.0, 2),
            (1.5, 2),
            (13.5, 3),
            (-2.25, 3),
            (1234.5678, 5),
            (1_700_000_000.0, 5),
            (0.1, 2),
            (-0.0, 9),
            (0.1 + 0.2, 9),
            (f64::INFINITY, 9),
            (1e300, 9),
        ];
        for (score, len) in cases {
            assert_eq!(round_trip(score), (score, len), "{score:e}");
        }
    }

    fn contents(packed: &PackedZset) -> Vec<(f64, Vec<u8>)> {
        let mut out = Vec::new();
        packed.visit(0, usize::MAX, |s, m| out.push((s, m.to_vec())));
        out
    }

    /// Random splices against a sorted Vec, with members sharing prefixes of every length (and none).
    #[test]
    fn splices_match_a_sorted_vec_model() {
        let mut rng = Rng::new(5);
        let mut packed = PackedZset::default();
        let mut model: Vec<(f64, Vec<u8>)> = Vec::new();
        let prefixes: [&[u8]; 4] = [b"", b"m", b"member:", b"a-long-shared-prefix-of-members-"];
        for step in 0..20_000 {
            let lo = rng.below(model.len() + 1);
            let hi = lo + rng.below((model.len() - lo).min(3) + 1);
            let lower = if lo == 0 { f64::NEG_INFINITY } else { model[lo - 1].0 };
            let upper = model.get(hi).map_or(f64::INFINITY, |e| e.0);
            let mut items: Vec<(f64, Vec<u8>)> = Vec::new();
            if model.len() < 150 && lower < upper {
                for _ in 0..rng.below(3) {
                    let prefix = prefixes[rng.below(prefixes.len())];
                    let member = [prefix, format!("{}", rng.below(1000)).as_bytes()].concat();
                    let score = if lower.is_finite() && upper.is_finite() {
                        lower + (upper - lower) * (1.0 + rng.below(98) as f64) / 100.0
                    } else {
                        step as f64 * 0.5 - 5000.0
                    };
                    if score > lower && score < upper {
                        items.push((score, member));
                    }
                }
                items.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                items.dedup_by(|a, b| a.0 == b.0);
            }
            let refs: Vec<(&[u8], f64)> = items.iter().map(|(s, m)| (m.as_slice(), *s)).collect();
            packed.splice(lo, hi, &refs);
            model.splice(lo..hi, items);
            assert_eq!(packed.len(), model.len());
            assert_eq!(contents(&packed), model, "step {step}");
            if let Some((_, member)) = model.get(rng.below(model.len().max(1))) {
                // Members may repeat here (nothing above keeps them distinct): `find` answers the first.
                let rank = model.iter().position(|e| e.1 == *member).expect("present");
                assert_eq!(packed.find(member), Some((rank, model[rank].0)));
            }
        }
    }

    #[test]
    fn shared_prefixes_cost_their_length_only() {
        let mut builder = Builder::default();
        for j in 0..10 {
            builder.push(format!("member{j}").as_bytes(), j as f64 * 1.5);
        }
        let packed = builder.finish();
        // The first member whole (1 + 7), the others 3 bytes each; scores 16 bytes; the count 1.
        assert_eq!(packed.heap_bytes(), 8 + 9 * 3 + 16 + 1);
        assert_eq!(packed.find(b"member9"), Some((9, 13.5)));
        assert_eq!(packed.find(b"member"), None);
        assert_eq!(packed.count_while(|s, _| s < 5.0), 4);
    }
}
