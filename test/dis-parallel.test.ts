/**
 * `pyxray dis DIR --out DIR` across threads (src/cli/dis-parallel.ts): whatever the number of
 * threads, the same files with the same bytes, the same lines on stderr in the same order, the same
 * exit code; a worker thread alone writes what the engine prints; PYXRAY_THREADS is checked.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { test } from 'node:test'
import { formatDis, toCodeObject } from '../src/bytecode/index.js'
import { Slot, resultOf, startWorker, threadsFor, type WorkerData } from '../src/cli/dis-parallel.js'
import { readPyc } from '../src/pyc/index.js'

const ROOT = join(import.meta.dirname, '..')
const MAIN = join(ROOT, 'src', 'cli', 'main.ts')
const FIXTURES = join(ROOT, 'test', 'fixtures', 'pyc')

function pyxray(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '', FORCE_COLOR: '', ...env } })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
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

/** The .pyc fixtures of every version, with broken files among them: truncated ones and one with a bad magic. */
function inputFolder(): string {
  const src = mkdtempSync(join(tmpdir(), 'pyxray-parallel-'))
  let n = 0
  for (const version of readdirSync(FIXTURES).sort()) {
    mkdirSync(join(src, version))
    for (const name of readdirSync(join(FIXTURES, version)).filter((f) => f.endsWith('.pyc')).sort()) {
      copyFileSync(join(FIXTURES, version, name), join(src, version, name))
      // Every 37th file also has a truncated copy, failing with PYC_BAD_DATA or MARSHAL_TRUNCATED.
      if (n++ % 37 === 0) writeFileSync(join(src, version, `cut-${name}`), readFileSync(join(FIXTURES, version, name)).subarray(0, 40))
    }
  }
  writeFileSync(join(src, '3.12', 'magic.pyc'), 'not a pyc file at all')
  return src
}

test('dis --out gives the same files, bytes, error lines and exit code on 1 thread (with and without the writer thread) and on 3', () => {
  const src = inputFolder()
  const inputs = [...tree(src).keys()].length
  for (const format of ['dis', 'json', 'text']) {
    const envs: Record<string, string>[] = [{ PYXRAY_THREADS: '1', PYXRAY_WRITER: '0' }, { PYXRAY_THREADS: '1' }, { PYXRAY_THREADS: '3' }]
    const runs = envs.map((env, n) => {
      const out = mkdtempSync(join(tmpdir(), `pyxray-parallel-out-${n}-`))
      const r = pyxray(['dis', src, '--format', format, '--out-dir', out], env)
      return { ...r, stderr: r.stderr.replaceAll(out, 'OUT'), files: tree(out) }
    })
    const [one, ...others] = runs as [(typeof runs)[0], ...typeof runs]
    assert.equal(one.code, 2, one.stderr)
    for (const [n, other] of others.entries()) {
      assert.equal(other.code, one.code)
      assert.equal(other.stderr, one.stderr, `${format}, run ${n + 2}: stderr`)
      assert.deepEqual([...other.files.keys()], [...one.files.keys()], `${format}, run ${n + 2}: the same files`)
      for (const [name, bytes] of one.files) assert.ok(bytes.equals(other.files.get(name)!), `${format}, run ${n + 2}: ${name} differs`)
    }
    const failed = one.stderr.trim().split('\n').slice(0, -1)
    assert.ok(failed.length >= 8, `${format}: the broken files are reported (${failed.length})`)
    assert.ok(failed.every((line) => /^pyxray dis: .*(cut-.*|magic)\.pyc: [A-Z_]+ at byte \d+: /.test(line)), failed.join('\n'))
    assert.match(one.stderr, new RegExp(`^pyxray dis: ${inputs} file\\(s\\), ${inputs - failed.length} disassembled, ${failed.length} failed, written to OUT\\n$`, 'm'))
    assert.equal(one.files.size, inputs - failed.length)
  }
})

