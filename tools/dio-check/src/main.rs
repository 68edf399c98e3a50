//! dio-check DEV [--blocks N] [--seed S] [--range FIRST:COUNT]
//!
//! Writes N runs of 1..=4 blocks (4 KiB each) at scattered block offsets of
//! DEV (or of blocks FIRST..FIRST+COUNT, so that several instances can run
//! at once on disjoint ranges) with O_DIRECT, from a buffer placed 512 bytes past a page boundary,
//! then reads everything back the same way and compares it with what was
//! written. A page-misaligned buffer makes the block layer split each block
//! into two segments, so the driver's sub-page (read-modify-write) paths do
//! the work. Prints one line `dio-check: PASS ...` or `dio-check: FAIL ...`
//! and exits 0 or 1 (2 for usage or setup errors).

use std::fs::OpenOptions;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::process::ExitCode;

/// The device's logical block size: rzram uses the page size.
const BLOCK: usize = 4096;
/// Memory misalignment of the buffers: a multiple of 512 (the DMA alignment
/// the block layer requires) that is not a multiple of the page size.
const MISALIGN: usize = 512;
/// `O_DIRECT` on x86-64 (the only target the guest runs).
const O_DIRECT: i32 = 0o40000;
/// Longest run written at once, in blocks.
const MAX_RUN: usize = 4;

/// splitmix64: a tiny deterministic generator for offsets and data.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A byte buffer of `len` bytes whose start is `MISALIGN` past a page.
struct Misaligned {
    storage: Vec<u8>,
    start: usize,
    len: usize,
}

impl Misaligned {
    fn new(len: usize) -> Self {
        let storage = vec![0u8; len + 2 * BLOCK];
        let addr = storage.as_ptr() as usize;
        let start = (BLOCK - addr % BLOCK) % BLOCK + MISALIGN;
        Misaligned {
            storage,
            start,
            len,
        }
    }
    fn bytes(&mut self) -> &mut [u8] {
        // `new` made the storage `2 * BLOCK` longer than any start it picks.
        let (start, len) = (self.start, self.len);
        self.storage.get_mut(start..start + len).unwrap_or_default()
    }
}

/// Content of block `b` for this run: half random words, half one repeated
/// word, so it compresses and is not same-filled.
fn fill_block(out: &mut [u8], seed: u64, b: u64) {
    let mut s = seed ^ b.wrapping_mul(0xd6e8_feb8_6659_fd93);
    let fill = next(&mut s) | 1;
    for (i, w) in out.chunks_exact_mut(8).enumerate() {
        let v = if i < BLOCK / 16 { next(&mut s) } else { fill };
        w.copy_from_slice(&v.to_le_bytes());
    }
}

/// What to do: device, blocks to write, seed, and the block range used.
struct Config {
    dev: String,
    blocks: u64,
    seed: u64,
    range: Option<(u64, u64)>,
}

fn run(cfg: &Config) -> Result<String, String> {
    let (dev, blocks, seed) = (cfg.dev.as_str(), cfg.blocks, cfg.seed);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(O_DIRECT)
        .open(dev)
        .map_err(|e| format!("open {dev}: {e}"))?;
    let size = file.metadata().map_err(|e| e.to_string()).and_then(|_| {
        let mut f = &file;
        std::io::Seek::seek(&mut f, std::io::SeekFrom::End(0)).map_err(|e| e.to_string())
    })?;
    let dev_blocks = size / BLOCK as u64;
    let (base, span) = cfg.range.unwrap_or((0, dev_blocks));
    if span < MAX_RUN as u64 || base.checked_add(span).is_none_or(|end| end > dev_blocks) {
        return Err(format!(
            "range {base}+{span} does not fit {dev} ({dev_blocks} blocks)"
        ));
    }
    // Which blocks were written, for the read-back.
    let mut written = Vec::new();
    let mut rng = seed;
    let mut buf = Misaligned::new(MAX_RUN * BLOCK);
    let mut done = 0;
    while done < blocks {
        let run = 1 + (next(&mut rng) % MAX_RUN as u64) as usize;
        let first = base + next(&mut rng) % (span - run as u64 + 1);
        let bytes = buf
            .bytes()
            .get_mut(..run * BLOCK)
            .ok_or("run longer than the buffer")?;
        for (k, block) in bytes.chunks_exact_mut(BLOCK).enumerate() {
            fill_block(block, seed, first + k as u64);
        }
        file.write_all_at(bytes, first * BLOCK as u64)
            .map_err(|e| format!("write {run} blocks at block {first}: {e}"))?;
        written.extend((first..first + run as u64).map(|b| (b, run)));
        done += run as u64;
    }
    written.sort_unstable();
    written.dedup_by_key(|(b, _)| *b);
    let mut back = Misaligned::new(BLOCK);
    let mut want = vec![0u8; BLOCK];
    for &(b, _) in &written {
        file.read_exact_at(back.bytes(), b * BLOCK as u64)
            .map_err(|e| format!("read block {b}: {e}"))?;
        fill_block(&mut want, seed, b);
        if let Some(off) = back.bytes().iter().zip(&want).position(|(x, y)| x != y) {
            return Err(format!("block {b} differs at byte {off}"));
        }
    }
    Ok(format!(
        "{} blocks written in runs of 1..={MAX_RUN}, {} distinct read back",
        done,
        written.len()
    ))
}

