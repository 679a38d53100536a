/**
 * `pyxray profile … script.py args…`: runs the script under the agent's profiler
 * (`python -m pyxray`, python/pyxray/_profile_cli.py) in the chosen native interpreter, or in the
 * embedded Pyodide (src/runtime/pyodide/profile.ts) with `--runtime pyodide` or when no native
 * supported CPython is found. The script's exit code is the command's exit code.
 */
import { spawn } from 'node:child_process'
import { agentDir, PYODIDE_MINOR, RuntimeError, type RuntimeKind } from '../runtime/index.js'
import { SUPPORTED_RANGE } from '../versions/index.js'
import { runPyodideProfile } from '../runtime/pyodide/profile.js'
import { agentArgs, chooseAgentRuntime, exitCodeOf, forwardSignals, launchEnv, nativeInterpreter } from './agent-process.js'
import { defineCommand, runtimeValues } from './command.js'
import { UsageError } from './errors.js'
import { checkOutputPath, type Console } from './io.js'
import { runRepeatedProfile, splitOutput, splitRepeat } from './profile-repeat.js'
import { OWN_PROFILE_OPTIONS, optionsAfterTarget, PROFILER_OPTIONS, PROFILER_VALUE_OPTIONS, targetStart } from './profiler-options.js'
import { attachLaunch, runAttach, runRemoteSample, samplesRemotely, splitAttach } from './profile-remote.js'
import { runContinuous, splitContinuous } from './profile-push.js'

/** Options pyxray itself reads before handing the rest to the agent's profiler. */
export interface ProfileLaunch {
  readonly python?: string
  readonly runtime?: RuntimeKind
  readonly verbose: boolean
  /** Everything else: the profiler's options, then the script (or -m module / -c code) and its arguments. */
  readonly rest: readonly string[]
}

export { PROFILER_OPTIONS, PROFILER_VALUE_OPTIONS } from './profiler-options.js'

/**
 * Splits pyxray's own options (--python, --runtime, -v) from the profiler's and the script's.
 * `--out FILE`, the old spelling of `-o/--output`, becomes `--output` (with `warn`).
 */
