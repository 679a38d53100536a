"""The profiled process's edges, for ``python -m pyxray`` (:mod:`pyxray._profile_cli`): whose
modules the target imports, and what happens when the process ends in a way that bypasses the
normal end of the run.

* **Imports.** pyxray's launcher (:func:`pyxray._process.launch`, what ``pyxray profile`` runs) imports the agent
  before the target's folder is on ``sys.path``, so a ``json.py`` or ``pyxray.py`` there cannot
  replace what the agent runs on. Then :class:`ImportGuard` takes out of ``sys.modules`` the
  modules the agent loaded that the target's folder shadows, so that the target imports its own
  ``json.py`` as ``python script.py`` would; the agent gets its modules back while it writes.
* **Ends.** :class:`ExitGuard` writes a partial profile when the process ends without returning to
  pyxray: SIGTERM and SIGHUP (then the process dies of the signal, as Python's would: exit status
  128+N), and ``os._exit(n)`` (then it exits with n). SIGINT stays Python's KeyboardInterrupt.
* **Children.** Child processes are followed (:mod:`pyxray._children`): each writes its own
  profile, which the root merges into its document, or with ``--subprocesses files`` to a
  numbered sibling, ``out.json`` -> ``out.<pid>.json`` (:func:`sibling_path`); never the root's
  file. ``os._exit`` called by multiprocessing to end one of its children is a normal end.
"""

from __future__ import annotations

import os
import signal
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import FrameType, ModuleType
    from typing import Callable, Dict, List, Optional, Set
else:
    Set = set

#: The signals that end a Python process without running Python code, which pyxray catches to
#: write a partial profile first (SIGINT is Python's KeyboardInterrupt and handled by the runner).
ENDING_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))

#: Threads of pyxray's own (the signal watchdog): not the program's, never profiled or counted.
HELPER_THREADS: Set[int] = set()



def program_threads() -> int:
    """How many threads run Python code now (all of them, not only threading's), pyxray's own not counted."""
    try:
        return len(set(sys._current_frames()) - HELPER_THREADS)
    except AttributeError:
        return 1


#: os._exit as the interpreter made it (an ExitGuard's replacement may be inherited by a fork).
_REAL_EXIT = os._exit


