//! MCP result shapes (2025-06-18 schema), per method of the request a result answers.
//!
//! Strict on required fields, lenient on the rest: unknown extra fields are fine, and an
//! optional field that is absent or `null` is fine (servers written in Go or Java often
//! serialize a missing value as `null`); a present optional field of the wrong type is a
//! violation. A violation is named by its field path and problem, never by the value,
//! so the same defect always gives the same signature.

use serde_json::{Map, Value};

/// The first violated field of a result, for example `tools[].inputSchema.type` /
/// `not-object-type`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Violation {
    segments: Vec<&'static str>,
    /// What is wrong, in kebab-case: `missing`, `not-string`, `unknown-type`, ...
    pub(crate) problem: &'static str,
}

impl Violation {
    fn new(problem: &'static str) -> Violation {
        Violation {
            segments: Vec::new(),
            problem,
        }
    }

    /// The field path: `.`-joined names with `[]` for array items; `result` for the
    /// result itself.
    pub(crate) fn path(&self) -> String {
        if self.segments.is_empty() {
            return "result".to_owned();
        }
        let mut path = String::new();
        for segment in &self.segments {
            if *segment != "[]" && !path.is_empty() {
                path.push('.');
            }
            path.push_str(segment);
        }
        path
    }
}

type Check = Result<(), Violation>;

/// Whether `result` has the shape MCP requires for `method`; methods MCP does not define
/// are not checked.
pub(crate) fn check(method: &str, result: &Value) -> Check {
    let checker: fn(&Map<String, Value>) -> Check = match method {
        "initialize" => initialize,
        "tools/list" => tools_list,
        "tools/call" => tools_call,
        "resources/list" => resources_list,
        "resources/templates/list" => templates_list,
        "resources/read" => resources_read,
        "prompts/list" => prompts_list,
        "prompts/get" => prompts_get,
        "completion/complete" => completion,
        "ping" | "logging/setLevel" | "resources/subscribe" | "resources/unsubscribe" => |_| Ok(()),
        _ => return Ok(()),
    };
    checker(object(result)?)
}

fn initialize(result: &Map<String, Value>) -> Check {
    string(result, "protocolVersion")?;
    field(result, "capabilities", |value| object(value).map(drop))?;
    field(result, "serverInfo", |value| {
        let info = object(value)?;
        string(info, "name")?;
        string(info, "version")
    })?;
    optional(result, "instructions", string_value)
}

fn tools_list(result: &Map<String, Value>) -> Check {
    items(result, "tools", |tool| {
        string(tool, "name")?;
        field(tool, "inputSchema", object_schema)?;
        optional(tool, "outputSchema", object_schema)?;
        optional(tool, "description", string_value)
    })?;
    optional(result, "nextCursor", string_value)
}

fn object_schema(value: &Value) -> Check {
    let schema = object(value)?;
    field(schema, "type", |kind| {
        if kind.as_str() == Some("object") {
            Ok(())
        } else {
            Err(Violation::new("not-object-type"))
        }
    })
}

fn tools_call(result: &Map<String, Value>) -> Check {
    items(result, "content", content_block)?;
    optional(result, "isError", |value| {
        value
            .is_boolean()
            .then_some(())
            .ok_or(Violation::new("not-boolean"))
    })?;
    optional(result, "structuredContent", |value| object(value).map(drop))
}

/// A `ContentBlock`: text, image, audio, resource link or embedded resource.
fn content_block(block: &Map<String, Value>) -> Check {
    let kind = match block.get("type") {
        Some(Value::String(kind)) => kind.as_str(),
        Some(_) => return Err(within("type", Violation::new("not-string"))),
        None => return Err(within("type", Violation::new("missing"))),
    };
    match kind {
        "text" => string(block, "text"),
        "image" | "audio" => {
            string(block, "data")?;
            string(block, "mimeType")
        }
        "resource_link" => {
            string(block, "uri")?;
            string(block, "name")
        }
        "resource" => field(block, "resource", |value| resource_contents(object(value)?)),
        _ => Err(within("type", Violation::new("unknown-type"))),
    }
}

