// SPDX-License-Identifier: GPL-2.0
//! Size-class table of the zsmalloc-style backend, computed at compile time.
//!
//! Raw classes are every multiple of [`CLASS_DELTA`] from [`MIN_SLOT`] to
//! [`PAGE_SIZE`]. For each raw slot size the zspage length (1..=[`MAX_PAGES`]
//! pages) that stores the most bytes per page is chosen, then repeated as
//! often as [`MAX_PAGES`] allows (fewer descriptors for the same use of
//! pages: a 1-page zspage would spend 120 bytes of descriptor per 4 KiB, 12
//! pages 0.24 %; see `classes.rs`, which builds the table). Neighbouring raw classes with the same pages per
//! zspage and objects per zspage use memory identically, so they are merged
//! into the largest of them, as zsmalloc does. From the first raw class whose
//! best layout is one object per page ([`HUGE_SLOT`]) upwards, objects are
//! "huge" and take a page each without a zspage.

use super::super::classes::Geometry;
pub use super::super::classes::{ClassInfo, SizeClass};
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
/// thousandths of a percent (0.3 %) to be chosen (see `classes.rs`): each
/// distinct layout is a class of its own, and each class keeps one partly
/// used page. (0.1 % gave 159 classes and the same density in zpool-lab.)
pub const LAYOUT_TOLERANCE: usize = 300;
/// Size of a zspage descriptor (see `zspage.rs`).
pub const DESC_SIZE: usize = 120;
/// The table's parameters.
const GEOMETRY: Geometry = Geometry {
    step: CLASS_DELTA,
    header: OBJ_HEADER,
    max_pages: MAX_PAGES,
    // No limit but the pages: `MAX_OBJS` below is what the handle entry's
    // 12-bit object index must hold.
    max_objs: usize::MAX,
    tolerance: LAYOUT_TOLERANCE,
};

/// Smallest slot size stored one object per page; objects whose slot
/// (`len + OBJ_HEADER` rounded up) reaches it are huge.
pub const HUGE_SLOT: usize = GEOMETRY.huge_slot();
/// Shortest object that is huge: its slot (`len + OBJ_HEADER` rounded up to
/// `CLASS_DELTA`) reaches [`HUGE_SLOT`]. A driver stores a page whose
/// compressed form is at least this long uncompressed, since it takes a
/// whole page either way (zram's `huge_class_size`).
pub const HUGE_OBJ_LEN: usize = HUGE_SLOT - OBJ_HEADER - CLASS_DELTA + 1;

/// Raw classes below the huge threshold.
const NR_RAW: usize = GEOMETRY.raw_classes();
const MERGE: ([u8; NR_RAW], usize) = GEOMETRY.merge_map();
/// Number of merged (non-huge) size classes.
pub const NR_CLASSES: usize = MERGE.1;
/// Raw class index (`(slot - 1) / CLASS_DELTA`) → merged class.
const RAW_TO_CLASS: [u8; NR_RAW] = MERGE.0;

/// The merged classes, smallest first. Unsafe code relies on the
/// [`ClassInfo`] invariant, which the builder checks for every class.
pub const CLASSES: [ClassInfo; NR_CLASSES] = GEOMETRY.classes(&RAW_TO_CLASS);

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

const _: () = assert!(NR_CLASSES < 255, "class index must fit the handle tag");
const _: () = assert!(HUGE_SLOT > 2048 && HUGE_SLOT <= PAGE_SIZE);
const _: () = assert!(MIN_SLOT > OBJ_HEADER);

/// Class for an object of `len` bytes (1..=PAGE_SIZE, checked by the caller;
/// lengths past the table, however large, are huge).
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
    }

    #[test]
    fn huge_threshold() {
        // Informational: `cargo test -p allocators zsmalloc::class -- --nocapture`.
        print_table(&GEOMETRY, &CLASSES);
        // The first huge length takes a huge slot, one byte less does not.
        let slot = |len: usize| (len + OBJ_HEADER).div_ceil(CLASS_DELTA) * CLASS_DELTA;
        assert!(slot(HUGE_OBJ_LEN) >= HUGE_SLOT);
        assert!(slot(HUGE_OBJ_LEN - 1) < HUGE_SLOT);
        assert_eq!(
            class_for(HUGE_OBJ_LEN - 1),
            SizeClass::Class(NR_CLASSES - 1)
        );
        assert_eq!(class_for(HUGE_OBJ_LEN), SizeClass::Huge);
    }
}
