"""The engine factory: which recorder (:class:`pyxray._recorder.Recorder`) records a profile.

- ``mode="sample"``: the sampler (:mod:`pyxray._profile_sample`).
- ``count="instructions"`` (trace mode): the Python engine of that mechanism, counting executed
  bytecode instructions per node too.
- ``mode="trace"``: the mechanism this interpreter has -- ``sys.monitoring`` on 3.12+
  (:mod:`pyxray._profile_monitoring`), ``sys.setprofile`` before (:mod:`pyxray._profile_setprofile`)
  -- with the engine the ``accel`` option asks for (see :mod:`pyxray._profile_accel`): the C one
  when it can be had (``"auto"``) or must be (``"on"``), else the Python one, and the recorder's
  ``engine_reason`` says why Python runs.

This module is the only one that knows every engine; the profiler knows only the interface.
"""

from __future__ import annotations

from ._versions import HAS_MONITORING
from .errors import ProfilerError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is for type checkers only
    from typing import Any, Callable

    from ._profile_filter import CodeFilter, FrameTable
    from ._profile_trace import Tracer
    from ._recorder import Recorder


def make_recorder(
    mode: str,
    clock: Callable[[], float],
    clock_name: str,
    code_filter: CodeFilter,
    frames: FrameTable,
    *,
    memory: bool = False,
    interval: float = 0.001,
    builtins: bool = True,
    overhead: str | float | dict[str, Any] = "auto",
    accel: str = "auto",
    count: str | None = None,
) -> Recorder:
    """The recorder for ``mode`` on this interpreter (see the module docstring); ``overhead``:
    trace mode's option (:meth:`pyxray._profile_trace.Tracer.calibrate`). Raises
    ProfilerError ``PROFILER_ACCEL_UNAVAILABLE`` when the C engine is required and cannot be had."""
    if mode == "sample":
        from ._profile_sample import Sampler

        return Sampler(interval, clock_name == "cpu", code_filter, frames, memory=memory, signals=accel != "off")

    def python(reason: str, warning: str | None = None) -> Tracer:
        if HAS_MONITORING:
            from ._profile_monitoring import MonitoringTracer as cls
        else:
            from ._profile_setprofile import SetprofileTracer as cls  # type: ignore[assignment]
        tracer = cls(clock, code_filter, frames, memory=memory, builtins=builtins, clock_name=clock_name, overhead=overhead, count=count)
        tracer.engine_reason = reason
        if warning is not None:
            tracer.warnings.append(warning)
        return tracer

    if accel == "off":
        return python("the Python engine was asked for (accel off / PYXRAY_ACCEL=0)")
    if count is not None:
        reason = "counting instructions runs in the Python engine (the C engine does not count them)"
        return python(reason, reason if accel == "on" else None)
    from ._accel_build import load

    module, why = load()
    if module is None:
        if accel == "on":
            raise ProfilerError(
                "PROFILER_ACCEL_UNAVAILABLE",
                "the C engine was required (accel on / PYXRAY_ACCEL=1) but is not available: {}; "
                "unset PYXRAY_ACCEL (or set it to 0) to use the Python engine".format(why),
            )
        return python(why or "the C engine is not available")
    if HAS_MONITORING:
        from ._profile_accel import AccelMonitoringTracer as accelerated
    else:
        from ._profile_accel import AccelSetprofileTracer as accelerated  # type: ignore[assignment]
    return accelerated(clock, code_filter, frames, memory=memory, builtins=builtins, clock_name=clock_name, overhead=overhead)
