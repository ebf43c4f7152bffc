//! Strings worth trying in the target: names and values from its own schemas, and
//! strings it said in replies and error messages. The grammar picks string values from
//! this pool, the structure-aware mutator splices them, and `mcpfuzz dict` writes them as
//! a libFuzzer dictionary.
//!
//! Tokens come only from what the target says at run time: [`from_catalog`] reads what
//! discovery found (the session adds it when a child starts), and [`ReplyTokens`] reads
//! replies as they arrive. Nothing here knows a particular server. Strings that look like
//! the fuzzer's own probes (canary tokens, marker names, computed proofs) never enter
//! the pool, so that the injection oracle never sees them sent back as if the target had
//! produced them.
//!
//! The pool only grows, and keeps its order, so that a token's index stays put for the
//! life of the process; the catalog's tokens come first.

mod catalog;
mod replies;

pub use catalog::from_catalog;
pub use replies::ReplyTokens;

use std::collections::HashSet;
use std::sync::{Arc, RwLock};

/// The most tokens kept; later ones are dropped.
pub const MAX_TOKENS: usize = 4096;

/// The longest token kept, in bytes.
pub const MAX_TOKEN_BYTES: usize = 128;

#[derive(Default)]
struct Pool {
    tokens: Arc<Vec<String>>,
    known: HashSet<String>,
}

#[cfg(not(test))]
static POOL: std::sync::LazyLock<RwLock<Pool>> = std::sync::LazyLock::new(RwLock::default);

// Unit tests run in parallel threads and assert exact materializations: each test thread
// gets a pool of its own, so that one test's tokens never change another's frames.
#[cfg(test)]
thread_local! {
    static POOL: RwLock<Pool> = RwLock::default();
}

#[cfg(not(test))]
fn with_pool<T>(f: impl FnOnce(&RwLock<Pool>) -> T) -> T {
    f(&POOL)
}

#[cfg(test)]
fn with_pool<T>(f: impl FnOnce(&RwLock<Pool>) -> T) -> T {
    POOL.with(f)
}

/// The tokens so far (cheap: a shared pointer).
pub fn snapshot() -> Arc<Vec<String>> {
    with_pool(|pool| {
        pool.read()
            .unwrap_or_else(|poison| poison.into_inner())
            .tokens
            .clone()
    })
}

/// Adds tokens not already in the pool, up to [`MAX_TOKENS`]; empty ones, ones longer
/// than [`MAX_TOKEN_BYTES`] and ones that look like the fuzzer's own probes are skipped.
pub fn extend(tokens: impl IntoIterator<Item = String>) {
    with_pool(|pool| {
        let mut pool = pool.write().unwrap_or_else(|poison| poison.into_inner());
        let Pool {
            tokens: list,
            known,
        } = &mut *pool;
        for token in tokens {
            if known.len() >= MAX_TOKENS {
                break;
            }
            if token.is_empty() || token.len() > MAX_TOKEN_BYTES || is_ours(&token) {
                continue;
            }
            if known.insert(token.clone()) {
                // Copies the list only when a snapshot of it is still held.
                Arc::make_mut(list).push(token);
            }
        }
    })
}

/// Whether the pool holds [`MAX_TOKENS`] already (then harvesting can stop early).
pub fn is_full() -> bool {
    with_pool(|pool| {
        pool.read()
            .unwrap_or_else(|poison| poison.into_inner())
            .known
            .len()
            >= MAX_TOKENS
    })
}

/// Whether `text` looks like one of the fuzzer's own probes: a canary token
/// (`MCPFUZZ-CANARY-...`), a marker or sandbox name (`mcpfuzz-...`), a markup probe
/// (`mcpfuzz_x...`), or a computed proof (ten digits in a row).
pub fn is_ours(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mentions_us = bytes
        .windows(b"mcpfuzz".len())
        .any(|window| window.eq_ignore_ascii_case(b"mcpfuzz"));
    let mut digits = 0;
    let long_number = bytes.iter().any(|byte| {
        digits = if byte.is_ascii_digit() { digits + 1 } else { 0 };
        digits >= 10
    });
    mentions_us || long_number
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Catalog, Tool};
    use crate::grammar::args::{ArgsPlan, FieldPlan};
    use crate::grammar::methods::{CallTool, ToolName};
    use crate::grammar::values::StringPlan;
    use crate::grammar::{decode, encode, Materializer, Mostly, Script, Step};
    use crate::transcript::Item;
    use serde_json::json;

    /// The frames of the script that libFuzzer's bytes for `script` decode to.
    fn materialized(script: &Script, catalog: &Catalog) -> String {
        let script = decode(&encode(script));
        Materializer::new()
            .materialize(&script, catalog)
            .iter()
            .filter_map(Item::as_frame)
            .map(|frame| frame.lossy())
            .collect()
    }

    #[test]
    fn string_values_take_tokens_from_the_pool() {
        let catalog = Catalog {
            tools: vec![Tool {
                name: "lookup".into(),
                input_schema: json!({
                    "type": "object",
                    "properties": {"name": {"type": "string"}, "size": {"type": "integer"}}
                }),
            }],
            ..Catalog::default()
        };
        let script = Script {
            steps: vec![Step::CallTool(CallTool {
                tool: 0,
                name: Mostly::usual(ToolName::Unknown),
                args: ArgsPlan {
                    fields: vec![
                        FieldPlan::Str(StringPlan::Harvested(4)),
                        FieldPlan::Harvested(2),
                    ],
                    ..ArgsPlan::default()
                },
                envelope: Default::default(),
            })],
        };
        let usual = materialized(&script, &catalog);
        assert!(usual.contains(r#""name":""#), "{usual}");
        assert!(!usual.contains("said_by_target"), "{usual}");
        extend(["zero", "said_by_target", "42"].map(String::from));
        let text = materialized(&script, &catalog);
        assert!(
            text.contains(r#""arguments":{"name":"said_by_target","size":42}"#),
            "{text}"
        );
    }

    #[test]
    fn the_pool_keeps_order_and_skips_duplicates_and_probes() {
        extend(
            [
                "b",
                "a",
                "b",
                "",
                "MCPFUZZ-CANARY-00ff",
                "x-mcpfuzz-s1234abcd",
            ]
            .map(String::from),
        );
        extend(["1234567890".to_string(), "c".repeat(MAX_TOKEN_BYTES + 1)]);
        extend(["a".to_string(), "123456789".to_string()]);
        assert_eq!(*snapshot(), ["b", "a", "123456789"]);
    }

    #[test]
    fn the_pool_stops_at_its_limit_and_snapshots_stay_put() {
        let before = snapshot();
        extend((0..MAX_TOKENS + 5).map(|i| format!("t{i}")));
        assert!(before.is_empty());
        assert_eq!(snapshot().len(), MAX_TOKENS);
        assert!(is_full());
        assert_eq!(snapshot().last().unwrap(), &format!("t{}", MAX_TOKENS - 1));
    }

    #[test]
    fn probes_are_recognized() {
        for ours in [
            "MCPFUZZ-CANARY-1f2e",
            "mcpfuzz-p0123abcd",
            "/tmp/Mcpfuzz-run-7/x",
            "mcpfuzz_x01234567",
            "3162399999",
            "a1000000000b",
        ] {
            assert!(is_ours(ours), "{ours}");
        }
        for theirs in ["fast", "123456789", "2025-06-18", "mcp", "fuzz"] {
            assert!(!is_ours(theirs), "{theirs}");
        }
    }
}
