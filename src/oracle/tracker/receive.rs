//! The receiving side of the [`Tracker`]: matching each line the target printed to what
//! it answers, and the rules that need the match.

use super::{Entry, Message, Received, Reply, Tracker, MAX_ANSWERED};
use crate::oracle::ids::{contains, loosely_equal, maybe_ids, IdKey};
use crate::oracle::protocol::{self, Owed};
use crate::oracle::shapes;
use crate::oracle::{overlong_line_finding, ErrorClass, Outcome};
use crate::wire::{self, Incoming, Response};
use crate::{Finding, Severity};
use serde_json::Value;
use std::time::Instant;

impl Tracker {
    /// Matches one complete line the target printed on stdout.
    pub fn on_received(&mut self, line: &[u8], at: Instant) -> Received {
        let mut received = Received {
            messages: Vec::with_capacity(1),
            findings: Vec::new(),
        };
        self.handle(
            wire::classify_incoming(line),
            false,
            line,
            at,
            &mut received,
        );
        received
    }

    /// Handles a line too long for the reader (`len` bytes, of which `prefix` was kept):
    /// reports it, and when the prefix names the id of something outstanding, counts it as
    /// that reply so the request does not also become a hang.
    pub fn on_overlong(&mut self, prefix: &[u8], len: usize, at: Instant) -> Received {
        // A reply's id comes near its start; the rest may be megabytes of result.
        let head = &prefix[..prefix.len().min(4096)];
        let seq = maybe_ids(head)
            .iter()
            .filter_map(IdKey::of)
            .find_map(|key| self.by_key.get(&key).and_then(|seqs| seqs.first().copied()));
        let mut received = Received::default();
        let label = match seq.and_then(|seq| self.take(seq)) {
            Some(entry) => {
                let is_error = contains(head, b"\"error\"") && !contains(head, b"\"result\"");
                let outcome = if is_error {
                    Outcome::Error(ErrorClass::Other)
                } else {
                    Outcome::Result
                };
                if let Some(key) = entry.id.as_ref().and_then(IdKey::of) {
                    self.remember_answered(key, &entry.label);
                }
                let label = entry.label.clone();
                received.messages.push(Message::Reply(Reply {
                    id: entry.id,
                    label: entry.label,
                    outcome,
                    latency: at.saturating_duration_since(entry.sent_at),
                    result: None,
                    error: None,
                }));
                label
            }
            None => {
                received.messages.push(Message::Other);
                self.last_label_or_dash()
            }
        };
        received
            .findings
            .push(overlong_line_finding(prefix, len, Some(&label)));
        received
    }

    fn handle(
        &mut self,
        incoming: Incoming,
        in_array: bool,
        line: &[u8],
        at: Instant,
        received: &mut Received,
    ) {
        match incoming {
            Incoming::Response(response) => {
                self.handle_response(response, in_array, line, at, received)
            }
            Incoming::Batch(items) => {
                for item in items {
                    self.handle(item, true, line, at, received);
                }
            }
            Incoming::ServerRequest {
                id,
                method,
                params,
                version_ok,
            } => {
                if !version_ok {
                    received
                        .findings
                        .push(bad_version(&method, "request", line));
                }
                received
                    .messages
                    .push(Message::ServerRequest { id, method, params });
            }
            Incoming::Notification {
                method,
                params,
                version_ok,
            } => {
                if !version_ok {
                    received
                        .findings
                        .push(bad_version(&method, "notification", line));
                }
                received
                    .messages
                    .push(Message::Notification { method, params });
            }
            Incoming::Invalid { value, reason } => {
                let label = self.last_label_or_dash();
                let finding = if value.as_array().is_some_and(Vec::is_empty) {
                    protocol::finding(
                        "empty-batch-reply",
                        &label,
                        Severity::Medium,
                        "the target printed an empty array, which JSON-RPC forbids".to_owned(),
                        line,
                        None,
                    )
                } else {
                    protocol::finding(
                        "not-jsonrpc",
                        &label,
                        Severity::Medium,
                        format!(
                            "the target printed JSON that is not a JSON-RPC message ({reason})"
                        ),
                        line,
                        None,
                    )
                };
                received.findings.push(finding);
                received.messages.push(Message::Other);
            }
            Incoming::NonJson { text } => {
                let finding = if text.trim().is_empty() {
                    protocol::finding(
                        "blank-line-output",
                        &self.last_label_or_dash(),
                        Severity::Low,
                        "the target printed a blank line on stdout".to_owned(),
                        line,
                        None,
                    )
                } else {
                    // The stray text names the bug better than the request that happened
                    // to be last (its reply may come after the next request is sent), so
                    // it is the place in the signature, with numbers and paths masked.
                    protocol::finding(
                        "non-json-output",
                        &super::super::liveness::normalize_line(&text),
                        Severity::Medium,
                        "the target printed a line that is not JSON on stdout".to_owned(),
                        line,
                        None,
                    )
                };
                received.findings.push(finding);
                received.messages.push(Message::Other);
            }
        }
    }

