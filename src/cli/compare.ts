/**
 * `pyxray compare A B` / `pyxray compare TARGET --versions 3.10,3.12,3.14`: two implementations,
 * or one across Python versions, side by side — static bytecode aligned by source line, executed
 * instruction counts, timings and specializations measured in the real runtime (the agent's
 * `measure` method, python/pyxray/_measure.py).
 */
import { buildCompare, type CompareDocument, formatCompareText, type MeasureResult, type SideInput } from '../bytecode/compare/index.js'
import type { TextStyle } from '../bytecode/format/text.js'
import { COLOR_HELP, COLOR_OPTIONS, defineCommand, formatOption, formatValue, HELP_OPTION, numberOption, OUTPUT_HELP, OUTPUT_OPTIONS, outputValue, parseOptions, QUIET_OPTION, RUNTIME_OPTIONS, textStyle } from './command.js'
import { jsonText } from '../bytecode/format/output.js'
import { DEFAULT_MAX_OUTPUT_BYTES } from '../marshal/index.js'
import { measure, type MeasureSubject, RuntimeError, type RuntimeInfo, selectRuntime, type Selected } from '../runtime/index.js'
import { describeRunError, ExitCode, UsageError } from './errors.js'
import { checkOutputPath, type Console, writeFileAtomic } from './io.js'
import { formatSyntaxError, isSource, type Loaded, loadTarget, parseTarget, type SourceOptions, sourceValues, type Target } from './source.js'
import { has } from '../versions/index.js'

/** Options of `pyxray compare`, as parsed from the command line. */
export interface CompareOptions extends SourceOptions {
  /** Two targets (pair mode) or one (with `versions`). */
  readonly targets: readonly Target[]
  /** Python versions ("3.12") to compare one target across. */
  readonly versions?: readonly string[]
  /** Setup code per side (one value: both sides). */
  readonly setup: readonly (string | undefined)[]
  /** Call expression per side (one value: both sides). */
  readonly call: readonly (string | undefined)[]
  /** Run (time, count, read specializations); false with --no-run. */
  readonly run: boolean
  readonly repeat: number
  /** Seconds one timing repeat lasts at least (auto-ranging). */
  readonly minTime: number
  readonly format: 'text' | 'json'
  readonly width: number
  readonly style: TextStyle
  /** Write the output here (atomically) instead of stdout. */
  readonly out?: string
  /** No "written to" line. */
  readonly quiet?: boolean
  readonly verbose: boolean
}

const describeTarget = (t: Target, k: number) => (t.inline !== undefined ? `-c #${k + 1}` : `${t.path}${t.selector ? `:${'line' in t.selector ? t.selector.line : t.selector.qualname}` : ''}`)

function subjectOf(t: Target, loaded: Loaded, setup: string | undefined, call: string | undefined, o: CompareOptions): MeasureSubject {
  if (!isSource(t) || loaded.source === undefined) throw new UsageError('USAGE', `${t.path}: a .pyc cannot be run; compare its source, or pass --no-run`)
  return { source: loaded.source, filename: loaded.filename, setup: setup ?? null, call: call ?? null, optimize: o.optimize ?? -1 }
}

function runtimeOf(info: RuntimeInfo | undefined) {
  return info ? { kind: info.kind, version: info.version, executable: info.executable } : null
}

/** Whether a side runs: snippets are the statement themselves; files need --call. */
const runs = (t: Target, call: string | undefined, o: CompareOptions) => o.run && (t.inline !== undefined || call !== undefined)

function sideInput(label: string, t: Target, k: number, loaded: Loaded, setup: string | undefined, call: string | undefined, measured?: MeasureResult): SideInput {
  return {
    label,
    target: describeTarget(t, k),
    runtime: runtimeOf(loaded.runtime?.info),
    module: loaded.module,
    selected: loaded.code,
    ...(loaded.source !== undefined ? { sourceLines: loaded.source.split(/\r?\n/) } : {}),
    setup: setup ?? null,
    call: call ?? null,
    ...(measured ? { measured } : {}),
  }
}

