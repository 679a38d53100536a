"""Trace mode on CPython 3.8-3.11: ``sys.setprofile`` and ``threading.setprofile``.

``sys.setprofile`` hooks the thread that starts profiling; ``threading.setprofile`` hooks threads
started afterwards through ``threading``, and ``_thread.start_new_thread`` is wrapped while
profiling so that threads started with it directly are hooked too. Each thread gets its own callback closure bound to its own stack, so the hot
path needs no thread lookup. One callback gets all five events ('call', 'return', 'c_call',
'c_return', 'c_exception'); a generator's resumption is a 'call', its yield a 'return', and an
exception leaving a frame a 'return' too. Events always pair, so the return path has no checks:
frames that were running when profiling started return into copies of the root that pad the
bottom of the stack (one per running frame, plus a margin).

Builtins called by library (quiet) frames push that frame's SINK, a folded node, so that Python
code they call back (a ``sorted`` key, ``exec``) still has a parent.

Limits of the mechanism: threads already running when profiling starts cannot be hooked
(``sys.setprofile`` only acts on the calling thread; the document says so in a warning); and
when a callback raises (a KeyboardInterrupt arriving while it runs), Python removes the hook --
the document warns that later calls were not traced. After stop(), other threads' stacks are
swapped for copies of a "stopper" node: their next call event finds no child there, takes the
slow path and unhooks the thread.

Counting instructions (``count="instructions"``): ``sys.settrace`` as well, in every hooked
thread. Its 'call' event turns on ``f_trace_opcodes`` (and off ``f_trace_lines``) in frames of
code that is not excluded nor pyxray's, whose local trace function then adds one to the top node's
EXECUTED slot per 'opcode' event; other frames get no local trace function. Frames already running
when profiling starts are not traced (as their calls have no node).

The hot paths are documented in :mod:`pyxray._profile_trace`.
"""

from __future__ import annotations

import sys
import threading
from types import ModuleType

from ._guards import program_threads
from ._profile_filter import GENERATED, SKIP, USER
from ._profile_trace import NO_FRAME, STOPPER_FRAME, ThreadState, Tracer, builtin_key, frame_depth, get_ident
from ._profile_tree import CHILDREN, FRAME, HIDDEN_CALLS, KEY, LIB, QUIET, SINK, TOTAL, new_node
from .errors import ProfilerError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is for type checkers only
    from types import FrameType
    from typing import Any, Callable, List

    Node = List[Any]

#: How many copies of the root pad a stack beyond the frames running at start.
PAD_MARGIN = 64


