/**
 * The profile exports of real profiles (the agent, `python -m pyxray`) read by their real
 * consumers:
 *
 * - pstats: CPython's own `pstats.Stats(path)` loads our file on every native CPython of src/versions;
 *   ncalls (total and primitive) per Python function of the program equal cProfile's for the same
 *   program, and so do the calls per caller between the program's functions; tottime and cumtime
 *   add up (Σ tottime = the profile's self times, cumtime ≥ tottime) and print_stats/print_callers
 *   run;
 * - collapsed: flamegraph.pl (Debian libdevel-nytprof-perl) renders it to well-formed SVG (parsed
 *   by Python's XML parser) naming our functions with our counts; skipped visibly when
 *   flamegraph.pl is absent, a failure under CI=true;
 * - speedscope and chrome: speedscope's importer (npm speedscope) gives back every call path;
 * - `pyxray export`: outputs, exit codes and messages for bad input.
 */
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, type TestContext, test } from 'node:test'
import { type ProfileDocument, type ProfileNode, readProfileDocument } from '../src/profile/document.js'
import { collapsedFoldDepth, foldedLabel, frameName, toChromeTrace, toCollapsed, toPstats, toSpeedscope } from '../src/profile/export/index.js'
import { deepDoc } from './deep-docs.js'
import { NATIVE_MINORS, requirePython } from './pyenv.js'
import { speedscopeImporter, type SpeedscopeNode } from './speedscope-importer.js'
import { requireResource } from './resources.js'

const ROOT = join(import.meta.dirname, '..')
const WORK = mkdtempSync(join(tmpdir(), 'pyxray-export-'))
after(() => rmSync(WORK, { recursive: true, force: true }))
const ENV = { PATH: process.env.PATH ?? '', PYTHONPATH: join(ROOT, 'python'), PYXRAY_CACHE_DIR: join(WORK, 'cache') }

/** A program with direct and mutual recursion, methods, a generator driven by a builtin, closures. */
const PROGRAM = `
import collections
import math

def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

def is_even(n):
    return True if n == 0 else is_odd(n - 1)

def is_odd(n):
    return False if n == 0 else is_even(n - 1)

class Store:
    def __init__(self):
        self.items = []
    def save(self, x):
        self.items.append(x)
        return len(self.items)

def squares(n):
    for i in range(n):
        yield math.sqrt(i)

def outer():
    def inner(xs):
        return sorted(xs, key=lambda v: -v)
    return inner([3, 1, 2])

def count_words(words):
    # Methods inherited from a builtin type: cProfile keys them by the defining type (dict).
    counts = collections.Counter(words)
    return len(list(counts.items())) + len(counts.keys())

def main():
    store = Store()
    for i in range(40):
        store.save(i)
    count_words("a b a c b a".split())
    total = sum(squares(60))
    for k in range(5):
        is_even(k * 3)
    outer()
    return fib(13) + total

main()
`

interface Run {
  status: number | null
  stdout: string
  stderr: string
}

function run(cmd: string, args: string[], options: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: options.env ?? ENV, cwd: options.cwd ?? WORK })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', reject)
    child.on('close', (status) => resolve({ status, stdout, stderr }))
    // A child that exits without reading its input closes the pipe: EPIPE here is not the test's failure.
    child.stdin.on('error', () => {})
    if (options.input === undefined) child.stdin.end()
    else child.stdin.end(options.input)
  })
}

/** Writes the program for one interpreter and profiles it with the agent. */
async function profileWith(python: string, tag: string, source = PROGRAM): Promise<{ script: string; path: string; doc: ProfileDocument }> {
  const script = join(WORK, `prog_${tag}.py`)
  writeFileSync(script, source)
  const path = join(WORK, `prog_${tag}.json`)
  const r = await run(python, ['-m', 'pyxray', '-q', '-o', path, script])
  assert.equal(r.status, 0, r.stderr)
  return { script, path, doc: readProfileDocument(readFileSync(path, 'utf8'), path) }
}

