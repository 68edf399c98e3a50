// SPDX-License-Identifier: GPL-2.0

//! The per-page slot table entry, as compact as zram's `zram_table_entry`.
//!
//! Design: the device keeps one [`Slot`] per 4 KiB page, allocated with
//! `vzalloc()`, so a 100 GiB device needs 26 M slots and every byte counts.
//! A slot is two words: `handle` (allocator handle, or the fill word of a
//! same-filled page) and `flags`, which packs the compressed size in the low
//! [`SIZE_BITS`] bits, a bit lock ([`FLAG_LOCK`]) and state bits above it.
//! All-zero is the empty, unlocked slot, so the zeroed table is valid as is.
//!
//! Locking: like zram's `slot_lock()`, the lock is one bit of `flags`,
//! taken with a compare-exchange (Acquire) and released with a store
//! (Release). While a [`SlotGuard`] exists only its owner writes `flags`
//! and `handle` (other threads' compare-exchange fails while the bit is set),
//! so the guard keeps a copy of `flags` and both words are accessed with
//! `Relaxed` ordering; the lock orders them. The lock spins: the holder must
//! not sleep, and work done under it should be short (zram compresses
//! outside the slot lock and only publishes the result under it).

use core::sync::atomic::{AtomicUsize, Ordering};

use super::parse::{Errno, EINVAL};

/// log2 of the device page size: rzram always works in 4 KiB pages, the
/// zram logical block size, whatever the CPU's page size is.
pub const PAGE_SHIFT: u32 = 12;
/// Bytes covered by one slot (4 KiB, see [`PAGE_SHIFT`]).
pub const PAGE_SIZE: usize = 1 << PAGE_SHIFT;

/// Width of the size field: `PAGE_SHIFT + 1` bits so that a full page
/// (4096, a huge object) fits, like zram's `ZRAM_FLAG_SHIFT`.
pub const SIZE_BITS: u32 = PAGE_SHIFT + 1;
/// Mask of the object size inside `flags` (low 13 bits).
pub const SIZE_MASK: usize = (1 << SIZE_BITS) - 1;
/// Largest object size a slot records: one page, stored uncompressed.
pub const MAX_OBJECT_SIZE: usize = PAGE_SIZE;

/// Bit lock of the slot (zram's `ZRAM_ENTRY_LOCK`); first bit above size.
pub const FLAG_LOCK: usize = 1 << SIZE_BITS;
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
/// Bits from here up to bit 31 are free for later states (writeback,
/// post-processing, compressor priority), keeping 32-bit `usize` targets.
pub const FLAG_FIRST_FREE: usize = 1 << (SIZE_BITS + 6);

/// Auxiliary flags callers may test, set and clear through the guard;
/// they do not change what the slot contains and are cleared by
/// [`SlotGuard::set`] and [`SlotGuard::take`] (like zram's `slot_free()`).
pub const AUX_FLAGS: usize = FLAG_IDLE | FLAG_INCOMPRESSIBLE;

// All flag bits must fit a 32-bit `usize`.
const _: () = assert!(FLAG_FIRST_FREE <= 1 << 31);
// Content bits (everything but lock and aux flags) lie below the aux flags
// and never include the lock. A local, not a named constant: rustc 1.85
// counts a constant read only here as dead code.
const _: () = {
    let content = SIZE_MASK | FLAG_SAME | FLAG_STORED | FLAG_HUGE;
    assert!(content < FLAG_IDLE && content & FLAG_LOCK == 0);
};
// Two words per slot, as zram's table entry without debug fields.
const _: () = assert!(core::mem::size_of::<Slot>() == 2 * core::mem::size_of::<usize>());

/// One per 4 KiB page of the device. All-zero bytes == empty slot, so a
/// table obtained from `vzalloc()` is valid as is.
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
}

impl Slot {
    /// An empty, unlocked slot (the same as all-zero memory).
    pub const fn new() -> Self {
        Slot {
            handle: AtomicUsize::new(0),
            flags: AtomicUsize::new(0),
        }
    }

