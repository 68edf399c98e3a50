// SPDX-License-Identifier: GPL-2.0
//! The chunked backends (zbud- and z3fold-style) and the pool they share.
//!
//! Both backends split a page into `1 << CHUNK_SHIFT`-byte chunks, keep an
//! in-page header in chunk 0 and store a few objects after it. They differ
//! only in that header, so there is one pool type, [`ChunkedPool`], generic
//! over the header, and each backend is a header type plus a name:
//!
//! * [`zbud::ZbudPool`]: two objects per page in 64-byte chunks;
//! * [`z3fold::Z3foldPool`]: three objects per page in 32-byte chunks, with
//!   in-page compaction.
//!
//! What the pool does for both:
//!
//! * the chunk arithmetic, as provided constants of `PageHeader` computed
//!   from the backend's `CHUNK_SHIFT`;
//! * the page table: a [`RecordTable`] of page addresses, bit 1 set for
//!   headless pages (objects above `PageHeader::MAX_HEADED` take a page of
//!   their own, with no header);
//! * the lists of headed pages indexed by free chunks, linked through the
//!   `Link` at the start of every header; their heads (up to 127 words)
//!   are kept in a provider page, not in the pool, because pools are built
//!   on the kernel stack;
//! * allocation (list first, then a new page allocated outside the lock and
//!   given back if another CPU made room), handle validation, reads and
//!   writes through a pin, freeing a headed or headless object,
//!   `total_pages`, the two pseudo-classes of `class_stats`, `compact` and
//!   `Drop`: the whole [`Zpool`] implementation.
//!
//! What each backend's header decides: its slots, how an object is put into
//! a page and found again (`PageHeader::put`, `PageHeader::start`,
//! `PageHeader::remove`), which list a page belongs on
//! (`PageHeader::free_chunks`), and, for z3fold, pinning and in-page
//! compaction (`PageHeader::pin`, `PageHeader::tidy`).
//!
//! The header trait and its list links are in `header.rs`, the lists of
//! headed pages in `lists.rs`.
//!
//! # Handles
//!
//! A handle carries the index of the page's page-table entry, the object
//! length and the slot tag (`PageHeader::HEADLESS` for a headless page).
//!
//! # Locking
//!
//! `ChunkedPool::state` is the pool lock: it protects the lists, the
//! headers (but for a header's pin count, which is atomic) and the liveness
//! of page-table entries. The page table's own lock is a leaf, taken only
//! when the pool lock is not held; the page provider is called with no lock
//! held. Reads and writes locate the object and pin its page under the pool
//! lock, then copy without it. Headless pages have no header: their handles
//! are validated and freed without the pool lock (the driver never frees a
//! handle while it is in use).

mod header;
mod lists;
pub mod z3fold;
pub mod zbud;

#[cfg(test)]
mod tests;

use core::marker::PhantomData;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use super::paged::PagedArray;
use super::table::RecordTable;
use super::zpool::{
    page_to_word, word_to_page, AccessError, AllocError, ClassStats, Handle, Locked, PageProvider,
    PoolLock, Zpool, MAX_HANDLE_INDEX, PAGE_SIZE,
};
use header::{PageHeader, NONE, NO_LIST, ZHDR_CHUNKS};
use lists::Lists;

/// Page-table entry flag of headless pages: pages are 4 KiB aligned, so the
/// low bits of an entry are free; bit 0 is the record table's own.
const E_HEADLESS: usize = 0b10;
/// Number of list heads kept: one per free-chunk count of the backend with
/// the most chunks (z3fold, 127), rounded up. The heads take one page.
const MAX_LISTS: usize = 128;

// Page indices are `u32`, so every one of them fits a handle.
const _: () = assert!(u32::MAX as usize <= MAX_HANDLE_INDEX);

/// A chunked pool: zbud-style or z3fold-style by its page header `H`. See
/// the module documentation.
///
/// # Invariants
///
/// Every live, non-zero page-table entry owns one provider page, headed
/// (with a header of type `H` in chunk 0) or headless (bit
/// `E_HEADLESS`). A headed page is on the list of its
/// `PageHeader::free_chunks` exactly when that is in `1..H::NCHUNKS`.
/// `heads` lives in a provider page owned by the pool and is only accessed
/// with the pool lock (`state`) held, so relaxed ordering suffices; it holds
/// page indices, `NONE` for an empty list. `headed` and `headless` count
/// the pages of each kind.
pub struct ChunkedPool<P: PageProvider, L: PoolLock, H> {
    provider: P,
    table: RecordTable<L, 8>,
    state: Locked<L, Lists>,
    /// Heads of the lists of headed pages by free chunks (1..NCHUNKS; 0 and
    /// the rest unused).
    heads: PagedArray<AtomicU32, MAX_LISTS>,
    headless: AtomicUsize,
    /// Headed pages; changed only under the pool lock, read without it so
    /// that `total_pages` (asked on every write) takes no lock.
    headed: AtomicUsize,
    _header: PhantomData<H>,
}

