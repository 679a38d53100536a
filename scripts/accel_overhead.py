"""Trace-mode overhead of pyxray's C engine vs its Python engine vs cProfile, in one interpreter.

    PYTHONPATH=python python3 scripts/accel_overhead.py [--repeat 5] [--cpu] [--json]

For each workload (pyperformance-style: recursion, OO method calls, generators, json, regex),
the unprofiled run and the three profiled runs (cProfile, pyxray with ``accel="on"``, pyxray with
``accel="off"``) are interleaved ``--repeat`` times; overhead = median profiled wall time /
median unprofiled wall time (``--cpu``: process CPU time, steadier on a loaded machine), and the
last line gives each profiler's geometric mean. pyxray runs
with its default options (wall clock, builtins, calibrated overhead, from the cache warmed before
timing). Used to check issue #5's goal: pyxray's trace-mode geomean <= cProfile's on 3.12+ and
<= 1.5x cProfile's on 3.8-3.11. (The project benchmark is ``npm run bench:profile``.)
"""

from __future__ import annotations

import argparse
import cProfile
import json
import math
import re
import statistics
import sys
import time

from pyxray import Profiler


def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)


class Shape:
    def __init__(self, size: float) -> None:
        self.size = size

    def area(self) -> float:
        return self.size * self.size

    def scaled(self, k: float) -> "Shape":
        return type(self)(self.size * k)


class Circle(Shape):
    def area(self) -> float:
        return 3.14159 * super().area()


def oo() -> float:
    total = 0.0
    shapes = [Circle(i) if i % 2 else Shape(i) for i in range(2000)]
    for _ in range(10):
        for s in shapes:
            total += s.scaled(1.5).area()
    return total


def numbers(n: int):
    for i in range(n):
        yield i


def evens(source):
    for x in source:
        if x % 2 == 0:
            yield x


def generators() -> int:
    return sum(x * x for x in evens(numbers(120000)))


_DOC = {"users": [{"id": i, "name": "user%d" % i, "tags": ["a", "b", "c"], "score": i * 0.5, "active": i % 3 == 0} for i in range(300)]}


def json_work() -> int:
    size = 0
    for _ in range(20):
        text = json.dumps(_DOC)
        size += len(json.loads(text)["users"])
    return size


_TEXT = " ".join("word%d foo@example.com 2024-0%d-1%d" % (i, i % 9 + 1, i % 10) for i in range(3000))
_PATTERNS = [re.compile(p) for p in (r"\b\w+@\w+\.com\b", r"\d{4}-\d{2}-\d{2}", r"word(\d+)")]


def regex() -> int:
    count = 0
    for _ in range(5):
        for pattern in _PATTERNS:
            for m in pattern.finditer(_TEXT):
                count += len(m.group(0))
    return count


WORKLOADS = {"fib(25)": lambda: fib(25), "oo-methods": oo, "generators": generators, "json": json_work, "regex": regex}


#: The clock of the measurements (``--cpu`` switches it to time.process_time).
clock = time.perf_counter


def run_plain(work):
    t0 = clock()
    work()
    return clock() - t0


def run_cprofile(work):
    profiler = cProfile.Profile()
    t0 = clock()
    profiler.enable()
    work()
    profiler.disable()
    return clock() - t0


def run_pyxray(accel):
    def run(work):
        profiler = Profiler(accel=accel)
        t0 = clock()
        profiler.start()
        work()
        profiler.stop()
        elapsed = clock() - t0
        if profiler.to_dict()["metadata"]["engine"] != ("c" if accel == "on" else "python"):
            raise SystemExit("pyxray ran the wrong engine")
        return elapsed

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cpu", action="store_true", help="process CPU time instead of wall time")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args()
    global clock
    if args.cpu:
        clock = time.process_time
    sys.setrecursionlimit(10000)
    runners = {"plain": run_plain, "cProfile": run_cprofile, "pyxray-c": run_pyxray("on"), "pyxray-py": run_pyxray("off")}
    for accel in ("on", "off"):  # calibrate (cached) and build the C engine before timing
        Profiler(accel=accel).start().stop()
    results = {}
    for name, work in WORKLOADS.items():
        work()  # warm up
        times = {runner: [] for runner in runners}
        for _ in range(args.repeat):
            for runner, run in runners.items():
                times[runner].append(run(work))
        plain = statistics.median(times["plain"])
        results[name] = {runner: statistics.median(values) / plain for runner, values in times.items() if runner != "plain"}
        results[name]["plainMs"] = plain * 1e3
    profilers = ("cProfile", "pyxray-c", "pyxray-py")
    geomean = {p: math.exp(statistics.mean(math.log(results[w][p]) for w in WORKLOADS)) for p in profilers}
    version = "{}.{}.{}".format(*sys.version_info[:3])
    if args.json:
        print(json.dumps({"python": version, "workloads": results, "geomean": geomean}))
        return
    print("CPython {}  (overhead = profiled / unprofiled {} time, median of {})".format(version, "CPU" if args.cpu else "wall", args.repeat))
    print("{:<12} {:>9} {:>9} {:>9} {:>10} {:>10}".format("workload", "plain ms", "cProfile", "pyxray-c", "pyxray-py", "c/cProfile"))
    for name, row in results.items():
        print("{:<12} {:>9.1f} {:>8.2f}x {:>8.2f}x {:>9.2f}x {:>10.2f}".format(name, row["plainMs"], row["cProfile"], row["pyxray-c"], row["pyxray-py"], row["pyxray-c"] / row["cProfile"]))
    print("{:<12} {:>9} {:>8.2f}x {:>8.2f}x {:>9.2f}x {:>10.2f}".format("geomean", "", geomean["cProfile"], geomean["pyxray-c"], geomean["pyxray-py"], geomean["pyxray-c"] / geomean["cProfile"]))


if __name__ == "__main__":
    main()
