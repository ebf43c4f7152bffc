//! Published MCP servers and the SDK-built fixtures of testbed/real/, installed by
//! `scripts/install-real-servers` into its cache: for each, a fixed-seed, fixed-count run
//! must complete the handshake and discovery, get an answer from every discovered tool and
//! end without an error of mcpfuzz's own. Findings are allowed (exit 1): they are triaged
//! by hand, not asserted here.
//!
//! The launch forms cover what users write: `node dist/index.js`, a venv entry point,
//! `python -m`, a wrapper script, and an MCP client config (`--mcp-config`).

use crate::util::{mcpfuzz, run, text, TempDir, HEAVY};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The installer's outcome, once per test process: the cache directory, or its output.
static INSTALL: OnceLock<Result<PathBuf, String>> = OnceLock::new();

/// The cache directory the installer uses: `MCPFUZZ_REAL_SERVERS`, else
/// `$XDG_CACHE_HOME/mcpfuzz/real-servers`, else `~/.cache/mcpfuzz/real-servers`.
fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("MCPFUZZ_REAL_SERVERS") {
        return PathBuf::from(dir);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache")
        });
    base.join("mcpfuzz/real-servers")
}

/// Runs `scripts/install-real-servers` the first time it is called; every later call gets
/// the same answer. A failed install fails the test with the script's output.
fn installed() -> &'static Path {
    let outcome = INSTALL.get_or_init(|| {
        let cache = cache_dir();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/install-real-servers");
        let output = Command::new(&script)
            .env("MCPFUZZ_REAL_SERVERS", &cache)
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|error| format!("cannot run {}: {error}", script.display()))?;
        if output.status.success() {
            Ok(cache)
        } else {
            Err(text(&output))
        }
    });
    match outcome {
        Ok(cache) => cache,
        Err(output) => panic!("scripts/install-real-servers failed:\n{output}"),
    }
}

/// A fixture of testbed/real/.
fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testbed/real")
        .join(name)
        .display()
        .to_string()
}

/// Where `npm ci` put the published package `@modelcontextprotocol/<name>`'s entry point.
fn node_server(cache: &Path, name: &str) -> String {
    cache
        .join("node/node_modules/@modelcontextprotocol")
        .join(name)
        .join("dist/index.js")
        .display()
        .to_string()
}

/// `(answered, discovered)` from the `tools fuzzed: A of B` line.
fn tools_fuzzed(stderr: &str) -> Option<(usize, usize)> {
    let rest = stderr
        .lines()
        .find_map(|line| line.strip_prefix("mcpfuzz: tools fuzzed: "))?;
    let (answered, rest) = rest.split_once(" of ")?;
    let discovered = rest.split(|c: char| !c.is_ascii_digit()).next()?;
    Some((answered.parse().ok()?, discovered.parse().ok()?))
}

/// Fuzzes one server for `runs` inputs with seed 1 (`target` are the arguments that name
/// it: `--target LINE` or `--mcp-config FILE --server NAME`) and checks the run.
fn fuzz_real_server(name: &str, target: &[String], runs: u64) {
    fuzz_real_server_with(name, target, runs, &[]);
}

/// [`fuzz_real_server`] with more variables for mcpfuzz.
fn fuzz_real_server_with(name: &str, target: &[String], runs: u64, env: &[(&str, PathBuf)]) {
    let dir = TempDir::new(&format!("real-{name}"));
    let _heavy = HEAVY.lock().unwrap_or_else(|poison| poison.into_inner());
    let output = run(mcpfuzz()
        .envs(env.iter().map(|(name, value)| (*name, value.as_os_str())))
        .arg("fuzz")
        .args(target)
        .args(["--runs", &runs.to_string(), "--seed", "1", "--crashes"])
        .arg(dir.path().join("crashes"))
        // Findings are triaged by hand from longer runs (scripts/fuzz-real-servers); here
        // each is only confirmed, not minimized, which keeps the run's length bounded.
        .env("MCPFUZZ_MINIMIZE_SECS", "0")
        .env("MCPFUZZ_STATS_SECS", "0"));
    // 0: nothing found, 1: findings (triaged by hand); 2 or a signal is mcpfuzz failing.
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{}",
        text(&output)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("mcpfuzz: handshake ok: "),
        "{}",
        text(&output)
    );
    for error in [
        "panicked",
        "mcpfuzz: error",
        "the target can no longer be started",
    ] {
        assert!(!stderr.contains(error), "{error:?}\n{}", text(&output));
    }
    let (answered, discovered) =
        tools_fuzzed(&stderr).unwrap_or_else(|| panic!("no tools fuzzed line\n{}", text(&output)));
    assert!(discovered > 0, "{}", text(&output));
    assert_eq!(answered, discovered, "{}", text(&output));
}

