// SPDX-License-Identifier: GPL-2.0

//! Host-side crate root for the portable pieces of rzram.
//!
//! rzram is a compressed RAM block device (a zram work-alike) written as a
//! Rust-for-Linux kernel module. `src/portable/` holds the logic that does
//! not need the kernel crate: sysfs value parsing, same-filled page
//! detection, the per-page slot and slot table, the device statistics. The
//! kernel crate root (`src/rzram.rs`) declares the same `portable` module;
//! this crate only exists so that `cargo test` can exercise it on the host.

#![cfg_attr(not(test), no_std)]

pub mod portable;

/// The zpool allocators, where `crate::allocators` points in the kernel crate too.
pub use allocators;
