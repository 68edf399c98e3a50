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
//!
//! Reserving is next-fit: the search starts after the block reserved last
//! and wraps around. Consecutive reservations get adjacent blocks, so a
//! batch of writes, and later the reads of neighbouring pages, reach the
//! device as a few large requests; and a reservation costs a word or two,
//! not a scan from block 0 over a device that fills up from the start.

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
    /// Where the next search starts (a hint: any value is safe).
    next: AtomicUsize,
}

impl<S: Deref<Target = [AtomicUsize]>> Blocks<S> {
    /// A bitmap of `len` free blocks over zeroed `words`; `None` if there
    /// are too few words.
    pub fn new(words: S, len: usize) -> Option<Self> {
        if words.len() < words_for(len)? {
            return None;
        }
        Some(Blocks {
            words,
            len,
            next: AtomicUsize::new(0),
        })
    }

    /// Takes the first free block at or after the hint, wrapping around;
    /// `None` when all are in use.
    pub fn reserve(&self) -> Option<usize> {
        let words = words_for(self.len)?;
        if words == 0 {
            return None;
        }
        let start = self.next.load(Ordering::Relaxed);
        let start = if start < self.len { start } else { 0 };
        let (first, from) = (start / BITS, start % BITS);
        // The first word from the hint on, every other word, then the first
        // word again from its start: `words + 1` visits cover every block.
        for k in 0..=words {
            let w = (first + k) % words;
            let floor = if k == 0 { from } else { 0 };
            if let Some(block) = self.take_in(w, floor) {
                self.next.store(block + 1, Ordering::Relaxed);
                return Some(block);
            }
        }
        None
    }

    /// Takes the lowest free block of word `w` at bit `floor` or above.
    fn take_in(&self, w: usize, floor: usize) -> Option<usize> {
        let word = self.words.get(w)?;
        // `floor < BITS`: the bits below it count as taken.
        let below = (1usize << (floor % BITS)) - 1;
        let mut cur = word.load(Ordering::Relaxed);
        loop {
            let free = !(cur | below);
            if free == 0 {
                return None;
            }
            let bit = free.trailing_zeros() as usize;
            let block = w.checked_mul(BITS)?.checked_add(bit)?;
            if block >= self.len {
                return None;
            }
            let prev = word.fetch_or(1 << bit, Ordering::AcqRel);
            if prev & (1 << bit) == 0 {
                return Some(block);
            }
            cur = prev | (1 << bit);
        }
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
