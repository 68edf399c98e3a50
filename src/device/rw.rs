// SPDX-License-Identifier: GPL-2.0

//! The page read/write paths of a device.
//!
//! Each page-sized piece of a bio is served on its own. A slot's bit lock
//! guards that slot; it is taken with preemption disabled and nothing that
//! can sleep runs under it, because swap frees slots from atomic context.
//! Compression and reads run under a stream mutex (for its buffers), taken
//! before the slot lock. I/O smaller than a page goes through the `partial`
//! bounce page under its mutex. Order: `partial` → stream → slot → pool.

use kernel::{page::PAGE_SIZE, prelude::*};

use super::{Backing, Device};
use crate::{
    allocators::Handle,
    bio::{Bio, Op, Segment, SECTORS_PER_PAGE_SHIFT},
    same_filled::{fill_page, same_filled},
    slot::{Slot, SlotContent, SlotGuard},
    stats::Stats, //
};

extern "C" {
    fn rzram_preempt_disable();
    fn rzram_preempt_enable();
}

/// A page that compresses to at least this many bytes is kept uncompressed
/// (a "huge" page): the zsmalloc-style pool would give it a page of its own
/// anyway, so compression would only add a decompression to every read
/// (zram's `huge_class_size`).
const HUGE_THRESHOLD: usize = crate::allocators::zsmalloc::class::HUGE_OBJ_LEN;

/// A slot lock held with preemption disabled, so that a holder cannot be
/// preempted by a task (or swap's atomic slot-free) that spins on it.
struct LockedSlot<'a> {
    guard: Option<SlotGuard<'a>>,
}

impl<'a> LockedSlot<'a> {
    fn new(slot: &'a Slot) -> Self {
        // SAFETY: Balanced by `rzram_preempt_enable` in `drop`.
        unsafe { rzram_preempt_disable() };
        LockedSlot {
            guard: Some(slot.lock()),
        }
    }

    /// Like [`LockedSlot::new`] but does not wait: [`LockedSlot::get`]
    /// gives `None` if the slot was busy.
    fn try_new(slot: &'a Slot) -> Self {
        // SAFETY: Balanced by `rzram_preempt_enable` in `drop`.
        unsafe { rzram_preempt_disable() };
        LockedSlot {
            guard: slot.try_lock(),
        }
    }

    fn get(&mut self) -> Option<&mut SlotGuard<'a>> {
        self.guard.as_mut()
    }
}

impl Drop for LockedSlot<'_> {
    fn drop(&mut self) {
        drop(self.guard.take());
        // SAFETY: Preemption was disabled in `new`.
        unsafe { rzram_preempt_enable() };
    }
}

