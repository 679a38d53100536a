"""The aggregated call tree the tracers and the sampler build, and how it becomes the profile
document's thread trees, flat table and text table.

A node is a plain list (the hot paths index it with constant subscripts, which CPython
specialises; attribute access on objects is slower before 3.11 and no faster after). Slots:

======  ===============  ====================================================================
index   name             meaning
======  ===============  ====================================================================
0       CHILDREN         dict: key -> child node. Key: ``id(code)`` for Python code (hashing a
                         code object rehashes its constants on every lookup: ~0.7 us on 3.12),
                         the callable or ``(type, name)`` for builtins. (The sampler also stores
                         the node itself there to mark code folded into it.)
1       CALLS            entries into this node: calls, plus resumptions of a generator or
                         coroutine (cProfile counts the same way).
2       TOTAL            measured time inside, in clock seconds (float: the specialised float
                         arithmetic is cheaper than multi-digit ints of nanoseconds). Before
                         3.12, while a call runs, its entry time is subtracted here instead of
                         kept in T0 (and added back with the exit time).
3       T0 / SELF        trace mode (3.12+): the clock when the running call entered (a node is
                         on a thread's stack at most once, because a node *is* a call path).
                         Sample mode: the weight of samples where this node was the leaf.
4       KEY              the code object (or builtin key); None for a thread's root.
5       FOLDED           1 for a frame that is not shown: library code called by library code,
                         or (before 3.12) excluded code. Folded nodes are real stack entries, so
                         the hot paths need no special case; :func:`visible_tree` dissolves them
                         (their time becomes their visible ancestor's self time, their calls its
                         HIDDEN_CALLS, their visible descendants its children).
6       HIDDEN_CALLS     folded calls inside this node that have no node of their own (builtins
                         called by library code); with the folded nodes, for overhead correction.
7       FRAME            index into the frame table; -1 for a thread's root.
8       QUIET            builtins called by this frame are not shown (library or excluded code).
9-12    NET, PEAK,       memory mode: net bytes (sum over calls), peak bytes above the entry
        MEM0, PEAK_SEEN  level (max over calls), the level at entry of the running call, the
                         highest level seen so far during the running call.
13      SAMPLES          sample mode: samples with this node on the stack.
14      LIB              library code called under this node is folded: 1 when it is library code
                         (or excluded code running on behalf of library code), 2 when it is
                         pyxray's own code (generated ``<string>`` code it calls stays user code).
15      SINK             before 3.12: the folded child that builtins called by this (quiet)
                         frame push, created on first use; Python code they call back hangs
                         under it (and so, once dissolved, under this node).
16-17   ALLOCS,          memory mode with the C engine: allocations and bytes allocated under
        ALLOC_BYTES      this node, callees included (the C engine also keeps its record's
                         index + 1 in MEM0 while it measures; see _accel.c).
18      EXECUTED         ``count="instructions"``: bytecode instructions executed while this
                         node was on top of its thread's stack (its own frame's, and those of
                         folded frames in it; :func:`visible_tree` adds a folded node's to its
                         visible ancestor's).
19      OFFSETS          sample mode: dict instruction offset (bytes) -> samples where this
                         node was the innermost visible frame, at that instruction of its own
                         code (the call site, when folded code below it ran); None until the
                         first (see :mod:`pyxray._profile_sites`).
======  ===============  ====================================================================

Times are corrected for the profiler's own cost while converting (:func:`thread_tree`): with
``callee`` seconds of overhead landing inside each visible call's measured time, ``caller``
seconds in its caller's self time, and ``hidden`` seconds per folded call, a node's self time is
``measured self - callee*calls - caller*(calls of its children) - hidden*(folded calls in it)``,
and its total is its self time plus its children's corrected totals -- so the
document always satisfies ``totalNs == selfNs + sum(child totalNs)``.

The subtraction is an average, and some events cost less than the calibrated ones (a builtin's
CALL/C_RETURN pair is cheaper than a Python call's events; a cached calibration may come from a
slower moment). Unchecked, it can take the self time of a function that does real work in many
calls to 0. So it is clamped per node: a node's self time is never less than ``floor`` per own
call (what an empty call costs its callee without the profiler, measured by the calibration:
no call of real code costs less) nor more than measured. What the clamp gave back is
counted (:class:`OverheadTally`) and reported in ``metadata.overhead`` (``subtractedNs``,
``clampedNs``, ``clampedNodes``) and the table's header (not as a warning: some clamping is
ordinary on a busy machine, and the numbers say how much).

Recursion: every level of a recursive call path is its own node (``fib -> fib -> fib``), and a
node's totalNs is the inclusive time of the calls through exactly that path, so no node counts
time twice. The flat per-function view (:func:`flat_table`) adds up ``totalNs`` (and sample
mode's ``samples``, also inclusive) only over nodes that have no ancestor of the same frame (the outermost active instance of the function), so
recursive functions are never double counted; calls and self times add up over all nodes.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is for type checkers only
    from typing import Any, Callable, Dict, List

    Node = List[Any]
    Doc = Dict[str, Any]

CHILDREN, CALLS, TOTAL, T0, KEY, FOLDED, HIDDEN_CALLS, FRAME, QUIET = range(9)
SELF = T0
NET, PEAK, MEM0, PEAK_SEEN = 9, 10, 11, 12
SAMPLES = 13
LIB = 14
SINK = 15
ALLOCS, ALLOC_BYTES = 16, 17
EXECUTED = 18
OFFSETS = 19
NODE_SIZE = 20


def new_node(frame: int, key: Any, lib: bool, folded: bool = False, quiet: bool | None = None) -> Node:
    """A fresh node (every slot present, so any mode can use it). ``quiet`` defaults to ``lib``."""
    return [{}, 0, 0.0, 0.0, key, 1 if folded else 0, 0, frame, lib if quiet is None else quiet, 0, 0, 0, 0, 0, lib, None, 0, 0, 0, None]


def new_root() -> Node:
    """A thread's root: not a frame, not library code."""
    return new_node(-1, None, False)


