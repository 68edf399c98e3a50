// SPDX-License-Identifier: GPL-2.0

//! Gendisk life cycle: the dynamic major, one bio-based disk per device, and
//! the block device operations table.
//!
//! The 7.3 Rust block abstractions create blk-mq disks only; rzram is
//! bio-based like zram (no request overhead, and only a bio-based driver gets
//! `swap_slot_free_notify`), so this file uses the raw bindings directly.

use core::{
    ffi::{c_int, c_uint},
    ptr,
};
use kernel::{
    bindings,
    error::to_result,
    prelude::*,
    //
};

use crate::{
    bio::Bio,
    debugfs::DeviceFiles,
    device::Device,
    sysfs, //
};

extern "C" {
    fn rzram_disk_features() -> u32;
}

/// Name of the major, of the disks (`rzramN`) and of the module.
pub(crate) const NAME: &CStr = c"rzram";

/// A registered dynamic block major number, with the operations table of
/// every disk under it.
///
/// # Invariants
///
/// `major` was returned by `__register_blkdev` and is unregistered on drop;
/// `fops` is never moved or changed while a disk refers to it.
pub(crate) struct Major {
    major: c_uint,
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
    pub(crate) fn register(module: &'static ThisModule) -> Result<Self> {
        // SAFETY: `NAME` is a NUL-terminated string that lives forever; a null
        // probe callback is allowed.
        let ret = unsafe { bindings::__register_blkdev(0, NAME.as_char_ptr(), None) };
        if ret < 0 {
            return Err(Error::from_errno(ret));
        }
        let fops = KBox::new(
            bindings::block_device_operations {
                submit_bio: Some(submit_bio),
                open: Some(open),
                swap_slot_free_notify: Some(swap_slot_free_notify),
                owner: module.as_ptr(),
                // SAFETY: All-zero is a valid value for the remaining fields:
                // null function pointers and null pointers.
                ..unsafe { core::mem::zeroed() }
            },
            GFP_KERNEL,
        );
        let fops = match fops {
            Ok(fops) => fops,
            Err(e) => {
                // SAFETY: The major was registered above with this name.
                unsafe { bindings::unregister_blkdev(ret as c_uint, NAME.as_char_ptr()) };
                return Err(e.into());
            }
        };
        // INVARIANT: `ret` is the major just registered.
        Ok(Major {
            major: ret as c_uint,
            fops,
        })
    }
}

impl Drop for Major {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the major is registered under `NAME`.
        unsafe { bindings::unregister_blkdev(self.major, NAME.as_char_ptr()) };
    }
}

/// One `/dev/rzramN`.
///
/// # Invariants
///
/// `gendisk` was allocated by `__blk_alloc_disk` and added with
/// `device_add_disk`; its `private_data` is the pointer owned by `device`,
/// which stays valid until `del_gendisk` returns in `drop`.
pub(crate) struct Disk {
    gendisk: *mut bindings::gendisk,
    debugfs: Option<DeviceFiles>,
    device: Option<Pin<KBox<Device>>>,
}

// SAFETY: The gendisk pointer is only used to delete the disk on drop, which
// the block layer allows from any thread; `Device` is `Send`.
unsafe impl Send for Disk {}
// SAFETY: `Disk` has no `&self` methods that touch shared state.
unsafe impl Sync for Disk {}

