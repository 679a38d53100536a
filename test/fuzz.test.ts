// Robustness: mutated and truncated real .pyc files (the golden fixtures of every version) go
// through readPyc → toCodeObject → formatDis, and a deterministic sample of the fuzzer's generated
// inputs (scripts/fuzz-gen.ts: mutations, marshal trees, hostile code objects, raw data) through
// every entry point, the CLI's main() included. Each must give its output within the output budget
// or one of the engine's typed errors — never a TypeError, a RangeError or a stack overflow. No
// timing here: `npm run fuzz -- --runs 100000` runs at length in memory- and time-limited workers.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type PyCode, type PyObject, readMarshal, writeMarshal } from '../src/marshal/index.js'
import { classify, ENTRY_POINTS, generatorSeeds, loadSeeds, pipeline, runFuzz, runRange, Summary } from '../scripts/fuzz.js'
import { INPUT_KINDS } from '../scripts/fuzz-gen.js'
import { SUPPORTED_VERSIONS } from '../src/versions/index.js'

const seeds = loadSeeds()

test('the seeds are real .pyc files of every supported version, and read cleanly', () => {
  const versions = new Set(seeds.map((s) => s.name.split('/')[0]))
  assert.deepEqual([...versions].sort((a, b) => Number(a!.slice(2)) - Number(b!.slice(2))), SUPPORTED_VERSIONS)
  for (const s of seeds) assert.ok(pipeline(s.bytes).every((text) => text.length > 0), s.name)
})

test('3,000 mutated inputs: only typed errors', () => {
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
    assert.equal(outcome.label, 'LimitError LIMIT_OUTPUT')
  }
})

test('400 generated inputs through every entry point: outputs within budget, typed errors only', async () => {
  const summary = new Summary()
  await runRange(generatorSeeds(), 20_261_207, 0, 400, (r) => summary.add(r))
  // Findings of the sample: untyped errors, CLI exits other than 0 and 2, output over budget. (Slow
  // runs and the heap bound are the full run's: they depend on the machine.)
  const findings = summary.findings.filter((f) => !/ ms \(over|heap /.test(f.problem))
  assert.deepEqual(findings, [])
  assert.deepEqual([...summary.byKind.keys()].sort(), [...INPUT_KINDS].sort())
  for (const entry of ENTRY_POINTS) {
    const outcomes = summary.outcomes.get(entry)!
    assert.ok((outcomes.get('ok') ?? 0) > 0, `${entry}: some inputs succeed`)
    assert.ok(outcomes.size >= 5, `${entry}: a variety of outcomes: ${[...outcomes.keys()].join(', ')}`)
  }
  assert.ok([...summary.outcomes.get('cli')!.keys()].some((l) => l.startsWith('exit 2 ')), 'the CLI exits 2 with a typed error')
})
