"""Builds and loads the optional C engine (``_accel.c``) on first use, with the interpreter's own
toolchain -- no setuptools or distutils (gone from the 3.12+ standard library).

The compiler command comes from ``sysconfig`` (``CC``, ``CCSHARED``, ``INCLUDEPY``,
``EXT_SUFFIX``; the ``CC`` environment variable overrides ``CC``, as for any extension build). The
shared library goes to a per-interpreter folder of the user cache,
``<cache>/accel/<cache_tag>-<hash>/_accel<EXT_SUFFIX>`` (``<cache>``: see
:func:`pyxray._profile_calibrate.cache_dir`; XDG_CACHE_HOME and PYXRAY_CACHE_DIR are respected),
where ``<hash>`` covers the C source, the compiler command, the Python version and the
executable: a changed source or toolchain builds anew. The build runs in a temporary folder beside
it that is then renamed into place, so concurrent first runs never see a half-written library, and
under a lock file (``<hash>.lock``, flock), so that concurrent first runs compile once, not once each.

When the engine cannot be had -- not CPython, Pyodide/WebAssembly, a free-threaded build, no
compiler, no ``Python.h``, a failed compile or import -- :func:`load` returns ``(None, reason)``
and the profiler uses the Python engine (``metadata.engine``/``engineReason`` say so). A failed
compile leaves ``<hash>.failed.txt`` with the compiler's output in the cache, so runs in the next
24 hours do not pay for the compiler again (delete the file to retry at once).
"""

from __future__ import annotations

import os
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is for type checkers only
    from types import ModuleType
    from typing import List, Optional, Tuple

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_accel.c")
MODULE = "pyxray._accel"
#: Seconds a compile may take before it counts as failed.
BUILD_TIMEOUT = 180
#: Seconds a failed build is remembered (not retried) for.
FAILED_TTL = 24 * 3600

_loaded: tuple[ModuleType | None, str | None] | None = None


def unsupported_reason() -> str | None:
    """Why this interpreter cannot have the C engine at all (None when it can)."""
    if sys.implementation.name != "cpython":
        return "the C engine needs CPython (this is {})".format(sys.implementation.name)
    if sys.platform == "emscripten" or sys.platform == "wasi":
        return "no C compiler in WebAssembly (Pyodide)"
    if "t" in getattr(sys, "abiflags", ""):
        return "the C engine needs the GIL (this is a free-threaded build)"
    if sys.version_info < (3, 8):
        return "the C engine needs CPython 3.8+"
    return None


def compiler_command() -> list[str] | None:
    """The compiler (with its own options) sysconfig names, or $CC; None when none is found."""
    import shlex
    import shutil
    import sysconfig

    cc = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    try:
        words = shlex.split(cc)
    except ValueError:
        return None
    if not words or shutil.which(words[0]) is None:
        return None
    return words


def build_command(compiler: list[str], output: str) -> list[str]:
    """The command that compiles and links ``_accel.c`` into ``output``."""
    import shlex
    import sysconfig

    include = sysconfig.get_config_var("INCLUDEPY") or sysconfig.get_paths()["include"]
    shared = shlex.split(sysconfig.get_config_var("CCSHARED") or "-fPIC")
    link = ["-bundle", "-undefined", "dynamic_lookup"] if sys.platform == "darwin" else ["-shared"]
    return [*compiler, *shared, "-O2", "-DNDEBUG", "-fno-strict-aliasing", "-fwrapv", "-I", include, SOURCE, "-o", output, *link]


def build_dir(compiler: list[str]) -> str:
    """The cache folder of this interpreter + source + toolchain."""
    import hashlib

    from ._profile_calibrate import cache_dir

    digest = hashlib.sha256()
    with open(SOURCE, "rb") as f:
        digest.update(f.read())
    for part in (" ".join(build_command(compiler, "")), sys.version, sys.executable or "?"):
        digest.update(b"\0" + part.encode("utf-8", "replace"))
    tag = sys.implementation.cache_tag or "python"
    return os.path.join(cache_dir(), "accel", "{}-{}".format(tag, digest.hexdigest()[:16]))


def _import(path: str) -> ModuleType:
    from importlib.machinery import ExtensionFileLoader, ModuleSpec

    loader = ExtensionFileLoader(MODULE, path)
    module = loader.create_module(ModuleSpec(MODULE, loader, origin=path))
    loader.exec_module(module)  # type: ignore[arg-type]
    return module  # type: ignore[return-value]


def index_path() -> str:
    """Where the path of the library built for this interpreter, source and $CC is noted: read
    first, so that a warm start needs neither sysconfig nor a hash of the source (~10 ms of
    imports). Keyed by the source's size and mtime, the Python version, the executable and $CC."""
    from ._profile_calibrate import cache_dir

    try:
        st = os.stat(SOURCE)
        stamp = "{}:{}".format(st.st_size, st.st_mtime_ns)
    except OSError:
        stamp = "?"
    text = "\0".join((sys.version, sys.executable or "?", os.environ.get("CC", ""), stamp))
    h = 0xCBF29CE484222325  # FNV-1a, 64 bits (str hashes are salted per process)
    for byte in text.encode("utf-8", "replace"):
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return os.path.join(cache_dir(), "accel", "{}-{:016x}.path".format(sys.implementation.cache_tag or "python", h))