/** cProfile's stats of the script, run with exec as the agent tests do: key → [cc, nc, callers{key: [nc, cc]}]. */
const CPROFILE = `
import cProfile, json, os, sys
path = sys.argv[1]
sys.argv = [path]
sys.path[0] = os.path.dirname(path)
code = compile(open(path, "rb").read(), path, "exec")
profiler = cProfile.Profile()
profiler.enable()
exec(code, {"__name__": "__main__", "__file__": path, "__builtins__": __builtins__})
profiler.disable()
profiler.create_stats()
key = lambda k: "{}:{}:{}".format(*k)
print(json.dumps({key(k): [cc, nc, {key(c): list(v[:2]) for c, v in callers.items()}] for k, (cc, nc, tt, ct, callers) in profiler.stats.items()}))
`

/** pstats reading our file: the same shape plus tt/ct, the totals pstats computed, and its printed report. */
const PSTATS = `
import io, json, pstats, sys
out = io.StringIO()
stats = pstats.Stats(sys.argv[1], stream=out)
stats.sort_stats("cumulative").print_stats(10)
stats.print_callers("fib")
key = lambda k: "{}:{}:{}".format(*k)
print(json.dumps({
    "stats": {key(k): [cc, nc, tt, ct, {key(c): list(v) for c, v in callers.items()}] for k, (cc, nc, tt, ct, callers) in stats.stats.items()},
    "total_calls": stats.total_calls, "prim_calls": stats.prim_calls, "total_tt": stats.total_tt,
    "report": out.getvalue(),
}))
`

type CProfileStats = { [key: string]: [number, number, { [caller: string]: [number, number] }] }
type PstatsResult = {
  stats: { [key: string]: [number, number, number, number, { [caller: string]: [number, number, number, number] }] }
  total_calls: number
  prim_calls: number
  total_tt: number
  report: string
}

function nodes(doc: ProfileDocument): ProfileNode[] {
  const out: ProfileNode[] = []
  const todo = doc.threads.flatMap((t) => [...t.root.children])
  while (todo.length) {
    const n = todo.pop()!
    out.push(n)
    todo.push(...n.children)
  }
  return out
}

describe('pstats: CPython pstats.Stats loads our file; ncalls equal cProfile', { concurrency: true }, () => {
  for (const minor of NATIVE_MINORS) {
    test(`CPython 3.${minor}`, async (t) => {
      const python = requirePython(t, minor)
      if (python === undefined) return
      const { script, doc } = await profileWith(python, `3${minor}`)
      const pstatsPath = join(WORK, `prog_3${minor}.pstats`)
      writeFileSync(pstatsPath, toPstats(doc))
      const [c, p] = await Promise.all([run(python, ['-c', CPROFILE, script]), run(python, ['-c', PSTATS, pstatsPath])])
      assert.equal(c.status, 0, c.stderr)
      assert.equal(p.status, 0, `pstats could not load our file:\n${p.stderr}`)
      const expected = JSON.parse(c.stdout) as CProfileStats
      const ours = JSON.parse(p.stdout) as PstatsResult
      const inScript = (k: string) => k.startsWith(`${script}:`)
      const scriptKeys = Object.keys(expected).filter(inScript).sort()
      assert.ok(scriptKeys.length >= 10, `cProfile saw the program's functions: ${scriptKeys.join(', ')}`)
      assert.deepEqual(Object.keys(ours.stats).filter(inScript).sort(), scriptKeys, 'the same functions, keyed (file, line, co_name) as cProfile')
      for (const k of scriptKeys) {
        const [cc, nc, callers] = expected[k]!
        const [occ, onc, , , ocallers] = ours.stats[k]!
        assert.deepEqual([onc, occ], [nc, cc], `${k}: ncalls (total, primitive)`)
        // Calls per caller, between the program's own functions: (nc, cc) as cProfile's callers.
        const fromScript = (m: { [c: string]: number[] }) => Object.fromEntries(Object.entries(m).filter(([ck]) => inScript(ck)).map(([ck, v]) => [ck, v.slice(0, 2)]))
        assert.deepEqual(fromScript(ocallers), fromScript(callers), `${k}: calls per caller`)
      }
      // Builtins are keyed as cProfile labels them.
      // Methods a subclass inherits (Counter.items, Counter.keys) are keyed by the defining type.
      for (const label of ["<method 'append' of 'list' objects>", '<built-in method math.sqrt>', '<built-in method builtins.sorted>', '<built-in method builtins.len>', "<method 'items' of 'dict' objects>", "<method 'keys' of 'dict' objects>"]) {
        assert.ok(`~:0:${label}` in ours.stats, `${label} in our stats`)
        assert.ok(`~:0:${label}` in expected, `${label} in cProfile's`)
      }
      assert.equal(ours.stats['~:0:<built-in method math.sqrt>']![1], expected['~:0:<built-in method math.sqrt>']![1], 'math.sqrt: only the program calls it')
      assert.ok(!Object.keys(ours.stats).some((k) => k.includes("'collections.Counter'")), 'no key names the receiver type Counter')
      // Times: seconds, adding up to the profile's self times; cumtime ≥ tottime; recursion counted once.
      const selfSeconds = nodes(doc).reduce((s, n) => s + n.selfNs, 0) / 1e9
      assert.ok(Math.abs(ours.total_tt - selfSeconds) < 1e-9, `Σ tottime ${ours.total_tt} vs Σ self ${selfSeconds}`)
      for (const [k, [, , tt, ct]] of Object.entries(ours.stats)) {
        assert.ok(tt >= 0 && ct >= tt - 1e-12, `${k}: 0 ≤ tottime ${tt} ≤ cumtime ${ct}`)
      }
      const byName = (name: string) => Object.entries(ours.stats).find(([k]) => inScript(k) && k.endsWith(`:${name}`))?.[1] ?? assert.fail(`${name} in stats`)
      const main = byName('main')
      const fib = byName('fib')
      assert.ok(fib[3] <= main[3], 'cumtime of recursive fib is counted once (≤ its caller main)')
      assert.ok(main[3] <= doc.metadata.durationNs / 1e9, 'cumtime within the run')
      assert.equal(ours.total_calls, Object.values(ours.stats).reduce((s, v) => s + v[1], 0))
      assert.match(ours.report, /function calls \(\d+ primitive calls\) in [\d.]+ seconds/)
      assert.match(ours.report, /fib\)\s+<-\s+\d+\/\d+/, 'print_callers shows fib←fib as nc/cc')
    })
  }
})

