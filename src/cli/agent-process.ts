/**
 * Launching the agent (python/pyxray) as a child process of a native interpreter, as `pyxray
 * profile`, `pyxray profile --repeat`, `pyxray diff --ab` and `pyxray mem` do: which interpreter,
 * the environment that lets it import the agent, and the exit code to hand on.
 */
import type { ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { constants } from 'node:os'
import { agentDir, checkSupported, isSupported, PYODIDE_MINOR, probe, pythonOnPath, RuntimeError, resolvePython, type RuntimeKind } from '../runtime/index.js'
import { SUPPORTED_RANGE } from '../versions/index.js'
import { UsageError } from './errors.js'

/**
 * The native interpreter to run the agent in: `python` (--python X.Y|PATH), else $PYXRAY_PYTHON,
 * else python3 on PATH; a supported CPython (src/versions), else RUNTIME_UNSUPPORTED naming it.
 * `needs` names what needs it in the error when there is none
 * ("profiling", "pyxray mem").
 */
export function nativeInterpreter(python: string | undefined, needs: string): string {
  if (python) return resolvePython(python).path
  const env = process.env.PYXRAY_PYTHON
  if (env) {
    const it = probe(env, 'env')
    if (!it) throw new RuntimeError('RUNTIME_NOT_FOUND', `PYXRAY_PYTHON=${env} is not a working Python interpreter`)
    return checkSupported(it, `PYXRAY_PYTHON=${env}`).path
  }
  const p = pythonOnPath()
  const it = p ? probe(p, 'path') : undefined
  if (!it) throw new RuntimeError('RUNTIME_NOT_FOUND', `${needs} needs a native CPython ${SUPPORTED_RANGE}: none found (python3 on PATH or PYXRAY_PYTHON); pass --python`)
  return checkSupported(it, p!).path
}

/** Where an agent command line runs, and why (what -v says). */
export type AgentRuntimeChoice = { readonly kind: 'native'; readonly python: string; readonly reason: string } | { readonly kind: 'pyodide'; readonly reason: string }

/**
 * Chooses where an agent command line runs, by the rules of the other commands: `--runtime
 * pyodide` is the embedded Pyodide (CPython 3.${PYODIDE_MINOR}); `--python X.Y|PATH` that
 * interpreter, except that 3.${PYODIDE_MINOR} falls back to Pyodide when no native one exists;
 * else $PYXRAY_PYTHON; else python3 on PATH when it is a supported CPython; else Pyodide (unless
 * `--runtime native`, which then fails with RUNTIME_NOT_FOUND).
 */
export function chooseAgentRuntime(python: string | undefined, runtime: RuntimeKind | undefined, needs: string): AgentRuntimeChoice {
  const pyodideVersion = `3.${PYODIDE_MINOR}`
  if (runtime === 'pyodide') {
    if (python !== undefined && python !== pyodideVersion) throw new UsageError('USAGE', `the Pyodide runtime is CPython ${pyodideVersion}; --python ${python} needs --runtime native`)
    return { kind: 'pyodide', reason: '--runtime pyodide' }
  }
  if (python) {
    try {
      const it = resolvePython(python)
      return { kind: 'native', python: it.path, reason: `--python ${python}: CPython ${it.version}` }
    } catch (e) {
      if (python === pyodideVersion && runtime !== 'native') return { kind: 'pyodide', reason: `--python ${python}: no native CPython ${python} found` }
      throw e
    }
  }
  if (process.env.PYXRAY_PYTHON) return { kind: 'native', python: nativeInterpreter(undefined, needs), reason: 'PYXRAY_PYTHON' }
  const p = pythonOnPath()
  const it = p ? probe(p, 'path') : undefined
  if (it && isSupported(it)) return { kind: 'native', python: it.path, reason: `python3 on PATH: CPython ${it.version}` }
  if (runtime === 'native') return { kind: 'native', python: nativeInterpreter(undefined, needs), reason: 'python3 on PATH' }
  const why = it ? `python3 on PATH (${p}) is ${it.implementation} ${it.version}, not CPython ${SUPPORTED_RANGE}` : 'no native python3 found (PATH, PYXRAY_PYTHON)'
  return { kind: 'pyodide', reason: `${why}: using the embedded Pyodide` }
}

/** The agent modules pyxray runs as programs: the profiler and the memory tools. */
export type AgentProgram = 'pyxray' | 'pyxray.memory' | 'pyxray.remote'

/**
 * The interpreter arguments that run an agent program (as `python -m` would) so that nothing in
 * the current folder or on PYTHONPATH can replace the agent or the standard library modules it
 * imports: `python -c` with the current folder taken off sys.path and the agent's folder put first
 * (python/pyxray/_process.py `launch`); the script then gets the sys.path `python script.py`
 * gives it. Use with {@link launchEnv}: the agent's folder is not put on PYTHONPATH, so
 * the script and its children see the PYTHONPATH they would see without pyxray.
 */
export function agentArgs(program: AgentProgram, args: readonly string[]): string[] {
  const dir = JSON.stringify(agentDir()) // a JSON string is a Python string literal
  const boot = `import sys; sys.path.insert(0, ${dir}); from pyxray._process import launch; sys.exit(launch(${JSON.stringify(program)}, ${dir}, sys.argv[1:]))`
  return ['-c', boot, ...args]
}

/** Our environment plus `extra`, as an agent program started with {@link agentArgs} needs it. */
export function launchEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  return { ...process.env, ...extra }
}

/**
 * The exit code of an agent process started from `python`: its own, else 128 + the number of the
 * signal that ended it (130 for SIGINT, 137 for SIGKILL, 143 for SIGTERM), as a shell reports
 * Python's. Rejects with RUNTIME_NOT_FOUND when it could not start.
 */
export function exitCodeOf(child: ChildProcess, python: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    child.on('error', (e) => reject(new RuntimeError('RUNTIME_NOT_FOUND', `cannot start ${python}: ${e.message}`)))
    child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 15) : 15)))
  })
}

/** The signals pyxray hands on to the agent process it waits for (the agent writes a partial profile). */
export const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const

/**
 * Hands SIGINT, SIGTERM and SIGHUP sent to pyxray on to `child` while it runs, so that pyxray
 * never dies before it (the agent writes a partial profile, then exits or dies as Python would,
 * and pyxray's exit code is the child's). A signal the terminal sent to the whole foreground
 * process group has reached the child already and is not sent twice; the agent takes a second one
 * in its stride anyway (`timeout` signals the group and pyxray). Returns the function that stops
 * forwarding.
 */
export function forwardSignals(child: ChildProcess): () => void {
  const handlers = FORWARDED_SIGNALS.map((name) => {
    const handler = () => {
      if (name === 'SIGINT' && terminalForeground()) return // Ctrl-C: the child got it from the terminal
      if (child.exitCode === null && child.signalCode === null) child.kill(name)
    }
    process.on(name, handler)
    return [name, handler] as const
  })
  return () => {
    for (const [name, handler] of handlers) process.off(name, handler)
  }
}

/**
 * Whether this process is in the foreground process group of its controlling terminal (Linux:
 * /proc/self/stat's pgrp and tpgid), where Ctrl-C reaches every process of the group.
 */
function terminalForeground(): boolean {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ') // after "pid (comm) ": state ppid pgrp session tty_nr tpgid
    return fields[2] !== undefined && fields[2] === fields[5]
  } catch {
    return false
  }
}