async function pairSides(o: CompareOptions, con: Console): Promise<SideInput[]> {
  const [ta, tb] = o.targets as [Target, Target]
  const setup = [o.setup[0], o.setup[1] ?? o.setup[0]]
  const call = [o.call[0], o.call[1] ?? o.call[0]]
  const needsRuntime = o.targets.some(isSource)
  const selected: Selected | undefined = needsRuntime ? await selectRuntime(o) : undefined
  try {
    const loaded = [await load(ta, 'A', o, selected), await load(tb, 'B', o, selected)]
    if (o.verbose && selected) {
      const info = await selected.runtime.info()
      con.err(`pyxray: runtime ${info.kind} CPython ${info.version} (${info.executable}): ${selected.reason}\n`)
    }
    const run = [runs(ta, call[0], o), runs(tb, call[1], o)]
    if (run[0] !== run[1]) throw new UsageError('USAGE', 'only one side would run: give --call for file targets (or --no-run for a static comparison)')
    let measured: MeasureResult[] | undefined
    if (run[0] && selected) {
      const info = await selected.runtime.info()
      const subjects = o.targets.map((t, k) => subjectOf(t, loaded[k]!, setup[k], call[k], o))
      measured = await measure(selected.runtime, subjects, { timing: true, counts: true, adaptive: has(info.minor, 'adaptiveInterpreter'), repeat: o.repeat, minTime: o.minTime })
    }
    return o.targets.map((t, k) => sideInput(k === 0 ? 'A' : 'B', t, k, loaded[k]!, setup[k], call[k], measured?.[k]))
  } finally {
    await selected?.runtime.close()
  }
}

async function load(t: Target, label: string, o: CompareOptions, selected: Selected | undefined): Promise<Loaded> {
  try {
    return await loadTarget(t, o, selected)
  } catch (e) {
    if (e instanceof RuntimeError && e.code === 'SYNTAX_ERROR') throw new UsageError('USAGE', `${label}: ${formatSyntaxError(e, t.path ?? '<string>')}`)
    throw e
  }
}

async function versionSides(o: CompareOptions, con: Console): Promise<SideInput[]> {
  const t = o.targets[0]!
  if (!isSource(t)) throw new UsageError('USAGE', '--versions compiles source in each version: give a .py file or -c SOURCE, not a .pyc')
  const sides: SideInput[] = []
  for (const version of o.versions!) {
    const selected = await selectRuntime({ ...o, python: version })
    try {
      const loaded = await load(t, version, o, selected)
      const info = await selected.runtime.info()
      if (o.verbose) con.err(`pyxray: ${version}: runtime ${info.kind} CPython ${info.version} (${info.executable}): ${selected.reason}\n`)
      let measured: MeasureResult | undefined
      if (runs(t, o.call[0], o)) {
        const subject = subjectOf(t, loaded, o.setup[0], o.call[0], o)
        measured = (await measure(selected.runtime, [subject], { timing: true, counts: true, adaptive: has(info.minor, 'adaptiveInterpreter'), repeat: o.repeat, minTime: o.minTime }))[0]
      }
      sides.push(sideInput(version, t, 0, loaded, o.setup[0], o.call[0], measured))
    } finally {
      await selected.runtime.close()
    }
  }
  return sides
}

/** Builds the compare document for the options (runs the code unless --no-run). */
export async function compareDocument(o: CompareOptions, con: Console): Promise<CompareDocument> {
  if (o.versions) return buildCompare('versions', await versionSides(o, con))
  return buildCompare('pair', await pairSides(o, con))
}

/** Runs `pyxray compare`; returns the exit code. */
export async function runCompare(o: CompareOptions, con: Console): Promise<number> {
  let doc: CompareDocument
  try {
    doc = await compareDocument(o, con)
  } catch (e) {
    if (e instanceof RuntimeError && e.code === 'RUN_ERROR') {
      con.err(describeRunError(e, 'pyxray compare'))
      return ExitCode.Usage
    }
    throw e
  }
  const text = o.format === 'json' ? `${jsonText(doc, 2, o.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES)}\n` : formatCompareText(doc, { width: o.width, style: o.style })
  if (o.out !== undefined) {
    writeFileAtomic(o.out, text)
    if (!o.quiet) con.err(`pyxray compare: written to ${o.out}\n`)
  } else con.out(text)
  return ExitCode.Ok
}

