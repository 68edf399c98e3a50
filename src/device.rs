// SPDX-License-Identifier: GPL-2.0

//! Per-device state and the page read/write paths.
//!
//! A device starts uninitialised (capacity 0). Writing `disksize` builds its
//! [`Backing`]: the slot table (one [`Slot`] per page), the compression
//! streams and the object store. From then on each page-sized piece of a bio
//! goes through [`Device::submit`].
//!
//! Locking: `init` (a mutex) serialises sysfs changes of the device state.
//! A slot's bit lock guards that slot; it is taken with preemption disabled
//! and nothing that can sleep runs under it, because swap frees slots from
//! atomic context. Compression and reads run under a stream mutex (for its
//! buffers), taken before the slot lock. I/O smaller than a page goes
//! through the `partial` bounce page under its mutex. Order: `init`, then
//! `partial` → stream → slot → pool locks.

use core::{
    ptr,
    sync::atomic::{AtomicPtr, Ordering},
};
use kernel::{
    alloc::VVec,
    bindings,
    new_mutex,
    page::PAGE_SIZE,
    prelude::*,
    sync::Mutex, //
};

use crate::{
    bio::{Bio, Op, Segment, SECTORS_PER_PAGE_SHIFT},
    codec::{Streams, BACKENDS},
    same_filled::{fill_page, same_filled},
    slot::{Slot, SlotContent, SlotGuard},
    allocators::{Backend, Handle},
    pool::{KernelPages, Pool},
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

// SAFETY: All-zero bytes are an empty, unlocked slot (documented on `Slot`).
unsafe impl kernel::prelude::Zeroable for Slot {}

/// What exists once `disksize` is set.
pub(crate) struct Backing {
    pub(crate) disksize: u64,
    slots: VVec<Slot>,
    pub(crate) streams: Streams,
    pub(crate) pool: Pool,
    /// Bounce page for I/O smaller than a page (read-modify-write).
    partial: Pin<KBox<Mutex<KVVec<u8>>>>,
}

impl Backing {
    fn new(disksize: u64, slots: usize) -> Result<Self> {
        Ok(Backing {
            disksize,
            slots: VVec::zeroed(slots, GFP_KERNEL)?,
            streams: Streams::new(BACKENDS[0], None)?,
            pool: Pool::new(Backend::Zsmalloc, KernelPages).ok_or(ENOMEM)?,
            partial: KBox::pin_init(
                new_mutex!(KVVec::from_elem(0u8, PAGE_SIZE, GFP_KERNEL)?, "rzram_partial"),
                GFP_KERNEL,
            )?,
        })
    }
}

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

/// One rzram device.
#[pin_data(PinnedDrop)]
pub(crate) struct Device {
    pub(crate) id: u32,
    gendisk: AtomicPtr<bindings::gendisk>,
    /// Serialises `disksize` (and later `reset`) against each other.
    #[pin]
    pub(crate) init: Mutex<()>,
    /// Null until `disksize` is set; owned (a leaked `KBox`) afterwards.
    backing: AtomicPtr<Backing>,
    pub(crate) stats: Stats,
}

impl Device {
    pub(crate) fn new(id: u32) -> impl PinInit<Self, Error> {
        try_pin_init!(Device {
            id,
            gendisk: AtomicPtr::new(ptr::null_mut()),
            init <- new_mutex!((), "rzram_init"),
            backing: AtomicPtr::new(ptr::null_mut()),
            stats: Stats::new(),
        })
    }

    pub(crate) fn set_gendisk(&self, gendisk: *mut bindings::gendisk) {
        self.gendisk.store(gendisk, Ordering::Relaxed);
    }

    /// The backing, once `disksize` has been set.
    pub(crate) fn backing(&self) -> Option<&Backing> {
        let b = self.backing.load(Ordering::Acquire);
        // SAFETY: A non-null pointer came from `KBox::into_raw` in
        // `set_disksize` and is freed only when the device is dropped.
        unsafe { b.as_ref() }
    }

    /// Sets the size and builds the backing; `EBUSY` once initialised.
    pub(crate) fn set_disksize(&self, bytes: u64) -> Result {
        let _guard = self.init.lock();
        if self.backing().is_some() {
            return Err(EBUSY);
        }
        let bytes = crate::slot::page_align(bytes).ok_or(EINVAL)?;
        let slots = crate::slot::slots_for_disksize(bytes).ok_or(EINVAL)?;
        if slots == 0 {
            return Err(EINVAL);
        }
        let backing = KBox::new(Backing::new(bytes, slots)?, GFP_KERNEL)?;
        self.backing.store(KBox::into_raw(backing), Ordering::Release);
        let disk = self.gendisk.load(Ordering::Relaxed);
        // SAFETY: The gendisk is live while sysfs can call us.
        unsafe { bindings::set_capacity_and_notify(disk, bytes >> kernel::block::SECTOR_SHIFT) };
        Ok(())
    }

    /// Memory the stored pages take, in pages.
    pub(crate) fn mem_used_pages(&self) -> usize {
        self.backing().map_or(0, |b| b.pool.total_pages())
    }

    /// Serves one bio and completes it.
    pub(crate) fn submit(&self, bio: Bio) {
        let op = bio.op();
        let ret = match self.backing() {
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
        if index >= b.slots.len() || offset + seg.len > PAGE_SIZE {
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
        let slot = b.slots.get(index).ok_or(EIO)?;
        // Empty and same-filled pages (common in swap) need no stream: serve
        // them under the slot lock alone. A stored page found here is read
        // again below, since it may change once the slot lock is dropped.
        if Self::read_unstored(slot, dst)? {
            return Ok(());
        }
        b.streams.read(|bounce, decompressor| {
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
                                decompressor.decompress(src, dst)
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
        let slot = b.slots.get(index).ok_or(EIO)?;
        let new = match same_filled(src) {
            Some(word) => SlotContent::Same(word),
            None => b.streams.compress(src, |out| -> Result<SlotContent> {
                let (data, huge) = match out {
                    Ok(c) if c.len() < HUGE_THRESHOLD => (c, false),
                    // Incompressible (or a compressor error): keep it as is.
                    _ => (src, true),
                };
                let handle = b.pool.alloc(data.len()).map_err(|_| ENOMEM)?;
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
        self.stats
            .update_max_used(b.pool.total_pages() as u64);
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

    /// Empties slot `index`, if it exists.
    fn free_slot(&self, b: &Backing, index: usize) {
        if let Some(slot) = b.slots.get(index) {
            let old = {
                let mut locked = LockedSlot::new(slot);
                match locked.get() {
                    Some(g) => g.take(),
                    None => SlotContent::Empty,
                }
            };
            self.release(b, old);
        }
    }

    /// Frees every page wholly inside `bytes` at `sector` (discard and
    /// write-zeroes: an empty slot reads back as zeroes).
    fn discard(&self, b: &Backing, sector: u64, bytes: u64) {
        let page = PAGE_SIZE as u64;
        let start = sector << kernel::block::SECTOR_SHIFT;
        let first = start.div_ceil(page);
        let end = (start + bytes) / page;
        for index in first..end {
            self.free_slot(b, index as usize);
        }
    }

    /// Swap released page `index`: free its compressed copy now.
    pub(crate) fn slot_free_notify(&self, index: usize) {
        if let Some(b) = self.backing() {
            Stats::inc(&self.stats.notify_free);
            self.free_slot(b, index);
        }
    }
}

#[pinned_drop]
impl PinnedDrop for Device {
    fn drop(self: Pin<&mut Self>) {
        let b = self.backing.swap(ptr::null_mut(), Ordering::Acquire);
        if !b.is_null() {
            // SAFETY: `b` came from `KBox::into_raw` in `set_disksize` and the
            // disk is deleted, so nothing else can use it.
            drop(unsafe { KBox::from_raw(b) });
        }
    }
}
