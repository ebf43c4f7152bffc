//! The handshake (`initialize`, `notifications/initialized`) and discovery of tools,
//! resources, templates and prompts, following `nextCursor`.

use super::{Report, Session};
use crate::catalog::{Prompt, PromptArgument, Resource, ResourceTemplate, Tool};
use crate::oracle::{self, Message};
use crate::target::{Output, Recv, SpawnError};
use serde_json::{json, Value};
use std::fmt;
use std::time::{Duration, Instant};

/// The protocol version the fuzzer asks for.
pub const PROTOCOL_VERSION: &str = "2025-06-18";

/// Pages of one list the fuzzer follows before it stops (a server whose cursor never ends).
const MAX_PAGES: usize = 64;

/// Why a target could not be used: said before any fuzzing, never saved as a finding.
#[derive(Debug)]
#[non_exhaustive]
pub enum StartError {
    /// The process could not be started.
    Spawn(SpawnError),
    /// The process exited before answering `initialize`.
    Exited {
        /// How it ended.
        status: oracle::ExitStatus,
        /// Its last stderr output.
        stderr: String,
        /// What it printed on stdout.
        stdout: Vec<String>,
    },
    /// No reply to `initialize` (or a discovery request) within the startup deadline.
    NoReply {
        /// The request that got no reply.
        method: String,
        /// How long the fuzzer waited.
        waited: Duration,
        /// Its last stderr output.
        stderr: String,
        /// What it printed on stdout meanwhile.
        stdout: Vec<String>,
    },
    /// `initialize` was answered with an error, or with something that is not a result.
    Rejected {
        /// The reply.
        reply: String,
    },
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seen = |stdout: &[String], stderr: &str| {
            let mut text = String::new();
            if !stdout.is_empty() {
                text += &format!(
                    "; its stdout began with {:?}",
                    stdout.join("\n").chars().take(300).collect::<String>()
                );
            }
            let stderr = stderr.trim();
            if !stderr.is_empty() {
                let tail: String = stderr
                    .chars()
                    .rev()
                    .take(600)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                text += &format!("; its stderr ended with:\n{tail}");
            }
            text
        };
        match self {
            StartError::Spawn(error) => write!(f, "{error}"),
            StartError::Exited {
                status,
                stderr,
                stdout,
            } => write!(
                f,
                "the target exited ({status}) before answering initialize, so it is not an MCP \
                 server over stdio as started; check the command and its arguments{}",
                seen(stdout, stderr)
            ),
            StartError::NoReply {
                method,
                waited,
                stderr,
                stdout,
            } => write!(
                f,
                "the target did not answer {method} within {} ms; an MCP stdio server must \
                 print one JSON-RPC reply per line on stdout (raise timeouts.startup_ms in \
                 mcpfuzz.toml if it is only slow to start){}",
                waited.as_millis(),
                seen(stdout, stderr)
            ),
            StartError::Rejected { reply } => write!(
                f,
                "the target answered initialize with {reply:?}, not a result; mcpfuzz speaks \
                 MCP protocol version {PROTOCOL_VERSION} and cannot fuzz a server that \
                 refuses the handshake"
            ),
        }
    }
}

impl std::error::Error for StartError {}

