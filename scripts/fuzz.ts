/**
 * Fuzzes the whole reading pipeline — readPyc → toCodeObject → formatDis — with mutated real .pyc
 * files (the golden fixtures of every version): bit flips, byte overwrites, swapped type codes,
 * insertions, deletions, truncations and length fields set to huge values — applied to the file,
 * or to the bytecode, line table, exception table or local kinds of one of its code objects.
 * Every input must give a string or one of the engine's typed errors, within a second.
 *
 *   npm run fuzz -- [--runs 100000] [--seed N]
 *
 * prints how many inputs ended in each outcome and the slowest input; exits 1 on any crash or slow
 * input. test/fuzz.test.ts runs the same harness with fewer inputs.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { BytecodeError, ExceptionTableError, formatDis, LineTableError, toCodeObject } from '../src/bytecode/index.js'
import { MarshalError, type PyCode, type PyObject, writeMarshal } from '../src/marshal/index.js'
import { PycError, readPyc } from '../src/pyc/index.js'

/** An input slower than this is a failure. */
export const SLOW_MS = 1000

/** A real .pyc to start from. */
export interface Seed {
  /** `<version>/<file>`, e.g. "3.12/closures.pyc". */
  readonly name: string
  readonly bytes: Uint8Array
}

/** The small .pyc fixtures (≤ `maxBytes`) of every version under `dir`, sorted by name. */
export function loadSeeds(dir = join(fileURLToPath(import.meta.url), '../../test/fixtures/pyc'), maxBytes = 4096): Seed[] {
  const seeds: Seed[] = []
  for (const version of readdirSync(dir).sort()) {
    for (const file of readdirSync(join(dir, version)).sort()) {
      if (!file.endsWith('.pyc')) continue
      const bytes = readFileSync(join(dir, version, file))
      if (bytes.length <= maxBytes) seeds.push({ name: `${version}/${file}`, bytes: new Uint8Array(bytes) })
    }
  }
  return seeds
}

/** One edit of the bytes; positions are taken modulo the current length. */
export type Mutation =
  | { readonly kind: 'flip'; readonly at: number; readonly bit: number }
  | { readonly kind: 'set'; readonly at: number; readonly byte: number }
  | { readonly kind: 'retype'; readonly at: number; readonly code: number }
  | { readonly kind: 'insert'; readonly at: number; readonly bytes: readonly number[] }
  | { readonly kind: 'delete'; readonly at: number; readonly count: number }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'huge'; readonly at: number; readonly value: number }

/** Marshal type codes, with and without FLAG_REF, for 'retype'. */
const TYPE_CODES = [...'0NFTS.iIfgxylstr()[{cu?<>azZ:'].flatMap((c) => [c.charCodeAt(0), c.charCodeAt(0) | 0x80])
/** Type codes followed by an int32 length or count (a uint8 one for ')', 'z', 'Z'). */
const LENGTH_CODES = new Set([...'ls()[<>uatAzZr'].map((c) => c.charCodeAt(0)))

