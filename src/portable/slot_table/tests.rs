// SPDX-License-Identifier: GPL-2.0

//! Host tests of the lazily allocated slot table.

use super::*;
use crate::portable::slot::{SlotContent, Spin, FLAG_LOCK};
use crate::portable::test_rng::XorShift;
use std::alloc::{alloc, dealloc, Layout};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::AtomicBool;
use std::sync::{Barrier, Mutex};
use std::thread;

/// A page provider that fills its pages with `fill`, can be told to fail,
/// and checks that every page it gave out comes back exactly once.
struct TestPages {
    fill: u8,
    fail: AtomicBool,
    yield_in_alloc: bool,
    allocs: AtomicUsize,
    frees: AtomicUsize,
    live: Mutex<HashSet<usize>>,
}

impl TestPages {
    fn new(fill: u8) -> Self {
        TestPages {
            fill,
            fail: AtomicBool::new(false),
            yield_in_alloc: false,
            allocs: AtomicUsize::new(0),
            frees: AtomicUsize::new(0),
            live: Mutex::new(HashSet::new()),
        }
    }

    fn allocs(&self) -> usize {
        self.allocs.load(Ordering::Relaxed)
    }

    fn frees(&self) -> usize {
        self.frees.load(Ordering::Relaxed)
    }

    fn live(&self) -> usize {
        self.live.lock().map(|l| l.len()).unwrap_or(usize::MAX)
    }

    fn layout() -> Layout {
        Layout::from_size_align(PAGE_SIZE, PAGE_SIZE).expect("page layout")
    }
}

impl Drop for TestPages {
    fn drop(&mut self) {
        if !thread::panicking() {
            assert_eq!(self.live(), 0, "pages leaked");
            assert_eq!(self.allocs(), self.frees());
        }
    }
}

// SAFETY: Pages come from the global allocator with page size and
// alignment, are filled (initialized) before they are handed out, and are
// deallocated only in `free_page`.
unsafe impl PageProvider for &TestPages {
    fn alloc_page(&self) -> Option<NonNull<u8>> {
        if self.fail.load(Ordering::Relaxed) {
            return None;
        }
        if self.yield_in_alloc {
            thread::yield_now();
        }
        // SAFETY: The layout has a non-zero size.
        let page = NonNull::new(unsafe { alloc(TestPages::layout()) })?;
        // SAFETY: The page is PAGE_SIZE writable bytes we own.
        unsafe { page.as_ptr().write_bytes(self.fill, PAGE_SIZE) };
        assert!(self
            .live
            .lock()
            .expect("lock")
            .insert(page.as_ptr() as usize));
        self.allocs.fetch_add(1, Ordering::Relaxed);
        Some(page)
    }

    unsafe fn free_page(&self, page: NonNull<u8>) {
        let known = self
            .live
            .lock()
            .expect("lock")
            .remove(&(page.as_ptr() as usize));
        assert!(known, "double free or foreign page");
        self.frees.fetch_add(1, Ordering::Relaxed);
        // SAFETY: `page` came from `alloc` with this layout and is freed once.
        unsafe { dealloc(page.as_ptr(), TestPages::layout()) };
    }
}

fn dir(entries: usize) -> Vec<AtomicPtr<Slot>> {
    (0..entries)
        .map(|_| AtomicPtr::new(ptr::null_mut()))
        .collect()
}

type Table<'p> = SlotTable<Vec<AtomicPtr<Slot>>, &'p TestPages>;

fn table(slots: usize, pages: &TestPages) -> Table<'_> {
    // SAFETY: The directory is a fresh `Vec` moved into the table.
    unsafe { SlotTable::new(dir(chunks_for(slots)), slots, pages) }.expect("table")
}

/// What a slot holds, read under its lock.
fn content(slot: &Slot) -> SlotContent {
    slot.lock(&Spin).content()
}

#[test]
fn chunk_geometry() {
    assert_eq!(SLOTS_PER_CHUNK * size_of::<Slot>(), PAGE_SIZE);
    assert_eq!(SLOTS_PER_CHUNK, 256);
    assert_eq!(chunks_for(0), 0);
    assert_eq!(chunks_for(1), 1);
    assert_eq!(chunks_for(255), 1);
    assert_eq!(chunks_for(256), 1);
    assert_eq!(chunks_for(257), 2);
    assert_eq!(chunks_for(1000), 4);
    // disksize=100G: 26,214,400 slots, an 800 KiB directory.
    assert_eq!(chunks_for(26_214_400), 102_400);
    assert_eq!(
        chunks_for(26_214_400) * size_of::<AtomicPtr<Slot>>(),
        800 << 10
    );
    assert_eq!(chunks_for(usize::MAX), usize::MAX / 256 + 1);
    // usize::MAX - 255 is a multiple of 256: the last full chunk.
    assert_eq!(chunks_for(usize::MAX - 255), usize::MAX / 256);
    assert_eq!(chunks_for(usize::MAX - 254), usize::MAX / 256 + 1);
}

