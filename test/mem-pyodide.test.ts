/**
 * `pyxray mem … --runtime pyodide`: the memory tools in the embedded CPython 3.14 (Pyodide, an npm
 * dependency, so these always run), checked as on native CPython (test/mem-cli.test.ts): planted
 * leaks found at their line with the planted size per iteration (±10 %), a leak-free loop of 50
 * iterations not called a leak, deep sizes equal to hand-computed sums of sys.getsizeof, the
 * retention path naming the global that holds the object, line memory on the allocating line.
 * The planted sizes and the hand sums are computed in a separate Pyodide loaded by this test
 * (WebAssembly is 32-bit: the sizes differ from a native run's). Last, with no native Python to
 * be found (PATH stripped, no PYXRAY_PYTHON, no pyenv), `pyxray mem` falls back to Pyodide.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, before, test } from 'node:test'
import { type MemoryDocument, parseMemoryDocument } from '../src/profile/memory-document.js'
import { withoutNativePython } from './pyenv.js'

const ROOT = join(import.meta.dirname, '..')
const MAIN = join(ROOT, 'src', 'cli', 'main.ts')
const PLANTED = join(ROOT, 'test', 'fixtures', 'memory', 'planted.py')
// The test's own tsx, so the CLI also starts with another current folder and a stripped PATH.
const TSX = import.meta.resolve('tsx')
const WORK = mkdtempSync(join(tmpdir(), 'pyxray-mem-pyodide-'))
after(() => rmSync(WORK, { recursive: true, force: true }))
const require = createRequire(import.meta.url)

type Validate = ((doc: unknown) => boolean) & { errors?: unknown[] | null }
const validate: Validate = (() => {
  const Ajv2020 = (require('ajv/dist/2020.js') as { Ajv2020: new (o: object) => { compile(s: object): Validate } }).Ajv2020
  const addFormats = require('ajv-formats') as { default: (ajv: unknown, formats: string[]) => void }
  const ajv = new Ajv2020({ strict: true, allErrors: true })
  addFormats.default(ajv, ['date-time'])
  return ajv.compile(JSON.parse(readFileSync(join(ROOT, 'schema', 'memory.schema.json'), 'utf8')) as object)
})()

/** `pyxray mem ARGS` with `env` (default: ours) in `cwd` (default: the repository). */
function pyxray(args: string[], env: NodeJS.ProcessEnv = process.env, cwd = ROOT) {
  return spawnSync(process.execPath, ['--import', TSX, MAIN, 'mem', ...args], { encoding: 'utf8', cwd, env, maxBuffer: 1 << 26 })
}

/** Runs with --format json; checks exit 0, the schema and that Pyodide's 3.14 ran it; returns the document. */
function json(args: string[], env?: NodeJS.ProcessEnv, cwd?: string): MemoryDocument {
  const r = pyxray([...args, '--format', 'json'], env, cwd)
  assert.equal(r.status, 0, r.stderr)
  const raw = JSON.parse(r.stdout) as unknown
  assert.ok(validate(raw), JSON.stringify(validate.errors))
  const doc = parseMemoryDocument(r.stdout)
  assert.match(doc.metadata.python, /^3\.14\./, 'ran in Pyodide (CPython 3.14)')
  return doc
}

/** The member of a document of kind `kind`. */
function member<K extends MemoryDocument['kind']>(doc: MemoryDocument, kind: K): Extract<MemoryDocument, { kind: K }>[K & keyof Extract<MemoryDocument, { kind: K }>] {
  assert.equal(doc.kind, kind)
  return (doc as unknown as Record<string, never>)[kind]!
}

const marker = (name: string) => readFileSync(PLANTED, 'utf8').split('\n').findIndex((l) => l.includes(`# LEAK ${name}`)) + 1

/** Runs `code` (its last line an expression giving JSON text) in a fresh Pyodide with the fixtures mounted. */
let pyodideEval: (code: string) => unknown
before(async () => {
  const { loadPyodide } = await import('pyodide')
  const py = await loadPyodide({ stdout: () => {}, stderr: () => {} })
  const dir = dirname(PLANTED)
  py.FS.mkdirTree(dir)
  py.FS.mount(py.FS.filesystems.NODEFS, { root: dir }, dir)
  pyodideEval = (code) => JSON.parse(String(py.runPython(code, { globals: py.toPy({}) }))) as unknown
})

