// SPDX-License-Identifier: GPL-2.0
//! pathbench: host-native timing of rzram's portable store path, per 4 KiB
//! page, without the emulation that blurs the VM figures.
//!
//! For each data set and each allocator backend: compress every page with
//! lz4 (lz4_flex, block format, as the kernel's LZ4_compress_default), keep
//! pages that compress to the huge threshold or more uncompressed (as the
//! driver does), then time, over all pages:
//! store (alloc + write into the pool), load (read through the bounce buffer,
//! then decompress into a page), free; then the same store and load with two
//! threads on one pool (the pool lock shared, as two CPUs share it in the
//! kernel). Every loaded page is checked against the original afterwards.
//! A second table gives the latency distribution of single alloc and free
//! calls under the two-thread mix.
//!
//! ```text
//! pathbench [--dir PATH] [--max-mib N] [--reps N] [--backend NAME]...
//!           [--fresh-pages] [--store-loop N]
//! ```
//!
//! `--store-loop N` only stores and frees the c50 pages N times per backend
//! (for `perf record`). Pages come from per-thread lists of recycled pages
//! (see `HostPages`), or with `--fresh-pages` zeroed from the heap each time.
//!
//! Data sets: "c50", pages in which each 512-byte chunk is half random bytes
//! and half zeroes (fio's buffer_compress_percentage=50), and "files", the
//! pages of the files under `--dir` (default /usr/lib/x86_64-linux-gnu,
//! same-filled pages dropped as the driver keeps them in the slot table).
//! Each cell is the best of `--reps` (default 3) timings.

#[path = "../../zpool-lab/src/corpus.rs"]
mod corpus;
use allocators::{AnyPool, Backend, Handle, PageProvider, SpinLockHost, PAGE_SIZE};
use corpus::{collect_files, same_filled};
use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::path::{Path, PathBuf};
use std::ptr::NonNull;
use std::time::Instant;

/// Page-aligned heap pages, recycled like the kernel's per-CPU page lists:
/// a freed page goes on the freeing thread's list and is handed out again
/// first (still hot in cache), and pages are not zeroed (rzram's provider
/// takes plain GFP_NOIO pages). A page comes from the heap only when the
/// thread's list is empty. `--fresh-pages` uses zeroed heap pages from
/// `alloc_zeroed` and gives them back on every free instead, which is what
/// this benchmark measured before: the heap's bookkeeping, page faults and
/// the zeroing then go into the store and free columns.
struct HostPages {
    fresh: bool,
}

