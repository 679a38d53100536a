"""Sample mode: a background thread looks at every thread's stack every ``interval`` seconds.

Each tick reads ``sys._current_frames()`` and, for every other thread, walks its frames from the
outermost to the innermost through the same tree as trace mode (same folding rules, see
:mod:`pyxray._profile_filter`): every node on the path gets one sample and the tick's weight, and
the innermost visible node gets the weight as self time. The weight is the time that really passed
since the previous tick (the sampler cannot keep a perfect beat: it needs the GIL), measured with
the profile's clock -- wall time, or with ``clock="cpu"`` the thread's own CPU time where the OS
has per-thread CPU clocks (Linux, macOS; elsewhere wall time, with a warning). Node ``calls`` stay
0: sampling cannot count calls.

While sampling, ``sys.setswitchinterval`` is lowered to a quarter of the sampling interval (when
it was longer): a CPU-bound thread releases the GIL only when another thread has waited that
long, so with the default 5 ms the sampler would tick every 5 ms at best. (Threads of the
program that compete for the GIL switch more often too.) It is restored at stop. Ticks aim at a
fixed beat (start + k * interval), so a late tick does not delay the next ones.

For the thread that started the profiler, frames from the one that called ``start()`` downwards
are not part of the tree (trace mode cannot see them either); other threads are sampled down to
their first frame.

Memory (``memory=True``): each tick reads tracemalloc's current and peak traced memory (the peak
is reset every tick on 3.9+) and charges the change since the previous tick to the path of the
thread that used the most CPU time in between (the one that started the profiler where CPU clocks
cannot be read): ``netBytes`` adds up those changes, ``peakBytes`` is the highest peak above the
level at the previous tick. A statistical estimate -- exact per-call numbers need trace mode.

Instructions: the innermost visible node also counts the sample at its frame's instruction offset
(``f_lasti``; :mod:`pyxray._profile_sites` says what the document keeps of it, and where on 3.10+
samples land). On 3.10+ a thread lets the sampler run only at calls, backward jumps and function
starts, so its ``f_lasti`` then names one of those, not the instruction it spent the time in. Where
the C engine has the signal sampler (``_accel_sigprof.c``: Linux, 3.10+, SIGPROF not taken, the
``accel`` option not off), each sampled thread's own CPU clock interrupts it every interval of CPU
time it uses, and the handler notes the instruction its innermost frame is running. A tick then
takes that note instead of ``f_lasti`` when the innermost frame is the noted one and the note is new
since the previous tick -- or older, when the thread used at least a tenth of an interval of CPU
since the previous tick, or stands at a jump or RESUME (it ran, but less than an interval or not in
this tick: it waits for the GIL there, and its latest note is where its CPU time in this frame
went). A thread that used no CPU and stands elsewhere is blocked where ``f_lasti`` says (a call),
and keeps it. ``metadata.instructionSampler`` is ``"signal"`` then; the sample weights and the stacks are the
ticks' as before.

Overhead: one tick costs a few microseconds plus a few per frame; at 1 ms that is well under 1%
of a CPU for shallow stacks. Nothing is subtracted.

Windows (``pyxray profile --every S --push URL``, src/cli/profile-push.ts): with the environment
variable ``PYXRAY_WINDOWS=DIR:SECONDS`` (read once, and removed so that child processes do not
inherit it), the sampler thread writes, every SECONDS, the tree so far (cumulative, in the
document's shape: the frame table and every thread's flat nodes) to
``DIR/window-<pid>-<k>.json`` (atomically: a temporary file, then a rename). It is the only writer
of the tree, so the snapshot is consistent; the program's threads never wait for it beyond one
tick. pyxray subtracts consecutive snapshots to get each window and pushes it; the network is
never touched here.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time

from ._guards import HELPER_THREADS
from ._profile_filter import GENERATED, LIBRARY, SKIP, USER, CodeFilter, FrameTable
from ._profile_sites import Sites
from ._profile_tree import CHILDREN, LIB, NET, OFFSETS, PEAK, QUIET, SAMPLES, SELF, TOTAL, flatten_tree, new_node, new_root, thread_tree
from ._recorder import Recorder, ThreadRoot, cpu_clock_of
from .errors import ProfilerError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is for type checkers only
    from types import FrameType
    from typing import Any, List

    Node = List[Any]

try:
    from _thread import get_ident
except ImportError:  # pragma: no cover
    from threading import get_ident


class _Sampled:
    """One sampled thread."""

    __slots__ = ("ident", "name", "native_id", "root", "last", "cpu_clock", "last_cpu", "path", "main", "ran")

    def __init__(self, ident: int, root: Node) -> None:
        self.ident = ident
        thread = threading._active.get(ident)  # type: ignore[attr-defined]
        self.name = thread.name if thread is not None else "Thread-{}".format(ident)
        self.native_id = getattr(thread, "native_id", None)
        self.root = root
        self.last: float | None = None
        self.cpu_clock: int | None = None
        self.last_cpu: float | None = None
        self.path: list[Node] = []
        self.main = False
        #: CPU seconds the thread used since the previous tick (None: not read)
        self.ran: float | None = None


class Sampler(Recorder):
    """Samples every thread's stack on a background thread (see the module docstring)."""

    mode = "sample"
    mechanism = "sampler"

    def __init__(self, interval: float, cpu: bool, code_filter: CodeFilter, frames: FrameTable, *, memory: bool = False, signals: bool = True) -> None:
        super().__init__(memory)
        #: whether to try the C engine's signal sampler for instruction offsets (3.10+)
        self.signals = signals
        self._sigprof: Any = None  # the C module while its signal sampler runs
        self._signal_used = False
        self._want_signals = False
        self._safe: dict[int, frozenset[int]] = {}
        self._signal_wrapper: Any = None
        self.signal_reason: str | None = None
        self.interval = interval
        self.cpu = cpu
        self.filter = code_filter
        self.frames = frames
        self.threads: dict[int, _Sampled] = {}
        self.samples = 0
        self._stopping = [False]
        self._thread: threading.Thread | None = None
        self._cut: FrameType | None = None
        self._starter = 0
        self._switch: float | None = None
        self._kinds: dict[int, int] = {}
        self._keep: list[Any] = []
        self._mem_level = 0
        self._own = 0  # bytes the sampler itself keeps allocated (nodes, paths), memory mode
        if memory:
            import tracemalloc

            self._traced = tracemalloc.get_traced_memory
            self._reset_peak = getattr(tracemalloc, "reset_peak", None)

    # -- the recorder interface (pyxray._recorder) --

    def start(self, caller: FrameType | None, quiet_root: bool) -> float:
        self._load_engine()
        self.start_tracemalloc()
        try:
            began = time.perf_counter()
            self._start_ticking(caller, quiet_root)
        except BaseException:
            self.stop_tracemalloc()
            raise
        return began

    def stop(self) -> float:
        ended = time.perf_counter()
        self._stop_ticking()  # waits for the sampler's tick to end (up to one interval)
        self.stop_tracemalloc()
        return ended

    def abandon(self) -> None:
        self._stopping[0] = True  # the sampler thread does not exist in a forked child
        self._thread = None
        self._stop_signals()  # a forked child has no timers, but the parent's handler
        self._restore_switch()

    def thread_roots(self) -> list[ThreadRoot]:
        # A helper of pyxray's (the signal watchdog) started just after the sampler may be seen by
        # a tick before it is registered: an empty thread that is not the program's.
        return [ThreadRoot(state.ident, state.name, state.native_id, self.visible_root(state.root)) for state in self.threads.values() if state.ident not in HELPER_THREADS]

    def document_threads(self) -> tuple[list[tuple[ThreadRoot, dict[str, Any]]], dict[str, Any]]:
        sites = Sites()
        threads = [(thread, thread_tree(thread.root, scale=1e9, memory=self.memory, sampled=True, sites=sites)) for thread in self.thread_roots()]
        sites.finish(self.frames.entries)
        meta: dict[str, Any] = {}
        meta["intervalNs"] = int(round(self.interval * 1e9))
        meta["samples"] = self.samples
        if self._signal_used:
            meta["instructionSampler"] = "signal"
        elif self.signal_reason is not None:
            meta["instructionSamplerReason"] = self.signal_reason
        return threads, meta

    def shortfall(self, duration: float) -> str | None:
        if self.samples >= 10:
            return None
        ms = duration * 1e3
        if self.samples == 0:
            return "no samples were taken: the run lasted {:.3f} ms, less than the {:g} ms sampling interval; use trace mode (mode='trace', --mode trace) for short runs".format(ms, self.interval * 1e3)
        return "only {} sample(s) were taken in {:.3f} ms at a {:g} ms interval: the times are rough estimates; use trace mode (mode='trace', --mode trace) for short runs".format(self.samples, ms, self.interval * 1e3)

    # -- ticking --

    def _start_ticking(self, caller: FrameType | None, quiet_root: bool) -> None:
        """Starts ticking; ``caller`` is the frame that called the profiler's start();
        ``quiet_root``: it is pyxray's code, so library code its thread calls at root level
        is not shown."""
        if not hasattr(sys, "_current_frames"):
            raise ProfilerError("PROFILER_UNSUPPORTED", "sample mode needs sys._current_frames(); use trace mode")
        self._cut = caller
        self._starter = get_ident()
        self._quiet_root = quiet_root
        self._stopping[0] = False
        if self.memory:
            self._own = 0
            self._mem_level = self._traced()[0]
            if self._reset_peak is not None:
                self._reset_peak()
        now = time.perf_counter()
        self._start_time = now
        self._wall_start_ns = time.time_ns() if hasattr(time, "time_ns") else int(time.time() * 1e9)
        self._window_index = 0
        spec = os.environ.pop("PYXRAY_WINDOWS", None)
        self._windows = None
        if spec:
            directory, _, seconds = spec.rpartition(":")
            try:
                self._windows = (directory, max(0.05, float(seconds)))
            except ValueError:
                self._windows = None
        from ._profile_sites import SAFEPOINT_BIASED

        self._sigprof = None
        self._signal_used = False
        self.signal_reason = None
        self._want_signals = SAFEPOINT_BIASED and self.signals
        if SAFEPOINT_BIASED and not self.signals:
            self.signal_reason = "the C engine was turned off (accel off / PYXRAY_ACCEL=0)"
        for ident in sys._current_frames():
            self._state(ident, now)
        for state in self.threads.values():  # the weight of a first tick starts now
            state.last = now
            state.last_cpu = self._cpu_now(state)
        switch = sys.getswitchinterval()
        if switch > self.interval / 4:
            self._switch = switch
            sys.setswitchinterval(max(self.interval / 4, 1e-6))
        self._thread = threading.Thread(target=self._run, name="pyxray-sampler", daemon=True)
        try:
            self._thread.start()
        except RuntimeError as exc:  # no threads here (Pyodide, WASI)
            self._stop_signals()
            self._restore_switch()
            raise ProfilerError("PROFILER_UNSUPPORTED", "sample mode needs a thread ({}); use trace mode".format(exc)) from exc

    def _stop_ticking(self) -> None:
        self._stopping[0] = True
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._stop_signals()
        self._restore_switch()
        self._cut = None

    def _load_engine(self) -> None:
        """Builds the C engine before the profile starts when its signal sampler may be wanted and
        it is not built yet: built on the sampler thread, the first build (a second or more)
        outlasted short programs, which were then sampled not at all. A built one is loaded on the
        sampler thread (~10 ms of imports that are not the program's)."""
        from ._profile_sites import SAFEPOINT_BIASED

        if SAFEPOINT_BIASED and self.signals:
            from ._accel_build import load, probably_built

            if not probably_built():
                load()

    def _start_signals(self) -> None:
        """Starts the C engine's signal sampler where it helps and can run (module docstring), and
        arms it for the threads seen so far. Runs on the sampler thread before its first tick; the
        C engine was loaded (or built) before the profile started (:meth:`_load_engine`)."""
        if not self._want_signals:
            return
        from ._accel_build import load

        module, why = load()
        if module is None or not hasattr(module, "sigprof_start"):
            self.signal_reason = why or "the C engine has no signal sampler on this platform (Linux only)"
            return
        if self._stopping[0]:  # the first build of the C engine outlasted the program
            self.signal_reason = "the program ended before the C engine was ready (it is built once, on first use)"
            return
        self._wrap_signal()  # first: a handler the program puts in from now on stops the sampler
        why = module.sigprof_start(int(round(self.interval * 1e9)))
        if why is not None:
            self.signal_reason = why
            self._unwrap_signal()
            return
        self._sigprof = module
        self._signal_used = True
        for state in list(self.threads.values()):
            if state.ident not in HELPER_THREADS:
                module.sigprof_arm(state.ident, state.native_id or 0)
        if not module.sigprof_owned():  # the program's handler came in between
            self._give_up_signals("the program put in its own SIGPROF handler while it was sampled")

    def _wrap_signal(self) -> None:
        """While the signal sampler runs, ``signal.signal(SIGPROF, ...)`` stops it first (its
        timers deleted, a pending SIGPROF dropped), so that the program's own handler never sees
        pyxray's signals; the tick checks too (for a ``signal`` function bound before the start)."""
        import signal as signal_module

        original = signal_module.signal
        sampler = self

        def signal(signalnum: Any, handler: Any) -> Any:
            if signalnum == getattr(signal_module, "SIGPROF", None) and sampler._sigprof is not None:
                sampler._give_up_signals("the program put in its own SIGPROF handler while it was sampled")
            return original(signalnum, handler)

        signal.__wrapped__ = original  # type: ignore[attr-defined]
        signal.__doc__ = original.__doc__
        signal_module.signal = signal  # type: ignore[assignment]
        self._signal_wrapper = (signal_module, original, signal)

    def _give_up_signals(self, why: str) -> None:
        """Stops the signal sampler during the profile: offsets are f_lasti from now on."""
        self._stop_signals()
        self._signal_used = False
        self.signal_reason = why

    def _safepoints(self, code: Any) -> frozenset[int]:
        """The offsets of ``code``'s jumps and RESUMEs: instructions that take no time of their own,
        where a thread stands only while it waits for the GIL (it ran to get there)."""
        found = self._safe.get(id(code))
        if found is None:
            import dis

            found = self._safe[id(code)] = frozenset(i.offset for i in dis.get_instructions(code) if "JUMP" in i.opname or i.opname == "RESUME")
            self._keep.append(code)
        return found

    def _stop_signals(self) -> None:
        module, self._sigprof = self._sigprof, None
        if module is not None:
            module.sigprof_stop()
        self._unwrap_signal()

    def _unwrap_signal(self) -> None:
        wrapper, self._signal_wrapper = self._signal_wrapper, None
        if wrapper is not None and wrapper[0].signal is wrapper[2]:
            wrapper[0].signal = wrapper[1]

    def _restore_switch(self) -> None:
        if self._switch is not None:
            sys.setswitchinterval(self._switch)
            self._switch = None

    def _run(self) -> None:
        # time.sleep, not Event.wait: a Condition wait allocates a lock and runs Python code on
        # every tick, with the GIL; stop() sets the flag and waits at most one interval.
        own = get_ident()
        self._start_signals()
        stopping = self._stopping
        sleep = time.sleep
        interval = self.interval
        tick = self._tick
        clock = time.perf_counter
        due = clock() + interval
        windows = self._windows
        next_window = clock() + windows[1] if windows is not None else None
        while True:
            delay = due - clock()
            if delay > 0:
                sleep(delay)
            if stopping[0]:
                return
            tick(own)
            if next_window is not None and clock() >= next_window:
                self._write_window()
                next_window += windows[1]  # type: ignore[index]
                if next_window < clock():
                    next_window = clock() + windows[1]  # type: ignore[index]
            due += interval
            now = clock()
            if due < now:  # far behind (a long GIL hold): skip the missed beats
                due = now + interval

    def _write_window(self) -> None:
        """The tree so far as DIR/window-<pid>-<k>.json (see the module docstring)."""
        directory = self._windows[0]  # type: ignore[index]
        threads, _ = self.document_threads()
        now = time.perf_counter()
        snapshot = {
            "pid": os.getpid(),
            "python": "{}.{}.{}".format(*sys.version_info[:3]),
            "index": self._window_index,
            "startWallNs": self._wall_start_ns,
            "elapsedNs": int((now - self._start_time) * 1e9),
            "samples": self.samples,
            "intervalNs": int(round(self.interval * 1e9)),
            "frames": self.frames.entries,
            "threads": [{"id": t.ident, "name": t.name, "main": bool(getattr(self.threads.get(t.ident), "main", False)), "nodes": flatten_tree(tree)} for t, tree in threads],
        }
        name = os.path.join(directory, "window-{}-{:06d}.json".format(os.getpid(), self._window_index))
        self._window_index += 1
        try:
            with open(name + ".tmp", "w") as f:
                json.dump(snapshot, f, separators=(",", ":"))
            os.replace(name + ".tmp", name)
        except OSError:
            pass  # pyxray counts the window as lost; the profile goes on

    def _kind(self, code: Any) -> int:
        kind = self._kinds.get(id(code))
        if kind is None:
            kind = self.filter.kind_of_code(code)
            self._kinds[id(code)] = kind
            self._keep.append(code)
        return kind

    def _state(self, ident: int, now: float) -> _Sampled:
        state = self.threads.get(ident)
        if state is None:
            state = self.threads[ident] = _Sampled(ident, new_root())
            state.last = self._start_time
            state.main = ident == self._starter
            if state.main and self._quiet_root:
                state.root[LIB] = 2
                state.root[QUIET] = True
            if self._sigprof is not None and ident not in HELPER_THREADS:
                self._sigprof.sigprof_arm(ident, state.native_id or 0)
            if self.cpu or self.memory or self._want_signals:
                state.cpu_clock = cpu_clock_of(ident)
                # a thread first seen now has used its CPU time since it started
                state.last_cpu = 0.0 if state.cpu_clock is not None else None
                if self.cpu and state.cpu_clock is None and not self.warnings:
                    self.warnings.append("this OS has no per-thread CPU clock readable from another thread; samples are weighted by wall time")
        return state

    @staticmethod
    def _cpu_now(state: _Sampled) -> float | None:
        if state.cpu_clock is None:
            return None
        try:
            return time.clock_gettime(state.cpu_clock)
        except OSError:
            return None

    def _tick(self, own: int) -> None:
        # Memory first: the tick's own allocations (the frames dict, paths) are not the program's.
        level = self._traced() if self.memory else None
        frames = sys._current_frames()
        now = time.perf_counter()
        if self._sigprof is not None and not self._sigprof.sigprof_owned():
            self._give_up_signals("the program put in its own SIGPROF handler while it was sampled")
        best: _Sampled | None = None
        best_cpu = -1.0
        for ident, frame in frames.items():
            if ident == own or ident in HELPER_THREADS:  # the sampler's, pyxray's signal watchdog
                continue
            state = self._state(ident, now)
            weight = now - (state.last if state.last is not None else now)
            state.last = now
            if state.cpu_clock is not None:
                cpu_now = self._cpu_now(state)
                if cpu_now is not None:
                    used = cpu_now - state.last_cpu if state.last_cpu is not None else 0.0
                    state.last_cpu = cpu_now
                    state.ran = used
                    if self.cpu:
                        weight = max(0.0, used)
                    if used > best_cpu:
                        best, best_cpu = state, used
            self._add(state, frame, weight)
            if best is None and state.main:
                best = state
        self.samples += 1
        if level is not None:
            self._charge_memory(best, level[0] - self._own, level[1] - self._own)
            self._own += self._traced()[0] - level[0]  # what this tick left allocated is the sampler's

    def _add(self, state: _Sampled, leaf: FrameType, weight: float) -> None:
        chain: list[FrameType] = []
        frame: FrameType | None = leaf
        cut = self._cut if state.main else None
        while frame is not None and frame is not cut:
            chain.append(frame)
            frame = frame.f_back
        node = state.root
        node[SAMPLES] += 1
        node[TOTAL] += weight
        path = [node]
        site = None  # the frame of the innermost visible node (its offset is where that code was)
        for frame in reversed(chain):
            code = frame.f_code
            kids = node[CHILDREN]
            child = kids.get(id(code))
            if child is None:
                kind = self._kind(code)
                if kind == GENERATED:
                    kind = LIBRARY if node[LIB] == 1 else USER
                if kind >= SKIP or (kind == LIBRARY and node[LIB]):
                    child = kids[id(code)] = node  # folded into node
                else:
                    child = kids[id(code)] = new_node(self.frames.index_code(code, frame), code, 1 if kind == LIBRARY and self.filter.folds_libraries else 0)
            if child is node:
                continue
            node = child
            site = frame
            node[SAMPLES] += 1
            node[TOTAL] += weight
            path.append(node)
        node[SELF] += weight
        if site is not None:
            offsets = node[OFFSETS]
            if offsets is None:
                offsets = node[OFFSETS] = {}
            lasti = site.f_lasti
            if self._sigprof is not None and site is leaf:
                ran = state.ran
                stale = (ran is not None and ran >= self.interval / 10) or lasti in self._safepoints(site.f_code)
                noted = self._sigprof.sigprof_take(state.ident, site.f_code, stale)
                if noted >= 0:
                    lasti = noted
                elif noted == -2:  # the id is a new thread's (ids of ended threads are reused)
                    thread = threading._active.get(state.ident)  # type: ignore[attr-defined]
                    self._sigprof.sigprof_arm(state.ident, getattr(thread, "native_id", None) or 0)
            offsets[lasti] = offsets.get(lasti, 0) + 1
        state.path = path

    def _charge_memory(self, state: _Sampled | None, current: int, peak: int) -> None:
        if self._reset_peak is not None:
            self._reset_peak()
        else:
            peak = current
        previous = self._mem_level
        self._mem_level = current
        if state is None:
            return
        for node in state.path:
            node[NET] += current - previous
            if peak - previous > node[PEAK]:
                node[PEAK] = peak - previous
