"""Trace mode: every call and return, aggregated into one call tree per thread as it happens.

Two mechanisms, one tree (:mod:`pyxray._profile_tree`), chosen by
:func:`pyxray._profile_engine.make_recorder`: :mod:`pyxray._profile_monitoring`
(``sys.monitoring``, CPython 3.12+) and :mod:`pyxray._profile_setprofile` (``sys.setprofile``,
3.8-3.11), each also with the C engine (:mod:`pyxray._profile_accel`). This module holds what they
share: the recorder interface's trace-mode side (:class:`pyxray._recorder.Recorder`: periods,
calibration, the document's trees), classification of code into nodes, memory bookkeeping and
closing.

The stack: each thread keeps a list of the nodes entered and not yet left, the root first. A node
is a call path, so it is on a stack at most once and keeps the entry time of its running call
itself (slot T0; before 3.12 as ``TOTAL -= entry clock``, see Tracer.negative_start): entering is
"count, push, stamp", leaving is "pop, add now - T0". Frames that are not shown (library code
called by library code, excluded code before 3.12) get *folded* nodes, real stack entries like
any other, so the hot paths have no special case; they are dissolved into their visible ancestor
when the document is built (:func:`pyxray._profile_tree.visible_tree`).

Generators and coroutines: a resumption enters the child node of the *resuming* frame (the same
node every time the same consumer drives it, as in a pipeline), and a yield leaves it, so time
spent suspended is never counted and the tree's totals stay inside their parents' totals. Every
entry counts as a call (cProfile counts the same way). Exceptions leave frames through PY_UNWIND
(3.12+) or the 'return' event that setprofile also sends for an exception.

Hot paths are closures whose free names are bound as default arguments (LOAD_FAST is the cheapest
load on every version), touch the node lists with constant indexes, allocate nothing per event but
the clock's float, and read the clock as late as possible when entering and as early as possible
when leaving, so that most of the profiler's own time lands outside the measured interval (what
remains is calibrated and subtracted, see :mod:`pyxray._profile_calibrate`).
"""

from __future__ import annotations

import sys
import threading
import time
from types import BuiltinFunctionType, MethodDescriptorType, ModuleType

from ._guards import HELPER_THREADS
from ._profile_filter import GENERATED, LIBRARY, OWN, SKIP, USER, CodeFilter, FrameTable
from ._profile_tree import CHILDREN, FOLDED, FRAME, KEY, LIB, MEM0, NET, PEAK, PEAK_SEEN, QUIET, T0, TOTAL, OverheadTally, new_node, new_root, real_children, thread_tree
from ._recorder import Recorder, ThreadRoot, cpu_clock_of

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is for type checkers only
    from types import CodeType, FrameType
    from typing import Any, Callable, List

    Node = List[Any]

try:
    from _thread import get_ident
except ImportError:  # pragma: no cover - every CPython has _thread
    from threading import get_ident

from ._versions import HAS_RESET_PEAK

#: The callables that are builtin frames (as cProfile: C functions and method descriptors).
BUILTIN_TYPES = (BuiltinFunctionType, MethodDescriptorType)
#: Frame index of folded nodes and sinks (never in the document).
NO_FRAME = -2
#: Frame index of the node that unhooks a thread after stop() (setprofile).
STOPPER_FRAME = -3


def builtin_key(func: Any) -> Any:
    """A stable dictionary key for a builtin callable: the object itself when it lives as long as
    its module or type (``len``, the ``list.append`` descriptor), else ``(type, name)`` for a
    method bound to an instance (a new object per access, and often unhashable)."""
    if type(func) is MethodDescriptorType:
        return func
    owner = func.__self__
    if owner is None or type(owner) is ModuleType:
        return func
    return (owner if isinstance(owner, type) else type(owner), func.__name__)


