// SPDX-License-Identifier: GPL-2.0
//! zsmalloc-style backend: size classes, multi-page zspages, objects that
//! straddle pages, handle indirection and compaction.
//!
//! # Layout
//!
//! An object of `len` bytes goes into the size class whose slot fits
//! `len + 4` (see `zsmalloc/class.rs`: 16-byte steps, the zspage length
//! with the least waste repeated up to 12 pages, neighbours with the same
//! layout merged). A zspage is a byte stream over its pages; slot `i` starts
//! at `i * size` and may cross into the next page:
//!
//! ```text
//!  page 0                          page 1                  page 2 ...
//! +--------+--------+--------+----+---+--------+-----  - - - - - - - -
//! |h| obj 0|h| obj 1|h| obj 2|h| ob|j 3|h| obj 4|      : not attached :
//! +--------+--------+--------+----+---+--------+-----  - - - - - - - -
//! h = 4-byte header: allocated  (handle index << 1) | 1
//!                    free       (next free object << 1)
//! ```
//!
//! # Lazily attached pages
//!
//! The slot layout covers all the zspage's pages, but only a prefix of them
//! is attached (`backed`). Slots are handed out from the zspage's free list
//! of recycled slots first, else from a bump index `next_fresh`; fresh slots
//! have no header until used. When the next fresh slot reaches into an
//! unattached page, one more page is attached (a slot is under 4 KiB, so
//! one page is always enough, and a slot straddling into it gets both of its
//! pages). A new zspage starts with one page. So a class's never-used slots
//! cost at most part of one page, instead of up to a whole zspage, and long
//! zspages (small tail waste, few descriptors) are cheap in small pools.
//!
//! Only a class's *growing* zspage has fresh slots: a new zspage is set up
//! only when no zspage of the class has a free or fresh slot, so there is at
//! most one (`ClassState::growing`). Allocation prefers a free slot in
//! attached pages (fullest group first); only the growing zspage can lack
//! one. Compaction moves objects only into free slots of attached pages (it
//! holds a class lock, so it cannot get pages), and frees an emptied
//! zspage's attached pages. Class statistics count attached pages and the
//! slots that lie entirely in them.
//!
//! Zspage descriptors (page list, fullness-list links, free list head, fresh
//! index, attached count, pin count; 120 bytes) live in a [`RecordTable`] of
//! their own, so pages hold only objects. Objects whose slot reaches
//! [`class::HUGE_SLOT`] (3792 bytes) take a page each, without header or
//! descriptor.
//!
//! # Handles
//!
//! The handle carries the index of a handle-table entry, the length and the
//! class (tag 255 = huge). The entry (one word, in a second [`RecordTable`])
//! holds the object's current location, which compaction rewrites:
//!
//! ```text
//! 0                                   reserved (allocated, not yet placed)
//! zspage id << 15 | object << 3 | 0b010   object in a zspage
//! page address | 0b100                    huge object
//! ```
//!
//! # Locking
//!
//! One lock per size class protects its fullness lists, its zspage
//! descriptors, object headers and the handle entries of its objects. The two
//! tables have their own leaf locks. Lock order: a class lock may be held
//! while taking nothing else; the table locks are taken only when no class
//! lock is held. No two class locks are ever held together, so compaction
//! works one class at a time. The page provider is never called with a lock
//! held: a page to attach (and a descriptor for a new zspage) is obtained
//! outside the class lock, then used under it or given back if another CPU
//! made room meanwhile (`zsmalloc/place.rs`). Attaching writes only the
//! unattached entry of the page list, which no reader looks at.
//!
//! Readers and writers raise the zspage's pin count and then copy outside
//! any lock. They find the object through its handle entry without the
//! class lock, raise the pin and check that the entry did not change; if
//! compaction is emptying that zspage they back off and look it up under the
//! class lock instead (`pin_fast`). Compaction claims a zspage only when
//! its pin count is zero, so it never takes objects out of a pinned one.
//! Huge objects never move and need no lock.

