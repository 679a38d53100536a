// Robustness: mutated and truncated real .pyc files (the golden fixtures of every version) go
// through readPyc → toCodeObject → formatDis. Each must give a string or one of the engine's typed
// errors, within a second — never a TypeError, a RangeError, a stack overflow or a hang.
// `npm run fuzz -- --runs 100000` runs the same harness at length (scripts/fuzz.ts).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { classify, loadSeeds, pipeline, runFuzz } from '../scripts/fuzz.js'

const seeds = loadSeeds()

test('the seeds are real .pyc files of every version 3.8–3.14, and read cleanly', () => {
  const versions = new Set(seeds.map((s) => s.name.split('/')[0]))
  assert.deepEqual([...versions].sort((a, b) => Number(a!.slice(2)) - Number(b!.slice(2))), [
    '3.8', '3.9', '3.10', '3.11', '3.12', '3.13', '3.14',
  ])
  for (const s of seeds) assert.equal(typeof pipeline(s.bytes), 'string', s.name)
})

test('3,000 mutated inputs: only typed errors, each under a second', () => {
  const r = runFuzz(seeds, 3000, 20_240_611)
  const failures = r.failures.map((f) => `${f.outcome.label} (${f.outcome.ms.toFixed(0)} ms): ${f.seedName} ${JSON.stringify(f.input.mutations)}`)
  assert.deepEqual(failures, [])
  assert.ok((r.counts.get('ok') ?? 0) > 0, 'some mutations still read (e.g. changed instructions)')
  assert.ok(r.counts.size >= 8, `a variety of outcomes: ${[...r.counts.keys()].join(', ')}`)
})

test('every truncation of a few seeds of each version is a typed error', () => {
  const perVersion = new Map<string, (typeof seeds)[number]>()
  for (const s of seeds) if (!perVersion.has(s.name.split('/')[0]!)) perVersion.set(s.name.split('/')[0]!, s)
  for (const s of perVersion.values()) {
    for (let n = 0; n < s.bytes.length; n++) {
      const outcome = classify(s.bytes.subarray(0, n))
      assert.ok(outcome.crash === undefined && outcome.label !== 'ok', `${s.name} cut at ${n}: ${outcome.label}`)
    }
  }
})
