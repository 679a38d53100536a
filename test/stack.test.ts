// The value-stack model (src/bytecode/stack): stack effects against the interpreters, the
// pops/pushes table against the generated nets, max depth == co_stacksize on every fixture and on
// a sample of each pyenv stdlib, and findings (never exceptions) on broken bytecode.
// A missing interpreter skips its check locally and fails it when CI=true.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { type CodeObject, disassemble, toCodeObject, versionRules } from '../src/bytecode/index.js'
import {
  analyzeDepth,
  buildCfg,
  type DepthFindingKind,
  FormulaError,
  NET_ADJUSTMENTS,
  parseFormula,
  popsPushesRow,
  stackEffect,
  stackEffectTable,
} from '../src/bytecode/stack/index.js'
import { readPyc } from '../src/pyc/index.js'
import { findInterpreters, listStdlib, sampleInputs, walkCodes } from '../scripts/stdlib-diff.js'
import { checkFiles } from '../scripts/stack-all.js'
import { NATIVE_MINORS, prefixOf, requirePython } from './pyenv.js'

const MINORS = [8, 9, 10, 11, 12, 13, 14]
const script = fileURLToPath(new URL('../scripts/gen-stack-effects.py', import.meta.url))
const fixtures = fileURLToPath(new URL('./fixtures/pyc/', import.meta.url))

/** The opargs scripts/gen-stack-effects.py samples (same sequence, so the same space is checked). */
function sampleOpargs(): number[] {
  const values = new Set<number>()
  for (let v = 0; v < 1024; v++) values.add(v)
  for (let k = 10; k < 24; k++) for (const v of [2 ** k - 1, 2 ** k, 2 ** k + 1]) values.add(v)
  let x = 12345
  for (let i = 0; i < 256; i++) {
    x = Number((BigInt(x) * 1103515245n + 12345n) % 2n ** 31n)
    values.add(x % 2 ** 24)
  }
  return [...values].filter((v) => v < 2 ** 24).sort((a, b) => a - b)
}
const OPARGS = sampleOpargs()

/** The real opcodes (< 256) of a version, by name. */
function realOpcodes(minor: number): [string, number][] {
  return Object.entries(versionRules(minor).table.opmap).filter(([, op]) => op < 256)
}

/** Every code object of every fixture .pyc of 3.`minor`. */
function fixtureCodes(minor: number): CodeObject[] {
  const dir = join(fixtures, `3.${minor}`)
  return readdirSync(dir)
    .filter((f) => f.endsWith('.pyc'))
    .sort()
    .flatMap((f) => {
      const pyc = readPyc(new Uint8Array(readFileSync(join(dir, f))))
      return walkCodes(toCodeObject(pyc.code, pyc.version[1]))
    })
}

// --- formulas -------------------------------------------------------------------------------------

test('formulas read as in C and Python', () => {
  const cases: [string, number, number][] = [
    ['1 - oparg', 5, -4],
    ['1 - 2 * oparg', 3, -5],
    ['(oparg & 0xff) + (oparg >> 8)', 0x0305, 8],
    ['-1 - (oparg & 0x1) - ((oparg >> 1) & 0x1)', 3, -3],
    ['2 + (oparg == 3)', 3, 3],
    ['2 + (oparg == 3)', 4, 2],
    ['-oparg', 7, -7],
    ['oparg & 1', 2 ** 32 - 1, 1],
    ['oparg >> 8', 2 ** 32 - 1, 2 ** 24 - 1],
  ]
  for (const [text, oparg, expected] of cases) assert.equal(parseFormula(text)(oparg), expected, `${text} at ${oparg}`)
})

test('formulas that C and Python would read differently are refused', () => {
  for (const text of ['oparg >> 1 & 1', 'oparg & 1 == 0', '1 +', '(oparg', 'oparg ? 1 : 0', 'x']) {
    assert.throws(() => parseFormula(text), FormulaError, text)
  }
})

// --- stack effects against the interpreters ------------------------------------------------------