test('files the writer thread cannot write fail as they do without it: one line each in input order; a folder in the way stops the run', () => {
  const src = inputFolder()
  const runs = (prepare: (out: string) => void) =>
    ([{ PYXRAY_WRITER: '0' }, {}] as Record<string, string>[]).map((env) => {
      const out = mkdtempSync(join(tmpdir(), 'pyxray-writer-out-'))
      prepare(out)
      const r = pyxray(['dis', src, '--format', 'dis', '--out-dir', out], { PYXRAY_THREADS: '1', ...env })
      return { code: r.code, stderr: r.stderr.replaceAll(out, 'OUT'), files: [...tree(out).keys()] }
    })
  // A file where an output folder is to go: every output of that folder fails (EEXIST), the rest are written.
  const [direct, written] = runs((out) => writeFileSync(join(out, '3.10'), 'in the way'))
  assert.equal(direct!.code, 2)
  assert.match(direct!.stderr, /^pyxray dis: .*3\.10.*\.pyc: cannot read \(EEXIST\)$/m)
  assert.deepEqual(written, direct)
  // A folder where an output file is to go: the run stops with one line, exit 2.
  const name = readdirSync(join(src, '3.12')).sort().filter((f) => !f.startsWith('cut-') && f !== 'magic.pyc')[3]!.replace(/\.pyc$/, '.dis.txt')
  const [direct2, written2] = runs((out) => {
    mkdirSync(join(out, '3.12', name), { recursive: true })
  })
  assert.equal(direct2!.code, 2)
  assert.match(direct2!.stderr, new RegExp(`^(pyxray dis: .*/cut-.*\\.pyc: .*\\n)+pyxray: OUT/3\\.12/${name.replaceAll('.', '\\.')} is a folder: name a file to write\\n$`))
  assert.ok(direct2!.files.length > 10 && direct2!.files.length < 259, `the files before it are written (${direct2!.files.length})`)
  assert.deepEqual(written2, direct2)
})

test('a worker thread on its own claims every input and writes what formatDis prints', async () => {
  const src = inputFolder()
  const out = mkdtempSync(join(tmpdir(), 'pyxray-worker-out-'))
  const inputs = [...tree(src).keys()].map((rel) => ({ path: join(src, rel), rel }))
  const state = new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT)
  const data: WorkerData = { inputs, state, options: { format: 'dis', showCaches: false, showOffsets: false, showPositions: false, outDir: out, style: 'plain' } }
  const result = await resultOf(startWorker(data))
  assert.equal(result.kind, 'done')
  if (result.kind !== 'done') return
  assert.ok(Atomics.load(new Int32Array(state), Slot.Next) >= inputs.length, 'every input was claimed')
  const failedAt = new Set(result.failures.map((f) => f.index))
  assert.deepEqual(
    result.failures.map((f) => inputs[f.index]!.rel.replace(/^.*\//, '')).every((name) => name.startsWith('cut-') || name === 'magic.pyc'),
    true,
  )
  let written = 0
  inputs.forEach((input, i) => {
    if (failedAt.has(i)) return
    const pyc = readPyc(new Uint8Array(readFileSync(input.path)))
    const text = readFileSync(join(out, input.rel.replace(/\.pyc$/, '.dis.txt')), 'utf8')
    assert.equal(text, formatDis(toCodeObject(pyc.code, pyc.version[1])), input.rel)
    written++
  })
  assert.equal(written + failedAt.size, inputs.length)
})

test('threads: one for a few files, one per idle core (at most 4) for many; PYXRAY_THREADS sets it and is checked', () => {
  const saved = process.env.PYXRAY_THREADS
  try {
    delete process.env.PYXRAY_THREADS
    assert.equal(threadsFor(10, 2, 0), 1)
    assert.equal(threadsFor(1000, 2, 0), 2, 'two idle cores')
    assert.equal(threadsFor(1000, 2, 0.4), 2, 'a core 60 % idle is worth a thread')
    assert.equal(threadsFor(1000, 2, 1), 1, 'one core busy: this thread takes the other')
    assert.equal(threadsFor(1000, 2, 15), 1, 'a busy machine')
    assert.equal(threadsFor(1000, 16, 0), 4, 'at most four')
    assert.ok(threadsFor(1000) >= 1 && threadsFor(1000) <= Math.min(availableParallelism(), 4))
    process.env.PYXRAY_THREADS = '3'
    assert.equal(threadsFor(10), 3)
    assert.equal(threadsFor(2), 2, 'never more threads than files')
    for (const bad of ['0', 'two', '-1', '1.5', '65']) {
      process.env.PYXRAY_THREADS = bad
      assert.throws(() => threadsFor(100), { name: 'UsageError', message: new RegExp(`PYXRAY_THREADS takes a whole number .*"${bad.replace('.', '\\.')}"`) })
    }
  } finally {
    if (saved === undefined) delete process.env.PYXRAY_THREADS
    else process.env.PYXRAY_THREADS = saved
  }
  const r = pyxray(['dis', FIXTURES, '--format', 'dis', '--out-dir', mkdtempSync(join(tmpdir(), 'pyxray-threads-'))], { PYXRAY_THREADS: 'many' })
  assert.equal(r.code, 2)
  assert.equal(r.stderr, 'pyxray: PYXRAY_THREADS takes a whole number of threads from 1 to 64, not "many"\n')
})
