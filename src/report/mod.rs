//! `mcpfuzz report`: what a set of runs found, for people (text, HTML) and for tools
//! (JSON lines, SARIF 2.1.0, JUnit XML).
//!
//! [`Collection::gather`] reads the reproducers in `crashes/`, the run logs in
//! `crashes/runs/` ([`crate::runlog`]) and the JSON results of `mcpfuzz soak` and
//! `mcpfuzz load`; each format is one function of the collection.

mod html;
mod junit;
mod plot;
mod sarif;
mod text;

use crate::finding::{Kind, Severity};
use crate::repro::{self, Reproducer};
use crate::session::Direction;
use crate::transcript::compact;
use crate::triage;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// An output format of `mcpfuzz report`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// The summary first, then one block per finding, the details' paths last.
    Text,
    /// One JSON object per line: every finding, run statistic and result.
    Json,
    /// SARIF 2.1.0, as GitHub code scanning accepts it.
    Sarif,
    /// JUnit XML: a test case per finding signature.
    Junit,
    /// One self-contained HTML page.
    Html,
}

impl Format {
    /// Every format, by its name on the command line.
    pub const ALL: [(&'static str, Format); 5] = [
        ("text", Format::Text),
        ("json", Format::Json),
        ("sarif", Format::Sarif),
        ("junit", Format::Junit),
        ("html", Format::Html),
    ];
}

/// A saved finding and its file.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The reproducer's path as gathered.
    pub path: PathBuf,
    /// The reproducer.
    pub reproducer: Reproducer,
}

/// A fuzzing run's log.
#[derive(Clone, Debug, Default)]
pub struct Run {
    /// The log's path.
    pub path: PathBuf,
    /// The `run` line.
    pub header: Value,
    /// The `stats` lines, in order.
    pub stats: Vec<Value>,
    /// The `finding` lines, in order.
    pub findings: Vec<Value>,
    /// The `end` line, if the run ended normally.
    pub end: Option<Value>,
}

impl Run {
    /// Seconds from the start to the last record.
    pub fn duration(&self) -> f64 {
        let last = |records: &[Value]| records.last().and_then(|r| r["t"].as_f64());
        self.end
            .as_ref()
            .and_then(|end| end["t"].as_f64())
            .or_else(|| last(&self.stats))
            .unwrap_or(0.0)
    }

    /// Inputs executed.
    pub fn executions(&self) -> u64 {
        self.end
            .as_ref()
            .or(self.stats.last())
            .and_then(|record| record["executions"].as_u64())
            .unwrap_or(0)
    }

    /// The largest target RSS sampled, in bytes.
    pub fn peak_rss(&self) -> Option<u64> {
        self.stats
            .iter()
            .filter_map(|s| s["rss_bytes"].as_u64())
            .max()
    }

    /// The target's command line.
    pub fn target(&self) -> String {
        command_line(&self.header["target"])
    }
}

/// The results of one `mcpfuzz soak` or `mcpfuzz load`.
#[derive(Clone, Debug)]
pub struct Results {
    /// The file's path.
    pub path: PathBuf,
    /// Its content (`"kind"` is `soak` or `load`).
    pub value: Value,
}

impl Results {
    /// `soak` or `load`.
    pub fn kind(&self) -> &str {
        self.value["kind"].as_str().unwrap_or("?")
    }

    /// Whether the test passed.
    pub fn passed(&self) -> bool {
        self.value["status"] == "PASS"
    }
}

/// Everything a report is made of.
#[derive(Clone, Debug, Default)]
pub struct Collection {
    /// The paths gathered from, as given.
    pub sources: Vec<PathBuf>,
    /// Saved findings, most severe first, then by kind and signature.
    pub findings: Vec<Entry>,
    /// Fuzzing runs, oldest first.
    pub runs: Vec<Run>,
    /// Soak and load results, oldest first.
    pub results: Vec<Results>,
    /// Files that looked like ours but did not load, with why.
    pub skipped: Vec<(PathBuf, String)>,
    /// By signature, the exchange of each reproducer replayed ([`Collection::replay`]).
    pub exchanges: BTreeMap<String, Exchange>,
}

/// What a reproducer's replay sent and received.
#[derive(Clone, Debug)]
pub struct Exchange {
    /// The lines, in order, each cut at 2,000 characters.
    pub log: Vec<(Direction, String)>,
    /// Whether the finding's signature was seen again.
    pub reproduced: bool,
    /// The signatures seen instead, when it was not.
    pub seen: Vec<String>,
}

