// Python's repr() of marshal constants (src/bytecode/pyrepr.ts).
//
// Two parts: fixed expectations that need no Python, and a large generated table (tricky and
// random floats, complex numbers, strs, bytes, ints, containers, code objects) whose expected
// reprs come from live interpreters in one batch per interpreter, plus an exhaustive check of
// which code points each interpreter's repr escapes. `python3` is required (skipped with a
// reason locally, failing when CI=true): every supported version through test/pyenv.ts, and
// the Pyodide devDependency as an extra 3.14.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { describe, test } from 'node:test'
import { isPrintable, pyRepr, reprBytes, reprComplex, reprFloat, reprStr } from '../src/bytecode/pyrepr.js'
import type { PyCode, PyObject } from '../src/marshal/types.js'
import { NATIVE_MINORS, pythonFor, requirePython } from './pyenv.js'
import { requireResource } from './resources.js'

// ---------------------------------------------------------------------------------------------
// Building marshal objects

const none: PyObject = { type: 'none', code: 0x4e, ref: false }
const int = (v: bigint | number): PyObject => ({ type: 'int', code: 0x69, ref: false, value: BigInt(v) })
const str = (value: string): PyObject => ({ type: 'str', code: 0x75, ref: false, value })
const flt = (value: number): PyObject => ({ type: 'float', code: 0x67, ref: false, value })
const tuple = (...items: PyObject[]): PyObject => ({ type: 'tuple', code: 0x28, ref: false, items })
const list = (...items: PyObject[]): PyObject => ({ type: 'list', code: 0x5b, ref: false, items })

function code(name: PyObject, filename: PyObject, firstlineno: number): PyCode {
  return {
    type: 'code', code: 0x63, ref: false,
    argcount: 0, posonlyargcount: 0, kwonlyargcount: 0, stacksize: 0, flags: 0,
    bytecode: none, consts: none, names: none, linetable: none,
    filename, name, firstlineno,
  }
}

/**
 * A value described in JSON, built both here (as a PyObject) and by the Python batch script.
 * Floats travel as the 16 hex digits of their big-endian IEEE-754 bits, strs as code points.
 */
type Desc =
  | readonly ['none' | 'stop' | 'ellipsis']
  | readonly ['bool', boolean]
  | readonly ['int', string]
  | readonly ['float', string]
  | readonly ['complex', string, string]
  | readonly ['bytes', string]
  | readonly ['str', readonly number[]]
  | readonly ['tuple' | 'list' | 'set' | 'frozenset', readonly Desc[]]
  | readonly ['dict', readonly (readonly [Desc, Desc])[]]
  | readonly ['slice', Desc, Desc, Desc]
  | readonly ['code', readonly number[], readonly number[], number]

const bitsView = new DataView(new ArrayBuffer(8))
function floatBits(x: number): string {
  bitsView.setFloat64(0, x)
  return bitsView.getBigUint64(0).toString(16).padStart(16, '0')
}
function bitsFloat(hex: string): number {
  bitsView.setBigUint64(0, BigInt(`0x${hex}`))
  return bitsView.getFloat64(0)
}
const fromCodePoints = (cps: readonly number[]): string => cps.map((c) => String.fromCodePoint(c)).join('')

function toPy(d: Desc): PyObject {
  const n = { code: 0, ref: false } as const
  switch (d[0]) {
    case 'none':
      return none
    case 'stop':
      return { ...n, type: 'stopiteration' }
    case 'ellipsis':
      return { ...n, type: 'ellipsis' }
    case 'bool':
      return { ...n, type: 'bool', value: d[1] }
    case 'int':
      return int(BigInt(d[1]))
    case 'float':
      return flt(bitsFloat(d[1]))
    case 'complex':
      return { ...n, type: 'complex', real: bitsFloat(d[1]), imag: bitsFloat(d[2]) }
    case 'bytes':
      return { ...n, type: 'bytes', value: Uint8Array.from(d[1].match(/../g) ?? [], (h) => Number.parseInt(h, 16)) }
    case 'str':
      return str(fromCodePoints(d[1]))
    case 'tuple':
    case 'list':
    case 'set':
    case 'frozenset':
      return { ...n, type: d[0], items: d[1].map(toPy) }
    case 'dict':
      return { ...n, type: 'dict', entries: d[1].map(([k, v]) => [toPy(k), toPy(v)] as const) }
    case 'slice':
      return { ...n, type: 'slice', start: toPy(d[1]), stop: toPy(d[2]), step: toPy(d[3]) }
    case 'code':
      return code(str(fromCodePoints(d[1])), str(fromCodePoints(d[2])), d[3])
  }
}

