"""``python -m pyxray.remote``: sample a CPython 3.14+ process from outside.

::

    python -m pyxray.remote attach PID [--duration S] [profiler options]
    python -m pyxray.remote run [profiler options] (script.py | -m module | -c code) [args ...]

``attach`` samples a running process (until ``--duration`` seconds passed, the process ended, or
SIGINT/SIGTERM/SIGHUP) and writes the profile; exit status 0, or 2 with one line when the process
cannot be sampled (no such process, permission, not a CPython of this version).

``run`` starts the program as ``python`` would (this interpreter, the program's own arguments; it
is not changed in any way) and samples it from this process until it ends; the exit status is the
program's (128 + N when signal N ended it). Ctrl-C reaches the program from the terminal (the
profile is then partial, as in the in-process sampler); SIGINT, SIGTERM and SIGHUP sent to this
process alone are handed on to it.

The profiler options are ``python -m pyxray``'s (:mod:`pyxray._profile_cli`) that apply to
sampling: ``-o``, ``--clock wall|cpu|gil``, ``--interval``, ``--include``, ``--exclude``,
``--libraries``, ``--top``, ``-q``; ``--mode`` must be ``sample``; ``--memory`` needs the
in-process sampler (tracemalloc runs inside the program).
"""

from __future__ import annotations

import os
import signal
import sys

from ._sampler import AttachError, RemoteSampler
from ._windows import run_windows, windows_spec

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is for type checkers only
    from typing import Any, Sequence


def _parser(command: str) -> Any:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m pyxray.remote " + command, description="Sample a CPython 3.14+ process from outside (_remote_debugging).")
    if command == "attach":
        parser.add_argument("pid", type=int, help="the process to sample")
        parser.add_argument("--duration", type=float, default=None, metavar="S", help="seconds to sample (default: until the process ends or SIGINT)")
        parser.add_argument("--async-aware", action="store_true", help="asyncio: the running task's stack and the tasks awaiting it, instead of the threads' stacks")
    parser.add_argument("--mode", choices=("sample",), default="sample", help="only sample mode samples from outside")
    parser.add_argument("--clock", choices=("wall", "cpu", "gil"), default="wall")
    parser.add_argument("-o", "--output", default="pyxray-profile.json", metavar="FILE")
    parser.add_argument("--include", action="append", default=[], metavar="GLOB")
    parser.add_argument("--exclude", action="append", default=[], metavar="GLOB")
    parser.add_argument("--interval", default="1ms", metavar="DURATION")
    parser.add_argument("--libraries", choices=("first", "all", "none"), default="first")
    parser.add_argument("--top", type=int, default=15, metavar="N")
    parser.add_argument("-q", "--quiet", action="store_true")
    # accepted for the same command line as the in-process profiler; they do not apply here
    parser.add_argument("--no-builtins", dest="builtins", action="store_false", help=argparse.SUPPRESS)
    parser.add_argument("--overhead", default="auto", help=argparse.SUPPRESS)
    parser.add_argument("--subprocesses", choices=("merge", "files"), default="merge", help=argparse.SUPPRESS)
    parser.add_argument("--no-subprocesses", dest="subprocesses", action="store_const", const="off", help=argparse.SUPPRESS)
    return parser


def _fail(message: str) -> int:
    sys.stderr.write("pyxray: {}\n".format(message))
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    from .._profile_cli import UsageError, output_problem, parse_interval, split_argv

    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in ("attach", "run"):
        return _fail("python -m pyxray.remote: give attach PID or run TARGET")
    command = argv[0]
    own, target = split_argv(argv[1:]) if command == "run" else (argv[1:], [])
    parser = _parser(command)
    options = parser.parse_args(own)
    try:
        interval = parse_interval(options.interval)
    except UsageError as exc:
        return _fail(str(exc))
    if command == "attach" and options.duration is not None and not options.duration > 0:
        return _fail("--duration must be a positive number of seconds, got {}".format(options.duration))
    if command == "run" and not target:
        return _fail("nothing to run: give a script, -m module or -c code")
    output = os.path.abspath(options.output)
    inputs = [os.path.abspath(target[0])] if target and not target[0].startswith("-") else []
    problem = output_problem(output, inputs)
    if problem is not None:
        return _fail(problem)
    if command == "attach":
        return _attach(options, interval, output)
    return _run(options, interval, output, target)


