//! Scratch directories with canaries: one run directory under the system temp dir, and in
//! it one fresh [`Cell`] per target process. A cell's `work/root/` is what `{sandbox}`
//! expands to and the target's working directory; around it sit canary files that a
//! well-confined server never reads, and whose appearance in a reply proves a traversal.
//!
//! ```text
//! child-N/                      the cell (removed with its target)
//!   work/                       "base": {{mcpfuzz:base}} in payloads
//!     secret.txt                canary (the root's parent)
//!     outside/secret.txt        canary
//!     outside/linked.txt        canary, the target of root/link.txt
//!     root_old/secret.txt       canary in a prefix sibling of root/
//!     root-backup/secret.txt    canary in a prefix sibling of root/
//!     root/                     {sandbox}, the target's cwd
//!       README.md, docs/guide.txt   allowed files (their tokens are never evidence)
//!       link.txt -> ../outside/linked.txt
//!       linked-dir -> ../outside
//!       .home/ .tmp/            HOME and TMPDIR
//! ```
//!
//! [`Cell::scan`] compares the cell outside `root/` with its layout after every script:
//! a new file or directory there (a marker a payload asked for, or any other write that
//! escaped the root) and a canary that changed are evidence for the injection oracle.
//!
//! A run directory is named after the fuzzer's pid. libFuzzer may end the process with
//! `_Exit`, which runs no destructors, so each new run first removes run directories whose
//! owner process is gone.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

const PREFIX: &str = "mcpfuzz-run-";

/// Every canary's text starts with this, followed by 16 hex digits unique to the canary.
pub const CANARY_PREFIX: &str = "MCPFUZZ-CANARY-";
/// Files inside the root carry this prefix instead: reading them is allowed.
pub const ALLOWED_PREFIX: &str = "MCPFUZZ-ALLOWED-";

/// The placeholder for the cell's `work/` directory in sent frames; the session replaces
/// it right before sending, so a reproducer replays into its own fresh cell.
pub const BASE_PLACEHOLDER: &str = "{{mcpfuzz:base}}";
/// The same directory with every `/` percent-encoded as `%2F`.
pub const BASE_URL_PLACEHOLDER: &str = "{{mcpfuzz:base-url}}";

/// Where each outside canary lives, relative to `work/`, and the route name it is
/// reported under.
const CANARIES: &[(&str, &str)] = &[
    ("secret.txt", "parent"),
    ("outside/secret.txt", "outside"),
    ("outside/linked.txt", "symlink"),
    ("root_old/secret.txt", "prefix-sibling"),
    ("root-backup/secret.txt", "prefix-sibling"),
];

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
        remove_stale(&base, PREFIX);
        // The first sandbox of a process is `mcpfuzz-run-<pid>`, later ones (tests, a
        // report's replays beside a run) `mcpfuzz-run-<pid>-<k>`: each removes only its own.
        static SANDBOXES: AtomicU64 = AtomicU64::new(0);
        let k = SANDBOXES.fetch_add(1, Ordering::Relaxed);
        let name = match k {
            0 => format!("{PREFIX}{}", std::process::id()),
            k => format!("{PREFIX}{}-{k}", std::process::id()),
        };
        let run_dir = base.join(name);
        if k == 0 {
            // No other live process has this pid: a directory by this name was left by a
            // dead one that had it before (short-lived fork-mode jobs reuse pids).
            let _ = std::fs::remove_dir_all(&run_dir);
        }
        std::fs::create_dir_all(&run_dir)?;
        // Canonical, so that what the target resolves and what payloads name agree.
        let run_dir = run_dir.canonicalize()?;
        Ok(Sandbox {
            run_dir,
            next: AtomicU64::new(0),
        })
    }

    /// The run directory.
    pub fn run_dir(&self) -> &Path {
        &self.run_dir
    }

    /// A fresh cell, laid out with new canaries, for one target process; the caller
    /// removes [`Cell::dir`] when the target is gone.
    pub fn fresh_cell(&self) -> io::Result<Cell> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        Cell::create(&self.run_dir.join(format!("child-{n}")))
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.run_dir);
    }
}

