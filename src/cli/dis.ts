/**
 * `pyxray dis FILE.pyc|DIR…`: disassemble .pyc files with the TypeScript engine (no Python needed).
 */
import { escapeControls, escapeMessage } from '../text/escape.js'
import { lstatSync, readdirSync, readlinkSync, type Stats, statSync } from 'node:fs'
import { basename, join, relative } from 'node:path'
import { formatDis } from '../bytecode/format/dis.js'
import { codeDocument } from '../bytecode/format/json.js'
import { formatText, type TextStyle } from '../bytecode/format/text.js'
import { jsonText } from '../bytecode/format/output.js'
import type { AdaptiveOptions } from './adaptive.js'
import { type DisFileOptions, type DisFormat, type DisInput, describeError, findSource, readInput, renderInput, writeInput } from './dis-file.js'
import { runDisParallel, threadsFor, usesWriter } from './dis-parallel.js'
import { ExitCode, UsageError } from './errors.js'
import { type Console, Progress } from './io.js'
import { type SourceOptions, type Target, withTarget } from './source.js'

export { describeError, DIS_FORMATS, type DisFormat, findSource } from './dis-file.js'

/** Options of `pyxray dis`, as parsed from the command line. */
export interface DisCommandOptions extends DisFileOptions {
  readonly inputs: readonly string[]
  /** No summary line on stderr (-q). */
  readonly quiet?: boolean
  /** Told the CPython minor version of every file read (for warnings about flags that do not apply). */
  readonly onVersion?: (minor: number) => void
}

type Input = DisInput

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

/** Runs `pyxray dis`; returns the exit code (a promise when worker threads write the files). */
export function runDis(o: DisCommandOptions, con: Console): number | Promise<number> {
  const { found: inputs, skipped } = collectInputs(o.inputs, o.pythonVersion ? /./ : /\.pyc$/)
  // Skipped entries are reported like bad files (one line each) and count as failures: exit 2.
  for (const { path, reason } of skipped) con.err(`pyxray dis: ${escapeControls(path)}: skipped: ${escapeControls(reason)}\n`)
  if (inputs.length === 0) throw new UsageError('NOT_FOUND', `no .pyc files found in ${o.inputs.join(', ')}${skipped.length ? ` (${skipped.length} entries skipped)` : ''}`)
  const progress = new Progress(inputs.length)
  const done = (failed: number): number => {
    progress.finish()
    if ((inputs.length > 1 || o.outDir || skipped.length) && !(o.quiet && !failed && !skipped.length)) {
      const skips = skipped.length ? `, ${skipped.length} skipped` : ''
      con.err(`pyxray dis: ${inputs.length} file(s), ${inputs.length - failed} disassembled, ${failed} failed${skips}${o.outDir ? `, written to ${o.outDir}` : ''}\n`)
    }
    return failed || skipped.length ? ExitCode.Usage : ExitCode.Ok
  }
  const outDir = o.outDir
  const threads = outDir ? threadsFor(inputs.length) : 1
  const writer = outDir !== undefined && usesWriter(inputs.length)
  if (outDir && (threads > 1 || writer)) {
    return runDisParallel(inputs, { ...o, outDir }, threads, progress, o.onVersion, writer).then((result) => {
      if (!result) return writeEach(inputs, o, con, progress, done)
      progress.finish()
      for (const { line } of result.failures) con.err(`pyxray dis: ${escapeMessage(line)}\n`)
      if (result.stop) throw result.stop
      return done(result.failures.length)
    })
  }
  return writeEach(inputs, o, con, progress, done)
}

/** The inputs one after the other, in this thread: to their files under --out-dir, or to stdout. */
function writeEach(inputs: readonly Input[], o: DisCommandOptions, con: Console, progress: Progress, done: (failed: number) => number): number {
  let failed = 0
  const folders = new Set<string>()
  const toFiles = o.outDir !== undefined ? { ...o, outDir: o.outDir } : undefined
  inputs.forEach((input, n) => {
    progress.update(n, input.rel)
    try {
      if (toFiles) o.onVersion?.(writeInput(input, toFiles, folders))
      else {
        const { pyc, budget } = readInput(input, o)
        o.onVersion?.(pyc.version[1])
        // Several JSON documents on stdout are JSON Lines; one is pretty-printed.
        const text = renderInput(pyc, input, o, inputs.length > 1, budget)
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
  return done(failed)
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
  // Loaded when asked for: it brings the comparison engine with it.
  if (o.adaptive) {
    const adaptive = o.adaptive
    return import('./adaptive.js').then(({ runDisAdaptive }) => runDisAdaptive(target, { ...o, adaptive }, con))
  }
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
