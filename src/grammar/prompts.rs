//! `prompts/get` and `completion/complete`: declared arguments given, left out, bent or
//! joined by undeclared ones, and completion references to listed prompts and templates.

use arbitrary::Arbitrary;
use serde_json::{json, Map, Value};

use super::args::{self, ExtraProperty, WholeArgs};
use super::context::Out;
use super::uri;
use super::values::{self, Junk, NearMiss, StringPlan};
use super::Mostly;

/// The name used when the catalog lists no prompt.
const MADE_UP_PROMPT: &str = "nonexistent_prompt";

/// A `prompts/get`.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub struct PromptPlan {
    /// Which prompt, modulo the catalog's prompts.
    pub prompt: u8,
    /// A near miss of its name, when the pick says so.
    pub name: Mostly<NearMiss>,
    /// Per declared argument, argument `i` uses `args[i % len]`; empty means valid.
    pub args: Vec<PromptArg>,
    /// Undeclared arguments.
    pub extras: Vec<ExtraProperty>,
    /// `arguments` as a whole, when not an object.
    pub whole: Mostly<WholeArgs>,
}

/// One prompt argument's value (prompt arguments are strings).
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub enum PromptArg {
    /// A plain value or a harvested token.
    Valid(u8),
    /// An edge-case string.
    Edge(StringPlan),
    /// Left out, required or not.
    Omit,
    /// Any non-string value.
    Junk(Junk),
}

/// A `completion/complete`.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub struct CompletePlan {
    /// The `ref`.
    pub reference: RefPlan,
    /// The argument's name.
    pub argument: ArgNamePlan,
    /// The argument's value: a token prefix unless the pick says otherwise.
    pub value: Mostly<StringPlan>,
    /// `context.arguments`, when the pick says so.
    pub context: Mostly<ContextPlan>,
}

/// The `ref` of a completion.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub enum RefPlan {
    /// `ref/prompt` naming a listed prompt.
    Prompt(u8),
    /// `ref/resource` naming a listed template (or resource).
    Resource(u8),
    /// `ref/tool`, which does not exist.
    UnknownType,
    /// No `type` member.
    MissingType,
    /// `"ref": null`.
    Null,
    /// `ref/prompt` with a near miss of a prompt's name.
    NearMissPrompt(u8, NearMiss),
}

/// The argument name of a completion.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub enum ArgNamePlan {
    /// A declared prompt argument or template variable.
    Declared(u8),
    /// An undeclared name.
    Unknown,
    /// `""`.
    Empty,
    /// No `name` member.
    Missing,
    /// A near miss of a declared name.
    NearMiss(u8, NearMiss),
}

/// The `context` of a completion.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub enum ContextPlan {
    /// `{"arguments": {...}}` with every declared name.
    Arguments,
    /// `{}`.
    Empty,
    /// `"x"`.
    NotAnObject,
    /// `{"arguments": null}`.
    NullArguments,
}