def real_children(node: Node) -> list[Node]:
    """The node's children (with its SINK), without the sampler's folded-code markers (the node
    itself)."""
    kids = [child for child in node[CHILDREN].values() if child is not node]
    if node[SINK] is not None:
        kids.append(node[SINK])
    return kids


def visible_tree(root: Node) -> Node:
    """A copy of a thread's tree without folded nodes (see FOLDED), iteratively."""

    def copy(node: Node) -> Node:
        out = list(node)
        out[CHILDREN] = {}
        out[SINK] = None
        return out

    top = copy(root)
    work = [(root, top)]
    while work:
        source, target = work.pop()
        kids = target[CHILDREN]
        todo = real_children(source)
        while todo:
            child = todo.pop()
            if child[FOLDED]:
                target[HIDDEN_CALLS] += child[CALLS] + child[HIDDEN_CALLS]
                target[EXECUTED] += child[EXECUTED]
                todo.extend(real_children(child))
            else:
                twin = copy(child)
                kids[len(kids)] = twin
                work.append((child, twin))
    return top


def merge_duplicate_frames(root: Node) -> None:
    """Merges siblings with the same frame (two code objects for the same function, e.g. a module
    compiled twice), in place, at every depth (iteratively: trees can be 10,000+ levels deep)."""
    todo = [root]
    while todo:
        node = todo.pop()
        kids = node[CHILDREN]
        by_frame: dict[int, Node] = {}
        for key, child in list(kids.items()):
            if child is node:
                continue
            first = by_frame.get(child[FRAME])
            if first is None:
                by_frame[child[FRAME]] = child
                continue
            _merge_into(first, child)
            del kids[key]
        todo.extend(by_frame.values())


