// SPDX-License-Identifier: GPL-2.0
//! Unit tests of the chunked backends: first what both must do, run for
//! each header, then what is particular to zbud and to z3fold.

use std::sync::atomic::Ordering;

use super::super::zpool::testing::{check, fill, HostProvider};
use super::super::zpool::{AccessError, AllocError, Handle, SpinLockHost, Zpool, PAGE_SIZE};
use super::z3fold::{self, Z3foldPool};
use super::zbud::{self, ZbudPool};
use super::{ChunkedPool, PageHeader};

type Pool<'a, H> = ChunkedPool<&'a HostProvider, SpinLockHost, H>;
type Zbud<'a> = ZbudPool<&'a HostProvider, SpinLockHost>;
type Z3fold<'a> = Z3foldPool<&'a HostProvider, SpinLockHost>;

/// Refuses lengths 0 and `PAGE_SIZE + 1`, allocates one object of each of
/// `sizes` and of the sizes around the largest headed object, fills and
/// checks them all and checks the page count; then frees every handle twice
/// (the second free is ignored) and checks that only the metadata pages
/// remain.
fn boundaries<H: PageHeader>(sizes: &[usize]) {
    let tp = HostProvider::new();
    let pool = Pool::<H>::new(&tp).unwrap();
    assert_eq!(pool.alloc(0), Err(AllocError::InvalidSize));
    assert_eq!(pool.alloc(PAGE_SIZE + 1), Err(AllocError::InvalidSize));
    let edges = [
        H::MAX_HEADED - 1,
        H::MAX_HEADED,
        H::MAX_HEADED + 1,
        PAGE_SIZE,
    ];
    let hs: Vec<_> = sizes
        .iter()
        .chain(&edges)
        .map(|&l| pool.alloc(l).unwrap())
        .collect();
    for &h in &hs {
        fill(&pool, h);
    }
    for &h in &hs {
        check(&pool, h);
    }
    assert_eq!(pool.total_pages(), tp.held());
    let s = pool.class_stats(0).unwrap();
    assert!(s.objs_in_use <= H::SLOTS * s.pages);
    for h in hs {
        pool.free(h);
        pool.free(h);
    }
    assert_eq!(pool.total_pages(), pool.meta_pages());
    assert_eq!(pool.total_pages(), tp.held());
}

#[test]
fn zbud_boundaries() {
    assert_eq!(<zbud::Header as PageHeader>::MAX_HEADED, 4032);
    boundaries::<zbud::Header>(&[1, 63, 64, 65, 2016, 2017]);
}

#[test]
fn z3fold_boundaries() {
    assert_eq!(<z3fold::Header as PageHeader>::MAX_HEADED, 4064);
    boundaries::<z3fold::Header>(&[1, 31, 32, 33, 1344, 2032]);
}

/// Page-provider failure. The first page-table record takes three pages
/// (root, directory and leaf), so a budget of 3 fails on the data page; then
/// one page holds a small object and none is left for a headless object.
fn provider_failure<H: PageHeader>() {
    let tp = HostProvider::new();
    let pool = Pool::<H>::new(&tp).unwrap();
    tp.budget.store(0, Ordering::Relaxed);
    assert_eq!(pool.alloc(100), Err(AllocError::NoMemory));
    tp.budget.store(3, Ordering::Relaxed);
    assert_eq!(pool.alloc(100), Err(AllocError::NoMemory));
    assert_eq!(pool.total_pages(), tp.held());
    tp.budget.store(1, Ordering::Relaxed);
    let h = pool.alloc(100).unwrap();
    assert_eq!(
        pool.alloc(H::MAX_HEADED + 1).map(|_| ()),
        Err(AllocError::NoMemory)
    );
    fill(&pool, h);
    check(&pool, h);
    assert_eq!(pool.total_pages(), tp.held());
}

#[test]
fn provider_failure_is_clean() {
    provider_failure::<zbud::Header>();
    provider_failure::<z3fold::Header>();
}

