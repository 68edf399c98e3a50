// SPDX-License-Identifier: GPL-2.0
//! Zspage descriptors, object slots inside a zspage, and the per-class
//! fullness lists. Everything here runs with the owning class lock held,
//! except [`Zspage::pin`] which is atomic.
//!
//! A zspage has a fixed slot layout over `npages` pages, but only pages
//! `[0, backed)` are attached. Slots below `next_fresh` have been handed out
//! at least once and lie entirely in attached pages; slots from `next_fresh`
//! on have never been used, have no header and may reach unattached pages.

use core::ptr::addr_of_mut;
use core::sync::atomic::{AtomicU32, Ordering};

use super::super::table::RecordTable;
use super::super::zpool::{PoolLock, PAGE_SHIFT, PAGE_SIZE};
use super::class::{DESC_SIZE, MAX_PAGES};

/// "No zspage" in list links and list heads.
pub(crate) const NONE: u32 = u32::MAX;
/// "No free object" at the end of a zspage's free list.
pub(crate) const NO_OBJ: u16 = u16::MAX;
/// Fullness groups of partially used zspages: group `g` holds zspages with
/// `g/4 <= inuse/objs < (g+1)/4`. Four groups are enough to pick dense
/// allocation targets and sparse compaction sources; zsmalloc uses ten.
pub(crate) const NR_GROUPS: usize = 4;
/// Flag in [`Zspage::pin`] while compaction moves objects out of the
/// zspage; the low bits count pins, far fewer than 2^31 (one per task
/// working on an object).
pub(crate) const MIGRATING: u32 = 1 << 31;
/// `group` of a zspage that is on no list (full, or being set up).
pub(crate) const GROUP_NONE: u8 = u8::MAX;

/// Descriptor of one zspage, a record of the descriptor table.
///
/// # Invariants
///
/// While the descriptor is live: `1 <= backed <= npages`; `pages[..backed]`
/// are pages of the pool's provider owned by this zspage and the rest are
/// null; `pages[0]` is non-null (so the table's first word stays even).
/// Slots `[0, next_fresh)` end within the attached pages: `inuse` of them are
/// allocated and the others are chained from `free_head` through their
/// headers. Slots `[next_fresh, objs)` are free and have no header. `group`
/// names the list the zspage is on (or [`GROUP_NONE`]) and `next`/`prev` link
/// it there. All fields but `pin` and the attached entries of `pages` are
/// only accessed with the lock of class `class` held; attached entries never
/// change, so readers holding a pin may read them without the lock. `pin`
/// counts readers and writers working on its objects outside the lock,
/// plus [`MIGRATING`] while compaction empties it; compaction only claims a
/// zspage whose pin is zero.
#[repr(C)]
pub(crate) struct Zspage {
    /// The zspage's pages, in stream order; `pages[0]` is the table's first
    /// word.
    pub(crate) pages: [*mut u8; MAX_PAGES],
    /// Next zspage on the same fullness list.
    pub(crate) next: u32,
    /// Previous zspage on the same fullness list.
    pub(crate) prev: u32,
    /// Allocated objects.
    pub(crate) inuse: u16,
    /// First free object, or [`NO_OBJ`].
    pub(crate) free_head: u16,
    /// Object slots in this zspage (short and long zspages differ).
    pub(crate) objs: u16,
    /// First slot never handed out; slots from here on have no header.
    pub(crate) next_fresh: u16,
    /// Owning size class.
    pub(crate) class: u8,
    /// Current fullness list.
    pub(crate) group: u8,
    /// Pages of the slot layout.
    pub(crate) npages: u8,
    /// Attached pages: the non-null prefix of `pages`.
    pub(crate) backed: u8,
    /// Readers/writers accessing objects without the class lock, and
    /// [`MIGRATING`]. Never the first word: the table's free list uses that.
    pub(crate) pin: AtomicU32,
}

const _: () = assert!(core::mem::size_of::<Zspage>() == DESC_SIZE);

