// SPDX-License-Identifier: GPL-2.0

//! Gendisk life cycle: the dynamic major, one bio-based disk per device, and
//! the block device operations.
//!
//! The 7.3 Rust block abstractions create blk-mq disks only; rzram is
//! bio-based like zram (no request overhead, and only a bio-based driver gets
//! `swap_slot_free_notify`), so this file uses the raw bindings directly.

use core::{
    ffi::{c_int, c_uint, c_void},
    ptr::{self, NonNull},
    sync::atomic::{AtomicPtr, Ordering},
};
use kernel::{bindings, error::to_result, prelude::*, sync::Arc};

use super::{bio::Bio, ffi, sysfs};
use crate::driver::{debugfs::DeviceFiles, names::Names, Device};

/// A registered dynamic block major number, with the operations table of
/// every disk under it.
///
/// # Invariants
///
/// `major` was returned by `__register_blkdev` for `names.block()` and is
/// unregistered on drop; `fops` is never moved or changed while a disk
/// refers to it.
pub(crate) struct Major {
    major: c_uint,
    /// The major's name and its disks' prefix.
    names: Names,
    fops: KBox<bindings::block_device_operations>,
}

// SAFETY: The operations table is only read (by the block layer) once built;
// the major number is plain data.
unsafe impl Send for Major {}
// SAFETY: As above: shared access never writes.
unsafe impl Sync for Major {}

impl Major {
    /// Registers a dynamic major and builds the operations table, owned by
    /// `module` so the module stays loaded while a disk is open.
    pub(crate) fn register(module: &'static ThisModule, names: Names) -> Result<Self> {
        let fops = KBox::new(
            bindings::block_device_operations {
                submit_bio: Some(submit_bio),
                open: Some(open),
                swap_slot_free_notify: Some(swap_slot_free_notify),
                owner: module.as_ptr(),
                ..pin_init::zeroed()
            },
            GFP_KERNEL,
        )?;
        // SAFETY: The name is a NUL-terminated string that lives forever; a
        // null probe callback is allowed.
        let ret = unsafe { bindings::__register_blkdev(0, names.block().as_char_ptr(), None) };
        let major = c_uint::try_from(ret).map_err(|_| Error::from_errno(ret))?;
        // INVARIANT: `major` was just registered under `names.block()`.
        Ok(Major { major, names, fops })
    }
}

impl Drop for Major {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the major is registered under this name.
        unsafe { bindings::unregister_blkdev(self.major, self.names.block().as_char_ptr()) };
    }
}

/// A device's handle on its gendisk.
///
/// # Invariants
///
/// `ptr` is null or a gendisk made by [`Disk::add`] that has not been put;
/// it is cleared after the disk is deleted and before it is put.
pub(crate) struct DiskRef {
    ptr: AtomicPtr<bindings::gendisk>,
}

impl DiskRef {
    pub(crate) const fn new() -> Self {
        DiskRef {
            ptr: AtomicPtr::new(ptr::null_mut()),
        }
    }

    fn get(&self) -> Option<NonNull<bindings::gendisk>> {
        NonNull::new(self.ptr.load(Ordering::Acquire))
    }

    /// Sets the capacity in 512-byte sectors and tells user space.
    pub(crate) fn set_capacity(&self, sectors: u64) {
        if let Some(disk) = self.get() {
            // SAFETY: Live (type invariant).
            unsafe { bindings::set_capacity_and_notify(disk.as_ptr(), sectors) };
        }
    }

    /// Sets or clears `BLK_FEAT_SYNCHRONOUS`; freezes the queue meanwhile.
    pub(crate) fn set_synchronous(&self, on: bool) -> Result {
        let Some(disk) = self.get() else {
            return Ok(());
        };
        // SAFETY: Live (type invariant); the helper freezes the queue.
        to_result(unsafe { ffi::rzram_disk_set_synchronous(disk.as_ptr().cast(), on) })
    }

    /// Writes out what the block device's page cache still holds, so that
    /// it reaches the device before the device goes away.
    pub(crate) fn sync(&self) {
        if let Some(disk) = self.get() {
            // SAFETY: Live (type invariant), and so is its `part0`.
            unsafe { bindings::sync_blockdev((*disk.as_ptr()).part0) };
        }
    }

