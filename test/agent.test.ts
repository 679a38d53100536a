/**
 * The Python agent (python/pyxray) on every interpreter: the real stdio worker on each native
 * CPython of src/versions (pyenv's, and 3.14/3.15 of scripts/setup-native-pythons.sh), and
 * `handle_json` called directly inside Pyodide (CPython 3.14) as an extra oracle.
 *
 * - the protocol: the ready line, ids, results and every error code, malformed lines, shutdown;
 * - the protocol cannot be corrupted by what a request prints (stdout, fd 1) or reads (stdin);
 * - AST completeness: tricky snippets and ~20 stdlib modules are parsed by the agent, the JSON goes
 *   through JavaScript (parse + stringify, as the real client does) and back to the same
 *   interpreter, which rebuilds `ast` nodes from it: `ast.dump(include_attributes=True)` must equal
 *   that of `ast.parse` — so the JSON carries everything the dump shows;
 * - compile: the marshal bytes load into a code object equal, in every co_* attribute down the
 *   constants tree, to `compile()`'s (marshal.dumps bytes themselves depend on reference counts:
 *   FLAG_REF marks only objects referenced more than once, so they are no oracle);
 * - syntax errors with positions (end positions from 3.10), warnings, deep trees, and Pyodide's
 *   guard against sources deep enough to overflow the JavaScript stack.
 *
 * - the agent's list of supported versions (python/pyxray/_versions.py) is src/versions' list.
 *
 * A missing interpreter is skipped with the reason shown, except under CI=true.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { describe, type TestContext, test } from 'node:test'
import { PYODIDE_MINOR } from '../src/runtime/index.js'
import { MAX_MINOR, SUPPORTED_MINORS, SUPPORTED_RANGE } from '../src/versions/index.js'
import { NATIVE_MINORS, pythonFor, requirePython, stdlibDir } from './pyenv.js'
import { requireResource } from './resources.js'

const PYTHON_DIR = join(import.meta.dirname, '..', 'python')
const AGENT_DIR = join(PYTHON_DIR, 'pyxray')
const AGENT_VERSION = /__version__ = "([^"]+)"/.exec(readFileSync(join(AGENT_DIR, '__init__.py'), 'utf8'))?.[1]
/** How the runtime starts the worker (see python/pyxray/worker.py). A JSON string is a valid Python literal. */
const bootstrap = (body = 'from pyxray.worker import main; main()') =>
  `import sys; sys.path.insert(0, ${JSON.stringify(PYTHON_DIR)})\n${body}`

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
interface AgentError {
  code: string
  message: string
  [detail: string]: Json
}
interface Reply {
  id: number | null
  result?: { [key: string]: Json }
  error?: AgentError
}

// ---------------------------------------------------------------------------------------------
// The worker process

/** A running worker: lines in, lines out. */
class Worker {
  readonly child
  readonly exited: Promise<number | null>
  stderr = ''
  private readonly lines: string[] = []
  private waiting: ((line: string | undefined) => void) | undefined
  private closed = false

  constructor(python: string, code = bootstrap()) {
    this.child = spawn(python, ['-I', '-u', '-c', code], { stdio: ['pipe', 'pipe', 'pipe'] })
    this.child.stderr.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d
    })
    const rl = createInterface({ input: this.child.stdout, crlfDelay: Number.POSITIVE_INFINITY })
    rl.on('line', (line) => {
      if (this.waiting) {
        const w = this.waiting
        this.waiting = undefined
        w(line)
      } else this.lines.push(line)
    })
    rl.on('close', () => {
      this.closed = true
      this.waiting?.(undefined)
    })
    this.exited = new Promise((resolve) => this.child.on('close', (status) => resolve(status)))
    this.child.stdin.on('error', () => {}) // EPIPE after the worker exited: its status tells the story
  }

  /** The next stdout line; fails when the worker closed its stdout first. */
  async nextLine(): Promise<string> {
    const ready = this.lines.shift()
    if (ready !== undefined) return ready
    if (this.closed) assert.fail(`the worker closed stdout; stderr:\n${this.stderr}`)
    const line = await new Promise<string | undefined>((resolve) => {
      this.waiting = resolve
    })
    if (line === undefined) assert.fail(`the worker closed stdout; stderr:\n${this.stderr}`)
    return line
  }

  /** Writes lines to stdin at once. */
  send(lines: string[]) {
    this.child.stdin.write(lines.map((l) => `${l}\n`).join(''))
  }

  /** Sends lines at once (pipelined), then reads one reply per non-blank line. */
  async exchange(lines: string[]): Promise<Reply[]> {
    this.send(lines)
    const replies: Reply[] = []
    for (const l of lines) if (l.trim() !== '') replies.push(JSON.parse(await this.nextLine()) as Reply)
    return replies
  }

  /** Kills the worker if it still runs (after a failed assertion), so the test process can end. */
  kill() {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill()
  }

  /** Ends stdin, waits for the exit status and checks nothing else was written to stdout. */
  async finish(): Promise<number | null> {
    this.child.stdin.end()
    const status = await this.exited
    assert.deepEqual(this.lines, [], 'nothing after the last reply')
    return status
  }
}

/** Runs `python -I -c code args…` and collects its output. */
function runPython(python: string, code: string, args: string[] = []): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, ['-I', '-c', code, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
    })
    child.on('error', reject)
    child.on('close', (status) => resolve({ status, stdout, stderr })) // 'close': after the output
  })
}