#[test]
fn new_checks_the_directory() {
    let pages = TestPages::new(0);
    // SAFETY: The directory is a fresh `Vec` moved into the table.
    let short = unsafe { SlotTable::new(dir(3), 1000, &pages) };
    assert!(short.is_none(), "too short");
    // SAFETY: The directory is a fresh `Vec` moved into the table.
    assert!(unsafe { SlotTable::new(dir(4), 1000, &pages) }.is_some());
    assert!(
        // SAFETY: The directory is a fresh `Vec` moved into the table.
        unsafe { SlotTable::new(dir(9), 1000, &pages) }.is_some(),
        "longer is fine"
    );
    let mut stray = Slot::new();
    let d = dir(4);
    d[3].store(&mut stray, Ordering::Relaxed);
    assert!(
        // SAFETY: The directory is a fresh `Vec` moved into the table.
        unsafe { SlotTable::new(d, 1000, &pages) }.is_none(),
        "non-null entry"
    );
    let d = dir(5);
    d[4].store(&mut stray, Ordering::Relaxed);
    assert!(
        // SAFETY: The directory is a fresh `Vec` moved into the table.
        unsafe { SlotTable::new(d, 1000, &pages) }.is_none(),
        "non-null spare entry"
    );
    // An empty table is valid and holds nothing.
    // SAFETY: The directory is a fresh `Vec` moved into the table.
    let t = unsafe { SlotTable::new(dir(0), 0, &pages) }.expect("empty table");
    assert!(t.is_empty());
    assert!(t.get(0).is_none());
    assert_eq!(t.get_or_alloc(0).err(), Some(SlotTableError::OutOfRange));
    assert_eq!(pages.allocs(), 0);
}

#[test]
fn lazy_allocation_for_a_100g_device() {
    let pages = TestPages::new(0);
    let slots = 26_214_400;
    let t = table(slots, &pages);
    assert_eq!(t.len(), slots);
    for i in (0..slots).step_by(SLOTS_PER_CHUNK * 97).chain([slots - 1]) {
        assert!(t.get(i).is_none());
    }
    assert_eq!(pages.allocs(), 0);
    assert_eq!(t.chunks_allocated(), 0);

    let i = 5_000_000;
    let s = t.get_or_alloc(i).expect("alloc");
    assert_eq!(content(s), SlotContent::Empty);
    assert_eq!((pages.allocs(), t.chunks_allocated()), (1, 1));
    // The same slot again, and its chunk neighbours, without allocating.
    assert!(ptr::eq(t.get_or_alloc(i).expect("again"), s));
    assert!(t.get(i).is_some_and(|g| ptr::eq(g, s)));
    let first = i - i % SLOTS_PER_CHUNK;
    assert!(t.get(first).is_some());
    assert!(t.get(first + SLOTS_PER_CHUNK - 1).is_some());
    assert!(t.get(first + SLOTS_PER_CHUNK).is_none());
    assert!(first == 0 || t.get(first - 1).is_none());
    assert_eq!(pages.allocs(), 1);
    assert!(ptr::eq(*t.pages(), &pages));
}

#[test]
fn out_of_range() {
    let pages = TestPages::new(0);
    let t = table(1000, &pages);
    for i in [1000, 1001, 1024, 1 << 40, usize::MAX] {
        assert!(t.get(i).is_none());
        assert_eq!(t.get_or_alloc(i).err(), Some(SlotTableError::OutOfRange));
    }
    assert_eq!(pages.allocs(), 0);
}

#[test]
fn last_partial_chunk() {
    let pages = TestPages::new(0);
    let t = table(1000, &pages);
    let mut s = t.get_or_alloc(999).expect("last slot").lock(&Spin);
    assert_eq!(s.set(SlotContent::Same(7)), Ok(()));
    drop(s);
    assert!(t.get(768).is_some());
    assert!(t.get(767).is_none());
    assert!(t.get(1000).is_none(), "the chunk's tail is not addressable");
    let mut seen = Vec::new();
    t.for_each(|i, s| seen.push((i, content(s))));
    assert_eq!(seen.len(), 232);
    assert!(seen.iter().map(|&(i, _)| i).eq(768..1000));
    assert_eq!(seen.last(), Some(&(999, SlotContent::Same(7))));
    assert_eq!(t.chunks_allocated(), 1);
}

