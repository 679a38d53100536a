// The marshal reader and writer, checked against CPython's own marshal module: every pyenv
// interpreter (and Pyodide's 3.14 for format 5) dumps each case below with every marshal version it
// has, in one batch process, and reports what marshal.loads makes of those bytes. readMarshal must
// build the same value and writeMarshal must give back the very same bytes. Hand-written byte
// cases cover what Python 3 never writes and the typed errors; the last tests round-trip stdlibs.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { relative } from 'node:path'
import { test } from 'node:test'
import {
  expandedSize,
  MarshalError,
  type MarshalErrorCode,
  type PyCode,
  type PyObject,
  readMarshal,
  writeMarshal,
} from '../src/marshal/index.js'
import { findPycs, NATIVE_MINORS, requirePython, roundTripProblem, stdlibDir } from './pyenv.js'
import { requireResource } from './resources.js'

// ---------------------------------------------------------------------------------------------
// The oracle: a Python program run once per interpreter

/**
 * `oracle(request)` takes {"cases": {name: expr}} as JSON and returns, as JSON, per case and
 * marshal version, the dumped bytes and a JSON "shape" of marshal.loads(those bytes);
 * `null` when that version cannot marshal the object.
 */
const ORACLE_PY = `
import json, marshal, struct, sys

def fhex(x):
    return struct.pack('<d', x).hex()

def code_shape(c):
    d = {'argcount': c.co_argcount, 'posonlyargcount': c.co_posonlyargcount,
         'kwonlyargcount': c.co_kwonlyargcount, 'nlocals': c.co_nlocals,
         'stacksize': c.co_stacksize, 'flags': c.co_flags, 'firstlineno': c.co_firstlineno,
         'code': c.co_code.hex(), 'consts': [shape(x) for x in c.co_consts],
         'names': list(c.co_names), 'varnames': list(c.co_varnames),
         'freevars': list(c.co_freevars), 'cellvars': list(c.co_cellvars),
         'filename': c.co_filename, 'name': c.co_name,
         'linetable': (c.co_linetable if sys.version_info >= (3, 10) else c.co_lnotab).hex()}
    if sys.version_info >= (3, 11):
        d['qualname'] = c.co_qualname
        d['exceptiontable'] = c.co_exceptiontable.hex()
    return d

def shape(o):
    t = type(o)
    if o is None or o is StopIteration or o is Ellipsis:
        return [repr(o)]
    if t is bool:
        return ['bool', o]
    if t is int:
        return ['int', str(o)]
    if t is float:
        return ['float', fhex(o)]
    if t is complex:
        return ['complex', fhex(o.real), fhex(o.imag)]
    if t is bytes:
        return ['bytes', o.hex()]
    if t is str:  # as UTF-16 code units, which is what a JS string holds
        return ['str', o.encode('utf-16-le', 'surrogatepass').hex()]
    if t in (tuple, list):
        return [t.__name__, [shape(x) for x in o]]
    if t is dict or t.__name__ == 'frozendict':
        return [t.__name__, [[shape(k), shape(v)] for k, v in o.items()]]
    if t in (set, frozenset):
        return [t.__name__, sorted((shape(x) for x in o), key=json.dumps)]
    if t is slice:
        return ['slice', shape(o.start), shape(o.stop), shape(o.step)]
    if t is type(shape.__code__):
        return ['code', code_shape(o)]
    raise TypeError(t)

def dumps(obj, version):
    try:
        data = marshal.dumps(obj, version)
    except ValueError:
        return None
    return {'hex': data.hex(), 'shape': shape(marshal.loads(data))}

def oracle(request):
    cases = json.loads(request)['cases']
    out = {}
    for name, expr in cases.items():
        obj = eval(expr)
        out[name] = [dumps(obj, v) for v in range(marshal.version + 1)]
    return json.dumps({'version': sys.version.split()[0], 'cases': out})
`

/** Source compiled by each interpreter for the code-object cases: closures, every kind of arg, a try. */
const CODE_SRC = `
def outer(a, b=2, *args, c, d=4, **kw):
    x = [a, b]
    def inner(y, /, z=None):
        nonlocal x
        try:
            return x + [y, z, 1.5, 2**70, "é"]
        except (KeyError, ValueError) as e:
            raise RuntimeError(e) from None
    return inner
`

