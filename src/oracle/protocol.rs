//! Protocol rules on one reply once it is matched to what it answers
//! (`protocol/<rule>/<label>`).
//!
//! Rule names are kebab-case and stable: users filter on them and reproducers store them.
//! Severity is Medium, except for deviations the official SDKs commit themselves, which
//! are Low.

use super::{errors, shapes, ErrorClass, Outcome};
use crate::wire::{self, Response};
use crate::{Finding, Kind, Severity};
use serde_json::{json, Value};

/// What a line the client sent is owed, as far as the rules care.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Owed {
    /// A request (or a batch member request) for `method`.
    Request {
        /// The method, for result shapes and the method-not-found rule.
        method: String,
        /// Whether its id is one a server may mangle.
        odd_id: bool,
    },
    /// An invalid request: at most one Invalid Request error.
    Invalid,
    /// An invalid response object: at most one error, any code.
    InvalidResponse,
    /// A line that is not JSON: at most one Parse error with id null.
    Malformed,
    /// `[]`: at most one Invalid Request error with id null.
    EmptyBatch,
    /// A non-empty batch: one reply per request in an array, or one error for all.
    Batch {
        /// Whether any member was a request (a batch of notifications owes nothing).
        has_requests: bool,
    },
}

impl Owed {
    /// The error code JSON-RPC recommends when this is answered with an error.
    pub(crate) fn expected_code(&self) -> Option<i64> {
        match self {
            Owed::Request { method, .. } if !wire::is_server_method(method) => Some(-32601),
            Owed::Malformed => Some(-32700),
            Owed::Invalid | Owed::EmptyBatch | Owed::Batch { .. } => Some(-32600),
            Owed::Request { .. } | Owed::InvalidResponse => None,
        }
    }

    fn describe(&self) -> &'static str {
        match self {
            Owed::Request { .. } => "a request for an unknown method",
            Owed::Malformed => "a line that is not JSON",
            Owed::Invalid => "an invalid request",
            Owed::EmptyBatch => "an empty batch",
            Owed::InvalidResponse => "an invalid response",
            Owed::Batch { .. } => "a batch",
        }
    }
}

/// A protocol finding: signature `protocol/<rule>/<rest>` where `rest` starts with the
/// label; evidence quotes the offending line and the request line.
pub(crate) fn finding(
    rule: &str,
    rest: &str,
    severity: Severity,
    summary: String,
    line: &[u8],
    request: Option<&[u8]>,
) -> Finding {
    Finding::new(
        Kind::Protocol,
        format_args!("{rule}/{rest}"),
        severity,
        summary,
        json!({
            "rule": rule,
            "line": super::quote(line),
            "request": request.map(super::quote),
        }),
    )
}

