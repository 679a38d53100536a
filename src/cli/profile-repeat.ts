/**
 * Repeated profiles: `pyxray profile --repeat N …` runs the profiler N times and stores every run
 * in one document (`runs`, schema/profile.schema.json), and `pyxray diff --ab` runs two commands
 * interleaved. Each run is a separate `python -m pyxray` process writing a temporary profile, read
 * back and validated, then merged by src/profile/runs.ts.
 */
import { escapeMessage } from '../text/escape.js'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ProfileDocument } from '../profile/document.js'
import { mergeRuns } from '../profile/runs.js'
import { RuntimeError } from '../runtime/index.js'
import { agentArgs, exitCodeOf, forwardSignals, launchEnv } from './agent-process.js'
import { UsageError } from './errors.js'
import { checkOutputPath, type Console } from './io.js'
import { readProfileFile, writeProfileFile } from './profile-file.js'
import { targetStart } from './profiler-options.js'

/** A positive whole number of runs, or a usage error. */
export function parseRepeat(value: string | undefined, option = '--repeat'): number {
  const n = Number(value)
  if (value === undefined || !/^\d+$/.test(value.trim()) || n < 1) throw new UsageError('USAGE', `${option} takes a whole number of runs >= 1, not ${value === undefined ? 'nothing' : `"${value}"`}`)
  return n
}

/** Takes `--repeat N` (or `--repeat=N`) out of the options before the target; undefined when absent. */
export function splitRepeat(args: readonly string[]): { n: number; args: string[] } | undefined {
  const end = targetStart(args)
  for (let i = 0; i < end; i++) {
    const a = args[i]!
    if (a === '--repeat' || a.startsWith('--repeat=')) {
      const inline = a.startsWith('--repeat=')
      const n = parseRepeat(inline ? a.slice('--repeat='.length) : args[i + 1])
      return { n, args: [...args.slice(0, i), ...args.slice(i + (inline ? 1 : 2))] }
    }
  }
  return undefined
}

/** Profiler options and target with the output option taken out; `output` is its value. */
export function splitOutput(rest: readonly string[]): { output?: string; rest: string[] } {
  const end = targetStart(rest)
  const out: string[] = []
  let output: string | undefined
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!
    if (i < end && (a === '-o' || a === '--output')) {
      output = rest[++i]
      continue
    }
    if (i < end && a.startsWith('--output=')) {
      output = a.slice('--output='.length)
      continue
    }
    out.push(a)
  }
  return { ...(output !== undefined ? { output } : {}), rest: out }
}

/** One run of the agent's profiler writing to `output`; resolves to the script's exit code. */
export function runProfilerOnce(python: string, rest: readonly string[], output: string, env: Record<string, string> = {}): Promise<number> {
  const { rest: args } = splitOutput(rest)
  const end = targetStart(args)
  // A repeated profile is the script's own process (runs merge per process; children would be dropped).
  const argv = agentArgs('pyxray', ['--no-subprocesses', ...args.slice(0, end), '--quiet', '-o', output, ...args.slice(end)])
  const child = spawn(python, argv, { stdio: ['inherit', 'inherit', 'inherit'], env: launchEnv({ PYXRAY_PROG: 'pyxray profile', ...env }) })
  const stop = forwardSignals(child)
  return exitCodeOf(child, python).finally(stop)
}

/** One command of a set of repeated runs. */
export interface RunPlan {
  /** Profiler options, then the target and its arguments. */
  readonly rest: readonly string[]
  /** Extra environment (e.g. from `NAME=value cmd` in --ab). */
  readonly env?: Record<string, string>
}

/**
 * Runs each plan `n` times, interleaved (plan 0, plan 1, plan 0, plan 1, …), and returns one
 * repeated document per plan, plus the first non-zero exit status (0 if none). A run interrupted
 * with Ctrl-C stops the series; what ran is kept.
 */
export async function runInterleaved(python: string, plans: readonly RunPlan[], n: number, con: Console, label = (p: number, i: number) => `run ${i + 1}/${n}${plans.length > 1 ? ` of ${String.fromCharCode(65 + p)}` : ''}`): Promise<{ docs: ProfileDocument[]; status: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'pyxray-repeat-'))
  const files: string[][] = plans.map(() => [])
  let status = 0
  let interrupted = false
  const onSigint = () => {
    interrupted = true
  }
  process.on('SIGINT', onSigint)
  try {
    for (let i = 0; i < n && !interrupted; i++) {
      for (let p = 0; p < plans.length && !interrupted; p++) {
        const file = join(dir, `p${p}-r${i}.json`)
        if (process.stderr.isTTY) con.err(`pyxray: ${label(p, i)}\n`)
        const code = await runProfilerOnce(python, plans[p]!.rest, file, plans[p]!.env)
        if (code === 130) interrupted = true
        if (code !== 0 && status === 0) status = code
        files[p]!.push(file)
      }
    }
    const docs = files.map((list, p) => {
      const read = list.flatMap((f) => {
        try {
          return [readProfileFile(f)]
        } catch (e) {
          con.err(`pyxray: ${label(p, list.indexOf(f))} wrote no usable profile: ${escapeMessage(e instanceof Error ? e.message : String(e))}\n`)
          return []
        }
      })
      if (read.length === 0) throw new RuntimeError('RUN_ERROR', `no run${plans.length > 1 ? ` of ${String.fromCharCode(65 + p)}` : ''} wrote a profile (exit status ${status})`)
      return mergeRuns(read)
    })
    return { docs, status }
  } finally {
    process.off('SIGINT', onSigint)
    rmSync(dir, { recursive: true, force: true })
  }
}

/** `pyxray profile --repeat N …`: N runs merged into one document; resolves to the first non-zero exit status. */
export async function runRepeatedProfile(n: number, launch: { runtime?: string; verbose: boolean; rest: readonly string[] }, python: () => string, con: Console): Promise<number> {
  if (launch.runtime === 'pyodide') throw new UsageError('USAGE', '--repeat runs a native CPython; it does not work with --runtime pyodide')
  const { output = 'pyxray-profile.json', rest } = splitOutput(launch.rest)
  if (rest.length === 0 || targetStart(rest) === rest.length) throw new UsageError('USAGE', 'profile needs a script (or -m module, or -c code); see pyxray profile --help')
  const script = rest[targetStart(rest)] === '--' ? rest[targetStart(rest) + 1] : rest[targetStart(rest)]
  checkOutputPath(output, script !== undefined && script !== '-m' && script !== '-c' ? [script] : [], '-o')
  const exe = python()
  if (launch.verbose) con.err(`pyxray: profiling with ${exe}, ${n} runs\n`)
  const { docs, status } = await runInterleaved(exe, [{ rest }], n, con)
  const doc = docs[0]!
  writeProfileFile(output, doc)
  const times = (doc.runs ?? []).map((r) => r.metadata.durationNs / 1e6)
  con.err(`pyxray: ${times.length} run${times.length === 1 ? '' : 's'} (${Math.min(...times).toFixed(1)}–${Math.max(...times).toFixed(1)} ms each) written to ${output}\n`)
  return status
}
