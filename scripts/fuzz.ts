/**
 * The fuzzer: hostile inputs through every engine entry point, each in a memory- and
 * time-limited worker process.
 *
 *   npm run fuzz -- [--runs 100000] [--seed N] [--workers 1] [--only INDEX] [--in-process]
 *
 * Inputs (scripts/fuzz-gen.ts): mutated real .pyc files of every version, generated marshal trees
 * (every type code, extreme lengths, counts, depths, back-references), hostile code objects (line,
 * location and exception tables, co_stacksize, opargs; shaped bytecode: huge counts such as
 * UNPACK_SEQUENCE 65535 under a run of instructions, EXTENDED_ARG chains, growing stacks,
 * unreachable runs, thousands of overlapping exception-table entries) and raw hostile data. Entry points
 * ({@link ENTRY_POINTS}): the library API (readPyc, toCodeObject, disassemble, line tables), dis in
 * every format and option, formatDisBytes, the text view, the JSON document, the code inspector
 * (text and JSON), the stack view (text and JSON), compare's static document, and the CLI itself
 * (`main()` with a rotating command line per input). Profile and memory documents and server
 * requests (scripts/fuzz-docs.ts) go through their own entry points (scripts/fuzz-targets.ts):
 * report, diff, export, the HTML report, the memory reader, the server's loader; the request
 * parser, a `pyxray serve` in the worker, the /api/source reader. Two inputs in every 1,000 (a
 * .pyc and a document) also run in a separate `node` process, checking its exit code. Every
 * output of a .pyc input is checked against the output budget.
 *
 * Inputs run in batches in worker processes started with `--max-old-space-size` (256 MB + 64×
 * the largest input) and watched by the parent: an input that takes longer than
 * {@link HANG_MS} kills its worker, a worker that dies (out of memory) is restarted after the
 * input, and both are findings. The summary: inputs, outcomes per entry point, the slowest entry
 * point run and the largest heap, and every finding with the command that reproduces it; exit 1
 * when there is a finding (an untyped error, a run over {@link SLOW_MS}, output over budget, a
 * heap over the bound, a death or a hang).
 *
 * Time is CPU time. A worker is one process that runs one input's entry points one after the
 * other, so the `process.cpuUsage()` delta around an entry point (user + system, all of the
 * process's threads: the garbage collector's included) is the work that entry point did, whatever
 * else the machine runs; wall time (`performance.now()`) is inflated by other processes on a
 * loaded machine (a 1 s run took 18 s on two busy cores). The slow check ({@link SLOW_MS}) is on
 * CPU time; wall time is reported alongside (the summary's `max … ms CPU / … ms wall` per entry
 * point). Only the hang check ({@link HANG_MS}, the parent's timer) is on wall time, with a margin
 * wide enough for a loaded machine. The heap check is unchanged: the largest
 * `used_heap_size + external_memory` seen during an input against {@link heapBound}.
 *
 * The older mutation-only harness (runFuzz, classify) is kept for test/fuzz.test.ts.
 */
import { type ChildProcess, fork, spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { getHeapStatistics } from 'node:v8'
import fc from 'fast-check'
import {
  BytecodeError,
  type CodeObject,
  closureMap,
  codeTree,
  disassemble,
  ExceptionTableError,
  formatCodeInfo,
  formatDis,
  formatStack,
  formatText,
  jsonText,
  LineTableError,
  lineRanges,
  stackToJson,
  toCodeObject,
} from '../src/bytecode/index.js'
import { formatDisBytes } from '../src/bytecode/format/dis.js'
import { codeDocument } from '../src/bytecode/format/json.js'
import { buildCompare, formatCompareText, type SideInput } from '../src/bytecode/compare/index.js'
import { LimitError, MarshalError, outputBudget, type PyCode, type PyObject, writeMarshal } from '../src/marshal/index.js'
import { PycError, readPyc } from '../src/pyc/index.js'
import { decompileModule } from '../src/decompile/index.js'
import { generate, type GeneratedInput, type InputKind, MAX_INPUT_BYTES, type Mutation, mutate, type Seed, TYPE_CODES } from './fuzz-gen.js'
import { closeTargets, DOC_COMMANDS, removeScratch, scratchBase, docCliLabel, docEntry, errorLines, isDocTypedError, requestEntry, warmTargets } from './fuzz-targets.js'

export { type Mutation, mutate, type Seed } from './fuzz-gen.js'

/** An entry point run that takes more CPU time than this is a finding of the full run (tests never time). */
export const SLOW_MS = 5000
/** The worker is killed after this long on one input (a hang). */
export const HANG_MS = 30_000

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
      e instanceof LimitError ||
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
  /** Crashes, each with the input that caused it (slow inputs are in `slowest`). */
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
      if (outcome.crash !== undefined) failures.push({ input, seedName: s.name, outcome })
    }),
    { numRuns: runs, seed },
  )
  return { runs, counts, failures, slowest, seconds: (performance.now() - t0) / 1000 }
}


