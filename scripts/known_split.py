"""Synthetic programs whose true self-time split is known by construction, profiled to see how far
pyxray's shares are from the truth (``npm run bench:known-split``, scripts/bench-known-split.ts).

Usage: ``PYTHONPATH=python python3.X scripts/known_split.py [--scale F] [--clock wall|cpu]``
(PYXRAY_ACCEL=0 for the pure-Python engine). Prints one JSON object: the engine, and per case the
measured shares, the true shares and the largest error in percentage points.

The truth is built without timing: every function runs the very same loop body (``x = a * b + a``
on small ints, no allocation; loops over ``itertools.repeat``, since ``range`` allocates an int per
step from 257 on), so the cost of its self time is proportional to the number of bodies it runs;
only how the work is split into calls differs.

- ``one-vs-many``: ``once`` runs N*K bodies in one call, ``piece`` runs K bodies per call and is
  called N = 20,000 times (by ``many``): true split 50/50 between ``once`` and ``piece``.
- ``1:2:4``: leaves running K, 2K and 4K bodies per call (K = 200), each called N/2 times: true
  split 1/7, 2/7, 4/7.

The remaining fixed cost of a call (its frame, the inner ``range``) is real work but not bodies;
at these sizes it is under half a point of share. Each case runs ``--rounds`` times (default 3)
and the median share per function is kept: a busy machine's preemptions hit one round at a time.
"""

from __future__ import annotations

import json
import statistics
import sys

SOURCE = '''
from itertools import repeat
def once(n, k):
    a = 3
    b = 7
    for _ in repeat(None, n):
        for _ in repeat(None, k):
            x = a * b + a

def piece(k):
    a = 3
    b = 7
    for _ in repeat(None, k):
        x = a * b + a

def many(n, k):
    for _ in repeat(None, n):
        piece(k)

def leaf1(k):
    a = 3
    b = 7
    for _ in repeat(None, k):
        x = a * b + a

def leaf2(k):
    a = 3
    b = 7
    for _ in repeat(None, k):
        x = a * b + a

def leaf4(k):
    a = 3
    b = 7
    for _ in repeat(None, k):
        x = a * b + a

def ladder(n, k):
    for _ in repeat(None, n):
        leaf1(k)
        leaf2(2 * k)
        leaf4(4 * k)
'''


def _selves(doc: dict, names: list[str]) -> dict[str, int]:
    """Self ns per function name, summed over the nodes of every thread (either document version)."""
    frames = doc["frames"]
    out = {name: 0 for name in names}
    for thread in doc["threads"]:
        nodes = thread.get("nodes")
        if nodes is None:  # version 1: nested
            nodes = []
            todo = [thread["root"]]
            while todo:
                node = todo.pop()
                nodes.append(node)
                todo.extend(node["children"])
        for node in nodes:
            frame = node.get("frame")
            if frame is None:
                continue
            name = frames[frame]["qualname"]
            if name in out:
                out[name] += node["selfNs"]
    return out


def run_case(namespace: dict, entry: str, args: tuple, names: list[str], clock: str) -> tuple[dict[str, float], dict]:
    from pyxray.profiler import Profiler

    profiler = Profiler(clock=clock)
    profiler.start()
    namespace[entry](*args)
    profiler.stop()
    doc = profiler.to_dict()
    selves = _selves(doc, names)
    total = sum(selves.values()) or 1
    return {name: selves[name] / total for name in names}, doc


def main(argv: list[str]) -> int:
    scale = 1.0
    clock = "wall"
    rounds = 3
    i = 0
    while i < len(argv):
        if argv[i] == "--scale":
            scale = float(argv[i + 1])
            i += 2
        elif argv[i] == "--clock":
            clock = argv[i + 1]
            i += 2
        elif argv[i] == "--rounds":
            rounds = int(argv[i + 1])
            i += 2
        else:
            print("usage: known_split.py [--scale F] [--clock wall|cpu] [--rounds N]", file=sys.stderr)
            return 2
    namespace: dict = {"__name__": "known_split"}
    exec(compile(SOURCE, "known_split_program.py", "exec"), namespace)
    n = max(1, int(20_000 * scale))
    cases = [
        ("one-vs-many", "_pair", (n, 200), ["once", "piece"], {"once": 0.5, "piece": 0.5}),
        ("1:2:4", "ladder", (max(1, n // 2), 200), ["leaf1", "leaf2", "leaf4"], {"leaf1": 1 / 7, "leaf2": 2 / 7, "leaf4": 4 / 7}),
    ]

    def pair(n: int, k: int) -> None:
        namespace["once"](n, k)
        namespace["many"](n, k)

    namespace["_pair"] = pair
    result: dict = {"python": "{}.{}.{}".format(*sys.version_info[:3]), "clock": clock, "cases": {}}
    for name, entry, args, names, truth in cases:
        shares: dict[str, list[float]] = {f: [] for f in names}
        doc: dict = {}
        for _ in range(rounds):
            got, doc = run_case(namespace, entry, args, names, clock)
            for f in names:
                shares[f].append(got[f])
        median = {f: statistics.median(v) for f, v in shares.items()}
        error = max(abs(median[f] - truth[f]) * 100 for f in names)
        result["engine"] = doc["metadata"].get("engine", "python")
        overhead = doc["metadata"].get("overhead", {})
        result["cases"][name] = {
            "shares": {f: round(v, 4) for f, v in median.items()},
            "truth": {f: round(v, 4) for f, v in truth.items()},
            "errorPoints": round(error, 2),
            "clampedNs": overhead.get("clampedNs", 0),
            "subtractedNs": overhead.get("subtractedNs", 0),
        }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
