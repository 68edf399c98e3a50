// SPDX-License-Identifier: GPL-2.0

//! The backing device and writeback: `backing_dev`, `writeback`, the
//! writeback limit and batch size, `compressed_writeback`, `bd_stat`.
//!
//! Writeback runs under the settings lock, as zram's under its `dev_lock`:
//! one at a time, never with a `reset`, which so waits for it. Slots are
//! taken in index order. A chosen slot is read into a request's page
//! (decompressed, or the raw object with `compressed_writeback`), marked
//! [`FLAG_PP`] and unlocked; a batch of `writeback_batch_size` requests is
//! then written at once. When the batch completes each slot is locked
//! again: if it still has the mark (nobody read, wrote or freed it) its
//! object is freed and the slot points at the block; otherwise the block
//! is given back. A failed write leaves the page in memory.

use core::sync::atomic::Ordering;
use kernel::prelude::*;

use super::{device::Store, Device};
use crate::{
    allocators::{Handle, PAGE_SIZE},
    glue::{
        backing::{Backing, WriteBatch},
        bio::{Segment, ToFill},
        sched::cond_resched,
    },
    portable::{
        parse::{self, PageWriter},
        postproc::{self, Scan, WB_HUGE, WB_IDLE, WB_INCOMPRESSIBLE},
        slot::{SlotContent, FLAG_IDLE, FLAG_INCOMPRESSIBLE, FLAG_PP},
        stats::Stats,
    },
};

/// Most pages one batch carries, whatever `writeback_batch_size` asks:
/// bounds the memory a writeback holds (4 MiB of request pages).
pub(super) const MAX_BATCH: usize = 1024;

fn errno(e: parse::Errno) -> Error {
    Error::from_errno(-e.0)
}

/// A page on its way to the backing device.
#[derive(Clone, Copy, Default)]
pub(super) struct Pending {
    index: usize,
    block: usize,
}

/// One `writeback` command's (or automatic batch's) progress.
pub(super) struct Run<'a> {
    s: &'a Store,
    backing: &'a Backing,
    batch: WriteBatch<'a>,
    /// The queued pages, request `i` carrying `pending[i]`; its capacity
    /// is at least the batch's length, so pushing never allocates.
    pending: &'a mut KVec<Pending>,
    /// What the command returns: the last error, if any.
    ret: Result,
    /// A limit or a full device ends the command.
    stop: bool,
}

impl<'a> Run<'a> {
    /// A run writing through `batch`; `pending` must have room for as many
    /// pages as the batch has requests.
    pub(super) fn new(
        s: &'a Store,
        backing: &'a Backing,
        batch: WriteBatch<'a>,
        pending: &'a mut KVec<Pending>,
    ) -> Result<Self> {
        pending.clear();
        if pending.capacity() < batch.len() as usize {
            return Err(ENOMEM);
        }
        Ok(Run {
            s,
            backing,
            pending,
            batch,
            ret: Ok(()),
            stop: false,
        })
    }

    /// A limit or a full device ended the run.
    pub(super) fn stopped(&self) -> bool {
        self.stop
    }
}

impl Device {
    /// `backing_dev` store: before `disksize` only (`EBUSY` after).
    pub(crate) fn set_backing_dev(&self, input: &[u8]) -> Result {
        let path = parse::path_arg(input);
        self.configure(|c| {
            let backing = Backing::open(path)?;
            // The old device (if any) is closed only once the new one opened.
            c.backing = Some(backing);
            Ok(())
        })
    }

    /// `backing_dev` show: the path, or `none`.
    pub(crate) fn write_backing_dev(&self, w: &mut PageWriter<'_>) -> Result {
        self.with_config(|c, s| {
            let backing = s.and_then(|s| s.backing.as_ref()).or(c.backing.as_ref());
            match backing {
                Some(b) => b.write_path(w)?,
                None => w.write_bytes(b"none"),
            }
            w.write_bytes(b"\n");
            Ok(())
        })
    }

    /// `writeback` store.
    pub(crate) fn writeback(&self, input: &[u8]) -> Result {
        self.with_store(|s| {
            let s = s.ok_or(EINVAL)?;
            let backing = s.backing.as_ref().ok_or(ENODEV)?;
            let nr_pages = s.slot_count() as u64;
            // Checks the whole command before anything is written.
            postproc::parse_writeback(input, nr_pages, |_| {}).map_err(errno)?;
            let size = self.wb.batch_size.load(Ordering::Relaxed) as usize;
            let batch = backing.batch(size.clamp(1, MAX_BATCH) as u32)?;
            let mut pending = KVec::with_capacity(batch.len() as usize, GFP_KERNEL)?;
            let mut run = Run::new(s, backing, batch, &mut pending)?;
            let parsed = postproc::parse_writeback(input, nr_pages, |scan| {
                self.scan_for_writeback(&mut run, scan)
            });
            self.flush(&mut run);
            parsed.map_err(errno)?;
            run.ret
        })
    }

