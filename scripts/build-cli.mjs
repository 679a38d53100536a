/**
 * `npm run build`'s second step (after tsc): bundles the command line into dist/bundle/ with
 * esbuild, so a cold `pyxray …` loads one module instead of ~60 (bin/pyxray.js runs the bundle).
 *
 * - pyxray.js: src/cli/entry.ts (prestart and the commands). The commands stay lazy: esbuild
 *   keeps each dynamically imported module's body unevaluated until its import() runs.
 * - dis-worker.js, dis-writer-thread.js: the worker threads of `dis --out-dir`, each a bundle of
 *   its own, found beside pyxray.js (startThread in src/cli/dis-writer.ts).
 *
 * The bundles sit two folders below the package root, as every dist/<folder>/ module does, so the
 * paths made from import.meta.url (the agent's python/, package.json, dist/report/, the web UI)
 * resolve as from tsc's output. npm packages stay external (loaded from node_modules when used).
 * esbuild is Vite's own dependency; it is not a dependency of ours.
 */
import { build } from 'esbuild'
import { rmSync } from 'node:fs'
import { join } from 'node:path'

const root = join(import.meta.dirname, '..')
const outdir = join(root, 'dist', 'bundle')
rmSync(outdir, { recursive: true, force: true })
await build({
  absWorkingDir: root,
  entryPoints: {
    pyxray: 'src/cli/entry.ts',
    'dis-worker': 'src/cli/dis-worker.ts',
    'dis-writer-thread': 'src/cli/dis-writer-thread.ts',
  },
  outdir,
  bundle: true,
  splitting: true,
  chunkNames: '[name]-[hash]',
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  tsconfig: 'tsconfig.build.json',
  legalComments: 'none',
  logLevel: 'warning',
})
