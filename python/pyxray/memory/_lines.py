"""Line-level memory: per line of a function, the net bytes it allocated and its peak.

A tracer follows the frames running the function's code (recursion and generators included) and
reads ``tracemalloc.get_traced_memory()`` at every line event: the change since the previous event
belongs to the line that just ran, calls made from it included. On Python 3.12+ the tracer is a
``sys.monitoring`` tool with LINE and start/resume/return/yield events enabled on the target's code
object only (local events), so no other code pays anything, and the unwind event (global only)
returns at once for other code; before 3.12 it is a ``sys.settrace`` tracer, which costs a call
for every frame the program runs. On 3.12+, when the C accelerator loads
(``pyxray._accel_build.load()``), the default is its form of the sys.monitoring tracer ("monitoring-c"):
the callbacks are C builtins and the level they read is kept by the accelerator's allocator
wrapper (the same raw, mem and object domains tracemalloc sees), so neither tracemalloc nor a
Python call per line is paid, and what the callbacks allocate is never charged (no calibration);
the Python tracers are the fallback. The Python
tracers read the counter again after their own bookkeeping, so their allocations are not charged to
any line; what they cannot avoid leaving (their temporary integers) is measured once on lines that
allocate nothing and subtracted. The net of a line adds up over its executions; its peak is the
highest level its bytes reached: what its earlier executions kept (its net so far) plus how far
traced memory rose above its value at the start of one execution (``tracemalloc.reset_peak`` at
each line, Python 3.9+; on 3.8, where there is no reset_peak, the rise is the execution's net
growth when positive). So a line's peak is never below its net. Only the calling thread is traced; a
tracer or debugger already installed is put back afterwards.

::

    @pyxray.memory_lines
    def build(): ...

    build()                      # runs as usual
    print(build.last_report)     # the table for the last call

    result, report = pyxray.measure_lines(build)   # function form
"""

from __future__ import annotations

import functools
import gc
import inspect
import sys
import threading
import tracemalloc

from ._common import MemoryToolError, Tracing, format_bytes

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is for type checkers only
    from types import CodeType, FrameType
    from typing import Any, Callable, Dict, List, Optional, TextIO, Tuple


class LinesReport:
    """Per line of one function: executions, net bytes and peak bytes."""

    def __init__(self, code: CodeType, qualname: str, stats: Dict[int, List[int]], calls: int) -> None:
        self.file = code.co_filename
        #: The tracer that measured it: "monitoring-c" (sys.monitoring with the C accelerator),
        #: "monitoring" (sys.monitoring over tracemalloc, 3.12+) or "settrace".
        self.engine = "settrace"
        self.function = qualname
        #: How many times the function's code started running (generator resumptions included).
        self.calls = calls
        try:
            source, first = inspect.getsourcelines(code)
        except (OSError, TypeError):
            source, first = [], code.co_firstlineno
        self.first_line = first
        numbers = sorted(set(range(first, first + len(source))) | set(stats))
        #: ``[{"line", "source", "hits", "netBytes", "peakBytes"}]`` for every line of the source.
        self.lines: List[Dict[str, Any]] = []
        for n in numbers:
            hits, net, peak = stats.get(n, (0, 0, 0))
            text = source[n - first].rstrip("\n") if 0 <= n - first < len(source) else ""
            self.lines.append({"line": n, "source": text, "hits": hits, "netBytes": net, "peakBytes": peak})

    @property
    def total_net_bytes(self) -> int:
        return sum(r["netBytes"] for r in self.lines)

    @property
    def peak_bytes(self) -> int:
        return max([r["peakBytes"] for r in self.lines] or [0])

    def line(self, number: int) -> Dict[str, Any]:
        """The row of one source line."""
        for r in self.lines:
            if r["line"] == number:
                return r
        raise KeyError(number)

    def to_json(self) -> Dict[str, Any]:
        """The ``lines`` member of a memory document (schema/memory.schema.json)."""
        return {
            "file": self.file,
            "function": self.function,
            "firstLine": self.first_line,
            "calls": self.calls,
            "totalNetBytes": self.total_net_bytes,
            "peakBytes": self.peak_bytes,
            "lines": self.lines,
        }

    def __str__(self) -> str:
        out = ["{} ({}:{}), {} call(s)".format(self.function, self.file, self.first_line, self.calls)]
        out.append("{:>6}  {:>6}  {:>11}  {:>11}  source".format("line", "hits", "net", "peak"))
        for r in self.lines:
            ran = r["hits"] > 0
            out.append(
                "{:>6}  {:>6}  {:>11}  {:>11}  {}".format(
                    r["line"], r["hits"] if ran else "", format_bytes(r["netBytes"]) if ran else "", format_bytes(r["peakBytes"]) if ran else "", r["source"]
                )
            )
        return "\n".join(out)


