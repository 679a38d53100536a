"""Type growth: how many objects of each type the garbage collector tracks, between two points.

``type_growth()`` counts the objects ``gc.get_objects()`` returns (after ``gc.collect()``) by
type and reports the types with more objects than at the previous call (the first call compares
with nothing). ``since=`` compares with counts taken by ``type_counts()`` instead, without moving
the baseline. Atoms (str, int…) and containers holding only atoms are not tracked by the
collector and so are not counted.
"""

from __future__ import annotations

import gc

from ._common import type_name

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is for type checkers only
    from typing import Any, Dict, List, Optional

_previous: Dict[str, int] = {}


def type_counts(collect: bool = True) -> Dict[str, int]:
    """Objects tracked by the collector, by type (``module.qualname``, builtins bare)."""
    if collect:
        gc.collect()
    counts: Dict[str, int] = {}
    names: Dict[type, str] = {}
    for o in gc.get_objects():
        t = type(o)
        name = names.get(t)
        if name is None:
            name = names[t] = type_name(t)
        counts[name] = counts.get(name, 0) + 1
    return counts


class GrowthReport:
    """Types with more objects than at the baseline, most growth first."""

    def __init__(self, rows: List[Dict[str, Any]], counts: Dict[str, int]) -> None:
        #: ``[{"type", "name", "count", "delta"}]``: ``name`` is the short ``__name__``.
        self.rows = rows
        #: Every count at this point (a baseline for ``since=``).
        self.counts = counts

    def delta(self, type_: str) -> int:
        """The growth of one type (by ``module.qualname`` or short name), 0 if it did not grow."""
        return sum(r["delta"] for r in self.rows if type_ in (r["type"], r["name"]))

    def to_json(self) -> Dict[str, Any]:
        return {"rows": self.rows, "totalDelta": sum(r["delta"] for r in self.rows)}

    def __str__(self) -> str:
        return "\n".join("{:<40} {:>9} {:>+9}".format(r["type"], r["count"], r["delta"]) for r in self.rows) or "no type grew"


def type_growth(since: Optional[Dict[str, int]] = None, *, limit: int = 20, collect: bool = True) -> GrowthReport:
    """The types that grew since ``since`` (or since the previous call), at most ``limit``."""
    global _previous
    now = type_counts(collect)
    before = _previous if since is None else since
    rows = [
        {"type": name, "name": name.rsplit(".", 1)[-1], "count": n, "delta": n - before.get(name, 0)}
        for name, n in now.items()
        if n > before.get(name, 0)
    ]
    rows.sort(key=lambda r: (-r["delta"], r["type"]))
    if since is None:
        _previous = now
    return GrowthReport(rows[:limit] if limit > 0 else rows, now)
