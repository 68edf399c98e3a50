// SPDX-License-Identifier: GPL-2.0
//! zpool-lab: measures how densely each rzram allocator backend stores real
//! data.
//!
//! Files are cut into 4 KiB pages; same-filled pages are dropped (rzram keeps
//! them in the slot table); the rest are compressed with lz4 or zstd, and a
//! compressed page that is not smaller than the zsmalloc huge threshold is
//! stored uncompressed as 4096 bytes, as zram does. The objects are stored in
//! every backend, a seeded random fraction is freed (swap churn), the pool is
//! compacted, the freed objects are stored again (steady churn), and one
//! table is printed. `--bench` measures single-thread
//! alloc+write+free of 2 KiB objects instead.

mod corpus;
mod host;
mod rng;

use allocators::{AnyPool, Backend, Handle, SpinLockHost, PAGE_SIZE};
use corpus::{collect_files, same_filled};
use host::HostProvider;
use rng::SplitMix;
use std::path::PathBuf;
use std::time::Instant;

const USAGE: &str = "usage: zpool-lab [--codec lz4|zstd] [--level N] [--free-fraction F] [--seed S]
                 [--max-mib N] [--suffix .o] [--classes] [--backend NAME]... PATH...
       zpool-lab --bench [--ops N] [--size BYTES] [--backend NAME]...";

#[derive(Clone, Copy, PartialEq)]
enum Codec {
    Lz4,
    Zstd(i32),
}

struct Opts {
    codec: Codec,
    free_fraction: f64,
    seed: u64,
    max_pages: usize,
    backends: Vec<Backend>,
    paths: Vec<PathBuf>,
    bench: bool,
    ops: usize,
    size: usize,
    suffix: Option<String>,
    classes: bool,
}

fn parse_args() -> Result<Opts, String> {
    let mut o = Opts {
        codec: Codec::Lz4,
        free_fraction: 0.3,
        seed: 1,
        max_pages: 1 << 18,
        backends: Vec::new(),
        paths: Vec::new(),
        bench: false,
        ops: 5_000_000,
        size: 2048,
        suffix: None,
        classes: false,
    };
    let mut level = 3;
    let mut zstd = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--codec" => match val("--codec")?.as_str() {
                "lz4" => zstd = false,
                "zstd" => zstd = true,
                c => return Err(format!("unknown codec {c}")),
            },
            "--level" => {
                level = val("--level")?
                    .parse()
                    .map_err(|e| format!("--level: {e}"))?
            }
            "--free-fraction" => {
                o.free_fraction = val("--free-fraction")?
                    .parse()
                    .map_err(|e| format!("--free-fraction: {e}"))?;
                if !(0.0..=1.0).contains(&o.free_fraction) {
                    return Err("--free-fraction must be in 0..=1".into());
                }
            }
            "--seed" => o.seed = val("--seed")?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--max-mib" => {
                let m: usize = val("--max-mib")?
                    .parse()
                    .map_err(|e| format!("--max-mib: {e}"))?;
                o.max_pages = m * 256;
            }
            "--backend" => {
                let n = val("--backend")?;
                o.backends
                    .push(Backend::from_name(n.as_bytes()).ok_or(format!("unknown backend {n}"))?);
            }
            "--suffix" => o.suffix = Some(val("--suffix")?),
            "--classes" => o.classes = true,
            "--bench" => o.bench = true,
            "--ops" => o.ops = val("--ops")?.parse().map_err(|e| format!("--ops: {e}"))?,
            "--size" => {
                o.size = val("--size")?.parse().map_err(|e| format!("--size: {e}"))?;
                if o.size == 0 || o.size > PAGE_SIZE {
                    return Err("--size must be 1..=4096".into());
                }
            }
            "-h" | "--help" => return Err(String::new()),
            s if s.starts_with("--") => return Err(format!("unknown option {s}")),
            p => o.paths.push(PathBuf::from(p)),
        }
    }
    if zstd {
        o.codec = Codec::Zstd(level);
    }
    if o.backends.is_empty() {
        o.backends = Backend::ALL.to_vec();
    }
    if !o.bench && o.paths.is_empty() {
        return Err("no PATH given".into());
    }
    Ok(o)
}

struct Corpus {
    pages_in: usize,
    same_filled: usize,
    compressed_bytes: usize,
    huge: usize,
    objects: Vec<Vec<u8>>,
}

