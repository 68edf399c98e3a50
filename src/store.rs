// SPDX-License-Identifier: GPL-2.0

//! Where compressed objects live: one `kmalloc` per object.
//!
//! This is the stand-in until the zpool allocators (`allocators/`) are wired
//! in: simple and obviously correct, but it pays kmalloc's size-class
//! rounding, which `mem_used_total` does not show (it counts the bytes
//! asked for, rounded up to pages).

use core::{
    ffi::c_void,
    sync::atomic::{AtomicUsize, Ordering},
};
use kernel::{bindings, prelude::*};

extern "C" {
    fn rzram_gfp_noio() -> u32;
}

/// Counts of what the store holds.
pub(crate) struct Store {
    bytes: AtomicUsize,
}

impl Store {
    pub(crate) const fn new() -> Self {
        Store {
            bytes: AtomicUsize::new(0),
        }
    }

    /// Copies `data` into a new object and returns its handle (non-zero).
    ///
    /// Allocates with GFP_NOIO: the caller may be writing out swap, and
    /// reclaim must not recurse into I/O. Fails with `ENOMEM`.
    pub(crate) fn alloc_write(&self, data: &[u8]) -> Result<usize> {
        // SAFETY: A forwarder for a constant; no preconditions.
        let gfp = unsafe { rzram_gfp_noio() };
        // SAFETY: A null pointer asks `krealloc` for a new allocation of
        // `data.len()` bytes; alignment 1 is always valid.
        let ptr = unsafe {
            bindings::krealloc_node_align(
                core::ptr::null(),
                data.len(),
                1,
                gfp,
                bindings::NUMA_NO_NODE,
            )
        }
        .cast::<u8>();
        if ptr.is_null() {
            return Err(ENOMEM);
        }
        // SAFETY: `ptr` is a fresh allocation of `data.len()` bytes that
        // cannot overlap `data`.
        unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), ptr, data.len()) };
        self.bytes.fetch_add(data.len(), Ordering::Relaxed);
        Ok(ptr as usize)
    }

    /// Runs `f` on the object's bytes.
    ///
    /// # Safety
    ///
    /// `handle` must come from [`Store::alloc_write`] of `len` bytes and not
    /// be freed before this returns.
    pub(crate) unsafe fn read<R>(&self, handle: usize, len: usize, f: impl FnOnce(&[u8]) -> R) -> R {
        // SAFETY: By the function's safety requirements `handle` is a live
        // allocation of `len` bytes that nobody writes to after creation.
        f(unsafe { core::slice::from_raw_parts(handle as *const u8, len) })
    }

    /// Frees an object.
    ///
    /// # Safety
    ///
    /// `handle` must come from [`Store::alloc_write`] of `len` bytes and
    /// must not be used again.
    pub(crate) unsafe fn free(&self, handle: usize, len: usize) {
        // SAFETY: By the function's safety requirements `handle` came from
        // `krealloc` and is freed once.
        unsafe { bindings::kfree(handle as *const c_void) };
        self.bytes.fetch_sub(len, Ordering::Relaxed);
    }

    /// Memory the objects take, in pages.
    pub(crate) fn total_pages(&self) -> usize {
        self.bytes.load(Ordering::Relaxed).div_ceil(kernel::page::PAGE_SIZE)
    }
}
