// SPDX-License-Identifier: GPL-2.0

//! Per-device state: settings, the life cycle (init by `disksize`, `reset`)
//! and the knobs sysfs turns. The page read/write paths are in `rw.rs`.
//!
//! A device starts uninitialised (capacity 0) with its settings in
//! [`Config`]. Writing `disksize` builds its [`Backing`]: the slot table, the
//! compression streams and the object pool. `reset` tears it down again.
//!
//! Locking: `config` (a mutex, zram's `init_lock`) serialises every settings
//! change and the creation and destruction of the backing; sysfs readers
//! that look into the backing hold it too. The I/O path does not take it:
//! it reads the backing pointer, and the backing is only freed with the
//! disk's queue frozen (no bio inside `submit_bio`) after every opener has
//! gone and new opens are refused (`claim`). Lock order: the registry mutex,
//! the disk's `open_mutex`, `config`, then the I/O-path locks of `rw.rs`.

mod rw;

use core::{
    ffi::c_void,
    ptr,
    sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering},
};
use kernel::{
    bindings,
    new_mutex,
    page::PAGE_SIZE,
    prelude::*,
    sync::Mutex, //
};

use crate::{
    allocators::Backend,
    codec::{self, CodecOps, Streams, BACKENDS},
    parse::AlgorithmParams,
    pool::{self, Pool},
    pool::KernelPages,
    slot::Slot,
    slot_table::{chunks_for, SlotTable, SlotTableError},
    stats::Stats, //
};

// The gendisk is passed as `c_void`: bindgen's `gendisk` holds zero-sized
// lockdep members that Rust does not consider FFI-safe.
extern "C" {
    fn rzram_open_lock(disk: *mut c_void);
    fn rzram_open_unlock(disk: *mut c_void);
    fn rzram_openers(disk: *mut c_void) -> u32;
    fn rzram_freeze(disk: *mut c_void) -> u32;
    fn rzram_unfreeze(disk: *mut c_void, memflags: u32);
}

/// Settings chosen before `disksize`; they apply when the backing is built.
pub(crate) struct Config {
    pub(crate) codec: &'static CodecOps,
    /// `algorithm_params level=`; `None` is the codec's default.
    pub(crate) level: Option<i32>,
    pub(crate) allocator: Backend,
}

impl Config {
    const fn new() -> Self {
        Config {
            codec: BACKENDS[0],
            level: None,
            allocator: Backend::Zsmalloc,
        }
    }
}

/// What exists once `disksize` is set.
pub(crate) struct Backing {
    pub(crate) disksize: u64,
    /// One slot per page, in chunks allocated on first write.
    slots: SlotTable<KVVec<AtomicPtr<Slot>>, KernelPages>,
    pub(crate) streams: Streams,
    pub(crate) pool: KBox<Pool>,
    /// Bounce page for I/O smaller than a page (read-modify-write).
    partial: Pin<KBox<Mutex<KVVec<u8>>>>,
}

impl Backing {
    fn new(disksize: u64, slots: usize, config: &Config) -> Result<Self> {
        Ok(Backing {
            disksize,
            slots: new_slot_table(slots)?,
            streams: Streams::new(config.codec, config.level)?,
            pool: pool::new_pool(config.allocator)?,
            partial: KBox::pin_init(
                new_mutex!(KVVec::from_elem(0u8, PAGE_SIZE, GFP_KERNEL)?, "rzram_partial"),
                GFP_KERNEL,
            )?,
        })
    }

    /// Number of pages the device holds.
    pub(crate) fn slot_count(&self) -> usize {
        self.slots.len()
    }

    /// The slot of page `index` for reading or freeing: `None` if it was
    /// never written (it reads as zeroes). `EIO` beyond the end.
    fn slot(&self, index: usize) -> Result<Option<&Slot>> {
        if index >= self.slots.len() {
            return Err(EIO);
        }
        Ok(self.slots.get(index))
    }

    /// The slot of page `index` for storing into. May sleep (it may have to
    /// allocate a chunk of the table), so it is called before any slot lock
    /// is taken. `ENOMEM` if no page can be had.
    fn slot_for_write(&self, index: usize) -> Result<&Slot> {
        self.slots.get_or_alloc(index).map_err(|e| match e {
            SlotTableError::OutOfRange => EIO,
            SlotTableError::NoMemory => ENOMEM,
        })
    }

    /// Calls `f` for every slot that may hold data, in index order.
    pub(crate) fn for_each_slot(&self, f: impl FnMut(usize, &Slot)) {
        self.slots.for_each(f);
    }

    /// Pages the slot table's chunks take.
    pub(crate) fn table_pages(&self) -> usize {
        self.slots.chunks_allocated()
    }
}

