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
//! [`RecordTable`] of page addresses, bit 1 set for headless pages), the
//! length, and the buddy (1 first, 2 last, 3 headless).
//!
//! # Locking
//!
//! One pool lock protects the lists, the page headers and the page-table
//! entries' liveness; the page table has its own leaf lock, taken only when
//! the pool lock is not held. The page provider is called without any lock:
//! a new page is allocated first and given back if another CPU made room.
//! Reads and writes locate the object under the pool lock and copy after
//! dropping it (objects never move).

use core::ptr::NonNull;
use core::sync::atomic::{AtomicUsize, Ordering};

use super::table::RecordTable;
use super::zpool::{page_to_word, word_to_page, 
    AccessError, AllocError, ClassStats, Handle, Locked, PageProvider, PoolLock, Zpool,
    PAGE_SIZE,
};

/// log2 of the chunk size. 64-byte chunks as in Linux zbud: a page has 64,
/// so chunk counts fit a byte and the header fits one chunk.
const CHUNK_SHIFT: usize = 6;
const CHUNK_SIZE: usize = 1 << CHUNK_SHIFT;
/// Chunks per page.
const NCHUNKS_PAGE: usize = PAGE_SIZE / CHUNK_SIZE;
/// Chunks reserved for the header.
const ZHDR_CHUNKS: usize = 1;
/// Chunks available to the two buddies.
const NCHUNKS: usize = NCHUNKS_PAGE - ZHDR_CHUNKS;
/// Largest object stored in a buddied page; larger ones are headless.
pub const MAX_BUDDY: usize = NCHUNKS * CHUNK_SIZE;

const BUD_FIRST: u8 = 1;
const BUD_LAST: u8 = 2;
const BUD_HEADLESS: u8 = 3;
/// Page-table entry flag of headless pages (pages are 4 KiB aligned).
const E_HEADLESS: usize = 0b10;
const NONE: u32 = u32::MAX;
/// `list` value of a page on no unbuddied list.
const NO_LIST: u8 = u8::MAX;

/// In-page header, chunk 0 of a buddied page.
///
/// # Invariants
///
/// Only accessed with the pool lock held. `first`/`last` are the chunk counts
/// of the buddies (0 = free); `list` is the unbuddied list the page is on
/// (its free chunk count) or [`NO_LIST`], linked through `next`/`prev` page
/// indices.
#[repr(C)]
struct Header {
    next: u32,
    prev: u32,
    first: u8,
    last: u8,
    list: u8,
}

const _: () = assert!(core::mem::size_of::<Header>() <= ZHDR_CHUNKS * CHUNK_SIZE);

struct State {
    /// Unbuddied lists by free chunks (1..NCHUNKS).
    heads: [u32; NCHUNKS],
    /// Buddied (headed) pages.
    pages: usize,
    /// Objects in headed pages.
    objs: usize,
}

/// zbud-style pool. See the module documentation.
///
/// # Invariants
///
/// Every live, non-zero page-table entry owns one provider page; headed pages
/// are listed by free chunks exactly while they hold one buddy.
pub struct ZbudPool<P: PageProvider, L: PoolLock> {
    provider: P,
    table: RecordTable<L, 8>,
    state: Locked<L, State>,
    headless: AtomicUsize,
}

fn chunks(len: usize) -> usize {
    len.div_ceil(CHUNK_SIZE)
}

impl<P: PageProvider, L: PoolLock> ZbudPool<P, L> {
    /// Page address of entry `idx`, with the entry's flag bits.
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

