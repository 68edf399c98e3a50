// SPDX-License-Identifier: GPL-2.0

//! The bio walk: operation, position, single-page segments, completion.
//!
//! The kernel has no Rust bio abstraction in 7.3; this file is the only one
//! that touches `struct bio`. Segment iteration is the kernel's own
//! `bio_for_each_segment()` (a macro), reached through `helpers.c`. A read
//! bio hands out its segments for filling (`&mut [u8]`), a write bio for
//! reading (`&[u8]`), never the other way round.

use core::{
    ffi::{c_int, c_uint, c_void},
    marker::PhantomData,
    mem::ManuallyDrop,
    ptr::NonNull,
};
use kernel::{bindings, prelude::*};

use super::{backing::Backing, ffi};
use crate::allocators::PAGE_SIZE;

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

/// 512-byte sectors per device page: the device works in pages, the block
/// layer in sectors.
pub(crate) const SECTORS_PER_PAGE_SHIFT: u32 =
    crate::portable::slot::PAGE_SHIFT - kernel::block::SECTOR_SHIFT;

/// A bio that the driver owns until it ends it. Dropping it unended ends it
/// with an I/O error, so the submitter never waits forever.
///
/// # Invariants
///
/// `ptr` is a valid bio handed to `submit_bio` and not yet ended.
pub(crate) struct Bio {
    ptr: NonNull<bindings::bio>,
}

/// Marks a segment of a read bio: the driver fills its bytes.
pub(crate) struct ToFill;
/// Marks a segment of a write bio: the driver reads its bytes.
pub(crate) struct ToStore;

/// One piece of a bio that lies inside a single memory page; `K` says
/// whether it is to be filled ([`ToFill`]) or stored ([`ToStore`]).
///
/// # Invariants
///
/// `page` is a page of the live bio `bio` of kind `K`, which owns its bytes
/// `offset..offset + len` (within the page) until the bio ends, and the
/// segment does not outlive the walk that made it.
pub(crate) struct Segment<K> {
    bio: *mut bindings::bio,
    page: *mut bindings::page,
    /// Bytes in this piece, at most a page.
    pub(crate) len: usize,
    /// Offset of the piece in `page`.
    offset: usize,
    /// Device position of the piece, in 512-byte sectors.
    pub(crate) sector: u64,
    kind: PhantomData<K>,
}

impl Bio {
    /// Takes ownership of a bio passed to `submit_bio`.
    ///
    /// # Safety
    ///
    /// `ptr` must be a valid bio submitted to this driver and not yet ended.
    pub(crate) unsafe fn from_raw(ptr: NonNull<bindings::bio>) -> Self {
        // INVARIANT: By the function's safety requirements.
        Bio { ptr }
    }

    /// The disk the bio was submitted to.
    pub(crate) fn gendisk(&self) -> *mut bindings::gendisk {
        // SAFETY: By the type invariant the bio is valid; a submitted bio has
        // a valid `bi_bdev`.
        unsafe { (*(*self.ptr.as_ptr()).bi_bdev).bd_disk }
    }

    /// The operation (`bio_op()`).
    pub(crate) fn op(&self) -> Op {
        // SAFETY: By the type invariant the bio is valid.
        let opf = unsafe { (*self.ptr.as_ptr()).bi_opf };
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
        let iter = unsafe { (*self.ptr.as_ptr()).bi_iter };
        (iter.bi_sector, u64::from(iter.bi_size))
    }

    /// Calls `f` for each single-page segment of a read bio, in order, to
    /// fill it; stops at the first error. `EINVAL` for another operation.
    pub(crate) fn fill_segments(&self, f: impl FnMut(&Segment<ToFill>) -> Result) -> Result {
        if self.op() != Op::Read {
            return Err(EINVAL);
        }
        self.walk(f)
    }

    /// Calls `f` for each single-page segment of a write bio, in order, to
    /// store it; stops at the first error. `EINVAL` for another operation.
    pub(crate) fn store_segments(&self, f: impl FnMut(&Segment<ToStore>) -> Result) -> Result {
        if self.op() != Op::Write {
            return Err(EINVAL);
        }
        self.walk(f)
    }

