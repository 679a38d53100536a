/**
 * pprof out and in, read by the real consumers (issue 23):
 *
 * - exports of trace and sample profiles of a real program (CPython 3.12 and 3.15) are read by the
 *   pprof project's own parser (github.com/google/pprof/profile from Debian's
 *   golang-github-google-pprof-dev, in test/go/pprofcheck, built in GOPATH mode), which accepts
 *   them (CheckValid); per function its flat calls equal pyxray's calls exactly, flat/cum
 *   nanoseconds pyxray's self/total within 1 %, flat/cum samples pyxray's exactly; and
 *   `go tool pprof -top` reads them;
 * - a Go program's CPU profile (runtime/pprof, test/go/cpuprog) and its `go tool pprof -proto`
 *   re-encoding import with per-function self and total samples equal to the parser's;
 * - doc → pprof → doc keeps every frame, and per function the calls, self and total time;
 * - `pyxray push` against a receiver here that implements Pyroscope's ingest contract and decodes
 *   the body with the pprof parser; a 500, a hung server and a refused connection;
 * - continuous mode (`profile --every --push`) against a receiver that fails every other request.
 *
 * Go is needed (Debian golang-go, golang-github-google-pprof-dev): without it these tests are
 * skipped with the reason, and fail under CI=true. Go binaries go to a cache folder, not the repo.
 */
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { homedir, tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { after, before, describe, type TestContext, test } from 'node:test'
import { flattenProfile, type ProfileDocument, readProfileDocument } from '../src/profile/document.js'
import { flatTable } from '../src/profile/flat.js'
import { buildTrees } from '../src/profile/model.js'
import { importPprof, pprofExporter, toPprof } from '../src/pprof/index.js'
import { deepDoc } from './deep-docs.js'
import { QUEUE_LIMIT, RETRIES, WindowPusher } from '../src/cli/profile-push.js'
import { nativeCacheBin, requirePython } from './pyenv.js'
import { requireResource } from './resources.js'

const ROOT = join(import.meta.dirname, '..')
const WORK = mkdtempSync(join(tmpdir(), 'pyxray-pprof-'))
after(() => rmSync(WORK, { recursive: true, force: true }))
const GO_CACHE = join(process.env.PYXRAY_CACHE_DIR ?? join(homedir(), '.cache', 'pyxray'), 'go')
const PPROF_SRC = '/usr/share/gocode/src/github.com/google/pprof/profile'

/** The Go tools, built once: undefined with the reason when Go or the pprof source is missing. */
let go: { checker: string; cpuprog: string } | string
before(() => {
  const v = spawnSync('go', ['version'], { encoding: 'utf8' })
  if (v.status !== 0) {
    go = 'go is not installed (apt-get install golang-go golang-github-google-pprof-dev)'
    return
  }
  if (!existsSync(PPROF_SRC)) {
    go = `the pprof parser source is not in ${PPROF_SRC} (apt-get install golang-github-google-pprof-dev)`
    return
  }
  mkdirSync(GO_CACHE, { recursive: true })
  const env = { ...process.env, GO111MODULE: 'off', GOPATH: '/usr/share/gocode', GOFLAGS: '', GOCACHE: join(GO_CACHE, 'build-cache') }
  const checker = join(GO_CACHE, 'pprofcheck')
  const cpuprog = join(GO_CACHE, 'cpuprog')
  for (const [out, src] of [
    [checker, join(ROOT, 'test/go/pprofcheck/main.go')],
    [cpuprog, join(ROOT, 'test/go/cpuprog/main.go')],
  ] as const) {
    const r = spawnSync('go', ['build', '-o', out, src], { env, encoding: 'utf8' })
    if (r.status !== 0) {
      go = `go build ${src} failed: ${r.stderr.trim()}`
      return
    }
  }
  go = { checker, cpuprog }
})

function needGo(t: TestContext): { checker: string; cpuprog: string } | undefined {
  if (typeof go === 'string') {
    requireResource(t, go)
    return undefined
  }
  return go
}

/** What the pprof parser read (test/go/pprofcheck). */
interface Checked {
  readonly sampleTypes: [string, string][]
  readonly defaultSampleType: string
  readonly periodType: [string, string]
  readonly period: number
  readonly timeNanos: number
  readonly durationNanos: number
  readonly comments: string[] | null
  readonly samples: number
  readonly totals: number[]
  readonly labels: Record<string, string>[] | null
  readonly functions: { name: string; file: string; startLine: number; flat: number[]; cum: number[] }[]
}

function check(checker: string, file: string): Checked {
  const r = spawnSync(checker, [file], { encoding: 'utf8', maxBuffer: 1 << 28 })
  assert.equal(r.status, 0, `pprofcheck ${file}: ${r.stderr}`)
  return JSON.parse(r.stdout) as Checked
}

const CLI = [join(ROOT, 'node_modules/tsx/dist/esm/index.mjs'), join(ROOT, 'src/cli/main.ts')]
const cliEnv = (extra: NodeJS.ProcessEnv = {}) => ({ ...process.env, PYXRAY_CACHE_DIR: join(WORK, 'cache'), ...extra })

/** Runs the CLI without blocking the event loop (the receivers here must answer meanwhile). */
function cli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', CLI[0]!, CLI[1]!, ...args], { cwd: WORK, env: cliEnv(env) })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

function cliSync(args: readonly string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', CLI[0]!, CLI[1]!, ...args], { cwd: WORK, env: cliEnv(), encoding: 'utf8' })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

const PROGRAM = `
import math

def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

def leaf(i):
    return math.sqrt(i) * 2

def work(n):
    s = 0.0
    for i in range(n):
        s += leaf(i)
    return s

class Box:
    def fill(self, n):
        return [work(200) for _ in range(n)]

def main():
    for _ in range(30):
        work(3000)
    Box().fill(20)
    fib(16)

main()
`

/** Per function key (name, file, first line): pyxray's calls, self, total, self samples and samples. */
function pyxrayFunctions(doc: ProfileDocument): Map<string, { calls: number; selfNs: number; totalNs: number; selfSamples: number; samples: number; n: number }> {
  const out = new Map<string, { calls: number; selfNs: number; totalNs: number; selfSamples: number; samples: number; n: number }>()
  for (const row of flatTable(buildTrees(doc).map((t) => t.root))) {
    const key = `${row.fn.qualname}\0${row.fn.file}\0${row.fn.kind === 'builtin' ? 0 : row.fn.firstlineno}`
    const a = out.get(key) ?? { calls: 0, selfNs: 0, totalNs: 0, selfSamples: 0, samples: 0, n: 0 }
    a.calls += row.calls
    a.selfNs += row.selfNs
    a.totalNs += row.totalNs
    a.samples += row.samples ?? 0
    a.n++
    out.set(key, a)
  }
  // Self samples: a node's samples less its children's, summed per function.
  for (const t of doc.threads) {
    const todo = [t.root]
    while (todo.length > 0) {
      const n = todo.pop()!
      let kids = 0
      for (const c of n.children) {
        kids += c.samples ?? 0
        todo.push(c)
      }
      if (n.frame === null) continue
      const f = doc.frames[n.frame]!
      const a = out.get(`${f.qualname}\0${f.file}\0${f.kind === 'builtin' ? 0 : f.firstlineno}`)!
      a.selfSamples += (n.samples ?? 0) - kids
    }
  }
  return out
}

/** The one function of that name. */
function byName<T>(m: Map<string, T>, name: string): T {
  const found = [...m.entries()].filter(([k]) => k.startsWith(`${name}\0`))
  assert.equal(found.length, 1, `one function ${name}`)
  return found[0]![1]
}

const within1 = (a: number, b: number) => Math.abs(a - b) <= Math.max(1, 0.01 * Math.max(Math.abs(a), Math.abs(b)))

describe('exports read by the pprof parser and go tool pprof', () => {
  for (const minor of [12, 15]) {
    for (const mode of ['trace', 'sample'] as const) {
      test(`3.${minor} ${mode}: CheckValid, per-function values equal pyxray's, go tool pprof -top`, (t) => {
        const tools = needGo(t)
        if (!tools) return
        const python = requirePython(t, minor)
        if (!python) return
        const dir = join(WORK, `${mode}-${minor}`)
        mkdirSync(dir, { recursive: true })
        writeFileSync(join(dir, 'prog.py'), PROGRAM)
        const doc = join(dir, 'run.json')
        const p = spawnSync(process.execPath, ['--import', CLI[0]!, CLI[1]!, 'profile', '--python', python, '--mode', mode, ...(mode === 'sample' ? ['--interval', '200us'] : []), '-q', '-o', doc, join(dir, 'prog.py')], { cwd: dir, env: cliEnv({ PYXRAY_SAMPLER: 'thread' }), encoding: 'utf8' })
        assert.equal(p.status, 0, p.stderr)
        const pb = join(dir, 'run.pb.gz')
        const e = cliSync(['export', doc, '--to', 'pprof', '-o', pb])
        assert.equal(e.code, 0, e.stderr)
        const got = check(tools.checker, pb)
        const d = readProfileDocument(readFileSync(doc, 'utf8'), doc)
        assert.deepEqual(got.sampleTypes, mode === 'trace' ? [['calls', 'count'], ['wall', 'nanoseconds']] : [['samples', 'count'], ['wall', 'nanoseconds']])
        assert.equal(got.defaultSampleType, 'wall')
        if (mode === 'sample') {
          assert.deepEqual(got.periodType, ['wall', 'nanoseconds'])
          assert.equal(got.period, d.metadata.intervalNs)
        }
        assert.equal(got.durationNanos, d.metadata.durationNs)
        assert.equal(got.timeNanos, Date.parse(d.metadata.startTime) * 1e6)
        assert.ok(got.comments?.includes(`pyxray.python=${d.metadata.python.version}`))
        assert.ok(got.labels?.every((l) => l.thread === 'MainThread' && l.thread_id !== undefined))
        const ours = pyxrayFunctions(d)
        assert.equal(got.functions.length, ours.size)
        let compared = 0
        for (const f of got.functions) {
          const o = ours.get(`${f.name}\0${f.file}\0${f.startLine}`)
          assert.ok(o, `pprof function ${f.name} (${f.file}:${f.startLine}) is not in the document`)
          const ns = 1
          assert.ok(within1(f.flat[ns]!, o.selfNs), `${f.name}: flat ${f.flat[ns]} ns vs self ${o.selfNs}`)
          if (o.n === 1) assert.ok(within1(f.cum[ns]!, o.totalNs), `${f.name}: cum ${f.cum[ns]} ns vs total ${o.totalNs}`)
          if (mode === 'trace') assert.equal(f.flat[0], o.calls, `${f.name}: flat calls`)
          else {
            assert.equal(f.flat[0], o.selfSamples, `${f.name}: flat samples`)
            if (o.n === 1) assert.equal(f.cum[0], o.samples, `${f.name}: cum samples`)
          }
          compared++
        }
        assert.ok(compared >= 4)
        if (mode === 'trace') {
          const fib = got.functions.find((f) => f.name === 'fib')!
          assert.equal(fib.flat[0], byName(ours, 'fib').calls)
          assert.ok(fib.flat[0]! > 1000)
        }
        const top = spawnSync('go', ['tool', 'pprof', '-top', '-nodecount=1000', '-nodefraction=0', '-edgefraction=0', pb], { encoding: 'utf8' })
        assert.equal(top.status, 0, top.stderr)
        assert.match(top.stdout, /Type: wall/)
        for (const name of ['work', 'leaf', 'main', 'Box.fill']) assert.match(top.stdout, new RegExp(`\\s${name.replace('.', '\\.')}\\n`), `go tool pprof -top lists ${name}`)
        // go tool pprof's own numbers for a function: its flat in ms equals ours.
        const work = /^\s*([\d.]+)(ms|s|us|µs)\s+[\d.]+%\s+[\d.]+%\s+([\d.]+)(ms|s|us|µs)\s+[\d.]+%\s+work$/m.exec(top.stdout)
        assert.ok(work, top.stdout)
        const scale = (u: string) => (u === 's' ? 1e9 : u === 'ms' ? 1e6 : 1e3)
        const w = byName(ours, 'work')
        assert.ok(Math.abs(Number(work[1]) * scale(work[2]!) - w.selfNs) <= Math.max(0.01 * w.selfNs, 0.006 * scale(work[2]!)), `go tool pprof flat of work ${work[1]}${work[2]} vs ${w.selfNs} ns`)
        if (mode === 'sample') {
          // Instruction-level samples: one location per source line; go tool pprof -lines names
          // work's lines with the document's own samples per line.
          const workLines = new Map<number, number>()
          for (const th of d.threads) {
            const todo = [th.root]
            while (todo.length > 0) {
              const n = todo.pop()!
              if (n.frame !== null && d.frames[n.frame]!.qualname === 'work') for (const [line, k] of n.lines ?? []) workLines.set(line, (workLines.get(line) ?? 0) + k)
              todo.push(...n.children)
            }
          }
          assert.ok(workLines.size > 0, 'the sampled document has work\'s lines')
          const byLine = spawnSync('go', ['tool', 'pprof', '-top', '-lines', '-sample_index=samples', '-nodecount=1000', '-nodefraction=0', '-edgefraction=0', pb], { encoding: 'utf8' })
          assert.equal(byLine.status, 0, byLine.stderr)
          for (const [line, k] of workLines) {
            const row = new RegExp(`^\\s*(\\d+)\\s+[\\d.]+%\\s+[\\d.]+%\\s+\\d+\\s+[\\d.]+%\\s+work \\S*prog\\.py:${line}\\s*$`, 'm').exec(byLine.stdout)
            assert.ok(row, `go tool pprof -lines lists work at line ${line}:\n${byLine.stdout}`)
            assert.equal(Number(row[1]), k, `work line ${line}: flat samples`)
          }
        }
      })
    }
  }
})

describe('deep recursion and memory', () => {
  test('a call tree 100,000 deep is folded below a depth, the parser accepts it and every value is kept', (t) => {
    const tools = needGo(t)
    if (!tools) return
    const doc = deepDoc(100_000, 'siblings', { rootSelfNs: 5000 })
    const notes = pprofExporter.notes!(doc, { exporter: 'test', options: {} })
    assert.match(notes[0] ?? '', /frames below depth (\d+) are folded/)
    const file = join(WORK, 'deep.pb.gz')
    writeFileSync(file, toPprof(doc))
    const got = check(tools.checker, file)
    let calls = 0
    const todo = [doc.threads[0]!.root]
    while (todo.length > 0) {
      const n = todo.pop()!
      calls += n.calls
      todo.push(...n.children)
    }
    assert.deepEqual(got.totals, [calls, doc.threads[0]!.root.totalNs])
    const folded = got.functions.find((f) => /^\[frames below depth \d+\]$/.test(f.name))
    assert.ok(folded && folded.flat[1]! > 0)
    const main = got.functions.find((f) => f.name === 'main')!
    assert.equal(main.cum[1], doc.threads[0]!.root.totalNs - 5000)
  })

  test('--memory profiles carry alloc_space (net bytes per path) that adds up to the document\'s', (t) => {
    const tools = needGo(t)
    if (!tools) return
    const python = requirePython(t, 12)
    if (!python) return
    const docPath = join(WORK, 'mem.json')
    const p = spawnSync(process.execPath, ['--import', CLI[0]!, CLI[1]!, 'profile', '--python', python, '--memory', '-q', '-o', docPath, '-c', 'def keep(n):\n    return [bytearray(1000) for _ in range(n)]\nheld = [keep(100) for _ in range(5)]'], { cwd: WORK, env: cliEnv(), encoding: 'utf8' })
    assert.equal(p.status, 0, p.stderr)
    const doc = readProfileDocument(readFileSync(docPath, 'utf8'), docPath)
    const file = join(WORK, 'mem.pb.gz')
    writeFileSync(file, toPprof(doc))
    const got = check(tools.checker, file)
    assert.deepEqual(got.sampleTypes[2], ['alloc_space', 'bytes'])
    const keep = got.functions.find((f) => f.name === 'keep')!
    const rows = flatTable(buildTrees(doc).map((x) => x.root)).filter((r) => r.fn.qualname === 'keep')
    assert.equal(rows.length, 1)
    assert.equal(keep.cum[2], rows[0]!.netBytes)
    assert.ok(keep.cum[2]! > 400_000)
    if (rows[0]!.allocations !== undefined) {
      // The C engine counts allocations: alloc_objects, cum = the function's inclusive count.
      assert.deepEqual(got.sampleTypes[3], ['alloc_objects', 'count'])
      assert.equal(keep.cum[3], rows[0]!.allocations)
      assert.ok(keep.cum[3]! >= 500, `keep made 500 bytearrays, alloc_objects says ${keep.cum[3]}`)
    }
    const back = importPprof(readFileSync(file))
    assert.equal(back.threads[0]!.root.memory?.netBytes, doc.threads[0]!.root.memory?.netBytes)
  })
})

describe('round trip and import', () => {
  test('doc → pprof → doc keeps frames, calls and self/total time per function', (t) => {
    const python = requirePython(t, 12)
    if (!python) return
    const dir = join(WORK, 'roundtrip')
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'prog.py'), PROGRAM)
    const docPath = join(dir, 'run.json')
    const p = spawnSync(process.execPath, ['--import', CLI[0]!, CLI[1]!, 'profile', '--python', python, '-q', '-o', docPath, join(dir, 'prog.py')], { cwd: dir, env: cliEnv(), encoding: 'utf8' })
    assert.equal(p.status, 0, p.stderr)
    const doc = readProfileDocument(readFileSync(docPath, 'utf8'), docPath)
    for (const gzip of [true, false]) {
      const back = importPprof(toPprof(doc, { gzip }))
      assert.equal(back.metadata.mode, 'trace')
      assert.deepEqual(back.metadata.source, { format: 'pprof', tool: 'pyxray' })
      const key = (f: ProfileDocument['frames'][number]) => `${f.kind}\0${f.file}\0${f.firstlineno}\0${f.qualname}\0${f.module ?? ''}`
      assert.deepEqual(new Set(back.frames.map(key)), new Set(doc.frames.map(key)))
      const a = pyxrayFunctions(doc)
      const b = pyxrayFunctions(back)
      assert.deepEqual([...b.entries()].sort(), [...a.entries()].sort())
      assert.equal(back.threads[0]!.root.totalNs, doc.threads[0]!.root.totalNs)
    }
    // The CLI: pyxray import reads the file pyxray export wrote.
    const pb = join(dir, 'run.pb.gz')
    assert.equal(cliSync(['export', docPath, '--to', 'pprof', '-o', pb]).code, 0)
    const out = join(dir, 'back.json')
    const r = cliSync(['import', pb, '-o', out])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stderr, /pyxray pprof/)
    const again = readProfileDocument(readFileSync(out, 'utf8'), out)
    assert.deepEqual([...pyxrayFunctions(again).entries()].sort(), [...pyxrayFunctions(doc).entries()].sort())
  })

  test("a Go CPU profile and its go tool pprof -proto re-encoding import with the parser's per-function samples", (t) => {
    const tools = needGo(t)
    if (!tools) return
    const raw = join(WORK, 'cpu.pprof')
    const r = spawnSync(tools.cpuprog, [raw], { encoding: 'utf8' })
    assert.equal(r.status, 0, r.stderr)
    const proto = join(WORK, 'cpu-proto.pb.gz')
    const p = spawnSync('go', ['tool', 'pprof', '-proto', '-output', proto, raw], { encoding: 'utf8' })
    assert.equal(p.status, 0, p.stderr)
    for (const file of [raw, proto]) {
      const got = check(tools.checker, file)
      assert.deepEqual(got.sampleTypes, [['samples', 'count'], ['cpu', 'nanoseconds']])
      assert.ok(got.totals[0]! > 0, 'the Go program was sampled')
      for (const sampleType of [undefined, 'samples', 'cpu']) {
        const out = join(WORK, 'go.json')
        const res = cliSync(['import', file, ...(sampleType ? ['--sample-type', sampleType] : []), '-o', out])
        assert.equal(res.code, 0, res.stderr)
        const doc = readProfileDocument(readFileSync(out, 'utf8'), out)
        assert.deepEqual(doc.metadata.source, { format: 'pprof', tool: 'go' })
        assert.equal(doc.metadata.mode, 'sample')
        const ours = pyxrayFunctions(doc)
        for (const f of got.functions) {
          const o = ours.get(`${f.name}\0${f.file}\0${f.startLine}`)
          assert.ok(o, `${f.name} imported`)
          assert.equal(o.selfSamples, f.flat[0], `${f.name}: self samples`)
          if (o.n === 1) assert.equal(o.samples, f.cum[0], `${f.name}: total samples`)
          assert.equal(o.selfNs, f.flat[1], `${f.name}: self ns`)
          if (o.n === 1) assert.equal(o.totalNs, f.cum[1], `${f.name}: total ns`)
        }
        assert.ok([...ours.keys()].some((k) => k.startsWith('main.inner\0')))
      }
    }
    const bad = cliSync(['import', raw, '--sample-type', 'alloc_space', '-o', join(WORK, 'x.json')])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /no sample type "alloc_space" in the file: it has samples \(count\), cpu \(nanoseconds\)/)
  })
})

