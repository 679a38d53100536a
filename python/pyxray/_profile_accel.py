"""Trace mode with the optional C engine (``_accel.c``), and the choice between the engines.

The C engine replaces only the per-event fast paths of the two tracers: the sys.monitoring
callbacks (:class:`AccelMonitoringTracer`, 3.12+) and the setprofile callback
(:class:`AccelSetprofileTracer`, 3.8-3.11, a C profile function installed per thread with
``PyEval_SetProfile``, as cProfile does). It works on the same node lists and calls the same
slow-path methods as the Python engine, so the tree -- nodes, call counts, generators, exceptions,
recursion, threads, filters, folding, ``DISABLE`` -- is the same; only the cost per event differs
(and so the calibrated overhead, cached per engine). Memory mode runs here too, without
tracemalloc: the allocator wrapper of ``_accel.c`` (:class:`_CMemory`) charges allocations to the
node on top of the allocating thread's stack; the Python engine polls tracemalloc instead.

Which engine runs (:func:`pyxray._profile_engine.make_recorder`): ``accel="auto"`` (default, or ``PYXRAY_ACCEL`` unset /
``auto``) takes the C engine when it can be built and loaded (:mod:`pyxray._accel_build`) and
else falls back silently -- ``metadata.engine`` is ``"python"`` and ``metadata.engineReason``
says why; ``"on"`` (``PYXRAY_ACCEL=1``) requires it: a trace-mode start raises ProfilerError
``PROFILER_ACCEL_UNAVAILABLE`` when it cannot be had; ``"off"`` (``PYXRAY_ACCEL=0``) always runs the Python
engine. The ``accel=`` option of :class:`pyxray.Profiler` wins over the environment variable.
"""

from __future__ import annotations

import os
import sys
import time

from ._profile_tree import ALLOC_BYTES, ALLOCS, NET, PEAK, real_children
from ._versions import HAS_MONITORING
from .errors import ProfilerError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is for type checkers only
    from types import ModuleType
    from typing import Any, Callable, List

    Node = List[Any]

#: The values of the ``accel`` option and of ``PYXRAY_ACCEL``, by meaning.
_ON = ("1", "on", "true", "yes")
_OFF = ("0", "off", "false", "no")
ACCEL_CHOICES = ("auto", "on", "off")

#: clock_gettime clocks the C engine reads itself (by time.get_clock_info().implementation).
_CLOCK_IDS = {
    "clock_gettime(CLOCK_MONOTONIC)": "CLOCK_MONOTONIC",
    "clock_gettime(CLOCK_THREAD_CPUTIME_ID)": "CLOCK_THREAD_CPUTIME_ID",
    "clock_gettime(CLOCK_PROCESS_CPUTIME_ID)": "CLOCK_PROCESS_CPUTIME_ID",
}


def accel_option(value: Any) -> str:
    """``"auto"``, ``"on"`` or ``"off"`` from the ``accel`` option (None: ``PYXRAY_ACCEL``)."""
    source = "accel"
    if value is None:
        value = os.environ.get("PYXRAY_ACCEL", "auto") or "auto"
        source = "PYXRAY_ACCEL"
    if value is True or value is False:
        return "on" if value else "off"
    text = str(value).strip().lower()
    if text in _ON:
        return "on"
    if text in _OFF:
        return "off"
    if text == "auto":
        return "auto"
    raise ValueError("{} must be 'auto', 'on' (1) or 'off' (0), got {!r}".format(source, value))


def clock_id(clock: Callable[[], float]) -> int:
    """The ``clock_gettime`` id the C engine can read for ``clock`` (the same values as the Python
    clock), or -1: call the Python clock."""
    names = ("perf_counter", "thread_time", "process_time")
    for name in names:
        if getattr(time, name, None) is clock:
            try:
                implementation = time.get_clock_info(name).implementation
            except (AttributeError, ValueError, OSError):
                return -1
            constant = _CLOCK_IDS.get(implementation)
            value = getattr(time, constant, None) if constant else None
            return value if isinstance(value, int) else -1
    return -1


def _module() -> ModuleType:
    from ._accel_build import load

    module, reason = load()
    if module is None:
        raise ProfilerError("PROFILER_ACCEL_UNAVAILABLE", "the C engine is not available: {}".format(reason))
    return module


