//! `mcpfuzz soak`: a long valid workload against one target, with its memory, descriptors,
//! threads and processes judged for leaks; exit 1 on FAIL.

use super::{resolve_target, write_results, TargetArgs};
use mcpfuzz::sandbox::Sandbox;
use mcpfuzz::soak::{self, Options};
use mcpfuzz::target::Protections;
use std::path::PathBuf;
use std::process::ExitCode;

/// Soak a target with valid tool calls and judge its resources for leaks; exit 1 on FAIL
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    target: TargetArgs,
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
    let (spec, _) = resolve_target(&args.target, None)?;
    let sandbox = Sandbox::create(None)?;
    let options = Options {
        requests: args.requests.max(1),
        tool: args.tool,
        status: mcpfuzz::progress::Mode::from_environment(),
        ..Options::default()
    };
    let report = soak::soak(&spec, &sandbox, Protections::probe(), &options)?;
    let details = write_results(&args.results, "soak", &report.to_json(&spec))?;
    print!("{}", soak::summary(&report, Some(&details)));
    Ok(ExitCode::from(if report.passed() { 0 } else { 1 }))
}
