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
    allocators::Backend,
    codec,
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
pub(crate) struct Shared<T>(pub(crate) T);

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

// Modes as zram: world-readable, owner-writable; write-only is owner-only.
const RO: u16 = 0o444;
const WO: u16 = 0o200;
const RW: u16 = 0o644;

/// Defines a `static mut` attribute with its show and store callbacks, each
/// a closure run on the [`Device`] behind the sysfs `struct device`.
macro_rules! attribute {
    ($attr:ident, $name:literal, $mode:expr, show: $show:expr, store: $store:expr) => {
        static mut $attr: bindings::device_attribute = {
            /// # Safety
            ///
            /// Called by sysfs for this attribute of a live rzram disk.
            unsafe extern "C" fn show_cb(
                dev: *mut bindings::device,
                _attr: *mut bindings::device_attribute,
                buf: *mut c_char,
            ) -> isize {
                // SAFETY: Forwarded sysfs arguments.
                unsafe { show(dev, buf, $show) }
            }
            /// # Safety
            ///
            /// Called by sysfs for this attribute of a live rzram disk.
            unsafe extern "C" fn store_cb(
                dev: *mut bindings::device,
                _attr: *mut bindings::device_attribute,
                buf: *const c_char,
                count: usize,
            ) -> isize {
                // SAFETY: Forwarded sysfs arguments.
                unsafe { store(dev, buf, count, $store) }
            }
            let show_ptr: Option<ShowFn> = if $mode & 0o444 != 0 { Some(show_cb) } else { None };
            let store_ptr: Option<StoreFn> = if $mode & 0o200 != 0 { Some(store_cb) } else { None };
            attr($name, $mode, show_ptr, store_ptr)
        };
    };
}

/// Stands in for the callback a read-only or write-only attribute lacks.
fn no_show(_: &Device, _: &mut PageWriter<'_>) -> fmt::Result {
    Ok(())
}

fn no_store(_: &Device, _: &[u8]) -> Result {
    Err(EINVAL)
}

attribute!(DISKSIZE, c"disksize", RW,
    show: |d, w| writeln!(w, "{}", d.with_backing(|b| b.map_or(0, |b| b.disksize))),
    store: |d, input| {
        let bytes = parse::memparse(input).map_err(errno)?;
        if bytes == 0 {
            return Err(EINVAL);
        }
        d.set_disksize(bytes)
    });
attribute!(INITSTATE, c"initstate", RO,
    show: |d, w| writeln!(w, "{}", u32::from(d.with_backing(|b| b.is_some()))),
    store: no_store);
attribute!(RESET, c"reset", WO,
    show: no_show,
    store: |d, input| {
        if parse::parse_u16(input, 10).map_err(errno)? == 0 {
            return Err(EINVAL);
        }
        d.reset()
    });
attribute!(COMPACT, c"compact", WO, show: no_show, store: |d, _| d.compact());
attribute!(MEM_LIMIT, c"mem_limit", WO,
    show: no_show,
    store: |d, input| {
        d.set_mem_limit(parse::memparse(input).map_err(errno)?);
        Ok(())
    });
attribute!(MEM_USED_MAX, c"mem_used_max", WO,
    show: no_show,
    store: |d, input| {
        if parse::parse_u64(input, 10) != Ok(0) {
            return Err(EINVAL);
        }
        d.reset_mem_used_max();
        Ok(())
    });
attribute!(COMP_ALGORITHM, c"comp_algorithm", RW,
    show: |d, w| {
        let current = d.with_config(|c, b| b.map_or(c.codec, |b| b.streams.ops()).name);
        write_choices(w, codec::BACKENDS.iter().map(|ops| ops.name), current)
    },
    store: |d, input| {
        d.set_codec(parse::algorithm_name(input, parse::ZRAM_MAX_ALGO_NAME_SZ).map_err(errno)?)
    });
attribute!(ALGORITHM_PARAMS, c"algorithm_params", WO,
    show: no_show,
    store: |d, input| d.set_algorithm_params(&parse::parse_algorithm_params(input).map_err(errno)?));