pub mod class;
mod compact;
mod place;
mod zspage;

use core::ptr::NonNull;
use core::sync::atomic::{AtomicUsize, Ordering};

use super::paged::PagedArray;
use super::table::RecordTable;
use super::zpool::{
    copy_streams, page_to_word, word_to_page, AccessError, AllocError, ClassStats, Handle, Locked,
    PageProvider, PoolLock, Zpool, PAGE_SIZE,
};
use class::{class_for, SizeClass, CLASSES, DESC_SIZE, MAX_PAGES, NR_CLASSES, OBJ_HEADER};
use zspage::{ClassState, Zspage, NONE};

/// Handle tag of huge objects (classes use 0..NR_CLASSES).
const HUGE_TAG: u8 = u8::MAX;
/// Handle-entry kind bits (bit 0 stays clear for the record table).
const E_KIND: usize = 0b110;
const E_ZS: usize = 0b010;
const E_HUGE: usize = 0b100;
/// Object index field of an entry: 12 bits, as a zspage has ≤ 4096 objects.
const E_OBJ_SHIFT: u32 = 3;
const E_OBJ_MASK: usize = 0xfff;
const E_ID_SHIFT: u32 = 15;
const _: () = assert!(class::MAX_OBJS <= E_OBJ_MASK + 1);
const _: () = assert!(class::MAX_OBJS < zspage::NO_OBJ as usize);

/// Offset of the payload of object `obj` in a zspage stream of `size`-byte
/// slots. `obj <= E_OBJ_MASK` and `size <= PAGE_SIZE` for every caller, so
/// it never fails; checked so that a forged entry cannot overflow.
fn payload_offset(obj: usize, size: usize) -> Option<usize> {
    obj.checked_mul(size)?.checked_add(OBJ_HEADER)
}

fn enc_zs(id: u32, obj: usize) -> usize {
    ((id as usize) << E_ID_SHIFT) | (obj << E_OBJ_SHIFT) | E_ZS
}

/// An emptied zspage taken out of its class: descriptor id, pages, attached
/// page count.
type Empty = (u32, [*mut u8; MAX_PAGES], usize);

/// A pinned object: the zspage cannot lose it to compaction until dropped.
///
/// # Invariants
///
/// `d` is a live zspage whose `pin` count this guard raised (and drops in
/// `drop`), and it holds the object whose payload starts at `off` in its
/// stream, in attached pages: `off + len <= backed * PAGE_SIZE` for the
/// handle's `len`. A pinned zspage is never claimed by compaction, so the
/// object neither moves nor goes away while the guard lives.
struct Pinned {
    d: *mut Zspage,
    /// Object payload start in the zspage stream.
    off: usize,
}

impl Drop for Pinned {
    fn drop(&mut self) {
        // SAFETY: the zspage holds the pinned object, so it stays live until
        // the pin is dropped; `pin` is atomic.
        unsafe { (*self.d).pin.fetch_sub(1, Ordering::Release) };
    }
}

/// zsmalloc-style pool. See the module documentation.
///
/// # Invariants
///
/// Every live descriptor of `descs` is a zspage of the class it names, on the
/// fullness list of its fullness or full; every handle entry of kind zspage
/// points at an allocated object whose header names the entry; every huge
/// entry owns a provider page. `zspage_pages` (attached zspage pages) and
/// `huge` count those pages.
pub struct ZsPool<P: PageProvider, L: PoolLock> {
    provider: P,
    handles: RecordTable<L, 8>,
    descs: RecordTable<L, DESC_SIZE>,
    /// Per-class state, out of line: inline it would make the pool ~13 KiB,
    /// too big to build on a kernel stack (see `paged.rs`).
    classes: PagedArray<Locked<L, ClassState>, NR_CLASSES>,
    zspage_pages: AtomicUsize,
    huge: AtomicUsize,
}

