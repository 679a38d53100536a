"""A cheap upper bound on how deeply a source's syntax tree nests, from its tokens alone.

Why: inside Pyodide, CPython's own recursion guards do not see the JavaScript engine's native stack,
so compiling or parsing a very deep expression (a chain of ~1500 ``+`` in Node's main thread) kills
the whole interpreter with "Maximum call stack size exceeded" instead of raising RecursionError.
The agent checks this bound first there and answers with an error instead (see
:mod:`pyxray.compiler`). Native CPython raises RecursionError/MemoryError itself and needs no check.

The bound counts, per logical line, the operators and keywords between commas (each one can add
a tree level: ``a + b + c`` nests left, ``a.b.c`` nests, ``not not x`` nests), adds what nested
brackets contribute, and adds the statement nesting (indentation and ``elif`` chains, which nest
``If`` nodes in ``orelse``). It over-estimates flat constructs such as ``a and b and c``, which is
fine for a guard: only absurdly long single expressions reach the limit.
"""

from __future__ import annotations

import io
import keyword
import re
import tokenize
TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is for type checkers only: importing it would slow the worker's start
    from typing import Iterator

#: Generous slack per statement for the levels the count does not see (Module, Expr, Tuple...).
_STATEMENT_SLACK = 8

_OPENING = frozenset("([{")  # "{" is also a replacement field in an f-string
_CLOSING = frozenset(")]}")
_SEPARATORS = frozenset((",", ";"))

# f-strings (3.12+) and t-strings (3.14+) are token groups that enclose expressions, like brackets.
_GROUP_START = frozenset(
    getattr(tokenize, name) for name in ("FSTRING_START", "TSTRING_START") if hasattr(tokenize, name)
)
_GROUP_END = frozenset(
    getattr(tokenize, name) for name in ("FSTRING_END", "TSTRING_END") if hasattr(tokenize, name)
)


class _Group:
    """The running count of one bracket level (or the statement's top level)."""

    __slots__ = ("ops", "inner", "best", "is_string")

    def __init__(self, is_string: bool = False) -> None:
        self.is_string = is_string  # an f-string or t-string: its {fields} are siblings
        self.ops = 0  # operators and keywords since the last comma
        self.inner = 0  # the deepest nested group since the last comma
        self.best = 0  # the deepest segment so far

    def end_segment(self) -> None:
        """A comma (or the group's end): the next operand is a sibling, not a child."""
        self.best = max(self.best, self.ops + self.inner)
        self.ops = 0
        self.inner = 0


def _tokens(source: str | bytes) -> Iterator[tokenize.TokenInfo]:
    """The tokens of ``source``; bytes are decoded as Python would (coding cookie, BOM)."""
    if isinstance(source, bytes):
        return tokenize.tokenize(io.BytesIO(source).readline)
    return tokenize.generate_tokens(io.StringIO(source).readline)


def nesting_bound(source: str | bytes) -> int:
    """An upper bound (up to small slack) on the depth of ``source``'s syntax tree.

    Tokenizing stops at the first error; the bound then covers the part before it, which is
    what the parser would have to get through before reporting the error.
    """
    return _bound(source)[0]


#: A line at column 0 that starts a top-level statement other than ``elif``/``else`` (which
#: continue the statement before them). Inside a string or brackets such a line is no boundary,
#: but then the part before it does not tokenize on its own, and the whole source is counted.
_TOP_LEVEL = re.compile(r"^(?=[^\s#)\]}])(?!(?:elif|else)\b)", re.MULTILINE)

#: Bounds of top-level pieces seen before, by text (an edit re-counts only what it changed).
_piece_bounds: dict[str, int] = {}
_PIECES_KEPT = 20000


def nesting_bound_cached(source: str | bytes) -> int:
    """:func:`nesting_bound`, counted per top-level statement and remembered by its text.

    Each piece starts at column 0 outside any statement, so when every piece tokenizes on its
    own to the end with nothing left open, its tokens are exactly the whole source's tokens
    there, and the largest piece bound is the whole bound. Otherwise (a string or brackets
    across a piece boundary, an error) the whole source is counted as one.
    """
    if isinstance(source, bytes):
        return nesting_bound(source)
    starts = [m.start() for m in _TOP_LEVEL.finditer(source)]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    starts.append(len(source))
    deepest = 0
    fresh: dict[str, int] = {}
    for a, b in zip(starts, starts[1:]):
        piece = source[a:b]
        bound = _piece_bounds.get(piece)
        if bound is None:
            bound = fresh.get(piece)
        if bound is None:
            bound, clean = _bound(piece)
            if not clean:
                return nesting_bound(source)
            fresh[piece] = bound
        deepest = max(deepest, bound)
    if len(_piece_bounds) + len(fresh) > _PIECES_KEPT:
        _piece_bounds.clear()
    _piece_bounds.update(fresh)
    return deepest


def _bound(source: str | bytes) -> tuple[int, bool]:
    """The bound, and whether the tokens ran to the end with no bracket or group left open."""
    clean = True
    deepest = 0
    groups: list[_Group] = [_Group()]
    # chains[level]: elif clauses so far in the if-statement at indentation `level`.
    chains: list[int] = [0]
    line_start = True
    try:
        for tok in _tokens(source):
            kind, text = tok.type, tok.string
            if kind == tokenize.INDENT:
                chains.append(0)
                continue
            if kind == tokenize.DEDENT:
                if len(chains) > 1:
                    chains.pop()
                continue
            if kind == tokenize.NEWLINE or kind == tokenize.ENDMARKER:
                top = groups[0]
                top.end_segment()
                statements = sum(chains) + 2 * len(chains)
                deepest = max(deepest, top.best + statements + _STATEMENT_SLACK)
                groups = [_Group()]
                line_start = True
                continue
            if kind in (tokenize.NL, tokenize.COMMENT, tokenize.ENCODING):
                continue
            if line_start:
                line_start = False
                if kind == tokenize.NAME and text == "elif":
                    chains[-1] += 1
                elif not (kind == tokenize.NAME and text == "else"):
                    chains[-1] = 0
            if kind in _GROUP_START:
                groups[-1].ops += 1
                groups.append(_Group(is_string=True))
            elif kind == tokenize.OP and text in _OPENING:
                parent = groups[-1]
                if parent.is_string:
                    parent.end_segment()  # one more replacement field
                elif text != "{":
                    parent.ops += 1  # a call or subscript also nests what it is applied to
                groups.append(_Group())
            elif kind in _GROUP_END or (kind == tokenize.OP and text in _CLOSING):
                if len(groups) > 1:
                    closed = groups.pop()
                    closed.end_segment()
                    groups[-1].inner = max(groups[-1].inner, closed.best + 1)
            elif kind == tokenize.OP and text in _SEPARATORS:
                groups[-1].end_segment()
            elif kind == tokenize.OP or (kind == tokenize.NAME and keyword.iskeyword(text)):
                groups[-1].ops += 1
    except (tokenize.TokenError, SyntaxError, UnicodeDecodeError, ValueError):
        clean = False
    if len(groups) > 1:
        clean = False
    # Whatever is still open when the tokens stop (an error, or unclosed brackets) counts too.
    while len(groups) > 1:
        closed = groups.pop()
        closed.end_segment()
        groups[-1].inner = max(groups[-1].inner, closed.best + 1)
    groups[0].end_segment()
    statements = sum(chains) + 2 * len(chains)
    return max(deepest, groups[0].best + statements + _STATEMENT_SLACK), clean
