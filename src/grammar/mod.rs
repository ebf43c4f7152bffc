//! The input model: libFuzzer's bytes decode into a [`Script`] of [`Step`]s, and a
//! [`Materializer`] turns a script into transcript [`Item`]s against the [`Catalog`] the
//! target announced.
//!
//! Every plan type derives `arbitrary::Arbitrary`, and most fields are small enums or
//! seeds so that a byte mutation changes one thing: one field's value class, one id, one
//! envelope member. Plans wrapped in [`Mostly`] stay on their usual (valid) path three
//! times in four, so that most messages reach the server's method handlers.
//!
//! Nothing here knows a particular server: values come from the catalog (tool schemas,
//! resources, templates, prompts, harvested tokens), from JSON-RPC and MCP, and from
//! generic edge classes (lengths, encodings, number limits, separators).
//!
//! ```
//! use mcpfuzz::grammar::{decode, describe, Materializer};
//! use mcpfuzz::Catalog;
//!
//! let script = decode(&[0, 1, 2, 3, 4, 5, 6, 7]);
//! println!("{}", describe(&script));
//! let mut materializer = Materializer::new();
//! let items = materializer.materialize(&script, &Catalog::default());
//! assert!(items.iter().filter_map(|item| item.as_frame()).all(|frame| frame.0.ends_with(b"\n")));
//! ```

pub mod args;
mod context;
pub mod dictionary;
mod encode;
pub mod envelope;
mod fields;
pub mod messages;
pub mod methods;
pub mod mutate;
mod pattern;
pub mod payloads;
pub mod prompts;
pub mod raw;
mod schema;
mod seeds;
mod shapes;
pub mod tokens;
pub mod uri;
pub mod values;

use std::fmt;

use arbitrary::{Arbitrary, Unstructured};

use crate::catalog::Catalog;
use crate::transcript::{Frame, Item, ReplyPolicy};
use context::{IdState, Out};

pub use context::RESERVED_IDS;
pub use encode::encode;
pub use messages::{Batch, Notification, Unsolicited};
pub use methods::{CallTool, MethodCall};
pub use raw::Raw;
pub use seeds::seed_scripts;

/// The most steps a script materializes.
pub const MAX_STEPS: usize = 12;

/// The most bytes one script's frames add up to.
pub const MAX_SCRIPT_BYTES: usize = 4 << 20;

/// A message sequence to send after the handshake.
#[derive(Arbitrary, Debug, Clone, PartialEq, Default)]
pub struct Script {
    /// The steps, in order; only the first [`MAX_STEPS`] are materialized.
    pub steps: Vec<Step>,
}

/// One step of a script.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// A `tools/call` of a discovered tool with schema-aware arguments.
    CallTool(CallTool),
    /// A request to any other MCP method, or to an unknown one.
    Method(MethodCall),
    /// A notification.
    Notification(Notification),
    /// A JSON array of messages.
    Batch(Batch),
    /// A response to a request the server never sent.
    UnsolicitedResponse(Unsolicited),
    /// Byte-exact frames: broken JSON, invalid UTF-8, odd line ends, split frames.
    Raw(Raw),
    /// From here on, answer server-to-client requests this way.
    SetReplyPolicy(ReplyPolicy),
}

impl Step {
    /// The step's kind, for summaries.
    pub fn kind(&self) -> &'static str {
        match self {
            Step::CallTool(_) => "call-tool",
            Step::Method(_) => "method",
            Step::Notification(_) => "notification",
            Step::Batch(_) => "batch",
            Step::UnsolicitedResponse(_) => "unsolicited-response",
            Step::Raw(_) => "raw",
            Step::SetReplyPolicy(_) => "set-reply-policy",
        }
    }
}

impl<'a> Arbitrary<'a> for Step {
    /// Decodes a step from one selector byte and the chosen variant's plan. The byte
    /// weights the kinds: tool calls reach the most server code, so they get the
    /// largest share; reply policies the smallest.
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Step> {
        Ok(match u8::arbitrary(u)? {
            0..=95 => Step::CallTool(u.arbitrary()?),
            96..=159 => Step::Method(u.arbitrary()?),
            160..=183 => Step::Notification(u.arbitrary()?),
            184..=199 => Step::Batch(u.arbitrary()?),
            200..=211 => Step::UnsolicitedResponse(u.arbitrary()?),
            212..=243 => Step::Raw(u.arbitrary()?),
            _ => Step::SetReplyPolicy(u.arbitrary()?),
        })
    }
}