fn load(o: &Opts) -> Corpus {
    let mut files = Vec::new();
    for p in &o.paths {
        collect_files(p, &mut files);
    }
    if let Some(sfx) = &o.suffix {
        files.retain(|f| f.to_string_lossy().ends_with(sfx.as_str()));
    }
    let huge_threshold = allocators::zsmalloc::class::HUGE_OBJ_LEN;
    let mut c = Corpus {
        pages_in: 0,
        same_filled: 0,
        compressed_bytes: 0,
        huge: 0,
        objects: Vec::new(),
    };
    let mut out = vec![0u8; 2 * PAGE_SIZE];
    let mut zc = match o.codec {
        Codec::Zstd(l) => Some(zstd::bulk::Compressor::new(l).expect("zstd level")),
        Codec::Lz4 => None,
    };
    'files: for f in files {
        let Ok(data) = std::fs::read(&f) else {
            continue;
        };
        for chunk in data.chunks(PAGE_SIZE) {
            if c.pages_in >= o.max_pages {
                break 'files;
            }
            let mut page = [0u8; PAGE_SIZE];
            page[..chunk.len()].copy_from_slice(chunk);
            c.pages_in += 1;
            if same_filled(&page) {
                c.same_filled += 1;
                continue;
            }
            let n = match zc.as_mut() {
                None => lz4_flex::block::compress_into(&page, &mut out).unwrap_or(PAGE_SIZE),
                Some(z) => z
                    .compress_to_buffer(&page[..], &mut out)
                    .unwrap_or(PAGE_SIZE),
            };
            c.compressed_bytes += n.min(PAGE_SIZE);
            if n >= huge_threshold {
                c.huge += 1;
                c.objects.push(page.to_vec());
            } else {
                c.objects.push(out[..n].to_vec());
            }
        }
    }
    c
}

fn mib(b: usize) -> f64 {
    b as f64 / (1 << 20) as f64
}

fn lab(o: &Opts) {
    let t = Instant::now();
    let c = load(o);
    let stored: usize = c.objects.iter().map(|v| v.len()).sum();
    let codec = match o.codec {
        Codec::Lz4 => "lz4".to_string(),
        Codec::Zstd(l) => format!("zstd-{l}"),
    };
    println!(
        "input: {} pages ({:.1} MiB), {} same-filled, {} objects; codec {codec}: {:.1} MiB compressed, \
         {} stored whole (>= huge threshold), {:.1} MiB stored; free fraction {}, seed {} ({:.1} s)",
        c.pages_in,
        mib(c.pages_in * PAGE_SIZE),
        c.same_filled,
        c.objects.len(),
        mib(c.compressed_bytes),
        c.huge,
        mib(stored),
        o.free_fraction,
        o.seed,
        t.elapsed().as_secs_f64()
    );
    println!(
        "{:<9} {:>9} {:>10} {:>9} {:>7} {:>7} | {:>9} {:>9} {:>7} {:>7} {:>7} | {:>9} {:>7} | {:>8} {:>8}",
        "backend", "objects", "stored", "pages", "ratio", "ovh%", "live", "pages", "ratio", "ovh%", "freed",
        "refilled", "ovh%", "alloc/s", "free/s"
    );
    for &b in &o.backends {
        run_backend(o, &c, b);
    }
    println!(
        "stored = bytes handed to the pool; ratio = original bytes (same-filled pages included) / pool bytes; \
         ovh% = pool bytes / stored bytes - 1; middle: after freeing the fraction and compact(); \
         refilled: pages after storing the freed objects again (steady churn)."
    );
}

