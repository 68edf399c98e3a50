// SPDX-License-Identifier: GPL-2.0

//! memhog: push anonymous memory into swap and verify it comes back intact.
//!
//! Run inside the test VM with rzram as swap:
//!
//! ```text
//! memhog <MiB> [--passes N] [--seed S] [--prefix BYTES]
//! ```
//!
//! It allocates `<MiB>` MiB of page-aligned anonymous memory and fills every
//! 4 KiB page with a pattern derived from (seed, generation, page index):
//! mostly pages that lz4 compresses about 2-4:1 (a random prefix followed by
//! a repeated word), plus zero pages, same-filled pages with a non-zero word
//! and fully random (incompressible, "huge") pages, so every rzram store path
//! is used. When `<MiB>` exceeds free RAM the kernel swaps pages out while
//! later ones are written. Then it makes N passes over all pages, re-deriving
//! each expected page and comparing; the first pass also rewrites every page
//! with the next generation's pattern so that writes of swapped-in pages go
//! back to swap too.
//!
//! Output: progress lines, `VmSwap` from `/proc/self/status` if present, then
//! exactly one final line, `memhog: PASS <MiB> MiB verified, <N> pages`
//! (exit 0) or `memhog: FAIL page <idx> offset <off>` (exit 1). Usage and
//! allocation errors exit 2.

use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Bytes per page: the unit rzram stores and the unit of the patterns.
const PAGE_SIZE: usize = 4096;
/// Pages per MiB of the `<MiB>` argument.
const PAGES_PER_MIB: usize = (1 << 20) / PAGE_SIZE;
/// Bytes per pattern word (u64 on every target, so patterns are portable).
const WORD: usize = 8;
/// Progress is printed this many times per phase.
const PROGRESS_STEPS: usize = 10;
/// Default number of verification passes: one that verifies and rewrites,
/// one that verifies the rewritten pages.
const DEFAULT_PASSES: u32 = 2;
/// Default pattern seed (any value works; fixed so runs are repeatable).
const DEFAULT_SEED: u64 = 0x5eed;

/// One page, aligned so it maps onto exactly one physical page.
#[repr(C, align(4096))]
struct Page([u8; PAGE_SIZE]);

/// The pattern family of one page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// All zero bytes (rzram: same-filled with 0, no allocation).
    Zero,
    /// One non-zero word repeated (rzram: same-filled).
    Same(u64),
    /// Random bytes (incompressible: stored as a huge page).
    Random,
    /// `prefix` random bytes then `fill` repeated: compresses ~2-4:1.
    Mixed {
        /// Length of the random prefix in bytes, a multiple of `WORD`.
        prefix: usize,
        /// Word repeated after the prefix.
        fill: u64,
    },
}

/// splitmix64 step: a tiny, good-enough PRNG and hash.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Per-page RNG state for (seed, generation, page index).
fn page_state(seed: u64, gen: u32, idx: u64) -> u64 {
    let mut s = seed
        ^ idx.wrapping_mul(0xd6e8_feb8_6659_fd93)
        ^ u64::from(gen).wrapping_mul(0xa076_1d64_78bd_642f);
    splitmix64(&mut s)
}

/// Shortest random prefix of a mixed page, in bytes (`--prefix`): the
/// prefix is P..2P bytes, so it sets how well the mixed pages compress
/// (1024, the default, gives about 2.6:1; 256 about 8:1). Set once before
/// any page is filled.
static MIN_PREFIX: AtomicUsize = AtomicUsize::new(DEFAULT_PREFIX);

/// Default `--prefix`.
const DEFAULT_PREFIX: usize = 1024;

/// Choose the pattern family from a page's hash: 1/16 zero, 1/16
/// same-filled, 1/16 random, 13/16 mixed with a P..2P byte random prefix.
fn kind_of(h: u64) -> Kind {
    let min = MIN_PREFIX.load(Ordering::Relaxed) / WORD * WORD;
    match h % 16 {
        0 => Kind::Zero,
        1 => Kind::Same((h >> 4) | 1),
        2 => Kind::Random,
        _ => Kind::Mixed {
            prefix: min + ((h >> 8) % (min / WORD + 1) as u64) as usize * WORD,
            fill: h.rotate_left(17) | 1,
        },
    }
}

/// Write the expected content of page `idx` in generation `gen` to `out`.
fn fill_pattern(out: &mut [u8; PAGE_SIZE], seed: u64, gen: u32, idx: u64) {
    let h = page_state(seed, gen, idx);
    let mut rng = h;
    let (random_bytes, fill) = match kind_of(h) {
        Kind::Zero => (0, 0),
        Kind::Same(w) => (0, w),
        Kind::Random => (PAGE_SIZE, 0),
        Kind::Mixed { prefix, fill } => (prefix, fill),
    };
    for (i, chunk) in out.chunks_exact_mut(WORD).enumerate() {
        let w = if i * WORD < random_bytes {
            splitmix64(&mut rng)
        } else {
            fill
        };
        chunk.copy_from_slice(&w.to_le_bytes());
    }
}