    fn handle_response(
        &mut self,
        response: Response,
        in_array: bool,
        line: &[u8],
        at: Instant,
        received: &mut Received,
    ) {
        let id = match &response.id {
            Some(id) => id.clone(),
            None => {
                received.findings.push(protocol::finding(
                    "missing-reply-id",
                    &self.last_label_or_dash(),
                    Severity::Medium,
                    "a reply has no id member".to_owned(),
                    line,
                    None,
                ));
                Value::Null
            }
        };
        let Some(key) = IdKey::of(&id) else {
            // `classify_incoming` only gives replies string, number or null ids.
            received.messages.push(Message::Other);
            return;
        };
        let (seq, loose) = match self.find_answered(&key, &id, &response, in_array) {
            Some(found) => found,
            None => {
                received.findings.extend(self.unmatched(key, line));
                received.messages.push(Message::Other);
                return;
            }
        };
        let entry = self
            .take(seq)
            .expect("find_answered returns outstanding entries");
        if loose {
            let odd = matches!(entry.owed, Owed::Request { odd_id: true, .. });
            let sent = entry.id.as_ref().map_or_else(String::new, Value::to_string);
            let (rule, severity) = if odd {
                ("odd-id-mangled", Severity::Low)
            } else {
                ("id-type-changed", Severity::Medium)
            };
            // Ids are rewritten in one place of a server, whatever the method: the
            // conversion, not the label, identifies the bug.
            // An integer past 2^53 read as a double (JavaScript, Lua, jq) comes back as
            // the nearest double, in either notation: one behaviour, one signature.
            let rounded = match (entry.id.as_ref(), &id) {
                (Some(Value::Number(sent)), Value::Number(got)) => {
                    !sent.is_f64() && sent.as_f64() == got.as_f64()
                }
                _ => false,
            };
            let conversion = if rounded {
                "integer-rounded-to-double".to_owned()
            } else {
                format!(
                    "{}-to-{}",
                    json_type(entry.id.as_ref()),
                    json_type(Some(&id))
                )
            };
            received.findings.push(protocol::finding(
                rule,
                &conversion,
                severity,
                format!("reply to {} changed the id {sent} to {id}", entry.label),
                line,
                Some(&entry.line),
            ));
        }
        let (outcome, findings) = protocol::check_answer(
            &entry.owed,
            &entry.label,
            &response,
            id.is_null(),
            line,
            Some(&entry.line),
        );
        // Which of several requests sharing an id a reply answers is a guess: its result
        // is not held to one request's schema, nor its error blamed on one method.
        received
            .findings
            .extend(findings.into_iter().filter(|finding| {
                !(entry.shared_id
                    && (finding.signature.starts_with("protocol/bad-result-shape/")
                        || finding.kind == crate::Kind::Error))
            }));
        if key != IdKey::Null {
            self.remember_answered(key, &entry.label);
        }
        received.messages.push(Message::Reply(Reply {
            id: entry.id,
            label: entry.label,
            outcome,
            latency: at.saturating_duration_since(entry.sent_at),
            result: response.result,
            error: response.error,
        }));
    }

    /// The outstanding expectation a reply answers, and whether its id only matched
    /// loosely (changed type, or a mangled odd id).
    fn find_answered(
        &self,
        key: &IdKey,
        id: &Value,
        response: &Response,
        in_array: bool,
    ) -> Option<(u64, bool)> {
        if *key == IdKey::Null {
            return self
                .find_null_answered(response, in_array)
                .map(|seq| (seq, false));
        }
        if let Some(seqs) = self.by_key.get(key) {
            if let Some(seq) = self.best_fit(seqs.iter().copied(), response) {
                return Some((seq, false));
            }
        }
        let loose = self.entries.iter().filter(|(_, entry)| {
            let odd = matches!(entry.owed, Owed::Request { odd_id: true, .. });
            entry
                .id
                .as_ref()
                .is_some_and(|sent| loosely_equal(sent, id, odd))
        });
        if let Some(seq) = self.best_fit(loose.map(|(seq, _)| *seq), response) {
            return Some((seq, true));
        }
        // A parse error that names an id the line did not visibly carry.
        if response.error_code() == Some(-32700) {
            return self
                .entries
                .iter()
                .find(|(_, entry)| entry.owed == Owed::Malformed)
                .map(|(seq, _)| (*seq, false));
        }
        None
    }