/** Compares `dis.stack_effect` answers (from gen-stack-effects.py samples) with the table. */
function assertSamplesMatch(minor: number, doc: { minor: number; samples: Record<string, [number | null, number | null, number | null][]> }) {
  assert.equal(doc.minor, minor)
  const table = stackEffectTable(minor)
  const opmap = versionRules(minor).table.opmap
  assert.deepEqual(Object.keys(doc.samples).sort(), realOpcodes(minor).map(([n]) => n).sort(), 'the same opcodes')
  const wrong: string[] = []
  for (const [name, rows] of Object.entries(doc.samples)) {
    const op = opmap[name]!
    for (const [arg, next, jump] of rows) {
      const oparg = arg ?? 0
      const got = [table.netEffect(op, oparg, false) ?? null, table.netEffect(op, oparg, true) ?? null]
      if (got[0] !== next || got[1] !== jump) {
        wrong.push(`${name}(${arg}): dis says ${next}/${jump}, table ${got[0]}/${got[1]}`)
        break
      }
    }
  }
  assert.deepEqual(wrong, [], `src/bytecode/stack/effects/v3_${minor}.ts is stale: node scripts/gen-stack-effects.mjs ${minor}`)
}

for (const minor of NATIVE_MINORS) {
  test(`the 3.${minor} net effects equal dis.stack_effect of CPython 3.${minor}`, (t) => {
    const python = requirePython(t, minor)
    if (python === undefined) return
    const r = spawnSync(python, [script, 'samples'], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 })
    assert.equal(r.status, 0, r.stderr)
    assertSamplesMatch(minor, JSON.parse(r.stdout))
  })
}

test("the 3.14 net effects equal dis.stack_effect of Pyodide's CPython 3.14", async (t: TestContext) => {
  let loadPyodide: typeof import('pyodide').loadPyodide
  try {
    ;({ loadPyodide } = await import('pyodide'))
  } catch {
    if (process.env.CI === 'true') assert.fail('npm package pyodide not found (required when CI=true)')
    t.skip('npm package pyodide not found')
    return
  }
  const py = await loadPyodide()
  const lines: string[] = []
  py.setStdout({ batched: (line) => lines.push(line) })
  py.runPython('import sys; sys.argv = ["gen-stack-effects.py", "samples"]')
  py.runPython(readFileSync(script, 'utf8'), { globals: py.toPy({ __name__: '__main__' }) })
  assertSamplesMatch(14, JSON.parse(lines.join('\n')))
})

// --- pops and pushes ----------------------------------------------------------------------------

for (const minor of MINORS) {
  test(`3.${minor}: pushes - pops equals the net effect for every opcode, oparg and direction`, () => {
    const table = stackEffectTable(minor)
    const rules = versionRules(minor)
    const problems: string[] = []
    for (const [name, op] of realOpcodes(minor)) {
      const row = popsPushesRow(name, minor)
      const net = table.generated.effects[name]
      if (row === undefined) {
        problems.push(`${name}: no pops/pushes row`)
        continue
      }
      if ((row === null) !== (net === null)) {
        problems.push(`${name}: pops/pushes ${row === null ? 'null' : 'given'}, net effect ${net === null ? 'null' : 'given'}`)
        continue
      }
      if (row === null) continue
      const adjust = NET_ADJUSTMENTS[minor]?.[name] ?? 0
      for (const oparg of rules.hasArg(op) ? OPARGS : [0]) {
        for (const jump of [false, true]) {
          const e = table.stackEffect(op, oparg, jump)!
          const n = table.netEffect(op, oparg, jump)!
          if (e.pops < 0 || e.pushes < 0 || !Number.isInteger(e.pops) || !Number.isInteger(e.pushes)) {
            problems.push(`${name}(${oparg}, jump=${jump}): pops ${e.pops}, pushes ${e.pushes}`)
            break
          }
          if (e.pushes - e.pops !== n + adjust) {
            problems.push(`${name}(${oparg}, jump=${jump}): pushes ${e.pushes} - pops ${e.pops} != stack_effect ${n}${adjust ? ` + ${adjust}` : ''}`)
            break
          }
        }
      }
    }
    assert.deepEqual(problems, [])
  })
}

