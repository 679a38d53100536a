/**
 * `pyxray profile … script.py args…`: runs the script under the agent's profiler
 * (`python -m pyxray`, python/pyxray/_profile_cli.py) in the chosen native interpreter, or in the
 * embedded Pyodide (src/runtime/pyodide/profile.ts) with `--runtime pyodide` or when no native
 * supported CPython is found. The script's exit code is the command's exit code.
 */
import { spawn } from 'node:child_process'
import { agentDir, PYODIDE_MINOR, RuntimeError } from '../runtime/index.js'
import { SUPPORTED_RANGE } from '../versions/index.js'
import { runPyodideProfile } from '../runtime/pyodide/profile.js'
import { agentArgs, chooseAgentRuntime, exitCodeOf, forwardSignals, launchEnv, nativeInterpreter } from './agent-process.js'
import type { Console } from './dis.js'
import { UsageError } from './errors.js'
import { checkOutputPath } from './io.js'
import { runRepeatedProfile, splitOutput, splitRepeat } from './profile-repeat.js'
import { runAttach, runRemoteSample, samplesRemotely, splitAttach } from './profile-remote.js'

/** Options pyxray itself reads before handing the rest to the agent's profiler. */
export interface ProfileLaunch {
  readonly python?: string
  readonly runtime?: string
  readonly verbose: boolean
  /** Everything else: the profiler's options, then the script (or -m module / -c code) and its arguments. */
  readonly rest: readonly string[]
}

/**
 * Every option of the agent's profiler command line (python/pyxray/_profile_cli.py `_parser`), and
 * whether it takes a value: the one list pyxray needs to tell the profiler's options from the
 * script (test/profile-options.test.ts checks it against the agent's argparse). `-m` and `-c`
 * start the target and are not listed.
 */
export const PROFILER_OPTIONS: Readonly<Record<string, 'value' | 'flag'>> = {
  '--mode': 'value',
  '--memory': 'flag',
  '--clock': 'value',
  '-o': 'value',
  '--output': 'value',
  '--include': 'value',
  '--exclude': 'value',
  '--interval': 'value',
  '--libraries': 'value',
  '--no-builtins': 'flag',
  '--overhead': 'value',
  '--top': 'value',
  '--subprocesses': 'value',
  '--no-subprocesses': 'flag',
  '-q': 'flag',
  '--quiet': 'flag',
  '-h': 'flag',
  '--help': 'flag',
}

/** The profiler's options that take a value (derived from PROFILER_OPTIONS). */
export const PROFILER_VALUE_OPTIONS: ReadonlySet<string> = new Set(Object.keys(PROFILER_OPTIONS).filter((o) => PROFILER_OPTIONS[o] === 'value'))

/** Splits pyxray's own options (--python, --runtime, -v) from the profiler's and the script's. */
export function parseProfileArgs(args: readonly string[]): ProfileLaunch {
  let python: string | undefined
  let runtime: string | undefined
  let verbose = false
  const rest: string[] = []
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    // The script (or -m/-c) starts the part that belongs to the script, options included.
    if (!a.startsWith('-') || a === '-m' || a === '-c' || a === '--') {
      rest.push(...args.slice(i))
      break
    }
    if (PROFILER_VALUE_OPTIONS.has(a)) {
      rest.push(a, ...(args[i + 1] !== undefined ? [args[i + 1]!] : []))
      i++
      continue
    }
    const value = (name: string) => {
      const inline = a.startsWith(`${name}=`) ? a.slice(name.length + 1) : undefined
      if (inline !== undefined) return inline
      const next = args[++i]
      if (next === undefined) throw new UsageError('USAGE', `${name} needs a value`)
      return next
    }
    if (a === '--python' || a.startsWith('--python=')) python = value('--python')
    else if (a === '--runtime' || a.startsWith('--runtime=')) runtime = value('--runtime')
    else if (a === '-v' || a === '--verbose') verbose = true
    else rest.push(a)
  }
  return { ...(python ? { python } : {}), ...(runtime ? { runtime } : {}), verbose, rest }
}

/** The native interpreter a profile runs in: --python, else $PYXRAY_PYTHON, else python3. */
export function interpreter(l: ProfileLaunch): string {
  if (l.runtime === 'pyodide') {
    throw new RuntimeError('RUNTIME_UNSUPPORTED', `this needs a native CPython ${SUPPORTED_RANGE} (--runtime pyodide profiles a single run): install one or pass --python`)
  }
  return nativeInterpreter(l.python, 'profiling')
}

