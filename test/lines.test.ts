// Line tables and exception tables, checked against the real interpreters: every CPython 3.8–3.13
// found (test/pyenv.ts: every supported version; Pyodide's 3.14 as an extra oracle) compiles the same corpus and dumps, for every code
// object, its raw tables and what co_lines(), co_positions(), dis.findlinestarts() and
// dis._parse_exception_table() make of them; our decoders must agree exactly.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { test } from 'node:test'
import fc from 'fast-check'
import { ExceptionTableError, parseExceptionTable } from '../src/bytecode/exceptions.js'
import { LineTableError, lineRanges, lineStarts, positions } from '../src/bytecode/lines.js'
import { has, MAX_MINOR, MIN_MINOR, SUPPORTED_MINORS } from '../src/versions/index.js'
import { NATIVE_MINORS, pythonFor } from './pyenv.js'
import { requireResource } from './resources.js'


// ---------------------------------------------------------------------------------------------
// The corpus

/** A source compiled by every interpreter from 3.`min` on. */
interface Snippet {
  name: string
  min: number
  src: string
}

const longExpr = `total = ${Array.from({ length: 120 }, (_, i) => `value_${i}`).join(' + ')}\n`
const longCall = `result = fn(${Array.from({ length: 80 }, (_, i) => `arg${i}=[item${i} for item${i} in range(${i})]`).join(', ')})\n`

