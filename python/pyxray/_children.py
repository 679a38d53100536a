"""Following the profiled program's child processes (``python -m pyxray``, on by default;
``--subprocesses files`` writes them beside the profile, ``--no-subprocesses`` turns it off).

Every profiled process of one run shares a **session**: its settings travel to each child as one
JSON argument (:class:`Session`), never through the environment, so a child started with its own
``env=`` is followed too. How each kind of child is reached:

* **Forks** (``os.fork()``, multiprocessing's fork start method, the children the forkserver
  forks): ``os.register_at_fork(after_in_child=...)`` drops the tree inherited from the parent
  and starts a fresh profiler in the child with the same options (:func:`_after_fork`); the child's
  tree begins at the fork.
* **New Python programs** (``subprocess``, ``os.posix_spawn``, ``os.spawn*``, ``os.exec*``,
  multiprocessing's spawn start method, whose children start through ``_posixsubprocess``): the
  command line of a Python child (this interpreter, or any program named ``python``, ``python3``
  or ``python3.X``) is rewritten to ``python [its interpreter options] -c BOOT SESSION target
  args…`` (:func:`rewrite`). BOOT starts the agent as :func:`pyxray._process.launch` does (the
  child's folder cannot shadow it) and runs the target with the ``sys.argv``, ``sys.path[0]`` and
  exit status plain Python gives it; an interpreter the agent does not support (another
  implementation, Python 2, 3.7) is exec'd with the original command line instead.
* Multiprocessing's forkserver process and resource tracker are helpers, not the user's
  processes: the tracker is left alone, the forkserver runs unprofiled with the fork hook
  installed, so the children it forks are followed.

Each followed process writes its document atomically on exit, as the root does (normal ends,
``sys.exit``, exceptions, SIGTERM/SIGHUP, ``os._exit``): into the session folder
(``<pid>-<nonce>.json``, announced by a ``.started`` marker when it starts), or with
``--subprocesses files`` to ``out.<pid>.json`` beside the root's ``out.json``. The root merges the
session's documents into its own after its atexit handlers ran (so multiprocessing has joined or
terminated its children): :func:`merge` puts each in ``processes`` with the frames remapped onto
the root's frame table. A child still running is waited for a bounded time
(``PYXRAY_CHILD_WAIT`` seconds, default 10), then recorded in ``metadata.warnings``.
"""

from __future__ import annotations

import json
import os
import re
import sys

from ._guards import hold_signals, restore_signals
from ._versions import SUPPORTED_MINORS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

#: Program names taken for a Python interpreter (the bootstrap checks the version it finds).
_PYTHON_NAME = re.compile(r"^python(3(\.\d+)?)?(d|m|t)?(\.exe)?$")

#: Interpreter options that take a value (``-X dev``, ``-W error``), as CPython's command line.
_VALUED_FLAGS = "XW"
#: Interpreter options that make a child we do not follow (interactive, stdin).
_UNFOLLOWED_FLAGS = "i"

#: What the ``-c`` code of multiprocessing's helpers imports: not the user's processes.
_TRACKER = ("from multiprocessing.resource_tracker import", "from multiprocessing.semaphore_tracker import")
_FORKSERVER = "from multiprocessing.forkserver import"

SESSION_VERSION = 1


def child_wait() -> float:
    """How long the root waits for children still running when it ends (seconds)."""
    try:
        return max(0.0, float(os.environ.get("PYXRAY_CHILD_WAIT", "10")))
    except ValueError:
        return 10.0


def _private_folder(prefix: str) -> str:
    """A new folder only this user can enter, in the temporary folder. Not tempfile.mkdtemp: its
    argument checks (isinstance(str, os.PathLike)) would warm an ABC cache the program then finds
    warm, and a profile of the program would miss the calls its own first check makes."""
    base = os.environ.get("TMPDIR") or "/tmp"
    if not os.path.isdir(base):
        import tempfile

        base = tempfile.gettempdir()
    for _ in range(100):
        folder = os.path.join(base, prefix + os.urandom(6).hex())
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            continue
        return folder
    raise FileExistsError("no free name for a session folder in " + base)