// ---------------------------------------------------------------------------------------------
// Protocol cases, shared by the worker and Pyodide

interface Case {
  line: string
  check: (reply: Reply) => void
}

const request = (id: number, method: string, params?: { [key: string]: Json }) =>
  JSON.stringify(params === undefined ? { id, method } : { id, method, params })

function ok(reply: Reply, id: number): { [key: string]: Json } {
  assert.equal(reply.error, undefined, `request ${id} failed: ${JSON.stringify(reply.error)}`)
  assert.equal(reply.id, id)
  assert.ok(reply.result, `request ${id} has a result`)
  return reply.result
}

function failed(reply: Reply, id: number | null, code: string): AgentError {
  assert.equal(reply.id, id)
  assert.equal(reply.result, undefined)
  assert.ok(reply.error, `request ${id} should fail with ${code}`)
  assert.equal(reply.error.code, code, JSON.stringify(reply.error))
  assert.equal(typeof reply.error.message, 'string')
  return reply.error
}

function checkInfo(info: { [key: string]: Json }, minor: number) {
  assert.equal(info.implementation, 'CPython')
  assert.match(String(info.version), new RegExp(`^3\\.${minor}\\.\\d+$`))
  assert.ok(Array.isArray(info.versionInfo))
  assert.deepEqual(info.versionInfo.slice(0, 2), [3, minor])
  assert.equal(info.version, info.versionInfo.slice(0, 3).join('.'))
  assert.ok(Number.isInteger(info.magic) && (info.magic as number) > 3000 && (info.magic as number) < 65536)
  assert.equal(typeof info.executable, 'string')
  assert.equal(typeof info.platform, 'string')
  assert.equal(info.agent, AGENT_VERSION)
}

/** Lines to send and what each reply must be; blank lines get no reply. */
function protocolCases(minor: number): Case[] {
  const syntaxError = (id: number) => (r: Reply) => {
    const e = failed(r, id, 'SYNTAX_ERROR')
    assert.equal(e.type, 'SyntaxError')
    assert.equal(e.filename, 'bad.py')
    assert.equal(e.lineno, 1)
    assert.ok(Number.isInteger(e.offset) && (e.offset as number) >= 1, `offset ${e.offset}`)
    assert.equal(e.text, 'def f(:\n')
    if (minor >= 10) {
      assert.equal(e.end_lineno, 1)
      assert.ok(Number.isInteger(e.end_offset), `end_offset ${e.end_offset}`)
    } else {
      assert.equal(e.end_lineno, null)
      assert.equal(e.end_offset, null)
    }
  }
  return [
    { line: request(1, 'info'), check: (r) => checkInfo(ok(r, 1), minor) },
    { line: request(2, 'ping'), check: (r) => assert.deepEqual(ok(r, 2), {}) },
    {
      line: request(3, 'compile', { source: 'x = 1\nprint(x is 1)\n', filename: 'demo.py' }),
      check: (r) => {
        const res = ok(r, 3)
        assert.match(String(res.marshal), /^[A-Za-z0-9+/]+=*$/)
        assert.ok(Number.isInteger(res.magic))
        assert.deepEqual(res.warnings, [
          { category: 'SyntaxWarning', message: (res.warnings as { message: string }[])[0]?.message ?? '', filename: 'demo.py', lineno: 2 },
        ])
      },
    },
    { line: request(4, 'compile', { source: '1 + 2', mode: 'eval', optimize: 2 }), check: (r) => assert.deepEqual(ok(r, 4).warnings, []) },
    {
      line: request(5, 'parse', { source: 'x = 1\n' }),
      check: (r) => {
        const tree = ok(r, 5).ast as { _type: string; body: { [k: string]: Json }[] }
        assert.equal(tree._type, 'Module')
        assert.deepEqual(tree.body[0], {
          _type: 'Assign',
          targets: [{ _type: 'Name', id: 'x', ctx: { _type: 'Store' }, lineno: 1, col_offset: 0, end_lineno: 1, end_col_offset: 1 }],
          value: { _type: 'Constant', value: 1, kind: null, lineno: 1, col_offset: 4, end_lineno: 1, end_col_offset: 5 },
          type_comment: null,
          lineno: 1,
          col_offset: 0,
          end_lineno: 1,
          end_col_offset: 5,
        })
      },
    },
    { line: request(6, 'parse', { source: 'def f(:\n', filename: 'bad.py' }), check: syntaxError(6) },
    { line: '', check: () => {} },
    { line: request(7, 'compile', { source: 'def f(:\n', filename: 'bad.py' }), check: syntaxError(7) },
    {
      line: request(8, 'compile', { source: 'if x:\npass\n' }),
      check: (r) => {
        const e = failed(r, 8, 'SYNTAX_ERROR')
        assert.equal(e.type, 'IndentationError')
        assert.equal(e.lineno, 2)
        assert.equal(e.filename, '<string>')
      },
    },
    {
      line: request(9, 'compile', { source: 'if 1:\n        x = 1\n\ty = 2\n' }),
      check: (r) => assert.equal(failed(r, 9, 'SYNTAX_ERROR').type, 'TabError'),
    },
    {
      line: request(10, 'compile', { source: 'a\u0000b', filename: 'nul.py' }),
      check: (r) => {
        // Null bytes became a SyntaxError (without a position) in 3.12 and in late 3.11 patch
        // releases; before, compile() raised ValueError.
        if (minor >= 12 || r.error?.code === 'SYNTAX_ERROR') assert.equal(failed(r, 10, 'SYNTAX_ERROR').filename, 'nul.py')
        else assert.equal(failed(r, 10, 'COMPILE_ERROR').type, 'ValueError')
      },
    },
    { line: request(11, 'nope'), check: (r) => assert.equal(failed(r, 11, 'UNKNOWN_METHOD').method, 'nope') },
    { line: request(12, 'compile', { source: 'x', mode: 'bogus' }), check: (r) => failed(r, 12, 'BAD_REQUEST') },
    { line: request(13, 'compile', { filename: 'nothing.py' }), check: (r) => failed(r, 13, 'BAD_REQUEST') },
    { line: request(14, 'compile', { source: 'x', optimize: true }), check: (r) => failed(r, 14, 'BAD_REQUEST') },
    { line: 'this is not json', check: (r) => failed(r, null, 'BAD_REQUEST') },
    { line: '[1, 2]', check: (r) => failed(r, null, 'BAD_REQUEST') },
    { line: '{"id": "7", "method": "ping"}', check: (r) => failed(r, null, 'BAD_REQUEST') },
    { line: '{"id": 15}', check: (r) => failed(r, 15, 'BAD_REQUEST') },
    { line: '{"id": 16, "method": "ping", "params": []}', check: (r) => failed(r, 16, 'BAD_REQUEST') },
    {
      line: request(17, 'parse', { source: '(int, *str) -> bool', mode: 'func_type' }),
      check: (r) => assert.equal((ok(r, 17).ast as { _type: string })._type, 'FunctionType'),
    },
    {
      line: request(18, 'compile', { sourceBase64: Buffer.from('# -*- coding: latin-1 -*-\ns = "\xe9"\n', 'latin1').toString('base64') }),
      check: (r) => ok(r, 18),
    },
    { line: request(19, 'compile', { sourceBase64: '***' }), check: (r) => failed(r, 19, 'BAD_REQUEST') },
    { line: request(20, 'ping', { ignored: [1, 2] }), check: (r) => assert.deepEqual(ok(r, 20), {}) },
  ]
}