fn run_backend(o: &Opts, c: &Corpus, b: Backend) {
    let provider = HostProvider::new();
    let pool = AnyPool::<_, SpinLockHost>::new(b, &provider).expect("pool");
    let mut handles: Vec<Handle> = Vec::with_capacity(c.objects.len());
    let t = Instant::now();
    for obj in &c.objects {
        let h = pool.alloc(obj.len()).expect("alloc");
        pool.write(h, obj).expect("write");
        handles.push(h);
    }
    let alloc_s = t.elapsed().as_secs_f64();
    let stored: usize = c.objects.iter().map(|v| v.len()).sum();
    let full_pages = pool.total_pages();
    assert_eq!(full_pages, provider.held());
    if o.classes {
        print_classes(&pool, c);
    }
    // Churn: free a seeded random subset.
    let mut rng = SplitMix::new(o.seed);
    let mut order: Vec<usize> = (0..handles.len()).collect();
    rng.shuffle(&mut order);
    let nfree = (handles.len() as f64 * o.free_fraction).round() as usize;
    let mut live = vec![true; handles.len()];
    let t = Instant::now();
    for &i in &order[..nfree] {
        pool.free(handles[i]);
        live[i] = false;
    }
    let free_s = t.elapsed().as_secs_f64();
    let freed = pool.compact();
    let churn_pages = pool.total_pages();
    assert_eq!(churn_pages, provider.held());
    // Verify every remaining object.
    let mut bounce = [0u8; PAGE_SIZE];
    let mut live_bytes = 0;
    let mut live_objs = 0;
    for (i, h) in handles.iter().enumerate() {
        if live[i] {
            live_bytes += c.objects[i].len();
            live_objs += 1;
            pool.read(*h, &mut bounce, |s| {
                assert!(s == &c.objects[i][..], "content mismatch")
            })
            .unwrap();
        }
    }
    // Refill: the freed objects are stored again, as a swap device in steady
    // state stores new pages where old ones were freed.
    for &i in &order[..nfree] {
        let h = pool.alloc(c.objects[i].len()).expect("alloc");
        pool.write(h, &c.objects[i]).expect("write");
        handles[i] = h;
        live[i] = true;
    }
    let refill_pages = pool.total_pages();
    assert_eq!(refill_pages, provider.held());
    let orig_full = c.pages_in * PAGE_SIZE;
    // Same-filled pages are churned at the same rate as the others.
    let orig_live =
        (live_objs + c.same_filled * (handles.len() - nfree) / handles.len().max(1)) * PAGE_SIZE;
    let ratio = |orig: usize, pages: usize| orig as f64 / (pages * PAGE_SIZE).max(1) as f64;
    let ovh = |pages: usize, bytes: usize| {
        ((pages * PAGE_SIZE) as f64 / bytes.max(1) as f64 - 1.0) * 100.0
    };
    println!(
        "{:<9} {:>9} {:>6.1} MiB {:>9} {:>7.3} {:>6.2}% | {:>5.1} MiB {:>9} {:>7.3} {:>6.2}% {:>7} | {:>9} {:>6.2}% | {:>7.2}M {:>7.2}M",
        b.name(),
        handles.len(),
        mib(stored),
        full_pages,
        ratio(orig_full, full_pages),
        ovh(full_pages, stored),
        mib(live_bytes),
        churn_pages,
        ratio(orig_live, churn_pages),
        ovh(churn_pages, live_bytes),
        freed,
        refill_pages,
        ovh(refill_pages, stored),
        handles.len() as f64 / alloc_s / 1e6,
        nfree as f64 / free_s.max(1e-9) / 1e6,
    );
    for (i, h) in handles.iter().enumerate() {
        if live[i] {
            pool.free(*h);
        }
    }
}

/// Per-class table like zsmalloc's debugfs `classes` file, plus where the
/// pool's bytes go.
fn print_classes(pool: &AnyPool<&HostProvider, SpinLockHost>, c: &Corpus) {
    println!(
        "  {:>5} {:>6} {:>6} {:>10} {:>10} {:>8}",
        "class", "size", "pages", "obj_inuse", "obj_alloc", "pages"
    );
    let (mut slot_bytes, mut alloc_bytes, mut class_pages) = (0, 0, 0);
    for i in 0..pool.class_count() {
        let s = pool.class_stats(i).unwrap();
        slot_bytes += s.objs_in_use * s.size;
        alloc_bytes += s.objs_allocated * s.size;
        class_pages += s.pages;
        if s.objs_in_use > 0 {
            println!(
                "  {:>5} {:>6} {:>6} {:>10} {:>10} {:>8}",
                i, s.size, s.pages_per_zspage, s.objs_in_use, s.objs_allocated, s.pages
            );
        }
    }
    let stored: usize = c.objects.iter().map(|v| v.len()).sum();
    println!(
        "  stored {} B; in-use slots {} B (+{:.2}%); all slots {} B (+{:.2}%); class pages {} B (+{:.2}%); metadata pages {}",
        stored,
        slot_bytes,
        (slot_bytes as f64 / stored as f64 - 1.0) * 100.0,
        alloc_bytes,
        (alloc_bytes as f64 / stored as f64 - 1.0) * 100.0,
        class_pages * PAGE_SIZE,
        ((class_pages * PAGE_SIZE) as f64 / stored as f64 - 1.0) * 100.0,
        pool.total_pages() - class_pages
    );
}

fn bench(o: &Opts) {
    const RING: usize = 256;
    let data = vec![0x5au8; o.size];
    println!(
        "single-thread alloc+write+free of {}-byte objects, {} ops, ring of {RING} live objects",
        o.size, o.ops
    );
    for &b in &o.backends {
        let provider = HostProvider::new();
        let pool = AnyPool::<_, SpinLockHost>::new(b, &provider).expect("pool");
        let mut ring: Vec<Handle> = (0..RING)
            .map(|_| pool.alloc(o.size).expect("alloc"))
            .collect();
        let t = Instant::now();
        for i in 0..o.ops {
            let slot = i % RING;
            pool.free(ring[slot]);
            let h = pool.alloc(o.size).expect("alloc");
            pool.write(h, &data).expect("write");
            ring[slot] = h;
        }
        let s = t.elapsed().as_secs_f64();
        println!(
            "{:<9} {:>8.2} M ops/s ({:.1} ns/op)",
            b.name(),
            o.ops as f64 / s / 1e6,
            s * 1e9 / o.ops as f64
        );
        for h in ring {
            pool.free(h);
        }
    }
}

fn main() {
    let o = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("zpool-lab: {e}");
            }
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    };
    if o.bench {
        bench(&o);
    } else {
        lab(&o);
    }
}
