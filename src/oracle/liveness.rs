//! Liveness findings: the target died (`crash/...`) or a request got no reply
//! (`hang/...`). The session detects both; this module names them.
//!
//! A crash signature is the exit status class plus the crash location read from the
//! stderr tail, never the request that triggered it: many inputs reach the same crash,
//! and the location is what stays the same when a reproducer is replayed.

use super::traces::{self, basename};
use crate::{Finding, Kind, Severity};
use serde_json::json;
use std::fmt;
use std::time::Duration;

/// How much of the stderr tail a crash finding keeps as evidence.
const STDERR_EVIDENCE_BYTES: usize = 4096;

/// The longest crash location, in characters.
const MAX_LOCATION_CHARS: usize = 96;

/// How the target process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExitStatus {
    /// It exited with this code.
    Code(i32),
    /// A signal with this number killed it.
    Signal(i32),
}

impl ExitStatus {
    /// The signature class: `exit-1`, `signal-SIGSEGV` (`signal-77` when unnamed).
    pub fn class(self) -> String {
        match self {
            ExitStatus::Code(code) => format!("exit-{code}"),
            ExitStatus::Signal(number) => match signal_name(number) {
                Some(name) => format!("signal-{name}"),
                None => format!("signal-{number}"),
            },
        }
    }
}

fn signal_name(number: i32) -> Option<&'static str> {
    nix::sys::signal::Signal::try_from(number)
        .ok()
        .map(|signal| signal.as_str())
}

impl fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ExitStatus::Code(code) => write!(f, "exit code {code}"),
            ExitStatus::Signal(number) => match signal_name(number) {
                Some(name) => write!(f, "signal {number} ({name})"),
                None => write!(f, "signal {number}"),
            },
        }
    }
}

/// When the target died.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CrashContext {
    /// During `initialize` or discovery, before any script ran.
    DuringHandshake,
    /// While a script's frames were being sent or answered.
    DuringScript,
    /// Waiting for the barrier `ping` that ends every script.
    AtBarrier,
    /// After stdin was closed; a healthy server exits 0 there.
    OnEndOfInput,
}

impl CrashContext {
    /// A kebab-case name for evidence.
    pub fn as_str(self) -> &'static str {
        match self {
            CrashContext::DuringHandshake => "during-handshake",
            CrashContext::DuringScript => "during-script",
            CrashContext::AtBarrier => "at-barrier",
            CrashContext::OnEndOfInput => "on-end-of-input",
        }
    }

    fn phrase(self) -> &'static str {
        match self {
            CrashContext::DuringHandshake => "during the handshake",
            CrashContext::DuringScript => "during the script",
            CrashContext::AtBarrier => "before answering the barrier ping",
            CrashContext::OnEndOfInput => "after stdin was closed",
        }
    }
}

/// Whether this is how a healthy server ends: exit code 0 once stdin is closed. Anything
/// else deserves a [`crash_finding`].
pub fn is_healthy_exit(status: ExitStatus, when: CrashContext) -> bool {
    status == ExitStatus::Code(0) && when == CrashContext::OnEndOfInput
}

/// The finding for a target that died.
///
/// Signature `crash/<status class>/<location>`, the location read by [`crash_location`]
/// (`-` when stderr is empty). High severity; Medium for a clean exit 0 mid-session; Info
/// for a healthy exit, which callers should not report (see [`is_healthy_exit`]).
pub fn crash_finding(
    status: ExitStatus,
    stderr_tail: &str,
    when: CrashContext,
    last_label: Option<&str>,
) -> Finding {
    let location = crash_location(stderr_tail);
    let severity = match status {
        _ if is_healthy_exit(status, when) => Severity::Info,
        ExitStatus::Code(0) => Severity::Medium,
        _ => Severity::High,
    };
    let mut summary = format!("target died with {status}");
    if let Some(location) = &location {
        summary.push_str(&format!(" ({})", location.describe));
    }
    summary.push(' ');
    summary.push_str(when.phrase());
    if let Some(label) = last_label {
        summary.push_str(&format!(", after {label}"));
    }
    let signature = match &location {
        Some(location) => format!("{}/{}", status.class(), location.signature),
        None => format!("{}/-", status.class()),
    };
    Finding::new(
        Kind::Crash,
        signature,
        severity,
        summary,
        json!({
            "status": status.to_string(),
            "context": when.as_str(),
            "last_label": last_label,
            "stderr_tail": super::tail(stderr_tail, STDERR_EVIDENCE_BYTES),
        }),
    )
}