/// The method and params of a prompts/get.
pub(crate) fn prompts_get(out: &mut Out, plan: &PromptPlan) -> (String, Option<Value>) {
    let catalog = out.catalog;
    let prompt = (!catalog.prompts.is_empty())
        .then(|| &catalog.prompts[usize::from(plan.prompt) % catalog.prompts.len()]);
    let name = prompt.map_or(MADE_UP_PROMPT, |prompt| prompt.name.as_str());
    let name = plan
        .name
        .get()
        .map_or_else(|| name.to_owned(), |near_miss| near_miss.apply(name));
    let mut arguments = Map::new();
    let declared = prompt.map_or(&[][..], |prompt| prompt.arguments.as_slice());
    for (i, argument) in declared.iter().enumerate() {
        let value = match plan.args.get(i % plan.args.len().max(1)) {
            None => Some(json!(valid_text(out, i as u8))),
            Some(PromptArg::Valid(pick)) => Some(json!(valid_text(out, *pick))),
            Some(PromptArg::Edge(string)) => Some(values::string(out, string, "test")),
            Some(PromptArg::Omit) => None,
            Some(PromptArg::Junk(junk)) => Some(values::junk(out, junk)),
        };
        if let Some(value) = value {
            arguments.insert(argument.name.clone(), value);
        }
    }
    let names: Vec<&str> = declared
        .iter()
        .map(|argument| argument.name.as_str())
        .collect();
    for extra in plan.extras.iter().take(4) {
        let key = args::extra_key(out, &extra.key, &names);
        arguments.insert(key, values::junk(out, &extra.value));
    }
    let mut params = Map::new();
    params.insert("name".to_owned(), json!(name));
    let arguments = match plan.whole.get() {
        None if arguments.is_empty() => None,
        None => Some(Value::Object(arguments)),
        Some(WholeArgs::Absent) => None,
        Some(WholeArgs::Null) => Some(Value::Null),
        Some(WholeArgs::EmptyObject) => Some(json!({})),
        Some(WholeArgs::Array) => Some(Value::Array(
            arguments.into_iter().map(|(_, value)| value).collect(),
        )),
        Some(WholeArgs::Stringified) => Some(json!(String::from_utf8_lossy(
            &out.render(&Value::Object(arguments))
        ))),
        Some(WholeArgs::Number) => Some(json!(0)),
        Some(WholeArgs::Bool) => Some(json!(true)),
        Some(WholeArgs::EmptyArray) => Some(json!([])),
    };
    if let Some(arguments) = arguments {
        params.insert("arguments".to_owned(), arguments);
    }
    ("prompts/get".to_owned(), Some(Value::Object(params)))
}

/// A plain string or a harvested token.
fn valid_text(out: &Out, pick: u8) -> String {
    const PLAIN: &[&str] = &["test", "a", "hello world", "1"];
    match out.token(pick) {
        Some(token) if pick % 2 == 1 => token.to_owned(),
        _ => values::pick_from(PLAIN, pick).to_owned(),
    }
}

