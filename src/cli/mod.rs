//! One file per subcommand.

pub mod bench;
pub mod echo;
pub mod fuzz;
pub mod load;
pub mod logger;
pub mod minimize;
pub mod replay;
pub mod seeds;
pub mod soak;

use anyhow::Context;
use mcpfuzz::config::{self, Origin, TargetSpec};

/// The target for a subcommand: `--target` if given, else `MCPFUZZ_TARGET`/`mcpfuzz.toml`,
/// else `fallback` (a reproducer's own target), else the demo server.
pub fn resolve_target(
    flag: Option<&str>,
    fallback: Option<&TargetSpec>,
) -> anyhow::Result<(TargetSpec, Origin)> {
    if let Some(line) = flag {
        let spec = TargetSpec::from_command_line(line).context("invalid --target")?;
        return Ok((spec, Origin::CommandLine));
    }
    if let Some(spec) = fallback {
        if std::env::var_os("MCPFUZZ_TARGET").is_none() {
            return Ok((spec.clone(), Origin::CommandLine));
        }
    }
    Ok(config::from_environment()?)
}
