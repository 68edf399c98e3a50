// SPDX-License-Identifier: GPL-2.0

//! Unit tests of the slot and its lock.

use super::*;
use std::thread;

#[test]
fn zeroed_is_empty_and_unlocked() {
    let s = Slot::new();
    assert!(!s.is_locked());
    let g = s.lock(&Spin);
    assert!(s.is_locked());
    assert_eq!(g.content(), SlotContent::Empty);
    assert!(g.is_empty());
    drop(g);
    assert!(!s.is_locked());
    // Slot::new() is the same as all-zero memory.
    assert_eq!(s.handle.load(Ordering::Relaxed), 0);
    assert_eq!(s.flags.load(Ordering::Relaxed), 0);
}

#[test]
fn same_content() {
    let s = Slot::default();
    let mut g = s.lock(&Spin);
    assert_eq!(g.set(SlotContent::Same(0)), Ok(()));
    assert_eq!(g.content(), SlotContent::Same(0));
    assert!(!g.is_empty());
    assert_eq!(g.set(SlotContent::Same(usize::MAX)), Ok(()));
    assert_eq!(g.content(), SlotContent::Same(usize::MAX));
    drop(g);
    let mut g = s.lock(&Spin);
    assert_eq!(g.take(), SlotContent::Same(usize::MAX));
    assert_eq!(g.content(), SlotContent::Empty);
    assert_eq!(g.raw_flags(), FLAG_LOCK);
}

#[test]
fn stored_content_and_size_bits() {
    let s = Slot::new();
    let mut g = s.lock(&Spin);
    for size in [0, 1, 100, 2048, 4095, 4096] {
        for huge in [false, true] {
            let c = SlotContent::Stored {
                handle: 0xabcd_0000 + size,
                size,
                huge,
            };
            assert_eq!(g.set(c), Ok(()));
            assert_eq!(g.content(), c);
            assert_eq!(g.raw_flags() & SIZE_MASK, size);
            assert!(g.raw_flags() & FLAG_LOCK != 0);
        }
    }
    let before = g.content();
    let bad = SlotContent::Stored {
        handle: 1,
        size: 4097,
        huge: false,
    };
    assert_eq!(g.set(bad), Err(EINVAL));
    assert_eq!(g.replace(bad), Err(EINVAL));
    assert_eq!(g.content(), before);
    let old = g.replace(SlotContent::Same(3));
    assert!(old.is_ok());
    let old = old.unwrap_or(SlotContent::Empty);
    assert_eq!(old, before);
    assert_eq!(g.take(), SlotContent::Same(3));
    assert_eq!(g.take(), SlotContent::Empty);
    drop(g);
    assert!(!s.is_locked());
    assert_eq!(s.flags.load(Ordering::Relaxed), 0);
    assert_eq!(s.handle.load(Ordering::Relaxed), 0);
}

#[test]
fn handle_zero_stored_is_not_empty() {
    let s = Slot::new();
    let mut g = s.lock(&Spin);
    let c = SlotContent::Stored {
        handle: 0,
        size: 0,
        huge: false,
    };
    assert_eq!(g.set(c), Ok(()));
    assert_eq!(g.content(), c);
    assert!(!g.is_empty());
}

