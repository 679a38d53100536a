/**
 * The profile exporters (src/profile/export) on constructed documents, each read back by its
 * consumer where one runs in Node: speedscope files and Chrome traces through speedscope's own
 * importer (npm `speedscope`), pstats bytes through our marshal reader (CPython's pstats reads
 * them in export-consumers.test.ts), folded stacks by their grammar. Also: the left-heavy layout,
 * recursion counting, 20,000-deep trees, and the errors.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { readMarshal, type PyObject } from '../src/marshal/index.js'
import type { ProfileDocument, ProfileFrame, ProfileNode } from '../src/profile/document.js'
import { ExportError, toChromeTrace, toCollapsed, toPstats, toSpeedscope, type TraceEvent } from '../src/profile/export/index.js'
import { makeMetadata } from './profile-docs.js'
import { type SpeedscopeNode, speedscopeImporter } from './speedscope-importer.js'

// ---------------------------------------------------------------------------------------------
// Constructed documents

const FRAMES: ProfileFrame[] = [
  { file: '/app/main.py', firstlineno: 1, qualname: '<module>', kind: 'python' },
  { file: '/app/main.py', firstlineno: 10, qualname: 'main', kind: 'python' },
  { file: '/app/main.py', firstlineno: 3, qualname: 'fib', kind: 'python' },
  { file: '<built-in>', firstlineno: 0, qualname: 'len', kind: 'builtin', module: 'builtins', library: true },
  { file: '<built-in>', firstlineno: 0, qualname: 'list.append', kind: 'builtin', module: 'builtins', library: true },
  { file: '/app/lib.py', firstlineno: 7, qualname: 'Store.save', kind: 'python' },
  { file: '<built-in>', firstlineno: 0, qualname: 'sqrt', kind: 'builtin', module: 'math', library: true },
  { file: '/app/lib.py', firstlineno: 20, qualname: 'odd;name', kind: 'python' },
]

/** A node with totalNs = selfNs + Σ children (children sorted largest first, as the agent does). */
function node(frame: number | null, calls: number, selfNs: number, children: ProfileNode[] = []): ProfileNode {
  const sorted = [...children].sort((a, b) => b.totalNs - a.totalNs)
  return { frame, calls, selfNs, totalNs: selfNs + sorted.reduce((s, c) => s + c.totalNs, 0), children: sorted }
}

/** fib(4) as the agent records it: one node per recursion level. */
function fibTree(): ProfileNode {
  // fib(4) → fib(3), fib(2); level counts of a real run of fib(4): 1, 2, 4, 6, 2 calls.
  const l5 = node(2, 2, 300)
  const l4 = node(2, 6, 900, [l5])
  const l3 = node(2, 4, 800, [l4])
  const l2 = node(2, 2, 500, [l3])
  return node(2, 1, 250, [l2])
}

function doc(threads = 2): ProfileDocument {
  const main = node(null, 0, 1_000, [
    node(0, 1, 2_000, [
      node(1, 1, 5_000, [
        fibTree(),
        node(5, 3, 40_000, [node(4, 30, 1_500), node(3, 3, 333), node(7, 1, 77)]),
        node(6, 100, 4_321),
        node(3, 2, 0),
      ]),
    ]),
  ])
  const worker = node(null, 0, 500, [node(5, 2, 10_000, [node(4, 20, 999), node(1, 1, 1_234, [node(2, 1, 555)])])])
  const all = [
    { id: 140000000000001, name: 'MainThread', nativeId: 4242, main: true, root: main },
    { id: 140000000000002, name: 'worker', nativeId: 4243, main: false, root: worker },
  ]
  return {
    pyxray: 'profile',
    version: 3,
    metadata: makeMetadata({ python: { implementation: 'CPython', version: '3.12.1' }, argv: ['/app/main.py'], cwd: '/app', durationNs: 100_000, pid: 4242 }),
    frames: FRAMES,
    threads: all.slice(0, threads),
  }
}

/** A chain `depth` calls deep: frame 2 calling itself, all the self time in the innermost call. */
function deepDoc(depth: number): ProfileDocument {
  let n = node(2, 1, 5_000)
  for (let i = 1; i < depth; i++) n = node(2, 1, 0, [n])
  const d = doc(1)
  return { ...d, threads: [{ ...d.threads[0]!, root: node(null, 0, 0, [n]) }] }
}

// ---------------------------------------------------------------------------------------------
// Trees as path → times, for comparing what a consumer imported with what we exported

type PathTimes = Map<string, { total: number; self: number }>

