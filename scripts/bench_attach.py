"""``npm run bench:attach``: what a program loses while ``pyxray profile --pid`` samples it.

::

    python3 scripts/bench_attach.py [--python PATH]... [--rounds N] [--window S] [--interval DURATION] [--nice N]

For each interpreter (default: every CPython 3.14+ found as ``python3.X`` in $PYXRAY_PYTHON_PATHS,
then in scripts/setup-native-pythons.sh's cache), a target program runs a fixed mix of work in a
loop (recursion, method calls, a dict and string building: scripts/bench_attach.py ``TARGET``) and
reports, every 50 ms, how many loops it has done (``time.monotonic()`` and the count, on stdout).
Meanwhile this script alternates ``--window`` seconds unsampled with ``--window`` seconds sampled
by ``python -m pyxray.remote attach PID --duration S`` (the agent ``pyxray profile --pid`` runs,
on the target's own interpreter), ``--rounds`` times. A sampled span runs from the sampler's
"sampling" line (attached: its start-up is not counted) to its exit; an unsampled one from the
sampler's exit plus 0.2 s for a window. The throughput of a span is the loops counted between the
target's first report inside it and its last; the result is the median sampled throughput over
the median unsampled one (interleaved, so drifts of the machine's load fall on both alike), per
CPU second of the target (its thread's CPU time: what the sampler costs it, whatever the machine's
load does to its share of a core) and per wall second (which on a busy machine is mostly that
load), the target's involuntary context switches per second of its CPU time (how often something
else took its core: a sampler waking at the target's priority does, when no core is idle), and the
sampler's own CPU time per second sampled, its start-up and the writing of the
profile included (it runs beside the target: on a machine without an idle core it competes with
it for one). ``--nice N`` runs the sampler at that niceness (``PYXRAY_SAMPLER_NICE``; default: the
sampler's own choice, see python/pyxray/remote/_cli.py), to see what its competing for a core
costs the target.

Prints markdown (the BENCHMARKS.md section "Attaching").
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AGENT = os.path.join(ROOT, "python")

TARGET = r"""
import resource, sys, time

class Point:
    __slots__ = ("x", "y")
    def __init__(self, x, y):
        self.x, self.y = x, y
    def moved(self, dx):
        return Point(self.x + dx, self.y)

def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

def work():
    total = fib(15)
    p = Point(0, 0)
    for i in range(200):
        p = p.moved(i)
    d = {str(i): i for i in range(200)}
    return total + p.x + len("".join(d))

count = 0
clock = time.monotonic
cpu = time.thread_time
next_report = clock()
out = sys.stdout
while True:
    work()
    count += 1
    now = clock()
    if now >= next_report:
        out.write("%r %r %d %d\n" % (now, cpu(), count, resource.getrusage(resource.RUSAGE_THREAD).ru_nivcsw))
        out.flush()
        next_report = now + 0.05
