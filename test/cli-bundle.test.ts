/**
 * The command as installed: bin/pyxray.js runs the bundle of src/cli (dist/bundle/, made by
 * `npm run build` through scripts/build-cli.mjs). Each case runs the bundle and the sources (tsx)
 * with the same arguments and wants the same output, so what bundling could break shows here:
 * the lazily loaded commands, the worker threads of `dis --out-dir` (entries of their own beside the
 * bundle), stdin, and the files found relative to the package (the agent's python/, package.json,
 * dist/report/). Needs a build no older than src/ (a missing or stale bundle skips, and fails under
 * CI=true, where `npm ci` has just built it).
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join, relative } from 'node:path'
import { after, test, type TestContext } from 'node:test'
import { pythonOnPath } from '../src/runtime/index.js'
import { requireResource } from './resources.js'

const ROOT = join(import.meta.dirname, '..')
const BIN = join(ROOT, 'bin', 'pyxray.js')
const BUNDLE = join(ROOT, 'dist', 'bundle', 'pyxray.js')
const PRESTART = join(ROOT, 'dist', 'bundle', 'prestart.js')
const MAIN = join(ROOT, 'src', 'cli', 'main.ts')
/** tsx by its URL: the runs' working folder is outside the package. */
const TSX = import.meta.resolve('tsx')
const FIXTURES = join(ROOT, 'test', 'fixtures', 'pyc')
const WORK = mkdtempSync(join(tmpdir(), 'pyxray-bundle-'))
after(() => rmSync(WORK, { recursive: true, force: true }))

interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

function run(entry: 'bundle' | 'sources', args: readonly string[], options: { env?: Record<string, string>; input?: string } = {}): Run {
  const argv = entry === 'bundle' ? [BIN, ...args] : ['--import', TSX, MAIN, ...args]
  const r = spawnSync(process.execPath, argv, {
    cwd: WORK,
    encoding: 'utf8',
    input: options.input ?? '',
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '', ...options.env },
    timeout: 120_000,
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** The newest modification time of the files below `dir`. */
function newest(dir: string): number {
  let t = 0
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    const s = statSync(p)
    t = Math.max(t, s.isDirectory() ? newest(p) : s.mtimeMs)
  }
  return t
}

/** Skips (fails under CI=true) when the bundle is missing or older than the sources it is made from. */
function requireBundle(t: TestContext): boolean {
  if (!existsSync(BUNDLE) || !existsSync(PRESTART)) requireResource(t, 'dist/bundle/ is missing: run npm run build')
  else if (Math.min(statSync(BUNDLE).mtimeMs, statSync(PRESTART).mtimeMs) < newest(join(ROOT, 'src'))) requireResource(t, 'dist/bundle/ is older than src/: run npm run build')
  else return true
  return false
}

/** Every file below `dir` (relative path → bytes). */
function tree(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>()
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name)
      if (statSync(p).isDirectory()) walk(p)
      else files.set(relative(dir, p), readFileSync(p))
    }
  }
  walk(dir)
  return files
}

test('the bundle prints the same version and help as the sources; help CMD is CMD --help', (t) => {
  if (!requireBundle(t)) return
  for (const args of [['--version'], ['--help'], ['help', 'dis'], ['dis', '--help'], ['help', 'profile'], ['help', 'runtimes']]) {
    const [bundle, sources] = [run('bundle', args), run('sources', args)]
    assert.equal(bundle.code, 0, `${args.join(' ')}: ${bundle.stderr}`)
    assert.deepEqual(bundle, sources, args.join(' '))
  }
  assert.equal(run('bundle', ['help', 'dis']).stdout, run('bundle', ['dis', '--help']).stdout)
  assert.match(run('bundle', ['help', 'dis']).stdout, /^Usage: pyxray dis /)
})