def _merge_into(dst: Node, src: Node) -> None:
    pairs = [(dst, src)]
    while pairs:
        a, b = pairs.pop()
        a[CALLS] += b[CALLS]
        a[TOTAL] += b[TOTAL]
        a[SELF] += b[SELF]  # sample mode's self weight (trace mode's T0 is unused by now)
        a[HIDDEN_CALLS] += b[HIDDEN_CALLS]
        a[NET] += b[NET]
        a[PEAK] = max(a[PEAK], b[PEAK])
        a[ALLOCS] += b[ALLOCS]
        a[ALLOC_BYTES] += b[ALLOC_BYTES]
        a[SAMPLES] += b[SAMPLES]
        a[EXECUTED] += b[EXECUTED]
        if len(b) > OFFSETS and b[OFFSETS]:
            merged = dict(a[OFFSETS] or {})  # a copy: visible_tree's copies share the dicts
            for offset, n in b[OFFSETS].items():
                merged[offset] = merged.get(offset, 0) + n
            a[OFFSETS] = merged
        by_frame = {c[FRAME]: c for c in real_children(a)}
        kids = a[CHILDREN]
        for key, child in b[CHILDREN].items():
            if child is b:
                continue
            twin = by_frame.get(child[FRAME])
            if twin is None:
                # b's key may name another child of a (visible_tree numbers every node's
                # children from 0): a free key then, else that child would be lost.
                free = len(kids)
                while key in kids:
                    key, free = free, free + 1
                kids[key] = child
                by_frame[child[FRAME]] = child
            else:
                pairs.append((twin, child))


class OverheadTally:
    """What the overhead correction did over a profile's trees, in clock units: the time it
    subtracted (after clamping), the time the clamp gave back, and at how many nodes."""

    def __init__(self) -> None:
        self.subtracted = 0.0
        self.clamped = 0.0
        self.clamped_nodes = 0

    def add(self, subtracted: float, clamped: float) -> None:
        self.subtracted += subtracted
        if clamped > 0:
            self.clamped += clamped
            self.clamped_nodes += 1


def clamp_self(measured: float, estimate: float, floor: float) -> tuple[float, float, float]:
    """A node's self time after subtracting the ``estimate`` of overhead from its ``measured``
    self time, never below ``floor`` (nor above measured: the floor cannot add time that was not
    measured): (self time, subtracted, clamped). The inputs are in any one unit."""
    lowest = min(max(floor, 0.0), max(measured, 0.0))
    corrected = measured - estimate
    if corrected >= lowest:
        return corrected, estimate, 0.0
    subtracted = max(0.0, measured - lowest)
    return lowest, subtracted, max(0.0, estimate - subtracted)


def thread_tree(
    root: Node,
    *,
    scale: float,
    callee: float = 0.0,
    caller: float = 0.0,
    hidden: float = 0.0,
    floor: float = 0.0,
    memory: bool = False,
    allocations: bool = False,
    sampled: bool = False,
    instructions: bool = False,
    tally: OverheadTally | None = None,
    sites: Any = None,
) -> dict[str, Any]:
    """One thread's tree as document nodes (``frame``, ``calls``, ``totalNs``, ``selfNs``,
    ``memory``, ``samples``, ``executedInstructions`` (self: executed in the node's own and folded frames,
    with ``instructions=True``), ``children`` sorted by totalNs, largest first).

    ``scale`` converts clock units to nanoseconds; ``callee``/``caller``/``hidden`` are the
    per-call overheads to subtract, in clock units (see the module docstring): a node's self time
    is its measured self time less ``callee`` per own call, ``caller`` per call of a child and
    ``hidden`` per folded call, clamped at ``floor`` per own call (see :func:`clamp_self`;
    ``tally`` counts what was subtracted and clamped); its total is then its self time plus its
    children's totals.
    Sampled trees take self time from the SELF slot; with ``sites`` (a
    :class:`pyxray._profile_sites.Sites`) their nodes' instruction offsets go to the document too.
    Iterative: any depth."""
    # Work entries: [node, its real children, next child index, finished children]; a finished
    # child is (document node, measured total in clock units, calls).
    work: list[list[Any]] = [[root, real_children(root), 0, []]]
    out: dict[str, Any] = {}
    while work:
        entry = work[-1]
        node, kids, index, done = entry
        if index < len(kids):
            entry[2] = index + 1
            child = kids[index]
            work.append([child, real_children(child), 0, []])
            continue
        work.pop()
        calls = node[CALLS]
        if sampled:
            self_time = node[SELF]
        else:
            child_measured = 0.0
            child_calls = 0
            for _, measured, count in done:
                child_measured += measured
                child_calls += count
            measured_self = node[TOTAL] - child_measured
            estimate = callee * calls + caller * child_calls + hidden * node[HIDDEN_CALLS]
            self_time, subtracted, clamped = clamp_self(measured_self, estimate, floor * calls)
            if tally is not None:
                tally.add(subtracted, clamped)
        done.sort(key=lambda item: -item[0]["totalNs"])
        self_ns = max(0, int(round(self_time * scale)))
        out = {
            "frame": node[FRAME] if node[FRAME] >= 0 else None,
            "calls": calls,
            # integers, and total == self + sum(children) exactly (see the module docstring)
            "totalNs": self_ns + sum(item[0]["totalNs"] for item in done),
            "selfNs": self_ns,
        }
        if memory:
            out["memory"] = {"netBytes": int(node[NET]), "peakBytes": int(max(0, node[PEAK]))}
            if allocations:
                out["memory"]["allocations"] = int(node[ALLOCS])
                out["memory"]["allocatedBytes"] = int(node[ALLOC_BYTES])
        if sampled:
            out["samples"] = node[SAMPLES]
            if sites is not None and len(node) > OFFSETS and node[OFFSETS] and node[FRAME] >= 0:
                sites.add(node[FRAME], node[KEY], node[OFFSETS], out)
        if instructions:
            out["executedInstructions"] = node[EXECUTED]
        out["children"] = [item[0] for item in done]
        if work:
            work[-1][3].append((out, node[TOTAL], calls))
    return out