// ---------------------------------------------------------------------------------------------
// Fixed expectations (no Python needed)

describe('pyrepr: fixed expectations', () => {
  test('floats', () => {
    const cases: [number, string][] = [
      [0, '0.0'], [-0, '-0.0'], [1, '1.0'], [-1.5, '-1.5'], [0.1, '0.1'], [1 / 3, '0.3333333333333333'],
      [1e16, '1e+16'], [1e-5, '1e-05'], [0.0001, '0.0001'], [123456789012345.0, '123456789012345.0'],
      [1234567890123456.0, '1234567890123456.0'], [1e22, '1e+22'], [1.5e-7, '1.5e-07'],
      [Number.POSITIVE_INFINITY, 'inf'], [Number.NEGATIVE_INFINITY, '-inf'], [Number.NaN, 'nan'],
      [5e-324, '5e-324'], [1.7976931348623157e308, '1.7976931348623157e+308'], [1e100, '1e+100'],
      [2 ** 53, '9007199254740992.0'], [0.30000000000000004, '0.30000000000000004'],
    ]
    for (const [x, want] of cases) assert.equal(reprFloat(x), want, `reprFloat(${x})`)
  })

  test('complex numbers', () => {
    const inf = Number.POSITIVE_INFINITY
    const cases: [number, number, string][] = [
      [0, 1, '1j'], [1, 2, '(1+2j)'], [0, -0, '-0j'], [-0, -1, '(-0-1j)'], [0, inf, 'infj'],
      [Number.NaN, Number.NaN, '(nan+nanj)'], [0, 1e16, '1e+16j'], [-0, 0, '(-0+0j)'],
      [1.5, -inf, '(1.5-infj)'], [0, 0.5, '0.5j'], [-inf, 0, '(-inf+0j)'], [1e-5, 1e22, '(1e-05+1e+22j)'],
    ]
    for (const [re, im, want] of cases) assert.equal(reprComplex(re, im), want, `reprComplex(${re}, ${im})`)
  })

  test('strs: quotes, escapes, printable, surrogates', () => {
    const cases: [string, string][] = [
      ['', "''"], ['abc', "'abc'"], ["it's", `"it's"`], ['say "hi"', `'say "hi"'`], [`'"`, `'\\'"'`],
      ['a\\b', "'a\\\\b'"], ['\t\n\r', "'\\t\\n\\r'"], ['\x00\x1f\x7f', "'\\x00\\x1f\\x7f'"],
      ['\x80\x9f\xa0\xad', "'\\x80\\x9f\\xa0\\xad'"], ['é€', "'é€'"], ['\u200b\u2028\ufeff', "'\\u200b\\u2028\\ufeff'"],
      ['\u{1f600}', "'\u{1f600}'"], ['\u{e0001}\u{f0000}', "'\\U000e0001\\U000f0000'"], ['\ud800', "'\\ud800'"],
      ['\udfff!', "'\\udfff!'"], ['\u3000 ', "'\\u3000 '"],
    ]
    for (const [s, want] of cases) assert.equal(reprStr(s), want, `reprStr(${JSON.stringify(s)})`)
  })

  test('strs follow the Unicode version of each Python', () => {
    // U+31350 (CJK Extension H) is new in Unicode 15.0 = Python 3.12; U+2EBF0 (Extension I) in
    // 15.1 = 3.13; U+1CC00 in 16.0 = 3.14; U+323B0 (Extension J, Unicode 17) in none of them.
    assert.equal(reprStr('\u{31350}', 11), "'\\U00031350'")
    assert.equal(reprStr('\u{31350}', 12), "'\u{31350}'")
    assert.equal(reprStr('\u{2ebf0}', 12), "'\\U0002ebf0'")
    assert.equal(reprStr('\u{2ebf0}', 13), "'\u{2ebf0}'")
    assert.equal(reprStr('\u{1cc00}', 13), "'\\U0001cc00'")
    assert.equal(reprStr('\u{1cc00}', 14), "'\u{1cc00}'")
    assert.equal(reprStr('\u{323b0}', 14), "'\\U000323b0'")
    assert.equal(isPrintable(0x20, 8), true)
    assert.equal(isPrintable(0xa0, 14), false)
    assert.equal(pyRepr(str('\u{31350}'), { minor: 11 }), "'\\U00031350'")
  })

  test('bytes', () => {
    const b = (...xs: number[]) => Uint8Array.from(xs)
    assert.equal(reprBytes(b()), "b''")
    assert.equal(reprBytes(b(0x61, 0x27)), `b"a'"`)
    assert.equal(reprBytes(b(0x27, 0x22)), `b'\\'"'`)
    assert.equal(reprBytes(b(0x5c, 9, 10, 13, 0, 0x7f, 0x80, 0xff)), "b'\\\\\\t\\n\\r\\x00\\x7f\\x80\\xff'")
  })

  test('singletons, ints, containers, slices', () => {
    const o = (x: PyObject) => pyRepr(x, { minor: 12 })
    const n = { code: 0, ref: false } as const
    assert.equal(o(none), 'None')
    assert.equal(o({ ...n, type: 'bool', value: false }), 'False')
    assert.equal(o({ ...n, type: 'stopiteration' }), "<class 'StopIteration'>")
    assert.equal(o({ ...n, type: 'ellipsis' }), 'Ellipsis')
    assert.equal(o(int(-12345678901234567890n)), '-12345678901234567890')
    // More than 4300 digits: CPython 3.11+ raises ValueError; we print the digits.
    assert.equal(o(int(10n ** 5000n)), `1${'0'.repeat(5000)}`)
    assert.equal(o(tuple()), '()')
    assert.equal(o(tuple(int(1))), '(1,)')
    assert.equal(o(tuple(int(1), str('a'), flt(2))), "(1, 'a', 2.0)")
    assert.equal(o(list()), '[]')
    assert.equal(o(list(tuple(int(1)), list())), '[(1,), []]')
    assert.equal(o({ ...n, type: 'dict', entries: [] }), '{}')
    assert.equal(o({ ...n, type: 'dict', entries: [[str('k'), tuple()], [int(1), none]] }), "{'k': (), 1: None}")
    assert.equal(o({ ...n, type: 'set', items: [] }), 'set()')
    assert.equal(o({ ...n, type: 'set', items: [int(1), int(2)] }), '{1, 2}')
    assert.equal(o({ ...n, type: 'frozenset', items: [] }), 'frozenset()')
    assert.equal(o({ ...n, type: 'frozenset', items: [int(1), int(2)] }), 'frozenset({1, 2})')
    assert.equal(o({ ...n, type: 'slice', start: int(1), stop: none, step: int(2) }), 'slice(1, None, 2)')
  })

  test('self-referencing containers print like reprlib', () => {
    const items: PyObject[] = [int(1)]
    const l: PyObject = { type: 'list', code: 0x5b, ref: true, items }
    items.push(l)
    assert.equal(pyRepr(l, { minor: 12 }), '[1, [...]]')
  })

  test('code objects', () => {
    const f = code(str('f'), str('a "b"\n.py'), 3)
    const addr = () => '0x7f3a12c0'
    assert.equal(pyRepr(f, { minor: 8, codeAddress: addr }), '<code object f at 0x7f3a12c0, file "a "b"\n.py", line 3>')
    assert.equal(
      pyRepr(code(str('<module>'), str('m.py'), 0), { minor: 14, codeAddress: addr }),
      '<code object <module> at 0x7f3a12c0, file "m.py", line -1>',
    )
    assert.equal(pyRepr(code(str('g'), none, 1), { minor: 14, codeAddress: addr }), '<code object g at 0x7f3a12c0, file ???, line 1>')
    // Without codeAddress: stable fake addresses in first-seen order.
    const g = code(str('g'), str('m.py'), 7)
    assert.equal(
      pyRepr(tuple(f, g, f), { minor: 12 }),
      '(<code object f at 0x7f0000000000, file "a "b"\n.py", line 3>, ' +
        '<code object g at 0x7f0000000100, file "m.py", line 7>, ' +
        '<code object f at 0x7f0000000000, file "a "b"\n.py", line 3>)',
    )
  })
})

