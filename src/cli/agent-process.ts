/**
 * Launching the agent (python/pyxray) as a child process of a native interpreter, as `pyxray
 * profile`, `pyxray profile --repeat`, `pyxray diff --ab` and `pyxray mem` do: which interpreter,
 * the environment that lets it import the agent, and the exit code to hand on.
 */
import type { ChildProcess } from 'node:child_process'
import { delimiter } from 'node:path'
import { agentDir, checkSupported, probe, pythonOnPath, RuntimeError, resolvePython } from '../runtime/index.js'

/**
 * The native interpreter to run the agent in: `python` (--python X.Y|PATH), else $PYXRAY_PYTHON,
 * else python3 on PATH; CPython 3.8+. `needs` names what needs it in the error when there is none
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
  if (!it) throw new RuntimeError('RUNTIME_NOT_FOUND', `${needs} needs a native CPython 3.8+: none found (python3 on PATH or PYXRAY_PYTHON); pass --python`)
  return checkSupported(it, p!).path
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
