// SPDX-License-Identifier: GPL-2.0
//! Block descriptors of the zblock-style backend, their slots, and the
//! per-class list of blocks with a free slot. Everything here runs with the
//! owning class lock held, except the loads that `ZblockPool::locate` makes
//! to validate a handle and find its pages (which is why every field is an
//! atomic: shared references to a descriptor are handed out freely, and a
//! field changed under the lock may be read outside it).

use core::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering};

use super::super::zpool::{page_to_word, word_to_page, PAGE_SIZE};
use super::class::{ClassInfo, MAX_BLOCK_PAGES};

/// "No block" in list links and list heads; block ids stay below it.
pub(crate) const NONE: u32 = u32::MAX;

/// Descriptor of one block: a record of the pool's block table.
///
/// # Invariants
///
/// While the record is live (between `RecordTable::alloc` and `free`) and
/// initialised by [`Block::init`]:
/// * `1 <= attached <= pages` of its class, and `pages[..attached]` hold
///   provider pages owned by the block (as [`page_to_word`] words), the rest
///   zero; `pages[0]` is non-zero, so the table's first word stays even.
/// * Bit `i` of `used` is set exactly when slot `i` is allocated; only bits
///   below the class's slot count are ever set, and every allocated slot lies
///   within the attached pages.
/// * `listed` is 1 exactly when the block has a free slot, and then
///   `next`/`prev` link it into its class's list.
#[repr(C)]
pub(crate) struct Block {
    /// The block's pages in stream order; `pages[0]` is the record's first
    /// word, which the table uses for its free list.
    pages: [AtomicUsize; MAX_BLOCK_PAGES],
    /// Map of allocated slots.
    pub(crate) used: AtomicU64,
    /// Next block on the class's list, or [`NONE`].
    pub(crate) next: AtomicU32,
    /// Previous block on the class's list, or [`NONE`].
    pub(crate) prev: AtomicU32,
    /// Owning size class.
    pub(crate) class: AtomicU8,
    /// Attached pages: the non-zero prefix of `pages`.
    pub(crate) attached: AtomicU8,
    /// 1 while on the class's list.
    listed: AtomicU8,
}

/// Size of a block descriptor record.
pub(crate) const BLOCK_SIZE: usize = core::mem::size_of::<Block>();
// `%`, not `is_multiple_of` (const only from rustc 1.87; Debian's kernel
// is built with 1.85).
#[allow(clippy::manual_is_multiple_of)]
const _: () = assert!(BLOCK_SIZE % 8 == 0 && core::mem::align_of::<Block>() <= 8);

/// Where the next object of a block goes.
pub(crate) enum Slot {
    /// Slot `.0` lies in attached pages.
    Attached(usize),
    /// Slot `.0` needs one more page attached.
    NeedsPage(usize),
    /// Every slot is allocated.
    Full,
}

/// The map of a block whose `slots` slots are all allocated.
pub(crate) fn full_map(slots: usize) -> u64 {
    u64::MAX
        .checked_shr(u64::BITS.saturating_sub(slots as u32))
        .unwrap_or(0)
}

/// Slots of `info` lying entirely in the first `attached` pages.
pub(crate) fn backed_slots(attached: usize, info: &ClassInfo) -> usize {
    attached
        .saturating_mul(PAGE_SIZE)
        .checked_div(info.size)
        .unwrap_or(0)
        .min(info.objs)
}

/// State of one size class, protected by the class lock.
///
/// # Invariants
///
/// `head` starts the list of the class's blocks that have a free slot
/// (linked through `next`/`prev`). `spare` is [`NONE`] or a listed block of
/// the class with no object and only its first page attached; no other
/// block of the class is empty. The counters add up the class's blocks.
pub(crate) struct ClassState {
    /// First block with a free slot, or [`NONE`].
    pub(crate) head: u32,
    /// The empty block kept for the next allocation, or [`NONE`].
    pub(crate) spare: u32,
    /// Blocks held.
    pub(crate) blocks: usize,
    /// Objects allocated.
    pub(crate) inuse: usize,
    /// Slots lying entirely in attached pages, in all blocks.
    pub(crate) slots: usize,
    /// Attached pages in all blocks.
    pub(crate) pages: usize,
    /// Fills the state to 56 bytes: with the lock word (8 bytes in the
    /// kernel, a flag on the host) a class takes one 64-byte line of the
    /// page-aligned class array, so two CPUs working in neighbouring classes
    /// (neighbouring object sizes) do not pass one cache line back and forth.
    _pad: [usize; 2],
}

const _: () = assert!(core::mem::size_of::<ClassState>() == 56);

impl ClassState {
    /// An empty class.
    pub(crate) const fn new() -> Self {
        Self {
            head: NONE,
            spare: NONE,
            blocks: 0,
            inuse: 0,
            slots: 0,
            pages: 0,
            _pad: [0; 2],
        }
    }
}

