//! Values of single properties: a schema node plus a `FieldPlan` give one value, valid
//! or deliberately not. Objects and arrays recurse with the plan rotation, so nested
//! properties and array items get plans of their own.

use serde_json::{json, Map, Value};

use super::args::{self, ContainerPlan, FieldPlan, WrongType};
use super::context::{Out, Rng};
use super::pattern;
use super::payloads;
use super::schema::{Kind, Node};
use super::values::{self, Boundary, Bounds, NearMiss};

/// Nesting beyond which schema-driven objects and arrays are cut off (recursive schemas).
const MAX_DEPTH: usize = 10;
/// The most items a valid array gets from `minItems`.
const MAX_VALID_ITEMS: usize = 4096;
/// The most items any array gets.
const MAX_ITEMS: usize = 100_000;
/// Items generated one by one; later ones are copies.
const GENERATED_ITEMS: usize = 64;

/// Valid strings for common `format`s.
const FORMATS: &[(&str, &[&str])] = &[
    (
        "uri",
        &[
            "https://example.com/a?b=1#c",
            "file:///tmp/a.txt",
            "urn:x:y",
        ],
    ),
    ("url", &["https://example.com/a"]),
    ("uri-reference", &["a/b", "#f", "https://example.com/"]),
    ("email", &["a@example.com", "first.last+tag@example.org"]),
    (
        "date-time",
        &["2024-01-01T00:00:00Z", "1970-01-01T00:00:00.000+00:00"],
    ),
    ("date", &["2024-02-29", "1970-01-01"]),
    ("time", &["23:59:59Z", "00:00:00+01:00"]),
    (
        "uuid",
        &[
            "123e4567-e89b-12d3-a456-426614174000",
            "00000000-0000-0000-0000-000000000000",
        ],
    ),
    ("ipv4", &["127.0.0.1", "0.0.0.0"]),
    ("ipv6", &["::1", "fe80::1"]),
    ("hostname", &["localhost", "example.com"]),
    ("duration", &["P1D", "PT1S"]),
    ("regex", &["^a+$"]),
    ("json-pointer", &["/a/0"]),
    ("byte", &["aGVsbG8="]),
];

/// Strings that break common `format`s.
const BAD_FORMATS: &[(&str, &[&str])] = &[
    (
        "uri",
        &[
            "not a uri",
            "://",
            "http://",
            "file://",
            "http://[::1",
            "http://a:99999/",
            "urn:",
        ],
    ),
    ("url", &["not a url", "http//a", "https://"]),
    ("email", &["@", "a@", "@b", "a@@b", "a b@c"]),
    (
        "date-time",
        &[
            "2024-02-30T25:61:61Z",
            "0000-00-00T00:00:00Z",
            "2024-13-01",
            "9999-12-31T23:59:60+99:99",
        ],
    ),
    ("date", &["2024-02-30", "24-1-1", "2024/01/01"]),
    (
        "uuid",
        &[
            "0000",
            "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz",
            "{00000000-0000-0000-0000-000000000000}",
        ],
    ),
    ("ipv4", &["256.256.256.256", "1.2.3", "01.02.03.04"]),
    ("hostname", &["-a-", "a..b", "localhost."]),
];

/// Generic troublemakers for string fields without a format.
const BAD_GENERIC: &[&str] = &[
    "null",
    "undefined",
    "NaN",
    "true",
    "[]",
    "{}",
    "-",
    "0x10",
    "None",
    "nil",
];

/// Plain valid strings, before length fitting.
const PLAIN: &[&str] = &["test", "a", "hello world", "x1", "0"];

/// Generates values for one arguments object.
pub(crate) struct Generator<'s, 'p> {
    root: &'s Value,
    plans: &'p [FieldPlan],
    seed: u64,
}

const VALID: FieldPlan = FieldPlan::Valid(0);