/// Checks a reply matched to what it answers (`owed`, labelled `label`): the version, the
/// result/error exclusivity, the error object and code, the MCP result shape, and the
/// error oracle. `id_null` says whether the reply's id was null (or missing).
pub(crate) fn check_answer(
    owed: &Owed,
    label: &str,
    response: &Response,
    id_null: bool,
    line: &[u8],
    request: Option<&[u8]>,
) -> (Outcome, Vec<Finding>) {
    let mut findings = Vec::new();
    let mut report = |rule: &str, rest: &str, severity: Severity, summary: String| {
        findings.push(finding(rule, rest, severity, summary, line, request));
    };
    if !response.version_ok {
        report(
            "bad-jsonrpc-version",
            label,
            Severity::Medium,
            format!("reply to {label} lacks \"jsonrpc\": \"2.0\""),
        );
    }
    let outcome = match (&response.result, &response.error) {
        (Some(_), Some(_)) => {
            report(
                "both-result-and-error",
                label,
                Severity::Medium,
                format!("reply to {label} has both a result and an error"),
            );
            Outcome::Malformed
        }
        (None, None) => {
            report(
                "no-result-or-error",
                label,
                Severity::Medium,
                format!("reply to {label} has neither a result nor an error"),
            );
            Outcome::Malformed
        }
        (None, Some(error)) => {
            let code = response.error_code();
            if !is_well_formed_error(error) {
                report(
                    "malformed-error",
                    label,
                    Severity::Medium,
                    format!("error reply to {label} is not an object with an integer code and a string message"),
                );
            }
            match (owed, code) {
                (Owed::Batch { .. }, _) => report(
                    "batch-answered-with-error",
                    label,
                    Severity::Low,
                    "a batch was answered with one error instead of one reply per request"
                        .to_owned(),
                ),
                (Owed::Malformed, Some(-32700)) if !id_null => report(
                    "parse-error-with-id",
                    label,
                    Severity::Low,
                    "a line that is not JSON was answered with a parse error with a non-null id"
                        .to_owned(),
                ),
                // A lenient parser read the line (NaN, a lone surrogate) and answered it.
                (Owed::Malformed, _) if !id_null => {}
                (_, Some(code)) => match owed.expected_code() {
                    Some(expected) if expected != code => report(
                        "unexpected-error-code",
                        label,
                        Severity::Low,
                        format!(
                            "{} was answered with error code {code}, not {expected}",
                            owed.describe()
                        ),
                    ),
                    _ => {}
                },
                (_, None) => {}
            }
            findings.extend(errors::check_error_reply(label, error, line, request));
            Outcome::Error(ErrorClass::of(code))
        }
        (Some(result), None) => match owed {
            Owed::Request { method, .. } => {
                if let Err(violation) = shapes::check(method, result) {
                    let path = violation.path();
                    report(
                        "bad-result-shape",
                        &format!("{label}/{path}/{}", violation.problem),
                        Severity::Medium,
                        format!(
                            "result of {label} breaks the MCP schema at {path} ({})",
                            violation.problem
                        ),
                    );
                }
                if method == "tools/call" {
                    findings.extend(errors::check_tool_result(label, result, line, request));
                    if result.get("isError") == Some(&Value::Bool(true)) {
                        Outcome::ToolError
                    } else {
                        Outcome::Result
                    }
                } else {
                    Outcome::Result
                }
            }
            // A lenient parser read the line and answered it; not a defect on its own.
            Owed::Malformed => Outcome::Result,
            Owed::Invalid | Owed::InvalidResponse | Owed::EmptyBatch | Owed::Batch { .. } => {
                report(
                    "accepted-invalid-request",
                    label,
                    Severity::Low,
                    format!(
                        "{} ({label}) was answered with a result, not an Invalid Request error",
                        owed.describe()
                    ),
                );
                Outcome::Result
            }
        },
    };
    (outcome, findings)
}

/// JSON-RPC: `error` is an object with an integer `code` and a string `message`.
fn is_well_formed_error(error: &Value) -> bool {
    error.get("code").is_some_and(|code| code.is_i64())
        && error.get("message").is_some_and(Value::is_string)
}

#[cfg(test)]
mod tests {
    use super::super::findings_of;
    use crate::Severity::{self, Low, Medium};

    const PING_1: &str = r#"> {"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    const PONG_1: &str = r#"< {"jsonrpc":"2.0","id":1,"result":{}}"#;

    fn expect(script: &[&str], expected: &[(&str, Severity)]) {
        let expected: Vec<(String, Severity)> = expected
            .iter()
            .map(|(signature, severity)| (signature.to_string(), *severity))
            .collect();
        assert_eq!(findings_of(script), expected, "{script:#?}");
    }

    #[test]
    fn non_json_and_blank_output() {
        expect(
            &[PING_1, "< Server listening on stdio", "< ", PONG_1],
            &[
                ("protocol/non-json-output/ping", Medium),
                ("protocol/blank-line-output/ping", Low),
            ],
        );
        expect(&["< oops"], &[("protocol/non-json-output/-", Medium)]);
    }

