//! Set values as a pure structure (Redis's t_set.c representation layer): no RESP, no I/O, no server state.
//!
//! Three representations, converted one way only, as Redis does:
//! - `Ints` (`OBJECT ENCODING intset`): a sorted array of integers, 16, 32 or 64 bits wide, widened when a
//!   member needs it (Redis's intset upgrade). Used while every member is a canonical integer (`string2ll`)
//!   and there are at most `set-max-intset-entries` of them. Membership is a binary search.
//! - `Packed` (reported as `hashtable`): members in one `Packed` buffer, while there are at most
//!   `set-max-listpack-entries` members of at most `set-max-listpack-value` bytes. Redis 7.0, our oracle,
//!   has no set listpack, so OBJECT ENCODING keeps saying `hashtable`; the representation is ours, for
//!   memory: a small member costs its bytes plus two.
//! - `Table` (`hashtable`): a hashbrown table of `SmallBytes`, inline up to 22 bytes, so a short member
//!   costs one 24-byte slot and a control byte, with no allocation of its own.
//!
//! API: `add`, `remove`, `contains`, `len`, `iter` (members as `Member`, integers unformatted), random
//! access for SPOP/SRANDMEMBER (`random`, `pop_random`, `sample_distinct`), and `scan` for SSCAN.
//! `Limits` carries the three thresholds, read from the config by the caller at each write.
//!
//! Invariants: an `Ints` holds sorted distinct values, all of which fit its width, and at least one needs
//! it (or it is empty and 16 bits wide); a `Packed` holds distinct members; nothing converts back.

use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};

use super::packed::Packed;
use crate::db::small::SmallBytes;
use crate::util::num::parse_i64;
use crate::util::rng::Rng;

/// The conversion thresholds (Redis's `set-max-intset-entries`, `set-max-listpack-entries`/`-value`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub intset_entries: usize,
    pub packed_entries: usize,
    pub packed_value: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { intset_entries: 512, packed_entries: 128, packed_value: 64 }
    }
}

/// Longest decimal text of an i64 (`-9223372036854775808`): what an integer member costs in a `Packed`.
const INT_TEXT_LEN_MAX: usize = 20;

/// Random bucket probes before a table falls back to walking it: a bound, not an expected cost, because the
/// table is kept at least 1/8 full, so each probe hits with probability at least 1/8.
const RANDOM_PROBES_MAX: usize = 64;

/// One member, as stored: integers stay binary until a reply formats them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Member<'a> {
    Int(i64),
    Bytes(&'a [u8]),
}

impl Member<'_> {
    /// Calls `f` with the member's text; an integer is formatted on the stack.
    pub fn with_bytes<R>(self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            Member::Int(n) => f(itoa::Buffer::new().format(n).as_bytes()),
            Member::Bytes(b) => f(b),
        }
    }
}

/// A member taken out of a set (SPOP).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owned {
    Int(i64),
    Bytes(SmallBytes),
}

impl Owned {
    pub fn as_member(&self) -> Member<'_> {
        match self {
            Owned::Int(n) => Member::Int(*n),
            Owned::Bytes(b) => Member::Bytes(b),
        }
    }
}

/// A sorted integer array in the narrowest width that holds every value (Redis's intset).
#[derive(Debug, Clone)]
pub enum IntSet {
    I16(Vec<i16>),
    I32(Vec<i32>),
    I64(Vec<i64>),
}

/// Runs `$body` with `$v` bound to the vector of whatever width `$set` has.
macro_rules! with_ints {
    ($set:expr, $v:ident => $body:expr) => {
        match $set {
            IntSet::I16($v) => $body,
            IntSet::I32($v) => $body,
            IntSet::I64($v) => $body,
        }
    };
}

impl IntSet {
    fn len(&self) -> usize {
        with_ints!(self, v => v.len())
    }

    fn get(&self, index: usize) -> i64 {
        match self {
            IntSet::I16(v) => i64::from(v[index]),
            IntSet::I32(v) => i64::from(v[index]),
            IntSet::I64(v) => v[index],
        }
    }

