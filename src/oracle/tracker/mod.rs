//! [`Tracker`]: what one target child owes, and how it answered.
//!
//! Every line sent registers what it is owed: a valid request with a normal id exactly one
//! reply; odd-id requests, requests of odd shape, batch members and invalid lines at most
//! one; a line that is not JSON or an empty batch at most one error with id null; a line
//! read only in part (too deep, or with a number beyond `f64`) at most one reply of any
//! kind per message. Every line the target prints is matched against that (see
//! `receive.rs`): by id (replies may come in any order, and a client may reuse an id, so
//! it is a multiset, and among lines sharing an id the reply goes to the one it fits best),
//! then loosely (an id whose type or value changed), then against the history of answered
//! ids (a duplicate) or nothing (an unknown id). Optional expectations live until the
//! child dies, bounded, so a late reply in a later script is not flagged; a missing one is
//! reported a script later, or at end of input.

mod receive;

use super::ids::{maybe_ids, IdKey};
use super::protocol::{self, Owed};
use super::Outcome;
use crate::wire::{self, Outgoing};
use crate::{Catalog, Finding, Severity};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

/// The most optional expectations kept; the oldest is dropped first.
const MAX_OPTIONAL: usize = 1024;
/// How many answered ids are remembered to tell a duplicate reply from an unknown id.
const MAX_ANSWERED: usize = 4096;
/// How many forgotten request ids and sent response ids are remembered.
const MAX_REMEMBERED: usize = 256;
/// The most bytes of a sent line kept for evidence.
const STORED_LINE_BYTES: usize = 2048;

/// A required reply that has not come yet.
#[derive(Clone, Debug, PartialEq)]
pub struct Pending {
    /// The request id as sent.
    pub id: Value,
    /// The request's label.
    pub label: String,
    /// When the request was sent.
    pub sent_at: Instant,
    /// The sent line, cut at 2 KiB, for hang evidence.
    pub line: Vec<u8>,
}

/// A reply matched to what it answers.
#[derive(Clone, Debug, PartialEq)]
pub struct Reply {
    /// The id of the line it answers, as sent (not as echoed); `None` for a line that
    /// had no usable id (not JSON, an empty batch, a whole batch).
    pub id: Option<Value>,
    /// The label of the line it answers.
    pub label: String,
    /// How it answered.
    pub outcome: Outcome,
    /// From sending the line to receiving the reply.
    pub latency: Duration,
    /// The `result` member, moved out of the parsed line (for discovery).
    pub result: Option<Value>,
    /// The `error` member, moved out of the parsed line.
    pub error: Option<Value>,
}

/// One message of a line the target printed.
#[derive(Clone, Debug, PartialEq)]
pub enum Message {
    /// A reply to something the client sent.
    Reply(Reply),
    /// A request the client must answer (`roots/list`, `sampling/createMessage`, ...).
    ServerRequest {
        /// Its id, to echo.
        id: Value,
        /// Its method.
        method: String,
        /// Its `params`, if any.
        params: Option<Value>,
    },
    /// A notification from the server.
    Notification {
        /// Its method.
        method: String,
        /// Its `params`, if any.
        params: Option<Value>,
    },
    /// Anything else: not JSON, not JSON-RPC, or a reply that answers nothing owed.
    Other,
}

/// What one line the target printed meant, and what was wrong with it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Received {
    /// The messages on the line: one, or one per element of an array.
    pub messages: Vec<Message>,
    /// Protocol and error findings about the line.
    pub findings: Vec<Finding>,
}

/// One outstanding expectation.
#[derive(Debug)]
struct Entry {
    owed: Owed,
    /// The id as sent, if the line had a usable one.
    id: Option<Value>,
    label: String,
    sent_at: Instant,
    /// The sent line, cut at [`STORED_LINE_BYTES`].
    line: Vec<u8>,
    /// Exactly one reply is owed (else at most one).
    required: bool,
    /// A reply with id null may answer it.
    null_ok: bool,
    /// The batch it belongs to.
    batch: Option<u64>,
    /// For a batch: its members with expectations.
    members: Vec<u64>,
    /// The ids a reply may carry to answer it, registered in `by_key`.
    keys: Vec<IdKey>,
    /// A missing reply was already reported by `end_of_script`.
    reported: bool,
    /// The script it was sent in (the count of `end_of_script` calls before).
    script: u64,
    /// An invalid notification: an object with a string method and no id member.
    notification: bool,
    /// A member of an array read only in part: answered inside an array, unless the
    /// target could not parse the line at all.
    partly_read_member: bool,
    /// A request whose id another request in flight shared: which of them a reply
    /// answers is a guess, so its result is not held to this one's schema.
    shared_id: bool,
}

