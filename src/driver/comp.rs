// SPDX-License-Identifier: GPL-2.0

//! The compressors of a device, one per priority (zram's
//! `CONFIG_ZRAM_MULTI_COMP`): priority 0 is `comp_algorithm`, 1 to 3 are
//! `recomp_algorithm`'s. [`CompConfig`] holds what sysfs chose before
//! `disksize` (zram's `comp_algs[]` and `params[]`); [`Comps`] the streams
//! `disksize` built from it (zram's `comps[]`).

use kernel::{prelude::*, sync::Arc};

use crate::{
    glue::file::FileBuf,
    portable::{
        parse::{AlgorithmParams, Errno},
        priority::{self, Names, ZRAM_MAX_COMPS, ZRAM_PRIMARY_COMP, ZRAM_SECONDARY_COMP},
    },
    zcomp::{self, CodecOps, Settings, Streams, BACKENDS},
};

fn errno(e: Errno) -> Error {
    Error::from_errno(-e.0)
}

/// One priority's choice: an algorithm (or none) and its parameters.
#[derive(Default)]
struct Choice {
    ops: Option<&'static CodecOps>,
    settings: Settings,
}

/// The compressor settings of a device before `disksize`.
///
/// # Invariants
///
/// Priority 0 always has an algorithm.
pub(crate) struct CompConfig {
    prios: [Choice; ZRAM_MAX_COMPS],
}

impl CompConfig {
    /// The default: the first backend (lz4) at priority 0, nothing else.
    pub(crate) fn new() -> Self {
        let mut prios: [Choice; ZRAM_MAX_COMPS] = Default::default();
        if let Some(primary) = prios.first_mut() {
            primary.ops = Some(BACKENDS[0]);
        }
        CompConfig { prios }
    }

    /// The algorithm of priority `prio`, if one is set.
    pub(crate) fn algorithm(&self, prio: u32) -> Option<&'static CodecOps> {
        self.prios.get(prio as usize).and_then(|c| c.ops)
    }

    /// The primary algorithm (`comp_algorithm`).
    pub(crate) fn primary(&self) -> &'static CodecOps {
        self.algorithm(ZRAM_PRIMARY_COMP).unwrap_or(BACKENDS[0])
    }

    fn names(&self) -> Names<'static> {
        let mut names: Names<'static> = [None; ZRAM_MAX_COMPS];
        for (name, choice) in names.iter_mut().zip(&self.prios) {
            *name = choice.ops.map(|ops| ops.name.as_bytes());
        }
        names
    }

    /// `comp_algorithm` (priority 0) or `recomp_algorithm` (1 to 3):
    /// selects `ops` at `prio` and, as zram, resets that priority's
    /// parameters. `EINVAL` for a priority past the last.
    pub(crate) fn set_algorithm(&mut self, prio: u32, ops: &'static CodecOps) -> Result {
        let choice = self.prios.get_mut(prio as usize).ok_or(EINVAL)?;
        *choice = Choice {
            ops: Some(ops),
            settings: Settings::default(),
        };
        Ok(())
    }

    /// `algorithm_params`, after zram's checks for an uninitialised device:
    /// the priority `algo=`/`priority=` select (`EINVAL` if none fits),
    /// then the settings, replacing all of that priority's earlier ones.
    /// rzram checks them here against the priority's algorithm (zram does at
    /// `disksize`): `EOPNOTSUPP` for a dictionary it does not take, `EINVAL`
    /// for a bad level or window; a refused write changes nothing. A
    /// priority without an algorithm takes anything (as zram: setting its
    /// algorithm later resets them). `dict=PATH` reads the file now, as
    /// zram: its open or read error (`ENOENT`, ...), `EINVAL` for an empty
    /// file; then, as zram, the priority's parameters are back at their
    /// defaults.
    pub(crate) fn set_params(&mut self, p: &AlgorithmParams<'_>) -> Result {
        let prio = priority::select_priority(&self.names(), p.algo, p.priority, ZRAM_PRIMARY_COMP)
            .map_err(errno)?;
        let choice = self.prios.get_mut(prio as usize).ok_or(EINVAL)?;
        let mut settings = Settings {
            level: p.level,
            winbits: p.deflate_winbits,
            dict: None,
        };
        if let Some(ops) = choice.ops {
            // zram's order (at disksize there): a dictionary the algorithm
            // cannot take, then the level and window, all before any file
            // is read.
            if p.dict.is_some() && !ops.dict {
                return Err(EOPNOTSUPP);
            }
            ops.check(&settings)?;
        }
        if let Some(path) = p.dict {
            choice.settings = Settings::default();
            settings.dict = Some(Arc::new(FileBuf::read(path)?, GFP_KERNEL)?);
        }
        choice.settings = settings;
        Ok(())
    }
}

