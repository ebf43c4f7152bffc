//! The injection oracle: reports a payload as executed only on proof that its text does
//! not contain.
//!
//! Fed every line sent, every line the target printed, and the sandbox cell's changes
//! after each script, it reports:
//! - a computed value (a product `A*B`, or two numbers concatenated) in a reply or
//!   notification, when that value appears nowhere in what was sent to this child;
//! - a canary token of a file outside the root, when the token was never sent;
//! - a marker file, or any new file or directory, outside the root, and a canary that
//!   changed;
//! - database error text in the reply to an SQL payload (weaker evidence, medium);
//! - markup that came back unescaped (information only, never saved).
//!
//! Signatures are `injection/<family>/<label>/<argument>`: the family, the method or tool,
//! and the argument's path inside `params` (`arguments.path`, `uri`), so minimization keeps
//! the same family in the same argument. Pure reflection of a payload is never a finding.

use crate::grammar::payloads::{self, Family, Proof, Recognized};
use crate::oracle::Tracker;
use crate::sandbox::{Canary, Change, CANARY_PREFIX};
use crate::{Finding, Kind, Severity};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet, VecDeque};

/// The most sent bytes kept for the reflection guard; older halves are dropped.
const SENT_BYTES: usize = 16 << 20;
/// The most proofs (computed digits, markers, markup) remembered per child.
const MAX_PROOFS: usize = 4096;
/// The most requests whose payloads are remembered for attribution.
const MAX_REQUESTS: usize = 256;
/// The length of every computed proof: both numbers are at least 31623 and at most 99999.
const PROOF_DIGITS: usize = 10;
/// Characters of context quoted around the evidence.
const EXCERPT: usize = 160;

/// Database error messages, lower case: evidence that a quote broke a query. Each names
/// a database or its SQL grammar, so a shell's own syntax errors do not count.
const DATABASE_ERRORS: &[&str] = &[
    "sqlite3.operationalerror",
    "sqlite_error",
    "sqliteexception",
    "sql logic error",
    "unrecognized token:",
    "syntax error at or near",
    "syntax error at end of input",
    "you have an error in your sql syntax",
    "quoted string not properly terminated",
    "incorrect syntax near",
    "unclosed quotation mark after the character string",
    "pg::syntaxerror",
    "psycopg2.errors",
    "sqlstate[",
    "ora-00933",
    "ora-01756",
];

/// SQLite's own phrasing, `near "X": syntax error`, as it appears inside JSON text.
const SQLITE_NEAR: (&str, &str) = ("near \\\"", "\\\": syntax error");

/// A payload that was sent, and where.
#[derive(Clone, Debug, PartialEq)]
struct Probe {
    family: Family,
    label: String,
    argument: String,
    payload: String,
}

/// The payloads of one sent request.
#[derive(Clone, Debug, Default)]
struct SentRequest {
    probes: Vec<(Recognized, Probe)>,
}

/// The injection oracle for one target child; see the module documentation.
#[derive(Debug, Default)]
pub struct Injection {
    canaries: Vec<Canary>,
    sent: Vec<u8>,
    digits: HashMap<String, Probe>,
    markers: HashMap<String, Probe>,
    markup: Vec<(String, Probe)>,
    order: VecDeque<String>,
    requests: HashMap<String, SentRequest>,
    request_order: VecDeque<String>,
    /// The last sent request that carried payloads, for output that answers nothing.
    last_with_payload: Option<SentRequest>,
    last_label: String,
    reported: HashSet<String>,
}

impl Injection {
    /// An oracle that knows the canaries planted around the child's root.
    pub fn new(canaries: Vec<Canary>) -> Injection {
        Injection {
            canaries,
            last_label: "-".into(),
            ..Injection::default()
        }
    }

