//! How the fuzzer, playing the client, answers requests the server sends it.

use crate::transcript::ReplyPolicy;
use serde_json::{json, Value};
use std::path::Path;

/// The bytes to write in answer to a server request `id`/`method`, or `None` when the
/// policy is to stay silent.
pub fn answer(policy: ReplyPolicy, id: &Value, method: &str, sandbox: &Path) -> Option<Vec<u8>> {
    let reply = match policy {
        ReplyPolicy::Valid => match valid_result(method, sandbox) {
            Some(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
            None => json!({
                "jsonrpc": "2.0",
                "id": id,
                "error": {"code": -32601, "message": format!("method not found: {method}")},
            }),
        },
        ReplyPolicy::Error => json!({
            "jsonrpc": "2.0",
            "id": id,
            "error": {"code": -32603, "message": "mcpfuzz declined the request"},
        }),
        ReplyPolicy::EmptyResult => json!({"jsonrpc": "2.0", "id": id, "result": {}}),
        ReplyPolicy::WrongShape => json!({
            "jsonrpc": "2.0",
            "id": id,
            "result": {"roots": "none", "content": 7, "action": ["accept"], "role": null},
        }),
        ReplyPolicy::NoReply => return None,
        ReplyPolicy::WrongId => {
            let other = match id {
                Value::String(text) => json!(format!("{text}-other")),
                Value::Number(number) => json!(number.as_i64().unwrap_or(0).wrapping_add(7919)),
                _ => json!("other"),
            };
            json!({"jsonrpc": "2.0", "id": other, "result": {}})
        }
        ReplyPolicy::Malformed => {
            let mut bytes = b"{\"jsonrpc\":\"2.0\",\"id\":".to_vec();
            bytes.extend_from_slice(&serde_json::to_vec(id).unwrap_or_default());
            bytes.extend_from_slice(b",\"result\":{\n");
            return Some(bytes);
        }
    };
    Some(crate::transcript::Frame::json_line(&reply).0)
}

fn valid_result(method: &str, sandbox: &Path) -> Option<Value> {
    Some(match method {
        "ping" => json!({}),
        "roots/list" => json!({
            "roots": [{"uri": format!("file://{}", sandbox.display()), "name": "sandbox"}],
        }),
        "sampling/createMessage" => json!({
            "role": "assistant",
            "content": {"type": "text", "text": "mcpfuzz sampled reply"},
            "model": "mcpfuzz",
            "stopReason": "endTurn",
        }),
        "elicitation/create" => json!({"action": "decline"}),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bytes: Option<Vec<u8>>) -> String {
        String::from_utf8(bytes.unwrap()).unwrap()
    }

    #[test]
    fn valid_answers_fit_each_method() {
        let sandbox = Path::new("/s");
        assert_eq!(
            text(answer(ReplyPolicy::Valid, &json!(3), "roots/list", sandbox)),
            "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{\"roots\":[{\"uri\":\"file:///s\",\"name\":\"sandbox\"}]}}\n"
        );
        assert!(text(answer(ReplyPolicy::Valid, &json!("a"), "nope", sandbox)).contains("-32601"));
    }

    #[test]
    fn policies_change_the_answer() {
        let sandbox = Path::new("/s");
        assert_eq!(
            answer(ReplyPolicy::NoReply, &json!(1), "ping", sandbox),
            None
        );
        assert!(
            text(answer(ReplyPolicy::WrongId, &json!("s-1"), "ping", sandbox))
                .contains("\"s-1-other\"")
        );
        let malformed = text(answer(ReplyPolicy::Malformed, &json!(1), "ping", sandbox));
        assert!(serde_json::from_str::<Value>(malformed.trim()).is_err());
    }
}
