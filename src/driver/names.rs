// SPDX-License-Identifier: GPL-2.0

//! The names the module registers under: its own, or zram's
//! (`zram_names=1`), so that zram's tools (zramctl, zram-generator), which
//! hard-code them, find and manage rzram's devices.

use kernel::prelude::*;

/// One of the two sets of names.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Names {
    /// `/dev/rzramN`, `/sys/class/rzram-control`, debugfs `rzram/`.
    Rzram,
    /// `/dev/zramN`, `/sys/class/zram-control`, debugfs `zram/`.
    Zram,
}

impl Names {
    /// The block major's name and the debugfs directory.
    pub(crate) fn block(self) -> &'static CStr {
        match self {
            Names::Rzram => c"rzram",
            Names::Zram => c"zram",
        }
    }

    /// The disks' names before their number.
    pub(crate) fn prefix(self) -> &'static str {
        match self {
            Names::Rzram => "rzram",
            Names::Zram => "zram",
        }
    }

    /// A path that exists while another driver holds these names: C zram's
    /// class (loaded as a module or built in). Registering the same names
    /// again would fail deep in sysfs with a stack dump, so it is checked
    /// first.
    pub(crate) fn taken_marker(self) -> &'static CStr {
        match self {
            Names::Rzram => c"/sys/class/rzram-control",
            Names::Zram => c"/sys/class/zram-control",
        }
    }
}
