// SPDX-License-Identifier: GPL-2.0

//! zram's compressor priorities (`CONFIG_ZRAM_MULTI_COMP`): priority 0 is
//! `comp_algorithm`, 1 to 3 are `recomp_algorithm`'s. Which priority an
//! `algo=`/`priority=` pair names, as 7.3's `algorithm_params_store` and
//! `recompress_store` work it out, and the parsing of `recomp_algorithm`.

use super::parse::{self, Errno, E2BIG, EINVAL};

/// `ZRAM_MAX_COMPS`: the primary compressor and three for recompression.
pub const ZRAM_MAX_COMPS: usize = 4;
/// `ZRAM_PRIMARY_COMP`: the priority of `comp_algorithm`.
pub const ZRAM_PRIMARY_COMP: u32 = 0;
/// `ZRAM_SECONDARY_COMP`: the first recompression priority, the default of
/// `recomp_algorithm` and `recompress`.
pub const ZRAM_SECONDARY_COMP: u32 = 1;

/// The algorithm name configured at each priority (`None`: none).
pub type Names<'a> = [Option<&'a [u8]>; ZRAM_MAX_COMPS];

/// The priority that `algo` and `prio` select, searching from `min`
/// (`algorithm_params`: [`ZRAM_PRIMARY_COMP`]; `recompress`:
/// [`ZRAM_SECONDARY_COMP`]), in 7.3's order:
/// - `priority=` outside `min..ZRAM_MAX_COMPS` is `EINVAL`;
/// - both given: the priority must hold exactly that algorithm (`EINVAL`);
/// - only `algo=`: the lowest priority from `min` that holds it (`EINVAL`
///   if none);
/// - neither: `min`. Whether an algorithm is configured there is the
///   caller's question (`algorithm_params` accepts an empty one,
///   `recompress` does not).
pub fn select_priority(
    names: &Names<'_>,
    algo: Option<&[u8]>,
    prio: Option<i32>,
    min: u32,
) -> Result<u32, Errno> {
    match (algo, prio) {
        (_, Some(p)) => {
            let p = u32::try_from(p)
                .ok()
                .filter(|&p| p >= min && (p as usize) < ZRAM_MAX_COMPS)
                .ok_or(EINVAL)?;
            match algo {
                Some(a) if names.get(p as usize).copied().flatten() != Some(a) => Err(EINVAL),
                _ => Ok(p),
            }
        }
        (Some(a), None) => (min..ZRAM_MAX_COMPS as u32)
            .find(|&p| names.get(p as usize).copied().flatten() == Some(a))
            .ok_or(EINVAL),
        (None, None) => Ok(min),
    }
}

/// A `recomp_algorithm` store: which algorithm at which priority.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecompAlgorithm<'a> {
    /// The algorithm's name, not yet looked up (`EINVAL` if unknown).
    pub algo: &'a [u8],
    /// 1 to 3.
    pub priority: u32,
}

/// Parses a `recomp_algorithm` store like 7.3's `recomp_algorithm_store`:
/// `algo=NAME [priority=N]`, the priority 1 if not given. No `algo=` or a
/// priority outside 1..=3 is `EINVAL`, a name of 128 bytes or more `E2BIG`
/// (checked in that order, as zram); a bad number is `EINVAL` or `ERANGE`
/// (kstrtoint).
///
/// Deviation, as for `algorithm_params`: zram skips unknown keys, this
/// refuses them (`EINVAL`), `level=`, `dict=` and `deflate.winbits=`
/// included (they belong to `algorithm_params`).
pub fn parse_recomp_algorithm(buf: &[u8]) -> Result<RecompAlgorithm<'_>, Errno> {
    let p = parse::parse_algorithm_params(buf)?;
    if p.level.is_some() || p.dict.is_some() || p.deflate_winbits.is_some() {
        return Err(EINVAL);
    }
    let algo = p.algo.ok_or(EINVAL)?;
    let priority = p.priority.unwrap_or(ZRAM_SECONDARY_COMP as i32);
    let priority = u32::try_from(priority)
        .ok()
        .filter(|&p| p >= ZRAM_SECONDARY_COMP && (p as usize) < ZRAM_MAX_COMPS)
        .ok_or(EINVAL)?;
    if algo.len() >= parse::ZRAM_MAX_ALGO_NAME_SZ {
        return Err(E2BIG);
    }
    Ok(RecompAlgorithm { algo, priority })
}

#[cfg(test)]
// Tests index their own fixtures; a panic there is a failed test.
#[allow(clippy::indexing_slicing)]
mod tests;
