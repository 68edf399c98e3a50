// SPDX-License-Identifier: GPL-2.0

//! Zstandard through the kernel's exported `lib/zstd` (module
//! `zstd_compress`; the decompressor is built in). Like zram, the parameters
//! are tuned for one page (`zstd_get_params(level, PAGE_SIZE)`), and each
//! stream builds its compression and decompression contexts once, inside its
//! own work memory. With a dictionary, as zram's backend: one cdict and one
//! ddict built at `disksize` by reference to the dictionary and shared by
//! every stream, and a compression context zstd allocates itself (it sizes
//! it on first use; `Streams::new` makes that first use happen there).

use core::ffi::{c_int, c_uint, c_ulonglong, c_void};
use core::mem::size_of;
use kernel::prelude::*;

use crate::allocators::PAGE_SIZE;

use super::{
    check_decompressed, compressed_len, with_header, CodecOps, Levels, Params, Shared, WorkMem,
    WorkSize,
};

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

/// `zstd_custom_mem` (`ZSTD_customMem`): how zstd allocates the contexts
/// and dictionaries it creates itself.
#[repr(C)]
struct CustomMem {
    alloc: unsafe extern "C" fn(opaque: *mut c_void, size: usize) -> *mut c_void,
    free: unsafe extern "C" fn(opaque: *mut c_void, address: *mut c_void),
    opaque: *mut c_void,
}

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
    fn zstd_get_cparams(
        level: c_int,
        estimated_src_size: c_ulonglong,
        dict_size: usize,
    ) -> CompressionParameters;
    fn zstd_create_cdict_byreference(
        dict: *const c_void,
        dict_size: usize,
        cparams: CompressionParameters,
        custom_mem: CustomMem,
    ) -> *mut c_void;
    fn zstd_free_cdict(cdict: *mut c_void) -> usize;
    fn zstd_create_ddict_byreference(
        dict: *const c_void,
        dict_size: usize,
        custom_mem: CustomMem,
    ) -> *mut c_void;
    fn zstd_free_ddict(ddict: *mut c_void) -> usize;
    fn zstd_create_cctx_advanced(custom_mem: CustomMem) -> *mut c_void;
    fn zstd_free_cctx(cctx: *mut c_void) -> usize;
    fn zstd_compress_using_cdict(
        cctx: *mut c_void,
        dst: *mut c_void,
        dst_capacity: usize,
        src: *const c_void,
        src_size: usize,
        cdict: *const c_void,
    ) -> usize;
    fn zstd_decompress_using_ddict(
        dctx: *mut c_void,
        dst: *mut c_void,
        dst_capacity: usize,
        src: *const c_void,
        src_size: usize,
        ddict: *const c_void,
    ) -> usize;
    // helpers.c: zram's allocator for zstd (kvzalloc, GFP_NOIO).
    fn rzram_zstd_alloc(opaque: *mut c_void, size: usize) -> *mut c_void;
    fn rzram_zstd_free(opaque: *mut c_void, address: *mut c_void);
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
/// null, or the context `zstd_init_cctx` built in the rest of that memory
/// for `params` (`owned` false), or one `zstd_create_cctx_advanced`
/// created for this stream alone (`owned` true).
#[repr(C)]
struct CompHeader {
    params: Parameters,
    /// Null until `init` built the context.
    cctx: *mut c_void,
    /// The context was created by zstd (dictionary mode), not in this
    /// memory: `release` frees it.
    owned: bool,
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
    window: None,
    dict: true,
    setup,
    work_size,
    init,
    release,
    compress,
    decompress,
};

/// zram's allocator for what zstd creates itself.
fn custom_mem() -> CustomMem {
    CustomMem {
        alloc: rzram_zstd_alloc,
        free: rzram_zstd_free,
        opaque: core::ptr::null_mut(),
    }
}

/// The dictionaries of one compressor.
///
/// # Invariants
///
/// Both are non-null, created by reference to the dictionary bytes of the
/// [`Params`] that hold them (which drop the dictionary after them), and
/// only read after creation, so every stream may use them at once.
pub(crate) struct Dicts {
    cdict: *mut c_void,
    ddict: *mut c_void,
}

// SAFETY: zstd's dictionaries are immutable once created and may be freed
// from any thread.
unsafe impl Send for Dicts {}
// SAFETY: As above: concurrent compressions only read a cdict or ddict.
unsafe impl Sync for Dicts {}

impl Drop for Dicts {
    fn drop(&mut self) {
        // SAFETY: By the type invariant, both were created by zstd and no
        // stream uses them any more ([`Params`] outlive their streams).
        unsafe {
            zstd_free_cdict(self.cdict);
            zstd_free_ddict(self.ddict);
        }
    }
}

/// Builds the dictionaries, if there is one (zram's `zstd_setup_params`:
/// `EINVAL` if zstd refuses it).
fn setup(p: &Params) -> Result<Shared> {
    let Some(dict) = p.dict() else {
        return Ok(Shared::None);
    };
    // SAFETY: A pure function of its arguments.
    let cparams = unsafe { zstd_get_cparams(p.level, PAGE_SIZE as c_ulonglong, dict.len()) };
    // SAFETY: The dictionary is a live slice; zstd keeps a reference to it,
    // which [`Params`] keeps alive until after the cdict is freed.
    let cdict = unsafe {
        zstd_create_cdict_byreference(dict.as_ptr().cast(), dict.len(), cparams, custom_mem())
    };
    if cdict.is_null() {
        return Err(EINVAL);
    }
    // SAFETY: As for the cdict.
    let ddict =
        unsafe { zstd_create_ddict_byreference(dict.as_ptr().cast(), dict.len(), custom_mem()) };
    if ddict.is_null() {
        // SAFETY: Created above, used by nobody.
        unsafe { zstd_free_cdict(cdict) };
        return Err(EINVAL);
    }
    Ok(Shared::Zstd(Dicts { cdict, ddict }))
}

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

