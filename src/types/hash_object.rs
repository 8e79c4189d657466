//! Hash values as a pure structure (Redis's `t_hash.c` data side): no RESP, no I/O, no server state.
//!
//! Two representations, named as `OBJECT ENCODING` names them in Redis 7.0:
//! - `listpack`: one `Compact` holding field, value, field, value, … in insertion order. Lookups scan, so it is
//!   kept small: at most `Limits::entries_max` pairs, every field and value at most `Limits::value_max` bytes.
//!   A 10-field hash of short strings is one exact-size allocation of about 1 byte plus the text per field and
//!   value, and the `Hash` lives inside the keyspace's `Value` with no box of its own.
//! - `hashtable`: a hashbrown map of `SmallBytes` (inline up to 22 bytes, so a short field or value costs no
//!   allocation of its own). Boxed, so a `Hash` stays 16 bytes, the size of its listpack form.
//!
//! **Invariant:** a hash converts from listpack to hashtable once, on the write that crosses a limit, and never
//! back (Redis never converts back either, so OBJECT ENCODING agrees after deletions too).
//!
//! Iteration order is Redis's where Redis's is defined: insertion order for the listpack (an update keeps the
//! field's place); hash order, which no client may rely on, for the hashtable.

use hashbrown::{DefaultHashBuilder, HashTable};
use std::hash::BuildHasher;

use super::packed::{Compact, Entries};
use crate::types::small::SmallBytes;

/// Fewest pairs one HSCAN call on a hashtable returns, as a fraction of the hash: each call costs one pass
/// over the table, so returning at least 1/64 of it bounds a full scan to about 64 passes whatever COUNT says
/// (COUNT is only a hint in Redis as well).
const SCAN_PASSES_MAX: usize = 64;

/// The conversion thresholds (hash-max-listpack-entries, hash-max-listpack-value), read from the config at
/// each write because CONFIG SET may change them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub entries_max: usize,
    pub value_max: usize,
}

/// The hashtable form: a `HashTable` with its hasher beside it (the keyspace's pattern), because lookups hash a
/// `&[u8]` field and `SmallBytes` hashes as the same bytes.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pairs: HashTable<(SmallBytes, SmallBytes)>,
    hasher: DefaultHashBuilder,
}

impl Table {
    fn hash(&self, field: &[u8]) -> u64 {
        self.hasher.hash_one(field)
    }

    fn len(&self) -> usize {
        self.pairs.len()
    }

    fn get(&self, field: &[u8]) -> Option<&[u8]> {
        self.pairs.find(self.hash(field), |(f, _)| **f == *field).map(|(_, value)| &**value)
    }

    fn set(&mut self, field: &[u8], value: &[u8]) -> bool {
        let hash = self.hash(field);
        let hasher = &self.hasher;
        match self.pairs.entry(hash, |(f, _)| **f == *field, |(f, _)| hasher.hash_one(&**f)) {
            hashbrown::hash_table::Entry::Occupied(mut slot) => {
                slot.get_mut().1 = SmallBytes::from(value);
                false
            }
            hashbrown::hash_table::Entry::Vacant(slot) => {
                slot.insert((SmallBytes::from(field), SmallBytes::from(value)));
                true
            }
        }
    }

    fn remove(&mut self, field: &[u8]) -> bool {
        match self.pairs.find_entry(self.hash(field), |(f, _)| **f == *field) {
            Ok(slot) => {
                slot.remove();
                true
            }
            Err(_) => false,
        }
    }
}

/// A hash value.
#[derive(Debug, Clone)]
pub enum Hash {
    Listpack(Compact),
    Table(Box<Table>),
}

impl Default for Hash {
    fn default() -> Hash {
        Hash::Listpack(Compact::default())
    }
}

impl PartialEq for Hash {
    /// Equal contents, whatever the encodings and the listpack order.
    fn eq(&self, other: &Hash) -> bool {
        self.len() == other.len() && self.iter().all(|(field, value)| other.get(field) == Some(value))
    }
}

impl Hash {
    pub fn new() -> Hash {
        Hash::default()
    }

