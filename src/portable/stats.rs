// SPDX-License-Identifier: GPL-2.0

//! Device statistics and zram's exact `io_stat`, `mm_stat`, `debug_stat`
//! and `bd_stat` output.
//!
//! Design: one [`Stats`] per device holds zram's `struct zram_stats`
//! counters as `AtomicU64`s updated with `Relaxed` ordering from the I/O
//! path (they are statistics, not synchronisation). The `write_*` methods
//! reproduce zram's `sysfs_emit()` format strings byte for byte (from
//! `drivers/block/zram/zram_drv.c`, v6.17+), so tools that parse the
//! columns (zramctl, LTP, kselftest, ChromeOS UMA) keep working. Values the
//! device does not own (allocator pages, limit) are passed in by the caller.

use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering};

/// `version:` printed by `debug_stat`; zram has printed 1 since the file
/// appeared (4.8), the format is "intentionally undocumented".
pub const DEBUG_STAT_VERSION: u32 = 1;

/// zram's `struct zram_stats`, plus the legacy counters the brief lists.
///
/// All counters are plain event or gauge counts; sizes are in bytes and
/// page counts are in device pages, as noted per field.
pub struct Stats {
    /// Total bytes of stored compressed objects (huge pages count a full
    /// page). `mm_stat` column 2.
    pub compr_data_size: AtomicU64,
    /// Read requests served (legacy zram counter, not printed).
    pub num_reads: AtomicU64,
    /// Write requests served (legacy zram counter, not printed).
    pub num_writes: AtomicU64,
    /// Reads that failed. `io_stat` column 1.
    pub failed_reads: AtomicU64,
    /// Writes that failed (e.g. over `mem_limit`). `io_stat` column 2.
    pub failed_writes: AtomicU64,
    /// Out-of-range requests. zram dropped the counter (6.4) and prints a
    /// literal `0` in `io_stat` column 3; kept for the module's own use.
    pub invalid_io: AtomicU64,
    /// Pages freed by swap-free notifications or discard. `io_stat` col 4.
    pub notify_free: AtomicU64,
    /// Swap-free notifications that lost the slot trylock (page not
    /// freed). Second value of `debug_stat`.
    pub miss_free: AtomicU64,
    /// Pages currently stored as a fill word. `mm_stat` column 6.
    pub same_pages: AtomicU64,
    /// Pages currently stored uncompressed. `mm_stat` column 8.
    pub huge_pages: AtomicU64,
    /// Pages stored uncompressed since the device was set up (never
    /// decremented). `mm_stat` column 9.
    pub huge_pages_since: AtomicU64,
    /// Pages currently holding data (same-filled included); `mm_stat`
    /// column 1 is this times the page size.
    pub pages_stored: AtomicU64,
    /// Highest allocator page count seen (zram's `max_used_pages`);
    /// `mm_stat` column 5 is this times the page size.
    pub max_used_pages: AtomicU64,
    /// Allocator pages freed by compaction (zram reads it from zsmalloc's
    /// pool stats; rzram's glue stores the allocator's figure here).
    /// `mm_stat` column 7.
    pub pages_compacted: AtomicU64,
    /// Writes that had to wait for a compression stream. zram removed it
    /// in 6.15 and prints a literal `0` in its `debug_stat` place.
    pub writestall: AtomicU64,
    /// Pages currently on the backing device (writeback). `bd_stat` col 1.
    pub bd_count: AtomicU64,
    /// Pages read back from the backing device. `bd_stat` column 2.
    pub bd_reads: AtomicU64,
    /// Pages written to the backing device. `bd_stat` column 3.
    pub bd_writes: AtomicU64,
}

