// SPDX-License-Identifier: GPL-2.0
//! Common core of the chunked backends (zbud- and z3fold-style).
//!
//! Both backends split a page into `1 << CHUNK_SHIFT`-byte chunks, keep an
//! in-page header in chunk 0 and store a few objects after it. What they share
//! lives here:
//!
//! * the chunk arithmetic, as provided constants of [`PageHeader`] computed
//!   from the backend's `CHUNK_SHIFT`;
//! * the page table: a [`RecordTable`] of page addresses, bit 1 set for
//!   headless pages (objects above [`PageHeader::MAX_HEADED`] take a page of
//!   their own, with no header);
//! * the lists of headed pages indexed by free chunks, linked through the
//!   [`Link`] at the start of every header; their heads (up to 127 words)
//!   are kept in a provider page, not in the pool, because pools are built
//!   on the kernel stack;
//! * allocation (list first, then a new page allocated outside the lock and
//!   given back if another CPU made room), freeing a headed or headless
//!   object, `total_pages`, the two pseudo-classes of `class_stats`, and
//!   `Drop`.
//!
//! What stays in each backend: the header's slots and how an object is put
//! into a page and found again ([`PageHeader::put`], [`PageHeader::remove`]),
//! which pages are listed under which free count
//! ([`PageHeader::free_chunks`]), handle validation, and z3fold's in-page
//! compaction and pinning.
//!
//! # Locking
//!
//! [`Pages::state`] is the pool lock: it protects the lists, the headers and
//! the liveness of page-table entries. The page table's own lock is a leaf,
//! taken only when the pool lock is not held; the page provider is called
//! with no lock held.

use core::ptr::NonNull;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use super::super::paged::PagedArray;
use super::super::table::RecordTable;
use super::{
    page_to_word, word_to_page, AllocError, ClassStats, Handle, Locked, PageProvider, PoolLock,
    PAGE_SIZE,
};

/// Chunks reserved for the header: one, which every header fits
/// (checked in [`Pages::new`]), so the first object starts at chunk 1.
pub(crate) const ZHDR_CHUNKS: usize = 1;
/// Page-table entry flag of headless pages: pages are 4 KiB aligned, so the
/// low bits of an entry are free; bit 0 is the record table's own.
const E_HEADLESS: usize = 0b10;
/// Page index meaning "no page" in the list links (page indices are `u32`).
const NONE: u32 = u32::MAX;
/// `Link::list` of a page on no list (list numbers are below 128).
const NO_LIST: u8 = u8::MAX;

/// List links, the first field of every header (`#[repr(C)]`, offset 0).
///
/// # Invariants
///
/// Only accessed with the pool lock held. `list` is the list the page is on
/// (its [`PageHeader::free_chunks`] when it was linked) or `NO_LIST`;
/// `next`/`prev` are page indices, `NONE` at the ends.
#[repr(C)]
pub(crate) struct Link {
    next: u32,
    prev: u32,
    list: u8,
}

impl Link {
    /// Links of a page on no list, for a new header.
    pub(crate) const fn new() -> Self {
        Self {
            next: NONE,
            prev: NONE,
            list: NO_LIST,
        }
    }
}

/// The in-page header of a chunked backend, and its chunk geometry.
///
/// # Safety
///
/// Implementors are `#[repr(C)]` with a [`Link`] as their first field, so a
/// header pointer is also a pointer to its links.
pub(crate) unsafe trait PageHeader: Sized {
    /// log2 of the chunk size.
    const CHUNK_SHIFT: usize;
    /// Handle tag of the object a new page starts with ([`PageHeader::new`]).
    const FIRST: u8;
    /// Handle tag of a headless object.
    const HEADLESS: u8;
    /// Chunk size in bytes.
    const CHUNK_SIZE: usize = 1 << Self::CHUNK_SHIFT;
    /// Chunks per page, header included.
    const NCHUNKS_PAGE: usize = PAGE_SIZE >> Self::CHUNK_SHIFT;
    /// Chunks available to objects; also the number of free lists.
    const NCHUNKS: usize = Self::NCHUNKS_PAGE - ZHDR_CHUNKS;
    /// Largest object stored in a headed page; larger ones are headless.
    const MAX_HEADED: usize = Self::NCHUNKS * Self::CHUNK_SIZE;

    /// Header of a new page holding one object of `c` chunks in slot
    /// [`PageHeader::FIRST`].
    fn new(c: usize) -> Self;

