// SPDX-License-Identifier: GPL-2.0

//! Compression backends and streams.
//!
//! Each algorithm is one ops table in its own `backend_*.rs` file, calling
//! the kernel's exported implementation (zram's `backend_*.c` split). A
//! stream holds an algorithm's compression and decompression work memory
//! and an output buffer; a device keeps one stream per possible CPU,
//! allocated when `disksize` is set so the I/O path never allocates.

use core::ffi::{c_int, c_void};
use core::mem::{align_of, size_of};
use kernel::{
    alloc::KVVec,
    new_mutex,
    page::PAGE_SIZE,
    prelude::*,
    sync::Mutex, //
};

#[cfg(all(CONFIG_842_COMPRESS, CONFIG_842_DECOMPRESS))]
use crate::backend_842;
use crate::{backend_deflate, backend_lz4, backend_lz4hc, backend_lzo, backend_zstd};

/// Output room of a stream: incompressible input may grow past a page and
/// the compressor must never write out of bounds (zram uses two pages too).
const STREAM_BUF_SIZE: usize = 2 * PAGE_SIZE;

/// The compression levels an algorithm accepts.
pub(crate) struct Levels {
    /// The level used when none is given (zram's default for the algorithm).
    pub(crate) default: i32,
    /// Lowest and highest accepted level; a function because zstd asks its
    /// library.
    pub(crate) range: fn() -> (i32, i32),
}

/// Bytes of work memory one stream needs.
pub(crate) struct WorkSize {
    pub(crate) compress: usize,
    pub(crate) decompress: usize,
}

/// One compression algorithm.
pub(crate) struct CodecOps {
    /// The name users write to `comp_algorithm`.
    pub(crate) name: &'static str,
    /// `None` for algorithms without levels.
    pub(crate) levels: Option<Levels>,
    /// Work memory a stream needs at a (valid) level.
    pub(crate) work_size: fn(level: i32) -> Result<WorkSize>,
    /// Builds a stream's contexts in its freshly zeroed work memory, once.
    pub(crate) init: fn(level: i32, comp: &mut WorkMem, decomp: &mut WorkMem) -> Result,
    /// Compresses `src` into `dst` and returns the compressed length; fails
    /// if the output does not fit.
    pub(crate) compress: fn(level: i32, work: &mut WorkMem, src: &[u8], dst: &mut [u8]) -> Result<usize>,
    /// Decompresses all of `src` into exactly `dst.len()` bytes. Must not
    /// sleep: it runs under a slot lock.
    pub(crate) decompress: fn(work: &mut WorkMem, src: &[u8], dst: &mut [u8]) -> Result,
}

/// Every algorithm this module can use, lz4 first (the default).
pub(crate) static BACKENDS: &[&CodecOps] = &[
    &backend_lz4::LZ4,
    &backend_lz4hc::LZ4HC,
    &backend_lzo::LZO,
    &backend_lzo::LZO_RLE,
    &backend_zstd::ZSTD,
    &backend_deflate::DEFLATE,
    #[cfg(all(CONFIG_842_COMPRESS, CONFIG_842_DECOMPRESS))]
    &backend_842::SW842,
];

/// Looks up a codec by its exact name.
pub(crate) fn find(name: &[u8]) -> Option<&'static CodecOps> {
    BACKENDS.iter().copied().find(|ops| ops.name.as_bytes() == name)
}

impl CodecOps {
    /// EINVAL if `level` is not valid for this algorithm (None = default always ok).
    pub(crate) fn check_level(&self, level: Option<i32>) -> Result {
        self.resolve_level(level).map(|_| ())
    }

    /// The level to use: the given one if valid, else the default (0 for
    /// algorithms without levels, where it is never read).
    fn resolve_level(&self, level: Option<i32>) -> Result<i32> {
        match (&self.levels, level) {
            (None, None) => Ok(0),
            (None, Some(_)) => Err(EINVAL),
            (Some(levels), None) => Ok(levels.default),
            (Some(levels), Some(level)) => {
                let (min, max) = (levels.range)();
                if (min..=max).contains(&level) {
                    Ok(level)
                } else {
                    Err(EINVAL)
                }
            }
        }
    }
}

/// `no_init` for algorithms that keep no context in their work memory.
pub(crate) fn no_init(_level: i32, _comp: &mut WorkMem, _decomp: &mut WorkMem) -> Result {
    Ok(())
}

