//! The live status line of long runs (fuzzing, soak, load).
//!
//! On a terminal the line is redrawn in place a few times a second; when standard error
//! is not a terminal (CI logs, `2>file`) it stays quiet, unless `MCPFUZZ_STATUS_SECS=N`
//! asks for a plain line every N seconds. Messages printed with [`say!`](crate::say)
//! first erase a drawn line, so they never end up glued to it.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How often a live line is redrawn.
const REDRAW: Duration = Duration::from_millis(250);

/// Whether a status line is on the terminal now, without its newline.
static DRAWN: AtomicBool = AtomicBool::new(false);

/// How status is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Redrawn in place on a terminal.
    Live,
    /// One plain line every so often.
    Every(Duration),
    /// Nothing until the end.
    Quiet,
}

impl Mode {
    /// `MCPFUZZ_STATUS_SECS=N` (0 for none) if set, else live on a terminal and quiet
    /// otherwise.
    pub fn from_environment() -> Mode {
        match std::env::var("MCPFUZZ_STATUS_SECS")
            .ok()
            .and_then(|text| text.trim().parse::<u64>().ok())
        {
            Some(0) => Mode::Quiet,
            Some(secs) => Mode::Every(Duration::from_secs(secs)),
            None if std::io::stderr().is_terminal() => Mode::Live,
            None => Mode::Quiet,
        }
    }
}

/// A status line that a loop offers an update to on every iteration; it is drawn only
/// when due, so building the line is the only cost of a call that is not.
#[derive(Debug)]
pub struct Progress {
    mode: Mode,
    last: Option<Instant>,
}

impl Progress {
    /// A status line shown as `mode` says.
    pub fn new(mode: Mode) -> Progress {
        Progress { mode, last: None }
    }

    /// Whether an update offered now would be shown.
    pub fn due(&self) -> bool {
        let every = match self.mode {
            Mode::Live => REDRAW,
            Mode::Every(every) => every,
            Mode::Quiet => return false,
        };
        self.last.is_none_or(|last| last.elapsed() >= every)
    }

    /// Shows `line()` if an update is due.
    pub fn tick(&mut self, line: impl FnOnce() -> String) {
        if !self.due() {
            return;
        }
        self.last = Some(Instant::now());
        let line = line();
        let mut stderr = std::io::stderr().lock();
        if self.mode == Mode::Live {
            let width = terminal_width().unwrap_or(120).saturating_sub(1).max(20);
            let shown: String = line.chars().take(width).collect();
            let _ = write!(stderr, "\r\x1b[2K{shown}");
            DRAWN.store(true, Ordering::Relaxed);
        } else {
            let _ = writeln!(stderr, "{line}");
        }
        let _ = stderr.flush();
    }

    /// Erases a live line, so that the final summary starts on a clean line.
    pub fn finish(&mut self) {
        clear();
    }
}

/// Erases the live status line if one is drawn.
pub fn clear() {
    if DRAWN.swap(false, Ordering::Relaxed) {
        let mut stderr = std::io::stderr().lock();
        let _ = write!(stderr, "\r\x1b[2K");
        let _ = stderr.flush();
    }
}

/// Prints a line on standard error below any live status line (which the next update
/// draws again).
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {{
        $crate::progress::clear();
        eprintln!($($arg)*);
    }};
}

fn terminal_width() -> Option<usize> {
    let mut size = nix::libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one winsize into the struct it is given.
    let status = unsafe { nix::libc::ioctl(2, nix::libc::TIOCGWINSZ, &mut size) };
    (status == 0 && size.ws_col > 0).then_some(size.ws_col as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_is_never_due_and_periodic_is_due_first() {
        assert!(!Progress::new(Mode::Quiet).due());
        let mut every = Progress::new(Mode::Every(Duration::from_secs(3600)));
        assert!(every.due());
        every.tick(String::new);
        assert!(!every.due(), "the next line waits for its interval");
    }
}
