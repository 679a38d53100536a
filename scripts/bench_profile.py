"""The Python side of ``npm run bench:profile`` (scripts/bench-profile.ts runs it).

One process measures one thing, so every profiled run starts fresh::

    python bench_profile.py probe                      # JSON: version, engine, yappi, programs
    python bench_profile.py run PROGRAM CONFIG SCALE   # JSON: seconds, engine, result

``run`` imports the program, runs it once at a tiny scale unprofiled (imports, regex compiles and
first-call costs out of the way), then times -- wall clock, ``time.perf_counter`` -- the
profiler's start, ``main(scale)`` and the profiler's stop. Writing the profile is not timed (it is
not overhead the program sees). CONFIG is one of:

- ``base``: no profiler;
- ``cprofile``: ``cProfile.Profile`` enable/disable;
- ``trace``: ``pyxray.Profiler()`` (whichever engine is active: ``PYXRAY_ACCEL=0`` forces the
  pure-Python one; the engine is read from the profile's ``metadata.engine``, "python" when the
  document has no such field);
- ``sample``: ``pyxray.Profiler(mode="sample")`` (1 ms interval);
- ``remote`` (3.14+): sampled from another process, ``python -m pyxray.remote attach PID`` (1 ms
  interval), attached before the clock starts and stopped (SIGINT) after it stops: what the
  program loses to a sampler reading its memory from outside. Every configuration but
  ``cprofile`` and ``yappi`` also reports ``cpu``, the program's thread CPU time
  (``time.thread_time``), which a busy machine's scheduling does not inflate;
- ``memory``: ``pyxray.Profiler(memory=True)`` (the C engine's allocator wrapper when it is active,
  else tracemalloc polled by the Python engine: ``PYXRAY_ACCEL=0`` forces that one);
- ``yappi``: ``yappi.start()`` / ``yappi.stop()`` with the wall clock (when yappi imports).

The programs are ours, in the spirit of pyperformance's: each ``main(scale)`` does work in
proportion to ``scale`` (1.0 is about 50 ms on CPython 3.11 here) and returns a checksum, so every
configuration can be checked to have done the same work.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time

# ---------------------------------------------------------------------------------------------
# The programs


def _fib(n: int) -> int:
    return n if n < 2 else _fib(n - 1) + _fib(n - 2)


def fib(scale: float) -> int:
    """Recursion: fib(20) repeated (21,891 calls each)."""
    total = 0
    for _ in range(max(1, int(75 * scale))):
        total += _fib(20)
    return total


class Vector:
    __slots__ = ("x", "y")

    def __init__(self, x: float, y: float) -> None:
        self.x = x
        self.y = y

    def add(self, other: Vector) -> Vector:
        return Vector(self.x + other.x, self.y + other.y)

    def scale(self, k: float) -> Vector:
        return Vector(self.x * k, self.y * k)

    def dot(self, other: Vector) -> float:
        return self.x * other.x + self.y * other.y

    @property
    def norm2(self) -> float:
        return self.dot(self)


class Particle:
    def __init__(self, pos: Vector, vel: Vector) -> None:
        self.pos = pos
        self.vel = vel

    def step(self, dt: float) -> None:
        self.pos = self.pos.add(self.vel.scale(dt))

    def energy(self) -> float:
        return 0.5 * self.vel.norm2


class Damped(Particle):
    def step(self, dt: float) -> None:
        super().step(dt)
        self.vel = self.vel.scale(0.999)


def methods(scale: float) -> float:
    """OO method calls: small methods, a property, an override calling super()."""
    particles = [(Damped if i % 2 else Particle)(Vector(i, -i), Vector(1.0, 0.5 * i)) for i in range(50)]
    energy = 0.0
    for _ in range(max(1, int(1750 * scale))):
        for p in particles:
            p.step(0.01)
            energy += p.energy()
    return round(energy, 6)


def _document(i: int) -> dict:
    return {
        "id": i,
        "name": "item-{}".format(i),
        "tags": ["t{}".format(j) for j in range(i % 7)],
        "price": i * 1.25,
        "stock": {"warehouse": i % 3, "count": i * 7, "reserved": None},
        "active": i % 2 == 0,
    }


def json_(scale: float) -> int:
    """json: dumps (the C encoder, and the pure-Python one via indent=) and loads."""
    docs = [_document(i) for i in range(200)]
    size = 0
    for _ in range(max(1, int(85 * scale))):
        text = json.dumps(docs, sort_keys=True)
        size += len(json.loads(text))
        pretty = json.dumps(docs[:20], indent=2)
        size += len(json.loads(pretty))
    return size


_WORD = re.compile(r"\b[a-z]+(?:-[a-z]+)*\b")
_NUMBER = re.compile(r"(\d+)\.(\d+)")
_TEXT = " ".join("alpha-beta {} gamma delta-{} 3.{} epsilon".format(i, i % 10, i) for i in range(300))


def _swap(m: re.Match) -> str:
    return m.group(2) + "." + m.group(1)


def regex(scale: float) -> int:
    """regex: findall, finditer, sub with a Python callback, split."""
    total = 0
    for _ in range(max(1, int(65 * scale))):
        total += len(_WORD.findall(_TEXT))
        total += sum(1 for m in _NUMBER.finditer(_TEXT) if m.group(1) != "0")
        total += len(_NUMBER.sub(_swap, _TEXT))
        total += len(re.split(r"\s+", _TEXT))
    return total


def _numbers(n: int):
    for i in range(n):
        yield i


def _squares(items):
    for x in items:
        yield x * x


def _evens(items):
    for x in items:
        if x % 2 == 0:
            yield x


def _windows(items, size: int):
    window: list = []
    for x in items:
        window.append(x)
        if len(window) == size:
            yield sum(window)
            window.pop(0)


def generators(scale: float) -> int:
    """Generator pipelines: four stages, every item resumes each stage."""
    total = 0
    for _ in range(max(1, int(125 * scale))):
        total += sum(_windows(_evens(_squares(_numbers(4000))), 4))
    return total


def comprehensions(scale: float) -> int:
    """List, dict, set comprehensions and generator expressions (functions before 3.12)."""
    total = 0
    for _ in range(max(1, int(4000 * scale))):
        rows = [[i * j for j in range(10)] for i in range(20)]
        index = {i: sum(row) for i, row in enumerate(rows)}
        seen = {v % 17 for row in rows for v in row}
        total += sum(v for v in index.values() if v % 3) + len(seen)
    return total


_SUN_MASS = 4 * 3.141592653589793**2
_DAYS = 365.24


def _bodies() -> list:
    # (position, velocity, mass) of five bodies, orbit-like numbers.
    spec = [
        ((0.0, 0.0, 0.0), (0.0, 0.0, 0.0), 1.0),
        ((4.84, -1.16, -0.10), (1.66e-3, 7.70e-3, -6.90e-5), 9.5e-4),
        ((8.34, 4.12, -0.40), (-2.77e-3, 4.99e-3, 2.30e-5), 2.9e-4),
        ((12.89, -15.11, -0.22), (2.96e-3, 2.37e-3, -2.96e-5), 4.4e-5),
        ((15.38, -25.92, 0.18), (2.68e-3, 1.63e-3, -9.51e-5), 5.2e-5),
    ]
    return [[list(p), [v * _DAYS for v in vel], m * _SUN_MASS] for p, vel, m in spec]


def _advance(bodies: list, dt: float) -> None:
    n = len(bodies)
    for i in range(n):
        (p1, v1, m1) = bodies[i]
        for j in range(i + 1, n):
            (p2, v2, m2) = bodies[j]
            dx, dy, dz = p1[0] - p2[0], p1[1] - p2[1], p1[2] - p2[2]
            mag = dt * ((dx * dx + dy * dy + dz * dz) ** -1.5)
            b1, b2 = m1 * mag, m2 * mag
            v1[0] -= dx * b2
            v1[1] -= dy * b2
            v1[2] -= dz * b2
            v2[0] += dx * b1
            v2[1] += dy * b1
            v2[2] += dz * b1
    for p, v, _ in bodies:
        p[0] += dt * v[0]
        p[1] += dt * v[1]
        p[2] += dt * v[2]


def _energy(bodies: list) -> float:
    e = 0.0
    for i, (p1, v1, m1) in enumerate(bodies):
        e += 0.5 * m1 * (v1[0] ** 2 + v1[1] ** 2 + v1[2] ** 2)
        for p2, _, m2 in bodies[i + 1 :]:
            e -= m1 * m2 / ((p1[0] - p2[0]) ** 2 + (p1[1] - p2[1]) ** 2 + (p1[2] - p2[2]) ** 2) ** 0.5
    return e


def nbody(scale: float) -> float:
    """Float math (nbody-like): few calls, long inner loops."""
    bodies = _bodies()
    for _ in range(max(1, int(15500 * scale))):
        _advance(bodies, 0.01)
    return round(_energy(bodies), 9)


#: name -> main(scale); the names the orchestrator shows.
PROGRAMS = {
    "fib": fib,
    "methods": methods,
    "json": json_,
    "regex": regex,
    "generators": generators,
    "comprehensions": comprehensions,
    "nbody": nbody,
}

CONFIGS = ("base", "cprofile", "trace", "sample", "remote", "memory", "yappi")

# ---------------------------------------------------------------------------------------------
# Measuring


def _engine(doc: dict) -> str:
    return str(doc["metadata"].get("engine", "python"))


def measure(program: str, config: str, scale: float) -> dict:
    """Times one configuration of one program (see the module docstring)."""
    main = PROGRAMS[program]
    main(0.01)  # warm-up, unprofiled
    engine = None
    cpu = None
    if config == "base":
        c0 = time.thread_time()
        t0 = time.perf_counter()
        result = main(scale)
        seconds = time.perf_counter() - t0
        cpu = time.thread_time() - c0
    elif config == "cprofile":
        import cProfile

        profiler = cProfile.Profile()
        t0 = time.perf_counter()
        profiler.enable()
        result = main(scale)
        profiler.disable()
        seconds = time.perf_counter() - t0
    elif config in ("trace", "sample", "memory"):
        import warnings

        from pyxray import Profiler, ProfilerWarning

        warnings.simplefilter("ignore", ProfilerWarning)  # sample mode: "few samples" at small scales
        p = Profiler(mode="sample" if config == "sample" else "trace", memory=config == "memory")
        c0 = time.thread_time()
        t0 = time.perf_counter()
        p.start()
        result = main(scale)
        p.stop()
        seconds = time.perf_counter() - t0
        cpu = time.thread_time() - c0
        engine = _engine(p.to_dict()) if config != "sample" else None
    elif config == "remote":
        import signal
        import subprocess
        import tempfile

        folder = tempfile.mkdtemp(prefix="pyxray-bench-remote-")
        out = os.path.join(folder, "p.json")
        sampler = subprocess.Popen([sys.executable, "-m", "pyxray.remote", "attach", str(os.getpid()), "-o", out], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
        ready = sampler.stderr.readline()  # type: ignore[union-attr]
        if not ready.startswith(b"pyxray: sampling process"):
            raise SystemExit("the remote sampler did not start: {}".format((ready + sampler.communicate()[1]).decode(errors="replace")))
        c0 = time.thread_time()
        t0 = time.perf_counter()
        result = main(scale)
        seconds = time.perf_counter() - t0
        cpu = time.thread_time() - c0
        sampler.send_signal(signal.SIGINT)
        _, err = sampler.communicate()
        if sampler.returncode != 0:
            raise SystemExit("the remote sampler failed ({}): {}".format(sampler.returncode, err.decode(errors="replace")))
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
    elif config == "yappi":
        import yappi

        yappi.set_clock_type("wall")
        t0 = time.perf_counter()
        yappi.start()
        result = main(scale)
        yappi.stop()
        seconds = time.perf_counter() - t0
    else:
        raise SystemExit("unknown configuration {!r}; one of {}".format(config, ", ".join(CONFIGS)))
    return {"seconds": seconds, "cpu": cpu, "engine": engine, "result": result}


def probe() -> dict:
    """What this interpreter offers: its version, the active trace engine (after filling the
    calibration cache, so timed runs do not calibrate), whether yappi imports."""
    from pyxray import Profiler

    with Profiler() as p:  # calibrates once and caches it (per interpreter, clock, options)
        fib(0.01)
    with Profiler(memory=True) as m:
        fib(0.01)
    try:
        import yappi  # noqa: F401

        try:
            from importlib.metadata import version

            yappi_version = version("yappi")
        except Exception:  # installed without metadata
            yappi_version = "?"
    except ImportError:
        yappi_version = None
    v = sys.version_info
    return {
        "version": "{}.{}.{}".format(v.major, v.minor, v.micro),
        "minor": v.minor,
        "executable": sys.executable,
        "engine": _engine(p.to_dict()),
        "memoryEngine": _engine(m.to_dict()),
        "yappi": yappi_version,
        "programs": list(PROGRAMS),
    }


def main(argv: list) -> int:
    if argv[:1] == ["probe"]:
        print(json.dumps(probe()))
        return 0
    if len(argv) == 4 and argv[0] == "run" and argv[1] in PROGRAMS and argv[2] in CONFIGS:
        print(json.dumps(measure(argv[1], argv[2], float(argv[3]))))
        return 0
    sys.stderr.write("usage: bench_profile.py probe | run PROGRAM CONFIG SCALE\n  programs: {}\n  configs: {}\n".format(", ".join(PROGRAMS), ", ".join(CONFIGS)))
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