def describe_builtin(key: Any) -> tuple[str | None, str]:
    """(module, qualname) of a builtin key made by :func:`builtin_key`."""
    if isinstance(key, tuple):
        owner, name = key
        # The type that defines the method, as cProfile names it (_lsprof looks the name up along
        # the receiver's MRO): Counter().items is <method 'items' of 'dict' objects>, dict.items.
        for klass in getattr(owner, "__mro__", ()):
            if name in getattr(klass, "__dict__", ()):
                owner = klass
                break
        return getattr(owner, "__module__", None), "{}.{}".format(getattr(owner, "__qualname__", owner.__name__), name)
    if type(key) is MethodDescriptorType:
        return getattr(key.__objclass__, "__module__", None), key.__qualname__
    module = getattr(key, "__module__", None)
    if module is None and type(key.__self__) is ModuleType:
        module = key.__self__.__name__
    return module, getattr(key, "__qualname__", key.__name__)


def frame_depth() -> int:
    """How many frames the calling thread is running."""
    frame: FrameType | None = sys._getframe(1)
    depth = 0
    while frame is not None:
        depth += 1
        frame = frame.f_back
    return depth


class ThreadState:
    """One thread's stack and root, and what the document says about the thread."""

    __slots__ = ("stack", "root", "ident", "name", "native_id", "first", "root_time", "starter", "active")

    def __init__(self, ident: int, starter: bool) -> None:
        self.root = new_root()
        self.stack: list[Node] = [self.root, self.root]  # see close(): a spare root at the bottom
        self.ident = ident
        thread = threading._active.get(ident)  # type: ignore[attr-defined]  # no Python frames run here
        self.name = thread.name if thread is not None else "Thread-{}".format(ident)
        self.native_id = getattr(thread, "native_id", None)
        self.first: float | None = None  # clock at the start of the current period, if known
        self.root_time = 0.0  # measured time of the root, over all periods
        self.starter = starter
        self.active = True  # False once the thread can no longer be traced (setprofile, after stop)


