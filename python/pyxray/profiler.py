"""pyxray's profiler: a call tree per thread with call counts, honest times and, on request,
memory per call -- from plain Python (stdlib only, CPython 3.8-3.15: :mod:`pyxray._versions`).

Use it as a context manager, with start()/stop(), or as a decorator::

    from pyxray import Profiler, profile

    with Profiler() as p:                # trace mode, wall clock
        work()
    p.save("run.json")                   # the profile document (atomic write)
    p.print(top=15)                      # a short table: calls, self, total, %

    @profile                             # every call adds to one profile, printed at exit
    def handler(request): ...

    @profile(save="gen.json", memory=True, mode="sample")
    def pipeline(): ...                  # generators and coroutines work too

or from the command line: ``python -m pyxray [options] script.py args...`` (see
:mod:`pyxray._profile_cli`).

Options (``Profiler(...)`` and ``profile(...)``):

- ``mode="trace"`` (every call and return; exact call counts) or ``"sample"`` (a background thread
  looks at all stacks every ``interval`` seconds, default 0.001; no call counts, little overhead).
- ``clock="wall"`` (``time.perf_counter``) or ``"cpu"`` (the thread's CPU time,
  ``time.thread_time``; reading it is a system call, ~0.4 us, so traced runs slow down more).
- ``memory=True``: memory per call node (below): the C engine's allocator wrapper, or tracemalloc.
- ``include``/``exclude``: globs on paths or module names; ``libraries="first"|"all"|"none"`` and
  ``library_paths``: how library code is shown (see :mod:`pyxray._profile_filter`). By default the
  tree holds your code plus the first call into a library or builtin; what that library calls
  folds into that frame.
- ``builtins=True``: builtins called directly by a visible frame are nodes (``kind: builtin``).
- ``overhead="auto"``: subtract the calibrated per-call cost of tracing (cached per interpreter);
  ``"fresh"`` recalibrates, ``"off"`` subtracts nothing, a number is the cost per call in ns.
- ``accel=None``: the engine of trace mode's per-event hot path -- ``"auto"`` (default; also what
  ``PYXRAY_ACCEL`` unset means) uses the optional C accelerator when it can be compiled and loaded
  (built once per interpreter into the user cache) and pure Python otherwise; ``"on"``/``True``
  (``PYXRAY_ACCEL=1``) requires it; ``"off"``/``False`` (``PYXRAY_ACCEL=0``) never uses it.
  ``metadata.engine`` says which ran, ``metadata.engineReason`` why Python did. Both engines
  build the same tree (see :mod:`pyxray._profile_accel`); memory mode runs in either (below).
- ``count="instructions"`` (trace mode): every node also gets ``executedInstructions``, the bytecode
  instructions executed in its own frame (and in library frames folded into it) -- an exact,
  deterministic measure for pure-Python code (``pyxray diff --metric instructions`` compares it
  with no statistics). ``sys.monitoring`` INSTRUCTION events as local events of the profiled code
  objects on 3.12+, ``sys.settrace`` with ``f_trace_opcodes`` before; runs in the Python engine, and
  makes the times meaningless (each instruction calls the profiler). It does not see time spent
  in C (builtins, extension modules), I/O or waiting, nor code excluded or already running at
  start.

What the numbers mean:

- ``calls`` counts entries into a node: calls, plus resumptions of a generator or coroutine (as
  cProfile's ncalls). ``totalNs`` is inclusive, ``selfNs`` excludes children; in the document
  ``totalNs == selfNs + sum(children totalNs)`` always holds.
- The document (version 3) lists each thread's nodes flat (``threads[i].nodes``, preorder,
  ``nodes[0]`` the root), each with ``parent``, its parent's index: a program that recursed
  100,000 deep writes a file plain ``json.load`` reads.
- Recursion: each level is its own node (``fib -> fib -> fib``); a node's total covers exactly the
  calls through that path, so nothing is counted twice in the tree, and flat per-function totals
  (:meth:`Profiler.print`, the TypeScript model) add only outermost instances (nodes without an
  ancestor of the same function).
- Generators and coroutines: a resumption enters the node under the frame that resumes it, a yield
  (or await that suspends) leaves it: suspended time is never counted, and a pipeline shows as
  consumer -> stage -> stage. Exceptions leave every frame they unwind.
- Threads: one tree per thread. On 3.12+ (``sys.monitoring``) every thread is traced, also those
  started before the profiler; on 3.8-3.11 (``sys.setprofile``) the thread calling start() and
  threads started afterwards, through ``threading`` or ``_thread`` (threads already running
  cannot be reached: a warning says how many). A thread's root
  is not a frame (``frame: null``); its selfNs is time in frames that were running before
  profiling started (for the thread that called start(), the ``with`` block itself).
- Honest timing: each traced call costs the profiler time, partly inside the measured intervals.
  A calibration at the first start (~0.1 s, then cached; see :mod:`pyxray._profile_calibrate`)
  measures it and it is subtracted from every node; ``metadata.overhead`` says how much.

Trace-mode overhead, honestly: with the C accelerator (the default wherever a C compiler and the
Python headers are found; ``metadata.engine == "c"``) the per-event work runs in C, as cProfile's
does, and costs about what cProfile costs (geomean over recursion, methods, generators, json and
regex within ~15% of cProfile's on 3.8-3.13; see ``scripts/accel_overhead.py``). With the pure
Python engine every event runs a Python callback: on call-bound code (recursive fib, tiny
methods) a traced run is then about 3x as much slower as under cProfile on 3.11-3.13 and 5x on
3.8-3.10 (3.12, fib(25): cProfile 4.9x the unprofiled time, pyxray 19x, 15x with
``builtins=False``, which drops the CALL event every call pays on 3.12+); code that spends its
time inside calls rather than in calling pays proportionally less. Where the absolute slowdown
matters more than exact counts, use sample mode (~1.1x).

Memory (``memory=True``, trace mode) with the C engine (``metadata.engine`` "c"): a PyMem allocator
wrapper on the raw, mem and object domains (chained to the allocators in place, so tracemalloc
keeps working, started before or during the profile) charges every allocation to the call node on
top of the allocating thread's stack and remembers the block's owner, so that its free, by anyone,
is credited to the node that allocated it (see ``_accel.c``). Per node, callees included:
``netBytes``, the bytes allocated and not freed before the profile ended; ``peakBytes``, the
highest level of the thread's own allocations minus frees during a call above its entry, the
maximum over calls; ``allocations`` (a realloc is not one) and ``allocatedBytes``. The profiler's
own allocations are not counted; blocks allocated before the profile started count nothing when
freed. If tracemalloc is started while the profile runs, its own bookkeeping (a hash entry per
traced block) goes through the wrapper and is counted. Cost: about 1.1-1.4x the time of trace mode
(``npm run bench:profile``, BENCHMARKS.md).

Memory with the Python engine (``PYXRAY_ACCEL=0``, or no compiler): tracemalloc is started if it is
not running (and stopped at the end); no allocation counts. Each visible call records the traced level at entry; at its return event the node adds
the net change (``netBytes``: what the call and its callees still hold at that moment, summed over
calls -- the frame's own locals are released just *after* the return event, so memory held only
by locals shows in the callee and comes back as a release in its caller) and the highest level
reached during the call above the entry level (``peakBytes``: max over calls), read with
``tracemalloc.get_traced_memory`` and ``reset_peak`` at each event, each peak passed up to the
caller. The profiler's own lasting allocations (nodes, tables) are measured as they happen and
taken out of every level (tracemalloc's filters cannot do it: they only apply to snapshots, not to
the traced-memory counters). Caveats: the counters are process-wide, so with several threads
allocating at once a node also sees the others' allocations; on 3.8 there is no ``reset_peak`` and
peaks are the highest level seen at call boundaries (a lower bound).

Memory overhead of the Python engine, honestly: tracemalloc makes every allocation several times slower, and it traces
the profiler's own small allocations too (clock readings, counters, the tuple each counter read
returns), so memory mode costs about 2-8 us per traced call on top of trace mode. Measured
(profiled / unprofiled CPU time): allocation-heavy code ~9x (3.8) to ~20x (3.11+), against ~2.5x
in plain trace mode; call-heavy code with no allocations ~60x (3.8) to ~230x (3.11+). Use it on
the part of a program that allocates, or narrow it with include/exclude. Sample mode with memory
charges the change between ticks to the busiest thread's stack (an estimate, cheap; see
:mod:`pyxray._profile_sample`).

Two profilers at once: a trace-mode profiler needs the interpreter's profiler hook -- the
``sys.monitoring`` profiler tool id on 3.12+, ``sys.setprofile`` before -- and refuses to start
(``ProfilerError``, code ``PROFILER_CONFLICT``, naming the holder, e.g. cProfile) when another
profiler holds it. Sample-mode profilers need no hook and can run alongside anything.

Pyodide (CPython 3.14 in WebAssembly): trace mode works in the single thread there; sample mode
needs a thread and raises ``PROFILER_UNSUPPORTED``.
"""

