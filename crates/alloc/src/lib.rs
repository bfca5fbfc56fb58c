//! pushlab-alloc: a global allocator that counts the bytes in use, for the server's
//! `heap_bytes` in `/api/stats` and the load generator's own heap figures.
//!
//! RSS alone cannot tell "memory per connection": the allocator keeps freed pages, and
//! the kernel counts them until it takes them back. The live heap can. The counter is
//! one relaxed atomic add per allocation, cheap next to the allocation itself.
//!
//! Install it in a binary (`pushlab-server` and `pushlab-load` both do):
//! `#[global_allocator] static ALLOC: CountingAlloc = CountingAlloc;`
//! Without it, [`heap_bytes`] stays 0.
#![allow(unsafe_code)] // implementing GlobalAlloc is unsafe by definition

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

static IN_USE: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, counting.
#[derive(Debug)]
pub struct CountingAlloc;

// SAFETY: every method forwards to `System` with the same arguments; the counter does
// not touch the memory.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as ours.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            IN_USE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as ours.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            IN_USE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) };
        IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as ours.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            IN_USE.fetch_add(new_size, Ordering::Relaxed);
            IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        new
    }
}

/// Bytes allocated and not yet freed (0 unless [`CountingAlloc`] is the global allocator).
pub fn heap_bytes() -> u64 {
    IN_USE.load(Ordering::Relaxed) as u64
}
