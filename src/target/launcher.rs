//! Package runners as launchers: `npx -y pkg` and `uvx pkg`, the commands MCP client
//! configurations are full of. A client runs them as they are, with the user's package
//! cache and network. The target has neither: its HOME is in its sandbox cell (a fresh,
//! empty cache on every start) and, where the machine allows, it has no network. So the
//! runner would download the package on every start, or fail to.
//!
//! mcpfuzz runs the runner the way a client does, with two changes:
//! - once per fuzzer process, before the first target starts, the runner fetches the
//!   package into a cache of mcpfuzz's own, with network and outside the sandbox, and runs
//!   `true` in its place instead of the server ([`Launcher::prepare`]);
//! - every target start then uses that cache, offline, and may write to it (a runner
//!   locks its cache even to read it).

use std::collections::HashSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Instant;

/// The package runners mcpfuzz knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runner {
    /// npm's `npx` (and `npm exec`).
    Npx,
    /// uv's `uvx` (and `uv tool run`).
    Uvx,
}

impl Runner {
    fn name(self) -> &'static str {
        match self {
            Runner::Npx => "npm",
            Runner::Uvx => "uv",
        }
    }
}

/// A target command that starts through a package runner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Launcher {
    /// Which runner.
    pub runner: Runner,
    /// The command that fetches the package and runs `true` instead of the server.
    pub prepare: Vec<String>,
    /// The runner's cache, shared by every target of this runner.
    pub cache: PathBuf,
}

/// npx options that take a value in the next word.
const NPX_VALUED: &[&str] = &[
    "-p",
    "--package",
    "-c",
    "--call",
    "-w",
    "--workspace",
    "--registry",
    "--userconfig",
    "--prefix",
    "--loglevel",
];

/// uvx options that take a value in the next word.
const UVX_VALUED: &[&str] = &[
    "--from",
    "--with",
    "--with-editable",
    "--with-requirements",
    "-w",
    "--python",
    "-p",
    "--index",
    "--default-index",
    "--index-url",
    "-i",
    "--extra-index-url",
    "--find-links",
    "-f",
    "--constraints",
    "-c",
    "--overrides",
    "--build-constraints",
    "-b",
    "--python-platform",
    "--index-strategy",
    "--keyring-provider",
    "--resolution",
    "--prerelease",
    "--exclude-newer",
    "--exclude-newer-package",
    "--refresh-package",
    "--reinstall-package",
    "--upgrade-package",
    "-P",
    "--no-binary-package",
    "--only-binary-package",
    "--config-setting",
    "-C",
    "--link-mode",
    "--color",
    "--directory",
    "--project",
    "--config-file",
    "--env-file",
    "--allow-insecure-host",
];

/// Where mcpfuzz keeps its caches: `MCPFUZZ_CACHE`, else `$XDG_CACHE_HOME/mcpfuzz`, else
/// `~/.cache/mcpfuzz`, else one in the temporary directory.
pub fn cache_root() -> PathBuf {
    let from = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
    if let Some(dir) = from("MCPFUZZ_CACHE") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = from("XDG_CACHE_HOME") {
        return PathBuf::from(dir).join("mcpfuzz");
    }
    if let Some(home) = from("HOME") {
        return PathBuf::from(home).join(".cache/mcpfuzz");
    }
    std::env::temp_dir().join("mcpfuzz-cache")
}

/// The launcher `argv` starts through, if it is a package runner's command line.
pub fn detect(argv: &[String], cache_root: &Path) -> Option<Launcher> {
    let program = Path::new(argv.first()?).file_name()?.to_str()?;
    let (runner, args) = match program {
        "npx" => (Runner::Npx, &argv[1..]),
        "npm" if argv.get(1).map(String::as_str) == Some("exec") => (Runner::Npx, &argv[2..]),
        "uvx" => (Runner::Uvx, &argv[1..]),
        "uv" if argv.get(1).map(String::as_str) == Some("tool")
            && argv.get(2).map(String::as_str) == Some("run") =>
        {
            (Runner::Uvx, &argv[3..])
        }
        _ => return None,
    };
    let prepare = match runner {
        Runner::Npx => npx_prepare(args)?,
        Runner::Uvx => uvx_prepare(args)?,
    };
    let mut command = vec![argv[0].clone()];
    if program == "npm" {
        command.push("exec".into());
    } else if program == "uv" {
        command.extend(["tool".into(), "run".into()]);
    }
    command.extend(prepare);
    Some(Launcher {
        runner,
        prepare: command,
        cache: cache_root.join(runner.name()),
    })
}

