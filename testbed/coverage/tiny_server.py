#!/usr/bin/env python3
"""Tiny MCP server: a fixture for mcpfuzz's Python coverage bridge (standard library only).

Newline-delimited JSON-RPC 2.0 on stdin/stdout: initialize, notifications/initialized,
ping, tools/list and tools/call with one tool, `probe {text: string}`, whose handler
takes different code paths depending on the text (empty, digits, upper case, long,
`t:` prefix run in a thread, `busy:` prefix spinning for a while, anything else).
Nothing else is ever printed. `main()` is also the entry point of the self-test's
installed copy (console script) and of `python3 -m`.
"""

import json
import sys
import threading
import time

PROTOCOL = "2025-06-18"
TOOLS = [
    {
        "name": "probe",
        "description": "Probes a text",
        "inputSchema": {
            "type": "object",
            "properties": {"text": {"type": "string"}},
            "required": ["text"],
        },
    }
]


def classify_number(text):
    n = int(text)
    if n % 2 == 0:
        kind = "even"
    else:
        kind = "odd"
    if n > 1000:
        kind += ", large"
    return kind


def count_vowels(text):
    total = 0
    for ch in text:
        if ch in "aeiouAEIOU":
            total += 1
    return total


def threaded_worker(text, box):
    if text[2:3] == "a":
        box.append("worker took branch a")
    else:
        box.append("worker took the other branch")


def probe(text):
    if not text:
        return "empty text"
    if text.startswith("t:"):
        box = []
        worker = threading.Thread(target=threaded_worker, args=(text, box))
        worker.start()
        worker.join()
        return box[0]
    if text.startswith("busy:"):
        deadline = time.monotonic() + 0.2
        while time.monotonic() < deadline:
            pass
        return "was busy"
    if text.isdigit():
        return "number: " + classify_number(text)
    if text.isupper():
        return "shouting"
    if len(text) > 8:
        return "long text with %d vowels" % count_vowels(text)
    return "short text"


def result(msg_id, value):
    return {"jsonrpc": "2.0", "id": msg_id, "result": value}


def error(msg_id, code, message):
    return {"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}}


def handle(msg):
    if not isinstance(msg, dict):
        return error(None, -32600, "Invalid Request")
    method = msg.get("method")
    msg_id = msg.get("id")
    is_request = "id" in msg
    if not isinstance(method, str):
        return error(msg_id, -32600, "Invalid Request")
    params = msg.get("params")
    if not isinstance(params, dict):
        params = {}
    if method == "initialize":
        reply = {
            "protocolVersion": PROTOCOL,
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "tiny-py", "version": "1.0.0"},
        }
    elif method == "ping":
        reply = {}
    elif method == "tools/list":
        reply = {"tools": TOOLS}
    elif method == "tools/call":
        args = params.get("arguments")
        if params.get("name") != "probe":
            return error(msg_id, -32602, "Unknown tool")
        if not isinstance(args, dict) or not isinstance(args.get("text"), str):
            reply = {"content": [{"type": "text", "text": "text must be a string"}], "isError": True}
        else:
            reply = {"content": [{"type": "text", "text": probe(args["text"])}], "isError": False}
    elif not is_request:
        return None  # notifications/initialized and any other notification
    else:
        return error(msg_id, -32601, "Method not found")
    return result(msg_id, reply) if is_request else None


def send(msg):
    sys.stdout.write(json.dumps(msg, separators=(",", ":")) + "\n")
    sys.stdout.flush()


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
            send(error(None, -32700, "Parse error"))
            continue
        reply = handle(msg)
        if reply is not None:
            send(reply)


if __name__ == "__main__":
    sys.exit(main())
