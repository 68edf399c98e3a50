// SPDX-License-Identifier: GPL-2.0
//! z3fold-style backend: up to three objects per page.
//!
//! # Page layout
//!
//! A page is 128 chunks of 32 bytes. Chunk 0 holds the header; the first
//! object starts after it, the last object ends at the end of the page, and a
//! middle object may sit anywhere in between (`start_middle`):
//!
//! ```text
//! +-----+---------+ free +----------+ free +--------+
//! | hdr |  first  |      |  middle  |      |  last  |
//! +-----+---------+      +----------+      +--------+
//! 0     32                                        4096
//! ```
//!
//! Objects above 127 chunks (4064 bytes) get a headless page of their own.
//! Pages with room are kept on lists indexed by the largest object they can
//! still take. When an object is freed and the middle one remains, the middle
//! object is moved next to its neighbour (or to the start) so the free space
//! merges into one run ("in-page compaction"); [`Zpool::compact`] retries
//! pages that were busy at the time. No page is ever freed by compaction.
//!
//! The handle's slot tag is 1 for the first object, 2 for the middle one, 3
//! for the last, 4 for a headless page. The middle object keeps its handle
//! when it moves: its position is `start_middle`.
//!
//! Everything but the header (page table, lists, allocation, validation,
//! reads, writes, freeing, statistics) is the chunked pool of `mod.rs`.
//! Reads and writes raise the page's pin count under the pool lock and copy
//! without it; pages with a non-zero pin are not compacted.
//!
//! [`Zpool::compact`]: super::super::zpool::Zpool::compact

use core::sync::atomic::{AtomicU32, Ordering};

use super::super::zpool::PAGE_SIZE;
use super::header::{Link, PageHeader, ZHDR_CHUNKS};
use super::ChunkedPool;

/// 32-byte chunks: half of zbud's, so a 3-way split wastes less; 128 chunks
/// still fit a byte and the header fits one chunk.
const CHUNK_SHIFT: usize = 5;
/// Chunk size in bytes.
const CHUNK_SIZE: usize = <Header as PageHeader>::CHUNK_SIZE;
/// Chunks per page, header included.
const NCHUNKS_PAGE: usize = <Header as PageHeader>::NCHUNKS_PAGE;
/// Chunks available to objects (the page minus the header chunk).
const NCHUNKS: usize = <Header as PageHeader>::NCHUNKS;

/// Handle tag of the first object (starts after the header).
const FIRST: u8 = 1;
/// Handle tag of the middle object (at `start_middle`, may move).
const MIDDLE: u8 = 2;
/// Handle tag of the last object (ends at the end of the page).
const LAST: u8 = 3;
/// Handle tag of an object in a headless page.
const HEADLESS: u8 = 4;

/// z3fold-style pool: a [`ChunkedPool`] with the z3fold page header. See the
/// module documentation.
pub type Z3foldPool<P, L> = ChunkedPool<P, L, Header>;

/// In-page header of a z3fold page, chunk 0 of a headed page (opaque: it
/// only names the layout of [`Z3foldPool`]).
///
/// # Invariants
///
/// All fields but `pin` are accessed with the pool lock held. `first`,
/// `middle`, `last` are chunk counts (0 = free); the first object takes
/// chunks `1..1 + first`, the middle one `start_middle..start_middle +
/// middle`, the last one `NCHUNKS_PAGE - last..NCHUNKS_PAGE`, and the three
/// never overlap. `link` puts the page on the list of its
/// `PageHeader::free_chunks` when that is non-zero. `pin` counts readers
/// and writers working on the page's objects without the lock; the header
/// is never borrowed mutably as a whole, since they touch `pin` meanwhile.
#[repr(C)]
pub struct Header {
    link: Link,
    first: u8,
    middle: u8,
    last: u8,
    start_middle: u8,
    pin: AtomicU32,
}

// SAFETY: `#[repr(C)]` with the `Link` first. `start` names only non-empty
// slots of the right size; `put` places an object only in the free run that
// `free_chunks` measured, and `compact_page` moves the middle object only
// into free chunks, so objects never overlap.
unsafe impl PageHeader for Header {
    const NAME: &'static str = "z3fold";
    const CHUNK_SHIFT: usize = CHUNK_SHIFT;
    const SLOTS: usize = 3;
    const FIRST: u8 = FIRST;
    const HEADLESS: u8 = HEADLESS;
    const COMPACTS: bool = true;

    fn new(c: u8) -> Self {
        Self {
            link: Link::new(),
            first: c,
            middle: 0,
            last: 0,
            start_middle: 0,
            pin: AtomicU32::new(0),
        }
    }

    /// Largest object (in chunks) the page can still take. The differences
    /// are non-negative by the invariant (objects within the page, not
    /// overlapping); saturating turns a broken header into "no room", so the
    /// page is only not reused.
    fn free_chunks(&self) -> usize {
        let (f, m, l) = (
            usize::from(self.first),
            usize::from(self.middle),
            usize::from(self.last),
        );
        // Sums of `u8` counts cannot overflow a `usize`.
        if m == 0 {
            // One run between first and last; the middle slot can take it all.
            return NCHUNKS.saturating_sub(f + l);
        }
        let sm = usize::from(self.start_middle);
        let before = if f == 0 {
            sm.saturating_sub(ZHDR_CHUNKS)
        } else {
            0
        };
        let after = if l == 0 {
            NCHUNKS_PAGE.saturating_sub(sm + m)
        } else {
            0
        };
        before.max(after)
    }

