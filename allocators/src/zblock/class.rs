// SPDX-License-Identifier: GPL-2.0
//! Size classes of the zblock-style backend, computed at compile time.
//!
//! Raw classes are every multiple of [`SLOT_STEP`] up to [`PAGE_SIZE`]. For
//! each raw slot size the block length (1..=[`MAX_BLOCK_PAGES`] pages) that
//! stores the most bytes per page is chosen, with at most [`MAX_SLOTS`] slots
//! per block; that layout is then repeated as often as both limits allow
//! (same use of pages, fewer descriptors). Neighbouring raw classes with the
//! same (pages, slots) layout use memory identically and are merged into the
//! largest of them. From the first raw size whose best layout stores no more
//! than one object per page ([`HUGE_SLOT`]) upwards, objects are huge: a page
//! each, without a block.
//!
//! Objects carry no header (they never move), so an object of `len` bytes
//! takes the smallest class whose slot is at least `len`.

use super::super::zpool::PAGE_SIZE;

/// Slot granularity: the step between raw classes. Like zsmalloc's
/// ZS_SIZE_CLASS_DELTA: a finer step saves at most 15 bytes per object and
/// doubles the raw classes; after merging, the step matters only where
/// neighbours' layouts differ.
pub const SLOT_STEP: usize = 16;
/// Longest block in pages. Pages are order-0 provider pages attached to a
/// block lazily, so the length costs one pointer per page in the descriptor
/// and nothing while the block is partly used. 16 pages let slots of up to
/// 3840 bytes (17 in 16 pages) share pages, against 3632 with 8 pages.
pub const MAX_BLOCK_PAGES: usize = 16;
/// Most slots in a block: one bit each in the descriptor's 64-bit map of used
/// slots, which is what lets allocation find a slot with one instruction.
pub const MAX_SLOTS: usize = 64;
/// A longer block must use its pages better by more than this many
/// thousandths of a percent (0.3 %) to be chosen over a shorter one, as in
/// the zsmalloc-style classes: every distinct layout is a class, and every
/// class keeps one partly used page.
pub const LAYOUT_TOLERANCE: usize = 300;
/// Raw classes (16, 32, ..., 4096).
const RAW: usize = PAGE_SIZE / SLOT_STEP;

/// Layout of one merged size class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClassInfo {
    /// Slot size in bytes.
    pub size: usize,
    /// Pages per block.
    pub pages: usize,
    /// Slots per block (at most [`MAX_SLOTS`]).
    pub slots: usize,
}

/// Slots of `size` bytes that fit `pages` pages, at most [`MAX_SLOTS`].
const fn slots_in(pages: usize, size: usize) -> usize {
    let n = pages * PAGE_SIZE / size;
    if n > MAX_SLOTS {
        MAX_SLOTS
    } else {
        n
    }
}

/// Best (pages, slots) for `size`-byte slots: the fewest pages that reach the
/// highest use of the block (a longer block must win by more than
/// [`LAYOUT_TOLERANCE`]), repeated as often as [`MAX_BLOCK_PAGES`] and
/// [`MAX_SLOTS`] allow.
const fn best_layout(size: usize) -> (usize, usize) {
    let mut best_p = 1;
    let mut best_n = slots_in(1, size);
    let mut best_use = best_n * size * 100_000 / PAGE_SIZE;
    let mut p = 2;
    while p <= MAX_BLOCK_PAGES {
        let n = slots_in(p, size);
        let usage = n * size * 100_000 / (p * PAGE_SIZE);
        if usage > best_use + LAYOUT_TOLERANCE {
            best_p = p;
            best_n = n;
            best_use = usage;
        }
        p += 1;
    }
    let by_pages = MAX_BLOCK_PAGES / best_p;
    let by_slots = MAX_SLOTS / best_n;
    let k = if by_pages < by_slots {
        by_pages
    } else {
        by_slots
    };
    (best_p * k, best_n * k)
}

const fn find_huge_slot() -> usize {
    let mut i = 0;
    while i < RAW {
        let size = (i + 1) * SLOT_STEP;
        let (p, n) = best_layout(size);
        if n <= p {
            return size;
        }
        i += 1;
    }
    PAGE_SIZE
}

/// Smallest raw slot size stored one object per page: objects longer than
/// `HUGE_SLOT - SLOT_STEP` bytes are huge.
pub const HUGE_SLOT: usize = find_huge_slot();
/// Longest object stored in a class.
pub const MAX_CLASS_LEN: usize = HUGE_SLOT - SLOT_STEP;
/// Raw classes below the huge threshold.
const NR_RAW: usize = HUGE_SLOT / SLOT_STEP - 1;

