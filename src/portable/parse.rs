// SPDX-License-Identifier: GPL-2.0

//! Parsing of sysfs store buffers, with the kernel's semantics.
//!
//! Design: every store handler of rzram gets the raw bytes userspace wrote
//! (usually ending in `"\n"`) and turns them into a value or a negative errno,
//! exactly like zram does with `kstrto*()`, `kstrtobool()`, `memparse()` and
//! `next_arg()`. The functions here are ports of those helpers working on
//! `&[u8]` without allocation, so they can be unit-tested on the host and
//! compiled unchanged into the module. The buffer is treated as a C string:
//! anything after the first NUL byte is ignored, as the C helpers would.
//!
//! Errors are plain positive errno values ([`Errno`]); the kernel glue
//! negates them when returning from a sysfs callback.
//!
//! The only intended deviations from the C helpers are documented on
//! [`memparse`] and [`parse_algorithm_params`].

use core::fmt;

/// A positive kernel error number (`EINVAL` is `Errno(22)`).
///
/// Sysfs callbacks return `-errno`; use [`Errno::to_neg`] for that.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Errno(pub i32);

impl Errno {
    /// The value a sysfs `store`/`show` callback returns for this error.
    pub const fn to_neg(self) -> isize {
        (self.0 as isize).wrapping_neg()
    }
}

/// Argument list too long: zram's answer to an over-long algorithm name.
pub const E2BIG: Errno = Errno(7);
/// Invalid argument: zram's answer to any malformed store.
pub const EINVAL: Errno = Errno(22);
/// Result out of range: `kstrto*()` on a number that overflows the type.
pub const ERANGE: Errno = Errno(34);

/// Longest accepted `comp_algorithm` store, in bytes, *including* the
/// trailing newline: zram's `ZRAM_MAX_ALGO_NAME_SZ` (128). zram checks
/// `strlen(buf) >= ZRAM_MAX_ALGO_NAME_SZ` on the raw buffer and returns
/// `-E2BIG`; the value matches `CRYPTO_MAX_ALG_NAME`.
pub const ZRAM_MAX_ALGO_NAME_SZ: usize = 128;

/// The bytes of `buf` up to (not including) the first NUL, i.e. what a C
/// string function would see.
pub(super) fn c_str(buf: &[u8]) -> &[u8] {
    match buf.iter().position(|&b| b == 0) {
        Some(n) => buf.get(..n).unwrap_or(buf),
        None => buf,
    }
}

/// The kernel's `isspace()`: space, `\t \n \v \f \r`, and 0xA0 (Latin-1
/// non-breaking space, which `lib/ctype.c` also classifies as space).
const fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | 0xa0)
}

/// The kernel's `skip_spaces()`.
pub(super) fn skip_spaces(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|&&b| is_space(b)).count();
    s.get(n..).unwrap_or(&[])
}

/// `s` without trailing whitespace.
fn trim_end_spaces(s: &[u8]) -> &[u8] {
    let n = s.iter().rev().take_while(|&&b| is_space(b)).count();
    s.get(..s.len().saturating_sub(n)).unwrap_or(s)
}

/// `s` without one trailing `'\n'`, if it has one.
fn strip_newline(s: &[u8]) -> &[u8] {
    s.strip_suffix(b"\n").unwrap_or(s)
}

/// The kernel's `_parse_integer_fixup_radix()`: with base 0 pick 16 for
/// `0x<hexdigit>`, 8 for a leading `0`, else 10; with base 16 skip a `0x`.
fn fixup_radix(s: &[u8], base: u32) -> (&[u8], u32) {
    let mut base = base;
    let first = s.first().copied();
    let second = s.get(1).map(|b| b.to_ascii_lowercase());
    if base == 0 {
        base = if first == Some(b'0') {
            let third_hex = s.get(2).is_some_and(|b| b.is_ascii_hexdigit());
            if second == Some(b'x') && third_hex {
                16
            } else {
                8
            }
        } else {
            10
        };
    }
    if base == 16 && first == Some(b'0') && second == Some(b'x') {
        return (s.get(2..).unwrap_or(&[]), base);
    }
    (s, base)
}

