// SPDX-License-Identifier: GPL-2.0
//! Compaction of the zsmalloc-style backend: moves objects from sparse
//! zspages into dense ones of the same class so that zspages empty out and
//! their pages can be freed. Runs with one class lock held at a time.

use core::sync::atomic::Ordering;

use super::super::zpool::{copy_streams, PageProvider, PoolLock};
use super::class::CLASSES;
use super::zspage::{self, ClassState, NONE};
use super::{enc_zs, Empty, ZsPool};

impl<P: PageProvider, L: PoolLock> ZsPool<P, L> {
    /// One compaction step in class `c`: moves objects from the sparsest
    /// unpinned zspage into the fullest one. Returns `None` when nothing is
    /// left to gain, else the pages of a zspage emptied by the step (if any).
    pub(super) fn compact_step(&self, st: &mut ClassState, c: usize) -> Option<Option<Empty>> {
        let info = CLASSES[c];
        let dst_id = st.heads.iter().rev().copied().find(|&h| h != NONE)?;
        let dst = zspage::desc(&self.descs, dst_id)?;
        let mut src_pick = None;
        'groups: for &head in st.heads.iter() {
            let mut id = head;
            while let Some(d) = zspage::desc(&self.descs, id) {
                // SAFETY: list members are live zspages of this class.
                let (pin, next) = unsafe { ((*d).pin.load(Ordering::Acquire), (*d).next) };
                if id != dst_id && pin == 0 {
                    src_pick = Some((id, d));
                    break 'groups;
                }
                id = next;
            }
        }
        let (src_id, src) = src_pick?;
        // Stop unless the other zspages have room for all of `src`.
        // SAFETY: `src` is a live zspage of this class, lock held.
        let (src_objs, src_inuse) = unsafe { ((*src).objs as usize, (*src).inuse as usize) };
        if st.slots - st.inuse - (src_objs - src_inuse) < src_inuse {
            return None;
        }
        // SAFETY: both zspages are live, distinct, of class `c`, and we hold
        // its lock; `src` is unpinned, so nobody accesses its objects outside
        // the lock. Slots are `info.size` bytes within each zspage stream.
        unsafe {
            for obj in 0..src_objs {
                if (*src).inuse == 0 {
                    break;
                }
                let hdr = zspage::header(src, info.size, obj);
                if hdr & 1 == 0 {
                    continue;
                }
                let Some(new) = zspage::pop_free(dst, info.size) else {
                    break;
                };
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
                zspage::push_free(src, info.size, obj);
            }
            zspage::regroup(st, &self.descs, dst_id, dst);
            if (*src).inuse == 0 {
                return Some(Some(self.remove_zspage(st, src_id, src)));
            }
            zspage::regroup(st, &self.descs, src_id, src);
        }
        Some(None)
    }
}