impl Block {
    /// Attached page `i`, or `None` past the attached ones.
    pub(crate) fn page(&self, i: usize) -> Option<*mut u8> {
        match self.pages.get(i)?.load(Ordering::Acquire) {
            0 => None,
            w => Some(word_to_page(w)),
        }
    }

    /// Attached pages, as words, with their count.
    pub(crate) fn attached_pages(&self) -> ([usize; MAX_BLOCK_PAGES], usize) {
        let mut out = [0; MAX_BLOCK_PAGES];
        let n = self.attached.load(Ordering::Relaxed) as usize;
        for (o, p) in out.iter_mut().zip(&self.pages).take(n) {
            *o = p.load(Ordering::Relaxed);
        }
        (out, n)
    }

    /// Sets up a fresh block of class `class` with `page` as its first page
    /// and no slot allocated; it is on no list yet. The caller owns the
    /// record and the page.
    pub(crate) fn init(&self, page: *mut u8, class: u8) {
        for p in self.pages.iter().skip(1) {
            p.store(0, Ordering::Relaxed);
        }
        self.used.store(0, Ordering::Relaxed);
        self.next.store(NONE, Ordering::Relaxed);
        self.prev.store(NONE, Ordering::Relaxed);
        self.class.store(class, Ordering::Relaxed);
        self.attached.store(1, Ordering::Relaxed);
        self.listed.store(0, Ordering::Relaxed);
        if let Some(p0) = self.pages.first() {
            p0.store(page_to_word(page), Ordering::Release);
        }
    }

    /// The lowest free slot and whether it lies in attached pages.
    pub(crate) fn free_slot(&self, info: &ClassInfo) -> Slot {
        let used = self.used.load(Ordering::Relaxed);
        if used == full_map(info.objs) {
            return Slot::Full;
        }
        // Bits at and above `info.objs` are clear (invariant) and one below
        // is clear too, so the lowest clear bit is a slot of the block.
        let s = (!used).trailing_zeros() as usize;
        let attached = self.attached.load(Ordering::Relaxed) as usize;
        // `s < slots <= MAX_SLOTS` and `size <= PAGE_SIZE`: no overflow.
        match s.checked_add(1).and_then(|n| n.checked_mul(info.size)) {
            Some(end) if end <= attached * PAGE_SIZE => Slot::Attached(s),
            Some(_) => Slot::NeedsPage(s),
            None => Slot::Full,
        }
    }

    /// Attaches `page` as the block's next page; false (and nothing changed)
    /// if the class's block length is reached. The block takes the page
    /// over on success.
    pub(crate) fn attach(&self, page: *mut u8, info: &ClassInfo) -> bool {
        let a = self.attached.load(Ordering::Relaxed) as usize;
        if a >= info.pages {
            return false;
        }
        let Some(slot) = self.pages.get(a) else {
            return false;
        };
        slot.store(page_to_word(page), Ordering::Release);
        // `a < info.pages <= MAX_BLOCK_PAGES <= u8::MAX`.
        self.attached.store((a + 1) as u8, Ordering::Relaxed);
        true
    }

    /// Detaches every page but the first from an empty block; returns them
    /// (from index 0 on) and their count.
    pub(crate) fn detach_tail(&self) -> ([usize; MAX_BLOCK_PAGES], usize) {
        let mut out = [0; MAX_BLOCK_PAGES];
        let n = self.attached.load(Ordering::Relaxed) as usize;
        let tail = self.pages.iter().take(n).skip(1);
        let k = tail.len();
        for (o, p) in out.iter_mut().zip(tail) {
            *o = p.swap(0, Ordering::Relaxed);
        }
        self.attached.store(1, Ordering::Relaxed);
        (out, k)
    }
}

/// Puts block `id` (`b`) at the head of its class's list (no-op if listed);
/// `blocks` looks a block up by id.
pub(crate) fn link<'a>(
    st: &mut ClassState,
    blocks: impl Fn(u32) -> Option<&'a Block>,
    id: u32,
    b: &Block,
) {
    if b.listed.swap(1, Ordering::Relaxed) != 0 {
        return;
    }
    b.prev.store(NONE, Ordering::Relaxed);
    b.next.store(st.head, Ordering::Relaxed);
    if let Some(n) = blocks(st.head) {
        n.prev.store(id, Ordering::Relaxed);
    }
    st.head = id;
}

/// Takes block `b` off its class's list (no-op if not listed).
pub(crate) fn unlink<'a>(
    st: &mut ClassState,
    blocks: impl Fn(u32) -> Option<&'a Block>,
    b: &Block,
) {
    if b.listed.swap(0, Ordering::Relaxed) == 0 {
        return;
    }
    let prev = b.prev.load(Ordering::Relaxed);
    let next = b.next.load(Ordering::Relaxed);
    match blocks(prev) {
        Some(p) => p.next.store(next, Ordering::Relaxed),
        None => st.head = next,
    }
    if let Some(n) = blocks(next) {
        n.prev.store(prev, Ordering::Relaxed);
    }
}
