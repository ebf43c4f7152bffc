//! `mcpfuzz dict`: starts the target, harvests the tokens its catalog announces, and writes
//! them as a libFuzzer dictionary (`scripts/fuzz` passes it with `-dict=`).

use super::{resolve_target, TargetArgs};
use anyhow::Context;
use mcpfuzz::grammar::{dictionary, tokens};
use mcpfuzz::sandbox::Sandbox;
use mcpfuzz::session::Session;
use mcpfuzz::target::Protections;
use std::path::PathBuf;
use std::process::ExitCode;

/// Write a libFuzzer dictionary of the names and values the target's catalog announces
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    target: TargetArgs,
    /// Where the dictionary goes (default: standard output)
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// Runs the subcommand.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (spec, _) = resolve_target(&args.target, None)?;
    let sandbox = Sandbox::create(None).context("failed to create the sandbox")?;
    let session = Session::start_in_sandbox(&spec, &sandbox, Protections::probe(), false)
        .with_context(|| format!("failed to start {:?}", spec.command_line()))?;
    let harvested = tokens::from_catalog(session.catalog());
    // The target's exit status is no business of a dictionary.
    let _ = session.finish();
    let header = format!(
        "libFuzzer dictionary written by `mcpfuzz dict` for {}\n\
         {} tokens from its catalog, each as plain text, length-prefixed, and as a string field",
        spec.command_line(),
        harvested.len()
    );
    let text = dictionary::render(&harvested, &header);
    let entries = text.lines().filter(|line| !line.starts_with('#')).count();
    match &args.output {
        Some(path) => {
            std::fs::write(path, &text)
                .with_context(|| format!("failed to write {}", path.display()))?;
            eprintln!(
                "mcpfuzz dict: {} tokens, {entries} entries -> {}",
                harvested.len(),
                path.display()
            );
        }
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}