/** Our tree: call path (frame keys joined by " > ") → total and self ns. */
function ourPaths(d: ProfileDocument, thread: number, key: (f: ProfileFrame) => string, scale = 1): PathTimes {
  const out: PathTimes = new Map()
  const todo: [ProfileNode, string][] = d.threads[thread]!.root.children.map((c) => [c, ''])
  while (todo.length) {
    const [n, prefix] = todo.pop()!
    const path = `${prefix}${prefix ? ' > ' : ''}${key(d.frames[n.frame!]!)}`
    const prev = out.get(path) ?? { total: 0, self: 0 }
    out.set(path, { total: prev.total + n.totalNs / scale, self: prev.self + n.selfNs / scale })
    for (const c of n.children) todo.push([c, path])
  }
  return out
}

/** speedscope's imported call tree in the same shape. */
function importedPaths(root: SpeedscopeNode, key: (f: SpeedscopeNode['frame']) => string): PathTimes {
  const out: PathTimes = new Map()
  const todo: [SpeedscopeNode, string][] = root.children.map((c) => [c, ''])
  while (todo.length) {
    const [n, prefix] = todo.pop()!
    const path = `${prefix}${prefix ? ' > ' : ''}${key(n.frame)}`
    const prev = out.get(path) ?? { total: 0, self: 0 }
    out.set(path, { total: prev.total + n.getTotalWeight(), self: prev.self + n.getSelfWeight() })
    for (const c of n.children) todo.push([c, path])
  }
  return out
}

function assertSamePaths(actual: PathTimes, expected: PathTimes, tolerance: number, what: string): void {
  assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort(), `${what}: call paths`)
  for (const [path, e] of expected) {
    const a = actual.get(path)!
    assert.ok(Math.abs(a.total - e.total) <= tolerance, `${what}: total of ${path}: ${a.total} vs ${e.total}`)
    assert.ok(Math.abs(a.self - e.self) <= tolerance, `${what}: self of ${path}: ${a.self} vs ${e.self}`)
  }
}

const speedscopeKey = (f: ProfileFrame) => (f.kind === 'builtin' ? (f.module && f.module !== 'builtins' ? `${f.module}.${f.qualname}` : f.qualname) : `${f.qualname}@${f.file.replace('/app/', '')}:${f.firstlineno}`)
const importedSpeedscopeKey = (f: SpeedscopeNode['frame']) => (f.file === undefined ? f.name : `${f.name}@${f.file}:${f.line}`)

// ---------------------------------------------------------------------------------------------

describe('speedscope export', () => {
  test("speedscope's importer loads it: one profile per thread, every call path with its total and self ns", async () => {
    const d = doc()
    const file = toSpeedscope(d, { exporter: 'pyxray@test' })
    const importer = speedscopeImporter()
    const group = await importer.importText('profile.json', JSON.stringify(file))
    assert.ok(group, 'speedscope recognised the file')
    assert.deepEqual([...importer.log], ['Importing as speedscope json file'])
    assert.equal(group.profiles.length, 2)
    assert.deepEqual(
      [...group.profiles].map((p) => p.getName()),
      ['main.py — MainThread', 'main.py — worker'],
    )
    for (const [i, profile] of group.profiles.entries()) {
      assert.equal(profile.getWeightUnit(), 'nanoseconds')
      assertSamePaths(importedPaths(profile.getAppendOrderCalltreeRoot(), importedSpeedscopeKey), ourPaths(d, i, speedscopeKey), 0, `thread ${i}`)
      // The thread root's own time is the gap after its children.
      assert.equal(profile.getTotalWeight(), d.threads[i]!.root.totalNs)
    }
  })

  test('events are balanced and non-decreasing; the layout is left-heavy', () => {
    const file = toSpeedscope(doc(1))
    const p = file.profiles[0]!
    const stack: number[] = []
    let last = 0
    for (const e of p.events) {
      assert.ok(e.at >= last, 'at never decreases')
      last = e.at
      if (e.type === 'O') stack.push(e.frame)
      else assert.equal(stack.pop(), e.frame, 'close matches the open frame')
    }
    assert.equal(stack.length, 0)
    // main's children open in decreasing total order: Store.save (40 µs+) before fib.
    const opens = p.events.filter((e) => e.type === 'O').map((e) => file.shared.frames[e.frame]!.name)
    assert.deepEqual(opens.slice(0, 3), ['<module>', 'main', 'Store.save'])
    assert.deepEqual(file.shared.frames[2], { name: 'fib', file: 'main.py', line: 3 })
    assert.deepEqual(file.shared.frames[6], { name: 'math.sqrt' })
  })

  test('--thread picks one thread; an unknown one is an EXPORT_NO_THREAD error listing the threads', () => {
    assert.equal(toSpeedscope(doc(), { thread: 'worker' }).profiles.length, 1)
    assert.equal(toSpeedscope(doc(), { thread: '#1' }).profiles[0]!.name, 'main.py — worker')
    assert.equal(toSpeedscope(doc(), { thread: '4243' }).profiles[0]!.name, 'main.py — worker')
    assert.throws(
      () => toSpeedscope(doc(), { thread: 'nope' }),
      (e: unknown) => e instanceof ExportError && e.code === 'EXPORT_NO_THREAD' && /#0 MainThread/.test(e.message) && /#1 worker/.test(e.message),
    )
  })
})

