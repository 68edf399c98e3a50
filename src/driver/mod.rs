// SPDX-License-Identifier: GPL-2.0

//! zram's semantics in safe Rust: device state and life cycle
//! (`device.rs`), the data path (`rw.rs`), the attribute table (`attrs.rs`,
//! the ABI), `hot_add`/`hot_remove` (`control.rs`), the device list
//! (`registry.rs`), debugfs (`debugfs.rs`) and the names it all goes by
//! (`names.rs`). No `unsafe` here: what needs
//! it is in `glue/`.

pub(crate) mod attrs;
mod comp;
pub(crate) mod control;
pub(crate) mod debugfs;
mod device;
pub(crate) mod names;
pub(crate) mod registry;
mod rw;

pub(crate) use device::Device;
