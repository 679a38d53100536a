// The committed opcode tables (src/bytecode/opcodes/v3_X.ts) must equal what
// scripts/gen-opcodes.py reads from the real interpreters today: a native CPython of every supported
// version (test/pyenv.ts), and Pyodide's 3.14 as an extra oracle.
// A missing interpreter skips its check locally and fails it when CI=true.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { type TestContext, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { opcodeTable, SUPPORTED_MINORS } from '../src/bytecode/opcodes/index.js'
import { FINAL_MAGIC, MAGIC_HISTORY } from '../src/pyc/magic-data.js'
import { MAX_MINOR } from '../src/versions/index.js'
import { requirePython } from './pyenv.js'
import { requireResource } from './resources.js'

const script = fileURLToPath(new URL('../scripts/gen-opcodes.py', import.meta.url))
const PYODIDE_MINOR = 14

/** Skips locally, fails in CI: the interpreter a check needs is missing. */
function missing(t: TestContext, what: string): void {
  requireResource(t, `${what} not found`)
}

/** Deep-equals a freshly generated table with the committed one (`version` may differ in patch level). */
function assertMatches(t: TestContext, minor: number, generated: Record<string, unknown>): void {
  const committed = opcodeTable(minor)
  assert.equal(generated.minor, minor)
  if (generated.version !== committed.version) {
    t.diagnostic(`committed table is from ${committed.version}, checked against ${String(generated.version)}`)
  }
  assert.deepEqual(
    { ...generated, version: committed.version },
    committed,
    `src/bytecode/opcodes/v3_${minor}.ts is stale: run npm run gen:opcodes -- ${minor}`,
  )
}

for (const minor of SUPPORTED_MINORS) {
  test(`the 3.${minor} table equals what CPython 3.${minor} reports`, (t) => {
    const python = requirePython(t, minor)
    if (!python) return
    const r = spawnSync(python, [script], { encoding: 'utf8' })
    assert.equal(r.status, 0, r.stderr)
    assertMatches(t, minor, JSON.parse(r.stdout))
  })
}

test(`the 3.${PYODIDE_MINOR} table equals what Pyodide's CPython reports (an extra oracle)`, async (t) => {
  let loadPyodide: typeof import('pyodide').loadPyodide
  try {
    ;({ loadPyodide } = await import('pyodide'))
  } catch {
    return missing(t, 'npm package pyodide')
  }
  const py = await loadPyodide()
  const lines: string[] = []
  py.setStdout({ batched: (line) => lines.push(line) })
  py.runPython(readFileSync(script, 'utf8'), { globals: py.toPy({ __name__: '__main__' }) })
  assertMatches(t, PYODIDE_MINOR, JSON.parse(lines.join('\n')))
})

test('each table has the magic number of its final release', () => {
  for (const minor of SUPPORTED_MINORS) assert.equal(opcodeTable(minor).magic, FINAL_MAGIC[minor], `3.${minor}`)
})

test('the magic history is ascending, Python 3 only, and contains every final magic', () => {
  const magics = MAGIC_HISTORY.map((e) => e.magic)
  assert.deepEqual(magics, [...magics].sort((a, b) => a - b))
  assert.ok(MAGIC_HISTORY.every((e) => e.magic >= 3000 && e.magic < 4000))
  for (const [minor, magic] of Object.entries(FINAL_MAGIC)) {
    assert.equal(MAGIC_HISTORY.find((e) => e.magic === magic)?.minor, Number(minor), `3.${minor}`)
  }
})

test('specialized instructions use free opcodes and deoptimize to base instructions', () => {
  for (const minor of SUPPORTED_MINORS) {
    const t = opcodeTable(minor)
    for (const [name, op] of Object.entries(t.specializedOpmap)) {
      assert.equal(t.opnames[op], undefined, `3.${minor} ${name} reuses opcode ${op}`)
      assert.ok(t.deopt[name] !== undefined && t.deopt[name] in t.opmap, `3.${minor} ${name}`)
    }
  }
})

test('opcodeTable rejects versions it has no table for, naming the supported ones', () => {
  assert.throws(() => opcodeTable(7), (err: unknown) => err instanceof RangeError && new RegExp(`3\\.8.*3\\.${MAX_MINOR}`).test(err.message))
})