/// A planted canary outside the root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Canary {
    /// Its path relative to `work/`.
    pub path: &'static str,
    /// How a payload reaches it: `parent`, `outside`, `symlink`, `prefix-sibling`.
    pub route: &'static str,
    /// Its unique text, [`CANARY_PREFIX`] and 16 hex digits.
    pub token: String,
}

/// One change outside the root that [`Cell::scan`] saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// A file, directory or link that was not part of the layout, relative to the cell.
    Created(String),
    /// A canary whose content, size or time changed, or that is gone.
    CanaryChanged(String),
}

/// The layout around one target process; see the module documentation.
#[derive(Debug)]
pub struct Cell {
    dir: PathBuf,
    base: PathBuf,
    root: PathBuf,
    canaries: Vec<Canary>,
    /// Entries outside `root/` when the cell was laid out, plus those already reported.
    known: BTreeSet<PathBuf>,
    /// Every directory outside `root/` with its modification time at the last walk: an
    /// entry created in one changes it, so an unchanged set needs no walk.
    dir_stamps: Vec<(PathBuf, Option<SystemTime>)>,
    /// Each canary's size and modification time as planted.
    canary_stamps: BTreeMap<PathBuf, (u64, Option<SystemTime>)>,
    changed_canaries: BTreeSet<PathBuf>,
}

impl Cell {
    /// Lays out a cell in `dir`, which must not exist yet.
    pub fn create(dir: &Path) -> io::Result<Cell> {
        let base = dir.join("work");
        let root = base.join("root");
        for sub in [
            "outside",
            "root_old",
            "root-backup",
            "root/docs",
            "root/.home",
            "root/.tmp",
        ] {
            std::fs::create_dir_all(base.join(sub))?;
        }
        let mut canaries = Vec::new();
        for (path, route) in CANARIES {
            let token = format!("{CANARY_PREFIX}{}", random_hex());
            std::fs::write(base.join(path), format!("{token}\n"))?;
            canaries.push(Canary { path, route, token });
        }
        for allowed in ["README.md", "docs/guide.txt"] {
            let text = format!(
                "A file inside the sandbox.\n{ALLOWED_PREFIX}{}\n",
                random_hex()
            );
            std::fs::write(root.join(allowed), text)?;
        }
        std::os::unix::fs::symlink("../outside/linked.txt", root.join("link.txt"))?;
        std::os::unix::fs::symlink("../outside", root.join("linked-dir"))?;
        let mut cell = Cell {
            dir: dir.to_owned(),
            base,
            root,
            canaries,
            known: BTreeSet::new(),
            dir_stamps: Vec::new(),
            canary_stamps: BTreeMap::new(),
            changed_canaries: BTreeSet::new(),
        };
        let mut entries = BTreeSet::new();
        cell.walk(&cell.dir, &mut entries);
        cell.dir_stamps = directory_stamps(&cell.dir, &entries);
        cell.known = entries;
        for canary in &cell.canaries {
            let path = cell.base.join(canary.path);
            let stamp = stamp(&path).unwrap_or((0, None));
            cell.canary_stamps.insert(path, stamp);
        }
        Ok(cell)
    }

    /// The whole cell, removed when its target is gone.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `work/`, what [`BASE_PLACEHOLDER`] expands to.
    pub fn base(&self) -> &Path {
        &self.base
    }

    /// `work/root/`, what `{sandbox}` expands to.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The canaries outside the root.
    pub fn canaries(&self) -> &[Canary] {
        &self.canaries
    }

    /// `frame` with the placeholders replaced by this cell's paths, as JSON string
    /// content; `None` when it holds no placeholder (the common case, checked cheaply).
    pub fn expand(&self, frame: &[u8]) -> Option<Vec<u8>> {
        memchr::memmem::find(frame, b"{{mcpfuzz:")?;
        let base = json_string_content(&self.base.display().to_string());
        let base_url = base.replace('/', "%2F");
        Some(replace_bytes(
            &replace_bytes(frame, BASE_URL_PLACEHOLDER.as_bytes(), base_url.as_bytes()),
            BASE_PLACEHOLDER.as_bytes(),
            base.as_bytes(),
        ))
    }

