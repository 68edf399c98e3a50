// SPDX-License-Identifier: GPL-2.0

//! The forwarders of `helpers.c`, declared as `helpers.h` declares them.
//!
//! These are the kernel macros and static inline functions the module
//! needs; everything else comes from `kernel::bindings`. Only the glue
//! calls them, each behind a small safe type.

use core::ffi::{c_int, c_uint, c_ulong, c_void};
use kernel::ffi::c_char;

/// Per-segment callback of [`rzram_bio_for_each_segment`]. The segment's
/// `struct page *` comes as `void *` (the same ABI): the struct holds a
/// zero-sized `lock_class_key`, for which rustc 1.85's `improper_ctypes`
/// lint warns.
pub(crate) type SegmentFn =
    unsafe extern "C" fn(*mut c_void, *mut c_void, c_uint, c_uint, u64) -> c_int;

/// `struct rzram_slot_class` (helpers.c): a lock class key and a lockdep
/// map, empty without lockdep. Only ever used behind a pointer.
#[repr(C)]
pub(crate) struct SlotClass {
    _opaque: [u8; 0],
}

// Disks are passed as `c_void`: bindgen's `gendisk` holds zero-sized
// lockdep members that Rust does not consider FFI-safe.
extern "C" {
    pub(crate) fn rzram_bio_for_each_segment(
        bio: *mut c_void,
        f: SegmentFn,
        ctx: *mut c_void,
    ) -> c_int;
    pub(crate) fn rzram_disk_features() -> u32;
    pub(crate) fn rzram_disk_set_synchronous(disk: *mut c_void, on: bool) -> c_int;
    pub(crate) fn rzram_open_lock(disk: *mut c_void);
    pub(crate) fn rzram_open_unlock(disk: *mut c_void);
    pub(crate) fn rzram_openers(disk: *mut c_void) -> c_uint;
    pub(crate) fn rzram_freeze(disk: *mut c_void) -> c_uint;
    pub(crate) fn rzram_unfreeze(disk: *mut c_void, memflags: c_uint);
    pub(crate) fn rzram_gfp_noio() -> u32;
    pub(crate) fn rzram_slot_class_new() -> *mut SlotClass;
    pub(crate) fn rzram_slot_class_free(class: *mut SlotClass);
    pub(crate) fn rzram_slot_acquire(class: *mut SlotClass, trylock: bool);
    pub(crate) fn rzram_slot_acquired(class: *mut SlotClass);
    pub(crate) fn rzram_slot_release(class: *mut SlotClass);
    pub(crate) fn rzram_slot_wait(word: *mut c_ulong, bit: c_uint);
    pub(crate) fn rzram_slot_wake(word: *mut c_ulong, bit: c_uint);
    pub(crate) fn rzram_kmemleak_not_leak(ptr: *const c_void);
    pub(crate) fn rzram_cond_resched();
    pub(crate) fn rzram_path_exists(path: *const c_char) -> bool;
}
