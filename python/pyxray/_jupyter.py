"""IPython / Jupyter magics: ``%load_ext pyxray``.

- ``%%pyxray profile [--memory] [--count instructions] [--mode trace|sample] [-o FILE] [--height PX]``
  runs the cell under the profiler and shows the Profile viewer inline (flame graph, tables);
- ``%%pyxray dis [--height PX]``: the cell's bytecode, every code object in it, each instruction
  linked to its source line, with the stack depth before and after it (step with the arrow keys);
- ``%%pyxray compare [-c CODE]``: the bytecode of two snippets side by side, aligned -- the cell
  against ``-c CODE``, or the two halves of the cell split by a line ``---``, or two cells (the
  first with ``--save NAME``, the second with ``--with NAME``); ``--run`` also runs both (each in
  a copy of the namespace) and counts the instructions each executed;
- ``%%pyxray mem leaks [-n N] [--warmup N]``: runs the cell ``warmup + N`` times and reports
  allocations that grow with the iterations (:func:`pyxray.leak_check`);
- ``%pyxray size EXPR``: the deep size of an object (:func:`pyxray.deep_size`).

Every output is one MIME bundle -- ``text/html`` for the classic notebook, JupyterLab and VS Code,
``text/plain`` for terminals and other frontends -- so nothing depends on the frontend. The HTML
is self-contained (no network): pages with scripts sit in a sandboxed ``<iframe srcdoc>`` (scripts,
no access to the notebook), sized for a notebook.

The profile viewer is the page of ``pyxray report --format html``: the template the web build
writes (``dist/report/report.html``), with the profile put into its data slot, as
``src/profile/export/html.ts`` does. It is looked up (:func:`find_report_template`) in
``$PYXRAY_REPORT_TEMPLATE``, then beside this package where the pyxray toolkit keeps it (the npm
package and a checkout: ``python/`` and ``dist/`` are siblings, which is what ``pyxray
python-path`` points into), then beside the ``pyxray`` command on PATH. No Node process runs:
filling the slot is a string replacement. Without a template the HTML output is a table of the
top functions, saying how to get the viewer.

IPython is imported here only, and this module only by ``load_ipython_extension``: the agent stays
standard library only.
"""

from __future__ import annotations

import argparse
import dis
import difflib
import html
import io
import json
import os
import re
import shlex
import shutil
import sys
import types

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is for type checkers only
    from typing import Any, Dict, List, Optional, Tuple

#: The element of the report template that receives the data (src/profile/export/html.ts
#: HTML_REPORT_SLOT; a test keeps the two equal).
REPORT_SLOT = '<script type="application/json" id="pyxray-report">null</script>'
#: Default heights of the inline frames, in CSS pixels.
PROFILE_HEIGHT = 560
DIS_HEIGHT = 480


class MagicUsageError(Exception):
    """A bad magic line: shown as IPython's one-line UsageError."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse would print usage and exit the kernel's magic
        raise MagicUsageError("%pyxray {}: {} (%pyxray? shows the help)".format(self.prog, message))


# -- the report template ---------------------------------------------------------------------


def find_report_template() -> Optional[str]:
    """The path of the built report page (see the module docstring), or None."""
    env = os.environ.get("PYXRAY_REPORT_TEMPLATE")
    if env:
        return env if os.path.isfile(env) else None
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [
        os.path.join(here, "_report", "report.html"),  # a wheel built after npm run build:web
        os.path.join(os.path.dirname(os.path.dirname(here)), "dist", "report", "report.html"),  # python/ beside dist/
    ]
    command = shutil.which("pyxray")
    if command is not None:  # bin/pyxray.js of the npm package: dist/ is its sibling
        candidates.append(os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(command))), "dist", "report", "report.html"))
    for path in candidates:
        if os.path.isfile(path):
            return path
    return None


def json_for_script(value: Any) -> str:
    """JSON that can sit in a ``<script>`` element: ``< > &`` and U+2028/9 as \\u escapes."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return re.sub("[<>&\u2028\u2029]", lambda m: "\\u{:04x}".format(ord(m.group(0))), text)


