"""pyxray's pytest plugin: a profile per test, executed bytecode instructions per test and per
function, and a gate on them.

Enabled with ``pytest -p pyxray.pytest_plugin``, or by itself once pyxray is installed (the
``pytest11`` entry point); it does nothing unless one of its options is given:

- ``--pyxray-profile DIR``: each test's call phase (not its fixtures) is profiled and written to
  ``DIR/<test id>.json`` (a profile document: ``pyxray report``, ``pyxray serve`` read it);
- ``--pyxray-counts FILE``: each test's call phase runs with ``count="instructions"`` and FILE gets,
  per test, the instructions it executed and those of every function (own instructions, summed
  over call paths), written atomically at the end of the session;
- ``--pyxray-baseline FILE`` (a counts file of an earlier run) ``--pyxray-max-increase 1%``: a test
  whose instructions grew by more than that (and by at least ``--pyxray-min-instructions``, default
  50) fails, naming the functions that grew. Counts of pure-Python code are the same on every run,
  so one run is enough; they do not see time spent in C code, I/O or waiting.
- ``--pyxray-marked``: only tests marked ``@pytest.mark.pyxray`` are profiled and counted.

Functions are named ``file:qualname``, the file relative to pytest's rootdir (library files from
their import root: ``json/decoder.py``), so a baseline made in another checkout still matches.
Counting makes the profiled times meaningless (every instruction calls the profiler): with both
``--pyxray-profile`` and counting, the profiles carry the counts and inflated times.
"""

from __future__ import annotations

import json
import os
import re
import sys

import pytest

# The profiler is imported when a test is measured, not here: once pyxray is installed, pytest
# imports this module in every run (the pytest11 entry point), options given or not.

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is for type checkers only
    from typing import Any, Dict, Iterator, Optional

#: The counts file's format (``"pyxray": "counts"``).
COUNTS_VERSION = 1
#: Default --pyxray-min-instructions: below this a change is none (see src/profile/diff-instructions.ts).
DEFAULT_MIN_INSTRUCTIONS = 50
#: Library files are named from their import root: after site-packages/dist-packages, else after lib/python3.X.
_LIBRARY_ROOTS = (re.compile(r"[\\/](?:site-packages|dist-packages)[\\/](.+)$"), re.compile(r"[\\/]lib[\\/]python\d+\.\d+t?[\\/](.+)$"))


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("pyxray", "pyxray: profiles and executed-instruction counts per test")
    group.addoption("--pyxray-profile", metavar="DIR", default=None, help="write one profile document per test to DIR (created if missing)")
    group.addoption("--pyxray-counts", metavar="FILE", default=None, help="write the bytecode instructions each test executed, per test and per function, to FILE (JSON)")
    group.addoption(
        "--pyxray-baseline", metavar="FILE", default=None,
        help="a counts file of an earlier run: fail tests whose executed instructions grew by more than --pyxray-max-increase",
    )  # fmt: skip
    group.addoption("--pyxray-max-increase", metavar="P", default="1%", help="with --pyxray-baseline: the growth that fails a test, e.g. 1%% or 0.01 (default 1%%)")
    group.addoption(
        "--pyxray-min-instructions", metavar="N", type=int, default=DEFAULT_MIN_INSTRUCTIONS,
        help="with --pyxray-baseline: a change of fewer instructions is none (default %(default)s)",
    )  # fmt: skip
    group.addoption("--pyxray-marked", action="store_true", default=False, help="only profile and count tests marked @pytest.mark.pyxray")


def pytest_configure(config: Any) -> None:
    config.addinivalue_line("markers", "pyxray: profile and count this test (with --pyxray-marked, only marked tests are)")
    opt = config.option
    if not (opt.pyxray_profile or opt.pyxray_counts or opt.pyxray_baseline):
        return
    config.pluginmanager.register(PyxrayPlugin(config), "pyxray-plugin")


def parse_increase(text: str) -> float:
    """``"1%"``, ``"0.5 %"``, ``"0.01"`` -> a fraction; a UsageError for anything else."""
    m = re.match(r"^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$", text)
    if m is None:
        raise pytest.UsageError("--pyxray-max-increase takes a percentage (1%) or a fraction (0.01), not {!r}".format(text))
    value = float(m.group(1))
    return value / 100 if m.group(2) else value


