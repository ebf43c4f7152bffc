//! Scratch directories: one per run under the system temp dir, one fresh `root/` per
//! target process inside it, which is what `{sandbox}` expands to.
//!
//! A run directory is named after the fuzzer's pid. libFuzzer may end the process with
//! `_Exit`, which runs no destructors, so each new run first removes run directories whose
//! owner process is gone.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

const PREFIX: &str = "mcpfuzz-run-";

/// The scratch area of one fuzzing run.
#[derive(Debug)]
pub struct Sandbox {
    run_dir: PathBuf,
    next: AtomicU64,
}

impl Sandbox {
    /// Creates this run's directory under `base` (the system temp dir when `None`),
    /// removing the ones left by runs whose process no longer exists.
    pub fn create(base: Option<&Path>) -> io::Result<Sandbox> {
        let base = base.map(Path::to_owned).unwrap_or_else(std::env::temp_dir);
        remove_stale(&base);
        let run_dir = base.join(format!("{PREFIX}{}", std::process::id()));
        std::fs::create_dir_all(&run_dir)?;
        Ok(Sandbox {
            run_dir,
            next: AtomicU64::new(0),
        })
    }

    /// The run directory.
    pub fn run_dir(&self) -> &Path {
        &self.run_dir
    }

    /// A fresh, empty directory for one target process; the caller removes it.
    pub fn fresh_root(&self) -> io::Result<PathBuf> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let root = self.run_dir.join(format!("child-{n}")).join("root");
        std::fs::create_dir_all(&root)?;
        Ok(root)
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.run_dir);
    }
}

fn remove_stale(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|name| name.strip_prefix(PREFIX))
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_are_fresh_and_stale_runs_are_removed() {
        let base =
            std::env::temp_dir().join(format!("mcpfuzz-sandbox-test-{}", std::process::id()));
        let stale = base.join(format!("{PREFIX}{}", u32::MAX - 1));
        std::fs::create_dir_all(&stale).unwrap();
        let sandbox = Sandbox::create(Some(&base)).unwrap();
        assert!(!stale.exists());
        let first = sandbox.fresh_root().unwrap();
        let second = sandbox.fresh_root().unwrap();
        assert_ne!(first, second);
        assert!(first.is_dir() && first.starts_with(sandbox.run_dir()));
        let run_dir = sandbox.run_dir().to_owned();
        drop(sandbox);
        assert!(!run_dir.exists());
        std::fs::remove_dir_all(&base).unwrap();
    }
}