thread_local! {
    /// This thread's free pages (addresses), most recently freed last.
    static FREE_PAGES: std::cell::RefCell<Vec<usize>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn page_layout() -> Layout {
    Layout::from_size_align(PAGE_SIZE, PAGE_SIZE).expect("page layout")
}

// SAFETY: each page is a heap block of PAGE_SIZE bytes aligned to PAGE_SIZE,
// owned by one holder at a time: handed out once by `alloc_page`, and after
// `free_page` either kept on a free list (never handed out twice) or given
// back to the heap with the same layout.
unsafe impl PageProvider for &HostPages {
    fn alloc_page(&self) -> Option<NonNull<u8>> {
        if !self.fresh {
            if let Some(p) = FREE_PAGES.with(|l| l.borrow_mut().pop()) {
                return NonNull::new(p as *mut u8);
            }
            // SAFETY: the layout has a non-zero size.
            let p = NonNull::new(unsafe { std::alloc::alloc(page_layout()) })?;
            // Heap memory is initialised once, so that the pool only ever
            // sees initialised bytes (the `PageProvider` contract).
            // SAFETY: the page is ours and PAGE_SIZE bytes long.
            unsafe { p.as_ptr().write_bytes(0, PAGE_SIZE) };
            return Some(p);
        }
        // SAFETY: the layout has a non-zero size.
        NonNull::new(unsafe { alloc_zeroed(page_layout()) })
    }

    unsafe fn free_page(&self, page: NonNull<u8>) {
        if !self.fresh {
            FREE_PAGES.with(|l| l.borrow_mut().push(page.as_ptr() as usize));
            return;
        }
        // SAFETY: the page came from `alloc_page`, allocated with this layout.
        unsafe { dealloc(page.as_ptr(), page_layout()) };
    }
}

/// `--fresh-pages`, for every pool of the run.
static FRESH_PAGES: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn fresh_pages() -> bool {
    FRESH_PAGES.load(std::sync::atomic::Ordering::Relaxed)
}

type Pool<'a> = AnyPool<&'a HostPages, SpinLockHost>;

/// One page as the driver would store it.
struct Obj {
    data: Vec<u8>,
    huge: bool,
}

struct DataSet {
    name: &'static str,
    pages: Vec<[u8; PAGE_SIZE]>,
}

fn splitmix(s: &mut u64) -> u64 {
    *s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *s;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn c50(pages: usize) -> DataSet {
    let mut s = 0x5eed;
    let pages = (0..pages)
        .map(|_| {
            let mut p = [0u8; PAGE_SIZE];
            for chunk in p.chunks_mut(512) {
                for w in chunk[..256].chunks_mut(8) {
                    w.copy_from_slice(&splitmix(&mut s).to_le_bytes());
                }
            }
            p
        })
        .collect();
    DataSet { name: "c50", pages }
}

fn files(dir: &Path, max_pages: usize) -> DataSet {
    let mut list = Vec::new();
    collect_files(dir, &mut list);
    let mut pages = Vec::new();
    'files: for f in list {
        let Ok(data) = std::fs::read(&f) else {
            continue;
        };
        for chunk in data.chunks(PAGE_SIZE) {
            if pages.len() >= max_pages {
                break 'files;
            }
            let mut p = [0u8; PAGE_SIZE];
            p[..chunk.len()].copy_from_slice(chunk);
            if !same_filled(&p) {
                pages.push(p);
            }
        }
    }
    DataSet {
        name: "files",
        pages,
    }
}

/// Best (shortest) of `reps` runs of `f`, in ns per page.
fn best(reps: usize, pages: usize, mut f: impl FnMut() -> f64) -> f64 {
    (0..reps).map(|_| f()).fold(f64::MAX, f64::min) * 1e9 / pages as f64
}

/// Cycles that two back-to-back [`ticks`] calls take, the least of many.
fn tick_overhead() -> u64 {
    (0..10_000)
        .map(|_| ticks().wrapping_neg().wrapping_add(ticks()))
        .min()
        .unwrap_or(0)
}

/// Stores `objs` as the driver does: each compressed page is first in a
/// buffer the compressor just wrote (hot in cache), then alloc + write copy
/// it into the pool, whose pages are cold. Only alloc + write are timed
/// (TSC, less the timer's own cost). Returns the handles and the ticks.
fn store_hot(pool: &Pool<'_>, objs: &[Obj], overhead: u64) -> (Vec<Handle>, u64) {
    let mut staging = [0u8; PAGE_SIZE];
    let mut total = 0u64;
    let handles = objs
        .iter()
        .map(|o| {
            let len = o.data.len();
            staging[..len].copy_from_slice(&o.data);
            let t0 = ticks();
            let h = pool.alloc(len).expect("alloc");
            pool.write(h, &staging[..len]).expect("write");
            total += (ticks() - t0).saturating_sub(overhead);
            h
        })
        .collect();
    (handles, total)
}

/// Writes 64 MiB, so that the pool's pages are out of the caches again.
fn evict(scratch: &mut [u8]) {
    for (i, b) in scratch.iter_mut().enumerate().step_by(64) {
        *b = b.wrapping_add(i as u8);
    }
    std::hint::black_box(&scratch);
}

fn store(pool: &Pool<'_>, objs: &[Obj]) -> Vec<Handle> {
    objs.iter()
        .map(|o| {
            let h = pool.alloc(o.data.len()).expect("alloc");
            pool.write(h, &o.data).expect("write");
            h
        })
        .collect()
}

fn load(pool: &Pool<'_>, objs: &[Obj], handles: &[Handle], out: &mut [[u8; PAGE_SIZE]]) {
    let mut bounce = [0u8; PAGE_SIZE];
    for ((o, &h), dst) in objs.iter().zip(handles).zip(out.iter_mut()) {
        pool.read(h, &mut bounce, |src| {
            if o.huge {
                dst.copy_from_slice(&src[..PAGE_SIZE]);
            } else {
                let n = lz4_flex::block::decompress_into(src, dst).expect("decompress");
                assert_eq!(n, PAGE_SIZE);
            }
        })
        .expect("read");
    }
}

/// fio's mixed job natively: `threads` threads, each owning its share of
/// the pages (as fio's jobs own nothing but the driver's slot locks keep
/// pages apart), doing random 70% loads and 30% overwrites (compress a new
/// page, alloc + write it, free the old object). Returns ns per operation
/// of wall time.
fn churn(b: Backend, set: &DataSet, objs: &[Obj], threads: usize, ops: usize) -> f64 {
    let pages = HostPages {
        fresh: fresh_pages(),
    };
    let pool = Pool::new(b, &pages).expect("pool");
    let handles = store(&pool, objs);
    let per = objs.len() / threads;
    let huge_threshold = allocators::zsmalloc::class::HUGE_OBJ_LEN;
    let t = Instant::now();
    let mut handles = handles;
    std::thread::scope(|s| {
        for (k, hs) in handles.chunks_mut(per.max(1)).take(threads).enumerate() {
            let pool = &pool;
            let base = k * per;
            s.spawn(move || {
                let mut rng = 0x1234 + k as u64;
                let mut buf = vec![0u8; 2 * PAGE_SIZE];
                let mut bounce = [0u8; PAGE_SIZE];
                let mut dst = [0u8; PAGE_SIZE];
                let mut huge: Vec<bool> = (0..hs.len()).map(|i| objs[base + i].huge).collect();
                for _ in 0..ops / threads {
                    let r = splitmix(&mut rng);
                    let i = (r >> 8) as usize % hs.len();
                    if r % 10 < 7 {
                        let h = huge[i];
                        pool.read(hs[i], &mut bounce, |src| {
                            if h {
                                dst.copy_from_slice(&src[..PAGE_SIZE]);
                            } else {
                                lz4_flex::block::decompress_into(src, &mut dst)
                                    .expect("decompress");
                            }
                        })
                        .expect("read");
                    } else {
                        let p = &set.pages[(r >> 32) as usize % set.pages.len()];
                        let len = lz4_flex::block::compress_into(p, &mut buf).unwrap_or(PAGE_SIZE);
                        let (data, is_huge) = if len >= huge_threshold {
                            (&p[..], true)
                        } else {
                            (&buf[..len], false)
                        };
                        let h = pool.alloc(data.len()).expect("alloc");
                        pool.write(h, data).expect("write");
                        pool.free(hs[i]);
                        hs[i] = h;
                        huge[i] = is_huge;
                    }
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

/// The c50 objects, compressed as the driver would store them.
fn c50_objects(max_pages: usize) -> Vec<Obj> {
    let set = c50(max_pages);
    let huge_threshold = allocators::zsmalloc::class::HUGE_OBJ_LEN;
    let mut buf = vec![0u8; 2 * PAGE_SIZE];
    set.pages
        .iter()
        .map(|p| {
            let len = lz4_flex::block::compress_into(p, &mut buf).unwrap_or(PAGE_SIZE);
            if len >= huge_threshold {
                Obj {
                    data: p.to_vec(),
                    huge: true,
                }
            } else {
                Obj {
                    data: buf[..len].to_vec(),
                    huge: false,
                }
            }
        })
        .collect()
}

/// For profiling (`perf record`): store and free the c50 objects `rounds`
/// times in one pool per backend, printing ns per store and per free, after
/// the lz4 compression of the same pages timed the same way (best of
/// `rounds` passes over all pages).
fn profile_store(backends: &[Backend], max_pages: usize, rounds: usize) {
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

/// A cycle counter for timing single operations: the TSC on x86_64 (a few
/// ns to read), else the monotonic clock in ns.
fn ticks() -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: RDTSC has no preconditions; every x86_64 CPU has it.
        unsafe { core::arch::x86_64::_rdtsc() }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        use std::sync::OnceLock;
        static START: OnceLock<Instant> = OnceLock::new();
        START.get_or_init(Instant::now).elapsed().as_nanos() as u64
    }
}

/// Nanoseconds per [`ticks`] unit, measured over 50 ms.
fn ns_per_tick() -> f64 {
    let (t, c) = (Instant::now(), ticks());
    while t.elapsed().as_millis() < 50 {
        std::hint::spin_loop();
    }
    t.elapsed().as_nanos() as f64 / (ticks() - c).max(1) as f64
}

/// Latency samples in ticks: alloc calls, free calls, and whole overwrites
/// (alloc + write + free).
type Samples = (Vec<u64>, Vec<u64>, Vec<u64>);

/// Per-operation latency of alloc and free under the two-thread mix (the
/// "mix x2" job: 70% load, 30% compress + alloc + write + free): each thread
/// times every alloc and free call on its own, and the whole overwrite. A
/// locked instruction waits for the stores before it, so a backend whose
/// write ends without one (zblock) pays for the copy in the next free's
/// lock; the overwrite column is the fair comparison.
fn latencies(b: Backend, set: &DataSet, objs: &[Obj], ops: usize) -> Samples {
    const THREADS: usize = 2;
    let pages = HostPages {
        fresh: fresh_pages(),
    };
    let pool = Pool::new(b, &pages).expect("pool");
    let mut handles = store(&pool, objs);
    let per = objs.len() / THREADS;
    let huge_threshold = allocators::zsmalloc::class::HUGE_OBJ_LEN;
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
                    let mut buf = vec![0u8; 2 * PAGE_SIZE];
                    let mut bounce = [0u8; PAGE_SIZE];
                    let mut dst = [0u8; PAGE_SIZE];
                    let (mut a, mut f, mut o) = (
                        Vec::with_capacity(ops / 3),
                        Vec::with_capacity(ops / 3),
                        Vec::with_capacity(ops / 3),
                    );
                    for _ in 0..ops / THREADS {
                        let r = splitmix(&mut rng);
                        let i = (r >> 8) as usize % hs.len();
                        if r % 10 < 7 {
                            pool.read(hs[i], &mut bounce, |src| {
                                if src.len() == PAGE_SIZE {
                                    dst.copy_from_slice(src);
                                } else {
                                    lz4_flex::block::decompress_into(src, &mut dst)
                                        .expect("decompress");
                                }
                            })
                            .expect("read");
                        } else {
                            let p = &set.pages[(r >> 32) as usize % set.pages.len()];
                            let len =
                                lz4_flex::block::compress_into(p, &mut buf).unwrap_or(PAGE_SIZE);
                            let data = if len >= huge_threshold {
                                &p[..]
                            } else {
                                &buf[..len]
                            };
                            let t0 = ticks();
                            let h = pool.alloc(data.len()).expect("alloc");
                            let t1 = ticks();
                            pool.write(h, data).expect("write");
                            let t2 = ticks();
                            pool.free(hs[i]);
                            let t3 = ticks();
                            a.push(t1 - t0);
                            f.push(t3 - t2);
                            o.push(t3 - t0);
                            hs[i] = h;
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

/// p50, p99, p99.9 and max of `v` in ns.
fn percentiles(v: &mut [u64], ns: f64) -> [f64; 4] {
    v.sort_unstable();
    let at = |q: f64| {
        v.get(((v.len() as f64 - 1.0) * q) as usize)
            .copied()
            .unwrap_or(0) as f64
            * ns
    };
    [at(0.5), at(0.99), at(0.999), at(1.0)]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut dir = PathBuf::from("/usr/lib/x86_64-linux-gnu");
    let mut max_mib = 32usize;
    let mut reps = 3usize;
    let mut backends = Vec::new();
    let mut store_loop = 0usize;
    let mut fresh = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || {
            it.next()
                .cloned()
                .unwrap_or_else(|| panic!("{a} needs a value"))
        };
        match a.as_str() {
            "--dir" => dir = PathBuf::from(val()),
            "--max-mib" => max_mib = val().parse().expect("--max-mib N"),
            "--reps" => reps = val().parse().expect("--reps N"),
            "--backend" => {
                backends.push(Backend::from_name(val().as_bytes()).expect("--backend NAME"))
            }
            "--store-loop" => store_loop = val().parse().expect("--store-loop N"),
            "--fresh-pages" => fresh = true,
            _ => {
                eprintln!("usage: pathbench [--dir PATH] [--max-mib N] [--reps N] [--backend NAME]... [--store-loop N] [--fresh-pages]");
                std::process::exit(2);
            }
        }
    }
    let max_pages = max_mib * 256;
    FRESH_PAGES.store(fresh, std::sync::atomic::Ordering::Relaxed);
    if backends.is_empty() {
        backends = Backend::ALL.to_vec();
    }
    if store_loop > 0 {
        profile_store(&backends, max_pages, store_loop);
        return;
    }
    let tick_ns = ns_per_tick();
    let overhead = tick_overhead();
    let mut scratch = vec![0u8; 64 << 20];
    let huge_threshold = allocators::zsmalloc::class::HUGE_OBJ_LEN;
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
    for set in [c50(max_pages), files(&dir, max_pages)] {
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
                let len = lz4_flex::block::compress_into(p, &mut buf).unwrap_or(PAGE_SIZE);
                objs.push(if len >= huge_threshold {
                    Obj {
                        data: p.to_vec(),
                        huge: true,
                    }
                } else {
                    Obj {
                        data: buf[..len].to_vec(),
                        huge: false,
                    }
                });
            }
            t.elapsed().as_secs_f64()
        });
        let mut out = vec![[0u8; PAGE_SIZE]; n];
        for &b in &backends {
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
                load(&pool, &objs, &handles, &mut out);
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
                    s.spawn(|| load(pool, oa, &ha, outa));
                    load(pool, ob, &hb, outb);
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