    /// Queues every page of `scan` that it selects.
    fn scan_for_writeback(&self, run: &mut Run<'_>, scan: Scan) {
        let (Ok(lo), Ok(hi)) = (usize::try_from(scan.lo), usize::try_from(scan.hi)) else {
            return;
        };
        for index in lo..hi {
            if run.stop {
                return;
            }
            self.queue(run, index, scan.mode);
            if run.pending.len() >= run.batch.len() as usize {
                self.flush(run);
            }
            cond_resched();
        }
    }

    /// Queues page `index` if it is in memory and matches `mode`.
    pub(super) fn queue(&self, run: &mut Run<'_>, index: usize, mode: u32) {
        let s = run.s;
        let Ok(Some(slot)) = s.slot(index) else {
            return;
        };
        let mut guard = slot.lock(&s.locks);
        let SlotContent::Stored { handle, size, huge } = guard.content() else {
            // Empty, same-filled or already written back.
            return;
        };
        if guard.test_flag(FLAG_PP) {
            // Another pass chose it already.
            return;
        }
        if (mode & WB_IDLE != 0 && !guard.test_flag(FLAG_IDLE))
            || (mode & WB_HUGE != 0 && !huge)
            || (mode & WB_INCOMPRESSIBLE != 0 && !guard.test_flag(FLAG_INCOMPRESSIBLE))
        {
            return;
        }
        if self.wb.limit_enable.load(Ordering::Relaxed)
            && self.wb.limit.load(Ordering::Relaxed) == 0
        {
            run.ret = Err(EIO);
            run.stop = true;
            return;
        }
        let Some(block) = run.backing.blocks.reserve() else {
            run.ret = Err(ENOSPC);
            run.stop = true;
            return;
        };
        Stats::inc(&self.stats.bd_count);
        let i = run.pending.len();
        let Some(buf) = run.batch.buf(i as u32) else {
            self.release_block(s, block);
            return;
        };
        let prio = guard.priority();
        let read = match Handle::from_raw(handle) {
            Some(h) if s.compressed_wb => Self::read_raw(s, h, size, buf),
            Some(h) => self.read_stored(s, h, size, huge, prio, buf),
            None => Err(EIO),
        };
        if read.is_err() {
            self.release_block(s, block);
            return;
        }
        guard.set_flag(FLAG_PP);
        drop(guard);
        // Counted at submission so that a batch never exceeds the limit;
        // a failed write gives it back.
        if self.wb.limit_enable.load(Ordering::Relaxed) {
            let _ = self
                .wb
                .limit
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |l| l.checked_sub(1));
        }
        // Never allocates: the capacity is the batch's length.
        if run
            .pending
            .push(Pending { index, block }, GFP_NOWAIT)
            .is_err()
        {
            self.release_block(s, block);
        }
    }

    /// The stored object as is, zero-padded to a page.
    fn read_raw(s: &Store, handle: Handle, size: usize, buf: &mut [u8; PAGE_SIZE]) -> Result {
        s.comps.primary().read(|bounce, _| {
            s.pool
                .read(handle, bounce, |src| {
                    let src = src.get(..size).ok_or(EIO)?;
                    let (head, tail) = buf.split_at_mut(size);
                    head.copy_from_slice(src);
                    tail.fill(0);
                    Ok(())
                })
                .map_err(|_| EIO)?
        })
    }

    /// Writes the batch, waits for it and settles every page in it.
    pub(super) fn flush(&self, run: &mut Run<'_>) {
        let Run {
            s,
            batch,
            pending,
            ret,
            ..
        } = run;
        if pending.is_empty() {
            return;
        }
        let block = |i: usize| pending.get(i).map_or(0, |p| p.block);
        let mut settled = |i: usize, result: Result| {
            if let Some(p) = pending.get(i) {
                if let Err(e) = self.complete(s, *p, result) {
                    *ret = Err(e);
                }
            }
        };
        batch.write(pending.len(), block, &mut settled);
        pending.clear();
    }

    /// Settles one written page: the slot now points at the block, unless
    /// the write failed or the slot changed meanwhile.
    fn complete(&self, s: &Store, p: Pending, result: Result) -> Result {
        if let Err(e) = result {
            if self.wb.limit_enable.load(Ordering::Relaxed) {
                self.wb.limit.fetch_add(1, Ordering::Relaxed);
            }
            self.release_block(s, p.block);
            // The page stays in memory, no longer chosen.
            if let Ok(Some(slot)) = s.slot(p.index) {
                slot.lock(&s.locks).clear_flag(FLAG_PP);
            }
            return Err(e);
        }
        Stats::inc(&self.stats.bd_writes);
        let Ok(Some(slot)) = s.slot(p.index) else {
            self.release_block(s, p.block);
            return Ok(());
        };
        let mut guard = slot.lock(&s.locks);
        let SlotContent::Stored { handle, size, huge } = guard.content() else {
            self.release_block(s, p.block);
            return Ok(());
        };
        if !guard.test_flag(FLAG_PP) {
            // Read, rewritten or freed since it was chosen.
            self.release_block(s, p.block);
            return Ok(());
        }
        let (prio, time) = (guard.priority(), guard.access_time());
        let incompressible = guard.test_flag(FLAG_INCOMPRESSIBLE);
        let written = SlotContent::Written {
            block: p.block,
            size,
            huge,
        };
        if guard.set(written).is_err() {
            self.release_block(s, p.block);
            return Ok(());
        }
        s.lru_update(p.index, false);
        // The priority says how to decompress a compressed writeback; the
        // access time stays that of the last access (idle and the mark go).
        guard.set_priority(prio);
        guard.mark_accessed(time);
        if incompressible {
            guard.set_flag(FLAG_INCOMPRESSIBLE);
        }
        drop(guard);
        if let Some(h) = Handle::from_raw(handle) {
            s.pool.free(h);
        }
        Stats::sub(&self.stats.compr_data_size, size as u64);
        if huge {
            Stats::dec(&self.stats.huge_pages);
        }
        Ok(())
    }

    /// Gives a block back and uncounts it.
    pub(super) fn release_block(&self, s: &Store, block: usize) {
        if let Some(b) = &s.backing {
            if b.blocks.release(block) {
                Stats::dec(&self.stats.bd_count);
            }
        }
    }

    /// `writeback_huge`: writes `src` (one page) straight to a free block
    /// of the backing device. `None`, with nothing written, when there is
    /// no free block, the writeback limit is exhausted or the write fails.
    pub(super) fn write_direct(&self, s: &Store, src: &[u8]) -> Option<SlotContent> {
        let backing = s.backing.as_ref()?;
        let limited = self.wb.limit_enable.load(Ordering::Relaxed);
        if limited
            && self
                .wb
                .limit
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |l| l.checked_sub(1))
                .is_err()
        {
            return None;
        }
        let give_back = || {
            if limited {
                self.wb.limit.fetch_add(1, Ordering::Relaxed);
            }
        };
        let Some(block) = backing.blocks.reserve() else {
            give_back();
            return None;
        };
        Stats::inc(&self.stats.bd_count);
        if backing.write(block, src).is_err() {
            self.release_block(s, block);
            give_back();
            return None;
        }
        Stats::inc(&self.stats.bd_writes);
        Some(SlotContent::Written {
            block,
            size: PAGE_SIZE,
            huge: true,
        })
    }

    /// Reads block `block` of the backing device into `dst` (one page).
    pub(super) fn read_block(&self, s: &Store, block: usize, dst: &mut [u8]) -> Result {
        let backing = s.backing.as_ref().ok_or(EIO)?;
        Stats::inc(&self.stats.bd_reads);
        backing.read(block, dst)
    }

    /// Starts reading block `block` into `seg` (a whole page of a read
    /// bio) without waiting: the bio ends once the read has.
    pub(super) fn read_block_into(&self, s: &Store, block: usize, seg: &Segment<ToFill>) -> Result {
        let backing = s.backing.as_ref().ok_or(EIO)?;
        Stats::inc(&self.stats.bd_reads);
        seg.fill_from(backing, block)
    }

    /// `writeback_limit_enable` store. As zram, any bad number (overflow
    /// included) is `EINVAL`, in the three stores below too.
    pub(crate) fn set_wb_limit_enable(&self, input: &[u8]) -> Result {
        let v = parse::parse_u64(input, 10).map_err(|_| EINVAL)?;
        self.with_config(|_, _| self.wb.limit_enable.store(v != 0, Ordering::Relaxed));
        Ok(())
    }

    /// `writeback_limit` store, in 4 KiB units (the page size here).
    pub(crate) fn set_wb_limit(&self, input: &[u8]) -> Result {
        let v = parse::parse_u64(input, 10).map_err(|_| EINVAL)?;
        self.with_config(|_, _| self.wb.limit.store(v, Ordering::Relaxed));
        Ok(())
    }

    /// `writeback_batch_size` store: a positive `u32`.
    pub(crate) fn set_wb_batch_size(&self, input: &[u8]) -> Result {
        let v = parse::parse_u32(input, 10).map_err(|_| EINVAL)?;
        if v == 0 {
            return Err(EINVAL);
        }
        self.with_config(|_, _| self.wb.batch_size.store(v, Ordering::Relaxed));
        Ok(())
    }

    /// `compressed_writeback` store: before `disksize` only.
    pub(crate) fn set_compressed_wb(&self, input: &[u8]) -> Result {
        let v = parse::parse_bool(input).map_err(|_| EINVAL)?;
        self.configure(|_| {
            self.wb.compressed.store(v, Ordering::Relaxed);
            Ok(())
        })
    }
}