class SetprofileTracer(Tracer):
    """Trace mode through ``sys.setprofile`` (see the module docstring)."""

    mechanism = "sys.setprofile"
    negative_start = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._by_ident: dict[int, Callable[..., Any]] = {}
        self._starter_callback: Callable[..., Any] | None = None
        self._raw_start: Any = None  # _thread.start_new_thread, while it is wrapped
        # What the stacks of other threads hold after stop(): their next call event finds no
        # child in it, takes the slow path and removes the thread's hook.
        self._stopper = new_node(STOPPER_FRAME, None, True)

    def first_start(self) -> None:
        running = program_threads()
        if running > 1:
            self.warnings.append(
                "{} other thread(s) were already running when profiling started and are not traced: before "
                "Python 3.12 a profiler can only trace the thread that starts it and threads started afterwards".format(running - 1)
            )
        super().first_start()

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
            held, state.stack[:] = state.stack[:], [state.root] * (frame_depth() + PAD_MARGIN)
        else:  # the thread may still be hooked: its next call event unhooks it
            held, state.stack[:] = state.stack[:], [self._stopper] * max(len(state.stack), PAD_MARGIN)
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
        if self.count_instructions and sys.gettrace() is not None:
            raise ProfilerError(
                "PROFILER_CONFLICT",
                "sys.settrace is already set (to {!r}) in this thread (a debugger or coverage?); counting instructions "
                "before Python 3.12 needs the trace hook: run without it".format(sys.gettrace()),
            )
        threading.setprofile(self._thread_starter)
        self._wrap_raw_threads()
        self.set_hook(self._starter_callback)
        if self.count_instructions:
            state = self.state_of(get_ident())
            assert state is not None
            sys.settrace(self._make_counter(state.stack))
        self.installed = True

    def _wrap_raw_threads(self) -> None:
        """Wraps ``_thread.start_new_thread`` (threading keeps its own reference, hooked through
        threading.setprofile) so that threads started with it run our hook first."""
        import _thread

        original = _thread.start_new_thread
        starter = self._thread_starter

        def start_new_thread(function: Any, args: Any, kwargs: Any = None) -> Any:
            def hooked(*a: Any, **k: Any) -> Any:
                sys.setprofile(starter)
                return function(*a, **k)

            return original(hooked, args, {} if kwargs is None else kwargs)

        self._raw_start = original
        _thread.start_new_thread = start_new_thread  # type: ignore[assignment]

    def uninstall(self) -> None:
        mine = self._by_ident.get(get_ident())
        if mine is not None and sys.getprofile() is not mine:
            self.warnings.append(
                "pyxray's profile hook (sys.setprofile) was removed while profiling -- by another tool, or by "
                "Python because an exception (such as KeyboardInterrupt) interrupted it; later calls were not traced"
            )
        sys.setprofile(None)
        if self.count_instructions:
            sys.settrace(None)
        threading.setprofile(None)  # type: ignore[arg-type]
        if self._raw_start is not None:
            import _thread

            _thread.start_new_thread = self._raw_start  # type: ignore[assignment]
            self._raw_start = None
        self.installed = False

    def _thread_starter(self, frame: FrameType, event: str, arg: Any) -> None:
        """threading's hook for new threads: gives the thread its own stack and callback."""
        before = self._traced()[0] if self.py_memory else 0
        state = self.new_state()
        depth = 0
        older: FrameType | None = frame.f_back
        while older is not None:
            depth += 1
            older = older.f_back
        state.stack[:] = [state.root] * (depth + PAD_MARGIN)
        callback = self._make_callback(state.stack)
        with self._lock:
            self._by_ident[state.ident] = callback
        if self.py_memory:
            self.own_since(before)
        self.set_hook(callback)
        if self.count_instructions:
            counter = self._make_counter(state.stack)
            sys.settrace(counter)
            frame.f_trace = counter(frame, "call", None)  # this frame's 'call' has passed
        callback(frame, event, arg)

    def _make_counter(self, stack: list[Node]) -> Callable[..., Any]:
        """Counting: the thread's ``sys.settrace`` function (see the module docstring)."""
        kind = self.kind

        def opcode(frame, event, arg, stack=stack):  # type: ignore[no-untyped-def]
            if event == "opcode":
                stack[-1][18] += 1  # EXECUTED of the top node
            return opcode

        def counter(frame, event, arg):  # type: ignore[no-untyped-def]
            if kind(frame.f_code) >= SKIP:
                return None
            frame.f_trace_lines = False
            frame.f_trace_opcodes = True
            return opcode

        return counter

    def set_hook(self, hook: Any) -> None:
        """Makes ``hook`` (a callback of :meth:`_make_callback`) the calling thread's hook."""
        sys.setprofile(hook)

    def _slow_call(self, stack: list[Node], frame: FrameType) -> None:
        top = stack[-1]
        if top is self._stopper:
            sys.setprofile(None)  # the profiler stopped: this thread stops calling us
            return
        before = self._traced()[0] if self.py_memory else 0
        code = frame.f_code
        node = top[CHILDREN][id(code)] = self.child(top, code, self.kind(code), frame)
        if self.py_memory:
            self.own_since(before)
        node[1] = 1
        stack.append(node)
        if self.py_memory:
            self.mem_enter(top, node)
        node[TOTAL] -= self.clock()

    def _slow_c_call(self, stack: list[Node], top: Node, frame: FrameType, func: Any) -> None:
        """A builtin called from a frame that is not the top node's: shown under the root when
        that frame is user code older than the profile, else folded."""
        if top[KEY] is None and top[FRAME] == -1 and not top[QUIET] and self.kind(frame.f_code) in (USER, GENERATED):
            self._new_builtin(stack, top, builtin_key(func))
            return
        top[HIDDEN_CALLS] += 1
        self.push_sink(stack, top)

    def push_sink(self, stack: list[Node], top: Node) -> None:
        """Enters the folded node that stands for builtins called by ``top`` (see SINK)."""
        sink = top[SINK]
        if sink is None:
            sink = top[SINK] = new_node(NO_FRAME, None, top[LIB], folded=True, quiet=True)
        stack.append(sink)
        if self.py_memory:
            self.mem_enter(top, sink)

    def _new_builtin(self, stack: list[Node], top: Node, key: Any) -> None:
        node = self.enter_builtin(stack, top, key)
        node[TOTAL] -= self.clock()

    def _make_callback(self, stack: list[Node]) -> Callable[..., None]:
        if self.py_memory:
            return self._make_memory_callback(stack)
        clock = self.clock
        slow_call = self._slow_call
        slow_c_call = self._slow_c_call
        new_builtin = self._new_builtin
        push_sink = self.push_sink
        builtins = self.builtins

        # One function for all five events (setprofile has a single hook); the branches are
        # ordered by frequency and compare interned strings (identical objects compare at once).
        # push/pop are the stack's bound methods (no method lookup before 3.11), and a running
        # call's entry time is subtracted from TOTAL and the exit time added back (see
        # Tracer.negative_start): ~15% less overhead on 3.8-3.10 than T0 bookkeeping.
        def callback(frame, event, arg, stack=stack, push=stack.append, pop=stack.pop, clock=clock, _id=id, slow_call=slow_call,  # type: ignore[no-untyped-def]
                     push_sink=push_sink, slow_c_call=slow_c_call, new_builtin=new_builtin, builtins=builtins, Module=ModuleType, isinstance=isinstance, type=type):
            if event == "call":
                node = stack[-1][0].get(_id(frame.f_code))  # top's CHILDREN
                if node is None:
                    return slow_call(stack, frame)
                node[1] += 1  # CALLS
                push(node)
                node[2] -= clock()  # TOTAL -= entry time, last: the bookkeeping above is the caller's time
            elif event == "c_call":
                top = stack[-1]
                if top[8] or not builtins:  # QUIET: builtins called by library code fold into it
                    top[6] += 1  # HIDDEN_CALLS
                    sink = top[15]  # SINK: what it pushes (Python code it calls back hangs there)
                    if sink is None:
                        return push_sink(stack, top)
                    push(sink)
                    return None
                if frame.f_code is not top[4]:
                    return slow_c_call(stack, top, frame, arg)
                owner = arg.__self__
                key = arg if owner is None or type(owner) is Module else (owner if isinstance(owner, type) else type(owner), arg.__name__)
                node = top[0].get(key)
                if node is None:
                    return new_builtin(stack, top, key)
                node[1] += 1
                push(node)
                node[2] -= clock()
            else:  # "return", "c_return", "c_exception"
                pop()[2] += clock()  # TOTAL += exit time
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
                node[2] -= clock()
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
                node[2] -= clock()
            else:
                t = clock()
                node = stack.pop()
                node[2] += t
                mem_exit(node, stack[-1])
            return None

        return callback