/// State of one size class, protected by the class lock.
///
/// # Invariants
///
/// `heads[g]` starts the doubly linked list (through `Zspage::next`/`prev`)
/// of the class's zspages whose `group` is `g`, [`NONE`] if empty; every
/// member is a live descriptor of this class. The counts are exact:
/// `zspages` zspages, `inuse` allocated objects, `slots` slots lying
/// entirely in attached pages and `pages` attached pages, summed over the
/// class's zspages (so removing a zspage cannot make them underflow).
/// `growing` is the only zspage with fresh slots, or [`NONE`].
pub(crate) struct ClassState {
    /// First zspage of each fullness list.
    pub(crate) heads: [u32; NR_GROUPS],
    /// Zspages held.
    pub(crate) zspages: usize,
    /// Objects allocated.
    pub(crate) inuse: usize,
    /// Object slots lying entirely in attached pages, in all zspages.
    pub(crate) slots: usize,
    /// Attached pages in all zspages.
    pub(crate) pages: usize,
    /// The one zspage with never-used slots (`next_fresh < objs`), or
    /// [`NONE`]. A new zspage is only set up when there is none, so there is
    /// at most one per class.
    pub(crate) growing: u32,
}

impl ClassState {
    /// An empty class.
    pub(crate) const fn new() -> Self {
        Self {
            heads: [NONE; NR_GROUPS],
            zspages: 0,
            inuse: 0,
            slots: 0,
            pages: 0,
            growing: NONE,
        }
    }
}

/// Fullness list for `inuse` of `objs` objects.
pub(crate) fn group_of(inuse: usize, objs: usize) -> u8 {
    if inuse >= objs {
        return GROUP_NONE;
    }
    // `inuse < objs <= u16::MAX` (descriptor fields), so the product fits;
    // checked all the same, with `objs == 0` and a broken count giving
    // "on no list".
    inuse
        .checked_mul(NR_GROUPS)
        .and_then(|n| n.checked_div(objs))
        .and_then(|g| u8::try_from(g).ok())
        .unwrap_or(GROUP_NONE)
}

/// Descriptor `id` of `descs`.
pub(crate) fn desc<L: PoolLock>(descs: &RecordTable<L, DESC_SIZE>, id: u32) -> Option<*mut Zspage> {
    descs.get(id as usize).map(|p| p.as_ptr().cast::<Zspage>())
}

/// Descriptor `id` if it is allocated (one walk of the table).
pub(crate) fn live_desc<L: PoolLock>(
    descs: &RecordTable<L, DESC_SIZE>,
    id: u32,
) -> Option<*mut Zspage> {
    descs
        .get_live(id as usize)
        .map(|p| p.as_ptr().cast::<Zspage>())
}

/// Pointer to byte `off` of the zspage's byte stream.
///
/// # Safety
///
/// `d` must be a live descriptor and `off < backed * PAGE_SIZE`.
pub(crate) unsafe fn at(d: *mut Zspage, off: usize) -> *mut u8 {
    // SAFETY: `d` is live and the page index is below `backed` (caller contract): an attached page,
    // valid for PAGE_SIZE bytes; one entry is read raw because `attach` may write another.
    unsafe {
        core::ptr::addr_of!((*d).pages)
            .cast::<*mut u8>()
            .add(off >> PAGE_SHIFT)
            .read()
            .add(off & (PAGE_SIZE - 1))
    }
}

/// Header word of object `obj` in a class with `size`-byte slots.
///
/// # Safety
///
/// `d` is live, its class lock is held and `obj` lies in attached pages
/// (below `next_fresh`, or about to be handed out by [`take_backed`]); so
/// `obj * size` is below `backed * PAGE_SIZE` and does not overflow.
pub(crate) unsafe fn header(d: *mut Zspage, size: usize, obj: usize) -> u32 {
    // SAFETY: slots start at multiples of 16 bytes, so the 4-byte header is
    // aligned and lies within one page of the live zspage.
    unsafe { at(d, obj * size).cast::<u32>().read() }
}

