//! The JSON-RPC envelope around every message: ids, the `jsonrpc` member, the params'
//! JSON type, extra and duplicate members. Most plans leave the envelope valid so that
//! messages reach the server's method handlers.

use arbitrary::Arbitrary;
use serde_json::{json, Map, Value};

use super::context::Out;
use super::values::{self, Junk};
use super::Mostly;

/// The id of a request. `Counter` is the default: a fresh integer from the materializer.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdPlan {
    /// A fresh integer from the materializer's counter.
    Counter,
    /// A small integer that may collide with another request's id.
    SmallInt(u8),
    /// 0.
    Zero,
    /// A negative integer.
    Negative,
    /// A string id, `"req-<counter>"`.
    Str,
    /// A numeric string, `"<counter>"`.
    NumericString,
    /// `""`.
    EmptyString,
    /// `null`.
    Null,
    /// 1.5.
    Float,
    /// The counter as a float, `7.0`, which equals an integer id numerically.
    IntegralFloat,
    /// 2^53 + 1, which a double rounds to 2^53.
    TwoPow53Plus1,
    /// `i64::MAX`.
    I64Max,
    /// `i64::MIN`.
    I64Min,
    /// `u64::MAX`.
    U64Max,
    /// The id of a recent request again.
    Duplicate(u8),
    /// No id at all: the request becomes a notification.
    Missing,
    /// `{"a":1}`.
    Object,
    /// `[1]`.
    Array,
    /// `true`.
    Bool,
}

impl IdPlan {
    /// The id's value, `None` when it is missing.
    pub(crate) fn value(self, out: &mut Out) -> Option<Value> {
        let id = match self {
            IdPlan::Counter => json!(out.ids.fresh()),
            IdPlan::SmallInt(n) => json!(n),
            IdPlan::Zero => json!(0),
            IdPlan::Negative => json!(-out.ids.fresh()),
            IdPlan::Str => json!(format!("req-{}", out.ids.fresh())),
            IdPlan::NumericString => json!(out.ids.fresh().to_string()),
            IdPlan::EmptyString => json!(""),
            IdPlan::Null => Value::Null,
            IdPlan::Float => json!(1.5),
            IdPlan::IntegralFloat => json!(out.ids.fresh() as f64),
            IdPlan::TwoPow53Plus1 => json!(9_007_199_254_740_993_u64),
            IdPlan::I64Max => json!(i64::MAX),
            IdPlan::I64Min => json!(i64::MIN),
            IdPlan::U64Max => json!(u64::MAX),
            IdPlan::Duplicate(pick) => match out.ids.recent(pick) {
                Some(id) => id,
                None => json!(out.ids.fresh()),
            },
            IdPlan::Missing => return None,
            IdPlan::Object => json!({"a": 1}),
            IdPlan::Array => json!([1]),
            IdPlan::Bool => json!(true),
        };
        Some(id)
    }
}

/// Ways to break or bend an envelope.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub enum EnvelopeMutation {
    /// A wrong or missing `jsonrpc` member.
    Version(VersionPlan),
    /// Params of another JSON type.
    Params(ParamsPlan),
    /// An extra or duplicate top-level member.
    Extra(ExtraMember),
    /// Members in reverse order (`params` first, `jsonrpc` last).
    Reversed,
    /// `method` of another JSON type.
    MethodType(Junk),
    /// A valid `_meta` in the params, which servers handle on a separate path.
    Meta(MetaPlan),
}

/// A wrong or missing `jsonrpc` member.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionPlan {
    /// No `jsonrpc` member.
    Absent,
    /// `"1.0"`.
    One,
    /// The number `2.0`.
    Number,
    /// The integer `2`.
    Integer,
    /// `null`.
    Null,
    /// `""`.
    Empty,
    /// `"2.0 "`.
    Padded,
    /// `"3.0"`.
    Three,
    /// `["2.0"]`.
    Array,
    /// `"2"`.
    Short,
}

/// Params of a given JSON type in place of the method's real params.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamsPlan {
    /// No `params` member.
    Absent,
    /// `null`.
    Null,
    /// `{}`.
    EmptyObject,
    /// The real params inside an array (by-position params).
    Array,
    /// `[]`.
    EmptyArray,
    /// The real params as a JSON string.
    Stringified,
    /// `0`.
    Number,
    /// `true`.
    Bool,
}

/// An extra top-level member.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub enum ExtraMember {
    /// An unknown member.
    Unknown(Junk),
    /// `"result":{}` in a request.
    Result,
    /// An `error` object in a request.
    Error,
    /// A top-level `_meta`.
    TopMeta,
    /// A second `id` member with another value.
    DuplicateId,
    /// A second `method` member naming `ping`.
    DuplicateMethod,
    /// A second `jsonrpc` member saying `"1.0"`.
    DuplicateVersion,
    /// A member with the empty name.
    EmptyKey,
}

