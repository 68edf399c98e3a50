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
//! [`RecordTable`] of page addresses, bit 1 set for headless pages), the
//! length, and the slot (1 first, 2 middle, 3 last, 4 headless). The middle
//! object keeps its handle when it moves: its position is `start_middle`.
//!
//! # Locking
//!
//! One pool lock protects lists, headers and page-table liveness; the page
//! table's own lock is a leaf taken only when the pool lock is not held. The
//! page provider is called without locks (allocate first, give back if not
//! needed). Reads and writes locate the object and raise the page's pin count
//! under the pool lock, then copy without it; pages with a non-zero pin are
//! not compacted.

use core::ptr::NonNull;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use super::table::RecordTable;
use super::zpool::{page_to_word, word_to_page, 
    AccessError, AllocError, ClassStats, Handle, Locked, PageProvider, PoolLock, Zpool,
    PAGE_SIZE,
};

/// 32-byte chunks: half of zbud's, so a 3-way split wastes less; 128 chunks
/// still fit a byte and the header fits one chunk.
const CHUNK_SHIFT: usize = 5;
const CHUNK_SIZE: usize = 1 << CHUNK_SHIFT;
/// Chunks per page.
const NCHUNKS_PAGE: usize = PAGE_SIZE / CHUNK_SIZE;
/// Chunks reserved for the header.
const ZHDR_CHUNKS: usize = 1;
/// Chunks available to objects.
const NCHUNKS: usize = NCHUNKS_PAGE - ZHDR_CHUNKS;
/// Largest object stored in a headed page; larger ones are headless.
pub const MAX_HEADED: usize = NCHUNKS * CHUNK_SIZE;

const FIRST: u8 = 1;
const MIDDLE: u8 = 2;
const LAST: u8 = 3;
const HEADLESS: u8 = 4;
/// Page-table entry flag of headless pages.
const E_HEADLESS: usize = 0b10;
const NONE: u32 = u32::MAX;
/// `list` of a page on no list.
const NO_LIST: u8 = u8::MAX;

/// In-page header, chunk 0 of a headed page.
///
/// # Invariants
///
/// All fields but `pin` are accessed with the pool lock held. `first`,
/// `middle`, `last` are chunk counts (0 = free); the middle object occupies
/// chunks `start_middle..start_middle + middle`, and the three objects never
/// overlap. `list` is the list the page is on ([`free_chunks`]) or
/// [`NO_LIST`]. `pin` counts readers/writers working without the lock.
#[repr(C)]
struct Header {
    next: u32,
    prev: u32,
    first: u8,
    middle: u8,
    last: u8,
    start_middle: u8,
    list: u8,
    pin: AtomicU32,
}

const _: () = assert!(core::mem::size_of::<Header>() <= ZHDR_CHUNKS * CHUNK_SIZE);

struct State {
    /// Lists of pages by the largest object they can take (1..NCHUNKS).
    heads: [u32; NCHUNKS],
    pages: usize,
    objs: usize,
}

/// Largest object (in chunks) the page described by `h` can still take.
fn free_chunks(h: &Header) -> usize {
    let (f, m, l) = (h.first as usize, h.middle as usize, h.last as usize);
    if m == 0 {
        // One run between first and last; the middle slot can take it all.
        return NCHUNKS - f - l;
    }
    let before = if f == 0 { h.start_middle as usize - ZHDR_CHUNKS } else { 0 };
    let after = if l == 0 { NCHUNKS_PAGE - h.start_middle as usize - m } else { 0 };
    before.max(after)
}

/// Chunk where the object in `slot` starts.
fn start_of(h: &Header, slot: u8) -> usize {
    match slot {
        FIRST => ZHDR_CHUNKS,
        MIDDLE => h.start_middle as usize,
        _ => NCHUNKS_PAGE - h.last as usize,
    }
}

/// z3fold-style pool. See the module documentation.
///
/// # Invariants
///
/// Every live, non-zero page-table entry owns one provider page; a headed page
/// is on the list of its [`free_chunks`] exactly when that is non-zero.
pub struct Z3foldPool<P: PageProvider, L: PoolLock> {
    provider: P,
    table: RecordTable<L, 8>,
    state: Locked<L, State>,
    headless: AtomicUsize,
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
    fn entry(&self, idx: u32) -> Option<usize> {
        let e = self.table.word(idx as usize)?.load(Ordering::Acquire);
        if e & 1 != 0 || e & !(PAGE_SIZE - 1) == 0 {
            return None;
        }
        Some(e)
    }

