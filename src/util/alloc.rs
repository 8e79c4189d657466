//! A counting global allocator: INFO's `used_memory` is the number of heap bytes live right now.
//!
//! Redis reports the bytes its allocator handed out; we do the same by wrapping the system allocator and
//! keeping a running total, so memory per key can be compared with Redis's figure.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

static USED_BYTES: AtomicUsize = AtomicUsize::new(0);
static PEAK_BYTES: AtomicUsize = AtomicUsize::new(0);

/// The system allocator plus a byte counter. Install it with `#[global_allocator]` in the binary.
#[derive(Debug)]
pub struct CountingAlloc;

/// Heap bytes currently allocated through the global allocator.
pub fn used_memory() -> usize {
    USED_BYTES.load(Ordering::Relaxed)
}

/// The highest `used_memory` seen since start (sampled by the caller, as Redis samples in its cron).
pub fn peak_memory() -> usize {
    let used = used_memory();
    PEAK_BYTES.fetch_max(used, Ordering::Relaxed).max(used)
}

// SAFETY: every method forwards to `System` with the caller's own arguments and returns its result unchanged,
// so all of GlobalAlloc's contracts (size/alignment, no unwinding, returned pointers) are System's. The only
// extra work is a relaxed atomic add or subtract, which neither allocates nor panics.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as our caller's.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            USED_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) };
        USED_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as our caller's.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            USED_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as our caller's.
        let new_ptr = unsafe { System.realloc(ptr, layout, new_size) };
        if !new_ptr.is_null() {
            USED_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
            USED_BYTES.fetch_add(new_size, Ordering::Relaxed);
        }
        new_ptr
    }
}
