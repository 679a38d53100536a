/**
 * The embedded runtime in Node: CPython 3.14 compiled to WebAssembly (npm `pyodide`), in a worker
 * thread, loaded lazily once, behind the same interface as the native runtime.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { AgentRuntime, type AgentResponse, agentError } from '../agent.js'
import { type RequestOptions, RuntimeError } from '../types.js'

const LOAD_TIMEOUT_MS = 60_000

/**
 * The worker thread: loads Pyodide once, installs the agent's files into its file system and
 * answers JSON-line requests by calling the agent's handle_json (python/pyxray/protocol.py).
 */
const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
import(workerData.pyodideUrl).then(async ({ loadPyodide }) => {
  const py = await loadPyodide({ indexURL: workerData.indexURL, stdout: () => {}, stderr: () => {} })
  py.FS.mkdirTree('/pyxray-agent/pyxray')
  for (const f of workerData.files) py.FS.writeFile('/pyxray-agent/pyxray/' + f.name, f.text)
  py.runPython("import sys; sys.path.insert(0, '/pyxray-agent')")
  const handle = py.pyimport('pyxray.protocol').handle_json
  parentPort.on('message', (line) => parentPort.postMessage(handle(line)))
  parentPort.postMessage({ ready: true })
})
`
const DEFAULT_TIMEOUT_MS = 60_000

/** Pyodide in a Node worker thread. */
export class PyodideRuntime extends AgentRuntime {
  readonly kind = 'pyodide' as const
  private worker: Worker | undefined
  private started: Promise<Worker> | undefined
  private readonly pending = new Map<number, { resolve: (r: AgentResponse) => void; reject: (e: Error) => void }>()
  private nextId = 1

  constructor(private readonly agentDir: string) {
    super()
  }

  private start(): Promise<Worker> {
    if (this.started) return this.started
    const files = readdirSync(join(this.agentDir, 'pyxray'))
      .filter((n) => n.endsWith('.py'))
      .map((name) => ({ name, text: readFileSync(join(this.agentDir, 'pyxray', name), 'utf8') }))
    const pyodideUrl = import.meta.resolve('pyodide')
    this.started = new Promise<Worker>((resolve, reject) => {
      // The thread's code is plain JS evaluated in the worker, so it runs the same from src/ (tsx)
      // and dist/; it imports Pyodide by the URL resolved here.
      const worker = new Worker(THREAD_SOURCE, { eval: true, workerData: { files, pyodideUrl, indexURL: fileURLToPath(new URL('.', pyodideUrl)) } })
      this.worker = worker
      const timer = setTimeout(() => {
        reject(new RuntimeError('RUNTIME_TIMEOUT', `Pyodide did not load within ${LOAD_TIMEOUT_MS / 1000} s`))
        void worker.terminate()
      }, LOAD_TIMEOUT_MS)
      worker.on('message', (msg: string | { ready: true }) => {
        if (typeof msg !== 'string') {
          clearTimeout(timer)
          resolve(worker)
          return
        }
        const response = JSON.parse(msg) as AgentResponse
        const p = response.id === undefined ? undefined : this.pending.get(response.id)
        if (p && response.id !== undefined) {
          this.pending.delete(response.id)
          p.resolve(response)
        }
      })
      const fail = (err: Error) => {
        clearTimeout(timer)
        for (const p of this.pending.values()) p.reject(err)
        this.pending.clear()
        this.worker = undefined
        this.started = undefined
        reject(err)
      }
      worker.on('error', (e) => fail(new RuntimeError('RUNTIME_CRASHED', `the Pyodide runtime failed: ${e.message}`)))
      worker.on('exit', (code) => fail(new RuntimeError('RUNTIME_CRASHED', `the Pyodide runtime stopped (exit code ${code})`)))
      worker.unref()
    })
    return this.started
  }

  async request<T>(method: string, params: Record<string, unknown> = {}, options: RequestOptions = {}): Promise<T> {
    const worker = await this.start()
    const id = this.nextId++
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
    const response = await new Promise<AgentResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new RuntimeError('RUNTIME_TIMEOUT', `Pyodide did not answer "${method}" within ${timeoutMs} ms; the runtime was stopped`))
        void worker.terminate()
      }, timeoutMs)
      this.pending.set(id, {
        resolve: (r) => {
          clearTimeout(timer)
          resolve(r)
        },
        reject: (e) => {
          clearTimeout(timer)
          reject(e)
        },
      })
      worker.postMessage(JSON.stringify({ id, method, params }))
    })
    if (response.error) throw agentError(response.error)
    return response.result as T
  }

  async close(): Promise<void> {
    const w = this.worker
    this.worker = undefined
    this.started = undefined
    if (w) await w.terminate()
  }
}