def flatten_tree(tree: dict[str, Any]) -> list[dict[str, Any]]:
    """A nested document tree (:func:`thread_tree`) as the document's flat ``nodes``: preorder,
    children in their order, each node with ``parent`` (the index of its parent, None for the
    root) instead of ``children``. Iterative: any depth."""
    nodes: list[dict[str, Any]] = []
    todo: list[tuple[dict[str, Any], int | None]] = [(tree, None)]
    while todo:
        node, parent = todo.pop()
        index = len(nodes)
        flat = {"parent": parent}
        for key, value in node.items():
            if key != "children":
                flat[key] = value
        nodes.append(flat)
        children = node["children"]
        for i in range(len(children) - 1, -1, -1):
            todo.append((children[i], index))
    return nodes


def thread_nodes(thread: dict[str, Any]) -> list[dict[str, Any]]:
    """A document thread's nodes, flat (versions 2 and 3 as they are; version 1's nested ``root`` flattened)."""
    nodes = thread.get("nodes")
    return nodes if nodes is not None else flatten_tree(thread["root"])


def flat_table(doc: Doc) -> list[dict[str, Any]]:
    """Per-function totals over every thread: ``frame`` (index), ``calls``, ``selfNs``,
    ``totalNs`` and ``samples`` (inclusive: outermost instances only, see the module docstring, so
    that each sample counts once however often the function is on its stack); sorted by
    self time, largest first. Reads either document version."""
    rows: dict[int, dict[str, Any]] = {}
    for thread in doc["threads"]:
        nodes = thread_nodes(thread)
        # The preorder walks one root-to-node path at a time: before a node, the path is cut back
        # to its parent. on_path counts the frames on it, so a recursive function's total is
        # counted at its outermost node only.
        path: list[int] = []
        on_path: dict[int, int] = {}
        for index, node in enumerate(nodes):
            parent = node["parent"]
            while path and path[-1] != parent:
                gone = nodes[path.pop()]["frame"]
                if gone is not None:
                    on_path[gone] -= 1
            frame = node["frame"]
            if frame is not None:
                outermost = not on_path.get(frame)
                on_path[frame] = on_path.get(frame, 0) + 1
                row = rows.get(frame)
                if row is None:
                    row = rows[frame] = {"frame": frame, "calls": 0, "selfNs": 0, "totalNs": 0, "samples": 0}
                row["calls"] += node["calls"]
                row["selfNs"] += node["selfNs"]
                if outermost:
                    # inclusive quantities: a node's samples are samples with it on the stack,
                    # so a recursive function's nested nodes count the same samples again
                    row["totalNs"] += node["totalNs"]
                    row["samples"] += node.get("samples", 0)
            path.append(index)
    return sorted(rows.values(), key=lambda r: (-r["selfNs"], -r["totalNs"], r["frame"]))


