// SPDX-License-Identifier: GPL-2.0

//! The per-device slot table, allocated lazily in page-sized chunks.
//!
//! # Layout
//!
//! ```text
//!  directory (caller's memory)          chunks (one provider page each)
//!  +--------+
//!  | ptr 0  | ------------------------> [slot 0   .. slot 255]
//!  | null   |   never written: no page
//!  | ptr 2  | ------------------------> [slot 512 .. slot 767]
//!  |  ...   |
//!  +--------+
//! ```
//!
//! Slot `i` is number `i % SLOTS_PER_CHUNK` of chunk `i / SLOTS_PER_CHUNK`.
//! A chunk is one page from a [`PageProvider`], holding [`SLOTS_PER_CHUNK`]
//! slots (256 of 16 bytes on 64-bit); the last chunk may be partly used.
//!
//! # Memory cost
//!
//! `disksize=100G` is 26,214,400 slots in 102,400 chunks, so the directory,
//! the only up-front cost, is 102,400 pointers = 800 KiB (a flat table would
//! be 400 MiB). A chunk (4 KiB) covers 1 MiB of the device and exists only
//! once that range has been written; reading unwritten ranges allocates
//! nothing. A fully written device costs the flat table plus the directory.
//!
//! # Ordering
//!
//! - A new chunk is zeroed (all-zero is an empty, unlocked [`Slot`]) and then
//!   published by a compare-exchange of its directory entry from null,
//!   `Release` on success, so the zeroing happens before any use of it.
//! - Every load of an entry is `Acquire`, pairing with that `Release`. The
//!   loser of a race reads the winner's chunk (`Acquire` on failure) and gives
//!   its own page back; nobody else ever saw it.
//! - While the table is shared an entry only goes from null to a chunk, and
//!   chunks are given back only by `Drop`, so a `&Slot` lives as long as the
//!   `&SlotTable` it came from.
//! - What a slot holds is ordered by the slot's own bit lock, not by the
//!   table. [`PageProvider::alloc_page`] may sleep, so
//!   [`SlotTable::get_or_alloc`] must not run in atomic context or with a
//!   slot lock held; [`SlotTable::get`] never allocates.

use core::mem::{align_of, size_of};
use core::ops::Deref;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

use super::slot::Slot;
use crate::allocators::{PageProvider, PAGE_SIZE};

/// Slots per chunk: as many as fit in one provider page.
pub const SLOTS_PER_CHUNK: usize = PAGE_SIZE / size_of::<Slot>();

// A provider page holds a whole number of slots, suitably aligned.
const _: () = assert!(SLOTS_PER_CHUNK > 0 && align_of::<Slot>() <= PAGE_SIZE);

/// Directory entries needed for `slots` slots.
pub const fn chunks_for(slots: usize) -> usize {
    slots.div_ceil(SLOTS_PER_CHUNK)
}

/// Why [`SlotTable::get_or_alloc`] gave no slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlotTableError {
    /// The index is not below [`SlotTable::len`].
    OutOfRange,
    /// The provider had no page for the slot's chunk.
    NoMemory,
}

/// `len` slots in chunks that are allocated on first use.
///
/// # Invariants
///
/// - `dir` has at least `chunks_for(len)` entries (checked by [`Self::new`];
///   every access still goes through `.get()`).
/// - Each entry of `dir` is null or a chunk: a page from `pages.alloc_page()`
///   that the table owns, whose first `SLOTS_PER_CHUNK` slots were zeroed
///   (hence are valid [`Slot`]s) before the entry was stored with `Release`.
///   Entries at or past `chunks_for(len)` stay null.
/// - Until `drop`, an entry only changes from null to a chunk; `drop` gives
///   every chunk back exactly once.
/// - `allocated` is the number of non-null entries.
pub struct SlotTable<D, P>
where
    D: Deref<Target = [AtomicPtr<Slot>]>,
    P: PageProvider,
{
    dir: D,
    len: usize,
    allocated: AtomicUsize,
    pages: P,
}

