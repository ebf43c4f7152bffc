//! Helpers: run the binary, make scratch directories, read reproducers.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;

/// The heavy tests (long fuzz runs) share two cores; they take this lock to run one at a
/// time so deadlines stay generous.
pub static HEAVY: Mutex<()> = Mutex::new(());

/// The `mcpfuzz` binary built for these tests.
pub fn mcpfuzz() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mcpfuzz"));
    command
        .stdin(Stdio::null())
        .env_remove("MCPFUZZ_TARGET")
        .env_remove("MCPFUZZ_CONFIG")
        .env_remove("MCPFUZZ_MCP_CONFIG")
        .env_remove("MCPFUZZ_SERVER")
        .env_remove("MCPFUZZ_CRASHES")
        .env_remove("MCPFUZZ_STOP_ON_FINDING")
        .env("MCPFUZZ_STATUS_SECS", "0");
    command
}

/// Runs a command to completion.
pub fn run(command: &mut Command) -> Output {
    command.output().expect("the mcpfuzz binary runs")
}

/// Stdout and stderr as one string, for assertion messages.
pub fn text(output: &Output) -> String {
    format!(
        "status: {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A fresh directory removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A new empty directory named after the test.
    pub fn new(name: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!("mcpfuzz-it-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The demo server's path.
pub fn demo_server() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testbed/demo_server.py")
        .display()
        .to_string()
}

/// (file name, signature) of every reproducer in `dir`.
pub fn reproducers(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "json") {
            let value: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            let signature = value["finding"]["signature"].as_str().unwrap().to_owned();
            found.push((path, signature));
        }
    }
    found.sort();
    found
}
