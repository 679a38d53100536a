"""Times `mem lines` (pyxray.memory._lines.trace_lines) with each tracer on this interpreter:
the target unprofiled, under sys.settrace and, on 3.12+, under sys.monitoring (in Python over
tracemalloc, and with the C accelerator's callbacks and allocator wrapper when it loads). Two targets: one
whose few lines call a lot of other Python code (the usual case: settrace pays a call for every
frame, monitoring only for the target's lines) and one that is a tight loop of its own lines
(both pay per line). Also the target under tracemalloc alone, which every tracer needs: the
Python tracers' own cost is their time above that (the C one needs no tracemalloc). Prints one
JSON object; best of --runs each, wall time and (under "cpu") process CPU time.

    python scripts/bench_mem_lines.py --runs 5      (PYTHONPATH=python)
"""

import argparse
import json
import sys
import time
import tracemalloc

from pyxray.memory._lines import default_engine, trace_lines


def leaf(i):
    return [i, i + 1, str(i)]


def middle(n):
    out = []
    for i in range(n):
        out.append(leaf(i))
    return sorted(out, key=lambda r: r[2])


def calls_code(n):
    rows = middle(n)  # most of the time is below this line
    total = sum(len(r) for r in rows)
    rows = middle(n // 2)
    return total + len(rows)


def own_lines(n):
    acc = []
    for i in range(n):
        x = i * 2
        if x % 3:
            acc.append(x)
    return len(acc)


CPU = {}


def best(runs, fn, key=None):
    times, cpus = [], []
    for _ in range(runs):
        c = time.process_time()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    if key is not None:
        CPU[key] = min(cpus)
    return min(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    default = default_engine()
    engines = ["settrace"] if default == "settrace" else ["settrace", "monitoring"]
    if default == "monitoring-c":
        engines.append("monitoring-c")
    out = {"python": "{}.{}.{}".format(*sys.version_info[:3]), "targets": {}}
    for target, n in ((calls_code, 60_000), (own_lines, 60_000)):
        CPU.clear()
        row = {"unprofiled": best(a.runs, lambda: target(n), "unprofiled")}
        tracemalloc.start(1)  # what every tracer pays before its own cost: tracemalloc itself
        try:
            row["tracemalloc"] = best(a.runs, lambda: target(n), "tracemalloc")
        finally:
            tracemalloc.stop()
        for engine in engines:
            row[engine] = best(a.runs, lambda: trace_lines(target.__code__, lambda: target(n), engine=engine), engine)
        if "monitoring" in row:
            row["speedup"] = row["settrace"] / row["monitoring"]
            # the tracers' own cost, above tracemalloc's
            row["overheadSpeedup"] = (row["settrace"] - row["tracemalloc"]) / (row["monitoring"] - row["tracemalloc"])
        if "monitoring-c" in row:
            row["speedupC"] = row["settrace"] / row["monitoring-c"]
            row["cpuSpeedupC"] = CPU["settrace"] / CPU["monitoring-c"]
        row["cpu"] = dict(CPU)
        out["targets"][target.__name__] = row
    print(json.dumps(out))


main()
