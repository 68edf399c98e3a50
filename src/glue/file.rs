// SPDX-License-Identifier: GPL-2.0

//! Reading a whole file by path into kernel memory, as zram reads an
//! `algorithm_params dict=` file (`kernel_read_file_from_path`).

use core::ffi::{c_char, c_uint, c_void};
use core::ptr::NonNull;
use kernel::prelude::*;

extern "C" {
    fn kernel_read_file_from_path(
        path: *const c_char,
        offset: i64,
        buf: *mut *mut c_void,
        buf_size: usize,
        file_size: *mut usize,
        id: c_uint,
    ) -> isize;
    fn kvfree(addr: *const c_void);
}

/// `READING_POLICY` of `enum kernel_read_file_id`, the purpose zram names
/// (helpers.c checks the number at build time).
const READING_POLICY: c_uint = 5;
/// zram's limit on a file's size (`INT_MAX`): the codecs take `int` lengths.
const MAX_FILE_SIZE: usize = i32::MAX as usize;
/// Longest path accepted, as the kernel's `PATH_MAX` (with its NUL).
const PATH_MAX: usize = 4096;

/// The contents of a file, in memory the kernel allocated for it.
///
/// # Invariants
///
/// `ptr` points to `len` (> 0) initialised bytes allocated by
/// `kernel_read_file_from_path` (kvmalloc'ed), owned by this object and
/// never written after the read.
pub(crate) struct FileBuf {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: The bytes are owned and never written after the read, so they may
// be read from and freed by any thread.
unsafe impl Send for FileBuf {}
// SAFETY: As above: shared access only reads.
unsafe impl Sync for FileBuf {}

impl FileBuf {
    /// Reads the whole file at `path` (relative paths from the caller's
    /// working directory). Errors as zram: the open or read error
    /// (`ENOENT`, `EACCES`, ...), `EINVAL` for an empty file, `EFBIG` past
    /// 2 GiB, `ENAMETOOLONG` for a path of `PATH_MAX` bytes or more.
    /// Process context; may sleep.
    pub(crate) fn read(path: &[u8]) -> Result<Self> {
        if path.len() >= PATH_MAX {
            return Err(ENAMETOOLONG);
        }
        if path.contains(&0) {
            return Err(EINVAL);
        }
        let mut cpath = KVec::with_capacity(path.len() + 1, GFP_KERNEL)?;
        cpath.extend_from_slice(path, GFP_KERNEL)?;
        cpath.push(0, GFP_KERNEL)?;
        let mut buf: *mut c_void = core::ptr::null_mut();
        // `buf` is null, so the kernel allocates the buffer
        // and stores it there; no file size is asked for.
        // SAFETY: `cpath` is NUL-terminated and lives across the call.
        let ret = unsafe {
            kernel_read_file_from_path(
                cpath.as_ptr().cast(),
                0,
                &mut buf,
                MAX_FILE_SIZE,
                core::ptr::null_mut(),
                READING_POLICY,
            )
        };
        let ptr = NonNull::new(buf.cast::<u8>());
        let len = match usize::try_from(ret) {
            Ok(len) => len,
            Err(_) => {
                if let Some(p) = ptr {
                    // SAFETY: A buffer the failed read allocated and left
                    // behind is ours to free.
                    unsafe { kvfree(p.as_ptr().cast()) };
                }
                // A negative errno; `from_errno` maps anything else to EINVAL.
                return Err(i32::try_from(ret).map_or(EINVAL, Error::from_errno));
            }
        };
        let Some(ptr) = ptr else {
            return Err(EINVAL);
        };
        // INVARIANT: The kernel read `len` bytes into the buffer it allocated.
        let file = FileBuf { ptr, len };
        if len == 0 {
            // zram: "failed to load dictionary (empty file)".
            return Err(EINVAL);
        }
        Ok(file)
    }

    /// The file's bytes.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        // SAFETY: By the type invariant, `len` initialised bytes that live
        // and stay unchanged as long as `self`.
        unsafe { core::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for FileBuf {
    fn drop(&mut self) {
        // SAFETY: By the type invariant, kvmalloc'ed memory owned by `self`.
        unsafe { kvfree(self.ptr.as_ptr().cast()) };
    }
}