// ---------------------------------------------------------------------------------------------
// Every entry point

/** The entry points every generated input goes through. */
export const ENTRY_POINTS = [
  /** The library API: readPyc (and raw marshal with pythonVersion), toCodeObject, disassemble with positions, co_lines. */
  'api',
  /** formatDis, plain. */
  'dis',
  /** formatDis with show_caches, show_offsets, show_positions. */
  'dis-options',
  /** formatDisBytes (what `dis --out` writes). */
  'dis-bytes',
  /** formatText with caches (the default `dis` view). */
  'text',
  /** The `dis --format json` document. */
  'json',
  /** The code inspector: text and JSON. */
  'code',
  /** The stack view: text and JSON. */
  'stack',
  /** compare's static document against the seed it came from: text and JSON. */
  'compare',
  /** The decompiler (decompileModule): source with markers, never a throw. */
  'decompile',
  /** The CLI's main() with one of {@link CLI_COMMANDS} (rotating by input). */
  'cli',
  // Profile and memory documents (each document goes through all of these):
  /** `pyxray report` (main() in this process): text, Markdown and JSON, the flat table, the tree, callers. */
  'report',
  /** `pyxray diff` against a fixture and itself: text, Markdown, JSON, --tree. */
  'diff',
  /** `pyxray export` to every format (speedscope, pstats, collapsed, chrome), written with -o. */
  'export',
  /** The HTML report (htmlReport with a template holding the data slot): nothing may close its script. */
  'html',
  /** The memory reader and its three renderings (text, Markdown, JSON). */
  'memory',
  /** `pyxray serve`'s loader (loadProfiles): a profile or memory document served, or a typed error. */
  'serve-load',
  // Server requests:
  /** checkRequest / parseTarget on the request's target and headers: a verdict, never a throw. */
  'request-parse',
  /** The request sent byte for byte to a `pyxray serve` running in this process: a 2xx–4xx answer. */
  'server',
  /** The /api/source reader (SourceFiles.read) on the request's file parameter: text or a SourceError. */
  'source',
] as const
export type EntryPoint = (typeof ENTRY_POINTS)[number]

/** The entry points of each kind of input. */
export function entryPointsOf(kind: InputKind): readonly EntryPoint[] {
  if (kind === 'profile' || kind === 'memory') return DOC_ENTRY_POINTS
  if (kind === 'request') return REQUEST_ENTRY_POINTS
  return PYC_ENTRY_POINTS
}
export const PYC_ENTRY_POINTS: readonly EntryPoint[] = ['api', 'dis', 'dis-options', 'dis-bytes', 'text', 'json', 'code', 'stack', 'compare', 'decompile', 'cli']
export const DOC_ENTRY_POINTS: readonly EntryPoint[] = ['report', 'diff', 'export', 'html', 'memory', 'serve-load']
export const REQUEST_ENTRY_POINTS: readonly EntryPoint[] = ['request-parse', 'server', 'source']

/** The command lines the `cli` entry point rotates through (FILE and SEED are replaced). */
export const CLI_COMMANDS: readonly (readonly string[])[] = [
  ['dis', 'FILE'],
  ['dis', 'FILE', '--format', 'dis', '--show-caches', '--show-offsets', '--show-positions'],
  ['dis', 'FILE', '--format', 'json'],
  ['stack', 'FILE'],
  ['stack', 'FILE', '--format', 'json'],
  ['code', 'FILE'],
  ['code', 'FILE', '--format', 'json'],
  ['compare', 'FILE', 'SEED', '--no-run', '--format', 'json'],
  ['compare', 'FILE', 'SEED', '--no-run'],
]

