"""Trace mode: every call and return, aggregated into one call tree per thread as it happens.

Two mechanisms, one tree (:mod:`pyxray._profile_tree`):

- :class:`MonitoringTracer` (CPython 3.12+): ``sys.monitoring`` with the profiler tool id.
  PY_START/PY_RESUME/PY_THROW enter a node, PY_RETURN/PY_YIELD/PY_UNWIND leave it; CALL with
  C_RETURN/C_RAISE do the same for builtins (``builtin_function_or_method`` and
  ``method_descriptor`` callables, as cProfile). Events are global, so every thread is seen,
  including threads started before profiling. Excluded code and pyxray itself answer ``DISABLE``
  from their first PY_START/PY_RESUME/PY_RETURN/PY_YIELD, and so do CALL sites in library or
  excluded code (their builtins are never shown): those locations never call back again
  (``restart_events()`` at start and stop keeps that from leaking into the next tool's run).
- :class:`SetprofileTracer` (3.8-3.11): ``sys.setprofile`` in the thread that starts profiling and
  ``threading.setprofile`` for threads started afterwards. Each thread gets its own callback
  closure bound to its own stack, so the hot path needs no thread lookup. Threads already running
  when profiling starts cannot be reached before 3.12 (``sys.setprofile`` only acts on the calling
  thread) and are not traced: the document says so in a warning.

The stack: each thread keeps a list of the nodes entered and not yet left, the root first. A node
is a call path, so it is on a stack at most once and keeps the entry time of its running call
itself (slot T0): entering is "count, push, stamp", leaving is "pop, add now - T0". Frames that
are not shown (library code called by library code, excluded code before 3.12) get *folded*
nodes, real stack entries like any other, so the hot paths have no special case; they are
dissolved into their visible ancestor when the document is built. Frames that were running before
profiling started have no node; their returns meet the root: on 3.12+ the return callback checks
that the returning code is the top node's (one identity test) and ignores the rest; before 3.12
(no check on the hot path) the stack starts with one copy of the root per frame already running,
plus a margin, for those returns to pop.

Threads on 3.12+: callbacks are global, so each must find its thread's stack. While the program
has a single thread, the callbacks are closures bound to that thread's stack (no lookup: ~20%
cheaper); when a thread is started (``threading`` and ``_thread`` thread creation is wrapped for
the duration, to switch first) or an event arrives from an unknown thread (one created in C; the
slow paths check), the callbacks are swapped for ones that look the stack up in a
``threading.local``.

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
from types import BuiltinFunctionType, MethodDescriptorType, ModuleType

from ._profile_filter import LIBRARY, OWN, SKIP, USER, CodeFilter, FrameTable
from ._profile_tree import CHILDREN, FOLDED, HIDDEN_CALLS, KEY, LIB, MEM0, NET, PEAK, PEAK_SEEN, QUIET, SINK, T0, TOTAL, new_node, new_root

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is for type checkers only
    from types import CodeType, FrameType
    from typing import Any, Callable, List

    Node = List[Any]

try:
    from _thread import get_ident
except ImportError:  # pragma: no cover - every CPython has _thread
    from threading import get_ident

HAS_MONITORING = hasattr(sys, "monitoring")

_BUILTIN_TYPES = (BuiltinFunctionType, MethodDescriptorType)
#: Frame index of nodes that never reach the document (folded nodes, the sink, the stopper).
_NO_FRAME = -2
#: How many copies of the root pad a stack beyond the frames running at start (setprofile).
_PAD_MARGIN = 64


class ProfilerError(RuntimeError):
    """A profiler used the wrong way or blocked by another profiler. ``code`` is one of
    ``PROFILER_RUNNING`` (started twice), ``PROFILER_NOT_RUNNING`` (stopped before it started),
    ``PROFILER_CONFLICT`` (another profiler holds the interpreter's hook), ``PROFILER_UNSUPPORTED``
    (this interpreter cannot do what was asked). The message starts with the code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__("{}: {}".format(code, message))
        self.code = code


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
        return getattr(owner, "__module__", None), "{}.{}".format(getattr(owner, "__qualname__", owner.__name__), name)
    if type(key) is MethodDescriptorType:
        return getattr(key.__objclass__, "__module__", None), key.__qualname__
    module = getattr(key, "__module__", None)
    if module is None and type(key.__self__) is ModuleType:
        module = key.__self__.__name__
    return module, getattr(key, "__qualname__", key.__name__)


def _depth() -> int:
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


class Tracer:
    """What both mechanisms share: classification, node creation, memory bookkeeping, closing."""

    mechanism = ""
    #: Whether SKIP code is switched off at the source (then it gets no node at all).
    disables = False

    def __init__(self, clock: Callable[[], float], code_filter: CodeFilter, frames: FrameTable, *, memory: bool = False, builtins: bool = True) -> None:
        self.clock = clock
        self.filter = code_filter
        self.frames = frames
        self.memory = memory
        self.builtin_kind = code_filter.builtin_kind()
        self.builtins = builtins and self.builtin_kind != SKIP
        self.threads: list[ThreadState] = []
        self.warnings: list[str] = []
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

    # -- classification and nodes (slow paths: once per code object or call path) --

    def kind(self, code: CodeType) -> int:
        kind = self._kinds.get(id(code))
        if kind is None:
            kind = self.filter.kind_of_file(code.co_filename)
            self._kinds[id(code)] = kind
            self._keep.append(code)
        return kind

    def child(self, parent: Node, code: CodeType, kind: int, frame: FrameType | None = None) -> Node:
        """A new node for ``code`` entered under ``parent`` (SKIP/OWN only before 3.12)."""
        if kind >= SKIP:  # transparent; library code it calls is judged by parent's context (SKIP) or folded (OWN)
            return new_node(_NO_FRAME, code, parent[LIB] or kind == OWN, folded=True, quiet=True)
        if kind == LIBRARY and parent[LIB]:
            return new_node(_NO_FRAME, code, True, folded=True)
        return new_node(self.frames.index_code(code, frame), code, kind == LIBRARY and self.filter.folds_libraries)

    def builtin_node(self, key: Any) -> Node:
        module, qualname = describe_builtin(key)
        if not isinstance(key, tuple):
            self._keep.append(key)
        return new_node(self.frames.index_builtin(module, qualname), key, self.builtin_kind == LIBRARY and self.filter.folds_libraries)

    def quiet_root(self, state: ThreadState, quiet: bool) -> None:
        """Makes the thread's root a library context (when profiling was started by pyxray's own
        code, e.g. the command line: library code and builtins it calls are not shown)."""
        state.root[LIB] = quiet
        state.root[QUIET] = quiet

    def new_state(self, starter: bool = False) -> ThreadState:
        with self._lock:
            state = ThreadState(get_ident(), starter)
            state.first = self.clock()
            self.threads.append(state)
        if self.memory:
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
                    node[TOTAL] += t - node[T0]
                    if self.memory:
                        self.mem_exit(node, stack[-1])
                return

    # -- periods: start() after stop() adds to the same trees --

    def begin(self, thread_now: Callable[[ThreadState], float | None]) -> None:
        """Marks the start of a profiling period for every known thread (``thread_now(state)``:
        the thread's clock now, or None when it cannot be read from here)."""
        level = self.mem_level() if self.memory else 0
        for state in self.threads:
            if not state.active:
                continue
            state.first = thread_now(state)
            if self.memory:
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
            open_nodes = self.reset_stack(state, current == state.ident)
            for node in reversed(open_nodes):
                if node is root or node[_FRAME_SLOT] < 0 and not node[FOLDED]:
                    continue  # the root's copies, the sink, the stopper
                if now is not None:
                    node[TOTAL] += now - node[T0]
                    node[T0] = now
                if self.memory:
                    self.mem_exit(node, root)
            if now is not None and state.first is not None:
                state.root_time += now - state.first
            state.first = None
            if self.memory:
                level = self.mem_level()
                root[NET] += level - root[MEM0]
                root[MEM0] = level
                root[PEAK] = max(root[PEAK], root[PEAK_SEEN] - root[MEM0])

    def reset_stack(self, state: ThreadState, current: bool) -> list[Node]:
        """Empties a stack (keeping a spare root at the bottom); returns what it held."""
        held, state.stack[:] = state.stack[:], [state.root, state.root]
        return held


_FRAME_SLOT = 7
_STOPPER_FRAME = -3


# ---------------------------------------------------------------------------------------------
# 3.12+: sys.monitoring


class MonitoringTracer(Tracer):
    """Trace mode through ``sys.monitoring`` (see the module docstring)."""

    mechanism = "sys.monitoring"
    disables = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.local = threading.local()
        self.tool = sys.monitoring.PROFILER_ID
        self._events: list[int] = []
        self.solo: ThreadState | None = None  # the only thread, while there is only one
        self._patched: list[tuple[Any, str, Any]] = []
        self._multi: dict[int, Callable[..., Any]] = {}
        self._unclaimed: ThreadState | None = None  # the solo thread's state, until it finds it again

    def attach_starter(self) -> ThreadState:
        """The calling thread's state (new, or the one of an earlier run in this thread)."""
        stack = getattr(self.local, "stack", None)
        for state in self.threads:
            if state.stack is stack:
                state.starter = True
                return state
        state = self.new_state(starter=True)
        self.local.stack = state.stack
        return state

    def _thread_stack(self) -> list[Node]:
        """The current thread's stack, created on the thread's first event (or the starter's,
        when it ran single-thread callbacks until another thread switched them)."""
        ident = get_ident()
        if self.solo is not None and ident != self.solo.ident:
            self.go_multi()
        starter = self._unclaimed
        if starter is not None and starter.ident == ident:
            self._unclaimed = None
            self.local.stack = starter.stack
            return starter.stack
        before = self._traced()[0] if self.memory else 0
        state = self.new_state()
        self.local.stack = state.stack
        if self.memory:
            self.own_since(before)
        return state.stack

    # -- installing --

    def install(self) -> None:
        mon = sys.monitoring
        holder = mon.get_tool(self.tool)
        if holder is not None:
            raise ProfilerError(
                "PROFILER_CONFLICT",
                "sys.monitoring tool id {} (the profiler slot) is in use by {!r}; stop that profiler first: "
                "pyxray does not trace under another profiler".format(self.tool, holder),
            )
        starter = self.state_of(get_ident())
        solo = not self.memory and starter is not None and len(sys._current_frames()) == 1
        mon.use_tool_id(self.tool, "pyxray")
        self._multi = self._callbacks(None)
        callbacks = self._callbacks(starter) if solo else self._multi
        self.solo = starter if solo else None
        if solo:
            self._patch_thread_starts()
        mask = 0
        for event, callback in callbacks.items():
            mon.register_callback(self.tool, event, callback)
            mask |= event
        self._events = list(callbacks)
        mon.restart_events()  # locations another run disabled must call us again
        mon.set_events(self.tool, mask)
        self.installed = True

    def uninstall(self) -> None:
        mon = sys.monitoring
        mon.set_events(self.tool, 0)
        for event in self._events:
            mon.register_callback(self.tool, event, None)
        mon.free_tool_id(self.tool)
        mon.restart_events()  # what we disabled must not stay disabled for the next tool
        self._unpatch_thread_starts()
        self.solo = None
        self.installed = False

    def go_multi(self) -> None:
        """Swaps the single-thread callbacks for the thread-aware ones (see the module docstring)."""
        with self._lock:
            solo = self.solo
            if solo is None:
                return
            self.solo = None
            self._unclaimed = solo
            self._unpatch_thread_starts()
            if self.installed:
                for event, callback in self._multi.items():
                    sys.monitoring.register_callback(self.tool, event, callback)
        if get_ident() == solo.ident:
            self.local.stack = solo.stack
            self._unclaimed = None

    def _patch_thread_starts(self) -> None:
        import _thread

        go_multi = self.go_multi
        for module, name in ((threading, "_start_new_thread"), (threading, "_start_joinable_thread"), (_thread, "start_new_thread"), (_thread, "start_joinable_thread")):
            original = getattr(module, name, None)
            if original is None:
                continue

            def start_thread(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
                go_multi()  # before the new thread runs any Python code
                return _original(*args, **kwargs)

            setattr(module, name, start_thread)
            self._patched.append((module, name, original))

    def _unpatch_thread_starts(self) -> None:
        while self._patched:
            module, name, original = self._patched.pop()
            setattr(module, name, original)

    def _foreign(self, stack: list[Node]) -> list[Node] | None:
        """In single-thread mode, the stack to use: ``stack`` when the event comes from the solo
        thread, else (an event from a thread created in C) the thread's own stack after
        switching to the thread-aware callbacks."""
        solo = self.solo
        if solo is None or get_ident() == solo.ident:
            return stack
        self.go_multi()
        return self._thread_stack()

    # -- the slow paths (first sight of a code object under a node, desync, foreign threads) --

    def _slow_start(self, stack: list[Node], code: CodeType) -> Any:
        stack = self._foreign(stack) or stack
        before = self._traced()[0] if self.memory else 0
        kind = self.kind(code)
        if kind >= SKIP:
            return sys.monitoring.DISABLE
        top = stack[-1]
        node = top[CHILDREN].get(id(code))
        if node is None:
            node = top[CHILDREN][id(code)] = self.child(top, code, kind)
        if self.memory:
            self.own_since(before)
        node[1] += 1
        stack.append(node)
        if self.memory:
            self.mem_enter(top, node)
        node[T0] = self.clock()
        return None

    def _slow_return(self, stack: list[Node], code: CodeType, t: float) -> Any:
        stack = self._foreign(stack) or stack
        if self.kind(code) >= SKIP:
            return sys.monitoring.DISABLE
        node = stack[-1]
        if node[KEY] is code:  # (a foreign thread's event that came through here)
            node[TOTAL] += t - node[T0]
            del stack[-1]
            if self.memory:
                self.mem_exit(node, stack[-1])
            return None
        self.unwind_to(stack, code, t)  # else a frame older than the profile: ignored
        return None

    def _slow_call(self, stack: list[Node], code: CodeType, func: Any) -> Any:
        """A builtin called by something other than the top node's code, or by quiet (library)
        code: shown when called by a frame older than the profile that is user code (then it
        hangs under the root), else folded -- and its CALL site disabled when the caller is
        library or excluded code, whose builtins are never shown."""
        stack = self._foreign(stack) or stack
        top = stack[-1]
        if top[KEY] is code and not top[QUIET]:  # (a foreign thread's event that came through here)
            return self._new_builtin(stack, top, builtin_key(func))
        caller = self.kind(code)
        if top[KEY] is None and caller == USER:
            return self._new_builtin(stack, top, builtin_key(func))
        if caller >= SKIP or top[QUIET] or (caller == LIBRARY and self.filter.folds_libraries):
            return sys.monitoring.DISABLE  # this call site never shows a builtin
        return None

    def _new_builtin(self, stack: list[Node], top: Node, key: Any) -> None:
        kids = top[CHILDREN]
        node = kids.get(key)
        if node is None:
            before = self._traced()[0] if self.memory else 0
            node = kids[key] = self.builtin_node(key)
            if self.memory:
                self.own_since(before)
        node[1] += 1
        stack.append(node)
        if self.memory:
            self.mem_enter(top, node)
        node[T0] = self.clock()

    def _slow_c_return(self, stack: list[Node], func: Any, t: float) -> None:
        stack = self._foreign(stack) or stack
        node = stack[-1]
        key = builtin_key(func)
        if node[KEY] is key or (isinstance(key, tuple) and node[KEY] == key):
            node[TOTAL] += t - node[T0]
            del stack[-1]
            if self.memory:
                self.mem_exit(node, stack[-1])
            return
        if not isinstance(key, tuple):
            self.unwind_to(stack, key, t)  # else: a folded builtin, or one older than the profile

    # -- the callbacks --

    def _callbacks(self, solo: ThreadState | None) -> dict[int, Callable[..., Any]]:
        """The callbacks by event: bound to ``solo``'s stack, or looking the stack up."""
        events = sys.monitoring.events
        if self.memory:
            start, ret, call, c_ret = self._memory_callbacks()
        elif solo is not None:
            start, ret, call, c_ret = self._solo_callbacks(solo.stack)
        else:
            start, ret, call, c_ret = self._local_callbacks()

        def throw(code: CodeType, offset: int, exc: BaseException) -> None:
            start(code, offset)  # a generator resumed by throw(): an entry (PY_THROW cannot be disabled)

        def unwind(code: CodeType, offset: int, exc: BaseException) -> None:
            ret(code, offset, None)  # leaving by exception: a return (PY_UNWIND cannot be disabled)

        def c_raise(code: CodeType, offset: int, func: Any, arg0: Any) -> None:
            c_ret(code, offset, func, arg0)

        out = {
            events.PY_START: start,
            events.PY_RESUME: start,
            events.PY_THROW: throw,
            events.PY_RETURN: ret,
            events.PY_YIELD: ret,
            events.PY_UNWIND: unwind,
        }
        if self.builtins:
            out[events.CALL] = call
            out[events.C_RETURN] = c_ret
            out[events.C_RAISE] = c_raise
        return out

    def _solo_callbacks(self, stack: list[Node]) -> tuple[Callable[..., Any], ...]:
        # The single-thread variant: `stack` is bound, no thread lookup. Everything a callback
        # touches is a default argument (LOAD_FAST: no global, cell or attribute lookups).
        clock = self.clock
        slow_start = self._slow_start
        slow_return = self._slow_return
        slow_call = self._slow_call
        new_builtin = self._new_builtin
        slow_c_return = self._slow_c_return

        def start(code, offset, stack=stack, clock=clock, _id=id, slow_start=slow_start):  # type: ignore[no-untyped-def]
            node = stack[-1][0].get(_id(code))  # top's CHILDREN
            if node is None:
                return slow_start(stack, code)
            node[1] += 1  # CALLS
            stack.append(node)
            node[3] = clock()  # T0, last: the bookkeeping above is the caller's time
            return None

        def ret(code, offset, value, stack=stack, clock=clock, slow_return=slow_return):  # type: ignore[no-untyped-def]
            t = clock()  # first: the bookkeeping below is the caller's time
            node = stack[-1]
            if node[4] is code:  # KEY: the top node's frame returns (else see _slow_return)
                node[2] += t - node[3]  # TOTAL += now - T0
                del stack[-1]
                return None
            return slow_return(stack, code, t)

        def call(code, offset, func, arg0, stack=stack, clock=clock, BF=BuiltinFunctionType, MD=MethodDescriptorType, Module=ModuleType,  # type: ignore[no-untyped-def]
                 slow_call=slow_call, new_builtin=new_builtin, isinstance=isinstance, type=type):
            tp = type(func)
            if tp is not MD and tp is not BF:
                return None  # a Python function (its PY_START follows), a class, a partial...
            top = stack[-1]
            if top[4] is not code or top[8]:  # not the top node's code calling, or QUIET code
                return slow_call(stack, code, func)
            if tp is MD:
                key = func
            else:
                owner = func.__self__
                key = func if owner is None or type(owner) is Module else (owner if isinstance(owner, type) else type(owner), func.__name__)
            node = top[0].get(key)
            if node is None:
                return new_builtin(stack, top, key)
            node[1] += 1
            stack.append(node)
            node[3] = clock()
            return None

        def c_ret(code, offset, func, arg0, stack=stack, clock=clock, slow_c_return=slow_c_return, BF=BuiltinFunctionType, MD=MethodDescriptorType, type=type):  # type: ignore[no-untyped-def]
            node = stack[-1]
            if node[4] is func:  # the builtin on top returns (else see _slow_c_return)
                node[2] += clock() - node[3]
                del stack[-1]
                return None
            tp = type(func)
            if tp is not MD and tp is not BF:
                return None  # a class, a partial... (C_RETURN follows every call made in C)
            return slow_c_return(stack, func, clock())

        return start, ret, call, c_ret

    def _local_callbacks(self) -> tuple[Callable[..., Any], ...]:
        # The thread-aware variant: as _solo_callbacks, with the stack from a threading.local.
        local = self.local
        clock = self.clock
        thread_stack = self._thread_stack
        slow_start = self._slow_start
        slow_return = self._slow_return
        slow_call = self._slow_call
        new_builtin = self._new_builtin
        slow_c_return = self._slow_c_return

        def start(code, offset, local=local, clock=clock, _id=id, thread_stack=thread_stack, slow_start=slow_start):  # type: ignore[no-untyped-def]
            try:
                stack = local.stack
            except AttributeError:
                stack = thread_stack()
            node = stack[-1][0].get(_id(code))
            if node is None:
                return slow_start(stack, code)
            node[1] += 1
            stack.append(node)
            node[3] = clock()
            return None

        def ret(code, offset, value, local=local, clock=clock, thread_stack=thread_stack, slow_return=slow_return):  # type: ignore[no-untyped-def]
            t = clock()
            try:
                stack = local.stack
            except AttributeError:
                stack = thread_stack()
            node = stack[-1]
            if node[4] is code:
                node[2] += t - node[3]
                del stack[-1]
                return None
            return slow_return(stack, code, t)

        def call(code, offset, func, arg0, local=local, clock=clock, BF=BuiltinFunctionType, MD=MethodDescriptorType, Module=ModuleType,  # type: ignore[no-untyped-def]
                 thread_stack=thread_stack, slow_call=slow_call, new_builtin=new_builtin, isinstance=isinstance, type=type):
            tp = type(func)
            if tp is not MD and tp is not BF:
                return None
            try:
                stack = local.stack
            except AttributeError:
                stack = thread_stack()
            top = stack[-1]
            if top[4] is not code or top[8]:
                return slow_call(stack, code, func)
            if tp is MD:
                key = func
            else:
                owner = func.__self__
                key = func if owner is None or type(owner) is Module else (owner if isinstance(owner, type) else type(owner), func.__name__)
            node = top[0].get(key)
            if node is None:
                return new_builtin(stack, top, key)
            node[1] += 1
            stack.append(node)
            node[3] = clock()
            return None

        def c_ret(code, offset, func, arg0, local=local, clock=clock, thread_stack=thread_stack, slow_c_return=slow_c_return, BF=BuiltinFunctionType,  # type: ignore[no-untyped-def]
                  MD=MethodDescriptorType, type=type):
            try:
                stack = local.stack
            except AttributeError:
                stack = thread_stack()
            node = stack[-1]
            if node[4] is func:
                node[2] += clock() - node[3]
                del stack[-1]
                return None
            tp = type(func)
            if tp is not MD and tp is not BF:
                return None
            return slow_c_return(stack, func, clock())

        return start, ret, call, c_ret

    def _memory_callbacks(self) -> tuple[Callable[..., Any], ...]:
        # Memory mode adds two tracemalloc calls per event and tracemalloc slows every allocation
        # anyway, so these favour plainness: thread-aware, one helper call per event.
        local = self.local
        clock = self.clock
        thread_stack = self._thread_stack
        slow_start = self._slow_start
        slow_return = self._slow_return
        slow_call = self._slow_call
        new_builtin = self._new_builtin
        slow_c_return = self._slow_c_return
        mem_enter = self.mem_enter
        mem_exit = self.mem_exit

        def stack_here() -> list[Node]:
            try:
                return local.stack  # type: ignore[no-any-return]
            except AttributeError:
                return thread_stack()

        def start(code, offset):  # type: ignore[no-untyped-def]
            stack = stack_here()
            top = stack[-1]
            node = top[0].get(id(code))
            if node is None:
                return slow_start(stack, code)
            node[1] += 1
            stack.append(node)
            mem_enter(top, node)
            node[3] = clock()
            return None

        def ret(code, offset, value):  # type: ignore[no-untyped-def]
            t = clock()
            stack = stack_here()
            node = stack[-1]
            if node[4] is code:
                node[2] += t - node[3]
                del stack[-1]
                mem_exit(node, stack[-1])
                return None
            return slow_return(stack, code, t)

        def call(code, offset, func, arg0):  # type: ignore[no-untyped-def]
            if not isinstance(func, _BUILTIN_TYPES):
                return None
            stack = stack_here()
            top = stack[-1]
            if top[4] is not code or top[8]:
                return slow_call(stack, code, func)
            key = builtin_key(func)
            node = top[0].get(key)
            if node is None:
                return new_builtin(stack, top, key)
            node[1] += 1
            stack.append(node)
            mem_enter(top, node)
            node[3] = clock()
            return None

        def c_ret(code, offset, func, arg0):  # type: ignore[no-untyped-def]
            t = clock()
            if not isinstance(func, _BUILTIN_TYPES):
                return None
            stack = stack_here()
            node = stack[-1]
            if node[4] is func:
                node[2] += t - node[3]
                del stack[-1]
                mem_exit(node, stack[-1])
                return None
            return slow_c_return(stack, func, t)

        return start, ret, call, c_ret


# ---------------------------------------------------------------------------------------------
# 3.8-3.11: sys.setprofile + threading.setprofile


class SetprofileTracer(Tracer):
    """Trace mode through ``sys.setprofile`` (see the module docstring)."""

    mechanism = "sys.setprofile"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._by_ident: dict[int, Callable[..., Any]] = {}
        self._starter_callback: Callable[..., Any] | None = None
        # What the stacks of other threads hold after stop(): their next call event finds no
        # child in it, takes the slow path and removes the thread's hook.
        self._stopper = new_node(_STOPPER_FRAME, None, True)

    def attach_starter(self) -> ThreadState:
        """The calling thread's state (new, or the one of an earlier run in this thread)."""
        ident = get_ident()
        state = self.state_of(ident)
        if state is None:
            state = self.new_state(starter=True)
        state.starter = True
        self.reset_stack(state, True)
        if ident not in self._by_ident:
            self._by_ident[ident] = self._make_callback(state.stack)
        self._starter_callback = self._by_ident[ident]
        return state

    def reset_stack(self, state: ThreadState, current: bool) -> list[Node]:
        if current:  # one root copy per running frame (their returns pop them), and a margin
            held, state.stack[:] = state.stack[:], [state.root] * (_depth() + _PAD_MARGIN)
        else:  # the thread may still be hooked: its next call event unhooks it
            held, state.stack[:] = state.stack[:], [self._stopper] * max(len(state.stack), _PAD_MARGIN)
            state.active = False  # before 3.12 a running thread cannot be hooked again
        return held

    def install(self) -> None:
        current = sys.getprofile()
        if current is not None:
            raise ProfilerError(
                "PROFILER_CONFLICT",
                "sys.setprofile is already set (to {!r}) in this thread; stop that profiler first: "
                "Python {}.{} has one profile hook per thread".format(current, *sys.version_info[:2]),
            )
        hook = getattr(threading, "_profile_hook", None)
        if hook is not None:
            raise ProfilerError("PROFILER_CONFLICT", "threading.setprofile is already set (to {!r}); stop that profiler first".format(hook))
        threading.setprofile(self._thread_starter)
        sys.setprofile(self._starter_callback)
        self.installed = True

    def uninstall(self) -> None:
        if sys.getprofile() is not self._starter_callback and get_ident() in self._by_ident:
            self.warnings.append(
                "another tool replaced pyxray's profile hook (sys.setprofile) while profiling; "
                "calls made after that were not traced"
            )
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]
        self.installed = False

    def _thread_starter(self, frame: FrameType, event: str, arg: Any) -> None:
        """threading's hook for new threads: gives the thread its own stack and callback."""
        before = self._traced()[0] if self.memory else 0
        state = self.new_state()
        depth = 0
        older: FrameType | None = frame.f_back
        while older is not None:
            depth += 1
            older = older.f_back
        state.stack[:] = [state.root] * (depth + _PAD_MARGIN)
        callback = self._make_callback(state.stack)
        with self._lock:
            self._by_ident[state.ident] = callback
        if self.memory:
            self.own_since(before)
        sys.setprofile(callback)
        callback(frame, event, arg)

    def _slow_call(self, stack: list[Node], frame: FrameType) -> None:
        top = stack[-1]
        if top is self._stopper:
            sys.setprofile(None)  # the profiler stopped: this thread stops calling us
            return
        before = self._traced()[0] if self.memory else 0
        code = frame.f_code
        node = top[CHILDREN][id(code)] = self.child(top, code, self.kind(code), frame)
        if self.memory:
            self.own_since(before)
        node[1] = 1
        stack.append(node)
        if self.memory:
            self.mem_enter(top, node)
        node[T0] = self.clock()

    def _slow_c_call(self, stack: list[Node], top: Node, frame: FrameType, func: Any) -> None:
        """A builtin called from a frame that is not the top node's: shown under the root when
        that frame is user code older than the profile, else folded."""
        if top[KEY] is None and top[_FRAME_SLOT] == -1 and not top[QUIET] and self.kind(frame.f_code) == USER:
            self._new_builtin(stack, top, builtin_key(func))
            return
        top[HIDDEN_CALLS] += 1
        self.push_sink(stack, top)

    def push_sink(self, stack: list[Node], top: Node) -> None:
        """Enters the folded node that stands for builtins called by ``top`` (see SINK)."""
        sink = top[SINK]
        if sink is None:
            sink = top[SINK] = new_node(_NO_FRAME, None, top[LIB], folded=True, quiet=True)
        stack.append(sink)
        if self.memory:
            self.mem_enter(top, sink)

    def _new_builtin(self, stack: list[Node], top: Node, key: Any) -> None:
        kids = top[CHILDREN]
        node = kids.get(key)
        if node is None:
            before = self._traced()[0] if self.memory else 0
            node = kids[key] = self.builtin_node(key)
            if self.memory:
                self.own_since(before)
        node[1] += 1
        stack.append(node)
        if self.memory:
            self.mem_enter(top, node)
        node[T0] = self.clock()

    def _make_callback(self, stack: list[Node]) -> Callable[..., None]:
        if self.memory:
            return self._make_memory_callback(stack)
        clock = self.clock
        slow_call = self._slow_call
        slow_c_call = self._slow_c_call
        new_builtin = self._new_builtin
        push_sink = self.push_sink
        builtins = self.builtins

        # One function for all five events (setprofile has a single hook); the branches are
        # ordered by frequency and compare interned strings (identical objects compare at once).
        def callback(frame, event, arg, stack=stack, clock=clock, _id=id, slow_call=slow_call, push_sink=push_sink,  # type: ignore[no-untyped-def]
                     slow_c_call=slow_c_call, new_builtin=new_builtin, builtins=builtins, Module=ModuleType, isinstance=isinstance, type=type):
            if event == "call":
                node = stack[-1][0].get(_id(frame.f_code))  # top's CHILDREN
                if node is None:
                    return slow_call(stack, frame)
                node[1] += 1  # CALLS
                stack.append(node)
                node[3] = clock()  # T0, last: the bookkeeping above is the caller's time
            elif event == "c_call":
                top = stack[-1]
                if top[8] or not builtins:  # QUIET: builtins called by library code fold into it
                    top[6] += 1  # HIDDEN_CALLS
                    sink = top[15]  # SINK: what it pushes (Python code it calls back hangs there)
                    if sink is None:
                        return push_sink(stack, top)
                    stack.append(sink)
                    return None
                if frame.f_code is not top[4]:
                    return slow_c_call(stack, top, frame, arg)
                owner = arg.__self__
                key = arg if owner is None or type(owner) is Module else (owner if isinstance(owner, type) else type(owner), arg.__name__)
                node = top[0].get(key)
                if node is None:
                    return new_builtin(stack, top, key)
                node[1] += 1
                stack.append(node)
                node[3] = clock()
            else:  # "return", "c_return", "c_exception"
                t = clock()  # first: the bookkeeping below is the caller's time
                node = stack.pop()
                node[2] += t - node[3]  # TOTAL += now - T0
            return None

        return callback

    def _make_memory_callback(self, stack: list[Node]) -> Callable[..., None]:
        clock = self.clock
        slow_call = self._slow_call
        slow_c_call = self._slow_c_call
        new_builtin = self._new_builtin
        push_sink = self.push_sink
        builtins = self.builtins
        mem_enter = self.mem_enter
        mem_exit = self.mem_exit

        def callback(frame, event, arg):  # type: ignore[no-untyped-def]
            if event == "call":
                top = stack[-1]
                node = top[0].get(id(frame.f_code))
                if node is None:
                    return slow_call(stack, frame)
                node[1] += 1
                stack.append(node)
                mem_enter(top, node)
                node[3] = clock()
            elif event == "c_call":
                top = stack[-1]
                if top[8] or not builtins:
                    top[6] += 1
                    return push_sink(stack, top)
                if frame.f_code is not top[4]:
                    return slow_c_call(stack, top, frame, arg)
                key = builtin_key(arg)
                node = top[0].get(key)
                if node is None:
                    return new_builtin(stack, top, key)
                node[1] += 1
                stack.append(node)
                mem_enter(top, node)
                node[3] = clock()
            else:
                t = clock()
                node = stack.pop()
                node[2] += t - node[3]
                mem_exit(node, stack[-1])
            return None

        return callback


def make_tracer(clock: Callable[[], float], code_filter: CodeFilter, frames: FrameTable, *, memory: bool = False, builtins: bool = True) -> Tracer:
    """The tracer this interpreter supports best."""
    cls = MonitoringTracer if HAS_MONITORING else SetprofileTracer
    return cls(clock, code_filter, frames, memory=memory, builtins=builtins)
