/**
 * One client, two transports: the UI talks to a {@link Backend}, which is either `pyxray serve`
 * (native interpreters, profiles from disk) over HTTP, or Pyodide in a Web Worker (the static
 * build, no server at all).
 */
import type { MeasureResult } from '../../src/bytecode/compare/index.js'
import type { ProfileDocument } from '../../src/profile/document.js'
import type { AstNode, SyntaxErrorDetails } from '../../src/runtime/types.js'

/** A Python the UI can compile with. */
export interface RuntimeOption {
  /** "native:3.12", "pyodide". */
  readonly id: string
  readonly label: string
  /** "3.12". */
  readonly version: string
  readonly minor: number
  /** The runtime the Explorer starts with (the server's: the interpreter the CLI would pick). */
  readonly default?: boolean
}

/** What to compile. */
export interface CompileRequest {
  readonly source: string
  /** A {@link RuntimeOption.id}; default: the backend's first runtime. */
  readonly runtime?: string
  readonly optimize?: -1 | 0 | 1 | 2
  /** Also parse the AST (a second agent request; default true). The Explorer asks only when its AST pane is open. */
  readonly ast?: boolean
}

/** Which AST node to fetch: the source it was parsed from, the runtime, its path. */
export interface AstNodeRequest {
  readonly source: string
  readonly runtime?: string | undefined
  readonly path: string
}

/** The result of a compile: the module's marshal bytes and AST (its top levels), or a syntax error. */
export type CompileResult =
  | { readonly ok: true; readonly minor: number; readonly version: string; readonly marshal: Uint8Array; readonly ast: AstNode | null }
  | { readonly ok: false; readonly message: string; readonly syntax: SyntaxErrorDetails | null }

/** What to run and measure: a source run as `pyxray compare -c` runs a snippet. */
export interface MeasureRequest {
  readonly source: string
  /** A {@link RuntimeOption.id}; default: the backend's first runtime. */
  readonly runtime?: string
  readonly optimize?: -1 | 0 | 1 | 2
  /** Timing repeats (default: the backend's). */
  readonly repeat?: number
  /** Seconds each timing repeat lasts at least (default: the backend's). */
  readonly minTime?: number
}

/**
 * A measured run: executed instructions per code object (numbered as the compiled module's code
 * tree) and offset, and the timing repeats in seconds per loop — the measure part of
 * src/bytecode/compare's MeasureResult; or why the code could not run.
 */
export type MeasureOutcome =
  | { readonly ok: true; readonly measured: Pick<MeasureResult, 'timing' | 'counts'> }
  | { readonly ok: false; readonly message: string }

/** A document the backend offers: a profile, or a memory document (`pyxray mem … -o`). */
export interface ProfileEntry {
  readonly id: string
  readonly name: string
  readonly path: string
  /** Absent from older servers: a profile. */
  readonly kind?: 'profile' | 'memory'
}

/** Stages of a runtime's start (the static build loads Pyodide): fetch the loader, start CPython, install the agent, ready. */
export type LoadStage = 'fetch' | 'wasm' | 'agent' | 'ready'

/** The stages as the progress indicator names them, in order. */
export const LOAD_STAGES: readonly (readonly [LoadStage, string])[] = [
  ['fetch', 'downloading the Python runtime (Pyodide)'],
  ['wasm', 'starting CPython in WebAssembly'],
  ['agent', 'installing the pyxray agent'],
  ['ready', 'compiling your code'],
]

/** How the UI reaches Python and profiles. */
export interface Backend {
  /** `report`: the offline HTML report (no Python at all). */
  readonly kind: 'server' | 'pyodide' | 'report'
  /** A line for the status bar. */
  readonly description: string
  runtimes(): Promise<RuntimeOption[]>
  compile(request: CompileRequest): Promise<CompileResult>
  /**
   * The subtree of the source's AST at `path` (`/body[3]/value`), a few levels deep: the compile
   * answer carries only the tree's top levels (src/runtime/ast-slice.ts), the AST pane fetches the
   * rest node by node as it is opened. Absent where nothing parses Python (the report).
   */
  astNode?(request: AstNodeRequest): Promise<AstNode>
  /** Runs a source and measures it (Compare's executed instructions and timings); absent where nothing runs Python (the report). */
  measure?(request: MeasureRequest): Promise<MeasureOutcome>
  profiles(): Promise<ProfileEntry[]>
  /** A profile the backend offers (kind `profile`), read by the core reader. */
  loadProfile(id: string): Promise<ProfileDocument>
  /** The JSON text of a memory document the backend offers (kind `memory`); absent where there are none. */
  loadMemoryText?(id: string): Promise<string>
  /** The text of a source file a profile names; undefined when the backend cannot read files. */
  source(file: string): Promise<string | undefined>
  /**
   * Backends without file access (the static build): a source file the user opened, matched to
   * a profile's paths by its name. Absent where the backend reads files itself.
   */
  addSource?(name: string, text: string): void
  /** Backends whose runtime takes a while to start: follows its stages (returns the unsubscribe function). */
  onLoadStage?(listener: (stage: LoadStage) => void): () => void
}

/** A failed backend call (network, server error, worker crash). */
export class BackendError extends Error {
  override readonly name = 'BackendError'
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}
