/**
 * `pyxray import` (src/profile/import, src/cli/import.ts): other tools' profiles as pyxray documents.
 *
 * - Tachyon (CPython 3.15's python -m profiling.sampling) on a program with a planted hot
 *   function: one recorded run (--binary --compression none, all threads), replayed by Tachyon into
 *   --pstats, --collapsed and --jsonl; each file imported, and the per-function sample counts
 *   compared with Tachyon's own (its pstats, summed per function by 3.15 itself). report, diff
 *   (and its gate), export read the imported documents.
 * - Hand-written folded stacks in the spellings of py-spy, perf, austin, Tachyon and plain text
 *   (test/fixtures/import), read into the exact trees they describe.
 * - Constructed Tachyon binary files covering every record encoding, and hostile inputs of every
 *   format: a typed error with a code, on one line, exit 2; nothing hangs or grows with the counts.
 */
import assert from 'node:assert/strict'
import { type SpawnSyncReturns, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { after, describe, test } from 'node:test'
import { writeMarshal, type PyObject } from '../src/marshal/index.js'
import { readProfileDocument, toProfileJson, type ProfileDocument } from '../src/profile/document.js'
import { flatTable } from '../src/profile/flat.js'
import { detectFormat, ImportError, importProfile } from '../src/profile/import/index.js'
import { toCollapsed } from '../src/profile/export/index.js'
import { buildTrees } from '../src/profile/model.js'
import { buildReport } from '../src/profile/report.js'
import { makeDoc } from './profile-docs.js'
import { requirePython } from './pyenv.js'

const ROOT = join(import.meta.dirname, '..')
const MAIN = join(ROOT, 'src', 'cli', 'main.ts')
const FIXTURES = join(import.meta.dirname, 'fixtures', 'import')
const WORK = mkdtempSync(join(tmpdir(), 'pyxray-import-'))
after(() => rmSync(WORK, { recursive: true, force: true }))

function pyxray(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8', cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } })
}

/** A document through its JSON text and the schema-checking reader, as every consumer reads it. */
function roundTrip(doc: ProfileDocument): ProfileDocument {
  return readProfileDocument(toProfileJson(doc), 'imported')
}

/** Per function `file\0name`: [self samples, total samples] (times / interval; recursion counted once). */
function perFunction(doc: ProfileDocument, fileOf: (f: string) => string = (f) => f): Map<string, [number, number]> {
  const interval = doc.metadata.intervalNs!
  const out = new Map<string, [number, number]>()
  for (const row of flatTable(buildTrees(doc).map((t) => t.root))) {
    const key = `${fileOf(row.fn.file)}\0${row.fn.qualname}`
    const [s, t] = out.get(key) ?? [0, 0]
    out.set(key, [s + row.selfNs / interval, t + row.totalNs / interval])
  }
  return out
}

/** Folded lines of a document's threads (`thread|a;b;c self`), sorted: what a tree holds, readably. */
function folded(doc: ProfileDocument): string[] {
  const lines: string[] = []
  for (const t of doc.threads) {
    const todo: [typeof t.root, string[]][] = [[t.root, []]]
    while (todo.length > 0) {
      const [n, path] = todo.pop()!
      const here = n.frame === null ? path : [...path, doc.frames[n.frame]!.qualname]
      const own = n.samples !== undefined ? n.samples - n.children.reduce((a, c) => a + c.samples!, 0) : n.selfNs
      if (own > 0) lines.push(`${t.name}|${here.join(';')} ${own}`)
      for (const c of n.children) todo.push([c, here])
    }
  }
  return lines.sort()
}

function importError(bytes: Uint8Array | string): ImportError {
  try {
    importProfile(typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes)
  } catch (e) {
    assert.ok(e instanceof ImportError, `expected an ImportError, got ${String(e)}`)
    assert.doesNotMatch(e.message, /\n/)
    return e
  }
  assert.fail('expected an ImportError')
}

// ---------------------------------------------------------------------------------------------
// Tachyon, live

const PROGRAM = `import threading

def planted_hot(n):
    s = 0
    for i in range(n):
        s += i * i % 7
    return s

def lukewarm(n):
    return sum(range(n))

def background():
    x = 0
    for i in range(300000):
        x += i
    return x

def main():
    t = threading.Thread(target=background, name="bg")
    t.start()
    total = 0
    for _ in range(12):
        total += planted_hot(60000)
        total += lukewarm(20000)
    t.join()
    print(total)

main()
`

/** Tachyon's own per-function counts: its pstats summed per (file, function) by CPython 3.15 itself. */
const TACHYON_TOTALS = `import marshal, sys, json
stats = marshal.load(open(sys.argv[1], "rb"))
out = {}
for key, value in stats.items():
    if key == ("__sampled__",):
        continue
    file, line, func = key
    direct, cumulative = value[0], value[1]
    s, t = out.get(file + "\\0" + func, (0, 0))
    out[file + "\\0" + func] = (s + direct, t + cumulative)
print(json.dumps(out))
`

/** Tachyon's own direct samples per (file, line, function) of its pstats (lines of Python code only). */
const TACHYON_LINES = `import marshal, sys, json
stats = marshal.load(open(sys.argv[1], "rb"))
out = {}
for key, value in stats.items():
    if key == ("__sampled__",) or key[0] == "~" or key[1] <= 0 or value[0] == 0:
        continue
    out[key[0] + "\\0" + key[2] + "\\0" + str(key[1])] = out.get(key[0] + "\\0" + key[2] + "\\0" + str(key[1]), 0) + value[0]
print(json.dumps(out))
`

describe('Tachyon files of one run (CPython 3.15)', () => {
  const files: Record<string, string> = {}
  let own: Map<string, [number, number]> | undefined
  let ownLines: Record<string, number> | undefined

  test('record and replay', (t) => {
    const python = requirePython(t, 15)
    if (!python) return
    writeFileSync(join(WORK, 'prog.py'), PROGRAM)
    files.binary = join(WORK, 'run.bin')
    const run = spawnSync(python, ['-m', 'profiling.sampling', 'run', '-a', '--binary', '--compression', 'none', '-o', files.binary, 'prog.py'], { cwd: WORK, encoding: 'utf8' })
    assert.equal(run.status, 0, run.stderr)
    for (const format of ['pstats', 'collapsed', 'jsonl', 'gecko']) {
      files[format] = join(WORK, `run.${format}`)
      const r: SpawnSyncReturns<string> = spawnSync(python, ['-m', 'profiling.sampling', 'replay', `--${format}`, '-o', files[format]!, files.binary], { cwd: WORK, encoding: 'utf8' })
      assert.equal(r.status, 0, r.stderr)
    }
    const totals = spawnSync(python, ['-c', TACHYON_TOTALS, files.pstats!], { encoding: 'utf8' })
    assert.equal(totals.status, 0, totals.stderr)
    own = new Map(Object.entries(JSON.parse(totals.stdout) as Record<string, [number, number]>))
    const lines = spawnSync(python, ['-c', TACHYON_LINES, files.pstats!], { encoding: 'utf8' })
    assert.equal(lines.status, 0, lines.stderr)
    ownLines = JSON.parse(lines.stdout) as Record<string, number>
    const samples = [...own.values()].reduce((a, [s]) => a + s, 0)
    console.log(`Tachyon run: ${samples} samples, ${own.size} functions, planted_hot ${own.get(`${join(WORK, 'prog.py')}\0planted_hot`)?.join('/')} (self/total)`)
  })

  const check = (t: { skip(reason: string): void }, format: string, fileOf: (f: string) => string, totals: boolean): ProfileDocument | undefined => {
    if (!own) {
      t.skip('no Tachyon run (see the first test)')
      return undefined
    }
    const bytes = readFileSync(files[format]!)
    const doc = roundTrip(importProfile(bytes))
    assert.equal(doc.metadata.mode, 'sample')
    assert.equal(doc.metadata.source?.tool, 'tachyon')
    const mine = perFunction(doc, fileOf)
    const theirs = new Map<string, [number, number]>()
    for (const [k, [s, tot]] of own) {
      const [file, func] = k.split('\0') as [string, string]
      const key = `${fileOf(file === '~' ? '<built-in>' : file)}\0${func}`
      const [a, b] = theirs.get(key) ?? [0, 0]
      theirs.set(key, [a + s, b + tot])
    }
    const selfOnly = (m: Map<string, [number, number]>) => new Map([...m].filter(([, [s]]) => s > 0).map(([k, [s]]) => [k, s]))
    assert.deepEqual(selfOnly(mine), selfOnly(theirs), `${format}: self samples per function`)
    if (totals) assert.deepEqual(mine, theirs, `${format}: self and total samples per function`)
    const hottest = [...mine].sort((a, b) => b[1][0] - a[1][0])[0]![0]
    assert.equal(hottest.split('\0')[1], 'planted_hot')
    return doc
  }

  test('--binary: per-function self and total samples equal Tachyon\'s; threads apart, the main one first', (t) => {
    const doc = check(t, 'binary', (f) => f, true)
    if (!doc) return
    assert.equal(doc.metadata.source?.format, 'tachyon-binary')
    assert.match(doc.metadata.python.version, /^3\.15\.\d+$/)
    assert.equal(doc.metadata.intervalNs, 1_000_000)
    assert.ok(doc.threads.length >= 2, 'the main thread and bg')
    assert.equal(doc.threads[0]!.main, true)
    assert.equal(doc.threads[0]!.name, 'MainThread')
    assert.ok(!doc.frames.some((f) => f.file.endsWith('_sync_coordinator.py')), "Tachyon's own frames are left out, as its collectors do")
    // the innermost frame's line of every sample: the same counts per line as Tachyon's pstats
    const mine: Record<string, number> = {}
    for (const th of doc.threads) {
      const todo = [th.root]
      while (todo.length > 0) {
        const n = todo.pop()!
        todo.push(...n.children)
        const f = n.frame === null ? undefined : doc.frames[n.frame]!
        for (const [line, count] of n.lines ?? []) {
          const key = `${f!.file}\0${f!.qualname}\0${line}`
          mine[key] = (mine[key] ?? 0) + count
        }
      }
    }
    assert.deepEqual(mine, ownLines, 'samples per line')
  })
  test('--collapsed: the same per function (files by base name)', (t) => {
    const doc = check(t, 'collapsed', (f) => basename(f), true)
    if (doc) assert.equal(doc.metadata.source?.format, 'collapsed')
  })
  test('--pstats: the same per function (the tree rebuilt from the caller edges)', (t) => {
    const doc = check(t, 'pstats', (f) => f, true)
    if (doc) assert.equal(doc.metadata.source?.format, 'tachyon-pstats')
  })
  test('--gecko: the same per function (files by base name)', (t) => {
    const doc = check(t, 'gecko', (f) => basename(f), true)
    if (doc) assert.equal(doc.metadata.source?.format, 'gecko')
  })
  test('--jsonl: self samples per function', (t) => {
    const doc = check(t, 'jsonl', (f) => f, false)
    if (doc) assert.equal(doc.metadata.source?.format, 'tachyon-jsonl')
  })

  test('--binary --opcodes: each sample\'s instruction, found by compiling the source with 3.15 (pyxray import)', (t) => {
    const python = requirePython(t, 15)
    if (!python) return
    // nearly all the time in one BINARY_OP on big integers (line 6)
    writeFileSync(join(WORK, 'binop.py'), 'def work(n):\n    a = 7 ** 40000\n    b = 3 ** 40000\n    x = 0\n    for _ in range(n):\n        x = a * b\n        x = 1\n    return x\n\n\nwork(150)\n')
    const bin = join(WORK, 'binop.bin')
    const run = spawnSync(python, ['-m', 'profiling.sampling', 'run', '--opcodes', '--binary', '--compression', 'none', '-o', bin, 'binop.py'], { cwd: WORK, encoding: 'utf8' })
    assert.equal(run.status, 0, run.stderr)
    const out = join(WORK, 'binop.json')
    const r = pyxray('import', bin, '-o', out)
    assert.equal(r.status, 0, r.stderr)
    const doc = readProfileDocument(readFileSync(out, 'utf8'), out)
    assert.ok(!doc.metadata.warnings.some((w) => /no Python/.test(w)), doc.metadata.warnings.join('; '))
    const ins = buildReport(doc, { view: 'instructions', sort: 'self', top: 1, minPercent: 0, hide: [], name: out })
    const first = ins.instructions![0]!
    assert.deepEqual([first.function.qualname, first.opname, first.argrepr, first.line, first.col, first.endCol], ['work', 'BINARY_OP', '*', 6, 12, 17], JSON.stringify(first))
    assert.equal(ins.note, undefined)
    // every sample with an instruction is also a sample of its line
    const lines = buildReport(doc, { view: 'lines', sort: 'self', top: 1, minPercent: 0, hide: [], name: out })
    assert.equal(lines.lines![0]!.line, 6)
    assert.ok(first.samples <= lines.lines![0]!.samples)
  })

  test("zstd-compressed --binary (Tachyon's default): decompressed by Python 3.15's compression.zstd, the same totals", (t) => {
    const python = requirePython(t, 15)
    if (!python) return
    const zstd = spawnSync(python, ['-c', 'import _remote_debugging as r; print(r.zstd_available())'], { encoding: 'utf8' })
    if (zstd.stdout.trim() !== 'True') return t.skip('this CPython 3.15 was built without zstd')
    const bin = join(WORK, 'z.bin')
    const run = spawnSync(python, ['-m', 'profiling.sampling', 'run', '--binary', '-o', bin, 'prog.py'], { cwd: WORK, encoding: 'utf8' })
    assert.equal(run.status, 0, run.stderr)
    assert.equal(readFileSync(bin).readUInt32LE(56), 1, 'compressed with zstd')
    const pstats = join(WORK, 'z.pstats')
    const replay = spawnSync(python, ['-m', 'profiling.sampling', 'replay', '--pstats', '-o', pstats, bin], { cwd: WORK, encoding: 'utf8' })
    assert.equal(replay.status, 0, replay.stderr)
    const totals = spawnSync(python, ['-c', TACHYON_TOTALS, pstats], { encoding: 'utf8' })
    const theirs = new Map(Object.entries(JSON.parse(totals.stdout) as Record<string, [number, number]>))
    const out = join(WORK, 'z.json')
    const r = pyxray('import', bin, '-o', out)
    assert.equal(r.status, 0, r.stderr)
    const mine = perFunction(readProfileDocument(readFileSync(out, 'utf8'), out))
    for (const [k, v] of theirs) if (v[0] > 0) assert.deepEqual(mine.get(k), v, k)
    // damaged compressed data: one line, exit 2
    const bytes = readFileSync(bin)
    for (let i = 70; i < 90; i++) bytes[i] = 0xee
    writeFileSync(join(WORK, 'z-bad.bin'), bytes)
    const bad = pyxray('import', join(WORK, 'z-bad.bin'), '-o', join(WORK, 'z-bad.json'))
    assert.equal(bad.status, 2)
    assert.match(bad.stderr, /^pyxray: .*z-bad\.bin: .*\[IMPORT_CORRUPT\]\n$/)
  })

  test('the CLI: import, report, diff (and its gate), export, several files as runs', (t) => {
    if (!own) return t.skip('no Tachyon run (see the first test)')
    const bin = join(WORK, 'bin.json')
    const ps = join(WORK, 'ps.json')
    let r = pyxray('import', files.binary!, '-o', bin)
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stderr, /tachyon tachyon-binary, \d+ samples/)
    r = pyxray('import', files.pstats!, '-o', ps)
    assert.equal(r.status, 0, r.stderr)
    r = pyxray('report', bin, '-n', '3')
    assert.equal(r.status, 0, r.stderr)
    const firstRow = r.stdout.split('\n').find((l) => /\d+\s+\S+\s+\S*prog\.py/.test(l))
    assert.match(firstRow ?? '', /planted_hot/)
    r = pyxray('diff', bin, ps, '--fail-on', 'regression')
    assert.equal(r.status, 0, r.stdout + r.stderr)
    r = pyxray('export', bin, '--to', 'speedscope', '-o', join(WORK, 'bin.speedscope.json'))
    assert.equal(r.status, 0, r.stderr)
    const runs = join(WORK, 'runs.json')
    r = pyxray('import', files.binary!, files.collapsed!, '-o', runs)
    assert.equal(r.status, 0, r.stderr)
    const doc = readProfileDocument(readFileSync(runs, 'utf8'), runs)
    assert.equal(doc.runs?.length, 2)
  })
})

