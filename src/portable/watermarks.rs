// SPDX-License-Identifier: GPL-2.0

//! `writeback_watermarks`: when automatic writeback starts and stops, in
//! percent of `mem_limit`.
//!
//! The pool reaching HIGH % of the limit starts a writeback pass, which
//! runs until the pool is under LOW %: the gap keeps the worker from
//! starting and stopping on every write. Both numbers live packed in one
//! `u32` ([`Watermarks::pack`]) so that a reader never sees a HIGH from
//! one write with a LOW from another.

use super::parse::{parse_u32, Errno, EINVAL};

/// A valid pair: `0 < low < high <= 100`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Watermarks {
    high: u8,
    low: u8,
}

impl Watermarks {
    /// The default, `90 75`: room for a burst of writes above the mark
    /// before the limit, and a pass that frees a seventh of the pool, so
    /// passes are few and each one writes a useful amount.
    pub const DEFAULT: Watermarks = Watermarks { high: 90, low: 75 };

    /// A pair, if it is valid.
    pub fn new(high: u32, low: u32) -> Option<Self> {
        if low == 0 || low >= high || high > 100 {
            return None;
        }
        Some(Watermarks {
            high: u8::try_from(high).ok()?,
            low: u8::try_from(low).ok()?,
        })
    }

    /// `HIGH LOW` as written to the attribute: two decimal numbers
    /// separated by blanks, an optional trailing newline; `EINVAL` for
    /// anything else or an invalid pair.
    pub fn parse(buf: &[u8]) -> Result<Self, Errno> {
        let buf = buf.strip_suffix(b"\n").unwrap_or(buf);
        let mut words = buf
            .split(|&c| c == b' ' || c == b'\t')
            .filter(|w| !w.is_empty());
        let (Some(high), Some(low), None) = (words.next(), words.next(), words.next()) else {
            return Err(EINVAL);
        };
        let high = parse_u32(high, 10).map_err(|_| EINVAL)?;
        let low = parse_u32(low, 10).map_err(|_| EINVAL)?;
        Watermarks::new(high, low).ok_or(EINVAL)
    }

    /// HIGH, in percent.
    pub fn high(self) -> u32 {
        u32::from(self.high)
    }

    /// LOW, in percent.
    pub fn low(self) -> u32 {
        u32::from(self.low)
    }

    /// Both in one word, for an atomic.
    pub fn pack(self) -> u32 {
        (u32::from(self.high) << 8) | u32::from(self.low)
    }

    /// The pair [`pack`](Self::pack) made; the default for any other word.
    pub fn unpack(word: u32) -> Self {
        Watermarks::new((word >> 8) & 0xff, word & 0xff).unwrap_or(Self::DEFAULT)
    }

    /// The HIGH and LOW marks in pages of a limit of `limit` pages,
    /// rounded down (a pass starts no later than HIGH says).
    pub fn pages(self, limit: u64) -> (u64, u64) {
        // floor(limit * pct / 100) without overflow (pct <= 100) or a
        // 128-bit division, which the kernel does not link.
        let of = |pct: u8| {
            let pct = u64::from(pct);
            (limit / 100) * pct + (limit % 100) * pct / 100
        };
        (of(self.high), of(self.low))
    }
}

#[cfg(test)]
mod tests;
