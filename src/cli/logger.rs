//! A small stderr logger for the `log` facade, filtered by `RUST_LOG`
//! (`error`, `warn`, `info`, `debug`, `trace`, optionally as `mcpfuzz=debug`).

use log::{LevelFilter, Log, Metadata, Record};

struct Logger;

impl Log for Logger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.target().starts_with("mcpfuzz")
    }

    fn log(&self, record: &Record) {
        if self.enabled(record.metadata()) {
            eprintln!(
                "mcpfuzz: {}: {}",
                record.level().as_str().to_lowercase(),
                record.args()
            );
        }
    }

    fn flush(&self) {}
}

/// Installs the logger; warnings are shown unless `RUST_LOG` says otherwise.
pub fn init() {
    let level = std::env::var("RUST_LOG")
        .ok()
        .map(|text| text.rsplit('=').next().unwrap_or("").to_owned())
        .and_then(|text| text.parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::Warn);
    if log::set_logger(&Logger).is_ok() {
        log::set_max_level(level);
    }
}