/** Runs the profiler; resolves to the script's exit code. */
export async function runProfile(args: readonly string[], con: Console): Promise<number> {
  const attach = splitAttach(args)
  if (attach.pid !== undefined) {
    const l = parseProfileArgs(attach.rest)
    if (l.runtime === 'pyodide') throw new UsageError('USAGE', '--pid samples a native CPython 3.14+ process; it cannot go with --runtime pyodide')
    return runAttach({ ...attach, pid: attach.pid, rest: l.rest }, l.python, l.verbose, con)
  }
  if (attach.duration !== undefined) throw new UsageError('USAGE', '--duration goes with --pid (how long to sample a running process)')
  if (attach.asyncAware) throw new UsageError('USAGE', '--async-aware goes with --pid (asyncio task stacks of a running CPython 3.14+ process)')
  const repeated = splitRepeat(args)
  if (repeated) {
    const l = parseProfileArgs(repeated.args)
    return runRepeatedProfile(repeated.n, l, () => interpreter(l), con)
  }
  const launch = parseProfileArgs(args)
  if (launch.rest.length === 0) throw new UsageError('USAGE', 'profile needs a script (or -m module, or -c code); see pyxray profile --help')
  // Native CPython when there is one (--python, PYXRAY_PYTHON, python3 on PATH), else the
  // embedded Pyodide, as for the other commands.
  const choice = chooseAgentRuntime(launch.python, launch.runtime, 'profiling')
  if (choice.kind === 'pyodide') {
    if (launch.verbose) con.err(`pyxray: ${choice.reason}\n`)
    return runInPyodide(launch, con)
  }
  checkProfileOutput(launch.rest)
  const python = choice.python
  if (launch.verbose) con.err(`pyxray: profiling with ${python} (${choice.reason})\n`)
  // 3.14+: sample mode reads the stacks from a separate process (the program runs unmodified)
  if (samplesRemotely(python, launch.rest, modeOf(launch.rest))) return runRemoteSample(python, launch.rest)
  const child = spawn(python, agentArgs('pyxray', launch.rest), { stdio: 'inherit', env: launchEnv() })
  // Signals to pyxray reach the script (Ctrl-C reaches it through the terminal); pyxray waits for
  // it to write a partial profile and exits as it did.
  const stop = forwardSignals(child)
  try {
    return await exitCodeOf(child, python)
  } finally {
    stop()
  }
}

/**
 * The profiler's output (-o, default pyxray-profile.json) and the script, from the profiler's
 * options and target: the output must be writable and not the script (checked before it runs;
 * the agent checks a module run with -m itself).
 */
export function checkProfileOutput(rest: readonly string[]): void {
  const { output = 'pyxray-profile.json', rest: others } = splitOutput(rest)
  let script: string | undefined
  for (let i = 0; i < others.length; i++) {
    const a = others[i]!
    if (a === '-m' || a === '-c') break
    if (a === '--' || !a.startsWith('-')) {
      script = a === '--' ? others[i + 1] : a
      break
    }
    if (PROFILER_VALUE_OPTIONS.has(a)) i++
  }
  checkOutputPath(output, script === undefined ? [] : [script], '-o')
}

/** The value of the profiler's `--mode` before the target, if given. */
function modeOf(rest: readonly string[]): string | undefined {
  let mode: string | undefined
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!
    if (!a.startsWith('-') || a === '-m' || a === '-c' || a === '--') break
    if (a === '--mode') mode = rest[++i]
    else if (a.startsWith('--mode=')) mode = a.slice('--mode='.length)
    else if (PROFILER_VALUE_OPTIONS.has(a)) i++
  }
  return mode
}

/** `--runtime pyodide`: the profiler in the embedded CPython 3.14 (pure-Python scripts, one thread). */
async function runInPyodide(launch: ProfileLaunch, con: Console): Promise<number> {
  if (launch.python !== undefined && launch.python !== `3.${PYODIDE_MINOR}`) {
    throw new UsageError('USAGE', `the Pyodide runtime is CPython 3.${PYODIDE_MINOR}; --python ${launch.python} needs --runtime native`)
  }
  if (modeOf(launch.rest) === 'sample') {
    throw new UsageError('USAGE', 'sample mode needs a sampler thread and Pyodide has no threads: use --mode trace there, or a native CPython for sample mode')
  }
  if (launch.verbose) con.err(`pyxray: profiling in the embedded Pyodide (CPython 3.${PYODIDE_MINOR})\n`)
  return runPyodideProfile({ agentDir: agentDir(), argv: launch.rest, stdout: (t) => con.out(t), stderr: (t) => con.err(t) })
}
