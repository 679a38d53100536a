"""Leak check: run code repeatedly under tracemalloc and tell steady growth from noise.

After ``warmup`` runs (caches filling, lazy imports), the traced total is read after every one of
``iterations`` runs (with ``gc.collect()`` before each reading) and snapshots are taken before and
after the measured runs. The verdict is a leak when both

- the net growth per iteration between the snapshots (the tool's own allocations filtered out) is
  at least ``min_growth`` bytes, and
- the growth is steady: the least-squares slope of the per-iteration totals is at least half of
  ``min_growth`` and explains most of their variance (r² >= 0.5), and the slope over the second
  half of the iterations alone is at least half of ``min_growth`` too,

so a loop whose memory goes up and down, or grows for a while and then stays (a bounded cache
filling up), is not called a leak. The
sites are the source lines (and tracebacks) whose memory grew most, per iteration.

Three forms::

    with pyxray.leak_check(iterations=20) as check:   # the body of the for loop is measured
        for _ in check:
            handle_request()
    print(check.report)

    @pyxray.leak_check(iterations=20)                # calling f(...) returns the report
    def f(): ...

    report = pyxray.leak_check(iterations=20).run(handle_request, arg)
"""

from __future__ import annotations

import functools
import gc
import os
import tracemalloc
from array import array

from ._common import MemoryToolError, Tracing, format_bytes, is_own_file, own_filters, source_line

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is for type checkers only
    from types import TracebackType
    from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Type

#: Default for ``min_growth``: growth per iteration below this is never a leak.
DEFAULT_MIN_GROWTH = 128


class LeakSite:
    """A source line (or traceback) whose traced memory grew over the measured iterations."""

    def __init__(self, frames: List[Dict[str, Any]], size_diff: int, count_diff: int, iterations: int) -> None:
        #: Most recent frame first: ``{"file", "line", "source"}``.
        self.frames = frames
        #: Bytes gained over all measured iterations.
        self.total_bytes = size_diff
        #: Average bytes gained per iteration.
        self.bytes_per_iteration = size_diff / iterations
        #: Average memory blocks gained per iteration.
        self.count_per_iteration = count_diff / iterations

    @property
    def file(self) -> str:
        return self.frames[0]["file"]

    @property
    def line(self) -> int:
        return self.frames[0]["line"]

    def to_json(self, with_frames: bool) -> Dict[str, Any]:
        out: Dict[str, Any] = {
            "bytesPerIteration": round(self.bytes_per_iteration, 1),
            "countPerIteration": round(self.count_per_iteration, 2),
            "totalBytes": self.total_bytes,
        }
        if with_frames:
            out["frames"] = self.frames
        else:
            out.update(self.frames[0])
        return out


