// SPDX-License-Identifier: GPL-2.0
//! Object placement of the zsmalloc-style backend: free slots in attached
//! pages first, else one more page for the class's growing zspage, else a new
//! zspage. Pages and descriptors are obtained without the class lock and
//! given back if another CPU made room meanwhile.

use core::ptr::NonNull;
use core::sync::atomic::Ordering;

use super::super::zpool::{AllocError, PageProvider, PoolLock};
use super::class::CLASSES;
use super::zspage::{self, ClassState, Zspage, NONE};
use super::{enc_zs, ZsPool};

/// Outcome of one placement attempt under the class lock.
enum Place {
    /// The object is placed.
    Done,
    /// A page is needed first, and a descriptor too if `desc`.
    Need { desc: bool },
    /// Internal inconsistency; fail the allocation.
    Failed,
}

impl<P: PageProvider, L: PoolLock> ZsPool<P, L> {
    /// Takes a free object of zspage `d` (descriptor `id`, class `c`) in its
    /// attached pages for handle entry `idx`, and publishes its location.
    /// Class lock held (`st`).
    pub(super) fn take_from(
        &self,
        st: &mut ClassState,
        c: usize,
        id: u32,
        d: *mut Zspage,
        idx: usize,
    ) -> bool {
        let Some(size) = CLASSES.get(c).map(|info| info.size) else {
            return false;
        };
        // The count of objects is bounded by the memory they take; checked
        // before anything changes, an overflow fails the allocation.
        let Some(inuse) = st.inuse.checked_add(1) else {
            return false;
        };
        // SAFETY: `d` is a live zspage of class `c` and we hold its lock.
        let Some(obj) = (unsafe { zspage::take_backed(st, id, d, size) }) else {
            return false;
        };
        // SAFETY: as above; `obj` was just taken off `d` and lies in its
        // attached pages.
        unsafe {
            zspage::set_header(d, size, obj, zspage::used_header(idx));
            zspage::regroup(st, &self.descs, id, d);
        }
        st.inuse = inuse;
        if let Some(e) = self.handles.word(idx) {
            e.store(enc_zs(id, obj), Ordering::Release);
        }
        true
    }

    /// The zspage of the fullest group that has a free slot in its attached
    /// pages. Only the growing zspage can lack one, so looking at the first
    /// two members of each list suffices. Class lock held.
    pub(super) fn backed_target(&self, st: &ClassState, c: usize) -> Option<(u32, *mut Zspage)> {
        let size = CLASSES.get(c)?.size;
        for &head in st.heads.iter().rev() {
            let mut id = head;
            for _ in 0..2 {
                let Some(d) = zspage::desc(&self.descs, id) else {
                    break;
                };
                // SAFETY: list members are live zspages of class `c`, whose
                // lock the caller holds.
                if unsafe { zspage::can_take(d, size) } {
                    return Some((id, d));
                }
                // SAFETY: as above.
                id = unsafe { (*d).next };
            }
        }
        None
    }

    /// One attempt to place an object of class `c` for handle entry `idx`,
    /// class lock held (`st`). Uses a free attached slot if there is one,
    /// else attaches `*page` to the growing zspage, else sets up `*desc` with
    /// `*page` as a new zspage. What it uses is taken out of the options.
    fn place(
        &self,
        st: &mut ClassState,
        c: usize,
        idx: usize,
        page: &mut Option<NonNull<u8>>,
        desc: &mut Option<(u32, *mut Zspage)>,
    ) -> Place {
        let Some(&info) = CLASSES.get(c) else {
            return Place::Failed;
        };
        if let Some((id, d)) = self.backed_target(st, c) {
            return if self.take_from(st, c, id, d, idx) {
                Place::Done
            } else {
                Place::Failed
            };
        }
        if let Some(d) = zspage::desc(&self.descs, st.growing) {
            let Some(p) = page.take() else {
                return Place::Need { desc: false };
            };
            // SAFETY: the growing zspage is live, of class `c`, lock held;
            // the page is ours and passes to the zspage if attached.
            if !unsafe { zspage::attach(st, d, info.size, p.as_ptr()) } {
                *page = Some(p);
                return Place::Failed;
            }
            self.zspage_pages.fetch_add(1, Ordering::Relaxed);
            let id = st.growing;
            return if self.take_from(st, c, id, d, idx) {
                Place::Done
            } else {
                Place::Failed
            };
        }
        let (Some(p), Some((id, d))) = (*page, *desc) else {
            return Place::Need { desc: true };
        };
        // The class counts are bounded by the memory they describe; checked
        // before anything changes, an overflow fails the allocation (and the
        // page and descriptor are given back).
        let (Some(zspages), Some(slots), Some(pages)) = (
            st.zspages.checked_add(1),
            st.slots
                .checked_add(zspage::backed_slots(1, info.size, info.objs)),
            st.pages.checked_add(1),
        ) else {
            return Place::Failed;
        };
        *page = None;
        *desc = None;
        // SAFETY: record and page are ours alone, the class layout fits
        // `info.pages` pages; class lock held and `d` is on no list.
        unsafe {
            zspage::init(d, p.as_ptr(), info.pages, c, info.objs);
            zspage::link(st, &self.descs, id, d, zspage::group_of(0, info.objs));
        }
        st.zspages = zspages;
        st.slots = slots;
        st.pages = pages;
        st.growing = id;
        self.zspage_pages.fetch_add(1, Ordering::Relaxed);
        if self.take_from(st, c, id, d, idx) {
            Place::Done
        } else {
            Place::Failed
        }
    }

    /// A fresh descriptor record, or `None` if the table cannot grow.
    fn new_desc(&self) -> Option<(u32, *mut Zspage)> {
        let id = self.descs.alloc(&self.provider)?;
        // Descriptor ids are `u32`, and `NONE` means "no zspage".
        let id32 = u32::try_from(id).ok().filter(|&i| i != NONE);
        match id32.and_then(|i| Some((i, zspage::desc(&self.descs, i)?))) {
            Some(found) => Some(found),
            None => {
                self.descs.free(id);
                None
            }
        }
    }

    /// Places an object of class `c` for handle entry `idx`. A page (and a
    /// descriptor for a new zspage) is obtained without the class lock when
    /// needed, and given back if another CPU made room meanwhile. Each round
    /// either finishes or obtains something, so there are at most three.
    pub(super) fn alloc_in_class(&self, c: usize, idx: usize) -> Result<(), AllocError> {
        let class = self.classes.get(c).ok_or(AllocError::InvalidSize)?;
        let mut page = None;
        let mut desc = None;
        let r = loop {
            match class.with(|st| self.place(st, c, idx, &mut page, &mut desc)) {
                Place::Done => break Ok(()),
                Place::Failed => break Err(AllocError::NoMemory),
                Place::Need { desc: need_desc } => {
                    if page.is_none() {
                        page = self.provider.alloc_page();
                        if page.is_none() {
                            break Err(AllocError::NoMemory);
                        }
                    }
                    if need_desc && desc.is_none() {
                        desc = self.new_desc();
                        if desc.is_none() {
                            break Err(AllocError::NoMemory);
                        }
                    }
                }
            }
        };
        if let Some((id, _)) = desc {
            self.descs.free(id as usize);
        }
        if let Some(p) = page {
            // SAFETY: a provider page we got above and did not hand on.
            unsafe { self.provider.free_page(p) };
        }
        r
    }
}
