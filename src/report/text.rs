//! The text report: what matters first, one block per finding, the details' paths last.

use super::{duration, mib, replay_command, Collection, Run};
use std::fmt::Write;

pub(super) fn render(collection: &Collection) -> String {
    let mut out = String::new();
    let findings = collection.findings.len();
    let _ = writeln!(
        out,
        "mcpfuzz report: {findings} finding{} ({})",
        if findings == 1 { "" } else { "s" },
        collection.severity_counts()
    );
    if findings > 0 {
        let _ = writeln!(out, "  by kind: {}", collection.kind_counts());
    }
    if !collection.runs.is_empty() {
        let executions: u64 = collection.runs.iter().map(Run::executions).sum();
        let secs: f64 = collection.runs.iter().map(Run::duration).sum();
        let peak = collection.runs.iter().filter_map(Run::peak_rss).max();
        let _ = writeln!(
            out,
            "  fuzzing: {} run{}, {executions} inputs in {} ({:.0} exec/s){}",
            collection.runs.len(),
            if collection.runs.len() == 1 { "" } else { "s" },
            duration(secs),
            executions as f64 / secs.max(1e-3),
            peak.map(|p| format!(", peak target RSS {}", mib(p)))
                .unwrap_or_default()
        );
    }
    for results in &collection.results {
        let value = &results.value;
        let status = value["status"].as_str().unwrap_or("?");
        let detail = match results.kind() {
            "load" => {
                let failures: Vec<&str> = value["failures"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|f| f.as_str())
                    .collect();
                format!(
                    "{} requests in {}{}",
                    value["requests"],
                    duration(value["elapsed_secs"].as_f64().unwrap_or(0.0)),
                    if failures.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", failures.join("; "))
                    }
                )
            }
            _ => {
                let leaks: Vec<&str> = value["resources"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(_, series)| series["leak"] == true)
                    .map(|(name, _)| name.as_str())
                    .collect();
                let mut detail = format!("{} requests", value["requests"]);
                if !leaks.is_empty() {
                    let _ = write!(detail, ": growing {}", leaks.join(", "));
                }
                if let Some(stopped) = value["stopped"].as_str() {
                    let _ = write!(detail, ": stopped {stopped}");
                }
                detail
            }
        };
        let _ = writeln!(out, "  {} {status}: {detail}", results.kind());
    }
    for entry in &collection.findings {
        let repro = &entry.reproducer;
        let finding = &repro.finding;
        let _ = writeln!(
            out,
            "\n{:<8}  {:<9}  {}",
            finding.severity.to_string().to_uppercase(),
            finding.kind,
            finding.signature
        );
        let _ = writeln!(out, "  {}", finding.summary);
        let found = &repro.found;
        let mut how = Vec::new();
        if found.unix_time > 0 {
            how.push(format!(
                "found after {} ({} inputs)",
                duration(found.elapsed_secs),
                found.executions
            ));
        }
        how.push(format!(
            "{} item{}{}",
            repro.transcript.len(),
            if repro.transcript.len() == 1 { "" } else { "s" },
            if repro.repeat > 1 {
                format!(" x {}", repro.repeat)
            } else {
                String::new()
            }
        ));
        how.push(format!("replay: {}", replay_command(&entry.path)));
        let _ = writeln!(out, "  {}", how.join("; "));
    }
    if !collection.skipped.is_empty() {
        let _ = writeln!(out);
        for (path, why) in &collection.skipped {
            let _ = writeln!(out, "skipped {}: {why}", path.display());
        }
    }
    let mut details: Vec<String> = collection
        .sources
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    details.extend(collection.runs.iter().map(|r| r.path.display().to_string()));
    details.extend(
        collection
            .results
            .iter()
            .map(|r| r.path.display().to_string()),
    );
    details.dedup();
    let _ = writeln!(out, "\nDetails: {}", details.join(", "));
    out
}
