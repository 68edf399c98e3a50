// SPDX-License-Identifier: GPL-2.0
//! Model driven by fuzzer bytes: the same operations as
//! `allocators/tests/model.rs`, checked against a map of expected bytes.

use allocators::{AnyPool, Backend, Handle, SpinLockHost, PAGE_SIZE};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;

/// The integration tests' host provider: pages with an allocation budget,
/// tracking what it has handed out.
#[path = "../../tests/common/mod.rs"]
mod common;
use common::HostProvider;

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
    let provider = HostProvider::new();
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
                pool.read(h, &mut bounce, |s| assert!(s == &want[..]))
                    .unwrap();
            }
            6 => {
                let before = pool.total_pages();
                let freed = pool.compact();
                assert_eq!(pool.total_pages(), before - freed);
            }
            7 => {
                let b = input.u8().unwrap_or(255);
                provider.set_budget(if b >= 16 { usize::MAX } else { b as usize });
            }
            _ => {}
        }
        assert_eq!(pool.total_pages(), provider.held());
    }
    for (&h, want) in live.borrow().iter() {
        pool.read(h, &mut bounce, |s| assert!(s == &want[..]))
            .unwrap();
    }
    drop(pool);
    assert_eq!(provider.held(), 0);
}