    /// Of several outstanding expectations a reply's id matches (a client may reuse an
    /// id, even across kinds of lines), the one it most likely answers: the best
    /// [`fit`], the oldest among equals. `None` when `seqs` is empty.
    fn best_fit(&self, seqs: impl Iterator<Item = u64>, response: &Response) -> Option<u64> {
        let candidates: Vec<u64> = seqs.filter(|seq| self.entries.contains_key(seq)).collect();
        if let [only] = candidates[..] {
            return Some(only);
        }
        let mut best: Option<(u8, u64)> = None;
        for seq in candidates {
            let Some(entry) = self.entries.get(&seq) else {
                continue;
            };
            let score = fit(&entry.owed, response);
            if best.is_none_or(|(best_score, _)| score > best_score) {
                best = Some((score, seq));
            }
        }
        best.map(|(_, seq)| seq)
    }

    /// The expectation a reply with id null answers: the best [`null_fit`], the oldest
    /// among equals.
    fn find_null_answered(&self, response: &Response, in_array: bool) -> Option<u64> {
        let mut best: Option<(u8, u64)> = None;
        for (seq, entry) in &self.entries {
            let Some(score) = null_fit(entry, response, in_array) else {
                continue;
            };
            if best.is_none_or(|(best_score, _)| score > best_score) {
                best = Some((score, *seq));
            }
        }
        best.map(|(_, seq)| seq)
    }

    /// The finding for a reply that answers nothing outstanding, if it is one.
    fn unmatched(&mut self, key: IdKey, line: &[u8]) -> Option<Finding> {
        let last_label = self.last_label_or_dash();
        if key == IdKey::Null {
            if let Some((label, script)) = &self.last_notification {
                if script + 1 >= self.n_scripts {
                    return Some(protocol::finding(
                        "reply-to-notification",
                        label,
                        Severity::Medium,
                        format!("the target answered the notification {label}"),
                        line,
                        None,
                    ));
                }
            }
            return Some(protocol::finding(
                "unexpected-null-id",
                &last_label,
                Severity::Medium,
                "a reply with id null answers nothing that could not be identified".to_owned(),
                line,
                None,
            ));
        }
        if let Some(position) = self.responses_sent.iter().position(|sent| *sent == key) {
            self.responses_sent.remove(position);
            return Some(protocol::finding(
                "reply-to-response",
                "response",
                Severity::Medium,
                "the target answered a response the client sent".to_owned(),
                line,
                None,
            ));
        }
        if let Some(position) = self
            .forgotten
            .iter()
            .position(|forgotten| *forgotten == key)
        {
            self.forgotten.remove(position);
            return None;
        }
        if let Some((_, label)) = self.answered_labels.get(&key) {
            return Some(protocol::finding(
                "duplicate-reply",
                label,
                Severity::Medium,
                format!("a request for {label} was answered twice"),
                line,
                None,
            ));
        }
        Some(protocol::finding(
            "unknown-id",
            &last_label,
            Severity::Medium,
            "a reply carries an id no request had".to_owned(),
            line,
            None,
        ))
    }

    fn remember_answered(&mut self, key: IdKey, label: &str) {
        self.answered.push_back(key.clone());
        let slot = self.answered_labels.entry(key).or_default();
        slot.0 += 1;
        label.clone_into(&mut slot.1);
        if self.answered.len() > MAX_ANSWERED {
            if let Some(oldest) = self.answered.pop_front() {
                if let Some(slot) = self.answered_labels.get_mut(&oldest) {
                    slot.0 -= 1;
                    if slot.0 == 0 {
                        self.answered_labels.remove(&oldest);
                    }
                }
            }
        }
    }

    fn last_label_or_dash(&self) -> String {
        self.last_label.clone().unwrap_or_else(|| "-".to_owned())
    }
}

