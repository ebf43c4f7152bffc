//! mcpfuzz: a coverage-guided protocol fuzzer for MCP servers that speak JSON-RPC 2.0
//! over stdio.
//!
//! It keeps one persistent stdio connection to the target, feeds it message scripts that
//! libFuzzer evolves ([`grammar`]), and an oracle ([`oracle`]) flags crashes, hangs,
//! protocol violations and internal errors. Every finding is confirmed in a fresh process,
//! minimized at the message level ([`minimize`]) and saved as a self-contained reproducer
//! ([`repro`]) that `mcpfuzz replay` re-runs.
//!
//! Run with `RUST_LOG=mcpfuzz=debug` to see every frame, `>` for what is sent to the
//! target and `<` for what it printed.
#![deny(missing_docs)]

pub mod campaign;
pub mod catalog;
pub mod config;
pub mod coverage;
pub mod feedback;
pub mod finding;
pub mod grammar;
pub mod load;
pub mod minimize;
pub mod oracle;
pub mod progress;
pub mod report;
pub mod repro;
pub mod role;
pub mod runlog;
pub mod sandbox;
pub mod session;
pub mod soak;
pub mod supervise;
pub mod target;
pub mod transcript;
pub mod triage;
pub mod wire;

pub use catalog::Catalog;
pub use config::TargetSpec;
pub use finding::{Finding, Kind, Severity};
pub use transcript::{Frame, Item, ReplyPolicy};