from __future__ import annotations

import os
import sys
import time

from . import __version__
from ._profile_accel import accel_option
from ._profile_engine import make_recorder
from ._profile_filter import LIBRARY_VIEWS, CodeFilter, FrameTable
from ._profile_tree import flatten_tree, format_table
from .errors import ProfilerError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is for type checkers only
    from types import FrameType
    from typing import IO, Any, Callable, Dict, Iterable, Sequence, TypeVar

    from ._recorder import Recorder

    F = TypeVar("F", bound=Callable[..., Any])
    Document = Dict[str, Any]

__all__ = ["Profiler", "ProfilerError", "ProfilerWarning", "profile", "PROFILE_VERSION"]

#: The version of the profile document (``"version"``); see schema/profile.schema.json.
PROFILE_VERSION = 3

_MODES = ("trace", "sample")
_CLOCKS = ("wall", "cpu")
_OWN_DIR = os.path.dirname(os.path.abspath(__file__))
_IMPLEMENTATIONS = {"cpython": "CPython", "pypy": "PyPy", "graalpy": "GraalPy"}


class ProfilerWarning(RuntimeWarning):
    """Something the profile should be read with in mind (too few samples, untraced threads)."""


def _cpu_clock() -> Callable[[], float]:
    """``time.thread_time`` where it works, else ``time.process_time``."""
    try:
        time.thread_time()
        return time.thread_time
    except (AttributeError, OSError):
        return time.process_time


