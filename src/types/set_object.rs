//! Set values as a pure structure (Redis's t_set.c representation layer): no RESP, no I/O, no server state.
//!
//! Three representations, converted one way only, as Redis does:
//! - intset (`OBJECT ENCODING intset`): sorted integers, used while every member is a canonical integer
//!   (`string2ll`) and there are at most `set-max-intset-entries` of them; membership is a binary search.
//!   Redis stores each at the width of the widest (16, 32 or 64 bits); we store the smallest as a base and each
//!   member as its unsigned distance from it, 1, 2, 4 or 8 bytes wide as the largest distance needs (frame of
//!   reference), so ten members near a billion take a byte each, not four. The buffer is the distances, the
//!   base in as few bytes as hold it (none for 0), and a byte of both widths, as Redis's intset keeps its
//!   `encoding` in its header; it is rebuilt at its exact size on each change, as Redis reallocates its intset.
//! - packed (reported as `hashtable`): members as `Compact` entries, while there are at most
//!   `set-max-listpack-entries` members of at most `set-max-listpack-value` bytes. Redis 7.0, our oracle,
//!   has no set listpack, so OBJECT ENCODING keeps saying `hashtable`; the representation is ours, for
//!   memory: a small member costs its bytes plus one.
//! - `Table` (`hashtable`): a hashbrown table of `SmallBytes`, inline up to 22 bytes, so a short member
//!   costs one 24-byte slot and a control byte, with no allocation of its own.
//!
//! Both small forms live in `Set::Small`, one exact-size `Compact` slot: the intset as the `Compact`'s opaque
//! buffer (`Compact::from_opaque`), the packed form as its entries. So a `Set` is 16 bytes and sits unboxed in
//! the keyspace's `Value`: a small set costs one allocation, as in Redis. Rust gives an enum of two 16-byte
//! buffers plus the table's pointer no spare bit to tell three forms apart in 16 bytes, hence the marker in
//! the buffer. An empty buffer is an empty intset, so a packed set emptied by a removal reads as an intset
//! again; no key ever holds an empty set, so no reply can tell.
//!
//! API: `add`, `remove`, `contains`, `len`, `iter` (members as `Member`, integers unformatted), random
//! access for SPOP/SRANDMEMBER (`random`, `pop_random`, `sample_distinct`), and `scan` for SSCAN.
//! `Limits` carries the three thresholds, read from the config by the caller at each write.
//!
//! Invariants: an intset holds sorted distinct values, its base is the first and its distance width the
//! narrowest that holds the last; packed entries are distinct members; a non-empty set never converts back to
//! an intset or from a table to the packed form.

use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};

use super::packed::{Compact, Entries};
use crate::types::small::SmallBytes;
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

/// Longest decimal text of an i64 (`-9223372036854775808`): what an integer member costs when packed.
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

/// A read view of an intset: `len()` sorted integers, each `base` plus an unsigned distance of `width` bytes.
#[derive(Debug, Clone, Copy)]
pub struct Ints<'a> {
    /// The distances, little-endian.
    distances: &'a [u8],
    /// The rest of the buffer: the base and the widths byte, copied as they are when neither changes.
    tail: &'a [u8],
    /// 1, 2, 4 or 8.
    width: usize,
    /// The first (smallest) member.
    base: i64,
}

impl<'a> Ints<'a> {
    /// The view of an empty set, which is an intset until its first member says otherwise.
    const EMPTY: Ints<'static> = Ints { distances: &[], tail: &[], width: 1, base: 0 };

