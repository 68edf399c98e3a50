// SPDX-License-Identifier: GPL-2.0
//! Unit tests of the z3fold-style backend.

use super::super::zpool::testing::{
    alloc_fill_check, check, chunked_provider_failure, fill, free_twice, TestProvider,
};
use super::super::zpool::SpinLockHost;
use super::*;

type Pool<'a> = Z3foldPool<&'a TestProvider, SpinLockHost>;

#[test]
fn boundaries() {
    let tp = TestProvider::new();
    let pool = Pool::new(&tp).unwrap();
    let sizes = [
        1,
        31,
        32,
        33,
        1344,
        2032,
        MAX_HEADED - 1,
        MAX_HEADED,
        MAX_HEADED + 1,
        PAGE_SIZE,
    ];
    let hs = alloc_fill_check(&pool, &tp, &sizes);
    free_twice(&pool, &tp, hs, |p| p.core.meta_pages());
}

#[test]
fn three_per_page_and_middle_moves() {
    let tp = TestProvider::new();
    let pool = Pool::new(&tp).unwrap();
    let a = pool.alloc(1000).unwrap();
    let b = pool.alloc(1000).unwrap();
    let c = pool.alloc(1000).unwrap();
    assert_eq!(a.index(), b.index());
    assert_eq!(a.index(), c.index());
    assert_eq!((a.tag(), b.tag(), c.tag()), (FIRST, LAST, MIDDLE));
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
    assert_eq!(pool.total_pages() - pool.core.meta_pages(), 1);
    assert_eq!(pool.compact(), 0);
    for h in [b, c, d] {
        check(&pool, h);
        pool.free(h);
    }
    assert_eq!(pool.total_pages(), tp.held());
    assert_eq!(pool.total_pages(), pool.core.meta_pages());
}

#[test]
fn pinned_page_is_compacted_later() {
    let tp = TestProvider::new();
    let pool = Pool::new(&tp).unwrap();
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
    pool.compact();
    check(&pool, c);
    check(&pool, b);
}

#[test]
fn provider_failure_is_clean() {
    let tp = TestProvider::new();
    let pool = Pool::new(&tp).unwrap();
    chunked_provider_failure(&pool, &tp, 4050);
}
