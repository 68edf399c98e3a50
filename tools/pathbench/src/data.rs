// SPDX-License-Identifier: GPL-2.0
//! The data sets and the objects the driver would store for them.

use crate::corpus::{collect_files, same_filled};
use allocators::PAGE_SIZE;
use std::path::Path;

/// One page as the driver would store it.
pub struct Obj {
    pub data: Vec<u8>,
}

/// Compressed pages this long or longer are kept uncompressed, as the
/// driver keeps them (zram's `huge_class_size`).
pub const HUGE_THRESHOLD: usize = allocators::zsmalloc::class::HUGE_OBJ_LEN;

/// What the driver stores for page `p`: its lz4 compression, written to
/// `buf` (two pages), or the page itself if that is [`HUGE_THRESHOLD`]
/// bytes or longer.
pub fn stored<'a>(p: &'a [u8; PAGE_SIZE], buf: &'a mut [u8]) -> &'a [u8] {
    let len = lz4_flex::block::compress_into(p, buf).unwrap_or(PAGE_SIZE);
    if len >= HUGE_THRESHOLD {
        &p[..]
    } else {
        &buf[..len]
    }
}

/// The page back from what [`stored`] made of it.
pub fn unpack(src: &[u8], dst: &mut [u8; PAGE_SIZE]) {
    if src.len() == PAGE_SIZE {
        dst.copy_from_slice(src);
    } else {
        let n = lz4_flex::block::decompress_into(src, dst).expect("decompress");
        assert_eq!(n, PAGE_SIZE);
    }
}

pub struct DataSet {
    pub name: &'static str,
    pub pages: Vec<[u8; PAGE_SIZE]>,
}

pub fn splitmix(s: &mut u64) -> u64 {
    *s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *s;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

pub fn c50(pages: usize) -> DataSet {
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

pub fn files(dir: &Path, max_pages: usize) -> DataSet {
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

/// The c50 objects, compressed as the driver would store them.
pub fn c50_objects(max_pages: usize) -> Vec<Obj> {
    let set = c50(max_pages);
    let mut buf = vec![0u8; 2 * PAGE_SIZE];
    set.pages
        .iter()
        .map(|p| Obj {
            data: stored(p, &mut buf).to_vec(),
        })
        .collect()
}