/// An object located, and its page pinned, for access outside the pool lock;
/// unpins when dropped.
///
/// # Invariants
///
/// `ptr` points at the object, the handle's `len` bytes within one page that
/// stays allocated while the guard lives: a headed page pinned through `hdr`,
/// or a headless page (`hdr` is `None`) that only the handle's owner frees.
struct Pinned<H: PageHeader> {
    hdr: Option<NonNull<H>>,
    ptr: *mut u8,
}

impl<H: PageHeader> Drop for Pinned<H> {
    fn drop(&mut self) {
        if let Some(h) = self.hdr {
            // SAFETY: we pinned `h` (type invariant), so it is still live.
            unsafe { H::unpin(h.as_ptr()) };
        }
    }
}

/// What became of a new page in [`ChunkedPool::alloc_new_page`].
enum NewPage {
    /// The object is in the new page, which the pool now holds.
    Used,
    /// Another CPU made room meanwhile: the object went into this page and
    /// slot instead, and the new page is given back.
    Elsewhere((u32, u8)),
    /// Nothing was placed; the new page is given back.
    Failed,
}

// `PageHeader` is private on purpose: the zbud and z3fold headers are its
// only implementations, and the pool's inner methods are private too.
#[allow(private_bounds)]
impl<P: PageProvider, L: PoolLock, H: PageHeader> ChunkedPool<P, L, H> {
    /// The header's geometry fits the lists and the header fits its chunks.
    const LAYOUT_OK: () = {
        assert!(H::NCHUNKS < MAX_LISTS);
        // Chunk numbers, the page's end included, fit a `u8`.
        assert!(H::NCHUNKS_PAGE <= u8::MAX as usize);
        assert!(MAX_LISTS <= NO_LIST as usize);
        // The heads fit one page, so that `heads` is one slice.
        assert!(MAX_LISTS * core::mem::size_of::<AtomicU32>() <= PAGE_SIZE);
        assert!(core::mem::size_of::<H>() <= ZHDR_CHUNKS * H::CHUNK_SIZE);
        assert!(H::MAX_HEADED < PAGE_SIZE);
    };

    /// Pages of the pool's own metadata: the page table and the list heads.
    #[cfg(test)]
    fn meta_pages(&self) -> usize {
        self.table.pages().saturating_add(self.heads.pages())
    }

    /// Page address of entry `idx`, with the entry's flag bits.
    fn entry(&self, idx: u32) -> Option<usize> {
        let e = self.table.word(idx as usize)?.load(Ordering::Acquire);
        if e & 1 != 0 || e & !(PAGE_SIZE - 1) == 0 {
            return None;
        }
        Some(e)
    }

    /// Header of headed page `idx`.
    fn hdr(&self, idx: u32) -> Option<*mut H> {
        let e = self.entry(idx)?;
        if e & E_HEADLESS != 0 {
            return None;
        }
        Some(word_to_page(e).cast::<H>())
    }

    /// Pointer to the object of headless handle `h`.
    fn headless_ptr(&self, h: Handle) -> Option<*mut u8> {
        let e = self.entry(u32::try_from(h.index()?).ok()?)?;
        let len_ok = h.len() > H::MAX_HEADED && h.len() <= PAGE_SIZE;
        (e & E_HEADLESS != 0 && len_ok).then_some(word_to_page(e))
    }

    /// Validates headed handle `h` (pool lock held, proven by `_st`): its
    /// page is live and its slot holds an object of `h.len()`'s chunks that
    /// lies within the page. Returns the header and the object's offset in
    /// the page.
    fn locate(&self, _st: &Lists, h: Handle) -> Option<(*mut H, usize)> {
        let idx = u32::try_from(h.index()?).ok()?;
        let c = H::chunks(h.len())?;
        let hdr = self.hdr(idx)?;
        // SAFETY: pool lock held and `hdr` is a live headed page.
        let start = usize::from(unsafe { (*hdr).start(h.tag(), c)? });
        // `start` is a `u8` and `len < 2^13` (handle layout), so neither
        // the product nor the sum can overflow. Slots lie after the header
        // and within the page (`PageHeader` contract); checked again here,
        // so that a broken header refuses the handle instead of handing out
        // memory outside the page.
        let off = start * H::CHUNK_SIZE;
        let end = off + h.len();
        (start >= ZHDR_CHUNKS && end <= PAGE_SIZE).then_some((hdr, off))
    }