    /// The free list the page belongs on: the number of chunks the largest
    /// new object can take, or 0 (or `NCHUNKS`, for an empty page) for none.
    fn free_chunks(&self) -> usize;

    /// Puts an object of `c` chunks into the page and returns its slot tag.
    ///
    /// # Safety
    ///
    /// Pool lock held; `h` is a live header on no list whose
    /// [`PageHeader::free_chunks`] is at least `c`.
    unsafe fn put(h: *mut Self, c: usize) -> u8;

    /// Empties slot `tag` (validated by the caller); true if the page is now
    /// empty.
    ///
    /// # Safety
    ///
    /// Pool lock held; `h` is a live header on no list.
    unsafe fn remove(h: *mut Self, tag: u8) -> bool;

    /// Tidies a page after a removal that left it non-empty, before it is
    /// listed again (z3fold moves its middle object).
    ///
    /// # Safety
    ///
    /// As for [`PageHeader::remove`].
    unsafe fn tidy(_h: *mut Self) {}

    /// Chunks taken by an object of `len` bytes.
    fn chunks(len: usize) -> usize {
        len.div_ceil(Self::CHUNK_SIZE)
    }
}

/// Counters under the pool lock; holding `&mut Lists` also proves that the
/// lock is held for [`Pages::heads`].
pub(crate) struct Lists {
    /// Objects in headed pages.
    objs: usize,
}

/// Pages, page table and lists of a chunked pool. `N` is `H::NCHUNKS`
/// (checked in [`Pages::new`]; stable Rust cannot size the array by it).
///
/// # Invariants
///
/// Every live, non-zero page-table entry owns one provider page; a headed page
/// is on the list of its `free_chunks` exactly when that is in `1..N`.
/// `heads` lives in a provider page owned by the pool and is only accessed
/// with the pool lock (`state`) held, so relaxed ordering suffices; it holds
/// page indices, [`NONE`] for an empty list.
pub(crate) struct Pages<P: PageProvider, L: PoolLock, H: PageHeader, const N: usize> {
    pub(crate) provider: P,
    pub(crate) table: RecordTable<L, 8>,
    pub(crate) state: Locked<L, Lists>,
    /// Heads of the lists of headed pages by free chunks (1..N; 0 unused).
    heads: PagedArray<AtomicU32, N>,
    headless: AtomicUsize,
    /// Headed pages; changed only under the pool lock, read without it so
    /// that `total_pages` (asked on every write) takes no lock.
    headed: AtomicUsize,
    _header: core::marker::PhantomData<H>,
}

impl<P: PageProvider, L: PoolLock, H: PageHeader, const N: usize> Pages<P, L, H, N> {
    /// `N` matches the header's geometry and the header fits its chunks.
    const LAYOUT_OK: () = {
        assert!(N == H::NCHUNKS);
        assert!(N < NO_LIST as usize);
        // The heads fit one page, so that `heads` is one slice.
        assert!(N * core::mem::size_of::<AtomicU32>() <= PAGE_SIZE);
        assert!(core::mem::size_of::<H>() <= ZHDR_CHUNKS * H::CHUNK_SIZE);
    };

    pub(crate) fn new(provider: P) -> Option<Self> {
        let () = Self::LAYOUT_OK;
        let table = RecordTable::new()?;
        let state = Locked::new(Lists { objs: 0 })?;
        // Last, so that nothing after it can fail and leak its page.
        let heads = PagedArray::new(&provider, |_| Some(AtomicU32::new(NONE)))?;
        Some(Self {
            provider,
            table,
            state,
            heads,
            headless: AtomicUsize::new(0),
            headed: AtomicUsize::new(0),
            _header: core::marker::PhantomData,
        })
    }

    /// The list heads, indexed by free chunks (pool lock held, proven by
    /// `_st`). All `N` of them: they fit one page (`LAYOUT_OK`).
    fn heads(&self, _st: &Lists) -> &[AtomicU32] {
        self.heads.as_slice().unwrap_or(&[])
    }

    /// Pages of the pool's own metadata: the page table and the list heads.
    pub(crate) fn meta_pages(&self) -> usize {
        self.table.pages() + self.heads.pages()
    }

