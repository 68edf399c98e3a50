// SPDX-License-Identifier: GPL-2.0

//! Tests of the worker's demand: unit cases, and a model of a pool under
//! `mem_limit` with writers, the worker, a backing disk that fills, frees
//! and the shrinker, checked on every step.

use super::*;
use crate::portable::test_rng::XorShift;

fn set(auto: bool, shrinker: bool, limit: u64) -> Settings {
    Settings {
        auto,
        shrinker,
        limit,
        marks: Watermarks::DEFAULT,
    }
}

#[test]
fn a_pass_runs_until_under_low() {
    let d = Demand::new();
    let s = set(true, false, 100);
    // 90 75: HIGH 90 pages, LOW 75.
    assert!(!Demand::over_high(&s, 89));
    assert!(Demand::over_high(&s, 90));
    assert!(!Demand::over_high(&set(false, false, 100), 100));
    assert!(!Demand::over_high(&set(true, false, 0), 100));
    assert_eq!(d.next_batch(&s, 95), None, "no pass before one starts");
    d.start_pass();
    assert_eq!(d.next_batch(&s, 95), Some(0));
    assert!(d.batch_done(10, 0));
    assert_eq!(d.next_batch(&s, 76), Some(0));
    assert!(d.batch_done(1, 0));
    assert_eq!(d.next_batch(&s, 75), None, "at LOW the pass ends");
    assert!(!d.draining());
    assert_eq!(d.next_batch(&s, 95), None);
}

#[test]
fn a_batch_that_writes_nothing_ends_every_demand() {
    let d = Demand::new();
    let s = set(true, true, 100);
    d.start_pass();
    assert_eq!(d.shrinker_scan(50), 0);
    assert_eq!(d.next_batch(&s, 100), Some(50));
    assert!(d.made_room());
    assert!(!d.batch_done(0, 50));
    assert!(!d.made_room());
    assert!(!d.draining());
    assert_eq!(d.shed_pending(), 0);
    assert_eq!(d.next_batch(&s, 100), None);
    // The next batch that writes clears it.
    d.start_pass();
    assert_eq!(d.next_batch(&s, 100), Some(0));
    assert!(d.batch_done(3, 0));
    assert!(d.made_room());
    d.batch_failed();
    assert!(!d.made_room());
}

#[test]
fn turning_a_switch_off_drops_its_demand() {
    let d = Demand::new();
    d.start_pass();
    assert_eq!(d.next_batch(&set(false, false, 100), 100), None);
    assert!(!d.draining());
    d.start_pass();
    assert_eq!(d.next_batch(&set(true, false, 0), 100), None, "no limit");
    assert_eq!(d.shrinker_scan(10), 0);
    assert_eq!(d.next_batch(&set(false, false, 100), 0), None);
    assert_eq!(d.shed_pending(), 0);
}

#[test]
fn the_shrinker_is_answered_with_what_was_shed_for_it() {
    let d = Demand::new();
    let s = set(false, true, 0);
    assert_eq!(d.shrinker_scan(100), 0);
    assert_eq!(d.next_batch(&s, 10), Some(100));
    assert!(d.batch_done(32, 100));
    assert_eq!(d.shed_pending(), 68);
    // At most what is asked now; the rest is not carried over.
    assert_eq!(d.shrinker_scan(10), 10);
    assert_eq!(d.shed_pending(), 78);
    assert_eq!(d.shrinker_scan(10), 0);
    // The backlog is capped.
    assert_eq!(d.shrinker_scan(usize::MAX), 0);
    assert_eq!(d.shed_pending(), SHED_BACKLOG);
    d.reset();
    assert_eq!(d.shed_pending(), 0);
    assert!(d.made_room());
}

#[test]
fn a_writer_waits_a_bounded_number_of_batches() {
    let d = Demand::new();
    let s = set(true, false, 100);
    let mut tries = 0;
    let mut waits = 0;
    while d.may_wait(&s, &mut tries) {
        waits += 1;
        assert!(waits <= ROOM_TRIES);
    }
    assert_eq!(waits, ROOM_TRIES);
    let mut tries = 0;
    assert!(!d.may_wait(&set(false, false, 100), &mut tries));
    assert_eq!(tries, 0);
}

