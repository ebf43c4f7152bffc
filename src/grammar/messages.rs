//! Messages other than requests: notifications, batches, and responses the server never
//! asked for.

use arbitrary::Arbitrary;
use serde_json::{json, Map, Value};

use super::context::Out;
use super::envelope::{self, EnvelopeMutation};
use super::methods::{self, CallTool, MethodCall};
use super::values::{self, Boundary, Bounds, Junk, NearMiss, StringPlan};
use super::{Mostly, SmallBytes};

/// The most entries a batch gets.
pub const MAX_BATCH: usize = 16;

/// Notifications a server receives, for near misses.
const CLIENT_NOTIFICATIONS: &[&str] = &[
    "notifications/initialized",
    "notifications/cancelled",
    "notifications/progress",
    "notifications/roots/list_changed",
];

/// Notifications a server sends; a client sending them is out of place.
const SERVER_NOTIFICATIONS: &[&str] = &[
    "notifications/message",
    "notifications/tools/list_changed",
    "notifications/resources/updated",
    "notifications/resources/list_changed",
    "notifications/prompts/list_changed",
];

/// Other notification names.
const OTHER_NOTIFICATIONS: &[&str] = &[
    "$/progress",
    "$/cancelRequest",
    "notifications/",
    "notifications",
    "cancelled",
    "exit",
    "",
];

/// A notification (no id, no reply expected).
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub struct Notification {
    /// Which one.
    pub kind: NotificationKind,
    /// A mutation of the envelope, when the pick says so.
    pub mutation: Mostly<EnvelopeMutation>,
}

/// Notifications with params plans.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub enum NotificationKind {
    /// `notifications/initialized`, again.
    Initialized,
    /// `notifications/cancelled`.
    Cancelled(CancelPlan),
    /// `notifications/progress`.
    Progress(ProgressPlan),
    /// `notifications/roots/list_changed`.
    RootsListChanged,
    /// A notification the server does not know.
    Unknown(UnknownNotification),
}

/// Params of `notifications/cancelled`.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub struct CancelPlan {
    /// The `requestId`.
    pub target: CancelTarget,
    /// A `reason`, when the pick says so.
    pub reason: Mostly<StringPlan>,
}

/// The request a cancellation names.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub enum CancelTarget {
    /// A recent request, 0 the newest.
    Recent(u8),
    /// An id never sent.
    Unknown,
    /// A string id never sent.
    UnknownString,
    /// `null`.
    Null,
    /// No `requestId` member.
    Missing,
    /// Any value.
    Junk(Junk),
}

/// Params of `notifications/progress`.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub struct ProgressPlan {
    /// The `progressToken`.
    pub token: ProgressToken,
    /// `progress`: 1 unless the pick gives a boundary number.
    pub progress: Mostly<Boundary>,
    /// `total`, when the pick gives one.
    pub total: Mostly<Boundary>,
    /// `message`, when the pick gives one.
    pub message: Mostly<StringPlan>,
}

/// Progress tokens.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub enum ProgressToken {
    /// A recent request id, 0 the newest.
    RecentId(u8),
    /// A harvested token.
    Token(u8),
    /// A boundary number.
    Number(Boundary),
    /// `null`.
    Null,
    /// No `progressToken` member.
    Missing,
}

/// A notification the server does not know.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub struct UnknownNotification {
    /// The name.
    pub name: NotificationName,
    /// Params: none unless the pick says otherwise.
    pub params: Mostly<Junk>,
}

/// Unknown notification names.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub enum NotificationName {
    /// A near miss of a notification servers receive.
    NearMiss(u8, NearMiss),
    /// A notification servers send.
    ServerSide(u8),
    /// Other names.
    Other(u8),
    /// Bytes chosen by the fuzzer.
    Free(SmallBytes),
}

/// A JSON array of messages.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub struct Batch {
    /// The entries; at most `MAX_BATCH` are used, none gives `[]`.
    pub entries: Vec<BatchEntry>,
    /// A change of shape, when the pick says so.
    pub shape: Mostly<BatchShape>,
}

/// One entry of a batch.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub enum BatchEntry {
    /// A tools/call.
    CallTool(CallTool),
    /// A request to another method.
    Method(MethodCall),
    /// A notification.
    Notification(Notification),
    /// Any value, not a message.
    Junk(Junk),
}

/// Batch shapes besides a flat array.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchShape {
    /// The array inside another array.
    Nested,
    /// The first entry twice, same id included.
    RepeatFirst,
    /// A single entry still wrapped in an array.
    FirstOnly,
}

/// A response to a request the server never sent.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub struct Unsolicited {
    /// Its id.
    pub id: UnsolicitedId,
    /// Its result or error.
    pub body: ResponseBody,
    /// A wrong `jsonrpc` member, when the pick gives one.
    pub version: Mostly<envelope::VersionPlan>,
}

/// Ids of unsolicited responses.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnsolicitedId {
    /// 0, a common first id of server requests.
    Zero,
    /// A small integer.
    Small(u8),
    /// The id of one of our own recent requests.
    Recent(u8),
    /// A string id.
    Str(u8),
    /// A large integer.
    Large,
    /// A negative integer.
    Negative,
    /// `null`.
    Null,
    /// No id.
    Missing,
}

