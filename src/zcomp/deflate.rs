// SPDX-License-Identifier: GPL-2.0

//! Raw deflate through the kernel's exported zlib (`lib/zlib_deflate`,
//! module `zlib_deflate`; inflate is built in), by default with zram's (and
//! the crypto API's) 2 KiB window, and full memory level. `deflate.winbits=`
//! sets the window as in zram: -9 to -15 raw deflate, 9 to 15 with zlib's
//! header and checksum. Each stream keeps one deflate
//! and one inflate `z_stream`, each at the head of its work memory with the
//! zlib workspace after it.

use core::ffi::{c_char, c_int, c_ulong, c_void};
use core::mem::{offset_of, size_of};
use kernel::prelude::*;

use super::{
    check_decompressed, compressed_len, no_release, no_setup, with_header, CodecOps, Levels,
    Params, Window, WorkMem, WorkSize,
};

/// `struct z_stream_s` (include/linux/zlib.h); helpers.c asserts its size
/// and the workspace offset match.
///
/// # Invariants
///
/// Lives only at the head of a stream's [`WorkMem`], with `workspace`
/// pointing to the rest of that memory once `stream` has set it; after
/// `init`, zlib's state for it lives in that workspace.
#[repr(C)]
struct ZStream {
    next_in: *const u8,
    avail_in: c_ulong,
    total_in: c_ulong,
    next_out: *mut u8,
    avail_out: c_ulong,
    total_out: c_ulong,
    msg: *mut c_char,
    state: *mut c_void,
    workspace: *mut c_void,
    data_type: c_int,
    adler: c_ulong,
    reserved: c_ulong,
}

const _: () = assert!(size_of::<ZStream>() == 12 * size_of::<c_ulong>());
const _: () = assert!(offset_of!(ZStream, workspace) == 8 * size_of::<c_ulong>());

extern "C" {
    fn zlib_deflate_workspacesize(window_bits: c_int, mem_level: c_int) -> c_int;
    fn zlib_deflateInit2(
        strm: *mut ZStream,
        level: c_int,
        method: c_int,
        window_bits: c_int,
        mem_level: c_int,
        strategy: c_int,
    ) -> c_int;
    fn zlib_deflateReset(strm: *mut ZStream) -> c_int;
    fn zlib_deflate(strm: *mut ZStream, flush: c_int) -> c_int;
    fn zlib_inflate_workspacesize() -> c_int;
    fn zlib_inflateInit2(strm: *mut ZStream, window_bits: c_int) -> c_int;
    fn zlib_inflateReset(strm: *mut ZStream) -> c_int;
    fn zlib_inflate(strm: *mut ZStream, flush: c_int) -> c_int;
}

const Z_OK: c_int = 0;
const Z_STREAM_END: c_int = 1;
const Z_SYNC_FLUSH: c_int = 3;
const Z_FINISH: c_int = 5;
const Z_DEFLATED: c_int = 8;
const Z_DEFAULT_STRATEGY: c_int = 0;
const Z_DEFAULT_COMPRESSION: i32 = -1;
const Z_BEST_COMPRESSION: i32 = 9;
/// `MAX_MEM_LEVEL` (include/linux/zconf.h).
const MAX_MEM_LEVEL: c_int = 8;
/// zram's `DEFLATE_DEF_WINBITS`. Negative: raw deflate, no zlib header or
/// checksum; 2^11-byte window.
const DEFLATE_DEF_WINBITS: i32 = -11;
/// zlib's window bits: 2^9 to 2^15 bytes (zlib BUGs on others).
const MIN_WBITS: i32 = 9;
const MAX_WBITS: i32 = 15;

pub(crate) static DEFLATE: CodecOps = CodecOps {
    name: "deflate",
    levels: Some(Levels {
        default: Z_DEFAULT_COMPRESSION,
        range: level_range,
    }),
    window: Some(Window {
        default: DEFLATE_DEF_WINBITS,
        valid: winbits_valid,
    }),
    dict: false,
    setup: no_setup,
    work_size,
    init,
    release: no_release,
    compress,
    decompress,
};

/// `Z_DEFAULT_COMPRESSION` (-1), then 0 (stored) to 9.
fn level_range() -> (i32, i32) {
    (Z_DEFAULT_COMPRESSION, Z_BEST_COMPRESSION)
}

