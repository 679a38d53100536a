/**
 * `pyxray mem …` end to end: the CLI runs the agent in a native CPython, the documents validate
 * against schema/memory.schema.json (ajv), reports render in text, markdown and json, --fail gates
 * on --threshold (exit 1), and bad input exits 2 with one line saying what was wrong.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { test } from 'node:test'
import { renderMemoryReport } from '../src/profile/memory-report.js'
import { type MemoryDocument, MemoryDocumentError, parseMemoryDocument } from '../src/profile/memory-document.js'
import { nativeCacheBin, requirePython } from './pyenv.js'

const ROOT = join(import.meta.dirname, '..')
const MAIN = join(ROOT, 'src', 'cli', 'main.ts')
const PLANTED = join(ROOT, 'test', 'fixtures', 'memory', 'planted.py')
const require = createRequire(import.meta.url)

type Validate = ((doc: unknown) => boolean) & { errors?: unknown[] | null }
const validate: Validate = (() => {
  const Ajv2020 = (require('ajv/dist/2020.js') as { Ajv2020: new (o: object) => { compile(s: object): Validate } }).Ajv2020
  const addFormats = require('ajv-formats') as { default: (ajv: unknown, formats: string[]) => void }
  const ajv = new Ajv2020({ strict: true, allErrors: true })
  addFormats.default(ajv, ['date-time'])
  return ajv.compile(JSON.parse(readFileSync(join(ROOT, 'schema', 'memory.schema.json'), 'utf8')) as object)
})()

/** The environment of the CLI: $PYXRAY_PYTHON_PATHS also names the folder test/pyenv.ts finds 3.14/3.15 in. */
const CLI_ENV = { ...process.env, PYXRAY_PYTHON_PATHS: [process.env.PYXRAY_PYTHON_PATHS, nativeCacheBin()].filter(Boolean).join(delimiter) }

function pyxray(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'mem', ...args], { encoding: 'utf8', cwd: ROOT, env: CLI_ENV })
}

/** Runs with --format json; checks the exit code and the schema; returns the document. */
function json(status: number, ...args: string[]) {
  const r = pyxray(...args, '--format', 'json')
  assert.equal(r.status, status, r.stderr)
  const raw = JSON.parse(r.stdout) as unknown
  assert.ok(validate(raw), JSON.stringify(validate.errors))
  return parseMemoryDocument(r.stdout)
}

/** The member of a document of kind `kind`. */
function member<K extends MemoryDocument['kind']>(doc: MemoryDocument, kind: K): Extract<MemoryDocument, { kind: K }>[K & keyof Extract<MemoryDocument, { kind: K }>] {
  assert.equal(doc.kind, kind)
  return (doc as unknown as Record<string, never>)[kind]!
}

const marker = (name: string) => readFileSync(PLANTED, 'utf8').split('\n').findIndex((l) => l.includes(`# LEAK ${name}`)) + 1

