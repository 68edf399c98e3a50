// SPDX-License-Identifier: GPL-2.0

//! Host tests of the sysfs value parsers.

use super::*;
use core::fmt::Write;

#[test]
fn u64_bases_and_newline() {
    assert_eq!(parse_u64(b"42\n", 10), Ok(42));
    assert_eq!(parse_u64(b"42", 10), Ok(42));
    assert_eq!(parse_u64(b"+42\n", 10), Ok(42));
    assert_eq!(parse_u64(b"0x1f\n", 0), Ok(31));
    assert_eq!(parse_u64(b"0X1F", 0), Ok(31));
    assert_eq!(parse_u64(b"017", 0), Ok(15));
    assert_eq!(parse_u64(b"0", 0), Ok(0));
    assert_eq!(parse_u64(b"017", 10), Ok(17));
    assert_eq!(parse_u64(b"0x10", 16), Ok(16));
    assert_eq!(parse_u64(b"ff", 16), Ok(255));
    assert_eq!(parse_u64(b"18446744073709551615", 10), Ok(u64::MAX));
    // Stops at the NUL like a C string.
    assert_eq!(parse_u64(b"7\0junk", 10), Ok(7));
}

#[test]
fn u64_errors() {
    assert_eq!(parse_u64(b"", 10), Err(EINVAL));
    assert_eq!(parse_u64(b"\n", 10), Err(EINVAL));
    assert_eq!(parse_u64(b" 1", 10), Err(EINVAL));
    assert_eq!(parse_u64(b"1 ", 10), Err(EINVAL));
    assert_eq!(parse_u64(b"1\n\n", 10), Err(EINVAL));
    assert_eq!(parse_u64(b"-1", 10), Err(EINVAL));
    assert_eq!(parse_u64(b"12a", 10), Err(EINVAL));
    assert_eq!(parse_u64(b"0x1f", 10), Err(EINVAL));
    assert_eq!(parse_u64(b"08", 0), Err(EINVAL));
    assert_eq!(parse_u64(b"0x", 0), Err(EINVAL));
    assert_eq!(parse_u64(b"0x", 16), Err(EINVAL));
    assert_eq!(parse_u64(b"1", 1), Err(EINVAL));
    assert_eq!(parse_u64(b"1", 17), Err(EINVAL));
    assert_eq!(parse_u64(b"18446744073709551616", 10), Err(ERANGE));
    assert_eq!(parse_u64(b"99999999999999999999999\n", 10), Err(ERANGE));
}

#[test]
fn narrow_and_signed() {
    assert_eq!(parse_u32(b"4294967295\n", 10), Ok(u32::MAX));
    assert_eq!(parse_u32(b"4294967296\n", 10), Err(ERANGE));
    assert_eq!(parse_u16(b"1\n", 10), Ok(1));
    assert_eq!(parse_u16(b"65536", 10), Err(ERANGE));
    assert_eq!(parse_i32(b"-5\n", 10), Ok(-5));
    assert_eq!(parse_i32(b"+5", 10), Ok(5));
    assert_eq!(parse_i32(b"-0", 10), Ok(0));
    assert_eq!(parse_i32(b"-2147483648", 10), Ok(i32::MIN));
    assert_eq!(parse_i32(b"-2147483649", 10), Err(ERANGE));
    assert_eq!(parse_i32(b"2147483648", 10), Err(ERANGE));
    assert_eq!(parse_i32(b"--1", 10), Err(EINVAL));
    assert_eq!(parse_i32(b"-+1", 10), Err(EINVAL));
    assert_eq!(parse_i64(b"-9223372036854775808", 10), Ok(i64::MIN));
    assert_eq!(parse_i64(b"-9223372036854775809", 10), Err(ERANGE));
    assert_eq!(parse_i64(b"9223372036854775808", 10), Err(ERANGE));
    assert_eq!(parse_i64(b"-", 10), Err(EINVAL));
}

