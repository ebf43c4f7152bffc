#!/usr/bin/env python3
"""mcpfuzz-demo: a small MCP server over stdio with planted bugs, and its well-behaved twin.

    python3 testbed/demo_server.py                  # planted bugs (the default fuzz target)
    python3 testbed/demo_server.py --well-behaved   # same tools and schemas, no bugs

Transport: MCP stdio (spec 2025-06-18), one compact JSON-RPC 2.0 message per line on
stdin/stdout; stdout carries protocol messages only, logs go to stderr.

Every planted bug is marked `# PLANTED BUG (<kind>): ...` and guarded by
`if not WELL_BEHAVED:`; testbed/README.md lists them. Standard library only.
"""

import base64
import json
import os
import re
import select
import signal
import sys
import time

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


def log(text):
    sys.stderr.write("%s: %s\n" % (SERVER_NAME, text))
    sys.stderr.flush()


# --------------------------------------------------------------------------------------
# JSON in and out
# --------------------------------------------------------------------------------------


class RawInt(int):
    """An integer that remembers its JSON spelling, so an id is echoed byte for byte."""


class RawFloat(float):
    """A number with a fraction or exponent (or too large for an int) and its spelling."""


def _parse_int(text):
    if len(text) > 300:  # beyond this int() gets slow; no schema here needs such numbers
        value = RawFloat(float(text))
    else:
        value = RawInt(int(text))
    value.raw = text
    return value


def _parse_float(text):
    value = RawFloat(float(text))
    value.raw = text
    return value


def _parse_constant(text):
    raise ValueError("%s is not JSON" % text)


_DECODER = json.JSONDecoder(
    parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant
)
_MAYBE_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _has_lone_surrogate(value):
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            for key, sub in item.items():
                if _SURROGATE.search(key):
                    return True
                stack.append(sub)
        elif isinstance(item, list):
            stack.extend(item)
    return False


def parse_json(data):
    """Parses one line; raises ValueError unless it is strict JSON (UTF-8, no NaN, no lone
    surrogate escapes, which strict parsers such as serde_json reject)."""
    text = data.decode("utf-8")
    value, end = _DECODER.raw_decode(text)
    if text[end:].strip(" \t\r\n"):
        raise ValueError("trailing data")
    if _MAYBE_SURROGATE.search(data) and _has_lone_surrogate(value):
        raise ValueError("lone surrogate")
    return value


def dumps(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


_NUMERIC_STRING = re.compile(r"-?[0-9]{1,100}")


def id_json(request_id):
    """The JSON text of a reply's id: the request's id exactly as it was received."""
    if request_id is None:
        return "null"
    if isinstance(request_id, (RawInt, RawFloat)):
        return request_id.raw
    if isinstance(request_id, str):
        if not WELL_BEHAVED and _NUMERIC_STRING.fullmatch(request_id):
            # PLANTED BUG (protocol, id mangled): ids are "normalized" for every method,
            # so a numeric string id such as "7" is answered with the integer 7.
            return str(int(request_id))
        return dumps(request_id)
    return dumps(request_id)


def result_line(request_id, result):
    return '{"jsonrpc":"2.0","id":%s,"result":%s}' % (id_json(request_id), dumps(result))


def error_line(request_id, code, message, data=None):
    error = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return '{"jsonrpc":"2.0","id":%s,"error":%s}' % (id_json(request_id), dumps(error))


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
        "count, convert, search, summarize.",
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
    global WELL_BEHAVED, SAMPLING_TIMEOUT
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg == "--well-behaved":
            WELL_BEHAVED = True
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
            sys.stderr.write("usage: demo_server.py [--well-behaved] [--sampling-timeout SECONDS]\n")
            return 2
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