const at = fc.nat()
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at, bit: fc.nat(7) }),
  fc.record({ kind: fc.constant('set' as const), at, byte: fc.nat(255) }),
  fc.record({ kind: fc.constant('retype' as const), at, code: fc.constantFrom(...TYPE_CODES) }),
  fc.record({ kind: fc.constant('insert' as const), at, bytes: fc.array(fc.nat(255), { minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('delete' as const), at, count: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at }),
  fc.record({
    kind: fc.constant('huge' as const),
    at,
    value: fc.constantFrom(0x7fffffff, 0xffffffff, 0x80000000, 0x40000000, 0x10000, 0xff, 4097),
  }),
)

/** The bytes fields of a code object that field-level inputs edit. */
const FIELDS = ['bytecode', 'linetable', 'exceptiontable', 'localspluskinds'] as const

/** A fuzz input: which seed, where the edits go, and the edits. */
export interface FuzzInput {
  readonly seed: number
  /**
   * 'file': the .pyc bytes themselves. A field name: the contents of that bytes field of the
   * `codeIndex`-th code object (depth first, modulo their number), written back with writeMarshal
   * so that the marshal layer is intact and the edits reach the bytecode decoders.
   */
  readonly target: 'file' | (typeof FIELDS)[number]
  readonly codeIndex: number
  readonly mutations: readonly Mutation[]
}

/** Inputs over `seedCount` seeds, each with 1–4 mutations; half edit the file, half a field. */
export function fuzzInput(seedCount: number): fc.Arbitrary<FuzzInput> {
  return fc.record({
    seed: fc.nat(seedCount - 1),
    target: fc.constantFrom('file' as const, 'file' as const, 'file' as const, ...FIELDS),
    codeIndex: fc.nat(),
    mutations: fc.array(mutation, { minLength: 1, maxLength: 4 }),
  })
}

/** The bytes of a fuzz input. */
export function build(seeds: readonly Seed[], input: FuzzInput): Uint8Array {
  const seed = seeds[input.seed]!.bytes
  if (input.target === 'file') return mutate(seed, input.mutations)
  const pyc = readPyc(seed)
  const codes: PyCode[] = []
  const walk = (c: PyCode) => {
    codes.push(c)
    if (c.consts.type === 'tuple') for (const x of c.consts.items) if (x.type === 'code') walk(x)
  }
  walk(pyc.code)
  const target = codes[input.codeIndex % codes.length]!
  // Before 3.11 there is no exception table nor local kinds: edit the bytecode instead.
  const field = target[input.target] === undefined ? 'bytecode' : input.target
  const old = target[field]
  if (old?.type !== 'bytes') return seed
  const edited: PyCode = { ...target, [field]: { ...old, value: mutate(old.value, input.mutations) } }
  const swap = (o: PyObject): PyObject => {
    if (o === target) return edited
    if (o.type !== 'code' || o.consts.type !== 'tuple') return o
    return { ...o, consts: { ...o.consts, items: o.consts.items.map(swap) } }
  }
  const data = writeMarshal(swap(pyc.code), { pythonVersion: pyc.version })
  return Uint8Array.from([...seed.subarray(0, pyc.header?.byteLength ?? 0), ...data])
}

/** Applies the mutations to a copy of `seed`. */
export function mutate(seed: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let b = Uint8Array.from(seed)
  for (const m of mutations) {
    const n = b.length
    if (n === 0 && m.kind !== 'insert') continue
    const i = n === 0 ? 0 : m.at % n
    switch (m.kind) {
      case 'flip':
        b[i]! ^= 1 << m.bit
        break
      case 'set':
        b[i] = m.byte
        break
      case 'retype':
        b[i] = m.code
        break
      case 'insert':
        b = Uint8Array.from([...b.subarray(0, i), ...m.bytes, ...b.subarray(i)])
        break
      case 'delete':
        b = Uint8Array.from([...b.subarray(0, i), ...b.subarray(i + m.count)])
        break
      case 'truncate':
        b = b.slice(0, i)
        break
      case 'huge': {
        // The length after the first length-prefixed type code at or after i (wrapping round).
        let j = i
        while (j < i + n && !LENGTH_CODES.has(b[j % n]! & 0x7f)) j++
        j %= n
        const code = b[j]! & 0x7f
        if (code === 0x29 || code === 0x7a || code === 0x5a) b[j + 1] = m.value & 0xff
        else if (j + 5 <= n) new DataView(b.buffer).setUint32(j + 1, m.value, true)
        break
      }
    }
  }
  return b
}

/** The pipeline under test: read, build the code objects, format as dis (plain and with everything shown). */
export function pipeline(bytes: Uint8Array): string[] {
  const pyc = readPyc(bytes)
  const code = toCodeObject(pyc.code, pyc.version[1])
  return [formatDis(code), formatDis(code, { showCaches: true, showOffsets: true, showPositions: true })]
}

/** What one input did: 'ok', the typed error's class and code, or a crash. */
export interface Outcome {
  /** "ok", e.g. "PycError PYC_BAD_DATA (MARSHAL_TRUNCATED)", or "CRASH <error name>". */
  readonly label: string
  readonly ms: number
  /** The untyped error, for a crash. */
  readonly crash?: unknown
}

/** Runs the pipeline on `bytes` and classifies the result. */
export function classify(bytes: Uint8Array): Outcome {
  const t0 = performance.now()
  let label = 'ok'
  let crash: unknown
  try {
    if (!pipeline(bytes).every((text) => typeof text === 'string')) throw new TypeError('formatDis returned a non-string')
  } catch (e) {
    if (e instanceof PycError) {
      const cause = e.cause instanceof MarshalError ? ` (${e.cause.code})` : ''
      label = `PycError ${e.code}${cause}`
    } else if (
      e instanceof MarshalError ||
      e instanceof BytecodeError ||
      e instanceof LineTableError ||
      e instanceof ExceptionTableError
    ) {
      label = `${e.name} ${e.code}`
    } else {
      label = `CRASH ${e instanceof Error ? `${e.name}: ${e.message.slice(0, 80)}` : String(e)}`
      crash = e
    }
  }
  return { label, ms: performance.now() - t0, ...(crash !== undefined ? { crash } : {}) }
}

/** Totals of a fuzz run. */
export interface FuzzReport {
  readonly runs: number
  /** Inputs per outcome label. */
  readonly counts: ReadonlyMap<string, number>
  /** Crashes and slow inputs, each with the input that caused it. */
  readonly failures: readonly { readonly input: FuzzInput; readonly seedName: string; readonly outcome: Outcome }[]
  readonly slowest: { readonly ms: number; readonly seedName: string; readonly input?: FuzzInput }
  readonly seconds: number
}

/** Runs `runs` mutated inputs with fast-check's generator seeded by `seed`; never stops early. */
export function runFuzz(seeds: readonly Seed[], runs: number, seed: number): FuzzReport {
  const counts = new Map<string, number>()
  const failures: { input: FuzzInput; seedName: string; outcome: Outcome }[] = []
  let slowest: { ms: number; seedName: string; input?: FuzzInput } = { ms: 0, seedName: '' }
  const t0 = performance.now()
  fc.assert(
    fc.property(fuzzInput(seeds.length), (input) => {
      const s = seeds[input.seed]!
      const outcome = classify(build(seeds, input))
      counts.set(outcome.label, (counts.get(outcome.label) ?? 0) + 1)
      if (outcome.ms > slowest.ms) slowest = { ms: outcome.ms, seedName: s.name, input }
      if (outcome.crash !== undefined || outcome.ms > SLOW_MS) failures.push({ input, seedName: s.name, outcome })
    }),
    { numRuns: runs, seed },
  )
  return { runs, counts, failures, slowest, seconds: (performance.now() - t0) / 1000 }
}

function main(argv: string[]): number {
  const options = { runs: 100_000, seed: 42 }
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i]
    const value = Number(argv[i + 1])
    if ((name !== '--runs' && name !== '--seed') || !Number.isSafeInteger(value)) {
      console.error(`usage: npm run fuzz -- [--runs N] [--seed N]  (not understood: ${argv.slice(i).join(' ')})`)
      return 2
    }
    options[name === '--runs' ? 'runs' : 'seed'] = value
  }
  const seeds = loadSeeds()
  const versions = new Set(seeds.map((s) => s.name.split('/')[0]))
  console.log(`${options.runs} inputs from ${seeds.length} seed .pyc files (${[...versions].join(', ')}), seed ${options.seed}`)
  const r = runFuzz(seeds, options.runs, options.seed)
  const width = Math.max(...[...r.counts.keys()].map((k) => k.length))
  for (const [label, n] of [...r.counts].sort((a, b) => b[1] - a[1])) {
    console.log(`  ${label.padEnd(width)}  ${String(n).padStart(7)}  ${((100 * n) / r.runs).toFixed(2).padStart(6)} %`)
  }
  console.log(`slowest input: ${r.slowest.ms.toFixed(1)} ms (${r.slowest.seedName} ${JSON.stringify(r.slowest.input)})`)
  console.log(`${r.seconds.toFixed(1)} s in all, ${((1000 * r.seconds) / r.runs).toFixed(2)} ms per input`)
  for (const f of r.failures.slice(0, 10)) {
    console.log(`FAILURE ${f.outcome.label} in ${f.outcome.ms.toFixed(0)} ms: ${f.seedName} ${JSON.stringify(f.input)}`)
    if (f.outcome.crash instanceof Error) console.log(f.outcome.crash.stack)
  }
  console.log(r.failures.length === 0 ? 'no crashes, no slow inputs' : `${r.failures.length} failure(s)`)
  return r.failures.length === 0 ? 0 : 1
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) process.exitCode = main(process.argv.slice(2))
