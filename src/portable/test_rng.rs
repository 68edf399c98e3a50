// SPDX-License-Identifier: GPL-2.0

//! Deterministic pseudo-random numbers for the model tests (host only), so
//! that a failing seed replays the same steps.

/// xorshift64.
pub struct XorShift(u64);

impl XorShift {
    /// A generator from `seed`; 0, xorshift's one fixed point, becomes 1.
    pub fn new(seed: u64) -> Self {
        XorShift(seed.max(1))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}
