//! The member → score index of a large sorted set: extendible hashing over hashbrown tables, so that growth
//! never rehashes the whole index at once.
//!
//! One hashbrown table doubling at 10M members would move every entry in one command (tens of milliseconds).
//! Here the index is a directory of `2^depth` slots, chosen by the low bits of a member's hash, pointing at
//! tables of at most `TABLE_ENTRIES_MAX` entries; a table that fills splits in two by its next hash bit,
//! moving only its own entries, and the directory doubles (copying slot numbers, not entries) when the table
//! splitting already uses every directory bit. So the most one write ever moves is one table.
//!
//! **Invariant:** a table of local depth `d` holds exactly the members whose hash's low `d` bits equal those of
//! every directory slot pointing at it, and `d <= depth`.

use hashbrown::{DefaultHashBuilder, HashTable};
use std::hash::BuildHasher;

use super::small::SmallBytes;

/// Entries a table may hold before it splits: at about 40 bytes each, a split moves about a megabyte.
const TABLE_ENTRIES_MAX: usize = 1 << 15;

#[derive(Debug, Clone)]
struct Table {
    entries: HashTable<(SmallBytes, f64)>,
    depth: u32,
}

#[derive(Debug, Clone)]
pub struct Index {
    /// Slot `hash & (2^depth - 1)` → index into `tables`.
    directory: Vec<u32>,
    tables: Vec<Table>,
    depth: u32,
    len: usize,
    hasher: DefaultHashBuilder,
}

impl Default for Index {
    fn default() -> Index {
        Index {
            directory: vec![0],
            tables: vec![Table { entries: HashTable::new(), depth: 0 }],
            depth: 0,
            len: 0,
            hasher: DefaultHashBuilder::default(),
        }
    }
}

impl Index {
    pub fn hash(&self, member: &[u8]) -> u64 {
        self.hasher.hash_one(member)
    }

    fn table_of(&self, hash: u64) -> usize {
        self.directory[(hash & ((1u64 << self.depth) - 1)) as usize] as usize
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn get(&self, member: &[u8]) -> Option<f64> {
        let hash = self.hash(member);
        self.tables[self.table_of(hash)].entries.find(hash, |(m, _)| **m == *member).map(|(_, score)| *score)
    }

    /// Sets `member`'s score; returns the old one, or `None` if the member is new.
    pub fn set(&mut self, member: &[u8], score: f64) -> Option<f64> {
        let hash = self.hash(member);
        let at = self.table_of(hash);
        let hasher = &self.hasher;
        let table = &mut self.tables[at].entries;
        match table.entry(hash, |(m, _)| **m == *member, |(m, _)| hasher.hash_one(&**m)) {
            hashbrown::hash_table::Entry::Occupied(mut slot) => Some(std::mem::replace(&mut slot.get_mut().1, score)),
            hashbrown::hash_table::Entry::Vacant(slot) => {
                slot.insert((SmallBytes::from(member), score));
                self.len += 1;
                if self.tables[at].entries.len() > TABLE_ENTRIES_MAX {
                    self.split(at);
                }
                None
            }
        }
    }

    /// Removes `member`, returning its score.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let hash = self.hash(member);
        let at = self.table_of(hash);
        let slot = self.tables[at].entries.find_entry(hash, |(m, _)| **m == *member).ok()?;
        let ((_, score), _) = slot.remove();
        self.len -= 1;
        Some(score)
    }

    /// Splits table `at` by its next hash bit, doubling the directory first if that bit is not in use yet.
    fn split(&mut self, at: usize) {
        let local = self.tables[at].depth;
        if local == self.depth {
            self.directory.extend_from_within(..);
            self.depth += 1;
        }
        let bit = 1u64 << local;
        let hasher = &self.hasher;
        let mut moved = HashTable::new();
        for entry in self.tables[at].entries.extract_if(|(m, _)| hasher.hash_one(&**m) & bit != 0) {
            let hash = hasher.hash_one(&*entry.0);
            moved.insert_unique(hash, entry, |(m, _)| hasher.hash_one(&**m));
        }
        self.tables[at].entries.shrink_to_fit(|(m, _)| hasher.hash_one(&**m));
        self.tables[at].depth = local + 1;
        let new = self.tables.len() as u32;
        self.tables.push(Table { entries: moved, depth: local + 1 });
        for (slot, table) in self.directory.iter_mut().enumerate() {
            if *table as usize == at && slot as u64 & bit != 0 {
                *table = new;
            }
        }
    }

    /// Every (member, score), in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&SmallBytes, f64)> {
        self.tables.iter().flat_map(|t| t.entries.iter()).map(|(m, s)| (m, *s))
    }

    /// Heap bytes of the tables and the directory (not the members' own buffers).
    pub fn allocation_size(&self) -> usize {
        self.directory.capacity() * size_of::<u32>()
            + self.tables.capacity() * size_of::<Table>()
            + self.tables.iter().map(|t| t.entries.allocation_size()).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_keep_every_member_findable() {
        let mut index = Index::default();
        let n = TABLE_ENTRIES_MAX * 5;
        for i in 0..n {
            assert_eq!(index.set(format!("m{i}").as_bytes(), i as f64), None);
        }
        assert!(index.tables.len() >= 5 && index.tables.iter().all(|t| t.entries.len() <= TABLE_ENTRIES_MAX));
        assert_eq!((index.len(), index.iter().count()), (n, n));
        for i in (0..n).step_by(7) {
            assert_eq!(index.get(format!("m{i}").as_bytes()), Some(i as f64));
        }
        assert_eq!(index.set(b"m3", 0.5), Some(3.0));
        assert_eq!(index.remove(b"m3"), Some(0.5));
        assert_eq!((index.get(b"m3"), index.remove(b"m3"), index.len()), (None, None, n - 1));
    }
}
