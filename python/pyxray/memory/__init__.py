"""Memory investigations: leak checks, deep sizes, retention paths, line-level memory and type
growth, stdlib only (tracemalloc, gc, sys.settrace).

- :func:`leak_check` -- steady growth over repeated runs, by line and traceback, with a verdict;
- :func:`deep_size` -- an object and everything it owns, each object once, by type;
- :func:`why_alive` -- the shortest reference chain from a root (global, class attribute, local);
- :func:`memory_lines` / :func:`measure_lines` -- net and peak bytes per line of a function;
- :func:`type_growth` / :func:`type_counts` -- objects per type between two points.

``python -m pyxray.memory`` runs them on a script and writes a memory document (JSON).
"""

from __future__ import annotations

from ._common import MemoryToolError
from ._growth import GrowthReport, type_counts, type_growth
from ._leaks import LeakCheck, LeakReport, leak_check
from ._lines import LinesReport, measure_lines, memory_lines
from ._path import RetentionPath, why_alive
from ._size import SizeReport, deep_size

__all__ = [
    "GrowthReport",
    "LeakCheck",
    "LeakReport",
    "LinesReport",
    "MemoryToolError",
    "RetentionPath",
    "SizeReport",
    "deep_size",
    "leak_check",
    "measure_lines",
    "memory_lines",
    "type_counts",
    "type_growth",
    "why_alive",
]