    /// Page address of entry `idx`, with the entry's flag bits.
    pub(crate) fn entry(&self, idx: u32) -> Option<usize> {
        let e = self.table.word(idx as usize)?.load(Ordering::Acquire);
        if e & 1 != 0 || e & !(PAGE_SIZE - 1) == 0 {
            return None;
        }
        Some(e)
    }

    /// Header of headed page `idx`.
    pub(crate) fn hdr(&self, idx: u32) -> Option<*mut H> {
        let e = self.entry(idx)?;
        if e & E_HEADLESS != 0 {
            return None;
        }
        Some(word_to_page(e) as *mut H)
    }

    /// Pointer to the object of headless handle `h`.
    pub(crate) fn headless_ptr(&self, h: Handle) -> Option<*mut u8> {
        let e = self.entry(u32::try_from(h.index()?).ok()?)?;
        (e & E_HEADLESS != 0 && h.len() <= PAGE_SIZE).then_some(word_to_page(e))
    }

    /// Puts page `idx` on the list for its free chunks (pool lock held).
    pub(crate) fn link(&self, st: &mut Lists, idx: u32, h: *mut H) {
        // SAFETY: pool lock held; `h` and listed pages are live headers, which
        // start with their `Link` (`PageHeader` contract).
        unsafe {
            let free = (*h).free_chunks();
            let l = h as *mut Link;
            (*l).list = NO_LIST;
            let Some(head) = self.heads(st).get(free) else {
                return;
            };
            if free == 0 {
                return;
            }
            let first = head.load(Ordering::Relaxed);
            (*l).list = free as u8;
            (*l).prev = NONE;
            (*l).next = first;
            if let Some(n) = self.hdr(first) {
                (*(n as *mut Link)).prev = idx;
            }
            head.store(idx, Ordering::Relaxed);
        }
    }

    /// Takes the page of header `h` off its list, if any (pool lock held).
    pub(crate) fn unlink(&self, st: &mut Lists, h: *mut H) {
        // SAFETY: as in `link`; listed pages are live headed pages.
        unsafe {
            let l = h as *mut Link;
            let Some(head) = self.heads(st).get((*l).list as usize) else {
                return;
            };
            (*l).list = NO_LIST;
            let (prev, next) = ((*l).prev, (*l).next);
            match self.hdr(prev) {
                Some(p) => (*(p as *mut Link)).next = next,
                None => head.store(next, Ordering::Relaxed),
            }
            if let Some(n) = self.hdr(next) {
                (*(n as *mut Link)).prev = prev;
            }
        }
    }

    /// Places `c` chunks in the first listed page with room (pool lock held);
    /// returns its index and the slot tag.
    fn place(&self, st: &mut Lists, c: usize) -> Option<(u32, u8)> {
        let heads = self.heads(st);
        for head in heads.get(c..).unwrap_or(&[]) {
            let idx = head.load(Ordering::Relaxed);
            let Some(h) = self.hdr(idx) else {
                continue;
            };
            self.unlink(st, h);
            // SAFETY: pool lock held, live page taken off its list, which
            // was the list of `c` or more free chunks.
            let tag = unsafe { H::put(h, c) };
            st.objs += 1;
            self.link(st, idx, h);
            return Some((idx, tag));
        }
        None
    }

    /// Allocates `len` bytes: in a listed page if one has room, else in a new
    /// page (headless above [`PageHeader::MAX_HEADED`]).
    pub(crate) fn alloc(&self, len: usize) -> Result<Handle, AllocError> {
        if len == 0 || len > PAGE_SIZE {
            return Err(AllocError::InvalidSize);
        }
        let c = H::chunks(len);
        if len <= H::MAX_HEADED {
            if let Some((idx, tag)) = self.state.with(|st| self.place(st, c)) {
                return Handle::pack(idx as usize, len, tag).ok_or(AllocError::NoMemory);
            }
        }
        let idx = self
            .table
            .alloc(&self.provider)
            .ok_or(AllocError::NoMemory)?;
        let Some(page) = self.provider.alloc_page() else {
            self.table.free(idx);
            return Err(AllocError::NoMemory);
        };
        let (Ok(idx32), Some(word)) = (u32::try_from(idx), self.table.word(idx)) else {
            self.table.free(idx);
            self.free_page(page_to_word(page.as_ptr()));
            return Err(AllocError::NoMemory);
        };
        if len > H::MAX_HEADED {
            word.store(page_to_word(page.as_ptr()) | E_HEADLESS, Ordering::Release);
            self.headless.fetch_add(1, Ordering::Relaxed);
            return Handle::pack(idx, len, H::HEADLESS).ok_or(AllocError::NoMemory);
        }
        let hdr = page.as_ptr() as *mut H;
        // SAFETY: the page is new and ours alone; the header fits chunk 0
        // (`LAYOUT_OK`) and the page is page-aligned.
        unsafe { hdr.write(H::new(c)) };
        let placed = self.state.with(|st| {
            if let Some(p) = self.place(st, c) {
                return Err(p);
            }
            word.store(page_to_word(page.as_ptr()), Ordering::Release);
            self.headed.fetch_add(1, Ordering::Relaxed);
            st.objs += 1;
            self.link(st, idx32, hdr);
            Ok(())
        });
        let (i, tag) = match placed {
            Ok(()) => (idx, H::FIRST),
            Err((i, tag)) => {
                self.table.free(idx);
                self.free_page(page_to_word(page.as_ptr()));
                (i as usize, tag)
            }
        };
        Handle::pack(i, len, tag).ok_or(AllocError::NoMemory)
    }