// ---------------------------------------------------------------------------------------------
// Folded stacks of other tools (hand-written fixtures)

describe('collapsed stacks', () => {
  const load = (name: string, intervalUs?: number) => roundTrip(importProfile(readFileSync(join(FIXTURES, name)), intervalUs ? { intervalUs } : {}))

  test('py-spy --format raw: process and thread frames become threads, function (file:line) frames functions', () => {
    const doc = load('py-spy-raw.txt', 10_000)
    assert.deepEqual(doc.metadata.source, { format: 'collapsed', tool: 'py-spy' })
    assert.equal(doc.metadata.intervalNs, 10_000_000)
    assert.deepEqual(doc.metadata.warnings, [])
    assert.deepEqual(folded(doc), [
      'process 4242:"python app.py";thread (0x7F2B1A000700)|run;worker 5',
      'process 4242:"python app.py";thread (0x7F2B1C9F4740)|<module>;main;compute 60',
      'process 4242:"python app.py";thread (0x7F2B1C9F4740)|<module>;main;io_wait 10',
    ])
    assert.equal(doc.threads[0]!.id, 0x7f2b1c9f4740)
    const fns = perFunction(doc)
    assert.deepEqual(fns.get('app.py\0compute'), [60, 60])
    assert.equal(doc.frames.find((f) => f.qualname === 'run')?.library, true)
    assert.equal(doc.threads[0]!.root.totalNs, 70 * 10_000_000)
  })

  test('stackcollapse-perf: py:: frames are Python functions, C symbols native frames, the comm the thread', () => {
    const doc = load('perf-folded.txt')
    assert.deepEqual(doc.metadata.source, { format: 'collapsed', tool: 'perf' })
    assert.match(doc.metadata.warnings[0]!, /does not record the sampling interval.*1 ms/)
    assert.equal(doc.threads.length, 1)
    assert.equal(doc.threads[0]!.name, 'python3.12')
    const compute = doc.frames.find((f) => f.qualname === 'compute')!
    assert.deepEqual(compute, { file: '/app/app.py', firstlineno: 0, qualname: 'compute', kind: 'python' })
    const syscall = doc.frames.find((f) => f.qualname === 'entry_SYSCALL_64')!
    assert.equal(syscall.kind, 'builtin')
    assert.equal(syscall.module, 'kernel')
    assert.deepEqual(perFunction(doc).get('/app/app.py\0compute'), [25, 55])
  })

  test('austin: the header gives the interval and mode; values are µs of time, not counts', () => {
    const doc = load('austin.txt')
    assert.deepEqual(doc.metadata.source, { format: 'collapsed', tool: 'austin' })
    assert.equal(doc.metadata.intervalNs, 100_000)
    assert.equal(doc.metadata.durationNs, 7_000_000)
    assert.equal(doc.metadata.samples, undefined)
    assert.equal(doc.threads[0]!.root.totalNs, 7_000_000)
    assert.equal(doc.threads[0]!.root.samples, undefined)
    const fns = perFunction(doc)
    assert.deepEqual(fns.get('/app/app.py\0compute'), [60, 60])
  })

  test('Tachyon --collapsed: tid frames are threads, <GC> a synthetic frame', () => {
    const doc = load('tachyon-collapsed.txt')
    assert.deepEqual(doc.metadata.source, { format: 'collapsed', tool: 'tachyon' })
    assert.deepEqual(folded(doc), ['Thread-77|main 1', 'Thread-77|main;compute 5', 'Thread-78|<GC> 2'])
    assert.equal(doc.frames.find((f) => f.qualname === '<GC>')?.module, 'gc')
  })

  test('plain folded text: names without files', () => {
    const doc = load('folded.txt')
    assert.deepEqual(doc.metadata.source, { format: 'collapsed', tool: 'unknown' })
    assert.deepEqual(folded(doc), ['MainThread|main;compute 3', 'MainThread|main;compute;inner 7', 'MainThread|main;idle 2'])
    assert.equal(doc.frames[0]!.file, '<unknown>')
  })

  test("pyxray's own export --to collapsed reads back: threads by their [name] frames, self µs per path", () => {
    const original = makeDoc([['main', 1, 9000, [['work', 3, 6000, [['builtin:len', 5, 1000]]], ['other', 1, 2000]]]])
    const text = toCollapsed(original)
    const doc = roundTrip(importProfile(new TextEncoder().encode(text), { intervalUs: 1 }))
    assert.deepEqual(doc.metadata.source, { format: 'collapsed', tool: 'unknown' })
    const self = (d: ProfileDocument) => new Map(flatTable(buildTrees(d).map((t) => t.root)).map((r) => [r.fn.qualname, r.selfNs]))
    assert.deepEqual(self(doc), self(original))
  })

  test('the format is told by content, not by name', () => {
    const names = ['py-spy-raw.txt', 'perf-folded.txt', 'austin.txt', 'folded.txt', 'tachyon-collapsed.txt']
    for (const n of names) assert.equal(detectFormat(readFileSync(join(FIXTURES, n))), 'collapsed', n)
    assert.equal(detectFormat(new TextEncoder().encode('{"type":"meta","v":0,"sample_interval_usec":1000}\n')), 'tachyon-jsonl')
    assert.equal(detectFormat(new TextEncoder().encode('print("hello")\n')), undefined)
  })
})

