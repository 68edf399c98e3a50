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
//! # Handles
//!
//! The handle carries the index of the page's page-table entry (a
//! `RecordTable` of page addresses, bit 1 set for headless pages), the
//! length, and the slot (1 first, 2 middle, 3 last, 4 headless). The middle
//! object keeps its handle when it moves: its position is `start_middle`.
//!
//! # Shared with zbud
//!
//! The page table, the free-chunk lists, allocation, freeing, page counts and
//! `Drop` are the chunked-backend core in `zpool/chunked.rs` (`Pages`);
//! this file holds the z3fold layout: the `PageHeader` with three slots,
//! pinning, and in-page compaction.
//!
//! # Locking
//!
//! One pool lock protects lists, headers and page-table liveness; the page
//! table's own lock is a leaf taken only when the pool lock is not held. The
//! page provider is called without locks (allocate first, give back if not
//! needed). Reads and writes locate the object and raise the page's pin count
//! under the pool lock, then copy without it; pages with a non-zero pin are
//! not compacted.

use core::sync::atomic::{AtomicU32, Ordering};

use super::zpool::chunked::{Link, PageHeader, Pages, ZHDR_CHUNKS};
use super::zpool::{
    AccessError, AllocError, ClassStats, Handle, PageProvider, PoolLock, Zpool, PAGE_SIZE,
};

/// 32-byte chunks: half of zbud's, so a 3-way split wastes less; 128 chunks
/// still fit a byte and the header fits one chunk.
const CHUNK_SHIFT: usize = 5;
/// Chunk size in bytes.
const CHUNK_SIZE: usize = <Header as PageHeader>::CHUNK_SIZE;
/// Chunks per page, header included.
const NCHUNKS_PAGE: usize = <Header as PageHeader>::NCHUNKS_PAGE;
/// Chunks available to objects (the page minus the header chunk).
const NCHUNKS: usize = <Header as PageHeader>::NCHUNKS;
/// Largest object stored in a headed page; larger ones are headless.
pub const MAX_HEADED: usize = <Header as PageHeader>::MAX_HEADED;

/// Handle tag of the first object (starts after the header).
const FIRST: u8 = 1;
/// Handle tag of the middle object (at `start_middle`, may move).
const MIDDLE: u8 = 2;
/// Handle tag of the last object (ends at the end of the page).
const LAST: u8 = 3;
/// Handle tag of an object in a headless page.
const HEADLESS: u8 = 4;

/// In-page header, chunk 0 of a headed page.
///
/// # Invariants
///
/// All fields but `pin` are accessed with the pool lock held. `first`,
/// `middle`, `last` are chunk counts (0 = free); the middle object occupies
/// chunks `start_middle..start_middle + middle`, and the three objects never
/// overlap. `link` puts the page on the list of its
/// [`PageHeader::free_chunks`] when that is non-zero. `pin` counts
/// readers/writers working without the lock.
#[repr(C)]
struct Header {
    link: Link,
    first: u8,
    middle: u8,
    last: u8,
    start_middle: u8,
    pin: AtomicU32,
}

// SAFETY: `#[repr(C)]` with the `Link` first.
unsafe impl PageHeader for Header {
    const CHUNK_SHIFT: usize = CHUNK_SHIFT;
    const FIRST: u8 = FIRST;
    const HEADLESS: u8 = HEADLESS;

    fn new(c: usize) -> Self {
        Self {
            link: Link::new(),
            first: c as u8,
            middle: 0,
            last: 0,
            start_middle: 0,
            pin: AtomicU32::new(0),
        }
    }

    /// Largest object (in chunks) the page can still take.
    fn free_chunks(&self) -> usize {
        let (f, m, l) = (
            self.first as usize,
            self.middle as usize,
            self.last as usize,
        );
        if m == 0 {
            // One run between first and last; the middle slot can take it all.
            return NCHUNKS - f - l;
        }
        let before = if f == 0 {
            self.start_middle as usize - ZHDR_CHUNKS
        } else {
            0
        };
        let after = if l == 0 {
            NCHUNKS_PAGE - self.start_middle as usize - m
        } else {
            0
        };
        before.max(after)
    }

