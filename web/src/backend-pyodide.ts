/** The {@link Backend} of the static build: Pyodide in a Web Worker, no server. */
import type { ProfileDocument } from '../../src/profile/document.js'
import { AgentRuntime, type AgentResponse, agentError } from '../../src/runtime/agent.js'
import { type AstNode, RuntimeError } from '../../src/runtime/types.js'
import { FETCH_DEPTH } from '../../src/runtime/ast-slice.js'
import type { MeasureResult } from '../../src/bytecode/compare/index.js'
import { type AstNodeRequest, type Backend, BackendError, type LoadStage, type CompileRequest, type CompileResult, type MeasureOutcome, type MeasureRequest, type ProfileEntry, type RuntimeOption } from './backend.js'

const LOAD_TIMEOUT_MS = 120_000

/** The agent protocol over a Web Worker running Pyodide. */
export class WorkerRuntime extends AgentRuntime {
  readonly kind = 'pyodide' as const
  private worker: Worker | undefined
  private ready: Promise<Worker> | undefined
  private readonly pending = new Map<number, (r: AgentResponse) => void>()
  private nextId = 1
  /** How far the start has come, and who wants to know. */
  stage: LoadStage = 'fetch'
  private readonly stageListeners = new Set<(s: LoadStage) => void>()

  /** Follows the start's stages; returns the unsubscribe function. */
  onStage(listener: (s: LoadStage) => void): () => void {
    this.stageListeners.add(listener)
    listener(this.stage)
    return () => this.stageListeners.delete(listener)
  }

  private setStage(s: LoadStage): void {
    this.stage = s
    for (const l of this.stageListeners) l(s)
  }

  constructor(private readonly indexURL: string) {
    super()
  }

  private start(): Promise<Worker> {
    this.ready ??= new Promise<Worker>((resolve, reject) => {
      const worker = new Worker(new URL('./pyodide-worker.ts', import.meta.url), { type: 'module' })
      this.worker = worker
      const timer = setTimeout(() => reject(new RuntimeError('RUNTIME_TIMEOUT', `Pyodide did not load within ${LOAD_TIMEOUT_MS / 1000} s`)), LOAD_TIMEOUT_MS)
      worker.onmessage = (e: MessageEvent) => {
        const msg = e.data as { ready?: true; failed?: string; line?: string; stage?: LoadStage }
        if (msg.stage !== undefined) this.setStage(msg.stage)
        else if (msg.ready) {
          clearTimeout(timer)
          this.setStage('ready')
          resolve(worker)
        } else if (msg.failed !== undefined) {
          clearTimeout(timer)
          this.ready = undefined
          reject(new RuntimeError('RUNTIME_CRASHED', `Pyodide failed to load: ${msg.failed}`))
        } else if (msg.line !== undefined) {
          const response = JSON.parse(msg.line) as AgentResponse
          const done = response.id === undefined ? undefined : this.pending.get(response.id)
          if (done && response.id !== undefined) {
            this.pending.delete(response.id)
            done(response)
          }
        }
      }
      worker.onerror = (e) => {
        clearTimeout(timer)
        this.ready = undefined
        reject(new RuntimeError('RUNTIME_CRASHED', `the Pyodide worker failed: ${e.message}`))
      }
      worker.postMessage({ start: this.indexURL })
    })
    return this.ready
  }

  async request<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const worker = await this.start()
    const id = this.nextId++
    const response = await new Promise<AgentResponse>((resolve) => {
      this.pending.set(id, resolve)
      worker.postMessage({ line: JSON.stringify({ id, method, params }) })
    })
    if (response.error) throw agentError(response.error)
    return response.result as T
  }

  async close(): Promise<void> {
    this.worker?.terminate()
    this.worker = undefined
    this.ready = undefined
  }
}

/** Everything in the browser: Pyodide compiles; profiles come from files the user opens. */
export class PyodideBackend implements Backend {
  readonly kind = 'pyodide' as const
  readonly description = 'in the browser (Pyodide)'
  private readonly runtime: WorkerRuntime

