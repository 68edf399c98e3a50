// SPDX-License-Identifier: GPL-2.0

//! Automatic writeback's worker and shrinker: a safe type over `tier.c`.
//!
//! A [`Tier`] calls back into its owner (a [`TierOwner`], the device) from
//! the worker (`run`) and from the shrinker (`count`, `scan`); the owner
//! decides what to write back. Writers that need room kick the worker and
//! wait, boundedly, for the next batch ([`Tier::gen`], [`Tier::wait`]).

use core::ffi::{c_uint, c_ulong, c_void};
use core::marker::PhantomData;
use core::ptr::NonNull;
use kernel::ffi::c_char;
use kernel::prelude::*;

use crate::driver::Device;

#[repr(C)]
struct RawTier {
    _opaque: [u8; 0],
}

#[repr(C)]
struct RawOps {
    run: unsafe extern "C" fn(*const c_void, *mut RawTier),
    count: unsafe extern "C" fn(*const c_void) -> c_ulong,
    scan: unsafe extern "C" fn(*const c_void, *mut RawTier, c_ulong) -> c_ulong,
}

extern "C" {
    fn rzram_tier_new(
        ops: *const RawOps,
        owner: *const c_void,
        prefix: *const c_char,
        id: c_uint,
    ) -> *mut RawTier;
    fn rzram_tier_free(t: *mut RawTier);
    fn rzram_tier_kick(t: *mut RawTier);
    fn rzram_tier_gen(t: *mut RawTier) -> c_uint;
    fn rzram_tier_progress(t: *mut RawTier);
    fn rzram_tier_wait(t: *mut RawTier, gen: c_uint, ms: c_uint) -> bool;
}

