#!/usr/bin/env python3
"""Magic-value MCP server: a coverage benchmark fixture for mcpfuzz (standard library only).

Newline-delimited JSON-RPC 2.0 on stdin/stdout: initialize, notifications/initialized,
ping, tools/list and tools/call with one tool, `inspect {value: string}`. The handler
compares the value with a six-character secret one character at a time in nested ifs,
each on its own line, so that a coverage-guided fuzzer sees every extra matching
character as new coverage. A value that starts with all six characters makes the
process abort (SIGABRT). The secret is built from character codes and appears in no
schema, description or reply. Every other input gets a normal reply.
"""

import json
import os
import sys

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


def handle(msg):
    if not isinstance(msg, dict):
        return {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "Invalid Request"}}
    method = msg.get("method")
    msg_id = msg.get("id")
    if "id" not in msg:
        return None  # notifications
    params = msg.get("params") if isinstance(msg.get("params"), dict) else {}
    if method == "initialize":
        reply = {
            "protocolVersion": PROTOCOL,
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "magic-py", "version": "1.0.0"},
        }
    elif method == "ping":
        reply = {}
    elif method == "tools/list":
        reply = {"tools": TOOLS}
    elif method == "tools/call" and params.get("name") == "inspect":
        args = params.get("arguments")
        if isinstance(args, dict) and isinstance(args.get("value"), str):
            reply = {"content": [{"type": "text", "text": inspect(args["value"])}], "isError": False}
        else:
            reply = {"content": [{"type": "text", "text": "value must be a string"}], "isError": True}
    elif method == "tools/call":
        return {"jsonrpc": "2.0", "id": msg_id, "error": {"code": -32602, "message": "Unknown tool"}}
    else:
        return {"jsonrpc": "2.0", "id": msg_id, "error": {"code": -32601, "message": "Method not found"}}
    return {"jsonrpc": "2.0", "id": msg_id, "result": reply}


def main():
    while True:
        line = sys.stdin.readline()
        if not line:
            return 0
        if not line.strip():
            continue
        try:
            msg = json.loads(line)
        except ValueError:
            msg = None
            reply = {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}}
        else:
            reply = handle(msg)
        if reply is not None:
            sys.stdout.write(json.dumps(reply, separators=(",", ":")) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
