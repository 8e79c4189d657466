//! Sorted set values as a pure structure (Redis's `t_zset.c` data side): no RESP, no I/O, no server state.
//!
//! Two representations, named as `OBJECT ENCODING` names them in Redis 7.0:
//! - `listpack`: one `Compact` holding member, score, member, score, … in (score, member) order; a score is
//!   a short integer when it is one, else its 8 raw f64 bytes (`PackedScore`), so reading one costs no parse. Operations scan, so it is kept small:
//!   at most `Limits::entries_max` members of at most `Limits::value_max` bytes each.
//! - `skiplist`: a `Large`, the order in an order-statistic B-tree (`zset_tree`, which also keeps each member
//!   once, with its score, in a slot) beside a hash index from member to slot (`zset_index`) for O(1) ZSCORE,
//!   as Redis keeps a dict beside its skiplist.
//!
//! Everything the commands need is expressed through ranks: `count_while` finds where a score or lex bound
//! falls, `visit` walks a rank range either way, `remove_ranks` deletes one. `visit(0, len, false, ..)` is the
//! members in order with their scores, the iteration a persistence format needs.
//!
//! **Invariant:** a member appears once; scores are never NaN. A set converts to `skiplist` on the write that
//! crosses a limit; only the STORE commands pack a result back (`pack_if_fits`), as Redis's
//! zsetConvertToListpackIfNeeded does.

use super::packed::Compact;
use super::zset_index::Index;
use super::zset_tree::{Tree, precedes};

/// Fewest members one ZSCAN call on a `skiplist` returns, as a fraction of the set (see the hash's HSCAN).
const SCAN_PASSES_MAX: usize = 64;

/// The conversion thresholds (zset-max-listpack-entries, zset-max-listpack-value), read at each write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub entries_max: usize,
    pub value_max: usize,
}

impl Limits {
    /// Whether a set of `len` members, the longest `member_len_max` bytes, stays a listpack.
    pub fn packs(&self, len: usize, member_len_max: usize) -> bool {
        len <= self.entries_max && member_len_max <= self.value_max
    }
}

/// The large form: the order (with the members in their slots) and the member → slot index.
#[derive(Debug, Clone, Default)]
pub struct Large {
    tree: Tree,
    scores: Index,
}

impl Large {
    fn slot(&self, member: &[u8]) -> Option<u32> {
        self.scores.get(member, self.tree.members())
    }

    fn score(&self, member: &[u8]) -> Option<f64> {
        self.slot(member).map(|slot| self.tree.members().score(slot))
    }

    /// Sets `member`'s score; true if it was new.
    fn set(&mut self, member: &[u8], score: f64) -> bool {
        match self.slot(member) {
            Some(slot) => {
                if self.tree.members().score(slot).to_bits() != score.to_bits() {
                    self.tree.rescore(slot, score);
                }
                false
            }
            None => {
                let slot = self.tree.insert(score, member);
                self.scores.insert(slot, self.tree.members());
                true
            }
        }
    }

