#!/usr/bin/env python3
"""mcpfuzz-demo: a small MCP server over stdio with planted bugs, and its well-behaved twin.

    python3 testbed/demo_server.py                  # planted bugs (the default fuzz target)
    python3 testbed/demo_server.py --well-behaved   # same tools and schemas, no bugs
        --root DIR                                  # the directory the file tools work in
                                                    # (default: the working directory)

Transport: MCP stdio (spec 2025-06-18), one compact JSON-RPC 2.0 message per line on
stdin/stdout; stdout carries protocol messages only, logs go to stderr.

Every planted bug is marked `# PLANTED BUG (<kind>): ...` and guarded by
`if not WELL_BEHAVED:`; testbed/README.md lists them. Standard library only.

The file, shell and database tools work in ROOT, the working directory at startup (or
--root DIR); testbed/sandbox_layout.py builds the tree the fuzzer runs them in.
"""

import ast
import base64
import operator
import os
import re
import select
import signal
import sqlite3
import subprocess
import sys
import time

# jsonline.py sits next to this file; make sure it is found even when the script's
# directory is not on sys.path (python3 -P or -I, PYTHONSAFEPATH, an import from elsewhere).
_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

import jsonline  # noqa: E402  (testbed/jsonline.py)
from jsonline import dumps, parse_json  # noqa: E402

SERVER_NAME = "mcpfuzz-demo"
SERVER_VERSION = "1.0.0"
LATEST_PROTOCOL = "2025-06-18"
KNOWN_PROTOCOLS = ("2024-11-05", "2025-03-26", "2025-06-18")
LOG_LEVELS = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")
PAGE_SIZE = 3

WELL_BEHAVED = False
SAMPLING_TIMEOUT = 0.3  # seconds to wait for the client's sampling/createMessage reply
SAMPLING_MAX_OTHER_LINES = 100  # give up waiting after this many unrelated lines
SAMPLING_MAX_DEPTH = 4  # nested summarize calls while a sampling reply is awaited
ROOT = ""  # real path of the directory the file tools work in; set by main()
DATABASE = None  # the in-memory user database; opened by main()


def log(text):
    sys.stderr.write("%s: %s\n" % (SERVER_NAME, text))
    sys.stderr.flush()


# --------------------------------------------------------------------------------------
# JSON in and out
# --------------------------------------------------------------------------------------


# parse_json, dumps and the reply lines live in jsonline.py, shared with leaky_server.py;
# only the id rendering (and its planted bug) is this server's own.

_NUMERIC_STRING = re.compile(r"-?[0-9]{1,100}")


def id_json(request_id):
    """The JSON text of a reply's id: the request's id exactly as it was received."""
    if isinstance(request_id, str):
        if not WELL_BEHAVED and _NUMERIC_STRING.fullmatch(request_id):
            # PLANTED BUG (protocol, id mangled): ids are "normalized" for every method,
            # so a numeric string id such as "7" is answered with the integer 7.
            return str(int(request_id))
    return jsonline.id_json(request_id)


def result_line(request_id, result):
    return jsonline.result_line(request_id, result, render_id=id_json)


def error_line(request_id, code, message, data=None):
    return jsonline.error_line(request_id, code, message, data, render_id=id_json)


def write_line(text):
    try:
        sys.stdout.buffer.write(text.encode("ascii") + b"\n")
        sys.stdout.buffer.flush()
    except (BrokenPipeError, ValueError, OSError):
        log("stdout closed; exiting")
        os._exit(0)


def notify(method, params):
    write_line(dumps({"jsonrpc": "2.0", "method": method, "params": params}))


class LineReader:
    """Newline-delimited frames from a file descriptor, with optional timeouts."""

    TIMEOUT = object()

    def __init__(self, fd):
        self.fd = fd
        self.buf = bytearray()
        self.scanned = 0
        self.eof = False

    def readline(self, timeout=None):
        """The next line without its newline; None at end of input; TIMEOUT."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            index = self.buf.find(b"\n", self.scanned)
            if index >= 0:
                line = bytes(self.buf[:index])
                del self.buf[: index + 1]
                self.scanned = 0
                return line
            self.scanned = len(self.buf)
            if self.eof:
                if self.buf:  # a last line without its newline
                    line = bytes(self.buf)
                    self.buf.clear()
                    self.scanned = 0
                    return line
                return None
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return LineReader.TIMEOUT
                ready, _, _ = select.select([self.fd], [], [], remaining)
                if not ready:
                    return LineReader.TIMEOUT
            try:
                chunk = os.read(self.fd, 1 << 16)
            except InterruptedError:
                continue
            if chunk:
                self.buf += chunk
            else:
                self.eof = True


READER = LineReader(0)


# --------------------------------------------------------------------------------------
# Errors, tool results, argument validation
# --------------------------------------------------------------------------------------


class RpcError(Exception):
    def __init__(self, code, message, data=None):
        Exception.__init__(self, message)
        self.code = code
        self.message = message
        self.data = data


NO_REPLY = object()  # a handler's way of dropping a request


def invalid_params(message):
    return RpcError(-32602, "Invalid params: " + message)


def shorten(text, limit=80):
    return text if len(text) <= limit else text[:limit] + "..."


def tool_ok(text, structured=None):
    result = {"content": [{"type": "text", "text": text}], "isError": False}
    if structured is not None:
        result["structuredContent"] = structured
    return result


def tool_error(text):
    return {"content": [{"type": "text", "text": text}], "isError": True}


def is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _finite(value):
    return value == value and value not in (float("inf"), float("-inf"))


def _same(a, b):
    """JSON equality: 1 == 1.0, but true != 1 and "1" != 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    return a == b


