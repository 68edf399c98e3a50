// SPDX-License-Identifier: GPL-2.0

//! `/sys/block/rzramN/` attributes, with zram's names, formats and errors.
//!
//! There is no sysfs abstraction in the 7.3 Rust crate, so the attribute
//! table is a set of static C structures handed to `device_add_disk()`.
//! Every callback maps the `struct device` back to its [`Device`], parses or
//! formats through the portable `parse`/`stats` code, and returns a byte
//! count or a negative errno.

use core::{
    fmt::{self, Write},
    ptr,
};
use kernel::{
    bindings,
    ffi::c_char,
    page::PAGE_SIZE,
    prelude::*, //
};

use crate::{
    codec::BACKENDS,
    device::Device,
    disk,
    parse::{self, PageWriter}, //
};

type ShowFn =
    unsafe extern "C" fn(*mut bindings::device, *mut bindings::device_attribute, *mut c_char) -> isize;
type StoreFn = unsafe extern "C" fn(
    *mut bindings::device,
    *mut bindings::device_attribute,
    *const c_char,
    usize,
) -> isize;

/// A static the kernel may hold pointers into.
#[repr(transparent)]
struct Shared<T>(T);

// SAFETY: The wrapped tables are written only by the compiler; the kernel
// reads them and, for lockdep, may take the address of keys inside them.
unsafe impl<T> Sync for Shared<T> {}

const fn attr(
    name: &'static CStr,
    mode: u16,
    show: Option<ShowFn>,
    store: Option<StoreFn>,
) -> bindings::device_attribute {
    bindings::device_attribute {
        attr: bindings::attribute {
            name: name.as_ptr().cast(),
            mode,
            // SAFETY: Zero is valid for the lockdep fields: a static
            // attribute uses its own embedded key.
            ..unsafe { core::mem::zeroed() }
        },
        __bindgen_anon_1: bindings::device_attribute__bindgen_ty_1 { show },
        __bindgen_anon_2: bindings::device_attribute__bindgen_ty_2 { store },
    }
}

// Modes as zram: world-readable, owner-writable.
const RO: u16 = 0o444;
const RW: u16 = 0o644;

static mut DISKSIZE: bindings::device_attribute =
    attr(c"disksize", RW, Some(disksize_show), Some(disksize_store));
static mut INITSTATE: bindings::device_attribute = attr(c"initstate", RO, Some(initstate_show), None);
static mut COMP_ALGORITHM: bindings::device_attribute =
    attr(c"comp_algorithm", RO, Some(comp_algorithm_show), None);
static mut MM_STAT: bindings::device_attribute = attr(c"mm_stat", RO, Some(mm_stat_show), None);
static mut IO_STAT: bindings::device_attribute = attr(c"io_stat", RO, Some(io_stat_show), None);

// SAFETY: Only the addresses of the attributes are taken; nothing in this
// module ever reads or writes them, the kernel does through these pointers.
static ATTRS: Shared<[*mut bindings::attribute; 6]> = Shared(unsafe {
    [
        &raw mut DISKSIZE.attr,
        &raw mut INITSTATE.attr,
        &raw mut COMP_ALGORITHM.attr,
        &raw mut MM_STAT.attr,
        &raw mut IO_STAT.attr,
        ptr::null_mut(),
    ]
});

static GROUP: Shared<bindings::attribute_group> = Shared(bindings::attribute_group {
    __bindgen_anon_2: bindings::attribute_group__bindgen_ty_2 {
        attrs: ATTRS.0.as_ptr().cast_mut(),
    },
    // SAFETY: Zero is valid for the rest: no name (files go in the disk's
    // own directory), no visibility callback, no binary attributes.
    ..unsafe { core::mem::zeroed() }
});

static GROUPS: Shared<[*const bindings::attribute_group; 2]> = Shared([&GROUP.0, ptr::null()]);

/// The attribute groups for `device_add_disk()`.
pub(crate) fn groups() -> *mut *const bindings::attribute_group {
    GROUPS.0.as_ptr().cast_mut()
}

/// Maps a disk's `struct device` to its [`Device`].
///
/// # Safety
///
/// `dev` must be the device of a live rzram gendisk, as passed to a sysfs
/// callback of one of the attributes above.
unsafe fn device_of<'a>(dev: *mut bindings::device) -> &'a Device {
    // A gendisk's device is `bd_device` inside its `part0` block device
    // (`dev_to_bdev()`): stepping back by the field offset gives that.
    // SAFETY: So `bdev` is valid, and its `bd_disk` is our live gendisk.
    unsafe {
        let bdev = dev
            .byte_sub(core::mem::offset_of!(bindings::block_device, bd_device))
            .cast::<bindings::block_device>();
        disk::device_of((*bdev).bd_disk)
    }
}