#[test]
fn bools() {
    for t in [
        &b"1"[..],
        b"y\n",
        b"Y",
        b"yes",
        b"t",
        b"true\n",
        b"on",
        b"ON\n",
        b"oN",
    ] {
        assert_eq!(parse_bool(t), Ok(true), "{:?}", t);
    }
    for f in [
        &b"0"[..],
        b"n\n",
        b"N",
        b"no",
        b"f",
        b"false",
        b"off",
        b"OFF\n",
        b"of",
    ] {
        assert_eq!(parse_bool(f), Ok(false), "{:?}", f);
    }
    for e in [&b""[..], b"\n", b"o", b"ox", b"2", b" 1", b"x"] {
        assert_eq!(parse_bool(e), Err(EINVAL), "{:?}", e);
    }
}

#[test]
fn streq() {
    assert!(sysfs_streq(b"all\n", b"all"));
    assert!(sysfs_streq(b"all", b"all"));
    assert!(!sysfs_streq(b"all\n\n", b"all"));
    assert!(!sysfs_streq(b"al", b"all"));
}

#[test]
fn memparse_ok() {
    assert_eq!(memparse(b"0\n"), Ok(0));
    assert_eq!(memparse(b"4096"), Ok(4096));
    assert_eq!(memparse(b"2097152\n"), Ok(2 << 20));
    assert_eq!(memparse(b"1k"), Ok(1 << 10));
    assert_eq!(memparse(b"1K\n"), Ok(1 << 10));
    assert_eq!(memparse(b"2M\n"), Ok(2 << 20));
    assert_eq!(memparse(b"25m"), Ok(25 << 20));
    assert_eq!(memparse(b"1G"), Ok(1 << 30));
    assert_eq!(memparse(b"100G\n"), Ok(100 << 30));
    assert_eq!(memparse(b"3t"), Ok(3 << 40));
    assert_eq!(memparse(b"1P"), Ok(1 << 50));
    assert_eq!(memparse(b"15E"), Ok(15 << 60));
    assert_eq!(memparse(b"0x10K"), Ok(16 << 10));
    assert_eq!(memparse(b"0x1E"), Ok(0x1e));
    assert_eq!(memparse(b"010"), Ok(8));
    assert_eq!(memparse(b"  64M  \n"), Ok(64 << 20));
    assert_eq!(memparse(b"\t1\r\n"), Ok(1));
    assert_eq!(memparse(b"18446744073709551615"), Ok(u64::MAX));
}

#[test]
fn memparse_rejects() {
    for e in [
        &b""[..],
        b"\n",
        b"   ",
        b"-1",
        b"+1",
        b"M",
        b"1KB",
        b"1 K",
        b"1MM",
        b"12x",
        b"08",
        b"0x",
        b"1.5G",
        b"16E",
        b"0x10000000000000000",
        b"18446744073709551616",
        b"1\n2",
    ] {
        assert_eq!(memparse(e), Err(EINVAL), "{:?}", e);
    }
}

#[test]
fn algo_names() {
    let max = ZRAM_MAX_ALGO_NAME_SZ;
    assert_eq!(algorithm_name(b"lz4\n", max), Ok(&b"lz4"[..]));
    assert_eq!(algorithm_name(b"zstd", max), Ok(&b"zstd"[..]));
    assert_eq!(algorithm_name(b"lzo-rle\n", max), Ok(&b"lzo-rle"[..]));
    assert_eq!(algorithm_name(b"", max), Err(EINVAL));
    assert_eq!(algorithm_name(b"\n", max), Err(EINVAL));
    assert_eq!(algorithm_name(b"lz4 \n", max), Err(EINVAL));
    assert_eq!(algorithm_name(b"lz4\n\n", max), Err(EINVAL));
    assert_eq!(algorithm_name(b"a b", max), Err(EINVAL));
    // Raw length (newline included) >= 128 is E2BIG, as in zram.
    let mut long = [b'a'; 128];
    assert_eq!(algorithm_name(&long[..127], max), Ok(&long[..127]));
    assert_eq!(algorithm_name(&long[..128], max), Err(E2BIG));
    long[127] = b'\n';
    assert_eq!(algorithm_name(&long, max), Err(E2BIG));
    assert_eq!(algorithm_name(&long[1..], max), Ok(&long[1..127]));
    assert_eq!(algorithm_name(&[b'x'; 4096], max), Err(E2BIG));
}