const COMPARE_HELP = `Usage: pyxray compare A B [options]
       pyxray compare -c 'SOURCE A' -c 'SOURCE B' [--setup CODE] [options]
       pyxray compare TARGET --versions 3.10,3.12,3.14 [options]

Two implementations, or one target across Python versions, side by side: the bytecode aligned by
source line and, within lines, instruction by instruction (a longest common subsequence over
opname and argument, jump targets and NULL markers ignored); a static summary per side
(instructions, code bytes, max stack depth vs co_stacksize, constants, names, locals, jumps and
loops, exception-table entries); and, measured in the real interpreter, executed instruction
counts (per instruction, beside the code, and in total), timings with a ratio and its
uncertainty, and (3.11+) the instructions CPython specialized after warm-up.

A and B are FILE.py, 'FILE.py:Qualname', FILE.py:LINE (or .pyc, static only), or -c SOURCE twice.
A -c snippet is itself the statement that is run and timed, after --setup; a file runs when
--call names what to run (the module is executed first, then --setup, then --call).

Options:
  -c, --command SOURCE      a snippet (give it twice, for A and B)
      --setup CODE          run before timing (once: both sides; twice: A then B)
      --call EXPR           what to run and time, e.g. 'f(10_000)' (once: both sides; twice: A, B)
      --versions X.Y,…      one target across these versions (native interpreters; 3.14 through
                            Pyodide when there is no native 3.14); sides are labelled by version
      --no-run              static comparison only
      --repeat N            timing repeats per side (default 7)
      --min-time SECONDS    each repeat runs enough loops to last this long (default 0.2)
  -f, --format FMT          text (default) or json (schema/compare.schema.json)
      --width N             text width (default: the terminal's, else 120)
${OUTPUT_HELP}
  -q, --quiet               no "written to FILE" line on stderr with -o
${COLOR_HELP}
      --python X.Y|PATH     the interpreter for both sides of A B (default python3, else Pyodide)
      --runtime KIND        native or pyodide
  -O, --optimize N          0, 1 or 2, as python -O/-OO
  -v, --verbose             say which runtime was chosen and why
      --max-output-mb N     the output budget in MiB of reading each side and of the JSON
                            document (default: 16 MiB + 64× the file's size to read it, 256 MiB
                            for the document)
  -h, --help                show this help (also: pyxray help compare)

Timing: timeit's method — loops auto-ranged until one repeat lasts --min-time, A and B repeats
interleaved, garbage collector paused. Each side: median seconds per loop ± half the IQR. The
ratio is the median of all pairwise ratios a_i/b_j of the repeats, ± half their IQR; when 1 lies
inside that IQR the two are reported as the same within the noise.

Instruction counts: sys.monitoring INSTRUCTION events (3.12+), sys.settrace with f_trace_opcodes
(3.8–3.11), for one run of the statement, counted for the target's code objects and the other
functions of the same file it calls. In the text view: count, opname, argument, "→ SPECIALIZED";
the gutter shows ~ changed, < only in A, > only in B.

Examples:
  pyxray compare -c 'r = [x * x for x in data]' -c $'r = []\\nfor x in data:\\n    r.append(x * x)' --setup 'data = list(range(10_000))'
  pyxray compare -c 'n - 1 in s' -c 'n - 1 in s_list' --setup 'n = 10_000; s = set(range(n)); s_list = list(s)'
  pyxray compare 'impl.py:fast' 'impl.py:slow' --call 'run(10_000)'
  pyxray compare examples/hello.py --versions 3.10,3.12,3.14 --no-run
`

