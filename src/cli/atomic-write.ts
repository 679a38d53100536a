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