def check(value, schema, where="arguments"):
    """Returns None when `value` satisfies `schema`, else a message. Supports the keywords
    the tools here use: type, properties, required, additionalProperties: false, enum,
    minimum, maximum, minLength, maxLength."""
    kind = schema.get("type")
    if kind == "object":
        if not isinstance(value, dict):
            return "%s must be an object" % where
        properties = schema.get("properties", {})
        for name in schema.get("required", ()):
            if name not in value:
                return "missing required argument '%s'" % name
        if schema.get("additionalProperties") is False:
            for name in value:
                if name not in properties:
                    return "unexpected argument '%s'" % shorten(name)
        for name, sub in properties.items():
            if name in value:
                problem = check(value[name], sub, "'%s'" % name)
                if problem:
                    return problem
        return None
    if kind == "string" and not isinstance(value, str):
        return "%s must be a string" % where
    if kind == "boolean" and not isinstance(value, bool):
        return "%s must be a boolean" % where
    if kind in ("integer", "number"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return "%s must be %s" % (where, "an integer" if kind == "integer" else "a number")
        if isinstance(value, float) and not _finite(value):
            return "%s is out of range" % where
        if kind == "integer" and isinstance(value, float) and not value.is_integer():
            return "%s must be an integer" % where
        if "minimum" in schema and value < schema["minimum"]:
            return "%s must be at least %s" % (where, schema["minimum"])
        if "maximum" in schema and value > schema["maximum"]:
            return "%s must be at most %s" % (where, schema["maximum"])
    if kind == "string":
        if "minLength" in schema and len(value) < schema["minLength"]:
            return "%s must have at least %d characters" % (where, schema["minLength"])
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            return "%s must have at most %d characters" % (where, schema["maxLength"])
    if "enum" in schema and not any(_same(value, choice) for choice in schema["enum"]):
        return "%s must be one of %s" % (where, ", ".join(dumps(c) for c in schema["enum"]))
    return None


def validated(args, schema):
    """Raises a _ToolInputError (turned into an isError result) on invalid arguments."""
    problem = check(args, schema)
    if problem:
        raise _ToolInputError("Invalid arguments: " + problem)


class _ToolInputError(Exception):
    pass


# --------------------------------------------------------------------------------------
# Session state
# --------------------------------------------------------------------------------------

STATE = {
    "initialized": False,
    "client_sampling": False,
    "client_roots": False,
    "log_level": None,  # set by logging/setLevel; no log notifications before that
    "poisoned": None,  # set by the store bug
}
NOTES = {}
SUBSCRIPTIONS = set()
OUTSTANDING = set()  # ids of our own requests to the client still awaiting a reply
RESPONSES = {}  # replies to OUTSTANDING ids, by id
SAMPLING = {"counter": 0, "depth": 0, "deadline": None}


# --------------------------------------------------------------------------------------
# Tools
# --------------------------------------------------------------------------------------

ECHO_SCHEMA = {
    "type": "object",
    "properties": {
        "message": {"type": "string", "description": "Text to send back.", "maxLength": 10000},
        "uppercase": {
            "type": "boolean",
            "description": "Return the text in upper case.",
            "default": False,
        },
    },
    "required": ["message"],
    "additionalProperties": False,
}


def tool_echo(args):
    validated(args, ECHO_SCHEMA)
    message = args["message"]
    return tool_ok(message.upper() if args.get("uppercase", False) else message)


DIVIDE_SCHEMA = {
    "type": "object",
    "properties": {
        "a": {"type": "number", "description": "Dividend."},
        "b": {"type": "number", "description": "Divisor."},
    },
    "required": ["a", "b"],
    "additionalProperties": False,
}
DIVIDE_OUTPUT = {
    "type": "object",
    "properties": {"quotient": {"type": "number", "description": "a / b"}},
    "required": ["quotient"],
}


def tool_divide(args):
    validated(args, DIVIDE_SCHEMA)
    a, b = args["a"], args["b"]
    if b == 0:
        if not WELL_BEHAVED:
            # PLANTED BUG (crash, exit): nothing catches the ZeroDivisionError; Python
            # prints the traceback on stderr and the process exits with status 1.
            return tool_ok(str(a / b))
        return tool_error("Cannot divide by zero: 'b' must not be 0")
    try:
        quotient = a / b
    except OverflowError:
        quotient = float("inf")
    if not _finite(quotient):
        return tool_error("The quotient is too large to represent")
    structured = {"quotient": quotient}
    return tool_ok(dumps(structured), structured)


RENDER_SCHEMA = {
    "type": "object",
    "properties": {
        "text": {"type": "string", "description": "Text to lay out.", "maxLength": 4096},
        "width": {
            "type": "integer",
            "description": "Column width in characters.",
            "minimum": 1,
            "maximum": 200,
        },
        "align": {
            "type": "string",
            "description": "Alignment of each line.",
            "enum": ["left", "center", "right"],
            "default": "left",
        },
    },
    "required": ["text", "width"],
    "additionalProperties": False,
}


def tool_render(args):
    if not WELL_BEHAVED:
        text = args.get("text")
        if isinstance(text, str) and len(text) > 10000:
            # PLANTED BUG (crash, signal): the "native" layout buffer holds 10000
            # characters and the declared maxLength is not enforced before it is filled.
            sys.stderr.write("render: layout buffer overflow (%d characters)\n" % len(text))
            sys.stderr.flush()
            try:
                import resource

                resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core file
            except (ImportError, ValueError, OSError):
                pass
            os.kill(os.getpid(), signal.SIGSEGV)
        try:
            args["text"], args["width"]
        except KeyError as exc:
            # PLANTED BUG (error): arguments are read before they are validated; the
            # KeyError of a missing required argument is caught by a catch-all that
            # answers a JSON-RPC internal error carrying the Python traceback.
            import traceback

            raise RpcError(
                -32603,
                "Internal error: %r" % exc,
                {"traceback": traceback.format_exc()},
            )
    validated(args, RENDER_SCHEMA)
    text, width = args["text"], int(args["width"])
    pad = {"left": str.ljust, "center": str.center, "right": str.rjust}[
        args.get("align", "left")
    ]
    lines = []
    for paragraph in text.split("\n"):
        if not paragraph:
            lines.append("")
        for start in range(0, len(paragraph), width):
            lines.append(pad(paragraph[start : start + width], width))
    return tool_ok("\n".join(lines))


STORE_SCHEMA = {
    "type": "object",
    "properties": {
        "key": {
            "type": "string",
            "description": "Note name; the note is readable afterwards as demo://notes/{key}.",
            "minLength": 1,
            "maxLength": 64,
        },
        "value": {"type": "string", "description": "Note text.", "maxLength": 1024},
        "overwrite": {
            "type": "boolean",
            "description": "Replace an existing note of the same name.",
            "default": True,
        },
    },
    "required": ["key", "value"],
    "additionalProperties": False,
}


def tool_store(args):
    validated(args, STORE_SCHEMA)
    key, value = args["key"], args["value"]
    if not WELL_BEHAVED and "\x00" in key:
        # PLANTED BUG (crash, late death): the key is accepted and answered normally, but
        # the NUL corrupts the note index; the reader dies on the next line it reads
        # (or at end of input) with exit status 1, without replying to that line.
        STATE["poisoned"] = key
    elif any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in key):
        return tool_error("Invalid arguments: 'key' must not contain control characters")
    if key in NOTES and not args.get("overwrite", True):
        return tool_error("A note named %s already exists" % dumps(shorten(key)))
    NOTES[key] = value
    uri = "demo://notes/" + key
    if uri in SUBSCRIPTIONS:
        notify("notifications/resources/updated", {"uri": uri})
    return tool_ok("Stored %d characters under %s" % (len(value), dumps(key)))


