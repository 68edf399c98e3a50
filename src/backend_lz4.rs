// SPDX-License-Identifier: GPL-2.0

//! LZ4 through the kernel's exported `lib/lz4` (module `lz4_compress`).

use core::ffi::{c_char, c_int, c_void};
use kernel::prelude::*;

use crate::codec::CodecOps;

extern "C" {
    fn LZ4_compress_default(
        source: *const c_char,
        dest: *mut c_char,
        input_size: c_int,
        max_output_size: c_int,
        wrkmem: *mut c_void,
    ) -> c_int;
    fn LZ4_decompress_safe(
        source: *const c_char,
        dest: *mut c_char,
        compressed_size: c_int,
        max_decompressed_size: c_int,
    ) -> c_int;
}

/// `LZ4_MEM_COMPRESS` for the kernel's `LZ4_MEMORY_USAGE` of 14: a hash
/// table of 2^11 + 4 u64 words (include/linux/lz4.h).
const LZ4_MEM_COMPRESS: usize = ((1 << (14 - 3)) + 4) * 8;

pub(crate) static LZ4: CodecOps = CodecOps {
    name: "lz4",
    work_mem: LZ4_MEM_COMPRESS,
    compress,
    decompress,
};

fn to_c_len(len: usize) -> Result<c_int> {
    c_int::try_from(len).map_err(|_| EINVAL)
}

fn compress(work: &mut [u8], src: &[u8], dst: &mut [u8]) -> Result<usize> {
    if work.len() < LZ4_MEM_COMPRESS {
        return Err(EINVAL);
    }
    // The work area was checked above to hold `LZ4_MEM_COMPRESS` bytes.
    // SAFETY: Live slices; LZ4 writes at most `dst.len()` bytes to `dst` and
    // at most `LZ4_MEM_COMPRESS` bytes to `work`.
    let ret = unsafe {
        LZ4_compress_default(
            src.as_ptr().cast(),
            dst.as_mut_ptr().cast(),
            to_c_len(src.len())?,
            to_c_len(dst.len())?,
            work.as_mut_ptr().cast(),
        )
    };
    // Zero means the output did not fit.
    if ret <= 0 {
        return Err(EINVAL);
    }
    Ok(ret as usize)
}

fn decompress(src: &[u8], dst: &mut [u8]) -> Result {
    // SAFETY: The pointers and lengths come from live slices;
    // `LZ4_decompress_safe` never reads or writes past the given sizes.
    let ret = unsafe {
        LZ4_decompress_safe(
            src.as_ptr().cast(),
            dst.as_mut_ptr().cast(),
            to_c_len(src.len())?,
            to_c_len(dst.len())?,
        )
    };
    if ret < 0 || ret as usize != dst.len() {
        return Err(EIO);
    }
    Ok(())
}
