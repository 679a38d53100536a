"""Compact ASCII JSON for response lines, including very deeply nested ones (syntax trees).

The C encoder of the json module is fast but recursive: it stops at the recursion limit (and on
3.12 at a fixed C recursion limit), and json's pure-Python encoder is recursive too, and slow on
deep data (each chunk climbs through one generator per level). Deep trees are rare, so the C
encoder does the work and an explicit-stack encoder takes over when it gives up.

Inside Pyodide the C encoder's recursion is not stopped in time: a few thousand levels exhaust the
JavaScript stack and kill the interpreter (CPython's guard watches the WebAssembly stack, not the
engine's). There the explicit-stack encoder always does the work (about 4x slower than the C one:
~10 ms for the syntax tree of a 500-line module).
"""

from __future__ import annotations

import json
import sys
from json.encoder import encode_basestring_ascii
TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is for type checkers only: importing it would slow the worker's start
    from typing import Any

_IN_PYODIDE = sys.platform == "emscripten"
_ENCODER = json.JSONEncoder(ensure_ascii=True, allow_nan=False, separators=(",", ":"))


def dumps(value: Any) -> str:
    """``value`` (dicts with str keys, lists, tuples, str, int, float, bool, None) as compact
    JSON with every non-ASCII character escaped; NaN and infinities are refused (ValueError)."""
    if _IN_PYODIDE:
        return _dumps_iteratively(value)
    try:
        return _ENCODER.encode(value)
    except RecursionError:
        return _dumps_iteratively(value)


def _scalar(value: Any) -> str:
    """A JSON scalar, written as the json module writes it."""
    if isinstance(value, str):
        return encode_basestring_ascii(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("out of range float values are not JSON compliant: {!r}".format(value))
        return float.__repr__(value)
    raise TypeError("object of type {} is not JSON serializable".format(type(value).__name__))


def _dumps_iteratively(value: Any) -> str:
    """The same text as :func:`dumps`, with a work list instead of recursion (any depth)."""
    out: list[str] = []
    # Work items, taken from the end: (True, text to copy) or (False, a value to encode).
    todo: list[tuple[bool, Any]] = [(False, value)]
    while todo:
        is_text, item = todo.pop()
        if is_text:
            out.append(item)
        elif isinstance(item, dict):
            out.append("{")
            todo.append((True, "}"))
            entries = list(item.items())
            for index in range(len(entries) - 1, -1, -1):
                key, member = entries[index]
                if not isinstance(key, str):
                    raise TypeError("keys must be str, not {}".format(type(key).__name__))
                todo.append((False, member))
                todo.append((True, ("," if index else "") + encode_basestring_ascii(key) + ":"))
        elif isinstance(item, (list, tuple)):
            out.append("[")
            todo.append((True, "]"))
            for index in range(len(item) - 1, -1, -1):
                todo.append((False, item[index]))
                if index:
                    todo.append((True, ","))
        else:
            out.append(_scalar(item))
    return "".join(out)