  constructor(indexURL: string) {
    this.runtime = new WorkerRuntime(indexURL)
    // Start loading Pyodide at once: it takes seconds, and the first compile is not far behind.
    this.runtime.info().catch(() => {})
  }

  onLoadStage(listener: (s: LoadStage) => void): () => void {
    return this.runtime.onStage(listener)
  }

  async runtimes(): Promise<RuntimeOption[]> {
    return [{ id: 'pyodide', label: 'CPython 3.14 (Pyodide, in this browser)', version: '3.14', minor: 14 }]
  }

  async compile(request: CompileRequest): Promise<CompileResult> {
    try {
      const info = await this.runtime.info()
      const marshal = await this.runtime.compile(request.source, { optimize: request.optimize ?? -1 })
      // The tree's top levels (the worker keeps the whole tree for astNode).
      const ast = request.ast === false ? null : (await this.runtime.request<{ ast: AstNode }>('parse', { source: request.source, filename: '<string>', mode: 'exec', slice: { path: '' } })).ast
      return { ok: true, minor: info.minor, version: info.version, marshal, ast }
    } catch (e) {
      if (e instanceof RuntimeError && (e.code === 'SYNTAX_ERROR' || e.code === 'COMPILE_ERROR')) return { ok: false, message: e.message, syntax: e.syntax ?? null }
      throw new BackendError(e instanceof RuntimeError ? e.code : 'PYODIDE', e instanceof Error ? e.message : String(e))
    }
  }

  /** A subtree of the AST the worker parsed last for this source (parsed again if it was another). */
  async astNode(request: AstNodeRequest): Promise<AstNode> {
    try {
      return (await this.runtime.request<{ ast: AstNode }>('parse', { source: request.source, filename: '<string>', mode: 'exec', slice: { path: request.path, depth: FETCH_DEPTH } })).ast
    } catch (e) {
      throw new BackendError(e instanceof RuntimeError ? e.code : 'PYODIDE', e instanceof Error ? e.message : String(e))
    }
  }

  /** Runs the source in this browser's Pyodide (the worker that compiles: the code runs in the page's own sandbox). */
  async measure(request: MeasureRequest): Promise<MeasureOutcome> {
    try {
      // The agent's measure request (as src/runtime/measure.ts sends it; no adaptive code, so nothing to decode).
      const raw = await this.runtime.request<{ subjects: readonly Pick<MeasureResult, 'timing' | 'counts'>[] }>('measure', {
        subjects: [{ source: request.source, filename: '<string>', setup: null, call: null, optimize: request.optimize ?? -1 }],
        timing: true,
        counts: true,
        adaptive: false,
        repeat: request.repeat ?? 5,
        minTime: request.minTime ?? 0.05,
      })
      const m = raw.subjects[0]
      return { ok: true, measured: { timing: m?.timing ?? null, counts: m?.counts ?? null } }
    } catch (e) {
      if (e instanceof RuntimeError && (e.code === 'SYNTAX_ERROR' || e.code === 'COMPILE_ERROR' || e.code === 'RUN_ERROR')) return { ok: false, message: e.message }
      throw new BackendError(e instanceof RuntimeError ? e.code : 'PYODIDE', e instanceof Error ? e.message : String(e))
    }
  }

  async profiles(): Promise<ProfileEntry[]> {
    return []
  }

  async loadProfile(id: string): Promise<ProfileDocument> {
    throw new BackendError('NOT_FOUND', `no profile ${id}: the static build opens profiles from files (picker or drag and drop)`)
  }

  /** Source files the user opened, by file name (the browser gives no paths). */
  private readonly sources = new Map<string, string>()

  addSource(name: string, text: string): void {
    this.sources.set(name.split(/[\\/]/).pop() ?? name, text)
  }

  /** A file the user opened with the same name as `file` (a profile's absolute path). */
  async source(file: string): Promise<string | undefined> {
    return this.sources.get(file.split(/[\\/]/).pop() ?? file)
  }
}