/// A `_meta` object in the params.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaPlan {
    /// `{"progressToken": <counter>}`.
    IntegerToken,
    /// `{"progressToken": "p-<counter>"}`.
    StringToken,
    /// `{"progressToken": null}`.
    NullToken,
    /// `{"progressToken": {}}`.
    ObjectToken,
    /// `"_meta": "x"`.
    NotAnObject,
    /// `"_meta": {}`.
    Empty,
}

/// How a request is wrapped: three times in four a valid envelope with a fresh counter
/// id, otherwise bent.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub struct Envelope {
    /// How the envelope is bent, when the pick says so.
    pub bend: Mostly<Bend>,
}

/// What a bent envelope changes.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub enum Bend {
    /// Another id.
    Id(IdPlan),
    /// A member mutated.
    Member(EnvelopeMutation),
    /// Both.
    Both(IdPlan, EnvelopeMutation),
}

impl Envelope {
    /// A valid envelope with a counter id.
    pub fn valid() -> Envelope {
        Envelope {
            bend: Mostly::usual(Bend::Id(IdPlan::Counter)),
        }
    }

    /// An envelope bent by `bend`.
    pub fn bent(bend: Bend) -> Envelope {
        Envelope {
            bend: Mostly::unusual(bend),
        }
    }

    /// The id plan in force.
    pub fn id_plan(&self) -> IdPlan {
        match self.bend.get() {
            Some(Bend::Id(id) | Bend::Both(id, _)) => *id,
            _ => IdPlan::Counter,
        }
    }

    /// The member mutation in force, if any.
    pub fn mutation(&self) -> Option<&EnvelopeMutation> {
        match self.bend.get() {
            Some(Bend::Member(mutation) | Bend::Both(_, mutation)) => Some(mutation),
            _ => None,
        }
    }
}

impl Default for Envelope {
    fn default() -> Envelope {
        Envelope::valid()
    }
}

/// Builds a request; an id is remembered for duplicates and cancellations.
pub(crate) fn request(
    out: &mut Out,
    envelope: &Envelope,
    method: &str,
    params: Option<Value>,
) -> Value {
    let id = envelope.id_plan().value(out);
    if let Some(id) = &id {
        out.ids.remember(id);
    }
    message(out, envelope.mutation(), id, method, params)
}

/// Builds a notification (a message without an id).
pub(crate) fn notification(
    out: &mut Out,
    mutation: &Mostly<EnvelopeMutation>,
    method: &str,
    params: Option<Value>,
) -> Value {
    message(out, mutation.get(), None, method, params)
}

/// Builds `{"jsonrpc","id","method","params"}` and applies one mutation.
pub(crate) fn message(
    out: &mut Out,
    mutation: Option<&EnvelopeMutation>,
    id: Option<Value>,
    method: &str,
    mut params: Option<Value>,
) -> Value {
    let mut method = Value::String(method.to_owned());
    let mut version = Some(json!("2.0"));
    let mut extras: Vec<(String, Value)> = Vec::new();
    let mut reversed = false;
    match mutation {
        None => {}
        Some(EnvelopeMutation::Version(plan)) => version = version_value(*plan),
        Some(EnvelopeMutation::Params(plan)) => params = params_value(out, *plan, params),
        Some(EnvelopeMutation::Extra(extra)) => extras.push(extra_member(out, extra)),
        Some(EnvelopeMutation::Reversed) => reversed = true,
        Some(EnvelopeMutation::MethodType(junk)) => method = values::junk(out, junk),
        Some(EnvelopeMutation::Meta(plan)) => {
            let meta = meta_value(out, *plan);
            match &mut params {
                Some(Value::Object(map)) => {
                    map.insert("_meta".to_owned(), meta);
                }
                None => params = Some(json!({ "_meta": meta })),
                Some(_) => {}
            }
        }
    }
    let mut members: Vec<(String, Value)> = Vec::with_capacity(5);
    if let Some(version) = version {
        members.push(("jsonrpc".to_owned(), version));
    }
    if let Some(id) = id {
        members.push(("id".to_owned(), id));
    }
    members.push(("method".to_owned(), method));
    if let Some(params) = params {
        members.push(("params".to_owned(), params));
    }
    members.extend(extras);
    if reversed {
        members.reverse();
    }
    Value::Object(members.into_iter().collect::<Map<String, Value>>())
}

fn version_value(plan: VersionPlan) -> Option<Value> {
    Some(match plan {
        VersionPlan::Absent => return None,
        VersionPlan::One => json!("1.0"),
        VersionPlan::Number => json!(2.0),
        VersionPlan::Integer => json!(2),
        VersionPlan::Null => Value::Null,
        VersionPlan::Empty => json!(""),
        VersionPlan::Padded => json!("2.0 "),
        VersionPlan::Three => json!("3.0"),
        VersionPlan::Array => json!(["2.0"]),
        VersionPlan::Short => json!("2"),
    })
}

