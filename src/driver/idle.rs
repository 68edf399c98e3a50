// SPDX-License-Identifier: GPL-2.0

//! `idle`: marks pages not accessed for a while, for `writeback` and
//! `recompress` to pick (zram's `idle_store()` and `mark_idle()`).

use kernel::prelude::*;

use super::Device;
use crate::{
    glue::backing::now_seconds,
    portable::{
        parse,
        postproc::{self, Idle},
        slot::{SlotContent, FLAG_IDLE},
    },
};

impl Device {
    /// `idle` store: `all`, or an age in seconds. A page in memory (not
    /// same-filled, not written back) becomes idle if it was not accessed
    /// for that long and stops being idle otherwise. An age of at least the
    /// uptime selects nothing and succeeds, even before init, as zram.
    pub(crate) fn mark_idle(&self, input: &[u8]) -> Result {
        let idle =
            postproc::parse_idle(input).map_err(|e: parse::Errno| Error::from_errno(-e.0))?;
        // 0 marks everything; otherwise pages last accessed before this.
        let cutoff = match idle {
            Idle::All => 0,
            Idle::Age(age) => {
                let uptime = now_seconds();
                if age >= uptime {
                    return Ok(());
                }
                uptime - age
            }
        };
        self.with_store(|s| {
            let s = s.ok_or(EINVAL)?;
            s.for_each_slot(|_, slot| {
                let mut g = slot.lock(&s.locks);
                if !matches!(g.content(), SlotContent::Stored { .. }) {
                    return;
                }
                if cutoff == 0 || cutoff > g.access_time() {
                    g.set_flag(FLAG_IDLE);
                } else {
                    g.clear_flag(FLAG_IDLE);
                }
            });
            Ok(())
        })
    }
}