fn work_size(p: &Params) -> Result<WorkSize> {
    let params = page_params(p.level);
    let cctx = if p.dict().is_some() {
        // zstd allocates this context itself.
        0
    } else {
        // SAFETY: `params.c_params` is a live value for the call.
        unsafe { zstd_cctx_workspace_bound(&params.c_params) }
    };
    // SAFETY: No arguments; returns a constant.
    let dctx = unsafe { zstd_dctx_workspace_bound() };
    Ok(WorkSize {
        compress: with_header::<CompHeader, _>(cctx)?,
        decompress: with_header::<DecompHeader, _>(dctx)?,
    })
}

fn init(p: &Params, comp: &mut WorkMem, decomp: &mut WorkMem) -> Result {
    // SAFETY: `CompHeader` is plain data valid when zeroed and this backend
    // keeps only a `CompHeader` at the head of its compression memory.
    let (head, ws, ws_len) = unsafe { comp.header::<CompHeader>()? };
    head.params = page_params(p.level);
    if p.dict().is_some() {
        // SAFETY: Creates a context with zstd's allocator; `release` frees it.
        head.cctx = unsafe { zstd_create_cctx_advanced(custom_mem()) };
        head.owned = true;
    } else {
        // SAFETY: `ws` is 8-byte aligned memory of `ws_len` bytes that
        // lives, unmoved, as long as the stream; zstd places the cctx in it.
        head.cctx = unsafe { zstd_init_cctx(ws, ws_len) };
    }
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

/// Frees a context zstd created (dictionary mode); one in the work memory
/// goes with it.
fn release(comp: &mut WorkMem, _decomp: &mut WorkMem) {
    // SAFETY: As in `init`.
    let Ok((head, _, _)) = (unsafe { comp.header::<CompHeader>() }) else {
        return;
    };
    if head.owned && !head.cctx.is_null() {
        // SAFETY: Created by `zstd_create_cctx_advanced` in `init`, freed
        // once (the pointer is cleared), and the stream is being dropped.
        unsafe { zstd_free_cctx(head.cctx) };
        head.cctx = core::ptr::null_mut();
    }
}

fn is_error(code: usize) -> bool {
    // SAFETY: A pure function of its argument.
    unsafe { zstd_is_error(code) != 0 }
}

fn compress(p: &Params, work: &mut WorkMem, src: &[u8], dst: &mut [u8]) -> Result<usize> {
    // SAFETY: As in `init`.
    let (head, _, _) = unsafe { work.header::<CompHeader>()? };
    if head.cctx.is_null() {
        return Err(EINVAL);
    }
    let ret = if let Shared::Zstd(dicts) = &p.shared {
        // The cdict lives in `p` (type invariant of `Dicts`).
        // SAFETY: `cctx` is this stream's (from `init`), held exclusively;
        // live slices, zstd writes at most `dst.len()` bytes.
        unsafe {
            zstd_compress_using_cdict(
                head.cctx,
                dst.as_mut_ptr().cast(),
                dst.len(),
                src.as_ptr().cast(),
                src.len(),
                dicts.cdict,
            )
        }
    } else {
        compress_page(head, src, dst)
    };
    if is_error(ret) {
        return Err(EINVAL);
    }
    compressed_len(ret, dst.len())
}

/// One page without a dictionary, with the context in the work memory.
fn compress_page(head: &mut CompHeader, src: &[u8], dst: &mut [u8]) -> usize {
    // SAFETY: `cctx` was built by `init` in this stream's work memory, held exclusively; live slices,
    // zstd writes at most `dst.len()` bytes; `params` is disjoint from the cctx.
    unsafe {
        zstd_compress_cctx(
            head.cctx,
            dst.as_mut_ptr().cast(),
            dst.len(),
            src.as_ptr().cast(),
            src.len(),
            &head.params,
        )
    }
}

fn decompress(p: &Params, work: &mut WorkMem, src: &[u8], dst: &mut [u8]) -> Result {
    // SAFETY: As in `init`.
    let (head, _, _) = unsafe { work.header::<DecompHeader>()? };
    if head.dctx.is_null() {
        return Err(EIO);
    }
    let ret = if let Shared::Zstd(dicts) = &p.shared {
        // The ddict lives in `p` (type invariant of `Dicts`).
        // SAFETY: `dctx` is this stream's (from `init`), held exclusively;
        // live slices, and zstd stays within the given sizes.
        unsafe {
            zstd_decompress_using_ddict(
                head.dctx,
                dst.as_mut_ptr().cast(),
                dst.len(),
                src.as_ptr().cast(),
                src.len(),
                dicts.ddict,
            )
        }
    } else {
        // SAFETY: `dctx` is this stream's (from `init`), held exclusively;
        // live slices, and zstd stays within the given sizes.
        unsafe {
            zstd_decompress_dctx(
                head.dctx,
                dst.as_mut_ptr().cast(),
                dst.len(),
                src.as_ptr().cast(),
                src.len(),
            )
        }
    };
    if is_error(ret) {
        return Err(EIO);
    }
    check_decompressed(ret, dst.len())
}
