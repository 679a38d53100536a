"""Builds and loads the optional C engine (``_accel.c``) on first use, with the interpreter's own
toolchain -- no setuptools or distutils (gone from the 3.12+ standard library).

The toolchain is the interpreter's, as setuptools uses it for any extension build
(:func:`toolchain`): compiled with ``sysconfig``'s ``CC``, ``CFLAGS`` and ``CCSHARED``, linked with
its ``LDSHARED`` (which carries its ``LDFLAGS``), into ``_accel<EXT_SUFFIX>``; the environment's
``CC``, ``CFLAGS``, ``CPPFLAGS``, ``LDFLAGS`` and ``LDSHARED`` override or extend them the way they
do for setuptools. When ``sysconfig``'s compiler is not on PATH (an interpreter built with
another toolchain: conda's prefixed ``x86_64-conda-linux-gnu-gcc``, a distribution's cross
name) and ``$CC`` is not set, ``cc``, ``gcc`` and ``clang`` are tried in turn, and the reason for
running the Python engine names every compiler tried. The headers are looked for
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

A shared library is code the process runs, and a truncated one kills it (a SIGBUS when the loader
touches the missing pages), so nothing is loaded on trust:

- the cache folder and its ``accel`` folder must belong to the current user and not be writable by
  the group or others (created so: mode 0700); otherwise the C engine is refused, and
  ``metadata.engineReason`` says which folder and why -- never a library another user could
  replace;
- each build folder holds ``manifest.json``, the library's size and SHA-256, written before the
  folder is renamed into place; the library is loaded only when it is a regular file of the
  current user, not group- or world-writable, of that size and hash. A library that fails the
  check (truncated, replaced, no manifest: an older cache) is moved aside and built again, once,
  under the lock; when that fails too, the Python engine runs and the reason says so;
- the index (``<tag>-<key>.index.json``, see :func:`index_path`) names a build folder and a file
  (plain names, resolved inside the ``accel`` folder, no symlinks) with their size and hash; an
  entry that is not so (garbage, a path outside, a symlink) is ignored and rewritten.

When the engine cannot be had -- not CPython, Pyodide/WebAssembly, a free-threaded build, no
compiler, no ``Python.h``, a failed compile or import -- :func:`load` returns ``(None, reason)``
and the profiler uses the Python engine (``metadata.engine``/``engineReason`` say so). A failed
compile leaves ``<hash>.failed.txt`` with the compiler's output in the cache, so runs in the next
24 hours do not pay for the compiler again (delete the file to retry at once).
"""

from __future__ import annotations

import json
import os
import stat
import sys
import time

from ._versions import ACCEL_VERIFIED_MINORS, MINOR, minors_text

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is for type checkers only
    from types import ModuleType
    from typing import List, Optional, Tuple

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_accel.c")
#: Every file of the C engine: SOURCE and the files it includes (all of them key the cache).
SOURCES = (SOURCE, os.path.join(os.path.dirname(SOURCE), "_accel_sigprof.c"))
MODULE = "pyxray._accel"
#: Seconds a compile may take before it counts as failed.
BUILD_TIMEOUT = 180
#: Seconds a failed build is remembered (not retried) for.
FAILED_TTL = 24 * 3600

#: The record of a build folder's library (its file name, size and SHA-256), checked before loading.
MANIFEST = "manifest.json"

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


#: The compilers tried, in order, when sysconfig's is not on PATH and $CC is not set.
FALLBACK_COMPILERS = ("cc", "gcc", "clang")


def _words(text: str | None) -> list[str]:
    """A command line split as a POSIX shell would (``[]`` when it cannot be split)."""
    import shlex

    try:
        return shlex.split(text or "")
    except ValueError:
        return []


