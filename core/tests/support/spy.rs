//! A spying global allocator for the wipe tests (`alloc_wipe.rs`, `hmac_wipe.rs`): while a
//! case runs it scans every block handed back to it (`dealloc`, and the old block of a
//! `realloc`, which the default `GlobalAlloc::realloc` frees through `dealloc`) for the
//! needles it was given; a block freed without being wiped first is a hit. Fresh blocks are
//! zeroed, so a needle in a freed block was written during its life (not left by the test's
//! own earlier, unwiped, setup allocations).
//!
//! The allocator is global: a test binary using it runs its cases one at a time, in one
//! `#[test]` function, each input built before a case is armed.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

/// Every `window`-byte window of every needle (all the same length).
static WINDOWS: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());
static ARMED: AtomicBool = AtomicBool::new(false);
static HITS: AtomicUsize = AtomicUsize::new(0);
static LARGEST_HIT: AtomicUsize = AtomicUsize::new(0);

/// The allocator: `#[global_allocator] static GLOBAL: spy::Spy = spy::Spy;`.
pub struct Spy;

fn scan(block: &[u8]) -> bool {
    // `try_lock`: the scan never allocates, and a block freed while `arm` holds the lock
    // (the old needles) is not judged.
    let Ok(windows) = WINDOWS.try_lock() else {
        return false;
    };
    let Some(w0) = windows.first() else {
        return false;
    };
    block.len() >= w0.len()
        && block
            .windows(w0.len())
            .any(|b| windows.iter().any(|n| n[0] == b[0] && n[..] == *b))
}

// SAFETY: every method forwards to `System` with the caller's own pointer and layout;
// `dealloc` only reads the `layout.size()` bytes the caller still owns before freeing them.
// (core's `forbid(unsafe_code)` is on the library only; a global allocator needs `unsafe`.)
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Spy {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as System::alloc_zeroed.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if ARMED.load(Ordering::SeqCst) && !ptr.is_null() {
            // SAFETY: `ptr` is a live block of `layout.size()` bytes until freed below.
            let block = unsafe { std::slice::from_raw_parts(ptr, layout.size()) };
            if scan(block) {
                HITS.fetch_add(1, Ordering::SeqCst);
                LARGEST_HIT.fetch_max(layout.size(), Ordering::SeqCst);
            }
        }
        // SAFETY: as System::dealloc.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Sets what the next cases look for: a freed block holding any `window` consecutive bytes
/// of a needle is a hit. Needles shorter than `window` are refused.
pub fn arm(needles: &[Vec<u8>], window: usize) {
    assert!(
        needles.iter().all(|n| n.len() >= window),
        "needle shorter than the window"
    );
    let windows: Vec<Vec<u8>> = needles
        .iter()
        .flat_map(|n| n.windows(window).map(<[u8]>::to_vec))
        .collect();
    *WINDOWS.lock().unwrap() = windows;
}

/// Runs `case` armed; returns (freed blocks holding a needle, the largest one's size, the
/// case's result).
pub fn armed<T>(case: impl FnOnce() -> T) -> (usize, usize, T) {
    HITS.store(0, Ordering::SeqCst);
    LARGEST_HIT.store(0, Ordering::SeqCst);
    ARMED.store(true, Ordering::SeqCst);
    let out = case();
    ARMED.store(false, Ordering::SeqCst);
    (
        HITS.load(Ordering::SeqCst),
        LARGEST_HIT.load(Ordering::SeqCst),
        out,
    )
}
