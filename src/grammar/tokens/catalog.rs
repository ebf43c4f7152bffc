//! Tokens from what discovery found: tool, prompt and argument names, and the strings a
//! tool's `inputSchema` holds.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::{is_ours, MAX_TOKENS, MAX_TOKEN_BYTES};
use crate::catalog::Catalog;
use crate::grammar::context::Rng;
use crate::grammar::pattern;

/// Schema nodes visited per catalog, so that a huge or odd schema stays cheap.
const MAX_NODES: usize = 20_000;
/// How deep a schema is followed.
const MAX_DEPTH: usize = 32;

/// The distinct strings of `catalog` worth sending as values, in a stable order: tool
/// names; from each tool's `inputSchema`, property names (nested ones too), `required`
/// names, `enum`, `const`, `default` and `examples` strings, and each `pattern` with one
/// string that matches it; resource URIs; the literal parts and variable names of
/// resource templates; prompt names and their argument names.
///
/// At most [`MAX_TOKENS`]; strings longer than [`MAX_TOKEN_BYTES`] and strings that look
/// like the fuzzer's own probes are skipped.
pub fn from_catalog(catalog: &Catalog) -> Vec<String> {
    let mut harvest = Harvest::default();
    for tool in &catalog.tools {
        harvest.add(&tool.name);
    }
    for tool in &catalog.tools {
        harvest.schema(&tool.input_schema, 0);
    }
    for resource in &catalog.resources {
        harvest.add(&resource.uri);
    }
    for template in &catalog.templates {
        harvest.template(&template.uri_template);
    }
    for prompt in &catalog.prompts {
        harvest.add(&prompt.name);
        for argument in &prompt.arguments {
            harvest.add(&argument.name);
        }
    }
    harvest.tokens
}

#[derive(Default)]
struct Harvest {
    tokens: Vec<String>,
    seen: HashSet<String>,
    nodes: usize,
}

impl Harvest {
    fn add(&mut self, text: &str) {
        if text.is_empty()
            || text.len() > MAX_TOKEN_BYTES
            || self.tokens.len() >= MAX_TOKENS
            || is_ours(text)
            || self.seen.contains(text)
        {
            return;
        }
        self.seen.insert(text.to_owned());
        self.tokens.push(text.to_owned());
    }

    fn schema(&mut self, schema: &Value, depth: usize) {
        self.nodes += 1;
        if depth > MAX_DEPTH || self.nodes > MAX_NODES {
            return;
        }
        match schema {
            Value::Object(map) => self.schema_object(map, depth),
            Value::Array(items) => items.iter().for_each(|item| self.schema(item, depth + 1)),
            _ => {}
        }
    }

    fn schema_object(&mut self, map: &Map<String, Value>, depth: usize) {
        for (key, value) in map {
            match (key.as_str(), value) {
                ("properties", Value::Object(properties)) => {
                    for (name, property) in properties {
                        self.add(name);
                        self.schema(property, depth + 1);
                    }
                }
                ("patternProperties", Value::Object(properties)) => {
                    for (name_pattern, property) in properties {
                        self.pattern(name_pattern);
                        self.schema(property, depth + 1);
                    }
                }
                ("pattern", Value::String(text)) => self.pattern(text),
                ("enum" | "const" | "default" | "examples" | "example" | "required", value) => {
                    self.strings(value, depth)
                }
                // Prose and references are not values.
                ("description" | "title" | "$comment" | "$ref" | "$id" | "$schema", _) => {}
                (_, Value::Object(_) | Value::Array(_)) => self.schema(value, depth + 1),
                _ => {}
            }
        }
    }

    /// The pattern itself, and a string that matches it when the sampler understands it.
    fn pattern(&mut self, text: &str) {
        self.add(text);
        if let Some(sample) = pattern::sample(text, &mut Rng::new(0)) {
            self.add(&sample);
        }
    }

    /// Every string inside a value (a default may be an object or a list).
    fn strings(&mut self, value: &Value, depth: usize) {
        self.nodes += 1;
        if depth > MAX_DEPTH || self.nodes > MAX_NODES {
            return;
        }
        match value {
            Value::String(text) => self.add(text),
            Value::Array(items) => items.iter().for_each(|item| self.strings(item, depth + 1)),
            Value::Object(map) => map.values().for_each(|item| self.strings(item, depth + 1)),
            _ => {}
        }
    }

