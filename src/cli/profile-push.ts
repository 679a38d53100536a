/**
 * Continuous mode: `pyxray profile --every 10s --push URL --name APP script.py` cuts a sample-mode
 * profile into consecutive windows and pushes one pprof per window to Pyroscope's ingest API
 * (src/pprof/push.ts) while the program runs; `pyxray profile --pid PID --every … --push …` does
 * the same for a running CPython 3.14+ process sampled from outside (python/pyxray/remote/_windows.py,
 * which writes the same snapshots), until --duration, Ctrl-C or the process's end.
 *
 * - The agent's sampler thread writes the tree so far every --every seconds to a spool folder
 *   (PYXRAY_WINDOWS, python/pyxray/_profile_sample.py); it never touches the network, so the
 *   program never waits for it. pyxray (this process) reads each snapshot, subtracts the previous
 *   one (nodes matched by their call path of (file, line, name) frames), and queues the window.
 * - The queue holds at most {@link QUEUE_LIMIT} windows; when it is full the oldest is dropped and
 *   counted. One request is in flight at a time; a failed one is retried up to {@link RETRIES}
 *   times with backoff (0.5 s, 1 s, 2 s…, each bounded by the time left); a window that still
 *   fails is dropped and counted.
 * - When the program ends (or Ctrl-C ends it), the last window is the whole run (-o, which is
 *   still written as usual) less the last snapshot; the queue is flushed within --push-timeout
 *   seconds, what is left then is dropped. The summary line on stderr says how many windows were
 *   delivered, retried and dropped. The exit code is the program's.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FlatProfileThread, ProfileDocument, ProfileFrame, ProfileNode, ProfileThread } from '../profile/document.js'
import { flattenProfile, PROFILE_VERSION } from '../profile/document.js'
import { pprofSampleTypes, toPprof } from '../pprof/index.js'
import { authorizationFromEnv, PushError, pushProfile, type PushProfile, pushUrl, type PushTarget } from '../pprof/push.js'
import { agentArgs, exitCodeOf, forwardSignals, launchEnv } from './agent-process.js'
import { UsageError } from './errors.js'
import type { Console } from './io.js'
import { splitOutput } from './profile-repeat.js'
import { PROFILER_VALUE_OPTIONS, targetStart } from './profiler-options.js'
import { readProfileFile } from './profile-file.js'
import { pushTargetOptions } from './push.js'
import { VERSION } from './version.js'

/** Windows waiting to be sent, at most. */
export const QUEUE_LIMIT = 8
/** Retries of a window after its first attempt. */
export const RETRIES = 3

/** The continuous-mode options of `pyxray profile`. */
export const CONTINUOUS_OPTIONS = ['--every', '--push', '--name', '--tenant', '--push-timeout', '--push-protocol'] as const

/** What `--every … --push …` asks for. */
export interface ContinuousRequest {
  readonly everySeconds: number
  readonly target: PushTarget
  /** The profiler's options and target, without the continuous ones. */
  readonly rest: string[]
}

/** A duration: 10s, 500ms, 2m or plain seconds. */
export function parseDuration(name: string, text: string | undefined): number {
  const m = text === undefined ? null : /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim())
  if (!m) throw new UsageError('USAGE', `${name} takes a duration (10s, 500ms, 2m), not "${text ?? ''}"`)
  const n = Number(m[1]) * (m[2] === 'ms' ? 0.001 : m[2] === 'm' ? 60 : 1)
  if (!(n >= 0.1) || n > 86400) throw new UsageError('USAGE', `${name} takes a duration from 100ms to 24h, not "${text}"`)
  return n
}

