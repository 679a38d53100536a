// Robustness: mutated and truncated real .pyc files (the golden fixtures of every version) go
// through readPyc → toCodeObject → formatDis, and a deterministic sample of the fuzzer's generated
// inputs (scripts/fuzz-gen.ts: mutations, marshal trees, hostile code objects, raw data) through
// every entry point, the CLI's main() included. Each must give its output within the output budget
// or one of the engine's typed errors — never a TypeError, a RangeError or a stack overflow.
// Generated profile and memory documents go through report, diff, export, the HTML report, the
// memory reader and the server's loader; hostile requests through a `pyxray serve` started in this
// process (scripts/fuzz-docs.ts, scripts/fuzz-targets.ts). No timing here: `npm run fuzz -- --runs 100000` runs at length in memory- and time-limited workers.
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { type PyCode, type PyObject, readMarshal, writeMarshal } from '../src/marshal/index.js'
import { classify, closeFuzz, DOC_ENTRY_POINTS, generatorSeeds, loadSeeds, pipeline, PYC_ENTRY_POINTS, REQUEST_ENTRY_POINTS, runFuzz, runRange, Summary } from '../scripts/fuzz.js'
import { generate, PYC_KINDS } from '../scripts/fuzz-gen.js'
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

after(closeFuzz)

/** Runs the first `n` inputs of `seed` whose kind `want` accepts; returns the summary's findings (slow runs and heap left out: they are the full run's, they depend on the machine). */
async function sample(seed: number, n: number, want: (kind: string) => boolean): Promise<Summary> {
  const seeds = generatorSeeds()
  const summary = new Summary()
  for (let index = 0, taken = 0; taken < n; index++) {
    if (!want(generate(seeds, seed, index).kind)) continue
    taken++
    await runRange(seeds, seed, index, index + 1, (r) => summary.add(r))
  }
  return summary
}

const realFindings = (s: Summary) => s.findings.filter((f) => !/ ms \(over|heap /.test(f.problem))

test('200 generated .pyc inputs through every entry point: outputs within budget, typed errors only', async () => {
  const summary = await sample(20_261_207, 200, (k) => PYC_KINDS.includes(k as never))
  // Findings of the sample: untyped errors, CLI exits other than 0 and 2, output over budget.
  assert.deepEqual(realFindings(summary), [])
  assert.deepEqual([...summary.byKind.keys()].sort(), [...PYC_KINDS].sort())
  for (const entry of PYC_ENTRY_POINTS) {
    const outcomes = summary.outcomes.get(entry)!
    assert.ok((outcomes.get('ok') ?? 0) > 0, `${entry}: some inputs succeed`)
    assert.ok(outcomes.size >= 5, `${entry}: a variety of outcomes: ${[...outcomes.keys()].join(', ')}`)
  }
  assert.ok([...summary.outcomes.get('cli')!.keys()].some((l) => l.startsWith('exit 2 ')), 'the CLI exits 2 with a typed error')
})

test('120 generated profile and memory documents through report, diff, export, HTML, the memory reader and the server loader: exit 0, 1 (gate) or 2 with one line, no ESC, nothing closes the page\'s script', async () => {
  const summary = await sample(20_261_207, 120, (k) => k === 'profile' || k === 'memory')
  assert.deepEqual(realFindings(summary), [])
  assert.deepEqual([...summary.byKind.keys()].sort(), ['memory', 'profile'])
  for (const entry of DOC_ENTRY_POINTS) {
    const outcomes = summary.outcomes.get(entry)!
    assert.ok((outcomes.get('ok') ?? 0) > 0, `${entry}: some documents are read and rendered: ${[...outcomes.keys()].join(', ')}`)
    assert.ok(outcomes.size >= 3, `${entry}: a variety of outcomes: ${[...outcomes.keys()].join(', ')}`)
  }
  for (const entry of ['report', 'diff', 'export'] as const) {
    assert.ok([...summary.outcomes.get(entry)!.keys()].some((l) => l.startsWith('exit 2 invalid profile')), `${entry}: a schema error, exit 2`)
  }
})

test('60 hostile requests to a pyxray serve in this process: each answered 2xx-4xx, never a throw; secrets, FIFOs and devices refused', async () => {
  const summary = await sample(20_261_207, 60, (k) => k === 'request')
  assert.deepEqual(realFindings(summary), [])
  for (const entry of REQUEST_ENTRY_POINTS) assert.ok(summary.outcomes.get(entry), entry)
  const statuses = [...summary.outcomes.get('server')!.keys()]
  for (const s of ['status 400', 'status 403', 'status 404']) assert.ok(statuses.includes(s), `${s} among ${statuses.join(', ')}`)
  const verdicts = [...summary.outcomes.get('request-parse')!.keys()]
  for (const v of ['ok', 'refused 400', 'refused 403']) assert.ok(verdicts.includes(v), `${v} among ${verdicts.join(', ')}`)
})