// ---------------------------------------------------------------------------------------------
// Tachyon's binary format, constructed

/** Little-endian bytes of a Tachyon binary file (format version 1; see src/profile/import/tachyon-binary.ts). */
class BinaryFile {
  private readonly records: number[] = []
  private readonly strings: string[] = []
  private readonly frames: number[][] = []
  samples = 0
  compression = 0
  version = 1

  string(s: string): number {
    const i = this.strings.indexOf(s)
    if (i >= 0) return i
    this.strings.push(s)
    return this.strings.length - 1
  }
  frame(file: string, func: string, line: number): number {
    this.frames.push([...varint(this.string(file)), ...varint(this.string(func)), ...varint(zigzag(line)), 0, ...varint(zigzag(-1)), ...varint(zigzag(0)), 255])
    return this.frames.length - 1
  }
  private head(tid: number, encoding: number): void {
    const b = new Uint8Array(12)
    new DataView(b.buffer).setBigUint64(0, BigInt(tid), true)
    this.records.push(...b, encoding)
  }
  full(tid: number, status: number, stack: number[]): this {
    this.head(tid, 1)
    this.records.push(...varint(1000), status, ...varint(stack.length), ...stack.flatMap(varint))
    this.samples++
    return this
  }
  repeat(tid: number, count: number, status = 0x24): this {
    this.head(tid, 0)
    this.records.push(...varint(count))
    for (let i = 0; i < count; i++) this.records.push(...varint(1000), status)
    this.samples += count
    return this
  }
  suffix(tid: number, shared: number, added: number[], status = 0x24): this {
    this.head(tid, 2)
    this.records.push(...varint(1000), status, ...varint(shared), ...varint(added.length), ...added.flatMap(varint))
    this.samples++
    return this
  }
  popPush(tid: number, pop: number, push: number[], status = 0x24): this {
    this.head(tid, 3)
    this.records.push(...varint(1000), status, ...varint(pop), ...varint(push.length), ...push.flatMap(varint))
    this.samples++
    return this
  }
  /** Raw bytes among the records (hostile files). */
  raw(...bytes: number[]): this {
    this.records.push(...bytes)
    return this
  }
  bytes(): Uint8Array {
    const strings = this.strings.flatMap((s) => {
      const b = new TextEncoder().encode(s)
      return [...varint(b.length), ...b]
    })
    const frames = this.frames.flat()
    const stringsAt = 64 + this.records.length
    const framesAt = stringsAt + strings.length
    const out = new Uint8Array(framesAt + frames.length + 32)
    const v = new DataView(out.buffer)
    out.set([0x48, 0x43, 0x41, 0x54])
    v.setUint32(4, this.version, true)
    out.set([3, 15, 2], 8)
    v.setBigUint64(20, 1000n, true)
    v.setUint32(28, this.samples, true)
    v.setBigUint64(40, BigInt(stringsAt), true)
    v.setBigUint64(48, BigInt(framesAt), true)
    v.setUint32(56, this.compression, true)
    out[60] = 0x49
    out.set(this.records, 64)
    out.set(strings, stringsAt)
    out.set(frames, framesAt)
    v.setUint32(out.length - 32, this.strings.length, true)
    v.setUint32(out.length - 28, this.frames.length, true)
    return out
  }
}

