"""The ``compile`` and ``parse`` methods: source in, marshal bytes or AST JSON out.

Both take ``source`` (a str) or ``sourceBase64`` (the file's bytes, so that a coding cookie or BOM
is honoured exactly as when CPython compiles a file), plus ``filename`` and ``mode``. Warnings
raised while compiling (SyntaxWarning, DeprecationWarning for invalid escapes...) are returned,
not printed.
"""

from __future__ import annotations

import ast
import base64
import binascii
import marshal
import sys
import warnings
from importlib.util import MAGIC_NUMBER

from .astjson import allow_depth, node_to_json
from .errors import AgentError, bad_request, compile_error, syntax_error

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is for type checkers only: importing it would slow the worker's start
    from typing import Any, Callable, TypeVar

    T = TypeVar("T")


COMPILE_MODES = ("exec", "eval", "single")
PARSE_MODES = ("exec", "eval", "single", "func_type")

#: Inside Pyodide, sources nesting deeper than this are refused before CPython sees them: deeper
#: ones can exhaust the JavaScript stack, which kills the interpreter (see pyxray.nesting).
#: CPython itself refuses much shallower expressions in parentheses (200 levels since 3.12).
PYODIDE_NESTING_LIMIT = 1000


_KIND_NAMES = {str: "a string", int: "an integer", bool: "a boolean"}


def _param(params: dict[str, Any], name: str, kind: type, default: Any) -> Any:
    """``params[name]`` checked against ``kind`` (bool is not an int here); ``default`` when it
    is absent or null."""
    value = params.get(name)
    if value is None:
        return default
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise bad_request("params.{} must be {}".format(name, _KIND_NAMES.get(kind, kind.__name__)))
    return value


def _source(params: dict[str, Any]) -> str | bytes:
    """The source to compile: ``source`` (str) or ``sourceBase64`` (bytes), exactly one."""
    text = _param(params, "source", str, None)
    encoded = _param(params, "sourceBase64", str, None)
    if (text is None) == (encoded is None):
        raise bad_request("give exactly one of params.source and params.sourceBase64")
    if text is not None:
        return text
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise bad_request("params.sourceBase64 is not valid base64: {}".format(exc)) from None


def _mode(params: dict[str, Any], allowed: tuple[str, ...]) -> str:
    mode = _param(params, "mode", str, "exec")
    if mode not in allowed:
        raise bad_request("params.mode must be one of {}".format(", ".join(allowed)))
    return mode


def _check_nesting(source: str | bytes) -> None:
    """In Pyodide, refuse sources deep enough to overflow the JavaScript stack (see above)."""
    if sys.platform != "emscripten":
        return
    from .nesting import nesting_bound_cached  # imports tokenize: only Pyodide pays for it

    depth = nesting_bound_cached(source)
    if depth > PYODIDE_NESTING_LIMIT:
        raise AgentError(
            "COMPILE_ERROR",
            "the code nests too deeply to compile safely in Pyodide "
            "(up to {} levels; the limit is {})".format(depth, PYODIDE_NESTING_LIMIT),
            type="RecursionError",
        )


def _run_compiler(action: Callable[[], T], filename: str) -> tuple[T, list[dict[str, Any]]]:
    """Runs ``action`` (a compile() or ast.parse() call), turning its exceptions into agent errors
    and collecting the warnings it raises as ``{category, message, filename, lineno}``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = action()
        except SyntaxError as exc:  # includes IndentationError and TabError
            raise syntax_error(exc, filename) from None
        except (ValueError, TypeError, OverflowError, RecursionError, MemoryError) as exc:
            raise compile_error(exc) from None
    found: list[dict[str, Any]] = [
        {
            "category": w.category.__name__,
            "message": str(w.message),
            "filename": w.filename if isinstance(w.filename, str) else None,
            "lineno": w.lineno if isinstance(w.lineno, int) else None,
        }
        for w in caught
    ]
    return result, found


def magic_number() -> int:
    """The interpreter's bytecode magic number: the first two bytes of a .pyc, little-endian."""
    return int.from_bytes(MAGIC_NUMBER[:2], "little")


def compile_method(params: dict[str, Any]) -> dict[str, Any]:
    """``compile``: ``{marshal: <base64 of marshal.dumps(code)>, magic, warnings}``.

    Params: ``source`` | ``sourceBase64``, ``filename`` ("<string>"), ``mode`` ("exec"),
    ``optimize`` (-1: the interpreter's own -O level; 0, 1 or 2). Future statements of the agent
    itself never leak in (``dont_inherit=True``).
    """
    source = _source(params)
    filename = _param(params, "filename", str, "<string>")
    mode = _mode(params, COMPILE_MODES)
    optimize = _param(params, "optimize", int, -1)
    if optimize not in (-1, 0, 1, 2):
        raise bad_request("params.optimize must be -1, 0, 1 or 2")
    _check_nesting(source)
    code, found = _run_compiler(lambda: compile(source, filename, mode, dont_inherit=True, optimize=optimize), filename)
    try:
        data = marshal.dumps(code)
    except ValueError as exc:  # "object too deeply nested to marshal" (deeply nested lambdas)
        raise compile_error(exc) from None
    return {
        "marshal": base64.b64encode(data).decode("ascii"),
        "magic": magic_number(),
        "warnings": found,
    }


def parse_method(params: dict[str, Any]) -> dict[str, Any]:
    """``parse``: ``{ast: <node JSON, see pyxray.astjson>, warnings}``.

    Params: ``source`` | ``sourceBase64``, ``filename`` ("<unknown>", as ast.parse), ``mode``
    ("exec"; also "func_type"), ``type_comments`` (false).
    """
    source = _source(params)
    filename = _param(params, "filename", str, "<unknown>")
    mode = _mode(params, PARSE_MODES)
    type_comments = _param(params, "type_comments", bool, False)
    _check_nesting(source)
    tree, found = _run_compiler(lambda: ast.parse(source, filename, mode, type_comments=type_comments), filename)
    try:
        with allow_depth():
            converted = node_to_json(tree)
    except RecursionError:
        raise AgentError(
            "COMPILE_ERROR",
            "the syntax tree nests too deeply to convert to JSON",
            type="RecursionError",
        ) from None
    return {"ast": converted, "warnings": found}