attribute!(ALLOCATOR, c"allocator", RW,
    show: |d, w| {
        let current = d.with_config(|c, b| b.map_or(c.allocator.name(), |b| b.pool.name()));
        write_choices(w, Backend::ALL.iter().map(|b| b.name()), current)
    },
    store: |d, input| d.set_allocator(input));
attribute!(MAX_COMP_STREAMS, c"max_comp_streams", RW,
    show: |_, w| writeln!(w, "{}", kernel::cpu::nr_cpu_ids()),
    store: |_, input| {
        // Kept so older zramctl keeps working: streams are per CPU, so any
        // positive number is accepted and changes nothing (zram since 4.7).
        match parse::parse_u32(input, 10).map_err(errno)? {
            0 => Err(EINVAL),
            _ => Ok(()),
        }
    });
attribute!(IO_STAT, c"io_stat", RO, show: |d, w| d.stats.write_io_stat(w), store: no_store);
attribute!(MM_STAT, c"mm_stat", RO,
    show: |d, w| {
        let used = d.mem_used_pages() as u64;
        d.stats.write_mm_stat(w, used, d.mem_limit_pages(), PAGE_SIZE as u64)
    },
    store: no_store);
attribute!(DEBUG_STAT, c"debug_stat", RO, show: |d, w| d.stats.write_debug_stat(w), store: no_store);

// SAFETY: Only the addresses of the attributes are taken; nothing in this
// module ever reads or writes them, the kernel does through these pointers.
static ATTRS: Shared<[*mut bindings::attribute; 14]> = Shared(unsafe {
    [
        &raw mut DISKSIZE.attr,
        &raw mut INITSTATE.attr,
        &raw mut RESET.attr,
        &raw mut COMPACT.attr,
        &raw mut MEM_LIMIT.attr,
        &raw mut MEM_USED_MAX.attr,
        &raw mut COMP_ALGORITHM.attr,
        &raw mut ALGORITHM_PARAMS.attr,
        &raw mut ALLOCATOR.attr,
        &raw mut MAX_COMP_STREAMS.attr,
        &raw mut IO_STAT.attr,
        &raw mut MM_STAT.attr,
        &raw mut DEBUG_STAT.attr,
        ptr::null_mut(),
    ]
});

/// Writes `names` on one line with `current` in brackets, like zram's
/// `comp_algorithm`.
fn write_choices<'a>(
    w: &mut PageWriter<'_>,
    names: impl Iterator<Item = &'a str>,
    current: &str,
) -> fmt::Result {
    for name in names {
        if name == current {
            write!(w, "[{}] ", name)?;
        } else {
            write!(w, "{} ", name)?;
        }
    }
    writeln!(w)
}

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
    // SAFETY: By the function's safety requirements.
    unsafe { show_page(buf, |w| f(device, w)) }
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
    // SAFETY: By the function's safety requirements.
    unsafe { store_bytes(buf, count, |input| f(device, input)) }
}

/// The page-buffer half of a show callback, for disk and class attributes.
///
/// # Safety
///
/// `buf` must be sysfs's PAGE_SIZE buffer of a show callback.
pub(crate) unsafe fn show_page(buf: *mut c_char, f: impl FnOnce(&mut PageWriter<'_>) -> fmt::Result) -> isize {
    // SAFETY: sysfs hands show callbacks a zeroed PAGE_SIZE buffer we own.
    let page = unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), PAGE_SIZE) };
    let mut w = PageWriter::new(page);
    let _ = f(&mut w);
    w.written() as isize
}

/// The input half of a store callback: `count` on success, else -errno.
///
/// # Safety
///
/// `buf` must hold `count` readable bytes.
pub(crate) unsafe fn store_bytes(buf: *const c_char, count: usize, f: impl FnOnce(&[u8]) -> Result) -> isize {
    // SAFETY: sysfs passes `count` bytes at `buf`.
    let input = unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), count) };
    match f(input) {
        Ok(()) => count as isize,
        Err(e) => e.to_errno() as isize,
    }
}

pub(crate) fn errno(e: parse::Errno) -> Error {
    Error::from_errno(-e.0)
}
