// SPDX-License-Identifier: GPL-2.0

//! Automatic tiering, rzram's own: `writeback_auto`, `writeback_watermarks`,
//! `writeback_shrinker`, `writeback_huge`.
//!
//! - Recency: with a backing device the store keeps an LRU of the slots
//!   that hold an object in memory (`portable/lru.rs`), updated under the
//!   slot lock on every store, read and free.
//! - The worker (`glue/tier.rs`) writes back the coldest of them in
//!   batches, through the same path as `writeback` (`writeback.rs`), under
//!   the settings lock, which it drops between batches. It runs when the
//!   pool reaches HIGH % of `mem_limit` and stops under LOW %; when a write
//!   finds the pool at the limit (the writer waits, boundedly, for the next
//!   batch and tries again); and when the shrinker asks it to shed pages.
//! - The shrinker only records the request and kicks the worker, so
//!   reclaim never waits on rzram, and answers with what the worker shed
//!   since the last scan. It does nothing for an allocation that may not do
//!   I/O (`tier.c`), so reclaim never recurses into our own writeback.
//! - A page that would be stored uncompressed goes straight to the backing
//!   device with `writeback_huge` (`rw.rs`).
//!
//! The decisions (when a pass starts and ends, when a waiting writer gives
//! up, what the shrinker is told) are `portable/demand.rs`, host-tested
//! with a model; this file does the I/O they ask for.

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use kernel::{prelude::*, sync::Mutex};

use super::{
    device::Store,
    writeback::{Pending, Run, MAX_BATCH},
    Device,
};
use crate::{
    allocators::PAGE_SIZE,
    glue::{
        backing::{Backing, BatchPages},
        tier::{TierOwner, TierRef},
    },
    portable::{
        demand::{Demand, Settings},
        parse,
        stats::Stats,
        watermarks::Watermarks,
    },
};

/// Pages one batch of the worker carries: as many as zram's default
/// `writeback_batch_size`, so that a writer waiting for room waits for
/// 128 KiB of I/O, not for a whole pass.
const AUTO_BATCH: usize = 32;
const _: () = assert!(AUTO_BATCH <= MAX_BATCH);

/// Batches per kick before the worker requeues itself: the settings lock
/// is dropped between batches anyway; this also lets other devices' work
/// and a `reset` in.
const ROUNDS_PER_RUN: usize = 64;

/// How long a writer waits for one batch to make room, in milliseconds:
/// long enough for a slow backing device (a network block device) to
/// take a batch, short enough that a stuck one fails the write soon. A
/// wait that runs out makes the writers after it fail at once until a
/// batch ends ([`Demand::wait_timed_out`]).
const ROOM_WAIT_MS: u32 = 2000;

/// The worker's request pages and list, allocated at `disksize`: the
/// worker runs when memory is short and must not wait for an allocation
/// that waits for it.
pub(crate) struct AutoBuffers {
    pages: BatchPages,
    pending: KVec<Pending>,
}

/// A device's [`AutoBuffers`], behind their own lock (only the worker
/// takes it, under the settings lock).
pub(crate) type AutoBuffersLock = Pin<KBox<Mutex<AutoBuffers>>>;

/// The worker's buffers for writes to `backing`.
pub(crate) fn new_buffers(backing: &Backing) -> Result<AutoBuffersLock> {
    let pages = backing.batch_pages(AUTO_BATCH as u32)?;
    let pending = KVec::with_capacity(AUTO_BATCH, GFP_KERNEL)?;
    KBox::pin_init(
        kernel::new_mutex!(AutoBuffers { pages, pending }, "rzram_auto_buffers"),
        GFP_KERNEL,
    )
}

/// The automatic tiering settings and the worker's state.
pub(crate) struct AutoSettings {
    /// `writeback_auto`.
    pub(crate) enabled: AtomicBool,
    /// `writeback_shrinker`.
    pub(crate) shrinker: AtomicBool,
    /// `writeback_huge`.
    pub(crate) huge: AtomicBool,
    /// `swap_readahead`: the disk is not synchronous (read at `disksize`).
    pub(crate) readahead: AtomicBool,
    /// `writeback_watermarks`, packed ([`Watermarks::pack`]).
    marks: AtomicU32,
    /// Why the worker runs: a pass, the shrinker's requests, a failed batch.
    demand: Demand,
}