    /// Index of `n`, or where it would go.
    fn search(&self, n: i64) -> Result<usize, usize> {
        match self {
            IntSet::I16(v) => i16::try_from(n).map_err(|_| edge(n, v.len())).and_then(|n| v.binary_search(&n)),
            IntSet::I32(v) => i32::try_from(n).map_err(|_| edge(n, v.len())).and_then(|n| v.binary_search(&n)),
            IntSet::I64(v) => v.binary_search(&n),
        }
    }

    fn insert(&mut self, n: i64) -> bool {
        self.widen_for(n);
        let Err(index) = self.search(n) else { return false };
        // Grow by a quarter, not double: an intset is usually small and lives long.
        match self {
            IntSet::I16(v) => insert_at(v, index, n as i16),
            IntSet::I32(v) => insert_at(v, index, n as i32),
            IntSet::I64(v) => insert_at(v, index, n),
        }
        true
    }

    fn remove_at(&mut self, index: usize) {
        with_ints!(self, v => {
            v.remove(index);
        });
    }

    /// Redis's intsetUpgradeAndAdd: a value that does not fit widens every element.
    fn widen_for(&mut self, n: i64) {
        let widened = match self {
            IntSet::I16(v) if i16::try_from(n).is_err() => {
                if i32::try_from(n).is_ok() {
                    IntSet::I32(v.iter().map(|&x| i32::from(x)).collect())
                } else {
                    IntSet::I64(v.iter().map(|&x| i64::from(x)).collect())
                }
            }
            IntSet::I32(v) if i32::try_from(n).is_err() => IntSet::I64(v.iter().map(|&x| i64::from(x)).collect()),
            _ => return,
        };
        *self = widened;
    }
}

/// Where a value too wide for the array sorts: before everything if negative, after everything if positive.
fn edge(n: i64, len: usize) -> usize {
    if n < 0 { 0 } else { len }
}

fn insert_at<T>(v: &mut Vec<T>, index: usize, x: T) {
    if v.len() == v.capacity() {
        v.reserve_exact((v.len() / 4).max(1));
    }
    v.insert(index, x);
}

/// The large representation: members in a hashbrown table, hashed as bytes.
#[derive(Debug, Clone, Default)]
pub struct Table {
    table: HashTable<SmallBytes>,
    hasher: DefaultHashBuilder,
}

impl Table {
    fn hash(&self, member: &[u8]) -> u64 {
        self.hasher.hash_one(member)
    }

    fn contains(&self, member: &[u8]) -> bool {
        self.table.find(self.hash(member), |m| &**m == member).is_some()
    }

    fn insert(&mut self, member: &[u8]) -> bool {
        let hash = self.hash(member);
        if self.table.find(hash, |m| &**m == member).is_some() {
            return false;
        }
        let hasher = &self.hasher;
        self.table.insert_unique(hash, SmallBytes::from(member), |m| hasher.hash_one(&**m));
        true
    }

    fn remove(&mut self, member: &[u8]) -> bool {
        let hash = self.hash(member);
        let Ok(entry) = self.table.find_entry(hash, |m| &**m == member) else { return false };
        entry.remove();
        self.shrink_if_sparse();
        true
    }

    /// Keeps the table at least 1/8 full, as Redis's dict resize keeps 1/10, so random probes stay cheap and
    /// a set emptied by SPOP gives its memory back.
    fn shrink_if_sparse(&mut self) {
        if self.table.num_buckets() > 64 && self.table.len() * 8 < self.table.num_buckets() {
            let hasher = &self.hasher;
            self.table.shrink_to(self.table.len() * 2, |m| hasher.hash_one(&**m));
        }
    }

    /// A random occupied bucket index (the table must not be empty).
    fn random_bucket(&self, rng: &mut Rng) -> usize {
        debug_assert!(!self.table.is_empty());
        for _ in 0..RANDOM_PROBES_MAX {
            let index = rng.below(self.table.num_buckets());
            if self.table.get_bucket(index).is_some() {
                return index;
            }
        }
        // Unlucky probes: count the occupied buckets and take one of them uniformly.
        let nth = rng.below(self.table.len());
        (0..self.table.num_buckets()).filter(|&i| self.table.get_bucket(i).is_some()).nth(nth).unwrap_or(0)
    }
}

