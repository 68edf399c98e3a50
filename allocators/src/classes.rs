// SPDX-License-Identifier: GPL-2.0
//! Size-class tables, computed at compile time: the one builder behind the
//! zsmalloc-style classes (`zsmalloc/class.rs`) and the zblock-style ones
//! (`zblock/class.rs`), which differ only in their [`Geometry`].
//!
//! Raw classes are every multiple of `step` up to [`PAGE_SIZE`]. For each
//! raw slot size the span length (1..=`max_pages` pages: a zspage or a
//! block) that stores the most bytes per page is chosen, with at most
//! `max_objs` slots per span; that layout is then repeated as often as both
//! limits allow (same use of pages, fewer descriptors; pages are attached
//! lazily, so a long span costs no more than a short one while it is partly
//! used). Neighbouring raw classes with the same (pages, objects) layout use
//! memory identically and are merged into the largest of them, as zsmalloc
//! does. From the first raw size whose best layout stores no more than one
//! object per page ([`Geometry::huge_slot`]) upwards, objects are huge: a
//! page each, without a span.
//!
//! Every `const fn` here is evaluated at compile time only (each caller is a
//! `const` item), so an overflow in them is a build error, never a run-time
//! panic. Slices are walked by splitting them, so that no index can be out
//! of bounds.

use super::zpool::PAGE_SIZE;

/// The parameters of one backend's class table.
pub(crate) struct Geometry {
    /// Slot granularity: the smallest slot and the step between raw classes.
    pub(crate) step: usize,
    /// Bytes each object carries in its slot besides its own.
    pub(crate) header: usize,
    /// Longest span in pages.
    pub(crate) max_pages: usize,
    /// Most slots in one span.
    pub(crate) max_objs: usize,
    /// A longer span must use its pages better by more than this many
    /// thousandths of a percent to be chosen over a shorter one: each
    /// distinct layout is a class of its own, and each class keeps one
    /// partly used page.
    pub(crate) tolerance: usize,
}

/// Layout of one merged size class.
///
/// # Invariants
///
/// For every entry of a backend's class table (checked at build time by
/// [`Geometry::classes`]): `header < size <= PAGE_SIZE`,
/// `1 <= pages <= max_pages`, `1 <= objs <= max_objs` and
/// `objs * size <= pages * PAGE_SIZE`. Unsafe code writes slots at
/// `obj * size` for `obj < objs` into a span of `pages` pages, relying on
/// this.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClassInfo {
    /// Slot size in bytes, header included.
    pub size: usize,
    /// Pages per span (zspage or block).
    pub pages: usize,
    /// Objects (slots) per span.
    pub objs: usize,
}

/// What an object of some length is stored as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SizeClass {
    /// In merged class `c`.
    Class(usize),
    /// One page of its own.
    Huge,
}

impl Geometry {
    /// Slots of `size` bytes that fit `pages` pages, at most `max_objs`.
    const fn objs_in(&self, pages: usize, size: usize) -> usize {
        let n = pages * PAGE_SIZE / size;
        if n > self.max_objs {
            self.max_objs
        } else {
            n
        }
    }

    /// Best (pages, objs) for `size`-byte slots: the fewest pages that reach
    /// the highest use of the span (a longer one must win by more than
    /// `tolerance`), repeated as often as `max_pages` and `max_objs` allow.
    pub(crate) const fn best_layout(&self, size: usize) -> (usize, usize) {
        let mut best_p = 1;
        let mut best_n = self.objs_in(1, size);
        let mut best_use = best_n * size * 100_000 / PAGE_SIZE;
        let mut p = 2;
        while p <= self.max_pages {
            let n = self.objs_in(p, size);
            let usage = n * size * 100_000 / (p * PAGE_SIZE);
            if usage > best_use + self.tolerance {
                best_p = p;
                best_n = n;
                best_use = usage;
            }
            p += 1;
        }
        let by_pages = self.max_pages / best_p;
        let by_objs = self.max_objs / best_n;
        let k = if by_pages < by_objs {
            by_pages
        } else {
            by_objs
        };
        (best_p * k, best_n * k)
    }

    /// Smallest raw slot size stored one object per page: slots that reach
    /// it are huge.
    pub(crate) const fn huge_slot(&self) -> usize {
        let mut size = self.step;
        while size <= PAGE_SIZE {
            let (p, n) = self.best_layout(size);
            if n <= p {
                return size;
            }
            size += self.step;
        }
        PAGE_SIZE
    }

    /// Raw classes below the huge threshold: the length `N` of
    /// [`Geometry::merge_map`]'s map.
    pub(crate) const fn raw_classes(&self) -> usize {
        self.huge_slot() / self.step - 1
    }

