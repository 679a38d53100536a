#!/usr/bin/env python3
"""CPython as the oracle for pyxray's tests: its own compile, marshal and dis.

Stdlib only; runs on CPython 3.8-3.14 as a script, and inside Pyodide (3.14) as an imported
module, where the Node side calls the functions marked "Pyodide API" directly.

Subcommands (all paths are given by the caller; nothing here knows the repository layout):

  version
      Print the release, e.g. "3.12.1".
  fixtures SRC_DIR OUT_DIR
      Compile every SRC_DIR/<case>.py and write, into OUT_DIR:
        <case>.pyc                 timestamp pyc, mtime 0 and the source size: deterministic
        <case>.dis.txt             dis.dis(code) as printed on stdout
        <case>.caches.dis.txt      dis.dis(code, show_caches=True)      (3.11+)
        <case>.offsets.dis.txt     dis.dis(code, show_offsets=True)     (3.13+)
        <case>.positions.dis.txt   dis.dis(code, show_positions=True)   (3.14+)
        <case>.lines.json          per code object, see code_records()
      dis runs on the code object loaded back from the .pyc bytes, i.e. on what pyxray reads.
      A case's leading comment lines may hold settings (see case_settings()):
        # min-version: 3.11     skip the case on older versions
        # variants: caches      write only the plain and show_caches texts
        # variants: none        write only <case>.dis.txt
      (restricting variants keeps the fixtures small: big cases whose plain text already
      covers what they test need not repeat it with an offset or position column)
  dis-batch REQUESTS.json
      REQUESTS.json is {"items": [{"pyc": PATH, "out": PATH}, ...], "variants": BOOL}.
      For each item write the oracle record of the .pyc (see pyc_record()) to "out", as
      compact JSON (gzip-compressed when "out" ends in ".gz").
  compile-dir SRC_DIR OUT_DIR [--optimize N]
      Compile every *.py under SRC_DIR into OUT_DIR/<relative path>c (sources that do not
      compile with this interpreter are skipped); print a JSON summary.
  bench LIST.txt OUT.jsonl
      Load the .pyc files named in LIST.txt (one path a line) with marshal, then time dis.dis
      of every module code object into a StringIO; write [path, text] lines to OUT.jsonl and
      print the timings as JSON.

Every dis text is returned with memory addresses normalized ("at 0x7f..." -> "at 0xADDR"),
so that goldens and cache entries are byte-identical from one run to the next. Run with
PYTHONHASHSEED=0 so that frozenset constants iterate in a reproducible order.
"""
from __future__ import annotations

import contextlib
import dis
import gzip
import importlib.util
import io
import json
import marshal
import os
import re
import sys
import time
import warnings
from typing import Any, Dict, Iterator, List, Optional, Tuple

VERSION: Tuple[int, int] = (sys.version_info[0], sys.version_info[1])

#: Memory addresses in code object reprs differ from run to run.
ADDRESS = re.compile(r"at 0x[0-9a-f]+")

#: (file suffix, dis.dis keyword arguments, first version that has them)
VARIANTS: List[Tuple[str, Dict[str, bool], Tuple[int, int]]] = [
    ("dis", {}, (3, 8)),
    ("caches.dis", {"show_caches": True}, (3, 11)),
    ("offsets.dis", {"show_offsets": True}, (3, 13)),
    ("positions.dis", {"show_positions": True}, (3, 14)),
]

#: A setting in a case's leading comment lines: "# key: value".
SETTING = re.compile(r"^#\s*([a-z-]+):\s*(.*?)\s*$")

#: Length of a PEP 552 .pyc header (3.7+).
HEADER_SIZE = 16


def normalize_addresses(text: str) -> str:
    return ADDRESS.sub("at 0xADDR", text)


def dis_text(code: Any, **options: bool) -> str:
    """What dis.dis(code, **options) prints on stdout, addresses normalized."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        dis.dis(code, **options)
    return normalize_addresses(out.getvalue())


def case_settings(source: bytes) -> Dict[str, str]:
    """The "# key: value" lines at the top of a case, before its first non-comment line."""
    settings = {}
    for line in source.decode("utf-8").splitlines():
        if not line.startswith("#"):
            break
        m = SETTING.match(line)
        if m:
            settings[m.group(1)] = m.group(2)
    return settings


def available_variants() -> List[Tuple[str, Dict[str, bool]]]:
    return [(suffix, opts) for suffix, opts, since in VARIANTS if VERSION >= since]


def walk_codes(code: Any) -> Iterator[Any]:
    """Code objects in dis.dis's order: pre-order through co_consts."""
    yield code
    for const in code.co_consts:
        if hasattr(const, "co_code"):
            yield from walk_codes(const)