/// Sets the header word of object `obj`.
///
/// # Safety
///
/// As for [`header`].
pub(crate) unsafe fn set_header(d: *mut Zspage, size: usize, obj: usize, v: u32) {
    // SAFETY: see `header` (also for `obj * size`); the class lock makes
    // us the only header writer.
    unsafe { at(d, obj * size).cast::<u32>().write(v) }
}

/// Header of an allocated object owned by handle entry `idx`. A handle
/// table has at most `2^27` records (`RecordTable`: 512 directories of 512
/// leaves of 512 words), so `idx` fits the header's 31 bits.
pub(crate) fn used_header(idx: usize) -> u32 {
    ((idx as u32) << 1) | 1
}

/// Header of a free object whose free-list successor is `next`.
pub(crate) fn free_header(next: u16) -> u32 {
    u32::from(next) << 1
}

/// Sets up a fresh zspage with `page` attached as its first page: no object
/// in use, every slot fresh.
///
/// # Safety
///
/// `d` must point to an allocated descriptor record that the caller owns
/// exclusively, `page` to an owned provider page, and
/// `objs * size <= npages * PAGE_SIZE`, `0 < objs < NO_OBJ`,
/// `0 < npages <= MAX_PAGES`, `class < NR_CLASSES`; so the casts below to
/// the descriptor's narrow fields are exact.
pub(crate) unsafe fn init(d: *mut Zspage, page: *mut u8, npages: usize, class: usize, objs: usize) {
    let mut pages = [core::ptr::null_mut(); MAX_PAGES];
    pages[0] = page;
    // Every field but `pin`, one by one: a lock-free reader that raced with
    // the release of the zspage this record held before may still be adding
    // to and taking from `pin` (see `pin_fast`); it stays balanced, and a
    // new descriptor leaf is zeroed, so it needs no reset.
    // SAFETY: exclusive access to the record's other fields (caller
    // contract); raw field pointers, no reference to the whole record.
    unsafe {
        addr_of_mut!((*d).pages).write(pages);
        addr_of_mut!((*d).next).write(NONE);
        addr_of_mut!((*d).prev).write(NONE);
        addr_of_mut!((*d).inuse).write(0);
        addr_of_mut!((*d).free_head).write(NO_OBJ);
        addr_of_mut!((*d).objs).write(objs as u16);
        addr_of_mut!((*d).next_fresh).write(0);
        addr_of_mut!((*d).class).write(class as u8);
        addr_of_mut!((*d).group).write(GROUP_NONE);
        addr_of_mut!((*d).npages).write(npages as u8);
        addr_of_mut!((*d).backed).write(1);
    }
}