impl<'s, 'p> Generator<'s, 'p> {
    /// A generator for the schema `root` with the rotated `plans`; `seed` spreads choices.
    pub(crate) fn new(root: &'s Value, plans: &'p [FieldPlan], seed: u64) -> Generator<'s, 'p> {
        Generator { root, plans, seed }
    }

    fn plan(&self, index: usize) -> &FieldPlan {
        if self.plans.is_empty() {
            &VALID
        } else {
            &self.plans[index % self.plans.len()]
        }
    }

    fn rng(&self, index: usize, depth: usize) -> Rng {
        Rng::new(self.seed ^ ((index as u64) << 20) ^ ((depth as u64) << 48))
    }

    /// The value of the schema at plan `index`; `None` when it is to be left out.
    /// `forced` overrides the rotation (boundary objects pass their plan down).
    fn generate(
        &mut self,
        out: &mut Out,
        schema: &'s Value,
        index: usize,
        depth: usize,
        forced: Option<&FieldPlan>,
    ) -> Option<Value> {
        // Nested arrays multiply: a node limit keeps odd schemas from costing seconds.
        if !out.take_node() {
            return Some(Value::Null);
        }
        let plan = forced.unwrap_or_else(|| self.plan(index)).clone();
        let mut rng = self.rng(index, depth);
        let pick = match plan {
            FieldPlan::Valid(seed) => u64::from(seed) ^ rng.next_u64(),
            _ => rng.next_u64(),
        };
        let node = Node::resolve(self.root, schema, pick);
        let kind = node.kind(pick);
        Some(match &plan {
            FieldPlan::Omit => return None,
            FieldPlan::Null => Value::Null,
            FieldPlan::Valid(_) => self.valid(out, &node, kind, pick, index, depth),
            FieldPlan::Boundary(boundary) => {
                self.boundary(out, &node, kind, *boundary, index, depth)
            }
            FieldPlan::Str(string) => {
                let base = self.base_string(out, &node, pick);
                values::string(out, string, &base)
            }
            FieldPlan::WrongType(wrong) => {
                self.wrong_type(out, &node, kind, *wrong, pick, index, depth)
            }
            FieldPlan::EnumViolation(near_miss, seed) => {
                self.enum_violation(out, &node, *near_miss, *seed)
            }
            FieldPlan::Deep(deep) => values::deep(out, *deep),
            FieldPlan::Container(container) => {
                self.container(out, &node, kind, container, pick, index, depth)
            }
            FieldPlan::Token(pick) => match out.token(*pick) {
                Some(token) => token_value(token, kind),
                None => self.valid(out, &node, kind, u64::from(*pick), index, depth),
            },
            FieldPlan::Harvested(pick) => match out.harvested(*pick) {
                Some(token) => token_value(token, kind),
                None => self.valid(out, &node, kind, u64::from(*pick), index, depth),
            },
            FieldPlan::BadFormat(pick) => {
                Value::String(bad_format(node.string("format"), *pick).to_owned())
            }
            FieldPlan::Payload(payload) => {
                let base = self.base_string(out, &node, pick);
                let nonce = out.ids.payload_nonce();
                Value::String(payloads::render(payload, nonce, &base))
            }
        })
    }

    fn valid(
        &mut self,
        out: &mut Out,
        node: &Node<'s>,
        kind: Kind,
        pick: u64,
        index: usize,
        depth: usize,
    ) -> Value {
        if let Some(constant) = node.get("const") {
            return constant.clone();
        }
        if let Some(members) = node.enumeration() {
            return members[(pick % members.len() as u64) as usize].clone();
        }
        // A quarter of valid values each come from the schema's default and examples,
        // which authors pick to work.
        match pick % 4 {
            1 => {
                if let Some(default) = node.get("default") {
                    return default.clone();
                }
            }
            2 => {
                if let Some(Value::Array(examples)) = node.get("examples") {
                    if !examples.is_empty() {
                        return examples[(pick / 4 % examples.len() as u64) as usize].clone();
                    }
                }
            }
            _ => {}
        }
        match kind {
            Kind::Str | Kind::Any => Value::String(self.valid_string(out, node, pick)),
            Kind::Int | Kind::Num => valid_number(node, kind == Kind::Int, pick),
            Kind::Bool => Value::Bool(pick & 1 == 1),
            Kind::Null => Value::Null,
            Kind::Array => self.array(out, node, None, index, depth, None),
            Kind::Object if depth >= MAX_DEPTH => json!({}),
            Kind::Object => Value::Object(self.object(out, node, index + 1, depth, None)),
        }
    }

