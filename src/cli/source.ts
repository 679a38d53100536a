/**
 * Targets on the command line — `FILE.py`, `FILE.py:Qualname`, `FILE.py:LINE`, `-c SOURCE`, and
 * the same for `.pyc` — and turning them into code objects through a runtime or the pyc reader.
 */
import { existsSync, readFileSync, statSync } from 'node:fs'
import { type CodeObject, toCodeObject } from '../bytecode/code.js'
import { selectByLine, selectByQualname } from '../bytecode/select.js'
import { decodeUtf8, outputBudget, readMarshal } from '../marshal/index.js'
import { type PycHeader, readPyc } from '../pyc/index.js'
import { type RuntimeChoice, RuntimeError, type RuntimeInfo, type Selected, selectRuntime } from '../runtime/index.js'
import { RUNTIME_HELP, RUNTIME_OPTIONS, runtimeValues } from './command.js'
import { UsageError } from './errors.js'
import { readStdin } from './io.js'

/** What part of a module to show. */
export type Selector = { readonly qualname: string } | { readonly line: number }

/** A parsed target. */
export interface Target {
  /** File path; undefined for `-c` source. */
  readonly path?: string
  /** Inline source from `-c` (or standard input, `-`). */
  readonly inline?: string
  /** co_filename of inline source: `<string>` for -c (the default), `<stdin>` for `-`. */
  readonly filename?: string
  readonly selector?: Selector
}

/**
 * Splits `path:Qualname` / `path:LINE` when the part before the colon is an existing file; `-` is
 * Python source read from standard input.
 */
export function parseTarget(arg: string): Target {
  if (arg === '-') {
    const bytes = readStdin()
    return { inline: decodeUtf8(new Uint8Array(bytes), bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0, bytes.length) ?? bytes.toString('latin1'), filename: '<stdin>' }
  }
  const m = /^(.*):([^:/\\]+)$/.exec(arg)
  if (m?.[1] && !existsSync(arg) && existsSync(m[1])) {
    const sel = m[2]!
    return { path: m[1], selector: /^\d+$/.test(sel) ? { line: Number(sel) } : { qualname: sel } }
  }
  return { path: arg }
}

/** A loaded module code object and the code object the target selects. */
export interface Loaded {
  readonly module: CodeObject
  readonly code: CodeObject
  /** Source text when known (for interleaving). */
  readonly source?: string
  /** co_filename given to the compiler. */
  readonly filename: string
  readonly header?: PycHeader
  readonly runtime?: { readonly info: RuntimeInfo; readonly reason: string }
  /** The output budget for what is made of this target (see marshal/limits.ts), from its size and --max-output-mb. */
  readonly maxOutputBytes: number
}

/** Options for compiling source targets. */
export interface SourceOptions extends RuntimeChoice {
  readonly optimize?: -1 | 0 | 1 | 2
  /** --max-output-mb: the output budget, replacing the one derived from the input's size. */
  readonly maxOutputBytes?: number
}

function select(module: CodeObject, selector: Selector | undefined): CodeObject {
  if (!selector) return module
  return 'line' in selector ? selectByLine(module, selector.line) : selectByQualname(module, selector.qualname)
}

/** Whether a path is Python source (not a .pyc). */
export const isSource = (t: Target): boolean => t.inline !== undefined || !t.path?.endsWith('.pyc')

/** A source file's bytes (compiled as they are) and its text for display. */
export interface SourceFile {
  readonly bytes: Uint8Array
  /** UTF-8 text (BOM removed); Latin-1 when the file is in another encoding (display only). */
  readonly text: string
}

/** Reads a source file; the runtime compiles its exact bytes, honouring a coding cookie. */
export function readSourceFile(path: string): SourceFile {
  if (!existsSync(path)) throw new UsageError('NOT_FOUND', `${path}: no such file`)
  if (statSync(path).isDirectory()) throw new UsageError('USAGE', `${path} is a folder: name a .py file (folders work for .pyc input)`)
  const bytes = new Uint8Array(readFileSync(path))
  const start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0
  const text = decodeUtf8(bytes, start, bytes.length) ?? String.fromCharCode(...bytes.subarray(0, 1 << 16))
  return { bytes, text }
}

/** The text of a source file (see {@link readSourceFile}). */
export function readSource(path: string): string {
  return readSourceFile(path).text
}

