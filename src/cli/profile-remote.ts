/**
 * Sampling from outside the program (CPython 3.14+, `_remote_debugging.RemoteUnwinder`; the agent's
 * python/pyxray/remote):
 *
 * - `pyxray profile --pid PID [--duration S] [options]` attaches to a running CPython 3.14+ and
 *   samples it with an interpreter of the same version (the target's own executable when it can
 *   be run from here, else one found like `--python 3.X`), without changing it;
 * - `pyxray profile --mode sample script.py` on 3.14+ starts the script as `python script.py`
 *   would and samples it from a separate process (PYXRAY_SAMPLER=thread keeps the sampler thread
 *   inside the program, which is what 3.8–3.13 and `--memory` always use).
 */
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, readlinkSync, statSync } from 'node:fs'
import { basename } from 'node:path'
import { probe, resolvePython } from '../runtime/index.js'
import { agentArgs, exitCodeOf, forwardSignals, launchEnv } from './agent-process.js'
import type { Console } from './io.js'
import { UsageError } from './errors.js'
import { OWN_PROFILE_OPTIONS, PROFILER_VALUE_OPTIONS } from './profiler-options.js'

/** The first CPython whose `_remote_debugging` can sample another process. */
export const REMOTE_MIN_MINOR = 14

/** `--pid`/`--duration` taken out of `pyxray profile`'s arguments (before the script). */
export interface AttachArgs {
  readonly pid?: number
  readonly duration?: number
  /** `--async-aware`: asyncio task stacks (the running task and the tasks awaiting it). */
  readonly asyncAware: boolean
  /** The other arguments, in order. */
  readonly rest: readonly string[]
}

/** Takes `--pid PID`, `--duration S` (either as `--x=V`) and `--async-aware` from the options before the script. */
export function splitAttach(args: readonly string[]): AttachArgs {
  let pid: number | undefined
  let duration: number | undefined
  let asyncAware = false
  const rest: string[] = []
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (!a.startsWith('-') || a === '-m' || a === '-c' || a === '--') {
      rest.push(...args.slice(i))
      break
    }
    if (a === '--async-aware') {
      asyncAware = true
      continue
    }
    const name = a.startsWith('--pid') ? '--pid' : a.startsWith('--duration') ? '--duration' : undefined
    if (name !== undefined && (a === name || a.startsWith(`${name}=`))) {
      const value = a === name ? args[++i] : a.slice(name.length + 1)
      if (name === '--pid') {
        if (value === undefined || !/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 2 ** 31) throw new UsageError('USAGE', `--pid takes a process id (a whole number >= 1), not ${value === undefined ? 'nothing' : `"${value}"`}`)
        pid = Number(value)
      } else {
        const n = Number(value)
        if (value === undefined || value.trim() === '' || !Number.isFinite(n) || !(n > 0)) throw new UsageError('USAGE', `--duration takes a positive number of seconds, not ${value === undefined ? 'nothing' : `"${value}"`}`)
        duration = n
      }
      continue
    }
    rest.push(a)
    // The profiler's and pyxray's own options that take a value (--python, --runtime, --repeat): the value stays with its option.
    if (PROFILER_VALUE_OPTIONS.has(a) || OWN_PROFILE_OPTIONS[a] === 'value') {
      if (args[i + 1] !== undefined) rest.push(args[++i]!)
    }
  }
  return { ...(pid !== undefined ? { pid } : {}), ...(duration !== undefined ? { duration } : {}), asyncAware, rest }
}

/** What runs process `pid`: its executable and CPython minor version, read from /proc. */
export interface TargetPython {
  readonly exe: string
  readonly minor: number
}

/**
 * The CPython version process `pid` runs, from its executable's name (`python3.X`, as installs
 * name the real binary) or, for an embedding or renamed program, the `libpython3.X` it maps.
 * NOT_FOUND when there is no such process, USAGE when it is not a CPython 3.
 */
export function targetPython(pid: number): TargetPython {
  if (!existsSync(`/proc/${pid}`)) {
    if (!existsSync('/proc/self')) throw new UsageError('USAGE', '--pid needs Linux (/proc): this system has no /proc')
    throw new UsageError('NOT_FOUND', `no process ${pid} (give the id of a running CPython 3.${REMOTE_MIN_MINOR}+ process)`)
  }
  let exe: string
  try {
    exe = readlinkSync(`/proc/${pid}/exe`)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'EACCES' || code === 'EPERM') throw new UsageError('USAGE', permissionMessage(pid))
    throw new UsageError('NOT_FOUND', `no process ${pid} (it ended, or is a kernel thread)`)
  }
  const byName = /python3\.(\d+)/.exec(basename(exe))
  if (byName) return { exe, minor: Number(byName[1]) }
  let maps = ''
  try {
    maps = readFileSync(`/proc/${pid}/maps`, 'utf8')
  } catch {
    // unreadable: no libpython to look for
  }
  const byLib = /libpython3\.(\d+)/.exec(maps)
  if (byLib) return { exe, minor: Number(byLib[1]) }
  throw new UsageError('USAGE', `process ${pid} (${exe}) does not look like a CPython interpreter: --pid samples CPython 3.${REMOTE_MIN_MINOR}+ processes`)
}

