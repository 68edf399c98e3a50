// SPDX-License-Identifier: GPL-2.0

//! The backing device (`backing_dev`): safe types over `backing.c`.
//!
//! [`Backing`] is the opened block device; [`WriteBatch`] is a set of page
//! buffers written to it asynchronously, all in flight at once, then
//! collected together. Which page goes to which block is the driver's
//! business (`driver/writeback.rs`).

use core::ffi::{c_char, c_int, c_uint, c_void};
use core::ptr::NonNull;
use core::sync::atomic::AtomicUsize;
use kernel::{error::to_result, prelude::*};

use crate::{
    allocators::PAGE_SIZE,
    portable::blocks::{words_for, Blocks},
};

#[repr(C)]
struct RawBacking {
    _opaque: [u8; 0],
}

#[repr(C)]
struct RawBatch {
    _opaque: [u8; 0],
}

extern "C" {
    fn rzram_backing_open(path: *const c_char, err: *mut c_int) -> *mut RawBacking;
    fn rzram_backing_close(b: *mut RawBacking);
    fn rzram_backing_pages(b: *mut RawBacking) -> u64;
    fn rzram_backing_path(b: *mut RawBacking, buf: *mut c_char, len: c_int) -> c_int;
    fn rzram_backing_read(b: *mut RawBacking, block: u64, dst: *mut c_void) -> c_int;
    fn rzram_backing_write(b: *mut RawBacking, block: u64, src: *const c_void) -> c_int;
    fn rzram_wb_new(b: *mut RawBacking, n: c_uint, got: *mut c_uint) -> *mut RawBatch;
    fn rzram_wb_attach(wb: *mut RawBatch, b: *mut RawBacking);
    fn rzram_wb_buf(wb: *mut RawBatch, i: c_uint) -> *mut c_void;
    fn rzram_wb_submit(wb: *mut RawBatch, i: c_uint, block: u64);
    fn rzram_wb_wait(wb: *mut RawBatch);
    fn rzram_wb_status(wb: *mut RawBatch, i: c_uint) -> c_int;
    fn rzram_wb_free(wb: *mut RawBatch);
    fn rzram_boottime_seconds() -> u32;
}

/// Seconds since boot (suspend included): the clock of access times.
pub(crate) fn now_seconds() -> u32 {
    // SAFETY: Reads the clock; callable from any context.
    unsafe { rzram_boottime_seconds() }
}

/// Longest path `backing_dev` accepts, with its NUL (the kernel's PATH_MAX).
const PATH_MAX: usize = 4096;

/// An opened backing device and the map of its blocks in use.
///
/// # Invariants
///
/// `raw` is an open `rzram_backing` owned by this value; `blocks` has one
/// bit per page of it.
pub(crate) struct Backing {
    raw: NonNull<RawBacking>,
    pub(crate) blocks: Blocks<KVVec<AtomicUsize>>,
}

// SAFETY: `rzram_backing` may be used from any thread; its only mutable
// state (the spare page) has its own mutex, and the bitmap is atomic.
unsafe impl Send for Backing {}
// SAFETY: As above: every operation through `&Backing` is thread-safe.
unsafe impl Sync for Backing {}