impl Entry {
    /// An optional expectation without ids, answerable with id null.
    fn new(owed: Owed, label: String, line: &[u8], at: Instant, batch: Option<u64>) -> Entry {
        Entry {
            owed,
            id: None,
            label,
            sent_at: at,
            line: line[..line.len().min(STORED_LINE_BYTES)].to_vec(),
            required: false,
            null_ok: true,
            batch,
            members: Vec::new(),
            keys: Vec::new(),
            reported: false,
            script: 0,
            notification: false,
            partly_read_member: false,
            shared_id: false,
        }
    }
}

/// The protocol oracle for one target child.
///
/// Feed it every complete line sent ([`Tracker::on_sent`]) and every line the target
/// printed ([`Tracker::on_received`]). A valid request with a normal id is owed exactly
/// one reply ([`Tracker::pending`]); odd-id requests, requests of odd shape, batch members and
/// invalid lines at most one; a line that is not JSON or an empty batch at most one
/// error with id null; a line read only in part at most one reply of any kind per
/// message. Replies are matched by id in any order, ids may be reused, and optional
/// expectations live until the child dies (bounded), so a late reply in a later script is
/// not flagged. Call [`Tracker::end_of_script`] after each barrier and
/// [`Tracker::end_of_input`] once the target's stdout is closed.
///
/// ```
/// use mcpfuzz::oracle::{Message, Tracker};
/// use std::time::Instant;
///
/// let mut tracker = Tracker::new();
/// tracker.on_sent(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n", Instant::now());
/// assert_eq!(tracker.pending().len(), 1);
/// let received = tracker.on_received(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n", Instant::now());
/// assert!(matches!(&received.messages[..], [Message::Reply(_)]));
/// assert!(received.findings.is_empty());
/// assert!(tracker.pending().is_empty());
/// ```
#[derive(Debug, Default)]
pub struct Tracker {
    /// Outstanding expectations by send order.
    entries: BTreeMap<u64, Entry>,
    /// The required ones among them.
    required: BTreeSet<u64>,
    /// Expectations answerable by id, oldest first.
    by_key: HashMap<IdKey, Vec<u64>>,
    next_seq: u64,
    n_optional: usize,
    /// Answered ids, oldest first, and per id how often it is in there and its label.
    answered: VecDeque<IdKey>,
    answered_labels: HashMap<IdKey, (u32, String)>,
    /// Requests the session gave up on; a late reply to one is not a finding.
    forgotten: VecDeque<IdKey>,
    /// Ids of valid responses the client sent; the target must not answer them.
    responses_sent: VecDeque<IdKey>,
    last_label: Option<String>,
    /// The label of the last notification sent and the script it was sent in.
    last_notification: Option<(String, u64)>,
    n_scripts: u64,
    /// Labels of the tools and prompts the target listed, once known.
    listed_labels: Option<HashSet<String>>,
}
impl Tracker {
    /// A tracker for a freshly spawned child.
    pub fn new() -> Tracker {
        Tracker::default()
    }

    /// Learns the tools and prompts the target listed. From then on a `tools/call` or
    /// `prompts/get` of an unlisted name is labelled `tools/call:?unlisted`, so fuzzed
    /// names do not give one signature each.
    pub fn set_catalog(&mut self, catalog: &Catalog) {
        let tools = catalog
            .tools
            .iter()
            .map(|tool| ("tools/call", tool.name.as_str()));
        let prompts = catalog
            .prompts
            .iter()
            .map(|prompt| ("prompts/get", prompt.name.as_str()));
        let labels = tools
            .chain(prompts)
            .map(|(method, name)| wire::request_label(method, Some(&json!({ "name": name }))))
            .collect();
        self.listed_labels = Some(labels);
    }

    /// The label of the last request, notification or invalid line a script sent (the
    /// session's own requests, with [reserved ids](wire::RESERVED_IDS), do not count).
    pub fn last_label(&self) -> Option<&str> {
        self.last_label.as_deref()
    }

