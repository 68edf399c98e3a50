// SPDX-License-Identifier: GPL-2.0
//! The mixed load/overwrite job: wall time per operation, and the latency
//! of single alloc and free calls under it.

use crate::data::{splitmix, stored, unpack, DataSet, Obj};
use crate::pages::{fresh_pages, HostPages, Pool};
use crate::passes::store;
use crate::timing::ticks;
use allocators::{Backend, Handle, PAGE_SIZE};
use std::time::Instant;

/// fio's mixed job natively: `threads` threads, each owning its share of
/// the pages (as fio's jobs own nothing but the driver's slot locks keep
/// pages apart), doing random 70% loads and 30% overwrites (compress a new
/// page, alloc + write it, free the old object). Returns ns per operation
/// of wall time.
pub fn churn(b: Backend, set: &DataSet, objs: &[Obj], threads: usize, ops: usize) -> f64 {
    let pages = HostPages {
        fresh: fresh_pages(),
    };
    let pool = Pool::new(b, &pages).expect("pool");
    let handles = store(&pool, objs);
    let per = objs.len() / threads;
    let t = Instant::now();
    let mut handles = handles;
    std::thread::scope(|s| {
        for (k, hs) in handles.chunks_mut(per.max(1)).take(threads).enumerate() {
            let pool = &pool;
            s.spawn(move || {
                let mut rng = 0x1234 + k as u64;
                let mut m = Mixer::new();
                for _ in 0..ops / threads {
                    m.step(pool, set, hs, &mut rng, || 0);
                }
            });
        }
    });
    let ns = t.elapsed().as_secs_f64() * 1e9 / ops as f64;
    for h in handles {
        pool.free(h);
    }
    ns
}

/// Latency samples in ticks: alloc calls, free calls, and whole overwrites
/// (alloc + write + free).
pub type Samples = (Vec<u64>, Vec<u64>, Vec<u64>);

/// Per-operation latency of alloc and free under the two-thread mix (the
/// "mix x2" job: 70% load, 30% compress + alloc + write + free): each thread
/// times every alloc and free call on its own, and the whole overwrite. A
/// locked instruction waits for the stores before it, so a backend whose
/// write ends without one (zblock) pays for the copy in the next free's
/// lock; the overwrite column is the fair comparison.
pub fn latencies(b: Backend, set: &DataSet, objs: &[Obj], ops: usize) -> Samples {
    const THREADS: usize = 2;
    let pages = HostPages {
        fresh: fresh_pages(),
    };
    let pool = Pool::new(b, &pages).expect("pool");
    let mut handles = store(&pool, objs);
    let per = objs.len() / THREADS;
    let (mut allocs, mut frees, mut overwrites) = (Vec::new(), Vec::new(), Vec::new());
    std::thread::scope(|s| {
        let workers: Vec<_> = handles
            .chunks_mut(per.max(1))
            .take(THREADS)
            .enumerate()
            .map(|(k, hs)| {
                let pool = &pool;
                s.spawn(move || {
                    let mut rng = 0x4321 + k as u64;
                    let mut m = Mixer::new();
                    let (mut a, mut f, mut o) = (
                        Vec::with_capacity(ops / 3),
                        Vec::with_capacity(ops / 3),
                        Vec::with_capacity(ops / 3),
                    );
                    for _ in 0..ops / THREADS {
                        if let Some([t0, t1, t2, t3]) = m.step(pool, set, hs, &mut rng, ticks) {
                            a.push(t1 - t0);
                            f.push(t3 - t2);
                            o.push(t3 - t0);
                        }
                    }
                    (a, f, o)
                })
            })
            .collect();
        for w in workers {
            let (a, f, o) = w.join().expect("thread");
            allocs.extend(a);
            frees.extend(f);
            overwrites.extend(o);
        }
    });
    for h in handles {
        pool.free(h);
    }
    (allocs, frees, overwrites)
}

/// One thread's buffers for the mixed job.
struct Mixer {
    buf: Vec<u8>,
    bounce: [u8; PAGE_SIZE],
    dst: [u8; PAGE_SIZE],
}

impl Mixer {
    fn new() -> Self {
        Mixer {
            // A compressed page may exceed a page before it is kept whole.
            buf: vec![0u8; 2 * PAGE_SIZE],
            bounce: [0u8; PAGE_SIZE],
            dst: [0u8; PAGE_SIZE],
        }
    }

    /// One random operation on `hs`: a load (70%) or an overwrite (compress
    /// a page, alloc + write it, free the old object). For an overwrite,
    /// returns `clock()` before and after the alloc and before and after
    /// the free (a clock that returns 0 costs nothing when inlined).
    fn step(
        &mut self,
        pool: &Pool<'_>,
        set: &DataSet,
        hs: &mut [Handle],
        rng: &mut u64,
        clock: impl Fn() -> u64,
    ) -> Option<[u64; 4]> {
        let r = splitmix(rng);
        let i = (r >> 8) as usize % hs.len();
        if r % 10 < 7 {
            let dst = &mut self.dst;
            pool.read(hs[i], &mut self.bounce, |src| unpack(src, dst))
                .expect("read");
            return None;
        }
        let p = &set.pages[(r >> 32) as usize % set.pages.len()];
        let data = stored(p, &mut self.buf);
        let t0 = clock();
        let h = pool.alloc(data.len()).expect("alloc");
        let t1 = clock();
        pool.write(h, data).expect("write");
        let t2 = clock();
        pool.free(hs[i]);
        let t3 = clock();
        hs[i] = h;
        Some([t0, t1, t2, t3])
    }
}
