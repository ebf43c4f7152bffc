//! Schema-aware argument values: a tool's `inputSchema` plus an `ArgsPlan` give the
//! `arguments` object of a `tools/call`.
//!
//! The plan is a list of `FieldPlan`s applied to the schema's properties in sorted order
//! (property `i` uses plan `i % len`; nested properties and array items continue the
//! rotation), so that libFuzzer's byte mutations change one field's treatment at a time.
//! Nothing here knows any particular server: values come from the schema, the catalog's
//! tokens, and generic edge classes.

use arbitrary::Arbitrary;
use serde_json::{json, Value};

use super::context::Out;
use super::fields::Generator;
use super::payloads::PayloadPlan;
use super::schema::Node;
use super::values::{self, Boundary, DeepPlan, Junk, NearMiss, StringPlan};
use super::{Mostly, SmallBytes};

/// Extra properties added to one arguments object.
const MAX_EXTRAS: usize = 4;

/// How a tool's arguments are built.
#[derive(Arbitrary, Debug, Clone, PartialEq, Default)]
pub struct ArgsPlan {
    /// Arguments as a whole: an object unless the pick says otherwise.
    pub whole: Mostly<WholeArgs>,
    /// Per-property plans, rotated over the sorted properties; empty means all valid.
    pub fields: Vec<FieldPlan>,
    /// Unknown, duplicate and misspelled properties to add.
    pub extras: Vec<ExtraProperty>,
    /// Spreads value choices (enum member, anyOf branch, lengths) when plans do not say.
    pub seed: u16,
}

/// `arguments` as a whole when it is not the schema's object.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WholeArgs {
    /// No `arguments` member.
    #[default]
    Absent,
    /// `null`.
    Null,
    /// `{}`.
    EmptyObject,
    /// The property values as an array, by position.
    Array,
    /// The object as a JSON string.
    Stringified,
    /// `0`.
    Number,
    /// `true`.
    Bool,
    /// `[]`.
    EmptyArray,
}

/// What one property gets.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub enum FieldPlan {
    /// A value the schema accepts: enum member, default, example, token, in-range number,
    /// format sample or pattern sample, chosen by the seed.
    Valid(u8),
    /// A boundary number, length or item count.
    Boundary(Boundary),
    /// An edge-case string, whatever the type.
    Str(StringPlan),
    /// A value of another JSON type.
    WrongType(WrongType),
    /// `null`.
    Null,
    /// A near miss of an enum member (or of the const, or of a valid value).
    EnumViolation(NearMiss, u8),
    /// The property left out, required or not.
    Omit,
    /// Deep nesting.
    Deep(DeepPlan),
    /// Container edge cases: empty, huge, duplicates, extra keys.
    Container(ContainerPlan),
    /// A harvested catalog token.
    Token(u8),
    /// A value that breaks the declared `format`, or a generic troublemaker without one.
    BadFormat(u8),
    /// An injection payload, whatever the field's type (an enum's is violated).
    Payload(PayloadPlan),
    /// A token the target announced or said at run time, from the pool of
    /// [`tokens`](super::tokens), as the field's type when it reads as one; a valid value
    /// when the pool is empty.
    Harvested(u16),
}

/// A value of another JSON type than the field's; when the plan names the field's own
/// type, the next one in the list is used.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum WrongType {
    /// A string, numeric when the field is a number.
    Str,
    /// An integer.
    Number,
    /// 1.5.
    Fraction,
    /// `true`.
    Bool,
    /// `{}`.
    Object,
    /// `[]`.
    Array,
    /// The valid value inside an array.
    ArrayOfValid,
    /// The valid value inside `{"value": ...}`.
    ObjectWrapping,
    /// `null`.
    Null,
    /// The valid value as JSON text in a string.
    Stringified,
}

/// Container edge cases; scalars get wrapped.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub enum ContainerPlan {
    /// `[]` or `{}`.
    Empty,
    /// Many items (or keys).
    Many(ManySize),
    /// The same item twice (or a duplicate key).
    Duplicates,
    /// Items of mixed types.
    Mixed,
    /// An extra key, against `additionalProperties: false`.
    ExtraKey(KeyPlan),
    /// One more level of nesting.
    Nested,
}

/// Item counts for `ContainerPlan::Many`.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManySize {
    /// 10.
    Ten,
    /// 100.
    Hundred,
    /// 1,000.
    Thousand,
    /// 10,000.
    TenThousand,
}

impl ManySize {
    /// The number of items or keys.
    pub fn count(self) -> usize {
        match self {
            ManySize::Ten => 10,
            ManySize::Hundred => 100,
            ManySize::Thousand => 1000,
            ManySize::TenThousand => 10_000,
        }
    }
}