    /// What changed outside the root since the layout or the last scan: entries that
    /// appeared (each reported once) and canaries that changed or vanished (once each).
    /// An untouched cell costs one `stat` per directory and canary outside the root.
    pub fn scan(&mut self) -> Vec<Change> {
        let mut changes = Vec::new();
        let moved = self
            .dir_stamps
            .iter()
            .any(|(dir, stamp)| modified(dir) != *stamp);
        if moved {
            let mut entries = BTreeSet::new();
            self.walk(&self.dir, &mut entries);
            self.dir_stamps = directory_stamps(&self.dir, &entries);
            for entry in entries {
                if !self.known.contains(&entry) {
                    changes.push(Change::Created(self.relative(&entry)));
                    self.known.insert(entry);
                }
            }
        }
        for (path, planted) in &self.canary_stamps {
            if self.changed_canaries.contains(path) {
                continue;
            }
            if stamp(path).as_ref() != Some(planted) {
                changes.push(Change::CanaryChanged(self.relative(path)));
                self.changed_canaries.insert(path.clone());
            }
        }
        changes
    }

    fn relative(&self, path: &Path) -> String {
        path.strip_prefix(&self.dir)
            .unwrap_or(path)
            .display()
            .to_string()
    }

    /// Every entry under `dir`, not following links and not entering the root.
    fn walk(&self, dir: &Path, entries: &mut BTreeSet<PathBuf>) {
        let Ok(listing) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in listing.flatten() {
            let path = entry.path();
            if path == self.root {
                continue;
            }
            let is_dir = entry.file_type().is_ok_and(|kind| kind.is_dir());
            entries.insert(path.clone());
            // A runaway writer could fill the cell; stop listing long before that costs.
            if is_dir && entries.len() < 10_000 {
                self.walk(&path, entries);
            }
        }
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::symlink_metadata(path).ok()?.modified().ok()
}

/// `top` and every directory (not link) among `entries`, with their modification times.
fn directory_stamps(top: &Path, entries: &BTreeSet<PathBuf>) -> Vec<(PathBuf, Option<SystemTime>)> {
    std::iter::once(top)
        .chain(
            entries
                .iter()
                .map(PathBuf::as_path)
                .filter(|path| std::fs::symlink_metadata(path).is_ok_and(|meta| meta.is_dir())),
        )
        .map(|dir| (dir.to_owned(), modified(dir)))
        .collect()
}

fn stamp(path: &Path) -> Option<(u64, Option<SystemTime>)> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    Some((meta.len(), meta.modified().ok()))
}

/// `text` as it appears inside a JSON string (escapes, no quotes).
fn json_string_content(text: &str) -> String {
    let quoted = serde_json::to_string(text).expect("a string always serializes");
    quoted[1..quoted.len() - 1].to_owned()
}

fn replace_bytes(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut rest = haystack;
    while let Some(at) = memchr::memmem::find(rest, from) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(to);
        rest = &rest[at + from.len()..];
    }
    out.extend_from_slice(rest);
    out
}

