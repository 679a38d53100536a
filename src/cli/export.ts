/**
 * `pyxray export PROFILE.json --to FORMAT [-o FILE]`: a profile document in another tool's format
 * (src/profile/export). Text formats go to stdout without -o; files are written atomically and
 * never over the input.
 */
import { type ProfileDocument, ProfileDocumentError } from '../profile/document.js'
import { COLLAPSED_FRAME_BUDGET, COLLAPSED_UNITS, type CollapsedUnit, collapsedFoldDepth, ExportError, selectThreads, toChromeTrace, toCollapsed, toPstats, toSpeedscope } from '../profile/export/index.js'
import { withoutProcesses } from '../profile/processes.js'
import type { Console } from './dis.js'
import { ExitCode, UsageError } from './errors.js'
import { checkOutputPath, writeFileAtomic } from './io.js'
import { readProfileFile } from './profile-file.js'

/** The formats `pyxray export --to` writes. */
export const EXPORT_FORMATS = ['speedscope', 'pstats', 'collapsed', 'chrome'] as const
/** One of {@link EXPORT_FORMATS}. */
export type ExportFormat = (typeof EXPORT_FORMATS)[number]

/** What `pyxray export` was asked to do. */
export interface ExportCommandOptions {
  readonly input: string
  readonly to: ExportFormat
  /** Output file; stdout when absent (not for pstats, which is binary). */
  readonly out?: string
  /** One thread by name, id or #index. */
  readonly thread?: string
  /** collapsed: the unit of the values. */
  readonly unit?: CollapsedUnit
  /** The exporter's name and version, e.g. pyxray@0.1.0. */
  readonly exporter: string
}

/** Checks --to and --unit; throws UsageError naming the choices. */
export function exportOptions(values: { input: string; to?: string; out?: string; thread?: string; unit?: string; exporter: string }): ExportCommandOptions {
  if (values.to === undefined) throw new UsageError('USAGE', `export needs --to FORMAT: one of ${EXPORT_FORMATS.join(', ')}`)
  if (!(EXPORT_FORMATS as readonly string[]).includes(values.to)) throw new UsageError('USAGE', `unknown export format "${values.to}": use one of ${EXPORT_FORMATS.join(', ')}`)
  const to = values.to as ExportFormat
  if (values.unit !== undefined) {
    if (to !== 'collapsed') throw new UsageError('USAGE', '--unit applies to --to collapsed only (the other formats carry their own units)')
    if (!Object.hasOwn(COLLAPSED_UNITS, values.unit)) throw new UsageError('USAGE', `unknown unit "${values.unit}": use one of ${Object.keys(COLLAPSED_UNITS).join(', ')}`)
  }
  if (to === 'pstats' && values.out === undefined) throw new UsageError('USAGE', 'pstats files are binary (marshal): give -o FILE, then load it with pstats.Stats(FILE)')
  if (values.out !== undefined) checkOutputPath(values.out, [values.input], '-o')
  return {
    input: values.input,
    to,
    exporter: values.exporter,
    ...(values.out !== undefined ? { out: values.out } : {}),
    ...(values.thread !== undefined ? { thread: values.thread } : {}),
    ...(values.unit !== undefined ? { unit: values.unit as CollapsedUnit } : {}),
  }
}

/** The exported bytes or text of `doc`. */
export function exportDocument(doc: ProfileDocument, o: Omit<ExportCommandOptions, 'input' | 'out'>): string | Uint8Array {
  const thread = o.thread !== undefined ? { thread: o.thread } : {}
  switch (o.to) {
    case 'speedscope':
      return `${JSON.stringify(toSpeedscope(doc, { ...thread, exporter: o.exporter }))}\n`
    case 'chrome':
      return `${JSON.stringify(toChromeTrace(doc, thread))}\n`
    case 'collapsed':
      return toCollapsed(doc, { ...thread, ...(o.unit ? { unit: o.unit } : {}) })
    case 'pstats':
      return toPstats(o.thread === undefined ? doc : { ...doc, threads: selectThreads(doc, o.thread) })
  }
}

/**
 * A note on stderr when a profile has child processes that a command leaves out (exports and
 * diffs read the root process; pyxray report and the viewer show every process).
 */
export function noteRootOnly(doc: ProfileDocument, file: string, what: string, con: Console): void {
  const n = doc.processes?.length ?? 0
  if (n > 0) con.err(`pyxray: note: ${file} also holds ${n} child process${n === 1 ? '' : 'es'}; ${what} covers the root process only (pyxray report shows them all)\n`)
}

/** Runs the export; input and export problems become UsageErrors (exit 2). */
export function runExport(o: ExportCommandOptions, con: Console): number {
  let data: string | Uint8Array
  try {
    const doc = readProfileFile(o.input)
    noteRootOnly(doc, o.input, 'the export', con)
    const root = withoutProcesses(doc)
    data = exportDocument(root, o)
    if (o.to === 'collapsed') {
      const fold = collapsedFoldDepth(root, { ...(o.thread !== undefined ? { thread: o.thread } : {}), ...(o.unit ? { unit: o.unit } : {}) })
      if (fold !== undefined) con.err(`pyxray export: the call tree is too deep for whole paths (more than ${COLLAPSED_FRAME_BUDGET.toLocaleString('en-US')} frames): frames below depth ${fold} are folded into one "[frames below depth ${fold}]" frame per path\n`)
    }
  } catch (e) {
    if (e instanceof ProfileDocumentError) throw new UsageError(e.code === 'PROFILE_UNREADABLE' ? 'NOT_FOUND' : 'USAGE', e.message)
    if (e instanceof ExportError) throw new UsageError('USAGE', `${o.input}: ${e.message}`)
    throw e
  }
  if (o.out === undefined) {
    con.out(typeof data === 'string' ? data : '')
    return ExitCode.Ok
  }
  try {
    writeFileAtomic(o.out, data)
  } catch (e) {
    throw new UsageError('OUTPUT', `cannot write ${o.out}: ${e instanceof Error ? e.message : String(e)}`)
  }
  return ExitCode.Ok
}
