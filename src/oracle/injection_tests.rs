//! Unit tests of the injection oracle: every rule, and the reflections that must not fire.

use super::*;
use crate::grammar::payloads::{render, PayloadPlan};
use crate::oracle::Tracker;
use crate::sandbox::{BASE_PLACEHOLDER, CANARY_PREFIX};

const PARENT_TOKEN: &str = "MCPFUZZ-CANARY-00112233445566aa";
const SIBLING_TOKEN: &str = "MCPFUZZ-CANARY-77889900aabbccdd";

/// The injection oracle and the protocol oracle it takes labels from.
struct Oracles {
    injection: Injection,
    tracker: Tracker,
}

impl Oracles {
    fn on_sent(&mut self, line: &[u8]) {
        self.tracker.on_sent(line, std::time::Instant::now());
        self.injection.on_sent(line, &self.tracker);
    }

    fn on_received(&mut self, line: &[u8], answered: &[(&Value, &str)]) -> Vec<Finding> {
        self.injection.on_received(line, answered)
    }

    fn on_changes(&mut self, changes: &[Change]) -> Vec<Finding> {
        self.injection.on_changes(changes)
    }
}

fn oracle() -> Oracles {
    let injection = Injection::new(vec![
        Canary {
            path: "secret.txt",
            route: "parent",
            token: PARENT_TOKEN.into(),
        },
        Canary {
            path: "root_old/secret.txt",
            route: "prefix-sibling",
            token: SIBLING_TOKEN.into(),
        },
    ]);
    Oracles {
        injection,
        tracker: Tracker::new(),
    }
}

/// Sends a `tools/call` of `tool` with `arguments` under `id`.
fn call(injection: &mut Oracles, id: u64, tool: &str, arguments: Value) {
    let line = json!({
        "jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": tool, "arguments": arguments}
    });
    injection.on_sent(line.to_string().as_bytes());
}

/// A tool result holding `text`, answering `id`.
fn reply(injection: &mut Oracles, id: u64, text: &str) -> Vec<(String, Severity)> {
    let line = json!({
        "jsonrpc": "2.0", "id": id,
        "result": {"content": [{"type": "text", "text": text}]}
    });
    let id = json!(id);
    injection
        .on_received(line.to_string().as_bytes(), &[(&id, "tools/call:?")])
        .into_iter()
        .map(|finding| (finding.signature, finding.severity))
        .collect()
}

fn payload(family: Family, form: u8, variant: u8, nonce: u64) -> String {
    render(&PayloadPlan::new(family, form, variant), nonce, "x")
}

fn product_of(text: &str) -> String {
    let expression = text
        .split(|c: char| !c.is_ascii_digit() && c != '*')
        .find(|part| part.contains('*') && part.len() > 10)
        .unwrap();
    let (a, b) = expression.split_once('*').unwrap();
    (a.parse::<u64>().unwrap() * b.parse::<u64>().unwrap()).to_string()
}

#[test]
fn a_computed_product_in_the_reply_is_a_shell_injection() {
    let mut injection = oracle();
    let shell = payload(Family::Shell, 1, 0, 11);
    call(&mut injection, 1, "grep", json!({"pattern": shell}));
    let output = format!("0\n{}\n", product_of(&shell));
    assert_eq!(
        reply(&mut injection, 1, &output),
        vec![(
            "injection/shell/tools/call:grep/arguments.pattern".into(),
            Severity::Critical
        )]
    );
}

#[test]
fn a_reflected_payload_is_never_an_injection() {
    let mut injection = oracle();
    for (id, family) in [
        Family::Shell,
        Family::Template,
        Family::Sql,
        Family::PathRead,
    ]
    .into_iter()
    .enumerate()
    {
        for form in 0..12 {
            let text = payload(family, form, 0, 100 + id as u64 * 20 + u64::from(form));
            call(&mut injection, id as u64, "echo", json!({"message": text}));
            assert_eq!(reply(&mut injection, id as u64, &text), vec![], "{text}");
        }
    }
}

#[test]
fn a_product_the_client_sent_itself_proves_nothing() {
    let mut injection = oracle();
    let template = payload(Family::Template, 0, 0, 5);
    let product = product_of(&template);
    // An earlier request already carried the product as plain text.
    call(&mut injection, 1, "echo", json!({"message": product}));
    call(&mut injection, 2, "render", json!({"text": template}));
    assert_eq!(
        reply(&mut injection, 2, &format!("Hello {product}")),
        vec![]
    );
    // And a product sent after the payload, then echoed, is reflection too.
    let template = payload(Family::Template, 0, 0, 6);
    call(&mut injection, 3, "render", json!({"text": template}));
    let product = product_of(&template);
    call(&mut injection, 4, "echo", json!({"message": product}));
    assert_eq!(reply(&mut injection, 4, &product), vec![]);
}

