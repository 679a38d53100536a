/**
 * `pyxray diff` on constructed profiles with known changes: call-path matching robust to line
 * shifts and checkout folders, deltas, new and vanished paths, the threshold / min-time / α rules
 * with single and repeated runs, JSON valid against schema/diff.schema.json, and the CLI's exit
 * codes 0 / 1 / 2.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { readProfileFile } from '../src/cli/profile-file.js'
import { parseAbCommand, parseDuration, parseThreshold, shellWords } from '../src/cli/diff.js'
import { splitOutput, splitRepeat } from '../src/cli/profile-repeat.js'
import { DEFAULT_DIFF_OPTIONS, type DiffOptions, diffProfiles, type ProfileDiff } from '../src/profile/diff.js'
import { describeRule, formatDiffMarkdown, formatDiffText } from '../src/profile/diff-format.js'
import { type ProfileDocument, toProfileJson } from '../src/profile/document.js'
import { PLAIN_REPORT } from '../src/profile/report-text.js'
import { schemaValidator } from './schemas.js'
import { mergeRuns } from '../src/profile/runs.js'
import { makeDoc, type T } from './profile-docs.js'
import { assertGolden } from './resources.js'

const MAIN = join(import.meta.dirname, '..', 'src', 'cli', 'main.ts')
const FIXTURES = join(import.meta.dirname, 'fixtures', 'profiles')
const MS = 1_000_000
const OPTS: DiffOptions = { ...DEFAULT_DIFF_OPTIONS, minTimeNs: 1 * MS }

/** main → parse (self p ms, total p + t) → tokenize (t ms); main → render (r ms). */
function program(p: number, t: number, r: number, extra: T[] = [], lines?: Record<string, number>, cwd?: string): ProfileDocument {
  return makeDoc(
    [
      [
        'main',
        1,
        (p + t + r + 1) * MS + extra.reduce((s, e) => s + e[2], 0),
        [['parse', 10, (p + t) * MS, [['tokenize', 200, t * MS]]], ['render', 10, r * MS], ...extra],
      ],
    ],
    { ...(lines ? { lines } : {}), ...(cwd ? { cwd } : {}) },
  )
}

function fn(d: ProfileDiff, q: string) {
  const f = d.functions.find((x) => x.qualname === q)
  assert.ok(f, `no ${q} in the diff`)
  return f
}

function validDiff(d: ProfileDiff): void {
  const validate = schemaValidator('diff.schema.json')
  assert.ok(validate(JSON.parse(JSON.stringify(d))), JSON.stringify(validate.errors))
}

test('a grown function is a regression; line shifts and another checkout folder still match', () => {
  const base = program(20, 10, 30)
  const head = program(26, 10, 30, [], { parse: 99, tokenize: 7, render: 1, main: 300 }, '/ci/build/app')
  const d = diffProfiles(base, head, OPTS)
  validDiff(d)
  assert.equal(d.regressions, 1)
  const parse = fn(d, 'parse')
  assert.equal(parse.status, 'regression')
  assert.equal(parse.file, 'app.py')
  assert.equal(parse.delta.selfNs, 6 * MS)
  assert.ok(Math.abs(parse.change! - 0.3) < 1e-12)
  assert.equal(parse.p, null, 'single runs are not tested')
  assert.equal(fn(d, 'tokenize').status, 'unchanged')
  assert.equal(fn(d, 'render').status, 'unchanged')
  // parse's total grew too, and its callers' totals, but by self time only parse is named.
  assert.equal(fn(d, 'main').status, 'unchanged')
  assert.ok(d.nodes.every((n) => n.status !== 'new' && n.status !== 'vanished'), 'every path matched')
  const path = d.nodes.find((n) => n.path.join('/') === 'main/parse/tokenize')!
  assert.equal(path.status, 'unchanged')
  assert.equal(d.nodes[0]!.path.join('/'), 'main')
  assert.equal(d.nodes[0]!.delta.totalNs, 6 * MS)
  assert.match(d.warnings.join('\n'), /single runs/)
  // --metric total names the callers as well (main: 61 → 67 ms, +9.8 %, past a 5 % threshold).
  const total = diffProfiles(base, head, { ...OPTS, metric: 'total', threshold: 0.05 })
  assert.deepEqual(total.functions.filter((f) => f.status === 'regression').map((f) => f.qualname).sort(), ['main', 'parse'])
})