/// 16 random hex digits from the kernel, with a time-based fallback.
pub fn random_hex() -> String {
    let mut bytes = [0u8; 8];
    let read = std::fs::File::open("/dev/urandom").and_then(|mut file| file.read_exact(&mut bytes));
    if read.is_err() {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        bytes = (nanos ^ (u64::from(std::process::id()) << 32)).to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Removes the directories `<prefix><pid>` and `<prefix><pid>-<anything>` in `base` whose
/// process no longer exists: left by a run that libFuzzer ended with `_Exit` (`-timeout`,
/// `-rss_limit_mb`) or that was killed.
pub fn remove_stale(base: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|name| name.strip_prefix(prefix))
            .and_then(|rest| rest.split('-').next())
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

    fn test_base(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("mcpfuzz-{name}-{}", std::process::id()))
    }

    #[test]
    fn cells_are_fresh_and_stale_runs_are_removed() {
        let base = test_base("sandbox-test");
        let stale = base.join(format!("{PREFIX}{}", u32::MAX - 1));
        std::fs::create_dir_all(&stale).unwrap();
        let sandbox = Sandbox::create(Some(&base)).unwrap();
        assert!(!stale.exists());
        let first = sandbox.fresh_cell().unwrap();
        let second = sandbox.fresh_cell().unwrap();
        assert_ne!(first.root(), second.root());
        assert!(first.root().is_dir() && first.root().starts_with(sandbox.run_dir()));
        assert_ne!(first.canaries()[0].token, second.canaries()[0].token);
        let run_dir = sandbox.run_dir().to_owned();
        drop(sandbox);
        assert!(!run_dir.exists());
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn layout_has_canaries_around_the_root_and_links_into_outside() {
        let dir = test_base("cell-layout");
        let cell = Cell::create(&dir).unwrap();
        assert_eq!(cell.root(), dir.join("work/root"));
        for canary in cell.canaries() {
            let text = std::fs::read_to_string(cell.base().join(canary.path)).unwrap();
            assert_eq!(text.trim(), canary.token);
            assert_eq!(canary.token.len(), CANARY_PREFIX.len() + 16);
        }
        let linked = std::fs::read_to_string(cell.root().join("link.txt")).unwrap();
        assert!(linked.starts_with(CANARY_PREFIX));
        let through_dir =
            std::fs::read_to_string(cell.root().join("linked-dir/secret.txt")).unwrap();
        assert!(through_dir.starts_with(CANARY_PREFIX));
        let readme = std::fs::read_to_string(cell.root().join("README.md")).unwrap();
        assert!(readme.contains(ALLOWED_PREFIX) && !readme.contains(CANARY_PREFIX));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn scan_reports_new_entries_outside_the_root_once_and_changed_canaries() {
        let dir = test_base("cell-scan");
        let mut cell = Cell::create(&dir).unwrap();
        assert_eq!(cell.scan(), vec![]);
        // Inside the root: the target's own business.
        std::fs::write(cell.root().join("notes.txt"), "x").unwrap();
        std::fs::create_dir_all(cell.root().join(".home/.cache")).unwrap();
        assert_eq!(cell.scan(), vec![]);
        std::fs::write(cell.base().join("mcpfuzz-w1"), "").unwrap();
        std::fs::write(dir.join("escaped"), "").unwrap();
        std::fs::write(cell.base().join("outside/secret.txt"), "changed, longer\n").unwrap();
        let changes = cell.scan();
        assert_eq!(
            changes,
            vec![
                Change::Created("escaped".into()),
                Change::Created("work/mcpfuzz-w1".into()),
                Change::CanaryChanged("work/outside/secret.txt".into()),
            ]
        );
        assert_eq!(cell.scan(), vec![]);
        // A directory made outside the root is watched from then on.
        std::fs::create_dir(cell.base().join("made")).unwrap();
        assert_eq!(cell.scan(), vec![Change::Created("work/made".into())]);
        std::fs::write(cell.base().join("made/later"), "").unwrap();
        assert_eq!(cell.scan(), vec![Change::Created("work/made/later".into())]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn placeholders_expand_to_this_cells_base() {
        let dir = test_base("cell-expand");
        let cell = Cell::create(&dir).unwrap();
        let base = cell.base().display().to_string();
        assert_eq!(cell.expand(b"{\"a\":\"x\"}\n"), None);
        let frame = b"{\"p\":\"{{mcpfuzz:base}}/secret.txt\",\"u\":\"{{mcpfuzz:base-url}}\"}\n";
        let expanded = String::from_utf8(cell.expand(frame).unwrap()).unwrap();
        assert_eq!(
            expanded,
            format!(
                "{{\"p\":\"{base}/secret.txt\",\"u\":\"{}\"}}\n",
                base.replace('/', "%2F")
            )
        );
        let invalid = b"\xff{{mcpfuzz:base}}\n";
        let expanded = cell.expand(invalid).unwrap();
        assert_eq!(&expanded[..1], b"\xff");
        assert!(expanded.ends_with(format!("{base}\n").as_bytes()));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
