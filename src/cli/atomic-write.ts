/**
 * Atomic file writes of the CLI. A module of its own, importing only Node's file functions, so the
 * writer thread of `pyxray dis --out-dir` (cli/dis-writer.ts) starts with next to nothing to load.
 */
import { randomBytes } from 'node:crypto'
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, type Stats, statSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { UsageError } from './errors.js'

/**
 * Writes a file atomically, with write-file-atomic's semantics: a temporary file in the same
 * folder, written, fsynced, renamed over `path`; on any error the temporary file is removed and
 * the target is untouched. A folder (or other non-file) at `path` is a UsageError OUTPUT. Its
 * folder is made first unless the caller knows it exists (`folderExists`); `fsync: false` skips
 * the flush to disk for outputs that are cheap to make again (one file per input of dis --out-dir).
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, options: AtomicFileOptions = {}): void {
  const file = new AtomicFile(path, options)
  try {
    file.write(data)
  } catch (e) {
    file.abort()
    throw e
  }
  file.commit()
}

/** Options of {@link writeFileAtomic} and {@link AtomicFile}. */
export interface AtomicFileOptions {
  readonly folderExists?: boolean
  readonly fsync?: boolean
}

/**
 * A file written in pieces and put in place atomically (see {@link writeFileAtomic}): the
 * temporary file is made on construction, `write` appends, `commit` flushes and renames, `abort`
 * removes it. For outputs too large to hold as one string (a diff's JSON streamed as it is made).
 */
export class AtomicFile {
  readonly #path: string
  readonly #tmp: string
  readonly #fsync: boolean
  #fd: number | undefined

  constructor(path: string, options: AtomicFileOptions = {}) {
    const existing = statOrUndefined(path)
    if (existing !== undefined && !existing.isFile()) throw new UsageError('OUTPUT', `${path} is ${existing.isDirectory() ? 'a folder' : 'not a regular file'}: name a file to write`)
    if (!options.folderExists) mkdirSync(dirname(path), { recursive: true })
    this.#path = path
    this.#fsync = options.fsync !== false
    // Random, so worker threads of one process writing beside each other never share a name.
    this.#tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`)
    this.#fd = openSync(this.#tmp, 'wx', existing ? existing.mode & 0o777 : 0o666)
  }

  /** Appends `data`; after an error, call {@link abort}. */
  write(data: string | Uint8Array): void {
    if (this.#fd === undefined) throw new Error('AtomicFile: write after commit or abort')
    writeFileSync(this.#fd, data)
  }

  /** Flushes, closes and renames over the target; on an error the temporary file is removed and the error thrown. */
  commit(): void {
    const fd = this.#fd
    if (fd === undefined) throw new Error('AtomicFile: commit after commit or abort')
    try {
      if (this.#fsync) fsyncSync(fd)
      closeSync(fd)
      this.#fd = undefined
      renameSync(this.#tmp, this.#path)
    } catch (e) {
      this.abort()
      throw e
    }
  }

  /** Closes and removes the temporary file (the target stays as it was); never throws. */
  abort(): void {
    try {
      if (this.#fd !== undefined) closeSync(this.#fd)
    } catch {
      // The caller's error is the one to report.
    }
    this.#fd = undefined
    try {
      rmSync(this.#tmp, { force: true })
    } catch {
      // As above (a cleanup failing, e.g. ENOTDIR, must not hide the first error).
    }
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