#[test]
fn algo_params_basic() -> Result<(), Errno> {
    let p = parse_algorithm_params(b"algo=zstd level=-3 dict=/etc/dict\n")?;
    assert_eq!(p.algo, Some(&b"zstd"[..]));
    assert_eq!(p.level, Some(-3));
    assert_eq!(p.dict, Some(&b"/etc/dict"[..]));
    assert_eq!(p.priority, None);
    assert_eq!(p.deflate_winbits, None);

    let p = parse_algorithm_params(b"  priority=1   level=9\n")?;
    assert_eq!(p.priority, Some(1));
    assert_eq!(p.level, Some(9));
    assert_eq!(p.algo, None);

    let p = parse_algorithm_params(b"deflate.winbits=-12 level=1 level=2")?;
    assert_eq!(p.deflate_winbits, Some(-12));
    assert_eq!(p.level, Some(2));

    assert_eq!(parse_algorithm_params(b""), Ok(AlgorithmParams::default()));
    assert_eq!(
        parse_algorithm_params(b"\n"),
        Ok(AlgorithmParams::default())
    );
    Ok(())
}

#[test]
fn algo_params_quotes() -> Result<(), Errno> {
    let p = parse_algorithm_params(b"dict=\"/a b/c\" algo=lz4\n")?;
    assert_eq!(p.dict, Some(&b"/a b/c"[..]));
    assert_eq!(p.algo, Some(&b"lz4"[..]));
    let p = parse_algorithm_params(b"\"algo=lz4hc\"")?;
    assert_eq!(p.algo, Some(&b"lz4hc"[..]));
    // As in C, a quote after '=' inside a quoted token closes the quote.
    assert_eq!(
        parse_algorithm_params(b"\"dict=\"x y\"\" level=1"),
        Err(EINVAL)
    );
    let p = parse_algorithm_params(b"\"dict=/x y\" level=1")?;
    assert_eq!(p.dict, Some(&b"/x y"[..]));
    assert_eq!(p.level, Some(1));
    Ok(())
}

#[test]
fn algo_params_errors() {
    for e in [
        &b"algo"[..],
        b"algo=",
        b"algo= lz4",
        b"=lz4",
        b"level=x",
        b"level=1.5",
        b"priority=",
        b"bogus=1",
        b"algo=lz4 bogus=1",
        b"dict=\"\"",
        b"\"",
    ] {
        assert_eq!(parse_algorithm_params(e), Err(EINVAL), "{:?}", e);
    }
    assert_eq!(parse_algorithm_params(b"level=99999999999"), Err(ERANGE));
    assert_eq!(parse_algorithm_params(b"priority=-2147483649"), Err(ERANGE));
}

#[test]
fn page_writer_formats_and_truncates() {
    let mut page = [0xffu8; 16];
    let mut w = PageWriter::new(&mut page);
    assert!(writeln!(w, "{:8}", 42u64).is_ok());
    assert_eq!(w.as_bytes(), b"      42\n");
    assert_eq!(w.written(), 9);
    assert!(!w.is_truncated());
    assert!(w.write_str("abcdefghij").is_ok());
    assert_eq!(w.written(), 15);
    assert!(w.is_truncated());
    assert_eq!(w.as_bytes(), b"      42\nabcdef");
    w.write_bytes(b"more");
    assert_eq!(w.written(), 15);
    assert_eq!(page[15], 0);

    let mut empty: [u8; 0] = [];
    let mut w = PageWriter::new(&mut empty);
    assert!(write!(w, "x").is_ok());
    assert_eq!(w.written(), 0);
    assert!(w.is_truncated());

    let mut one = [7u8; 1];
    let mut w = PageWriter::new(&mut one);
    w.write_bytes(b"x");
    assert_eq!(w.written(), 0);
    assert_eq!(one, [0]);
}

#[test]
fn errno_neg() {
    assert_eq!(EINVAL.to_neg(), -22);
    assert_eq!(E2BIG.to_neg(), -7);
    assert_eq!(ERANGE.to_neg(), -34);
}