def find_compiler() -> tuple[list[str] | None, list[str]]:
    """The C compiler command (with its own options) and the compilers tried to find it:
    ``$CC`` alone when it is set; else sysconfig's ``CC``, then ``cc``, ``gcc`` and ``clang`` (each
    with the options sysconfig's ``CC`` carries, e.g. ``-pthread``). None when none is on PATH."""
    import shutil
    import sysconfig

    explicit = os.environ.get("CC")
    if explicit:
        words = _words(explicit)
        return (words if words and shutil.which(words[0]) else None), [explicit]
    configured = _words(sysconfig.get_config_var("CC"))
    options = configured[1:]
    candidates = ([configured] if configured else []) + [[name, *options] for name in FALLBACK_COMPILERS]
    tried: list[str] = []
    for words in candidates:
        if words[0] in tried:
            continue
        tried.append(words[0])
        if shutil.which(words[0]) is not None:
            return words, tried
    return None, tried


def no_compiler_reason(tried: list[str]) -> str:
    """Why there is no C engine when :func:`find_compiler` found nothing."""
    import sysconfig

    if os.environ.get("CC"):
        return "no C compiler found (CC={!r})".format(os.environ["CC"])
    configured = _words(sysconfig.get_config_var("CC"))
    rest = [name for name in tried if not configured or name != configured[0]]
    first = "sysconfig's CC {!r}, then ".format(configured[0]) if configured else ""
    return "no C compiler found on PATH (tried {}{})".format(first, ", ".join(rest))


def toolchain(compiler: list[str]) -> tuple[list[str], list[str]]:
    """The compile command (without source and output) and the link command (without object and
    output) for ``compiler``, as setuptools makes them from sysconfig and the environment:

    - compile: the compiler, ``-O2`` (a default for interpreters configured without one),
      sysconfig's ``CFLAGS``, ``$CFLAGS``, ``$CPPFLAGS``, sysconfig's ``CCSHARED`` (``-fPIC``), then
      what the C engine needs (``-fno-strict-aliasing -fwrapv -DNDEBUG``, the headers) and
      ``-g0``: no debug information (``CFLAGS`` often has ``-g``), which would record the
      compiler's working folder and make the same build differ from run to run;
    - link: ``$LDSHARED``, else sysconfig's ``LDSHARED`` with its compiler replaced by the one in
      use when it starts with sysconfig's ``CC`` (as setuptools does for ``$CC``), else the
      compiler with ``-shared`` (``-bundle -undefined dynamic_lookup`` on macOS); then
      ``$LDFLAGS``, ``$CFLAGS`` and ``$CPPFLAGS``."""
    import shutil
    import sysconfig

    env = os.environ
    extra = _words(env.get("CFLAGS")) + _words(env.get("CPPFLAGS"))
    compile_command = [
        *compiler, "-O2", *_words(sysconfig.get_config_var("CFLAGS")), *extra,
        *(_words(sysconfig.get_config_var("CCSHARED")) or ["-fPIC"]),
        "-fno-strict-aliasing", "-fwrapv", "-DNDEBUG", "-g0", *header_flags(),
    ]  # fmt: skip
    link = _words(env.get("LDSHARED"))
    if not link:
        configured_cc = _words(sysconfig.get_config_var("CC"))
        configured = _words(sysconfig.get_config_var("LDSHARED"))
        if configured_cc and configured[: len(configured_cc)] == configured_cc:
            link = [*compiler, *configured[len(configured_cc) :]]
        elif configured and shutil.which(configured[0]) is not None:
            link = configured
        else:
            link = [*compiler, *(["-bundle", "-undefined", "dynamic_lookup"] if sys.platform == "darwin" else ["-shared"])]
    link = [*link, *_words(env.get("LDFLAGS")), *extra]
    return compile_command, link


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


def build_commands(compiler: list[str], output: str) -> list[list[str]]:
    """The commands that compile ``_accel.c`` and link it into ``output`` (the object file is
    written beside it)."""
    compile_command, link = toolchain(compiler)
    obj = os.path.splitext(output)[0] + ".o"
    return [[*compile_command, "-c", SOURCE, "-o", obj], [*link, obj, "-o", output]]


