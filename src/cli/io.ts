/** Console and file helpers of the CLI: colors, atomic writes, a progress bar on TTYs. */
import { randomBytes } from 'node:crypto'
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, type Stats, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { WriteStream } from 'node:tty'
import stringWidth from 'string-width'
import { PLAIN, type TextStyle } from '../bytecode/format/text.js'
import type { ReportStyle } from '../profile/report-text.js'
import { UsageError } from './errors.js'

/** Where a command prints: stdout and stderr (a test passes its own). */
export interface Console {
  out(text: string): void
  err(text: string): void
}

let stdinRead = false

/**
 * All of standard input, for `-` where a file is expected (`echo 'x = 1' | pyxray dis -`). Read
 * once: a second `-` on the same command line is a usage error.
 */
export function readStdin(): Buffer {
  if (stdinRead) throw new UsageError('USAGE', '- (standard input) can be given once per command')
  stdinRead = true
  try {
    return readFileSync(0)
  } catch (e) {
    throw new UsageError('NOT_FOUND', `cannot read standard input (${(e as NodeJS.ErrnoException).code ?? String(e)})`)
  }
}

/**
 * Whether to color `stream`, by the ecosystem's conventions, in this order: `--color`/`--no-color`
 * (`flag`); NO_COLOR non-empty: off (https://no-color.org); FORCE_COLOR: `0`/`false` off, `1`–`3`,
 * `true` or empty on, even piped (read by Node's own tty colour depth); TERM=dumb: off; else on for
 * a terminal that has colours.
 */
export function useColor(stream: NodeJS.WriteStream, flag?: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  if (flag !== undefined) return flag
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false
  if (env.FORCE_COLOR !== undefined) return WriteStream.prototype.getColorDepth.call(stream, { FORCE_COLOR: env.FORCE_COLOR }) > 1
  if (env.TERM === 'dumb') return false
  return stream.isTTY === true && typeof stream.hasColors === 'function' && stream.hasColors({ ...env, NO_COLOR: undefined })
}

const sgr = (code: string) => (s: string) => `\x1b[${code}m${s}\x1b[0m`

/** The one terminal palette: the bytecode text views' roles and the reports' (report, diff, mem). */
export const PALETTE: TextStyle & ReportStyle = {
  header: sgr('1;36'),
  source: sgr('1'),
  lineNo: sgr('33'),
  label: sgr('35'),
  opname: sgr('32'),
  arg: sgr('0'),
  dim: sgr('2'),
  bar: sgr('33'),
  name: sgr('1'),
  bad: sgr('31'),
  good: sgr('32'),
}

/** The style of the bytecode views for a stream. */
export function styleFor(stream: NodeJS.WriteStream, flag?: boolean): TextStyle {
  return useColor(stream, flag) ? PALETTE : PLAIN
}

/** Text whose every character takes one cell: printable ASCII, box drawing, the ellipsis. */
const ONE_CELL_EACH = /^[\x20-\x7e\u2500-\u257f\u2026]*$/

/**
 * Display width in terminal cells: East Asian wide and fullwidth characters take two, combining
 * marks none. Text of one-cell characters only (most of it: names, numbers, a tree's branches) is
 * its length; the rest goes through string-width, whose grapheme segmentation costs tens of
 * microseconds a character (the branches of a 3,000-deep call tree took 18 s).
 */
export const terminalWidth = (text: string): number => (ONE_CELL_EACH.test(text) ? text.length : stringWidth(text))

/**
 * Writes a file atomically, with write-file-atomic's semantics: a temporary file in the same
 * folder, written, fsynced, renamed over `path`; on any error the temporary file is removed and
 * the target is untouched. A folder (or other non-file) at `path` is a UsageError OUTPUT. Its
 * folder is made first unless the caller knows it exists (`folderExists`); `fsync: false` skips
 * the flush to disk for outputs that are cheap to make again (one file per input of dis --out-dir).
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, options: { readonly folderExists?: boolean; readonly fsync?: boolean } = {}): void {
  const existing = statOrUndefined(path)
  if (existing !== undefined && !existing.isFile()) throw new UsageError('OUTPUT', `${path} is ${existing.isDirectory() ? 'a folder' : 'not a regular file'}: name a file to write`)
  if (!options.folderExists) mkdirSync(dirname(path), { recursive: true })
  // Random, so worker threads of one process writing beside each other never share a name.
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`)
  let fd: number | undefined
  try {
    fd = openSync(tmp, 'wx', existing ? existing.mode & 0o777 : 0o666)
    writeFileSync(fd, data)
    if (options.fsync !== false) fsyncSync(fd)
    closeSync(fd)
    fd = undefined
    renameSync(tmp, path)
  } catch (e) {
    try {
      if (fd !== undefined) closeSync(fd)
      rmSync(tmp, { force: true })
    } catch {
      // The first error is the one to report (a cleanup failing, e.g. ENOTDIR, must not hide it).
    }
    throw e
  }
}

/** `statSync` without following nothing special: undefined when nothing is there. */
function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path)
  } catch {
    return undefined
  }
}

