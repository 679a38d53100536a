"""pyxray's Python agent: stdlib only, CPython 3.8-3.15 (also inside Pyodide; the versions are
:data:`pyxray._versions.SUPPORTED_MINORS`).

The TypeScript toolkit talks to it through :mod:`pyxray.protocol` (JSON requests), either over
stdio with :mod:`pyxray.worker` or by calling :func:`pyxray.protocol.handle_json` in Pyodide.

The profiler (:mod:`pyxray.profiler`) is exported here -- ``from pyxray import Profiler, profile``
-- and imported on first use, so the worker's start-up does not pay for it.
"""

import sys

# This file alone is written for any Python (no annotations, no f-strings), so that an old
# interpreter importing the agent is told why it cannot instead of failing on the syntax of the
# modules below (which need 3.8: ``from __future__ import annotations``, ``:=``...).
if sys.version_info < (3, 8):
    raise ImportError(
        "pyxray's agent needs CPython 3.8 or newer; this is Python {}.{}.{}: run it with a newer interpreter "
        "(pyxray --python 3.X)".format(*sys.version_info[:3])
    )

__version__ = "0.1.0"

#: Names exported from :mod:`pyxray.profiler`, loaded lazily (PEP 562).
_PROFILER_EXPORTS = ("Profiler", "ProfilerError", "ProfilerWarning", "profile")
#: Names exported from :mod:`pyxray.memory` (memory investigations), loaded lazily too.
_MEMORY_EXPORTS = ("leak_check", "deep_size", "why_alive", "memory_lines", "measure_lines", "type_growth", "type_counts", "MemoryToolError")

__all__ = ["__version__"] + list(_PROFILER_EXPORTS) + list(_MEMORY_EXPORTS)


def load_ipython_extension(ipython):  # type: (object) -> None
    """``%load_ext pyxray``: the ``%pyxray`` / ``%%pyxray`` magics (see :mod:`pyxray._jupyter`;
    IPython is imported there, so the agent itself needs only the standard library)."""
    from ._jupyter import load

    load(ipython)


def __getattr__(name):  # type: (str) -> object
    if name in _PROFILER_EXPORTS:
        from . import profiler

        return getattr(profiler, name)
    if name in _MEMORY_EXPORTS:
        from . import memory

        return getattr(memory, name)
    raise AttributeError("module 'pyxray' has no attribute {!r}".format(name))
