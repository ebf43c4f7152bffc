//! Which target to fuzz and how: a [`TargetSpec`] from `MCPFUZZ_TARGET`, an MCP client
//! configuration (`MCPFUZZ_MCP_CONFIG`), `mcpfuzz.toml`, or the bundled demo server.

mod mcp;

pub use mcp::{load_mcp_config, parse_mcp_config};

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// The token in a command line that is replaced by the run's scratch directory.
pub const SANDBOX_TOKEN: &str = "{sandbox}";

/// Deadlines, in milliseconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Timeouts {
    /// From spawn to the `initialize` reply, and for each discovery request.
    pub startup_ms: u64,
    /// From sending a request to its reply; past it the request is a hang.
    pub request_ms: u64,
    /// From closing stdin to the target's exit; past it the group is killed.
    pub exit_ms: u64,
    /// CPU time the target may burn on one script that it does answer; past it the
    /// script's slowest request is a `cpu` finding (algorithmic complexity, a runaway
    /// regular expression).
    pub request_cpu_ms: u64,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            startup_ms: 15_000,
            request_ms: 2_000,
            exit_ms: 1_000,
            request_cpu_ms: 1_000,
        }
    }
}

/// How to start one target process.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetSpec {
    /// Program and arguments; `{sandbox}` anywhere is replaced by the scratch directory.
    pub command: Vec<String>,
    /// Variables set for the target, on top of its scrubbed environment.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// The fuzzer's variables the target may see besides the basics (PATH, locale,
    /// interpreter and version-manager paths, certificates): exact names, `PREFIX_*`, or
    /// `*` for all. `MCPFUZZ_ENV_PASSTHROUGH`, read when a target starts, adds to it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env_passthrough: Vec<String>,
    /// Working directory; the sandbox root (what `{sandbox}` names) when absent.
    #[serde(default)]
    pub cwd: Option<PathBuf>,
    /// Deadlines.
    #[serde(default)]
    pub timeouts: Timeouts,
    /// Address-space cap for the target (`RLIMIT_AS`), in MiB. Off by default: runtimes
    /// such as V8 reserve far more address space than they use.
    #[serde(default)]
    pub memory_limit_mb: Option<u64>,
    /// Open-files cap for the target (`RLIMIT_NOFILE`).
    #[serde(default = "default_max_open_files")]
    pub max_open_files: u64,
}

fn default_max_open_files() -> u64 {
    4096
}

impl TargetSpec {
    /// A spec for `command` with default deadlines and limits.
    pub fn from_command(command: Vec<String>) -> TargetSpec {
        TargetSpec {
            command,
            env: BTreeMap::new(),
            env_passthrough: Vec::new(),
            cwd: None,
            timeouts: Timeouts::default(),
            memory_limit_mb: None,
            max_open_files: default_max_open_files(),
        }
    }

    /// Splits a shell-style command line (`node build/index.js "{sandbox}"`).
    pub fn from_command_line(line: &str) -> Result<TargetSpec, ConfigError> {
        let words = shell_words::split(line).map_err(|error| ConfigError::BadCommandLine {
            line: line.to_owned(),
            reason: error.to_string(),
        })?;
        if words.is_empty() {
            return Err(ConfigError::EmptyCommand {
                origin: "MCPFUZZ_TARGET".into(),
            });
        }
        Ok(TargetSpec::from_command(words))
    }

    /// The bundled demo server (`testbed/demo_server.py`).
    pub fn demo() -> TargetSpec {
        TargetSpec::from_command(vec![
            "python3".into(),
            project_root()
                .join("testbed/demo_server.py")
                .display()
                .to_string(),
        ])
    }

    /// The command with `{sandbox}` replaced by `sandbox`.
    pub fn expanded_command(&self, sandbox: &Path) -> Vec<String> {
        let sandbox = sandbox.display().to_string();
        self.command
            .iter()
            .map(|word| word.replace(SANDBOX_TOKEN, &sandbox))
            .collect()
    }

    /// Whether the command asks for a scratch directory.
    pub fn uses_sandbox(&self) -> bool {
        self.command.iter().any(|word| word.contains(SANDBOX_TOKEN))
            || self.env.values().any(|value| value.contains(SANDBOX_TOKEN))
    }

    /// The command as one shell line, for messages and `--target`.
    pub fn command_line(&self) -> String {
        shell_words::join(&self.command)
    }
}

