"""The CPython versions the agent supports, and the version facts it acts on, in one place.

:data:`SUPPORTED_MINORS` must equal ``SUPPORTED_MINORS`` of ``src/versions/index.ts`` (a test
compares them). Code asks about a named fact (``HAS_MONITORING``), not about ``sys.version_info``.
Python 2 cannot import this package at all; the TypeScript side refuses unsupported interpreters
before it starts the agent.
"""

from __future__ import annotations

import builtins
import sys

#: Python 3 minor versions the agent supports, oldest first (as src/versions/index.ts).
SUPPORTED_MINORS = (8, 9, 10, 11, 12, 13, 14, 15)

#: Minor versions the C engine (``_accel.c``) was checked against: every #if and every object
#: layout it touches (int digits, floats, lists, thread states) read in that version's headers,
#: and its profiles compared with cProfile's call counts. Other versions run the Python engine.
ACCEL_VERIFIED_MINORS = (8, 9, 10, 11, 12, 13, 14, 15)

#: This interpreter's minor version.
MINOR = sys.version_info[1]

#: 3.9: ``tracemalloc.reset_peak`` exists (3.8 peaks are the highest level seen at events).
HAS_RESET_PEAK = sys.version_info >= (3, 9)

#: 3.9: ``__main__``'s ``__file__`` and code filenames of a script are absolute paths.
MAIN_FILE_IS_ABSOLUTE = sys.version_info >= (3, 9)

#: 3.11: code objects carry ``co_qualname``.
HAS_QUALNAME = sys.version_info >= (3, 11)

#: 3.11: the adaptive interpreter specialises bytecode in place (``co_code`` vs ``_co_code_adaptive``).
HAS_ADAPTIVE = sys.version_info >= (3, 11)

#: 3.12: ``sys.monitoring`` (PEP 669); before it, trace mode uses ``sys.setprofile``. Asked of the
#: interpreter itself rather than of its version, as a build may leave it out.
HAS_MONITORING = hasattr(sys, "monitoring")


#: 3.15: ``frozendict`` (PEP 814), which the standard library uses for some of its tables; it is
#: not a dict subclass, so code that walks objects asks ``isinstance(x, MAPPINGS)``.
FROZENDICT: type | None = getattr(builtins, "frozendict", None)

#: The builtin mapping types whose items an object walk follows (dict, and frozendict on 3.15+).
MAPPINGS: tuple[type, ...] = (dict,) if FROZENDICT is None else (dict, FROZENDICT)


def minors_text(minors: tuple[int, ...]) -> str:
    """Minor versions as people write them: ``"3.8-3.15"`` when consecutive, else ``"3.8, 3.10"``
    (``"none"`` for none)."""
    if not minors:
        return "none"
    if len(minors) > 2 and list(minors) == list(range(minors[0], minors[-1] + 1)):
        return "3.{}-3.{}".format(minors[0], minors[-1])
    return ", ".join("3.{}".format(m) for m in minors)


def supported_text() -> str:
    """The supported range as people write it: ``"3.8-3.15"``."""
    return minors_text(SUPPORTED_MINORS)