    /// Registers one complete line written to the target (placeholders expanded), after
    /// the protocol oracle `tracker` has seen it: requests are named its way.
    pub fn on_sent(&mut self, line: &[u8], tracker: &Tracker) {
        if self.sent.len() + line.len() + 1 > SENT_BYTES {
            let keep = self.sent.len() / 2;
            self.sent.drain(..self.sent.len() - keep);
        }
        self.sent
            .extend_from_slice(&line[..line.len().min(SENT_BYTES / 2)]);
        self.sent.push(b'\n');
        if let Some(label) = tracker.last_label() {
            if label != self.last_label {
                self.last_label = label.to_owned();
            }
        }
        if !payloads::may_hold_payload(line) {
            return;
        }
        let Ok(value) = serde_json::from_slice::<Value>(line) else {
            return;
        };
        let messages = match value {
            Value::Array(items) => items,
            single => vec![single],
        };
        for message in &messages {
            let Some(method) = message.get("method").and_then(Value::as_str) else {
                continue;
            };
            let params = message.get("params");
            let label = tracker.label_for(method, params);
            let mut request = SentRequest::default();
            if let Some(params) = params {
                let mut path = String::new();
                collect(params, &mut path, &mut |argument, text| {
                    for recognized in payloads::recognize(text) {
                        let probe = Probe {
                            family: recognized.family,
                            label: label.clone(),
                            argument: argument.to_owned(),
                            payload: text.to_owned(),
                        };
                        request.probes.push((recognized, probe));
                    }
                });
            }
            if request.probes.is_empty() {
                continue;
            }
            for (recognized, probe) in &request.probes {
                self.remember(&recognized.proof, probe);
            }
            if let Some(key) = message.get("id").map(Value::to_string) {
                if self.request_order.len() == MAX_REQUESTS {
                    if let Some(old) = self.request_order.pop_front() {
                        self.requests.remove(&old);
                    }
                }
                self.request_order.push_back(key.clone());
                self.requests.insert(key, request.clone());
            }
            self.last_with_payload = Some(request);
        }
    }

    fn remember(&mut self, proof: &Proof, probe: &Probe) {
        let key = match proof {
            Proof::Digits(digits) => {
                // A value the client sent itself proves nothing.
                if memchr::memmem::find(&self.sent, digits.as_bytes()).is_some() {
                    return;
                }
                self.digits.insert(digits.clone(), probe.clone());
                digits.clone()
            }
            Proof::Marker(name) => {
                self.markers.insert(name.clone(), probe.clone());
                name.clone()
            }
            Proof::Markup(text) => {
                self.markup.push((text.clone(), probe.clone()));
                text.clone()
            }
            Proof::Canary => return,
        };
        self.order.push_back(key);
        while self.order.len() > MAX_PROOFS {
            if let Some(old) = self.order.pop_front() {
                self.digits.remove(&old);
                self.markers.remove(&old);
                self.markup.retain(|(text, _)| *text != old);
            }
        }
    }

    /// Checks one line the target printed; `answered` are the ids (as sent) and labels
    /// of the requests it answers, if any.
    pub fn on_received(&mut self, line: &[u8], answered: &[(&Value, &str)]) -> Vec<Finding> {
        let mut findings = Vec::new();
        if !self.digits.is_empty() {
            self.check_digits(line, &mut findings);
        }
        if !self.canaries.is_empty() {
            self.check_canaries(line, answered, &mut findings);
        }
        if !self.markup.is_empty() {
            self.check_markup(line, &mut findings);
        }
        self.check_database_errors(line, answered, &mut findings);
        findings
    }

    fn check_digits(&mut self, line: &[u8], findings: &mut Vec<Finding>) {
        let mut start = 0;
        while start < line.len() {
            if !line[start].is_ascii_digit() {
                start += 1;
                continue;
            }
            let end = start
                + line[start..]
                    .iter()
                    .take_while(|b| b.is_ascii_digit())
                    .count();
            if end - start >= PROOF_DIGITS {
                for at in start..=end - PROOF_DIGITS {
                    let window = &line[at..at + PROOF_DIGITS];
                    let Some(probe) = std::str::from_utf8(window)
                        .ok()
                        .and_then(|digits| self.digits.get(digits))
                    else {
                        continue;
                    };
                    if memchr::memmem::find(&self.sent, window).is_some() {
                        continue;
                    }
                    let digits = String::from_utf8_lossy(window).into_owned();
                    let probe = probe.clone();
                    let proof = format!(
                        "the output holds {digits}, which only evaluating the payload gives; \
                         it was never sent"
                    );
                    let evidence = json!({"computed": digits, "excerpt": excerpt(line, at)});
                    self.report(findings, &probe, Severity::Critical, proof, evidence);
                }
            }
            start = end;
        }
    }

