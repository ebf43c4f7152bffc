//! What counts as a finding.
//!
//! - [`Tracker`] follows one target child: it is fed every line sent and every line the
//!   target printed, knows which replies are owed, and reports protocol violations
//!   (`protocol/...`) and internal errors (`error/...`) as they happen.
//! - [`Injection`] follows the payloads sent to one child and reports those that provably
//!   executed (`injection/...`).
//! - [`crash_finding`] and [`hang_finding`] turn what the session observed about the
//!   child (an exit status, a missed deadline) into findings.
//!
//! Rules come from JSON-RPC 2.0 and the MCP specification only, never from knowledge of
//! a particular server. Deviations the official SDKs commit themselves are
//! [`Severity::Low`](crate::Severity::Low) so users can filter them out.

mod errors;
mod ids;
mod injection;
mod liveness;
mod protocol;
pub mod resources;
mod shapes;
mod traces;
mod tracker;

pub use injection::Injection;
pub use liveness::{
    crash_finding, crash_location, hang_finding, is_healthy_exit, CrashContext, CrashLocation,
    ExitStatus,
};
pub use tracker::{Message, Pending, Received, Reply, Tracker};

/// The JSON-RPC error class of an error code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// -32700.
    ParseError,
    /// -32600.
    InvalidRequest,
    /// -32601.
    MethodNotFound,
    /// -32602.
    InvalidParams,
    /// -32603.
    Internal,
    /// -32099 to -32000, the range JSON-RPC leaves to implementations (MCP uses it too).
    ServerDefined,
    /// Any other code, or none.
    Other,
}

impl ErrorClass {
    /// The class of `code`; `None` (a missing or non-integer code) is [`ErrorClass::Other`].
    pub fn of(code: Option<i64>) -> ErrorClass {
        match code {
            Some(-32700) => ErrorClass::ParseError,
            Some(-32600) => ErrorClass::InvalidRequest,
            Some(-32601) => ErrorClass::MethodNotFound,
            Some(-32602) => ErrorClass::InvalidParams,
            Some(-32603) => ErrorClass::Internal,
            Some(-32099..=-32000) => ErrorClass::ServerDefined,
            _ => ErrorClass::Other,
        }
    }
}

/// How one request was answered, for feedback counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// A `result`.
    Result,
    /// A `tools/call` result with `isError: true`.
    ToolError,
    /// An `error`.
    Error(ErrorClass),
    /// Both `result` and `error`, or neither.
    Malformed,
    /// No reply before the deadline. The tracker never produces it; the session does.
    NoReply,
}

impl Outcome {
    /// A stable small integer (0 to 10) for hashing into counters.
    pub fn index(self) -> u8 {
        match self {
            Outcome::Result => 0,
            Outcome::ToolError => 1,
            Outcome::Malformed => 2,
            Outcome::NoReply => 3,
            Outcome::Error(class) => {
                4 + match class {
                    ErrorClass::ParseError => 0,
                    ErrorClass::InvalidRequest => 1,
                    ErrorClass::MethodNotFound => 2,
                    ErrorClass::InvalidParams => 3,
                    ErrorClass::Internal => 4,
                    ErrorClass::ServerDefined => 5,
                    ErrorClass::Other => 6,
                }
            }
        }
    }
}

/// The finding for a line the target printed that was too long to read (`len` bytes, of
/// which `prefix` was kept): `protocol/overlong-line/<label>`, Low. It is not a JSON-RPC
/// violation, but a message that size usually echoes or amplifies input without bound, and
/// clients cap line length. [`Tracker::on_overlong`] calls it; `label` is what the line
/// answered, or the last label sent.
pub fn overlong_line_finding(prefix: &[u8], len: usize, label: Option<&str>) -> crate::Finding {
    let label = label.unwrap_or("-");
    protocol::finding(
        "overlong-line",
        label,
        crate::Severity::Low,
        format!("the target printed a {len}-byte line (after {label})"),
        prefix,
        None,
    )
}

/// The most bytes of one line quoted in evidence.
const EVIDENCE_LINE_BYTES: usize = 2048;