/// Result of [`parse_digits`].
struct Digits {
    /// Parsed value (meaningless if `overflow`).
    value: u64,
    /// Number of bytes consumed.
    len: usize,
    /// The digits did not fit in a `u64`.
    overflow: bool,
}

/// The kernel's `_parse_integer()`: consume digits valid in `base` (2..=16),
/// remembering overflow but still consuming the remaining digits.
fn parse_digits(s: &[u8], base: u32) -> Digits {
    let mut d = Digits {
        value: 0,
        len: 0,
        overflow: false,
    };
    for &c in s {
        let v = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => break,
        };
        if u32::from(v) >= base {
            break;
        }
        match d
            .value
            .checked_mul(u64::from(base))
            .and_then(|x| x.checked_add(u64::from(v)))
        {
            Some(x) => d.value = x,
            None => d.overflow = true,
        }
        d.len += 1;
    }
    d
}

/// The kernel's `_kstrtoull()` (no sign handling).
fn kstrtoull_unsigned(s: &[u8], base: u32) -> Result<u64, Errno> {
    if base == 1 || base > 16 {
        return Err(EINVAL);
    }
    let (s, base) = fixup_radix(s, base);
    let d = parse_digits(s, base);
    if d.overflow {
        return Err(ERANGE);
    }
    if d.len == 0 {
        return Err(EINVAL);
    }
    let rest = s.get(d.len..).unwrap_or(&[]);
    if !strip_newline(rest).is_empty() {
        return Err(EINVAL);
    }
    Ok(d.value)
}

/// Parse an unsigned 64-bit number like the kernel's `kstrtoull()`.
///
/// `base` is 0 (auto: `0x` hex, leading-`0` octal, else decimal) or 2..=16.
/// An optional leading `+` and exactly one trailing `'\n'` are accepted;
/// whitespace anywhere else is not. Errors: `EINVAL` for no digits or
/// trailing garbage (or a base outside 0, 2..=16), `ERANGE` on overflow.
pub fn parse_u64(buf: &[u8], base: u32) -> Result<u64, Errno> {
    let s = c_str(buf);
    let s = s.strip_prefix(b"+").unwrap_or(s);
    kstrtoull_unsigned(s, base)
}

/// Parse an unsigned 32-bit number like `kstrtouint()`; see [`parse_u64`].
/// A value that does not fit in `u32` is `ERANGE`.
pub fn parse_u32(buf: &[u8], base: u32) -> Result<u32, Errno> {
    u32::try_from(parse_u64(buf, base)?).map_err(|_| ERANGE)
}

/// Parse an unsigned 16-bit number like `kstrtou16()` (zram's `reset`
/// store); see [`parse_u64`]. A value that does not fit is `ERANGE`.
pub fn parse_u16(buf: &[u8], base: u32) -> Result<u16, Errno> {
    u16::try_from(parse_u64(buf, base)?).map_err(|_| ERANGE)
}

/// Parse a signed 64-bit number like `kstrtoll()`: an optional `-` (or
/// `+`) followed by what [`parse_u64`] accepts. Out of range is `ERANGE`.
pub fn parse_i64(buf: &[u8], base: u32) -> Result<i64, Errno> {
    let s = c_str(buf);
    if let Some(digits) = s.strip_prefix(b"-") {
        let magnitude = kstrtoull_unsigned(digits, base)?;
        // i64::MIN has magnitude 2^63, one more than i64::MAX.
        if magnitude > i64::MAX as u64 + 1 {
            return Err(ERANGE);
        }
        Ok((magnitude as i64).wrapping_neg())
    } else {
        i64::try_from(parse_u64(s, base)?).map_err(|_| ERANGE)
    }
}

/// Parse a signed 32-bit number like `kstrtoint()`; see [`parse_i64`].
pub fn parse_i32(buf: &[u8], base: u32) -> Result<i32, Errno> {
    i32::try_from(parse_i64(buf, base)?).map_err(|_| ERANGE)
}

