//! `mcpfuzz load`: many requests in flight against one or several target instances;
//! latency percentiles, error rate, throughput, memory and CPU against thresholds.

use super::{resolve_target, write_results, TargetArgs};
use mcpfuzz::load::{self, Options, Thresholds};
use mcpfuzz::sandbox::Sandbox;
use mcpfuzz::target::Protections;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Load a target with many valid requests in flight; exit 1 when a threshold is crossed
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    target: TargetArgs,
    /// Requests in flight at once, per instance
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Seconds to keep the load up
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    duration: f64,
    /// Target processes, each with its own stdio connection
    #[arg(long, default_value_t = 1)]
    instances: usize,
    /// Call only this tool
    #[arg(long, value_name = "NAME")]
    tool: Option<String>,
    /// Fail above this error rate, in percent
    #[arg(long, value_name = "PERCENT", default_value_t = 5.0)]
    max_error_rate: f64,
    /// Fail when any method's or tool's 95th-percentile latency is above this
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    max_p95_ms: u64,
    /// Fail when an instance's memory grows more than this
    #[arg(long, value_name = "MIB", default_value_t = 50)]
    max_memory_growth_mb: u64,
    /// Fail when an instance uses more CPU than this share of one core, in percent
    #[arg(long, value_name = "PERCENT", default_value_t = 80.0)]
    max_cpu: f64,
    /// Where the JSON results go
    #[arg(long, value_name = "DIR", default_value = "results")]
    results: PathBuf,
}

/// Runs the subcommand.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (spec, _) = resolve_target(&args.target, None)?;
    anyhow::ensure!(
        args.duration.is_finite() && args.duration > 0.0,
        "--duration needs a positive number of seconds, not {}",
        args.duration
    );
    let sandbox = Sandbox::create(None)?;
    let options = Options {
        concurrency: args.concurrency.max(1),
        duration: Duration::from_secs_f64(args.duration),
        tool: args.tool,
        instances: args.instances.clamp(1, 64),
        thresholds: Thresholds {
            max_error_rate: args.max_error_rate / 100.0,
            max_p95: Duration::from_millis(args.max_p95_ms),
            max_memory_growth: args.max_memory_growth_mb << 20,
            max_cpu: args.max_cpu / 100.0,
        },
        status: mcpfuzz::progress::Mode::from_environment(),
    };
    let report = load::load(&spec, &sandbox, Protections::probe(), &options)?;
    let details = write_results(&args.results, "load", &report.to_json(&spec))?;
    print!("{}", load::summary(&report, Some(&details)));
    Ok(ExitCode::from(if report.failures().is_empty() {
        0
    } else {
        1
    }))
}