// Evaluated only at compile time (the consts below), where an index out of
// range fails the build.
#[allow(clippy::indexing_slicing)]
const fn merge_map() -> ([u8; NR_RAW], usize) {
    let mut map = [0u8; NR_RAW];
    let mut n = 0;
    let mut prev = (0, 0);
    let mut i = NR_RAW;
    while i > 0 {
        i -= 1;
        let l = best_layout((i + 1) * SLOT_STEP);
        if l.0 != prev.0 || l.1 != prev.1 {
            n += 1;
            prev = l;
        }
        // Numbered from the top for now; flipped below.
        map[i] = n as u8;
    }
    let mut j = 0;
    while j < NR_RAW {
        map[j] = (n - map[j] as usize) as u8;
        j += 1;
    }
    (map, n)
}

const MERGE: ([u8; NR_RAW], usize) = merge_map();
/// Number of merged size classes.
pub const NR_CLASSES: usize = MERGE.1;
/// Raw class index (`(len - 1) / SLOT_STEP`) to merged class.
const RAW_TO_CLASS: [u8; NR_RAW] = MERGE.0;

// Compile time only, as `merge_map`.
#[allow(clippy::indexing_slicing)]
const fn build_classes() -> [ClassInfo; NR_CLASSES] {
    let mut out = [ClassInfo {
        size: 0,
        pages: 0,
        slots: 0,
    }; NR_CLASSES];
    let mut i = 0;
    while i < NR_RAW {
        let size = (i + 1) * SLOT_STEP;
        let (pages, slots) = best_layout(size);
        // Raw classes ascend, so the last one written is the largest.
        out[RAW_TO_CLASS[i] as usize] = ClassInfo { size, pages, slots };
        i += 1;
    }
    out
}

/// The merged classes, smallest first.
pub const CLASSES: [ClassInfo; NR_CLASSES] = build_classes();

const _: () = assert!(NR_CLASSES < 255, "class index must fit the handle tag");
const _: () = assert!(HUGE_SLOT > 2048 && HUGE_SLOT <= PAGE_SIZE);
const _: () = assert!(MAX_SLOTS == u64::BITS as usize);
const _: () = assert!(MAX_BLOCK_PAGES <= u8::MAX as usize);

/// What an object of `len` bytes is stored as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SizeClass {
    /// In merged class `c`.
    Class(usize),
    /// One page of its own.
    Huge,
}

/// Class for an object of `len` bytes (1..=PAGE_SIZE, checked by the caller;
/// 0 is reported as huge rather than wrapping).
pub fn class_for(len: usize) -> SizeClass {
    let Some(raw) = len.checked_sub(1) else {
        return SizeClass::Huge;
    };
    match RAW_TO_CLASS.get(raw / SLOT_STEP) {
        Some(&c) => SizeClass::Class(c as usize),
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
            assert!(c.size > prev && c.size % SLOT_STEP == 0);
            assert!(c.slots > c.pages && c.pages <= MAX_BLOCK_PAGES);
            assert!(c.slots <= MAX_SLOTS);
            assert!(c.slots * c.size <= c.pages * PAGE_SIZE);
            prev = c.size;
        }
        assert_eq!(CLASSES[NR_CLASSES - 1].size, MAX_CLASS_LEN);
    }

    #[test]
    fn class_edges() {
        assert_eq!(class_for(1), SizeClass::Class(0));
        assert_eq!(class_for(MAX_CLASS_LEN), SizeClass::Class(NR_CLASSES - 1));
        assert_eq!(class_for(MAX_CLASS_LEN + 1), SizeClass::Huge);
        assert_eq!(class_for(PAGE_SIZE), SizeClass::Huge);
        for len in 1..=PAGE_SIZE {
            match class_for(len) {
                SizeClass::Class(c) => {
                    assert!(CLASSES[c].size >= len);
                    if c > 0 {
                        assert!(CLASSES[c - 1].size < len);
                    }
                }
                SizeClass::Huge => assert!(len > MAX_CLASS_LEN),
            }
        }
    }

    #[test]
    fn print_table() {
        // Informational: `cargo test -p allocators zblock::class -- --nocapture`.
        for (i, c) in CLASSES.iter().enumerate() {
            let tail = c.pages * PAGE_SIZE - c.slots * c.size;
            println!(
                "{i:3} size {:4} pages {:2} slots {:2} tail {tail:4} ({:.2}%)",
                c.size,
                c.pages,
                c.slots,
                tail as f64 * 100.0 / (c.pages * PAGE_SIZE) as f64
            );
        }
        println!("huge slot {HUGE_SLOT}, {NR_CLASSES} classes");
    }
}