/// The body of a response.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub enum ResponseBody {
    /// `"result": {}`.
    EmptyResult,
    /// `"result": <any value>`.
    Result(Junk),
    /// An error object.
    Error(Boundary, Mostly<StringPlan>),
    /// Both `result` and `error`.
    Both,
    /// Neither.
    Neither,
    /// `"error": "x"`.
    MalformedError,
    /// A plausible sampling result.
    SamplingResult,
    /// A plausible roots/list result.
    RootsResult,
}

/// The notification message.
pub(crate) fn notification(out: &mut Out, note: &Notification) -> Value {
    let (method, params) = notification_parts(out, &note.kind);
    envelope::notification(out, &note.mutation, &method, params)
}

fn notification_parts(out: &mut Out, kind: &NotificationKind) -> (String, Option<Value>) {
    match kind {
        NotificationKind::Initialized => ("notifications/initialized".to_owned(), None),
        NotificationKind::RootsListChanged => ("notifications/roots/list_changed".to_owned(), None),
        NotificationKind::Cancelled(plan) => {
            let mut params = Map::new();
            let target = match &plan.target {
                CancelTarget::Recent(pick) => {
                    Some(out.ids.recent(*pick).unwrap_or_else(|| json!(0)))
                }
                CancelTarget::Unknown => Some(json!(out.ids.fresh())),
                CancelTarget::UnknownString => Some(json!(format!("never-{}", out.ids.fresh()))),
                CancelTarget::Null => Some(Value::Null),
                CancelTarget::Missing => None,
                CancelTarget::Junk(junk) => Some(values::junk(out, junk)),
            };
            if let Some(target) = target {
                params.insert("requestId".to_owned(), target);
            }
            if let Some(reason) = plan.reason.get() {
                params.insert(
                    "reason".to_owned(),
                    values::string(out, reason, "cancelled"),
                );
            }
            (
                "notifications/cancelled".to_owned(),
                Some(Value::Object(params)),
            )
        }
        NotificationKind::Progress(plan) => {
            let mut params = Map::new();
            let token = match &plan.token {
                ProgressToken::RecentId(pick) => {
                    Some(out.ids.recent(*pick).unwrap_or_else(|| json!(0)))
                }
                ProgressToken::Token(pick) => Some(json!(out.token(*pick).unwrap_or("token"))),
                ProgressToken::Number(boundary) => {
                    Some(values::boundary_number(out, *boundary, Bounds::default()))
                }
                ProgressToken::Null => Some(Value::Null),
                ProgressToken::Missing => None,
            };
            if let Some(token) = token {
                params.insert("progressToken".to_owned(), token);
            }
            let progress = match plan.progress.get() {
                None => json!(1),
                Some(boundary) => values::boundary_number(out, *boundary, Bounds::default()),
            };
            params.insert("progress".to_owned(), progress);
            if let Some(total) = plan.total.get() {
                params.insert(
                    "total".to_owned(),
                    values::boundary_number(out, *total, Bounds::default()),
                );
            }
            if let Some(message) = plan.message.get() {
                params.insert(
                    "message".to_owned(),
                    values::string(out, message, "working"),
                );
            }
            (
                "notifications/progress".to_owned(),
                Some(Value::Object(params)),
            )
        }
        NotificationKind::Unknown(plan) => {
            let name = match &plan.name {
                NotificationName::NearMiss(pick, near_miss) => {
                    near_miss.apply(values::pick_from(CLIENT_NOTIFICATIONS, *pick))
                }
                NotificationName::ServerSide(pick) => {
                    values::pick_from(SERVER_NOTIFICATIONS, *pick).to_owned()
                }
                NotificationName::Other(pick) => {
                    values::pick_from(OTHER_NOTIFICATIONS, *pick).to_owned()
                }
                NotificationName::Free(bytes) => bytes.lossy(),
            };
            (name, plan.params.get().map(|junk| values::junk(out, junk)))
        }
    }
}

/// The batch array.
pub(crate) fn batch(out: &mut Out, batch: &Batch) -> Value {
    let mut entries: Vec<Value> = batch
        .entries
        .iter()
        .take(MAX_BATCH)
        .map(|entry| match entry {
            BatchEntry::CallTool(call) => methods::call_tool(out, call),
            BatchEntry::Method(call) => methods::method_call(out, call),
            BatchEntry::Notification(note) => notification(out, note),
            BatchEntry::Junk(junk) => values::junk(out, junk),
        })
        .collect();
    match batch.shape.get() {
        None => Value::Array(entries),
        Some(BatchShape::Nested) => json!([entries]),
        Some(BatchShape::RepeatFirst) => {
            if let Some(first) = entries.first().cloned() {
                entries.insert(1, first);
            }
            Value::Array(entries)
        }
        Some(BatchShape::FirstOnly) => {
            entries.truncate(1);
            Value::Array(entries)
        }
    }
}

