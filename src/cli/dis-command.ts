/**
 * `pyxray dis`: the command's options, help and checks; src/cli/dis.ts does the work (.pyc files
 * and folders with pyxray's engine, one target through a runtime).
 */
import { statSync } from 'node:fs'
import { has } from '../versions/index.js'
import { SUPPORTED_RANGE } from '../versions/index.js'
import type { AdaptiveOptions } from './adaptive.js'
import {
  COLOR_HELP,
  COLOR_OPTIONS,
  type CommandContext,
  defineCommand,
  formatOption,
  formatValue,
  HELP_OPTION,
  OUTPUT_OPTIONS,
  parseOptions,
  QUIET_OPTION,
  textStyle,
  withOutput,
} from './command.js'
import { DIS_FORMATS, type DisFormat, runDis, runDisTarget } from './dis.js'
import { UsageError } from './errors.js'
import { isSource, parseTarget, SOURCE_HELP, SOURCE_OPTIONS, sourceValues, type Target } from './source.js'

const DIS_HELP = `Usage: pyxray dis TARGET… [options]

Disassembles Python source (compiled by the chosen runtime) or .pyc files of CPython ${SUPPORTED_RANGE} with
pyxray's own engine. Folders are searched recursively for *.pyc; one bad file does not stop the
rest (exit code 2 if any failed). TARGET - reads Python source from standard input.

Options:
  -f, --format FMT          text (default: for people, source lines above their instructions),
                            dis (exactly what CPython's dis.dis prints for that version),
                            json (every code-object field, instructions, positions)
  -c, --command SOURCE      disassemble this source instead of a file
      --show-caches         show inline CACHE entries (3.11+; text and dis formats)
      --show-offsets        dis format: show byte offsets (3.13+; always shown before 3.13)
      --show-positions      dis format: show full source positions instead of lines (3.14+)
      --explain             text format: add a one-line explanation of every opcode that appears
      --adaptive            3.11+: run --call (after --setup) --warmup times (default 50), then show
                            the code as CPython specialized it (dis's adaptive=True), e.g.
                            LOAD_ATTR → LOAD_ATTR_INSTANCE_VALUE; needs --call
      --call EXPR / --setup CODE / --warmup N   what --adaptive runs
      --python-version X.Y  .pyc inputs are raw marshal data (no header) from Python X.Y
  -o, --output FILE         write the output to FILE (atomically; never one of the inputs)
      --out-dir DIR         .pyc inputs: one output file per input under DIR (written atomically)
  -q, --quiet               no summary line on stderr for several files (failures are still shown)
${COLOR_HELP}
A flag that does not apply to the format or to the file's Python version is a one-line warning.

Runtime options (for .py source):
${SOURCE_HELP}
  -h, --help                show this help (also: pyxray help dis)

Examples:
  pyxray dis examples/hello.py
  pyxray dis 'examples/hello.py:counter.<locals>.bump' --format dis --python 3.12
  pyxray dis -c 'x = [i * i for i in range(10)]' --python 3.14
  echo 'x = 1' | pyxray dis -
  pyxray dis __pycache__/models.cpython-313.pyc --format dis --show-caches
  pyxray dis /usr/lib/python3.11 --format json --out-dir /tmp/dis-json
`

const DIS_OPTIONS = {
  ...SOURCE_OPTIONS,
  ...formatOption('text'),
  'show-caches': { type: 'boolean', default: false },
  'show-offsets': { type: 'boolean', default: false },
  'show-positions': { type: 'boolean', default: false },
  'python-version': { type: 'string' },
  explain: { type: 'boolean', default: false },
  adaptive: { type: 'boolean', default: false },
  call: { type: 'string' },
  setup: { type: 'string' },
  warmup: { type: 'string' },
  ...OUTPUT_OPTIONS,
  'out-dir': { type: 'string' },
  ...COLOR_OPTIONS,
  ...QUIET_OPTION,
  ...HELP_OPTION,
} as const