    /// The `OBJECT ENCODING` name for the current representation.
    pub fn encoding(&self) -> &'static str {
        match self {
            Hash::Listpack(_) => "listpack",
            Hash::Table(_) => "hashtable",
        }
    }

    /// Number of fields, O(1).
    pub fn len(&self) -> usize {
        match self {
            Hash::Listpack(packed) => packed.len() / 2,
            Hash::Table(table) => table.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match self {
            Hash::Listpack(packed) => {
                let pos = packed.find(field, 2)?;
                let value_pos = packed.entry(pos).1;
                Some(packed.entry(value_pos).0)
            }
            Hash::Table(table) => table.get(field),
        }
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// A hash of `pairs` all at once, as a loader (RDB, RESTORE) has them: in the encoding the thresholds give
    /// (as a hash built field by field would end up), a listpack in one allocation, and `None` if a field
    /// repeats. Building it with `set` would search the listpack and resize it once per field.
    pub fn from_pairs(pairs: &[(&[u8], &[u8])], limits: Limits) -> Option<Hash> {
        let small = pairs.len() <= limits.entries_max
            && pairs.iter().all(|(f, v)| f.len() <= limits.value_max && v.len() <= limits.value_max);
        if !small {
            let mut table = Table { pairs: HashTable::with_capacity(pairs.len()), ..Table::default() };
            return pairs.iter().all(|(f, v)| table.set(f, v)).then(|| Hash::Table(Box::new(table)));
        }
        let mut seen = hashbrown::HashSet::with_capacity(pairs.len());
        if !pairs.iter().all(|(field, _)| seen.insert(*field)) {
            return None;
        }
        let entries: Vec<&[u8]> = pairs.iter().flat_map(|&(field, value)| [field, value]).collect();
        let mut packed = Compact::default();
        packed.push_back(&entries);
        Some(Hash::Listpack(packed))
    }

    /// Sets `field` to `value`; returns true if the field is new. Converts to a hashtable first if either is
    /// longer than `limits.value_max`, and after inserting if the hash has more than `limits.entries_max`
    /// fields (Redis's hashTypeTryConversion and hashTypeSet).
    pub fn set(&mut self, field: &[u8], value: &[u8], limits: Limits) -> bool {
        if field.len() > limits.value_max || value.len() > limits.value_max {
            self.convert();
        }
        let added = match self {
            Hash::Listpack(packed) => match packed.find(field, 2) {
                Some(pos) => {
                    let value_pos = packed.entry(pos).1;
                    packed.replace(value_pos, value);
                    false
                }
                None => {
                    packed.push_back(&[field, value]);
                    true
                }
            },
            Hash::Table(table) => table.set(field, value),
        };
        if self.len() > limits.entries_max {
            self.convert();
        }
        added
    }

    /// Removes `field`; returns whether it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self {
            Hash::Listpack(packed) => match packed.find(field, 2) {
                Some(pos) => {
                    packed.remove_run(pos, 2);
                    true
                }
                None => false,
            },
            Hash::Table(table) => table.remove(field),
        }
    }

    /// Turns a listpack into a hashtable (no-op for a hashtable).
    fn convert(&mut self) {
        if let Hash::Listpack(packed) = self {
            let mut table = Table { pairs: HashTable::with_capacity(packed.len() / 2), ..Table::default() };
            for (field, value) in Iter::Listpack(packed.iter_positions()) {
                table.set(field, value);
            }
            *self = Hash::Table(Box::new(table));
        }
    }

    /// Heap bytes held, for MEMORY USAGE: a listpack exactly; a hashtable's box and slots exactly and its
    /// strings estimated from the first `samples` pairs, as Redis's objectComputeSize samples its dict.
    pub fn heap_bytes(&self, samples: usize) -> usize {
        match self {
            Hash::Listpack(packed) => packed.heap_bytes(),
            Hash::Table(table) => {
                let strings = table.pairs.iter().map(|(field, value)| field.heap_bytes() + value.heap_bytes());
                size_of::<Table>()
                    + table.pairs.allocation_size()
                    + super::sampled_estimate(strings, table.len(), samples)
            }
        }
    }

    /// Every (field, value) pair: insertion order for a listpack, hash order for a hashtable.
    pub fn iter(&self) -> Iter<'_> {
        match self {
            Hash::Listpack(packed) => Iter::Listpack(packed.iter_positions()),
            Hash::Table(table) => Iter::Table(table.pairs.iter()),
        }
    }

    /// One HSCAN step from `cursor`, calling `f` for each pair returned; gives the next cursor (0 when done).
    ///
    /// A listpack answers everything at once with cursor 0, as Redis does. A hashtable walks the 64-bit hash
    /// space upwards: the cursor is the lowest hash not yet returned, and each call returns every pair whose
    /// hash lies in `[cursor, threshold]`, the threshold chosen so about `count` pairs come back (at least a
    /// 1/`SCAN_PASSES_MAX` of the hash). A field's hash never changes during the hash's life (one hasher, no
    /// conversion back), so, as with Redis's SCAN, every field present for the whole scan is returned, however
    /// the table grows or shrinks between calls.
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&[u8], &[u8])) -> u64 {
        let table = match self {
            Hash::Listpack(_) => {
                self.iter().for_each(|(field, value)| f(field, value));
                return 0;
            }
            Hash::Table(table) => table,
        };
        let mut hashes: Vec<u64> =
            table.pairs.iter().map(|(field, _)| table.hash(field)).filter(|&hash| hash >= cursor).collect();
        let batch = count.max(table.len() / SCAN_PASSES_MAX).max(1);
        let threshold = if hashes.len() <= batch { u64::MAX } else { *hashes.select_nth_unstable(batch - 1).1 };
        for (field, value) in table.pairs.iter() {
            let hash = table.hash(field);
            if (cursor..=threshold).contains(&hash) {
                f(field, value);
            }
        }
        threshold.wrapping_add(1)
    }
}

