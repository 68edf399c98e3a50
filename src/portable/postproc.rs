// SPDX-License-Identifier: GPL-2.0

//! The post-processing commands' arguments, parsed as zram 7.3 parses
//! them: `idle`, `writeback` and `recompress` (`idle_store()`,
//! `writeback_store()`, `recompress_store()` in `zram_drv.c`).
//!
//! Tokens are split like the kernel's `next_arg()`. Unknown keys are
//! ignored, as zram ignores them: tools written for a later zram keep
//! working on this one.

use super::parse::{args, parse_i32, parse_u32, parse_u64, sysfs_streq, Errno, EINVAL, ERANGE};

/// Writeback selects huge pages (zram's `HUGE_WRITEBACK`).
pub const WB_HUGE: u32 = 1 << 0;
/// Writeback selects idle pages (`IDLE_WRITEBACK`).
pub const WB_IDLE: u32 = 1 << 1;
/// Writeback selects pages no compressor could shrink
/// (`INCOMPRESSIBLE_WRITEBACK`).
pub const WB_INCOMPRESSIBLE: u32 = 1 << 2;

/// Recompression selects idle pages (`RECOMPRESS_IDLE`).
pub const RECOMP_IDLE: u32 = 1 << 0;
/// Recompression selects huge pages (`RECOMPRESS_HUGE`).
pub const RECOMP_HUGE: u32 = 1 << 1;

/// What an `idle` store marks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Idle {
    /// Every page that may be post-processed.
    All,
    /// Pages not accessed for at least this many seconds.
    Age(u32),
}

/// Parses an `idle` store: `all`, or an age in seconds (`kstrtouint()`
/// with base 0, so `0x10` is 16); `EINVAL` otherwise.
pub fn parse_idle(buf: &[u8]) -> Result<Idle, Errno> {
    if sysfs_streq(buf, b"all") {
        return Ok(Idle::All);
    }
    parse_u32(buf, 0).map(Idle::Age).map_err(|_| EINVAL)
}

/// One scan a `writeback` store asks for: pages `lo..hi` that match every
/// bit of `mode` (0: any page that may be written back).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scan {
    /// `WB_*` bits a page must match (all of them).
    pub mode: u32,
    /// First page index.
    pub lo: u64,
    /// One past the last page index.
    pub hi: u64,
}

fn parse_mode(val: &[u8]) -> Result<u32, Errno> {
    match val {
        b"idle" => Ok(WB_IDLE),
        b"huge" => Ok(WB_HUGE),
        b"huge_idle" => Ok(WB_IDLE | WB_HUGE),
        b"incompressible" => Ok(WB_INCOMPRESSIBLE),
        _ => Err(EINVAL),
    }
}

/// A page index below `nr_pages` (`ERANGE` otherwise, `EINVAL` or
/// `ERANGE` for a bad number, as `kstrtoul()`).
fn page_index(val: &[u8], nr_pages: u64) -> Result<u64, Errno> {
    let index = parse_u64(val, 10)?;
    if index >= nr_pages {
        return Err(ERANGE);
    }
    Ok(index)
}

/// `LO-HI`, both inclusive and below `nr_pages`; returns `lo..hi + 1`.
fn page_range(val: &[u8], nr_pages: u64) -> Result<(u64, u64), Errno> {
    let dash = val.iter().position(|&c| c == b'-').ok_or(EINVAL)?;
    let lo = page_index(val.get(..dash).unwrap_or(&[]), nr_pages)?;
    let hi = parse_u64(val.get(dash + 1..).unwrap_or(&[]), 10)?;
    if hi >= nr_pages || lo > hi {
        return Err(ERANGE);
    }
    Ok((lo, hi + 1))
}

/// Parses a `writeback` store for a device of `nr_pages` pages and calls
/// `scan` for each scan it asks for, in order, as zram's
/// `writeback_store()`: a mode (`idle`, `huge`, `huge_idle`,
/// `incompressible`, alone or as `type=`) scans the current range and
/// ends the command; `page_index=N` and `page_indexes=LO-HI` set the range
/// and scan it with the mode so far (none: any page). The whole buffer is
/// checked before the first call, so an error selects nothing.
pub fn parse_writeback(buf: &[u8], nr_pages: u64, mut scan: impl FnMut(Scan)) -> Result<(), Errno> {
    walk_writeback(buf, nr_pages, &mut |_| {})?;
    walk_writeback(buf, nr_pages, &mut scan)
}

fn walk_writeback(buf: &[u8], nr_pages: u64, scan: &mut impl FnMut(Scan)) -> Result<(), Errno> {
    let (mut lo, mut hi, mode) = (0, nr_pages, 0);
    for arg in args(buf) {
        let Some(val) = arg.value() else {
            // The legacy form: a mode without `type=`.
            let mode = parse_mode(arg.param)?;
            scan(Scan { mode, lo, hi });
            break;
        };
        match arg.param {
            b"type" => {
                let mode = parse_mode(val)?;
                scan(Scan { mode, lo, hi });
                break;
            }
            b"page_index" => {
                lo = page_index(val, nr_pages)?;
                hi = lo + 1;
                scan(Scan { mode, lo, hi });
            }
            b"page_indexes" => {
                (lo, hi) = page_range(val, nr_pages)?;
                scan(Scan { mode, lo, hi });
            }
            _ => {}
        }
    }
    Ok(())
}

/// The parsed form of a `recompress` store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Recompress<'a> {
    /// [`RECOMP_IDLE`] and/or [`RECOMP_HUGE`]; 0 selects every page.
    pub mode: u32,
    /// At most this many pages are tried (`max_pages=`; none: no limit).
    pub max_pages: u64,
    /// Only objects of at least this many bytes (`threshold=`; 0: all),
    /// and only results below it count.
    pub threshold: u32,
    /// `algo=NAME`: the recompression algorithm, by name.
    pub algo: Option<&'a [u8]>,
    /// `priority=N`: the recompression algorithm, by priority.
    pub priority: Option<i32>,
}

/// Parses a `recompress` store as zram's `recompress_store()`: `key=value`
/// tokens `type=idle|huge|huge_idle`, `max_pages=`, `threshold=`, `algo=`
/// and `priority=`; a token without a value is `EINVAL`, a number fails as
/// `kstrto*()`, and a threshold of `huge_size` or more is `EINVAL` (such
/// an object is stored uncompressed). Resolving the algorithm is the
/// caller's job.
pub fn parse_recompress(buf: &[u8], huge_size: usize) -> Result<Recompress<'_>, Errno> {
    let mut r = Recompress {
        mode: 0,
        max_pages: u64::MAX,
        threshold: 0,
        algo: None,
        priority: None,
    };
    for arg in args(buf) {
        let val = arg.value().ok_or(EINVAL)?;
        match arg.param {
            b"type" => {
                // As zram: a bad type after a good one keeps the good one.
                match val {
                    b"idle" => r.mode = RECOMP_IDLE,
                    b"huge" => r.mode = RECOMP_HUGE,
                    b"huge_idle" => r.mode = RECOMP_IDLE | RECOMP_HUGE,
                    _ => {}
                }
                if r.mode == 0 {
                    return Err(EINVAL);
                }
            }
            b"max_pages" => r.max_pages = parse_u64(val, 10)?,
            b"threshold" => r.threshold = parse_u32(val, 10)?,
            b"algo" => r.algo = Some(val),
            b"priority" => r.priority = Some(parse_i32(val, 10)?),
            _ => {}
        }
    }
    if r.threshold as usize >= huge_size {
        return Err(EINVAL);
    }
    Ok(r)
}

#[cfg(test)]
mod tests;