/** A receiver of Pyroscope's ingest contract: what it got, decoded with the pprof parser. */
interface Received {
  readonly url: URL
  readonly headers: IncomingMessage['headers']
  readonly pprof: Buffer
}

function multipartProfile(req: IncomingMessage, body: Buffer): Buffer {
  const m = /boundary=([^;]+)/.exec(req.headers['content-type'] ?? '')
  assert.ok(m, `multipart/form-data expected, got ${req.headers['content-type']}`)
  const text = body.toString('latin1')
  const parts = text.split(`--${m[1]}`).slice(1, -1)
  const profile = parts.find((p) => /name="profile"/.test(p))
  assert.ok(profile, 'a "profile" field')
  const start = profile.indexOf('\r\n\r\n') + 4
  return Buffer.from(profile.slice(start, profile.length - 2), 'latin1')
}

function receiver(answer: (n: number) => number | 'hang'): Promise<{ server: Server; url: string; got: Received[] }> {
  const got: Received[] = []
  let n = 0
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const a = answer(++n)
      if (a === 'hang') return
      if (a === 200) {
        const url = new URL(req.url!, 'http://x')
        // The contract: POST /ingest, name, from ≤ until, format=pprof, the pprof in "profile".
        assert.equal(req.method, 'POST')
        assert.equal(url.pathname, '/ingest')
        got.push({ url, headers: req.headers, pprof: multipartProfile(req, Buffer.concat(chunks)) })
      }
      res.writeHead(a)
      res.end(a === 200 ? '' : 'internal error')
    })
  })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, got })))
}

