// SPDX-License-Identifier: GPL-2.0

//! The per-page slot table entry, as compact as zram's `zram_table_entry`.
//!
//! Design: the device keeps one [`Slot`] per 4 KiB page, in chunks of the
//! slot table (`slot_table.rs`) that start out zeroed, so a 100 GiB device
//! needs 26 M slots and every byte counts. A slot is two words: `handle`
//! (allocator handle, or the fill word of a same-filled page) and `flags`,
//! which packs the compressed size in the low [`SIZE_BITS`] bits, a bit lock
//! ([`FLAG_LOCK`]) and state bits above it. All-zero is the empty, unlocked
//! slot, so zeroed memory is a valid table as is.
//!
//! Locking: like zram's `slot_lock()`, the lock is one bit of `flags`,
//! taken with a compare-exchange (Acquire) and released with an atomic swap
//! (Release). While a [`SlotGuard`] exists only its owner writes `flags`
//! and `handle` (other threads' compare-exchange fails while the bit is set),
//! so the guard keeps a copy of `flags` and both words are accessed with
//! `Relaxed` ordering; the lock orders them. How a thread waits for a held
//! lock is the [`SlotWaiter`]'s business: the kernel sleeps on the bit (the
//! holder may sleep too, e.g. to decompress) and tells lockdep; the host
//! tests spin. A waiter that may not sleep (swap's slot-free notification)
//! uses [`Slot::try_lock`].

use core::sync::atomic::{AtomicUsize, Ordering};

use super::parse::{Errno, EINVAL};
use crate::allocators::PAGE_SIZE;

/// log2 of the device page size: rzram always works in 4 KiB pages, the
/// zram logical block size (the module asserts the CPU's page is the same).
pub const PAGE_SHIFT: u32 = 12;
const _: () = assert!(PAGE_SIZE == 1 << PAGE_SHIFT);

/// Width of the size field: `PAGE_SHIFT + 1` bits so that a full page
/// (4096, a huge object) fits, like zram's `ZRAM_FLAG_SHIFT`.
pub const SIZE_BITS: u32 = PAGE_SHIFT + 1;
/// Mask of the object size inside `flags` (low 13 bits).
pub const SIZE_MASK: usize = (1 << SIZE_BITS) - 1;
/// Largest object size a slot records: one page, stored uncompressed.
pub const MAX_OBJECT_SIZE: usize = PAGE_SIZE;

/// Bit number of the slot lock in `flags`, for the kernel's bit waitqueues.
pub const LOCK_BIT: u32 = SIZE_BITS;
/// Bit lock of the slot (zram's `ZRAM_ENTRY_LOCK`); first bit above size.
pub const FLAG_LOCK: usize = 1 << LOCK_BIT;
/// Same-filled page: `handle` holds the fill word, nothing is allocated
/// (zram's `ZRAM_SAME`).
pub const FLAG_SAME: usize = 1 << (SIZE_BITS + 1);
/// An allocator object holds the page: `handle` is the allocator handle and
/// the size field its length. Explicit so that handle 0 and size 0 need no
/// special meaning (zram infers this from a non-zero size).
pub const FLAG_STORED: usize = 1 << (SIZE_BITS + 2);
/// The stored object is the page itself, uncompressed (zram's `ZRAM_HUGE`);
/// only meaningful with [`FLAG_STORED`].
pub const FLAG_HUGE: usize = 1 << (SIZE_BITS + 3);
/// Page not accessed since the last `idle` store (zram's `ZRAM_IDLE`).
pub const FLAG_IDLE: usize = 1 << (SIZE_BITS + 4);
/// Recompression could not shrink the page (zram's `ZRAM_INCOMPRESSIBLE`).
pub const FLAG_INCOMPRESSIBLE: usize = 1 << (SIZE_BITS + 5);
/// The page lives on the backing device (zram's `ZRAM_WB`): `handle` is the
/// block index there; the size field and [`FLAG_HUGE`] still describe what
/// was written (the compressed object, or the page itself).
pub const FLAG_WB: usize = 1 << (SIZE_BITS + 6);
/// Selected for post-processing (zram's `ZRAM_PP_SLOT`): writeback or
/// recompression chose the slot and released its lock; any access or free
/// clears the bit, which tells the post-processing the slot changed.
pub const FLAG_PP: usize = 1 << (SIZE_BITS + 7);
/// Lowest of the two bits of the compressor priority that stored the object
/// (zram's `ZRAM_COMP_PRIORITY_BIT1`): 0 is `comp_algorithm`, 1 to 3 are
/// `recomp_algorithm`s.
pub const PRIO_SHIFT: u32 = SIZE_BITS + 8;
/// Mask of the priority bits in `flags`.
pub const PRIO_MASK: usize = 0b11 << PRIO_SHIFT;
/// Bits from here up to bit 31 are free for later states, keeping 32-bit
/// `usize` targets.
pub const FLAG_FIRST_FREE: usize = 1 << (SIZE_BITS + 10);