    fn valid_string(&self, out: &mut Out, node: &Node<'s>, pick: u64) -> String {
        if let Some(samples) = node
            .string("format")
            .and_then(|format| lookup(FORMATS, format))
        {
            return samples[(pick / 8 % samples.len() as u64) as usize].to_owned();
        }
        if let Some(pattern) = node.string("pattern") {
            if let Some(sample) = pattern::sample(pattern, &mut Rng::new(pick)) {
                return sample;
            }
        }
        let min = node.count("minLength").unwrap_or(0);
        let max = node.count("maxLength").unwrap_or(usize::MAX);
        let token = out
            .token((pick / 8) as u8)
            .filter(|token| (min..=max).contains(&token.chars().count()));
        let base = match token {
            Some(token) if pick % 4 == 3 => token,
            _ => PLAIN[(pick / 8 % PLAIN.len() as u64) as usize],
        };
        let length = base.chars().count().clamp(min, max.max(min));
        values::fit_length(out, base, length)
    }

    /// The field's usual string, the base that edge cases are built around.
    fn base_string(&self, out: &mut Out, node: &Node<'s>, pick: u64) -> String {
        let constant = node
            .get("const")
            .or_else(|| node.enumeration().and_then(|e| e.first()));
        match constant {
            Some(Value::String(text)) => text.clone(),
            _ => self.valid_string(out, node, pick),
        }
    }

    /// The object of `node`'s properties; property `i` uses plan `first_index + i`.
    pub(crate) fn object(
        &mut self,
        out: &mut Out,
        node: &Node<'s>,
        first_index: usize,
        depth: usize,
        forced: Option<&FieldPlan>,
    ) -> Map<String, Value> {
        let mut object = Map::new();
        let properties = node.properties();
        for (offset, (name, schema)) in properties.iter().enumerate() {
            if let Some(value) = self.generate(out, schema, first_index + offset, depth + 1, forced)
            {
                object.insert((*name).to_owned(), value);
            }
        }
        // Required names without a declared schema still get a value, so that a valid
        // plan stays valid.
        for name in node.required() {
            if !properties.iter().any(|(known, _)| *known == name) && !object.contains_key(name) {
                object.insert(name.to_owned(), json!("a"));
            }
        }
        if properties.is_empty() {
            if let Some(schema @ Value::Object(_)) = node.get("additionalProperties") {
                if let Some(value) = self.generate(out, schema, first_index, depth + 1, forced) {
                    object.insert("key".to_owned(), value);
                }
            }
        }
        object
    }

    /// An array of `count` items (or the schema's valid count); items continue the
    /// plan rotation, past the first 64 items they are copies.
    fn array(
        &mut self,
        out: &mut Out,
        node: &Node<'s>,
        count: Option<usize>,
        index: usize,
        depth: usize,
        forced: Option<&FieldPlan>,
    ) -> Value {
        if depth >= MAX_DEPTH {
            return json!([]);
        }
        let min = node.count("minItems").unwrap_or(0);
        let max = node.count("maxItems").unwrap_or(usize::MAX);
        let wanted = count.unwrap_or_else(|| {
            (1 + index % 2)
                .clamp(min, max.max(min))
                .min(MAX_VALID_ITEMS)
        });
        let count = wanted.min(MAX_ITEMS);
        let tuple = node
            .get("prefixItems")
            .or_else(|| node.get("items").filter(|items| items.is_array()))
            .and_then(Value::as_array);
        let items = node.get("items").filter(|items| items.is_object());
        let mut array: Vec<Value> = Vec::with_capacity(count.min(GENERATED_ITEMS));
        for position in 0..count.min(GENERATED_ITEMS) {
            let schema = tuple.and_then(|tuple| tuple.get(position)).or(items);
            let value = match schema {
                Some(schema) => self.generate(out, schema, index + 1 + position, depth + 1, forced),
                None => Some(json!("a")),
            };
            array.extend(value);
        }
        if count <= array.len() {
            Value::Array(array)
        } else {
            repeat_within_budget(out, &array, count)
        }
    }

