/**
 * `pyxray diff BASE.json HEAD.json` and `pyxray diff --ab 'CMD A' 'CMD B' --repeat N`: two profiles
 * compared call path by call path; `--fail-on regression[,inconclusive]` makes it a CI gate (exit
 * status 1).
 */
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { DEFAULT_DIFF_OPTIONS, type DiffOptions, diffProfiles, type ProfileDiff } from '../profile/diff.js'
import { formatDiffMarkdown, formatDiffText, gateFindings } from '../profile/diff-format.js'
import { DEFAULT_INSTRUCTION_DIFF_OPTIONS, diffInstructions, formatInstructionDiffMarkdown, formatInstructionDiffText, type InstructionDiff, InstructionDiffError, type InstructionDiffOptions, instructionFindings } from '../profile/diff-instructions.js'
import { type ProfileDocument, toProfileJson } from '../profile/document.js'
import type { Console } from './io.js'
import { withoutProcesses } from '../profile/processes.js'
import { JsonSizeError, writeJsonText } from '../profile/json.js'
import { outputBudget } from '../marshal/index.js'
import type { ReportStyle } from '../profile/report-text.js'
import { COLOR_HELP, COLOR_OPTIONS, type CommandContext, defineCommand, formatOption, formatValue, HELP_OPTION, numberOption, OUTPUT_OPTIONS, outputValue, parseOptions, withOutput } from './command.js'
import { ExitCode, UsageError } from './errors.js'
import { checkOutputFolder, existingFiles, writeFileAtomic } from './io.js'
import { interpreter } from './profile.js'
import { noteRootOnly } from './export.js'
import { readProfileFile } from './profile-file.js'
import { parseRepeat, runInterleaved, type RunPlan, splitOutput } from './profile-repeat.js'
import { reportStyle, textWidthOption } from './report.js'

/** `pyxray diff --help`. */
export const DIFF_HELP = `Usage: pyxray diff BASE.json HEAD.json [options]
       pyxray diff --ab 'CMD A' 'CMD B' --repeat N [options]

Compares two profiles (one of them may be -, read from standard input). Functions are matched by file (relative to each profile's working folder)
and qualname, call paths by the sequence of those, so line shifts and another checkout folder do
not matter; threads are merged. Shows per function and per call path Δ self, Δ total, Δ calls and
Δ memory, new and vanished paths, and the regressions and improvements.

A function is a regression when its time (--metric) grew by at least --threshold and is at least
--min-time in either profile. A function or call path found only in head is a regression when it
adds at least --threshold of the base total (and --min-time); the total time is gated like a
function. For repeated profiles (pyxray profile --repeat N) every value is the
median over the runs, and the growth must also be significantly larger than the threshold: a
one-sided Mann-Whitney U test of the per-run times against the base times scaled by (1 + threshold)
(exact for small samples without ties, else the normal approximation with tie correction) must give
p < --alpha; a large growth that is not significant is inconclusive ("run more"). Call counts are
exact and are compared exactly. A warning says when the profiles ran different command lines (argv),
interpreters, modes, clocks or engines. Use --clock cpu and --ab (or
interleaved runs) to keep machine noise out; 7 or more runs a side find a 30 % slowdown reliably.

Options:
      --threshold P         relative change that counts, e.g. 10% or 0.1 (default 10%)
      --min-time T          ignore functions below T in both profiles: 500us, 1ms, 0.2s (default 1ms)
      --alpha A             significance level for repeated profiles (default 0.05)
      --metric self|total|instructions
                            self time (default: names the function that got slower), inclusive
                            time, or executed bytecode instructions (profiles recorded with
                            pyxray profile --count instructions; see below)
      --min-instructions N  --metric instructions: a change of fewer than N instructions is
                            none (default 50; see below)
      --fail-on LIST        regression, inconclusive or both (regression,inconclusive): exit with
                            status 1 when the verdict has one, naming each finding
  -n, --top N               rows of other changes and of call paths (default 15)
      --tree                text: the call paths of both profiles as one aligned tree
      --min-percent P       --tree: fold paths below P % of the total (default 1)
      --depth N             --tree: levels shown
  -f, --format FMT          text (default), markdown (PR comments, $GITHUB_STEP_SUMMARY) or json
                            (schema/diff.schema.json)
  -w, --width N             text width (default: the terminal's columns, else 100)
  -o, --output FILE         write the comparison to FILE (atomically) instead of stdout; never one
                            of the profiles (or scripts) read
${COLOR_HELP}
  -h, --help                show this help (also: pyxray help diff)

A/B mode (both sides profiled now, in one job, interleaved A B A B … to cancel machine noise):
      --ab                  the two positional arguments are commands: profiler options and a
                            script with its arguments, as after pyxray profile, optionally after
                            NAME=value environment assignments ('FAST=1 bench.py --n 10')
      --repeat N            runs per side (default 5)
      --python X.Y|PATH     the interpreter of both sides
      --keep DIR            also write the two repeated profiles as DIR/a.json and DIR/b.json
                            (DIR is created when its parent folder exists)

Instructions (--metric instructions): the bytecode instructions each function executed (its own
frames, summed over its call paths), compared exactly: counts of pure-Python code are the same on
every run with the same inputs, so one run a side is enough and there is no statistics (no
--alpha, --min-time, --tree). A function is a regression when its count grew by more than
--threshold (default 1% for this metric) and by at least --min-instructions, a new function when
it adds more than --threshold of the base total; the total is gated like a function. The floor
absorbs the little that varies between runs: a first isinstance() against an ABC runs a few dozen
instructions more or fewer with the layout of memory, and Python code run by the garbage
collector (finalizers, weakref callbacks) counts wherever it runs. Counts do not see time spent in C (builtins,
extension modules, the C parts of the stdlib), I/O, waiting or locks, nor what an instruction
costs (a cache miss, a big allocation): keep a time gate for those. --format json writes the
comparison as it is computed (metric "instructions", totals, functions with base, head, delta,
change and status; not the shape of schema/diff.schema.json).

Exit codes: 0 the gate passed (or no --fail-on), 1 a finding named in --fail-on (a regression, or
an inconclusive change with --fail-on inconclusive), 2 usage or input error.

Examples:
  pyxray profile --repeat 7 -o base.json bench.py   # on main
  pyxray profile --repeat 7 -o head.json bench.py   # on the branch
  pyxray diff base.json head.json --fail-on regression,inconclusive --format markdown >> "$GITHUB_STEP_SUMMARY"
  pyxray diff --ab 'bench.py' 'NEW_PARSER=1 bench.py' --repeat 9 --fail-on regression
  pyxray profile --count instructions -o base.json bench.py   # once a side: counts are exact
  pyxray diff base.json head.json --metric instructions --fail-on regression
`

