// SPDX-License-Identifier: GPL-2.0
//! Unit tests of the zsmalloc-style backend.

use super::super::zpool::testing::{self, check, pattern, HostProvider};
use super::super::zpool::SpinLockHost;
use super::*;
use class::ClassInfo;

type Pool<'a> = ZsPool<&'a HostProvider, SpinLockHost>;

#[test]
fn boundary_sizes() {
    let tp = HostProvider::new();
    let pool = Pool::new(&tp).unwrap();
    assert_eq!(pool.alloc(0), Err(AllocError::InvalidSize));
    assert_eq!(pool.alloc(PAGE_SIZE + 1), Err(AllocError::InvalidSize));
    let last = CLASSES[NR_CLASSES - 1].size - OBJ_HEADER;
    let mut sizes = vec![
        1,
        2,
        11,
        12,
        13,
        16,
        28,
        29,
        2048,
        last,
        last + 1,
        PAGE_SIZE - 1,
        PAGE_SIZE,
    ];
    for c in CLASSES.iter() {
        sizes.push(c.size - OBJ_HEADER);
        sizes.push(c.size - OBJ_HEADER + 1);
    }
    let mut hs = Vec::new();
    // Three objects per size reach a second object in most classes; one
    // keeps the test to minutes under Miri.
    let per_size = if cfg!(miri) { 1 } else { 3 };
    for &len in &sizes {
        for _ in 0..per_size {
            let h = pool.alloc(len).unwrap();
            assert_eq!(h.len(), len);
            pool.write(h, &pattern(h, len)).unwrap();
            hs.push(h);
        }
    }
    assert_eq!(pool.total_pages(), tp.held());
    for &h in &hs {
        check(&pool, h);
    }
    for h in hs.drain(..) {
        pool.free(h);
    }
    // Only metadata pages remain.
    assert_eq!(
        pool.total_pages(),
        pool.handles.pages() + pool.descs.pages() + pool.classes.pages()
    );
    assert_eq!(pool.total_pages(), tp.held());
}

#[test]
fn straddling_objects_and_bounce() {
    let tp = HostProvider::new();
    let pool = Pool::new(&tp).unwrap();
    // 3000-byte objects: slots straddle pages.
    let hs: Vec<_> = (0..40).map(|_| pool.alloc(3000).unwrap()).collect();
    assert!(testing::bounced(&pool, &hs) > 0);
    drop(pool);
    assert_eq!(tp.held(), 0);
}

#[test]
fn invalid_handles_are_refused() {
    let tp = HostProvider::new();
    let pool = Pool::new(&tp).unwrap();
    let h = pool.alloc(100).unwrap();
    let mut b = [0u8; PAGE_SIZE];
    assert_eq!(pool.write(h, &[0; 99]), Err(AccessError::LengthMismatch));
    let forged = Handle::pack(5000, 100, h.tag()).unwrap();
    assert_eq!(
        pool.read(forged, &mut b, |_| ()),
        Err(AccessError::InvalidHandle)
    );
    let wrong_class = Handle::pack(h.index().unwrap(), 100, h.tag() + 1).unwrap();
    assert_eq!(
        pool.read(wrong_class, &mut b, |_| ()),
        Err(AccessError::InvalidHandle)
    );
    pool.free(forged);
    pool.free(h);
    pool.free(h); // double free is ignored
    assert_eq!(
        pool.read(h, &mut b, |_| ()),
        Err(AccessError::InvalidHandle)
    );
    let hh = pool.alloc(PAGE_SIZE).unwrap();
    pool.free(hh);
    pool.free(hh);
    assert_eq!(pool.total_pages(), tp.held());
}

