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
mod data;
mod mix;
mod pages;
mod passes;
mod tables;
mod timing;

use allocators::Backend;
use pages::FRESH_PAGES;
use std::path::PathBuf;

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
        tables::profile_store(&backends, max_pages, store_loop);
        return;
    }
    tables::main_tables(&dir, max_pages, reps, &backends);
}
