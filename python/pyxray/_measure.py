"""The ``measure`` method: run code in this interpreter and measure it (``pyxray compare``).

Each *subject* is a piece of source compiled exactly as ``compile`` compiles it (same filename,
same optimize level, so its code objects are the ones the client decoded), a ``setup`` and an
optional ``call`` expression:

- without ``call`` (``-c`` snippets): ``setup`` runs once, then the compiled source itself is the
  statement that is timed and counted (``exec(code, namespace)``);
- with ``call``: the source runs once as a module (``__name__`` is ``"__pyxray_compare__"``, so an
  ``if __name__ == "__main__"`` block stays quiet), then ``setup``, then ``call`` is the
  statement that is timed and counted.

Every subject gets a fresh namespace. Three measurements, each optional:

``timing``
    timeit's method: a loop count found by auto-ranging (1, 2, 5, 10, 20, 50, ... loops until one
    run takes at least ``minTime`` seconds), then ``repeat`` runs of that many loops, timed with
    ``time.perf_counter`` with the garbage collector paused (as timeit does). Repeats of all
    subjects are interleaved (A, B, A, B, ...) so that a change in machine load affects every
    subject alike. The result holds the seconds *per loop* of every repeat; the client computes
    medians, spreads and ratios.
``counts``
    executed instructions per code object (numbered as a depth-first walk of ``co_consts``, the
    module first: the numbering of the client's code tree) and per byte offset, for one run of the
    statement: ``sys.monitoring`` INSTRUCTION events (3.12+; local events on the subject's code
    objects only), else ``sys.settrace`` with ``frame.f_trace_opcodes`` (3.8-3.11, where a
    traced frame reports each instruction before it runs).
``adaptive``
    (3.11+) after the timing runs, or ``warmup`` runs when there is no timing, the live adaptive
    bytecode of every code object (``code._co_code_adaptive``), base64: the client decodes the
    specialized instructions CPython put there. Read before the counting run, whose
    instrumentation would show in those bytes (3.12+).

User code that raises is reported as a ``RUN_ERROR`` naming the subject and the phase.
"""

from __future__ import annotations

import base64
import gc
import sys
import time
import types

from ._versions import HAS_ADAPTIVE, HAS_MONITORING
from .errors import AgentError, bad_request

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is for type checkers only
    from typing import Any, Callable, Dict, List

    Counts = Dict[int, Dict[int, int]]

#: Names the subject labels in messages use, by position.
_LABELS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

#: Loop counts tried by the auto-ranging, times powers of ten (as timeit.Timer.autorange).
_STEPS = (1, 2, 5)

#: Longest time one repeat may be asked to last (seconds).
_MAX_MIN_TIME = 10.0

#: Tool ids tried for sys.monitoring, in order: the ones no standard tool claims come first.
_TOOL_IDS = (3, 4, 1, 0, 2, 5)


def _label(index: int) -> str:
    return _LABELS[index] if index < len(_LABELS) else "#{}".format(index + 1)


def _run_error(index: int, phase: str, exc: BaseException) -> AgentError:
    """A RUN_ERROR for an exception raised by the user's code, with the user's frames only."""
    import traceback

    tb = exc.__traceback__
    # Drop the agent's own frames: the user's traceback starts at their code.
    while tb is not None and tb.tb_frame.f_globals.get("__name__", "").startswith("pyxray"):
        tb = tb.tb_next
    text = "".join(traceback.format_exception(type(exc), exc, tb))
    return AgentError(
        "RUN_ERROR",
        "{}: {} raised {}: {}".format(_label(index), phase, type(exc).__name__, exc),
        subject=index,
        phase=phase,
        type=type(exc).__name__,
        traceback=text,
    )


def code_tree(code: types.CodeType) -> list[types.CodeType]:
    """The code object and every code object nested in its constants, depth first, in
    ``co_consts`` order (the order of the client's ``codeTree``)."""
    out: list[types.CodeType] = []

    def walk(c: types.CodeType) -> None:
        out.append(c)
        for const in c.co_consts:
            if isinstance(const, types.CodeType):
                walk(const)

    walk(code)
    return out


def _reindent(source: str, spaces: int) -> str:
    return source.replace("\n", "\n" + " " * spaces)