/// `TextResourceContents` or `BlobResourceContents`: a `uri` and a `text` or a `blob`.
fn resource_contents(contents: &Map<String, Value>) -> Check {
    string(contents, "uri")?;
    match (contents.get("text"), contents.get("blob")) {
        (Some(_), _) => string(contents, "text"),
        (None, Some(_)) => string(contents, "blob"),
        (None, None) => Err(within("text", Violation::new("missing"))),
    }
}

fn resources_list(result: &Map<String, Value>) -> Check {
    items(result, "resources", |resource| {
        string(resource, "uri")?;
        string(resource, "name")
    })?;
    optional(result, "nextCursor", string_value)
}

fn templates_list(result: &Map<String, Value>) -> Check {
    items(result, "resourceTemplates", |template| {
        string(template, "uriTemplate")?;
        string(template, "name")
    })?;
    optional(result, "nextCursor", string_value)
}

fn resources_read(result: &Map<String, Value>) -> Check {
    items(result, "contents", resource_contents)
}

fn prompts_list(result: &Map<String, Value>) -> Check {
    items(result, "prompts", |prompt| {
        string(prompt, "name")?;
        optional(prompt, "arguments", |arguments| {
            each(arguments, |argument| string(argument, "name"))
        })
    })?;
    optional(result, "nextCursor", string_value)
}

fn prompts_get(result: &Map<String, Value>) -> Check {
    items(result, "messages", |message| {
        field(message, "role", |role| match role.as_str() {
            Some("user" | "assistant") => Ok(()),
            _ => Err(Violation::new("not-user-or-assistant")),
        })?;
        field(message, "content", |content| {
            content_block(object(content)?)
        })
    })
}

fn completion(result: &Map<String, Value>) -> Check {
    field(result, "completion", |value| {
        let completion = object(value)?;
        field(completion, "values", |values| {
            let values = values.as_array().ok_or(Violation::new("not-array"))?;
            match values.iter().all(Value::is_string) {
                true => Ok(()),
                false => Err(within("[]", Violation::new("not-string"))),
            }
        })?;
        optional(completion, "total", |total| {
            total
                .is_number()
                .then_some(())
                .ok_or(Violation::new("not-number"))
        })?;
        optional(completion, "hasMore", |more| {
            more.is_boolean()
                .then_some(())
                .ok_or(Violation::new("not-boolean"))
        })
    })
}

fn within(segment: &'static str, mut violation: Violation) -> Violation {
    violation.segments.insert(0, segment);
    violation
}

fn object(value: &Value) -> Result<&Map<String, Value>, Violation> {
    value.as_object().ok_or(Violation::new("not-object"))
}

fn string_value(value: &Value) -> Check {
    value
        .is_string()
        .then_some(())
        .ok_or(Violation::new("not-string"))
}

/// A required field, checked by `check`.
fn field(
    map: &Map<String, Value>,
    key: &'static str,
    check: impl FnOnce(&Value) -> Check,
) -> Check {
    match map.get(key) {
        Some(value) => check(value).map_err(|error| within(key, error)),
        None => Err(within(key, Violation::new("missing"))),
    }
}

/// An optional field: absent and `null` are fine.
fn optional(
    map: &Map<String, Value>,
    key: &'static str,
    check: impl FnOnce(&Value) -> Check,
) -> Check {
    match map.get(key) {
        None | Some(Value::Null) => Ok(()),
        Some(value) => check(value).map_err(|error| within(key, error)),
    }
}

fn string(map: &Map<String, Value>, key: &'static str) -> Check {
    field(map, key, string_value)
}

/// A required array of objects, each checked by `check`.
fn items(
    map: &Map<String, Value>,
    key: &'static str,
    check: impl Fn(&Map<String, Value>) -> Check,
) -> Check {
    field(map, key, |value| each(value, check))
}