/// Parse a boolean like the kernel's `kstrtobool()`.
///
/// Only the first one or two bytes are looked at, exactly as in C:
/// `1 y Y t T` and `on`/`oN`/`On`/`ON` are true, `0 n N f F` and `of…`/`Of…`
/// are false (so `"yes\n"` and `"false"` work). Anything else is `EINVAL`.
pub fn parse_bool(buf: &[u8]) -> Result<bool, Errno> {
    let s = c_str(buf);
    match s.first() {
        Some(b'y' | b'Y' | b't' | b'T' | b'1') => Ok(true),
        Some(b'n' | b'N' | b'f' | b'F' | b'0') => Ok(false),
        Some(b'o' | b'O') => match s.get(1) {
            Some(b'n' | b'N') => Ok(true),
            Some(b'f' | b'F') => Ok(false),
            _ => Err(EINVAL),
        },
        _ => Err(EINVAL),
    }
}

/// The kernel's `sysfs_streq()`: `buf` equals `word`, ignoring one trailing
/// newline on either side (zram's `idle` store compares with `"all"`).
pub fn sysfs_streq(buf: &[u8], word: &[u8]) -> bool {
    strip_newline(c_str(buf)) == strip_newline(c_str(word))
}

/// Parse a size with an optional binary suffix, like the kernel's
/// `memparse()` as used by zram's `disksize` and `mem_limit` stores.
///
/// Accepted: optional leading/trailing whitespace (including the trailing
/// newline), a number in base 0 (decimal, `0x` hex, leading-`0` octal), then
/// at most one suffix `K k M m G g T t P p E e` multiplying by 2^10 … 2^60.
/// In hex the letter `E` is a digit (`0x1E` is 30), as in C.
///
/// Deviation: stricter than `memparse()`, which stops at the first byte it
/// does not understand and silently wraps on overflow. This returns
/// `EINVAL` for empty input, a sign (`+`/`-`), trailing garbage after the
/// number or suffix (so `"1KB"` and `"4 M"` are rejected) and for values
/// that do not fit in a `u64`. `"0"` is `Ok(0)`: rejecting a zero disksize
/// is the caller's job (zram: `-EINVAL`), while `mem_limit` accepts it.
pub fn memparse(buf: &[u8]) -> Result<u64, Errno> {
    let s = skip_spaces(c_str(buf));
    if matches!(s.first(), Some(b'+' | b'-')) {
        return Err(EINVAL);
    }
    let (s, base) = fixup_radix(s, 0);
    let d = parse_digits(s, base);
    if d.len == 0 || d.overflow {
        return Err(EINVAL);
    }
    let mut rest = s.get(d.len..).unwrap_or(&[]);
    let shift = match rest.first().map(|b| b.to_ascii_lowercase()) {
        Some(b'k') => 10,
        Some(b'm') => 20,
        Some(b'g') => 30,
        Some(b't') => 40,
        Some(b'p') => 50,
        Some(b'e') => 60,
        _ => 0,
    };
    if shift != 0 {
        rest = rest.get(1..).unwrap_or(&[]);
    }
    if !trim_end_spaces(rest).is_empty() {
        return Err(EINVAL);
    }
    if d.value > (u64::MAX >> shift) {
        return Err(EINVAL);
    }
    Ok(d.value << shift)
}

/// Validate a `comp_algorithm` / `algo=` name like zram's
/// `__comp_algorithm_store()` and return it without its trailing newline.
///
/// Order of checks follows zram: first the raw length (`strlen(buf)`,
/// newline included) `>= max_len` is `E2BIG` (pass
/// [`ZRAM_MAX_ALGO_NAME_SZ`]); then one trailing `'\n'` is dropped. An empty
/// name, or one containing whitespace or control bytes, is `EINVAL` (zram
/// reports those as an unknown algorithm, also `-EINVAL`). Whether the name
/// is a known compressor is for the caller to decide (`EINVAL` if not).
pub fn algorithm_name(buf: &[u8], max_len: usize) -> Result<&[u8], Errno> {
    let s = c_str(buf);
    if s.len() >= max_len {
        return Err(E2BIG);
    }
    let name = strip_newline(s);
    if name.is_empty() || name.iter().any(|&b| is_space(b) || b.is_ascii_control()) {
        return Err(EINVAL);
    }
    Ok(name)
}