/** What one entry point did with one input. */
export interface EntryOutcome {
  /** "ok", "<ErrorClass> <code>", "exit 2 <code>" (CLI), or "CRASH …" / "OVER BUDGET …". */
  readonly label: string
  /** Wall time (performance.now), reported only: a loaded machine inflates it. */
  readonly ms: number
  /** CPU time of this process (user + system, process.cpuUsage) during the run: what {@link SLOW_MS} checks. */
  readonly cpuMs: number
  /** Output characters (or bytes) made. */
  readonly outputSize: number
  /** Whether this is a finding (an untyped error, an exit code other than 0 and 2, output over budget). */
  readonly finding: boolean
  /** The error's stack, for a finding. */
  readonly detail?: string
}

/** Whether `e` is one of the engine's typed errors. */
export function isTypedError(e: unknown): e is PycError | MarshalError | BytecodeError | LineTableError | ExceptionTableError | LimitError {
  return e instanceof PycError || e instanceof MarshalError || e instanceof BytecodeError || e instanceof LineTableError || e instanceof ExceptionTableError || e instanceof LimitError
}

function errorLabel(e: unknown): string {
  if (isDocTypedError(e)) return `${e.name} ${e.code}`
  if (e instanceof PycError) return `PycError ${e.code}${e.cause instanceof MarshalError ? ` (${e.cause.code})` : ''}`
  if (isTypedError(e)) return `${e.name} ${e.code}`
  return `CRASH ${e instanceof Error ? `${e.name}: ${e.message.slice(0, 100)}` : String(e)}`
}

/** Where the CLI entry point writes its input files (one folder per process). */
let scratch: string | undefined

/** Context for one input's entry points. */
interface InputContext {
  readonly input: GeneratedInput
  readonly bytes: Uint8Array
  readonly seedBytes: Uint8Array
  readonly index: number
  readonly budget: number
  /** The read result shared by the formatting entry points (undefined: read failed, they report the same error). */
  code?: CodeObject
  /** The .pyc's Python version, with `code`. */
  version?: readonly [number, number]
  readError?: unknown
}

function side(label: string, code: CodeObject): SideInput {
  return { label, target: label, runtime: null, module: code, selected: code, setup: null, call: null }
}

/** Stops the server of the request entry points and removes this process's scratch files (the sampled test's end). */
export async function closeFuzz(): Promise<void> {
  await closeTargets()
  if (scratch) rmSync(scratch, { recursive: true, force: true })
  scratch = undefined
  seedWritten = undefined
}

/** The seeds' code objects, read once (compare's other side). */
const seedCodes = new Map<Uint8Array, CodeObject>()

/** Runs one entry point; returns its outputs (strings or byte arrays). */
async function runEntry(entry: EntryPoint, cx: InputContext, cli: CliRunner): Promise<{ outputs: (string | Uint8Array)[]; label?: string }> {
  const maxOutputBytes = cx.budget
  if (entry === 'api') {
    const pyc = readPyc(cx.bytes)
    const code = toCodeObject(pyc.code, pyc.version[1])
    for (const { code: c } of codeTree(code)) {
      disassemble(c)
      lineRanges(c.pythonVersion[1], c.linetable, c.firstlineno, c.code.length)
    }
    // The same marshal data read headerless, as `--python-version` does.
    const start = pyc.header?.byteLength ?? 0
    readPyc(cx.bytes.subarray(start), { pythonVersion: `3.${pyc.version[1]}` })
    return { outputs: [] }
  }
  if (entry === 'cli') return cli(cx)
  if (cx.input.kind === 'profile' || cx.input.kind === 'memory') return docEntry(entry, cx.input)
  if (cx.input.kind === 'request') return requestEntry(entry, cx.input)
  if (cx.readError !== undefined) throw cx.readError
  const code = cx.code!
  switch (entry) {
    case 'dis':
      return { outputs: [formatDis(code, { maxOutputBytes })] }
    case 'dis-options':
      return { outputs: [formatDis(code, { showCaches: true, showOffsets: true, showPositions: true, maxOutputBytes })] }
    case 'dis-bytes':
      return { outputs: [formatDisBytes(code, { showCaches: true, maxOutputBytes })] }
    case 'text':
      return { outputs: [formatText(code, { showCaches: true, maxOutputBytes })] }
    case 'json':
      return { outputs: [jsonText(codeDocument(code, 'fuzz.pyc', { header: null }, maxOutputBytes), 2, maxOutputBytes)] }
    case 'code':
      return {
        outputs: [formatCodeInfo(code, { maxOutputBytes }), jsonText(codeDocument(code, 'fuzz.pyc', { header: null, closures: closureMap(code) }, maxOutputBytes), 2, maxOutputBytes)],
      }
    case 'stack':
      return { outputs: [formatStack(code, { maxOutputBytes }), jsonText(stackToJson(code, true, maxOutputBytes), 2, maxOutputBytes)] }
    case 'compare': {
      let seed = seedCodes.get(cx.seedBytes)
      if (seed === undefined) {
        const seedPyc = readPyc(cx.seedBytes)
        seedCodes.set(cx.seedBytes, (seed = toCodeObject(seedPyc.code, seedPyc.version[1])))
      }
      const doc = buildCompare('pair', [side('A', code), side('B', seed)])
      return { outputs: [formatCompareText(doc), jsonText(doc, 2, maxOutputBytes)] }
    }
    case 'decompile':
      return { outputs: [decompileModule(code, cx.version!).source] }
    default:
      throw new Error(`no entry point ${entry}`)
  }
}