/// zram's check: raw (negative) or zlib-wrapped, 9 to 15 bits.
fn winbits_valid(bits: i32) -> bool {
    (MIN_WBITS..=MAX_WBITS).contains(&bits.saturating_abs())
}

fn work_size(p: &Params) -> Result<WorkSize> {
    // SAFETY: Window bits checked by `winbits_valid` and a valid memory
    // level (zlib BUGs on others).
    let deflate = unsafe { zlib_deflate_workspacesize(p.winbits, MAX_MEM_LEVEL) };
    // SAFETY: No arguments; returns a constant.
    let inflate = unsafe { zlib_inflate_workspacesize() };
    Ok(WorkSize {
        compress: with_header::<ZStream, _>(deflate)?,
        decompress: with_header::<ZStream, _>(inflate)?,
    })
}

/// The stream at the head of `work`, its workspace set to the rest.
fn stream(work: &mut WorkMem) -> Result<&mut ZStream> {
    // SAFETY: `ZStream` is plain data valid when zeroed, and this backend keeps only a `ZStream`
    // at the head of both its work memories.
    let (strm, ws, _) = unsafe { work.header::<ZStream>()? };
    strm.workspace = ws;
    Ok(strm)
}

fn init(p: &Params, comp: &mut WorkMem, decomp: &mut WorkMem) -> Result {
    let strm = stream(comp)?;
    // SAFETY: `strm` is live and its workspace is the `zlib_deflate_workspacesize` bytes after it
    // (see `work_size`), which never move; the parameters are the ones it was sized for.
    let ret = unsafe {
        zlib_deflateInit2(
            strm,
            p.level,
            Z_DEFLATED,
            p.winbits,
            MAX_MEM_LEVEL,
            Z_DEFAULT_STRATEGY,
        )
    };
    if ret != Z_OK {
        return Err(EINVAL);
    }
    let strm = stream(decomp)?;
    // SAFETY: As above, with `zlib_inflate_workspacesize` bytes.
    let ret = unsafe { zlib_inflateInit2(strm, p.winbits) };
    if ret != Z_OK {
        return Err(EINVAL);
    }
    Ok(())
}

/// Points `strm` at `src` and `dst` for one (de)compression.
fn set_buffers(strm: &mut ZStream, src: &[u8], dst: &mut [u8]) -> Result {
    strm.next_in = src.as_ptr();
    strm.avail_in = c_ulong::try_from(src.len()).map_err(|_| EINVAL)?;
    strm.next_out = dst.as_mut_ptr();
    strm.avail_out = c_ulong::try_from(dst.len()).map_err(|_| EINVAL)?;
    Ok(())
}

fn compress(_p: &Params, work: &mut WorkMem, src: &[u8], dst: &mut [u8]) -> Result<usize> {
    let strm = stream(work)?;
    // SAFETY: `strm` was set up by `init` (deflateInit2) in this stream's
    // work memory, which the caller holds exclusively.
    if unsafe { zlib_deflateReset(strm) } != Z_OK {
        return Err(EINVAL);
    }
    set_buffers(strm, src, dst)?;
    // SAFETY: As above; zlib reads `avail_in` bytes of `src` and writes at
    // most `avail_out` bytes to `dst`, both live for the call.
    let ret = unsafe { zlib_deflate(strm, Z_FINISH) };
    if ret != Z_STREAM_END {
        return Err(EINVAL);
    }
    compressed_len(strm.total_out, dst.len())
}

fn decompress(_p: &Params, work: &mut WorkMem, src: &[u8], dst: &mut [u8]) -> Result {
    let strm = stream(work)?;
    // SAFETY: `strm` was set up by `init` (inflateInit2) in this stream's
    // work memory, which the caller holds exclusively.
    if unsafe { zlib_inflateReset(strm) } != Z_OK {
        return Err(EIO);
    }
    set_buffers(strm, src, dst)?;
    // SAFETY: As above; zlib reads at most `avail_in` bytes of `src` and
    // writes at most `avail_out` bytes to `dst`, both live for the call.
    let ret = unsafe { zlib_inflate(strm, Z_SYNC_FLUSH) };
    if ret != Z_STREAM_END {
        return Err(EIO);
    }
    check_decompressed(strm.total_out, dst.len())
}
