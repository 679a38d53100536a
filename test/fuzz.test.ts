// Robustness: mutated and truncated real .pyc files (the golden fixtures of every version) go
// through readPyc → toCodeObject → formatDis. Each must give a string or one of the engine's typed
// errors, within a second — never a TypeError, a RangeError, a stack overflow or a hang.
// `npm run fuzz -- --runs 100000` runs the same harness at length (scripts/fuzz.ts).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type PyCode, type PyObject, readMarshal, writeMarshal } from '../src/marshal/index.js'
import { classify, loadSeeds, pipeline, runFuzz } from '../scripts/fuzz.js'
import { SUPPORTED_VERSIONS } from '../src/versions/index.js'

const seeds = loadSeeds()

test('the seeds are real .pyc files of every supported version, and read cleanly', () => {
  const versions = new Set(seeds.map((s) => s.name.split('/')[0]))
  assert.deepEqual([...versions].sort((a, b) => Number(a!.slice(2)) - Number(b!.slice(2))), SUPPORTED_VERSIONS)
  for (const s of seeds) assert.ok(pipeline(s.bytes).every((text) => text.length > 0), s.name)
})

test('3,000 mutated inputs: only typed errors, each under a second', () => {
  const r = runFuzz(seeds, 3000, 20_240_611)
  const failures = r.failures.map((f) => `${f.outcome.label} (${f.outcome.ms.toFixed(0)} ms): ${f.seedName} ${JSON.stringify(f.input)}`)
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

test('back-references that expand a few kilobytes into billions of objects are refused at once', () => {
  const seed = seeds.find((s) => s.name.startsWith('3.12/'))!
  const module = readMarshal(seed.bytes, { pythonVersion: [3, 12] }, 16).value
  assert.ok(module.type === 'code')
  const pyc = (code: PyCode) => Uint8Array.from([...seed.bytes.subarray(0, 16), ...writeMarshal(code, { pythonVersion: [3, 12] })])
  const tuple = (items: PyObject[]): PyObject => ({ type: 'tuple', items, code: 0x28, ref: true })
  // A tuple of 1000 references to a tuple of 1000 references to … a 50-character string.
  let laugh: PyObject = { type: 'str', value: 'ha'.repeat(25), code: 0x7a, ref: true }
  for (let i = 0; i < 3; i++) laugh = tuple(Array(1000).fill(laugh))
  // Code objects whose constants are 200 references to the same nested code object, 3 deep.
  let nested: PyCode = module
  for (let i = 0; i < 3; i++) nested = { ...module, consts: tuple(Array(200).fill(nested)), ref: true }

  for (const bytes of [pyc({ ...module, consts: tuple([laugh]) }), pyc(nested)]) {
    assert.ok(bytes.length < 20_000)
    const outcome = classify(bytes)
    assert.equal(outcome.label, 'PycError PYC_BAD_DATA')
    assert.ok(outcome.ms < 100, `refused in ${outcome.ms} ms`)
  }
})