impl Backing {
    /// Opens `path` (trailing newline already removed) exclusively, as
    /// zram's `backing_dev_store()`: `ENOTBLK` for anything but a block
    /// device, `EINVAL` for one without a whole page, the open's error
    /// otherwise.
    pub(crate) fn open(path: &[u8]) -> Result<Self> {
        if path.len() >= PATH_MAX || path.contains(&0) {
            return Err(ENAMETOOLONG);
        }
        let mut name = KVec::with_capacity(path.len() + 1, GFP_KERNEL)?;
        name.extend_from_slice(path, GFP_KERNEL)?;
        name.push(0, GFP_KERNEL)?;
        let mut err: c_int = 0;
        // SAFETY: `name` is a NUL-terminated string that outlives the call.
        let raw = unsafe { rzram_backing_open(name.as_ptr().cast(), &mut err) };
        let Some(raw) = NonNull::new(raw) else {
            return Err(Error::from_errno(err));
        };
        // Owned from here: dropped (and closed) on any error below.
        let mut backing = Backing {
            raw,
            blocks: Blocks::new(KVVec::new(), 0).ok_or(EINVAL)?,
        };
        // SAFETY: `raw` is open (type invariant).
        let pages = unsafe { rzram_backing_pages(raw.as_ptr()) };
        let pages = usize::try_from(pages).map_err(|_| EFBIG)?;
        let words = words_for(pages).ok_or(EFBIG)?;
        let mut map = KVVec::with_capacity(words, GFP_KERNEL)?;
        for _ in 0..words {
            map.push(AtomicUsize::new(0), GFP_KERNEL)?;
        }
        backing.blocks = Blocks::new(map, pages).ok_or(EINVAL)?;
        Ok(backing)
    }

    /// Writes the device's path (as `d_path()` gives it) to `f`.
    pub(crate) fn write_path(&self, f: &mut impl core::fmt::Write) -> Result {
        let mut buf = KVec::from_elem(0u8, PATH_MAX, GFP_KERNEL)?;
        // SAFETY: `raw` is open; `buf` has `PATH_MAX` writable bytes.
        let n = unsafe {
            rzram_backing_path(
                self.raw.as_ptr(),
                buf.as_mut_ptr().cast(),
                PATH_MAX as c_int,
            )
        };
        to_result(n)?;
        let path = buf.get(..n as usize).ok_or(EINVAL)?;
        for &c in path {
            f.write_char(char::from(c)).map_err(|_| EINVAL)?;
        }
        Ok(())
    }

    /// Reads block `block` into `dst` (one page), waiting for it.
    pub(crate) fn read(&self, block: usize, dst: &mut [u8]) -> Result {
        if dst.len() != PAGE_SIZE {
            return Err(EINVAL);
        }
        // SAFETY: `raw` is open; `dst` is one writable page.
        to_result(unsafe {
            rzram_backing_read(self.raw.as_ptr(), block as u64, dst.as_mut_ptr().cast())
        })
    }

    /// Writes `src` (one page) to block `block`, waiting for it.
    pub(crate) fn write(&self, block: usize, src: &[u8]) -> Result {
        if src.len() != PAGE_SIZE {
            return Err(EINVAL);
        }
        // SAFETY: `raw` is open; `src` is one readable page.
        to_result(unsafe {
            rzram_backing_write(self.raw.as_ptr(), block as u64, src.as_ptr().cast())
        })
    }

    /// Up to `n` page buffers for one batch of writes (fewer if memory is
    /// short); `ENOMEM` if not even one.
    pub(crate) fn batch(&self, n: u32) -> Result<WriteBatch<'_>> {
        let (raw, len) = self.new_batch(n)?;
        Ok(WriteBatch {
            raw,
            len,
            owned: true,
            _backing: self,
        })
    }

    /// Like [`batch`](Self::batch), but kept and reused: the buffers of a
    /// writer that must not allocate when it runs.
    pub(crate) fn batch_pages(&self, n: u32) -> Result<BatchPages> {
        let (raw, len) = self.new_batch(n)?;
        Ok(BatchPages { raw, len })
    }

    fn new_batch(&self, n: u32) -> Result<(NonNull<RawBatch>, u32)> {
        let mut got: c_uint = 0;
        // SAFETY: `raw` is open; the batch only uses it while attached to
        // this device ([`WriteBatch`]'s borrow).
        let raw = unsafe { rzram_wb_new(self.raw.as_ptr(), n.max(1), &mut got) };
        Ok((NonNull::new(raw).ok_or(ENOMEM)?, got))
    }
}

/// Page buffers for writes, kept across batches.
///
/// # Invariants
///
/// `raw` is an `rzram_wb` of `len` requests owned by this value, with none
/// in flight unless a [`WriteBatch`] borrows it.
pub(crate) struct BatchPages {
    raw: NonNull<RawBatch>,
    len: u32,
}

