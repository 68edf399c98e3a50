// SPDX-License-Identifier: GPL-2.0

//! The page read/write paths of a device.
//!
//! Each page-sized piece of a bio is served on its own. A slot's lock
//! guards that slot: it sleeps (`glue/slot_lock.rs`), so a page is
//! decompressed with its slot locked and the stream (for its buffers) taken
//! inside, as zram does; a write compresses and allocates with only the
//! stream held, then publishes the result under the slot lock. Swap's
//! slot-free notification runs in atomic context and only try-locks. I/O
//! smaller than a page goes through the current CPU's partial buffer.
//! Order: partial buffer → slot → stream → pool.

use core::sync::atomic::Ordering;
use kernel::prelude::*;

use super::device::{Device, Store};
use crate::{
    allocators::{Handle, PAGE_SIZE},
    glue::{
        backing::now_seconds,
        bio::{Bio, Op, Segment, SECTORS_PER_PAGE_SHIFT},
    },
    portable::{
        same_filled::{fill_page, same_filled},
        slot::{SlotContent, FLAG_IDLE, FLAG_INCOMPRESSIBLE},
        stats::Stats,
    },
    zcomp::Streams,
};

/// A page that compresses to at least this many bytes is kept uncompressed
/// (a "huge" page): the zsmalloc-style pool would give it a page of its own
/// anyway, so compression would only add a decompression to every read
/// (zram's `huge_class_size`).
pub(super) const HUGE_THRESHOLD: usize = crate::allocators::zsmalloc::class::HUGE_OBJ_LEN;

/// Copies `src` into `dst`, which must be as long.
fn copy(dst: &mut [u8], src: &[u8]) -> Result {
    if dst.len() != src.len() {
        return Err(EIO);
    }
    dst.copy_from_slice(src);
    Ok(())
}

impl Device {
    /// Serves one bio and completes it; `store` is `None` before init.
    pub(crate) fn submit(&self, store: Option<&Store>, bio: Bio) {
        let op = bio.op();
        let ret = match store {
            Some(s) => self.serve(s, &bio, op),
            None => Err(EIO),
        };
        match (op, &ret) {
            (Op::Read, Ok(())) => Stats::inc(&self.stats.num_reads),
            (Op::Read, Err(_)) => Stats::inc(&self.stats.failed_reads),
            (Op::Write, Ok(())) => Stats::inc(&self.stats.num_writes),
            (Op::Write, Err(_)) => Stats::inc(&self.stats.failed_writes),
            _ => {}
        }
        bio.end(ret);
    }

    fn serve(&self, s: &Store, bio: &Bio, op: Op) -> Result {
        match op {
            Op::Read => bio.fill_segments(|seg| {
                seg.device_pieces()
                    .try_for_each(|p| self.read_segment(s, &p))
            }),
            Op::Write => bio.store_segments(|seg| {
                seg.device_pieces()
                    .try_for_each(|p| self.write_segment(s, &p))
            }),
            Op::Discard | Op::WriteZeroes => {
                let (sector, bytes) = bio.range();
                self.discard(s, sector, bytes);
                Ok(())
            }
            Op::Flush => Ok(()),
            Op::Other => Err(EOPNOTSUPP),
        }
    }

    /// Splits a piece's position into (page index, offset in page); the
    /// piece lies within one device page.
    fn locate<K>(s: &Store, seg: &Segment<K>) -> Result<(usize, usize)> {
        let index = usize::try_from(seg.sector >> SECTORS_PER_PAGE_SHIFT).map_err(|_| EIO)?;
        let in_page = seg.sector & ((1 << SECTORS_PER_PAGE_SHIFT) - 1);
        let offset = (in_page as usize) << kernel::block::SECTOR_SHIFT;
        if index >= s.slot_count() || offset + seg.len > PAGE_SIZE {
            return Err(EIO);
        }
        Ok((index, offset))
    }

