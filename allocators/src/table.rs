// SPDX-License-Identifier: GPL-2.0
//! A growable table of fixed-size records stored in provider pages.
//!
//! Backends keep their metadata here: zsmalloc its handle entries and zspage
//! descriptors, zbud and z3fold their page entries. Records are named by a
//! dense index so that handles can carry it and validate it.
//!
//! # Layout
//!
//! ```text
//! root page: ROOT_SLOTS directory pointers
//!     --> directory page: DIR_SLOTS leaf pointers
//!             --> leaf page: PAGE_SIZE / SIZE records
//! ```
//!
//! Record `i` lives in leaf `i / PER_LEAF` at offset `(i % PER_LEAF) * SIZE`.
//! All three levels are provider pages, so the table itself is a few words:
//! pools embed their tables and are built on the kernel stack, which has no
//! room for a root array. The root page is taken on the first growth, so an
//! unused table holds no page. Root, directory and leaf pages are counted by
//! [`RecordTable::pages`] and are only given back when the table is released.
//!
//! # Free records
//!
//! A new leaf page is zeroed, and the table writes only the first word of a
//! record (allocation and the free list below); the rest of a record keeps
//! what its last user left there.
//!
//! The first word of a free record holds `(next + 1) << 1 | 1` (odd); users
//! must keep the first word of a live record even (page pointers, tagged
//! entries), which is how [`RecordTable::for_each_live`] and validation tell
//! them apart. [`RecordTable::alloc`] sets the first word to 0.
//!
//! # Lock order
//!
//! The table lock is a leaf: nothing else is locked while it is held, and the
//! page provider is called without it (pages are allocated first and given
//! back if another CPU grew the table meanwhile).
//!
//! Reading a record ([`RecordTable::get`]) takes no lock: the root, directory
//! and leaf pointers are published with release stores before any index
//! below them is handed out, and are never removed while the table lives.

use core::ptr::NonNull;
use core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

use super::zpool::{page_to_word, word_to_page, Locked, PageProvider, PoolLock, PAGE_SIZE};

/// Directory pointers in the root: one page of them. 512 directories of 512
/// leaves give 134M handle entries or 8.9M zspage descriptors.
const ROOT_SLOTS: usize = PAGE_SIZE / core::mem::size_of::<AtomicPtr<usize>>();
/// Leaf pointers in one directory page (one page of pointers).
const DIR_SLOTS: usize = PAGE_SIZE / core::mem::size_of::<usize>();

/// Bit 0 set in the first word marks a free record.
const FREE_BIT: usize = 1;

struct State {
    /// `index + 1` of the first free record, 0 if none.
    free_head: usize,
    /// Records below this index have been handed out at least once.
    hwm: usize,
    /// Leaf pages installed.
    leaves: usize,
}

/// A table of `SIZE`-byte records.
///
/// # Invariants
///
/// * `root` is null or a page of `ROOT_SLOTS` directory pointers; it is
///   non-null once `leaves > 0`.
/// * Root slot `d` is non-null for `d < ceil(leaves / DIR_SLOTS)` (and may be
///   for one more, after a failed leaf allocation), and entry `l` of the
///   directories is a valid leaf page for `l < leaves`. Root, directories and
///   leaves are pages of the provider passed to `alloc`, owned by the table,
///   and `pages` counts them.
/// * `capacity == leaves * PER_LEAF`; `hwm <= capacity`.
/// * Free records (in the list starting at `free_head`) are all `< hwm`.
pub(crate) struct RecordTable<L: PoolLock, const SIZE: usize> {
    state: Locked<L, State>,
    capacity: AtomicUsize,
    pages: AtomicUsize,
    root: AtomicPtr<AtomicPtr<usize>>,
}

enum Step {
    Got(usize),
    NeedLeaf,
    NeedDir,
    NeedRoot,
    Full,
}

impl<L: PoolLock, const SIZE: usize> RecordTable<L, SIZE> {
    /// Records per leaf page.
    pub(crate) const PER_LEAF: usize = PAGE_SIZE / SIZE;
    // `%`, not `is_multiple_of`: that is const only from rustc 1.87, and
    // Debian's kernel is built with 1.85.
    #[allow(clippy::manual_is_multiple_of)]
    const CHECK: () = assert!(SIZE >= 8 && SIZE % 8 == 0 && SIZE <= PAGE_SIZE);

    /// Creates an empty table, holding no page; `None` if its lock cannot be
    /// created.
    pub(crate) fn new() -> Option<Self> {
        #[allow(clippy::let_unit_value)]
        let () = Self::CHECK;
        Some(Self {
            state: Locked::new(State {
                free_head: 0,
                hwm: 0,
                leaves: 0,
            })?,
            capacity: AtomicUsize::new(0),
            pages: AtomicUsize::new(0),
            root: AtomicPtr::new(core::ptr::null_mut()),
        })
    }

