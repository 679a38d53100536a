/**
 * What a test does when something outside the project is missing or a golden file is involved.
 *
 * - {@link requireResource}: an interpreter, Chromium, Pyodide, a consumer tool… is missing: the
 *   test is skipped with the reason printed, and fails under CI=true (CI installs everything it
 *   needs, so a missing resource there is a broken setup, not a reason to pass).
 * - {@link assertGolden}: compares output with a committed golden file. A missing or different
 *   golden fails, naming the file; `UPDATE_GOLDEN=1` (never under CI=true) rewrites it instead.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, relative } from 'node:path'
import type { TestContext } from 'node:test'

/** True when the suite runs as CI does (every resource required); read at each call. */
export function inCi(): boolean {
  return process.env.CI === 'true'
}

/**
 * Marks the test skipped because `reason` (what is missing and how to get it), or fails it under
 * CI=true. Optional extras (a bonus cross-check) pass `{ optional: true }` and skip under CI too,
 * still printing the reason. Returns nothing; the caller returns right after.
 */
export function requireResource(t: TestContext, reason: string, options: { optional?: boolean } = {}): void {
  if (inCi() && !options.optional) assert.fail(`${reason} (required under CI=true)`)
  t.skip(reason)
}

/** Whether goldens are being rewritten: UPDATE_GOLDEN=1 outside CI. */
function updating(): boolean {
  if (process.env.UPDATE_GOLDEN !== '1') return false
  if (inCi()) assert.fail('UPDATE_GOLDEN=1 is refused under CI=true: goldens are checked there, never written')
  return true
}

/**
 * `actual` must equal the golden file at `path`. With UPDATE_GOLDEN=1 the file is (re)written
 * (review the diff before committing). A missing golden fails: nothing is written behind the
 * test's back, so deleting goldens can never make the suite pass.
 */
export function assertGolden(path: string, actual: string, what = ''): void {
  const name = relative(process.cwd(), path)
  if (updating()) {
    mkdirSync(dirname(path), { recursive: true })
    writeFileSync(path, actual)
    return
  }
  if (!existsSync(path)) assert.fail(`golden ${name} is missing${what ? ` (${what})` : ''}: run with UPDATE_GOLDEN=1 to create it, review it, commit it`)
  const expected = readFileSync(path, 'utf8')
  if (actual !== expected) assert.equal(actual, expected, `output differs from golden ${name}${what ? ` (${what})` : ''}; if the change is intended, rerun with UPDATE_GOLDEN=1 and review the diff`)
}

/** Reads a golden input/expectation file, failing with its name when it is missing. */
export function readGolden(path: string): string {
  if (!existsSync(path)) assert.fail(`golden ${relative(process.cwd(), path)} is missing: regenerate the fixtures (see DEVELOPERS.md) and commit them`)
  return readFileSync(path, 'utf8')
}
