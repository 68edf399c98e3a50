// SPDX-License-Identifier: GPL-2.0

//! Zstandard through the kernel's exported `lib/zstd` (module
//! `zstd_compress`; the decompressor is built in). Like zram, the parameters
//! are tuned for one page (`zstd_get_params(level, PAGE_SIZE)`), and each
//! stream builds its compression and decompression contexts once, inside its
//! own work memory.

use core::ffi::{c_int, c_uint, c_ulonglong, c_void};
use core::mem::size_of;
use kernel::prelude::*;

use crate::allocators::PAGE_SIZE;

use super::{check_decompressed, compressed_len, with_header, CodecOps, Levels, WorkMem, WorkSize};

/// `zstd_compression_parameters` (`ZSTD_compressionParameters`,
/// include/linux/zstd_lib.h); helpers.c asserts the size matches.
#[repr(C)]
struct CompressionParameters {
    window_log: c_uint,
    chain_log: c_uint,
    hash_log: c_uint,
    search_log: c_uint,
    min_match: c_uint,
    target_length: c_uint,
    /// `ZSTD_strategy`, an enum of small positive values.
    strategy: c_uint,
}

/// `zstd_frame_parameters` (`ZSTD_frameParameters`).
#[repr(C)]
struct FrameParameters {
    content_size_flag: c_int,
    checksum_flag: c_int,
    no_dict_id_flag: c_int,
}

/// `zstd_parameters` (`ZSTD_parameters`), returned by value.
#[repr(C)]
struct Parameters {
    c_params: CompressionParameters,
    f_params: FrameParameters,
}

const _: () = assert!(size_of::<Parameters>() == 40);

extern "C" {
    fn zstd_min_clevel() -> c_int;
    fn zstd_max_clevel() -> c_int;
    fn zstd_is_error(code: usize) -> c_uint;
    fn zstd_get_params(level: c_int, estimated_src_size: c_ulonglong) -> Parameters;
    fn zstd_cctx_workspace_bound(parameters: *const CompressionParameters) -> usize;
    fn zstd_init_cctx(workspace: *mut c_void, workspace_size: usize) -> *mut c_void;
    fn zstd_compress_cctx(
        cctx: *mut c_void,
        dst: *mut c_void,
        dst_capacity: usize,
        src: *const c_void,
        src_size: usize,
        parameters: *const Parameters,
    ) -> usize;
    fn zstd_dctx_workspace_bound() -> usize;
    fn zstd_init_dctx(workspace: *mut c_void, workspace_size: usize) -> *mut c_void;
    fn zstd_decompress_dctx(
        dctx: *mut c_void,
        dst: *mut c_void,
        dst_capacity: usize,
        src: *const c_void,
        src_size: usize,
    ) -> usize;
}

/// `ZSTD_CLEVEL_DEFAULT`, what `zstd_default_clevel()` returns and zram uses.
const ZSTD_CLEVEL_DEFAULT: i32 = 3;

/// Head of a stream's compression work memory; the cctx lives after it.
///
/// # Invariants
///
/// Lives only at the head of a stream's compression [`WorkMem`]; `cctx` is
/// null or the context `zstd_init_cctx` built in the rest of that memory,
/// and `params` are the parameters that context was sized for.
#[repr(C)]
struct CompHeader {
    params: Parameters,
    /// Null until `init` built the context.
    cctx: *mut c_void,
}

/// Head of a stream's decompression work memory; the dctx lives after it.
///
/// # Invariants
///
/// Lives only at the head of a stream's decompression [`WorkMem`]; `dctx`
/// is null or the context `zstd_init_dctx` built in the rest of it.
#[repr(C)]
struct DecompHeader {
    /// Null until `init` built the context.
    dctx: *mut c_void,
}

pub(crate) static ZSTD: CodecOps = CodecOps {
    name: "zstd",
    levels: Some(Levels {
        default: ZSTD_CLEVEL_DEFAULT,
        range: level_range,
    }),
    work_size,
    init,
    compress,
    decompress,
};