/// A property the schema does not declare.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub struct ExtraProperty {
    /// Its name.
    pub key: KeyPlan,
    /// Its value.
    pub value: Junk,
}

/// Names for extra properties.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub enum KeyPlan {
    /// `extra`.
    Unknown,
    /// `""`.
    Empty,
    /// A 1,024-character name.
    Long,
    /// A harvested token.
    Token(u8),
    /// A near miss of a declared property: `Path` beside `path`.
    NearMissOf(u8, NearMiss),
    /// A declared property a second time (a duplicate JSON key).
    DuplicateOf(u8),
    /// A Unicode edge case.
    Unicode(u8),
    /// Bytes chosen by the fuzzer.
    Free(SmallBytes),
}

/// The `arguments` value of a tools/call; `None` means the member is absent.
pub(crate) fn tool_arguments(out: &mut Out, schema: &Value, plan: &ArgsPlan) -> Option<Value> {
    let mut generator = Generator::new(schema, &plan.fields, u64::from(plan.seed));
    let node = Node::resolve(schema, schema, u64::from(plan.seed));
    let mut object = generator.object(out, &node, 0, 0, None);
    let names: Vec<&str> = node.properties().iter().map(|(name, _)| *name).collect();
    for extra in plan.extras.iter().take(MAX_EXTRAS) {
        let key = extra_key(out, &extra.key, &names);
        let value = values::junk(out, &extra.value);
        object.insert(key, value);
    }
    let Some(whole) = plan.whole.get() else {
        return Some(Value::Object(object));
    };
    Some(match whole {
        WholeArgs::Absent => return None,
        WholeArgs::Null => Value::Null,
        WholeArgs::EmptyObject => json!({}),
        WholeArgs::Array => Value::Array(object.into_iter().map(|(_, value)| value).collect()),
        WholeArgs::Stringified => {
            let text = out.render(&Value::Object(object));
            Value::String(String::from_utf8_lossy(&text).into_owned())
        }
        WholeArgs::Number => json!(0),
        WholeArgs::Bool => json!(true),
        WholeArgs::EmptyArray => json!([]),
    })
}

/// A JSON string's escaped text without the quotes, for a duplicate key splice.
pub(crate) fn escaped_key(name: &str) -> Vec<u8> {
    let quoted = serde_json::to_vec(name).expect("serializing a str is infallible");
    quoted[1..quoted.len() - 1].to_vec()
}

/// The name of an undeclared property beside the `declared` ones.
pub(crate) fn extra_key(out: &mut Out, plan: &KeyPlan, declared: &[&str]) -> String {
    let declared =
        |pick: u8| (!declared.is_empty()).then(|| declared[usize::from(pick) % declared.len()]);
    match plan {
        KeyPlan::Unknown => "extra".to_owned(),
        KeyPlan::Empty => String::new(),
        KeyPlan::Long => "k".repeat(1024),
        KeyPlan::Token(pick) => out.token(*pick).unwrap_or("token").to_owned(),
        KeyPlan::NearMissOf(pick, near_miss) => near_miss.apply(declared(*pick).unwrap_or("name")),
        KeyPlan::DuplicateOf(pick) => match declared(*pick) {
            Some(name) => out.splice_inline(escaped_key(name)),
            None => "extra".to_owned(),
        },
        KeyPlan::Unicode(pick) => values::pick_from(values::UNICODE_EDGES, *pick).to_owned(),
        KeyPlan::Free(bytes) => bytes.lossy(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::grammar::context::IdState;

    #[test]
    fn duplicate_keys_and_whole_arguments() {
        let catalog = Catalog::default();
        let mut ids = IdState::new();
        let mut out = Out::new(&catalog, &mut ids, 1 << 20);
        let schema = json!({"properties": {"path": {"type": "string"}}});
        let plan = ArgsPlan {
            extras: vec![ExtraProperty {
                key: KeyPlan::DuplicateOf(0),
                value: Junk::Null,
            }],
            ..ArgsPlan::default()
        };
        let value = tool_arguments(&mut out, &schema, &plan).unwrap();
        let line = String::from_utf8(out.line(&value)).unwrap();
        assert!(
            line.starts_with("{\"path\":\"") && line.ends_with("\",\"path\":null}\n"),
            "{line}"
        );
        let stringified = ArgsPlan {
            whole: Mostly::unusual(WholeArgs::Stringified),
            ..ArgsPlan::default()
        };
        let text = tool_arguments(&mut out, &schema, &stringified).unwrap();
        let inner: Value = serde_json::from_str(text.as_str().unwrap()).unwrap();
        assert!(inner["path"].is_string(), "{text}");
        let absent = ArgsPlan {
            whole: Mostly::unusual(WholeArgs::Absent),
            ..ArgsPlan::default()
        };
        assert_eq!(tool_arguments(&mut out, &schema, &absent), None);
    }
}