impl<P: PageProvider, L: PoolLock> ZsPool<P, L> {
    fn free_pages(&self, pages: &[*mut u8]) {
        for &p in pages {
            if let Some(p) = NonNull::new(p) {
                // SAFETY: every non-null pointer passed here is a provider
                // page that the caller owns and no longer uses.
                unsafe { self.provider.free_page(p) };
            }
        }
    }

    /// Takes the empty zspage `d` out of its class, whose slots are `size`
    /// bytes (class lock held).
    fn remove_zspage(&self, st: &mut ClassState, size: usize, id: u32, d: *mut Zspage) -> Empty {
        if st.growing == id {
            st.growing = NONE;
        }
        // SAFETY: `d` is a live, empty zspage of the locked class.
        unsafe {
            zspage::unlink(st, &self.descs, d);
            let n = usize::from((*d).backed);
            // The class counts include this zspage, its attached pages and
            // their slots, added when it was set up and as its pages were
            // attached (`ClassState` invariant, `place` and
            // `zspage::attach`): no underflow.
            st.zspages -= 1;
            st.slots -= zspage::backed_slots(n, size, usize::from((*d).objs));
            st.pages -= n;
            (id, (*d).pages, n)
        }
    }

    /// Gives an emptied zspage back (no lock held); returns its page count.
    fn release_zspage(&self, (id, pages, n): Empty) -> usize {
        self.zspage_pages.fetch_sub(n, Ordering::Relaxed);
        self.descs.free(id as usize);
        self.free_pages(pages.get(..n).unwrap_or(&[]));
        n
    }

    /// Looks up a zspage object under the class lock. Returns the descriptor
    /// id, descriptor and object index.
    fn lookup(&self, h: Handle, c: usize, idx: usize) -> Option<(u32, *mut Zspage, usize)> {
        let e = self.handles.word(idx)?.load(Ordering::Acquire);
        if e & E_KIND != E_ZS || e & 1 != 0 {
            return None;
        }
        let id = u32::try_from(e >> E_ID_SHIFT).ok()?;
        let obj = (e >> E_OBJ_SHIFT) & E_OBJ_MASK;
        let d = zspage::live_desc(&self.descs, id)?;
        let info = CLASSES.get(c)?;
        // For a valid handle `d` belongs to class `c` (see the `Zpool` contract
        // about stale handles).
        // SAFETY: `d` is a live descriptor of a class whose lock the caller holds.
        unsafe {
            if usize::from((*d).class) != c
                || obj >= usize::from((*d).next_fresh)
                || h.len().checked_add(OBJ_HEADER)? > info.size
            {
                return None;
            }
            if zspage::header(d, info.size, obj) != zspage::used_header(idx) {
                return None;
            }
        }
        Some((id, d, obj))
    }

    /// Pins the object of `h` for access outside the class lock: without the
    /// lock when possible (`pin_fast`), else under it.
    fn pin(&self, h: Handle) -> Result<Pinned, AccessError> {
        let idx = h.index().ok_or(AccessError::InvalidHandle)?;
        let c = h.tag() as usize;
        let size = CLASSES.get(c).ok_or(AccessError::InvalidHandle)?.size;
        if let Some(p) = self.pin_fast(h, c, size, idx) {
            return Ok(p);
        }
        let class = self.classes.get(c).ok_or(AccessError::InvalidHandle)?;
        class.with(|_st| {
            let (_, d, obj) = self.lookup(h, c, idx).ok_or(AccessError::InvalidHandle)?;
            let off = payload_offset(obj, size).ok_or(AccessError::InvalidHandle)?;
            // SAFETY: `d` is live and holds the object (checked under lock).
            unsafe { (*d).pin.fetch_add(1, Ordering::Relaxed) };
            Ok(Pinned { d, off })
        })
    }

