// SPDX-License-Identifier: GPL-2.0

//! Compression backends and streams.
//!
//! Each algorithm is one ops table in its own `backend_*.rs` file, calling
//! the kernel's exported implementation (zram's `backend_*.c` split). A
//! stream holds an algorithm's work memory and an output buffer; a device
//! keeps one stream per possible CPU, allocated when `disksize` is set so
//! the I/O path never allocates work memory.

use kernel::{
    alloc::KVVec,
    new_mutex,
    page::PAGE_SIZE,
    prelude::*,
    sync::Mutex, //
};

use crate::backend_lz4;

/// Output room of a stream: incompressible input may grow past a page and
/// the compressor must never write out of bounds (zram uses two pages too).
const STREAM_BUF_SIZE: usize = 2 * PAGE_SIZE;

/// One compression algorithm.
pub(crate) struct CodecOps {
    /// The name users write to `comp_algorithm`.
    pub(crate) name: &'static str,
    /// Bytes of scratch memory `compress` needs.
    pub(crate) work_mem: usize,
    /// Compresses `src` into `dst`, returns the compressed length; fails if
    /// the output does not fit.
    pub(crate) compress: fn(work: &mut [u8], src: &[u8], dst: &mut [u8]) -> Result<usize>,
    /// Decompresses all of `src` into exactly `dst.len()` bytes.
    pub(crate) decompress: fn(src: &[u8], dst: &mut [u8]) -> Result,
}

/// Every algorithm this module can use, default first.
pub(crate) static BACKENDS: &[&CodecOps] = &[&backend_lz4::LZ4];

/// Work memory and output buffer for one compression at a time.
struct Stream {
    work: KVVec<u8>,
    buf: KVVec<u8>,
}

/// Per-CPU-indexed compression streams of one device.
pub(crate) struct Streams {
    ops: &'static CodecOps,
    streams: KVec<Pin<KBox<Mutex<Stream>>>>,
}

impl Streams {
    /// Allocates one stream per possible CPU (process context, may sleep).
    pub(crate) fn new(ops: &'static CodecOps, level: Option<i32>) -> Result<Self> {
        ops.check_level(level)?;
        let n = kernel::cpu::nr_cpu_ids() as usize;
        let mut streams = KVec::with_capacity(n, GFP_KERNEL)?;
        for _ in 0..n {
            let stream = Stream {
                work: KVVec::from_elem(0u8, ops.work_mem, GFP_KERNEL)?,
                buf: KVVec::from_elem(0u8, STREAM_BUF_SIZE, GFP_KERNEL)?,
            };
            streams.push(KBox::pin_init(new_mutex!(stream, "rzram_stream"), GFP_KERNEL)?, GFP_KERNEL)?;
        }
        Ok(Streams { ops, streams })
    }

    /// The algorithm of these streams.
    pub(crate) fn ops(&self) -> &'static CodecOps {
        self.ops
    }

    /// Compresses `src` on the current CPU's stream and hands the result to
    /// `f` while the stream is still held. May sleep.
    pub(crate) fn compress<R>(&self, src: &[u8], f: impl FnOnce(Result<&[u8]>) -> R) -> R {
        let stream = match self.current() {
            Ok(stream) => stream,
            Err(e) => return f(Err(e)),
        };
        let mut guard = stream.lock();
        let Stream { work, buf } = &mut *guard;
        match (self.ops.compress)(work, src, buf) {
            Ok(len) => f(buf.get(..len).ok_or(EINVAL)),
            Err(e) => f(Err(e)),
        }
    }

    /// Holds the current CPU's stream and gives `f` a page-sized bounce
    /// buffer and a decompressor. May sleep.
    pub(crate) fn read<R>(
        &self,
        f: impl FnOnce(&mut [u8; PAGE_SIZE], &mut Decompressor<'_>) -> Result<R>,
    ) -> Result<R> {
        let stream = self.current()?;
        let mut guard = stream.lock();
        let bounce = guard.buf.get_mut(..PAGE_SIZE).ok_or(EINVAL)?;
        let mut dec = Decompressor { ops: self.ops };
        f(bounce.try_into().map_err(|_| EINVAL)?, &mut dec)
    }

    /// The stream of the current CPU (any stream will do if the task moves).
    fn current(&self) -> Result<&Pin<KBox<Mutex<Stream>>>> {
        let cpu = kernel::cpu::CpuId::current().as_u32() as usize;
        self.streams.get(cpu % self.streams.len().max(1)).ok_or(EINVAL)
    }
}

/// Decompression with a held stream.
pub(crate) struct Decompressor<'a> {
    ops: &'a CodecOps,
}

impl Decompressor<'_> {
    /// Decompresses all of `src` into exactly `dst.len()` bytes.
    pub(crate) fn decompress(&mut self, src: &[u8], dst: &mut [u8]) -> Result {
        (self.ops.decompress)(src, dst)
    }
}

/// Looks up a codec by its exact name.
pub(crate) fn find(name: &[u8]) -> Option<&'static CodecOps> {
    BACKENDS.iter().copied().find(|ops| ops.name.as_bytes() == name)
}

impl CodecOps {
    /// `EINVAL` if `level` does not suit this algorithm.
    pub(crate) fn check_level(&self, level: Option<i32>) -> Result {
        match level {
            None | Some(1..=65537) => Ok(()),
            Some(_) => Err(EINVAL),
        }
    }
}
