"""Trace mode on CPython 3.12+: ``sys.monitoring``, with the profiler tool id.

PY_START/PY_RESUME/PY_THROW enter a node, PY_RETURN/PY_YIELD/PY_UNWIND leave it; CALL with
C_RETURN/C_RAISE do the same for builtins (``builtin_function_or_method`` and
``method_descriptor`` callables, as cProfile). Events are global, so every thread is seen,
including threads started before profiling. Excluded code and pyxray itself answer ``DISABLE``
from their first PY_START/PY_RESUME/PY_RETURN/PY_YIELD, and so do CALL sites in library or
excluded code (their builtins are never shown): those locations never call back again
(``restart_events()`` at start and stop keeps that from leaking into another tool's run). Frames
that were running before profiling started have no node: the return callbacks check that the
returning code is the top node's (one identity test) and leave the rest to a slow path that
ignores them.

Threads: callbacks are global, so each must find its thread's stack. While the program has a
single thread, the callbacks are closures bound to that thread's stack (no lookup: ~15-20%
cheaper); when a thread is started (``threading`` and ``_thread`` thread creation is wrapped
for the duration, to switch first) or an event arrives from an unknown thread (one created in C;
the slow paths check), the callbacks are swapped for ones that look the stack up in a
``threading.local``.

Counting instructions (``count="instructions"``): an INSTRUCTION callback adds one to the top
node's EXECUTED slot. INSTRUCTION is a local event here, switched on per code object the first time
that code is entered under a node (the slow start path) -- code that is excluded or pyxray's own
answers DISABLE from its PY_START and never gets it, so nothing outside the profiled code pays for
counting; the code objects are switched off again at stop.

The hot paths are documented in :mod:`pyxray._profile_trace`.
"""

from __future__ import annotations

import sys
import threading
from types import BuiltinFunctionType, MethodDescriptorType, ModuleType

from ._guards import HELPER_THREADS
from ._profile_filter import GENERATED, LIBRARY, SKIP, USER
from ._profile_trace import BUILTIN_TYPES, ThreadState, Tracer, builtin_key, get_ident
from ._profile_tree import CHILDREN, KEY, LIB, QUIET, T0, TOTAL
from .errors import ProfilerError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is for type checkers only
    from types import CodeType
    from typing import Any, Callable, List

    Node = List[Any]


class MonitoringTracer(Tracer):
    """Trace mode through ``sys.monitoring`` (see the module docstring)."""

    mechanism = "sys.monitoring"
    disables = True
    #: Whether the single-thread callbacks may be used (the C engine finds stacks itself).
    single_thread_callbacks = True

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
        before = self._traced()[0] if self.py_memory else 0
        state = self.new_state()
        self.local.stack = state.stack
        if self.py_memory:
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
        solo = self.single_thread_callbacks and not self.py_memory and starter is not None and len(set(sys._current_frames()) - HELPER_THREADS) == 1
        mon.use_tool_id(self.tool, "pyxray")
        self._multi = self._callbacks(None)
        callbacks = self._callbacks(starter) if solo else self._multi
        self.solo = starter if solo else None
        if solo:
            self._patch_thread_starts()
        mask = 0
        for event, callback in callbacks.items():
            mon.register_callback(self.tool, event, callback)
            if event != mon.events.INSTRUCTION:  # local: per counted code object (see the module docstring)
                mask |= event
        self._events = list(callbacks)
        mon.restart_events()  # locations another run disabled must call us again
        mon.set_events(self.tool, mask)
        for code in self._counted:  # an earlier period's (start() after stop())
            mon.set_local_events(self.tool, code, mon.events.INSTRUCTION)
        self.installed = True

    def uninstall(self) -> None:
        mon = sys.monitoring
        mon.set_events(self.tool, 0)
        for code in self._counted:
            mon.set_local_events(self.tool, code, 0)
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
        before = self._traced()[0] if self.py_memory else 0
        kind = self.kind(code)
        if kind >= SKIP:
            return sys.monitoring.DISABLE
        top = stack[-1]
        node = top[CHILDREN].get(id(code))
        if node is None:
            node = top[CHILDREN][id(code)] = self.child(top, code, kind)
            if self.count_instructions:
                self._count_code(code)
        if self.py_memory:
            self.own_since(before)
        node[1] += 1
        stack.append(node)
        if self.py_memory:
            self.mem_enter(top, node)
        node[T0] = self.clock()
        return None

    def _count_code(self, code: CodeType) -> None:
        """Switches INSTRUCTION events on for ``code`` (once: the code objects are kept in _counted)."""
        if sys.monitoring.get_local_events(self.tool, code) & sys.monitoring.events.INSTRUCTION:
            return
        sys.monitoring.set_local_events(self.tool, code, sys.monitoring.events.INSTRUCTION)
        self._counted.append(code)

    def _slow_return(self, stack: list[Node], code: CodeType, t: float) -> Any:
        stack = self._foreign(stack) or stack
        if self.kind(code) >= SKIP:
            return sys.monitoring.DISABLE
        node = stack[-1]
        if node[KEY] is code:  # (a foreign thread's event that came through here)
            node[TOTAL] += t - node[T0]
            del stack[-1]
            if self.py_memory:
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
        if caller == GENERATED:
            caller = LIBRARY if top[LIB] == 1 else USER
        if top[KEY] is None and caller == USER:
            return self._new_builtin(stack, top, builtin_key(func))
        if caller >= SKIP or top[QUIET] or (caller == LIBRARY and self.filter.folds_libraries):
            return sys.monitoring.DISABLE  # this call site never shows a builtin
        return None

    def _new_builtin(self, stack: list[Node], top: Node, key: Any) -> None:
        node = self.enter_builtin(stack, top, key)
        node[T0] = self.clock()

    def _slow_c_return(self, stack: list[Node], func: Any, t: float) -> None:
        stack = self._foreign(stack) or stack
        node = stack[-1]
        key = builtin_key(func)
        if node[KEY] is key or (isinstance(key, tuple) and node[KEY] == key):
            node[TOTAL] += t - node[T0]
            del stack[-1]
            if self.py_memory:
                self.mem_exit(node, stack[-1])
            return
        if not isinstance(key, tuple):
            self.unwind_to(stack, key, t)  # else: a folded builtin, or one older than the profile

    # -- the callbacks --

    def _callbacks(self, solo: ThreadState | None) -> dict[int, Callable[..., Any]]:
        """The callbacks by event: bound to ``solo``'s stack, or looking the stack up."""
        events = sys.monitoring.events
        if self.py_memory:
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
        if self.count_instructions:
            out[events.INSTRUCTION] = self._instruction_callback(solo)
        return out

    def _instruction_callback(self, solo: ThreadState | None) -> Callable[..., Any]:
        """Counting: one more instruction for the top node of the thread's stack (EXECUTED, slot 18)."""
        if solo is not None:

            def instruction(code, offset, stack=solo.stack):  # type: ignore[no-untyped-def]
                stack[-1][18] += 1

            return instruction
        local = self.local
        thread_stack = self._thread_stack

        def instruction_any_thread(code, offset, local=local, thread_stack=thread_stack):  # type: ignore[no-untyped-def]
            try:
                stack = local.stack
            except AttributeError:
                stack = thread_stack()
            stack[-1][18] += 1

        return instruction_any_thread

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
            if not isinstance(func, BUILTIN_TYPES):
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
            if not isinstance(func, BUILTIN_TYPES):
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
