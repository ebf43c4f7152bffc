//! Requests to MCP methods with fuzzed params: `tools/call` against discovered tools and
//! every other method a server answers, plus unknown and near-miss method names.

use arbitrary::Arbitrary;
use serde_json::{json, Map, Value};

use super::args::{self, ArgsPlan};
use super::context::Out;
use super::envelope::{self, Envelope};
use super::prompts::{self, CompletePlan, PromptPlan};
use super::uri::{self, UriPlan};
use super::values::{self, Boundary, Bounds, Junk, NearMiss, StringPlan};
use super::{Mostly, SmallBytes};

/// The name used when the catalog lists no tool.
const MADE_UP_TOOL: &str = "nonexistent_tool";

/// Methods a server answers, for near misses: the protocol's own list.
pub(crate) const KNOWN_METHODS: &[&str] = crate::wire::SERVER_METHODS;

/// Methods a client answers; a server should refuse them.
const CLIENT_METHODS: &[&str] = &["sampling/createMessage", "roots/list", "elicitation/create"];

/// Notification names sent as requests (with an id).
const NOTIFICATION_METHODS: &[&str] = &[
    "notifications/initialized",
    "notifications/cancelled",
    "notifications/progress",
    "notifications/roots/list_changed",
];

/// Other names servers may special-case.
const OTHER_METHODS: &[&str] = &[
    "rpc.discover",
    "$/cancelRequest",
    "shutdown",
    "exit",
    "initialized",
    "tools/get",
    "resources/write",
    "system.listMethods",
    "",
    "/",
    "tools",
];

/// The protocol versions a client may ask for.
const PROTOCOL_VERSIONS: &[&str] = &["2024-11-05", "2025-03-26", "2025-06-18"];

/// The logging levels of the MCP spec.
const LEVELS: &[&str] = &[
    "debug",
    "info",
    "notice",
    "warning",
    "error",
    "critical",
    "alert",
    "emergency",
];

/// A `tools/call` of a discovered tool.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub struct CallTool {
    /// Which tool, modulo the catalog's tools.
    pub tool: u8,
    /// The tool's name, unless the pick says otherwise.
    pub name: Mostly<ToolName>,
    /// How its arguments are built.
    pub args: ArgsPlan,
    /// How the request is wrapped.
    pub envelope: Envelope,
}

/// A `name` other than the tool's own.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub enum ToolName {
    /// A near miss of the tool's name.
    NearMiss(NearMiss),
    /// A name nobody listed.
    Unknown,
    /// No `name` member.
    Missing,
    /// `null`.
    Null,
    /// `1`.
    Number,
    /// A harvested token.
    Token(u8),
    /// Bytes chosen by the fuzzer.
    Free(SmallBytes),
}

/// A request to any MCP method but `tools/call`.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub struct MethodCall {
    /// The method and its params.
    pub method: Method,
    /// How the request is wrapped.
    pub envelope: Envelope,
}

/// MCP methods with params plans.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub enum Method {
    /// `ping`, without params unless the pick says otherwise.
    Ping(Mostly<Junk>),
    /// A second `initialize`.
    Initialize(InitPlan),
    /// `tools/list`.
    ToolsList(Mostly<CursorPlan>),
    /// `resources/list`.
    ResourcesList(Mostly<CursorPlan>),
    /// `resources/templates/list`.
    TemplatesList(Mostly<CursorPlan>),
    /// `prompts/list`.
    PromptsList(Mostly<CursorPlan>),
    /// `resources/read`.
    ResourcesRead(UriPlan),
    /// `resources/subscribe`.
    Subscribe(UriPlan),
    /// `resources/unsubscribe`.
    Unsubscribe(UriPlan),
    /// `prompts/get`.
    PromptsGet(PromptPlan),
    /// `completion/complete`.
    Complete(CompletePlan),
    /// `logging/setLevel`.
    SetLevel(LevelPlan),
    /// A method the server does not have.
    Unknown(UnknownMethod),
}

/// Params of a second `initialize`.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub struct InitPlan {
    /// `protocolVersion`: the one the server answered unless the pick says otherwise.
    pub version: Mostly<VersionChoice>,
    /// `capabilities`: the ones the session's handshake announced (roots, sampling,
    /// elicitation) unless the pick says otherwise, so that a valid re-initialize does not
    /// change what the server may ask the client.
    pub capabilities: Mostly<CapabilitiesPlan>,
    /// `clientInfo`: a valid one unless the pick says otherwise.
    pub client_info: Mostly<ClientInfoPlan>,
}

