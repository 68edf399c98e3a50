// SPDX-License-Identifier: GPL-2.0

//! Work memory and the per-CPU streams of one compressor.

use core::ffi::c_void;
use core::mem::{align_of, size_of};
use core::pin::Pin;
use kernel::{alloc::KVVec, prelude::*, str::CStr, sync::LockClassKey};

use super::{header_bytes, CodecOps, Params, Settings};
use crate::{allocators::PAGE_SIZE, glue::percpu::PerCpu};

/// Output room of a stream: incompressible input may grow past a page and
/// the compressor must never write out of bounds (zram uses two pages too).
const STREAM_BUF_SIZE: usize = 2 * PAGE_SIZE;

/// Work memory of one stream.
///
/// # Invariants
///
/// The memory is 8-byte aligned (zstd and zlib require it), was zeroed when
/// allocated and never moves while the stream lives, so contexts built in it
/// may keep pointers into it.
pub(crate) struct WorkMem(KVVec<u64>);

impl WorkMem {
    /// Allocates `bytes` of zeroed work memory (kmalloc, else vmalloc).
    pub(crate) fn new(bytes: usize) -> Result<Self> {
        Ok(WorkMem(KVVec::from_elem(
            0u64,
            bytes.div_ceil(8),
            GFP_KERNEL,
        )?))
    }

    /// Bytes of work memory.
    pub(crate) fn len(&self) -> usize {
        self.0.len() * size_of::<u64>()
    }

    /// The start of the work memory, for compressors that take it whole
    /// and need `bytes` of it (`EINVAL` if it is shorter).
    pub(crate) fn at_least(&mut self, bytes: usize) -> Result<*mut c_void> {
        if self.len() < bytes {
            return Err(EINVAL);
        }
        Ok(self.0.as_mut_ptr().cast())
    }

    /// Overwrites this memory with a copy of `other` (same length, else
    /// `EINVAL`): a context prepared once, restored before each use.
    pub(crate) fn copy_from(&mut self, other: &WorkMem) -> Result {
        if self.0.len() != other.0.len() {
            return Err(EINVAL);
        }
        // Word by word: `copy_from_slice`'s length-mismatch panic path
        // upsets objtool, and the lengths were checked above.
        for (dst, src) in self.0.iter_mut().zip(other.0.iter()) {
            *dst = *src;
        }
        Ok(())
    }

    /// Splits the memory into a header `H` (a backend's context) at the
    /// start and the workspace after it, returned as pointer and length.
    ///
    /// # Safety
    ///
    /// `H` must be plain data for which all-zero bytes are a valid value,
    /// and the header area must only ever be used as an `H` (the backend's
    /// own header type, written only through this function).
    pub(crate) unsafe fn header<H>(&mut self) -> Result<(&mut H, *mut c_void, usize)> {
        let head = header_bytes::<H>();
        if align_of::<H>() > align_of::<u64>() || self.len() < head {
            return Err(EINVAL);
        }
        let len = self.len() - head;
        let base = self.0.as_mut_ptr().cast::<u8>();
        // SAFETY: `head <= self.len()` was checked above, so the workspace
        // pointer stays within (or one past the end of) the allocation.
        let rest = unsafe { base.add(head) };
        // SAFETY: In bounds and aligned (checked, 8-byte memory), a valid `H` (caller contract), unique
        // by the `&mut self` borrow, and disjoint from the workspace pointer.
        let header = unsafe { &mut *base.cast::<H>() };
        Ok((header, rest.cast(), len))
    }
}

/// Work memory and output buffer for one compression at a time.
struct Stream {
    ops: &'static CodecOps,
    comp: WorkMem,
    decomp: WorkMem,
    buf: KVVec<u8>,
}

impl Drop for Stream {
    fn drop(&mut self) {
        (self.ops.release)(&mut self.comp, &mut self.decomp);
    }
}

/// The lock class and name of priority `prio`'s streams: one class per
/// priority, so that recompression may hold two priorities' streams at
/// once without lockdep taking it for recursion.
fn lock_class(prio: u32) -> (&'static CStr, Pin<&'static LockClassKey>) {
    match prio {
        0 => (c"rzram_stream", kernel::static_lock_class!()),
        1 => (c"rzram_stream1", kernel::static_lock_class!()),
        2 => (c"rzram_stream2", kernel::static_lock_class!()),
        _ => (c"rzram_stream3", kernel::static_lock_class!()),
    }
}