def _from_index(index: str) -> ModuleType | None:
    try:
        with open(index, encoding="utf-8") as f:
            path = f.read().strip()
        return _import(path) if path and os.path.isfile(path) else None
    except (OSError, ImportError):
        return None


def _write_index(index: str, path: str) -> None:
    try:
        temp = "{}.{}.tmp".format(index, os.getpid())
        with open(temp, "w", encoding="utf-8") as f:
            f.write(path)
        os.replace(temp, index)
    except OSError:
        pass


def _build(folder: str, compiler: list[str], name: str) -> str | None:
    """Compiles into a temporary folder renamed to ``folder``; returns an error text or None."""
    import shutil
    import subprocess
    import tempfile

    parent = os.path.dirname(folder)
    os.makedirs(parent, exist_ok=True)
    temp = tempfile.mkdtemp(prefix=".build-", dir=parent)
    try:
        command = build_command(compiler, os.path.join(temp, name))
        try:
            done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=BUILD_TIMEOUT)
        except (OSError, subprocess.SubprocessError) as exc:
            return "{}: {}".format(" ".join(command), exc)
        if done.returncode != 0:
            output = done.stdout.decode("utf-8", "replace").strip()
            return "{} failed (exit {}): {}".format(" ".join(command), done.returncode, output[-2000:])
        try:
            os.rename(temp, folder)
        except OSError:
            if not os.path.exists(os.path.join(folder, name)):  # else another process won the race
                raise
        return None
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def _build_once(folder: str, compiler: list[str], name: str, path: str, failed: str) -> str | None:
    """Builds unless another process did meanwhile (or failed recently); returns why there is no
    library, or None."""
    if os.path.isfile(path):
        return None
    if os.path.isfile(failed) and time.time() - os.path.getmtime(failed) < FAILED_TTL:
        with open(failed, encoding="utf-8", errors="replace") as f:
            return "an earlier build failed (see {}; delete it to retry): {}".format(failed, f.read(300))
    reason = _headers_reason()
    if reason is not None:
        return reason
    error = _build(folder, compiler, name)
    if error is None:
        return None
    try:
        with open(failed, "w", encoding="utf-8") as f:
            f.write(error)
    except OSError:
        pass
    return "building the C engine failed: " + error[:500]


def _lock(path: str) -> int | None:
    """An exclusive lock on ``path`` (a file descriptor), or None where there is no flock."""
    try:
        import fcntl
    except ImportError:  # Windows: concurrent first builds each build (the rename keeps one)
        return None
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except OSError:
        os.close(fd)
        return None
    return fd


def _unlock(fd: int | None) -> None:
    if fd is not None:
        os.close(fd)  # releases the flock


def _headers_reason() -> str | None:
    import sysconfig

    include = sysconfig.get_config_var("INCLUDEPY") or sysconfig.get_paths().get("include") or ""
    if not os.path.isfile(os.path.join(include, "Python.h")):
        return "no Python headers (Python.h is not in {}): install the interpreter's development package (e.g. python3-dev)".format(include or "?")
    return None


def load() -> tuple[ModuleType | None, str | None]:
    """The C engine module, building it if needed: ``(module, None)``, or ``(None, why not)``.
    The answer is kept for the process."""
    global _loaded
    if _loaded is None:
        _loaded = _load()
    return _loaded


def reset() -> None:
    """Forgets the answer of :func:`load` (for tests that change the environment)."""
    global _loaded
    _loaded = None


def _load() -> tuple[ModuleType | None, str | None]:
    reason = unsupported_reason()
    if reason is not None:
        return None, reason
    if MODULE in sys.modules:
        return sys.modules[MODULE], None
    index = index_path()
    module = _from_index(index)
    if module is not None:
        sys.modules[MODULE] = module
        return module, None
    import sysconfig

    compiler = compiler_command()
    if compiler is None:
        return None, "no C compiler found (CC={!r})".format(os.environ.get("CC") or sysconfig.get_config_var("CC"))
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    name = "_accel" + suffix
    try:
        folder = build_dir(compiler)
        path = os.path.join(folder, name)
        failed = os.path.join(folder + ".failed.txt")
        if not os.path.isfile(path):
            lock = _lock(folder + ".lock")  # one build per interpreter at a time; the others wait for it
            try:
                reason = _build_once(folder, compiler, name, path, failed)
            finally:
                _unlock(lock)
            if reason is not None:
                return None, reason
        module = _import(path)
    except Exception as exc:  # any failure means: the Python engine
        return None, "the C engine could not be loaded: {}: {}".format(type(exc).__name__, exc)
    _write_index(index, path)
    sys.modules[MODULE] = module
    return module, None


if __name__ == "__main__":  # python -m pyxray._accel_build: build now and say where (or why not)
    found, why = load()
    if found is None:
        sys.stderr.write("pyxray: no C engine: {}\n".format(why))
        sys.exit(1)
    sys.stdout.write("{}\n".format(found.__file__))
