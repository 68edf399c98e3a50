// SPDX-License-Identifier: GPL-2.0
//! Size-class table of the zsmalloc-style backend, computed at compile time.
//!
//! Raw classes are every multiple of [`CLASS_DELTA`] from [`MIN_SLOT`] to
//! [`PAGE_SIZE`]. For each raw slot size the zspage length (1..=[`MAX_PAGES`]
//! pages) that stores the most bytes per page is chosen, then repeated as
//! often as [`MAX_PAGES`] allows (fewer descriptors for the same use of
//! pages; see `best_layout`). Neighbouring raw classes with the same pages per
//! zspage and objects per zspage use memory identically, so they are merged
//! into the largest of them, as zsmalloc does. From the first raw class whose
//! best layout is one object per page ([`HUGE_SLOT`]) upwards, objects are
//! "huge" and take a page each without a zspage.

use super::super::zpool::PAGE_SIZE;

/// Slot granularity: the smallest slot and the step between raw classes.
/// 16 bytes like zsmalloc's ZS_SIZE_CLASS_DELTA on 4 KiB pages: finer steps
/// would save little (≤ 15 bytes per object) and double the class count.
pub const CLASS_DELTA: usize = 16;
/// Smallest slot: room for the in-object header plus 12 payload bytes.
pub const MIN_SLOT: usize = CLASS_DELTA;
/// Longest zspage. Zsmalloc's CONFIG_ZSMALLOC_CHAIN_SIZE defaults to 8; 12
/// gives finer effective classes for the 2-4 KiB objects that dominate
/// binaries. Pages are attached lazily, so long zspages cost nothing while
/// partly used; what they cost is compaction granularity after churn (a
/// zspage is freed only when it empties). 16 pages (152-byte descriptors,
/// 192 classes) measured 1.73 % on /usr/lib but 3.51 % on the kernel objects
/// and worse after churn; 12 pages measured 2.00 % and 3.42 % (zpool-lab).
pub const MAX_PAGES: usize = 12;
/// Bytes of the in-object header that names the owning handle entry, so that
/// compaction can update it after moving the object.
pub const OBJ_HEADER: usize = 4;
/// A longer zspage must use its pages better by more than this many
/// thousandths of a percent (0.3 %) to be chosen (see `best_layout`): each
/// distinct layout is a class of its own, and each class keeps one partly
/// used page. (0.1 % gave 159 classes and the same density in zpool-lab.)
pub const LAYOUT_TOLERANCE: usize = 300;
/// Size of a zspage descriptor (see `zspage.rs`).
pub const DESC_SIZE: usize = 120;
/// Raw classes (16, 32, ..., 4096).
const RAW: usize = PAGE_SIZE / CLASS_DELTA;

/// Layout of one merged size class.
///
/// # Invariants
///
/// For every entry of [`CLASSES`] (checked at build time by the
/// assertion marked `LAYOUTS_FIT` below): `OBJ_HEADER < size <= PAGE_SIZE`, `1 <= pages <=
/// MAX_PAGES` and `1 <= objs`, `objs * size <= pages * PAGE_SIZE`. Unsafe
/// code writes slots at `obj * size` for `obj < objs` into a zspage of
/// `pages` pages, relying on this.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClassInfo {
    /// Slot size in bytes, header included.
    pub size: usize,
    /// Pages per zspage.
    pub pages: usize,
    /// Objects per zspage.
    pub objs: usize,
}

/// Best (pages, objs) for a slot of `size` bytes: the fewest pages that
/// reach the highest use of the zspage (a longer one must win by more than
/// [`LAYOUT_TOLERANCE`]), repeated `MAX_PAGES / pages` times. The repetition
/// uses pages exactly as well and needs fewer descriptors (a 1-page zspage
/// would spend 120 bytes of descriptor per 4 KiB; 12 pages, 0.24 %); since
/// pages are attached lazily it adds no partial-zspage waste.
///
/// This and the other `const fn`s of this file are evaluated at compile time
/// only (every caller is a `const` item), so an overflow in them is a build
/// error, never a run-time panic.
const fn best_layout(size: usize) -> (usize, usize) {
    let mut best_p = 1;
    let mut best_o = PAGE_SIZE / size;
    let mut best_use = best_o * size * 100_000 / PAGE_SIZE;
    let mut p = 2;
    while p <= MAX_PAGES {
        let o = p * PAGE_SIZE / size;
        let usage = o * size * 100_000 / (p * PAGE_SIZE);
        if usage > best_use + LAYOUT_TOLERANCE {
            best_p = p;
            best_o = o;
            best_use = usage;
        }
        p += 1;
    }
    // Same use of pages, fewer descriptors: repeat the layout as often as
    // MAX_PAGES allows. Pages are attached lazily, so a long zspage costs no
    // more than a short one while it is partly used.
    let k = MAX_PAGES / best_p;
    (best_p * k, best_o * k)
}

