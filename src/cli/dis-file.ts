/**
 * One .pyc input of `pyxray dis`: read, disassemble and render it, or write it to its output file.
 * Shared by the command (cli/dis.ts) and its worker threads (cli/dis-worker.ts), so it imports only
 * the engine and no runtime: a worker thread starts with as little to load as possible.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
// The engine's modules one by one, not its index: the index also loads the stack analysis and more.
import { toCodeObject } from '../bytecode/code.js'
import { BytecodeError } from '../bytecode/errors.js'
import { ExceptionTableError } from '../bytecode/exceptions.js'
import { LineTableError } from '../bytecode/lines.js'
import { type DisOptions, formatDis, formatDisBytes } from '../bytecode/format/dis.js'
import { codeDocument } from '../bytecode/format/json.js'
import { jsonText } from '../bytecode/format/output.js'
import { formatText, type TextStyle } from '../bytecode/format/text.js'
import { LimitError, MarshalError, outputBudget } from '../marshal/index.js'
import { type Pyc, PycError, readPyc } from '../pyc/index.js'
import { RuntimeError } from '../runtime/types.js'
import { writeFileAtomic } from './atomic-write.js'

/** Output formats of `pyxray dis`. */
export const DIS_FORMATS = ['text', 'dis', 'json'] as const
export type DisFormat = (typeof DIS_FORMATS)[number]

/** What rendering one .pyc input needs (the per-file part of the command's options). */
export interface DisFileOptions {
  readonly format: DisFormat
  readonly showCaches: boolean
  readonly showOffsets: boolean
  readonly showPositions: boolean
  /** Read headerless marshal data of this version ("3.12"). */
  readonly pythonVersion?: string
  /** Write one output file per input under this folder instead of stdout. */
  readonly outDir?: string
  readonly style: TextStyle
  /** --max-output-mb: the output budget per file, replacing the one derived from its size (marshal/limits.ts). */
  readonly maxOutputBytes?: number
}

/** A .pyc input of the command. */
export interface DisInput {
  readonly path: string
  /** Path relative to the folder given on the command line (its basename for a file). */
  readonly rel: string
}

/** Finds the source of a pyc: beside it, in the folder above __pycache__, or at co_filename. */
export function findSource(pycPath: string, coFilename: string): string | undefined {
  const dir = dirname(pycPath)
  const stem = basename(pycPath).replace(/\.(cpython-\d+|pypy\d+)(\.opt-\d)?\.pyc$/, '').replace(/\.pyc$/, '')
  const candidates = [
    basename(dir) === '__pycache__' ? join(dirname(dir), `${stem}.py`) : join(dir, `${stem}.py`),
    resolve(dir, coFilename),
    coFilename,
  ]
  for (const c of candidates) {
    try {
      if (c && existsSync(c) && statSync(c).isFile()) return readFileSync(c, 'utf8')
    } catch {
      // unreadable: try the next one
    }
  }
  return undefined
}

/** One line describing why a file could not be disassembled; undefined for an unexpected error. */
export function describeError(path: string, e: unknown): string | undefined {
  if (
    e instanceof PycError ||
    e instanceof MarshalError ||
    e instanceof BytecodeError ||
    e instanceof LineTableError ||
    e instanceof ExceptionTableError ||
    e instanceof LimitError ||
    e instanceof RuntimeError
  ) {
    const at = 'byteOffset' in e && e.byteOffset !== undefined ? ` at byte ${e.byteOffset}` : ''
    return `${path}: ${e.code}${at}: ${e.message}`
  }
  if (e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && (e as NodeJS.ErrnoException).syscall) {
    return `${path}: cannot read (${(e as NodeJS.ErrnoException).code})`
  }
  return undefined
}

/** The dis options of the command line. */
function disOptionsOf(o: DisFileOptions, maxOutputBytes: number): DisOptions {
  return { showCaches: o.showCaches, showOffsets: o.showOffsets, showPositions: o.showPositions, maxOutputBytes }
}

/** Reads one .pyc input (its bytes and header) with its output budget. */
export function readInput(input: DisInput, o: DisFileOptions): { pyc: Pyc; budget: number } {
  const bytes = new Uint8Array(readFileSync(input.path))
  const budget = outputBudget(bytes.length, o.maxOutputBytes)
  const pyc = readPyc(bytes, { maxOutputBytes: budget, ...(o.pythonVersion ? { pythonVersion: o.pythonVersion } : {}) })
  return { pyc, budget }
}

/** The text of one input in the chosen format (JSON on one line when `compact`). */
export function renderInput(pyc: Pyc, input: DisInput, o: DisFileOptions, compact: boolean, budget: number): string {
  const minor = pyc.version[1]
  const code = toCodeObject(pyc.code, minor)
  switch (o.format) {
    case 'dis':
      return formatDis(code, disOptionsOf(o, budget))
    case 'json':
      return `${jsonText(codeDocument(code, input.path, { header: pyc.header ?? null }, budget), compact ? undefined : 2, budget)}\n`
    case 'text': {
      const source = findSource(input.path, code.filename)
      return formatText(code, {
        maxOutputBytes: budget,
        style: o.style,
        showCaches: o.showCaches,
        ...(source !== undefined ? { sourceLines: source.split(/\r?\n/) } : {}),
      })
    }
  }
}

const EXTENSION: Record<DisFormat, string> = { dis: '.dis.txt', json: '.json', text: '.txt' }

/** One input's output: where it goes under the output folder, its text, and the file's CPython minor version. */
export interface DisOutput {
  readonly path: string
  /** The text: UTF-8 bytes for the dis format (a buffer of its own, which may be transferred), else a string. */
  readonly data: Uint8Array | string
  readonly minor: number
}

/** Reads and renders one input for `--out-dir`: its output file's path and text. */
export function outputOf(input: DisInput, o: DisFileOptions & { readonly outDir: string }): DisOutput {
  const { pyc, budget } = readInput(input, o)
  // The dis text is made as UTF-8 bytes: they go to the file without a string in between.
  const data = o.format === 'dis' ? formatDisBytes(toCodeObject(pyc.code, pyc.version[1]), disOptionsOf(o, budget)) : renderInput(pyc, input, o, false, budget)
  return { path: join(o.outDir, input.rel.replace(/\.pyc$/, '') + EXTENSION[o.format]), data, minor: pyc.version[1] }
}

/**
 * Writes an output file (atomically, without the flush to disk: outputs of --out-dir are cheap to
 * make again). `folders` holds the output folders already made, so each is made once per run
 * rather than once per file.
 */
export function writeOutput(path: string, data: Uint8Array | string, folders: Set<string>): void {
  const folder = dirname(path)
  if (!folders.has(folder)) {
    mkdirSync(folder, { recursive: true })
    folders.add(folder)
  }
  writeFileAtomic(path, data, { folderExists: true, fsync: false })
}

/** Writes one input's output file under `outDir`; returns the file's CPython minor version. */
export function writeInput(input: DisInput, o: DisFileOptions & { readonly outDir: string }, folders: Set<string>): number {
  const out = outputOf(input, o)
  writeOutput(out.path, out.data, folders)
  return out.minor
}
