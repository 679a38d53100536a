/**
 * The decompiler's verifier (src/decompile/verify.ts) against real interpreters of every supported
 * version: source compiled by CPython is compared with source CPython compiled again (the "source
 * oracle": a decompiler that returns the original text), with lines moved, and with one token
 * changed — equivalent, equivalent, and differs at exactly the instruction the edit touched.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type CodeObject, disassemble, type Instruction } from '../src/bytecode/index.js'
import type { PyObject } from '../src/marshal/index.js'
import { sameConst, verifyModule } from '../src/decompile/verify.js'
import { Recompilers } from '../src/runtime/recompile.js'
import { walkCodes } from '../scripts/stdlib-diff.js'
import { SAMPLE } from './decompile-sample.js'
import { NATIVE_MINORS, pythonFor, requirePython } from './pyenv.js'

/** SAMPLE with blank lines inserted before it and inside two functions: only line data moves. */
const MOVED = `\n\n${SAMPLE.replace('    total = 0\n', '    total = 0\n\n\n').replace('    try:\n', '\n    try:\n').replace('async def fetch', '\n\nasync def fetch')}`

/** SAMPLE with one token changed: the 7 of `item * 7` becomes 8. */
const EDITED = SAMPLE.replace('item * 7', 'item * 8')

function codeOf(r: Awaited<ReturnType<Recompilers['compile']>>): CodeObject {
  if ('error' in r) assert.fail(`does not compile: ${r.error}`)
  return r.code
}

/** The instruction that loads the small int `value` in `code`'s tree, and the code object holding it. */
function loadOf(top: CodeObject, value: number): { code: CodeObject; instruction: Instruction } {
  for (const code of walkCodes(top)) {
    for (const instruction of disassemble(code, { positions: false }).instructions) {
      const v = instruction.argval
      if ((v?.kind === 'const' && v.value.type === 'int' && v.value.value === BigInt(value)) || (v?.kind === 'int' && instruction.opname === 'LOAD_SMALL_INT' && v.value === value)) return { code, instruction }
    }
  }
  assert.fail(`no instruction loads ${value}`)
}

