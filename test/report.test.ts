/**
 * The profile model and `pyxray report`: recursion-safe flat tables, callers/callees, merge, focus,
 * hide and min-percent on constructed trees; golden text, markdown and JSON reports of real
 * profiles (test/fixtures/profiles, written by scripts/gen-profile-fixtures.mjs); the CLI's exit
 * codes and colors. UPDATE_GOLDEN=1 rewrites the goldens (review the diff).
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { readProfileFile } from '../src/cli/profile-file.js'
import { focus, hide, minPercent } from '../src/profile/filter.js'
import { calleesOf, callersOf, flatTable } from '../src/profile/flat.js'
import { buildTrees, matchesFunction, mergeNodes, mergeThreads, shortFile } from '../src/profile/model.js'
import { buildReport, type ReportOptions } from '../src/profile/report.js'
import { formatReportMarkdown } from '../src/profile/report-markdown.js'
import { quantile, runSpread } from '../src/profile/report-runs.js'
import { formatReportText, PLAIN_REPORT } from '../src/profile/report-text.js'
import { mergeRuns } from '../src/profile/runs.js'
import { makeDoc } from './profile-docs.js'
import { assertGolden } from './resources.js'

const FIXTURES = join(import.meta.dirname, 'fixtures', 'profiles')
const GOLDEN = join(FIXTURES, 'golden')
const MAIN = join(import.meta.dirname, '..', 'src', 'cli', 'main.ts')

// main 1000 → f 700 (self 100) → f 600 (self 200) → g 400; main → g 100; main self 200.
const recursive = makeDoc([
  [
    'main',
    1,
    1000,
    [
      ['f', 1, 700, [['f', 3, 600, [['g', 3, 400]]]]],
      ['g', 2, 100],
    ],
  ],
])
const byName = (rows: ReturnType<typeof flatTable>) => Object.fromEntries(rows.map((r) => [r.fn.qualname, { calls: r.calls, self: r.selfNs, total: r.totalNs }]))
const match = (q: string) => (fn: Parameters<typeof matchesFunction>[0] & object) => matchesFunction(fn, q)

test('flat table: recursion counts total time once, calls and self over every path', () => {
  const rows = byName(flatTable([mergeThreads(buildTrees(recursive))]))
  assert.deepEqual(rows.f, { calls: 4, self: 300, total: 700 })
  assert.deepEqual(rows.g, { calls: 5, self: 500, total: 500 })
  assert.deepEqual(rows.main, { calls: 1, self: 200, total: 1000 })
})

test('callers and callees, recursion-safe per edge', () => {
  const root = mergeThreads(buildTrees(recursive))
  const callers = callersOf([root], match('g'))!
  assert.deepEqual(
    callers.rows.map((r) => [r.fn?.qualname, r.calls, r.totalNs]),
    [
      ['f', 3, 400],
      ['main', 2, 100],
    ],
  )
  const callees = calleesOf([root], match('f'))!
  // f → f counts its 600 ns once although the edge nests in itself only once here; f → g 400.
  assert.deepEqual(
    callees.rows.map((r) => [r.fn?.qualname, r.calls, r.totalNs]),
    [
      ['f', 3, 600],
      ['g', 3, 400],
    ],
  )
  assert.equal(callees.self.totalNs, 700)
  const top = callersOf([root], match('main'))!
  assert.deepEqual(
    top.rows.map((r) => [r.fn, r.calls]),
    [[null, 1]],
  )
  assert.equal(callersOf([root], match('nope')), undefined)
})

test('focus, hide and min-percent build new trees', () => {
  const root = mergeThreads(buildTrees(recursive))
  const [g] = focus([root], match('g'))
  assert.equal(g!.fn!.qualname, 'g')
  assert.equal(g!.calls, 5)
  assert.equal(g!.totalNs, 500)
  const hidden = hide(root, match('f'))
  const main = hidden.children[0]!
  // f's self (100 + 200) joins main's; f's callee g merges with main's own g.
  assert.equal(main.selfNs, 500)
  assert.equal(main.totalNs, 1000)
  assert.deepEqual(
    main.children.map((c) => [c.fn!.qualname, c.calls, c.totalNs]),
    [['g', 5, 500]],
  )
  const pruned = minPercent(root, 15, 1000)
  assert.deepEqual(
    pruned.children[0]!.children.map((c) => c.fn!.qualname),
    ['f'],
  )
})

test('merge adds counts and times per call path; mergeRuns keeps every run', () => {
  const a = makeDoc([['main', 1, 100, [['f', 2, 60]]]])
  const b = makeDoc([['main', 1, 140, [['f', 2, 70], ['g', 1, 30]]]])
  const merged = mergeNodes([mergeThreads(buildTrees(a)), mergeThreads(buildTrees(b))])
  const main = merged.children[0]!
  assert.equal(main.calls, 2)
  assert.equal(main.totalNs, 240)
  assert.deepEqual(
    main.children.map((c) => [c.fn!.qualname, c.calls, c.totalNs]),
    [
      ['f', 4, 130],
      ['g', 1, 30],
    ],
  )
  const doc = mergeRuns([a, b])
  assert.equal(doc.runs!.length, 2)
  assert.equal(doc.metadata.durationNs, 240)
  assert.equal(doc.threads[0]!.root.totalNs, 240)
  // Frames are shared: g joined the table, and run 1 still refers to f correctly.
  assert.equal(doc.frames.length, 3)
  const f0 = doc.runs![0]!.threads[0]!.root.children[0]!.children[0]!
  assert.equal(doc.frames[f0.frame!]!.qualname, 'f')
})

interface Case {
  readonly golden: string
  readonly profile: string
  readonly options: Partial<ReportOptions>
  readonly width?: number
  readonly format?: 'text' | 'markdown'
}

const CASES: Case[] = [
  { golden: 'recursion.flat.txt', profile: 'recursion.json', options: {} },
  { golden: 'recursion.total.txt', profile: 'recursion.json', options: { sort: 'total', top: 5 }, width: 72 },
  { golden: 'recursion.tree.txt', profile: 'recursion.json', options: { view: 'tree', minPercent: 1 } },
  { golden: 'recursion.tree-depth.txt', profile: 'recursion.json', options: { view: 'tree', depth: 3, minPercent: 0 } },
  { golden: 'recursion.focus.txt', profile: 'recursion.json', options: { view: 'tree', focus: 'Table.ordered', minPercent: 0 } },
  { golden: 'recursion.hide.txt', profile: 'recursion.json', options: { view: 'tree', hide: ['fib', 'sorted'], minPercent: 1 } },
  { golden: 'recursion.callers.txt', profile: 'recursion.json', options: { view: 'callers', target: 'fib' } },
  { golden: 'recursion.callees.txt', profile: 'recursion.json', options: { view: 'callees', target: 'main' } },
  { golden: 'recursion.md', profile: 'recursion.json', options: { top: 6 }, format: 'markdown' },
  { golden: 'recursion.tree.md', profile: 'recursion.json', options: { view: 'tree', minPercent: 5 }, format: 'markdown' },
  { golden: 'threads.flat.txt', profile: 'threads.json', options: {}, width: 80 },
  { golden: 'threads.worker.txt', profile: 'threads.json', options: { view: 'tree', thread: 'worker', minPercent: 0 } },
  { golden: 'memory.flat.txt', profile: 'memory.json', options: { sort: 'memory' } },
  { golden: 'memory.tree.txt', profile: 'memory.json', options: { view: 'tree', minPercent: 1 } },
  { golden: 'sample.tree.txt', profile: 'sample.json', options: { view: 'tree', minPercent: 1 } },
  { golden: 'sample.flat.txt', profile: 'sample.json', options: {} },
  // pyxray profile --repeat 5: medians per run, ± half the IQR, calls per run.
  { golden: 'repeated.flat.txt', profile: 'repeated.json', options: {} },
  { golden: 'repeated.narrow.txt', profile: 'repeated.json', options: { top: 4 }, width: 80 },
  { golden: 'repeated.tree.txt', profile: 'repeated.json', options: { view: 'tree', minPercent: 2 } },
  { golden: 'repeated.callers.txt', profile: 'repeated.json', options: { view: 'callers', target: 'Table.ordered' } },
  { golden: 'repeated.md', profile: 'repeated.json', options: { top: 6 }, format: 'markdown' },
]

for (const c of CASES) {
  test(`golden report ${c.golden}`, () => {
    const doc = readProfileFile(join(FIXTURES, c.profile))
    const options: ReportOptions = { view: 'flat', sort: 'self', top: 25, minPercent: 0, hide: [], name: c.profile, ...c.options }
    const report = buildReport(doc, options)
    const text = c.format === 'markdown' ? formatReportMarkdown(report) : formatReportText(report, { width: c.width ?? 100, style: PLAIN_REPORT })
    assertGolden(join(GOLDEN, c.golden), text)
    if (c.format !== 'markdown') for (const line of text.split('\n')) assert.ok([...line].length <= (c.width ?? 100), `wider than ${c.width ?? 100}: ${line}`)
  })
}

test('report JSON: rows with percentages of the total', () => {
  const doc = readProfileFile(join(FIXTURES, 'recursion.json'))
  const r = buildReport(doc, { view: 'flat', sort: 'total', top: 0, minPercent: 0, hide: [], name: 'r' })
  assert.equal(r.pyxray, 'report')
  const module = r.functions!.find((f) => f.function?.qualname === '<module>')!
  assert.equal(r.functions![0], module)
  const fib = r.functions!.find((f) => f.function?.qualname === 'fib')!
  // fib(15) calls fib 1973 times; its total is that of its outermost call, under main.
  assert.equal(fib.calls, 1973)
  const tree = buildTrees(doc)[0]!.root
  const mainNode = tree.children[0]!.children.find((c) => c.fn?.qualname === 'main')!
  assert.equal(fib.totalNs, mainNode.children.find((c) => c.fn?.qualname === 'fib')!.totalNs)
  assert.equal(fib.totalPercent, Math.round((1e5 * fib.totalNs) / r.totalNs) / 1e3)
  assert.equal(r.functionCount, r.functions!.length)
})

test('quantiles and spreads over runs: IQR from 4 runs, min–max below', () => {
  assert.equal(quantile([10, 20, 30, 40], 0.25), 17.5)
  assert.equal(quantile([10, 20, 30, 40], 0.75), 32.5)
  assert.equal(quantile([7], 0.75), 7)
  assert.deepEqual(runSpread([40, 10, 30, 20, 1000], 'iqr'), { median: 30, low: 20, high: 40 })
  assert.deepEqual(runSpread([5, 9, 1], 'range'), { median: 5, low: 1, high: 9 })
})

// Three runs of one program: f's calls vary (2, 2, 3), g runs only in the last two.
const threeRuns = mergeRuns([
  makeDoc([['main', 1, 1000, [['f', 2, 600]]]]),
  makeDoc([['main', 1, 1300, [['f', 2, 700], ['g', 1, 100]]]]),
  makeDoc([['main', 1, 1600, [['f', 3, 900], ['g', 1, 200]]]]),
])
const repeatOptions: ReportOptions = { view: 'flat', sort: 'self', top: 0, minPercent: 0, hide: [], name: 'r' }

test('repeated report: medians and min–max per run, the summed figures kept, absent runs count 0', () => {
  const r = buildReport(threeRuns, repeatOptions)
  const rows = Object.fromEntries(r.functions!.map((f) => [f.function!.qualname, f]))
  assert.deepEqual(rows.f!.perRun!.selfNs, { median: 700, low: 600, high: 900 })
  assert.deepEqual(rows.f!.perRun!.calls, [2, 2, 3])
  assert.equal(rows.f!.perRun!.callsDiffer, true)
  assert.equal(rows.f!.selfNs, 2200, 'selfNs stays the sum over runs')
  assert.equal(rows.f!.calls, 7)
  // main's self per run: 400, 500, 500.
  assert.deepEqual(rows.main!.perRun!.selfNs, { median: 500, low: 400, high: 500 })
  assert.deepEqual(rows.main!.perRun!.totalNs, { median: 1300, low: 1000, high: 1600 })
  assert.deepEqual(rows.g!.perRun!.totalNs, { median: 100, low: 0, high: 200 })
  assert.deepEqual(rows.g!.perRun!.calls, [0, 1, 1])
  // Sorted by median self: f 700, main 500, g 100.
  assert.deepEqual(
    r.functions!.map((f) => f.function!.qualname),
    ['f', 'main', 'g'],
  )
  const h = r.header.perRun!
  assert.equal(h.spread, 'range')
  assert.deepEqual(h.totalNs, { median: 1300, low: 1000, high: 1600 })
  assert.deepEqual(h.callsDiffer, [
    { label: 'f', min: 2, max: 3 },
    { label: 'g', min: 0, max: 1 },
  ])
  const text = formatReportText(r, { width: 100, style: PLAIN_REPORT })
  assert.match(text, /\nwarning {2}calls differ between runs in 2 functions \(f 2–3, g 0–1\): the runs did different work/)
  assert.match(text, /\n {3}700 ns {2}±150 ns .* 2–3 {2}f {2}app\.py:20\n/)
  assert.match(text, /± half the range \(min–max\)/)
  assert.match(formatReportMarkdown(r), /> \*\*warning\*\*: calls differ between runs in 2 functions \(`f` 2–3, `g` 0–1\)/)
  // A single-run document has no per-run fields.
  const single = buildReport(makeDoc([['main', 1, 1000]]), repeatOptions)
  assert.equal(single.header.perRun, undefined)
  assert.equal(single.functions![0]!.perRun, undefined)
})

test('repeated report: tree nodes matched by call path, callers per run, filters applied to each run', () => {
  const tree = buildReport(threeRuns, { ...repeatOptions, view: 'tree', minPercent: 10 })
  const main = tree.tree![0]!.children[0]!
  assert.equal(main.function!.qualname, 'main')
  const [f] = main.children
  assert.deepEqual(f!.perRun!.totalNs, { median: 700, low: 600, high: 900 })
  // g (300 of 3900 ns summed, 7.7 %) is folded: its median per run is 100 ns.
  assert.deepEqual(main.hidden, { count: 1, totalNs: 300, perRunNs: 100 })
  assert.match(formatReportText(tree, { width: 100, style: PLAIN_REPORT }), /\n {10}100 ns +└─ … 1 more\n/)
  const hidden = buildReport(threeRuns, { ...repeatOptions, hide: ['f'] })
  const mainRow = hidden.functions!.find((x) => x.function!.qualname === 'main')!
  assert.deepEqual(mainRow.perRun!.selfNs, { median: 1200, low: 1000, high: 1400 })
  // Thread ids differ between runs: --thread picks the thread in the merged document, then by role and name in each run.
  const ids = mergeRuns(
    [1, 2, 3].map((i) => {
      const d = makeDoc([['main', 1, 100 * i]])
      return { ...d, threads: d.threads.map((t) => ({ ...t, id: 1000 + i })) }
    }),
  )
  assert.deepEqual(buildReport(ids, { ...repeatOptions, thread: '1001' }).functions![0]!.perRun!.totalNs, { median: 200, low: 100, high: 300 })
  const callers = buildReport(threeRuns, { ...repeatOptions, view: 'callers', target: 'g' })
  assert.deepEqual(callers.neighbours![0]!.perRun!.calls, [0, 1, 1])
  assert.deepEqual(callers.target!.perRun!.selfNs, { median: 100, low: 0, high: 200 })
})

function cli(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '', FORCE_COLOR: undefined, ...env } })
}

test('pyxray report: formats, colors and exit codes', () => {
  const p = join(FIXTURES, 'recursion.json')
  for (const command of ['report', 'diff']) {
    const help = cli([command, '--help'])
    assert.equal(help.status, 0)
    assert.match(help.stdout, new RegExp(`^Usage: pyxray ${command} `))
  }
  assert.match(cli(['--help']).stdout, /\n {2}report PROFILE .*\n {2}diff BASE HEAD /)
  const ok = cli(['report', p, '--tree', '--depth', '2', '--width', '90'])
  assert.equal(ok.status, 0, ok.stderr)
  assert.match(ok.stdout, /thread MainThread/)
  assert.doesNotMatch(ok.stdout, /\x1b\[/, 'no colors off a TTY')
  const colored = cli(['report', p, '--color'])
  assert.match(colored.stdout, /\x1b\[/)
  assert.doesNotMatch(cli(['report', p], { FORCE_COLOR: '1', NO_COLOR: '1' }).stdout, /\x1b\[/, 'NO_COLOR wins')
  const json = cli(['report', p, '--format', 'json', '--callees', 'main'])
  assert.equal(json.status, 0)
  assert.ok(JSON.parse(json.stdout).neighbours.length > 0)
  assert.match(cli(['report', p, '--format', 'markdown']).stdout, /^### pyxray profile/)
  const repeated = JSON.parse(cli(['report', join(FIXTURES, 'repeated.json'), '--format', 'json', '--top', '0']).stdout)
  const fib = repeated.functions.find((f: { function: { qualname: string } }) => f.function.qualname === 'fib')
  assert.deepEqual(fib.perRun.calls, [1973, 1973, 1973, 1973, 1973])
  assert.equal(fib.calls, 5 * 1973, 'the summed fields are kept')
  assert.equal(repeated.header.perRun.spread, 'iqr')
  assert.ok(fib.perRun.selfNs.low <= fib.perRun.selfNs.median && fib.perRun.selfNs.median <= fib.perRun.selfNs.high)

  const dir = mkdtempSync(join(tmpdir(), 'pyxray-report-'))
  const bad = JSON.parse(readFileSync(p, 'utf8'))
  bad.threads[0].root.children[0].totalNs = 'slow'
  writeFileSync(join(dir, 'bad.json'), JSON.stringify(bad))
  const invalid = cli(['report', join(dir, 'bad.json')])
  assert.equal(invalid.status, 2)
  assert.match(invalid.stderr, /bad\.json: invalid profile at \/threads\/0\/root\/children\/0\/totalNs: expected integer/)
  for (const [args, message] of [
    [['report', join(dir, 'missing.json')], /missing\.json: cannot read the profile: no such file/],
    [['report', p, '--callers', 'nope'], /no function named nope/],
    [['report', p, '--thread', 'zzz'], /no thread named zzz: the profile has MainThread/],
    [['report', p, '--sort', 'memory'], /needs memory data: profile with pyxray profile --memory/],
    [['report', p, '--sort', 'speed'], /--sort takes one of self, total, calls, memory, peak/],
    [['report', p, '--tree', '--callers', 'fib'], /give one/],
    [['report', p, '--depth', '2'], /add --tree/],
    [['report'], /report needs one profile file/],
    [['report', p, '--bogus'], /Unknown option '--bogus'/],
  ] as const) {
    const r = cli([...args])
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`)
    assert.match(r.stderr, message)
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace')
  }
})

test('shortFile names an installed package from its import root, also inside a virtualenv', () => {
  assert.equal(shortFile('/venv/lib/python3.12/site-packages/numpy/core/x.py', '/home/me'), 'numpy/core/x.py')
  assert.equal(shortFile('/usr/lib/python3/dist-packages/numpy/core/x.py', '/home/me'), 'numpy/core/x.py')
  assert.equal(shortFile('/usr/lib/python3.12/json/decoder.py', '/home/me'), 'json/decoder.py')
  assert.equal(shortFile('/usr/lib/python3.13t/json/decoder.py', '/home/me'), 'json/decoder.py')
  assert.equal(shortFile('C:\\Py\\Lib\\site-packages\\req\\api.py', 'D:\\w'), 'req\\api.py')
  assert.equal(shortFile('/home/me/app/main.py', '/home/me'), 'app/main.py')
  assert.equal(shortFile('/opt/other/main.py', '/home/me'), '/opt/other/main.py')
})