const SNIPPETS: Snippet[] = [
  { name: 'empty', min: 8, src: '' },
  { name: 'docstring-only', min: 8, src: '"""Just a docstring."""\n' },
  {
    name: 'multi-line-expressions',
    min: 8,
    src: `x = (
    1 +
    2
)
def f(a,
      b=3,
      *c):
    return (a
            + b
            * len(c))
y = [
    f(1),
    f(2,
      3),
]
z = {k:
     v for k, v in
     zip("ab", "cd")}
`,
  },
  {
    name: 'comprehensions-lambdas',
    min: 8,
    src: `data = [[i * j for j in range(i) if j % 2] for i in range(10)]
gen = (x for row in data for x in row if x)
s = {x for x in gen}
d = {k: (lambda v: v + k)(k) for k in s}
f = lambda a, *b, c=1, **d: (a, b, c, d)
`,
  },
  {
    name: 'closures',
    min: 8,
    src: `def outer(a):
    b = a + 1
    def middle(c):
        nonlocal b
        def inner():
            return a + b + c
        b += 1
        return inner
    class K:
        attr = b
        def method(self):
            return __class__, b
    return middle, K
counter = 0
def bump():
    global counter
    counter += 1
`,
  },
  {
    name: 'try-except-finally',
    min: 8,
    src: `def f(x):
    try:
        y = 1 / x
    except ZeroDivisionError as e:
        print(e)
        return None
    except (TypeError, ValueError):
        raise
    else:
        return y
    finally:
        print("done")

def g():
    for i in range(3):
        try:
            try:
                continue
            finally:
                if i:
                    break
        except Exception:
            pass
    while True:
        try:
            return 1
        finally:
            pass
`,
  },
  {
    name: 'with-statements',
    min: 8,
    src: `import contextlib
def f(path):
    with open(path) as a, open(path) as b:
        data = a.read() + b.read()
    with contextlib.suppress(Exception):
        raise ValueError
    return data
async def g(lock):
    async with lock as held:
        await held
    async for item in lock:
        print(item)
    return [x async for x in lock]
`,
  },
  {
    name: 'match',
    min: 10,
    src: `def classify(p):
    match p:
        case {"x": 0, "y": 0}:
            return "origin"
        case [x, y, *rest] if x > y:
            return rest
        case Point(x=0, y=yy) | Point(x=yy, y=0):
            return yy
        case str() as s:
            return s
        case _:
            return None
`,
  },
  {
    name: 'f-strings',
    min: 8,
    src: `name = "w"
width = 10
s = f"{name!r:>{width}} and {width:#x} {'nested'} {3.14159:.2f}"
t = (f"a{name}"
     f"""b{width
     }""")
u = f"""
{name}
    {width + 1}
"""
`,
  },
  {
    name: 'f-strings-3.12',
    min: 12,
    src: `songs = ["a", "b"]
s = f"{", ".join(songs)} {f"{f"{1}"}"}"
t = f"{
    songs[0]  # a comment
}"
`,
  },
  { name: 'long-line', min: 8, src: `${longExpr}${longCall}def f():\n    ${longExpr}    return total\n` },
  {
    name: 'lines-jumping-back',
    min: 8,
    src: `def f(items):
    total = 0
    for item in items:
        total += item
    while total > 0:
        total -= 1
    return call(
        total,
        items,
    ).attr(
        1,
    )
x = [
    1, 2, 3][
    0]
if (x and
        x > 2):
    pass
`,
  },
  {
    name: 'line-gaps',
    min: 8,
    src: `a = 1${'\n'.repeat(300)}b = 2${'\n'.repeat(128)}c = 3${'\n'.repeat(70000)}def far():
    return (1,${'\n'.repeat(400)}        2)
d = f(1,${'\n'.repeat(260)}  2)
`,
  },
  {
    name: 'unicode-identifiers',
    min: 8,
    src: `é = 1
变量 = é + 2; ñandú = "ü" + str(变量)
def función(ä, 𝔘=3):
    return ä + 𝔘 + len("日本語") + 变量
print(función(é), "ö", 变量)
`,
  },
  {
    name: 'decorators',
    min: 8,
    src: `import functools
@functools.lru_cache(
    maxsize=None)
@staticmethod
def f(x):
    return x

class A:
    @property
    def p(self):
        return 1
    @p.setter
    def p(self, v):
        pass
    @classmethod
    def c(cls): return cls
`,
  },
  {
    name: 'generators-async',
    min: 8,
    src: `def gen(n):
    x = yield n
    yield from range(x)
    return x
async def coro(a):
    await a
    result = await a.b(
        1)
    async with a:
        pass
    return [await z for z in a]
async def agen():
    yield 1
    await agen()
`,
  },
  {
    name: 'except-star',
    min: 11,
    src: `def f():
    try:
        raise ExceptionGroup("g", [ValueError(1)])
    except* ValueError as e:
        print(e)
    except* TypeError:
        pass
`,
  },
  {
    name: 'type-params',
    min: 12,
    src: `type Alias[T] = list[T]
def first[T: (int, str), *Ts, **P](xs: list[T]) -> T:
    return xs[0]
class Box[T]:
    def get(self) -> T: ...
`,
  },
  {
    name: 'big-function',
    min: 8,
    src: `def big(flag):
    if flag:
${Array.from({ length: 400 }, (_, i) => `        v${i} = flag + ${i}`).join('\n')}
    else:
        v0 = 0
    for k in range(3):
${Array.from({ length: 200 }, (_, i) => `        if k == ${i}: continue`).join('\n')}
    return v0
`,
  },
  {
    name: 'misc-statements',
    min: 8,
    src: `def f(a, b):
    assert a < b < 10, "msg"
    del a
    x = b if b else (
        None)
    while b:
        b -= 1
        if b == 3: break
        if b == 5: continue
    else:
        pass
    import os.path as p
    from os import (sep,
                    getcwd)
    return p, sep, getcwd, [*x, *b], {**x}
`,
  },
]

/** A 3.11+ location-table entry: start byte (code, length in code units), then its payload. */
const entry = (code: number, units: number, ...payload: number[]): number[] => [0x80 | (code << 3) | (units - 1), ...payload]
/** A signed varint of the location table (small values only: one byte). */
const sv = (n: number): number => (n < 0 ? (-n << 1) | 1 : n << 1)

/**
 * Hand-made tables that each interpreter puts into a small function with `code.replace()` (the
 * table of `co_lnotab` up to 3.9, `co_linetable` from 3.10), to pin down corners compilers never
 * produce: negative lines, tables shorter or longer than the code, every entry form.
 */
