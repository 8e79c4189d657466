//! `TtlIndex`: the keys that have a TTL, each as its record's handle beside its deadline, densely packed so the
//! active expiry cycle can pick one at random in O(1). The deadline lives here rather than in the record, so a
//! key without a TTL pays nothing for it.
//!
//! It is a vector cut into fixed pages rather than one `Vec`: a `Vec` doubles by copying everything, and at 10M
//! keys with a TTL that is a 120 MB copy inside one command (tens of milliseconds). Pages never move; only the
//! small vector of page pointers grows, and the capacity beyond the live slots is at most one page, so INFO's
//! `used_memory` carries no doubling slack either.

use super::slab::Handle;

/// Slots per page: 8 KiB of deadlines and 4 KiB of handles, jemalloc size classes both.
const PAGE: usize = 1024;

#[derive(Debug)]
struct Page {
    handles: Box<[Handle; PAGE]>,
    deadlines: Box<[i64; PAGE]>,
}

#[derive(Debug, Default)]
pub struct TtlIndex {
    pages: Vec<Page>,
    len: usize,
}

impl TtlIndex {
    pub fn len(&self) -> usize {
        self.len
    }

    /// Bytes the index allocated (MEMORY STATS' `overhead.hashtable.expires`).
    pub fn allocation_size(&self) -> usize {
        self.pages.capacity() * size_of::<Page>()
            + self.pages.len() * (size_of::<[Handle; PAGE]>() + size_of::<[i64; PAGE]>())
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn check(&self, slot: usize) {
        assert!(slot < self.len, "ttl index slot {slot} past {}", self.len);
    }

    /// The handle in slot `slot`; panics past the end, like slice indexing.
    pub fn handle(&self, slot: usize) -> Handle {
        self.check(slot);
        self.pages[slot / PAGE].handles[slot % PAGE]
    }

    /// The deadline (Unix ms) in slot `slot`; panics past the end.
    pub fn deadline(&self, slot: usize) -> i64 {
        self.check(slot);
        self.pages[slot / PAGE].deadlines[slot % PAGE]
    }

    pub fn set_deadline(&mut self, slot: usize, at_ms: i64) {
        self.check(slot);
        self.pages[slot / PAGE].deadlines[slot % PAGE] = at_ms;
    }

    /// Appends `handle` with its deadline and returns its slot.
    pub fn push(&mut self, handle: Handle, at_ms: i64) -> usize {
        let slot = self.len;
        if slot / PAGE == self.pages.len() {
            self.pages.push(Page { handles: Box::new([0; PAGE]), deadlines: Box::new([0; PAGE]) });
        }
        let page = &mut self.pages[slot / PAGE];
        page.handles[slot % PAGE] = handle;
        page.deadlines[slot % PAGE] = at_ms;
        self.len += 1;
        slot
    }

    /// Removes slot `slot` by moving the last slot into it; returns the removed handle and deadline.
    pub fn swap_remove(&mut self, slot: usize) -> (Handle, i64) {
        let removed = (self.handle(slot), self.deadline(slot));
        let last = self.len - 1;
        let moved = (self.handle(last), self.deadline(last));
        let page = &mut self.pages[slot / PAGE];
        page.handles[slot % PAGE] = moved.0;
        page.deadlines[slot % PAGE] = moved.1;
        self.len = last;
        // Keep one spare page at most, so a key that gains and loses a TTL at a page edge does not thrash.
        if self.pages.len() > self.len.div_ceil(PAGE) + 1 {
            self.pages.pop();
        }
        removed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_like_a_vec_across_pages() {
        let mut index = TtlIndex::default();
        let mut model = Vec::new();
        for i in 0..(3 * PAGE as u32 + 7) {
            assert_eq!(index.push(i * 3, -i64::from(i)), model.len());
            model.push((i * 3, -i64::from(i)));
        }
        // Remove from the middle, the first page, the last slot (3 * PAGE + 4 after two removals) and page edges.
        for slot in [PAGE + 5, 0, 3 * PAGE + 4, 2 * PAGE, PAGE - 1] {
            assert_eq!(index.swap_remove(slot), model.swap_remove(slot));
            assert_eq!(index.len(), model.len());
        }
        index.set_deadline(3, 77);
        model[3].1 = 77;
        assert!((0..model.len()).all(|slot| (index.handle(slot), index.deadline(slot)) == model[slot]));
        while !model.is_empty() {
            assert_eq!(index.swap_remove(0), model.swap_remove(0));
            assert!(index.pages.len() <= model.len().div_ceil(PAGE) + 1);
        }
        assert!(index.is_empty());
        assert!(index.pages.len() <= 1);
        assert_eq!(index.push(42, 9), 0);
        assert_eq!((index.handle(0), index.deadline(0)), (42, 9));
    }

    #[test]
    #[should_panic(expected = "past")]
    fn reading_past_the_end_panics() {
        TtlIndex::default().handle(0);
    }
}
