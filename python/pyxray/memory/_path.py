"""Retention paths: why is this object still alive?

``why_alive(obj)`` searches backwards from ``obj`` with ``gc.get_referrers``, breadth first, for
the shortest chain of references from a root:

- a module global (the value of a name in a module's ``__dict__``),
- a class attribute (a name in a class's ``__dict__``),
- a frame local (a local variable of a running function in any thread; the frame that called
  ``why_alive`` and pyxray's own frames are not roots).

Each step says how the holder refers to the next object: ``.attr`` (instance attribute or
slot), ``['key']`` (dict), ``[3]`` (list/tuple), ``{…}`` (set member), ``<closure x>`` (a cell of
a closure), ``__self__`` (bound method), ``local x`` (a suspended generator's or a traceback's
frame). Only objects the garbage collector tracks are seen as holders: a dict or tuple holding only
atoms (str, int…) is untracked, so atoms are not searched for.
"""

from __future__ import annotations

import gc
import sys
from collections import deque
from types import FrameType, FunctionType, MethodType, ModuleType

from .._versions import MAPPINGS
from ._common import is_own_file, type_name

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is for type checkers only
    from typing import Any, Dict, List, Optional, Tuple

_CELL = type((lambda x: lambda: x)(0).__closure__[0])  # type: ignore[index]


def _short_repr(obj: Any, limit: int = 60) -> str:
    try:
        text = repr(obj)
    except Exception:  # a broken __repr__ must not break the search
        text = "<{} object>".format(type_name(type(obj)))
    return text if len(text) <= limit else text[: limit - 1] + "…"


class RetentionPath:
    """The shortest reference chain from a root to an object."""

    def __init__(self, root: Dict[str, Any], steps: List[Dict[str, str]]) -> None:
        #: ``{"kind": "module global" | "class attribute" | "frame local", "name", ...}`` plus
        #: ``module`` (module global), ``class`` (class attribute), ``function``/``file``/``line``
        #: (frame local).
        self.root = root
        #: From the root's value to the object: ``{"edge", "type", "repr"}``; the first step's edge
        #: is the root's name.
        self.steps = steps

    @property
    def root_text(self) -> str:
        r = self.root
        if r["kind"] == "module global":
            return "module {} global {}".format(r["module"], r["name"])
        if r["kind"] == "class attribute":
            return "class {} attribute {}".format(r["class"], r["name"])
        return "local {} of {} ({}:{})".format(r["name"], r["function"], r["file"], r["line"])

    def to_dot(self) -> str:
        """The chain as a Graphviz digraph, root on the left."""

        def q(s: str) -> str:
            return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'

        out = ["digraph why_alive {", "  rankdir=LR;", '  node [shape=box, fontname="monospace"];']
        out.append("  root [shape=ellipse, label={}];".format(q(self.root_text)))
        prev = "root"
        for i, step in enumerate(self.steps):
            out.append("  n{} [label={}];".format(i, q("{}\n{}".format(step["type"], step["repr"]))))
            out.append("  {} -> n{} [label={}];".format(prev, i, q(step["edge"])))
            prev = "n{}".format(i)
        out.append("}")
        return "\n".join(out) + "\n"

    def to_json(self) -> Dict[str, Any]:
        return {"root": self.root, "steps": self.steps, "dot": self.to_dot()}

    def __str__(self) -> str:
        lines = [self.root_text]
        for i, step in enumerate(self.steps):
            lines.append("{}{} -> {} {}".format("  " * (i + 1), step["edge"], step["type"], step["repr"]))
        return "\n".join(lines)


def _edge(holder: Any, held: Any) -> str:
    """How ``holder`` refers to ``held``, for people."""
    if isinstance(holder, MAPPINGS):
        for k, v in holder.items():
            if v is held:
                return "[{}]".format(_short_repr(k, 40))
        for k in holder:
            if k is held:
                return "<key>"
        return "[?]"
    if isinstance(holder, (list, tuple)):
        for i, v in enumerate(holder):
            if v is held:
                return "[{}]".format(i)
    if isinstance(holder, (set, frozenset)):
        return "{…}"
    if isinstance(holder, _CELL):
        return "cell_contents"
    if isinstance(holder, FunctionType):
        names = holder.__code__.co_freevars
        for name, cell in zip(names, holder.__closure__ or ()):
            if cell is held:
                return "<closure {}>".format(name)
        if holder.__closure__ is held:
            return "__closure__"
        if holder.__defaults__ is held:
            return "__defaults__"
        return "<function ref>"
    if isinstance(holder, MethodType):
        return "__self__" if holder.__self__ is held else "__func__"
    if isinstance(holder, FrameType):
        for name, value in holder.f_locals.items():
            if value is held:
                return "local {}".format(name)
        return "<frame ref>"
    for attr in ("gi_frame", "cr_frame", "ag_frame"):
        frame = getattr(holder, attr, None)
        if isinstance(frame, FrameType):
            if frame is held:
                return attr
            for name, value in frame.f_locals.items():
                if value is held:
                    return "local {}".format(name)
    attrs = getattr(holder, "__dict__", None)
    if isinstance(attrs, dict):
        if attrs is held:
            return "__dict__"
        for k, v in attrs.items():
            if v is held:
                return ".{}".format(k)
    for cls in type(holder).__mro__:
        for name in cls.__dict__.get("__slots__", ()) if not isinstance(cls.__dict__.get("__slots__"), str) else (cls.__dict__["__slots__"],):
            if getattr(holder, name, None) is held:
                return ".{}".format(name)
    return "<ref>"


