/**
 * The programs and configurations of `npm run bench:profile` (scripts/bench_profile.py) work: at a
 * tiny scale (no timing is checked here — overhead is measured by the benchmark), every program
 * computes the same checksum unprofiled, under cProfile and under each pyxray configuration, the
 * trace rows report their engine, and PYXRAY_ACCEL=0 gives the pure-Python one.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { MAX_MINOR } from '../src/versions/index.js'
import { requirePython } from './pyenv.js'

const ROOT = join(import.meta.dirname, '..')
const DRIVER = join(ROOT, 'scripts', 'bench_profile.py')
const CACHE = mkdtempSync(join(tmpdir(), 'pyxray-bench-test-'))
after(() => rmSync(CACHE, { recursive: true, force: true }))

function driver(python: string, args: string[], extra: Record<string, string> = {}): { seconds: number; engine: string | null; result: unknown; programs?: string[] } {
  const env = { PATH: process.env.PATH ?? '', PYTHONPATH: join(ROOT, 'python'), PYXRAY_CACHE_DIR: CACHE, ...extra }
  const r = spawnSync(python, [DRIVER, ...args], { encoding: 'utf8', env })
  assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`)
  return JSON.parse(r.stdout)
}

for (const minor of [12, MAX_MINOR]) {
  test(`bench:profile programs do the same work under every configuration (CPython 3.${minor})`, (t) => {
    const python = requirePython(t, minor)
    if (!python) return
    const probe = driver(python, ['probe'])
    assert.deepEqual(probe.programs, ['fib', 'methods', 'json', 'regex', 'generators', 'comprehensions', 'nbody'])
    for (const program of probe.programs!) {
      const base = driver(python, ['run', program, 'base', '0.02'])
      assert.ok(base.seconds > 0)
      for (const config of ['cprofile', 'trace', 'sample', ...(minor >= 14 ? ['remote'] : []), 'memory']) {
        const r = driver(python, ['run', program, config, '0.02'])
        assert.deepEqual(r.result, base.result, `${program} under ${config}`)
        if (config === 'trace' || config === 'memory') assert.match(String(r.engine), /^(c|python)$/)
      }
      assert.equal(driver(python, ['run', program, 'trace', '0.02'], { PYXRAY_ACCEL: '0' }).engine, 'python')
    }
    const usage = spawnSync(python, [DRIVER, 'run', 'nope', 'base', '1'], { encoding: 'utf8' })
    assert.equal(usage.status, 2)
    assert.match(usage.stderr, /usage: bench_profile\.py/)
  })
}