/// Iterator over a hash's (field, value) pairs.
#[derive(Debug)]
pub enum Iter<'a> {
    Listpack(Entries<'a>),
    Table(hashbrown::hash_table::Iter<'a, (SmallBytes, SmallBytes)>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Iter::Listpack(entries) => Some((entries.next()?.1, entries.next()?.1)),
            Iter::Table(pairs) => pairs.next().map(|(field, value)| (&field[..], &value[..])),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::rng::Rng;
    use std::collections::{HashMap as StdMap, HashSet};

    const SMALL: Limits = Limits { entries_max: 8, value_max: 6 };

    #[test]
    fn from_pairs_matches_a_hash_built_field_by_field() {
        let cases: [&[(&[u8], &[u8])]; 3] = [
            &[(b"a", b"1"), (b"b", b"2")],
            &[(b"a", b"1"), (b"long-field", b"2")],
            &[
                (b"1", b"1"),
                (b"2", b"1"),
                (b"3", b"1"),
                (b"4", b"1"),
                (b"5", b"1"),
                (b"6", b"1"),
                (b"7", b"1"),
                (b"8", b"1"),
                (b"9", b"1"),
            ],
        ];
        for pairs in cases {
            let mut by_set = Hash::new();
            pairs.iter().for_each(|(f, v)| {
                by_set.set(f, v, SMALL);
            });
            let at_once = Hash::from_pairs(pairs, SMALL).unwrap();
            assert_eq!((at_once.encoding(), &at_once), (by_set.encoding(), &by_set));
            if at_once.encoding() == "listpack" {
                // A listpack keeps insertion order (a table's order is its own hasher's).
                assert_eq!(at_once.iter().collect::<Vec<_>>(), by_set.iter().collect::<Vec<_>>());
            }
        }
        assert!(Hash::from_pairs(&[(b"a", b"1"), (b"a", b"2")], SMALL).is_none());
        assert!(Hash::from_pairs(&[(b"a", b"1"), (b"long-field", b"2"), (b"a", b"3")], SMALL).is_none());
    }

    fn assert_same(hash: &Hash, model: &StdMap<Vec<u8>, Vec<u8>>) {
        assert_eq!(hash.len(), model.len());
        assert_eq!(hash.iter().count(), model.len());
        for (field, value) in hash.iter() {
            assert_eq!(model.get(field).map(Vec::as_slice), Some(value));
        }
        for (field, value) in model {
            assert_eq!(hash.get(field), Some(value.as_slice()));
        }
    }

    fn scan_all(hash: &Hash, count: usize) -> Vec<Vec<u8>> {
        let (mut cursor, mut fields, mut calls) = (0, Vec::new(), 0);
        loop {
            cursor = hash.scan(cursor, count, |field, _| fields.push(field.to_vec()));
            calls += 1;
            assert!(calls <= hash.len() + 2, "scan does not terminate");
            if cursor == 0 {
                return fields;
            }
        }
    }

    #[test]
    fn matches_a_std_map_across_the_conversion() {
        for seed in 1..=20 {
            let mut rng = Rng::new(seed);
            let mut hash = Hash::new();
            let mut model = StdMap::new();
            let mut converted = false;
            for _ in 0..400 {
                let field = format!("f{}", rng.below(14)).into_bytes();
                let value = vec![b'v'; rng.below(8)];
                match rng.below(3) {
                    0 => assert_eq!(hash.remove(&field), model.remove(&field).is_some(), "seed {seed}"),
                    _ => {
                        let added = hash.set(&field, &value, SMALL);
                        assert_eq!(added, model.insert(field, value.clone()).is_none(), "seed {seed}");
                    }
                }
                let listpack_allowed = model.len() <= SMALL.entries_max;
                if hash.encoding() == "hashtable" {
                    converted = true;
                } else {
                    assert!(!converted, "seed {seed}: converted back");
                    assert!(listpack_allowed, "seed {seed}");
                }
                assert_same(&hash, &model);
            }
            assert!(converted, "seed {seed} never crossed a threshold");
        }
    }

    #[test]
    fn a_long_value_or_field_converts_at_once() {
        let mut hash = Hash::new();
        hash.set(b"f", b"123456", SMALL);
        assert_eq!(hash.encoding(), "listpack");
        hash.set(b"f", b"1234567", SMALL);
        assert_eq!(hash.encoding(), "hashtable");
        let mut hash = Hash::new();
        hash.set(b"field78", b"v", SMALL);
        assert_eq!(hash.encoding(), "hashtable");
        assert_eq!(hash.get(b"field78"), Some(&b"v"[..]));
    }

    #[test]
    fn listpack_keeps_insertion_order_through_updates() {
        let mut hash = Hash::new();
        for (field, value) in [("b", "1"), ("a", "2"), ("c", "3"), ("a", "4")] {
            hash.set(field.as_bytes(), value.as_bytes(), SMALL);
        }
        hash.remove(b"b");
        let pairs: Vec<_> = hash.iter().collect();
        assert_eq!(pairs, [(&b"a"[..], &b"4"[..]), (b"c", b"3")]);
        let mut scanned = Vec::new();
        assert_eq!(hash.scan(0, 1, |field, _| scanned.push(field.to_vec())), 0);
        assert_eq!(scanned, [b"a".to_vec(), b"c".to_vec()]);
    }

    #[test]
    fn table_scan_returns_every_field_present_throughout() {
        let limits = Limits { entries_max: 0, value_max: 64 };
        let mut rng = Rng::new(3);
        let mut hash = Hash::new();
        for i in 0..2000 {
            hash.set(format!("stable{i}").as_bytes(), b"v", limits);
        }
        // A scan that sees the table grow and shrink between its calls still returns every stable field.
        let (mut cursor, mut seen, mut calls) = (0, HashSet::new(), 0);
        loop {
            cursor = hash.scan(cursor, 1 + rng.below(50), |field, _| {
                seen.insert(field.to_vec());
            });
            calls += 1;
            for _ in 0..50 {
                let field = format!("churn{}", rng.below(5000)).into_bytes();
                if rng.below(2) == 0 {
                    hash.set(&field, b"x", limits)
                } else {
                    hash.remove(&field)
                };
            }
            if cursor == 0 {
                break;
            }
        }
        assert!(calls > 1 && calls <= 2 * SCAN_PASSES_MAX + 2, "{calls} calls");
        assert!((0..2000).all(|i| seen.contains(format!("stable{i}").as_bytes())));
        let all = scan_all(&hash, 10);
        assert_eq!(all.len(), hash.len(), "a scan without writes returns each field once");
    }

    #[test]
    fn a_hash_is_two_words_so_a_value_holds_it_unboxed() {
        assert_eq!(std::mem::size_of::<Hash>(), 16);
    }

    #[test]
    fn equality_ignores_encoding_and_order() {
        let mut listpack = Hash::new();
        listpack.set(b"a", b"1", SMALL);
        listpack.set(b"b", b"2", SMALL);
        let mut table = Hash::new();
        table.set(b"b", b"2", Limits { entries_max: 0, value_max: 0 });
        table.set(b"a", b"1", SMALL);
        assert_eq!(table.encoding(), "hashtable");
        assert_eq!(listpack, table);
    }
}
