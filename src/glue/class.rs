// SPDX-License-Identifier: GPL-2.0

//! `/sys/class/rzram-control/` (or `zram-control/`) as static C structures:
//! the class and its two attributes, whose callbacks call
//! `driver/control.rs`.

use core::fmt::Write;
use kernel::{bindings, error::to_result, ffi::c_char, prelude::*};

use super::sysfs::{self, attr_groups, Static};
use crate::driver::{control, names::Names};

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

/// The class under either name (`driver/names.rs`); the same attributes.
macro_rules! control_class {
    ($name:ident, $class:literal) => {
        static $name: Static<bindings::class> = Static::new(bindings::class {
            name: $class.as_ptr().cast(),
            class_groups: GROUPS.get().cast(),
            ..pin_init::zeroed()
        });
    };
}
control_class!(RZRAM_CLASS, c"rzram-control");
control_class!(ZRAM_CLASS, c"zram-control");

/// The registered class; unregistered on drop.
///
/// # Invariants
///
/// `class` is one of the statics above, registered.
pub(crate) struct ControlClass {
    class: &'static Static<bindings::class>,
}

impl ControlClass {
    pub(crate) fn register(names: Names) -> Result<Self> {
        let class = match names {
            Names::Rzram => &RZRAM_CLASS,
            Names::Zram => &ZRAM_CLASS,
        };
        // SAFETY: A static, fully initialised class.
        to_result(unsafe { bindings::class_register(class.get()) })?;
        // INVARIANT: Registered just now.
        Ok(ControlClass { class })
    }
}

impl Drop for ControlClass {
    fn drop(&mut self) {
        // SAFETY: Registered (type invariant); this waits for running callbacks.
        unsafe { bindings::class_unregister(self.class.get()) };
    }
}

/// Whether `path` exists (`kern_path`), e.g. a sysfs directory that another
/// driver registered.
pub(crate) fn path_exists(path: &CStr) -> bool {
    // SAFETY: `path` is NUL-terminated and lives for the call.
    unsafe { super::ffi::rzram_path_exists(path.as_char_ptr()) }
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