#[test]
// Tens of thousands of objects: hours under Miri; the smaller tests cover
// the same code there.
#[cfg_attr(miri, ignore)]
fn compaction_frees_sparse_zspages() {
    let tp = HostProvider::new();
    let pool = Pool::new(&tp).unwrap();
    // Enough objects that whole-zspage granularity (up to 12 pages) matters
    // little.
    let mut hs: Vec<_> = (0..12000)
        .map(|i| pool.alloc(200 + (i % 7) * 100).unwrap())
        .collect();
    for &h in &hs {
        pool.write(h, &pattern(h, h.len())).unwrap();
    }
    let before = pool.total_pages();
    let mut kept = Vec::new();
    for (i, h) in hs.drain(..).enumerate() {
        if i % 4 == 0 {
            kept.push(h);
        } else {
            pool.free(h);
        }
    }
    let mid = pool.total_pages();
    let freed = pool.compact();
    assert!(freed > 0);
    assert_eq!(pool.total_pages(), mid - freed);
    assert!(
        pool.total_pages() < before / 3,
        "{} vs {before}",
        pool.total_pages()
    );
    assert_eq!(pool.total_pages(), tp.held());
    for &h in &kept {
        check(&pool, h);
    }
    assert_eq!(pool.compact(), 0);
    let mut in_use = 0;
    for i in 0..pool.class_count() {
        in_use += pool.class_stats(i).unwrap().objs_in_use;
    }
    assert_eq!(in_use, kept.len());
    assert!(pool.class_stats(pool.class_count()).is_none());
}

#[test]
fn provider_failure_is_clean() {
    let tp = HostProvider::new();
    let pool = Pool::new(&tp).unwrap();
    testing::provider_failure_is_clean(&pool, &tp);
}

#[test]
// Tens of thousands of objects: hours under Miri; the smaller tests cover
// the same code there.
#[cfg_attr(miri, ignore)]
fn density_of_uniform_objects() {
    let tp = HostProvider::new();
    let pool = Pool::new(&tp).unwrap();
    testing::uniform_density(&pool);
}

/// A class whose zspages have several pages and whose slots straddle pages.
fn lazy_class() -> (usize, ClassInfo) {
    let c = CLASSES
        .iter()
        .position(|i| i.pages >= 4 && i.size > 1000 && !PAGE_SIZE.is_multiple_of(i.size))
        .unwrap();
    (c, CLASSES[c])
}

fn class_pages(pool: &Pool, c: usize) -> usize {
    pool.class_stats(c).unwrap().pages
}

#[test]
fn pages_are_attached_lazily() {
    let tp = HostProvider::new();
    let pool = Pool::new(&tp).unwrap();
    let (c, info) = lazy_class();
    let len = info.size - OBJ_HEADER;
    let per_page = PAGE_SIZE / info.size;
    let mut hs = Vec::new();
    // The first object of a fresh zspage takes exactly one page.
    hs.push(pool.alloc(len).unwrap());
    assert_eq!(class_pages(&pool, c), 1);
    assert_eq!(pool.zspage_pages.load(Ordering::Relaxed), 1);
    // Objects that fit the first page take no more.
    while hs.len() < per_page {
        hs.push(pool.alloc(len).unwrap());
        assert_eq!(class_pages(&pool, c), 1);
    }
    let st = pool.class_stats(c).unwrap();
    assert_eq!(
        (st.objs_allocated, st.objs_in_use, st.zspages),
        (per_page, per_page, 1)
    );
    // The next object straddles into page 2, which gets attached.
    let h = pool.alloc(len).unwrap();
    hs.push(h);
    assert_eq!(class_pages(&pool, c), 2);
    for &h in &hs {
        pool.write(h, &pattern(h, len)).unwrap();
    }
    let mut bounce = [0u8; PAGE_SIZE];
    let bp = bounce.as_ptr() as usize;
    assert!(
        pool.read(h, &mut bounce, |s| s.as_ptr() as usize == bp)
            .unwrap(),
        "straddles"
    );
    // Fill the zspage: exactly its pages get attached, then a second zspage
    // starts with one page.
    while hs.len() < info.objs {
        hs.push(pool.alloc(len).unwrap());
    }
    let needed = (info.objs * info.size).div_ceil(PAGE_SIZE);
    assert_eq!(class_pages(&pool, c), needed);
    hs.push(pool.alloc(len).unwrap());
    assert_eq!(class_pages(&pool, c), needed + 1);
    assert_eq!(pool.class_stats(c).unwrap().zspages, 2);
    assert_eq!(pool.total_pages(), tp.held());
    for &h in &hs {
        pool.write(h, &pattern(h, len)).unwrap();
    }
    for &h in &hs {
        check(&pool, h);
    }
    // Releasing an emptied zspage gives back only its attached pages.
    let last = hs.pop().unwrap();
    pool.free(last);
    assert_eq!(class_pages(&pool, c), needed);
    for h in hs.drain(..) {
        pool.free(h);
    }
    assert_eq!(class_pages(&pool, c), 0);
    assert_eq!(pool.total_pages(), tp.held());
    assert_eq!(pool.zspage_pages.load(Ordering::Relaxed), 0);
}

