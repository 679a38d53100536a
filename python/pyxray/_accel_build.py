"""Builds and loads the optional C engine (``_accel.c``) on first use, with the interpreter's own
toolchain -- no setuptools or distutils (gone from the 3.12+ standard library).

The compiler command comes from ``sysconfig`` (``CC``, ``CCSHARED``, ``EXT_SUFFIX``; the ``CC``
environment variable overrides ``CC``, as for any extension build). The headers are looked for
under the interpreter's own prefix first (``sys.base_prefix/include/python3.X``), then where
``sysconfig`` says (``INCLUDEPY``, the ``include`` path): an interpreter run from another root --
a Debian root of :file:`scripts/setup-native-pythons.sh` -- has a ``INCLUDEPY`` naming the
configured ``/usr/include/python3.X``, which is not there (see :func:`header_flags`). The
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

from ._versions import ACCEL_VERIFIED_MINORS, MINOR, minors_text

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
    if MINOR not in ACCEL_VERIFIED_MINORS:
        return "the C engine was not verified on CPython 3.{} (it reads CPython's object layouts; verified on {})".format(
            MINOR, minors_text(ACCEL_VERIFIED_MINORS)
        )
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


def include_candidates() -> list[str]:
    """Where ``Python.h`` may be, in order: the interpreter's own prefix
    (``sys.base_prefix/include/python3.X<abiflags>``), then sysconfig's ``INCLUDEPY`` and
    ``include`` path (which name the configured prefix, wrong for an interpreter run elsewhere)."""
    import sysconfig

    name = "python{}.{}{}".format(sys.version_info[0], sys.version_info[1], getattr(sys, "abiflags", ""))
    found: list[str] = []
    for folder in (os.path.join(sys.base_prefix, "include", name), sysconfig.get_config_var("INCLUDEPY"), sysconfig.get_paths().get("include")):
        if folder and folder not in found:
            found.append(folder)
    return found


def include_dir() -> str | None:
    """The first of :func:`include_candidates` that holds ``Python.h``, or None."""
    for folder in include_candidates():
        if os.path.isfile(os.path.join(folder, "Python.h")):
            return folder
    return None


def _is_wrapper(path: str) -> bool:
    """Whether a ``pyconfig.h`` only includes the platform's own (Debian's multiarch wrapper,
    ``#include <x86_64-linux-gnu/python3.X/pyconfig.h>``) instead of configuring anything."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read(65536)
    except OSError:
        return False
    return "Py_PYCONFIG_H" not in text and "/pyconfig.h>" in text


def header_flags() -> list[str]:
    """The compiler options that find the headers: ``-I`` the folder of ``Python.h``, and, when its
    ``pyconfig.h`` is Debian's multiarch wrapper, the platform's ``pyconfig.h`` of the same root
    (``<base_prefix>/include/<MULTIARCH>/python3.X/pyconfig.h``): included first (``-include``;
    its guard then makes the wrapper's own include a no-op) and its root searched last
    (``-idirafter``) so that the wrapper's ``#include <MULTIARCH/...>`` resolves without putting
    that root's C library headers before the compiler's own."""
    import sysconfig

    include = include_dir()
    if include is None:
        return []
    flags = ["-I", include]
    wrapper = os.path.join(include, "pyconfig.h")
    if not _is_wrapper(wrapper):
        return flags
    multiarch = sysconfig.get_config_var("MULTIARCH") or ""
    root = os.path.dirname(include)  # <base_prefix>/include
    platform = os.path.join(root, multiarch, os.path.basename(include), "pyconfig.h")
    if multiarch and os.path.isfile(platform):
        flags += ["-include", platform, "-idirafter", root]
    return flags


def build_command(compiler: list[str], output: str) -> list[str]:
    """The command that compiles and links ``_accel.c`` into ``output``."""
    import shlex
    import sysconfig

    shared = shlex.split(sysconfig.get_config_var("CCSHARED") or "-fPIC")
    link = ["-bundle", "-undefined", "dynamic_lookup"] if sys.platform == "darwin" else ["-shared"]
    return [*compiler, *shared, "-O2", "-DNDEBUG", "-fno-strict-aliasing", "-fwrapv", *header_flags(), SOURCE, "-o", output, *link]


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
    if include_dir() is None:
        folders = ", ".join(include_candidates()) or "?"
        return "no Python headers (Python.h is not in {}): install the interpreter's development package (e.g. python3-dev)".format(folders)
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