    fn start(&self, tag: u8, c: u8) -> Option<u8> {
        match tag {
            FIRST if self.first == c => Some(ZHDR_CHUNKS as u8),
            MIDDLE if self.middle == c => Some(self.start_middle),
            LAST if self.last == c => (NCHUNKS_PAGE as u8).checked_sub(c),
            _ => None,
        }
    }

    unsafe fn put(h: *mut Self, c: u8) -> Option<u8> {
        // SAFETY: Pool lock held, `h` live (caller contract); fields are
        // written through the pointer, never a `&mut Header` (invariant).
        unsafe {
            let (first, last) = ((*h).first, (*h).last);
            if (*h).middle == 0 {
                if first == 0 {
                    (*h).first = c;
                    Some(FIRST)
                } else if last == 0 {
                    (*h).last = c;
                    Some(LAST)
                } else {
                    // Right after the first object: `first <= NCHUNKS`, so
                    // the sum fits (checked all the same).
                    (*h).start_middle = first.checked_add(ZHDR_CHUNKS as u8)?;
                    (*h).middle = c;
                    Some(MIDDLE)
                }
            } else if first == 0
                && usize::from((*h).start_middle).saturating_sub(ZHDR_CHUNKS) >= usize::from(c)
            {
                (*h).first = c;
                Some(FIRST)
            } else if last == 0 {
                // `free_chunks >= c` and no room before the middle: the run
                // after it has room.
                (*h).last = c;
                Some(LAST)
            } else {
                None
            }
        }
    }

    unsafe fn remove(h: *mut Self, tag: u8) -> bool {
        // SAFETY: pool lock held, `h` live (caller contract).
        unsafe {
            match tag {
                FIRST => (*h).first = 0,
                MIDDLE => (*h).middle = 0,
                _ => (*h).last = 0,
            }
            (*h).first == 0 && (*h).middle == 0 && (*h).last == 0
        }
    }

    unsafe fn tidy(h: *mut Self) {
        // SAFETY: caller contract, the same as `compact_page`'s.
        unsafe { compact_page(h) }
    }

    unsafe fn pin(h: *mut Self) {
        // SAFETY: `h` is live (caller contract); `pin` is atomic. It counts
        // tasks at work on the page, far fewer than `u32::MAX`.
        unsafe { (*h).pin.fetch_add(1, Ordering::Relaxed) };
    }

    unsafe fn unpin(h: *mut Self) {
        // SAFETY: a page with a pinned live object stays allocated; `pin` is
        // atomic.
        unsafe { (*h).pin.fetch_sub(1, Ordering::Release) };
    }
}

/// Moves the middle object to merge free space (pool lock held), unless the
/// page is pinned. Does nothing if the header is inconsistent.
///
/// # Safety
///
/// `h` is a live header on no list, pool lock held.
unsafe fn compact_page(h: *mut Header) {
    // SAFETY: caller contract; the header's fields are read and written
    // through the pointer (see `Header`'s invariant).
    let (f, m, l, from) = unsafe {
        if (*h).middle == 0 || (*h).pin.load(Ordering::Acquire) != 0 {
            return;
        }
        (
            usize::from((*h).first),
            usize::from((*h).middle),
            usize::from((*h).last),
            usize::from((*h).start_middle),
        )
    };
    // Sums of `u8` counts (and 1) cannot overflow a `usize`.
    let to = match (f, l) {
        (0, 0) => ZHDR_CHUNKS,
        (f, 0) => ZHDR_CHUNKS + f,
        // `l + m <= NCHUNKS` (invariant); checked, as a broken header must
        // not move bytes over the header.
        (0, l) => match NCHUNKS_PAGE.checked_sub(l + m) {
            Some(to) => to,
            None => return,
        },
        _ => return,
    };
    // Both runs must lie after the header and within the page.
    let (Ok(to8), Some(end)) = (u8::try_from(to), from.max(to).checked_add(m)) else {
        return;
    };
    if to == from || to.min(from) < ZHDR_CHUNKS || end > NCHUNKS_PAGE {
        return;
    }
    let page = h.cast::<u8>();
    // With the pin at zero and the lock held nobody accesses the objects.
    // Both runs end by chunk `NCHUNKS_PAGE` (checked above), so the byte
    // offsets are at most PAGE_SIZE: no overflow.
    // SAFETY: both runs of `m` chunks lie within the page (checked above).
    unsafe {
        core::ptr::copy(
            page.add(from * CHUNK_SIZE),
            page.add(to * CHUNK_SIZE),
            m * CHUNK_SIZE,
        );
        (*h).start_middle = to8;
    }
}

const _: () = assert!(NCHUNKS_PAGE * CHUNK_SIZE == PAGE_SIZE);