    /// Puts page `idx` on the list for its free chunks (pool lock held).
    fn link(&self, st: &mut State, idx: u32, h: *mut Header) {
        // SAFETY: pool lock held; `h` is the live header of page `idx`, and
        // listed pages are live headed pages.
        unsafe {
            let free = NCHUNKS - (*h).first as usize - (*h).last as usize;
            let both = (*h).first != 0 && (*h).last != 0;
            (*h).list = NO_LIST;
            if both || free == 0 || free >= NCHUNKS {
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

    /// Takes page `idx` off its list, if any (pool lock held).
    fn unlink(&self, st: &mut State, h: *mut Header) {
        // SAFETY: as in `link`.
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

    /// Places `c` chunks in a listed page (pool lock held).
    fn place(&self, st: &mut State, c: usize) -> Option<(u32, u8)> {
        for free in c..NCHUNKS {
            let idx = st.heads[free];
            let Some(h) = self.hdr(idx) else {
                continue;
            };
            self.unlink(st, h);
            // SAFETY: pool lock held, `h` live; a listed page has exactly one
            // buddy and `free >= c` chunks for the other.
            let bud = unsafe {
                if (*h).first == 0 {
                    (*h).first = c as u8;
                    BUD_FIRST
                } else {
                    (*h).last = c as u8;
                    BUD_LAST
                }
            };
            st.objs += 1;
            self.link(st, idx, h);
            return Some((idx, bud));
        }
        None
    }

    /// Validates `h` and returns a pointer to its object (pool lock held).
    fn locate(&self, h: Handle) -> Option<*mut u8> {
        let idx = u32::try_from(h.index()?).ok()?;
        let len = h.len();
        if h.tag() == BUD_HEADLESS {
            let e = self.entry(idx)?;
            return (e & E_HEADLESS != 0 && len <= PAGE_SIZE).then_some(word_to_page(e));
        }
        let hdr = self.hdr(idx)?;
        let c = chunks(len);
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

    fn free_page(&self, page: usize) {
        if let Some(p) = NonNull::new(word_to_page(page)) {
            // SAFETY: the caller unpublished the page; it is ours to give back.
            unsafe { self.provider.free_page(p) };
        }
    }
}

impl<P: PageProvider, L: PoolLock> Zpool for ZbudPool<P, L> {
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
        "zbud"
    }

    fn alloc(&self, len: usize) -> Result<Handle, AllocError> {
        if len == 0 || len > PAGE_SIZE {
            return Err(AllocError::InvalidSize);
        }
        let c = chunks(len);
        if len <= MAX_BUDDY {
            if let Some((idx, bud)) = self.state.with(|st| self.place(st, c)) {
                return Handle::pack(idx as usize, len, bud).ok_or(AllocError::NoMemory);
            }
        }
        let idx = self.table.alloc(&self.provider).ok_or(AllocError::NoMemory)?;
        let (Some(page), Ok(idx32)) = (self.provider.alloc_page(), u32::try_from(idx)) else {
            self.table.free(idx);
            return Err(AllocError::NoMemory);
        };
        let Some(word) = self.table.word(idx) else {
            self.table.free(idx);
            self.free_page(page_to_word(page.as_ptr()));
            return Err(AllocError::NoMemory);
        };
        if len > MAX_BUDDY {
            word.store(page_to_word(page.as_ptr()) | E_HEADLESS, Ordering::Release);
            self.headless.fetch_add(1, Ordering::Relaxed);
            return Handle::pack(idx, len, BUD_HEADLESS).ok_or(AllocError::NoMemory);
        }
        let hdr = page.as_ptr() as *mut Header;
        // SAFETY: the page is new and ours alone; the header fits chunk 0.
        unsafe {
            hdr.write(Header {
                next: NONE,
                prev: NONE,
                first: c as u8,
                last: 0,
                list: NO_LIST,
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
        let (i, bud) = match placed {
            Ok(()) => (idx, BUD_FIRST),
            Err((i, bud)) => {
                self.table.free(idx);
                self.free_page(page_to_word(page.as_ptr()));
                (i as usize, bud)
            }
        };
        Handle::pack(i, len, bud).ok_or(AllocError::NoMemory)
    }

    fn write(&self, h: Handle, data: &[u8]) -> Result<(), AccessError> {
        if data.len() != h.len() {
            return Err(AccessError::LengthMismatch);
        }
        let p = self.state.with(|_| self.locate(h)).ok_or(AccessError::InvalidHandle)?;
        // SAFETY: `locate` checked that the object of `data.len()` bytes lies
        // in a live page at `p`; objects never move and the driver does not
        // use this handle concurrently.
        unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), p, data.len()) };
        Ok(())
    }

    fn read<R>(
        &self,
        h: Handle,
        _bounce: &mut [u8; PAGE_SIZE],
        f: impl FnOnce(&[u8]) -> R,
    ) -> Result<R, AccessError> {
        let p = self.state.with(|_| self.locate(h)).ok_or(AccessError::InvalidHandle)?;
        // SAFETY: as in `write`; the object is never split across pages.
        let s = unsafe { core::slice::from_raw_parts(p, h.len()) };
        Ok(f(s))
    }

    fn free(&self, h: Handle) {
        let Some(idx) = h.index().and_then(|i| u32::try_from(i).ok()) else {
            return;
        };
        let page = self.state.with(|st| {
            self.locate(h)?;
            let e = self.entry(idx)?;
            if h.tag() == BUD_HEADLESS {
                self.table.word(idx as usize)?.store(0, Ordering::Relaxed);
                self.headless.fetch_sub(1, Ordering::Relaxed);
                return Some(Some(e));
            }
            let hdr = self.hdr(idx)?;
            st.objs -= 1;
            // SAFETY: pool lock held, live headed page; `locate` checked the
            // buddy.
            unsafe {
                self.unlink(st, hdr);
                if h.tag() == BUD_FIRST {
                    (*hdr).first = 0;
                } else {
                    (*hdr).last = 0;
                }
                if (*hdr).first == 0 && (*hdr).last == 0 {
                    // Unpublish before dropping the lock.
                    self.table.word(idx as usize)?.store(0, Ordering::Relaxed);
                    st.pages -= 1;
                    return Some(Some(e));
                }
            }
            self.link(st, idx, hdr);
            Some(None)
        });
        if let Some(Some(e)) = page {
            self.table.free(idx as usize);
            self.free_page(e);
        }
    }

    fn total_pages(&self) -> usize {
        self.state.with(|st| st.pages) + self.headless.load(Ordering::Relaxed) + self.table.pages()
    }

    fn compact(&self) -> usize {
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
                    size: MAX_BUDDY,
                    pages_per_zspage: 1,
                    objs_per_zspage: 2,
                    objs_in_use: objs,
                    objs_allocated: pages * 2,
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

impl<P: PageProvider, L: PoolLock> Drop for ZbudPool<P, L> {
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
mod tests {
    use super::super::zpool::testing::TestProvider;
    use super::super::zpool::SpinLockHost;
    use super::*;

    type Pool<'a> = ZbudPool<&'a TestProvider, SpinLockHost>;

    fn fill(pool: &Pool, h: Handle) {
        let v: Vec<u8> = (0..h.len()).map(|i| (i as u8) ^ (h.to_raw() as u8)).collect();
        pool.write(h, &v).unwrap();
    }

    fn check(pool: &Pool, h: Handle) {
        let v: Vec<u8> = (0..h.len()).map(|i| (i as u8) ^ (h.to_raw() as u8)).collect();
        let mut b = [0u8; PAGE_SIZE];
        pool.read(h, &mut b, |s| assert_eq!(s, &v[..])).unwrap();
    }

    #[test]
    fn boundaries_and_pairing() {
        let tp = TestProvider::new();
        let pool = Pool::new(&tp).unwrap();
        assert_eq!(pool.alloc(0), Err(AllocError::InvalidSize));
        assert_eq!(pool.alloc(PAGE_SIZE + 1), Err(AllocError::InvalidSize));
        let sizes = [1, 63, 64, 65, 2016, 2017, MAX_BUDDY - 1, MAX_BUDDY, MAX_BUDDY + 1, PAGE_SIZE];
        let hs: Vec<_> = sizes.iter().map(|&l| pool.alloc(l).unwrap()).collect();
        for &h in &hs {
            fill(&pool, h);
        }
        for &h in &hs {
            check(&pool, h);
        }
        assert_eq!(pool.total_pages(), tp.held());
        let s = pool.class_stats(0).unwrap();
        assert!(s.objs_in_use <= 2 * s.pages);
        for h in hs {
            pool.free(h);
            pool.free(h);
        }
        assert_eq!(pool.total_pages(), pool.table.pages());
        assert_eq!(pool.total_pages(), tp.held());
    }

    #[test]
    fn two_halves_share_a_page_and_free_it() {
        let tp = TestProvider::new();
        let pool = Pool::new(&tp).unwrap();
        let a = pool.alloc(2000).unwrap();
        let b = pool.alloc(1984).unwrap();
        assert_eq!(a.index(), b.index());
        let c = pool.alloc(100).unwrap();
        assert_ne!(c.index(), a.index());
        let data_pages = pool.total_pages() - pool.table.pages();
        assert_eq!(data_pages, 2);
        pool.free(a);
        pool.free(b);
        assert_eq!(pool.total_pages() - pool.table.pages(), 1);
        let mut bb = [0; PAGE_SIZE];
        assert_eq!(pool.read(a, &mut bb, |_| ()), Err(AccessError::InvalidHandle));
        pool.free(c);
        assert_eq!(pool.total_pages(), tp.held());
    }

    #[test]
    fn provider_failure_is_clean() {
        let tp = TestProvider::new();
        let pool = Pool::new(&tp).unwrap();
        tp.budget.store(0, Ordering::Relaxed);
        assert_eq!(pool.alloc(100), Err(AllocError::NoMemory));
        tp.budget.store(2, Ordering::Relaxed);
        assert_eq!(pool.alloc(100), Err(AllocError::NoMemory));
        assert_eq!(pool.total_pages(), tp.held());
        tp.budget.store(1, Ordering::Relaxed);
        let h = pool.alloc(100).unwrap();
        assert_eq!(pool.alloc(4000).map(|_| ()), Err(AllocError::NoMemory));
        fill(&pool, h);
        check(&pool, h);
        assert_eq!(pool.total_pages(), tp.held());
    }
}