/// Where a crash happened, as read from the stderr tail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrashLocation {
    /// For the signature: `ZeroDivisionError@server.py:42`, `panic@main.rs:10`, or the
    /// normalized last stderr line.
    pub signature: String,
    /// For people: `ZeroDivisionError at server.py:42`.
    pub describe: String,
}

/// Reads the crash location from a stderr tail: the last stack trace (Python, Node, Java,
/// Go, Rust) as exception type and frame, else a runtime's fatal-error line, else the last
/// non-empty line; digits, hex addresses and directories are stripped from lines so pids,
/// timestamps and paths do not split one crash into many signatures.
pub fn crash_location(stderr_tail: &str) -> Option<CrashLocation> {
    if let Some(trace) = traces::find(stderr_tail) {
        return Some(CrashLocation {
            signature: limit(&trace.signature()),
            describe: trace.describe(),
        });
    }
    let mut lines = stderr_tail
        .lines()
        .rev()
        .filter(|line| !line.trim().is_empty());
    let fatal = stderr_tail.lines().rev().find(|line| {
        let lower = line.to_ascii_lowercase();
        lower.contains("fatal error") || lower.contains("out of memory")
    });
    let line = fatal.or_else(|| lines.next())?;
    let normalized = normalize_line(line);
    if normalized.is_empty() {
        return None;
    }
    Some(CrashLocation {
        signature: normalized.clone(),
        describe: normalized,
    })
}

fn limit(text: &str) -> String {
    text.chars().take(MAX_LOCATION_CHARS).collect()
}

/// Strips what varies between runs of the same crash from one stderr line: ANSI colour
/// codes, control characters, directories, hex addresses (`0x_`) and digit runs (`N`).
pub(crate) fn normalize_line(line: &str) -> String {
    let mut words = Vec::new();
    for word in line.split_whitespace() {
        let word = strip_ansi(word);
        let word = if word.contains('/') || word.contains('\\') {
            basename(&word).to_owned()
        } else {
            word
        };
        words.push(mask_numbers(&word));
    }
    limit(&words.join(" "))
}

fn strip_ansi(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    let mut in_escape = false;
    for c in word.chars() {
        if in_escape {
            in_escape = !c.is_ascii_alphabetic();
        } else if c == '\u{1b}' {
            in_escape = true;
        } else if !c.is_control() {
            out.push(c);
        }
    }
    out
}

fn mask_numbers(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    let mut chars = word.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '0' && chars.peek() == Some(&'x') {
            chars.next();
            while chars.next_if(char::is_ascii_hexdigit).is_some() {}
            out.push_str("0x_");
        } else if c.is_ascii_digit() {
            while chars.next_if(char::is_ascii_digit).is_some() {}
            out.push('N');
        } else {
            out.push(c);
        }
    }
    out
}

