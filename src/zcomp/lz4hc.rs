// SPDX-License-Identifier: GPL-2.0

//! LZ4HC through the kernel's exported `lib/lz4` (module `lz4hc_compress`):
//! slower, denser LZ4 whose output the plain LZ4 decompressor reads.

use core::ffi::{c_char, c_int, c_void};
use kernel::prelude::*;

use super::lz4;
use super::{c_len, compressed_len, no_init, CodecOps, Levels, WorkMem, WorkSize};

extern "C" {
    fn LZ4_compress_HC(
        src: *const c_char,
        dst: *mut c_char,
        src_size: c_int,
        dst_capacity: c_int,
        compression_level: c_int,
        wrkmem: *mut c_void,
    ) -> c_int;
}

/// `LZ4HC_MEM_COMPRESS` (= `LZ4_STREAMHCSIZE`, include/linux/lz4.h).
const LZ4HC_MEM_COMPRESS: usize = 262192;
/// `LZ4HC_DEFAULT_CLEVEL`.
const LZ4HC_DEFAULT_CLEVEL: i32 = 9;
/// `LZ4HC_MAX_CLEVEL`; levels from 1 work (`LZ4HC_MIN_CLEVEL` is advisory),
/// as zram accepts.
const LZ4HC_MAX_CLEVEL: i32 = 16;

pub(crate) static LZ4HC: CodecOps = CodecOps {
    name: "lz4hc",
    levels: Some(Levels {
        default: LZ4HC_DEFAULT_CLEVEL,
        range: level_range,
    }),
    work_size,
    init: no_init,
    compress,
    decompress: lz4::decompress,
};

fn level_range() -> (i32, i32) {
    (1, LZ4HC_MAX_CLEVEL)
}

fn work_size(_level: i32) -> Result<WorkSize> {
    WorkSize::compress_only(LZ4HC_MEM_COMPRESS)
}

fn compress(level: i32, work: &mut WorkMem, src: &[u8], dst: &mut [u8]) -> Result<usize> {
    let work = work.at_least(LZ4HC_MEM_COMPRESS)?;
    // SAFETY: Live slices; LZ4HC writes at most `dst.len()` bytes to `dst` and
    // `LZ4HC_MEM_COMPRESS` (checked) to `work`.
    let ret = unsafe {
        LZ4_compress_HC(
            src.as_ptr().cast(),
            dst.as_mut_ptr().cast(),
            c_len(src.len())?,
            c_len(dst.len())?,
            level,
            work,
        )
    };
    compressed_len(ret, dst.len())
}