/** Runs the CLI on an input; returns its stdout and a label ("ok", "exit 2 CODE"), or throws. */
type CliRunner = (cx: InputContext) => Promise<{ outputs: string[]; label: string }>

/** The seed last written to the scratch folder. */
let seedWritten: Uint8Array | undefined

/** The CLI's main() in this process, on the input written to a scratch file. */
async function cliInProcess(cx: InputContext): Promise<{ outputs: string[]; label: string }> {
  const { main } = await import('../src/cli/main.js')
  scratch ??= mkdtempSync(join(scratchBase(), 'pyxray-fuzz-'))
  const file = join(scratch, 'input.pyc')
  const seedFile = join(scratch, 'seed.pyc')
  writeFileSync(file, cx.bytes)
  if (seedWritten !== cx.seedBytes) {
    writeFileSync(seedFile, cx.seedBytes)
    seedWritten = cx.seedBytes
  }
  const argv = CLI_COMMANDS[cx.index % CLI_COMMANDS.length]!.map((a) => (a === 'FILE' ? file : a === 'SEED' ? seedFile : a))
  const out: string[] = []
  const err: string[] = []
  const code = await main([...argv], { out: (t) => out.push(t), err: (t) => err.push(t) })
  return { outputs: out, label: cliLabel(code, err.join('')) }
}

/** "ok", or "exit 2 CODE" for a one-line typed error; anything else is a finding ("CRASH …"). */
function cliLabel(exitCode: number | null, stderr: string): string {
  if (exitCode === 0) return 'ok'
  const lines = errorLines(stderr)
  const m = /: ([A-Z][A-Z_0-9]+)(?: at byte \d+)?: /.exec(lines[0] ?? '')
  if (exitCode === 2 && lines.length === 1 && m) return `exit 2 ${m[1]}`
  return `CRASH exit ${exitCode}: ${stderr.slice(0, 200)}`
}

/** Runs every entry point on one input. */
export async function runInput(input: GeneratedInput, seedBytes: Uint8Array, cli: CliRunner = cliInProcess): Promise<{ outcomes: Partial<Record<EntryPoint, EntryOutcome>>; heapBytes: number }> {
  const cx: InputContext = { input, bytes: input.bytes, seedBytes, index: input.index, budget: outputBudget(input.bytes.length) }
  const outcomes: Partial<Record<EntryPoint, EntryOutcome>> = {}
  const entries = entryPointsOf(input.kind)
  let heapBytes = 0
  // A full collection before an input is what makes its heap figure its own; it costs tens of
  // milliseconds, so small inputs get one only once the garbage of earlier ones passes GC_ABOVE
  // (their figure is then an over-estimate, never an under-estimate).
  const gc = (globalThis as { gc?: () => void }).gc
  if (input.bytes.length > GC_INPUT_BYTES || getHeapStatistics().used_heap_size > GC_ABOVE) gc?.()
  const heap = () => {
    const h = getHeapStatistics()
    heapBytes = Math.max(heapBytes, h.used_heap_size + h.external_memory)
  }
  // The read every formatting entry point shares (the api entry point reads on its own).
  if (entries === PYC_ENTRY_POINTS) {
    try {
      const pyc = readPyc(input.bytes)
      cx.code = toCodeObject(pyc.code, pyc.version[1])
      cx.version = pyc.version
    } catch (e) {
      cx.readError = e
    }
  }
  heap()
  for (const entry of entries) {
    const t0 = performance.now()
    const cpu0 = process.cpuUsage()
    let label = 'ok'
    let outputSize = 0
    let finding = false
    let detail: string | undefined
    try {
      const r = await runEntry(entry, cx, cli)
      outputSize = r.outputs.reduce((n, o) => n + o.length, 0)
      if (r.label !== undefined) label = r.label
      if (label.startsWith('CRASH')) finding = true
      // The output budget is the engine's (marshal/limits.ts): .pyc inputs only. A document's
      // outputs are bounded by the time and heap limits of the run.
      if (entries === PYC_ENTRY_POINTS && r.outputs.some((o) => o.length > cx.budget)) {
        label = `OVER BUDGET ${outputSize} > ${cx.budget}`
        finding = true
      }
    } catch (e) {
      label = errorLabel(e)
      finding = !isTypedError(e) && !isDocTypedError(e)
      if (finding) detail = e instanceof Error ? e.stack : String(e)
    }
    const cpu = process.cpuUsage(cpu0)
    heap()
    outcomes[entry] = { label, ms: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000, outputSize, finding, ...(detail !== undefined ? { detail } : {}) }
  }
  return { outcomes, heapBytes }
}

