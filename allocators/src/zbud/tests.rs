// SPDX-License-Identifier: GPL-2.0
//! Unit tests of the zbud-style backend.

use super::super::zpool::testing::{
    alloc_fill_check, chunked_provider_failure, free_twice, TestProvider,
};
use super::super::zpool::SpinLockHost;
use super::*;

type Pool<'a> = ZbudPool<&'a TestProvider, SpinLockHost>;

#[test]
fn boundaries_and_pairing() {
    let tp = TestProvider::new();
    let pool = Pool::new(&tp).unwrap();
    let sizes = [
        1,
        63,
        64,
        65,
        2016,
        2017,
        MAX_BUDDY - 1,
        MAX_BUDDY,
        MAX_BUDDY + 1,
        PAGE_SIZE,
    ];
    let hs = alloc_fill_check(&pool, &tp, &sizes);
    let s = pool.class_stats(0).unwrap();
    assert!(s.objs_in_use <= 2 * s.pages);
    free_twice(&pool, &tp, hs, |p| p.core.meta_pages());
}

#[test]
fn two_halves_share_a_page_and_free_it() {
    let tp = TestProvider::new();
    let pool = Pool::new(&tp).unwrap();
    let a = pool.alloc(2000).unwrap();
    let b = pool.alloc(1984).unwrap();
    assert_eq!(a.index(), b.index());
    let c = pool.alloc(100).unwrap();
    assert_ne!(c.index(), a.index());
    let data_pages = pool.total_pages() - pool.core.meta_pages();
    assert_eq!(data_pages, 2);
    pool.free(a);
    pool.free(b);
    assert_eq!(pool.total_pages() - pool.core.meta_pages(), 1);
    let mut bb = [0; PAGE_SIZE];
    assert_eq!(
        pool.read(a, &mut bb, |_| ()),
        Err(AccessError::InvalidHandle)
    );
    pool.free(c);
    assert_eq!(pool.total_pages(), tp.held());
}

#[test]
fn provider_failure_is_clean() {
    let tp = TestProvider::new();
    let pool = Pool::new(&tp).unwrap();
    chunked_provider_failure(&pool, &tp, 4000);
}
