// SPDX-License-Identifier: GPL-2.0
//! Compaction of the zsmalloc-style backend: moves objects from sparse
//! zspages into dense ones of the same class so that zspages empty out and
//! their pages can be freed. Runs with one class lock held at a time.
//!
//! Compaction never calls the page provider (it holds a class lock), so it
//! only moves objects into free slots of attached pages: recycled slots and
//! attached fresh slots. Unattached slots of the growing zspage are not
//! destinations, and its attached objects may be moved out like any others.

use core::sync::atomic::Ordering;

use super::super::zpool::{copy_streams, PageProvider, PoolLock};
use super::class::CLASSES;
use super::zspage::{self, ClassState};
use super::{enc_zs, Empty, ZsPool};

impl<P: PageProvider, L: PoolLock> ZsPool<P, L> {
    /// One compaction step in class `c`: moves objects from the sparsest
    /// unpinned zspage into the fullest one with attached free slots. Returns
    /// `None` when nothing is left to gain, else the pages of a zspage
    /// emptied by the step (if any). Each step empties its source or fills
    /// its destination's attached slots.
    pub(super) fn compact_step(&self, st: &mut ClassState, c: usize) -> Option<Option<Empty>> {
        let info = *CLASSES.get(c)?;
        let (dst_id, dst) = self.backed_target(st, c)?;
        let mut src_pick = None;
        'groups: for &head in st.heads.iter() {
            let mut id = head;
            while let Some(d) = zspage::desc(&self.descs, id) {
                // SAFETY: list members are live zspages of this class.
                if id != dst_id && unsafe { zspage::claim_for_compaction(d) } {
                    src_pick = Some((id, d));
                    break 'groups;
                }
                // SAFETY: as above.
                id = unsafe { (*d).next };
            }
        }
        let (src_id, src) = src_pick?;
        // Stop unless the other zspages have room in attached pages for all
        // of `src`.
        // SAFETY: `src` is a live zspage of this class, lock held.
        let (src_fresh, src_inuse, src_slots) = unsafe {
            let s = &*src;
            let slots = zspage::backed_slots(usize::from(s.backed), info.size, usize::from(s.objs));
            (usize::from(s.next_fresh), usize::from(s.inuse), slots)
        };
        // Free attached slots outside `src`. The class counts include
        // `src`'s slots and objects (`ClassState` invariant), so nothing
        // underflows; checked all the same, a broken count ends compaction
        // of the class.
        let room = st
            .slots
            .checked_sub(st.inuse)
            .zip(src_slots.checked_sub(src_inuse))
            .and_then(|(free, src_free)| free.checked_sub(src_free));
        if room.is_none_or(|room| room < src_inuse) {
            // SAFETY: `src` is live and claimed above.
            unsafe { zspage::end_compaction(src) };
            return None;
        }
        // `src` is claimed: nobody holds a pin on it, and a new lock-free pin
        // backs off, so nobody accesses its objects outside the lock; slots
        // are `info.size` bytes within each zspage stream.
        // SAFETY: Both zspages are live, distinct, of class `c`, and we hold its lock.
        unsafe {
            for obj in 0..src_fresh {
                if (*src).inuse == 0 {
                    break;
                }
                let hdr = zspage::header(src, info.size, obj);
                if hdr & 1 == 0 {
                    continue;
                }
                let Some(new) = zspage::take_backed(st, dst_id, dst, info.size) else {
                    break;
                };
                // Both slots lie in attached pages (`obj < next_fresh`,
                // `take_backed`), so `obj * size` and `new * size` are below
                // `backed * PAGE_SIZE`: no overflow.
                copy_streams(
                    |o| zspage::at(src, o),
                    obj * info.size,
                    |o| zspage::at(dst, o),
                    new * info.size,
                    info.size,
                );
                if let Some(e) = self.handles.word((hdr >> 1) as usize) {
                    e.store(enc_zs(dst_id, new), Ordering::Release);
                }
                // Fails only if `src`'s count is broken: the slot then stays
                // taken (its entry already names the copy).
                if zspage::push_free(src, info.size, obj).is_none() {
                    break;
                }
            }
            zspage::regroup(st, &self.descs, dst_id, dst);
            // Every moved object's entry is rewritten: release the claim
            // (before the record can be freed and reused).
            zspage::end_compaction(src);
            if (*src).inuse == 0 {
                return Some(Some(self.remove_zspage(st, info.size, src_id, src)));
            }
            zspage::regroup(st, &self.descs, src_id, src);
        }
        Some(None)
    }
}