test('dis --out-dir from the bundle: its worker and writer threads write the bytes the sources write on one thread', (t) => {
  if (!requireBundle(t)) return
  const src = join(WORK, 'pyc')
  for (const version of readdirSync(FIXTURES).sort()) {
    mkdirSync(join(src, version), { recursive: true })
    for (const name of readdirSync(join(FIXTURES, version)).filter((f) => f.endsWith('.pyc'))) copyFileSync(join(FIXTURES, version, name), join(src, version, name))
  }
  const inputs = tree(src).size
  assert.ok(inputs >= 48, `enough files for worker threads (${inputs})`)
  const [a, b] = [join(WORK, 'out-bundle'), join(WORK, 'out-sources')]
  const bundle = run('bundle', ['dis', src, '--format', 'dis', '--out-dir', a], { env: { PYXRAY_THREADS: '3' } })
  const sources = run('sources', ['dis', src, '--format', 'dis', '--out-dir', b], { env: { PYXRAY_THREADS: '1', PYXRAY_WRITER: '0' } })
  assert.equal(bundle.code, 0, bundle.stderr)
  assert.equal(bundle.stderr.replaceAll(a, 'OUT'), sources.stderr.replaceAll(b, 'OUT'))
  const [ours, theirs] = [tree(a), tree(b)]
  assert.equal(ours.size, inputs)
  assert.deepEqual([...ours.keys()], [...theirs.keys()])
  for (const [name, bytes] of theirs) assert.ok(bytes.equals(ours.get(name)!), `${name} differs`)
})

test('the bundle reads stdin (dis -), finds the agent (profile) and the report template as the sources do', (t) => {
  if (!requireBundle(t)) return
  if (!pythonOnPath()) return requireResource(t, 'no python3 on PATH: install CPython 3.8+')
  for (const format of ['dis', 'text']) {
    const [bundle, sources] = [run('bundle', ['dis', '-', '--format', format], { input: 'x = 1\n' }), run('sources', ['dis', '-', '--format', format], { input: 'x = 1\n' })]
    assert.equal(bundle.code, 0, bundle.stderr)
    assert.deepEqual(bundle, sources, `dis - --format ${format}`)
    assert.match(bundle.stdout, /STORE_NAME +0 \(x\)/)
  }
  const profile = run('bundle', ['profile', '-q', '-o', 'p.json', '-c', 'def f():\n    return 1\nf()'])
  assert.equal(profile.code, 0, profile.stderr)
  const doc = JSON.parse(readFileSync(join(WORK, 'p.json'), 'utf8')) as { threads: unknown[] }
  assert.ok(doc.threads.length >= 1)
  // The HTML report's template is looked up in the package's dist/report/ (built by build:web):
  // either both write the same report, or both name the same missing file.
  const html = (entry: 'bundle' | 'sources') => {
    const r = run(entry, ['report', 'p.json', '--format', 'html', '-o', `${entry}.html`])
    return { code: r.code, stderr: r.stderr, html: r.code === 0 ? readFileSync(join(WORK, `${entry}.html`), 'utf8').length > 0 : undefined }
  }
  const [bundle, sources] = [html('bundle'), html('sources')]
  assert.deepEqual(bundle, sources)
  if (bundle.code !== 0) assert.ok(bundle.stderr.includes(join(ROOT, 'dist', 'report', 'report.html')), bundle.stderr)
})

// prestart.js and pyxray.js share one copy of the runtime's modules (a chunk of their own): with two
// copies the command would not find the worker started early and would start a second one.
test('the python3 worker the bundle starts early is the one its command uses: one worker per run', (t) => {
  if (!requireBundle(t)) return
  const real = pythonOnPath()
  if (!real) return requireResource(t, 'no python3 on PATH: install CPython 3.8+')
  const bin = join(WORK, 'fake-bin')
  const log = join(WORK, 'starts.log')
  mkdirSync(bin, { recursive: true })
  // python3 on PATH: logs each start of the agent's worker (not the probes), then runs the real one.
  writeFileSync(join(bin, 'python3'), `#!/bin/sh\ncase "$*" in *pyxray.worker*) echo worker >> ${JSON.stringify(log)};; esac\nexec ${JSON.stringify(real)} "$@"\n`)
  chmodSync(join(bin, 'python3'), 0o755)
  const env = { PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`, PYXRAY_PYTHON: '' }
  writeFileSync(log, '')
  const r = run('bundle', ['dis', '-', '--format', 'dis'], { env, input: 'def f(x):\n    return x + 1\n' })
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /MAKE_FUNCTION/)
  assert.equal(readFileSync(log, 'utf8').split('\n').filter(Boolean).length, 1, 'the worker started early is the one used')
})
