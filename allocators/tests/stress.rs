// SPDX-License-Identifier: GPL-2.0
//! Multi-threaded stress: threads alloc/write/read/free their own objects
//! while another thread compacts, for every backend; contents are verified.

// Tests index their own tables: an index out of bounds fails the test.
#![allow(clippy::indexing_slicing)]

mod common;

use allocators::{AnyPool, Backend, PoolLock, SpinLockHost, PAGE_SIZE};
use common::{HostProvider, MutexLock};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::sync::atomic::{AtomicBool, Ordering};

fn fill(seed: u64, len: usize) -> Vec<u8> {
    let mut r = SmallRng::seed_from_u64(seed);
    let mut v = vec![0u8; len];
    r.fill(&mut v[..]);
    v
}

fn stress<L: PoolLock>(backend: Backend, threads: usize, ops: usize) {
    let tp = HostProvider::new();
    let pool = AnyPool::<_, L>::new(backend, &tp).unwrap();
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                pool.compact();
                std::thread::yield_now();
            }
        });
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let pool = &pool;
                s.spawn(move || {
                    let mut rng = SmallRng::seed_from_u64(t as u64);
                    let mut mine = Vec::new();
                    let mut bounce = [0u8; PAGE_SIZE];
                    for i in 0..ops {
                        if mine.len() < 300 && rng.gen_ratio(3, 5) || mine.is_empty() {
                            let len = if rng.gen_ratio(1, 10) {
                                rng.gen_range(3600..=4096)
                            } else {
                                rng.gen_range(1..3000)
                            };
                            let h = pool.alloc(len).unwrap();
                            let seed = (t * ops + i) as u64;
                            pool.write(h, &fill(seed, len)).unwrap();
                            mine.push((h, seed));
                        } else if rng.gen_ratio(1, 2) {
                            let (h, seed) = mine.swap_remove(rng.gen_range(0..mine.len()));
                            pool.read(h, &mut bounce, |d| assert!(d == &fill(seed, h.len())[..]))
                                .unwrap();
                            pool.free(h);
                        } else {
                            let (h, seed) = mine[rng.gen_range(0..mine.len())];
                            pool.read(h, &mut bounce, |d| assert!(d == &fill(seed, h.len())[..]))
                                .unwrap();
                        }
                    }
                    mine
                })
            })
            .collect();
        let mut all = Vec::new();
        for w in workers {
            all.extend(w.join().unwrap());
        }
        stop.store(true, Ordering::Relaxed);
        let mut bounce = [0u8; PAGE_SIZE];
        for (h, seed) in all {
            pool.read(h, &mut bounce, |d| assert!(d == &fill(seed, h.len())[..]))
                .unwrap();
            pool.free(h);
        }
    });
    assert_eq!(pool.total_pages(), tp.held());
}

#[test]
fn stress_zsmalloc() {
    stress::<MutexLock>(Backend::Zsmalloc, 4, 20000);
    stress::<SpinLockHost>(Backend::Zsmalloc, 2, 10000);
}

#[test]
fn stress_zbud() {
    stress::<MutexLock>(Backend::Zbud, 4, 20000);
}

#[test]
fn stress_z3fold() {
    stress::<MutexLock>(Backend::Z3fold, 4, 20000);
    stress::<SpinLockHost>(Backend::Z3fold, 2, 10000);
}

#[test]
fn stress_zblock() {
    stress::<MutexLock>(Backend::Zblock, 4, 20000);
    stress::<SpinLockHost>(Backend::Zblock, 2, 10000);
}

/// The page table grows (every record new, so its word starts as poison)
/// while another thread compacts, which walks the table: compaction must
/// never take a record being handed out for a live page.
fn growth_while_compacting(backend: Backend) {
    let tp = HostProvider::new();
    let pool = AnyPool::<_, MutexLock>::new(backend, &tp).unwrap();
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                pool.compact();
            }
        });
        let mut hs = Vec::new();
        for i in 0..20000 {
            // Headless sizes and small ones: both take new table records.
            let len = if i % 2 == 0 {
                PAGE_SIZE
            } else {
                200 + i % 1000
            };
            hs.push(pool.alloc(len).unwrap());
        }
        stop.store(true, Ordering::Relaxed);
        for h in hs {
            pool.free(h);
        }
    });
    assert_eq!(pool.total_pages(), tp.held());
}

#[test]
fn growth_while_compacting_all() {
    for b in Backend::ALL {
        growth_while_compacting(b);
    }
}
