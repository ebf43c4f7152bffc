//! Fuzzes an MCP server over one persistent stdio connection; see `mcpfuzz::campaign`.
//!
//! Mutations are structure-aware (`mcpfuzz::grammar::mutate`): the input is decoded into
//! a script, one to three steps or values change (harvested tokens are spliced into
//! strings), and the script is encoded again; one time in five libFuzzer's own byte
//! mutation runs instead. While the target's own coverage guides the run, inputs that
//! reached new target code are kept in focus and half of the mutations start from them
//! (`mcpfuzz::grammar::mutate::Focus`). Set `MCPFUZZ_MUTATOR=off` to use only
//! libFuzzer's byte mutations and crossover, for comparing the two.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::{fuzz_crossover, fuzz_mutator, fuzz_target, fuzzer_mutate, Corpus};
use mcpfuzz::grammar::{mutate, tokens};

fuzz_target!(init: mcpfuzz::campaign::init(), |data: &[u8]| -> Corpus {
    if mcpfuzz::campaign::fuzz_one(data) {
        Corpus::Keep
    } else {
        Corpus::Reject
    }
});

fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
    if !structured() {
        return fuzzer_mutate(data, size, max_size);
    }
    mutate::mutate(
        &mut mutate::Focus::shared(),
        data,
        size,
        max_size,
        seed,
        &tokens::snapshot(),
        fuzzer_mutate,
    )
});

fuzz_crossover!(|first: &[u8], second: &[u8], out: &mut [u8], seed: u32| {
    // Zero tells libFuzzer to pick another mutation, which with the mutator off is its
    // own (and its own crossover).
    if !structured() {
        return 0;
    }
    mutate::crossover(first, second, out, seed)
});

/// Whether the structure-aware mutator is on (`MCPFUZZ_MUTATOR` is not `off`).
fn structured() -> bool {
    static STRUCTURED: OnceLock<bool> = OnceLock::new();
    *STRUCTURED
        .get_or_init(|| std::env::var_os("MCPFUZZ_MUTATOR").is_none_or(|value| value != "off"))
}