COUNT_SCHEMA = {
    "type": "object",
    "properties": {
        "n": {
            "type": "integer",
            "description": "Count from 0 up to n.",
            "minimum": 0,
            "maximum": 1000,
        },
        "step": {
            "type": "integer",
            "description": "Increment.",
            "minimum": 1,
            "maximum": 100,
            "default": 1,
        },
    },
    "required": ["n"],
    "additionalProperties": False,
}


def tool_count(args, meta=None):
    n = args.get("n")
    if not WELL_BEHAVED and is_int(n) and n < 0:
        # PLANTED BUG (hang, busy): the minimum is not enforced and the loop counts up
        # from 0 looking for a negative n, burning CPU forever.
        i = 0
        while i != n:
            i += 1
    validated(args, COUNT_SCHEMA)
    n, step = int(args["n"]), int(args.get("step", 1))
    numbers = len(range(0, n + 1, step))
    token = meta.get("progressToken") if isinstance(meta, dict) else None
    if isinstance(token, str) or is_int(token):
        notify(
            "notifications/progress",
            {"progressToken": token, "progress": numbers, "total": numbers},
        )
    return tool_ok(
        "Counted from 0 to %d in steps of %d: %d numbers" % (n, step, numbers),
    )


CONVERT_SCHEMA = {
    "type": "object",
    "properties": {
        "value": {"type": "string", "description": "Text to convert.", "maxLength": 1000},
        "format": {
            "type": "string",
            "description": "Output format.",
            "enum": ["json", "text", "hex"],
        },
    },
    "required": ["value", "format"],
    "additionalProperties": False,
}


def tool_convert(args):
    fmt = args.get("format")
    if not WELL_BEHAVED and isinstance(fmt, str) and fmt not in ("json", "text", "hex"):
        # PLANTED BUG (hang, idle): the format dispatch has no default branch, so a
        # format outside the enum falls through and the request is never answered. The
        # server goes on serving other requests.
        return NO_REPLY
    validated(args, CONVERT_SCHEMA)
    value = args["value"]
    if fmt == "json":
        return tool_ok(dumps(value))
    if fmt == "hex":
        return tool_ok(value.encode("utf-8", "surrogatepass").hex())
    return tool_ok(value)


SEARCH_SCHEMA = {
    "type": "object",
    "properties": {
        "query": {
            "type": "string",
            "description": "Words to look for; a document matches when its title contains "
            "every word. An empty query matches every document.",
            "maxLength": 200,
        },
        "limit": {
            "type": "integer",
            "description": "Most results to return.",
            "minimum": 1,
            "maximum": 50,
            "default": 10,
        },
        "case_sensitive": {
            "type": "boolean",
            "description": "Match letter case exactly.",
            "default": False,
        },
    },
    "required": ["query"],
    "additionalProperties": False,
}
_TOPICS = ("Protocol", "Fuzzing", "JSON", "Stdio", "Server", "Client", "Schema", "Tools",
           "Resources", "Prompts")
_KINDS = ("guide", "notes", "FAQ", "reference", "tutorial", "changelog")
DOCUMENTS = ["%s %s" % (topic, kind) for topic in _TOPICS for kind in _KINDS]


def tool_search(args):
    validated(args, SEARCH_SCHEMA)
    query, limit = args["query"], int(args.get("limit", 10))
    if not WELL_BEHAVED and query == "":
        # PLANTED BUG (protocol, stray stdout): a leftover debug print writes a non-JSON
        # line to stdout before the reply.
        print("debug: empty query", flush=True)
    case_sensitive = args.get("case_sensitive", False)
    words = query.split() if case_sensitive else query.lower().split()
    hits = []
    for title in DOCUMENTS:
        haystack = title if case_sensitive else title.lower()
        if all(word in haystack for word in words):
            hits.append(title)
    shown = hits[:limit]
    if shown:
        text = "\n".join("%d. %s" % (i + 1, title) for i, title in enumerate(shown))
    else:
        text = "No documents match."
    result = tool_ok(text)
    if not WELL_BEHAVED and limit == 50:
        # PLANTED BUG (protocol, bad result shape): the "large page" formatter forgets the
        # content item's required `type` field.
        del result["content"][0]["type"]
    return result


SUMMARIZE_SCHEMA = {
    "type": "object",
    "properties": {
        "text": {
            "type": "string",
            "description": "Text to summarize (the client's model is asked via sampling).",
            "minLength": 1,
            "maxLength": 5000,
        }
    },
    "required": ["text"],
    "additionalProperties": False,
}


def tool_summarize(args):
    validated(args, SUMMARIZE_SCHEMA)
    if not STATE["client_sampling"]:
        return tool_error("sampling unavailable: the client did not declare the sampling capability")
    if SAMPLING["depth"] >= SAMPLING_MAX_DEPTH:
        return tool_error("sampling busy: too many summaries in progress")
    SAMPLING["counter"] += 1
    request_id = "s-%d" % SAMPLING["counter"]
    OUTSTANDING.add(request_id)
    sampling_request = {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "sampling/createMessage",
        "params": {
            "messages": [
                {
                    "role": "user",
                    "content": {
                        "type": "text",
                        "text": "Summarize in one sentence:\n" + args["text"],
                    },
                }
            ],
            "maxTokens": 100,
        },
    }
    write_line(dumps(sampling_request))
    SAMPLING["depth"] += 1
    try:
        reply = await_response(request_id)
    finally:
        SAMPLING["depth"] -= 1
        OUTSTANDING.discard(request_id)
    if reply is None:
        return tool_error("sampling failed: no reply from the client")
    if not WELL_BEHAVED:
        # PLANTED BUG (crash, exit via client reply): the reply is trusted; an error reply or a
        # result without content.text raises an uncaught KeyError (or TypeError) and the
        # process exits with status 1.
        summary = reply["result"]["content"]["text"]
        return tool_ok(summary if isinstance(summary, str) else dumps(summary))
    if "error" in reply:
        error = reply["error"]
        message = error.get("message") if isinstance(error, dict) else None
        return tool_error(
            "sampling failed: the client answered with an error"
            + (": " + shorten(message, 200) if isinstance(message, str) else "")
        )
    result = reply.get("result")
    content = result.get("content") if isinstance(result, dict) else None
    if (
        not isinstance(content, dict)
        or content.get("type") != "text"
        or not isinstance(content.get("text"), str)
    ):
        return tool_error("sampling failed: the client's result has no text content")
    return tool_ok(content["text"])


