"""The out-of-process sampler: a loop around ``_remote_debugging.RemoteUnwinder`` that builds the
same call trees as the in-process sampler (:mod:`pyxray._profile_sample`).

Every ``interval`` the unwinder reads every thread's Python stack from the target's memory
(``process_vm_readv``; the target is neither stopped nor changed). Each stack is walked from the
outermost frame to the innermost through the same folding rules as the other modes (library code,
``include``/``exclude``: :class:`pyxray._profile_filter.CodeFilter`, by file): every node on the
path gets one sample and the tick's weight, the innermost visible node the weight as self time and
one sample on the line its frame was executing (``lines``). The weight is the time that really
passed since the previous tick (ticks aim at a fixed beat, start + k * interval, and skip beats they
missed).

Clocks, by what the target's unwinder offers:

- ``wall`` (3.14, 3.15): every thread at every tick;
- ``cpu`` (3.15): only the threads running on a CPU at that tick (the unwinder reads the kernel's
  thread state), each weighted with the tick's time;
- ``gil`` (3.15): only the thread holding the GIL.

3.14's unwinder has no modes: only ``wall``. Threads are named from ``/proc/PID/task/TID/comm``
(3.14+ names OS threads after ``Thread.name``, cut to 15 bytes), the main thread -- the one whose
id is the pid -- ``MainThread``; thread ids are the OS's (``id`` and ``nativeId`` are the same).

What the unwinder gives per frame is the file, the qualified name and the line (3.15, asked for
``opcodes``: the instruction's full source span and its opcode, specialised form included). On
3.15 the innermost visible node's samples are also kept per instruction: the frame's source file
is compiled here (the sampler runs the target's version, so the offsets are the target's) and the
instruction with that span and opcode (or its base form) gives the offset (``offsets``;
:mod:`pyxray._profile_sites`). 3.14's unwinder gives only the line: no instructions there. A frame's ``firstlineno`` is found by
parsing its source file (read through ``/proc/PID/root``, so a target in a chroot works too) for
the definition of that qualified name; 0 when it cannot be found.
"""

from __future__ import annotations

import os
import sys
import time

from .._profile_filter import LIBRARY, SKIP, CodeFilter, default_library_paths
from .._profile_sites import base_opnames, code_objects, describe, find_code, match_site, span_table

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is for type checkers only
    from typing import Any, Callable, Iterable

#: The unwinder's profiling modes (``_remote_debugging``'s PROFILING_MODE_* values on 3.15).
CLOCK_MODES = {"wall": 0, "cpu": 1, "gil": 2}


#: The sampling thread's niceness (``PYXRAY_SAMPLER_NICE`` overrides it, 0 keeps the priority it
#: was started with; see :func:`_lower_priority`).
SAMPLER_NICE = 0


def _lower_priority() -> None:
    """Lowers the sampling thread's priority by ``PYXRAY_SAMPLER_NICE`` (default
    :data:`SAMPLER_NICE`). With an idle core this changes nothing. Without one the sampler competes
    with the target for a core, and a sampler that wakes every interval at the target's own
    priority preempts it: measured on 2 busy cores (BENCHMARKS.md, "Sampling from outside"), the
    target's involuntary context switches per CPU second went from ~410-470 unsampled to 730-1,020
    sampled at nice 0, 550 at nice 10, 430-470 at nice 19 -- while the samples taken per second fell
    from ~420 to 180 and 60 (to 37-73 in a 3 s ``--pid`` run at nice 10, load ~20), and the target's
    loops per CPU second moved by less than the noise (±1 %). So the default stays 0 (no change):
    a user who wants the busy machine's core for the target more than the samples sets it (the
    samples' weights are the time that passed, so fewer samples cost precision, not correctness).
    Called after the target was started (``run``): the target keeps its own priority. Best effort
    (Linux: the calling thread only)."""
    text = os.environ.get("PYXRAY_SAMPLER_NICE", "")
    try:
        wanted = int(text) if text.strip() else SAMPLER_NICE
    except ValueError:
        return
    if wanted > 0 and hasattr(os, "nice"):
        try:
            os.nice(min(wanted, 19))
        except OSError:
            pass