fn params_value(out: &Out, plan: ParamsPlan, params: Option<Value>) -> Option<Value> {
    Some(match plan {
        ParamsPlan::Absent => return None,
        ParamsPlan::Null => Value::Null,
        ParamsPlan::EmptyObject => json!({}),
        ParamsPlan::Array => Value::Array(params.into_iter().collect()),
        ParamsPlan::EmptyArray => json!([]),
        ParamsPlan::Stringified => {
            let text = out.render(&params.unwrap_or_else(|| json!({})));
            Value::String(String::from_utf8_lossy(&text).into_owned())
        }
        ParamsPlan::Number => json!(0),
        ParamsPlan::Bool => json!(true),
    })
}

fn extra_member(out: &mut Out, extra: &ExtraMember) -> (String, Value) {
    match extra {
        ExtraMember::Unknown(junk) => ("extra".to_owned(), values::junk(out, junk)),
        ExtraMember::Result => ("result".to_owned(), json!({})),
        ExtraMember::Error => ("error".to_owned(), json!({"code": -32600, "message": "x"})),
        ExtraMember::TopMeta => ("_meta".to_owned(), json!({})),
        ExtraMember::DuplicateId => (out.splice_inline(b"id".to_vec()), json!(out.ids.fresh())),
        ExtraMember::DuplicateMethod => (out.splice_inline(b"method".to_vec()), json!("ping")),
        ExtraMember::DuplicateVersion => (out.splice_inline(b"jsonrpc".to_vec()), json!("1.0")),
        ExtraMember::EmptyKey => (String::new(), Value::Null),
    }
}

fn meta_value(out: &mut Out, plan: MetaPlan) -> Value {
    match plan {
        MetaPlan::IntegerToken => json!({"progressToken": out.ids.fresh()}),
        MetaPlan::StringToken => json!({"progressToken": format!("p-{}", out.ids.fresh())}),
        MetaPlan::NullToken => json!({"progressToken": null}),
        MetaPlan::ObjectToken => json!({"progressToken": {}}),
        MetaPlan::NotAnObject => json!("x"),
        MetaPlan::Empty => json!({}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::grammar::context::IdState;

    fn line(envelope: &Envelope, ids: &mut IdState) -> String {
        let catalog = Catalog::default();
        let mut out = Out::new(&catalog, ids, 1 << 20);
        let value = request(
            &mut out,
            envelope,
            "tools/list",
            Some(json!({"cursor": "c"})),
        );
        String::from_utf8(out.line(&value)).unwrap()
    }

    fn envelope(id: Option<IdPlan>, mutation: Option<EnvelopeMutation>) -> Envelope {
        match (id, mutation) {
            (None, None) => Envelope::valid(),
            (Some(id), None) => Envelope::bent(Bend::Id(id)),
            (None, Some(mutation)) => Envelope::bent(Bend::Member(mutation)),
            (Some(id), Some(mutation)) => Envelope::bent(Bend::Both(id, mutation)),
        }
    }

    #[test]
    fn valid_envelopes_use_the_counter() {
        let mut ids = IdState::new();
        assert_eq!(
            line(&envelope(None, None), &mut ids),
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{\"cursor\":\"c\"}}\n"
        );
        assert_eq!(
            line(&envelope(Some(IdPlan::Duplicate(0)), None), &mut ids),
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{\"cursor\":\"c\"}}\n"
        );
        assert!(line(&envelope(Some(IdPlan::Missing), None), &mut ids)
            .starts_with("{\"jsonrpc\":\"2.0\",\"method\""));
    }

    #[test]
    fn mutations_bend_the_envelope() {
        let mut ids = IdState::new();
        let cases = [
            (
                EnvelopeMutation::Version(VersionPlan::Number),
                "{\"jsonrpc\":2.0,\"id\":1,\"method\":\"tools/list\",\"params\":{\"cursor\":\"c\"}}\n",
            ),
            (
                EnvelopeMutation::Params(ParamsPlan::Stringified),
                "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\",\"params\":\"{\\\"cursor\\\":\\\"c\\\"}\"}\n",
            ),
            (
                EnvelopeMutation::Extra(ExtraMember::DuplicateId),
                "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/list\",\"params\":{\"cursor\":\"c\"},\"id\":4}\n",
            ),
            (
                EnvelopeMutation::Reversed,
                "{\"params\":{\"cursor\":\"c\"},\"method\":\"tools/list\",\"id\":5,\"jsonrpc\":\"2.0\"}\n",
            ),
            (
                EnvelopeMutation::Meta(MetaPlan::IntegerToken),
                "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"tools/list\",\"params\":{\"cursor\":\"c\",\"_meta\":{\"progressToken\":7}}}\n",
            ),
        ];
        for (mutation, expected) in cases {
            assert_eq!(
                line(&envelope(None, Some(mutation.clone())), &mut ids),
                expected,
                "{mutation:?}"
            );
        }
    }
}