#[test]
fn after_a_wait_runs_out_writers_fail_until_a_batch_ends() {
    let d = Demand::new();
    let s = set(true, false, 100);
    let mut tries = 0;
    assert!(d.may_wait(&s, &mut tries));
    d.wait_timed_out();
    let mut other = 0;
    assert!(
        !d.may_wait(&s, &mut other),
        "a writer waits after a wait ran out"
    );
    assert_eq!(other, 0);
    // A batch that ends, whatever it wrote, lifts it.
    assert!(d.batch_done(5, 0));
    assert!(d.may_wait(&s, &mut other));
    d.wait_timed_out();
    d.batch_failed();
    assert!(d.may_wait(&s, &mut other));
    // So does a pass that ends under LOW (there is room), and reset.
    d.wait_timed_out();
    d.start_pass();
    assert_eq!(d.next_batch(&s, 10), None);
    assert!(d.may_wait(&s, &mut other));
    d.wait_timed_out();
    d.reset();
    assert!(d.may_wait(&s, &mut other));
}

#[test]
fn compaction_that_frees_nothing_backs_off() {
    let d = Demand::new();
    // A quarter of the pool is not data: no compaction; more: compaction.
    assert!(!d.should_compact(400, 300));
    assert!(!d.should_compact(0, 0));
    assert!(d.should_compact(400, 299));
    assert!(d.should_compact(400, 0));
    // Freeing nothing doubles the delay: 1, 2, 4, ... batches skipped.
    let mut skipped = Vec::new();
    for _ in 0..9 {
        d.compacted(0);
        let mut n = 0;
        while !d.should_compact(400, 0) {
            n += 1;
            assert!(n <= COMPACT_BACKOFF_MAX);
        }
        skipped.push(n);
    }
    assert_eq!(skipped, [1, 2, 4, 8, 16, 32, 64, 64, 64]);
    // A batch without waste does not count down the delay.
    d.compacted(0);
    assert!(!d.should_compact(400, 400));
    assert!(!d.should_compact(400, 0));
    // Freeing pages ends the delays; so does reset.
    d.compacted(3);
    assert!(d.should_compact(400, 0));
    d.compacted(0);
    d.reset();
    assert!(d.should_compact(400, 0));
}

/// A pool of objects four to a page, its limit, a backing disk, and what
/// the shrinker was given and told.
struct Model {
    demand: Demand,
    set: Settings,
    /// Objects in memory.
    resident: u64,
    /// Objects on the backing disk.
    written: u64,
    /// Blocks of the backing disk.
    disk: u64,
    /// Pages written for the shrinker and not yet reported to it.
    shed_unreported: usize,
    /// The disk does not answer: a batch started stays in flight.
    hung: bool,
    /// A writer's wait ran out and no batch has ended since.
    late: bool,
}

/// Objects per pool page.
const PER_PAGE: u64 = 4;
/// Pages one batch writes at most, as the driver's worker.
const BATCH: u64 = 32;
/// Batches per worker run before it requeues itself, as the driver's.
const ROUNDS: usize = 64;

impl Model {
    fn used(&self) -> u64 {
        self.resident.div_ceil(PER_PAGE)
    }

    /// One batch if one is wanted: the coldest objects go to the disk while
    /// it has blocks. Whether the worker carries on.
    fn batch(&mut self) -> bool {
        if self.hung {
            return false;
        }
        let pass = self.demand.draining();
        let Some(shed) = self.demand.next_batch(&self.set, self.used()) else {
            // A pass ends only under LOW, or with its switch or limit gone;
            // then nothing is left of it, and a writer may try again.
            assert!(!self.demand.draining());
            if pass {
                let (_, low) = self.set.marks.pages(self.set.limit);
                assert!(
                    !self.set.auto || self.set.limit == 0 || self.used() <= low,
                    "a pass ended over LOW: {} > {low}",
                    self.used()
                );
                if self.set.auto && self.set.limit != 0 {
                    assert!(self.demand.made_room());
                    self.late = false;
                }
            }
            if !self.set.shrinker {
                assert_eq!(self.demand.shed_pending(), 0);
            }
            return false;
        };
        assert!(shed <= SHED_BACKLOG);
        assert!(shed == 0 || self.set.shrinker);
        let n = BATCH.min(self.resident).min(self.disk - self.written);
        self.resident -= n;
        self.written += n;
        let more = self.demand.batch_done(n, shed);
        self.late = false;
        if self.set.shrinker {
            self.shed_unreported += (n as usize).min(shed);
        }
        assert_eq!(more, n > 0);
        assert_eq!(self.demand.made_room(), n > 0);
        if n == 0 {
            // A failed batch ends every demand.
            assert!(!self.demand.draining());
            assert_eq!(self.demand.shed_pending(), 0);
        }
        more
    }