    /// The view of a small set's buffer: `None` when it holds packed strings.
    fn of(small: &'a Compact) -> Option<Ints<'a>> {
        if small.is_empty() {
            return Some(Ints::EMPTY);
        }
        let body = small.opaque()?;
        let widths = *body.last()?;
        let (width, base_len) = (usize::from(widths & 0x0f), usize::from(widths >> 4));
        let (distances, tail) = body.split_at(body.len() - base_len - 1);
        Some(Ints { distances, tail, width, base: read_signed(&tail[..base_len]) })
    }

    fn len(self) -> usize {
        self.distances.len() / self.width
    }

    fn get(self, index: usize) -> i64 {
        let distance = read_unsigned(&self.distances[index * self.width..(index + 1) * self.width]);
        self.base.wrapping_add(distance as i64)
    }

    /// Index of `n`, or where it would go.
    fn search(self, n: i64) -> Result<usize, usize> {
        let (mut low, mut high) = (0, self.len());
        while low < high {
            let mid = low + (high - low) / 2;
            match self.get(mid).cmp(&n) {
                std::cmp::Ordering::Less => low = mid + 1,
                std::cmp::Ordering::Greater => high = mid,
                std::cmp::Ordering::Equal => return Ok(mid),
            }
        }
        Err(low)
    }
}

/// A little-endian unsigned integer of up to 8 bytes.
fn read_unsigned(bytes: &[u8]) -> u64 {
    let mut le = [0u8; 8];
    le[..bytes.len()].copy_from_slice(bytes);
    u64::from_le_bytes(le)
}

/// A little-endian signed integer of up to 8 bytes, sign-extended; no bytes read as 0.
fn read_signed(bytes: &[u8]) -> i64 {
    if bytes.is_empty() {
        return 0;
    }
    let unused_bits = 64 - 8 * bytes.len() as u32;
    ((read_unsigned(bytes) as i64) << unused_bits) >> unused_bits
}

/// The fewest bytes `read_signed` needs to give back `n`.
fn signed_len(n: i64) -> usize {
    (0..8).find(|&len| read_signed(&n.to_le_bytes()[..len]) == n).unwrap_or(8)
}

/// The intset distance width, in bytes, that holds `span`.
fn width_of(span: u64) -> usize {
    if span <= u64::from(u8::MAX) {
        1
    } else if span <= u64::from(u16::MAX) {
        2
    } else if span <= u64::from(u32::MAX) {
        4
    } else {
        8
    }
}

/// An intset buffer holding `values` (sorted, `len` of them, from `first` to `last`), allocated at its exact
/// size: the distances from `first`, the base, the widths byte, and the opaque marker `Compact::from_opaque`
/// appends.
fn ints_buffer(first: i64, last: i64, len: usize, values: impl Iterator<Item = i64>) -> Compact {
    let width = width_of(last.wrapping_sub(first) as u64);
    let base_len = signed_len(first);
    let mut body = Vec::with_capacity(len * width + base_len + 2);
    for n in values {
        body.extend_from_slice(&(n.wrapping_sub(first) as u64).to_le_bytes()[..width]);
    }
    body.extend_from_slice(&first.to_le_bytes()[..base_len]);
    body.push(width as u8 | (base_len as u8) << 4);
    Compact::from_opaque(body)
}

/// `ints` with its distance bytes from `at` to `at + removed_len` replaced by `inserted`'s, keeping its base and
/// width: the common case of SADD and SPOP, a copy of the bytes rather than a decode and encode of each member.
fn ints_spliced(ints: Ints<'_>, at: usize, removed_len: usize, inserted: Option<i64>) -> Compact {
    let (before, after) = (&ints.distances[..at], &ints.distances[at + removed_len..]);
    let inserted_len = if inserted.is_some() { ints.width } else { 0 };
    let mut body = Vec::with_capacity(before.len() + inserted_len + after.len() + ints.tail.len() + 1);
    body.extend_from_slice(before);
    if let Some(n) = inserted {
        body.extend_from_slice(&(n.wrapping_sub(ints.base) as u64).to_le_bytes()[..ints.width]);
    }
    body.extend_from_slice(after);
    body.extend_from_slice(ints.tail);
    Compact::from_opaque(body)
}

/// `ints` with `n` (absent) inserted in order.
fn ints_inserted(ints: Ints<'_>, n: i64) -> Compact {
    let index = ints.search(n).unwrap_or_else(|index| index);
    if ints.len() == 0 {
        return ints_buffer(n, n, 1, [n].into_iter());
    }
    let (first, last) = (ints.get(0).min(n), ints.get(ints.len() - 1).max(n));
    if first == ints.base && width_of(last.wrapping_sub(first) as u64) == ints.width {
        return ints_spliced(ints, index * ints.width, 0, Some(n));
    }
    let values = (0..index).map(|i| ints.get(i)).chain([n]).chain((index..ints.len()).map(|i| ints.get(i)));
    ints_buffer(first, last, ints.len() + 1, values)
}

/// `ints` without entry `index`.
fn ints_removed(ints: Ints<'_>, index: usize) -> Compact {
    let len = ints.len() - 1;
    if len == 0 {
        return Compact::default();
    }
    let first = ints.get(if index == 0 { 1 } else { 0 });
    let last = ints.get(if index == len { len - 1 } else { len });
    if first == ints.base && width_of(last.wrapping_sub(first) as u64) == ints.width {
        return ints_spliced(ints, index * ints.width, ints.width, None);
    }
    let values = (0..ints.len()).filter(|&i| i != index).map(|i| ints.get(i));
    ints_buffer(first, last, len, values)
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

/// A set value: 16 bytes, held unboxed in a `Value`.
#[derive(Debug, Clone)]
pub enum Set {
    /// An intset (the buffer is opaque) or packed strings (its entries); see the module docs.
    Small(Compact),
    Table(Box<Table>),
}

impl Default for Set {
    fn default() -> Set {
        Set::Small(Compact::default())
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

    /// The `OBJECT ENCODING` name. The packed form says `hashtable` because Redis 7.0 has no set listpack.
    pub fn encoding(&self) -> &'static str {
        match self.ints() {
            Some(_) => "intset",
            None => "hashtable",
        }
    }

    /// The integers, if this is an intset.
    fn ints(&self) -> Option<Ints<'_>> {
        match self {
            Set::Small(small) => Ints::of(small),
            Set::Table(_) => None,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Set::Small(small) => Ints::of(small).map_or_else(|| small.len(), Ints::len),
            Set::Table(table) => table.table.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn contains(&self, member: &[u8]) -> bool {
        match self {
            Set::Small(small) => match Ints::of(small) {
                Some(ints) => parse_i64(member).is_some_and(|n| ints.search(n).is_ok()),
                None => small.find(member, 1).is_some(),
            },
            Set::Table(table) => table.contains(member),
        }
    }

    /// `contains` for a member of another set: an integer meets an intset without being formatted.
    pub fn contains_member(&self, member: Member<'_>) -> bool {
        match (self.ints(), member) {
            (Some(ints), Member::Int(n)) => ints.search(n).is_ok(),
            (_, member) => member.with_bytes(|bytes| self.contains(bytes)),
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
                *self = Set::Small(ints_inserted(ints, n));
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
        // Past the conversion above, a small buffer holds packed strings (none yet, if the set was empty).
        if let Set::Small(packed) = self {
            if packed.find(member, 1).is_some() {
                return false;
            }
            if packed.len() < limits.packed_entries && member.len() <= limits.packed_value {
                packed.push_back(&[member]);
                return true;
            }
            self.convert(false);
        }
        match self {
            Set::Table(table) => table.insert(member),
            Set::Small(_) => unreachable!("converted to a table above"),
        }
    }

    /// Whether every integer's text fits `set-max-listpack-value` (only asked when that limit is set below 20).
    fn longest_int_fits(&self, limits: &Limits) -> bool {
        self.iter().all(|m| m.with_bytes(|b| b.len() <= limits.packed_value))
    }

    /// Moves every member to the packed form (if `packed`) or a `Table`. The packed buffer is written with one
    /// allocation, so the texts are gathered first.
    fn convert(&mut self, packed: bool) {
        let next = if packed {
            let texts: Vec<SmallBytes> = self.iter().map(|m| m.with_bytes(|b| SmallBytes::from(b))).collect();
            let entries: Vec<&[u8]> = texts.iter().map(|text| &**text).collect();
            let mut compact = Compact::default();
            compact.push_back(&entries);
            Set::Small(compact)
        } else {
            let mut table = Box::<Table>::default();
            let hasher = &table.hasher;
            table.table.reserve(self.len() + 1, |m| hasher.hash_one(&**m));
            for member in self.iter() {
                member.with_bytes(|b| table.insert(b));
            }
            Set::Table(table)
        };
        *self = next;
    }

    /// Removes `member`; returns whether it was there.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self {
            Set::Small(small) => match Ints::of(small) {
                Some(ints) => {
                    let Some(Ok(index)) = parse_i64(member).map(|n| ints.search(n)) else { return false };
                    *small = ints_removed(ints, index);
                    true
                }
                None => match small.find(member, 1) {
                    Some(pos) => {
                        small.remove_run(pos, 1);
                        true
                    }
                    None => false,
                },
            },
            Set::Table(table) => table.remove(member),
        }
    }

    /// Heap bytes held, for MEMORY USAGE: a small set exactly; a table's box and slots exactly and its
    /// members estimated from the first `samples`, as Redis's objectComputeSize samples its dict.
    pub fn heap_bytes(&self, samples: usize) -> usize {
        match self {
            Set::Small(small) => small.heap_bytes(),
            Set::Table(table) => {
                let members = table.table.iter().map(SmallBytes::heap_bytes);
                size_of::<Table>()
                    + table.table.allocation_size()
                    + super::sampled_estimate(members, table.table.len(), samples)
            }
        }
    }

    /// Every member; an intset's come in ascending order.
    pub fn iter(&self) -> Iter<'_> {
        match self {
            Set::Small(small) => match Ints::of(small) {
                Some(ints) => Iter::Ints { ints, index: 0 },
                None => Iter::Packed(small.iter_positions()),
            },
            Set::Table(table) => Iter::Table(table.table.iter()),
        }
    }

    /// A uniformly random member, or `None` when empty.
    pub fn random(&self, rng: &mut Rng) -> Option<Member<'_>> {
        if self.is_empty() {
            return None;
        }
        Some(match self {
            Set::Small(small) => match Ints::of(small) {
                Some(ints) => Member::Int(ints.get(rng.below(ints.len()))),
                None => Member::Bytes(small.entry(small.position(rng.below(small.len()))?).0),
            },
            Set::Table(table) => Member::Bytes(table.table.get_bucket(table.random_bucket(rng))?),
        })
    }