    /// Registers one complete line written to the target.
    pub fn on_sent(&mut self, line: &[u8], at: Instant) {
        self.on_sent_classified(wire::classify_outgoing(line), line, at);
    }

    /// [`Tracker::on_sent`] for a line the caller already classified.
    pub fn on_sent_classified(&mut self, outgoing: Outgoing, line: &[u8], at: Instant) {
        self.register(outgoing, line, at, None);
    }

    /// Required replies not received yet, oldest first.
    pub fn pending(&self) -> Vec<Pending> {
        self.required_entries()
            .map(|entry| Pending {
                id: entry.id.clone().unwrap_or(Value::Null),
                label: entry.label.clone(),
                sent_at: entry.sent_at,
                line: entry.line.clone(),
            })
            .collect()
    }

    /// Whether any required reply is outstanding.
    pub fn has_pending(&self) -> bool {
        !self.required.is_empty()
    }

    /// When the oldest outstanding required request was sent: the next deadline is this
    /// plus the request timeout. Cheap enough to call after every line.
    pub fn earliest_pending_at(&self) -> Option<Instant> {
        self.required_entries().map(|entry| entry.sent_at).min()
    }

    fn required_entries(&self) -> impl Iterator<Item = &Entry> {
        self.required.iter().filter_map(|seq| self.entries.get(seq))
    }

    /// The sent line (cut at 2 KiB) of the oldest outstanding required request with this
    /// id, for hang evidence.
    pub fn request_line(&self, id: &Value) -> Option<&[u8]> {
        let key = IdKey::of(id)?;
        self.by_key
            .get(&key)?
            .iter()
            .filter_map(|seq| self.entries.get(seq))
            .find(|entry| entry.required)
            .map(|entry| entry.line.as_slice())
    }

    /// Gives up on the oldest outstanding required request with this id (after a hang);
    /// a reply to it that still comes is ignored. Returns whether one was outstanding.
    pub fn forget(&mut self, id: &Value) -> bool {
        let Some(key) = IdKey::of(id) else {
            return false;
        };
        let seq = self
            .by_key
            .get(&key)
            .and_then(|seqs| seqs.iter().copied().find(|seq| self.required.contains(seq)));
        let Some(seq) = seq else {
            return false;
        };
        self.remove(seq);
        push_bounded(&mut self.forgotten, key);
        true
    }

    /// Call once the barrier ping that ends a script is answered: reports lines sent in
    /// an earlier script that got none of the optional replies JSON-RPC recommends (Low).
    ///
    /// Lines of this script are judged at the end of the next one, or by
    /// [`Tracker::end_of_input`]: a target that serves requests concurrently may answer
    /// the barrier before a reply still in the making (a batch member waiting for the
    /// client's sampling reply). Reported lines stay registered, so a reply that comes
    /// later is still not flagged.
    pub fn end_of_script(&mut self) -> Vec<Finding> {
        let this_script = self.n_scripts;
        self.n_scripts += 1;
        self.report_unanswered(this_script)
    }

    /// Call once the target's stdout reached end of file: reports every line that got
    /// none of the optional replies JSON-RPC recommends (Low), since none can come now.
    pub fn end_of_input(&mut self) -> Vec<Finding> {
        self.report_unanswered(u64::MAX)
    }

    /// Reports the unanswered lines sent before script number `before`.
    fn report_unanswered(&mut self, before: u64) -> Vec<Finding> {
        let mut findings = Vec::new();
        for entry in self.entries.values_mut() {
            if entry.reported || entry.batch.is_some() || entry.script >= before {
                continue;
            }
            // An object with a string method and no id member is a notification, if an
            // invalid one: JSON-RPC forbids replying to notifications, so silence is as
            // right as an Invalid Request error.
            if entry.notification {
                continue;
            }
            let (rule, summary) = match entry.owed {
                Owed::Malformed => (
                    "no-parse-error-reply",
                    "a line that is not JSON got no parse error (-32700) reply",
                ),
                Owed::Invalid => (
                    "no-invalid-request-reply",
                    "an invalid request got no Invalid Request (-32600) reply",
                ),
                Owed::EmptyBatch => (
                    "no-invalid-request-reply",
                    "an empty batch got no Invalid Request (-32600) reply",
                ),
                Owed::Batch { has_requests: true } => {
                    ("no-batch-reply", "a batch of requests got no reply at all")
                }
                _ => continue,
            };
            entry.reported = true;
            // One signature per behaviour, not per method: a server that ignores invalid
            // input does so whatever the method name was.
            findings.push(protocol::finding(
                rule,
                "-",
                Severity::Low,
                summary.to_owned(),
                &entry.line,
                None,
            ));
        }
        findings
    }

