// SPDX-License-Identifier: GPL-2.0
//! Corpus helpers shared by zpool-lab and pathbench (pathbench includes this
//! file by path).
use std::path::{Path, PathBuf};

/// Regular files under `p`, sorted, without following symlinks.
pub fn collect_files(p: &Path, out: &mut Vec<PathBuf>) {
    let Ok(md) = std::fs::symlink_metadata(p) else {
        return;
    };
    if md.is_file() {
        out.push(p.to_path_buf());
    } else if md.is_dir() {
        let Ok(rd) = std::fs::read_dir(p) else { return };
        let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        for e in entries {
            collect_files(&e, out);
        }
    }
}

/// Whether the page is one 8-byte word repeated (stored without the pool).
pub fn same_filled(page: &[u8]) -> bool {
    let first = &page[..8];
    page.chunks_exact(8).all(|w| w == first)
}
