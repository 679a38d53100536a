"""The agent's request/response protocol, shared by the stdio worker and by Pyodide.

A request is ``{"id": <int>, "method": <str>, "params": {...}}`` (params optional); the answer is
``{"id": <same>, "result": {...}}`` or ``{"id": <same>, "error": {"code", "message", ...}}`` (error
codes in :mod:`pyxray.errors`; the id is null when the request had no usable one). :func:`handle`
never raises: a bug in a method becomes an ``AGENT_ERROR`` with its traceback.

Methods: ``info``, ``compile``, ``parse`` (:mod:`pyxray.compiler`), ``measure``
(:mod:`pyxray._measure`: timing, executed instructions, adaptive code), ``ping`` and ``shutdown``.
Later capabilities add theirs to :data:`METHODS`.

The TypeScript side calls :func:`handle_json` directly inside Pyodide (one JSON string in, one
out); the worker (:mod:`pyxray.worker`) calls :func:`handle_line` for each line of stdin.
"""

from __future__ import annotations

import json
import sys

from . import __version__, jsonline
from .astjson import allow_depth
from .compiler import compile_method, magic_number, parse_method
from .errors import AgentError, agent_error, bad_request

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is for type checkers only: importing it would slow the worker's start
    from typing import Any, Callable, Dict

    #: A method takes the request's params and returns the result object, or raises AgentError.
    Method = Callable[[Dict[str, Any]], Dict[str, Any]]

_IMPLEMENTATIONS = {"cpython": "CPython", "pypy": "PyPy", "graalpy": "GraalPy"}


def info() -> dict[str, Any]:
    """What the interpreter is: implementation, version, bytecode magic number, executable."""
    v = sys.version_info
    name = sys.implementation.name
    return {
        "implementation": _IMPLEMENTATIONS.get(name, name),
        "version": "{}.{}.{}".format(v.major, v.minor, v.micro),
        "versionInfo": [v.major, v.minor, v.micro, v.releaselevel, v.serial],
        "magic": magic_number(),
        "executable": sys.executable,
        "platform": sys.platform,
        "agent": __version__,
    }


def _info_method(params: dict[str, Any]) -> dict[str, Any]:
    return info()


def _empty_method(params: dict[str, Any]) -> dict[str, Any]:
    """``ping`` and ``shutdown`` answer ``{}`` (the worker exits after answering shutdown)."""
    return {}


def _measure_method(params: dict[str, Any]) -> dict[str, Any]:
    """``measure`` (:mod:`pyxray._measure`), imported on first use: most workers never run code."""
    from ._measure import measure_method

    return measure_method(params)


#: Every method the agent answers, by name.
METHODS: dict[str, Method] = {
    "info": _info_method,
    "compile": compile_method,
    "parse": parse_method,
    "measure": _measure_method,
    "ping": _empty_method,
    "shutdown": _empty_method,
}


def _request_id(request: Any) -> int | None:
    """The request's id when it is an integer (bools are not), else None."""
    if isinstance(request, dict):
        value = request.get("id")
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def _dispatch(request: Any) -> dict[str, Any]:
    """Validates the request and runs its method; raises AgentError for anything it refuses."""
    if not isinstance(request, dict):
        raise bad_request("a request must be a JSON object")
    if _request_id(request) is None:
        raise bad_request("request.id must be an integer")
    method = request.get("method")
    if not isinstance(method, str):
        raise bad_request("request.method must be a string")
    params = request.get("params", {})
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise bad_request("request.params must be an object")
    handler = METHODS.get(method)
    if handler is None:
        raise AgentError("UNKNOWN_METHOD", "unknown method {!r}".format(method), method=method)
    return handler(params)


def handle(request: Any) -> dict[str, Any]:
    """Answers one request (a decoded JSON object). Never raises (except KeyboardInterrupt and
    SystemExit, which are not ours to swallow)."""
    request_id = _request_id(request)
    try:
        return {"id": request_id, "result": _dispatch(request)}
    except AgentError as exc:
        return {"id": request_id, "error": exc.to_json()}
    except Exception as exc:  # a bug in a method: report it instead of dying
        return {"id": request_id, "error": agent_error(exc).to_json()}


def encode(response: dict[str, Any]) -> str:
    """One response as one line of ASCII JSON (lone surrogates and non-ASCII text are escaped,
    so the line is valid UTF-8 whatever the source contained); any nesting depth."""
    with allow_depth():  # lets the fast C encoder handle deeper trees before the fallback
        return jsonline.dumps(response)


def handle_line(line: str) -> tuple[str, bool]:
    """Answers one JSON line; returns the response line (without newline) and whether the
    request was a successful ``shutdown``."""
    try:
        request = json.loads(line)
    except (ValueError, TypeError, RecursionError) as exc:  # not JSON, not a string, absurdly nested
        response: dict[str, Any] = {"id": None, "error": bad_request("not valid JSON: {}".format(exc)).to_json()}
        return encode(response), False
    response = handle(request)
    try:
        text = encode(response)
    except Exception as exc:  # an unencodable result is a bug of ours
        text = encode({"id": response.get("id"), "error": agent_error(exc).to_json()})
    stop = isinstance(request, dict) and request.get("method") == "shutdown" and "result" in response
    return text, stop


def handle_json(line: str) -> str:
    """Answers one JSON request string with one JSON response string (the Pyodide entry point)."""
    return handle_line(line)[0]
