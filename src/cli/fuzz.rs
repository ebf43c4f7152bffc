//! `mcpfuzz fuzz`: the fuzz loop without libFuzzer. Inputs are the corpus seeds, then
//! seeded random mutations of them and fresh random bytes; there is no coverage guidance,
//! which makes it deterministic for a fixed seed and handy where cargo-fuzz is missing.
//! `cargo fuzz run jsonrpc` is the real thing.

use super::{resolve_target, TargetArgs};
use mcpfuzz::campaign::{announce, Campaign, Options};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Fuzz a target with seeded random inputs (no coverage guidance); exit 1 if anything
/// new was found.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    target: TargetArgs,
    /// Inputs to run.
    #[arg(long, default_value_t = 2000)]
    runs: u64,
    /// Stop after this many seconds even if runs remain.
    #[arg(long)]
    seconds: Option<u64>,
    /// Seed of the input generator.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Longest generated input, in bytes.
    #[arg(long, default_value_t = 1024)]
    max_len: usize,
    /// Seed inputs (default: corpus/jsonrpc of the project).
    #[arg(long, value_name = "DIR")]
    corpus: Option<PathBuf>,
    /// Where reproducers go (default: MCPFUZZ_CRASHES or crashes/).
    #[arg(long, value_name = "DIR")]
    crashes: Option<PathBuf>,
}

/// Runs the subcommand.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (spec, origin) = resolve_target(&args.target, None)?;
    announce(&spec, &origin);
    let mut options = Options::from_environment();
    if let Some(dir) = args.crashes {
        options.crashes_dir = dir;
    }
    let mut campaign = Campaign::new(spec, options)?;
    let corpus_dir = args
        .corpus
        .unwrap_or_else(|| mcpfuzz::config::project_root().join("corpus/jsonrpc"));
    let seeds = read_seeds(&corpus_dir);
    let mut rng = SplitMix(args.seed);
    let deadline = args
        .seconds
        .map(|s| Instant::now() + Duration::from_secs(s));
    for run in 0..args.runs {
        if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
            break;
        }
        let input = match seeds.get(run as usize) {
            Some(seed) => seed.clone(),
            None if !seeds.is_empty() && rng.next().is_multiple_of(2) => {
                let base = &seeds[(rng.next() % seeds.len() as u64) as usize];
                mutate(base, &mut rng, args.max_len)
            }
            None => {
                let len = 1 + (rng.next() % args.max_len.max(1) as u64) as usize;
                (0..len).map(|_| rng.next() as u8).collect()
            }
        };
        campaign.fuzz_one(&input);
    }
    eprintln!("{}", campaign.finish());
    let summary = campaign.summary();
    eprintln!("{}", summary.tools_line());
    for path in &summary.saved {
        println!("{}", path.display());
    }
    Ok(ExitCode::from(if summary.saved.is_empty() { 0 } else { 1 }))
}

fn read_seeds(dir: &std::path::Path) -> Vec<Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|entry| entry.path()).collect();
    paths.sort();
    paths
        .iter()
        .filter_map(|path| std::fs::read(path).ok())
        .collect()
}

/// A few libFuzzer-like byte mutations.
fn mutate(base: &[u8], rng: &mut SplitMix, max_len: usize) -> Vec<u8> {
    let mut data = base.to_vec();
    for _ in 0..1 + rng.next() % 4 {
        let len = data.len().max(1) as u64;
        match rng.next() % 5 {
            0 if !data.is_empty() => {
                let i = (rng.next() % len) as usize;
                data[i] ^= 1 << (rng.next() % 8);
            }
            1 if !data.is_empty() => {
                let i = (rng.next() % len) as usize;
                data[i] = rng.next() as u8;
            }
            2 => {
                let i = (rng.next() % (data.len() as u64 + 1)) as usize;
                let n = 1 + rng.next() % 8;
                for _ in 0..n {
                    data.insert(i, rng.next() as u8);
                }
            }
            3 if data.len() > 1 => {
                let i = (rng.next() % len) as usize;
                data.remove(i);
            }
            _ => {
                let extra = 1 + rng.next() % 32;
                data.extend((0..extra).map(|_| rng.next() as u8));
            }
        }
    }
    data.truncate(max_len.max(1));
    data
}

/// splitmix64: small, fast, and the same on every machine.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}