for (const minor of NATIVE_MINORS) {
  test(`verify 3.${minor}: equivalent for the same source and for moved lines, differs at the edited instruction`, async (t) => {
    const python = requirePython(t, minor)
    if (python === undefined) return
    const recompilers = new Recompilers({ python, runtime: 'native' })
    try {
      const original = codeOf(await recompilers.compile(minor, SAMPLE, { optimize: 0 }))
      const codes = walkCodes(original)
      assert.ok(codes.length >= 8, `${codes.length} code objects`)

      // The source oracle: the original text, compiled again.
      const same = verifyModule(original, codeOf(await recompilers.compile(minor, SAMPLE, { optimize: 0 })))
      assert.equal(same.verdicts.length, codes.length)
      assert.deepEqual(same.verdicts.filter((v) => v.status !== 'equivalent'), [])
      assert.equal(same.equivalent, codes.length)
      assert.deepEqual(
        same.verdicts.map((v) => v.qualname),
        codes.map((c) => c.qualname),
        'one verdict per code object, parents first, in co_consts order',
      )

      // Blank lines: every line number and co_firstlineno moves; nothing else does.
      const moved = codeOf(await recompilers.compile(minor, MOVED, { optimize: 0 }))
      assert.notDeepEqual(
        walkCodes(moved).map((c) => c.firstlineno),
        codes.map((c) => c.firstlineno),
      )
      assert.deepEqual(verifyModule(original, moved).verdicts.filter((v) => v.status !== 'equivalent'), [])

      // One token: exactly one code object differs, at the load of the 7 (the comprehension's code
      // object up to 3.11, outer itself from 3.12, where comprehensions are inlined).
      const edited = verifyModule(original, codeOf(await recompilers.compile(minor, EDITED, { optimize: 0 })))
      const differing = edited.verdicts.filter((v) => v.status !== 'equivalent')
      assert.equal(differing.length, 1, JSON.stringify(differing))
      const { code, instruction } = loadOf(original, 7)
      const d = differing[0]!
      assert.equal(d.status, 'differs')
      assert.equal(d.qualname, code.qualname)
      assert.equal(d.qualname.endsWith('<listcomp>'), minor <= 11)
      assert.equal(d.difference?.field, 'argument')
      assert.equal(d.difference?.offset, instruction.offset)
      assert.match(d.difference!.expected, /\b7$/)
      assert.match(d.difference!.got, /\b8$/)
    } finally {
      await recompilers.close()
    }
  })

  test(`verify 3.${minor}: an operator, a name and a table order changed; not-recovered units; output that does not compile`, async (t) => {
    const python = requirePython(t, minor)
    if (python === undefined) return
    const recompilers = new Recompilers({ python, runtime: 'native' })
    try {
      const compile = async (src: string) => codeOf(await recompilers.compile(minor, src, { optimize: 0 }))
      const original = await compile(SAMPLE)

      // `a - b` → `a + b` in Local.method: the opname up to 3.10, BINARY_OP's argument from 3.11.
      const op = verifyModule(original, await compile(SAMPLE.replace('a - b', 'a + b'))).verdicts.filter((v) => v.status !== 'equivalent')
      assert.equal(op.length, 1)
      assert.ok(op[0]!.qualname.endsWith('Local.method') || op[0]!.qualname === 'method', op[0]!.qualname)
      assert.equal(op[0]!.difference?.field, minor <= 10 ? 'instruction' : 'argument')
      assert.match(op[0]!.difference!.expected, minor <= 10 ? /^BINARY_SUBTRACT/ : /^BINARY_OP .*-/)

      // A global renamed: the name, resolved, differs (co_names then differs too, but the instruction comes first).
      const name = verifyModule(original, await compile(SAMPLE.replace('print(error)', 'repr(error)'))).verdicts.filter((v) => v.status !== 'equivalent')
      assert.equal(name.length, 1)
      assert.equal(name[0]!.qualname, 'outer')
      assert.equal(name[0]!.difference?.field, 'argument')
      assert.match(name[0]!.difference!.expected, /print/)
      assert.match(name[0]!.difference!.got, /repr/)

      // Two module-level assignments swapped: same instructions in another order.
      const swapped = SAMPLE.replace("import os\n\nGREETING = 'hello'\n", "GREETING = 'hello'\n\nimport os\n")
      const order = verifyModule(original, await compile(swapped)).verdicts.filter((v) => v.status !== 'equivalent')
      assert.deepEqual(
        order.map((v) => v.qualname),
        ['<module>'],
      )

      // The decompiler's word: outer not recovered takes its whole subtree with it.
      const units = [{ qualname: 'outer', firstLine: 5, status: 'not-recovered' as const, reason: 'try/finally' }]
      const marked = verifyModule(original, await compile(SAMPLE), { units })
      const outerPath = marked.verdicts.find((x) => x.qualname === 'outer')!.path
      for (const v of marked.verdicts) {
        if (v.qualname === 'outer') assert.deepEqual([v.status, v.reason], ['not-recovered', 'try/finally'])
        else if (v.path.startsWith(`${outerPath}/`)) assert.deepEqual([v.status, v.reason], ['not-recovered', 'inside outer, which was not recovered'], v.qualname)
        else assert.equal(v.status, 'equivalent', v.qualname)
        // From 3.11 the qualnames say where they are: everything in outer is outer.<locals>.…
        if (minor >= 11) assert.equal(v.status !== 'equivalent', v.qualname === 'outer' || v.qualname.startsWith('outer.'), v.qualname)
      }
      assert.equal(marked.notRecovered + marked.equivalent, marked.verdicts.length)
      assert.ok(marked.notRecovered >= 7)

      // Output that does not compile: every code object differs, with the compiler's message.
      const broken = await recompilers.compile(minor, `${SAMPLE}\ndef (:\n`, { optimize: 0 })
      assert.ok('error' in broken)
      assert.match(broken.error, /^SyntaxError: .*\(line \d+/)
      const failed = verifyModule(original, undefined, { compileError: broken.error, units })
      assert.equal(failed.compileError, broken.error)
      for (const v of failed.verdicts) assert.equal(v.status === 'differs' ? v.difference?.field : v.status, v.status === 'differs' ? 'compile' : 'not-recovered')
      assert.equal(failed.differs + failed.notRecovered, failed.verdicts.length)
      assert.equal(failed.notRecovered, marked.notRecovered)
    } finally {
      await recompilers.close()
    }
  })
}

/**
 * The same code laid out on other lines, as a decompiler may write it: one-line bodies, joined
 * and split statements and expressions. From 3.13 the first pair compiles to a superinstruction
 * (STORE_FAST_LOAD_FAST, made only from two instructions on one line) on one side only, and from
 * 3.14 the second has LOAD_FAST_BORROW on one side where the other has LOAD_FAST.
 */
const LAYOUTS: readonly (readonly [string, string])[] = [
  ['def f(x):\n    while x:\n        x -= 1\n    else:\n        return 2\n', 'def f(x):\n    while x: x -= 1\n    else: return 2\n'],
  ['def f(x):\n    for a in x:\n        y = a\n        g(a)\n', 'def f(x):\n    for a in x:\n        y = a; g(a)\n'],
  ['def f(a):\n    if a: b()\n    return a\n', 'def f(a):\n    if a:\n        b()\n    return a\n'],
  ['f(a,\n  b,\n  c)\nx = {\n    1: 2,\n    3: 4,\n}\n', 'f(a, b, c)\nx = {1: 2, 3: 4}\n'],
  ['def f(x):\n    try:\n        g()\n    except (A,\n            B):\n        pass\n    finally:\n        h()\n', 'def f(x):\n    try: g()\n    except (A, B): pass\n    finally: h()\n'],
  ['def f(x):\n    with a as b, c as d:\n        return (1 if x\n                else 2)\n', 'def f(x):\n    with a as b, c as d: return 1 if x else 2\n'],
  ['def f(a, b):\n    if (a and\n            b):\n        g()\n    return {k: v\n            for k, v in a}\n', 'def f(a, b):\n    if a and b:\n        g()\n    return {k: v for k, v in a}\n'],
  // A class body's first line (3.13+, __firstlineno__) is also a constant of its body, on one side only.
  ['\n\n\n\n\n\n\nclass C:\n    x = 8\n    y = 300\n', 'class C:\n    x = 8\n    y = 300\n'],
  [`${'\n'.repeat(299)}class C:\n    x = 8\n    y = 300\n`, 'class C:\n    x = 8\n    y = 300\n'],
  ['@d\nclass C:\n    x = 1\n    def m(\n        self,\n        y=2,\n    ):\n        return y\n', '@d\n\nclass C:\n\n    x = 1\n    def m(self, y=2): return y\n'],
]

for (const minor of NATIVE_MINORS) {
  test(`verify 3.${minor}: the same code on other lines is equivalent (superinstructions and borrowed loads included)`, async (t) => {
    const python = requirePython(t, minor)
    if (python === undefined) return
    const recompilers = new Recompilers({ python, runtime: 'native' })
    try {
      for (const [a, b] of LAYOUTS) {
        const x = codeOf(await recompilers.compile(minor, a, { optimize: 0 }))
        const y = codeOf(await recompilers.compile(minor, b, { optimize: 0 }))
        assert.deepEqual(verifyModule(x, y).verdicts.filter((v) => v.status !== 'equivalent'), [], a)
      }
      // A control: "if x: pass, else: g()" is not "if not x: g()" in bytecode.
      const ifPass = codeOf(await recompilers.compile(minor, 'def f(x):\n    if x:\n        pass\n    else:\n        g()\n', { optimize: 0 }))
      const ifNot = codeOf(await recompilers.compile(minor, 'def f(x):\n    if not x:\n        g()\n', { optimize: 0 }))
      assert.equal(verifyModule(ifPass, ifNot).verdicts.find((v) => v.qualname === 'f')?.difference?.field, 'instruction')
    } finally {
      await recompilers.close()
    }
  })
}

test('verify: optimize levels are kept apart (a docstring and an assert)', async (t) => {
  const minor = NATIVE_MINORS.find((m) => pythonFor(m) !== undefined)
  if (minor === undefined) {
    requirePython(t, NATIVE_MINORS[0]!)
    return
  }
  const recompilers = new Recompilers({ python: pythonFor(minor)!, runtime: 'native' })
  try {
    const src = '"""doc"""\ndef f(x):\n    """f doc"""\n    assert x, "no x"\n    return x\n'
    const at = async (optimize: 0 | 1 | 2) => codeOf(await recompilers.compile(minor, src, { optimize }))
    const [o0, o1, o2] = [await at(0), await at(1), await at(2)]
    assert.equal(verifyModule(o0, await at(0)).differs, 0)
    assert.equal(verifyModule(o2, await at(2)).differs, 0)
    assert.ok(verifyModule(o0, o1).differs > 0, 'the assert is gone at -O')
    assert.ok(verifyModule(o1, o2).differs > 0, 'the docstrings are gone at -OO')
  } finally {
    await recompilers.close()
  }
})

test('sameConst: types kept apart, sets and frozensets without order, -0.0 and NaN', () => {
  const obj = { code: 0, ref: false } as const
  const str = (value: string): PyObject => ({ ...obj, type: 'str', value })
  const int = (value: number): PyObject => ({ ...obj, type: 'int', value: BigInt(value) })
  const float = (value: number): PyObject => ({ ...obj, type: 'float', value })
  const frozen = (...items: PyObject[]): PyObject => ({ ...obj, type: 'frozenset', items })
  const tuple = (...items: PyObject[]): PyObject => ({ ...obj, type: 'tuple', items })
  assert.ok(sameConst(frozen(str('a'), str('b'), int(1)), frozen(int(1), str('b'), str('a'))))
  assert.ok(!sameConst(frozen(str('a'), str('b')), frozen(str('a'), str('c'))))
  assert.ok(!sameConst(frozen(str('a'), str('a')), frozen(str('a'), str('b'))))
  assert.ok(!sameConst(tuple(str('a'), str('b')), tuple(str('b'), str('a'))), 'tuples keep their order')
  assert.ok(!sameConst(int(1), float(1)))
  assert.ok(!sameConst(int(1), { ...obj, type: 'bool', value: true }))
  assert.ok(!sameConst(float(0), float(-0)))
  assert.ok(sameConst(float(NaN), float(NaN)))
  assert.ok(sameConst(tuple(frozen(str('x'), str('y'))), tuple(frozen(str('y'), str('x')))))
})

test('verify 3.14 through Pyodide, the stand-in when there is no native 3.14: moved lines equivalent, an edit differs; the same verdict as native 3.14 on native bytecode', async (t) => {
  const pyodide = new Recompilers({ runtime: 'pyodide' })
  try {
    const { info } = await pyodide.runtimeFor(14)
    assert.equal(info.kind, 'pyodide')
    const original = codeOf(await pyodide.compile(14, SAMPLE, { optimize: 0 }))
    assert.equal(verifyModule(original, codeOf(await pyodide.compile(14, MOVED, { optimize: 0 }))).differs, 0)
    const edited = verifyModule(original, codeOf(await pyodide.compile(14, EDITED, { optimize: 0 })))
    assert.deepEqual(
      edited.verdicts.filter((v) => v.status !== 'equivalent').map((v) => [v.qualname, v.difference?.field]),
      [['outer', 'argument']],
    )
    await assert.rejects(pyodide.compile(12, SAMPLE, { optimize: 0 }), /the Pyodide runtime is CPython 3\.14, so it recompiles 3\.14 bytecode only/)
    // Bytecode of a native 3.14, recompiled by Pyodide's 3.14 (what --verify does without a native 3.14).
    const python = pythonFor(14)
    if (python === undefined) {
      t.diagnostic('no native CPython 3.14: the cross-check of native bytecode recompiled by Pyodide is left out')
      return
    }
    const native = new Recompilers({ python, runtime: 'native' })
    try {
      const made = codeOf(await native.compile(14, SAMPLE, { optimize: 0 }))
      assert.deepEqual(verifyModule(made, codeOf(await pyodide.compile(14, MOVED, { optimize: 0 }))).verdicts.filter((v) => v.status !== 'equivalent'), [])
    } finally {
      await native.close()
    }
  } finally {
    await pyodide.close()
  }
})
