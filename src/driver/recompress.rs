// SPDX-License-Identifier: GPL-2.0

//! `recompress`: compress stored pages again with a stronger algorithm of
//! a higher priority (`recomp_algorithm`), as zram's `recompress_store()`.
//!
//! Runs under the settings lock (one post-processing at a time, never with
//! `reset`); each page is decompressed and compressed again with its slot
//! locked, so nothing changes under it. Pages are taken in index order
//! (zram takes the largest first; with `max_pages` the set can differ).
//! A page that the last configured algorithm cannot shrink is marked
//! incompressible, which `writeback incompressible` selects.

use kernel::prelude::*;

use super::{device::Store, Device};
use crate::{
    allocators::{Handle, PAGE_SIZE},
    portable::{
        parse,
        postproc::{self, Recompress, RECOMP_HUGE, RECOMP_IDLE},
        slot::{SlotContent, FLAG_IDLE, FLAG_INCOMPRESSIBLE},
        stats::Stats,
    },
};

/// zram's `huge_class_size`: an object this large is stored as the page.
const HUGE_SIZE: usize = super::rw::HUGE_THRESHOLD;

impl Device {
    /// `recompress` store.
    pub(crate) fn recompress(&self, input: &[u8]) -> Result {
        let r = postproc::parse_recompress(input, HUGE_SIZE)
            .map_err(|e: parse::Errno| Error::from_errno(-e.0))?;
        self.with_store(|s| {
            let s = s.ok_or(EINVAL)?;
            let prio = s.comps.select(r.algo, r.priority)?;
            let mut page = KVec::from_elem(0u8, PAGE_SIZE, GFP_KERNEL)?;
            let mut left = r.max_pages;
            let mut ret = Ok(());
            s.for_each_slot(|index, _| {
                if ret.is_err() || left == 0 {
                    return;
                }
                ret = self.recompress_slot(s, index, &r, prio, &mut left, &mut page);
            });
            ret
        })
    }

    /// Recompresses page `index` if `r` selects it; counts the attempt in
    /// `left`. An error ends the command (zram's behaviour).
    fn recompress_slot(
        &self,
        s: &Store,
        index: usize,
        r: &Recompress<'_>,
        prio: u32,
        left: &mut u64,
        page: &mut [u8],
    ) -> Result {
        let Ok(Some(slot)) = s.slot(index) else {
            return Ok(());
        };
        let mut guard = slot.lock(&s.locks);
        let SlotContent::Stored { handle, size, huge } = guard.content() else {
            // Empty, same-filled or on the backing device.
            return Ok(());
        };
        if (r.mode & RECOMP_IDLE != 0 && !guard.test_flag(FLAG_IDLE))
            || (r.mode & RECOMP_HUGE != 0 && !huge)
            || guard.test_flag(FLAG_INCOMPRESSIBLE)
            || guard.priority() >= prio
        {
            return Ok(());
        }
        // Objects already small enough are left alone.
        if size < r.threshold as usize {
            return Ok(());
        }
        let old = Handle::from_raw(handle).ok_or(EIO)?;
        self.read_stored(s, old, size, huge, guard.priority(), page)?;
        // Touched: no longer idle, so another post-processing skips it.
        guard.clear_flag(FLAG_IDLE);
        *left = left.saturating_sub(1);
        let threshold = r.threshold as usize;
        let stored = Self::codec(s, prio)?.compress(page, |out| {
            let data = out?;
            // Only a smaller object saves memory (zram compares size
            // classes; a huge result never is one).
            if data.len() >= size
                || data.len() >= HUGE_SIZE
                || (threshold != 0 && data.len() >= threshold)
            {
                return Ok(None);
            }
            let new = s.pool.alloc(data.len()).map_err(|_| ENOMEM)?;
            if s.pool.write(new, data).is_err() {
                s.pool.free(new);
                return Err(EIO);
            }
            Ok(Some((new, data.len())))
        })?;
        let Some((new, new_size)) = stored else {
            if prio >= s.comps.highest() {
                guard.set_flag(FLAG_INCOMPRESSIBLE);
            }
            return Ok(());
        };
        let content = SlotContent::Stored {
            handle: new.to_raw(),
            size: new_size,
            huge: false,
        };
        if guard.set(content).is_err() {
            s.pool.free(new);
            return Err(EIO);
        }
        guard.set_priority(prio);
        drop(guard);
        s.pool.free(old);
        Stats::sub(&self.stats.compr_data_size, size as u64);
        Stats::add(&self.stats.compr_data_size, new_size as u64);
        if huge {
            Stats::dec(&self.stats.huge_pages);
        }
        Ok(())
    }
}