#[test]
fn dirty_pages_yield_empty_slots() {
    let pages = TestPages::new(0xAA);
    let t = table(600, &pages);
    assert!(t.get_or_alloc(0).is_ok());
    assert!(t.get_or_alloc(599).is_ok());
    let mut n = 0;
    t.for_each(|_, s| {
        assert!(!s.is_locked());
        let g = s.lock(&Spin);
        assert_eq!(g.content(), SlotContent::Empty);
        assert_eq!(g.raw_flags(), FLAG_LOCK);
        n += 1;
    });
    assert_eq!(n, 256 + (600 - 512));
    assert_eq!(t.chunks_allocated(), 2);
}

#[test]
fn no_memory_then_recovery() {
    let pages = TestPages::new(0xAA);
    let t = table(1000, &pages);
    pages.fail.store(true, Ordering::Relaxed);
    assert_eq!(t.get_or_alloc(300).err(), Some(SlotTableError::NoMemory));
    assert!(t.get(300).is_none());
    assert_eq!((t.chunks_allocated(), pages.allocs()), (0, 0));
    pages.fail.store(false, Ordering::Relaxed);
    let s = t.get_or_alloc(300).expect("memory is back");
    assert_eq!(content(s), SlotContent::Empty);
    assert_eq!((t.chunks_allocated(), pages.allocs()), (1, 1));
    // Existing chunks still work while the provider fails.
    pages.fail.store(true, Ordering::Relaxed);
    assert!(t.get_or_alloc(256).is_ok());
    assert_eq!(t.get_or_alloc(0).err(), Some(SlotTableError::NoMemory));
}

#[test]
fn drop_frees_every_chunk_once() {
    let pages = TestPages::new(0);
    let mut d = dir(8);
    {
        let t = SlotTable::new_borrowed(&mut d, 2000, &pages).expect("table");
        for i in [0, 1, 255, 256, 1500, 1999, 1999] {
            assert!(t.get_or_alloc(i).is_ok());
        }
        assert_eq!(t.chunks_allocated(), 4);
        assert_eq!((pages.allocs(), pages.frees(), pages.live()), (4, 0, 4));
    }
    assert_eq!((pages.allocs(), pages.frees(), pages.live()), (4, 4, 0));
    // The directory is all null again and can serve a new table.
    assert!(d.iter().all(|e| e.load(Ordering::Relaxed).is_null()));
    let t = SlotTable::new_borrowed(&mut d, 2000, &pages).expect("reuse");
    assert!(t.get(0).is_none());
}

#[test]
fn send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Table<'static>>();
    check::<SlotTable<&'static mut [AtomicPtr<Slot>], &'static TestPages>>();
}