// SAFETY: The buffers are plain memory; which thread frees them does not
// matter, and using them needs `&mut`.
unsafe impl Send for BatchPages {}
// SAFETY: Nothing is reachable through `&BatchPages`.
unsafe impl Sync for BatchPages {}

impl BatchPages {
    /// The buffers as a batch writing to `backing`.
    pub(crate) fn attach<'a>(&'a mut self, backing: &'a Backing) -> WriteBatch<'a> {
        // SAFETY: Both live; the batch's writes go to `backing` for as long
        // as the returned borrow lasts.
        unsafe { rzram_wb_attach(self.raw.as_ptr(), backing.raw.as_ptr()) };
        WriteBatch {
            raw: self.raw,
            len: self.len,
            owned: false,
            _backing: backing,
        }
    }
}

impl Drop for BatchPages {
    fn drop(&mut self) {
        // SAFETY: Owned, and no `WriteBatch` borrows it (`&mut self`).
        unsafe { rzram_wb_free(self.raw.as_ptr()) };
    }
}

impl Drop for Backing {
    fn drop(&mut self) {
        // SAFETY: `raw` is open and owned; nothing uses it after this.
        unsafe { rzram_backing_close(self.raw.as_ptr()) };
    }
}

/// Page buffers written to the backing device together.
///
/// # Invariants
///
/// `raw` is an `rzram_wb` of `len` requests on `_backing`'s device, owned
/// by this value if `owned`, else borrowed from a [`BatchPages`]; a
/// request's buffer is only handed out while none is in flight (`&mut
/// self` for both).
pub(crate) struct WriteBatch<'a> {
    raw: NonNull<RawBatch>,
    len: u32,
    owned: bool,
    _backing: &'a Backing,
}

impl WriteBatch<'_> {
    /// Number of requests.
    pub(crate) fn len(&self) -> u32 {
        self.len
    }

    /// The page buffer of request `i` (`None` beyond the batch).
    pub(crate) fn buf(&mut self, i: u32) -> Option<&mut [u8; PAGE_SIZE]> {
        if i >= self.len {
            return None;
        }
        // SAFETY: `i` is a request of the batch; its page is mapped, owned
        // by the batch and not in flight (none is while `&mut self`).
        let p = unsafe { rzram_wb_buf(self.raw.as_ptr(), i) };
        // SAFETY: `p` is a page-sized, page-aligned buffer exclusively
        // borrowed through `&mut self`.
        Some(unsafe { &mut *p.cast::<[u8; PAGE_SIZE]>() })
    }

    /// Writes requests `0..n` to their blocks (`block(i)`), waits for all
    /// of them and gives each one's result to `done`.
    pub(crate) fn write(
        &mut self,
        n: usize,
        block: impl Fn(usize) -> usize,
        mut done: impl FnMut(usize, Result),
    ) {
        let n = n.min(self.len as usize);
        for i in 0..n {
            // SAFETY: `i < len`; its buffer is not borrowed (`&mut self`).
            unsafe { rzram_wb_submit(self.raw.as_ptr(), i as c_uint, block(i) as u64) };
        }
        // SAFETY: The batch is live; waits for the requests just submitted.
        unsafe { rzram_wb_wait(self.raw.as_ptr()) };
        for i in 0..n {
            // SAFETY: Request `i` has completed (waited above).
            let status = unsafe { rzram_wb_status(self.raw.as_ptr(), i as c_uint) };
            done(i, to_result(status));
        }
    }
}

impl Drop for WriteBatch<'_> {
    fn drop(&mut self) {
        if self.owned {
            // SAFETY: Owned; `rzram_wb_free` waits for anything in flight.
            unsafe { rzram_wb_free(self.raw.as_ptr()) };
        } else {
            // SAFETY: Live (borrowed); nothing may stay in flight when the
            // borrow ends.
            unsafe { rzram_wb_wait(self.raw.as_ptr()) };
        }
    }
}