/** What `--fail-on` can name. */
export type GateFinding = 'regression' | 'inconclusive'

/** "regression", "inconclusive", "regression,inconclusive" → the findings that fail the gate. */
export function parseFailOn(text: string): Set<GateFinding> {
  const out = new Set<GateFinding>()
  for (const word of text.split(',').map((w) => w.trim())) {
    if (word !== 'regression' && word !== 'inconclusive') throw new UsageError('USAGE', `--fail-on takes regression, inconclusive or both (regression,inconclusive), not "${text}"`)
    out.add(word)
  }
  return out
}

/** "10%", "0.1", "25 %" → a fraction. */
export function parseThreshold(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(text)
  if (!m) throw new UsageError('USAGE', `--threshold takes a percentage (10%) or a fraction (0.1), not "${text}"`)
  return m[2] ? Number(m[1]) / 100 : Number(m[1])
}

/** "1ms", "500us", "0.2s", "2000ns", or a plain number of seconds → ns. */
export function parseDuration(text: string, option: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s)?\s*$/.exec(text)
  if (!m) throw new UsageError('USAGE', `${option} takes a duration such as 1ms, 500us or 0.2s, not "${text}"`)
  const scale: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9 }
  return Number(m[1]) * scale[m[2] ?? 's']!
}

/** Splits a command string into words as a POSIX shell would for plain words, quotes and backslashes. */
export function shellWords(text: string): string[] {
  const out: string[] = []
  let cur = ''
  let inWord = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (c === "'") {
      const end = text.indexOf("'", i + 1)
      if (end < 0) throw new UsageError('USAGE', `unterminated ' in ${JSON.stringify(text)}`)
      cur += text.slice(i + 1, end)
      i = end
      inWord = true
    } else if (c === '"') {
      let j = i + 1
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === '\\' && j + 1 < text.length && '"\\$`'.includes(text[j + 1]!)) j++
        cur += text[j]
      }
      if (j >= text.length) throw new UsageError('USAGE', `unterminated " in ${JSON.stringify(text)}`)
      i = j
      inWord = true
    } else if (c === '\\' && i + 1 < text.length) {
      cur += text[++i]
      inWord = true
    } else if (/\s/.test(c)) {
      if (inWord) out.push(cur)
      cur = ''
      inWord = false
    } else {
      cur += c
      inWord = true
    }
  }
  if (inWord) out.push(cur)
  return out
}

