"""Which code a profile shows, and the frame table that names it.

Every code object is sorted, once, into one of three kinds (:class:`CodeFilter`):

- ``USER``: the program's own code. Always a node of the call tree.
- ``LIBRARY``: the standard library and installed packages -- files under ``sys.prefix``,
  ``sys.exec_prefix``, ``sys.base_prefix``, ``sys.base_exec_prefix``, any ``site-packages`` or
  ``dist-packages`` folder, frozen modules (``<frozen os>``) -- or, when ``include`` patterns are
  given, everything they do not match. Builtins (C functions) are library code too. What happens to
  library code depends on the view (``libraries=``):

  - ``"first"`` (default): a library frame is a node when its caller is user code (or the thread's
    root); library code it calls in turn is folded into it (its time is that frame's self time),
    except user code called back from inside (a ``sorted`` key, an asyncio coroutine run by the
    event loop), which is a node again, under the first library frame.
  - ``"all"``: library code is shown like user code (every Python frame, as cProfile does) --
    except what pyxray's own code calls.
  - ``"none"``: library code is transparent like excluded code (below).

- ``SKIP``: code matched by an ``exclude`` pattern. Transparent: never a node, its own time
  belongs to the nearest visible caller, and the Python functions it calls hang under that caller
  (library functions as that caller's first library calls); builtins it calls count as its own
  time. On 3.12+ its events are switched off at the source (``sys.monitoring.DISABLE``).
- ``OWN``: pyxray's own package. Like SKIP, except that library code it calls is folded too, so
  that nothing pyxray does shows (only user code it runs, such as the profiled script).
- ``GENERATED``: what the standard library generates from source strings (file ``<string>``):
  namedtuple's ``__new__`` (a ``<lambda>`` made by an ``eval``-ed ``<module>``) and the dataclass
  methods (defined in ``__create_fn__``). It takes the kind of its caller's context: library code
  when called by library code (then folded), user code otherwise. Other ``<string>`` code
  (``python -c``, ``exec`` of the user's strings) and other pseudo-files (``<stdin>``, notebook
  cells) are user code.

Patterns (``include``/``exclude``) are globs matched either against the file path or the module
name: a pattern containing ``/`` (or the OS separator) or ending in ``.py`` is a path pattern --
made absolute against the current directory unless it starts with a glob character, then matched
with :func:`fnmatch.fnmatch` (whose ``*`` also crosses ``/``); a pattern without glob characters
also matches every file under that folder. Any other pattern is a module pattern: ``pkg`` matches
the module ``pkg`` and its submodules, ``pkg.*.tests`` is matched with fnmatch. Module names come
from ``sys.modules`` (a module's ``__file__``), else from the longest ``sys.path`` entry holding the
file.

The frame table (:class:`FrameTable`) gives each distinct function one index: Python code by
``(file, firstlineno, qualname)`` -- ``co_qualname`` on 3.11+; before that a best-effort name
(:func:`qualname_for`) -- and builtins by ``(module, qualname)``.
"""

from __future__ import annotations

import os
import sys

from ._versions import HAS_QUALNAME as _HAS_QUALNAME

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is for type checkers only
    from types import CodeType, FrameType
    from typing import Any, Iterable, Sequence

#: The kinds of code (see the module docstring); SKIP and OWN are both ">= SKIP".
USER, LIBRARY, GENERATED, SKIP, OWN = 0, 1, 2, 3, 4

#: The views of library code a profiler can take (see the module docstring).
LIBRARY_VIEWS = ("first", "all", "none")

_OWN_DIR = os.path.normcase(os.path.dirname(os.path.abspath(__file__)))
_GLOB_CHARS = "*?["


_default_paths: list[str] | None = None


def default_library_paths() -> list[str]:
    """The folders whose code counts as library code: the interpreter's prefixes (which hold the
    standard library and, in a venv, its site-packages) and every site-packages folder known to
    ``sysconfig`` and ``site``. Normalised, absolute, without duplicates; computed once."""
    global _default_paths
    if _default_paths is None:
        _default_paths = _library_paths()
    return list(_default_paths)


def _library_paths() -> list[str]:
    paths = [sys.prefix, sys.exec_prefix, getattr(sys, "base_prefix", sys.prefix), getattr(sys, "base_exec_prefix", sys.exec_prefix)]
    try:
        import sysconfig

        for key in ("stdlib", "platstdlib", "purelib", "platlib"):
            value = sysconfig.get_paths().get(key)
            if value:
                paths.append(value)
    except Exception:  # a broken sysconfig only loses extra folders
        pass
    try:
        import site

        paths.extend(site.getsitepackages())
        user_site = site.getusersitepackages()
        if isinstance(user_site, str):
            paths.append(user_site)
    except Exception:  # site.getsitepackages is missing in some virtualenvs
        pass
    out: list[str] = []
    for path in paths:
        norm = _norm_dir(path)
        if norm and norm not in out:
            out.append(norm)
    return out


