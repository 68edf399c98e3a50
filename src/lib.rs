// SPDX-License-Identifier: GPL-2.0

//! Host-side crate root for the portable pieces of rzram.
//!
//! rzram is a compressed RAM block device (a zram work-alike) written as a
//! Rust-for-Linux kernel module. The files listed below hold the logic that
//! does not need the kernel crate: sysfs value parsing, same-filled page
//! detection, the per-page slot table entry and the device statistics.
//!
//! The kernel crate root (`src/rzram.rs`) declares the very same files as its
//! own modules, so they are written for both worlds: `no_std`, no `alloc`, no
//! floats, no panics on caller input, siblings reached with `super::`. This
//! crate only exists so that `cargo test` can exercise them on the host.

#![cfg_attr(not(test), no_std)]

pub mod parse;
pub mod same_filled;
pub mod slot;
pub mod slot_table;
pub mod stats;

/// The zpool allocators, where `crate::allocators` points in the kernel crate too.
pub use allocators;