class Session:
    """The settings every followed process of one run shares (passed as one JSON argument)."""

    def __init__(self, data: Dict[str, Any]) -> None:
        #: "merge": documents into ``folder``, merged by the root; "files": ``out.<pid>.json``.
        self.mode: str = data["mode"]
        self.folder: Optional[str] = data.get("folder")
        #: The root's output (absolute).
        self.output: str = data["output"]
        #: The profiler's options (pyxray's own command line before the target, without -o).
        self.options: List[str] = list(data["options"])
        self.agent: str = data["agent"]
        self.root_pid: int = data["root"]

    @classmethod
    def create(cls, mode: str, output: str, options: Sequence[str]) -> Session:
        folder = None
        if mode == "merge":
            folder = _private_folder("pyxray-session-")
        agent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        return cls({"mode": mode, "folder": folder, "output": output, "options": list(options), "agent": agent, "root": os.getpid()})

    def encode(self, parent: int, role: str, argv: Sequence[str]) -> str:
        """The JSON argument a child gets: the session, its parent, its role ("child", "helper"
        or "root" after the root exec'd) and the original command line (the fallback)."""
        return json.dumps(
            {
                "v": SESSION_VERSION,
                "mode": self.mode,
                "folder": self.folder,
                "output": self.output,
                "options": self.options,
                "agent": self.agent,
                "root": self.root_pid,
                "parent": parent,
                "role": role,
                "argv": [os.fsdecode(a) for a in argv],
            }
        )

    # -- where documents go --

    def new_stem(self) -> str:
        return "{}-{}".format(os.getpid(), os.urandom(4).hex())

    def announce(self, stem: str) -> None:
        """A followed process started: the root waits for its document."""
        if self.folder is None:
            return
        try:
            with open(os.path.join(self.folder, stem + ".started"), "w") as f:
                f.write("{}\n".format(os.getpid()))
        except OSError:  # the root is gone (and its folder with it): nothing waits for us
            pass

    def child_path(self, stem: str) -> Optional[str]:
        """Where a followed process writes its document; None when the session has ended."""
        if self.mode == "files":
            from ._guards import sibling_path

            path = sibling_path(self.output, os.getpid())
            n = 1
            while os.path.exists(path):  # the same pid before an exec
                path = sibling_path(self.output, "{}.{}".format(os.getpid(), n))  # type: ignore[arg-type]
                n += 1
            return path
        assert self.folder is not None
        return os.path.join(self.folder, stem + ".json") if os.path.isdir(self.folder) else None

    # -- the root's side --

    def collect(self, wait: float) -> Tuple[List[Dict[str, Any]], List[str]]:
        """The children's documents (waiting up to ``wait`` seconds for the ones still running),
        and warnings about the ones that wrote none. Removes the session folder."""
        import time

        folder = self.folder
        if folder is None or not os.path.isdir(folder):
            return [], []
        deadline = time.monotonic() + wait
        pause = 0.005
        while True:
            names = os.listdir(folder)
            started = {n[: -len(".started")] for n in names if n.endswith(".started")}
            written = {n[: -len(".json")] for n in names if n.endswith(".json")}
            waiting = [s for s in started - written if _alive(_pid_of(s))]
            if not waiting or time.monotonic() >= deadline:
                break
            time.sleep(pause)
            pause = min(pause * 2, 0.1)
        docs: List[Dict[str, Any]] = []
        warnings: List[str] = []
        for stem in sorted(written):
            try:
                with open(os.path.join(folder, stem + ".json"), encoding="utf-8") as f:
                    docs.append(json.load(f))
            except (OSError, ValueError) as exc:
                warnings.append("the profile of child process {} could not be read: {}".format(_pid_of(stem), exc))
        for stem in sorted(started - written):
            pid = _pid_of(stem)
            if stem in waiting:
                warnings.append("child process {} was still running {:g} s after the profiled program ended: its profile is missing".format(pid, wait))
            else:
                warnings.append("child process {} ended without writing its profile (killed by SIGKILL, or it crashed)".format(pid))
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
        return docs, warnings


