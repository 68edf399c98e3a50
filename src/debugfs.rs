// SPDX-License-Identifier: GPL-2.0

//! `/sys/kernel/debug/rzram/rzramN/`: the allocator's per-class statistics
//! (`classes`) and one line per stored page (`block_state`).

use core::fmt;
use kernel::{
    debugfs::{Dir, File},
    prelude::*,
    str::CString, //
};

use crate::{device::Device, slot::SlotContent};

/// A device as debugfs file data.
///
/// # Invariants
///
/// Points to a live `Device` that outlives the files holding this (the
/// disk drops its [`DeviceFiles`] before its device).
struct DeviceRef(*const Device);

// SAFETY: `Device` is `Sync`; the pointer is only used for shared access.
unsafe impl Send for DeviceRef {}
// SAFETY: As above.
unsafe impl Sync for DeviceRef {}

impl DeviceRef {
    fn get(&self) -> &Device {
        // SAFETY: By the type invariant the device is live.
        unsafe { &*self.0 }
    }
}

/// A device's debugfs directory; removed on drop.
pub(crate) struct DeviceFiles {
    _classes: Pin<KBox<File<DeviceRef>>>,
    _block_state: Pin<KBox<File<DeviceRef>>>,
    _dir: Dir,
}

impl DeviceFiles {
    /// Creates `rzram<id>/` under `root` for `device`.
    ///
    /// # Safety
    ///
    /// `device` must outlive the returned value.
    pub(crate) unsafe fn new(root: &Dir, device: &Device) -> Result<Self> {
        let name = CString::try_from_fmt(fmt!("rzram{}", device.id))?;
        let dir = root.subdir(&name);
        // INVARIANT: The caller keeps `device` alive longer than the files.
        let classes = KBox::pin_init(
            dir.read_callback_file(c"classes", DeviceRef(device), &write_classes),
            GFP_KERNEL,
        )?;
        // INVARIANT: As above.
        let block_state = KBox::pin_init(
            dir.read_callback_file(c"block_state", DeviceRef(device), &write_block_state),
            GFP_KERNEL,
        )?;
        Ok(DeviceFiles {
            _classes: classes,
            _block_state: block_state,
            _dir: dir,
        })
    }
}

fn write_classes(d: &DeviceRef, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    d.get().with_backing(|b| {
        let Some(b) = b else {
            return writeln!(f, "not initialised");
        };
        writeln!(f, "allocator: {}", b.pool.name())?;
        writeln!(
            f,
            "{:>5} {:>6} {:>5} {:>5} {:>10} {:>10} {:>8} {:>8}",
            "class", "size", "ppz", "opz", "obj_used", "obj_alloc", "zspages", "pages"
        )?;
        let (mut used, mut pages) = (0usize, 0usize);
        for i in 0..b.pool.class_count() {
            let Some(c) = b.pool.class_stats(i) else { continue };
            used += c.objs_in_use;
            pages += c.pages;
            writeln!(
                f,
                "{:5} {:6} {:5} {:5} {:10} {:10} {:8} {:8}",
                i, c.size, c.pages_per_zspage, c.objs_per_zspage, c.objs_in_use, c.objs_allocated, c.zspages, c.pages
            )?;
        }
        writeln!(f, "total: {} objects in {} class pages, {} pool pages", used, pages, b.pool.total_pages())
    })
}

/// One line per page holding data: index, stored bytes and flags
/// (`s` same-filled, `h` huge), zram's `block_state` without access times.
fn write_block_state(d: &DeviceRef, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let mut ret = Ok(());
    d.get().for_each_content(|index, content| {
        if ret.is_err() {
            return;
        }
        let (size, same, huge) = match content {
            SlotContent::Empty => return,
            SlotContent::Same(_) => (0, 's', '.'),
            SlotContent::Stored { size, huge, .. } => (size, '.', if huge { 'h' } else { '.' }),
        };
        ret = writeln!(f, "{:12} {:5} {}{}", index, size, same, huge);
    });
    ret
}