    /// Pins the object of `h` without the class lock, or returns `None` to
    /// leave it to the locked path: compaction is moving objects out of the
    /// zspage, the entry changed meanwhile, or the handle does not check out.
    ///
    /// The pin is raised on the zspage the entry names, then the entry is
    /// read again. Compaction claims a zspage only while its pin is zero and
    /// rewrites entries before it releases the claim, both on that one
    /// atomic: so either the claim fails because of this pin, or this pin
    /// sees the claim (and backs off), or it comes after the release and the
    /// second read sees where the object went. An unchanged entry therefore
    /// names a zspage that holds the object and cannot lose it while pinned.
    /// If the zspage was freed meanwhile, only the record's `pin` word, which
    /// outlives it, was touched (see `zspage::init`).
    fn pin_fast(&self, h: Handle, c: usize, size: usize, idx: usize) -> Option<Pinned> {
        let entry = self.handles.word(idx)?;
        let e = entry.load(Ordering::Acquire);
        if e & E_KIND != E_ZS || e & 1 != 0 {
            return None;
        }
        let id = u32::try_from(e >> E_ID_SHIFT).ok()?;
        let obj = (e >> E_OBJ_SHIFT) & E_OBJ_MASK;
        let off = payload_offset(obj, size)?;
        let d = zspage::desc(&self.descs, id)?;
        // SAFETY: descriptor records live as long as the table; `pin` is an
        // atomic that no other code writes non-atomically (`zspage::init`).
        let before = unsafe { (*d).pin.fetch_add(1, Ordering::AcqRel) };
        // From here on the drop of `pinned` undoes the pin.
        let pinned = Pinned { d, off };
        if before & zspage::MIGRATING != 0 || entry.load(Ordering::Acquire) != e {
            return None;
        }
        // By the argument above `d` is a live zspage that holds the object
        // and whose set-up is visible (the entry was stored after it with
        // release ordering); `class` and the object's header change only
        // when the record is reused or the object freed or moved.
        // SAFETY: `d` is live and pinned, so these reads see its fields.
        let ok = unsafe {
            usize::from((*d).class) == c
                && h.len().checked_add(OBJ_HEADER).is_some_and(|l| l <= size)
                && zspage::header(d, size, obj) == zspage::used_header(idx)
        };
        ok.then_some(pinned)
    }

    /// Page of a huge object.
    fn huge_page(&self, h: Handle) -> Result<*mut u8, AccessError> {
        let idx = h.index().ok_or(AccessError::InvalidHandle)?;
        let e = self
            .handles
            .word(idx)
            .ok_or(AccessError::InvalidHandle)?
            .load(Ordering::Acquire);
        if e & E_KIND != E_HUGE || e & 1 != 0 {
            return Err(AccessError::InvalidHandle);
        }
        Ok(word_to_page(e))
    }
}

impl<P: PageProvider, L: PoolLock> Zpool for ZsPool<P, L> {
    type Provider = P;

    fn new(provider: P) -> Option<Self> {
        let handles = RecordTable::new()?;
        let descs = RecordTable::new()?;
        // Last, so that nothing after it can fail and leak its pages.
        let classes = PagedArray::new(&provider, |_| Locked::new(ClassState::new()))?;
        Some(Self {
            provider,
            handles,
            descs,
            classes,
            zspage_pages: AtomicUsize::new(0),
            huge: AtomicUsize::new(0),
        })
    }

