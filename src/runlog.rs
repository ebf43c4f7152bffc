//! The run log: what a fuzzing run did over time, one JSON object per line in
//! `<crashes>/runs/run-<unix time>-<pid>.jsonl`, for `mcpfuzz report`'s statistics and
//! plots.
//!
//! Records, each with `"type"`:
//! - `run`: first line; mcpfuzz version, start time, the target.
//! - `stats`: every `MCPFUZZ_STATS_SECS` (default 2, 0 for no log): seconds since the
//!   start (`t`), inputs so far, inputs per second over the interval, target processes
//!   started, the target's resident memory, descriptors, threads and processes, requests
//!   answered in the interval with latency p50/p95/max in milliseconds, findings saved.
//! - `finding`: a saved finding, when it was saved, and its reproducer.
//! - `end`: the totals, when the run ends normally (a killed run has none).
//!
//! Every line is flushed when written, so a run that is killed leaves a log that reads.

use crate::config::TargetSpec;
use crate::finding::Finding;
use crate::target::Usage;
use serde_json::{json, Value};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The value of `"format"` in a run log's first line.
pub const FORMAT: &str = "mcpfuzz-run";

/// Latencies kept per interval for its percentiles; beyond this every other one is
/// dropped, which keeps the percentiles representative at any request rate.
const MAX_LATENCIES: usize = 4096;

/// Counters of the run at the moment of a record.
#[derive(Clone, Copy, Debug, Default)]
pub struct Counters {
    /// Inputs executed.
    pub executions: u64,
    /// Target processes started.
    pub spawns: u64,
    /// Findings saved.
    pub findings: u64,
    /// The target's own edges seen so far, when a coverage bridge runs.
    pub edges: Option<u64>,
}

/// An open run log.
#[derive(Debug)]
pub struct RunLog {
    out: Option<BufWriter<File>>,
    path: PathBuf,
    every: Duration,
    started: Instant,
    last: Instant,
    executions_at_last: u64,
    latencies: Vec<Duration>,
    answered: u64,
}

impl RunLog {
    /// The interval from `MCPFUZZ_STATS_SECS` (default 2 seconds; 0 turns the log off).
    pub fn interval_from_environment() -> Duration {
        let secs = std::env::var("MCPFUZZ_STATS_SECS")
            .ok()
            .and_then(|text| text.trim().parse::<f64>().ok())
            .unwrap_or(2.0);
        Duration::from_secs_f64(secs.max(0.0))
    }

    /// Creates `<crashes_dir>/runs/run-<unix time>-<pid>.jsonl` and writes its `run`
    /// line. A log that cannot be created is a warning, never a reason not to fuzz; a
    /// zero interval means no log.
    pub fn create(crashes_dir: &Path, target: &TargetSpec, every: Duration) -> RunLog {
        let unix_time = unix_now();
        let path = crashes_dir
            .join("runs")
            .join(format!("run-{unix_time}-{}.jsonl", std::process::id()));
        let now = Instant::now();
        let mut log = RunLog {
            out: None,
            path,
            every,
            started: now,
            last: now,
            executions_at_last: 0,
            latencies: Vec::new(),
            answered: 0,
        };
        if every.is_zero() {
            return log;
        }
        let opened = std::fs::create_dir_all(log.path.parent().expect("has a parent"))
            .and_then(|()| File::create(&log.path));
        match opened {
            Ok(file) => log.out = Some(BufWriter::new(file)),
            Err(error) => {
                log::warn!("no run log: cannot create {}: {error}", log.path.display());
                return log;
            }
        }
        log.write(&json!({
            "type": "run",
            "format": FORMAT,
            "mcpfuzz_version": env!("CARGO_PKG_VERSION"),
            "unix_time": unix_time,
            "pid": std::process::id(),
            "stats_every_secs": every.as_secs_f64(),
            "target": target,
        }));
        log
    }

    /// The log's path (whether or not it could be written).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Counts the latencies of one input's answered requests toward the current interval.
    pub fn observe(&mut self, latencies: impl IntoIterator<Item = Duration>) {
        if self.out.is_none() {
            return;
        }
        for latency in latencies {
            self.answered += 1;
            if self.latencies.len() >= MAX_LATENCIES {
                let mut keep = false;
                self.latencies.retain(|_| {
                    keep = !keep;
                    keep
                });
            }
            self.latencies.push(latency);
        }
    }

    /// Whether a `stats` record is due (the caller then samples the target and calls
    /// [`record`](RunLog::record)).
    pub fn due(&self) -> bool {
        self.out.is_some() && self.last.elapsed() >= self.every
    }

