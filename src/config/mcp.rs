//! MCP client configuration files: one stdio server of the `mcpServers` map that
//! `.mcp.json`, `claude_desktop_config.json` and Cursor's `mcp.json` hold (VS Code's
//! `.vscode/mcp.json` calls it `servers`), as a [`TargetSpec`].

use super::{ConfigError, Origin, TargetSpec};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One entry of the map. Clients add keys of their own (`disabled`, `autoApprove`, ...);
/// serde ignores them.
#[derive(Deserialize)]
struct ServerEntry {
    #[serde(rename = "type")]
    transport: Option<String>,
    command: Option<String>,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    cwd: Option<PathBuf>,
    url: Option<String>,
}

/// Reads `path` and picks the server named `server`, or the only one when `server` is
/// `None`.
pub fn load_mcp_config(
    path: &Path,
    server: Option<&str>,
) -> Result<(TargetSpec, Origin), ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|error| ConfigError::BadMcpConfig {
        path: path.to_owned(),
        server: None,
        reason: error.to_string(),
    })?;
    let (spec, name) = parse_mcp_config(path, &text, server)?;
    let origin = Origin::McpConfig {
        path: path.to_owned(),
        server: name,
    };
    Ok((spec, origin))
}

/// Parses the text of an MCP client configuration found at `path`; returns the spec of the
/// server named `server` (or of the only server) and that server's name. A relative `cwd`
/// is taken from the file's directory. `mcpServers` is read when present, else `servers`.
pub fn parse_mcp_config(
    path: &Path,
    text: &str,
    server: Option<&str>,
) -> Result<(TargetSpec, String), ConfigError> {
    let bad = |server: Option<&str>, reason: String| ConfigError::BadMcpConfig {
        path: path.to_owned(),
        server: server.map(str::to_owned),
        reason,
    };
    let document: Value =
        serde_json::from_str(text).map_err(|error| bad(None, error.to_string()))?;
    let servers = servers_of(&document).ok_or_else(|| {
        bad(
            None,
            "it has no \"mcpServers\" (or \"servers\") object of server entries".into(),
        )
    })?;
    let names: Vec<String> = servers.keys().cloned().collect();
    let (name, entry) = match (server, servers.len()) {
        (_, 0) => return Err(bad(None, "its server list is empty".into())),
        (Some(name), _) => match servers.get_key_value(name) {
            Some(found) => found,
            None => {
                return Err(ConfigError::ChooseServer {
                    path: path.to_owned(),
                    asked: Some(name.to_owned()),
                    names,
                })
            }
        },
        (None, 1) => servers.iter().next().expect("the map has one entry"),
        (None, _) => {
            return Err(ConfigError::ChooseServer {
                path: path.to_owned(),
                asked: None,
                names,
            })
        }
    };
    let entry =
        ServerEntry::deserialize(entry).map_err(|error| bad(Some(name), error.to_string()))?;
    let remote = match entry.transport.as_deref() {
        None | Some("stdio") => None,
        Some(other) => Some(other.to_owned()),
    };
    let remote = remote.or_else(|| {
        entry
            .url
            .as_ref()
            .filter(|_| entry.command.is_none())
            .map(|_| "url".to_owned())
    });
    if let Some(transport) = remote {
        return Err(ConfigError::NotStdio {
            path: path.to_owned(),
            server: name.clone(),
            transport,
        });
    }
    let command = match entry.command {
        Some(command) if !command.is_empty() => command,
        _ => return Err(bad(Some(name), "it has no \"command\"".into())),
    };
    let mut spec = TargetSpec::from_command(std::iter::once(command).chain(entry.args).collect());
    spec.env = entry.env;
    spec.cwd = entry.cwd.map(|cwd| match cwd.is_relative() {
        true => path.parent().unwrap_or(Path::new(".")).join(cwd),
        false => cwd,
    });
    Ok((spec, name.clone()))
}

