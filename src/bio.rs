// SPDX-License-Identifier: GPL-2.0

//! The bio walk: operation, position, single-page segments, completion.
//!
//! The kernel has no Rust bio abstraction in 7.3; this file is the only one
//! that touches `struct bio`. Segment iteration is the kernel's own
//! `bio_for_each_segment()` (a macro), reached through `helpers.c`.

use core::ffi::{c_int, c_uint, c_void};
use kernel::{bindings, prelude::*};

extern "C" {
    // The callback takes the segment's `struct page *` as `void *`: the
    // struct holds a zero-sized `lock_class_key`, for which rustc 1.85's
    // improper_ctypes lint warns (same ABI: a pointer).
    fn rzram_bio_for_each_segment(
        bio: *mut c_void,
        f: unsafe extern "C" fn(*mut c_void, *mut c_void, c_uint, c_uint, u64) -> c_int,
        ctx: *mut c_void,
    ) -> c_int;
}

/// What a bio asks for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Read,
    Write,
    Flush,
    Discard,
    WriteZeroes,
    Other,
}

/// Sectors per page: the device works in pages, the block layer in sectors.
pub(crate) const SECTORS_PER_PAGE_SHIFT: u32 =
    kernel::page::PAGE_SHIFT as u32 - kernel::block::SECTOR_SHIFT;

/// A bio that the driver owns until it calls [`Bio::end`].
///
/// # Invariants
///
/// `ptr` is a valid bio handed to `submit_bio` and not yet ended.
pub(crate) struct Bio {
    ptr: *mut bindings::bio,
}

/// One piece of a bio that lies inside a single page.
pub(crate) struct Segment {
    page: *mut bindings::page,
    /// Bytes in this piece, at most a page.
    pub(crate) len: usize,
    /// Offset of the piece in `page`.
    offset: usize,
    /// Device position of the piece, in 512-byte sectors.
    pub(crate) sector: u64,
}

impl Bio {
    /// Takes ownership of a bio passed to `submit_bio`.
    ///
    /// # Safety
    ///
    /// `ptr` must be a valid bio submitted to this driver and not yet ended.
    pub(crate) unsafe fn from_raw(ptr: *mut bindings::bio) -> Self {
        // INVARIANT: By the function's safety requirements.
        Bio { ptr }
    }

    /// The disk the bio was submitted to.
    pub(crate) fn gendisk(&self) -> *mut bindings::gendisk {
        // SAFETY: By the type invariant the bio is valid; a submitted bio has
        // a valid `bi_bdev`.
        unsafe { (*(*self.ptr).bi_bdev).bd_disk }
    }

    /// The operation (`bio_op()`).
    pub(crate) fn op(&self) -> Op {
        // SAFETY: By the type invariant the bio is valid.
        let opf = unsafe { (*self.ptr).bi_opf };
        match opf & ((1 << bindings::REQ_OP_BITS) - 1) {
            bindings::req_op_REQ_OP_READ => Op::Read,
            bindings::req_op_REQ_OP_WRITE => Op::Write,
            bindings::req_op_REQ_OP_FLUSH => Op::Flush,
            bindings::req_op_REQ_OP_DISCARD => Op::Discard,
            bindings::req_op_REQ_OP_WRITE_ZEROES => Op::WriteZeroes,
            _ => Op::Other,
        }
    }

    /// First sector and length in bytes of the whole bio.
    pub(crate) fn range(&self) -> (u64, u64) {
        // SAFETY: By the type invariant the bio is valid.
        let iter = unsafe { (*self.ptr).bi_iter };
        (iter.bi_sector, u64::from(iter.bi_size))
    }

    /// Calls `f` for each single-page segment in order; stops at the first
    /// error and returns it.
    pub(crate) fn for_each_segment<F: FnMut(&Segment) -> Result>(&self, mut f: F) -> Result {
        /// # Safety
        ///
        /// `ctx` must point to an `F`, and `page` be a valid page that the
        /// bio owns for `offset..offset + len`.
        unsafe extern "C" fn step<F: FnMut(&Segment) -> Result>(
            ctx: *mut c_void,
            page: *mut c_void,
            len: c_uint,
            offset: c_uint,
            sector: u64,
        ) -> c_int {
            // SAFETY: `ctx` is the `&mut F` passed below, alive for the walk.
            let f = unsafe { &mut *ctx.cast::<F>() };
            let seg = Segment {
                page: page.cast(),
                len: len as usize,
                offset: offset as usize,
                sector,
            };
            match f(&seg) {
                Ok(()) => 0,
                Err(e) => e.to_errno(),
            }
        }
        // SAFETY: By the type invariant the bio is valid; `step::<F>` matches
        // the callback type and `ctx` points to `f` for the whole call.
        let ret = unsafe {
            rzram_bio_for_each_segment(self.ptr.cast(), step::<F>, (&raw mut f).cast())
        };
        if ret == 0 {
            Ok(())
        } else {
            Err(Error::from_errno(ret))
        }
    }

    /// Completes the bio. Any failure is an I/O error to the submitter, as
    /// in zram (a full pool must not look like a transient "no resources"),
    /// except an operation the device does not support.
    pub(crate) fn end(self, ret: Result) {
        let status = match ret {
            Ok(()) => None,
            Err(e) if e == EOPNOTSUPP => Some(e),
            Err(_) => Some(EIO),
        };
        // SAFETY: By the type invariant the bio is valid and not yet ended;
        // `self` is consumed so it cannot be ended twice.
        unsafe {
            if let Some(e) = status {
                (*self.ptr).bi_status = bindings::errno_to_blk_status(e.to_errno());
            }
            bindings::bio_endio(self.ptr);
        }
    }
}

impl Segment {
    /// Splits the segment where it crosses a device page boundary. A segment
    /// is bounded by a *memory* page; when the buffer does not start on a
    /// page, its bytes straddle two device pages (e.g. 512 + 3584).
    pub(crate) fn device_pieces(&self) -> impl Iterator<Item = Segment> + '_ {
        let page = kernel::page::PAGE_SIZE;
        let mut done = 0;
        core::iter::from_fn(move || {
            if done >= self.len {
                return None;
            }
            let sector = self.sector + (done >> kernel::block::SECTOR_SHIFT) as u64;
            let dev_off = ((sector & ((1 << SECTORS_PER_PAGE_SHIFT) - 1)) as usize)
                << kernel::block::SECTOR_SHIFT;
            let len = (self.len - done).min(page - dev_off);
            let piece = Segment {
                page: self.page,
                len,
                offset: self.offset + done,
                sector,
            };
            done += len;
            Some(piece)
        })
    }

    /// Runs `f` on the bytes of this segment, mapped into the kernel.
    ///
    /// The bio owns these bytes until it completes: a write's pages are
    /// stable (BLK_FEAT_STABLE_WRITES) and a read's are not looked at by
    /// anybody before the bio ends.
    pub(crate) fn with_bytes<R>(&self, f: impl FnOnce(&mut [u8]) -> R) -> R {
        // SAFETY: `page` is a valid page of the bio; mapping it is always
        // allowed and undone below.
        let base = unsafe { bindings::kmap_local_page(self.page) }.cast::<u8>();
        // SAFETY: The block layer guarantees `offset + len <= PAGE_SIZE` for
        // a single-page segment, and the bio owns those bytes (see above).
        let bytes = unsafe { core::slice::from_raw_parts_mut(base.add(self.offset), self.len) };
        let r = f(bytes);
        // SAFETY: `base` was returned by `kmap_local_page` above and `bytes`
        // is no longer used.
        unsafe { bindings::kunmap_local(base.cast()) };
        r
    }
}
