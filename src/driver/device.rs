// SPDX-License-Identifier: GPL-2.0

//! Per-device state: settings, the life cycle (init by `disksize`, `reset`)
//! and the knobs sysfs turns. The page read/write paths are in `rw.rs`.
//!
//! A device starts uninitialised (capacity 0) with its settings in
//! [`Config`]. Writing `disksize` builds its [`Store`]: the slot table, the
//! compression streams and the object pool. `reset` tears it down again.
//! How the store is published to the I/O path and taken back safely is
//! `glue/lifecycle.rs`'s business; this file decides when.
//!
//! Locking: the settings lock (zram's `dev_lock`) serialises every settings
//! change, the store's creation and destruction, and sysfs readers that
//! look into the store. The I/O path does not take it. Lock order: the
//! registry mutex, the disk's `open_mutex`, the settings lock, then the
//! I/O-path locks of `rw.rs`.

use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use kernel::{prelude::*, sync::SpinLock};

use crate::{
    allocators::{Backend, PAGE_SIZE},
    glue::{
        backing::Backing,
        lifecycle::Lifecycle,
        pages::{self, KernelSlotTable, Pool},
        percpu::PerCpu,
        sched::cond_resched,
        slot_lock::SlotLocks,
        tier::Tier,
    },
    portable::{
        lru::{Link, Lru},
        parse::AlgorithmParams,
        slot::{self, Slot},
        slot_table::SlotTableError,
        stats::Stats,
    },
};

use super::{
    auto::{self, AutoBuffersLock, AutoSettings},
    comp::{self, CompConfig, Comps},
};

/// The recency list of a device's in-memory pages, under its spinlock.
pub(crate) type LruList = Pin<KBox<SpinLock<Lru<KVVec<Link>>>>>;

/// Settings chosen before `disksize`; they apply when the store is built.
pub(crate) struct Config {
    /// The compressors by priority and their `algorithm_params`.
    pub(crate) comp: CompConfig,
    pub(crate) allocator: Backend,
    /// `backing_dev`, opened; it moves into the store at `disksize`.
    pub(crate) backing: Option<Backing>,
}

impl Config {
    fn new() -> Self {
        Config {
            comp: CompConfig::new(),
            allocator: Backend::Zsmalloc,
            backing: None,
        }
    }
}

/// A page-sized buffer for I/O smaller than a page (read-modify-write).
type PartialPage = KVVec<u8>;

/// What exists once `disksize` is set (zram's meta and compressors).
///
/// # Invariants
///
/// `slots` has `disksize / PAGE_SIZE` slots; every stored slot's handle is
/// an object of `pool`, owned by that slot; every partial buffer is one
/// page long.
pub(crate) struct Store {
    /// Automatic writeback's worker and shrinker, with a backing device.
    /// First, so that it stops before anything it uses is dropped.
    pub(crate) tier: Option<Tier>,
    pub(crate) disksize: u64,
    /// One slot per page, in chunks allocated on first write.
    slots: KernelSlotTable,
    /// How slot locks wait, and their lockdep class.
    pub(super) locks: SlotLocks,
    /// The compressors, one per configured priority.
    pub(crate) comps: Comps,
    pub(crate) pool: KBox<Pool>,
    /// Bounce pages for sub-page I/O, one per CPU so that concurrent
    /// sub-page I/O does not serialise.
    pub(super) partial: PerCpu<PartialPage>,
    /// The backing device, if `backing_dev` was set before `disksize`.
    pub(crate) backing: Option<Backing>,
    /// `compressed_writeback` as it was at `disksize`: written-back pages
    /// hold the compressed object and are decompressed when read.
    pub(crate) compressed_wb: bool,
    /// With a backing device: the slots whose page is in the pool, coldest
    /// first (8 bytes per slot, `portable/lru.rs`). Updated under the slot
    /// lock; its own spinlock nests inside it.
    pub(crate) lru: Option<LruList>,
    /// With a backing device: automatic writeback's buffers.
    pub(crate) auto_bufs: Option<AutoBuffersLock>,
}

impl Store {
    fn new(disksize: u64, slots: usize, config: &Config) -> Result<Self> {
        Ok(Store {
            disksize,
            slots: pages::new_slot_table(slots)?,
            locks: SlotLocks::new()?,
            comps: Comps::new(&config.comp)?,
            pool: pages::new_pool(config.allocator)?,
            // Its own lock class: a partial buffer is taken before a slot
            // lock, a stream after one, and lockdep must tell them apart.
            partial: PerCpu::new(c"rzram_partial", kernel::static_lock_class!(), || {
                Ok(KVVec::from_elem(0u8, PAGE_SIZE, GFP_KERNEL)?)
            })?,
            backing: None,
            compressed_wb: false,
            lru: None,
            auto_bufs: None,
            tier: None,
        })
    }

