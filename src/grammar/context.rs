//! State shared by every step of one materialization: the catalog, the id counter, the
//! byte budget, the splice table for text that a `serde_json::Value` cannot hold, and a
//! small deterministic PRNG.

use std::collections::VecDeque;
use std::ops::Range;
use std::sync::Arc;

use serde_json::Value;

use crate::catalog::Catalog;
use crate::transcript::{Frame, Item};

/// Integer ids the session reserves for its own requests (barrier pings); the grammar
/// never generates one.
pub const RESERVED_IDS: Range<i64> = 1_000_000_000..2_000_000_000;

/// Schema-driven values one script may generate.
const MAX_NODES: usize = 20_000;

/// How many recently sent request ids are kept for duplicates and cancellations.
const RECENT_IDS: usize = 16;

/// Marks a string value that renders as verbatim JSON text, quotes included.
const VALUE_MARK: &[u8] = "\u{10FFFE}".as_bytes();
/// Marks a fragment inside a string that renders as verbatim bytes.
const INLINE_MARK: &[u8] = "\u{10FFFF}".as_bytes();

/// The request-id counter and the ids sent recently; it lives in the `Materializer` so
/// that ids stay distinct across the scripts sent to one child.
#[derive(Clone, Debug)]
pub(crate) struct IdState {
    next: i64,
    recent: VecDeque<Value>,
    payloads: u64,
}

impl IdState {
    pub(crate) fn new() -> IdState {
        IdState {
            next: 1,
            recent: VecDeque::with_capacity(RECENT_IDS),
            payloads: 0,
        }
    }

    /// The next counter value, skipping the reserved range.
    pub(crate) fn fresh(&mut self) -> i64 {
        let mut id = self.next;
        if RESERVED_IDS.contains(&id) {
            id = RESERVED_IDS.end;
        }
        self.next = id.saturating_add(1);
        id
    }

    /// A nonce for the next injection payload: distinct for every payload this state
    /// materializes, so each payload's proof is its own.
    pub(crate) fn payload_nonce(&mut self) -> u64 {
        self.payloads += 1;
        Rng::new(self.payloads ^ 0x6d63_7066_757a_7a00).next_u64()
    }

    /// Records an id that was sent in a request.
    pub(crate) fn remember(&mut self, id: &Value) {
        if self.recent.len() == RECENT_IDS {
            self.recent.pop_front();
        }
        self.recent.push_back(id.clone());
    }

    /// A recently sent id; `pick` 0 is the newest.
    pub(crate) fn recent(&self, pick: u8) -> Option<Value> {
        let len = self.recent.len();
        if len == 0 {
            return None;
        }
        self.recent.get(len - 1 - usize::from(pick) % len).cloned()
    }
}

/// Everything one call to `Materializer::materialize` writes into.
pub(crate) struct Out<'a> {
    /// What the target announced.
    pub(crate) catalog: &'a Catalog,
    /// The id counter, borrowed from the materializer.
    pub(crate) ids: &'a mut IdState,
    budget: usize,
    nodes: usize,
    splices: Vec<Vec<u8>>,
    /// The token pool as it was when this materialization began.
    pool: Arc<Vec<String>>,
}

impl<'a> Out<'a> {
    pub(crate) fn new(catalog: &'a Catalog, ids: &'a mut IdState, budget: usize) -> Out<'a> {
        Out {
            catalog,
            ids,
            budget,
            nodes: MAX_NODES,
            splices: Vec::new(),
            pool: super::tokens::snapshot(),
        }
    }

    /// Grants up to `wanted` bytes of the script's budget for a large value; callers build
    /// a smaller value when less is granted, so one script never grows without bound.
    pub(crate) fn take_budget(&mut self, wanted: usize) -> usize {
        let granted = wanted.min(self.budget);
        self.budget -= granted;
        granted
    }

    /// Counts one schema-driven value; false once the script has generated
    /// `MAX_NODES`, so that nested arrays cannot multiply into millions of values.
    pub(crate) fn take_node(&mut self) -> bool {
        self.nodes = self.nodes.saturating_sub(1);
        self.nodes > 0
    }

    /// A catalog token, `pick` modulo their number.
    pub(crate) fn token(&self, pick: u8) -> Option<&'a str> {
        let tokens = &self.catalog.tokens;
        (!tokens.is_empty()).then(|| tokens[usize::from(pick) % tokens.len()].as_str())
    }

    /// A token from the pool of what the target said at run time, `pick` modulo its size.
    pub(crate) fn harvested(&self, pick: u16) -> Option<&str> {
        let pool = &self.pool;
        (!pool.is_empty()).then(|| pool[usize::from(pick) % pool.len()].as_str())
    }

    /// A string value that renders as the verbatim JSON text `text` (quotes included), for
    /// numbers serde_json cannot hold, deep nesting, and deliberately odd text.
    pub(crate) fn splice_value(&mut self, text: Vec<u8>) -> Value {
        Value::String(self.marker(VALUE_MARK, text))
    }

    /// A fragment to put inside a string that renders as the verbatim bytes `text`, for
    /// lone surrogate escapes, duplicate keys and invalid UTF-8.
    pub(crate) fn splice_inline(&mut self, text: Vec<u8>) -> String {
        self.marker(INLINE_MARK, text)
    }

    fn marker(&mut self, mark: &[u8], text: Vec<u8>) -> String {
        let index = self.splices.len();
        self.splices.push(text);
        let mark = std::str::from_utf8(mark).expect("marks are UTF-8 constants");
        format!("{mark}{index}{mark}")
    }

    /// The compact JSON text of `value` with every splice substituted.
    pub(crate) fn render(&self, value: &Value) -> Vec<u8> {
        let bytes = serde_json::to_vec(value).expect("serializing a Value is infallible");
        if self.splices.is_empty() {
            bytes
        } else {
            substitute(&bytes, &self.splices)
        }
    }

    /// The rendered line of `value` with its newline; ends the frame's splices.
    pub(crate) fn line(&mut self, value: &Value) -> Vec<u8> {
        let mut bytes = self.render(value);
        bytes.push(b'\n');
        self.splices.clear();
        bytes
    }

    /// A frame item holding the line of `value`.
    pub(crate) fn frame(&mut self, value: &Value) -> Item {
        Item::Frame(Frame(self.line(value)))
    }
}