/// Offset of the first byte where `page` differs from `expected`.
fn first_difference(page: &[u8; PAGE_SIZE], expected: &[u8; PAGE_SIZE]) -> Option<usize> {
    if page == expected {
        return None;
    }
    page.iter().zip(expected.iter()).position(|(a, b)| a != b)
}

/// A verification failure.
#[derive(Debug, PartialEq, Eq)]
struct Failure {
    /// Page index.
    page: usize,
    /// Byte offset inside the page.
    offset: usize,
    /// Byte found.
    got: u8,
    /// Byte expected.
    want: u8,
    /// Pass number (1-based) that found it.
    pass: u32,
}

/// Parsed command line.
#[derive(Debug, PartialEq, Eq)]
struct Config {
    /// MiB of memory to hog.
    mib: usize,
    /// Verification passes (at least 1).
    passes: u32,
    /// Pattern seed.
    seed: u64,
}

/// Parse a decimal or `0x` hexadecimal number.
fn parse_num(s: &str) -> Option<u64> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

/// Parse `memhog <MiB> [--passes N] [--seed S] [--prefix BYTES]` (arguments after argv[0]).
fn parse_args(args: &[String]) -> Result<Config, String> {
    let mut mib = None;
    let mut passes = DEFAULT_PASSES;
    let mut seed = DEFAULT_SEED;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .and_then(|v| parse_num(v))
                .ok_or_else(|| format!("{name} needs a number"))
        };
        match a.as_str() {
            "--passes" => {
                passes = u32::try_from(value("--passes")?).map_err(|_| "--passes too large")?
            }
            "--seed" => seed = value("--seed")?,
            "--prefix" => {
                let p = value("--prefix")?;
                if p == 0 || p > (PAGE_SIZE / 2) as u64 {
                    return Err(format!("--prefix must be 1..={}", PAGE_SIZE / 2));
                }
                MIN_PREFIX.store(p as usize, Ordering::Relaxed);
            }
            "-h" | "--help" => return Err(String::new()),
            s if mib.is_none() && !s.starts_with('-') => {
                mib = Some(parse_num(s).ok_or_else(|| format!("bad MiB count {s:?}"))?)
            }
            s => return Err(format!("unexpected argument {s:?}")),
        }
    }
    let mib = mib.ok_or("missing <MiB>")?;
    if mib == 0 {
        return Err("<MiB> must be at least 1".into());
    }
    if passes == 0 {
        return Err("--passes must be at least 1".into());
    }
    let mib = usize::try_from(mib).map_err(|_| "<MiB> too large")?;
    mib.checked_mul(PAGES_PER_MIB * PAGE_SIZE)
        .ok_or("<MiB> too large")?;
    Ok(Config { mib, passes, seed })
}

/// Prints a progress line every `total / PROGRESS_STEPS` pages.
struct Progress {
    /// Phase name printed on each line.
    what: String,
    /// Pages in the phase.
    total: usize,
    /// Pages between two lines.
    step: usize,
    /// Phase start, for the rate.
    start: Instant,
}

impl Progress {
    fn new(what: String, total: usize) -> Self {
        Progress {
            what,
            total,
            // Whole MiB steps so the printed MiB counts are exact.
            step: if total >= PAGES_PER_MIB {
                (total / PROGRESS_STEPS / PAGES_PER_MIB).max(1) * PAGES_PER_MIB
            } else {
                total.max(1)
            },
            start: Instant::now(),
        }
    }

    /// Called after page `done - 1` is finished.
    fn tick(&self, done: usize) {
        if done.is_multiple_of(self.step) || done == self.total {
            let secs = self.start.elapsed().as_secs_f64().max(1e-6);
            let mib = done as f64 / PAGES_PER_MIB as f64;
            println!(
                "memhog: {} {}/{} MiB ({:.0} MiB/s)",
                self.what,
                done / PAGES_PER_MIB,
                self.total / PAGES_PER_MIB,
                mib / secs
            );
            let _ = std::io::stdout().flush();
        }
    }
}

/// Allocate `pages` pages, filled with generation 0. `None` if the
/// allocation is refused.
fn allocate_and_fill(pages: usize, seed: u64) -> Option<Vec<Page>> {
    let mut mem: Vec<Page> = Vec::new();
    mem.try_reserve_exact(pages).ok()?;
    let progress = Progress::new("fill".into(), pages);
    let mut page = Page([0; PAGE_SIZE]);
    for idx in 0..pages {
        fill_pattern(&mut page.0, seed, 0, idx as u64);
        mem.push(Page(page.0));
        progress.tick(idx + 1);
    }
    Some(mem)
}