    fn name(&self) -> &'static str {
        "zsmalloc"
    }

    fn alloc(&self, len: usize) -> Result<Handle, AllocError> {
        if len == 0 || len > PAGE_SIZE {
            return Err(AllocError::InvalidSize);
        }
        let class = class_for(len);
        let tag = match class {
            // `c < NR_CLASSES < 255` (asserted in `class.rs`): exact.
            SizeClass::Class(c) => c as u8,
            SizeClass::Huge => HUGE_TAG,
        };
        let idx = self
            .handles
            .alloc(&self.provider)
            .ok_or(AllocError::NoMemory)?;
        let Some(h) = Handle::pack(idx, len, tag) else {
            self.handles.free(idx);
            return Err(AllocError::NoMemory);
        };
        let r = match class {
            SizeClass::Class(c) => self.alloc_in_class(c, idx),
            SizeClass::Huge => match (self.provider.alloc_page(), self.handles.word(idx)) {
                (Some(p), Some(e)) => {
                    e.store(page_to_word(p.as_ptr()) | E_HUGE, Ordering::Release);
                    self.huge.fetch_add(1, Ordering::Relaxed);
                    Ok(())
                }
                (p, _) => {
                    self.free_pages(&[p.map_or(core::ptr::null_mut(), |p| p.as_ptr())]);
                    Err(AllocError::NoMemory)
                }
            },
        };
        match r {
            Ok(()) => Ok(h),
            Err(e) => {
                self.handles.free(idx);
                Err(e)
            }
        }
    }

    fn write(&self, h: Handle, data: &[u8]) -> Result<(), AccessError> {
        if data.len() != h.len() {
            return Err(AccessError::LengthMismatch);
        }
        if h.tag() == HUGE_TAG {
            let p = self.huge_page(h)?;
            // SAFETY: the page holds this huge object, which never moves; the
            // driver does not use the handle concurrently; len <= PAGE_SIZE.
            unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), p, data.len()) };
            return Ok(());
        }
        let pin = self.pin(h)?;
        // SAFETY: the object is pinned (cannot move) and lies in the zspage
        // stream at `pin.off..pin.off + len`; nobody else touches it.
        unsafe {
            copy_streams(
                |o| data.as_ptr().add(o),
                0,
                |o| zspage::at(pin.d, o),
                pin.off,
                data.len(),
            )
        };
        Ok(())
    }

    fn read<R>(
        &self,
        h: Handle,
        bounce: &mut [u8; PAGE_SIZE],
        f: impl FnOnce(&[u8]) -> R,
    ) -> Result<R, AccessError> {
        let len = h.len();
        if h.tag() == HUGE_TAG {
            let p = self.huge_page(h)?;
            if len > PAGE_SIZE {
                return Err(AccessError::InvalidHandle);
            }
            // SAFETY: the huge page holds the object, `len <= PAGE_SIZE`, and
            // it neither moves nor changes while we read (driver contract).
            let s = unsafe { core::slice::from_raw_parts(p, len) };
            return Ok(f(s));
        }
        let pin = self.pin(h)?;
        let in_page = pin.off & (PAGE_SIZE - 1);
        // `in_page < PAGE_SIZE` and `len < 2^13` (handle layout): no overflow.
        if in_page + len <= PAGE_SIZE {
            // SAFETY: pinned object, entirely within one page of a live
            // zspage; no concurrent writer (driver contract).
            let s = unsafe { core::slice::from_raw_parts(zspage::at(pin.d, pin.off), len) };
            return Ok(f(s));
        }
        let bp = bounce.as_mut_ptr();
        // SAFETY: pinned object in the zspage stream; `bounce` has room for
        // len <= PAGE_SIZE bytes (checked in `lookup`).
        unsafe { copy_streams(|o| zspage::at(pin.d, o), pin.off, |o| bp.add(o), 0, len) };
        bounce.get(..len).map(f).ok_or(AccessError::InvalidHandle)
    }

    fn free(&self, h: Handle) {
        let Some(idx) = h.index() else {
            return;
        };
        if h.tag() == HUGE_TAG {
            let Ok(p) = self.huge_page(h) else {
                return;
            };
            self.handles.free(idx);
            self.huge.fetch_sub(1, Ordering::Relaxed);
            self.free_pages(&[p]);
            return;
        }
        let c = h.tag() as usize;
        let Some(class) = self.classes.get(c) else {
            return;
        };
        let Some(&info) = CLASSES.get(c) else {
            return;
        };
        let res = class.with(|st| {
            let (id, d, obj) = self.lookup(h, c, idx)?;
            // The object is allocated, so counted (`ClassState` invariant);
            // checked before anything changes, a broken count keeps it.
            let inuse = st.inuse.checked_sub(1)?;
            // SAFETY: `d` is live, of class `c` (lock held), and `obj` is the
            // allocated object of this handle.
            unsafe {
                zspage::push_free(d, info.size, obj)?;
                st.inuse = inuse;
                if (*d).inuse == 0 {
                    return Some(Some(self.remove_zspage(st, info.size, id, d)));
                }
                zspage::regroup(st, &self.descs, id, d);
            }
            Some(None)
        });
        let Some(empty) = res else {
            return;
        };
        self.handles.free(idx);
        if let Some(empty) = empty {
            self.release_zspage(empty);
        }
    }

    fn total_pages(&self) -> usize {
        // Each counts distinct pages, so the sum is at most the number of
        // pages in the machine; saturating keeps a broken count harmless.
        self.zspage_pages
            .load(Ordering::Relaxed)
            .saturating_add(self.huge.load(Ordering::Relaxed))
            .saturating_add(self.handles.pages())
            .saturating_add(self.descs.pages())
            .saturating_add(self.classes.pages())
    }

    fn compact(&self) -> usize {
        let mut freed = 0;
        for (c, class) in self.classes.iter().enumerate() {
            // Each step empties a zspage or fills one; the bound only guards
            // against concurrent churn keeping us here.
            let steps = class
                .with(|st| st.zspages)
                .saturating_mul(2)
                .saturating_add(2);
            for _ in 0..steps {
                let Some(step) = class.with(|st| self.compact_step(st, c)) else {
                    break;
                };
                if let Some(empty) = step {
                    // Pages freed, at most the pages in the machine.
                    freed = self.release_zspage(empty).saturating_add(freed);
                }
            }
        }
        freed
    }

    fn class_count(&self) -> usize {
        NR_CLASSES + 1
    }

    fn class_stats(&self, idx: usize) -> Option<ClassStats> {
        if idx == NR_CLASSES {
            return Some(ClassStats::huge(self.huge.load(Ordering::Relaxed)));
        }
        let info = CLASSES.get(idx)?;
        let (zspages, inuse, slots, pages) = self
            .classes
            .get(idx)?
            .with(|st| (st.zspages, st.inuse, st.slots, st.pages));
        Some(ClassStats {
            size: info.size,
            pages_per_zspage: info.pages,
            objs_per_zspage: info.objs,
            objs_in_use: inuse,
            objs_allocated: slots,
            zspages,
            pages,
        })
    }
}

