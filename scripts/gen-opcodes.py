"""Print this interpreter's opcode and dis data as one JSON document.

Runs under every supported CPython (also inside Pyodide). The document has exactly the
shape of pyxray's OpcodeTable (src/bytecode/opcodes/types.ts);
scripts/gen-opcodes.mjs turns it into src/bytecode/opcodes/v3_X.ts and
test/opcodes.test.ts compares it with the committed tables.
Stdlib only. Everything is read from the running interpreter's modules.
"""

from __future__ import annotations

import dis
import importlib.util
import json
import opcode
import platform
import sys
from typing import Any, Dict, List


def _sorted_ops(name: str) -> List[int]:
    """The opcode.<name> list as a sorted, duplicate-free list ([] if absent)."""
    return sorted(set(getattr(opcode, name, [])))


def _specialized_opmap() -> Dict[str, int]:
    """Numbers of the specialized (adaptive) instructions."""
    if hasattr(opcode, "_specialized_opmap"):  # 3.13+: numbered by the build
        return dict(opcode._specialized_opmap)
    # 3.11 and 3.12 number them by filling the unused opcode slots, in order,
    # with opcode._specialized_instructions (dis builds _all_opmap this way).
    names = getattr(opcode, "_specialized_instructions", [])
    free = [op for op, name in enumerate(opcode.opname) if name.startswith("<")]
    return dict(zip(names, free))


def _cache_entries() -> Dict[str, int]:
    """Inline cache size (16-bit code units) by base instruction name."""
    entries: Any = getattr(opcode, "_inline_cache_entries", {})
    if hasattr(entries, "items"):  # 3.13+: by name (a dict; a frozendict in 3.15)
        return {name: n for name, n in entries.items() if n}
    # 3.11, 3.12: a list indexed by opcode
    return {opcode.opname[op]: n for op, n in enumerate(entries) if n}


def _common_constant_repr(obj: object) -> str:
    """How dis shows a LOAD_COMMON_CONSTANT operand (3.14+)."""
    return obj.__name__ if isinstance(obj, type) else repr(obj)


def collect() -> Dict[str, Any]:
    """Everything a dis-identical disassembler needs for this interpreter."""
    opmap = dict(sorted(opcode.opmap.items(), key=lambda item: item[1]))
    assert len(set(opmap.values())) == len(opmap), "two opcode names share a number"
    specializations = {
        base: list(family)
        for base, family in getattr(opcode, "_specializations", {}).items()
    }
    specialized = _specialized_opmap()
    # Cross-check with the table dis itself uses (3.11+).
    all_opmap = getattr(dis, "_all_opmap", None)
    if all_opmap is not None:
        extra = {name: op for name, op in all_opmap.items() if name not in opcode.opmap}
        assert extra == specialized, "specialized opcode numbers differ from dis._all_opmap"

    table: Dict[str, Any] = {
        "version": platform.python_version(),
        "minor": sys.version_info[1],
        "magic": int.from_bytes(importlib.util.MAGIC_NUMBER[:2], "little"),
        "opnames": {str(op): name for name, op in opmap.items()},
        "opmap": opmap,
        "haveArgument": opcode.HAVE_ARGUMENT,
        "extendedArg": opcode.EXTENDED_ARG,
        "hasArg": _sorted_ops("hasarg") if hasattr(opcode, "hasarg") else None,
        "hasConst": _sorted_ops("hasconst"),
        "hasName": _sorted_ops("hasname"),
        "hasJrel": _sorted_ops("hasjrel"),
        "hasJabs": _sorted_ops("hasjabs"),
        "hasJump": _sorted_ops("hasjump") if hasattr(opcode, "hasjump") else None,
        "hasLocal": _sorted_ops("haslocal"),
        "hasCompare": _sorted_ops("hascompare"),
        "hasFree": _sorted_ops("hasfree"),
        "hasNargs": _sorted_ops("hasnargs"),
        "hasExc": _sorted_ops("hasexc"),
        "minInstrumentedOpcode": getattr(opcode, "MIN_INSTRUMENTED_OPCODE", None),
        "cacheEntries": _cache_entries(),
        "cacheFormat": {
            name: [[field, size] for field, size in fields.items()]
            for name, fields in getattr(opcode, "_cache_format", {}).items()
        },
        "specializations": specializations,
        "specializedOpmap": specialized,
        "deopt": {name: base for base, family in specializations.items() for name in family},
        "nbOps": [[name, symbol] for name, symbol in getattr(opcode, "_nb_ops", [])],
        "cmpOp": list(opcode.cmp_op),
        "intrinsic1": list(getattr(opcode, "_intrinsic_1_descs", [])),
        "intrinsic2": list(getattr(opcode, "_intrinsic_2_descs", [])),
        "makeFunctionFlags": list(getattr(dis, "MAKE_FUNCTION_FLAGS", [])),
        "functionAttrFlags": list(getattr(dis, "FUNCTION_ATTR_FLAGS", [])),
        "formatValueConverters": [name for _, name in getattr(dis, "FORMAT_VALUE_CONVERTERS", [])],
        "commonConstants": [_common_constant_repr(c) for c in getattr(opcode, "_common_constants", [])],
        "specialMethodNames": list(getattr(opcode, "_special_method_names", [])),
        "compilerFlagNames": {str(flag): name for flag, name in sorted(dis.COMPILER_FLAG_NAMES.items())},
    }
    # The optional fields are left out where this version does not have them (see types.ts).
    return {name: value for name, value in table.items() if value is not None}


if __name__ == "__main__":
    print(json.dumps(collect()))
