// SPDX-License-Identifier: GPL-2.0
//! One pass over all objects: store, store from a hot buffer, load.

use crate::data::{unpack, Obj};
use crate::pages::Pool;
use crate::timing::ticks;
use allocators::{Handle, PAGE_SIZE};

/// Stores `objs` as the driver does: each compressed page is first in a
/// buffer the compressor just wrote (hot in cache), then alloc + write copy
/// it into the pool, whose pages are cold. Only alloc + write are timed
/// (TSC, less the timer's own cost). Returns the handles and the ticks.
pub fn store_hot(pool: &Pool<'_>, objs: &[Obj], overhead: u64) -> (Vec<Handle>, u64) {
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
pub fn evict(scratch: &mut [u8]) {
    for (i, b) in scratch.iter_mut().enumerate().step_by(64) {
        *b = b.wrapping_add(i as u8);
    }
    std::hint::black_box(&scratch);
}

pub fn store(pool: &Pool<'_>, objs: &[Obj]) -> Vec<Handle> {
    objs.iter()
        .map(|o| {
            let h = pool.alloc(o.data.len()).expect("alloc");
            pool.write(h, &o.data).expect("write");
            h
        })
        .collect()
}

pub fn load(pool: &Pool<'_>, handles: &[Handle], out: &mut [[u8; PAGE_SIZE]]) {
    let mut bounce = [0u8; PAGE_SIZE];
    for (&h, dst) in handles.iter().zip(out.iter_mut()) {
        pool.read(h, &mut bounce, |src| unpack(src, dst))
            .expect("read");
    }
}
