"""Instruction-level samples: what the instruction at a sampled offset is, and its source line.

Sample mode keeps, per call node, the instruction offsets its frame was at in the samples where it
was the innermost visible frame (``offsets``: [offset, samples] pairs, offsets in bytes from
the start of ``co_code`` as :mod:`dis` numbers them, on every version; ``frame.f_lasti`` is in bytes
at the Python level on 3.8-3.15). The document's frame entry then describes each sampled offset
once (``instructions`` of the frame): opname and argrepr as :func:`dis.get_instructions` gives
them, the source span (3.11+: the location table's line, end line and UTF-8 byte columns; before:
the line from the line-number table) and, on a specialising interpreter (3.11+), the specialised
form the instruction had when the document was written. The agent describes them itself, from the
running interpreter's own code objects, so that a report needs neither the source file nor an
interpreter of the same version, and sees the specialisation only the running process knows.

Where samples land: a thread is sampled from another thread, which runs only when the sampled one
lets go of the GIL, and that happens at the interpreter's "eval breaker" checks. Up to 3.9 those
follow almost every instruction, so the sampled offset is the instruction that was running; from
3.10 they are only at calls, backward jumps and function starts, so ``f_lasti`` would charge time
spent in other instructions (a BINARY_OP on big ints) to the next such instruction of the frame.
There the C engine's signal sampler (``_accel_sigprof.c``, Linux; see
:mod:`pyxray._profile_sample`) notes the instruction a running thread is in at SIGPROF on its own
CPU clock, and the sampler uses that (``metadata.instructionSampler: "signal"``); without it
(PYXRAY_ACCEL=0, no compiler, not Linux, SIGPROF taken by the program) the bias stays and
``metadata.instructionSamplerReason`` says why. The out-of-process sampler (3.15: the unwinder's
``opcodes`` location) has no such bias; 3.14's unwinder gives lines only (its FrameInfo is
filename, lineno, funcname: no instruction, and no ``opcodes`` option).
"""

from __future__ import annotations

import bisect
import dis
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is for type checkers only
    from types import CodeType
    from typing import Any, Iterable

#: f_lasti is biased toward the eval breaker's checks (see the module docstring): the signal sampler helps.
SAFEPOINT_BIASED = sys.version_info >= (3, 10)


def _line_starts(code: CodeType) -> tuple[list[int], list[int]]:
    pairs = sorted((offset, line) for offset, line in dis.findlinestarts(code) if line is not None)
    return [p[0] for p in pairs], [p[1] for p in pairs]


def describe(code: CodeType, offsets: Iterable[int]) -> list[dict[str, Any]]:
    """The frame entry's ``instructions``: one dict per sampled offset that starts an
    instruction of ``code``, in offset order (see the module docstring)."""
    wanted = set(offsets)
    if not wanted:
        return []
    base = {i.offset: i for i in dis.get_instructions(code) if i.offset in wanted}
    adaptive: dict[int, str] = {}
    if sys.version_info >= (3, 11):
        try:
            adaptive = {i.offset: i.opname for i in dis.get_instructions(code, adaptive=True) if i.offset in wanted}  # type: ignore[call-arg]
        except Exception:  # pragma: no cover - a code object dis cannot read adaptively
            adaptive = {}
        starts: tuple[list[int], list[int]] = ([], [])
    else:
        starts = _line_starts(code)
    out = []
    for offset in sorted(wanted):
        ins = base.get(offset)
        if ins is None:  # not the start of an instruction (cannot happen for f_lasti; kept safe)
            continue
        entry: dict[str, Any] = {"offset": offset, "opname": ins.opname, "argrepr": ins.argrepr}
        positions = getattr(ins, "positions", None)
        if positions is not None:
            if positions.lineno is not None and positions.lineno > 0:
                entry["line"] = positions.lineno
                if positions.end_lineno is not None and positions.end_lineno >= positions.lineno:
                    entry["endLine"] = positions.end_lineno
                if positions.col_offset is not None and positions.end_col_offset is not None:
                    entry["col"] = positions.col_offset
                    entry["endCol"] = positions.end_col_offset
        else:
            at = bisect.bisect_right(starts[0], offset) - 1
            if at >= 0 and starts[1][at] > 0:
                entry["line"] = starts[1][at]
        specialised = adaptive.get(offset)
        # 3.11 names an instruction still waiting to specialise FOO_ADAPTIVE: not a specialisation
        if specialised and specialised != ins.opname and not specialised.endswith("_ADAPTIVE"):
            entry["specialized"] = specialised
        out.append(entry)
    return out