    /// Root slot `d`, or `None` past the root or before it is installed.
    fn root_slot(&self, d: usize) -> Option<&AtomicPtr<usize>> {
        let root = self.root.load(Ordering::Acquire);
        if root.is_null() || d >= ROOT_SLOTS {
            return None;
        }
        // SAFETY: A non-null root is a live page of ROOT_SLOTS atomic pointers (invariant), published
        // before this load and kept until `release(&mut self)`; `d` is in bounds.
        Some(unsafe { &*root.add(d) })
    }

    /// Pages the table holds (leaves, directories and the root).
    pub(crate) fn pages(&self) -> usize {
        self.pages.load(Ordering::Relaxed)
    }

    /// Records ever handed out (live or free); the iteration bound.
    fn high_water(&self) -> usize {
        self.state.with(|s| s.hwm)
    }

    /// Pointer to record `idx`, or `None` if `idx` was never allocated.
    pub(crate) fn get(&self, idx: usize) -> Option<NonNull<u8>> {
        if idx >= self.capacity.load(Ordering::Acquire) {
            return None;
        }
        // Checked division by non-zero constants (`CHECK`) costs nothing.
        let leaf = idx.checked_div(Self::PER_LEAF)?;
        let dir = self
            .root_slot(leaf.checked_div(DIR_SLOTS)?)?
            .load(Ordering::Acquire);
        if dir.is_null() {
            return None;
        }
        // The slot is only written while installing a leaf, before `capacity`
        // is raised with release ordering; `idx < capacity` so `leaf < leaves`.
        // SAFETY: So directory `leaf / DIR_SLOTS` is a live page of DIR_SLOTS
        // words (invariant) and the slot is in bounds and initialised.
        let leaf_ptr = unsafe { *dir.add(leaf % DIR_SLOTS) };
        let leaf_ptr = word_to_page(leaf_ptr);
        let off = idx.checked_rem(Self::PER_LEAF)?.checked_mul(SIZE)?;
        // SAFETY: the leaf is a live page and `off` stays below
        // PER_LEAF * SIZE <= PAGE_SIZE.
        NonNull::new(unsafe { leaf_ptr.add(off) })
    }

    /// The first word of record `idx` as an atomic.
    pub(crate) fn word(&self, idx: usize) -> Option<&AtomicUsize> {
        let p = self.get(idx)?;
        // SAFETY: records are 8-aligned (SIZE is a multiple of 8 in a
        // page-aligned leaf) and live as long as the table (`&self`).
        Some(unsafe { &*p.as_ptr().cast::<AtomicUsize>() })
    }

    /// Whether `idx` names an allocated record.
    pub(crate) fn is_live(&self, idx: usize) -> bool {
        self.get_live(idx).is_some()
    }

    /// Pointer to record `idx` if it names an allocated record: [`get`] and
    /// [`is_live`] in one walk of the table.
    ///
    /// [`get`]: RecordTable::get
    /// [`is_live`]: RecordTable::is_live
    pub(crate) fn get_live(&self, idx: usize) -> Option<NonNull<u8>> {
        let p = self.get(idx)?;
        // SAFETY: as in `word`: records are 8-aligned and live as long as
        // the table (`&self`).
        let first = unsafe { &*p.as_ptr().cast::<AtomicUsize>() };
        (first.load(Ordering::Relaxed) & FREE_BIT == 0).then_some(p)
    }