def run_lengths(entries: Iterator[Tuple[Any, ...]]) -> List[List[Any]]:
    """[count, *entry] for each run of equal consecutive entries (an instruction and its inline
    caches share one position, so co_positions() repeats itself a lot)."""
    runs: List[List[Any]] = []
    for entry in entries:
        if runs and runs[-1][1:] == list(entry):
            runs[-1][0] += 1
        else:
            runs.append([1, *entry])
    return runs


def code_records(code: Any) -> List[Dict[str, Any]]:
    """For every code object: name (co_qualname on 3.11+, else co_name), firstlineno,
    linestarts (dis.findlinestarts: [offset, line]), lines (co_lines(): [start, end, line], 3.10+),
    positions (co_positions() run-length encoded: [count, line, end_line, col, end_col] for
    `count` consecutive code units, 3.11+)."""
    records = []
    for co in walk_codes(code):
        record: Dict[str, Any] = {
            "name": getattr(co, "co_qualname", co.co_name),
            "firstlineno": co.co_firstlineno,
            "linestarts": [list(pair) for pair in dis.findlinestarts(co)],
        }
        if hasattr(co, "co_lines"):
            record["lines"] = [list(entry) for entry in co.co_lines()]
        if hasattr(co, "co_positions"):
            record["positions"] = run_lengths(co.co_positions())
        records.append(record)
    return records


def pyc_bytes(code: Any, source_size: int) -> bytes:
    """A timestamp-based .pyc (PEP 552 flags 0) with mtime 0, so the bytes never depend on when
    or where it was made."""
    header = importlib.util.MAGIC_NUMBER + (0).to_bytes(4, "little") + (0).to_bytes(4, "little")
    return header + (source_size & 0xFFFFFFFF).to_bytes(4, "little") + marshal.dumps(code)


def compile_source(source: bytes, filename: str, optimize: int = 0) -> Tuple[Any, List[str]]:
    """compile() as py_compile does it; returns the code and any warning messages."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = compile(source, filename, "exec", dont_inherit=True, optimize=optimize)
    return code, ["%s: %s" % (w.category.__name__, w.message) for w in caught]


def readable_json(records: List[Dict[str, Any]]) -> str:
    """One key a line, keys sorted, each list on one line: reviewable as a diff."""
    blocks = []
    for record in records:
        fields = ",\n".join(
            "    %s: %s" % (json.dumps(key), json.dumps(record[key], separators=(",", ":")))
            for key in sorted(record)
        )
        blocks.append("  {\n" + fields + "\n  }")
    return "[\n" + ",\n".join(blocks) + "\n]\n"


def write_text(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def write_bytes(path: str, data: bytes) -> None:
    """Write through a temporary name, so a reader never sees half a file."""
    tmp = "%s.%d.tmp" % (path, os.getpid())
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


# --- fixtures -----------------------------------------------------------------------------------


def make_fixtures(src_dir: str, out_dir: str) -> Dict[str, Any]:
    os.makedirs(out_dir, exist_ok=True)
    written, skipped = [], []
    for name in sorted(os.listdir(src_dir)):
        if not name.endswith(".py"):
            continue
        case = name[:-3]
        with open(os.path.join(src_dir, name), "rb") as f:
            source = f.read()
        settings = case_settings(source)
        min_version = tuple(int(part) for part in settings.get("min-version", "3.8").split("."))
        if VERSION < min_version:
            skipped.append(case)
            continue
        wanted = settings.get("variants", "all")
        variants = [
            (suffix, options)
            for suffix, options in available_variants()
            if wanted == "all" or suffix == "dis" or (wanted == "caches" and "show_caches" in options)
        ]
        if wanted not in ("all", "caches", "none"):
            raise ValueError("%s: unknown setting 'variants: %s'" % (name, wanted))
        code, notes = compile_source(source, name)
        for note in notes:
            sys.stderr.write("%s (%d.%d): %s\n" % (name, VERSION[0], VERSION[1], note))
        data = pyc_bytes(code, len(source))
        loaded = marshal.loads(data[HEADER_SIZE:])
        base = os.path.join(out_dir, case)
        write_bytes(base + ".pyc", data)
        for suffix, options in variants:
            write_text("%s.%s.txt" % (base, suffix), dis_text(loaded, **options))
        write_text(base + ".lines.json", readable_json(code_records(loaded)))
        written.append(case)
    return {"version": "%d.%d" % VERSION, "written": written, "skipped": skipped}


# --- oracle records for the differential run -----------------------------------------------------


def pyc_record(data: bytes, variants: bool = False) -> Dict[str, Any]:
    """The oracle's view of one .pyc: {"dis": text, "codes": code_records(), "variants"?: {...}}."""
    code = marshal.loads(data[HEADER_SIZE:])
    record: Dict[str, Any] = {"dis": dis_text(code), "codes": code_records(code)}
    if variants:
        record["variants"] = {
            suffix.split(".")[0]: dis_text(code, **options)
            for suffix, options in available_variants()
            if options
        }
    return record