/// A slot table for `slots` pages: only its directory (8 bytes per 256
/// pages) is allocated now, chunks of slots come with the first writes.
fn new_slot_table(slots: usize) -> Result<SlotTable<KVVec<AtomicPtr<Slot>>, KernelPages>> {
    let n = chunks_for(slots);
    let mut dir = KVVec::with_capacity(n, GFP_KERNEL)?;
    for _ in 0..n {
        dir.push(AtomicPtr::new(ptr::null_mut()), GFP_KERNEL)?;
    }
    // SAFETY: `dir` is a fresh vector of null entries moved into the table,
    // which alone uses it from now on.
    unsafe { SlotTable::new(dir, slots, KernelPages) }.ok_or(ENOMEM)
}

/// One rzram device.
#[pin_data(PinnedDrop)]
pub(crate) struct Device {
    pub(crate) id: u32,
    gendisk: AtomicPtr<bindings::gendisk>,
    /// Settings, and the lock for building and freeing the backing.
    #[pin]
    config: Mutex<Config>,
    /// Null until `disksize` is set; owned (a leaked `KBox`) afterwards.
    backing: AtomicPtr<Backing>,
    /// `mem_limit` in pages; 0 means no limit.
    mem_limit: AtomicU64,
    /// Set while `reset` or removal runs: opens fail with `EBUSY`.
    claim: AtomicBool,
    pub(crate) stats: Stats,
}

impl Device {
    pub(crate) fn new(id: u32) -> impl PinInit<Self, Error> {
        try_pin_init!(Device {
            id,
            gendisk: AtomicPtr::new(ptr::null_mut()),
            config <- new_mutex!(Config::new(), "rzram_config"),
            backing: AtomicPtr::new(ptr::null_mut()),
            mem_limit: AtomicU64::new(0),
            claim: AtomicBool::new(false),
            stats: Stats::new(),
        })
    }

    pub(crate) fn set_gendisk(&self, gendisk: *mut bindings::gendisk) {
        self.gendisk.store(gendisk, Ordering::Relaxed);
    }

    fn gendisk(&self) -> *mut bindings::gendisk {
        self.gendisk.load(Ordering::Relaxed)
    }

    /// The backing as the I/O path sees it (see the locking notes above).
    fn io_backing(&self) -> Option<&Backing> {
        let b = self.backing.load(Ordering::Acquire);
        // SAFETY: Non-null came from `KBox::into_raw` in `set_disksize`; it is freed only with the queue
        // frozen, when no bio (the only caller outside `config`) is in flight.
        unsafe { b.as_ref() }
    }

    /// Runs `f` with the settings locked and the backing, if any.
    pub(crate) fn with_config<R>(&self, f: impl FnOnce(&mut Config, Option<&Backing>) -> R) -> R {
        let mut config = self.config.lock();
        // Freeing the backing needs `config`, which is held here.
        let backing = self.io_backing();
        f(&mut config, backing)
    }

    /// Runs `f` on the backing under the settings lock; `None` before init.
    pub(crate) fn with_backing<R>(&self, f: impl FnOnce(Option<&Backing>) -> R) -> R {
        self.with_config(|_, b| f(b))
    }

    /// Settings may change only before `disksize`: `EBUSY` afterwards.
    fn configure(&self, f: impl FnOnce(&mut Config) -> Result) -> Result {
        self.with_config(|config, b| match b {
            Some(_) => Err(EBUSY),
            None => f(config),
        })
    }

    pub(crate) fn set_codec(&self, name: &[u8]) -> Result {
        let ops = codec::find(name).ok_or(EINVAL)?;
        self.configure(|c| {
            c.codec = ops;
            Ok(())
        })
    }

    /// `algorithm_params`: only the primary compressor (priority 0) exists.
    pub(crate) fn set_algorithm_params(&self, p: &AlgorithmParams<'_>) -> Result {
        if p.dict.is_some() || p.deflate_winbits.is_some() {
            return Err(EINVAL);
        }
        if p.priority.is_some_and(|prio| prio != 0) {
            return Err(EINVAL);
        }
        self.configure(|c| {
            if let Some(name) = p.algo {
                if !codec::find(name).is_some_and(|ops| ptr::eq(ops, c.codec)) {
                    return Err(EINVAL);
                }
            }
            c.codec.check_level(p.level)?;
            c.level = p.level;
            Ok(())
        })
    }

    pub(crate) fn set_allocator(&self, name: &[u8]) -> Result {
        let backend = Backend::from_name(name).ok_or(EINVAL)?;
        self.configure(|c| {
            c.allocator = backend;
            Ok(())
        })
    }

