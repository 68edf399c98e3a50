// SPDX-License-Identifier: GPL-2.0

//! zram's semantics in safe Rust: device state and life cycle
//! (`device.rs`), the data path (`rw.rs`), the attribute table (`attrs.rs`,
//! the ABI), `hot_add`/`hot_remove` (`control.rs`), the device list
//! (`registry.rs`), debugfs (`debugfs.rs`), the names it all goes by
//! (`names.rs`), and tiering: `idle.rs`, `writeback.rs` (the backing
//! device), `recompress.rs`, automatic tiering (`auto.rs`), with their
//! attributes in `wb_attrs.rs`. No `unsafe` here: what needs
//! it is in `glue/`.

pub(crate) mod attrs;
mod auto;
mod comp;
pub(crate) mod control;
pub(crate) mod debugfs;
mod device;
mod idle;
pub(crate) mod names;
mod recompress;
pub(crate) mod registry;
mod rw;
mod wb_attrs;
mod writeback;

pub(crate) use device::Device;