impl Stats {
    /// All counters zero (also the state after a device reset).
    pub const fn new() -> Self {
        Stats {
            compr_data_size: AtomicU64::new(0),
            num_reads: AtomicU64::new(0),
            num_writes: AtomicU64::new(0),
            failed_reads: AtomicU64::new(0),
            failed_writes: AtomicU64::new(0),
            invalid_io: AtomicU64::new(0),
            notify_free: AtomicU64::new(0),
            miss_free: AtomicU64::new(0),
            same_pages: AtomicU64::new(0),
            huge_pages: AtomicU64::new(0),
            huge_pages_since: AtomicU64::new(0),
            pages_stored: AtomicU64::new(0),
            max_used_pages: AtomicU64::new(0),
            pages_compacted: AtomicU64::new(0),
            writestall: AtomicU64::new(0),
            bd_count: AtomicU64::new(0),
            bd_reads: AtomicU64::new(0),
            bd_writes: AtomicU64::new(0),
        }
    }

    /// Zero every counter, like zram's `memset(&zram->stats, 0, ...)` in
    /// `zram_reset_device()`. Callers must exclude concurrent I/O.
    pub fn reset(&self) {
        for c in self.counters() {
            c.store(0, Ordering::Relaxed);
        }
    }

    /// Every counter, for [`reset`](Self::reset).
    fn counters(&self) -> [&AtomicU64; 18] {
        [
            &self.compr_data_size,
            &self.num_reads,
            &self.num_writes,
            &self.failed_reads,
            &self.failed_writes,
            &self.invalid_io,
            &self.notify_free,
            &self.miss_free,
            &self.same_pages,
            &self.huge_pages,
            &self.huge_pages_since,
            &self.pages_stored,
            &self.max_used_pages,
            &self.pages_compacted,
            &self.writestall,
            &self.bd_count,
            &self.bd_reads,
            &self.bd_writes,
        ]
    }

    /// Add one to `counter` (`atomic64_inc`).
    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Subtract one from `counter` (`atomic64_dec`; wraps like C).
    pub fn dec(counter: &AtomicU64) {
        counter.fetch_sub(1, Ordering::Relaxed);
    }

    /// Add `n` to `counter` (`atomic64_add`; wraps like C).
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Subtract `n` from `counter` (`atomic64_sub`; wraps like C).
    pub fn sub(counter: &AtomicU64, n: u64) {
        counter.fetch_sub(n, Ordering::Relaxed);
    }

    /// Read `counter`.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// Raise `max_used_pages` to `pages` if it is higher, with a
    /// compare-exchange loop like zram's `update_used_max()`.
    pub fn update_max_used(&self, pages: u64) {
        let mut cur = self.max_used_pages.load(Ordering::Relaxed);
        while cur < pages {
            match self.max_used_pages.compare_exchange_weak(
                cur,
                pages,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return,
                Err(actual) => cur = actual,
            }
        }
    }

    /// Set `max_used_pages` unconditionally: zram's `mem_used_max` store
    /// ("0") resets it to the allocator's current page count.
    pub fn set_max_used(&self, pages: u64) {
        self.max_used_pages.store(pages, Ordering::Relaxed);
    }

    /// Write `io_stat`: zram's `"%8llu %8llu 0 %8llu\n"`, i.e.
    /// failed_reads, failed_writes, a literal unpadded `0` where
    /// invalid_io used to be (zram 6.4+), notify_free.
    pub fn write_io_stat<W: fmt::Write>(&self, w: &mut W) -> fmt::Result {
        writeln!(
            w,
            "{:8} {:8} 0 {:8}",
            Self::get(&self.failed_reads),
            Self::get(&self.failed_writes),
            Self::get(&self.notify_free),
        )
    }

