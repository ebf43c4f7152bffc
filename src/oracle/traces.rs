//! Stack traces and panics in text: whether there is one, what was thrown, and where.
//!
//! The error oracle reads error messages and tool results with it; the crash oracle reads
//! the stderr tail. Both need the same answer for the same bug in a fresh process, so
//! everything returned is stripped of values: an exception type and a `file:line` whose
//! directories are dropped.

/// A stack trace found in text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Trace {
    /// The exception type (`KeyError`, `TypeError`), or `panic` / `fatal-error` for
    /// runtimes without one.
    pub(crate) what: String,
    /// The innermost (Python) or first (Node, Java, Go, Rust) frame as `file:line`.
    pub(crate) place: Option<String>,
}

impl Trace {
    /// `what@place`, or `what` alone.
    pub(crate) fn signature(&self) -> String {
        match &self.place {
            Some(place) => format!("{}@{}", self.what, place),
            None => self.what.clone(),
        }
    }

    /// `what at place`, or `what` alone.
    pub(crate) fn describe(&self) -> String {
        match &self.place {
            Some(place) => format!("{} at {}", self.what, place),
            None => self.what.clone(),
        }
    }
}

/// The last stack trace in `text`, trying Python, Rust, Go, Java and Node in turn.
pub(crate) fn find(text: &str) -> Option<Trace> {
    python(text)
        .or_else(|| rust(text))
        .or_else(|| go(text))
        .or_else(|| java(text))
        .or_else(|| node(text))
}

/// Python: `Traceback (most recent call last):` then `  File "x.py", line N, in f`
/// frames (innermost last) then `Type: message`; or faulthandler's dump (innermost
/// first). Exception groups prefix lines with `| ` and `+ `, which are dropped so the
/// relative indentation survives.
fn python(text: &str) -> Option<Trace> {
    let lines: Vec<&str> = text.lines().map(strip_group_markers).collect();
    if let Some(start) = lines
        .iter()
        .position(|line| line.contains("(most recent call first)"))
    {
        let place = lines[start + 1..]
            .iter()
            .find_map(|line| python_frame(line));
        return Some(Trace {
            what: "fatal-error".to_owned(),
            place,
        });
    }
    let start = lines
        .iter()
        .rposition(|line| line.contains("Traceback (most recent call last)"));
    let body = &lines[start.map_or(0, |start| start + 1)..];
    let last_frame = body.iter().rposition(|line| python_frame(line).is_some());
    if start.is_none() && last_frame.is_none() {
        return None;
    }
    let frames: Vec<&str> = body[..last_frame.map_or(0, |index| index + 1)]
        .iter()
        .copied()
        .filter(|line| python_frame(line).is_some())
        .collect();
    let place = python_place(&frames);
    let what = body[last_frame.map_or(0, |index| index + 1)..]
        .iter()
        .find_map(|line| python_exception(line))
        .unwrap_or_else(|| "python-traceback".to_owned());
    Some(Trace { what, place })
}

fn strip_group_markers(line: &str) -> &str {
    let trimmed = line.trim_start();
    if let Some(rest) = trimmed
        .strip_prefix("| ")
        .or_else(|| trimmed.strip_prefix("+ "))
    {
        rest
    } else if trimmed == "|" {
        ""
    } else {
        line
    }
}

/// Where a Python traceback (its `File` lines, outermost first) happened: the innermost
/// frame of the server's own code (`file:line`); when every frame is in installed packages
/// or the standard library (an SDK's transport failing), the file of the innermost frame
/// outside the package that raised, the call into it. Two raise sites inside one library
/// (anyio's `send` and `send_nowait`), reached from two tasks of one SDK file, then give
/// one signature for one bug.
fn python_place(frames: &[&str]) -> Option<String> {
    let path_of = |line: &str| -> Option<String> {
        let rest = line.trim_start().strip_prefix("File \"")?;
        Some(rest.split_once("\", line ")?.0.to_owned())
    };
    let innermost = frames.last()?;
    if let Some(own) = frames
        .iter()
        .rev()
        .find(|line| path_of(line).is_some_and(|path| python_package(&path).is_none()))
    {
        return python_frame(own);
    }
    let raised_in = path_of(innermost).and_then(|path| python_package(&path));
    let call_in = frames
        .iter()
        .rev()
        .find(|line| path_of(line).and_then(|path| python_package(&path)) != raised_in)
        .unwrap_or(innermost);
    // The file alone: an SDK's concurrent tasks meet the same broken stream at whichever
    // of their lines runs first.
    path_of(call_in).map(|path| basename(&path).to_owned())
}