test('threshold and min-time decide what is large; improvements; new and vanished paths', () => {
  const base = program(20, 10, 30, [['old_helper', 5, 2 * MS]])
  // parse +9 % (below 10 %), render −50 %, tokenize +50 % but 0.6 ms → 0.9 ms (below 1 ms).
  const head = makeDoc([
    [
      'main',
      1,
      (21.8 + 15 + 1 + 3) * MS,
      [
        ['parse', 10, 21.8 * MS, [['tokenize', 300, 0.9 * MS]]],
        ['render', 10, 15 * MS],
        ['new_helper', 7, 3 * MS],
      ],
    ],
  ])
  const baseSmall = makeDoc([
    [
      'main',
      1,
      (20 + 30 + 1 + 2) * MS,
      [
        ['parse', 10, 20 * MS, [['tokenize', 200, 0.6 * MS]]],
        ['render', 10, 30 * MS],
        ['old_helper', 5, 2 * MS],
      ],
    ],
  ])
  void base
  const d = diffProfiles(baseSmall, head, OPTS)
  validDiff(d)
  assert.equal(fn(d, 'parse').status, 'unchanged')
  assert.ok(Math.abs(fn(d, 'parse').change! - (21.8 - 0.9 - 19.4) / 19.4) < 1e-9)
  assert.equal(fn(d, 'tokenize').status, 'unchanged')
  assert.equal(fn(d, 'tokenize').large, false)
  assert.equal(fn(d, 'tokenize').callsChanged, true)
  assert.equal(fn(d, 'tokenize').delta.calls, 100)
  assert.equal(fn(d, 'render').status, 'improvement')
  assert.equal(fn(d, 'new_helper').status, 'new')
  assert.equal(fn(d, 'new_helper').base, null)
  assert.equal(fn(d, 'old_helper').status, 'vanished')
  assert.equal(d.regressions, 0)
  // render, and the total (53 ms → 40.8 ms, −23 %)
  assert.equal(d.improvements, 2)
  assert.equal(d.total.status, 'improvement')
  assert.equal(d.verdict, 'pass')
  assert.deepEqual(
    d.nodes.filter((n) => n.status === 'new' || n.status === 'vanished').map((n) => `${n.status} ${n.path.join('/')}`).sort(),
    ['new main/new_helper', 'vanished main/old_helper'],
  )
  // A lower threshold makes parse's 7.7 % a regression; a higher min-time hides everything.
  assert.equal(fn(diffProfiles(baseSmall, head, { ...OPTS, threshold: 0.05 }), 'parse').status, 'regression')
  assert.equal(diffProfiles(baseSmall, head, { ...OPTS, minTimeNs: 100 * MS }).improvements, 0)
  const text = formatDiffText(d, { width: 100, style: PLAIN_REPORT, top: 15 })
  assert.match(text, /verdict {2}0 regressions, 2 improvements/)
  assert.match(text, /\+ main › new_helper/)
  assert.match(text, /- main › old_helper/)
  assert.match(formatDiffMarkdown(d, 15), /^### pyxray diff: ✅ no regression, 2 improvements/)
})

test('repeated runs: medians, Mann-Whitney against the threshold, exact call counts', () => {
  // Base parse self times 20.0–20.8 ms; head 26.0–27.2 ms (+30 %); render jitters ±3 % on both.
  const base = mergeRuns([0, 1, 2, 3, 4].map((i) => program(20 + 0.2 * i, 10, 30 + (i % 2 ? 0.9 : -0.9))))
  const head = mergeRuns([0, 1, 2, 3, 4].map((i) => program(26 + 0.3 * i, 10, 30 + (i % 2 ? -0.9 : 0.9))))
  const d = diffProfiles(base, head, OPTS)
  validDiff(d)
  assert.equal(d.options.test, 'mann-whitney')
  const parse = fn(d, 'parse')
  assert.equal(parse.status, 'regression')
  // Every head run exceeds every base run × 1.1: U = 25, exact p = 1 / C(10, 5).
  assert.ok(Math.abs(parse.p! - 1 / 252) < 1e-12)
  assert.equal(parse.base!.selfNs, 20.4 * MS)
  assert.equal(fn(d, 'render').status, 'unchanged')
  assert.equal(parse.callsChanged, false)

  // A large median change that is not consistent across runs is not significant; far from it
  // (p = 0.34: a few slow runs), it is no finding at all.
  const noisyHead = mergeRuns([26, 19, 27, 20, 26].map((p) => program(p, 10, 30)))
  const noisy = fn(diffProfiles(base, noisyHead, OPTS), 'parse')
  assert.equal(noisy.large, true)
  assert.ok(noisy.p! >= 0.05)
  assert.equal(noisy.status, 'unchanged')
  // Close to significant (U = 20 of 25, p = 0.069 < 2α with the tie correction): inconclusive, neither
  // passed nor failed (run more), and the markdown says so instead of "no regression".
  const leaningHead = mergeRuns([26, 26, 26, 21, 26.5].map((p) => program(p, 10, 30)))
  const leaningDiff = diffProfiles(base, leaningHead, OPTS)
  const leaning = fn(leaningDiff, 'parse')
  assert.ok(leaning.p! >= 0.05 && leaning.p! < 0.1, String(leaning.p))
  assert.equal(leaning.status, 'inconclusive')
  assert.equal(leaningDiff.regressions, 0)
  assert.equal(leaningDiff.verdict, 'inconclusive')
  assert.match(formatDiffMarkdown(leaningDiff, 15), /^### pyxray diff: ⚠️ inconclusive: \d large changes? not significant — run more/)
  assert.match(formatDiffText(leaningDiff, { width: 100, style: PLAIN_REPORT, top: 15 }), /verdict {2}0 regressions, \d inconclusive \(large but not significant: run more\), 0 improvements/)

  // α is configurable: with α = 0.001 no outcome of 5 vs 5 runs can be significant.
  const strict = diffProfiles(base, head, { ...OPTS, alpha: 0.001 })
  assert.equal(fn(strict, 'parse').status, 'inconclusive')
  assert.match(strict.warnings.join('\n'), /no p-value can be below α = 0\.001/)
})

test('option parsing: thresholds, durations, --ab commands', () => {
  assert.equal(parseThreshold('10%'), 0.1)
  assert.equal(parseThreshold('0.25'), 0.25)
  assert.throws(() => parseThreshold('ten'), /--threshold takes a percentage/)
  assert.equal(parseDuration('1ms', '--min-time'), 1e6)
  assert.equal(parseDuration('500us', '--min-time'), 5e5)
  assert.equal(parseDuration('0.2s', '--min-time'), 2e8)
  assert.throws(() => parseDuration('soon', '--min-time'), /--min-time takes a duration/)
  assert.deepEqual(shellWords(`a 'b c' "d \\"e\\"" f\\ g`), ['a', 'b c', 'd "e"', 'f g'])
  assert.deepEqual(parseAbCommand('FAST=1 X=a=b --clock cpu bench.py --n 3'), { rest: ['--clock', 'cpu', 'bench.py', '--n', '3'], env: { FAST: '1', X: 'a=b' } })
  assert.throws(() => parseAbCommand('-o out.json bench.py'), /drop -o/)
  assert.throws(() => parseAbCommand('A=1'), /names no script/)
  // profile --repeat: pyxray's option before the target only; -o is found among the profiler's.
  assert.deepEqual(splitRepeat(['--memory', '--repeat', '5', '-o', 'x.json', 'app.py', '--repeat', '2']), { n: 5, args: ['--memory', '-o', 'x.json', 'app.py', '--repeat', '2'] })
  assert.deepEqual(splitRepeat(['--repeat=3', '-m', 'mod']), { n: 3, args: ['-m', 'mod'] })
  assert.equal(splitRepeat(['app.py', '--repeat', '2']), undefined)
  assert.throws(() => splitRepeat(['--repeat', '0', 'app.py']), /--repeat takes a whole number of runs >= 1, not "0"/)
  assert.deepEqual(splitOutput(['--clock', 'cpu', '-o', 'p.json', 'app.py', '-o', 'mine']), { output: 'p.json', rest: ['--clock', 'cpu', 'app.py', '-o', 'mine'] })
})

function cli(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } })
}