    /// The segment walk; the caller checked that the bio's direction is `K`.
    fn walk<K, F: FnMut(&Segment<K>) -> Result>(&self, f: F) -> Result {
        /// What the C walk hands back to `step`: the bio and the callback.
        struct Walk<F> {
            bio: *mut bindings::bio,
            f: F,
        }
        /// # Safety
        ///
        /// `ctx` must point to a `Walk<F>` whose `bio` is a live bio of kind
        /// `K` that owns `page` for `offset..offset + len`.
        unsafe extern "C" fn step<K, F: FnMut(&Segment<K>) -> Result>(
            ctx: *mut c_void,
            page: *mut c_void,
            len: c_uint,
            offset: c_uint,
            sector: u64,
        ) -> c_int {
            // SAFETY: `ctx` is the `&mut Walk<F>` passed below, alive for the walk.
            let walk = unsafe { &mut *ctx.cast::<Walk<F>>() };
            let (len, offset) = (len as usize, offset as usize);
            if offset.checked_add(len).is_none_or(|end| end > PAGE_SIZE) {
                return EIO.to_errno();
            }
            // INVARIANT: By the function's safety requirements, checked to
            // lie within the page; the segment lives only for this call.
            let seg = Segment {
                bio: walk.bio,
                page: page.cast(),
                len,
                offset,
                sector,
                kind: PhantomData,
            };
            match (walk.f)(&seg) {
                Ok(()) => 0,
                Err(e) => e.to_errno(),
            }
        }
        let mut walk = Walk {
            bio: self.ptr.as_ptr(),
            f,
        };
        // SAFETY: By the type invariant the bio is valid; `step::<K, F>`
        // matches the callback type and `ctx` points to `walk` for the call.
        let ret = unsafe {
            ffi::rzram_bio_for_each_segment(
                self.ptr.as_ptr().cast(),
                step::<K, F>,
                (&raw mut walk).cast(),
            )
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
        let this = ManuallyDrop::new(self);
        this.complete(ret);
    }

    fn complete(&self, ret: Result) {
        let status = match ret {
            Ok(()) => None,
            Err(e) if e == EOPNOTSUPP => Some(e),
            Err(_) => Some(EIO),
        };
        let bio = self.ptr.as_ptr();
        // SAFETY: By the type invariant the bio is valid and not yet ended;
        // both callers give up the `Bio` (`end` forgets it, `drop` ends it).
        unsafe {
            if let Some(e) = status {
                (*bio).bi_status = bindings::errno_to_blk_status(e.to_errno());
            }
            bindings::bio_endio(bio);
        }
    }
}

impl Drop for Bio {
    fn drop(&mut self) {
        self.complete(Err(EIO));
    }
}

impl<K> Segment<K> {
    /// Splits the segment where it crosses a device page boundary. A segment
    /// is bounded by a *memory* page; when the buffer does not start on a
    /// page, its bytes straddle two device pages (e.g. 512 + 3584).
    pub(crate) fn device_pieces(&self) -> impl Iterator<Item = Segment<K>> + '_ {
        let mut done = 0;
        core::iter::from_fn(move || {
            if done >= self.len {
                return None;
            }
            let sector = self.sector + (done >> kernel::block::SECTOR_SHIFT) as u64;
            let dev_off = ((sector & ((1 << SECTORS_PER_PAGE_SHIFT) - 1)) as usize)
                << kernel::block::SECTOR_SHIFT;
            let len = (self.len - done).min(PAGE_SIZE - dev_off);
            // INVARIANT: A sub-range of this segment's bytes.
            let piece = Segment {
                bio: self.bio,
                page: self.page,
                len,
                offset: self.offset + done,
                sector,
                kind: PhantomData,
            };
            done += len;
            Some(piece)
        })
    }

    /// Maps the segment's bytes and runs `f` on the mapping's start.
    fn map<R>(&self, f: impl FnOnce(*mut u8) -> R) -> R {
        // SAFETY: `page` is a valid page of the bio (type invariant); mapping
        // it is always allowed and undone below.
        let base = unsafe { bindings::kmap_local_page(self.page) }.cast::<u8>();
        // SAFETY: `offset <= PAGE_SIZE` by the type invariant.
        let r = f(unsafe { base.add(self.offset) });
        // SAFETY: `base` was returned by `kmap_local_page` above, and `f`
        // returned, so nothing uses the mapping any more.
        unsafe { bindings::kunmap_local(base.cast()) };
        r
    }
}

impl Segment<ToFill> {
    /// Runs `f` on this piece of a read bio's buffer, for filling.
    pub(crate) fn fill<R>(&self, f: impl FnOnce(&mut [u8]) -> R) -> R {
        // SAFETY: A read bio's buffer is ours alone until the bio ends (type
        // invariant), so the slice is unique for the call.
        self.map(|p| f(unsafe { core::slice::from_raw_parts_mut(p, self.len) }))
    }

    /// Fills this piece, a whole page, from block `block` of `backing`
    /// without waiting: the bio ends only once that read has, and fails if
    /// it fails. `EINVAL` unless the piece is a whole page.
    pub(crate) fn fill_from(&self, backing: &Backing, block: usize) -> Result {
        if self.offset != 0 || self.len != PAGE_SIZE {
            return Err(EINVAL);
        }
        // SAFETY: `page` is a whole page of the live read bio `bio`, whose
        // buffer is ours alone until it ends (type invariant).
        unsafe { backing.read_chained(block, self.page, self.bio) }
    }
}

impl Segment<ToStore> {
    /// Runs `f` on this piece of a write bio's data.
    pub(crate) fn data<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        // SAFETY: The bio's bytes (type invariant), only read; stable writes
        // (BLK_FEAT_STABLE_WRITES) keep them unchanged while it is in flight.
        self.map(|p| f(unsafe { core::slice::from_raw_parts(p, self.len) }))
    }
}
