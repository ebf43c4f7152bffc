//! The part of a libFuzzer process that only starts others (`-fork=N`, `-jobs=N`; see
//! [`crate::role`]). It starts no target: each job it starts runs the harness's init and
//! owns its target. The jobs' output goes to files (libFuzzer's temporary directory for
//! `-fork`, `fuzz-<n>.log` for `-jobs`), so this process watches the reproducer directory
//! and prints one `NEW` line per reproducer a job saves, and the list at the end.

use crate::repro;
use std::collections::HashSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

/// How often the reproducer directory is listed.
const POLL_EVERY: Duration = Duration::from_secs(1);

/// Reproducers that appear in a directory after the watch started.
#[derive(Debug)]
pub struct Watch {
    dir: PathBuf,
    seen: HashSet<OsString>,
    saved: Vec<PathBuf>,
}

impl Watch {
    /// Starts watching `dir`; the reproducers already in it are not new.
    pub fn new(dir: &Path) -> Watch {
        let mut watch = Watch {
            dir: dir.to_owned(),
            seen: HashSet::new(),
            saved: Vec::new(),
        };
        watch.seen = watch.names();
        watch
    }

    /// One line for each reproducer saved since the last poll, in name order.
    pub fn poll(&mut self) -> Vec<String> {
        let mut fresh: Vec<OsString> = self
            .names()
            .into_iter()
            .filter(|name| !self.seen.contains(name))
            .collect();
        fresh.sort();
        let mut lines = Vec::new();
        for name in fresh {
            self.seen.insert(name.clone());
            let path = self.dir.join(&name);
            // Reproducers are renamed into place whole; anything else is not one.
            let Ok(reproducer) = repro::load(&path) else {
                continue;
            };
            let finding = &reproducer.finding;
            lines.push(format!(
                "mcpfuzz: NEW {} [{}] {} -> {} ({} items, minimized from {}, after {:.1}s of its job)",
                finding.kind,
                finding.severity,
                finding.summary,
                path.display(),
                reproducer.transcript.len(),
                reproducer.found.original_items,
                reproducer.found.elapsed_secs
            ));
            self.saved.push(path);
        }
        lines
    }

    /// The reproducers saved since the watch started.
    pub fn saved(&self) -> &[PathBuf] {
        &self.saved
    }

    /// `*.json` names in the directory; the leading-dot temporary files of
    /// [`repro::save`] are not reproducers yet.
    fn names(&self) -> HashSet<OsString> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return HashSet::new();
        };
        entries
            .flatten()
            .map(|entry| entry.file_name())
            .filter(|name| {
                let text = name.to_string_lossy();
                !text.starts_with('.') && text.ends_with(".json")
            })
            .collect()
    }
}

static WATCH: Mutex<Option<Watch>> = Mutex::new(None);

/// Watches `dir` in a thread of its own for the rest of the process, printing the
/// reproducers that the jobs save.
pub fn watch_findings(dir: &Path) {
    *lock() = Some(Watch::new(dir));
    let spawned = std::thread::Builder::new()
        .name("mcpfuzz-findings".into())
        .spawn(|| loop {
            std::thread::sleep(POLL_EVERY);
            print_new();
        });
    if let Err(error) = spawned {
        log::warn!("cannot watch for findings: {error}");
    }
}

/// Prints what the jobs saved since the last poll, then the whole list; for the end of
/// the process.
pub fn finish() {
    print_new();
    let guard = lock();
    let Some(watch) = guard.as_ref() else {
        return;
    };
    eprintln!(
        "mcpfuzz: the jobs saved {} new reproducers in {}",
        watch.saved().len(),
        watch.dir.display()
    );
    for path in watch.saved() {
        eprintln!("mcpfuzz: saved {}", path.display());
    }
}

fn print_new() {
    let lines = match lock().as_mut() {
        Some(watch) => watch.poll(),
        None => return,
    };
    for line in lines {
        crate::say!("{line}");
    }
}

fn lock() -> std::sync::MutexGuard<'static, Option<Watch>> {
    WATCH.lock().unwrap_or_else(|poison| poison.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Finding, Kind, Severity};
    use crate::repro::{Found, Reproducer};
    use crate::TargetSpec;

    fn reproducer(signature: &str) -> Reproducer {
        let finding = Finding {
            kind: Kind::Crash,
            signature: signature.into(),
            severity: Severity::High,
            summary: format!("summary of {signature}"),
            evidence: Default::default(),
        };
        Reproducer::new(
            finding,
            TargetSpec::from_command(vec!["true".into()]),
            Vec::new(),
            Found::now(),
        )
    }

    #[test]
    fn only_reproducers_saved_after_the_start_are_new() {
        let dir = std::env::temp_dir().join(format!("mcpfuzz-watch-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let old = repro::save(&dir, &reproducer("crash/old")).unwrap();
        let mut watch = Watch::new(&dir);
        assert!(watch.poll().is_empty());
        std::fs::write(dir.join(".crash-x.json.1.0.tmp"), "{").unwrap();
        std::fs::write(dir.join("notes.json"), "not a reproducer").unwrap();
        let new = repro::save(&dir, &reproducer("crash/new")).unwrap();
        let lines = watch.poll();
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].starts_with("mcpfuzz: NEW crash [high] summary of crash/new -> "),
            "{}",
            lines[0]
        );
        // Saved again (by another job) under the same name: not new.
        repro::save(&dir, &reproducer("crash/new")).unwrap();
        repro::save(&dir, &reproducer("crash/old")).unwrap();
        assert!(watch.poll().is_empty());
        assert_eq!(watch.saved(), [new]);
        assert!(old.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