/// How well a reply fits an expectation its id matched; higher is better.
///
/// An error whose code JSON-RPC names for that kind of line fits best (a parse error for
/// a line with a guessed id, Invalid Request for an invalid request or response). A
/// result never answers a response the client sent: a server that could not read one
/// answers it with an error or not at all, so an invalid response object never takes a
/// request's result, and the request does not look hung. Then the id's certainty: a
/// request's id is certain, unless the reply breaks what the request asks of it (its
/// result shape, the error code of an unknown method) and so may answer an older line
/// read only in part; an invalid line's id was read, though the target may not have; an
/// id guessed from a line that is not JSON least of all.
fn fit(owed: &Owed, response: &Response) -> u8 {
    let is_error = response.error.is_some();
    let code = response.error_code();
    let code_fits = is_error && code_fits(owed, code);
    let natural = is_error || *owed != Owed::InvalidResponse;
    let certainty = match owed {
        Owed::Request { method, .. } => {
            let plausible = match (&response.result, &response.error) {
                (Some(result), None) => shapes::check(method, result).is_ok(),
                (None, Some(_)) => owed
                    .expected_code()
                    .is_none_or(|expected| code == Some(expected)),
                _ => true,
            };
            2 + u8::from(plausible)
        }
        Owed::PartlyRead => 2,
        Owed::Invalid => 1,
        Owed::InvalidResponse | Owed::Malformed | Owed::EmptyBatch | Owed::Batch { .. } => 0,
    };
    8 * u8::from(code_fits) + 4 * u8::from(natural) + certainty
}

/// How well a reply with id null fits an outstanding expectation; `None` when it cannot
/// answer it. Only errors qualify, except that an invalid request whose own id was null,
/// or a line read only in part, may get a result.
///
/// First whether it is of the same kind (inside an array or not: a reply outside an array
/// answers no batch member, unless it is the parse error for a whole array read only in
/// part). Then how JSON-RPC has the target answer that line with id null, best first:
/// 5. a line whose id could not be read, with the code JSON-RPC names for it: a parse
///    error for a line that is not JSON, Invalid Request for an empty batch or an invalid
///    message without a usable id;
/// 4. a line read only in part, with the parse error of a parser that gave up, or (without
///    a usable id) the Invalid Request of one that read it;
/// 3. an Invalid Request error for a line that may get one or nothing (an invalid
///    notification; an invalid response, which MCP peers commonly drop) or whose id the
///    target may not trust (an invalid message);
/// 2. a deviation: a batch of requests rejected as a whole, another code or a result for
///    a line of the first two kinds;
/// 1. a line with a usable id otherwise (a target that read the id echoes it);
/// 0. a batch of notifications, owed nothing at all.
fn null_fit(entry: &Entry, response: &Response, in_array: bool) -> Option<u8> {
    let is_error = response.error.is_some();
    let null_id_invalid = entry.owed == Owed::Invalid && entry.id == Some(Value::Null);
    if !entry.null_ok || !(is_error || null_id_invalid || entry.owed == Owed::PartlyRead) {
        return None;
    }
    let parse_error = is_error && response.error_code() == Some(-32700);
    let invalid_request = is_error && response.error_code() == Some(-32600);
    let identified = !entry.keys.is_empty() && entry.owed != Owed::Malformed;
    let tier = match &entry.owed {
        Owed::Batch {
            has_requests: false,
        } => 0,
        Owed::Batch { .. } => 2,
        Owed::PartlyRead if parse_error => 4,
        Owed::PartlyRead if identified => 1,
        Owed::PartlyRead if invalid_request => 4,
        Owed::PartlyRead => 2,
        Owed::InvalidResponse | Owed::Invalid if invalid_request && identified => 3,
        Owed::Invalid if invalid_request && entry.notification => 3,
        Owed::InvalidResponse if invalid_request => 3,
        _ if identified || entry.notification || entry.owed == Owed::InvalidResponse => 1,
        owed if is_error && response.error_code() == owed.expected_code() => 5,
        _ => 2,
    };
    let in_batch = entry.batch.is_some() || (entry.partly_read_member && !parse_error);
    Some(8 * u8::from(in_array == in_batch) + tier)
}

/// Whether an error `code` is one JSON-RPC names for what was sent: its
/// [`expected_code`](Owed::expected_code), or Invalid Request for an invalid response. A
/// line read only in part has none: what it said is not known.
fn code_fits(owed: &Owed, code: Option<i64>) -> bool {
    let Some(code) = code else {
        return false;
    };
    match owed {
        Owed::InvalidResponse => code == -32600,
        owed => owed.expected_code() == Some(code),
    }
}

fn bad_version(method: &str, what: &str, line: &[u8]) -> Finding {
    let label = wire::method_label(method);
    protocol::finding(
        "bad-jsonrpc-version",
        label,
        Severity::Medium,
        format!("{what} {label} from the target lacks \"jsonrpc\": \"2.0\""),
        line,
        None,
    )
}

