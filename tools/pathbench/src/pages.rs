// SPDX-License-Identifier: GPL-2.0
//! The page provider of the benchmark's pools: recycled or fresh heap pages.

use allocators::{AnyPool, PageProvider, SpinLockHost, PAGE_SIZE};
use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::ptr::NonNull;

/// Page-aligned heap pages, recycled like the kernel's per-CPU page lists:
/// a freed page goes on the freeing thread's list and is handed out again
/// first (still hot in cache), and pages are not zeroed (rzram's provider
/// takes plain GFP_NOIO pages). A page comes from the heap only when the
/// thread's list is empty. `--fresh-pages` uses zeroed heap pages from
/// `alloc_zeroed` and gives them back on every free instead, which is what
/// this benchmark measured before: the heap's bookkeeping, page faults and
/// the zeroing then go into the store and free columns.
pub struct HostPages {
    pub fresh: bool,
}

thread_local! {
    /// This thread's free pages (addresses), most recently freed last.
    static FREE_PAGES: std::cell::RefCell<Vec<usize>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn page_layout() -> Layout {
    Layout::from_size_align(PAGE_SIZE, PAGE_SIZE).expect("page layout")
}

// SAFETY: each page is a heap block of PAGE_SIZE bytes aligned to PAGE_SIZE,
// owned by one holder at a time: handed out once by `alloc_page`, and after
// `free_page` either kept on a free list (never handed out twice) or given
// back to the heap with the same layout.
unsafe impl PageProvider for &HostPages {
    fn alloc_page(&self) -> Option<NonNull<u8>> {
        if !self.fresh {
            if let Some(p) = FREE_PAGES.with(|l| l.borrow_mut().pop()) {
                return NonNull::new(p as *mut u8);
            }
            // SAFETY: the layout has a non-zero size.
            let p = NonNull::new(unsafe { std::alloc::alloc(page_layout()) })?;
            // Heap memory is initialised once, so that the pool only ever
            // sees initialised bytes (the `PageProvider` contract).
            // SAFETY: the page is ours and PAGE_SIZE bytes long.
            unsafe { p.as_ptr().write_bytes(0, PAGE_SIZE) };
            return Some(p);
        }
        // SAFETY: the layout has a non-zero size.
        NonNull::new(unsafe { alloc_zeroed(page_layout()) })
    }

    unsafe fn free_page(&self, page: NonNull<u8>) {
        if !self.fresh {
            FREE_PAGES.with(|l| l.borrow_mut().push(page.as_ptr() as usize));
            return;
        }
        // SAFETY: the page came from `alloc_page`, allocated with this layout.
        unsafe { dealloc(page.as_ptr(), page_layout()) };
    }
}

/// `--fresh-pages`, for every pool of the run.
pub static FRESH_PAGES: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub fn fresh_pages() -> bool {
    FRESH_PAGES.load(std::sync::atomic::Ordering::Relaxed)
}

pub type Pool<'a> = AnyPool<&'a HostPages, SpinLockHost>;
