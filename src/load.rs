//! Load tests: many valid requests in flight at once over stdio (pipelined ids), against
//! one or several target instances, with latency percentiles per method or tool, the
//! error rate, throughput, and the targets' memory and CPU, judged against thresholds.

use crate::config::TargetSpec;
use crate::grammar::Materializer;
use crate::oracle::Outcome;
use crate::progress::Progress;
use crate::sandbox::Sandbox;
use crate::session::Session;
use crate::soak::{self, SoakError};
use crate::target::{group_usage, Protections};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// When a load test fails.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Thresholds {
    /// The largest share of requests that may fail (a JSON-RPC error, or no reply).
    pub max_error_rate: f64,
    /// The largest 95th-percentile latency of any method or tool.
    pub max_p95: Duration,
    /// The most any instance's memory may grow, in bytes.
    pub max_memory_growth: u64,
    /// The most CPU an instance may use on average, as a share of one core.
    pub max_cpu: f64,
}

impl Default for Thresholds {
    fn default() -> Thresholds {
        Thresholds {
            max_error_rate: 0.05,
            max_p95: Duration::from_secs(1),
            max_memory_growth: 50 << 20,
            max_cpu: 0.8,
        }
    }
}

/// How a load test runs.
#[derive(Clone, Debug)]
pub struct Options {
    /// Requests in flight at once, per instance.
    pub concurrency: usize,
    /// How long to keep the load up.
    pub duration: Duration,
    /// Only this tool, by name.
    pub tool: Option<String>,
    /// Target processes, each with its own connection.
    pub instances: usize,
    /// When the test fails.
    pub thresholds: Thresholds,
    /// How the live status line is shown.
    pub status: crate::progress::Mode,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            concurrency: 8,
            duration: Duration::from_secs(10),
            tool: None,
            instances: 1,
            thresholds: Thresholds::default(),
            status: crate::progress::Mode::Quiet,
        }
    }
}

/// Replies and latencies of one method or tool.
#[derive(Clone, Debug, Default)]
pub struct LabelStats {
    /// Requests answered or given up on.
    pub requests: u64,
    /// Of those, how many failed: a JSON-RPC error, or no reply.
    pub errors: u64,
    /// Tool results with `isError: true`: the tool ran and said it failed (a valid
    /// request for a file that does not exist, say). Counted, but not as errors.
    pub tool_errors: u64,
    /// Latencies of the answered ones.
    pub latencies: Vec<Duration>,
}

impl LabelStats {
    /// The `p`-th percentile latency (nearest rank), if any reply came.
    pub fn percentile(&self, p: f64) -> Option<Duration> {
        percentile(&self.latencies, p)
    }
}

/// The `p`-th percentile of `values` by nearest rank.
pub fn percentile(values: &[Duration], p: f64) -> Option<Duration> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort();
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// What one instance saw.
#[derive(Clone, Debug, Default)]
pub struct Instance {
    /// Per method or tool.
    pub labels: BTreeMap<String, LabelStats>,
    /// RSS of the process group at the start and the end.
    pub rss: (u64, u64),
    /// CPU time the group used during the load.
    pub cpu: Duration,
    /// Wall time of the load.
    pub elapsed: Duration,
    /// Why it ended early, if it did.
    pub stopped: Option<String>,
    /// The load over time, about [`TIMELINE_POINTS`] points.
    pub timeline: Vec<Point>,
}

/// Points in an instance's timeline.
pub const TIMELINE_POINTS: u32 = 50;

/// One interval of an instance's load.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Point {
    /// Seconds from the start to the end of the interval.
    pub t: f64,
    /// Requests answered in the interval.
    pub requests: u64,
    /// Median and 95th percentile latency in the interval.
    pub p50: Duration,
    /// See `p50`.
    pub p95: Duration,
    /// The target's resident memory at the end of the interval.
    pub rss_bytes: u64,
}

/// What a load test saw.
#[derive(Clone, Debug)]
pub struct Report {
    /// The tools called.
    pub tools: Vec<String>,
    /// Requests in flight per instance.
    pub concurrency: usize,
    /// One entry per target instance.
    pub instances: Vec<Instance>,
    /// The thresholds judged against.
    pub thresholds: Thresholds,
}

impl Report {
    /// Every instance's per-label statistics merged.
    pub fn labels(&self) -> BTreeMap<String, LabelStats> {
        let mut merged: BTreeMap<String, LabelStats> = BTreeMap::new();
        for instance in &self.instances {
            for (label, stats) in &instance.labels {
                let entry = merged.entry(label.clone()).or_default();
                entry.requests += stats.requests;
                entry.errors += stats.errors;
                entry.tool_errors += stats.tool_errors;
                entry.latencies.extend(&stats.latencies);
            }
        }
        merged
    }

