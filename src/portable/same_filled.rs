// SPDX-License-Identifier: GPL-2.0

//! Same-filled page detection, as zram's `page_same_filled()`.
//!
//! Design: a page that is one machine word repeated (zero pages above all)
//! is not compressed at all; the slot just remembers the word (`ZRAM_SAME`)
//! and reads refill the page. The page is read as native-endian `usize`
//! words through `chunks_exact` + `from_ne_bytes`, which needs no alignment
//! and no `unsafe`. Like zram, the first word is compared with the last one
//! first: most pages that are not same-filled differ there, so the common
//! negative answer costs two loads.

/// Bytes in one machine word, the unit of a same-filled pattern.
const WORD: usize = core::mem::size_of::<usize>();

/// The word at chunk `c` (which is exactly `WORD` bytes long).
fn word(c: &[u8]) -> Option<usize> {
    <[u8; WORD]>::try_from(c).ok().map(usize::from_ne_bytes)
}

/// If `page` is a single native-endian `usize` repeated, return that word
/// (`Some(0)` for a zero page).
///
/// Any non-empty length that is a multiple of the word size is accepted
/// (rzram passes 4096-byte pages); other lengths give `None`.
pub fn same_filled(page: &[u8]) -> Option<usize> {
    let mut words = page.chunks_exact(WORD);
    if page.is_empty() || !words.remainder().is_empty() {
        return None;
    }
    let first = word(words.next()?)?;
    // Fast path: the last word differs for most ordinary pages.
    let last = word(page.get(page.len() - WORD..)?)?;
    if first != last {
        return None;
    }
    for c in words {
        if word(c)? != first {
            return None;
        }
    }
    Some(first)
}

/// Fill `page` with `value` repeated as native-endian words: the read side
/// of a same-filled slot (zram's `zram_fill_page()`).
///
/// If the length is not a multiple of the word size, the tail receives the
/// leading bytes of `value`, continuing the pattern (zram only warns there).
pub fn fill_page(page: &mut [u8], value: usize) {
    let bytes = value.to_ne_bytes();
    let mut chunks = page.chunks_exact_mut(WORD);
    for c in &mut chunks {
        c.copy_from_slice(&bytes);
    }
    for (dst, src) in chunks.into_remainder().iter_mut().zip(bytes.iter()) {
        *dst = *src;
    }
}

#[cfg(test)]
// Tests index their own fixtures; a panic there is a failed test.
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// The page size rzram works with.
    const PAGE: usize = 4096;

    #[test]
    fn zero_and_nonzero_pages() {
        let page = [0u8; PAGE];
        assert_eq!(same_filled(&page), Some(0));

        let mut page = [0u8; PAGE];
        fill_page(&mut page, 0xdead_beef);
        assert_eq!(same_filled(&page), Some(0xdead_beef));

        fill_page(&mut page, usize::MAX);
        assert_eq!(page, [0xffu8; PAGE]);
        assert_eq!(same_filled(&page), Some(usize::MAX));

        let page = [0x5au8; PAGE];
        assert_eq!(same_filled(&page), Some(usize::from_ne_bytes([0x5a; WORD])));
    }

    #[test]
    fn differing_byte_anywhere() {
        let mut base = [0u8; PAGE];
        fill_page(&mut base, 0x0102_0304);
        for pos in [
            0,
            1,
            WORD - 1,
            WORD,
            PAGE / 2,
            PAGE - WORD - 1,
            PAGE - WORD,
            PAGE - 1,
        ] {
            let mut page = base;
            page[pos] ^= 0x80;
            assert_eq!(same_filled(&page), None, "byte {pos}");
        }
    }

    #[test]
    fn non_word_pattern_is_not_same() {
        // A 3-byte period never lines up with the word size.
        let mut page = [0u8; PAGE];
        for (i, b) in page.iter_mut().enumerate() {
            *b = (i % 3) as u8;
        }
        assert_eq!(same_filled(&page), None);
    }

    #[test]
    fn odd_lengths() {
        assert_eq!(same_filled(&[]), None);
        assert_eq!(same_filled(&[0u8; 1]), None);
        assert_eq!(same_filled(&[0u8; PAGE - 1]), None);
        assert_eq!(same_filled(&[0u8; PAGE + 1]), None);
        assert_eq!(
            same_filled(&[7u8; WORD]),
            Some(usize::from_ne_bytes([7; WORD]))
        );
        // Unaligned sub-slice works too.
        let buf = [0u8; PAGE + 1];
        assert_eq!(same_filled(&buf[1..]), Some(0));
    }

    #[test]
    fn fill_partial_tail() {
        let mut buf = [0u8; WORD + 3];
        fill_page(&mut buf, usize::from_ne_bytes([9; WORD]));
        assert_eq!(buf, [9u8; WORD + 3]);
        let mut empty: [u8; 0] = [];
        fill_page(&mut empty, 1);
    }

    #[test]
    fn roundtrip_values() {
        let mut page = [0u8; PAGE];
        for v in [1usize, 0x80, 1 << (usize::BITS - 1), 0x0123_4567] {
            fill_page(&mut page, v);
            assert_eq!(same_filled(&page), Some(v));
        }
    }
}