    /// Allocates a record, growing the table with pages from `provider`
    /// (called without the table lock). The record's first word is set to 0.
    pub(crate) fn alloc<P: PageProvider>(&self, provider: &P) -> Option<usize> {
        let mut spare_leaf: Option<NonNull<u8>> = None;
        let mut spare_dir: Option<NonNull<u8>> = None;
        let mut spare_root: Option<NonNull<u8>> = None;
        let got = loop {
            let step = self.state.with(|s| {
                if let Some(i) = s.free_head.checked_sub(1) {
                    let w = self.word(i).map(|w| w.load(Ordering::Relaxed));
                    // The list holds only odd words (invariant); be defensive.
                    s.free_head = match w {
                        Some(w) if w & FREE_BIT != 0 => w >> 1,
                        _ => 0,
                    };
                    return self.hand_out(i);
                }
                // `leaves <= ROOT_SLOTS * DIR_SLOTS` (checked below before it
                // grows), so none of these products and sums overflows;
                // checked all the same, a broken count makes the table full.
                let Some(cap) = s.leaves.checked_mul(Self::PER_LEAF) else {
                    return Step::Full;
                };
                if s.hwm < cap {
                    let i = s.hwm;
                    // `i < cap`: no overflow.
                    s.hwm = i + 1;
                    return self.hand_out(i);
                }
                let d = s.leaves / DIR_SLOTS;
                if d >= ROOT_SLOTS {
                    return Step::Full;
                }
                let Some((leaves, new_cap)) = s
                    .leaves
                    .checked_add(1)
                    .and_then(|l| Some((l, l.checked_mul(Self::PER_LEAF)?)))
                else {
                    return Step::Full;
                };
                if self.root.load(Ordering::Relaxed).is_null() {
                    let Some(root) = spare_root.take() else {
                        return Step::NeedRoot;
                    };
                    // Zeroed when it was allocated: every slot is null.
                    self.root.store(root.as_ptr().cast(), Ordering::Release);
                    self.pages.fetch_add(1, Ordering::Relaxed);
                }
                let Some(root_slot) = self.root_slot(d) else {
                    return Step::Full;
                };
                if root_slot.load(Ordering::Relaxed).is_null() {
                    let Some(dir) = spare_dir.take() else {
                        return Step::NeedDir;
                    };
                    root_slot.store(dir.as_ptr().cast::<usize>(), Ordering::Release);
                    self.pages.fetch_add(1, Ordering::Relaxed);
                }
                let Some(leaf) = spare_leaf.take() else {
                    return Step::NeedLeaf;
                };
                let dir = root_slot.load(Ordering::Relaxed);
                // `dir` is the live directory page for leaf `s.leaves` (installed
                // above or earlier); nobody reads the slot before `capacity` grows.
                // SAFETY: So the in-bounds slot may be written here.
                unsafe { *dir.add(s.leaves % DIR_SLOTS) = page_to_word(leaf.as_ptr()) };
                self.pages.fetch_add(1, Ordering::Relaxed);
                s.leaves = leaves;
                self.capacity.store(new_cap, Ordering::Release);
                // `hwm == cap < new_cap` (the table was full): no overflow.
                let i = s.hwm;
                s.hwm = i + 1;
                self.hand_out(i)
            });
            match step {
                Step::Got(i) => break Some(i),
                Step::Full => break None,
                Step::NeedLeaf => match provider.alloc_page() {
                    Some(p) => {
                        // Records start all-zero, so a word a user keeps
                        // across reuse (zspage pin counts) starts at 0.
                        // SAFETY: the page is ours alone and PAGE_SIZE bytes
                        // long (`PageProvider` contract).
                        unsafe { p.as_ptr().write_bytes(0, PAGE_SIZE) };
                        spare_leaf = Some(p);
                    }
                    None => break None,
                },
                Step::NeedDir => match provider.alloc_page() {
                    Some(p) => spare_dir = Some(p),
                    None => break None,
                },
                Step::NeedRoot => match provider.alloc_page() {
                    Some(p) => {
                        // Null pointers are all-zero words, so a zeroed page
                        // is a root with every slot empty.
                        // SAFETY: the page is ours alone and PAGE_SIZE bytes
                        // long (`PageProvider` contract).
                        unsafe { p.as_ptr().write_bytes(0, PAGE_SIZE) };
                        spare_root = Some(p);
                    }
                    None => break None,
                },
            }
        };
        for p in [spare_leaf, spare_dir, spare_root].into_iter().flatten() {
            // SAFETY: the page came from `provider.alloc_page` and was not
            // installed, so nothing else refers to it.
            unsafe { provider.free_page(p) };
        }
        got
    }

    /// Clears record `i` for its new owner (table lock held). Done before
    /// the lock is dropped: from then on `i < hwm`, so `for_each_live` may
    /// visit it, and a fresh leaf's record holds old page contents that can
    /// look like a live entry.
    fn hand_out(&self, i: usize) -> Step {
        match self.word(i) {
            Some(w) => {
                w.store(0, Ordering::Relaxed);
                Step::Got(i)
            }
            None => Step::Full,
        }
    }

    /// Returns record `idx` to the free list. Ignores indices that are out of
    /// range or already free.
    pub(crate) fn free(&self, idx: usize) {
        self.state.with(|s| {
            if let Some(w) = self.word(idx) {
                if w.load(Ordering::Relaxed) & FREE_BIT == 0 && idx < s.hwm {
                    w.store((s.free_head << 1) | FREE_BIT, Ordering::Relaxed);
                    // `idx < hwm`: no overflow.
                    s.free_head = idx + 1;
                }
            }
        })
    }