    /// Write `mm_stat`: zram's
    /// `"%8llu %8llu %8llu %8lu %8ld %8llu %8lu %8llu %8llu\n"` with
    /// orig_data_size, compr_data_size, mem_used_total, mem_limit,
    /// mem_used_max, same_pages, pages_compacted, huge_pages,
    /// huge_pages_since.
    ///
    /// `mem_used_pages` is the allocator's current page count (0 before
    /// the device is initialised), `mem_limit_pages` the `mem_limit` in
    /// pages (0 = none), `page_size` the bytes per page those counts and
    /// `pages_stored`/`max_used_pages` are in. Byte values wrap like C's
    /// shifts; mem_used_max is printed signed as zram's `%8ld` does.
    pub fn write_mm_stat<W: fmt::Write>(
        &self,
        w: &mut W,
        mem_used_pages: u64,
        mem_limit_pages: u64,
        page_size: u64,
    ) -> fmt::Result {
        let bytes = |pages: u64| pages.wrapping_mul(page_size);
        writeln!(
            w,
            "{:8} {:8} {:8} {:8} {:8} {:8} {:8} {:8} {:8}",
            bytes(Self::get(&self.pages_stored)),
            Self::get(&self.compr_data_size),
            bytes(mem_used_pages),
            bytes(mem_limit_pages),
            bytes(Self::get(&self.max_used_pages)) as i64,
            Self::get(&self.same_pages),
            Self::get(&self.pages_compacted),
            Self::get(&self.huge_pages),
            Self::get(&self.huge_pages_since),
        )
    }

    /// Write `debug_stat`: zram's `"version: %d\n0 %8llu\n"`, the `0`
    /// standing where writestall was (removed in 6.15), then miss_free.
    pub fn write_debug_stat<W: fmt::Write>(&self, w: &mut W) -> fmt::Result {
        write!(
            w,
            "version: {}\n0 {:8}\n",
            DEBUG_STAT_VERSION,
            Self::get(&self.miss_free),
        )
    }

    /// Write `bd_stat`: zram's `"%8llu %8llu %8llu\n"` with bd_count,
    /// bd_reads, bd_writes converted to 4 KiB units (`FOUR_K()`), given
    /// the `page_size` those counters are in.
    pub fn write_bd_stat<W: fmt::Write>(&self, w: &mut W, page_size: u64) -> fmt::Result {
        // FOUR_K(x) = x * (PAGE_SIZE / 4096); 4 KiB is the unit userspace expects.
        let four_k = |pages: u64| pages.wrapping_mul((page_size >> 12).max(1));
        writeln!(
            w,
            "{:8} {:8} {:8}",
            four_k(Self::get(&self.bd_count)),
            four_k(Self::get(&self.bd_reads)),
            four_k(Self::get(&self.bd_writes)),
        )
    }
}

impl Default for Stats {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
// Tests index their own fixtures; a panic there is a failed test.
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use std::string::String;

    /// Device page size used by the tests.
    const PAGE: u64 = 4096;

    fn io(s: &Stats) -> String {
        let mut out = String::new();
        assert!(s.write_io_stat(&mut out).is_ok());
        out
    }

    fn mm(s: &Stats, used: u64, limit: u64) -> String {
        let mut out = String::new();
        assert!(s.write_mm_stat(&mut out, used, limit, PAGE).is_ok());
        out
    }

    fn dbg(s: &Stats) -> String {
        let mut out = String::new();
        assert!(s.write_debug_stat(&mut out).is_ok());
        out
    }

    #[test]
    fn fresh_device_output() {
        let s = Stats::new();
        assert_eq!(io(&s), "       0        0 0        0\n");
        assert_eq!(
            mm(&s, 0, 0),
            "       0        0        0        0        0        0        0        0        0\n"
        );
        assert_eq!(dbg(&s), "version: 1\n0        0\n");
        let mut out = String::new();
        assert!(s.write_bd_stat(&mut out, PAGE).is_ok());
        assert_eq!(out, "       0        0        0\n");
    }