/// Several threads race `get_or_alloc` over the same chunks: each chunk
/// keeps one page, every thread sees the same slots, losers' pages are freed.
#[test]
fn racing_allocations() {
    let (threads, chunks, rounds) = if cfg!(miri) { (3, 2, 2) } else { (4, 16, 50) };
    let slots = chunks * SLOTS_PER_CHUNK - 3;
    let mut pages = TestPages::new(0xAA);
    pages.yield_in_alloc = true;
    let mut lost = 0;
    for round in 0..rounds {
        let t = table(slots, &pages);
        let start = Barrier::new(threads);
        let seen: Vec<Vec<usize>> = thread::scope(|sc| {
            let workers: Vec<_> = (0..threads)
                .map(|n| {
                    let (t, start) = (&t, &start);
                    sc.spawn(move || {
                        let mut rng = XorShift::new((round * threads + n) as u64 + 1);
                        let mut order: Vec<usize> = (0..chunks).collect();
                        for k in (1..order.len()).rev() {
                            order.swap(k, rng.below(k + 1));
                        }
                        start.wait();
                        let mut seen = vec![0; chunks];
                        for &c in &order {
                            let i = (c * SLOTS_PER_CHUNK + n * 7).min(slots - 1);
                            let s = t.get_or_alloc(i).expect("alloc");
                            let mut g = s.lock(&Spin);
                            let count = match g.content() {
                                SlotContent::Same(v) => v,
                                _ => 0,
                            };
                            assert_eq!(g.set(SlotContent::Same(count + 1)), Ok(()));
                            drop(g);
                            let first = t.get_or_alloc(c * SLOTS_PER_CHUNK).expect("chunk");
                            seen[c] = first as *const Slot as usize;
                        }
                        seen
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().expect("worker"))
                .collect()
        });
        for s in &seen[1..] {
            assert_eq!(s, &seen[0], "every thread sees the same chunks");
        }
        assert_eq!(t.chunks_allocated(), chunks);
        assert_eq!(pages.live(), chunks);
        assert_eq!(pages.allocs() - pages.frees(), chunks);
        let mut total = 0;
        t.for_each(|_, s| {
            if let SlotContent::Same(v) = content(s) {
                total += v;
            }
        });
        assert_eq!(total, threads * chunks);
        lost += pages.frees();
        drop(t);
        assert_eq!(pages.live(), 0);
        assert_eq!(pages.allocs(), pages.frees());
        pages.allocs.store(0, Ordering::Relaxed);
        pages.frees.store(0, Ordering::Relaxed);
    }
    println!("racing_allocations: {lost} losing pages given back");
}

/// Random get / get_or_alloc / set / take operations against a model: a
/// map of non-empty slots and the set of allocated chunks.
#[test]
fn matches_a_model() {
    let (seeds, steps): (u64, usize) = if cfg!(miri) { (2, 300) } else { (20, 5000) };
    for seed in 1..=seeds {
        let pages = TestPages::new(0xAA);
        let slots = [0, 1, 255, 256, 257, 1000, 3000][seed as usize % 7];
        let t = table(slots, &pages);
        let mut rng = XorShift::new(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let mut model: HashMap<usize, SlotContent> = HashMap::new();
        let mut chunks: HashSet<usize> = HashSet::new();
        for _ in 0..steps {
            let i = match rng.below(10) {
                0 => slots + rng.below(300),
                1 => usize::MAX - rng.below(3),
                _ => rng.below(slots.max(1)),
            };
            let inside = i < slots;
            let want = model.get(&i).copied().unwrap_or(SlotContent::Empty);
            pages.fail.store(rng.below(8) == 0, Ordering::Relaxed);
            match rng.below(4) {
                0 => match t.get(i) {
                    Some(s) => {
                        assert!(chunks.contains(&(i / SLOTS_PER_CHUNK)) && inside);
                        assert_eq!(content(s), want);
                    }
                    None => {
                        assert!(!inside || !chunks.contains(&(i / SLOTS_PER_CHUNK)));
                        assert_eq!(want, SlotContent::Empty);
                    }
                },
                1 => match t.get_or_alloc(i) {
                    Ok(s) => {
                        assert!(inside);
                        chunks.insert(i / SLOTS_PER_CHUNK);
                        assert_eq!(content(s), want);
                    }
                    Err(SlotTableError::OutOfRange) => assert!(!inside),
                    Err(SlotTableError::NoMemory) => {
                        assert!(inside && pages.fail.load(Ordering::Relaxed));
                        assert!(!chunks.contains(&(i / SLOTS_PER_CHUNK)));
                    }
                },
                op => {
                    let Ok(s) = t.get_or_alloc(i) else { continue };
                    chunks.insert(i / SLOTS_PER_CHUNK);
                    let mut g = s.lock(&Spin);
                    if op == 2 {
                        let c = if rng.below(2) == 0 {
                            SlotContent::Same(rng.next_u64() as usize)
                        } else {
                            SlotContent::Stored {
                                handle: rng.next_u64() as usize,
                                size: rng.below(PAGE_SIZE + 1),
                                huge: rng.below(2) == 0,
                            }
                        };
                        assert_eq!(g.replace(c), Ok(want));
                        model.insert(i, c);
                    } else {
                        assert_eq!(g.take(), want);
                        model.remove(&i);
                    }
                }
            }
            assert_eq!(t.chunks_allocated(), chunks.len());
            assert_eq!(pages.live(), chunks.len());
        }
        let mut visited = 0;
        let mut last = None;
        t.for_each(|i, s| {
            assert!(last < Some(i), "index order");
            last = Some(i);
            assert!(i < slots && chunks.contains(&(i / SLOTS_PER_CHUNK)));
            assert_eq!(
                content(s),
                model.get(&i).copied().unwrap_or(SlotContent::Empty)
            );
            visited += 1;
        });
        let expected: usize = chunks
            .iter()
            .map(|&c| (slots - c * SLOTS_PER_CHUNK).min(SLOTS_PER_CHUNK))
            .sum();
        assert_eq!(visited, expected);
        drop(t);
        assert_eq!(pages.live(), 0);
    }
}
