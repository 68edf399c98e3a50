// SPDX-License-Identifier: GPL-2.0
//! Unit tests of the zblock-style backend.

use super::super::zpool::testing::{self, check, pattern, HostProvider};
use super::super::zpool::SpinLockHost;
use super::*;
use block::backed_slots;
use class::ClassInfo;

type Pool<'a> = ZblockPool<&'a HostProvider, SpinLockHost>;

/// Pages that are not block or huge pages.
fn meta(pool: &Pool) -> usize {
    pool.blocks.pages() + pool.huge.pages() + pool.classes.pages()
}

fn class_pages(pool: &Pool, c: usize) -> usize {
    pool.class_stats(c).unwrap().pages
}

/// A class whose blocks have several pages and whose slots straddle pages.
fn straddling_class() -> (usize, ClassInfo) {
    let c = CLASSES
        .iter()
        .position(|i| i.pages >= 4 && i.size > 1000 && !PAGE_SIZE.is_multiple_of(i.size))
        .unwrap();
    (c, CLASSES[c])
}

#[test]
fn boundary_sizes() {
    let tp = HostProvider::new();
    let pool = Pool::new(&tp).unwrap();
    assert_eq!(pool.alloc(0), Err(AllocError::InvalidSize));
    assert_eq!(pool.alloc(PAGE_SIZE + 1), Err(AllocError::InvalidSize));
    let last = class::MAX_CLASS_LEN;
    let mut sizes = vec![
        1,
        2,
        15,
        16,
        17,
        63,
        64,
        65,
        2048,
        2049,
        last,
        last + 1,
        PAGE_SIZE - 1,
        PAGE_SIZE,
    ];
    // Under Miri (far slower) every 16th class, once.
    let (step, copies) = if cfg!(miri) { (16, 1) } else { (1, 3) };
    for c in CLASSES.iter().step_by(step) {
        sizes.push(c.size);
        sizes.push(c.size + 1);
    }
    let mut hs = Vec::new();
    for &len in &sizes {
        for _ in 0..copies {
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
        pool.free(h);
    }
    // Each class keeps at most its spare's one page until `compact`.
    let spares = pool.total_pages() - meta(&pool);
    assert!(spares <= NR_CLASSES);
    assert_eq!(pool.compact(), spares);
    assert_eq!(pool.total_pages(), meta(&pool));
    assert_eq!(pool.total_pages(), tp.held());
}

#[test]
fn straddling_objects_use_the_bounce_buffer() {
    let tp = HostProvider::new();
    let pool = Pool::new(&tp).unwrap();
    let (_, info) = straddling_class();
    let hs: Vec<_> = (0..info.objs)
        .map(|_| pool.alloc(info.size).unwrap())
        .collect();
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
    let idx = h.index().unwrap();
    // Another slot of the same block, never allocated.
    let unused = Handle::pack(idx + 1, 100, h.tag()).unwrap();
    assert_eq!(
        pool.read(unused, &mut b, |_| ()),
        Err(AccessError::InvalidHandle)
    );
    pool.free(unused);
    // A block that does not exist.
    let forged = Handle::pack(5000 << SLOT_BITS, 100, h.tag()).unwrap();
    assert_eq!(
        pool.read(forged, &mut b, |_| ()),
        Err(AccessError::InvalidHandle)
    );
    pool.free(forged);
    // The right slot named with another class.
    let wrong_class = Handle::pack(idx, 100, h.tag() + 1).unwrap();
    assert_eq!(
        pool.read(wrong_class, &mut b, |_| ()),
        Err(AccessError::InvalidHandle)
    );
    pool.free(wrong_class);
    // A length the class cannot hold.
    let too_long = Handle::pack(idx, PAGE_SIZE, h.tag()).unwrap();
    assert_eq!(
        pool.read(too_long, &mut b, |_| ()),
        Err(AccessError::InvalidHandle)
    );
    check(&pool, {
        pool.write(h, &pattern(h, 100)).unwrap();
        h
    });
    pool.free(h);
    pool.free(h); // double free is ignored
    assert_eq!(
        pool.read(h, &mut b, |_| ()),
        Err(AccessError::InvalidHandle)
    );
    let hh = pool.alloc(PAGE_SIZE).unwrap();
    pool.free(hh);
    pool.free(hh);
    assert_eq!(
        pool.read(hh, &mut b, |_| ()),
        Err(AccessError::InvalidHandle)
    );
    assert_eq!(pool.total_pages(), tp.held());
}

#[test]
fn blocks_fill_before_new_ones_and_attach_lazily() {
    let tp = HostProvider::new();
    let pool = Pool::new(&tp).unwrap();
    let (c, info) = straddling_class();
    let per_page = PAGE_SIZE / info.size;
    let mut hs = vec![pool.alloc(info.size).unwrap()];
    assert_eq!(class_pages(&pool, c), 1);
    while hs.len() < per_page {
        hs.push(pool.alloc(info.size).unwrap());
        assert_eq!(class_pages(&pool, c), 1);
    }
    // The next slot straddles into page 2, which gets attached.
    hs.push(pool.alloc(info.size).unwrap());
    assert_eq!(class_pages(&pool, c), 2);
    while hs.len() < info.objs {
        hs.push(pool.alloc(info.size).unwrap());
    }
    let st = pool.class_stats(c).unwrap();
    assert_eq!(
        (st.zspages, st.pages, st.objs_in_use),
        (1, info.pages, info.objs)
    );
    assert_eq!(st.objs_allocated, info.objs);
    // Full: the next object starts a second block with one page.
    hs.push(pool.alloc(info.size).unwrap());
    let st = pool.class_stats(c).unwrap();
    assert_eq!((st.zspages, st.pages), (2, info.pages + 1));
    // A slot freed in the full block is reused before the second block's.
    let freed = hs.swap_remove(3);
    pool.free(freed);
    let again = pool.alloc(info.size).unwrap();
    assert_eq!(again.index(), freed.index());
    hs.push(again);
    for &h in &hs {
        pool.write(h, &pattern(h, info.size)).unwrap();
    }
    for &h in &hs {
        check(&pool, h);
    }
    assert_eq!(pool.total_pages(), tp.held());
    drop(pool);
    assert_eq!(tp.held(), 0);
}

#[test]
fn empty_blocks_are_freed_or_kept_as_spare() {
    let tp = HostProvider::new();
    let pool = Pool::new(&tp).unwrap();
    let (c, info) = straddling_class();
    let mut hs: Vec<_> = (0..info.objs + 1)
        .map(|_| pool.alloc(info.size).unwrap())
        .collect();
    assert_eq!(pool.class_stats(c).unwrap().zspages, 2);
    // Emptying the second block while the first has room frees it at once.
    let last = hs.pop().unwrap();
    pool.free(hs.pop().unwrap());
    pool.free(last);
    let st = pool.class_stats(c).unwrap();
    assert_eq!((st.zspages, st.pages), (1, info.pages));
    // Emptying the last block keeps it, with one page, as the spare.
    for h in hs.drain(..) {
        pool.free(h);
    }
    let st = pool.class_stats(c).unwrap();
    assert_eq!((st.zspages, st.pages, st.objs_in_use), (1, 1, 0));
    assert_eq!(st.objs_allocated, backed_slots(1, &info));
    // The spare takes the next object without the provider.
    tp.budget.store(0, Ordering::Relaxed);
    let h = pool.alloc(info.size).unwrap();
    pool.free(h);
    assert_eq!(pool.total_pages(), tp.held());
    // Compaction frees the spare and nothing else.
    let before = pool.total_pages();
    assert_eq!(pool.compact(), 1);
    assert_eq!(pool.total_pages(), before - 1);
    assert_eq!(
        pool.class_stats(c).unwrap(),
        ClassStats {
            size: info.size,
            pages_per_zspage: info.pages,
            objs_per_zspage: info.objs,
            ..ClassStats::default()
        }
    );
    assert_eq!(pool.compact(), 0);
    assert_eq!(pool.total_pages(), tp.held());
}

#[test]
fn provider_failure_is_clean() {
    let tp = HostProvider::new();
    let pool = Pool::new(&tp).unwrap();
    testing::provider_failure_is_clean(&pool, &tp);
}

#[test]
fn attach_failure_is_clean() {
    let tp = HostProvider::new();
    let pool = Pool::new(&tp).unwrap();
    let (c, info) = straddling_class();
    let per_page = PAGE_SIZE / info.size;
    // A new block needs a page and a descriptor; with a budget of one page
    // the block table cannot grow and the page is given back.
    tp.budget.store(1, Ordering::Relaxed);
    assert_eq!(pool.alloc(info.size), Err(AllocError::NoMemory));
    assert_eq!(pool.total_pages(), tp.held());
    assert_eq!(class_pages(&pool, c), 0);
    tp.budget.store(usize::MAX, Ordering::Relaxed);
    let mut hs: Vec<_> = (0..per_page)
        .map(|_| pool.alloc(info.size).unwrap())
        .collect();
    for &h in &hs {
        pool.write(h, &pattern(h, info.size)).unwrap();
    }
    let before = pool.class_stats(c).unwrap();
    tp.budget.store(0, Ordering::Relaxed);
    for _ in 0..3 {
        assert_eq!(pool.alloc(info.size), Err(AllocError::NoMemory));
    }
    assert_eq!(pool.class_stats(c).unwrap(), before);
    assert_eq!(pool.total_pages(), tp.held());
    // Freed attached slots are reused without the provider.
    let h = hs.pop().unwrap();
    pool.free(h);
    let h = pool.alloc(info.size).unwrap();
    pool.write(h, &pattern(h, info.size)).unwrap();
    hs.push(h);
    tp.budget.store(usize::MAX, Ordering::Relaxed);
    for &h in &hs {
        check(&pool, h);
    }
    drop(pool);
    assert_eq!(tp.held(), 0);
}

#[test]
#[cfg_attr(miri, ignore = "60000 objects: too slow under Miri")]
fn density_of_uniform_objects() {
    let tp = HostProvider::new();
    let pool = Pool::new(&tp).unwrap();
    let over = testing::uniform_density(&pool);
    println!("zblock uniform 300..3300: {over:.2}% over");
}

#[test]
fn stats_add_up() {
    let tp = HostProvider::new();
    let pool = Pool::new(&tp).unwrap();
    let n = if cfg!(miri) { 200 } else { 3000 };
    let hs: Vec<_> = (0..n)
        .map(|i| pool.alloc(1 + (i * 37) % PAGE_SIZE).unwrap())
        .collect();
    let (mut inuse, mut pages) = (0, 0);
    for i in 0..pool.class_count() {
        let s = pool.class_stats(i).unwrap();
        assert!(s.objs_in_use <= s.objs_allocated);
        assert!(s.pages <= s.zspages * s.pages_per_zspage);
        inuse += s.objs_in_use;
        pages += s.pages;
    }
    assert!(pool.class_stats(pool.class_count()).is_none());
    assert_eq!(inuse, hs.len());
    assert_eq!(pages + meta(&pool), pool.total_pages());
}