/** Inputs larger than this get a full collection before they run (see runInput). */
const GC_INPUT_BYTES = 64 * 1024
/** A full collection before any input once the heap holds more than this. */
const GC_ABOVE = 96 * 2 ** 20

/** The memory bound of the acceptance criteria for an input of `n` bytes: 256 MB + 64× its size. */
export function heapBound(n: number): number {
  return 256 * 2 ** 20 + 64 * n
}

/** One input's result, as a worker reports it. */
export interface InputResult {
  readonly index: number
  readonly kind: string
  readonly seedName: string
  readonly what: string
  readonly size: number
  readonly outcomes: Partial<Record<EntryPoint, EntryOutcome>>
  readonly heapBytes: number
}

/** A finding of the full run. */
export interface Finding {
  readonly index: number
  readonly kind: string
  readonly what: string
  readonly problem: string
}

/** Totals of a generated run. */
export class Summary {
  inputs = 0
  readonly byKind = new Map<string, number>()
  /** Per entry point: outcome label → count. */
  readonly outcomes = new Map<EntryPoint, Map<string, number>>()
  /** Per entry point: the run with the most CPU time (its wall time alongside). */
  readonly maxMs = new Map<EntryPoint, { cpuMs: number; ms: number; index: number }>()
  maxHeap = { bytes: 0, index: -1, size: 0 }
  maxInput = 0
  readonly findings: Finding[] = []
  cliProcesses = 0

  add(r: InputResult): void {
    this.inputs++
    this.byKind.set(r.kind, (this.byKind.get(r.kind) ?? 0) + 1)
    this.maxInput = Math.max(this.maxInput, r.size)
    for (const entry of ENTRY_POINTS) {
      const o = r.outcomes[entry]
      if (o === undefined) continue
      const counts = this.outcomes.get(entry) ?? new Map<string, number>()
      this.outcomes.set(entry, counts)
      counts.set(o.label, (counts.get(o.label) ?? 0) + 1)
      if (o.cpuMs > (this.maxMs.get(entry)?.cpuMs ?? -1)) this.maxMs.set(entry, { cpuMs: o.cpuMs, ms: o.ms, index: r.index })
      if (o.finding) this.findings.push({ index: r.index, kind: r.kind, what: r.what, problem: `${entry}: ${o.label}${o.detail ? `\n${o.detail}` : ''}` })
      else if (o.cpuMs > SLOW_MS) this.findings.push({ index: r.index, kind: r.kind, what: r.what, problem: `${entry}: ${o.cpuMs.toFixed(0)} ms (over ${SLOW_MS} ms of CPU time; ${o.ms.toFixed(0)} ms wall)` })
    }
    if (r.heapBytes > this.maxHeap.bytes) this.maxHeap = { bytes: r.heapBytes, index: r.index, size: r.size }
    if (r.heapBytes > heapBound(r.size)) this.findings.push({ index: r.index, kind: r.kind, what: r.what, problem: `heap ${(r.heapBytes / 2 ** 20).toFixed(0)} MB over the bound for ${r.size} bytes` })
  }
}