"""


def _interpreters(given: list[str]) -> list[str]:
    if given:
        return given
    folders = [p for p in os.environ.get("PYXRAY_PYTHON_PATHS", "").split(os.pathsep) if p]
    cache = os.environ.get("PYXRAY_NATIVE_CACHE") or os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "pyxray", "native")
    folders.append(os.path.join(cache, "bin"))
    found: dict[str, str] = {}
    for folder in folders:
        for path in sorted(glob.glob(os.path.join(folder, "python3.*"))):
            name = os.path.basename(path)
            minor = name[len("python3.") :]
            if minor.isdigit() and int(minor) >= 14 and name not in found:
                found[name] = path
    return list(found.values())


class Reports:
    """The target's (time, count) lines, read on a thread."""

    def __init__(self, stream: object) -> None:
        self.points: list[tuple[float, float, int, int]] = []
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            t, c, n, s = line.split()
            self.points.append((float(t), float(c), int(n), int(s)))

    def rate(self, start: float, end: float) -> tuple[float, float, float] | None:
        """(loops per wall second, loops per CPU second of the target, the target's involuntary
        context switches per CPU second: how often something took its core) between start and end."""
        inside = [p for p in list(self.points) if start <= p[0] <= end]
        if len(inside) < 2 or inside[-1][0] - inside[0][0] < 0.2 or inside[-1][1] <= inside[0][1]:
            return None
        loops = inside[-1][2] - inside[0][2]
        cpu = inside[-1][1] - inside[0][1]
        return loops / (inside[-1][0] - inside[0][0]), loops / cpu, (inside[-1][3] - inside[0][3]) / cpu


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def measure(python: str, rounds: int, window: float, interval: str, nice: str | None = None) -> dict[str, object]:
    env = dict(os.environ, PYTHONPATH=AGENT)
    if nice is not None:
        env["PYXRAY_SAMPLER_NICE"] = nice
    version = subprocess.run([python, "-c", "import platform; print(platform.python_version())"], capture_output=True, text=True, check=True).stdout.strip()
    target = subprocess.Popen([python, "-c", TARGET], stdout=subprocess.PIPE, text=True)
    reports = Reports(target.stdout)
    on: list[tuple[float, float, float]] = []
    off: list[tuple[float, float, float]] = []
    cpu: list[float] = []
    samples: list[int] = []
    folder = tempfile.mkdtemp(prefix="pyxray-bench-attach-")
    try:
        time.sleep(1.0)  # warm up
        for _ in range(rounds):
            start = time.monotonic()
            time.sleep(window)
            rate = reports.rate(start, time.monotonic())
            if rate is not None:
                off.append(rate)
            out = os.path.join(folder, "p.json")
            before = _children_cpu()
            sampler = subprocess.Popen(
                [python, "-m", "pyxray.remote", "attach", str(target.pid), "--duration", str(window), "--interval", interval, "-o", out],
                stderr=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                env=env,
            )
            first = sampler.stderr.readline()  # type: ignore[union-attr]
            if not first.startswith(b"pyxray: sampling process"):
                raise SystemExit("the sampler did not attach: {}".format((first + sampler.communicate()[1]).decode(errors="replace")))
            t_on = time.monotonic()
            _, err = sampler.communicate()
            t_off = time.monotonic()
            if sampler.returncode != 0:
                raise SystemExit("the sampler failed: {}".format(err.decode(errors="replace")))
            cpu.append((_children_cpu() - before) / max(t_off - t_on, 1e-9))
            rate = reports.rate(t_on, t_off)
            if rate is not None:
                on.append(rate)
            with open(out, encoding="ascii") as f:
                samples.append(json.load(f)["metadata"]["samples"])
            time.sleep(0.2)
    finally:
        target.send_signal(signal.SIGTERM)
        target.wait()
        shutil.rmtree(folder, ignore_errors=True)
    off_wall = statistics.median(r[0] for r in off)
    on_wall = statistics.median(r[0] for r in on)
    off_cpu = statistics.median(r[1] for r in off)
    on_cpu = statistics.median(r[1] for r in on)
    return {
        "version": version,
        "off": off_cpu,
        "on": on_cpu,
        "drop": 1 - on_cpu / off_cpu,
        "wall_drop": 1 - on_wall / off_wall,
        "cpu": statistics.median(cpu),
        "switches_off": statistics.median(r[2] for r in off),
        "switches_on": statistics.median(r[2] for r in on),
        "samples_per_s": statistics.median(samples) / window,
        "rounds": len(on),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench_attach.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", action="append", default=[], metavar="PATH")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--window", type=float, default=2.0, metavar="S")
    parser.add_argument("--interval", default="1ms")
    parser.add_argument("--nice", default=None, metavar="N", help="the sampler's niceness (PYXRAY_SAMPLER_NICE)")
    options = parser.parse_args(argv)
    pythons = _interpreters(options.python)
    if not pythons:
        sys.stderr.write("bench:attach: no CPython 3.14+ found (python3.X in PYXRAY_PYTHON_PATHS or scripts/setup-native-pythons.sh's cache)\n")
        return 2
    load = os.getloadavg()
    rows = []
    for python in pythons:
        sys.stderr.write("bench:attach: {}\n".format(python))
        rows.append(measure(python, options.rounds, options.window, options.interval, options.nice))
    command = "npm run bench:attach" + (" -- " + " ".join(argv) if argv else "")
    print(
        "Measured {} by `{}` ({} rounds of {:g} s unsampled / {:g} s sampled at --interval {}{}; {} cores, load average {} at the start).\n".format(
            time.strftime("%Y-%m-%d"), command, options.rounds, options.window, options.window, options.interval, "" if options.nice is None else ", sampler at nice " + options.nice, os.cpu_count(), " ".join("{:.1f}".format(x) for x in load)
        )
    )
    print("| Python | loops per CPU s, unsampled | sampled | drop per CPU s | drop per wall s | samples/s taken | sampler CPU (start-up included) | target's involuntary switches per CPU s, unsampled / sampled |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(
            "| {} | {:.0f} | {:.0f} | {:+.2f} % | {:+.2f} % | {:.0f} | {:.0f} % of a core | {:.0f} / {:.0f} |".format(
                row["version"], row["off"], row["on"], 100 * float(row["drop"]), 100 * float(row["wall_drop"]), row["samples_per_s"], 100 * float(row["cpu"]), row["switches_off"], row["switches_on"]  # type: ignore[arg-type]
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