class AttachError(Exception):
    """The target cannot be sampled: ``code`` is NOT_FOUND, PERMISSION, UNSUPPORTED or NOT_PYTHON;
    the message is one line saying what is wrong and what to do."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def permission_message(pid: int, detail: str) -> str:
    """Why reading process ``pid``'s memory was refused, and what to do, in one line."""
    why = []
    try:
        owner = os.stat("/proc/{}".format(pid)).st_uid
    except OSError:
        owner = None
    euid = os.geteuid() if hasattr(os, "geteuid") else None
    if owner is not None and euid is not None and owner != euid and euid != 0:
        why.append("it belongs to another user (uid {}); run pyxray as that user or as root".format(owner))
    try:
        with open("/proc/sys/kernel/yama/ptrace_scope", encoding="ascii") as f:
            scope = int(f.read().strip() or "0")
    except (OSError, ValueError):
        scope = 0
    if scope == 1:
        why.append("/proc/sys/kernel/yama/ptrace_scope is 1 (only a process's ancestors may read it): run as root, give python CAP_SYS_PTRACE, or set it to 0")
    elif scope >= 2:
        why.append("/proc/sys/kernel/yama/ptrace_scope is {} (only root, or no one, may read other processes): run as root{}".format(scope, "" if scope == 2 else " after a reboot with a lower scope"))
    if not why:
        why.append("reading another process's memory needs the right to ptrace it (same user, CAP_SYS_PTRACE in containers: docker run --cap-add SYS_PTRACE)")
    return "cannot read process {}'s memory ({}): {}".format(pid, detail, "; ".join(why))


class _Node:
    __slots__ = ("frame", "samples", "total", "own", "children", "lines", "sites", "lib")

    def __init__(self, frame: int, lib: bool) -> None:
        self.frame = frame
        self.samples = 0
        self.total = 0.0
        self.own = 0.0
        self.children: dict[int, _Node] = {}
        self.lines: dict[int, int] = {}
        #: 3.15: (location, opcode) -> samples, resolved to offsets when the document is written
        self.sites: dict[tuple[Any, int], int] = {}
        self.lib = lib


class _Thread:
    __slots__ = ("tid", "name", "root")

    def __init__(self, tid: int, name: str) -> None:
        self.tid = tid
        self.name = name
        self.root = _Node(-1, False)


def _thread_name(pid: int, tid: int) -> str:
    if tid == pid:  # the OS names it after the program; threading calls it MainThread
        return "MainThread"
    try:
        with open("/proc/{}/task/{}/comm".format(pid, tid), encoding="utf-8", errors="replace") as f:
            return f.read().rstrip("\n") or "Thread-{}".format(tid)
    except OSError:
        return "Thread-{}".format(tid)


def _definitions(source: str) -> dict[str, int]:
    """qualname -> co_firstlineno for the functions and classes of a module's source."""
    import ast

    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return {}
    out: dict[str, int] = {"<module>": 1}
    todo: list[tuple[Any, str]] = [(tree, "")]
    while todo:
        node, prefix = todo.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = prefix + child.name
                first = min([child.lineno] + [d.lineno for d in child.decorator_list])
                out.setdefault(name, first)
                inner = name + (".<locals>." if not isinstance(child, ast.ClassDef) else ".")
                todo.append((child, inner))
            else:
                todo.append((child, prefix))
    return out


class _TaskStack:
    """A thread's running task as one stack (the shape of a ThreadInfo)."""

    __slots__ = ("thread_id", "frame_info")

    def __init__(self, thread_id: int, frame_info: list[Any]) -> None:
        self.thread_id = thread_id
        self.frame_info = frame_info


def _task_stacks(awaited: Any) -> list[_TaskStack]:
    """``get_async_stack_trace()``'s answer as one stack per thread running a task: the running
    task's coroutine frames (innermost first), then its awaiter's task's, and so on up the chain
    (the first awaiter at each step; a task's awaiter names the awaiting task by id)."""
    out = []
    for info in awaited:
        tasks = info.awaited_by
        if not tasks:
            continue  # no task runs on this thread now (the event loop waits, or no loop)
        by_id = {task.task_id: task for task in tasks}
        task = tasks[0]
        frames: list[Any] = []
        seen = set()
        while task is not None and task.task_id not in seen:
            seen.add(task.task_id)
            for coro in task.coroutine_stack:
                frames.extend(coro.call_stack)
            if not task.awaited_by:
                break
            awaiter = task.awaited_by[0]
            task = by_id.get(awaiter.task_name)
            if task is None:  # a task not in the answer: its awaiting frames only
                frames.extend(awaiter.call_stack)
        out.append(_TaskStack(info.thread_id, frames))
    return out


