// SPDX-License-Identifier: GPL-2.0
//! Host page provider and lock shared by the integration tests and the fuzz
//! harness (`fuzz/src/lib.rs` includes this file by path).
#![allow(dead_code)]

use allocators::{PageProvider, PoolLock, PAGE_SIZE};
use std::alloc::{alloc, dealloc, Layout};
use std::collections::HashSet;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Byte every new page is filled with: words of it are even (they pass for
/// live table entries) and are not canonical addresses.
const POISON: u8 = 0xa4;

/// Poisoned heap pages; tracks the pages it has handed out and can be told to
/// fail (`budget` allocations left, `usize::MAX` = unlimited).
pub struct HostProvider {
    held: Mutex<HashSet<usize>>,
    pub budget: AtomicUsize,
}

impl HostProvider {
    pub fn new() -> Self {
        Self {
            held: Mutex::new(HashSet::new()),
            budget: AtomicUsize::new(usize::MAX),
        }
    }
    pub fn held(&self) -> usize {
        self.held.lock().unwrap().len()
    }
    pub fn set_budget(&self, n: usize) {
        self.budget.store(n, Ordering::Relaxed);
    }
}

fn layout() -> Layout {
    Layout::from_size_align(PAGE_SIZE, PAGE_SIZE).unwrap()
}

// SAFETY: pages are PAGE_SIZE-byte, PAGE_SIZE-aligned heap blocks, poisoned
// (so initialised), handed out once and freed only through `free_page`.
unsafe impl PageProvider for &HostProvider {
    fn alloc_page(&self) -> Option<NonNull<u8>> {
        let ok = self
            .budget
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| match b {
                0 => None,
                usize::MAX => Some(b),
                b => Some(b - 1),
            })
            .is_ok();
        if !ok {
            return None;
        }
        // SAFETY: non-zero size.
        let p = NonNull::new(unsafe { alloc(layout()) })?;
        // Kernel pages arrive with old contents: poison, so that code reading
        // a page before writing it sees words that look like live pointers.
        // SAFETY: the page is ours and PAGE_SIZE bytes long.
        unsafe { p.as_ptr().write_bytes(POISON, layout().size()) };
        assert!(self.held.lock().unwrap().insert(p.as_ptr() as usize));
        Some(p)
    }

    unsafe fn free_page(&self, page: NonNull<u8>) {
        assert!(
            self.held.lock().unwrap().remove(&(page.as_ptr() as usize)),
            "freeing a page not held"
        );
        // SAFETY: allocated above with this layout.
        unsafe { dealloc(page.as_ptr(), layout()) };
    }
}

/// A std mutex as pool lock (blocks instead of spinning on an
/// oversubscribed test machine).
pub struct MutexLock(Mutex<()>);

impl PoolLock for MutexLock {
    fn new() -> Option<Self> {
        Some(Self(Mutex::new(())))
    }
    fn with<R>(&self, f: impl FnOnce() -> R) -> R {
        let _g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        f()
    }
}
