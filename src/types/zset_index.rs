//! The member → slot index of a large sorted set (the slot in `zset_tree::Members` holds the member and its
//! score): extendible hashing over hashbrown tables of 4-byte slots, so that growth never rehashes the whole
//! index at once, and no member is stored twice.
//!
//! One hashbrown table doubling at 10M members would move every entry in one command (tens of milliseconds).
//! Here the index is a directory of `2^depth` slots, chosen by the low bits of a member's hash's upper half
//! (`directory_bits`), pointing at
//! tables of at most `TABLE_ENTRIES_MAX` entries; a table that fills splits in two by its next hash bit,
//! moving only its own entries, and the directory doubles (copying slot numbers, not entries) when the table
//! splitting already uses every directory bit. So the most one write ever moves is one table.
//!
//! **Invariant:** a table of local depth `d` holds exactly the members whose `directory_bits`' low `d` bits
//! equal those of every directory slot pointing at it, and `d <= depth`.

use hashbrown::{DefaultHashBuilder, HashTable};
use std::hash::BuildHasher;

use super::zset_tree::Members;

/// Entries a table may hold before it splits. A split or a table's own growth rehashes every entry of the
/// table, reading each member from wherever its slot lives (a cache miss each, about 250 ns in a 10M-member
/// set): 32k entries took 2-3 ms per split, so tables stay at 1k (well under a millisecond at worst).
const TABLE_ENTRIES_MAX: usize = 1 << 10;

#[derive(Debug, Clone)]
struct Table {
    entries: HashTable<u32>,
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

/// The bits of a member's hash that choose its table. Not the low bits: a hashbrown table places an entry by
/// the low bits of its hash (and tags it with the top seven), so a table whose entries all shared their low
/// bits would pile them into one probe sequence (measured: lookups in a 6M-member set took half of ZADD's
/// time, and every split over a millisecond).
fn directory_bits(hash: u64) -> u64 {
    hash >> 32
}

impl Index {
    pub fn hash(&self, member: &[u8]) -> u64 {
        self.hasher.hash_one(member)
    }

    fn table_of(&self, hash: u64) -> usize {
        self.directory[(directory_bits(hash) & ((1u64 << self.depth) - 1)) as usize] as usize
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The slot of `member`, if it is in the set.
    pub fn get(&self, member: &[u8], members: &Members) -> Option<u32> {
        let hash = self.hash(member);
        self.tables[self.table_of(hash)].entries.find(hash, |&s| members.member(s) == member).copied()
    }

    /// Adds the slot of a member that is not in the index yet.
    pub fn insert(&mut self, slot: u32, members: &Members) {
        let hash = self.hash(members.member(slot));
        let at = self.table_of(hash);
        let hasher = &self.hasher;
        self.tables[at].entries.insert_unique(hash, slot, |&s| hasher.hash_one(members.member(s)));
        self.len += 1;
        if self.tables[at].entries.len() > TABLE_ENTRIES_MAX {
            self.split(at, members);
        }
    }

    /// Removes `member`, returning its slot.
    pub fn remove(&mut self, member: &[u8], members: &Members) -> Option<u32> {
        let hash = self.hash(member);
        let at = self.table_of(hash);
        let entry = self.tables[at].entries.find_entry(hash, |&s| members.member(s) == member).ok()?;
        let (slot, _) = entry.remove();
        self.len -= 1;
        Some(slot)
    }

    /// Splits table `at` by its next hash bit, doubling the directory first if that bit is not in use yet.
    fn split(&mut self, at: usize, members: &Members) {
        let local = self.tables[at].depth;
        if local == self.depth {
            self.directory.extend_from_within(..);
            self.depth += 1;
        }
        let bit = 1u64 << local;
        let hasher = &self.hasher;
        let hash = |s: &u32| hasher.hash_one(members.member(*s));
        // The half that moves goes into a table sized for it, so it never regrows on the way; the half that
        // stays keeps its room, which it refills before its own next split (shrinking would rehash it).
        let mut moved = HashTable::with_capacity(self.tables[at].entries.len() / 2 + 1);
        let mut low_bits = 0;
        for slot in self.tables[at].entries.extract_if(|s| {
            let bits = directory_bits(hash(s));
            low_bits = bits & (bit - 1);
            bits & bit != 0
        }) {
            moved.insert_unique(hash(&slot), slot, hash);
        }
        self.tables[at].depth = local + 1;
        let new = self.tables.len() as u32;
        self.tables.push(Table { entries: moved, depth: local + 1 });
        // The directory slots that pointed at the table are those whose low `local` bits are its entries';
        // the ones with the new bit set now point at the new table.
        let step = (bit as usize) << 1;
        for slot in self.directory[(low_bits | bit) as usize..].iter_mut().step_by(step) {
            *slot = new;
        }
    }

    /// Heap bytes of the tables and the directory.
    pub fn allocation_size(&self) -> usize {
        self.directory.capacity() * size_of::<u32>()
            + self.tables.capacity() * size_of::<Table>()
            + self.tables.iter().map(|t| t.entries.allocation_size()).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::zset_tree::Tree;

    #[test]
    fn splits_keep_every_member_findable() {
        let (mut index, mut tree) = (Index::default(), Tree::default());
        let n = TABLE_ENTRIES_MAX * 5;
        for i in 0..n {
            let slot = tree.insert(i as f64, format!("m{i}").as_bytes());
            index.insert(slot, tree.members());
        }
        assert!(index.tables.len() >= 5 && index.tables.iter().all(|t| t.entries.len() <= TABLE_ENTRIES_MAX));
        assert_eq!(index.len(), n);
        // The invariant: every entry sits in the table its directory slot names.
        let mask = (1u64 << index.depth) - 1;
        for (at, table) in index.tables.iter().enumerate() {
            for &slot in table.entries.iter() {
                let bits = directory_bits(index.hash(tree.members().member(slot)));
                assert_eq!(index.directory[(bits & mask) as usize] as usize, at);
            }
        }
        for i in (0..n).step_by(7) {
            let slot = index.get(format!("m{i}").as_bytes(), tree.members()).unwrap();
            assert_eq!(tree.members().score(slot), i as f64);
        }
        let slot = index.remove(b"m3", tree.members()).unwrap();
        tree.remove(slot);
        assert_eq!(index.get(b"m3", tree.members()), None);
        assert_eq!((index.remove(b"m3", tree.members()), index.len()), (None, n - 1));
    }
}