/// Handles that do not name a live object of the right size and slot are
/// refused by every entry point.
fn forged_handles<H: PageHeader>() {
    let tp = HostProvider::new();
    let pool = Pool::<H>::new(&tp).unwrap();
    let h = pool.alloc(100).unwrap();
    let big = pool.alloc(PAGE_SIZE).unwrap();
    fill(&pool, h);
    let mut b = [0; PAGE_SIZE];
    let idx = h.index().unwrap();
    let forged = [
        Handle::pack(idx, 200, h.tag()).unwrap(),
        Handle::pack(idx, 100, h.tag().wrapping_add(1)).unwrap(),
        Handle::pack(idx, 100, 0).unwrap(),
        Handle::pack(idx, 100, H::HEADLESS).unwrap(),
        Handle::pack(idx + 100, 100, h.tag()).unwrap(),
        Handle::pack(big.index().unwrap(), 100, h.tag()).unwrap(),
        Handle::pack(big.index().unwrap(), 100, H::HEADLESS).unwrap(),
    ];
    for f in forged {
        assert_eq!(
            pool.read(f, &mut b, |_| ()),
            Err(AccessError::InvalidHandle),
            "{f:?}"
        );
        pool.free(f);
    }
    check(&pool, h);
    assert_eq!(pool.write(h, &[0; 99]), Err(AccessError::LengthMismatch));
    pool.free(h);
    pool.free(big);
    assert_eq!(pool.total_pages(), pool.meta_pages());
}

#[test]
fn forged_handles_are_refused() {
    forged_handles::<zbud::Header>();
    forged_handles::<z3fold::Header>();
}

#[test]
fn zbud_two_halves_share_a_page_and_free_it() {
    let tp = HostProvider::new();
    let pool = Zbud::new(&tp).unwrap();
    let a = pool.alloc(2000).unwrap();
    let b = pool.alloc(1984).unwrap();
    assert_eq!(a.index(), b.index());
    let c = pool.alloc(100).unwrap();
    assert_ne!(c.index(), a.index());
    let data_pages = pool.total_pages() - pool.meta_pages();
    assert_eq!(data_pages, 2);
    pool.free(a);
    pool.free(b);
    assert_eq!(pool.total_pages() - pool.meta_pages(), 1);
    let mut bb = [0; PAGE_SIZE];
    assert_eq!(
        pool.read(a, &mut bb, |_| ()),
        Err(AccessError::InvalidHandle)
    );
    pool.free(c);
    assert_eq!(pool.total_pages(), tp.held());
}

#[test]
fn z3fold_three_per_page_and_middle_moves() {
    let tp = HostProvider::new();
    let pool = Z3fold::new(&tp).unwrap();
    let a = pool.alloc(1000).unwrap();
    let b = pool.alloc(1000).unwrap();
    let c = pool.alloc(1000).unwrap();
    assert_eq!(a.index(), b.index());
    assert_eq!(a.index(), c.index());
    // First, last, middle.
    assert_eq!((a.tag(), b.tag(), c.tag()), (1, 3, 2));
    for h in [a, b, c] {
        fill(&pool, h);
    }
    // Freeing the first object moves the middle one to the page start, so
    // a 2000-byte object now fits in the same page.
    pool.free(a);
    check(&pool, c);
    let d = pool.alloc(1900).unwrap();
    assert_eq!(d.index(), c.index());
    fill(&pool, d);
    for h in [b, c, d] {
        check(&pool, h);
    }
    assert_eq!(pool.total_pages() - pool.meta_pages(), 1);
    assert_eq!(pool.compact(), 0);
    for h in [b, c, d] {
        check(&pool, h);
        pool.free(h);
    }
    assert_eq!(pool.total_pages(), tp.held());
    assert_eq!(pool.total_pages(), pool.meta_pages());
}

#[test]
fn z3fold_pinned_page_is_compacted_later() {
    let tp = HostProvider::new();
    let pool = Z3fold::new(&tp).unwrap();
    let a = pool.alloc(1000).unwrap();
    let b = pool.alloc(1000).unwrap();
    let c = pool.alloc(1000).unwrap();
    for h in [a, b, c] {
        fill(&pool, h);
    }
    let mut bounce = [0u8; PAGE_SIZE];
    // Free `a` while `b` is being read: the middle object must stay put.
    pool.read(b, &mut bounce, |_| pool.free(a)).unwrap();
    check(&pool, c);
    // Now unpinned: `compact` moves it to the page start, and a 2000-byte
    // object fits in the same page.
    pool.compact();
    check(&pool, c);
    check(&pool, b);
    let d = pool.alloc(1900).unwrap();
    assert_eq!(d.index(), c.index());
}