/** One object to marshal: a Python expression and the type code expected at each marshal version. */
interface Case {
  /** Evaluated by the oracle with `sys` imported. */
  readonly py: string
  /** Top-level type code for marshal versions 0–6; '-' where it cannot be marshalled. */
  readonly codes: string
  /** The oldest minor version that has the type (frozendict: 15); older interpreters skip the case. */
  readonly since?: number
  /** Extra checks on what readMarshal built for marshal version `version`. */
  readonly check?: (v: PyObject, version: number) => void
}

const joined = (...parts: string[]) => `''.join(${JSON.stringify(parts)})`

const CASES: Record<string, Case> = {
  None: { py: 'None', codes: 'NNNNNNN' },
  True: { py: 'True', codes: 'TTTTTTT' },
  False: { py: 'False', codes: 'FFFFFFF' },
  StopIteration: { py: 'StopIteration', codes: 'SSSSSSS' },
  Ellipsis: { py: '...', codes: '.......' },
  'int32 negative': { py: '-5', codes: 'iiiiiii' },
  'int32 bounds': { py: '(2**31 - 1, -2**31)', codes: '(((()))' },
  'long positive': { py: '2**31', codes: 'lllllll' },
  'long negative': { py: '-(2**40) - 12345', codes: 'lllllll' },
  'long huge': { py: '3**700', codes: 'lllllll' },
  'long huge negative': { py: '-(2**1000)', codes: 'lllllll' },
  float: { py: '1.5', codes: 'ffggggg' },
  'float text forms': { py: "(0.1, -0.0, 1e300, 5e-324, float('inf'), float('-inf'), float('nan'))", codes: '(((()))' },
  complex: { py: '1.5-2j', codes: 'xxyyyyy' },
  'complex text forms': { py: "(complex(float('nan'), -0.0), 1e-310j)", codes: '(((()))' },
  bytes: { py: "b'ab\\x00\\xff'", codes: 'sssssss' },
  'bytes empty': { py: "b''", codes: 'sssssss' },
  'str short ascii': { py: joined('hello', ' world'), codes: 'uuuuzzz' },
  'str short ascii interned': { py: "sys.intern('abc')", codes: 'uuutZZZ' },
  'str empty': { py: "''", codes: 'uuutZZZ' },
  'str ascii ≥ 256': { py: joined('x'.repeat(150), 'x'.repeat(150)), codes: 'uuuuaaa' },
  'str ascii ≥ 256 interned': { py: `sys.intern('${'y'.repeat(300)}')`, codes: 'uuutAAA' },
  'str non-ASCII': { py: joined('é', '日本', '\u{1F600}'), codes: 'uuuuuuu' },
  'str non-ASCII interned': { py: "sys.intern('é日')", codes: 'uuutttt' },
  'str lone surrogates': { py: "'\\ud800 \\udfff'", codes: 'uuuuuuu' },
  'str split surrogate pair': {
    // Two lone surrogates in Python, but one pair in JS: the stored bytes are kept.
    py: "'\\ud83d\\ude00'",
    codes: 'uuuuuuu',
    check: (v) => {
      assert.ok(v.type === 'str' && v.utf8 !== undefined, 'keeps the 6 stored UTF-8 bytes')
      assert.equal(Buffer.from(v.utf8).toString('hex'), 'eda0bdedb880')
    },
  },
  'tuple small': { py: "(1, 'a', None)", codes: '(((()))' },
  'tuple empty': { py: '()', codes: '(((()))' },
  'tuple ≥ 256': { py: 'tuple(range(300))', codes: '(((((((' },
  list: { py: '[1, [2.5, []], "x"]', codes: '[[[[[[[' },
  dict: { py: "{'a': 1, 2: [3], (4,): {'b': None}}", codes: '{{{{{{{' },
  set: { py: '{1, 2, 3, -7}', codes: '<<<<<<<' },
  frozenset: { py: "frozenset({1, 'two', (3,)})", codes: '>>>>>>>' },
  'shared objects': {
    // The tuple reserves index 0 before its items, the list index 1 before its own.
    py: "(lambda s, t: (s, [s, t, s], t, s))(''.join(['not', ' interned']), (7, 8))",
    codes: '(((()))',
    check: (v, version) => {
      assert.ok(v.type === 'tuple')
      const [s, list, t, s2] = v.items
      assert.ok(list?.type === 'list')
      if (version >= 3) {
        assert.equal(list.items[0], s, 'the string is one JS object')
        assert.equal(list.items[2], s)
        assert.equal(s2, s)
        assert.equal(t, list.items[1], 'the tuple is one JS object')
      }
    },
  },
  slice: { py: "slice(1, None, 'x')", codes: '-----::' },
  frozendict: { py: "frozendict({'a': 1, 2: (3,), 'n': frozendict()})", codes: '------}', since: 15 },
  'frozendict in a tuple, shared': {
    py: "(lambda f: (f, [f], f))(frozendict({'k': 'v'}))",
    codes: '------)',
    since: 15,
    check: (v) => {
      assert.ok(v.type === 'tuple')
      const [f, list] = v.items
      assert.ok(f?.type === 'frozendict' && list?.type === 'list')
    },
  },
}

