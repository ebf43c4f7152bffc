"""Strict JSON lines for the testbed servers (demo_server.py, leaky_server.py).

One JSON-RPC message per line: parse_json() accepts only strict JSON (UTF-8, no
NaN/Infinity, no trailing data, no lone UTF-16 surrogate escapes), keeps every number's
spelling so that an id is echoed byte for byte, and the *_line() helpers build compact,
ASCII-only replies. Standard library only; not a program of its own.
"""

import json
import re


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