def build_dir(compiler: list[str]) -> str:
    """The cache folder of this interpreter + source + toolchain."""
    import hashlib

    from ._profile_calibrate import cache_dir

    digest = hashlib.sha256()
    for source in SOURCES:
        with open(source, "rb") as f:
            digest.update(f.read())
    for part in (*(" ".join(c) for c in build_commands(compiler, "_accel")), sys.version, sys.executable or "?"):
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
    """Where the library built for this interpreter, source and $CC is noted: read first, so that a
    warm start needs neither sysconfig nor a hash of the source (~10 ms of imports). Keyed by the
    source's size and mtime, the Python version, the executable and the toolchain's environment
    variables ($CC, $CFLAGS, $CPPFLAGS, $LDFLAGS, $LDSHARED)."""
    from ._profile_calibrate import cache_dir

    stamps = []
    for source in SOURCES:
        try:
            st = os.stat(source)
            stamps.append("{}:{}".format(st.st_size, st.st_mtime_ns))
        except OSError:
            stamps.append("?")
    stamp = ",".join(stamps)
    toolchain_env = [os.environ.get(name, "") for name in ("CC", "CFLAGS", "CPPFLAGS", "LDFLAGS", "LDSHARED")]
    text = "\0".join((sys.version, sys.executable or "?", *toolchain_env, stamp))
    h = 0xCBF29CE484222325  # FNV-1a, 64 bits (str hashes are salted per process)
    for byte in text.encode("utf-8", "replace"):
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return os.path.join(cache_dir(), "accel", "{}-{:016x}.index.json".format(sys.implementation.cache_tag or "python", h))


def _owner_problem(st: os.stat_result) -> str | None:
    """Why a file or folder with status ``st`` may be changed by someone other than the current
    user (None when it may not). Without POSIX owners (Windows) there is nothing to check."""
    getuid = getattr(os, "getuid", None)
    if getuid is None:
        return None
    uid = getuid()
    if st.st_uid != uid:
        return "owned by uid {}, not by the current user (uid {})".format(st.st_uid, uid)
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return "{} (mode {:04o})".format("world-writable" if st.st_mode & stat.S_IWOTH else "group-writable", stat.S_IMODE(st.st_mode))
    return None


def private_folders() -> tuple[str | None, str | None]:
    """The ``accel`` folder of the cache, created (mode 0700) when missing, and None; or None and
    why the C engine may not use it: the cache folder or ``accel`` is not a folder of the current
    user that only they can write to."""
    from ._profile_calibrate import cache_dir

    root = cache_dir()
    accel = os.path.join(root, "accel")
    for folder in (root, accel):
        try:
            if not os.path.isdir(folder):
                os.makedirs(os.path.dirname(folder) or ".", exist_ok=True)
                try:
                    os.mkdir(folder, 0o700)
                except FileExistsError:
                    pass
            st = os.stat(folder)
        except OSError as exc:
            return None, "the C engine's cache folder {} cannot be made: {}".format(folder, exc)
        if not stat.S_ISDIR(st.st_mode):
            return None, "the C engine's cache folder {} is not a folder".format(folder)
        problem = _owner_problem(st)
        if problem is not None:
            return None, (
                "the C engine's cache folder {} is {}: a library another user could replace is never loaded "
                "(chmod go-w it, or set PYXRAY_CACHE_DIR to a private folder)".format(folder, problem)
            )
    return accel, None


def _digest(path: str) -> tuple[int, str]:
    import hashlib

    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while True:
            chunk = f.read(1 << 16)
            if not chunk:
                break
            size += len(chunk)
            digest.update(chunk)
    return size, digest.hexdigest()


def _plain_name(value: object) -> bool:
    """Whether ``value`` is a file name that stays in its folder (no separator, not . or .., not
    hidden: the temporary folders start with a dot)."""
    if not isinstance(value, str) or not value or value.startswith(".") or "\0" in value:
        return False
    return not any(sep and sep in value for sep in (os.sep, os.altsep, "/"))