#[test]
fn aux_flags() {
    let s = Slot::new();
    let mut g = s.lock(&Spin);
    let stored = SlotContent::Stored {
        handle: 7,
        size: 300,
        huge: false,
    };
    assert_eq!(g.set(stored), Ok(()));
    assert!(!g.test_flag(FLAG_IDLE));
    g.set_flag(FLAG_IDLE);
    assert!(g.test_flag(FLAG_IDLE));
    assert!(!g.test_flag(FLAG_IDLE | FLAG_INCOMPRESSIBLE));
    // Non-aux bits are ignored.
    g.set_flag(FLAG_SAME | SIZE_MASK);
    g.clear_flag(FLAG_LOCK | FLAG_STORED);
    assert!(!g.test_flag(FLAG_SAME));
    assert!(!g.test_flag(0));
    assert_eq!(
        g.content(),
        SlotContent::Stored {
            handle: 7,
            size: 300,
            huge: false
        }
    );
    drop(g);
    // Flags survive an unlock/lock cycle.
    let mut g = s.lock(&Spin);
    assert!(g.test_flag(FLAG_IDLE));
    g.set_flag(FLAG_INCOMPRESSIBLE);
    g.clear_flag(FLAG_IDLE);
    assert!(!g.test_flag(FLAG_IDLE));
    assert!(g.test_flag(FLAG_INCOMPRESSIBLE));
    // A new write clears them, like zram's slot_free().
    assert_eq!(g.set(SlotContent::Same(1)), Ok(()));
    assert!(!g.test_flag(FLAG_INCOMPRESSIBLE));
    g.set_flag(FLAG_IDLE);
    g.take();
    assert!(!g.test_flag(FLAG_IDLE));
}

#[test]
fn try_lock_contends() {
    let s = Slot::new();
    let g = s.try_lock(&Spin);
    assert!(g.is_some(), "a free slot locks");
    assert!(s.try_lock(&Spin).is_none());
    assert!(s.is_locked());
    drop(g);
    assert!(s.try_lock(&Spin).is_some());
    assert!(!s.is_locked());
}

/// Yields while it waits, counts waits and the lock-debugging hooks.
#[derive(Default)]
struct Counting {
    waits: AtomicUsize,
    acquires: AtomicUsize,
    try_acquires: AtomicUsize,
    acquired: AtomicUsize,
    releases: AtomicUsize,
    wakes: AtomicUsize,
}

impl SlotWaiter for Counting {
    fn wait(&self, _flags: &AtomicUsize) {
        self.waits.fetch_add(1, Ordering::Relaxed);
        std::thread::yield_now();
    }
    fn wake(&self, flags: &AtomicUsize) {
        assert_eq!(
            flags.load(Ordering::Relaxed) & FLAG_LOCK,
            0,
            "woken while locked"
        );
        self.wakes.fetch_add(1, Ordering::Relaxed);
    }
    fn acquire(&self, try_lock: bool) {
        let n = if try_lock {
            &self.try_acquires
        } else {
            &self.acquires
        };
        n.fetch_add(1, Ordering::Relaxed);
    }
    fn acquired(&self) {
        self.acquired.fetch_add(1, Ordering::Relaxed);
    }
    fn release(&self) {
        self.releases.fetch_add(1, Ordering::Relaxed);
    }
}

#[test]
fn lock_waits_for_holder() {
    let s = Slot::new();
    let w = Counting::default();
    thread::scope(|sc| {
        let g = s.lock(&w);
        sc.spawn(|| {
            let mut g2 = s.lock(&w);
            assert_eq!(g2.content(), SlotContent::Same(42));
            assert_eq!(g2.set(SlotContent::Same(43)), Ok(()));
        });
        while w.waits.load(Ordering::Relaxed) == 0 {
            std::thread::yield_now();
        }
        let mut g = g;
        assert_eq!(g.set(SlotContent::Same(42)), Ok(()));
        drop(g);
    });
    assert_eq!(s.lock(&Spin).content(), SlotContent::Same(43));
    assert!(w.waits.load(Ordering::Relaxed) > 0);
}

#[test]
fn debug_hooks_balance() {
    let s = Slot::new();
    let w = Counting::default();
    drop(s.lock(&w));
    let g = s.try_lock(&w);
    assert!(g.is_some());
    assert!(s.try_lock(&w).is_none(), "busy slot");
    drop(g);
    let n = |a: &AtomicUsize| a.load(Ordering::Relaxed);
    assert_eq!(n(&w.acquires), 1);
    // A failed try_lock tells the debugger nothing.
    assert_eq!(n(&w.try_acquires), 1);
    assert_eq!(n(&w.acquired), 2);
    assert_eq!(n(&w.releases), 2);
    assert_eq!(n(&w.wakes), 2);
}