interface Crafted {
  name: string
  minors: number[]
  firstLineNo: number
  table: number[]
  /** A `co_exceptiontable` (3.11+). */
  exc?: number[]
}

const LOCATION_MINORS = SUPPORTED_MINORS.filter((m) => has(m, 'locationTable'))
const CRAFTED: Crafted[] = [
  { name: 'lnotab-negative', minors: [8, 9], firstLineNo: 3, table: [2, 0xf6, 2, 0x0a, 0, 0x80, 2, 0x05, 2, 0xff] },
  { name: 'lnotab-zero-bytes-and-overrun', minors: [8, 9], firstLineNo: 1, table: [0, 1, 0, 1, 4, 0, 255, 0, 255, 1] },
  { name: 'lnotab-empty', minors: [8, 9], firstLineNo: 7, table: [] },
  {
    name: 'linetable-negative-and-none',
    minors: [10],
    firstLineNo: 1,
    table: [2, 0xf6, 2, 0x0a, 2, 0x80, 0, 0x7f, 2, 0x7f, 2, 0, 2, 0x81],
  },
  { name: 'linetable-long-runs', minors: [10], firstLineNo: 5, table: [254, 0, 254, 0x80, 2, 1] },
  { name: 'linetable-empty', minors: [10], firstLineNo: 5, table: [] },
  { name: 'location-empty', minors: LOCATION_MINORS, firstLineNo: 5, table: [] },
  ...[
    [-4, 1],
    [-5, -1],
    [-2, 0],
    [-3, 0],
  ].map(([d1, d2]) => ({
    name: `location-negative-lines-${d1}-${d2}`,
    minors: LOCATION_MINORS,
    firstLineNo: 2,
    table: [...entry(13, 1, sv(d1!)), ...entry(14, 1, sv(d2!), 0, 1, 1), ...entry(13, 3, sv(12)), ...entry(15, 1)],
  })),
  {
    name: 'location-every-form',
    minors: LOCATION_MINORS,
    firstLineNo: 100,
    table: [
      ...Array.from({ length: 10 }, (_, code) => entry(code, 1 + (code % 8), 0x7f - code)).flat(),
      ...entry(15, 8),
      ...entry(10, 2, 0, 127),
      ...entry(11, 1, 127, 0),
      ...entry(15, 1),
      ...entry(12, 1, 3, 4),
      ...entry(12, 1, 3, 4),
      // Long: line -= 20, endLine = line + 197 (5 + 3·64), col + 1 = 4095 (63 + 63·64), endCol + 1 = 201.
      ...entry(14, 2, sv(-20), 0x45, 0x03, 0x7f, 0x3f, 0x49, 0x03),
      ...entry(14, 1, sv(0), 0, 0, 0), // long with columns None
      ...entry(13, 1, 0x41, 0x01), //     no columns, svarint 65 (1 + 1·64): line -= 32
    ],
    exc: [0x80 | 2, 0x41, 0x01, 0x44, 0x2c, 0x07, 0x80 | 0x40 | 4, 0x40, 0x40, 0, 1, 0x45, 0x3f, 0x43, 0x01],
  },
  {
    name: 'location-shorter-than-code',
    minors: LOCATION_MINORS,
    firstLineNo: 1,
    table: [...entry(10, 1, 0, 3), ...entry(15, 1)],
  },
]

/** Stdlib modules each interpreter compiles from its own Lib/ (a missing one is skipped). */
const STDLIB = [
  'argparse', 'ast', 'bisect', 'calendar', 'collections', 'configparser', 'contextlib', 'csv',
  'dataclasses', 'datetime', 'difflib', 'enum', 'fractions', 'functools', 'heapq', 'inspect',
  'json.decoder', 'logging', 'pathlib', 'pprint', 'random', 'shutil', 'string',
  'threading', 'tokenize', 'typing', 'zipfile', 'statistics', 'unittest.case',
  'asyncio.base_events',
]

// ---------------------------------------------------------------------------------------------
// The Python side: one process per version, request on stdin, JSON on stdout.

