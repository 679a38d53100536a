/**
 * The runtime cache (src/runtime/cache.ts): `pyxray runtimes` keeps what Pyodide reported and reads
 * it on the next run, `--check` asks Pyodide again; native interpreters' probes are kept for
 * executables and never for scripts (shims, wrappers). Each test points the cache at its own folder
 * through XDG_CACHE_HOME (PYXRAY_CACHE_DIR unset), and proves a cached value was used by planting a value in the cache that
 * no probe could give.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { cachedPyodideReport, cacheDir, probe, runtimeCachePath, storePyodideReport } from '../src/runtime/index.js'
import { requirePython } from './pyenv.js'

const MAIN = join(import.meta.dirname, '..', 'src', 'cli', 'main.ts')

function pyxray(args: string[], env: Record<string, string>) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '', FORCE_COLOR: '', ...env } })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

interface CacheFile {
  pyodide?: { version: string; magic: number; checkedAt: string; key: string }
  native: Record<string, { version: string; realPath: string; key: string }>
}

const readCache = (xdg: string): CacheFile => JSON.parse(readFileSync(join(xdg, 'pyxray', 'runtimes.json'), 'utf8')) as CacheFile
const writeCache = (xdg: string, data: CacheFile) => writeFileSync(join(xdg, 'pyxray', 'runtimes.json'), JSON.stringify(data))

/** Runs `body` with XDG_CACHE_HOME set to a new folder in this process. */
function withCacheHome<T>(body: (xdg: string) => T): T {
  const xdg = mkdtempSync(join(tmpdir(), 'pyxray-cache-'))
  const saved = { xdg: process.env.XDG_CACHE_HOME, dir: process.env.PYXRAY_CACHE_DIR, off: process.env.PYXRAY_NO_CACHE }
  process.env.XDG_CACHE_HOME = xdg
  delete process.env.PYXRAY_CACHE_DIR
  delete process.env.PYXRAY_NO_CACHE
  try {
    return body(xdg)
  } finally {
    if (saved.xdg === undefined) delete process.env.XDG_CACHE_HOME
    else process.env.XDG_CACHE_HOME = saved.xdg
    if (saved.dir !== undefined) process.env.PYXRAY_CACHE_DIR = saved.dir
    if (saved.off !== undefined) process.env.PYXRAY_NO_CACHE = saved.off
  }
}

test('pyxray runtimes keeps what Pyodide reported, reads it on the next run, and asks again with --check', () => {
  const xdg = mkdtempSync(join(tmpdir(), 'pyxray-cache-'))
  const env = { XDG_CACHE_HOME: xdg, PYXRAY_CACHE_DIR: '', PYXRAY_NO_CACHE: '' }
  type Listed = { pyodide: { version: string; magic: number; checkedAt: string; cached: boolean } }
  const list = (args: string[] = []): Listed => {
    const r = pyxray(['runtimes', '--format', 'json', ...args], env)
    assert.equal(r.code, 0, r.stderr)
    return JSON.parse(r.stdout) as Listed
  }

  // No cache: Pyodide is booted and asked, and what it said is kept.
  const first = list()
  assert.match(first.pyodide.version, /^3\.14\.\d+/)
  assert.equal(first.pyodide.cached, false)
  const kept = readCache(xdg)
  assert.equal(kept.pyodide?.version, first.pyodide.version)
  assert.equal(kept.pyodide?.magic, first.pyodide.magic)
  assert.equal(kept.pyodide?.checkedAt, first.pyodide.checkedAt)
  assert.match(kept.pyodide?.key ?? '', /pyodide/)

  // The next run reads the cache: a version no Pyodide reports, planted there, is what it lists.
  writeCache(xdg, { ...kept, pyodide: { ...kept.pyodide!, version: '3.14.99+planted' } })
  const second = list()
  assert.deepEqual(second.pyodide, { version: '3.14.99+planted', magic: first.pyodide.magic, checkedAt: first.pyodide.checkedAt, cached: true })
  const text = pyxray(['runtimes'], env)
  assert.equal(text.code, 0, text.stderr)
  assert.match(text.stdout, /^\s+pyodide\s+CPython 3\.14\.99\+planted\s/m)
  assert.match(text.stdout, /^Pyodide as it reported on .*; --check asks it again\)$/m)

  // --check boots Pyodide again and replaces the planted entry.
  const checked = list(['--check'])
  assert.equal(checked.pyodide.version, first.pyodide.version)
  assert.equal(checked.pyodide.cached, false)
  assert.equal(readCache(xdg).pyodide?.version, first.pyodide.version)
  assert.ok(readCache(xdg).pyodide!.checkedAt >= first.pyodide.checkedAt)
})