/// Check every page against generation `gen`; if `rewrite` is set, write
/// generation `gen + 1` into each page after checking it.
fn verify_pass(
    mem: &mut [Page],
    seed: u64,
    gen: u32,
    rewrite: bool,
    pass: u32,
    passes: u32,
) -> Result<(), Failure> {
    let what = if rewrite {
        format!("pass {pass}/{passes} verify+rewrite")
    } else {
        format!("pass {pass}/{passes} verify")
    };
    let progress = Progress::new(what, mem.len());
    let mut expected = [0u8; PAGE_SIZE];
    for (idx, page) in mem.iter_mut().enumerate() {
        fill_pattern(&mut expected, seed, gen, idx as u64);
        if let Some(offset) = first_difference(&page.0, &expected) {
            return Err(Failure {
                page: idx,
                offset,
                got: page.0.get(offset).copied().unwrap_or_default(),
                want: expected.get(offset).copied().unwrap_or_default(),
                pass,
            });
        }
        if rewrite {
            fill_pattern(&mut page.0, seed, gen + 1, idx as u64);
        }
        progress.tick(idx + 1);
    }
    Ok(())
}

/// Fill, then run all passes.
fn run(mem: &mut [Page], cfg: &Config) -> Result<(), Failure> {
    let mut gen = 0;
    for pass in 1..=cfg.passes {
        let rewrite = pass == 1;
        verify_pass(mem, cfg.seed, gen, rewrite, pass, cfg.passes)?;
        if rewrite {
            gen += 1;
        }
    }
    Ok(())
}

/// The `VmSwap:` value of this process, e.g. `"123456 kB"`.
fn vm_swap() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmSwap:"))?;
    let value = line["VmSwap:".len()..]
        .split_whitespace()
        .collect::<Vec<_>>();
    Some(value.join(" "))
}

