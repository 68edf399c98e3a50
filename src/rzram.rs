// SPDX-License-Identifier: GPL-2.0

//! rzram: a compressed RAM block device (zram's job) written in Rust.
//!
//! Each `/dev/rzramN` is a bio-based gendisk. A write compresses every 4 KiB
//! page and keeps the result in memory; a read decompresses it. The files
//! split by concern, after `drivers/block/rnull` and zram:
//!
//! - `disk.rs`: gendisk life cycle, block device operations, major number.
//! - `registry.rs` + `control.rs`: the device list, `hot_add`/`hot_remove`.
//! - `debugfs.rs`: `/sys/kernel/debug/rzram/rzramN/` (classes, block_state).
//! - `bio.rs`: the bio walk (the one place that touches `struct bio`).
//! - `device.rs` (+ `device/rw.rs`): per-device state and settings, and the
//!   page read/write paths.
//! - `sysfs.rs`: the `/sys/block/rzramN/` attributes (zram's contract).
//! - `codec.rs` + `backend_*.rs`: compression streams and one ops table per
//!   algorithm (lz4, lz4hc, lzo/lzo-rle, zstd, deflate, 842).
//! - `pool.rs`: pages and locks for the zpool allocators (`allocators/`),
//!   where compressed objects live.
//! - `parse.rs`, `same_filled.rs`, `slot.rs`, `slot_table.rs`, `stats.rs`:
//!   portable logic, shared with the host crate (`src/lib.rs`) and tested
//!   there.
//! - `helpers.c`: forwarders for kernel macros that Rust cannot call.

use kernel::prelude::*;

/// The zpool trait and its backends, shared with the host crate.
#[path = "../allocators/src"]
pub mod allocators {
    pub mod any;
    pub mod paged;
    pub mod table;
    pub mod z3fold;
    pub mod zbud;
    pub mod zpool;
    pub mod zsmalloc;

    pub use any::{AnyPool, Backend};
    pub use zpool::{AccessError, AllocError, ClassStats, Handle, PageProvider, PoolLock, Zpool};
}

// Debian's kernel (and any without CONFIG_842_COMPRESS/DECOMPRESS) exports no
// sw842_*: 842 is then left out, as zram leaves out its backends.
#[cfg(all(CONFIG_842_COMPRESS, CONFIG_842_DECOMPRESS))]
mod backend_842;
mod backend_deflate;
mod backend_lz4;
mod backend_lz4hc;
mod backend_lzo;
mod backend_zstd;
mod bio;
mod codec;
mod control;
mod debugfs;
mod device;
mod disk;
pub mod parse;
pub mod same_filled;
pub mod slot;
pub mod slot_table;
pub mod stats;
mod pool;
mod registry;
mod sysfs;

module! {
    type: RzramModule,
    name: "rzram",
    authors: ["rzram developers"],
    description: "Compressed RAM block device in Rust",
    license: "GPL",
    params: {
        num_devices: u32 {
            default: 1,
            description: "Number of pre-created rzram devices",
        },
    },
}

/// Upper bound on `num_devices`, as a guard against typos: minors are
/// allocated one per device from a dynamic major.
const MAX_DEVICES: u32 = 256;

struct RzramModule {
    control: Option<control::Control>,
}

impl kernel::Module for RzramModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let count = module_parameters::num_devices.value();
        if count > MAX_DEVICES {
            pr_err!("num_devices={} is above the limit of {}\n", count, MAX_DEVICES);
            return Err(EINVAL);
        }
        registry::init(module, count)?;
        let control = match control::Control::register() {
            Ok(c) => c,
            Err(e) => {
                registry::exit();
                return Err(e);
            }
        };
        pr_info!("created {} device(s)\n", count);
        Ok(RzramModule {
            control: Some(control),
        })
    }
}

impl Drop for RzramModule {
    fn drop(&mut self) {
        // The control class goes first, so that no hot_add runs while the
        // devices are removed.
        drop(self.control.take());
        registry::exit();
    }
}