test('pyodide: planted leaks are found at their line with the planted size per iteration (±10 %); a clean loop is not a leak', () => {
  // planted.py's own PLANTED table (sys.getsizeof of what each call keeps), computed in Pyodide.
  const planted = pyodideEval(`import json, runpy\njson.dumps(runpy.run_path(${JSON.stringify(PLANTED)})["PLANTED"])`) as Record<string, number>
  assert.ok(planted.cache! > 4096 && planted.closure! > 4000, JSON.stringify(planted))
  for (const name of ['cache', 'closure', 'cycle', 'listener']) {
    const leaks = member(json(['leaks', PLANTED, '--call', `${name}_leak()`, '--iterations', '20', '--runtime', 'pyodide']), 'leaks')
    assert.equal(leaks.leak, true, `${name}: ${leaks.verdict}`)
    const site = leaks.sites[0]!
    assert.equal(site.file, PLANTED, `${name}: reported at its real path`)
    assert.equal(site.line, marker(name), `${name}: ${leaks.verdict}`)
    const error = Math.abs(site.bytesPerIteration - planted[name]!) / planted[name]!
    assert.ok(error <= 0.1, `${name}: ${site.bytesPerIteration} B/iteration at the line, planted ${planted[name]} B (${(error * 100).toFixed(1)} % off)`)
  }
  const clean = member(json(['leaks', PLANTED, '--call', 'clean()', '--iterations', '50', '--runtime', 'pyodide']), 'leaks')
  assert.equal(clean.leak, false, clean.verdict)
  assert.equal(clean.iterations, 50)
  // --fail gates in Pyodide as natively: exit 1 on the cache leak, with the verdict on stderr.
  const failed = pyxray(['leaks', PLANTED, '--call', 'cache_leak()', '--iterations', '10', '--fail', '--runtime', 'pyodide'])
  assert.equal(failed.status, 1, failed.stderr)
  assert.match(failed.stderr, /mem leaks: leaks ~4\.\d KiB\/iteration at planted\.py:\d+/)
})

test('pyodide: deep sizes equal hand-computed sums of sys.getsizeof', () => {
  const cases: { expr: string; setup: string; hand: string; objects: number }[] = [
    { expr: '[x, x]', setup: 'x = "a" * 100', hand: 'sys.getsizeof(v) + sys.getsizeof(x)', objects: 2 },
    {
      expr: 'd',
      setup: 'd = {"k": [1, 2, 3], "s": b"xy" * 10}',
      hand: 'sys.getsizeof(d) + sys.getsizeof("k") + sys.getsizeof("s") + sys.getsizeof(d["k"]) + sum(sys.getsizeof(i) for i in d["k"]) + sys.getsizeof(d["s"])',
      objects: 8,
    },
    {
      expr: 'p',
      setup: 'class P:\n    __slots__ = ("a", "b")\np = P()\np.a = "x" * 50\np.b = (1.5, 2.5)',
      hand: 'sys.getsizeof(p) + sys.getsizeof(p.a) + sys.getsizeof(p.b) + sys.getsizeof(p.b[0]) + sys.getsizeof(p.b[1])',
      objects: 5,
    },
    { expr: 'a', setup: 'a = []\na.append(a)', hand: 'sys.getsizeof(a)', objects: 1 },
  ]
  for (const c of cases) {
    const hand = pyodideEval(`import json, sys\n${c.setup}\nv = ${c.expr}\njson.dumps(${c.hand})`) as number
    const size = member(json(['size', c.expr, '--setup', c.setup, '--runtime', 'pyodide']), 'size')
    assert.equal(size.totalBytes, hand, `${c.expr} after ${JSON.stringify(c.setup)}`)
    assert.equal(size.objects, c.objects, c.expr)
    assert.equal(size.shallowBytes, pyodideEval(`import json, sys\n${c.setup}\njson.dumps(sys.getsizeof(${c.expr}))`), c.expr)
  }
})

