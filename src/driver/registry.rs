// SPDX-License-Identifier: GPL-2.0

//! The set of devices: created at load (`num_devices`), by `hot_add`,
//! removed by `hot_remove` and at unload.
//!
//! One global mutex guards the list, the major and the debugfs root. Lock
//! order: this mutex, then a disk's `open_mutex` (taken to claim it), then
//! its `config`. Disk attribute callbacks never take this mutex, so removing
//! a disk (which waits for them) under it cannot deadlock.

use kernel::{debugfs::Dir, prelude::*};

use super::names::Names;
use crate::glue::{
    gendisk::{Disk, Major},
    global,
};

/// Minor numbers are 20 bits wide, and each device takes one.
const MAX_ID: usize = 1 << 20;

/// What the global mutex protects.
pub(crate) struct Registry {
    major: Option<Major>,
    debugfs: Option<Dir>,
    /// Indexed by device id; `None` for removed ids, which are reused.
    disks: KVec<Option<Disk>>,
}

impl Registry {
    pub(crate) const fn new() -> Self {
        Registry {
            major: None,
            debugfs: None,
            disks: KVec::new(),
        }
    }
}

/// Sets up the major and debugfs root under `names` and creates `count`
/// devices.
pub(crate) fn init(module: &'static ThisModule, names: Names, count: u32) -> Result {
    global::init();
    let ret = global::with_registry(|reg| -> Result {
        reg.major = Some(Major::register(module, names)?);
        reg.debugfs = Some(Dir::new(names.block()));
        for _ in 0..count {
            add_locked(reg)?;
        }
        Ok(())
    })
    .and_then(|r| r);
    if ret.is_err() {
        exit();
    }
    ret
}

/// Removes every device, then the major: the module is going away.
pub(crate) fn exit() {
    let _ = global::with_registry(|reg| {
        // Disks go first: they refer to the major's operations table. The
        // vector itself is dropped too: the static outlives the module's use.
        drop(core::mem::replace(&mut reg.disks, KVec::new()));
        reg.debugfs = None;
        reg.major = None;
    });
}

/// `hot_add`: creates a device with the lowest free id and returns the id.
pub(crate) fn add() -> Result<u32> {
    global::with_registry(add_locked)?
}

fn add_locked(reg: &mut Registry) -> Result<u32> {
    let id = reg
        .disks
        .iter()
        .position(Option::is_none)
        .unwrap_or(reg.disks.len());
    if id >= MAX_ID {
        return Err(ENOSPC);
    }
    let (Some(major), Some(root)) = (reg.major.as_ref(), reg.debugfs.as_ref()) else {
        return Err(ENODEV);
    };
    let disk = Disk::add(major, root, id as u32)?;
    match reg.disks.get_mut(id) {
        Some(entry) => *entry = Some(disk),
        None => reg.disks.push(Some(disk), GFP_KERNEL)?,
    }
    Ok(id as u32)
}

/// `hot_remove`: `ENODEV` if there is no such device, `EBUSY` if open.
pub(crate) fn remove(id: usize) -> Result {
    global::with_registry(|reg| {
        let entry = reg.disks.get_mut(id).ok_or(ENODEV)?;
        let disk = entry.as_ref().ok_or(ENODEV)?;
        let life = disk.device().life();
        let claim = life.claim()?;
        life.disk.sync();
        // Kept until the disk is gone: nobody can open it in between.
        claim.keep();
        *entry = None;
        // Trailing free ids are dropped so that the list does not only grow.
        while reg.disks.last().is_some_and(Option::is_none) {
            reg.disks.pop();
        }
        Ok(())
    })?
}
