"""What the profiler (:mod:`pyxray.profiler`) asks of the engine that records a profile.

Every engine is a :class:`Recorder`: the tracers of trace mode (:class:`pyxray._profile_trace.Tracer`
and its mechanisms, ``sys.monitoring`` and ``sys.setprofile``, in Python or with the C engine) and
the sampler of sample mode (:class:`pyxray._profile_sample.Sampler`). :mod:`pyxray._profile_engine`
chooses one for the mode, the interpreter and the ``accel`` option. The profiler drives it through
these methods only:

- :meth:`Recorder.start` / :meth:`Recorder.stop`: a profiling period (a recorder can be started
  again after stop(); the next period adds to the same trees), each returning the
  ``time.perf_counter()`` reading at which recording really began or ended (the run's duration);
- :meth:`Recorder.abandon`: drop a recorder inherited through fork, touching no thread;
- :meth:`Recorder.thread_roots` and :meth:`Recorder.document_threads`: each thread's tree, raw
  and as document nodes, with what the document's metadata says about how they were made;
- ``warnings`` and :meth:`Recorder.document_warnings`: what the profile should be read with in mind.

With ``memory=True`` the recorder runs tracemalloc for its periods (started if it is not running
and stopped at the end of the period, see :meth:`Recorder.start_tracemalloc`).
"""

from __future__ import annotations

import time

from ._profile_tree import TOTAL, merge_duplicate_frames, thread_tree, visible_tree

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is for type checkers only
    from types import FrameType
    from typing import Any, List

    Node = List[Any]


class ThreadRoot:
    """One recorded thread, as the document shows it: its identity and its visible tree (folded
    nodes dissolved, duplicate frames merged), whose root's TOTAL is the thread's measured time."""

    __slots__ = ("ident", "name", "native_id", "root")

    def __init__(self, ident: int, name: str, native_id: int | None, root: Node) -> None:
        self.ident = ident
        self.name = name
        self.native_id = native_id
        self.root = root


class Recorder:
    """An engine that records call trees (see the module docstring)."""

    #: ``metadata.mode``: "trace" or "sample".
    mode = ""
    #: ``metadata.tracer``: "sys.monitoring", "sys.setprofile" or "sampler".
    mechanism = ""
    #: ``metadata.engine``: which engine runs the per-event hot path, "python" or "c".
    engine = "python"

    def __init__(self, memory: bool) -> None:
        self.memory = memory
        #: Memory is measured by polling tracemalloc at every event (False: not measured, or the C
        #: engine's allocator wrapper measures it).
        self.py_memory = memory
        #: What the profile should be read with in mind, in the order it was found.
        self.warnings: list[str] = []
        #: ``metadata.engineReason``: why the Python engine runs where the C one could (None: no reason to give).
        self.engine_reason: str | None = None
        #: Trace mode: the per-call costs subtracted from the trees (ns) and where they come from
        #: (``metadata.overhead``); None when nothing is subtracted (sample mode).
        self.overhead: dict[str, Any] | None = None
        self._started_tracemalloc = False

    # -- periods --

    def start(self, caller: FrameType | None, quiet_root: bool) -> float:
        """Starts (or resumes) recording; returns the perf_counter reading when it began.
        ``caller`` is the frame that started the profiler; ``quiet_root``: that frame is pyxray's
        own (the command line, the decorator), so library code it calls directly is not shown."""
        raise NotImplementedError

    def stop(self) -> float:
        """Stops recording; returns the perf_counter reading when it ended."""
        raise NotImplementedError

    def abandon(self) -> None:
        """Stops recording in a forked child without touching the parent's threads or locks."""
        raise NotImplementedError

    # -- results --

    def thread_roots(self) -> list[ThreadRoot]:
        """Every recorded thread of the program (not pyxray's own), first seen first."""
        raise NotImplementedError

    def document_threads(self) -> tuple[list[tuple[ThreadRoot, dict[str, Any]]], dict[str, Any]]:
        """Each thread with its tree as document nodes (:func:`pyxray._profile_tree.thread_tree`),
        and the metadata entries that say how they were made (the mode's own)."""
        out = []
        for thread in self.thread_roots():
            out.append((thread, thread_tree(thread.root, scale=1e9, memory=self.memory, allocations=self.memory and not self.py_memory, sampled=self.mode == "sample")))
        return out, {}

    def overhead_ns_per_event(self) -> float:
        """``metadata.overheadNsPerEvent``: the recording's estimated cost per event (0: none subtracted)."""
        return 0

    def shortfall(self, duration: float) -> str | None:
        """What to say when a run of ``duration`` seconds gave too little to mean much (or None)."""
        return None

    def document_warnings(self, duration: float) -> list[str]:
        """``warnings``, and what this run's length and the interpreter add to them."""
        out = list(self.warnings)
        text = self.shortfall(duration)
        if text is not None:
            out.append(text)
        return out

    # -- helpers for the engines --

    @staticmethod
    def visible_root(root: Node, total: float | None = None) -> Node:
        """A copy of a recorded tree as the document shows it; ``total``: the root's time."""
        visible = visible_tree(root)
        if total is not None:
            visible[TOTAL] = total
        merge_duplicate_frames(visible)
        return visible

    def start_tracemalloc(self) -> bool:
        """Memory mode: starts tracemalloc if it is not tracing (stopped again by
        :meth:`stop_tracemalloc`); returns whether it did (its traces are then fresh)."""
        if not self.py_memory:
            return False
        import tracemalloc

        if tracemalloc.is_tracing():
            return False
        tracemalloc.start(1)
        self._started_tracemalloc = True
        return True

    def stop_tracemalloc(self) -> None:
        if self._started_tracemalloc:
            import tracemalloc

            tracemalloc.stop()
            self._started_tracemalloc = False


def cpu_clock_of(ident: int) -> int | None:
    """The CPU-time clock id of a thread (POSIX), or None."""
    getter = getattr(time, "pthread_getcpuclockid", None)
    if getter is None or not hasattr(time, "clock_gettime"):
        return None
    try:
        return getter(ident)  # type: ignore[no-any-return]
    except (OSError, OverflowError, ValueError):
        return None
