/**
 * Cross-checks with established tools on the system python3, where Debian's python3-objgraph and
 * python3-memory-profiler are installed: type growth equals objgraph.growth on planted objects, and
 * the line-level memory of a 64 MiB allocation agrees with memory_profiler's RSS increment within
 * 10 %. Skipped with the reason when they are missing (not required under CI=true: they are
 * optional system packages, not part of the toolchain .ci/run installs).
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { requireResource } from './resources.js'

const ROOT = join(import.meta.dirname, '..')
const SYSTEM_PYTHON = '/usr/bin/python3'

function missing(): string | undefined {
  if (!existsSync(SYSTEM_PYTHON)) return `${SYSTEM_PYTHON} is not installed`
  const r = spawnSync(SYSTEM_PYTHON, ['-c', 'import objgraph, memory_profiler, psutil'], { encoding: 'utf8' })
  if (r.status !== 0) return `objgraph / memory_profiler are not installed for ${SYSTEM_PYTHON} (apt-get install -y python3-objgraph python3-memory-profiler); optional, so not required under CI`
  return undefined
}

test('type growth and line memory agree with objgraph and memory_profiler', (t) => {
  const reason = missing()
  if (reason) {
    requireResource(t, reason, { optional: true })
    return
  }
  const r = spawnSync(SYSTEM_PYTHON, [join(ROOT, 'test', 'fixtures', 'memory', 'crosscheck.py')], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: join(ROOT, 'python') } })
  assert.equal(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout) as { growth: Record<string, [number, number]>; lines: { oursBytes: number; theirsMiB: number | null } }
  assert.deepEqual(out.growth, { Thing: [250, 250], Other: [75, 75] })
  assert.ok(out.lines.theirsMiB !== null, 'memory_profiler measured the line')
  const ours = out.lines.oursBytes / 2 ** 20
  assert.ok(Math.abs(ours - out.lines.theirsMiB!) <= 0.1 * out.lines.theirsMiB!, `pyxray ${ours.toFixed(2)} MiB vs memory_profiler ${out.lines.theirsMiB} MiB`)
})
