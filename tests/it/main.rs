//! Integration tests: they run the built `mcpfuzz` binary against real target processes.

mod cli;
mod demo;
mod dict;
mod leaks;
mod real;
mod report;
mod util;