    #[test]
    fn json_that_is_not_json_rpc() {
        expect(
            &[PING_1, r#"< {"hello":1}"#, "< 42", "< []", PONG_1],
            &[
                ("protocol/not-jsonrpc/ping", Medium),
                ("protocol/not-jsonrpc/ping", Medium),
                ("protocol/empty-batch-reply/ping", Medium),
            ],
        );
    }

    #[test]
    fn wrong_or_missing_jsonrpc_version() {
        expect(
            &[
                PING_1,
                r#"< {"id":1,"result":{}}"#,
                r#"< {"jsonrpc":"1.0","method":"notifications/message","params":{"level":"info","data":"x"}}"#,
                r#"< {"method":"sampling/createMessage","id":"s1","params":{}}"#,
            ],
            &[
                ("protocol/bad-jsonrpc-version/ping", Medium),
                ("protocol/bad-jsonrpc-version/notifications/message", Medium),
                (
                    "protocol/bad-jsonrpc-version/sampling/createMessage",
                    Medium,
                ),
            ],
        );
    }

    #[test]
    fn correct_notifications_and_server_requests_are_fine() {
        expect(
            &[
                r#"< {"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"x"}}"#,
                r#"< {"jsonrpc":"2.0","id":0,"method":"roots/list"}"#,
                r#"> {"jsonrpc":"2.0","id":0,"result":{"roots":[]}}"#,
            ],
            &[],
        );
    }

    #[test]
    fn unknown_and_duplicate_ids() {
        expect(
            &[
                PING_1,
                r#"< {"jsonrpc":"2.0","id":2,"result":{}}"#,
                PONG_1,
                PONG_1,
            ],
            &[
                ("protocol/unknown-id/ping", Medium),
                ("protocol/duplicate-reply/ping", Medium),
            ],
        );
    }

    #[test]
    fn null_id_replies_nobody_asked_for() {
        expect(
            &[
                r#"> {"jsonrpc":"2.0","method":"notifications/initialized"}"#,
                r#"< {"jsonrpc":"2.0","id":null,"result":{}}"#,
            ],
            &[(
                "protocol/reply-to-notification/notifications/initialized",
                Medium,
            )],
        );
        expect(
            &[
                PING_1,
                PONG_1,
                r#"< {"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"x"}}"#,
            ],
            &[("protocol/unexpected-null-id/ping", Medium)],
        );
        expect(
            &[PING_1, r#"< {"jsonrpc":"2.0","result":{}}"#],
            &[
                ("protocol/missing-reply-id/ping", Medium),
                ("protocol/unexpected-null-id/ping", Medium),
            ],
        );
    }

    #[test]
    fn id_type_changes_are_medium_and_odd_ids_low() {
        expect(
            &[
                r#"> {"jsonrpc":"2.0","id":"7","method":"tools/list"}"#,
                r#"< {"jsonrpc":"2.0","id":7,"result":{"tools":[]}}"#,
                r#"> {"jsonrpc":"2.0","id":8,"method":"ping"}"#,
                r#"< {"jsonrpc":"2.0","id":"8","result":{}}"#,
            ],
            &[
                ("protocol/id-type-changed/tools/list", Medium),
                ("protocol/id-type-changed/ping", Medium),
            ],
        );
        expect(
            &[
                r#"> {"jsonrpc":"2.0","id":9007199254740993,"method":"ping"}"#,
                r#"< {"jsonrpc":"2.0","id":9007199254740992,"result":{}}"#,
                r#"> {"jsonrpc":"2.0","id":1.5,"method":"ping"}"#,
                r#"< {"jsonrpc":"2.0","id":"1.5","result":{}}"#,
                r#"> {"jsonrpc":"2.0","id":2.0,"method":"ping"}"#,
                r#"< {"jsonrpc":"2.0","id":2,"result":{}}"#,
            ],
            &[
                ("protocol/odd-id-mangled/ping", Low),
                ("protocol/odd-id-mangled/ping", Low),
            ],
        );
    }

    #[test]
    fn result_error_exclusivity_and_error_objects() {
        expect(
            &[
                PING_1,
                r#"< {"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":"x"}}"#,
                r#"> {"jsonrpc":"2.0","id":2,"method":"ping"}"#,
                r#"< {"jsonrpc":"2.0","id":2}"#,
                r#"> {"jsonrpc":"2.0","id":3,"method":"ping"}"#,
                r#"< {"jsonrpc":"2.0","id":3,"error":{"code":"E1","message":"x"}}"#,
                r#"> {"jsonrpc":"2.0","id":4,"method":"ping"}"#,
                r#"< {"jsonrpc":"2.0","id":4,"error":"boom"}"#,
            ],
            &[
                ("protocol/both-result-and-error/ping", Medium),
                ("protocol/no-result-or-error/ping", Medium),
                ("protocol/malformed-error/ping", Medium),
                ("protocol/malformed-error/ping", Medium),
            ],
        );
    }

    #[test]
    fn result_shapes_are_checked_per_method() {
        expect(
            &[
                r#"> {"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
                r#"< {"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"a","inputSchema":{}}]}}"#,
                r#"> {"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{}}}"#,
                r#"< {"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text"}]}}"#,
                r#"> {"jsonrpc":"2.0","id":3,"method":"initialize","params":{}}"#,
                r#"< {"jsonrpc":"2.0","id":3,"result":{"protocolVersion":"2025-06-18","capabilities":{},"serverInfo":{"name":"s","version":"1"},"vendor":{"x":1}}}"#,
            ],
            &[
                (
                    "protocol/bad-result-shape/tools/list/tools[].inputSchema.type/missing",
                    Medium,
                ),
                (
                    "protocol/bad-result-shape/tools/call:echo/content[].text/missing",
                    Medium,
                ),
            ],
        );
    }

    #[test]
    fn parse_errors_for_lines_that_are_not_json() {
        // A null-id parse error is the right answer; no answer at all is what the
        // official SDKs do, so it is Low and only reported at the end of the script.
        expect(
            &[
                "> {\"jsonrpc\":\"2.0\",",
                r#"< {"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}"#,
                "end",
            ],
            &[],
        );
        expect(
            &["> {\"jsonrpc\":", PING_1, PONG_1, "end"],
            &[("protocol/no-parse-error-reply/-", Low)],
        );
        expect(
            &[
                "> not json",
                r#"< {"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"bad"}}"#,
            ],
            &[("protocol/unexpected-error-code/-", Low)],
        );
        expect(
            &[
                "> not json",
                r#"< {"jsonrpc":"2.0","id":0,"error":{"code":-32700,"message":"Parse error"}}"#,
            ],
            &[("protocol/parse-error-with-id/-", Low)],
        );
    }

    #[test]
    fn lenient_parsers_may_answer_lines_we_cannot_parse() {
        // JavaScript and Python accept a lone surrogate escape; serde_json does not.
        expect(
            &[
                r#"> {"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"echo","arguments":{"text":"\ud800"}}}"#,
                r#"< {"jsonrpc":"2.0","id":5,"result":{"content":[{"type":"text","text":"?"}]}}"#,
                "end",
            ],
            &[],
        );
    }

    #[test]
    fn invalid_requests_and_their_error_codes() {
        expect(
            &[r#"> {"id":3,"method":"ping"}"#, PING_1, PONG_1, "end"],
            &[("protocol/no-invalid-request-reply/-", Low)],
        );
        expect(
            &[
                r#"> {"jsonrpc":"2.0","id":3,"method":7}"#,
                r#"< {"jsonrpc":"2.0","id":3,"error":{"code":-32600,"message":"Invalid Request"}}"#,
                r#"> {"jsonrpc":"2.0","id":4,"method":"ping","params":"x"}"#,
                r#"< {"jsonrpc":"2.0","id":null,"error":{"code":-32602,"message":"Invalid params"}}"#,
                r#"> {"jsonrpc":"1.0","id":5,"method":"ping"}"#,
                r#"< {"jsonrpc":"2.0","id":5,"result":{}}"#,
                "end",
            ],
            &[
                ("protocol/unexpected-error-code/ping", Low),
                ("protocol/accepted-invalid-request/ping", Low),
            ],
        );
    }

    #[test]
    fn unknown_methods_expect_method_not_found() {
        expect(
            &[
                r#"> {"jsonrpc":"2.0","id":1,"method":"tools/frobnicate"}"#,
                r#"< {"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"Method not found"}}"#,
                r#"> {"jsonrpc":"2.0","id":2,"method":"x"}"#,
                r#"< {"jsonrpc":"2.0","id":2,"error":{"code":-32602,"message":"Invalid request parameters"}}"#,
                r#"> {"jsonrpc":"2.0","id":3,"method":"prompts/list"}"#,
                r#"< {"jsonrpc":"2.0","id":3,"error":{"code":-32602,"message":"no prompts"}}"#,
            ],
            &[("protocol/unexpected-error-code/unknown-method", Low)],
        );
    }

    #[test]
    fn batches_answered_per_item_or_as_a_whole() {
        let batch = r#"> [{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/initialized"},{"jsonrpc":"2.0","id":2,"method":"ping"},5]"#;
        expect(
            &[
                batch,
                r#"< [{"jsonrpc":"2.0","id":2,"result":{}},{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"x"}},{"jsonrpc":"2.0","id":1,"result":{}}]"#,
                "end",
            ],
            &[],
        );
        expect(
            &[
                batch,
                r#"< {"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"batches are not supported"}}"#,
                "end",
            ],
            &[("protocol/batch-answered-with-error/batch", Low)],
        );
        expect(&[batch, "end"], &[("protocol/no-batch-reply/-", Low)]);
        expect(
            &[
                "> []",
                r#"< {"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"x"}}"#,
                "end",
            ],
            &[],
        );
        expect(
            &["> []", "end"],
            &[("protocol/no-invalid-request-reply/-", Low)],
        );
    }

    #[test]
    fn replies_to_responses() {
        expect(
            &[
                r#"> {"jsonrpc":"2.0","id":"srv-1","result":{"roots":[]}}"#,
                r#"< {"jsonrpc":"2.0","id":"srv-1","error":{"code":-32601,"message":"x"}}"#,
            ],
            &[("protocol/reply-to-response/response", Medium)],
        );
        // An invalid response may get an error; none is fine too.
        expect(
            &[
                r#"> {"jsonrpc":"2.0","id":"srv-2","result":{},"error":{"code":1,"message":"x"}}"#,
                r#"< {"jsonrpc":"2.0","id":"srv-2","error":{"code":-32600,"message":"x"}}"#,
                r#"> {"jsonrpc":"2.0","id":"srv-3","result":{},"error":{"code":1,"message":"x"}}"#,
                "end",
            ],
            &[],
        );
    }

    #[test]
    fn internal_errors_and_traces_go_to_the_error_oracle() {
        let call = r#"> {"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"divide","arguments":{"b":0}}}"#;
        expect(
            &[
                call,
                r#"< {"jsonrpc":"2.0","id":1,"error":{"code":-32603,"message":"Internal error"}}"#,
            ],
            &[("error/tools/call:divide/-32603", Low)],
        );
        expect(
            &[
                call,
                r#"< {"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"Traceback (most recent call last):\n  File \"/srv/server.py\", line 42, in divide\nZeroDivisionError: division by zero"}],"isError":true}}"#,
            ],
            &[("error/tools/call:divide/ZeroDivisionError", Low)],
        );
        expect(
            &[
                call,
                r#"< {"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"Error executing tool divide: division by zero"}],"isError":true}}"#,
            ],
            &[],
        );
    }

    #[test]
    fn an_invalid_notification_may_be_answered_or_not() {
        let notification = r#"> {"jsonrpc":"2.0","method":"notifications/x","params":5}"#;
        expect(&[notification, PING_1, PONG_1, "end"], &[]);
        expect(
            &[
                notification,
                r#"< {"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"bad"}}"#,
                PING_1,
                PONG_1,
                "end",
            ],
            &[],
        );
    }

    #[test]
    fn the_same_id_twice_in_flight_gets_two_replies() {
        let request = r#"> {"jsonrpc":"2.0","id":5,"method":"ping"}"#;
        let reply = r#"< {"jsonrpc":"2.0","id":5,"result":{}}"#;
        expect(&[request, request, reply, reply, "end"], &[]);
        expect(
            &[request, reply, reply, "end"],
            &[("protocol/duplicate-reply/ping", Medium)],
        );
    }
}