class Subject:
    """One subject, compiled and prepared: ``loop(n)`` runs its statement n times and returns the
    seconds it took; ``once()`` runs it once."""

    def __init__(self, index: int, spec: Any) -> None:
        if not isinstance(spec, dict):
            raise bad_request("params.subjects[{}] must be an object".format(index))
        self.index = index
        source = spec.get("source")
        filename = spec.get("filename", "<string>")
        setup = spec.get("setup") or ""
        call = spec.get("call")
        optimize = spec.get("optimize", -1)
        if not isinstance(source, str) or not isinstance(filename, str) or not isinstance(setup, str):
            raise bad_request("params.subjects[{}]: source, filename and setup must be strings".format(index))
        if call is not None and not isinstance(call, str):
            raise bad_request("params.subjects[{}].call must be a string".format(index))
        if optimize not in (-1, 0, 1, 2):
            raise bad_request("params.subjects[{}].optimize must be -1, 0, 1 or 2".format(index))
        self.code = self._compile(source, filename, "exec", optimize, "the source")
        self.tree = code_tree(self.code)
        namespace: dict[str, Any] = {"__name__": "__pyxray_compare__", "__file__": filename, "__builtins__": __builtins__}
        setup_code = self._compile(setup, "<setup>", "exec", optimize, "--setup")
        if call is None:
            self._run(lambda: exec(setup_code, namespace), "setup")
            code = self.code
            self.once: Callable[[], Any] = lambda: exec(code, namespace)
            inner_source = "def inner(_it, _timer, _exec, _code, _ns):\n    _t0 = _timer()\n    for _i in _it:\n        _exec(_code, _ns)\n    return _timer() - _t0\n"
        else:
            self._run(lambda: exec(self.code, namespace), "the module")
            self._run(lambda: exec(setup_code, namespace), "setup")
            call_code = self._compile(call, "<call>", "eval", optimize, "--call")
            self.once = lambda: eval(call_code, namespace)
            # As timeit: the statement inlined in a loop, so each loop costs one FOR_ITER more.
            inner_source = (
                "def inner(_it, _timer, _exec, _code, _ns):\n    _t0 = _timer()\n    for _i in _it:\n        ({})\n"
                "    return _timer() - _t0\n".format(_reindent(call, 8))
            )
        self.namespace = namespace
        helper: dict[str, Any] = {}
        exec(compile(inner_source, "<pyxray timer>", "exec", dont_inherit=True), namespace, helper)
        self._inner = helper["inner"]
        self._run(self.once, "the first run")

    def _compile(self, source: str, filename: str, mode: str, optimize: int, what: str) -> types.CodeType:
        try:
            return compile(source, filename, mode, dont_inherit=True, optimize=optimize)
        except SyntaxError as exc:
            raise AgentError(
                "RUN_ERROR",
                "{}: {} does not compile: {} (line {})".format(_label(self.index), what, exc.msg, exc.lineno),
                subject=self.index,
                phase=what,
                type=type(exc).__name__,
            ) from None

    def _run(self, action: Callable[[], Any], phase: str) -> Any:
        try:
            return action()
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # the user's code: any exception is theirs to see
            raise _run_error(self.index, phase, exc) from None

    def loop(self, number: int) -> float:
        """Seconds for ``number`` runs of the statement, with the garbage collector paused."""
        enabled = gc.isenabled()
        gc.disable()
        try:
            return self._inner(range(number), time.perf_counter, exec, self.code, self.namespace)
        finally:
            if enabled:
                gc.enable()


def autorange(subject: Subject, min_time: float) -> int:
    """The smallest loop count (1, 2, 5, 10, 20, ...) whose run lasts at least ``min_time``."""
    scale = 1
    while True:
        for step in _STEPS:
            number = step * scale
            if subject._run(lambda: subject.loop(number), "a timing run") >= min_time:
                return number
        scale *= 10
        if scale > 10**9:
            return number


def _timing(subjects: list[Subject], repeat: int, min_time: float) -> list[dict[str, Any]]:
    loops = [autorange(s, min_time) for s in subjects]
    per_loop: list[list[float]] = [[] for _ in subjects]
    for _ in range(repeat):
        for s, n, times in zip(subjects, loops, per_loop):
            times.append(s._run(lambda: s.loop(n), "a timing run") / n)
    return [
        {"loops": n, "repeat": repeat, "secondsPerLoop": times, "clock": "time.perf_counter", "gcDisabled": True}
        for n, times in zip(loops, per_loop)
    ]


