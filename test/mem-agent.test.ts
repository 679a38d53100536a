/**
 * The memory API of the Python agent (python/pyxray/memory) on every native CPython of src/versions:
 * planted leaks found at their line with the planted size per iteration (±10 %), a leak-free loop
 * of 50 iterations not called a leak, deep sizes equal to hand-computed sums of sys.getsizeof,
 * the retention path of a known chain naming the global that holds it, line-level memory on the
 * line that allocates, and type growth seeing a planted growth. test/fixtures/memory/check_api.py
 * runs the API and prints what it found; the expectations are here.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { NATIVE_MINORS, requirePython } from './pyenv.js'

const ROOT = join(import.meta.dirname, '..')
const FIXTURES = join(ROOT, 'test', 'fixtures', 'memory')

interface Site {
  line?: number
  file?: string
  bytesPerIteration: number
}
interface Leaks {
  leak: boolean
  verdict: string
  iterations: number
  bytesPerIteration: number
  sites: Site[]
}
interface ApiResult {
  python: string
  planted: Record<string, number>
  leaks: Record<string, Leaks>
  sizes: Record<string, [number, number]>
  path: { text: string; root: { kind: string; module: string; name: string }; steps: { edge: string; type: string }[]; dot: string }
  lines: { report: { lines: { line: number; hits: number; netBytes: number; peakBytes: number }[] }; bigLine: number; blobLine: number; bigSize: number; blobSize: number }
  growth: { planted: number }
}

/** The 1-based line of `# LEAK name` in planted.py. */
function markerLine(name: string): number {
  const lines = readFileSync(join(FIXTURES, 'planted.py'), 'utf8').split('\n')
  const i = lines.findIndex((l) => l.includes(`# LEAK ${name}`))
  assert.ok(i >= 0, `no marker for ${name}`)
  return i + 1
}

function runApi(python: string): ApiResult {
  const r = spawnSync(python, [join(FIXTURES, 'check_api.py')], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: join(ROOT, 'python') }, maxBuffer: 1 << 26 })
  assert.equal(r.status, 0, r.stderr)
  return JSON.parse(r.stdout) as ApiResult
}

for (const minor of NATIVE_MINORS) {
  test(`3.${minor}: memory API on planted cases`, async (t) => {
    const python = requirePython(t, minor)
    if (!python) return
    const r = runApi(python)
    assert.equal(r.python, `3.${minor}`)

    await t.test('planted leaks: found at their line, growth within 10 % of the planted size', () => {
      for (const name of ['cache', 'closure', 'cycle', 'listener']) {
        const l = r.leaks[name]!
        const planted = r.planted[name]!
        assert.ok(l.leak, `${name}: ${l.verdict}`)
        assert.equal(l.sites[0]!.line, markerLine(name), `${name}: top site ${JSON.stringify(l.sites[0])}`)
        assert.match(l.sites[0]!.file!, /planted\.py$/)
        assert.match(l.verdict, new RegExp(`^leaks ~.*/iteration at planted\\.py:${markerLine(name)}$`))
        const error = Math.abs(l.bytesPerIteration - planted) / planted
        assert.ok(error <= 0.1, `${name}: ${l.bytesPerIteration} B/iteration vs planted ${planted} B (${(100 * error).toFixed(1)} %)`)
      }
    })

    await t.test('a leak-free loop of 50 iterations is no leak', () => {
      const l = r.leaks.clean!
      assert.equal(l.iterations, 50)
      assert.equal(l.leak, false, l.verdict)
      assert.match(l.verdict, /^no leak/)
    })

    await t.test('decorator and with-statement forms', () => {
      assert.ok(r.leaks.decorated!.leak)
      assert.equal(r.leaks.decorated!.sites[0]!.line, markerLine('cache'))
      assert.ok(r.leaks.with!.leak)
      assert.equal(r.leaks.with!.sites[0]!.line, markerLine('listener'))
    })

    await t.test('deep sizes equal hand-computed sums of getsizeof', () => {
      for (const [name, [deep, hand]] of Object.entries(r.sizes)) assert.equal(deep, hand, name)
    })

    await t.test('the retention path names the global that holds the object', () => {
      assert.deepEqual(r.path.root, { kind: 'module global', module: 'planted', name: 'registry' })
      assert.deepEqual(
        r.path.steps.map((s) => s.edge),
        ['registry', '.by_user', "['ada']", '[0]'],
      )
      assert.match(r.path.steps.at(-1)!.type, /\.Session$/)
      assert.match(r.path.text, /^module planted global registry/)
      assert.match(r.path.dot, /^digraph why_alive \{[\s\S]*label="module planted global registry"[\s\S]*\}\n$/)
    })

    await t.test('line-level memory: the allocation is on its line', () => {
      const rows = r.lines.report.lines
      const big = rows.find((l) => l.line === r.lines.bigLine)!
      const blob = rows.find((l) => l.line === r.lines.blobLine)!
      const del = rows.find((l) => l.line === r.lines.blobLine + 1)!
      assert.equal(big.hits, 1)
      assert.ok(Math.abs(big.netBytes - r.lines.bigSize) <= 0.02 * r.lines.bigSize, `big: ${big.netBytes} vs ${r.lines.bigSize}`)
      assert.ok(Math.abs(blob.netBytes - r.lines.blobSize) <= 0.02 * r.lines.blobSize, `blob: ${blob.netBytes} vs ${r.lines.blobSize}`)
      assert.ok(blob.peakBytes >= 0.98 * r.lines.blobSize, `blob peak ${blob.peakBytes}`)
      assert.ok(Math.abs(del.netBytes + r.lines.blobSize) <= 0.02 * r.lines.blobSize, `del: ${del.netBytes}`)
      // No other line is charged with more than a few hundred bytes.
      for (const l of rows) if (![big, blob, del].includes(l)) assert.ok(Math.abs(l.netBytes) < 512, `line ${l.line}: ${l.netBytes}`)
    })

    await t.test('type growth sees the planted growth', () => {
      assert.equal(r.growth.planted, 137)
    })
  })
}
