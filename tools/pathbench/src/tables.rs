// SPDX-License-Identifier: GPL-2.0
//! The two tables of a normal run, and the store loop of `--store-loop`.

use crate::data::{c50, c50_objects, files, stored, Obj};
use crate::mix::{churn, latencies};
use crate::pages::{fresh_pages, HostPages, Pool};
use crate::passes::{evict, load, store, store_hot};
use crate::timing::{best, ns_per_tick, percentiles, tick_overhead};
use allocators::{Backend, PAGE_SIZE};
use std::path::Path;
use std::time::Instant;

/// For profiling (`perf record`): store and free the c50 objects `rounds`
/// times in one pool per backend, printing ns per store and per free, after
/// the lz4 compression of the same pages timed the same way (best of
/// `rounds` passes over all pages).
pub fn profile_store(backends: &[Backend], max_pages: usize, rounds: usize) {
    let objs = c50_objects(max_pages);
    let n = objs.len();
    let set = c50(max_pages);
    let mut buf = vec![0u8; 2 * PAGE_SIZE];
    let mut comp = f64::MAX;
    for _ in 0..rounds {
        let t = Instant::now();
        for p in &set.pages {
            std::hint::black_box(lz4_flex::block::compress_into(p, &mut buf).unwrap_or(0));
        }
        comp = comp.min(t.elapsed().as_secs_f64());
    }
    println!(
        "lz4       compress {:>6.0} ns per page (best of {rounds})",
        comp * 1e9 / n as f64
    );
    for &b in backends {
        let pages = HostPages {
            fresh: fresh_pages(),
        };
        let pool = Pool::new(b, &pages).expect("pool");
        let (mut st, mut fr) = (f64::MAX, f64::MAX);
        for _ in 0..rounds {
            let t = Instant::now();
            let handles = store(&pool, &objs);
            st = st.min(t.elapsed().as_secs_f64());
            let t = Instant::now();
            for h in handles {
                pool.free(h);
            }
            fr = fr.min(t.elapsed().as_secs_f64());
        }
        println!(
            "{:<9} store {:>6.0} ns  free {:>6.0} ns per page (best of {rounds}, {n} pages)",
            b.name(),
            st * 1e9 / n as f64,
            fr * 1e9 / n as f64
        );
    }
}

