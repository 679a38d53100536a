/** The documents `pyxray serve` was started with (profiles, memory documents), read once from disk. */
import { existsSync, readFileSync, statSync } from 'node:fs'
import { basename, resolve } from 'node:path'
import type { ProfileDocument } from '../profile/document.js'
import { type MemoryDocument, MemoryDocumentError, parseMemoryDocument } from '../profile/memory-document.js'

/** A file the server offers: a profile, or a memory document (`pyxray mem … --format json -o`). */
export type ServedProfile = {
  /** Position in the command line, as a string (the URL id). */
  readonly id: string
  readonly name: string
  readonly path: string
  /** The file's text, served as it is. */
  readonly text: string
} & ({ readonly kind: 'profile'; readonly doc: ProfileDocument } | { readonly kind: 'memory'; readonly doc: MemoryDocument })

/** A profile file that cannot be served. */
export class ProfileFileError extends Error {
  override readonly name = 'ProfileFileError'
  constructor(
    readonly code: 'PROFILE_NOT_FOUND' | 'PROFILE_BAD_JSON' | 'PROFILE_NOT_PYXRAY',
    message: string,
  ) {
    super(message)
  }
}

/** Reads and checks the files: pyxray profile documents (version 1) or memory documents. */
export function loadProfiles(paths: readonly string[]): ServedProfile[] {
  return paths.map((p, i) => {
    const path = resolve(p)
    if (!existsSync(path) || statSync(path).isDirectory()) throw new ProfileFileError('PROFILE_NOT_FOUND', `${p}: no such file (give profile JSON files written by pyxray profile -o)`)
    const text = readFileSync(path, 'utf8')
    let doc: unknown
    try {
      doc = JSON.parse(text)
    } catch (e) {
      throw new ProfileFileError('PROFILE_BAD_JSON', `${p}: not JSON (${e instanceof Error ? e.message : String(e)})`)
    }
    if ((doc as { pyxray?: unknown } | null)?.pyxray === 'memory') {
      try {
        return { id: String(i), name: basename(path), path, text, kind: 'memory' as const, doc: parseMemoryDocument(text) }
      } catch (e) {
        if (e instanceof MemoryDocumentError) throw new ProfileFileError('PROFILE_NOT_PYXRAY', `${p}: ${e.message}`)
        throw e
      }
    }
    const d = doc as Partial<ProfileDocument> | null
    if (!d || d.pyxray !== 'profile' || d.version !== 1 || !Array.isArray(d.threads) || !Array.isArray(d.frames)) {
      throw new ProfileFileError('PROFILE_NOT_PYXRAY', `${p}: not a pyxray profile document version 1 (expected "pyxray": "profile", "version": 1; write one with pyxray profile -o FILE — or a memory document from pyxray mem … --format json)`)
    }
    return { id: String(i), name: basename(path), path, text, kind: 'profile' as const, doc: d as ProfileDocument }
  })
}