describe('Chrome trace export', () => {
  const xEvents = (events: readonly TraceEvent[]) => events.filter((e): e is Extract<TraceEvent, { ph: 'X' }> => e.ph === 'X')

  test('every event nests inside its parent, back to back, largest first; durations equal totals', () => {
    const d = doc()
    const trace = JSON.parse(JSON.stringify(toChromeTrace(d))) as ReturnType<typeof toChromeTrace>
    const events = xEvents(trace.traceEvents)
    let count = 0
    for (const [i, thread] of d.threads.entries()) {
      const tid = thread.nativeId!
      const mine = events.filter((e) => e.tid === tid)
      assert.ok(trace.traceEvents.some((e) => e.ph === 'M' && e.name === 'thread_name' && e.tid === tid && e.args.name === thread.name), `thread ${i} named`)
      // Rebuild nesting from the intervals alone (events are in depth-first order).
      const stack: { end: number; nextChild: number; lastDur: number }[] = []
      const GRID = 1 / 1024
      for (const e of mine) {
        while (stack.length && e.ts >= stack[stack.length - 1]!.end) stack.pop()
        const parent = stack[stack.length - 1]
        if (parent) {
          assert.ok(e.ts + e.dur <= parent.end, `${e.name} ends inside its parent`)
          assert.equal(e.ts, parent.nextChild, `${e.name} starts where its previous sibling ended`)
          assert.ok(e.dur <= parent.lastDur + GRID, `${e.name}: siblings largest first`)
          parent.nextChild = e.ts + e.dur
          parent.lastDur = e.dur
        } else assert.equal(e.ts, stack.length === 0 && count === 0 ? 0 : e.ts)
        stack.push({ end: e.ts + e.dur, nextChild: e.ts, lastDur: Infinity })
        count++
      }
      // Durations are the totals (µs, within the 1/1024 µs grid).
      const totals = [...ourPaths(d, i, (f) => f.qualname, 1e3).values()].map((t) => t.total).sort((a, b) => a - b)
      const durs = mine.map((e) => e.dur).sort((a, b) => a - b)
      assert.equal(durs.length, totals.length)
      durs.forEach((dur, k) => assert.ok(Math.abs(dur - totals[k]!) <= 2 * GRID, `dur ${dur} vs total ${totals[k]}`))
    }
    assert.equal(count, events.length)
  })

  test("speedscope's trace-event importer rebuilds the same tree from it", async () => {
    const d = doc()
    const importer = speedscopeImporter()
    const group = await importer.importText('trace.json', JSON.stringify(toChromeTrace(d)))
    assert.ok(group)
    assert.deepEqual([...importer.log], ['Importing as Trace Event Format profile'])
    assert.equal(group.profiles.length, 2)
    const key = (f: ProfileFrame) => `${f.kind === 'builtin' && f.module !== 'builtins' ? `${f.module}.` : ''}${f.qualname} ${JSON.stringify({ file: f.file, line: f.firstlineno })}`
    for (const [i] of d.threads.entries()) {
      const profile = group.profiles.find((p) => p.getName().includes(d.threads[i]!.name))!
      assertSamePaths(importedPaths(profile.getAppendOrderCalltreeRoot(), (f) => f.name), ourPaths(d, i, key, 1e3), 2 / 1024, `thread ${i}`)
    }
  })
})