def _tracer(code: CodeType, stats: Dict[int, List[int]], calls: List[int], bias: Tuple[int, int]) -> Callable[..., Any]:
    """The settrace function measuring the lines of ``code`` into ``stats`` (line -> [hits, net,
    peak]); ``bias`` (net, peak) is what the tracer itself leaves in each reading (calibrated)."""
    get = tracemalloc.get_traced_memory
    reset = getattr(tracemalloc, "reset_peak", None)
    bias_net, bias_peak = bias
    # One [line, traced bytes at its start] per frame of ``code`` running, the innermost on top
    # (events come from the innermost frame: a call or a generator's resumption pushes, a return
    # or a yield pops). The states are made ahead and reused, so that a frame starting allocates
    # nothing: a dict keyed by id(frame) allocated an int and a list per frame and resized its
    # table now and then, from free lists or not depending on what the process did before, and
    # a recursing line carries its inner frames' bookkeeping (importing shutil first changed
    # such a line by 140 B a call on 3.13).
    pool: List[List[int]] = [[-1, 0] for _ in range(64)]
    top = [-1]  # index of the innermost frame's state

    def local(frame: FrameType, event: str, arg: Any) -> Any:
        now, peak = get()
        state = pool[top[0]]
        if state[0] >= 0:
            row = stats.get(state[0])
            if row is None:
                row = stats[state[0]] = [0, 0, 0]
            delta = now - state[1] - bias_net
            high = (peak if reset is not None else now) - state[1] - bias_peak
            if delta > high:  # the peak is at least where the line ended
                high = delta
            # The line's level: what its earlier executions kept plus this one's rise, so a line
            # that keeps memory on every pass of a loop peaks at least at its net, never below.
            level = row[1] + high
            row[1] += delta
            if level > row[2]:
                row[2] = level
        if event == "line":
            line = frame.f_lineno
            state[0] = line
            row = stats.get(line)
            if row is None:
                row = stats[line] = [0, 0, 0]
            row[0] += 1
            state[1] = get()[0]  # read again: our own bookkeeping is not the line's
            if reset is not None:
                reset()
        elif event == "return":
            state[0] = -1
            state[1] = 0  # its reading is freed as the frame's was (a recursing line's window)
            top[0] -= 1
        elif state[0] >= 0:  # "exception": charged above, so the line starts again from here
            state[1] = get()[0]
            if reset is not None:
                reset()
        return local

    def global_(frame: FrameType, event: str, arg: Any) -> Any:
        if frame.f_code is code:
            calls[0] += 1
            top[0] += 1
            if top[0] == len(pool):
                pool.append([-1, 0])
            return local
        return None

    return global_


def _monitoring_available() -> bool:
    return hasattr(sys, "monitoring")


def _free_tool() -> int:
    """A sys.monitoring tool id no one holds (the profiler's, the optimizer's and then the spare
    ones), or MemoryToolError when all six are taken."""
    for tool in (2, 5, 3, 4, 1, 0):
        if sys.monitoring.get_tool(tool) is None:  # type: ignore[attr-defined]
            return tool
    raise MemoryToolError("MONITORING_BUSY", "every sys.monitoring tool id is in use; free one (or run without the other tools) and retry")


