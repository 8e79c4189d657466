//! Sorted set values as a pure structure (Redis's `t_zset.c` data side): no RESP, no I/O, no server state.
//!
//! Two representations, named as `OBJECT ENCODING` names them in Redis 7.0:
//! - `listpack`: one `PackedZset` (`zset_pack`) holding member, score, member, score, … in (score, member)
//!   order, scores as short decimals and members front-coded, so reading a score costs no parse. Operations
//!   scan, so it is kept small: at most `Limits::entries_max` members of at most `Limits::value_max` bytes.
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

use super::zset_index::Index;
use super::zset_pack::{Builder, PackedZset};
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
    Packed(PackedZset),
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
        Zset::Packed(PackedZset::default())
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
            Zset::Packed(packed) => packed.len(),
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

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            Zset::Packed(packed) => packed.find(member).map(|(_, score)| score),
            Zset::Large(large) => large.score(member),
        }
    }

    /// Sets `member`'s score, converting to `skiplist` first if the set would cross `limits`. True if the
    /// member was new.
    pub fn set(&mut self, member: &[u8], score: f64, limits: &Limits) -> bool {
        debug_assert!(!score.is_nan());
        if let Zset::Packed(packed) = self {
            // A listpack keeps scores as text, and Redis's d2string writes -0 as "0".
            let score = score + 0.0;
            // One scan finds the member and where it goes.
            let (existing, at) = packed.locate(member, |s, m| !precedes(score, member, s, m));
            match existing {
                Some((_, old)) if old.to_bits() == score.to_bits() => return false,
                Some((rank, _)) => {
                    packed.splice(rank, rank + 1, &[]);
                    packed.splice(at, at, &[(member, score)]);
                    return false;
                }
                None if limits.packs(packed.len() + 1, member.len()) => {
                    packed.splice(at, at, &[(member, score)]);
                    return true;
                }
                None => self.convert_to_large(),
            }
        }
        match self {
            Zset::Packed(_) => unreachable!("converted above"),
            Zset::Large(large) => large.set(member, score),
        }
    }

    /// Removes `member`; false if absent.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self {
            Zset::Packed(packed) => {
                let found = packed.find(member);
                if let Some((rank, _)) = found {
                    packed.splice(rank, rank + 1, &[]);
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
            Zset::Packed(packed) => packed.count_while(before),
            Zset::Large(large) => large.tree.count_while(before),
        }
    }

    /// `count_while` for a bound on scores alone: the `skiplist` then never reads a member (a slab slot away
    /// from the order's entries).
    pub fn count_scores_while(&self, before: impl Fn(f64) -> bool) -> usize {
        match self {
            Zset::Packed(packed) => packed.count_while(|s, _| before(s)),
            Zset::Large(large) => large.tree.count_scores_while(before),
        }
    }

    /// Calls `f(score, member)` for up to `take` members, ascending, from the `skip`-th one after the first whose
    /// score fails `before` (a bound on scores): a range with a LIMIT, walked as Redis walks it.
    pub fn visit_from_score(&self, before: impl Fn(f64) -> bool, skip: usize, take: usize, f: impl FnMut(f64, &[u8])) {
        match self {
            Zset::Packed(packed) => {
                let start = packed.count_while(|s, _| before(s)).saturating_add(skip);
                packed.visit(start, start.saturating_add(take), f);
            }
            Zset::Large(large) => large.tree.visit_from_score(before, skip, take, f),
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
        let large = match self {
            Zset::Packed(packed) => return Self::packed_lex_span(packed, at_least_min, at_most_max, rev),
            Zset::Large(large) => large,
        };
        let tree = &large.tree;
        let (Some((_, first)), Some((_, last))) = (tree.get(0), tree.get(tree.len().wrapping_sub(1))) else {
            return (0, 0);
        };
        // Redis first checks the last member against min and the first against max, except in
        // ZREMRANGEBYLEX's skiplist walk (zslDeleteRangeByLex), which `deleting` is.
        if !deleting && (!at_least_min(last) || !at_most_max(first)) {
            return (0, 0);
        }
        // A skiplist search finds the first member at or past min (the last at or before max when `rev`) and
        // gives up if that one is outside the other bound.
        let lo = tree.count_while(|_, m| !at_least_min(m));
        let hi = tree.count_while(|_, m| at_most_max(m));
        let start_fits = if rev {
            hi.checked_sub(1).and_then(|top| tree.get(top)).is_some_and(|(_, m)| at_least_min(m))
        } else {
            tree.get(lo).is_some_and(|(_, m)| at_most_max(m))
        };
        if start_fits { (lo, hi.max(lo)) } else { (0, 0) }
    }

    /// `lex_span` on a listpack: Redis's linear walks, on each member's (at least min, at most max) flags.
    fn packed_lex_span(
        packed: &PackedZset,
        at_least_min: impl Fn(&[u8]) -> bool,
        at_most_max: impl Fn(&[u8]) -> bool,
        rev: bool,
    ) -> (usize, usize) {
        let mut flags: Vec<(bool, bool)> = Vec::with_capacity(packed.len());
        packed.visit(0, usize::MAX, |_, m| flags.push((at_least_min(m), at_most_max(m))));
        let (Some(first), Some(last)) = (flags.first(), flags.last()) else { return (0, 0) };
        if !last.0 || !first.1 {
            return (0, 0);
        }
        if rev {
            let Some(top) = flags.iter().rposition(|f| f.1) else { return (0, 0) };
            if !flags[top].0 {
                return (0, 0);
            }
            let lo = flags[..top].iter().rposition(|f| !f.0).map_or(0, |i| i + 1);
            (lo, top + 1)
        } else {
            let Some(lo) = flags.iter().position(|f| f.0) else { return (0, 0) };
            if !flags[lo].1 {
                return (0, 0);
            }
            let hi = flags[lo..].iter().position(|f| !f.1).map_or(flags.len(), |i| lo + i);
            (lo, hi)
        }
    }

    /// The 0-based rank of `member` in ascending order, with its score.
    pub fn rank(&self, member: &[u8]) -> Option<(usize, f64)> {
        match self {
            Zset::Packed(packed) => packed.find(member),
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
            Zset::Packed(packed) if rev => {
                // A listpack walks forwards only; a reversed range of at most entries_max members is gathered
                // first, the members' bytes in one buffer.
                let mut text = Vec::new();
                let mut spans = Vec::with_capacity(end - start);
                packed.visit(start, end, |s, m| {
                    spans.push((s, text.len(), text.len() + m.len()));
                    text.extend_from_slice(m);
                });
                spans.iter().rev().for_each(|&(s, from, to)| f(s, &text[from..to]));
            }
            Zset::Packed(packed) => packed.visit(start, end, f),
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
            Zset::Packed(packed) => packed.splice(start, end, &[]),
            Zset::Large(large) => {
                for _ in start..end {
                    let slot = large.tree.take_at(start).expect("a rank below the length");
                    large.scores.remove(large.tree.members().member(slot), large.tree.members());
                    large.tree.release(slot);
                }
                // The member now at the cut is the next pop's (ZPOPMIN's at `start`, ZPOPMAX's just below).
                large.tree.touch(start.min(large.tree.len().wrapping_sub(1)));
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
            let mut packed = Builder::default();
            self.for_each(|score, member| packed.push(member, score + 0.0));
            *self = Zset::Packed(packed.finish());
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

    /// `f(score, member)` of the member of rank `rank`, if any (a listpack rebuilds its members one at a time,
    /// so the member is lent to `f`).
    pub fn with_rank<R>(&self, rank: usize, f: impl FnOnce(f64, &[u8]) -> R) -> Option<R> {
        match self {
            Zset::Packed(packed) => {
                let mut f = Some(f);
                let mut out = None;
                packed.visit(rank, rank + 1, |s, m| out = f.take().map(|f| f(s, m)));
                out
            }
            Zset::Large(large) => large.tree.get(rank).map(|(s, m)| f(s, m)),
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

    /// Both forms against a sorted Vec over random sets, updates, removals and rank/range queries, with
    /// limits small enough that sets convert.
    #[test]
    fn both_forms_match_a_sorted_vec_model() {
        let mut rng = crate::util::rng::Rng::new(11);
        let limits = Limits { entries_max: 16, value_max: 8 };
        let mut zset = Zset::default();
        let mut model: Vec<(f64, Vec<u8>)> = Vec::new();
        for _ in 0..20_000 {
            // Half the members share a 4-byte prefix, which the listpack front-codes.
            let member = format!("{}{}", ["m", "mbr:"][rng.below(2)], rng.below(20)).into_bytes();
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
            let (skip, take) = (rng.below(4), rng.below(6));
            let mut walked = Vec::new();
            zset.visit_from_score(|s| s < bound, skip, take, |s, m| walked.push((s, m.to_vec())));
            let start = model.partition_point(|(s, _)| *s < bound) + skip;
            assert_eq!(walked, model.iter().skip(start).take(take).cloned().collect::<Vec<_>>());
            let mut seen = Vec::new();
            zset.visit(1, 6, true, |s, m| seen.push((s, m.to_vec())));
            let expect: Vec<_> = model.iter().take(6).skip(1).rev().cloned().collect();
            assert_eq!(seen, expect);
        }
        assert_eq!(zset.encoding(), "skiplist");
    }
}