    /// Locates the object of `h` and pins its page (headless handles need no
    /// lock and no pin).
    fn pin(&self, h: Handle) -> Result<Pinned<H>, AccessError> {
        if h.tag() == H::HEADLESS {
            let ptr = self.headless_ptr(h).ok_or(AccessError::InvalidHandle)?;
            return Ok(Pinned { hdr: None, ptr });
        }
        self.state
            .with(|st| {
                let (hdr, off) = self.locate(st, h)?;
                // SAFETY: pool lock held, `hdr` live; unpinned by the drop of
                // the guard.
                unsafe { H::pin(hdr) };
                Some(Pinned {
                    hdr: NonNull::new(hdr),
                    // SAFETY: `off + len <= PAGE_SIZE` (`locate`).
                    ptr: unsafe { hdr.cast::<u8>().add(off) },
                })
            })
            .ok_or(AccessError::InvalidHandle)
    }

    fn free_page(&self, page: usize) {
        if let Some(p) = NonNull::new(word_to_page(page)) {
            // SAFETY: the caller unpublished the page; it is ours to give back.
            unsafe { self.provider.free_page(p) };
        }
    }

    /// Frees the object in slot `tag` of headed page `idx`, which the caller
    /// validated (pool lock held). If the page empties it is unpublished and
    /// returned, to be given back with [`ChunkedPool::release`] after the
    /// lock is dropped.
    fn free_headed(&self, st: &mut Lists, idx: u32, hdr: *mut H, tag: u8) -> Option<usize> {
        // The slot holds an object (validated by the caller), which `objs`
        // counts (`Lists` invariant); if that were broken, the object stays.
        st.objs = st.objs.checked_sub(1)?;
        self.unlink(st, hdr);
        // SAFETY: pool lock held, live headed page taken off its list.
        if unsafe { H::remove(hdr, tag) } {
            // Unpublish before dropping the lock.
            if let Some(w) = self.table.word(idx as usize) {
                w.store(0, Ordering::Relaxed);
            }
            self.headed.fetch_sub(1, Ordering::Relaxed);
            return Some(page_to_word(hdr.cast::<u8>()));
        }
        // SAFETY: as above; the page is still live.
        unsafe { H::tidy(hdr) };
        self.link(st, idx, hdr);
        None
    }

    /// Unpublishes the page of headless handle `h` and returns it, to be given
    /// back with [`ChunkedPool::release`].
    fn take_headless(&self, h: Handle) -> Option<usize> {
        let idx = h.index()?;
        let p = self.headless_ptr(h)?;
        self.table.word(idx)?.store(0, Ordering::Relaxed);
        self.headless.fetch_sub(1, Ordering::Relaxed);
        Some(page_to_word(p))
    }

    /// Gives back page-table entry `idx` and its unpublished `page`.
    fn release(&self, idx: u32, page: usize) {
        self.table.free(idx as usize);
        self.free_page(page);
    }

    /// Allocates `len` bytes in a new page: headed with `c` chunks, or
    /// headless for `None`. Given back if another CPU made room meanwhile.
    fn alloc_new_page(&self, len: usize, c: Option<u8>) -> Result<Handle, AllocError> {
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
        let Some(c) = c else {
            word.store(page_to_word(page.as_ptr()) | E_HEADLESS, Ordering::Release);
            self.headless.fetch_add(1, Ordering::Relaxed);
            return Handle::pack(idx, len, H::HEADLESS).ok_or(AllocError::NoMemory);
        };
        let hdr = page.as_ptr().cast::<H>();
        // SAFETY: the page is new and ours alone; the header fits chunk 0
        // (`LAYOUT_OK`) and the page is page-aligned.
        unsafe { hdr.write(H::new(c)) };
        let placed = self.state.with(|st| {
            if let Some(p) = self.place(st, c) {
                return NewPage::Elsewhere(p);
            }
            let Some(objs) = st.objs.checked_add(1) else {
                return NewPage::Failed;
            };
            st.objs = objs;
            word.store(page_to_word(page.as_ptr()), Ordering::Release);
            self.headed.fetch_add(1, Ordering::Relaxed);
            self.link(st, idx32, hdr);
            NewPage::Used
        });
        let placed = match placed {
            NewPage::Used => Some((idx32, H::FIRST)),
            NewPage::Elsewhere(p) => {
                self.table.free(idx);
                self.free_page(page_to_word(page.as_ptr()));
                Some(p)
            }
            NewPage::Failed => {
                self.table.free(idx);
                self.free_page(page_to_word(page.as_ptr()));
                None
            }
        };
        let (i, tag) = placed.ok_or(AllocError::NoMemory)?;
        // Cannot fail: `i` is a `u32` (asserted to fit) and `len <= PAGE_SIZE`.
        Handle::pack(i as usize, len, tag).ok_or(AllocError::NoMemory)
    }
}