/// A plan that is usually not taken: `get` gives the alternative only when `pick` is at
/// least [`Mostly::THRESHOLD`] (one time in four), and the usual path otherwise.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub struct Mostly<T> {
    /// Chooses between the usual path and the alternative.
    pub pick: u8,
    /// The alternative plan.
    pub alternative: T,
}

impl<T> Mostly<T> {
    /// Picks from this value on choose the alternative.
    pub const THRESHOLD: u8 = 192;

    /// The usual path, with `alternative` kept for mutations.
    pub fn usual(alternative: T) -> Mostly<T> {
        Mostly {
            pick: 0,
            alternative,
        }
    }

    /// The alternative, taken.
    pub fn unusual(alternative: T) -> Mostly<T> {
        Mostly {
            pick: u8::MAX,
            alternative,
        }
    }

    /// The alternative when it is chosen.
    pub fn get(&self) -> Option<&T> {
        (self.pick >= Self::THRESHOLD).then_some(&self.alternative)
    }
}

impl<T: Default> Default for Mostly<T> {
    fn default() -> Mostly<T> {
        Mostly::usual(T::default())
    }
}

/// Up to [`SmallBytes::MAX`] bytes chosen by the fuzzer, read from the front of the
/// input (unlike `Vec<u8>`, whose length comes from the end) so mutations stay local.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct SmallBytes(pub Vec<u8>);

impl SmallBytes {
    /// The most bytes.
    pub const MAX: usize = 64;

    /// The bytes as text, invalid UTF-8 replaced.
    pub fn lossy(&self) -> String {
        String::from_utf8_lossy(&self.0).into_owned()
    }
}

impl fmt::Debug for SmallBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SmallBytes({:?})", self.lossy())
    }
}

impl<'a> Arbitrary<'a> for SmallBytes {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<SmallBytes> {
        let len = (usize::from(u8::arbitrary(u)?) % (SmallBytes::MAX + 1)).min(u.len());
        Ok(SmallBytes(u.bytes(len)?.to_vec()))
    }

    fn size_hint(_depth: usize) -> (usize, Option<usize>) {
        (1, Some(1 + SmallBytes::MAX))
    }
}

/// Decodes fuzzer bytes into a script of at most [`MAX_STEPS`] steps; never fails, and
/// empty input gives an empty script.
pub fn decode(data: &[u8]) -> Script {
    let mut u = Unstructured::new(data);
    let mut steps = Vec::new();
    while !u.is_empty() && steps.len() < MAX_STEPS {
        match Step::arbitrary(&mut u) {
            Ok(step) => steps.push(step),
            Err(_) => break,
        }
    }
    Script { steps }
}

/// One line per step, for humans reading a finding.
pub fn describe(script: &Script) -> String {
    script
        .steps
        .iter()
        .enumerate()
        .map(|(i, step)| format!("{}. {step:?}\n", i + 1))
        .collect()
}

/// Turns scripts into transcript items; keeps the request-id counter and the recently
/// sent ids across scripts, so one materializer serves one child.
#[derive(Clone, Debug)]
pub struct Materializer {
    ids: IdState,
}

impl Default for Materializer {
    fn default() -> Materializer {
        Materializer::new()
    }
}

impl Materializer {
    /// A materializer whose ids start at 1.
    pub fn new() -> Materializer {
        Materializer {
            ids: IdState::new(),
        }
    }

    /// The frames and policy changes of `script` against `catalog`. Deterministic: the
    /// same script, catalog and materializer state give the same items.
    ///
    /// Steps past [`MAX_STEPS`] are ignored, and a step whose frames would take the
    /// script past [`MAX_SCRIPT_BYTES`] is skipped. When the last frame has no newline
    /// (a raw step chose so), a frame of a lone `\n` ends its line.
    pub fn materialize(&mut self, script: &Script, catalog: &Catalog) -> Vec<Item> {
        let mut out = Out::new(catalog, &mut self.ids, MAX_SCRIPT_BYTES);
        let mut items = Vec::new();
        let mut total = 0;
        for step in script.steps.iter().take(MAX_STEPS) {
            let step_items = step_items(&mut out, step);
            let size: usize = step_items
                .iter()
                .filter_map(Item::as_frame)
                .map(|frame| frame.0.len())
                .sum();
            if total + size > MAX_SCRIPT_BYTES {
                log::debug!(
                    "skipping a {} step of {size} bytes: over the script's byte cap",
                    step.kind()
                );
                continue;
            }
            total += size;
            items.extend(step_items);
        }
        // A last frame without its newline would join the session's barrier ping and
        // swallow its reply, which looks like a hang; end the line here instead.
        let last_frame = items.iter().rev().find_map(Item::as_frame);
        if last_frame.is_some_and(|frame| !frame.0.ends_with(b"\n")) {
            items.push(Item::Frame(Frame(b"\n".to_vec())));
        }
        items
    }
}

