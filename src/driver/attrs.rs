// SPDX-License-Identifier: GPL-2.0

//! `/sys/block/rzramN/` attributes: zram's names, modes, formats and error
//! codes (checked against 7.3's `zram_drv.c`), one line per file. The C
//! tables and trampolines are made by the glue's macros.

use core::fmt::{self, Write};
use kernel::prelude::*;

use super::{wb_attrs::*, Device};
use crate::{
    allocators::{Backend, PAGE_SIZE},
    glue::sysfs::{attr_groups, disk_attr},
    portable::{
        parse::{self, PageWriter},
        priority::{self, ZRAM_MAX_COMPS, ZRAM_PRIMARY_COMP, ZRAM_SECONDARY_COMP},
    },
    zcomp,
};

// Modes as zram: world-readable, owner-writable; write-only is owner-only.
pub(super) const RO: u16 = 0o444;
pub(super) const WO: u16 = 0o200;
pub(super) const RW: u16 = 0o644;

disk_attr!(DISKSIZE, c"disksize", RW, show: disksize_show, store: disksize_store);
disk_attr!(INITSTATE, c"initstate", RO, show: initstate_show, store: no_store);
disk_attr!(RESET, c"reset", WO, show: no_show, store: reset_store);
disk_attr!(COMPACT, c"compact", WO, show: no_show, store: |d, _| d.compact());
disk_attr!(MEM_LIMIT, c"mem_limit", WO, show: no_show, store: mem_limit_store);
disk_attr!(MEM_USED_MAX, c"mem_used_max", WO, show: no_show, store: mem_used_max_store);
disk_attr!(COMP_ALGORITHM, c"comp_algorithm", RW, show: comp_algorithm_show, store: comp_algorithm_store);
disk_attr!(ALGORITHM_PARAMS, c"algorithm_params", WO, show: no_show, store: algorithm_params_store);
disk_attr!(RECOMP_ALGORITHM, c"recomp_algorithm", RW, show: recomp_algorithm_show, store: recomp_algorithm_store);
disk_attr!(ALLOCATOR, c"allocator", RW, show: allocator_show, store: |d, input| d.set_allocator(input));
disk_attr!(MAX_COMP_STREAMS, c"max_comp_streams", RW, show: max_comp_streams_show, store: max_comp_streams_store);
disk_attr!(IO_STAT, c"io_stat", RO, show: |d, w| d.stats.write_io_stat(w), store: no_store);
disk_attr!(MM_STAT, c"mm_stat", RO, show: mm_stat_show, store: no_store);
disk_attr!(DEBUG_STAT, c"debug_stat", RO, show: |d, w| d.stats.write_debug_stat(w), store: no_store);

attr_groups!(pub(crate) DISK_GROUPS = [
    DISKSIZE,
    INITSTATE,
    RESET,
    COMPACT,
    MEM_LIMIT,
    MEM_USED_MAX,
    COMP_ALGORITHM,
    ALGORITHM_PARAMS,
    RECOMP_ALGORITHM,
    ALLOCATOR,
    MAX_COMP_STREAMS,
    IO_STAT,
    MM_STAT,
    DEBUG_STAT,
    BACKING_DEV,
    IDLE,
    WRITEBACK,
    WRITEBACK_LIMIT,
    WRITEBACK_LIMIT_ENABLE,
    WRITEBACK_BATCH_SIZE,
    COMPRESSED_WRITEBACK,
    BD_STAT,
    RECOMPRESS,
    WRITEBACK_AUTO,
    WRITEBACK_WATERMARKS,
    WRITEBACK_SHRINKER,
    WRITEBACK_HUGE,
    SWAP_READAHEAD,
]);

/// Stands in for the callback a read-only or write-only attribute lacks
/// (never called: the glue installs no callback for it).
pub(super) fn no_show(_: &Device, _: &mut PageWriter<'_>) -> fmt::Result {
    Ok(())
}

pub(super) fn no_store(_: &Device, _: &[u8]) -> Result {
    Err(EINVAL)
}

fn errno(e: parse::Errno) -> Error {
    Error::from_errno(-e.0)
}

fn disksize_show(d: &Device, w: &mut PageWriter<'_>) -> fmt::Result {
    writeln!(w, "{}", d.with_store(|s| s.map_or(0, |s| s.disksize)))
}

