"""``ast`` nodes as JSON, losslessly: everything ``ast.dump(node, include_attributes=True)`` shows.

A node becomes ``{"_type": "Name", <each field in _fields>: ..., <each attribute in _attributes
that is set>: ...}``. The conversion is generic over ``_fields``/``_attributes``, so every node type
of every version is covered (3.8's Index/ExtSlice, 3.10's match patterns, 3.12's type parameters,
3.14's TemplateStr/Interpolation...). Lists become arrays, None becomes null, and context nodes
come out as ``{"_type": "Load"}``.

Constant values that JSON cannot carry exactly are tagged objects (see :func:`constant_to_json`):
str, bool, None and ints within +-2**53 stay plain JSON.
"""

from __future__ import annotations

import ast
import sys
from contextlib import contextmanager
TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is for type checkers only: importing it would slow the worker's start
    from typing import Any, Iterator

#: The largest magnitude an IEEE double (a JavaScript number) holds exactly as an integer.
SAFE_INTEGER = 2**53

#: The recursion limit while converting and encoding a tree (see allow_depth).
DEEP_RECURSION_LIMIT = 6000

_MISSING = object()


def node_to_json(node: ast.AST) -> dict[str, Any]:
    """One node and everything below it, as JSON-able dicts and lists.

    This recurses once per tree level (lists are walked in place, not by a helper), so that deep
    trees need as few frames as possible; run it under :func:`allow_depth`. A RecursionError
    means the tree is too deep to convert (the caller reports it).
    """
    out: dict[str, Any] = {"_type": type(node).__name__}
    for name in node._fields:
        value = getattr(node, name, None)
        if isinstance(value, ast.AST):
            out[name] = node_to_json(value)
        elif isinstance(value, list):
            items = []  # a loop, not a comprehension: before 3.12 that would be one more frame
            for item in value:
                items.append(node_to_json(item) if isinstance(item, ast.AST) else constant_to_json(item))
            out[name] = items
        else:
            out[name] = constant_to_json(value)
    for name in node._attributes:
        value = getattr(node, name, _MISSING)
        if value is not _MISSING:
            out[name] = constant_to_json(value)
    return out


@contextmanager
def allow_depth(levels: int = DEEP_RECURSION_LIMIT) -> Iterator[None]:
    """Raises the recursion limit to at least ``levels`` for a while: converting a tree (and
    encoding its JSON) takes one to two frames per tree level, and CPython's parser accepts trees
    deeper than the default limit of 1000."""
    previous = sys.getrecursionlimit()
    if previous < levels:
        sys.setrecursionlimit(levels)
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)


def constant_to_json(value: Any) -> Any:
    """A constant, tagged with ``_const`` when plain JSON would lose or change it.

    - ``{"_const": "int", "value": "<decimal>"}`` for ints beyond +-2**53;
    - ``{"_const": "float", "repr": "1e+16"}`` for every float (nan, inf and -0.0 survive);
    - ``{"_const": "complex", "real": "<float repr>", "imag": "<float repr>"}``;
    - ``{"_const": "bytes", "hex": "00ff"}``;
    - ``{"_const": "ellipsis"}``;
    - ``{"_const": "tuple" | "frozenset", "items": [...]}`` (constant folding can produce these);
    - ``{"_const": "other", "type": "<type name>", "repr": "..."}`` for anything else.
    """
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, int):
        if -SAFE_INTEGER <= value <= SAFE_INTEGER:
            return value
        return {"_const": "int", "value": int_to_decimal(value)}
    if isinstance(value, float):
        return {"_const": "float", "repr": repr(value)}
    if isinstance(value, complex):
        return {"_const": "complex", "real": repr(value.real), "imag": repr(value.imag)}
    if isinstance(value, bytes):
        return {"_const": "bytes", "hex": value.hex()}
    if value is Ellipsis:
        return {"_const": "ellipsis"}
    if isinstance(value, tuple):
        return {"_const": "tuple", "items": [constant_to_json(item) for item in value]}
    if isinstance(value, frozenset):
        return {"_const": "frozenset", "items": [constant_to_json(item) for item in value]}
    return {"_const": "other", "type": type(value).__name__, "repr": repr(value)}


def int_to_decimal(value: int) -> str:
    """``str(value)``, even past the int/str conversion limit of 3.11+ (e.g. a huge hex literal)."""
    try:
        return str(value)
    except ValueError:
        set_limit = getattr(sys, "set_int_max_str_digits", None)
        if set_limit is None:
            raise
        previous = sys.get_int_max_str_digits()  # type: ignore[attr-defined]
        set_limit(0)
        try:
            return str(value)
        finally:
            set_limit(previous)