/// A path written to sysfs, as zram's `backing_dev_store()` takes it: up to
/// the first NUL, without one trailing newline.
pub fn path_arg(buf: &[u8]) -> &[u8] {
    let s = c_str(buf);
    s.strip_suffix(b"\n").unwrap_or(s)
}

/// The parsed form of an `algorithm_params` store (see
/// [`parse_algorithm_params`]). Slices borrow from the store buffer.
///
/// `None` means "not given"; zram's defaults are priority 0 (the primary
/// compressor) and `ZCOMP_PARAM_NOT_SET` for the numeric parameters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AlgorithmParams<'a> {
    /// `algo=NAME`: selects the compressor slot by name (wins over
    /// `priority=` in zram, which then looks the name up).
    pub algo: Option<&'a [u8]>,
    /// `priority=N`: selects the compressor slot by index (0 = primary).
    pub priority: Option<i32>,
    /// `level=N`: compression level; negative for zstd's fast levels.
    pub level: Option<i32>,
    /// `dict=PATH`: path of a pre-trained dictionary file to load.
    pub dict: Option<&'a [u8]>,
    /// `deflate.winbits=N`: deflate window bits (zram 6.16+).
    pub deflate_winbits: Option<i32>,
}

/// One `param[=value]` token split off by [`next_arg`].
pub(super) struct Arg<'a> {
    /// Text before the first `=` (whole token if there is none).
    pub(super) param: &'a [u8],
    /// Text after the first `=`, quotes removed; `None` without `=`.
    pub(super) val: Option<&'a [u8]>,
}

/// Drop one trailing `"` from `s`; report whether one was dropped.
fn strip_quote(s: &[u8]) -> (&[u8], bool) {
    match s.strip_suffix(b"\"") {
        Some(t) => (t, true),
        None => (s, false),
    }
}

impl<'a> Arg<'a> {
    /// The value, if one was given and is not empty.
    pub(super) fn value(&self) -> Option<&'a [u8]> {
        self.val.filter(|v| !v.is_empty())
    }
}

/// The tokens of a sysfs store (up to its first NUL), split one by one
/// with [`next_arg`] after leading blanks, as zram's `*_store()` loops do.
pub(super) fn args(buf: &[u8]) -> impl Iterator<Item = Arg<'_>> {
    let mut rest = skip_spaces(c_str(buf));
    core::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let (arg, r) = next_arg(rest);
        rest = r;
        Some(arg)
    })
}

/// The kernel's `next_arg()`: split the first whitespace-separated token
/// (double quotes protect spaces) into `param` and `val`, and return the
/// rest with leading spaces skipped. `args` must not start with a space.
pub(super) fn next_arg(args: &[u8]) -> (Arg<'_>, &[u8]) {
    let mut a = args;
    let mut in_quote = false;
    let mut quoted = false;
    if let Some(t) = a.strip_prefix(b"\"") {
        a = t;
        in_quote = true;
        quoted = true;
    }
    let mut end = a.len();
    let mut equals = 0;
    for (i, &c) in a.iter().enumerate() {
        if is_space(c) && !in_quote {
            end = i;
            break;
        }
        // Like C, an '=' at index 0 does not count as a separator.
        if equals == 0 && c == b'=' {
            equals = i;
        }
        if c == b'"' {
            in_quote = !in_quote;
        }
    }
    let token = a.get(..end).unwrap_or(a);
    let rest = skip_spaces(a.get(end..).unwrap_or(&[]));

    // C clears the token's last byte at most once, whichever rule hits first.
    let mut last_cleared = false;
    let mut param = token;
    let mut val = None;
    if equals != 0 {
        param = token.get(..equals).unwrap_or(token);
        let mut v = token.get(equals + 1..).unwrap_or(&[]);
        if let Some(t) = v.strip_prefix(b"\"") {
            let (t, cut) = strip_quote(t);
            v = t;
            last_cleared = cut;
        }
        val = Some(v);
    }
    if quoted && !last_cleared {
        match val {
            Some(v) => val = Some(strip_quote(v).0),
            None => param = strip_quote(param).0,
        }
    }
    (Arg { param, val }, rest)
}