impl Disk {
    /// Creates and registers `/dev/rzram<id>` with capacity 0: the size
    /// comes later through the `disksize` attribute.
    pub(crate) fn add(major: &Major, debugfs_root: &kernel::debugfs::Dir, id: u32) -> Result<Self> {
        let device = KBox::pin_init(Device::new(id), GFP_KERNEL)?;
        let mut lim = bindings::queue_limits {
            // A page is the unit of compression: only page-sized, aligned
            // I/O reaches the driver, as in zram.
            logical_block_size: bindings::PAGE_SIZE as u32,
            physical_block_size: bindings::PAGE_SIZE as u32,
            io_min: bindings::PAGE_SIZE as u32,
            io_opt: bindings::PAGE_SIZE as u32,
            max_hw_discard_sectors: u32::MAX,
            max_write_zeroes_sectors: u32::MAX,
            // SAFETY: A forwarder for constants; no preconditions.
            features: unsafe { rzram_disk_features() },
            // SAFETY: Zero is the documented default of every other limit.
            ..unsafe { core::mem::zeroed() }
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
        let gendisk = kernel::error::from_err_ptr(gendisk)?;
        let dev_ptr: *const Device = &*device;
        // SAFETY: `gendisk` is valid and not yet visible to anybody else.
        let name = unsafe {
            (*gendisk).major = major.major as c_int;
            (*gendisk).first_minor = id as c_int;
            (*gendisk).minors = 1;
            (*gendisk).flags |= bindings::GENHD_FL_NO_PART as c_int;
            (*gendisk).fops = &*major.fops;
            (*gendisk).private_data = dev_ptr as *mut c_void;
            &mut (*gendisk).disk_name
        };
        // `PageWriter` keeps the name NUL-terminated within `disk_name`.
        let mut w = crate::parse::PageWriter::new(&mut name[..]);
        let _ = core::fmt::write(&mut w, format_args!("rzram{}", id));
        device.set_gendisk(gendisk);
        // SAFETY: `gendisk` is fully set up; the attribute groups are static.
        let ret = unsafe { bindings::device_add_disk(ptr::null_mut(), gendisk, sysfs::groups()) };
        if let Err(e) = to_result(ret) {
            // SAFETY: `gendisk` was never added, so `put_disk` alone frees it.
            unsafe { bindings::put_disk(gendisk) };
            return Err(e);
        }
        // SAFETY: `Disk::drop` drops the files before the device.
        let debugfs = unsafe { DeviceFiles::new(debugfs_root, &device) }.ok();
        // INVARIANT: added above; `device` owns the `private_data` target.
        Ok(Disk {
            gendisk,
            debugfs,
            device: Some(device),
        })
    }

    /// The device behind this disk.
    pub(crate) fn device(&self) -> Result<&Device> {
        self.device.as_deref().ok_or(ENODEV)
    }
}

impl Drop for Disk {
    fn drop(&mut self) {
        // SAFETY: By the type invariant `gendisk` was added. `del_gendisk`
        // removes the sysfs files and waits for every submitter to leave.
        unsafe { bindings::del_gendisk(self.gendisk) };
        // Nothing can reach the device any more: free its memory.
        drop(self.debugfs.take());
        drop(self.device.take());
        // SAFETY: The disk was deleted above; this drops the last reference.
        unsafe { bindings::put_disk(self.gendisk) };
    }
}

/// Returns the device behind a gendisk created by [`Disk::add`].
///
/// # Safety
///
/// `gendisk` must be a live disk created by [`Disk::add`] whose `Disk` has
/// not finished dropping, and the caller must not outlive that.
pub(crate) unsafe fn device_of<'a>(gendisk: *mut bindings::gendisk) -> &'a Device {
    // SAFETY: By the function's safety requirements `private_data` points to
    // the `Device` owned by the live `Disk`.
    unsafe { &*(*gendisk).private_data.cast::<Device>() }
}

/// `block_device_operations::submit_bio`: every bio of every disk lands here.
///
/// # Safety
///
/// Called by the block layer with a valid bio for one of our disks, while the
/// disk's queue is entered (so `del_gendisk` has not returned).
unsafe extern "C" fn submit_bio(bio: *mut bindings::bio) {
    // SAFETY: By the function's safety requirements `bio` is valid and owned
    // by us until it is ended.
    let bio = unsafe { Bio::from_raw(bio) };
    // SAFETY: A bio submitted to our disk has `bi_bdev` set to it, and the
    // disk is live while its queue is entered.
    let device = unsafe { device_of(bio.gendisk()) };
    device.submit(bio);
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
    let device = unsafe { device_of((*bdev).bd_disk) };
    device.slot_free_notify(index);
}

/// `block_device_operations::open`: refused while a reset or removal holds
/// the device (zram's `claim`). Called with the disk's `open_mutex` held.
///
/// # Safety
///
/// Called by the block layer with a live disk of ours.
unsafe extern "C" fn open(disk: *mut bindings::gendisk, _mode: bindings::blk_mode_t) -> c_int {
    // SAFETY: By the function's safety requirements.
    let device = unsafe { device_of(disk) };
    match device.may_open() {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}