fn disksize_store(d: &Device, input: &[u8]) -> Result {
    let bytes = parse::memparse(input).map_err(errno)?;
    if bytes == 0 {
        return Err(EINVAL);
    }
    d.set_disksize(bytes)
}

fn initstate_show(d: &Device, w: &mut PageWriter<'_>) -> fmt::Result {
    writeln!(w, "{}", u32::from(d.with_store(|s| s.is_some())))
}

fn reset_store(d: &Device, input: &[u8]) -> Result {
    if parse::parse_u16(input, 10).map_err(errno)? == 0 {
        return Err(EINVAL);
    }
    d.reset()
}

fn mem_limit_store(d: &Device, input: &[u8]) -> Result {
    d.set_mem_limit(parse::memparse(input).map_err(errno)?);
    Ok(())
}

fn mem_used_max_store(d: &Device, input: &[u8]) -> Result {
    if parse::parse_u64(input, 10) != Ok(0) {
        return Err(EINVAL);
    }
    d.reset_mem_used_max();
    Ok(())
}

fn comp_algorithm_show(d: &Device, w: &mut PageWriter<'_>) -> fmt::Result {
    let current = d.with_config(|c, _| c.comp.primary().name);
    write_choices(w, zcomp::BACKENDS.iter().map(|ops| ops.name), current)
}

fn comp_algorithm_store(d: &Device, input: &[u8]) -> Result {
    let name = parse::algorithm_name(input, parse::ZRAM_MAX_ALGO_NAME_SZ).map_err(errno)?;
    d.set_codec(ZRAM_PRIMARY_COMP, name)
}

/// One line per configured recompression priority, as zram:
/// `#N: ` and the `comp_algorithm` list with that priority's in brackets.
fn recomp_algorithm_show(d: &Device, w: &mut PageWriter<'_>) -> fmt::Result {
    let mut names = [None; ZRAM_MAX_COMPS];
    d.with_config(|c, _| {
        for (prio, name) in (0u32..).zip(names.iter_mut()) {
            *name = c.comp.algorithm(prio).map(|ops| ops.name);
        }
    });
    for (prio, name) in (0u32..).zip(names) {
        if let (true, Some(name)) = (prio >= ZRAM_SECONDARY_COMP, name) {
            write!(w, "#{}: ", prio)?;
            write_choices(w, zcomp::BACKENDS.iter().map(|ops| ops.name), name)?;
        }
    }
    Ok(())
}

fn recomp_algorithm_store(d: &Device, input: &[u8]) -> Result {
    let r = priority::parse_recomp_algorithm(input).map_err(errno)?;
    d.set_codec(r.priority, r.algo)
}

fn algorithm_params_store(d: &Device, input: &[u8]) -> Result {
    d.set_algorithm_params(&parse::parse_algorithm_params(input).map_err(errno)?)
}

fn allocator_show(d: &Device, w: &mut PageWriter<'_>) -> fmt::Result {
    let current = d.with_config(|c, s| s.map_or(c.allocator.name(), |s| s.pool.name()));
    write_choices(w, Backend::ALL.iter().map(|b| b.name()), current)
}

fn max_comp_streams_show(_: &Device, w: &mut PageWriter<'_>) -> fmt::Result {
    writeln!(w, "{}", kernel::cpu::nr_cpu_ids())
}

/// Kept so older zramctl keeps working: streams are per CPU, so any
/// positive number is accepted and changes nothing (zram since 4.7).
fn max_comp_streams_store(_: &Device, input: &[u8]) -> Result {
    match parse::parse_u32(input, 10).map_err(errno)? {
        0 => Err(EINVAL),
        _ => Ok(()),
    }
}

fn mm_stat_show(d: &Device, w: &mut PageWriter<'_>) -> fmt::Result {
    let used = d.mem_used_pages() as u64;
    d.stats
        .write_mm_stat(w, used, d.mem_limit_pages(), PAGE_SIZE as u64)
}

/// Writes `names` on one line with `current` in brackets, like zram's
/// `comp_algorithm`.
fn write_choices<'a>(
    w: &mut PageWriter<'_>,
    names: impl Iterator<Item = &'a str>,
    current: &str,
) -> fmt::Result {
    for name in names {
        if name == current {
            write!(w, "[{}] ", name)?;
        } else {
            write!(w, "{} ", name)?;
        }
    }
    writeln!(w)
}
