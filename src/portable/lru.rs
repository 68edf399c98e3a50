// SPDX-License-Identifier: GPL-2.0

//! Recency of the stored pages, above the allocators: an intrusive LRU list
//! over slot indices, so that automatic writeback and the shrinker can find
//! the coldest in-memory pages whatever backend holds them.
//!
//! # Structure
//!
//! ```text
//!  links (caller's memory, one Link per slot, beside the slot table)
//!
//!    cold                                           hot
//!     |                                              |
//!     v                                              v
//!  [ slot 7 ] <-> [ slot 2 ] <-> [ slot 40 ] <-> [ slot 3 ]
//!   prev: none                                    next: none
//! ```
//!
//! A doubly linked list threaded through an array of [`Link`]s indexed by
//! slot number: `prev` points to the next colder slot, `next` to the next
//! hotter one. Links hold `index + 1` in a `u32`, so 0 means "none" and an
//! all-zero link is a slot that is not in the list; zeroed memory is an empty
//! list and needs no initialisation pass. A slot alone in the list also has
//! an all-zero link: [`Lru`] tells it apart by its `cold` end pointing to it.
//! [`Lru::touch`] puts a slot at the hot end (inserting it, or moving it
//! there); writeback takes from the cold end. The list never allocates: the
//! caller provides the links (a `KVVec` in the module, a `Vec` here).
//!
//! # Cost
//!
//! - Memory: 8 bytes per slot (two `u32`s, asserted below), 0.2 % of the
//!   device size, against the slot's own 16. The `u32` encoding caps the
//!   list at `u32::MAX` slots, a 16 TiB device; [`Lru::new`] refuses more.
//! - Time: [`Lru::touch`] and [`Lru::remove`] are O(1), a few loads and
//!   stores in at most three links; [`Lru::rotate_coldest`] is O(n) in the
//!   entries taken. Nothing is allocated and nothing can panic: every access
//!   goes through `get`/`get_mut` and checked conversions; an index out of
//!   range is a no-op.
//!
//! # Locking, as the driver uses it
//!
//! The list has no lock of its own inside: every change takes `&mut self`,
//! and the driver keeps it in a spinlock of its own (one per device).
//!
//! - Lock order: slot lock, then LRU lock; never the other way round. The
//!   slot lock is a sleeping bit lock (`glue/slot_lock.rs`), and nobody may
//!   wait for it while holding a spinlock. So a path holding a slot lock may
//!   take the LRU lock briefly, and a path holding the LRU lock takes no slot
//!   lock at all.
//! - Membership: a slot is in the list exactly while it holds an in-memory
//!   allocator object. The driver calls [`Lru::touch`] on store and on read
//!   of such a slot, and [`Lru::remove`] on free, overwrite and writeback,
//!   each under the slot's lock, so the list agrees with the slot whenever
//!   that slot's lock is free. Same-filled and written-back pages are never
//!   in it; they use no pool memory to shed.
//! - Writeback: the worker takes a batch of cold indices with
//!   [`Lru::rotate_coldest`] under the LRU lock and drops it, then locks each
//!   slot in turn and re-checks what it holds: meanwhile the slot may have
//!   been freed, written back by someone else, or stored again. Rotating the
//!   batch to the hot end means that a slot the worker cannot write back
//!   (locked, being read, gone) is not chosen again by the next batch; a
//!   slot it does write back is removed under its slot lock as usual. A slot
//!   freed and stored again between the two steps may be written back while
//!   hot: a cost in recency, never in correctness.

use core::mem::size_of;
use core::ops::DerefMut;

/// One slot's place in the list: the neighbours on the cold (`prev`) and hot
/// (`next`) side, each as `index + 1`, 0 for none. All-zero is a slot not in
/// the list (or alone in it, see [`Lru`]).
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct Link {
    prev: u32,
    next: u32,
}

// The per-slot cost that the design promises (see the module comment).
const _: () = assert!(size_of::<Link>() == 8);

/// `index + 1` as a link value; `None` if it does not fit.
fn encode(index: usize) -> Option<u32> {
    u32::try_from(index).ok()?.checked_add(1)
}

/// The index a link value names; `None` for 0 (no neighbour).
fn decode(code: u32) -> Option<usize> {
    usize::try_from(code.checked_sub(1)?).ok()
}

