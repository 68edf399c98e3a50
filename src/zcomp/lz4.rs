// SPDX-License-Identifier: GPL-2.0

//! LZ4 through the kernel's exported `lib/lz4` (module `lz4_compress`; the
//! decompressor is built in). The level is LZ4's acceleration, as in zram.

use core::ffi::{c_char, c_int, c_void};
use kernel::prelude::*;

use super::{
    c_len, check_decompressed, compressed_len, no_init, CodecOps, Levels, WorkMem, WorkSize,
};

extern "C" {
    fn LZ4_compress_fast(
        source: *const c_char,
        dest: *mut c_char,
        input_size: c_int,
        max_output_size: c_int,
        acceleration: c_int,
        wrkmem: *mut c_void,
    ) -> c_int;
    fn LZ4_decompress_safe(
        source: *const c_char,
        dest: *mut c_char,
        compressed_size: c_int,
        max_decompressed_size: c_int,
    ) -> c_int;
}

/// `LZ4_MEM_COMPRESS` (= `LZ4_STREAMSIZE`): 2^11 + 4 u64 words for the
/// kernel's `LZ4_MEMORY_USAGE` of 14 (include/linux/lz4.h; helpers.c
/// checks the number at build time).
const LZ4_MEM_COMPRESS: usize = 16416;
/// `LZ4_ACCELERATION_DEFAULT`.
const LZ4_ACCELERATION_DEFAULT: i32 = 1;
/// Userspace LZ4's `LZ4_ACCELERATION_MAX`: larger values gain nothing, and
/// the kernel's copy does not cap them before shifting them left by 6.
const LZ4_ACCELERATION_MAX: i32 = 65537;

pub(crate) static LZ4: CodecOps = CodecOps {
    name: "lz4",
    levels: Some(Levels {
        default: LZ4_ACCELERATION_DEFAULT,
        range: acceleration_range,
    }),
    work_size,
    init: no_init,
    compress,
    decompress,
};

/// Any acceleration from the default up, as zram; `compress` caps it.
fn acceleration_range() -> (i32, i32) {
    (LZ4_ACCELERATION_DEFAULT, i32::MAX)
}

fn work_size(_level: i32) -> Result<WorkSize> {
    WorkSize::compress_only(LZ4_MEM_COMPRESS)
}

fn compress(level: i32, work: &mut WorkMem, src: &[u8], dst: &mut [u8]) -> Result<usize> {
    let work = work.at_least(LZ4_MEM_COMPRESS)?;
    // SAFETY: Pointers and lengths come from live slices; LZ4 writes at most
    // `dst.len()` bytes to `dst` and `LZ4_MEM_COMPRESS` (checked) to `work`.
    let ret = unsafe {
        LZ4_compress_fast(
            src.as_ptr().cast(),
            dst.as_mut_ptr().cast(),
            c_len(src.len())?,
            c_len(dst.len())?,
            level.min(LZ4_ACCELERATION_MAX),
            work,
        )
    };
    compressed_len(ret, dst.len())
}

/// LZ4 block decompression, shared with lz4hc (same format).
pub(crate) fn decompress(_work: &mut WorkMem, src: &[u8], dst: &mut [u8]) -> Result {
    // SAFETY: Pointers and lengths come from live slices;
    // `LZ4_decompress_safe` never reads or writes past the given sizes.
    let ret = unsafe {
        LZ4_decompress_safe(
            src.as_ptr().cast(),
            dst.as_mut_ptr().cast(),
            c_len(src.len())?,
            c_len(dst.len())?,
        )
    };
    check_decompressed(ret, dst.len())
}
