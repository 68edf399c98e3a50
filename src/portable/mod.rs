// SPDX-License-Identifier: GPL-2.0

//! The module's portable logic: `no_std`, no `alloc`, no floats, no panics
//! on caller input, and no `kernel` crate, so that the host crate
//! (`src/lib.rs`) tests the very files the module compiles. This file is
//! the one list of them; both crate roots declare `mod portable`.
//!
//! Siblings are reached with `super::`, the allocators with
//! `crate::allocators`, which both crates provide.

pub mod blocks;
pub mod demand;
pub mod lru;
pub mod parse;
pub mod postproc;
pub mod priority;
pub mod same_filled;
pub mod slot;
pub mod slot_table;
pub mod stats;
#[cfg(test)]
pub mod test_rng;
pub mod watermarks;