/// A buffer length as the C `int` the kernel's compressors take.
pub(crate) fn c_len(len: usize) -> Result<c_int> {
    c_int::try_from(len).map_err(|_| EINVAL)
}

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
    fn new(bytes: usize) -> Result<Self> {
        Ok(WorkMem(KVVec::from_elem(0u64, bytes.div_ceil(8), GFP_KERNEL)?))
    }

    /// Bytes of work memory.
    pub(crate) fn len(&self) -> usize {
        self.0.len() * size_of::<u64>()
    }

    /// The start of the work memory, for compressors that take it whole.
    pub(crate) fn as_mut_ptr(&mut self) -> *mut c_void {
        self.0.as_mut_ptr().cast()
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

/// Bytes a header `H` takes at the start of work memory, rounded up so the
/// workspace after it stays 8-byte aligned.
pub(crate) const fn header_bytes<H>() -> usize {
    size_of::<H>().next_multiple_of(8)
}

/// Work memory and output buffer for one compression at a time.
struct Stream {
    comp: WorkMem,
    decomp: WorkMem,
    buf: KVVec<u8>,
}

/// Per-CPU-indexed compression streams of one device.
pub(crate) struct Streams {
    ops: &'static CodecOps,
    /// The resolved level, passed to every compression.
    level: i32,
    streams: KVec<Pin<KBox<Mutex<Stream>>>>,
}

impl Streams {
    /// One stream per possible CPU with the algorithm's work memory for
    /// `level` (None = default). Process context; EINVAL for a bad level.
    pub(crate) fn new(ops: &'static CodecOps, level: Option<i32>) -> Result<Self> {
        let level = ops.resolve_level(level)?;
        let size = (ops.work_size)(level)?;
        let n = kernel::cpu::nr_cpu_ids() as usize;
        let mut streams = KVec::with_capacity(n, GFP_KERNEL)?;
        for _ in 0..n {
            let mut stream = Stream {
                comp: WorkMem::new(size.compress)?,
                decomp: WorkMem::new(size.decompress)?,
                buf: KVVec::from_elem(0u8, STREAM_BUF_SIZE, GFP_KERNEL)?,
            };
            (ops.init)(level, &mut stream.comp, &mut stream.decomp)?;
            streams.push(KBox::pin_init(new_mutex!(stream, "rzram_stream"), GFP_KERNEL)?, GFP_KERNEL)?;
        }
        Ok(Streams { ops, level, streams })
    }

    /// The algorithm of these streams.
    pub(crate) fn ops(&self) -> &'static CodecOps {
        self.ops
    }

    /// Compresses `src` (one page) on the current CPU's stream and hands the
    /// result to `f` while the stream is still held. May sleep.
    pub(crate) fn compress<R>(&self, src: &[u8], f: impl FnOnce(Result<&[u8]>) -> R) -> R {
        let stream = match self.current() {
            Ok(stream) => stream,
            Err(e) => return f(Err(e)),
        };
        let mut guard = stream.lock();
        let Stream { comp, buf, .. } = &mut *guard;
        match (self.ops.compress)(self.level, comp, src, buf) {
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
        let stream = self.current()?;
        let mut guard = stream.lock();
        let Stream { decomp, buf, .. } = &mut *guard;
        let bounce = buf.get_mut(..PAGE_SIZE).ok_or(EINVAL)?;
        let mut decompressor = Decompressor {
            ops: self.ops,
            work: decomp,
        };
        f(bounce.try_into().map_err(|_| EINVAL)?, &mut decompressor)
    }

    /// The stream of the current CPU (any stream will do if the task moves).
    fn current(&self) -> Result<&Pin<KBox<Mutex<Stream>>>> {
        let cpu = kernel::cpu::CpuId::current().as_u32() as usize;
        self.streams.get(cpu % self.streams.len().max(1)).ok_or(EINVAL)
    }
}

/// Decompression with one held stream's context.
pub(crate) struct Decompressor<'a> {
    ops: &'static CodecOps,
    work: &'a mut WorkMem,
}

impl Decompressor<'_> {
    /// Decompresses all of `src` into exactly `dst.len()` bytes; EIO on
    /// corrupt input or wrong length.
    pub(crate) fn decompress(&mut self, src: &[u8], dst: &mut [u8]) -> Result {
        (self.ops.decompress)(self.work, src, dst).map_err(|_| EIO)
    }
}