    fn register(
        &mut self,
        outgoing: Outgoing,
        line: &[u8],
        at: Instant,
        batch: Option<u64>,
    ) -> Option<u64> {
        let entry = match outgoing {
            Outgoing::Request {
                id,
                method,
                label,
                odd_id,
                odd_shape,
            } => {
                let label = self.relabel(label);
                if !wire::is_reserved_id(&id) {
                    self.last_label = Some(label.clone());
                }
                // JSON-RPC asks the client for ids unique among requests in flight; with
                // two alike, a server may keep one (a map by id) and answer only that.
                // Neither reply is owed any more, and a missing one is no hang.
                let reused = IdKey::of(&id).is_some_and(|key| self.make_all_optional(&key));
                Entry {
                    required: !odd_id && !odd_shape && batch.is_none() && !reused,
                    shared_id: reused,
                    null_ok: odd_id || odd_shape,
                    keys: IdKey::of(&id).into_iter().collect(),
                    id: Some(id),
                    ..Entry::new(Owed::Request { method, odd_id }, label, line, at, batch)
                }
            }
            Outgoing::Notification { label, cancels, .. } => {
                let label = self.relabel(label);
                self.last_label = Some(label.clone());
                self.last_notification = Some((label, self.n_scripts));
                if let Some(id) = cancels {
                    self.make_optional(&id);
                }
                return None;
            }
            Outgoing::Response { id, valid: true } => {
                if let Some(key) = id.as_ref().and_then(IdKey::of) {
                    push_bounded(&mut self.responses_sent, key);
                }
                return None;
            }
            Outgoing::Response { id, valid: false } => Entry {
                keys: id.as_ref().and_then(IdKey::of).into_iter().collect(),
                id,
                ..Entry::new(
                    Owed::InvalidResponse,
                    "response".to_owned(),
                    line,
                    at,
                    batch,
                )
            },
            Outgoing::Batch(members) => {
                let has_requests = members
                    .iter()
                    .any(|member| matches!(member, Outgoing::Request { .. }));
                let owed = Owed::Batch { has_requests };
                let seq = self.insert(Entry::new(owed, "batch".to_owned(), line, at, batch));
                let member_seqs: Vec<u64> = members
                    .into_iter()
                    .filter_map(|member| self.register(member, line, at, Some(seq)))
                    .collect();
                if let Some(batch_entry) = self.entries.get_mut(&seq) {
                    batch_entry.members = member_seqs;
                }
                return Some(seq);
            }
            Outgoing::EmptyBatch => {
                Entry::new(Owed::EmptyBatch, "batch".to_owned(), line, at, batch)
            }
            Outgoing::Invalid { id, label } => {
                let label = self.relabel(label);
                if label != "-" {
                    self.last_label = Some(label.clone());
                }
                Entry {
                    keys: id
                        .as_ref()
                        .filter(|id| !id.is_null())
                        .and_then(IdKey::of)
                        .into_iter()
                        .collect(),
                    notification: id.is_none() && batch.is_none() && is_invalid_notification(line),
                    id,
                    ..Entry::new(Owed::Invalid, label, line, at, batch)
                }
            }
            Outgoing::PartlyRead {
                ids,
                label,
                batch_size,
            } => {
                let label = self.relabel(label);
                if label != "-" && label != "batch" {
                    self.last_label = Some(label.clone());
                }
                let mut keys: Vec<IdKey> = Vec::new();
                for key in ids.iter().filter_map(IdKey::of) {
                    if !keys.contains(&key) {
                        keys.push(key);
                    }
                }
                let id = match &ids[..] {
                    [id] => Some(id.clone()),
                    _ => None,
                };
                // One expectation per message: each may be answered on its own, by id
                // or with id null.
                let mut last = None;
                for _ in 0..batch_size.unwrap_or(1).max(1) {
                    let entry = Entry {
                        keys: keys.clone(),
                        id: id.clone(),
                        partly_read_member: batch_size.is_some(),
                        ..Entry::new(Owed::PartlyRead, label.clone(), line, at, batch)
                    };
                    last = Some(self.insert(entry));
                }
                return last;
            }
            Outgoing::Malformed => {
                let mut keys: Vec<IdKey> = Vec::new();
                for key in maybe_ids(line).iter().filter_map(IdKey::of) {
                    if !keys.contains(&key) {
                        keys.push(key);
                    }
                }
                // A lenient reader may see several messages in it: one split at a lone
                // `\r` (Python's universal newlines do), each then answered by its own
                // id. Every id after the first may so be answered once more; silence
                // is as right for those.
                for key in keys.iter().skip(1) {
                    self.insert(Entry {
                        keys: vec![key.clone()],
                        notification: true,
                        ..Entry::new(Owed::Malformed, "-".to_owned(), line, at, batch)
                    });
                }
                Entry {
                    keys,
                    ..Entry::new(Owed::Malformed, "-".to_owned(), line, at, batch)
                }
            }
            Outgoing::Blank => return None,
        };
        Some(self.insert(entry))
    }

