// SPDX-License-Identifier: GPL-2.0

//! Why the automatic writeback worker runs, and when it stops: the
//! decisions of `writeback_auto` and `writeback_shrinker`, apart from the
//! I/O they start (the driver's `auto.rs`).
//!
//! Three parties share a [`Demand`], each through its own methods, with no
//! lock (atomics only):
//! - a **writer** whose store grew the pool to HIGH calls
//!   [`Demand::start_pass`]; one that found the pool at `mem_limit` calls it
//!   too, waits for the next batch and asks [`Demand::made_room`] whether to
//!   try again, at most [`ROOM_TRIES`] times ([`Demand::may_wait`]); one
//!   whose wait ran out reports it ([`Demand::wait_timed_out`]);
//! - the **shrinker** asks for pages with [`Demand::shrinker_scan`], which
//!   only records the request (reclaim never waits on the worker) and
//!   answers with what the worker shed since the last scan;
//! - the **worker** asks [`Demand::next_batch`] before each batch and
//!   reports it with [`Demand::batch_done`].
//!
//! A pass runs until the pool is under LOW; a batch that writes nothing
//! (nothing cold, a full backing device, an exhausted `writeback_limit`)
//! ends every demand at once, so that waiting writers fail rather than wait
//! for batches that cannot help. A wait that runs out means the backing
//! device is stuck or far slower than a batch should take: until the
//! worker finishes a batch, writers fail at once instead of waiting in
//! turn. A writer may be the backing device's own server, in reclaim for
//! the memory the batch needs (a network block device served from this
//! machine): each of its swap writes waiting in turn would hold the batch
//! up until the device's own timeout gives up on it.
//!
//! The model test (`demand/tests.rs`) drives a simulated pool with
//! writers, a worker, a disk that fills or hangs and a shrinker, and
//! checks these rules on every step.

use core::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};

use super::watermarks::Watermarks;

/// Batches a writer waits for before its write fails: each must have
/// made progress, so this bounds a pool that keeps refilling, and one
/// whose pages free only once every object in them has gone (zbud's and
/// z3fold's, which cannot compact): 128 batches of 32 pages write back up
/// to 16 MiB.
pub const ROOM_TRIES: usize = 128;

/// Most pages the shrinker's requests may have outstanding: reclaim calls
/// it again and again while memory is short, faster than a disk takes
/// pages; without a cap the worker would write back the whole pool after
/// the pressure is gone. 4096 pages are 16 MiB, a few seconds of disk.
pub const SHED_BACKLOG: usize = 4096;

/// The pool is compacted after a batch once more than 1/COMPACT_WASTE of
/// it is not data (holes and per-page overhead): a quarter, where a pass
/// over the whole pool pays for itself, as writeback takes objects from
/// everywhere in it.
pub const COMPACT_WASTE: u64 = 4;

/// Most batches a compaction that freed nothing delays the next one by
/// (the delay doubles from 1 with each such compaction): a pool whose
/// objects move only within their page (z3fold-style) never frees a page
/// by compacting, yet its pass walks every page. After every batch, that
/// walk made the tiering benchmark's z3fold column 4x slower than zbud's.
/// 64 batches are 8 MiB written back.
pub const COMPACT_BACKOFF_MAX: u32 = 64;

/// The settings a decision reads, as the worker sees them at that moment.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// `writeback_auto`.
    pub auto: bool,
    /// `writeback_shrinker`.
    pub shrinker: bool,
    /// `mem_limit` in pages; 0 is none.
    pub limit: u64,
    /// `writeback_watermarks`.
    pub marks: Watermarks,
}

/// The worker's demand state (see the module's description).
pub struct Demand {
    /// A pass is on: write back until the pool is under LOW.
    draining: AtomicBool,
    /// The last batch wrote nothing: a waiting writer fails.
    stuck: AtomicBool,
    /// A writer's wait for a batch ran out, and no batch has ended since:
    /// a writer fails without waiting.
    late: AtomicBool,
    /// Pages the shrinker asked for that the worker has not written.
    shed_wanted: AtomicUsize,
    /// Pages written for the shrinker since its last scan.
    shed_done: AtomicUsize,
    /// Batches to let pass before the next compaction, and the delay the
    /// next compaction that frees nothing sets (worker only).
    compact_skip: AtomicU32,
    compact_backoff: AtomicU32,
}

impl Default for Demand {
    fn default() -> Self {
        Self::new()
    }
}

impl Demand {
    /// No demand.
    pub const fn new() -> Self {
        Demand {
            draining: AtomicBool::new(false),
            stuck: AtomicBool::new(false),
            late: AtomicBool::new(false),
            shed_wanted: AtomicUsize::new(0),
            shed_done: AtomicUsize::new(0),
            compact_skip: AtomicU32::new(0),
            compact_backoff: AtomicU32::new(0),
        }
    }

    /// `reset`: forgets every demand.
    pub fn reset(&self) {
        self.draining.store(false, Ordering::Relaxed);
        self.stuck.store(false, Ordering::Relaxed);
        self.late.store(false, Ordering::Relaxed);
        self.shed_wanted.store(0, Ordering::Relaxed);
        self.shed_done.store(0, Ordering::Relaxed);
        self.compact_skip.store(0, Ordering::Relaxed);
        self.compact_backoff.store(0, Ordering::Relaxed);
    }

    /// Whether a pool of `used` pages is at HIGH, so that a pass should
    /// start: only with `writeback_auto` and a limit.
    pub fn over_high(set: &Settings, used: u64) -> bool {
        set.auto && set.limit != 0 && used >= set.marks.pages(set.limit).0
    }