/** flamegraph.pl: on PATH, or where Debian's libdevel-nytprof-perl puts it. */
function flamegraphPl(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir && existsSync(join(dir, 'flamegraph.pl'))) return join(dir, 'flamegraph.pl')
  const debian = '/usr/share/perl5/Devel/NYTProf/flamegraph.pl'
  return existsSync(debian) ? debian : undefined
}

test('collapsed of a 100,000-deep profile: flamegraph.pl renders it, the folded frames included', async (t) => {
  const script = flamegraphPl()
  if (script === undefined) {
    requireResource(t, 'flamegraph.pl not found (apt-get install libdevel-nytprof-perl)')
    return
  }
  const doc = deepDoc(100_000, 'siblings', { rootSelfNs: 5000 })
  const fold = collapsedFoldDepth(doc, { unit: 'ns' })
  assert.ok(fold !== undefined)
  const folded = toCollapsed(doc, { unit: 'ns' })
  const r = await run('perl', [script, '--countname', 'ns', '--title', 'deep'], { input: folded, env: process.env })
  assert.equal(r.status, 0, r.stderr)
  const svgPath = join(WORK, 'deep.svg')
  writeFileSync(svgPath, r.stdout)
  const parsed = await run('python3', ['-c', 'import json, sys, xml.etree.ElementTree as ET; root = ET.parse(sys.argv[1]).getroot(); print(json.dumps([e.text for e in root.iter("{http://www.w3.org/2000/svg}title")]))', svgPath])
  assert.equal(parsed.status, 0, `not well-formed SVG: ${parsed.stderr}`)
  const titles = JSON.parse(parsed.stdout) as string[]
  const total = doc.threads[0]!.root.totalNs
  assert.ok(titles.includes(`all (${total.toLocaleString('en-US')} ns, 100%)`) || titles.includes(`all (${total} ns, 100%)`), 'every ns, the root line included')
  // The thread root's own time is in the input (too narrow for flamegraph.pl to draw at this scale).
  assert.ok(folded.startsWith('[MainThread] 5000\n'))
  assert.ok(titles.some((x) => x.startsWith(`[frames below depth ${fold}] (`)), 'the folded frames, drawn')
  assert.ok(titles.filter((x) => x.startsWith('walk (app.py:10)')).length > 100, 'walk at every drawn level')
})

