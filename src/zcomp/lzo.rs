// SPDX-License-Identifier: GPL-2.0

//! LZO1X through the kernel's exported `lib/lzo` (module `lzo_compress`;
//! the decompressor is built in), as two algorithms: `lzo` and `lzo-rle`,
//! whose bitstream adds run-length encoding of zero runs. One decompressor
//! reads both.

use core::ffi::{c_int, c_void};
use kernel::prelude::*;

use super::{
    check_decompressed, compressed_len, no_init, no_release, no_setup, CodecOps, Params, WorkMem,
    WorkSize,
};

extern "C" {
    fn lzo1x_1_compress(
        src: *const u8,
        src_len: usize,
        dst: *mut u8,
        dst_len: *mut usize,
        wrkmem: *mut c_void,
    ) -> c_int;
    fn lzorle1x_1_compress(
        src: *const u8,
        src_len: usize,
        dst: *mut u8,
        dst_len: *mut usize,
        wrkmem: *mut c_void,
    ) -> c_int;
    fn lzo1x_decompress_safe(
        src: *const u8,
        src_len: usize,
        dst: *mut u8,
        dst_len: *mut usize,
    ) -> c_int;
}

/// `LZO1X_MEM_COMPRESS`: 8192 `unsigned short`s (include/linux/lzo.h;
/// helpers.c checks the number at build time).
const LZO1X_MEM_COMPRESS: usize = 16384;
/// `LZO_E_OK`.
const LZO_E_OK: c_int = 0;

/// `lzo1x_worst_compress()`: the output room the unchecked compressors may
/// use for `len` input bytes.
const fn worst_compress(len: usize) -> usize {
    len + len / 16 + 64 + 3 + 2
}

type CompressFn = unsafe extern "C" fn(*const u8, usize, *mut u8, *mut usize, *mut c_void) -> c_int;

pub(crate) static LZO: CodecOps = CodecOps {
    name: "lzo",
    levels: None,
    window: None,
    dict: false,
    setup: no_setup,
    work_size,
    init: no_init,
    release: no_release,
    compress: compress_lzo,
    decompress,
};

pub(crate) static LZO_RLE: CodecOps = CodecOps {
    name: "lzo-rle",
    levels: None,
    window: None,
    dict: false,
    setup: no_setup,
    work_size,
    init: no_init,
    release: no_release,
    compress: compress_lzo_rle,
    decompress,
};

fn work_size(_p: &Params) -> Result<WorkSize> {
    WorkSize::compress_only(LZO1X_MEM_COMPRESS)
}

fn compress_lzo(_p: &Params, work: &mut WorkMem, src: &[u8], dst: &mut [u8]) -> Result<usize> {
    compress(lzo1x_1_compress, work, src, dst)
}

fn compress_lzo_rle(_p: &Params, work: &mut WorkMem, src: &[u8], dst: &mut [u8]) -> Result<usize> {
    compress(lzorle1x_1_compress, work, src, dst)
}

fn compress(f: CompressFn, work: &mut WorkMem, src: &[u8], dst: &mut [u8]) -> Result<usize> {
    // These compressors do not check the output room: give them the worst
    // case or nothing.
    let work = work.at_least(LZO1X_MEM_COMPRESS)?;
    if dst.len() < worst_compress(src.len()) {
        return Err(EINVAL);
    }
    let mut len = dst.len();
    // SAFETY: Live slices; at most `lzo1x_worst_compress(src.len())` bytes go to `dst` (room
    // checked) and `LZO1X_MEM_COMPRESS` (checked) to `work`.
    let ret = unsafe { f(src.as_ptr(), src.len(), dst.as_mut_ptr(), &mut len, work) };
    if ret != LZO_E_OK {
        return Err(EINVAL);
    }
    compressed_len(len, dst.len())
}

fn decompress(_p: &Params, _work: &mut WorkMem, src: &[u8], dst: &mut [u8]) -> Result {
    let mut len = dst.len();
    // SAFETY: Pointers and lengths come from live slices; the safe
    // decompressor reads at most `src.len()` and writes at most `len` bytes.
    let ret = unsafe { lzo1x_decompress_safe(src.as_ptr(), src.len(), dst.as_mut_ptr(), &mut len) };
    if ret != LZO_E_OK {
        return Err(EIO);
    }
    check_decompressed(len, dst.len())
}