/** An --ab command: leading NAME=value words are environment, the rest is what follows pyxray profile. */
export function parseAbCommand(text: string): RunPlan {
  const words = shellWords(text)
  const env: Record<string, string> = {}
  while (words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]!)) {
    const w = words.shift()!
    const eq = w.indexOf('=')
    env[w.slice(0, eq)] = w.slice(eq + 1)
  }
  if (words.length === 0) throw new UsageError('USAGE', `--ab command ${JSON.stringify(text)} names no script`)
  if (splitOutput(words).output !== undefined) {
    throw new UsageError('USAGE', `--ab commands are profiled to temporary files: drop -o from ${JSON.stringify(text)} (use --keep DIR)`)
  }
  return { rest: words, env }
}

const DIFF_OPTIONS = {
  threshold: { type: 'string' },
  'min-time': { type: 'string' },
  'min-instructions': { type: 'string' },
  alpha: { type: 'string' },
  metric: { type: 'string', default: 'self' },
  'fail-on': { type: 'string' },
  top: { type: 'string', short: 'n' },
  tree: { type: 'boolean', default: false },
  'min-percent': { type: 'string' },
  depth: { type: 'string' },
  ...formatOption('text'),
  width: { type: 'string', short: 'w' },
  ...COLOR_OPTIONS,
  ab: { type: 'boolean', default: false },
  repeat: { type: 'string' },
  python: { type: 'string' },
  keep: { type: 'string' },
  ...OUTPUT_OPTIONS,
  ...HELP_OPTION,
} as const

/** `pyxray diff`, parsed. */
interface DiffCommandOptions {
  readonly positionals: readonly string[]
  readonly ab: boolean
  readonly repeat: number
  readonly python?: string
  readonly keep?: string
  readonly output?: string
  /** What the command reads (profiles, or the files the --ab commands name): never an output. */
  readonly inputs: readonly string[]
  readonly options: DiffOptions
  readonly failOn: ReadonlySet<GateFinding>
  /** `maxJson`: the budget of the JSON text in bytes (an over-budget diff is a one-line error). */
  readonly render: (d: ProfileDiff, style: ReportStyle, maxJson: number, out: (text: string) => void) => void
  readonly style: ReportStyle
  /** `--metric instructions`: the options and renderer of the instruction diff (then `options` is unused). */
  readonly instructions?: { readonly options: InstructionDiffOptions; readonly render: (d: InstructionDiff) => string }
}

