// SPDX-License-Identifier: GPL-2.0

//! A compressor's parameters: what `algorithm_params` chose ([`Settings`])
//! and what they become at `disksize` ([`Params`], zram's `zcomp_params`
//! after `setup_params`).

use kernel::{prelude::*, sync::Arc};

use super::{lz4, zstd, CodecOps};
use crate::glue::file::FileBuf;

/// One compressor's `algorithm_params`, as given: `None` is zram's
/// `ZCOMP_PARAM_NOT_SET` (the algorithm's default).
#[derive(Clone, Default)]
pub(crate) struct Settings {
    /// `level=`.
    pub(crate) level: Option<i32>,
    /// `deflate.winbits=`.
    pub(crate) winbits: Option<i32>,
    /// `dict=`: the file's contents, read when the parameters were stored.
    pub(crate) dict: Option<Arc<FileBuf>>,
}

/// What a backend builds once from the parameters and all its streams use.
pub(crate) enum Shared {
    None,
    /// LZ4: a stream with the dictionary loaded.
    Lz4(lz4::DictStream),
    /// zstd: the compression and decompression dictionaries.
    Zstd(zstd::Dicts),
}

/// A compressor's resolved parameters.
///
/// # Invariants
///
/// `level` and `winbits` are valid for the algorithm they were resolved
/// for. `shared` may point into `dict`'s bytes, so it is declared (and
/// dropped) first.
pub(crate) struct Params {
    /// The level, the algorithm's default if none was given (0 for
    /// algorithms without levels, where it is never read).
    pub(crate) level: i32,
    /// Window bits (deflate only; 0 elsewhere, never read).
    pub(crate) winbits: i32,
    pub(crate) shared: Shared,
    dict: Option<Arc<FileBuf>>,
}

impl Params {
    /// Checks `s` for `ops` and builds the shared state (zram's
    /// `setup_params`, at `disksize`). Process context.
    pub(crate) fn new(ops: &'static CodecOps, s: &Settings) -> Result<Self> {
        let (level, winbits) = ops.check(s)?;
        let mut p = Params {
            level,
            winbits,
            shared: Shared::None,
            dict: s.dict.clone(),
        };
        p.shared = (ops.setup)(&p)?;
        Ok(p)
    }

    /// The dictionary's bytes, if one was given.
    pub(crate) fn dict(&self) -> Option<&[u8]> {
        self.dict.as_deref().map(FileBuf::as_bytes)
    }
}

impl CodecOps {
    /// The level and window bits `s` asks for, checked in zram's order:
    /// a dictionary where none is supported is `EOPNOTSUPP`, a bad level
    /// or window `EINVAL`.
    pub(crate) fn check(&self, s: &Settings) -> Result<(i32, i32)> {
        if s.dict.is_some() && !self.dict {
            return Err(EOPNOTSUPP);
        }
        let level = match (&self.levels, s.level) {
            (None, None) => 0,
            (None, Some(_)) => return Err(EINVAL),
            (Some(levels), None) => levels.default,
            (Some(levels), Some(level)) => {
                let (min, max) = (levels.range)();
                if !(min..=max).contains(&level) {
                    return Err(EINVAL);
                }
                level
            }
        };
        let winbits = match (&self.window, s.winbits) {
            (None, _) => 0,
            (Some(w), None) => w.default,
            (Some(w), Some(bits)) if (w.valid)(bits) => bits,
            (Some(_), Some(_)) => return Err(EINVAL),
        };
        Ok((level, winbits))
    }
}
