//! Soak tests: a long, valid workload against one target process, with its memory,
//! descriptors, threads and processes sampled on the way and judged by the warm-up-aware
//! trend test of [`crate::oracle::resources`].
//!
//! The workload is schema-generated `tools/call`s of every tool (or one), each with
//! arguments no earlier call had, so a server that keeps something per distinct request
//! shows it.

use crate::catalog::Catalog;
use crate::config::TargetSpec;
use crate::grammar::args::{ArgsPlan, FieldPlan};
use crate::grammar::envelope::Envelope;
use crate::grammar::methods::{CallTool, ToolName};
use crate::grammar::{Materializer, Mostly, Script, Step};
use crate::oracle::resources::{self, Resource, Sample, Verdict};
use crate::sandbox::Sandbox;
use crate::session::{Session, StartError};
use crate::target::{group_usage, Protections, Usage};
use crate::transcript::{Frame, Item};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Instant;

/// How a soak test runs.
#[derive(Clone, Debug)]
pub struct Options {
    /// Requests to send.
    pub requests: u64,
    /// Only this tool, by name.
    pub tool: Option<String>,
    /// Requests sent per script (before each barrier ping), at most
    /// [`MAX_STEPS`](crate::grammar::MAX_STEPS).
    pub per_script: usize,
    /// How many times the resources are sampled over the run (plus once before).
    pub samples: u64,
    /// How the live status line is shown.
    pub status: crate::progress::Mode,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            requests: 2000,
            tool: None,
            per_script: 10,
            samples: 20,
            status: crate::progress::Mode::Quiet,
        }
    }
}

/// One resource's series and what the trend test made of it.
#[derive(Clone, Debug)]
pub struct Series {
    /// The samples, in order.
    pub samples: Vec<Sample>,
    /// The verdict.
    pub verdict: Verdict,
}

/// What a soak test saw.
#[derive(Clone, Debug)]
pub struct Report {
    /// The tools called.
    pub tools: Vec<String>,
    /// Requests sent.
    pub requests: u64,
    /// Seconds the workload took.
    pub elapsed_secs: f64,
    /// Per resource: samples and verdict.
    pub series: BTreeMap<Resource, Series>,
    /// Why the run ended early (the target died or hung), if it did.
    pub stopped: Option<String>,
}

impl Report {
    /// Whether nothing leaked and the target lasted the whole run.
    pub fn passed(&self) -> bool {
        self.stopped.is_none() && !self.series.values().any(|s| s.verdict.is_leak())
    }

    /// Everything, as JSON for the results directory.
    pub fn to_json(&self, target: &TargetSpec) -> Value {
        let series: serde_json::Map<String, Value> = self
            .series
            .iter()
            .map(|(resource, series)| {
                (
                    resource.as_str().to_owned(),
                    json!({
                        "verdict": format!("{:?}", series.verdict),
                        "leak": series.verdict.is_leak(),
                        "samples": resources::curve(&series.samples),
                    }),
                )
            })
            .collect();
        json!({
            "kind": "soak",
            "status": if self.passed() { "PASS" } else { "FAIL" },
            "target": target,
            "tools": self.tools,
            "requests": self.requests,
            "elapsed_secs": self.elapsed_secs,
            "stopped": self.stopped,
            "resources": series,
        })
    }
}

/// Why a soak test could not run.
#[derive(Debug)]
pub enum SoakError {
    /// The target did not start or finish its handshake.
    Start(StartError),
    /// `--tool` names no listed tool, or the target lists none.
    NoTool(String),
}

