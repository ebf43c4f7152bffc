//! One file per subcommand.

pub mod bench;
pub mod dict;
pub mod echo;
pub mod fuzz;
pub mod load;
pub mod logger;
pub mod minimize;
pub mod replay;
pub mod report;
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
        let mut spec = TargetSpec::from_command_line(line).context("invalid --target")?;
        config::apply_overrides(&mut spec);
        return Ok((spec, Origin::CommandLine));
    }
    if let Some(spec) = fallback {
        if std::env::var_os("MCPFUZZ_TARGET").is_none() {
            return Ok((spec.clone(), Origin::CommandLine));
        }
    }
    Ok(config::from_environment()?)
}

/// Writes `results` as `<dir>/<kind>-<unix time>-<pid>.json`, creating `dir`; returns the
/// file's path for the report's `Details:` line.
pub fn write_results(
    dir: &std::path::Path,
    kind: &str,
    results: &serde_json::Value,
) -> anyhow::Result<std::path::PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("failed to create {}", dir.display()))?;
    let unix_time = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let path = dir.join(format!("{kind}-{unix_time}-{}.json", std::process::id()));
    std::fs::write(
        &path,
        serde_json::to_vec_pretty(results).expect("JSON values serialize"),
    )
    .with_context(|| format!("failed to write {}", path.display()))?;
    Ok(path)
}
