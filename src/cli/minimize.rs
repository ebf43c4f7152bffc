//! `mcpfuzz minimize FILE`: shrink a reproducer further, keeping its finding.

use super::{resolve_target, TargetArgs};
use anyhow::Context;
use mcpfuzz::minimize::{self, Budget};
use mcpfuzz::repro;
use mcpfuzz::sandbox::Sandbox;
use mcpfuzz::triage;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Shrink a reproducer at the message level; the file is rewritten only with a smaller
/// transcript that still reproduces the same finding.
#[derive(clap::Args, Debug)]
#[command(mut_arg("target", |arg| {
    arg.help("Run this command instead of the target recorded in the reproducer")
}))]
pub struct Args {
    /// The reproducer file.
    file: PathBuf,
    #[command(flatten)]
    target: TargetArgs,
    /// Time budget.
    #[arg(long, default_value_t = 120)]
    seconds: u64,
}

/// Runs the subcommand.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut reproducer = repro::load(&args.file)?;
    let (spec, _) = resolve_target(&args.target, Some(&reproducer.target))?;
    let sandbox = Sandbox::create(None)?;
    let protections = mcpfuzz::target::Protections::probe();
    let signature = reproducer.finding.signature.clone();
    let (repeat, kind) = (reproducer.repeat, reproducer.finding.kind);
    let mut still_fails = |items: &[mcpfuzz::Item]| {
        triage::replay_for(kind, &spec, &sandbox, protections, items, repeat, false)
            .map(|replayed| replayed.has(&signature))
            .unwrap_or(false)
    };
    if !still_fails(&reproducer.transcript) {
        println!(
            "{}: the finding no longer reproduces; nothing to minimize",
            args.file.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let budget = Budget {
        max_attempts: usize::MAX,
        deadline: Instant::now() + Duration::from_secs(args.seconds),
    };
    let before = reproducer.transcript.len();
    let result = minimize::minimize(&reproducer.transcript, &budget, &mut still_fails);
    if !result.confirmed || result.items == reproducer.transcript {
        println!(
            "{}: already minimal ({before} items, {} attempts)",
            args.file.display(),
            result.attempts
        );
        return Ok(ExitCode::SUCCESS);
    }
    reproducer.transcript = result.items;
    reproducer.found.minimized = true;
    let dir = args
        .file
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    let written = repro::save(&dir, &reproducer)?;
    if written != args.file {
        std::fs::rename(&written, &args.file).with_context(|| {
            format!(
                "failed to move {} to {}",
                written.display(),
                args.file.display()
            )
        })?;
    }
    println!(
        "{}: {} -> {} items ({} attempts)",
        args.file.display(),
        before,
        reproducer.transcript.len(),
        result.attempts
    );
    Ok(ExitCode::SUCCESS)
}