def report_page(template: str, doc: Dict[str, Any], name: str) -> str:
    """The report page: ``template`` with the profile in its data slot (exactly one slot)."""
    at = template.find(REPORT_SLOT)
    if at < 0 or template.find(REPORT_SLOT, at + 1) >= 0:
        raise ValueError("the report template has no single data slot: rebuild it with npm run build:web")
    filled = REPORT_SLOT.replace(">null<", ">{}<".format(json_for_script({"name": name, "profile": doc})))
    return template[:at] + filled + template[at + len(REPORT_SLOT) :]


def iframe(page: str, height: int, title: str) -> str:
    """A sandboxed frame holding ``page`` (scripts run; no same-origin access to the notebook)."""
    return (
        '<iframe class="pyxray-output" sandbox="allow-scripts allow-downloads" title="{}" srcdoc="{}" '
        'style="width:100%;height:{}px;border:1px solid #d0d7de;border-radius:4px;background:#fff"></iframe>'
    ).format(html.escape(title), html.escape(page, quote=True), int(height))


def _bundle(text: str, markup: str) -> None:
    from IPython.display import display

    display({"text/plain": text, "text/html": markup}, raw=True)


# -- %%pyxray profile ------------------------------------------------------------------------


def _compile_cell(shell: Any, cell: str) -> types.CodeType:
    """The cell as IPython would run it (its own syntax transformed), under a file name whose
    source IPython keeps (tracebacks and the viewer's source lines find it)."""
    source = shell.transform_cell(cell)
    cache = getattr(shell.compile, "cache", None)
    filename = cache(source) if cache is not None else "<pyxray-cell>"
    return compile(source, filename, "exec", dont_inherit=True)


def _profile(shell: Any, line: str, cell: str) -> None:
    from .profiler import Profiler

    parser = _Parser(prog="profile", add_help=False)
    parser.add_argument("--memory", action="store_true")
    parser.add_argument("--count", choices=("instructions",))
    parser.add_argument("--mode", choices=("trace", "sample"), default="trace")
    parser.add_argument("-o", "--output")
    parser.add_argument("--height", type=int, default=PROFILE_HEIGHT)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args(shlex.split(line))
    if args.count and args.mode != "trace":
        raise MagicUsageError("%%pyxray profile: --count instructions needs --mode trace")
    code = _compile_cell(shell, cell)
    profiler = Profiler(memory=args.memory, mode=args.mode, count=args.count)
    profiler._quiet_root = True  # the root-level frames are IPython's and pyxray's: only the cell shows
    error: Optional[BaseException] = None
    profiler.start()
    try:
        exec(code, shell.user_ns)
    except BaseException as exc:  # shown after the profile (what ran until then is in it)
        error = exc
    finally:
        profiler.stop()
    doc = profiler.to_dict(partial=error is not None)
    if args.output:
        profiler.save(args.output)
    text = io.StringIO()
    profiler.print(top=args.top, file=text)
    _bundle(text.getvalue(), profile_html(doc, "notebook cell", args.height, text.getvalue()))
    if error is not None:
        raise error


def profile_html(doc: Dict[str, Any], name: str, height: int, text: str) -> str:
    """The viewer in a frame, or (no template) the table as preformatted text saying why."""
    template_path = find_report_template()
    if template_path is not None:
        try:
            with open(template_path, encoding="utf-8") as f:
                template = f.read()
            return iframe(report_page(template, doc, name), height, "pyxray profile")
        except (OSError, ValueError) as exc:
            why = "{}: {}".format(template_path, exc)
    else:
        why = "the report page is not built here (set PYXRAY_REPORT_TEMPLATE to dist/report/report.html of pyxray, or run npm run build:web)"
    return '<pre style="font-size:12px">{}</pre><p style="font-size:12px;color:#555">pyxray: no interactive viewer: {}</p>'.format(html.escape(text), html.escape(why))


# -- %%pyxray dis ----------------------------------------------------------------------------

