"""Untrusted JSON, from the API and from Socket.IO: refused when nested deeper than any of our payloads needs."""

import json

from flask.json.provider import DefaultJSONProvider

DEPTH_MAX = 32  # our deepest request payload (a case study's metrics) is 4 levels; the OpenAPI document we serve is 21


def depth_of(value):
    """How deeply lists and objects nest in `value`, counted without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        elif not isinstance(item, list):
            continue
        deepest = max(deepest, level)
        if level > DEPTH_MAX:
            break
        stack.extend((child, level + 1) for child in item if isinstance(child, (dict, list)))
    return deepest


def bounded_loads(text, **kwargs):
    """json.loads, except that too deep a document is a ValueError like any other invalid one."""
    try:
        data = json.loads(text, **kwargs)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    if depth_of(data) > DEPTH_MAX:
        raise ValueError("JSON nested too deeply")
    return data


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, reading request bodies with bounded_loads: a too deep body is a 400, never a 500."""

    def loads(self, s, **kwargs):
        return bounded_loads(s, **kwargs)


class SocketJSON:
    """The json module python-socketio decodes packets with, bounded the same way."""

    dumps = staticmethod(json.dumps)
    loads = staticmethod(bounded_loads)


ID_MAX = 2**31 - 1  # the largest id an INTEGER column holds; a larger one names no row


def as_id(value):
    """A row id from a JSON number (not a bool, a float or 2**70), or None."""
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    return value if 1 <= value <= ID_MAX else None


def text_or_none(value):
    """User text without NUL characters, or None when it is not text at all."""
    return value.replace("\x00", "") if isinstance(value, str) else None
