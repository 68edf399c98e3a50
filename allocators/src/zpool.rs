// SPDX-License-Identifier: GPL-2.0
//! The zpool interface: page provider, lock, handle, errors and the [`Zpool`]
//! trait that every backend implements.
//!
//! # Handle encoding (common to all backends)
//!
//! A [`Handle`] is a non-zero machine word:
//!
//! ```text
//!  63                     21 20          8 7        0
//! +-------------------------+-------------+----------+
//! |      index + 1          |   length    |   tag    |
//! +-------------------------+-------------+----------+
//! ```
//!
//! * `index` selects a record in the backend's record table (a handle-table
//!   entry for zsmalloc, a page-table entry for zbud/z3fold); `+ 1` makes the
//!   word non-zero, so `Option<Handle>` is one word.
//! * `length` is the object length (1..=4096 needs 13 bits), so a backend
//!   never stores it and [`Handle::len`] needs no pool at all.
//! * `tag` is backend specific: the size class for zsmalloc, the buddy slot for
//!   zbud and z3fold.
//!
//! The layout needs 64-bit words; rzram only targets 64-bit kernels.

use core::cell::UnsafeCell;
use core::num::NonZeroUsize;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, Ordering};

/// Size of a page handed out by a [`PageProvider`]; the kernel's PAGE_SIZE.
pub const PAGE_SIZE: usize = 4096;
/// log2 of [`PAGE_SIZE`].
pub const PAGE_SHIFT: usize = 12;

const _: () = assert!(usize::BITS == 64, "the handle layout needs 64-bit words");
const _: () = assert!(1 << PAGE_SHIFT == PAGE_SIZE);

/// Source of the pages a pool stores objects in.
///
/// # Safety
///
/// Implementors must return from [`PageProvider::alloc_page`] exclusive,
/// writable memory of [`PAGE_SIZE`] bytes aligned to [`PAGE_SIZE`] that stays
/// valid until it is passed to [`PageProvider::free_page`]. The contents may be
/// arbitrary (pools never rely on them) but must be initialized memory from
/// Rust's point of view (kernel pages are; the host test providers poison them).
pub unsafe trait PageProvider: Send + Sync {
    /// Allocates one page, or returns `None` under memory pressure. May sleep
    /// in the kernel, so pools call it without holding their locks.
    fn alloc_page(&self) -> Option<NonNull<u8>>;

    /// Gives a page back.
    ///
    /// # Safety
    ///
    /// `page` must have been returned by [`PageProvider::alloc_page`] of this
    /// provider, not freed since, and nothing may access it afterwards.
    unsafe fn free_page(&self, page: NonNull<u8>);
}

/// A mutual-exclusion lock without data: the protected state lives in
/// `UnsafeCell`s of the pool and is touched only inside [`PoolLock::with`].
///
/// Maps onto the kernel's `SpinLock<()>` in the module and onto
/// [`SpinLockHost`] (or a std mutex) on the host.
pub trait PoolLock: Send + Sync + Sized {
    /// Creates an unlocked lock; may fail in the kernel because it allocates.
    fn new() -> Option<Self>;
    /// Runs `f` with the lock held. Implementations must provide mutual
    /// exclusion between all concurrent `with` calls on the same lock, with
    /// acquire/release ordering, and must not be re-entrant.
    fn with<R>(&self, f: impl FnOnce() -> R) -> R;
}

/// A test-and-set spinlock built on `core` only, for host tools and tests.
///
/// # Invariants
///
/// `locked` is `true` exactly while some thread runs inside [`PoolLock::with`].
pub struct SpinLockHost {
    locked: AtomicBool,
}

struct Unlock<'a>(&'a AtomicBool);

impl Drop for Unlock<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl PoolLock for SpinLockHost {
    fn new() -> Option<Self> {
        Some(Self {
            locked: AtomicBool::new(false),
        })
    }

    fn with<R>(&self, f: impl FnOnce() -> R) -> R {
        while self
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            while self.locked.load(Ordering::Relaxed) {
                core::hint::spin_loop();
            }
        }
        let _unlock = Unlock(&self.locked);
        f()
    }
}

/// State protected by a [`PoolLock`]: an `UnsafeCell` paired with its lock.
///
/// # Invariants
///
/// `state` is only accessed inside `lock.with`, so at most one `&mut T`
/// exists at a time.
pub struct Locked<L, T> {
    lock: L,
    state: UnsafeCell<T>,
}

