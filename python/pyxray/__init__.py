"""pyxray's Python agent: stdlib only, CPython 3.8-3.14 (also inside Pyodide).

The TypeScript toolkit talks to it through :mod:`pyxray.protocol` (JSON requests), either over
stdio with :mod:`pyxray.worker` or by calling :func:`pyxray.protocol.handle_json` in Pyodide.

The profiler (:mod:`pyxray.profiler`) is exported here -- ``from pyxray import Profiler, profile``
-- and imported on first use, so the worker's start-up does not pay for it.
"""

from __future__ import annotations

__version__ = "0.1.0"

#: Names exported from :mod:`pyxray.profiler`, loaded lazily (PEP 562).
_PROFILER_EXPORTS = ("Profiler", "ProfilerError", "ProfilerWarning", "profile")
#: Names exported from :mod:`pyxray.memory` (memory investigations), loaded lazily too.
_MEMORY_EXPORTS = ("leak_check", "deep_size", "why_alive", "memory_lines", "measure_lines", "type_growth", "type_counts", "MemoryToolError")

__all__ = ["__version__", *_PROFILER_EXPORTS, *_MEMORY_EXPORTS]


def __getattr__(name: str) -> object:
    if name in _PROFILER_EXPORTS:
        from . import profiler

        return getattr(profiler, name)
    if name in _MEMORY_EXPORTS:
        from . import memory

        return getattr(memory, name)
    raise AttributeError("module 'pyxray' has no attribute {!r}".format(name))