function checkCases(cases: Case[], replies: Reply[]) {
  const answered = cases.filter((c) => c.line.trim() !== '')
  assert.equal(replies.length, answered.length)
  answered.forEach((c, i) => {
    c.check(replies[i]!)
  })
}

// ---------------------------------------------------------------------------------------------
// The corpus: snippets (by the first minor that parses them) and stdlib modules

interface Snippet {
  name: string
  minor: number
  source: string
  mode?: 'exec' | 'eval' | 'single' | 'func_type'
  typeComments?: boolean
  optimize?: number
}

const SNIPPETS: Snippet[] = [
  {
    name: 'constants',
    minor: 8,
    source: String.raw`
big = 9007199254740993
neg = -9007199254740993
edge = (9007199254740992, -9007199254740992, 0, -1)
huge = 0x${'f'.repeat(4000)}
floats = (1e16, 0.1, 1e400, -0.0, 1.5e-300, 2.5, 1_000.5)
imag = (1.5j, 1e400j, 0j)
data = b'\x00\xff' + rb'\n' + b''
text = ('\ud800', u'kind', 'héllo 🐍', "tab\tnew\nline", '''multi
line''', 'a' 'b')
dots = ...
flags = (True, False, None)
bad_escape = "\d"
`,
  },
  {
    name: 'statements',
    minor: 8,
    source: String.raw`"""Module docstring."""
from __future__ import annotations
import os.path as osp, sys
from . import sibling
from .. pkg import (a as b, c)

@decorator(arg)
@other.attr
class C(Base, metaclass=Meta, **kw):
    """Class docstring."""
    x: int = 1
    y: 'str'
    def method(self, a, /, b, *args, c=1, d, **kwargs) -> None:
        global G
        def inner():
            nonlocal a
            a += 1
        return lambda x, *y, z=3, **w: (x, y, z, w)

async def agen(xs):
    async with ctx() as (a, b), other():
        async for x in xs:
            yield await x
    result = [y async for y in xs if await y]
    g = (i async for i in xs)

def gen():
    x = yield
    yield from range(3)
    return x

try:
    pass
except (ValueError, TypeError) as e:
    raise RuntimeError("x") from e
except Exception:
    raise
else:
    pass
finally:
    del a, b[0], c.d

while (n := next(it)) is not None:
    if n:
        continue
    elif n is None:
        break
    else:
        pass
else:
    pass

for i, (j, *k) in enumerate(zip(a, b)):
    print(f"{i!r:>{width}} {j=} {k!s:{'x'}} {{literal}}", file=sys.stderr)
x = a if b else c
y = [i for i in range(3) if i for j in range(i)]
z = {k: v for k, v in d.items()}
s = {i for i in x}
t = a[1:2, ::3], a[...], a[i, j], a[:], a[1:2]
u = not a and b or c < d <= e != f is not g in h not in i
v = -a + ~b * c @ d / e // f % g ** h << i >> j & k | l ^ m
w = {**a, 'b': 1}, [*a, *b], f(*a, **b, c=1), {1, 2}, ()
assert x, "msg"
with open('f') as fh, other:
    pass
print(x, end=''); pass
x = y = z = 0
x += 1; x @= 2; x //= 3
a.b.c[d](e)(f)
*rest, last = items
ñandú = "é" + f"{ñandú!r}"  # 🐍 non-ASCII columns
cont = 1 + \
    2
`,
  },
  { name: 'crlf', minor: 8, source: 'x = 1\r\nif x:\r\n    y = 2\r\n' },
  { name: 'optimized', minor: 8, source: '"""doc"""\nassert x\ndef f():\n    "doc"\n    return __debug__\n', optimize: 2 },
  { name: 'eval', minor: 8, source: 'a if b else [c for c in d]', mode: 'eval' },
  { name: 'single', minor: 8, source: 'for x in y: print(x)\n', mode: 'single' },
  { name: 'func_type', minor: 8, source: '(int, *str, **bool) -> List[int]', mode: 'func_type' },
  {
    name: 'type_comments',
    minor: 8,
    typeComments: true,
    source: `def f(a, b):  # type: (int, str) -> None
    x = []  # type: List[int]
    for i in x:  # type: int
        pass
    with a as b:  # type: int
        pass

def g(a,  # type: int
      b,  # type: str
      ):
    # type: (...) -> None
    pass

import x  # type: ignore
y = 1  # type: ignore[misc]
`,
  },
  { name: 'decorators', minor: 9, source: '@buttons[0].clicked.connect\n@(lambda f: f)\ndef f(): pass\n' },
  {
    name: 'match',
    minor: 10,
    source: `match command.split():
    case [action]:
        pass
    case [action, obj, *rest]:
        pass
    case Point(x=0, y=0) | Point(1, 2):
        pass
    case {"x": x, "y": y, **others}:
        pass
    case [1, 2.5, -3, 1+2j, "s", b"b", None, True, False]:
        pass
    case (a as b) if b > 0:
        pass
    case Color.RED:
        pass
    case _:
        pass
with (open('a') as a, open('b') as b):
    pass
`,
  },
  {
    name: 'except star',
    minor: 11,
    source: 'try:\n    pass\nexcept* ValueError as eg:\n    pass\nexcept* (TypeError, KeyError):\n    pass\ndef f(*args: *Ts): pass\nx = a[*b]\n',
  },
  {
    name: 'type params and PEP 701',
    minor: 12,
    source: `type Alias[T] = list[T]
type Simple = int
def f[T: int, *Ts, **P](x: T) -> T: ...
class C[T: (int, str)](Base[T]): ...
s = f"{'nested' + f"{x!r:>{width}}"}"
s2 = f"{x:{y}.{z}f}"
s3 = f'{"\\n".join(a)}'
`,
  },
  { name: 'type param defaults', minor: 13, source: 'type A[T = int] = list[T]\ndef g[*Ts = *tuple[int], **P = [int]](): ...\n' },
  {
    name: 't-strings',
    minor: 14,
    source: 't = t"hello {name!r:>10} {x=} {y:{w}}"\nu = t"plain"\ntry:\n    pass\nexcept ValueError, TypeError:\n    pass\n',
  },
  // 3.15's lazy imports (PEP 810): Import and ImportFrom gained the field is_lazy.
  { name: 'lazy imports', minor: 15, source: 'lazy import json\nlazy from os import path as p\nimport sys\nfrom . import x\n' },
]