class RemoteSampler:
    """Samples process ``pid`` from outside (see the module docstring). ``attach()``, then
    ``run()``, then ``to_dict()``."""

    def __init__(
        self,
        pid: int,
        *,
        interval: float = 0.001,
        clock: str = "wall",
        include: Iterable[str] = (),
        exclude: Iterable[str] = (),
        libraries: str = "first",
        user_files: Iterable[str] = (),
        async_aware: bool = False,
    ) -> None:
        if clock not in CLOCK_MODES:
            raise ValueError("clock must be one of {}, got {!r}".format(", ".join(CLOCK_MODES), clock))
        self.pid = pid
        self.async_aware = async_aware
        self.interval = interval
        self.clock = clock
        self.include = list(include)
        self.exclude = list(exclude)
        self.libraries = libraries
        exe = self._target_exe()
        paths = default_library_paths()
        if exe:
            # the target's own prefix (as the sampler sees it): <prefix>/bin/python3.X
            prefix = os.path.dirname(os.path.dirname(exe))
            paths.append(os.path.join(prefix, "lib"))
        self.filter = CodeFilter(self.include, self.exclude, paths, libraries)
        for path in user_files:
            self.filter.add_user_file(path)
        self.frames: list[dict[str, Any]] = []
        self._frame_of: dict[tuple[str, str], tuple[int, int]] = {}
        self._firstlines: dict[str, dict[str, int]] = {}
        self.threads: dict[int, _Thread] = {}
        self.samples = 0
        self.failed = 0
        self.warnings: list[str] = []
        self.duration = 0.0
        self.start_epoch = 0.0
        self._unwinder: Any = None
        self._nested: bool | None = None
        #: (thread id, frames) -> [samples, weight], counted while sampling (see run)
        self._stacks: dict[tuple[int, tuple[Any, ...]], list[Any]] = {}
        self._names: dict[int, str] = {}
        #: threads still named like the process: a new thread names itself once it runs
        self._unsettled: dict[int, int] = {}
        self._comm: str | None = None
        self._codes: dict[str, list[Any]] = {}
        self._spans: dict[int, dict[Any, list[Any]]] = {}
        self._keep: list[Any] = []
        self._described: dict[int, dict[int, dict[str, Any]]] = {}
        self._bases = base_opnames()

    # -- attaching --

    def _target_exe(self) -> str | None:
        try:
            return os.readlink("/proc/{}/exe".format(self.pid))
        except OSError:
            return None

    def attach(self, alive: Callable[[], bool] | None = None) -> None:
        """Creates the unwinder. ``alive``: the target was just started by us, so its interpreter
        may not be set up yet: retry while it says the target runs."""
        try:
            import _remote_debugging
        except ImportError:
            raise AttachError("UNSUPPORTED", "sampling another process needs CPython 3.14 or newer (_remote_debugging); this is {}.{}".format(*sys.version_info[:2])) from None
        unwinder_type = _remote_debugging.RemoteUnwinder
        kwargs: dict[str, Any] = {"all_threads": True}
        if hasattr(_remote_debugging, "THREAD_STATUS_ON_CPU"):  # 3.15's unwinder: modes
            # cache_frames stays off: it writes a marker into the target's thread states (which
            # the target then keeps up to date), and the target is not to be changed; measured,
            # it also cost the target more than the frames it saves reading (BENCHMARKS.md)
            kwargs.update(mode=CLOCK_MODES[self.clock], skip_non_matching_threads=True, native=False, gc=False, cache_frames=False)
            # each frame's instruction: its full source span and (specialised) opcode
            # (PYXRAY_REMOTE_OPCODES=0: without, for measuring what it costs; BENCHMARKS.md)
            if os.environ.get("PYXRAY_REMOTE_OPCODES", "1") != "0":
                kwargs["opcodes"] = True
        elif self.clock != "wall":
            raise AttachError("UNSUPPORTED", "--clock {} needs a CPython 3.15 target (3.14's unwinder samples wall time only); use --clock wall".format(self.clock))
        while True:
            try:
                self._unwinder = unwinder_type(self.pid, **kwargs)
                if alive is not None:
                    self._unwinder.get_stack_trace()  # the interpreter is up: it has a thread state
                break
            except PermissionError as exc:
                raise AttachError("PERMISSION", permission_message(self.pid, exc.strerror or str(exc))) from None
            except ProcessLookupError:
                raise AttachError("NOT_FOUND", "no process {} (it ended, or never ran)".format(self.pid)) from None
            except (RuntimeError, OSError, ValueError) as exc:
                if alive is not None and alive():
                    time.sleep(0.0005)
                    continue
                if alive is not None:
                    raise AttachError("NOT_FOUND", "process {} ended before it could be sampled".format(self.pid)) from None
                if not os.path.exists("/proc/{}".format(self.pid)):
                    raise AttachError("NOT_FOUND", "no process {} (it ended, or never ran)".format(self.pid)) from None
                raise AttachError(
                    "NOT_PYTHON",
                    "cannot sample process {}: {} (is it a CPython {}.{} process?)".format(self.pid, str(exc).splitlines()[0] if str(exc) else type(exc).__name__, *sys.version_info[:2]),
                ) from None

    # -- sampling --

    def run(self, duration: float | None = None, stop: Callable[[], bool] = lambda: False, alive: Callable[[], bool] | None = None) -> None:
        """Samples until ``duration`` seconds passed, ``stop()`` says so, or the target ends."""
        if alive is None:
            alive = self._alive
        _lower_priority()
        get = self._unwinder.get_async_stack_trace if self.async_aware else self._unwinder.get_stack_trace
        stacks = self._stacks
        names = self._names
        unsettled = self._unsettled
        nested = self._nested
        clock = time.perf_counter
        sleep = time.sleep
        interval = self.interval
        self.start_epoch = time.time()
        start = last = clock()
        end = start + duration if duration is not None else None
        due = start + interval
        while not stop():
            now = clock()
            if end is not None and now >= end:
                break
            delay = due - now
            if delay > 0:
                sleep(delay)
                if stop():
                    break
            try:
                traces = get()
            except ProcessLookupError:
                break
            except (RuntimeError, OSError, UnicodeDecodeError, MemoryError, ValueError):
                if not alive():
                    break
                self.failed += 1
                traces = None
            now = clock()
            if traces is not None:
                weight = now - last
                last = now
                # Only counted here, per distinct stack (the frames are tuples, their strings
                # shared between samples): the tree is built afterwards. Whatever the sampler
                # does while the target runs costs the target too (a core's neighbour, the
                # memory bus): keeping the tick small keeps that near zero (BENCHMARKS.md).
                if self.async_aware:
                    traces = _task_stacks(traces)
                    nested = False
                elif nested is None and traces:  # 3.15: per interpreter, then per thread
                    nested = self._nested = hasattr(traces[0], "threads")
                for item in traces:
                    for thread in item.threads if nested else (item,):
                        tid = thread.thread_id
                        if tid not in names or tid in unsettled:
                            self._name(tid)
                        key = (tid, tuple(thread.frame_info))
                        entry = stacks.get(key)
                        if entry is None:
                            stacks[key] = [1, weight]
                        else:
                            entry[0] += 1
                            entry[1] += weight
                self.samples += 1
            due += interval
            if due < now:  # far behind: skip the missed beats
                due = now + interval
        self.duration += clock() - start

    def _name(self, tid: int) -> None:
        """Reads a thread's name while it runs (/proc forgets ended threads). A thread started
        by threading gets its name a moment after it starts: until then it carries the
        process's, so that one is read again at the next ticks (a while)."""
        name = _thread_name(self.pid, tid)
        self._names[tid] = name
        if tid == self.pid:
            return
        tries = self._unsettled.get(tid, 0)
        if name == self._process_name() and tries < 100:
            self._unsettled[tid] = tries + 1
        else:
            self._unsettled.pop(tid, None)

    def _process_name(self) -> str:
        if self._comm is None:
            try:
                with open("/proc/{}/comm".format(self.pid), encoding="utf-8", errors="replace") as f:
                    self._comm = f.read().rstrip("\n")
            except OSError:
                self._comm = ""
        return self._comm

    def _alive(self) -> bool:
        try:
            with open("/proc/{}/stat".format(self.pid), "rb") as f:
                stat = f.read()
        except OSError:
            return False
        return stat[stat.rfind(b")") + 2 : stat.rfind(b")") + 3] not in (b"Z", b"X")

    def _build(self) -> None:
        """Adds the stacks counted so far to the threads' trees."""
        stacks, self._stacks = self._stacks, {}
        for (tid, frames), (count, weight) in stacks.items():
            self._add(tid, frames, count, weight)

    def _frame(self, filename: str, funcname: str) -> tuple[int, int]:
        key = (filename, funcname)
        found = self._frame_of.get(key)
        if found is None:
            kind = self.filter.kind_of_file(filename)
            index = len(self.frames)
            entry: dict[str, Any] = {"file": filename, "firstlineno": self._firstlineno(filename, funcname), "qualname": funcname, "kind": "python"}
            if kind == LIBRARY or self.filter.is_library_file(filename):
                entry["library"] = True
            self.frames.append(entry)
            found = self._frame_of[key] = (index, kind)
        return found

    def _firstlineno(self, filename: str, qualname: str) -> int:
        table = self._firstlines.get(filename)
        if table is None:
            table = {}
            if not filename.startswith("<") and os.path.isabs(filename):
                # as the target sees it (a chroot, a container), else here (the target ended)
                for path in ("/proc/{}/root{}".format(self.pid, filename), filename):
                    try:
                        with open(path, "rb") as f:
                            table = _definitions(f.read().decode("utf-8", "replace"))
                        break
                    except OSError:
                        continue
            self._firstlines[filename] = table
        return table.get(qualname, 0)

    def _add(self, tid: int, frames: Any, count: int, weight: float) -> None:
        thread = self.threads.get(tid)
        if thread is None:
            name = self._names.get(tid)
            thread = self.threads[tid] = _Thread(tid, name if name is not None else _thread_name(self.pid, tid))
        node = thread.root
        node.samples += count
        node.total += weight
        line = 0
        site = None
        folds = self.filter.folds_libraries
        for i in range(len(frames) - 1, -1, -1):
            f = frames[i]
            index, kind = self._frame(f[0], f[2])
            if kind >= SKIP or (kind == LIBRARY and node.lib):
                continue  # folded into node
            child = node.children.get(index)
            if child is None:
                child = node.children[index] = _Node(index, kind == LIBRARY and folds)
            node = child
            node.samples += count
            node.total += weight
            where = f[1]
            line = where if where.__class__ is int else (where[0] if where is not None else 0)
            site = f
        node.own += weight
        if node.frame >= 0 and line and line > 0:
            node.lines[line] = node.lines.get(line, 0) + count
        if site is not None and len(site) > 3 and site[3] is not None and site[1] is not None and site[1].__class__ is not int:
            key = (tuple(site[1]), site[3])
            node.sites[key] = node.sites.get(key, 0) + count

    # -- the document --

    def _tree(self, root: _Node) -> dict[str, Any]:
        """The thread's tree as nested document nodes (children by totalNs, largest first;
        totalNs == selfNs + the children's totalNs exactly). Iterative: any depth."""
        out: dict[str, Any] = {}
        stack: list[tuple[_Node, int, list[dict[str, Any]]]] = [(root, 0, [])]
        while stack:
            node, i, done = stack[-1]
            kids = list(node.children.values())
            if i < len(kids):
                stack[-1] = (node, i + 1, done)
                stack.append((kids[i], 0, []))
                continue
            stack.pop()
            done.sort(key=lambda d: -d["totalNs"])
            own = max(0, int(round(node.own * 1e9)))
            out = {
                "frame": node.frame if node.frame >= 0 else None,
                "calls": 0,
                "totalNs": own + sum(d["totalNs"] for d in done),
                "selfNs": own,
                "samples": node.samples,
            }
            if node.lines:
                out["lines"] = [[line, n] for line, n in sorted(node.lines.items())]
            if node.sites:
                self._instructions(node, out)
            out["children"] = done
            if stack:
                stack[-1][2].append(out)
        return out

    def _code(self, frame: int) -> Any:
        """The code object of frame entry ``frame``: its source file compiled here (this is the
        target's version), found by qualified name (and first line); None when it cannot be."""
        entry = self.frames[frame]
        filename, qualname = entry["file"], entry["qualname"]
        codes = self._codes.get(filename)
        if codes is None:
            source = self._source(filename)
            codes = self._codes[filename] = code_objects(source, filename) if source is not None else []
        return find_code(codes, qualname, entry["firstlineno"])

    def _source(self, filename: str) -> bytes | None:
        if filename.startswith("<") or not os.path.isabs(filename):
            return None
        for path in ("/proc/{}/root{}".format(self.pid, filename), filename):
            try:
                with open(path, "rb") as f:
                    return f.read()
            except OSError:
                continue
        return None

    def _instructions(self, node: _Node, out: dict[str, Any]) -> None:
        """``offsets`` of a node from the unwinder's (source span, opcode) pairs: the offset
        of the instruction of the frame's code with that span and that opcode (or, deoptimised,
        its base form); the frame entry's ``instructions`` describe the offsets."""
        import dis

        code = self._code(node.frame)
        if code is None:
            return
        table = self._spans.get(id(code))
        if table is None:
            table = self._spans[id(code)] = span_table(code)
            self._keep.append(code)
        counts: dict[int, int] = {}
        seen: dict[int, str] = {}
        names = getattr(dis, "_all_opname", dis.opname)
        for (span, opcode), n in node.sites.items():
            name = names[opcode] if 0 <= opcode < len(names) else ""
            match = match_site(table, span, name, self._bases)
            if match is None:
                continue
            counts[match.offset] = counts.get(match.offset, 0) + n
            if name and name != match.opname:
                seen[match.offset] = name
        if not counts:
            return
        out["offsets"] = [[offset, n] for offset, n in sorted(counts.items())]
        known = self._described.setdefault(node.frame, {})
        new = [o for o in counts if o not in known]
        if new:
            for entry in describe(code, new):
                entry.pop("specialized", None)  # this compile's, never run: the target's comes from the unwinder
                known[entry["offset"]] = entry
        for offset, name in seen.items():
            if offset in known:
                known[offset]["specialized"] = name
        self.frames[node.frame]["instructions"] = [known[o] for o in sorted(known)]

    def to_dict(self, *, argv: list[str] | None = None, exit_status: int | None = None, partial: bool = False, cwd: str | None = None) -> dict[str, Any]:
        from .. import __version__
        from .._profile_tree import flatten_tree
        from ..profiler import PROFILE_VERSION, _iso

        self._build()
        v = sys.version_info
        warnings = list(self.warnings)
        if self.samples < 10:
            ms = self.duration * 1e3
            if self.samples == 0:
                warnings.append("no samples were taken in {:.3f} ms at a {:g} ms interval (the process ended, or its threads never matched --clock {})".format(ms, self.interval * 1e3, self.clock))
            else:
                warnings.append("only {} sample(s) were taken in {:.3f} ms at a {:g} ms interval: the times are rough estimates".format(self.samples, ms, self.interval * 1e3))
        expected = self.duration / self.interval if self.interval > 0 else 0
        if expected >= 100 and self.samples + self.failed < expected / 2:
            warnings.append("the sampler kept up with {:.0f}% of the {:g} ms beat ({} samples in {:.2f} s); a longer --interval gives a steadier one".format(100 * (self.samples + self.failed) / expected, self.interval * 1e3, self.samples, self.duration))
        if self.failed:
            warnings.append("{} of {} samples could not be read (the target changed its stack while it was read) and were dropped".format(self.failed, self.samples + self.failed))
        if argv is None:
            argv = self._cmdline()[1:]
        if cwd is None:
            try:
                cwd = os.readlink("/proc/{}/cwd".format(self.pid))
            except OSError:
                cwd = ""
        meta: dict[str, Any] = {
            "python": {"implementation": "CPython", "version": "{}.{}.{}".format(v.major, v.minor, v.micro)},
            "argv": argv,
            "cwd": cwd,
            "startTime": _iso(self.start_epoch),
            "durationNs": int(round(self.duration * 1e9)),
            "mode": "sample",
            "clock": self.clock,
            "overheadNsPerEvent": 0,
            "partial": bool(partial),
            "exitStatus": exit_status,
            "warnings": warnings,
            "memory": False,
            "tracer": "sampler",
            "sampler": "remote",
            "engine": "python",
            "libraries": self.libraries,
            "builtins": False,
            "include": list(self.include),
            "exclude": list(self.exclude),
            "pid": self.pid,
            "agent": __version__,
            "intervalNs": int(round(self.interval * 1e9)),
            "samples": self.samples,
        }
        if self.async_aware:
            meta["asyncAware"] = True
        threads = []
        for thread in self.threads.values():
            entry: dict[str, Any] = {"id": thread.tid, "name": thread.name, "nativeId": thread.tid, "main": thread.tid == self.pid}
            entry["nodes"] = flatten_tree(self._tree(thread.root))
            threads.append(entry)
        threads.sort(key=lambda t: 0 if t["main"] else 1)
        return {"pyxray": "profile", "version": PROFILE_VERSION, "metadata": meta, "frames": self.frames, "threads": threads}

    def _cmdline(self) -> list[str]:
        try:
            with open("/proc/{}/cmdline".format(self.pid), "rb") as f:
                raw = f.read()
        except OSError:
            return []
        return [os.fsdecode(part) for part in raw.split(b"\0")[:-1]]
