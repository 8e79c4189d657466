//! The global allocator: jemalloc, with a running count of the bytes it handed out, which is INFO's
//! `used_memory`.
//!
//! jemalloc was chosen by measurement (see ARCHITECTURE.md, "Memory"): its size classes hold the keyspace's
//! 14 KiB record pages and most small blocks exactly, where glibc's malloc adds an 8-byte chunk header to each
//! block and rounds it to 16. Like Redis's zmalloc the counter adds each block's real size (`nallocx`: the size
//! class a request lands in, a pure computation, no lock), not the size asked for, so `used_memory` is what
//! jemalloc's own `stats.allocated` would say, at the cost of an add per allocation rather than a stats refresh.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering};
use tikv_jemalloc_sys as jemalloc;
use tikv_jemallocator::Jemalloc;

static USED_BYTES: AtomicUsize = AtomicUsize::new(0);
static PEAK_BYTES: AtomicUsize = AtomicUsize::new(0);
/// Bytes of the keyspace's record pages that hold no record (`db::slab`'s freed slots): allocated from
/// jemalloc, but as free as a freed block, so `used_memory` leaves them out.
static SPARE_BYTES: AtomicUsize = AtomicUsize::new(0);

/// What INFO's `mem_allocator` says: the allocator and the version of it that is linked in.
pub const ALLOCATOR_NAME: &str = "jemalloc-5.3.0";

/// jemalloc plus a byte counter. Install it with `#[global_allocator]` in the binary.
#[derive(Debug)]
pub struct CountingAlloc;

/// Heap bytes currently allocated through the global allocator, counted in size classes, less the free slots of
/// the keyspace's record pages: a deleted key's record is free memory the next key reuses, as a freed block is to
/// jemalloc, so deleting (or evicting) a key lowers `used_memory` by its record as it does in Redis.
pub fn used_memory() -> usize {
    USED_BYTES.load(Ordering::Relaxed).saturating_sub(SPARE_BYTES.load(Ordering::Relaxed))
}

/// Records that `bytes` of record pages became free (`add`) or were reused or given back (`!add`).
pub fn note_spare(bytes: usize, add: bool) {
    if add {
        SPARE_BYTES.fetch_add(bytes, Ordering::Relaxed);
    } else {
        SPARE_BYTES.fetch_sub(bytes, Ordering::Relaxed);
    }
}

/// The highest `used_memory` seen since start (sampled by the caller, as Redis samples in its cron).
pub fn peak_memory() -> usize {
    let used = used_memory();
    PEAK_BYTES.fetch_max(used, Ordering::Relaxed).max(used)
}

/// jemalloc's own view of its heap (INFO's `allocator_*` fields), from its statistics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AllocatorStats {
    /// Bytes in blocks handed out.
    pub allocated: usize,
    /// Bytes in pages holding at least one block (allocated plus the free blocks beside them).
    pub active: usize,
    /// Bytes of jemalloc's pages that are resident, its metadata included.
    pub resident: usize,
}

/// Refreshes jemalloc's statistics and reads them; `None` if they cannot be read.
pub fn allocator_stats() -> Option<AllocatorStats> {
    // jemalloc's totals are a snapshot, taken when the epoch advances.
    tikv_jemalloc_ctl::epoch::advance().ok()?;
    Some(AllocatorStats {
        allocated: tikv_jemalloc_ctl::stats::allocated::read().ok()?,
        active: tikv_jemalloc_ctl::stats::active::read().ok()?,
        resident: tikv_jemalloc_ctl::stats::resident::read().ok()?,
    })
}

/// The bytes jemalloc really reserves for a block of `layout`: its size class. The flags are the ones
/// `tikv_jemallocator` passes for the same layout, so the class is the one the block gets.
fn class_size(layout: Layout) -> usize {
    /// The alignment every jemalloc block has without asking (alignof(max_align_t) on x86-64 and aarch64).
    const NATURAL_ALIGN: usize = 16;
    let flags = if layout.align() <= NATURAL_ALIGN && layout.align() <= layout.size() {
        0
    } else {
        jemalloc::MALLOCX_ALIGN(layout.align())
    };
    // SAFETY: nallocx only computes the size class of (size, flags); it touches no memory of ours, and the flags
    // are a valid alignment request (a power of two, as every Layout's alignment is). It returns 0 when the size
    // would overflow, which no successful allocation can have.
    unsafe { jemalloc::nallocx(layout.size(), flags) }
}

// SAFETY: every method forwards to `Jemalloc` with the caller's own arguments and returns its result unchanged,
// so all of GlobalAlloc's contracts (size/alignment, no unwinding, returned pointers) are Jemalloc's. The only
// extra work is `class_size` (a pure computation) and a relaxed atomic add or subtract, which neither allocate
// nor panic.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as our caller's.
        let ptr = unsafe { Jemalloc.alloc(layout) };
        if !ptr.is_null() {
            USED_BYTES.fetch_add(class_size(layout), Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { Jemalloc.dealloc(ptr, layout) };
        USED_BYTES.fetch_sub(class_size(layout), Ordering::Relaxed);
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as our caller's.
        let ptr = unsafe { Jemalloc.alloc_zeroed(layout) };
        if !ptr.is_null() {
            USED_BYTES.fetch_add(class_size(layout), Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as our caller's.
        let new_ptr = unsafe { Jemalloc.realloc(ptr, layout, new_size) };
        if !new_ptr.is_null() {
            // The caller guarantees the new layout is valid, so this never falls back to 0.
            let new_class = Layout::from_size_align(new_size, layout.align()).map_or(0, class_size);
            USED_BYTES.fetch_sub(class_size(layout), Ordering::Relaxed);
            USED_BYTES.fetch_add(new_class, Ordering::Relaxed);
        }
        new_ptr
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_sizes_are_jemallocs() {
        let class = |size, align| class_size(Layout::from_size_align(size, align).unwrap());
        // Small classes: 8, 16, then steps of 16 up to 128. A key's 64-byte record fits one exactly.
        assert_eq!(class(1, 1), 8);
        assert_eq!(class(17, 8), 32);
        assert_eq!(class(64, 8), 64);
        assert_eq!(class(65, 8), 80);
        // An alignment above the size is honoured, and counted.
        assert_eq!(class(8, 64), 64);
    }

    #[test]
    fn stats_read() {
        // Test binaries keep the system allocator, so jemalloc's heap may be nearly empty: check the shape.
        let stats = allocator_stats().expect("jemalloc stats are compiled in");
        assert!(stats.allocated <= stats.active && stats.active <= stats.resident, "{stats:?}");
    }
}