/// What the worker and the shrinker call.
pub(crate) trait TierOwner: Sync {
    /// The worker's pass: write back what is wanted, then return.
    fn run(&self, tier: TierRef<'_>);
    /// The shrinker's count: objects it could shed now (0: none or off).
    fn count(&self) -> usize;
    /// The shrinker's scan of `nr` objects: what was shed since the last
    /// scan, or `None` to stop (shrinker off).
    fn scan(&self, tier: TierRef<'_>, nr: usize) -> Option<usize>;
}

/// The shrinker's "stop" answer.
const SHRINK_STOP: c_ulong = !0;

struct Ops<T>(PhantomData<T>);

impl<T: TierOwner> Ops<T> {
    const RAW: RawOps = RawOps {
        run: Self::run,
        count: Self::count,
        scan: Self::scan,
    };

    /// # Safety
    ///
    /// `owner` must be the `T` given to [`Tier::new`], live for `'a`.
    unsafe fn owner<'a>(owner: *const c_void) -> &'a T {
        // SAFETY: The caller guarantees `owner` is a live `T`.
        unsafe { &*owner.cast::<T>() }
    }

    /// # Safety
    ///
    /// Called by `tier.c` only, with the tier's owner and its live tier.
    unsafe extern "C" fn run(owner: *const c_void, t: *mut RawTier) {
        // SAFETY: The worker runs only while the tier exists (freeing it
        // cancels the work), and the owner outlives the tier (`Tier::new`).
        let o = unsafe { Self::owner(owner) };
        if let Some(raw) = NonNull::new(t) {
            o.run(TierRef::new(raw));
        }
    }

    /// # Safety
    ///
    /// As for `run`.
    unsafe extern "C" fn count(owner: *const c_void) -> c_ulong {
        // SAFETY: The shrinker is freed first when the tier goes, and the
        // owner outlives the tier.
        let o = unsafe { Self::owner(owner) };
        o.count() as c_ulong
    }

    /// # Safety
    ///
    /// As for `run`.
    unsafe extern "C" fn scan(owner: *const c_void, t: *mut RawTier, nr: c_ulong) -> c_ulong {
        // SAFETY: As in `count`.
        let o = unsafe { Self::owner(owner) };
        let Some(raw) = NonNull::new(t) else {
            return SHRINK_STOP;
        };
        match o.scan(TierRef::new(raw), nr as usize) {
            Some(n) => n as c_ulong,
            None => SHRINK_STOP,
        }
    }
}

/// The worker and shrinker of one device.
///
/// # Invariants
///
/// `raw` is a live `rzram_tier` owned by this value, whose callbacks get
/// an owner that outlives it.
pub(crate) struct Tier {
    raw: NonNull<RawTier>,
}

// SAFETY: Every `rzram_tier` operation is safe from any thread.
unsafe impl Send for Tier {}
// SAFETY: As above.
unsafe impl Sync for Tier {}

impl Tier {
    /// Starts `dev`'s worker and registers its shrinker (`rzramN`).
    pub(crate) fn new(dev: &Device) -> Result<Self> {
        // A `Device` lives only in the `Arc` its `Disk` holds (`gendisk.rs`
        // makes them nowhere else), and it keeps its tier in its store,
        // which it drops before itself (in `reset` or in its own drop).
        // SAFETY: So `dev` never moves and outlives the tier.
        unsafe { Self::with_owner(dev, c"rzram", dev.id) }
    }

    /// # Safety
    ///
    /// `owner` must stay valid, and not move, until the tier is dropped.
    unsafe fn with_owner<T: TierOwner>(owner: &T, prefix: &CStr, id: u32) -> Result<Self> {
        let ops: &'static RawOps = &Ops::<T>::RAW;
        let owner: *const T = owner;
        // SAFETY: `ops` is static; the owner outlives the tier (caller's
        // contract); `prefix` is a NUL-terminated string for the call.
        let raw = unsafe { rzram_tier_new(ops, owner.cast(), prefix.as_char_ptr(), id) };
        Ok(Tier {
            raw: NonNull::new(raw).ok_or(ENOMEM)?,
        })
    }

    /// A handle for kicking and waiting.
    pub(crate) fn handle(&self) -> TierRef<'_> {
        TierRef::new(self.raw)
    }
}

impl Drop for Tier {
    fn drop(&mut self) {
        // SAFETY: Owned; stops the shrinker and the worker, then frees.
        unsafe { rzram_tier_free(self.raw.as_ptr()) };
    }
}

/// A live tier, borrowed.
///
/// # Invariants
///
/// `raw` is a live `rzram_tier` for `'a`.
#[derive(Clone, Copy)]
pub(crate) struct TierRef<'a> {
    raw: NonNull<RawTier>,
    _tier: PhantomData<&'a Tier>,
}

impl TierRef<'_> {
    /// `raw` must be live for the borrow (callers: `Tier::handle` and the
    /// callbacks, during which the tier exists).
    fn new(raw: NonNull<RawTier>) -> Self {
        TierRef {
            raw,
            _tier: PhantomData,
        }
    }

    /// Runs the worker's pass soon.
    pub(crate) fn kick(self) {
        // SAFETY: Live (type invariant).
        unsafe { rzram_tier_kick(self.raw.as_ptr()) }
    }

    /// The batch generation, to wait for the next one.
    pub(crate) fn gen(self) -> u32 {
        // SAFETY: Live (type invariant).
        unsafe { rzram_tier_gen(self.raw.as_ptr()) }
    }

    /// Tells waiting writers a batch finished.
    pub(crate) fn progress(self) {
        // SAFETY: Live (type invariant).
        unsafe { rzram_tier_progress(self.raw.as_ptr()) }
    }

    /// Waits up to `ms` for a batch after generation `gen`; whether one
    /// finished.
    pub(crate) fn wait(self, gen: u32, ms: u32) -> bool {
        // SAFETY: Live (type invariant); sleeps, as the callers may.
        unsafe { rzram_tier_wait(self.raw.as_ptr(), gen, ms) }
    }
}