describe('exports of a real profile (python3)', () => {
  let doc: ProfileDocument
  let path: string
  let python: string | undefined
  before(async () => {
    python = spawnSync('python3', ['-c', 'import sys; print(sys.version_info >= (3, 8))'], { encoding: 'utf8' }).stdout?.trim() === 'True' ? 'python3' : undefined
    if (python) ({ doc, path } = await profileWith(python, 'py3'))
  })
  const needPython = (t: TestContext) => {
    if (python) return true
    requireResource(t, 'no python3 3.8+ on PATH')
    return false
  }

  test('collapsed: flamegraph.pl renders it to an SVG with our functions and counts', async (t) => {
    if (!needPython(t)) return
    const script = flamegraphPl()
    if (script === undefined) {
      requireResource(t, 'flamegraph.pl not found (apt-get install libdevel-nytprof-perl)')
      return
    }
    const folded = toCollapsed(doc, { unit: 'ns' })
    const r = await run('perl', [script, '--countname', 'ns', '--title', 'pyxray'], { input: folded, env: process.env })
    assert.equal(r.status, 0, r.stderr)
    const svgPath = join(WORK, 'flame.svg')
    writeFileSync(svgPath, r.stdout)
    // Python's XML parser: the SVG is well-formed; give back every <title> text (entities decoded).
    const parsed = await run('python3', ['-c', 'import json, sys, xml.etree.ElementTree as ET; root = ET.parse(sys.argv[1]).getroot(); print(json.dumps([root.tag] + [e.text for e in root.iter("{http://www.w3.org/2000/svg}title")]))', svgPath])
    assert.equal(parsed.status, 0, `not well-formed SVG: ${parsed.stderr}`)
    const [tag, ...titles] = JSON.parse(parsed.stdout) as string[]
    assert.equal(tag, '{http://www.w3.org/2000/svg}svg')
    const total = folded
      .trimEnd()
      .split('\n')
      .reduce((s, l) => s + Number(l.slice(l.lastIndexOf(' ') + 1)), 0)
    assert.ok(titles.includes(`all (${total.toLocaleString('en-US')} ns, 100%)`) || titles.includes(`all (${total} ns, 100%)`), `the root frame carries the sum ${total}: ${titles.slice(0, 3).join(' | ')}`)
    for (const name of ['main', 'fib', 'Store.save', 'is_even', 'squares', '<module>']) {
      const frame = doc.frames.find((f) => f.qualname === name)!
      // flamegraph.pl itself turns < and > into ( and ) (<module> → (module)).
      const label = foldedLabel(frame, doc.metadata.cwd).replace(/</g, '(').replace(/>/g, ')')
      assert.ok(titles.some((s) => s.startsWith(`${label} (`)), `${label} is in the flame graph`)
    }
  })

  test("speedscope: speedscope's importer gives back every call path with its times", async (t) => {
    if (!needPython(t)) return
    const group = await speedscopeImporter().importText('run.json', JSON.stringify(toSpeedscope(doc)))
    assert.ok(group)
    assert.equal(group.profiles.length, doc.threads.length)
    const profile = group.profiles[0]!
    assert.equal(profile.getTotalWeight(), doc.threads[0]!.root.totalNs)
    const sumImported = (n: SpeedscopeNode): number => n.children.reduce((s, c) => s + c.getTotalWeight(), 0)
    assert.equal(sumImported(profile.getAppendOrderCalltreeRoot()), doc.threads[0]!.root.totalNs - doc.threads[0]!.root.selfNs)
    // Every node of ours appears under the same path with the same total.
    const imported = new Map<string, number>()
    const todo: [SpeedscopeNode, string][] = [[profile.getAppendOrderCalltreeRoot(), '']]
    while (todo.length) {
      const [n, p] = todo.pop()!
      for (const c of n.children) {
        const key = `${p}/${c.frame.name}`
        imported.set(key, c.getTotalWeight())
        todo.push([c, key])
      }
    }
    const ours: [ProfileNode, string][] = doc.threads[0]!.root.children.map((c) => [c, ''])
    let count = 0
    while (ours.length) {
      const [n, p] = ours.pop()!
      const key = `${p}/${frameName(doc.frames[n.frame!]!)}`
      assert.equal(imported.get(key), n.totalNs, key)
      count++
      for (const c of n.children) ours.push([c, key])
    }
    assert.equal(imported.size, count)
  })

  test("chrome: speedscope's trace-event importer gives back the tree in µs", async (t) => {
    if (!needPython(t)) return
    const trace = toChromeTrace(doc)
    const group = await speedscopeImporter().importText('trace.json', JSON.stringify(trace))
    assert.ok(group)
    const root = group.profiles[0]!.getAppendOrderCalltreeRoot()
    const fibNs = nodes(doc)
      .filter((n) => doc.frames[n.frame!]!.qualname === 'main')
      .reduce((s, n) => s + n.totalNs, 0)
    const find = (n: SpeedscopeNode, name: string): SpeedscopeNode | undefined => {
      const todo = [n]
      while (todo.length) {
        const x = todo.pop()!
        if (x.frame.name.startsWith(`${name} {`)) return x
        todo.push(...x.children)
      }
      return undefined
    }
    const main = find(root, 'main') ?? assert.fail('main in the imported trace')
    assert.ok(Math.abs(main.getTotalWeight() - fibNs / 1e3) < 0.002, `main: ${main.getTotalWeight()} µs vs ${fibNs / 1e3}`)
  })

  test('pyxray export: files, stdout, exit codes and messages', async (t) => {
    if (!needPython(t)) return
    const cli = (...args: string[]) => run(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'export', ...args], { env: { ...process.env, NO_COLOR: '1' }, cwd: ROOT })
    const out = join(WORK, 'out')
    mkdirSync(out) // an output in a missing folder is refused (below)
    const [speedscope, pstats, collapsed, chrome] = await Promise.all([
      cli(path, '--to', 'speedscope', '-o', join(out, 'run.speedscope.json')),
      cli(path, '--to', 'pstats', '-o', join(out, 'run.pstats')),
      cli(path, '--to', 'collapsed', '--unit', 'ns'),
      cli(path, '--to', 'chrome', '--thread', 'MainThread'),
    ])
    for (const r of [speedscope, pstats, collapsed, chrome]) assert.equal(r.status, 0, r.stderr)
    assert.equal(JSON.parse(readFileSync(join(out, 'run.speedscope.json'), 'utf8')).$schema, 'https://www.speedscope.app/file-format-schema.json')
    assert.deepEqual(readFileSync(join(out, 'run.pstats')), Buffer.from(toPstats(doc)))
    assert.equal(collapsed.stdout, toCollapsed(doc, { unit: 'ns' }))
    assert.deepEqual(JSON.parse(chrome.stdout), JSON.parse(JSON.stringify(toChromeTrace(doc, { thread: 'MainThread' }))))
    assert.deepEqual(readdirSync(out).sort(), ['run.pstats', 'run.speedscope.json'], 'no temporary files left')
    const notProfile = join(WORK, 'not-profile.json')
    writeFileSync(notProfile, '{"hello": 1}')
    const bad: [string[], RegExp][] = [
      [[path, '--to', 'pstats'], /pstats files are binary \(marshal\): give -o FILE/],
      [[path, '--to', 'svg'], /unknown export format "svg": use one of speedscope, pstats, collapsed, chrome/],
      [[path], /export needs --to FORMAT/],
      [[path, '--to', 'collapsed', '--thread', 'nope'], /no thread "nope" in the profile; it has: #0 MainThread/],
      [[path, '--to', 'collapsed', '--unit', 'h'], /unknown unit "h": use one of ns, us, ms/],
      [[path, '--to', 'chrome', '--unit', 'ns'], /--unit applies to --to collapsed only/],
      [[path, '--to', 'chrome', '-o', path], /that is an input of this command .*; pyxray never overwrites its inputs/],
      [[path, '--to', 'chrome', '-o', join(WORK, 'missing', 'run.json')], /-o .*run\.json: folder .*missing does not exist/],
      [[join(WORK, 'missing.json'), '--to', 'chrome'], /missing\.json: cannot read the profile: no such file/],
      [[notProfile, '--to', 'chrome'], /not a pyxray profile/],
      [[path, '--to', 'chrome', '--bogus'], /Unknown option '--bogus'/],
    ]
    const results = await Promise.all(bad.map(([args]) => cli(...args)))
    for (const [i, r] of results.entries()) {
      assert.equal(r.status, 2, `${bad[i]![0].join(' ')}: exit 2\n${r.stderr}`)
      assert.match(r.stderr, bad[i]![1])
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace')
      assert.equal(r.stdout, '')
    }
    assert.ok(JSON.parse(readFileSync(path, 'utf8')).pyxray === 'profile', 'the input is untouched')
  })
})
