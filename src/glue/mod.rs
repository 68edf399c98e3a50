// SPDX-License-Identifier: GPL-2.0

//! Kernel glue: every FFI declaration and nearly every `unsafe` of the
//! module, each behind a small safe type — what `rust/kernel/block` would
//! provide if mainline had it. The driver (`driver/`) uses these types and
//! contains no `unsafe`; the codecs (`zcomp/`) call the kernel's compressors
//! directly.
//!
//! - `ffi.rs` + `helpers.c`/`helpers.h`: forwarders for kernel macros and
//!   static inline functions.
//! - `backing.rs` + `backing.c`: the backing device's I/O.
//! - `gendisk.rs`: the major, the disks, block device operations.
//! - `file.rs`: a whole file read by path (`algorithm_params dict=`).
//! - `global.rs`: the registry's global mutex.
//! - `bio.rs`: the bio walk and completion.
//! - `lifecycle.rs`: settings and the store the I/O path reads unlocked.
//! - `sysfs.rs` + `class.rs`: static attribute tables and their trampolines.
//! - `pages.rs`: kernel pages and spinlocks for the allocators.
//! - `slot_lock.rs`: the sleeping slot lock and its lockdep class.
//! - `percpu.rs`: per-CPU objects behind mutexes.
//! - `sched.rs`: `cond_resched` for long loops.
//! - `tier.rs` + `tier.c`: automatic writeback's worker and shrinker.

pub(crate) mod backing;
pub(crate) mod bio;
pub(crate) mod class;
pub(crate) mod ffi;
pub(crate) mod file;
pub(crate) mod gendisk;
pub(crate) mod global;
pub(crate) mod lifecycle;
pub(crate) mod pages;
pub(crate) mod percpu;
pub(crate) mod sched;
pub(crate) mod slot_lock;
pub(crate) mod sysfs;
pub(crate) mod tier;

// The allocators and the slot table work in 4 KiB pages: so must the CPU.
const _: () = assert!(crate::allocators::PAGE_SIZE == kernel::page::PAGE_SIZE);