#[test]
fn attach_failure_is_clean() {
    let tp = HostProvider::new();
    let pool = Pool::new(&tp).unwrap();
    let (c, info) = lazy_class();
    let len = info.size - OBJ_HEADER;
    let per_page = PAGE_SIZE / info.size;
    // A new zspage needs a page and a descriptor; with a budget of one page
    // the descriptor table cannot grow and the page is given back.
    tp.budget.store(1, Ordering::Relaxed);
    assert_eq!(pool.alloc(len), Err(AllocError::NoMemory));
    assert_eq!(pool.total_pages(), tp.held());
    assert_eq!(class_pages(&pool, c), 0);
    tp.budget.store(usize::MAX, Ordering::Relaxed);
    let mut hs: Vec<_> = (0..per_page).map(|_| pool.alloc(len).unwrap()).collect();
    for &h in &hs {
        pool.write(h, &pattern(h, len)).unwrap();
    }
    let before = pool.class_stats(c).unwrap();
    // The next object needs a second page: the provider fails.
    tp.budget.store(0, Ordering::Relaxed);
    for _ in 0..3 {
        assert_eq!(pool.alloc(len), Err(AllocError::NoMemory));
    }
    assert_eq!(pool.class_stats(c).unwrap(), before);
    assert_eq!(pool.total_pages(), tp.held());
    // Compaction never needs the provider.
    pool.compact();
    assert_eq!(pool.total_pages(), tp.held());
    for &h in &hs {
        check(&pool, h);
    }
    // Freed attached slots are reused without the provider.
    let h = hs.pop().unwrap();
    pool.free(h);
    let h = pool.alloc(len).unwrap();
    pool.write(h, &pattern(h, len)).unwrap();
    hs.push(h);
    tp.budget.store(usize::MAX, Ordering::Relaxed);
    let h = pool.alloc(len).unwrap();
    pool.write(h, &pattern(h, len)).unwrap();
    hs.push(h);
    assert_eq!(class_pages(&pool, c), 2);
    for &h in &hs {
        check(&pool, h);
    }
    assert_eq!(pool.total_pages(), tp.held());
    drop(pool);
    assert_eq!(tp.held(), 0);
}

#[test]
fn compaction_uses_only_attached_slots() {
    let tp = HostProvider::new();
    let pool = Pool::new(&tp).unwrap();
    let (c, info) = lazy_class();
    let len = info.size - OBJ_HEADER;
    // Two zspages: a full one and a growing one with a few objects.
    let mut hs: Vec<_> = (0..info.objs + 3)
        .map(|_| pool.alloc(len).unwrap())
        .collect();
    for &h in &hs {
        pool.write(h, &pattern(h, len)).unwrap();
    }
    assert_eq!(pool.class_stats(c).unwrap().zspages, 2);
    // Free two objects of the full zspage: not enough room for the growing
    // zspage's three, so compaction moves nothing.
    for i in [0, 5] {
        pool.free(hs.swap_remove(i));
    }
    tp.budget.store(0, Ordering::Relaxed);
    assert_eq!(pool.compact(), 0);
    // With room for all three, the growing zspage empties into the full one.
    pool.free(hs.swap_remove(7));
    let pages = class_pages(&pool, c);
    let growing_pages = (3 * info.size).div_ceil(PAGE_SIZE);
    assert_eq!(pool.compact(), growing_pages);
    assert_eq!(class_pages(&pool, c), pages - growing_pages);
    let st = pool.class_stats(c).unwrap();
    assert_eq!(
        (st.zspages, st.objs_in_use, st.objs_allocated),
        (1, info.objs, info.objs)
    );
    assert_eq!(pool.total_pages(), tp.held());
    for &h in &hs {
        check(&pool, h);
    }
    // The zspage is full: the next object starts a new zspage.
    tp.budget.store(usize::MAX, Ordering::Relaxed);
    hs.push(pool.alloc(len).unwrap());
    assert_eq!(pool.class_stats(c).unwrap().zspages, 2);
    drop(pool);
    assert_eq!(tp.held(), 0);
}
