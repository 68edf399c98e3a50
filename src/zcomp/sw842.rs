// SPDX-License-Identifier: GPL-2.0

//! 842 through the kernel's exported software implementation (`lib/842`,
//! modules `842_compress` and `842_decompress`).

use core::ffi::{c_int, c_uint, c_void};
use kernel::prelude::*;

use super::{
    check_decompressed, compressed_len, no_init, no_release, no_setup, CodecOps, Params, WorkMem,
    WorkSize,
};

extern "C" {
    fn sw842_compress(
        src: *const u8,
        srclen: c_uint,
        dst: *mut u8,
        destlen: *mut c_uint,
        wmem: *mut c_void,
    ) -> c_int;
    fn sw842_decompress(
        src: *const u8,
        srclen: c_uint,
        dst: *mut u8,
        destlen: *mut c_uint,
    ) -> c_int;
}

/// `SW842_MEM_COMPRESS` (include/linux/sw842.h; helpers.c checks the
/// number at build time).
const SW842_MEM_COMPRESS: usize = 0xf000;

pub(crate) static SW842: CodecOps = CodecOps {
    name: "842",
    levels: None,
    window: None,
    dict: false,
    setup: no_setup,
    work_size,
    init: no_init,
    release: no_release,
    compress,
    decompress,
};

fn work_size(_p: &Params) -> Result<WorkSize> {
    WorkSize::compress_only(SW842_MEM_COMPRESS)
}

fn c_uint_len(len: usize) -> Result<c_uint> {
    c_uint::try_from(len).map_err(|_| EINVAL)
}

fn compress(_p: &Params, work: &mut WorkMem, src: &[u8], dst: &mut [u8]) -> Result<usize> {
    let work = work.at_least(SW842_MEM_COMPRESS)?;
    let mut len = c_uint_len(dst.len())?;
    // SAFETY: Live slices; sw842 writes at most `len` bytes to `dst` (ENOSPC beyond) and
    // `SW842_MEM_COMPRESS` (checked) to `work`.
    let ret = unsafe {
        sw842_compress(
            src.as_ptr(),
            c_uint_len(src.len())?,
            dst.as_mut_ptr(),
            &mut len,
            work,
        )
    };
    if ret != 0 {
        return Err(EINVAL);
    }
    compressed_len(len, dst.len())
}

fn decompress(_p: &Params, _work: &mut WorkMem, src: &[u8], dst: &mut [u8]) -> Result {
    let mut len = c_uint_len(dst.len())?;
    // SAFETY: Pointers and lengths come from live slices; sw842 reads at most
    // `src.len()` bytes and writes at most `len` bytes.
    let ret = unsafe {
        sw842_decompress(
            src.as_ptr(),
            c_uint_len(src.len())?,
            dst.as_mut_ptr(),
            &mut len,
        )
    };
    if ret != 0 {
        return Err(EIO);
    }
    check_decompressed(len, dst.len())
}
