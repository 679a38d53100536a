/**
 * The stdlib differential (scripts/stdlib-diff.ts, `npm run test:stdlib`) on a small deterministic
 * sample: for each CPython on the machine, 40 of its stdlib .pyc files must disassemble exactly as
 * its own dis.dis does, round-trip through marshal byte for byte, and give the same co_lines(),
 * co_positions() and dis.findlinestarts().
 *
 * CPython runs here as the oracle (answers are cached in .cache/oracle/). A version that is not
 * installed is skipped with the reason shown — except under CI=true, where every supported version
 * must be present natively (pyenv, and scripts/setup-native-pythons.sh for 3.14/3.15).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ALL_VERSIONS, findInterpreters, type Outcome, runDifferential, type VersionReport } from '../scripts/stdlib-diff.js'

const SAMPLE = 40
const interpreters = findInterpreters()
const underCi = process.env.CI === 'true'

/** One readable line (plus the first lines of the difference) per failed check. */
function problems(report: VersionReport): string[] {
  return report.failures.flatMap((f) => {
    const checks: [string, Outcome | undefined][] = [
      ['dis', f.dis],
      ['marshal round trip', f.roundTrip],
      ['lines', f.lines],
      ['positions', f.positions],
    ]
    return checks.flatMap(([what, o]) => (o && !o.ok ? [`${f.id}: ${what}: ${o.kind}\n    ${o.excerpt.slice(0, 6).join('\n    ')}`] : []))
  })
}

for (const version of ALL_VERSIONS) {
  test(`a stdlib sample of CPython ${version} matches dis, marshal and the line tables`, { timeout: 120_000 }, async (t) => {
    if (!interpreters.some((i) => i.version === version)) {
      assert.ok(!underCi, `CPython ${version} is not installed, and CI=true requires every supported version`)
      t.skip(`CPython ${version} is not installed (looked in pyenv and PYXRAY_PYTHON_PATHS; scripts/setup-native-pythons.sh provides 3.14 and 3.15)`)
      return
    }
    const [report] = await runDifferential({ versions: [version], sample: SAMPLE })
    assert.ok(report, 'one report per version')
    assert.ok(report.files > 0, `no stdlib .pyc files found for ${version}`)
    const found = problems(report)
    if (found.length) assert.fail(`${found.length} problem(s) in ${report.files} files:\n${found.slice(0, 10).join('\n')}`)
  })
}
