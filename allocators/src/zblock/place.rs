// SPDX-License-Identifier: GPL-2.0
//! Allocation and freeing in a size class of the zblock-style backend: the
//! placement under the class lock, the pages and descriptors obtained
//! without it, and what a free gives back once the lock is dropped.

use core::ptr::NonNull;
use core::sync::atomic::Ordering;

use super::super::zpool::{AllocError, PageProvider, PoolLock};
use super::block::{self, backed_slots, full_map, Block, ClassState, Slot, NONE};
use super::class::{ClassInfo, CLASSES, MAX_BLOCK_PAGES};
use super::{ZblockPool, MAX_BLOCK_ID};

/// What a free or a compaction gives back once the class lock is dropped:
/// pages (as words) and the descriptor of a removed block.
pub(super) struct Release {
    pages: [usize; MAX_BLOCK_PAGES],
    npages: usize,
    block: Option<u32>,
}

/// Outcome of one placement attempt under the class lock.
enum Place {
    /// The object is in slot `.1` of block `.0`.
    Done(u32, usize),
    /// A page is needed first, and a descriptor too if `block`.
    Need { block: bool },
    /// Internal inconsistency: fail the allocation.
    Failed,
}

impl<P: PageProvider, L: PoolLock> ZblockPool<P, L> {
    /// Does what a free or compaction left to do without the class lock.
    pub(super) fn release(&self, r: Release) -> usize {
        // `npages` attached pages were counted in `block_pages`.
        self.block_pages.fetch_sub(r.npages, Ordering::Relaxed);
        self.free_words(r.pages.get(..r.npages).unwrap_or(&[]));
        if let Some(id) = r.block {
            self.blocks.free(id as usize);
        }
        r.npages
    }

    /// Takes the empty block `b` (`id`) out of its class (class lock held).
    pub(super) fn remove_block(
        &self,
        st: &mut ClassState,
        info: &ClassInfo,
        id: u32,
        b: &Block,
    ) -> Release {
        block::unlink(st, |i| self.block(i), b);
        if st.spare == id {
            st.spare = NONE;
        }
        let (pages, npages) = b.attached_pages();
        // The block was counted when it was set up and as pages were
        // attached, so these never go below zero.
        st.blocks = st.blocks.saturating_sub(1);
        st.pages = st.pages.saturating_sub(npages);
        st.slots = st.slots.saturating_sub(backed_slots(npages, info));
        Release {
            pages,
            npages,
            block: Some(id),
        }
    }

    /// Marks slot `s` of block `b` (`id`) allocated (class lock held).
    fn take(&self, st: &mut ClassState, info: &ClassInfo, id: u32, b: &Block, s: usize) -> Place {
        let Some(bit) = 1u64.checked_shl(s as u32) else {
            return Place::Failed;
        };
        let used = b.used.load(Ordering::Relaxed) | bit;
        b.used.store(used, Ordering::Release);
        st.inuse = st.inuse.saturating_add(1);
        if st.spare == id {
            st.spare = NONE;
        }
        if used == full_map(info.objs) {
            block::unlink(st, |i| self.block(i), b);
        }
        Place::Done(id, s)
    }

    /// One attempt to place an object in class `c` (lock held: `st`): the
    /// lowest free slot of the first listed block, attaching `*page` to it
    /// if that slot needs one, else a new block made of `*fresh` and
    /// `*page`. What it uses is taken out of the options.
    fn place(
        &self,
        st: &mut ClassState,
        c: usize,
        page: &mut Option<NonNull<u8>>,
        fresh: &mut Option<u32>,
    ) -> Place {
        let Some(info) = CLASSES.get(c) else {
            return Place::Failed;
        };
        let head = st.head;
        if let Some(b) = self.block(head) {
            return match b.free_slot(info) {
                Slot::Attached(s) => self.take(st, info, head, b, s),
                Slot::NeedsPage(s) => {
                    let Some(p) = page.take() else {
                        return Place::Need { block: false };
                    };
                    if !b.attach(p.as_ptr(), info) {
                        *page = Some(p);
                        return Place::Failed;
                    }
                    let a = b.attached.load(Ordering::Relaxed) as usize;
                    st.pages = st.pages.saturating_add(1);
                    st.slots = st
                        .slots
                        .saturating_add(backed_slots(a, info))
                        .saturating_sub(backed_slots(a.saturating_sub(1), info));
                    self.block_pages.fetch_add(1, Ordering::Relaxed);
                    self.take(st, info, head, b, s)
                }
                // A listed block has a free slot (invariant).
                Slot::Full => Place::Failed,
            };
        }
        let (Some(p), Some(id)) = (*page, *fresh) else {
            return Place::Need { block: true };
        };
        let Some(b) = self.block(id) else {
            return Place::Failed;
        };
        *page = None;
        *fresh = None;
        // `c < NR_CLASSES < 255`.
        b.init(p.as_ptr(), c as u8);
        block::link(st, |i| self.block(i), id, b);
        st.blocks = st.blocks.saturating_add(1);
        st.pages = st.pages.saturating_add(1);
        st.slots = st.slots.saturating_add(backed_slots(1, info));
        self.block_pages.fetch_add(1, Ordering::Relaxed);
        self.take(st, info, id, b, 0)
    }