/// The params of a completion/complete.
pub(crate) fn complete_params(out: &mut Out, plan: &CompletePlan) -> Value {
    let catalog = out.catalog;
    let prompt_at = |pick: u8| {
        (!catalog.prompts.is_empty())
            .then(|| &catalog.prompts[usize::from(pick) % catalog.prompts.len()])
    };
    let mut declared: Vec<String> = Vec::new();
    let reference = match &plan.reference {
        RefPlan::Prompt(pick) => {
            let prompt = prompt_at(*pick);
            declared = prompt
                .map(|p| p.arguments.iter().map(|a| a.name.clone()).collect())
                .unwrap_or_default();
            json!({"type": "ref/prompt", "name": prompt.map_or(MADE_UP_PROMPT, |p| p.name.as_str())})
        }
        RefPlan::Resource(pick) => {
            let uri = if catalog.templates.is_empty() {
                catalog
                    .resources
                    .get(usize::from(*pick) % catalog.resources.len().max(1))
                    .map_or("file:///{path}", |r| r.uri.as_str())
            } else {
                catalog.templates[usize::from(*pick) % catalog.templates.len()]
                    .uri_template
                    .as_str()
            };
            declared = uri::variables(uri);
            json!({"type": "ref/resource", "uri": uri})
        }
        RefPlan::UnknownType => json!({"type": "ref/tool", "name": MADE_UP_PROMPT}),
        RefPlan::MissingType => {
            json!({"name": prompt_at(0).map_or(MADE_UP_PROMPT, |p| p.name.as_str())})
        }
        RefPlan::Null => Value::Null,
        RefPlan::NearMissPrompt(pick, near_miss) => {
            json!({"type": "ref/prompt", "name": near_miss.apply(prompt_at(*pick).map_or(MADE_UP_PROMPT, |p| p.name.as_str()))})
        }
    };
    let declared_at = |pick: u8| {
        declared
            .get(usize::from(pick) % declared.len().max(1))
            .map_or("name", String::as_str)
    };
    let name = match &plan.argument {
        ArgNamePlan::Declared(pick) => Some(declared_at(*pick).to_owned()),
        ArgNamePlan::Unknown => Some("nonexistent_argument".to_owned()),
        ArgNamePlan::Empty => Some(String::new()),
        ArgNamePlan::Missing => None,
        ArgNamePlan::NearMiss(pick, near_miss) => Some(near_miss.apply(declared_at(*pick))),
    };
    let value = match plan.value.get() {
        None => json!(out
            .token(plan.value.pick)
            .and_then(|token| token.chars().next())
            .map(String::from)
            .unwrap_or_default()),
        Some(string) => values::string(out, string, "a"),
    };
    let mut argument = Map::new();
    if let Some(name) = name {
        argument.insert("name".to_owned(), json!(name));
    }
    argument.insert("value".to_owned(), value);
    let mut params = Map::new();
    params.insert("ref".to_owned(), reference);
    params.insert("argument".to_owned(), Value::Object(argument));
    if let Some(context) = plan.context.get() {
        let context = match context {
            ContextPlan::Arguments => {
                json!({"arguments": declared.iter().map(|name| (name.clone(), json!("a"))).collect::<Map<String, Value>>()})
            }
            ContextPlan::Empty => json!({}),
            ContextPlan::NotAnObject => json!("x"),
            ContextPlan::NullArguments => json!({"arguments": null}),
        };
        params.insert("context".to_owned(), context);
    }
    Value::Object(params)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Catalog, Prompt, PromptArgument};
    use crate::grammar::context::IdState;

    fn catalog() -> Catalog {
        Catalog {
            prompts: vec![Prompt {
                name: "greet".into(),
                arguments: vec![
                    PromptArgument {
                        name: "who".into(),
                        required: true,
                    },
                    PromptArgument {
                        name: "tone".into(),
                        required: false,
                    },
                ],
            }],
            ..Catalog::default()
        }
    }

    #[test]
    fn prompts_get_can_miss_required_arguments() {
        let catalog = catalog();
        let mut ids = IdState::new();
        let mut out = Out::new(&catalog, &mut ids, 1 << 20);
        let plan = PromptPlan {
            prompt: 0,
            name: Mostly::usual(NearMiss::Upper),
            args: vec![PromptArg::Omit, PromptArg::Valid(0)],
            extras: vec![],
            whole: Mostly::usual(WholeArgs::Absent),
        };
        let (method, params) = prompts_get(&mut out, &plan);
        assert_eq!(method, "prompts/get");
        assert_eq!(
            params.unwrap(),
            json!({"name": "greet", "arguments": {"tone": "test"}})
        );
        let near_miss = PromptPlan {
            name: Mostly::unusual(NearMiss::Upper),
            whole: Mostly::unusual(WholeArgs::Null),
            ..plan
        };
        assert_eq!(
            prompts_get(&mut out, &near_miss).1.unwrap(),
            json!({"name": "GREET", "arguments": null})
        );
    }

    #[test]
    fn completion_names_declared_arguments() {
        let catalog = catalog();
        let mut ids = IdState::new();
        let mut out = Out::new(&catalog, &mut ids, 1 << 20);
        let plan = CompletePlan {
            reference: RefPlan::Prompt(0),
            argument: ArgNamePlan::Declared(1),
            value: Mostly::usual(StringPlan::Empty),
            context: Mostly::unusual(ContextPlan::Arguments),
        };
        assert_eq!(
            complete_params(&mut out, &plan),
            json!({"ref": {"type": "ref/prompt", "name": "greet"}, "argument": {"name": "tone", "value": ""},
                   "context": {"arguments": {"who": "a", "tone": "a"}}})
        );
        let resource = CompletePlan {
            reference: RefPlan::Resource(0),
            argument: ArgNamePlan::NearMiss(0, NearMiss::Upper),
            context: Mostly::usual(ContextPlan::Arguments),
            ..plan
        };
        assert_eq!(
            complete_params(&mut out, &resource),
            json!({"ref": {"type": "ref/resource", "uri": "file:///{path}"}, "argument": {"name": "PATH", "value": ""}})
        );
    }
}