    /// Turns every outstanding required request with this id into an optional one; says
    /// whether any request with this id is outstanding.
    fn make_all_optional(&mut self, key: &IdKey) -> bool {
        let Some(seqs) = self.by_key.get(key) else {
            return false;
        };
        let seqs: Vec<u64> = seqs
            .iter()
            .copied()
            .filter(|seq| {
                self.entries
                    .get(seq)
                    .is_some_and(|entry| matches!(entry.owed, Owed::Request { .. }))
            })
            .collect();
        for seq in &seqs {
            if let Some(entry) = self.entries.get_mut(seq) {
                entry.shared_id = true;
                if self.required.remove(seq) {
                    entry.required = false;
                    self.n_optional += 1;
                }
            }
        }
        !seqs.is_empty()
    }

    /// Turns the oldest outstanding required request with this id into an optional one:
    /// it was cancelled, and MCP lets the server skip the reply (the TypeScript SDK does).
    fn make_optional(&mut self, id: &Value) {
        let Some(key) = IdKey::of(id) else {
            return;
        };
        let seq = self
            .by_key
            .get(&key)
            .and_then(|seqs| seqs.iter().copied().find(|seq| self.required.contains(seq)));
        if let Some(entry) = seq.and_then(|seq| self.entries.get_mut(&seq)) {
            entry.required = false;
            self.required.retain(|required| Some(*required) != seq);
            self.n_optional += 1;
        }
    }

    /// The label of a request to `method` with `params`, as this tracker names it.
    pub fn label_for(&self, method: &str, params: Option<&Value>) -> String {
        self.relabel(wire::request_label(method, params))
    }

    /// Replaces the name in `tools/call:<name>` or `prompts/get:<name>` by `?unlisted`
    /// when the catalog is known and does not list it.
    fn relabel(&self, label: String) -> String {
        let Some(listed) = &self.listed_labels else {
            return label;
        };
        for prefix in ["tools/call:", "prompts/get:"] {
            if let Some(name) = label.strip_prefix(prefix) {
                if !name.starts_with('?') && !listed.contains(&label) {
                    return format!("{prefix}?unlisted");
                }
            }
        }
        label
    }

    fn insert(&mut self, entry: Entry) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        for key in &entry.keys {
            self.by_key.entry(key.clone()).or_default().push(seq);
        }
        if entry.required {
            self.required.insert(seq);
        } else {
            self.n_optional += 1;
        }
        let entry = Entry {
            script: self.n_scripts,
            ..entry
        };
        self.entries.insert(seq, entry);
        if self.n_optional > MAX_OPTIONAL {
            let oldest = self
                .entries
                .iter()
                .find(|(_, entry)| !entry.required)
                .map(|(seq, _)| *seq);
            if let Some(oldest) = oldest {
                self.remove(oldest);
            }
        }
        seq
    }

    fn remove(&mut self, seq: u64) -> Option<Entry> {
        let entry = self.entries.remove(&seq)?;
        for key in &entry.keys {
            if let Some(seqs) = self.by_key.get_mut(key) {
                seqs.retain(|other| *other != seq);
                if seqs.is_empty() {
                    self.by_key.remove(key);
                }
            }
        }
        if entry.required {
            self.required.remove(&seq);
        } else {
            self.n_optional -= 1;
        }
        Some(entry)
    }

    /// Removes an answered expectation, and what its answer settles: a member's reply
    /// shows the batch was not rejected as a whole; a whole-batch error answers every
    /// member.
    fn take(&mut self, seq: u64) -> Option<Entry> {
        let entry = self.remove(seq)?;
        if let Some(batch) = entry.batch {
            self.remove(batch);
        }
        for member in &entry.members {
            self.remove(*member);
        }
        Some(entry)
    }
}

