//! What an oracle reports: a [`Finding`] with a kind, a stable signature and evidence.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The family of a finding; it names the reproducer file (`crashes/<kind>-<hash>.json`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Kind {
    /// The target exited or was killed by a signal.
    Crash,
    /// A request got no reply within its deadline.
    Hang,
    /// The target broke JSON-RPC 2.0 or the MCP specification.
    Protocol,
    /// The target answered a request with an internal error or a stack trace.
    Error,
    /// A payload provably executed inside the target.
    Injection,
    /// A resource (memory, descriptors, threads) grew without bound.
    Leak,
    /// A script burned more CPU than its limit before it was answered.
    Cpu,
}

impl Kind {
    /// The lowercase name used in file names, signatures and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Crash => "crash",
            Kind::Hang => "hang",
            Kind::Protocol => "protocol",
            Kind::Error => "error",
            Kind::Injection => "injection",
            Kind::Leak => "leak",
            Kind::Cpu => "cpu",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How much a finding matters; users filter on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing, not a defect on its own (for example reflected markup).
    Info,
    /// A deviation the official SDKs themselves commit, or a handled internal error.
    Low,
    /// A real defect with limited impact.
    Medium,
    /// A defect that breaks the session for every client (crash, hang).
    High,
    /// Proven code execution or data access outside the sandbox.
    Critical,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        };
        f.write_str(name)
    }
}

/// One thing an oracle saw.
///
/// `signature` is what deduplication and confirmation compare: it names the rule and the
/// place (method or tool, crash location), never a payload or a timing, so the same bug
/// found twice, or replayed in a fresh process, has the same signature.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The oracle family.
    pub kind: Kind,
    /// Stable identity of the bug, for example `protocol/id-type-changed/tools/call:echo`.
    pub signature: String,
    /// How much it matters.
    pub severity: Severity,
    /// One line a person reads first.
    pub summary: String,
    /// What was observed, as JSON (replies quoted, exit status, stderr tail, timings).
    pub evidence: serde_json::Value,
}

impl Finding {
    /// A finding whose signature is `<kind>/<rest>`.
    pub fn new(
        kind: Kind,
        signature_rest: impl fmt::Display,
        severity: Severity,
        summary: impl Into<String>,
        evidence: serde_json::Value,
    ) -> Finding {
        Finding {
            kind,
            signature: format!("{}/{}", kind.as_str(), signature_rest),
            severity,
            summary: summary.into(),
            evidence,
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}] {}", self.kind, self.severity, self.summary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_prefixed_by_kind() {
        let finding = Finding::new(
            Kind::Hang,
            "idle/tools/call:sleep",
            Severity::High,
            "no reply",
            serde_json::json!({}),
        );
        assert_eq!(finding.signature, "hang/idle/tools/call:sleep");
        assert_eq!(
            serde_json::to_value(finding.kind).unwrap(),
            serde_json::json!("hang")
        );
    }
}
