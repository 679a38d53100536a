/**
 * `npm run build`'s second step (after tsc): bundles the command line into dist/bundle/ with
 * esbuild, so a cold `pyxray dis small.py` reads 20 files instead of tsc's 61 modules (bin/pyxray.js
 * runs the bundle).
 *
 * - prestart.js, pyxray.js: src/cli/prestart.ts and src/cli/main.ts, loaded in that order by
 *   bin/pyxray.js, so python3's worker is started before the commands' chunks are read. What
 *   both use (the runtime's state: the worker started early) is one shared chunk, one instance.
 *   Each command is a chunk of its own, loaded by its import() when it runs.
 * - dis-worker.js, dis-writer-thread.js: the worker threads of `dis --out-dir`, entries of their
 *   own found beside the chunk that starts them (startThread in src/cli/dis-writer.ts). Chunks are
 *   written into dist/bundle/ itself, not a subfolder, for that and for the paths below.
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
    prestart: 'src/cli/prestart.ts',
    pyxray: 'src/cli/main.ts',
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