impl Device {
    /// Serves one bio and completes it.
    pub(crate) fn submit(&self, bio: Bio) {
        let op = bio.op();
        let ret = match self.io_backing() {
            Some(b) => self.serve(b, &bio, op),
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

    fn serve(&self, b: &Backing, bio: &Bio, op: Op) -> Result {
        match op {
            Op::Read => bio.for_each_segment(|seg| {
                seg.device_pieces().try_for_each(|piece| self.read_segment(b, &piece))
            }),
            Op::Write => bio.for_each_segment(|seg| {
                seg.device_pieces().try_for_each(|piece| self.write_segment(b, &piece))
            }),
            Op::Discard | Op::WriteZeroes => {
                let (sector, bytes) = bio.range();
                self.discard(b, sector, bytes);
                Ok(())
            }
            Op::Flush => Ok(()),
            Op::Other => Err(EOPNOTSUPP),
        }
    }

    /// Splits a segment's position into (page index, offset in page).
    fn locate(b: &Backing, seg: &Segment) -> Result<(usize, usize)> {
        let index = usize::try_from(seg.sector >> SECTORS_PER_PAGE_SHIFT).map_err(|_| EIO)?;
        let offset = ((seg.sector & ((1 << SECTORS_PER_PAGE_SHIFT) - 1)) << kernel::block::SECTOR_SHIFT) as usize;
        if index >= b.slot_count() || offset + seg.len > PAGE_SIZE {
            return Err(EIO);
        }
        Ok((index, offset))
    }

    fn read_segment(&self, b: &Backing, seg: &Segment) -> Result {
        let (index, offset) = Self::locate(b, seg)?;
        if offset == 0 && seg.len == PAGE_SIZE {
            return seg.with_bytes(|dst| self.read_page(b, index, dst));
        }
        let mut bounce = b.partial.lock();
        self.read_page(b, index, &mut bounce)?;
        let src = bounce.get(offset..offset + seg.len).ok_or(EIO)?;
        seg.with_bytes(|dst| dst.copy_from_slice(src));
        Ok(())
    }

    fn write_segment(&self, b: &Backing, seg: &Segment) -> Result {
        let (index, offset) = Self::locate(b, seg)?;
        if offset == 0 && seg.len == PAGE_SIZE {
            return seg.with_bytes(|src| self.write_page(b, index, src));
        }
        // Read-modify-write of the whole page through the bounce page.
        let mut bounce = b.partial.lock();
        self.read_page(b, index, &mut bounce)?;
        let dst = bounce.get_mut(offset..offset + seg.len).ok_or(EIO)?;
        seg.with_bytes(|src| dst.copy_from_slice(src));
        self.write_page(b, index, &bounce)
    }

    /// Fills `dst` (one page) with page `index`.
    ///
    /// The stream is taken first (it may sleep) for its buffer, which bounces
    /// objects that straddle two pool pages; then the slot lock keeps the
    /// object from being freed while it is decompressed.
    fn read_page(&self, b: &Backing, index: usize, dst: &mut [u8]) -> Result {
        let Some(slot) = b.slot(index)? else {
            dst.fill(0);
            return Ok(());
        };
        // Empty and same-filled pages (common in swap) need no stream: serve
        // them under the slot lock alone. A stored page found here is read
        // again below, since it may change once the slot lock is dropped.
        if Self::read_unstored(slot, dst)? {
            return Ok(());
        }
        b.streams.read(|bounce, dec| {
            let mut locked = LockedSlot::new(slot);
            match locked.get().ok_or(EIO)?.content() {
                SlotContent::Empty => dst.fill(0),
                SlotContent::Same(word) => fill_page(dst, word),
                SlotContent::Stored { handle, huge, .. } => {
                    let handle = Handle::from_raw(handle).ok_or(EIO)?;
                    b.pool
                        .read(handle, bounce, |src| {
                            if huge {
                                dst.copy_from_slice(src.get(..PAGE_SIZE).ok_or(EIO)?);
                                Ok(())
                            } else {
                                dec.decompress(src, dst)
                            }
                        })
                        .map_err(|_| EIO)??;
                }
            }
            Ok(())
        })
    }

    /// Fills `dst` if the slot holds no pool object; returns whether it did.
    fn read_unstored(slot: &Slot, dst: &mut [u8]) -> Result<bool> {
        let mut locked = LockedSlot::new(slot);
        match locked.get().ok_or(EIO)?.content() {
            SlotContent::Empty => dst.fill(0),
            SlotContent::Same(word) => fill_page(dst, word),
            SlotContent::Stored { .. } => return Ok(false),
        }
        Ok(true)
    }

    /// Stores `src` (one page) as page `index`.
    fn write_page(&self, b: &Backing, index: usize, src: &[u8]) -> Result {
        let slot = b.slot_for_write(index)?;
        let new = match same_filled(src) {
            Some(word) => SlotContent::Same(word),
            None => b.streams.compress(src, |out| -> Result<SlotContent> {
                let (data, huge) = match out {
                    Ok(c) if c.len() < HUGE_THRESHOLD => (c, false),
                    // Incompressible (or a compressor error): keep it as is.
                    _ => (src, true),
                };
                let handle = b.pool.alloc(data.len()).map_err(|_| ENOMEM)?;
                // As zram: the high-water mark and the limit both look at the
                // pool right after the allocation.
                let used = b.pool.total_pages() as u64;
                self.stats.update_max_used(used);
                let limit = self.mem_limit_pages();
                if limit != 0 && used > limit {
                    b.pool.free(handle);
                    return Err(ENOMEM);
                }
                if b.pool.write(handle, data).is_err() {
                    b.pool.free(handle);
                    return Err(EIO);
                }
                Ok(SlotContent::Stored {
                    handle: handle.to_raw(),
                    size: data.len(),
                    huge,
                })
            })?,
        };
        let old = {
            let mut locked = LockedSlot::new(slot);
            let guard = locked.get().ok_or(EIO)?;
            let old = guard.take();
            if let Err(e) = guard.set(new) {
                drop(locked);
                self.release(b, new);
                self.release(b, old);
                return Err(Error::from_errno(-e.0));
            }
            old
        };
        self.account(new);
        self.release(b, old);
        Ok(())
    }

    /// Counts a content that was just stored.
    fn account(&self, c: SlotContent) {
        match c {
            SlotContent::Empty => return,
            SlotContent::Same(_) => Stats::inc(&self.stats.same_pages),
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

    /// Frees a content taken out of a slot and uncounts it.
    fn release(&self, b: &Backing, c: SlotContent) {
        match c {
            SlotContent::Empty => return,
            SlotContent::Same(_) => Stats::dec(&self.stats.same_pages),
            SlotContent::Stored { handle, size, huge } => {
                // `c` was taken out of its slot under the slot lock, so
                // nobody else can reach this object any more.
                if let Some(handle) = Handle::from_raw(handle) {
                    b.pool.free(handle);
                }
                Stats::sub(&self.stats.compr_data_size, size as u64);
                if huge {
                    Stats::dec(&self.stats.huge_pages);
                }
            }
        }
        Stats::dec(&self.stats.pages_stored);
    }

    /// Empties slot `index`, if it exists. With `wait` false a busy slot
    /// is left alone; returns whether the slot is empty now.
    fn free_slot(&self, b: &Backing, index: usize, wait: bool) -> bool {
        let Ok(Some(slot)) = b.slot(index) else {
            return true;
        };
        let old = {
            let mut locked = if wait { LockedSlot::new(slot) } else { LockedSlot::try_new(slot) };
            match locked.get() {
                Some(g) => g.take(),
                None => return false,
            }
        };
        self.release(b, old);
        true
    }

    /// Frees every page wholly inside `bytes` at `sector` (discard and
    /// write-zeroes: an empty slot reads back as zeroes).
    fn discard(&self, b: &Backing, sector: u64, bytes: u64) {
        let page = PAGE_SIZE as u64;
        let start = sector << kernel::block::SECTOR_SHIFT;
        let first = start.div_ceil(page);
        let end = (start + bytes) / page;
        for index in first..end {
            self.free_slot(b, index as usize, true);
            // zram counts every discarded page as a freed one.
            Stats::inc(&self.stats.notify_free);
        }
    }

    /// Swap released page `index`: free its compressed copy now. Swap holds
    /// a spinlock here, so a slot in use is skipped and counted (zram's
    /// `miss_free`); its next write or discard frees it.
    pub(crate) fn slot_free_notify(&self, index: usize) {
        if let Some(b) = self.io_backing() {
            Stats::inc(&self.stats.notify_free);
            if !self.free_slot(b, index, false) {
                Stats::inc(&self.stats.miss_free);
            }
        }
    }


    /// Calls `f` with the content of every slot, under the settings lock
    /// (so the backing stays) but outside the slot locks.
    pub(crate) fn for_each_content(&self, mut f: impl FnMut(usize, SlotContent)) {
        self.with_backing(|b| {
            if let Some(b) = b {
                b.for_each_slot(|index, slot| {
                    let content = LockedSlot::new(slot).get().map(|g| g.content());
                    if let Some(c) = content {
                        f(index, c);
                    }
                });
            }
        })
    }
}
