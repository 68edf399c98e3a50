// SPDX-License-Identifier: GPL-2.0
//! Size classes of the zblock-style backend, computed at compile time by
//! the builder in `classes.rs`.
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
//! takes the smallest class whose slot is at least `len`. A class's
//! [`ClassInfo::objs`] is its slots per block.

use super::super::classes::Geometry;
pub use super::super::classes::{ClassInfo, SizeClass};
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

/// The table's parameters.
const GEOMETRY: Geometry = Geometry {
    step: SLOT_STEP,
    header: 0,
    max_pages: MAX_BLOCK_PAGES,
    max_objs: MAX_SLOTS,
    tolerance: LAYOUT_TOLERANCE,
};

/// Smallest raw slot size stored one object per page: objects longer than
/// `HUGE_SLOT - SLOT_STEP` bytes are huge.
pub const HUGE_SLOT: usize = GEOMETRY.huge_slot();
/// Longest object stored in a class.
pub const MAX_CLASS_LEN: usize = HUGE_SLOT - SLOT_STEP;
/// Raw classes below the huge threshold.
const NR_RAW: usize = GEOMETRY.raw_classes();
const MERGE: ([u8; NR_RAW], usize) = GEOMETRY.merge_map();
/// Number of merged size classes.
pub const NR_CLASSES: usize = MERGE.1;
/// Raw class index (`(len - 1) / SLOT_STEP`) to merged class.
const RAW_TO_CLASS: [u8; NR_RAW] = MERGE.0;

/// The merged classes, smallest first. Unsafe code relies on the
/// [`ClassInfo`] invariant, which the builder checks for every class.
pub const CLASSES: [ClassInfo; NR_CLASSES] = GEOMETRY.classes(&RAW_TO_CLASS);

const _: () = assert!(NR_CLASSES < 255, "class index must fit the handle tag");
const _: () = assert!(HUGE_SLOT > 2048 && HUGE_SLOT <= PAGE_SIZE);
const _: () = assert!(MAX_SLOTS == u64::BITS as usize);
const _: () = assert!(MAX_BLOCK_PAGES <= u8::MAX as usize);

/// Class for an object of `len` bytes (1..=PAGE_SIZE, checked by the caller;
/// 0 is reported as huge rather than wrapping).
pub fn class_for(len: usize) -> SizeClass {
    GEOMETRY.class_for(&RAW_TO_CLASS, len)
}

#[cfg(test)]
mod tests {
    use super::super::super::classes::testing::{check_table, print_table};
    use super::*;

    #[test]
    fn classes_are_sane() {
        check_table(&GEOMETRY, &CLASSES, class_for);
        assert_eq!(class_for(MAX_CLASS_LEN), SizeClass::Class(NR_CLASSES - 1));
        assert_eq!(class_for(MAX_CLASS_LEN + 1), SizeClass::Huge);
        assert_eq!(class_for(0), SizeClass::Huge);
    }

    #[test]
    fn print_the_table() {
        // Informational: `cargo test -p allocators zblock::class -- --nocapture`.
        print_table(&GEOMETRY, &CLASSES);
    }
}
