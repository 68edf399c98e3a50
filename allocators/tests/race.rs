// SPDX-License-Identifier: GPL-2.0
//! Lock-free readers against compaction in one size class: zsmalloc-style
//! readers pin a zspage without the class lock while compaction claims
//! sparse zspages of that class, moves their objects and frees them, and
//! another thread reuses the freed slots, pages and descriptor records.
//! Every read is checked. The z3fold-style pool's readers pin a page while
//! frees and `compact` move objects within pages; the zblock-style pool's
//! readers take no lock at all while the churn thread allocates and frees
//! slots of the same blocks and compaction frees the class's spare block.
//! Small enough for Miri (`make -C allocators miri-race`), which also
//! checks the pin protocols for data races.

// Tests index their own tables: an index out of bounds fails the test.
#![allow(clippy::indexing_slicing)]

mod common;

use allocators::{AnyPool, Backend, Handle, PAGE_SIZE};
use common::{HostProvider, MutexLock};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::sync::atomic::{AtomicBool, Ordering};

/// All objects fall in one class (a 200-byte object in a 208-byte slot).
const LEN: usize = 200;

fn content(seed: u64) -> [u8; LEN] {
    let mut r = SmallRng::seed_from_u64(seed);
    let mut v = [0u8; LEN];
    r.fill(&mut v[..]);
    v
}

type Pool<'a> = AnyPool<&'a HostProvider, MutexLock>;

/// One round: `objs` objects, two of every three freed (sparse zspages),
/// then two readers check the rest while compaction moves them and a churn
/// thread allocates and frees in the same class. Returns the pages
/// compaction freed.
fn round(pool: &Pool, objs: usize, seed: u64) -> usize {
    let mut kept: Vec<(Handle, u64)> = Vec::new();
    for i in 0..objs as u64 {
        let h = pool.alloc(LEN).unwrap();
        pool.write(h, &content(seed + i)).unwrap();
        kept.push((h, seed + i));
    }
    let mut n = 0;
    kept.retain(|&(h, _)| {
        n += 1;
        if n % 3 == 0 {
            return true;
        }
        pool.free(h);
        false
    });
    let done = AtomicBool::new(false);
    let freed = std::thread::scope(|s| {
        let compactor = s.spawn(|| {
            let freed = pool.compact() + pool.compact();
            done.store(true, Ordering::Release);
            freed
        });
        s.spawn(|| {
            let mut bounce = [0u8; PAGE_SIZE];
            let mut i = 0u64;
            while !done.load(Ordering::Acquire) {
                let h = pool.alloc(LEN).unwrap();
                let c = content(u64::MAX - i);
                pool.write(h, &c).unwrap();
                pool.read(h, &mut bounce, |d| assert!(d == &c[..])).unwrap();
                pool.free(h);
                i += 1;
            }
        });
        for t in 0..2u64 {
            let kept = &kept;
            let done = &done;
            s.spawn(move || {
                let mut rng = SmallRng::seed_from_u64(seed + t);
                let mut bounce = [0u8; PAGE_SIZE];
                while !done.load(Ordering::Acquire) {
                    let (h, seed) = kept[rng.gen_range(0..kept.len())];
                    pool.read(h, &mut bounce, |d| assert!(d == &content(seed)[..]))
                        .unwrap();
                }
            });
        }
        compactor.join().unwrap()
    });
    let mut bounce = [0u8; PAGE_SIZE];
    for (h, seed) in kept {
        pool.read(h, &mut bounce, |d| assert!(d == &content(seed)[..]))
            .unwrap();
        pool.free(h);
    }
    freed
}

#[test]
fn readers_race_compaction() {
    let (rounds, objs) = if cfg!(miri) { (2, 240) } else { (300, 3000) };
    let tp = HostProvider::new();
    let pool = Pool::new(Backend::Zsmalloc, &tp).unwrap();
    let mut freed = 0;
    for r in 0..rounds {
        freed += round(&pool, objs, r * 1_000_000);
    }
    // Compaction did empty zspages while the readers ran.
    assert!(freed > 0, "compaction freed nothing");
    assert_eq!(pool.total_pages(), tp.held());
}

#[test]
fn zblock_readers_race_churn() {
    let (rounds, objs) = if cfg!(miri) { (2, 240) } else { (300, 3000) };
    let tp = HostProvider::new();
    let pool = Pool::new(Backend::Zblock, &tp).unwrap();
    for r in 0..rounds {
        round(&pool, objs, r * 1_000_000);
    }
    pool.compact();
    assert_eq!(pool.total_pages(), tp.held());
}

/// The same rounds with z3fold: readers pin pages without the pool lock
/// while frees and `compact` move middle objects within their pages
/// (in-page compaction skips pinned pages) and the churn thread fills and
/// empties slots of the same pages. Nothing is freed by compaction here; the
/// check is that every read sees its own bytes and, under Miri, that
/// pinning and tidying do not race.
#[test]
fn readers_race_z3fold_tidying() {
    let (rounds, objs) = if cfg!(miri) { (2, 60) } else { (100, 3000) };
    let tp = HostProvider::new();
    let pool = Pool::new(Backend::Z3fold, &tp).unwrap();
    for r in 0..rounds {
        assert_eq!(round(&pool, objs, r * 1_000_000), 0);
    }
    assert_eq!(pool.total_pages(), tp.held());
}