// pyenv's 3.11 and 3.12; 3.14 and 3.15 through $PYXRAY_PYTHON_PATHS (scripts/setup-native-pythons.sh).
for (const minor of [11, 12, 14, 15]) {
  const py = `3.${minor}`
  test(`${py}: pyxray mem leaks finds the planted cache leak and gates on --threshold`, (t) => {
    if (!requirePython(t, minor)) return
    const doc = json(0, 'leaks', PLANTED, '--call', 'cache_leak()', '--iterations', '10', '--python', py)
    assert.equal(doc.metadata.python.split('.').slice(0, 2).join('.'), py)
    const leaks = member(doc, 'leaks')
    assert.equal(leaks.leak, true)
    assert.equal(leaks.sites[0]!.line, marker('cache'))
    // --fail: the leak passes the default threshold (exit 1) but not a 64 KiB one (exit 0).
    const failed = pyxray('leaks', PLANTED, '--call', 'cache_leak()', '--iterations', '10', '--fail', '--python', py)
    assert.equal(failed.status, 1, failed.stderr)
    assert.match(failed.stdout, /^leaks ~4\.\d KiB\/iteration at planted\.py:\d+\n/)
    assert.match(failed.stderr, /mem leaks: leaks ~4\.\d KiB\/iteration at planted\.py/)
    const passed = pyxray('leaks', PLANTED, '--call', 'cache_leak()', '--iterations', '10', '--fail', '--threshold', '65536', '--python', py)
    assert.equal(passed.status, 0, passed.stderr)
    const clean = pyxray('leaks', PLANTED, '--call', 'clean()', '--iterations', '50', '--fail', '--python', py)
    assert.equal(clean.status, 0, clean.stderr)
    assert.match(clean.stdout, /^no leak: /)
    const md = pyxray('leaks', PLANTED, '--call', 'closure_leak()', '--format', 'markdown', '--python', py)
    assert.equal(md.status, 0, md.stderr)
    assert.match(md.stdout, /^## Leak check: \*\*leak\*\*\n/)
    assert.match(md.stdout, new RegExp(`\\| planted\\.py:${marker('closure')} \\| \`data = \\[0\\] \\* 1000  # LEAK closure\` \\|`))
  })

  test(`${py}: pyxray mem size, path, lines, growth`, (t) => {
    if (!requirePython(t, minor)) return
    const python = requirePython(t, minor)!
    const hand = Number(spawnSync(python, ['-c', 'import sys; x = "a" * 100; print(sys.getsizeof([x, x]) + sys.getsizeof(x))'], { encoding: 'utf8' }).stdout)
    const size = member(json(0, 'size', '[x, x]', '--setup', 'x = "a" * 100', '--python', py), 'size')
    assert.equal(size.totalBytes, hand)
    assert.equal(size.objects, 2)
    assert.match(pyxray('size', '[x, x]', '--setup', 'x = "a" * 100', '--python', py).stdout, /^\[x, x\] → list: deep /)

    const dot = join(mkdtempSync(join(tmpdir(), 'pyxray-mem-')), 'w.dot')
    const path = member(json(0, 'path', '--type', 'Widget', PLANTED, '--call', 'listener_leak()', '--dot', dot, '--python', py), 'path')
    assert.equal(path.instances, 1)
    assert.deepEqual(path.paths[0]!.root, { kind: 'module global', module: '__main__', name: 'bus' })
    assert.deepEqual(
      path.paths[0]!.steps!.map((s) => s.edge),
      ['bus', '.listeners', '[0]', '__self__'],
    )
    assert.match(readFileSync(dot, 'utf8'), /^digraph why_alive \{[\s\S]*"module __main__ global bus"/)

    const lines = member(json(0, 'lines', `${PLANTED}:cache_leak`, '--call', 'cache_leak()', '--python', py), 'lines')
    const row = lines.lines.find((l) => l.line === marker('cache'))!
    assert.ok(row.netBytes >= 4096 && row.netBytes < 4096 * 1.1, `cache_leak line: ${row.netBytes}`)

    const growth = member(json(0, 'growth', PLANTED, '--call', 'listener_leak()', '--iterations', '5', '--python', py), 'growth')
    const widget = growth.rows.find((r) => r.type === '__main__.Widget')
    assert.equal(widget?.delta, 5)
  })

  test(`${py}: pyxray mem lines: a line's peak is never below its net (memory kept in a loop)`, (t) => {
    if (!requirePython(t, minor)) return
    const dir = mkdtempSync(join(tmpdir(), 'pyxray-mem-lines-'))
    const script = join(dir, 'keep.py')
    // Each pass keeps ~8 KiB on the append line and makes a temporary 64 KiB list on the next:
    // the append line's net is the sum over 200 passes, and its peak must reach at least that.
    writeFileSync(script, ['def build(n):', '    kept = []', '    for i in range(n):', '        kept.append(bytearray(8192))', '        tmp = [0] * 8192', '        del tmp', '    return kept', ''].join('\n'))
    const lines = member(json(0, 'lines', `${script}:build`, '--call', 'build(200)', '--python', py), 'lines')
    const append = lines.lines.find((l) => l.line === 4)!
    assert.ok(append.netBytes >= 200 * 8192, `the append line keeps 200 × 8 KiB: ${append.netBytes}`)
    for (const l of lines.lines) assert.ok(l.peakBytes >= l.netBytes, `line ${l.line}: peak ${l.peakBytes} < net ${l.netBytes}`)
    assert.ok(lines.peakBytes >= append.netBytes)
    rmSync(dir, { recursive: true, force: true })
  })

  test(`${py}: pyxray mem: bad input exits 2 with one line`, (t) => {
    if (!requirePython(t, minor)) return
    const cases: [string[], RegExp][] = [
      [['leaks', 'missing.py', '--call', 'f()'], /missing\.py: no such file/],
      [['leaks', PLANTED, '--call', 'cache_leak('], /--call 'cache_leak\(' does not compile/],
      [['leaks', PLANTED, '--call', 'nope()'], /--call 'nope\(\)' raised NameError/],
      [['path', '--type', 'Nope', PLANTED], /no class named 'Nope' exists after running/],
      [['lines', `${PLANTED}:nope`, '--call', 'clean()'], /no function nope/],
      [['size', '1 +'], /does not compile/],
      [['leaks', PLANTED, '--iterations', '2'], /--iterations takes an integer >= 3/],
      [['leaks', PLANTED, '--format', 'html'], /unknown format "html"/],
      [['frob'], /unknown mem command "frob"/],
      [['path', PLANTED], /mem path needs --type NAME/],
    ]
    for (const [args, message] of cases) {
      const r = pyxray(...args, '--python', py)
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`)
      const last = r.stderr.trimEnd().split('\n').at(-1)!
      assert.match(last, /^pyxray: /)
      assert.match(last, message)
      assert.doesNotMatch(r.stderr, /\n\s+at .*\.ts:\d+/, 'no JavaScript stack trace')
    }
  })
}

test('memory documents: a wrong version or kind is refused with a coded error', () => {
  assert.throws(() => parseMemoryDocument('{"pyxray":"memory","version":2,"kind":"size","metadata":{},"size":{}}'), (e: unknown) => e instanceof MemoryDocumentError && e.code === 'MEMORY_VERSION')
  assert.throws(() => parseMemoryDocument('{"pyxray":"profile"}'), (e: unknown) => e instanceof MemoryDocumentError && e.code === 'MEMORY_NOT_A_DOCUMENT')
  assert.throws(() => parseMemoryDocument('nope'), (e: unknown) => e instanceof MemoryDocumentError && e.code === 'MEMORY_NOT_JSON')
  const doc = parseMemoryDocument(
    JSON.stringify({
      pyxray: 'memory',
      version: 1,
      kind: 'growth',
      metadata: { python: '3.12.1', implementation: 'CPython', executable: 'python3', argv: [], cwd: '/', startTime: '2024-01-01T00:00:00+00:00' },
      growth: { iterations: 2, totalDelta: 6, rows: [{ type: 'app.Job', name: 'Job', count: 10, delta: 6 }] },
    }),
  )
  assert.ok(validate(doc), JSON.stringify(validate.errors))
  assert.equal(renderMemoryReport(doc, 'text'), 'objects by type that grew over 2 iteration(s): +6 in total\n\ntype     count  delta  per iteration\napp.Job     10     +6  3.0\n')
  assert.equal(renderMemoryReport(doc, 'markdown'), '## Type growth\n\nobjects by type that grew over 2 iteration(s): +6 in total\n\n| type | count | delta | per iteration |\n|---|---|---|---|\n| app.Job | 10 | +6 | 3.0 |\n')
})
