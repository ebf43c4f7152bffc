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
use std::path::PathBuf;

/// The target flags shared by every subcommand that starts a target. A subcommand whose
/// `--target` means something narrower rewords its help with `mut_arg`.
#[derive(clap::Args, Debug)]
pub struct TargetArgs {
    /// The target command (default: MCPFUZZ_TARGET, MCPFUZZ_MCP_CONFIG, mcpfuzz.toml, or
    /// the demo server)
    #[arg(long, value_name = "CMD", conflicts_with_all = ["mcp_config", "server"])]
    pub target: Option<String>,
    /// Take the target from an MCP client configuration (.mcp.json,
    /// claude_desktop_config.json, .vscode/mcp.json, ...)
    #[arg(long, value_name = "FILE")]
    pub mcp_config: Option<PathBuf>,
    /// The server to take from --mcp-config (or MCPFUZZ_MCP_CONFIG); needed when it has
    /// several (default: MCPFUZZ_SERVER)
    #[arg(long, value_name = "NAME")]
    pub server: Option<String>,
}

impl TargetArgs {
    /// Whether any of the flags was given.
    pub fn is_given(&self) -> bool {
        self.target.is_some() || self.mcp_config.is_some() || self.server.is_some()
    }

    /// The target the flags name, as written (without `MCPFUZZ_TIMEOUT_MS` and
    /// `MCPFUZZ_CPU_MS`), or `None` when no flag was given. `--server` alone picks from
    /// `MCPFUZZ_MCP_CONFIG`; `--mcp-config` alone takes `MCPFUZZ_SERVER` or the only server.
    pub fn named(&self) -> anyhow::Result<Option<(TargetSpec, Origin)>> {
        if let Some(line) = &self.target {
            let spec = TargetSpec::from_command_line(line).context("invalid --target")?;
            return Ok(Some((spec, Origin::CommandLine)));
        }
        let path = match (&self.mcp_config, &self.server) {
            (Some(path), _) => path.clone(),
            (None, Some(_)) => std::env::var_os("MCPFUZZ_MCP_CONFIG")
                .filter(|path| !path.is_empty())
                .map(PathBuf::from)
                .context("--server needs --mcp-config FILE (or MCPFUZZ_MCP_CONFIG)")?,
            (None, None) => return Ok(None),
        };
        let server = match &self.server {
            Some(server) => Some(server.clone()),
            None => std::env::var("MCPFUZZ_SERVER").ok(),
        };
        Ok(Some(config::load_mcp_config(&path, server.as_deref())?))
    }
}

/// The target for a subcommand: `--target` or `--mcp-config` if given, else
/// `MCPFUZZ_TARGET`/`MCPFUZZ_MCP_CONFIG`/`mcpfuzz.toml`, else `fallback` (a reproducer's
/// own target), else the demo server.
pub fn resolve_target(
    flags: &TargetArgs,
    fallback: Option<&TargetSpec>,
) -> anyhow::Result<(TargetSpec, Origin)> {
    if let Some((mut spec, origin)) = flags.named()? {
        config::apply_overrides(&mut spec);
        return Ok((spec, origin));
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
