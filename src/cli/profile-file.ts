/**
 * Reading and writing profile documents on disk. The core reader (src/profile/document.ts) parses,
 * validates and upgrades; this module adds the file: an unreadable one is a
 * {@link ProfileDocumentError} with code PROFILE_UNREADABLE, like every other problem (the CLI
 * prints its one-line message and exits with status 2).
 */
import { readFileSync } from 'node:fs'
import { type ProfileDocument, ProfileDocumentError, readProfileDocument, toProfileJson } from '../profile/document.js'
import { readStdin, writeFileAtomic } from './io.js'

/** Reads, parses and validates a profile document (`-`: from standard input); every problem is a {@link ProfileDocumentError}. */
export function readProfileFile(path: string): ProfileDocument {
  if (path === '-') return readProfileDocument(readStdin().toString('utf8'), '<stdin>')
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not a profile file' : code === 'EACCES' ? 'permission denied' : e instanceof Error ? e.message : String(e)
    throw new ProfileDocumentError('PROFILE_UNREADABLE', `${path}: cannot read the profile: ${why}`, path)
  }
  return readProfileDocument(text, path)
}

/** Writes a profile document in the current format (flat, any call depth), atomically. */
export function writeProfileFile(path: string, doc: ProfileDocument): void {
  writeFileAtomic(path, `${toProfileJson(doc)}\n`)
}