/** Why process `pid` cannot be inspected, and what to do, in one line. */
function permissionMessage(pid: number): string {
  let owner: number | undefined
  try {
    owner = statSync(`/proc/${pid}`).uid
  } catch {
    // gone meanwhile: no owner to name
  }
  const uid = process.getuid?.()
  let scope = 0
  try {
    scope = Number(readFileSync('/proc/sys/kernel/yama/ptrace_scope', 'utf8').trim()) || 0
  } catch {
    // no Yama: classic ptrace rules
  }
  const why =
    owner !== undefined && uid !== undefined && owner !== uid && uid !== 0
      ? `it belongs to another user (uid ${owner}); run pyxray as that user or as root`
      : scope >= 1
        ? `/proc/sys/kernel/yama/ptrace_scope is ${scope}; run pyxray as root (or with CAP_SYS_PTRACE)${scope === 1 ? ', or set it to 0' : ''}`
        : 'it is not dumpable, or this process lacks the right to ptrace it; run pyxray as root with CAP_SYS_PTRACE (docker run --cap-add SYS_PTRACE)'
  return `cannot inspect process ${pid}: permission denied (${why})`
}

/**
 * The interpreter that samples a 3.`minor` target: `--python` (which must be that version), else
 * the target's own executable when it runs here, else a CPython 3.`minor` found as `--python 3.X`
 * finds one.
 */
export function samplerFor(target: TargetPython, python: string | undefined): string {
  if (python !== undefined) {
    const it = resolvePython(python)
    if (it.minor !== target.minor) throw new UsageError('USAGE', `--python ${python} is CPython ${it.version}, but the process runs CPython 3.${target.minor}: the sampler must be the same version (pass --python 3.${target.minor})`)
    return it.path
  }
  if (existsSync(target.exe)) {
    const own = probe(target.exe, 'flag')
    if (own && own.implementation === 'CPython' && own.major === 3 && own.minor === target.minor) return own.path
  }
  return resolvePython(`3.${target.minor}`).path
}

/** `pyxray profile --pid PID`: resolves to the sampler's exit code (0, or 2 with one line). */
export async function runAttach(attach: AttachArgs & { readonly pid: number }, python: string | undefined, verbose: boolean, con: Console): Promise<number> {
  const { sampler, args } = attachLaunch(attach, python, verbose, con)
  return runAgent(sampler, args)
}

/** The checked `--pid` request as the sampler to run and its `python -m pyxray.remote` arguments (USAGE/NOT_FOUND errors first). */
export function attachLaunch(attach: AttachArgs & { readonly pid: number }, python: string | undefined, verbose: boolean, con: Console): { sampler: string; args: string[] } {
  const target = targetPython(attach.pid)
  if (target.minor < REMOTE_MIN_MINOR) {
    throw new UsageError(
      'USAGE',
      `process ${attach.pid} runs CPython 3.${target.minor}: attaching (--pid) needs CPython 3.${REMOTE_MIN_MINOR} or newer in the target (its _remote_debugging); profile older programs by starting them with pyxray profile script.py`,
    )
  }
  const rest = attach.rest
  let stray: string | undefined
  for (let i = 0; i < rest.length && stray === undefined; i++) {
    const a = rest[i]!
    if (!a.startsWith('-') || a === '-m' || a === '-c') stray = a
    else if (PROFILER_VALUE_OPTIONS.has(a)) i++
  }
  if (stray !== undefined) throw new UsageError('USAGE', `--pid samples a running process: give no script (got "${stray}")`)
  const mode = rest.reduce<string | undefined>((m, a, i) => (a === '--mode' ? rest[i + 1] : a.startsWith('--mode=') ? a.slice(7) : m), undefined)
  if (mode !== undefined && mode !== 'sample') throw new UsageError('USAGE', `--pid samples the process from outside: --mode ${mode} cannot attach (use --mode sample, the default with --pid)`)
  if (rest.includes('--memory')) throw new UsageError('USAGE', '--memory needs tracemalloc inside the program: it cannot go with --pid (start the program with pyxray profile --memory instead)')
  if (rest.some((a) => a === '--count' || a.startsWith('--count='))) throw new UsageError('USAGE', '--count instructions traces inside the program: it cannot go with --pid (start the program with pyxray profile --count instructions instead)')
  const sampler = samplerFor(target, python)
  if (verbose) con.err(`pyxray: sampling process ${attach.pid} (CPython 3.${target.minor}) with ${sampler}\n`)
  const args = ['attach', String(attach.pid), ...(attach.duration !== undefined ? ['--duration', String(attach.duration)] : []), ...(attach.asyncAware ? ['--async-aware'] : []), ...rest]
  return { sampler, args }
}

/**
 * Whether `pyxray profile --mode sample …` in `python` samples from outside: 3.14+, no --memory
 * (tracemalloc is inside the program), and PYXRAY_SAMPLER is not `thread`.
 */
export function samplesRemotely(python: string, rest: readonly string[], mode: string | undefined): boolean {
  if (mode !== 'sample' || process.env.PYXRAY_SAMPLER === 'thread') return false
  for (const a of rest) {
    if (!a.startsWith('-') || a === '-m' || a === '-c' || a === '--') break
    if (a === '--memory') return false
  }
  const it = probe(python, 'flag')
  return it !== undefined && it.implementation === 'CPython' && it.major === 3 && it.minor >= REMOTE_MIN_MINOR
}

/** `pyxray profile --mode sample script.py` on 3.14+: the sampler process starts the script. */
export function runRemoteSample(python: string, rest: readonly string[]): Promise<number> {
  return runAgent(python, ['run', ...rest])
}

async function runAgent(python: string, args: readonly string[]): Promise<number> {
  const child = spawn(python, agentArgs('pyxray.remote', args), { stdio: 'inherit', env: launchEnv() })
  const stop = forwardSignals(child)
  try {
    return await exitCodeOf(child, python)
  } finally {
    stop()
  }
}
