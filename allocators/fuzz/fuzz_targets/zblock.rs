// SPDX-License-Identifier: GPL-2.0
//! Fuzzes the zblock-style backend against the byte-driven model.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    allocators_fuzz::run(allocators::Backend::Zblock, data);
});
