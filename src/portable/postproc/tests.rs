// SPDX-License-Identifier: GPL-2.0

//! Unit tests of the post-processing commands' parsers.

use super::*;
use std::vec::Vec;

fn scans(buf: &[u8], nr: u64) -> Result<Vec<Scan>, Errno> {
    let mut v = Vec::new();
    parse_writeback(buf, nr, |s| v.push(s))?;
    Ok(v)
}

fn scan(mode: u32, lo: u64, hi: u64) -> Scan {
    Scan { mode, lo, hi }
}

#[test]
fn idle_all_or_age() {
    assert_eq!(parse_idle(b"all\n"), Ok(Idle::All));
    assert_eq!(parse_idle(b"all"), Ok(Idle::All));
    assert_eq!(parse_idle(b"5\n"), Ok(Idle::Age(5)));
    assert_eq!(parse_idle(b"0x10"), Ok(Idle::Age(16)));
    assert_eq!(parse_idle(b"0"), Ok(Idle::Age(0)));
    for bad in [
        &b"al"[..],
        b"-1",
        b"",
        b"\n",
        b"4294967296",
        b"5s",
        b"all all",
    ] {
        assert_eq!(parse_idle(bad), Err(EINVAL), "{:?}", bad);
    }
}

#[test]
fn writeback_modes() {
    assert_eq!(scans(b"idle\n", 10), Ok(vec![scan(WB_IDLE, 0, 10)]));
    assert_eq!(scans(b"huge", 10), Ok(vec![scan(WB_HUGE, 0, 10)]));
    assert_eq!(
        scans(b"huge_idle", 10),
        Ok(vec![scan(WB_HUGE | WB_IDLE, 0, 10)])
    );
    assert_eq!(
        scans(b"type=incompressible\n", 10),
        Ok(vec![scan(WB_INCOMPRESSIBLE, 0, 10)])
    );
    // A mode ends the command: what follows is not read.
    assert_eq!(scans(b"idle bogus", 10), Ok(vec![scan(WB_IDLE, 0, 10)]));
    for bad in [&b"idl"[..], b"type=", b"type=all", b"IDLE", b"page_index"] {
        assert_eq!(scans(bad, 10), Err(EINVAL), "{:?}", bad);
    }
    // Nothing, or unknown keys only: no scan, no error.
    assert_eq!(scans(b"", 10), Ok(vec![]));
    assert_eq!(scans(b"\n", 10), Ok(vec![]));
    assert_eq!(scans(b"foo=1", 10), Ok(vec![]));
}

#[test]
fn writeback_indexes() {
    assert_eq!(scans(b"page_index=3", 10), Ok(vec![scan(0, 3, 4)]));
    assert_eq!(scans(b"page_indexes=2-9\n", 10), Ok(vec![scan(0, 2, 10)]));
    assert_eq!(
        scans(b"page_index=1 page_indexes=4-5 page_index=9", 10),
        Ok(vec![scan(0, 1, 2), scan(0, 4, 6), scan(0, 9, 10)])
    );
    // A mode after an index scans that index's range.
    assert_eq!(
        scans(b"page_indexes=2-3 type=huge", 10),
        Ok(vec![scan(0, 2, 4), scan(WB_HUGE, 2, 4)])
    );
    assert_eq!(scans(b"page_index=10", 10), Err(ERANGE));
    assert_eq!(scans(b"page_indexes=3-10", 10), Err(ERANGE));
    assert_eq!(scans(b"page_indexes=10-11", 10), Err(ERANGE));
    assert_eq!(scans(b"page_indexes=5-4", 10), Err(ERANGE));
    assert_eq!(scans(b"page_indexes=5", 10), Err(EINVAL));
    assert_eq!(scans(b"page_index=x", 10), Err(EINVAL));
    assert_eq!(scans(b"page_index=-1", 10), Err(EINVAL));
    assert_eq!(scans(b"page_index=99999999999999999999", 10), Err(ERANGE));
    // An error anywhere selects nothing, even after a good token.
    let mut n = 0;
    assert_eq!(
        parse_writeback(b"page_index=1 page_index=20", 10, |_| n += 1),
        Err(ERANGE)
    );
    assert_eq!(n, 0);
}

#[test]
fn recompress_args() {
    let r = parse_recompress(
        b"type=idle threshold=1000 max_pages=5 algo=zstd priority=2\n",
        3000,
    );
    assert_eq!(
        r,
        Ok(Recompress {
            mode: RECOMP_IDLE,
            max_pages: 5,
            threshold: 1000,
            algo: Some(&b"zstd"[..]),
            priority: Some(2),
        })
    );
    let d = parse_recompress(b"", 3000).map(|r| (r.mode, r.max_pages, r.threshold));
    assert_eq!(d, Ok((0, u64::MAX, 0)));
    assert_eq!(
        parse_recompress(b"type=huge_idle", 3000).map(|r| r.mode),
        Ok(3)
    );
    assert_eq!(
        parse_recompress(b"type=huge x=y", 3000).map(|r| r.mode),
        Ok(2)
    );
    // A bad type after a good one keeps the good one, as zram.
    assert_eq!(
        parse_recompress(b"type=huge type=x", 3000).map(|r| r.mode),
        Ok(2)
    );
    for bad in [
        &b"type=x"[..],
        b"type",
        b"threshold=",
        b"threshold=3000",
        b"threshold=-1",
        b"max_pages=x",
        b"priority=z",
        b"idle",
    ] {
        assert_eq!(
            parse_recompress(bad, 3000).map(|_| ()),
            Err(EINVAL),
            "{:?}",
            bad
        );
    }
    assert_eq!(
        parse_recompress(b"threshold=99999999999", 3000).map(|_| ()),
        Err(ERANGE)
    );
}