#[test]
fn template_and_sql_products_are_told_apart_by_their_syntax() {
    let mut injection = oracle();
    let template = payload(Family::Template, 3, 0, 21);
    let sql = payload(Family::Sql, 1, 0, 22);
    call(&mut injection, 1, "greet", json!({"name": template}));
    call(&mut injection, 2, "lookup", json!({"who": {"name": sql}}));
    assert_eq!(
        reply(
            &mut injection,
            1,
            &format!("Hello, {}!", product_of(&template))
        ),
        vec![(
            "injection/template/tools/call:greet/arguments.name".into(),
            Severity::Critical
        )]
    );
    assert_eq!(
        reply(&mut injection, 2, &format!("{}|None", product_of(&sql))),
        vec![(
            "injection/sql/tools/call:lookup/arguments.who.name".into(),
            Severity::Critical
        )]
    );
}

#[test]
fn a_concatenation_proves_sql_and_its_parts_alone_do_not() {
    let mut injection = oracle();
    let concat = payload(Family::Sql, 8, 0, 31);
    let parts: Vec<&str> = concat
        .split(|c: char| !c.is_ascii_digit())
        .filter(|part| !part.is_empty())
        .collect();
    call(&mut injection, 1, "find", json!({"q": concat}));
    assert_eq!(
        reply(&mut injection, 1, &format!("{} and {}", parts[0], parts[1])),
        vec![]
    );
    assert_eq!(
        reply(&mut injection, 1, &format!("user {}{}", parts[0], parts[1])),
        vec![(
            "injection/sql/tools/call:find/arguments.q".into(),
            Severity::Critical
        )]
    );
}

#[test]
fn a_canary_token_in_a_reply_is_a_read_outside_the_root() {
    let mut injection = oracle();
    let read = payload(Family::PathRead, 0, 2, 0);
    assert_eq!(read, "../root_old/secret.txt");
    call(
        &mut injection,
        7,
        "read_file",
        json!({"path": read, "limit": 3}),
    );
    let findings = injection.on_received(
        format!("{{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{{\"content\":[{{\"type\":\"text\",\"text\":\"{SIBLING_TOKEN}\\n\"}}]}}}}").as_bytes(),
        &[(&json!(7), "tools/call:read_file")],
    );
    assert_eq!(findings.len(), 1);
    let finding = &findings[0];
    assert_eq!(
        finding.signature,
        "injection/path-read/tools/call:read_file/arguments.path"
    );
    assert_eq!(finding.evidence["route"], "prefix-sibling");
    assert_eq!(finding.evidence["canary"], "root_old/secret.txt");
}

#[test]
fn allowed_tokens_sent_tokens_and_foreign_tokens_are_not_reads() {
    let mut injection = oracle();
    call(&mut injection, 1, "read_file", json!({"path": "README.md"}));
    assert_eq!(
        reply(&mut injection, 1, "MCPFUZZ-ALLOWED-0011223344556677"),
        vec![]
    );
    assert_eq!(
        reply(
            &mut injection,
            1,
            &format!("{CANARY_PREFIX}ffffffffffffffff")
        ),
        vec![]
    );
    // A token the client itself sent (say, harvested and replayed) is reflection.
    call(&mut injection, 2, "echo", json!({"message": PARENT_TOKEN}));
    assert_eq!(reply(&mut injection, 2, PARENT_TOKEN), vec![]);
}

#[test]
fn a_read_without_a_path_payload_is_still_reported_against_the_request() {
    let mut injection = oracle();
    call(&mut injection, 1, "list", json!({"dir": "docs"}));
    call(&mut injection, 2, "other", json!({}));
    let line = format!("{{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{{\"x\":\"{PARENT_TOKEN}\"}}}}");
    let findings = injection.on_received(line.as_bytes(), &[(&json!(1), "tools/call:list")]);
    assert_eq!(
        findings[0].signature,
        "injection/path-read/tools/call:list/-"
    );
}

