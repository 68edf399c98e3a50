// SPDX-License-Identifier: GPL-2.0
//! The lists of headed pages by free chunks: linking, unlinking, and placing
//! an object in the first listed page with room. Everything here runs with
//! the pool lock held.

use core::sync::atomic::{AtomicU32, Ordering};

use super::super::zpool::{PageProvider, PoolLock};
use super::header::{Link, PageHeader, NONE, NO_LIST};
use super::ChunkedPool;

/// Counters under the pool lock; holding `&mut Lists` also proves that the
/// lock is held for [`ChunkedPool::heads`].
///
/// # Invariants
///
/// `objs` is the number of objects in headed pages: one per slot that
/// [`PageHeader::put`] filled and [`PageHeader::remove`] has not emptied.
pub(super) struct Lists {
    /// Objects in headed pages.
    pub(super) objs: usize,
}

// `PageHeader` is private on purpose (see `mod.rs`).
#[allow(private_bounds)]
impl<P: PageProvider, L: PoolLock, H: PageHeader> ChunkedPool<P, L, H> {
    /// The list heads, indexed by free chunks (pool lock held, proven by
    /// `_st`). All of them: they fit one page (`LAYOUT_OK`).
    fn heads(&self, _st: &Lists) -> &[AtomicU32] {
        self.heads.as_slice().unwrap_or(&[])
    }

    /// Puts page `idx` on the list for its free chunks (pool lock held).
    pub(super) fn link(&self, st: &mut Lists, idx: u32, h: *mut H) {
        // SAFETY: pool lock held; `h` and listed pages are live headers, which
        // start with their `Link` (`PageHeader` contract).
        unsafe {
            let free = (*h).free_chunks();
            let l = h.cast::<Link>();
            (*l).list = NO_LIST;
            // Pages with no room (0) or empty ones (`NCHUNKS`, about to be
            // freed) go on no list.
            if free == 0 || free >= H::NCHUNKS {
                return;
            }
            let (Some(head), Ok(list)) = (self.heads(st).get(free), u8::try_from(free)) else {
                return;
            };
            let first = head.load(Ordering::Relaxed);
            (*l).list = list;
            (*l).prev = NONE;
            (*l).next = first;
            if let Some(n) = self.hdr(first) {
                (*n.cast::<Link>()).prev = idx;
            }
            head.store(idx, Ordering::Relaxed);
        }
    }

    /// Takes the page of header `h` off its list, if any (pool lock held).
    pub(super) fn unlink(&self, st: &mut Lists, h: *mut H) {
        // SAFETY: as in `link`; listed pages are live headed pages.
        unsafe {
            let l = h.cast::<Link>();
            let Some(head) = self.heads(st).get((*l).list as usize) else {
                return;
            };
            (*l).list = NO_LIST;
            let (prev, next) = ((*l).prev, (*l).next);
            match self.hdr(prev) {
                Some(p) => (*p.cast::<Link>()).next = next,
                None => head.store(next, Ordering::Relaxed),
            }
            if let Some(n) = self.hdr(next) {
                (*n.cast::<Link>()).prev = prev;
            }
        }
    }

    /// Places `c` chunks in the first listed page with room (pool lock held);
    /// returns its index and the slot tag.
    pub(super) fn place(&self, st: &mut Lists, c: u8) -> Option<(u32, u8)> {
        let heads = self.heads(st);
        for head in heads.get(usize::from(c)..H::NCHUNKS).unwrap_or(&[]) {
            let idx = head.load(Ordering::Relaxed);
            let Some(h) = self.hdr(idx) else {
                continue;
            };
            // The count of objects cannot reach `usize::MAX` (each takes a
            // chunk of memory); if it did, the allocation fails here with
            // nothing changed.
            let objs = st.objs.checked_add(1)?;
            self.unlink(st, h);
            // SAFETY: pool lock held, live page taken off its list, which
            // was the list of `c` or more free chunks (`Link` invariant).
            let tag = unsafe { H::put(h, c) };
            self.link(st, idx, h);
            // `None` only from a header that broke its invariant: the page
            // stays as it was, and the next list is tried.
            if let Some(tag) = tag {
                st.objs = objs;
                return Some((idx, tag));
            }
        }
        None
    }
}