def _pid_of(stem: str) -> int:
    return int(stem.partition("-")[0])


def _alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, not ours to signal
    try:
        with open("/proc/{}/stat".format(pid), "rb") as f:
            stat = f.read()
        return stat[stat.rindex(b")") + 2 : stat.rindex(b")") + 3] != b"Z"
    except (OSError, ValueError):
        return True


# -- merging --


def merge(root: Dict[str, Any], children: List[Dict[str, Any]], warnings: List[str]) -> Dict[str, Any]:
    """``root`` with every child document in ``processes`` (oldest first), their frames added to
    the root's table. Threads are copied as they are, only their nodes' frame indexes change."""
    frames = root["frames"]
    index = {_frame_key(f): i for i, f in enumerate(frames)}
    processes = list(root.get("processes", []))
    for doc in sorted(children, key=lambda d: (d["metadata"].get("startTime", ""), d["metadata"].get("pid", 0))):
        mapping = []
        for frame in doc["frames"]:
            key = _frame_key(frame)
            if key not in index:
                index[key] = len(frames)
                frames.append(frame)
            mapping.append(index[key])
        for thread in doc["threads"]:
            _remap(thread, mapping)
        processes.append({"metadata": doc["metadata"], "threads": doc["threads"]})
        processes.extend(doc.get("processes", []))  # (a child that merged its own: none today)
    if processes:
        root["processes"] = processes
    root["metadata"]["warnings"] = list(root["metadata"]["warnings"]) + [w for w in warnings if w not in root["metadata"]["warnings"]]
    return root


def _frame_key(frame: Dict[str, Any]) -> str:
    return json.dumps(frame, sort_keys=True)


def _remap(thread: Dict[str, Any], mapping: List[int]) -> None:
    """Rewrites the frame index of every node of a thread, nested (``root``) or flat (``nodes``)."""
    nodes = thread.get("nodes")
    if isinstance(nodes, list):
        for node in nodes:
            if isinstance(node.get("frame"), int):
                node["frame"] = mapping[node["frame"]]
    stack = [thread["root"]] if isinstance(thread.get("root"), dict) else []
    while stack:  # iterative: trees can be deeper than the recursion limit
        node = stack.pop()
        if isinstance(node.get("frame"), int):
            node["frame"] = mapping[node["frame"]]
        stack.extend(node.get("children", ()))


# -- rewriting command lines --


def _bootstrap(agent: str) -> str:
    """The ``-c`` code a followed Python child runs: the agent when it supports this interpreter,
    else the original command line. Python 2 syntax too (``python`` may be one)."""
    low, high = min(SUPPORTED_MINORS), max(SUPPORTED_MINORS)
    return (
        "import sys\n"
        "if getattr(sys, 'implementation', None) is not None and sys.implementation.name == 'cpython' "
        "and (3, {low}) <= sys.version_info[:2] <= (3, {high}):\n"
        "    sys.path.insert(0, {agent!r}); from pyxray._process import launch; sys.exit(launch('pyxray:child', {agent!r}, sys.argv[1:]))\n"
        "else:\n"
        "    import json, os; os.execv(sys.executable, json.loads(sys.argv[1])['argv'])\n"
    ).format(low=low, high=high, agent=agent)


def is_python(executable: str) -> bool:
    """Whether a program is a Python interpreter we try to follow."""
    name = os.path.basename(executable)
    if _PYTHON_NAME.match(name):
        return True
    try:
        return os.path.realpath(executable) == os.path.realpath(sys.executable)
    except (OSError, ValueError):
        return False