_UNCONDITIONAL = {
    "JUMP_FORWARD", "JUMP_ABSOLUTE", "JUMP_BACKWARD", "JUMP_BACKWARD_NO_INTERRUPT", "JUMP", "JUMP_NO_INTERRUPT",
    "RETURN_VALUE", "RETURN_CONST", "RAISE_VARARGS", "RERAISE",
}  # fmt: skip


def _code_objects(code: types.CodeType) -> List[types.CodeType]:
    """``code`` and every code object in its constants, depth first."""
    out: List[types.CodeType] = []
    todo = [code]
    while todo:
        c = todo.pop()
        out.append(c)
        todo.extend(reversed([k for k in c.co_consts if isinstance(k, types.CodeType)]))
    return out


def stack_depths(code: types.CodeType) -> Dict[int, Tuple[int, int]]:
    """Stack depth before and after each instruction (by offset), from ``dis.stack_effect`` along
    every path (fall-through, jumps, 3.11+ exception handlers); instructions no path reaches are absent."""
    instructions = [i for i in dis.get_instructions(code) if i.opname != "CACHE"]
    index = {ins.offset: k for k, ins in enumerate(instructions)}
    before: Dict[int, int] = {}
    # 3.10's generators start with GEN_START, which pops the value sent to start them.
    todo: List[Tuple[int, int]] = [(0, 1 if instructions[0].opname == "GEN_START" else 0)] if instructions else []
    parse = getattr(dis, "_parse_exception_table", None)
    handlers = []
    if parse is not None and getattr(code, "co_exceptiontable", b""):
        try:
            handlers = [(e.target, e.depth + 1 + (1 if e.lasti else 0)) for e in parse(code)]
        except Exception:
            handlers = []
    todo.extend((index[t], d) for t, d in handlers if t in index)
    out: Dict[int, Tuple[int, int]] = {}
    while todo:
        k, depth = todo.pop()
        if k >= len(instructions):
            continue
        ins = instructions[k]
        if ins.offset in before:
            continue
        before[ins.offset] = depth
        arg = ins.arg if ins.opcode >= dis.HAVE_ARGUMENT else None
        try:
            fall = depth + dis.stack_effect(ins.opcode, arg, jump=False)
            jumped = depth + dis.stack_effect(ins.opcode, arg, jump=True)
        except (ValueError, TypeError):
            continue
        # A negative depth means dis.stack_effect does not describe this path (the send/yield
        # protocol of async code on some versions): the path stops there, shown as unknown.
        if fall < 0:
            continue
        out[ins.offset] = (depth, fall)
        if (ins.opcode in dis.hasjrel or ins.opcode in dis.hasjabs) and jumped >= 0:
            target = ins.argval
            if isinstance(target, int) and target in index:
                todo.append((index[target], jumped))
        if ins.opname not in _UNCONDITIONAL:
            todo.append((k + 1, fall))
    return out


def _dis_text(code: types.CodeType) -> str:
    buf = io.StringIO()
    dis.dis(code, file=buf)
    return buf.getvalue()


_PAGE_STYLE = """
body{font:12px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;margin:0;color:#1f2328}
.wrap{display:flex;height:100vh}.src,.ins{overflow:auto;padding:6px 10px}.src{flex:0 0 38%;border-right:1px solid #d0d7de;background:#f6f8fa}
.src div{white-space:pre}.src .n{color:#8c959f;display:inline-block;width:3em;text-align:right;margin-right:1em}
.hl{background:#fff3b0}h4{margin:10px 0 4px;font-size:12px}table{border-collapse:collapse}td{padding:0 8px 0 0;white-space:pre}
tr.cur{background:#ddf4ff}tr[data-line]{cursor:pointer}.d{color:#57606a}.bar{display:inline-block;height:8px;background:#54aeff;vertical-align:middle}
.help{color:#57606a;margin:4px 0}
"""

