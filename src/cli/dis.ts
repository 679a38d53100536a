/**
 * `pyxray dis FILE.pyc|DIR…`: disassemble .pyc files with the TypeScript engine (no Python needed).
 */
import { escapeControls, escapeMessage } from '../text/escape.js'
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, type Stats, statSync } from 'node:fs'
import { basename, dirname, join, relative, resolve } from 'node:path'
import { BytecodeError, ExceptionTableError, LineTableError, toCodeObject } from '../bytecode/index.js'
import { type DisOptions, formatDis, formatDisBytes } from '../bytecode/format/dis.js'
import { codeDocument } from '../bytecode/format/json.js'
import { formatText, type TextStyle } from '../bytecode/format/text.js'
import { LimitError, MarshalError, outputBudget } from '../marshal/index.js'
import { jsonText } from '../bytecode/format/output.js'
import { type Pyc, PycError, readPyc } from '../pyc/index.js'
import { RuntimeError } from '../runtime/index.js'
import { type AdaptiveOptions, runDisAdaptive } from './adaptive.js'
import { ExitCode, UsageError } from './errors.js'
import { type Console, Progress, writeFileAtomic } from './io.js'
import { type SourceOptions, type Target, withTarget } from './source.js'

/** Output formats of `pyxray dis`. */
export const DIS_FORMATS = ['text', 'dis', 'json'] as const
export type DisFormat = (typeof DIS_FORMATS)[number]

/** Options of `pyxray dis`, as parsed from the command line. */
export interface DisCommandOptions {
  readonly inputs: readonly string[]
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
  /** No summary line on stderr (-q). */
  readonly quiet?: boolean
  /** Told the CPython minor version of every file read (for warnings about flags that do not apply). */
  readonly onVersion?: (minor: number) => void
}

interface Input {
  readonly path: string
  /** Path relative to the folder given on the command line (its basename for a file). */
  readonly rel: string
}

/** A folder entry left out of a run, and why (one line on stderr). */
interface Skipped {
  readonly path: string
  readonly reason: string
}

const errnoOf = (e: unknown): string => String((e as NodeJS.ErrnoException).code ?? (e instanceof Error ? e.message : e))

/** Why `path` (an entry whose stat failed) cannot be followed. */
function whyUnreadable(path: string, e: unknown): string {
  const code = errnoOf(e)
  if (code === 'ELOOP') return 'symlink loop (ELOOP)'
  if (code === 'ENOENT') {
    try {
      if (lstatSync(path).isSymbolicLink()) return `broken symlink (to ${readlinkSync(path)}, which does not exist)`
    } catch {
      // gone meanwhile: say so below
    }
    return 'vanished while the folder was read (ENOENT)'
  }
  return `cannot read (${code})`
}

/** A name for what a non-regular, non-folder entry is. */
function kindOf(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO'
  if (st.isSocket()) return 'a socket'
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device'
  return 'not a regular file'
}

/**
 * The files to read: the files given, and the matching files below the folders given (sorted,
 * symlinks followed). An entry that cannot be followed — a broken symlink, a symlink loop, an
 * unreadable folder or entry, a FIFO or device with a matching name — is skipped with its reason;
 * a folder reached again through a symlink (a loop such as `a -> .`) is walked once.
 */
function collectInputs(inputs: readonly string[], pattern: RegExp): { found: Input[]; skipped: Skipped[] } {
  const found: Input[] = []
  const skipped: Skipped[] = []
  for (const given of inputs) {
    let st: Stats
    try {
      st = statSync(given)
    } catch (e) {
      if (errnoOf(e) === 'ENOENT' && !isSymlink(given)) throw new UsageError('NOT_FOUND', `${given}: no such file or directory`)
      throw new UsageError('NOT_FOUND', `${given}: ${whyUnreadable(given, e)}`)
    }
    if (!st.isDirectory()) {
      found.push({ path: given, rel: basename(given) })
      continue
    }
    // Folders being walked (device:inode), outermost first: meeting one again is a loop.
    const open = new Map<string, string>()
    // Every folder walked, so one reached twice (venv's lib64 -> lib) is read once.
    const done = new Set<string>()
    const walk = (dir: string, dirStat: Stats) => {
      const id = `${dirStat.dev}:${dirStat.ino}`
      const ancestor = open.get(id)
      if (ancestor !== undefined) {
        skipped.push({ path: dir, reason: `symlink loop (leads back to ${ancestor})` })
        return
      }
      if (done.has(id)) return
      done.add(id)
      let names: string[]
      try {
        names = readdirSync(dir).sort()
      } catch (e) {
        skipped.push({ path: dir, reason: `cannot read the folder (${errnoOf(e)})` })
        return
      }
      open.set(id, dir)
      for (const name of names) {
        const p = join(dir, name)
        let entry: Stats
        try {
          entry = statSync(p)
        } catch (e) {
          skipped.push({ path: p, reason: whyUnreadable(p, e) })
          continue
        }
        if (entry.isDirectory()) walk(p, entry)
        else if (!pattern.test(name)) continue
        else if (!entry.isFile()) skipped.push({ path: p, reason: `${kindOf(entry)}, not a regular file` })
        else found.push({ path: p, rel: relative(given, p) })
      }
      open.delete(id)
    }
    walk(given, st)
  }
  return { found, skipped }
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink()
  } catch {
    return false
  }
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