    /// Raw class index (`(slot - 1) / step`) to merged class, and the number
    /// of merged classes. `N` is [`Geometry::raw_classes`]; merged class
    /// numbers must fit a `u8` (each backend asserts fewer than 255).
    pub(crate) const fn merge_map<const N: usize>(&self) -> ([u8; N], usize) {
        // Walk from the largest raw class down; a raw class joins the class
        // above it when both have the same layout.
        let mut map = [0u8; N];
        let mut n = 0;
        let mut prev = (0, 0);
        let mut rest: &mut [u8] = &mut map;
        while let Some((last, front)) = rest.split_last_mut() {
            // Raw class `front.len()`, whose slot is that plus one steps.
            let l = self.best_layout((front.len() + 1) * self.step);
            if l.0 != prev.0 || l.1 != prev.1 {
                n += 1;
                prev = l;
            }
            // Numbered from the top for now; flipped below.
            *last = n as u8;
            rest = front;
        }
        // Renumber so that class 0 is the smallest.
        let mut rest: &mut [u8] = &mut map;
        while let Some((first, tail)) = rest.split_first_mut() {
            *first = (n - *first as usize) as u8;
            rest = tail;
        }
        (map, n)
    }

    /// The merged classes of `map` (from [`Geometry::merge_map`]), smallest
    /// first; `N` is its class count.
    pub(crate) const fn classes<const N: usize>(&self, map: &[u8]) -> [ClassInfo; N] {
        let mut out = [ClassInfo {
            size: 0,
            pages: 0,
            objs: 0,
        }; N];
        let mut raw = map;
        let mut size = self.step;
        while let Some((&c, tail)) = raw.split_first() {
            let (pages, objs) = self.best_layout(size);
            // Raw classes ascend, so the last one written is the largest. A
            // class number past `out` is a build error (compile-time panic).
            match out.split_at_mut_checked(c as usize) {
                Some((_, [slot, ..])) => *slot = ClassInfo { size, pages, objs },
                _ => panic!("merged class out of range"),
            }
            size += self.step;
            raw = tail;
        }
        // The `ClassInfo` invariant, for every class: a class that breaks it
        // is a build error (compile-time panic). Checked here rather than by
        // each table's own `const` assertion, which rustc 1.85 would count as
        // no use of a checking function (dead code).
        let mut rest: &[ClassInfo] = &out;
        while let Some((c, tail)) = rest.split_first() {
            assert!(c.size > self.header && c.size <= PAGE_SIZE);
            assert!(c.pages >= 1 && c.pages <= self.max_pages);
            assert!(c.objs >= 1 && c.objs <= self.max_objs);
            assert!(c.objs * c.size <= c.pages * PAGE_SIZE);
            rest = tail;
        }
        out
    }

    /// Class for an object of `len` bytes (1..=PAGE_SIZE, checked by the
    /// caller; 0 and lengths past the table, however large, are huge), by
    /// `map` from [`Geometry::merge_map`].
    pub(crate) fn class_for(&self, map: &[u8], len: usize) -> SizeClass {
        // Raw class `(len + header - 1) / step`.
        let raw = len
            .checked_add(self.header)
            .and_then(|s| s.checked_sub(1))
            .and_then(|s| s.checked_div(self.step))
            .and_then(|i| map.get(i));
        match raw {
            Some(&c) => SizeClass::Class(usize::from(c)),
            None => SizeClass::Huge,
        }
    }
}

/// Checks shared by the class tables' unit tests.
#[cfg(test)]
// Tests index their own tables: an index out of bounds fails the test.
#[allow(clippy::indexing_slicing)]
pub(crate) mod testing {
    use super::*;

    /// The classes ascend in `step`s, store more than one object per page,
    /// the last one is the largest non-huge slot, and `class_for` picks the
    /// smallest class that holds each length.
    pub(crate) fn check_table(
        g: &Geometry,
        classes: &[ClassInfo],
        class_for: impl Fn(usize) -> SizeClass,
    ) {
        let mut prev = 0;
        for c in classes {
            assert!(c.size > prev && c.size % g.step == 0);
            assert!(c.objs > c.pages && c.pages <= g.max_pages && c.objs <= g.max_objs);
            assert!(c.objs * c.size <= c.pages * PAGE_SIZE);
            prev = c.size;
        }
        let last = classes[classes.len() - 1].size;
        assert_eq!(last, g.huge_slot() - g.step);
        assert_eq!(class_for(1), SizeClass::Class(0));
        assert_eq!(class_for(g.step - g.header), SizeClass::Class(0));
        assert_eq!(
            class_for(last - g.header),
            SizeClass::Class(classes.len() - 1)
        );
        assert_eq!(class_for(last - g.header + 1), SizeClass::Huge);
        assert_eq!(class_for(PAGE_SIZE), SizeClass::Huge);
        for len in 1..=PAGE_SIZE {
            match class_for(len) {
                SizeClass::Class(c) => {
                    assert!(classes[c].size >= len + g.header);
                    if c > 0 {
                        assert!(classes[c - 1].size < len + g.header);
                    }
                }
                SizeClass::Huge => assert!(len + g.header > last),
            }
        }
    }

    /// Prints the table (informational: run a test that calls this with
    /// `-- --nocapture`).
    pub(crate) fn print_table(g: &Geometry, classes: &[ClassInfo]) {
        for (i, c) in classes.iter().enumerate() {
            let tail = c.pages * PAGE_SIZE - c.objs * c.size;
            println!(
                "{i:3} size {:4} pages {:2} objs {:4} tail {tail:4} ({:.2}%)",
                c.size,
                c.pages,
                c.objs,
                tail as f64 * 100.0 / (c.pages * PAGE_SIZE) as f64
            );
        }
        println!("huge slot {}, {} classes", g.huge_slot(), classes.len());
    }
}
