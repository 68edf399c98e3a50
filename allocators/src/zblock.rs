// SPDX-License-Identifier: GPL-2.0
//! zblock-style backend: blocks of pages holding a whole number of
//! same-size slots, handles that name the slot directly, a 64-bit map of
//! used slots per block, one lock per size class.
//!
//! # Block layout
//!
//! An object of `len` bytes goes into the smallest size class whose slot
//! holds `len` (no header: objects never move). Each class has one layout:
//! `pages` pages per block, `slots` slots per block, slot `i` at byte
//! `i * size` of the block's byte stream (see `zblock/class.rs` for how the
//! layout is chosen and the table below for the result):
//!
//! ```text
//!  page 0                        page 1                 page 2 ...
//! +---------+---------+---------+----+----+---------+--  - - - - - - - -
//! | slot 0  | slot 1  | slot 2  | slo|t 3 | slot 4  |    : not attached :
//! +---------+---------+---------+----+----+---------+--  - - - - - - - -
//! ```
//!
//! mm/zblock.c gets its blocks from the buddy allocator as 2^n contiguous
//! pages, so a slot crossing a page boundary is still one run of memory.
//! The page provider hands out single pages (order-0 GFP_NOIO pages in the
//! kernel, which do not fail under fragmentation as higher orders do), so
//! here a block is a list of up to 16 pages: a slot that crosses a page
//! boundary is written in two pieces and read through the bounce buffer, as
//! zsmalloc's straddling objects are. Block lengths need not be powers of
//! two.
//!
//! Pages are attached lazily: a new block starts with one page, and the next
//! one is attached when the lowest free slot reaches into it. A slot is
//! under a page long, so one page is always enough. A class's never-used
//! slots thus cost at most part of one page.
//!
//! The descriptor of a block (page list, used-slot map, list links, class,
//! attached count: 152 bytes) is a record of a [`RecordTable`], so that pages
//! hold nothing but objects. Objects longer than [`class::MAX_CLASS_LEN`]
//! (3840 bytes) are huge: a page each, named by a one-word entry of a second
//! table.
//!
//! # Handles
//!
//! The common handle word (`zpool.rs`) carries an index, the length and a
//! tag. Here the tag is the size class (255 = huge), and the index is
//! `block id * 64 + slot` for a class object, or the huge-table entry for a
//! huge one. There is no handle table: the handle names the slot, so
//! reading or writing an object looks up the block descriptor (lock-free
//! table read) and the page, and checks the class and the used bit.
//!
//! # Allocation
//!
//! (`zblock/place.rs`.) Each class keeps a list of its blocks that have a free slot, and
//! allocates from the first one, in its lowest free slot (one
//! trailing-zeros instruction on the used map), so blocks fill before new
//! ones are added and each block fills from its start. A block that becomes
//! full leaves the list; one that gets a free slot back goes to its head
//! (nearly full blocks are refilled first, sparse ones may empty out). A
//! block that empties is freed at once, unless it is the class's only
//! listed block: then it is kept with its first page as the class's
//! `spare`, so that a class hovering at a block boundary does not free and
//! re-get pages on every operation.
//!
//! # Compaction
//!
//! Handles name slots, so objects never move: `compact` frees the spare
//! empty blocks (one page and a descriptor each) and nothing else. Memory
//! held by sparse blocks after churn is given back only as their objects
//! are freed.
//!
//! # Locking
//!
//! One lock per size class protects its list, its counters, and the
//! non-atomic meaning of its blocks' descriptors (the used map, the links,
//! the attached count). The two tables have their own leaf locks, taken
//! only while no class lock is held; no two class locks are ever held
//! together. The page provider is never called with a lock held: a page to
//! attach, or a page and a descriptor for a new block, is obtained outside
//! the class lock and given back if another CPU made room meanwhile.
//!
//! Reads and writes take no lock at all: the driver never frees a handle
//! while it is read or written, and objects never move, so the descriptor's
//! page entries that a live object lies in cannot change under it.
//! Descriptor fields are atomics so that these lock-free loads (the handle
//! check) never race with the class lock holder's stores.
//!
//! # Size classes
//!
//! `zblock/class.rs` computes them at compile time: for every slot size in
//! 16-byte steps, the block length of 1..=16 pages (at most 64 slots) that
//! stores the most bytes per page, neighbours with the same layout merged.
//! That gives 188 classes, from 64-byte slots (64 in a page) to 3840-byte
//! slots (16 in 15 pages); longer objects are huge. Constants and their
//! reasons are in `zblock/class.rs`; with 8-page blocks (116 classes, huge
//! from 3633 bytes) the lab measured 2.19 % on `/usr/lib` and 2.93 % on the
//! kernel objects, with 12 pages 1.44 % and 2.74 %, with 16 pages 1.15 % and
//! 2.75 % (lz4; see the README).
//!
//! The table: slot size, pages per block, slots per block, tail (the part
//! of a full block that no slot covers) in percent of the block. The tail
//! is at most 1.56 % (small slots, where 64 slots fill only a few pages,
//! so no block length fits them better) and 0.32 % on average.
//!
//! ```text
//!   64  1 64 0.00 |   80  1 51 0.39 |   96  1 42 1.56 |  112  1 36 1.56
//!  128  2 64 0.00 |  144  2 56 1.56 |  160  2 51 0.39 |  176  2 46 1.17
//!  192  3 64 0.00 |  208  3 59 0.13 |  224  3 54 1.56 |  240  3 51 0.39
//!  256  4 64 0.00 |  272  4 60 0.39 |  288  4 56 1.56 |  304  3 40 1.04
//!  320  5 64 0.00 |  336  5 60 1.56 |  352  5 58 0.31 |  368  5 55 1.17
//!  384  6 64 0.00 |  400  5 51 0.39 |  416  6 59 0.13 |  432  5 47 0.86
//!  448  7 64 0.00 |  464  5 44 0.31 |  480  6 51 0.39 |  496  4 33 0.10
//!  512  8 64 0.00 |  528  8 62 0.10 |  544  8 60 0.39 |  560  7 51 0.39
//!  576  9 64 0.00 |  592  9 62 0.43 |  608  7 47 0.33 |  624  9 59 0.13
//!  640 10 64 0.00 |  656  9 56 0.35 |  672 10 60 1.56 |  688  9 53 1.09
//!  704 11 64 0.00 |  720  9 51 0.39 |  736  9 50 0.17 |  752  7 38 0.33
//!  768 12 64 0.00 |  784  9 47 0.04 |  800  9 46 0.17 |  816 12 60 0.39
//!  832 12 59 0.13 |  848 11 53 0.25 |  864  7 33 0.56 |  880  8 37 0.63
//!  896 14 64 0.00 |  912 13 58 0.66 |  928 10 44 0.31 |  944 12 52 0.13
//!  960 15 64 0.00 |  976 11 46 0.36 |  992  8 33 0.10 | 1024 16 64 0.00
//! 1040 16 63 0.02 | 1056 16 62 0.10 | 1072 11 42 0.07 | 1088 16 60 0.39
//! 1104 10 37 0.27 | 1120 11 40 0.57 | 1136 15 54 0.16 | 1152  9 32 0.00
//! 1168 16 56 0.20 | 1184  9 31 0.43 | 1200 15 51 0.39 | 1216 11 37 0.14
//! 1232 16 53 0.37 | 1248 11 36 0.28 | 1264  9 29 0.56 | 1280 15 48 0.00
//! 1296 13 41 0.21 | 1312  9 28 0.35 | 1328 12 37 0.03 | 1360 16 48 0.39
//! 1392 15 44 0.31 | 1408 11 32 0.00 | 1424 16 46 0.05 | 1440 12 34 0.39
//! 1456 16 45 0.02 | 1472  9 25 0.17 | 1488 16 44 0.10 | 1504 14 38 0.33
//! 1520 13 35 0.09 | 1536 15 40 0.00 | 1552 11 29 0.11 | 1568 15 39 0.47
//! 1584 12 31 0.10 | 1600  9 23 0.17 | 1616 15 38 0.05 | 1632 16 40 0.39
//! 1648 15 37 0.76 | 1664 11 27 0.28 | 1680 16 39 0.02 | 1696 15 36 0.62
//! 1712 13 31 0.33 | 1728 11 26 0.28 | 1744 15 35 0.65 | 1760 13 30 0.84
//! 1776 10 23 0.27 | 1792 14 32 0.00 | 1808 16 36 0.68 | 1824 13 29 0.66
//! 1840  9 20 0.17 | 1856 15 33 0.31 | 1872 11 24 0.28 | 1888 12 26 0.13
//! 1904 14 30 0.39 | 1920 15 32 0.00 | 1936  9 19 0.22 | 1952 11 23 0.36
//! 1968 13 27 0.21 | 1984 16 33 0.10 | 2048 16 32 0.00 | 2112 15 29 0.31
//! 2128 13 25 0.09 | 2144 11 21 0.07 | 2160  9 17 0.39 | 2176 16 30 0.39
//! 2192 15 28 0.10 | 2208 13 24 0.48 | 2224 12 22 0.46 | 2240 11 20 0.57
//! 2256 16 29 0.17 | 2272 15 27 0.16 | 2288 14 25 0.25 | 2304  9 16 0.00
//! 2336 16 28 0.20 | 2352 15 26 0.47 | 2368 11 19 0.14 | 2384 14 24 0.22
//! 2400 10 17 0.39 | 2416 13 22 0.18 | 2448 15 25 0.39 | 2480 14 23 0.53
//! 2496 11 18 0.28 | 2512 16 26 0.34 | 2528 13 21 0.30 | 2560 15 24 0.00
//! 2576 12 19 0.42 | 2592 14 22 0.56 | 2608 16 25 0.51 | 2624  9 14 0.35
//! 2640 11 17 0.39 | 2656 13 20 0.24 | 2720 16 24 0.39 | 2784 15 22 0.31
//! 2800 13 19 0.09 | 2816 11 16 0.00 | 2832  9 13 0.13 | 2848 16 23 0.05
//! 2864 14 20 0.11 | 2880 12 17 0.39 | 2912 15 21 0.47 | 2944 13 18 0.48
//! 2976 16 22 0.10 | 2992 11 15 0.39 | 3008 14 19 0.33 | 3072 15 20 0.00
//! 3120 16 21 0.02 | 3136 10 13 0.47 | 3184 14 18 0.06 | 3216 11 14 0.07
//! 3232 15 19 0.05 | 3264 16 20 0.39 | 3328 13 16 0.00 | 3344  9 11 0.22
//! 3360 14 17 0.39 | 3408 15 18 0.16 | 3440 16 19 0.27 | 3456 11 13 0.28
//! 3504 12 14 0.20 | 3536 13 15 0.39 | 3584 14 16 0.00 | 3600 15 17 0.39
//! 3632 16 18 0.24 | 3680  9 10 0.17 | 3712 10 11 0.31 | 3744 11 12 0.28
//! 3776 12 13 0.13 | 3792 13 14 0.30 | 3808 14 15 0.39 | 3840 15 16 0.00
//! ```
//!
//! Measured waste (`zpool-lab --classes`, lz4): on 829 MiB stored from
//! `/usr/lib/x86_64-linux-gnu`, 1.15 % in all: slot rounding 0.60 %, free
//! slots in attached pages 0.03 %, block tails and partly attached slots
//! 0.22 %, descriptor and table pages 0.30 %. On 22 MiB stored from the
//! kernel's object files, 2.75 %: rounding 0.54 %, free attached slots
//! 1.00 %, tails and partly attached slots 0.70 %, metadata 0.50 %.