class _CMemory:
    """Memory mode in the C engine (both mechanisms): the allocator wrapper of ``_accel.c`` runs
    while the tracer is installed, and after each period its records become the nodes' NET, PEAK,
    ALLOCS and ALLOC_BYTES (see :func:`harvest`)."""

    _engine: Any
    memory: bool
    py_memory: bool
    threads: list[Any]

    def _c_memory(self) -> None:
        if self.memory:
            self.py_memory = False  # no tracemalloc polling: the C engine measures

    def install(self) -> None:
        super().install()  # type: ignore[misc]
        if not self.memory:
            return
        try:
            self._engine.mem_start()  # the stacks are followed from the next event on
        except RuntimeError as exc:  # another profile measures memory with the C engine
            super().uninstall()  # type: ignore[misc]
            raise ProfilerError("PROFILER_CONFLICT", "{}; stop that profiler first".format(exc)) from None

    def uninstall(self) -> None:
        try:
            super().uninstall()  # type: ignore[misc]
        finally:
            if self.memory:
                self._engine.mem_stop()
                harvest(self._engine.mem_records(), [state.root for state in self.threads])


def harvest(records: list[tuple[Node, int, int, int, int]], roots: list[Node]) -> None:
    """Writes the C engine's memory records into the trees: each node's own counts (bytes it
    allocated, allocations, its blocks freed since -- by whoever --, its peak) made inclusive of
    its callees for NET, ALLOCS and ALLOC_BYTES (PEAK already is). Recomputed from scratch after
    every period (the records accumulate over periods)."""
    own = {id(node): (allocated, count, allocated - freed, peak) for node, allocated, count, freed, peak in records}
    for root in roots:
        # post-order, iteratively: a node's sums are complete once its children's are
        work: list[tuple[Node, bool]] = [(root, False)]
        while work:
            node, done = work.pop()
            if not done:
                work.append((node, True))
                work.extend((child, False) for child in real_children(node))
                continue
            allocated, count, net, peak = own.get(id(node), (0, 0, 0, 0))
            for child in real_children(node):
                allocated += child[ALLOC_BYTES]
                count += child[ALLOCS]
                net += child[NET]
            node[ALLOC_BYTES] = allocated
            node[ALLOCS] = count
            node[NET] = net
            node[PEAK] = peak


if HAS_MONITORING:
    from ._profile_monitoring import MonitoringTracer

    class AccelMonitoringTracer(_CMemory, MonitoringTracer):
        """sys.monitoring with the C engine's callbacks: one set, told the only thread's stack
        while the program has one thread (``engine.solo``) and otherwise finding each thread's
        stack by its thread state's id. The switch happens exactly when the Python engine swaps
        its single-thread callbacks for the thread-aware ones (a thread start, or an event from
        an unknown thread), so both engines build the same tree."""

        engine = "c"

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._engine = _module().Engine(
                clock_id(self.clock), self.clock, self._stack_here, self.builtins,
                self._slow_start, self._slow_return, self._slow_call, self._new_builtin, self._slow_c_return, None, None,
            )  # fmt: skip
            self._c_memory()

        def go_multi(self) -> None:
            super().go_multi()
            self._engine.solo(None)

        def uninstall(self) -> None:
            super().uninstall()
            self._engine.solo(None)

        def _stack_here(self) -> list[Node]:
            try:
                return self.local.stack  # type: ignore[no-any-return]
            except AttributeError:
                return self._thread_stack()

        def _callbacks(self, solo: Any) -> dict[int, Callable[..., Any]]:
            if self.py_memory:
                return super()._callbacks(solo)
            events = sys.monitoring.events
            engine = self._engine
            engine.solo(solo.stack if solo is not None else None)
            out = {
                events.PY_START: engine.start,
                events.PY_RESUME: engine.start,
                events.PY_THROW: engine.throw,
                events.PY_RETURN: engine.ret,
                events.PY_YIELD: engine.ret,
                events.PY_UNWIND: engine.unwind,
            }
            if self.builtins:
                out[events.CALL] = engine.call
                out[events.C_RETURN] = engine.c_ret
                out[events.C_RAISE] = engine.c_raise
            return out

else:
    from ._profile_setprofile import SetprofileTracer

    class AccelSetprofileTracer(_CMemory, SetprofileTracer):  # type: ignore[no-redef]
        """setprofile with the C engine: each thread's hook is a C profile function bound to the
        thread's stack."""

        engine = "c"

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._accel = _module()
            self._engine = self._accel.Engine(
                clock_id(self.clock), self.clock, None, self.builtins,
                None, None, self._slow_call, self._new_builtin, None, self._slow_c_call, self.push_sink,
            )  # fmt: skip
            self._c_memory()

        def _make_callback(self, stack: list[Node]) -> Callable[..., None]:
            if self.py_memory:
                return super()._make_callback(stack)
            return self._engine.hook(stack)  # type: ignore[no-any-return]

        def set_hook(self, hook: Any) -> None:
            if isinstance(hook, self._accel.Hook):
                self._accel.setprofile(hook)
            else:
                sys.setprofile(hook)