def split_python_args(args: Sequence[str]) -> Optional[Tuple[List[str], List[str]]]:
    """(interpreter options, target and its arguments) of a Python command line without its
    program name, or None when we do not follow it (interactive, stdin, --version, pyxray itself)."""
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":  # the script follows (it is run as the target: no "--" is needed then)
            target = list(args[i + 1 :])
            if not target or target[0].startswith("-"):
                return None
            return list(args[:i]), target
        if not arg.startswith("-") or arg == "-":
            break
        if arg.startswith("--"):
            if arg.startswith("--check-hash-based-pycs"):
                i += 1 if "=" in arg else 2
                continue
            return None  # --help, --version, unknown
        if arg[1] in "cm":
            break
        j = 1
        while j < len(arg):
            flag = arg[j]
            if flag in _UNFOLLOWED_FLAGS or flag in "hV?":
                return None
            if flag in "cm":
                break
            if flag in _VALUED_FLAGS:
                if j + 1 == len(arg):
                    i += 1  # the value is the next argument
                j = len(arg)
                break
            j += 1
        if j < len(arg):  # -Bc code: split the cluster
            options, rest = list(args[:i]) + [arg[:j]], ["-" + arg[j:]] + list(args[i + 1 :])
            split = split_python_args(rest)  # -Bc code: -B, then -c code
            return None if split is None else (options, split[1])
        i += 1
    options, target = list(args[:i]), list(args[i:])
    if not target or target[0] == "-":
        return None
    if target[0].startswith("-m") or target[0].startswith("-c"):
        kind, value = target[0][:2], target[0][2:]
        rest = target[1:]
        if not value:
            if not rest:
                return None
            value, rest = rest[0], rest[1:]
        target = [kind, value] + rest
        if kind == "-m" and value.split(".")[0] == "pyxray":
            return None  # pyxray profiling something itself: one profiler per process
        if kind == "-c" and "pyxray._process" in value:
            return None
    return options, target


class Follower:
    """Rewrites the command lines of Python children and follows forks, for one process."""

    def __init__(self, session: Session, on_fork: Callable[[int], None], before_exec: Callable[[bool], None]) -> None:
        self.session = session
        self._on_fork = on_fork  # in a forked child, with the parent's pid
        self._before_exec = before_exec  # the profiled process is replaced (True: by a followed Python)
        self._exec_child = False  # set around forks that only exec (subprocess, os.spawn*)
        #: "root": an exec of the root is not followed (the root's profile is its file's).
        self.role = "child"
        self.parent_pid = os.getpid()  # the forking process, in a forked child
        self.pid = os.getpid()  # the process this follower belongs to (a skipped fork child is not it)
        #: The parent of this process: what a program it execs into gets as its parent.
        self.exec_parent: Optional[int] = None

    def install(self) -> None:
        global _ACTIVE
        _ACTIVE = self
        if not _HOOKED:
            _hook()

    def rewrite(self, executable: Any, args: Sequence[Any], exec_: bool = False) -> Optional[List[str]]:
        """The rewritten argv of a Python child (or None: not followed). ``exec_``: the program
        replaces this process (its parent is then this process's parent)."""
        try:
            exe = os.fsdecode(executable)
            argv = [os.fsdecode(a) for a in args]
        except (TypeError, ValueError):
            return None
        if not argv or not is_python(exe):
            return None
        split = split_python_args(argv[1:])
        if split is None:
            return None
        options, target = split
        role = "child"
        if target[0] == "-c":
            if any(t in target[1] for t in _TRACKER):
                return None
            if _FORKSERVER in target[1]:
                role = "helper"
        parent = os.getpid()
        if exec_ and os.getpid() == self.pid and self.exec_parent is not None:
            parent = self.exec_parent
        elif exec_ and os.getpid() != self.pid:  # a fork that only execs (os.spawn*): the forking process's child
            parent = self.pid
        return [argv[0]] + options + ["-c", _bootstrap(self.session.agent), self.session.encode(parent, role, argv)] + target