def _clock_name_ok(value: str, allowed: Sequence[str], what: str) -> str:
    if value not in allowed:
        raise ValueError("{} must be one of {}, got {!r}".format(what, ", ".join(repr(a) for a in allowed), value))
    return value


class Profiler:
    """One profile: start()/stop() (or ``with``), then to_dict()/save()/print().

    See the module docstring for the options and what the numbers mean. A profiler can be started
    again after stop(): the next period adds to the same trees (the decorator relies on it)."""

    def __init__(
        self,
        memory: bool = False,
        mode: str = "trace",
        clock: str = "wall",
        include: str | Iterable[str] | None = None,
        exclude: str | Iterable[str] | None = None,
        *,
        interval: float = 0.001,
        libraries: str = "first",
        library_paths: Sequence[str] | None = None,
        builtins: bool = True,
        overhead: str | float = "auto",
        accel: str | bool | None = None,
        count: str | None = None,
    ) -> None:
        self.mode = _clock_name_ok(mode, _MODES, "mode")
        if count is not None and count != "instructions":
            raise ValueError("count must be None or 'instructions', got {!r}".format(count))
        if count is not None and self.mode != "trace":
            raise ValueError("count='instructions' needs mode='trace' (a sampler sees stacks, not instructions)")
        #: None, or "instructions": executed bytecode instructions per node.
        self.count = count
        self.clock_name = _clock_name_ok(clock, _CLOCKS, "clock")
        _clock_name_ok(libraries, LIBRARY_VIEWS, "libraries")
        if not isinstance(interval, (int, float)) or isinstance(interval, bool) or not interval > 0:
            raise ValueError("interval must be a positive number of seconds, got {!r}".format(interval))
        if not (overhead in ("auto", "fresh", "off") or (isinstance(overhead, (int, float)) and not isinstance(overhead, bool) and overhead >= 0)):
            raise ValueError("overhead must be 'auto', 'fresh', 'off' or a number of ns per call >= 0, got {!r}".format(overhead))
        self.memory = bool(memory)
        self.interval = float(interval)
        self.builtins = bool(builtins)
        self.overhead_option = overhead
        #: "auto", "on" or "off": the C engine for trace mode (see :mod:`pyxray._profile_accel`).
        self.accel = accel_option(accel)
        self.include = [include] if isinstance(include, str) else list(include or [])
        self.exclude = [exclude] if isinstance(exclude, str) else list(exclude or [])
        self.libraries = libraries
        # Checked now (bad patterns raise here, not at start()).
        self._filter = CodeFilter(self.include, self.exclude, library_paths, libraries)
        self._clock = time.perf_counter if clock == "wall" else _cpu_clock()
        if self.mode == "sample":
            # Imported now, so that start() costs only the sampler's own setup.
            from . import _profile_sample  # noqa: F401
        #: The script's exit status (set by the command line; ``exitStatus`` in the document).
        self.exit_status: int | None = None
        #: Whether the run was cut short (``partial`` in the document).
        self.partial = False
        self._running = False
        self._started = False
        self._frames: FrameTable | None = None
        #: The engine recording the profile (made at the first start, see pyxray._profile_engine).
        self._recorder: Recorder | None = None
        #: Trace mode: a calibration to use as it is (a followed child process takes its parent's).
        self._inherited_overhead: dict[str, Any] | None = None
        self._warnings: list[str] = []
        self._duration = 0.0
        self._t_start = 0.0
        self._start_epoch = 0.0
        self._cwd = ""
        # Set by pyxray's own starters (command line, decorator): the thread's root-level frames
        # are pyxray's, so library code and builtins they call are not shown.
        self._quiet_root = False
        self._warned_shortfall = False

    # -- running --

    @property
    def running(self) -> bool:
        """Whether the profiler is between start() and stop()."""
        return self._running

    def start(self) -> Profiler:
        """Starts (or resumes) profiling; returns the profiler.

        Raises ProfilerError ``PROFILER_RUNNING`` when it is already running, and
        ``PROFILER_CONFLICT`` when another profiler holds the interpreter's profiling hook."""
        if self._running:
            raise ProfilerError("PROFILER_RUNNING", "this Profiler is already running; stop() it before starting it again, or use a second Profiler")
        recorder = self._recorder
        first = recorder is None
        if recorder is None:
            self._frames = FrameTable(self._filter)
            self._start_epoch = time.time()
            self._cwd = os.getcwd()
            recorder = make_recorder(
                self.mode, self._clock, self.clock_name, self._filter, self._frames, memory=self.memory, interval=self.interval,
                builtins=self.builtins, accel=self.accel, count=self.count,
                overhead=self.overhead_option if self._inherited_overhead is None else self._inherited_overhead,
            )  # fmt: skip
        try:
            self._t_start = recorder.start(_user_frame(), self._quiet_root)
        except BaseException:
            if first:
                self._recorder = None  # a failed first start leaves nothing behind: the next one starts afresh
            raise
        self._recorder = recorder
        self._started = True
        self._running = True
        return self

    def stop(self) -> Profiler:
        """Stops profiling (raises ProfilerError ``PROFILER_NOT_RUNNING`` when not running)."""
        if not self._running:
            raise ProfilerError("PROFILER_NOT_RUNNING", "this Profiler is not running; start() it first")
        recorder = self._recorder
        assert recorder is not None
        self._duration += recorder.stop() - self._t_start
        self._running = False
        text = recorder.shortfall(self._duration)
        if text is not None and not self._warned_shortfall:
            self._warned_shortfall = True  # once per profiler (a decorator stops it after every call)
            import warnings

            warnings.warn(text, ProfilerWarning, stacklevel=2)
        return self

    def _abandon(self) -> None:
        """Drops a profiler inherited through fork without touching its threads (a sampler thread
        does not exist in the child, and a lock it held stays held)."""
        if self._running and self._recorder is not None:
            self._recorder.abandon()
        self._running = False

    @property
    def _overhead(self) -> dict[str, Any]:
        """Trace mode: the calibration in use (what a followed child process inherits)."""
        overhead = self._recorder.overhead if self._recorder is not None else None
        return dict(overhead or {"calleeNs": 0.0, "callerNs": 0.0, "hiddenNs": 0.0, "floorNs": 0.0, "source": "none"})

    def __enter__(self) -> Profiler:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    # -- results --

    @property
    def warnings(self) -> list[str]:
        """What the profile should be read with in mind (also ``metadata.warnings``)."""
        out = list(self._warnings)
        if self._recorder is not None:
            out.extend(w for w in self._recorder.document_warnings(self._duration) if w not in out)
        return out

    def _add_user_file(self, path: str) -> None:
        """Makes a file user code whatever the patterns say (the command line's target)."""
        self._filter.add_user_file(path)

    def to_dict(self, *, exit_status: int | None = None, partial: bool | None = None) -> Document:
        """The profile document (see schema/profile.schema.json). The profiler must be stopped."""
        if self._running:
            raise ProfilerError("PROFILER_RUNNING", "stop() the profiler before reading its profile")
        if not self._started:
            raise ProfilerError("PROFILER_NOT_RUNNING", "this Profiler was never started: there is no profile yet")
        assert self._frames is not None and self._recorder is not None
        recorder = self._recorder
        v = sys.version_info
        implementation = _IMPLEMENTATIONS.get(sys.implementation.name, sys.implementation.name)
        meta: dict[str, Any] = {
            "python": {"implementation": implementation, "version": "{}.{}.{}".format(v.major, v.minor, v.micro)},
            "argv": list(sys.argv),
            "cwd": self._cwd,
            "startTime": _iso(self._start_epoch),
            "durationNs": int(round(self._duration * 1e9)),
            "mode": self.mode,
            "clock": self.clock_name,
            "overheadNsPerEvent": recorder.overhead_ns_per_event(),
            "partial": bool(self.partial if partial is None else partial),
            "exitStatus": self.exit_status if exit_status is None else exit_status,
            "warnings": self.warnings,
            "memory": self.memory,
            "tracer": recorder.mechanism,
            "engine": recorder.engine,
            "libraries": self.libraries,
            "builtins": self.builtins and self.mode == "trace",
            "include": list(self.include),
            "exclude": list(self.exclude),
            "pid": os.getpid(),
            "agent": __version__,
        }
        if recorder.engine_reason is not None:
            meta["engineReason"] = recorder.engine_reason
        if self.count is not None:
            meta["count"] = self.count
        recorded, how = recorder.document_threads()
        meta.update(how)
        threads = [_thread_entry(thread.ident, thread.name, thread.native_id, tree) for thread, tree in recorded]
        main = _main_ident()
        threads.sort(key=lambda t: 0 if t["id"] == main else 1)  # stable: then first seen
        for thread in threads:
            thread["main"] = thread["id"] == main
        return {"pyxray": "profile", "version": PROFILE_VERSION, "metadata": meta, "frames": [dict(f) for f in self._frames.entries], "threads": threads}

    def save(self, path: str | os.PathLike[str], *, exit_status: int | None = None, partial: bool | None = None) -> str:
        """Writes the document to ``path`` atomically (a temporary file in the same folder, fsynced,
        then ``os.replace``; see :func:`pyxray._files.write_atomic`); returns the path written."""
        return write_document(self.to_dict(exit_status=exit_status, partial=partial), path)

    def print(self, top: int = 15, file: IO[str] | None = None) -> None:
        """Prints a compact table of the ``top`` functions by self time (stdout by default)."""
        out = file if file is not None else sys.stdout
        out.write(format_table(self.to_dict(), top=top))
        out.flush()