class _Monitor:
    """The sys.monitoring form of the tracer: the same readings and the same arithmetic as
    ``_tracer``, with LINE, PY_START, PY_RESUME, PY_RETURN and PY_YIELD enabled on ``code`` only
    and PY_UNWIND and PY_THROW (which have no local form; they fire only when an exception leaves
    a frame or is thrown into a generator) enabled globally. Events of other threads are ignored,
    as settrace would not see them."""

    def __init__(self, code: CodeType, stats: Dict[int, List[int]], calls: List[int], bias: Tuple[int, int]) -> None:
        self.code = code
        self.stats = stats
        self.calls = calls
        self.bias = bias
        self.tool = -1

    def start(self) -> None:
        mon = sys.monitoring  # type: ignore[attr-defined]
        ev = mon.events
        code = self.code
        stats = self.stats
        calls = self.calls
        get = tracemalloc.get_traced_memory
        reset = tracemalloc.reset_peak
        ident = threading.get_ident
        owner = ident()
        bias_net, bias_peak = self.bias
        # One [line, traced bytes at its start] per frame of ``code`` running on this thread, the
        # innermost last: events come synchronously from the innermost one, so no frame lookup is
        # needed (recursion pushes, a yield or return pops, a resumed generator pushes again).
        running: List[List[int]] = []

        def close(state: List[int]) -> None:
            if state[0] < 0:  # started, no line yet
                return
            now, peak = get()
            row = stats.get(state[0])
            if row is None:
                row = stats[state[0]] = [0, 0, 0]
            delta = now - state[1] - bias_net
            high = peak - state[1] - bias_peak
            if delta > high:
                high = delta
            level = row[1] + high
            row[1] += delta
            if level > row[2]:
                row[2] = level

        def line(c: CodeType, number: int) -> Any:
            if not running or ident() != owner:
                return None
            state = running[-1]
            now, peak = get()  # one reading: what this callback allocates after it is calibrated away
            last = state[0]
            if last >= 0:
                row = stats.get(last)
                if row is None:
                    row = stats[last] = [0, 0, 0]
                delta = now - state[1] - bias_net
                high = peak - state[1] - bias_peak
                if delta > high:
                    high = delta
                level = row[1] + high
                row[1] += delta
                if level > row[2]:
                    row[2] = level
            state[0] = number
            row = stats.get(number)
            if row is None:
                row = stats[number] = [0, 0, 0]
            row[0] += 1
            state[1] = now
            reset()
            return None

        def begin(c: CodeType, offset: int) -> Any:
            if ident() == owner:
                calls[0] += 1
                running.append([-1, 0])
            return None

        def end(c: CodeType, offset: int, value: Any) -> Any:
            if running and ident() == owner:
                close(running.pop())
            return None

        def unwind(c: CodeType, offset: int, exc: BaseException) -> Any:  # a global event: any code
            if c is code:
                end(c, offset, exc)
            return None

        def thrown(c: CodeType, offset: int, exc: BaseException) -> Any:  # a generator resumed by throw()
            if c is code:
                begin(c, offset)
            return None

        tool = _free_tool()
        mon.use_tool_id(tool, "pyxray mem lines")
        self.tool = tool
        mon.register_callback(tool, ev.LINE, line)
        mon.register_callback(tool, ev.PY_START, begin)
        mon.register_callback(tool, ev.PY_RESUME, begin)
        mon.register_callback(tool, ev.PY_RETURN, end)
        mon.register_callback(tool, ev.PY_YIELD, end)
        mon.register_callback(tool, ev.PY_UNWIND, unwind)
        mon.register_callback(tool, ev.PY_THROW, thrown)
        mon.set_local_events(tool, code, ev.LINE | ev.PY_START | ev.PY_RESUME | ev.PY_RETURN | ev.PY_YIELD)
        mon.set_events(tool, ev.PY_UNWIND | ev.PY_THROW)

    def stop(self) -> None:
        if self.tool < 0:
            return
        mon = sys.monitoring  # type: ignore[attr-defined]
        ev = mon.events
        tool, self.tool = self.tool, -1
        mon.set_events(tool, 0)
        mon.set_local_events(tool, self.code, 0)
        for event in (ev.LINE, ev.PY_START, ev.PY_RESUME, ev.PY_RETURN, ev.PY_YIELD, ev.PY_UNWIND, ev.PY_THROW):
            mon.register_callback(tool, event, None)
        mon.free_tool_id(tool)


def _accel() -> Any:
    """The C accelerator module when it has line mode and this interpreter has sys.monitoring, else None."""
    if not _monitoring_available():
        return None
    try:
        from .. import _accel_build
    except ImportError:
        return None
    module, _ = _accel_build.load()
    return module if module is not None and hasattr(module, "lines_begin") else None


class _CBusy(MemoryToolError):
    """The accelerator's allocator accounting is taken (a profile measures memory with the C
    engine); raised before the target runs."""


