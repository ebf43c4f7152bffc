#!/usr/bin/env python3
"""mcpfuzz-leaky: a small MCP server over stdio that leaks one resource per tool call.

    python3 testbed/leaky_server.py --leak-memory    # 64 KiB kept per distinct arguments
    python3 testbed/leaky_server.py --leak-memory --kib 3   # 3 KiB instead
    python3 testbed/leaky_server.py --leak-fds       # one file descriptor per call
    python3 testbed/leaky_server.py --leak-threads   # one sleeping thread per call
    python3 testbed/leaky_server.py --control        # large saw-tooth memory use, no leak
    python3 testbed/leaky_server.py --cpu-burn       # long text costs echo a second of CPU

Exactly one mode flag is required. Every mode serves the same three tools: store
{key, value}, lookup {key} and echo {text}. The leak happens on every tools/call request
that is answered, whatever the tool (and even when the call is refused with -32602 or
answered with isError); for --leak-memory only when the call's `arguments` (compared as
canonical JSON) differ from those of every earlier call. testbed/README.md describes the
modes and the control's shape.

Transport: MCP stdio, one compact JSON-RPC 2.0 message per line on stdin/stdout, flushed;
stdout carries protocol messages only, logs go to stderr. Standard library only.
"""

import mmap
import os
import sys
import threading
import time

# jsonline.py sits next to this file; make sure it is found even when the script's
# directory is not on sys.path (python3 -P or -I, PYTHONSAFEPATH, an import from elsewhere).
_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from jsonline import RpcError, dumps, invalid_params, serve  # noqa: E402

SERVER_NAME = "mcpfuzz-leaky"
SERVER_VERSION = "1.0.0"
LATEST_PROTOCOL = "2025-06-18"
KNOWN_PROTOCOLS = ("2024-11-05", "2025-03-26", "2025-06-18")
MODES = ("--leak-memory", "--leak-fds", "--leak-threads", "--control", "--cpu-burn")
USAGE = (
    "usage: leaky_server.py (--leak-memory | --leak-fds | --leak-threads | --control"
    " | --cpu-burn)\n"
)
BURN_PER_CHAR = 0.001  # --cpu-burn: seconds of CPU per character of echo's text ...
BURN_MAX = 1.2  # ... at most, so the reply still comes before a 2 s deadline

LEAK_BYTES = 64 * 1024  # --leak-memory: kept per distinct arguments
CONTROL_BASE = 32 * 1024 * 1024  # --control: allocated (and touched) at startup
CONTROL_CHUNK = 256 * 1024  # --control: allocated per call
CONTROL_CHUNKS = 80  # --control: the chunk list is cleared when it holds this many
PAGE = mmap.PAGESIZE
STORE_LIMIT = 64  # store keeps at most this many keys (oldest dropped): no growth there

MODE = None
LEAKED_MEMORY = {}  # --leak-memory: canonical JSON of the arguments -> 64 KiB of bytes
LEAKED_FDS = []  # --leak-fds: descriptors never closed
LEAKED_THREADS = []  # --leak-threads: threads that never end
CONTROL = {"base": None, "chunks": []}  # --control
NOTES = {}  # the store tool's data, in insertion order
WARNED = set()


def log(text):
    sys.stderr.write("%s: %s\n" % (SERVER_NAME, text))
    sys.stderr.flush()


# --------------------------------------------------------------------------------------
# The leaks (and the control's saw-tooth)
# --------------------------------------------------------------------------------------


def touched_mapping(size):
    """An anonymous mapping of `size` bytes with every page written (so it is resident);
    closing it (or dropping it) unmaps it, so the memory really goes back to the system."""
    block = mmap.mmap(-1, size)
    for offset in range(0, size, PAGE):
        block[offset] = 0x5A
    return block


def canonical(value):
    try:
        return dumps(value, sort_keys=True)
    except (TypeError, ValueError, RecursionError):
        return repr(value)


def leak(params):
    """Called once for every answered tools/call request."""
    if MODE == "--leak-memory":
        key = canonical(params.get("arguments"))
        if key not in LEAKED_MEMORY:
            LEAKED_MEMORY[key] = b"\xa5" * LEAK_BYTES
    elif MODE == "--leak-fds":
        try:
            LEAKED_FDS.append(os.open(os.devnull, os.O_RDONLY))
        except OSError as exc:  # EMFILE: the leak stops growing, the server keeps going
            warn_once("fds", "cannot open another descriptor: %s" % exc)
    elif MODE == "--leak-threads":
        thread = threading.Thread(target=threading.Event().wait, daemon=True)
        try:
            thread.start()
            LEAKED_THREADS.append(thread)
        except RuntimeError as exc:  # can't start new thread
            warn_once("threads", "cannot start another thread: %s" % exc)
    elif MODE == "--cpu-burn":
        # Quadratic work in disguise: echo's cost grows with its text until it takes a
        # second of CPU, yet it always replies. Nothing else costs anything.
        arguments = params.get("arguments")
        text = arguments.get("text") if isinstance(arguments, dict) else None
        if params.get("name") == "echo" and isinstance(text, str) and len(text) > 100:
            budget = min(len(text) * BURN_PER_CHAR, BURN_MAX)
            until = time.process_time() + budget
            while time.process_time() < until:
                pass
    elif MODE == "--control":
        chunks = CONTROL["chunks"]
        chunks.append(touched_mapping(CONTROL_CHUNK))
        if len(chunks) >= CONTROL_CHUNKS:
            for chunk in chunks:
                chunk.close()
            chunks.clear()