/// The compressors `disksize` built, one per configured priority.
///
/// # Invariants
///
/// `secondary[i]` is priority `i + 1`.
pub(crate) struct Comps {
    primary: Streams,
    secondary: [Option<Streams>; ZRAM_MAX_COMPS - 1],
}

impl Comps {
    /// Builds every configured priority's streams (zram's `zcomp_create`
    /// for each): the first error stops it (`EINVAL`, `EOPNOTSUPP`,
    /// `ENOMEM`) and frees what was built.
    pub(crate) fn new(config: &CompConfig) -> Result<Self> {
        let settings = config.prios.first().map(|c| &c.settings).ok_or(EINVAL)?;
        let primary = Streams::new(config.primary(), settings, ZRAM_PRIMARY_COMP)?;
        let mut secondary: [Option<Streams>; ZRAM_MAX_COMPS - 1] = Default::default();
        for (prio, slot) in (ZRAM_SECONDARY_COMP..).zip(secondary.iter_mut()) {
            let Some(choice) = config.prios.get(prio as usize) else {
                break;
            };
            if let Some(ops) = choice.ops {
                *slot = Some(Streams::new(ops, &choice.settings, prio)?);
            }
        }
        Ok(Comps { primary, secondary })
    }

    /// Priority 0: the compressor of every write.
    pub(crate) fn primary(&self) -> &Streams {
        &self.primary
    }

    /// Priority `prio`'s compressor; `None` if none is configured there or
    /// `prio` is past the last (4 or more).
    pub(crate) fn get(&self, prio: u32) -> Option<&Streams> {
        match prio {
            ZRAM_PRIMARY_COMP => Some(&self.primary),
            _ => self
                .secondary
                .get(prio.checked_sub(ZRAM_SECONDARY_COMP)? as usize)?
                .as_ref(),
        }
    }

    /// The highest configured priority (0 when there is no recompression
    /// algorithm): zram's `highest_priority_algorithm(prio)` is
    /// `prio >= highest()`.
    pub(crate) fn highest(&self) -> u32 {
        (ZRAM_SECONDARY_COMP..ZRAM_MAX_COMPS as u32)
            .rev()
            .find(|&p| self.get(p).is_some())
            .unwrap_or(ZRAM_PRIMARY_COMP)
    }

    /// The algorithm names by priority.
    fn names(&self) -> Names<'static> {
        let mut names: Names<'static> = [None; ZRAM_MAX_COMPS];
        for (prio, name) in (0u32..).zip(names.iter_mut()) {
            *name = self.get(prio).map(|s| s.ops().name.as_bytes());
        }
        names
    }

    /// The priority `recompress`'s `algo=` and `priority=` select, with
    /// 7.3's checks: `priority=` outside 1..=3, an `algo=` that is not at
    /// the given priority or at none, or no algorithm at the selected
    /// priority are `EINVAL`; neither given is priority 1.
    pub(crate) fn select(&self, algo: Option<&[u8]>, prio: Option<i32>) -> Result<u32> {
        let prio = priority::select_priority(&self.names(), algo, prio, ZRAM_SECONDARY_COMP)
            .map_err(errno)?;
        self.get(prio).map(|_| prio).ok_or(EINVAL)
    }
}

/// Looks up an algorithm by name for `comp_algorithm`/`recomp_algorithm`.
pub(crate) fn find_algorithm(name: &[u8]) -> Result<&'static CodecOps> {
    zcomp::find(name).ok_or(EINVAL)
}
