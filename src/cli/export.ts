/**
 * `pyxray export PROFILE.json --to FORMAT [-o FILE]`: a profile document in another tool's format.
 * The formats come from the registry (src/profile/export/formats.ts): this command, its help and
 * its checks list none of their own. Text formats go to stdout without -o; files are written
 * atomically and never over the input.
 */
import { type ProfileDocument, ProfileDocumentError } from '../profile/document.js'
import { ExportError, type Exporter } from '../profile/export/index.js'
import { ALL_EXPORTERS as EXPORTERS, anyExporterNamed as exporterNamed } from '../pprof/index.js'
import { withoutProcesses } from '../profile/processes.js'
import { defineCommand, HELP_OPTION, OUTPUT_OPTIONS, type OptionSpec, outputValue, parseOptions } from './command.js'
import { ExitCode, UsageError } from './errors.js'
import { checkOutputPath, type Console, writeFileAtomic } from './io.js'
import { readProfileFile } from './profile-file.js'
import { VERSION } from './version.js'

/** What `pyxray export` was asked to do. */
export interface ExportCommandOptions {
  /** The profile file; `-` for standard input. */
  readonly input: string
  readonly exporter: Exporter
  /** Output file; stdout when absent (not for binary formats). */
  readonly output?: string
  /** One thread by name, id or #index. */
  readonly thread?: string
  /** Values of the format's own options. */
  readonly options: Readonly<Record<string, string>>
  /** The exporting program and its version, e.g. pyxray@0.1.0. */
  readonly producer: string
}

/** The options every registered format may declare, each a `--NAME VALUE` string option. */
const FORMAT_OPTIONS: Readonly<Record<string, OptionSpec>> = Object.fromEntries(EXPORTERS.flatMap((e) => Object.keys(e.options)).map((name) => [name, { type: 'string' }]))

const EXPORT_OPTIONS = { to: { type: 'string' }, ...OUTPUT_OPTIONS, thread: { type: 'string' }, ...HELP_OPTION } as const

const indent = (text: string, by: number) => text.replace(/\n/g, `\n${' '.repeat(by)}`)

function exportHelp(): string {
  const names = EXPORTERS.map((e) => e.name)
  const formats = EXPORTERS.map((e) => `  ${e.name.padEnd(12)} ${indent(e.description, 15)}`).join('\n')
  const own = EXPORTERS.flatMap((e) => Object.entries(e.options).map(([name, o]) => `      --${name} ${o.choices.join('|').padEnd(Math.max(1, 20 - name.length))}${e.name}: ${o.help}`)).join('\n')
  return `Usage: pyxray export PROFILE.json --to FORMAT [-o FILE] [options]

Writes a profile document (pyxray profile -o) in another tool's format (PROFILE.json - reads it
from standard input):
${formats}

Options:
      --to FORMAT           ${names.slice(0, -1).join(', ')} or ${names.at(-1)}
  -o, --output FILE         write FILE (atomically; never the input) instead of stdout
      --thread NAME|ID|#N   only this thread (default: all; collapsed then starts stacks with
                            [thread name] when there are several)
${own}
  -h, --help                show this help (also: pyxray help export)

Examples:
  pyxray export run.json --to speedscope -o run.speedscope.json
  pyxray export run.json --to pstats -o run.pstats && python3 -m pstats run.pstats
  pyxray export run.json --to collapsed | flamegraph.pl > run.svg
  pyxray export run.json --to pprof -o run.pb.gz && go tool pprof -top run.pb.gz
`
}

/** Checks --to, the format's options and -o; throws UsageError naming the choices. */
export function exportOptions(values: { readonly input: string; readonly to?: string | undefined; readonly output?: string | undefined; readonly thread?: string | undefined; readonly options: Readonly<Record<string, string | undefined>>; readonly producer: string }): ExportCommandOptions {
  const names = EXPORTERS.map((e) => e.name).join(', ')
  if (values.to === undefined) throw new UsageError('USAGE', `export needs --to FORMAT: one of ${names}`)
  const exporter = exporterNamed(values.to)
  if (!exporter) throw new UsageError('USAGE', `unknown export format "${values.to}": use one of ${names}`)
  const options: Record<string, string> = {}
  for (const [name, value] of Object.entries(values.options)) {
    if (value === undefined) continue
    const spec = exporter.options[name]
    if (!spec) {
      const owners = EXPORTERS.filter((e) => name in e.options).map((e) => `--to ${e.name}`)
      throw new UsageError('USAGE', `--${name} applies to ${owners.join(', ')} only`)
    }
    if (!spec.choices.includes(value)) throw new UsageError('USAGE', `unknown ${name} "${value}": use one of ${spec.choices.join(', ')}`)
    options[name] = value
  }
  if (exporter.needsFile && values.output === undefined) throw new UsageError('USAGE', `${exporter.name} files are binary${exporter.name === 'pstats' ? ' (marshal)' : ''}: give -o FILE${exporter.name === 'pstats' ? ', then load it with pstats.Stats(FILE)' : exporter.name === 'pprof' ? ' (e.g. run.pb.gz)' : ''}`)
  if (values.output !== undefined) checkOutputPath(values.output, values.input === '-' ? [] : [values.input], '-o')
  return {
    input: values.input,
    exporter,
    producer: values.producer,
    options,
    ...(values.output !== undefined ? { output: values.output } : {}),
    ...(values.thread !== undefined ? { thread: values.thread } : {}),
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
  const settings = { exporter: o.producer, options: o.options, ...(o.thread !== undefined ? { thread: o.thread } : {}) }
  try {
    const doc = readProfileFile(o.input)
    noteRootOnly(doc, o.input, 'the export', con)
    const root = withoutProcesses(doc)
    data = o.exporter.run(root, settings)
    for (const note of o.exporter.notes?.(root, settings) ?? []) con.err(`pyxray export: ${note}\n`)
  } catch (e) {
    if (e instanceof ProfileDocumentError) throw new UsageError(e.code === 'PROFILE_UNREADABLE' ? 'NOT_FOUND' : 'USAGE', e.message)
    if (e instanceof ExportError) throw new UsageError('USAGE', `${o.input}: ${e.message}`)
    throw e
  }
  if (o.output === undefined) {
    con.out(typeof data === 'string' ? data : '')
    return ExitCode.Ok
  }
  try {
    writeFileAtomic(o.output, data)
  } catch (e) {
    throw new UsageError('OUTPUT', `cannot write ${o.output}: ${e instanceof Error ? e.message : String(e)}`)
  }
  return ExitCode.Ok
}

/** `pyxray export`. */
export const exportCommand = defineCommand({
  name: 'export',
  synopsis: 'PROFILE',
  summary: `a profile for other tools: ${EXPORTERS.map((e) => e.name).join(', ')}`,
  help: exportHelp(),
  options: { ...EXPORT_OPTIONS, ...FORMAT_OPTIONS },
  parse(args, ctx) {
    const { values, positionals } = parseOptions(args, { ...EXPORT_OPTIONS, ...FORMAT_OPTIONS })
    if (positionals.length !== 1) throw new UsageError('USAGE', 'export needs one profile file (pyxray profile -o FILE writes one; - reads it from stdin); see pyxray export --help')
    const options = Object.fromEntries(Object.entries(values).flatMap(([name, value]) => (name in FORMAT_OPTIONS && typeof value === 'string' ? [[name, value] as const] : [])))
    return exportOptions({ input: positionals[0]!, to: values.to, output: outputValue(values, ctx), thread: values.thread, options, producer: `pyxray@${VERSION}` })
  },
  run: (o, ctx) => runExport(o, ctx.con),
})