/**
 * Stdlib modules parsed on every interpreter that has them (at least 20 must be found): mid-sized
 * ones with decorators, annotations, f-strings, async code and comprehensions, plus CPython's own
 * syntax tests where installed.
 */
const STDLIB_MODULES = [
  'abc',
  'bisect',
  'contextlib',
  'copy',
  'dataclasses',
  'dis',
  'fractions',
  'functools',
  'graphlib',
  'heapq',
  'json.decoder',
  'json.encoder',
  'operator',
  'pprint',
  'shlex',
  'string',
  'textwrap',
  'tokenize',
  'weakref',
  'asyncio.locks',
  'asyncio.tasks',
  're._parser',
  'sre_parse',
  'annotationlib',
  'string.templatelib',
  // CPython's own syntax tests (not in Pyodide): every odd corner of the grammar.
  'test.test_grammar',
  'test.test_fstring',
  'test.test_type_params',
]

/** A source to send: text (snippets) or the file's bytes (stdlib files, so coding cookies apply). */
interface Source {
  name: string
  text?: string
  bytes?: Buffer
  mode: string
  typeComments: boolean
  optimize: number
  compile: boolean
}

/**
 * Trees deeper than the default recursion limit. Pyodide gets shallower ones: there the checker's
 * own ast.dump recurses through C and would overflow the JavaScript stack at 800 levels.
 */
function deepSnippets(minor: number, inPyodide: boolean): Snippet[] {
  const [terms, elifs] = inPyodide ? [200, 100] : [800, 300]
  return [
    { name: 'deep expression', minor, source: `x = ${Array.from({ length: terms }, (_, i) => `a${i}`).join(' + ')}\n` },
    { name: 'long elif chain', minor, source: `if a: pass\n${'elif b: pass\n'.repeat(elifs)}else: pass\n` },
  ]
}