impl AutoSettings {
    pub(crate) fn new() -> Self {
        AutoSettings {
            enabled: AtomicBool::new(false),
            shrinker: AtomicBool::new(false),
            huge: AtomicBool::new(false),
            readahead: AtomicBool::new(false),
            marks: AtomicU32::new(Watermarks::DEFAULT.pack()),
            demand: Demand::new(),
        }
    }

    /// `reset`: the backing device is gone, so the switches that need it
    /// go off, and so does `swap_readahead`; the watermarks stay, as zram
    /// keeps its writeback settings.
    pub(crate) fn reset(&self) {
        self.enabled.store(false, Ordering::Relaxed);
        self.shrinker.store(false, Ordering::Relaxed);
        self.huge.store(false, Ordering::Relaxed);
        self.readahead.store(false, Ordering::Relaxed);
        self.demand.reset();
    }

    pub(crate) fn watermarks(&self) -> Watermarks {
        Watermarks::unpack(self.marks.load(Ordering::Relaxed))
    }
}

impl Device {
    /// A switch that needs `backing_dev`: `EINVAL` for a bad boolean,
    /// `ENODEV` to turn it on without a backing device (opened, or in use
    /// by the store). Under the settings lock, so that a `reset` turns it
    /// off either after or before.
    fn set_switch(&self, switch: &AtomicBool, input: &[u8]) -> Result {
        let on = parse::parse_bool(input).map_err(|_| EINVAL)?;
        self.with_config(|c, s| {
            let backing = c.backing.is_some() || s.is_some_and(|s| s.backing.is_some());
            if on && !backing {
                return Err(ENODEV);
            }
            switch.store(on, Ordering::Relaxed);
            Ok(())
        })
    }

    /// `writeback_auto` store; turning it on starts a pass if the pool is
    /// already over HIGH.
    pub(crate) fn set_wb_auto(&self, input: &[u8]) -> Result {
        self.set_switch(&self.auto.enabled, input)?;
        self.with_store(|s| {
            if let Some(s) = s {
                self.check_high(s, s.pool.total_pages() as u64);
            }
        });
        Ok(())
    }

    /// `swap_readahead` store: before `disksize` only (`EBUSY` after), which
    /// applies it; swap reads it at `swapon`.
    pub(crate) fn set_swap_readahead(&self, input: &[u8]) -> Result {
        let on = parse::parse_bool(input).map_err(|_| EINVAL)?;
        self.configure(|_| {
            self.auto.readahead.store(on, Ordering::Relaxed);
            Ok(())
        })
    }

    /// `writeback_shrinker` store.
    pub(crate) fn set_wb_shrinker(&self, input: &[u8]) -> Result {
        self.set_switch(&self.auto.shrinker, input)
    }

    /// `writeback_huge` store.
    pub(crate) fn set_wb_huge(&self, input: &[u8]) -> Result {
        self.set_switch(&self.auto.huge, input)
    }

    /// `writeback_watermarks` store: `HIGH LOW`.
    pub(crate) fn set_wb_watermarks(&self, input: &[u8]) -> Result {
        let w = Watermarks::parse(input).map_err(|_| EINVAL)?;
        self.auto.marks.store(w.pack(), Ordering::Relaxed);
        Ok(())
    }

    /// The settings the worker's decisions read, as they are now.
    fn demand_settings(&self) -> Settings {
        Settings {
            auto: self.auto.enabled.load(Ordering::Relaxed),
            shrinker: self.auto.shrinker.load(Ordering::Relaxed),
            limit: self.mem_limit_pages(),
            marks: self.auto.watermarks(),
        }
    }

    /// After a store grew the pool to `used` pages: with `writeback_auto`,
    /// reaching HIGH starts a pass.
    pub(super) fn check_high(&self, s: &Store, used: u64) {
        // Every store comes here: with `writeback_auto` off (the default)
        // one load answers, before the settings are gathered.
        if !self.auto.enabled.load(Ordering::Relaxed) {
            return;
        }
        if Demand::over_high(&self.demand_settings(), used) {
            if let Some(t) = &s.tier {
                self.auto.demand.start_pass();
                t.handle().kick();
            }
        }
    }

