"""How much the tracer itself costs per call, measured so it can be subtracted.

Each traced call costs the profiler some time: the callbacks run, read the clock, update the tree.
Part of it falls inside the callee's measured interval (``callee``: after the entry's clock read,
before the exit's), the rest in the caller's self time (``caller``); a folded (hidden) call costs
``hidden``, all of it inside the visible frame that folds it. :func:`measure` finds the three by
running a known workload -- a loop of ``n`` calls to an empty function -- without tracing, traced
with the function visible, and traced with the function folded (library code called by library
code), with the very tracer configuration of the run (mechanism, clock, memory, builtins)::

    per call  = (traced time - plain time) / n
    callee    = the empty function's measured total / n   (its own body takes ~nothing)
    caller    = per call - callee
    hidden    = (traced-and-folded time - plain time) / n
    floor     = (plain time - plain time of the loop without the call) / n * CALLEE_SHARE

``floor`` is no overhead but a lower bound on real work: what calling an empty function costs
without the profiler, the callee's share of it (its frame, RESUME, RETURN). No call of real code
costs less, so the subtraction never takes a node's self time below ``floor`` per call (see
:func:`pyxray._profile_tree.thread_tree`); where it would, the difference is counted as
*clamped* and reported in ``metadata.overhead``.

Each is the minimum over a few repetitions (noise on a loaded machine only ever adds time). The
result is cached per interpreter (``sys.version`` + ``sys.executable``) and configuration in
``overhead.json`` under the user cache folder (``$PYXRAY_CACHE_DIR``, else
``$XDG_CACHE_HOME/pyxray`` or ``~/.cache/pyxray``, ``~/Library/Caches/pyxray`` on macOS,
``%LOCALAPPDATA%\\pyxray\\Cache`` on Windows); ``PYXRAY_NO_CACHE=1`` turns the cache off, and the
profiler's ``overhead=`` option chooses between cached, fresh, none and a given value.

The estimate is an average: callbacks cost more when they create a node or meet a new code object,
and a builtin's CALL/C_RETURN pair costs a little less than a Python call's events. What is
subtracted is stored in the document (``metadata.overhead``) so readers can judge.
"""

from __future__ import annotations

import json
import os
import sys

from . import __version__
from ._files import write_atomic
from ._profile_filter import LIBRARY, OWN, USER, FrameTable
from ._profile_tree import CHILDREN, TOTAL

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is for type checkers only
    from typing import Any, Callable, Dict

    from ._profile_filter import CodeFilter
    from ._profile_trace import Tracer

    Overhead = Dict[str, Any]

#: Bump when the measurement changes, so old cache entries are ignored.
CALIBRATION_VERSION = 2

#: The callee's share of an empty call's un-profiled cost, for ``floor`` (the rest, the CALL
#: instruction and argument handling, runs in the caller).
CALLEE_SHARE = 0.5

_SOURCE = """
def leaf():
    pass

def loop(n):
    f = leaf
    for _ in range(n):
        f()

def bare(n):
    f = leaf
    for _ in range(n):
        f
"""
_USER_FILE = "<pyxray-calibration>"
_LIBRARY_FILE = "<pyxray-calibration-library>"


class _CalibrationFilter:
    """Classifies only the calibration workload: one copy is user code, one library code."""

    def __init__(self, base: CodeFilter) -> None:
        self._base = base
        self.libraries = "first"
        self.folds_libraries = True

    def kind_of_code(self, code: Any) -> int:
        filename = code.co_filename
        return USER if filename == _USER_FILE else LIBRARY if filename == _LIBRARY_FILE else OWN

    def is_library_file(self, filename: str) -> bool:
        return filename == _LIBRARY_FILE

    def builtin_kind(self) -> int:
        return self._base.builtin_kind()


def _workload(filename: str, name: str = "loop") -> Callable[[int], None]:
    namespace: dict[str, Any] = {"__name__": "pyxray_calibration", "__builtins__": __builtins__}
    exec(compile(_SOURCE, filename, "exec"), namespace)
    return namespace[name]  # type: ignore[no-any-return]


def measure_floor(clock: Callable[[], float], n: int = 4000, repeat: int = 5) -> float:
    """``floor`` (clock seconds per call, see the module docstring), without any tracer."""
    loop = _workload(_USER_FILE)
    bare = _workload(_USER_FILE, "bare")

    def best(run: Callable[[int], None]) -> float:
        out = float("inf")
        for _ in range(repeat):
            t0 = clock()
            run(n)
            out = min(out, clock() - t0)
        return out

    return max(0.0, (best(loop) - best(bare)) / n * CALLEE_SHARE)