/// zstd's own bounds: negative levels trade ratio for speed.
fn level_range() -> (i32, i32) {
    // SAFETY: Both functions only return constants.
    unsafe { (zstd_min_clevel(), zstd_max_clevel()) }
}

/// Parameters for compressing one page at `level`.
fn page_params(level: i32) -> Parameters {
    // SAFETY: A pure function of its arguments; every level is accepted.
    unsafe { zstd_get_params(level, PAGE_SIZE as c_ulonglong) }
}

fn work_size(level: i32) -> Result<WorkSize> {
    let params = page_params(level);
    // SAFETY: `params.c_params` is a live value for the call.
    let cctx = unsafe { zstd_cctx_workspace_bound(&params.c_params) };
    // SAFETY: No arguments; returns a constant.
    let dctx = unsafe { zstd_dctx_workspace_bound() };
    Ok(WorkSize {
        compress: with_header::<CompHeader, _>(cctx)?,
        decompress: with_header::<DecompHeader, _>(dctx)?,
    })
}

fn init(level: i32, comp: &mut WorkMem, decomp: &mut WorkMem) -> Result {
    // SAFETY: `CompHeader` is plain data valid when zeroed and this backend
    // keeps only a `CompHeader` at the head of its compression memory.
    let (head, ws, ws_len) = unsafe { comp.header::<CompHeader>()? };
    head.params = page_params(level);
    // SAFETY: `ws` is 8-byte aligned memory of `ws_len` bytes that lives,
    // unmoved, as long as the stream; zstd places the cctx inside it.
    head.cctx = unsafe { zstd_init_cctx(ws, ws_len) };
    if head.cctx.is_null() {
        return Err(ENOMEM);
    }
    // SAFETY: As above, for `DecompHeader` and the decompression memory.
    let (head, ws, ws_len) = unsafe { decomp.header::<DecompHeader>()? };
    // SAFETY: As for the cctx.
    head.dctx = unsafe { zstd_init_dctx(ws, ws_len) };
    if head.dctx.is_null() {
        return Err(ENOMEM);
    }
    Ok(())
}

fn is_error(code: usize) -> bool {
    // SAFETY: A pure function of its argument.
    unsafe { zstd_is_error(code) != 0 }
}

fn compress(_level: i32, work: &mut WorkMem, src: &[u8], dst: &mut [u8]) -> Result<usize> {
    // SAFETY: As in `init`.
    let (head, _, _) = unsafe { work.header::<CompHeader>()? };
    if head.cctx.is_null() {
        return Err(EINVAL);
    }
    // SAFETY: `cctx` was built by `init` in this stream's work memory, held exclusively; live slices,
    // zstd writes at most `dst.len()` bytes; `params` is disjoint from the cctx.
    let ret = unsafe {
        zstd_compress_cctx(
            head.cctx,
            dst.as_mut_ptr().cast(),
            dst.len(),
            src.as_ptr().cast(),
            src.len(),
            &head.params,
        )
    };
    if is_error(ret) {
        return Err(EINVAL);
    }
    compressed_len(ret, dst.len())
}

fn decompress(work: &mut WorkMem, src: &[u8], dst: &mut [u8]) -> Result {
    // SAFETY: As in `init`.
    let (head, _, _) = unsafe { work.header::<DecompHeader>()? };
    if head.dctx.is_null() {
        return Err(EIO);
    }
    // SAFETY: `dctx` was built by `init` in this stream's work memory, held exclusively; live
    // slices, and zstd stays within the given sizes.
    let ret = unsafe {
        zstd_decompress_dctx(
            head.dctx,
            dst.as_mut_ptr().cast(),
            dst.len(),
            src.as_ptr().cast(),
            src.len(),
        )
    };
    if is_error(ret) {
        return Err(EIO);
    }
    check_decompressed(ret, dst.len())
}
