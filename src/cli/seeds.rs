//! `mcpfuzz write-seeds DIR` (hidden): writes the grammar's built-in seed scripts, encoded
//! as fuzz inputs, to `DIR/seed-NNNN`. `corpus/jsonrpc/` is made this way.

use anyhow::Context;
use mcpfuzz::grammar;
use std::path::PathBuf;
use std::process::ExitCode;

/// Write the built-in seed inputs into a corpus directory.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The corpus directory.
    dir: PathBuf,
}

/// Runs the subcommand.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("failed to create {}", args.dir.display()))?;
    let scripts = grammar::seed_scripts();
    for (index, script) in scripts.iter().enumerate() {
        let path = args.dir.join(format!("seed-{index:04}"));
        std::fs::write(&path, grammar::encode(script))
            .with_context(|| format!("failed to write {}", path.display()))?;
    }
    println!("wrote {} seeds to {}", scripts.len(), args.dir.display());
    Ok(ExitCode::SUCCESS)
}