// ---------------------------------------------------------------------------------------------
// Our side of the shape

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
function fhex(x: number): string {
  const b = Buffer.alloc(8)
  b.writeDoubleLE(x)
  return b.toString('hex')
}
const utf16 = (s: string) => Buffer.from(s, 'utf16le').toString('hex')

function strs(o: PyObject | undefined): string[] {
  assert.ok(o?.type === 'tuple', 'a tuple of str')
  return o.items.map((x) => {
    assert.ok(x.type === 'str')
    return x.value
  })
}
function str(o: PyObject | undefined): string {
  assert.ok(o?.type === 'str')
  return o.value
}
function bytesHex(o: PyObject | undefined): string {
  assert.ok(o?.type === 'bytes')
  return hex(o.value)
}

/** What marshal.loads would give for the code object, as the oracle's `code_shape` writes it. */
function codeShape(c: PyCode): Record<string, unknown> {
  const common = {
    argcount: c.argcount,
    posonlyargcount: c.posonlyargcount,
    kwonlyargcount: c.kwonlyargcount,
    stacksize: c.stacksize,
    flags: c.flags,
    firstlineno: c.firstlineno,
    code: bytesHex(c.bytecode),
    consts: c.consts.type === 'tuple' ? c.consts.items.map(shape) : assert.fail('consts'),
    names: strs(c.names),
    filename: str(c.filename),
    name: str(c.name),
    linetable: bytesHex(c.linetable),
  }
  if (c.localsplusnames === undefined) {
    return { ...common, nlocals: c.nlocals, varnames: strs(c.varnames), freevars: strs(c.freevars), cellvars: strs(c.cellvars) }
  }
  // 3.11+: the kind byte of each local says local (0x20), cell (0x40) or free (0x80).
  const names = strs(c.localsplusnames)
  const kinds = c.localspluskinds?.type === 'bytes' ? c.localspluskinds.value : assert.fail('kinds')
  const having = (bit: number) => names.filter((_, i) => (kinds[i]! & bit) !== 0)
  return {
    ...common,
    nlocals: having(0x20).length,
    varnames: having(0x20),
    cellvars: having(0x40),
    freevars: having(0x80),
    qualname: str(c.qualname),
    exceptiontable: bytesHex(c.exceptiontable),
  }
}

/** The oracle's `shape` of a value, computed from our model. */
function shape(o: PyObject): unknown {
  switch (o.type) {
    case 'none':
      return ['None']
    case 'stopiteration':
      return ["<class 'StopIteration'>"]
    case 'ellipsis':
      return ['Ellipsis']
    case 'bool':
      return ['bool', o.value]
    case 'int':
      return ['int', o.value.toString()]
    case 'float':
      return ['float', fhex(o.value)]
    case 'complex':
      return ['complex', fhex(o.real), fhex(o.imag)]
    case 'bytes':
      return ['bytes', hex(o.value)]
    case 'str':
      return ['str', utf16(o.value)]
    case 'tuple':
    case 'list':
      return [o.type, o.items.map(shape)]
    case 'dict':
    case 'frozendict':
      return [o.type, o.entries.map(([k, v]) => [shape(k), shape(v)])]
    case 'set':
    case 'frozenset':
      // Sorted as Python's json.dumps(separators=(', ', ': ')) text sorts.
      return [o.type, o.items.map(shape).sort((a, b) => cmp(pyJson(a), pyJson(b)))]
    case 'slice':
      return ['slice', shape(o.start), shape(o.stop), shape(o.step)]
    case 'code':
      return ['code', codeShape(o)]
  }
}
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
const pyJson = (v: unknown) => JSON.stringify(v).replaceAll(',', ', ')

