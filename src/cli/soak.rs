//! `mcpfuzz soak`: a long valid workload against one target, with its memory, descriptors,
//! threads and processes judged for leaks; exit 1 on FAIL.

use super::resolve_target;
use anyhow::Context;
use mcpfuzz::sandbox::Sandbox;
use mcpfuzz::soak::{self, Options};
use mcpfuzz::target::Protections;
use std::path::PathBuf;
use std::process::ExitCode;

/// Soak a target with valid tool calls and judge its resources for leaks; exit 1 on FAIL
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The target command (default: MCPFUZZ_TARGET, mcpfuzz.toml, or the demo server)
    #[arg(long, value_name = "CMD")]
    target: Option<String>,
    /// Requests to send
    #[arg(long, default_value_t = 2000)]
    requests: u64,
    /// Call only this tool
    #[arg(long, value_name = "NAME")]
    tool: Option<String>,
    /// Where the JSON results go
    #[arg(long, value_name = "DIR", default_value = "results")]
    results: PathBuf,
}

/// Runs the subcommand.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (spec, _) = resolve_target(args.target.as_deref(), None)?;
    let sandbox = Sandbox::create(None)?;
    let options = Options {
        requests: args.requests.max(1),
        tool: args.tool,
        ..Options::default()
    };
    let report = soak::soak(&spec, &sandbox, Protections::probe(), &options)?;
    std::fs::create_dir_all(&args.results)
        .with_context(|| format!("failed to create {}", args.results.display()))?;
    let unix_time = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let details = args
        .results
        .join(format!("soak-{unix_time}-{}.json", std::process::id()));
    std::fs::write(
        &details,
        serde_json::to_vec_pretty(&report.to_json(&spec)).expect("JSON values serialize"),
    )
    .with_context(|| format!("failed to write {}", details.display()))?;
    print!("{}", soak::summary(&report, Some(&details)));
    Ok(ExitCode::from(if report.passed() { 0 } else { 1 }))
}
