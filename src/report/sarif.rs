//! SARIF 2.1.0, shaped for GitHub code scanning: one rule per finding kind, one result
//! per finding, located at its reproducer file (the one thing in the repository that a
//! finding of a running server can point at), with the signature as fingerprint.

use super::{replay_command, Collection};
use crate::finding::{Kind, Severity};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// What each kind of finding means, for the rule's descriptions.
fn describe(kind: Kind) -> (&'static str, &'static str, &'static str) {
    match kind {
        Kind::Crash => (
            "ServerCrash",
            "The MCP server exited or was killed by a signal.",
            "A message sent over stdio made the server process exit (or die by a signal) while a client was connected; every client of the server loses its session.",
        ),
        Kind::Hang => (
            "ServerHang",
            "A request got no reply within its deadline.",
            "The server stopped answering: a request (or the ping after it) got no reply in time, so the client blocks.",
        ),
        Kind::Protocol => (
            "ProtocolViolation",
            "The server broke JSON-RPC 2.0 or the MCP specification.",
            "A reply was malformed, had the wrong id, answered a notification, or otherwise broke the JSON-RPC 2.0 / MCP rules that clients rely on.",
        ),
        Kind::Error => (
            "InternalError",
            "A request was answered with an internal error or a stack trace.",
            "The server answered with an internal error or leaked a stack trace, which tells an attacker about its internals and usually marks unhandled input.",
        ),
        Kind::Injection => (
            "Injection",
            "A payload provably executed inside the server.",
            "A tool argument reached a shell, a command line, a template, a database query or a file path unsanitized: mcpfuzz saw proof (a computed value, a canary read from outside the sandbox, or a marker file written).",
        ),
        Kind::Leak => (
            "ResourceLeak",
            "Memory, descriptors, threads or processes grew without bound.",
            "A resource of the server kept growing across successive windows of requests past the warm-up; a long-lived server runs out of it.",
        ),
        Kind::Cpu => (
            "CpuExhaustion",
            "A request burned more CPU than its limit before it was answered.",
            "One request consumed more CPU time than the limit before the reply (algorithmic complexity, catastrophic backtracking): a cheap denial of service.",
        ),
    }
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub's `security-severity` scale: 9.0 and up critical, 7.0 high, 4.0 medium.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "7.5",
        Severity::Medium => "5.0",
        Severity::Low => "2.5",
        Severity::Info => "0.0",
    }
}

fn rule_id(kind: Kind) -> String {
    format!("mcpfuzz/{kind}")
}

/// The artifact URI of a reproducer: relative to the current directory (the repository
/// root, in CI) when it is under it, else a `file://` URI.
fn artifact_uri(path: &Path) -> String {
    let relative = std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf());
    let text = relative.display().to_string();
    let encoded: String = text
        .chars()
        .map(|c| match c {
            ' ' => "%20".to_string(),
            '%' => "%25".to_string(),
            '#' => "%23".to_string(),
            '?' => "%3F".to_string(),
            c => c.to_string(),
        })
        .collect();
    if relative.is_absolute() {
        format!("file://{encoded}")
    } else {
        encoded.trim_start_matches("./").to_string()
    }
}

pub(super) fn render(collection: &Collection) -> String {
    // One rule per kind present, rated by its most severe finding.
    let mut worst: BTreeMap<Kind, Severity> = BTreeMap::new();
    for entry in &collection.findings {
        let finding = &entry.reproducer.finding;
        let slot = worst.entry(finding.kind).or_insert(finding.severity);
        *slot = (*slot).max(finding.severity);
    }
    let kinds: Vec<Kind> = worst.keys().copied().collect();
    let rules: Vec<Value> = worst
        .iter()
        .map(|(&kind, &severity)| {
            let (name, short, full) = describe(kind);
            json!({
                "id": rule_id(kind),
                "name": name,
                "shortDescription": {"text": short},
                "fullDescription": {"text": full},
                "help": {
                    "text": format!("{full} Each result names a reproducer file; `mcpfuzz replay FILE` runs it against the server again."),
                },
                "defaultConfiguration": {"level": level(severity)},
                "properties": {
                    "tags": ["security", "mcp", kind.as_str()],
                    "security-severity": security_severity(severity),
                },
            })
        })
        .collect();
    let results: Vec<Value> = collection
        .findings
        .iter()
        .map(|entry| {
            let repro = &entry.reproducer;
            let finding = &repro.finding;
            json!({
                "ruleId": rule_id(finding.kind),
                "ruleIndex": kinds.iter().position(|&k| k == finding.kind),
                "level": level(finding.severity),
                "message": {
                    "text": format!(
                        "{} (signature {}; replay: {})",
                        finding.summary,
                        finding.signature,
                        replay_command(&entry.path)
                    ),
                },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": artifact_uri(&entry.path)},
                        "region": {"startLine": 1},
                    },
                    "logicalLocations": [{
                        "name": finding.signature,
                        "kind": "function",
                    }],
                }],
                "partialFingerprints": {
                    "mcpfuzzSignature/v1": crate::repro::short_hash(&finding.signature),
                },
                "properties": {
                    "signature": finding.signature,
                    "severity": finding.severity,
                    "target": repro.target.command_line(),
                    "evidence": finding.evidence,
                },
            })
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "mcpfuzz",
                    "version": env!("CARGO_PKG_VERSION"),
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                },
            },
            "results": results,
            "columnKind": "unicodeCodePoints",
        }],
    });
    let mut text = serde_json::to_string_pretty(&log).expect("JSON values serialize");
    text.push('\n');
    text
}