def measure(make: Callable[..., Tracer], clock: Callable[[], float], base_filter: CodeFilter, *, memory: bool, builtins: bool, n: int = 4000, repeat: int = 5) -> Overhead:
    """Measures ``callee``/``caller``/``hidden``/``floor`` (clock seconds per call) for tracers made by
    ``make(clock, filter, frames, memory=, builtins=)``."""
    user_loop = _workload(_USER_FILE)
    library_loop = _workload(_LIBRARY_FILE)
    cal_filter = _CalibrationFilter(base_filter)

    def plain() -> float:
        t0 = clock()
        user_loop(n)
        return clock() - t0

    def traced(loop: Callable[[int], None]) -> tuple[float, float]:
        tracer = make(clock, cal_filter, FrameTable(cal_filter), memory=memory, builtins=builtins)  # type: ignore[arg-type]
        state = tracer.attach_starter()
        tracer.quiet_root(state, True)  # only the workload is measured
        tracer.install()
        try:
            t0 = clock()
            loop(n)
            elapsed = clock() - t0
        finally:
            tracer.uninstall()
        leaf_total = 0.0
        for node in state.root[CHILDREN].values():  # root -> loop -> leaf (when visible)
            if node is state.root:
                continue
            for leaf in node[CHILDREN].values():
                if leaf is not node:
                    leaf_total += leaf[TOTAL]
        return elapsed, leaf_total

    plain_best = visible_best = hidden_best = float("inf")
    callee_best = float("inf")
    for _ in range(repeat):
        plain_best = min(plain_best, plain())
        elapsed, leaf_total = traced(user_loop)
        if elapsed < visible_best:
            visible_best = elapsed
        callee_best = min(callee_best, leaf_total)
        hidden_best = min(hidden_best, traced(library_loop)[0])
    per_call = max(0.0, (visible_best - plain_best) / n)
    callee = min(per_call, max(0.0, callee_best / n))
    hidden = min(per_call, max(0.0, (hidden_best - plain_best) / n))
    return {"callee": callee, "caller": per_call - callee, "hidden": hidden, "floor": measure_floor(clock, n, repeat)}


def cache_dir() -> str:
    """The folder of pyxray's cache files (see the module docstring)."""
    explicit = os.environ.get("PYXRAY_CACHE_DIR")
    if explicit:
        return explicit
    home = os.path.expanduser("~")
    if sys.platform == "win32":
        return os.path.join(os.environ.get("LOCALAPPDATA") or os.path.join(home, "AppData", "Local"), "pyxray", "Cache")
    if sys.platform == "darwin":
        return os.path.join(home, "Library", "Caches", "pyxray")
    return os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.join(home, ".cache"), "pyxray")


def _cache_file() -> str:
    return os.path.join(cache_dir(), "overhead.json")


def cache_key(mechanism: str, clock_name: str, memory: bool, builtins: bool) -> str:
    return "|".join([
        sys.version.replace("\n", " "), sys.executable or "?", mechanism, clock_name,
        "memory" if memory else "-", "builtins" if builtins else "-",
        "agent " + __version__, "v{}".format(CALIBRATION_VERSION),
    ])  # fmt: skip


def _read_cache() -> dict[str, Any]:
    try:
        with open(_cache_file(), encoding="utf-8") as f:
            data = json.load(f)
        entries = data.get("entries") if isinstance(data, dict) else None
        return entries if isinstance(entries, dict) else {}
    except (OSError, ValueError):
        return {}


def cached(key: str) -> Overhead | None:
    """The cached calibration in nanoseconds, or None."""
    if os.environ.get("PYXRAY_NO_CACHE"):
        return None
    entry = _read_cache().get(key)
    if isinstance(entry, dict) and all(isinstance(entry.get(k), (int, float)) for k in ("calleeNs", "callerNs", "hiddenNs", "floorNs")):
        return entry
    return None


def store(key: str, entry: Overhead) -> None:
    """Adds an entry to the cache file (atomically; a failure to write only loses the cache)."""
    if os.environ.get("PYXRAY_NO_CACHE"):
        return
    try:
        folder = cache_dir()
        os.makedirs(folder, mode=0o700, exist_ok=True)  # private: the C engine's cache is in it too
        entries = _read_cache()
        entries[key] = entry
        write_atomic(_cache_file(), json.dumps({"version": CALIBRATION_VERSION, "entries": entries}, indent=1, sort_keys=True))
    except OSError:
        pass