/// A set value.
#[derive(Debug, Clone)]
pub enum Set {
    Ints(IntSet),
    Packed(Packed),
    Table(Table),
}

impl Default for Set {
    fn default() -> Set {
        Set::Ints(IntSet::I16(Vec::new()))
    }
}

/// Two sets are equal when they hold the same members, whatever their representations.
impl PartialEq for Set {
    fn eq(&self, other: &Set) -> bool {
        self.len() == other.len() && self.iter().all(|m| m.with_bytes(|b| other.contains(b)))
    }
}

impl Set {
    pub fn new() -> Set {
        Set::default()
    }

    /// The `OBJECT ENCODING` name. `Packed` says `hashtable` because Redis 7.0 has no set listpack.
    pub fn encoding(&self) -> &'static str {
        match self {
            Set::Ints(_) => "intset",
            Set::Packed(_) | Set::Table(_) => "hashtable",
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Set::Ints(ints) => ints.len(),
            Set::Packed(packed) => packed.len(),
            Set::Table(table) => table.table.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn contains(&self, member: &[u8]) -> bool {
        match self {
            Set::Ints(ints) => parse_i64(member).is_some_and(|n| ints.search(n).is_ok()),
            Set::Packed(packed) => packed.find(member, 1).is_some(),
            Set::Table(table) => table.contains(member),
        }
    }

    /// `contains` for a member of another set: an integer meets an intset without being formatted.
    pub fn contains_member(&self, member: Member<'_>) -> bool {
        match (self, member) {
            (Set::Ints(ints), Member::Int(n)) => ints.search(n).is_ok(),
            (_, member) => member.with_bytes(|b| self.contains(b)),
        }
    }

    /// Adds `member`; returns whether it was new. Converts first when the member or the new size does not fit
    /// the current representation (Redis's setTypeAdd).
    pub fn add(&mut self, member: &[u8], limits: &Limits) -> bool {
        if let Set::Ints(ints) = self {
            match parse_i64(member) {
                Some(n) if ints.search(n).is_ok() => return false,
                Some(n) if ints.len() < limits.intset_entries => return ints.insert(n),
                _ => {}
            }
            // An integer's text is at most 20 bytes, so only a limit set below that needs the members checked.
            let fits_packed = ints.len() < limits.packed_entries
                && member.len() <= limits.packed_value
                && (INT_TEXT_LEN_MAX <= limits.packed_value || self.longest_int_fits(limits));
            self.convert(fits_packed);
        }
        if let Set::Packed(packed) = self {
            if packed.find(member, 1).is_some() {
                return false;
            }
            if packed.len() < limits.packed_entries && member.len() <= limits.packed_value {
                packed.push_back(member);
                return true;
            }
            self.convert(false);
        }
        match self {
            Set::Table(table) => table.insert(member),
            Set::Ints(_) | Set::Packed(_) => unreachable!("converted to a table above"),
        }
    }

    /// Whether every integer's text fits `set-max-listpack-value` (only asked when that limit is set below 20).
    fn longest_int_fits(&self, limits: &Limits) -> bool {
        self.iter().all(|m| m.with_bytes(|b| b.len() <= limits.packed_value))
    }

    /// `add` for a member of another set: an integer goes into an intset without being formatted and parsed.
    pub fn add_member(&mut self, member: Member<'_>, limits: &Limits) -> bool {
        if let (Set::Ints(ints), Member::Int(n)) = (&mut *self, member)
            && (ints.len() < limits.intset_entries || ints.search(n).is_ok())
        {
            return ints.insert(n);
        }
        member.with_bytes(|bytes| self.add(bytes, limits))
    }

    /// Moves every member to a `Packed` (if `packed`) or a `Table`.
    fn convert(&mut self, packed: bool) {
        let mut next = if packed { Set::Packed(Packed::new()) } else { Set::Table(Table::default()) };
        if let Set::Table(table) = &mut next {
            let hasher = &table.hasher;
            table.table.reserve(self.len() + 1, |m| hasher.hash_one(&**m));
        }
        for member in self.iter() {
            member.with_bytes(|b| match &mut next {
                Set::Packed(p) => p.push_back(b),
                Set::Table(t) => {
                    t.insert(b);
                }
                Set::Ints(_) => {}
            });
        }
        *self = next;
    }

    /// Removes `member`; returns whether it was there.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self {
            Set::Ints(ints) => match parse_i64(member).map(|n| ints.search(n)) {
                Some(Ok(index)) => {
                    ints.remove_at(index);
                    true
                }
                _ => false,
            },
            Set::Packed(packed) => match packed.find(member, 1) {
                Some(pos) => {
                    packed.remove(pos);
                    true
                }
                None => false,
            },
            Set::Table(table) => table.remove(member),
        }
    }

    /// Every member; an intset's come in ascending order.
    pub fn iter(&self) -> Iter<'_> {
        match self {
            Set::Ints(ints) => Iter::Ints { ints, index: 0 },
            Set::Packed(packed) => Iter::Packed(packed.iter()),
            Set::Table(table) => Iter::Table(table.table.iter()),
        }
    }

    /// A uniformly random member, or `None` when empty.
    pub fn random(&self, rng: &mut Rng) -> Option<Member<'_>> {
        if self.is_empty() {
            return None;
        }
        Some(match self {
            Set::Ints(ints) => Member::Int(ints.get(rng.below(ints.len()))),
            Set::Packed(packed) => {
                let pos = packed.position(rng.below(packed.len()))?;
                Member::Bytes(packed.entry(pos).0)
            }
            Set::Table(table) => Member::Bytes(table.table.get_bucket(table.random_bucket(rng))?),
        })
    }

    /// Removes and returns a uniformly random member, or `None` when empty.
    pub fn pop_random(&mut self, rng: &mut Rng) -> Option<Owned> {
        if self.is_empty() {
            return None;
        }
        Some(match self {
            Set::Ints(ints) => {
                let index = rng.below(ints.len());
                let n = ints.get(index);
                ints.remove_at(index);
                Owned::Int(n)
            }
            Set::Packed(packed) => {
                let pos = packed.position(rng.below(packed.len()))?;
                let member = SmallBytes::from(packed.entry(pos).0);
                packed.remove(pos);
                Owned::Bytes(member)
            }
            Set::Table(table) => {
                let index = table.random_bucket(rng);
                let member = table.table.get_bucket_entry(index).ok()?.remove().0;
                table.shrink_if_sparse();
                Owned::Bytes(member)
            }
        })
    }

    /// `count` distinct random members (`count` below `len()`), passed to `f` (SRANDMEMBER with a positive
    /// count). Memory is bounded by the set's size, never by a caller's count.
    pub fn sample_distinct(&self, count: usize, rng: &mut Rng, mut f: impl FnMut(Member<'_>)) {
        debug_assert!(count < self.len());
        if let Set::Table(table) = self
            && count.saturating_mul(3) <= self.len()
        {
            // Few members of a big table: random buckets, remembering which were taken (Redis's CASE 4).
            let mut taken = hashbrown::HashSet::with_capacity(count);
            while taken.len() < count {
                let index = table.random_bucket(rng);
                if taken.insert(index)
                    && let Some(member) = table.table.get_bucket(index)
                {
                    f(Member::Bytes(member));
                }
            }
            return;
        }
        // Otherwise a partial Fisher-Yates shuffle of every member.
        let mut members: Vec<Member<'_>> = self.iter().collect();
        for i in 0..count {
            let j = i + rng.below(members.len() - i);
            members.swap(i, j);
            f(members[i]);
        }
    }

    /// One SSCAN step from `cursor`: passes members to `f` and returns the next cursor (0 when done).
    ///
    /// Small representations answer everything at once with cursor 0, as Redis does for intsets. A table's
    /// cursor is a bucket index times 64 plus log2 of the bucket count it was issued for; if the table has
    /// resized since, the scan restarts from bucket 0, which may repeat members (SCAN allows that) but never
    /// misses one that stayed in the set.
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(Member<'_>)) -> u64 {
        let Set::Table(table) = self else {
            self.iter().for_each(f);
            return 0;
        };
        let buckets = table.table.num_buckets();
        let size_tag = u64::from(buckets.trailing_zeros());
        let mut index = if cursor & 63 == size_tag { (cursor >> 6) as usize } else { 0 };
        let mut found = 0;
        while index < buckets && found < count {
            if let Some(member) = table.table.get_bucket(index) {
                f(Member::Bytes(member));
                found += 1;
            }
            index += 1;
        }
        if index >= buckets { 0 } else { ((index as u64) << 6) | size_tag }
    }
}