def warn_once(kind, text):
    if kind not in WARNED:
        WARNED.add(kind)
        log(text)


# --------------------------------------------------------------------------------------
# Tools
# --------------------------------------------------------------------------------------


def string_property(description, max_length):
    return {"type": "string", "description": description, "maxLength": max_length}


TOOLS = [
    {
        "name": "store",
        "description": "Stores a value under a key (the %d most recent keys are kept)."
        % STORE_LIMIT,
        "inputSchema": {
            "type": "object",
            "properties": {
                "key": string_property("Key to store under.", 200),
                "value": string_property("Value to store.", 10000),
            },
            "required": ["key", "value"],
            "additionalProperties": False,
        },
    },
    {
        "name": "lookup",
        "description": "Returns the value stored under a key.",
        "inputSchema": {
            "type": "object",
            "properties": {"key": string_property("Key to look up.", 200)},
            "required": ["key"],
            "additionalProperties": False,
        },
    },
    {
        "name": "echo",
        "description": "Returns its text unchanged.",
        "inputSchema": {
            "type": "object",
            "properties": {"text": string_property("Text to send back.", 10000)},
            "required": ["text"],
            "additionalProperties": False,
        },
    },
]
SCHEMAS = {tool["name"]: tool["inputSchema"] for tool in TOOLS}


def tool_text(text, is_error=False):
    return {"content": [{"type": "text", "text": text}], "isError": is_error}


def argument_problem(args, schema):
    """None when `args` satisfies the (flat, string-only) schema, else a message."""
    for name in schema["required"]:
        if name not in args:
            return "missing required argument '%s'" % name
    for name, value in args.items():
        spec = schema["properties"].get(name)
        if spec is None:
            return "unexpected argument '%s'" % name[:80]
        if not isinstance(value, str):
            return "'%s' must be a string" % name
        if len(value) > spec["maxLength"]:
            return "'%s' must have at most %d characters" % (name, spec["maxLength"])
    return None


def run_tool(name, args):
    if name == "store":
        NOTES.pop(args["key"], None)
        NOTES[args["key"]] = args["value"]
        while len(NOTES) > STORE_LIMIT:
            del NOTES[next(iter(NOTES))]
        return tool_text("Stored %d characters under %s" % (len(args["value"]), dumps(args["key"])))
    if name == "lookup":
        value = NOTES.get(args["key"])
        if value is None:
            return tool_text("Nothing is stored under %s" % dumps(args["key"]))
        return tool_text(value)
    return tool_text(args["text"])


# --------------------------------------------------------------------------------------
# Methods
# --------------------------------------------------------------------------------------


def m_initialize(params):
    version = params.get("protocolVersion", LATEST_PROTOCOL)
    if not isinstance(version, str):
        raise invalid_params("'protocolVersion' must be a string")
    if not isinstance(params.get("capabilities", {}), dict):
        raise invalid_params("'capabilities' must be an object")
    if not isinstance(params.get("clientInfo", {}), dict):
        raise invalid_params("'clientInfo' must be an object")
    return {
        "protocolVersion": version if version in KNOWN_PROTOCOLS else LATEST_PROTOCOL,
        "capabilities": {"tools": {"listChanged": False}},
        "serverInfo": {"name": SERVER_NAME, "version": SERVER_VERSION},
    }


def m_ping(params):
    return {}


def m_tools_list(params):
    if "cursor" in params:
        raise invalid_params("invalid cursor")
    return {"tools": TOOLS}


def m_tools_call(params):
    leak(params)
    name = params.get("name")
    if not isinstance(name, str):
        raise invalid_params("'name' must be a string")
    if name not in SCHEMAS:
        raise invalid_params("unknown tool '%s'" % name[:80])
    args = params.get("arguments", {})
    if not isinstance(args, dict):
        raise invalid_params("'arguments' must be an object")
    problem = argument_problem(args, SCHEMAS[name])
    if problem:
        return tool_text("Invalid arguments: " + problem, is_error=True)
    return run_tool(name, args)


METHODS = {
    "initialize": m_initialize,
    "ping": m_ping,
    "tools/list": m_tools_list,
    "tools/call": m_tools_call,
}


def main(argv):
    global MODE, LEAK_BYTES
    if any(arg in ("-h", "--help") for arg in argv):
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        return 0
    # --kib N sets the size kept per distinct call of --leak-memory (for measuring the
    # smallest leak a soak of a given length detects).
    if len(argv) == 3 and argv[1] == "--kib":
        LEAK_BYTES = int(float(argv[2]) * 1024)
        argv = argv[:1]
    if len(argv) != 1 or argv[0] not in MODES:
        sys.stderr.write(USAGE)
        return 2
    MODE = argv[0]
    if MODE == "--control":
        CONTROL["base"] = touched_mapping(CONTROL_BASE)
    log("ready (%s)" % MODE[2:])
    serve(METHODS)
    log("end of input")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