/** Takes the continuous options out of `args` (before the target); undefined when none is there. */
export function splitContinuous(args: readonly string[]): ContinuousRequest | undefined {
  const end = targetStart(args)
  const values: Record<string, string> = {}
  const rest: string[] = []
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    const name = a.split('=')[0]!
    if (i < end && (CONTINUOUS_OPTIONS as readonly string[]).includes(name)) {
      const inline = a.includes('=') ? a.slice(name.length + 1) : undefined
      const value = inline ?? args[++i]
      if (value === undefined) throw new UsageError('USAGE', `${name} needs a value`)
      values[name] = value
      continue
    }
    rest.push(a)
  }
  if (Object.keys(values).length === 0) return undefined
  if (values['--every'] === undefined || values['--push'] === undefined) throw new UsageError('USAGE', 'continuous mode needs both --every DURATION and --push URL (with --name APP)')
  const everySeconds = parseDuration('--every', values['--every'])
  const t = pushTargetOptions({ to: values['--push'], name: values['--name'], protocol: values['--push-protocol'], tenant: values['--tenant'], timeout: values['--push-timeout'] }, '--push', '--push-protocol')
  const authorization = authorizationFromEnv(process.env)
  return { everySeconds, target: { ...t, ...(authorization !== undefined ? { authorization } : {}) }, rest }
}

/** A cumulative snapshot: the frame table and every thread's flat nodes, with the time it was taken. */
interface Snapshot {
  readonly elapsedNs: number
  readonly startWallNs: number
  readonly python: string
  readonly intervalNs: number
  readonly frames: readonly ProfileFrame[]
  readonly threads: readonly FlatProfileThread[]
}

const frameKey = (f: ProfileFrame | undefined) => (f ? `${f.kind}\u0002${f.file}\u0002${f.firstlineno}\u0002${f.qualname}\u0002${f.module ?? ''}` : '?')
const threadKey = (t: { readonly id: number; readonly name: string }) => `${t.id}\u0002${t.name}`

/** Per thread, per call path: the self samples and self ns so far. */
type Totals = Map<string, Map<string, { samples: number; ns: number }>>

/** The node keys (call paths) of a flat thread, and each node's own samples. */
function selfValues(frames: readonly ProfileFrame[], t: FlatProfileThread): { keys: string[]; samples: number[] } {
  const keys: string[] = []
  const samples: number[] = t.nodes.map((n) => n.samples ?? 0)
  t.nodes.forEach((n) => {
    keys.push(n.parent === null ? '' : `${keys[n.parent]!}\u0001${frameKey(n.frame === null ? undefined : frames[n.frame])}`)
    if (n.parent !== null) samples[n.parent] = samples[n.parent]! - (n.samples ?? 0)
  })
  return { keys, samples: samples.map((x) => Math.max(0, x)) }
}

function totalsOf(s: Snapshot): Totals {
  const out: Totals = new Map()
  for (const t of s.threads) {
    const { keys, samples } = selfValues(s.frames, t)
    const m = new Map<string, { samples: number; ns: number }>()
    t.nodes.forEach((n, i) => m.set(keys[i]!, { samples: samples[i]!, ns: n.selfNs }))
    out.set(threadKey(t), m)
  }
  return out
}

/** The window `cur` − `prev` as a sample-mode document (undefined when nothing was sampled). */
export function windowDocument(cur: Snapshot, prev: Snapshot | undefined, clock: 'wall' | 'cpu' | 'gil'): ProfileDocument | undefined {
  const before = prev ? totalsOf(prev) : new Map()
  let windowSamples = 0
  const threads: ProfileThread[] = []
  for (const t of cur.threads) {
    const { keys, samples } = selfValues(cur.frames, t)
    const old = before.get(threadKey(t))
    const n = t.nodes.length
    const selfS = new Array<number>(n)
    const selfNs = new Array<number>(n)
    for (let i = 0; i < n; i++) {
      const o = old?.get(keys[i]!)
      selfS[i] = Math.max(0, samples[i]! - (o?.samples ?? 0))
      selfNs[i] = Math.max(0, t.nodes[i]!.selfNs - (o?.ns ?? 0))
    }
    const totS = selfS.slice()
    const totNs = selfNs.slice()
    for (let i = n - 1; i > 0; i--) {
      const p = t.nodes[i]!.parent!
      totS[p] = totS[p]! + totS[i]!
      totNs[p] = totNs[p]! + totNs[i]!
    }
    if (totS[0] === 0 && totNs[0] === 0) continue
    windowSamples = Math.max(windowSamples, totS[0]!)
    const built: (ProfileNode & { children: ProfileNode[] })[] = new Array(n)
    for (let i = 0; i < n; i++) {
      if (i > 0 && totS[i] === 0 && totNs[i] === 0) continue
      const node = { frame: t.nodes[i]!.frame, calls: 0, totalNs: totNs[i]!, selfNs: selfNs[i]!, samples: totS[i]!, children: [] as ProfileNode[] }
      built[i] = node
      if (i > 0) built[t.nodes[i]!.parent!]!.children.push(node)
    }
    for (const b of built) b?.children.sort((x, y) => y.totalNs - x.totalNs)
    threads.push({ id: t.id, name: t.name, main: t.main, root: built[0]! })
  }
  if (threads.length === 0) return undefined
  const fromNs = cur.startWallNs + (prev?.elapsedNs ?? 0)
  return {
    pyxray: 'profile',
    version: PROFILE_VERSION,
    metadata: {
      python: { implementation: 'CPython', version: cur.python },
      argv: [],
      cwd: '',
      startTime: new Date(Math.floor(fromNs / 1e6)).toISOString(),
      durationNs: Math.max(0, cur.elapsedNs - (prev?.elapsedNs ?? 0)),
      mode: 'sample',
      clock,
      overheadNsPerEvent: 0,
      partial: false,
      exitStatus: null,
      warnings: [],
      intervalNs: cur.intervalNs,
      samples: windowSamples,
    },
    frames: cur.frames,
    threads,
  }
}

