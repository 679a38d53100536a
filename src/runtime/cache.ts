/**
 * What pyxray learned about the runtimes of this machine, kept between runs in the user's cache
 * folder ({@link cacheDir}: `$PYXRAY_CACHE_DIR`, else `$XDG_CACHE_HOME/pyxray` or `~/.cache/pyxray`
 * on Linux), file `runtimes.json`:
 *
 * - What the embedded Pyodide reports (its CPython version and magic number), keyed by the Pyodide
 *   package it came from (folder, version, package.json size and time): booting Pyodide takes
 *   seconds, so `pyxray runtimes` asks it again only with `--check` or when nothing is cached.
 * - What probing a native interpreter found, keyed by its executable (resolved path, device,
 *   inode, size, modification time). Only executables that are the interpreter itself are cached:
 *   a script (a pyenv shim, a wrapper) may run another interpreter tomorrow, so it is run each time.
 *
 * The cache is an optimization: a missing, unreadable or malformed file is as if empty, and one that
 * cannot be written is skipped; `PYXRAY_NO_CACHE=1` turns it off. It is written atomically (a temporary file, then a rename), so
 * processes running at once never see half a file (one may lose the other's new entry).
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { threadId } from 'node:worker_threads'

/** The fields of a probe result that depend only on the executable (see native/discover.ts). */
export interface ProbedExecutable {
  readonly realPath: string
  readonly implementation: string
  readonly version: string
  readonly major: number
  readonly minor: number
  readonly magic: number
}

/** What Pyodide reported, and when. */
export interface PyodideReport {
  readonly version: string
  readonly magic: number
  /** When Pyodide was booted to ask (ISO 8601). */
  readonly checkedAt: string
}

interface CacheFile {
  readonly pyxray: 'runtime-cache'
  readonly version: 1
  pyodide?: PyodideReport & { readonly key: string }
  native: Record<string, ProbedExecutable & { readonly key: string }>
}

const FILE_NAME = 'runtimes.json'

/**
 * pyxray's folder in the user's cache, the one the Python agent uses too (python/pyxray/
 * _profile_calibrate.py's cache_dir): `$PYXRAY_CACHE_DIR`, else `~/Library/Caches/pyxray` on macOS,
 * `%LOCALAPPDATA%\pyxray\Cache` on Windows, `$XDG_CACHE_HOME/pyxray` or `~/.cache/pyxray` elsewhere.
 */
export function cacheDir(): string {
  const explicit = process.env.PYXRAY_CACHE_DIR
  if (explicit) return explicit
  const home = homedir()
  if (process.platform === 'win32') return join(process.env.LOCALAPPDATA || join(home, 'AppData', 'Local'), 'pyxray', 'Cache')
  if (process.platform === 'darwin') return join(home, 'Library', 'Caches', 'pyxray')
  return join(process.env.XDG_CACHE_HOME || join(home, '.cache'), 'pyxray')
}

/** The file the runtime cache lives in. */
export function runtimeCachePath(): string {
  return join(cacheDir(), FILE_NAME)
}

function emptyCache(): CacheFile {
  return { pyxray: 'runtime-cache', version: 1, native: {} }
}

/** PYXRAY_NO_CACHE (any value) turns the cache off, as in the Python agent: nothing read, nothing written. */
const cacheOff = (): boolean => Boolean(process.env.PYXRAY_NO_CACHE)

function readCacheFile(): CacheFile {
  if (cacheOff()) return emptyCache()
  try {
    const data = JSON.parse(readFileSync(runtimeCachePath(), 'utf8')) as Partial<CacheFile>
    if (data.pyxray !== 'runtime-cache' || data.version !== 1 || typeof data.native !== 'object' || data.native === null) return emptyCache()
    return { ...emptyCache(), ...data } as CacheFile
  } catch {
    return emptyCache()
  }
}

/** Writes the cache atomically; a cache that cannot be written is left as it was. */
function writeCacheFile(data: CacheFile): void {
  if (cacheOff()) return
  const path = runtimeCachePath()
  const tmp = `${path}.tmp-${process.pid}-${threadId}-${Date.now()}`
  try {
    mkdirSync(dirname(path), { recursive: true })
    writeFileSync(tmp, `${JSON.stringify(data, null, 1)}\n`, { flag: 'wx' })
    renameSync(tmp, path)
  } catch {
    try {
      rmSync(tmp, { force: true })
    } catch {
      // no folder to have left it in
    }
  }
}

