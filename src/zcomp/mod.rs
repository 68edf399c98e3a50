// SPDX-License-Identifier: GPL-2.0

//! Compression backends and streams.
//!
//! Each algorithm is one ops table in its own file, calling the kernel's
//! exported implementation (zram's `backend_*.c` split). What
//! `algorithm_params` chose for a compressor ([`Settings`]: level,
//! dictionary, deflate's window) becomes its [`Params`] when `disksize` is
//! written, with what the backend builds once from them and every stream
//! shares (zram's `setup_params`: a loaded LZ4 dictionary, zstd's
//! cdict/ddict). A stream (`stream.rs`) holds an algorithm's compression
//! and decompression work memory and an output buffer; a compressor keeps
//! one stream per possible CPU, allocated at `disksize` so the I/O path
//! never allocates.

use core::ffi::c_int;
use core::mem::size_of;
use kernel::prelude::*;

mod deflate;
mod lz4;
mod lz4hc;
mod lzo;
mod params;
mod stream;
// A kernel without CONFIG_842_COMPRESS/DECOMPRESS (Debian's) exports no
// sw842_*: 842 is then left out, as zram leaves out its backends.
#[cfg(all(CONFIG_842_COMPRESS, CONFIG_842_DECOMPRESS))]
mod sw842;
mod zstd;

pub(crate) use params::{Params, Settings, Shared};
pub(crate) use stream::{Streams, WorkMem};

/// The compression levels an algorithm accepts.
pub(crate) struct Levels {
    /// The level used when none is given (zram's default for the algorithm).
    pub(crate) default: i32,
    /// Lowest and highest accepted level; a function because zstd asks its
    /// library.
    pub(crate) range: fn() -> (i32, i32),
}

/// Window bits an algorithm accepts (`deflate.winbits=`).
pub(crate) struct Window {
    /// Used when none is given.
    pub(crate) default: i32,
    /// Whether a value is accepted.
    pub(crate) valid: fn(i32) -> bool,
}

/// Bytes of work memory one stream needs.
pub(crate) struct WorkSize {
    pub(crate) compress: usize,
    pub(crate) decompress: usize,
}

impl WorkSize {
    /// `bytes` for compression, none for decompression.
    pub(crate) const fn compress_only(bytes: usize) -> Result<Self> {
        Ok(WorkSize {
            compress: bytes,
            decompress: 0,
        })
    }
}

/// A compressor's output length, reported as `len`, if it is a result:
/// more than 0 and at most the `cap` bytes it was given (`EINVAL` if not:
/// the page is then kept uncompressed).
pub(crate) fn compressed_len<T: TryInto<usize>>(len: T, cap: usize) -> Result<usize> {
    match len.try_into() {
        Ok(len) if len > 0 && len <= cap => Ok(len),
        _ => Err(EINVAL),
    }
}

/// A decompressor must fill the page exactly: `EIO` if it reported `len`
/// bytes instead of `want`.
pub(crate) fn check_decompressed<T: TryInto<usize>>(len: T, want: usize) -> Result {
    match len.try_into() {
        Ok(len) if len == want => Ok(()),
        _ => Err(EIO),
    }
}

/// Bytes of work memory holding a header `H` and a `workspace` the library
/// sized (`EINVAL` if the library's figure is negative or too large).
pub(crate) fn with_header<H, T: TryInto<usize>>(workspace: T) -> Result<usize> {
    workspace
        .try_into()
        .ok()
        .and_then(|ws| header_bytes::<H>().checked_add(ws))
        .ok_or(EINVAL)
}

/// Bytes a header `H` takes at the start of work memory, rounded up so the
/// workspace after it stays 8-byte aligned.
pub(crate) const fn header_bytes<H>() -> usize {
    size_of::<H>().next_multiple_of(8)
}

/// One compression algorithm: zram's `struct zcomp_ops`.
pub(crate) struct CodecOps {
    /// The name users write to `comp_algorithm`.
    pub(crate) name: &'static str,
    /// `None` for algorithms without levels (a level is then refused).
    pub(crate) levels: Option<Levels>,
    /// `None` for algorithms without a window setting (`deflate.winbits=`
    /// is then ignored, as zram ignores it).
    pub(crate) window: Option<Window>,
    /// Whether `dict=` is supported (zram: lz4, lz4hc, zstd; the others
    /// refuse one with `EOPNOTSUPP`).
    pub(crate) dict: bool,
    /// Builds, once per compressor, what its streams share (zram's
    /// `setup_params`). Process context.
    pub(crate) setup: fn(p: &Params) -> Result<Shared>,
    /// Work memory a stream needs.
    pub(crate) work_size: fn(p: &Params) -> Result<WorkSize>,
    /// Builds a stream's contexts in its freshly zeroed work memory, once.
    pub(crate) init: fn(p: &Params, comp: &mut WorkMem, decomp: &mut WorkMem) -> Result,
    /// Frees what `init` allocated outside the work memory (zram's
    /// `destroy_ctx`); must accept a stream whose `init` failed.
    pub(crate) release: fn(comp: &mut WorkMem, decomp: &mut WorkMem),
    /// Compresses `src` into `dst` and returns the compressed length; fails
    /// if the output does not fit.
    pub(crate) compress:
        fn(p: &Params, work: &mut WorkMem, src: &[u8], dst: &mut [u8]) -> Result<usize>,
    /// Decompresses all of `src` into exactly `dst.len()` bytes.
    pub(crate) decompress: fn(p: &Params, work: &mut WorkMem, src: &[u8], dst: &mut [u8]) -> Result,
}

/// Every algorithm this module can use, lz4 first (the default).
pub(crate) static BACKENDS: &[&CodecOps] = &[
    &lz4::LZ4,
    &lz4hc::LZ4HC,
    &lzo::LZO,
    &lzo::LZO_RLE,
    &zstd::ZSTD,
    &deflate::DEFLATE,
    #[cfg(all(CONFIG_842_COMPRESS, CONFIG_842_DECOMPRESS))]
    &sw842::SW842,
];

/// Looks up a codec by its exact name.
pub(crate) fn find(name: &[u8]) -> Option<&'static CodecOps> {
    BACKENDS
        .iter()
        .copied()
        .find(|ops| ops.name.as_bytes() == name)
}

/// `setup` for algorithms that share nothing between streams.
pub(crate) fn no_setup(_p: &Params) -> Result<Shared> {
    Ok(Shared::None)
}

/// `init` for algorithms that keep no context in their work memory.
pub(crate) fn no_init(_p: &Params, _comp: &mut WorkMem, _decomp: &mut WorkMem) -> Result {
    Ok(())
}

/// `release` for algorithms that allocate nothing outside the work memory.
pub(crate) fn no_release(_comp: &mut WorkMem, _decomp: &mut WorkMem) {}

/// A buffer length as the C `int` the kernel's compressors take.
pub(crate) fn c_len(len: usize) -> Result<c_int> {
    c_int::try_from(len).map_err(|_| EINVAL)
}