/// Claims zspage `d` for compaction: succeeds only while no reader or
/// writer holds a pin, and makes every later lock-free pin fall back to the
/// class lock until [`end_compaction`].
///
/// # Safety
///
/// `d` is a live zspage of a class whose lock the caller holds.
pub(crate) unsafe fn claim_for_compaction(d: *mut Zspage) -> bool {
    // SAFETY: `d` is live (caller contract); `pin` is atomic. Acquire pairs
    // with the release of the last unpin, so the pinned accesses are done.
    unsafe {
        (*d).pin
            .compare_exchange(0, MIGRATING, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }
}

/// Ends a compaction claim of `d`, with release ordering: a lock-free pin
/// that sees the flag gone also sees every handle entry the compaction
/// rewrote.
///
/// # Safety
///
/// `d` is a live descriptor record that the caller claimed.
pub(crate) unsafe fn end_compaction(d: *mut Zspage) {
    // SAFETY: the record lives as long as the table; `pin` is atomic.
    unsafe { (*d).pin.fetch_and(!MIGRATING, Ordering::Release) };
}

/// Slots of a `size`-byte class with `objs` slots that lie entirely in the
/// first `backed` pages.
pub(crate) fn backed_slots(backed: usize, size: usize, objs: usize) -> usize {
    // `checked_div`: a zero size (never passed) yields 0 instead of a panic.
    backed
        .saturating_mul(PAGE_SIZE)
        .checked_div(size)
        .unwrap_or(0)
        .min(objs)
}

/// Whether zspage `d` has a free slot in its attached pages.
///
/// # Safety
///
/// Class lock held; `d` live with `size`-byte slots.
pub(crate) unsafe fn can_take(d: *mut Zspage, size: usize) -> bool {
    // SAFETY: class lock held, `d` live (caller contract).
    unsafe {
        let nf = usize::from((*d).next_fresh);
        // `nf` is a `u16`, so `nf + 1` fits; the end of its slot is
        // checked, and the attached bytes (a `u8` count of pages) fit.
        let attached = usize::from((*d).backed) << PAGE_SHIFT;
        (*d).free_head != NO_OBJ
            || (nf < usize::from((*d).objs)
                && (nf + 1)
                    .checked_mul(size)
                    .is_some_and(|end| end <= attached))
    }
}

/// Takes a free slot in zspage `d`'s attached pages: a recycled one first,
/// else the next fresh one if it is attached. Keeps `st.growing` up to date.
///
/// # Safety
///
/// Class lock held (`st`); `d` is descriptor `id`, live with `size`-byte
/// slots.
pub(crate) unsafe fn take_backed(
    st: &mut ClassState,
    id: u32,
    d: *mut Zspage,
    size: usize,
) -> Option<usize> {
    // SAFETY: class lock held, `d` live (caller contract).
    unsafe {
        if let Some(obj) = pop_free(d, size) {
            return Some(obj);
        }
        if !can_take(d, size) {
            return None;
        }
        // `next_fresh < objs` (`can_take`) and `inuse <= next_fresh`
        // (`Zspage` invariant), so neither overflows; checked before either
        // changes.
        let nf = (*d).next_fresh;
        let (next, inuse) = (nf.checked_add(1)?, (*d).inuse.checked_add(1)?);
        (*d).next_fresh = next;
        (*d).inuse = inuse;
        if (*d).next_fresh >= (*d).objs && st.growing == id {
            st.growing = NONE;
        }
        Some(nf as usize)
    }
}

/// Attaches `page` as zspage `d`'s next page; false (and nothing changed) if
/// all of its pages are attached already.
///
/// # Safety
///
/// Class lock held (`st`); `d` live with `size`-byte slots; `page` is an
/// owned provider page that the zspage takes over on success.
pub(crate) unsafe fn attach(
    st: &mut ClassState,
    d: *mut Zspage,
    size: usize,
    page: *mut u8,
) -> bool {
    // SAFETY: class lock held, `d` live (caller contract); only the
    // unattached entry `pages[backed]` is written, which no reader uses.
    unsafe {
        let (b, objs) = (usize::from((*d).backed), usize::from((*d).objs));
        if b >= usize::from((*d).npages) || b >= MAX_PAGES || page.is_null() {
            return false;
        }
        // `b < MAX_PAGES`, and the class counts are bounded by the memory
        // they describe; checked before anything changes all the same.
        // `backed_slots` grows with its first argument, so the difference
        // is the new page's slots.
        let new_slots = backed_slots(b + 1, size, objs).checked_sub(backed_slots(b, size, objs));
        let (Ok(backed), Some(pages), Some(slots)) = (
            u8::try_from(b + 1),
            st.pages.checked_add(1),
            new_slots.and_then(|n| st.slots.checked_add(n)),
        ) else {
            return false;
        };
        // A raw pointer to the one entry: no reference to the whole array,
        // whose attached entries pinned readers may be reading.
        core::ptr::addr_of_mut!((*d).pages)
            .cast::<*mut u8>()
            .add(b)
            .write(page);
        (*d).backed = backed;
        st.pages = pages;
        st.slots = slots;
        true
    }
}

/// Puts zspage `id` on list `g` (no-op for [`GROUP_NONE`]).
///
/// # Safety
///
/// Class lock held; `d` is descriptor `id`, live and on no list.
pub(crate) unsafe fn link<L: PoolLock>(
    st: &mut ClassState,
    descs: &RecordTable<L, DESC_SIZE>,
    id: u32,
    d: *mut Zspage,
    g: u8,
) {
    // SAFETY: class lock held and `d` live (caller contract); list members
    // are live descriptors of this class (ClassState invariant).
    unsafe {
        (*d).group = g;
        let Some(head) = st.heads.get_mut(g as usize) else {
            return;
        };
        (*d).prev = NONE;
        (*d).next = *head;
        if let Some(n) = desc(descs, *head) {
            (*n).prev = id;
        }
        *head = id;
    }
}

/// Takes zspage `d` off its list.
///
/// # Safety
///
/// Class lock held; `d` is a descriptor, and on list `(*d).group`.
pub(crate) unsafe fn unlink<L: PoolLock>(
    st: &mut ClassState,
    descs: &RecordTable<L, DESC_SIZE>,
    d: *mut Zspage,
) {
    // SAFETY: as for `link`.
    unsafe {
        let g = (*d).group;
        (*d).group = GROUP_NONE;
        let Some(head) = st.heads.get_mut(g as usize) else {
            return;
        };
        let (prev, next) = ((*d).prev, (*d).next);
        match desc(descs, prev) {
            Some(p) => (*p).next = next,
            None => *head = next,
        }
        if let Some(n) = desc(descs, next) {
            (*n).prev = prev;
        }
    }
}

/// Moves zspage `id` to the list matching its fullness.
///
/// # Safety
///
/// As for [`unlink`].
pub(crate) unsafe fn regroup<L: PoolLock>(
    st: &mut ClassState,
    descs: &RecordTable<L, DESC_SIZE>,
    id: u32,
    d: *mut Zspage,
) {
    // SAFETY: forwarded caller contract.
    unsafe {
        let g = group_of((*d).inuse as usize, (*d).objs as usize);
        if g != (*d).group {
            unlink(st, descs, d);
            link(st, descs, id, d, g);
        }
    }
}

/// Takes a free object off zspage `d`'s free list; `None` if it has none.
///
/// # Safety
///
/// Class lock held; `d` live with `size`-byte slots.
pub(crate) unsafe fn pop_free(d: *mut Zspage, size: usize) -> Option<usize> {
    // SAFETY: class lock held; free objects are below the object count.
    unsafe {
        let obj = (*d).free_head;
        if obj == NO_OBJ {
            return None;
        }
        // A free slot exists, so `inuse < objs` (`Zspage` invariant): no
        // overflow; checked before anything changes all the same.
        let inuse = (*d).inuse.checked_add(1)?;
        // Free headers hold a `u16` successor (`free_header`).
        (*d).free_head = u16::try_from(header(d, size, usize::from(obj)) >> 1).ok()?;
        (*d).inuse = inuse;
        Some(usize::from(obj))
    }
}

/// Returns object `obj` to zspage `d`'s free list; `None` (and nothing
/// changed) if the counts say `d` has no allocated object, which the
/// caller's `obj` rules out.
///
/// # Safety
///
/// Class lock held; `obj` is an allocated object of `d`.
pub(crate) unsafe fn push_free(d: *mut Zspage, size: usize, obj: usize) -> Option<()> {
    // SAFETY: class lock held, `obj` in range (caller contract).
    unsafe {
        // `obj` is allocated, so counted in `inuse` (`Zspage` invariant).
        let inuse = (*d).inuse.checked_sub(1)?;
        let obj16 = u16::try_from(obj).ok()?;
        set_header(d, size, obj, free_header((*d).free_head));
        (*d).free_head = obj16;
        (*d).inuse = inuse;
        Some(())
    }
}