    /// Records whether slot `index` (locked by the caller) holds a page in
    /// the pool: such a slot becomes the hottest, any other leaves the list.
    pub(super) fn lru_update(&self, index: usize, resident: bool) {
        if let Some(lru) = &self.lru {
            let mut list = lru.lock();
            if resident {
                list.touch(index);
            } else {
                list.remove(index);
            }
        }
    }

    /// Number of pages the device holds.
    pub(crate) fn slot_count(&self) -> usize {
        self.slots.len()
    }

    /// The slot of page `index` for reading or freeing: `None` if it was
    /// never written (it reads as zeroes). `EIO` beyond the end.
    pub(super) fn slot(&self, index: usize) -> Result<Option<&Slot>> {
        if index >= self.slots.len() {
            return Err(EIO);
        }
        Ok(self.slots.get(index))
    }

    /// The slot of page `index` for storing into. May sleep (it may have to
    /// allocate a chunk of the table), so it is called before any slot lock
    /// is taken. `ENOMEM` if no page can be had.
    pub(super) fn slot_for_write(&self, index: usize) -> Result<&Slot> {
        self.slots.get_or_alloc(index).map_err(|e| match e {
            SlotTableError::OutOfRange => EIO,
            SlotTableError::NoMemory => ENOMEM,
        })
    }

    /// Calls `f` for every slot that may hold data, in index order, giving
    /// the CPU away between slots if another task waits for it. Only in
    /// process context, with no spinlock held.
    pub(crate) fn for_each_slot(&self, mut f: impl FnMut(usize, &Slot)) {
        self.slots.for_each(|index, slot| {
            f(index, slot);
            cond_resched();
        });
    }

    /// Pages the slot table's chunks take.
    pub(crate) fn table_pages(&self) -> usize {
        self.slots.chunks_allocated()
    }
}

/// One rzram device.
///
/// # Invariants
///
/// `mem_limit` is in pages (0: none). `stats` counts what the store holds:
/// every content set into a slot was counted once by `account`, and
/// uncounted once by `release` when it left the slot.
#[pin_data]
pub(crate) struct Device {
    pub(crate) id: u32,
    /// Settings, the store and the disk (`glue/lifecycle.rs`).
    #[pin]
    life: Lifecycle<Config, Store>,
    /// `mem_limit` in pages; 0 means no limit.
    mem_limit: AtomicU64,
    pub(crate) stats: Stats,
    /// Writeback settings; as zram, `reset` keeps them.
    pub(crate) wb: WritebackSettings,
    /// Automatic tiering (`auto.rs`).
    pub(crate) auto: AutoSettings,
}

/// `writeback_limit_enable`, `writeback_limit`, `writeback_batch_size` and
/// `compressed_writeback`. Written under the settings lock; read there too,
/// except by sysfs `show`s, which only print them.
pub(crate) struct WritebackSettings {
    pub(crate) limit_enable: AtomicBool,
    /// Pages (4 KiB units) writeback may still write while the limit is on.
    pub(crate) limit: AtomicU64,
    /// Writeback bios in flight at once.
    pub(crate) batch_size: AtomicU32,
    pub(crate) compressed: AtomicBool,
}

/// zram's default `writeback_batch_size`: enough bios in flight to keep a
/// disk busy, few enough pages (128 KiB) to take from a short system.
const WB_BATCH_DEFAULT: u32 = 32;

impl Device {
    pub(crate) fn new(id: u32) -> impl PinInit<Self, Error> {
        try_pin_init!(Device {
            id,
            life <- Lifecycle::new(Config::new()),
            mem_limit: AtomicU64::new(0),
            stats: Stats::new(),
            wb: WritebackSettings {
                limit_enable: AtomicBool::new(false),
                limit: AtomicU64::new(0),
                batch_size: AtomicU32::new(WB_BATCH_DEFAULT),
                compressed: AtomicBool::new(false),
            },
            auto: AutoSettings::new(),
        })
    }

    /// The life cycle, for the glue.
    pub(crate) fn life(&self) -> &Lifecycle<Config, Store> {
        &self.life
    }

    /// Runs `f` with the settings locked and the store, if any.
    pub(crate) fn with_config<R>(&self, f: impl FnOnce(&mut Config, Option<&Store>) -> R) -> R {
        let mut locked = self.life.lock();
        let (config, store) = locked.parts();
        f(config, store)
    }

    /// Runs `f` on the store under the settings lock; `None` before init.
    pub(crate) fn with_store<R>(&self, f: impl FnOnce(Option<&Store>) -> R) -> R {
        self.with_config(|_, s| f(s))
    }

    /// Settings may change only before `disksize`: `EBUSY` afterwards.
    pub(super) fn configure(&self, f: impl FnOnce(&mut Config) -> Result) -> Result {
        self.with_config(|config, s| match s {
            Some(_) => Err(EBUSY),
            None => f(config),
        })
    }

    /// `comp_algorithm` (`prio` 0) or `recomp_algorithm` (1 to 3): the
    /// name is checked before the device's state, as in zram.
    pub(crate) fn set_codec(&self, prio: u32, name: &[u8]) -> Result {
        let ops = comp::find_algorithm(name)?;
        self.configure(|c| c.comp.set_algorithm(prio, ops))
    }