export function parseProfileArgs(args: readonly string[], warn: (text: string) => void = () => {}): ProfileLaunch {
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
    if (a === '--out' || a.startsWith('--out=')) {
      warn('--out is deprecated: use -o/--output FILE')
      rest.push(a === '--out' ? '--output' : `--output=${a.slice('--out='.length)}`)
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
  const checked = runtimeValues({ runtime })
  return { ...(python ? { python } : {}), ...(checked.runtime ? { runtime: checked.runtime } : {}), verbose, rest }
}

/** The native interpreter a profile runs in: --python, else $PYXRAY_PYTHON, else python3. */
export function interpreter(l: ProfileLaunch): string {
  if (l.runtime === 'pyodide') {
    throw new RuntimeError('RUNTIME_UNSUPPORTED', `this needs a native CPython ${SUPPORTED_RANGE} (--runtime pyodide profiles a single run): install one or pass --python`)
  }
  return nativeInterpreter(l.python, 'profiling')
}

/** The name the agent's argparse gives in its usage and errors when pyxray starts it (PYXRAY_PROG). */
export const PROFILE_PROG = { PYXRAY_PROG: 'pyxray profile' } as const

/** Runs the profiler; resolves to the script's exit code. `warn` prints a warning line. */
export async function runProfile(args: readonly string[], con: Console, warn: (text: string) => void = (t) => con.err(`pyxray profile: warning: ${t}\n`)): Promise<number> {
  const late = optionsAfterTarget(args)
  if (late.length) {
    const names = late.length === 1 ? late[0]! : `${late.slice(0, -1).join(', ')} and ${late.at(-1)!}`
    warn(`${names} ${late.length === 1 ? 'comes' : 'come'} after the script and ${late.length === 1 ? 'goes' : 'go'} to it, not to pyxray: put pyxray's options before the script (or mark the script with --)`)
  }
  const attach = splitAttach(args)
  if (attach.pid !== undefined) {
    const continuous = splitContinuous(attach.rest)
    const l = parseProfileArgs(continuous?.rest ?? attach.rest)
    if (l.runtime === 'pyodide') throw new UsageError('USAGE', '--pid samples a native CPython 3.14+ process; it cannot go with --runtime pyodide')
    if (continuous) {
      // --pid PID --every D --push URL: the attached sampler writes the windows (src/cli/profile-push.ts)
      checkProfileOutput(l.rest)
      const { sampler, args } = attachLaunch({ ...attach, pid: attach.pid, rest: l.rest }, l.python, l.verbose, con)
      return runContinuous(sampler, { ...continuous, rest: [...l.rest] }, con, args)
    }
    return runAttach({ ...attach, pid: attach.pid, rest: l.rest }, l.python, l.verbose, con)
  }
  if (attach.duration !== undefined) throw new UsageError('USAGE', '--duration goes with --pid (how long to sample a running process)')
  if (attach.asyncAware) throw new UsageError('USAGE', '--async-aware goes with --pid (asyncio task stacks of a running CPython 3.14+ process)')
  const continuous = splitContinuous(args)
  if (continuous) {
    if (splitRepeat(continuous.rest)) throw new UsageError('USAGE', '--every (continuous mode) profiles one run: it cannot go with --repeat')
    const l = parseProfileArgs(continuous.rest, warn)
    if (l.rest.length === 0) throw new UsageError('USAGE', 'profile needs a script (or -m module, or -c code); see pyxray profile --help')
    if (l.runtime === 'pyodide') throw new UsageError('USAGE', '--every samples the program from a thread: it needs a native CPython, not --runtime pyodide')
    checkProfileOutput(l.rest)
    const python = interpreter(l)
    if (l.verbose) con.err(`pyxray: profiling with ${python}\n`)
    return runContinuous(python, { ...continuous, rest: [...l.rest] }, con)
  }
  const repeated = splitRepeat(args)
  if (repeated) {
    const l = parseProfileArgs(repeated.args, warn)
    return runRepeatedProfile(repeated.n, l, () => interpreter(l), con)
  }
  const launch = parseProfileArgs(args, warn)
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
  const child = spawn(python, agentArgs('pyxray', launch.rest), { stdio: 'inherit', env: launchEnv(PROFILE_PROG) })
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
  return runPyodideProfile({ agentDir: agentDir(), argv: launch.rest, env: PROFILE_PROG, stdout: (t) => con.out(t), stderr: (t) => con.err(t) })
}

/** `pyxray profile --help`. */
export const PROFILE_HELP = `Usage: pyxray profile [options] script.py [args…] | -m module [args…] | -c code [args…]
       pyxray profile --pid PID [--duration S] [options]

Runs the script under pyxray's deterministic profiler in a native CPython 3.8+ (or, with --runtime
pyodide, in the embedded CPython 3.14 for pure-Python scripts) and writes a profile document
(JSON, with its schema in schema/profile.schema.json). The exit code is the script's. On CPython
3.14+, --mode sample runs the script untouched and samples it from a separate process
(PYXRAY_SAMPLER=thread: the sampler thread inside it, as on 3.8–3.13 and with --memory).

Options go before the script: everything after it (or after --) is the script's arguments. An
option of pyxray's written after the script still goes to the script, with a warning naming it.

Options (before the script):
      --pid PID             sample a running CPython 3.14+ process from outside (its interpreter's
                            _remote_debugging; the process is not changed), all its threads
      --duration S          with --pid: seconds to sample (default: until it ends or Ctrl-C)
      --async-aware         with --pid: asyncio task stacks (the running task, then the tasks
                            awaiting it) instead of the threads' stacks
      --python X.Y|PATH     the interpreter to run in (default: $PYXRAY_PYTHON, else python3)
      --runtime native|pyodide   pyodide: the embedded CPython 3.14 (one thread: trace mode only);
                            it sees the current folder, the script's and its arguments' folders
      --mode trace|sample   every call (default) or sampled stacks
      --memory              memory per call: net and peak bytes, allocations (C engine)
      --count instructions  also count the bytecode instructions each call path executes (trace
                            mode, Python engine): exact and the same on every run for pure-Python
                            code, compared by pyxray diff --metric instructions; times become
                            meaningless (every instruction calls the profiler), and C code, I/O
                            and waiting are not seen
      --clock wall|cpu|gil  time source (default wall); sampled from outside on 3.15: cpu counts
                            threads on a CPU, gil the thread holding the GIL
  -o, --output FILE         where to write the profile (default pyxray-profile.json; atomically,
                            never the script)
      --repeat N            run the script N times and store every run in one document, so that
                            pyxray diff can test changes for significance
      --include GLOB / --exclude GLOB   code to show or hide, by path or module
      --interval DURATION   sample mode: time between samples (default 1ms; 500us, 0.002s)
      --libraries first|all|none   library code: the first call into it (default), all, or none
      --no-builtins         no nodes for builtins (less overhead on 3.12+)
      --overhead auto|fresh|off|NS   per-call overhead to subtract (default: calibrated, cached)
      --top N               rows of the table at the end (default 15)
      --subprocesses merge|files   child processes (os.fork, multiprocessing with fork, spawn or
                            forkserver, subprocess/os.exec*/os.spawn* of a Python program) are
                            profiled with the same options: merge (default) adds each to the same
                            profile ("processes": pid, parent, argv, exit status, its threads);
                            files writes each to FILE.<pid>.json beside -o FILE instead
      --no-subprocesses     profile only the script's own process
      --every DURATION      continuous mode: cut the run into windows of DURATION (10s, 500ms)
                            and push each as pprof to --push while the program runs (sample
                            mode; -o still writes the whole run); with --pid, while the process
                            runs (until --duration, Ctrl-C or its end)
      --push URL            continuous mode: the Pyroscope server (http://localhost:4040)
      --push-protocol P     continuous mode: pyroscope (default) or parca (--push is then the
                            Parca server, http://localhost:7070)
      --name APP{k=v,…}     continuous mode: the application name in Pyroscope, with labels
      --tenant ID           continuous mode: X-Scope-OrgID
      --push-timeout S      continuous mode: seconds per request, and to flush the last window
                            at the end (default 10); credentials: PYXRAY_PUSH_TOKEN or
                            PYXRAY_PUSH_BASIC=user:password in the environment (pyxray push)
  -q, --quiet               no table at the end
  -v, --verbose             say which interpreter runs the script
  -h, --help                show this help (also: pyxray help profile)

Examples:
  pyxray profile -o run.json app.py --port 8000
  pyxray profile --mode sample -o run.json -m http.server
  pyxray profile -q -o c.json -c 'import json; json.dumps(list(range(10**6)))'
  pyxray profile --every 10s --push http://localhost:4040 --name app{env=dev} app.py
`

/** `pyxray profile`: the arguments go to the agent as they are (see {@link parseProfileArgs}). */
export const profileCommand = defineCommand({
  name: 'profile',
  synopsis: 'SCRIPT…',
  summary: 'profile a script: call tree with counts, times and memory (python -m pyxray)',
  help: PROFILE_HELP,
  options: Object.fromEntries(
    Object.entries({ ...PROFILER_OPTIONS, ...OWN_PROFILE_OPTIONS }).filter(([name]) => name.startsWith('--')).map(([name, kind]) => [name.slice(2), { type: kind === 'value' ? ('string' as const) : ('boolean' as const) }]),
  ),
  // Help only before the script: after it, -h is the script's.
  wantsHelp: (args) => args.slice(0, targetStart(args)).some((a) => a === '-h' || a === '--help'),
  parse: (args) => args,
  run: (args, ctx) => runProfile(args, ctx.con, ctx.warn),
})