/// Formats into the sysfs page buffer; returns the length written.
///
/// # Safety
///
/// `dev` as for [`device_of`]; `buf` must be sysfs's PAGE_SIZE buffer.
unsafe fn show(
    dev: *mut bindings::device,
    buf: *mut c_char,
    f: impl FnOnce(&Device, &mut PageWriter<'_>) -> fmt::Result,
) -> isize {
    // SAFETY: By the function's safety requirements.
    let device = unsafe { device_of(dev) };
    // SAFETY: sysfs hands show callbacks a zeroed PAGE_SIZE buffer we own.
    let page = unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), PAGE_SIZE) };
    let mut w = PageWriter::new(page);
    let _ = f(device, &mut w);
    w.written() as isize
}

/// Runs a store callback on the written bytes; returns `count` or -errno.
///
/// # Safety
///
/// `dev` as for [`device_of`]; `buf` must hold `count` readable bytes.
unsafe fn store(
    dev: *mut bindings::device,
    buf: *const c_char,
    count: usize,
    f: impl FnOnce(&Device, &[u8]) -> Result,
) -> isize {
    // SAFETY: By the function's safety requirements.
    let device = unsafe { device_of(dev) };
    // SAFETY: sysfs passes `count` bytes at `buf`.
    let input = unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), count) };
    match f(device, input) {
        Ok(()) => count as isize,
        Err(e) => e.to_errno() as isize,
    }
}

fn errno(e: parse::Errno) -> Error {
    Error::from_errno(-e.0)
}

/// # Safety
///
/// Called by sysfs for `disksize` of a live rzram disk.
unsafe extern "C" fn disksize_show(
    dev: *mut bindings::device,
    _attr: *mut bindings::device_attribute,
    buf: *mut c_char,
) -> isize {
    // SAFETY: Forwarded sysfs arguments.
    unsafe { show(dev, buf, |d, w| writeln!(w, "{}", d.backing().map_or(0, |b| b.disksize))) }
}

/// # Safety
///
/// Called by sysfs for `disksize` of a live rzram disk.
unsafe extern "C" fn disksize_store(
    dev: *mut bindings::device,
    _attr: *mut bindings::device_attribute,
    buf: *const c_char,
    count: usize,
) -> isize {
    // SAFETY: Forwarded sysfs arguments.
    unsafe {
        store(dev, buf, count, |d, input| {
            let bytes = parse::memparse(input).map_err(errno)?;
            if bytes == 0 {
                return Err(EINVAL);
            }
            d.set_disksize(bytes)
        })
    }
}

/// # Safety
///
/// Called by sysfs for `initstate` of a live rzram disk.
unsafe extern "C" fn initstate_show(
    dev: *mut bindings::device,
    _attr: *mut bindings::device_attribute,
    buf: *mut c_char,
) -> isize {
    // SAFETY: Forwarded sysfs arguments.
    unsafe { show(dev, buf, |d, w| writeln!(w, "{}", u32::from(d.backing().is_some()))) }
}

/// # Safety
///
/// Called by sysfs for `comp_algorithm` of a live rzram disk.
unsafe extern "C" fn comp_algorithm_show(
    dev: *mut bindings::device,
    _attr: *mut bindings::device_attribute,
    buf: *mut c_char,
) -> isize {
    // SAFETY: Forwarded sysfs arguments.
    unsafe {
        show(dev, buf, |d, w| {
            let current = d.backing().map_or(BACKENDS[0].name, |b| b.streams.ops().name);
            for ops in BACKENDS {
                if ops.name == current {
                    write!(w, "[{}] ", ops.name)?;
                } else {
                    write!(w, "{} ", ops.name)?;
                }
            }
            writeln!(w)
        })
    }
}

/// # Safety
///
/// Called by sysfs for `mm_stat` of a live rzram disk.
unsafe extern "C" fn mm_stat_show(
    dev: *mut bindings::device,
    _attr: *mut bindings::device_attribute,
    buf: *mut c_char,
) -> isize {
    // SAFETY: Forwarded sysfs arguments.
    unsafe {
        show(dev, buf, |d, w| {
            d.stats.write_mm_stat(w, d.mem_used_pages() as u64, 0, PAGE_SIZE as u64)
        })
    }
}

/// # Safety
///
/// Called by sysfs for `io_stat` of a live rzram disk.
unsafe extern "C" fn io_stat_show(
    dev: *mut bindings::device,
    _attr: *mut bindings::device_attribute,
    buf: *mut c_char,
) -> isize {
    // SAFETY: Forwarded sysfs arguments.
    unsafe { show(dev, buf, |d, w| d.stats.write_io_stat(w)) }
}
