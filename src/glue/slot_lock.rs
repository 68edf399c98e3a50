// SPDX-License-Identifier: GPL-2.0

//! The kernel side of the slot lock (`portable/slot.rs`): waiters sleep on
//! the lock bit in the kernel's bit waitqueues, and lockdep sees every slot
//! lock of a device as one lock, zram's `slot_lock()` design. A holder may
//! sleep (decompression, a stream mutex); an atomic context only ever uses
//! `try_lock`.

use core::{ptr::NonNull, sync::atomic::AtomicUsize};
use kernel::prelude::*;

use super::ffi::{self, SlotClass};
use crate::portable::slot::{SlotWaiter, LOCK_BIT};

/// The slot locks of one device, as the kernel waits for and checks them.
///
/// # Invariants
///
/// `class` came from `rzram_slot_class_new` and is freed only on drop.
pub(crate) struct SlotLocks {
    class: NonNull<SlotClass>,
}

// SAFETY: The class is only handed to lockdep, which may be called from any
// thread; it never moves.
unsafe impl Send for SlotLocks {}
// SAFETY: As above: shared use only passes the pointer to lockdep.
unsafe impl Sync for SlotLocks {}

impl SlotLocks {
    /// Registers a lockdep class for a device's slots. Process context.
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: No preconditions; returns null when out of memory.
        let class = unsafe { ffi::rzram_slot_class_new() };
        // INVARIANT: Freshly made by `rzram_slot_class_new`.
        Ok(SlotLocks {
            class: NonNull::new(class).ok_or(ENOMEM)?,
        })
    }
}

impl Drop for SlotLocks {
    fn drop(&mut self) {
        // SAFETY: By the type invariant, and no slot lock of this class is
        // held: the guards borrow `self`.
        unsafe { ffi::rzram_slot_class_free(self.class.as_ptr()) };
    }
}

impl SlotWaiter for SlotLocks {
    fn wait(&self, flags: &AtomicUsize) {
        // The caller sleeps: only `try_lock` runs in atomic context.
        // SAFETY: `flags` is a live word (an `unsigned long` to C); waiting on
        // one of its bits has no other precondition.
        unsafe { ffi::rzram_slot_wait(flags.as_ptr().cast(), LOCK_BIT) };
    }

    fn wake(&self, flags: &AtomicUsize) {
        // SAFETY: As in `wait`; the lock bit was just cleared with an atomic
        // read-modify-write, which `rzram_slot_wake` relies on.
        unsafe { ffi::rzram_slot_wake(flags.as_ptr().cast(), LOCK_BIT) };
    }

    fn acquire(&self, try_lock: bool) {
        // SAFETY: The class is live (type invariant).
        unsafe { ffi::rzram_slot_acquire(self.class.as_ptr(), try_lock) };
    }

    fn acquired(&self) {
        // SAFETY: The class is live (type invariant).
        unsafe { ffi::rzram_slot_acquired(self.class.as_ptr()) };
    }

    fn release(&self) {
        // SAFETY: The class is live (type invariant), and this releases the
        // acquisition the same guard made.
        unsafe { ffi::rzram_slot_release(self.class.as_ptr()) };
    }
}
