// SPDX-License-Identifier: GPL-2.0

//! Kernel pages and locks for the zpool allocators (`allocators/`) and for
//! the slot table's chunks.
//!
//! The allocator crate is `no_std` and knows nothing of the kernel: it asks
//! a [`PageProvider`] for pages and a [`PoolLock`] for mutual exclusion.
//! Here pages are order-0 kernel pages taken with GFP_NOIO (the caller may
//! be writing out swap) and locks are the kernel's spinlocks.

use core::ffi::c_void;
use core::ptr::{self, NonNull};
use core::sync::atomic::AtomicPtr;
use kernel::{
    bindings,
    new_spinlock,
    prelude::*,
    sync::SpinLock, //
};

use super::ffi;
use crate::{
    allocators::{AnyPool, Backend, PageProvider, PoolLock},
    portable::{
        slot::Slot,
        slot_table::{chunks_for, SlotTable},
    },
};

/// The pool type of a device.
pub(crate) type Pool = AnyPool<KernelPages, KernelLock>;

/// Creates a pool of `backend` on the heap.
///
/// A pool is a few hundred bytes (its tables, class states and lists live
/// in pool pages), so building it on the stack and moving it costs little.
/// Not inlined, so that the caller's frame does not hold a pool as well.
#[inline(never)]
pub(crate) fn new_pool(backend: Backend) -> Result<KBox<Pool>> {
    let pool = AnyPool::new(backend, KernelPages).ok_or(ENOMEM)?;
    Ok(KBox::new(pool, GFP_KERNEL)?)
}

/// A device's slot table: chunks from [`KernelPages`], directory in a `KVVec`.
pub(crate) type KernelSlotTable = SlotTable<KVVec<AtomicPtr<Slot>>, KernelPages>;

/// A slot table for `slots` pages: only its directory (8 bytes per 256
/// pages) is allocated now, chunks of slots come with the first writes.
pub(crate) fn new_slot_table(slots: usize) -> Result<KernelSlotTable> {
    let n = chunks_for(slots);
    let mut dir = KVVec::with_capacity(n, GFP_KERNEL)?;
    for _ in 0..n {
        dir.push(AtomicPtr::new(ptr::null_mut()), GFP_KERNEL)?;
    }
    // SAFETY: `dir` is a fresh vector of null entries moved into the table,
    // which alone uses it from now on.
    unsafe { SlotTable::new(dir, slots, KernelPages) }.ok_or(ENOMEM)
}

/// Order-0 pages from the page allocator, mapped (no highmem on x86-64).
pub(crate) struct KernelPages;

// SAFETY: `alloc_page` returns a fresh, exclusive, page-aligned page of
// PAGE_SIZE bytes from `get_free_pages`, valid until `free_page` gives it
// back with `free_pages`; kernel memory is always initialized.
unsafe impl PageProvider for KernelPages {
    fn alloc_page(&self) -> Option<NonNull<u8>> {
        // SAFETY: A forwarder for a constant; no preconditions.
        let gfp = unsafe { ffi::rzram_gfp_noio() };
        // SAFETY: Any GFP mask is valid; order 0 is one page. May sleep, and
        // the allocators never call it with a lock held.
        let addr = unsafe { bindings::get_free_pages_noprof(gfp, 0) };
        NonNull::new(addr as *mut u8)
    }

    unsafe fn free_page(&self, page: NonNull<u8>) {
        // SAFETY: By the trait's contract `page` came from `alloc_page`, so
        // it is an order-0 allocation of `get_free_pages`.
        unsafe { bindings::free_pages(page.as_ptr() as usize, 0) };
    }
}

/// A kernel spinlock without data, for the allocators' internal state.
pub(crate) struct KernelLock(Pin<KBox<SpinLock<()>>>);

impl PoolLock for KernelLock {
    fn new() -> Option<Self> {
        let lock = KBox::pin_init(new_spinlock!((), "rzram_pool"), GFP_KERNEL).ok()?;
        // Per-class locks are referred to only from pool pages, which
        // kmemleak does not scan.
        // SAFETY: `lock` points to a live kmalloc allocation.
        unsafe { ffi::rzram_kmemleak_not_leak(&*lock as *const SpinLock<()> as *const c_void) };
        Some(KernelLock(lock))
    }

    fn with<R>(&self, f: impl FnOnce() -> R) -> R {
        let _guard = self.0.lock();
        f()
    }
}
