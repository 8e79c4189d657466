//! `TtlIndex`: the hashes of the keys that have a TTL, densely packed so the active expiry cycle can pick one
//! at random in O(1).
//!
//! It is a vector cut into fixed pages rather than one `Vec`: a `Vec` doubles by copying everything, and at 10M
//! keys with a TTL that is an 80 MB copy inside one command (tens of milliseconds). Pages never move; only the
//! small vector of page pointers grows, and the capacity beyond the live hashes is at most one page, so INFO's
//! `used_memory` carries no doubling slack either.

/// Hashes per page: 8 KiB pages, two jemalloc pages.
const PAGE: usize = 1024;

#[derive(Debug, Default)]
pub struct TtlIndex {
    pages: Vec<Box<[u64; PAGE]>>,
    len: usize,
}

impl TtlIndex {
    pub fn len(&self) -> usize {
        self.len
    }

    /// Bytes the index allocated (MEMORY STATS' `overhead.hashtable.expires`).
    pub fn allocation_size(&self) -> usize {
        self.pages.capacity() * size_of::<Box<[u64; PAGE]>>() + self.pages.len() * size_of::<[u64; PAGE]>()
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The hash in slot `slot`; panics past the end, like slice indexing.
    pub fn get(&self, slot: usize) -> u64 {
        assert!(slot < self.len, "ttl index slot {slot} past {}", self.len);
        self.pages[slot / PAGE][slot % PAGE]
    }

    /// Appends `hash` and returns its slot.
    pub fn push(&mut self, hash: u64) -> usize {
        let slot = self.len;
        if slot / PAGE == self.pages.len() {
            self.pages.push(Box::new([0; PAGE]));
        }
        self.pages[slot / PAGE][slot % PAGE] = hash;
        self.len += 1;
        slot
    }

    /// Removes slot `slot` by moving the last hash into it (which then lives at `slot`); returns the removed hash.
    pub fn swap_remove(&mut self, slot: usize) -> u64 {
        let removed = self.get(slot);
        let last = self.len - 1;
        let moved = self.get(last);
        self.pages[slot / PAGE][slot % PAGE] = moved;
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
        for i in 0..(3 * PAGE as u64 + 7) {
            assert_eq!(index.push(i * 3), model.len());
            model.push(i * 3);
        }
        // Remove from the middle, the first page, the last slot (3 * PAGE + 4 after two removals) and page edges.
        for slot in [PAGE + 5, 0, 3 * PAGE + 4, 2 * PAGE, PAGE - 1] {
            assert_eq!(index.swap_remove(slot), model.swap_remove(slot));
            assert_eq!(index.len(), model.len());
        }
        assert!((0..model.len()).all(|slot| index.get(slot) == model[slot]));
        while !model.is_empty() {
            assert_eq!(index.swap_remove(0), model.swap_remove(0));
            assert!(index.pages.len() <= model.len().div_ceil(PAGE) + 1);
        }
        assert!(index.is_empty());
        assert!(index.pages.len() <= 1);
        assert_eq!(index.push(42), 0);
        assert_eq!(index.get(0), 42);
    }

    #[test]
    #[should_panic(expected = "past")]
    fn reading_past_the_end_panics() {
        TtlIndex::default().get(0);
    }
}