class Sites:
    """Collects, while the document's trees are written, each frame's sampled offsets and the
    document nodes that carry them; :meth:`finish` then describes the offsets in the frame entries
    and gives every such node its ``lines``."""

    def __init__(self) -> None:
        #: frame index -> [code, offsets, document nodes]
        self.frames: dict[int, list[Any]] = {}

    def add(self, frame: int, code: Any, counts: dict[int, int], out: dict[str, Any]) -> None:
        out["offsets"] = [[offset, n] for offset, n in sorted(counts.items()) if offset >= 0 and n > 0]
        entry = self.frames.get(frame)
        if entry is None:
            entry = self.frames[frame] = [code, set(), []]
        entry[1].update(counts)
        entry[2].append(out)

    def finish(self, entries: list[dict[str, Any]]) -> None:
        for frame, (code, offsets, nodes) in self.frames.items():
            if not hasattr(code, "co_code"):
                continue
            info = describe(code, offsets)
            entries[frame]["instructions"] = info
            line_of = {e["offset"]: e["line"] for e in info if "line" in e}
            for out in nodes:
                lines: dict[int, int] = {}
                for offset, n in out["offsets"]:
                    line = line_of.get(offset)
                    if line is not None:
                        lines[line] = lines.get(line, 0) + n
                if lines:
                    out["lines"] = [[line, n] for line, n in sorted(lines.items())]


# -- instructions named by a source span and an opcode (3.15's unwinder, Tachyon's files) --


def base_opnames() -> dict[str, str]:
    """Specialised opname -> the opname dis shows (3.13+: _opcode_metadata; 3.11/3.12: opcode)."""
    try:
        from _opcode_metadata import _specializations  # type: ignore[import-not-found]
    except ImportError:
        import opcode

        _specializations = getattr(opcode, "_specializations", {})
    return {name: base for base, names in _specializations.items() for name in names}


def span_table(code: CodeType) -> dict[tuple[Any, ...], list[Any]]:
    """(line, end line, column, end column) -> the instructions of ``code`` with that span."""
    table: dict[tuple[Any, ...], list[Any]] = {}
    for ins in dis.get_instructions(code):
        pos = getattr(ins, "positions", None)
        if pos is not None and pos.lineno is not None:
            table.setdefault((pos.lineno, pos.end_lineno, pos.col_offset, pos.end_col_offset), []).append(ins)
    return table


def match_site(table: dict[tuple[Any, ...], list[Any]], span: tuple[Any, ...], name: str, bases: dict[str, str]) -> Any:
    """The instruction with source ``span`` whose opname is ``name`` (a specialised name: its
    base form), else the only one with that span; None when none fits."""
    candidates = table.get(span)
    if not candidates:
        return None
    base = bases.get(name, name)
    for ins in candidates:
        if ins.opname == base:
            return ins
    for ins in candidates:
        if name.startswith(ins.opname):
            return ins
    return candidates[0] if len(candidates) == 1 else None


def code_objects(source: bytes, filename: str) -> list[Any]:
    """Every code object of a module's source compiled here (empty when it does not compile)."""
    try:
        todo = [compile(source, filename, "exec", dont_inherit=True)]
    except (SyntaxError, ValueError):
        return []
    out = []
    while todo:
        code = todo.pop()
        out.append(code)
        todo.extend(c for c in code.co_consts if hasattr(c, "co_code"))
    return out


def find_code(codes: list[Any], qualname: str, firstlineno: int = 0) -> Any:
    """The code object named ``qualname`` (co_qualname on 3.11+), by first line when several."""
    found = [c for c in codes if getattr(c, "co_qualname", c.co_name) == qualname]
    if len(found) > 1 and firstlineno:
        found = [c for c in found if c.co_firstlineno == firstlineno] or found
    return found[0] if found else None


def resolve_requests(requests: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
    """``pyxray import``: for each {file, qualname, line, endLine, col, endCol, opcode} (a Tachyon
    frame recorded with --opcodes), the frame entry's instruction (:func:`describe`, with
    ``specialized`` from the opcode) of the source file compiled by this interpreter -- which must
    be the profiled one's version -- or None when the file, function or span is not found."""
    names = getattr(dis, "_all_opname", dis.opname)
    bases = base_opnames()
    files: dict[str, list[Any]] = {}
    tables: dict[int, Any] = {}
    out: list[dict[str, Any] | None] = []
    for req in requests:
        filename = req["file"]
        codes = files.get(filename)
        if codes is None:
            try:
                with open(filename, "rb") as f:
                    codes = code_objects(f.read(), filename)
            except OSError:
                codes = []
            files[filename] = codes
        code = find_code(codes, req["qualname"])
        opcode = req["opcode"]
        name = names[opcode] if 0 <= opcode < len(names) else ""
        if code is None or not name:
            out.append(None)
            continue
        table = tables.get(id(code))
        if table is None:
            table = tables[id(code)] = (code, span_table(code))
        ins = match_site(table[1], (req["line"], req["endLine"], req["col"], req["endCol"]), name, bases)
        if ins is None:
            out.append(None)
            continue
        entry = describe(code, [ins.offset])[0]
        entry.pop("specialized", None)
        if name != ins.opname:
            entry["specialized"] = name
        out.append(entry)
    return out