    fn boundary(
        &mut self,
        out: &mut Out,
        node: &Node<'s>,
        kind: Kind,
        boundary: Boundary,
        index: usize,
        depth: usize,
    ) -> Value {
        match kind {
            Kind::Int | Kind::Num => {
                values::boundary_number(out, boundary, node.bounds(kind == Kind::Int))
            }
            Kind::Str => {
                let min = node.count("minLength");
                let max = node.count("maxLength");
                let length = match boundary {
                    Boundary::BelowMin => min.unwrap_or(0).saturating_sub(1),
                    Boundary::AtMin => min.unwrap_or(0),
                    Boundary::AtMax => max.unwrap_or(255),
                    Boundary::AboveMax => max.map_or(256, |max| max.saturating_add(1)),
                    Boundary::Zero => 0,
                    _ => return Value::String(values::boundary_text(boundary)),
                };
                let base = self.valid_string(out, node, 0);
                Value::String(values::fit_length(out, &base, length))
            }
            Kind::Array => {
                let min = node.count("minItems");
                let max = node.count("maxItems");
                let count = match boundary {
                    Boundary::BelowMin => min.unwrap_or(0).saturating_sub(1),
                    Boundary::AtMin => min.unwrap_or(0),
                    Boundary::AtMax => max.unwrap_or(64),
                    Boundary::AboveMax => max.map_or(1000, |max| max.saturating_add(1)),
                    Boundary::Zero => 0,
                    Boundary::One => 1,
                    // Other classes apply to one item.
                    _ => {
                        let plan = FieldPlan::Boundary(boundary);
                        return self.array(out, node, Some(1), index, depth, Some(&plan));
                    }
                };
                self.array(out, node, Some(count), index, depth, None)
            }
            Kind::Object if depth < MAX_DEPTH => {
                let plan = FieldPlan::Boundary(boundary);
                Value::Object(self.object(out, node, index + 1, depth, Some(&plan)))
            }
            _ => values::boundary_number(out, boundary, Bounds::default()),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn wrong_type(
        &mut self,
        out: &mut Out,
        node: &Node<'s>,
        kind: Kind,
        wrong: WrongType,
        pick: u64,
        index: usize,
        depth: usize,
    ) -> Value {
        const ORDER: [WrongType; 10] = [
            WrongType::Str,
            WrongType::Number,
            WrongType::Fraction,
            WrongType::Bool,
            WrongType::Object,
            WrongType::Array,
            WrongType::ArrayOfValid,
            WrongType::ObjectWrapping,
            WrongType::Null,
            WrongType::Stringified,
        ];
        let allowed = node.kinds();
        let clashes = |wrong: WrongType| {
            let produced: &[Kind] = match wrong {
                WrongType::Str | WrongType::Stringified => &[Kind::Str],
                WrongType::Number => &[Kind::Int, Kind::Num],
                WrongType::Fraction => &[Kind::Num],
                WrongType::Bool => &[Kind::Bool],
                WrongType::Object | WrongType::ObjectWrapping => &[Kind::Object],
                WrongType::Array | WrongType::ArrayOfValid => &[Kind::Array],
                WrongType::Null => &[Kind::Null],
            };
            produced.iter().any(|kind| allowed.contains(kind))
        };
        let start = ORDER.iter().position(|&w| w == wrong).unwrap_or(0);
        let wrong = (0..ORDER.len())
            .map(|step| ORDER[(start + step) % ORDER.len()])
            .find(|&w| !clashes(w))
            .unwrap_or(wrong);
        match wrong {
            WrongType::Str => Value::String(match kind {
                Kind::Int | Kind::Num => valid_number(node, kind == Kind::Int, pick).to_string(),
                Kind::Bool => "true".to_owned(),
                _ => "a".to_owned(),
            }),
            WrongType::Number => json!(1),
            WrongType::Fraction => json!(1.5),
            WrongType::Bool => json!(true),
            WrongType::Object => json!({}),
            WrongType::Array => json!([]),
            WrongType::ArrayOfValid => json!([self.valid(out, node, kind, pick, index, depth)]),
            WrongType::ObjectWrapping => {
                json!({"value": self.valid(out, node, kind, pick, index, depth)})
            }
            WrongType::Null => Value::Null,
            WrongType::Stringified => {
                let valid = self.valid(out, node, kind, pick, index, depth);
                Value::String(String::from_utf8_lossy(&out.render(&valid)).into_owned())
            }
        }
    }

    fn enum_violation(
        &self,
        out: &mut Out,
        node: &Node<'s>,
        near_miss: NearMiss,
        seed: u8,
    ) -> Value {
        let members: Vec<Value> = match (node.enumeration(), node.get("const")) {
            (Some(members), _) => members.clone(),
            (None, Some(constant)) => vec![constant.clone()],
            (None, None) => {
                return Value::String(near_miss.apply(&self.valid_string(
                    out,
                    node,
                    u64::from(seed),
                )))
            }
        };
        let base = &members[usize::from(seed) % members.len()];
        match base {
            Value::String(text) => {
                let mut candidate = near_miss.apply(text);
                while members
                    .iter()
                    .any(|member| member.as_str() == Some(candidate.as_str()))
                {
                    candidate.push('_');
                }
                Value::String(candidate)
            }
            Value::Number(_) => {
                let highest = members
                    .iter()
                    .filter_map(Value::as_f64)
                    .fold(f64::MIN, f64::max);
                match near_miss {
                    // The number as a string: the type confusion a loose comparison accepts.
                    NearMiss::Upper | NearMiss::Lower | NearMiss::FlipFirstCase => {
                        Value::String(base.to_string())
                    }
                    _ => values::number(highest.floor() + 1.0),
                }
            }
            Value::Bool(flag) => Value::String(flag.to_string()),
            _ => Value::String(near_miss.apply("a")),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn container(
        &mut self,
        out: &mut Out,
        node: &Node<'s>,
        kind: Kind,
        plan: &ContainerPlan,
        pick: u64,
        index: usize,
        depth: usize,
    ) -> Value {
        let valid_plan = FieldPlan::Valid(pick as u8);
        let valid = |generator: &mut Self, out: &mut Out| {
            generator.valid(out, node, kind, pick, index, depth)
        };
        if depth >= MAX_DEPTH {
            return json!({});
        }
        match (kind, plan) {
            (Kind::Array, ContainerPlan::Empty) => json!([]),
            (Kind::Object, ContainerPlan::Empty) => json!({}),
            (Kind::Object, ContainerPlan::Many(size)) => {
                let count = out.take_budget(size.count() * 12) / 12;
                Value::Object((0..count).map(|i| (format!("k{i}"), json!(i))).collect())
            }
            (Kind::Object, ContainerPlan::Duplicates) => {
                let mut object = self.object(out, node, index + 1, depth, Some(&valid_plan));
                if let Some((name, value)) =
                    object.iter().next().map(|(k, v)| (k.clone(), v.clone()))
                {
                    object.insert(out.splice_inline(args::escaped_key(&name)), value);
                }
                Value::Object(object)
            }
            (Kind::Object, ContainerPlan::Mixed) => {
                let object = self.object(
                    out,
                    node,
                    index + 1,
                    depth,
                    Some(&FieldPlan::Container(ContainerPlan::Mixed)),
                );
                Value::Object(object)
            }
            (Kind::Object, ContainerPlan::ExtraKey(key)) => {
                let mut object = self.object(out, node, index + 1, depth, Some(&valid_plan));
                let key = args::extra_key(out, key, &property_names(node));
                object.insert(key, json!("a"));
                Value::Object(object)
            }
            (_, ContainerPlan::Nested) => json!({ "value": [valid(self, out)] }),
            (_, ContainerPlan::Many(size)) => {
                let item = valid(self, out);
                repeat_within_budget(out, &[item], size.count())
            }
            (_, ContainerPlan::Duplicates) => {
                let item = valid(self, out);
                json!([item.clone(), item])
            }
            (_, ContainerPlan::Mixed) => json!([valid(self, out), 1, "a", null, {}, []]),
            (_, ContainerPlan::ExtraKey(key)) => {
                let key = args::extra_key(out, key, &property_names(node));
                let mut object = Map::new();
                object.insert(key, valid(self, out));
                Value::Object(object)
            }
            (_, ContainerPlan::Empty) => json!([]),
        }
    }
}

/// An array of `count` items taking `items` in turn, as many as the budget pays for at
/// their rendered size. It is built as text: copying rendered bytes is much cheaper
/// than cloning and serializing hundreds of thousands of small values.
fn repeat_within_budget(out: &mut Out, items: &[Value], count: usize) -> Value {
    if items.is_empty() {
        return json!([]);
    }
    let rendered: Vec<Vec<u8>> = items.iter().map(|item| out.render(item)).collect();
    let per_item = rendered
        .iter()
        .map(|text| text.len() + 1)
        .sum::<usize>()
        .div_ceil(items.len());
    let count = out.take_budget(count.saturating_mul(per_item)) / per_item;
    let mut text = Vec::with_capacity(count * per_item + 2);
    text.push(b'[');
    for (position, item) in rendered.iter().cycle().take(count).enumerate() {
        if position > 0 {
            text.push(b',');
        }
        text.extend_from_slice(item);
    }
    text.push(b']');
    out.splice_value(text)
}

/// A valid number for the bounds: 1, 0, the bounds, the middle, 42; clamped and rounded
/// to `multipleOf`.
fn valid_number(node: &Node, integer: bool, pick: u64) -> Value {
    let bounds = node.bounds(integer);
    // Exclusive bounds move inwards: by one for integers, by a quarter of the range (at
    // most one) for numbers.
    let span = match (bounds.min, bounds.max) {
        (Some(min), Some(max)) => ((max - min) / 4.0).min(1.0),
        _ => 1.0,
    };
    let inwards = |exclusive: bool| match (exclusive, integer) {
        (false, _) => 0.0,
        (true, true) => 1.0,
        (true, false) => span,
    };
    let low = bounds
        .min
        .map_or(f64::MIN, |min| min + inwards(bounds.exclusive_min));
    let high = bounds
        .max
        .map_or(f64::MAX, |max| max - inwards(bounds.exclusive_max))
        .max(low);
    let candidates = [
        if integer { 1.0 } else { 1.5 },
        0.0,
        bounds.min.unwrap_or(2.0),
        bounds.max.unwrap_or(3.0),
        match (bounds.min, bounds.max) {
            (Some(min), Some(max)) => (min + max) / 2.0,
            _ => 10.0,
        },
        42.0,
    ];
    let mut x = candidates[(pick % candidates.len() as u64) as usize].clamp(low, high);
    if integer {
        x = x.ceil().min(high.floor());
    }
    if let Some(step) = node.number("multipleOf").filter(|step| *step > 0.0) {
        let rounded = (x / step).ceil() * step;
        x = if rounded <= high {
            rounded
        } else {
            (x / step).floor() * step
        };
    }
    values::number(x)
}

/// A token as the field's type when it reads as one.
fn token_value(token: &str, kind: Kind) -> Value {
    match kind {
        Kind::Int | Kind::Num => token
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .map_or_else(|| Value::String(token.to_owned()), values::number),
        _ => Value::String(token.to_owned()),
    }
}

fn lookup<'t>(table: &[(&str, &'t [&'t str])], format: &str) -> Option<&'t [&'t str]> {
    table
        .iter()
        .find(|(name, _)| *name == format)
        .map(|(_, samples)| *samples)
}

fn bad_format(format: Option<&str>, pick: u8) -> &'static str {
    let table = format
        .and_then(|format| lookup(BAD_FORMATS, format))
        .unwrap_or(BAD_GENERIC);
    values::pick_from(table, pick)
}

fn property_names<'s>(node: &Node<'s>) -> Vec<&'s str> {
    node.properties().iter().map(|(name, _)| *name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::grammar::args::{tool_arguments, ArgsPlan};
    use crate::grammar::context::IdState;

    pub(crate) fn rich_schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "count": {"type": "integer", "minimum": 1, "maximum": 10},
                "mode": {"enum": ["fast", "slow"]},
                "path": {"type": "string", "minLength": 2, "maxLength": 8},
                "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 3},
                "target": {"$ref": "#/$defs/target"},
                "when": {"type": ["string", "null"], "format": "date-time"},
                "ratio": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}
            },
            "required": ["count", "path"],
            "additionalProperties": false,
            "$defs": {
                "target": {
                    "anyOf": [
                        {"type": "object", "properties": {"id": {"type": "string", "pattern": "^[a-f0-9]{4}$"}}, "required": ["id"]},
                        {"type": "integer", "minimum": 100}
                    ]
                }
            }
        })
    }

    fn arguments(schema: &Value, fields: Vec<FieldPlan>, seed: u16) -> Value {
        let catalog = Catalog::default();
        let mut ids = IdState::new();
        let mut out = Out::new(&catalog, &mut ids, 1 << 22);
        let plan = ArgsPlan {
            fields,
            seed,
            ..ArgsPlan::default()
        };
        let value = tool_arguments(&mut out, schema, &plan).unwrap();
        let text = out.line(&value);
        serde_json::from_slice(&text).unwrap()
    }

    #[test]
    fn valid_plans_respect_the_schema() {
        let schema = rich_schema();
        for seed in 0..64 {
            let args = arguments(&schema, vec![], seed);
            let count = args["count"].as_i64().unwrap();
            assert!((1..=10).contains(&count), "{args}");
            assert!(
                ["fast", "slow"].contains(&args["mode"].as_str().unwrap()),
                "{args}"
            );
            let path = args["path"].as_str().unwrap();
            assert!((2..=8).contains(&path.chars().count()), "{args}");
            let tags = args["tags"].as_array().unwrap();
            assert!(
                (1..=3).contains(&tags.len()) && tags.iter().all(Value::is_string),
                "{args}"
            );
            let ratio = args["ratio"].as_f64().unwrap();
            assert!(ratio > 0.0 && ratio < 1.0, "{args}");
            match &args["target"] {
                Value::Object(target) => {
                    let id = target["id"].as_str().unwrap();
                    assert!(
                        id.len() == 4 && id.chars().all(|c| c.is_ascii_hexdigit()),
                        "{args}"
                    );
                }
                Value::Number(n) => assert!(n.as_i64().unwrap() >= 100, "{args}"),
                other => panic!("target {other}"),
            }
            assert!(
                args["when"].is_null() || args["when"].as_str().unwrap().contains('T'),
                "{args}"
            );
        }
    }

    #[test]
    fn plans_rotate_over_sorted_properties() {
        // Sorted: count, mode, path, ratio, tags, target, when.
        let args = arguments(
            &rich_schema(),
            vec![
                FieldPlan::Boundary(Boundary::AboveMax),
                FieldPlan::EnumViolation(NearMiss::Upper, 1),
                FieldPlan::Omit,
            ],
            0,
        );
        assert_eq!(args["count"], json!(11));
        assert_eq!(args["mode"], json!("SLOW"));
        assert!(args.get("path").is_none(), "missing required: {args}");
        assert_eq!(args["ratio"], json!(2), "{args}");
        assert!(
            args["tags"]
                .as_str()
                .is_some_and(|tags| tags.chars().all(char::is_uppercase)),
            "{args}"
        );
        assert!(args.get("target").is_none(), "{args}");
        let at_max = arguments(
            &rich_schema(),
            vec![FieldPlan::Boundary(Boundary::AtMax)],
            0,
        );
        assert_eq!(
            at_max["ratio"].as_f64(),
            Some(1.0),
            "exclusive maximum itself: {at_max}"
        );
        assert_eq!(at_max["count"], json!(10));
    }

    #[test]
    fn boundaries_of_lengths_and_counts() {
        let schema = rich_schema();
        let below = arguments(&schema, vec![FieldPlan::Boundary(Boundary::BelowMin)], 0);
        assert_eq!(below["count"], json!(0));
        assert_eq!(below["path"].as_str().unwrap().len(), 1);
        assert_eq!(below["tags"], json!([]));
        let above = arguments(&schema, vec![FieldPlan::Boundary(Boundary::AboveMax)], 0);
        assert_eq!(above["path"].as_str().unwrap().len(), 9);
        assert_eq!(above["tags"].as_array().unwrap().len(), 4);
        let huge = arguments(&schema, vec![FieldPlan::Boundary(Boundary::U64Max)], 0);
        assert_eq!(huge["count"], json!(u64::MAX));
        assert_eq!(huge["path"], json!("18446744073709551615"));
        assert_eq!(huge["tags"], json!(["18446744073709551615"]));
    }

    #[test]
    fn wrong_types_never_match_the_declared_type() {
        let schema = rich_schema();
        let args = arguments(&schema, vec![FieldPlan::WrongType(WrongType::Str)], 0);
        assert!(args["count"].is_string(), "{args}");
        assert!(args["path"].is_number(), "{args}");
        assert!(args["tags"].is_string(), "{args}");
        let args = arguments(&schema, vec![FieldPlan::WrongType(WrongType::Null)], 0);
        assert!(args["count"].is_null());
        assert!(
            !args["when"].is_null() && !args["when"].is_string(),
            "{args}"
        );
        let args = arguments(&schema, vec![FieldPlan::WrongType(WrongType::Number)], 0);
        assert_eq!(args["count"], json!(1.5));
    }

    #[test]
    fn refs_to_definitions_and_type_arrays() {
        let schema = json!({
            "type": "object",
            "properties": {"a": {"$ref": "#/definitions/level"}},
            "definitions": {"level": {"type": "string", "enum": ["debug", "info"]}}
        });
        assert_eq!(
            arguments(&schema, vec![FieldPlan::Valid(0)], 0)["a"]
                .as_str()
                .map(|s| s.len() >= 4),
            Some(true)
        );
        let violation = arguments(
            &schema,
            vec![FieldPlan::EnumViolation(NearMiss::DropLast, 0)],
            0,
        );
        assert_eq!(violation["a"], json!("debu"));
        let numeric = json!({"properties": {"n": {"enum": [1, 2, 3]}}});
        assert_eq!(
            arguments(
                &numeric,
                vec![FieldPlan::EnumViolation(NearMiss::Empty, 0)],
                0
            )["n"],
            json!(4)
        );
        assert_eq!(
            arguments(
                &numeric,
                vec![FieldPlan::EnumViolation(NearMiss::Upper, 1)],
                0
            )["n"],
            json!("2")
        );
    }

    #[test]
    fn recursive_schemas_terminate() {
        let schema = json!({
            "type": "object",
            "properties": {"node": {"$ref": "#/$defs/node"}},
            "$defs": {"node": {"type": "object", "properties": {"child": {"$ref": "#/$defs/node"}}, "required": ["child"]}}
        });
        let args = arguments(&schema, vec![], 0);
        assert!(args["node"]["child"]["child"].is_object());
        let cyclic = json!({"$ref": "#"});
        assert_eq!(arguments(&cyclic, vec![], 0), json!({}));
    }
}