// ---------------------------------------------------------------------------------------------
// Generated cases, checked against live interpreters

/** mulberry32: a small fixed-seed PRNG so the generated table is the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

interface Case {
  readonly group: string
  readonly desc: Desc
}

function generateCases(): Case[] {
  const rnd = prng(0x5eed)
  const randInt = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1))
  const pick = <T>(xs: readonly T[]): T => xs[randInt(0, xs.length - 1)]!
  const cases: Case[] = []
  const add = (group: string, desc: Desc) => cases.push({ group, desc })
  const f = (x: number): Desc => ['float', floatBits(x)]
  const s = (x: string): Desc => ['str', Array.from(x, (c) => c.codePointAt(0)!)]
  const i = (x: bigint | number): Desc => ['int', BigInt(x).toString()]

  // Floats: edge values, every power of ten, neighbours of the notation thresholds, random bits,
  // random short decimals.
  const tricky = [
    0, -0, 1, -1, 0.1, 0.2, 0.3, 0.5, 1 / 3, 2 / 3, 100, 1e15, 1e16, 1e17, 9999999999999998,
    123456789012345, 1234567890123456, Number('12345678901234567'), 1e22, 1e23, 1e-4, 1e-5, 0.0001234,
    0.00001234, 1.5e-7, 5e-324, 1e-323, 2.2250738585072014e-308, Number('2.225073858507201e-308'),
    1.7976931348623157e308, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN,
    2 ** 53, 2 ** 53 + 2, 2 ** 63, 2 ** 64, -(2 ** 31), 2 ** 53 - 1, 0.1 + 0.2, Math.PI, Math.E,
    1e308, 1e-308, 4.35, 0.000099999, 9.5e15, 9999999999999996, Number('9999999999999999'), 1.0000000000000002, 0.9999999999999999,
  ]
  for (const x of tricky) add('float', f(x))
  for (let e = -330; e <= 310; e++) add('float', f(Number(`1e${e}`)))
  for (let e = -8; e <= 20; e++) {
    const p = Number(`1e${e}`)
    for (const x of [p, -p]) add('float', f(x))
    bitsView.setFloat64(0, p)
    const bits = bitsView.getBigUint64(0)
    for (const d of [-1n, 1n]) add('float', ['float', (bits + d).toString(16).padStart(16, '0')])
  }
  for (let k = 0; k < 1500; k++) {
    const hi = randInt(0, 0xffffffff).toString(16).padStart(8, '0')
    const lo = randInt(0, 0xffffffff).toString(16).padStart(8, '0')
    add('float', ['float', hi + lo])
  }
  for (let k = 0; k < 700; k++) {
    const digits = String(randInt(1, 10 ** randInt(1, 15)))
    add('float', f(Number(`${rnd() < 0.5 ? '-' : ''}${digits}e${randInt(-25, 25)}`)))
  }
  for (let k = 0; k < 200; k++) add('float', f(rnd() * 10 ** randInt(-6, 18)))

  // Complex: every pair of special parts, then random ones.
  const parts = [0, -0, 1, -1, 2.5, 1e16, 1e-5, 0.1, 1e300, 5e-324, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN]
  for (const re of parts) for (const im of parts) add('complex', ['complex', floatBits(re), floatBits(im)])
  for (let k = 0; k < 200; k++) {
    const r = () => (rnd() < 0.2 ? pick(parts) : (rnd() - 0.5) * 10 ** randInt(-20, 20))
    add('complex', ['complex', floatBits(r()), floatBits(r())])
  }

  // Strs: quote combinations, one of each interesting code point, random mixes over ranges.
  for (const x of ['', "'", '"', `'"`, `"'`, "a'b", 'a"b', "''\"", '\\', "\\'", '\\"', "it's \\ \"x\"", ' ', '\u3000'])
    add('str', s(x))
  const ranges: [number, number][] = [
    [0x20, 0x7e], [0x20, 0x7e], [0x20, 0x7e], [0x00, 0x1f], [0x7f, 0x9f], [0xa0, 0xff], [0x100, 0x2fff],
    [0x0870, 0x089f], [0x2000, 0x206f], [0xfe00, 0xffff], [0xfdd0, 0xfdef], [0xd800, 0xdfff],
    [0xe000, 0xf8ff], [0x3000, 0xffff], [0x10000, 0x1ffff], [0x1f300, 0x1faff], [0x1cc00, 0x1ceff],
    [0x1fb00, 0x1fbff], [0x10d40, 0x10d8f], [0x11f00, 0x11f5f], [0x16d40, 0x16d7f], [0x18d00, 0x18d7f],
    [0x1e4d0, 0x1e4ff], [0x10f70, 0x10faf], [0x20000, 0x3ffff], [0x30000, 0x3134f], [0x31350, 0x323af],
    [0x2ebf0, 0x2ee5f], [0x323b0, 0x3347f], [0xe0000, 0xe01ff], [0xf0000, 0x10ffff],
  ]
  const singles = [0x7f, 0x80, 0x9f, 0xa0, 0xa1, 0xad, 0xff, 0x100, 0x378, 0x61c, 0x1680, 0x180e, 0x200b,
    0x200e, 0x2028, 0x2029, 0x202f, 0x205f, 0x2060, 0x2066, 0xd7ff, 0xd800, 0xdbff, 0xdc00, 0xdfff, 0xe000,
    0xfeff, 0xfff9, 0xfffc, 0xfffd, 0xfffe, 0xffff, 0x10000, 0x1000c, 0x1d173, 0x1f600, 0x1fffe, 0xe0001,
    0xe007f, 0xf0000, 0x10fffd, 0x10ffff]
  for (const cp of singles) add('str', ['str', [cp]])
  for (let k = 0; k < 800; k++) {
    const cps: number[] = []
    const len = randInt(0, 12)
    for (let j = 0; j < len; j++) {
      const [lo, hi] = pick(ranges)
      let cp = randInt(lo, hi)
      // A high surrogate followed by a low one would be one astral character in JS.
      const prev = cps[cps.length - 1]
      if (prev !== undefined && prev >= 0xd800 && prev < 0xdc00 && cp >= 0xdc00 && cp < 0xe000) cp = 0x41
      cps.push(cp)
    }
    add('str', ['str', cps])
  }

  // Bytes: every byte alone, all 256 together, quote combinations, random.
  const hex2 = (b: number) => b.toString(16).padStart(2, '0')
  for (let b = 0; b < 256; b++) add('bytes', ['bytes', hex2(b)])
  add('bytes', ['bytes', Array.from({ length: 256 }, (_, b) => hex2(b)).join('')])
  for (const x of ['', '27', '22', '2722', '2227', '5c27', '615c22', '2727']) add('bytes', ['bytes', x])
  for (let k = 0; k < 200; k++) {
    const len = randInt(0, 24)
    add('bytes', ['bytes', Array.from({ length: len }, () => hex2(rnd() < 0.3 ? pick([0x22, 0x27, 0x5c, 9, 10, 13]) : randInt(0, 255))).join('')])
  }

  // Ints: boundaries and random sizes up to CPython's 4300-digit str limit.
  for (const x of [0n, 1n, -1n, 2n ** 31n, -(2n ** 31n), 2n ** 63n, -(2n ** 63n) - 1n, 2n ** 64n, 10n ** 4299n, -(10n ** 4299n)])
    add('int', i(x))
  for (let k = 0; k < 100; k++) {
    const digits = Array.from({ length: randInt(1, rnd() < 0.9 ? 40 : 4300) }, () => randInt(0, 9)).join('')
    add('int', ['int', `${rnd() < 0.5 ? '-' : ''}${digits}`])
  }

  // Containers, singletons, slices.
  const leaves: Desc[] = [['none'], ['bool', true], ['bool', false], ['ellipsis'], ['stop'], i(0), i(-7), f(1.5),
    f(-0), f(Number.NaN), s('x'), s("it's"), s('\n'), ['bytes', '00ff'], ['complex', floatBits(0), floatBits(1)],
    ['tuple', []], ['frozenset', []], ['frozenset', [i(1), i(2), i(3)]]]
  for (const leaf of leaves) add('container', leaf)
  add('container', ['tuple', [i(1)]])
  add('container', ['tuple', [['tuple', [i(1)]]]])
  add('container', ['list', []])
  add('container', ['set', []])
  add('container', ['set', [i(0), i(3), i(5)]])
  add('container', ['dict', []])
  add('container', ['dict', [[s('a'), i(1)], [i(2), ['list', [s('b')]]], [['tuple', []], ['none']]]])
  add('container', ['slice', ['none'], ['none'], ['none']])
  add('container', ['slice', i(1), f(2.5), ['tuple', [i(1), i(2)]]])
  const randomDesc = (depth: number): Desc => {
    if (depth === 0 || rnd() < 0.4) return pick(leaves)
    const kids = Array.from({ length: randInt(0, 4) }, () => randomDesc(depth - 1))
    switch (randInt(0, 4)) {
      case 0:
        return ['tuple', kids]
      case 1:
        return ['list', kids]
      case 2:
        return ['dict', kids.map((v, j) => [s(`k${j}`), v] as const)]
      case 3:
        return ['frozenset', [...new Set(kids.map(() => randInt(0, 7)))].sort().map((v) => i(v))]
      default:
        return ['slice', pick(leaves), pick(leaves), pick(leaves)]
    }
  }
  for (let k = 0; k < 150; k++) add('container', randomDesc(4))

  // Code objects: names and file names are inserted unescaped.
  const cp = (x: string) => Array.from(x, (c) => c.codePointAt(0)!)
  const names = ['f', '<module>', '<lambda>', '<genexpr>', "it's", 'a"b', 'é', 'x\ny', '\ud800', '']
  const files = ['m.py', '', 'a "b".py', 'c:\\x\\y.py', 'ü\t\u{1f600}.py', "'q'"]
  for (const [j, name] of names.entries()) {
    for (const [k, file] of files.entries()) add('code', ['code', cp(name), cp(file), pick([1, 0, 42, 2 ** 31 - 1, j * 10 + k + 1])])
  }
  add('code', ['tuple', [['code', cp('f'), cp('m.py'), 1], ['code', cp('g'), cp('m.py'), 0], s('g')]])
  return cases
}

const BATCH_SCRIPT = `
import json, struct, sys

def build(d, codes, template):
    k = d[0]
    if k == 'none': return None
    if k == 'stop': return StopIteration
    if k == 'ellipsis': return ...
    if k == 'bool': return d[1]
    if k == 'int': return int(d[1])
    if k == 'float': return struct.unpack('>d', bytes.fromhex(d[1]))[0]
    if k == 'complex':
        return complex(struct.unpack('>d', bytes.fromhex(d[1]))[0], struct.unpack('>d', bytes.fromhex(d[2]))[0])
    if k == 'bytes': return bytes.fromhex(d[1])
    if k == 'str': return ''.join(map(chr, d[1]))
    if k == 'slice': return slice(*[build(x, codes, template) for x in d[1:]])
    if k == 'dict': return {build(a, codes, template): build(b, codes, template) for a, b in d[1]}
    if k == 'code':
        c = template.replace(co_name=''.join(map(chr, d[1])), co_filename=''.join(map(chr, d[2])), co_firstlineno=d[3])
        codes.append(c)
        return c
    items = [build(x, codes, template) for x in d[1]]
    return {'tuple': tuple, 'list': list, 'set': set, 'frozenset': frozenset}[k](items)

def main(inp):
    data = json.loads(inp)
    template = [c for c in compile('def f(): pass', 'x.py', 'exec').co_consts if hasattr(c, 'co_code')][0]
    reprs = []
    for d in data['cases']:
        codes = []
        try:
            r = repr(build(d, codes, template))
            for c in codes:
                r = r.replace(hex(id(c)), '0xADDR')
        except Exception as e:
            r = '!' + type(e).__name__ + ': ' + str(e)
        reprs.append(r)
    runs = []
    start = None
    for cp in range(0x110000):
        bad = cp != 0x20 and not chr(cp).isprintable()
        if bad and start is None:
            start = cp
        elif not bad and start is not None:
            runs.append([start, cp])
            start = None
    if start is not None:
        runs.append([start, 0x110000])
    return json.dumps({'version': list(sys.version_info[:3]), 'reprs': reprs, 'nonprintable': runs})
`

interface BatchResult {
  readonly version: readonly [number, number, number]
  readonly reprs: readonly string[]
  /** [start, end) runs of code points that `str.isprintable()` rejects (ASCII space excluded). */
  readonly nonprintable: readonly (readonly [number, number])[]
}