def _counts_monitoring(subject: Subject) -> Counts:
    mon = sys.monitoring  # type: ignore[attr-defined]
    tool = next((t for t in _TOOL_IDS if mon.get_tool(t) is None), None)
    if tool is None:
        raise AgentError("RUN_ERROR", "every sys.monitoring tool id is in use: cannot count instructions")
    index_of = {id(c): i for i, c in enumerate(subject.tree)}
    counts: Counts = {i: {} for i in range(len(subject.tree))}

    def on_instruction(code: types.CodeType, offset: int) -> None:
        per = counts[index_of[id(code)]]
        per[offset] = per.get(offset, 0) + 1

    mon.use_tool_id(tool, "pyxray compare")
    try:
        mon.register_callback(tool, mon.events.INSTRUCTION, on_instruction)
        for c in subject.tree:
            mon.set_local_events(tool, c, mon.events.INSTRUCTION)
        subject._run(subject.once, "the counting run")
    finally:
        for c in subject.tree:
            mon.set_local_events(tool, c, 0)
        mon.register_callback(tool, mon.events.INSTRUCTION, None)
        mon.free_tool_id(tool)
    return counts


def _counts_settrace(subject: Subject) -> Counts:
    index_of = {id(c): i for i, c in enumerate(subject.tree)}
    counts: Counts = {i: {} for i in range(len(subject.tree))}

    def local(frame: types.FrameType, event: str, arg: Any) -> Any:
        if event == "opcode":
            per = counts[index_of[id(frame.f_code)]]
            per[frame.f_lasti] = per.get(frame.f_lasti, 0) + 1
        return local

    def calls(frame: types.FrameType, event: str, arg: Any) -> Any:
        if id(frame.f_code) in index_of:
            frame.f_trace_opcodes = True
            frame.f_trace_lines = False
            return local
        return None

    previous = sys.gettrace()
    sys.settrace(calls)
    try:
        subject._run(subject.once, "the counting run")
    finally:
        sys.settrace(previous)
    return counts


def _counts(subject: Subject) -> dict[str, Any]:
    if HAS_MONITORING:
        counts, mechanism = _counts_monitoring(subject), "sys.monitoring"
    else:
        counts, mechanism = _counts_settrace(subject), "sys.settrace"
    return {
        "mechanism": mechanism,
        "codes": [
            {"index": i, "qualname": getattr(c, "co_qualname", c.co_name), "firstlineno": c.co_firstlineno, "offsets": sorted(counts[i].items())}
            for i, c in enumerate(subject.tree)
            if counts[i]
        ],
    }


def _adaptive(subject: Subject) -> list[dict[str, Any]] | None:
    if not HAS_ADAPTIVE:
        return None
    out = []
    for i, c in enumerate(subject.tree):
        data = getattr(c, "_co_code_adaptive", None)
        if isinstance(data, bytes):
            out.append({"index": i, "code": base64.b64encode(data).decode("ascii")})
    return out


def _number(params: dict[str, Any], name: str, default: float, lo: float, hi: float) -> float:
    value = params.get(name, default)
    if value is None:
        value = default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
        raise bad_request("params.{} must be a number from {} to {}".format(name, lo, hi))
    return value


def measure_method(params: dict[str, Any]) -> dict[str, Any]:
    """``measure``: ``{subjects: [{timing, counts, adaptive}]}`` (see the module docstring).

    Params: ``subjects`` (list of ``{source, filename, setup, call, optimize}``), ``timing``
    (true), ``repeat`` (7), ``minTime`` (0.2 s), ``counts`` (true), ``adaptive`` (false),
    ``warmup`` (runs before reading adaptive code when there is no timing; 50).
    """
    specs = params.get("subjects")
    if not isinstance(specs, list) or not specs:
        raise bad_request("params.subjects must be a non-empty list")
    repeat = int(_number(params, "repeat", 7, 1, 1000))
    min_time = float(_number(params, "minTime", 0.2, 0.0, _MAX_MIN_TIME))
    warmup = int(_number(params, "warmup", 50, 0, 10**7))
    subjects = [Subject(i, spec) for i, spec in enumerate(specs)]
    timing = _timing(subjects, repeat, min_time) if params.get("timing", True) else None
    results: list[dict[str, Any]] = [{"timing": t} for t in (timing or [None] * len(subjects))]
    for s, r in zip(subjects, results):
        if params.get("adaptive"):
            if timing is None:
                for _ in range(warmup):
                    s._run(s.once, "a warm-up run")
            r["adaptive"] = _adaptive(s)
        r["counts"] = _counts(s) if params.get("counts", True) else None
    return {
        "subjects": results,
        "python": "{}.{}.{}".format(*sys.version_info[:3]),
    }
