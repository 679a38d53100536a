"""``python -m pyxray``: profile a script, a module or a code string, as ``python`` would run it.

::

    python -m pyxray [options] script.py [args...]
    python -m pyxray [options] -m module [args...]
    python -m pyxray [options] -c "code" [args...]

The target runs as ``__main__`` with the ``sys.argv`` and ``sys.path[0]`` Python would give it
(script: its folder; ``-m``: the current folder; ``-c``: ``''``). Everything after the target
belongs to the target, so ``python -m pyxray -o p.json app.py --verbose`` passes ``--verbose`` to
app.py.

The profile (``-o``, default ``pyxray-profile.json``) is written whatever happens to the target:
it returns, raises (the traceback is printed as Python prints it, without pyxray's frames; exit
status 1), calls ``sys.exit(n)`` (status n; a non-integer is printed and gives 1), or is
interrupted by SIGINT (KeyboardInterrupt: traceback, ``partial: true``, status 130). Like Python,
pyxray waits for the target's non-daemon threads before it stops profiling. The command's exit
status is the target's. SIGTERM and SIGHUP (when not ignored or handled by the target) and
``os._exit(n)`` write a partial profile first, then the process dies of the signal / exits with n
(:mod:`pyxray._guards`). Child processes (forks, multiprocessing, Python subprocesses) are
profiled with the same options and added to the profile as ``processes`` after the target's atexit
handlers ran (``--subprocesses files``: each in ``out.<pid>.json``; ``--no-subprocesses``: not
followed); a child prints nothing (:mod:`pyxray._children`, :class:`ProfiledProcess`). atexit handlers of the target run after the profile is written and are not profiled.
``-o`` is checked before the target runs (:func:`output_problem`: exit 2).

Unless ``--quiet``, the table of the top functions (``--top``, default 15) and where the profile
went are printed to stderr; the profile's warnings are printed in any case. Usage errors exit
with status 2 (argparse), a target that cannot be found like Python does (2 for a missing file,
1 for a missing module).
"""

from __future__ import annotations

import os
import sys

from ._guards import ExitGuard, ImportGuard
from ._versions import MAIN_FILE_IS_ABSOLUTE

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is for type checkers only
    from types import CodeType, TracebackType
    from typing import Any, Sequence

DEFAULT_OUTPUT = "pyxray-profile.json"

#: Options that take a value (needed to find where the target starts).
_VALUED = {"--count", "--mode", "--clock", "-o", "--output", "--include", "--exclude", "--interval", "--libraries", "--overhead", "--top", "--subprocesses"}


class UsageError(Exception):
    """A problem with the command line (exit status 2)."""


