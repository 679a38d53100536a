/**
 * The processes of one profile: the root process (the document's own metadata and threads) and
 * the child processes pyxray followed (`processes`, see schema/profile.schema.json), all sharing
 * the document's frame table. Views pick one process; each process reads as a profile of its own.
 */
import type { ProfileDocument, ProfileMetadata, ProfileProcess } from './document.js'

/** One process of a profile, for pickers and per-process sections. */
export interface ProcessEntry {
  /** 0 for the root process, i for `processes[i - 1]`. */
  readonly index: number
  readonly pid?: number
  readonly parentPid?: number
  readonly argv: readonly string[]
  readonly exitStatus: number | null
  readonly partial: boolean
  readonly metadata: ProfileMetadata
}

/** The root process first, then the children in the document's order (oldest first). */
export function processesOf(doc: ProfileDocument): readonly ProcessEntry[] {
  const all: readonly ProfileProcess[] = [{ metadata: doc.metadata, threads: doc.threads }, ...(doc.processes ?? [])]
  return all.map((p, index) => ({
    index,
    ...(p.metadata.pid !== undefined ? { pid: p.metadata.pid } : {}),
    ...(p.metadata.parentPid !== undefined ? { parentPid: p.metadata.parentPid } : {}),
    argv: p.metadata.argv,
    exitStatus: p.metadata.exitStatus,
    partial: p.metadata.partial,
    metadata: p.metadata,
  }))
}

/**
 * The profile of one process (`index` as in {@link processesOf}): the shared frames with that
 * process's metadata and threads, without the other processes. Index 0 is the root process.
 */
export function processDocument(doc: ProfileDocument, index: number): ProfileDocument {
  if (index === 0) return withoutProcesses(doc)
  const p = doc.processes?.[index - 1]
  if (p === undefined) throw new RangeError(`no process ${index}: the profile has ${1 + (doc.processes?.length ?? 0)}`)
  return { pyxray: doc.pyxray, version: doc.version, metadata: p.metadata, frames: doc.frames, threads: p.threads }
}

/** The document of the root process only (what exports and diffs read). */
export function withoutProcesses(doc: ProfileDocument): ProfileDocument {
  if (doc.processes === undefined) return doc
  const { processes: _children, ...root } = doc
  return root
}

/** "pid 1234: app.py --fast (exit 3)": a process in one line. */
export function processLabel(p: ProcessEntry, maxArgv = 80): string {
  const argv = p.argv.join(' ')
  const shown = argv.length > maxArgv ? `${argv.slice(0, maxArgv - 1)}…` : argv
  const end = p.exitStatus === null ? '' : p.exitStatus !== 0 ? ` (exit ${p.exitStatus})` : ''
  return `${p.pid !== undefined ? `pid ${p.pid}` : `process ${p.index}`}${p.index === 0 ? ' (root)' : ''}: ${shown}${end}${p.partial ? ' (partial)' : ''}`
}