/** The show-* flags of dis. */
export interface DisFlags {
  readonly format: DisFormat
  readonly showCaches: boolean
  readonly showOffsets: boolean
  readonly showPositions: boolean
  readonly explain: boolean
}

/**
 * The flags given that do nothing for this format and CPython minor version, each as one line
 * (CPython's dis: show_caches from 3.11, show_offsets from 3.13, show_positions from 3.14).
 */
export function inapplicableDisFlags(f: DisFlags, minor: number): string[] {
  const out: string[] = []
  if (f.showCaches) {
    if (!has(minor, 'inlineCaches')) out.push(`--show-caches: CPython 3.${minor} has no inline caches (3.11+); ignored`)
    else if (f.format === 'json') out.push('--show-caches applies to the text and dis formats (json lists the caches of every instruction); ignored')
  }
  if (f.showOffsets) {
    if (f.format !== 'dis') out.push(`--show-offsets applies to --format dis; ignored for ${f.format}`)
    else if (!has(minor, 'showOffsets')) out.push(`--show-offsets: CPython 3.${minor}'s dis always shows offsets (the option is 3.13+); ignored`)
  }
  if (f.showPositions) {
    if (f.format !== 'dis') out.push(`--show-positions applies to --format dis; ignored for ${f.format}`)
    else if (!has(minor, 'showPositions')) out.push(`--show-positions: CPython 3.${minor}'s dis has no show_positions (3.14+); ignored`)
  }
  if (f.explain && f.format !== 'text') out.push(`--explain applies to the text format; ignored for ${f.format}`)
  return out
}

/** Warns once per flag about flags that do not apply, as versions are met. */
function versionWarner(flags: DisFlags, ctx: CommandContext): (minor: number) => void {
  const said = new Set<string>()
  return (minor) => {
    for (const line of inapplicableDisFlags(flags, minor)) {
      const key = line.slice(0, line.indexOf(' '))
      if (said.has(key)) continue
      said.add(key)
      ctx.warn(line)
    }
  }
}

type DisValues = ReturnType<typeof parseOptions<typeof DIS_OPTIONS>>['values']

/** The --adaptive options of dis, checked; undefined without --adaptive. */
function adaptiveOptions(values: DisValues, single: Target | undefined): AdaptiveOptions | undefined {
  if (!values.adaptive) {
    if (values.call !== undefined || values.setup !== undefined || values.warmup !== undefined) throw new UsageError('USAGE', '--call, --setup and --warmup go with --adaptive')
    return undefined
  }
  if (!single || !isSource(single)) throw new UsageError('USAGE', "--adaptive works on one Python source target ('FILE.py[:Qualname]' or -c)")
  if (values.call === undefined) throw new UsageError('USAGE', "--adaptive needs --call EXPR: what to run before reading the specialized code, e.g. --call 'f(100)'")
  const warmup = values.warmup === undefined ? 50 : Number(values.warmup)
  if (!Number.isInteger(warmup) || warmup < 1 || warmup > 10_000_000) throw new UsageError('USAGE', `--warmup takes a whole number of runs from 1 to 10000000, not "${values.warmup}"`)
  return { call: values.call, warmup, ...(values.setup !== undefined ? { setup: values.setup } : {}) }
}

function isFolder(path: string | undefined): boolean {
  try {
    return path !== undefined && statSync(path).isDirectory()
  } catch {
    return false
  }
}