// SAFETY: access to `state` is serialized by `lock` (see the invariant), so
// sharing `Locked` between threads is as safe as sending `T` between them.
unsafe impl<L: PoolLock, T: Send> Sync for Locked<L, T> {}
// SAFETY: `Locked` owns its `T` and `L`; moving it moves both.
unsafe impl<L: PoolLock, T: Send> Send for Locked<L, T> {}

impl<L: PoolLock, T> Locked<L, T> {
    /// Wraps `state` with a new lock; `None` if the lock cannot be created.
    pub fn new(state: T) -> Option<Self> {
        Some(Self {
            lock: L::new()?,
            state: UnsafeCell::new(state),
        })
    }

    /// Runs `f` on the state with the lock held.
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        self.lock.with(|| {
            // SAFETY: we hold `lock`, and `PoolLock` is not re-entrant, so this
            // is the only live reference to the state (type invariant).
            let state = unsafe { &mut *self.state.get() };
            f(state)
        })
    }

    /// Exclusive access without locking, e.g. in `Drop`.
    pub fn get_mut(&mut self) -> &mut T {
        self.state.get_mut()
    }
}

/// Opaque, word-sized, non-zero reference to an object in a pool.
///
/// The driver stores [`Handle::to_raw`] and gets it back with
/// [`Handle::from_raw`]. See the module documentation for the bit layout.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub struct Handle(NonZeroUsize);

const TAG_BITS: u32 = 8;
const LEN_BITS: u32 = 13;
const LEN_SHIFT: u32 = TAG_BITS;
const IDX_SHIFT: u32 = TAG_BITS + LEN_BITS;
/// Largest record index a handle can carry.
pub(crate) const MAX_HANDLE_INDEX: usize = (usize::MAX >> IDX_SHIFT) - 1;

impl Handle {
    /// The raw word, never zero.
    pub const fn to_raw(self) -> usize {
        self.0.get()
    }

    /// Rebuilds a handle from [`Handle::to_raw`]; `None` for zero.
    pub const fn from_raw(raw: usize) -> Option<Self> {
        match NonZeroUsize::new(raw) {
            Some(v) => Some(Self(v)),
            None => None,
        }
    }

    /// Packs a record index, an object length (0..=8191) and a backend tag.
    pub(crate) fn pack(index: usize, len: usize, tag: u8) -> Option<Self> {
        if index > MAX_HANDLE_INDEX || len >= 1 << LEN_BITS {
            return None;
        }
        // `index + 1 <= usize::MAX >> IDX_SHIFT`, so no bit is shifted out.
        let raw = (index.checked_add(1)? << IDX_SHIFT) | (len << LEN_SHIFT) | usize::from(tag);
        Self::from_raw(raw)
    }

    /// The record index; `None` for a raw word without one (a forged handle).
    pub(crate) fn index(self) -> Option<usize> {
        (self.0.get() >> IDX_SHIFT).checked_sub(1)
    }

    /// The object length recorded at allocation (never 0 for a handle from
    /// `alloc`, so there is no `is_empty`).
    #[allow(clippy::len_without_is_empty)]
    pub const fn len(self) -> usize {
        (self.0.get() >> LEN_SHIFT) & ((1 << LEN_BITS) - 1)
    }

    /// The backend-specific tag.
    pub(crate) fn tag(self) -> u8 {
        // The low `TAG_BITS` (8) bits: the truncation is the point.
        self.0.get() as u8
    }
}

/// Why an allocation failed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum AllocError {
    /// No page could be had from the provider (or an internal table is full).
    NoMemory,
    /// `len` was 0 or above [`PAGE_SIZE`].
    InvalidSize,
}

/// Why a read or write was refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum AccessError {
    /// The handle does not name a live object of this pool.
    InvalidHandle,
    /// `write` got a buffer whose length differs from the allocated length.
    LengthMismatch,
}

/// Statistics of one size class (or pseudo-class), for debugfs.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct ClassStats {
    /// Largest object slot of the class in bytes (including any in-object
    /// header).
    pub size: usize,
    /// Pages making up one zspage (1 for page-based backends).
    pub pages_per_zspage: usize,
    /// Objects one zspage (page) can hold.
    pub objs_per_zspage: usize,
    /// Objects currently allocated.
    pub objs_in_use: usize,
    /// Object slots in the zspages (pages) the class holds; for zsmalloc the
    /// slots lying entirely in attached pages.
    pub objs_allocated: usize,
    /// Zspages held (pages for page-based backends).
    pub zspages: usize,
    /// Pages held by the class (for zsmalloc: attached pages, which may be
    /// fewer than `zspages * pages_per_zspage`).
    pub pages: usize,
}