    /// Lock the slot, spinning with `core::hint::spin_loop()` while another
    /// thread holds it. The lock is released when the guard is dropped.
    pub fn lock(&self) -> SlotGuard<'_> {
        self.lock_with(core::hint::spin_loop)
    }

    /// Lock the slot, calling `relax` after each failed attempt (e.g. a
    /// `cpu_relax()` or `cond_resched()` wrapper in the kernel).
    pub fn lock_with(&self, mut relax: impl FnMut()) -> SlotGuard<'_> {
        let mut cur = self.flags.load(Ordering::Relaxed);
        loop {
            if cur & FLAG_LOCK == 0 {
                match self.flags.compare_exchange_weak(
                    cur,
                    cur | FLAG_LOCK,
                    Ordering::Acquire,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        return SlotGuard {
                            slot: self,
                            flags: cur | FLAG_LOCK,
                        }
                    }
                    Err(actual) => {
                        cur = actual;
                        continue;
                    }
                }
            }
            relax();
            cur = self.flags.load(Ordering::Relaxed);
        }
    }

    /// Lock the slot if it is free right now (zram's `slot_trylock()`, used
    /// from the swap-free notification that may not wait).
    pub fn try_lock(&self) -> Option<SlotGuard<'_>> {
        let mut cur = self.flags.load(Ordering::Relaxed);
        while cur & FLAG_LOCK == 0 {
            match self.flags.compare_exchange_weak(
                cur,
                cur | FLAG_LOCK,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    return Some(SlotGuard {
                        slot: self,
                        flags: cur | FLAG_LOCK,
                    })
                }
                Err(actual) => cur = actual,
            }
        }
        None
    }

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
pub struct SlotGuard<'a> {
    /// The locked slot.
    slot: &'a Slot,
    /// Our copy of `slot.flags` (lock bit included); only we may change it.
    flags: usize,
}

impl SlotGuard<'_> {
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
        } else {
            SlotContent::Empty
        }
    }

    /// Whether the slot holds nothing.
    pub fn is_empty(&self) -> bool {
        self.flags & (FLAG_SAME | FLAG_STORED) == 0
    }

    /// Make the slot hold `content`, clearing the aux flags.
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

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        self.slot
            .flags
            .store(self.flags & !FLAG_LOCK, Ordering::Release);
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