/** Updates the cache file with `change` (read, change, write). */
function updateCache(change: (data: CacheFile) => void): void {
  const data = readCacheFile()
  change(data)
  writeCacheFile(data)
}

// --- Pyodide -----------------------------------------------------------------------------------

/** The Pyodide package in use: its folder, version and package.json's size and time. */
function pyodideKey(): string | undefined {
  try {
    const dir = dirname(fileURLToPath(import.meta.resolve('pyodide')))
    const manifest = join(dir, 'package.json')
    const st = statSync(manifest)
    const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string }
    return `${dir}|${version ?? '?'}|${st.size}|${st.mtimeMs}`
  } catch {
    return undefined
  }
}

/** What the Pyodide in use reported when last asked, if it is cached. */
export function cachedPyodideReport(): PyodideReport | undefined {
  const key = pyodideKey()
  const entry = readCacheFile().pyodide
  if (!key || !entry || entry.key !== key || typeof entry.version !== 'string' || typeof entry.magic !== 'number') return undefined
  return { version: entry.version, magic: entry.magic, checkedAt: String(entry.checkedAt) }
}

/** Keeps what the Pyodide in use reported (`checkedAt`: now). */
export function storePyodideReport(report: { readonly version: string; readonly magic: number }): PyodideReport {
  const stored: PyodideReport = { version: report.version, magic: report.magic, checkedAt: new Date().toISOString() }
  const key = pyodideKey()
  if (key) updateCache((data) => {
    data.pyodide = { ...stored, key }
  })
  return stored
}

// --- native interpreters -----------------------------------------------------------------------

/** Whether a file starts with "#!" (a script: a shim or a wrapper, not an interpreter). */
function isScript(path: string): boolean {
  let fd: number | undefined
  try {
    fd = openSync(path, 'r')
    const head = Buffer.alloc(2)
    return readSync(fd, head, 0, 2, 0) === 2 && head[0] === 0x23 && head[1] === 0x21
  } catch {
    return true
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

/**
 * The cache slot of an executable: its resolved path, and a key that changes when the file is
 * replaced or rewritten; undefined for a script or a path that cannot be read.
 */
function executableSlot(path: string): { readonly file: string; readonly key: string } | undefined {
  try {
    const file = realpathSync(path)
    if (isScript(file)) return undefined
    const st = statSync(file)
    return { file, key: `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}` }
  } catch {
    return undefined
  }
}

/**
 * What probing `path` finds, from the cache when `path` is an interpreter's executable (not a
 * script) probed before; else `run` probes it (undefined: not a working Python 3, not kept).
 */
export function probeCached(path: string, run: () => ProbedExecutable | undefined): ProbedExecutable | undefined {
  const slot = executableSlot(path)
  const cached = slot && fromCache(slot)
  if (cached) return cached
  const found = run()
  if (slot && found) keep(slot, found)
  return found
}

/** {@link probeCached} with a probe that does not block. */
export async function probeCachedAsync(path: string, run: () => Promise<ProbedExecutable | undefined>): Promise<ProbedExecutable | undefined> {
  const slot = executableSlot(path)
  const cached = slot && fromCache(slot)
  if (cached) return cached
  const found = await run()
  if (slot && found) keep(slot, found)
  return found
}

type Slot = NonNullable<ReturnType<typeof executableSlot>>

function fromCache(slot: Slot): ProbedExecutable | undefined {
  const entry = readCacheFile().native[slot.file]
  if (!entry || entry.key !== slot.key) return undefined
  const { key: _key, ...found } = entry
  return found
}

/** Keeps a probe result, and forgets those of executables that are gone (the file does not grow with every interpreter ever seen). */
function keep(slot: Slot, found: ProbedExecutable): void {
  updateCache((data) => {
    for (const file of Object.keys(data.native)) if (!existsSync(file)) delete data.native[file]
    data.native[slot.file] = { ...found, key: slot.key }
  })
}
