// SPDX-License-Identifier: GPL-2.0

//! Giving the CPU away in long loops.

/// Lets another task run if one is waiting for this CPU (the kernel's
/// `cond_resched`). Loops over a whole device (`idle`, `writeback`,
/// `recompress`, `block_state`: millions of slots on a large disk) call it
/// between slots, as zram does, so that a kernel without full preemption
/// (Debian's default is voluntary) does not stall other tasks meanwhile.
/// Only in process context with no spinlock held: it may sleep.
pub(crate) fn cond_resched() {
    // SAFETY: No arguments; the callers run in process context without
    // spinlocks (see above), where the kernel allows rescheduling.
    unsafe { super::ffi::rzram_cond_resched() }
}