    /// `algorithm_params`: `EBUSY` after init, then zram's checks
    /// ([`CompConfig::set_params`]).
    pub(crate) fn set_algorithm_params(&self, p: &AlgorithmParams<'_>) -> Result {
        self.configure(|c| c.comp.set_params(p))
    }

    pub(crate) fn set_allocator(&self, name: &[u8]) -> Result {
        let backend = Backend::from_name(name).ok_or(EINVAL)?;
        self.configure(|c| {
            c.allocator = backend;
            Ok(())
        })
    }

    /// Sets the size and builds the store; `EBUSY` once initialised. The
    /// disk's size changes under the settings lock, with the store.
    pub(crate) fn set_disksize(&self, bytes: u64) -> Result {
        let bytes = slot::page_align(bytes).ok_or(EINVAL)?;
        let slots = slot::slots_for_disksize(bytes).ok_or(EINVAL)?;
        if slots == 0 {
            return Err(EINVAL);
        }
        let mut locked = self.life.lock();
        let (config, store) = locked.parts();
        if store.is_some() {
            return Err(EBUSY);
        }
        let mut store = KBox::new(Store::new(bytes, slots, config)?, GFP_KERNEL)?;
        if let Some(backing) = &config.backing {
            store.lru = Some(new_lru(slots)?);
            store.auto_bufs = Some(auto::new_buffers(backing)?);
            store.tier = Some(Tier::new(self)?);
        }
        self.set_synchronous(!self.auto.readahead.load(Ordering::Relaxed))?;
        store.backing = config.backing.take();
        store.compressed_wb = self.wb.compressed.load(Ordering::Relaxed);
        locked.publish(store, bytes >> kernel::block::SECTOR_SHIFT)
    }

    /// `mem_limit` in bytes, rounded up to pages; 0 removes the limit.
    pub(crate) fn set_mem_limit(&self, bytes: u64) {
        let pages = bytes.div_ceil(PAGE_SIZE as u64);
        let _locked = self.life.lock();
        self.mem_limit.store(pages, Ordering::Relaxed);
    }

    pub(crate) fn mem_limit_pages(&self) -> u64 {
        self.mem_limit.load(Ordering::Relaxed)
    }

    /// `mem_used_max` store: restart the high-water mark from now.
    pub(crate) fn reset_mem_used_max(&self) {
        self.with_store(|s| {
            if let Some(s) = s {
                self.stats.set_max_used(s.pool.total_pages() as u64);
            }
        })
    }

    /// `compact`: `EINVAL` before init, as zram.
    pub(crate) fn compact(&self) -> Result {
        self.with_store(|s| {
            let s = s.ok_or(EINVAL)?;
            let freed = s.pool.compact();
            Stats::add(&self.stats.pages_compacted, freed as u64);
            Ok(())
        })
    }

    /// `reset`: frees all data and settings; `EBUSY` while open. The store
    /// goes, the size drops to 0 and the settings return to their defaults
    /// in one critical section of the settings lock, so a racing
    /// `disksize` sees either the old device or the new one.
    pub(crate) fn reset(&self) -> Result {
        let claim = self.life.claim()?;
        self.life.disk.sync();
        let old = {
            let mut locked = self.life.lock();
            let old = locked.retire(&claim);
            *locked.parts().0 = Config::new();
            self.mem_limit.store(0, Ordering::Relaxed);
            self.auto.reset();
            self.stats.reset();
            old
        };
        // Freeing the pool and the table can take a while: not under the lock.
        drop(old);
        drop(claim);
        // `swap_readahead` went off with the settings.
        self.set_synchronous(true)
    }

    /// Whether swap treats the disk as synchronous (`BLK_FEAT_SYNCHRONOUS`,
    /// read at `swapon`; `swap_readahead` off): a synchronous disk is read
    /// one faulting page at a time, waiting, without the swap cache or
    /// readahead, and written a page at a time. Right for pages in memory,
    /// as zram; slow when many are on the backing device. The queue is
    /// frozen for the change: only with no I/O waiting for the worker
    /// (before `disksize`, after `reset`).
    fn set_synchronous(&self, on: bool) -> Result {
        self.life.disk.set_synchronous(on)
    }

    /// Memory the stored pages take, in pages (0 before init).
    pub(crate) fn mem_used_pages(&self) -> usize {
        self.with_store(|s| s.map_or(0, |s| s.pool.total_pages()))
    }
}

/// An empty recency list for `slots` slots.
fn new_lru(slots: usize) -> Result<LruList> {
    let links = KVVec::from_elem(Link::default(), slots, GFP_KERNEL)?;
    let lru = Lru::new(links).ok_or(EFBIG)?;
    KBox::pin_init(kernel::new_spinlock!(lru, "rzram_lru"), GFP_KERNEL)
}