/// Print the swap usage line, if the kernel reports it.
/// Prints this process's swap use and, while the memory is still held, the
/// swap devices' use (`/proc/swaps`), when the system has them.
fn print_vm_swap() {
    if let Some(v) = vm_swap() {
        println!("memhog: VmSwap: {v}");
    }
    if let Ok(swaps) = std::fs::read_to_string("/proc/swaps") {
        for line in swaps.lines() {
            println!("memhog: swaps: {line}");
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cfg = match parse_args(&args) {
        Ok(c) => c,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("memhog: {e}");
            }
            eprintln!("usage: memhog <MiB> [--passes N] [--seed S] [--prefix BYTES]");
            return ExitCode::from(2);
        }
    };
    let pages = cfg.mib * PAGES_PER_MIB;
    println!(
        "memhog: {} MiB, {} pages, {} passes, seed {:#x}",
        cfg.mib, pages, cfg.passes, cfg.seed
    );
    let Some(mut mem) = allocate_and_fill(pages, cfg.seed) else {
        eprintln!("memhog: cannot allocate {} MiB", cfg.mib);
        return ExitCode::from(2);
    };
    print_vm_swap();
    let result = run(&mut mem, &cfg);
    print_vm_swap();
    match result {
        Ok(()) => {
            println!("memhog: PASS {} MiB verified, {} pages", cfg.mib, pages);
            ExitCode::SUCCESS
        }
        Err(f) => {
            println!(
                "memhog: mismatch in pass {}: got {:#04x}, expected {:#04x}",
                f.pass, f.got, f.want
            );
            println!("memhog: FAIL page {} offset {}", f.page, f.offset);
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
// Tests index their own fixtures; a panic there is a failed test.
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn page(seed: u64, gen: u32, idx: u64) -> [u8; PAGE_SIZE] {
        let mut p = [0u8; PAGE_SIZE];
        fill_pattern(&mut p, seed, gen, idx);
        p
    }

    #[test]
    fn pattern_is_deterministic() {
        for idx in 0..64 {
            assert_eq!(page(1, 0, idx), page(1, 0, idx));
        }
        // Different seeds / generations give different data for most pages.
        let differ = (0..64).filter(|&i| page(1, 0, i) != page(2, 0, i)).count();
        assert!(differ > 48, "{differ}");
        let differ = (0..64).filter(|&i| page(1, 0, i) != page(1, 1, i)).count();
        assert!(differ > 48, "{differ}");
    }

    #[test]
    fn all_kinds_occur() {
        let kinds: Vec<Kind> = (0..4096).map(|i| kind_of(page_state(7, 0, i))).collect();
        let zero = kinds.iter().filter(|k| **k == Kind::Zero).count();
        let same = kinds.iter().filter(|k| matches!(k, Kind::Same(_))).count();
        let random = kinds.iter().filter(|k| **k == Kind::Random).count();
        let mixed = kinds
            .iter()
            .filter(|k| matches!(k, Kind::Mixed { .. }))
            .count();
        assert!(zero > 100 && same > 100 && random > 100 && mixed > 2500);
    }

    #[test]
    fn kinds_have_expected_shape() {
        for idx in 0..512 {
            let p = page(3, 0, idx);
            match kind_of(page_state(3, 0, idx)) {
                Kind::Zero => assert!(p.iter().all(|&b| b == 0)),
                Kind::Same(w) => {
                    assert_ne!(w, 0);
                    assert!(p.chunks_exact(WORD).all(|c| c == w.to_le_bytes()));
                }
                Kind::Random => {
                    // No long runs of a repeated word.
                    let same = p.chunks_exact(WORD).filter(|c| *c == &p[..WORD]).count();
                    assert!(same < 4);
                }
                Kind::Mixed { prefix, fill } => {
                    assert!((1024..=2048).contains(&prefix) && prefix % WORD == 0);
                    assert!(p[prefix..]
                        .chunks_exact(WORD)
                        .all(|c| c == fill.to_le_bytes()));
                    // Between 1/4 and 1/2 of the page is random: ~2-4:1.
                    assert!(p[..prefix]
                        .chunks_exact(WORD)
                        .any(|c| c != fill.to_le_bytes()));
                }
            }
        }
    }

    #[test]
    fn verification_catches_flipped_byte() {
        let mut mem: Vec<Page> = (0..8).map(|_| Page([0; PAGE_SIZE])).collect();
        for (i, p) in mem.iter_mut().enumerate() {
            fill_pattern(&mut p.0, 9, 0, i as u64);
        }
        assert_eq!(verify_pass(&mut mem, 9, 0, false, 1, 1), Ok(()));
        mem[5].0[1234] ^= 0x10;
        let f = verify_pass(&mut mem, 9, 0, false, 1, 1).unwrap_err();
        assert_eq!((f.page, f.offset), (5, 1234));
        assert_eq!(f.got ^ f.want, 0x10);
        // First and last byte too.
        mem[5].0[1234] ^= 0x10;
        mem[0].0[0] ^= 1;
        assert_eq!(
            verify_pass(&mut mem, 9, 0, false, 1, 1).unwrap_err().offset,
            0
        );
        mem[0].0[0] ^= 1;
        mem[7].0[PAGE_SIZE - 1] ^= 0x80;
        let f = verify_pass(&mut mem, 9, 0, false, 1, 1).unwrap_err();
        assert_eq!((f.page, f.offset), (7, PAGE_SIZE - 1));
    }

    #[test]
    fn rewrite_pass_switches_generation() {
        let cfg = Config {
            mib: 1,
            passes: 3,
            seed: 11,
        };
        let mut mem = allocate_and_fill(16, cfg.seed).unwrap();
        assert_eq!(run(&mut mem, &cfg), Ok(()));
        for (i, p) in mem.iter().enumerate() {
            assert_eq!(p.0, page(11, 1, i as u64));
        }
        // Damage after the rewrite is found by a later pass.
        let mut mem = allocate_and_fill(16, cfg.seed).unwrap();
        verify_pass(&mut mem, 11, 0, true, 1, 2).unwrap();
        mem[3].0[100] ^= 4;
        let f = verify_pass(&mut mem, 11, 1, false, 2, 2).unwrap_err();
        assert_eq!((f.page, f.offset, f.pass), (3, 100, 2));
    }

    #[test]
    fn pages_are_aligned() {
        let mem = allocate_and_fill(4, 1).unwrap();
        for p in &mem {
            assert_eq!(p.0.as_ptr() as usize % PAGE_SIZE, 0);
        }
    }

    #[test]
    fn args() {
        let a = |v: &[&str]| parse_args(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(
            a(&["64"]),
            Ok(Config {
                mib: 64,
                passes: DEFAULT_PASSES,
                seed: DEFAULT_SEED
            })
        );
        assert_eq!(
            a(&["--seed", "0x10", "8", "--passes", "3"]),
            Ok(Config {
                mib: 8,
                passes: 3,
                seed: 16
            })
        );
        assert!(a(&[]).is_err());
        assert!(a(&["0"]).is_err());
        assert!(a(&["8", "--passes", "0"]).is_err());
        assert!(a(&["8", "--passes"]).is_err());
        assert!(a(&["8", "9"]).is_err());
        assert!(a(&["x"]).is_err());
        assert!(a(&["8", "--bogus"]).is_err());
    }
}