    fn read_segment(&self, s: &Store, seg: &Segment<crate::glue::bio::ToFill>) -> Result {
        let (index, offset) = Self::locate(s, seg)?;
        if offset == 0 && seg.len == PAGE_SIZE {
            return match seg.fill(|dst| self.read_page(s, index, dst, true))? {
                Some(block) => self.read_block_into(s, block, seg),
                None => Ok(()),
            };
        }
        let mut page = s.partial.lock()?;
        self.read_page(s, index, &mut page, false)?;
        let src = page.get(offset..offset + seg.len).ok_or(EIO)?;
        seg.fill(|dst| copy(dst, src))
    }

    fn write_segment(&self, s: &Store, seg: &Segment<crate::glue::bio::ToStore>) -> Result {
        let (index, offset) = Self::locate(s, seg)?;
        if offset == 0 && seg.len == PAGE_SIZE {
            return seg.data(|src| self.write_page(s, index, src));
        }
        // Read-modify-write of the whole page through the partial buffer.
        let mut page = s.partial.lock()?;
        self.read_page(s, index, &mut page, false)?;
        let dst = page.get_mut(offset..offset + seg.len).ok_or(EIO)?;
        seg.data(|src| copy(dst, src))?;
        self.write_page(s, index, &page)
    }

    /// Fills `dst` (one page) with page `index`, with its slot locked so
    /// that the object is not freed meanwhile. A page on the backing device
    /// is read with the slot unlocked (the read sleeps on another device);
    /// a compressed one is then decompressed under the lock, if the slot
    /// still points at that block.
    ///
    /// With `chain`, a page written back as it is (uncompressed) is not
    /// read: its block is returned, for the caller to read straight into
    /// its own buffer, and `dst` is left alone. One slot lock decides both.
    fn read_page(
        &self,
        s: &Store,
        index: usize,
        dst: &mut [u8],
        chain: bool,
    ) -> Result<Option<usize>> {
        let Some(slot) = s.slot(index)? else {
            dst.fill(0);
            return Ok(None);
        };
        let mut guard = slot.lock(&s.locks);
        let content = guard.content();
        let prio = guard.priority();
        match content {
            SlotContent::Empty => {
                dst.fill(0);
                return Ok(None);
            }
            SlotContent::Same(word) => fill_page(dst, word),
            SlotContent::Stored { handle, size, huge } => {
                let handle = Handle::from_raw(handle).ok_or(EIO)?;
                self.read_stored(s, handle, size, huge, prio, dst)?;
                s.lru_update(index, true);
            }
            SlotContent::Written { block, huge, .. } if chain && (huge || !s.compressed_wb) => {
                guard.mark_accessed(now_seconds());
                return Ok(Some(block));
            }
            SlotContent::Written { block, size, huge } => {
                drop(guard);
                self.read_block(s, block, dst)?;
                guard = slot.lock(&s.locks);
                if s.compressed_wb && !huge {
                    if guard.content() != content {
                        // Freed or rewritten meanwhile: what was read is stale.
                        dst.fill(0);
                        return Err(EIO);
                    }
                    Self::decompress_in_place(s, size, prio, dst)?;
                }
            }
        }
        guard.mark_accessed(now_seconds());
        Ok(None)
    }

    /// The compression streams of priority `prio`; `EINVAL` if none is
    /// configured there.
    pub(super) fn codec(s: &Store, prio: u32) -> Result<&Streams> {
        s.comps.get(prio).ok_or(EINVAL)
    }

    /// Fills `dst` (one page) from a stored object of `size` bytes, made by
    /// the compressor of priority `prio`. The current CPU's stream of that
    /// compressor gives the bounce buffer (an object may straddle two pool
    /// pages) and the decompression context.
    pub(super) fn read_stored(
        &self,
        s: &Store,
        handle: Handle,
        size: usize,
        huge: bool,
        prio: u32,
        dst: &mut [u8],
    ) -> Result {
        Self::codec(s, prio)?.read(|bounce, dec| {
            s.pool
                .read(handle, bounce, |src| {
                    if huge {
                        copy(dst, src.get(..PAGE_SIZE).ok_or(EIO)?)
                    } else {
                        dec.decompress(src.get(..size).ok_or(EIO)?, dst)
                    }
                })
                .map_err(|_| EIO)?
        })
    }