/// The installed package or standard-library module a Python file belongs to (the first
/// path component after `site-packages/`, `dist-packages/` or `lib/pythonX.Y/`); `None`
/// for the server's own code.
fn python_package(path: &str) -> Option<String> {
    let path = path.replace('\\', "/");
    for marker in ["/site-packages/", "/dist-packages/"] {
        if let Some((_, rest)) = path.rsplit_once(marker) {
            return Some(rest.split('/').next().unwrap_or(rest).to_owned());
        }
    }
    let (_, rest) = path.split_once("/lib/python")?;
    let (version, rest) = rest.split_once('/')?;
    (!version.is_empty() && version.chars().all(|c| c.is_ascii_digit() || c == '.'))
        .then(|| rest.split('/').next().unwrap_or(rest).to_owned())
}

/// `  File "/app/server.py", line 42, in divide` -> `server.py:42`.
fn python_frame(line: &str) -> Option<String> {
    let rest = line.trim_start().strip_prefix("File \"")?;
    let (path, rest) = rest.split_once("\", line ")?;
    let digits = leading_digits(rest)?;
    Some(format!("{}:{}", basename(path), digits))
}

/// `json.decoder.JSONDecodeError: Expecting value` -> `JSONDecodeError`; the exception
/// line is the first unindented line after the innermost frame.
fn python_exception(line: &str) -> Option<String> {
    if line.is_empty() || line.starts_with(char::is_whitespace) {
        return None;
    }
    let head = line.split(':').next()?.trim_end();
    dotted_identifier_tail(head)
}

/// Rust: `thread 'main' panicked at src/main.rs:10:5:` (or the pre-1.73
/// `panicked at 'message', src/main.rs:10:5`); the location ends the line either way.
fn rust(text: &str) -> Option<Trace> {
    let line = text
        .lines()
        .rev()
        .find(|line| line.contains("panicked at "))?;
    let place = line
        .split_whitespace()
        .next_back()
        .and_then(|location| file_line(location.trim_end_matches(':')));
    Some(Trace {
        what: "panic".to_owned(),
        place,
    })
}

/// Go: `panic: ...` or `fatal error: ...`, then `goroutine N [running]:` and frames as
/// `\t/path/file.go:N +0x1d` lines; runtime frames are skipped.
fn go(text: &str) -> Option<Trace> {
    let start = text.lines().position(|line| {
        line.strip_prefix("goroutine ")
            .and_then(leading_digits)
            .is_some()
            && line.contains(" [")
    })?;
    let what = if text.contains("panic: ") {
        "panic"
    } else {
        "fatal-error"
    };
    let place = text.lines().skip(start + 1).find_map(|line| {
        let location = line.strip_prefix('\t')?.split_whitespace().next()?;
        if !location.contains(".go:") || location.contains("/runtime/") {
            return None;
        }
        file_line(location)
    });
    Some(Trace {
        what: what.to_owned(),
        place,
    })
}

/// Java (and Kotlin, Scala): `Exception in thread "main" java.lang.IllegalStateException:
/// ...` then `\tat pkg.Class.method(File.java:42)`; the root cause (`Caused by:`) wins.
fn java(text: &str) -> Option<Trace> {
    let lines: Vec<&str> = text.lines().collect();
    let first_frame = lines.iter().position(|line| java_frame(line).is_some())?;
    let header = lines
        .iter()
        .rposition(|line| line.trim_start().starts_with("Caused by: "))
        .or_else(|| {
            lines[..first_frame]
                .iter()
                .rposition(|line| java_exception(line).is_some())
        });
    let what = header
        .and_then(|index| java_exception(lines[index]))
        .unwrap_or_else(|| "exception".to_owned());
    let place = lines[header.map_or(first_frame, |index| index + 1)..]
        .iter()
        .find_map(|line| java_frame(line));
    Some(Trace { what, place })
}

/// `\tat com.x.Server.handle(Server.java:42)` -> `Server.java:42`.
fn java_frame(line: &str) -> Option<String> {
    let rest = line.trim_start().strip_prefix("at ")?;
    let inner = rest.strip_suffix(')')?;
    let (_, location) = inner.rsplit_once('(')?;
    let (file, digits) = location.split_once(':')?;
    let is_jvm_source = [".java", ".kt", ".scala", ".groovy"]
        .iter()
        .any(|extension| file.ends_with(extension));
    if !is_jvm_source || digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(format!("{file}:{digits}"))
}

fn java_exception(line: &str) -> Option<String> {
    let mut rest = line.trim_start();
    rest = rest.strip_prefix("Caused by: ").unwrap_or(rest);
    if let Some(after) = rest.strip_prefix("Exception in thread \"") {
        rest = after.split_once("\" ")?.1;
    }
    let head = rest.split([':', ' ']).next()?;
    let name = dotted_identifier_tail(head)?;
    (name.ends_with("Exception") || name.ends_with("Error")).then_some(name)
}

