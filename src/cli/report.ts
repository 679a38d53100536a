/** `pyxray report PROFILE.json`: the flat table, call tree or callers/callees of a profile. */
import { readFileSync, statSync } from 'node:fs'
import { isAbsolute } from 'node:path'
import { buildReport, REPORT_SORTS, ReportError, type ReportOptions } from '../profile/report.js'
import { PLAIN_REPORT, type ReportStyle } from '../profile/report-text.js'
import { COLOR_HELP, COLOR_OPTIONS, colorOn, defineCommand, formatOption, formatValue, HELP_OPTION, numberOption, OUTPUT_OPTIONS, outputValue, parseOptions, withOutput } from './command.js'
import { ExitCode, UsageError } from './errors.js'
import { PALETTE } from './io.js'
import { readProfileFile } from './profile-file.js'
import { REPORT_FORMATS } from './report-formats.js'

/** The text of a source file a profile names, for --lines and --instructions (absolute paths, up to 16 MB; undefined when unreadable). */
function readSource(file: string): string | undefined {
  if (!isAbsolute(file)) return undefined
  try {
    if (statSync(file).size > 16 * 1024 * 1024) return undefined
    return readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}

const indent = (text: string, by: number) => text.replace(/\n/g, `\n${' '.repeat(by)}`)

/** `pyxray report --help`. */
export const REPORT_HELP = `Usage: pyxray report PROFILE.json [options]

Reads a profile written by pyxray profile (- reads it from standard input) and shows where the time went: a header (interpreter,
argv, mode, clock, duration, subtracted overhead, warnings), then the flat table of functions
(time aggregated over every call path; a recursive function's total counts once), the call tree,
or the callers/callees of one function. Functions are named by qualname (Class.method) or
FILE:QUALNAME.

Repeated profiles (pyxray profile --repeat N) are shown per run, comparable with a single run:
self and total are the medians over the runs, "±" is half the interquartile range (N >= 4; the
quartiles interpolated between runs) or half the range min–max (N < 4), and calls/run is exact
when every run made the same calls, else "min–max" with a warning (the runs did different work).
The % columns and bars are shares of the time of all runs. --format json keeps the summed fields
and adds perRun (median, low and high ends of the spread, calls of each run) to every row and
header.perRun (spread kind, duration and total per run, functions whose calls differ).

Options:
      --sort KEY            flat table order: self (default), total, calls, memory, peak
  -n, --top N               rows of the flat table (default 25; 0 for all)
      --tree                the call tree instead of the flat table
      --depth N             tree: levels shown below each root
      --min-percent P       tree: hide calls below P % of the total time (default 1)
      --focus QUALNAME      only the subtrees rooted at this function (all paths into it merged)
      --hide QUALNAME       fold this function into its callers (repeatable)
      --callers QUALNAME    who calls the function, and its time from each caller
      --callees QUALNAME    what the function calls, and the time of each from it
      --lines               sample mode: the hottest source lines (of the innermost frame shown),
                            with their text
      --instructions        sample mode: the hottest bytecode instructions: opname, argument,
                            specialised form (3.11+), and source span (column-exact on 3.11+)
      --thread NAME|ID      only this thread (default: all threads)
  -f, --format FMT          one of:
${REPORT_FORMATS.map((f) => `                              ${f.name.padEnd(9)} ${indent(f.description, 40)}`).join('\n')}
  -o, --output FILE         write the report to FILE (atomically; never the profile) instead of stdout
  -w, --width N             text width (default: the terminal's columns, else 100)
${COLOR_HELP}
  -h, --help                show this help (also: pyxray help report)

Examples:
  pyxray report run.json
  pyxray report run.json --tree --depth 4 --min-percent 2
  pyxray report run.json --callers json.dumps --format markdown >> "$GITHUB_STEP_SUMMARY"
  pyxray report run.json --instructions --top 10
  pyxray report run.json --format html -o report.html
`


/** The text width: --width, else the terminal's columns, else 100. */
export function textWidthOption(value: string | undefined): number {
  if (value !== undefined) return Math.max(40, numberOption('width', value, 100))
  return process.stdout.isTTY && process.stdout.columns ? process.stdout.columns : 100
}

/** Report colors: for stdout per --color/--no-color and the terminal; for a file only with --color. */
export function reportStyle(values: { readonly color?: boolean | undefined; readonly 'no-color'?: boolean | undefined }, output?: string): ReportStyle {
  return colorOn(values, output) ? PALETTE : PLAIN_REPORT
}

const REPORT_OPTIONS = {
  sort: { type: 'string', default: 'self' },
  top: { type: 'string', short: 'n' },
  tree: { type: 'boolean', default: false },
  depth: { type: 'string' },
  'min-percent': { type: 'string' },
  focus: { type: 'string' },
  hide: { type: 'string', multiple: true },
  callers: { type: 'string' },
  callees: { type: 'string' },
  lines: { type: 'boolean', default: false },
  instructions: { type: 'boolean', default: false },
  thread: { type: 'string' },
  ...formatOption('text'),
  ...OUTPUT_OPTIONS,
  width: { type: 'string', short: 'w' },
  ...COLOR_OPTIONS,
  ...HELP_OPTION,
} as const

/** `pyxray report`. */
export const reportCommand = defineCommand({
  name: 'report',
  synopsis: 'PROFILE',
  summary: `a profile's table, call tree or callers/callees (${REPORT_FORMATS.map((f) => f.name).join(', ')})`,
  help: REPORT_HELP,
  options: REPORT_OPTIONS,
  parse(args, ctx) {
    const { values, positionals } = parseOptions(args, REPORT_OPTIONS)
    if (positionals.length !== 1) throw new UsageError('USAGE', `report needs one profile file (got ${positionals.length}); see pyxray report --help`)
    const format = REPORT_FORMATS.find((f) => f.name === formatValue('report', values.format, REPORT_FORMATS.map((f) => f.name)))!
    const sort = REPORT_SORTS.find((s) => s === values.sort)
    if (sort === undefined) throw new UsageError('USAGE', `--sort takes one of ${REPORT_SORTS.join(', ')}, not "${values.sort}"`)
    const views = (['tree', 'callers', 'callees', 'lines', 'instructions'] as const).filter((v) => (v === 'tree' || v === 'lines' || v === 'instructions' ? values[v] : values[v] !== undefined))
    if (views.length > 1) throw new UsageError('USAGE', '--tree, --callers, --callees, --lines and --instructions each choose a view: give one')
    const view = views[0] ?? 'flat'
    if (view !== 'tree' && (values.depth !== undefined || values['min-percent'] !== undefined)) throw new UsageError('USAGE', '--depth and --min-percent apply to the call tree: add --tree')
    const hide = values.hide ?? []
    if (format.wholeProfile && (views.length || values.focus !== undefined || hide.length || values.thread !== undefined)) {
      throw new UsageError('USAGE', `--format ${format.name} holds the whole profile (pick views, threads and searches in the page): drop --tree, --callers, --callees, --lines, --instructions, --focus, --hide and --thread`)
    }
    const file = positionals[0]!
    const output = outputValue(values, ctx)
    if (format.needsFile && output === undefined) throw new UsageError('USAGE', `--format ${format.name} needs -o FILE`)
    if (format.name !== 'text' && (values.width !== undefined || values.color !== undefined || values['no-color'] !== undefined)) ctx.warn(`--width and --color apply to the text format; ignored for ${format.name}`)
    const options: ReportOptions = {
      view,
      sort,
      top: numberOption('top', values.top, 25),
      ...(values.depth !== undefined ? { depth: numberOption('depth', values.depth, 0) } : {}),
      minPercent: numberOption('min-percent', values['min-percent'], view === 'tree' ? 1 : 0, { integer: false }),
      ...(values.focus !== undefined ? { focus: values.focus } : {}),
      hide,
      ...(view === 'callers' || view === 'callees' ? { target: (values.callers ?? values.callees)! } : {}),
      ...(values.thread !== undefined ? { thread: values.thread } : {}),
      name: file,
      ...(view === 'lines' || view === 'instructions' ? { sources: readSource } : {}),
    }
    return { file, format, output, options, width: textWidthOption(values.width), style: reportStyle(values, output) }
  },
  run(o, ctx) {
    return withOutput(ctx, o.output, [o.file], (con) => {
      const doc = readProfileFile(o.file)
      let report
      if (!o.format.wholeProfile) {
        try {
          report = buildReport(doc, o.options)
        } catch (e) {
          if (e instanceof ReportError) throw new UsageError('NOT_FOUND', `${o.file}: ${e.message}`)
          throw e
        }
      }
      con.out(o.format.render({ doc, file: o.file, width: o.width, style: o.style, ...(report ? { report } : {}) }))
      return ExitCode.Ok
    })
  },
})