fn step_items(out: &mut Out, step: &Step) -> Vec<Item> {
    let value = match step {
        Step::CallTool(call) => methods::call_tool(out, call),
        Step::Method(call) => methods::method_call(out, call),
        Step::Notification(note) => messages::notification(out, note),
        Step::Batch(batch) => messages::batch(out, batch),
        Step::UnsolicitedResponse(response) => messages::unsolicited(out, response),
        Step::Raw(raw) => return raw::frames(out, raw),
        Step::SetReplyPolicy(policy) => {
            return vec![Item::Policy {
                reply_policy: *policy,
            }]
        }
    };
    vec![out.frame(&value)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Prompt, PromptArgument, Resource, ResourceTemplate, Tool};
    use context::Rng;
    use serde_json::{json, Value};
    use std::collections::{BTreeMap, HashSet};

    fn rich_catalog() -> Catalog {
        let rich = json!({
            "type": "object",
            "properties": {
                "count": {"type": "integer", "minimum": 1, "maximum": 10},
                "mode": {"type": "string", "enum": ["fast", "slow"]},
                "path": {"type": "string", "minLength": 2, "maxLength": 8},
                "tags": {"type": "array", "items": {"$ref": "#/$defs/tag"}, "maxItems": 3},
                "when": {"type": ["string", "null"], "format": "date-time"},
                "target": {"anyOf": [{"type": "integer"}, {"type": "object", "properties": {"id": {"type": "string"}}}]}
            },
            "required": ["count", "path"],
            "additionalProperties": false,
            "$defs": {"tag": {"type": "string", "pattern": "^[a-z]{1,4}$"}}
        });
        Catalog {
            protocol_version: "2025-06-18".into(),
            tools: vec![
                Tool {
                    name: "rich".into(),
                    input_schema: rich,
                },
                Tool {
                    name: "plain".into(),
                    input_schema: json!({"type": "object"}),
                },
            ],
            resources: vec![Resource {
                uri: "file:///a.txt".into(),
            }],
            templates: vec![ResourceTemplate {
                uri_template: "users://{id}/posts{?limit}".into(),
            }],
            prompts: vec![Prompt {
                name: "greet".into(),
                arguments: vec![PromptArgument {
                    name: "who".into(),
                    required: true,
                }],
            }],
            tokens: vec!["alpha".into(), "42".into(), "fast".into()],
            ..Catalog::default()
        }
    }

    fn random_bytes(rng: &mut Rng) -> Vec<u8> {
        let len = rng.below(600);
        (0..len).map(|_| rng.next_u64() as u8).collect()
    }

    /// The class of a request id, as the statistics below count them.
    fn id_class(id: Option<&Value>) -> &'static str {
        match id {
            None => "missing",
            Some(Value::Null) => "null",
            Some(Value::Bool(_)) => "bool",
            Some(Value::Object(_)) => "object",
            Some(Value::Array(_)) => "array",
            Some(Value::String(text)) if text.is_empty() => "empty-string",
            Some(Value::String(text)) if text.bytes().all(|b| b.is_ascii_digit()) => {
                "numeric-string"
            }
            Some(Value::String(_)) => "string",
            Some(Value::Number(n)) => match (n.as_i64(), n.as_u64()) {
                (Some(i64::MIN), _) => "i64-min",
                (Some(i64::MAX), _) => "i64-max",
                (Some(0), _) => "zero",
                (Some(n), _) if n < 0 => "negative",
                (Some(9_007_199_254_740_993), _) => "2^53+1",
                (Some(_), _) => "integer",
                (None, Some(u64::MAX)) => "u64-max",
                (None, Some(_)) => "large",
                _ if n.as_f64().is_some_and(|x| x.fract() == 0.0) => "integral-float",
                _ => "float",
            },
        }
    }

    /// What a tools/call of the rich tool did to its arguments.
    fn argument_classes(args: Option<&Value>) -> Vec<&'static str> {
        let Some(Value::Object(args)) = args else {
            return vec!["whole"];
        };
        let mut classes = Vec::new();
        if !args.contains_key("count") || !args.contains_key("path") {
            classes.push("missing-required");
        }
        let count = args.get("count");
        let path = args.get("path");
        if count.is_some_and(|count| !count.is_number())
            || path.is_some_and(|path| !path.is_string())
        {
            classes.push("wrong-type");
        }
        if count
            .and_then(Value::as_f64)
            .is_some_and(|n| !(1.0..=10.0).contains(&n) || n.fract() != 0.0)
            || path
                .and_then(Value::as_str)
                .is_some_and(|path| [1, 9].contains(&path.chars().count()))
        {
            classes.push("boundary");
        }
        if args
            .get("mode")
            .and_then(Value::as_str)
            .is_some_and(|mode| mode != "fast" && mode != "slow")
        {
            classes.push("enum-violation");
        }
        if args
            .keys()
            .any(|key| !["count", "mode", "path", "tags", "when", "target"].contains(&key.as_str()))
        {
            classes.push("extra-property");
        }
        let valid_count = count
            .and_then(Value::as_i64)
            .is_some_and(|n| (1..=10).contains(&n));
        let valid_path = path
            .and_then(Value::as_str)
            .is_some_and(|p| (2..=8).contains(&p.chars().count()));
        if valid_count && valid_path {
            classes.push("valid-required");
        }
        classes
    }

    #[derive(Default)]
    struct Stats {
        counts: BTreeMap<&'static str, usize>,
    }

    impl Stats {
        fn add(&mut self, class: &'static str) {
            *self.counts.entry(class).or_default() += 1;
        }

        fn at_least(&self, class: &str, minimum: usize) {
            let count = self.counts.get(class).copied().unwrap_or(0);
            assert!(
                count >= minimum,
                "{class}: {count} < {minimum}\n{:#?}",
                self.counts
            );
        }
    }

    fn check_message(message: &Value, seen_ids: &mut HashSet<String>, stats: &mut Stats) {
        let Some(object) = message.as_object() else {
            return;
        };
        if let Some(id) = object.get("id").and_then(Value::as_i64) {
            assert!(!RESERVED_IDS.contains(&id), "reserved id in {message}");
        }
        let Some(method) = object.get("method").and_then(Value::as_str) else {
            return;
        };
        let id = object.get("id");
        stats.add(id_class(id));
        if let Some(id) = id {
            if !seen_ids.insert(id.to_string()) {
                stats.add("duplicate");
            }
        }
        if method == "tools/call" && message["params"]["name"] == "rich" {
            for class in argument_classes(message["params"].get("arguments")) {
                stats.add(class);
            }
        }
        if method.starts_with("notifications/") {
            stats.add("notification");
        }
    }

    #[test]
    fn empty_input_gives_an_empty_script() {
        let script = decode(&[]);
        assert!(script.steps.is_empty());
        assert!(Materializer::new()
            .materialize(&script, &rich_catalog())
            .is_empty());
        assert_eq!(describe(&script), "");
    }

    #[test]
    fn decoding_is_capped_and_materializing_is_deterministic() {
        let catalog = rich_catalog();
        let mut rng = Rng::new(7);
        let data: Vec<u8> = (0..20_000).map(|_| rng.next_u64() as u8).collect();
        let script = decode(&data);
        assert_eq!(script.steps.len(), MAX_STEPS);
        assert_eq!(decode(&data), script);
        let first = Materializer::new().materialize(&script, &catalog);
        let second = Materializer::new().materialize(&script, &catalog);
        assert_eq!(first, second);
        assert_eq!(describe(&script).lines().count(), MAX_STEPS);
    }

    #[test]
    fn random_inputs_cover_every_class_within_bounds() {
        let catalog = rich_catalog();
        let mut rng = Rng::new(1);
        let mut stats = Stats::default();
        let mut materializer = Materializer::new();
        let mut seen_ids = HashSet::new();
        for iteration in 0..3000 {
            if iteration % 50 == 0 {
                // A respawned child gets a fresh materializer.
                materializer = Materializer::new();
                seen_ids.clear();
            }
            let script = decode(&random_bytes(&mut rng));
            for step in &script.steps {
                stats.add(step.kind());
            }
            let items = materializer.materialize(&script, &catalog);
            let mut total = 0;
            for frame in items.iter().filter_map(Item::as_frame) {
                total += frame.0.len();
                let text = frame.lossy();
                if ["\\ud800", "\\udc00", "\\udbff"]
                    .iter()
                    .any(|escape| text.contains(escape))
                {
                    stats.add("lone-surrogate");
                }
                if text.contains("[[[[[[[[[[[[[[[[")
                    || text.contains("{\"a\":{\"a\":{\"a\":{\"a\":")
                {
                    stats.add("deep");
                }
                if frame.0.len() > 60_000 {
                    stats.add("long");
                }
                match serde_json::from_slice::<Value>(&frame.0) {
                    Ok(Value::Array(entries)) => {
                        stats.add("batch-frame");
                        for entry in entries.iter().flat_map(|entry| match entry {
                            Value::Array(inner) => inner.clone(),
                            other => vec![other.clone()],
                        }) {
                            check_message(&entry, &mut seen_ids, &mut stats);
                        }
                    }
                    Ok(message) => check_message(&message, &mut seen_ids, &mut stats),
                    Err(_) => stats.add("not-json"),
                }
            }
            assert!(total <= MAX_SCRIPT_BYTES, "script of {total} bytes");
            assert!(items
                .last()
                .and_then(Item::as_frame)
                .is_none_or(|frame| frame.0.ends_with(b"\n")));
        }
        for kind in [
            "call-tool",
            "method",
            "notification",
            "batch",
            "unsolicited-response",
            "raw",
            "set-reply-policy",
        ] {
            stats.at_least(kind, 100);
        }
        for class in [
            "missing",
            "null",
            "bool",
            "object",
            "array",
            "empty-string",
            "numeric-string",
            "string",
            "i64-min",
            "i64-max",
            "zero",
            "negative",
            "2^53+1",
            "u64-max",
            "integral-float",
            "float",
            "duplicate",
        ] {
            stats.at_least(class, 10);
        }
        stats.at_least("integer", 3000);
        for class in [
            "missing-required",
            "wrong-type",
            "boundary",
            "enum-violation",
            "extra-property",
            "whole",
        ] {
            stats.at_least(class, 30);
        }
        stats.at_least("valid-required", 300);
        for class in [
            "lone-surrogate",
            "deep",
            "long",
            "batch-frame",
            "not-json",
            "notification",
        ] {
            stats.at_least(class, 10);
        }
    }

    #[test]
    fn lone_surrogates_are_escaped_in_the_frame_text() {
        let call = CallTool {
            tool: 0,
            name: Mostly::usual(methods::ToolName::Unknown),
            args: args::ArgsPlan {
                fields: vec![args::FieldPlan::Str(values::StringPlan::Surrogate(
                    values::SurrogateEdge::High,
                ))],
                ..args::ArgsPlan::default()
            },
            envelope: envelope::Envelope::default(),
        };
        let script = Script {
            steps: vec![Step::CallTool(call)],
        };
        let items = Materializer::new().materialize(&script, &rich_catalog());
        let text = items[0].as_frame().map(Frame::lossy).unwrap();
        assert!(text.contains("\"count\":\"\\ud800\""), "{text}");
        assert!(text.ends_with("}}}\n"), "{text}");
    }

    #[test]
    fn an_unterminated_last_frame_is_ended() {
        let script = Script {
            steps: vec![
                Step::Raw(Raw::NoNewline(raw::RawBase::Ping)),
                Step::SetReplyPolicy(ReplyPolicy::Error),
            ],
        };
        let items = Materializer::new().materialize(&script, &Catalog::default());
        assert_eq!(
            items,
            vec![
                Item::Frame(Frame(
                    b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}".to_vec()
                )),
                Item::Policy {
                    reply_policy: ReplyPolicy::Error
                },
                Item::Frame(Frame(b"\n".to_vec())),
            ]
        );
    }

    #[test]
    fn ids_continue_across_scripts() {
        let script = decode(&[0; 8]);
        let catalog = rich_catalog();
        let mut materializer = Materializer::new();
        let first = materializer.materialize(&script, &catalog);
        let second = materializer.materialize(&script, &catalog);
        assert_ne!(first, second);
        assert_eq!(Materializer::new().materialize(&script, &catalog), first);
    }

    #[test]
    fn small_bytes_read_from_the_front() {
        let mut u = Unstructured::new(&[3, b'a', b'b', b'c', b'd']);
        assert_eq!(
            SmallBytes::arbitrary(&mut u).unwrap(),
            SmallBytes(b"abc".to_vec())
        );
        let mut short = Unstructured::new(&[60, b'a']);
        assert_eq!(
            SmallBytes::arbitrary(&mut short).unwrap(),
            SmallBytes(b"a".to_vec())
        );
    }
}