test('pyxray diff: exit 1 names the regression, 0 without one or without --fail-on, 2 for bad input', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pyxray-diff-'))
  const write = (name: string, doc: ProfileDocument) => {
    const p = join(dir, name)
    writeFileSync(p, toProfileJson(doc))
    return p
  }
  const base = write('base.json', program(20, 10, 30))
  const head = write('head.json', program(26, 10, 30))
  const fail = cli(['diff', base, head, '--fail-on', 'regression'])
  assert.equal(fail.status, 1, fail.stderr)
  assert.match(fail.stderr, /1 regression:\n {2}parse \(app\.py\): self time \+30\.0% \(20\.0 ms → 26\.0 ms\)/)
  assert.match(fail.stdout, /verdict {2}1 regression/)
  assert.equal(cli(['diff', base, head]).status, 0, 'no gate without --fail-on')
  assert.equal(cli(['diff', base, head, '--fail-on', 'regression', '--threshold', '40%']).status, 0)
  assert.equal(cli(['diff', base, base, '--fail-on', 'regression']).status, 0)
  const json = cli(['diff', base, head, '--format', 'json'])
  const parsed = JSON.parse(json.stdout) as ProfileDiff
  assert.ok(schemaValidator('diff.schema.json')(parsed))
  assert.equal(parsed.regressions, 1)
  assert.match(cli(['diff', base, head, '--format', 'markdown']).stdout, /^### pyxray diff: ❌ 1 regression/)

  const bad = join(dir, 'bad.json')
  writeFileSync(bad, '{"pyxray": "profile", "version": 1, "metadata": {}}')
  for (const [args, message] of [
    [['diff', base], /diff needs two profiles/],
    [['diff', base, bad], /bad\.json: invalid profile at \/: missing required property "frames"|bad\.json: invalid profile at \/metadata/],
    [['diff', base, join(dir, 'nope.json')], /nope\.json: cannot read the profile: no such file/],
    [['diff', base, head, '--fail-on', 'slowness'], /--fail-on takes regression, inconclusive or both/],
    [['diff', base, head, '--fail-on', 'regression,slowness'], /--fail-on takes regression, inconclusive or both/],
    [['diff', base, head, '--threshold', 'x'], /--threshold takes a percentage/],
    [['diff', base, head, '--alpha', '2'], /--alpha takes a probability/],
    [['diff', base, head, '--metric', 'wall'], /--metric takes self, total or instructions/],
    [['diff', base, head, '--repeat', '3'], /belong to --ab/],
    [['diff', '--ab', 'x.py'], /--ab needs two commands/],
  ] as const) {
    const r = cli([...args])
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`)
    assert.match(r.stderr, message)
    assert.doesNotMatch(r.stderr, /\n\s+at /)
  }
})

test('golden diffs of two real profiles (planted.py, parse() 30 % slower in head)', () => {
  const base = readProfileFile(join(FIXTURES, 'planted-base.json'))
  const head = readProfileFile(join(FIXTURES, 'planted-head.json'))
  const d = diffProfiles(base, head, DEFAULT_DIFF_OPTIONS, { base: 'planted-base.json', head: 'planted-head.json' })
  validDiff(d)
  assert.deepEqual(
    d.functions.filter((f) => f.status === 'regression').map((f) => f.qualname),
    ['parse'],
  )
  assert.ok(d.nodes.every((n) => n.status === 'changed' || n.status === 'unchanged'))
  const outputs: [string, string][] = [
    ['planted.diff.txt', formatDiffText(d, { width: 100, style: PLAIN_REPORT, top: 15 })],
    ['planted.diff-tree.txt', formatDiffText(d, { width: 100, style: PLAIN_REPORT, top: 15, tree: { minPercent: 0 } })],
    ['planted.diff.md', formatDiffMarkdown(d, 15)],
    ['planted.diff-60.txt', formatDiffText(d, { width: 60, style: PLAIN_REPORT, top: 15 })],
    ['planted.diff-tree-60.txt', formatDiffText(d, { width: 60, style: PLAIN_REPORT, top: 15, tree: { minPercent: 0 } })],
  ]
  for (const [name, text] of outputs) {
    assertGolden(join(FIXTURES, 'golden', name), text)
  }
})

test('diff text fits --width 60: header lines wrap under their text, tables drop or narrow columns', () => {
  const planted = diffProfiles(readProfileFile(join(FIXTURES, 'planted-base.json')), readProfileFile(join(FIXTURES, 'planted-head.json')), DEFAULT_DIFF_OPTIONS, { base: 'planted-base.json', head: 'planted-head.json' })
  // A repeated profile against itself: the Mann-Whitney rule is the longest header line.
  const repeated = readProfileFile(join(FIXTURES, 'repeated.json'))
  const self = diffProfiles(repeated, repeated, DEFAULT_DIFF_OPTIONS, { base: 'repeated.json', head: 'repeated.json' })
  assert.equal(self.options.test, 'mann-whitney')
  for (const d of [planted, self]) {
    // Tree indentation grows with depth (as in pyxray report --tree): fib's recursion is cut at --depth 3.
    for (const tree of [undefined, { minPercent: 0, depth: 3 }]) {
      const text = formatDiffText(d, { width: 60, style: PLAIN_REPORT, top: 15, ...(tree ? { tree } : {}) })
      for (const line of text.split('\n')) assert.ok([...line].length <= 60, `wider than 60: ${line}`)
      // The rule is wrapped, not cut: its continuation lines are indented under it and rejoin to the whole rule.
      const lines = text.split('\n')
      const at = lines.findIndex((l) => l.startsWith('rule '))
      const rest = lines.slice(at + 1).filter((_l, i, all) => all.slice(0, i + 1).every((x) => x.startsWith(' '.repeat(9))))
      assert.ok(rest.length >= 1, 'the rule continues on another line')
      assert.equal([lines[at]!, ...rest].map((l) => l.slice(9)).join(' '), describeRule(d))
    }
  }
  // Through the CLI: pyxray diff --width 60 (the files' paths make the side lines longest).
  const r = cli(['diff', join(FIXTURES, 'planted-base.json'), join(FIXTURES, 'planted-head.json'), '--width', '60'])
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /\nrule {5}self time or the total changed by ≥ 10% and ≥ 1\.00\n {9}ms, or a new function or call path adds ≥ 10% of\n {9}the base total \(single runs: no significance test\)\n/)
  for (const line of r.stdout.split('\n')) assert.ok([...line].length <= 60, `wider than 60: ${line}`)
  // At 100 columns the tables keep their full layout.
  assert.match(formatDiffText(planted, { width: 100, style: PLAIN_REPORT, top: 15 }), /\n {5}base {6}head {10}Δ {8}Δ% {6}p {11}calls {2}function\n/)
})