/// `--target LINE`.
fn target(line: String) -> Vec<String> {
    vec!["--target".into(), line]
}

#[test]
fn fastmcp_fixture_run_with_the_venv_python() {
    let cache = installed();
    let python = cache.join("venv-fastmcp/bin/python");
    let line = format!("{} {}", python.display(), fixture("fastmcp_server.py"));
    fuzz_real_server("fastmcp", &target(line), 300);
}

#[test]
fn typescript_sdk_fixture_run_with_node() {
    let cache = installed();
    let line = format!(
        "node {} {}",
        fixture("sdk_server.mjs"),
        cache.join("node").display()
    );
    fuzz_real_server("sdk", &target(line), 300);
}

/// Three of its tools answer only once the client answered the server's own sampling or
/// elicitation request well, which a fuzzed reply policy does now and then: it needs the
/// most inputs.
#[test]
fn server_everything_run_from_its_dist() {
    let line = format!("node {}", node_server(installed(), "server-everything"));
    fuzz_real_server("everything", &target(line), 900);
}

#[test]
fn server_filesystem_with_the_sandbox_as_its_allowed_directory() {
    let line = format!(
        "node {} {{sandbox}}",
        node_server(installed(), "server-filesystem")
    );
    fuzz_real_server("filesystem", &target(line), 800);
}

#[test]
fn mcp_server_time_run_from_its_venv_entry_point() {
    let line = installed().join("venv/bin/mcp-server-time");
    fuzz_real_server("time", &target(line.display().to_string()), 300);
}

#[test]
fn mcp_server_git_run_with_python_dash_m_on_a_repository_made_by_a_wrapper() {
    let python = installed().join("venv/bin/python");
    let line = format!(
        "{} {{sandbox}}/repo {} -m mcp_server_git",
        fixture("git_server.sh"),
        python.display()
    );
    fuzz_real_server("git", &target(line), 600);
}

#[test]
fn the_tools_fuzzed_line_is_read() {
    let stderr = "mcpfuzz: handshake ok\nmcpfuzz: tools fuzzed: 3 of 8, 2 with a result (never answered: a)\n";
    assert_eq!(tools_fuzzed(stderr), Some((3, 8)));
    assert_eq!(
        tools_fuzzed("mcpfuzz: tools fuzzed: 0 of 0, 0 with a result"),
        Some((0, 0))
    );
    assert_eq!(tools_fuzzed("nothing"), None);
}

/// The launchers' cache beside the installed servers, so that only the first run fetches.
fn launcher_cache() -> (&'static str, PathBuf) {
    ("MCPFUZZ_CACHE", installed().join("launchers"))
}

#[test]
fn server_memory_through_npx_from_an_mcp_client_config() {
    // The way client configurations usually name a published server: `npx -y`, with the
    // server's variables in `env`.
    let dir = TempDir::new("real-npx-memory-config");
    let config = dir.path().join("claude_desktop_config.json");
    let servers = serde_json::json!({"mcpServers": {"memory": {
        "command": "npx",
        "args": ["-y", "@modelcontextprotocol/server-memory@2026.8.31"],
        "env": {"MEMORY_FILE_PATH": "{sandbox}/memory.jsonl"},
    }}});
    std::fs::write(&config, serde_json::to_vec_pretty(&servers).unwrap()).unwrap();
    let arguments = vec!["--mcp-config".into(), config.display().to_string()];
    fuzz_real_server_with("npx-memory", &arguments, 600, &[launcher_cache()]);
}

#[test]
fn mcp_server_time_through_uvx_fetched_once_and_run_offline() {
    let uvx = installed().join("venv/bin/uvx");
    let line = format!("{} mcp-server-time@2026.10.19", uvx.display());
    fuzz_real_server_with("uvx-time", &target(line), 200, &[launcher_cache()]);
}