#[test]
fn marker_files_are_attributed_to_the_argument_that_named_them() {
    let mut injection = oracle();
    let touch = payload(Family::Shell, 18, 1, 41);
    let option = payload(Family::Option, 0, 0, 42);
    let write = payload(Family::PathWrite, 1, 0, 43);
    call(&mut injection, 1, "grep", json!({"pattern": touch}));
    call(&mut injection, 2, "sort", json!({"path": option}));
    call(
        &mut injection,
        3,
        "save",
        json!({"name": write, "text": "hi"}),
    );
    let name = |text: &str| {
        let at = text.find("mcpfuzz-").unwrap();
        text[at..at + 17].to_owned()
    };
    let changes = vec![
        Change::Created(format!("work/{}", name(&touch))),
        Change::Created(format!("work/{}", name(&option))),
        Change::Created(format!("work/{}.txt", name(&write))),
    ];
    let signatures: Vec<String> = injection
        .on_changes(&changes)
        .into_iter()
        .map(|finding| finding.signature)
        .collect();
    assert_eq!(
        signatures,
        vec![
            "injection/shell/tools/call:grep/arguments.pattern",
            "injection/option/tools/call:sort/arguments.path",
            "injection/path-write/tools/call:save/arguments.name",
        ]
    );
    assert!(touch.contains(BASE_PLACEHOLDER));
}

#[test]
fn other_writes_outside_the_root_are_reported_against_the_last_request() {
    let mut injection = oracle();
    call(&mut injection, 1, "save", json!({"name": "a.txt"}));
    // The session's own barrier ping is not what the script sent last.
    injection.on_sent(b"{\"jsonrpc\":\"2.0\",\"id\":1000000001,\"method\":\"ping\"}");
    let findings = injection.on_changes(&[
        Change::Created("work/a.txt".into()),
        Change::Created("work/mcpfuzz-s0000abcd".into()),
        Change::CanaryChanged("work/secret.txt".into()),
    ]);
    let signatures: Vec<&str> = findings.iter().map(|f| f.signature.as_str()).collect();
    // The unknown marker and the plain write share the last request; the canary change
    // is a write too and so reported once with them.
    assert_eq!(
        signatures,
        vec![
            "injection/path-write/tools/call:save/-",
            "injection/shell/tools/call:save/-",
        ]
    );
}

#[test]
fn database_error_text_is_weaker_evidence_only_for_sql_payloads() {
    let mut injection = oracle();
    let sql = payload(Family::Sql, 0, 0, 51);
    call(&mut injection, 1, "lookup", json!({"name": sql}));
    call(&mut injection, 2, "lookup", json!({"name": "o'brien"}));
    let error = "near \"UNION\": syntax error";
    assert_eq!(reply(&mut injection, 2, error), vec![]);
    // A shell's complaint about the same quote is not a database's.
    assert_eq!(
        reply(
            &mut injection,
            1,
            "sh: 1: Syntax error: Unterminated quoted string"
        ),
        vec![]
    );
    assert_eq!(
        reply(&mut injection, 1, error),
        vec![(
            "injection/sql/tools/call:lookup/arguments.name/error-text".into(),
            Severity::Medium
        )]
    );
}

#[test]
fn unescaped_markup_is_information_and_escaped_markup_nothing() {
    let mut injection = oracle();
    let markup = payload(Family::Markup, 0, 0, 61);
    call(&mut injection, 1, "render", json!({"text": markup}));
    let escaped = markup.replace('<', "&lt;").replace('>', "&gt;");
    assert_eq!(reply(&mut injection, 1, &escaped), vec![]);
    assert_eq!(
        reply(&mut injection, 1, &format!("<p>{markup}</p>")),
        vec![(
            "injection/markup/tools/call:render/arguments.text".into(),
            Severity::Info
        )]
    );
}

#[test]
fn each_signature_is_reported_once_per_child() {
    let mut injection = oracle();
    let template = payload(Family::Template, 0, 0, 71);
    call(&mut injection, 1, "greet", json!({"name": template}));
    let output = product_of(&template);
    assert_eq!(reply(&mut injection, 1, &output).len(), 1);
    assert_eq!(reply(&mut injection, 1, &output), vec![]);
}

#[test]
fn batch_members_and_resource_uris_are_attributed_by_id() {
    let mut injection = oracle();
    let read = payload(Family::PathRead, 5, 0, 0);
    let batch = json!([
        {"jsonrpc": "2.0", "id": "a", "method": "ping"},
        {"jsonrpc": "2.0", "id": "b", "method": "resources/read", "params": {"uri": read}},
    ]);
    injection.on_sent(batch.to_string().as_bytes());
    let line = format!(
        "[{{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"result\":{{}}}},{{\"jsonrpc\":\"2.0\",\"id\":\"b\",\"result\":{{\"contents\":[{{\"text\":\"{PARENT_TOKEN}\"}}]}}}}]"
    );
    let (a, b) = (json!("a"), json!("b"));
    let findings = injection.on_received(line.as_bytes(), &[(&a, "ping"), (&b, "resources/read")]);
    let signatures: Vec<&str> = findings.iter().map(|f| f.signature.as_str()).collect();
    assert_eq!(signatures, vec!["injection/path-read/resources/read/uri"]);
}