def frame_label(frame: dict[str, Any]) -> str:
    """``qualname (file:line)`` with the file shortened to its last two parts."""
    if frame["kind"] == "builtin":
        module = frame.get("module")
        return "{}.{}".format(module, frame["qualname"]) if module and module != "builtins" else frame["qualname"]
    file = frame["file"].replace("\\", "/")
    parts = file.split("/")
    short = "/".join(parts[-2:]) if len(parts) > 2 else file
    return "{}  ({}:{})".format(frame["qualname"], short, frame["firstlineno"])


def _ms(ns: int) -> str:
    return "{:.3f}".format(ns / 1e6)


def format_table(doc: Doc, top: int = 15, width: int = 100) -> str:
    """A compact text table of the ``top`` functions by self time."""
    meta = doc["metadata"]
    rows = flat_table(doc)
    grand = sum(thread_nodes(t)[0]["totalNs"] for t in doc["threads"]) or 1
    sampled = meta["mode"] == "sample"
    head = "pyxray: {} mode, {} clock, {} ms, {} thread{}".format(
        meta["mode"], meta["clock"], _ms(meta["durationNs"]), len(doc["threads"]), "" if len(doc["threads"]) == 1 else "s"
    )
    if sampled:
        head += ", {} samples every {} ms".format(meta.get("samples", 0), _ms(meta.get("intervalNs", 0)))
    elif meta.get("overheadNsPerEvent"):
        head += ", {:.0f} ns/event overhead subtracted".format(meta["overheadNsPerEvent"])
        overhead = meta.get("overhead") or {}
        if "subtractedNs" in overhead:
            head += " ({} ms in all".format(_ms(overhead["subtractedNs"]))
            if overhead.get("clampedNs"):
                head += ", {} ms clamped at {} node{}".format(_ms(overhead["clampedNs"]), overhead["clampedNodes"], "" if overhead["clampedNodes"] == 1 else "s")
            head += ")"
    if meta.get("partial"):
        head += " (partial)"
    lines = [head]
    for warning in meta.get("warnings", []):
        lines.append("warning: " + warning)
    count_title = "samples" if sampled else "calls"
    lines.append("{:>9} {:>11} {:>11} {:>6}  {}".format(count_title, "self ms", "total ms", "self%", "function"))
    frames = doc["frames"]
    for row in rows[: max(0, top)]:
        count = row["samples"] if sampled else row["calls"]
        label = frame_label(frames[row["frame"]])
        line = "{:>9} {:>11} {:>11} {:>6.1f}  {}".format(count, _ms(row["selfNs"]), _ms(row["totalNs"]), 100.0 * row["selfNs"] / grand, label)
        lines.append(line[: max(width, 60)] if width else line)
    if len(rows) > top:
        lines.append("({} more functions)".format(len(rows) - top))
    return "\n".join(lines) + "\n"


def format_processes(doc: Doc, width: int = 100) -> str:
    """One line per child process of the document (``processes``): pid, parent, exit status,
    time and command line; empty without children."""
    processes = doc.get("processes") or []
    if not processes:
        return ""
    lines = ["pyxray: {} child process{} (pyxray report shows each one's table):".format(len(processes), "" if len(processes) == 1 else "es")]
    for process in processes:
        meta = process["metadata"]
        status = meta.get("exitStatus")
        line = "  pid {} (parent {}) exit {}{}, {} ms: {}".format(
            meta.get("pid", "?"),
            meta.get("parentPid", "?"),
            "?" if status is None else status,
            " (partial)" if meta.get("partial") else "",
            _ms(meta.get("durationNs", 0)),
            " ".join(meta.get("argv", [])),
        )
        lines.append(line[: max(width, 60)] if width else line)
    return "\n".join(lines) + "\n"


def iter_nodes(doc: Doc, visit: Callable[[dict[str, Any], int], None]) -> None:
    """Calls ``visit(node, depth)`` for every node of every thread, in preorder (either document
    version; nodes as flat nodes)."""
    for thread in doc["threads"]:
        depths: list[int] = []
        for node in thread_nodes(thread):
            parent = node["parent"]
            depth = 0 if parent is None else depths[parent] + 1
            depths.append(depth)
            visit(node, depth)