/// Other `protocolVersion`s.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub enum VersionChoice {
    /// A published version, modulo the list.
    Known(u8),
    /// A future date.
    Future,
    /// A date before MCP.
    Ancient,
    /// An edge-case string.
    Str(StringPlan),
    /// A number.
    Number,
    /// `null`.
    Null,
    /// No `protocolVersion` member.
    Missing,
}

/// Other `capabilities`.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub enum CapabilitiesPlan {
    /// `{}`: nothing announced any more.
    Empty,
    /// Members of the wrong types.
    WrongTypes,
    /// No `capabilities` member.
    Missing,
    /// Any value.
    Junk(Junk),
}

/// Other `clientInfo`s.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub enum ClientInfoPlan {
    /// No `clientInfo` member.
    Missing,
    /// `{"name": ...}` without a version.
    NoVersion,
    /// An edge-case name.
    Name(StringPlan),
    /// Any value.
    Junk(Junk),
}

/// `cursor` params of a list method (the default is no params at all).
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub enum CursorPlan {
    /// `{}`.
    EmptyParams,
    /// `""`.
    Empty,
    /// `null`.
    Null,
    /// A harvested token.
    Token(u8),
    /// An edge-case string.
    Str(StringPlan),
    /// A boundary number.
    Number(Boundary),
    /// `{}`.
    Object,
    /// Base64 text a pagination scheme might decode.
    Base64(u8),
}

/// A `logging/setLevel`.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub struct LevelPlan {
    /// A valid level, modulo the list.
    pub level: u8,
    /// An invalid level, when the pick says so.
    pub invalid: Mostly<BadLevel>,
}

/// Invalid `level`s.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub enum BadLevel {
    /// A near miss of the valid level.
    NearMiss(NearMiss),
    /// `verbose`.
    Unknown,
    /// A number.
    Number(Boundary),
    /// `null`.
    Null,
    /// No `level` member.
    Missing,
}

/// A method the server does not have.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub struct UnknownMethod {
    /// The name.
    pub name: MethodName,
    /// Params: none unless the pick says otherwise.
    pub params: Mostly<Junk>,
}

/// Unknown method names.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub enum MethodName {
    /// A near miss of a known method.
    NearMiss(u8, NearMiss),
    /// A method clients answer.
    ClientSide(u8),
    /// A notification's name sent as a request.
    NotificationAsRequest(u8),
    /// Other names servers may special-case, the empty one among them.
    Other(u8),
    /// Bytes chosen by the fuzzer.
    Free(SmallBytes),
}

/// The tools/call request.
pub(crate) fn call_tool(out: &mut Out, call: &CallTool) -> Value {
    let catalog = out.catalog;
    let tool = (!catalog.tools.is_empty())
        .then(|| &catalog.tools[usize::from(call.tool) % catalog.tools.len()]);
    let real_name = tool.map_or(MADE_UP_TOOL, |tool| tool.name.as_str());
    let no_schema = Value::Object(Map::new());
    let schema = tool.map_or(&no_schema, |tool| &tool.input_schema);
    let mut params = Map::new();
    let name = match call.name.get() {
        None => Some(json!(real_name)),
        Some(ToolName::NearMiss(near_miss)) => Some(json!(near_miss.apply(real_name))),
        Some(ToolName::Unknown) => Some(json!(MADE_UP_TOOL)),
        Some(ToolName::Missing) => None,
        Some(ToolName::Null) => Some(Value::Null),
        Some(ToolName::Number) => Some(json!(1)),
        Some(ToolName::Token(pick)) => Some(json!(out.token(*pick).unwrap_or(real_name))),
        Some(ToolName::Free(bytes)) => Some(json!(bytes.lossy())),
    };
    if let Some(name) = name {
        params.insert("name".to_owned(), name);
    }
    if let Some(arguments) = args::tool_arguments(out, schema, &call.args) {
        params.insert("arguments".to_owned(), arguments);
    }
    envelope::request(
        out,
        &call.envelope,
        "tools/call",
        Some(Value::Object(params)),
    )
}

/// The request of a method call.
pub(crate) fn method_call(out: &mut Out, call: &MethodCall) -> Value {
    let (method, params) = method_parts(out, &call.method);
    envelope::request(out, &call.envelope, &method, params)
}