    #[test]
    fn populated_output() {
        let s = Stats::default();
        s.failed_reads.store(3, Ordering::Relaxed);
        s.failed_writes.store(12345678, Ordering::Relaxed);
        s.invalid_io.store(99, Ordering::Relaxed);
        s.notify_free.store(123456789, Ordering::Relaxed);
        assert_eq!(io(&s), "       3 12345678 0 123456789\n");

        s.pages_stored.store(512, Ordering::Relaxed);
        s.compr_data_size.store(628083717, Ordering::Relaxed);
        s.max_used_pages.store(160, Ordering::Relaxed);
        s.same_pages.store(7, Ordering::Relaxed);
        s.pages_compacted.store(2, Ordering::Relaxed);
        s.huge_pages.store(1, Ordering::Relaxed);
        s.huge_pages_since.store(5, Ordering::Relaxed);
        assert_eq!(
            mm(&s, 150, 256),
            " 2097152 628083717   614400  1048576   655360        7        2        1        5\n"
        );

        s.miss_free.store(42, Ordering::Relaxed);
        s.writestall.store(9, Ordering::Relaxed);
        assert_eq!(dbg(&s), "version: 1\n0       42\n");

        s.bd_count.store(1, Ordering::Relaxed);
        s.bd_reads.store(2, Ordering::Relaxed);
        s.bd_writes.store(3, Ordering::Relaxed);
        let mut out = String::new();
        assert!(s.write_bd_stat(&mut out, PAGE).is_ok());
        assert_eq!(out, "       1        2        3\n");
        let mut out = String::new();
        assert!(s.write_bd_stat(&mut out, 16384).is_ok());
        assert_eq!(out, "       4        8       12\n");

        s.reset();
        assert_eq!(io(&s), "       0        0 0        0\n");
        assert_eq!(dbg(&s), "version: 1\n0        0\n");
        assert!(s.counters().iter().all(|c| c.load(Ordering::Relaxed) == 0));
    }

    #[test]
    fn mm_stat_signed_max_used() {
        let s = Stats::new();
        s.max_used_pages.store(1 << 52, Ordering::Relaxed);
        let out = mm(&s, 0, 0);
        assert_eq!(out.split_whitespace().nth(4), Some("0"));
        s.max_used_pages.store(1 << 51, Ordering::Relaxed);
        let out = mm(&s, 0, 0);
        assert_eq!(
            out.split_whitespace().nth(4),
            Some(i64::MIN.to_string().as_str())
        );
    }

    #[test]
    fn page_writer_sink() {
        let s = Stats::new();
        s.notify_free.store(1, Ordering::Relaxed);
        let mut page = [0u8; 4096];
        let mut w = super::super::parse::PageWriter::new(&mut page);
        assert!(s.write_io_stat(&mut w).is_ok());
        assert_eq!(w.as_bytes(), b"       0        0 0        1\n");
        assert_eq!(w.written(), 29);
    }

    #[test]
    fn counter_helpers() {
        let s = Stats::new();
        Stats::inc(&s.num_reads);
        Stats::inc(&s.num_reads);
        Stats::dec(&s.num_reads);
        Stats::add(&s.compr_data_size, 100);
        Stats::sub(&s.compr_data_size, 40);
        assert_eq!(Stats::get(&s.num_reads), 1);
        assert_eq!(Stats::get(&s.compr_data_size), 60);
    }

    #[test]
    fn max_used_only_grows() {
        let s = Stats::new();
        s.update_max_used(10);
        s.update_max_used(5);
        assert_eq!(Stats::get(&s.max_used_pages), 10);
        s.update_max_used(11);
        assert_eq!(Stats::get(&s.max_used_pages), 11);
        s.set_max_used(3);
        assert_eq!(Stats::get(&s.max_used_pages), 3);
    }

    #[test]
    fn max_used_concurrent() {
        let s = Stats::new();
        std::thread::scope(|sc| {
            for t in 0..4u64 {
                let s = &s;
                sc.spawn(move || {
                    for i in 0..10_000u64 {
                        s.update_max_used(i * 4 + t);
                    }
                });
            }
        });
        assert_eq!(Stats::get(&s.max_used_pages), 9_999 * 4 + 3);
    }
}