    fn hdr(&self, idx: u32) -> Option<*mut Header> {
        let e = self.entry(idx)?;
        if e & E_HEADLESS != 0 {
            return None;
        }
        Some(word_to_page(e) as *mut Header)
    }

    fn link(&self, st: &mut State, idx: u32, h: *mut Header) {
        // SAFETY: pool lock held; `h` is the live header of page `idx`.
        unsafe {
            let free = free_chunks(&*h);
            (*h).list = NO_LIST;
            if free == 0 || free >= NCHUNKS {
                return;
            }
            (*h).list = free as u8;
            (*h).prev = NONE;
            (*h).next = st.heads[free];
            if let Some(n) = self.hdr(st.heads[free]) {
                (*n).prev = idx;
            }
            st.heads[free] = idx;
        }
    }

    fn unlink(&self, st: &mut State, h: *mut Header) {
        // SAFETY: pool lock held; listed pages are live headed pages.
        unsafe {
            let Some(head) = st.heads.get_mut((*h).list as usize) else {
                return;
            };
            (*h).list = NO_LIST;
            let (prev, next) = ((*h).prev, (*h).next);
            match self.hdr(prev) {
                Some(p) => (*p).next = next,
                None => *head = next,
            }
            if let Some(n) = self.hdr(next) {
                (*n).prev = prev;
            }
        }
    }

    /// Puts `c` chunks into page `h`, which has `free_chunks >= c`.
    ///
    /// # Safety
    ///
    /// Pool lock held, `h` live and on no list.
    unsafe fn put(h: *mut Header, c: usize) -> u8 {
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

    fn place(&self, st: &mut State, c: usize) -> Option<(u32, u8)> {
        for free in c..NCHUNKS {
            let idx = st.heads[free];
            let Some(h) = self.hdr(idx) else {
                continue;
            };
            self.unlink(st, h);
            // SAFETY: pool lock held, live page taken off its list, with
            // `free >= c` chunks available.
            let slot = unsafe { Self::put(h, c) };
            st.objs += 1;
            self.link(st, idx, h);
            return Some((idx, slot));
        }
        None
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

    /// Validates `h` and pins its page (pool lock held).
    fn locate(&self, h: Handle) -> Option<Pinned> {
        let idx = u32::try_from(h.index()?).ok()?;
        let c = h.len().div_ceil(CHUNK_SIZE);
        let hdr = self.hdr(idx)?;
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

    /// Pointer to a headless object.
    fn headless_page(&self, h: Handle) -> Option<*mut u8> {
        let e = self.entry(u32::try_from(h.index()?).ok()?)?;
        (e & E_HEADLESS != 0 && h.len() <= PAGE_SIZE).then_some(word_to_page(e))
    }

    fn free_page(&self, page: usize) {
        if let Some(p) = NonNull::new(word_to_page(page)) {
            // SAFETY: the caller unpublished the page; it is ours to give back.
            unsafe { self.provider.free_page(p) };
        }
    }

    /// Runs `f` on the object's bytes (write or read).
    fn with_obj<R>(&self, h: Handle, f: impl FnOnce(*mut u8) -> R) -> Result<R, AccessError> {
        if h.tag() == HEADLESS {
            let p = self.headless_page(h).ok_or(AccessError::InvalidHandle)?;
            return Ok(f(p));
        }
        let pin = self
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
            provider,
            table: RecordTable::new()?,
            state: Locked::new(State {
                heads: [NONE; NCHUNKS],
                pages: 0,
                objs: 0,
            })?,
            headless: AtomicUsize::new(0),
        })
    }

    fn name(&self) -> &'static str {
        "z3fold"
    }

