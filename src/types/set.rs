//! Set values as a pure structure (Redis's t_set.c representation layer): no RESP, no I/O, no server state.
//!
//! Three representations, converted one way only, as Redis does:
//! - intset (`OBJECT ENCODING intset`): sorted integers, 16, 32 or 64 bits wide, widened when a member needs
//!   it (Redis's intset upgrade), used while every member is a canonical integer (`string2ll`) and there are at
//!   most `set-max-intset-entries` of them. Up to 11 16-bit ones sit inline in the `Set` (`Inline`), which a
//!   small set of small numbers pays for anyway; beyond that an exact-size boxed slice per width (`I16`, `I32`,
//!   `I64`), rebuilt on each change as Redis reallocates its intset. Membership is a binary search.
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
//! Invariants: an intset holds sorted distinct values that fit its width (which never narrows; `Inline` only
//! when 16 bits wide); a `Packed` holds distinct members; nothing converts back to an intset or to `Packed`.

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

/// Integers kept inside the `Set` itself, 16 bits wide: 11 of them fill the 24 bytes the enum takes anyway, so
/// a small intset costs no allocation of its own.
const INLINE_INTS_MAX: usize = 11;

/// A read view of an intset's sorted integers, whatever their storage and width.
#[derive(Debug, Clone, Copy)]
pub enum Ints<'a> {
    I16(&'a [i16]),
    I32(&'a [i32]),
    I64(&'a [i64]),
}

impl Ints<'_> {
    fn len(self) -> usize {
        match self {
            Ints::I16(v) => v.len(),
            Ints::I32(v) => v.len(),
            Ints::I64(v) => v.len(),
        }
    }

    fn get(self, index: usize) -> i64 {
        match self {
            Ints::I16(v) => i64::from(v[index]),
            Ints::I32(v) => i64::from(v[index]),
            Ints::I64(v) => v[index],
        }
    }

    /// Index of `n`, or where it would go. A value too wide for the array sorts before everything if negative
    /// and after everything if positive.
    fn search(self, n: i64) -> Result<usize, usize> {
        let edge = if n < 0 { 0 } else { self.len() };
        match self {
            Ints::I16(v) => i16::try_from(n).map_err(|_| edge).and_then(|n| v.binary_search(&n)),
            Ints::I32(v) => i32::try_from(n).map_err(|_| edge).and_then(|n| v.binary_search(&n)),
            Ints::I64(v) => v.binary_search(&n),
        }
    }

    fn width_bits(self) -> u32 {
        match self {
            Ints::I16(_) => 16,
            Ints::I32(_) => 32,
            Ints::I64(_) => 64,
        }
    }
}

/// The narrowest intset width that holds `n`.
fn width_bits_of(n: i64) -> u32 {
    if i16::try_from(n).is_ok() {
        16
    } else if i32::try_from(n).is_ok() {
        32
    } else {
        64
    }
}

/// An intset of `width_bits` holding `values` (sorted, `len` of them): inline when small and 16 bits wide,
/// else an exact-size array, as Redis reallocates its intset to the exact size on every change.
fn ints_set(width_bits: u32, len: usize, values: impl Iterator<Item = i64>) -> Set {
    match width_bits {
        16 if len <= INLINE_INTS_MAX => {
            let mut ints = [0; INLINE_INTS_MAX];
            for (slot, n) in ints.iter_mut().zip(values) {
                *slot = n as i16;
            }
            Set::Inline { len: len as u8, ints }
        }
        16 => Set::I16(values.map(|n| n as i16).collect()),
        32 => Set::I32(values.map(|n| n as i32).collect()),
        _ => Set::I64(values.collect()),
    }
}

/// `ints` with `n` (absent) inserted in order, widened if `n` needs more bits (Redis's intsetUpgradeAndAdd).
fn ints_inserted(ints: Ints<'_>, n: i64) -> Set {
    let index = ints.search(n).unwrap_or_else(|index| index);
    let width_bits = ints.width_bits().max(width_bits_of(n));
    let values = (0..index).map(|i| ints.get(i)).chain([n]).chain((index..ints.len()).map(|i| ints.get(i)));
    ints_set(width_bits, ints.len() + 1, values)
}

/// `ints` without entry `index`, at the same width (Redis never narrows an intset).
fn ints_removed(ints: Ints<'_>, index: usize) -> Set {
    let values = (0..ints.len()).filter(|&i| i != index).map(|i| ints.get(i));
    ints_set(ints.width_bits(), ints.len() - 1, values)
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

/// A set value: 24 bytes, so the `Box<Set>` a `Value` holds is small, and a small intset lives inside it.
#[derive(Debug, Clone)]
pub enum Set {
    /// An intset of at most `INLINE_INTS_MAX` 16-bit integers; `ints[..len]` sorted.
    Inline {
        len: u8,
        ints: [i16; INLINE_INTS_MAX],
    },
    /// Intsets of each width, sorted, exact-size.
    I16(Box<[i16]>),
    I32(Box<[i32]>),
    I64(Box<[i64]>),
    Packed(Box<Packed>),
    Table(Box<Table>),
}

impl Default for Set {
    fn default() -> Set {
        Set::Inline { len: 0, ints: [0; INLINE_INTS_MAX] }
    }
}

/// Two sets are equal when they hold the same members, whatever their representations.
impl PartialEq for Set {
    fn eq(&self, other: &Set) -> bool {
        self.len() == other.len() && self.iter().all(|m| other.contains_member(m))
    }
}

impl Set {
    pub fn new() -> Set {
        Set::default()
    }

    /// The `OBJECT ENCODING` name. `Packed` says `hashtable` because Redis 7.0 has no set listpack.
    pub fn encoding(&self) -> &'static str {
        match self {
            Set::Packed(_) | Set::Table(_) => "hashtable",
            _ => "intset",
        }
    }

    /// The integers, if this is an intset.
    fn ints(&self) -> Option<Ints<'_>> {
        match self {
            Set::Inline { len, ints } => Some(Ints::I16(&ints[..usize::from(*len)])),
            Set::I16(v) => Some(Ints::I16(v)),
            Set::I32(v) => Some(Ints::I32(v)),
            Set::I64(v) => Some(Ints::I64(v)),
            Set::Packed(_) | Set::Table(_) => None,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Set::Packed(packed) => packed.len(),
            Set::Table(table) => table.table.len(),
            _ => self.ints().map_or(0, Ints::len),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn contains(&self, member: &[u8]) -> bool {
        match self {
            Set::Packed(packed) => packed.find(member, 1).is_some(),
            Set::Table(table) => table.contains(member),
            _ => parse_i64(member).is_some_and(|n| self.contains_member(Member::Int(n))),
        }
    }

    /// `contains` for a member of another set: an integer meets an intset without being formatted.
    pub fn contains_member(&self, member: Member<'_>) -> bool {
        match (self.ints(), member) {
            (Some(ints), Member::Int(n)) => ints.search(n).is_ok(),
            (Some(_), Member::Bytes(bytes)) => self.contains(bytes),
            (None, member) => member.with_bytes(|bytes| self.contains(bytes)),
        }
    }

    /// Adds `member`; returns whether it was new. Converts first when the member or the new size does not fit
    /// the current representation (Redis's setTypeAdd).
    pub fn add(&mut self, member: &[u8], limits: &Limits) -> bool {
        match parse_i64(member) {
            Some(n) => self.add_int(n, limits),
            None => self.add_bytes(member, limits),
        }
    }

    /// `add` for a member of another set: an integer goes into an intset without being formatted and parsed.
    pub fn add_member(&mut self, member: Member<'_>, limits: &Limits) -> bool {
        match member {
            Member::Int(n) => self.add_int(n, limits),
            Member::Bytes(bytes) => self.add(bytes, limits),
        }
    }

    fn add_int(&mut self, n: i64, limits: &Limits) -> bool {
        if let Some(ints) = self.ints() {
            if ints.search(n).is_ok() {
                return false;
            }
            if ints.len() < limits.intset_entries {
                *self = ints_inserted(ints, n);
                return true;
            }
        }
        Member::Int(n).with_bytes(|bytes| self.add_bytes(bytes, limits))
    }

    /// Adds a member that does not go into an intset as an integer (not one, or the intset is full).
    fn add_bytes(&mut self, member: &[u8], limits: &Limits) -> bool {
        if let Some(ints) = self.ints() {
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
            _ => unreachable!("converted to a table above"),
        }
    }

    /// Whether every integer's text fits `set-max-listpack-value` (only asked when that limit is set below 20).
    fn longest_int_fits(&self, limits: &Limits) -> bool {
        self.iter().all(|m| m.with_bytes(|b| b.len() <= limits.packed_value))
    }

    /// Moves every member to a `Packed` (if `packed`) or a `Table`.
    fn convert(&mut self, packed: bool) {
        let mut next = if packed { Set::Packed(Box::default()) } else { Set::Table(Box::default()) };
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
                _ => {}
            });
        }
        *self = next;
    }

    /// Removes `member`; returns whether it was there.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self {
            Set::Packed(packed) => match packed.find(member, 1) {
                Some(pos) => {
                    packed.remove(pos);
                    true
                }
                None => false,
            },
            Set::Table(table) => table.remove(member),
            _ => {
                let Some(ints) = self.ints() else { return false };
                let Some(Ok(index)) = parse_i64(member).map(|n| ints.search(n)) else { return false };
                *self = ints_removed(ints, index);
                true
            }
        }
    }

    /// Every member; an intset's come in ascending order.
    pub fn iter(&self) -> Iter<'_> {
        match self {
            Set::Packed(packed) => Iter::Packed(packed.iter()),
            Set::Table(table) => Iter::Table(table.table.iter()),
            _ => Iter::Ints { ints: self.ints().expect("an intset"), index: 0 },
        }
    }

    /// A uniformly random member, or `None` when empty.
    pub fn random(&self, rng: &mut Rng) -> Option<Member<'_>> {
        if self.is_empty() {
            return None;
        }
        Some(match self {
            Set::Packed(packed) => {
                let pos = packed.position(rng.below(packed.len()))?;
                Member::Bytes(packed.entry(pos).0)
            }
            Set::Table(table) => Member::Bytes(table.table.get_bucket(table.random_bucket(rng))?),
            _ => {
                let ints = self.ints()?;
                Member::Int(ints.get(rng.below(ints.len())))
            }
        })
    }

    /// Removes and returns a uniformly random member, or `None` when empty.
    pub fn pop_random(&mut self, rng: &mut Rng) -> Option<Owned> {
        if self.is_empty() {
            return None;
        }
        Some(match self {
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
            _ => {
                let ints = self.ints()?;
                let index = rng.below(ints.len());
                let n = ints.get(index);
                *self = ints_removed(ints, index);
                Owned::Int(n)
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
    Ints { ints: Ints<'a>, index: usize },
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

    /// A set of `m<i>` for every `i` in `range`.
    fn words(range: std::ops::Range<usize>) -> Set {
        let mut set = Set::new();
        for i in range {
            set.add(format!("m{i}").as_bytes(), &Limits::default());
        }
        set
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
        assert!(matches!(set, Set::Inline { len: 3, .. }));
        assert!(set.add(b"70000", &limits));
        assert!(matches!(set, Set::I32(_)));
        assert!(set.add(b"-9223372036854775808", &limits));
        assert!(matches!(set, Set::I64(_)));
        assert!(!set.add(b"5", &limits));
        assert_eq!(members(&set), [&b"-9223372036854775808"[..], b"-3", b"5", b"100", b"70000"]);
        assert!(set.contains(b"70000") && !set.contains(b"70001") && !set.contains(b"99999999999"));
        assert_eq!(set.encoding(), "intset");
    }

    #[test]
    fn a_small_intset_lives_inside_the_set() {
        assert_eq!(std::mem::size_of::<Set>(), 24);
        let limits = Limits::default();
        let mut set = Set::new();
        for n in 0..INLINE_INTS_MAX as i64 {
            set.add(n.to_string().as_bytes(), &limits);
        }
        assert!(matches!(set, Set::Inline { .. }));
        set.add(b"-7", &limits);
        assert!(matches!(&set, Set::I16(v) if v.len() == INLINE_INTS_MAX + 1));
        set.remove(b"3");
        assert!(matches!(set, Set::Inline { .. }), "back inline, still an intset");
        let mut copied = Set::new();
        copied.add_member(Member::Bytes(b"5"), &limits);
        assert_eq!(copied.encoding(), "intset", "an integer's text from a packed set goes into an intset");
        assert_eq!(members(&set)[..3], [b"-7".to_vec(), b"0".to_vec(), b"1".to_vec()]);
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
        assert!(matches!(set, Set::Inline { len: 4, .. }));
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

    /// Popping a big table down to nothing shrinks it on the way, and every pop stays uniform and distinct.
    #[test]
    fn popping_a_table_empty_shrinks_it() {
        let mut set = words(0..5000);
        let Set::Table(table) = &set else { panic!("a table") };
        let buckets_full = table.table.num_buckets();
        let mut rng = Rng::new(11);
        let mut popped = HashSet::new();
        while set.len() > 10 {
            assert!(popped.insert(set.pop_random(&mut rng).unwrap().as_member().with_bytes(<[u8]>::to_vec)));
        }
        let Set::Table(table) = &set else { panic!("still a table") };
        assert!(table.table.num_buckets() * 8 <= buckets_full, "shrunk from {buckets_full}");
        while let Some(m) = set.pop_random(&mut rng) {
            assert!(popped.insert(m.as_member().with_bytes(<[u8]>::to_vec)));
        }
        assert_eq!(popped.len(), 5000);
        assert_eq!(set.encoding(), "hashtable");
    }

    #[test]
    fn table_scan_visits_everything_and_restarts_after_a_resize() {
        let mut set = words(0..1000);
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
                    set.add(format!("m{i}").as_bytes(), &Limits::default());
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
                if let Some(ints) = set.ints() {
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