class ImportGuard:
    """The agent's imports apart from the target's: the agent imports before the target's folder
    is on ``sys.path``, and the target does not see the agent's modules that its folder shadows."""

    def __init__(self, startup: Set[str], path: List[str], agent_dir: str) -> None:
        self._startup = startup
        full = list(path)
        if full and full[0] == agent_dir:
            del full[0]  # the launcher's own entry (the agent's folder, put first to import it)
        if full and full[0] == "" and not getattr(sys.flags, "safe_path", False):
            del full[0]  # -c's entry: the current folder
        #: sys.path as Python gives it to a script, without its first entry (the runner adds it).
        self._full = full
        from_env = {os.path.abspath(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p}
        sys.path[:] = [agent_dir] + [p for p in full if p and os.path.abspath(p) not in from_env]
        self._shadowed: Set[str] = set()  # top-level names the target's folder shadows
        self._agent: Dict[str, ModuleType] = {}  # what was taken out of sys.modules

    def target_path(self) -> None:
        """The agent has imported what it needs: sys.path becomes Python's (PYTHONPATH included)."""
        sys.path[:] = self._full

    def shadowed_by(self, folder: str) -> None:
        """Finds the modules the agent loaded (not the interpreter at start-up, not pyxray's) that
        ``folder`` (the target's first sys.path entry; "" is the current folder) has a module or
        package for; :meth:`hide` takes them out of sys.modules."""
        from importlib.machinery import PathFinder

        tops = {name.partition(".")[0] for name in sys.modules if name not in self._startup}
        tops -= {"pyxray", "__main__"}
        where = [folder or os.getcwd()]
        for top in sorted(tops):
            try:
                spec = PathFinder.find_spec(top, where)
            except (ImportError, ValueError, OSError):
                continue
            if spec is not None and spec.origin is not None and spec.has_location:
                self._shadowed.add(top)

    def hide(self) -> None:
        """Takes the shadowed modules out of sys.modules: the target imports its own."""
        for name in list(sys.modules):
            if name.partition(".")[0] in self._shadowed and name not in self._startup:
                self._agent[name] = sys.modules.pop(name)

    def agent_modules(self) -> None:
        """Puts the agent's modules back (the target is over, or the process is ending)."""
        sys.modules.update(self._agent)


def sibling_path(output: str, pid: object) -> str:
    """Where a forked child writes its profile: ``out.json`` -> ``out.<pid>.json``."""
    root, ext = os.path.splitext(output)
    return "{}.{}{}".format(root, pid, ext)


_held: List[object] = []  # the forking thread's signal mask before hold_signals


def hold_signals() -> None:
    """Before a fork: SIGTERM and SIGHUP wait (blocked in the forking thread) until the child has
    its own handlers. Python drops a signal that reaches a child before its fork hooks ran (its
    handler was tripped, then the child's pending signals are cleared); plain Python would have died
    of it, and a Pool worker terminated right after it was forked would wait forever."""
    if hasattr(signal, "pthread_sigmask") and not _held:
        try:
            _held.append(signal.pthread_sigmask(signal.SIG_BLOCK, ENDING_SIGNALS))
        except (OSError, ValueError):
            pass


def restore_signals() -> None:
    """After a fork, in the parent and (once its handlers are in place) in the child."""
    if _held:
        mask = _held.pop()
        try:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # type: ignore[arg-type]
        except (OSError, ValueError):
            pass


def _ping(signum: int, frame: Optional[FrameType]) -> None:
    """The watchdog's signal: it only interrupts a blocking call (see :meth:`ExitGuard._watch`)."""


class ExitGuard:
    """Calls ``finish(status, partial, why)`` once when the process ends behind the runner's back:
    SIGTERM/SIGHUP (then dies of the signal) or ``os._exit(n)`` (then exits with n)."""

    def __init__(self, finish: Callable[[int, bool, str], None]) -> None:
        self._finish = finish
        self._done = False
        self._real_exit = _REAL_EXIT
        self._pid = os.getpid()
        self._installed: List[int] = []
        self._pending: Optional[int] = None  # a signal that arrived while the runner wrote
        self._handling = False  # a signal's handler has started (the watchdog stops resending)
        self._wakeup: Optional[tuple] = None  # the watchdog's pipe (read, write)

    def install(self) -> None:
        for signum in ENDING_SIGNALS:
            if signal.getsignal(signum) == signal.SIG_DFL:  # ignored (nohup) or handled stays so
                signal.signal(signum, self._on_signal)
                self._installed.append(signum)
        os._exit = self._exit  # type: ignore[assignment]
        if self._installed:
            self._watch()

    def _watch(self) -> None:
        """Makes sure the handler runs when the main thread is blocked in C. Python runs a signal's
        handler between bytecodes: a signal that arrives just before a blocking call that does not
        return for it (a multiprocessing worker taking its queue's lock while Pool.terminate sends
        SIGTERM) would wait forever, where plain Python dies at once. A thread woken by the signal
        wakeup fd interrupts the main thread with a signal of pyxray's own (a real-time one with a
        handler that does nothing) until the handler has started: the blocking call returns EINTR
        and the interpreter runs the pending handlers. The ping cannot end the process: a byte
        written by a forked child that inherited the fd (before its fork hook ran) costs a few
        EINTRs, which Python retries. Only where there are real-time signals, and when the wakeup
        fd is free (asyncio's loop takes it over with its own signal handlers)."""
        if not hasattr(signal, "set_wakeup_fd") or not hasattr(signal, "pthread_kill") or not hasattr(signal, "SIGRTMAX"):
            return
        import _thread
        import time

        ping = signal.SIGRTMAX - 1
        if signal.getsignal(ping) not in (signal.SIG_DFL, _ping):
            return  # the program's
        read, write = os.pipe()
        try:
            os.set_blocking(write, False)
            previous = signal.set_wakeup_fd(write, warn_on_full_buffer=False)
        except (ValueError, OSError, TypeError):
            os.close(read)
            os.close(write)
            return
        if previous != -1:  # someone else's: leave it
            signal.set_wakeup_fd(previous)
            os.close(read)
            os.close(write)
            return
        signal.signal(ping, _ping)
        self._wakeup = (read, write)
        main = _thread.get_ident()
        ending = set(self._installed)
        guard = self

        def watch() -> None:
            try:
                watching()
            finally:  # the ident may be reused by a thread of the program
                HELPER_THREADS.discard(_thread.get_ident())

        def watching() -> None:
            while True:
                try:
                    data = os.read(read, 64)
                except OSError:
                    return
                if not data:
                    return
                if guard._handling or not any(n in ending for n in bytearray(data)):
                    continue
                for attempt in range(1, 6):
                    time.sleep(0.05 * attempt)
                    if guard._handling:
                        break
                    try:
                        signal.pthread_kill(main, ping)
                    except (OSError, ValueError):
                        return

        # Registered here, not by the thread itself: a profiler started right after must already
        # know it is not the program's (the single-thread mode depends on it).
        HELPER_THREADS.add(_thread.start_new_thread(watch, ()))

    def uninstall(self) -> None:
        """Takes the handlers back (a forked child installs its own guard)."""
        for signum in self._installed:
            try:
                signal.signal(signum, signal.SIG_DFL)
            except (ValueError, OSError):
                pass
        self._installed = []
        os._exit = self._real_exit
        self._done = True
        if self._wakeup is not None:  # (a forked child's signals must not wake the parent's watchdog)
            try:
                previous = signal.set_wakeup_fd(-1)
                if previous not in (-1, self._wakeup[1]):
                    signal.set_wakeup_fd(previous)  # someone else's since
            except (ValueError, OSError):
                pass
            for fd in self._wakeup:
                try:
                    os.close(fd)
                except OSError:
                    pass
            self._wakeup = None

    def done(self) -> None:
        """The run ended normally: the runner writes; a signal now waits for :meth:`die_if_pending`."""
        self._done = True

    def die_if_pending(self) -> None:
        """After the runner wrote: dies of a signal that arrived meanwhile, as Python would have."""
        if self._pending is not None:
            signal.signal(self._pending, signal.SIG_DFL)
            os.kill(os.getpid(), self._pending)

    def _end(self, status: int, why: str, partial: bool = True) -> None:
        if self._done or os.getpid() != self._pid:  # (another process's guard, inherited: nothing to write)
            return
        self._done = True
        for signum in self._installed + [signal.SIGINT]:
            try:
                signal.signal(signum, signal.SIG_IGN)  # a second signal (a group's and a forwarded one) must not cut the write
            except (ValueError, OSError):  # not the main thread: os._exit from a thread
                break
        try:
            self._finish(status, partial, why)
        except BaseException as exc:  # the process ends anyway; say why the profile is missing
            try:
                sys.stderr.write("pyxray: could not write the partial profile: {}\n".format(exc))
            except BaseException:
                pass

    def _on_signal(self, signum: int, frame: Optional[FrameType]) -> None:
        self._handling = True
        if self._done:  # the runner is writing the profile: die once it is written
            self._pending = self._pending or signum
            return
        name = signal.Signals(signum).name
        self._end(128 + signum, "killed by {}".format(name))
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)  # die of it, as Python would have
        self._real_exit(128 + signum)

    def _exit(self, status: int) -> None:
        try:
            caller = sys._getframe(1).f_code.co_filename
        except ValueError:
            caller = ""
        if os.path.basename(os.path.dirname(caller)) == "multiprocessing":
            self._end(status, "", partial=False)  # how multiprocessing ends a forked child: its normal end
        else:
            self._end(status, "os._exit({})".format(status))
        self._real_exit(status)