const COMPARE_OPTIONS = {
  command: { type: 'string', short: 'c', multiple: true },
  setup: { type: 'string', multiple: true },
  call: { type: 'string', multiple: true },
  versions: { type: 'string' },
  'no-run': { type: 'boolean', default: false },
  repeat: { type: 'string' },
  'min-time': { type: 'string' },
  ...formatOption('text'),
  width: { type: 'string' },
  ...OUTPUT_OPTIONS,
  ...QUIET_OPTION,
  ...COLOR_OPTIONS,
  ...RUNTIME_OPTIONS,
  'max-output-mb': { type: 'string' },
  ...HELP_OPTION,
} as const

function atMostTwo(values: readonly string[] | undefined, name: string, versions: boolean): readonly (string | undefined)[] {
  const list = values ?? []
  if (list.length > (versions ? 1 : 2)) throw new UsageError('USAGE', `--${name} is given at most ${versions ? 'once with --versions' : 'twice (A, then B)'}`)
  return list
}

/** `pyxray compare`. */
export const compareCommand = defineCommand({
  name: 'compare',
  synopsis: 'A B',
  summary: 'two implementations (or one across --versions) side by side: aligned bytecode, executed instructions, timings, specializations',
  help: COMPARE_HELP,
  options: COMPARE_OPTIONS,
  parse(args, ctx): CompareOptions {
    const { values, positionals } = parseOptions(args, COMPARE_OPTIONS)
    const snippets = values.command ?? []
    if (snippets.length && positionals.length) throw new UsageError('USAGE', 'compare: give files or -c snippets, not both')
    const targets: Target[] = snippets.length ? snippets.map((inline) => ({ inline })) : positionals.map(parseTarget)
    let versions: string[] | undefined
    if (values.versions !== undefined) {
      versions = values.versions.split(',').map((v) => v.trim()).filter(Boolean)
      const bad = versions.find((v) => !/^3\.\d+$/.test(v))
      if (bad !== undefined) throw new UsageError('USAGE', `--versions takes Python versions like 3.10,3.12,3.14, not "${bad}"`)
      if (versions.length < 2 || new Set(versions).size !== versions.length) throw new UsageError('USAGE', '--versions needs at least two different versions, e.g. 3.10,3.12,3.14')
      if (targets.length !== 1) throw new UsageError('USAGE', `--versions compares one target across versions (got ${targets.length})`)
      if (values.python !== undefined) throw new UsageError('USAGE', '--versions picks the interpreters: leave out --python')
    } else if (targets.length !== 2) {
      throw new UsageError('USAGE', `compare needs two targets (A B, or -c A -c B) or one target with --versions; got ${targets.length} (see pyxray compare --help)`)
    }
    const format = formatValue('compare', values.format, ['text', 'json'] as const)
    const runtime = sourceValues(values)
    const out = outputValue(values, ctx)
    if (out !== undefined) checkOutputPath(out, targets.flatMap((t) => (t.path !== undefined ? [t.path] : [])), '-o')
    if (values['no-run'] && (values.repeat !== undefined || values['min-time'] !== undefined)) ctx.warn('--repeat and --min-time time the runs; ignored with --no-run')
    if (format === 'json' && values.width !== undefined) ctx.warn('--width applies to the text format; ignored for json')
    const columns = process.stdout.isTTY && process.stdout.columns ? process.stdout.columns : 120
    return {
      targets,
      ...(versions ? { versions } : {}),
      setup: atMostTwo(values.setup, 'setup', versions !== undefined),
      call: atMostTwo(values.call, 'call', versions !== undefined),
      run: !values['no-run'],
      repeat: numberOption('repeat', values.repeat, 7, { min: 1, max: 1000 }),
      minTime: numberOption('min-time', values['min-time'], 0.2, { min: 0, max: 10, integer: false }),
      format,
      width: numberOption('width', values.width, columns, { min: 40, max: 1000 }),
      style: textStyle(values, out),
      ...(out !== undefined ? { out } : {}),
      quiet: values.quiet,
      ...runtime,
    }
  },
  run: (o, ctx) => runCompare(o, ctx.con),
})
