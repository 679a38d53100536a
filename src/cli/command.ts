/**
 * One shape for every `pyxray` command — name, one-line summary, help, options, parse, run — and
 * the pieces they share: the option parser (node's own `parseArgs`, typed from the option table:
 * no dependency, and the values come out as `string`/`boolean` without casts), the option groups
 * every command spells the same way (runtime, output, format, color, quiet), one number parser,
 * and output to a file (`-o, --output FILE`: checked before anything runs, written atomically,
 * never over an input).
 */
import { parseArgs } from 'node:util'
import { PLAIN, type TextStyle } from '../bytecode/format/text.js'
import type { RuntimeKind } from '../runtime/index.js'
import { UsageError } from './errors.js'
import { AtomicFile } from './atomic-write.js'
import { checkOutputPath, type Console, styleFor, useColor } from './io.js'

/** One option of a command, as node's `parseArgs` takes it. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean'
  readonly short?: string
  readonly multiple?: boolean
  readonly default?: string | boolean
}

/** The options of a command by long name. */
export type OptionSpecs = Readonly<Record<string, OptionSpec>>

/** What a command gets besides its arguments: where to print, and how to warn. */
export interface CommandContext {
  readonly con: Console
  /** One line on stderr, `pyxray CMD: warning: TEXT`: a flag that does not apply, a deprecated spelling. */
  warn(text: string): void
}

/** A command as its module defines it: `parse` turns the arguments into options, `run` acts on them. */
export interface CommandSpec<O> {
  readonly name: string
  /** The arguments, as the general help shows them after the name: "TARGET…". */
  readonly synopsis: string
  /** One line for the general help. */
  readonly summary: string
  /** The text of `pyxray NAME --help` (and `pyxray help NAME`). */
  readonly help: string
  /** The options `parse` reads (for reference and tests; commands that pass arguments on list their own). */
  readonly options: OptionSpecs
  /** Whether the arguments ask for help (default: -h or --help anywhere before `--`). */
  readonly wantsHelp?: (args: readonly string[]) => boolean
  /** Checks the arguments; throws UsageError (exit 2) on bad usage. */
  parse(args: readonly string[], ctx: CommandContext): O | Promise<O>
  /** Runs the command; resolves to the exit code. */
  run(options: O, ctx: CommandContext): number | Promise<number>
}

/** A command of the table in main.ts (its options type erased). */
export interface Command {
  readonly name: string
  readonly synopsis: string
  readonly summary: string
  readonly help: string
  readonly options: OptionSpecs
  wantsHelp(args: readonly string[]): boolean
  /** Parses and runs. */
  execute(args: readonly string[], ctx: CommandContext): Promise<number>
}

/** Defines a command: the spec, and `execute` = parse then run. */
export function defineCommand<O>(spec: CommandSpec<O>): Command & { readonly spec: CommandSpec<O> } {
  return {
    spec,
    name: spec.name,
    synopsis: spec.synopsis,
    summary: spec.summary,
    help: spec.help,
    options: spec.options,
    wantsHelp: spec.wantsHelp ?? defaultWantsHelp,
    async execute(args, ctx) {
      return spec.run(await spec.parse(args, ctx), ctx)
    },
  }
}

function defaultWantsHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--')
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === '-h' || a === '--help')
}

/** A context printing to `con`, warnings prefixed with the command's name. */
export function contextFor(command: string, con: Console): CommandContext {
  return { con, warn: (text) => con.err(`pyxray ${command}: warning: ${text}\n`) }
}

/** node's `parseArgs` (strict, positionals allowed) with pyxray's usage errors; the values are typed from `options`. */
export function parseOptions<const T extends OptionSpecs>(args: readonly string[], options: T): ParsedOptions<T> {
  try {
    return parseArgs({ args: [...args], options, allowPositionals: true, strict: true })
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e)
    throw new UsageError('USAGE', msg.replace(/\. To specify a positional argument.*$/s, ''))
  }
}

/** What {@link parseOptions} returns for `options`: values typed from the table, and the positionals. */
export type ParsedOptions<T extends OptionSpecs> = ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>>

/** -h, --help. */
export const HELP_OPTION = { help: { type: 'boolean', short: 'h', default: false } } as const

/** The runtime group: which Python compiles or runs the code. */
export const RUNTIME_OPTIONS = {
  python: { type: 'string' },
  runtime: { type: 'string' },
  optimize: { type: 'string', short: 'O' },
  verbose: { type: 'boolean', short: 'v', default: false },
} as const

/** Help lines of {@link RUNTIME_OPTIONS}. */
export const RUNTIME_HELP = `      --python X.Y|PATH     compile with this CPython (python3.X on PATH or pyenv); 3.14 falls
                            back to the embedded Pyodide when there is no native 3.14
      --runtime KIND        native or pyodide (default: native python3 3.8+ if found, else pyodide)
  -O, --optimize N          0, 1 or 2, as python -O/-OO (default: the interpreter's)
  -v, --verbose             say which runtime was chosen and why`

/** The output group: `-o, --output FILE`, and `--out`, its old spelling (deprecated). */
export const OUTPUT_OPTIONS = {
  output: { type: 'string', short: 'o' },
  out: { type: 'string' },
} as const

/** Help line of {@link OUTPUT_OPTIONS}. */
export const OUTPUT_HELP = '  -o, --output FILE         write FILE (atomically; never one of the inputs) instead of stdout'

/** --color / --no-color. */
export const COLOR_OPTIONS = { color: { type: 'boolean' }, 'no-color': { type: 'boolean' } } as const

