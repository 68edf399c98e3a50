// SPDX-License-Identifier: GPL-2.0

//! `/sys/class/rzram-control/` as static C structures: the class and its
//! two attributes, whose callbacks call `driver/control.rs`.

use core::fmt::Write;
use kernel::{bindings, error::to_result, ffi::c_char, prelude::*};

use super::sysfs::{self, attr_groups, Static};
use crate::driver::control;

/// `hot_add` is 0400 as in zram: reading it has a side effect.
static HOT_ADD: Static<bindings::class_attribute> = Static::new(bindings::class_attribute {
    attr: sysfs::attribute(c"hot_add", 0o400),
    show: Some(hot_add_show),
    store: None,
});

static HOT_REMOVE: Static<bindings::class_attribute> = Static::new(bindings::class_attribute {
    attr: sysfs::attribute(c"hot_remove", 0o200),
    show: None,
    store: Some(hot_remove_store),
});

attr_groups!(GROUPS = [HOT_ADD, HOT_REMOVE]);

static CLASS: Static<bindings::class> = Static::new(bindings::class {
    name: c"rzram-control".as_ptr().cast(),
    class_groups: GROUPS.get().cast(),
    ..pin_init::zeroed()
});

/// The registered class; unregistered on drop.
pub(crate) struct ControlClass(());

impl ControlClass {
    pub(crate) fn register() -> Result<Self> {
        // SAFETY: `CLASS` is a static, fully initialised class.
        to_result(unsafe { bindings::class_register(CLASS.get()) })?;
        Ok(ControlClass(()))
    }
}

impl Drop for ControlClass {
    fn drop(&mut self) {
        // SAFETY: Registered in `register`; this waits for running callbacks.
        unsafe { bindings::class_unregister(CLASS.get()) };
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
    match control::hot_add() {
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
    unsafe { sysfs::store_bytes(buf, count, control::hot_remove) }
}