class _CMonitor:
    """The C form of ``_Monitor`` (engine "monitoring-c"): the callbacks are the accelerator's
    builtins and the level is kept by its allocator wrapper (the raw, mem and object domains, as
    tracemalloc sees them), not read from tracemalloc; the same events, the same arithmetic. What
    the callbacks and the interpreter's event arguments allocate is not charged, so there is no
    bias to calibrate. One difference: only the measuring thread's allocations raise the level
    (frees of its blocks by any thread lower it), where tracemalloc's total has every thread's."""

    def __init__(self, accel: Any, code: CodeType, stats: Dict[int, List[int]], calls: List[int]) -> None:
        self.accel = accel
        self.code = code
        self.stats = stats
        self.calls = calls
        self.tool = -1

    def start(self) -> None:
        mon = sys.monitoring  # type: ignore[attr-defined]
        ev = mon.events
        a = self.accel
        tool = _free_tool()
        mon.use_tool_id(tool, "pyxray mem lines")
        self.tool = tool
        try:
            mon.register_callback(tool, ev.LINE, a.lines_line)
            mon.register_callback(tool, ev.PY_START, a.lines_start)
            mon.register_callback(tool, ev.PY_RESUME, a.lines_start)
            mon.register_callback(tool, ev.PY_RETURN, a.lines_return)
            mon.register_callback(tool, ev.PY_YIELD, a.lines_return)
            mon.register_callback(tool, ev.PY_UNWIND, a.lines_unwind)
            mon.register_callback(tool, ev.PY_THROW, a.lines_throw)
            a.lines_begin(self.code, mon.DISABLE)
        except RuntimeError as e:  # the profiler measures memory with the C engine
            self.stop()
            raise _CBusy("MEMORY_BUSY", "{}; stop the profile's memory mode, or pass engine='monitoring'".format(e)) from None
        mon.set_local_events(tool, self.code, ev.LINE | ev.PY_START | ev.PY_RESUME | ev.PY_RETURN | ev.PY_YIELD)
        mon.set_events(tool, ev.PY_UNWIND | ev.PY_THROW)

    def stop(self) -> None:
        if self.tool < 0:
            return
        mon = sys.monitoring  # type: ignore[attr-defined]
        ev = mon.events
        tool, self.tool = self.tool, -1
        mon.set_events(tool, 0)
        mon.set_local_events(tool, self.code, 0)
        for event in (ev.LINE, ev.PY_START, ev.PY_RESUME, ev.PY_RETURN, ev.PY_YIELD, ev.PY_UNWIND, ev.PY_THROW):
            mon.register_callback(tool, event, None)
        mon.free_tool_id(tool)
        result = self.accel.lines_end()
        if result is not None:
            calls, rows = result
            self.calls[0] += calls
            for line, hits, net, peak in rows:
                row = self.stats.get(line)
                if row is None:
                    row = self.stats[line] = [0, 0, 0]
                row[0] += hits
                row[1] += net
                if peak > row[2]:
                    row[2] = peak


def _run_traced(engine: str, code: CodeType, stats: Dict[int, List[int]], calls: List[int], bias: Tuple[int, int], run: Callable[[], Any]) -> Any:
    """Runs ``run()`` under the tracer of ``engine`` ("monitoring-c", "monitoring" or "settrace")."""
    if engine == "monitoring-c":
        cmon = _CMonitor(_accel(), code, stats, calls)
        cmon.start()
        try:
            return run()
        finally:
            cmon.stop()
    if engine == "monitoring":
        monitor = _Monitor(code, stats, calls, bias)
        monitor.start()
        try:
            return run()
        finally:
            monitor.stop()
    previous = sys.gettrace()
    sys.settrace(_tracer(code, stats, calls, bias))
    try:
        return run()
    finally:
        sys.settrace(previous)


def default_engine() -> str:
    """The tracer ``mem lines`` uses on this interpreter: on 3.12+ sys.monitoring, with the C
    accelerator's callbacks and allocator wrapper when it loads ("monitoring-c"), else in Python
    over tracemalloc ("monitoring"); settrace before 3.12."""
    if not _monitoring_available():
        return "settrace"
    return "monitoring-c" if _accel() is not None else "monitoring"


def _calibration_target() -> None:  # lines that allocate nothing
    a = 1
    a = 2
    a = 3
    a = 4
    a = 5
    a = 6
    a = 7
    a = 8
    a = 9
    del a


_bias: Dict[str, Tuple[int, int]] = {}


