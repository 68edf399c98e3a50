// SPDX-License-Identifier: GPL-2.0

//! rzram: a compressed RAM block device (zram's job) written in Rust.
//!
//! Each `/dev/rzramN` is a bio-based gendisk. A write compresses every 4 KiB
//! page and keeps the result in memory; a read decompresses it. The crate is
//! split by concern, after `drivers/block/rnull` and zram's driver / zcomp /
//! backend split:
//!
//! - `glue/`: the kernel interfaces Rust-for-Linux lacks in 7.3 (gendisk,
//!   bio, sysfs tables, the slot lock, kernel pages), nearly every `unsafe`.
//! - `driver/`: zram's semantics in safe Rust: device life cycle, data path,
//!   attributes, hot_add/hot_remove, debugfs.
//! - `zcomp/`: compression streams, one file per algorithm.
//! - `portable/`: `no_std` logic shared with the host crate and tested there.
//! - `allocators/` (its own crate, compiled in as a module): the pools.

use kernel::prelude::*;

/// The zpool trait and its backends, shared with the host crate.
#[path = "../allocators/src/lib.rs"]
pub mod allocators;
mod driver;
mod glue;
pub mod portable;
mod zcomp;

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
        zram_names: bool {
            default: false,
            description: "Register under zram's names (/dev/zramN, zram-control) for zram's tools",
        },
    },
}

/// Upper bound on `num_devices`, as a guard against typos: minors are
/// allocated one per device from a dynamic major.
const MAX_DEVICES: u32 = 256;

struct RzramModule {
    control: Option<glue::class::ControlClass>,
}

impl kernel::Module for RzramModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let count = module_parameters::num_devices.value();
        if count > MAX_DEVICES {
            pr_err!(
                "num_devices={} is above the limit of {}\n",
                count,
                MAX_DEVICES
            );
            return Err(EINVAL);
        }
        let names = if module_parameters::zram_names.value() {
            driver::names::Names::Zram
        } else {
            driver::names::Names::Rzram
        };
        if glue::class::path_exists(names.taken_marker()) {
            pr_err!(
                "zram_names={}: {:?} exists (is zram loaded?); not loading\n",
                u8::from(names == driver::names::Names::Zram),
                names.taken_marker()
            );
            return Err(EBUSY);
        }
        driver::registry::init(module, names, count)?;
        let control = match glue::class::ControlClass::register(names) {
            Ok(c) => c,
            Err(e) => {
                driver::registry::exit();
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
        driver::registry::exit();
    }
}