function varint(n: number): number[] {
  const out: number[] = []
  do {
    let b = n % 128
    n = Math.floor(n / 128)
    if (n > 0) b |= 0x80
    out.push(b)
  } while (n > 0)
  return out
}
const zigzag = (n: number): number => (n >= 0 ? 2 * n : -2 * n - 1)

describe('Tachyon binary, constructed', () => {
  test('full, repeat, suffix and pop-push records rebuild each thread\'s stacks', () => {
    const f = new BinaryFile()
    const mod = f.frame('/app/a.py', '<module>', 9)
    const main = f.frame('/app/a.py', 'main', 5)
    const a = f.frame('/app/a.py', 'a', 2)
    const b = f.frame('/app/a.py', 'b', 3)
    const gc = f.frame('~', '<GC>', 0)
    f.full(1, 0x24, [a, main, mod]) // innermost first
      .repeat(1, 3)
      .suffix(1, 2, [b]) // keep main, <module>; b on top
      .popPush(1, 1, [gc, a]) // drop b; a then <GC> on top
      .full(2, 0x04, [b])
      .popPush(2, 1, [], 0x04)
    const doc = roundTrip(importProfile(f.bytes()))
    assert.deepEqual(doc.metadata.warnings, [])
    assert.equal(doc.metadata.samples, 8)
    assert.equal(doc.threads[0]!.name, 'MainThread')
    assert.deepEqual(folded(doc), ['MainThread|<module>;main;a 4', 'MainThread|<module>;main;a;<GC> 1', 'MainThread|<module>;main;b 1', 'Thread-2| 1', 'Thread-2|b 1'])
    // the empty stack of thread 2's last sample is a sample of its root
    assert.equal(doc.threads[1]!.root.samples, 2)
  })

  const hostile: [string, (f: BinaryFile) => Uint8Array, string, RegExp][] = [
    ['zstd-compressed', (f) => ((f.compression = 1), f.full(1, 0x24, [f.frame('/a.py', 'f', 1)]).bytes()), 'IMPORT_UNSUPPORTED', /zstd.*--compression none/],
    ['a newer format version', (f) => ((f.version = 2), f.full(1, 0x24, [f.frame('/a.py', 'f', 1)]).bytes()), 'IMPORT_UNSUPPORTED', /format version 2/],
    ['a frame index out of range', (f) => f.full(1, 0x24, [f.frame('/a.py', 'f', 1), 7]).bytes(), 'IMPORT_CORRUPT', /frame index 7 of 1/],
    ['a repeat count larger than the bytes left', (f) => (f.frame('/a.py', 'f', 1), f.raw(1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f).bytes()), 'IMPORT_CORRUPT', /repeat of 268435455 samples/],
    ['a stack deeper than its bytes', (f) => (f.frame('/a.py', 'f', 1), f.raw(1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0x24, 0xff, 0xff, 0x03).bytes()), 'IMPORT_CORRUPT', /stack of depth 65535/],
    ['a suffix sharing more than the stack', (f) => f.suffix(1, 5, [f.frame('/a.py', 'f', 1)]).bytes(), 'IMPORT_CORRUPT', /keeping 5 of 0 frames/],
    ['an unknown record encoding', (f) => (f.frame('/a.py', 'f', 1), f.raw(1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9).bytes()), 'IMPORT_CORRUPT', /unknown record encoding 9/],
    ['a varint that never ends', (f) => (f.frame('/a.py', 'f', 1), f.raw(1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff).bytes()), 'IMPORT_CORRUPT', /varint longer than 8 bytes/],
    ['no samples', (f) => (f.frame('/a.py', 'f', 1), f.bytes()), 'IMPORT_EMPTY', /no samples/],
  ]
  for (const [name, make, code, message] of hostile) {
    test(`hostile: ${name}`, () => {
      const e = importError(make(new BinaryFile()))
      assert.equal(e.code, code)
      assert.match(e.message, message)
    })
  }

  test('hostile: truncated files and lying table offsets', () => {
    const good = new BinaryFile()
    good.full(1, 0x24, [good.frame('/a.py', 'f', 1)])
    const bytes = good.bytes()
    for (const n of [3, 40, 90, bytes.length - 1]) assert.match(importError(bytes.slice(0, n)).code, /IMPORT_(CORRUPT|UNKNOWN_FORMAT)/, `cut at ${n}`)
    const lying = bytes.slice()
    new DataView(lying.buffer).setBigUint64(40, 2n ** 40n, true)
    assert.equal(importError(lying).code, 'IMPORT_CORRUPT')
    const counts = bytes.slice()
    new DataView(counts.buffer).setUint32(counts.length - 32, 0xffffffff, true)
    assert.match(importError(counts).message, /4294967295 strings/)
  })
})