/// On 64-bit targets the upper half of `flags` holds the slot's last access
/// time in seconds of boot time, as zram's `attr.ac_time` shares the lock
/// word (`CONFIG_ZRAM_TRACK_ENTRY_ACTIME`); 32-bit targets track none.
#[cfg(target_pointer_width = "64")]
const ACTIME_SHIFT: u32 = 32;

/// Auxiliary flags callers may test, set and clear through the guard;
/// they do not change what the slot contains and are cleared by
/// [`SlotGuard::set`] and [`SlotGuard::take`] (like zram's `slot_free()`).
pub const AUX_FLAGS: usize = FLAG_IDLE | FLAG_INCOMPRESSIBLE | FLAG_PP;

// All flag bits must fit a 32-bit `usize`.
const _: () = assert!(FLAG_FIRST_FREE <= 1 << 31);
// Content bits (everything but lock and aux flags) lie below the aux flags
// and never include the lock. A local, not a named constant: rustc 1.85
// counts a constant read only here as dead code.
const _: () = {
    let content = SIZE_MASK | FLAG_SAME | FLAG_STORED | FLAG_HUGE | FLAG_WB;
    assert!(content & (FLAG_LOCK | AUX_FLAGS | PRIO_MASK) == 0);
};
// Two words per slot, as zram's table entry without debug fields.
const _: () = assert!(core::mem::size_of::<Slot>() == 2 * core::mem::size_of::<usize>());

/// One per 4 KiB page of the device. All-zero bytes == empty slot, so a
/// zeroed chunk of the slot table is valid as is.
#[repr(C)]
pub struct Slot {
    /// Allocator handle (stored page) or fill word (same-filled page).
    handle: AtomicUsize,
    /// Object size, lock bit and state flags; see the `FLAG_*` constants.
    flags: AtomicUsize,
}

/// What a slot holds, as seen or set through a [`SlotGuard`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlotContent {
    /// Never written, or freed (discard, swap slot free, overwrite).
    Empty,
    /// Every native-endian word of the page equals this value.
    Same(usize),
    /// The page is an allocator object.
    Stored {
        /// Allocator handle of the object.
        handle: usize,
        /// Object size in bytes, at most [`MAX_OBJECT_SIZE`].
        size: usize,
        /// The object is the uncompressed page (zram's huge page).
        huge: bool,
    },
    /// The page was written to block `block` of the backing device.
    Written {
        /// Block index (in pages) on the backing device.
        block: usize,
        /// Bytes of the object that was written: its compressed length, or
        /// a page for a huge one or when the page was written decompressed.
        size: usize,
        /// The object was the uncompressed page.
        huge: bool,
    },
}

/// How a thread waits for a slot lock that another holds, and how the
/// holder lets waiters know it is free. Also the lock-debugging hooks.
pub trait SlotWaiter {
    /// The lock bit of `flags` was seen set: return once it may be clear
    /// (sleeping on it in the kernel); the caller then tries again.
    fn wait(&self, flags: &AtomicUsize);
    /// The holder has just cleared the lock bit of `flags` with an atomic
    /// read-modify-write: wake whoever waits on it.
    fn wake(&self, flags: &AtomicUsize);
    /// About to take the lock (`try_lock`: taken without waiting).
    fn acquire(&self, _try_lock: bool) {}
    /// The lock is now held.
    fn acquired(&self) {}
    /// About to drop the lock.
    fn release(&self) {}
}

#[cfg(test)]
/// Busy-waiting, for the host tests.
pub struct Spin;

#[cfg(test)]
impl SlotWaiter for Spin {
    fn wait(&self, flags: &AtomicUsize) {
        while flags.load(Ordering::Relaxed) & FLAG_LOCK != 0 {
            core::hint::spin_loop();
        }
    }

    fn wake(&self, _flags: &AtomicUsize) {}
}

impl Slot {
    /// An empty, unlocked slot (the same as all-zero memory).
    pub const fn new() -> Self {
        Slot {
            handle: AtomicUsize::new(0),
            flags: AtomicUsize::new(0),
        }
    }

    /// Locks the slot, waiting through `waiter` while another thread holds
    /// it. The lock is released when the guard is dropped.
    pub fn lock<'a, W: SlotWaiter>(&'a self, waiter: &'a W) -> SlotGuard<'a, W> {
        waiter.acquire(false);
        loop {
            if let Some(flags) = self.try_set_lock() {
                waiter.acquired();
                return SlotGuard {
                    slot: self,
                    waiter,
                    flags,
                };
            }
            waiter.wait(&self.flags);
        }
    }

