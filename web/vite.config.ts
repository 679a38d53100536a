/**
 * The web UI build: `npm run build:web` → dist/web (static, relative paths, so it opens from any
 * folder of any static host); `npm run dev:web` for development. Pyodide's runtime files are
 * copied beside the bundle (dist/web/pyodide/) for the in-browser backend's Web Worker.
 */
import { copyFileSync, createReadStream, existsSync, mkdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { lookup } from 'mrmime'
import { defineConfig, type Plugin } from 'vite'

const here = dirname(fileURLToPath(import.meta.url))
const pyodideDir = dirname(createRequire(import.meta.url).resolve('pyodide/package.json'))
/** The files Pyodide loads at startup (its loader, the WebAssembly module, the stdlib, the lock file). */
const PYODIDE_FILES = ['pyodide.mjs', 'pyodide.asm.mjs', 'pyodide.asm.wasm', 'python_stdlib.zip', 'pyodide-lock.json']

/** Copies Pyodide into the build, and serves it under /pyodide/ in development. */
function pyodideAssets(): Plugin {
  return {
    name: 'pyxray-pyodide-assets',
    configureServer(server) {
      server.middlewares.use('/pyodide', (req, res, next) => {
        const name = (req.url ?? '').replace(/^\//, '').split('?')[0] ?? ''
        if (!PYODIDE_FILES.includes(name)) return next()
        res.setHeader('content-type', lookup(name) ?? 'application/octet-stream')
        createReadStream(join(pyodideDir, name)).pipe(res)
      })
    },
    writeBundle(options) {
      const out = join(options.dir ?? resolve(here, '../dist/web'), 'pyodide')
      mkdirSync(out, { recursive: true })
      for (const f of PYODIDE_FILES) {
        const from = join(pyodideDir, f)
        if (!existsSync(from)) throw new Error(`pyodide file missing: ${from} (is the pyodide package installed?)`)
        copyFileSync(from, join(out, f))
      }
    },
  }
}

export default defineConfig({
  root: here,
  base: './',
  plugins: [pyodideAssets()],
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  worker: { format: 'es' },
  build: {
    outDir: resolve(here, '../dist/web'),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 2000,
    sourcemap: true,
  },
  server: { fs: { allow: [resolve(here, '..')] } },
})
