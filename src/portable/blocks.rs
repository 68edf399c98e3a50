// SPDX-License-Identifier: GPL-2.0

//! Which blocks of the backing device hold a written-back page: one bit
//! per page-sized block, as zram's `bitmap`.
//!
//! Design: the words are atomics so that a block is freed from any
//! context without a lock (an overwrite, a discard, and swap's slot-free
//! notification, which runs in atomic context). Reserving takes a free
//! bit with an atomic OR, so two reservations never win the same block
//! even if they race (the driver reserves under its settings lock anyway).
//! The storage is the caller's (a `KVVec` in the module, a `Vec` here).

use core::ops::Deref;
use core::sync::atomic::{AtomicUsize, Ordering};

/// Bits per word.
const BITS: usize = usize::BITS as usize;

/// Words needed for `blocks` bits; `None` on overflow.
pub const fn words_for(blocks: usize) -> Option<usize> {
    match blocks.checked_add(BITS - 1) {
        Some(b) => Some(b / BITS),
        None => None,
    }
}

/// A bitmap of `len` blocks over words `S`.
///
/// # Invariants
///
/// `words` has at least `words_for(len)` words; bits at `len` and above are
/// never set.
pub struct Blocks<S> {
    words: S,
    len: usize,
}

impl<S: Deref<Target = [AtomicUsize]>> Blocks<S> {
    /// A bitmap of `len` free blocks over zeroed `words`; `None` if there
    /// are too few words.
    pub fn new(words: S, len: usize) -> Option<Self> {
        if words.len() < words_for(len)? {
            return None;
        }
        Some(Blocks { words, len })
    }

    /// Takes the lowest free block; `None` when all are in use.
    pub fn reserve(&self) -> Option<usize> {
        for (w, word) in self.words.iter().enumerate() {
            let mut cur = word.load(Ordering::Relaxed);
            loop {
                let bit = (!cur).trailing_zeros() as usize;
                let block = w.checked_mul(BITS)?.checked_add(bit)?;
                if bit >= BITS || block >= self.len {
                    break;
                }
                let prev = word.fetch_or(1 << bit, Ordering::AcqRel);
                if prev & (1 << bit) == 0 {
                    return Some(block);
                }
                cur = prev | (1 << bit);
            }
        }
        None
    }

    /// Frees `block`; returns whether it was in use (false is a caller bug
    /// or an index out of range, and changes nothing).
    pub fn release(&self, block: usize) -> bool {
        if block >= self.len {
            return false;
        }
        let Some(word) = self.words.get(block / BITS) else {
            return false;
        };
        let bit = 1 << (block % BITS);
        word.fetch_and(!bit, Ordering::AcqRel) & bit != 0
    }

    /// Whether `block` is in use (a racy snapshot).
    pub fn in_use(&self, block: usize) -> bool {
        block < self.len
            && self
                .words
                .get(block / BITS)
                .is_some_and(|w| w.load(Ordering::Relaxed) & (1 << (block % BITS)) != 0)
    }
}

#[cfg(test)]
mod tests;
