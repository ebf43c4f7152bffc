//! `mcpfuzz echo-target` (hidden): the smallest correct MCP server, in native code, so the
//! benchmark measures the harness rather than a slow target. It answers every request at
//! once with an empty result of the right shape and follows JSON-RPC 2.0 for bad input.

use serde_json::{json, Value};
use std::io::{self, BufRead, Write};
use std::process::ExitCode;

/// Serves stdin until end of input, then exits 0.
pub fn run() -> anyhow::Result<ExitCode> {
    let stdin = io::stdin();
    let mut stdout = io::BufWriter::new(io::stdout().lock());
    let mut line = Vec::new();
    let mut input = stdin.lock();
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            return Ok(ExitCode::SUCCESS);
        }
        if let Some(reply) = reply_to_line(&line) {
            serde_json::to_writer(&mut stdout, &reply)?;
            stdout.write_all(b"\n")?;
            stdout.flush()?;
        }
    }
}

fn error(id: Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

fn reply_to_line(line: &[u8]) -> Option<Value> {
    let text = std::str::from_utf8(line).ok();
    let trimmed = text.map(str::trim).unwrap_or("x");
    if trimmed.is_empty() {
        return None;
    }
    let Ok(value) = serde_json::from_str::<Value>(trimmed) else {
        return Some(error(Value::Null, -32700, "parse error"));
    };
    match value {
        Value::Array(items) if items.is_empty() => Some(error(Value::Null, -32600, "empty batch")),
        Value::Array(items) => {
            let replies: Vec<Value> = items.iter().filter_map(reply_to_message).collect();
            (!replies.is_empty()).then(|| Value::Array(replies))
        }
        message => reply_to_message(&message),
    }
}

fn reply_to_message(message: &Value) -> Option<Value> {
    let Some(object) = message.as_object() else {
        return Some(error(Value::Null, -32600, "not an object"));
    };
    let id = object.get("id").cloned();
    let id_ok = matches!(
        &id,
        None | Some(Value::String(_)) | Some(Value::Number(_)) | Some(Value::Null)
    );
    let echo_id = if matches!(&id, Some(Value::String(_)) | Some(Value::Number(_))) {
        id.clone().unwrap_or(Value::Null)
    } else {
        Value::Null
    };
    let is_response = object.contains_key("result") || object.contains_key("error");
    if is_response && !object.contains_key("method") {
        return None;
    }
    let method = object.get("method").and_then(Value::as_str);
    let params_ok = matches!(
        object.get("params"),
        None | Some(Value::Object(_)) | Some(Value::Array(_))
    );
    if object.get("jsonrpc") != Some(&json!("2.0")) || method.is_none() || !id_ok || !params_ok {
        // An invalid notification still gets no reply only when it clearly is one.
        return (id.is_some() || method.is_none())
            .then(|| error(echo_id, -32600, "invalid request"));
    }
    let id = id?;
    let result = match method.unwrap_or_default() {
        "initialize" => json!({
            "protocolVersion": "2025-06-18",
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "mcpfuzz-echo", "version": env!("CARGO_PKG_VERSION")},
        }),
        "ping" | "logging/setLevel" | "resources/subscribe" | "resources/unsubscribe" => json!({}),
        "tools/list" => json!({"tools": []}),
        "resources/list" => json!({"resources": []}),
        "resources/templates/list" => json!({"resourceTemplates": []}),
        "prompts/list" => json!({"prompts": []}),
        "tools/call" => json!({"content": [], "isError": true}),
        "resources/read" => json!({"contents": []}),
        "prompts/get" => json!({"messages": []}),
        "completion/complete" => json!({"completion": {"values": []}}),
        _ => return Some(error(id, -32601, "method not found")),
    };
    Some(json!({"jsonrpc": "2.0", "id": id, "result": result}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_input_follows_json_rpc() {
        assert_eq!(
            reply_to_line(b"{oops\n"),
            Some(error(Value::Null, -32700, "parse error"))
        );
        assert_eq!(
            reply_to_line(b"[]\n"),
            Some(error(Value::Null, -32600, "empty batch"))
        );
        assert_eq!(
            reply_to_line(b"{\"jsonrpc\":\"2.0\",\"method\":\"x\"}\n"),
            None
        );
        assert_eq!(
            reply_to_line(b"{\"jsonrpc\":\"2.0\",\"id\":\"7\",\"method\":\"ping\"}\n"),
            Some(json!({"jsonrpc": "2.0", "id": "7", "result": {}}))
        );
        assert_eq!(
            reply_to_line(b"{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"ping\"}\n"),
            Some(error(Value::Null, -32600, "invalid request"))
        );
    }
}