const DUMP_PY = `
import dis, importlib.util, json, sys, types, warnings
warnings.simplefilter("ignore")  # SyntaxWarnings of the corpus are not the point

def walk(code, out, src):
    minor = sys.version_info[1]
    table = code.co_lnotab if minor < 10 else code.co_linetable
    rec = {
        "src": src, "name": code.co_name, "fl": code.co_firstlineno,
        "n": len(code.co_code), "t": table.hex(),
        "starts": [list(p) for p in dis.findlinestarts(code)],
    }
    if minor >= 10:
        rec["lines"] = [list(r) for r in code.co_lines()]
    if minor >= 11:
        flat = []
        for p in code.co_positions():
            flat.extend(p)
        rec["pos"] = flat
        rec["x"] = code.co_exceptiontable.hex()
        rec["xp"] = [[e.start, e.end, e.target, e.depth, e.lasti] for e in dis._parse_exception_table(code)]
    out.append(rec)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            walk(c, out, src)

def _base(a, b):
    c = a + b
    d = a * b
    e = c - d
    return [a, b, c, d, e]

def dump(request_json):
    req = json.loads(request_json)
    minor = sys.version_info[1]
    out, missing = [], []
    sources = [(s["name"], s["src"]) for s in req["snippets"] if s["min"] <= minor]
    for mod in req["modules"]:
        try:
            spec = importlib.util.find_spec(mod)
            text = spec.loader.get_source(mod) if spec and spec.loader else None
        except Exception:
            text = None
        if text is None:
            missing.append(mod)
        else:
            sources.append((mod, text))
    for name, text in sources:
        walk(compile(text, name, "exec", dont_inherit=True), out, name)
    for cr in req["crafted"]:
        if minor in cr["minors"]:
            kw = {"co_firstlineno": cr["firstLineNo"]}
            kw["co_lnotab" if minor < 10 else "co_linetable"] = bytes(cr["table"])
            if "exc" in cr:
                kw["co_exceptiontable"] = bytes(cr["exc"])
            walk(_base.__code__.replace(**kw), out, "crafted:" + cr["name"])
    return json.dumps({"version": list(sys.version_info[:3]), "codes": out, "missing": missing})

if __name__ == "__main__":
    sys.stdout.write(dump(sys.stdin.read()))
`

/** What the interpreter said about one code object. */
interface CodeDump {
  src: string
  name: string
  fl: number
  n: number
  t: string
  starts: [number, number | null][]
  lines?: [number, number, number | null][]
  pos?: (number | null)[]
  x?: string
  xp?: [number, number, number, number, boolean][]
}

interface Dump {
  version: [number, number, number]
  codes: CodeDump[]
  missing: string[]
}

const REQUEST = JSON.stringify({ snippets: SNIPPETS, modules: STDLIB, crafted: CRAFTED })

function runInterpreter(exe: string): Promise<Dump> {
  return new Promise((resolve, reject) => {
    const child = spawn(exe, ['-c', DUMP_PY], { stdio: ['pipe', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => err.push(b))
    child.on('error', reject)
    child.on('close', (status) => {
      if (status !== 0) reject(new Error(`${exe} exited with ${status}: ${Buffer.concat(err).toString()}`))
      else resolve(JSON.parse(Buffer.concat(out).toString('utf8')) as Dump)
    })
    child.stdin.end(REQUEST)
  })
}

async function runPyodide(): Promise<Dump | undefined> {
  let mod: { loadPyodide: (opts?: object) => Promise<{ runPython: (code: string) => unknown }> }
  try {
    mod = (await import('pyodide')) as unknown as typeof mod
  } catch {
    return undefined
  }
  const py = await mod.loadPyodide()
  py.runPython(DUMP_PY.replace('if __name__ == "__main__":', 'if False:'))
  const text = py.runPython(`dump(${JSON.stringify(REQUEST)})`) as string
  return JSON.parse(text) as Dump
}

// Start every interpreter at once; each test awaits its own.
const MINORS = NATIVE_MINORS
/** The dumps by oracle: "3.X" for the native interpreters, "pyodide" for the embedded 3.14. */
const dumps = new Map<string, Promise<Dump | undefined>>()
for (const minor of MINORS) {
  const exe = pythonFor(minor)
  dumps.set(`3.${minor}`, exe === undefined ? Promise.resolve(undefined) : runInterpreter(exe))
}
dumps.set('pyodide', runPyodide())
const ORACLES: readonly { key: string; minor: number; what: string }[] = [
  ...MINORS.map((minor) => ({ key: `3.${minor}`, minor, what: `CPython 3.${minor}` })),
  { key: 'pyodide', minor: 14, what: 'Pyodide (CPython 3.14)' },
]
for (const p of dumps.values()) p.catch(() => {}) // reported by the test that awaits it

// ---------------------------------------------------------------------------------------------
// Comparison

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16)
  return out
}

