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
//! # Handles
//!
//! The handle carries the index of the page's entry in a page table (a
//! `RecordTable` of page addresses, bit 1 set for headless pages), the
//! length, and the buddy (1 first, 2 last, 3 headless).
//!
//! # Shared with z3fold
//!
//! The page table, the free-chunk lists, allocation, freeing, page counts and
//! `Drop` are the chunked-backend core in `zpool/chunked.rs`
//! (`Pages`); this file holds the zbud layout: the `PageHeader` with two
//! buddies, and how a handle finds its buddy.
//!
//! # Locking
//!
//! One pool lock protects the lists, the page headers and the page-table
//! entries' liveness; the page table has its own leaf lock, taken only when
//! the pool lock is not held. The page provider is called without any lock:
//! a new page is allocated first and given back if another CPU made room.
//! Reads and writes locate the object under the pool lock and copy after
//! dropping it (objects never move).

use super::zpool::chunked::{Link, PageHeader, Pages, ZHDR_CHUNKS};
use super::zpool::{
    AccessError, AllocError, ClassStats, Handle, PageProvider, PoolLock, Zpool, PAGE_SIZE,
};

/// log2 of the chunk size. 64-byte chunks as in Linux zbud: a page has 64,
/// so chunk counts fit a byte and the header fits one chunk.
const CHUNK_SHIFT: usize = 6;
/// Chunk size in bytes.
const CHUNK_SIZE: usize = <Header as PageHeader>::CHUNK_SIZE;
/// Chunks available to the two buddies (the page minus the header chunk).
const NCHUNKS: usize = <Header as PageHeader>::NCHUNKS;
/// Largest object stored in a buddied page; larger ones are headless.
pub const MAX_BUDDY: usize = <Header as PageHeader>::MAX_HEADED;

/// Handle tag of the first buddy (starts after the header).
const BUD_FIRST: u8 = 1;
/// Handle tag of the last buddy (ends at the end of the page).
const BUD_LAST: u8 = 2;
/// Handle tag of an object in a headless page.
const BUD_HEADLESS: u8 = 3;

/// In-page header, chunk 0 of a buddied page.
///
/// # Invariants
///
/// Only accessed with the pool lock held. `first`/`last` are the chunk counts
/// of the buddies (0 = free); `link` puts the page on the unbuddied list of
/// its free chunks while it holds one buddy.
#[repr(C)]
struct Header {
    link: Link,
    first: u8,
    last: u8,
}

// SAFETY: `#[repr(C)]` with the `Link` first.
unsafe impl PageHeader for Header {
    const CHUNK_SHIFT: usize = CHUNK_SHIFT;
    const FIRST: u8 = BUD_FIRST;
    const HEADLESS: u8 = BUD_HEADLESS;

    fn new(c: usize) -> Self {
        Self {
            link: Link::new(),
            first: c as u8,
            last: 0,
        }
    }

    /// Free chunks while one buddy is present; 0 (not listed) with both.
    fn free_chunks(&self) -> usize {
        let (f, l) = (self.first as usize, self.last as usize);
        if f != 0 && l != 0 {
            return 0;
        }
        NCHUNKS.saturating_sub(f + l)
    }

    unsafe fn put(h: *mut Self, c: usize) -> u8 {
        // SAFETY: pool lock held, `h` live (caller contract); a listed page
        // has exactly one buddy and room for the other.
        unsafe {
            if (*h).first == 0 {
                (*h).first = c as u8;
                BUD_FIRST
            } else {
                (*h).last = c as u8;
                BUD_LAST
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

/// zbud-style pool. See the module documentation.
///
/// # Invariants
///
/// Those of `Pages`: headed pages are listed by free chunks exactly while
/// they hold one buddy.
pub struct ZbudPool<P: PageProvider, L: PoolLock> {
    core: Pages<P, L, Header, NCHUNKS>,
}

impl<P: PageProvider, L: PoolLock> ZbudPool<P, L> {
    /// Validates `h` and returns a pointer to its object (pool lock held).
    fn locate(&self, h: Handle) -> Option<*mut u8> {
        let idx = u32::try_from(h.index()?).ok()?;
        let len = h.len();
        if h.tag() == BUD_HEADLESS {
            return self.core.headless_ptr(h);
        }
        let hdr = self.core.hdr(idx)?;
        let c = Header::chunks(len);
        // SAFETY: pool lock held and `hdr` is a live headed page.
        unsafe {
            let page = hdr as *mut u8;
            match h.tag() {
                BUD_FIRST if (*hdr).first as usize == c && c > 0 => {
                    Some(page.add(ZHDR_CHUNKS * CHUNK_SIZE))
                }
                BUD_LAST if (*hdr).last as usize == c && c > 0 => {
                    Some(page.add(PAGE_SIZE - c * CHUNK_SIZE))
                }
                _ => None,
            }
        }
    }
}

impl<P: PageProvider, L: PoolLock> Zpool for ZbudPool<P, L> {
    type Provider = P;

    fn new(provider: P) -> Option<Self> {
        Some(Self {
            core: Pages::new(provider)?,
        })
    }

    fn name(&self) -> &'static str {
        "zbud"
    }

    fn alloc(&self, len: usize) -> Result<Handle, AllocError> {
        self.core.alloc(len)
    }

    fn write(&self, h: Handle, data: &[u8]) -> Result<(), AccessError> {
        if data.len() != h.len() {
            return Err(AccessError::LengthMismatch);
        }
        let p = self
            .core
            .state
            .with(|_| self.locate(h))
            .ok_or(AccessError::InvalidHandle)?;
        // Objects never move and the driver does not use this handle concurrently.
        // SAFETY: `locate` checked that `data.len()` bytes at `p` lie in a live page.
        unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), p, data.len()) };
        Ok(())
    }

    fn read<R>(
        &self,
        h: Handle,
        _bounce: &mut [u8; PAGE_SIZE],
        f: impl FnOnce(&[u8]) -> R,
    ) -> Result<R, AccessError> {
        let p = self
            .core
            .state
            .with(|_| self.locate(h))
            .ok_or(AccessError::InvalidHandle)?;
        // SAFETY: as in `write`; the object is never split across pages.
        let s = unsafe { core::slice::from_raw_parts(p, h.len()) };
        Ok(f(s))
    }

    fn free(&self, h: Handle) {
        let Some(idx) = h.index().and_then(|i| u32::try_from(i).ok()) else {
            return;
        };
        let page = self.core.state.with(|st| {
            self.locate(h)?;
            if h.tag() == BUD_HEADLESS {
                return self.core.take_headless(h);
            }
            self.core.free_headed(st, idx, h.tag())
        });
        if let Some(p) = page {
            self.core.release(idx, p);
        }
    }

    fn total_pages(&self) -> usize {
        self.core.total_pages()
    }

    fn compact(&self) -> usize {
        0
    }

    fn class_count(&self) -> usize {
        2
    }

    fn class_stats(&self, idx: usize) -> Option<ClassStats> {
        self.core.class_stats(idx, 2)
    }
}

#[cfg(test)]
mod tests;