/** The bounded queue and its sender (see the module comment). */
export class WindowPusher {
  delivered = 0
  retried = 0
  dropped = 0
  private readonly queue: PushProfile[] = []
  private sending: Promise<void> | undefined
  private closed = false
  private deadline = Infinity
  private wake: (() => void) | undefined

  constructor(
    private readonly target: PushTarget,
    private readonly log: (line: string) => void,
  ) {}

  /** Queues a window; drops the oldest when the queue is full. */
  add(p: PushProfile): void {
    if (this.queue.length >= QUEUE_LIMIT) {
      this.queue.shift()
      this.dropped++
      this.log(`window dropped: ${QUEUE_LIMIT} windows were already waiting for the server`)
    }
    this.queue.push(p)
    this.sending ??= this.loop().finally(() => (this.sending = undefined))
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined
        resolve()
      }, Math.max(0, Math.min(ms, this.deadline - Date.now())))
      this.wake = () => {
        clearTimeout(timer)
        resolve()
      }
    })
  }

  private async loop(): Promise<void> {
    while (this.queue.length > 0) {
      // Out of the queue while in flight: a full queue drops the oldest waiting window, not this one.
      const p = this.queue.shift()!
      let ok = false
      for (let attempt = 0; attempt <= RETRIES && !ok; attempt++) {
        if (attempt > 0) {
          if (Date.now() >= this.deadline) break
          this.retried++
          await this.sleep(500 * 2 ** (attempt - 1))
          if (Date.now() >= this.deadline) break
        }
        try {
          const left = this.deadline - Date.now()
          await pushProfile({ ...this.target, timeoutMs: Math.max(1, Math.min(this.target.timeoutMs, left)) }, p)
          ok = true
        } catch (e) {
          if (!(e instanceof PushError)) throw e
          this.log(`push failed${attempt < RETRIES ? '' : ', window dropped'}: ${e.message} [${e.code}]`)
        }
      }
      if (ok) this.delivered++
      else this.dropped++
      if (this.closed && Date.now() >= this.deadline) {
        this.dropped += this.queue.length
        this.queue.length = 0
      }
    }
  }

  /** Sends what is queued within `ms`; what is left then is dropped. */
  async flush(ms: number): Promise<void> {
    this.closed = true
    this.deadline = Date.now() + ms
    const timer = setTimeout(() => this.wake?.(), ms)
    try {
      while (this.sending) await this.sending
    } finally {
      clearTimeout(timer)
    }
  }
}

/** The value of --clock before the target (default wall). */
function clockOf(rest: readonly string[]): 'wall' | 'cpu' | 'gil' {
  const end = targetStart(rest)
  for (let i = 0; i < end; i++) {
    const a = rest[i]!
    const v = a === '--clock' ? rest[i + 1] : a.startsWith('--clock=') ? a.slice(8) : undefined
    if (v === 'cpu' || v === 'gil') return v
  }
  return 'wall'
}

