//! Placeholder until the grammar lands (temporary stub for integration).
#![allow(missing_docs)]
use crate::{Catalog, Frame, Item};
#[derive(Debug, Clone)]
pub struct Script {
    pub steps: Vec<u8>,
}
pub fn decode(data: &[u8]) -> Script {
    Script {
        steps: data.iter().take(8).copied().collect(),
    }
}
#[derive(Default)]
pub struct Materializer {
    next: i64,
}
impl Materializer {
    pub fn new() -> Materializer {
        Materializer::default()
    }
    pub fn materialize(&mut self, script: &Script, catalog: &Catalog) -> Vec<Item> {
        script.steps.iter().map(|b| { self.next += 1; let tool = &catalog.tools[*b as usize % catalog.tools.len().max(1)];
            Item::Frame(Frame::json_line(&serde_json::json!({"jsonrpc":"2.0","id":self.next,"method":"tools/call","params":{"name":tool.name,"arguments":{}}}))) }).collect()
    }
}
