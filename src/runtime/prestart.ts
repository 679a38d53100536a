/**
 * The default native runtime started early. `pyxray dis app.py` needs python3's agent, and starting
 * it (the interpreter, through a pyenv shim maybe, then the agent) takes about as long as Node takes
 * to load the rest of pyxray; started first, the two overlap. The CLI's entry calls
 * {@link prestartDefault} before it loads the commands when the command line will compile source
 * with the default runtime (cli/prestart.ts); {@link selectRuntime} then takes that worker
 * ({@link takePrestarted}) instead of starting another. A worker nobody takes does not keep the
 * process alive (workers are unref'd) and ends when the process does (its stdin closes).
 */
import { agentDir } from './agent-dir.js'
import { pythonOnPath } from './native/discover.js'
import { NativeRuntime } from './native/worker.js'

let early: { readonly runtime: NativeRuntime; readonly agentDir: string } | undefined

/** The label selectRuntime gives python3 on PATH. */
export const python3Label = (path: string): string => `python3 (${path})`

/**
 * Starts the worker selectRuntime would start with no choice made: python3 on PATH's (nothing when
 * $PYXRAY_PYTHON is set, or there is no python3). Returns whether one was started.
 */
export function prestartDefault(): boolean {
  if (early || process.env.PYXRAY_PYTHON) return false
  const python3 = pythonOnPath()
  if (!python3) return false
  const dir = agentDir()
  const runtime = new NativeRuntime(python3, dir, python3Label(python3))
  // Starts the worker; a failure is met again, and reported, when selectRuntime asks.
  runtime.info().catch(() => {})
  early = { runtime, agentDir: dir }
  return true
}

/** The worker {@link prestartDefault} started, once, if it is the one wanted (else undefined). */
export function takePrestarted(executable: string, dir: string): NativeRuntime | undefined {
  if (!early || early.runtime.executable !== executable || early.agentDir !== dir) return undefined
  const { runtime } = early
  early = undefined
  return runtime
}