    /// Locks the slot if it is free right now (zram's `slot_trylock()`, for
    /// the swap-free notification that may not wait).
    pub fn try_lock<'a, W: SlotWaiter>(&'a self, waiter: &'a W) -> Option<SlotGuard<'a, W>> {
        let flags = self.try_set_lock()?;
        waiter.acquire(true);
        waiter.acquired();
        Some(SlotGuard {
            slot: self,
            waiter,
            flags,
        })
    }

    /// Sets the lock bit if it is clear; returns the new flags word.
    fn try_set_lock(&self) -> Option<usize> {
        let mut cur = self.flags.load(Ordering::Relaxed);
        while cur & FLAG_LOCK == 0 {
            match self.flags.compare_exchange_weak(
                cur,
                cur | FLAG_LOCK,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Some(cur | FLAG_LOCK),
                Err(actual) => cur = actual,
            }
        }
        None
    }

    #[cfg(test)]
    /// Whether some thread holds the lock (a racy snapshot, for
    /// diagnostics and tests).
    pub fn is_locked(&self) -> bool {
        self.flags.load(Ordering::Relaxed) & FLAG_LOCK != 0
    }
}

impl Default for Slot {
    fn default() -> Self {
        Self::new()
    }
}

/// Exclusive access to a locked [`Slot`]; unlocks on drop.
pub struct SlotGuard<'a, W: SlotWaiter> {
    /// The locked slot.
    slot: &'a Slot,
    /// Wakes waiters when the guard is dropped.
    waiter: &'a W,
    /// Our copy of `slot.flags` (lock bit included); only we may change it.
    flags: usize,
}

impl<W: SlotWaiter> SlotGuard<'_, W> {
    /// What the slot holds.
    pub fn content(&self) -> SlotContent {
        let handle = self.slot.handle.load(Ordering::Relaxed);
        if self.flags & FLAG_SAME != 0 {
            SlotContent::Same(handle)
        } else if self.flags & FLAG_STORED != 0 {
            SlotContent::Stored {
                handle,
                size: self.flags & SIZE_MASK,
                huge: self.flags & FLAG_HUGE != 0,
            }
        } else if self.flags & FLAG_WB != 0 {
            SlotContent::Written {
                block: handle,
                size: self.flags & SIZE_MASK,
                huge: self.flags & FLAG_HUGE != 0,
            }
        } else {
            SlotContent::Empty
        }
    }

    /// Whether the slot holds nothing.
    pub fn is_empty(&self) -> bool {
        self.flags & (FLAG_SAME | FLAG_STORED | FLAG_WB) == 0
    }

    /// Make the slot hold `content`, clearing the aux flags, the priority
    /// and the access time (zram's `slot_free()` does the same).
    ///
    /// The previous content is forgotten: [`take`](Self::take) it first (or
    /// use [`replace`](Self::replace)) to free its allocator handle.
    /// A `Stored` size above [`MAX_OBJECT_SIZE`] is `EINVAL` and leaves
    /// the slot unchanged.
    pub fn set(&mut self, content: SlotContent) -> Result<(), Errno> {
        let (handle, bits) = match content {
            SlotContent::Empty => (0, 0),
            SlotContent::Same(word) => (word, FLAG_SAME),
            SlotContent::Stored { handle, size, huge } => {
                if size > MAX_OBJECT_SIZE {
                    return Err(EINVAL);
                }
                let huge = if huge { FLAG_HUGE } else { 0 };
                (handle, FLAG_STORED | huge | size)
            }
            SlotContent::Written { block, size, huge } => {
                if size > MAX_OBJECT_SIZE {
                    return Err(EINVAL);
                }
                let huge = if huge { FLAG_HUGE } else { 0 };
                (block, FLAG_WB | huge | size)
            }
        };
        self.slot.handle.store(handle, Ordering::Relaxed);
        self.store_flags(FLAG_LOCK | bits);
        Ok(())
    }

    /// Like [`set`](Self::set) but return the previous content, whose
    /// handle the caller must free. On `Err` the slot is unchanged.
    pub fn replace(&mut self, content: SlotContent) -> Result<SlotContent, Errno> {
        let old = self.content();
        self.set(content)?;
        Ok(old)
    }

    /// Empty the slot and return what it held; the caller frees the
    /// allocator handle of a `Stored` content and updates the statistics.
    pub fn take(&mut self) -> SlotContent {
        let old = self.content();
        self.slot.handle.store(0, Ordering::Relaxed);
        self.store_flags(FLAG_LOCK);
        old
    }

    /// Whether all the aux flags in `flag` (a subset of [`AUX_FLAGS`]) are set.
    pub fn test_flag(&self, flag: usize) -> bool {
        let flag = flag & AUX_FLAGS;
        flag != 0 && self.flags & flag == flag
    }

    /// Set the aux flags in `flag`; bits outside [`AUX_FLAGS`] are ignored.
    pub fn set_flag(&mut self, flag: usize) {
        self.store_flags(self.flags | (flag & AUX_FLAGS));
    }

    /// Clear the aux flags in `flag`; bits outside [`AUX_FLAGS`] are ignored.
    pub fn clear_flag(&mut self, flag: usize) {
        self.store_flags(self.flags & !(flag & AUX_FLAGS));
    }

    /// The priority of the compressor that made the stored object.
    pub fn priority(&self) -> u32 {
        ((self.flags & PRIO_MASK) >> PRIO_SHIFT) as u32
    }

    /// Records that the object was made by the compressor of `prio`
    /// (0 to 3; higher bits are dropped).
    pub fn set_priority(&mut self, prio: u32) {
        let bits = ((prio as usize) << PRIO_SHIFT) & PRIO_MASK;
        self.store_flags((self.flags & !PRIO_MASK) | bits);
    }

    /// Seconds of boot time at the last access (0: none since stored, or
    /// a target without access times).
    pub fn access_time(&self) -> u32 {
        #[cfg(target_pointer_width = "64")]
        {
            (self.flags >> ACTIME_SHIFT) as u32
        }
        #[cfg(not(target_pointer_width = "64"))]
        {
            0
        }
    }

    /// The page was read or written at `now` (seconds of boot time): it is
    /// no longer idle nor selected for post-processing (zram's
    /// `mark_slot_accessed()`).
    pub fn mark_accessed(&mut self, now: u32) {
        let flags = self.flags & !(FLAG_IDLE | FLAG_PP);
        #[cfg(target_pointer_width = "64")]
        let flags = (flags & ((1usize << ACTIME_SHIFT) - 1)) | ((now as usize) << ACTIME_SHIFT);
        #[cfg(not(target_pointer_width = "64"))]
        let _ = now;
        self.store_flags(flags);
    }

    /// Raw `flags` word (lock bit included), e.g. for a debugfs dump.
    pub fn raw_flags(&self) -> usize {
        self.flags
    }

    /// Publish a new flags word; the lock bit must stay set.
    fn store_flags(&mut self, flags: usize) {
        self.flags = flags | FLAG_LOCK;
        self.slot.flags.store(self.flags, Ordering::Relaxed);
    }
}