impl Collection {
    /// Reads every path: a directory's `*.json` and `*.jsonl` files and its `runs/`
    /// subdirectory, or a single file. A missing path is an error; a file that is none of
    /// ours is left out, one that is ours but broken is listed in `skipped`.
    pub fn gather(paths: &[PathBuf]) -> std::io::Result<Collection> {
        let mut collection = Collection {
            sources: paths.to_vec(),
            ..Collection::default()
        };
        for path in paths {
            let metadata = fs::metadata(path).map_err(|error| {
                std::io::Error::new(error.kind(), format!("{}: {error}", path.display()))
            })?;
            if metadata.is_dir() {
                let mut files = list(path);
                files.extend(list(&path.join("runs")));
                for file in files {
                    collection.add_file(&file);
                }
            } else {
                collection.add_file(path);
            }
        }
        collection.findings.sort_by(|a, b| {
            let (a, b) = (&a.reproducer.finding, &b.reproducer.finding);
            b.severity
                .cmp(&a.severity)
                .then(a.kind.cmp(&b.kind))
                .then(a.signature.cmp(&b.signature))
        });
        let mut seen = std::collections::HashSet::new();
        collection
            .findings
            .retain(|entry| seen.insert(entry.reproducer.finding.signature.clone()));
        collection
            .runs
            .sort_by_key(|run| run.header["unix_time"].as_u64().unwrap_or(0));
        collection
            .results
            .sort_by(|a, b| a.path.file_name().cmp(&b.path.file_name()));
        Ok(collection)
    }

    /// Replays every reproducer in a fresh target (its own, or `target` instead) and keeps
    /// the exchange for the report. A reproducer whose target does not start gets an
    /// exchange saying so.
    pub fn replay(&mut self, target: Option<&crate::TargetSpec>) -> std::io::Result<()> {
        let sandbox = crate::sandbox::Sandbox::create(None)?;
        let protections = crate::target::Protections::probe();
        for entry in &self.findings {
            let repro = &entry.reproducer;
            let spec = target.unwrap_or(&repro.target);
            let signature = &repro.finding.signature;
            let exchange = match triage::replay_reproducer(spec, &sandbox, protections, repro, true)
            {
                Ok(replayed) => Exchange {
                    log: replayed
                        .log
                        .iter()
                        .map(|(direction, line)| (*direction, compact(line, 2000)))
                        .collect(),
                    reproduced: replayed.has(signature),
                    seen: replayed
                        .findings
                        .iter()
                        .map(|f| f.signature.clone())
                        .collect(),
                },
                Err(error) => Exchange {
                    log: Vec::new(),
                    reproduced: false,
                    seen: vec![format!("the target did not start: {error}")],
                },
            };
            self.exchanges.insert(signature.clone(), exchange);
        }
        Ok(())
    }

    fn add_file(&mut self, path: &Path) {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') {
            return;
        }
        if name.ends_with(".jsonl") {
            match read_run(path) {
                Ok(Some(run)) => self.runs.push(run),
                Ok(None) => {}
                Err(why) => self.skipped.push((path.to_path_buf(), why)),
            }
            return;
        }
        if !name.ends_with(".json") {
            return;
        }
        let value: Value = match fs::read(path)
            .map_err(|e| e.to_string())
            .and_then(|bytes| serde_json::from_slice(&bytes).map_err(|e| e.to_string()))
        {
            Ok(value) => value,
            Err(why) => {
                self.skipped.push((path.to_path_buf(), why));
                return;
            }
        };
        if value["format"] == repro::FORMAT {
            match repro::load(path) {
                Ok(reproducer) => self.findings.push(Entry {
                    path: path.to_path_buf(),
                    reproducer,
                }),
                Err(error) => self.skipped.push((path.to_path_buf(), error.to_string())),
            }
        } else if matches!(value["kind"].as_str(), Some("soak" | "load")) {
            self.results.push(Results {
                path: path.to_path_buf(),
                value,
            });
        }
    }

    /// Saved findings by severity.
    pub fn by_severity(&self) -> BTreeMap<Severity, usize> {
        let mut counts = BTreeMap::new();
        for entry in &self.findings {
            *counts.entry(entry.reproducer.finding.severity).or_default() += 1;
        }
        counts
    }

    /// Saved findings by kind.
    pub fn by_kind(&self) -> BTreeMap<Kind, usize> {
        let mut counts = BTreeMap::new();
        for entry in &self.findings {
            *counts.entry(entry.reproducer.finding.kind).or_default() += 1;
        }
        counts
    }

    /// Whether any finding is at least `severity`.
    pub fn any_at_least(&self, severity: Severity) -> bool {
        self.findings
            .iter()
            .any(|entry| entry.reproducer.finding.severity >= severity)
    }

    /// `critical 6, high 8, ...`, most severe first; `none` when empty.
    pub fn severity_counts(&self) -> String {
        let parts: Vec<String> = self
            .by_severity()
            .iter()
            .rev()
            .map(|(severity, count)| format!("{severity} {count}"))
            .collect();
        if parts.is_empty() {
            "none".into()
        } else {
            parts.join(", ")
        }
    }

    /// `crash 3, hang 2, ...`; `none` when empty.
    pub fn kind_counts(&self) -> String {
        let parts: Vec<String> = self
            .by_kind()
            .iter()
            .map(|(kind, count)| format!("{kind} {count}"))
            .collect();
        if parts.is_empty() {
            "none".into()
        } else {
            parts.join(", ")
        }
    }
}