    /// The literal parts of an RFC 6570 template and its variable names:
    /// `users://{id}/posts{?limit}` gives `users://`, `/posts`, `id` and `limit`.
    fn template(&mut self, template: &str) {
        let mut rest = template;
        while !rest.is_empty() {
            let (literal, after) = rest.split_once('{').unwrap_or((rest, ""));
            self.add(literal);
            let (expression, after) = after.split_once('}').unwrap_or((after, ""));
            let names = expression.trim_start_matches(['+', '#', '.', '/', ';', '?', '&']);
            for name in names.split(',') {
                let name = name.split(':').next().unwrap_or(name);
                self.add(name.trim_end_matches('*'));
            }
            rest = after;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Prompt, PromptArgument, Resource, ResourceTemplate, Tool};
    use serde_json::json;

    fn catalog() -> Catalog {
        Catalog {
            tools: vec![
                Tool {
                    name: "lookup".into(),
                    input_schema: json!({
                        "type": "object",
                        "description": "Looks a thing up in a way this sentence describes.",
                        "properties": {
                            "mode": {"type": "string", "enum": ["fast", "slow", 3], "default": "fast"},
                            "code": {"type": "string", "pattern": "^[A-Z]{2}-[0-9]{3}$"},
                            "filter": {
                                "type": "object",
                                "properties": {"field": {"const": "owner", "examples": ["bob"]}},
                                "required": ["field"]
                            },
                            "long": {"type": "string", "default": "x".repeat(MAX_TOKEN_BYTES + 1)},
                            "items": {"type": "array", "items": {"$ref": "#/$defs/item"}}
                        },
                        "$defs": {"item": {"enum": ["lookup", "MCPFUZZ-CANARY-0001", "9999999999"]}}
                    }),
                },
                Tool {
                    name: "plain".into(),
                    input_schema: json!({}),
                },
            ],
            resources: vec![Resource {
                uri: "file:///notes/a.txt".into(),
            }],
            templates: vec![ResourceTemplate {
                uri_template: "users://{id}/posts{?limit,page*}".into(),
            }],
            prompts: vec![Prompt {
                name: "review".into(),
                arguments: vec![PromptArgument {
                    name: "focus".into(),
                    required: true,
                }],
            }],
            ..Catalog::default()
        }
    }

    #[test]
    fn names_values_patterns_and_uris_in_order_without_duplicates() {
        let tokens = from_catalog(&catalog());
        let code_sample = pattern::sample("^[A-Z]{2}-[0-9]{3}$", &mut Rng::new(0)).unwrap();
        let expected: Vec<String> = [
            "lookup",
            "plain",
            "mode",
            "fast",
            "slow",
            "code",
            "^[A-Z]{2}-[0-9]{3}$",
            code_sample.as_str(),
            "filter",
            "field",
            "owner",
            "bob",
            "long",
            "items",
            "file:///notes/a.txt",
            "users://",
            "id",
            "/posts",
            "limit",
            "page",
            "review",
            "focus",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(tokens, expected);
        assert_eq!(code_sample.len(), 6, "{code_sample}");
    }

    #[test]
    fn the_harvest_is_bounded() {
        let properties: Map<String, Value> = (0..MAX_TOKENS + 10)
            .map(|i| (format!("p{i}"), json!({"type": "string"})))
            .collect();
        let catalog = Catalog {
            tools: vec![Tool {
                name: "wide".into(),
                input_schema: json!({"properties": properties}),
            }],
            ..Catalog::default()
        };
        let tokens = from_catalog(&catalog);
        assert_eq!(tokens.len(), MAX_TOKENS);
        assert_eq!(tokens[1], "p0");
        let mut deep = json!({"enum": ["bottom"]});
        for _ in 0..100 {
            deep = json!({"items": deep});
        }
        let catalog = Catalog {
            tools: vec![Tool {
                name: "deep".into(),
                input_schema: deep,
            }],
            ..Catalog::default()
        };
        assert_eq!(from_catalog(&catalog), ["deep"]);
    }
}