/**
 * A receiver of Parca's WriteRaw through its HTTP/JSON gateway (POST /api/profiles/writeraw, the
 * WriteRawRequest in protobuf's JSON mapping; the gateway rejects unknown fields, so every key is
 * checked): the labels and the pprof of each request, the pprof decoded from base64.
 */
function parcaReceiver(answer: (n: number) => number): Promise<{ server: Server; url: string; got: { labels: Record<string, string>; headers: IncomingMessage['headers']; pprof: Buffer }[] }> {
  const got: { labels: Record<string, string>; headers: IncomingMessage['headers']; pprof: Buffer }[] = []
  let n = 0
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const a = answer(++n)
      if (a === 200) {
        assert.equal(req.method, 'POST')
        assert.equal(new URL(req.url!, 'http://x').pathname, '/api/profiles/writeraw')
        assert.equal(req.headers['content-type'], 'application/json')
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { series: { labels: { labels: { name: string; value: string }[] }; samples: { rawProfile: string }[] }[] }
        assert.deepEqual(Object.keys(body), ['series'])
        assert.equal(body.series.length, 1)
        const series = body.series[0]!
        assert.deepEqual(Object.keys(series).sort(), ['labels', 'samples'])
        assert.deepEqual(Object.keys(series.labels), ['labels'])
        for (const l of series.labels.labels) assert.deepEqual(Object.keys(l).sort(), ['name', 'value'])
        assert.equal(series.samples.length, 1)
        assert.deepEqual(Object.keys(series.samples[0]!), ['rawProfile'])
        const pprof = Buffer.from(series.samples[0]!.rawProfile, 'base64')
        assert.equal(pprof.toString('base64'), series.samples[0]!.rawProfile, 'rawProfile is standard base64')
        got.push({ labels: Object.fromEntries(series.labels.labels.map((l) => [l.name, l.value])), headers: req.headers, pprof })
      }
      res.writeHead(a, { 'Content-Type': 'application/json' })
      res.end(a === 200 ? '{}' : '{"code":13,"message":"failed to ingest profile"}')
    })
  })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, got })))
}