mod block;
pub mod class;
mod place;

use core::ptr::NonNull;
use core::sync::atomic::{AtomicUsize, Ordering};

use super::paged::PagedArray;
use super::table::RecordTable;
use super::zpool::{
    page_to_word, word_to_page, AccessError, AllocError, ClassStats, Handle, Locked, PageProvider,
    PoolLock, Zpool, MAX_HANDLE_INDEX, PAGE_SIZE,
};
use block::{Block, ClassState, BLOCK_SIZE, NONE};
use class::{class_for, SizeClass, CLASSES, MAX_SLOTS, NR_CLASSES};

/// Handle tag of huge objects (classes use 0..NR_CLASSES).
const HUGE_TAG: u8 = u8::MAX;
/// log2 of [`MAX_SLOTS`]: the slot's bits in a handle index.
const SLOT_BITS: u32 = MAX_SLOTS.trailing_zeros();
/// Largest block id: its handle index must fit, and ids stay below [`NONE`].
const MAX_BLOCK_ID: usize = {
    let by_handle = MAX_HANDLE_INDEX >> SLOT_BITS;
    if by_handle < NONE as usize {
        by_handle
    } else {
        NONE as usize - 1
    }
};
const _: () = assert!(1 << SLOT_BITS == MAX_SLOTS);