def await_response(request_id):
    """Reads and processes lines until the reply to our request `request_id` arrives, the
    wait times out, too many unrelated lines arrive, or input ends. Returns the reply.

    A wait nested in another (a summarize call that arrived while an earlier one waits)
    ends no later than the outer one: the outer call cannot answer before the inner one
    returns, so every call is answered within the timeout of the first."""
    deadline = time.monotonic() + SAMPLING_TIMEOUT
    enclosing = SAMPLING["deadline"]
    if enclosing is not None:
        deadline = min(deadline, enclosing)
    SAMPLING["deadline"] = deadline
    others = 0
    try:
        while request_id not in RESPONSES:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or others >= SAMPLING_MAX_OTHER_LINES:
                log("gave up waiting for the reply to %s" % request_id)
                break
            line = READER.readline(timeout=remaining)
            if line is None or line is LineReader.TIMEOUT:
                break
            if not handle_line(line):
                others += 1
    finally:
        SAMPLING["deadline"] = enclosing
    return RESPONSES.pop(request_id, None)


# --------------------------------------------------------------------------------------
# Tools that work in ROOT: files, commands, a template, a database
# --------------------------------------------------------------------------------------

MAX_PATH = 1024  # characters in a path argument
MAX_READ = 100000  # bytes of a file returned by read_file
COMMAND_TIMEOUT = 2.0  # seconds a grep or sort may run
COMMAND_OUTPUT = 65536  # bytes kept of a command's stdout and of its stderr
QUERY_TIMEOUT = 1.0  # seconds a database query may run
MAX_ROWS = 20  # rows of a query shown


def nul_in_path(value, name):
    """An error result when a path argument holds a NUL character, else None."""
    if "\x00" in value:
        return tool_error("Invalid arguments: '%s' must not contain NUL characters" % name)
    return None


def resolve(path):
    """The real path of `path` taken relative to ROOT (an absolute path stays absolute)."""
    return os.path.realpath(os.path.join(ROOT, path))


def inside_root(real):
    """True when the resolved path `real` is ROOT or lies below it."""
    return os.path.commonpath([real, ROOT]) == ROOT


def outside_root(path):
    return tool_error("Access denied: %s is outside the working directory" % dumps(shorten(path)))


def run_command(command, shell=False):
    """Runs a command in ROOT: stdin from /dev/null (our stdin is the MCP pipe), the C
    locale, at most COMMAND_TIMEOUT seconds and COMMAND_OUTPUT bytes of each output.
    Returns (exit status, None when it was stopped or could not start; stdout; stderr).
    The command stays in the server's process group, so whoever kills that group also
    ends anything the command left behind."""
    try:
        proc = subprocess.Popen(
            command,
            shell=shell,
            cwd=ROOT,
            env=dict(os.environ, LC_ALL="C"),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    except (OSError, ValueError) as exc:
        return None, "", "cannot run the command: %s" % exc
    out, err = bytearray(), bytearray()
    buffers = {proc.stdout.fileno(): out, proc.stderr.fileno(): err}
    pending = set(buffers)
    deadline = time.monotonic() + COMMAND_TIMEOUT
    stopped = False
    try:
        while pending and not stopped:
            remaining = deadline - time.monotonic()
            ready = select.select(list(pending), [], [], max(0.0, remaining))[0]
            if not ready:
                stopped = True
            for fd in ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    pending.discard(fd)
                    continue
                buffer = buffers[fd]
                buffer += chunk[: COMMAND_OUTPUT - len(buffer)]
                if len(buffer) >= COMMAND_OUTPUT:
                    stopped = True
        if not stopped:
            try:
                proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                stopped = True
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdout.close()  # anything the command left behind gets SIGPIPE
        proc.stderr.close()
    status = None if stopped else proc.returncode
    return status, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def one_string_schema(name, description, max_length):
    """The input schema of a tool with one required, non-empty string argument."""
    return {
        "type": "object",
        "properties": {
            name: {
                "type": "string",
                "description": description,
                "minLength": 1,
                "maxLength": max_length,
            }
        },
        "required": [name],
        "additionalProperties": False,
    }


# The one argument of read_file and sort_lines.
PATH_SCHEMA = one_string_schema("path", "Path of the file, relative to the working directory.", MAX_PATH)


def tool_read_file(args):
    validated(args, PATH_SCHEMA)
    path = args["path"]
    problem = nul_in_path(path, "path")
    if problem:
        return problem
    real = resolve(path)
    if not WELL_BEHAVED:
        # PLANTED BUG (injection, path traversal read): the confinement check compares
        # string prefixes without a separator, so a sibling directory whose name starts
        # with the root's name (root_old/, root-backup/) passes it, by a relative or an
        # absolute path. realpath still resolves `..` and symlinks first.
        allowed = real.startswith(ROOT)
    else:
        allowed = inside_root(real)
    if not allowed:
        return outside_root(path)
    if not os.path.isfile(real):
        if os.path.exists(real):
            return tool_error("Not a regular file: %s" % dumps(shorten(path)))
        return tool_error("No such file: %s" % dumps(shorten(path)))
    try:
        with open(real, "rb") as handle:
            data = handle.read(MAX_READ + 1)
    except OSError as exc:
        return tool_error("Cannot read %s: %s" % (dumps(shorten(path)), exc.strerror or exc))
    text = data[:MAX_READ].decode("utf-8", "replace")
    if len(data) > MAX_READ:
        text += "\n[truncated after %d bytes]" % MAX_READ
    return tool_ok(text)


SAVE_NOTE_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {
            "type": "string",
            "description": "File name of the note, relative to the working directory.",
            "minLength": 1,
            "maxLength": MAX_PATH,
        },
        "text": {"type": "string", "description": "Text of the note.", "maxLength": 10000},
    },
    "required": ["name", "text"],
    "additionalProperties": False,
}


