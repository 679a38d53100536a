/**
 * The gate's acceptance on committed profiles made by the real agent (scripts/gen-profile-fixtures.mjs,
 * test/fixtures/profiles/src/gate.py, CPU clock, C engine), so nothing here depends on this
 * machine's timing:
 * - a branch that only adds a new validate() call (~30 % of its run time) fails the gate, as a new
 *   function, a new call path and a larger total, with repeated runs and with single runs;
 * - two different programs compare with a warning that their command lines differ;
 * - 20 A/A comparisons (7 runs against 7 other runs of the unchanged program, drawn with a fixed
 *   seed from a pool of 20) raise no alarm: no regression, no inconclusive, no improvement;
 * - `--fail-on regression,inconclusive` chooses which verdicts exit 1 (2 stays for usage errors);
 * - call trees thousands of levels deep diff without recursion.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { parseFailOn } from '../src/cli/diff.js'
import { readProfileFile } from '../src/cli/profile-file.js'
import { DEFAULT_DIFF_OPTIONS, diffProfiles } from '../src/profile/diff.js'
import { formatDiffMarkdown, formatDiffText } from '../src/profile/diff-format.js'
import { type ProfileDocument, toProfileJson } from '../src/profile/document.js'
import { PLAIN_REPORT } from '../src/profile/report-text.js'
import { mergeRuns } from '../src/profile/runs.js'
import { makeDoc } from './profile-docs.js'

const MAIN = join(import.meta.dirname, '..', 'src', 'cli', 'main.ts')
const FIXTURES = join(import.meta.dirname, 'fixtures', 'profiles')
const fixture = (name: string) => join(FIXTURES, `${name}.json`)
const WORK = mkdtempSync(join(tmpdir(), 'pyxray-gate-'))
after(() => rmSync(WORK, { recursive: true, force: true }))

function cli(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } })
}

/** The runs of a repeated document as documents of one run each. */
function runsAsDocs(doc: ProfileDocument): ProfileDocument[] {
  return doc.runs!.map((run): ProfileDocument => ({ ...doc, metadata: run.metadata, threads: run.threads, runs: undefined }) as ProfileDocument)
}