impl<D, P> SlotTable<D, P>
where
    D: Deref<Target = [AtomicPtr<Slot>]>,
    P: PageProvider,
{
    /// A table of `slots` slots with no chunk allocated yet, using `dir` as
    /// its directory. `None` if `dir` has fewer than [`chunks_for`]`(slots)`
    /// entries or any entry is non-null.
    ///
    /// # Safety
    ///
    /// `dir` must deref to the same slice every time, and until the table is
    /// dropped nothing but the table may store to that slice (in particular
    /// no other `SlotTable` may use it): the table dereferences and frees
    /// the pointers it finds there. An owned `KVVec`/`VVec`/`Box` moved into
    /// the table qualifies; for a borrowed slice use [`SlotTable::new_borrowed`].
    pub unsafe fn new(dir: D, slots: usize, pages: P) -> Option<Self> {
        if dir.len() < chunks_for(slots) || dir.iter().any(|e| !e.load(Ordering::Relaxed).is_null())
        {
            return None;
        }
        Some(SlotTable {
            dir,
            len: slots,
            allocated: AtomicUsize::new(0),
            pages,
        })
    }

    /// Number of slots.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the table has no slot at all.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The slot if its chunk exists; `None` if `index` is out of range or
    /// its chunk was never allocated (the slot reads as empty). Never
    /// allocates or sleeps.
    pub fn get(&self, index: usize) -> Option<&Slot> {
        if index >= self.len {
            return None;
        }
        let chunk = NonNull::new(
            self.dir
                .get(index / SLOTS_PER_CHUNK)?
                .load(Ordering::Acquire),
        )?;
        // SAFETY: `chunk` was loaded with `Acquire`, so it is a published chunk (type invariant), and
        // the offset is below `SLOTS_PER_CHUNK`.
        Some(unsafe { self.slot_in(chunk, index % SLOTS_PER_CHUNK) })
    }

    /// The slot, allocating its chunk if needed.
    ///
    /// May call `pages.alloc_page()`, which may sleep in the kernel: never
    /// call this with a slot lock held or in atomic context. On `NoMemory`
    /// the table is unchanged and later calls may succeed.
    pub fn get_or_alloc(&self, index: usize) -> Result<&Slot, SlotTableError> {
        if index >= self.len {
            return Err(SlotTableError::OutOfRange);
        }
        let entry = self
            .dir
            .get(index / SLOTS_PER_CHUNK)
            .ok_or(SlotTableError::OutOfRange)?;
        let chunk = match NonNull::new(entry.load(Ordering::Acquire)) {
            Some(chunk) => chunk,
            None => self.install(entry)?,
        };
        // SAFETY: `chunk` is a published chunk (loaded with `Acquire` here
        // or in `install`) and the offset is below `SLOTS_PER_CHUNK`.
        Ok(unsafe { self.slot_in(chunk, index % SLOTS_PER_CHUNK) })
    }

    /// Number of chunks (provider pages) the table holds.
    pub fn chunks_allocated(&self) -> usize {
        self.allocated.load(Ordering::Relaxed)
    }

    /// Calls `f(index, slot)` for every slot of every allocated chunk, in
    /// index order. Chunks allocated meanwhile may or may not be visited.
    pub fn for_each(&self, mut f: impl FnMut(usize, &Slot)) {
        for (n, entry) in self.dir.iter().take(chunks_for(self.len)).enumerate() {
            let Some(chunk) = NonNull::new(entry.load(Ordering::Acquire)) else {
                continue;
            };
            let Some(first) = n.checked_mul(SLOTS_PER_CHUNK) else {
                return;
            };
            let end = first.saturating_add(SLOTS_PER_CHUNK).min(self.len);
            for index in first..end {
                // SAFETY: `chunk` is a published chunk (`Acquire` load) and
                // the offset is below `SLOTS_PER_CHUNK`.
                f(index, unsafe {
                    self.slot_in(chunk, index % SLOTS_PER_CHUNK)
                });
            }
        }
    }

    #[cfg(test)]
    /// The page provider chunks come from.
    pub fn pages(&self) -> &P {
        &self.pages
    }

    /// Allocates, zeroes and publishes a chunk for the null `entry`; returns
    /// the chunk that ends up there (ours, or a racing winner's).
    #[cold]
    fn install(&self, entry: &AtomicPtr<Slot>) -> Result<NonNull<Slot>, SlotTableError> {
        let page = self.pages.alloc_page().ok_or(SlotTableError::NoMemory)?;
        let fresh = page.cast::<Slot>();
        // SAFETY: The provider page is exclusive, writable, page-aligned PAGE_SIZE bytes, so it holds
        // `SLOTS_PER_CHUNK` aligned slots; all-zero bytes are an empty, unlocked `Slot`.
        unsafe { ptr::write_bytes(fresh.as_ptr(), 0, SLOTS_PER_CHUNK) };
        match entry.compare_exchange(
            ptr::null_mut(),
            fresh.as_ptr(),
            Ordering::Release,
            Ordering::Acquire,
        ) {
            Ok(_) => {
                self.allocated.fetch_add(1, Ordering::Relaxed);
                Ok(fresh)
            }
            Err(winner) => {
                // SAFETY: The page came from `self.pages` and was never
                // published, so nothing else refers to it.
                unsafe { self.pages.free_page(page) };
                // A failed exchange from null saw a non-null chunk.
                NonNull::new(winner).ok_or(SlotTableError::NoMemory)
            }
        }
    }

    /// Slot `offset` of `chunk`, borrowed for as long as `self`.
    ///
    /// # Safety
    ///
    /// `chunk` must have been loaded with `Acquire` from this table's
    /// directory, and `offset < SLOTS_PER_CHUNK`.
    unsafe fn slot_in(&self, chunk: NonNull<Slot>, offset: usize) -> &Slot {
        // SAFETY: The chunk holds `SLOTS_PER_CHUNK` slots whose zeroing the `Acquire` load made visible;
        // it stays allocated until `drop`, which needs `&mut self` (type invariant).
        unsafe { &*chunk.as_ptr().add(offset) }
    }
}

#[cfg(test)]
impl<'a, P: PageProvider> SlotTable<&'a mut [AtomicPtr<Slot>], P> {
    /// [`SlotTable::new`] over a borrowed directory, which the table holds
    /// exclusively; the directory is all null again after the table drops.
    pub fn new_borrowed(dir: &'a mut [AtomicPtr<Slot>], slots: usize, pages: P) -> Option<Self> {
        // SAFETY: `dir` is borrowed mutably for the table's lifetime, so only the table reaches it,
        // and `&mut [_]` always derefs to the same slice.
        unsafe { Self::new(dir, slots, pages) }
    }
}

impl<D, P> Drop for SlotTable<D, P>
where
    D: Deref<Target = [AtomicPtr<Slot>]>,
    P: PageProvider,
{
    fn drop(&mut self) {
        for entry in self.dir.iter().take(chunks_for(self.len)) {
            if let Some(chunk) = NonNull::new(entry.swap(ptr::null_mut(), Ordering::Acquire)) {
                // SAFETY: A non-null entry is a chunk from `self.pages` (invariant); swapping in null makes this
                // its only free, and with `&mut self` no `&Slot` remains.
                unsafe { self.pages.free_page(chunk.cast()) };
            }
        }
        self.allocated.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
// Tests index their own fixtures; a panic there is a failed test.
#[allow(clippy::indexing_slicing)]
mod tests;