// ---------------------------------------------------------------------------------------------
// Hostile inputs of the other formats

const str = (value: string): PyObject => ({ type: 'str', value, code: 0x75, ref: false })
const int = (value: number | bigint): PyObject => ({ type: 'int', value: BigInt(value), code: 0x69, ref: false })
const tuple = (...items: PyObject[]): PyObject => ({ type: 'tuple', items, code: 0x28, ref: false })
const dict = (...entries: [PyObject, PyObject][]): PyObject => ({ type: 'dict', entries, code: 0x7b, ref: false })
const float = (value: number): PyObject => ({ type: 'float', value, code: 0x67, ref: false })
const TRUE: PyObject = { type: 'bool', value: true, code: 0x54, ref: false }
const loc = (file: string, line: number, func: string) => tuple(str(file), int(line), str(func))
const entry = (direct: number, cumulative: number, callers: [PyObject, number][]) => tuple(int(direct), int(cumulative), float(0), float(0), dict(...callers.map(([c, w]) => [c, int(w)] as [PyObject, PyObject])))

describe('pstats and jsonl, constructed', () => {
  test("pstats: a function called from two places keeps its self samples; recursion terminates", () => {
    const main = loc('/a.py', 5, 'main')
    const a = loc('/a.py', 10, 'a')
    const b = loc('/a.py', 20, 'b')
    const leaf = loc('/a.py', 30, 'leaf')
    const rec = loc('/a.py', 40, 'rec')
    const bytes = writeMarshal(
      dict(
        [tuple(str('__sampled__')), TRUE],
        [main, entry(1, 12, [])],
        [a, entry(0, 4, [[main, 4]])],
        [b, entry(1, 5, [[main, 5]])],
        [leaf, entry(8, 8, [[a, 4], [b, 4]])],
        [rec, entry(2, 2, [[main, 2], [rec, 3]])],
      ),
    )
    const doc = roundTrip(importProfile(bytes))
    const fns = perFunction(doc)
    assert.deepEqual(fns.get('/a.py\0leaf'), [8, 8])
    assert.deepEqual(fns.get('/a.py\0main'), [1, 12])
    assert.deepEqual(fns.get('/a.py\0b'), [1, 5])
    assert.deepEqual(fns.get('/a.py\0rec')?.[0], 2)
    assert.equal(doc.threads[0]!.root.samples, 12)
  })

  test("pstats: cProfile's (no __sampled__ marker) is refused; broken entries are corrupt", () => {
    assert.equal(importError(writeMarshal(dict([loc('/a.py', 1, 'f'), entry(1, 1, [])]))).code, 'IMPORT_UNSUPPORTED')
    const marked = (...e: [PyObject, PyObject][]) => writeMarshal(dict([tuple(str('__sampled__')), TRUE], ...e))
    assert.equal(importError(marked([loc('/a.py', 1, 'f'), entry(-1, 1, [])])).code, 'IMPORT_CORRUPT')
    assert.equal(importError(marked([loc('/a.py', 1, 'f'), entry(1, 1, [[loc('/b.py', 1, 'g'), 1]])])).code, 'IMPORT_CORRUPT')
    assert.equal(importError(marked([loc('/a.py', 1, 'f'), entry(0, 0, [])])).code, 'IMPORT_EMPTY')
    const cut = marked([loc('/a.py', 1, 'f'), entry(1, 1, [])])
    assert.equal(importError(cut.slice(0, cut.length - 3)).code, 'IMPORT_CORRUPT')
  })

  test('pstats: a self-recursive edge of a billion samples is stopped by the budget', () => {
    const f = loc('/a.py', 1, 'f')
    const e = importError(writeMarshal(dict([tuple(str('__sampled__')), TRUE], [f, entry(1, 1, [[f, 1_000_000_000]])])))
    assert.match(e.code, /IMPORT_LIMIT|IMPORT_CORRUPT/)
  })

  test('jsonl: records read, unknown ones ignored; bad ones are corrupt', () => {
    const lines = [
      { type: 'meta', v: 0, run_id: 'x', sample_interval_usec: 500, mode: 'cpu' },
      { type: 'string_table', v: 0, run_id: 'x', strings: [{ str_id: 0, value: '/a.py' }, { str_id: 1, value: 'f' }, { str_id: 2, value: 'g' }] },
      { type: 'frame_table', v: 0, run_id: 'x', frames: [{ frame_id: 0, path_str_id: 0, func_str_id: 1, line: 3 }, { frame_id: 1, path_str_id: 0, func_str_id: 1, line: 4 }, { frame_id: 2, path_str_id: 0, func_str_id: 2, line: 9 }] },
      { type: 'future', v: 7 },
      { type: 'agg', v: 0, run_id: 'x', kind: 'frame', scope: 'final', samples_total: 10, entries: [{ frame_id: 0, self: 3, cumulative: 3 }, { frame_id: 1, self: 4, cumulative: 4 }, { frame_id: 2, self: 3, cumulative: 10 }] },
      { type: 'end', v: 0, run_id: 'x', samples_total: 10 },
    ]
    const doc = roundTrip(importProfile(new TextEncoder().encode(lines.map((l) => JSON.stringify(l)).join('\n'))))
    assert.equal(doc.metadata.clock, 'cpu')
    assert.equal(doc.metadata.intervalNs, 500_000)
    assert.deepEqual(perFunction(doc).get('/a.py\0f'), [7, 7])
    const meta = JSON.stringify(lines[0])
    assert.equal(importError(`${meta}\n{"type":"agg","kind":"frame","entries":[{"frame_id":5,"self":1}]}\n`).code, 'IMPORT_CORRUPT')
    assert.equal(importError(`${meta}\n{"type":"agg","kind":"frame","entries":[{"frame_id":0,"self":-1}]}\n`).code, 'IMPORT_CORRUPT')
    assert.equal(importError(`${meta}\n${'['.repeat(200_000)}\n`).code, 'IMPORT_CORRUPT')
  })
})