function snippetsFor(minor: number, inPyodide = false): Source[] {
  return [...SNIPPETS, ...deepSnippets(minor, inPyodide)].filter((s) => s.minor <= minor).map((s) => ({
    name: s.name,
    text: s.source,
    mode: s.mode ?? 'exec',
    typeComments: s.typeComments ?? false,
    optimize: s.optimize ?? -1,
    compile: s.mode !== 'func_type',
  }))
}

function nativeStdlib(minor: number): Source[] {
  const lib = stdlibDir(minor)
  assert.ok(lib, `the stdlib of 3.${minor}`)
  const found: Source[] = []
  for (const name of STDLIB_MODULES) {
    const base = join(lib, ...name.split('.'))
    const file = [`${base}.py`, join(base, '__init__.py')].find((f) => existsSync(f))
    if (file !== undefined) {
      found.push({ name, bytes: readFileSync(file), mode: 'exec', typeComments: false, optimize: -1, compile: true })
    }
  }
  return found
}

const paramsOf = (s: Source, filename: string): { [key: string]: Json } => ({
  ...(s.bytes ? { sourceBase64: s.bytes.toString('base64') } : { source: s.text ?? '' }),
  filename,
  mode: s.mode,
})

/** The requests for a corpus: a parse (ids 2k+100) and a compile (2k+101) per source. */
function corpusRequests(sources: Source[]): string[] {
  return sources.flatMap((s, k) => {
    const filename = `${s.name}.py`
    const lines = [request(2 * k + 100, 'parse', { ...paramsOf(s, filename), type_comments: s.typeComments })]
    if (s.compile) lines.push(request(2 * k + 101, 'compile', { ...paramsOf(s, filename), optimize: s.optimize }))
    return lines
  })
}

/** What the checker gets: each source with the agent's AST JSON (re-serialized by JS) and marshal. */
function checkerItems(sources: Source[], replies: Reply[]): Json[] {
  const byId = new Map(replies.map((r) => [r.id, r]))
  return sources.map((s, k) => {
    const parsed = byId.get(2 * k + 100)
    assert.ok(parsed?.result, `${s.name}: parse failed: ${JSON.stringify(parsed?.error)}`)
    const item: { [key: string]: Json } = {
      ...paramsOf(s, `${s.name}.py`),
      name: s.name,
      type_comments: s.typeComments,
      optimize: s.optimize,
      ast: parsed.result.ast ?? null,
    }
    if (s.compile) {
      const compiled = byId.get(2 * k + 101)
      assert.ok(compiled?.result, `${s.name}: compile failed: ${JSON.stringify(compiled?.error)}`)
      item.marshal = compiled.result.marshal ?? null
    }
    return item
  })
}

/**
 * Runs in the interpreter under test: rebuilds real ast nodes from the agent's JSON and compares
 * ast.dump(include_attributes=True) with ast.parse's; loads the marshal data and compares the
 * code object with compile()'s, every co_* attribute down the constants tree (canon()).
 * Prints {"ast": n, "compile": n, "failures": [...]}.
 */
const CHECKER = `
import ast, base64, json, marshal, sys, warnings
if hasattr(sys, "set_int_max_str_digits"):
    sys.set_int_max_str_digits(0)
sys.setrecursionlimit(20000)

def const(value):
    tag = value["_const"]
    if tag == "int":
        return int(value["value"])
    if tag == "float":
        return float(value["repr"])
    if tag == "complex":
        return complex(float(value["real"]), float(value["imag"]))
    if tag == "bytes":
        return bytes.fromhex(value["hex"])
    if tag == "ellipsis":
        return ...
    if tag == "tuple":
        return tuple(const(v) if isinstance(v, dict) else v for v in value["items"])
    if tag == "frozenset":
        return frozenset(const(v) if isinstance(v, dict) else v for v in value["items"])
    raise ValueError("unknown constant tag %r" % tag)

def build(value):
    if isinstance(value, list):
        return [build(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "_const" in value:
        return const(value)
    cls = getattr(ast, value["_type"])
    missing = set(cls._fields) - set(value)
    if missing:
        raise ValueError("%s lacks fields %s" % (value["_type"], sorted(missing)))
    extra = set(value) - set(cls._fields) - set(cls._attributes) - {"_type"}
    if extra:
        raise ValueError("%s has unknown members %s" % (value["_type"], sorted(extra)))
    # Every field and attribute as a keyword: 3.15 requires the fields (3.13 warned without them).
    return cls(**{key: build(member) for key, member in value.items() if key != "_type"})

def canon(value):
    """Everything marshal.dumps writes, minus what depends on reference counts (FLAG_REF is set
    only on objects referenced more than once) and on the hash seed (frozenset order)."""
    if isinstance(value, type(canon.__code__)):
        attrs = sorted(a for a in dir(value) if a.startswith("co_") and not callable(getattr(value, a)))
        return ("code",) + tuple((a, canon(getattr(value, a))) for a in attrs)
    if isinstance(value, (tuple, list)):
        return (type(value).__name__,) + tuple(canon(v) for v in value)
    if isinstance(value, frozenset):
        return ("frozenset",) + tuple(sorted((canon(v) for v in value), key=repr))
    if isinstance(value, (float, complex)):
        return (type(value).__name__, repr(value))
    return (type(value).__name__, value)

def first_difference(a, b):
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    return "at %d: %r vs %r" % (i, a[max(0, i - 40):i + 60], b[max(0, i - 40):i + 60])

def main(path):
    with open(path, encoding="utf-8") as f:
        items = json.load(f)
    counts = {"ast": 0, "compile": 0, "failures": []}
    for item in items:
        name = item["name"]
        source = item["source"] if "source" in item else base64.b64decode(item["sourceBase64"])
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                expected = ast.dump(ast.parse(source, item["filename"], item["mode"], type_comments=item["type_comments"]), include_attributes=True)
                rebuilt = ast.dump(build(item["ast"]), include_attributes=True)
                if rebuilt != expected:
                    counts["failures"].append("%s: AST differs %s" % (name, first_difference(rebuilt, expected)))
                counts["ast"] += 1
                if "marshal" in item:
                    loaded = marshal.loads(base64.b64decode(item["marshal"]))
                    reference = compile(source, item["filename"], item["mode"], dont_inherit=True, optimize=item["optimize"])
                    if canon(loaded) != canon(reference):
                        counts["failures"].append("%s: the code objects differ %s" % (name, first_difference(repr(canon(loaded)), repr(canon(reference)))))
                    counts["compile"] += 1
        except Exception as e:
            counts["failures"].append("%s: %s: %s" % (name, type(e).__name__, e))
    return json.dumps(counts)

if __name__ == "__main__" and len(sys.argv) > 1:
    print(main(sys.argv[1]))
`

