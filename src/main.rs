//! The mcpfuzz command line.

fn main() {}
