/** The documents `pyxray serve` was started with (profiles, memory documents), read once from disk. */
import { readFileSync, statSync } from 'node:fs'
import { basename, resolve } from 'node:path'
import { type ProfileDocument, ProfileDocumentError, readProfileDocument, toProfileJson } from '../profile/document.js'
import { type MemoryDocument, MemoryDocumentError, parseMemoryDocument } from '../profile/memory-document.js'

/** A file the server offers: a profile, or a memory document (`pyxray mem … --format json -o`). */
export type ServedProfile = {
  /** Position in the command line, as a string (the URL id). */
  readonly id: string
  readonly name: string
  readonly path: string
  /** What is served: a profile in the current (flat) format, a memory document as it is. */
  readonly text: string
} & ({ readonly kind: 'profile'; readonly doc: ProfileDocument } | { readonly kind: 'memory'; readonly doc: MemoryDocument })

/**
 * Reads and checks the files: pyxray profile documents (any version the core reader reads; served
 * in the current, flat format) or memory documents (served as they are). A file that cannot be
 * served is a {@link ProfileDocumentError} (profiles: the same errors as `pyxray report`; memory
 * documents: PROFILE_INVALID with the memory reader's message).
 */
export function loadProfiles(paths: readonly string[]): ServedProfile[] {
  return paths.map((p, i) => {
    const path = resolve(p)
    let text: string
    try {
      if (statSync(path).isDirectory()) throw new ProfileDocumentError('PROFILE_UNREADABLE', `${p}: cannot read the profile: is a folder, not a profile file`, p)
      text = readFileSync(path, 'utf8')
    } catch (e) {
      if (e instanceof ProfileDocumentError) throw e
      const code = (e as NodeJS.ErrnoException).code
      throw new ProfileDocumentError('PROFILE_UNREADABLE', `${p}: cannot read the profile: ${code === 'ENOENT' ? 'no such file (give profile JSON files written by pyxray profile -o)' : e instanceof Error ? e.message : String(e)}`, p)
    }
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      value = text // the reader says why it is not JSON
    }
    if ((value as { pyxray?: unknown } | null)?.pyxray === 'memory') {
      try {
        return { id: String(i), name: basename(path), path, text, kind: 'memory' as const, doc: parseMemoryDocument(text) }
      } catch (e) {
        if (e instanceof MemoryDocumentError) throw new ProfileDocumentError('PROFILE_INVALID', `${p}: ${e.message}`, p)
        throw e
      }
    }
    const doc = readProfileDocument(value, p)
    return { id: String(i), name: basename(path), path, text: toProfileJson(doc), kind: 'profile' as const, doc }
  })
}