describe('gecko, constructed', () => {
  const gecko = (stackPrefix: (number | null)[], samples: (number | null)[]) => ({
    meta: { interval: 0.5, version: 32, preprocessedProfileVersion: 57 },
    shared: { stringArray: ['main', 'f', '/a.py', '<GC>'] },
    threads: [
      {
        name: 'T',
        isMainThread: true,
        tid: 9,
        funcTable: { name: [0, 1, 3], fileName: [2, 2, null], resource: [null, null, null] },
        frameTable: { func: [0, 1, 2] },
        stackTable: { frame: stackPrefix.map((_, i) => i % 3), prefix: stackPrefix },
        samples: { stack: samples, weight: null },
      },
    ],
  })
  const bytes = (o: unknown) => new TextEncoder().encode(JSON.stringify(o))

  test('stacks resolve through their prefixes; a null stack is a sample of the root', () => {
    const doc = roundTrip(importProfile(bytes(gecko([null, 0, 0], [1, 1, 2, null]))))
    assert.deepEqual(doc.metadata.source, { format: 'gecko', tool: 'unknown' })
    assert.equal(doc.metadata.intervalNs, 500_000)
    assert.deepEqual(folded(doc), ['MainThread| 1', 'MainThread|main;<GC> 1', 'MainThread|main;f 2'])
  })
  test('hostile: a prefix cycle, an index out of range, a bad weight', () => {
    assert.match(importError(bytes(gecko([1, 0], [0]))).message, /prefix cycle/)
    assert.match(importError(bytes(gecko([null], [5]))).message, /not an index below 1/)
    const weighted = gecko([null], [0])
    ;(weighted.threads[0]!.samples as { weight: unknown }).weight = [-3]
    assert.equal(importError(bytes(weighted)).code, 'IMPORT_CORRUPT')
  })
})