    /// Removes and returns a uniformly random member, or `None` when empty.
    pub fn pop_random(&mut self, rng: &mut Rng) -> Option<Owned> {
        if self.is_empty() {
            return None;
        }
        Some(match self {
            Set::Small(small) => match Ints::of(small) {
                Some(ints) => {
                    let index = rng.below(ints.len());
                    let n = ints.get(index);
                    *small = ints_removed(ints, index);
                    Owned::Int(n)
                }
                None => {
                    let pos = small.position(rng.below(small.len()))?;
                    let member = SmallBytes::from(small.entry(pos).0);
                    small.remove_run(pos, 1);
                    Owned::Bytes(member)
                }
            },
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
    Ints { ints: Ints<'a>, index: usize },
    Packed(Entries<'a>),
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
            Iter::Packed(entries) => entries.next().map(|(_, m)| Member::Bytes(m)),
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

    /// The representation, finer than `encoding()`, which says `hashtable` for both of the last two.
    fn form(set: &Set) -> &'static str {
        match set {
            Set::Table(_) => "table",
            _ if set.ints().is_some() => "intset",
            Set::Small(_) => "packed",
        }
    }

    /// An intset's distance width in bytes.
    fn width(set: &Set) -> usize {
        set.ints().expect("an intset").width
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
        assert_eq!((form(&set), width(&set), set.len()), ("intset", 1, 3));
        assert!(set.add(b"-300", &limits));
        assert_eq!(width(&set), 2);
        assert!(set.add(b"70000", &limits));
        assert_eq!(width(&set), 4);
        assert!(set.add(b"-9223372036854775808", &limits));
        assert_eq!(width(&set), 8);
        assert!(set.remove(b"-9223372036854775808"));
        assert_eq!(width(&set), 4, "the widths follow the members");
        assert!(!set.add(b"5", &limits));
        assert!(set.add(b"-9223372036854775808", &limits) && set.add(b"9223372036854775807", &limits));
        let sorted = [&b"-9223372036854775808"[..], b"-300", b"-3", b"5", b"100", b"70000", b"9223372036854775807"];
        assert_eq!(members(&set), sorted);
        assert!(set.contains(b"70000") && !set.contains(b"70001") && !set.contains(b"99999999999"));
        assert_eq!(set.encoding(), "intset");
    }

    /// A `Set` fits the 16 bytes that keep `Value` at three words, and a small set is one exact-size buffer.
    #[test]
    fn a_small_set_is_one_exact_buffer_in_sixteen_bytes() {
        assert!(std::mem::size_of::<Set>() <= 16);
        assert_eq!(std::mem::size_of::<crate::db::value::Value>(), 24);
        let limits = Limits::default();
        let mut set = Set::new();
        for n in (0..10).rev() {
            set.add(n.to_string().as_bytes(), &limits);
        }
        // Ten one-byte distances, no base (it is 0), the widths byte and the opaque marker.
        let Set::Small(small) = &set else { panic!("small") };
        assert_eq!(small.opaque().map(<[u8]>::len), Some(10 + 1));
        let near_a_billion: Vec<String> = (0..10).map(|n| (1_000_000_000 + n).to_string()).collect();
        let billions = set_of(&near_a_billion.iter().map(String::as_bytes).collect::<Vec<_>>(), &limits);
        let Set::Small(small) = &billions else { panic!("small") };
        assert_eq!(small.opaque().map(<[u8]>::len), Some(10 + 4 + 1), "one byte each, plus a 4-byte base");
        assert_eq!(members(&set)[..3], [b"0".to_vec(), b"1".to_vec(), b"2".to_vec()]);
        let mut copied = Set::new();
        copied.add_member(Member::Bytes(b"5"), &limits);
        assert_eq!(copied.encoding(), "intset", "an integer's text from a packed set goes into an intset");
        let mut packed = set_of(&[b"a", b"bc"], &limits);
        assert_eq!(form(&packed), "packed");
        assert!(packed.remove(b"a") && packed.contains(b"bc") && !packed.contains(b"a"));
        assert_eq!(packed.len(), 1);
    }

    #[test]
    fn non_canonical_integers_leave_the_intset() {
        for odd in [&b"007"[..], b"+1", b" 1", b"-0", b"1.0", b"9223372036854775808"] {
            let mut set = set_of(&[b"1"], &Limits::default());
            assert!(set.add(odd, &Limits::default()));
            assert_eq!(form(&set), "packed", "{odd:?}");
            assert_eq!(set.encoding(), "hashtable");
            assert!(set.contains(b"1") && set.contains(odd));
        }
    }

    #[test]
    fn thresholds_convert_one_way() {
        let limits = Limits { intset_entries: 4, packed_entries: 6, packed_value: 8 };
        let mut set = set_of(&[b"1", b"2", b"3", b"4"], &limits);
        assert_eq!((form(&set), set.len()), ("intset", 4));
        set.add(b"5", &limits);
        assert_eq!(form(&set), "packed", "past the intset limit, into the packed form");
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
                    if let (Some(&first), Some(&last)) = (all.first(), all.last()) {
                        assert_eq!(ints.base, first, "seed {seed} step {step}: the base is the first member");
                        assert_eq!(ints.width, width_of(last.wrapping_sub(first) as u64), "seed {seed}: narrowest");
                    }
                }
            }
            let listed: HashSet<Vec<u8>> = members(&set).into_iter().collect();
            assert_eq!(listed, model, "seed {seed}");
        }
    }
}