/** Help line of {@link COLOR_OPTIONS}. */
export const COLOR_HELP = '      --color / --no-color  force colors on or off (default: on for a terminal, off for NO_COLOR)'

/** -q, --quiet. */
export const QUIET_OPTION = { quiet: { type: 'boolean', short: 'q', default: false } } as const

/** `-f, --format FMT` with its default. */
export function formatOption<const D extends string>(fallback: D) {
  return { format: { type: 'string', short: 'f', default: fallback } } as const
}

/** The runtime options, checked. */
export interface RuntimeValues {
  readonly runtime?: RuntimeKind
  readonly python?: string
  readonly optimize?: 0 | 1 | 2
  readonly verbose: boolean
}

/** Checks the runtime group's values (--runtime native|pyodide, --optimize 0|1|2). */
export function runtimeValues(values: { readonly python?: string | undefined; readonly runtime?: string | undefined; readonly optimize?: string | undefined; readonly verbose?: boolean | undefined }): RuntimeValues {
  const { runtime, optimize, python } = values
  if (runtime !== undefined && runtime !== 'native' && runtime !== 'pyodide') throw new UsageError('USAGE', `--runtime must be native or pyodide, got "${runtime}"`)
  if (optimize !== undefined && !/^[012]$/.test(optimize)) throw new UsageError('USAGE', `--optimize takes 0, 1 or 2, not "${optimize}"`)
  return {
    ...(runtime !== undefined ? { runtime } : {}),
    ...(python !== undefined ? { python } : {}),
    ...(optimize !== undefined ? { optimize: Number(optimize) as 0 | 1 | 2 } : {}),
    verbose: values.verbose === true,
  }
}

/** The output file of `-o/--output` (or the deprecated `--out`, with a warning); undefined for stdout. */
export function outputValue(values: { readonly output?: string | undefined; readonly out?: string | undefined }, ctx: CommandContext): string | undefined {
  if (values.out === undefined) return values.output
  if (values.output !== undefined) throw new UsageError('USAGE', 'give -o/--output once (--out is its old spelling)')
  ctx.warn('--out is deprecated: use -o/--output FILE')
  return values.out
}

/** --color → true, --no-color → false, neither → undefined (decided by the terminal). */
export function colorFlag(values: { readonly color?: boolean | undefined; readonly 'no-color'?: boolean | undefined }): boolean | undefined {
  return values['no-color'] ? false : values.color
}

/** The text style for stdout, or for a file (plain unless --color). */
export function textStyle(values: { readonly color?: boolean | undefined; readonly 'no-color'?: boolean | undefined }, output: string | undefined): TextStyle {
  const flag = colorFlag(values)
  if (output !== undefined) return flag === true ? styleFor(process.stdout, true) : PLAIN
  return styleFor(process.stdout, flag)
}

/** Whether to color stdout (or a file: only with --color). */
export function colorOn(values: { readonly color?: boolean | undefined; readonly 'no-color'?: boolean | undefined }, output: string | undefined): boolean {
  const flag = colorFlag(values)
  return output !== undefined ? flag === true : useColor(process.stdout, flag)
}

/** `--format`'s value when it is one of `allowed`, else a usage error naming them. */
export function formatValue<const F extends readonly string[]>(command: string, format: string, allowed: F): F[number] {
  if (!allowed.includes(format)) throw new UsageError('USAGE', `unknown format "${format}" for ${command}: use one of ${allowed.join(', ')}`)
  return format
}

/** Bounds of {@link numberOption}. */
export interface NumberBounds {
  readonly min?: number
  readonly max?: number
  /** Whole numbers only (default true). */
  readonly integer?: boolean
}

/** A number option: `fallback` when absent, else a number within the bounds, or a usage error naming `--name`. */
export function numberOption(name: string, text: string | undefined, fallback: number, bounds: NumberBounds = {}): number {
  if (text === undefined) return fallback
  const { min = 0, max = Number.MAX_SAFE_INTEGER, integer = true } = bounds
  const n = Number(text)
  if (text.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`
    throw new UsageError('USAGE', `--${name} takes ${integer ? 'a whole number' : 'a number'} ${range}, not "${text}"`)
  }
  return n
}

/**
 * Runs `body` with its stdout going to `output` when given: the path is checked first (a file in
 * an existing folder, none of `inputs`), the text is written atomically once the command is done
 * (when it printed something or succeeded). Without `output`, `body` prints to stdout.
 */
export async function withOutput(ctx: CommandContext, output: string | undefined, inputs: readonly string[], body: (con: Console) => number | Promise<number>): Promise<number> {
  if (output === undefined) return body(ctx.con)
  checkOutputPath(output, inputs.filter((i) => i !== '-'), '-o')
  // Text goes to a temporary file as it is printed (a large output is never one string in memory)
  // and is renamed into place when the command is done, or removed when it fails having printed nothing.
  let file: AtomicFile | undefined
  const cannot = (e: unknown) => new UsageError('OUTPUT', `cannot write ${output}: ${e instanceof Error ? e.message : String(e)}`)
  const open = () => {
    try {
      return (file ??= new AtomicFile(output))
    } catch (e) {
      throw e instanceof UsageError ? e : cannot(e)
    }
  }
  let code: number
  try {
    code = await body({
      out: (t) => {
        const f = open()
        try {
          f.write(t)
        } catch (e) {
          throw cannot(e)
        }
      },
      err: (t) => ctx.con.err(t),
    })
    if (code === 0) open()
    if (file !== undefined) {
      try {
        file.commit()
      } catch (e) {
        throw cannot(e)
      } finally {
        file = undefined
      }
    }
  } finally {
    file?.abort()
  }
  return code
}
