/**
 * Finding CPython interpreters: `--python X.Y|PATH`, $PYXRAY_PYTHON, the folders and executables of
 * $PYXRAY_PYTHON_PATHS, `python3` and `python3.X` on PATH, and pyenv's versions.
 */
import { execFile, spawnSync } from 'node:child_process'
import { accessSync, constants, existsSync, readdirSync, statSync } from 'node:fs'
import { homedir } from 'node:os'
import { delimiter, join, parse, resolve, sep } from 'node:path'
import { isSupportedMinor, SUPPORTED_RANGE } from '../../versions/index.js'
import { probeCached, probeCachedAsync, type ProbedExecutable } from '../cache.js'
import { RuntimeError } from '../types.js'

export { MAX_MINOR, MIN_MINOR } from '../../versions/index.js'

/** Where an interpreter was found. */
export type InterpreterSource = 'flag' | 'env' | 'paths' | 'path' | 'pyenv'

/** A probed interpreter. */
export interface Interpreter {
  readonly path: string
  /** The interpreter's own sys.executable, symlinks resolved (shims and links lead here). */
  readonly realPath: string
  readonly implementation: string
  /** e.g. "3.12.1" */
  readonly version: string
  /** sys.version_info[0]: 3 (2 for a Python 2, which is found only to be refused by name). */
  readonly major: number
  readonly minor: number
  /** importlib.util.MAGIC_NUMBER as a uint16. */
  readonly magic: number
  readonly source: InterpreterSource
}

/**
 * What the probe asks: implementation, version, major, minor, magic (-1 when unknown) and the real
 * executable, one line. Written for Python 2 too (no print function, no importlib.util), so that an
 * old interpreter is refused by its version instead of as "not a Python".
 */
const PROBE = [
  'import sys, os, platform',
  'try:\n import importlib.util; magic = int.from_bytes(importlib.util.MAGIC_NUMBER[:2], "little")\nexcept Exception:\n magic = -1',
  'sys.stdout.write(" ".join(str(x) for x in (platform.python_implementation(), platform.python_version(), sys.version_info[0], sys.version_info[1], magic, os.path.realpath(sys.executable))) + "\\n")',
].join('\n')

/** The options of the second try (Python 2 has no -I): -E -s from / (not the current folder, whose modules could stand in for the stdlib's). */
const LEGACY_ARGS = ['-E', '-s', '-c', PROBE]
const PROBE_TIMEOUT_MS = 10_000

/** Whether a failed isolated run says it does not know -I (Python 2), so it is tried again without. */
const rejectsIsolated = (stderr: string): boolean => /option.*-I\b/i.test(stderr)

/** Runs PROBE: isolated (-I) first; with {@link LEGACY_ARGS} when the interpreter does not know -I. */
function runProbe(path: string): string | undefined {
  const first = spawnSync(path, ['-I', '-c', PROBE], { encoding: 'utf8', timeout: PROBE_TIMEOUT_MS })
  if (first.status === 0 && first.stdout) return first.stdout
  if (first.error || !rejectsIsolated(first.stderr ?? '')) return undefined // not there, not executable, or not a Python that lacks -I
  const exe = path.includes(sep) ? resolve(path) : path
  const second = spawnSync(exe, LEGACY_ARGS, { encoding: 'utf8', timeout: PROBE_TIMEOUT_MS, cwd: parse(process.cwd()).root })
  return second.status === 0 && second.stdout ? second.stdout : undefined
}

/** {@link runProbe} without blocking, so that several interpreters start at once. */
async function runProbeAsync(path: string): Promise<string | undefined> {
  const run = (exe: string, args: string[], cwd?: string) =>
    new Promise<{ ok: boolean; failed: boolean; stdout: string; stderr: string }>((done) => {
      execFile(exe, args, { encoding: 'utf8', timeout: PROBE_TIMEOUT_MS, ...(cwd ? { cwd } : {}) }, (error, stdout, stderr) => {
        // error.code: the exit status (a number), or why it did not start (a string such as ENOENT).
        const failed = error !== null && typeof (error as NodeJS.ErrnoException).code === 'string'
        done({ ok: error === null, failed, stdout, stderr })
      })
    })
  const first = await run(path, ['-I', '-c', PROBE])
  if (first.ok && first.stdout) return first.stdout
  if (first.failed || !rejectsIsolated(first.stderr)) return undefined
  const second = await run(path.includes(sep) ? resolve(path) : path, LEGACY_ARGS, parse(process.cwd()).root)
  return second.ok && second.stdout ? second.stdout : undefined
}

/** What PROBE printed, read (everything but the path and where it was found). */
function parseProbe(path: string, out: string | undefined): ProbedExecutable | undefined {
  if (out === undefined) return undefined
  const [implementation, version, major, minor, magic, ...exe] = out.trim().split(' ')
  if (!implementation || !version || major === undefined || minor === undefined || magic === undefined) return undefined
  // sys.executable, resolved: the same interpreter reached through a shim or a symlink.
  const realPath = exe.join(' ') || path
  return { realPath, implementation, version, major: Number(major), minor: Number(minor), magic: Number(magic) }
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK)
    return statSync(p).isFile()
  } catch {
    return false
  }
}

/**
 * Runs the interpreter once to learn what it is (or reads what it was from the cache, see
 * runtime/cache.ts); undefined when it is not a working Python 3.
 */
export function probe(path: string, source: InterpreterSource): Interpreter | undefined {
  const found = probeCached(path, () => parseProbe(path, runProbe(path)))
  return found && { path, ...found, source }
}

/** {@link probe} without blocking. */
export async function probeAsync(path: string, source: InterpreterSource): Promise<Interpreter | undefined> {
  const found = await probeCachedAsync(path, async () => parseProbe(path, await runProbeAsync(path)))
  return found && { path, ...found, source }
}