impl Session {
    pub(super) fn handshake(&mut self) -> Result<(), StartError> {
        let params = json!({
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": {
                "roots": {"listChanged": true},
                "sampling": {},
                "elicitation": {},
            },
            "clientInfo": {"name": "mcpfuzz", "version": env!("CARGO_PKG_VERSION")},
        });
        let result = self.own_request("initialize", params)?;
        let Some(result) = result.filter(Value::is_object) else {
            return Err(StartError::Rejected {
                reply: self.log_tail().unwrap_or_else(|| "an error".into()),
            });
        };
        self.catalog.protocol_version = result["protocolVersion"].as_str().unwrap_or("").to_owned();
        self.catalog.server_info = result["serverInfo"].clone();
        self.catalog.capabilities = result["capabilities"].clone();
        let initialized = crate::transcript::Frame::json_line(
            &json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        );
        let mut report = Report::default();
        self.send_bytes(&initialized.0, &mut report);
        self.startup_findings.extend(report.findings);
        self.discover()?;
        self.tracker.set_catalog(&self.catalog);
        Ok(())
    }

    fn discover(&mut self) -> Result<(), StartError> {
        let capabilities = self.catalog.capabilities.clone();
        let has = |name: &str| capabilities.get(name).is_some();
        // A server that declares nothing may still have tools; asking costs one request.
        if has("tools") || !has("resources") && !has("prompts") {
            for page in self.list_all("tools/list", "tools")? {
                let name = page["name"].as_str().unwrap_or_default().to_owned();
                let input_schema = page
                    .get("inputSchema")
                    .cloned()
                    .unwrap_or_else(|| json!({}));
                self.catalog.tools.push(Tool { name, input_schema });
            }
        }
        if has("resources") {
            for entry in self.list_all("resources/list", "resources")? {
                if let Some(uri) = entry["uri"].as_str() {
                    self.catalog.resources.push(Resource {
                        uri: uri.to_owned(),
                    });
                }
            }
            for entry in self.list_all("resources/templates/list", "resourceTemplates")? {
                if let Some(template) = entry["uriTemplate"].as_str() {
                    self.catalog.templates.push(ResourceTemplate {
                        uri_template: template.to_owned(),
                    });
                }
            }
        }
        if has("prompts") {
            for entry in self.list_all("prompts/list", "prompts")? {
                let name = entry["name"].as_str().unwrap_or_default().to_owned();
                let arguments = entry["arguments"]
                    .as_array()
                    .map(|arguments| {
                        arguments
                            .iter()
                            .map(|argument| PromptArgument {
                                name: argument["name"].as_str().unwrap_or_default().to_owned(),
                                required: argument["required"].as_bool().unwrap_or(false),
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                self.catalog.prompts.push(Prompt { name, arguments });
            }
        }
        self.catalog.tokens = crate::grammar::tokens::from_catalog(&self.catalog);
        Ok(())
    }

    /// Follows `nextCursor` through every page of a list method; an error reply ends the
    /// list (the server may simply not implement it).
    fn list_all(&mut self, method: &str, field: &str) -> Result<Vec<Value>, StartError> {
        let mut entries = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let params = match &cursor {
                Some(cursor) => json!({"cursor": cursor}),
                None => json!({}),
            };
            let Some(result) = self.own_request(method, params)? else {
                break;
            };
            if let Some(page) = result[field].as_array() {
                entries.extend(page.iter().cloned());
            }
            match result["nextCursor"].as_str() {
                Some(next) if cursor.as_deref() != Some(next) => cursor = Some(next.to_owned()),
                _ => break,
            }
        }
        Ok(entries)
    }

    /// Sends one of the session's own requests and waits for its reply within the startup
    /// deadline. `Ok(None)` means an error reply.
    fn own_request(&mut self, method: &str, params: Value) -> Result<Option<Value>, StartError> {
        let id = self.next_id();
        let frame = crate::transcript::Frame::json_line(
            &json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}),
        );
        let started = Instant::now();
        let deadline = started + Duration::from_millis(self.timeouts.startup_ms);
        let mut report = Report::default();
        let mut stdout = Vec::new();
        if self.child.send(&frame.0, deadline).is_err() {
            return Err(self.start_failure(method, started, stdout));
        }
        self.tracker.on_sent(&frame.0[..frame.0.len() - 1], started);
        if let Some(log) = &mut self.log {
            log.push((
                super::Direction::Sent,
                frame.0[..frame.0.len() - 1].to_vec(),
            ));
        }
        loop {
            let (line, at) = match self.child.recv(deadline) {
                Recv::Output(Output::Line(line), at) => (line, at),
                Recv::Output(Output::Overlong { prefix, .. }, _) => {
                    stdout.push(
                        String::from_utf8_lossy(&prefix[..prefix.len().min(200)]).into_owned(),
                    );
                    continue;
                }
                Recv::Output(Output::Eof, _) | Recv::Timeout => {
                    return Err(self.start_failure(method, started, stdout))
                }
            };
            if stdout.len() < 5 {
                stdout.push(String::from_utf8_lossy(&line).into_owned());
            }
            if let Some(log) = &mut self.log {
                log.push((super::Direction::Received, line.clone()));
            }
            let received = self.tracker.on_received(&line, at);
            self.startup_findings.extend(received.findings);
            for message in received.messages {
                match message {
                    Message::Reply(reply) if reply.id.as_ref() == Some(&json!(id)) => {
                        return Ok(reply.result);
                    }
                    Message::ServerRequest { id, method, .. } => {
                        let answer =
                            super::replies::answer(self.policy, &id, &method, &self.sandbox_root);
                        if let Some(answer) = answer {
                            self.send_bytes(&answer, &mut report);
                            self.startup_findings.append(&mut report.findings);
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    fn start_failure(&mut self, method: &str, started: Instant, stdout: Vec<String>) -> StartError {
        let exit_deadline = Instant::now() + Duration::from_millis(self.timeouts.exit_ms.max(200));
        match self.child.wait_exit(exit_deadline) {
            Some(status) => StartError::Exited {
                status,
                stderr: self.child.stderr_tail_settled(Duration::from_millis(200)),
                stdout,
            },
            None => StartError::NoReply {
                method: method.to_owned(),
                waited: started.elapsed(),
                stderr: self.child.stderr_tail(),
                stdout,
            },
        }
    }

    fn log_tail(&self) -> Option<String> {
        self.log
            .as_ref()
            .and_then(|log| log.last())
            .map(|(_, line)| String::from_utf8_lossy(line).into_owned())
    }
}
