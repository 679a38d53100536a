/**
 * The writer thread of `pyxray dis … --out-dir DIR`: the thread that disassembles hands each output
 * (its bytes moved, not copied) to a thread that only writes files (cli/dis-writer-thread.ts). Making
 * a file costs the kernel about as much as disassembling it costs pyxray (an inode, a directory
 * entry, the pages), so on a machine with a spare core the two overlap instead of adding up. The
 * writer thread loads no more than Node's file functions, so it starts at once and has nothing to
 * compile. A bounded amount of text waits for it: past {@link MAX_QUEUED} bytes the disassembling
 * thread waits.
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { type MessagePort, Worker } from 'node:worker_threads'
import { writeFileAtomic } from './atomic-write.js'
import { UsageError } from './errors.js'

/** The most bytes of output waiting for the writer thread before the disassembling thread waits. */
const MAX_QUEUED = 16 << 20
/** Waits of 50 ms without a byte written after which the writer thread is taken for gone. */
const STALLED_WAITS = 1200

/** Int32 slots of the writer's shared state. */
const enum Slot {
  /** Bytes handed to the writer thread and not yet written. */
  Queued = 0,
  /** Set to 1 by the writer thread when it met an error that ends the run (it writes nothing more). */
  Stop = 1,
}
const SLOTS = 2

/** One output for the writer thread. */
export interface WriteJob {
  readonly index: number
  readonly path: string
  readonly data: Uint8Array | string
}

/** A file the writer thread could not write (a system error: the error's code, system call and message). */
export interface WriteFailure {
  readonly index: number
  readonly code: string
  readonly syscall: string
  readonly message: string
}

/** What the writer thread reports once it has been told the jobs are over. */
export interface WriterResult {
  readonly failures: WriteFailure[]
  /** A UsageError (OUTPUT: a folder where a file is to go) that stopped the writing. */
  readonly usage?: { readonly index: number; readonly message: string }
  /** An unexpected error that stopped the writing. */
  readonly internal?: string
}

/** What the writer thread is given. */
export interface WriterData {
  readonly state: SharedArrayBuffer
}

/** The main-side handle of a writer thread. */
export class Writer {
  private readonly state: Int32Array
  private readonly result: Promise<WriterResult>

  private constructor(
    private readonly worker: Worker,
    shared: SharedArrayBuffer,
  ) {
    this.state = new Int32Array(shared)
    this.result = new Promise<WriterResult>((resolve, reject) => {
      let result: WriterResult | undefined
      worker.on('message', (m: WriterResult) => {
        result = m
      })
      worker.on('error', (e) => reject(new Error(`the pyxray dis writer thread failed: ${e.stack ?? e.message}`)))
      worker.on('exit', (code) => {
        if (result) resolve(result)
        else reject(new Error(`the pyxray dis writer thread stopped (exit code ${code}) before it was done`))
      })
    })
    // Settled here too, so a writer that fails while this thread is busy is not an unhandled rejection.
    this.result.catch(() => undefined)
  }

  /** Starts a writer thread; undefined when no thread can be had (the caller writes itself). */
  static start(): Writer | undefined {
    const shared = new SharedArrayBuffer(SLOTS * Int32Array.BYTES_PER_ELEMENT)
    try {
      return new Writer(startThread('dis-writer-thread', { state: shared } satisfies WriterData), shared)
    } catch {
      return undefined
    }
  }

  /** Whether the writer thread stopped on an error: nothing more is worth making. */
  get stopped(): boolean {
    return Atomics.load(this.state, Slot.Stop) !== 0
  }

  /** Hands one output to the writer thread (its bytes are moved: `data` is unusable here afterwards). */
  write(index: number, path: string, data: Uint8Array | string): void {
    const size = typeof data === 'string' ? data.length : data.byteLength
    let waited = 0
    for (let last = -1; ; ) {
      const queued = Atomics.load(this.state, Slot.Queued)
      if (queued <= MAX_QUEUED || Atomics.load(this.state, Slot.Stop)) break
      // A writer thread that writes nothing for a minute is gone (its exit cannot be heard while
      // this thread waits): fail rather than wait forever.
      waited = queued === last ? waited + 1 : 0
      if (waited > STALLED_WAITS) throw new Error('the pyxray dis writer thread stopped writing (nothing written for a minute)')
      last = queued
      Atomics.wait(this.state, Slot.Queued, queued, 50)
    }
    Atomics.add(this.state, Slot.Queued, size)
    const job: WriteJob = { index, path, data }
    const whole = typeof data !== 'string' && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer
    this.worker.postMessage(job, whole ? [data.buffer as ArrayBuffer] : [])
  }

  /** Tells the writer thread the jobs are over; resolves once every file is written, to what failed. */
  finish(): Promise<WriterResult> {
    this.worker.postMessage(null)
    return this.result
  }

  /** Stops the writer thread at once (the run failed). */
  async terminate(): Promise<void> {
    await this.worker.terminate()
  }
}

/**
 * Starts a worker thread running `name` (a module of cli/): its .js beside this one (tsc's dist/cli/,
 * or the bundle's dist/bundle/, where scripts/build-cli.mjs makes each thread an entry of its own),
 * or under tsx (sources, tests) its .ts.
 */
export function startThread(name: string, data: unknown): Worker {
  const here = import.meta.url
  if (!here.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, here), { workerData: data })
  // Node 20's worker threads do not inherit the --import hooks: the worker registers tsx itself.
  const entry = new URL(`./${name}.ts`, here).href
  const tsx = import.meta.resolve('tsx/esm/api')
  return new Worker(`import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry)}) })`, { eval: true, workerData: data })
}

/**
 * The writer thread's side: writes each job as it comes (making each output folder once), until
 * the null that ends the jobs; then posts its {@link WriterResult}. Run by cli/dis-writer-thread.ts.
 */
export function serveWrites(port: MessagePort, data: WriterData): void {
  const state = new Int32Array(data.state)
  const folders = new Set<string>()
  const failures: WriteFailure[] = []
  let usage: WriterResult['usage']
  let internal: string | undefined
  port.on('message', (job: WriteJob | null) => {
    if (job === null) {
      port.postMessage({ failures, ...(usage ? { usage } : {}), ...(internal !== undefined ? { internal } : {}) } satisfies WriterResult)
      port.close()
      return
    }
    const size = typeof job.data === 'string' ? job.data.length : job.data.byteLength
    try {
      if (!usage && internal === undefined) {
        const folder = dirname(job.path)
        if (!folders.has(folder)) {
          mkdirSync(folder, { recursive: true })
          folders.add(folder)
        }
        writeFileAtomic(job.path, job.data, { folderExists: true, fsync: false })
      }
    } catch (e) {
      const errno = e as NodeJS.ErrnoException
      if (e instanceof UsageError) usage = { index: job.index, message: e.message }
      else if (e instanceof Error && typeof errno.code === 'string' && typeof errno.syscall === 'string') failures.push({ index: job.index, code: errno.code, syscall: errno.syscall, message: e.message })
      else internal = e instanceof Error ? (e.stack ?? e.message) : String(e)
      if (usage || internal !== undefined) Atomics.store(state, Slot.Stop, 1)
    } finally {
      Atomics.sub(state, Slot.Queued, size)
      Atomics.notify(state, Slot.Queued)
    }
  })
}

/** A system error as the writer thread reported it, for describeError (cli/dis-file.ts). */
export function errnoError(f: WriteFailure): NodeJS.ErrnoException {
  return Object.assign(new Error(f.message), { code: f.code, syscall: f.syscall })
}