    /// Writes a `stats` record and starts the next interval. `usage` is the target's, or
    /// `None` while it is being restarted.
    pub fn record(&mut self, counters: Counters, usage: Option<&Usage>) {
        let interval = self.last.elapsed().as_secs_f64().max(1e-6);
        let rate = (counters.executions - self.executions_at_last.min(counters.executions)) as f64
            / interval;
        let latencies = std::mem::take(&mut self.latencies);
        let pick = |p: f64| -> Value {
            crate::load::percentile(&latencies, p)
                .map_or(Value::Null, |d| json!(round3(d.as_secs_f64() * 1e3)))
        };
        let mut record = json!({
            "type": "stats",
            "t": round3(self.started.elapsed().as_secs_f64()),
            "executions": counters.executions,
            "exec_per_sec": round3(rate),
            "spawns": counters.spawns,
            "findings": counters.findings,
            "requests": self.answered,
            "latency_ms": {"p50": pick(50.0), "p95": pick(95.0), "max": pick(100.0)},
        });
        if let Some(edges) = counters.edges {
            record["edges"] = json!(edges);
        }
        if let Some(usage) = usage {
            record["rss_bytes"] = json!(usage.rss_bytes);
            record["descriptors"] = json!(usage.descriptors);
            record["threads"] = json!(usage.threads);
            record["processes"] = json!(usage.processes);
        }
        self.write(&record);
        self.last = Instant::now();
        self.executions_at_last = counters.executions;
        self.answered = 0;
    }

    /// Writes a `finding` record for a saved reproducer.
    pub fn finding(&mut self, finding: &Finding, reproducer: &Path) {
        let record = json!({
            "type": "finding",
            "t": round3(self.started.elapsed().as_secs_f64()),
            "kind": finding.kind,
            "severity": finding.severity,
            "signature": finding.signature,
            "summary": finding.summary,
            "path": reproducer,
        });
        self.write(&record);
    }

    /// Writes the `end` record with the run's totals.
    pub fn end(&mut self, counters: Counters, flaky: usize) {
        let record = json!({
            "type": "end",
            "t": round3(self.started.elapsed().as_secs_f64()),
            "executions": counters.executions,
            "spawns": counters.spawns,
            "findings": counters.findings,
            "flaky": flaky,
        });
        self.write(&record);
    }

    fn write(&mut self, record: &Value) {
        let Some(out) = &mut self.out else {
            return;
        };
        let written = serde_json::to_writer(&mut *out, record)
            .map_err(std::io::Error::from)
            .and_then(|()| out.write_all(b"\n"))
            .and_then(|()| out.flush());
        if let Err(error) = written {
            log::warn!(
                "run log {} stops here: cannot write: {error}",
                self.path.display()
            );
            self.out = None;
        }
    }
}

fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_has_a_header_stats_findings_and_an_end() {
        let dir = std::env::temp_dir().join(format!("mcpfuzz-runlog-{}", std::process::id()));
        let spec = TargetSpec::from_command(vec!["server".into()]);
        let mut log = RunLog::create(&dir, &spec, Duration::from_millis(1));
        log.observe([Duration::from_millis(3), Duration::from_millis(1)]);
        let usage = Usage {
            rss_bytes: 1 << 20,
            descriptors: 5,
            threads: 1,
            processes: 1,
            ..Usage::default()
        };
        let counters = Counters {
            executions: 10,
            spawns: 1,
            findings: 0,
            edges: None,
        };
        log.record(counters, Some(&usage));
        let finding = Finding::new(
            crate::Kind::Hang,
            "idle/x",
            crate::Severity::High,
            "no reply",
            json!({}),
        );
        log.finding(&finding, Path::new("crashes/hang-1.json"));
        log.end(counters, 0);
        let text = std::fs::read_to_string(log.path()).unwrap();
        let records: Vec<Value> = text
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        let types: Vec<&str> = records
            .iter()
            .map(|r| r["type"].as_str().unwrap())
            .collect();
        assert_eq!(types, ["run", "stats", "finding", "end"]);
        assert_eq!(records[0]["format"], FORMAT);
        assert_eq!(records[1]["requests"], 2);
        assert_eq!(records[1]["latency_ms"]["p50"], 1.0);
        assert_eq!(records[1]["latency_ms"]["max"], 3.0);
        assert_eq!(records[1]["rss_bytes"], 1 << 20);
        assert_eq!(records[2]["signature"], "hang/idle/x");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_zero_interval_writes_nothing() {
        let dir = std::env::temp_dir().join(format!("mcpfuzz-runlog0-{}", std::process::id()));
        let spec = TargetSpec::from_command(vec!["server".into()]);
        let log = RunLog::create(&dir, &spec, Duration::ZERO);
        assert!(!log.due());
        assert!(!dir.exists());
    }
}