    /// Holds the disk's `open_mutex`: no open or release runs meanwhile.
    pub(super) fn open_lock(&self) -> OpenLock<'_> {
        let disk = self.get();
        if let Some(disk) = disk {
            // SAFETY: Live (type invariant); unlocked by `OpenLock::drop`.
            unsafe { ffi::rzram_open_lock(disk.as_ptr().cast()) };
        }
        OpenLock { disk, _ref: self }
    }

    /// Waits until no bio is inside `submit_bio` and holds new ones back
    /// until the guard is dropped.
    pub(super) fn freeze(&self) -> Frozen<'_> {
        let disk = self.get();
        // SAFETY: Live (type invariant); unfrozen by `Frozen::drop`.
        let memflags = disk.map_or(0, |d| unsafe { ffi::rzram_freeze(d.as_ptr().cast()) });
        Frozen {
            disk,
            memflags,
            _ref: self,
        }
    }
}

/// A disk's `open_mutex`, held.
pub(super) struct OpenLock<'a> {
    disk: Option<NonNull<bindings::gendisk>>,
    _ref: &'a DiskRef,
}

impl OpenLock<'_> {
    /// How many times the disk is open.
    pub(super) fn openers(&self) -> u32 {
        // SAFETY: Live while `DiskRef` is borrowed; `open_mutex` is held.
        self.disk
            .map_or(0, |d| unsafe { ffi::rzram_openers(d.as_ptr().cast()) })
    }
}

impl Drop for OpenLock<'_> {
    fn drop(&mut self) {
        if let Some(disk) = self.disk {
            // SAFETY: Locked in `DiskRef::open_lock`.
            unsafe { ffi::rzram_open_unlock(disk.as_ptr().cast()) };
        }
    }
}

/// A disk's queue, frozen.
pub(super) struct Frozen<'a> {
    disk: Option<NonNull<bindings::gendisk>>,
    memflags: c_uint,
    _ref: &'a DiskRef,
}

impl Drop for Frozen<'_> {
    fn drop(&mut self) {
        if let Some(disk) = self.disk {
            // SAFETY: Frozen in `DiskRef::freeze`, with these flags.
            unsafe { ffi::rzram_unfreeze(disk.as_ptr().cast(), self.memflags) };
        }
    }
}

/// One `/dev/rzramN` (or `/dev/zramN`).
///
/// # Invariants
///
/// `gendisk` was allocated by `__blk_alloc_disk` and added with
/// `device_add_disk`; its `private_data` points to the device `device`
/// holds a reference to, until `del_gendisk` returns in `drop`.
pub(crate) struct Disk {
    gendisk: NonNull<bindings::gendisk>,
    debugfs: Option<DeviceFiles>,
    device: Arc<Device>,
}

// SAFETY: The gendisk pointer is only used to delete the disk on drop, which
// the block layer allows from any thread; `Device` is `Send + Sync`.
unsafe impl Send for Disk {}
// SAFETY: Shared access reads only `device`.
unsafe impl Sync for Disk {}

impl Disk {
    /// Creates and registers `/dev/<major's name><id>` with capacity 0: the
    /// size comes later through the `disksize` attribute.
    pub(crate) fn add(major: &Major, debugfs_root: &kernel::debugfs::Dir, id: u32) -> Result<Self> {
        let device = Arc::pin_init(Device::new(id), GFP_KERNEL)?;
        // A page is the unit of compression: only page-sized, aligned I/O
        // reaches the driver, as in zram.
        let page = crate::allocators::PAGE_SIZE as u32;
        let mut lim = bindings::queue_limits {
            logical_block_size: page,
            physical_block_size: page,
            io_min: page,
            io_opt: page,
            max_hw_discard_sectors: u32::MAX,
            max_write_zeroes_sectors: u32::MAX,
            // SAFETY: A forwarder for constants; no preconditions.
            features: unsafe { ffi::rzram_disk_features() },
            ..pin_init::zeroed()
        };
        // SAFETY: `lim` is a valid local; the lock class key is static.
        let gendisk = unsafe {
            bindings::__blk_alloc_disk(
                &mut lim,
                bindings::NUMA_NO_NODE,
                // The queue lock class, as `blk_alloc_disk()` makes per call site.
                kernel::static_lock_class!().as_ptr(),
            )
        };
        let gendisk = NonNull::new(kernel::error::from_err_ptr(gendisk)?).ok_or(ENOMEM)?;
        let raw = gendisk.as_ptr();
        // SAFETY: `gendisk` is valid and not yet visible to anybody else; the
        // device pointer stays valid as long as `Disk` holds `device`.
        let name = unsafe {
            (*raw).major = major.major as c_int;
            (*raw).first_minor = id as c_int;
            (*raw).minors = 1;
            (*raw).flags |= bindings::GENHD_FL_NO_PART as c_int;
            (*raw).fops = &*major.fops;
            (*raw).private_data = Arc::as_ptr(&device).cast_mut().cast::<c_void>();
            &mut (*raw).disk_name
        };
        // `PageWriter` keeps the name NUL-terminated within `disk_name`.
        let mut w = crate::portable::parse::PageWriter::new(&mut name[..]);
        // Cannot fail: ids below 2^20 need 12 of the 32 bytes.
        let _ = core::fmt::write(&mut w, format_args!("{}{}", major.names.prefix(), id));
        device.life().disk.ptr.store(raw, Ordering::Release);
        // SAFETY: `gendisk` is fully set up; the attribute groups are static.
        let ret = unsafe { bindings::device_add_disk(ptr::null_mut(), raw, sysfs::disk_groups()) };
        if let Err(e) = to_result(ret) {
            device
                .life()
                .disk
                .ptr
                .store(ptr::null_mut(), Ordering::Release);
            // SAFETY: `gendisk` was never added, so `put_disk` alone frees it.
            unsafe { bindings::put_disk(raw) };
            return Err(e);
        }
        let debugfs = DeviceFiles::new(debugfs_root, major.names.prefix(), device.clone()).ok();
        // INVARIANT: Added above; `device` is what `private_data` points to.
        Ok(Disk {
            gendisk,
            debugfs,
            device,
        })
    }