def _norm_dir(path: str) -> str:
    """An absolute, case-normalised folder path ending with a separator ('' for '')."""
    if not path:
        return ""
    norm = os.path.normcase(os.path.abspath(path))
    return norm if norm.endswith(os.sep) else norm + os.sep


def _is_path_pattern(pattern: str) -> bool:
    return "/" in pattern or os.sep in pattern or pattern.endswith(".py")


class _Pattern:
    """One include/exclude glob, path or module (see the module docstring)."""

    def __init__(self, text: str) -> None:
        if not isinstance(text, str) or not text:
            raise ValueError("include/exclude patterns must be non-empty strings, got {!r}".format(text))
        from fnmatch import fnmatch  # only when there are patterns: it imports re (~3 ms)

        self._fnmatch = fnmatch
        self.text = text
        self.is_path = _is_path_pattern(text)
        if self.is_path:
            pattern = text
            if pattern[0] not in _GLOB_CHARS:
                pattern = os.path.abspath(os.path.expanduser(pattern))
            self.glob = os.path.normcase(pattern)
            self.prefix = None if any(c in text for c in _GLOB_CHARS) else _norm_dir(pattern)
        else:
            self.glob = text
            self.prefix = None

    def matches(self, norm_file: str, module: str | None) -> bool:
        fnmatch = self._fnmatch
        if self.is_path:
            if self.prefix is not None and norm_file.startswith(self.prefix):
                return True
            return fnmatch(norm_file, self.glob)
        if module is None:
            return False
        return module == self.glob or module.startswith(self.glob + ".") or fnmatch(module, self.glob)


def _patterns(value: str | Iterable[str] | None) -> list[_Pattern]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    return [_Pattern(p) for p in value]


class CodeFilter:
    """Sorts files into USER / LIBRARY / SKIP (cached per file name)."""

    def __init__(
        self,
        include: str | Iterable[str] | None = None,
        exclude: str | Iterable[str] | None = None,
        library_paths: Sequence[str] | None = None,
        libraries: str = "first",
        user_files: Iterable[str] = (),
    ) -> None:
        if libraries not in LIBRARY_VIEWS:
            raise ValueError("libraries must be one of {}, got {!r}".format(", ".join(LIBRARY_VIEWS), libraries))
        self.include = _patterns(include)
        self.exclude = _patterns(exclude)
        self.libraries = libraries
        paths = default_library_paths() if library_paths is None else [_norm_dir(p) for p in library_paths]
        self.library_paths = tuple(p for p in paths if p)
        self._by_file: dict[str, int] = {}
        self._modules: dict[str, str] = {}
        self._modules_seen = -1
        self._needs_modules = any(not p.is_path for p in self.include + self.exclude)
        #: Files that are user code whatever the patterns say (the script a command line runs).
        self.user_files: set[str] = set()
        for name in user_files:
            self.add_user_file(name)

    def add_user_file(self, filename: str) -> None:
        """Makes code from this file user code whatever the patterns say."""
        self.user_files.add(filename if filename.startswith("<") else os.path.normcase(os.path.abspath(filename)))
        self._by_file.clear()

    def kind_of_code(self, code: Any) -> int:
        """The kind of a code object: by its file, and for ``<string>`` code by its name."""
        filename = code.co_filename
        if filename == "<string>" and not self.include and filename not in self.user_files:
            name = getattr(code, "co_qualname", code.co_name)
            if name in ("<lambda>", "<module>") or name.startswith("__create_fn__"):
                return GENERATED
        return self.kind_of_file(filename)

    def kind_of_file(self, filename: str) -> int:
        """USER, LIBRARY, SKIP or OWN for code from ``filename`` (a code object's co_filename)."""
        kind = self._by_file.get(filename)
        if kind is None:
            kind = self._classify(filename)
            self._by_file[filename] = kind
        return kind

    def is_library_file(self, filename: str) -> bool:
        """Whether the file is library code by location (ignoring include patterns)."""
        if filename.startswith("<frozen "):
            return True
        if filename.startswith("<"):
            return False
        norm = os.path.normcase(os.path.abspath(filename))
        if any(norm.startswith(p) for p in self.library_paths):
            return True
        parts = norm.split(os.sep)
        return "site-packages" in parts or "dist-packages" in parts

    def _classify(self, filename: str) -> int:
        norm = filename if filename.startswith("<") else os.path.normcase(os.path.abspath(filename))
        if os.path.dirname(norm) == _OWN_DIR:
            return OWN
        if norm in self.user_files:
            return USER
        module = self.module_name(filename) if self._needs_modules else None
        if any(p.matches(norm, module) for p in self.exclude):
            return SKIP
        if self.include:
            kind = USER if any(p.matches(norm, module) for p in self.include) else LIBRARY
        else:
            kind = LIBRARY if self.is_library_file(filename) else USER
        if kind == LIBRARY and self.libraries == "none":
            return SKIP
        return kind

    def builtin_kind(self) -> int:
        """The kind of builtins (C functions): library code, so SKIP in the "none" view."""
        return SKIP if self.libraries == "none" else LIBRARY

    @property
    def folds_libraries(self) -> bool:
        """Whether library code called by library code is folded (the "first" view)."""
        return self.libraries == "first"

    def module_name(self, filename: str) -> str | None:
        """The dotted module name of a file, or None when it cannot be told."""
        if filename.startswith("<frozen "):
            return filename[len("<frozen ") : -1]
        if filename.startswith("<"):
            return None
        norm = os.path.normcase(os.path.abspath(filename))
        if self._modules_seen != len(sys.modules):
            self._index_modules()
        name = self._modules.get(norm)
        if name is not None:
            return name
        best = ""
        for entry in sys.path:
            base = _norm_dir(entry or os.getcwd())
            if norm.startswith(base) and len(base) > len(best):
                best = base
        if not best:
            return None
        rel = norm[len(best) :]
        if rel.endswith(".py"):
            rel = rel[:-3]
        parts = [p for p in rel.split(os.sep) if p]
        if parts and parts[-1] == "__init__":
            parts.pop()
        return ".".join(parts) or None

    def _index_modules(self) -> None:
        self._modules_seen = len(sys.modules)
        for name, module in list(sys.modules.items()):
            path = getattr(module, "__file__", None)
            if isinstance(path, str):
                self._modules.setdefault(os.path.normcase(os.path.abspath(path)), name)