const orNone = (v: number | null | undefined): number | undefined => (v === null ? undefined : v)

/** Every way in which our decoders disagree with the interpreter about one code object. */
function compareCode(minor: number, c: CodeDump): string[] {
  const where = `${c.src}:${c.name} (firstlineno ${c.fl})`
  const problems: string[] = []
  const check = (what: string, ours: unknown, theirs: unknown): void => {
    try {
      assert.deepStrictEqual(ours, theirs)
    } catch {
      problems.push(`${where}: ${what} differs\n  ours:   ${JSON.stringify(ours)}\n  python: ${JSON.stringify(theirs)}`)
    }
  }
  const table = hexBytes(c.t)
  try {
    check(
      'findlinestarts',
      lineStarts(minor, table, c.fl, c.n),
      c.starts.map(([o, l]) => [o, orNone(l)]),
    )
    const ranges = lineRanges(minor, table, c.fl, c.n)
    if (c.lines) check('co_lines', ranges, c.lines.map(([start, end, line]) => ({ start, end, line: orNone(line) })))
    if (c.pos) {
      const expected = []
      for (let i = 0; i < c.pos.length; i += 4) {
        const p: Record<string, number> = {}
        const [line, endLine, col, endCol] = c.pos.slice(i, i + 4)
        if (line != null) p.line = line
        if (endLine != null) p.endLine = endLine
        if (col != null) p.col = col
        if (endCol != null) p.endCol = endCol
        expected.push(p)
      }
      check('co_positions', positions(minor, table, c.fl, c.n), expected)
    } else {
      // ≤3.10: line-only positions, one per code unit of the ranges.
      const ps = positions(minor, table, c.fl, c.n)
      check(
        'line-only positions',
        ps.map((p) => p.line),
        ranges.flatMap((r) => Array.from({ length: (r.end - r.start) / 2 }, () => r.line)),
      )
    }
    if (c.x !== undefined && c.xp) {
      check(
        '_parse_exception_table',
        parseExceptionTable(hexBytes(c.x)),
        c.xp.map(([start, end, target, depth, lasti]) => ({ start, end, target, depth, lasti })),
      )
    }
  } catch (e) {
    problems.push(`${where}: threw ${String(e)}`)
  }
  return problems
}

for (const { key, minor, what } of ORACLES) {
  test(`line and exception tables agree with ${what}`, async (t) => {
    const dump = await dumps.get(key)
    if (dump === undefined) {
      requireResource(t, `${what} not found`)
      return
    }
    assert.equal(dump.version[1], minor)
    const problems = dump.codes.flatMap((c) => compareCode(minor, c))
    if (problems.length > 0) {
      assert.fail(`${problems.length} of ${dump.codes.length} code objects differ:\n${problems.slice(0, 5).join('\n')}`)
    }
    t.diagnostic(
      `3.${minor}: ${dump.codes.length} code objects agree` +
        (dump.missing.length ? `; stdlib modules not found: ${dump.missing.join(', ')}` : ''),
    )
  })
}

// ---------------------------------------------------------------------------------------------
// Robustness: truncated and arbitrary tables give a result or a typed error, nothing else.

