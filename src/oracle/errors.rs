//! The error oracle: internal errors and leaked stack traces in replies (`error/...`,
//! always [`Severity::Low`]).
//!
//! A handled failure is not a crash, but an internal error or an exception dump says
//! the input reached code that did not expect it, which is where the crashes live. A plain
//! `isError: true` tool result is how MCP tools report failure and is not a finding.

use super::traces;
use crate::{Finding, Kind, Severity};
use serde_json::{json, Value};

/// How much text of one reply is searched for a trace; traces are near the start of
/// what servers send, and this keeps a huge reply cheap.
const MAX_TEXT_BYTES: usize = 64 * 1024;

/// An error reply with code -32603, or whose message or data holds a stack trace.
pub(crate) fn check_error_reply(
    label: &str,
    error: &Value,
    line: &[u8],
    request: Option<&[u8]>,
) -> Option<Finding> {
    let code = error.get("code").and_then(Value::as_i64);
    let mut text = String::new();
    collect_strings(error.get("message"), &mut text);
    collect_strings(error.get("data"), &mut text);
    let (what, summary) = match traces::find(&text).filter(|_| !reflected(request)) {
        Some(trace) => {
            let summary = format!(
                "error reply to {label} leaks a stack trace ({})",
                trace.describe()
            );
            (trace.what, summary)
        }
        None if code == Some(-32603) => {
            let summary = format!("{label} failed with an internal error (-32603)");
            // A message that is itself a JSON document (a schema validator's report,
            // as the TypeScript SDK sends for bad params of every method) comes from one
            // place, whatever the method: one signature for all of them.
            let message = error.get("message").and_then(Value::as_str).unwrap_or("");
            if matches!(message.trim_start().chars().next(), Some('[' | '{'))
                && serde_json::from_str::<Value>(message).is_ok()
            {
                return Some(finding(
                    "-",
                    "-32603/structured-report",
                    summary,
                    line,
                    request,
                ));
            }
            ("-32603".to_owned(), summary)
        }
        None => return None,
    };
    Some(finding(label, &what, summary, line, request))
}

/// A `tools/call` result with `isError: true` whose text holds a stack trace.
pub(crate) fn check_tool_result(
    label: &str,
    result: &Value,
    line: &[u8],
    request: Option<&[u8]>,
) -> Option<Finding> {
    if result.get("isError") != Some(&Value::Bool(true)) {
        return None;
    }
    let mut text = String::new();
    for item in result.get("content")?.as_array()? {
        if item.get("type").and_then(Value::as_str) == Some("text") {
            collect_strings(item.get("text"), &mut text);
        }
    }
    let trace = traces::find(&text)?;
    if reflected(request) {
        return None;
    }
    let summary = format!(
        "tool error from {label} leaks a stack trace ({})",
        trace.describe()
    );
    Some(finding(label, &trace.what, summary, line, request))
}

/// Whether the request itself carries trace-like text: a server that echoes its input
/// (an "unknown tool" error quoting the name) would otherwise look like it leaks a trace,
/// and a fuzzer learns such strings from the oracle's own comparisons.
fn reflected(request: Option<&[u8]>) -> bool {
    let Some(request) = request else {
        return false;
    };
    let text = request.strip_suffix(b"\n").unwrap_or(request);
    let mut strings = String::new();
    match serde_json::from_slice::<Value>(text) {
        Ok(value) => collect_all_strings(&value, &mut strings),
        Err(_) => strings = String::from_utf8_lossy(text).into_owned(),
    }
    traces::find(&strings).is_some()
}

fn collect_all_strings(value: &Value, text: &mut String) {
    if text.len() >= MAX_TEXT_BYTES {
        return;
    }
    match value {
        Value::String(string) => {
            text.push_str(string);
            text.push('\n');
        }
        Value::Array(items) => items
            .iter()
            .for_each(|item| collect_all_strings(item, text)),
        Value::Object(map) => map.iter().for_each(|(key, item)| {
            text.push_str(key);
            text.push('\n');
            collect_all_strings(item, text);
        }),
        _ => {}
    }
}

fn finding(
    label: &str,
    what: &str,
    summary: String,
    line: &[u8],
    request: Option<&[u8]>,
) -> Finding {
    Finding::new(
        Kind::Error,
        format_args!("{label}/{what}"),
        Severity::Low,
        summary,
        json!({
            "reply": super::quote(line),
            "request": request.map(super::quote),
        }),
    )
}