describe('collapsed stacks', () => {
  const LINE = /^([^;\n]+(?:;[^;\n]+)*) (\d+)$/

  test('one "a;b;c value" line per path with self time, in µs by default; the thread root\'s own time as [thread]; thread prefix on every line only for several threads', () => {
    const one = toCollapsed(doc(1))
    const lines = one.trimEnd().split('\n')
    for (const line of lines) assert.match(line, LINE)
    assert.ok(one.endsWith('\n'))
    // Time in frames older than the profile (the root's self time) is the thread's own line, first.
    assert.equal(lines[0], `[MainThread] ${Math.round(doc(1).threads[0]!.root.selfNs / 1e3)}`)
    assert.equal(lines[1], '<module> (main.py:1) 2')
    assert.ok(lines.includes('<module> (main.py:1);main (main.py:10);Store.save (lib.py:7);list.append 2'), one)
    assert.ok(lines.includes('<module> (main.py:1);main (main.py:10);math.sqrt 4'), one)
    // ';' inside a name cannot split a frame.
    assert.ok(!one.includes('odd;name'))
    // 333 ns rounds to 0 µs: left out; in ns it is there.
    assert.ok(!lines.some((l) => l.endsWith(';len 0')))
    const ns = toCollapsed(doc(1), { unit: 'ns' })
    const total = ns
      .trimEnd()
      .split('\n')
      .reduce((s, l) => s + Number(LINE.exec(l)![2]), 0)
    assert.equal(total, doc(1).threads[0]!.root.totalNs, 'every ns of the thread, its root\'s self time included')
    const two = toCollapsed(doc(2), { unit: 'ns' }).trimEnd().split('\n')
    assert.ok(two.every((l) => l.startsWith('[MainThread]') || l.startsWith('[worker]')))
    assert.ok(two.includes('[MainThread] 1000'), 'the root self time goes to the thread frame')
    assert.match(toCollapsed(doc(2), { thread: 'worker' }), /^\[worker\] 1\nStore\.save \(lib\.py:7\) /)
    assert.throws(() => toCollapsed(doc(), { unit: 'parsecs' as 'us' }), (e: unknown) => e instanceof ExportError && e.code === 'EXPORT_BAD_OPTION')
  })

  test("speedscope's folded-stack importer reads it with the same paths and self times", async () => {
    const d = doc(1)
    const group = await speedscopeImporter().importText('stacks.txt', toCollapsed(d, { unit: 'ns' }))
    assert.ok(group)
    const label = (f: ProfileFrame) => (f.kind === 'builtin' ? speedscopeKey(f) : `${f.qualname.replace(';', ':')} (${f.file.replace('/app/', '')}:${f.firstlineno})`)
    const expected = ourPaths(d, 0, label)
    // Paths with no self time and no descendants with self time cannot appear in folded stacks.
    for (const [path, t] of expected) if (t.total === 0) expected.delete(path)
    // The thread root's own time: a top-level [MainThread] frame.
    const rootSelf = d.threads[0]!.root.selfNs
    if (rootSelf > 0) expected.set('[MainThread]', { total: rootSelf, self: rootSelf })
    assertSamePaths(importedPaths(group.profiles[0]!.getAppendOrderCalltreeRoot(), (f) => f.name), expected, 0, 'folded')
  })
})