    unsafe fn put(h: *mut Self, c: usize) -> u8 {
        // SAFETY: caller contract.
        let h = unsafe { &mut *h };
        let c8 = c as u8;
        if h.middle == 0 {
            if h.first == 0 {
                h.first = c8;
                FIRST
            } else if h.last == 0 {
                h.last = c8;
                LAST
            } else {
                h.start_middle = (ZHDR_CHUNKS + h.first as usize) as u8;
                h.middle = c8;
                MIDDLE
            }
        } else if h.first == 0 && h.start_middle as usize - ZHDR_CHUNKS >= c {
            h.first = c8;
            FIRST
        } else {
            h.last = c8;
            LAST
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
}

/// Chunk where the object in `slot` starts.
fn start_of(h: &Header, slot: u8) -> usize {
    match slot {
        FIRST => ZHDR_CHUNKS,
        MIDDLE => h.start_middle as usize,
        _ => NCHUNKS_PAGE - h.last as usize,
    }
}

/// Moves the middle object to merge free space (pool lock held).
///
/// # Safety
///
/// `h` is a live header on no list, pool lock held.
unsafe fn compact_page(h: *mut Header) {
    // SAFETY: caller contract; moves stay within the page, and with the
    // pin at zero nobody accesses the objects outside the lock.
    unsafe {
        let hd = &mut *h;
        let m = hd.middle as usize;
        if m == 0 || hd.pin.load(Ordering::Acquire) != 0 {
            return;
        }
        let to = match (hd.first, hd.last) {
            (0, 0) => ZHDR_CHUNKS,
            (f, 0) => ZHDR_CHUNKS + f as usize,
            (0, l) => NCHUNKS_PAGE - l as usize - m,
            _ => return,
        };
        let from = hd.start_middle as usize;
        if to == from {
            return;
        }
        let page = h as *mut u8;
        core::ptr::copy(
            page.add(from * CHUNK_SIZE),
            page.add(to * CHUNK_SIZE),
            m * CHUNK_SIZE,
        );
        hd.start_middle = to as u8;
    }
}

/// z3fold-style pool. See the module documentation.
///
/// # Invariants
///
/// Those of `Pages`: a headed page is on the list of its
/// `PageHeader::free_chunks` exactly when that is non-zero.
pub struct Z3foldPool<P: PageProvider, L: PoolLock> {
    core: Pages<P, L, Header, NCHUNKS>,
}

/// A pinned object; unpins the page when dropped.
struct Pinned {
    hdr: *mut Header,
    ptr: *mut u8,
}

impl Drop for Pinned {
    fn drop(&mut self) {
        // SAFETY: a page with a pinned live object stays allocated; `pin` is
        // atomic.
        unsafe { (*self.hdr).pin.fetch_sub(1, Ordering::Release) };
    }
}

impl<P: PageProvider, L: PoolLock> Z3foldPool<P, L> {
    /// Validates `h` and pins its page (pool lock held).
    fn locate(&self, h: Handle) -> Option<Pinned> {
        let idx = u32::try_from(h.index()?).ok()?;
        let c = Header::chunks(h.len());
        let hdr = self.core.hdr(idx)?;
        // SAFETY: pool lock held and `hdr` is a live headed page.
        unsafe {
            let hd = &*hdr;
            let n = match h.tag() {
                FIRST => hd.first,
                MIDDLE => hd.middle,
                LAST => hd.last,
                _ => return None,
            };
            if n as usize != c || c == 0 {
                return None;
            }
            hd.pin.fetch_add(1, Ordering::Relaxed);
            Some(Pinned {
                hdr,
                ptr: (hdr as *mut u8).add(start_of(hd, h.tag()) * CHUNK_SIZE),
            })
        }
    }

    /// Runs `f` on the object's bytes (write or read).
    fn with_obj<R>(&self, h: Handle, f: impl FnOnce(*mut u8) -> R) -> Result<R, AccessError> {
        if h.tag() == HEADLESS {
            let p = self
                .core
                .headless_ptr(h)
                .ok_or(AccessError::InvalidHandle)?;
            return Ok(f(p));
        }
        let pin = self
            .core
            .state
            .with(|_| self.locate(h))
            .ok_or(AccessError::InvalidHandle)?;
        Ok(f(pin.ptr))
    }
}

impl<P: PageProvider, L: PoolLock> Zpool for Z3foldPool<P, L> {
    type Provider = P;

    fn new(provider: P) -> Option<Self> {
        Some(Self {
            core: Pages::new(provider)?,
        })
    }

    fn name(&self) -> &'static str {
        "z3fold"
    }

    fn alloc(&self, len: usize) -> Result<Handle, AllocError> {
        self.core.alloc(len)
    }

    fn write(&self, h: Handle, data: &[u8]) -> Result<(), AccessError> {
        if data.len() != h.len() {
            return Err(AccessError::LengthMismatch);
        }
        self.with_obj(h, |p| {
            // SAFETY: the object of `len` bytes at `p` is pinned (or headless)
            // and not used concurrently (driver contract).
            unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), p, data.len()) }
        })
    }

    fn read<R>(
        &self,
        h: Handle,
        _bounce: &mut [u8; PAGE_SIZE],
        f: impl FnOnce(&[u8]) -> R,
    ) -> Result<R, AccessError> {
        self.with_obj(h, |p| {
            // SAFETY: as in `write`; objects never straddle pages here.
            f(unsafe { core::slice::from_raw_parts(p, h.len()) })
        })
    }

    fn free(&self, h: Handle) {
        let Some(idx) = h.index().and_then(|i| u32::try_from(i).ok()) else {
            return;
        };
        let page = if h.tag() == HEADLESS {
            // Headless pages have no header to protect: no pool lock.
            self.core.take_headless(h)
        } else {
            self.core.state.with(|st| {
                let pin = self.locate(h)?;
                drop(pin);
                self.core.free_headed(st, idx, h.tag())
            })
        };
        if let Some(p) = page {
            self.core.release(idx, p);
        }
    }

    fn total_pages(&self) -> usize {
        self.core.total_pages()
    }

    fn compact(&self) -> usize {
        self.core.table.for_each_live(|i, _| {
            let Ok(idx) = u32::try_from(i) else {
                return;
            };
            self.core.state.with(|st| {
                // Re-check under the lock: the page may be gone by now.
                if let Some(h) = self.core.hdr(idx) {
                    self.core.unlink(st, h);
                    // SAFETY: live header, pool lock held, on no list.
                    unsafe { compact_page(h) };
                    self.core.link(st, idx, h);
                }
            });
        });
        0
    }

    fn class_count(&self) -> usize {
        2
    }

    fn class_stats(&self, idx: usize) -> Option<ClassStats> {
        self.core.class_stats(idx, 3)
    }
}

#[cfg(test)]
mod tests;