interface CheckResult {
  ast: number
  compile: number
  failures: string[]
}

function assertChecked(result: CheckResult, sources: Source[]) {
  assert.deepEqual(result.failures, [])
  assert.equal(result.ast, sources.length)
  assert.equal(result.compile, sources.filter((s) => s.compile).length)
}

/**
 * Checks run in-process by each interpreter: constants parse never produces, handle() never
 * raising, handle_json, the iterative JSON encoder, and the nesting bound.
 */
const UNIT_CHECKS = String.raw`
import ast, json, sys
from pyxray import astjson, jsonline, protocol
from pyxray.nesting import nesting_bound

c = astjson.constant_to_json
assert c((1, 2.5, frozenset({b"x"}), None, ...)) == {"_const": "tuple", "items": [1, {"_const": "float", "repr": "2.5"}, {"_const": "frozenset", "items": [{"_const": "bytes", "hex": "78"}]}, None, {"_const": "ellipsis"}]}
assert c(2**53) == 2**53 and c(-2**53) == -2**53
assert c(2**53 + 1) == {"_const": "int", "value": "9007199254740993"}
assert c(-2**53 - 1) == {"_const": "int", "value": "-9007199254740993"}
assert c(True) is True and c(None) is None and c("\ud800") == "\ud800"
assert c(float("nan")) == {"_const": "float", "repr": "nan"}
assert c(-0.0) == {"_const": "float", "repr": "-0.0"}
assert c(complex(1.5, -0.0)) == {"_const": "complex", "real": "1.5", "imag": "-0.0"}
assert c(object)["_const"] == "other"
big = int("f" * 5000, 16)
digits = c(big)["value"]
if hasattr(sys, "set_int_max_str_digits"):
    sys.set_int_max_str_digits(0)
assert int(digits) == big and len(digits) > 6000

for bad in (None, [], "x", 1, {"id": 1}, {"id": True, "method": "ping"}, {"id": 1, "method": 3}):
    reply = protocol.handle(bad)
    assert reply["error"]["code"] == "BAD_REQUEST", reply

def broken(params):
    raise KeyError("boom")
protocol.METHODS["broken"] = broken
reply = protocol.handle({"id": 5, "method": "broken"})
del protocol.METHODS["broken"]
assert reply["id"] == 5 and reply["error"]["code"] == "AGENT_ERROR", reply
assert "KeyError" in reply["error"]["traceback"] and reply["error"]["type"] == "KeyError"

assert json.loads(protocol.handle_json('{"id": 3, "method": "ping"}')) == {"id": 3, "result": {}}
assert json.loads(protocol.handle_json("{"))["error"]["code"] == "BAD_REQUEST"
assert json.loads(protocol.handle_json(None))["error"]["code"] == "BAD_REQUEST"
if sys.platform != "emscripten":  # Pyodide's json decoder would overflow the JavaScript stack
    assert json.loads(protocol.handle_json("[" * 100000))["error"]["code"] == "BAD_REQUEST"
assert protocol.handle_line('{"id": 4, "method": "shutdown"}') == ('{"id":4,"result":{}}', True)
assert protocol.handle_line('{"id": 4, "method": "shutdown", "params": 1}')[1] is False

sample = {"a": [1, -2, 2.5, None, True, False, "\u00e9\ud800\n\"\\", {"b": []}, {}], "c": {"d": [[[]]]}, "e": (1,)}
assert jsonline._dumps_iteratively(sample) == jsonline.dumps(sample), jsonline._dumps_iteratively(sample)
tree = astjson.node_to_json(ast.parse("def f(a, *, b=1):\n    return [x async for x in a] if b else {**a}\n"))
assert jsonline._dumps_iteratively(tree) == jsonline.dumps(tree)
deep = []
for _ in range(30000):
    deep = [deep]
assert jsonline.dumps(deep) == "[" * 30001 + "]" * 30001  # the C encoder gives up (or, in Pyodide, is not used)
try:
    jsonline._dumps_iteratively([float("inf")])
except ValueError:
    pass
else:
    raise AssertionError("inf must be refused")

assert nesting_bound("x = " + "+".join(["a"] * 2000)) >= 2000
assert nesting_bound("x = a" + ".b" * 2000) >= 2000
assert nesting_bound("if a: pass\n" + "elif b: pass\n" * 1500) >= 1500
assert nesting_bound("x = [" + ", ".join(["-1"] * 5000) + "]") < 50
assert nesting_bound("x = f'" + "{a!r}" * 3000 + "'") < 50
assert nesting_bound(b"x = (1 +\n  2)\n") < 50
assert nesting_bound("x = (((") < 50

# Counted per top-level statement and remembered (the agent's check in Pyodide): the same bound
# as the whole source, also where a string or brackets cross a column-0 line, and after an edit.
import glob, os
from pyxray import nesting
from pyxray.nesting import nesting_bound_cached
pieces = [
    'x = """\ndef f():\n  pass\n"""\ny = 1\n',
    "x = (\n1,\n)\ndef g(): pass\n",
    "x = [\ndef\n]\n",
    "if a:\n  pass\nelif b:\n  pass\nelse:\n  pass\nz = 1\n",
    "if a: pass\n" + "elif b: pass\n" * 1500,
    "x = " + "+".join(["a"] * 2000) + "\ndef f(): pass\n",
    "def f():\n    return 1\n" * 3 + "x = a" + ".b" * 2000,
    "def f(:\n  pass\nx = 1\n",
    "x = 1 \\\n+ 2\ny = 3\n",
]
here = os.path.dirname(nesting.__file__)
pieces += [open(f, encoding="utf-8").read() for f in sorted(glob.glob(os.path.join(here, "*.py")))]
for text in pieces:
    nesting._piece_bounds.clear()
    whole = nesting_bound(text)
    assert nesting_bound_cached(text) == whole == nesting_bound_cached(text), (text[:60], whole)
    edited = text + "\nz = (" + "-" * 1200 + "1)\n"
    assert nesting_bound_cached(edited) == nesting_bound(edited) > 1200
assert nesting_bound_cached(b"x = (1 +\n  2)\n") < 50
print("ok")
`

