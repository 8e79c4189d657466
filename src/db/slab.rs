//! `Slab`: a database's records (`Entry`), in fixed pages it owns, named by 4-byte handles.
//!
//! The shard tables hold a `Handle` (page index and slot, 4 bytes) rather than a `Box<Entry>` (8 bytes), and a
//! record costs exactly `size_of::<Entry>()` with no allocator rounding or header. Pages are allocated whole and
//! never move or grow (a `Vec` made with its final capacity), so an insert costs at most one 14 KiB allocation,
//! never a copy of the records. A removed record's slot goes on an intrusive free list (the free slot's
//! `access` word names the next free slot) and the next insert reuses it; `util::alloc::used_memory` leaves free
//! slots out, as jemalloc's counter leaves out freed blocks, so deleting or evicting a key lowers `used_memory`
//! by its record. Everything is safe indexing: no `unsafe`.

use super::{Entry, Value};
use crate::types::small::SmallBytes;
use crate::util::alloc;

/// A record's name: `page * PAGE + slot`.
pub type Handle = u32;

/// Records per page: 256 records of 56 bytes are 14 KiB, exactly one of jemalloc's size classes.
const PAGE: usize = 256;
/// The end of the free list.
const NONE: u32 = u32::MAX;
/// `expire_slot` of a free slot (a live record's is a TTL index slot or `NO_EXPIRE`, both far from it).
const FREE: u32 = u32::MAX - 1;

#[derive(Debug)]
pub struct Slab {
    pages: Vec<Vec<Entry>>,
    /// The first free slot, or NONE.
    free_head: u32,
    /// Free slots on the list.
    free: usize,
}

impl Default for Slab {
    fn default() -> Slab {
        Slab { pages: Vec::new(), free_head: NONE, free: 0 }
    }
}

fn split(handle: Handle) -> (usize, usize) {
    (handle as usize / PAGE, handle as usize % PAGE)
}

impl Slab {
    /// Records stored (for `Db::check_invariants`; the database counts its keys itself).
    pub fn records(&self) -> usize {
        self.pages.iter().map(Vec::len).sum::<usize>() - self.free
    }

    /// Stores `entry` and returns its handle.
    pub fn insert(&mut self, entry: Entry) -> Handle {
        if self.free_head != NONE {
            let handle = self.free_head;
            let (page, slot) = split(handle);
            let old = std::mem::replace(&mut self.pages[page][slot], entry);
            debug_assert_eq!(old.expire_slot, FREE);
            self.free_head = old.access;
            self.free -= 1;
            alloc::note_spare(size_of::<Entry>(), false);
            return handle;
        }
        if self.pages.last().is_none_or(|page| page.len() == PAGE) {
            // A database would need over 200 GB of records to pass 2^32 of them; no machine this runs on holds it.
            assert!((self.pages.len() + 1) * PAGE < NONE as usize, "more than 2^32 keys in one database");
            self.pages.push(Vec::with_capacity(PAGE));
        }
        let page = self.pages.len() - 1;
        let records = &mut self.pages[page];
        records.push(entry);
        (page * PAGE + records.len() - 1) as Handle
    }

    pub fn get(&self, handle: Handle) -> &Entry {
        let (page, slot) = split(handle);
        let entry = &self.pages[page][slot];
        debug_assert_ne!(entry.expire_slot, FREE, "handle {handle} names a free slot");
        entry
    }

    pub fn get_mut(&mut self, handle: Handle) -> &mut Entry {
        let (page, slot) = split(handle);
        let entry = &mut self.pages[page][slot];
        debug_assert_ne!(entry.expire_slot, FREE, "handle {handle} names a free slot");
        entry
    }

    /// Takes the record out; its slot is reused by a later insert.
    pub fn remove(&mut self, handle: Handle) -> Entry {
        let (page, slot) = split(handle);
        let free =
            Entry { key: SmallBytes::default(), value: Value::Int(0), expire_slot: FREE, access: self.free_head };
        let entry = std::mem::replace(&mut self.pages[page][slot], free);
        debug_assert_ne!(entry.expire_slot, FREE, "handle {handle} removed twice");
        self.free_head = handle;
        self.free += 1;
        alloc::note_spare(size_of::<Entry>(), true);
        entry
    }
}

impl Drop for Slab {
    fn drop(&mut self) {
        alloc::note_spare(self.free * size_of::<Entry>(), false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &[u8]) -> Entry {
        Entry { key: SmallBytes::from(key), value: Value::Int(1), expire_slot: super::super::NO_EXPIRE, access: 0 }
    }

    #[test]
    fn reuses_freed_slots_and_keeps_handles_stable() {
        let mut slab = Slab::default();
        let handles: Vec<Handle> = (0..(2 * PAGE + 3)).map(|i| slab.insert(entry(i.to_string().as_bytes()))).collect();
        assert_eq!(slab.pages.len(), 3);
        assert_eq!(slab.remove(handles[5]).key(), b"5");
        assert_eq!(slab.remove(handles[PAGE + 1]).key(), (PAGE + 1).to_string().as_bytes());
        assert_eq!(slab.records(), 2 * PAGE + 1);
        // Last freed, first reused; nothing else moved.
        assert_eq!(slab.insert(entry(b"x")), handles[PAGE + 1]);
        assert_eq!(slab.insert(entry(b"y")), handles[5]);
        assert_eq!(slab.insert(entry(b"z")), handles[2 * PAGE + 2] + 1);
        assert_eq!(slab.get(handles[7]).key(), b"7");
        assert_eq!(slab.get(handles[5]).key(), b"y");
        assert!(slab.pages.iter().all(|page| page.capacity() == PAGE));
    }

    #[test]
    fn a_page_is_one_size_class() {
        assert_eq!(size_of::<Entry>() * PAGE, 14 * 1024);
    }
}