def _check_library(accel: str, folder: object, name: object, size: object, sha256: object) -> str | None:
    """Why ``accel/folder/name`` is not the library of that size and SHA-256, safe to load (None
    when it is): plain names, resolved inside ``accel`` without symlinks, a folder and a regular
    file of the current user that no one else can write to, with that size and hash."""
    if not (isinstance(folder, str) and isinstance(name, str) and _plain_name(folder) and _plain_name(name)):
        return "not a name inside the cache folder"
    if not (isinstance(size, int) and isinstance(sha256, str) and len(sha256) == 64):
        return "no size and SHA-256 recorded"
    path = os.path.join(accel, folder, name)
    if os.path.realpath(path) != os.path.join(os.path.realpath(accel), folder, name):
        return "resolves outside the cache folder"
    try:
        for where, must in ((os.path.join(accel, folder), stat.S_ISDIR), (path, stat.S_ISREG)):
            st = os.lstat(where)
            if not must(st.st_mode):
                return "{} is not a {}".format(where, "folder" if must is stat.S_ISDIR else "regular file")
            problem = _owner_problem(st)
            if problem is not None:
                return "{} is {}".format(where, problem)
        if st.st_size != size:
            return "{} has {} bytes, {} were built (truncated or replaced)".format(path, st.st_size, size)
        got_size, got_sha = _digest(path)
    except OSError as exc:
        return "{}: {}".format(path, exc)
    if got_size != size or got_sha != sha256:
        return "{} is not the library that was built (SHA-256 differs)".format(path)
    return None


def _read_json(path: str) -> dict[str, object] | None:
    """A JSON object from a small regular file, or None (missing, not a regular file, garbage)."""
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size > 65536:
            return None
        with open(path, "rb") as f:
            data = json.loads(f.read().decode("utf-8"))
    except (OSError, ValueError, RecursionError):  # ValueError: bad UTF-8 or JSON; deep nesting
        return None
    return data if isinstance(data, dict) else None


def _check_built(folder: str, name: str) -> str | None:
    """Why the build folder ``folder`` does not hold a verified ``name`` (None when it does): its
    manifest names the file, its size and SHA-256 (see :func:`_check_library`)."""
    manifest = _read_json(os.path.join(folder, MANIFEST))
    if manifest is None:
        return "{} has no readable {}".format(folder, MANIFEST)
    if manifest.get("file") != name:
        return "{} describes another file".format(os.path.join(folder, MANIFEST))
    return _check_library(os.path.dirname(folder), os.path.basename(folder), name, manifest.get("size"), manifest.get("sha256"))


def _from_index(accel: str, index: str) -> ModuleType | None:
    """The library the index names, loaded when it passes :func:`_check_library`; else None."""
    entry = _read_json(index)
    if entry is None:
        return None
    folder, name = entry.get("folder"), entry.get("file")
    if _check_library(accel, folder, name, entry.get("size"), entry.get("sha256")) is not None:
        return None
    try:
        return _import(os.path.join(accel, str(folder), str(name)))
    except ImportError:
        return None


def _write_json(path: str, data: dict[str, object]) -> None:
    """Writes ``data`` to ``path`` atomically, private to the user (mode 0600)."""
    from ._files import write_atomic

    write_atomic(path, json.dumps(data, sort_keys=True), private=True)


def _write_index(index: str, folder: str) -> None:
    """Notes the verified library of build folder ``folder`` in the index (best effort)."""
    manifest = _read_json(os.path.join(folder, MANIFEST)) or {}
    try:
        _write_json(index, {"folder": os.path.basename(folder), "file": manifest.get("file"), "size": manifest.get("size"), "sha256": manifest.get("sha256")})
    except OSError:
        pass


def _discard(folder: str) -> None:
    """Moves a build folder that failed its check out of the way (renamed, then removed): a
    process that has its library loaded keeps its pages (nothing is truncated in place)."""
    import shutil

    aside = "{}.discarded-{}-{}".format(os.path.join(os.path.dirname(folder), "." + os.path.basename(folder)), os.getpid(), int(time.time() * 1000))
    try:
        os.rename(folder, aside)
    except OSError:
        return
    shutil.rmtree(aside, ignore_errors=True)


