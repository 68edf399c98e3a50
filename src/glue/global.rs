// SPDX-License-Identifier: GPL-2.0

//! The module's one global: the device registry behind a mutex (the
//! kernel's `global_lock!`, which must be initialised before first use).

use core::sync::atomic::{AtomicBool, Ordering};
use kernel::prelude::*;

use crate::driver::registry::Registry;

kernel::sync::global_lock! {
    // SAFETY: `init` initialises it before any use: `with_registry` refuses
    // to lock it until `READY` says `init` has run.
    unsafe(uninit) static DEVICES: Mutex<Registry> = Registry::new();
}

/// Set once by the first `init`.
static STARTED: AtomicBool = AtomicBool::new(false);
/// Set once `DEVICES` is initialised.
static READY: AtomicBool = AtomicBool::new(false);

/// Initialises the registry's mutex; only the first call does anything.
pub(crate) fn init() {
    if STARTED.swap(true, Ordering::AcqRel) {
        return;
    }
    // SAFETY: Only the first caller gets here, once, and nobody locks the
    // mutex before `READY` is set below.
    unsafe { DEVICES.init() };
    READY.store(true, Ordering::Release);
}

/// Runs `f` with the registry locked; `ENODEV` before [`init`].
pub(crate) fn with_registry<R>(f: impl FnOnce(&mut Registry) -> R) -> Result<R> {
    if !READY.load(Ordering::Acquire) {
        return Err(ENODEV);
    }
    let mut guard = DEVICES.lock();
    Ok(f(&mut guard))
}