/// An LRU list of slot indices over the links `S`.
///
/// # Invariants
///
/// - `links.len() <= u32::MAX`, so every index of `links` has an encoding.
/// - `cold` and `hot` are 0 (empty list, both) or the encodings of the
///   coldest and hottest linked indices.
/// - Following `next` from `cold` visits exactly the `len` linked indices
///   and ends at `hot`; `prev` is the reverse walk. Links of indices not in
///   the list are all-zero.
///
/// No `unsafe` relies on these; a broken invariant could only misorder or
/// lose entries, and every method still avoids panics.
pub struct Lru<S: DerefMut<Target = [Link]>> {
    links: S,
    cold: u32,
    hot: u32,
    len: usize,
}

impl<S: DerefMut<Target = [Link]>> Lru<S> {
    /// An empty list over `links`, one per slot. `None` if `links.len()`
    /// does not fit the `u32` index encoding, or any link is non-zero.
    pub fn new(links: S) -> Option<Self> {
        if u32::try_from(links.len()).is_err() || links.iter().any(|l| l.prev != 0 || l.next != 0) {
            return None;
        }
        Some(Lru {
            links,
            cold: 0,
            hot: 0,
            len: 0,
        })
    }

    /// Number of linked slots.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no slot is linked.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether `index` is in the list (false out of range).
    pub fn contains(&self, index: usize) -> bool {
        let Some(link) = self.links.get(index) else {
            return false;
        };
        link.prev != 0 || link.next != 0 || (self.cold != 0 && encode(index) == Some(self.cold))
    }

    /// Inserts `index` at the hot end, or moves it there. O(1). Out of
    /// range: no-op.
    pub fn touch(&mut self, index: usize) {
        let Some(code) = self.code(index) else {
            return;
        };
        if self.hot == code {
            return;
        }
        if self.contains(index) {
            self.unlink(index, code);
        }
        self.push_hot(index, code);
    }

    /// Unlinks `index` if linked (no-op otherwise). O(1).
    pub fn remove(&mut self, index: usize) {
        if let Some(code) = self.code(index) {
            if self.contains(index) {
                self.unlink(index, code);
            }
        }
    }

    /// The coldest index.
    pub fn coldest(&self) -> Option<usize> {
        decode(self.cold)
    }

    /// Takes up to `out.len()` of the coldest entries, cold first, writing
    /// their indices to `out`, and moves each to the hot end (so a caller
    /// that cannot write one back does not pick it again at once); returns
    /// how many. Never returns an entry twice. O(`out.len()`).
    pub fn rotate_coldest(&mut self, out: &mut [usize]) -> usize {
        // At most `len`: after `len` rotations the first one taken would
        // come round again.
        let want = out.len().min(self.len);
        let mut taken = 0;
        for slot in out.iter_mut().take(want) {
            let Some(index) = self.coldest() else {
                break;
            };
            *slot = index;
            self.touch(index);
            taken += 1;
        }
        taken
    }

    /// The encoding of `index` if it is in range.
    fn code(&self, index: usize) -> Option<u32> {
        if index < self.links.len() {
            encode(index)
        } else {
            None
        }
    }

    /// Takes the linked `index` (encoded `code`) out of the list.
    fn unlink(&mut self, index: usize, code: u32) {
        let Some(link) = self.links.get_mut(index) else {
            return;
        };
        let Link { prev, next } = core::mem::take(link);
        match decode(prev).and_then(|p| self.links.get_mut(p)) {
            Some(p) => p.next = next,
            None => {
                if self.cold == code {
                    self.cold = next;
                }
            }
        }
        match decode(next).and_then(|n| self.links.get_mut(n)) {
            Some(n) => n.prev = prev,
            None => {
                if self.hot == code {
                    self.hot = prev;
                }
            }
        }
        self.len = self.len.saturating_sub(1);
    }

    /// Appends the unlinked `index` (encoded `code`) at the hot end.
    fn push_hot(&mut self, index: usize, code: u32) {
        let old_hot = self.hot;
        let Some(link) = self.links.get_mut(index) else {
            return;
        };
        *link = Link {
            prev: old_hot,
            next: 0,
        };
        match decode(old_hot).and_then(|h| self.links.get_mut(h)) {
            Some(h) => h.next = code,
            None => self.cold = code,
        }
        self.hot = code;
        self.len = self.len.saturating_add(1);
    }
}

#[cfg(test)]
// Tests index their own fixtures; a panic there is a failed test.
#[allow(clippy::indexing_slicing)]
mod tests;