    fn remove(&mut self, member: &[u8]) -> bool {
        match self.scores.remove(member, self.tree.members()) {
            Some(slot) => {
                self.tree.remove(slot);
                true
            }
            None => false,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Zset {
    Packed(Compact),
    Large(Box<Large>),
}

/// Two sorted sets are equal when they hold the same members with the same scores, whatever their form.
impl PartialEq for Zset {
    fn eq(&self, other: &Zset) -> bool {
        let mut mine = Vec::with_capacity(self.len());
        self.for_each(|score, member| mine.push((score.to_bits(), member.to_vec())));
        let mut at = 0;
        let mut same = self.len() == other.len();
        other.for_each(|score, member| {
            same &= mine.get(at).is_some_and(|(s, m)| *s == score.to_bits() && m == member);
            at += 1;
        });
        same
    }
}

impl Default for Zset {
    fn default() -> Zset {
        Zset::Packed(Compact::default())
    }
}

/// A packed score entry: an integral score below 2^53 in magnitude is its shortest little-endian two's
/// complement (0 to 7 bytes; 0 is the empty entry), as Redis's listpack keeps "3" as a small integer; any
/// other score is the 8 bytes of its f64. The length tells the two apart.
#[derive(Debug, Clone, Copy)]
struct PackedScore {
    bytes: [u8; 8],
    len: usize,
}

impl PackedScore {
    fn of(score: f64) -> PackedScore {
        const EXACT_MAX: f64 = (1u64 << 53) as f64;
        if score.fract() == 0.0 && score.abs() < EXACT_MAX {
            let n = score as i64;
            let len = (0..8).find(|&len| sign_extend(&n.to_le_bytes()[..len]) == n).unwrap_or(8);
            return PackedScore { bytes: n.to_le_bytes(), len };
        }
        PackedScore { bytes: score.to_le_bytes(), len: 8 }
    }

    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// The integer held in `bytes` (little-endian, sign-extended; empty is 0).
fn sign_extend(bytes: &[u8]) -> i64 {
    let mut full = match bytes.last() {
        Some(&last) if last & 0x80 != 0 => [0xff; 8],
        _ => [0; 8],
    };
    full[..bytes.len()].copy_from_slice(bytes);
    i64::from_le_bytes(full)
}

/// Reads a packed score entry (see `PackedScore`).
fn score_of(bytes: &[u8]) -> f64 {
    match bytes.try_into() {
        Ok(raw) => f64::from_le_bytes(raw),
        Err(_) => sign_extend(bytes) as f64,
    }
}

impl Zset {
    /// An empty set in the form a set of `len_hint` members up to `member_len_max` bytes starts in (Redis's
    /// zsetTypeCreate).
    pub fn with_hint(len_hint: usize, member_len_max: usize, limits: &Limits) -> Zset {
        if limits.packs(len_hint, member_len_max) { Zset::default() } else { Zset::Large(Box::default()) }
    }

    pub fn len(&self) -> usize {
        match self {
            Zset::Packed(packed) => packed.len() / 2,
            Zset::Large(large) => large.tree.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            Zset::Packed(_) => "listpack",
            Zset::Large(_) => "skiplist",
        }
    }

    /// The packed form's (member position, member, score) triples in order.
    fn packed_entries(packed: &Compact) -> impl Iterator<Item = (usize, &[u8], f64)> {
        let mut entries = packed.iter_positions();
        std::iter::from_fn(move || {
            let (pos, member) = entries.next()?;
            let (_, score) = entries.next()?;
            Some((pos, member, score_of(score)))
        })
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            Zset::Packed(packed) => Self::packed_entries(packed).find(|(_, m, _)| *m == member).map(|(_, _, s)| s),
            Zset::Large(large) => large.score(member),
        }
    }

    /// Sets `member`'s score, converting to `skiplist` first if the set would cross `limits`. True if the
    /// member was new.
    pub fn set(&mut self, member: &[u8], score: f64, limits: &Limits) -> bool {
        debug_assert!(!score.is_nan());
        let mut is_new = true;
        if let Zset::Packed(packed) = self {
            let existing = Self::packed_entries(packed).find(|(_, m, _)| *m == member);
            if let Some((pos, _, old)) = existing {
                if old.to_bits() == score.to_bits() {
                    return false;
                }
                packed.remove_run(pos, 2);
                is_new = false;
            } else if !limits.packs(self.len() + 1, member.len()) {
                self.convert_to_large();
            }
        }
        match self {
            Zset::Packed(packed) => {
                // A listpack keeps scores as text, and Redis's d2string writes -0 as "0".
                let score = score + 0.0;
                let at = Self::packed_entries(packed).find(|(_, m, s)| precedes(score, member, *s, m));
                let score_bytes = PackedScore::of(score);
                let score_bytes = score_bytes.as_bytes();
                match at {
                    Some((pos, _, _)) => packed.insert(pos, &[member, score_bytes]),
                    None => packed.push_back(&[member, score_bytes]),
                }
                is_new
            }
            Zset::Large(large) => large.set(member, score),
        }
    }

    /// Removes `member`; false if absent.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self {
            Zset::Packed(packed) => {
                let found = Self::packed_entries(packed).find(|(_, m, _)| *m == member).map(|e| e.0);
                if let Some(pos) = found {
                    packed.remove_run(pos, 2);
                }
                found.is_some()
            }
            Zset::Large(large) => large.remove(member),
        }
    }

    /// How many members come before the first one for which `before(score, member)` is false; `before` must
    /// hold for a prefix of the order (a bound on scores or on members).
    pub fn count_while(&self, before: impl Fn(f64, &[u8]) -> bool) -> usize {
        match self {
            Zset::Packed(packed) => Self::packed_entries(packed).take_while(|(_, m, s)| before(*s, m)).count(),
            Zset::Large(large) => large.tree.count_while(before),
        }
    }

    /// The ranks `lo..hi` of a lex range: members from the first `at_least_min` one while `at_most_max`
    /// holds (from the last `at_most_max` one down while `at_least_min` holds when `rev`). On members of one
    /// score that is the span between the bounds; on a listpack of mixed scores it is what Redis's linear
    /// zzlFirstInLexRange/zzlLastInLexRange walks select, first and last members checked first as Redis's
    /// zzlIsInLexRange does.
    pub fn lex_span(
        &self,
        at_least_min: impl Fn(&[u8]) -> bool,
        at_most_max: impl Fn(&[u8]) -> bool,
        rev: bool,
        deleting: bool,
    ) -> (usize, usize) {
        // Redis first checks the last member against min and the first against max, except in
        // ZREMRANGEBYLEX's skiplist walk (zslDeleteRangeByLex), which `deleting` is.
        let (Some((_, first)), Some((_, last))) = (self.get(0), self.get(self.len().wrapping_sub(1))) else {
            return (0, 0);
        };
        let check_ends = !deleting || matches!(self, Zset::Packed(_));
        if check_ends && (!at_least_min(last) || !at_most_max(first)) {
            return (0, 0);
        }
        let packed = match self {
            Zset::Large(large) => {
                // A skiplist search finds the first member at or past min (the last at or before max when
                // `rev`) and gives up if that one is outside the other bound.
                let lo = large.tree.count_while(|_, m| !at_least_min(m));
                let hi = large.tree.count_while(|_, m| at_most_max(m));
                let start_fits = if rev {
                    hi.checked_sub(1).and_then(|top| large.tree.get(top)).is_some_and(|(_, m)| at_least_min(m))
                } else {
                    large.tree.get(lo).is_some_and(|(_, m)| at_most_max(m))
                };
                return if start_fits { (lo, hi.max(lo)) } else { (0, 0) };
            }
            Zset::Packed(packed) => packed,
        };
        let members: Vec<&[u8]> = Self::packed_entries(packed).map(|(_, m, _)| m).collect();
        if rev {
            let Some(top) = members.iter().rposition(|m| at_most_max(m)) else { return (0, 0) };
            if !at_least_min(members[top]) {
                return (0, 0);
            }
            let lo = members[..top].iter().rposition(|m| !at_least_min(m)).map_or(0, |i| i + 1);
            (lo, top + 1)
        } else {
            let Some(lo) = members.iter().position(|m| at_least_min(m)) else { return (0, 0) };
            if !at_most_max(members[lo]) {
                return (0, 0);
            }
            let hi = members[lo..].iter().position(|m| !at_most_max(m)).map_or(members.len(), |i| lo + i);
            (lo, hi)
        }
    }

    /// The 0-based rank of `member` in ascending order, with its score.
    pub fn rank(&self, member: &[u8]) -> Option<(usize, f64)> {
        match self {
            Zset::Packed(packed) => Self::packed_entries(packed)
                .enumerate()
                .find(|(_, (_, m, _))| *m == member)
                .map(|(r, (_, _, s))| (r, s)),
            Zset::Large(large) => {
                let slot = large.slot(member)?;
                Some((large.tree.rank_of(slot), large.tree.members().score(slot)))
            }
        }
    }

    /// Calls `f(score, member)` for the ranks `start..end` (clipped to the set), ascending, or descending when
    /// `rev` (then `start..end` still counts from the lowest score).
    pub fn visit(&self, start: usize, end: usize, rev: bool, mut f: impl FnMut(f64, &[u8])) {
        let end = end.min(self.len());
        if start >= end {
            return;
        }
        match self {
            Zset::Packed(packed) => {
                let range = Self::packed_entries(packed).skip(start).take(end - start);
                if rev {
                    // A listpack walks forwards only; a reversed range of at most entries_max members is
                    // gathered first.
                    let gathered: Vec<(f64, &[u8])> = range.map(|(_, m, s)| (s, m)).collect();
                    gathered.into_iter().rev().for_each(|(s, m)| f(s, m));
                } else {
                    range.for_each(|(_, m, s)| f(s, m));
                }
            }
            Zset::Large(large) => large.tree.visit(start, end, rev, f),
        }
    }

    /// Removes the members of ranks `start..end` (clipped to the set).
    pub fn remove_ranks(&mut self, start: usize, end: usize) {
        let end = end.min(self.len());
        if start >= end {
            return;
        }
        match self {
            Zset::Packed(packed) => {
                let pos = packed.position(start * 2).expect("a rank below the length");
                packed.remove_run(pos, (end - start) * 2);
            }
            Zset::Large(large) => {
                for _ in start..end {
                    let slot = large.tree.take_at(start).expect("a rank below the length");
                    large.scores.remove(large.tree.members().member(slot), large.tree.members());
                    large.tree.release(slot);
                }
            }
        }
    }

    /// Every member with its score, ascending.
    pub fn for_each(&self, f: impl FnMut(f64, &[u8])) {
        self.visit(0, usize::MAX, false, f);
    }

    /// The longest member's length (for the STORE commands' choice of form).
    pub fn member_len_max(&self) -> usize {
        let mut max = 0;
        self.for_each(|_, m| max = max.max(m.len()));
        max
    }

    /// Packs a `skiplist` that fits `limits` back into a listpack (Redis's zsetConvertToListpackIfNeeded, for
    /// the results of the STORE commands).
    pub fn pack_if_fits(&mut self, limits: &Limits) {
        if matches!(self, Zset::Large(_)) && limits.packs(self.len(), self.member_len_max()) {
            let mut packed = Compact::default();
            self.for_each(|score, member| packed.push_back(&[member, PackedScore::of(score + 0.0).as_bytes()]));
            *self = Zset::Packed(packed);
        }
    }

    /// The `skiplist` form from here on, whatever the size (SORT's zsetConvert; `set` converts by itself).
    pub fn convert_to_large(&mut self) {
        if matches!(self, Zset::Large(_)) {
            return;
        }
        let mut large = Box::<Large>::default();
        self.for_each(|score, member| {
            large.set(member, score);
        });
        *self = Zset::Large(large);
    }

    /// A uniformly random member's rank, drawn by the caller.
    pub fn get(&self, rank: usize) -> Option<(f64, &[u8])> {
        match self {
            Zset::Packed(packed) => Self::packed_entries(packed).nth(rank).map(|(_, m, s)| (s, m)),
            Zset::Large(large) => large.tree.get(rank),
        }
    }

    /// Heap bytes held (MEMORY USAGE): exact for the listpack; for a `skiplist` the tree's, the slots' and the
    /// index's own allocations plus the members' buffers estimated from the first `samples`, as Redis samples
    /// its dict.
    pub fn heap_bytes(&self, samples: usize) -> usize {
        match self {
            Zset::Packed(packed) => packed.heap_bytes(),
            Zset::Large(large) => {
                let members = large.tree.slots().map(|(_, m)| m.heap_bytes());
                size_of::<Large>()
                    + large.tree.node_bytes()
                    + large.scores.allocation_size()
                    + super::sampled_estimate(members, large.scores.len(), samples)
            }
        }
    }

    /// ZSCAN: a listpack answers whole (cursor 0 next); a `skiplist` in windows of the 64-bit hash space of its
    /// members, which a member never leaves, so every member present for the whole scan is returned.
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(f64, &[u8])) -> u64 {
        let large = match self {
            Zset::Packed(_) => {
                self.for_each(f);
                return 0;
            }
            Zset::Large(large) => large,
        };
        let hash = |member: &[u8]| large.scores.hash(member);
        let mut hashes: Vec<u64> = large.tree.slots().map(|(_, m)| hash(m)).filter(|&h| h >= cursor).collect();
        let batch = count.max(large.scores.len() / SCAN_PASSES_MAX).max(1);
        let threshold = if hashes.len() <= batch { u64::MAX } else { *hashes.select_nth_unstable(batch - 1).1 };
        let members = large.tree.members();
        for (slot, member) in large.tree.slots() {
            if (cursor..=threshold).contains(&hash(member)) {
                f(members.score(slot), member);
            }
        }
        threshold.wrapping_add(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_scores_round_trip_in_their_shortest_form() {
        for (score, len) in [(0.0, 0), (1.0, 1), (-1.0, 1), (127.0, 1), (128.0, 2), (-129.0, 2), (1.5, 8)] {
            let packed = PackedScore::of(score);
            assert_eq!((packed.len, score_of(packed.as_bytes())), (len, score), "{score}");
        }
        for score in
            [9007199254740991.0, -9007199254740991.0, 9007199254740992.0, f64::INFINITY, f64::NEG_INFINITY, 1e300]
        {
            assert_eq!(score_of(PackedScore::of(score).as_bytes()), score);
        }
    }

    /// Both forms against a sorted Vec over random sets, updates, removals and rank/range queries, with
    /// limits small enough that sets convert.
    #[test]
    fn both_forms_match_a_sorted_vec_model() {
        let mut rng = crate::util::rng::Rng::new(11);
        let limits = Limits { entries_max: 16, value_max: 8 };
        let mut zset = Zset::default();
        let mut model: Vec<(f64, Vec<u8>)> = Vec::new();
        for _ in 0..20_000 {
            let member = format!("m{}", rng.below(40)).into_bytes();
            let score = rng.below(20) as f64 / 2.0 - 4.0;
            let at = model.iter().position(|(_, m)| *m == member);
            if rng.below(3) == 0 {
                assert_eq!(zset.remove(&member), at.is_some());
                if let Some(at) = at {
                    model.remove(at);
                }
            } else {
                assert_eq!(zset.set(&member, score, &limits), at.is_none());
                if let Some(at) = at {
                    model.remove(at);
                }
                let pos = model.partition_point(|(s, m)| (*s, m.as_slice()) < (score, member.as_slice()));
                model.insert(pos, (score, member.clone()));
            }
            assert_eq!(zset.len(), model.len());
            assert_eq!(zset.score(&member), model.iter().find(|(_, m)| *m == member).map(|(s, _)| *s));
            if let Some(rank) = model.iter().position(|(_, m)| *m == member) {
                assert_eq!(zset.rank(&member).map(|(r, _)| r), Some(rank));
            }
            let bound = score;
            assert_eq!(zset.count_while(|s, _| s < bound), model.partition_point(|(s, _)| *s < bound));
            let mut seen = Vec::new();
            zset.visit(1, 6, true, |s, m| seen.push((s, m.to_vec())));
            let expect: Vec<_> = model.iter().take(6).skip(1).rev().cloned().collect();
            assert_eq!(seen, expect);
        }
        assert_eq!(zset.encoding(), "skiplist");
    }
}
