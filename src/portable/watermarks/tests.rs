// SPDX-License-Identifier: GPL-2.0

use super::*;

#[test]
fn parses_valid_pairs() {
    assert_eq!(Watermarks::parse(b"90 75\n"), Ok(Watermarks::DEFAULT));
    assert_eq!(
        Watermarks::parse(b"  100\t1 "),
        Watermarks::new(100, 1).ok_or(EINVAL)
    );
    assert_eq!(
        Watermarks::parse(b"2 1").map(|w| (w.high(), w.low())),
        Ok((2, 1))
    );
}

#[test]
fn refuses_invalid_pairs() {
    for bad in [
        &b""[..],
        b"\n",
        b"90",
        b"90 75 10",
        b"75 90",
        b"90 90",
        b"101 50",
        b"50 0",
        b"0 0",
        b"-1 5",
        b"90,75",
        b"x 1",
        b"4294967386 75",
    ] {
        assert_eq!(Watermarks::parse(bad), Err(EINVAL), "{:?}", bad);
    }
}

#[test]
fn pack_round_trips() {
    for high in 2..=100 {
        for low in 1..high {
            let w = Watermarks::new(high, low).ok_or(EINVAL);
            assert_eq!(w.map(|w| Watermarks::unpack(w.pack())), w);
        }
    }
    assert_eq!(Watermarks::unpack(0), Watermarks::DEFAULT);
    assert_eq!(Watermarks::unpack(u32::MAX), Watermarks::DEFAULT);
}

#[test]
fn pages_round_down() {
    let w = Watermarks::DEFAULT;
    assert_eq!(w.pages(1000), (900, 750));
    assert_eq!(w.pages(10), (9, 7));
    assert_eq!(w.pages(0), (0, 0));
    let (high, low) = w.pages(u64::MAX / 4096);
    assert!(high > low && high < u64::MAX / 4096);
}