fn push_bounded(queue: &mut VecDeque<IdKey>, key: IdKey) {
    if queue.len() >= MAX_REMEMBERED {
        queue.pop_front();
    }
    queue.push_back(key);
}

/// Whether `line` is a JSON object with a string `method` and no `id` member.
fn is_invalid_notification(line: &[u8]) -> bool {
    let text = line.strip_suffix(b"\r").unwrap_or(line);
    match serde_json::from_slice::<Value>(text) {
        Ok(Value::Object(object)) => {
            !object.contains_key("id") && object.get("method").is_some_and(Value::is_string)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Tool;
    use crate::oracle::run_script;

    #[test]
    fn a_cancelled_request_may_go_unanswered() {
        let mut tracker = Tracker::new();
        let script = [
            r#"> {"jsonrpc":"2.0","id":"slow","method":"tools/call","params":{"name":"sleep"}}"#,
            r#"> {"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"slow"}}"#,
            "end",
        ];
        assert_eq!(run_script(&mut tracker, &script), vec![]);
        assert!(!tracker.has_pending());
        let late =
            [r#"< {"jsonrpc":"2.0","id":"slow","error":{"code":0,"message":"Request cancelled"}}"#];
        assert_eq!(run_script(&mut tracker, &late), vec![]);
    }

    #[test]
    fn pending_forget_and_late_replies() {
        let mut tracker = Tracker::new();
        let start = Instant::now();
        let line = b"{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\",\"params\":{\"name\":\"sleep\"}}\n";
        tracker.on_sent(line, start);
        tracker.on_sent(
            b"{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}\n",
            start,
        );
        assert_eq!(
            tracker.pending(),
            vec![Pending {
                id: json!(9),
                label: "tools/call:sleep".to_owned(),
                sent_at: start,
                line: line.to_vec(),
            }]
        );
        assert_eq!(tracker.request_line(&json!(9)), Some(&line[..]));
        assert_eq!(tracker.earliest_pending_at(), Some(start));
        assert!(tracker.forget(&json!(9)));
        assert!(!tracker.forget(&json!(9)));
        assert!(!tracker.has_pending());
        let late = tracker.on_received(
            b"{\"jsonrpc\":\"2.0\",\"id\":9,\"result\":{\"content\":[]}}\n",
            start,
        );
        assert_eq!(late.messages, vec![Message::Other]);
        assert_eq!(late.findings, vec![]);
    }

    #[test]
    fn unlisted_tools_share_one_label_once_the_catalog_is_known() {
        let mut tracker = Tracker::new();
        tracker.set_catalog(&Catalog {
            tools: vec![Tool {
                name: "echo".to_owned(),
                input_schema: json!({"type": "object"}),
            }],
            ..Catalog::default()
        });
        let script = [
            r#"> {"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"}}"#,
            r#"> {"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"ech0"}}"#,
            r#"> {"jsonrpc":"2.0","id":3,"method":"tools/call","params":{}}"#,
        ];
        run_script(&mut tracker, &script);
        let labels: Vec<String> = tracker
            .pending()
            .into_iter()
            .map(|pending| pending.label)
            .collect();
        assert_eq!(
            labels,
            ["tools/call:echo", "tools/call:?unlisted", "tools/call:?"]
        );
    }

    #[test]
    fn session_requests_do_not_become_the_last_label() {
        let mut tracker = Tracker::new();
        run_script(
            &mut tracker,
            &[
                r#"> {"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
                r#"> {"jsonrpc":"2.0","id":1000000001,"method":"ping"}"#,
            ],
        );
        assert_eq!(tracker.last_label(), Some("tools/list"));
    }

    #[test]
    fn optional_expectations_are_bounded() {
        let mut tracker = Tracker::new();
        let start = Instant::now();
        for _ in 0..MAX_OPTIONAL + 10 {
            tracker.on_sent(b"garbage\n", start);
        }
        tracker.on_sent(
            b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n",
            start,
        );
        assert_eq!(tracker.entries.len(), MAX_OPTIONAL + 1);
        assert_eq!(tracker.n_optional, MAX_OPTIONAL);
        assert!(tracker.has_pending());
    }
}