/// Splits runner arguments into its options and the first positional word (the command
/// or package), given the options that take a value.
fn split_options<'a>(args: &'a [String], valued: &[&str]) -> (Vec<&'a str>, Option<&'a str>) {
    let mut options = Vec::new();
    let mut words = args.iter().map(String::as_str);
    while let Some(word) = words.next() {
        if word == "--" {
            return (options, words.next());
        }
        if !word.starts_with('-') || word == "-" {
            return (options, Some(word));
        }
        options.push(word);
        if valued.contains(&word) {
            if let Some(value) = words.next() {
                options.push(value);
            }
        }
    }
    (options, None)
}

/// `npx --yes [options] [--package P] -- true`: the same packages, so the same entry of
/// npx's cache, and `true` run in place of the server.
fn npx_prepare(args: &[String]) -> Option<Vec<String>> {
    let (options, first) = split_options(args, NPX_VALUED);
    let names_package = options
        .iter()
        .any(|option| matches!(*option, "-p" | "--package") || option.starts_with("--package="));
    // With `-c`, the command is a shell line; nothing to fetch beyond `--package`s.
    let calls = options
        .iter()
        .any(|option| matches!(*option, "-c" | "--call") || option.starts_with("--call="));
    let mut prepare = vec!["--yes".to_string()];
    let mut skip_value = false;
    for (i, option) in options.iter().enumerate() {
        if skip_value {
            skip_value = false;
            continue;
        }
        if matches!(*option, "-y" | "--yes" | "--no" | "-n") {
            continue;
        }
        if matches!(*option, "-c" | "--call") {
            skip_value = i + 1 < options.len();
            continue;
        }
        if option.starts_with("--call=") {
            continue;
        }
        prepare.push((*option).to_string());
    }
    if !names_package {
        if calls {
            return None;
        }
        prepare.push(format!("--package={}", first?));
    }
    prepare.extend(["--".to_string(), "true".to_string()]);
    Some(prepare)
}

/// `uvx [options] --from PKG true`: the same environment, and `true` run in place of the
/// server.
fn uvx_prepare(args: &[String]) -> Option<Vec<String>> {
    let (options, first) = split_options(args, UVX_VALUED);
    let first = first?;
    let has_from = options
        .iter()
        .any(|option| *option == "--from" || option.starts_with("--from="));
    let mut prepare: Vec<String> = options.iter().map(|option| option.to_string()).collect();
    if !has_from {
        prepare.extend(["--from".to_string(), first.to_string()]);
    }
    prepare.push("true".to_string());
    Some(prepare)
}

impl Launcher {
    /// The variables that point the runner at mcpfuzz's cache and keep it offline.
    pub fn env(&self) -> Vec<(OsString, OsString)> {
        let cache = self.cache.as_os_str().to_owned();
        let pairs: Vec<(&str, OsString)> = match self.runner {
            Runner::Npx => vec![
                ("npm_config_cache", cache),
                ("npm_config_prefer_offline", "true".into()),
                ("npm_config_yes", "true".into()),
                ("npm_config_update_notifier", "false".into()),
                ("npm_config_audit", "false".into()),
                ("npm_config_fund", "false".into()),
            ],
            Runner::Uvx => vec![
                ("UV_CACHE_DIR", cache),
                ("UV_OFFLINE", "1".into()),
                ("UV_NO_PROGRESS", "1".into()),
            ],
        };
        pairs
            .into_iter()
            .map(|(name, value)| (name.into(), value))
            .chain(self.npm_userconfig())
            .collect()
    }

    /// The user's npm configuration (registry, credentials), which the target's HOME in
    /// its sandbox would hide: the fetch and every offline start must agree on it.
    fn npm_userconfig(&self) -> Option<(OsString, OsString)> {
        let npmrc = Path::new(&std::env::var_os("HOME")?).join(".npmrc");
        (self.runner == Runner::Npx && npmrc.is_file())
            .then(|| ("npm_config_userconfig".into(), npmrc.into_os_string()))
    }

