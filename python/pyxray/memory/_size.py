"""Deep size: the bytes of an object and of everything it owns, each object counted once.

``deep_size(obj)`` walks what ``obj`` refers to and sums ``sys.getsizeof`` over every object it
reaches, once per object (shared references and cycles count once):

- containers (dict and frozendict keys and values, list/tuple/set/frozenset/deque items), bytes,
  str and numbers;
- instances: their ``__dict__`` (the dict itself and its keys and values) and their ``__slots__``
  values, over the whole MRO; subclasses of containers add their items;
- functions: closure cells and their contents, defaults, keyword defaults and a non-empty
  ``__dict__`` (not the globals or the code, which the function shares); bound methods: the
  function and ``__self__``;
- other objects: what ``gc.get_referents`` gives.

Never counted nor followed (they are shared, not owned): classes, modules (except ``obj``
itself), code objects, and the singletons None, True, False, Ellipsis and NotImplemented.
Reading ``__dict__`` on CPython 3.11+ may materialise an instance's dict; it is counted as what
the instance holds from then on.
"""

from __future__ import annotations

import gc
import sys
from collections import deque
from types import BuiltinFunctionType, CodeType, FrameType, FunctionType, MethodType, ModuleType

from .._versions import MAPPINGS
from ._common import format_bytes, type_name

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is for type checkers only
    from typing import Any, Dict, Iterable, List

#: Objects shared by the whole interpreter: never counted.
_SINGLETONS = frozenset(id(o) for o in (None, True, False, Ellipsis, NotImplemented))
#: Kinds of objects that are shared rather than owned: neither counted nor followed.
_SHARED = (type, ModuleType, CodeType, FrameType, BuiltinFunctionType)
#: Leaves: their getsizeof includes their whole payload.
_LEAVES = (str, bytes, bytearray, int, float, complex, range)
_CONTAINERS = (list, tuple, set, frozenset, deque)
_CELL = type((lambda x: lambda: x)(0).__closure__[0])  # type: ignore[index]


class SizeReport:
    """The deep and shallow size of an object, with a breakdown by type."""

    def __init__(self, obj: Any, total: int, objects: int, by_type: Dict[str, List[int]], skipped: Dict[str, int]) -> None:
        #: Type of the measured object (``module.qualname``, builtins bare).
        self.type = type_name(type(obj))
        #: Bytes of the object and everything it owns (see the module's doc).
        self.total_bytes = total
        #: ``sys.getsizeof(obj)``.
        self.shallow_bytes = sys.getsizeof(obj, 0)
        #: How many objects were counted.
        self.objects = objects
        #: ``{type: [count, bytes]}``.
        self.by_type = by_type
        #: References not followed, by type (classes, modules, code…).
        self.skipped = skipped

    def to_json(self) -> Dict[str, Any]:
        """The ``size`` member of a memory document (schema/memory.schema.json)."""
        rows = sorted(self.by_type.items(), key=lambda kv: (-kv[1][1], kv[0]))
        return {
            "type": self.type,
            "totalBytes": self.total_bytes,
            "shallowBytes": self.shallow_bytes,
            "objects": self.objects,
            "byType": [{"type": t, "count": c, "bytes": b} for t, (c, b) in rows],
            "skipped": [{"type": t, "count": c} for t, c in sorted(self.skipped.items())],
        }

    def __str__(self) -> str:
        lines = ["{}: deep {} ({} objects), shallow {}".format(self.type, format_bytes(self.total_bytes), self.objects, format_bytes(self.shallow_bytes))]
        for row in self.to_json()["byType"]:
            lines.append("  {:>12}  {:>7}  {}".format(format_bytes(row["bytes"]), row["count"], row["type"]))
        return "\n".join(lines)


def _slot_values(obj: Any) -> Iterable[Any]:
    """The values of ``obj``'s ``__slots__`` over its MRO (missing ones skipped)."""
    for cls in type(obj).__mro__:
        slots = cls.__dict__.get("__slots__", ())
        if isinstance(slots, str):
            slots = (slots,)
        for name in slots:
            if name in ("__dict__", "__weakref__"):
                continue
            if name.startswith("__") and not name.endswith("__"):
                name = "_{}{}".format(cls.__name__.lstrip("_"), name)  # private names are mangled
            try:
                yield getattr(obj, name)
            except AttributeError:
                pass


def _children(obj: Any, root: bool) -> Iterable[Any]:
    """What ``obj`` owns, per the rules in the module's doc."""
    t = type(obj)
    if t in _LEAVES:
        return ()
    if t in MAPPINGS:  # dict, and 3.15's frozendict
        return [x for kv in obj.items() for x in kv]
    if t in _CONTAINERS:
        return list(obj)
    if t is FunctionType:
        out = [c for c in obj.__closure__ or ()]
        out.extend(x for x in (obj.__defaults__, obj.__kwdefaults__) if x)
        if obj.__dict__:
            out.append(obj.__dict__)
        return out
    if t is MethodType:
        return [obj.__func__, obj.__self__]
    if t is _CELL:
        try:
            return [obj.cell_contents]
        except ValueError:  # an empty cell
            return ()
    if isinstance(obj, ModuleType):
        return [vars(obj)] if root else ()
    out = []
    if isinstance(obj, MAPPINGS):
        out.extend(x for kv in obj.items() for x in kv)
    elif isinstance(obj, _CONTAINERS):
        out.extend(obj)
    attrs = getattr(obj, "__dict__", None) if not isinstance(obj, type) else None
    has_slots = any("__slots__" in c.__dict__ for c in t.__mro__[:-1])
    if isinstance(attrs, dict):
        out.append(attrs)
    if has_slots:
        out.extend(_slot_values(obj))
    if not out and not isinstance(attrs, dict) and not has_slots and not isinstance(obj, _LEAVES):
        out.extend(gc.get_referents(obj))
    return out


def deep_size(obj: Any) -> SizeReport:
    """The deep size of ``obj``: see the module's doc for what is counted."""
    seen = {id(obj)}
    todo = [(obj, True)]
    total = 0
    by_type: Dict[str, List[int]] = {}
    skipped: Dict[str, int] = {}
    # Objects are kept in `keep` so that an id cannot be reused while walking (a materialised
    # __dict__ or a temporary list could otherwise free and reuse one).
    keep = [obj]
    while todo:
        o, root = todo.pop()
        # Children first: reading __dict__ may materialise it, which getsizeof(o) then reflects.
        children = _children(o, root)
        size = sys.getsizeof(o, 0)
        total += size
        row = by_type.setdefault(type_name(type(o)), [0, 0])
        row[0] += 1
        row[1] += size
        for child in children:
            i = id(child)
            if i in seen or i in _SINGLETONS:
                continue
            if isinstance(child, _SHARED):
                name = type_name(type(child))
                skipped[name] = skipped.get(name, 0) + 1
                seen.add(i)
                continue
            seen.add(i)
            keep.append(child)
            todo.append((child, False))
    return SizeReport(obj, total, sum(r[0] for r in by_type.values()), by_type, skipped)
