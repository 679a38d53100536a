/**
 * The runtime interface: a Python interpreter pyxray talks to through the agent (python/pyxray).
 * Browser-safe: no Node APIs here.
 */

/** What a runtime says about itself (the agent's `info`). */
export interface RuntimeInfo {
  /** 'native' — a CPython process on this machine; 'pyodide' — CPython compiled to WebAssembly. */
  readonly kind: RuntimeKind
  readonly implementation: string
  /** Full version, e.g. "3.12.1". */
  readonly version: string
  /** Minor version number (12 for 3.12). */
  readonly minor: number
  /** importlib.util.MAGIC_NUMBER as a uint16. */
  readonly magic: number
  /** The interpreter's path (native) or a description (pyodide). */
  readonly executable: string
}

export type RuntimeKind = 'native' | 'pyodide'

/** Options of {@link PythonRuntime.compile} (as Python's compile()). */
export interface CompileOptions {
  /** co_filename of the result; default "<string>". */
  readonly filename?: string
  readonly mode?: 'exec' | 'eval' | 'single'
  /** -1 (the interpreter's), 0, 1 (no asserts) or 2 (no asserts, no docstrings). */
  readonly optimize?: -1 | 0 | 1 | 2
}

/** Options of {@link PythonRuntime.parse}. */
export interface ParseOptions {
  readonly filename?: string
  readonly mode?: 'exec' | 'eval' | 'single'
}

/** An AST node as the agent sends it: `_type` plus every field and position attribute. */
export interface AstNode {
  readonly _type: string
  readonly [field: string]: unknown
}

/** Options of one agent request. */
export interface RequestOptions {
  /** Milliseconds before the request fails with RUNTIME_TIMEOUT (default 30 s). */
  readonly timeoutMs?: number
}

/** A Python interpreter reached through the pyxray agent. */
export interface PythonRuntime {
  readonly kind: RuntimeKind
  /** Version and identity; starts the runtime if needed. */
  info(): Promise<RuntimeInfo>
  /** Compiles source (text, or a file's bytes with their own encoding); returns marshal.dumps of the module's code object. */
  compile(source: string | Uint8Array, options?: CompileOptions): Promise<Uint8Array>
  /** Parses source into the agent's AST JSON. */
  parse(source: string, options?: ParseOptions): Promise<AstNode>
  /** Any agent method: the channel later capabilities (compare, profile, memory) use. */
  request<T>(method: string, params?: Record<string, unknown>, options?: RequestOptions): Promise<T>
  /** Stops the runtime (a later request starts it again). */
  close(): Promise<void>
}

/** Why a runtime request failed. */
export type RuntimeErrorCode =
  | 'RUNTIME_NOT_FOUND'
  | 'RUNTIME_UNSUPPORTED'
  | 'RUNTIME_CRASHED'
  | 'RUNTIME_TIMEOUT'
  | 'RUNTIME_PROTOCOL'
  | 'SYNTAX_ERROR'
  | 'COMPILE_ERROR'
  /** The user's code raised while the agent ran it (`measure`). */
  | 'RUN_ERROR'
  | 'AGENT_ERROR'

/** A Python syntax error, with CPython's location fields (1-based lines, 1-based offsets). */
export interface SyntaxErrorDetails {
  readonly type: string
  readonly message: string
  readonly filename: string | null
  readonly lineno: number | null
  readonly offset: number | null
  readonly end_lineno: number | null
  readonly end_offset: number | null
  readonly text: string | null
}

/** A failed runtime request: the interpreter is missing or died, or the agent reported an error. */
export class RuntimeError extends Error {
  override readonly name = 'RuntimeError'
  constructor(
    readonly code: RuntimeErrorCode,
    message: string,
    /** The agent's error fields (for SYNTAX_ERROR: {@link SyntaxErrorDetails}). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message)
  }

  /** The syntax error's fields, when this is one. */
  get syntax(): SyntaxErrorDetails | undefined {
    return this.code === 'SYNTAX_ERROR' ? (this.details as unknown as SyntaxErrorDetails) : undefined
  }
}

/** Decodes base64 without Node's Buffer (browser-safe). */
export function fromBase64(text: string): Uint8Array {
  const bin = atob(text)
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}

/** Encodes base64 without Node's Buffer (browser-safe). */
export function toBase64(bytes: Uint8Array): string {
  let bin = ''
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(bin)
}
