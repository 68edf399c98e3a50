// SPDX-License-Identifier: GPL-2.0

//! A device's life cycle: its settings, and the store that `disksize`
//! builds and `reset` frees, which the I/O path reads without a lock.
//!
//! The store is published through an atomic pointer. Sysfs and debugfs
//! reach it only with the settings lock held ([`Locked`]); the I/O path
//! (`gendisk.rs`'s callbacks) reads it without a lock, so it is taken away
//! only with the settings lock held, while a [`Claim`] shows the disk has no
//! opener and takes none, and with the queue frozen: no bio is in flight,
//! and swap, the one caller outside a bio (`swap_slot_free_notify`), needs
//! the disk open. The disk's size changes in the same critical section as
//! the store, so readers of both never see them disagree.
//!
//! Lock order: the registry mutex, the disk's `open_mutex` (only inside
//! [`Lifecycle::claim`]), the settings mutex, then the queue freeze.

use core::{
    ptr,
    sync::atomic::{AtomicBool, AtomicPtr, Ordering},
};
use kernel::{
    prelude::*,
    sync::{Mutex, MutexGuard},
};

use super::gendisk::DiskRef;

/// Settings of type `C` and, once initialised, a store of type `T`.
///
/// # Invariants
///
/// `store` is null or came from `KBox::into_raw` and is owned by this
/// object. It changes only with `config` locked; it becomes null only while
/// `claim` is set by a live [`Claim`] and the disk's queue is frozen.
#[pin_data(PinnedDrop)]
pub(crate) struct Lifecycle<C, T> {
    #[pin]
    config: Mutex<C>,
    store: AtomicPtr<T>,
    /// Set while a [`Claim`] exists: opens fail with `EBUSY`.
    claim: AtomicBool,
    /// The gendisk whose size follows the store.
    pub(crate) disk: DiskRef,
}

// These two replace the impls the atomic pointer alone would give for any
// `T`. SAFETY: The store is shared across threads only as `&T`, which needs
// `T: Sync`, and taken away as a `KBox<T>` by whichever thread resets the
// device, which needs `T: Send`; the settings are behind a mutex.
unsafe impl<C: Send, T: Send + Sync> Send for Lifecycle<C, T> {}
// SAFETY: As above.
unsafe impl<C: Send, T: Send + Sync> Sync for Lifecycle<C, T> {}

impl<C, T> Lifecycle<C, T> {
    /// An uninitialised device with settings `config`.
    pub(crate) fn new(config: C) -> impl PinInit<Self> {
        pin_init!(Lifecycle {
            config <- kernel::new_mutex!(config, "rzram_config"),
            store: AtomicPtr::new(ptr::null_mut()),
            claim: AtomicBool::new(false),
            disk: DiskRef::new(),
        })
    }

    /// Locks the settings (zram's `dev_lock` for writing). May sleep.
    pub(crate) fn lock(&self) -> Locked<'_, C, T> {
        Locked {
            life: self,
            config: self.config.lock(),
        }
    }

    /// The store for the I/O path, without a lock.
    ///
    /// Only `gendisk.rs`'s callbacks may call it: a bio callback runs with
    /// the queue entered, so the store cannot be taken away while it runs;
    /// `swap_slot_free_notify` runs for swap, which holds the disk open, so
    /// no [`Claim`] (and no taking away) can exist meanwhile.
    pub(in crate::glue) fn io_store(&self) -> Option<&T> {
        let p = self.store.load(Ordering::Acquire);
        // SAFETY: Non-null came from `KBox::into_raw` (type invariant), and
        // by this function's contract it is not freed while `&self` lives.
        unsafe { p.as_ref() }
    }

    /// `open`: refused while a claim is held.
    pub(crate) fn may_open(&self) -> Result {
        if self.claim.load(Ordering::Relaxed) {
            return Err(EBUSY);
        }
        Ok(())
    }

    /// Claims the device if nobody has it open (`EBUSY` otherwise); opens
    /// fail until the claim is dropped.
    pub(crate) fn claim(&self) -> Result<Claim<'_, C, T>> {
        let open = self.disk.open_lock();
        if open.openers() > 0 || self.claim.load(Ordering::Relaxed) {
            return Err(EBUSY);
        }
        self.claim.store(true, Ordering::Relaxed);
        drop(open);
        Ok(Claim { life: self })
    }
}

#[pinned_drop]
impl<C, T> PinnedDrop for Lifecycle<C, T> {
    fn drop(self: Pin<&mut Self>) {
        let p = self.store.swap(ptr::null_mut(), Ordering::Acquire);
        if !p.is_null() {
            // SAFETY: Owned (type invariant); the device is going away, so
            // its disk was deleted and nothing else can reach the store.
            drop(unsafe { KBox::from_raw(p) });
        }
    }
}

/// The settings lock held, with the store as it stands.
pub(crate) struct Locked<'a, C, T> {
    life: &'a Lifecycle<C, T>,
    config: MutexGuard<'a, C>,
}

impl<C: Unpin, T> Locked<'_, C, T> {
    /// The settings, and the store if there is one.
    pub(crate) fn parts(&mut self) -> (&mut C, Option<&T>) {
        let p = self.life.store.load(Ordering::Acquire);
        // SAFETY: Non-null came from `KBox::into_raw` (type invariant) and is
        // freed only by `retire`, which needs `&mut self`, borrowed here.
        (&mut self.config, unsafe { p.as_ref() })
    }

    /// The store, `None` before initialisation.
    pub(crate) fn store(&self) -> Option<&T> {
        let p = self.life.store.load(Ordering::Acquire);
        // SAFETY: Non-null came from `KBox::into_raw` (type invariant) and is
        // freed only by `retire`, which needs `&mut self`.
        unsafe { p.as_ref() }
    }

    /// Makes `store` the device's, sized `sectors`; `EBUSY` if it has one.
    pub(crate) fn publish(&mut self, store: KBox<T>, sectors: u64) -> Result {
        if self.store().is_some() {
            return Err(EBUSY);
        }
        // INVARIANT: From `KBox::into_raw`, with the settings locked.
        self.life
            .store
            .store(KBox::into_raw(store), Ordering::Release);
        self.life.disk.set_capacity(sectors);
        Ok(())
    }

    /// Takes the store away and sets the disk's size to 0, under `claim`
    /// of the same device (else it does nothing and returns `None`).
    pub(crate) fn retire(&mut self, claim: &Claim<'_, C, T>) -> Option<KBox<T>> {
        if !ptr::eq(claim.life, self.life) {
            return None;
        }
        let frozen = self.life.disk.freeze();
        // INVARIANT: Settings locked, claim held, queue frozen.
        let p = self.life.store.swap(ptr::null_mut(), Ordering::Acquire);
        drop(frozen);
        if p.is_null() {
            return None;
        }
        self.life.disk.set_capacity(0);
        // SAFETY: Owned (type invariant), unpublished; no bio that saw it is in
        // flight (queue frozen) and the claim excludes lock-free readers.
        Some(unsafe { KBox::from_raw(p) })
    }
}

/// The device has no opener and accepts none until this is dropped.
pub(crate) struct Claim<'a, C, T> {
    life: &'a Lifecycle<C, T>,
}

impl<C, T> Claim<'_, C, T> {
    /// Keeps the claim for good: the device is being removed.
    pub(crate) fn keep(self) {
        core::mem::forget(self);
    }
}

impl<C, T> Drop for Claim<'_, C, T> {
    fn drop(&mut self) {
        self.life.claim.store(false, Ordering::Relaxed);
    }
}
