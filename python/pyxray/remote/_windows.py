"""Windows of an attached sampler (``pyxray profile --pid PID --every S --push URL``,
src/cli/profile-push.ts).

With the environment variable ``PYXRAY_WINDOWS=DIR:SECONDS`` (read once and removed), the sampler
of ``python -m pyxray.remote attach`` samples in spans of SECONDS and, after each, writes the tree
so far (cumulative, in the shape the in-process sampler writes: :mod:`pyxray._profile_sample`) to
``DIR/window-<this pid>-<k>.json``, atomically (a temporary file, then a rename). When sampling
ends (``--duration``, SIGINT/SIGTERM/SIGHUP, or the target's exit) one more snapshot holds the
whole run, so the last window is written here too. pyxray subtracts consecutive snapshots and
pushes each window; nothing here touches the network, and the target is never waited for: the
snapshot is written between two ticks of the sampler, in this process.
"""

from __future__ import annotations

import json
import os
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is for type checkers only
    from typing import Any, Callable

    from ._sampler import RemoteSampler


def windows_spec() -> tuple[str, float] | None:
    """``PYXRAY_WINDOWS``'s folder and seconds (taken out of the environment), or None."""
    spec = os.environ.pop("PYXRAY_WINDOWS", None)
    if not spec:
        return None
    directory, _, seconds = spec.rpartition(":")
    try:
        return directory, max(0.05, float(seconds))
    except ValueError:
        return None


def run_windows(sampler: RemoteSampler, duration: float | None, stop: Callable[[], bool], directory: str, seconds: float) -> None:
    """Samples like ``sampler.run(duration, stop)``, writing a snapshot every ``seconds`` and one
    at the end."""
    start = time.perf_counter()
    wall_start_ns = time.time_ns()
    end = start + duration if duration is not None else None
    epoch = None
    index = 0
    while True:
        cut = start + seconds * (index + 1)
        if end is not None:
            cut = min(cut, end)
        sampler.run(max(0.0, cut - time.perf_counter()), stop=stop)
        if epoch is None:
            epoch = sampler.start_epoch
        finished = stop() or (end is not None and time.perf_counter() >= end) or not sampler._alive()
        _write(sampler, directory, index, wall_start_ns, time.perf_counter() - start)
        index += 1
        if finished:
            break
    sampler.start_epoch = epoch  # the document's start: the first span's


def _write(sampler: RemoteSampler, directory: str, index: int, wall_start_ns: int, elapsed: float) -> None:
    from .._profile_tree import flatten_tree

    sampler._build()
    threads = [{"id": t.tid, "name": t.name, "main": t.tid == sampler.pid, "nodes": flatten_tree(sampler._tree(t.root))} for t in sampler.threads.values()]
    snapshot: dict[str, Any] = {
        "pid": os.getpid(),
        "python": "{}.{}.{}".format(*sys.version_info[:3]),
        "index": index,
        "startWallNs": wall_start_ns,
        "elapsedNs": int(elapsed * 1e9),
        "samples": sampler.samples,
        "intervalNs": int(round(sampler.interval * 1e9)),
        "frames": sampler.frames,
        "threads": threads,
    }
    name = os.path.join(directory, "window-{}-{:06d}.json".format(os.getpid(), index))
    try:
        with open(name + ".tmp", "w") as f:
            json.dump(snapshot, f, separators=(",", ":"))
        os.replace(name + ".tmp", name)
    except OSError:
        pass  # pyxray counts the window as lost; sampling goes on