class LeakReport:
    """What a leak check found: the verdict, per-iteration totals, the growing sites."""

    def __init__(
        self,
        iterations: int,
        warmup: int,
        min_growth: int,
        totals: Sequence[int],
        net_bytes: int,
        sites: List[LeakSite],
        tracebacks: List[LeakSite],
    ) -> None:
        self.iterations = iterations
        self.warmup = warmup
        self.min_growth = min_growth
        #: Traced bytes after each measured iteration, relative to before the first one.
        self.totals = [t - totals[0] for t in totals[1:]]
        #: Net bytes gained per iteration between the snapshots, the tool's own allocations excluded.
        self.bytes_per_iteration = net_bytes / iterations
        self.slope, self.r2 = _regression(self.totals)
        #: The slope over the second half of the iterations: a filling bounded cache flattens out.
        self.late_slope = _regression(self.totals[len(self.totals) // 2 :])[0]
        self.sites = sites
        self.tracebacks = tracebacks
        #: The verdict (see the module's doc).
        self.leak = self.bytes_per_iteration >= min_growth and self.slope >= min_growth / 2 and self.r2 >= 0.5 and self.late_slope >= min_growth / 2

    @property
    def verdict(self) -> str:
        """One line: ``leaks ~2.1 KiB/iteration at cache.py:14`` or why it is not a leak."""
        if self.leak:
            where = " at {}:{}".format(os.path.basename(self.sites[0].file), self.sites[0].line) if self.sites else ""
            return "leaks ~{}/iteration{}".format(format_bytes(self.bytes_per_iteration), where)
        why = "below {}".format(format_bytes(self.min_growth)) if self.bytes_per_iteration < self.min_growth else "not steady"
        return "no leak: {}/iteration over {} iterations ({})".format(format_bytes(self.bytes_per_iteration), self.iterations, why)

    def to_json(self) -> Dict[str, Any]:
        """The ``leaks`` member of a memory document (schema/memory.schema.json)."""
        return {
            "iterations": self.iterations,
            "warmup": self.warmup,
            "minGrowthBytes": self.min_growth,
            "leak": self.leak,
            "verdict": self.verdict,
            "bytesPerIteration": round(self.bytes_per_iteration, 1),
            "slopeBytesPerIteration": round(self.slope, 1),
            "r2": round(self.r2, 4),
            "lateSlopeBytesPerIteration": round(self.late_slope, 1),
            "totals": self.totals,
            "sites": [s.to_json(False) for s in self.sites],
            "tracebacks": [s.to_json(True) for s in self.tracebacks],
        }

    def __str__(self) -> str:
        lines = [self.verdict]
        for s in self.sites:
            lines.append("  {:>12}/it  {}:{}  {}".format(format_bytes(s.bytes_per_iteration), s.file, s.line, s.frames[0]["source"]))
        return "\n".join(lines)


def _regression(ys: Sequence[int]) -> tuple:
    """Least-squares slope of ``ys`` over 0, 1, 2… and its r² (1.0 for a perfect line, 0 when
    flat or noise)."""
    n = len(ys)
    if n < 2:
        return 0.0, 0.0
    mx = (n - 1) / 2
    my = sum(ys) / n
    sxy = sum((i - mx) * (y - my) for i, y in enumerate(ys))
    sxx = sum((i - mx) ** 2 for i in range(n))
    syy = sum((y - my) ** 2 for y in ys)
    slope = sxy / sxx
    r2 = (sxy * sxy) / (sxx * syy) if syy > 0 else 0.0
    return slope, r2


def _frames(traceback: tracemalloc.Traceback) -> List[Dict[str, Any]]:
    """The frames of a traceback, most recent first, without pyxray's own (nor runpy's, which
    started it)."""
    out = []
    for f in reversed(list(traceback)):
        if not is_own_file(f.filename) and not _is_runpy(f.filename):
            out.append({"file": f.filename, "line": f.lineno, "source": source_line(f.filename, f.lineno)})
    return out or [{"file": traceback[-1].filename, "line": traceback[-1].lineno, "source": ""}]


def _is_runpy(filename: str) -> bool:
    return filename == "<frozen runpy>" or os.path.basename(filename) == "runpy.py"


def _growing(after: tracemalloc.Snapshot, before: tracemalloc.Snapshot, key: str, top: int, iterations: int) -> List[LeakSite]:
    diffs = [d for d in after.compare_to(before, key) if d.size_diff > 0]
    diffs.sort(key=lambda d: -d.size_diff)
    return [LeakSite(_frames(d.traceback), d.size_diff, d.count_diff, iterations) for d in diffs[:top]]


class LeakCheck:
    """A configured leak check; iterate it, decorate with it, or ``run`` a function with it."""

    def __init__(
        self,
        iterations: int = 20,
        warmup: int = 3,
        *,
        top: int = 10,
        frames: int = 10,
        min_growth: int = DEFAULT_MIN_GROWTH,
        collect: bool = True,
    ) -> None:
        if not isinstance(iterations, int) or iterations < 3:
            raise MemoryToolError("BAD_ARGUMENT", "iterations must be an integer >= 3 (a trend needs points), got {!r}".format(iterations))
        if not isinstance(warmup, int) or warmup < 0:
            raise MemoryToolError("BAD_ARGUMENT", "warmup must be an integer >= 0, got {!r}".format(warmup))
        if not isinstance(frames, int) or frames < 1:
            raise MemoryToolError("BAD_ARGUMENT", "frames must be an integer >= 1, got {!r}".format(frames))
        self.iterations = iterations
        self.warmup = warmup
        self.top = top
        self.frames = frames
        self.min_growth = min_growth
        self.collect = collect
        #: The report of the last completed check (None before, or after an interrupted one).
        self.report: Optional[LeakReport] = None

    def __iter__(self) -> Iterator[int]:
        """Yields ``warmup + iterations`` times; the loop body is what is checked."""
        self.report = None
        get = tracemalloc.get_traced_memory
        collect = gc.collect if self.collect else (lambda: 0)
        with Tracing(self.frames):
            for i in range(self.warmup):
                yield i
            # Preallocated so that storing a reading allocates nothing that stays.
            totals = array("q", bytes(8 * (self.iterations + 1)))
            collect()
            before = tracemalloc.take_snapshot()
            totals[0] = get()[0]
            for i in range(self.iterations):
                yield self.warmup + i
                collect()
                totals[i + 1] = get()[0]
            after = tracemalloc.take_snapshot()
        filters = own_filters()
        before = before.filter_traces(filters)
        after = after.filter_traces(filters)
        net = sum(s.size for s in after.statistics("filename")) - sum(s.size for s in before.statistics("filename"))
        self.report = LeakReport(
            self.iterations,
            self.warmup,
            self.min_growth,
            totals,
            net,
            _growing(after, before, "lineno", self.top, self.iterations),
            _growing(after, before, "traceback", self.top, self.iterations),
        )

    def __enter__(self) -> LeakCheck:
        return self

    def __exit__(self, t: Optional[Type[BaseException]], e: Optional[BaseException], tb: Optional[TracebackType]) -> None:
        return None

    def run(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> LeakReport:
        """Calls ``func(*args, **kwargs)`` ``warmup + iterations`` times; returns the report."""
        for _ in self:
            func(*args, **kwargs)
        assert self.report is not None
        return self.report

    def __call__(self, func: Callable[..., Any]) -> Callable[..., LeakReport]:
        """As a decorator: calling the decorated function runs the check and returns its report."""

        @functools.wraps(func)
        def checked(*args: Any, **kwargs: Any) -> LeakReport:
            return self.run(func, *args, **kwargs)

        return checked


def leak_check(func: Optional[Callable[..., Any]] = None, **options: Any) -> Any:
    """A :class:`LeakCheck` (``iterations``, ``warmup``, ``top``, ``frames``, ``min_growth``,
    ``collect``); used bare as ``@leak_check``, decorates ``func`` with the defaults."""
    if func is not None:
        if not callable(func):
            raise MemoryToolError("BAD_ARGUMENT", "leak_check takes keyword options (iterations=…, warmup=…) or decorates a function")
        return LeakCheck(**options)(func)
    return LeakCheck(**options)
