// SPDX-License-Identifier: GPL-2.0

//! Host tests of the LRU list: unit cases and a model test against a
//! `VecDeque` of indices, cold first.

use super::*;
use crate::portable::test_rng::XorShift;
use std::collections::VecDeque;

fn lru(slots: usize) -> Lru<Vec<Link>> {
    Lru::new(vec![Link::default(); slots]).expect("zeroed links")
}

/// Walks the list both ways, checking every link against its neighbours,
/// the ends, `len` and `contains`; returns the indices cold first.
fn walk(l: &Lru<Vec<Link>>) -> Vec<usize> {
    let mut order = Vec::new();
    let mut prev = 0u32;
    let mut cur = l.cold;
    while cur != 0 {
        assert!(order.len() < l.links.len(), "cycle in next links");
        let index = decode(cur).expect("non-zero code");
        let link = l.links.get(index).expect("link in range");
        assert_eq!(link.prev, prev, "prev of {index} does not mirror next");
        order.push(index);
        prev = cur;
        cur = link.next;
    }
    assert_eq!(l.hot, prev, "hot end is not the last of the walk");
    assert_eq!(order.len(), l.len(), "len");
    assert_eq!(l.is_empty(), order.is_empty());
    assert_eq!(l.coldest(), order.first().copied());
    for (i, link) in l.links.iter().enumerate() {
        let linked = order.contains(&i);
        assert_eq!(l.contains(i), linked, "contains({i})");
        if !linked {
            assert_eq!((link.prev, link.next), (0, 0), "stale link at {i}");
        }
    }
    order
}

#[test]
fn link_is_eight_bytes() {
    assert_eq!(size_of::<Link>(), 8);
}

#[test]
fn new_checks_the_links() {
    assert!(Lru::new(Vec::<Link>::new()).is_some(), "no slots");
    let mut links = vec![Link::default(); 4];
    links[2].next = 1;
    assert!(Lru::new(links).is_none(), "non-zero link");
    let mut links = vec![Link::default(); 4];
    links[3].prev = 3;
    assert!(Lru::new(links).is_none(), "non-zero link");
}

/// `new` refuses more than `u32::MAX` links, but such a slice would take
/// 32 GiB here, so the boundary is checked on the encoding itself.
#[test]
fn encoding_limits() {
    assert_eq!(encode(0), Some(1));
    assert_eq!(encode(u32::MAX as usize - 1), Some(u32::MAX));
    assert_eq!(encode(u32::MAX as usize), None);
    assert_eq!(encode(usize::MAX), None);
    assert_eq!(decode(0), None);
    assert_eq!(decode(1), Some(0));
    assert_eq!(decode(u32::MAX), Some(u32::MAX as usize - 1));
}

#[test]
fn empty() {
    let mut l = lru(5);
    assert_eq!(walk(&l), []);
    assert!(l.is_empty());
    assert_eq!(l.coldest(), None);
    assert!(!l.contains(0));
    let mut out = [usize::MAX; 3];
    assert_eq!(l.rotate_coldest(&mut out), 0);
    assert_eq!(out, [usize::MAX; 3], "nothing written");
    l.remove(2);
    assert_eq!(walk(&l), []);
    let mut none = lru(0);
    none.touch(0);
    assert_eq!(walk(&none), []);
}

#[test]
fn single() {
    let mut l = lru(5);
    l.touch(3);
    assert_eq!(walk(&l), [3]);
    assert!(l.contains(3));
    assert_eq!(l.coldest(), Some(3));
    l.touch(3);
    assert_eq!(walk(&l), [3], "touching the only entry changes nothing");
    l.remove(3);
    assert_eq!(walk(&l), []);
    assert!(!l.contains(3));
    l.touch(0);
    assert_eq!(walk(&l), [0], "index 0 encodes as 1, not as none");
}

#[test]
fn touch_moves_to_the_hot_end() {
    let mut l = lru(8);
    for i in [4, 1, 6, 2] {
        l.touch(i);
    }
    assert_eq!(walk(&l), [4, 1, 6, 2]);
    l.touch(4);
    assert_eq!(walk(&l), [1, 6, 2, 4], "cold end moved");
    l.touch(6);
    assert_eq!(walk(&l), [1, 2, 4, 6], "middle moved");
    l.touch(6);
    assert_eq!(walk(&l), [1, 2, 4, 6], "hot end stays");
    l.touch(7);
    assert_eq!(walk(&l), [1, 2, 4, 6, 7], "new entry at the hot end");
}