describe('hostile text', () => {
  const cases: [string, string, RegExp][] = [
    ['a count past 2^53', 'main;f 99999999999999999999\n', /IMPORT_CORRUPT/],
    ['times past 2^53 ns', 'main;f 9007199254740991\n', /IMPORT_CORRUPT/],
    ['a line without a count', 'main;f 3\nmain;g\n', /IMPORT_CORRUPT/],
    ['only comments', '# nothing\n', /IMPORT_UNKNOWN_FORMAT/],
    ['binary noise', '\u0000\u0001\u0002garbage', /IMPORT_UNKNOWN_FORMAT/],
    ['austin memory mode', '# mode: memory\nP1;T0:1;/a.py:f:1 100\n', /IMPORT_UNSUPPORTED/],
  ]
  for (const [name, text, code] of cases) {
    test(name, () => assert.match(importError(text).code, code))
  }

  test('a deep stack costs its depth, once', () => {
    const deep = `${Array.from({ length: 100_000 }, (_, i) => `f${i % 7}`).join(';')} 1\n`
    const doc = importProfile(new TextEncoder().encode(deep))
    assert.equal(doc.metadata.samples, 1)
    assert.equal(roundTrip(doc).frames.length, 7)
  })

  test('the CLI: one line with the file and the code, exit 2; the output is not written', () => {
    const bad = join(WORK, 'bad.txt')
    writeFileSync(bad, 'main;f 3\nmain;g\n')
    const out = join(WORK, 'never.json')
    const r = pyxray('import', bad, '-o', out)
    assert.equal(r.status, 2)
    assert.match(r.stderr, /^pyxray: .*bad\.txt: line 2: .* \[IMPORT_CORRUPT\]\n$/)
    assert.throws(() => readFileSync(out))
    const usage = pyxray('import', bad)
    assert.equal(usage.status, 2)
    assert.match(usage.stderr, /needs -o/)
    const help = pyxray('import', '--help')
    assert.equal(help.status, 0)
    assert.match(help.stdout, /Usage: pyxray import FILE… -o DOC\.json/)
  })
})