test('a Pyodide report is read back only for the same Pyodide package; a damaged cache file counts as empty', () => {
  withCacheHome((xdg) => {
    assert.equal(cacheDir(), join(xdg, 'pyxray'))
    assert.equal(cachedPyodideReport(), undefined, 'nothing cached yet')
    const stored = storePyodideReport({ version: '3.14.0', magic: 3627 })
    assert.deepEqual(cachedPyodideReport(), stored)
    // Another Pyodide package (its key differs): the report is not used.
    const data = readCache(xdg)
    writeCache(xdg, { ...data, pyodide: { ...data.pyodide!, key: `${data.pyodide!.key}-other` } })
    assert.equal(cachedPyodideReport(), undefined)
    // A damaged file is ignored, and replaced by the next write.
    writeFileSync(runtimeCachePath(), '{"pyxray": "runtime-cache", "version": 1, "nat')
    assert.equal(cachedPyodideReport(), undefined)
    storePyodideReport({ version: '3.14.1', magic: 3627 })
    assert.equal(cachedPyodideReport()?.version, '3.14.1')
    // PYXRAY_NO_CACHE: nothing read, nothing written.
    process.env.PYXRAY_NO_CACHE = '1'
    try {
      assert.equal(cachedPyodideReport(), undefined)
      storePyodideReport({ version: '3.14.2', magic: 3627 })
    } finally {
      delete process.env.PYXRAY_NO_CACHE
    }
    assert.equal(cachedPyodideReport()?.version, '3.14.1')
  })
})

test('the cache folder is the Python agent\'s: $PYXRAY_CACHE_DIR as given, else $XDG_CACHE_HOME/pyxray', () => {
  const saved = { dir: process.env.PYXRAY_CACHE_DIR, xdg: process.env.XDG_CACHE_HOME }
  try {
    process.env.PYXRAY_CACHE_DIR = '/somewhere/pyxray-cache'
    process.env.XDG_CACHE_HOME = '/elsewhere'
    assert.equal(cacheDir(), '/somewhere/pyxray-cache')
    assert.equal(runtimeCachePath(), '/somewhere/pyxray-cache/runtimes.json')
    delete process.env.PYXRAY_CACHE_DIR
    if (process.platform === 'linux') assert.equal(cacheDir(), '/elsewhere/pyxray')
  } finally {
    for (const [key, value] of [['PYXRAY_CACHE_DIR', saved.dir], ['XDG_CACHE_HOME', saved.xdg]] as const) {
      if (value === undefined) delete process.env[key]
      else process.env[key] = value
    }
  }
})

test("native probes: an interpreter's executable is cached by its identity, a wrapper script is run each time", (t) => {
  const python = requirePython(t, 12)
  if (!python) return
  withCacheHome((xdg) => {
    const first = probe(python, 'flag')
    assert.equal(first?.minor, 12)
    const exe = realpathSync(python)
    const entry = readCache(xdg).native[exe]
    assert.equal(entry?.version, first!.version)
    assert.equal(entry?.realPath, first!.realPath)

    // Cached: a planted version is what the next probe returns, through any link to the executable.
    const data = readCache(xdg)
    writeCache(xdg, { ...data, native: { [exe]: { ...entry!, version: '3.12.99+planted' } } })
    assert.equal(probe(python, 'flag')?.version, '3.12.99+planted')
    const bin0 = mkdtempSync(join(tmpdir(), 'pyxray-link-'))
    const link = join(bin0, 'python3')
    spawnSync('ln', ['-s', python, link])
    assert.equal(probe(link, 'path')?.version, '3.12.99+planted')
    assert.equal(probe(link, 'path')?.path, link)

    // A changed executable (its key differs) is probed again and its entry replaced; entries of
    // executables that are gone are dropped then.
    const gone = join(bin0, 'python3.99')
    writeCache(xdg, { ...data, native: { [exe]: { ...entry!, version: '3.12.99+planted', key: 'another-file' }, [gone]: { ...entry!, realPath: gone } } })
    assert.equal(probe(python, 'flag')?.version, first!.version)
    assert.equal(readCache(xdg).native[exe]?.key, entry!.key)
    assert.deepEqual(Object.keys(readCache(xdg).native), [exe])

    // A wrapper script is never cached: it may run another interpreter next time.
    const bin = mkdtempSync(join(tmpdir(), 'pyxray-wrapper-'))
    mkdirSync(bin, { recursive: true })
    const wrapper = join(bin, 'python3')
    writeFileSync(wrapper, `#!/bin/sh\nexec ${JSON.stringify(python)} "$@"\n`)
    chmodSync(wrapper, 0o755)
    assert.equal(probe(wrapper, 'path')?.minor, 12)
    assert.equal(readCache(xdg).native[wrapper], undefined)
    assert.ok(!Object.keys(readCache(xdg).native).some((k) => k.startsWith(bin)))
  })
})

test('a cache folder that cannot be written leaves the probes working', (t) => {
  const python = requirePython(t, 12)
  if (!python) return
  withCacheHome((xdg) => {
    // pyxray/ is a file: neither the folder nor the cache can be made.
    writeFileSync(join(xdg, 'pyxray'), 'not a folder')
    assert.equal(probe(python, 'flag')?.minor, 12)
    assert.equal(existsSync(join(xdg, 'pyxray', 'runtimes.json')), false)
  })
})
