/**
 * A worker thread of `pyxray dis … --out-dir DIR` (see cli/dis-parallel.ts): claims inputs from the
 * shared counter, writes their output files, and reports the inputs that failed.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { type DisFailure, drain, styleOf, type WorkerData, type WorkerResult } from './dis-parallel.js'

const { inputs, options, state } = workerData as WorkerData
const failures: DisFailure[] = []
const minors = new Set<number>()
let result: WorkerResult
try {
  drain(inputs, { ...options, style: styleOf(options.style) }, new Int32Array(state), failures, minors)
  result = { kind: 'done', failures, minors: [...minors] }
} catch (e) {
  result = { kind: 'internal', error: e instanceof Error ? (e.stack ?? e.message) : String(e) }
}
parentPort?.postMessage(result)