function parseDiff(argv: readonly string[], ctx: CommandContext): DiffCommandOptions {
  // The two --ab commands follow --ab and may start with "-" (profiler options): take them first.
  const abAt = argv.indexOf('--ab')
  const commands = abAt >= 0 ? argv.slice(abAt + 1, abAt + 3) : []
  if (abAt >= 0 && commands.length < 2) throw new UsageError('USAGE', "--ab needs two commands: --ab 'CMD A' 'CMD B' (see pyxray diff --help)")
  const args = abAt >= 0 ? [...argv.slice(0, abAt), '--ab', ...argv.slice(abAt + 3)] : argv
  const { values, positionals: rest } = parseOptions(args, DIFF_OPTIONS)
  const positionals = abAt >= 0 ? [...commands, ...rest] : rest
  if (positionals.length !== 2) throw new UsageError('USAGE', `diff needs two ${values.ab ? 'commands' : 'profiles'} (base and head), got ${positionals.length}; see pyxray diff --help`)
  if (!values.ab && positionals[0] === '-' && positionals[1] === '-') throw new UsageError('USAGE', 'only one of the two profiles can be - (standard input)')
  const format = formatValue('diff', values.format, ['text', 'markdown', 'json'] as const)
  const failOn = values['fail-on'] === undefined ? new Set<GateFinding>() : parseFailOn(values['fail-on'])
  const metric = values.metric
  if (metric !== 'self' && metric !== 'total' && metric !== 'instructions') throw new UsageError('USAGE', `--metric takes self, total or instructions, not "${metric}"`)
  if (metric !== 'instructions' && values['min-instructions'] !== undefined) throw new UsageError('USAGE', '--min-instructions applies to --metric instructions')
  if (failOn.has('inconclusive') && metric === 'instructions') throw new UsageError('USAGE', '--metric instructions compares exact counts: nothing is inconclusive (use --fail-on regression)')
  if (metric === 'instructions') {
    for (const [flag, given] of [['--min-time', values['min-time']], ['--alpha', values.alpha], ['--tree', values.tree || undefined]] as const) {
      if (given !== undefined) throw new UsageError('USAGE', `${flag} applies to time metrics; --metric instructions compares exact counts (see pyxray diff --help)`)
    }
  }
  const alpha = values.alpha === undefined ? DEFAULT_DIFF_OPTIONS.alpha : Number(values.alpha)
  if (!(alpha > 0 && alpha < 1)) throw new UsageError('USAGE', `--alpha takes a probability between 0 and 1, e.g. 0.05, not "${String(values.alpha)}"`)
  const options: DiffOptions = {
    metric: metric === 'instructions' ? 'self' : metric,
    threshold: values.threshold === undefined ? DEFAULT_DIFF_OPTIONS.threshold : parseThreshold(values.threshold),
    minTimeNs: values['min-time'] === undefined ? DEFAULT_DIFF_OPTIONS.minTimeNs : parseDuration(values['min-time'], '--min-time'),
    alpha,
  }
  const top = numberOption('top', values.top, 15)
  if (!values.tree && (values['min-percent'] !== undefined || values.depth !== undefined)) throw new UsageError('USAGE', '--min-percent and --depth apply to the call tree: add --tree')
  if (values.tree && format !== 'text') throw new UsageError('USAGE', '--tree is a text view; markdown and json list every call path')
  if (!values.ab && (values.repeat !== undefined || values.python !== undefined || values.keep !== undefined)) {
    throw new UsageError('USAGE', '--repeat, --python and --keep belong to --ab (comparing two profile files runs nothing)')
  }
  const inputs = values.ab ? positionals.flatMap((command) => existingFiles(parseAbCommand(command).rest)) : positionals.filter((p) => p !== '-')
  const output = outputValue(values, ctx)
  return {
    ...(output !== undefined ? { output } : {}),
    style: reportStyle(values, output),
    positionals,
    ab: values.ab,
    repeat: values.repeat === undefined ? 5 : parseRepeat(values.repeat),
    ...(values.python !== undefined ? { python: values.python } : {}),
    ...(values.keep !== undefined ? { keep: values.keep } : {}),
    inputs,
    options,
    failOn,
    render: renderer(format, top, values),
    ...(metric === 'instructions'
      ? {
          instructions: {
            options: {
              threshold: values.threshold === undefined ? DEFAULT_INSTRUCTION_DIFF_OPTIONS.threshold : parseThreshold(values.threshold),
              minInstructions: numberOption('min-instructions', values['min-instructions'], DEFAULT_INSTRUCTION_DIFF_OPTIONS.minInstructions),
            },
            render: (d: InstructionDiff) => (format === 'json' ? `${JSON.stringify(d, null, 2)}\n` : format === 'markdown' ? formatInstructionDiffMarkdown(d, top) : formatInstructionDiffText(d, top)),
          },
        }
      : {}),
  }
}

function renderer(format: 'text' | 'markdown' | 'json', top: number, values: { readonly tree: boolean; readonly 'min-percent'?: string | undefined; readonly depth?: string | undefined; readonly width?: string | undefined }): (d: ProfileDiff, style: ReportStyle, maxJson: number, out: (text: string) => void) => void {
  if (format === 'json') {
    // Streamed: the JSON of a deep diff can be hundreds of megabytes (-o writes it to a temporary file as it is made).
    return (d, _style, maxJson, out) => {
      try {
        writeJsonText(d, out, 2, maxJson)
        out('\n')
      } catch (e) {
        if (!(e instanceof JsonSizeError)) throw e
        throw new UsageError('OUTPUT', `the diff as JSON would exceed ${(maxJson / 2 ** 20).toFixed(1)} MiB (16 MiB + 64× the two profiles' sizes): its call paths repeat long function names; use --format text or markdown`)
      }
    }
  }
  if (format === 'markdown') return (d, _style, _maxJson, out) => out(formatDiffMarkdown(d, top))
  const tree = values.tree ? { minPercent: numberOption('min-percent', values['min-percent'], 1, { integer: false }), ...(values.depth !== undefined ? { depth: numberOption('depth', values.depth, 0) } : {}) } : undefined
  const width = textWidthOption(values.width)
  return (d, style, _maxJson, out) => out(formatDiffText(d, { width, style, top, ...(tree ? { tree } : {}) }))
}