    fn check_canaries(
        &mut self,
        line: &[u8],
        answered: &[(&Value, &str)],
        findings: &mut Vec<Finding>,
    ) {
        let hits: Vec<(usize, Canary)> = memchr::memmem::find_iter(line, CANARY_PREFIX.as_bytes())
            .filter_map(|at| {
                let token = line.get(at..at + CANARY_PREFIX.len() + 16)?;
                let canary = self
                    .canaries
                    .iter()
                    .find(|canary| canary.token.as_bytes() == token)?;
                Some((at, canary.clone()))
            })
            .collect();
        for (at, canary) in hits {
            if memchr::memmem::find(&self.sent, canary.token.as_bytes()).is_some() {
                continue;
            }
            let probe = self.attribute(answered, |recognized| recognized.proof == Proof::Canary);
            let proof = format!(
                "the output holds the token of the canary {} ({} route), a file outside the \
                 sandbox root",
                canary.path, canary.route
            );
            let evidence = json!({
                "canary": canary.path,
                "route": canary.route,
                "excerpt": excerpt(line, at),
            });
            self.report(findings, &probe, Severity::Critical, proof, evidence);
        }
    }

    fn check_markup(&mut self, line: &[u8], findings: &mut Vec<Finding>) {
        // Every probe holds the name; most lines do not.
        if memchr::memmem::find(line, payloads::MARKUP_NAME.as_bytes()).is_none() {
            return;
        }
        let hits: Vec<(usize, Probe)> = self
            .markup
            .iter()
            .filter_map(|(text, probe)| {
                memchr::memmem::find(line, text.as_bytes()).map(|at| (at, probe.clone()))
            })
            .collect();
        for (at, probe) in hits {
            let proof = "the markup came back unescaped".to_string();
            let evidence = json!({"excerpt": excerpt(line, at)});
            self.report(findings, &probe, Severity::Info, proof, evidence);
        }
    }

    fn check_database_errors(
        &mut self,
        line: &[u8],
        answered: &[(&Value, &str)],
        findings: &mut Vec<Finding>,
    ) {
        let sql_probe = answered.iter().find_map(|(id, _)| {
            self.requests.get(&id.to_string()).and_then(|request| {
                request
                    .probes
                    .iter()
                    .find(|(recognized, _)| recognized.family == Family::Sql)
                    .map(|(_, probe)| probe.clone())
            })
        });
        let Some(probe) = sql_probe else {
            return;
        };
        let lower = line.to_ascii_lowercase();
        let Some((at, message)) = database_error(&lower) else {
            return;
        };
        if probe.payload.to_ascii_lowercase().contains(message) {
            return;
        }
        let probe = Probe {
            family: Family::Sql,
            argument: format!("{}/error-text", probe.argument),
            ..probe
        };
        let proof = format!("the reply quotes a database error ({message:?})");
        let evidence = json!({"database_error": message, "excerpt": excerpt(line, at)});
        self.report(findings, &probe, Severity::Medium, proof, evidence);
    }

    /// Judges what [`crate::sandbox::Cell::scan`] saw after a script.
    pub fn on_changes(&mut self, changes: &[Change]) -> Vec<Finding> {
        let mut findings = Vec::new();
        for change in changes {
            let (path, probe, proof) = match change {
                Change::Created(path) => {
                    let recognized = path
                        .rsplit('/')
                        .next()
                        .map(payloads::recognize)
                        .unwrap_or_default();
                    let marker = recognized.iter().find_map(|r| match &r.proof {
                        Proof::Marker(name) => Some((r.family, name.clone())),
                        _ => None,
                    });
                    let probe = match &marker {
                        Some((_, name)) if self.markers.contains_key(name) => {
                            self.markers[name].clone()
                        }
                        Some((family, _)) => self.unattributed(*family),
                        None => self.unattributed(Family::PathWrite),
                    };
                    let proof = match marker {
                        Some(_) => format!("the marker file {path} appeared outside the root"),
                        None => format!("{path} appeared outside the sandbox root"),
                    };
                    (path, probe, proof)
                }
                Change::CanaryChanged(path) => (
                    path,
                    self.unattributed(Family::PathWrite),
                    format!("the canary {path} outside the root was changed or removed"),
                ),
            };
            let evidence = json!({"path": path});
            self.report(&mut findings, &probe, Severity::Critical, proof, evidence);
        }
        findings
    }