/// Appends every string inside `value` (depth-first, one per line) until
/// [`MAX_TEXT_BYTES`]: servers put traces in `data` as a string, a list of lines, or an
/// object field such as `stack` or `traceback`.
fn collect_strings(value: Option<&Value>, text: &mut String) {
    let Some(value) = value else {
        return;
    };
    if text.len() >= MAX_TEXT_BYTES {
        return;
    }
    match value {
        Value::String(string) => {
            let room = MAX_TEXT_BYTES - text.len();
            let mut end = string.len().min(room);
            while !string.is_char_boundary(end) {
                end -= 1;
            }
            text.push_str(&string[..end]);
            text.push('\n');
        }
        Value::Array(items) => items
            .iter()
            .for_each(|item| collect_strings(Some(item), text)),
        Value::Object(map) => map
            .values()
            .for_each(|item| collect_strings(Some(item), text)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_signature(error: &str) -> Option<String> {
        let error: Value = serde_json::from_str(error).unwrap();
        check_error_reply("tools/call:divide", &error, b"{}", None).map(|f| f.signature)
    }

    fn tool_signature(result: &str) -> Option<String> {
        let result: Value = serde_json::from_str(result).unwrap();
        check_tool_result("tools/call:divide", &result, b"{}", None).map(|f| f.signature)
    }

    #[test]
    fn internal_error_code_is_a_finding() {
        assert_eq!(
            error_signature(r#"{"code":-32603,"message":"Internal error"}"#).as_deref(),
            Some("error/tools/call:divide/-32603")
        );
        assert_eq!(
            error_signature(r#"{"code":-32602,"message":"bad a"}"#),
            None
        );
    }

    #[test]
    fn internal_errors_whose_message_is_a_json_report_are_one_signature() {
        let report = json!({"code": -32603, "message": "[\n  {\n    \"code\": \"invalid_type\",\n    \"path\": [\"params\", \"name\"]\n  }\n]"});
        let line = b"{}";
        let of = |label: &str| {
            check_error_reply(label, &report, line, None).map(|f| (f.signature, f.summary))
        };
        assert_eq!(
            of("tools/list"),
            Some((
                "error/-/-32603/structured-report".to_owned(),
                "tools/list failed with an internal error (-32603)".to_owned()
            ))
        );
        assert_eq!(
            of("ping").map(|(signature, _)| signature).as_deref(),
            Some("error/-/-32603/structured-report")
        );
        // Brackets that are not a JSON document are a message like any other.
        let text = json!({"code": -32603, "message": "[db] connection lost"});
        assert_eq!(
            check_error_reply("ping", &text, line, None)
                .map(|f| f.signature)
                .as_deref(),
            Some("error/ping/-32603")
        );
    }

    #[test]
    fn traces_in_message_or_data_name_the_exception() {
        assert_eq!(
            error_signature(r#"{"code":0,"message":"Traceback (most recent call last):\n  File \"/app/s.py\", line 3, in f\nKeyError: 'a'"}"#).as_deref(),
            Some("error/tools/call:divide/KeyError")
        );
        assert_eq!(
            error_signature(r#"{"code":-32603,"message":"x","data":{"stack":["TypeError: x is undefined","    at f (/app/i.js:3:9)"]}}"#).as_deref(),
            Some("error/tools/call:divide/TypeError")
        );
    }

    #[test]
    fn tool_errors_fire_only_with_a_trace() {
        assert_eq!(
            tool_signature(
                r#"{"content":[{"type":"text","text":"Error executing tool divide: division by zero"}],"isError":true}"#
            ),
            None
        );
        assert_eq!(
            tool_signature(r#"{"content":[{"type":"text","text":"Traceback (most recent call last):\n  File \"s.py\", line 9, in divide\nZeroDivisionError: division by zero"}],"isError":true}"#).as_deref(),
            Some("error/tools/call:divide/ZeroDivisionError")
        );
        assert_eq!(
            tool_signature(
                r#"{"content":[{"type":"text","text":"Traceback (most recent call last):\n  File \"s.py\", line 9\nZeroDivisionError"}],"isError":false}"#
            ),
            None
        );
    }

    #[test]
    fn a_trace_the_request_carried_is_reflection() {
        let request = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x panicked at src/a.rs:1:2"}}"#;
        let error = serde_json::json!({
            "code": -32602,
            "message": "unknown tool \"x panicked at src/a.rs:1:2\"",
        });
        assert_eq!(
            check_error_reply("tools/call:?", &error, b"{}", Some(request)),
            None
        );
        let leaked = serde_json::json!({"code": -32602, "message": "thread 'main' panicked at src/a.rs:1:2"});
        assert!(check_error_reply("tools/call:x", &leaked, b"{}", Some(b"{}")).is_some());
    }
}