def _minor() -> str:
    return "{}.{}".format(*sys.version_info[:2])


def function_name(frame: Dict[str, Any], root: str) -> str:
    """``file:qualname`` with the file relative to ``root`` (library files from their import root)."""
    path = str(frame.get("file", ""))
    if path.startswith(root + os.sep):
        path = path[len(root) + 1 :].replace(os.sep, "/")
    else:
        for pattern in _LIBRARY_ROOTS:
            m = pattern.search(path)
            if m is not None:
                path = m.group(1).replace(os.sep, "/")
                break
    return "{}:{}".format(path, frame.get("qualname", "?"))


def count_document(doc: Dict[str, Any], root: str) -> Dict[str, Any]:
    """A test's entry of the counts file: its total and its functions' own instructions."""
    frames = doc["frames"]
    functions: Dict[str, int] = {}
    total = 0
    for thread in doc["threads"]:
        for node in thread["nodes"]:
            n = int(node.get("executedInstructions", 0))
            total += n
            index = node.get("frame")
            if index is None:
                continue
            frame = frames[index]
            if frame.get("kind") == "builtin":
                continue  # builtins run no bytecode
            name = function_name(frame, root)
            functions[name] = functions.get(name, 0) + n
    return {"instructions": total, "functions": dict(sorted(functions.items()))}


def grown_functions(base: Dict[str, int], head: Dict[str, int], increase: float, floor: int) -> list:
    """``(name, base, head)`` of the functions that grew by more than ``increase`` and ``floor``,
    largest growth first; when none did on its own, those that grew the most (the growth is spread)."""
    rows = []
    for name, h in head.items():
        b = base.get(name, 0)
        if h > b:
            rows.append((name, b, h))
    rows.sort(key=lambda r: (-(r[2] - r[1]), r[0]))
    strong = [r for r in rows if r[2] - r[1] >= floor and r[2] > r[1] * (1 + increase)]
    return strong or rows[:5]


