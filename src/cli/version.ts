/** pyxray's version, from package.json ("unknown" when it cannot be read). */
import { readFileSync } from 'node:fs'

/** The version of this pyxray. */
export const VERSION = (() => {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version
  } catch {
    return 'unknown'
  }
})()