    /// Requests sent, over all instances.
    pub fn requests(&self) -> u64 {
        self.instances
            .iter()
            .flat_map(|instance| instance.labels.values())
            .map(|stats| stats.requests)
            .sum()
    }

    /// Failed requests, over all instances.
    pub fn errors(&self) -> u64 {
        self.instances
            .iter()
            .flat_map(|instance| instance.labels.values())
            .map(|stats| stats.errors)
            .sum()
    }

    /// The longest instance's wall time.
    pub fn elapsed(&self) -> Duration {
        self.instances
            .iter()
            .map(|instance| instance.elapsed)
            .max()
            .unwrap_or_default()
    }

    /// Why the test fails: one line per threshold crossed, or per instance that died.
    pub fn failures(&self) -> Vec<String> {
        let thresholds = &self.thresholds;
        let mut failures = Vec::new();
        let requests = self.requests();
        let rate = self.errors() as f64 / requests.max(1) as f64;
        if rate > thresholds.max_error_rate {
            failures.push(format!(
                "error rate {:.1}% > {:.1}%",
                rate * 100.0,
                thresholds.max_error_rate * 100.0
            ));
        }
        for (label, stats) in self.labels() {
            if let Some(p95) = stats
                .percentile(95.0)
                .filter(|p95| *p95 > thresholds.max_p95)
            {
                failures.push(format!(
                    "p95 of {label} {} > {}",
                    show(p95),
                    show(thresholds.max_p95)
                ));
            }
        }
        for (n, instance) in self.instances.iter().enumerate() {
            let growth = instance.rss.1.saturating_sub(instance.rss.0);
            if growth > thresholds.max_memory_growth {
                failures.push(format!(
                    "instance {n}: memory grew {:.1} MiB > {:.1} MiB",
                    growth as f64 / (1 << 20) as f64,
                    thresholds.max_memory_growth as f64 / (1 << 20) as f64
                ));
            }
            let cpu = cpu_share(instance);
            if cpu > thresholds.max_cpu {
                failures.push(format!(
                    "instance {n}: CPU {:.0}% > {:.0}% of one core",
                    cpu * 100.0,
                    thresholds.max_cpu * 100.0
                ));
            }
            if let Some(stopped) = &instance.stopped {
                failures.push(format!("instance {n} stopped {stopped}"));
            }
        }
        failures
    }

