//! JUnit XML for CI systems: one failing test case per finding signature, whose failure
//! carries the summary, the evidence and the replay command; one test case per fuzzing
//! run, soak and load, failing when the soak or load did.

use super::{duration, replay_command, Collection};
use std::fmt::Write;

/// `text` with the five XML special characters escaped, and the characters XML 1.0
/// cannot hold at all (most control characters) written as `\u{..}`.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

struct Case {
    classname: String,
    name: String,
    time: f64,
    failure: Option<(String, String, String)>,
}

pub(super) fn render(collection: &Collection) -> String {
    let mut cases = Vec::new();
    for entry in &collection.findings {
        let repro = &entry.reproducer;
        let finding = &repro.finding;
        let body = format!(
            "{}\n\nseverity: {}\ntarget: {}\nreproducer: {}\nreplay: {}\n\nevidence:\n{}\n",
            finding.summary,
            finding.severity,
            repro.target.command_line(),
            entry.path.display(),
            replay_command(&entry.path),
            serde_json::to_string_pretty(&finding.evidence).unwrap_or_default()
        );
        cases.push(Case {
            classname: format!("mcpfuzz.{}", finding.kind),
            name: finding.signature.clone(),
            time: 0.0,
            failure: Some((finding.summary.clone(), finding.severity.to_string(), body)),
        });
    }
    for run in &collection.runs {
        cases.push(Case {
            classname: "mcpfuzz.run".into(),
            name: format!(
                "fuzz {}: {} inputs in {}",
                run.target(),
                run.executions(),
                duration(run.duration())
            ),
            time: run.duration(),
            failure: None,
        });
    }
    for results in &collection.results {
        let value = &results.value;
        let failed = !results.passed();
        let failures: Vec<String> = value["failures"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f.as_str().map(str::to_owned))
            .chain(value["stopped"].as_str().map(|s| format!("stopped {s}")))
            .collect();
        cases.push(Case {
            classname: format!("mcpfuzz.{}", results.kind()),
            name: format!(
                "{} {}",
                results.kind(),
                super::command_line(&value["target"])
            ),
            time: value["elapsed_secs"].as_f64().unwrap_or(0.0),
            failure: failed.then(|| {
                let message = if failures.is_empty() {
                    "a resource kept growing".to_string()
                } else {
                    failures.join("; ")
                };
                (
                    message,
                    "FAIL".into(),
                    serde_json::to_string_pretty(value).unwrap_or_default(),
                )
            }),
        });
    }
    let failures = cases.iter().filter(|case| case.failure.is_some()).count();
    let time: f64 = cases.iter().map(|case| case.time).sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"mcpfuzz\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" time=\"{time:.3}\">",
        cases.len()
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"mcpfuzz\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\" time=\"{time:.3}\">",
        cases.len()
    );
    for case in &cases {
        let _ = write!(
            out,
            "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
            escape(&case.classname),
            escape(&case.name),
            case.time
        );
        match &case.failure {
            None => out.push_str("/>\n"),
            Some((message, kind, body)) => {
                let _ = writeln!(
                    out,
                    ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>",
                    escape(message),
                    escape(kind),
                    escape(body)
                );
            }
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}