/** The profiler's options with --mode sample (continuous mode samples: windows need no call counts). */
function sampleMode(rest: readonly string[]): string[] {
  const end = targetStart(rest)
  for (let i = 0; i < end; i++) {
    const a = rest[i]!
    const v = a === '--mode' ? rest[i + 1] : a.startsWith('--mode=') ? a.slice(7) : undefined
    if (v !== undefined && v !== 'sample') throw new UsageError('USAGE', `--every samples the program (--mode sample); --mode ${v} cannot be cut into windows`)
    if (v !== undefined) return [...rest]
    if (PROFILER_VALUE_OPTIONS.has(a)) i++
  }
  return ['--mode', 'sample', ...rest]
}

/**
 * Runs the program under the sampler and pushes its windows; resolves to the program's exit code.
 * With `attach` (`python -m pyxray.remote` arguments: `--pid PID`, python/pyxray/remote/_windows.py)
 * `python` is the sampler of a running process, which writes the last window itself; the
 * resolved code is the sampler's.
 */
export async function runContinuous(python: string, c: ContinuousRequest, con: Console, attach?: readonly string[]): Promise<number> {
  const rest = sampleMode(c.rest)
  const clock = clockOf(rest)
  const output = splitOutput(rest).output ?? 'pyxray-profile.json'
  const spool = mkdtempSync(join(tmpdir(), 'pyxray-windows-'))
  const log = (line: string) => con.err(`pyxray profile: ${line}\n`)
  const pusher = new WindowPusher(c.target, log)
  let prev: Snapshot | undefined
  let windows = 0
  const enqueue = (cur: Snapshot) => {
    const doc = windowDocument(cur, prev, clock)
    prev = cur
    if (!doc) return
    windows++
    const from = Date.parse(doc.metadata.startTime) / 1000
    pusher.add({ pprof: toPprof(doc, { producer: `pyxray@${VERSION}` }), from, until: from + doc.metadata.durationNs / 1e9, sampleRate: 1e9 / (doc.metadata.intervalNs ?? 1e6), sampleTypes: pprofSampleTypes(doc) })
  }
  const program = attach ? agentArgs('pyxray.remote', attach) : agentArgs('pyxray', rest)
  const child = spawn(python, program, { stdio: 'inherit', env: { ...launchEnv({ PYXRAY_PROG: 'pyxray profile' }), PYXRAY_WINDOWS: `${spool}:${c.everySeconds}`, PYXRAY_SAMPLER: 'thread' } })
  const stop = forwardSignals(child)
  const seen = new Set<string>()
  const poll = () => {
    let names: string[]
    try {
      names = readdirSync(spool)
    } catch {
      return
    }
    for (const name of names.filter((n) => n.startsWith(`window-${child.pid}-`) && n.endsWith('.json')).sort()) {
      if (seen.has(name)) continue
      seen.add(name)
      try {
        const s = JSON.parse(readFileSync(join(spool, name), 'utf8')) as Snapshot
        rmSync(join(spool, name), { force: true })
        enqueue(s)
      } catch (e) {
        log(`window ${name} unreadable (${e instanceof Error ? e.message : String(e)}): skipped`)
      }
    }
  }
  const timer = setInterval(poll, 100)
  let code: number
  try {
    code = await exitCodeOf(child, python)
  } finally {
    clearInterval(timer)
    stop()
  }
  poll()
  // The last window: the whole run less the last snapshot (an attached sampler wrote it as a snapshot).
  if (!attach) {
    try {
      const doc = readProfileFile(output)
      const flat = flattenProfile(doc)
      const startWallNs = prev?.startWallNs ?? Date.parse(doc.metadata.startTime) * 1e6
      enqueue({ elapsedNs: doc.metadata.durationNs, startWallNs, python: doc.metadata.python.version, intervalNs: doc.metadata.intervalNs ?? 1_000_000, frames: doc.frames, threads: flat.threads })
    } catch (e) {
      log(`the last window is lost: ${output} is unreadable (${e instanceof Error ? e.message : String(e)})`)
    }
  }
  await pusher.flush(c.target.timeoutMs)
  rmSync(spool, { recursive: true, force: true })
  con.err(`pyxray profile: ${windows} window${windows === 1 ? '' : 's'} of ${c.everySeconds} s for ${c.target.name} at ${pushUrl(c.target).href}: ${pusher.delivered} delivered, ${pusher.retried} retried, ${pusher.dropped} dropped\n`)
  return code
}