/** `pyxray dis`. */
export const disCommand = defineCommand({
  name: 'dis',
  synopsis: 'TARGET…',
  summary: `disassemble: .py source (compiled by a Python runtime), .pyc files or folders (CPython ${SUPPORTED_RANGE}, no Python needed)`,
  help: DIS_HELP,
  options: DIS_OPTIONS,
  async parse(args, ctx) {
    const { values, positionals } = parseOptions(args, DIS_OPTIONS)
    const format = formatValue('dis', values.format, DIS_FORMATS)
    if (positionals.length === 0 && values.command === undefined) {
      throw new UsageError('USAGE', 'dis needs a .py or .pyc file, a folder, - (source on stdin), or -c SOURCE (see pyxray dis --help)')
    }
    const flags: DisFlags = { format, showCaches: values['show-caches'], showOffsets: values['show-offsets'], showPositions: values['show-positions'], explain: values.explain }
    const single = values.command !== undefined ? { inline: values.command } : positionals.length === 1 ? parseTarget(positionals[0]!) : undefined
    const adaptive = adaptiveOptions(values, single)
    if (adaptive) {
      for (const [flag, given] of [['--show-caches', flags.showCaches], ['--show-offsets', flags.showOffsets], ['--show-positions', flags.showPositions], ['--explain', flags.explain]] as const) {
        if (given) ctx.warn(`${flag} does not apply with --adaptive (the specialized code is shown as dis prints it by default); ignored`)
      }
    }
    const onVersion = versionWarner(flags, ctx)
    let output = values.output
    let outDir = values['out-dir']
    if (values.out !== undefined) {
      if (outDir !== undefined) throw new UsageError('USAGE', 'give --out-dir once (--out is its old spelling)')
      ctx.warn('--out is deprecated: use --out-dir DIR (one file per input) or -o/--output FILE (one output file)')
      outDir = values.out
    }
    if (single && (isSource(single) || single.selector || values.explain) && values['python-version'] === undefined && !isFolder(single.path)) {
      if (outDir !== undefined) throw new UsageError('USAGE', '--out-dir applies to .pyc files and folders (one output per input): use -o FILE for one target')
      const inputs = single.path !== undefined ? [single.path] : []
      return {
        kind: 'target' as const,
        output,
        inputs,
        target: single,
        options: {
          format,
          showCaches: flags.showCaches,
          showOffsets: flags.showOffsets,
          showPositions: flags.showPositions,
          ...sourceValues(values),
          style: textStyle(values, output),
          // Loaded when asked for (the explanations of every opcode are 50 kB).
          ...(values.explain ? { explain: (await import('../bytecode/explain.js')).explainOpcode } : {}),
          ...(adaptive ? { adaptive } : {}),
          onVersion,
        },
      }
    }
    if (values.explain) throw new UsageError('USAGE', '--explain works on one target (a .py or .pyc file) in the text format')
    const sources = positionals.filter((p) => p.endsWith('.py') || p === '-')
    if (sources.length) throw new UsageError('USAGE', `give one .py file (or -) at a time (got ${sources.length} among ${positionals.length} inputs)`)
    // -o DIR for several inputs was the old spelling of --out-dir.
    if (output !== undefined && outDir === undefined && isFolder(output) && (positionals.length > 1 || positionals.some(isFolder))) {
      ctx.warn('-o DIR for one file per input is deprecated: use --out-dir DIR')
      outDir = output
      output = undefined
    }
    if (output !== undefined && outDir !== undefined) throw new UsageError('USAGE', 'give either -o FILE (one output file) or --out-dir DIR (one file per input)')
    const maxOutputBytes = sourceValues(values).maxOutputBytes
    return {
      kind: 'files' as const,
      output,
      inputs: positionals,
      options: {
        inputs: positionals,
        format,
        showCaches: flags.showCaches,
        showOffsets: flags.showOffsets,
        showPositions: flags.showPositions,
        ...(values['python-version'] !== undefined ? { pythonVersion: values['python-version'] } : {}),
        ...(outDir !== undefined ? { outDir } : {}),
        ...(maxOutputBytes !== undefined ? { maxOutputBytes } : {}),
        style: outDir !== undefined ? textStyle({ 'no-color': true }, undefined) : textStyle(values, output),
        quiet: values.quiet,
        onVersion,
      },
    }
  },
  run(o, ctx) {
    if (o.kind === 'target') return withOutput(ctx, o.output, o.inputs, (con) => runDisTarget(o.target, o.options, con))
    return withOutput(ctx, o.output, o.inputs, (con) => runDis(o.options, con))
  },
})