/// A line for evidence: lossy UTF-8 without its line ending, cut at
/// [`EVIDENCE_LINE_BYTES`] with a note saying how much was left out.
fn quote(line: &[u8]) -> serde_json::Value {
    quote_limited(line, EVIDENCE_LINE_BYTES)
}

fn quote_limited(line: &[u8], limit: usize) -> serde_json::Value {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.len() <= limit {
        return String::from_utf8_lossy(line).into_owned().into();
    }
    let mut text = String::from_utf8_lossy(&line[..limit]).into_owned();
    // A cut through a multi-byte character leaves one replacement character; harmless.
    text.push_str(&format!("... ({} more bytes)", line.len() - limit));
    text.into()
}

/// The last `limit` bytes of `text`, on a character boundary.
fn tail(text: &str, limit: usize) -> &str {
    if text.len() <= limit {
        return text;
    }
    let mut start = text.len() - limit;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

/// Runs a script through a fresh [`Tracker`] and returns every finding's signature and
/// severity. Steps: `> line` is sent, `< line` is received, `end` ends the script, `eof`
/// is the end of the target's output.
#[cfg(test)]
fn findings_of(script: &[&str]) -> Vec<(String, crate::Severity)> {
    let mut tracker = Tracker::new();
    run_script(&mut tracker, script)
}

#[cfg(test)]
fn run_script(tracker: &mut Tracker, script: &[&str]) -> Vec<(String, crate::Severity)> {
    let at = std::time::Instant::now();
    let mut findings = Vec::new();
    for step in script {
        if let Some(line) = step.strip_prefix("> ") {
            tracker.on_sent(format!("{line}\n").as_bytes(), at);
        } else if let Some(line) = step.strip_prefix("< ") {
            findings.extend(
                tracker
                    .on_received(format!("{line}\n").as_bytes(), at)
                    .findings,
            );
        } else if *step == "end" {
            findings.extend(tracker.end_of_script());
        } else if *step == "eof" {
            findings.extend(tracker.end_of_input());
        } else {
            panic!("a script step starts with `> `, `< ` or is `end` or `eof`: {step:?}");
        }
    }
    findings
        .into_iter()
        .map(|finding| (finding.signature, finding.severity))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_indices_are_distinct_and_small() {
        let classes = [
            ErrorClass::ParseError,
            ErrorClass::InvalidRequest,
            ErrorClass::MethodNotFound,
            ErrorClass::InvalidParams,
            ErrorClass::Internal,
            ErrorClass::ServerDefined,
            ErrorClass::Other,
        ];
        let mut outcomes = vec![
            Outcome::Result,
            Outcome::ToolError,
            Outcome::Malformed,
            Outcome::NoReply,
        ];
        outcomes.extend(classes.iter().map(|class| Outcome::Error(*class)));
        let mut indices: Vec<u8> = outcomes.iter().map(|outcome| outcome.index()).collect();
        indices.sort();
        assert_eq!(indices, (0..=10).collect::<Vec<u8>>());
    }

    #[test]
    fn error_classes_follow_json_rpc() {
        assert_eq!(ErrorClass::of(Some(-32700)), ErrorClass::ParseError);
        assert_eq!(ErrorClass::of(Some(-32002)), ErrorClass::ServerDefined);
        assert_eq!(ErrorClass::of(Some(-32100)), ErrorClass::Other);
        assert_eq!(ErrorClass::of(Some(0)), ErrorClass::Other);
        assert_eq!(ErrorClass::of(None), ErrorClass::Other);
    }

    #[test]
    fn quotes_are_cut_and_tails_keep_char_boundaries() {
        assert_eq!(quote(b"{\"a\":1}\r\n"), serde_json::json!("{\"a\":1}"));
        assert_eq!(
            quote_limited(b"abcdef\n", 4),
            serde_json::json!("abcd... (2 more bytes)")
        );
        assert_eq!(tail("a\u{e9}b", 2), "b");
        assert_eq!(tail("abc", 10), "abc");
    }
}