/** Runs inputs [from, to) of `seed` in this process (the sampled test, and each worker). */
export async function runRange(seeds: readonly Seed[], seed: number, from: number, to: number, report: (r: InputResult) => void, cli?: CliRunner, generated?: (index: number) => void): Promise<void> {
  for (let index = from; index < to; index++) {
    const input = generate(seeds, seed, index)
    generated?.(index)
    const s = seeds.find((x) => x.name === input.seedName) ?? seeds[0]!
    const { outcomes, heapBytes } = await runInput(input, s.bytes, cli)
    report({ index, kind: input.kind, seedName: input.seedName, what: input.what, size: input.bytes.length, outcomes, heapBytes })
  }
}

/** Seeds of the generated run: every golden .pyc up to 64 KB. */
export function generatorSeeds(): Seed[] {
  return loadSeeds(undefined, 64 * 1024)
}

// ---------------------------------------------------------------------------------------------
// Workers

/** Messages from a worker. */
type WorkerMessage = { readonly type: 'start' | 'generated'; readonly index: number } | { readonly type: 'result'; readonly result: InputResult } | { readonly type: 'done' }

/** The worker process: runs the ranges the parent sends, reporting the start and result of each input. */
async function workerMain(): Promise<void> {
  const seeds = generatorSeeds()
  // Loaded before the first input, so that no input is charged with loading the CLI.
  await import('../src/cli/main.js')
  await warmTargets()
  // Stopped by the parent (SIGTERM) once the run is over: leave no scratch files behind.
  process.on('SIGTERM', () => {
    removeScratch()
    if (scratch) rmSync(scratch, { recursive: true, force: true })
    process.exit(0)
  })
  process.on('message', (m: { seed: number; from: number; to: number }) => {
    void (async () => {
      for (let index = m.from; index < m.to; index++) {
        process.send!({ type: 'start', index } satisfies WorkerMessage)
        await runRange(seeds, m.seed, index, index + 1, (result) => process.send!({ type: 'result', result } satisfies WorkerMessage), undefined, () => process.send!({ type: 'generated', index } satisfies WorkerMessage))
      }
      process.send!({ type: 'done' } satisfies WorkerMessage)
    })()
  })
  process.send!({ type: 'done' } satisfies WorkerMessage)
}

/** The heap limit a worker runs with, in MB: the acceptance bound for the largest input. */
export const WORKER_HEAP_MB = Math.ceil(heapBound(MAX_INPUT_BYTES) / 2 ** 20)

/** Runs inputs [0, runs) of `seed` over `workers` worker processes; calls `progress` now and then. */
async function runWorkers(runs: number, seed: number, workers: number, summary: Summary, progress: () => void): Promise<void> {
  const BATCH = 250
  let next = 0
  /** Ranges left over by a worker that died, taken before new ones. */
  const pending: [number, number][] = []
  const script = fileURLToPath(import.meta.url)
  const one = () =>
    new Promise<void>((resolveAll) => {
      let child: ChildProcess | undefined
      let current = -1
      let end = 0
      let finished = false
      let timer: ReturnType<typeof setTimeout> | undefined
      const arm = () => {
        clearTimeout(timer)
        timer = setTimeout(() => {
          summary.findings.push({ index: current, kind: '?', what: '', problem: `hang: no result after ${HANG_MS} ms; worker killed` })
          console.log(`FINDING #${current}: hang: no result after ${HANG_MS} ms; worker killed`)
          child?.kill('SIGKILL')
        }, HANG_MS)
      }
      const take = () => {
        let range = pending.shift()
        if (range === undefined && next < runs) {
          range = [next, Math.min(runs, next + BATCH)]
          next = range[1]
        }
        if (range === undefined) {
          finished = true
          clearTimeout(timer)
          child?.kill()
          resolveAll()
          return
        }
        ;[current, end] = range
        arm()
        child!.send({ seed, from: range[0], to: range[1] })
      }
      const start = () => {
        child = fork(script, ['--worker'], { execArgv: ['--import', 'tsx', '--expose-gc', `--max-old-space-size=${WORKER_HEAP_MB}`], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] })
        let stderr = ''
        child.stderr!.on('data', (d: Buffer) => {
          stderr = (stderr + d.toString()).slice(-2000)
        })
        // The worker says 'done' once ready and after each range: then it gets the next one.
        child.on('message', (m: WorkerMessage) => {
          if (m.type === 'start') {
            // Making the input is the harness's work, not pyxray's (a random tree with shared
            // subtrees can take a minute to write, seed 42 #48441): the clock starts once it is made.
            current = m.index
            clearTimeout(timer)
          } else if (m.type === 'generated') {
            arm()
          } else if (m.type === 'result') {
            const known = summary.findings.length
            summary.add(m.result)
            // Findings are printed as they come (a long run's log shows them before its end).
            for (const f of summary.findings.slice(known)) console.log(`FINDING #${f.index} (${f.kind}: ${f.what.slice(0, 120)}): ${f.problem.split('\n')[0]}`)
            if (m.result.index === end - 1) progress()
          } else take()
        })
        child.on('exit', (code, signal) => {
          if (finished) return
          // A death: the input it was on is a finding; the rest of its range goes to the next worker.
          summary.findings.push({ index: current, kind: '?', what: '', problem: `worker died (exit ${code}, signal ${signal}): ${stderr.split('\n').filter(Boolean).slice(-3).join(' | ')}` })
          console.log(`FINDING #${current}: ${summary.findings.at(-1)!.problem}`)
          clearTimeout(timer)
          if (current + 1 < end) pending.push([current + 1, end])
          start()
        })
      }
      start()
    })
  await Promise.all(Array.from({ length: workers }, one))
}

