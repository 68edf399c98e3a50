// SPDX-License-Identifier: GPL-2.0

//! Unit tests of the block bitmap.

use super::*;
use std::{collections::BTreeSet, sync::Arc, thread, vec::Vec};

fn map(len: usize) -> Blocks<Vec<AtomicUsize>> {
    let words = (0..words_for(len).unwrap())
        .map(|_| AtomicUsize::new(0))
        .collect();
    Blocks::new(words, len).unwrap()
}

#[test]
fn reserves_in_order_then_runs_out() {
    for len in [1, 63, 64, 65, 130] {
        let m = map(len);
        for i in 0..len {
            assert_eq!(m.reserve(), Some(i));
        }
        assert_eq!(m.reserve(), None, "len {len}");
        assert!(m.release(len / 2));
        assert!(!m.release(len / 2));
        assert!(!m.in_use(len / 2));
        assert_eq!(m.reserve(), Some(len / 2));
        assert!(!m.release(len));
        assert!(!m.release(usize::MAX));
    }
    assert!(Blocks::new(Vec::<AtomicUsize>::new(), 1).is_none());
    let empty = Blocks::new(Vec::<AtomicUsize>::new(), 0).unwrap();
    assert_eq!(empty.reserve(), None);
    assert_eq!(words_for(usize::MAX), None);
}

#[test]
fn reserves_next_fit_and_wraps() {
    let m = map(130);
    for i in 0..70 {
        assert_eq!(m.reserve(), Some(i));
    }
    // A hole behind the hint is not reused while blocks ahead are free.
    assert!(m.release(3));
    assert!(m.release(66));
    assert_eq!(m.reserve(), Some(70));
    for i in 71..130 {
        assert_eq!(m.reserve(), Some(i));
    }
    // At the end the search wraps: the holes, lowest first, then none.
    assert_eq!(m.reserve(), Some(3));
    assert_eq!(m.reserve(), Some(66));
    assert_eq!(m.reserve(), None);
    // A hole in the word the hint points into, below the hint, is found
    // on the way round.
    assert!(m.release(65));
    assert!(m.release(129));
    assert_eq!(m.reserve(), Some(129));
    assert_eq!(m.reserve(), Some(65));
}

#[test]
fn concurrent_reserve_and_release_never_share() {
    let m = Arc::new(map(200));
    let hs: Vec<_> = (0..4)
        .map(|_| {
            let m = m.clone();
            thread::spawn(move || {
                let mut got = Vec::new();
                for round in 0..2000 {
                    if let Some(b) = m.reserve() {
                        got.push(b);
                    }
                    if round % 3 == 0 {
                        if let Some(b) = got.pop() {
                            assert!(m.release(b));
                        }
                    }
                }
                got
            })
        })
        .collect();
    let mut all = BTreeSet::new();
    for h in hs {
        for b in h.join().unwrap() {
            assert!(all.insert(b), "block {b} handed out twice");
        }
    }
    for b in 0..200 {
        assert_eq!(m.in_use(b), all.contains(&b));
    }
}
