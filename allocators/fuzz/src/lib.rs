// SPDX-License-Identifier: GPL-2.0
//! Model driven by fuzzer bytes: the same operations as
//! `allocators/tests/model.rs`, checked against a map of expected bytes.

use allocators::{AnyPool, Backend, Handle, PageProvider, SpinLockHost, PAGE_SIZE};
use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::ptr::NonNull;
use std::sync::Mutex;

/// Host pages with an allocation budget, tracking what it has handed out.
struct Provider {
    held: Mutex<HashSet<usize>>,
    budget: Mutex<Option<usize>>,
}

fn layout() -> Layout {
    Layout::from_size_align(PAGE_SIZE, PAGE_SIZE).unwrap()
}

// SAFETY: zeroed, page-sized and page-aligned heap blocks, freed only once
// through `free_page`.
unsafe impl PageProvider for &Provider {
    fn alloc_page(&self) -> Option<NonNull<u8>> {
        let mut b = self.budget.lock().unwrap();
        match b.as_mut() {
            Some(0) => return None,
            Some(n) => *n -= 1,
            None => {}
        }
        // SAFETY: non-zero size.
        let p = NonNull::new(unsafe { alloc_zeroed(layout()) })?;
        assert!(self.held.lock().unwrap().insert(p.as_ptr() as usize));
        Some(p)
    }

    unsafe fn free_page(&self, page: NonNull<u8>) {
        assert!(self.held.lock().unwrap().remove(&(page.as_ptr() as usize)));
        // SAFETY: allocated with this layout in `alloc_page`.
        unsafe { dealloc(page.as_ptr(), layout()) };
    }
}

struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }
    fn u16(&mut self) -> Option<u16> {
        Some(u16::from(self.u8()?) << 8 | u16::from(self.u8()?))
    }
}

/// Runs the operations encoded in `data` on a pool of `backend`.
pub fn run(backend: Backend, data: &[u8]) {
    let provider = Provider { held: Mutex::new(HashSet::new()), budget: Mutex::new(None) };
    let pool = AnyPool::<_, SpinLockHost>::new(backend, &provider).unwrap();
    let live: RefCell<HashMap<Handle, Vec<u8>>> = RefCell::new(HashMap::new());
    let mut order: Vec<Handle> = Vec::new();
    let mut bounce = [0u8; PAGE_SIZE];
    let counter = Cell::new(0u8);
    let mut input = Bytes(data);
    while let Some(op) = input.u8() {
        match op % 8 {
            0..=2 => {
                let Some(raw) = input.u16() else { break };
                let len = match raw >> 13 {
                    0 => (raw as usize % 64) + 1,
                    1 => PAGE_SIZE - (raw as usize % 600),
                    _ => (raw as usize % PAGE_SIZE) + 1,
                };
                if let Ok(h) = pool.alloc(len) {
                    assert_eq!(h.len(), len);
                    counter.set(counter.get().wrapping_add(1));
                    let v: Vec<u8> = (0..len).map(|i| (i as u8) ^ counter.get()).collect();
                    pool.write(h, &v).unwrap();
                    assert!(live.borrow_mut().insert(h, v).is_none());
                    order.push(h);
                }
            }
            3 | 4 if !order.is_empty() => {
                let i = input.u16().unwrap_or(0) as usize % order.len();
                let h = order.swap_remove(i);
                live.borrow_mut().remove(&h);
                pool.free(h);
                if op & 0x80 != 0 {
                    pool.free(h);
                }
            }
            5 if !order.is_empty() => {
                let i = input.u16().unwrap_or(0) as usize % order.len();
                let h = order[i];
                let want = live.borrow()[&h].clone();
                pool.read(h, &mut bounce, |s| assert!(s == &want[..])).unwrap();
            }
            6 => {
                let before = pool.total_pages();
                let freed = pool.compact();
                assert_eq!(pool.total_pages(), before - freed);
            }
            7 => {
                let b = input.u8().unwrap_or(255);
                *provider.budget.lock().unwrap() = if b >= 16 { None } else { Some(b as usize) };
            }
            _ => {}
        }
        assert_eq!(pool.total_pages(), provider.held.lock().unwrap().len());
    }
    for (&h, want) in live.borrow().iter() {
        pool.read(h, &mut bounce, |s| assert!(s == &want[..])).unwrap();
    }
    drop(pool);
    assert!(provider.held.lock().unwrap().is_empty());
}