/// Per-CPU compression streams of one compressor (zram's `struct zcomp`).
///
/// # Invariants
///
/// Every stream was initialised by `ops.init` with `params`; the streams
/// are declared (and dropped) before the parameters they may point into.
pub(crate) struct Streams {
    ops: &'static CodecOps,
    streams: PerCpu<Stream>,
    params: Params,
}

impl Streams {
    /// The compressor `ops` with the settings `s`, as priority `prio`: its
    /// parameters, then one stream per possible CPU. Process context.
    /// `EINVAL` for a bad level or window, `EOPNOTSUPP` for a dictionary
    /// the algorithm does not take, `EINVAL` for a dictionary it refuses.
    pub(crate) fn new(ops: &'static CodecOps, s: &Settings, prio: u32) -> Result<Self> {
        let params = Params::new(ops, s)?;
        let size = (ops.work_size)(&params)?;
        let (name, key) = lock_class(prio);
        let streams = PerCpu::new(name, key, || {
            let mut stream = Stream {
                ops,
                comp: WorkMem::new(size.compress)?,
                decomp: WorkMem::new(size.decompress)?,
                buf: KVVec::from_elem(0u8, STREAM_BUF_SIZE, GFP_KERNEL)?,
            };
            (ops.init)(&params, &mut stream.comp, &mut stream.decomp)?;
            if params.dict().is_some() {
                // With a dictionary zstd allocates its compression context
                // on first use (zram's backend does so in the I/O path):
                // one compression of a (zeroed) page now, so it happens
                // here, and a dictionary the library refuses fails here.
                let (src, dst) = stream.buf.split_at_mut(PAGE_SIZE);
                (ops.compress)(&params, &mut stream.comp, src, dst)?;
            }
            Ok(stream)
        })?;
        Ok(Streams {
            ops,
            streams,
            params,
        })
    }

    /// The algorithm of these streams.
    pub(crate) fn ops(&self) -> &'static CodecOps {
        self.ops
    }

    /// Compresses `src` (one page) on the current CPU's stream and hands the
    /// result to `f` while the stream is still held. May sleep.
    pub(crate) fn compress<R>(
        &self,
        src: &[u8],
        f: impl FnOnce(Result<&[u8]>) -> Result<R>,
    ) -> Result<R> {
        let mut guard = self.streams.lock()?;
        let Stream { comp, buf, .. } = &mut *guard;
        match (self.ops.compress)(&self.params, comp, src, buf) {
            Ok(len) => f(buf.get(..len).ok_or(EINVAL)),
            Err(e) => f(Err(e)),
        }
    }

    /// Holds the current CPU's stream and gives `f` a page-sized bounce
    /// buffer plus a decompressor using that stream's decompression context
    /// (disjoint from the bounce buffer). May sleep.
    pub(crate) fn read<R>(
        &self,
        f: impl FnOnce(&mut [u8; PAGE_SIZE], &mut Decompressor<'_>) -> Result<R>,
    ) -> Result<R> {
        let mut guard = self.streams.lock()?;
        let Stream { decomp, buf, .. } = &mut *guard;
        let bounce = buf.get_mut(..PAGE_SIZE).ok_or(EINVAL)?;
        let mut decompressor = Decompressor {
            ops: self.ops,
            params: &self.params,
            work: decomp,
        };
        f(bounce.try_into().map_err(|_| EINVAL)?, &mut decompressor)
    }
}

/// Decompression with one held stream's context.
pub(crate) struct Decompressor<'a> {
    ops: &'static CodecOps,
    params: &'a Params,
    work: &'a mut WorkMem,
}

impl Decompressor<'_> {
    /// Decompresses all of `src` into exactly `dst.len()` bytes; EIO on
    /// corrupt input or wrong length.
    pub(crate) fn decompress(&mut self, src: &[u8], dst: &mut [u8]) -> Result {
        (self.ops.decompress)(self.params, self.work, src, dst).map_err(|_| EIO)
    }
}