    /// The worker's run after a kick: until nothing is wanted, or the
    /// requeue bound.
    fn run(&mut self) {
        for _ in 0..ROUNDS {
            if !self.batch() {
                return;
            }
        }
    }

    /// A writer stores one object, making room as the driver's writer
    /// does: a failed store is only one no batch could help.
    fn store(&mut self) {
        let mut tries = 0;
        loop {
            let fits =
                self.set.limit == 0 || (self.resident + 1).div_ceil(PER_PAGE) <= self.set.limit;
            if fits {
                self.resident += 1;
                if Demand::over_high(&self.set, self.used()) {
                    self.demand.start_pass();
                    self.run();
                }
                return;
            }
            let wait = self.demand.may_wait(&self.set, &mut tries);
            if self.set.auto {
                self.demand.start_pass();
            }
            if !wait {
                assert!(
                    !self.set.auto || self.late,
                    "a writer gave up after {tries} batches"
                );
                // The pass it started ends the failures: its next batch.
                assert!(!self.set.auto || self.demand.draining());
                return;
            }
            if self.hung {
                self.demand.wait_timed_out();
                self.late = true;
                return;
            }
            self.batch();
            if !self.demand.made_room() {
                assert!(
                    self.written == self.disk || self.resident == 0,
                    "a writer failed with room on the disk and objects in memory"
                );
                return;
            }
        }
    }

    /// Objects leave: the swapped-out pages of an exiting task.
    fn free(&mut self, n: u64, from_disk: bool) {
        if from_disk {
            self.written -= n.min(self.written);
        } else {
            self.resident -= n.min(self.resident);
        }
    }

    fn scan(&mut self, nr: usize) {
        let got = self.demand.shrinker_scan(nr);
        assert!(got <= nr);
        assert!(
            got <= self.shed_unreported,
            "reported {got}, shed {}",
            self.shed_unreported
        );
        // What was shed beyond `nr` is not reported later.
        self.shed_unreported = 0;
        assert!(self.demand.shed_pending() <= SHED_BACKLOG);
    }
}

#[test]
fn model_pool_with_writers_worker_disk_and_shrinker() {
    for seed in 1..=200u64 {
        let mut rng = XorShift::new(seed);
        let mut m = Model {
            demand: Demand::new(),
            set: set(true, false, 64 + rng.below(256) as u64),
            resident: 0,
            written: 0,
            disk: 256 + rng.below(4096) as u64,
            shed_unreported: 0,
            hung: false,
            late: false,
        };
        for _ in 0..3000 {
            match rng.below(100) {
                0..=59 => m.store(),
                60..=69 => m.free(rng.below(64) as u64, rng.below(2) == 0),
                70..=79 => m.run(),
                80..=86 => m.scan(rng.below(512)),
                87..=89 => m.set.shrinker = !m.set.shrinker,
                90..=91 => m.set.auto = !m.set.auto,
                92..=93 => {
                    m.set.limit = match rng.below(3) {
                        0 => 0,
                        1 => 32,
                        _ => 64 + rng.below(512) as u64,
                    };
                }
                94 => {
                    let high = 2 + rng.below(99) as u32;
                    let low = 1 + rng.below(high as usize - 1) as u32;
                    m.set.marks = Watermarks::new(high, low).unwrap();
                }
                95 => {
                    m.demand.reset();
                    m.resident = 0;
                    m.written = 0;
                    m.shed_unreported = 0;
                    m.late = false;
                }
                96 => m.hung = !m.hung,
                _ => m.disk += rng.below(64) as u64,
            }
            assert!(m.written <= m.disk);
            assert!(m.demand.shed_pending() <= SHED_BACKLOG);
        }
        // Whatever is left, a last run ends every demand or sticks.
        m.hung = false;
        m.demand.start_pass();
        m.run();
        m.run();
        assert!(!m.demand.draining() || !m.demand.made_room(), "seed {seed}");
    }
}
