// SPDX-License-Identifier: GPL-2.0

//! LZ4HC through the kernel's exported `lib/lz4` (module `lz4hc_compress`):
//! slower, denser LZ4 whose output the plain LZ4 decompressor reads. With a
//! dictionary, as zram's backend: the CPU's stream is reset and the
//! dictionary loaded into it before each compression.

use core::ffi::{c_char, c_int, c_void};
use kernel::prelude::*;

use super::lz4;
use super::{
    c_len, compressed_len, no_init, no_release, CodecOps, Levels, Params, Shared, WorkMem, WorkSize,
};

extern "C" {
    fn LZ4_compress_HC(
        src: *const c_char,
        dst: *mut c_char,
        src_size: c_int,
        dst_capacity: c_int,
        compression_level: c_int,
        wrkmem: *mut c_void,
    ) -> c_int;
    fn LZ4_resetStreamHC(stream: *mut c_void, compression_level: c_int);
    fn LZ4_loadDictHC(stream: *mut c_void, dictionary: *const c_char, dict_size: c_int) -> c_int;
    fn LZ4_compress_HC_continue(
        stream: *mut c_void,
        src: *const c_char,
        dst: *mut c_char,
        src_size: c_int,
        max_dst_size: c_int,
    ) -> c_int;
}

/// `LZ4HC_MEM_COMPRESS` (= `LZ4_STREAMHCSIZE`, the size of an
/// `LZ4_streamHC_t`, include/linux/lz4.h).
const LZ4HC_MEM_COMPRESS: usize = 262192;
/// `LZ4HC_DEFAULT_CLEVEL`.
const LZ4HC_DEFAULT_CLEVEL: i32 = 9;
/// `LZ4HC_MAX_CLEVEL`; levels from 1 work (`LZ4HC_MIN_CLEVEL` is advisory),
/// as zram accepts.
const LZ4HC_MAX_CLEVEL: i32 = 16;
/// The most of a dictionary `LZ4_loadDictHC` takes (64 KiB).
const LZ4_MAX_DICT: usize = 64 * 1024;

pub(crate) static LZ4HC: CodecOps = CodecOps {
    name: "lz4hc",
    levels: Some(Levels {
        default: LZ4HC_DEFAULT_CLEVEL,
        range: level_range,
    }),
    window: None,
    dict: true,
    setup,
    work_size,
    init: no_init,
    release: no_release,
    compress,
    decompress: lz4::decompress,
};

fn level_range() -> (i32, i32) {
    (1, LZ4HC_MAX_CLEVEL)
}

/// `EINVAL` for a dictionary over 64 KiB: `LZ4_loadDictHC` would take only
/// its end, which zram's backend treats as an error on every compression;
/// here the device refuses to start instead.
fn setup(p: &Params) -> Result<Shared> {
    if p.dict().is_some_and(|d| d.len() > LZ4_MAX_DICT) {
        return Err(EINVAL);
    }
    Ok(Shared::None)
}

fn work_size(p: &Params) -> Result<WorkSize> {
    Ok(WorkSize {
        compress: LZ4HC_MEM_COMPRESS,
        decompress: if p.dict().is_some() {
            lz4::LZ4_STREAMDECODE_SIZE
        } else {
            0
        },
    })
}

fn compress(p: &Params, work: &mut WorkMem, src: &[u8], dst: &mut [u8]) -> Result<usize> {
    let work = work.at_least(LZ4HC_MEM_COMPRESS)?;
    let ret = if let Some(dict) = p.dict() {
        let dict_len = c_len(dict.len())?;
        // SAFETY: `work` is an `LZ4_streamHC_t` (checked size) of this held
        // stream; resetting needs nothing else.
        unsafe { LZ4_resetStreamHC(work, p.level) };
        // SAFETY: As above; the dictionary is a live slice of the given
        // length that `p` keeps alive while the stream points into it.
        if unsafe { LZ4_loadDictHC(work, dict.as_ptr().cast(), dict_len) } != dict_len {
            return Err(EINVAL);
        }
        // SAFETY: As above; live slices, LZ4HC writes at most `dst.len()`
        // bytes to `dst`.
        unsafe {
            LZ4_compress_HC_continue(
                work,
                src.as_ptr().cast(),
                dst.as_mut_ptr().cast(),
                c_len(src.len())?,
                c_len(dst.len())?,
            )
        }
    } else {
        // SAFETY: Live slices; LZ4HC writes at most `dst.len()` bytes to
        // `dst` and `LZ4HC_MEM_COMPRESS` (checked) to `work`.
        unsafe {
            LZ4_compress_HC(
                src.as_ptr().cast(),
                dst.as_mut_ptr().cast(),
                c_len(src.len())?,
                c_len(dst.len())?,
                p.level,
                work,
            )
        }
    };
    compressed_len(ret, dst.len())
}