class Tracer(Recorder):
    """What both mechanisms share: the recorder's periods and trees, classification, node
    creation, memory bookkeeping, closing."""

    mode = "trace"
    mechanism = ""
    #: Which engine runs the per-event hot path: "python" here, "c" in :mod:`pyxray._profile_accel`.
    engine = "python"
    #: Whether SKIP code is switched off at the source (then it gets no node at all).
    disables = False
    #: Whether a running call keeps its entry time as ``TOTAL -= clock()`` (and leaving adds the
    #: clock back) rather than in T0: two bytecodes fewer per call, which pays before 3.11.
    negative_start = False

    def __init__(
        self,
        clock: Callable[[], float],
        code_filter: CodeFilter,
        frames: FrameTable,
        *,
        memory: bool = False,
        builtins: bool = True,
        clock_name: str = "wall",
        overhead: str | float | dict[str, Any] = "off",
        count: str | None = None,
    ) -> None:
        super().__init__(memory)
        #: ``count="instructions"``: bytecode instructions executed per node (the EXECUTED slot).
        self.count_instructions = count == "instructions"
        #: Counting: the code objects whose instructions are counted (3.12+: their local events).
        self._counted: list[CodeType] = []
        self.clock = clock
        #: "wall" or "cpu": how another thread's clock is read at start and stop (:meth:`thread_now`).
        self.clock_name = clock_name
        self.filter = code_filter
        self.frames = frames
        self.builtin_kind = code_filter.builtin_kind()
        self.builtins = builtins and self.builtin_kind != SKIP
        self.threads: list[ThreadState] = []
        #: The ``overhead`` option (see :meth:`calibrate`).
        self.overhead_option = overhead
        self.overhead: dict[str, Any] = {"calleeNs": 0.0, "callerNs": 0.0, "hiddenNs": 0.0, "floorNs": 0.0, "source": "none"}
        self._periods = 0
        self._kinds: dict[int, int] = {}
        self._keep: list[Any] = []  # code objects (and builtins) whose id() we use stay alive
        self._lock = threading.Lock()
        self.installed = False
        self._traced: Callable[[], tuple[int, int]] = lambda: (0, 0)
        self._reset_peak: Callable[[], None] | None = None
        if memory:
            import tracemalloc

            self._traced = tracemalloc.get_traced_memory
            self._reset_peak = getattr(tracemalloc, "reset_peak", None)  # 3.9+
        self._own = [0]  # bytes the profiler itself keeps allocated (memory mode)

    # -- the recorder interface (pyxray._recorder) --

    def start(self, caller: FrameType | None, quiet_root: bool) -> float:
        fresh = self.start_tracemalloc()
        try:
            if fresh:
                self._own[0] = 0  # fresh traces: nothing of ours is in them yet
            if self._periods == 0:
                self.first_start()
            self.quiet_root(self.attach_starter(), quiet_root)
            self.begin(self.thread_now)
            began = time.perf_counter()
            self.install()  # last: from here on, events arrive
        except BaseException:
            self.stop_tracemalloc()
            raise
        self._periods += 1
        return began

    def first_start(self) -> None:
        """What happens once, before the first period: the calibration."""
        self.calibrate()

    def stop(self) -> float:
        self.uninstall()  # first: nothing below is traced
        ended = time.perf_counter()
        self.close(self.thread_now)
        self.stop_tracemalloc()
        return ended

    def abandon(self) -> None:
        try:
            self.uninstall()
        except Exception:
            pass

    def thread_roots(self) -> list[ThreadRoot]:
        return [
            ThreadRoot(state.ident, state.name, state.native_id, self.visible_root(state.root, state.root_time))
            for state in self.threads
            if state.ident not in HELPER_THREADS  # pyxray's own signal watchdog: not the program's
        ]

    def document_threads(self) -> tuple[list[tuple[ThreadRoot, dict[str, Any]]], dict[str, Any]]:
        overhead = self.overhead
        scale = 1e9
        callee, caller, hidden, floor = (overhead[k] / scale for k in ("calleeNs", "callerNs", "hiddenNs", "floorNs"))
        tally = OverheadTally()
        out = []
        for thread in self.thread_roots():
            tree = thread_tree(
                thread.root, scale=scale, callee=callee, caller=caller, hidden=hidden, floor=floor, memory=self.memory,
                instructions=self.count_instructions, tally=tally, allocations=self.memory and not self.py_memory,
            )  # fmt: skip
            out.append((thread, tree))
        meta = {
            "overhead": {
                "perCallNs": round(overhead["calleeNs"] + overhead["callerNs"], 2),
                "calleeNs": overhead["calleeNs"],
                "callerNs": overhead["callerNs"],
                "hiddenNs": overhead["hiddenNs"],
                "floorNs": overhead["floorNs"],
                "source": overhead["source"],
                "subtractedNs": int(round(tally.subtracted * scale)),
                "clampedNs": int(round(tally.clamped * scale)),
                "clampedNodes": tally.clamped_nodes,
            }
        }
        return out, meta

    def overhead_ns_per_event(self) -> float:
        return round((self.overhead["calleeNs"] + self.overhead["callerNs"]) / 2, 2)

    def document_warnings(self, duration: float) -> list[str]:
        out = super().document_warnings(duration)
        if self.count_instructions:
            out.append(
                "instructions were counted: every executed bytecode instruction called the profiler, so the times are "
                "inflated many times over -- compare instructions (pyxray diff --metric instructions), not times"
            )
        if self.py_memory and not HAS_RESET_PEAK:
            out.append("Python 3.8 has no tracemalloc.reset_peak: peakBytes is the highest level seen at call boundaries (a lower bound)")
        return out

    def thread_now(self, state: ThreadState) -> float | None:
        """A thread's clock now, or None when it cannot be read from this thread."""
        if state.ident == get_ident():
            return self.clock()
        if state.ident not in sys._current_frames():
            return None  # the thread has ended
        if self.clock_name == "wall":
            return self.clock()
        clock_id = cpu_clock_of(state.ident)
        if clock_id is None:
            return None
        try:
            return time.clock_gettime(clock_id)
        except OSError:
            return None

    def calibrate(self) -> None:
        """Sets ``overhead`` by the ``overhead`` option: "off" (nothing), a number (ns per call),
        "auto" (cached per interpreter and configuration, else measured), "fresh" (measured) or
        a calibration to take as it is (a followed child process takes its parent's); see
        :mod:`pyxray._profile_calibrate`."""
        from . import _profile_calibrate as cal

        option = self.overhead_option
        if isinstance(option, dict):
            self.overhead = dict(option)
            return
        if option == "off":
            self.overhead = {"calleeNs": 0.0, "callerNs": 0.0, "hiddenNs": 0.0, "floorNs": 0.0, "source": "off"}
            return
        if not isinstance(option, str):
            half = float(option) / 2
            floor = round(cal.measure_floor(self.clock) * 1e9, 2)
            self.overhead = {"calleeNs": half, "callerNs": half, "hiddenNs": float(option), "floorNs": floor, "source": "given"}
            return
        mechanism = self.mechanism if self.engine == "python" else "{}+{}".format(self.mechanism, self.engine)
        key = cal.cache_key(mechanism, self.clock_name, self.memory, self.builtins)
        entry = cal.cached(key) if option == "auto" else None
        if entry is not None:
            self.overhead = {k: entry[k] for k in ("calleeNs", "callerNs", "hiddenNs", "floorNs")}
            self.overhead["source"] = "cache"
            return
        measured = cal.measure(type(self), self.clock, self.filter, memory=self.memory, builtins=self.builtins)
        entry = {k + "Ns": round(v * 1e9, 2) for k, v in measured.items()}
        cal.store(key, entry)
        self.overhead = dict(entry, source="calibrated")

    # -- classification and nodes (slow paths: once per code object or call path) --

    def kind(self, code: CodeType) -> int:
        kind = self._kinds.get(id(code))
        if kind is None:
            kind = self.filter.kind_of_code(code)
            self._kinds[id(code)] = kind
            self._keep.append(code)
        return kind

    def child(self, parent: Node, code: CodeType, kind: int, frame: FrameType | None = None) -> Node:
        """A new node for ``code`` entered under ``parent`` (SKIP/OWN only before 3.12)."""
        if kind >= SKIP:  # transparent; library code it calls is judged by parent's context (SKIP) or folded (OWN)
            return new_node(NO_FRAME, code, parent[LIB] or (2 if kind == OWN else 0), folded=True, quiet=True)
        if kind == GENERATED:
            kind = LIBRARY if parent[LIB] == 1 else USER
        if kind == LIBRARY and parent[LIB]:
            return new_node(NO_FRAME, code, 1, folded=True)
        return new_node(self.frames.index_code(code, frame), code, 1 if kind == LIBRARY and self.filter.folds_libraries else 0)

    def builtin_node(self, key: Any) -> Node:
        module, qualname = describe_builtin(key)
        if not isinstance(key, tuple):
            self._keep.append(key)
        return new_node(self.frames.index_builtin(module, qualname), key, 1 if self.builtin_kind == LIBRARY and self.filter.folds_libraries else 0)

    def enter_builtin(self, stack: list[Node], top: Node, key: Any) -> Node:
        """A builtin called from ``top``: its node under ``top`` (made on first sight, as the
        profiler's own allocation), counted and pushed; the caller starts its clock."""
        kids = top[CHILDREN]
        node = kids.get(key)
        if node is None:
            before = self._traced()[0] if self.py_memory else 0
            node = kids[key] = self.builtin_node(key)
            if self.py_memory:
                self.own_since(before)
        node[1] += 1
        stack.append(node)
        if self.py_memory:
            self.mem_enter(top, node)
        return node

    def quiet_root(self, state: ThreadState, quiet: bool) -> None:
        """Makes the thread's root a library context (when profiling was started by pyxray's own
        code, e.g. the command line: library code and builtins it calls are not shown)."""
        state.root[LIB] = 2 if quiet else 0
        state.root[QUIET] = quiet

    def new_state(self, starter: bool = False) -> ThreadState:
        with self._lock:
            state = ThreadState(get_ident(), starter)
            state.first = self.clock()
            self.threads.append(state)
        if self.py_memory:
            level = self.mem_level()
            state.root[MEM0] = level
            state.root[PEAK_SEEN] = level
        return state

    def state_of(self, ident: int) -> ThreadState | None:
        for state in self.threads:
            if state.ident == ident:
                return state
        return None

    # -- memory (memory mode only): levels exclude the profiler's own allocations --

    def mem_level(self) -> int:
        return self._traced()[0] - self._own[0]

    def own_since(self, before: int) -> None:
        """Counts what the profiler allocated since ``before`` (a raw traced level) as its own."""
        self._own[0] += self._traced()[0] - before

    def mem_enter(self, parent: Node, node: Node) -> None:
        """A call starts: the peak since the last event belongs to the parent."""
        current, peak = self._traced()
        own = self._own[0]
        current -= own
        if self._reset_peak is not None:
            peak -= own
            self._reset_peak()
        else:  # 3.8: no reset_peak; peaks are the highest level seen at events (a lower bound)
            peak = current
        if peak > parent[PEAK_SEEN]:
            parent[PEAK_SEEN] = peak
        node[MEM0] = current
        node[PEAK_SEEN] = current

    def mem_exit(self, node: Node, parent: Node) -> None:
        """A call ends: net and peak for the node, its peak passed up to the parent."""
        current, peak = self._traced()
        own = self._own[0]
        current -= own
        if self._reset_peak is not None:
            peak -= own
            self._reset_peak()
        else:
            peak = current
        seen = node[PEAK_SEEN]
        if peak > seen:
            seen = peak
        node[NET] += current - node[MEM0]
        if seen - node[MEM0] > node[PEAK]:
            node[PEAK] = seen - node[MEM0]
        if seen > parent[PEAK_SEEN]:
            parent[PEAK_SEEN] = seen

    # -- leaving frames the stack lost track of --

    def unwind_to(self, stack: list[Node], key: Any, t: float) -> None:
        """A frame returned whose node is not on top (an event that was never seen, e.g. a
        callback interrupted by KeyboardInterrupt): if its node is on the stack, leave
        everything above it and it; else (a frame older than the profile) ignore the event."""
        for index in range(len(stack) - 1, 1, -1):
            if stack[index][KEY] is key:
                while len(stack) > index:
                    node = stack.pop()
                    node[TOTAL] += t if self.negative_start else t - node[T0]
                    if self.py_memory:
                        self.mem_exit(node, stack[-1])
                return

    # -- periods: start() after stop() adds to the same trees --

    def begin(self, thread_now: Callable[[ThreadState], float | None]) -> None:
        """Marks the start of a profiling period for every known thread (``thread_now(state)``:
        the thread's clock now, or None when it cannot be read from here)."""
        level = self.mem_level() if self.py_memory else 0
        for state in self.threads:
            if not state.active:
                continue
            state.first = thread_now(state)
            if self.py_memory:
                state.root[MEM0] = level
                state.root[PEAK_SEEN] = level

    def close(self, thread_now: Callable[[ThreadState], float | None]) -> None:
        """Ends every running call at stop time (after uninstall: no event changes the stacks
        any more, except in the thread's own callback if it was interrupted mid-way -- hence the
        spare root at the bottom of every stack) and adds the period to each root's time."""
        current = get_ident()
        for state in self.threads:
            if not state.active:
                continue
            now = thread_now(state)
            root = state.root
            # Take the stack's contents and reset it in one step: another thread may still be in
            # (or, before 3.12, still enter) its callback between two of our bytecodes.
            held = self.reset_stack(state, current == state.ident)
            open_nodes = [n for n in held if n is not root and (n[FRAME] >= 0 or n[FOLDED])]  # not the sink, the stopper
            for index in range(len(open_nodes) - 1, -1, -1):
                node = open_nodes[index]
                if now is not None:
                    node[TOTAL] += now if self.negative_start else now - node[T0]
                elif self.negative_start:  # no clock for that thread here: its children's time is a lower bound
                    node[TOTAL] = sum(child[TOTAL] for child in real_children(node))
                if self.py_memory:
                    self.mem_exit(node, open_nodes[index - 1] if index else root)
            if now is not None and state.first is not None:
                state.root_time += now - state.first
            state.first = None
            if self.py_memory:
                level = self.mem_level()
                root[NET] += level - root[MEM0]
                root[PEAK] = max(root[PEAK], root[PEAK_SEEN] - root[MEM0])
                root[MEM0] = level

    def reset_stack(self, state: ThreadState, current: bool) -> list[Node]:
        """Empties a stack (keeping a spare root at the bottom); returns what it held."""
        held, state.stack[:] = state.stack[:], [state.root, state.root]
        return held