    /// Everything, as JSON for the results directory.
    pub fn to_json(&self, target: &TargetSpec) -> Value {
        let labels: serde_json::Map<String, Value> = self
            .labels()
            .into_iter()
            .map(|(label, stats)| {
                let ms = |p: f64| stats.percentile(p).map(|d| d.as_secs_f64() * 1e3);
                (
                    label,
                    json!({
                        "requests": stats.requests,
                        "errors": stats.errors,
                        "tool_errors": stats.tool_errors,
                        "p50_ms": ms(50.0),
                        "p95_ms": ms(95.0),
                        "p99_ms": ms(99.0),
                        "max_ms": ms(100.0),
                    }),
                )
            })
            .collect();
        let failures = self.failures();
        json!({
            "kind": "load",
            "status": if failures.is_empty() { "PASS" } else { "FAIL" },
            "failures": failures,
            "target": target,
            "tools": self.tools,
            "concurrency": self.concurrency,
            "requests": self.requests(),
            "errors": self.errors(),
            "elapsed_secs": self.elapsed().as_secs_f64(),
            "labels": labels,
            "instances": self.instances.iter().map(|instance| json!({
                "rss_start": instance.rss.0,
                "rss_end": instance.rss.1,
                "cpu_secs": instance.cpu.as_secs_f64(),
                "cpu_share": cpu_share(instance),
                "stopped": instance.stopped,
                "timeline": instance.timeline.iter().map(|point| json!({
                    "t": (point.t * 1e3).round() / 1e3,
                    "requests": point.requests,
                    "p50_ms": point.p50.as_secs_f64() * 1e3,
                    "p95_ms": point.p95.as_secs_f64() * 1e3,
                    "rss_bytes": point.rss_bytes,
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })
    }
}

fn cpu_share(instance: &Instance) -> f64 {
    instance.cpu.as_secs_f64() / instance.elapsed.as_secs_f64().max(1e-9)
}

fn show(duration: Duration) -> String {
    if duration >= Duration::from_secs(1) {
        format!("{:.2} s", duration.as_secs_f64())
    } else {
        format!("{:.1} ms", duration.as_secs_f64() * 1e3)
    }
}

/// Runs a load test of `spec`: `options.instances` targets, each in its own canary cell
/// and thread, each kept `options.concurrency` requests deep for `options.duration`.
pub fn load(
    spec: &TargetSpec,
    sandbox: &Sandbox,
    protections: Protections,
    options: &Options,
) -> Result<Report, SoakError> {
    let mut sessions = Vec::new();
    for _ in 0..options.instances.max(1) {
        sessions.push(
            Session::start_in_sandbox(spec, sandbox, protections, false)
                .map_err(SoakError::Start)?,
        );
    }
    let catalog = sessions[0].catalog().clone();
    let tools = soak::chosen_tools(&catalog, options.tool.as_deref())?;
    let pgids: Vec<i32> = sessions.iter().map(|s| s.pid() as i32).collect();
    let answered = AtomicU64::new(0);
    let started = Instant::now();
    let mut progress = Progress::new(options.status);
    let instances = std::thread::scope(|scope| {
        let handles: Vec<_> = sessions
            .into_iter()
            .map(|session| {
                let (catalog, tools, answered) = (&catalog, &tools, &answered);
                scope.spawn(move || drive(session, catalog, tools, options, answered))
            })
            .collect();
        while !handles.iter().all(|handle| handle.is_finished()) {
            std::thread::sleep(Duration::from_millis(50));
            if progress.due() {
                let requests = answered.load(Ordering::Relaxed);
                let rss: u64 = pgids.iter().map(|&g| group_usage(g).rss_bytes).sum();
                progress.tick(|| {
                    format!(
                        "mcpfuzz load: {:.0}s/{:.0}s {requests} requests {:.0} req/s target rss {:.1} MiB",
                        started.elapsed().as_secs_f64(),
                        options.duration.as_secs_f64(),
                        requests as f64 / started.elapsed().as_secs_f64().max(1e-3),
                        rss as f64 / (1 << 20) as f64
                    )
                });
            }
        }
        progress.finish();
        handles
            .into_iter()
            .map(|handle| handle.join().unwrap_or_default())
            .collect()
    });
    Ok(Report {
        tools: tools
            .iter()
            .map(|&i| catalog.tools[i].name.clone())
            .collect(),
        concurrency: options.concurrency,
        instances,
        thresholds: options.thresholds,
    })
}

/// Keeps one target busy: rounds of `concurrency` calls sent back to back, then the
/// barrier; every reply's latency is kept by its label.
fn drive(
    mut session: Session,
    catalog: &crate::Catalog,
    tools: &[usize],
    options: &Options,
    answered_total: &AtomicU64,
) -> Instance {
    let pgid = session.pid() as i32;
    let before = group_usage(pgid);
    let mut instance = Instance::default();
    let mut materializer = Materializer::new();
    let started = Instant::now();
    let mut sent = 0u64;
    let point_every = options.duration / TIMELINE_POINTS;
    let mut interval: Vec<Duration> = Vec::new();
    let mut interval_started = started;
    while started.elapsed() < options.duration {
        let concurrency = options.concurrency.max(1) as u64;
        let items = soak::workload(&mut materializer, catalog, tools, sent, concurrency);
        sent += concurrency;
        let report = session.run(&items);
        for timing in &report.timings {
            let stats = instance.labels.entry(timing.label.clone()).or_default();
            stats.requests += 1;
            stats.latencies.push(timing.latency);
            match timing.outcome {
                Outcome::Result => {}
                Outcome::ToolError => stats.tool_errors += 1,
                _ => stats.errors += 1,
            }
        }
        let answered = report.timings.len() as u64;
        answered_total.fetch_add(answered, Ordering::Relaxed);
        interval.extend(report.timings.iter().map(|timing| timing.latency));
        if interval_started.elapsed() >= point_every {
            instance.timeline.push(Point {
                t: started.elapsed().as_secs_f64(),
                requests: interval.len() as u64,
                p50: percentile(&interval, 50.0).unwrap_or_default(),
                p95: percentile(&interval, 95.0).unwrap_or_default(),
                rss_bytes: group_usage(pgid).rss_bytes,
            });
            interval.clear();
            interval_started = Instant::now();
        }
        if answered < concurrency {
            // No reply at all (the target hung or died) counts against the tool.
            let stats = instance.labels.entry("(no reply)".into()).or_default();
            stats.requests += concurrency - answered;
            stats.errors += concurrency - answered;
        }
        if !report.alive {
            instance.stopped = Some(format!(
                "after {sent} requests: {}",
                report
                    .findings
                    .first()
                    .map_or("the target stopped", |finding| finding.summary.as_str())
            ));
            break;
        }
    }
    instance.elapsed = started.elapsed();
    let after = group_usage(pgid);
    instance.rss = (before.rss_bytes, after.rss_bytes);
    instance.cpu = after.cpu.saturating_sub(before.cpu);
    if instance.stopped.is_none() {
        session.finish();
    }
    instance
}

/// The report for people: a summary line, a table per method or tool, the targets'
/// memory and CPU, and the status.
pub fn summary(report: &Report, details: Option<&std::path::Path>) -> String {
    let requests = report.requests();
    let elapsed = report.elapsed().as_secs_f64().max(1e-9);
    let mut out = format!(
        "Load test: {} in flight x {} instance{}, {:.1} s: {requests} requests, {:.0} req/s, \
         errors {} ({:.1}%)\n",
        report.concurrency,
        report.instances.len(),
        if report.instances.len() == 1 { "" } else { "s" },
        elapsed,
        requests as f64 / elapsed,
        report.errors(),
        report.errors() as f64 * 100.0 / requests.max(1) as f64
    );
    out += &format!(
        "{:<32} {:>8} {:>7} {:>7} {:>10} {:>10} {:>10} {:>10}\n",
        "method or tool", "requests", "errors", "isError", "p50", "p95", "p99", "max"
    );
    for (label, stats) in report.labels() {
        let cell = |p: f64| stats.percentile(p).map(show).unwrap_or_else(|| "-".into());
        out += &format!(
            "{label:<32} {:>8} {:>7} {:>7} {:>10} {:>10} {:>10} {:>10}\n",
            stats.requests,
            stats.errors,
            stats.tool_errors,
            cell(50.0),
            cell(95.0),
            cell(99.0),
            cell(100.0)
        );
    }
    for (n, instance) in report.instances.iter().enumerate() {
        let mib = |bytes: u64| bytes as f64 / (1 << 20) as f64;
        out += &format!(
            "Target {n}: RSS {:.1} MiB -> {:.1} MiB, CPU {:.0}% of one core\n",
            mib(instance.rss.0),
            mib(instance.rss.1),
            cpu_share(instance) * 100.0
        );
    }
    let failures = report.failures();
    if failures.is_empty() {
        out += "Status: PASS\n";
    } else {
        out += &format!("Status: FAIL ({})\n", failures.join("; "));
    }
    if let Some(details) = details {
        out += &format!("Details: {}\n", details.display());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let values: Vec<Duration> = (1..=100).map(ms).collect();
        assert_eq!(percentile(&values, 50.0), Some(ms(50)));
        assert_eq!(percentile(&values, 95.0), Some(ms(95)));
        assert_eq!(percentile(&values, 99.0), Some(ms(99)));
        assert_eq!(percentile(&values, 100.0), Some(ms(100)));
        assert_eq!(percentile(&[ms(7)], 95.0), Some(ms(7)));
        assert_eq!(percentile(&[], 50.0), None);
    }

    fn report(latencies: Vec<Duration>, errors: u64, rss: (u64, u64), cpu: u64) -> Report {
        let mut labels = BTreeMap::new();
        labels.insert(
            "tools/call:echo".to_string(),
            LabelStats {
                requests: latencies.len() as u64,
                errors,
                tool_errors: 0,
                latencies,
            },
        );
        Report {
            tools: vec!["echo".into()],
            concurrency: 4,
            instances: vec![Instance {
                labels,
                rss,
                cpu: ms(cpu),
                elapsed: ms(1000),
                stopped: None,
                timeline: Vec::new(),
            }],
            thresholds: Thresholds::default(),
        }
    }

    #[test]
    fn each_threshold_fails_the_test() {
        let fine = report(vec![ms(5); 100], 0, (10 << 20, 11 << 20), 200);
        assert_eq!(fine.failures(), Vec::<String>::new());
        let errors = report(vec![ms(5); 100], 6, (10 << 20, 11 << 20), 200);
        assert_eq!(errors.failures(), vec!["error rate 6.0% > 5.0%"]);
        let slow = report(vec![ms(1500); 100], 0, (10 << 20, 11 << 20), 200);
        assert_eq!(
            slow.failures(),
            vec!["p95 of tools/call:echo 1.50 s > 1.00 s"]
        );
        let growing = report(vec![ms(5); 100], 0, (10 << 20, 70 << 20), 200);
        assert_eq!(
            growing.failures(),
            vec!["instance 0: memory grew 60.0 MiB > 50.0 MiB"]
        );
        let busy = report(vec![ms(5); 100], 0, (10 << 20, 11 << 20), 900);
        assert_eq!(
            busy.failures(),
            vec!["instance 0: CPU 90% > 80% of one core"]
        );
    }

    #[test]
    fn the_summary_has_a_row_per_label_and_the_status() {
        let text = summary(
            &report(vec![ms(5); 100], 0, (10 << 20, 11 << 20), 200),
            None,
        );
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("Load test: 4 in flight x 1 instance, 1.0 s: 100 requests"));
        assert!(lines[2].starts_with("tools/call:echo") && lines[2].contains("5.0 ms"));
        assert_eq!(
            lines[3],
            "Target 0: RSS 10.0 MiB -> 11.0 MiB, CPU 20% of one core"
        );
        assert_eq!(lines[4], "Status: PASS");
    }
}
