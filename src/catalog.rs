//! What the target announced during discovery: tools, resources, templates, prompts, and
//! string tokens harvested from schemas and replies for the grammar to reuse.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A tool from `tools/list`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    /// The tool's `name`.
    pub name: String,
    /// The tool's `inputSchema` (a JSON Schema object), `{}` when absent.
    pub input_schema: Value,
}

/// A resource from `resources/list`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    /// The resource's `uri`.
    pub uri: String,
}

/// A resource template from `resources/templates/list`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceTemplate {
    /// The RFC 6570 `uriTemplate`, for example `file:///{path}`.
    pub uri_template: String,
}

/// One declared argument of a prompt.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PromptArgument {
    /// The argument's `name`.
    pub name: String,
    /// Whether the prompt declares it `required`.
    pub required: bool,
}

/// A prompt from `prompts/list`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Prompt {
    /// The prompt's `name`.
    pub name: String,
    /// Its declared arguments.
    pub arguments: Vec<PromptArgument>,
}

/// Everything the grammar materializes against.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    /// `protocolVersion` the server answered `initialize` with.
    pub protocol_version: String,
    /// `serverInfo` from the `initialize` result.
    pub server_info: Value,
    /// `capabilities` from the `initialize` result.
    pub capabilities: Value,
    /// Tools, in the order the server listed them.
    pub tools: Vec<Tool>,
    /// Concrete resources.
    pub resources: Vec<Resource>,
    /// Resource templates.
    pub templates: Vec<ResourceTemplate>,
    /// Prompts.
    pub prompts: Vec<Prompt>,
    /// Distinct strings from the catalog worth trying as values: names, enum values,
    /// patterns, defaults, examples ([`crate::grammar::tokens::from_catalog`]).
    pub tokens: Vec<String>,
}