/// The JSON type of an id, for signatures.
fn json_type(value: Option<&Value>) -> &'static str {
    match value {
        None | Some(Value::Null) => "null",
        Some(Value::String(_)) => "string",
        Some(Value::Number(number)) if number.is_f64() => "float",
        Some(Value::Number(_)) => "integer",
        Some(Value::Bool(_)) => "bool",
        Some(Value::Array(_)) => "array",
        Some(Value::Object(_)) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oracle::{findings_of, run_script};
    use serde_json::json;
    use std::time::Duration;

    fn reply_of(received: &Received) -> &Reply {
        match &received.messages[..] {
            [Message::Reply(reply)] => reply,
            other => panic!("expected one reply, got {other:?}"),
        }
    }

    #[test]
    fn out_of_order_replies_and_exact_ids_are_fine() {
        let script = [
            r#"> {"jsonrpc":"2.0","id":1,"method":"ping"}"#,
            r#"> {"jsonrpc":"2.0","id":"a-1","method":"ping"}"#,
            r#"> {"jsonrpc":"2.0","id":-3,"method":"ping"}"#,
            r#"< {"jsonrpc":"2.0","id":-3,"result":{}}"#,
            r#"< {"jsonrpc":"2.0","id":"a-1","result":{}}"#,
            r#"< {"jsonrpc":"2.0","id":1,"result":{}}"#,
            "end",
        ];
        assert_eq!(findings_of(&script), vec![]);
    }

    #[test]
    fn reused_ids_are_a_multiset() {
        let mut tracker = Tracker::new();
        let script = [
            r#"> {"jsonrpc":"2.0","id":5,"method":"ping"}"#,
            r#"> {"jsonrpc":"2.0","id":5,"method":"tools/list"}"#,
            r#"< {"jsonrpc":"2.0","id":5,"result":{}}"#,
        ];
        assert_eq!(run_script(&mut tracker, &script), vec![]);
        // Both stay outstanding, but neither is owed: a server may answer only one.
        assert!(tracker.pending().is_empty());
        let script = [
            r#"< {"jsonrpc":"2.0","id":5,"result":{"tools":[]}}"#,
            r#"< {"jsonrpc":"2.0","id":5,"result":{}}"#,
        ];
        assert_eq!(
            run_script(&mut tracker, &script),
            vec![(
                "protocol/duplicate-reply/tools/list".to_owned(),
                Severity::Medium
            )]
        );
        assert!(!tracker.has_pending());
    }

    #[test]
    fn a_real_id_wins_over_one_guessed_from_a_broken_line() {
        let script = [
            r#"> {"jsonrpc":"2.0","id":5,"method":"ping","params":{"x":NaN}}"#,
            r#"> {"jsonrpc":"2.0","id":5,"method":"ping"}"#,
            r#"< {"jsonrpc":"2.0","id":5,"result":{}}"#,
            r#"< {"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}"#,
        ];
        let mut tracker = Tracker::new();
        assert_eq!(run_script(&mut tracker, &script), vec![]);
        assert!(!tracker.has_pending());
    }

    #[test]
    fn late_optional_reply_in_a_later_script_is_not_flagged() {
        let mut tracker = Tracker::new();
        let barrier = [
            r#"> {"jsonrpc":"2.0","id":1000000000,"method":"ping"}"#,
            r#"< {"jsonrpc":"2.0","id":1000000000,"result":{}}"#,
            "end",
        ];
        let first = ["> {not json", barrier[0], barrier[1], barrier[2]];
        assert_eq!(run_script(&mut tracker, &first), vec![]);
        assert_eq!(
            run_script(&mut tracker, &barrier),
            vec![("protocol/no-parse-error-reply/-".to_owned(), Severity::Low)]
        );
        let third = [
            r#"< {"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}"#,
            "end",
            "eof",
        ];
        assert_eq!(run_script(&mut tracker, &third), vec![]);
    }

    #[test]
    fn an_optional_reply_may_come_after_the_barrier_reply() {
        // A concurrent target answers the barrier while a batch member still waits for
        // the client's sampling reply.
        // See: protocol/no-batch-reply/- against the twin (fuzz --seed 1, protocol-54278c8e)
        let batch = r#"> [{"jsonrpc":"2.0","id":4338,"method":"tools/call","params":{"name":"summarize","arguments":{"text":"a"}}}]"#;
        let sampling = r#"< {"jsonrpc":"2.0","id":"s-1","method":"sampling/createMessage","params":{"messages":[],"maxTokens":100}}"#;
        let answer = r#"> {"jsonrpc":"2.0","id":"s-1","result":{"role":"assistant","content":{"type":"text","text":"ok"},"model":"m"}}"#;
        let barrier = r#"> {"jsonrpc":"2.0","id":1000000001,"method":"ping"}"#;
        let pong = r#"< {"jsonrpc":"2.0","id":1000000001,"result":{}}"#;
        let reply = r#"< [{"jsonrpc":"2.0","id":4338,"result":{"content":[{"type":"text","text":"ok"}],"isError":false}}]"#;
        assert_eq!(
            findings_of(&[batch, sampling, answer, barrier, pong, "end", reply, "eof"]),
            vec![]
        );
        // Never answered: reported at the end of the next script, or at end of input
        // when there is none (a replay runs the transcript as one script).
        let next_script = [
            r#"> {"jsonrpc":"2.0","id":1000000002,"method":"ping"}"#,
            r#"< {"jsonrpc":"2.0","id":1000000002,"result":{}}"#,
        ];
        let no_batch_reply = vec![("protocol/no-batch-reply/-".to_owned(), Severity::Low)];
        assert_eq!(
            findings_of(&[
                batch,
                barrier,
                pong,
                "end",
                next_script[0],
                next_script[1],
                "end",
                "eof"
            ]),
            no_batch_reply
        );
        assert_eq!(
            findings_of(&[batch, barrier, pong, "end", "eof"]),
            no_batch_reply
        );
        assert_eq!(findings_of(&[batch, "eof", "eof"]), no_batch_reply);
    }

    #[test]
    fn replies_carry_the_sent_id_outcome_and_result() {
        let mut tracker = Tracker::new();
        let start = Instant::now();
        tracker.on_sent(
            b"{\"jsonrpc\":\"2.0\",\"id\":9007199254740993,\"method\":\"tools/call\",\"params\":{\"name\":\"x\"}}\n",
            start,
        );
        let received = tracker.on_received(
            b"{\"jsonrpc\":\"2.0\",\"id\":9007199254740992,\"result\":{\"content\":[],\"isError\":true}}\n",
            start + Duration::from_millis(5),
        );
        let reply = reply_of(&received);
        assert_eq!(reply.id, Some(json!(9007199254740993_u64)));
        assert_eq!(reply.label, "tools/call:x");
        assert_eq!(reply.outcome, Outcome::ToolError);
        assert_eq!(reply.latency, Duration::from_millis(5));
        assert_eq!(reply.result, Some(json!({"content": [], "isError": true})));
        tracker.on_sent(
            b"{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}\n",
            start,
        );
        let received = tracker.on_received(
            b"{\"jsonrpc\":\"2.0\",\"id\":2,\"error\":{\"code\":-32001,\"message\":\"x\"}}\n",
            start,
        );
        assert_eq!(
            reply_of(&received).outcome,
            Outcome::Error(ErrorClass::ServerDefined)
        );
    }

    #[test]
    fn server_requests_and_notifications_are_passed_on() {
        let mut tracker = Tracker::new();
        let received = tracker.on_received(
            b"{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"roots/list\",\"params\":{}}\n",
            Instant::now(),
        );
        assert_eq!(
            received.messages,
            vec![Message::ServerRequest {
                id: json!(0),
                method: "roots/list".to_owned(),
                params: Some(json!({})),
            }]
        );
        assert_eq!(received.findings, vec![]);
    }

    #[test]
    fn overlong_replies_count_as_the_reply_they_start() {
        let mut tracker = Tracker::new();
        let start = Instant::now();
        tracker.on_sent(
            b"{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"resources/read\"}\n",
            start,
        );
        let prefix = b"{\"jsonrpc\":\"2.0\",\"id\":4,\"result\":{\"contents\":[{\"text\":\"AAAA";
        let received = tracker.on_overlong(prefix, 20_000_000, start);
        assert_eq!(reply_of(&received).label, "resources/read");
        assert_eq!(reply_of(&received).outcome, Outcome::Result);
        let signatures: Vec<&str> = received
            .findings
            .iter()
            .map(|finding| finding.signature.as_str())
            .collect();
        assert_eq!(signatures, ["protocol/overlong-line/resources/read"]);
        assert_eq!(received.findings[0].severity, Severity::Low);
        assert!(!tracker.has_pending());
    }
}
