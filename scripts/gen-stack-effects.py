"""Print this interpreter's net stack effects as formulas of the oparg, as one JSON document.

Runs under CPython 3.8-3.14 (also inside Pyodide); stdlib only.

For every real opcode of this interpreter (``opcode.opmap`` entries below 256; specialized and
pseudo instructions excluded) the script asks ``dis.stack_effect(op, oparg, jump=...)`` for
jump=False ("next": the instruction falls through) and jump=True ("jump": it branches), over
SAMPLE_OPARGS, and fits a small formula of the oparg to the answers:

    effect(oparg) = base + sum over bits k of weight[k] * ((oparg >> k) & 1)
                         + sum over a few small values v of case[v] * (oparg == v)

Runs of bits whose weights double (weight[k+1] == 2 * weight[k]) are written as one field,
so ``1 - 2 * oparg``, ``(oparg & 0xff) + (oparg >> 8)`` and ``-1 - (oparg & 0x1) - ...`` come
out as one would write them by hand. The formula is rendered as a string in the subset of
expression syntax that C, Python and pyxray's evaluator (src/bytecode/stack/expr.ts) read
alike: integers, ``oparg``, ``+ - *`` and fully parenthesized ``& >> ==``. The script
``eval``s each rendered string at every sampled oparg and exits with an error unless it
reproduces ``dis.stack_effect`` exactly.

Usage:  python3 gen-stack-effects.py            the fitted formulas (for gen-stack-effects.mjs)
        python3 gen-stack-effects.py samples    the raw stack_effect answers (for the tests)
"""

from __future__ import annotations

import dis
import json
import opcode
import platform
import sys
from typing import Dict, List, Optional, Tuple

#: Oparg bits the formulas are fitted and verified on (EXTENDED_ARG x2 + the oparg byte).
BITS = 24


def _sample_opargs() -> List[int]:
    """0..1023, every power of two below 2**BITS with its neighbours, and a fixed pseudo-random
    spread (a linear congruential sequence, so every interpreter samples the same values)."""
    values = set(range(1024))
    for k in range(10, BITS):
        values.update((2 ** k - 1, 2 ** k, 2 ** k + 1))
    x = 12345
    for _ in range(256):
        x = (x * 1103515245 + 12345) % 2 ** 31
        values.add(x % 2 ** BITS)
    return sorted(v for v in values if v < 2 ** BITS)


SAMPLE_OPARGS = _sample_opargs()

#: How many `oparg == v` cases a formula may have, and how large v may be.
MAX_CASES = 4
MAX_CASE_VALUE = 15


def _takes_arg(op: int) -> bool:
    if hasattr(opcode, "hasarg"):  # 3.12+
        return op in opcode.hasarg
    return op >= opcode.HAVE_ARGUMENT


def _real_opcodes() -> List[Tuple[str, int]]:
    """(name, opcode) of every opcode that can occur in co_code, by number."""
    return sorted(((name, op) for name, op in opcode.opmap.items() if op < 256), key=lambda item: item[1])


def _effect(op: int, arg: Optional[int], jump: bool) -> Optional[int]:
    """dis.stack_effect, or None when the interpreter refuses the opcode/oparg (ValueError)."""
    try:
        if arg is None:
            return dis.stack_effect(op, jump=jump)
        return dis.stack_effect(op, arg, jump=jump)
    except ValueError:
        return None


def _samples(op: int, jump: bool) -> Dict[int, Optional[int]]:
    """stack_effect at every sampled oparg (key 0 only for opcodes without an argument)."""
    if not _takes_arg(op):
        return {0: _effect(op, None, jump)}
    return {arg: _effect(op, arg, jump) for arg in SAMPLE_OPARGS}


def _field(shift: int, width: Optional[int]) -> str:
    """`(oparg >> shift) & mask`, as plainly as possible; width None = all remaining bits."""
    shifted = "oparg" if shift == 0 else "(oparg >> %d)" % shift
    if width is None:
        return shifted
    return "(%s & %s)" % (shifted, hex(2 ** width - 1))


def _render(base: int, weights: List[int], cases: Dict[int, int]) -> str:
    terms: List[Tuple[int, str]] = []
    k = 0
    while k < BITS:
        c = weights[k]
        if c == 0:
            k += 1
            continue
        start = k
        while k + 1 < BITS and weights[k + 1] == c * 2 ** (k + 1 - start):
            k += 1
        k += 1
        terms.append((c, _field(start, None if k == BITS else k - start)))
    for value, c in sorted(cases.items()):
        terms.append((c, "(oparg == %d)" % value))
    text = str(base) if base != 0 or not terms else ""
    for c, field in terms:
        magnitude = "" if abs(c) == 1 else "%d * " % abs(c)
        if not text:
            text = ("-" if c < 0 else "") + magnitude + field
        else:
            text += (" - " if c < 0 else " + ") + magnitude + field
    return text


def fit(samples: Dict[int, Optional[int]]) -> Optional[str]:
    """The formula reproducing `samples` (oparg -> effect), None if every answer was None."""
    known = {arg: e for arg, e in samples.items() if e is not None}
    if not known:
        return None
    if len(known) != len(samples):
        bad = sorted(arg for arg, e in samples.items() if e is None)[:5]
        raise SystemExit("stack_effect refuses only some opargs (%r ...); no formula for that" % bad)
    base = known[0]
    if len(known) == 1:
        return str(base)
    weights = [known[2 ** k] - base for k in range(BITS)]

    def additive(arg: int) -> int:
        return base + sum(w for k, w in enumerate(weights) if arg >> k & 1)

    cases = {arg: e - additive(arg) for arg, e in known.items() if e != additive(arg)}
    if len(cases) > MAX_CASES or any(arg > MAX_CASE_VALUE for arg in cases):
        raise SystemExit("no formula fits: %d opargs off the additive model, e.g. %r" % (len(cases), sorted(cases)[:5]))
    formula = _render(base, weights, cases)
    for arg, e in known.items():
        got = eval(formula, {"__builtins__": {}}, {"oparg": arg})  # noqa: S307 - our own rendering
        if got != e:
            raise SystemExit("formula %r gives %r at oparg %d, stack_effect %r" % (formula, got, arg, e))
    return formula


def collect() -> Dict[str, object]:
    effects: Dict[str, object] = {}
    for name, op in _real_opcodes():
        entry: Dict[str, object] = {"opcode": op, "hasArg": _takes_arg(op)}
        try:
            entry["next"] = fit(_samples(op, False))
            entry["jump"] = fit(_samples(op, True))
        except SystemExit as e:
            raise SystemExit("%s (%d) on %s: %s" % (name, op, platform.python_version(), e)) from None
        effects[name] = entry
    return {
        "version": platform.python_version(),
        "minor": sys.version_info[1],
        "bits": BITS,
        "effects": effects,
    }


def raw_samples() -> Dict[str, object]:
    """The raw answers, for checking the committed formulas: per opcode, the sampled opargs
    and the jump=False / jump=True effects at each (null where stack_effect refused)."""
    out: Dict[str, object] = {}
    for name, op in _real_opcodes():
        args = SAMPLE_OPARGS if _takes_arg(op) else [None]
        out[name] = [[a, _effect(op, a, False), _effect(op, a, True)] for a in args]
    return {"version": platform.python_version(), "minor": sys.version_info[1], "samples": out}


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "fit"
    print(json.dumps(raw_samples() if mode == "samples" else collect()))
