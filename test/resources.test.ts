/**
 * The suite's own guards (test/resources.ts): a golden that is missing or different fails naming
 * the file and is never written behind the test's back; UPDATE_GOLDEN=1 rewrites only outside CI;
 * a missing resource skips locally and fails under CI=true unless it is optional.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { assertGolden, readGolden, requireResource } from './resources.js'

const WORK = mkdtempSync(join(tmpdir(), 'pyxray-resources-'))

/** Runs `f` with the environment variables `env` set (undefined: removed), then restores them. */
function withEnv(env: Record<string, string | undefined>, f: () => void): void {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]))
  const apply = (values: Record<string, string | undefined>): void => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
  apply(env)
  try {
    f()
  } finally {
    apply(saved)
  }
}

for (const ci of ['true', undefined]) {
  test(`a missing golden fails naming it and is not created (CI=${ci ?? 'unset'})`, () => {
    const path = join(WORK, `missing-${ci ?? 'local'}.txt`)
    withEnv({ CI: ci, UPDATE_GOLDEN: undefined }, () => {
      assert.throws(() => assertGolden(path, 'text'), (e: Error) => e.message.includes(`missing-${ci ?? 'local'}.txt`) && /missing/.test(e.message))
      assert.throws(() => readGolden(path), /missing/)
    })
    assert.ok(!existsSync(path), 'nothing was written')
  })
}

test('a changed golden fails naming it; an equal one passes', () => {
  const path = join(WORK, 'changed.txt')
  writeFileSync(path, 'old\n')
  withEnv({ CI: 'true', UPDATE_GOLDEN: undefined }, () => {
    assert.throws(() => assertGolden(path, 'new\n'), /changed\.txt/)
    assertGolden(path, 'old\n')
  })
})

test('UPDATE_GOLDEN=1 rewrites locally and is refused under CI=true', () => {
  const path = join(WORK, 'update.txt')
  withEnv({ CI: undefined, UPDATE_GOLDEN: '1' }, () => assertGolden(path, 'fresh\n'))
  assert.equal(readFileSync(path, 'utf8'), 'fresh\n')
  withEnv({ CI: 'true', UPDATE_GOLDEN: '1' }, () => assert.throws(() => assertGolden(path, 'other\n'), /refused under CI=true/))
  assert.equal(readFileSync(path, 'utf8'), 'fresh\n')
})

test('a missing resource: skipped locally, a failure under CI=true, optional ones skip everywhere', () => {
  const skipped: string[] = []
  const t = { skip: (reason: string) => skipped.push(reason) } as unknown as TestContext
  withEnv({ CI: undefined }, () => requireResource(t, 'no frobnicator'))
  withEnv({ CI: 'true' }, () => {
    assert.throws(() => requireResource(t, 'no frobnicator'), /no frobnicator \(required under CI=true\)/)
    requireResource(t, 'no bonus tool', { optional: true })
  })
  assert.deepEqual(skipped, ['no frobnicator', 'no bonus tool'])
})