/// The object of server entries: `mcpServers`, else VS Code's `servers`.
fn servers_of(document: &Value) -> Option<&Map<String, Value>> {
    document
        .get("mcpServers")
        .or_else(|| document.get("servers"))
        .and_then(Value::as_object)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, server: Option<&str>) -> Result<(TargetSpec, String), ConfigError> {
        parse_mcp_config(Path::new("/project/.mcp.json"), text, server)
    }

    const TWO: &str = r#"{"mcpServers": {
        "files": {"command": "npx", "args": ["-y", "@acme/files", "/data dir"]},
        "notes": {"type": "stdio", "command": "python3", "args": ["notes.py"],
                  "env": {"NOTES_DB": "/tmp/notes.db", "LOG": "1"}, "cwd": "servers/notes",
                  "disabled": false, "autoApprove": []}
    }}"#;

    #[test]
    fn the_only_server_needs_no_name() {
        let text = r#"{"mcpServers": {"files": {"command": "npx", "args": ["-y", "pkg"]}}}"#;
        let (spec, name) = parse(text, None).unwrap();
        assert_eq!(name, "files");
        assert_eq!(spec.command, vec!["npx", "-y", "pkg"]);
        assert!(spec.env.is_empty());
        assert_eq!(spec.cwd, None);
        assert_eq!(spec.timeouts, super::super::Timeouts::default());
    }

    #[test]
    fn named_server_of_several_carries_env_and_resolves_cwd() {
        let (spec, name) = parse(TWO, Some("notes")).unwrap();
        assert_eq!(name, "notes");
        assert_eq!(spec.command, vec!["python3", "notes.py"]);
        assert_eq!(spec.env["NOTES_DB"], "/tmp/notes.db");
        assert_eq!(spec.env["LOG"], "1");
        assert_eq!(spec.cwd, Some(PathBuf::from("/project/servers/notes")));
    }

    #[test]
    fn absolute_cwd_is_kept() {
        let text = r#"{"mcpServers": {"a": {"command": "x", "cwd": "/srv/a"}}}"#;
        let (spec, _) = parse(text, None).unwrap();
        assert_eq!(spec.cwd, Some(PathBuf::from("/srv/a")));
    }

    #[test]
    fn args_with_spaces_stay_one_word() {
        let (spec, _) = parse(TWO, Some("files")).unwrap();
        assert_eq!(spec.command, vec!["npx", "-y", "@acme/files", "/data dir"]);
        assert_eq!(spec.command_line(), "npx -y @acme/files '/data dir'");
    }

    #[test]
    fn several_servers_without_a_name_list_the_names() {
        let error = parse(TWO, None).unwrap_err().to_string();
        assert_eq!(
            error,
            "/project/.mcp.json has 2 servers: \"files\", \"notes\"; \
             name one with MCPFUZZ_SERVER or --server"
        );
    }

    #[test]
    fn unknown_name_lists_the_names() {
        let error = parse(TWO, Some("note")).unwrap_err().to_string();
        assert_eq!(
            error,
            "/project/.mcp.json has no server \"note\"; it has 2 servers: \"files\", \
             \"notes\"; name one with MCPFUZZ_SERVER or --server"
        );
    }

    #[test]
    fn vs_code_servers_key_is_read() {
        let text = r#"{"inputs": [], "servers": {"git": {"type": "stdio", "command": "uvx",
            "args": ["mcp-server-git"]}}}"#;
        let (spec, name) = parse(text, None).unwrap();
        assert_eq!(name, "git");
        assert_eq!(spec.command, vec!["uvx", "mcp-server-git"]);
    }

    #[test]
    fn remote_servers_are_refused() {
        let text = r#"{"mcpServers": {
            "web": {"type": "sse", "url": "https://example.com/sse"},
            "api": {"url": "https://example.com/mcp"},
            "stream": {"type": "streamable-http", "url": "https://example.com/mcp"}
        }}"#;
        let error = parse(text, Some("web")).unwrap_err().to_string();
        assert_eq!(
            error,
            "the server \"web\" in /project/.mcp.json is a remote (sse) server; mcpfuzz \
             only fuzzes stdio servers, started from a \"command\""
        );
        let error = parse(text, Some("api")).unwrap_err().to_string();
        assert!(error.contains("remote (url) server"), "{error}");
        let error = parse(text, Some("stream")).unwrap_err().to_string();
        assert!(error.contains("remote (streamable-http) server"), "{error}");
    }

    #[test]
    fn files_without_servers_or_command_are_explained() {
        let error = parse(r#"{"mcp": {}}"#, None).unwrap_err().to_string();
        assert!(error.contains("no \"mcpServers\""), "{error}");
        let error = parse(r#"{"mcpServers": {}}"#, None)
            .unwrap_err()
            .to_string();
        assert!(error.contains("server list is empty"), "{error}");
        let error = parse(r#"{"mcpServers": {"a": {"args": []}}}"#, None)
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "cannot use the server \"a\" from /project/.mcp.json: it has no \"command\""
        );
        let error = parse("{", None).unwrap_err().to_string();
        assert!(
            error.starts_with("cannot use /project/.mcp.json: "),
            "{error}"
        );
    }
}