/** Calls every decoder of a `minor` on `table` and fails on anything but success or LineTableError. */
function decodeOrTypedError(minor: number, table: Uint8Array, firstLineNo: number, codeByteLength: number): void {
  for (const decode of [lineRanges, positions, lineStarts]) {
    try {
      decode(minor, table, firstLineNo, codeByteLength)
    } catch (e) {
      if (!(e instanceof LineTableError)) throw e
      assert.ok(e.code === 'LINETABLE_TRUNCATED' || e.code === 'LINETABLE_BAD')
      assert.ok(e.byteOffset === undefined || (e.byteOffset >= 0 && e.byteOffset <= table.length))
    }
  }
}

function parseOrTypedError(table: Uint8Array): void {
  try {
    parseExceptionTable(table)
  } catch (e) {
    if (!(e instanceof ExceptionTableError)) throw e
    assert.ok(e.code === 'EXCTABLE_TRUNCATED' || e.code === 'EXCTABLE_BAD')
  }
}

test('every prefix of real tables decodes or throws a typed error', async (t) => {
  let checked = 0
  for (const { key, minor } of ORACLES) {
    const dump = await dumps.get(key)?.catch(() => undefined)
    if (dump === undefined) continue
    // The biggest few tables of up to 400 bytes of each version (the check is quadratic).
    const biggest = (hex: (c: CodeDump) => string | undefined): Uint8Array[] =>
      dump.codes
        .map((c) => hex(c) ?? '')
        .filter((h) => h.length <= 800)
        .sort((a, b) => b.length - a.length)
        .slice(0, 4)
        .map(hexBytes)
    for (const table of biggest((c) => c.t)) {
      for (let n = 0; n <= table.length; n++) decodeOrTypedError(minor, table.subarray(0, n), 1, 2 * table.length)
      checked++
    }
    for (const table of biggest((c) => c.x)) {
      for (let n = 0; n <= table.length; n++) parseOrTypedError(table.subarray(0, n))
    }
  }
  if (checked === 0) requireResource(t, 'no interpreter found to produce real tables')
})

test('arbitrary bytes decode or throw a typed error', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: MIN_MINOR, max: MAX_MINOR }),
      fc.uint8Array({ maxLength: 64 }),
      fc.integer({ min: 0, max: 100000 }),
      fc.integer({ min: 0, max: 2000 }),
      (minor, table, firstLineNo, codeByteLength) => {
        decodeOrTypedError(minor, table, firstLineNo, codeByteLength)
        parseOrTypedError(table)
      },
    ),
    { numRuns: 3000 },
  )
})

// ---------------------------------------------------------------------------------------------
// Hand-made tables: readable specifications of each encoding, independent of any interpreter.

test('3.8/3.9 co_lnotab: signed line increments, split pairs, dead code', () => {
  // (6, +1) (0, +127) (0, +10) (4, 0xfe = -2) (2, +1): line 10 at 0, 148 at 6, 146 at 10, 147 at 12.
  const lnotab = Uint8Array.of(6, 1, 0, 127, 0, 10, 4, 0xfe, 2, 1)
  assert.deepEqual(lineStarts(8, lnotab, 10, 20), [
    [0, 10],
    [6, 148],
    [10, 146],
    [12, 147],
  ])
  assert.deepEqual(lineRanges(9, lnotab, 10, 20), [
    { start: 0, end: 6, line: 10 },
    { start: 6, end: 10, line: 148 },
    { start: 10, end: 12, line: 146 },
    { start: 12, end: 20, line: 147 },
  ])
  // Byte increments reaching past the code describe removed code: dis stops there.
  assert.deepEqual(lineStarts(8, lnotab, 10, 8), [
    [0, 10],
    [6, 148],
  ])
  assert.deepEqual(positions(8, Uint8Array.of(2, 1), 1, 4), [{ line: 1, endLine: 1 }, { line: 2, endLine: 2 }])
  assert.throws(() => lineStarts(8, Uint8Array.of(2), 1, 4), { code: 'LINETABLE_TRUNCATED' })
})