def write_document(doc: Document, path: str | os.PathLike[str]) -> str:
    """Writes a profile document as compact JSON, atomically (:func:`pyxray._files.write_atomic`);
    returns the path."""
    from ._files import write_atomic
    from .jsonline import dumps

    # Version 2 documents are shallow at any call depth (nodes are flat), so the C encoder needs
    # no guard against deep nesting.
    return write_atomic(path, dumps(doc) + "\n", encoding="ascii")


def _thread_entry(ident: int, name: str, native_id: int | None, tree: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": ident, "name": name}
    if native_id is not None:
        entry["nativeId"] = native_id
    entry["nodes"] = flatten_tree(tree)
    return entry


def _main_ident() -> int:
    import threading

    return threading.main_thread().ident or 0


def _iso(epoch: float) -> str:
    """UTC ISO 8601 with milliseconds: ``2024-05-01T12:00:00.123Z``."""
    seconds = int(epoch)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + ".{:03d}Z".format(int((epoch - seconds) * 1000))


def _user_frame() -> FrameType | None:
    """The innermost frame outside pyxray's package (the one that started the profiler)."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == _OWN_DIR:
        frame = frame.f_back
    return frame


# ---------------------------------------------------------------------------------------------
# The decorator

_CO_GENERATOR = 0x20
_CO_COROUTINE = 0x80
_CO_ASYNC_GENERATOR = 0x200


class _DecoratedRun:
    """The profiler of one decorated function: started when the first active call begins,
    stopped when the last one ends (calls nest and overlap across threads and tasks)."""

    def __init__(self, profiler: Profiler, save: str | None, print_at_exit: bool, top: int, name: str) -> None:
        self.profiler = profiler
        self.save = save
        self.top = top
        self.name = name
        self.active = 0
        self.owns = False
        self.warned = False
        import threading

        self.lock = threading.Lock()
        if print_at_exit:
            import atexit

            atexit.register(self.print_at_exit)

    def enter(self) -> None:
        with self.lock:
            self.active += 1
            if self.active > 1:
                return
            try:
                self.profiler.start()
                self.owns = True
            except ProfilerError as exc:
                self.owns = False
                if not self.warned:
                    self.warned = True
                    import warnings

                    warnings.warn("@profile on {} is not profiling: {}".format(self.name, exc), ProfilerWarning, stacklevel=4)

    def exit(self) -> None:
        with self.lock:
            self.active -= 1
            if self.active > 0 or not self.owns:
                return
            self.owns = False
            self.profiler.stop()
            if self.save:
                self.profiler.save(self.save)

    def print_at_exit(self) -> None:
        if self.profiler._started and not self.profiler.running:
            sys.stderr.write("@profile {}:\n".format(self.name))
            self.profiler.print(top=self.top, file=sys.stderr)


def profile(
    func: F | None = None,
    *,
    save: str | os.PathLike[str] | None = None,
    print: bool | None = None,
    top: int = 15,
    **options: Any,
) -> Any:
    """Profiles a function: ``@profile`` or ``@profile(save="f.json", memory=True, mode="sample",
    ...)`` (``options`` are :class:`Profiler`'s).

    All calls of the function add to one profile (``wrapper.profiler``). It runs while at least
    one call is active: for a plain function, during the call; for a generator or async generator,
    from its first resumption to its end (exhausted, returned, raised or closed); for a coroutine,
    from its first step to its result. So for generators and coroutines *everything* the thread
    runs in that span is recorded -- the consumer between yields, other asyncio tasks between
    awaits -- and the decorated function's own work is the subtree under its node. After each
    outermost call the document is written to ``save`` (when given); at interpreter exit the
    table of the ``top`` functions goes to stderr when ``print`` is true (default: when no
    ``save`` path is given). When another profiler holds the hook, calls run unprofiled with one
    ProfilerWarning."""
    if func is None:
        return lambda f: profile(f, save=save, print=print, top=top, **options)
    import functools

    profiler = Profiler(**options)
    profiler._quiet_root = True  # the wrapper's own frames are the root
    name = getattr(func, "__qualname__", getattr(func, "__name__", repr(func)))
    run = _DecoratedRun(profiler, os.fspath(save) if save is not None else None, (save is None) if print is None else bool(print), top, name)
    flags = getattr(getattr(func, "__code__", None), "co_flags", 0)
    wrapper: Any
    if flags & _CO_ASYNC_GENERATOR:
        wrapper = _async_generator_wrapper(func, run)
    elif flags & _CO_COROUTINE:

        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            run.enter()
            try:
                return await func(*args, **kwargs)
            finally:
                run.exit()

    elif flags & _CO_GENERATOR:

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            generator = func(*args, **kwargs)
            run.enter()
            try:
                return (yield from generator)
            finally:
                run.exit()

    else:

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            run.enter()
            try:
                return func(*args, **kwargs)
            finally:
                run.exit()

    functools.update_wrapper(wrapper, func)
    wrapper.profiler = profiler
    return wrapper


def _async_generator_wrapper(func: Callable[..., Any], run: _DecoratedRun) -> Callable[..., Any]:
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        agen = func(*args, **kwargs)
        run.enter()
        try:
            sent: Any = None
            thrown: BaseException | None = None
            while True:
                try:
                    if thrown is not None:
                        exc, thrown = thrown, None
                        item = await agen.athrow(exc)
                    else:
                        item = await agen.asend(sent)
                except StopAsyncIteration:
                    return
                try:
                    sent = yield item
                except GeneratorExit:
                    await agen.aclose()
                    raise
                except BaseException as exc:  # forwarded into the generator, as `yield from` would
                    thrown = exc
                    sent = None
        finally:
            run.exit()

    return wrapper
