"""Strict JSON lines for the testbed servers (demo_server.py, leaky_server.py,
coverage/magic_server.py).

One JSON-RPC message per line: parse_json() accepts only strict JSON (UTF-8, no
NaN/Infinity, no trailing data, no lone UTF-16 surrogate escapes), keeps every number's
spelling so that an id is echoed byte for byte, and the *_line() helpers build compact,
ASCII-only replies. serve() is a whole JSON-RPC 2.0 loop over stdin/stdout (requests,
notifications, batches, every Invalid Request case) around a table of method handlers.
Standard library only; not a program of its own.
"""

import json
import os
import re
import sys


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


def dumps(value, **extra):
    """Compact, ASCII-only JSON; `extra` goes to json.dumps (e.g. sort_keys=True)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=True, allow_nan=False, **extra)


def id_json(request_id):
    """The JSON text of a reply's id: the request's id exactly as it was received."""
    if request_id is None:
        return "null"
    if isinstance(request_id, (RawInt, RawFloat)):
        return request_id.raw
    return dumps(request_id)


def result_line(request_id, result, render_id=id_json):
    """A result reply; `render_id` turns the id into JSON text (default: id_json)."""
    return '{"jsonrpc":"2.0","id":%s,"result":%s}' % (render_id(request_id), dumps(result))


def error_line(request_id, code, message, data=None, render_id=id_json):
    """An error reply, with `data` when it is not None."""
    error = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return '{"jsonrpc":"2.0","id":%s,"error":%s}' % (render_id(request_id), dumps(error))


class RpcError(Exception):
    """Raised by a method handler: answered as a JSON-RPC error."""

    def __init__(self, code, message):
        Exception.__init__(self, message)
        self.code = code
        self.message = message


def invalid_params(message):
    return RpcError(-32602, "Invalid params: " + message)


def write_line(text):
    """Writes one reply line; exits quietly once stdout is closed."""
    try:
        sys.stdout.buffer.write(text.encode("ascii") + b"\n")
        sys.stdout.buffer.flush()
    except (BrokenPipeError, ValueError, OSError):
        sys.stderr.write("stdout closed; exiting\n")
        os._exit(0)


def valid_id(value):
    return isinstance(value, (str, float)) or (isinstance(value, int) and not isinstance(value, bool))


def handle_message(message, methods):
    """The reply text for one decoded message, or None. `methods` maps a method name to
    a handler taking the params object and returning the result (or raising RpcError)."""
    if not isinstance(message, dict):
        return error_line(None, -32600, "Invalid Request")
    has_id = "id" in message
    request_id = message.get("id")
    reply_id = request_id if has_id and valid_id(request_id) else None
    if "method" not in message:
        if "result" in message or "error" in message:
            return None  # a reply from the client; these servers never ask anything
        return error_line(reply_id, -32600, "Invalid Request: no method")
    method = message["method"]
    if message.get("jsonrpc") != "2.0" or not isinstance(message.get("jsonrpc"), str):
        return error_line(reply_id, -32600, 'Invalid Request: jsonrpc must be "2.0"')
    if not isinstance(method, str):
        return error_line(reply_id, -32600, "Invalid Request: method must be a string")
    if not has_id:
        return None  # a notification: never answered
    if not valid_id(request_id):
        return error_line(None, -32600, "Invalid Request: id must be a string or a number")
    params = message.get("params")
    if "params" in message and not isinstance(params, (dict, list)):
        return error_line(request_id, -32600, "Invalid Request: params must be an object or an array")
    handler = methods.get(method)
    if handler is None:
        return error_line(request_id, -32601, "Method not found")
    if params is None:
        params = {}
    if not isinstance(params, dict):
        return error_line(request_id, -32602, "Invalid params: params must be an object")
    try:
        return result_line(request_id, handler(params))
    except RpcError as exc:
        return error_line(request_id, exc.code, exc.message)


def handle_line(line, methods):
    """Answers one line of input: a message, a batch, or a parse error."""
    data = line.strip(b" \t\r\n")
    if not data:
        return
    try:
        message = parse_json(data)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        write_line(error_line(None, -32700, "Parse error"))
        return
    if isinstance(message, list):
        if not message:
            write_line(error_line(None, -32600, "Invalid Request: empty batch"))
            return
        replies = [reply for reply in (handle_message(m, methods) for m in message) if reply is not None]
        if replies:
            write_line("[" + ",".join(replies) + "]")
        return
    reply = handle_message(message, methods)
    if reply is not None:
        write_line(reply)


def serve(methods):
    """Answers stdin line by line until it ends."""
    stdin = sys.stdin.buffer
    while True:
        line = stdin.readline()
        if not line:
            return
        handle_line(line, methods)