/** Versions whose installed headers carry `_PyOpcode_num_popped` / `_num_pushed` (3.13+). */
const METADATA_MINORS = NATIVE_MINORS.filter((m) => m >= 13)

for (const minor of METADATA_MINORS) {
  test(`3.${minor}'s pops and pushes equal CPython 3.${minor}'s generated metadata (pycore_opcode_metadata.h)`, (t) => {
    if (requirePython(t, minor) === undefined) return
    const prefix = prefixOf(minor)
    const include = prefix && join(prefix, 'include', `python3.${minor}`)
    const header = include && join(include, 'internal', 'pycore_opcode_metadata.h')
    const cc = spawnSync('cc', ['--version'])
    // The installed interpreter's development headers and a C compiler are needed.
    if (!header || !existsSync(header) || cc.status !== 0) {
      const reason = `needs CPython 3.${minor}'s internal headers (${header}) and a C compiler (cc)`
      if (process.env.CI === 'true') assert.fail(`${reason} (required under CI=true)`)
      t.skip(reason)
      return
    }
    const text = readFileSync(header, 'utf8')
    const fn = (name: string) => {
      const start = text.indexOf(`int ${name}(int opcode, int oparg)  {`)
      assert.ok(start >= 0, `${name} not found in ${header}`)
      return text.slice(start, text.indexOf('\n}\n', start) + 3)
    }
    const defines = readFileSync(join(include, 'opcode_ids.h'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('#define '))
      .join('\n')
    const args = [0, 1, 2, 3, 4, 5, 7, 8, 15, 16, 255, 256, 1000]
    const program = `#include <stdio.h>
${defines}
${fn('_PyOpcode_num_popped')}
${fn('_PyOpcode_num_pushed')}
int main(void) {
  int args[] = {${args.join(', ')}};
  for (int op = 0; op < 256; op++)
    for (unsigned i = 0; i < sizeof args / sizeof *args; i++)
      printf("%d %d %d %d\\n", op, args[i], _PyOpcode_num_popped(op, args[i]), _PyOpcode_num_pushed(op, args[i]));
  return 0;
}
`
    const dir = mkdtempSync(join(tmpdir(), 'pyxray-meta-'))
    try {
      writeFileSync(join(dir, 'meta.c'), program)
      const built = spawnSync('cc', ['-w', '-o', join(dir, 'meta'), join(dir, 'meta.c')], { encoding: 'utf8' })
      assert.equal(built.status, 0, built.stderr)
      const out = spawnSync(join(dir, 'meta'), { encoding: 'utf8', maxBuffer: 2 ** 24 })
      const names = versionRules(minor).table.opnames
      const wrong: string[] = []
      for (const line of out.stdout.trim().split('\n')) {
        const [op, arg, popped, pushed] = line.split(' ').map(Number) as [number, number, number, number]
        const name = names[op]
        if (name === undefined || popped < 0) continue
        const e = stackEffect(minor, op, arg, false)
        if (e?.pops !== popped || e.pushes !== pushed) wrong.push(`${name}(${arg}): metadata ${popped}/${pushed}, table ${e?.pops}/${e?.pushes}`)
      }
      assert.deepEqual(wrong, [])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
}

test('stackEffect answers by opcode number, for specialized opcodes as their base', () => {
  const op = (minor: number, name: string) => versionRules(minor).table.opmap[name]!
  assert.deepEqual(stackEffect(8, op(8, 'BUILD_MAP'), 3, false), { pops: 6, pushes: 1 })
  assert.deepEqual(stackEffect(12, op(12, 'UNPACK_EX'), 0x0102, false), { pops: 1, pushes: 4 })
  assert.deepEqual(stackEffect(8, op(8, 'FOR_ITER'), 10, true), { pops: 1, pushes: 0 })
  assert.deepEqual(stackEffect(8, op(8, 'FOR_ITER'), 10, false), { pops: 1, pushes: 2 })
  // jump undefined: the direction that leaves the deeper stack, as dis.stack_effect(jump=None)
  assert.deepEqual(stackEffect(9, op(9, 'SETUP_FINALLY'), 10), { pops: 0, pushes: 6 })
  const specialized = versionRules(12).table.specializedOpmap.LOAD_ATTR_INSTANCE_VALUE!
  assert.deepEqual(stackEffect(12, specialized, 1, false), stackEffect(12, op(12, 'LOAD_ATTR'), 1, false))
  assert.equal(stackEffect(10, 0, 0, false), undefined, 'opcode 0 is undefined in 3.10')
})

// --- max depth == co_stacksize ------------------------------------------------------------------

for (const minor of MINORS) {
  test(`3.${minor} fixtures: max depth equals co_stacksize, with no findings but unreachable code`, () => {
    const codes = fixtureCodes(minor)
    assert.ok(codes.length > 50)
    const wrong: string[] = []
    for (const code of codes) {
      const a = analyzeDepth(code)
      if (a.maxDepth !== code.stacksize) wrong.push(`${code.qualname}:${code.firstlineno}: computed ${a.maxDepth}, co_stacksize ${code.stacksize}`)
      for (const f of a.findings) if (f.kind !== 'unreachable') wrong.push(`${code.qualname}: ${f.kind} @${f.offset}: ${f.message}`)
      // From a disassembly the graph and the depths are the same.
      assert.deepEqual(analyzeDepth(disassemble(code, { positions: false })).after, a.after)
    }
    assert.deepEqual(wrong, [])
  })
}

const interpreters = findInterpreters()
for (const minor of NATIVE_MINORS) {
  test(`3.${minor} stdlib sample (150 .pyc files): max depth equals co_stacksize`, async (t) => {
    if (requirePython(t, minor) === undefined) return
    const interp = interpreters.find((i) => i.minor === minor)
    assert.ok(interp, `CPython 3.${minor} found by scripts/stdlib-diff.ts`)
    const inputs = sampleInputs(await listStdlib(interp, true), 150)
    const r = checkFiles(interp.version, inputs)
    assert.ok(r.codes > 1000, `only ${r.codes} code objects`)
    assert.equal(r.unreadable, 0)
    assert.deepEqual(r.mismatches, [])
    const unexpected = Object.keys(r.findings).filter((k) => k !== 'unreachable')
    assert.deepEqual(unexpected, [], JSON.stringify(r.examples))
  })
}

// --- the graph ----------------------------------------------------------------------------------

test('the graph partitions the instructions; handler edges carry the table depth + lasti + 1', () => {
  for (const minor of MINORS) {
    for (const code of fixtureCodes(minor)) {
      const d = disassemble(code, { positions: false })
      const cfg = buildCfg(d)
      let next = 0
      for (const block of cfg.blocks) {
        assert.equal(block.first, next, 'blocks are contiguous, in code order')
        assert.ok(block.end > block.first)
        next = block.end
        for (const edge of block.successors) {
          assert.equal(edge.from, block.index)
          assert.ok(cfg.blocks[edge.to]!.predecessors.includes(edge))
          if (edge.kind === 'next') assert.equal(edge.to, block.index + 1)
          if (edge.exceptionEntry) {
            assert.ok(minor >= 11)
            assert.equal(edge.handlerDepth, edge.exceptionEntry.depth + (edge.exceptionEntry.lasti ? 1 : 0) + 1)
            assert.equal(cfg.blocks[edge.to]!.startOffset, edge.exceptionEntry.target)
          }
          if (edge.kind === 'handler' && minor <= 10) assert.match(d.instructions[edge.instruction]!.opname, /^SETUP_/)
        }
      }
      assert.equal(next, d.instructions.length)
    }
  }
})

// --- broken bytecode: findings, never exceptions ------------------------------------------------

/** A code object of 3.`minor` with the given co_code (and exception table), from a fixture. */
function withBytes(minor: number, ops: [string, number][], exceptiontable = new Uint8Array(0)): CodeObject {
  const base = fixtureCodes(minor)[0]!
  const opmap = versionRules(minor).table.opmap
  const bytes: number[] = []
  for (const [name, arg] of ops) {
    if (name === 'CACHE') bytes.push(0, 0)
    else bytes.push(opmap[name]!, arg)
  }
  return { ...base, code: new Uint8Array(bytes), exceptiontable, flags: 0 }
}

const kinds = (code: CodeObject): DepthFindingKind[] => analyzeDepth(code).findings.map((f) => f.kind)

test('underflow is a finding', () => {
  const a = analyzeDepth(withBytes(10, [['POP_TOP', 0], ['LOAD_CONST', 0], ['RETURN_VALUE', 0]]))
  assert.deepEqual(a.findings.map((f) => [f.kind, f.offset]), [['underflow', 0]])
  assert.deepEqual(a.before, [0, 0, 1])
  assert.equal(a.maxDepth, 1)
})

test('paths meeting with different depths are a finding; the deeper one is kept', () => {
  // 0 LOAD_CONST; 2 POP_JUMP_IF_FALSE to 6; 4 LOAD_CONST; 6 RETURN_VALUE (depth 0 or 1)
  const a = analyzeDepth(withBytes(10, [['LOAD_CONST', 0], ['POP_JUMP_IF_FALSE', 3], ['LOAD_CONST', 0], ['RETURN_VALUE', 0]]))
  assert.deepEqual(a.findings.map((f) => [f.kind, f.offset]), [['merge-mismatch', 6]])
  assert.equal(a.before[3], 1)
  assert.equal(a.maxDepth, 1)
})

test('a loop that grows the stack terminates with a finding', () => {
  // 0 LOAD_CONST; 2 JUMP_ABSOLUTE to 0
  const a = analyzeDepth(withBytes(10, [['LOAD_CONST', 0], ['JUMP_ABSOLUTE', 0]]))
  assert.deepEqual(kinds(withBytes(10, [['LOAD_CONST', 0], ['JUMP_ABSOLUTE', 0]])), ['merge-mismatch'])
  assert.ok(a.maxDepth < 20)
})

test('bad targets, unknown opcodes, running off the end and unreachable code are findings', () => {
  assert.deepEqual(kinds(withBytes(10, [['JUMP_ABSOLUTE', 100]])), ['bad-target'])
  assert.deepEqual(kinds(withBytes(10, [['LOAD_CONST', 0]])), ['falls-off-end'])
  const unknown = withBytes(10, [['NOP', 0]])
  assert.deepEqual(kinds({ ...unknown, code: new Uint8Array([0, 0, 100, 0, 83, 0]) }), ['unknown-opcode'])
  assert.deepEqual(kinds(withBytes(10, [['LOAD_CONST', 0], ['RETURN_VALUE', 0], ['LOAD_CONST', 0], ['RETURN_VALUE', 0]])), ['unreachable'])
})

test('3.11+: a bad exception table and a handler keeping more than the stack holds are findings', () => {
  const ops: [string, number][] = [['RESUME', 0], ['LOAD_CONST', 0], ['RETURN_VALUE', 0], ['PUSH_EXC_INFO', 0], ['POP_EXCEPT', 0], ['RERAISE', 0]]
  assert.deepEqual(kinds(withBytes(11, ops, new Uint8Array([0x80 | 1]))), ['exception-table', 'unreachable'])
  // start 1, length 2 (code units), target 3, depth 4 → handler-depth at offset 2
  const table = new Uint8Array([0x80 | 1, 2, 3, 4 << 1])
  const a = analyzeDepth(withBytes(11, ops, table))
  assert.deepEqual(a.findings.map((f) => [f.kind, f.offset]), [['handler-depth', 2], ['handler-depth', 4]])
  assert.equal(a.before[3], 5, 'the handler starts with the 4 kept slots and the exception')
})

test('random bytes never make the analysis throw', () => {
  let seed = 1
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    return seed / 2 ** 31
  }
  for (const minor of MINORS) {
    const base = fixtureCodes(minor)[0]!
    for (let i = 0; i < 200; i++) {
      const code = new Uint8Array(2 * (1 + Math.floor(random() * 40)))
      for (let k = 0; k < code.length; k++) code[k] = Math.floor(random() * 256)
      const table = new Uint8Array(Math.floor(random() * 12))
      for (let k = 0; k < table.length; k++) table[k] = Math.floor(random() * 256)
      const a = analyzeDepth({ ...base, code, exceptiontable: table })
      assert.ok(a.maxDepth >= 0)
    }
  }
})