/// Iterator over a set's members.
#[derive(Debug, Clone)]
pub enum Iter<'a> {
    Ints { ints: &'a IntSet, index: usize },
    Packed(super::packed::Iter<'a>),
    Table(hashbrown::hash_table::Iter<'a, SmallBytes>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = Member<'a>;

    fn next(&mut self) -> Option<Member<'a>> {
        match self {
            Iter::Ints { ints, index } => {
                let n = (*index < ints.len()).then(|| ints.get(*index))?;
                *index += 1;
                Some(Member::Int(n))
            }
            Iter::Packed(iter) => iter.next().map(Member::Bytes),
            Iter::Table(iter) => iter.next().map(|m| Member::Bytes(m)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn members(set: &Set) -> Vec<Vec<u8>> {
        set.iter().map(|m| m.with_bytes(<[u8]>::to_vec)).collect()
    }

    fn set_of(items: &[&[u8]], limits: &Limits) -> Set {
        let mut set = Set::new();
        for item in items {
            set.add(item, limits);
        }
        set
    }

    #[test]
    fn intset_widens_and_stays_sorted() {
        let limits = Limits::default();
        let mut set = set_of(&[b"5", b"-3", b"100"], &limits);
        assert!(matches!(set, Set::Ints(IntSet::I16(_))));
        assert!(set.add(b"70000", &limits));
        assert!(matches!(set, Set::Ints(IntSet::I32(_))));
        assert!(set.add(b"-9223372036854775808", &limits));
        assert!(matches!(set, Set::Ints(IntSet::I64(_))));
        assert!(!set.add(b"5", &limits));
        assert_eq!(members(&set), [&b"-9223372036854775808"[..], b"-3", b"5", b"100", b"70000"]);
        assert!(set.contains(b"70000") && !set.contains(b"70001") && !set.contains(b"99999999999"));
        assert_eq!(set.encoding(), "intset");
    }

    #[test]
    fn non_canonical_integers_leave_the_intset() {
        for odd in [&b"007"[..], b"+1", b" 1", b"-0", b"1.0", b"9223372036854775808"] {
            let mut set = set_of(&[b"1"], &Limits::default());
            assert!(set.add(odd, &Limits::default()));
            assert!(matches!(set, Set::Packed(_)), "{odd:?}");
            assert_eq!(set.encoding(), "hashtable");
            assert!(set.contains(b"1") && set.contains(odd));
        }
    }

    #[test]
    fn thresholds_convert_one_way() {
        let limits = Limits { intset_entries: 4, packed_entries: 6, packed_value: 8 };
        let mut set = set_of(&[b"1", b"2", b"3", b"4"], &limits);
        assert!(matches!(set, Set::Ints(_)));
        set.add(b"5", &limits);
        assert!(matches!(set, Set::Packed(_)), "past the intset limit, into the packed form");
        set.add(b"6", &limits);
        set.add(b"7", &limits);
        assert!(matches!(set, Set::Table(_)), "past the packed entry limit");
        for n in 1..=7 {
            set.remove(n.to_string().as_bytes());
        }
        assert!(set.is_empty() && matches!(set, Set::Table(_)), "no conversion back");
        let mut set = set_of(&[b"a"], &limits);
        set.add(b"123456789", &limits);
        assert!(matches!(set, Set::Table(_)), "past the packed value limit");
        let narrow = Limits { intset_entries: 1, packed_entries: 6, packed_value: 3 };
        let mut set = set_of(&[b"-1000"], &narrow);
        set.add(b"a", &narrow);
        assert!(matches!(set, Set::Table(_)), "an integer longer than the value limit");
    }

    #[test]
    fn sampling_and_popping_stay_inside_the_set() {
        let limits = Limits::default();
        let mut rng = Rng::new(3);
        for items in [vec!["1", "2", "3", "4", "5"], vec!["a", "b", "c", "d", "e"]] {
            let mut set = Set::new();
            for item in &items {
                set.add(item.as_bytes(), &limits);
            }
            for _ in 0..200 {
                let m = set.random(&mut rng).unwrap().with_bytes(<[u8]>::to_vec);
                assert!(set.contains(&m));
            }
            for count in 0..items.len() {
                let mut seen = HashSet::new();
                set.sample_distinct(count, &mut rng, |m| assert!(seen.insert(m.with_bytes(<[u8]>::to_vec))));
                assert_eq!(seen.len(), count);
            }
            let mut popped = HashSet::new();
            while let Some(m) = set.pop_random(&mut rng) {
                assert!(popped.insert(m.as_member().with_bytes(<[u8]>::to_vec)));
            }
            assert_eq!(popped.len(), items.len());
        }
    }

    #[test]
    fn table_scan_visits_everything_and_restarts_after_a_resize() {
        let limits = Limits::default();
        let mut set = Set::new();
        for i in 0..1000 {
            set.add(format!("m{i}").as_bytes(), &limits);
        }
        let mut seen = HashSet::new();
        let mut cursor = 0;
        loop {
            cursor = set.scan(cursor, 10, |m| {
                seen.insert(m.with_bytes(<[u8]>::to_vec));
            });
            if cursor == 0 {
                break;
            }
            if seen.len() == 500 {
                for i in 1000..3000 {
                    set.add(format!("m{i}").as_bytes(), &limits);
                }
            }
        }
        assert!((0..1000).all(|i| seen.contains(format!("m{i}").as_bytes())));
    }

    /// Seeded random operations against `HashSet`, crossing every threshold both ways in size.
    #[test]
    fn matches_a_hash_set_across_thresholds() {
        let limits = Limits { intset_entries: 40, packed_entries: 30, packed_value: 12 };
        for seed in 1..=20u64 {
            let mut rng = Rng::new(seed);
            let mut set = Set::new();
            let mut model: HashSet<Vec<u8>> = HashSet::new();
            let text_rate = rng.below(4);
            for step in 0..1500 {
                let member: Vec<u8> = match rng.below(10) {
                    n if n < text_rate => format!("t{}", rng.below(60)).into_bytes(),
                    9 => vec![b'x'; 10 + rng.below(6)],
                    _ => (rng.below(200) as i64 - 100)
                        .wrapping_mul([1, 1000, 1 << 40][rng.below(3)])
                        .to_string()
                        .into_bytes(),
                };
                match rng.below(8) {
                    0..=3 => {
                        assert_eq!(set.add(&member, &limits), model.insert(member.clone()), "seed {seed} step {step}")
                    }
                    4..=5 => assert_eq!(set.remove(&member), model.remove(&member), "seed {seed} step {step}"),
                    6 => {
                        let popped = set.pop_random(&mut rng).map(|m| m.as_member().with_bytes(<[u8]>::to_vec));
                        assert_eq!(popped.is_some(), !model.is_empty());
                        if let Some(m) = popped {
                            assert!(model.remove(&m), "seed {seed} step {step}: popped a non-member");
                        }
                    }
                    _ => assert_eq!(set.contains(&member), model.contains(&member), "seed {seed} step {step}"),
                }
                assert_eq!(set.len(), model.len(), "seed {seed} step {step}");
                if let Set::Ints(ints) = &set {
                    assert!(ints.len() <= limits.intset_entries);
                    let all: Vec<i64> = (0..ints.len()).map(|i| ints.get(i)).collect();
                    assert!(all.windows(2).all(|w| w[0] < w[1]), "seed {seed}: intset sorted");
                }
            }
            let listed: HashSet<Vec<u8>> = members(&set).into_iter().collect();
            assert_eq!(listed, model, "seed {seed}");
        }
    }
}
