/**
 * `pyxray dis … --out-dir DIR` across cores: the main thread and worker threads (cli/dis-worker.ts)
 * take the inputs a few at a time from one shared counter, each reading, disassembling and writing
 * its own files, so a folder of uneven files keeps every core busy to the end. What the user sees
 * is what one thread would give: the same files, and the same error lines on stderr in the order of
 * the inputs (printed once all are done).
 */
import { availableParallelism, loadavg } from 'node:os'
import type { Worker } from 'node:worker_threads'
import { PLAIN } from '../bytecode/format/text.js'
import { describeError, type DisFileOptions, type DisInput, outputOf, writeInput } from './dis-file.js'
import { errnoError, startThread, Writer } from './dis-writer.js'
import { UsageError } from './errors.js'
import { PALETTE, type Progress } from './io.js'

/** Inputs taken per claim: few enough to share out uneven files, enough that claiming costs nothing. */
const CHUNK = 4
/** Below this many files a worker thread costs more to start (~40 ms of module loading) than it saves. */
const MIN_FILES = 48
/** More threads than this do not pay: the files' writes share one disk. */
const MAX_THREADS = 4

/** Slots of the shared state (Int32). */
export const enum Slot {
  /** The index of the next input to claim. */
  Next = 0,
  /** Set to 1 by a thread that met an unexpected error: the others stop claiming. */
  Stop = 1,
}
const SLOTS = 2

/** An input that could not be disassembled: its index and its one-line reason. */
export interface DisFailure {
  readonly index: number
  readonly line: string
}

/** Options a worker thread gets: the file options with the style by name (functions do not cross threads). */
export interface WorkerOptions extends Omit<DisFileOptions, 'style'> {
  readonly outDir: string
  readonly style: 'plain' | 'colors'
}

/** What a worker thread is given. */
export interface WorkerData {
  readonly inputs: readonly DisInput[]
  readonly options: WorkerOptions
  /** The Int32 slots of {@link Slot}. */
  readonly state: SharedArrayBuffer
}

/** What a worker thread reports when it is done. */
export type WorkerResult = { readonly kind: 'done'; readonly failures: DisFailure[]; readonly minors: number[] } | { readonly kind: 'internal'; readonly error: string }

/**
 * How many threads to write `files` outputs with: one below {@link MIN_FILES} files; else one per
 * idle core (the cores less the 1-minute load average, rounded; at least one, at most
 * {@link MAX_THREADS}). On a busy machine a second thread only adds its start-up and its own
 * just-in-time compilation to the work, so then the files are written by this thread alone.
 * `PYXRAY_THREADS=N` sets the number for any count of files (1: no worker thread).
 */
export function threadsFor(files: number, cores = availableParallelism(), load = loadavg()[0] ?? 0): number {
  const forced = process.env.PYXRAY_THREADS
  if (forced !== undefined && forced !== '') {
    if (!/^\d+$/.test(forced) || Number(forced) < 1 || Number(forced) > 64) {
      throw new UsageError('USAGE', `PYXRAY_THREADS takes a whole number of threads from 1 to 64, not "${forced}"`)
    }
    return Math.min(Number(forced), files)
  }
  if (files < MIN_FILES) return 1
  return Math.max(1, Math.min(Math.round(cores - load), cores, MAX_THREADS))
}

/**
 * Whether this thread's outputs go to a writer thread (cli/dis-writer.ts): for {@link MIN_FILES}
 * files or more. `PYXRAY_WRITER=0` writes them in this thread.
 */
export function usesWriter(files: number): boolean {
  return files >= MIN_FILES && process.env.PYXRAY_WRITER !== '0'
}

/** The options as a worker thread can be given them; undefined when the style is not one it knows. */
function workerOptions(o: DisFileOptions & { readonly outDir: string }): WorkerOptions | undefined {
  const style = o.style === PLAIN ? 'plain' : o.style === PALETTE ? 'colors' : undefined
  if (!style) return undefined
  return {
    format: o.format,
    showCaches: o.showCaches,
    showOffsets: o.showOffsets,
    showPositions: o.showPositions,
    outDir: o.outDir,
    style,
    ...(o.pythonVersion !== undefined ? { pythonVersion: o.pythonVersion } : {}),
    ...(o.maxOutputBytes !== undefined ? { maxOutputBytes: o.maxOutputBytes } : {}),
  }
}

/** The style a worker's options name. */
export function styleOf(name: WorkerOptions['style']): DisFileOptions['style'] {
  return name === 'colors' ? PALETTE : PLAIN
}

/**
 * Claims inputs from the shared counter and writes them until none is left (or another thread
 * stopped the run). Failures of an input are collected; an unexpected error stops the run and is
 * thrown. With a `writer`, the outputs go to its thread to be written (see cli/dis-writer.ts).
 */
