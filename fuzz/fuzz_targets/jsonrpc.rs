//! Fuzzes an MCP server over one persistent stdio connection; see `mcpfuzz::campaign`.
#![no_main]

use libfuzzer_sys::{fuzz_target, Corpus};

fuzz_target!(init: mcpfuzz::campaign::init(), |data: &[u8]| -> Corpus {
    if mcpfuzz::campaign::fuzz_one(data) {
        Corpus::Keep
    } else {
        Corpus::Reject
    }
});
