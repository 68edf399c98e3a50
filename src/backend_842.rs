// SPDX-License-Identifier: GPL-2.0

//! 842 through the kernel's exported software implementation (`lib/842`,
//! modules `842_compress` and `842_decompress`).

use core::ffi::{c_int, c_uint, c_void};
use kernel::prelude::*;

use crate::codec::{self, CodecOps, WorkMem, WorkSize};

extern "C" {
    fn sw842_compress(src: *const u8, srclen: c_uint, dst: *mut u8, destlen: *mut c_uint, wmem: *mut c_void) -> c_int;
    fn sw842_decompress(src: *const u8, srclen: c_uint, dst: *mut u8, destlen: *mut c_uint) -> c_int;
}

/// `SW842_MEM_COMPRESS` (include/linux/sw842.h).
const SW842_MEM_COMPRESS: usize = 0xf000;

pub(crate) static SW842: CodecOps = CodecOps {
    name: "842",
    levels: None,
    work_size,
    init: codec::no_init,
    compress,
    decompress,
};

fn work_size(_level: i32) -> Result<WorkSize> {
    Ok(WorkSize {
        compress: SW842_MEM_COMPRESS,
        decompress: 0,
    })
}

fn c_uint_len(len: usize) -> Result<c_uint> {
    c_uint::try_from(len).map_err(|_| EINVAL)
}

fn compress(_level: i32, work: &mut WorkMem, src: &[u8], dst: &mut [u8]) -> Result<usize> {
    if work.len() < SW842_MEM_COMPRESS {
        return Err(EINVAL);
    }
    let mut len = c_uint_len(dst.len())?;
    // SAFETY: Live slices; sw842 writes at most `len` bytes to `dst` (ENOSPC beyond) and
    // `SW842_MEM_COMPRESS` (checked) to `work`.
    let ret = unsafe {
        sw842_compress(
            src.as_ptr(),
            c_uint_len(src.len())?,
            dst.as_mut_ptr(),
            &mut len,
            work.as_mut_ptr(),
        )
    };
    match usize::try_from(len) {
        Ok(len) if ret == 0 && len > 0 && len <= dst.len() => Ok(len),
        _ => Err(EINVAL),
    }
}

fn decompress(_work: &mut WorkMem, src: &[u8], dst: &mut [u8]) -> Result {
    let mut len = c_uint_len(dst.len())?;
    // SAFETY: Pointers and lengths come from live slices; sw842 reads at most
    // `src.len()` bytes and writes at most `len` bytes.
    let ret = unsafe { sw842_decompress(src.as_ptr(), c_uint_len(src.len())?, dst.as_mut_ptr(), &mut len) };
    if ret != 0 || usize::try_from(len).ok() != Some(dst.len()) {
        return Err(EIO);
    }
    Ok(())
}