    /// `page` holds a compressed object of `size` bytes at its start:
    /// replaces it by the page it decompresses to.
    fn decompress_in_place(s: &Store, size: usize, prio: u32, page: &mut [u8]) -> Result {
        Self::codec(s, prio)?.read(|bounce, dec| {
            let src = bounce.get_mut(..size).ok_or(EIO)?;
            src.copy_from_slice(page.get(..size).ok_or(EIO)?);
            dec.decompress(src, page)
        })
    }

    /// Stores `src` (one page): compressed into a new pool object, or as
    /// is if it does not compress (a huge page), which `writeback_huge`
    /// sends to the backing device instead. The stream is held for the
    /// output buffer until the object is written.
    fn store_page(&self, s: &Store, src: &[u8]) -> Result<SlotContent> {
        let direct = self.auto.huge.load(Ordering::Relaxed) && s.backing.is_some();
        let stored = s.comps.primary().compress(src, |out| match out {
            Ok(c) if c.len() < HUGE_THRESHOLD => self.store_object(s, c, false).map(Some),
            // Incompressible (or a compressor error).
            _ if direct => Ok(None),
            _ => self.store_object(s, src, true).map(Some),
        })?;
        match stored {
            Some(c) => Ok(c),
            None => match self.write_direct(s, src) {
                Some(c) => Ok(c),
                // No block, no limit left or a failed write: keep it here.
                None => self.store_object(s, src, true),
            },
        }
    }

    /// `data` as a new pool object of the page's slot-to-be. `ENOMEM` if the
    /// pool has no room or `mem_limit` would be exceeded.
    fn store_object(&self, s: &Store, data: &[u8], huge: bool) -> Result<SlotContent> {
        let handle = s.pool.alloc(data.len()).map_err(|_| ENOMEM)?;
        // As zram: the high-water mark and the limit both look at the
        // pool right after the allocation.
        let used = s.pool.total_pages() as u64;
        self.stats.update_max_used(used);
        let limit = self.mem_limit_pages();
        if limit != 0 && used > limit {
            s.pool.free(handle);
            return Err(ENOMEM);
        }
        if s.pool.write(handle, data).is_err() {
            s.pool.free(handle);
            return Err(EIO);
        }
        self.check_high(s, used);
        Ok(SlotContent::Stored {
            handle: handle.to_raw(),
            size: data.len(),
            huge,
        })
    }

    /// Stores `src` (one page), making room by automatic writeback when
    /// the pool is full (`auto.rs`).
    fn store_or_make_room(&self, s: &Store, src: &[u8]) -> Result<SlotContent> {
        let mut tries = 0;
        loop {
            match self.store_page(s, src) {
                Err(e) if e == ENOMEM && self.make_room(s, &mut tries) => continue,
                r => return r,
            }
        }
    }

    /// Stores page `index`.
    fn write_page(&self, s: &Store, index: usize, src: &[u8]) -> Result {
        let slot = s.slot_for_write(index)?;
        let new = match same_filled(src) {
            Some(word) => SlotContent::Same(word),
            None => self.store_or_make_room(s, src)?,
        };
        let mut guard = slot.lock(&s.locks);
        let replaced = guard.replace(new);
        if replaced.is_ok() {
            guard.mark_accessed(now_seconds());
            s.lru_update(index, matches!(new, SlotContent::Stored { .. }));
        }
        drop(guard);
        let Ok(old) = replaced else {
            // The slot is unchanged and `new` was never counted.
            self.free_object(s, new);
            return Err(EIO);
        };
        self.account(new);
        self.release(s, old);
        Ok(())
    }

    /// Frees the pool object, or the block, of a content no slot holds.
    fn free_object(&self, s: &Store, c: SlotContent) {
        match c {
            SlotContent::Stored { handle, .. } => {
                if let Some(handle) = Handle::from_raw(handle) {
                    s.pool.free(handle);
                }
            }
            SlotContent::Written { block, .. } => self.release_block(s, block),
            SlotContent::Empty | SlotContent::Same(_) => {}
        }
    }

