// SPDX-License-Identifier: GPL-2.0

//! The tiering attributes of `/sys/block/rzramN/`: backing device, idle
//! marking, writeback and its knobs, `bd_stat`, `recompress` (zram 7.3's names, modes,
//! formats and error codes), and rzram's automatic tiering (`auto.rs`).
//! Listed in `attrs.rs`'s groups.

use core::fmt::{self, Write};
use core::sync::atomic::Ordering;

use super::Device;
use crate::{allocators::PAGE_SIZE, glue::sysfs::disk_attr, portable::parse::PageWriter};

use super::attrs::{no_show, no_store, RO, RW, WO};

disk_attr!(pub(super) BACKING_DEV, c"backing_dev", RW, show: backing_dev_show, store: |d, input| d.set_backing_dev(input));
disk_attr!(pub(super) IDLE, c"idle", WO, show: no_show, store: |d, input| d.mark_idle(input));
disk_attr!(pub(super) WRITEBACK, c"writeback", WO, show: no_show, store: |d, input| d.writeback(input));
disk_attr!(pub(super) WRITEBACK_LIMIT, c"writeback_limit", RW, show: |d, w| writeln!(w, "{}", d.wb.limit.load(Ordering::Relaxed)), store: |d, input| d.set_wb_limit(input));
disk_attr!(pub(super) WRITEBACK_LIMIT_ENABLE, c"writeback_limit_enable", RW, show: |d, w| writeln!(w, "{}", u32::from(d.wb.limit_enable.load(Ordering::Relaxed))), store: |d, input| d.set_wb_limit_enable(input));
disk_attr!(pub(super) WRITEBACK_BATCH_SIZE, c"writeback_batch_size", RW, show: |d, w| writeln!(w, "{}", d.wb.batch_size.load(Ordering::Relaxed)), store: |d, input| d.set_wb_batch_size(input));
disk_attr!(pub(super) COMPRESSED_WRITEBACK, c"compressed_writeback", RW, show: |d, w| writeln!(w, "{}", u32::from(d.wb.compressed.load(Ordering::Relaxed))), store: |d, input| d.set_compressed_wb(input));
disk_attr!(pub(super) RECOMPRESS, c"recompress", WO, show: no_show, store: |d, input| d.recompress(input));
disk_attr!(pub(super) WRITEBACK_AUTO, c"writeback_auto", RW, show: |d, w| writeln!(w, "{}", u32::from(d.auto.enabled.load(Ordering::Relaxed))), store: |d, input| d.set_wb_auto(input));
disk_attr!(pub(super) WRITEBACK_WATERMARKS, c"writeback_watermarks", RW, show: |d, w| { let m = d.auto.watermarks(); writeln!(w, "{} {}", m.high(), m.low()) }, store: |d, input| d.set_wb_watermarks(input));
disk_attr!(pub(super) WRITEBACK_SHRINKER, c"writeback_shrinker", RW, show: |d, w| writeln!(w, "{}", u32::from(d.auto.shrinker.load(Ordering::Relaxed))), store: |d, input| d.set_wb_shrinker(input));
disk_attr!(pub(super) WRITEBACK_HUGE, c"writeback_huge", RW, show: |d, w| writeln!(w, "{}", u32::from(d.auto.huge.load(Ordering::Relaxed))), store: |d, input| d.set_wb_huge(input));
disk_attr!(pub(super) SWAP_READAHEAD, c"swap_readahead", RW, show: |d, w| writeln!(w, "{}", u32::from(d.auto.readahead.load(Ordering::Relaxed))), store: |d, input| d.set_swap_readahead(input));
disk_attr!(pub(super) BD_STAT, c"bd_stat", RO, show: |d, w| d.stats.write_bd_stat(w, PAGE_SIZE as u64), store: no_store);

fn backing_dev_show(d: &Device, w: &mut PageWriter<'_>) -> fmt::Result {
    d.write_backing_dev(w).map_err(|_| fmt::Error)
}
