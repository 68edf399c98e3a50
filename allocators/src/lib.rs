//! rzram's compressed-object allocators.
//!
//! A pool stores compressed pages ("objects", 1..=4096 bytes) in pages it gets
//! from a [`zpool::PageProvider`] and hands out word-sized [`zpool::Handle`]s.
//! Four backends implement [`zpool::Zpool`]:
//!
//! * [`zsmalloc::ZsPool`]: size classes and multi-page zspages, densest;
//! * [`chunked::zbud::ZbudPool`]: at most two objects per page, simple and
//!   predictable;
//! * [`chunked::z3fold::Z3foldPool`]: at most three objects per page;
//! * [`zblock::ZblockPool`]: blocks of pages with a whole number of same-size
//!   slots, handles that name the slot, no handle table.
//!
//! [`any::AnyPool`] selects one of them at run time by [`any::Backend`].
//!
//! The crate is `no_std` without liballoc. The kernel module includes this
//! file as its `allocators` module and compiles the tree unchanged, so the
//! sources refer to each other only through `super::` paths (never
//! `crate::`), and this file holds nothing but the module list and the
//! re-exports (and, for the unit tests, the crate's own name).
// `no_std` on the host; in the kernel this file is a module of the rzram
// crate (target_os "none"), whose root already is `no_std`.
#![cfg_attr(not(any(test, target_os = "none")), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

pub mod any;
pub mod chunked;
pub(crate) mod classes;
pub(crate) mod paged;
pub(crate) mod table;
pub mod zblock;
pub mod zpool;
pub mod zsmalloc;

pub use any::{AnyPool, Backend};
// The unit tests use the integration tests' page provider
// (`tests/common/mod.rs`, included in `zpool.rs`), which names this crate.
#[cfg(test)]
extern crate self as allocators;
pub use zpool::{
    AccessError, AllocError, ClassStats, Handle, PageProvider, PoolLock, SpinLockHost, Zpool,
    PAGE_SIZE,
};