impl<W: SlotWaiter> Drop for SlotGuard<'_, W> {
    fn drop(&mut self) {
        self.waiter.release();
        // A read-modify-write, not a store, so that the waiter's wake-up
        // may rely on `smp_mb__after_atomic()` (see `SlotWaiter::wake`).
        self.slot
            .flags
            .swap(self.flags & !FLAG_LOCK, Ordering::Release);
        self.waiter.wake(&self.slot.flags);
    }
}

/// `bytes` rounded up to a whole number of 4 KiB pages, as zram's
/// `PAGE_ALIGN(disksize)`; `None` if the result does not fit in a `u64`
/// (zram would wrap around).
pub const fn page_align(bytes: u64) -> Option<u64> {
    let mask = PAGE_SIZE as u64 - 1;
    match bytes.checked_add(mask) {
        Some(b) => Some(b & !mask),
        None => None,
    }
}

/// Number of slots for a device of `bytes` bytes: the size rounded up to
/// whole 4 KiB pages (zram does `PAGE_ALIGN()` in `disksize_store()`).
/// `None` if the aligned size does not fit in a `u64` or the count does not
/// fit in a `usize`. `Some(0)` for 0: rejecting it is the caller's job.
pub const fn slots_for_disksize(bytes: u64) -> Option<usize> {
    let aligned = match page_align(bytes) {
        Some(a) => a,
        None => return None,
    };
    let pages = aligned >> PAGE_SHIFT;
    if pages > usize::MAX as u64 {
        return None;
    }
    Some(pages as usize)
}

#[cfg(test)]
/// Bytes of a slot table with `slots` entries; `None` on overflow, like
/// the kernel's `array_size()` saturating.
pub const fn table_bytes(slots: usize) -> Option<usize> {
    slots.checked_mul(core::mem::size_of::<Slot>())
}

#[cfg(test)]
// Tests index their own fixtures; a panic there is a failed test.
#[allow(clippy::indexing_slicing)]
mod tests;
