// SPDX-License-Identifier: GPL-2.0

//! `/sys/kernel/debug/rzram/rzramN/` (`zram/zramN/` with `zram_names=1`): the allocator's per-class statistics
//! (`classes`) and one line per stored page (`block_state`).

use core::fmt;
use kernel::{
    debugfs::{Dir, File},
    prelude::*,
    str::CString,
    sync::Arc,
};

use super::Device;
use crate::portable::slot::SlotContent;

/// A device's debugfs directory; removed on drop. Each file holds a
/// reference to the device, so the device outlives every read.
pub(crate) struct DeviceFiles {
    _classes: Pin<KBox<File<Arc<Device>>>>,
    _block_state: Pin<KBox<File<Arc<Device>>>>,
    _dir: Dir,
}

impl DeviceFiles {
    /// Creates `<prefix><id>/` under `root` for `device`.
    pub(crate) fn new(root: &Dir, prefix: &str, device: Arc<Device>) -> Result<Self> {
        let name = CString::try_from_fmt(fmt!("{}{}", prefix, device.id))?;
        let dir = root.subdir(&name);
        let classes = KBox::pin_init(
            dir.read_callback_file(c"classes", device.clone(), &write_classes),
            GFP_KERNEL,
        )?;
        let block_state = KBox::pin_init(
            dir.read_callback_file(c"block_state", device, &write_block_state),
            GFP_KERNEL,
        )?;
        Ok(DeviceFiles {
            _classes: classes,
            _block_state: block_state,
            _dir: dir,
        })
    }
}

fn write_classes(d: &Arc<Device>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    d.with_store(|b| {
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
            let Some(c) = b.pool.class_stats(i) else {
                continue;
            };
            used += c.objs_in_use;
            pages += c.pages;
            writeln!(
                f,
                "{:5} {:6} {:5} {:5} {:10} {:10} {:8} {:8}",
                i,
                c.size,
                c.pages_per_zspage,
                c.objs_per_zspage,
                c.objs_in_use,
                c.objs_allocated,
                c.zspages,
                c.pages
            )?;
        }
        writeln!(
            f,
            "total: {} objects in {} class pages, {} pool pages",
            used,
            pages,
            b.pool.total_pages()
        )?;
        writeln!(f, "slot table: {} pages", b.table_pages())
    })
}

/// One line per page holding data, as zram's `block_state`: index, the
/// last access time (seconds since boot, always `.000000`), and the flags
/// `s` same-filled, `w` written back, `h` huge, `i` idle, `r` recompressed,
/// `n` incompressible.
fn write_block_state(d: &Arc<Device>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let mut ret = Ok(());
    d.for_each_state(|index, st| {
        if ret.is_err() {
            return;
        }
        let (same, wb, huge) = match st.content {
            SlotContent::Empty => return,
            SlotContent::Same(_) => (true, false, false),
            SlotContent::Stored { huge, .. } => (false, false, huge),
            SlotContent::Written { huge, .. } => (false, true, huge),
        };
        let flag = |on: bool, c: char| if on { c } else { '.' };
        ret = writeln!(
            f,
            "{:12} {:12}.000000 {}{}{}{}{}{}",
            index,
            st.access_time,
            flag(same, 's'),
            flag(wb, 'w'),
            flag(huge, 'h'),
            flag(st.idle, 'i'),
            flag(st.prio != 0, 'r'),
            flag(st.incompressible, 'n'),
        );
    });
    ret
}
