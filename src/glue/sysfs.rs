// SPDX-License-Identifier: GPL-2.0

//! Sysfs attributes as static C structures, with the trampolines that turn
//! sysfs calls into calls of safe Rust functions on a [`Device`].
//!
//! There is no sysfs abstraction in the 7.3 Rust crate. The attribute table
//! itself (names, modes, which function serves which file) is the driver's:
//! `driver/attrs.rs` lists it with [`disk_attr!`] and [`attr_groups!`].

use core::{cell::UnsafeCell, fmt};
use kernel::{bindings, ffi::c_char, prelude::*};

use super::gendisk;
use crate::{allocators::PAGE_SIZE, driver::Device, portable::parse::PageWriter};

/// A show callback: formats the file's contents.
pub(crate) type ShowFn = fn(&Device, &mut PageWriter<'_>) -> fmt::Result;
/// A store callback: acts on the bytes written.
pub(crate) type StoreFn = fn(&Device, &[u8]) -> Result;

/// A C structure in a static that the kernel holds pointers to.
///
/// # Invariants
///
/// Rust code never writes the value after its constant initialisation, and
/// only takes its address; the kernel reads it (and, for a lockdep key
/// inside an attribute, may write to it) through that address.
#[repr(transparent)]
pub(crate) struct Static<T>(UnsafeCell<T>);

impl<T> Static<T> {
    pub(crate) const fn new(value: T) -> Self {
        Static(UnsafeCell::new(value))
    }

    /// The address to hand to the kernel.
    pub(crate) const fn get(&self) -> *mut T {
        self.0.get()
    }
}

// SAFETY (for each of these): by the type invariant Rust never accesses the
// value after initialisation, so sharing the static between threads only
// shares its address; the types are the C tables the kernel reads.
unsafe impl Sync for Static<bindings::device_attribute> {}
// SAFETY: As above.
unsafe impl Sync for Static<bindings::class_attribute> {}
// SAFETY: As above.
unsafe impl Sync for Static<bindings::attribute_group> {}
// SAFETY: As above.
unsafe impl Sync for Static<bindings::class> {}
// SAFETY: As above; the pointers are to other such statics.
unsafe impl<const N: usize> Sync for Static<[*mut bindings::attribute; N]> {}
// SAFETY: As above.
unsafe impl<const N: usize> Sync for Static<[*const bindings::attribute_group; N]> {}

/// `struct attribute` with `name` and `mode`, zero elsewhere: a static
/// attribute uses its own embedded lockdep key.
pub(crate) const fn attribute(name: &'static CStr, mode: u16) -> bindings::attribute {
    bindings::attribute {
        name: name.as_ptr().cast(),
        mode,
        ..pin_init::zeroed()
    }
}

/// A disk attribute's trampoline table entry.
pub(crate) const fn device_attribute(
    name: &'static CStr,
    mode: u16,
    show: Option<DeviceShow>,
    store: Option<DeviceStore>,
) -> bindings::device_attribute {
    bindings::device_attribute {
        attr: attribute(name, mode),
        __bindgen_anon_1: bindings::device_attribute__bindgen_ty_1 { show },
        __bindgen_anon_2: bindings::device_attribute__bindgen_ty_2 { store },
    }
}

type DeviceShow = unsafe extern "C" fn(
    *mut bindings::device,
    *mut bindings::device_attribute,
    *mut c_char,
) -> isize;
type DeviceStore = unsafe extern "C" fn(
    *mut bindings::device,
    *mut bindings::device_attribute,
    *const c_char,
    usize,
) -> isize;

/// Defines a static disk attribute: `disk_attr!(NAME, c"file", MODE, show:
/// f, store: g)` with `f: ShowFn` (used if the mode is readable) and `g:
/// StoreFn` (used if it is writable).
macro_rules! disk_attr {
    ($vis:vis $attr:ident, $name:literal, $mode:expr, show: $show:expr, store: $store:expr) => {
        $vis static $attr: $crate::glue::sysfs::Static<kernel::bindings::device_attribute> = {
            /// # Safety
            ///
            /// Called by sysfs for this attribute of a live rzram disk.
            unsafe extern "C" fn show_cb(
                dev: *mut kernel::bindings::device,
                _attr: *mut kernel::bindings::device_attribute,
                buf: *mut kernel::ffi::c_char,
            ) -> isize {
                // SAFETY: Forwarded sysfs arguments.
                unsafe { $crate::glue::sysfs::show(dev, buf, $show) }
            }
            /// # Safety
            ///
            /// Called by sysfs for this attribute of a live rzram disk.
            unsafe extern "C" fn store_cb(
                dev: *mut kernel::bindings::device,
                _attr: *mut kernel::bindings::device_attribute,
                buf: *const kernel::ffi::c_char,
                count: usize,
            ) -> isize {
                // SAFETY: Forwarded sysfs arguments.
                unsafe { $crate::glue::sysfs::store(dev, buf, count, $store) }
            }
            let mode: u16 = $mode;
            $crate::glue::sysfs::Static::new($crate::glue::sysfs::device_attribute(
                $name,
                mode,
                if mode & 0o444 != 0 {
                    Some(show_cb)
                } else {
                    None
                },
                if mode & 0o222 != 0 {
                    Some(store_cb)
                } else {
                    None
                },
            ))
        };
    };
}
pub(crate) use disk_attr;

/// Defines `$groups`, the NULL-terminated group list (one unnamed group)
/// holding the listed attributes, for `device_add_disk` or a class.
macro_rules! attr_groups {
    ($vis:vis $groups:ident = [$($attr:ident),* $(,)?]) => {
        $vis static $groups: $crate::glue::sysfs::Static<[*const kernel::bindings::attribute_group; 2]> = {
            use $crate::glue::sysfs::Static;
            static ATTRS: Static<[*mut kernel::bindings::attribute; [$(stringify!($attr)),*].len() + 1]> =
                Static::new([$($attr.get().cast(),)* core::ptr::null_mut()]);
            static GROUP: Static<kernel::bindings::attribute_group> =
                Static::new(kernel::bindings::attribute_group {
                    __bindgen_anon_2: kernel::bindings::attribute_group__bindgen_ty_2 {
                        attrs: ATTRS.get().cast(),
                    },
                    ..pin_init::zeroed()
                });
            Static::new([GROUP.get().cast_const(), core::ptr::null()])
        };
    };
}
pub(crate) use attr_groups;

/// The disk attribute groups for `device_add_disk()`.
pub(crate) fn disk_groups() -> *mut *const bindings::attribute_group {
    crate::driver::attrs::DISK_GROUPS.get().cast()
}

/// Runs `f` on the [`Device`] of a disk's `struct device`.
///
/// # Safety
///
/// `dev` must be the device of a live rzram gendisk, as passed to a sysfs
/// callback of one of its attributes (removing the disk waits for those).
unsafe fn with_device<R>(dev: *mut bindings::device, f: impl FnOnce(&Device) -> R) -> R {
    // A gendisk's device is `bd_device` inside its `part0` block device
    // (`dev_to_bdev()`): stepping back by the field offset gives that.
    // SAFETY: So `bdev` is valid, and its `bd_disk` is our live gendisk.
    unsafe {
        let bdev = dev
            .byte_sub(core::mem::offset_of!(bindings::block_device, bd_device))
            .cast::<bindings::block_device>();
        gendisk::with_device((*bdev).bd_disk, f)
    }
}

/// A disk attribute's show: formats into the sysfs page.
///
/// # Safety
///
/// `dev` as for [`with_device`]; `buf` must be sysfs's PAGE_SIZE buffer.
pub(crate) unsafe fn show(dev: *mut bindings::device, buf: *mut c_char, f: ShowFn) -> isize {
    // SAFETY: By the function's safety requirements.
    unsafe { with_device(dev, |device| show_page(buf, |w| f(device, w))) }
}

/// A disk attribute's store; returns `count` or -errno.
///
/// # Safety
///
/// `dev` as for [`with_device`]; `buf` must hold `count` readable bytes.
pub(crate) unsafe fn store(
    dev: *mut bindings::device,
    buf: *const c_char,
    count: usize,
    f: StoreFn,
) -> isize {
    // SAFETY: By the function's safety requirements.
    unsafe {
        with_device(dev, |device| {
            store_bytes(buf, count, |input| f(device, input))
        })
    }
}

/// The page-buffer half of a show callback, for disk and class attributes.
///
/// # Safety
///
/// `buf` must be sysfs's PAGE_SIZE buffer of a show callback.
pub(crate) unsafe fn show_page(
    buf: *mut c_char,
    f: impl FnOnce(&mut PageWriter<'_>) -> fmt::Result,
) -> isize {
    // SAFETY: sysfs hands show callbacks a zeroed PAGE_SIZE buffer we own.
    let page = unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), PAGE_SIZE) };
    let mut w = PageWriter::new(page);
    // A full page truncates, as `sysfs_emit` does.
    let _ = f(&mut w);
    w.written() as isize
}

/// The input half of a store callback: `count` on success, else -errno.
///
/// # Safety
///
/// `buf` must hold `count` readable bytes.
pub(crate) unsafe fn store_bytes(
    buf: *const c_char,
    count: usize,
    f: impl FnOnce(&[u8]) -> Result,
) -> isize {
    // SAFETY: sysfs passes `count` bytes at `buf`.
    let input = unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), count) };
    match f(input) {
        Ok(()) => count as isize,
        Err(e) => e.to_errno() as isize,
    }
}