def _class_of_dict(d: dict) -> Optional[type]:
    """The class whose ``__dict__`` is ``d``, if any."""
    if "__module__" not in d:
        return None
    for r in gc.get_referrers(d):
        if isinstance(r, type):
            try:
                if any(x is d for x in gc.get_referents(vars(r))):
                    return r
            except TypeError:
                pass
    return None


def _frame_roots(skip: set) -> Dict[int, Dict[str, Any]]:
    """``id(value) -> root`` for the locals of running frames in every thread."""
    roots: Dict[int, Dict[str, Any]] = {}
    for top in list(sys._current_frames().values()):
        f: Optional[FrameType] = top
        while f is not None:
            code = f.f_code
            # Module and class bodies (not CO_OPTIMIZED) hold globals: those are module roots.
            if id(f) not in skip and code.co_flags & 1 and not is_own_file(code.co_filename):
                for name, value in list(f.f_locals.items()):
                    roots.setdefault(id(value), {"kind": "frame local", "name": name, "function": code.co_name, "file": code.co_filename, "line": f.f_lineno})
            f = f.f_back
    return roots


def why_alive(obj: Any, *, max_depth: int = 30, max_objects: int = 200_000) -> Optional[RetentionPath]:
    """The shortest chain of references from a root to ``obj`` (see the module's doc), or None
    when there is none within ``max_depth`` references (or ``max_objects`` holders searched)."""
    gc.collect()
    caller = sys._getframe(1)
    own_frames = set()
    f: Optional[FrameType] = sys._getframe(0)
    while f is not None:
        if is_own_file(f.f_code.co_filename) or f is caller:
            own_frames.add(id(f))
        f = f.f_back
    del f
    frame_roots = _frame_roots(own_frames)
    module_dicts = {id(vars(m)): name for name, m in list(sys.modules.items()) if isinstance(m, ModuleType)}
    del caller

    # parent[id(x)] = id of what x refers to on the way to obj; objects keeps every visited object alive.
    parent: Dict[int, Optional[int]] = {id(obj): None}
    objects: Dict[int, Any] = {id(obj): obj}
    depth = {id(obj): 0}
    queue = deque([obj])
    ignore = {id(parent), id(objects), id(depth), id(queue), id(frame_roots), id(module_dicts), id(own_frames)}

    def chain(start: Any, edge: str) -> List[Dict[str, str]]:
        steps = []
        x: Optional[Any] = start
        while x is not None:
            steps.append({"edge": edge, "type": type_name(type(x)), "repr": _short_repr(x)})
            nxt = parent[id(x)]
            if nxt is None:
                break
            edge = _edge(x, objects[nxt])
            x = objects[nxt]
        return _collapse_dicts(steps, start)

    while queue:
        x = queue.popleft()
        d = depth[id(x)]
        root = frame_roots.get(id(x))
        if root is not None:
            return RetentionPath(root, chain(x, "local {}".format(root["name"])))
        if d >= max_depth or len(objects) > max_objects:
            continue
        referrers = gc.get_referrers(x)
        ignore.add(id(referrers))
        for r in referrers:
            i = id(r)
            if i in ignore or i in parent:
                continue
            if isinstance(r, FrameType) and i in own_frames:
                continue
            if i in module_dicts:
                name = _edge(r, x)[1:-1].strip("'\"")
                return RetentionPath({"kind": "module global", "module": module_dicts[i], "name": name}, chain(x, name))
            if isinstance(r, dict):
                cls = _class_of_dict(r)
                if cls is not None:
                    name = _edge(r, x)[1:-1].strip("'\"")
                    return RetentionPath({"kind": "class attribute", "class": type_name(cls), "name": name}, chain(x, name))
            if isinstance(r, (type, ModuleType)):
                continue
            parent[i] = id(x)
            objects[i] = r
            depth[i] = d + 1
            queue.append(r)
        ignore.discard(id(referrers))
        del referrers
    return None


def _collapse_dicts(steps: List[Dict[str, str]], start: Any) -> List[Dict[str, str]]:
    """Merges ``instance -__dict__-> dict -['k']-> value`` into ``instance -.k-> value``."""
    out: List[Dict[str, str]] = []
    i = 0
    while i < len(steps):
        s = steps[i]
        if s["edge"] == "__dict__" and s["type"] == "dict" and i + 1 < len(steps):
            nxt = dict(steps[i + 1])
            e = nxt["edge"]
            if e.startswith("['") and e.endswith("']"):
                nxt["edge"] = "." + e[2:-2]
            out.append(nxt)
            i += 2
            continue
        out.append(s)
        i += 1
    return out
