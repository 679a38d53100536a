/**
 * The native CPython interpreters on this machine, as oracles for the tests and scripts: pyenv's
 * versions, and the folders of $PYXRAY_PYTHON_PATHS and of scripts/setup-native-pythons.sh's cache
 * (native 3.14 and 3.15 from a Debian unstable root, which pyenv here does not have).
 * A missing interpreter skips a test with a visible reason, except under CI=true where it fails.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync } from 'node:fs'
import { homedir } from 'node:os'
import { delimiter, join } from 'node:path'
import type { TestContext } from 'node:test'
import { readMarshal, writeMarshal } from '../src/marshal/index.js'
import { SUPPORTED_MINORS } from '../src/versions/index.js'
import { requireResource } from './resources.js'

/** Every supported minor: each is tested against a native interpreter of that version. */
export const NATIVE_MINORS: readonly number[] = SUPPORTED_MINORS

const root = process.env.PYENV_ROOT ?? join(homedir(), '.pyenv')

/** The wrapper folder scripts/setup-native-pythons.sh writes (same defaults as the script). */
export function nativeCacheBin(): string {
  const cache = process.env.PYXRAY_NATIVE_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'pyxray', 'native')
  return join(cache, 'bin')
}

// The pyxray processes the tests start find the setup script's interpreters as .ci/run arranges it:
// through $PYXRAY_PYTHON_PATHS (set here when the caller did not set it and the cache exists).
if (process.env.PYXRAY_PYTHON_PATHS === undefined && existsSync(nativeCacheBin())) process.env.PYXRAY_PYTHON_PATHS = nativeCacheBin()

/** Folders searched for `python3.X` after pyenv: $PYXRAY_PYTHON_PATHS, then the setup script's cache. */
function nativeFolders(): string[] {
  return [...(process.env.PYXRAY_PYTHON_PATHS ?? '').split(delimiter).filter(Boolean), nativeCacheBin()]
}

/** The newest installed pyenv 3.`minor`.x prefix (e.g. ~/.pyenv/versions/3.12.1), if any. */
export function pyenvPrefix(minor: number): string | undefined {
  const dir = join(root, 'versions')
  if (!existsSync(dir)) return undefined
  const patch = (v: string) => Number(v.split('.')[2])
  const found = readdirSync(dir)
    .filter((v) => new RegExp(`^3\\.${minor}\\.\\d+$`).test(v) && existsSync(join(dir, v, 'bin', 'python3')))
    .sort((a, b) => patch(b) - patch(a))[0]
  return found === undefined ? undefined : join(dir, found)
}

const found = new Map<number, string | undefined>()

/** The python3 executable of 3.`minor`: pyenv's, else `python3.X` in the native folders; checked to run. */
export function pythonFor(minor: number): string | undefined {
  if (found.has(minor)) return found.get(minor)
  const prefix = pyenvPrefix(minor)
  const candidates = [
    ...(prefix === undefined ? [] : [join(prefix, 'bin', 'python3')]),
    ...nativeFolders().map((d) => join(d, `python3.${minor}`)),
  ]
  let python: string | undefined
  for (const c of candidates) {
    if (!existsSync(c)) continue
    const r = spawnSync(c, ['-I', '-c', 'import sys; print(sys.version_info[1])'], { encoding: 'utf8', timeout: 30_000 })
    if (r.status === 0 && Number(r.stdout.trim()) === minor) {
      python = c
      break
    }
  }
  found.set(minor, python)
  return python
}

/**
 * The python3 of 3.`minor`, or undefined after marking the test skipped (failed under CI=true).
 */
export function requirePython(t: TestContext, minor: number): string | undefined {
  const python = pythonFor(minor)
  if (python !== undefined) return python
  const reason = `CPython 3.${minor} is not installed (pyenv under ${root}/versions, or python3.${minor} in ${nativeFolders().join(delimiter)}; scripts/setup-native-pythons.sh provides 3.14 and 3.15)`
  requireResource(t, reason)
  return undefined
}

const paths = new Map<number, { stdlib: string; purelib: string; prefix: string } | undefined>()

/** sysconfig's stdlib and site-packages folders and sys.prefix of 3.`minor`, if installed. */
function sysPaths(minor: number): { stdlib: string; purelib: string; prefix: string } | undefined {
  if (paths.has(minor)) return paths.get(minor)
  const python = pythonFor(minor)
  let got: { stdlib: string; purelib: string; prefix: string } | undefined
  if (python !== undefined) {
    const r = spawnSync(python, ['-I', '-c', 'import json, sys, sysconfig; p = sysconfig.get_paths(); print(json.dumps({"stdlib": p["stdlib"], "purelib": p["purelib"], "prefix": sys.prefix}))'], { encoding: 'utf8' })
    if (r.status === 0) got = JSON.parse(r.stdout) as { stdlib: string; purelib: string; prefix: string }
  }
  paths.set(minor, got)
  return got
}

/** sys.prefix of 3.`minor` (pyenv's version folder, or ROOT/usr of the native root), if installed. */
export function prefixOf(minor: number): string | undefined {
  return sysPaths(minor)?.prefix
}

/** Every .pyc under `dir`, recursively, sorted; `site-packages` is skipped unless asked for. */
export function findPycs(dir: string, sitePackages = false): string[] {
  const out: string[] = []
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name)
      if (e.isDirectory()) {
        if (sitePackages || e.name !== 'site-packages') walk(p)
      } else if (e.name.endsWith('.pyc')) out.push(p)
    }
  }
  if (existsSync(dir)) walk(dir)
  return out.sort()
}

/** The stdlib directory (lib/python3.`minor`) of 3.`minor`, if installed. */
export function stdlibDir(minor: number): string | undefined {
  return sysPaths(minor)?.stdlib
}

/**
 * Reads the marshal data of a .pyc (from byte 16) and writes it back; returns what went wrong,
 * or undefined when the bytes came back identical.
 */
export function roundTripProblem(pyc: Uint8Array, minor: number, headerLength = 16): string | undefined {
  const options = { pythonVersion: [3, minor] as const }
  let written: Uint8Array
  try {
    const { value, endOffset } = readMarshal(pyc, options, headerLength)
    if (endOffset !== pyc.length) return `read stopped at byte ${endOffset} of ${pyc.length}`
    written = writeMarshal(value, options)
  } catch (e) {
    return String(e)
  }
  const data = pyc.subarray(headerLength)
  let i = 0
  while (i < written.length && i < data.length && written[i] === data[i]) i++
  if (i === data.length && i === written.length) return undefined
  return `written bytes differ from byte ${headerLength + i} (${written.length} vs ${data.length} bytes)`
}

/**
 * An environment in which pyxray finds no native Python: PATH holds only `node`, no
 * PYXRAY_PYTHON, and neither $PYENV_ROOT nor ~/.pyenv exists (HOME is a fresh folder under `work`).
 */
export function withoutNativePython(work: string): NodeJS.ProcessEnv {
  const home = mkdtempSync(join(work, 'home-'))
  const bin = join(home, 'bin')
  mkdirSync(bin)
  symlinkSync(process.execPath, join(bin, 'node'))
  const env: NodeJS.ProcessEnv = { PATH: bin, HOME: home, PYENV_ROOT: join(home, 'nonexistent'), TMPDIR: work }
  const probe = spawnSync('/bin/sh', ['-c', 'command -v python3 || echo none'], { encoding: 'utf8', env })
  assert.equal(probe.stdout.trim(), 'none', `python3 still on the stripped PATH: ${probe.stdout}`)
  return env
}
