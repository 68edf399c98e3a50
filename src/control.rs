// SPDX-License-Identifier: GPL-2.0

//! `/sys/class/rzram-control/`: `hot_add` and `hot_remove`, zram's
//! interface for creating and removing devices at run time.
//!
//! As with the disk attributes there is no Rust abstraction for classes in
//! 7.3: the class and its attributes are static C structures.

use core::{fmt::Write, ptr};
use kernel::{
    bindings,
    error::to_result,
    ffi::c_char,
    prelude::*, //
};

use crate::{
    parse, registry,
    sysfs::{self, Shared}, //
};

/// `hot_add` is 0400 as in zram: reading it has a side effect.
static mut HOT_ADD: bindings::class_attribute = bindings::class_attribute {
    attr: bindings::attribute {
        name: c"hot_add".as_ptr().cast(),
        mode: 0o400,
        // SAFETY: Zero is valid for the lockdep fields of a static attribute.
        ..unsafe { core::mem::zeroed() }
    },
    show: Some(hot_add_show),
    store: None,
};

static mut HOT_REMOVE: bindings::class_attribute = bindings::class_attribute {
    attr: bindings::attribute {
        name: c"hot_remove".as_ptr().cast(),
        mode: 0o200,
        // SAFETY: Zero is valid for the lockdep fields of a static attribute.
        ..unsafe { core::mem::zeroed() }
    },
    show: None,
    store: Some(hot_remove_store),
};

// SAFETY: Only the addresses of the attributes are taken here.
static ATTRS: Shared<[*mut bindings::attribute; 3]> =
    Shared(unsafe { [&raw mut HOT_ADD.attr, &raw mut HOT_REMOVE.attr, ptr::null_mut()] });

static GROUP: Shared<bindings::attribute_group> = Shared(bindings::attribute_group {
    __bindgen_anon_2: bindings::attribute_group__bindgen_ty_2 {
        attrs: ATTRS.0.as_ptr().cast_mut(),
    },
    // SAFETY: Zero is valid for the rest: no name, no callbacks.
    ..unsafe { core::mem::zeroed() }
});

static GROUPS: Shared<[*const bindings::attribute_group; 2]> = Shared([&GROUP.0, ptr::null()]);

static CLASS: Shared<bindings::class> = Shared(bindings::class {
    name: c"rzram-control".as_ptr().cast(),
    class_groups: GROUPS.0.as_ptr(),
    // SAFETY: Zero is valid for every other field: no device groups, no
    // callbacks, no namespace.
    ..unsafe { core::mem::zeroed() }
});

/// The registered class; unregistered on drop.
pub(crate) struct Control(());

impl Control {
    pub(crate) fn register() -> Result<Self> {
        // SAFETY: `CLASS` is a static, fully initialised class.
        to_result(unsafe { bindings::class_register(&CLASS.0) })?;
        Ok(Control(()))
    }
}

impl Drop for Control {
    fn drop(&mut self) {
        // SAFETY: Registered in `register`; this waits for running callbacks.
        unsafe { bindings::class_unregister(&CLASS.0) };
    }
}

/// # Safety
///
/// Called by sysfs with its PAGE_SIZE buffer.
unsafe extern "C" fn hot_add_show(
    _class: *const bindings::class,
    _attr: *const bindings::class_attribute,
    buf: *mut c_char,
) -> isize {
    match registry::add() {
        // SAFETY: sysfs passes its PAGE_SIZE buffer.
        Ok(id) => unsafe { sysfs::show_page(buf, |w| writeln!(w, "{}", id)) },
        Err(e) => e.to_errno() as isize,
    }
}

/// # Safety
///
/// Called by sysfs with `count` readable bytes at `buf`.
unsafe extern "C" fn hot_remove_store(
    _class: *const bindings::class,
    _attr: *const bindings::class_attribute,
    buf: *const c_char,
    count: usize,
) -> isize {
    // SAFETY: sysfs passes `count` bytes at `buf`.
    unsafe {
        sysfs::store_bytes(buf, count, |input| match parse::parse_i32(input, 10) {
            Ok(id) if id >= 0 => registry::remove(id as usize),
            Ok(_) => Err(EINVAL),
            Err(e) => Err(sysfs::errno(e)),
        })
    }
}