test('3.10 co_linetable: -128 means no line, empty pairs are skipped, equal lines are not merged', () => {
  const table = Uint8Array.of(4, 0, 0, 127, 2, 3, 2, 0x80, 2, 0, 2, 0)
  assert.deepEqual(lineRanges(10, table, 5, 12), [
    { start: 0, end: 4, line: 5 },
    { start: 4, end: 6, line: 135 },
    { start: 6, end: 8, line: undefined },
    { start: 8, end: 10, line: 135 },
    { start: 10, end: 12, line: 135 },
  ])
  assert.deepEqual(lineStarts(10, table, 5, 12), [
    [0, 5],
    [4, 135],
  ])
  assert.throws(() => lineRanges(10, Uint8Array.of(2, 0, 0, 1), 1, 2), { code: 'LINETABLE_BAD' })
})

test('3.11+ location table: every entry form; 3.12 merges equal lines, 3.13 reports None lines', () => {
  const table = Uint8Array.from([
    ...entry(13, 1, 2), //                                   no columns, line += 1 → 11
    ...entry(1, 2, 0x25), //                                 short: col 8|2 = 10, endCol 15
    ...entry(11, 1, 4, 130 & 0x7f), //                       one line, line += 1 → 12, cols 4..2
    ...entry(15, 3), //                                       none
    ...entry(14, 1, 0x03, 2, 0x49, 0x03, 0), //            long: line -= 1 → 11, endLine 13, col 201 - 1, endCol None
    ...entry(10, 1, 0, 1), //                                one line, same line
  ])
  assert.deepEqual(positions(12, table, 10, 18), [
    { line: 11, endLine: 11 },
    { line: 11, endLine: 11, col: 10, endCol: 15 },
    { line: 11, endLine: 11, col: 10, endCol: 15 },
    { line: 12, endLine: 12, col: 4, endCol: 2 },
    {},
    {},
    {},
    { line: 11, endLine: 13, col: 200, endCol: undefined },
    { line: 11, endLine: 11, col: 0, endCol: 1 },
  ].map((p) => Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined))))
  // 3.11: one range per entry.
  assert.deepEqual(lineRanges(11, table, 10, 18), [
    { start: 0, end: 2, line: 11 },
    { start: 2, end: 6, line: 11 },
    { start: 6, end: 8, line: 12 },
    { start: 8, end: 14, line: undefined },
    { start: 14, end: 16, line: 11 },
    { start: 16, end: 18, line: 11 },
  ])
  // 3.12+: consecutive entries with the same line are merged.
  assert.deepEqual(lineRanges(12, table, 10, 18), [
    { start: 0, end: 6, line: 11 },
    { start: 6, end: 8, line: 12 },
    { start: 8, end: 14, line: undefined },
    { start: 14, end: 18, line: 11 },
  ])
  assert.deepEqual(lineStarts(12, table, 10, 18), [
    [0, 11],
    [6, 12],
    [14, 11],
  ])
  assert.deepEqual(lineStarts(13, table, 10, 18), [
    [0, 11],
    [6, 12],
    [8, undefined],
    [14, 11],
  ])
  assert.throws(() => positions(11, Uint8Array.of(0x80 | (13 << 3)), 1, 2), { code: 'LINETABLE_TRUNCATED' })
  assert.throws(() => positions(11, Uint8Array.of(0x05), 1, 2), { code: 'LINETABLE_BAD' })
  assert.throws(() => lineRanges(7, new Uint8Array(), 1, 0), RangeError)
})

test('exception table: big-endian varints in code units, reported in bytes', () => {
  // start 2, length 0x41 (two bytes: 0x41 = 1·64 + 1), target 300 (4·64 + 44), depth 3 with lasti.
  const table = Uint8Array.of(0x82, 0x41, 0x01, 0x44, 0x2c, 0x07)
  assert.deepEqual(parseExceptionTable(table), [{ start: 4, end: 4 + 130, target: 600, depth: 3, lasti: true }])
  assert.throws(() => parseExceptionTable(table.subarray(0, 5)), { code: 'EXCTABLE_TRUNCATED' })
  assert.deepEqual(parseExceptionTable(new Uint8Array()), [])
})