/// The unsolicited response.
pub(crate) fn unsolicited(out: &mut Out, response: &Unsolicited) -> Value {
    let id = match response.id {
        UnsolicitedId::Zero => Some(json!(0)),
        UnsolicitedId::Small(n) => Some(json!(n)),
        UnsolicitedId::Recent(pick) => Some(out.ids.recent(pick).unwrap_or_else(|| json!(0))),
        UnsolicitedId::Str(n) => Some(json!(format!("srv-{n}"))),
        UnsolicitedId::Large => Some(json!(4_000_000_000_i64)),
        UnsolicitedId::Negative => Some(json!(-7)),
        UnsolicitedId::Null => Some(Value::Null),
        UnsolicitedId::Missing => None,
    };
    let mut members = Map::new();
    match response.version.get() {
        None => {
            members.insert("jsonrpc".to_owned(), json!("2.0"));
        }
        Some(plan) => {
            // Reuse the request builder's version handling by building a message and
            // taking its `jsonrpc` member, if any.
            let message =
                envelope::message(out, Some(&EnvelopeMutation::Version(*plan)), None, "", None);
            if let Some(version) = message.get("jsonrpc") {
                members.insert("jsonrpc".to_owned(), version.clone());
            }
        }
    }
    if let Some(id) = id {
        members.insert("id".to_owned(), id);
    }
    let error = |out: &mut Out, boundary: Boundary, message: &Mostly<StringPlan>| {
        let code = match boundary {
            Boundary::Zero => json!(-32603),
            other => values::boundary_number(out, other, Bounds::default()),
        };
        let message = message.get().map_or_else(
            || json!("failed"),
            |plan| values::string(out, plan, "failed"),
        );
        json!({"code": code, "message": message})
    };
    match &response.body {
        ResponseBody::EmptyResult => {
            members.insert("result".to_owned(), json!({}));
        }
        ResponseBody::Result(junk) => {
            members.insert("result".to_owned(), values::junk(out, junk));
        }
        ResponseBody::Error(code, message) => {
            members.insert("error".to_owned(), error(out, *code, message));
        }
        ResponseBody::Both => {
            members.insert("result".to_owned(), json!({}));
            members.insert(
                "error".to_owned(),
                json!({"code": -32603, "message": "failed"}),
            );
        }
        ResponseBody::Neither => {}
        ResponseBody::MalformedError => {
            members.insert("error".to_owned(), json!("x"));
        }
        ResponseBody::SamplingResult => {
            members.insert(
                "result".to_owned(),
                json!({"role": "assistant", "content": {"type": "text", "text": "ok"}, "model": "m", "stopReason": "endTurn"}),
            );
        }
        ResponseBody::RootsResult => {
            members.insert(
                "result".to_owned(),
                json!({"roots": [{"uri": "file:///", "name": "root"}]}),
            );
        }
    }
    Value::Object(members)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::grammar::context::IdState;

    #[test]
    fn cancellation_names_a_recent_request() {
        let catalog = Catalog::default();
        let mut ids = IdState::new();
        ids.remember(&json!(41));
        ids.remember(&json!("req-42"));
        let mut out = Out::new(&catalog, &mut ids, 1 << 20);
        let note = Notification {
            kind: NotificationKind::Cancelled(CancelPlan {
                target: CancelTarget::Recent(1),
                reason: Mostly::usual(StringPlan::Empty),
            }),
            mutation: Mostly::usual(EnvelopeMutation::Reversed),
        };
        assert_eq!(
            notification(&mut out, &note),
            json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 41}})
        );
    }

    #[test]
    fn batches_are_bounded_and_shaped() {
        let catalog = Catalog::default();
        let mut ids = IdState::new();
        let mut out = Out::new(&catalog, &mut ids, 1 << 20);
        let many = Batch {
            entries: vec![BatchEntry::Junk(Junk::Null); 40],
            shape: Mostly::usual(BatchShape::Nested),
        };
        assert_eq!(
            batch(&mut out, &many).as_array().map(Vec::len),
            Some(MAX_BATCH)
        );
        let empty = Batch {
            entries: vec![],
            shape: Mostly::usual(BatchShape::Nested),
        };
        assert_eq!(batch(&mut out, &empty), json!([]));
        let nested = Batch {
            entries: vec![BatchEntry::Junk(Junk::True)],
            shape: Mostly::unusual(BatchShape::Nested),
        };
        assert_eq!(batch(&mut out, &nested), json!([[true]]));
    }

    #[test]
    fn unsolicited_responses() {
        let catalog = Catalog::default();
        let mut ids = IdState::new();
        let mut out = Out::new(&catalog, &mut ids, 1 << 20);
        let response = Unsolicited {
            id: UnsolicitedId::Str(3),
            body: ResponseBody::Error(Boundary::Zero, Mostly::usual(StringPlan::Empty)),
            version: Mostly::unusual(envelope::VersionPlan::Absent),
        };
        assert_eq!(
            unsolicited(&mut out, &response),
            json!({"id": "srv-3", "error": {"code": -32603, "message": "failed"}})
        );
    }
}