    /// Calls `f(index, record)` for every live record. Not synchronized with
    /// concurrent `alloc`/`free`; meant for teardown and statistics.
    pub(crate) fn for_each_live(&self, mut f: impl FnMut(usize, NonNull<u8>)) {
        for i in 0..self.high_water() {
            if let Some(p) = self.get(i) {
                if self.is_live(i) {
                    f(i, p);
                }
            }
        }
    }

    /// Gives every table page back to `provider`. The table is empty
    /// afterwards.
    ///
    /// # Safety
    ///
    /// `provider` must be the provider every `alloc` call used, and no
    /// pointer obtained from `get` may be used afterwards.
    pub(crate) unsafe fn release<P: PageProvider>(&mut self, provider: &P) {
        let s = self.state.get_mut();
        let leaves = s.leaves;
        *s = State {
            free_head: 0,
            hwm: 0,
            leaves: 0,
        };
        self.capacity.store(0, Ordering::Relaxed);
        for l in 0..leaves {
            let Some(slot) = self.root_slot(l / DIR_SLOTS) else {
                break;
            };
            let dir = slot.load(Ordering::Relaxed);
            if dir.is_null() {
                break;
            }
            // SAFETY: leaf `l < leaves` is installed in its directory
            // (invariant); both are still live.
            let leaf = word_to_page(unsafe { *dir.add(l % DIR_SLOTS) });
            if let Some(p) = NonNull::new(leaf) {
                // SAFETY: the leaf came from `provider` and is dropped here.
                unsafe { provider.free_page(p) };
            }
        }
        for d in 0..ROOT_SLOTS {
            let Some(slot) = self.root_slot(d) else {
                break;
            };
            if let Some(p) = NonNull::new(slot.swap(core::ptr::null_mut(), Ordering::Relaxed)) {
                // SAFETY: directories came from `provider`; no leaf pointer
                // is read after this point.
                unsafe { provider.free_page(p.cast()) };
            }
        }
        if let Some(p) = NonNull::new(self.root.swap(core::ptr::null_mut(), Ordering::Relaxed)) {
            // SAFETY: the root came from `provider`; no slot of it is read
            // after this point.
            unsafe { provider.free_page(p.cast()) };
        }
        self.pages.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::super::zpool::testing::HostProvider;
    use super::super::zpool::SpinLockHost;
    use super::*;

    #[test]
    fn grow_free_reuse_release() {
        let tp = HostProvider::new();
        let p = &tp;
        let mut t = RecordTable::<SpinLockHost, 8>::new().unwrap();
        let n = 3 * 512 + 7;
        let ids: Vec<usize> = (0..n).map(|_| t.alloc(&p).unwrap()).collect();
        assert_eq!(ids, (0..n).collect::<Vec<_>>());
        // Four leaves, their directory and the root.
        assert_eq!(t.pages(), 4 + 1 + 1);
        assert_eq!(tp.held(), 6);
        for i in (0..n).step_by(3) {
            t.word(i).unwrap().store(0x1000, Ordering::Relaxed);
            t.free(i);
            assert!(!t.is_live(i));
        }
        t.free(0); // double free is ignored
        t.free(n + 10_000);
        let mut again: Vec<usize> = (0..n.div_ceil(3)).map(|_| t.alloc(&p).unwrap()).collect();
        again.sort();
        assert_eq!(again, (0..n).step_by(3).collect::<Vec<_>>());
        assert_eq!(t.alloc(&p), Some(n));
        let mut live = 0;
        t.for_each_live(|_, _| live += 1);
        assert_eq!(live, n + 1);
        // SAFETY: same provider, no pointers kept.
        unsafe { t.release(&p) };
        assert_eq!(tp.held(), 0);
    }

    #[test]
    fn failure_leaves_table_consistent() {
        let tp = HostProvider::new();
        let p = &tp;
        let mut t = RecordTable::<SpinLockHost, 88>::new().unwrap();
        assert_eq!(tp.held(), 0, "an unused table holds no page");
        assert_eq!(t.get(0), None);
        // The first record needs a root, a directory and a leaf. Whatever was
        // installed before a failure stays (and is counted), and the next
        // attempt continues from there.
        for budget in [0, 1, 1] {
            tp.budget.store(budget, Ordering::Relaxed);
            assert_eq!(t.alloc(&p), None);
            assert_eq!(t.pages(), tp.held());
            assert_eq!(t.get(0), None);
        }
        assert_eq!(tp.held(), 2);
        tp.budget.store(usize::MAX, Ordering::Relaxed);
        assert_eq!(t.alloc(&p), Some(0));
        assert_eq!(tp.held(), 3);
        assert_eq!(t.pages(), 3);
        // SAFETY: same provider, no pointers kept.
        unsafe { t.release(&p) };
        assert_eq!(tp.held(), 0);
    }
}
