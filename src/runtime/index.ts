/**
 * Python runtimes: native CPython workers and embedded Pyodide, behind {@link PythonRuntime}.
 */
import { agentDir } from './agent-dir.js'
import { isSupportedMinor, SUPPORTED_RANGE } from '../versions/index.js'
import { checkSupported, type Interpreter, isSupported, probe, pythonOnPath, resolvePython } from './native/discover.js'
import { NativeRuntime } from './native/worker.js'
import { PyodideRuntime } from './pyodide/node.js'
import { python3Label, takePrestarted } from './prestart.js'
import { type PythonRuntime, RuntimeError, type RuntimeKind } from './types.js'

export { checkSupported, findInterpreters, findInterpretersAsync, type Interpreter, isSupported, MAX_MINOR, MIN_MINOR, probe, pythonOnPath, resolvePython } from './native/discover.js'
export { NativeRuntime } from './native/worker.js'
export { measure, type MeasureOptions, type MeasureSubject } from './measure.js'
export { PyodideRuntime } from './pyodide/node.js'
export * from './types.js'
export { agentDir } from './agent-dir.js'
export { prestartDefault } from './prestart.js'
export { cachedPyodideReport, cacheDir, type PyodideReport, runtimeCachePath, storePyodideReport } from './cache.js'

/** The Python version Pyodide embeds. */
export const PYODIDE_MINOR = 14

/** How to choose a runtime. */
export interface RuntimeChoice {
  /** Force a kind; default: native python3 (a supported CPython) when present, else Pyodide. */
  readonly runtime?: RuntimeKind
  /** "3.12" or an interpreter path; "3.14" falls back to Pyodide when no native 3.14 exists. */
  readonly python?: string
}

/** A chosen runtime and why it was chosen (shown by --verbose and in JSON output). */
export interface Selected {
  readonly runtime: PythonRuntime
  readonly interpreter?: Interpreter
  readonly reason: string
}

function native(it: Interpreter, reason: string): Selected {
  return { runtime: new NativeRuntime(it.path, agentDir(), `python${it.version} (${it.path})`), interpreter: it, reason }
}

/** Picks the runtime for a command. Rejects with RuntimeError when the requested one is missing. */
export async function selectRuntime(choice: RuntimeChoice = {}): Promise<Selected> {
  if (choice.runtime === 'pyodide') {
    if (choice.python && choice.python !== `3.${PYODIDE_MINOR}`) {
      throw new RuntimeError('RUNTIME_UNSUPPORTED', `the Pyodide runtime is CPython 3.${PYODIDE_MINOR}; --python ${choice.python} needs --runtime native`)
    }
    return { runtime: new PyodideRuntime(agentDir()), reason: '--runtime pyodide' }
  }
  if (choice.python) {
    try {
      return native(resolvePython(choice.python), `--python ${choice.python}`)
    } catch (e) {
      if (choice.python === `3.${PYODIDE_MINOR}` && choice.runtime !== 'native') {
        return { runtime: new PyodideRuntime(agentDir()), reason: `--python 3.${PYODIDE_MINOR}: no native 3.${PYODIDE_MINOR}, using Pyodide` }
      }
      throw e
    }
  }
  if (process.env.PYXRAY_PYTHON) {
    const it = probe(process.env.PYXRAY_PYTHON, 'env')
    if (!it) throw new RuntimeError('RUNTIME_NOT_FOUND', `PYXRAY_PYTHON=${process.env.PYXRAY_PYTHON} is not a working Python interpreter`)
    return native(checkSupported(it, `PYXRAY_PYTHON=${process.env.PYXRAY_PYTHON}`), 'PYXRAY_PYTHON')
  }
  // python3 on PATH: start its worker straight away (no separate probe) and keep it if it is supported.
  const python3 = pythonOnPath()
  if (python3) {
    const runtime = takePrestarted(python3, agentDir()) ?? new NativeRuntime(python3, agentDir(), python3Label(python3))
    try {
      const info = await runtime.info()
      if (isSupportedMinor(info.minor)) return { runtime, reason: 'python3 on PATH' }
    } catch {
      // not a supported CPython (an older one cannot even import the agent): fall through
    }
    await runtime.close()
  }
  if (choice.runtime === 'native') {
    // Say what python3 is when there is one (checkSupported throws RUNTIME_UNSUPPORTED naming it).
    const it = python3 ? probe(python3, 'path') : undefined
    if (it) checkSupported(it, `python3 on PATH (${python3})`)
    throw new RuntimeError('RUNTIME_NOT_FOUND', `no native CPython ${SUPPORTED_RANGE} found (python3 on PATH or PYXRAY_PYTHON): install one, pass --python, or use --runtime pyodide`)
  }
  return { runtime: new PyodideRuntime(agentDir()), reason: `no native python3 ${SUPPORTED_RANGE} found: using embedded Pyodide` }
}

/**
 * The interpreter {@link selectRuntime} picks when given no choice, from probes alone (no worker is
 * started): $PYXRAY_PYTHON when it is a supported CPython, else python3 on PATH when it is a
 * supported version; undefined when Pyodide would be used. `known` are interpreters already probed
 * (findInterpreters), looked up by path before probing again.
 */
export function defaultInterpreter(known: readonly Interpreter[] = []): Interpreter | undefined {
  const probed = (path: string, source: Interpreter['source']) => known.find((it) => it.path === path) ?? probe(path, source)
  if (process.env.PYXRAY_PYTHON) {
    const it = probed(process.env.PYXRAY_PYTHON, 'env')
    return it && isSupported(it) ? it : undefined
  }
  const python3 = pythonOnPath()
  const it = python3 ? probed(python3, 'path') : undefined
  return it && it.major === 3 && isSupportedMinor(it.minor) ? it : undefined
}