/// A method's name and params.
pub(crate) fn method_parts(out: &mut Out, method: &Method) -> (String, Option<Value>) {
    let list = |out: &mut Out, name: &str, cursor: &Mostly<CursorPlan>| {
        (name.to_owned(), cursor_params(out, cursor))
    };
    match method {
        Method::Ping(params) => (
            "ping".to_owned(),
            params.get().map(|junk| values::junk(out, junk)),
        ),
        Method::Initialize(plan) => ("initialize".to_owned(), Some(initialize_params(out, plan))),
        Method::ToolsList(cursor) => list(out, "tools/list", cursor),
        Method::ResourcesList(cursor) => list(out, "resources/list", cursor),
        Method::TemplatesList(cursor) => list(out, "resources/templates/list", cursor),
        Method::PromptsList(cursor) => list(out, "prompts/list", cursor),
        Method::ResourcesRead(plan) => ("resources/read".to_owned(), Some(uri_params(out, plan))),
        Method::Subscribe(plan) => (
            "resources/subscribe".to_owned(),
            Some(uri_params(out, plan)),
        ),
        Method::Unsubscribe(plan) => (
            "resources/unsubscribe".to_owned(),
            Some(uri_params(out, plan)),
        ),
        Method::PromptsGet(plan) => prompts::prompts_get(out, plan),
        Method::Complete(plan) => (
            "completion/complete".to_owned(),
            Some(prompts::complete_params(out, plan)),
        ),
        Method::SetLevel(plan) => ("logging/setLevel".to_owned(), Some(level_params(out, plan))),
        Method::Unknown(plan) => {
            let name = match &plan.name {
                MethodName::NearMiss(pick, near_miss) => {
                    near_miss.apply(values::pick_from(KNOWN_METHODS, *pick))
                }
                MethodName::ClientSide(pick) => values::pick_from(CLIENT_METHODS, *pick).to_owned(),
                MethodName::NotificationAsRequest(pick) => {
                    values::pick_from(NOTIFICATION_METHODS, *pick).to_owned()
                }
                MethodName::Other(pick) => values::pick_from(OTHER_METHODS, *pick).to_owned(),
                MethodName::Free(bytes) => bytes.lossy(),
            };
            (name, plan.params.get().map(|junk| values::junk(out, junk)))
        }
    }
}

fn initialize_params(out: &mut Out, plan: &InitPlan) -> Value {
    let mut params = Map::new();
    let answered = out.catalog.protocol_version.as_str();
    let version = match plan.version.get() {
        None if answered.is_empty() => Some(json!(PROTOCOL_VERSIONS[PROTOCOL_VERSIONS.len() - 1])),
        None => Some(json!(answered)),
        Some(VersionChoice::Known(pick)) => {
            Some(json!(values::pick_from(PROTOCOL_VERSIONS, *pick)))
        }
        Some(VersionChoice::Future) => Some(json!("2099-01-01")),
        Some(VersionChoice::Ancient) => Some(json!("1999-01-01")),
        Some(VersionChoice::Str(string)) => Some(values::string(out, string, answered)),
        Some(VersionChoice::Number) => Some(json!(20250618)),
        Some(VersionChoice::Null) => Some(Value::Null),
        Some(VersionChoice::Missing) => None,
    };
    if let Some(version) = version {
        params.insert("protocolVersion".to_owned(), version);
    }
    let capabilities = match plan.capabilities.get() {
        None => Some(json!({
            "roots": {"listChanged": true},
            "sampling": {},
            "elicitation": {},
        })),
        Some(CapabilitiesPlan::Empty) => Some(json!({})),
        Some(CapabilitiesPlan::WrongTypes) => {
            Some(json!({"roots": true, "sampling": "yes", "elicitation": []}))
        }
        Some(CapabilitiesPlan::Missing) => None,
        Some(CapabilitiesPlan::Junk(junk)) => Some(values::junk(out, junk)),
    };
    if let Some(capabilities) = capabilities {
        params.insert("capabilities".to_owned(), capabilities);
    }
    let client_info = match plan.client_info.get() {
        None => Some(json!({"name": "mcpfuzz", "version": env!("CARGO_PKG_VERSION")})),
        Some(ClientInfoPlan::Missing) => None,
        Some(ClientInfoPlan::NoVersion) => Some(json!({"name": "mcpfuzz"})),
        Some(ClientInfoPlan::Name(string)) => {
            Some(json!({"name": values::string(out, string, "mcpfuzz"), "version": "0"}))
        }
        Some(ClientInfoPlan::Junk(junk)) => Some(values::junk(out, junk)),
    };
    if let Some(client_info) = client_info {
        params.insert("clientInfo".to_owned(), client_info);
    }
    Value::Object(params)
}