impl std::fmt::Display for SoakError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SoakError::Start(error) => write!(f, "{error}"),
            SoakError::NoTool(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for SoakError {}

/// Runs a soak test of `spec` in a fresh sandbox cell.
pub fn soak(
    spec: &TargetSpec,
    sandbox: &Sandbox,
    protections: Protections,
    options: &Options,
) -> Result<Report, SoakError> {
    let mut session =
        Session::start_in_sandbox(spec, sandbox, protections, false).map_err(SoakError::Start)?;
    let catalog = session.catalog().clone();
    let tools = chosen_tools(&catalog, options.tool.as_deref())?;
    let pgid = session.pid() as i32;
    let every = (options.requests / options.samples.max(1)).max(1);
    let mut taken: Vec<(u64, Usage)> = vec![(0, group_usage(pgid))];
    let mut materializer = Materializer::new();
    let started = Instant::now();
    let mut sent = 0u64;
    let mut stopped = None;
    let mut progress = crate::progress::Progress::new(options.status);
    while sent < options.requests {
        let per_script = options.per_script.clamp(1, crate::grammar::MAX_STEPS) as u64;
        let count = (options.requests - sent).min(per_script);
        let items = workload(&mut materializer, &catalog, &tools, sent, count);
        let report = session.run(&items);
        sent += count;
        if !report.alive {
            let what = report
                .findings
                .first()
                .map_or_else(|| "the target stopped".to_string(), |f| f.summary.clone());
            stopped = Some(format!("after {sent} requests: {what}"));
            break;
        }
        if sent / every != (sent - count) / every || sent == options.requests {
            taken.push((sent, group_usage(pgid)));
        }
        if progress.due() {
            let rss = group_usage(pgid).rss_bytes;
            progress.tick(|| {
                format!(
                    "mcpfuzz soak: {sent}/{} requests {:.0} req/s target rss {:.1} MiB",
                    options.requests,
                    sent as f64 / started.elapsed().as_secs_f64().max(1e-3),
                    rss as f64 / (1 << 20) as f64
                )
            });
        }
    }
    progress.finish();
    let elapsed_secs = started.elapsed().as_secs_f64();
    if stopped.is_none() {
        session.finish();
    }
    let series = Resource::ALL
        .into_iter()
        .map(|resource| {
            let samples = resources::series(resource, &taken);
            let verdict = resources::judge(&samples, &resource.rule());
            (resource, Series { samples, verdict })
        })
        .collect();
    Ok(Report {
        tools: tools
            .iter()
            .map(|&i| catalog.tools[i].name.clone())
            .collect(),
        requests: sent,
        elapsed_secs,
        series,
        stopped,
    })
}

/// The indices of the tools to call: all, or the one named.
pub(crate) fn chosen_tools(catalog: &Catalog, name: Option<&str>) -> Result<Vec<usize>, SoakError> {
    if catalog.tools.is_empty() {
        return Err(SoakError::NoTool(
            "the target lists no tools, so there is nothing to soak".into(),
        ));
    }
    match name {
        None => Ok((0..catalog.tools.len()).collect()),
        Some(name) => match catalog.tools.iter().position(|tool| tool.name == name) {
            Some(index) => Ok(vec![index]),
            None => Err(SoakError::NoTool(format!(
                "the target lists no tool {name:?}; it lists {}",
                catalog
                    .tools
                    .iter()
                    .map(|tool| tool.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        },
    }
}

/// `count` valid calls, the first numbered `first`, round-robin over `tools`; every
/// free-form string argument carries the call's number, so no two calls are alike.
pub(crate) fn workload(
    materializer: &mut Materializer,
    catalog: &Catalog,
    tools: &[usize],
    first: u64,
    count: u64,
) -> Vec<Item> {
    let mut items = Vec::new();
    let mut next = first;
    // One materialization takes at most MAX_STEPS steps.
    while next < first + count {
        let end = (next + crate::grammar::MAX_STEPS as u64).min(first + count);
        let steps = (next..end)
            .map(|n| {
                Step::CallTool(CallTool {
                    tool: tools[(n % tools.len() as u64) as usize] as u8,
                    name: Mostly::usual(ToolName::Unknown),
                    args: ArgsPlan {
                        fields: vec![FieldPlan::Valid(n as u8)],
                        seed: (n >> 8) as u16,
                        ..ArgsPlan::default()
                    },
                    envelope: Envelope::valid(),
                })
            })
            .collect();
        let batch = materializer.materialize(&Script { steps }, catalog);
        items.extend(batch.into_iter().zip(next..).map(|(item, n)| match item {
            Item::Frame(frame) => Item::Frame(distinct(frame, catalog, n)),
            other => other,
        }));
        next = end;
    }
    items
}

/// The call in `frame` with `-n` appended to each top-level string argument whose
/// schema leaves it free (no enum, const, format or pattern, and room under maxLength).
fn distinct(frame: Frame, catalog: &Catalog, n: u64) -> Frame {
    let Ok(mut message) = serde_json::from_slice::<Value>(&frame.0) else {
        return frame;
    };
    let name = message["params"]["name"].as_str().unwrap_or("").to_owned();
    let Some(tool) = catalog.tools.iter().find(|tool| tool.name == name) else {
        return frame;
    };
    let suffix = format!("-{n}");
    let properties = &tool.input_schema["properties"];
    let Some(arguments) = message["params"]["arguments"].as_object_mut() else {
        return frame;
    };
    for (key, value) in arguments.iter_mut() {
        let schema = &properties[key.as_str()];
        let Value::String(text) = value else {
            continue;
        };
        let constrained = ["enum", "const", "format", "pattern"]
            .iter()
            .any(|word| schema.get(word).is_some());
        let room = schema["maxLength"]
            .as_u64()
            .is_none_or(|max| (text.chars().count() + suffix.len()) as u64 <= max);
        if schema["type"] == "string" && !constrained && room {
            text.push_str(&suffix);
        }
    }
    Frame::json_line(&message)
}

/// The report's short form, the way soak scripts print it: per resource its start, end
/// and growth with the verdict, then the status.
pub fn summary(report: &Report, details: Option<&std::path::Path>) -> String {
    let mut out = format!(
        "Soak test: {} requests over {} in {:.1} s\n",
        report.requests,
        match report.tools.as_slice() {
            [one] => format!("tool {one}"),
            tools => format!("{} tools", tools.len()),
        },
        report.elapsed_secs
    );
    for (resource, series) in &report.series {
        out += &resources::describe(*resource, &series.samples, &series.verdict);
        out.push('\n');
    }
    if let Some(stopped) = &report.stopped {
        out += &format!("Stopped early {stopped}\n");
    }
    out += &format!(
        "Status: {}\n",
        if report.passed() { "PASS" } else { "FAIL" }
    );
    if let Some(details) = details {
        out += &format!("Details: {}\n", details.display());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Tool;

    fn catalog() -> Catalog {
        Catalog {
            tools: vec![Tool {
                name: "store".into(),
                input_schema: json!({
                    "type": "object",
                    "properties": {
                        "key": {"type": "string", "maxLength": 64},
                        "mode": {"type": "string", "enum": ["a", "b"]},
                        "tiny": {"type": "string", "maxLength": 2},
                        "n": {"type": "integer"}
                    },
                    "required": ["key", "mode", "tiny", "n"]
                }),
            }],
            ..Catalog::default()
        }
    }

    #[test]
    fn every_call_of_the_workload_is_valid_and_distinct() {
        let catalog = catalog();
        let mut materializer = Materializer::new();
        let items: Vec<Item> = (0..5)
            .flat_map(|script| workload(&mut materializer, &catalog, &[0], script * 10, 10))
            .collect();
        let mut keys = std::collections::HashSet::new();
        for item in &items {
            let frame = item.as_frame().unwrap();
            let message: Value = serde_json::from_slice(&frame.0).unwrap();
            let arguments = &message["params"]["arguments"];
            assert!(["a", "b"].contains(&arguments["mode"].as_str().unwrap()));
            assert!(arguments["tiny"].as_str().unwrap().chars().count() <= 2);
            assert!(arguments["n"].is_i64(), "{arguments}");
            assert!(keys.insert(arguments["key"].as_str().unwrap().to_owned()));
        }
        assert_eq!(keys.len(), 50);
    }

    #[test]
    fn the_summary_has_the_short_form() {
        let samples = |values: &[f64]| -> Vec<Sample> {
            values
                .iter()
                .enumerate()
                .map(|(i, &value)| Sample {
                    requests: i as u64 * 100,
                    value,
                })
                .collect()
        };
        let mut series = BTreeMap::new();
        let leaking: Vec<f64> = (0..12).map(|i| 3.0 + 20.0 * i as f64).collect();
        let leaking = samples(&leaking);
        let verdict = resources::judge(&leaking, &Resource::Descriptors.rule());
        series.insert(
            Resource::Descriptors,
            Series {
                samples: leaking,
                verdict,
            },
        );
        let report = Report {
            tools: vec!["store".into()],
            requests: 1100,
            elapsed_secs: 2.0,
            series,
            stopped: None,
        };
        let text = summary(&report, Some(std::path::Path::new("results/soak-1.json")));
        assert_eq!(
            text,
            "Soak test: 1100 requests over tool store in 2.0 s\n\
             Descriptors: start 3, end 223, growth +220 (+7333%): LEAK, 0.20 per request\n\
             Status: FAIL\n\
             Details: results/soak-1.json\n"
        );
    }
}