/// A located object: where its bytes are.
enum Loc {
    /// Within one page.
    One(*mut u8),
    /// The first `.1` bytes at `.0`, the rest at the start of page `.2`.
    Two(*mut u8, usize, *mut u8),
}

/// zblock-style pool. See the module documentation.
///
/// # Invariants
///
/// Every live record of `blocks` that a class lists or counts is a block of
/// that class (see [`Block`]); every object handle handed out and not freed
/// names an allocated slot of such a block, or a live `huge` entry holding
/// the object's own provider page. `block_pages` counts the attached block
/// pages, `huge_pages` the huge objects' pages.
pub struct ZblockPool<P: PageProvider, L: PoolLock> {
    provider: P,
    blocks: RecordTable<L, BLOCK_SIZE>,
    huge: RecordTable<L, 8>,
    /// Per-class state, out of line so that the pool stays small enough to
    /// be built on a kernel stack (see `paged.rs`).
    classes: PagedArray<Locked<L, ClassState>, NR_CLASSES>,
    block_pages: AtomicUsize,
    huge_pages: AtomicUsize,
}

impl<P: PageProvider, L: PoolLock> ZblockPool<P, L> {
    /// Block descriptor `id` (any record below the table's capacity).
    fn block(&self, id: u32) -> Option<&Block> {
        if id == NONE {
            return None;
        }
        let p = self.blocks.get(id as usize)?;
        // SAFETY: a record of the block table.
        Some(unsafe { self.as_block(p) })
    }