fn parse(args: &[String]) -> Option<Config> {
    let mut dev = None;
    let (mut blocks, mut seed, mut range) = (256, 1, None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--blocks" => blocks = it.next()?.parse().ok()?,
            "--seed" => seed = it.next()?.parse().ok()?,
            "--range" => {
                let (first, count) = it.next()?.split_once(':')?;
                range = Some((first.parse().ok()?, count.parse().ok()?));
            }
            s if dev.is_none() && !s.starts_with('-') => dev = Some(s.to_string()),
            _ => return None,
        }
    }
    Some(Config {
        dev: dev?,
        blocks,
        seed,
        range,
    })
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(cfg) = parse(&args) else {
        eprintln!("usage: dio-check DEV [--blocks N] [--seed S] [--range FIRST:COUNT]");
        return ExitCode::from(2);
    };
    match run(&cfg) {
        Ok(msg) => {
            println!("dio-check: PASS {msg}");
            ExitCode::SUCCESS
        }
        Err(msg) => {
            println!("dio-check: FAIL {msg}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_misaligned_by_512() {
        for len in [BLOCK, 3 * BLOCK] {
            let mut b = Misaligned::new(len);
            let p = b.bytes().as_ptr() as usize;
            assert_eq!(p % BLOCK, MISALIGN);
            assert_eq!(b.bytes().len(), len);
        }
    }

    #[test]
    fn blocks_differ_and_repeat() {
        let (mut a, mut b) = (vec![0; BLOCK], vec![0; BLOCK]);
        fill_block(&mut a, 1, 5);
        fill_block(&mut b, 1, 5);
        assert_eq!(a, b);
        fill_block(&mut b, 1, 6);
        assert_ne!(a, b);
    }

    #[test]
    fn parses_range() {
        let a: Vec<String> = ["/dev/x", "--range", "10:20", "--seed", "3"]
            .map(String::from)
            .into();
        let c = parse(&a).map(|c| (c.dev, c.blocks, c.seed, c.range));
        assert_eq!(c, Some(("/dev/x".into(), 256, 3, Some((10, 20)))));
        let bad: Vec<String> = ["/dev/x", "--range", "10"].map(String::from).into();
        assert!(parse(&bad).is_none());
    }

    #[test]
    fn round_trip_on_a_file() {
        // A regular file stands in for the device (O_DIRECT works on most
        // host filesystems; skip where it is refused, e.g. tmpfs).
        let path = std::env::temp_dir().join(format!("dio-check-{}", std::process::id()));
        std::fs::write(&path, vec![0u8; 64 * BLOCK]).unwrap_or(());
        let p = path.to_string_lossy().to_string();
        let cfg = Config {
            dev: p.clone(),
            blocks: 32,
            seed: 7,
            range: Some((8, 40)),
        };
        match run(&cfg) {
            Ok(msg) => assert!(msg.contains("blocks written"), "{msg}"),
            // Only the open may fail: the filesystem refuses O_DIRECT.
            Err(e) => assert!(e.starts_with("open"), "{e}"),
        }
        let _ = std::fs::remove_file(&path);
    }
}