test('a branch that only adds a new 30 % call fails the gate (repeated and single runs)', () => {
  const base = readProfileFile(fixture('gate-base'))
  const head = readProfileFile(fixture('gate-head'))
  const d = diffProfiles(base, head, DEFAULT_DIFF_OPTIONS, { base: 'gate-base.json', head: 'gate-head.json' })
  assert.equal(d.options.test, 'mann-whitney')
  assert.equal(d.verdict, 'regression')
  const validate = d.functions.find((f) => f.qualname === 'validate')!
  assert.equal(validate.status, 'regression', 'the new function counts')
  assert.equal(validate.base, null)
  const path = d.nodes.find((n) => n.path[n.path.length - 1] === 'validate')!
  assert.equal(path.gate, 'regression', 'the new call path counts')
  const share = path.head!.totalNs / d.head.totalNs
  assert.ok(share > 0.2 && share < 0.4, `validate() is about 30 % of the branch's run time: ${(100 * share).toFixed(1)} %`)
  assert.equal(d.total.status, 'regression', 'the total grew by ~43 %')
  // Nothing that did not change is named.
  assert.deepEqual(d.functions.filter((f) => f.status === 'regression').map((f) => f.qualname), ['validate'])
  assert.match(formatDiffMarkdown(d, 15), /^### pyxray diff: ❌ 3 regressions/)
  assert.match(formatDiffText(d, { width: 100, style: PLAIN_REPORT, top: 15 }), /! <module> › main › validate/)

  // Single runs (no significance test): the same findings.
  const single = diffProfiles(runsAsDocs(base)[0]!, runsAsDocs(head)[0]!, DEFAULT_DIFF_OPTIONS)
  assert.equal(single.options.test, 'none')
  assert.equal(single.verdict, 'regression')
  assert.equal(single.functions.find((f) => f.qualname === 'validate')!.status, 'regression')

  // Through the CLI: exit 1, each finding named.
  const r = cli(['diff', fixture('gate-base'), fixture('gate-head'), '--fail-on', 'regression'])
  assert.equal(r.status, 1, r.stdout + r.stderr)
  assert.match(r.stderr, /^pyxray: 3 regressions:\n {2}validate \(gate\.py\): self time new .*\n {2}new call path <module> › main › validate: \+[\d.]+ ms = [\d.]+% of the base total, p = [\d.<]+\n {2}total time \+\d+\.\d%/)
})

test('different programs: a warning that the command lines differ', () => {
  const d = diffProfiles(readProfileFile(fixture('planted-base')), readProfileFile(fixture('gate-base')), DEFAULT_DIFF_OPTIONS)
  assert.match(d.warnings.join('\n'), /different command lines \(argv "planted\.py" vs "gate\.py"\)/)
  const r = cli(['diff', fixture('planted-base'), fixture('gate-base')])
  assert.match(r.stdout, /warning {2}the profiles ran different command lines/)
  assert.match(cli(['diff', fixture('planted-base'), fixture('gate-base'), '--format', 'markdown']).stdout, /> \*\*warning\*\*: the profiles ran different command lines/)
  // The same program in another checkout folder is the same command line.
  const base = readProfileFile(fixture('gate-base'))
  const moved = { ...base, metadata: { ...base.metadata, cwd: '/elsewhere/src', argv: ['/elsewhere/src/gate.py'] }, runs: base.runs!.map((r) => ({ ...r, metadata: { ...r.metadata, cwd: '/elsewhere/src', argv: ['/elsewhere/src/gate.py'] } })) } as ProfileDocument
  assert.deepEqual(diffProfiles(base, moved, DEFAULT_DIFF_OPTIONS).warnings.filter((w) => /command lines/.test(w)), [])
})

test('20 A/A comparisons of repeated runs of the unchanged program: no alarm', () => {
  const runs = runsAsDocs(readProfileFile(fixture('gate-aa')))
  assert.equal(runs.length, 20)
  let seed = 20261207
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
  const alarms: string[] = []
  for (let c = 0; c < 20; c++) {
    const order = runs.map((_, i) => [random(), i] as const).sort((a, b) => a[0] - b[0]).map(([, i]) => i)
    const base = mergeRuns(order.slice(0, 7).map((i) => runs[i]!))
    const head = mergeRuns(order.slice(7, 14).map((i) => runs[i]!))
    const d = diffProfiles(base, head, DEFAULT_DIFF_OPTIONS)
    assert.equal(d.options.test, 'mann-whitney')
    if (d.verdict !== 'pass' || d.improvements > 0) alarms.push(`comparison ${c}: ${d.verdict}, ${d.improvements} improvements`)
    assert.deepEqual(d.warnings, [], `comparison ${c}: the same program, interpreter and mode`)
  }
  assert.deepEqual(alarms, [])
})

test('--fail-on chooses which verdicts fail: regression, inconclusive or both', () => {
  const MS = 1_000_000
  const program = (p: number) => makeDoc([['main', 1, (p + 61) * MS, [['parse', 10, p * MS], ['render', 10, 60 * MS]]]])
  // parse +27 % in the median, in 4 runs of 5 (p = 0.069): inconclusive, not a regression; the
  // total grows by less than the threshold.
  const base = join(WORK, 'base.json')
  const head = join(WORK, 'head.json')
  writeFileSync(base, toProfileJson(mergeRuns([20, 20.2, 20.4, 20.6, 20.8].map(program))))
  writeFileSync(head, toProfileJson(mergeRuns([26, 26, 26, 21, 26.5].map(program))))
  const regression = cli(['diff', base, head, '--fail-on', 'regression'])
  assert.equal(regression.status, 0, regression.stderr)
  assert.match(regression.stdout, /verdict {2}0 regressions, 1 inconclusive \(large but not significant: run more\)/)
  for (const failOn of ['inconclusive', 'regression,inconclusive']) {
    const r = cli(['diff', base, head, '--fail-on', failOn])
    assert.equal(r.status, 1, `${failOn}: ${r.stderr}`)
    assert.match(r.stderr, /^pyxray: 1 inconclusive \(large but not significant: run more\):\n {2}parse \(app\.py\): self time \+27\.\d% .*p = 0\.0[5-9]\d*\)/)
  }
  assert.match(cli(['diff', base, head, '--format', 'markdown']).stdout, /^### pyxray diff: ⚠️ inconclusive: 1 large change not significant — run more/)
  assert.deepEqual([...parseFailOn('regression, inconclusive')], ['regression', 'inconclusive'])
  const bad = cli(['diff', base, head, '--fail-on', 'regresion'])
  assert.equal(bad.status, 2)
  assert.match(bad.stderr, /--fail-on takes regression, inconclusive or both \(regression,inconclusive\), not "regresion"/)
})