/** One line describing why a file could not be disassembled. */
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
function disOptionsOf(o: DisCommandOptions, maxOutputBytes: number): DisOptions {
  return { showCaches: o.showCaches, showOffsets: o.showOffsets, showPositions: o.showPositions, maxOutputBytes }
}

function render(pyc: Pyc, input: Input, o: DisCommandOptions, compact: boolean, budget: number): string {
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

/** Runs `pyxray dis`; returns the exit code. */
export function runDis(o: DisCommandOptions, con: Console): number {
  const { found: inputs, skipped } = collectInputs(o.inputs, o.pythonVersion ? /./ : /\.pyc$/)
  // Skipped entries are reported like bad files (one line each) and count as failures: exit 2.
  for (const { path, reason } of skipped) con.err(`pyxray dis: ${escapeControls(path)}: skipped: ${escapeControls(reason)}\n`)
  if (inputs.length === 0) throw new UsageError('NOT_FOUND', `no .pyc files found in ${o.inputs.join(', ')}${skipped.length ? ` (${skipped.length} entries skipped)` : ''}`)
  const progress = new Progress(inputs.length)
  let failed = 0
  inputs.forEach((input, n) => {
    progress.update(n, input.rel)
    try {
      const bytes = new Uint8Array(readFileSync(input.path))
      const budget = outputBudget(bytes.length, o.maxOutputBytes)
      const pyc = readPyc(bytes, { maxOutputBytes: budget, ...(o.pythonVersion ? { pythonVersion: o.pythonVersion } : {}) })
      o.onVersion?.(pyc.version[1])
      if (o.outDir) {
        // The dis text is made as UTF-8 bytes: they go to the file without a string in between.
        const data = o.format === 'dis' ? formatDisBytes(toCodeObject(pyc.code, pyc.version[1]), disOptionsOf(o, budget)) : render(pyc, input, o, false, budget)
        writeFileAtomic(join(o.outDir, input.rel.replace(/\.pyc$/, '') + EXTENSION[o.format]), data)
      } else {
        // Several JSON documents on stdout are JSON Lines; one is pretty-printed.
        const text = render(pyc, input, o, inputs.length > 1, budget)
        if (inputs.length > 1 && o.format !== 'json') con.out(`${n ? '\n' : ''}==> ${escapeControls(input.path)} <==\n`)
        con.out(text)
      }
    } catch (e) {
      const line = describeError(input.path, e)
      if (line === undefined) throw e
      failed++
      progress.finish()
      con.err(`pyxray dis: ${escapeMessage(line)}\n`)
    }
  })
  progress.finish()
  if ((inputs.length > 1 || o.outDir || skipped.length) && !(o.quiet && !failed && !skipped.length)) {
    const skips = skipped.length ? `, ${skipped.length} skipped` : ''
    con.err(`pyxray dis: ${inputs.length} file(s), ${inputs.length - failed} disassembled, ${failed} failed${skips}${o.outDir ? `, written to ${o.outDir}` : ''}\n`)
  }
  return failed || skipped.length ? ExitCode.Usage : ExitCode.Ok
}

/** Options of `pyxray dis` on Python source (or one .pyc with a selector). */
export interface DisSourceOptions extends SourceOptions {
  readonly format: DisFormat
  readonly showCaches: boolean
  readonly showOffsets: boolean
  readonly showPositions: boolean
  readonly style: TextStyle
  readonly verbose: boolean
  readonly explain?: (minor: number, opname: string) => string | undefined
  /** `--adaptive --call`: show the code as CPython specialized it after warm-up runs. */
  readonly adaptive?: AdaptiveOptions
  /** Told the CPython minor version of the code (for warnings about flags that do not apply). */
  readonly onVersion?: (minor: number) => void
}

/** Runs `pyxray dis` on one target compiled by a runtime (or one .pyc with a selector). */
export function runDisTarget(target: Target, o: DisSourceOptions, con: Console): Promise<number> {
  if (o.adaptive) return runDisAdaptive(target, { ...o, adaptive: o.adaptive }, con)
  return withTarget(target, o, con, (loaded) => {
    const { code } = loaded
    o.onVersion?.(code.pythonVersion[1])
    switch (o.format) {
      case 'dis':
        con.out(formatDis(code, { showCaches: o.showCaches, showOffsets: o.showOffsets, showPositions: o.showPositions, maxOutputBytes: loaded.maxOutputBytes }))
        break
      case 'json':
        con.out(
          `${jsonText(
            codeDocument(code, target.path ?? null, {
              runtime: loaded.runtime ? { ...loaded.runtime.info, reason: loaded.runtime.reason } : null,
              header: loaded.header ?? null,
            }, loaded.maxOutputBytes),
            2,
            loaded.maxOutputBytes,
          )}\n`,
        )
        break
      case 'text': {
        const source = loaded.source ?? (target.path ? findSource(target.path, code.filename) : undefined)
        con.out(
          formatText(code, {
            maxOutputBytes: loaded.maxOutputBytes,
            style: o.style,
            showCaches: o.showCaches,
            ...(source !== undefined ? { sourceLines: source.split(/\r?\n/) } : {}),
            ...(o.explain ? { explain: o.explain } : {}),
          }),
        )
        break
      }
    }
    return ExitCode.Ok
  })
}