/** Two inputs in every `CLI_PROCESS_EVERY` (a .pyc and a document) also run as a real `pyxray` process (exit code, memory and time limit). */
export const CLI_PROCESS_EVERY = 1000

/** Runs the CLI as a separate node process on input `index`; returns a finding or undefined. */
function cliProcess(seeds: readonly Seed[], seed: number, index: number, dir: string): string | undefined {
  const input = generate(seeds, seed, index)
  if (input.kind === 'request') return undefined
  const doc = input.kind === 'profile' || input.kind === 'memory'
  const s = seeds.find((x) => x.name === input.seedName) ?? seeds[0]!
  const file = join(dir, doc ? `input-${index}.json` : `input-${index}.pyc`)
  const seedFile = join(dir, 'seed.pyc')
  writeFileSync(file, input.bytes)
  writeFileSync(seedFile, s.bytes)
  const docCommands = [...DOC_COMMANDS.report, ...DOC_COMMANDS.diff, ...DOC_COMMANDS.export]
  const base = join(fileURLToPath(import.meta.url), '../../test/fixtures/profiles/planted-base.json')
  const argv = doc
    ? docCommands[Math.floor(index / CLI_PROCESS_EVERY) % docCommands.length]!.map((a) => (a === 'F' ? file : a === 'BASE' ? base : a === 'OUT' ? join(dir, 'out') : a))
    : CLI_COMMANDS[index % CLI_COMMANDS.length]!.map((a) => (a === 'FILE' ? file : a === 'SEED' ? seedFile : a))
  const main = join(fileURLToPath(import.meta.url), '../../src/cli/main.ts')
  const r = spawnSync(process.execPath, [`--max-old-space-size=${WORKER_HEAP_MB}`, '--import', 'tsx', main, ...argv], { timeout: HANG_MS, encoding: 'utf8', maxBuffer: 1 << 30 })
  rmSync(file)
  let label = r.error ? `CRASH ${r.error.message}` : doc ? docCliLabel(argv[0]!, r.status, r.stderr) : cliLabel(r.status, r.stderr)
  if (doc && !label.startsWith('CRASH') && !argv.includes('json') && r.stdout.includes('\x1b')) label = 'CRASH ESC in the output'
  return label.startsWith('CRASH') ? `cli process (${argv[0]}): ${label}` : undefined
}