    /// A write found the pool full: with `writeback_auto`, starts a pass and
    /// waits for the worker's next batch. Whether to try again: not if the
    /// worker could not make room or did not answer in time, nor while an
    /// earlier wait has run out. Called with no lock held.
    pub(super) fn make_room(&self, s: &Store, tries: &mut usize) -> bool {
        let Some(t) = &s.tier else {
            return false;
        };
        let set = self.demand_settings();
        if !set.auto {
            return false;
        }
        let wait = self.auto.demand.may_wait(&set, tries);
        let t = t.handle();
        // The generation before the kick: a batch that ends in between
        // counts.
        let gen = t.gen();
        self.auto.demand.start_pass();
        t.kick();
        if !wait {
            return false;
        }
        if !t.wait(gen, ROOM_WAIT_MS) {
            self.auto.demand.wait_timed_out();
            return false;
        }
        self.auto.demand.made_room()
    }

    /// One batch of the worker; whether more is wanted.
    fn auto_round(&self, s: &Store) -> bool {
        let (Some(backing), Some(lru), Some(bufs)) = (&s.backing, &s.lru, &s.auto_bufs) else {
            return false;
        };
        let used = s.pool.total_pages() as u64;
        let Some(shed) = self.auto.demand.next_batch(&self.demand_settings(), used) else {
            return false;
        };
        let mut bufs = bufs.lock();
        let AutoBuffers { pages, pending } = &mut *bufs;
        let batch = pages.attach(backing);
        let mut cold = [0usize; AUTO_BATCH];
        let n = (batch.len() as usize).min(AUTO_BATCH);
        let n = match cold.get_mut(..n) {
            Some(out) => lru.lock().rotate_coldest(out),
            None => 0,
        };
        let before = Stats::get(&self.stats.bd_writes);
        let Ok(mut run) = Run::new(s, backing, batch, pending) else {
            self.auto.demand.batch_failed();
            return false;
        };
        for &index in cold.iter().take(n) {
            self.queue(&mut run, index, 0);
            if run.stopped() {
                break;
            }
        }
        self.flush(&mut run);
        let written = Stats::get(&self.stats.bd_writes).saturating_sub(before);
        // Nothing cold, a full device or an exhausted limit: a writer
        // waiting for room fails rather than waits again.
        if !self.auto.demand.batch_done(written, shed) {
            return false;
        }
        // Freed objects free pool pages only once their page empties:
        // compaction turns the holes writeback leaves into room, once they
        // are a good part of the pool (it walks the whole pool).
        let pool_bytes = (s.pool.total_pages() as u64).saturating_mul(PAGE_SIZE as u64);
        let data = Stats::get(&self.stats.compr_data_size);
        if self.auto.demand.should_compact(pool_bytes, data) {
            let freed = s.pool.compact();
            self.auto.demand.compacted(freed);
            Stats::add(&self.stats.pages_compacted, freed as u64);
        }
        true
    }
}

impl TierOwner for Device {
    fn run(&self, tier: TierRef<'_>) {
        for _ in 0..ROUNDS_PER_RUN {
            let more = self.with_store(|s| s.is_some_and(|s| self.auto_round(s)));
            tier.progress();
            if !more {
                return;
            }
        }
        // More is wanted: carry on in a fresh run.
        tier.kick();
    }

    fn count(&self) -> usize {
        if !self.auto.shrinker.load(Ordering::Relaxed) {
            return 0;
        }
        // Objects in memory: stored pages less same-filled and written ones.
        let st = &self.stats;
        let n = Stats::get(&st.pages_stored)
            .saturating_sub(Stats::get(&st.same_pages))
            .saturating_sub(Stats::get(&st.bd_count));
        usize::try_from(n).unwrap_or(usize::MAX)
    }

    fn scan(&self, tier: TierRef<'_>, nr: usize) -> Option<usize> {
        if !self.auto.shrinker.load(Ordering::Relaxed) {
            return None;
        }
        let shed = self.auto.demand.shrinker_scan(nr);
        tier.kick();
        Some(shed)
    }
}