const fn find_huge_slot() -> usize {
    let mut i = 0;
    while i < RAW {
        let size = (i + 1) * CLASS_DELTA;
        let (p, o) = best_layout(size);
        if o <= p {
            return size;
        }
        i += 1;
    }
    PAGE_SIZE
}

/// Smallest slot size stored one object per page; objects whose slot
/// (`len + OBJ_HEADER` rounded up) reaches it are huge.
pub const HUGE_SLOT: usize = find_huge_slot();
/// Shortest object that is huge: its slot (`len + OBJ_HEADER` rounded up to
/// `CLASS_DELTA`) reaches [`HUGE_SLOT`]. A driver stores a page whose
/// compressed form is at least this long uncompressed, since it takes a
/// whole page either way (zram's `huge_class_size`).
pub const HUGE_OBJ_LEN: usize = HUGE_SLOT - OBJ_HEADER - CLASS_DELTA + 1;

/// Raw classes below the huge threshold.
const NR_RAW: usize = HUGE_SLOT / CLASS_DELTA - 1;

const fn merge_map() -> ([u8; NR_RAW], usize) {
    // Walk from the largest raw class down; a raw class joins the class above
    // it when both have the same layout. Slices are walked by splitting
    // them, so that no index can be out of bounds.
    let mut map = [0u8; NR_RAW];
    let mut n = 0;
    let mut prev = (0, 0);
    let mut rest: &mut [u8] = &mut map;
    while let Some((last, front)) = rest.split_last_mut() {
        // Raw class `front.len()`, whose slot is that plus one deltas.
        let l = best_layout((front.len() + 1) * CLASS_DELTA);
        if l.0 != prev.0 || l.1 != prev.1 {
            n += 1;
            prev = l;
        }
        // Numbered from the top for now; flipped below. `n <= NR_CLASSES <
        // 255` (asserted below), so the casts to `u8` are exact.
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

const MERGE: ([u8; NR_RAW], usize) = merge_map();
/// Number of merged (non-huge) size classes.
pub const NR_CLASSES: usize = MERGE.1;
/// Raw class index (`(slot - 1) / CLASS_DELTA`) → merged class.
const RAW_TO_CLASS: [u8; NR_RAW] = MERGE.0;

const fn build_classes() -> [ClassInfo; NR_CLASSES] {
    let mut out = [ClassInfo {
        size: 0,
        pages: 0,
        objs: 0,
    }; NR_CLASSES];
    let mut raw: &[u8] = &RAW_TO_CLASS;
    let mut size = CLASS_DELTA;
    while let Some((&c, tail)) = raw.split_first() {
        let (pages, objs) = best_layout(size);
        // Raw classes ascend, so the last one written is the largest. A
        // class number past `out` is a build error (compile-time panic).
        match out.split_at_mut_checked(c as usize) {
            Some((_, [slot, ..])) => *slot = ClassInfo { size, pages, objs },
            _ => panic!("merged class out of range"),
        }
        size += CLASS_DELTA;
        raw = tail;
    }
    out
}

/// The merged classes, smallest first.
pub const CLASSES: [ClassInfo; NR_CLASSES] = build_classes();

const fn max_objs() -> usize {
    let mut max = 0;
    let mut rest: &[ClassInfo] = &CLASSES;
    while let Some((c, tail)) = rest.split_first() {
        if c.objs > max {
            max = c.objs;
        }
        rest = tail;
    }
    max
}

/// Most objects in one zspage of any class: object indices are below it.
pub const MAX_OBJS: usize = max_objs();

// The `ClassInfo` invariant (`LAYOUTS_FIT`), for every class. Unnamed:
// rustc 1.85 counts a named constant read only by an assertion as dead code.
const _: () = {
    let mut rest: &[ClassInfo] = &CLASSES;
    while let Some((c, tail)) = rest.split_first() {
        assert!(c.size > OBJ_HEADER && c.size <= PAGE_SIZE);
        assert!(c.pages >= 1 && c.pages <= MAX_PAGES && c.objs >= 1);
        assert!(c.objs * c.size <= c.pages * PAGE_SIZE);
        rest = tail;
    }
};

const _: () = assert!(NR_CLASSES < 255, "class index must fit the handle tag");
const _: () = assert!(HUGE_SLOT > 2048 && HUGE_SLOT <= PAGE_SIZE);
const _: () = assert!(MIN_SLOT > OBJ_HEADER);

/// What an object of `len` bytes is stored as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SizeClass {
    /// In merged class `c`.
    Class(usize),
    /// One page of its own.
    Huge,
}

/// Class for an object of `len` bytes (1..=PAGE_SIZE, checked by the caller;
/// lengths past the table, however large, are huge).
pub fn class_for(len: usize) -> SizeClass {
    // Raw class `(len + OBJ_HEADER - 1) / CLASS_DELTA`.
    let raw = len
        .checked_add(OBJ_HEADER - 1)
        .and_then(|s| RAW_TO_CLASS.get(s / CLASS_DELTA));
    match raw {
        Some(&c) => SizeClass::Class(usize::from(c)),
        None => SizeClass::Huge,
    }
}

#[cfg(test)]
// Tests index their own tables: an index out of bounds fails the test.
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn classes_are_sane() {
        let mut prev = 0;
        for c in CLASSES.iter() {
            assert!(c.size > prev && c.size % CLASS_DELTA == 0);
            assert!(c.objs > c.pages && c.pages <= MAX_PAGES);
            assert!(c.objs * c.size <= c.pages * PAGE_SIZE);
            assert!(c.objs <= 4096, "obj index must fit 12 bits");
            prev = c.size;
        }
        assert_eq!(CLASSES[NR_CLASSES - 1].size, HUGE_SLOT - CLASS_DELTA);
    }

    #[test]
    fn class_edges() {
        assert_eq!(class_for(1), SizeClass::Class(0));
        assert_eq!(class_for(MIN_SLOT - OBJ_HEADER), SizeClass::Class(0));
        let last = CLASSES[NR_CLASSES - 1].size;
        assert_eq!(
            class_for(last - OBJ_HEADER),
            SizeClass::Class(NR_CLASSES - 1)
        );
        assert_eq!(class_for(last - OBJ_HEADER + 1), SizeClass::Huge);
        assert_eq!(class_for(PAGE_SIZE), SizeClass::Huge);
        for len in 1..=PAGE_SIZE {
            match class_for(len) {
                SizeClass::Class(c) => {
                    assert!(CLASSES[c].size >= len + OBJ_HEADER);
                    if c > 0 {
                        assert!(CLASSES[c - 1].size < len + OBJ_HEADER);
                    }
                }
                SizeClass::Huge => assert!(len + OBJ_HEADER > last),
            }
        }
    }

    #[test]
    fn print_table() {
        // Informational: `cargo test -p allocators print_table -- --nocapture`.
        for (i, c) in CLASSES.iter().enumerate() {
            let waste = c.pages * PAGE_SIZE - c.objs * c.size;
            println!(
                "{i:3} size {:4} pages {:2} objs {:4} tail waste {waste:4}",
                c.size, c.pages, c.objs
            );
        }
        println!("huge slot {HUGE_SLOT}, {NR_CLASSES} classes");
        // The first huge length takes a huge slot, one byte less does not.
        let slot = |len: usize| (len + OBJ_HEADER).div_ceil(CLASS_DELTA) * CLASS_DELTA;
        assert!(slot(HUGE_OBJ_LEN) >= HUGE_SLOT);
        assert!(slot(HUGE_OBJ_LEN - 1) < HUGE_SLOT);
    }
}