def tool_save_note(args):
    validated(args, SAVE_NOTE_SCHEMA)
    name, text = args["name"], args["text"]
    problem = nul_in_path(name, "name")
    if problem:
        return problem
    real = resolve(name)
    mode = "w"
    if not WELL_BEHAVED:
        # PLANTED BUG (injection, path traversal write): only names that start with ".."
        # are refused, so "./../x", "docs/../../x" and absolute paths write outside the
        # working directory. (Outside it a file is only ever created, never overwritten,
        # so a fuzzing run cannot clobber anything that was already there.)
        if name.startswith(".."):
            return outside_root(name)
        target = os.path.join(ROOT, name)
        if not inside_root(real):
            mode = "x"
    else:
        if not inside_root(real):
            return outside_root(name)
        target = real
    try:
        with open(target, mode, encoding="utf-8", newline="") as handle:
            handle.write(text)
    except FileExistsError:
        return tool_error("A file named %s already exists" % dumps(shorten(name)))
    except FileNotFoundError:
        return tool_error("No such directory for %s" % dumps(shorten(name)))
    except OSError as exc:
        return tool_error("Cannot write %s: %s" % (dumps(shorten(name)), exc.strerror or exc))
    return tool_ok("Saved %d characters to %s" % (len(text), dumps(name)))


COUNT_MATCHES_SCHEMA = one_string_schema("pattern", "A regular expression (grep basic syntax).", 1000)


def tool_count_matches(args):
    validated(args, COUNT_MATCHES_SCHEMA)
    pattern = args["pattern"]
    if not WELL_BEHAVED:
        # PLANTED BUG (injection, shell): the pattern is pasted between single quotes into
        # a shell command line; a quote in it ends the quoted word and the rest is shell
        # syntax (`'; echo ...; '`, `'$(...)'`, backticks, a newline).
        status, out, err = run_command("grep -c -r -- '%s' docs" % pattern, shell=True)
    else:
        if "\x00" in pattern:
            return tool_error("Invalid arguments: 'pattern' must not contain NUL characters")
        status, out, err = run_command(["grep", "-c", "-r", "--", pattern, "docs"])
    text = out + err
    if status not in (0, 1):  # grep: 0 some lines matched, 1 none did
        return tool_error("grep failed%s" % (": " + text.strip() if text.strip() else ""))
    return tool_ok(text)


GREETING = "Hello, {name}! The meeting starts in {{ 60 - 45 }} minutes."
_PLACEHOLDER = re.compile(r"\{\{(.{1,200}?)\}\}")
_OPERATORS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}
EXPRESSION_LIMIT = 10**30  # larger operands and results are not computed


def arithmetic(node):
    """The value of an arithmetic expression tree; ValueError for anything else."""
    if isinstance(node, ast.Expression):
        return arithmetic(node.body)
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        value = node.value
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)):
        value = arithmetic(node.operand)
        value = -value if isinstance(node.op, ast.USub) else value
    elif isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        value = _OPERATORS[type(node.op)](arithmetic(node.left), arithmetic(node.right))
    else:
        raise ValueError("not arithmetic")
    if not abs(value) <= EXPRESSION_LIMIT:  # also false for NaN
        raise ValueError("too large")
    return value


def render_template(text):
    """Replaces each `{{ expression }}` holding plain arithmetic by its value; any other
    placeholder is left as it is."""

    def replace(match):
        try:
            return str(arithmetic(ast.parse(match.group(1).strip(), mode="eval")))
        except (SyntaxError, ValueError, TypeError, ArithmeticError, RecursionError,
                MemoryError):
            return match.group(0)

    return _PLACEHOLDER.sub(replace, text)


GREET_SCHEMA = one_string_schema("name", "Name of the person to greet.", 200)


def tool_greet(args):
    validated(args, GREET_SCHEMA)
    name = args["name"]
    if not WELL_BEHAVED:
        # PLANTED BUG (injection, template): the name is put into the template before the
        # template is rendered, so a `{{ expression }}` in the name is evaluated as well.
        return tool_ok(render_template(GREETING.replace("{name}", name)))
    return tool_ok(render_template(GREETING).replace("{name}", name))


def tool_sort_lines(args):
    validated(args, PATH_SCHEMA)
    path = args["path"]
    problem = nul_in_path(path, "path")
    if problem:
        return problem
    real = resolve(path)
    if not WELL_BEHAVED:
        # PLANTED BUG (injection, argument): the path is sort's first argument with no
        # "--" before it, so a path that starts with "-" is an option: "--output=FILE"
        # or "-oFILE" make sort write FILE anywhere. The confinement check is read_file's
        # prefix comparison, which such a path passes.
        if not real.startswith(ROOT):
            return outside_root(path)
        command = ["sort", path]
    else:
        if not inside_root(real):
            return outside_root(path)
        if not os.path.isfile(real):
            return tool_error("No such file: %s" % dumps(shorten(path)))
        command = ["sort", "--", path]
    status, out, err = run_command(command)
    if status != 0:
        return tool_error("sort failed%s" % (": " + err.strip() if err.strip() else ""))
    return tool_ok(out)


USERS = [
    ("alice", "alice@example.com"),
    ("bob", "bob@example.org"),
    ("carol", "carol@example.net"),
]

LOOKUP_USER_SCHEMA = one_string_schema("name", "User name, e.g. alice.", 200)


def open_database():
    database = sqlite3.connect(":memory:")
    database.execute("CREATE TABLE users (name TEXT, email TEXT)")
    database.executemany("INSERT INTO users VALUES (?, ?)", USERS)
    database.commit()
    database.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 100000)
    return database


def query(sql, parameters=()):
    """At most MAX_ROWS rows of a query; a query running longer than QUERY_TIMEOUT is
    interrupted (sqlite3.OperationalError)."""
    deadline = time.monotonic() + QUERY_TIMEOUT
    DATABASE.set_progress_handler(lambda: time.monotonic() > deadline, 1000)
    try:
        return DATABASE.execute(sql, parameters).fetchmany(MAX_ROWS)
    finally:
        DATABASE.set_progress_handler(None, 0)


