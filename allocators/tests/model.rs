// SPDX-License-Identifier: GPL-2.0
//! Model-based test: random alloc/write/read/free/compact sequences against a
//! map of expected bytes, with page-provider failure injection, for every
//! backend. `MODEL_SEEDS=n` runs more seeds.

// Tests index their own tables: an index out of bounds fails the test.
#![allow(clippy::indexing_slicing)]

mod common;

use allocators::{AllocError, AnyPool, Backend, Handle, PAGE_SIZE};
use common::{HostProvider, MutexLock};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;

fn random_len(rng: &mut SmallRng) -> usize {
    match rng.gen_range(0..10) {
        0 => rng.gen_range(1..=64),
        1 => *[
            1, 12, 13, 28, 2032, 2048, 3628, 3629, 4032, 4033, 4064, 4065, 4095, 4096,
        ]
        .get(rng.gen_range(0..14))
        .unwrap(),
        2..=3 => rng.gen_range(3500..=PAGE_SIZE),
        _ => rng.gen_range(1..=3000),
    }
}

fn content(rng: &mut SmallRng, len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    rng.fill(&mut v[..]);
    v
}

fn check_all(pool: &AnyPool<&HostProvider, MutexLock>, live: &HashMap<Handle, Option<Vec<u8>>>) {
    let mut bounce = [0u8; PAGE_SIZE];
    for (&h, want) in live {
        let got = pool
            .read(h, &mut bounce, |s| s.to_vec())
            .expect("live handle readable");
        assert_eq!(got.len(), h.len());
        if let Some(w) = want {
            assert!(got == *w, "content mismatch for {h:?}");
        }
    }
}

fn run(backend: Backend, seed: u64, steps: usize) {
    let mut rng = SmallRng::seed_from_u64(seed);
    let tp = HostProvider::new();
    let pool = AnyPool::<_, MutexLock>::new(backend, &tp).unwrap();
    let mut live: HashMap<Handle, Option<Vec<u8>>> = HashMap::new();
    let mut order: Vec<Handle> = Vec::new();
    let mut bounce = [0u8; PAGE_SIZE];
    for step in 0..steps {
        match rng.gen_range(0..100) {
            0..=44 => {
                let len = random_len(&mut rng);
                match pool.alloc(len) {
                    Ok(h) => {
                        assert_eq!(h.len(), len);
                        assert!(!live.contains_key(&h), "handle reused while live");
                        let v = if rng.gen_ratio(9, 10) {
                            let v = content(&mut rng, len);
                            pool.write(h, &v).unwrap();
                            Some(v)
                        } else {
                            None
                        };
                        live.insert(h, v);
                        order.push(h);
                    }
                    Err(AllocError::NoMemory) => assert_ne!(
                        tp.budget.load(std::sync::atomic::Ordering::Relaxed),
                        usize::MAX
                    ),
                    Err(e) => panic!("{e:?}"),
                }
            }
            45..=69 if !order.is_empty() => {
                let i = rng.gen_range(0..order.len());
                let h = order.swap_remove(i);
                live.remove(&h);
                pool.free(h);
                if rng.gen_ratio(1, 10) {
                    pool.free(h); // double free must be ignored
                    assert!(pool.read(h, &mut bounce, |_| ()).is_err());
                }
            }
            70..=84 if !order.is_empty() => {
                let h = order[rng.gen_range(0..order.len())];
                let want = live[&h].clone();
                pool.read(h, &mut bounce, |s| {
                    if let Some(w) = want {
                        assert!(s == &w[..]);
                    }
                })
                .unwrap();
            }
            85..=89 if !order.is_empty() => {
                let h = order[rng.gen_range(0..order.len())];
                let v = content(&mut rng, h.len());
                pool.write(h, &v).unwrap();
                live.insert(h, Some(v));
            }
            90..=92 => {
                let before = pool.total_pages();
                let freed = pool.compact();
                assert_eq!(pool.total_pages(), before - freed);
            }
            93..=95 => {
                // Failure injection windows: a few pages, then none, then all.
                let b = match rng.gen_range(0..3) {
                    0 => 0,
                    1 => rng.gen_range(1..4),
                    _ => usize::MAX,
                };
                tp.set_budget(b);
            }
            _ => {}
        }
        assert_eq!(
            pool.total_pages(),
            tp.held(),
            "{backend:?} seed {seed} step {step}"
        );
        if step % 500 == 0 {
            check_all(&pool, &live);
        }
    }
    tp.set_budget(usize::MAX);
    check_all(&pool, &live);
    pool.compact();
    check_all(&pool, &live);
    let in_use: usize = (0..pool.class_count())
        .map(|i| pool.class_stats(i).unwrap().objs_in_use)
        .sum();
    assert_eq!(in_use, live.len());
    for h in order {
        pool.free(h);
    }
    assert_eq!(pool.total_pages(), tp.held());
    drop(pool);
    assert_eq!(tp.held(), 0);
}

fn seeds() -> u64 {
    std::env::var("MODEL_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(6)
}

#[test]
fn model_zsmalloc() {
    for seed in 0..seeds() {
        run(Backend::Zsmalloc, seed, 6000);
    }
}

#[test]
fn model_zbud() {
    for seed in 0..seeds() {
        run(Backend::Zbud, seed, 6000);
    }
}

#[test]
fn model_z3fold() {
    for seed in 0..seeds() {
        run(Backend::Z3fold, seed, 6000);
    }
}

#[test]
fn model_zblock() {
    for seed in 0..seeds() {
        run(Backend::Zblock, seed, 6000);
    }
}

/// Many small objects: drives zsmalloc compaction across many zspages.
#[test]
fn model_churn_then_compact() {
    for backend in Backend::ALL {
        let mut rng = SmallRng::seed_from_u64(99);
        let tp = HostProvider::new();
        let pool = AnyPool::<_, MutexLock>::new(backend, &tp).unwrap();
        let mut live = HashMap::new();
        for _ in 0..20000 {
            let len = rng.gen_range(1..1500);
            let h = pool.alloc(len).unwrap();
            let v = content(&mut rng, len);
            pool.write(h, &v).unwrap();
            live.insert(h, Some(v));
        }
        let keys: Vec<Handle> = live.keys().copied().collect();
        for h in keys {
            if rng.gen_ratio(7, 10) {
                pool.free(h);
                live.remove(&h);
            }
        }
        let before = pool.total_pages();
        let freed = pool.compact();
        // zblock never moves objects: compaction frees at most each class's
        // spare empty block (one page).
        if backend == Backend::Zblock {
            assert!(freed <= pool.class_count(), "freed {freed}");
        }
        if backend == Backend::Zsmalloc {
            assert!(freed * 3 > before, "freed {freed} of {before}");
        }
        assert_eq!(pool.total_pages(), tp.held());
        check_all(&pool, &live);
    }
}
