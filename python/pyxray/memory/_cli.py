"""``python -m pyxray.memory COMMAND …``: the memory tools on a script, writing one memory
document (JSON, schema/memory.schema.json) to ``-o FILE`` or stdout.

::

    leaks  SCRIPT [--call EXPR] [--iterations N] [--warmup N] [--top N] [--frames N] [--min-growth B]
    size   EXPR [--setup CODE] [--script SCRIPT]
    path   --type NAME SCRIPT [--call EXPR] [--max N] [--max-depth N]
    lines  SCRIPT:FUNC --call EXPR
    growth SCRIPT [--call EXPR] [--iterations N] [--limit N]

The script runs as ``__main__`` (its folder first on sys.path, ``sys.argv = [SCRIPT]``); ``--call``
is then evaluated in its globals. Bad input (missing script, an expression that does not compile
or raises, an unknown type or function) gives a document of kind ``error`` with a code and
message, and exit status 2; the script's own output goes where the process's goes.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import traceback
import types

from ._common import MemoryToolError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is for type checkers only
    from typing import Any, Callable, Dict, List, Optional

#: Version of the memory document format.
DOCUMENT_VERSION = 1


class _ArgError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _ArgError(message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m pyxray.memory", description="pyxray memory tools")
    p.add_argument("-o", "--output", metavar="FILE", help="write the document here (default: stdout)")
    sub = p.add_subparsers(dest="command")
    sub.required = True
    leaks = sub.add_parser("leaks")
    leaks.add_argument("script")
    leaks.add_argument("--call", help="expression run each iteration (default: the whole script again)")
    leaks.add_argument("--iterations", type=int, default=20)
    leaks.add_argument("--warmup", type=int, default=3)
    leaks.add_argument("--top", type=int, default=10)
    leaks.add_argument("--frames", type=int, default=10)
    leaks.add_argument("--min-growth", type=int, default=128)
    size = sub.add_parser("size")
    size.add_argument("expression")
    size.add_argument("--setup", default="")
    size.add_argument("--script")
    path = sub.add_parser("path")
    path.add_argument("script")
    path.add_argument("--type", required=True, dest="type_name")
    path.add_argument("--call")
    path.add_argument("--max", type=int, default=3)
    path.add_argument("--max-depth", type=int, default=30)
    lines = sub.add_parser("lines")
    lines.add_argument("target", help="SCRIPT.py:FUNCTION (a qualname: Class.method)")
    lines.add_argument("--call", required=True)
    growth = sub.add_parser("growth")
    growth.add_argument("script")
    growth.add_argument("--call")
    growth.add_argument("--iterations", type=int, default=1)
    growth.add_argument("--limit", type=int, default=20)
    return p


def _run_script(path: str) -> types.ModuleType:
    """Runs ``path`` as ``__main__`` and returns its module (kept in sys.modules)."""
    if not os.path.isfile(path):
        raise MemoryToolError("SCRIPT_NOT_FOUND", "{}: no such file (give the path of a Python script)".format(path))
    with open(path, "rb") as f:
        source = f.read()
    filename = os.path.abspath(path)
    try:
        code = compile(source, filename, "exec", dont_inherit=True)
    except SyntaxError as e:
        raise MemoryToolError("SCRIPT_ERROR", "{}:{}: SyntaxError: {}".format(path, e.lineno, e.msg)) from None
    module = types.ModuleType("__main__")
    module.__file__ = filename
    sys.modules["__main__"] = module
    sys.path.insert(0, os.path.dirname(filename))
    sys.argv = [path]
    try:
        exec(code, module.__dict__)
    except SystemExit:
        pass
    except BaseException as e:
        traceback.print_exc()
        raise MemoryToolError("SCRIPT_ERROR", "{} raised {}: {}".format(path, type(e).__name__, e)) from None
    return module


def _compile(expr: str, what: str, mode: str = "eval") -> types.CodeType:
    try:
        return compile(expr, "<{}>".format(what), mode, dont_inherit=True)
    except SyntaxError as e:
        raise MemoryToolError("BAD_EXPRESSION", "{} {!r} does not compile: {}".format(what, expr, e.msg)) from None


def _call(module: types.ModuleType, expr: Optional[str], what: str = "--call") -> Callable[[], Any]:
    """A function evaluating ``expr`` in the script's globals; it raises MemoryToolError when the
    expression raises."""
    code = _compile(expr, what) if expr is not None else None
    g = module.__dict__

    def call() -> Any:
        try:
            return eval(code, g) if code is not None else None
        except Exception as e:
            traceback.print_exc()
            raise MemoryToolError("BAD_EXPRESSION", "{} {!r} raised {}: {}".format(what, expr, type(e).__name__, e)) from None

    return call


def _leaks(a: argparse.Namespace) -> Dict[str, Any]:
    from ._leaks import LeakCheck

    check = LeakCheck(a.iterations, a.warmup, top=a.top, frames=a.frames, min_growth=a.min_growth)
    module = _run_script(a.script)
    if a.call is not None:
        report = check.run(_call(module, a.call))
    else:
        with open(a.script, "rb") as f:
            code = compile(f.read(), module.__file__, "exec", dont_inherit=True)
        report = check.run(exec, code, module.__dict__)
    return {"leaks": report.to_json()}


def _size(a: argparse.Namespace) -> Dict[str, Any]:
    from ._size import deep_size

    module = _run_script(a.script) if a.script else types.ModuleType("__main__")
    setup = _compile(a.setup, "--setup", "exec")
    expr = _compile(a.expression, "expression")
    try:
        exec(setup, module.__dict__)
    except Exception as e:
        raise MemoryToolError("BAD_EXPRESSION", "--setup raised {}: {}".format(type(e).__name__, e)) from None
    try:
        value = eval(expr, module.__dict__)
    except Exception as e:
        raise MemoryToolError("BAD_EXPRESSION", "{!r} raised {}: {}".format(a.expression, type(e).__name__, e)) from None
    out = deep_size(value).to_json()
    out["expression"] = a.expression
    return {"size": out}


def _matches(t: type, name: str) -> bool:
    module = getattr(t, "__module__", "")
    return name in (t.__name__, getattr(t, "__qualname__", ""), "{}.{}".format(module, getattr(t, "__qualname__", "")))


def _path(a: argparse.Namespace) -> Dict[str, Any]:
    import gc

    from ._common import type_name
    from ._path import why_alive

    module = _run_script(a.script)
    if a.call is not None:
        _call(module, a.call)()
    gc.collect()
    types_ = [o for o in gc.get_objects() if isinstance(o, type) and _matches(o, a.type_name)]
    if not types_:
        raise MemoryToolError("UNKNOWN_TYPE", "no class named {!r} exists after running {} (give a class name, e.g. Widget or module.Widget)".format(a.type_name, a.script))
    wanted = set(types_)
    instances = [o for o in gc.get_objects() if type(o) in wanted]
    paths = []
    for obj in instances[: max(0, a.max)]:
        found = why_alive(obj, max_depth=a.max_depth)
        entry: Dict[str, Any] = {"target": {"type": type_name(type(obj)), "id": id(obj)}, "found": found is not None}
        if found is not None:
            entry.update(found.to_json())
        paths.append(entry)
    count = len(instances)
    del instances
    return {"path": {"type": a.type_name, "instances": count, "paths": paths}}


def _lines(a: argparse.Namespace) -> Dict[str, Any]:
    from ._lines import trace_lines

    script, sep, qualname = a.target.rpartition(":")
    if not sep or not script or not qualname:
        raise MemoryToolError("BAD_ARGUMENT", "lines needs SCRIPT.py:FUNCTION, got {!r}".format(a.target))
    module = _run_script(script)
    obj: Any = module
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            raise MemoryToolError("NOT_FOUND", "{}: no function {} (give a module-level function or Class.method)".format(script, qualname))
    func = getattr(obj, "__func__", obj)
    import inspect

    code = getattr(inspect.unwrap(func), "__code__", None) if callable(func) else None
    if code is None:
        raise MemoryToolError("NOT_FOUND", "{}: {} is not a Python function".format(script, qualname))
    _, report = trace_lines(code, _call(module, a.call), qualname)
    return {"lines": report.to_json()}


def _growth(a: argparse.Namespace) -> Dict[str, Any]:
    from ._growth import type_counts, type_growth

    if a.call is None:
        before = type_counts()
        module = _run_script(a.script)
    else:
        module = _run_script(a.script)
        call = _call(module, a.call)
        before = type_counts()
        for _ in range(a.iterations):
            call()
    out = type_growth(before, limit=a.limit).to_json()
    out["iterations"] = a.iterations if a.call is not None else 1
    del module
    return {"growth": out}


_COMMANDS = {"leaks": _leaks, "size": _size, "path": _path, "lines": _lines, "growth": _growth}


def _document(kind: str, args: List[str], body: Dict[str, Any]) -> Dict[str, Any]:
    doc: Dict[str, Any] = {
        "pyxray": "memory",
        "version": DOCUMENT_VERSION,
        "kind": kind,
        "metadata": {
            "python": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": sys.executable,
            "argv": args,
            "cwd": os.getcwd(),
            "startTime": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        },
    }
    doc.update(body)
    return doc


def _write(path: Optional[str], doc: Dict[str, Any]) -> None:
    text = json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
    if path is None:
        sys.stdout.write(text)
        return
    from .._files import write_atomic

    write_atomic(path, text)


def main(argv: Optional[List[str]] = None) -> int:
    """Runs one memory command; returns the exit status (0, or 2 for bad input)."""
    args = list(sys.argv[1:] if argv is None else argv)
    output: Optional[str] = None
    kind = "error"
    try:
        try:
            ns = _parser().parse_args(args)
        except _ArgError as e:
            raise MemoryToolError("BAD_ARGUMENT", str(e)) from None
        output = ns.output
        kind = ns.command
        body = _COMMANDS[ns.command](ns)
        _write(output, _document(kind, args, body))
        return 0
    except MemoryToolError as e:
        _write(output, _document("error", args, {"error": {"code": e.code, "message": e.message, "command": kind}}))
        return 2
