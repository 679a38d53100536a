/** Where the Python agent lives, in the sources and in the npm package alike. */
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The folder holding the `pyxray` agent package (python/ in the npm package). */
export function agentDir(): string {
  // src/runtime/agent-dir.ts and dist/runtime/agent-dir.js are both two levels below the package root.
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'python')
}