/** Compiles (or reads) a target and selects the code object it names. */
export async function loadTarget(t: Target, options: SourceOptions, selected?: Selected): Promise<Loaded> {
  if (!isSource(t)) {
    const path = t.path!
    if (!existsSync(path)) throw new UsageError('NOT_FOUND', `${path}: no such file`)
    const bytes = new Uint8Array(readFileSync(path))
    const maxOutputBytes = outputBudget(bytes.length, options.maxOutputBytes)
    const pyc = readPyc(bytes, { maxOutputBytes })
    const module = toCodeObject(pyc.code, pyc.version[1])
    return { module, code: select(module, t.selector), filename: module.filename, ...(pyc.header ? { header: pyc.header } : {}), maxOutputBytes }
  }
  const file = t.inline === undefined ? readSourceFile(t.path!) : undefined
  const source = t.inline ?? file!.text
  const filename = t.inline !== undefined ? (t.filename ?? '<string>') : t.path!
  const sel = selected ?? (await selectRuntime(options))
  const info = await sel.runtime.info()
  const bytes = await sel.runtime.compile(file?.bytes ?? source, { filename, optimize: options.optimize ?? -1 })
  const maxOutputBytes = outputBudget(bytes.length, options.maxOutputBytes)
  const { value } = readMarshal(bytes, { pythonVersion: [3, info.minor], maxExpandedSize: maxOutputBytes })
  if (value.type !== 'code') throw new RuntimeError('RUNTIME_PROTOCOL', `the runtime returned a ${value.type}, not a code object`)
  const module = toCodeObject(value, info.minor)
  return { module, code: select(module, t.selector), source, filename, runtime: { info, reason: sel.reason }, maxOutputBytes }
}

/** `file.py:3:7: SyntaxError: message`, the source line and a caret under the error. */
export function formatSyntaxError(e: RuntimeError, fallbackFile: string): string {
  const s = e.syntax
  if (!s) return e.message
  const file = s.filename && s.filename !== '<string>' ? s.filename : fallbackFile
  const col = s.offset ?? 0
  const lines = [`${file}:${s.lineno ?? '?'}:${col || '?'}: ${s.type}: ${s.message}`]
  if (s.text) {
    const text = s.text.replace(/\n$/, '')
    const lead = text.length - text.trimStart().length
    const width = s.end_lineno === s.lineno && s.end_offset && s.end_offset > col ? s.end_offset - col : 1
    lines.push(`    ${text.trimStart()}`)
    if (col > 0) lines.push(`    ${' '.repeat(Math.max(0, col - 1 - lead))}${'^'.repeat(width)}`)
  }
  return lines.join('\n')
}

/**
 * Runs a command on one target: picks the runtime for source (closed afterwards), loads and
 * selects the code object, says which runtime with --verbose, and reports a syntax error as
 * `file:line:col` with exit code 2.
 */
export async function withTarget(
  target: Target,
  options: SourceOptions & { readonly verbose: boolean },
  con: { err(text: string): void },
  run: (loaded: Loaded) => number | Promise<number>,
): Promise<number> {
  const selected = isSource(target) ? await selectRuntime(options) : undefined
  try {
    const loaded = await loadTarget(target, options, selected)
    if (options.verbose && loaded.runtime) {
      const { info, reason } = loaded.runtime
      con.err(`pyxray: runtime ${info.kind} CPython ${info.version} (${info.executable}): ${reason}\n`)
    }
    return await run(loaded)
  } catch (e) {
    if (e instanceof RuntimeError && e.code === 'SYNTAX_ERROR') {
      con.err(`${formatSyntaxError(e, target.path ?? target.filename ?? '<string>')}\n`)
      return 2
    }
    throw e
  } finally {
    await selected?.runtime.close()
  }
}

/** Options of the commands that compile a target: the runtime group, -c and --max-output-mb. */
export const SOURCE_OPTIONS = {
  ...RUNTIME_OPTIONS,
  command: { type: 'string', short: 'c' },
  'max-output-mb': { type: 'string' },
} as const

/** Help lines of {@link SOURCE_OPTIONS} (without -c, which each command words itself). */
export const SOURCE_HELP = `${RUNTIME_HELP}
      --max-output-mb N     the output budget in MiB (default 16 MiB + 64× the input's size); a
                            larger output is refused with LIMIT_OUTPUT, exit 2`

/** The checked values of {@link SOURCE_OPTIONS}: how to compile, and the output budget. */
export function sourceValues(values: { readonly python?: string | undefined; readonly runtime?: string | undefined; readonly optimize?: string | undefined; readonly verbose?: boolean | undefined; readonly 'max-output-mb'?: string | undefined }): SourceOptions & { readonly verbose: boolean } {
  const text = values['max-output-mb']
  let maxOutputBytes: number | undefined
  if (text !== undefined) {
    const mb = Number(text)
    if (!/^\d+(\.\d+)?$/.test(text) || !(mb > 0)) throw new UsageError('USAGE', `--max-output-mb takes a positive number of MiB, not "${text}"`)
    maxOutputBytes = Math.round(mb * 2 ** 20)
  }
  return { ...runtimeValues(values), ...(maxOutputBytes !== undefined ? { maxOutputBytes } : {}) }
}

/** The one target of ast, code and stack: -c SOURCE, or one file (`-`: standard input). */
export function oneTarget(command: string, inline: string | undefined, positionals: readonly string[]): Target {
  if (inline !== undefined) {
    if (positionals.length) throw new UsageError('USAGE', `${command}: give either -c SOURCE or a file, not both`)
    return { inline }
  }
  if (positionals.length !== 1) throw new UsageError('USAGE', `${command} needs one file (or -c SOURCE, or - for stdin); see pyxray ${command} --help`)
  return parseTarget(positionals[0]!)
}