export function drain(
  inputs: readonly DisInput[],
  o: DisFileOptions & { readonly outDir: string },
  state: Int32Array,
  failures: DisFailure[],
  minors: Set<number>,
  onFile?: (index: number, input: DisInput) => void,
  writer?: Writer,
): void {
  const folders = new Set<string>()
  for (;;) {
    if (Atomics.load(state, Slot.Stop) || writer?.stopped) return
    const start = Atomics.add(state, Slot.Next, CHUNK)
    if (start >= inputs.length) return
    for (let i = start; i < Math.min(start + CHUNK, inputs.length); i++) {
      const input = inputs[i]!
      onFile?.(i, input)
      try {
        if (writer) {
          const out = outputOf(input, o)
          minors.add(out.minor)
          writer.write(i, out.path, out.data)
        } else minors.add(writeInput(input, o, folders))
      } catch (e) {
        const line = describeError(input.path, e)
        if (line === undefined) {
          Atomics.store(state, Slot.Stop, 1)
          throw e
        }
        failures.push({ index: i, line })
      }
    }
  }
}

/** Starts a worker thread (cli/dis-worker.ts). Exported for the tests. */
export function startWorker(data: WorkerData): Worker {
  return startThread('dis-worker', data)
}

/** Waits for a worker thread's result; an error or an exit without one rejects. Exported for the tests. */
export function resultOf(worker: Worker): Promise<WorkerResult> {
  return new Promise<WorkerResult>((resolve, reject) => {
    let result: WorkerResult | undefined
    worker.on('message', (m: WorkerResult) => {
      result = m
    })
    worker.on('error', (e) => reject(new Error(`a pyxray dis worker thread failed: ${e.stack ?? e.message}`)))
    worker.on('exit', (code) => {
      if (result) resolve(result)
      else reject(new Error(`a pyxray dis worker thread stopped (exit code ${code}) before it was done`))
    })
  })
}

/**
 * Writes the output file of every input with `threads` threads (this one and threads − 1 workers),
 * this thread's outputs written by a writer thread when `writer` (see cli/dis-writer.ts).
 * Resolves to the inputs that failed, in input order, and the error that stopped the run (after
 * those inputs) if one did; undefined when the options cannot be handed to a worker thread (the
 * caller then writes the files itself).
 */
export async function runDisParallel(
  inputs: readonly DisInput[],
  o: DisFileOptions & { readonly outDir: string },
  threads: number,
  progress: Progress,
  onVersion?: (minor: number) => void,
  writer = false,
): Promise<{ failures: DisFailure[]; stop?: UsageError } | undefined> {
  const options = workerOptions(o)
  if (!options) return undefined
  const writes = writer ? Writer.start() : undefined
  const shared = new SharedArrayBuffer(SLOTS * Int32Array.BYTES_PER_ELEMENT)
  const state = new Int32Array(shared)
  const workers: Worker[] = []
  for (let i = 1; i < threads; i++) {
    try {
      workers.push(startWorker({ inputs, options, state: shared }))
    } catch {
      break // no more threads to be had (a resource limit): the ones started share the files
    }
  }
  const results = workers.map(resultOf)
  // Settled here too, so a worker that fails while this thread is busy is not an unhandled rejection.
  const settled = Promise.allSettled(results)
  const failures: DisFailure[] = []
  // The versions read, for the warnings about flags that do not apply to them.
  const minors = new Set<number>()
  try {
    drain(inputs, o, state, failures, minors, (i, input) => progress.update(i, input.rel), writes)
  } catch (e) {
    await Promise.all([...workers.map((w) => w.terminate()), writes?.terminate()])
    throw e
  }
  if (writes) {
    const written = await writes.finish().catch(async (e: unknown) => {
      await Promise.all(workers.map((w) => w.terminate()))
      throw e
    })
    if (written.internal !== undefined || written.usage) await Promise.all(workers.map((w) => w.terminate()))
    if (written.internal !== undefined) throw new Error(written.internal)
    for (const f of written.failures) failures.push({ index: f.index, line: describeError(inputs[f.index]!.path, errnoError(f))! })
    if (written.usage) {
      // As when this thread writes: the lines of the inputs before it, then the error that stopped the run.
      const stop = written.usage.index
      return { failures: failures.filter((f) => f.index < stop).sort((a, b) => a.index - b.index), stop: new UsageError('OUTPUT', written.usage.message) }
    }
  }
  for (const r of await settled) {
    if (r.status === 'rejected') throw r.reason
    if (r.value.kind === 'internal') throw new Error(r.value.error)
    failures.push(...r.value.failures)
    for (const m of r.value.minors) minors.add(m)
  }
  if (onVersion) for (const m of [...minors].sort((a, b) => a - b)) onVersion(m)
  return { failures: failures.sort((a, b) => a.index - b.index) }
}