    /// Block descriptor `id` if its record is allocated (one table walk).
    fn live_block(&self, id: u32) -> Option<&Block> {
        let p = self.blocks.get_live(id as usize)?;
        // SAFETY: a record of the block table.
        Some(unsafe { self.as_block(p) })
    }

    /// The descriptor in record `p`.
    ///
    /// # Safety
    ///
    /// `p` is a record of `self.blocks`.
    unsafe fn as_block(&self, p: NonNull<u8>) -> &Block {
        // A record is BLOCK_SIZE bytes at an 8-aligned offset of a live table
        // page (caller contract), kept until `drop(&mut self)`; every field of
        // `Block` is atomic, so any bytes are valid and shared references may
        // coexist with other threads' stores (and the table's first word).
        // SAFETY: As above: aligned, live for `&self`, valid for any bytes.
        unsafe { &*p.as_ptr().cast::<Block>() }
    }

    /// Gives provider pages (as words; zero entries skipped) back.
    fn free_words(&self, words: &[usize]) {
        for &w in words {
            if let Some(p) = NonNull::new(word_to_page(w)) {
                // SAFETY: every non-zero word passed here is a provider page
                // that the caller owns and no longer uses.
                unsafe { self.provider.free_page(p) };
            }
        }
    }

    /// Finds the bytes of the object of `h` without any lock, checking that
    /// the handle names an allocated slot of a block of its class.
    fn locate(&self, h: Handle) -> Result<Loc, AccessError> {
        let bad = AccessError::InvalidHandle;
        let idx = h.index().ok_or(bad)?;
        let c = h.tag() as usize;
        let info = CLASSES.get(c).ok_or(bad)?;
        let len = h.len();
        if len == 0 || len > info.size {
            return Err(bad);
        }
        let id = u32::try_from(idx >> SLOT_BITS).map_err(|_| bad)?;
        let s = idx & (MAX_SLOTS - 1);
        if s >= info.objs {
            return Err(bad);
        }
        let b = self.live_block(id).ok_or(bad)?;
        let bit = 1u64.checked_shl(s as u32).ok_or(bad)?;
        if b.class.load(Ordering::Relaxed) as usize != c
            || b.used.load(Ordering::Acquire) & bit == 0
        {
            return Err(bad);
        }
        // `s < 64` and `size <= PAGE_SIZE`: the offset is below 2^18.
        let off = s.checked_mul(info.size).ok_or(bad)?;
        let first = b.page(off / PAGE_SIZE).ok_or(bad)?;
        let in_page = off % PAGE_SIZE;
        // SAFETY: `in_page < PAGE_SIZE`, inside the attached page.
        let at = unsafe { first.add(in_page) };
        let room = PAGE_SIZE - in_page;
        if len <= room {
            return Ok(Loc::One(at));
        }
        // An allocated slot lies in attached pages (invariant of `Block`).
        let second = b.page(off / PAGE_SIZE + 1).ok_or(bad)?;
        Ok(Loc::Two(at, room, second))
    }

    /// Page of a huge object.
    fn huge_page(&self, h: Handle) -> Result<*mut u8, AccessError> {
        let idx = h.index().ok_or(AccessError::InvalidHandle)?;
        let e = self
            .huge
            .word(idx)
            .ok_or(AccessError::InvalidHandle)?
            .load(Ordering::Acquire);
        // Free records are odd; a record handed out but not yet set is 0.
        if e & 1 != 0 || e == 0 {
            return Err(AccessError::InvalidHandle);
        }
        Ok(word_to_page(e))
    }