/// Renders `collection` in `format`.
pub fn render(collection: &Collection, format: Format) -> String {
    match format {
        Format::Text => text::render(collection),
        Format::Json => json_lines(collection),
        Format::Sarif => sarif::render(collection),
        Format::Junit => junit::render(collection),
        Format::Html => html::render(collection),
    }
}

/// The command that replays a reproducer.
pub fn replay_command(path: &Path) -> String {
    format!("mcpfuzz replay {}", shell_word(&path.display().to_string()))
}

/// A target spec's command line from its JSON form.
fn command_line(target: &Value) -> String {
    let words: Vec<String> = target["command"]
        .as_array()
        .map(|words| {
            words
                .iter()
                .map(|w| shell_word(w.as_str().unwrap_or("?")))
                .collect()
        })
        .unwrap_or_default();
    words.join(" ")
}

/// `word`, quoted for a POSIX shell when it needs to be.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// One JSON object per line: a `finding` per reproducer, the run logs' records (with
/// `run_log` naming their file), the soak and load results, and a closing `summary`.
fn json_lines(collection: &Collection) -> String {
    let mut out = String::new();
    let mut line = |value: Value| {
        out.push_str(&value.to_string());
        out.push('\n');
    };
    for entry in &collection.findings {
        let repro = &entry.reproducer;
        line(json!({
            "type": "finding",
            "path": entry.path,
            "kind": repro.finding.kind,
            "severity": repro.finding.severity,
            "signature": repro.finding.signature,
            "summary": repro.finding.summary,
            "evidence": repro.finding.evidence,
            "target": repro.target,
            "items": repro.transcript.len(),
            "repeat": repro.repeat,
            "found": repro.found,
            "replay": replay_command(&entry.path),
        }));
    }
    for run in &collection.runs {
        let records = std::iter::once(&run.header)
            .chain(&run.stats)
            .chain(&run.findings)
            .chain(&run.end);
        for record in records {
            let mut record = record.clone();
            record["run_log"] = json!(run.path);
            line(record);
        }
    }
    for results in &collection.results {
        let mut value = results.value.clone();
        value["type"] = json!(results.kind());
        value["path"] = json!(results.path);
        line(value);
    }
    line(json!({
        "type": "summary",
        "findings": collection.findings.len(),
        "by_severity": collection.by_severity(),
        "by_kind": collection.by_kind(),
        "runs": collection.runs.len(),
        "executions": collection.runs.iter().map(Run::executions).sum::<u64>(),
        "results": collection.results.iter().map(|r| json!({
            "kind": r.kind(), "status": r.value["status"], "path": r.path,
        })).collect::<Vec<_>>(),
        "skipped": collection.skipped.iter().map(|(path, why)| json!({
            "path": path, "why": why,
        })).collect::<Vec<_>>(),
    }));
    out
}

/// The regular files in `dir`, sorted by name; none when it cannot be listed.
fn list(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

/// A run log, or `None` for a `.jsonl` file that is not one.
fn read_run(path: &Path) -> Result<Option<Run>, String> {
    let text = fs::read_to_string(path).map_err(|e| e.to_string())?;
    let mut lines = text.lines();
    let Some(first) = lines.next() else {
        return Ok(None);
    };
    let header: Value = match serde_json::from_str(first) {
        Ok(header) => header,
        Err(_) => return Ok(None),
    };
    if header["format"] != crate::runlog::FORMAT {
        return Ok(None);
    }
    let mut run = Run {
        path: path.to_path_buf(),
        header,
        ..Run::default()
    };
    for line in lines {
        // The last line of a run killed mid-write may be cut: skip what does not parse.
        let Ok(record) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        match record["type"].as_str() {
            Some("stats") => run.stats.push(record),
            Some("finding") => run.findings.push(record),
            Some("end") => run.end = Some(record),
            _ => {}
        }
    }
    Ok(Some(run))
}

/// Seconds for people: `42.1s`, `12m05s`, `3h02m`.
fn duration(secs: f64) -> String {
    let whole = secs.max(0.0).round() as u64;
    if secs < 60.0 {
        format!("{secs:.1}s")
    } else if whole < 3600 {
        format!("{}m{:02}s", whole / 60, whole % 60)
    } else {
        format!("{}h{:02}m", whole / 3600, whole % 3600 / 60)
    }
}

/// Bytes for people, in MiB.
fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1 << 20) as f64)
}

#[cfg(test)]
mod tests;