describe('push to the ingest API', () => {
  let doc: string
  before(() => {
    doc = join(WORK, 'push.json')
    const r = spawnSync(process.execPath, ['--import', CLI[0]!, CLI[1]!, 'profile', '-q', '-o', doc, '-c', 'def f():\n    return sum(i * i for i in range(20000))\nfor _ in range(20): f()'], { cwd: WORK, env: cliEnv(), encoding: 'utf8' })
    assert.equal(r.status, 0, r.stderr)
  })

  test('one request the contract accepts: name with labels, from ≤ until, format, tenant, bearer token never printed', async (t) => {
    const tools = needGo(t)
    if (!tools) return
    const { server, url, got } = await receiver(() => 200)
    try {
      const r = await cli(['push', doc, '--to', url, '--name', 'shop.api{env=test,region=eu}', '--tenant', 'team-7'], { PYXRAY_PUSH_TOKEN: 'tok-SECRET-123' })
      assert.equal(r.code, 0, r.stderr)
      assert.equal(got.length, 1)
      const q = got[0]!.url.searchParams
      assert.equal(q.get('name'), 'shop.api{env=test,region=eu}')
      assert.equal(q.get('format'), 'pprof')
      assert.equal(q.get('spyName'), 'pyxray')
      assert.ok(Number(q.get('from')) > 1.6e9 && Number(q.get('from')) <= Number(q.get('until')))
      assert.ok(Number(q.get('sampleRate')) > 0)
      assert.equal(got[0]!.headers['x-scope-orgid'], 'team-7')
      assert.equal(got[0]!.headers.authorization, 'Bearer tok-SECRET-123')
      assert.doesNotMatch(r.stdout + r.stderr, /SECRET/)
      const file = join(WORK, 'pushed.pb.gz')
      writeFileSync(file, got[0]!.pprof)
      const checked = check(tools.checker, file)
      assert.ok(checked.functions.some((f) => f.name === 'f' && f.flat[0] === 20))
      // Basic credentials from the environment.
      const b = await cli(['push', doc, '--to', `${url}/ingest`, '--name', 'app'], { PYXRAY_PUSH_BASIC: 'user:pw-SECRET' })
      assert.equal(b.code, 0, b.stderr)
      assert.equal(got[1]!.headers.authorization, `Basic ${Buffer.from('user:pw-SECRET').toString('base64')}`)
      assert.doesNotMatch(b.stdout + b.stderr, /SECRET/)
      // A pprof file goes as it is, with its own time span.
      const pb = join(WORK, 'push.pb.gz')
      assert.equal(cliSync(['export', doc, '--to', 'pprof', '-o', pb]).code, 0)
      const f = await cli(['push', pb, '--to', url, '--name', 'app'])
      assert.equal(f.code, 0, f.stderr)
      assert.deepEqual(got[2]!.pprof, readFileSync(pb))
      const start = readProfileDocument(readFileSync(doc, 'utf8'), doc).metadata.startTime
      assert.equal(Number(got[2]!.url.searchParams.get('from')), Math.floor(Date.parse(start) / 1000))
    } finally {
      server.close()
    }
  })

  test('a 500, a hung server (--timeout 3) and a refused connection: one line, exit 1', async () => {
    const five = await receiver(() => 500)
    const hung = await receiver(() => 'hang')
    const closed = await receiver(() => 200)
    closed.server.close()
    try {
      const cases: [string, string[], RegExp][] = [
        ['500', ['--to', five.url], /answered 500 .*\[PUSH_STATUS\]/],
        ['hung', ['--to', hung.url, '--timeout', '3'], /did not answer within 3 s .*\[PUSH_TIMEOUT\]/],
        ['refused', ['--to', closed.url], /connection refused .*\[PUSH_REFUSED\]/],
      ]
      for (const [what, args, message] of cases) {
        const r = await cli(['push', doc, '--name', 'app', ...args], { PYXRAY_PUSH_TOKEN: 'tok-SECRET-9' })
        assert.equal(r.code, 1, `${what}: ${r.stderr}`)
        assert.match(r.stderr, message)
        assert.equal(r.stderr.trim().split('\n').length, 1, `${what}: one line: ${r.stderr}`)
        assert.doesNotMatch(r.stdout + r.stderr, /SECRET|at .*\.ts:/)
      }
    } finally {
      five.server.close()
      hung.server.closeAllConnections()
      hung.server.close()
    }
  })

  test('--protocol parca: one WriteRaw request with the name as __name__ and the labels, the pprof the parser reads; a 500 and a refused connection', async (t) => {
    const tools = needGo(t)
    if (!tools) return
    const { server, url, got } = await parcaReceiver((n) => (n === 2 ? 500 : 200))
    const closed = await parcaReceiver(() => 200)
    closed.server.close()
    try {
      const r = await cli(['push', doc, '--protocol', 'parca', '--to', url, '--name', 'shop_api{env=test,region=eu-1}'], { PYXRAY_PUSH_TOKEN: 'tok-SECRET-5' })
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stderr, /delivered .* to http:\/\/127\.0\.0\.1:\d+\/api\/profiles\/writeraw as shop_api/)
      assert.equal(got.length, 1)
      assert.deepEqual(got[0]!.labels, { __name__: 'shop_api', env: 'test', region: 'eu-1' })
      assert.equal(got[0]!.headers.authorization, 'Bearer tok-SECRET-5')
      assert.doesNotMatch(r.stdout + r.stderr, /SECRET/)
      const file = join(WORK, 'parca.pb.gz')
      writeFileSync(file, got[0]!.pprof)
      assert.ok(check(tools.checker, file).functions.some((f) => f.name === 'f' && f.flat[0] === 20))
      // The same failures as for Pyroscope: one line, exit 1.
      const five = await cli(['push', doc, '--protocol', 'parca', '--to', url, '--name', 'app'])
      assert.equal(five.code, 1)
      assert.match(five.stderr, /writeraw answered 500 .*failed to ingest profile.*\[PUSH_STATUS\]/)
      const refused = await cli(['push', doc, '--protocol', 'parca', '--to', closed.url, '--name', 'app'])
      assert.equal(refused.code, 1)
      assert.match(refused.stderr, /connection refused \(is Parca listening there\?\) \[PUSH_REFUSED\]/)
      // Continuous mode's queue speaks it too.
      const pusher = new WindowPusher({ url, name: 'svc{pod=a}', timeoutMs: 5000, protocol: 'parca' }, () => {})
      pusher.add({ pprof: readFileSync(file), from: 1, until: 2, sampleRate: 100, sampleTypes: [] })
      await pusher.flush(5000)
      assert.equal(pusher.delivered, 1)
      assert.deepEqual(got.at(-1)!.labels, { __name__: 'svc', pod: 'a' })
      // Usage: Parca label names, no tenant, a known protocol.
      for (const [args, message] of [
        [['--protocol', 'parca', '--name', 'app{a.b=1}'], /"a\.b" is not a Parca label name/],
        [['--protocol', 'parca', '--name', 'app', '--tenant', 't'], /Parca's WriteRaw has no tenant/],
        [['--protocol', 'otlp', '--name', 'app'], /--protocol takes pyroscope or parca, not "otlp"/],
      ] as const) {
        const u = await cli(['push', doc, '--to', url, ...args])
        assert.equal(u.code, 2, u.stderr)
        assert.match(u.stderr, message)
      }
    } finally {
      server.close()
    }
  })

  test('usage errors: credentials in the URL, a bad name, no --name', async () => {
    for (const [args, message] of [
      [['--to', 'http://u:p@127.0.0.1:1', '--name', 'a'], /credentials do not go in the URL/],
      [['--to', 'http://127.0.0.1:1', '--name', 'a{b}'], /is not APP or APP\{key=value/],
      [['--to', 'http://127.0.0.1:1'], /--name APP is needed/],
    ] as const) {
      const r = await cli(['push', doc, ...args])
      assert.equal(r.code, 2)
      assert.match(r.stderr, message)
    }
  })
})

describe('continuous mode', () => {
  test('the queue is bounded: the oldest waiting window is dropped, failed windows are retried then dropped, flush gives up at its deadline', async () => {
    let n = 0
    const { server, url } = await receiver(() => (++n, 500))
    try {
      const lines: string[] = []
      const pusher = new WindowPusher({ url, name: 'app', timeoutMs: 2000 }, (l) => lines.push(l))
      const window = { pprof: new Uint8Array([1]), from: 1, until: 2, sampleRate: 100, sampleTypes: [] }
      for (let i = 0; i < QUEUE_LIMIT + 3; i++) pusher.add(window)
      // One in flight, QUEUE_LIMIT waiting: 2 were dropped for room.
      assert.equal(pusher.dropped, 2)
      await pusher.flush(1200)
      assert.equal(pusher.delivered, 0)
      assert.equal(pusher.dropped, QUEUE_LIMIT + 3)
      assert.ok(pusher.retried <= RETRIES)
      assert.ok(lines.some((l) => /push failed/.test(l)))
    } finally {
      server.close()
    }
  })


  /** The longest run of delivered windows each starting where the one before ended (to the millisecond). */
  function consecutive(windows: readonly Checked[]): number {
    let best = 1
    let run = 1
    for (let i = 1; i < windows.length; i++) {
      const prev = windows[i - 1]!
      const gap = windows[i]!.timeNanos - (prev.timeNanos + prev.durationNanos)
      // Never overlapping; consecutive when no window between them was dropped or empty.
      assert.ok(gap > -1e6, `window ${i} starts ${-gap} ns before the previous one ended`)
      run = Math.abs(gap) < 1e6 ? run + 1 : 1
      best = Math.max(best, run)
    }
    return best
  }

  /** The delivered windows, each read by the pprof parser; asserts the summary line and what every window holds. */
  function checkWindows(checker: string, r: { code: number | null; stderr: string }, got: readonly Received[], name: string, hot: string): { windows: Checked[]; dropped: number } {
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stderr, new RegExp(`windows of 2 s for ${name.replace(/[{}]/g, '\\$&')} .*: (\\d+) delivered, (\\d+) retried, (\\d+) dropped`))
    const [, delivered, retried, dropped] = /(\d+) delivered, (\d+) retried, (\d+) dropped/.exec(r.stderr)!.map(Number)
    assert.equal(delivered, got.length)
    // The server failed every other request: the summary counts what that cost.
    assert.ok(retried! + dropped! >= 1, r.stderr)
    assert.ok(got.length >= 4, `at least 4 windows delivered: ${r.stderr}`)
    const windows = got.map((g, i) => {
      assert.equal(g.url.searchParams.get('name'), name)
      assert.ok(Number(g.url.searchParams.get('from')) <= Number(g.url.searchParams.get('until')))
      const file = join(WORK, `window-${hot}-${i}.pb.gz`)
      writeFileSync(file, g.pprof)
      const c = check(checker, file)
      assert.ok(c.functions.some((f) => f.name === hot && f.cum[0]! > 0), `window ${i} holds ${hot}()`)
      return c
    })
    assert.ok(consecutive(windows) >= 4, `at least 4 consecutive windows: ${windows.map((w) => `${w.timeNanos}+${w.durationNanos}`).join(', ')}`)
    return { windows, dropped: dropped! }
  }

  test('--every 2s on a 9 s script against a server failing every other request: consecutive windows with the hot function', async (t) => {
    const tools = needGo(t)
    if (!tools) return
    const python = requirePython(t, 12)
    if (!python) return
    const { server, url, got } = await receiver((n) => (n % 2 === 0 ? 500 : 200))
    try {
      const script = join(WORK, 'hot.py')
      writeFileSync(script, 'import time\ndef hot():\n    s = 0\n    for i in range(100000):\n        s += i * i\n    return s\nend = time.time() + 9\nwhile time.time() < end:\n    hot()\n')
      const out = join(WORK, 'continuous.json')
      const r = await cli(['profile', '--python', python, '--every', '2s', '--push', url, '--name', 'hot{env=ci}', '--push-timeout', '5', '-q', '-o', out, script])
      checkWindows(tools.checker, r, got, 'hot{env=ci}', 'hot')
      // -o still holds the whole run: at least as many samples as every delivered window.
      const whole = readProfileDocument(readFileSync(out, 'utf8'), out)
      const windows = got.map((g) => importPprof(g.pprof).metadata.samples ?? 0).reduce((a, b) => a + b, 0)
      assert.ok((whole.metadata.samples ?? 0) >= windows)
    } finally {
      server.close()
    }
  })

  for (const minor of [14, 15]) {
    test(`3.${minor} --pid PID --every 2s --duration 9 against a server failing every other request: the running process's windows, consecutive, with the hot function`, async (t) => {
      const tools = needGo(t)
      if (!tools) return
      const python = requirePython(t, minor)
      if (!python) return
      const { server, url, got } = await receiver((n) => (n % 2 === 0 ? 500 : 200))
      const script = join(WORK, `attach-hot-${minor}.py`)
      writeFileSync(script, 'import sys, time\ndef planted_hot():\n    s = 0\n    for i in range(100000):\n        s += i * i\n    return s\nprint("ready", flush=True)\nend = time.time() + 120\nwhile time.time() < end:\n    planted_hot()\n')
      const target = spawn(python, [script], { stdio: ['ignore', 'pipe', 'inherit'] })
      try {
        await new Promise<void>((resolve, reject) => {
          target.stdout.on('data', (b: Buffer) => b.toString().includes('ready') && resolve())
          target.on('exit', (code) => reject(new Error(`the target ended (${code}) before it was ready`)))
        })
        const out = join(WORK, `attach-${minor}.json`)
        const env = { PYXRAY_PYTHON_PATHS: [process.env.PYXRAY_PYTHON_PATHS, nativeCacheBin()].filter(Boolean).join(delimiter) }
        const r = await cli(['profile', '--pid', String(target.pid), '--every', '2s', '--duration', '9', '--push', url, '--name', 'svc{env=ci}', '--push-timeout', '5', '-q', '-o', out], env)
        const { windows, dropped } = checkWindows(tools.checker, r, got, 'svc{env=ci}', 'planted_hot')
        assert.equal(target.exitCode, null, 'the target still runs after the sampler detached')
        // -o holds the whole attachment; with no window dropped the windows add up to it exactly.
        const whole = readProfileDocument(readFileSync(out, 'utf8'), out)
        assert.equal(whole.metadata.sampler, 'remote')
        assert.equal(whole.metadata.pid, target.pid)
        const wholeSamples = flattenProfile(whole).threads.reduce((a, th) => a + (th.nodes[0]!.samples ?? 0), 0)
        const windowSamples = windows.reduce((a, w) => a + w.totals[0]!, 0)
        if (dropped === 0) assert.equal(windowSamples, wholeSamples)
        else assert.ok(windowSamples <= wholeSamples)
      } finally {
        target.kill()
        server.close()
      }
    })
  }

  test('3.15 --pid --every: Ctrl-C (SIGINT to pyxray) and the target\'s exit each end it, the last window delivered (the windows add up to -o)', async (t) => {
    const tools = needGo(t)
    if (!tools) return
    const python = requirePython(t, 15)
    if (!python) return
    const script = join(WORK, 'attach-end.py')
    // Runs until the file named by its argument exists (or 120 s).
    writeFileSync(script, 'import os, sys, time\ndef planted_hot():\n    s = 0\n    for i in range(100000):\n        s += i * i\n    return s\nprint("ready", flush=True)\nend = time.time() + 120\nwhile time.time() < end and not os.path.exists(sys.argv[1]):\n    planted_hot()\n')
    const env = cliEnv({ PYXRAY_PYTHON_PATHS: [process.env.PYXRAY_PYTHON_PATHS, nativeCacheBin()].filter(Boolean).join(delimiter) })
    /** Starts a target, attaches continuous mode to it; once a window arrived, `interrupt` sends SIGINT to pyxray, else the target is told to end. */
    const run = async (interrupt: boolean) => {
      const { server, url, got } = await receiver(() => 200)
      const stopFile = join(WORK, `attach-end-${interrupt}.stop`)
      const target = spawn(python, [script, stopFile], { stdio: ['ignore', 'pipe', 'inherit'] })
      try {
        await new Promise<void>((resolve, reject) => {
          target.stdout.on('data', (b: Buffer) => b.toString().includes('ready') && resolve())
          target.on('exit', (code) => reject(new Error(`the target ended (${code}) before it was ready`)))
        })
        const child = spawn(process.execPath, ['--import', CLI[0]!, CLI[1]!, 'profile', '--pid', String(target.pid), '--every', '1s', '--push', url, '--name', 'svc', '--push-timeout', '5', '-q', '-o', join(WORK, `attach-end-${interrupt}.json`)], { cwd: WORK, env })
        let stderr = ''
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
        const poll = setInterval(() => {
          if (got.length >= 1) {
            clearInterval(poll)
            if (interrupt) child.kill('SIGINT')
            else writeFileSync(stopFile, '')
          }
        }, 50)
        const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
        clearInterval(poll)
        return { code, stderr, got, targetRuns: target.exitCode === null && target.signalCode === null }
      } finally {
        target.kill()
        server.close()
      }
    }
    const [stopped, ended] = await Promise.all([run(true), run(false)])
    for (const [what, r, interrupt] of [['SIGINT', stopped, true], ['the target\'s exit', ended, false]] as const) {
      assert.equal(r.code, 0, `${what}: ${r.stderr}`)
      const m = /(\d+) windows? of 1 s for svc .*: (\d+) delivered, 0 retried, 0 dropped/.exec(r.stderr)
      assert.ok(m, `${what}: ${r.stderr}`)
      assert.equal(Number(m[2]), r.got.length)
      // Everything sampled was delivered, the last window (cut by the end, not by the clock) too:
      // the windows add up to the whole attachment (-o) exactly.
      const out = join(WORK, `attach-end-${interrupt}.json`)
      const whole = flattenProfile(readProfileDocument(readFileSync(out, 'utf8'), out)).threads.reduce((a, th) => a + (th.nodes[0]!.samples ?? 0), 0)
      const windows: Checked[] = r.got.map((g, i): Checked => {
        const file = join(WORK, `attach-end-${interrupt}-${i}.pb.gz`)
        writeFileSync(file, g.pprof)
        return check(tools.checker, file)
      })
      assert.ok(windows[0]!.functions.some((f) => f.name === 'planted_hot'), `${what}: the first window holds planted_hot()`)
      assert.equal(windows.reduce((a, w) => a + w.totals[0]!, 0), whole, `${what}: the windows add up to the whole run`)
    }
    assert.equal(stopped.targetRuns, true, 'Ctrl-C to pyxray stops the sampler, not the target')
  })

  test('script: Ctrl-C (SIGINT to pyxray) ends the program and the last window is delivered (the windows add up to -o)', async (t) => {
    const tools = needGo(t)
    if (!tools) return
    const python = requirePython(t, 12)
    if (!python) return
    const { server, url, got } = await receiver(() => 200)
    try {
      const script = join(WORK, 'hot-forever.py')
      writeFileSync(script, 'import time\ndef hot():\n    s = 0\n    for i in range(100000):\n        s += i * i\n    return s\nend = time.time() + 120\nwhile time.time() < end:\n    hot()\n')
      const out = join(WORK, 'interrupted.json')
      const child = spawn(process.execPath, ['--import', CLI[0]!, CLI[1]!, 'profile', '--python', python, '--every', '1s', '--push', url, '--name', 'hot', '--push-timeout', '5', '-q', '-o', out, script], { cwd: WORK, env: cliEnv() })
      let stderr = ''
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
      const poll = setInterval(() => {
        if (got.length >= 1) {
          clearInterval(poll)
          child.kill('SIGINT')
        }
      }, 50)
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
      clearInterval(poll)
      assert.equal(code, 130, `the program's exit code (KeyboardInterrupt): ${stderr}`)
      const m = /(\d+) windows? of 1 s for hot .*: (\d+) delivered, 0 retried, 0 dropped/.exec(stderr)
      assert.ok(m, stderr)
      assert.equal(Number(m[2]), got.length)
      const doc = readProfileDocument(readFileSync(out, 'utf8'), out)
      assert.equal(doc.metadata.partial, true)
      const whole = flattenProfile(doc).threads.reduce((a, th) => a + (th.nodes[0]!.samples ?? 0), 0)
      const windows = got.map((g, i) => {
        const file = join(WORK, `interrupted-${i}.pb.gz`)
        writeFileSync(file, g.pprof)
        return check(tools.checker, file)
      })
      assert.ok(windows[0]!.functions.some((f) => f.name === 'hot'))
      assert.equal(windows.reduce((a, w) => a + w.totals[0]!, 0), whole, 'the windows add up to the whole run')
    } finally {
      server.close()
    }
  })
})
