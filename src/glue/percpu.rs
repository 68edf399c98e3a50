// SPDX-License-Identifier: GPL-2.0

//! One object per possible CPU, each behind its own mutex: zram's per-CPU
//! compression streams. A task takes the one of the CPU it runs on, and may
//! sleep or move while it holds it (the mutex keeps it exclusive), so the
//! objects are shared by CPU, not bound to it.

use core::pin::Pin;
use kernel::{
    prelude::*,
    str::CStr,
    sync::{LockClassKey, Mutex, MutexGuard},
};

/// One `T` per possible CPU.
pub(crate) struct PerCpu<T> {
    items: KVec<Pin<KBox<Mutex<T>>>>,
}

impl<T> PerCpu<T> {
    /// Builds `nr_cpu_ids` objects with `make`, their mutexes in lock class
    /// `key` (one per kind of object, so lockdep tells them apart) named
    /// `name`. Process context.
    pub(crate) fn new(
        name: &'static CStr,
        key: Pin<&'static LockClassKey>,
        mut make: impl FnMut() -> Result<T>,
    ) -> Result<Self> {
        let n = kernel::cpu::nr_cpu_ids() as usize;
        let mut items = KVec::with_capacity(n, GFP_KERNEL)?;
        for _ in 0..n {
            items.push(
                KBox::pin_init(Mutex::new(make()?, name, key), GFP_KERNEL)?,
                GFP_KERNEL,
            )?;
        }
        Ok(PerCpu { items })
    }

    /// Locks the current CPU's object. May sleep.
    pub(crate) fn lock(&self) -> Result<MutexGuard<'_, T>> {
        let cpu = kernel::cpu::CpuId::current().as_u32() as usize;
        let item = self
            .items
            .get(cpu)
            .or_else(|| self.items.first())
            .ok_or(EINVAL)?;
        Ok(item.lock())
    }
}