class PyxrayPlugin:
    """The per-session state: what to record, the counts so far, the baseline."""

    def __init__(self, config: Any) -> None:
        opt = config.option
        self.config = config
        self.root = str(config.rootpath) if hasattr(config, "rootpath") else str(config.rootdir)
        self.profile_dir: Optional[str] = os.path.abspath(opt.pyxray_profile) if opt.pyxray_profile else None
        self.counts_path: Optional[str] = os.path.abspath(opt.pyxray_counts) if opt.pyxray_counts else None
        self.increase = parse_increase(opt.pyxray_max_increase)
        self.floor = opt.pyxray_min_instructions
        if self.floor < 0:
            raise pytest.UsageError("--pyxray-min-instructions must be 0 or more, got {}".format(self.floor))
        self.marked_only = opt.pyxray_marked
        self.baseline: Optional[Dict[str, Any]] = None
        if opt.pyxray_baseline:
            self.baseline = self._read_baseline(opt.pyxray_baseline)
        self.counting = self.counts_path is not None or self.baseline is not None
        if self.profile_dir is not None:
            if os.path.exists(self.profile_dir) and not os.path.isdir(self.profile_dir):
                raise pytest.UsageError("--pyxray-profile {}: not a folder (give a folder for one profile per test)".format(opt.pyxray_profile))
            os.makedirs(self.profile_dir, exist_ok=True)
        for path, what in ((self.counts_path, "--pyxray-counts"), (opt.pyxray_baseline and os.path.abspath(opt.pyxray_baseline), "--pyxray-baseline")):
            if path and self.profile_dir and os.path.dirname(path) == self.profile_dir and path.endswith(".json"):
                raise pytest.UsageError("{} {} is inside --pyxray-profile's folder, where profiles are written: put it elsewhere".format(what, path))
        if self.counts_path is not None and opt.pyxray_baseline and os.path.abspath(opt.pyxray_baseline) == self.counts_path:
            raise pytest.UsageError("--pyxray-counts would overwrite --pyxray-baseline ({}): write the new counts to another file".format(self.counts_path))
        self.counts: Dict[str, Any] = {}
        self._names: Dict[str, str] = {}
        #: nodeid -> the failure text of a test whose counts grew.
        self.grew: Dict[str, str] = {}

    def _read_baseline(self, path: str) -> Dict[str, Any]:
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except OSError as exc:
            raise pytest.UsageError("--pyxray-baseline {}: cannot read it ({}); write one with --pyxray-counts FILE".format(path, exc.strerror)) from None
        except ValueError as exc:
            raise pytest.UsageError("--pyxray-baseline {}: not JSON ({})".format(path, exc)) from None
        if not isinstance(data, dict) or data.get("pyxray") != "counts" or not isinstance(data.get("tests"), dict):
            raise pytest.UsageError('--pyxray-baseline {}: not a pyxray counts file (no "pyxray": "counts"); write one with --pyxray-counts FILE'.format(path))
        if data.get("python") != _minor():
            raise pytest.UsageError(
                "--pyxray-baseline {} was recorded on Python {}, this is {}: each version compiles to other bytecode, "
                "so keep one baseline per Python version".format(path, data.get("python"), _minor())
            )
        return data

    def _wanted(self, item: Any) -> bool:
        return not self.marked_only or item.get_closest_marker("pyxray") is not None

    def _file_for(self, nodeid: str) -> str:
        """A file name for a test id: unsafe characters as ``_``, a number added on a clash."""
        base = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid).strip("._")[:180] or "test"
        name, n = base, 1
        while name in self._names.values():
            n += 1
            name = "{}.{}".format(base, n)
        self._names[nodeid] = name
        return os.path.join(self.profile_dir or "", name + ".json")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item: Any) -> Iterator[None]:
        if not self._wanted(item):
            yield
            return
        from .profiler import Profiler

        profiler = Profiler(count="instructions" if self.counting else None)
        profiler.start()
        try:
            yield
        finally:
            profiler.stop()
        doc = profiler.to_dict()
        if self.profile_dir is not None:
            profiler.save(self._file_for(item.nodeid))
        if self.counting:
            entry = count_document(doc, self.root)
            self.counts[item.nodeid] = entry
            self._check(item.nodeid, entry)

    def _check(self, nodeid: str, entry: Dict[str, Any]) -> None:
        if self.baseline is None:
            return
        base = self.baseline["tests"].get(nodeid)
        if not isinstance(base, dict) or not isinstance(base.get("instructions"), int):
            return  # a new test: nothing to compare with
        b, h = base["instructions"], entry["instructions"]
        if h - b < self.floor or h <= b * (1 + self.increase):
            return
        lines = ["pyxray: executed bytecode instructions grew {:+.2%} ({:,} -> {:,}), more than --pyxray-max-increase {:.2%}:".format(
            (h - b) / b if b else float("inf"), b, h, self.increase)]  # fmt: skip
        for name, fb, fh in grown_functions(base.get("functions") or {}, entry["functions"], self.increase, self.floor):
            change = "new" if fb == 0 else "{:+.2%}".format((fh - fb) / fb)
            lines.append("  {}: {:,} -> {:,} ({})".format(name, fb, fh, change))
        self.grew[nodeid] = "\n".join(lines)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: Any, call: Any) -> Iterator[None]:
        outcome = yield
        report = outcome.get_result()
        if call.when == "call" and report.passed and item.nodeid in self.grew:
            report.outcome = "failed"
            report.longrepr = self.grew[item.nodeid]

    def pytest_sessionfinish(self, session: Any) -> None:
        if self.counts_path is None:
            return
        from ._files import write_atomic

        v = sys.version_info
        data = {
            "pyxray": "counts",
            "version": COUNTS_VERSION,
            "python": _minor(),
            "pythonVersion": "{}.{}.{}".format(v.major, v.minor, v.micro),
            "tests": dict(sorted(self.counts.items())),
        }
        write_atomic(self.counts_path, json.dumps(data, indent=1) + "\n")

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        parts = []
        if self.profile_dir is not None:
            parts.append("{} profile(s) in {}".format(len(self._names), self.profile_dir))
        if self.counts_path is not None:
            parts.append("instruction counts of {} test(s) in {}".format(len(self.counts), self.counts_path))
        if self.baseline is not None:
            parts.append("{} test(s) grew beyond {:.2%} of the baseline".format(len(self.grew), self.increase))
        if parts:
            terminalreporter.write_line("pyxray: " + "; ".join(parts))