/** Runs `pyxray diff` on parsed options. */
async function runDiff(o: DiffCommandOptions, con: Console): Promise<number> {
  if (o.keep !== undefined) checkOutputFolder(o.keep, ['a.json', 'b.json'], o.output === undefined ? o.inputs : [...o.inputs, o.output], '--keep')
  let base: ProfileDocument
  let head: ProfileDocument
  let names: { base: string; head: string }
  // The JSON of two profile files is bounded by their size, as the engine's outputs are (a deep
  // call chain with long names repeated along its paths: 140 MB from 200 kB); --ab's are pyxray's own.
  let maxJson = Infinity
  if (o.ab) {
    const plans = [parseAbCommand(o.positionals[0]!), parseAbCommand(o.positionals[1]!)]
    const python = interpreter({ ...(o.python !== undefined ? { python: o.python } : {}), verbose: false, rest: [] })
    const { docs, status } = await runInterleaved(python, plans, o.repeat, con)
    if (status !== 0) con.err(`pyxray: warning: a profiled run exited with status ${status}; its profile is compared all the same\n`)
    base = docs[0]!
    head = docs[1]!
    names = { base: `A: ${o.positionals[0]}`, head: `B: ${o.positionals[1]}` }
    if (o.keep !== undefined) {
      writeFileAtomic(join(o.keep, 'a.json'), `${JSON.stringify(base)}\n`)
      writeFileAtomic(join(o.keep, 'b.json'), `${JSON.stringify(head)}\n`)
    }
  } else {
    base = readProfileFile(o.positionals[0]!)
    head = readProfileFile(o.positionals[1]!)
    const sizeOf = (path: string, doc: ProfileDocument) => (path === '-' ? toProfileJson(doc).length : statSync(path).size)
    maxJson = outputBudget(sizeOf(o.positionals[0]!, base) + sizeOf(o.positionals[1]!, head))
    names = { base: o.positionals[0]!, head: o.positionals[1]! }
    noteRootOnly(base, o.positionals[0]!, 'the diff', con)
    noteRootOnly(head, o.positionals[1]!, 'the diff', con)
    base = withoutProcesses(base)
    head = withoutProcesses(head)
  }
  if (o.instructions) return gateInstructions(base, head, names, o, con)
  const d = diffProfiles(base, head, o.options, names)
  if (o.output !== undefined) o.render(d, o.style, maxJson, (text) => con.out(text))
  else {
    // Standard output gets the text whole or not at all (a JSON over its budget prints nothing but
    // the error); -o streams it into its temporary file, renamed into place only when complete.
    const chunks: string[] = []
    o.render(d, o.style, maxJson, (text) => chunks.push(text))
    con.out(chunks.join(''))
  }
  let failed = false
  for (const kind of ['regression', 'inconclusive'] as const) {
    const count = kind === 'regression' ? d.regressions : d.inconclusive
    if (!o.failOn.has(kind) || count === 0) continue
    failed = true
    const what = kind === 'regression' ? `${count} regression${count === 1 ? '' : 's'}` : `${count} inconclusive (large but not significant: run more)`
    con.err(`pyxray: ${what}:\n${gateFindings(d, kind)
      .map((x) => `  ${x}`)
      .join('\n')}\n`)
  }
  return failed ? ExitCode.GateFailed : ExitCode.Ok
}

/** `--metric instructions`: the exact comparison and its gate. */
function gateInstructions(base: ProfileDocument, head: ProfileDocument, names: { base: string; head: string }, o: DiffCommandOptions, con: Console): number {
  let d: InstructionDiff
  try {
    d = diffInstructions(base, head, o.instructions!.options, names)
  } catch (e) {
    if (e instanceof InstructionDiffError) throw new UsageError('USAGE', e.message)
    throw e
  }
  con.out(o.instructions!.render(d))
  if (!o.failOn.has('regression') || d.regressions === 0) return ExitCode.Ok
  con.err(`pyxray: ${d.regressions} regression${d.regressions === 1 ? '' : 's'} in executed instructions:\n${instructionFindings(d)
    .map((x) => `  ${x}`)
    .join('\n')}\n`)
  return ExitCode.GateFailed
}

/** `pyxray diff`. */
export const diffCommand = defineCommand({
  name: 'diff',
  synopsis: 'BASE HEAD',
  summary: 'compare two profiles call path by call path; --fail-on regression for CI',
  help: DIFF_HELP,
  options: DIFF_OPTIONS,
  parse: parseDiff,
  run(o, ctx) {
    return withOutput(ctx, o.output, o.inputs, (con) => runDiff(o, con))
  },
})
