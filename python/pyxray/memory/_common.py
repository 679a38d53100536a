"""What the memory tools share: their error type, tracemalloc set-up and own-file filters, and
helpers to name types and show source lines."""

from __future__ import annotations

import linecache
import os
import tracemalloc

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is for type checkers only
    from types import TracebackType
    from typing import List, Optional, Type

#: The folder of the pyxray package: allocations made by its files are the tool's own.
PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class MemoryToolError(Exception):
    """Bad input to a memory tool: a stable ``code`` and a message saying what to do.

    Codes: ``BAD_ARGUMENT`` (an option out of range), ``SCRIPT_NOT_FOUND``, ``BAD_EXPRESSION``
    (a --call, --setup or size expression that does not compile or raises), ``SCRIPT_ERROR`` (the
    script raised), ``NOT_FOUND`` (no function of that name), ``UNKNOWN_TYPE`` (no class of that
    name exists after the script ran), ``MONITORING_BUSY`` (all six sys.monitoring tool ids are
    held by other tools, so ``mem lines`` cannot attach on 3.12+), ``MEMORY_BUSY`` (``mem lines``
    asked for engine "monitoring-c" while a profile measures memory with the C engine).
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def own_filters() -> List[tracemalloc.Filter]:
    """tracemalloc filters hiding the tool's own allocations (pyxray's files, tracemalloc's)."""
    return [
        tracemalloc.Filter(False, os.path.join(PACKAGE_DIR, "*")),
        tracemalloc.Filter(False, tracemalloc.__file__),
        tracemalloc.Filter(False, "<unknown>"),
    ]


def is_own_file(filename: str) -> bool:
    """Whether ``filename`` belongs to pyxray itself."""
    return filename.startswith(PACKAGE_DIR + os.sep)


class Tracing:
    """Starts tracemalloc (keeping ``frames`` frames per allocation) unless it already runs; stops
    it on exit only if it started it."""

    def __init__(self, frames: int = 1) -> None:
        self.frames = frames
        self.started = False

    def __enter__(self) -> Tracing:
        if not tracemalloc.is_tracing():
            tracemalloc.start(self.frames)
            self.started = True
        return self

    def __exit__(self, t: Optional[Type[BaseException]], e: Optional[BaseException], tb: Optional[TracebackType]) -> None:
        if self.started:
            tracemalloc.stop()
            self.started = False


def type_name(t: type) -> str:
    """``qualname`` for builtins, ``module.qualname`` otherwise (``collections.OrderedDict``)."""
    module = getattr(t, "__module__", None)
    qualname = getattr(t, "__qualname__", t.__name__)
    return qualname if module in (None, "builtins") else "{}.{}".format(module, qualname)


def source_line(filename: str, line: int) -> str:
    """The stripped text of a source line, '' when unknown."""
    return linecache.getline(filename, line).strip()


def format_bytes(n: float) -> str:
    """``512 B``, ``2.1 KiB``, ``-3.0 MiB``: binary units, one decimal."""
    sign = "-" if n < 0 else ""
    n = abs(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return "{}{:.0f} {}".format(sign, n, unit) if unit == "B" else "{}{:.1f} {}".format(sign, n, unit)
        n /= 1024
    return "{}{} B".format(sign, n)  # pragma: no cover - the loop always returns