def parse_interval(text: str) -> float:
    """``1ms``, ``500us``, ``0.002s``, ``2000ns`` or a plain number of seconds -> seconds."""
    units = (("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("ms", 1e-3), ("s", 1.0))
    value = text.strip()
    factor = 1.0
    for suffix, scale in units:
        if value.endswith(suffix):
            value, factor = value[: -len(suffix)], scale
            break
    try:
        seconds = float(value) * factor
    except ValueError:
        raise UsageError("--interval: not a duration: {!r} (examples: 1ms, 500us, 0.002)".format(text)) from None
    if not seconds > 0:
        raise UsageError("--interval must be positive, got {!r}".format(text))
    return seconds


def _parser() -> Any:
    import argparse

    parser = argparse.ArgumentParser(
        # `pyxray profile` starts the agent with PYXRAY_PROG set, so that usage errors name the command typed.
        prog=os.environ.get("PYXRAY_PROG") or "python -m pyxray",
        usage="%(prog)s [options] (script.py | -m module | -c code) [args ...]",
        description="Profile a Python program: a call tree per thread with call counts, times "
        "(per-call overhead calibrated and subtracted) and optionally memory per call.",
    )
    parser.add_argument("--mode", choices=("trace", "sample"), default="trace", help="trace every call (default) or sample the stacks")
    parser.add_argument("--memory", action="store_true", help="tracemalloc per call node: net and peak bytes")
    parser.add_argument(
        "--count",
        choices=("instructions",),
        help="count the bytecode instructions executed per call node (trace mode; exact and deterministic for "
        "pure-Python code, compared by pyxray diff --metric instructions; times become meaningless)",
    )
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall", help="wall time (default) or the thread's CPU time")
    parser.add_argument("-o", "--output", default=DEFAULT_OUTPUT, metavar="FILE", help="where to write the profile (default: %(default)s)")
    parser.add_argument("--include", action="append", default=[], metavar="GLOB", help="your code: path or module glob (repeatable)")
    parser.add_argument("--exclude", action="append", default=[], metavar="GLOB", help="code to fold into its caller (repeatable)")
    parser.add_argument("--interval", default="1ms", metavar="DURATION", help="sampling interval (default 1ms)")
    parser.add_argument("--libraries", choices=("first", "all", "none"), default="first", help="show the first call into library code (default), all of it, or none")
    parser.add_argument("--no-builtins", dest="builtins", action="store_false", help="do not show builtins (less overhead on 3.12+)")
    parser.add_argument("--overhead", default="auto", metavar="auto|fresh|off|NS", help="per-call overhead to subtract: calibrated and cached (auto), recalibrated (fresh), none (off), or ns per call")
    parser.add_argument("--top", type=int, default=15, metavar="N", help="rows of the table printed at the end (default 15)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print no table, only warnings")
    parser.add_argument(
        "--subprocesses",
        choices=("merge", "files"),
        default="merge",
        help="profile child processes (fork, multiprocessing, subprocess/exec of Python) with the same options: "
        "as extra processes in the same profile (merge, default) or each in its own FILE.<pid>.json beside it (files)",
    )
    parser.add_argument("--no-subprocesses", dest="subprocesses", action="store_const", const="off", help="profile only this process")
    parser.add_argument("-m", dest="module", metavar="module", help="run a library module as a script (the rest of the line is its arguments)")
    parser.add_argument("-c", dest="code", metavar="code", help="run a code string (the rest of the line is its arguments)")
    return parser


def split_argv(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """(pyxray's options, the target and its arguments): the target starts at the first
    argument that is not an option, or at ``-m``/``-c`` (including their value), or after ``--``."""
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg == "--":
            return list(argv[:index]), list(argv[index + 1 :])
        if arg in ("-m", "-c"):
            return list(argv[:index]), list(argv[index:])
        if (arg.startswith("-m") or arg.startswith("-c")) and not arg.startswith("--"):
            return list(argv[:index]), [arg[:2], arg[2:]] + list(argv[index + 1 :])
        if not arg.startswith("-") or arg == "-":
            return list(argv[:index]), list(argv[index:])
        index += 2 if arg in _VALUED else 1
    return list(argv), []


class Target:
    """What to run: a code object and the ``__main__`` globals, argv and path entry it needs."""

    def __init__(self, code: CodeType | None, globals_: dict[str, Any], argv: list[str], path0: str, run_path: str | None = None) -> None:
        self.code = code
        self.globals = globals_
        self.argv = argv
        self.path0 = path0
        self.run_path = run_path  # a folder or zip file with __main__.py (run with runpy)


class TargetError(Exception):
    """The target cannot be run; ``status`` is the exit status Python uses for it."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def _main_globals(**values: Any) -> dict[str, Any]:
    import builtins

    out: dict[str, Any] = {"__name__": "__main__", "__doc__": None, "__package__": None, "__loader__": None, "__spec__": None, "__builtins__": builtins}
    out.update(values)
    return out


def prepare(target: list[str]) -> Target:
    """Finds and compiles the target (nothing of it runs yet)."""
    program = os.path.basename(sys.executable or "python")
    kind, rest = target[0], target[1:]
    if kind == "-c":
        if not rest:
            raise UsageError("argument -c: expected the code to run")
        code = compile(rest[0], "<string>", "exec", dont_inherit=True)
        return Target(code, _main_globals(), ["-c"] + rest[1:], "")
    if kind == "-m":
        if not rest:
            raise UsageError("argument -m: expected a module name")
        return _prepare_module(rest[0], rest[1:], program)
    path = kind
    if os.path.isdir(path) or (os.path.isfile(path) and _is_zip(path)):
        return Target(None, {}, [path] + rest, os.path.abspath(path), run_path=path)
    try:
        import io

        with io.open_code(path) as f:
            source = f.read()
    except OSError as exc:
        raise TargetError("{}: can't open file {!r}: [Errno {}] {}".format(program, os.path.abspath(path), exc.errno, exc.strerror), 2) from None
    filename = os.path.abspath(path) if MAIN_FILE_IS_ABSOLUTE else path
    code = compile(source, filename, "exec", dont_inherit=True)
    from importlib.machinery import SourceFileLoader

    globals_ = _main_globals(__file__=filename, __cached__=None, __loader__=SourceFileLoader("__main__", filename))
    return Target(code, globals_, [path] + rest, os.path.dirname(os.path.realpath(path)))


def _is_zip(path: str) -> bool:
    import zipfile

    try:
        return zipfile.is_zipfile(path)
    except OSError:
        return False


def _prepare_module(name: str, args: list[str], program: str) -> Target:
    import importlib.util

    sys.path.insert(0, os.getcwd())  # as `python -m` would have it while importing the parents
    try:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError) as exc:
            raise TargetError("{}: Error while finding module specification for {!r} ({}: {})".format(program, name, type(exc).__name__, exc), 1) from None
        if spec is None:
            raise TargetError("{}: No module named {}".format(program, name), 1)
        if spec.submodule_search_locations is not None:
            main_name = name + ".__main__"
            spec = importlib.util.find_spec(main_name)
            if spec is None:
                raise TargetError("{}: No module named {}; {!r} is a package and cannot be directly executed".format(program, main_name, name), 1)
        loader = spec.loader
        code = loader.get_code(spec.name) if loader is not None and hasattr(loader, "get_code") else None  # type: ignore[attr-defined]
        if code is None:
            raise TargetError("{}: No code object available for {}".format(program, spec.name), 1)
    finally:
        sys.path.pop(0)
    globals_ = _main_globals(__file__=spec.origin, __cached__=spec.cached, __loader__=loader, __package__=spec.parent, __spec__=spec)
    return Target(code, globals_, [spec.origin or name] + args, os.getcwd())


def _exit_status(exc: SystemExit) -> int:
    """The status Python exits with for an uncaught SystemExit (and prints a non-int code)."""
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return int(code) & 0xFF  # what the OS makes of it
    sys.stderr.write("{}\n".format(code))
    return 1


def _without_pyxray(tb: TracebackType | None) -> TracebackType | None:
    """The traceback without pyxray's frames (the runner's, and a profiler callback's when a
    KeyboardInterrupt arrived while it ran)."""
    import types

    own = os.path.dirname(os.path.abspath(__file__))
    kept = []
    while tb is not None:
        if os.path.dirname(os.path.abspath(tb.tb_frame.f_code.co_filename)) != own:
            kept.append(tb)
        tb = tb.tb_next
    out: TracebackType | None = None
    for entry in reversed(kept):
        out = types.TracebackType(out, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return out


def _print_exception(exc: BaseException) -> None:
    """Prints an exception as the interpreter would (sys.excepthook), without pyxray's frames."""
    tb = _without_pyxray(exc.__traceback__)
    exc.__traceback__ = tb  # the hook prints the exception's own traceback
    try:
        sys.excepthook(type(exc), exc, tb)
    except Exception:
        import traceback

        traceback.print_exception(type(exc), exc, tb)


def _join_threads() -> None:
    """Waits for non-daemon threads, as the interpreter does before it exits."""
    import threading

    main = threading.main_thread()
    for thread in threading.enumerate():
        if thread is not main and not thread.daemon and thread.is_alive():
            thread.join()


def output_problem(output: str, inputs: Sequence[str]) -> str | None:
    """Why the profile cannot be written to ``output`` (an absolute path), or None: checked before
    the target runs. An input of the run (the script, the module run with -m) is never an output."""
    if os.path.isdir(output):
        return "-o {}: that is a folder; give a file name".format(output)
    folder = os.path.dirname(output)
    if not os.path.isdir(folder):
        return "-o {}: folder {} does not exist".format(output, folder)
    if os.path.lexists(output):
        if not os.path.isfile(output):
            return "-o {}: not a regular file; give a file name".format(output)
        for path in inputs:
            try:
                same = os.path.samefile(output, path)
            except OSError:
                same = False
            if same:
                return "-o {}: that is the program being profiled ({}); pyxray never overwrites its inputs".format(output, path)
    if not os.access(folder, os.W_OK | os.X_OK):
        return "-o {}: cannot write in folder {}".format(output, folder)
    return None


def main(argv: Sequence[str] | None = None, *, guard: ImportGuard | None = None) -> int:
    """Runs the command line; returns the exit status (the target's). ``guard``: pyxray's
    launcher (:func:`pyxray._process.launch`) started the agent apart from the target's imports."""
    argv = list(sys.argv[1:] if argv is None else argv)
    own, target = split_argv(argv)
    parser = _parser()
    options = parser.parse_args(own)  # (-m and -c never get here: split_argv took them)
    if not target:
        parser.print_usage(sys.stderr)
        sys.stderr.write("python -m pyxray: error: nothing to run: give a script, -m module or -c code\n")
        return 2
    try:
        interval = parse_interval(options.interval)
        if options.count is not None and options.mode != "trace":
            raise UsageError("--count instructions needs --mode trace (a sampler sees stacks, not instructions)")
        overhead: str | float = options.overhead
        if overhead not in ("auto", "fresh", "off"):
            try:
                overhead = float(overhead)
            except ValueError:
                raise UsageError("--overhead must be auto, fresh, off or a number of ns, got {!r}".format(options.overhead)) from None

        profiler = _options_profiler(options, interval, overhead)
        _preload(options)
        if guard is not None:
            guard.target_path()
        prepared = prepare(target)
        profiler._quiet_root = True  # pyxray's frames are the root: only the target shows
        if prepared.code is not None:
            profiler._add_user_file(prepared.code.co_filename)  # user code, even a library module run with -m
    except UsageError as exc:
        parser.print_usage(sys.stderr)
        sys.stderr.write("python -m pyxray: error: {}\n".format(exc))
        return 2
    except ValueError as exc:  # a bad pattern or option value
        parser.print_usage(sys.stderr)
        sys.stderr.write("python -m pyxray: error: {}\n".format(exc))
        return 2
    except TargetError as exc:
        sys.stderr.write("{}\n".format(exc))
        return exc.status
    except SyntaxError as exc:
        _print_exception(exc)
        return 1
    output = os.path.abspath(options.output)
    problem = output_problem(output, [p for p in (prepared.globals.get("__file__"), prepared.run_path) if p])
    if problem is not None:
        sys.stderr.write("python -m pyxray: error: {}\n".format(problem))
        return 2
    from .errors import ProfilerError

    session = None
    if options.subprocesses != "off":
        from ._children import Session

        session = Session.create(options.subprocesses, output, _without_output(own))
    proc = ProfiledProcess(profiler, options, output, guard, session, "root", None)
    try:
        status, partial = _run(proc, prepared, guard)
    except ProfilerError as exc:  # could not start: another profiler holds the hook, PYXRAY_ACCEL=1 without a C engine
        sys.stderr.write("python -m pyxray: error: {}\n".format(exc))
        proc.end_session()
        return 1
    current = ProfiledProcess._current
    return status if current is None else current.end(status, partial)


def _without_output(own: Sequence[str]) -> list[str]:
    """pyxray's options for a child: without -o (a child writes where the session says)."""
    out: list[str] = []
    skip = False
    for arg in own:
        if skip:
            skip = False
        elif arg in ("-o", "--output"):
            skip = True
        elif not arg.startswith("--output="):
            out.append(arg)
    return out


class ProfiledProcess:
    """A profiled process: its profiler, how it ends (:class:`ExitGuard`) and where its document
    goes. The root writes ``-o`` and merges its children's (:mod:`pyxray._children`); a followed
    child writes into the session, silently. A forked child replaces the process's instance
    (:meth:`current`) with a fresh one whose profile starts at the fork."""

    _current: ProfiledProcess | None = None

    def __init__(self, profiler: Any, options: Any, output: str, guard: ImportGuard | None, session: Any, role: str, parent: int | None, announce: bool = True) -> None:
        self.profiler = profiler
        self.options = options
        self.output = output
        self.guard = guard
        self.session = session
        self.role = role
        self.parent = parent
        self.pid = os.getpid()
        self.ends = ExitGuard(self.finish)
        self.doc: dict[str, Any] | None = None
        self.stem = session.new_stem() if session is not None and role != "root" else ""
        self._announce_later = role == "child" and session is not None and not announce
        ProfiledProcess._current = self
        if session is not None:
            from ._children import Follower

            follower = Follower(session, self._forked, self._before_exec)
            follower.role = role
            follower.exec_parent = parent
            follower.install()
            self.follower: Any = follower
            if role == "root":
                import atexit

                atexit.register(self._at_exit)  # before the target's: runs after them
            elif role == "child" and announce:
                session.announce(self.stem)
        else:
            self.follower = None
            if role == "root" and hasattr(os, "register_at_fork"):
                from ._guards import hold_signals, restore_signals

                os.register_at_fork(before=hold_signals, after_in_parent=restore_signals, after_in_child=_not_followed)

    # -- ends --

    def end(self, status: int, partial: bool) -> int:
        """The runner's end: writes the profile; returns the exit status."""
        try:
            self.finish(status, partial, "")
        except Exception as exc:  # the profile is lost; say so, keep a failing status
            sys.stderr.write("pyxray: could not write the profile to {}: {}\n".format(self.output, exc))
            return status or 1
        self.ends.die_if_pending()
        return status

    def finish(self, status: int | None, partial: bool, why: str) -> None:
        """Writes the profile (a child: into the session, silently; the root: -o and the table)."""
        if self.guard is not None:
            self.guard.agent_modules()
        profiler = self.profiler
        if profiler.running:
            profiler.stop()
        doc = profiler.to_dict(exit_status=status, partial=partial)
        if self.role != "root":
            doc["metadata"]["parentPid"] = self.parent
            path = self.session.child_path(self.stem) if self.session is not None else None
            if path is not None:
                from .profiler import write_document

                write_document(doc, path)
            return
        self.doc = doc
        if why and self.session is not None:  # a signal or os._exit: the root's atexit will not run
            self._merge(why)
            return
        self._write()
        from ._profile_tree import format_table

        if self.options.quiet:
            for warning in doc["metadata"]["warnings"]:
                sys.stderr.write("pyxray: warning: {}\n".format(warning))
        else:
            sys.stderr.write(format_table(doc, top=self.options.top))
        if why or not self.options.quiet:
            sys.stderr.write("pyxray: {}profile written to {}\n".format("{}: partial ".format(why) if why else "", self.output))
        sys.stderr.flush()

    def _write(self) -> None:
        from .profiler import write_document

        assert self.doc is not None
        write_document(self.doc, self.output)

    def _at_exit(self) -> None:
        """The root after the target's atexit handlers (multiprocessing has joined or ended its
        children by then): the children's documents join the root's."""
        if os.getpid() != self.pid or self.doc is None:
            return
        if self.guard is not None:
            self.guard.agent_modules()
        try:
            self._merge("")
        except Exception as exc:
            sys.stderr.write("pyxray: could not add the child processes to {}: {}\n".format(self.output, exc))

    def _merge(self, why: str) -> None:
        from ._children import child_wait, merge
        from ._profile_tree import format_processes

        assert self.doc is not None
        session = self.session
        wait = child_wait()
        if why:  # the root is dying of a signal: its children, signalled too, are writing now; no long wait
            wait = min(wait, 3.0)
        docs, warnings = session.collect(wait)
        if docs or warnings:
            merge(self.doc, docs, warnings)
        if why or docs or warnings:
            self._write()
        if why:
            if self.options.quiet:
                for warning in self.doc["metadata"]["warnings"]:
                    sys.stderr.write("pyxray: warning: {}\n".format(warning))
            else:
                from ._profile_tree import format_table

                sys.stderr.write(format_table(self.doc, top=self.options.top))
        elif warnings:
            for warning in warnings:
                sys.stderr.write("pyxray: warning: {}\n".format(warning))
        if not self.options.quiet or why:
            text = format_processes(self.doc)
            if text:
                sys.stderr.write(text)
        if why:
            sys.stderr.write("pyxray: {}: partial profile written to {}\n".format(why, self.output))
        elif docs and not self.options.quiet:
            sys.stderr.write("pyxray: {} child process{} added to {}\n".format(len(docs), "" if len(docs) == 1 else "es", self.output))
        sys.stderr.flush()

    def end_session(self) -> None:
        if self.session is not None and self.session.folder is not None:
            import shutil

            shutil.rmtree(self.session.folder, ignore_errors=True)

    # -- children --

    def _forked(self, parent: int) -> None:
        """In a forked child: the parent's profile is dropped, a fresh one starts here."""
        old = self.profiler
        _abandon(old)
        self.ends.uninstall()
        profiler = _child_profiler(old)
        parent = self.follower.parent_pid if self.role != "helper" else self.parent
        child = ProfiledProcess(profiler, self.options, self.output, self.guard, self.session, "child", parent)
        child.ends.install()
        profiler.start()

    def _before_exec(self, followed: bool) -> None:
        """The process is replaced by another program: its profile is written first."""
        why = "replaced by exec" + (" (the new program is profiled as a child)" if followed else "")
        if self.role == "root":
            why = "replaced by exec (the new program is not profiled)"
        self.ends.uninstall()
        try:
            if self.role == "root":
                self.finish(None, True, why)
            elif self.role == "child":
                self.profiler._warnings.append("process {} was {}".format(os.getpid(), why))
                self.finish(None, True, why)
        except Exception as exc:
            sys.stderr.write("pyxray: could not write the profile before exec: {}\n".format(exc))


def _abandon(profiler: Any) -> None:
    """Drops a profiler inherited through fork without touching its threads (a sampler thread
    does not exist in the child, and a lock it held stays held)."""
    profiler._abandon()


def _child_profiler(like: Any) -> Any:
    """A profiler with the options of ``like`` and its calibration (not measured again)."""
    from .profiler import Profiler

    profiler = Profiler(
        memory=like.memory,
        mode=like.mode,
        clock=like.clock_name,
        include=like.include,
        exclude=like.exclude,
        interval=like.interval,
        libraries=like.libraries,
        builtins=like.builtins,
        count=like.count,
        overhead="auto" if like.overhead_option == "fresh" else like.overhead_option,
    )
    profiler._filter = like._filter
    if like._started:  # the parent's calibration, not measured again
        profiler._inherited_overhead = like._overhead
    return profiler


def _options_profiler(options: Any, interval: float, overhead: str | float) -> Any:
    """The Profiler the command line's options ask for (the root's, a child's, the forkserver's)."""
    from .profiler import Profiler

    return Profiler(
        memory=options.memory,
        mode=options.mode,
        clock=options.clock,
        include=options.include,
        exclude=options.exclude,
        interval=interval,
        libraries=options.libraries,
        builtins=options.builtins,
        overhead=overhead,
        count=options.count,
    )


def _child_overhead(option: str) -> str | float:
    """A child's --overhead: the root calibrated already (fresh -> the cache it stored)."""
    if option in ("auto", "fresh"):
        return "auto"
    return option if option == "off" else float(option)


def _not_followed() -> None:
    """--no-subprocesses, in a forked child: the inherited profiler stops; nothing is written."""
    from ._guards import restore_signals

    try:
        proc = ProfiledProcess._current
        if proc is None or proc.role != "root":
            return
        _abandon(proc.profiler)
        proc.ends.uninstall()
        ProfiledProcess._current = None
    finally:
        restore_signals()


def child_main(config: dict[str, Any], target: list[str], guard: ImportGuard | None) -> int:
    """A followed child (started by :mod:`pyxray._children`'s bootstrap): the target runs under a
    profiler with the root's options, its profile goes to the session; the exit status is the
    target's. ``config``: the session, the parent's pid and this process's role."""
    from ._children import Session

    session = Session(config)
    if config["role"] == "helper":
        return _helper(session, config, target, guard)
    own = list(session.options)
    options = _parser().parse_args(own)
    profiler = _options_profiler(options, parse_interval(options.interval), _child_overhead(options.overhead))
    _preload(options)
    if guard is not None:
        guard.target_path()
    try:
        prepared = prepare(target)
    except TargetError as exc:
        sys.stderr.write("{}\n".format(exc))
        return exc.status
    except SyntaxError as exc:
        _print_exception(exc)
        return 1
    profiler._quiet_root = True
    if prepared.code is not None:
        profiler._add_user_file(prepared.code.co_filename)
    # Announced once its handlers are in place (in _run): a child ended by SIGTERM before then (a
    # Pool worker terminated while it was starting) has run nothing of the program, and leaves
    # nothing for the root to wait for or to miss.
    proc = ProfiledProcess(profiler, options, session.output, guard, session, "child", config["parent"], announce=False)
    from .errors import ProfilerError

    try:
        status, partial = _run(proc, prepared, guard)
    except ProfilerError as exc:
        sys.stderr.write("python -m pyxray: error: {}\n".format(exc))
        return 1
    current = ProfiledProcess._current
    return status if current is None else current.end(status, partial)


def _helper(session: Any, config: dict[str, Any], target: list[str], guard: ImportGuard | None) -> int:
    """multiprocessing's forkserver: runs unprofiled; the children it forks are followed."""
    options = _parser().parse_args(list(session.options))
    template = _options_profiler(options, parse_interval(options.interval), _child_overhead(options.overhead))
    _preload(options)
    if guard is not None:
        guard.target_path()
    proc = ProfiledProcess(template, options, session.output, guard, session, "helper", config["parent"])
    prepared = prepare(target)
    if getattr(sys.flags, "safe_path", False):
        pass
    else:
        sys.path.insert(0, prepared.path0)
    sys.argv[:] = prepared.argv
    import types

    main_module = types.ModuleType("__main__")
    main_module.__dict__.update(prepared.globals)
    sys.modules["__main__"] = main_module
    del proc  # kept alive as ProfiledProcess._current: its fork hook follows the forkserver's children
    exec(prepared.code, main_module.__dict__)
    return 0


def _preload(options: Any) -> None:
    """Imports what pyxray needs later, before sys.path[0] becomes the target's folder (where a
    json.py or types.py of the user's would shadow the standard library's)."""
    import io  # noqa: F401  (prepare)
    import runpy  # noqa: F401  (folders and zip files)
    import zipfile  # noqa: F401  (prepare)
    from importlib import machinery, util  # noqa: F401  (prepare)
    import tempfile  # noqa: F401  (write_atomic)
    import threading  # noqa: F401
    import traceback  # noqa: F401  (when sys.excepthook fails)
    import types  # noqa: F401

    from . import _profile_calibrate, _profile_tree, jsonline  # noqa: F401

    if options.mode == "sample":
        from . import _profile_sample  # noqa: F401
    if options.memory:
        import tracemalloc  # noqa: F401
    elif options.mode == "trace":
        from ._profile_accel import accel_option

        if accel_option(None) != "off":
            from ._accel_build import load

            load()  # the C engine: built (first run) and imported now, with the standard library's modules


def _run(proc: ProfiledProcess, target: Target, guard: ImportGuard | None = None) -> tuple[int, bool]:
    """Runs the target under the process's profiler; returns (exit status, partial). ``guard``
    hides the agent's shadowed modules from the target; the process's ExitGuard writes a partial
    profile when the process ends behind our back (signals, os._exit). In a forked child the
    target returns here too: the child's own profiler (:meth:`ProfiledProcess.current`) stops."""
    profiler = proc.profiler
    import warnings

    from .profiler import ProfilerWarning

    warnings.filterwarnings("ignore", category=ProfilerWarning)  # printed from the document instead
    sys.argv[:] = target.argv
    if getattr(sys.flags, "safe_path", False):
        pass  # -P / PYTHONSAFEPATH: Python adds no folder for the script either
    elif guard is not None:
        guard.shadowed_by(target.path0)
        sys.path.insert(0, target.path0)  # the launcher's sys.path has no entry for -c's folder
    elif sys.path:
        sys.path[0] = target.path0  # python -m pyxray: the current folder's entry
    else:
        sys.path.append(target.path0)
    main_module = None
    if target.code is not None:
        import types

        main_module = types.ModuleType("__main__")
        main_module.__dict__.update(target.globals)
        sys.modules["__main__"] = main_module
    status = 0
    partial = False
    proc.ends.install()
    profiler.start()
    if getattr(proc, "_announce_later", False):
        proc.session.announce(proc.stem)
    if guard is not None:
        guard.hide()
    try:
        try:
            if main_module is not None:
                exec(target.code, main_module.__dict__)
            else:
                import runpy

                runpy.run_path(target.run_path, run_name="__main__")  # type: ignore[arg-type]
        except SystemExit as exc:
            status = _exit_status(exc)
        except KeyboardInterrupt as exc:
            _print_exception(exc)
            status, partial = 130, True
        except BaseException as exc:
            _print_exception(exc)
            status = 1
        try:
            _join_threads()
        except KeyboardInterrupt:
            status, partial = 130, True
    except KeyboardInterrupt:  # a second SIGINT (the terminal's and a forwarded one) while the first was handled
        status, partial = 130, True
    finally:
        current = ProfiledProcess._current
        if current is not None:
            current.ends.done()
            if current.profiler.running:
                current.profiler.stop()
        elif profiler.running:
            profiler.stop()
    return status, partial