/// Node: `TypeError: message` then `    at fn (/app/server.js:42:11)` frames; the first
/// frame in user code (not `node:` internals or `<anonymous>`) is the place.
fn node(text: &str) -> Option<Trace> {
    let lines: Vec<&str> = text.lines().collect();
    let first_frame = lines
        .iter()
        .position(|line| matches!(node_frame(line), Some(Some(_))))?;
    let header = lines[..first_frame]
        .iter()
        .rposition(|line| node_error_type(line).is_some());
    let what = header
        .and_then(|index| node_error_type(lines[index]))
        .unwrap_or_else(|| "Error".to_owned());
    let frames = lines[header.map_or(first_frame, |index| index + 1)..]
        .iter()
        .take_while(|line| node_frame(line).is_some())
        .filter_map(|line| node_frame(line).flatten());
    let mut first = None;
    let mut place = None;
    for (location, internal) in frames {
        if !internal {
            place = Some(location);
            break;
        }
        first.get_or_insert(location);
    }
    Some(Trace {
        what,
        place: place.or(first),
    })
}

/// `Some(Some((file:line, internal)))` for a frame with a location, `Some(None)` for a
/// frame without one (`at JSON.parse (<anonymous>)`), `None` for other lines.
fn node_frame(line: &str) -> Option<Option<(String, bool)>> {
    let rest = line.trim_start().strip_prefix("at ")?;
    let location = match rest.strip_suffix(')') {
        Some(inner) => inner.rsplit_once('(')?.1,
        None => rest,
    };
    let location = location.strip_prefix("file://").unwrap_or(location);
    let mut parts = location.rsplitn(3, ':');
    let (Some(column), Some(line_number), Some(path)) = (parts.next(), parts.next(), parts.next())
    else {
        return Some(None);
    };
    if leading_digits(column).is_none() || leading_digits(line_number).is_none() {
        return Some(None);
    }
    let internal = path.starts_with("node:") || path.contains("/node_modules/");
    Some(Some((
        format!("{}:{}", basename(path), line_number),
        internal,
    )))
}

/// `TypeError: message`, `Uncaught TypeError: message`, `RangeError [ERR_X]: message`,
/// `Error: message` -> the type.
fn node_error_type(line: &str) -> Option<String> {
    let line = line.trim_start();
    let line = line.strip_prefix("Uncaught ").unwrap_or(line);
    let head = line.split([':', ' ']).next()?;
    let name = dotted_identifier_tail(head)?;
    (name.ends_with("Error") || name.ends_with("Exception")).then_some(name)
}

/// The last component of a dotted identifier (`a.b.KeyError` -> `KeyError`).
fn dotted_identifier_tail(text: &str) -> Option<String> {
    let valid = !text.is_empty()
        && !text.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && text
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '.' || c == '$');
    let name = text.rsplit('.').next()?;
    (valid && !name.is_empty()).then(|| name.to_owned())
}

/// `path:line[:column]` -> `basename:line`.
fn file_line(location: &str) -> Option<String> {
    let parts: Vec<&str> = location.rsplitn(3, ':').collect();
    let is_number = |text: &str| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    match parts.as_slice() {
        [column, line, path] if is_number(column) && is_number(line) => {
            Some(format!("{}:{}", basename(path), line))
        }
        [line, rest @ ..] if is_number(line) && !rest.is_empty() => {
            let path = rest.iter().rev().copied().collect::<Vec<_>>().join(":");
            Some(format!("{}:{}", basename(&path), line))
        }
        _ => None,
    }
}

fn leading_digits(text: &str) -> Option<&str> {
    let end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    (end > 0).then(|| &text[..end])
}