    /// Fetches the package once per fuzzer process, with network, in `env` (the target's,
    /// without the offline switch) and in `cwd`. Says how long it took, or why it failed.
    pub fn prepare(&self, env: &[(OsString, OsString)], cwd: Option<&Path>) -> Result<(), String> {
        static PREPARED: Mutex<Option<HashSet<Vec<String>>>> = Mutex::new(None);
        let mut prepared = PREPARED.lock().unwrap_or_else(|e| e.into_inner());
        let prepared = prepared.get_or_insert_with(HashSet::new);
        if prepared.contains(&self.prepare) {
            return Ok(());
        }
        std::fs::create_dir_all(&self.cache)
            .map_err(|e| format!("cannot create the cache {}: {e}", self.cache.display()))?;
        let started = Instant::now();
        let mut command = Command::new(&self.prepare[0]);
        command
            .args(&self.prepare[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env_clear()
            .envs(env.iter().cloned())
            .envs(self.env())
            .env_remove(match self.runner {
                Runner::Npx => "npm_config_prefer_offline",
                Runner::Uvx => "UV_OFFLINE",
            });
        if let Some(cwd) = cwd {
            command.current_dir(cwd);
        }
        let line = shell_words::join(&self.prepare);
        let output = command
            .output()
            .map_err(|e| format!("cannot run `{line}`: {e}"))?;
        if !output.status.success() {
            let said = String::from_utf8_lossy(&output.stderr);
            let tail: Vec<&str> = said.lines().rev().take(6).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            return Err(format!(
                "`{line}` ({} cache {}) failed with {}:\n{}",
                self.runner.name(),
                self.cache.display(),
                output.status,
                tail.join("\n")
            ));
        }
        crate::say!(
            "mcpfuzz: {} fetched the package into {} in {:.1} s (`{line}`); the target runs it offline from there",
            self.runner.name(),
            self.cache.display(),
            started.elapsed().as_secs_f64()
        );
        prepared.insert(self.prepare.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        shell_words::split(line).unwrap()
    }

    fn prepare(line: &str) -> Option<String> {
        detect(&words(line), Path::new("/c")).map(|l| l.prepare.join(" "))
    }

    #[test]
    fn npx_fetches_the_same_packages_and_runs_true() {
        assert_eq!(
            prepare("npx -y @modelcontextprotocol/server-filesystem {sandbox}").as_deref(),
            Some("npx --yes --package=@modelcontextprotocol/server-filesystem -- true")
        );
        assert_eq!(
            prepare("/usr/bin/npx --yes -p a@1 --package b -- c --flag").as_deref(),
            Some("/usr/bin/npx --yes -p a@1 --package b -- true")
        );
        assert_eq!(
            prepare("npm exec --yes pkg@2 -- x").as_deref(),
            Some("npm exec --yes --package=pkg@2 -- true")
        );
        assert_eq!(
            prepare("npx -p a -c 'a --serve'").as_deref(),
            Some("npx --yes -p a -- true")
        );
        assert_eq!(prepare("npx -c 'node x.js'"), None);
        assert_eq!(prepare("npx"), None);
    }

    #[test]
    fn uvx_fetches_from_the_same_spec_and_runs_true() {
        assert_eq!(
            prepare("uvx mcp-server-time --local-timezone UTC").as_deref(),
            Some("uvx --from mcp-server-time true")
        );
        assert_eq!(
            prepare("uvx --python 3.11 --with x pkg@1.2 serve").as_deref(),
            Some("uvx --python 3.11 --with x --from pkg@1.2 true")
        );
        assert_eq!(
            prepare("uv tool run --from 'git-mcp==1' mcp-git").as_deref(),
            Some("uv tool run --from git-mcp==1 true")
        );
        assert_eq!(prepare("uv run server.py"), None);
        assert_eq!(prepare("uvx"), None);
    }

    #[test]
    fn other_commands_are_not_launchers() {
        assert_eq!(prepare("node dist/index.js"), None);
        assert_eq!(prepare("python3 -m mcp_server_time"), None);
    }

    #[test]
    fn the_target_uses_the_cache_offline() {
        let launcher = detect(&words("npx -y pkg"), Path::new("/c")).unwrap();
        assert_eq!(launcher.cache, Path::new("/c/npm"));
        let env = launcher.env();
        assert!(env.contains(&("npm_config_cache".into(), "/c/npm".into())));
        assert!(env.contains(&("npm_config_prefer_offline".into(), "true".into())));
        let launcher = detect(&words("uvx pkg"), Path::new("/c")).unwrap();
        assert!(launcher
            .env()
            .contains(&("UV_CACHE_DIR".into(), "/c/uv".into())));
        assert!(launcher.env().contains(&("UV_OFFLINE".into(), "1".into())));
    }
}
