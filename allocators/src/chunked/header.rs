// SPDX-License-Identifier: GPL-2.0
//! The in-page header that each chunked backend defines, its list links and
//! the chunk geometry derived from its `CHUNK_SHIFT`.

use super::super::zpool::PAGE_SIZE;

/// Chunks reserved for the header: one, which every header fits (checked
/// in [`super::ChunkedPool::LAYOUT_OK`]), so the first object starts at
/// chunk 1.
pub(super) const ZHDR_CHUNKS: usize = 1;
/// Page index meaning "no page" in the list links (page indices are `u32`).
pub(super) const NONE: u32 = u32::MAX;
/// `Link::list` of a page on no list (list numbers are below 128).
pub(super) const NO_LIST: u8 = u8::MAX;

/// List links, the first field of every header (`#[repr(C)]`, offset 0).
///
/// # Invariants
///
/// Only accessed with the pool lock held. `list` is the list the page is on
/// (its [`PageHeader::free_chunks`] when it was linked) or `NO_LIST`;
/// `next`/`prev` are page indices, `NONE` at the ends.
#[repr(C)]
pub(super) struct Link {
    pub(super) next: u32,
    pub(super) prev: u32,
    pub(super) list: u8,
}

impl Link {
    /// Links of a page on no list, for a new header.
    pub(super) const fn new() -> Self {
        Self {
            next: NONE,
            prev: NONE,
            list: NO_LIST,
        }
    }
}

/// The in-page header of a chunked backend, and its chunk geometry.
///
/// Chunk counts are `u8`: a page has at most 128 chunks (checked in
/// [`super::ChunkedPool::LAYOUT_OK`]), and a slot count of 0 means "free".
///
/// # Safety
///
/// Implementors are `#[repr(C)]` with a [`Link`] as their first field, so a
/// header pointer is also a pointer to its links. [`PageHeader::start`]
/// names only objects that [`PageHeader::put`] placed and
/// [`PageHeader::remove`] has not removed, and the objects of one page never
/// overlap each other or the header chunk.
pub(super) unsafe trait PageHeader: Sized + Send + Sync {
    /// Backend name, as in [`super::super::any::Backend::name`].
    const NAME: &'static str;
    /// log2 of the chunk size.
    const CHUNK_SHIFT: usize;
    /// Objects a headed page can hold (for [`ClassStats`]).
    const SLOTS: usize;
    /// Handle tag of the object a new page starts with ([`PageHeader::new`]).
    const FIRST: u8;
    /// Handle tag of a headless object.
    const HEADLESS: u8;
    /// Whether [`PageHeader::tidy`] can still do something for a page that
    /// was busy when an object was freed, so that [`Zpool::compact`] should
    /// visit the pages.
    const COMPACTS: bool = false;
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
    fn new(c: u8) -> Self;

    /// The free list the page belongs on: the number of chunks the largest
    /// new object can take, or 0 (or `NCHUNKS`, for an empty page) for none.
    fn free_chunks(&self) -> usize;

    /// The chunk where the object in slot `tag` starts, if that slot holds
    /// an object of `c` chunks (`c` is never 0: see [`PageHeader::chunks`]).
    fn start(&self, tag: u8, c: u8) -> Option<u8>;

    /// Puts an object of `c` chunks into the page and returns its slot tag;
    /// `None` (and the page unchanged) if the header turns out to have no
    /// free slot of that size after all, which its invariant rules out.
    ///
    /// # Safety
    ///
    /// Pool lock held; `h` is a live header on no list whose
    /// [`PageHeader::free_chunks`] is at least `c`.
    unsafe fn put(h: *mut Self, c: u8) -> Option<u8>;

    /// Empties slot `tag` (validated by the caller); true if the page is now
    /// empty.
    ///
    /// # Safety
    ///
    /// Pool lock held; `h` is a live header on no list.
    unsafe fn remove(h: *mut Self, tag: u8) -> bool;

    /// Tidies a page after a removal that left it non-empty, before it is
    /// listed again, and in [`Zpool::compact`] (z3fold moves its middle
    /// object).
    ///
    /// # Safety
    ///
    /// As for [`PageHeader::remove`].
    unsafe fn tidy(_h: *mut Self) {}

    /// Marks an object of the page as in use outside the pool lock, so that
    /// [`PageHeader::tidy`] leaves the page alone.
    ///
    /// # Safety
    ///
    /// Pool lock held; `h` is a live header. The page stays live until the
    /// matching [`PageHeader::unpin`].
    unsafe fn pin(_h: *mut Self) {}

    /// Undoes one [`PageHeader::pin`].
    ///
    /// # Safety
    ///
    /// `h` was pinned by this caller; no lock needs to be held.
    unsafe fn unpin(_h: *mut Self) {}

    /// Chunks taken by an object of `len` bytes; `None` for 0 bytes or for
    /// more than 255 chunks (more than a page: such an object is headless).
    fn chunks(len: usize) -> Option<u8> {
        u8::try_from(len.div_ceil(Self::CHUNK_SIZE))
            .ok()
            .filter(|&c| c != 0)
    }
}