/** Executables named python3 or python3.X in the folders of a PATH-like list. */
function inFolders(list: string | undefined): string[] {
  const found: string[] = []
  const dirs = (list ?? '').split(delimiter).filter(Boolean)
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

/** Executables on PATH named python3 or python3.X. */
function onPath(): string[] {
  return inFolders(process.env.PATH)
}

/**
 * The interpreters $PYXRAY_PYTHON_PATHS names: a PATH-like list whose entries are interpreter
 * executables or folders holding `python3` / `python3.X` (such as the wrappers of
 * scripts/setup-native-pythons.sh). Searched before PATH.
 */
function extraPaths(): string[] {
  const entries = (process.env.PYXRAY_PYTHON_PATHS ?? '').split(delimiter).filter(Boolean)
  return entries.flatMap((e) => (isExecutable(e) ? [e] : inFolders(e)))
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

/** Where interpreters are looked for, in discovery order. */
function candidates(): [string, InterpreterSource][] {
  return [
    ...(process.env.PYXRAY_PYTHON ? [[process.env.PYXRAY_PYTHON, 'env'] as [string, InterpreterSource]] : []),
    ...extraPaths().map((p): [string, InterpreterSource] => [p, 'paths']),
    ...onPath().map((p): [string, InterpreterSource] => [p, 'path']),
    ...pyenvVersions().map((p): [string, InterpreterSource] => [p, 'pyenv']),
  ]
}

/** The working interpreters among probe results, each real executable once (the first). */
function unique(probed: readonly (Interpreter | undefined)[]): Interpreter[] {
  const seen = new Set<string>()
  return probed.filter((it): it is Interpreter => {
    if (!it || seen.has(it.realPath)) return false
    seen.add(it.realPath)
    return true
  })
}

/** Every interpreter found, each real executable once, in discovery order. */
export function findInterpreters(): Interpreter[] {
  return unique(candidates().map(([path, source]) => probe(path, source)))
}

/** Probes run at once by {@link findInterpretersAsync}. */
const PROBES_AT_ONCE = 8

/** {@link findInterpreters} with the interpreters probed several at a time: the same list, sooner. */
export async function findInterpretersAsync(): Promise<Interpreter[]> {
  const todo = candidates()
  const probed: (Interpreter | undefined)[] = new Array(todo.length)
  let next = 0
  const lane = async () => {
    for (let i = next++; i < todo.length; i = next++) probed[i] = await probeAsync(...todo[i]!)
  }
  await Promise.all(Array.from({ length: Math.min(PROBES_AT_ONCE, todo.length) }, lane))
  return unique(probed)
}

/** Whether pyxray runs in this interpreter: CPython of a supported version (see src/versions). */
export function isSupported(it: Interpreter): boolean {
  return it.implementation === 'CPython' && it.major === 3 && isSupportedMinor(it.minor)
}

/** What to do about an unsupported or missing interpreter, for the end of an error message. */
const WHAT_TO_DO = 'pass --python 3.X or the path of one (pyxray runtimes lists those found)'

/** Throws RUNTIME_UNSUPPORTED unless the interpreter is a supported CPython (see src/versions). */
export function checkSupported(it: Interpreter, how: string): Interpreter {
  if (!isSupported(it)) {
    throw new RuntimeError('RUNTIME_UNSUPPORTED', `${how} is ${it.implementation} ${it.version}; pyxray runs on CPython ${SUPPORTED_RANGE}: ${WHAT_TO_DO}`)
  }
  return it
}

/**
 * The interpreter a `--python` value names: "3.12" (python3.12 on PATH, else pyenv's newest 3.12)
 * or a path. Throws RUNTIME_NOT_FOUND with what was searched.
 */
export function resolvePython(spec: string): Interpreter {
  if (/^\d+\.\d+$/.test(spec)) {
    const [major, minor] = spec.split('.').map(Number) as [number, number]
    if (major !== 3 || !isSupportedMinor(minor)) {
      throw new RuntimeError('RUNTIME_UNSUPPORTED', `--python ${spec}: pyxray runs on CPython ${SUPPORTED_RANGE}: ${WHAT_TO_DO}`)
    }
    const candidates: [string, InterpreterSource][] = [
      ...extraPaths()
        .filter((p) => p.endsWith(`python${spec}`) || p.endsWith('python3'))
        .map((p): [string, InterpreterSource] => [p, 'paths']),
      ...onPath().filter((p) => p.endsWith(`python${spec}`) || p.endsWith('python3')).map((p): [string, InterpreterSource] => [p, 'path']),
      ...pyenvVersions()
        .filter((p) => p.includes(`/versions/${spec}.`))
        .reverse()
        .map((p): [string, InterpreterSource] => [p, 'pyenv']),
    ]
    for (const [p, source] of candidates) {
      const it = probe(p, source)
      if (it && it.major === 3 && it.minor === minor && it.implementation === 'CPython') return it
    }
    throw new RuntimeError(
      'RUNTIME_NOT_FOUND',
      `no CPython ${spec} found (searched python${spec} and python3 in PYXRAY_PYTHON_PATHS and on PATH, and pyenv): install it, or pass --python PATH`,
    )
  }
  const it = probe(spec, 'flag')
  if (!it) throw new RuntimeError('RUNTIME_NOT_FOUND', `--python ${spec} is not a working Python interpreter: ${WHAT_TO_DO}`)
  return checkSupported(it, `--python ${spec}`)
}

/** The first `python3` on PATH, if any (not probed). */
export function pythonOnPath(): string | undefined {
  return onPath().find((p) => p.endsWith('/python3'))
}