/**
 * Checks, before anything runs, that `path` can take an output of the command (`option` names it
 * in the message): not a folder or another non-regular file, in a folder that exists and can be
 * written, and none of `inputs` (the same file by identity, so links and other spellings count).
 * Throws UsageError OUTPUT with a one-line reason.
 */
export function checkOutputPath(path: string, inputs: readonly string[], option: string): void {
  const fail = (why: string): never => {
    throw new UsageError('OUTPUT', `${option} ${path}: ${why}`)
  }
  const out = statOf(path)
  if (out?.isDirectory()) fail('that is a folder; give a file name')
  if (out && !out.isFile()) fail('not a regular file; give a file name')
  if (out) {
    for (const input of inputs) {
      const s = statOf(input)
      if (s && s.dev === out.dev && s.ino === out.ino) fail(`that is an input of this command (${input}); pyxray never overwrites its inputs`)
    }
  }
  const folder = dirname(resolve(path))
  const f = statOf(folder)
  if (!f) fail(`folder ${folder} does not exist`)
  if (!f!.isDirectory()) fail(`${folder} is not a folder`)
  // Writing is tried, not guessed from permission bits (root, read-only mounts, ACLs).
  const probe = join(folder, `.pyxray-check-${process.pid}-${Math.random().toString(36).slice(2)}`)
  try {
    closeSync(openSync(probe, 'wx'))
    unlinkSync(probe)
  } catch (e) {
    fail(`cannot write in folder ${folder} (${(e as NodeJS.ErrnoException).code ?? String(e)})`)
  }
}

/**
 * Checks, before anything runs, that folder `dir` can take the files `names` (`option` names it in
 * the message): a folder, or a missing one whose parent folder exists (it is created); each file
 * in it as {@link checkOutputPath} checks it, against `inputs`. Throws UsageError OUTPUT.
 */
export function checkOutputFolder(dir: string, names: readonly string[], inputs: readonly string[], option: string): void {
  const d = statOf(dir)
  if (d && !d.isDirectory()) throw new UsageError('OUTPUT', `${option} ${dir}: not a folder; give a folder for ${names.join(' and ')}`)
  if (d) {
    for (const name of names) checkOutputPath(join(dir, name), inputs, option)
    return
  }
  const parent = dirname(resolve(dir))
  if (!statOf(parent)?.isDirectory()) throw new UsageError('OUTPUT', `${option} ${dir}: folder ${parent} does not exist`)
}

/** Every word of `words` that names an existing file (the inputs of a command line). */
export function existingFiles(words: readonly string[]): string[] {
  return words.filter((w) => statOf(w)?.isFile() === true)
}

function statOf(path: string): Stats | undefined {
  try {
    return statSync(path)
  } catch {
    return undefined
  }
}

/** A progress bar on stderr, shown only on a TTY and only once a run has lasted ~1 s. */
export class Progress {
  private readonly started = Date.now()
  private shown = false
  constructor(
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  update(done: number, label: string): void {
    if (!this.stream.isTTY || Date.now() - this.started < 1000) return
    this.shown = true
    const width = 30
    const filled = Math.round((done / Math.max(1, this.total)) * width)
    const text = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${this.total} ${label}`
    this.stream.write(`\r${text.slice(0, (this.stream.columns || 80) - 1).padEnd((this.stream.columns || 80) - 1)}`)
  }

  finish(): void {
    if (this.shown) this.stream.write(`\r${' '.repeat((this.stream.columns || 80) - 1)}\r`)
  }
}
