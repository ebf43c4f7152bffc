//! `mcpfuzz replay FILE...`: re-run reproducers in a fresh target and say whether each
//! finding still reproduces.

use super::{resolve_target, TargetArgs};
use mcpfuzz::oracle::resources::{self, Resource, Strictness};
use mcpfuzz::repro;
use mcpfuzz::sandbox::Sandbox;
use mcpfuzz::session::Direction;
use mcpfuzz::transcript::compact;
use mcpfuzz::triage;
use mcpfuzz::Kind;
use std::path::PathBuf;
use std::process::ExitCode;

/// Re-run reproducers; exit 1 if any finding still reproduces, 0 if none does, 2 on a
/// usage or I/O error.
#[derive(clap::Args, Debug)]
#[command(mut_arg("target", |arg| {
    arg.help("Run this command instead of the target recorded in the reproducer")
}))]
pub struct Args {
    /// Reproducer files (crashes/*.json).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    #[command(flatten)]
    target: TargetArgs,
    /// Print only the verdicts, not the exchange.
    #[arg(long, short)]
    quiet: bool,
}

/// Runs the subcommand.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let sandbox = Sandbox::create(None)?;
    let protections = mcpfuzz::target::Protections::probe();
    let (mut reproduced, mut errors) = (0, 0);
    for path in &args.files {
        println!("== {}", path.display());
        let reproducer = match repro::load(path) {
            Ok(reproducer) => reproducer,
            Err(error) => {
                println!("error: {error}");
                errors += 1;
                continue;
            }
        };
        let (spec, _) = resolve_target(&args.target, Some(&reproducer.target))?;
        let finding = &reproducer.finding;
        println!("finding: {finding}");
        println!("signature: {}", finding.signature);
        println!("target: {}", spec.command_line());
        // A leak shows in a curve: its replay is sampled, and judged.
        let leak = finding.kind == Kind::Leak;
        let replayed =
            match triage::replay_reproducer(&spec, &sandbox, protections, &reproducer, !args.quiet)
            {
                Ok(replayed) => replayed,
                Err(error) => {
                    println!("error: {error}");
                    errors += 1;
                    continue;
                }
            };
        if !args.quiet {
            for (direction, line) in &replayed.log {
                let arrow = match direction {
                    Direction::Sent => '>',
                    Direction::Received => '<',
                };
                println!("{arrow} {}", compact(line, 200));
            }
        }
        if leak {
            for resource in Resource::ALL {
                let samples = resources::series(resource, &replayed.samples);
                let rule = Strictness::Confirming.rule(resource);
                let verdict = resources::judge(&samples, &rule);
                println!("{}", resources::describe(resource, &samples, &verdict));
                if verdict.is_leak() {
                    println!(
                        "  curve [items sent, value]: {}",
                        resources::curve(&samples)
                    );
                }
            }
        }
        if replayed.has(&finding.signature) {
            reproduced += 1;
            println!("verdict: REPRODUCED {}", finding.signature);
        } else {
            let seen: Vec<&str> = replayed
                .findings
                .iter()
                .map(|f| f.signature.as_str())
                .collect();
            println!(
                "verdict: NOT REPRODUCED (seen instead: {})",
                if seen.is_empty() {
                    "nothing".to_string()
                } else {
                    seen.join(", ")
                }
            );
        }
    }
    println!(
        "{reproduced} reproduced, {} not reproduced, {errors} errors",
        args.files.len() - reproduced - errors
    );
    Ok(ExitCode::from(if errors > 0 {
        2
    } else if reproduced > 0 {
        1
    } else {
        0
    }))
}
