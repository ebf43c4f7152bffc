//! `mcpfuzz report [PATH...]`: what the runs found, as text, JSON lines, SARIF, JUnit XML
//! or one self-contained HTML page.

use anyhow::Context;
use mcpfuzz::report::{self, Collection, Format};
use mcpfuzz::Severity;
use std::path::PathBuf;
use std::process::ExitCode;

/// Report the findings in crashes/ (and soak and load results): text, json, sarif,
/// junit or html
#[derive(clap::Args, Debug)]
#[command(mut_arg("target", |arg| {
    arg.requires("replay")
        .help("With --replay, run this command instead of each reproducer's own target")
}))]
#[command(mut_arg("mcp_config", |arg| arg.requires("replay")))]
#[command(mut_arg("server", |arg| arg.requires("replay")))]
pub struct Args {
    /// Directories or files: reproducers, run logs (runs/*.jsonl), soak and load results
    /// (default: MCPFUZZ_CRASHES or crashes/, and results/ when it exists)
    paths: Vec<PathBuf>,
    /// Output format
    #[arg(long, short, default_value = "text", value_parser = parse_format)]
    format: Format,
    /// Write the report here instead of standard output
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Replay every reproducer in a fresh target and include the exchange and verdict
    #[arg(long)]
    replay: bool,
    #[command(flatten)]
    target: super::TargetArgs,
    /// Exit 1 when a finding is at least this severe (info, low, medium, high, critical)
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    fail_on: Option<Severity>,
}

fn parse_format(text: &str) -> Result<Format, String> {
    Format::ALL
        .iter()
        .find(|(name, _)| *name == text)
        .map(|(_, format)| *format)
        .ok_or_else(|| {
            let names: Vec<&str> = Format::ALL.iter().map(|(name, _)| *name).collect();
            format!("expected one of {}", names.join(", "))
        })
}

fn parse_severity(text: &str) -> Result<Severity, String> {
    serde_json::from_value(serde_json::Value::String(text.to_lowercase()))
        .map_err(|_| "expected info, low, medium, high or critical".to_string())
}

/// Runs the subcommand.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let paths = if args.paths.is_empty() {
        let mut paths = vec![mcpfuzz::config::crashes_dir()];
        let results = PathBuf::from("results");
        if results.is_dir() {
            paths.push(results);
        }
        paths
    } else {
        args.paths
    };
    let mut collection = Collection::gather(&paths)?;
    if args.replay {
        let target = args.target.named()?.map(|(spec, _)| spec);
        collection.replay(target.as_ref())?;
    }
    let text = report::render(&collection, args.format);
    match &args.output {
        Some(path) => {
            std::fs::write(path, &text)
                .with_context(|| format!("failed to write {}", path.display()))?;
            eprintln!("mcpfuzz: report written to {}", path.display());
        }
        None => print!("{text}"),
    }
    let failed = args
        .fail_on
        .is_some_and(|least| collection.any_at_least(least));
    Ok(ExitCode::from(u8::from(failed)))
}