_PAGE_SCRIPT = """
const rows=[...document.querySelectorAll('tr[data-line]')];let cur=-1;
function show(k){if(cur>=0)rows[cur].classList.remove('cur');document.querySelectorAll('.hl').forEach(e=>e.classList.remove('hl'));
cur=k;const r=rows[k];r.classList.add('cur');const l=document.getElementById('L'+r.dataset.line);if(l){l.classList.add('hl');l.scrollIntoView({block:'nearest'})}r.scrollIntoView({block:'nearest'})}
rows.forEach((r,k)=>r.addEventListener('click',()=>show(k)));
document.addEventListener('keydown',e=>{if(e.key==='ArrowDown'||e.key==='ArrowRight'){show(Math.min(rows.length-1,cur+1));e.preventDefault()}
if(e.key==='ArrowUp'||e.key==='ArrowLeft'){show(Math.max(0,cur-1));e.preventDefault()}});
"""


def dis_page(source: str, code: types.CodeType) -> str:
    """A static page: the source, and every code object's instructions linked to their lines."""
    lines = source.splitlines()
    src = "".join('<div id="L{0}"><span class="n">{0}</span>{1}</div>'.format(n, html.escape(text)) for n, text in enumerate(lines, 1))
    parts = ['<p class="help">Click an instruction (then the arrow keys step): its source line is highlighted; the bar is the value stack\'s depth after it.</p>']
    for c in _code_objects(code):
        depths = stack_depths(c)
        name = getattr(c, "co_qualname", c.co_name)
        parts.append("<h4>{} (line {}, co_stacksize {})</h4><table>".format(html.escape(name), c.co_firstlineno, c.co_stacksize))
        line = None
        for ins in dis.get_instructions(c):
            if ins.opname == "CACHE":
                continue
            if hasattr(ins, "line_number"):  # 3.13+: every instruction has its line (None: none)
                line = ins.line_number or None  # (the first RESUME is on line 0)
            elif ins.starts_line is not None:  # before: the line starts here and runs on
                line = ins.starts_line or None
            depth = depths.get(ins.offset)
            depth_text = "{}\u2192{}".format(*depth) if depth is not None else "?"
            bar = '<span class="bar" style="width:{}px"></span>'.format(6 * max(0, depth[1])) if depth is not None else ""
            parts.append(
                '<tr{}><td class="d">{}</td><td class="d">{}</td><td>{}</td><td>{}</td><td class="d">{}</td><td>{}</td></tr>'.format(
                    ' data-line="{}"'.format(line) if line is not None else "", line if line is not None else "", ins.offset,
                    html.escape(ins.opname), html.escape(ins.argrepr), depth_text, bar,
                )
            )  # fmt: skip
        parts.append("</table>")
    return "<!doctype html><html><head><meta charset=utf-8><style>{}</style></head><body><div class=wrap><div class=src>{}</div><div class=ins>{}</div></div><script>{}</script></body></html>".format(
        _PAGE_STYLE, src, "".join(parts), _PAGE_SCRIPT
    )