def _build(folder: str, compiler: list[str], name: str) -> str | None:
    """Compiles into a temporary folder renamed to ``folder``; returns an error text or None."""
    import shutil
    import subprocess
    import tempfile

    parent = os.path.dirname(folder)  # the accel folder, checked by private_folders()
    temp = tempfile.mkdtemp(prefix=".build-", dir=parent)  # mode 0700
    try:
        for command in build_commands(compiler, os.path.join(temp, name)):
            try:
                done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=BUILD_TIMEOUT)
            except (OSError, subprocess.SubprocessError) as exc:
                return "{}: {}".format(" ".join(command), exc)
            if done.returncode != 0:
                output = done.stdout.decode("utf-8", "replace").strip()
                return "{} failed (exit {}): {}".format(" ".join(command), done.returncode, output[-2000:])
        os.unlink(os.path.splitext(os.path.join(temp, name))[0] + ".o")
        built = os.path.join(temp, name)
        os.chmod(built, 0o755)  # whatever the umask: a library no one else may write to
        size, sha256 = _digest(built)
        _write_json(os.path.join(temp, MANIFEST), {"file": name, "size": size, "sha256": sha256})
        try:
            os.rename(temp, folder)
        except OSError:
            if _check_built(folder, name) is not None:  # else another process won the race
                raise
        return None
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def _build_once(folder: str, compiler: list[str], name: str, failed: str) -> str | None:
    """Builds unless another process did meanwhile (or failed recently); returns why there is no
    verified library, or None. A build folder whose library fails its check is discarded first."""
    if _check_built(folder, name) is None:
        return None
    if os.path.lexists(folder):
        _discard(folder)
    if os.path.isfile(failed) and time.time() - os.path.getmtime(failed) < FAILED_TTL:
        with open(failed, encoding="utf-8", errors="replace") as f:
            return "an earlier build failed (see {}; delete it to retry): {}".format(failed, f.read(300))
    reason = _headers_reason()
    if reason is not None:
        return reason
    error = _build(folder, compiler, name)
    if error is None:
        problem = _check_built(folder, name)
        return None if problem is None else "the C engine was built but failed its check: " + problem
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
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
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


def probably_built() -> bool:
    """Whether :func:`load` will likely find the C engine built (its index is there, or it is
    loaded): cheap (a stat), for callers that build ahead of time only when it is not."""
    if _loaded is not None or MODULE in sys.modules:
        return True
    try:
        return os.path.exists(index_path())
    except Exception:  # no cache folder: load() says why
        return False


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
    accel, reason = private_folders()
    if accel is None:
        return None, reason
    index = index_path()
    module = _from_index(accel, index)
    if module is not None:
        sys.modules[MODULE] = module
        return module, None
    import sysconfig

    compiler, tried = find_compiler()
    if compiler is None:
        return None, no_compiler_reason(tried)
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    name = "_accel" + suffix
    try:
        folder = build_dir(compiler)
        failed = os.path.join(folder + ".failed.txt")
        if _check_built(folder, name) is not None:
            # Missing, or failed its check (truncated, replaced, an older cache without a
            # manifest): built (again) under the lock -- one build per interpreter at a time; the
            # others wait for it and find it verified.
            lock = _lock(folder + ".lock")
            try:
                reason = _build_once(folder, compiler, name, failed)
            finally:
                _unlock(lock)
            if reason is not None:
                return None, reason
        module = _import(os.path.join(folder, name))
    except Exception as exc:  # any failure means: the Python engine
        return None, "the C engine could not be loaded: {}: {}".format(type(exc).__name__, exc)
    _write_index(index, folder)
    sys.modules[MODULE] = module
    return module, None


if __name__ == "__main__":  # python -m pyxray._accel_build: build now and say where (or why not)
    found, why = load()
    if found is None:
        sys.stderr.write("pyxray: no C engine: {}\n".format(why))
        sys.exit(1)
    sys.stdout.write("{}\n".format(found.__file__))
