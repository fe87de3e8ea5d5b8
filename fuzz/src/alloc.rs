//! A global allocator that counts live heap bytes, so a fuzz target can assert that
//! what a peer sends cannot grow a session's memory without bound.
//!
//! A target opts in with
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOC: zeroring_zmtp_fuzz::alloc::Counting = zeroring_zmtp_fuzz::alloc::Counting;
//! ```
//!
//! and wraps the code under test in [`measure`], which returns the highest number of
//! bytes that were live at once above the level when it started. The counters are
//! process-wide atomics; libFuzzer runs one input at a time on one thread, so the
//! figure belongs to that input (plus anything libFuzzer itself allocates meanwhile,
//! which is nothing while the input runs).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Bytes currently allocated through [`Counting`].
static LIVE: AtomicUsize = AtomicUsize::new(0);
/// The highest value [`LIVE`] reached since [`measure`] last reset it.
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, counting live bytes and their peak.
pub struct Counting;

impl Counting {
    fn grew(size: usize) {
        let live = LIVE.fetch_add(size, Ordering::Relaxed) + size;
        PEAK.fetch_max(live, Ordering::Relaxed);
    }

    fn shrank(size: usize) {
        LIVE.fetch_sub(size, Ordering::Relaxed);
    }
}

// SAFETY: every call is forwarded to `System` unchanged; the counters only observe.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            Counting::grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            Counting::grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator (so from `System`) with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        Counting::shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`, and `new_size` is valid per the caller.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            Counting::grew(new_size);
            Counting::shrank(layout.size());
        }
        p
    }
}

/// Runs `f` and returns its result with the peak of live heap bytes during the call,
/// above the level at its start. Meaningful only in a binary whose global allocator
/// is [`Counting`] (elsewhere the peak is 0).
pub fn measure<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let out = f();
    let peak = PEAK.load(Ordering::Relaxed);
    (out, peak.saturating_sub(base))
}