describe('pstats export', () => {
  /** Our own marshal reader's view of the pstats dict: key text → [cc, nc, tt, ct, callers]. */
  function readPstats(bytes: Uint8Array) {
    const { value, endOffset } = readMarshal(bytes)
    assert.equal(endOffset, bytes.length)
    assert.equal(value.type, 'dict')
    const text = (o: PyObject) => (o.type === 'str' ? o.value : o.type === 'int' ? String(o.value) : assert.fail(`unexpected ${o.type}`))
    const keyText = (k: PyObject) => (k.type === 'tuple' ? k.items.map(text).join(':') : assert.fail('key is a tuple'))
    const num = (o: PyObject) => (o.type === 'int' ? Number(o.value) : o.type === 'float' ? o.value : assert.fail(`number expected, got ${o.type}`))
    const out = new Map<string, { cc: number; nc: number; tt: number; ct: number; callers: Map<string, number[]> }>()
    for (const [k, v] of value.type === 'dict' ? value.entries : []) {
      assert.equal(v.type, 'tuple')
      const items = v.type === 'tuple' ? v.items : []
      assert.equal(items.length, 5)
      const callers = new Map<string, number[]>()
      const cd = items[4]!
      assert.equal(cd.type, 'dict')
      for (const [ck, cv] of cd.type === 'dict' ? cd.entries : []) callers.set(keyText(ck), cv.type === 'tuple' ? cv.items.map(num) : [])
      out.set(keyText(k), { cc: num(items[0]!), nc: num(items[1]!), tt: num(items[2]!), ct: num(items[3]!), callers })
    }
    return out
  }

  test("cProfile's keys, primitive vs total calls under recursion, cumtime counted once, callers as (nc, cc, tt, ct)", () => {
    const stats = readPstats(toPstats(doc(2)))
    const fib = stats.get('/app/main.py:3:fib')!
    assert.equal(fib.nc, 1 + 2 + 4 + 6 + 2 + 1, 'all calls (main thread 15, worker 1)')
    assert.equal(fib.cc, 2, 'primitive: the outermost fib of each thread')
    const fibTotal = fibTree().totalNs
    assert.ok(Math.abs(fib.ct - (fibTotal + 555) / 1e9) < 1e-15, 'cumtime: outermost totals only')
    assert.ok(Math.abs(fib.tt - (250 + 500 + 800 + 900 + 300 + 555) / 1e9) < 1e-15)
    assert.deepEqual(fib.callers.get('/app/main.py:3:fib')!.slice(0, 2), [2 + 4 + 6 + 2, 2], 'fib←fib: nc 14, cc 2 (the pair active below the first level)')
    assert.deepEqual(fib.callers.get('/app/main.py:10:main')!.slice(0, 2), [2, 2])
    assert.equal(stats.get('/app/lib.py:7:save')!.nc, 5, 'co_name is the last part of the qualname')
    assert.equal(stats.get("~:0:<method 'append' of 'list' objects>")!.nc, 50)
    assert.equal(stats.get('~:0:<built-in method builtins.len>')!.nc, 5)
    assert.equal(stats.get('~:0:<built-in method math.sqrt>')!.nc, 100)
    assert.equal(stats.get('/app/main.py:1:<module>')!.callers.size, 0, 'top-level functions have no callers')
    for (const [key, s] of stats) assert.ok(s.ct >= s.tt - 1e-15, `${key}: cumtime ≥ tottime`)
  })

  test('20,000-deep recursion: every exporter works (no JS recursion)', () => {
    const d = deepDoc(20_000)
    const stats = readPstats(toPstats(d))
    assert.deepEqual([stats.get('/app/main.py:3:fib')!.cc, stats.get('/app/main.py:3:fib')!.nc], [1, 20_000])
    assert.equal(toSpeedscope(d).profiles[0]!.events.length, 40_000)
    assert.equal(toChromeTrace(d).traceEvents.length, 20_002)
    const folded = toCollapsed(d)
    assert.equal(folded, `${Array(20_000).fill('fib (main.py:3)').join(';')} 5\n`)
  })

  test('collapsed stacks of long names on many paths: EXPORT_TOO_LARGE before the text is made (fuzz seed 42 #82996)', () => {
    // 2,000 leaves under a 60-deep chain of a 5,000-character name: each line repeats 300 kB.
    let chain = node(0, 1, 0, Array.from({ length: 2000 }, () => node(1, 1, 7_000)))
    for (let i = 1; i < 60; i++) chain = node(0, 1, 0, [chain])
    const d = doc(1)
    const long = { ...d, frames: [{ ...d.frames[0]!, qualname: 'n'.repeat(5000) }, ...d.frames.slice(1)], threads: [{ ...d.threads[0]!, root: node(null, 0, 0, [chain]) }] }
    assert.throws(() => toCollapsed(long), (e: unknown) => e instanceof ExportError && e.code === 'EXPORT_TOO_LARGE' && /speedscope or pprof/.test(e.message))
    // The same tree with short names is exported whole.
    const short = { ...long, frames: d.frames }
    assert.equal(toCollapsed(short).trimEnd().split('\n').length, 2000)
  })

  test('a profile without calls: pstats refuses it (EXPORT_EMPTY), the text formats are empty', () => {
    const d = doc(1)
    const empty = { ...d, threads: [{ ...d.threads[0]!, root: node(null, 0, 123) }] }
    assert.throws(() => toPstats(empty), (e: unknown) => e instanceof ExportError && e.code === 'EXPORT_EMPTY' && /pstats refuses an empty table/.test(e.message))
    assert.equal(toCollapsed(empty), '')
    assert.deepEqual(toSpeedscope(empty).profiles[0]!.events, [])
    assert.equal(toChromeTrace(empty).traceEvents.filter((e) => e.ph === 'X').length, 0)
  })

  test('a dangling frame index is an EXPORT_BAD_PROFILE error, not a crash', () => {
    const d = doc(1)
    const bad = { ...d, frames: d.frames.slice(0, 2) }
    for (const run of [() => toPstats(bad), () => toSpeedscope(bad), () => toChromeTrace(bad), () => toCollapsed(bad)]) {
      assert.throws(run, (e: unknown) => e instanceof ExportError && e.code === 'EXPORT_BAD_PROFILE' && /refers to frame \d+, but the profile has 2 frames/.test(e.message))
    }
  })
})