const cases = generateCases()
const batchInput = JSON.stringify({ cases: cases.map((c) => c.desc) })

function runInterpreter(exe: string): Promise<BatchResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(exe, ['-c', `${BATCH_SCRIPT}\nsys.stdout.write(main(sys.stdin.read()))`], { stdio: ['pipe', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => err.push(b))
    child.on('error', reject)
    child.on('close', (status) => {
      if (status !== 0) reject(new Error(`${exe} exited with ${status}: ${Buffer.concat(err).toString()}`))
      else resolve(JSON.parse(Buffer.concat(out).toString()) as BatchResult)
    })
    child.stdin.end(batchInput)
  })
}

async function runPyodide(): Promise<BatchResult | string> {
  let mod: typeof import('pyodide')
  try {
    mod = await import('pyodide')
  } catch (e) {
    return `pyodide not installed (${(e as Error).message})`
  }
  const py = await mod.loadPyodide()
  py.globals.set('BATCH_INPUT', batchInput)
  return JSON.parse(py.runPython(`${BATCH_SCRIPT}\nmain(BATCH_INPUT)`) as string) as BatchResult
}

/** Compares every generated case with the interpreter's reprs, grouped, all mismatches at once. */
function checkBatch(result: BatchResult): void {
  const minor = result.version[1]
  assert.equal(result.reprs.length, cases.length)
  const bad: string[] = []
  let compared = 0
  cases.forEach((c, k) => {
    const want = result.reprs[k]!
    // 3.11+ refuses to repr ints longer than 4300 digits; we never generate those.
    if (want.startsWith('!')) {
      bad.push(`${c.group} #${k}: Python raised ${want}`)
      return
    }
    const got = pyRepr(toPy(c.desc), { minor, codeAddress: () => '0xADDR' })
    compared++
    if (got !== want) bad.push(`${c.group} #${k} ${JSON.stringify(c.desc).slice(0, 200)}\n  got  ${JSON.stringify(got)}\n  want ${JSON.stringify(want)}`)
  })
  assert.ok(compared > 0)
  assert.deepEqual(bad.slice(0, 25), [], `${bad.length} of ${cases.length} cases differ from Python 3.${minor}`)

  // Exhaustively: the same characters are escaped.
  const want = new Uint8Array(0x110000)
  for (const [a, b] of result.nonprintable) want.fill(1, a, b)
  const diff: string[] = []
  for (let cp = 0; cp < 0x110000; cp++) {
    if ((want[cp] === 1) === isPrintable(cp, minor) && diff.push(`U+${cp.toString(16)}`) >= 20) break
  }
  assert.deepEqual(diff, [], `printable code points differ from Python 3.${minor}`)
}

describe('pyrepr: generated cases vs live CPython', () => {
  const counts = new Map<string, number>()
  for (const c of cases) counts.set(c.group, (counts.get(c.group) ?? 0) + 1)
  const summary = [...counts].map(([g, n]) => `${n} ${g}`).join(', ')
  // Start every interpreter now, in parallel; each test awaits its own.
  const runs = new Map<number, Promise<BatchResult>>()
  for (const minor of NATIVE_MINORS) {
    const exe = pythonFor(minor)
    if (exe !== undefined) runs.set(minor, runInterpreter(exe))
  }
  // Failures are reported by the test that awaits the run.
  for (const p of runs.values()) p.catch(() => {})

  for (const minor of NATIVE_MINORS) {
    test(`CPython 3.${minor} (${cases.length} cases: ${summary})`, async (t) => {
      if (requirePython(t, minor) === undefined) return
      checkBatch(await runs.get(minor)!)
    })
  }

  test('Pyodide (CPython 3.14), an extra oracle', async (t) => {
    const result = await runPyodide()
    if (typeof result === 'string') {
      requireResource(t, result)
      return
    }
    assert.equal(result.version[1], 14, `Pyodide runs Python ${result.version.join('.')}, expected 3.14`)
    checkBatch(result)
  })
})