def _sampler(pid: int, options: Any, interval: float, user_files: list[str]) -> RemoteSampler:
    return RemoteSampler(
        pid,
        interval=interval,
        clock=options.clock,
        include=options.include,
        exclude=options.exclude,
        libraries=options.libraries,
        user_files=user_files,
        async_aware=getattr(options, "async_aware", False),
    )


def _attach(options: Any, interval: float, output: str) -> int:
    pid = options.pid
    if pid <= 0 or not os.path.exists("/proc/{}".format(pid)):
        return _fail("no process {} (give the id of a running CPython 3.14+ process)".format(pid))
    try:
        sampler = _sampler(pid, options, interval, [])
    except ValueError as exc:
        return _fail(str(exc))
    stopping = [False]

    def stop(signum: int, frame: Any) -> None:
        stopping[0] = True

    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        signal.signal(getattr(signal, name), stop)
    try:
        sampler.attach()
    except AttachError as exc:
        return _fail(str(exc))
    argv = sampler._cmdline()[1:]
    if not options.quiet:
        sys.stderr.write("pyxray: sampling process {} every {:g} ms{}; Ctrl-C stops\n".format(pid, interval * 1e3, " for {:g} s".format(options.duration) if options.duration else ""))
        sys.stderr.flush()
    windows = windows_spec()
    if windows is None:
        sampler.run(options.duration, stop=lambda: stopping[0])
    else:  # pyxray profile --pid PID --every S --push URL (src/cli/profile-push.ts)
        run_windows(sampler, options.duration, lambda: stopping[0], *windows)
    doc = sampler.to_dict(argv=argv)
    return _write(doc, output, options)


def _run(options: Any, interval: float, output: str, target: list[str]) -> int:
    import subprocess

    user_files = [os.path.abspath(target[0])] if not target[0].startswith("-") else []
    pending: list[int] = []
    started: list[Any] = []

    def forward(signum: int, frame: Any) -> None:
        # Ctrl-C reaches the program from the terminal (the whole foreground group gets it):
        # not sent twice; a SIGINT sent to this process alone (pyxray's, timeout's) is handed on
        if signum == signal.SIGINT and _terminal_foreground():
            return
        pending.append(signum)
        for process in started:
            try:
                process.send_signal(signum)
            except OSError:
                pass

    # Handlers, not SIG_IGN: the program starts with these signals at their defaults (exec resets
    # handled signals; an ignored SIGINT would stay ignored, and Python would not raise
    # KeyboardInterrupt). One that came before it started is sent once it runs.
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        signal.signal(getattr(signal, name), forward)
    try:
        child = subprocess.Popen([sys.executable] + target)
    except OSError as exc:
        return _fail("cannot start {}: {}".format(sys.executable, exc))
    started.append(child)
    for signum in pending:
        child.send_signal(signum)
    alive = lambda: child.poll() is None  # noqa: E731
    sampler = _sampler(child.pid, options, interval, user_files)
    cwd = os.getcwd()
    argv = list(target) if target[0] not in ("-m", "-c") else ([target[0]] + target[2:])
    try:
        sampler.attach(alive=alive)
    except AttachError as exc:
        status = child.wait()
        if exc.code == "NOT_FOUND":  # ended before its first sample: an empty profile
            sampler.warnings.append("the program ended before its interpreter could be sampled")
        else:
            sys.stderr.write("pyxray: {}\n".format(exc))
            return _status(status)
    else:
        sampler.run(None, alive=alive)
    status = child.wait()
    code = _status(status)
    doc = sampler.to_dict(argv=argv, exit_status=code, partial=status == -signal.SIGINT or bool(pending), cwd=cwd)
    written = _write(doc, output, options)
    return code if written == 0 else written


def _terminal_foreground() -> bool:
    """Whether this process is in its terminal's foreground process group (Linux /proc)."""
    try:
        with open("/proc/self/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return False
    fields = stat[stat.rfind(b")") + 2 :].split()  # state ppid pgrp session tty_nr tpgid
    return len(fields) > 5 and fields[2] == fields[5]


def _status(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode


def _write(doc: dict[str, Any], output: str, options: Any) -> int:
    from .._profile_tree import format_table
    from ..profiler import write_document

    try:
        write_document(doc, output)
    except OSError as exc:
        return _fail("could not write the profile to {}: {}".format(output, exc))
    if options.quiet:
        for warning in doc["metadata"]["warnings"]:
            sys.stderr.write("pyxray: warning: {}\n".format(warning))
    else:
        sys.stderr.write(format_table(doc, top=options.top))
        sys.stderr.write("pyxray: profile written to {}\n".format(output))
    sys.stderr.flush()
    return 0