#[test]
fn remove_cold_hot_and_middle() {
    let mut l = lru(10);
    for i in 0..6 {
        l.touch(i);
    }
    l.remove(0);
    assert_eq!(walk(&l), [1, 2, 3, 4, 5], "cold end");
    l.remove(5);
    assert_eq!(walk(&l), [1, 2, 3, 4], "hot end");
    l.remove(3);
    assert_eq!(walk(&l), [1, 2, 4], "middle");
    l.remove(3);
    assert_eq!(walk(&l), [1, 2, 4], "twice is a no-op");
    l.remove(9);
    assert_eq!(walk(&l), [1, 2, 4], "never linked");
    l.touch(3);
    assert_eq!(walk(&l), [1, 2, 4, 3], "linked again after removal");
}

#[test]
fn out_of_range_is_a_no_op() {
    let mut l = lru(4);
    l.touch(1);
    l.touch(2);
    for i in [4, 5, u32::MAX as usize, usize::MAX] {
        l.touch(i);
        l.remove(i);
        assert!(!l.contains(i));
    }
    assert_eq!(walk(&l), [1, 2]);
}

#[test]
fn rotate_fewer_entries_than_out() {
    let mut l = lru(10);
    for i in [7, 3, 5] {
        l.touch(i);
    }
    let mut out = [usize::MAX; 6];
    assert_eq!(l.rotate_coldest(&mut out), 3, "no entry twice");
    assert_eq!(out, [7, 3, 5, usize::MAX, usize::MAX, usize::MAX]);
    assert_eq!(walk(&l), [7, 3, 5], "a full rotation keeps the order");
}

#[test]
fn rotate_takes_cold_first_and_moves_them_hot() {
    let mut l = lru(10);
    for i in [9, 0, 4, 8, 2] {
        l.touch(i);
    }
    let mut out = [0; 2];
    assert_eq!(l.rotate_coldest(&mut out), 2);
    assert_eq!(out, [9, 0]);
    assert_eq!(walk(&l), [4, 8, 2, 9, 0]);
    assert_eq!(l.rotate_coldest(&mut out), 2);
    assert_eq!(out, [4, 8], "the next batch is the next coldest");
    assert_eq!(walk(&l), [2, 9, 0, 4, 8]);
    assert_eq!(l.rotate_coldest(&mut []), 0);
    assert_eq!(walk(&l), [2, 9, 0, 4, 8], "an empty batch changes nothing");
    let mut one = [0; 1];
    assert_eq!(l.rotate_coldest(&mut one), 1);
    assert_eq!(one, [2]);
    l.remove(2);
    assert_eq!(walk(&l), [9, 0, 4, 8], "a rotated entry can be removed");
}

/// Random touch / remove / rotate_coldest sequences against a model: a
/// `VecDeque` of the linked indices, cold first, checked after every step
/// (order both ways, ends, `len`, `contains` of every index).
#[test]
fn matches_a_model() {
    let (seeds, steps): (u64, usize) = if cfg!(miri) { (3, 200) } else { (40, 3000) };
    for seed in 1..=seeds {
        let slots = [0, 1, 2, 3, 8, 17, 64][seed as usize % 7];
        let mut l = lru(slots);
        let mut model: VecDeque<usize> = VecDeque::new();
        let mut rng = XorShift::new(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        for _ in 0..steps {
            // Mostly in range, sometimes just past the end or far out.
            let i = match rng.below(12) {
                0 => slots + rng.below(3),
                1 => usize::MAX - rng.below(2),
                _ => rng.below(slots.max(1)),
            };
            match rng.below(7) {
                0..=2 => {
                    l.touch(i);
                    if i < slots {
                        model.retain(|&m| m != i);
                        model.push_back(i);
                    }
                }
                3 | 4 => {
                    l.remove(i);
                    model.retain(|&m| m != i);
                }
                5 => {
                    let mut out = vec![usize::MAX; rng.below(slots + 3)];
                    let n = l.rotate_coldest(&mut out);
                    let want = out.len().min(model.len());
                    assert_eq!(n, want, "seed {seed}: rotated count");
                    for (k, &got) in out.iter().enumerate() {
                        if k < want {
                            let m = model.pop_front().expect("model entry");
                            assert_eq!(got, m, "seed {seed}: rotated order");
                            model.push_back(m);
                        } else {
                            assert_eq!(got, usize::MAX, "seed {seed}: wrote past count");
                        }
                    }
                }
                _ => {
                    assert_eq!(l.coldest(), model.front().copied(), "seed {seed}");
                }
            }
            assert_eq!(walk(&l), Vec::from(model.clone()), "seed {seed}: order");
            for j in 0..slots + 2 {
                assert_eq!(l.contains(j), model.contains(&j), "seed {seed}: {j}");
            }
        }
    }
}