/// The last component of a `/` or `\` separated path.
pub(crate) fn basename(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Option<String> {
        find(text).map(|trace| trace.signature())
    }

    #[test]
    fn python_traceback_gives_type_and_innermost_frame() {
        let text = "Traceback (most recent call last):\n  File \"/srv/app/main.py\", line 9, in <module>\n    run()\n  File \"/srv/app/server.py\", line 42, in divide\n    return a / b\n           ~~^~~\nZeroDivisionError: division by zero\n";
        assert_eq!(
            found(text).as_deref(),
            Some("ZeroDivisionError@server.py:42")
        );
        let chained = "Traceback (most recent call last):\n  File \"a.py\", line 1, in f\nKeyError: 'x'\n\nDuring handling of the above exception, another exception occurred:\n\nTraceback (most recent call last):\n  File \"b.py\", line 7, in g\n    raise json.decoder.JSONDecodeError()\njson.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)\n";
        assert_eq!(found(chained).as_deref(), Some("JSONDecodeError@b.py:7"));
    }

    #[test]
    fn python_place_is_the_servers_own_code_or_the_call_into_the_raising_library() {
        let trace = |frames: &[&str]| {
            let mut text = String::from("Traceback (most recent call last):\n");
            for (file, line) in frames.iter().zip(1..) {
                text.push_str(&format!("  File \"{file}\", line {line}, in f\n    x()\n"));
            }
            text.push_str("anyio.BrokenResourceError\n");
            found(&text).unwrap()
        };
        let site = "/v/lib/python3.11/site-packages";
        // The server's own innermost frame, even below library frames.
        assert_eq!(
            trace(&[
                &format!("{site}/mcp/server/lowlevel.py"),
                "/app/server.py",
                &format!("{site}/anyio/streams/memory.py"),
            ]),
            "BrokenResourceError@server.py:2"
        );
        // All library code: the innermost call into the package that raised, wherever
        // inside it the exception came from.
        let sdk = format!("{site}/mcp/shared/session.py");
        let anyio = format!("{site}/anyio/streams/memory.py");
        assert_eq!(
            trace(&[&sdk, &sdk, &anyio]),
            "BrokenResourceError@session.py"
        );
        assert_eq!(
            trace(&[&sdk, &sdk, &anyio, &anyio]),
            "BrokenResourceError@session.py"
        );
        // Standard library modules count as libraries too.
        assert_eq!(
            trace(&[
                "/usr/lib/python3.11/asyncio/runners.py",
                "/usr/lib/python3.11/json/decoder.py"
            ]),
            "BrokenResourceError@runners.py"
        );
        assert_eq!(python_package("/srv/app/lib/python/x.py"), None);
    }

    #[test]
    fn python_exception_groups_are_unwrapped() {
        let text = "  + Exception Group Traceback (most recent call last):\n  |   File \"/x/anyio/_backends/_asyncio.py\", line 772, in __aexit__\n  |     raise BaseExceptionGroup(\n  | ExceptionGroup: unhandled errors in a TaskGroup (1 sub-exception)\n  +-+---------------- 1 ----------------\n    | Traceback (most recent call last):\n    |   File \"/app/server.py\", line 12, in handle\n    |     d[key]\n    | KeyError: 'name'\n    +------------------------------------\n";
        assert_eq!(found(text).as_deref(), Some("KeyError@server.py:12"));
    }

    #[test]
    fn python_faulthandler_dump_takes_the_first_frame() {
        let text = "Fatal Python error: Segmentation fault\n\nCurrent thread 0x00007f3a (most recent call first):\n  File \"/app/native.py\", line 5 in crash\n  File \"/app/server.py\", line 30 in handle\n";
        assert_eq!(found(text).as_deref(), Some("fatal-error@native.py:5"));
    }

    #[test]
    fn node_stack_gives_type_and_first_user_frame() {
        let text = "/app/build/index.js:42\n    throw new TypeError(\"x\");\n    ^\n\nTypeError: Cannot read properties of undefined (reading 'name')\n    at JSON.parse (<anonymous>)\n    at handle (file:///app/build/index.js:42:11)\n    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)\n\nNode.js v20.10.0\n";
        assert_eq!(found(text).as_deref(), Some("TypeError@index.js:42"));
        let internal_only = "RangeError [ERR_OUT_OF_RANGE]: bad\n    at new NodeError (node:internal/errors:405:5)\n";
        assert_eq!(
            found(internal_only).as_deref(),
            Some("RangeError@errors:405")
        );
    }

    #[test]
    fn rust_go_and_java_traces() {
        assert_eq!(
            found("thread 'main' panicked at src/handlers/tools.rs:88:14:\nindex out of bounds\n")
                .as_deref(),
            Some("panic@tools.rs:88")
        );
        assert_eq!(
            found("thread 'main' panicked at 'boom', src/main.rs:10:5\n").as_deref(),
            Some("panic@main.rs:10")
        );
        let go = "panic: runtime error: integer divide by zero\n\ngoroutine 1 [running]:\nmain.divide(...)\n\t/usr/local/go/src/runtime/panic.go:261 +0x1d\n\t/home/u/srv/main.go:42 +0x1d\nexit status 2\n";
        assert_eq!(found(go).as_deref(), Some("panic@main.go:42"));
        let java = "Exception in thread \"main\" java.lang.RuntimeException: wrapped\n\tat com.x.Server.run(Server.java:10)\nCaused by: java.lang.NullPointerException: Cannot invoke\n\tat com.x.Tools.call(Tools.java:77)\n\t... 3 more\n";
        assert_eq!(
            found(java).as_deref(),
            Some("NullPointerException@Tools.java:77")
        );
    }

    #[test]
    fn plain_messages_are_not_traces() {
        for text in [
            "Error executing tool divide: division by zero",
            "KeyError: 'x'",
            "at least one argument is required",
            "see File \"notes\" for details",
        ] {
            assert_eq!(found(text), None, "{text}");
        }
    }
}
