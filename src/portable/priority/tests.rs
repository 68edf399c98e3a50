// SPDX-License-Identifier: GPL-2.0

//! Host tests of the priority selection and `recomp_algorithm` parsing.

use super::*;
use crate::portable::parse::ERANGE;

/// lz4 primary, zstd at 1, nothing at 2, zstd again at 3.
const NAMES: Names<'static> = [Some(b"lz4"), Some(b"zstd"), None, Some(b"zstd")];

#[test]
fn neither_given_is_the_minimum() {
    assert_eq!(select_priority(&NAMES, None, None, 0), Ok(0));
    assert_eq!(select_priority(&NAMES, None, None, 1), Ok(1));
}

#[test]
fn priority_alone_is_range_checked_only() {
    assert_eq!(select_priority(&NAMES, None, Some(0), 0), Ok(0));
    // An empty priority is the caller's business, as in zram.
    assert_eq!(select_priority(&NAMES, None, Some(2), 0), Ok(2));
    assert_eq!(select_priority(&NAMES, None, Some(3), 1), Ok(3));
    for bad in [-1, 4, i32::MAX, i32::MIN] {
        assert_eq!(
            select_priority(&NAMES, None, Some(bad), 0),
            Err(EINVAL),
            "{bad}"
        );
    }
    // recompress never selects the primary.
    assert_eq!(select_priority(&NAMES, None, Some(0), 1), Err(EINVAL));
}

#[test]
fn algo_alone_is_the_lowest_holding_it() {
    assert_eq!(select_priority(&NAMES, Some(b"lz4"), None, 0), Ok(0));
    assert_eq!(select_priority(&NAMES, Some(b"zstd"), None, 0), Ok(1));
    assert_eq!(select_priority(&NAMES, Some(b"zstd"), None, 1), Ok(1));
    assert_eq!(select_priority(&NAMES, Some(b"lz4"), None, 1), Err(EINVAL));
    assert_eq!(
        select_priority(&NAMES, Some(b"deflate"), None, 0),
        Err(EINVAL)
    );
    let zstd_primary: Names<'static> = [Some(b"zstd"), None, Some(b"zstd"), None];
    assert_eq!(
        select_priority(&zstd_primary, Some(b"zstd"), None, 0),
        Ok(0)
    );
    assert_eq!(
        select_priority(&zstd_primary, Some(b"zstd"), None, 1),
        Ok(2)
    );
}

#[test]
fn both_must_agree() {
    assert_eq!(select_priority(&NAMES, Some(b"zstd"), Some(3), 0), Ok(3));
    assert_eq!(
        select_priority(&NAMES, Some(b"zstd"), Some(0), 0),
        Err(EINVAL)
    );
    assert_eq!(
        select_priority(&NAMES, Some(b"zstd"), Some(2), 0),
        Err(EINVAL)
    );
    assert_eq!(
        select_priority(&NAMES, Some(b"zstd"), Some(4), 0),
        Err(EINVAL)
    );
    // A name is compared whole.
    assert_eq!(
        select_priority(&NAMES, Some(b"zst"), Some(1), 0),
        Err(EINVAL)
    );
}

#[test]
fn recomp_algorithm_forms() {
    let r = parse_recomp_algorithm(b"algo=zstd\n");
    assert_eq!(
        r,
        Ok(RecompAlgorithm {
            algo: b"zstd",
            priority: 1
        })
    );
    let r = parse_recomp_algorithm(b"algo=deflate priority=3\n");
    assert_eq!(
        r,
        Ok(RecompAlgorithm {
            algo: b"deflate",
            priority: 3
        })
    );
    let r = parse_recomp_algorithm(b"  priority=2   algo=lz4hc");
    assert_eq!(
        r,
        Ok(RecompAlgorithm {
            algo: b"lz4hc",
            priority: 2
        })
    );
    // The name is looked up by the caller.
    let r = parse_recomp_algorithm(b"algo=nosuch");
    assert_eq!(
        r,
        Ok(RecompAlgorithm {
            algo: b"nosuch",
            priority: 1
        })
    );
}

#[test]
fn recomp_algorithm_errors() {
    for bad in [
        &b""[..],
        b"\n",
        b"priority=1\n",
        b"algo=\n",
        b"algo\n",
        b"algo=zstd priority=0\n",
        b"algo=zstd priority=4\n",
        b"algo=zstd priority=-1\n",
        b"algo=zstd priority=x\n",
        b"algo=zstd level=3\n",
        b"algo=zstd dict=/x\n",
        b"algo=zstd deflate.winbits=12\n",
        b"algo=zstd nosuch=1\n",
    ] {
        assert_eq!(parse_recomp_algorithm(bad), Err(EINVAL), "{:?}", bad);
    }
    assert_eq!(
        parse_recomp_algorithm(b"algo=zstd priority=2147483648"),
        Err(ERANGE)
    );
    let mut long = [b'a'; 133];
    long[..5].copy_from_slice(b"algo=");
    assert_eq!(parse_recomp_algorithm(&long), Err(E2BIG));
    // 127 bytes of name are still a name (unknown, for the caller).
    assert_eq!(
        parse_recomp_algorithm(&long[..132]).map(|r| r.algo.len()),
        Ok(127)
    );
    // The priority is checked before the name's length, as in zram.
    let mut long_bad = [b'a'; 144];
    long_bad[..11].copy_from_slice(b"priority=9 ");
    long_bad[11..16].copy_from_slice(b"algo=");
    assert_eq!(parse_recomp_algorithm(&long_bad), Err(EINVAL));
}
