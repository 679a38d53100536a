/**
 * A native CPython runtime: one long-lived agent process per interpreter, speaking JSON lines over
 * stdio. Requests carry ids and time out; a worker that dies fails its pending requests with an
 * error naming the interpreter, and is started again by the next request.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { AgentRuntime, type AgentResponse, agentError } from '../agent.js'
import { type RequestOptions, RuntimeError } from '../types.js'

const DEFAULT_TIMEOUT_MS = 30_000
const START_TIMEOUT_MS = 20_000

interface Pending {
  readonly method: string
  readonly resolve: (v: unknown) => void
  readonly reject: (e: Error) => void
  readonly timer: ReturnType<typeof setTimeout>
}

/** The program that starts the agent: isolated mode, the agent's folder first on sys.path. */
export function bootstrap(agentDir: string): string {
  return `import sys; sys.path.insert(0, ${JSON.stringify(agentDir)}); from pyxray.worker import main; main()`
}

/** A CPython interpreter on this machine, reached through a worker process. */
export class NativeRuntime extends AgentRuntime {
  readonly kind = 'native' as const
  private proc: ChildProcess | undefined
  private started: Promise<void> | undefined
  private readonly pending = new Map<number, Pending>()
  private nextId = 1
  private stderrTail = ''

  constructor(
    /** Path of the python executable. */
    readonly executable: string,
    /** Folder that holds the `pyxray` agent package. */
    private readonly agentDir: string,
    /** How to name the interpreter in errors, e.g. "python3.12 (/usr/bin/python3.12)". */
    private readonly label = executable,
  ) {
    super()
  }

  private start(): Promise<void> {
    if (this.started) return this.started
    this.started = new Promise<void>((resolve, reject) => {
      let proc: ChildProcess
      try {
        proc = spawn(this.executable, ['-I', '-u', '-c', bootstrap(this.agentDir)], { stdio: ['pipe', 'pipe', 'pipe'] })
      } catch (e) {
        reject(new RuntimeError('RUNTIME_NOT_FOUND', `cannot start ${this.label}: ${(e as Error).message}`))
        return
      }
      this.proc = proc
      this.stderrTail = ''
      let ready = false
      let buffer = ''
      const timer = setTimeout(() => {
        reject(new RuntimeError('RUNTIME_TIMEOUT', `${this.label} did not start the pyxray agent within ${START_TIMEOUT_MS / 1000} s`))
        proc.kill('SIGKILL')
      }, START_TIMEOUT_MS)
      // Writing to a worker that just died fails with EPIPE; the 'exit' handler reports it.
      proc.stdin?.on('error', () => {})
      proc.stdout?.setEncoding('utf8')
      proc.stderr?.setEncoding('utf8')
      proc.stderr?.on('data', (chunk: string) => {
        this.stderrTail = (this.stderrTail + chunk).slice(-4000)
      })
      proc.stdout?.on('data', (chunk: string) => {
        buffer += chunk
        for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
          const line = buffer.slice(0, nl)
          buffer = buffer.slice(nl + 1)
          if (!line.trim()) continue
          let msg: AgentResponse & { ready?: boolean }
          try {
            msg = JSON.parse(line)
          } catch {
            this.failAll(new RuntimeError('RUNTIME_PROTOCOL', `${this.label} sent a line that is not JSON: ${line.slice(0, 200)}`))
            continue
          }
          if (!ready) {
            if (msg.ready) {
              ready = true
              clearTimeout(timer)
              resolve()
            }
            continue
          }
          this.settle(msg)
        }
      })
      proc.on('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer)
        const err = new RuntimeError(
          e.code === 'ENOENT' ? 'RUNTIME_NOT_FOUND' : 'RUNTIME_CRASHED',
          e.code === 'ENOENT' ? `${this.label} not found: install it or pass --python with another interpreter` : `${this.label}: ${e.message}`,
        )
        this.reset(err)
        reject(err)
      })
      proc.on('exit', (code, signal) => {
        clearTimeout(timer)
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`
        const tail = this.stderrTail.trim() ? `: ${this.stderrTail.trim().split('\n').slice(-3).join(' | ')}` : ''
        const err = new RuntimeError('RUNTIME_CRASHED', `${this.label} ${how}${ready ? '' : ' before the pyxray agent started'}${tail}`)
        this.reset(err)
        reject(err)
      })
      // A worker must not keep the Node process alive by itself.
      proc.unref()
      ;(proc.stdout as unknown as { unref?: () => void } | null)?.unref?.()
      ;(proc.stderr as unknown as { unref?: () => void } | null)?.unref?.()
      ;(proc.stdin as unknown as { unref?: () => void } | null)?.unref?.()
    })
    return this.started
  }

  private settle(msg: AgentResponse): void {
    const p = msg.id === undefined ? undefined : this.pending.get(msg.id)
    if (!p || msg.id === undefined) return
    this.pending.delete(msg.id)
    clearTimeout(p.timer)
    if (msg.error) p.reject(agentError(msg.error))
    else p.resolve(msg.result)
  }

  private failAll(err: Error): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer)
      this.pending.delete(id)
      p.reject(new RuntimeError((err as RuntimeError).code ?? 'RUNTIME_CRASHED', `${err.message} (while handling "${p.method}")`))
    }
  }

  /** Forgets the dead worker: pending requests fail, the next request starts a new one. */
  private reset(err: Error): void {
    this.failAll(err)
    this.proc = undefined
    this.started = undefined
  }

  async request<T>(method: string, params: Record<string, unknown> = {}, options: RequestOptions = {}): Promise<T> {
    await this.start()
    const proc = this.proc
    if (!proc?.stdin) throw new RuntimeError('RUNTIME_CRASHED', `${this.label} is not running`)
    const id = this.nextId++
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new RuntimeError('RUNTIME_TIMEOUT', `${this.label} did not answer "${method}" within ${timeoutMs} ms; the worker was stopped`))
        proc.kill('SIGKILL')
      }, timeoutMs)
      this.pending.set(id, { method, resolve: resolve as (v: unknown) => void, reject, timer })
      proc.stdin?.write(`${JSON.stringify({ id, method, params })}\n`)
    })
  }

  async close(): Promise<void> {
    const proc = this.proc
    if (!proc) return
    this.proc = undefined
    this.started = undefined
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        proc.kill('SIGKILL')
        resolve()
      }, 2000)
      proc.once('exit', () => {
        clearTimeout(timer)
        resolve()
      })
      proc.stdin?.end()
    })
  }

  /** The worker's process id (for tests and diagnostics); undefined when not running. */
  get pid(): number | undefined {
    return this.proc?.pid
  }
}
