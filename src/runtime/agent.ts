/**
 * The agent protocol, shared by every runtime: requests `{id, method, params}`, responses
 * `{id, result}` or `{id, error: {code, message, …}}` (see python/pyxray/protocol.py).
 */
import {
  type AstNode,
  type CompileOptions,
  fromBase64,
  toBase64,
  type ParseOptions,
  type PythonRuntime,
  type RequestOptions,
  RuntimeError,
  type RuntimeErrorCode,
  type RuntimeInfo,
  type RuntimeKind,
} from './types.js'

/** A response line from the agent. */
export interface AgentResponse {
  readonly id?: number
  readonly result?: unknown
  readonly error?: { readonly code?: string; readonly message?: string; readonly [k: string]: unknown }
}

const AGENT_CODES: ReadonlySet<string> = new Set(['SYNTAX_ERROR', 'COMPILE_ERROR', 'RUN_ERROR'])

/** Turns an agent error object into a RuntimeError. */
export function agentError(error: NonNullable<AgentResponse['error']>): RuntimeError {
  const code = (AGENT_CODES.has(error.code ?? '') ? error.code : 'AGENT_ERROR') as RuntimeErrorCode
  return new RuntimeError(code, error.message ?? 'the agent reported an error', { ...error })
}

/**
 * The runtime operations, written once over a request function; each runtime supplies only how a
 * request reaches the agent and how the agent is started and stopped.
 */
export abstract class AgentRuntime implements PythonRuntime {
  abstract readonly kind: RuntimeKind
  private infoCache?: Promise<RuntimeInfo>

  abstract request<T>(method: string, params?: Record<string, unknown>, options?: RequestOptions): Promise<T>
  abstract close(): Promise<void>

  info(): Promise<RuntimeInfo> {
    this.infoCache ??= this.request<{ implementation: string; version: string; versionInfo: number[]; magic: number; executable: string }>('info').then(
      (i) => ({
        kind: this.kind,
        implementation: i.implementation,
        version: i.version,
        minor: i.versionInfo[1] ?? 0,
        magic: i.magic,
        executable: this.kind === 'pyodide' ? `pyodide (CPython ${i.version} in WebAssembly)` : i.executable,
      }),
    )
    this.infoCache.catch(() => {
      this.infoCache = undefined
    })
    return this.infoCache
  }

  async compile(source: string | Uint8Array, options: CompileOptions = {}): Promise<Uint8Array> {
    const r = await this.request<{ marshal: string }>('compile', {
      // Bytes go as they are, so Python itself applies the coding cookie or BOM.
      ...(typeof source === 'string' ? { source } : { sourceBase64: toBase64(source) }),
      filename: options.filename ?? '<string>',
      mode: options.mode ?? 'exec',
      optimize: options.optimize ?? -1,
    })
    return fromBase64(r.marshal)
  }

  async parse(source: string, options: ParseOptions = {}): Promise<AstNode> {
    const r = await this.request<{ ast: AstNode }>('parse', {
      source,
      filename: options.filename ?? '<string>',
      mode: options.mode ?? 'exec',
    })
    return r.ast
  }
}