impl<P: PageProvider, L: PoolLock> Drop for ZsPool<P, L> {
    fn drop(&mut self) {
        let provider = &self.provider;
        self.descs.for_each_live(|_, p| {
            let d = p.as_ptr().cast::<Zspage>();
            // SAFETY: live descriptors own their `backed` attached provider
            // pages; we have exclusive access in `drop`.
            let (pages, n) = unsafe { ((*d).pages, (*d).backed as usize) };
            for &pg in pages.iter().take(n) {
                if let Some(pg) = NonNull::new(pg) {
                    // SAFETY: owned page, freed once.
                    unsafe { provider.free_page(pg) };
                }
            }
        });
        self.handles.for_each_live(|_, p| {
            // SAFETY: records are 8-aligned words; exclusive access.
            let e = unsafe { p.cast::<usize>().read() };
            if e & E_KIND == E_HUGE {
                if let Some(pg) = NonNull::new(word_to_page(e)) {
                    // SAFETY: huge entries own their page.
                    unsafe { provider.free_page(pg) };
                }
            }
        });
        // SAFETY: both tables only ever used `self.provider`; no record
        // pointer survives this point.
        unsafe {
            self.handles.release(&self.provider);
            self.descs.release(&self.provider);
            self.classes.release(&self.provider);
        }
    }
}

#[cfg(test)]
// Tests index their own tables: an index out of bounds fails the test.
#[allow(clippy::indexing_slicing)]
mod tests;
