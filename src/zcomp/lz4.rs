// SPDX-License-Identifier: GPL-2.0

//! LZ4 through the kernel's exported `lib/lz4` (module `lz4_compress`; the
//! decompressor is built in). The level is LZ4's acceleration, as in zram.
//! With a dictionary, as zram's backend: the dictionary is loaded once into
//! a shared LZ4 stream, copied into the CPU's stream before each
//! compression; decompression starts each page from the dictionary.

use core::ffi::{c_char, c_int, c_void};
use kernel::prelude::*;

use super::{
    c_len, check_decompressed, compressed_len, no_init, no_release, CodecOps, Levels, Params,
    Shared, WorkMem, WorkSize,
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
    fn LZ4_loadDict(stream: *mut c_void, dictionary: *const c_char, dict_size: c_int) -> c_int;
    fn LZ4_compress_fast_continue(
        stream: *mut c_void,
        src: *const c_char,
        dst: *mut c_char,
        src_size: c_int,
        max_dst_size: c_int,
        acceleration: c_int,
    ) -> c_int;
    fn LZ4_setStreamDecode(
        stream: *mut c_void,
        dictionary: *const c_char,
        dict_size: c_int,
    ) -> c_int;
    fn LZ4_decompress_safe_continue(
        stream: *mut c_void,
        source: *const c_char,
        dest: *mut c_char,
        compressed_size: c_int,
        max_output_size: c_int,
    ) -> c_int;
}

/// `LZ4_MEM_COMPRESS` (= `LZ4_STREAMSIZE`, the size of an `LZ4_stream_t`):
/// 2^11 + 4 u64 words for the kernel's `LZ4_MEMORY_USAGE` of 14
/// (include/linux/lz4.h; helpers.c checks the number at build time).
const LZ4_MEM_COMPRESS: usize = 16416;
/// `LZ4_STREAMDECODESIZE`, the size of an `LZ4_streamDecode_t` (helpers.c
/// checks it).
pub(crate) const LZ4_STREAMDECODE_SIZE: usize = 32;
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
    window: None,
    dict: true,
    setup,
    work_size,
    init: no_init,
    release: no_release,
    compress,
    decompress,
};

/// An `LZ4_stream_t` with the dictionary loaded (zram's `drv_data`); it
/// points into the dictionary, which [`Params`] keeps alive after it.
pub(crate) struct DictStream(WorkMem);

/// Any acceleration from the default up, as zram; `compress` caps it.
fn acceleration_range() -> (i32, i32) {
    (LZ4_ACCELERATION_DEFAULT, i32::MAX)
}

/// Loads the dictionary, if any. `EINVAL` if LZ4 does not take all of it
/// (zram's check: LZ4 keeps at most the last 64 KiB, and nothing of one
/// shorter than 4 bytes).
fn setup(p: &Params) -> Result<Shared> {
    let Some(dict) = p.dict() else {
        return Ok(Shared::None);
    };
    let mut stream = WorkMem::new(LZ4_MEM_COMPRESS)?;
    let ptr = stream.at_least(LZ4_MEM_COMPRESS)?;
    // LZ4 keeps pointers into the dictionary; [`Params`] drops this stream
    // before the dictionary.
    // SAFETY: `ptr` is a zeroed (initialised) `LZ4_stream_t`; the
    // dictionary is a live slice of the given length.
    let ret = unsafe { LZ4_loadDict(ptr, dict.as_ptr().cast(), c_len(dict.len())?) };
    if usize::try_from(ret).ok() != Some(dict.len()) {
        return Err(EINVAL);
    }
    Ok(Shared::Lz4(DictStream(stream)))
}

fn work_size(p: &Params) -> Result<WorkSize> {
    Ok(WorkSize {
        compress: LZ4_MEM_COMPRESS,
        decompress: if p.dict().is_some() {
            LZ4_STREAMDECODE_SIZE
        } else {
            0
        },
    })
}

fn compress(p: &Params, work: &mut WorkMem, src: &[u8], dst: &mut [u8]) -> Result<usize> {
    let level = p.level.min(LZ4_ACCELERATION_MAX);
    let ret = if let Shared::Lz4(DictStream(dict_stream)) = &p.shared {
        // The stream starts from the loaded dictionary for every page.
        work.copy_from(dict_stream)?;
        let stream = work.at_least(LZ4_MEM_COMPRESS)?;
        // The stream was copied from the loaded one, whose dictionary lives in `p`.
        // SAFETY: `stream` is an `LZ4_stream_t` (checked size); live slices,
        // LZ4 writes at most `dst.len()` bytes to `dst`.
        unsafe {
            LZ4_compress_fast_continue(
                stream,
                src.as_ptr().cast(),
                dst.as_mut_ptr().cast(),
                c_len(src.len())?,
                c_len(dst.len())?,
                level,
            )
        }
    } else {
        let work = work.at_least(LZ4_MEM_COMPRESS)?;
        // SAFETY: Live slices; LZ4 writes at most `dst.len()` bytes to `dst`
        // and `LZ4_MEM_COMPRESS` (checked) to `work`.
        unsafe {
            LZ4_compress_fast(
                src.as_ptr().cast(),
                dst.as_mut_ptr().cast(),
                c_len(src.len())?,
                c_len(dst.len())?,
                level,
                work,
            )
        }
    };
    compressed_len(ret, dst.len())
}

/// LZ4 block decompression, shared with lz4hc (same format): from the
/// dictionary, if there is one.
pub(crate) fn decompress(p: &Params, work: &mut WorkMem, src: &[u8], dst: &mut [u8]) -> Result {
    let ret = if let Some(dict) = p.dict() {
        let stream = work.at_least(LZ4_STREAMDECODE_SIZE)?;
        // SAFETY: `stream` is an `LZ4_streamDecode_t` (checked size) of this
        // held stream; the dictionary is a live slice of the given length.
        if unsafe { LZ4_setStreamDecode(stream, dict.as_ptr().cast(), c_len(dict.len())?) } == 0 {
            return Err(EIO);
        }
        // SAFETY: As above; live slices, and the safe decoder never reads
        // or writes past the given sizes (nor before the dictionary).
        unsafe {
            LZ4_decompress_safe_continue(
                stream,
                src.as_ptr().cast(),
                dst.as_mut_ptr().cast(),
                c_len(src.len())?,
                c_len(dst.len())?,
            )
        }
    } else {
        // SAFETY: Pointers and lengths come from live slices;
        // `LZ4_decompress_safe` never reads or writes past the given sizes.
        unsafe {
            LZ4_decompress_safe(
                src.as_ptr().cast(),
                dst.as_mut_ptr().cast(),
                c_len(src.len())?,
                c_len(dst.len())?,
            )
        }
    };
    check_decompressed(ret, dst.len())
}