/// Where a spec came from, said once when a run starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// `MCPFUZZ_TARGET` or `--target`.
    CommandLine,
    /// A `mcpfuzz.toml` file.
    File(PathBuf),
    /// One server of an MCP client configuration (`.mcp.json` and the like).
    McpConfig {
        /// The configuration file.
        path: PathBuf,
        /// The server's name in it.
        server: String,
    },
    /// Nothing was configured: the bundled demo server.
    Demo,
}

/// A bad target configuration, said before any fuzzing starts.
#[derive(Debug)]
#[non_exhaustive]
pub enum ConfigError {
    /// The command line has no words.
    EmptyCommand {
        /// Where the empty command came from.
        origin: String,
    },
    /// The command line does not split into words (an unclosed quote).
    BadCommandLine {
        /// The offending line.
        line: String,
        /// What the splitter said.
        reason: String,
    },
    /// `mcpfuzz.toml` could not be read or parsed.
    BadFile {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// An MCP client configuration could not be read or parsed, or its server entry is
    /// malformed.
    BadMcpConfig {
        /// The file.
        path: PathBuf,
        /// The server entry at fault, when one is.
        server: Option<String>,
        /// What went wrong.
        reason: String,
    },
    /// An MCP client configuration has several servers and none, or an unknown one, was
    /// named.
    ChooseServer {
        /// The file.
        path: PathBuf,
        /// The name asked for, when one was.
        asked: Option<String>,
        /// The servers the file has, in its order.
        names: Vec<String>,
    },
    /// The chosen server of an MCP client configuration is reached over the network, not
    /// started as a process.
    NotStdio {
        /// The file.
        path: PathBuf,
        /// The server's name.
        server: String,
        /// Its `type`, or `url` when it only has a URL.
        transport: String,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::EmptyCommand { origin } => write!(
                f,
                "the target command from {origin} is empty; set it to the command that starts \
                 your server, for example MCPFUZZ_TARGET=\"node build/index.js\""
            ),
            ConfigError::BadCommandLine { line, reason } => write!(
                f,
                "cannot split the target command {line:?} into words ({reason}); \
                 check its quotes"
            ),
            ConfigError::BadFile { path, reason } => write!(
                f,
                "cannot use {}: {reason}; it needs a [target] table with \
                 command = [\"program\", \"arg\", ...] (optional: env, env_passthrough, cwd, \
                 timeouts, memory_limit_mb, max_open_files)",
                path.display()
            ),
            ConfigError::BadMcpConfig {
                path,
                server: Some(server),
                reason,
            } => write!(
                f,
                "cannot use the server {server:?} from {}: {reason}",
                path.display()
            ),
            ConfigError::BadMcpConfig {
                path,
                server: None,
                reason,
            } => write!(f, "cannot use {}: {reason}", path.display()),
            ConfigError::ChooseServer { path, asked, names } => {
                let path = path.display();
                let list: Vec<String> = names.iter().map(|name| format!("{name:?}")).collect();
                let count = match names.len() {
                    1 => "1 server".to_string(),
                    n_servers => format!("{n_servers} servers"),
                };
                match asked {
                    Some(asked) => write!(f, "{path} has no server {asked:?}; it has {count}: ")?,
                    None => write!(f, "{path} has {count}: ")?,
                }
                write!(
                    f,
                    "{}; name one with MCPFUZZ_SERVER or --server",
                    list.join(", ")
                )
            }
            ConfigError::NotStdio {
                path,
                server,
                transport,
            } => write!(
                f,
                "the server {server:?} in {} is a remote ({transport}) server; mcpfuzz only \
                 fuzzes stdio servers, started from a \"command\"",
                path.display()
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    target: TargetSpec,
    #[serde(default)]
    fuzz: FuzzSettings,
}

/// How the fuzz target runs, from the `[fuzz]` table of a `mcpfuzz.toml`; each setting
/// yields to its environment variable. For runners that start the fuzz binary with flags
/// of their own and no environment, such as ClusterFuzzLite.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FuzzSettings {
    /// Stop at the first finding the libFuzzer way (`MCPFUZZ_STOP_ON_FINDING`).
    pub stop_on_finding: Option<bool>,
    /// Where reproducers go, relative to the file (`MCPFUZZ_CRASHES`).
    pub crashes: Option<PathBuf>,
}

/// Parses the text of a `mcpfuzz.toml`.
pub fn parse_file(path: &Path, text: &str) -> Result<TargetSpec, ConfigError> {
    parse_file_with_settings(path, text).map(|(spec, _)| spec)
}

/// Parses the text of a `mcpfuzz.toml` with its `[fuzz]` table. Relative paths are taken
/// from the file's directory: `cwd`, `fuzz.crashes`, and the words of the command that
/// name files there (the program only when it has a `/`; options are left alone).
pub fn parse_file_with_settings(
    path: &Path,
    text: &str,
) -> Result<(TargetSpec, FuzzSettings), ConfigError> {
    let bad = |reason: String| ConfigError::BadFile {
        path: path.to_owned(),
        reason,
    };
    let file: ConfigFile = toml::from_str(text).map_err(|error| bad(error.to_string()))?;
    let mut spec = file.target;
    let mut settings = file.fuzz;
    if spec.command.is_empty() || spec.command[0].is_empty() {
        return Err(bad("target.command is empty".into()));
    }
    let base = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    for (i, word) in spec.command.iter_mut().enumerate() {
        let relative = Path::new(word.as_str());
        if word.starts_with('-')
            || relative.is_absolute()
            || (i == 0 && !word.contains('/'))
            || !base.join(relative).exists()
        {
            continue;
        }
        if let Ok(absolute) = std::path::absolute(base.join(relative)) {
            *word = absolute.display().to_string();
        }
    }
    for dir in [&mut spec.cwd, &mut settings.crashes].into_iter().flatten() {
        if dir.is_relative() {
            *dir = base.join(&*dir);
        }
    }
    Ok((spec, settings))
}

/// A resolved target: its spec, where it came from, and the `[fuzz]` table of its
/// `mcpfuzz.toml` (empty for other origins).
#[derive(Clone, Debug)]
pub struct Resolved {
    /// How to start the target.
    pub spec: TargetSpec,
    /// Where the spec came from.
    pub origin: Origin,
    /// The file's `[fuzz]` table.
    pub settings: FuzzSettings,
}

/// Resolves the target the way `cargo fuzz run jsonrpc` does: see [`resolve`].
pub fn from_environment() -> Result<(TargetSpec, Origin), ConfigError> {
    resolve().map(|resolved| (resolved.spec, resolved.origin))
}

/// Resolves the target the way `cargo fuzz run jsonrpc` does: `MCPFUZZ_TARGET`, else the
/// server `MCPFUZZ_SERVER` (which may be left out when there is one) of the MCP client
/// configuration `MCPFUZZ_MCP_CONFIG`, else `MCPFUZZ_CONFIG` or `./mcpfuzz.toml`, else a
/// `mcpfuzz.toml` beside the running executable (a fuzz binary shipped to a runner with
/// its target), else the demo server. `MCPFUZZ_TIMEOUT_MS` overrides the request
/// deadline, `MCPFUZZ_CPU_MS` the CPU limit per script.
pub fn resolve() -> Result<Resolved, ConfigError> {
    let mcp_config = std::env::var_os("MCPFUZZ_MCP_CONFIG").filter(|path| !path.is_empty());
    let mut settings = FuzzSettings::default();
    let (mut spec, origin) = match (std::env::var("MCPFUZZ_TARGET"), mcp_config) {
        (Ok(line), _) => (TargetSpec::from_command_line(&line)?, Origin::CommandLine),
        (Err(_), Some(path)) => {
            let server = std::env::var("MCPFUZZ_SERVER").ok();
            load_mcp_config(Path::new(&path), server.as_deref())?
        }
        (Err(_), None) => {
            let named = std::env::var_os("MCPFUZZ_CONFIG").map(PathBuf::from);
            let beside_executable = std::env::current_exe()
                .ok()
                .and_then(|exe| Some(exe.parent()?.join("mcpfuzz.toml")));
            let candidates = match named {
                Some(path) => vec![(path, true)],
                None => std::iter::once(PathBuf::from("mcpfuzz.toml"))
                    .chain(beside_executable)
                    .map(|path| (path, false))
                    .collect(),
            };
            let mut found = None;
            for (path, required) in candidates {
                match std::fs::read_to_string(&path) {
                    Ok(text) => {
                        found = Some((parse_file_with_settings(&path, &text)?, path));
                        break;
                    }
                    Err(error) if required => {
                        return Err(ConfigError::BadFile {
                            path,
                            reason: error.to_string(),
                        })
                    }
                    Err(_) => {}
                }
            }
            match found {
                Some(((spec, file_settings), path)) => {
                    settings = file_settings;
                    (spec, Origin::File(path))
                }
                None => (TargetSpec::demo(), Origin::Demo),
            }
        }
    };
    apply_overrides(&mut spec);
    Ok(Resolved {
        spec,
        origin,
        settings,
    })
}

/// `MCPFUZZ_TIMEOUT_MS` and `MCPFUZZ_CPU_MS`, for a target however it was named.
pub fn apply_overrides(spec: &mut TargetSpec) {
    let ms = |name: &str| {
        std::env::var(name)
            .ok()
            .and_then(|text| text.trim().parse::<u64>().ok())
    };
    if let Some(ms) = ms("MCPFUZZ_CPU_MS") {
        spec.timeouts.request_cpu_ms = ms.max(1);
    }
    if let Some(ms) = ms("MCPFUZZ_TIMEOUT_MS") {
        spec.timeouts.request_ms = ms.max(1);
    }
}

/// The directory of mcpfuzz's own `Cargo.toml`: home of `testbed/` and `crashes/`.
pub fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Where reproducers go: `MCPFUZZ_CRASHES`, else `crashes/` at the project root.
pub fn crashes_dir() -> PathBuf {
    crashes_dir_with(&FuzzSettings::default())
}

/// Where reproducers go: `MCPFUZZ_CRASHES`, else the `[fuzz]` table's `crashes`, else
/// `crashes/` at the project root.
pub fn crashes_dir_with(settings: &FuzzSettings) -> PathBuf {
    std::env::var_os("MCPFUZZ_CRASHES")
        .map(PathBuf::from)
        .or_else(|| settings.crashes.clone())
        .unwrap_or_else(|| project_root().join("crashes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_is_shell_split() {
        let spec = TargetSpec::from_command_line(r#"node "build/my index.js" {sandbox}"#).unwrap();
        assert_eq!(spec.command, vec!["node", "build/my index.js", "{sandbox}"]);
        assert!(spec.uses_sandbox());
        assert_eq!(
            spec.expanded_command(Path::new("/tmp/s")),
            vec!["node", "build/my index.js", "/tmp/s"]
        );
    }

    #[test]
    fn empty_and_unbalanced_command_lines_are_errors() {
        let empty = TargetSpec::from_command_line("   ").unwrap_err();
        assert!(empty.to_string().contains("is empty"), "{empty}");
        let unbalanced = TargetSpec::from_command_line("node \"x").unwrap_err();
        assert!(
            unbalanced.to_string().contains("check its quotes"),
            "{unbalanced}"
        );
    }

    #[test]
    fn file_with_target_table_parses() {
        let text = r#"
            [target]
            command = ["python3", "server.py"]
            env = { LOG = "1" }
            cwd = "sub"
            timeouts = { request_ms = 500 }
        "#;
        let spec = parse_file(Path::new("/p/mcpfuzz.toml"), text).unwrap();
        assert_eq!(spec.command, vec!["python3", "server.py"]);
        assert_eq!(spec.env["LOG"], "1");
        assert_eq!(spec.cwd, Some(PathBuf::from("/p/sub")));
        assert_eq!(spec.timeouts.request_ms, 500);
        assert_eq!(spec.timeouts.startup_ms, Timeouts::default().startup_ms);
    }

    #[test]
    fn fuzz_table_and_relative_paths_are_taken_from_the_file() {
        let dir = std::env::temp_dir().join(format!("mcpfuzz-config-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("testbed")).unwrap();
        std::fs::write(dir.join("testbed/server.py"), "").unwrap();
        let text = r#"
            [target]
            command = ["python3", "testbed/server.py", "missing.txt", "--flag", "/abs"]
            [fuzz]
            stop_on_finding = true
            crashes = "crashes"
        "#;
        let (spec, settings) = parse_file_with_settings(&dir.join("mcpfuzz.toml"), text).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let server = dir.join("testbed/server.py").display().to_string();
        assert_eq!(
            spec.command,
            vec!["python3", &server, "missing.txt", "--flag", "/abs"]
        );
        assert_eq!(
            settings,
            FuzzSettings {
                stop_on_finding: Some(true),
                crashes: Some(dir.join("crashes")),
            }
        );
    }

    #[test]
    fn file_without_fuzz_table_has_no_settings() {
        let text = "[target]\ncommand = [\"node\", \"index.js\"]\n";
        let (_, settings) = parse_file_with_settings(Path::new("mcpfuzz.toml"), text).unwrap();
        assert_eq!(settings, FuzzSettings::default());
        let error = parse_file(
            Path::new("m.toml"),
            "[target]\ncommand = [\"x\"]\n[fuzz]\nstop = 1\n",
        )
        .unwrap_err();
        assert!(error.to_string().contains("unknown field"), "{error}");
    }

    #[test]
    fn malformed_file_names_the_fix() {
        let error = parse_file(Path::new("m.toml"), "[target]\ncomand = []").unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains("m.toml") && text.contains("[target] table"),
            "{text}"
        );
    }
}