function printSummary(summary: Summary, seconds: number, options: { runs: number; seed: number; workers: number; inProcess: boolean }): void {
  const line = (s: string) => console.log(s)
  line(`${summary.inputs} inputs (seed ${options.seed}, ${options.inProcess ? 'in this process' : `${options.workers} worker(s) with --max-old-space-size=${WORKER_HEAP_MB}`}): ${[...summary.byKind].map(([k, n]) => `${k} ${n}`).join(', ')}; largest ${summary.maxInput} bytes`)
  for (const entry of ENTRY_POINTS) {
    const counts = [...(summary.outcomes.get(entry) ?? new Map<string, number>())].sort((a, b) => b[1] - a[1])
    const max = summary.maxMs.get(entry)
    line(`  ${entry.padEnd(12)} max ${(max?.cpuMs ?? 0).toFixed(0).padStart(5)} ms CPU / ${(max?.ms ?? 0).toFixed(0).padStart(5)} ms wall (#${max?.index ?? '-'})  ${counts.slice(0, 6).map(([l, n]) => `${l}: ${n}`).join(' · ')}${counts.length > 6 ? ` · … ${counts.length - 6} more` : ''}`)
  }
  line(`  largest heap ${(summary.maxHeap.bytes / 2 ** 20).toFixed(0)} MB (#${summary.maxHeap.index}, ${summary.maxHeap.size} bytes; bound 256 MB + 64× size)`)
  line(`  cli processes: ${summary.cliProcesses}`)
  line(`${seconds.toFixed(0)} s in all`)
  for (const f of summary.findings.slice(0, 20)) line(`FINDING #${f.index} (${f.kind}: ${f.what}): ${f.problem}\n  reproduce: npm run fuzz -- --seed ${options.seed} --only ${f.index}`)
  line(summary.findings.length === 0 ? 'findings: 0' : `findings: ${summary.findings.length}`)
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === '--worker') {
    await workerMain()
    return 0
  }
  const options = { runs: 100_000, seed: 42, workers: 2, only: -1, inProcess: false }
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i]
    if (name === '--in-process') {
      options.inProcess = true
      i--
      continue
    }
    const value = Number(argv[i + 1])
    const key = ({ '--runs': 'runs', '--seed': 'seed', '--workers': 'workers', '--only': 'only' } as const)[name ?? '']
    if (key === undefined || !Number.isSafeInteger(value)) {
      console.error(`usage: npm run fuzz -- [--runs N] [--seed N] [--workers N] [--only INDEX] [--in-process]  (not understood: ${argv.slice(i).join(' ')})`)
      return 2
    }
    options[key] = value
  }
  const seeds = generatorSeeds()
  const summary = new Summary()
  const t0 = performance.now()
  if (options.only >= 0) {
    const input = generate(seeds, options.seed, options.only)
    console.log(`#${options.only}: ${input.kind} from ${input.seedName}: ${input.what} (${input.bytes.length} bytes)`)
    await runRange(seeds, options.seed, options.only, options.only + 1, (r) => {
      summary.add(r)
      for (const [entry, o] of Object.entries(r.outcomes)) console.log(`  ${entry.padEnd(12)} ${o.cpuMs.toFixed(1).padStart(8)} ms CPU ${o.ms.toFixed(1).padStart(8)} ms wall  ${o.label}${o.detail ? `\n${o.detail}` : ''}`)
    })
    await closeFuzz()
    const out = join(tmpdir(), `pyxray-fuzz-${options.seed}-${options.only}.${input.kind === 'profile' || input.kind === 'memory' ? 'json' : input.kind === 'request' ? 'txt' : 'pyc'}`)
    writeFileSync(out, input.bytes)
    console.log(`written to ${out}`)
    return summary.findings.length ? 1 : 0
  }
  console.log(`${options.runs} inputs from ${seeds.length} seed .pyc files, seed ${options.seed}`)
  let lastPrint = 0
  const progress = () => {
    if (performance.now() - lastPrint > 30_000) {
      lastPrint = performance.now()
      console.log(`  … ${summary.inputs} inputs, ${summary.findings.length} finding(s), ${((performance.now() - t0) / 1000).toFixed(0)} s`)
    }
  }
  if (options.inProcess) {
    await warmTargets()
    await runRange(seeds, options.seed, 0, options.runs, (r) => summary.add(r))
    await closeTargets()
  }
  else await runWorkers(options.runs, options.seed, options.workers, summary, progress)
  const dir = mkdtempSync(join(scratchBase(), 'pyxray-fuzz-cli-'))
  for (let start = 0; start < options.runs; start += CLI_PROCESS_EVERY / 2) {
    // Alternately the first .pyc input and the first document at or after `start`.
    const wantDoc = (start / (CLI_PROCESS_EVERY / 2)) % 2 === 1
    let index = start
    while (index < options.runs && ['profile', 'memory'].includes(generate(seeds, options.seed, index).kind) !== wantDoc) index++
    if (index >= options.runs || generate(seeds, options.seed, index).kind === 'request') continue
    summary.cliProcesses++
    const problem = cliProcess(seeds, options.seed, index, dir)
    if (problem !== undefined) summary.findings.push({ index, kind: 'cli', what: '', problem })
  }
  rmSync(dir, { recursive: true, force: true })
  if (scratch) rmSync(scratch, { recursive: true, force: true })
  printSummary(summary, (performance.now() - t0) / 1000, options)
  return summary.findings.length === 0 ? 0 : 1
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  void main(process.argv.slice(2)).then((code) => {
    if (process.argv[2] !== '--worker') process.exitCode = code
  })
}