/// Replaces splice markers in serialized JSON by their texts.
fn substitute(bytes: &[u8], splices: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'"' && bytes[i + 1..].starts_with(VALUE_MARK) {
            if let Some((index, end)) = parse_marker(bytes, i + 1 + VALUE_MARK.len(), VALUE_MARK) {
                if bytes.get(end) == Some(&b'"') {
                    if let Some(text) = splices.get(index) {
                        out.extend_from_slice(text);
                        i = end + 1;
                        continue;
                    }
                }
            }
        } else if bytes[i..].starts_with(INLINE_MARK) {
            if let Some((index, end)) = parse_marker(bytes, i + INLINE_MARK.len(), INLINE_MARK) {
                if let Some(text) = splices.get(index) {
                    out.extend_from_slice(text);
                    i = end;
                    continue;
                }
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// Reads the decimal index after a mark and the closing mark; returns the index and the
/// position after the closing mark.
fn parse_marker(bytes: &[u8], start: usize, mark: &[u8]) -> Option<(usize, usize)> {
    let digits = bytes[start.min(bytes.len())..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if digits == 0 || digits > 6 || !bytes[start + digits..].starts_with(mark) {
        return None;
    }
    let index = std::str::from_utf8(&bytes[start..start + digits])
        .ok()?
        .parse()
        .ok()?;
    Some((index, start + digits + mark.len()))
}

/// splitmix64: tiny, fast and good enough to spread a few seed bits over value choices.
#[derive(Clone, Debug)]
pub(crate) struct Rng(u64);

impl Rng {
    /// A generator seeded from a few plan values, so that the same plan gives the same
    /// values and a mutation of one field's plan does not reshuffle the others.
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`, or 0 when `n` is 0.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fresh_ids_skip_the_reserved_range() {
        let mut ids = IdState::new();
        assert_eq!(ids.fresh(), 1);
        ids.next = RESERVED_IDS.start - 1;
        assert_eq!(ids.fresh(), RESERVED_IDS.start - 1);
        assert_eq!(ids.fresh(), RESERVED_IDS.end);
        assert_eq!(ids.fresh(), RESERVED_IDS.end + 1);
    }

    #[test]
    fn recent_ids_are_newest_first_and_bounded() {
        let mut ids = IdState::new();
        assert_eq!(ids.recent(0), None);
        for i in 0..20 {
            ids.remember(&json!(i));
        }
        assert_eq!(ids.recent(0), Some(json!(19)));
        assert_eq!(ids.recent(1), Some(json!(18)));
        assert_eq!(ids.recent(16), Some(json!(19)));
    }

    #[test]
    fn splices_render_verbatim() {
        let catalog = Catalog::default();
        let mut ids = IdState::new();
        let mut out = Out::new(&catalog, &mut ids, 100);
        let deep = out.splice_value(b"[[1]]".to_vec());
        let surrogate = format!("a{}b", out.splice_inline(b"\\ud800".to_vec()));
        let line = out.line(&json!({"x": deep, "y": surrogate, "z": "\u{10FFFE}9\u{10FFFE}"}));
        assert_eq!(
            String::from_utf8(line).unwrap(),
            "{\"x\":[[1]],\"y\":\"a\\ud800b\",\"z\":\"\u{10FFFE}9\u{10FFFE}\"}\n"
        );
        assert!(out.splices.is_empty());
    }

    #[test]
    fn budget_is_granted_until_spent() {
        let catalog = Catalog::default();
        let mut ids = IdState::new();
        let mut out = Out::new(&catalog, &mut ids, 10);
        assert_eq!(out.take_budget(4), 4);
        assert_eq!(out.take_budget(10), 6);
        assert_eq!(out.take_budget(1), 0);
    }
}
