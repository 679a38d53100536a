/** `pyxray report PROFILE.json`: the flat table, call tree or callers/callees of a profile. */
import { basename } from 'node:path'
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { toJsonText } from '../profile/json.js'
import { buildReport, REPORT_SORTS, ReportError, type ReportOptions, type ReportSort } from '../profile/report.js'
import { formatReportMarkdown } from '../profile/report-markdown.js'
import { formatReportText, PLAIN_REPORT, type ReportStyle } from '../profile/report-text.js'
import type { Console } from './dis.js'
import { ExitCode, UsageError } from './errors.js'
import { checkOutputPath, PALETTE, useColor, writeFileAtomic } from './io.js'
import { readProfileFile } from './profile-file.js'
import { renderHtmlReport } from './report-html.js'

/** `pyxray report --help`. */
export const REPORT_HELP = `Usage: pyxray report PROFILE.json [options]

Reads a profile written by pyxray profile and shows where the time went: a header (interpreter,
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
      --thread NAME|ID      only this thread (default: all threads)
  -f, --format FMT          text (default), markdown (PR comments, $GITHUB_STEP_SUMMARY), json, or
                            html: one self-contained page with the interactive viewer (flame graph,
                            tables, thread switcher; no network), for the whole profile
  -o, --out FILE            write the report to FILE (atomically) instead of stdout
  -w, --width N             text width (default: the terminal's columns, else 100)
      --color / --no-color  force colors on or off (default: on for a terminal, off for NO_COLOR)
  -h, --help                show this help

Examples:
  pyxray report run.json
  pyxray report run.json --tree --depth 4 --min-percent 2
  pyxray report run.json --callers json.dumps --format markdown >> "$GITHUB_STEP_SUMMARY"
  pyxray report run.json --format html -o report.html
`

type Options = NonNullable<ParseArgsConfig['options']>

/** parseArgs with pyxray's usage errors. */
export function parseCommandArgs(args: string[], options: Options) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true })
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e)
    throw new UsageError('USAGE', msg.replace(/\. To specify a positional argument.*$/s, ''))
  }
}

/** A non-negative number option, or a usage error naming it. */
export function numberOption(name: string, value: string | undefined, fallback: number, integer = true): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) {
    throw new UsageError('USAGE', `--${name} takes a ${integer ? 'whole ' : ''}number >= 0, not "${value}"`)
  }
  return n
}

/** The text width: --width, else the terminal's columns, else 100. */
export function textWidthOption(value: string | undefined): number {
  if (value !== undefined) return Math.max(40, numberOption('width', value, 100))
  return process.stdout.isTTY && process.stdout.columns ? process.stdout.columns : 100
}

/** Colors for stdout given --color/--no-color. */
export function reportStyle(values: { color?: unknown; 'no-color'?: unknown }): ReportStyle {
  const flag = values['no-color'] ? false : (values.color as boolean | undefined)
  return useColor(process.stdout, flag) ? PALETTE : PLAIN_REPORT
}

/** Runs `pyxray report`. */
export async function reportCommand(args: string[], con: Console): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    sort: { type: 'string', default: 'self' },
    top: { type: 'string', short: 'n' },
    tree: { type: 'boolean', default: false },
    depth: { type: 'string' },
    'min-percent': { type: 'string' },
    focus: { type: 'string' },
    hide: { type: 'string', multiple: true, default: [] },
    callers: { type: 'string' },
    callees: { type: 'string' },
    thread: { type: 'string' },
    format: { type: 'string', short: 'f', default: 'text' },
    out: { type: 'string', short: 'o' },
    width: { type: 'string', short: 'w' },
    color: { type: 'boolean' },
    'no-color': { type: 'boolean' },
    help: { type: 'boolean', short: 'h', default: false },
  })
  if (values.help) {
    con.out(REPORT_HELP)
    return ExitCode.Ok
  }
  if (positionals.length !== 1) throw new UsageError('USAGE', `report needs one profile file (got ${positionals.length}); see pyxray report --help`)
  const format = values.format as string
  if (!['text', 'markdown', 'json', 'html'].includes(format)) throw new UsageError('USAGE', `unknown format "${format}" for report: use one of text, markdown, json, html`)
  const sort = values.sort as string
  if (!REPORT_SORTS.includes(sort as ReportSort)) throw new UsageError('USAGE', `--sort takes one of ${REPORT_SORTS.join(', ')}, not "${sort}"`)
  const views = [values.tree ? 'tree' : undefined, values.callers !== undefined ? 'callers' : undefined, values.callees !== undefined ? 'callees' : undefined].filter(Boolean)
  if (views.length > 1) throw new UsageError('USAGE', '--tree, --callers and --callees each choose a view: give one')
  const view = (views[0] ?? 'flat') as ReportOptions['view']
  if (view !== 'tree' && (values.depth !== undefined || values['min-percent'] !== undefined)) throw new UsageError('USAGE', '--depth and --min-percent apply to the call tree: add --tree')
  const file = positionals[0]!
  const out = values.out as string | undefined
  if (out !== undefined) checkOutputPath(out, [file], '-o')
  const emit = (text: string) => (out === undefined ? con.out(text) : writeFileAtomic(out, text))
  const doc = readProfileFile(file)
  if (format === 'html') {
    if (views.length || values.focus !== undefined || (values.hide as string[]).length || values.thread !== undefined) {
      throw new UsageError('USAGE', '--format html holds the whole profile (pick views, threads and searches in the page): drop --tree, --callers, --callees, --focus, --hide and --thread')
    }
    emit(renderHtmlReport(doc, basename(file)))
    return ExitCode.Ok
  }
  const options: ReportOptions = {
    view,
    sort: sort as ReportSort,
    top: numberOption('top', values.top as string | undefined, 25),
    ...(values.depth !== undefined ? { depth: numberOption('depth', values.depth as string, 0) } : {}),
    minPercent: numberOption('min-percent', values['min-percent'] as string | undefined, view === 'tree' ? 1 : 0, false),
    ...(values.focus !== undefined ? { focus: values.focus as string } : {}),
    hide: values.hide as string[],
    ...(view === 'callers' || view === 'callees' ? { target: (values.callers ?? values.callees) as string } : {}),
    ...(values.thread !== undefined ? { thread: values.thread as string } : {}),
    name: file,
  }
  let report
  try {
    report = buildReport(doc, options)
  } catch (e) {
    if (e instanceof ReportError) throw new UsageError('NOT_FOUND', `${file}: ${e.message}`)
    throw e
  }
  // The tree of deep recursion nests 100,000+ levels: toJsonText does not recurse.
  if (format === 'json') emit(`${toJsonText(report, 2)}\n`)
  else if (format === 'markdown') emit(formatReportMarkdown(report))
  else emit(formatReportText(report, { width: textWidthOption(values.width as string | undefined), style: out === undefined || values.color === true ? reportStyle(values) : PLAIN_REPORT }))
  return ExitCode.Ok
}