impl ClassStats {
    /// The pseudo-class of `n` huge objects, each a page of its own.
    pub const fn huge(n: usize) -> Self {
        ClassStats {
            size: PAGE_SIZE,
            pages_per_zspage: 1,
            objs_per_zspage: 1,
            objs_in_use: n,
            objs_allocated: n,
            zspages: n,
            pages: n,
        }
    }
}

/// A pool of compressed objects. `&self` methods may be called from many CPUs
/// at once.
///
/// Caller contract (the driver's guarantee): a handle is used only between its
/// `alloc` and its `free`, and `write`/`free` of a handle never run
/// concurrently with any other use of the same handle. Reads of a handle may
/// run concurrently with each other and with anything done to other handles,
/// including `compact` moving other objects. Handles are validated (index
/// range, slot state, length) so that garbage or double-freed handles are
/// refused, but a stale handle whose slot was reused cannot be told apart.
pub trait Zpool: Sized + Send + Sync {
    /// Where the pool gets its pages.
    type Provider: PageProvider;

    /// Creates an empty pool; `None` if a lock cannot be created.
    fn new(provider: Self::Provider) -> Option<Self>;

    /// Backend name as used by [`super::any::Backend::from_name`].
    fn name(&self) -> &'static str;

    /// Allocates room for an object of `len` (1..=[`PAGE_SIZE`]) bytes. The
    /// content is unspecified until [`Zpool::write`].
    fn alloc(&self, len: usize) -> Result<Handle, AllocError>;

    /// Stores `data` in the object; `data.len()` must equal the allocated
    /// length, else [`AccessError::LengthMismatch`].
    fn write(&self, handle: Handle, data: &[u8]) -> Result<(), AccessError>;

    /// Calls `f` with the object's bytes: a slice into the pool page when the
    /// object lies within one page, else a copy in `bounce`. The object does
    /// not move while `f` runs. `f` must not call back into the pool's
    /// allocating paths of the same handle.
    fn read<R>(
        &self,
        handle: Handle,
        bounce: &mut [u8; PAGE_SIZE],
        f: impl FnOnce(&[u8]) -> R,
    ) -> Result<R, AccessError>;

    /// Frees the object. Invalid handles are ignored.
    fn free(&self, handle: Handle);

    /// Every page the pool holds, metadata pages included.
    fn total_pages(&self) -> usize;

    /// Moves objects to free pages; returns the number of pages freed.
    fn compact(&self) -> usize;

    /// Number of valid indices for [`Zpool::class_stats`].
    fn class_count(&self) -> usize;

    /// Statistics of class `idx`, `None` past the last class.
    fn class_stats(&self, idx: usize) -> Option<ClassStats>;
}

/// A page address as a word, for tagged entries (exposes the provenance so
/// that [`word_to_page`] can recreate the pointer).
pub(crate) fn page_to_word(page: *mut u8) -> usize {
    page.expose_provenance()
}

/// The page address in a tagged entry word (low 12 bits ignored).
pub(crate) fn word_to_page(word: usize) -> *mut u8 {
    core::ptr::with_exposed_provenance_mut(word & !(PAGE_SIZE - 1))
}

/// Copies `len` bytes between two byte streams made of pages, handling page
/// boundaries on both sides. `src`/`dst` map a byte offset to a pointer valid
/// up to the end of that offset's page.
///
/// # Safety
///
/// For every offset `o` in `src_off..src_off + len`, `src(o)` must return a
/// pointer readable up to the end of `o`'s page, likewise `dst` writable for
/// `dst_off..dst_off + len`, and the two ranges must not overlap.
pub(crate) unsafe fn copy_streams(
    src: impl Fn(usize) -> *const u8,
    mut src_off: usize,
    dst: impl Fn(usize) -> *mut u8,
    mut dst_off: usize,
    mut len: usize,
) {
    while len > 0 {
        // The masked offsets are below PAGE_SIZE: each room is 1..=PAGE_SIZE.
        let s_room = PAGE_SIZE - (src_off & (PAGE_SIZE - 1));
        let d_room = PAGE_SIZE - (dst_off & (PAGE_SIZE - 1));
        let n = len.min(s_room).min(d_room);
        // SAFETY: both pointers are valid for `n` bytes, which stay within the
        // current page of each stream (caller contract), and do not overlap.
        unsafe { core::ptr::copy_nonoverlapping(src(src_off), dst(dst_off), n) };
        // `n <= len`, and `src_off + len`, `dst_off + len` end valid ranges
        // (caller contract), so none of these overflows.
        src_off += n;
        dst_off += n;
        len -= n;
    }
}