fn each(value: &Value, check: impl Fn(&Map<String, Value>) -> Check) -> Check {
    let array = value.as_array().ok_or(Violation::new("not-array"))?;
    for item in array {
        object(item)
            .and_then(&check)
            .map_err(|error| within("[]", error))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn violation(method: &str, result: &str) -> Option<String> {
        let result: Value = serde_json::from_str(result).unwrap();
        check(method, &result)
            .err()
            .map(|violation| format!("{}/{}", violation.path(), violation.problem))
    }

    #[test]
    fn conforming_results_pass_with_extra_fields_and_null_optionals() {
        let cases = [
            (
                "initialize",
                r#"{"protocolVersion":"2025-06-18","capabilities":{"tools":{}},"serverInfo":{"name":"s","version":"1","title":"S"},"extra":1}"#,
            ),
            (
                "tools/list",
                r#"{"tools":[{"name":"echo","inputSchema":{"type":"object","properties":{}},"annotations":{"x":1},"future":true}],"nextCursor":null}"#,
            ),
            (
                "tools/call",
                r#"{"content":[{"type":"text","text":"hi"},{"type":"image","data":"AA==","mimeType":"image/png"},{"type":"resource_link","uri":"file:///a","name":"a"},{"type":"resource","resource":{"uri":"file:///b","blob":"AA=="}}],"structuredContent":{"a":1},"isError":false}"#,
            ),
            ("tools/call", r#"{"content":[],"isError":true}"#),
            (
                "resources/list",
                r#"{"resources":[{"uri":"file:///a","name":"a","mimeType":"text/plain"}]}"#,
            ),
            (
                "resources/templates/list",
                r#"{"resourceTemplates":[{"uriTemplate":"file:///{p}","name":"f"}]}"#,
            ),
            (
                "resources/read",
                r#"{"contents":[{"uri":"file:///a","text":"x"}]}"#,
            ),
            (
                "prompts/list",
                r#"{"prompts":[{"name":"p","arguments":[{"name":"a","required":true}]}]}"#,
            ),
            (
                "prompts/get",
                r#"{"messages":[{"role":"user","content":{"type":"text","text":"x"}}]}"#,
            ),
            (
                "completion/complete",
                r#"{"completion":{"values":["a"],"total":1,"hasMore":false}}"#,
            ),
            ("ping", r#"{}"#),
            ("unknown-method", r#"42"#),
        ];
        for (method, result) in cases {
            assert_eq!(violation(method, result), None, "{method}: {result}");
        }
    }

    #[test]
    fn first_violated_field_is_named() {
        let cases = [
            (
                "initialize",
                r#"{"protocolVersion":"2025-06-18","capabilities":{},"serverInfo":{"name":"s"}}"#,
                "serverInfo.version/missing",
            ),
            (
                "initialize",
                r#"{"protocolVersion":20250618,"capabilities":{},"serverInfo":{}}"#,
                "protocolVersion/not-string",
            ),
            (
                "tools/list",
                r#"{"tools":[{"name":"a","inputSchema":{"type":"string"}}]}"#,
                "tools[].inputSchema.type/not-object-type",
            ),
            ("tools/list", r#"{"tools":{}}"#, "tools/not-array"),
            (
                "tools/list",
                r#"{"tools":[],"nextCursor":3}"#,
                "nextCursor/not-string",
            ),
            (
                "tools/call",
                r#"{"content":[{"type":"video","url":"x"}]}"#,
                "content[].type/unknown-type",
            ),
            (
                "tools/call",
                r#"{"content":[{"type":"image","data":"AA=="}]}"#,
                "content[].mimeType/missing",
            ),
            (
                "tools/call",
                r#"{"content":[],"isError":"yes"}"#,
                "isError/not-boolean",
            ),
            (
                "tools/call",
                r#"{"content":[],"structuredContent":[1]}"#,
                "structuredContent/not-object",
            ),
            (
                "tools/call",
                r#"{"content":[{"type":"resource","resource":{"uri":"a"}}]}"#,
                "content[].resource.text/missing",
            ),
            (
                "resources/read",
                r#"{"contents":[{"uri":"a","text":5}]}"#,
                "contents[].text/not-string",
            ),
            (
                "prompts/get",
                r#"{"messages":[{"role":"system","content":{"type":"text","text":"x"}}]}"#,
                "messages[].role/not-user-or-assistant",
            ),
            (
                "completion/complete",
                r#"{"completion":{"values":[1]}}"#,
                "completion.values[]/not-string",
            ),
            ("ping", r#"null"#, "result/not-object"),
        ];
        for (method, result, expected) in cases {
            assert_eq!(
                violation(method, result).as_deref(),
                Some(expected),
                "{method}: {result}"
            );
        }
    }
}