    /// A descriptor record for a new block, or `None` if the table cannot
    /// grow or the id would not fit a handle.
    fn new_block(&self) -> Option<u32> {
        let id = self.blocks.alloc(&self.provider)?;
        if id > MAX_BLOCK_ID {
            self.blocks.free(id);
            return None;
        }
        u32::try_from(id).ok()
    }

    /// Places an object in class `c`; returns its block and slot. Pages and
    /// a descriptor are obtained without the class lock when needed and
    /// given back if another CPU made room meanwhile. Each round either
    /// finishes or obtains something, so there are at most three.
    pub(super) fn alloc_in_class(&self, c: usize) -> Result<(u32, usize), AllocError> {
        let class = self.classes.get(c).ok_or(AllocError::InvalidSize)?;
        let mut page = None;
        let mut fresh = None;
        let r = loop {
            match class.with(|st| self.place(st, c, &mut page, &mut fresh)) {
                Place::Done(id, s) => break Ok((id, s)),
                Place::Failed => break Err(AllocError::NoMemory),
                Place::Need { block } => {
                    if page.is_none() {
                        page = self.provider.alloc_page();
                        if page.is_none() {
                            break Err(AllocError::NoMemory);
                        }
                    }
                    if block && fresh.is_none() {
                        fresh = self.new_block();
                        if fresh.is_none() {
                            break Err(AllocError::NoMemory);
                        }
                    }
                }
            }
        };
        if let Some(id) = fresh {
            self.blocks.free(id as usize);
        }
        if let Some(p) = page {
            // SAFETY: a provider page we got above and did not hand on.
            unsafe { self.provider.free_page(p) };
        }
        r
    }

    /// Frees slot `s` of block `id` in class `c`, if allocated. Class lock
    /// held (`st`). Returns what to give back once the lock is dropped, if
    /// anything (the block emptied).
    pub(super) fn free_slot(
        &self,
        st: &mut ClassState,
        c: usize,
        id: u32,
        s: usize,
    ) -> Option<Release> {
        let info = CLASSES.get(c)?;
        let b = self.live_block(id)?;
        if b.class.load(Ordering::Relaxed) as usize != c || s >= info.objs {
            return None;
        }
        let bit = 1u64.checked_shl(s as u32)?;
        let used = b.used.load(Ordering::Relaxed);
        if used & bit == 0 {
            return None;
        }
        let now = used & !bit;
        b.used.store(now, Ordering::Release);
        st.inuse = st.inuse.saturating_sub(1);
        if used == full_map(info.objs) {
            block::link(st, |i| self.block(i), id, b);
        }
        if now != 0 {
            // The common case: nothing to give back.
            return None;
        }
        let alone = st.head == id && b.next.load(Ordering::Relaxed) == NONE;
        if !alone {
            return Some(self.remove_block(st, info, id, b));
        }
        // The class's only block with room: keep it, with its first page.
        st.spare = id;
        let (pages, npages) = b.detach_tail();
        st.pages = st.pages.saturating_sub(npages);
        st.slots = st
            .slots
            .saturating_sub(backed_slots(npages.saturating_add(1), info))
            .saturating_add(backed_slots(1, info));
        Some(Release {
            pages,
            npages,
            block: None,
        })
    }
}
