/**
 * Launching the agent (python/pyxray) as a child process of a native interpreter, as `pyxray
 * profile`, `pyxray profile --repeat`, `pyxray diff --ab` and `pyxray mem` do: which interpreter,
 * the environment that lets it import the agent, and the exit code to hand on.
 */
import type { ChildProcess } from 'node:child_process'
import { delimiter } from 'node:path'
import { agentDir, checkSupported, isSupported, PYODIDE_MINOR, probe, pythonOnPath, RuntimeError, resolvePython } from '../runtime/index.js'
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
export function chooseAgentRuntime(python: string | undefined, runtime: string | undefined, needs: string): AgentRuntimeChoice {
  if (runtime !== undefined && runtime !== 'native' && runtime !== 'pyodide') throw new UsageError('USAGE', `--runtime must be native or pyodide, got "${runtime}"`)
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

/** Our environment plus `extra`, with the agent's folder first on PYTHONPATH (before `extra`'s or ours). */
export function agentEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  return { ...process.env, ...extra, PYTHONPATH: [agentDir(), extra.PYTHONPATH ?? process.env.PYTHONPATH].filter(Boolean).join(delimiter) }
}

/**
 * The exit code of an agent process started from `python`: its own, else 130 after SIGINT and 143
 * after any other signal (as a shell reports them). Rejects with RUNTIME_NOT_FOUND when it could
 * not start.
 */
export function exitCodeOf(child: ChildProcess, python: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    child.on('error', (e) => reject(new RuntimeError('RUNTIME_NOT_FOUND', `cannot start ${python}: ${e.message}`)))
    child.on('exit', (code, signal) => resolve(code ?? (signal === 'SIGINT' ? 130 : 128 + 15)))
  })
}
