"""Trace mode with the optional C engine (``_accel.c``), and the choice between the engines.

The C engine replaces only the per-event fast paths of the two tracers: the sys.monitoring
callbacks (:class:`AccelMonitoringTracer`, 3.12+) and the setprofile callback
(:class:`AccelSetprofileTracer`, 3.8-3.11, a C profile function installed per thread with
``PyEval_SetProfile``, as cProfile does). It works on the same node lists and calls the same
slow-path methods as the Python engine, so the tree -- nodes, call counts, generators, exceptions,
recursion, threads, filters, folding, ``DISABLE`` -- is the same; only the cost per event differs
(and so the calibrated overhead, cached per engine). Memory mode keeps the Python engine.

Which engine runs (:func:`pyxray._profile_engine.make_recorder`): ``accel="auto"`` (default, or ``PYXRAY_ACCEL`` unset /
``auto``) takes the C engine when it can be built and loaded (:mod:`pyxray._accel_build`) and
else falls back silently -- ``metadata.engine`` is ``"python"`` and ``metadata.engineReason``
says why; ``"on"`` (``PYXRAY_ACCEL=1``) requires it: a trace-mode start raises ProfilerError
``PROFILER_ACCEL_UNAVAILABLE`` when it cannot be had (memory mode, which it does not cover, runs
the Python engine with a warning instead); ``"off"`` (``PYXRAY_ACCEL=0``) always runs the Python
engine. The ``accel=`` option of :class:`pyxray.Profiler` wins over the environment variable.
"""

from __future__ import annotations

import os
import sys
import time

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


if HAS_MONITORING:
    from ._profile_monitoring import MonitoringTracer

    class AccelMonitoringTracer(MonitoringTracer):
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
            if self.memory:
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

    class AccelSetprofileTracer(SetprofileTracer):  # type: ignore[no-redef]
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

        def _make_callback(self, stack: list[Node]) -> Callable[..., None]:
            if self.memory:
                return super()._make_callback(stack)
            return self._engine.hook(stack)  # type: ignore[no-any-return]

        def set_hook(self, hook: Any) -> None:
            if isinstance(hook, self._accel.Hook):
                self._accel.setprofile(hook)
            else:
                sys.setprofile(hook)