def _dis(shell: Any, line: str, cell: str) -> None:
    parser = _Parser(prog="dis", add_help=False)
    parser.add_argument("--height", type=int, default=DIS_HEIGHT)
    args = parser.parse_args(shlex.split(line))
    source = shell.transform_cell(cell)
    try:
        code = compile(source, "<cell>", "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise MagicUsageError("%%pyxray dis: the cell does not compile: {} (line {})".format(exc.msg, exc.lineno)) from None
    _bundle(_dis_text(code), iframe(dis_page(source, code), args.height, "pyxray dis"))


# -- %%pyxray compare ------------------------------------------------------------------------


def _listing(code: types.CodeType) -> List[str]:
    """One row per instruction (``name: OPNAME argrepr``), every code object, for alignment."""
    rows: List[str] = []
    for c in _code_objects(code):
        name = getattr(c, "co_qualname", c.co_name)
        rows.append("## {}".format(name))
        rows.extend("{} {}".format(i.opname, i.argrepr).rstrip() for i in dis.get_instructions(c) if i.opname != "CACHE")
    return rows


def _executed(shell: Any, code: types.CodeType) -> int:
    """Bytecode instructions ``code`` executes, run in a copy of the notebook's namespace."""
    from .profiler import Profiler

    profiler = Profiler(count="instructions", builtins=False)
    profiler._quiet_root = True
    namespace = dict(shell.user_ns)
    profiler.start()
    try:
        exec(code, namespace)
    finally:
        profiler.stop()
    doc = profiler.to_dict()
    return sum(int(n.get("executedInstructions", 0)) for t in doc["threads"] for n in t["nodes"] if n.get("frame") is not None)


def _compare(shell: Any, line: str, cell: str) -> None:
    parser = _Parser(prog="compare", add_help=False)
    parser.add_argument("-c", dest="code")
    parser.add_argument("--run", action="store_true")
    parser.add_argument("--save", metavar="NAME")
    parser.add_argument("--with", dest="other", metavar="NAME")
    args = parser.parse_args(shlex.split(line))
    saved: Dict[str, str] = shell.__dict__.setdefault("_pyxray_compare_cells", {})
    if args.save is not None:
        try:
            compile(shell.transform_cell(cell), "<{}>".format(args.save), "exec", dont_inherit=True)
        except SyntaxError as exc:
            raise MagicUsageError("%%pyxray compare --save {}: the cell does not compile: {} (line {})".format(args.save, exc.msg, exc.lineno)) from None
        saved[args.save] = shell.transform_cell(cell)
        print("pyxray: saved as {0!r}: compare another cell with %%pyxray compare --with {0}".format(args.save))
        return
    if args.other is not None:
        if args.other not in saved:
            raise MagicUsageError("%%pyxray compare --with {0}: no cell was saved as {0!r} (run one with %%pyxray compare --save {0})".format(args.other))
        a_src, b_src = saved[args.other], shell.transform_cell(cell)
    elif args.code is not None:
        a_src, b_src = shell.transform_cell(cell), args.code
    else:
        halves = re.split(r"^\s*(?:#\s*)?---+\s*$", cell, maxsplit=1, flags=re.M)
        if len(halves) != 2:
            raise MagicUsageError(
                "%%pyxray compare: give the second snippet with -c CODE, split the cell in two with a line ---, "
                "or compare two cells (--save NAME, then --with NAME)"
            )
        a_src, b_src = shell.transform_cell(halves[0]), shell.transform_cell(halves[1])
    codes = []
    for label, src in (("A", a_src), ("B", b_src)):
        try:
            codes.append(compile(src, "<{}>".format(label), "exec", dont_inherit=True))
        except SyntaxError as exc:
            raise MagicUsageError("%%pyxray compare: {} does not compile: {} (line {})".format(label, exc.msg, exc.lineno)) from None
    a, b = _listing(codes[0]), _listing(codes[1])
    counts = [sum(1 for r in x if not r.startswith("## ")) for x in (a, b)]
    rows: List[Tuple[str, str, str]] = []  # (kind, left, right)
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        for k in range(max(i2 - i1, j2 - j1)):
            left = a[i1 + k] if i1 + k < i2 else ""
            right = b[j1 + k] if j1 + k < j2 else ""
            rows.append((op, left, right))
    summary = "A: {} instructions, B: {} ({:+d}) in the code objects".format(counts[0], counts[1], counts[1] - counts[0])
    if args.run:
        ran = [_executed(shell, c) for c in codes]
        summary += "; executed: A {:,}, B {:,} ({:+,})".format(ran[0], ran[1], ran[1] - ran[0])
    width = max([len(r[1]) for r in rows] + [10])
    mark = {"equal": " ", "replace": "|", "delete": "<", "insert": ">"}
    text = summary + "\n" + "\n".join("{:<{w}} {} {}".format(left, mark[op], right, w=width) for op, left, right in rows) + "\n"
    colour = {"equal": "", "replace": "background:#fff8c5", "delete": "background:#ffebe9", "insert": "background:#dafbe1"}
    body = "".join(
        '<tr style="{}"><td>{}</td><td>{}</td></tr>'.format(colour[op], html.escape(left), html.escape(right)) for op, left, right in rows
    )
    markup = (
        '<div class="pyxray-compare" style="font:12px ui-monospace,monospace"><p>{}</p><table style="border-collapse:collapse">'
        '<tr><th style="text-align:left">A</th><th style="text-align:left">B</th></tr>{}</table></div>'
    ).format(html.escape(summary), body)
    _bundle(text, markup)


# -- %%pyxray mem leaks, %pyxray size --------------------------------------------------------


def _pre(text: str) -> str:
    return '<pre style="font-size:12px">{}</pre>'.format(html.escape(text))


def _mem(shell: Any, line: str, cell: Optional[str]) -> None:
    from .memory import LeakCheck  # type: ignore[attr-defined]

    words = shlex.split(line)
    if not words or words[0] != "leaks":
        raise MagicUsageError("%%pyxray mem: the memory magic is %%pyxray mem leaks [-n N] [--warmup N] (a cell run repeatedly)")
    if cell is None:
        raise MagicUsageError("%%pyxray mem leaks is a cell magic: put the code to repeat in the cell")
    parser = _Parser(prog="mem leaks", add_help=False)
    parser.add_argument("-n", "--iterations", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args(words[1:])
    code = _compile_cell(shell, cell)
    check = LeakCheck(iterations=args.iterations, warmup=args.warmup)
    for _ in check:
        exec(code, shell.user_ns)
    text = str(check.report)
    _bundle(text, _pre(text))


def _size(shell: Any, line: str) -> None:
    from .memory import deep_size

    expression = line.strip()
    if not expression:
        raise MagicUsageError("%pyxray size EXPR: name the object (a variable or any expression)")
    try:
        obj = eval(expression, shell.user_ns)
    except Exception as exc:
        raise MagicUsageError("%pyxray size: {} could not be evaluated: {}: {}".format(expression, type(exc).__name__, exc)) from None
    text = str(deep_size(obj))
    _bundle(text, _pre(text))


# -- the magic -------------------------------------------------------------------------------

HELP = """%pyxray / %%pyxray: pyxray in a notebook.

  %%pyxray profile [--memory] [--count instructions] [--mode trace|sample] [-o FILE] [--height PX]
  %%pyxray dis [--height PX]
  %%pyxray compare [-c CODE] [--run]      (without -c: split the cell with a line ---)
  %%pyxray compare --save NAME            then, in another cell: %%pyxray compare --with NAME [--run]
  %%pyxray mem leaks [-n N] [--warmup N]
  %pyxray size EXPR
"""


def pyxray_magic(shell: Any, line: str, cell: Optional[str] = None) -> None:
    """Dispatches ``%pyxray``/``%%pyxray`` lines to the subcommands."""
    from IPython.core.error import UsageError

    command, _, rest = line.strip().partition(" ")
    try:
        if command == "size":
            if cell is not None:
                raise MagicUsageError("size is a line magic: %pyxray size EXPR")
            return _size(shell, rest)
        if command == "mem":
            return _mem(shell, rest, cell)
        cells = {"profile": _profile, "dis": _dis, "compare": _compare}
        if command in cells:
            if cell is None:
                raise MagicUsageError("{0} is a cell magic: start the cell with %%pyxray {0}".format(command))
            return cells[command](shell, rest, cell)
        if command in ("", "help"):
            print(HELP)
            return None
        raise MagicUsageError("%pyxray: unknown command {!r}: profile, dis, compare, mem leaks or size".format(command))
    except MagicUsageError as exc:
        raise UsageError(str(exc)) from None


def load(ipython: Any) -> None:
    """Registers ``%pyxray``/``%%pyxray`` on ``ipython``."""

    def pyxray(line: str, cell: Optional[str] = None) -> None:
        return pyxray_magic(ipython, line, cell)

    pyxray.__doc__ = HELP
    ipython.register_magic_function(pyxray, magic_kind="line_cell", magic_name="pyxray")