    fn alloc(&self, len: usize) -> Result<Handle, AllocError> {
        if len == 0 || len > PAGE_SIZE {
            return Err(AllocError::InvalidSize);
        }
        let c = len.div_ceil(CHUNK_SIZE);
        if len <= MAX_HEADED {
            if let Some((idx, slot)) = self.state.with(|st| self.place(st, c)) {
                return Handle::pack(idx as usize, len, slot).ok_or(AllocError::NoMemory);
            }
        }
        let idx = self.table.alloc(&self.provider).ok_or(AllocError::NoMemory)?;
        let (Some(page), Ok(idx32), Some(word)) = (
            self.provider.alloc_page(),
            u32::try_from(idx),
            self.table.word(idx),
        ) else {
            self.table.free(idx);
            return Err(AllocError::NoMemory);
        };
        if len > MAX_HEADED {
            word.store(page_to_word(page.as_ptr()) | E_HEADLESS, Ordering::Release);
            self.headless.fetch_add(1, Ordering::Relaxed);
            return Handle::pack(idx, len, HEADLESS).ok_or(AllocError::NoMemory);
        }
        let hdr = page.as_ptr() as *mut Header;
        // SAFETY: the page is new and ours alone; the header fits chunk 0.
        unsafe {
            hdr.write(Header {
                next: NONE,
                prev: NONE,
                first: c as u8,
                middle: 0,
                last: 0,
                start_middle: 0,
                list: NO_LIST,
                pin: AtomicU32::new(0),
            })
        };
        let placed = self.state.with(|st| {
            if let Some(p) = self.place(st, c) {
                return Err(p);
            }
            word.store(page_to_word(page.as_ptr()), Ordering::Release);
            st.pages += 1;
            st.objs += 1;
            self.link(st, idx32, hdr);
            Ok(())
        });
        let (i, slot) = match placed {
            Ok(()) => (idx, FIRST),
            Err((i, slot)) => {
                self.table.free(idx);
                self.free_page(page_to_word(page.as_ptr()));
                (i as usize, slot)
            }
        };
        Handle::pack(i, len, slot).ok_or(AllocError::NoMemory)
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
        if h.tag() == HEADLESS {
            let Some(p) = self.headless_page(h) else {
                return;
            };
            if let Some(w) = self.table.word(idx as usize) {
                w.store(0, Ordering::Relaxed);
            }
            self.table.free(idx as usize);
            self.headless.fetch_sub(1, Ordering::Relaxed);
            self.free_page(page_to_word(p));
            return;
        }
        let page = self.state.with(|st| {
            let pin = self.locate(h)?;
            drop(pin);
            let hdr = self.hdr(idx)?;
            st.objs -= 1;
            // SAFETY: pool lock held, live headed page; `locate` checked the
            // slot.
            unsafe {
                self.unlink(st, hdr);
                match h.tag() {
                    FIRST => (*hdr).first = 0,
                    MIDDLE => (*hdr).middle = 0,
                    _ => (*hdr).last = 0,
                }
                if (*hdr).first == 0 && (*hdr).middle == 0 && (*hdr).last == 0 {
                    self.table.word(idx as usize)?.store(0, Ordering::Relaxed);
                    st.pages -= 1;
                    return Some(Some(page_to_word(hdr as *mut u8)));
                }
                Self::compact_page(hdr);
            }
            self.link(st, idx, hdr);
            Some(None)
        });
        if let Some(Some(p)) = page {
            self.table.free(idx as usize);
            self.free_page(p);
        }
    }

    fn total_pages(&self) -> usize {
        self.state.with(|st| st.pages) + self.headless.load(Ordering::Relaxed) + self.table.pages()
    }

    fn compact(&self) -> usize {
        self.table.for_each_live(|i, _| {
            let Ok(idx) = u32::try_from(i) else {
                return;
            };
            self.state.with(|st| {
                // Re-check under the lock: the page may be gone by now.
                if let Some(h) = self.hdr(idx) {
                    self.unlink(st, h);
                    // SAFETY: live header, pool lock held, on no list.
                    unsafe { Self::compact_page(h) };
                    self.link(st, idx, h);
                }
            });
        });
        0
    }

    fn class_count(&self) -> usize {
        2
    }

    fn class_stats(&self, idx: usize) -> Option<ClassStats> {
        match idx {
            0 => {
                let (pages, objs) = self.state.with(|st| (st.pages, st.objs));
                Some(ClassStats {
                    size: MAX_HEADED,
                    pages_per_zspage: 1,
                    objs_per_zspage: 3,
                    objs_in_use: objs,
                    objs_allocated: pages * 3,
                    zspages: pages,
                    pages,
                })
            }
            1 => {
                let n = self.headless.load(Ordering::Relaxed);
                Some(ClassStats {
                    size: PAGE_SIZE,
                    pages_per_zspage: 1,
                    objs_per_zspage: 1,
                    objs_in_use: n,
                    objs_allocated: n,
                    zspages: n,
                    pages: n,
                })
            }
            _ => None,
        }
    }
}

impl<P: PageProvider, L: PoolLock> Drop for Z3foldPool<P, L> {
    fn drop(&mut self) {
        let provider = &self.provider;
        self.table.for_each_live(|_, p| {
            // SAFETY: records are aligned words; exclusive access in drop.
            let e = unsafe { *(p.as_ptr() as *const usize) };
            if let Some(pg) = NonNull::new(word_to_page(e)) {
                // SAFETY: live non-zero entries own their page.
                unsafe { provider.free_page(pg) };
            }
        });
        // SAFETY: the table only used `self.provider`; no pointers survive.
        unsafe { self.table.release(&self.provider) };
    }
}

#[cfg(test)]
mod tests;