def tool_lookup_user(args):
    validated(args, LOOKUP_USER_SCHEMA)
    name = args["name"]
    if not WELL_BEHAVED:
        # PLANTED BUG (injection, SQL): the name is pasted into the SQL text, so a quote
        # ends the string literal and the rest is SQL ("' UNION SELECT ...--"); the "no
        # such user" message reads the name back through a query built the same way
        # ("'||'...'||'" comes back concatenated); database errors are passed on.
        try:
            rows = query(f"SELECT name, email FROM users WHERE name = '{name}'")
            if not rows:
                echoed = query(f"SELECT '{name}'")
                shown = str(echoed[0][0]) if echoed else name
                return tool_ok("No user named %s" % dumps(shorten(shown, 200)))
        except (sqlite3.Error, sqlite3.Warning, ValueError, OverflowError) as exc:
            return tool_error("Database error: %s" % exc)
    else:
        try:
            rows = query("SELECT name, email FROM users WHERE name = ?", (name,))
        except (sqlite3.Error, sqlite3.Warning, ValueError, OverflowError):
            return tool_error("The lookup failed")
        if not rows:
            return tool_ok("No user named %s" % dumps(shorten(name, 200)))
    lines = ["%s <%s>" % (shorten(str(row[0]), 200), shorten(str(row[-1]), 200)) for row in rows]
    return tool_ok("\n".join(lines))


TOOLS = [
    {
        "name": "echo",
        "title": "Echo",
        "description": "Returns the message unchanged (or upper-cased).",
        "inputSchema": ECHO_SCHEMA,
        "annotations": {"readOnlyHint": True, "openWorldHint": False},
        "handler": tool_echo,
    },
    {
        "name": "divide",
        "title": "Divide",
        "description": "Divides a by b.",
        "inputSchema": DIVIDE_SCHEMA,
        "outputSchema": DIVIDE_OUTPUT,
        "annotations": {"readOnlyHint": True, "openWorldHint": False},
        "handler": tool_divide,
    },
    {
        "name": "render",
        "title": "Render text",
        "description": "Wraps text into lines of a fixed width and aligns them.",
        "inputSchema": RENDER_SCHEMA,
        "annotations": {"readOnlyHint": True, "openWorldHint": False},
        "handler": tool_render,
    },
    {
        "name": "store",
        "title": "Store a note",
        "description": "Saves a note under a key; read it back as the resource demo://notes/{key}.",
        "inputSchema": STORE_SCHEMA,
        "annotations": {"readOnlyHint": False, "destructiveHint": False, "openWorldHint": False},
        "handler": tool_store,
    },
    {
        "name": "count",
        "title": "Count",
        "description": "Counts from 0 to n; reports progress when given a progressToken.",
        "inputSchema": COUNT_SCHEMA,
        "annotations": {"readOnlyHint": True, "openWorldHint": False},
        "handler": tool_count,
    },
    {
        "name": "convert",
        "title": "Convert",
        "description": "Converts text to a JSON string literal, plain text, or UTF-8 hex.",
        "inputSchema": CONVERT_SCHEMA,
        "annotations": {"readOnlyHint": True, "openWorldHint": False},
        "handler": tool_convert,
    },
    {
        "name": "search",
        "title": "Search documents",
        "description": "Searches the titles of a small built-in document collection.",
        "inputSchema": SEARCH_SCHEMA,
        "annotations": {"readOnlyHint": True, "openWorldHint": False},
        "handler": tool_search,
    },
    {
        "name": "summarize",
        "title": "Summarize",
        "description": "Summarizes text by asking the client's model (sampling/createMessage).",
        "inputSchema": SUMMARIZE_SCHEMA,
        "annotations": {"readOnlyHint": True, "openWorldHint": True},
        "handler": tool_summarize,
    },
    {
        "name": "read_file",
        "title": "Read a file",
        "description": "Returns the text of a file in the working directory.",
        "inputSchema": PATH_SCHEMA,
        "annotations": {"readOnlyHint": True, "openWorldHint": False},
        "handler": tool_read_file,
    },
    {
        "name": "save_note",
        "title": "Save a note",
        "description": "Writes text to a file in the working directory.",
        "inputSchema": SAVE_NOTE_SCHEMA,
        "annotations": {"readOnlyHint": False, "destructiveHint": True, "openWorldHint": False},
        "handler": tool_save_note,
    },
    {
        "name": "count_matches",
        "title": "Count matches",
        "description": "Counts, for each file under docs/, the lines that match a regular "
        "expression.",
        "inputSchema": COUNT_MATCHES_SCHEMA,
        "annotations": {"readOnlyHint": True, "openWorldHint": False},
        "handler": tool_count_matches,
    },
    {
        "name": "greet",
        "title": "Greet",
        "description": "Returns a greeting for a person.",
        "inputSchema": GREET_SCHEMA,
        "annotations": {"readOnlyHint": True, "openWorldHint": False},
        "handler": tool_greet,
    },
    {
        "name": "sort_lines",
        "title": "Sort lines",
        "description": "Returns the lines of a file in the working directory, sorted.",
        "inputSchema": PATH_SCHEMA,
        "annotations": {"readOnlyHint": True, "openWorldHint": False},
        "handler": tool_sort_lines,
    },
    {
        "name": "lookup_user",
        "title": "Look up a user",
        "description": "Finds a user's email address by user name.",
        "inputSchema": LOOKUP_USER_SCHEMA,
        "annotations": {"readOnlyHint": True, "openWorldHint": False},
        "handler": tool_lookup_user,
    },
]
TOOLS_BY_NAME = {tool["name"]: tool for tool in TOOLS}
TOOL_LISTING = [{k: v for k, v in tool.items() if k != "handler"} for tool in TOOLS]


def page_cursor(offset):
    token = base64.urlsafe_b64encode(("tools/list@%d" % offset).encode()).decode()
    return token.rstrip("=")


CURSORS = {page_cursor(offset): offset for offset in range(PAGE_SIZE, len(TOOLS), PAGE_SIZE)}

# --------------------------------------------------------------------------------------
# Resources, prompts, completions
# --------------------------------------------------------------------------------------

NOTES_TEMPLATE = "demo://notes/{id}"
NOTES_PREFIX = "demo://notes/"
_PNG_1X1 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
RESOURCES = [
    {
        "uri": "demo://readme",
        "name": "readme",
        "title": "About this server",
        "description": "What the demo server is for.",
        "mimeType": "text/plain",
    },
    {
        "uri": "demo://config",
        "name": "config",
        "title": "Server configuration",
        "description": "The server's settings as JSON.",
        "mimeType": "application/json",
    },
    {
        "uri": "demo://logo.png",
        "name": "logo",
        "title": "Logo",
        "description": "A one-pixel PNG.",
        "mimeType": "image/png",
    },
]
TEMPLATES = [
    {
        "uriTemplate": NOTES_TEMPLATE,
        "name": "note",
        "title": "Note",
        "description": "A note saved with the store tool.",
        "mimeType": "text/plain",
    }
]
PROMPTS = [
    {
        "name": "review",
        "title": "Code review",
        "description": "Asks for a review of a code snippet.",
        "arguments": [
            {"name": "code", "description": "The code to review.", "required": True},
            {
                "name": "language",
                "description": "Programming language of the code.",
                "required": False,
            },
        ],
    }
]
LANGUAGES = ["c", "go", "java", "javascript", "python", "ruby", "rust", "typescript"]


