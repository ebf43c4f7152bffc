#!/usr/bin/env python3
"""Magic-value MCP server: a coverage benchmark fixture for mcpfuzz (standard library only).

Newline-delimited JSON-RPC 2.0 on stdin/stdout (the testbed's strict loop in
testbed/jsonline.py): initialize, notifications, ping, tools/list and tools/call with one
tool, `inspect {value: string}`. The handler compares the value with a six-character
secret one character at a time in nested ifs, each on its own line, so that a
coverage-guided fuzzer sees every extra matching character as new coverage. A value that
starts with all six characters makes the process abort (SIGABRT). The secret is built
from character codes and appears in no schema, description or reply. Every other input
gets a correct reply, so that the fuzzer's other oracles stay quiet and the benchmark
measures the search for the secret.
"""

import os
import sys

# jsonline.py sits one directory up; make sure it is found whatever sys.path holds.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from jsonline import RpcError, invalid_params, serve  # noqa: E402

PROTOCOL = "2025-06-18"
TOOLS = [
    {
        "name": "inspect",
        "description": "Inspects a value",
        "inputSchema": {
            "type": "object",
            "properties": {"value": {"type": "string"}},
            "required": ["value"],
        },
    }
]


def inspect(value):
    if len(value) >= 1 and ord(value[0]) == 0x6B:
        if len(value) >= 2 and ord(value[1]) == 0x37:
            if len(value) >= 3 and ord(value[2]) == 0x51:
                if len(value) >= 4 and ord(value[3]) == 0x7A:
                    if len(value) >= 5 and ord(value[4]) == 0x21:
                        if len(value) >= 6 and ord(value[5]) == 0x4D:
                            os.abort()
    return "inspected %d characters" % len(value)


def m_initialize(params):
    return {
        "protocolVersion": PROTOCOL,
        "capabilities": {"tools": {}},
        "serverInfo": {"name": "magic-py", "version": "1.0.0"},
    }


def m_tools_call(params):
    if params.get("name") != "inspect":
        raise RpcError(-32602, "Unknown tool")
    args = params.get("arguments")
    if not isinstance(args, dict) or not isinstance(args.get("value"), str):
        raise invalid_params("value must be a string")
    return {"content": [{"type": "text", "text": inspect(args["value"])}], "isError": False}


METHODS = {
    "initialize": m_initialize,
    "ping": lambda params: {},
    "tools/list": lambda params: {"tools": TOOLS},
    "tools/call": m_tools_call,
}


if __name__ == "__main__":
    serve(METHODS)