    /// Counts a content that was just stored.
    fn account(&self, c: SlotContent) {
        match c {
            SlotContent::Empty => return,
            SlotContent::Same(_) => Stats::inc(&self.stats.same_pages),
            // A huge page `writeback_huge` sent to the backing device.
            SlotContent::Written { .. } => Stats::inc(&self.stats.huge_pages_since),
            SlotContent::Stored { size, huge, .. } => {
                Stats::add(&self.stats.compr_data_size, size as u64);
                if huge {
                    Stats::inc(&self.stats.huge_pages);
                    Stats::inc(&self.stats.huge_pages_since);
                }
            }
        }
        Stats::inc(&self.stats.pages_stored);
    }

    /// Frees a content taken out of its slot and uncounts it. It was taken
    /// under the slot lock, so nobody else can reach its object any more.
    fn release(&self, s: &Store, c: SlotContent) {
        match c {
            SlotContent::Empty => return,
            SlotContent::Same(_) => Stats::dec(&self.stats.same_pages),
            SlotContent::Stored { size, huge, .. } => {
                self.free_object(s, c);
                Stats::sub(&self.stats.compr_data_size, size as u64);
                if huge {
                    Stats::dec(&self.stats.huge_pages);
                }
            }
            // Writeback already uncounted its size and huge page.
            SlotContent::Written { block, .. } => self.release_block(s, block),
        }
        Stats::dec(&self.stats.pages_stored);
    }

    /// Empties slot `index`, if it exists. With `wait` false a busy slot
    /// is left alone; returns whether the slot is empty now.
    fn free_slot(&self, s: &Store, index: usize, wait: bool) -> bool {
        let Ok(Some(slot)) = s.slot(index) else {
            return true;
        };
        let mut guard = if wait {
            slot.lock(&s.locks)
        } else {
            match slot.try_lock(&s.locks) {
                Some(guard) => guard,
                None => return false,
            }
        };
        let old = guard.take();
        s.lru_update(index, false);
        drop(guard);
        self.release(s, old);
        true
    }

    /// Frees every page wholly inside `bytes` at `sector` (discard and
    /// write-zeroes: an empty slot reads back as zeroes).
    fn discard(&self, s: &Store, sector: u64, bytes: u64) {
        let page = PAGE_SIZE as u64;
        let start = sector.saturating_mul(1 << kernel::block::SECTOR_SHIFT);
        let first = start.div_ceil(page);
        let end = start.saturating_add(bytes) / page;
        for index in first..end {
            let Ok(index) = usize::try_from(index) else {
                break;
            };
            self.free_slot(s, index, true);
            // zram counts every discarded page as a freed one.
            Stats::inc(&self.stats.notify_free);
        }
    }

    /// Swap released page `index`: free its compressed copy now. Swap holds
    /// a spinlock here, so a slot in use is skipped and counted (zram's
    /// `miss_free`); its next write or discard frees it.
    pub(crate) fn slot_free_notify(&self, s: &Store, index: usize) {
        Stats::inc(&self.stats.notify_free);
        if !self.free_slot(s, index, false) {
            Stats::inc(&self.stats.miss_free);
        }
    }

    /// Calls `f` with the state of every slot, under the settings lock
    /// (so the store stays) but outside the slot locks.
    pub(crate) fn for_each_state(&self, mut f: impl FnMut(usize, SlotState)) {
        self.with_store(|s| {
            if let Some(s) = s {
                s.for_each_slot(|index, slot| {
                    let g = slot.lock(&s.locks);
                    f(
                        index,
                        SlotState {
                            content: g.content(),
                            idle: g.test_flag(FLAG_IDLE),
                            incompressible: g.test_flag(FLAG_INCOMPRESSIBLE),
                            prio: g.priority(),
                            access_time: g.access_time(),
                        },
                    );
                });
            }
        })
    }
}

/// What `block_state` shows of a slot.
pub(crate) struct SlotState {
    pub(crate) content: SlotContent,
    pub(crate) idle: bool,
    pub(crate) incompressible: bool,
    /// Priority of the compressor that made the object (0: primary).
    pub(crate) prio: u32,
    /// Seconds of boot time at the last access.
    pub(crate) access_time: u32,
}