def read_resource(uri):
    if uri == "demo://readme":
        text = "mcpfuzz-demo: the default target of the mcpfuzz fuzzer.\n"
        return {"uri": uri, "mimeType": "text/plain", "text": text}
    if uri == "demo://config":
        config = {"wellBehaved": WELL_BEHAVED, "pageSize": PAGE_SIZE, "notes": len(NOTES)}
        return {"uri": uri, "mimeType": "application/json", "text": dumps(config)}
    if uri == "demo://logo.png":
        return {"uri": uri, "mimeType": "image/png", "blob": _PNG_1X1}
    if uri.startswith(NOTES_PREFIX):
        key = uri[len(NOTES_PREFIX) :]
        if key and "/" not in key:
            text = NOTES.get(key, "")
            return {"uri": uri, "mimeType": "text/plain", "text": text}
    return None


def require_object(params, name):
    value = params.get(name)
    if not isinstance(value, dict):
        raise invalid_params("'%s' must be an object" % name)
    return value


def require_string(params, name):
    value = params.get(name)
    if not isinstance(value, str):
        raise invalid_params("'%s' must be a string" % name)
    return value


def single_page(params):
    cursor = params.get("cursor")
    if cursor is not None or "cursor" in params:
        raise invalid_params("invalid cursor")


# --------------------------------------------------------------------------------------
# Methods
# --------------------------------------------------------------------------------------


def m_initialize(params):
    version = params.get("protocolVersion", LATEST_PROTOCOL)
    if not isinstance(version, str):
        raise invalid_params("'protocolVersion' must be a string")
    capabilities = params.get("capabilities", {})
    if not isinstance(capabilities, dict):
        raise invalid_params("'capabilities' must be an object")
    if "clientInfo" in params and not isinstance(params["clientInfo"], dict):
        raise invalid_params("'clientInfo' must be an object")
    STATE["initialized"] = True
    STATE["client_sampling"] = isinstance(capabilities.get("sampling"), dict)
    STATE["client_roots"] = isinstance(capabilities.get("roots"), dict)
    return {
        "protocolVersion": version if version in KNOWN_PROTOCOLS else LATEST_PROTOCOL,
        "capabilities": {
            "tools": {"listChanged": False},
            "resources": {"subscribe": True, "listChanged": False},
            "prompts": {"listChanged": False},
            "logging": {},
            "completions": {},
        },
        "serverInfo": {"name": SERVER_NAME, "version": SERVER_VERSION},
        "instructions": "A demo server for mcpfuzz. Tools: echo, divide, render, store, "
        "count, convert, search, summarize, read_file, save_note, count_matches, greet, "
        "sort_lines, lookup_user. File tools work in the server's working directory.",
    }


def m_ping(params):
    return {}


def m_tools_list(params):
    cursor = params.get("cursor")
    offset = 0
    if cursor is not None or "cursor" in params:
        if not isinstance(cursor, str) or cursor not in CURSORS:
            raise invalid_params("invalid cursor")
        offset = CURSORS[cursor]
    result = {"tools": TOOL_LISTING[offset : offset + PAGE_SIZE]}
    if offset + PAGE_SIZE < len(TOOLS):
        result["nextCursor"] = page_cursor(offset + PAGE_SIZE)
    return result


def m_tools_call(params):
    name = params.get("name")
    if not isinstance(name, str):
        raise invalid_params("'name' must be a string")
    tool = TOOLS_BY_NAME.get(name)
    if tool is None:
        raise invalid_params("unknown tool %s" % dumps(shorten(name)))
    args = params.get("arguments")
    if args is None:
        args = {}
    if not isinstance(args, dict):
        raise invalid_params("'arguments' must be an object")
    level = STATE["log_level"]
    if level is not None and LOG_LEVELS.index(level) <= LOG_LEVELS.index("info"):
        notify(
            "notifications/message",
            {"level": "info", "logger": SERVER_NAME, "data": {"tool": name}},
        )
    try:
        if name == "count":
            return tool_count(args, params.get("_meta"))
        return tool["handler"](args)
    except _ToolInputError as exc:
        return tool_error(str(exc))


def m_resources_list(params):
    single_page(params)
    return {"resources": RESOURCES}


def m_resources_templates_list(params):
    single_page(params)
    return {"resourceTemplates": TEMPLATES}


def m_resources_read(params):
    uri = require_string(params, "uri")
    content = read_resource(uri)
    if content is None:
        raise RpcError(-32002, "Resource not found", {"uri": uri})
    return {"contents": [content]}


def m_resources_subscribe(params):
    SUBSCRIPTIONS.add(require_string(params, "uri"))
    return {}


def m_resources_unsubscribe(params):
    SUBSCRIPTIONS.discard(require_string(params, "uri"))
    return {}


def m_prompts_list(params):
    single_page(params)
    return {"prompts": PROMPTS}


def m_prompts_get(params):
    name = require_string(params, "name")
    if name != "review":
        raise invalid_params("unknown prompt %s" % dumps(shorten(name)))
    arguments = params.get("arguments")
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        raise invalid_params("'arguments' must be an object")
    for key, value in arguments.items():
        if not isinstance(value, str):
            raise invalid_params("argument '%s' must be a string" % shorten(key))
    if "code" not in arguments:
        raise invalid_params("missing required argument 'code'")
    language = arguments.get("language", "")
    text = "Please review this %scode:\n%s" % (
        language + " " if language else "",
        arguments["code"],
    )
    return {
        "description": "Code review request",
        "messages": [{"role": "user", "content": {"type": "text", "text": text}}],
    }