_ACTIVE: Optional[Follower] = None
_HOOKED = False


def _after_fork() -> None:
    try:
        follower = _ACTIVE
        if follower is None or follower._exec_child:
            return
        follower._on_fork(follower.parent_pid)
    finally:
        restore_signals()  # last: a SIGTERM that came meanwhile reaches the child's own handler


def _hook() -> None:
    """Wraps the process-starting functions once per process (they consult ``_ACTIVE``)."""
    global _HOOKED
    _HOOKED = True
    try:
        import _posixsubprocess
    except ImportError:
        _posixsubprocess = None  # type: ignore[assignment]
    if _posixsubprocess is not None:
        fork_exec = _posixsubprocess.fork_exec

        def fork_exec_followed(args: Any, executable_list: Any, *rest: Any, **kw: Any) -> Any:
            follower = _ACTIVE
            if follower is not None and args and executable_list:
                new = follower.rewrite(executable_list[0], args)
                if new is not None:
                    args = new
                follower._exec_child = True  # a preexec_fn runs the fork hooks: this child only execs
                try:
                    return fork_exec(args, executable_list, *rest, **kw)
                finally:
                    follower._exec_child = False
            return fork_exec(args, executable_list, *rest, **kw)

        _posixsubprocess.fork_exec = fork_exec_followed  # type: ignore[attr-defined]
        subprocess = sys.modules.get("subprocess")  # 3.12+ binds it at import (the agent may have imported it)
        if subprocess is not None and getattr(subprocess, "_fork_exec", None) is fork_exec:
            subprocess._fork_exec = fork_exec_followed  # type: ignore[attr-defined]
    for name in ("posix_spawn", "posix_spawnp"):
        original = getattr(os, name, None)
        if original is None:
            continue

        def spawn_followed(path: Any, argv: Any, *rest: Any, _original: Any = original, _search: bool = name == "posix_spawnp", **kw: Any) -> Any:
            follower = _ACTIVE
            if follower is not None:
                exe = path
                if _search and os.sep not in os.fsdecode(path):
                    import shutil

                    exe = shutil.which(os.fsdecode(path)) or path
                new = follower.rewrite(exe, list(argv))
                if new is not None:
                    argv = new
            return _original(path, argv, *rest, **kw)

        setattr(os, name, spawn_followed)
    for name in ("execv", "execve"):
        original = getattr(os, name, None)
        if original is None:
            continue

        def exec_followed(path: Any, args: Any, *rest: Any, _original: Any = original) -> Any:
            follower = _ACTIVE
            if follower is not None and os.access(path, os.X_OK) and not os.path.isdir(path):
                itself = os.getpid() == follower.pid and not follower._exec_child  # else a fork that only execs
                new = follower.rewrite(path, list(args), exec_=True) if not (itself and follower.role == "root") else None
                if new is not None:
                    args = new
                if itself:
                    follower._before_exec(new is not None)  # the profile of the image being replaced
            return _original(path, args, *rest)

        setattr(os, name, exec_followed)
    spawnvef = getattr(os, "_spawnvef", None)
    if spawnvef is not None:

        def spawnvef_followed(*args: Any, **kw: Any) -> Any:
            follower = _ACTIVE
            if follower is None:
                return spawnvef(*args, **kw)
            follower._exec_child = True  # os.spawn*: fork, then exec at once
            try:
                return spawnvef(*args, **kw)
            finally:
                follower._exec_child = False

        os._spawnvef = spawnvef_followed  # type: ignore[attr-defined]
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(before=_before_fork, after_in_parent=restore_signals, after_in_child=_after_fork)


def _before_fork() -> None:
    follower = _ACTIVE
    if follower is not None:
        follower.parent_pid = os.getpid()
    hold_signals()