def _calibrate(engine: str) -> Tuple[int, int]:
    """What one line event of the tracer leaves in the readings (its locals are freed after the
    second reading): the median over lines that allocate nothing, measured once per process and
    engine."""
    if engine not in _bias:
        code = _calibration_target.__code__
        samples: List[Tuple[int, int]] = []
        for _ in range(3):
            stats: Dict[int, List[int]] = {}
            _run_traced(engine, code, stats, [0], (0, 0), _calibration_target)
            first = code.co_firstlineno
            samples.extend((row[1], row[2]) for line, row in stats.items() if first + 2 < line < first + 10)
        nets = sorted(s[0] for s in samples)
        peaks = sorted(s[1] for s in samples)
        _bias[engine] = (nets[len(nets) // 2], peaks[len(peaks) // 2]) if samples else (0, 0)
    return _bias[engine]


def trace_lines(code: CodeType, run: Callable[[], Any], qualname: Optional[str] = None, engine: Optional[str] = None) -> Tuple[Any, LinesReport]:
    """Runs ``run()`` while measuring the lines of every frame executing ``code``; returns what
    ``run`` returned and the report. ``engine`` is "monitoring-c" (3.12+ with the C accelerator),
    "monitoring" (3.12+) or "settrace"; by default the fastest this interpreter has."""
    chosen = engine is not None
    engine = engine or default_engine()
    if engine not in ("monitoring-c", "monitoring", "settrace"):
        raise MemoryToolError("BAD_ARGUMENT", "engine must be 'monitoring-c', 'monitoring' or 'settrace', not {!r}".format(engine))
    if engine != "settrace" and not _monitoring_available():
        raise MemoryToolError("BAD_ARGUMENT", "the {} engine needs Python 3.12+ (this is {}.{}); use engine='settrace'".format(engine, *sys.version_info[:2]))
    if engine == "monitoring-c" and _accel() is None:
        raise MemoryToolError("BAD_ARGUMENT", "the monitoring-c engine needs the C accelerator, which did not load; use engine='monitoring'")
    stats: Dict[int, List[int]] = {}
    calls = [0]
    # Rows for the lines we expect, made before tracing so creating them is not charged to a line.
    try:
        source, first = inspect.getsourcelines(code)
        for n in range(first, first + len(source)):
            stats[n] = [0, 0, 0]
    except (OSError, TypeError):
        pass
    done = False
    if engine == "monitoring-c":  # no tracemalloc: the accelerator's allocator wrapper counts
        try:
            result = _run_traced(engine, code, stats, calls, (0, 0), run)
            done = True
        except _CBusy:  # nothing ran yet: by default, the tracemalloc tracer instead
            if chosen:
                raise
            engine = "monitoring"
    if not done:
        with Tracing(1):
            fresh = engine not in _bias
            bias = _calibrate(engine)
            if fresh:
                # The calibration's tracers are reference cycles (a settrace function returns
                # itself) made while tracemalloc traces: left to the collector, they would be
                # freed during the run, charged to whichever line a collection happened in (3.12:
                # a test's first and recursing lines read 56 and 164 B a call lower, or not,
                # depending on whether shutil had been imported before).
                gc.collect()
            result = _run_traced(engine, code, stats, calls, bias, run)
    report = LinesReport(code, qualname or code.co_name, stats, calls[0])
    report.engine = engine
    return result, report


def measure_lines(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Tuple[Any, LinesReport]:
    """Calls ``func(*args, **kwargs)`` measuring its lines; returns (its result, the report)."""
    target = inspect.unwrap(func)
    code = getattr(target, "__code__", None)
    if code is None:
        raise MemoryToolError("BAD_ARGUMENT", "memory_lines needs a Python function, not {!r}".format(func))
    return trace_lines(code, lambda: func(*args, **kwargs), getattr(target, "__qualname__", code.co_name))


def memory_lines(func: Optional[Callable[..., Any]] = None, *, stream: Optional[TextIO] = None) -> Any:
    """Decorator: each call of the function is measured line by line; the report of the last call
    is ``wrapper.last_report``, and is also printed to ``stream`` when given."""

    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(f)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            result, report = measure_lines(f, *args, **kwargs)
            wrapper.last_report = report  # type: ignore[attr-defined]
            if stream is not None:
                stream.write(str(report) + "\n")
            return result

        wrapper.last_report = None  # type: ignore[attr-defined]
        return wrapper

    return decorate(func) if func is not None else decorate
