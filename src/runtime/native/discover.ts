/**
 * Finding CPython interpreters: `--python X.Y|PATH`, $PYXRAY_PYTHON, `python3` and `python3.X` on
 * PATH, and pyenv's versions.
 */
import { spawnSync } from 'node:child_process'
import { accessSync, constants, existsSync, readdirSync, statSync } from 'node:fs'
import { homedir } from 'node:os'
import { delimiter, join } from 'node:path'
import { RuntimeError } from '../types.js'

/** Where an interpreter was found. */
export type InterpreterSource = 'flag' | 'env' | 'path' | 'pyenv'

/** A probed interpreter. */
export interface Interpreter {
  readonly path: string
  /** The interpreter's own sys.executable, symlinks resolved (shims and links lead here). */
  readonly realPath: string
  readonly implementation: string
  /** e.g. "3.12.1" */
  readonly version: string
  readonly minor: number
  /** importlib.util.MAGIC_NUMBER as a uint16. */
  readonly magic: number
  readonly source: InterpreterSource
}

/** Python versions the agent supports (3.8–3.14). */
export const MIN_MINOR = 8
export const MAX_MINOR = 14

const PROBE =
  'import sys, os, importlib.util, platform; print(platform.python_implementation(), platform.python_version(), sys.version_info[1], int.from_bytes(importlib.util.MAGIC_NUMBER[:2], "little"), os.path.realpath(sys.executable))'

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK)
    return statSync(p).isFile()
  } catch {
    return false
  }
}

/** Runs the interpreter once to learn what it is; undefined when it is not a working Python 3. */
export function probe(path: string, source: InterpreterSource): Interpreter | undefined {
  const r = spawnSync(path, ['-I', '-c', PROBE], { encoding: 'utf8', timeout: 10_000 })
  if (r.status !== 0 || !r.stdout) return undefined
  const [implementation, version, minor, magic, ...exe] = r.stdout.trim().split(' ')
  if (!implementation || !version || minor === undefined || magic === undefined) return undefined
  // sys.executable, resolved: the same interpreter reached through a shim or a symlink.
  const realPath = exe.join(' ') || path
  return { path, realPath, implementation, version, minor: Number(minor), magic: Number(magic), source }
}

/** Executables on PATH named python3 or python3.X. */
function onPath(): string[] {
  const found: string[] = []
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean)
  for (const dir of dirs) {
    let names: string[]
    try {
      names = readdirSync(dir)
    } catch {
      continue
    }
    for (const name of names.sort()) {
      if (/^python3(\.\d+)?$/.test(name) && isExecutable(join(dir, name))) found.push(join(dir, name))
    }
  }
  return found
}

/** pyenv's installed CPython versions (`$PYENV_ROOT` or ~/.pyenv). */
function pyenvVersions(): string[] {
  const root = process.env.PYENV_ROOT ?? join(homedir(), '.pyenv')
  const versions = join(root, 'versions')
  if (!existsSync(versions)) return []
  return readdirSync(versions)
    .filter((v) => /^3\.\d+\.\d+$/.test(v))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
    .map((v) => join(versions, v, 'bin', 'python3'))
    .filter(isExecutable)
}

/** Every interpreter found, each real executable once, in discovery order. */
export function findInterpreters(): Interpreter[] {
  const out: Interpreter[] = []
  const seen = new Set<string>()
  const add = (path: string, source: InterpreterSource) => {
    const it = probe(path, source)
    if (!it || seen.has(it.realPath)) return
    seen.add(it.realPath)
    out.push(it)
  }
  if (process.env.PYXRAY_PYTHON) add(process.env.PYXRAY_PYTHON, 'env')
  for (const p of onPath()) add(p, 'path')
  for (const p of pyenvVersions()) add(p, 'pyenv')
  return out
}

/** Throws RUNTIME_UNSUPPORTED unless the interpreter is CPython 3.8–3.14. */
export function checkSupported(it: Interpreter, how: string): Interpreter {
  if (it.implementation !== 'CPython' || it.minor < MIN_MINOR || it.minor > MAX_MINOR) {
    throw new RuntimeError(
      'RUNTIME_UNSUPPORTED',
      `${how} is ${it.implementation} ${it.version}; pyxray needs CPython 3.${MIN_MINOR}–3.${MAX_MINOR}`,
    )
  }
  return it
}

/**
 * The interpreter a `--python` value names: "3.12" (python3.12 on PATH, else pyenv's newest 3.12)
 * or a path. Throws RUNTIME_NOT_FOUND with what was searched.
 */
export function resolvePython(spec: string): Interpreter {
  if (/^3\.\d+$/.test(spec)) {
    const minor = Number(spec.split('.')[1])
    const candidates: [string, InterpreterSource][] = [
      ...onPath().filter((p) => p.endsWith(`python${spec}`) || p.endsWith('python3')).map((p): [string, InterpreterSource] => [p, 'path']),
      ...pyenvVersions()
        .filter((p) => p.includes(`/versions/${spec}.`))
        .reverse()
        .map((p): [string, InterpreterSource] => [p, 'pyenv']),
    ]
    for (const [p, source] of candidates) {
      const it = probe(p, source)
      if (it && it.minor === minor && it.implementation === 'CPython') return it
    }
    throw new RuntimeError(
      'RUNTIME_NOT_FOUND',
      `no CPython ${spec} found (searched python${spec} and python3 on PATH, and pyenv): install it, or pass --python PATH`,
    )
  }
  const it = probe(spec, 'flag')
  if (!it) throw new RuntimeError('RUNTIME_NOT_FOUND', `${spec} is not a working Python interpreter`)
  return checkSupported(it, spec)
}

/** The first `python3` on PATH, if any (not probed). */
export function pythonOnPath(): string | undefined {
  return onPath().find((p) => p.endsWith('/python3'))
}