/// Parse an `algorithm_params` store like zram's `algorithm_params_store()`.
///
/// The buffer is a list of space-separated `key=value` tokens (values may
/// be double-quoted): `priority=N`, `level=N` (decimal `i32`, may be
/// negative), `algo=NAME`, `dict=PATH`, `deflate.winbits=N`. A token
/// without a value or with an empty value is `EINVAL`; numbers fail like
/// `kstrtoint()` (`EINVAL` or `ERANGE`). A repeated key keeps the last value.
/// Resolving `algo`/`priority` to a compressor and reading the dictionary
/// are left to the caller (zram answers `EINVAL` when those fail).
///
/// Deviation: zram silently ignores unknown keys; this returns `EINVAL`
/// for them so typos are reported.
pub fn parse_algorithm_params(buf: &[u8]) -> Result<AlgorithmParams<'_>, Errno> {
    let mut p = AlgorithmParams::default();
    for arg in args(buf) {
        let val = arg.value().ok_or(EINVAL)?;
        match arg.param {
            b"priority" => p.priority = Some(parse_i32(val, 10)?),
            b"level" => p.level = Some(parse_i32(val, 10)?),
            b"algo" => p.algo = Some(val),
            b"dict" => p.dict = Some(val),
            b"deflate.winbits" => p.deflate_winbits = Some(parse_i32(val, 10)?),
            _ => return Err(EINVAL),
        }
    }
    Ok(p)
}

/// A `core::fmt::Write` sink over a fixed buffer (a sysfs `show` page),
/// with `scnprintf()` semantics: output that does not fit is silently cut,
/// one byte is kept for a terminating NUL, nothing ever panics.
///
/// ```
/// use core::fmt::Write;
/// # use rzram::portable::parse::PageWriter;
/// let mut page = [0u8; 4096];
/// let mut w = PageWriter::new(&mut page);
/// let _ = writeln!(w, "{}", 42u64);
/// assert_eq!(w.written(), 3); // what the show callback returns
/// ```
pub struct PageWriter<'a> {
    /// The destination, e.g. the `PAGE_SIZE` buffer of a sysfs `show`.
    buf: &'a mut [u8],
    /// Bytes written so far (excluding the NUL terminator).
    len: usize,
    /// Some output was dropped for lack of room.
    truncated: bool,
}

impl<'a> PageWriter<'a> {
    /// A writer that fills `buf` from the start. At most `buf.len() - 1`
    /// bytes are written and they are kept NUL-terminated, like
    /// `scnprintf(buf, buf.len(), ...)` (sysfs needs a show result
    /// shorter than `PAGE_SIZE`).
    pub fn new(buf: &'a mut [u8]) -> Self {
        if let Some(b) = buf.first_mut() {
            *b = 0;
        }
        PageWriter {
            buf,
            len: 0,
            truncated: false,
        }
    }

    /// Number of bytes written so far: what a `show` callback returns.
    pub fn written(&self) -> usize {
        self.len
    }

    #[cfg(test)]
    /// The bytes written so far.
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }

    #[cfg(test)]
    /// Whether some output was dropped because the buffer was full.
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }

    /// Append raw bytes (e.g. an algorithm name that is not `str`),
    /// cutting them at the end of the buffer.
    pub fn write_bytes(&mut self, bytes: &[u8]) {
        let capacity = self.buf.len().saturating_sub(1);
        let n = capacity.saturating_sub(self.len).min(bytes.len());
        if n < bytes.len() {
            self.truncated = true;
        }
        if let (Some(dst), Some(src)) = (self.buf.get_mut(self.len..self.len + n), bytes.get(..n)) {
            dst.copy_from_slice(src);
            self.len += n;
        }
        if let Some(b) = self.buf.get_mut(self.len) {
            *b = 0;
        }
    }
}

impl fmt::Write for PageWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.write_bytes(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
// Tests index their own fixtures; a panic there is a failed test.
#[allow(clippy::indexing_slicing)]
mod tests;