impl<P: PageProvider, L: PoolLock, H: PageHeader> Zpool for ChunkedPool<P, L, H> {
    type Provider = P;

    fn new(provider: P) -> Option<Self> {
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
            _header: PhantomData,
        })
    }

    fn name(&self) -> &'static str {
        H::NAME
    }

    /// Allocates `len` bytes: in a listed page if one has room, else in a new
    /// page (headless above `PageHeader::MAX_HEADED`).
    fn alloc(&self, len: usize) -> Result<Handle, AllocError> {
        if len == 0 || len > PAGE_SIZE {
            return Err(AllocError::InvalidSize);
        }
        let c = H::chunks(len).filter(|_| len <= H::MAX_HEADED);
        if let Some(c) = c {
            if let Some((idx, tag)) = self.state.with(|st| self.place(st, c)) {
                // Cannot fail: `idx` is a `u32` and `len <= PAGE_SIZE`.
                return Handle::pack(idx as usize, len, tag).ok_or(AllocError::NoMemory);
            }
        }
        self.alloc_new_page(len, c)
    }

    fn write(&self, h: Handle, data: &[u8]) -> Result<(), AccessError> {
        if data.len() != h.len() {
            return Err(AccessError::LengthMismatch);
        }
        let pin = self.pin(h)?;
        // SAFETY: `data.len()` bytes at `pin.ptr`, in a page kept while pinned
        // (`Pinned` invariant); the driver does not use `h` concurrently.
        unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), pin.ptr, data.len()) };
        Ok(())
    }

    fn read<R>(
        &self,
        h: Handle,
        _bounce: &mut [u8; PAGE_SIZE],
        f: impl FnOnce(&[u8]) -> R,
    ) -> Result<R, AccessError> {
        let pin = self.pin(h)?;
        // SAFETY: as in `write`; objects never straddle pages here, and no
        // writer runs concurrently (driver contract).
        let s = unsafe { core::slice::from_raw_parts(pin.ptr, h.len()) };
        Ok(f(s))
    }

    fn free(&self, h: Handle) {
        let Some(idx) = h.index().and_then(|i| u32::try_from(i).ok()) else {
            return;
        };
        let page = if h.tag() == H::HEADLESS {
            // Headless pages have no header to protect: no pool lock.
            self.take_headless(h)
        } else {
            self.state.with(|st| {
                let (hdr, _) = self.locate(st, h)?;
                self.free_headed(st, idx, hdr, h.tag())
            })
        };
        if let Some(p) = page {
            self.release(idx, p);
        }
    }

    fn total_pages(&self) -> usize {
        // Each counts distinct pages, so the sum is at most the number of
        // pages in the machine; saturating keeps a broken count harmless.
        self.headed
            .load(Ordering::Relaxed)
            .saturating_add(self.headless.load(Ordering::Relaxed))
            .saturating_add(self.table.pages())
            .saturating_add(self.heads.pages())
    }

    /// Tidies pages that were pinned when an object was freed. Objects move
    /// only within their page, so no page is freed: always 0.
    fn compact(&self) -> usize {
        if !H::COMPACTS {
            return 0;
        }
        self.table.for_each_live(|i, _| {
            let Ok(idx) = u32::try_from(i) else {
                return;
            };
            self.state.with(|st| {
                // Re-check under the lock: the page may be gone by now.
                if let Some(h) = self.hdr(idx) {
                    self.unlink(st, h);
                    // SAFETY: live header, pool lock held, on no list.
                    unsafe { H::tidy(h) };
                    self.link(st, idx, h);
                }
            });
        });
        0
    }

    fn class_count(&self) -> usize {
        2
    }

    /// Class 0: headed pages of up to `H::SLOTS` objects; class 1: headless
    /// pages.
    fn class_stats(&self, idx: usize) -> Option<ClassStats> {
        let (size, per_page, objs, pages) = match idx {
            0 => {
                let (pages, objs) = self
                    .state
                    .with(|st| (self.headed.load(Ordering::Relaxed), st.objs));
                (H::MAX_HEADED, H::SLOTS, objs, pages)
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
            objs_allocated: pages.saturating_mul(per_page),
            zspages: pages,
            pages,
        })
    }
}

impl<P: PageProvider, L: PoolLock, H> Drop for ChunkedPool<P, L, H> {
    fn drop(&mut self) {
        let provider = &self.provider;
        self.table.for_each_live(|_, p| {
            // SAFETY: records are aligned words; exclusive access in drop.
            let e = unsafe { p.cast::<usize>().read() };
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
