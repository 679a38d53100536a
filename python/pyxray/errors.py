"""Errors the agent reports to its client, and how Python exceptions become their JSON details.

Every error response carries ``{"code": ..., "message": ...}`` plus details that depend on the code:

- ``BAD_REQUEST``: the line is not JSON, not an object, or its id, method or params are malformed.
- ``UNKNOWN_METHOD``: the method is not one the agent knows (``method`` names it).
- ``SYNTAX_ERROR``: the source does not parse (``type``, ``filename``, ``lineno``, ``offset``,
  ``end_lineno``, ``end_offset``, ``text``; positions as CPython reports them, null when absent).
- ``COMPILE_ERROR``: any other exception while compiling or parsing (``type`` names it), such as
  ValueError for null bytes (a SyntaxError from 3.12 and late 3.11 patches), RecursionError or
  MemoryError for deeply nested code.
- ``RUN_ERROR``: the user's code raised while ``measure`` ran it (``subject``, ``phase``, ``type``,
  ``traceback`` of the user's frames).
- ``AGENT_ERROR``: a bug in the agent (``type`` and ``traceback``).

The profiler's API raises :class:`ProfilerError` (exported as ``pyxray.ProfilerError``).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is for type checkers only: importing it would slow the worker's start
    from typing import Any, Dict

    #: The JSON object of an error response's ``error`` member.
    ErrorBody = Dict[str, Any]


class AgentError(Exception):
    """An error the agent answers with: a stable ``code``, a message and JSON-able details."""

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    def to_json(self) -> ErrorBody:
        """The ``error`` member of the response: code, message, then the details."""
        body: ErrorBody = {"code": self.code, "message": self.message}
        body.update(self.details)
        return body


class ProfilerError(RuntimeError):
    """A profiler used the wrong way or blocked by another profiler. ``code`` is one of
    ``PROFILER_RUNNING`` (started twice), ``PROFILER_NOT_RUNNING`` (stopped before it started),
    ``PROFILER_CONFLICT`` (another profiler holds the interpreter's hook), ``PROFILER_UNSUPPORTED``
    (this interpreter cannot do what was asked), ``PROFILER_ACCEL_UNAVAILABLE`` (the C engine was
    required -- ``accel="on"``, ``PYXRAY_ACCEL=1`` -- and cannot be built or loaded here). The
    message starts with the code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__("{}: {}".format(code, message))
        self.code = code


def bad_request(message: str) -> AgentError:
    """A malformed request (not JSON, wrong types, invalid parameter values)."""
    return AgentError("BAD_REQUEST", message)


def _int_or_none(value: object) -> int | None:
    """``value`` when it is a plain int, else None (SyntaxError fields may be unset or odd)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str_or_none(value: object) -> str | None:
    """``value`` when it is a str, else None."""
    return value if isinstance(value, str) else None


def syntax_error(exc: SyntaxError, filename: str | None = None) -> AgentError:
    """A ``SYNTAX_ERROR`` with every position CPython gives; ``end_*`` are null before 3.10.

    ``filename`` stands in when the exception has none (3.12+ raises "source code string cannot
    contain null bytes" without one)."""
    return AgentError(
        "SYNTAX_ERROR",
        _str_or_none(exc.msg) or str(exc),
        type=type(exc).__name__,
        filename=_str_or_none(exc.filename) or filename,
        lineno=_int_or_none(exc.lineno),
        offset=_int_or_none(exc.offset),
        end_lineno=_int_or_none(getattr(exc, "end_lineno", None)),
        end_offset=_int_or_none(getattr(exc, "end_offset", None)),
        text=_str_or_none(exc.text),
    )


def compile_error(exc: BaseException) -> AgentError:
    """A ``COMPILE_ERROR`` for a non-syntax exception raised by compile() or ast.parse()."""
    return AgentError("COMPILE_ERROR", str(exc) or type(exc).__name__, type=type(exc).__name__)


def agent_error(exc: BaseException) -> AgentError:
    """An ``AGENT_ERROR`` (a bug on our side) with the traceback, so the client can show it."""
    import traceback  # only needed on this rare path; keeps the worker's start-up imports small

    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return AgentError(
        "AGENT_ERROR",
        "{}: {}".format(type(exc).__name__, exc),
        type=type(exc).__name__,
        traceback=text,
    )