/// The main table (per backend and data set) and the latency table.
pub fn main_tables(dir: &Path, max_pages: usize, reps: usize, backends: &[Backend]) {
    let tick_ns = ns_per_tick();
    let overhead = tick_overhead();
    let mut scratch = vec![0u8; 64 << 20];
    println!("ns per 4 KiB page; best of {reps}; store = alloc+write, load = read+decompress; x2 = two threads on one pool (ns per page of wall time)");
    println!("store hot = alloc+write of a page just written to a buffer (as the driver stores the compressor's output), pool pages out of cache, timed per call (TSC)");
    println!("mix xN = 70% load / 30% overwrite (compress+alloc+write+free) by N threads on one pool, ns per op of wall time");
    println!(
        "{:<6} {:<9} {:>6} {:>9} {:>7} {:>9} {:>7} {:>6} {:>8} {:>8} {:>9} {:>7} {:>7} {:>7}",
        "data",
        "backend",
        "pages",
        "compress",
        "store",
        "store hot",
        "load",
        "free",
        "store x2",
        "load x2",
        "pool/orig",
        "mix x1",
        "mix x2",
        "mix x4"
    );
    let mut lat_rows = Vec::new();
    for set in [c50(max_pages), files(dir, max_pages)] {
        let n = set.pages.len();
        if n == 0 {
            continue;
        }
        let mut buf = vec![0u8; 2 * PAGE_SIZE];
        let mut objs = Vec::with_capacity(n);
        let compress = best(reps, n, || {
            objs.clear();
            let t = Instant::now();
            for p in &set.pages {
                objs.push(Obj {
                    data: stored(p, &mut buf).to_vec(),
                });
            }
            t.elapsed().as_secs_f64()
        });
        let mut out = vec![[0u8; PAGE_SIZE]; n];
        for &b in backends {
            let pages = HostPages {
                fresh: fresh_pages(),
            };
            let pool = Pool::new(b, &pages).expect("pool");
            let (mut st, mut ld, mut fr) = (f64::MAX, f64::MAX, f64::MAX);
            let mut density = 0.0;
            for _ in 0..reps {
                let t = Instant::now();
                let handles = store(&pool, &objs);
                st = st.min(t.elapsed().as_secs_f64());
                density = (pool.total_pages() * PAGE_SIZE) as f64 / (n * PAGE_SIZE) as f64;
                let t = Instant::now();
                load(&pool, &handles, &mut out);
                ld = ld.min(t.elapsed().as_secs_f64());
                assert!(
                    out.iter().zip(&set.pages).all(|(a, b)| a == b),
                    "{} {}: data differs",
                    set.name,
                    b.name()
                );
                let t = Instant::now();
                for h in handles {
                    pool.free(h);
                }
                fr = fr.min(t.elapsed().as_secs_f64());
            }
            // Two threads, each storing and loading its half.
            let (mut st2, mut ld2) = (f64::MAX, f64::MAX);
            for _ in 0..reps {
                let half = n / 2;
                let (oa, ob) = objs.split_at(half);
                let (outa, outb) = out.split_at_mut(half);
                let pool = &pool;
                let t = Instant::now();
                let (ha, hb) = std::thread::scope(|s| {
                    let a = s.spawn(|| store(pool, oa));
                    let b = store(pool, ob);
                    (a.join().expect("thread"), b)
                });
                st2 = st2.min(t.elapsed().as_secs_f64());
                let t = Instant::now();
                std::thread::scope(|s| {
                    s.spawn(|| load(pool, &ha, outa));
                    load(pool, &hb, outb);
                });
                ld2 = ld2.min(t.elapsed().as_secs_f64());
                for h in ha.into_iter().chain(hb) {
                    pool.free(h);
                }
            }
            // Store from a hot buffer, pool pages cold (see `store_hot`).
            let mut sth = u64::MAX;
            for _ in 0..reps {
                evict(&mut scratch);
                let (handles, t) = store_hot(&pool, &objs, overhead);
                sth = sth.min(t);
                for h in handles {
                    pool.free(h);
                }
            }
            let ns = |s: f64| s * 1e9 / n as f64;
            let mix: Vec<f64> = [1, 2, 4]
                .iter()
                .map(|&t| {
                    (0..reps)
                        .map(|_| churn(b, &set, &objs, t, n))
                        .fold(f64::MAX, f64::min)
                })
                .collect();
            println!("{:<6} {:<9} {:>6} {:>9.0} {:>7.0} {:>9.0} {:>7.0} {:>6.0} {:>8.0} {:>8.0} {:>9.3} {:>7.0} {:>7.0} {:>7.0}",
                set.name, b.name(), n, compress, ns(st), sth as f64 * tick_ns / n as f64, ns(ld), ns(fr), ns(st2), ns(ld2), density, mix[0], mix[1], mix[2]);
            let (mut a, mut f, mut o) = latencies(b, &set, &objs, 4 * n);
            let samples = a.len();
            lat_rows.push((
                set.name,
                b.name(),
                samples,
                percentiles(&mut a, tick_ns),
                percentiles(&mut f, tick_ns),
                percentiles(&mut o, tick_ns),
            ));
        }
    }
    println!();
    println!("per-operation latency under the two-thread mix (70% load / 30% compress+alloc+write+free), ns; each alloc and free call timed alone, and the whole overwrite (alloc+write+free)");
    println!(
        "{:<6} {:<9} {:>7} | {:>9} {:>9} {:>9} {:>9} | {:>9} {:>9} {:>9} {:>9} | {:>9} {:>9} {:>9}",
        "data",
        "backend",
        "samples",
        "alloc p50",
        "p99",
        "p99.9",
        "max",
        "free p50",
        "p99",
        "p99.9",
        "max",
        "ovw p50",
        "p99",
        "max"
    );
    for (set, b, n, a, f, o) in lat_rows {
        println!(
            "{:<6} {:<9} {:>7} | {:>9.0} {:>9.0} {:>9.0} {:>9.0} | {:>9.0} {:>9.0} {:>9.0} {:>9.0} | {:>9.0} {:>9.0} {:>9.0}",
            set, b, n, a[0], a[1], a[2], a[3], f[0], f[1], f[2], f[3], o[0], o[1], o[3]
        );
    }
}