/// Bytes of a slot table with `slots` entries (what to `vzalloc()`);
/// `None` on overflow, like the kernel's `array_size()` saturating.
pub const fn table_bytes(slots: usize) -> Option<usize> {
    slots.checked_mul(core::mem::size_of::<Slot>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;
    use std::thread;

    #[test]
    fn zeroed_is_empty_and_unlocked() {
        let s = Slot::new();
        assert!(!s.is_locked());
        let g = s.lock();
        assert!(s.is_locked());
        assert_eq!(g.content(), SlotContent::Empty);
        assert!(g.is_empty());
        drop(g);
        assert!(!s.is_locked());
        // Slot::new() is the same as all-zero memory.
        assert_eq!(s.handle.load(Ordering::Relaxed), 0);
        assert_eq!(s.flags.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn same_content() {
        let s = Slot::default();
        let mut g = s.lock();
        assert_eq!(g.set(SlotContent::Same(0)), Ok(()));
        assert_eq!(g.content(), SlotContent::Same(0));
        assert!(!g.is_empty());
        assert_eq!(g.set(SlotContent::Same(usize::MAX)), Ok(()));
        assert_eq!(g.content(), SlotContent::Same(usize::MAX));
        drop(g);
        let mut g = s.lock();
        assert_eq!(g.take(), SlotContent::Same(usize::MAX));
        assert_eq!(g.content(), SlotContent::Empty);
        assert_eq!(g.raw_flags(), FLAG_LOCK);
    }

    #[test]
    fn stored_content_and_size_bits() {
        let s = Slot::new();
        let mut g = s.lock();
        for size in [0, 1, 100, 2048, 4095, 4096] {
            for huge in [false, true] {
                let c = SlotContent::Stored {
                    handle: 0xabcd_0000 + size,
                    size,
                    huge,
                };
                assert_eq!(g.set(c), Ok(()));
                assert_eq!(g.content(), c);
                assert_eq!(g.raw_flags() & SIZE_MASK, size);
                assert!(g.raw_flags() & FLAG_LOCK != 0);
            }
        }
        let before = g.content();
        let bad = SlotContent::Stored {
            handle: 1,
            size: 4097,
            huge: false,
        };
        assert_eq!(g.set(bad), Err(EINVAL));
        assert_eq!(g.replace(bad), Err(EINVAL));
        assert_eq!(g.content(), before);
        let old = g.replace(SlotContent::Same(3));
        assert!(old.is_ok());
        let old = old.unwrap_or(SlotContent::Empty);
        assert_eq!(old, before);
        assert_eq!(g.take(), SlotContent::Same(3));
        assert_eq!(g.take(), SlotContent::Empty);
        drop(g);
        assert!(!s.is_locked());
        assert_eq!(s.flags.load(Ordering::Relaxed), 0);
        assert_eq!(s.handle.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn handle_zero_stored_is_not_empty() {
        let s = Slot::new();
        let mut g = s.lock();
        let c = SlotContent::Stored {
            handle: 0,
            size: 0,
            huge: false,
        };
        assert_eq!(g.set(c), Ok(()));
        assert_eq!(g.content(), c);
        assert!(!g.is_empty());
    }

    #[test]
    fn aux_flags() {
        let s = Slot::new();
        let mut g = s.lock();
        let stored = SlotContent::Stored {
            handle: 7,
            size: 300,
            huge: false,
        };
        assert_eq!(g.set(stored), Ok(()));
        assert!(!g.test_flag(FLAG_IDLE));
        g.set_flag(FLAG_IDLE);
        assert!(g.test_flag(FLAG_IDLE));
        assert!(!g.test_flag(FLAG_IDLE | FLAG_INCOMPRESSIBLE));
        // Non-aux bits are ignored.
        g.set_flag(FLAG_SAME | SIZE_MASK);
        g.clear_flag(FLAG_LOCK | FLAG_STORED);
        assert!(!g.test_flag(FLAG_SAME));
        assert!(!g.test_flag(0));
        assert_eq!(
            g.content(),
            SlotContent::Stored {
                handle: 7,
                size: 300,
                huge: false
            }
        );
        drop(g);
        // Flags survive an unlock/lock cycle.
        let mut g = s.lock();
        assert!(g.test_flag(FLAG_IDLE));
        g.set_flag(FLAG_INCOMPRESSIBLE);
        g.clear_flag(FLAG_IDLE);
        assert!(!g.test_flag(FLAG_IDLE));
        assert!(g.test_flag(FLAG_INCOMPRESSIBLE));
        // A new write clears them, like zram's slot_free().
        assert_eq!(g.set(SlotContent::Same(1)), Ok(()));
        assert!(!g.test_flag(FLAG_INCOMPRESSIBLE));
        g.set_flag(FLAG_IDLE);
        g.take();
        assert!(!g.test_flag(FLAG_IDLE));
    }

    #[test]
    fn try_lock_contends() {
        let s = Slot::new();
        let g = s.try_lock();
        assert!(g.is_some(), "a free slot locks");
        assert!(s.try_lock().is_none());
        assert!(s.is_locked());
        drop(g);
        assert!(s.try_lock().is_some());
        assert!(!s.is_locked());
    }

    #[test]
    fn lock_with_waits_for_holder() {
        let s = Slot::new();
        let held = AtomicBool::new(false);
        thread::scope(|sc| {
            let g = s.lock();
            sc.spawn(|| {
                let mut spins = 0u64;
                let mut g2 = s.lock_with(|| {
                    spins += 1;
                    held.store(true, Ordering::Relaxed);
                    std::thread::yield_now();
                });
                assert!(spins > 0);
                assert_eq!(g2.content(), SlotContent::Same(42));
                assert_eq!(g2.set(SlotContent::Same(43)), Ok(()));
            });
            while !held.load(Ordering::Relaxed) {
                std::thread::yield_now();
            }
            let mut g = g;
            assert_eq!(g.set(SlotContent::Same(42)), Ok(()));
            drop(g);
        });
        assert_eq!(s.lock().content(), SlotContent::Same(43));
    }

    #[test]
    fn concurrent_increments_are_exact() {
        const THREADS: usize = 4;
        const ITERS: usize = 100_000;
        let s = Slot::new();
        thread::scope(|sc| {
            for _ in 0..THREADS {
                sc.spawn(|| {
                    for _ in 0..ITERS {
                        let mut g = s.lock();
                        let n = match g.content() {
                            SlotContent::Same(n) => n,
                            other => {
                                assert_eq!(other, SlotContent::Empty);
                                0
                            }
                        };
                        assert_eq!(g.set(SlotContent::Same(n + 1)), Ok(()));
                    }
                });
            }
        });
        assert!(!s.is_locked());
        assert_eq!(s.lock().content(), SlotContent::Same(THREADS * ITERS));
    }

    #[test]
    fn slot_is_sync_and_send() {
        fn check<T: Sync + Send>() {}
        check::<Slot>();
    }

    #[test]
    fn disksize_rounding() {
        assert_eq!(slots_for_disksize(0), Some(0));
        assert_eq!(slots_for_disksize(1), Some(1));
        assert_eq!(slots_for_disksize(4095), Some(1));
        assert_eq!(slots_for_disksize(4096), Some(1));
        assert_eq!(slots_for_disksize(4097), Some(2));
        assert_eq!(slots_for_disksize(2 << 20), Some(512));
        assert_eq!(slots_for_disksize(100 << 30), Some(26_214_400));
        assert_eq!(slots_for_disksize(u64::MAX - 4095), Some((1 << 52) - 1));
        assert_eq!(slots_for_disksize(u64::MAX - 4094), None);
        assert_eq!(slots_for_disksize(u64::MAX), None);
        assert_eq!(page_align(1), Some(4096));
        assert_eq!(page_align(8192), Some(8192));
        assert_eq!(page_align(u64::MAX), None);
        assert_eq!(
            table_bytes(512),
            Some(512 * 2 * core::mem::size_of::<usize>())
        );
        assert_eq!(table_bytes(usize::MAX), None);
    }
}
