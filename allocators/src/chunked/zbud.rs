// SPDX-License-Identifier: GPL-2.0
//! zbud-style backend: at most two objects ("buddies") per page.
//!
//! # Page layout
//!
//! A page is 64 chunks of 64 bytes. Chunk 0 holds the header; the first buddy
//! starts right after it and the last buddy ends at the end of the page:
//!
//! ```text
//! +-----+--------------+ ..free.. +-------------+
//! | hdr | first buddy  |          |  last buddy |
//! +-----+--------------+ ......... +-------------+
//! 0     64                                    4096
//! ```
//!
//! Objects above 63 chunks (4032 bytes) get a "headless" page of their own.
//! A page with one buddy sits on the unbuddied list indexed by its number of
//! free chunks; allocation takes the first page on the first list with enough
//! room. A page with both buddies is on no list. Freeing both buddies frees
//! the page at once. Objects never move, so [`Zpool::compact`] frees nothing.
//!
//! The handle's slot tag is 1 for the first buddy, 2 for the last, 3 for a
//! headless page.
//!
//! Everything but the header (page table, lists, allocation, validation,
//! reads, writes, freeing, statistics) is the chunked pool of `mod.rs`.
//!
//! [`Zpool::compact`]: super::super::zpool::Zpool::compact

use super::header::{Link, PageHeader, ZHDR_CHUNKS};
use super::ChunkedPool;

/// log2 of the chunk size. 64-byte chunks as in Linux zbud: a page has 64,
/// so chunk counts fit a byte and the header fits one chunk.
const CHUNK_SHIFT: usize = 6;
/// Chunks per page, header included.
const NCHUNKS_PAGE: usize = <Header as PageHeader>::NCHUNKS_PAGE;
/// Chunks available to the two buddies (the page minus the header chunk).
const NCHUNKS: usize = <Header as PageHeader>::NCHUNKS;

/// Handle tag of the first buddy (starts after the header).
const BUD_FIRST: u8 = 1;
/// Handle tag of the last buddy (ends at the end of the page).
const BUD_LAST: u8 = 2;
/// Handle tag of an object in a headless page.
const BUD_HEADLESS: u8 = 3;

/// zbud-style pool: a [`ChunkedPool`] with the zbud page header. See the
/// module documentation.
pub type ZbudPool<P, L> = ChunkedPool<P, L, Header>;

/// In-page header of a zbud page, chunk 0 of a buddied page (opaque: it
/// only names the layout of [`ZbudPool`]).
///
/// # Invariants
///
/// Only accessed with the pool lock held. `first`/`last` are the chunk counts
/// of the buddies (0 = free), with `first + last <= NCHUNKS`: the first buddy
/// takes chunks `1..1 + first`, the last `NCHUNKS_PAGE - last..NCHUNKS_PAGE`.
/// `link` puts the page on the unbuddied list of its free chunks while it
/// holds one buddy.
#[repr(C)]
pub struct Header {
    link: Link,
    first: u8,
    last: u8,
}

// SAFETY: `#[repr(C)]` with the `Link` first. `start` names only non-empty
// slots of the right size; the buddies do not overlap because `put` gives
// the second buddy at most the free chunks (`free_chunks`) between them.
unsafe impl PageHeader for Header {
    const NAME: &'static str = "zbud";
    const CHUNK_SHIFT: usize = CHUNK_SHIFT;
    const SLOTS: usize = 2;
    const FIRST: u8 = BUD_FIRST;
    const HEADLESS: u8 = BUD_HEADLESS;

    fn new(c: u8) -> Self {
        Self {
            link: Link::new(),
            first: c,
            last: 0,
        }
    }

    /// Free chunks while one buddy is present; 0 (not listed) with both.
    fn free_chunks(&self) -> usize {
        let (f, l) = (usize::from(self.first), usize::from(self.last));
        if f != 0 && l != 0 {
            return 0;
        }
        // `f + l <= NCHUNKS` (invariant; a sum of two `u8`s cannot
        // overflow); saturating turns a broken header into "no room", so
        // the page is only not reused.
        NCHUNKS.saturating_sub(f + l)
    }

    fn start(&self, tag: u8, c: u8) -> Option<u8> {
        match tag {
            BUD_FIRST if self.first == c => Some(ZHDR_CHUNKS as u8),
            BUD_LAST if self.last == c => (NCHUNKS_PAGE as u8).checked_sub(c),
            _ => None,
        }
    }

    unsafe fn put(h: *mut Self, c: u8) -> Option<u8> {
        // SAFETY: pool lock held, `h` live (caller contract); a listed page
        // has exactly one buddy and room for the other.
        unsafe {
            if (*h).first == 0 {
                (*h).first = c;
                Some(BUD_FIRST)
            } else if (*h).last == 0 {
                (*h).last = c;
                Some(BUD_LAST)
            } else {
                None
            }
        }
    }

    unsafe fn remove(h: *mut Self, tag: u8) -> bool {
        // SAFETY: pool lock held, `h` live (caller contract).
        unsafe {
            if tag == BUD_FIRST {
                (*h).first = 0;
            } else {
                (*h).last = 0;
            }
            (*h).first == 0 && (*h).last == 0
        }
    }
}