    /// A store reached HIGH, or a writer found the pool full: a pass runs
    /// (the caller then kicks the worker).
    pub fn start_pass(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    /// A writer found the pool full and has waited `*tries` batches: whether
    /// it may wait for one more (and counts it). Not while an earlier wait
    /// has run out and no batch has ended since; the writer still starts a
    /// pass, whose next batch ends that.
    pub fn may_wait(&self, set: &Settings, tries: &mut usize) -> bool {
        if !set.auto || *tries >= ROOM_TRIES || self.late.load(Ordering::Relaxed) {
            return false;
        }
        *tries += 1;
        true
    }

    /// A writer's wait for a batch ran out: writers fail at once until a
    /// batch ends.
    pub fn wait_timed_out(&self) {
        self.late.store(true, Ordering::Relaxed);
    }

    /// After the batch a writer waited for: whether it made room, so that
    /// the writer tries its store again.
    pub fn made_room(&self) -> bool {
        !self.stuck.load(Ordering::Relaxed)
    }

    /// Before a batch, with the pool at `used` pages: `None` if none is
    /// wanted (what is no longer wanted is dropped: a pass under LOW or
    /// with `writeback_auto` off, a shed request with the shrinker off);
    /// otherwise the pages the shrinker still wants (0 for a pass alone).
    /// A pass that ends under LOW clears a failed batch's mark: there is
    /// room.
    pub fn next_batch(&self, set: &Settings, used: u64) -> Option<usize> {
        let mut wanted = false;
        if self.draining.load(Ordering::Relaxed) {
            let (_, low) = set.marks.pages(set.limit);
            if set.auto && set.limit != 0 && used > low {
                wanted = true;
            } else {
                self.draining.store(false, Ordering::Relaxed);
                if set.auto && set.limit != 0 {
                    // Under LOW there is room, whatever the last batch did:
                    // a writer waiting on a stale failure tries again.
                    self.stuck.store(false, Ordering::Relaxed);
                    self.late.store(false, Ordering::Relaxed);
                }
            }
        }
        let shed = self.shed_wanted.load(Ordering::Relaxed);
        if shed > 0 && set.shrinker {
            wanted = true;
        } else {
            self.shed_wanted.store(0, Ordering::Relaxed);
        }
        wanted.then_some(if set.shrinker { shed } else { 0 })
    }

    /// The batch could not even start (no request could be made): as one
    /// that wrote nothing.
    pub fn batch_failed(&self) {
        self.batch_done(0, 0);
    }

    /// The batch [`next_batch`](Self::next_batch) asked for wrote `written`
    /// pages, `shed` being what it answered. Whether the worker carries on:
    /// not after a batch that wrote nothing, which ends every demand. Either
    /// way the worker answered: writers wait for batches again.
    pub fn batch_done(&self, written: u64, shed: usize) -> bool {
        let stuck = written == 0;
        self.stuck.store(stuck, Ordering::Relaxed);
        self.late.store(false, Ordering::Relaxed);
        if stuck {
            self.draining.store(false, Ordering::Relaxed);
            self.shed_wanted.store(0, Ordering::Relaxed);
            return false;
        }
        let took = usize::try_from(written).unwrap_or(usize::MAX).min(shed);
        if took > 0 {
            let _ = self
                .shed_wanted
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |w| {
                    Some(w.saturating_sub(took))
                });
            self.shed_done.fetch_add(took, Ordering::Relaxed);
        }
        true
    }

    /// The shrinker asks for `nr` pages (the caller kicks the worker); the
    /// pending request is capped at [`SHED_BACKLOG`]. Answers with the pages
    /// shed since the last scan, at most `nr`.
    pub fn shrinker_scan(&self, nr: usize) -> usize {
        let _ = self
            .shed_wanted
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |w| {
                Some(w.saturating_add(nr).min(SHED_BACKLOG))
            });
        self.shed_done.swap(0, Ordering::Relaxed).min(nr)
    }

    /// After a batch, with a pool of `pool_bytes` holding `data` bytes of
    /// objects: whether to compact it now. Yes once more than
    /// 1/[`COMPACT_WASTE`] of it is not data, unless a compaction that freed
    /// nothing asked for a delay that has not run out (each call counts one
    /// batch of it).
    pub fn should_compact(&self, pool_bytes: u64, data: u64) -> bool {
        if pool_bytes.saturating_sub(data) <= pool_bytes / COMPACT_WASTE {
            return false;
        }
        let skip = self.compact_skip.load(Ordering::Relaxed);
        if skip > 0 {
            self.compact_skip.store(skip - 1, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// The compaction [`should_compact`](Self::should_compact) asked for
    /// freed `freed` pages: one that freed none delays the next by twice
    /// the last delay (1 at first, at most [`COMPACT_BACKOFF_MAX`]); one
    /// that freed some ends the delays.
    pub fn compacted(&self, freed: usize) {
        let backoff = if freed > 0 {
            0
        } else {
            let last = self.compact_backoff.load(Ordering::Relaxed);
            last.saturating_mul(2).clamp(1, COMPACT_BACKOFF_MAX)
        };
        self.compact_backoff.store(backoff, Ordering::Relaxed);
        self.compact_skip.store(backoff, Ordering::Relaxed);
    }

    /// Pages the shrinker still wants (for tests and statistics).
    pub fn shed_pending(&self) -> usize {
        self.shed_wanted.load(Ordering::Relaxed)
    }

    /// Whether a pass is on.
    pub fn draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests;
