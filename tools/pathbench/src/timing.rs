// SPDX-License-Identifier: GPL-2.0
//! Timers: best-of runs, the cycle counter for single calls, percentiles.

use std::time::Instant;

/// Best (shortest) of `reps` runs of `f`, in ns per page.
pub fn best(reps: usize, pages: usize, mut f: impl FnMut() -> f64) -> f64 {
    (0..reps).map(|_| f()).fold(f64::MAX, f64::min) * 1e9 / pages as f64
}

/// Cycles that two back-to-back [`ticks`] calls take, the least of many.
pub fn tick_overhead() -> u64 {
    (0..10_000)
        .map(|_| ticks().wrapping_neg().wrapping_add(ticks()))
        .min()
        .unwrap_or(0)
}

/// A cycle counter for timing single operations: the TSC on x86_64 (a few
/// ns to read), else the monotonic clock in ns.
pub fn ticks() -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: RDTSC has no preconditions; every x86_64 CPU has it.
        unsafe { core::arch::x86_64::_rdtsc() }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        use std::sync::OnceLock;
        static START: OnceLock<Instant> = OnceLock::new();
        START.get_or_init(Instant::now).elapsed().as_nanos() as u64
    }
}

/// Nanoseconds per [`ticks`] unit, measured over 50 ms.
pub fn ns_per_tick() -> f64 {
    let (t, c) = (Instant::now(), ticks());
    while t.elapsed().as_millis() < 50 {
        std::hint::spin_loop();
    }
    t.elapsed().as_nanos() as f64 / (ticks() - c).max(1) as f64
}

/// p50, p99, p99.9 and max of `v` in ns.
pub fn percentiles(v: &mut [u64], ns: f64) -> [f64; 4] {
    v.sort_unstable();
    let at = |q: f64| {
        v.get(((v.len() as f64 - 1.0) * q) as usize)
            .copied()
            .unwrap_or(0) as f64
            * ns
    };
    [at(0.5), at(0.99), at(0.999), at(1.0)]
}