test('pyodide: the retention path names the holding global; line memory is on the allocating line', () => {
  const path = member(json(['path', '--type', 'Widget', PLANTED, '--call', 'listener_leak()', '--runtime', 'pyodide']), 'path')
  assert.equal(path.instances, 1)
  assert.deepEqual(path.paths[0]!.root, { kind: 'module global', module: '__main__', name: 'bus' })
  assert.deepEqual(
    path.paths[0]!.steps!.map((s) => s.edge),
    ['bus', '.listeners', '[0]', '__self__'],
  )
  // The script is outside the current folder: its folder is mounted too.
  const bytes = pyodideEval('import json, sys\njson.dumps(sys.getsizeof(bytes(4096)))') as number
  const lines = member(json(['lines', `${PLANTED}:cache_leak`, '--call', 'cache_leak()', '--runtime', 'pyodide'], process.env, WORK), 'lines')
  assert.equal(lines.file, PLANTED)
  const row = lines.lines.find((l) => l.line === marker('cache'))!
  assert.equal(row.hits, 1)
  assert.ok(row.netBytes >= bytes && row.netBytes < bytes * 1.1, `cache_leak line: ${row.netBytes} B, bytes(4096) is ${bytes} B`)
  const others = lines.lines.filter((l) => l.line !== marker('cache'))
  assert.ok(others.every((l) => l.netBytes < 256), JSON.stringify(others))
})

test('pyodide: the runtime choice: -v says which and why; bad combinations exit 2', () => {
  const forced = pyxray(['size', '[1]', '--runtime', 'pyodide', '-v'])
  assert.equal(forced.status, 0, forced.stderr)
  assert.match(forced.stderr, /^pyxray: mem size in the embedded Pyodide \(CPython 3\.14\) \(--runtime pyodide\)$/m)
  for (const [args, message] of [
    [['--runtime', 'pyodide', '--python', '3.12'], /the Pyodide runtime is CPython 3\.14; --python 3\.12 needs --runtime native/],
    [['--runtime', 'wasm'], /--runtime must be native or pyodide, got "wasm"/],
  ] as const) {
    const r = pyxray(['size', '[1]', ...args])
    assert.equal(r.status, 2, r.stderr)
    assert.match(r.stderr.trimEnd().split('\n').at(-1)!, message)
  }
})

test('pyodide: with no native Python to be found, pyxray mem falls back to Pyodide', () => {
  // No python3 on PATH (a folder holding only node), no PYXRAY_PYTHON, no pyenv (neither
  // $PYENV_ROOT nor ~/.pyenv): src/runtime/native/discover.ts finds nothing.
  const env = withoutNativePython(WORK)
  const x = 'x = "a" * 100'
  const hand = pyodideEval(`import json, sys\n${x}\njson.dumps(sys.getsizeof([x, x]) + sys.getsizeof(x))`) as number
  const r = pyxray(['size', '[x, x]', '--setup', x, '-v', '--format', 'json'], env)
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stderr, /^pyxray: mem size in the embedded Pyodide \(CPython 3\.14\) \(no native python3 found \(PATH, PYXRAY_PYTHON\): using the embedded Pyodide\)$/m)
  const doc = parseMemoryDocument(r.stdout)
  assert.match(doc.metadata.python, /^3\.14\./)
  assert.equal(member(doc, 'size').totalBytes, hand)
  // --python 3.14 with no native 3.14 also runs in Pyodide; --runtime native fails with a hint.
  const v314 = pyxray(['size', '[1]', '--python', '3.14', '-v'], env)
  assert.equal(v314.status, 0, v314.stderr)
  assert.match(v314.stderr, /in the embedded Pyodide \(CPython 3\.14\) \(--python 3\.14: no native CPython 3\.14 found\)/)
  const native = pyxray(['size', '[1]', '--runtime', 'native'], env)
  assert.equal(native.status, 2, native.stderr)
  assert.match(native.stderr, /^pyxray: pyxray mem needs a native CPython 3\.8–3\.\d+: none found/m)
  assert.doesNotMatch(native.stderr, /\n\s+at .*\.ts:\d+/, 'no JavaScript stack trace')
})