// ---------------------------------------------------------------------------------------------
// Running the oracle and checking its answers

interface Dumped {
  readonly hex: string
  readonly shape: unknown
}
interface OracleAnswer {
  readonly version: string
  readonly cases: Record<string, (Dumped | null)[]>
}

function request(minor: number): string {
  const cases: Record<string, string> = {}
  for (const [name, c] of Object.entries(CASES)) if ((c.since ?? 0) <= minor) cases[name] = c.py
  cases['code object'] = `compile(${JSON.stringify(CODE_SRC)}, 'case.py', 'exec')`
  return JSON.stringify({ cases })
}

function runOracle(python: string, minor: number): OracleAnswer {
  const r = spawnSync(python, ['-c', `${ORACLE_PY}\nprint(oracle(sys.stdin.read()))`], {
    input: request(minor),
    encoding: 'utf8',
    env: { ...process.env, PYTHONHASHSEED: '0', PYTHONIOENCODING: 'utf-8' },
  })
  assert.equal(r.status, 0, `${python} failed: ${r.stderr}`)
  return JSON.parse(r.stdout) as OracleAnswer
}

/** Checks every case of one interpreter's answer: type code, value, exact bytes back. */
function checkAnswer(answer: OracleAnswer, minor: number): number {
  let checked = 0
  for (const [name, perVersion] of Object.entries(answer.cases)) {
    const c = CASES[name]
    perVersion.forEach((dumped, version) => {
      const where = `${name}, marshal version ${version}, CPython ${answer.version}`
      const expectedCode = c?.codes[version]
      if (dumped === null) {
        assert.equal(expectedCode, '-', `${where}: CPython could not marshal it`)
        return
      }
      const bytes = Buffer.from(dumped.hex, 'hex')
      const { value, endOffset } = readMarshal(bytes, { pythonVersion: [3, minor] })
      assert.equal(endOffset, bytes.length, `${where}: reads to the end`)
      if (expectedCode !== undefined) assert.equal(String.fromCharCode(value.code), expectedCode, `${where}: type code`)
      else assert.equal(value.type, 'code', where)
      assert.deepEqual(shape(value), dumped.shape, `${where}: value`)
      c?.check?.(value, version)
      assert.equal(hex(writeMarshal(value, { pythonVersion: [3, minor] })), dumped.hex, `${where}: bytes written back`)
      checked++
    })
  }
  return checked
}

for (const minor of NATIVE_MINORS) {
  test(`CPython 3.${minor}: every type code, every marshal version it writes, read and written back`, (t) => {
    const python = requirePython(t, minor)
    if (python === undefined) return
    const checked = checkAnswer(runOracle(python, minor), minor)
    assert.ok(checked >= Object.values(CASES).filter((c) => (c.since ?? 0) <= minor).length * 5)
  })
}

test('CPython 3.14 (Pyodide): marshal version 5 with slices, and the 3.14 code layout', async (t) => {
  let pyodide: { runPython(code: string): unknown }
  try {
    const { loadPyodide } = await import('pyodide')
    pyodide = await loadPyodide()
  } catch (e) {
    requireResource(t, `Pyodide could not be loaded: ${e}`)
    return
  }
  // A JSON string is also a valid Python string literal.
  const answer = JSON.parse(String(pyodide.runPython(`${ORACLE_PY}\noracle(${JSON.stringify(request(14))})`))) as OracleAnswer
  assert.match(answer.version, /^3\.14\./)
  assert.ok(checkAnswer(answer, 14) >= Object.values(CASES).filter((c) => (c.since ?? 0) <= 14).length * 5)
})

// ---------------------------------------------------------------------------------------------
// Hand-written bytes: what Python 3 never writes, and malformed data

const b = (...parts: (number | string)[]) =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...Buffer.from(p, 'latin1')] : [p])))
const i32 = (n: number) => {
  const out = Buffer.alloc(4)
  out.writeInt32LE(n)
  return [...out].map((x) => String.fromCharCode(x)).join('')
}
const FLAG = 0x80