def m_completion_complete(params):
    ref = require_object(params, "ref")
    argument = require_object(params, "argument")
    name = require_string(argument, "name")
    value = require_string(argument, "value")
    kind = ref.get("type")
    if kind == "ref/prompt":
        if require_string(ref, "name") != "review":
            raise invalid_params("unknown prompt")
        candidates = LANGUAGES if name == "language" else []
    elif kind == "ref/resource":
        uri = require_string(ref, "uri")
        if uri == NOTES_TEMPLATE:
            candidates = sorted(k for k in NOTES if "/" not in k) if name == "id" else []
        elif any(r["uri"] == uri for r in RESOURCES):
            candidates = []
        else:
            raise invalid_params("unknown resource")
    else:
        raise invalid_params("'ref.type' must be \"ref/prompt\" or \"ref/resource\"")
    values = [c for c in candidates if c.startswith(value)]
    return {"completion": {"values": values[:100], "total": len(values), "hasMore": len(values) > 100}}


def m_logging_set_level(params):
    level = params.get("level")
    if level not in LOG_LEVELS or not isinstance(level, str):
        raise invalid_params("'level' must be one of " + ", ".join(LOG_LEVELS))
    STATE["log_level"] = level
    return {}


METHODS = {
    "initialize": m_initialize,
    "ping": m_ping,
    "tools/list": m_tools_list,
    "tools/call": m_tools_call,
    "resources/list": m_resources_list,
    "resources/templates/list": m_resources_templates_list,
    "resources/read": m_resources_read,
    "resources/subscribe": m_resources_subscribe,
    "resources/unsubscribe": m_resources_unsubscribe,
    "prompts/list": m_prompts_list,
    "prompts/get": m_prompts_get,
    "completion/complete": m_completion_complete,
    "logging/setLevel": m_logging_set_level,
}
# notifications/initialized, notifications/cancelled, notifications/progress,
# notifications/roots/list_changed and any other notification: accepted silently.


# --------------------------------------------------------------------------------------
# Dispatch
# --------------------------------------------------------------------------------------


def valid_id(value):
    return isinstance(value, (str, float)) or is_int(value)


def handle_message(message):
    """Handles one decoded message. Returns (reply text or None, matched) where matched
    tells whether it was the reply to one of our own outstanding requests."""
    if not isinstance(message, dict):
        return error_line(None, -32600, "Invalid Request"), False
    has_id = "id" in message
    request_id = message.get("id")
    reply_id = request_id if has_id and valid_id(request_id) else None
    if "method" not in message:
        if "result" in message or "error" in message:
            # A reply from the client: ours if we asked, otherwise ignored.
            if isinstance(request_id, str) and request_id in OUTSTANDING:
                RESPONSES[request_id] = message
                return None, True
            return None, False
        return error_line(reply_id, -32600, "Invalid Request: no method"), False
    method = message["method"]
    if message.get("jsonrpc") != "2.0" or not isinstance(message.get("jsonrpc"), str):
        return error_line(reply_id, -32600, "Invalid Request: jsonrpc must be \"2.0\""), False
    if not isinstance(method, str):
        return error_line(reply_id, -32600, "Invalid Request: method must be a string"), False
    if not has_id:
        return None, False  # a notification: never answered
    if not valid_id(request_id):
        return error_line(None, -32600, "Invalid Request: id must be a string or a number"), False
    params = message.get("params")
    if "params" in message and not isinstance(params, (dict, list)):
        return error_line(request_id, -32600, "Invalid Request: params must be an object or an array"), False
    handler = METHODS.get(method)
    if handler is None:
        return error_line(request_id, -32601, "Method not found"), False
    if params is None:
        params = {}
    if not isinstance(params, dict):
        return error_line(request_id, -32602, "Invalid params: params must be an object"), False
    try:
        result = handler(params)
    except RpcError as exc:
        return error_line(request_id, exc.code, exc.message, exc.data), False
    if result is NO_REPLY:
        return None, False
    return result_line(request_id, result), False


def handle_line(line):
    """Processes one input line; returns True when it carried the reply to one of our own
    outstanding requests."""
    if not WELL_BEHAVED and STATE["poisoned"] is not None:
        # Part of the PLANTED BUG (crash, late death) in tool_store.
        raise RuntimeError("note index corrupted by key %r" % STATE["poisoned"])
    data = line.strip(b" \t\r\n")
    if not data:
        return False
    try:
        message = parse_json(data)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        write_line(error_line(None, -32700, "Parse error"))
        return False
    if isinstance(message, list):
        if not message:
            write_line(error_line(None, -32600, "Invalid Request: empty batch"))
            return False
        replies, matched = [], False
        for member in message:
            reply, was_ours = handle_message(member)
            matched = matched or was_ours
            if reply is not None:
                replies.append(reply)
        if replies:
            write_line("[" + ",".join(replies) + "]")
        return matched
    reply, matched = handle_message(message)
    if reply is not None:
        write_line(reply)
    return matched


def main(argv):
    global WELL_BEHAVED, SAMPLING_TIMEOUT, ROOT, DATABASE
    args = list(argv)
    root = None
    while args:
        arg = args.pop(0)
        if arg == "--well-behaved":
            WELL_BEHAVED = True
        elif arg == "--root" and args:
            root = args.pop(0)
        elif arg == "--sampling-timeout" and args:
            try:
                SAMPLING_TIMEOUT = float(args.pop(0))
            except ValueError:
                SAMPLING_TIMEOUT = -1.0
            if not 0 <= SAMPLING_TIMEOUT < 1e6:
                sys.stderr.write("--sampling-timeout needs a number of seconds\n")
                return 2
        elif arg in ("-h", "--help"):
            sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
            return 0
        else:
            sys.stderr.write(
                "usage: demo_server.py [--well-behaved] [--sampling-timeout SECONDS] [--root DIR]\n"
            )
            return 2
    try:
        ROOT = os.path.realpath(os.getcwd() if root is None else root)
    except OSError as exc:  # the working directory was removed
        sys.stderr.write("demo_server.py: no working directory: %s\n" % exc)
        return 2
    if not os.path.isdir(ROOT):
        sys.stderr.write("demo_server.py: --root %s is not a directory\n" % root)
        return 2
    DATABASE = open_database()
    log("ready (%s)" % ("well-behaved" if WELL_BEHAVED else "planted bugs"))
    while True:
        line = READER.readline()
        if line is None:
            break
        handle_line(line)
    if not WELL_BEHAVED and STATE["poisoned"] is not None:
        # Part of the PLANTED BUG (crash, late death): dies at end of input too.
        raise RuntimeError("note index corrupted by key %r" % STATE["poisoned"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
