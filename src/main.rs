//! The mcpfuzz command line: replay and minimize reproducers, run the fuzz loop without
//! libFuzzer, and benchmark the harness.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod cli;

/// Coverage-guided protocol fuzzer for MCP servers over stdio.
///
/// The main job is `cargo fuzz run jsonrpc` (or `scripts/fuzz`); these commands work with
/// what it finds. Targets come from --target, --mcp-config, MCPFUZZ_TARGET,
/// MCPFUZZ_MCP_CONFIG, or mcpfuzz.toml.
#[derive(Parser, Debug)]
#[command(name = "mcpfuzz", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    Replay(cli::replay::Args),
    Minimize(cli::minimize::Args),
    Fuzz(cli::fuzz::Args),
    Bench(cli::bench::Args),
    Dict(cli::dict::Args),
    Soak(cli::soak::Args),
    Load(cli::load::Args),
    Report(cli::report::Args),
    #[command(hide = true)]
    EchoTarget,
    #[command(hide = true)]
    WriteSeeds(cli::seeds::Args),
}

fn main() -> ExitCode {
    mcpfuzz::campaign::ignore_sigpipe();
    cli::logger::init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Replay(args) => cli::replay::run(args),
        Command::Minimize(args) => cli::minimize::run(args),
        Command::Fuzz(args) => cli::fuzz::run(args),
        Command::Bench(args) => cli::bench::run(args),
        Command::Dict(args) => cli::dict::run(args),
        Command::Soak(args) => cli::soak::run(args),
        Command::Load(args) => cli::load::run(args),
        Command::Report(args) => cli::report::run(args),
        Command::EchoTarget => cli::echo::run(),
        Command::WriteSeeds(args) => cli::seeds::run(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("mcpfuzz: {error:#}");
            ExitCode::from(2)
        }
    }
}