    /// The device behind this disk.
    pub(crate) fn device(&self) -> &Device {
        &self.device
    }
}

impl Drop for Disk {
    fn drop(&mut self) {
        // SAFETY: By the type invariant `gendisk` was added. `del_gendisk`
        // removes the sysfs files and waits for every submitter to leave.
        unsafe { bindings::del_gendisk(self.gendisk.as_ptr()) };
        drop(self.debugfs.take());
        // INVARIANT: The disk is deleted and about to be put.
        self.device
            .life()
            .disk
            .ptr
            .store(ptr::null_mut(), Ordering::Release);
        // SAFETY: The disk was deleted above; this drops the last reference.
        unsafe { bindings::put_disk(self.gendisk.as_ptr()) };
    }
}

/// Runs `f` on the device behind a gendisk created by [`Disk::add`].
///
/// # Safety
///
/// `gendisk` must be a live disk created by [`Disk::add`] whose `Disk` has
/// not been dropped, and stay so for the call.
pub(super) unsafe fn with_device<R>(
    gendisk: *mut bindings::gendisk,
    f: impl FnOnce(&Device) -> R,
) -> R {
    // SAFETY: By the function's safety requirements `private_data` points to
    // the `Device` the live `Disk` holds a reference to.
    f(unsafe { &*(*gendisk).private_data.cast::<Device>() })
}

/// `block_device_operations::submit_bio`: every bio of every disk lands here.
///
/// # Safety
///
/// Called by the block layer with a valid bio for one of our disks, while the
/// disk's queue is entered (so `del_gendisk` has not returned).
unsafe extern "C" fn submit_bio(bio: *mut bindings::bio) {
    let Some(bio) = NonNull::new(bio) else { return };
    // SAFETY: By the function's safety requirements `bio` is valid and owned
    // by us until it is ended.
    let bio = unsafe { Bio::from_raw(bio) };
    // SAFETY: A bio submitted to our disk has `bi_bdev` set to it, and the
    // disk is live while its queue is entered.
    unsafe {
        with_device(bio.gendisk(), |device| {
            // Inside `submit_bio` the queue is entered: `io_store`'s contract.
            device.submit(device.life().io_store(), bio)
        })
    }
}

/// `block_device_operations::swap_slot_free_notify`: swap no longer needs the
/// page at `index`, so its compressed copy is freed at once.
///
/// # Safety
///
/// Called by swap with a block device of one of our live disks, with the
/// swap lock held (atomic context).
unsafe extern "C" fn swap_slot_free_notify(bdev: *mut bindings::block_device, index: usize) {
    // SAFETY: `bdev` is valid for the call and belongs to a live disk of ours.
    unsafe {
        with_device((*bdev).bd_disk, |device| {
            // Swap holds the disk open: `io_store`'s contract.
            if let Some(store) = device.life().io_store() {
                device.slot_free_notify(store, index);
            }
        })
    }
}

/// `block_device_operations::open`: refused while a reset or removal holds
/// the device (zram's `claim`). Called with the disk's `open_mutex` held.
///
/// # Safety
///
/// Called by the block layer with a live disk of ours.
unsafe extern "C" fn open(disk: *mut bindings::gendisk, _mode: bindings::blk_mode_t) -> c_int {
    // SAFETY: By the function's safety requirements.
    let ret = unsafe { with_device(disk, |device| device.life().may_open()) };
    match ret {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}