    fn alloc_huge(&self, len: usize) -> Result<Handle, AllocError> {
        let idx = self
            .huge
            .alloc(&self.provider)
            .ok_or(AllocError::NoMemory)?;
        let (Some(h), Some(e)) = (Handle::pack(idx, len, HUGE_TAG), self.huge.word(idx)) else {
            self.huge.free(idx);
            return Err(AllocError::NoMemory);
        };
        let Some(p) = self.provider.alloc_page() else {
            self.huge.free(idx);
            return Err(AllocError::NoMemory);
        };
        e.store(page_to_word(p.as_ptr()), Ordering::Release);
        self.huge_pages.fetch_add(1, Ordering::Relaxed);
        Ok(h)
    }
}

impl<P: PageProvider, L: PoolLock> Zpool for ZblockPool<P, L> {
    type Provider = P;

    fn new(provider: P) -> Option<Self> {
        let blocks = RecordTable::new()?;
        let huge = RecordTable::new()?;
        // Last, so that nothing after it can fail and leak its pages.
        let classes = PagedArray::new(&provider, |_| Locked::new(ClassState::new()))?;
        Some(Self {
            provider,
            blocks,
            huge,
            classes,
            block_pages: AtomicUsize::new(0),
            huge_pages: AtomicUsize::new(0),
        })
    }