def record_json(data: bytes, variants: bool = False) -> str:
    """Pyodide API: pyc_record() as compact JSON, or {"error": ...} when CPython cannot load it."""
    try:
        record = pyc_record(bytes(data), variants)
    except Exception as exc:  # noqa: BLE001 - reported to the caller, who counts it
        record = {"error": "%s: %s" % (type(exc).__name__, exc)}
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False)


def dis_batch(requests_path: str) -> Dict[str, Any]:
    with open(requests_path, encoding="utf-8") as f:
        request = json.load(f)
    variants = bool(request.get("variants"))
    done = 0
    for item in request["items"]:
        with open(item["pyc"], "rb") as f:
            data = f.read()
        encoded = record_json(data, variants).encode("utf-8")
        if item["out"].endswith(".gz"):
            encoded = gzip.compress(encoded, compresslevel=6, mtime=0)
        write_bytes(item["out"], encoded)
        done += 1
    return {"done": done}


# --- compiling third-party sources -------------------------------------------------------------


def compile_tree(src_dir: str, out_dir: str, optimize: int = 0) -> Dict[str, Any]:
    """Compile every *.py under src_dir into out_dir, mirroring the tree; co_filename is the
    source's absolute path, as for an installed package."""
    compiled, failed = 0, []
    for root, dirs, files in os.walk(src_dir):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not d.startswith("."))
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            path = os.path.join(root, name)
            rel = os.path.relpath(path, src_dir)
            try:
                with open(path, "rb") as f:
                    source = f.read()
                code, _ = compile_source(source, os.path.abspath(path), optimize)
            except (SyntaxError, ValueError, UnicodeDecodeError, OSError) as exc:
                failed.append("%s: %s" % (rel, type(exc).__name__))
                continue
            target = os.path.join(out_dir, rel + "c")
            os.makedirs(os.path.dirname(target), exist_ok=True)
            write_bytes(target, pyc_bytes(code, len(source)))
            compiled += 1
    return {"compiled": compiled, "failed": len(failed), "failures": failed[:20]}


def compile_zip(zip_path: str, prefix: str, optimize: int = 0) -> List[Tuple[str, bytes]]:
    """Pyodide API: compile every .py in a zip (Pyodide's stdlib); [(path, pyc bytes)], sorted.
    co_filename is prefix + the member name, where the file would be on an installed Python."""
    import zipfile

    out = []
    with zipfile.ZipFile(zip_path) as zf:
        for name in sorted(zf.namelist()):
            if not name.endswith(".py"):
                continue
            source = zf.read(name)
            try:
                code, _ = compile_source(source, prefix + name, optimize)
            except (SyntaxError, ValueError):
                continue
            out.append((name, pyc_bytes(code, len(source))))
    return out


# --- benchmark ------------------------------------------------------------------------------------


def bench(list_path: str, out_path: str) -> Dict[str, Any]:
    t0 = time.perf_counter()
    with open(list_path, encoding="utf-8") as f:
        paths = [line.rstrip("\n") for line in f if line.strip()]
    codes = []
    total_bytes = 0
    for path in paths:
        with open(path, "rb") as f:
            data = f.read()
        total_bytes += len(data)
        codes.append(marshal.loads(data[HEADER_SIZE:]))
    t1 = time.perf_counter()
    texts = []
    for code in codes:
        buf = io.StringIO()
        dis.dis(code, file=buf)
        texts.append(buf.getvalue())
    t2 = time.perf_counter()
    with open(out_path, "w", encoding="utf-8", newline="\n") as f:
        for path, text in zip(paths, texts):
            f.write(json.dumps([path, normalize_addresses(text)], ensure_ascii=False) + "\n")
    t3 = time.perf_counter()
    return {"files": len(paths), "bytes": total_bytes, "load_s": t1 - t0, "dis_s": t2 - t1, "write_s": t3 - t2}


# --- command line --------------------------------------------------------------------------------


def main(argv: List[str]) -> int:
    if not argv:
        sys.stderr.write(__doc__ or "")
        return 2
    command, args = argv[0], argv[1:]
    result: Optional[Dict[str, Any]]
    if command == "version" and not args:
        print("%d.%d.%d" % sys.version_info[:3])
        return 0
    if command == "fixtures" and len(args) == 2:
        result = make_fixtures(args[0], args[1])
    elif command == "dis-batch" and len(args) == 1:
        result = dis_batch(args[0])
    elif command == "compile-dir" and len(args) in (2, 4) and (len(args) == 2 or args[2] == "--optimize"):
        result = compile_tree(args[0], args[1], int(args[3]) if len(args) == 4 else 0)
    elif command == "bench" and len(args) == 2:
        result = bench(args[0], args[1])
    else:
        sys.stderr.write("fixtures_oracle.py: bad arguments %r\n\n%s" % (argv, __doc__))
        return 2
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