test("'I' int64 (Python 2) and a zero-digit long read and write back", () => {
  const int64 = b('I', 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
  const r = readMarshal(int64)
  assert.deepEqual(r.value, { type: 'int', value: -2n, code: 0x49, ref: false })
  assert.deepEqual(writeMarshal(r.value), int64)

  const zero = b('l', i32(0))
  assert.equal((readMarshal(zero).value as { value: bigint }).value, 0n)
  assert.deepEqual(writeMarshal(readMarshal(zero).value), zero)
})

test("':' slice (format 5) with FLAG_REF reserves its index before its parts", () => {
  // (s := slice(1, None, None), s) with the slice registered as reference 0 and 1 as reference 1
  const data = b(')', 2, ':'.charCodeAt(0) | FLAG, 'i'.charCodeAt(0) | FLAG, i32(1), 'N', 'N', 'r', i32(0))
  const { value } = readMarshal(data, { pythonVersion: [3, 14] })
  assert.ok(value.type === 'tuple')
  const [s, again] = value.items
  assert.ok(s?.type === 'slice' && s.start.type === 'int' && s.start.value === 1n && s.stop.type === 'none')
  assert.equal(again, s)
  assert.deepEqual(writeMarshal(value, { pythonVersion: [3, 14] }), data)
})

test('references follow CPython order: a container is registered before its items', () => {
  // (L := [7], L, 7) as ')'|FLAG 3: '['|FLAG 1: 'i'|FLAG 7; 'r' 1; 'r' 2 — index 0 is the tuple.
  const data = b(')'.charCodeAt(0) | FLAG, 3, '['.charCodeAt(0) | FLAG, i32(1), 'i'.charCodeAt(0) | FLAG, i32(7), 'r', i32(1), 'r', i32(2))
  const { value } = readMarshal(data)
  assert.ok(value.type === 'tuple')
  const [list, sameList, seven] = value.items
  assert.ok(list?.type === 'list')
  assert.equal(sameList, list)
  assert.equal(seven, list.items[0])
  assert.deepEqual(writeMarshal(value), data)
})

/** One malformed input: its bytes, the error code and the byte offset the error must carry. */
const BAD: [name: string, bytes: Uint8Array, code: MarshalErrorCode, byteOffset: number][] = [
  ['empty input', b(), 'MARSHAL_TRUNCATED', 0],
  ['unknown type code', b('?'), 'MARSHAL_BAD_TYPE', 0],
  ["NULL ('0') as a value", b(')', 1, '0'), 'MARSHAL_BAD_TYPE', 2],
  ['int cut short', b('i', 1, 2), 'MARSHAL_TRUNCATED', 1],
  ['int64 cut short', b('I', 1, 2, 3), 'MARSHAL_TRUNCATED', 1],
  ['binary float cut short', b('g', 0, 0, 0), 'MARSHAL_TRUNCATED', 1],
  ['text float that is not a number', b('f', 3, 'abc'), 'MARSHAL_BAD_VALUE', 2],
  ['text float longer than the data', b('f', 9, '1.5'), 'MARSHAL_TRUNCATED', 1],
  ['bytes length past the end', b('s', i32(10), 'abc'), 'MARSHAL_TRUNCATED', 1],
  ['bytes length 2**31-1', b('s', i32(0x7fffffff)), 'MARSHAL_TRUNCATED', 1],
  ['negative bytes length', b('s', i32(-1)), 'MARSHAL_BAD_LENGTH', 1],
  ['tuple of 2**31-1 items', b('(', i32(0x7fffffff), 'N'), 'MARSHAL_TRUNCATED', 1],
  ['short tuple missing items', b(')', 3, 'N'), 'MARSHAL_TRUNCATED', 1],
  ['list item missing', b('[', i32(1)), 'MARSHAL_TRUNCATED', 1],
  ['invalid UTF-8 str', b('u', i32(2), 0xc3, 0x28), 'MARSHAL_BAD_VALUE', 5],
  ['short ascii past the end', b('z', 200, 'abc'), 'MARSHAL_TRUNCATED', 1],
  ['long digit count 2**31-1', b('l', i32(0x7fffffff), 1, 0), 'MARSHAL_TRUNCATED', 1],
  ['long digit count -2**31', b('l', i32(-0x80000000)), 'MARSHAL_TRUNCATED', 1],
  ['long digit ≥ 2**15', b('l', i32(1), 0x00, 0x80), 'MARSHAL_BAD_VALUE', 5],
  ['long with a zero top digit', b('l', i32(2), 1, 0, 0, 0), 'MARSHAL_BAD_VALUE', 5],
  ['dict without its NULL', b('{', 'N', 'N'), 'MARSHAL_TRUNCATED', 3],
  ['reference to nothing', b('r', i32(0)), 'MARSHAL_BAD_REF', 0],
  ['negative reference', b(')', 2, 'N'.charCodeAt(0) | FLAG, 'r', i32(-1)), 'MARSHAL_BAD_REF', 3],
  // CPython would build a list containing itself; our model is acyclic, so this is refused.
  ['reference to the list being read', b('['.charCodeAt(0) | FLAG, i32(1), 'r', i32(0)), 'MARSHAL_BAD_REF', 5],
  ['code object cut short', b('c', i32(0), i32(0)), 'MARSHAL_TRUNCATED', 9],
  ['nesting deeper than 1000', b(...Array(1100).fill(')'.charCodeAt(0)).flatMap((x) => [x, 1]), 'N'), 'MARSHAL_TOO_DEEP', 2002],
]

for (const [name, bytes, code, byteOffset] of BAD) {
  test(`malformed: ${name} → ${code} at byte ${byteOffset}`, () => {
    assert.throws(
      () => readMarshal(bytes, { pythonVersion: [3, 12] }),
      (e) => e instanceof MarshalError && e.code === code && e.byteOffset === byteOffset,
    )
  })
}

test('writing a code object for a version whose layout it lacks is MARSHAL_UNWRITABLE', () => {
  const none = { type: 'none', code: 0x4e, ref: false } as const
  const empty = { type: 'bytes', value: new Uint8Array(), code: 0x73, ref: false } as const
  const code38: PyCode = {
    type: 'code', code: 0x63, ref: false, argcount: 0, posonlyargcount: 0, kwonlyargcount: 0, nlocals: 0,
    stacksize: 1, flags: 64, bytecode: empty, consts: none, names: none, varnames: none, freevars: none,
    cellvars: none, filename: none, name: none, firstlineno: 1, linetable: empty,
  }
  const written = writeMarshal(code38, { pythonVersion: [3, 8] })
  assert.deepEqual(readMarshal(written, { pythonVersion: [3, 8] }).value, code38)
  assert.throws(
    () => writeMarshal(code38, { pythonVersion: [3, 12] }),
    (e) => e instanceof MarshalError && e.code === 'MARSHAL_UNWRITABLE',
  )
})

test('expandedSize counts every back-reference as a full copy of its target', () => {
  const str: PyObject = { type: 'str', value: 'abcd', code: 0x7a, ref: true }
  const inner: PyObject = { type: 'tuple', items: [str, str, str], code: 0x29, ref: true }
  const outer: PyObject = { type: 'list', items: [inner, inner], code: 0x5b, ref: false }
  assert.equal(expandedSize(str), 5)
  assert.equal(expandedSize(inner), 1 + 3 * 5)
  assert.equal(expandedSize(outer), 1 + 2 * 16)
  // Read back from bytes (where the copies are references), the count is the same.
  assert.equal(expandedSize(readMarshal(writeMarshal(outer)).value), 33)
})

// ---------------------------------------------------------------------------------------------
// Whole stdlibs (all optimization levels): read from byte 16, write, compare. About 5,000 files
// and 100 MB per version, a second or two each; scripts/roundtrip-all.ts adds 3.14 and a summary.

for (const minor of NATIVE_MINORS) {
  test(`CPython 3.${minor} stdlib: every .pyc reads and writes back byte for byte`, (t) => {
    if (requirePython(t, minor) === undefined) return
    const dir = stdlibDir(minor)!
    const files = findPycs(dir)
    assert.ok(files.length > 1000, `found only ${files.length} .pyc files under ${dir}`)
    const problems = files
      .map((f) => [relative(dir, f), roundTripProblem(readFileSync(f), minor)] as const)
      .filter(([, p]) => p !== undefined)
    assert.deepEqual(problems.slice(0, 5), [], `${problems.length} of ${files.length} files differ`)
    t.diagnostic(`${files.length} files identical`)
  })
}
