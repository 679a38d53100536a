/** Console and file helpers of the CLI: colors, atomic writes, a progress bar on TTYs. */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { PLAIN, type TextStyle } from '../bytecode/format/text.js'

/** Whether to color a stream: a TTY, and NO_COLOR unset (https://no-color.org). */
export function useColor(stream: NodeJS.WriteStream, flag?: boolean): boolean {
  if (flag !== undefined) return flag
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false
  if (process.env.FORCE_COLOR) return true
  return stream.isTTY === true
}

const sgr = (code: string) => (s: string) => `\x1b[${code}m${s}\x1b[0m`

/** The terminal palette of the text format. */
export const COLORS: TextStyle = {
  header: sgr('1;36'),
  source: sgr('1'),
  lineNo: sgr('33'),
  label: sgr('35'),
  opname: sgr('32'),
  arg: sgr('0'),
  dim: sgr('2'),
}

/** The style for a stream. */
export function styleFor(stream: NodeJS.WriteStream, flag?: boolean): TextStyle {
  return useColor(stream, flag) ? COLORS : PLAIN
}

/** Writes a file atomically: a temporary file beside it, then a rename. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true })
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`
  writeFileSync(tmp, data)
  renameSync(tmp, path)
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