#[test]
fn concurrent_increments_are_exact() {
    const THREADS: usize = 4;
    const ITERS: usize = 100_000;
    let s = Slot::new();
    thread::scope(|sc| {
        for _ in 0..THREADS {
            sc.spawn(|| {
                for _ in 0..ITERS {
                    let mut g = s.lock(&Spin);
                    let n = match g.content() {
                        SlotContent::Same(n) => n,
                        other => {
                            assert_eq!(other, SlotContent::Empty);
                            0
                        }
                    };
                    assert_eq!(g.set(SlotContent::Same(n + 1)), Ok(()));
                }
            });
        }
    });
    assert!(!s.is_locked());
    assert_eq!(s.lock(&Spin).content(), SlotContent::Same(THREADS * ITERS));
}

#[test]
fn slot_is_sync_and_send() {
    fn check<T: Sync + Send>() {}
    check::<Slot>();
}

#[test]
fn disksize_rounding() {
    assert_eq!(slots_for_disksize(0), Some(0));
    assert_eq!(slots_for_disksize(1), Some(1));
    assert_eq!(slots_for_disksize(4095), Some(1));
    assert_eq!(slots_for_disksize(4096), Some(1));
    assert_eq!(slots_for_disksize(4097), Some(2));
    assert_eq!(slots_for_disksize(2 << 20), Some(512));
    assert_eq!(slots_for_disksize(100 << 30), Some(26_214_400));
    assert_eq!(slots_for_disksize(u64::MAX - 4095), Some((1 << 52) - 1));
    assert_eq!(slots_for_disksize(u64::MAX - 4094), None);
    assert_eq!(slots_for_disksize(u64::MAX), None);
    assert_eq!(page_align(1), Some(4096));
    assert_eq!(page_align(8192), Some(8192));
    assert_eq!(page_align(u64::MAX), None);
    assert_eq!(
        table_bytes(512),
        Some(512 * 2 * core::mem::size_of::<usize>())
    );
    assert_eq!(table_bytes(usize::MAX), None);
}

#[test]
fn written_content_priority_and_access_time() {
    let s = Slot::new();
    let mut g = s.lock(&Spin);
    let stored = SlotContent::Stored {
        handle: 7,
        size: 300,
        huge: false,
    };
    assert_eq!(g.set(stored), Ok(()));
    g.set_priority(2);
    g.mark_accessed(1234);
    g.set_flag(FLAG_IDLE | FLAG_PP);
    assert_eq!(g.priority(), 2);
    assert_eq!(g.access_time(), 1234);
    assert_eq!(g.content(), stored);
    // An access clears idle and the post-processing mark, not the priority.
    g.mark_accessed(1300);
    assert!(!g.test_flag(FLAG_IDLE) && !g.test_flag(FLAG_PP));
    assert_eq!((g.priority(), g.access_time()), (2, 1300));
    // Priorities beyond two bits are cut, other bits untouched.
    g.set_priority(7);
    assert_eq!(g.priority(), 3);
    assert_eq!(g.content(), stored);
    // Writing back replaces the content and forgets priority and time.
    let wb = SlotContent::Written {
        block: usize::MAX >> 1,
        size: 300,
        huge: true,
    };
    assert_eq!(g.replace(wb), Ok(stored));
    assert_eq!(g.content(), wb);
    assert!(!g.is_empty());
    assert_eq!((g.priority(), g.access_time()), (0, 0));
    g.mark_accessed(u32::MAX);
    assert_eq!(g.access_time(), u32::MAX);
    assert_eq!(g.content(), wb);
    drop(g);
    // The lock bit is unaffected by the access time in the upper half.
    assert!(!s.is_locked());
    let mut g = s.lock(&Spin);
    assert_eq!(g.take(), wb);
    assert_eq!(g.raw_flags(), FLAG_LOCK);
    let too_big = SlotContent::Written {
        block: 1,
        size: MAX_OBJECT_SIZE + 1,
        huge: false,
    };
    assert_eq!(g.set(too_big), Err(EINVAL));
    assert!(g.is_empty());
}
