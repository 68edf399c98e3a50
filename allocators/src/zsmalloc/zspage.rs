// SPDX-License-Identifier: GPL-2.0
//! Zspage descriptors, object slots inside a zspage, and the per-class
//! fullness lists. Everything here runs with the owning class lock held,
//! except [`Zspage::pin`] which is atomic.

use core::sync::atomic::AtomicU32;

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
/// `group` of a zspage that is on no list (full, or being set up).
pub(crate) const GROUP_NONE: u8 = u8::MAX;

/// Descriptor of one zspage, a record of the descriptor table.
///
/// # Invariants
///
/// While the descriptor is live: `pages[..npages]` are pages of the pool's
/// provider owned by this zspage and `pages[0]` is non-null (so the table's
/// first word stays even); `inuse` objects are allocated and the others are
/// chained from `free_head` through their headers; `group` names the list the
/// zspage is on (or [`GROUP_NONE`]) and `next`/`prev` link it there. All
/// fields but `pin` are only accessed with the lock of class `class` held.
/// `pin` counts readers and writers working on its objects outside the lock;
/// compaction never moves objects out of a zspage with a non-zero pin.
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
    /// Owning size class.
    pub(crate) class: u8,
    /// Current fullness list.
    pub(crate) group: u8,
    /// Valid entries of `pages`.
    pub(crate) npages: u8,
    _pad: u8,
    /// Readers/writers accessing objects without the class lock.
    pub(crate) pin: AtomicU32,
}

const _: () = assert!(core::mem::size_of::<Zspage>() == DESC_SIZE);

/// State of one size class, protected by the class lock.
pub(crate) struct ClassState {
    /// First zspage of each fullness list.
    pub(crate) heads: [u32; NR_GROUPS],
    /// Zspages held.
    pub(crate) zspages: usize,
    /// Objects allocated.
    pub(crate) inuse: usize,
    /// Object slots in all zspages.
    pub(crate) slots: usize,
    /// Pages in all zspages.
    pub(crate) pages: usize,
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
        }
    }
}

/// Fullness list for `inuse` of `objs` objects.
pub(crate) fn group_of(inuse: usize, objs: usize) -> u8 {
    if inuse >= objs || objs == 0 {
        GROUP_NONE
    } else {
        (inuse * NR_GROUPS / objs) as u8
    }
}

/// Descriptor `id` of `descs`.
pub(crate) fn desc<L: PoolLock>(descs: &RecordTable<L, DESC_SIZE>, id: u32) -> Option<*mut Zspage> {
    descs.get(id as usize).map(|p| p.as_ptr() as *mut Zspage)
}

/// Pointer to byte `off` of the zspage's byte stream.
///
/// # Safety
///
/// `d` must be a live descriptor and `off < npages * PAGE_SIZE`.
pub(crate) unsafe fn at(d: *mut Zspage, off: usize) -> *mut u8 {
    // SAFETY: `d` is live, and the page index is below `npages <= MAX_PAGES`
    // (caller contract); the page pointer is valid for PAGE_SIZE bytes.
    unsafe { (*d).pages[off >> PAGE_SHIFT].add(off & (PAGE_SIZE - 1)) }
}

/// Header word of object `obj` in a class with `size`-byte slots.
///
/// # Safety
///
/// `d` is live, its class lock is held and `obj` is below its object count.
pub(crate) unsafe fn header(d: *mut Zspage, size: usize, obj: usize) -> u32 {
    // SAFETY: slots start at multiples of 16 bytes, so the 4-byte header is
    // aligned and lies within one page of the live zspage.
    unsafe { (at(d, obj * size) as *const u32).read() }
}

/// Sets the header word of object `obj`.
///
/// # Safety
///
/// As for [`header`].
pub(crate) unsafe fn set_header(d: *mut Zspage, size: usize, obj: usize, v: u32) {
    // SAFETY: see `header`; the class lock makes us the only header writer.
    unsafe { (at(d, obj * size) as *mut u32).write(v) }
}

/// Header of an allocated object owned by handle entry `idx`.
pub(crate) fn used_header(idx: usize) -> u32 {
    ((idx as u32) << 1) | 1
}

/// Header of a free object whose free-list successor is `next`.
pub(crate) fn free_header(next: u16) -> u32 {
    (next as u32) << 1
}

/// Sets up a fresh zspage: no objects in use, all chained on the free list.
///
/// # Safety
///
/// `d` must point to an allocated descriptor record that the caller owns
/// exclusively, `pages[..npages]` to owned provider pages, and
/// `objs * size <= npages * PAGE_SIZE`, `0 < objs < NO_OBJ`.
pub(crate) unsafe fn init(
    d: *mut Zspage,
    pages: &[*mut u8; MAX_PAGES],
    npages: usize,
    class: usize,
    size: usize,
    objs: usize,
) {
    // SAFETY: exclusive access to the record (caller contract).
    unsafe {
        d.write(Zspage {
            pages: *pages,
            next: NONE,
            prev: NONE,
            inuse: 0,
            free_head: 0,
            objs: objs as u16,
            class: class as u8,
            group: GROUP_NONE,
            npages: npages as u8,
            _pad: 0,
            pin: AtomicU32::new(0),
        });
    }
    for obj in 0..objs {
        let next = if obj + 1 < objs { (obj + 1) as u16 } else { NO_OBJ };
        // SAFETY: `obj < objs` and the zspage is set up above.
        unsafe { set_header(d, size, obj, free_header(next)) };
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
        (*d).free_head = (header(d, size, obj as usize) >> 1) as u16;
        (*d).inuse += 1;
        Some(obj as usize)
    }
}

/// Returns object `obj` to zspage `d`'s free list.
///
/// # Safety
///
/// Class lock held; `obj` is an allocated object of `d`.
pub(crate) unsafe fn push_free(d: *mut Zspage, size: usize, obj: usize) {
    // SAFETY: class lock held, `obj` in range (caller contract).
    unsafe {
        set_header(d, size, obj, free_header((*d).free_head));
        (*d).free_head = obj as u16;
        (*d).inuse -= 1;
    }
}