    /// The probe that best explains output answering `answered`: the first payload of
    /// those requests that `fits`, else any of their payloads, else the first answered
    /// request without a payload, else the last request with one.
    fn attribute(&self, answered: &[(&Value, &str)], fits: impl Fn(&Recognized) -> bool) -> Probe {
        let mut requests: Vec<&SentRequest> = answered
            .iter()
            .filter_map(|(id, _)| self.requests.get(&id.to_string()))
            .collect();
        if requests.is_empty() {
            if let Some((_, label)) = answered.first() {
                return Probe {
                    label: (*label).to_owned(),
                    ..self.unattributed(Family::PathRead)
                };
            }
            requests.extend(self.last_with_payload.as_ref());
        }
        let best = requests
            .iter()
            .find_map(|request| request.probes.iter().find(|(r, _)| fits(r)))
            .or_else(|| requests.iter().find_map(|request| request.probes.first()));
        match best {
            Some((_, probe)) => Probe {
                family: Family::PathRead,
                ..probe.clone()
            },
            None => self.unattributed(Family::PathRead),
        }
    }

    fn unattributed(&self, family: Family) -> Probe {
        Probe {
            family,
            label: self.last_label.clone(),
            argument: "-".into(),
            payload: String::new(),
        }
    }

    fn report(
        &mut self,
        findings: &mut Vec<Finding>,
        probe: &Probe,
        severity: Severity,
        proof: String,
        evidence: Value,
    ) {
        let family = probe.family.as_str();
        let finding = Finding::new(
            Kind::Injection,
            format!("{family}/{}/{}", probe.label, probe.argument),
            severity,
            format!(
                "{family} injection in {} (argument {}): {proof}",
                probe.label, probe.argument
            ),
            {
                let mut evidence = evidence;
                if let Value::Object(map) = &mut evidence {
                    map.insert("family".into(), family.into());
                    map.insert("label".into(), probe.label.clone().into());
                    map.insert("argument".into(), probe.argument.clone().into());
                    map.insert("payload".into(), super::quote(probe.payload.as_bytes()));
                    map.insert("proof".into(), proof.into());
                }
                evidence
            },
        );
        if self.reported.insert(finding.signature.clone()) {
            findings.push(finding);
        }
    }
}

/// Where `lower` (a line in lower case) quotes a database error, and which.
fn database_error(lower: &[u8]) -> Option<(usize, &'static str)> {
    let listed = DATABASE_ERRORS.iter().find_map(|message| {
        memchr::memmem::find(lower, message.as_bytes()).map(|at| (at, *message))
    });
    listed.or_else(|| {
        let (near, error) = SQLITE_NEAR;
        memchr::memmem::find_iter(lower, near.as_bytes()).find_map(|at| {
            let window = &lower[at..(at + 200).min(lower.len())];
            memchr::memmem::find(window, error.as_bytes())
                .map(|_| (at, "near \"...\": syntax error"))
        })
    })
}

/// Calls `each(path, text)` for every string in `value`, with its path: object members
/// joined by `.`, array items as `[]`.
fn collect(value: &Value, path: &mut String, each: &mut dyn FnMut(&str, &str)) {
    match value {
        Value::String(text) if payloads::may_hold_payload(text.as_bytes()) => {
            each(if path.is_empty() { "-" } else { path }, text)
        }
        Value::Array(items) => {
            let len = path.len();
            path.push_str("[]");
            for item in items {
                collect(item, path, each);
            }
            path.truncate(len);
        }
        Value::Object(members) => {
            for (name, member) in members {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(name);
                collect(member, path, each);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// The output around byte `at`, for evidence.
fn excerpt(line: &[u8], at: usize) -> Value {
    let start = at.saturating_sub(EXCERPT);
    let end = (at + EXCERPT).min(line.len());
    String::from_utf8_lossy(&line[start..end])
        .into_owned()
        .into()
}

#[cfg(test)]
#[path = "injection_tests.rs"]
mod tests;