    /// Frees the object in slot `tag` of headed page `idx`, which the caller
    /// validated (pool lock held). If the page empties it is unpublished and
    /// returned, to be given back with [`Pages::release`] after the lock is
    /// dropped.
    pub(crate) fn free_headed(&self, st: &mut Lists, idx: u32, tag: u8) -> Option<usize> {
        let hdr = self.hdr(idx)?;
        st.objs -= 1;
        self.unlink(st, hdr);
        // SAFETY: pool lock held, live headed page taken off its list.
        if unsafe { H::remove(hdr, tag) } {
            // Unpublish before dropping the lock.
            self.table.word(idx as usize)?.store(0, Ordering::Relaxed);
            self.headed.fetch_sub(1, Ordering::Relaxed);
            return Some(page_to_word(hdr as *mut u8));
        }
        // SAFETY: as above; the page is still live.
        unsafe { H::tidy(hdr) };
        self.link(st, idx, hdr);
        None
    }

    /// Unpublishes the page of headless handle `h` and returns it, to be given
    /// back with [`Pages::release`].
    pub(crate) fn take_headless(&self, h: Handle) -> Option<usize> {
        let idx = h.index()?;
        let p = self.headless_ptr(h)?;
        self.table.word(idx)?.store(0, Ordering::Relaxed);
        self.headless.fetch_sub(1, Ordering::Relaxed);
        Some(page_to_word(p))
    }

    /// Gives back page-table entry `idx` and its unpublished `page`.
    pub(crate) fn release(&self, idx: u32, page: usize) {
        self.table.free(idx as usize);
        self.free_page(page);
    }

    fn free_page(&self, page: usize) {
        if let Some(p) = NonNull::new(word_to_page(page)) {
            // SAFETY: the caller unpublished the page; it is ours to give back.
            unsafe { self.provider.free_page(p) };
        }
    }

    pub(crate) fn total_pages(&self) -> usize {
        self.headed.load(Ordering::Relaxed)
            + self.headless.load(Ordering::Relaxed)
            + self.meta_pages()
    }

    /// Class 0: headed pages of up to `per_page` objects; class 1: headless
    /// pages.
    pub(crate) fn class_stats(&self, idx: usize, per_page: usize) -> Option<ClassStats> {
        let (size, per_page, objs, pages) = match idx {
            0 => {
                let (pages, objs) = self
                    .state
                    .with(|st| (self.headed.load(Ordering::Relaxed), st.objs));
                (H::MAX_HEADED, per_page, objs, pages)
            }
            1 => {
                let n = self.headless.load(Ordering::Relaxed);
                (PAGE_SIZE, 1, n, n)
            }
            _ => return None,
        };
        Some(ClassStats {
            size,
            pages_per_zspage: 1,
            objs_per_zspage: per_page,
            objs_in_use: objs,
            objs_allocated: pages * per_page,
            zspages: pages,
            pages,
        })
    }
}

impl<P: PageProvider, L: PoolLock, H: PageHeader, const N: usize> Drop for Pages<P, L, H, N> {
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
        // SAFETY: the table and the heads only used `self.provider`; no
        // pointers into them survive.
        unsafe {
            self.table.release(&self.provider);
            self.heads.release(&self.provider);
        }
    }
}
