// SPDX-License-Identifier: GPL-2.0

//! `/sys/class/rzram-control/`: `hot_add` and `hot_remove`, zram's
//! interface for creating and removing devices at run time (the class
//! itself is `glue/class.rs`).

use kernel::prelude::*;

use super::registry;
use crate::portable::parse;

/// `hot_add` read: creates a device with the lowest free id.
pub(crate) fn hot_add() -> Result<u32> {
    registry::add()
}

/// `hot_remove` write: the id of the device to remove. `EINVAL` for a
/// negative number or garbage, `ENODEV` for no such device, `EBUSY` while
/// it is open.
pub(crate) fn hot_remove(input: &[u8]) -> Result {
    match parse::parse_i32(input, 10) {
        Ok(id) => registry::remove(usize::try_from(id).map_err(|_| EINVAL)?),
        Err(e) => Err(Error::from_errno(-e.0)),
    }
}