    /// Sets the size and builds the backing; `EBUSY` once initialised.
    pub(crate) fn set_disksize(&self, bytes: u64) -> Result {
        let bytes = crate::slot::page_align(bytes).ok_or(EINVAL)?;
        let slots = crate::slot::slots_for_disksize(bytes).ok_or(EINVAL)?;
        if slots == 0 {
            return Err(EINVAL);
        }
        self.with_config(|config, b| {
            if b.is_some() {
                return Err(EBUSY);
            }
            let backing = KBox::new(Backing::new(bytes, slots, config)?, GFP_KERNEL)?;
            self.backing.store(KBox::into_raw(backing), Ordering::Release);
            // SAFETY: The gendisk is live while its attributes can be written.
            unsafe { bindings::set_capacity_and_notify(self.gendisk(), bytes >> kernel::block::SECTOR_SHIFT) };
            Ok(())
        })
    }

    /// `mem_limit` in bytes, rounded up to pages; 0 removes the limit.
    pub(crate) fn set_mem_limit(&self, bytes: u64) {
        let pages = bytes.div_ceil(PAGE_SIZE as u64);
        let _config = self.config.lock();
        self.mem_limit.store(pages, Ordering::Relaxed);
    }

    pub(crate) fn mem_limit_pages(&self) -> u64 {
        self.mem_limit.load(Ordering::Relaxed)
    }

    /// `mem_used_max` store: restart the high-water mark from now.
    pub(crate) fn reset_mem_used_max(&self) {
        self.with_backing(|b| {
            if let Some(b) = b {
                self.stats.set_max_used(b.pool.total_pages() as u64);
            }
        })
    }

    /// `compact`: `EINVAL` before init, as zram.
    pub(crate) fn compact(&self) -> Result {
        self.with_backing(|b| {
            let b = b.ok_or(EINVAL)?;
            let freed = b.pool.compact();
            Stats::add(&self.stats.pages_compacted, freed as u64);
            Ok(())
        })
    }

    /// `open`: refused while a reset or removal holds the claim.
    pub(crate) fn may_open(&self) -> Result {
        if self.claim.load(Ordering::Relaxed) {
            return Err(EBUSY);
        }
        Ok(())
    }

    /// Takes the claim if nobody has the disk open (`EBUSY` otherwise);
    /// from then on opens fail until [`Device::release_claim`].
    pub(crate) fn claim(&self) -> Result {
        let disk = self.gendisk().cast::<c_void>();
        // SAFETY: The gendisk is live; lock and unlock are paired below.
        unsafe { rzram_open_lock(disk) };
        // SAFETY: As above; `open_mutex` is held, so no open is under way.
        let busy = unsafe { rzram_openers(disk) } > 0 || self.claim.load(Ordering::Relaxed);
        if !busy {
            self.claim.store(true, Ordering::Relaxed);
        }
        // SAFETY: Locked above.
        unsafe { rzram_open_unlock(disk) };
        if busy {
            return Err(EBUSY);
        }
        Ok(())
    }

    pub(crate) fn release_claim(&self) {
        self.claim.store(false, Ordering::Relaxed);
    }

    /// `reset`: frees all data and settings; `EBUSY` while open.
    pub(crate) fn reset(&self) -> Result {
        self.claim()?;
        self.sync();
        self.teardown();
        self.release_claim();
        Ok(())
    }

    /// Writes back what the block device's page cache still holds, so that
    /// it reaches the device before the device goes away.
    pub(crate) fn sync(&self) {
        // SAFETY: The gendisk and its `part0` live as long as the device.
        unsafe { bindings::sync_blockdev((*self.gendisk()).part0) };
    }

    /// Frees the backing and returns to the state after creation.
    fn teardown(&self) {
        let disk = self.gendisk();
        let old = self.with_config(|config, _| {
            *config = Config::new();
            self.mem_limit.store(0, Ordering::Relaxed);
            // SAFETY: The gendisk is live; unfrozen right below.
            let memflags = unsafe { rzram_freeze(disk.cast()) };
            let old = self.backing.swap(ptr::null_mut(), Ordering::Acquire);
            // SAFETY: Frozen above.
            unsafe { rzram_unfreeze(disk.cast(), memflags) };
            self.stats.reset();
            old
        });
        if !old.is_null() {
            // SAFETY: The disk is live.
            unsafe { bindings::set_capacity_and_notify(disk, 0) };
            // SAFETY: `old` came from `KBox::into_raw` in `set_disksize`, is
            // no longer published, and no bio that saw it is in flight.
            drop(unsafe { KBox::from_raw(old) });
        }
    }

    /// Memory the stored pages take, in pages (0 before init).
    pub(crate) fn mem_used_pages(&self) -> usize {
        self.with_backing(|b| b.map_or(0, |b| b.pool.total_pages()))
    }
}

#[pinned_drop]
impl PinnedDrop for Device {
    fn drop(self: Pin<&mut Self>) {
        let b = self.backing.swap(ptr::null_mut(), Ordering::Acquire);
        if !b.is_null() {
            // SAFETY: `b` came from `KBox::into_raw` in `set_disksize` and the
            // disk is deleted, so nothing else can use it.
            drop(unsafe { KBox::from_raw(b) });
        }
    }
}