/// The integration tests' page provider (poisoned heap pages that can be
/// told to fail), shared with the unit tests; it names this crate as
/// `allocators` (see `lib.rs`).
#[cfg(test)]
#[path = "../tests/common/mod.rs"]
mod host;

#[cfg(test)]
pub(crate) mod testing {
    //! Page provider, object contents and checks shared by the unit tests.
    pub use super::host::HostProvider;
    use super::*;

    /// The test content of `h`'s object: `len` bytes that depend on the
    /// handle and on the offset, so misplaced or moved bytes show.
    pub fn pattern(h: Handle, len: usize) -> Vec<u8> {
        (0..len)
            .map(|i| (h.to_raw() as u8).wrapping_add(i as u8).wrapping_mul(31))
            .collect()
    }

    /// Writes [`pattern`] into `h`'s object.
    pub fn fill<Z: Zpool>(pool: &Z, h: Handle) {
        pool.write(h, &pattern(h, h.len())).unwrap();
    }

    /// Checks that `h`'s object holds [`pattern`].
    pub fn check<Z: Zpool>(pool: &Z, h: Handle) {
        let mut bounce = [0u8; PAGE_SIZE];
        let want = pattern(h, h.len());
        pool.read(h, &mut bounce, |s| assert_eq!(s, &want[..]))
            .unwrap();
    }

    /// Allocations against a provider that fails after 0, 1, 2, 3, 5 and 8
    /// more pages: the pool's pages always add up to the provider's, the
    /// objects that were stored keep their contents, and the pool works
    /// again once pages come back.
    pub fn provider_failure_is_clean<Z: Zpool>(pool: &Z, tp: &HostProvider) {
        let mut live = Vec::new();
        for budget in [0usize, 1, 2, 3, 5, 8] {
            tp.set_budget(budget);
            for len in [50, 700, 3000, 4096] {
                if let Ok(h) = pool.alloc(len) {
                    fill(pool, h);
                    live.push(h);
                }
                assert_eq!(pool.total_pages(), tp.held());
            }
        }
        tp.set_budget(usize::MAX);
        for &h in &live {
            check(pool, h);
        }
        assert_eq!(pool.alloc(PAGE_SIZE).map(|_| ()), Ok(()));
    }

    /// 60000 objects of 300..3300 bytes, evenly spread (a worst case for
    /// 16-byte classes; see the README for the lab's numbers on real data),
    /// cost at most 5 % more than their bytes. Returns the overhead in %.
    pub fn uniform_density<Z: Zpool>(pool: &Z) -> f64 {
        let mut bytes = 0;
        for i in 0..60000usize {
            let len = 300 + (i * 7919) % 3000;
            pool.alloc(len).unwrap();
            bytes += len;
        }
        let pool_bytes = pool.total_pages() * PAGE_SIZE;
        assert!(pool_bytes * 100 <= bytes * 105, "{pool_bytes} vs {bytes}");
        (pool_bytes as f64 / bytes as f64 - 1.0) * 100.0
    }

    /// Fills `hs`, reads each back, and returns how many reads went through
    /// the bounce buffer (objects that straddle pages).
    pub fn bounced<Z: Zpool>(pool: &Z, hs: &[Handle]) -> usize {
        for &h in hs {
            fill(pool, h);
        }
        let mut bounce = [0u8; PAGE_SIZE];
        let bp = bounce.as_ptr() as usize;
        let mut n = 0;
        for &h in hs {
            let used = pool
                .read(h, &mut bounce, |s| s.as_ptr() as usize == bp)
                .unwrap();
            n += usize::from(used);
            check(pool, h);
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handle_roundtrip() {
        let h = Handle::pack(12345, 4096, 0xab).unwrap();
        assert_eq!(h.index(), Some(12345));
        assert_eq!(h.len(), 4096);
        assert_eq!(h.tag(), 0xab);
        assert_eq!(Handle::from_raw(h.to_raw()), Some(h));
        assert_eq!(Handle::from_raw(0), None);
        assert!(Handle::pack(MAX_HANDLE_INDEX + 1, 1, 0).is_none());
        assert_eq!(Handle::from_raw(0x5).unwrap().index(), None);
        assert_eq!(core::mem::size_of::<Option<Handle>>(), 8);
    }

    #[test]
    fn spinlock_excludes() {
        let l = SpinLockHost::new().unwrap();
        let n = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..1000 {
                        l.with(|| {
                            let v = n.load(Ordering::Relaxed);
                            n.store(v + 1, Ordering::Relaxed);
                        })
                    }
                });
            }
        });
        assert_eq!(n.load(Ordering::Relaxed), 4000);
    }
}