    fn name(&self) -> &'static str {
        "zblock"
    }

    fn alloc(&self, len: usize) -> Result<Handle, AllocError> {
        if len == 0 || len > PAGE_SIZE {
            return Err(AllocError::InvalidSize);
        }
        let c = match class_for(len) {
            SizeClass::Class(c) => c,
            SizeClass::Huge => return self.alloc_huge(len),
        };
        let (id, s) = self.alloc_in_class(c)?;
        // `id <= MAX_BLOCK_ID` (`new_block`), so the index fits a handle.
        let h = (id as usize)
            .checked_shl(SLOT_BITS)
            .map(|i| i | s)
            .and_then(|i| Handle::pack(i, len, c as u8));
        match h {
            Some(h) => Ok(h),
            None => {
                let r = self
                    .classes
                    .get(c)
                    .and_then(|cl| cl.with(|st| self.free_slot(st, c, id, s)));
                if let Some(r) = r {
                    self.release(r);
                }
                Err(AllocError::NoMemory)
            }
        }
    }

    fn write(&self, h: Handle, data: &[u8]) -> Result<(), AccessError> {
        if data.len() != h.len() {
            return Err(AccessError::LengthMismatch);
        }
        if h.tag() == HUGE_TAG {
            let p = self.huge_page(h)?;
            // SAFETY: the page holds this huge object alone; the driver does
            // not use the handle concurrently; len <= PAGE_SIZE (handle).
            unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), p, data.len()) };
            return Ok(());
        }
        match self.locate(h)? {
            // `locate` checked that `len` fits the slot, within one page.
            Loc::One(p) => {
                // SAFETY: The slot is this handle's, in pages kept while it
                // is allocated; nobody else uses it now (driver contract).
                unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), p, data.len()) }
            }
            Loc::Two(p, first, q) => {
                let (a, b) = data
                    .split_at_checked(first)
                    .ok_or(AccessError::InvalidHandle)?;
                // SAFETY: as above, `a` ends at the end of `p`'s page and `b`
                // starts at `q`, which is shorter than a page.
                unsafe {
                    core::ptr::copy_nonoverlapping(a.as_ptr(), p, a.len());
                    core::ptr::copy_nonoverlapping(b.as_ptr(), q, b.len());
                }
            }
        }
        Ok(())
    }

    fn read<R>(
        &self,
        h: Handle,
        bounce: &mut [u8; PAGE_SIZE],
        f: impl FnOnce(&[u8]) -> R,
    ) -> Result<R, AccessError> {
        let len = h.len();
        if h.tag() == HUGE_TAG {
            let p = self.huge_page(h)?;
            if len > PAGE_SIZE {
                return Err(AccessError::InvalidHandle);
            }
            // SAFETY: the huge page holds the object, `len <= PAGE_SIZE`, and
            // it neither moves nor changes while we read (driver contract).
            let s = unsafe { core::slice::from_raw_parts(p, len) };
            return Ok(f(s));
        }
        match self.locate(h)? {
            Loc::One(p) => {
                // SAFETY: The object's bytes in one page, kept while it is
                // allocated; no writer now (driver contract).
                let s = unsafe { core::slice::from_raw_parts(p, len) };
                Ok(f(s))
            }
            Loc::Two(p, first, q) => {
                let out = bounce.get_mut(..len).ok_or(AccessError::InvalidHandle)?;
                let (a, b) = out
                    .split_at_mut_checked(first)
                    .ok_or(AccessError::InvalidHandle)?;
                // SAFETY: as above, in two pieces: to the end of `p`'s page,
                // then from the start of `q`'s; `bounce` is ours.
                unsafe {
                    core::ptr::copy_nonoverlapping(p, a.as_mut_ptr(), a.len());
                    core::ptr::copy_nonoverlapping(q, b.as_mut_ptr(), b.len());
                }
                Ok(f(out))
            }
        }
    }

    fn free(&self, h: Handle) {
        let Some(idx) = h.index() else {
            return;
        };
        if h.tag() == HUGE_TAG {
            let Ok(p) = self.huge_page(h) else {
                return;
            };
            self.huge.free(idx);
            self.huge_pages.fetch_sub(1, Ordering::Relaxed);
            self.free_words(&[page_to_word(p)]);
            return;
        }
        let c = h.tag() as usize;
        let (Some(class), Ok(id)) = (self.classes.get(c), u32::try_from(idx >> SLOT_BITS)) else {
            return;
        };
        let s = idx & (MAX_SLOTS - 1);
        if let Some(r) = class.with(|st| self.free_slot(st, c, id, s)) {
            self.release(r);
        }
    }

    fn total_pages(&self) -> usize {
        self.block_pages.load(Ordering::Relaxed)
            + self.huge_pages.load(Ordering::Relaxed)
            + self.blocks.pages()
            + self.huge.pages()
            + self.classes.pages()
    }

    fn compact(&self) -> usize {
        let mut freed = 0;
        for (c, class) in self.classes.iter().enumerate() {
            let Some(info) = CLASSES.get(c) else {
                break;
            };
            let r = class.with(|st| {
                let id = st.spare;
                let b = self.block(id)?;
                // The spare is empty (invariant); check rather than trust.
                if b.used.load(Ordering::Relaxed) != 0 {
                    st.spare = NONE;
                    return None;
                }
                Some(self.remove_block(st, info, id, b))
            });
            if let Some(r) = r {
                freed += self.release(r);
            }
        }
        freed
    }

    fn class_count(&self) -> usize {
        NR_CLASSES + 1
    }

    fn class_stats(&self, idx: usize) -> Option<ClassStats> {
        if idx == NR_CLASSES {
            return Some(ClassStats::huge(self.huge_pages.load(Ordering::Relaxed)));
        }
        let info = CLASSES.get(idx)?;
        let (blocks, inuse, slots, pages) = self
            .classes
            .get(idx)?
            .with(|st| (st.blocks, st.inuse, st.slots, st.pages));
        Some(ClassStats {
            size: info.size,
            pages_per_zspage: info.pages,
            objs_per_zspage: info.objs,
            objs_in_use: inuse,
            objs_allocated: slots,
            zspages: blocks,
            pages,
        })
    }
}

impl<P: PageProvider, L: PoolLock> Drop for ZblockPool<P, L> {
    fn drop(&mut self) {
        // Blocks that were set up own their attached pages; a record handed
        // out for a block that was never set up (failed allocation) is
        // freed before `alloc_in_class` returns, so every live record here
        // is a block.
        self.blocks.for_each_live(|id, _| {
            if let Ok(id) = u32::try_from(id) {
                if let Some(b) = self.block(id) {
                    let (pages, n) = b.attached_pages();
                    self.free_words(pages.get(..n).unwrap_or(&[]));
                }
            }
        });
        self.huge.for_each_live(|idx, _| {
            if let Some(w) = self.huge.word(idx) {
                let e = w.load(Ordering::Relaxed);
                if e != 0 {
                    self.free_words(&[e]);
                }
            }
        });
        // SAFETY: the tables and the class array only ever used
        // `self.provider`, and no record pointer survives this point.
        unsafe {
            self.blocks.release(&self.provider);
            self.huge.release(&self.provider);
            self.classes.release(&self.provider);
        }
    }
}

#[cfg(test)]
// Tests index their own tables: an index out of bounds fails the test.
#[allow(clippy::indexing_slicing)]
mod tests;