def qualname_for(code: CodeType, frame: FrameType | None = None) -> str:
    """The function's qualified name: ``co_qualname`` on 3.11+.

    Before 3.11 code objects carry only ``co_name``; when the frame is at hand and its first
    argument is ``self`` or ``cls``, the class is found by walking the MRO of that object's type
    for the class whose attribute of that name holds this very code object (so an inherited method
    is named for the class that defines it), giving ``Class.method``. Otherwise (plain and nested
    functions, or without a frame, as in a monitoring callback) the result is ``co_name``. Looking
    a function up from its code (``gc.get_referrers``) would be exact but far too slow."""
    if _HAS_QUALNAME:
        return code.co_qualname  # type: ignore[attr-defined]
    name = code.co_name
    if frame is None or code.co_argcount == 0 or name.startswith("<"):
        return name
    first = code.co_varnames[0]
    if first not in ("self", "cls"):
        return name
    try:
        obj = frame.f_locals.get(first)
    except Exception:
        return name
    if obj is None:
        return name
    owner = obj if first == "cls" and isinstance(obj, type) else type(obj)
    candidates = [name]
    if name.startswith("__") and not name.endswith("__"):
        candidates = []  # private names are mangled in the class dict: _Class__name
    for klass in getattr(owner, "__mro__", ()):
        names = candidates or ["_" + klass.__name__.lstrip("_") + name]
        for attr_name in names:
            attr = klass.__dict__.get(attr_name)
            if attr is not None and _holds_code(attr, code):
                return "{}.{}".format(klass.__qualname__, name)
    return name


def _holds_code(attr: Any, code: CodeType) -> bool:
    """Whether a class attribute is (or wraps) a function with this code object."""
    for _ in range(8):  # a few layers of staticmethod/classmethod/property/functools.wraps
        if getattr(attr, "__code__", None) is code:
            return True
        if isinstance(attr, property):
            return any(getattr(f, "__code__", None) is code for f in (attr.fget, attr.fset, attr.fdel))
        inner = getattr(attr, "__func__", None) or getattr(attr, "__wrapped__", None)
        if inner is None:
            return False
        attr = inner
    return False


class FrameTable:
    """Frame entries, one per distinct function, in first-seen order.

    ``index_code`` and ``index_builtin`` return an entry's index; entries are plain dicts in the
    profile document's shape. Code objects are deduplicated by (file, firstlineno, qualname), so a
    module compiled twice still has one entry per function."""

    def __init__(self, code_filter: CodeFilter) -> None:
        self.entries: list[dict[str, Any]] = []
        self._by_key: dict[Any, int] = {}
        self._filter = code_filter
        self._cwd = os.getcwd()

    def index_code(self, code: CodeType, frame: FrameType | None = None) -> int:
        filename = code.co_filename
        if not filename.startswith("<") and not os.path.isabs(filename):
            filename = os.path.normpath(os.path.join(self._cwd, filename))
        qualname = qualname_for(code, frame)
        key = (filename, code.co_firstlineno, qualname)
        index = self._by_key.get(key)
        if index is None:
            index = len(self.entries)
            entry: dict[str, Any] = {"file": filename, "firstlineno": code.co_firstlineno, "qualname": qualname, "kind": "python"}
            if self._filter.is_library_file(code.co_filename):
                entry["library"] = True
            self.entries.append(entry)
            self._by_key[key] = index
        return index

    def index_builtin(self, module: str | None, qualname: str) -> int:
        key = ("<built-in>", module, qualname)
        index = self._by_key.get(key)
        if index is None:
            index = len(self.entries)
            entry: dict[str, Any] = {"file": "<built-in>", "firstlineno": 0, "qualname": qualname, "kind": "builtin", "library": True}
            if module:
                entry["module"] = module
            self.entries.append(entry)
            self._by_key[key] = index
        return index