fn cursor_params(out: &mut Out, cursor: &Mostly<CursorPlan>) -> Option<Value> {
    const BASE64: &[&str] = &["MTA=", "MA==", "LTE=", "e30=", "AAAA", "!!!!", "=="];
    let cursor = match cursor.get()? {
        CursorPlan::EmptyParams => return Some(json!({})),
        CursorPlan::Empty => json!(""),
        CursorPlan::Null => Value::Null,
        CursorPlan::Token(pick) => json!(out.token(*pick).unwrap_or("cursor")),
        CursorPlan::Str(string) => values::string(out, string, "cursor"),
        CursorPlan::Number(boundary) => values::boundary_number(out, *boundary, Bounds::default()),
        CursorPlan::Object => json!({}),
        CursorPlan::Base64(pick) => json!(values::pick_from(BASE64, *pick)),
    };
    Some(json!({ "cursor": cursor }))
}

fn uri_params(out: &mut Out, plan: &UriPlan) -> Value {
    let mut params = Map::new();
    if let Some(uri) = uri::uri(out, plan) {
        params.insert("uri".to_owned(), uri);
    }
    Value::Object(params)
}

fn level_params(out: &mut Out, plan: &LevelPlan) -> Value {
    let valid = values::pick_from(LEVELS, plan.level);
    let level = match plan.invalid.get() {
        None => json!(valid),
        Some(BadLevel::NearMiss(near_miss)) => {
            let mut text = near_miss.apply(valid);
            if LEVELS.contains(&text.as_str()) {
                text.push('_');
            }
            json!(text)
        }
        Some(BadLevel::Unknown) => json!("verbose"),
        Some(BadLevel::Number(boundary)) => {
            values::boundary_number(out, *boundary, Bounds::default())
        }
        Some(BadLevel::Null) => Value::Null,
        Some(BadLevel::Missing) => return json!({}),
    };
    json!({ "level": level })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Catalog, Prompt, PromptArgument, Tool};
    use crate::grammar::context::IdState;

    fn catalog() -> Catalog {
        Catalog {
            protocol_version: "2025-06-18".into(),
            tools: vec![Tool {
                name: "echo".into(),
                input_schema: json!({"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}),
            }],
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

    fn text(value: &Value) -> String {
        serde_json::to_string(value).unwrap()
    }

    fn valid_envelope() -> Envelope {
        Envelope::valid()
    }

    #[test]
    fn call_tool_uses_the_catalog() {
        let catalog = catalog();
        let mut ids = IdState::new();
        let mut out = Out::new(&catalog, &mut ids, 1 << 20);
        let call = CallTool {
            tool: 7,
            name: Mostly::usual(ToolName::Unknown),
            args: ArgsPlan::default(),
            envelope: valid_envelope(),
        };
        let mut request = call_tool(&mut out, &call);
        assert!(
            request["params"]["arguments"]["text"].is_string(),
            "{request}"
        );
        request["params"]["arguments"]["text"] = json!("x");
        assert_eq!(
            text(&request),
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"x"}}}"#
        );
        let near_miss = CallTool {
            name: Mostly::unusual(ToolName::NearMiss(NearMiss::Upper)),
            ..call
        };
        assert!(text(&call_tool(&mut out, &near_miss)).contains(r#""name":"ECHO""#));
    }

    #[test]
    fn levels_and_unknown_methods() {
        let catalog = catalog();
        let mut ids = IdState::new();
        let mut out = Out::new(&catalog, &mut ids, 1 << 20);
        let level = LevelPlan {
            level: 0,
            invalid: Mostly::unusual(BadLevel::NearMiss(NearMiss::Upper)),
        };
        assert_eq!(level_params(&mut out, &level), json!({"level": "DEBUG"}));
        let call = MethodCall {
            method: Method::Unknown(UnknownMethod {
                name: MethodName::NearMiss(3, NearMiss::CapitalizeLastSegment),
                params: Mostly::usual(Junk::Null),
            }),
            envelope: valid_envelope(),
        };
        assert_eq!(
            text(&method_call(&mut out, &call)),
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/Call"}"#
        );
    }
}