/// The finding for a request that got no reply within its deadline.
///
/// Signature `hang/busy/<label>` when the target kept burning CPU (an endless loop or
/// catastrophic backtracking), `hang/idle/<label>` when it sat idle (the reply was
/// dropped, or the handler waits on something that never comes). High severity.
pub fn hang_finding(
    label: &str,
    busy: bool,
    waited: Duration,
    cpu_used: Duration,
    request_line: &[u8],
) -> Finding {
    let (class, why) = if busy {
        ("busy", "the target kept burning CPU")
    } else {
        (
            "idle",
            "the target sat idle: a dropped reply, or a wait longer than the deadline",
        )
    };
    Finding::new(
        Kind::Hang,
        format_args!("{class}/{label}"),
        Severity::High,
        format!(
            "no reply to {label} within {:.1} s; {why} ({:.1} s of CPU)",
            waited.as_secs_f64(),
            cpu_used.as_secs_f64()
        ),
        json!({
            "label": label,
            "busy": busy,
            "waited_ms": waited.as_millis() as u64,
            "cpu_ms": cpu_used.as_millis() as u64,
            "request": super::quote(request_line),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_statuses_display_and_classify() {
        assert_eq!(ExitStatus::Code(1).to_string(), "exit code 1");
        assert_eq!(ExitStatus::Signal(11).to_string(), "signal 11 (SIGSEGV)");
        assert_eq!(ExitStatus::Signal(11).class(), "signal-SIGSEGV");
        assert_eq!(ExitStatus::Signal(77).class(), "signal-77");
        assert_eq!(ExitStatus::Code(-2).class(), "exit--2");
    }

    #[test]
    fn python_crash_signature_and_summary() {
        let stderr = "INFO starting\nTraceback (most recent call last):\n  File \"/srv/server.py\", line 42, in divide\n    return a / b\nZeroDivisionError: division by zero\n";
        let finding = crash_finding(
            ExitStatus::Code(1),
            stderr,
            CrashContext::AtBarrier,
            Some("tools/call:divide"),
        );
        assert_eq!(
            finding.signature,
            "crash/exit-1/ZeroDivisionError@server.py:42"
        );
        assert_eq!(finding.severity, Severity::High);
        assert_eq!(
            finding.summary,
            "target died with exit code 1 (ZeroDivisionError at server.py:42) before answering the barrier ping, after tools/call:divide"
        );
        assert_eq!(finding.evidence["context"], "at-barrier");
        assert_eq!(finding.evidence["stderr_tail"], stderr);
    }

    #[test]
    fn clean_exit_mid_session_is_medium_and_empty_stderr_is_dash() {
        let finding = crash_finding(ExitStatus::Code(0), "", CrashContext::DuringScript, None);
        assert_eq!(finding.signature, "crash/exit-0/-");
        assert_eq!(finding.severity, Severity::Medium);
        assert_eq!(
            finding.summary,
            "target died with exit code 0 during the script"
        );
        assert!(is_healthy_exit(
            ExitStatus::Code(0),
            CrashContext::OnEndOfInput
        ));
        assert!(!is_healthy_exit(
            ExitStatus::Code(1),
            CrashContext::OnEndOfInput
        ));
    }

    #[test]
    fn fallback_location_strips_what_varies() {
        let stderr = "\u{1b}[31merror\u{1b}[0m: worker 4711 failed at 0x7ffd1234 reading /tmp/run-88/state.db\n\n";
        assert_eq!(
            crash_location(stderr)
                .map(|location| location.signature)
                .as_deref(),
            Some("error: worker N failed at 0x_ reading state.db")
        );
        let node_oom = "<--- Last few GCs --->\nFATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory\n 1: 0xb7b3e0 node::Abort() [node]\n 2: 0xa8e823  [node]\n";
        let finding = crash_finding(
            ExitStatus::Signal(6),
            node_oom,
            CrashContext::DuringScript,
            Some("tools/call:x"),
        );
        assert_eq!(
            finding.signature,
            "crash/signal-SIGABRT/FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory"
        );
    }

    #[test]
    fn hangs_say_busy_or_idle() {
        let finding = hang_finding(
            "tools/call:sleep",
            false,
            Duration::from_millis(2000),
            Duration::from_millis(10),
            b"{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\"}\n",
        );
        assert_eq!(finding.signature, "hang/idle/tools/call:sleep");
        assert_eq!(finding.severity, Severity::High);
        assert_eq!(
            finding.summary,
            "no reply to tools/call:sleep within 2.0 s; the target sat idle: a dropped reply, or a wait longer than the deadline (0.0 s of CPU)"
        );
        assert_eq!(
            finding.evidence["request"],
            "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\"}"
        );
        let busy = hang_finding(
            "ping",
            true,
            Duration::from_secs(2),
            Duration::from_secs(2),
            b"",
        );
        assert_eq!(busy.signature, "hang/busy/ping");
    }
}
