// SPDX-License-Identifier: GPL-2.0
//! Page provider on the host heap.

use allocators::{PageProvider, PAGE_SIZE};
use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Zeroed, page-aligned heap pages; counts the pages it has handed out.
pub struct HostProvider {
    held: AtomicUsize,
}

impl HostProvider {
    pub fn new() -> Self {
        Self {
            held: AtomicUsize::new(0),
        }
    }

    pub fn held(&self) -> usize {
        self.held.load(Ordering::Relaxed)
    }
}

fn layout() -> Layout {
    Layout::from_size_align(PAGE_SIZE, PAGE_SIZE).expect("page layout")
}

// SAFETY: each page is a fresh zeroed heap block of PAGE_SIZE bytes aligned
// to PAGE_SIZE, freed only through `free_page`.
unsafe impl PageProvider for &HostProvider {
    fn alloc_page(&self) -> Option<NonNull<u8>> {
        // SAFETY: the layout has a non-zero size.
        let p = NonNull::new(unsafe { alloc_zeroed(layout()) })?;
        self.held.fetch_add(1, Ordering::Relaxed);
        Some(p)
    }

    unsafe fn free_page(&self, page: NonNull<u8>) {
        self.held.fetch_sub(1, Ordering::Relaxed);
        // SAFETY: the caller passes a page from `alloc_page`, allocated with
        // this layout.
        unsafe { dealloc(page.as_ptr(), layout()) };
    }
}
