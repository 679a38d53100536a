/**
 * `pyxray profile --runtime pyodide`: the agent's profiler command line
 * (python/pyxray/_profile_cli.py, what `python -m pyxray` runs) inside Pyodide, through
 * {@link runPyodideAgent}. Pyodide has no threads: sample mode is refused by the CLI before
 * anything runs.
 */
import { type PyodideAgentRun, runPyodideAgent } from './agent-cli.js'

export { foldersFor, mountRoots } from './agent-cli.js'

/** What to run and where its output goes: the profiler's options, then the script (or -m / -c) and its arguments. */
export type PyodideProfileRun = Omit<PyodideAgentRun, 'module'>

/** Runs the profiler in Pyodide; resolves to the script's exit status. */
export function runPyodideProfile(run: PyodideProfileRun): Promise<number> {
  return runPyodideAgent({ ...run, module: 'pyxray._profile_cli' })
}