// ---------------------------------------------------------------------------------------------
// Mutations: whatever the bytes, a valid document or an ImportError

describe('mutated inputs', () => {
  /** A small deterministic PRNG (mulberry32). */
  function rng(seed: number): () => number {
    let a = seed >>> 0
    return () => {
      a = (a + 0x6d2b79f5) >>> 0
      let t = a
      t = Math.imul(t ^ (t >>> 15), t | 1)
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296
    }
  }
  const binary = (() => {
    const f = new BinaryFile()
    const frames = [f.frame('/app/a.py', '<module>', 1), f.frame('/app/a.py', 'main', 2), f.frame('/app/a.py', 'a', 3), f.frame('~', '<GC>', 0)]
    return f.full(1, 0x24, [frames[2]!, frames[1]!, frames[0]!]).repeat(1, 4).suffix(1, 2, [frames[3]!]).popPush(1, 1, [frames[2]!]).full(7, 0x04, [frames[1]!]).bytes()
  })()
  const main = loc('/a.py', 5, 'main')
  const pstats = writeMarshal(dict([tuple(str('__sampled__')), TRUE], [main, entry(1, 5, [])], [loc('/a.py', 9, 'f'), entry(4, 4, [[main, 4]])]))
  const seeds: [string, Uint8Array][] = [
    ['binary', binary],
    ['pstats', pstats],
    ['py-spy', readFileSync(join(FIXTURES, 'py-spy-raw.txt'))],
    ['austin', readFileSync(join(FIXTURES, 'austin.txt'))],
    ['gecko', new TextEncoder().encode('{"meta":{"interval":1,"version":32},"shared":{"stringArray":["main","f","/a.py"]},"threads":[{"name":"T","isMainThread":true,"funcTable":{"name":[0,1],"fileName":[2,2]},"frameTable":{"func":[0,1]},"stackTable":{"frame":[0,1],"prefix":[null,0]},"samples":{"stack":[1,1,0],"weight":null}}]}')],
    ['jsonl', new TextEncoder().encode('{"type":"meta","v":0,"sample_interval_usec":1000}\n{"type":"string_table","strings":[{"str_id":0,"value":"/a.py"},{"str_id":1,"value":"f"}]}\n{"type":"frame_table","frames":[{"frame_id":0,"path_str_id":0,"func_str_id":1,"line":1}]}\n{"type":"agg","kind":"frame","entries":[{"frame_id":0,"self":3,"cumulative":3}]}\n{"type":"end","samples_total":3}\n')],
  ]
  for (const [name, seed] of seeds) {
    test(`${name}: 400 mutations`, () => {
      const random = rng(name.length * 7919)
      const outcomes = new Map<string, number>()
      for (let i = 0; i < 400; i++) {
        const bytes = seed.slice()
        const edits = 1 + Math.floor(random() * 4)
        for (let e = 0; e < edits; e++) {
          const at = Math.floor(random() * bytes.length)
          const kind = random()
          if (kind < 0.6) bytes[at] = Math.floor(random() * 256)
          else if (kind < 0.8) bytes[at] = [0, 0x7f, 0x80, 0xff][Math.floor(random() * 4)]!
          else bytes[at] = bytes[at]! ^ (1 << Math.floor(random() * 8))
        }
        const cut = random() < 0.1 ? bytes.slice(0, Math.floor(random() * bytes.length)) : bytes
        let outcome: string
        try {
          roundTrip(importProfile(cut))
          outcome = 'ok'
        } catch (err) {
          assert.ok(err instanceof ImportError, `${name} mutation ${i}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`)
          assert.doesNotMatch(err.message, /\n/)
          outcome = err.code
        }
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1)
      }
      assert.ok(outcomes.size >= 2, `${name}: ${JSON.stringify([...outcomes])}`)
    })
  }
})