// ---------------------------------------------------------------------------------------------
// Every native CPython of src/versions

describe('the Python agent', { concurrency: true }, () => {
  for (const minor of NATIVE_MINORS) {
    test(`CPython 3.${minor}: the stdio worker answers every request, and its AST JSON and marshal data are complete`, { timeout: 600_000 }, async (t) => {
      const python = requirePython(t, minor)
      if (python === undefined) return
      const worker = new Worker(python)
      t.after(() => worker.kill())
      const ready = JSON.parse(await worker.nextLine()) as { [key: string]: Json }
      assert.equal(ready.ready, true)
      assert.equal(ready.pid, worker.child.pid)
      checkInfo(ready, minor)

      const cases = protocolCases(minor)
      checkCases(cases, await worker.exchange(cases.map((c) => c.line)))

      const sources = [...snippetsFor(minor), ...nativeStdlib(minor)]
      assert.ok(sources.length - snippetsFor(minor).length >= 20, 'at least 20 stdlib modules')
      const replies = await worker.exchange(corpusRequests(sources))
      const items = checkerItems(sources, replies)

      // Lines after a shutdown are not answered: the worker exits at once.
      worker.send([request(99, 'shutdown'), request(100, 'ping')])
      assert.deepEqual(JSON.parse(await worker.nextLine()), { id: 99, result: {} })
      assert.equal(await worker.finish(), 0)
      assert.equal(worker.stderr, '')

      const dir = mkdtempSync(join(tmpdir(), 'pyxray-agent-'))
      try {
        const data = join(dir, 'items.json')
        writeFileSync(data, JSON.stringify(items))
        const r = await runPython(python, CHECKER, [data])
        assert.equal(r.status, 0, r.stderr)
        assertChecked(JSON.parse(r.stdout) as CheckResult, sources)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })

    test(`CPython 3.${minor}: what a request prints or reads cannot reach the protocol`, { timeout: 30_000 }, async (t) => {
      const python = requirePython(t, minor)
      if (python === undefined) return
      const worker = new Worker(
        python,
        bootstrap(`import os
from pyxray import protocol
def noisy(params):
    print("noise from print")
    sys.__stdout__.write("noise from sys.__stdout__\\n")
    sys.__stdout__.flush()
    os.write(1, b"noise from fd 1\\n")
    try:
        line = input()
    except EOFError:
        line = None
    return {"stdin": line}
protocol.METHODS["noisy"] = noisy
from pyxray.worker import main
main()`),
      )
      t.after(() => worker.kill())
      assert.equal(JSON.parse(await worker.nextLine()).ready, true)
      const replies = await worker.exchange([request(1, 'noisy'), request(2, 'ping'), request(3, 'noisy')])
      assert.deepEqual(replies, [
        { id: 1, result: { stdin: null } },
        { id: 2, result: {} },
        { id: 3, result: { stdin: null } },
      ])
      assert.equal(await worker.finish(), 0, 'end of input ends the worker')
      for (const noise of ['noise from print', 'noise from sys.__stdout__', 'noise from fd 1']) {
        assert.equal(worker.stderr.split(noise).length - 1, 2, `${noise} went to stderr:\n${worker.stderr}`)
      }
    })

    test(`CPython 3.${minor}: in-process checks of the agent's modules`, { timeout: 30_000 }, async (t) => {
      const python = requirePython(t, minor)
      if (python === undefined) return
      const r = await runPython(python, bootstrap(UNIT_CHECKS))
      assert.equal(r.status, 0, r.stderr)
      assert.equal(r.stdout, 'ok\n')
    })
  }

  test("the agent's supported versions (python/pyxray/_versions.py) are src/versions' list", async (t) => {
    // Any supported interpreter reads the agent's module; the newest one found.
    const minor = [...SUPPORTED_MINORS].reverse().find((m) => pythonFor(m) !== undefined) ?? MAX_MINOR
    const python = requirePython(t, minor)
    if (python === undefined) return
    const r = await runPython(
      python,
      bootstrap('import json\nfrom pyxray._versions import ACCEL_VERIFIED_MINORS, SUPPORTED_MINORS, supported_text\nprint(json.dumps([list(SUPPORTED_MINORS), list(ACCEL_VERIFIED_MINORS), supported_text()]))'),
    )
    assert.equal(r.status, 0, r.stderr)
    const [supported, accel, text] = JSON.parse(r.stdout) as [number[], number[], string]
    assert.deepEqual(supported, [...SUPPORTED_MINORS], 'SUPPORTED_MINORS of _versions.py and src/versions/index.ts')
    assert.equal(text, SUPPORTED_RANGE.replace('–', '-'))
    // The C engine is verified on a subset (the rest run the Python engine), in order.
    assert.deepEqual(accel, supported.filter((m) => accel.includes(m)), 'ACCEL_VERIFIED_MINORS ⊆ SUPPORTED_MINORS')
  })

  // -------------------------------------------------------------------------------------------
  // Pyodide (CPython 3.14): handle_json called directly, as the pyodide runtime does

  test('CPython 3.14 (Pyodide): handle_json answers every request, and its AST JSON and marshal data are complete', { timeout: 90_000 }, async (t: TestContext) => {
    let py: import('pyodide').PyodideAPI
    try {
      const { loadPyodide } = await import('pyodide')
      py = await loadPyodide()
    } catch (e) {
      requireResource(t, `Pyodide could not be loaded: ${e}`)
      return
    }
    py.FS.mkdirTree('/pyxray-agent/pyxray')
    for (const name of readdirSync(AGENT_DIR)) {
      if (name.endsWith('.py')) py.FS.writeFile(`/pyxray-agent/pyxray/${name}`, readFileSync(join(AGENT_DIR, name)))
    }
    py.runPython('import sys; sys.path.insert(0, "/pyxray-agent")')
    const protocol = py.pyimport('pyxray.protocol') as unknown as { handle_json(line: string): string }
    const ask = (lines: string[]) => lines.filter((l) => l.trim() !== '').map((l) => JSON.parse(protocol.handle_json(l)) as Reply)

    const cases = protocolCases(PYODIDE_MINOR)
    checkCases(cases, ask(cases.map((c) => c.line)))

    // Sources deep enough to overflow the JavaScript stack are refused instead of killing Pyodide.
    const chain = (n: number) => `x = ${Array.from({ length: n }, () => 'a').join(' + ')}\n`
    const [deepParse, deepCompile, alive, fine] = ask([
      request(1, 'parse', { source: chain(5000) }),
      request(2, 'compile', { source: chain(5000) }),
      request(3, 'ping'),
      request(4, 'parse', { source: chain(900) }),
    ])
    assert.equal(failed(deepParse!, 1, 'COMPILE_ERROR').type, 'RecursionError')
    assert.equal(failed(deepCompile!, 2, 'COMPILE_ERROR').type, 'RecursionError')
    assert.deepEqual(ok(alive!, 3), {})
    ok(fine!, 4)

    const found = JSON.parse(
      String(
        py.runPython(`
import importlib.util, json
def _source(name):
    try:
        spec = importlib.util.find_spec(name)
        return spec.loader.get_source(name) if spec and spec.loader else None
    except (ImportError, AttributeError):
        return None
json.dumps({name: _source(name) for name in ${JSON.stringify(STDLIB_MODULES)}})
`),
      ),
    ) as { [name: string]: string | null }
    const stdlib: Source[] = Object.entries(found).flatMap(([name, text]) =>
      text === null ? [] : [{ name, text, mode: 'exec', typeComments: false, optimize: -1, compile: true }],
    )
    assert.ok(stdlib.length >= 20, `at least 20 stdlib modules in Pyodide (found ${stdlib.map((s) => s.name)})`)
    const sources = [...snippetsFor(PYODIDE_MINOR, true), ...stdlib]
    const items = checkerItems(sources, ask(corpusRequests(sources)))

    py.FS.writeFile('/tmp/pyxray-items.json', JSON.stringify(items))
    py.runPython(CHECKER.replace('if __name__ == "__main__"', 'if False'))
    const result = JSON.parse(String(py.runPython('main("/tmp/pyxray-items.json")'))) as CheckResult
    assertChecked(result, sources)

    py.runPython(UNIT_CHECKS.replace('print("ok")', ''))
  })
})
