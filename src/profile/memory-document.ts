/**
 * The memory document: what one memory tool of the Python agent found (python -m pyxray.memory).
 * schema/memory.schema.json is the contract; these are its TypeScript types. Sizes in bytes,
 * lines 1-based.
 */
import { MEMORY_SCHEMA_V1 } from './memory-schema.js'
import { previewJson as preview, schemaViolation } from './schema-check.js'

/** Versions of the memory document this pyxray reads. */
export const SUPPORTED_MEMORY_VERSIONS: readonly number[] = [1]

/** Which tool produced a document. */
export type MemoryKind = 'leaks' | 'size' | 'path' | 'lines' | 'growth' | 'error'

/** Where and with what the tool ran. */
export interface MemoryMetadata {
  readonly python: string
  readonly implementation: string
  readonly executable: string
  readonly argv: readonly string[]
  readonly cwd: string
  /** ISO 8601 date-time. */
  readonly startTime: string
}

/** A source line. */
export interface MemoryFrame {
  readonly file: string
  /** 1-based; 0 when unknown. */
  readonly line: number
  readonly source: string
}

/** A line (file/line/source) or a traceback (frames, most recent first) whose memory grew. */
export interface LeakSite extends Partial<MemoryFrame> {
  /** Bytes gained per measured iteration, on average. */
  readonly bytesPerIteration: number
  /** Memory blocks gained per measured iteration, on average. */
  readonly countPerIteration: number
  /** Bytes gained over all measured iterations. */
  readonly totalBytes: number
  readonly frames?: readonly MemoryFrame[]
}

/** A leak check's result. */
export interface LeaksResult {
  readonly iterations: number
  readonly warmup: number
  /** Growth per iteration below this is never a leak (bytes). */
  readonly minGrowthBytes: number
  /** Steady growth of at least minGrowthBytes per iteration. */
  readonly leak: boolean
  /** For people: `leaks ~2.1 KiB/iteration at cache.py:14`, or why it is not a leak. */
  readonly verdict: string
  /** Net bytes per iteration between the snapshots (the tool's own allocations excluded). */
  readonly bytesPerIteration: number
  readonly slopeBytesPerIteration: number
  readonly lateSlopeBytesPerIteration: number
  /** Fit of a straight line to totals, 0–1. */
  readonly r2: number
  /** Traced bytes after each measured iteration, relative to before the first. */
  readonly totals: readonly number[]
  readonly sites: readonly LeakSite[]
  readonly tracebacks: readonly LeakSite[]
}

/** A deep size. */
export interface SizeResult {
  readonly expression?: string
  readonly type: string
  /** getsizeof summed over the object and everything it owns, each once (bytes). */
  readonly totalBytes: number
  /** sys.getsizeof of the object alone (bytes). */
  readonly shallowBytes: number
  readonly objects: number
  readonly byType: readonly { readonly type: string; readonly count: number; readonly bytes: number }[]
  readonly skipped: readonly { readonly type: string; readonly count: number }[]
}

/** Where a retention chain starts. */
export interface RetentionRoot {
  readonly kind: 'module global' | 'class attribute' | 'frame local'
  readonly name: string
  readonly module?: string
  readonly class?: string
  readonly function?: string
  readonly file?: string
  readonly line?: number
}

/** One reference of a retention chain. */
export interface RetentionStep {
  /** How the previous object (or the root) refers to this one: `.attr`, `['key']`, `[3]`, a name. */
  readonly edge: string
  readonly type: string
  readonly repr: string
}

/** Retention paths of the live instances of a type. */
export interface PathResult {
  readonly type: string
  readonly instances: number
  readonly paths: readonly {
    readonly target: { readonly type: string; readonly id: number }
    readonly found: boolean
    readonly root?: RetentionRoot
    readonly steps?: readonly RetentionStep[]
    /** Graphviz digraph of the chain. */
    readonly dot?: string
  }[]
}

/** Line-level memory of one function. */
export interface LinesResult {
  readonly file: string
  readonly function: string
  readonly firstLine: number
  readonly calls: number
  readonly totalNetBytes: number
  readonly peakBytes: number
  readonly lines: readonly {
    readonly line: number
    readonly source: string
    readonly hits: number
    /** Bytes gained while the line ran, over all its executions. */
    readonly netBytes: number
    /** Highest rise above the line's start, over its executions (bytes). */
    readonly peakBytes: number
  }[]
}

/** Objects per type that grew between two points. */
export interface GrowthResult {
  readonly iterations: number
  readonly totalDelta: number
  readonly rows: readonly { readonly type: string; readonly name: string; readonly count: number; readonly delta: number }[]
}

/** What stopped a tool: bad input. */
export interface MemoryErrorResult {
  readonly code: 'BAD_ARGUMENT' | 'SCRIPT_NOT_FOUND' | 'BAD_EXPRESSION' | 'SCRIPT_ERROR' | 'NOT_FOUND' | 'UNKNOWN_TYPE'
  readonly message: string
  readonly command?: string
}

interface Base<K extends MemoryKind> {
  readonly pyxray: 'memory'
  readonly version: 1
  readonly kind: K
  readonly metadata: MemoryMetadata
}

/** A memory document, by kind. */
export type MemoryDocument =
  | (Base<'leaks'> & { readonly leaks: LeaksResult })
  | (Base<'size'> & { readonly size: SizeResult })
  | (Base<'path'> & { readonly path: PathResult })
  | (Base<'lines'> & { readonly lines: LinesResult })
  | (Base<'growth'> & { readonly growth: GrowthResult })
  | (Base<'error'> & { readonly error: MemoryErrorResult })

/** A memory document that cannot be read. */
export class MemoryDocumentError extends Error {
  override readonly name = 'MemoryDocumentError'
  constructor(
    readonly code: 'MEMORY_NOT_JSON' | 'MEMORY_NOT_A_DOCUMENT' | 'MEMORY_VERSION' | 'MEMORY_INVALID',
    message: string,
    /** JSON Pointer of the offending value (MEMORY_INVALID): `/leaks/sites/3/line`; `` for the whole document. */
    readonly path?: string,
  ) {
    super(message)
  }
}

const KINDS: readonly MemoryKind[] = ['leaks', 'size', 'path', 'lines', 'growth', 'error']

const invalid = (path: string, what: string): MemoryDocumentError => new MemoryDocumentError('MEMORY_INVALID', `invalid memory document at ${path || '/'}: ${what}`, path)

/**
 * Parses and checks a memory document (JSON text, or a value already parsed) as deeply as the
 * profile reader checks profiles: every member against schema/memory.schema.json (compiled into
 * memory-schema.ts; the checker walks the document with a work list, never recursing), then what
 * the schema cannot say — only the result member of the document's kind, a leak check's totals one
 * per measured iteration, a found retention path with its root and steps. Every problem is a
 * {@link MemoryDocumentError} whose one-line message names the JSON path.
 */
export function parseMemoryDocument(text: unknown): MemoryDocument {
  let value: unknown = text
  if (typeof text === 'string') {
    try {
      value = JSON.parse(text)
    } catch (e) {
      throw new MemoryDocumentError('MEMORY_NOT_JSON', `not JSON: ${e instanceof Error ? e.message : String(e)}`)
    }
  }
  const doc = value as { pyxray?: unknown; version?: unknown; kind?: unknown; [k: string]: unknown }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || doc.pyxray !== 'memory') {
    throw new MemoryDocumentError('MEMORY_NOT_A_DOCUMENT', 'not a pyxray memory document (no "pyxray": "memory")')
  }
  if (!SUPPORTED_MEMORY_VERSIONS.includes(doc.version as number)) {
    throw new MemoryDocumentError('MEMORY_VERSION', `memory document version ${preview(doc.version)}: this pyxray reads version ${SUPPORTED_MEMORY_VERSIONS.join(', ')}; use a matching pyxray`)
  }
  if (!KINDS.includes(doc.kind as MemoryKind)) {
    throw invalid('/kind', `expected one of ${KINDS.map((k) => JSON.stringify(k)).join(', ')} (got ${preview(doc.kind)})`)
  }
  const v = schemaViolation(value, MEMORY_SCHEMA_V1)
  if (v) {
    const got = v.keyword === 'required' || v.keyword === 'additionalProperties' ? '' : ` (got ${preview(v.value)})`
    throw invalid(v.path, `${v.expected}${got}`)
  }
  const kind = doc.kind as MemoryKind
  for (const other of KINDS) {
    if (other !== kind && Object.prototype.hasOwnProperty.call(doc, other)) throw invalid(`/${other}`, `a "${kind}" document holds no "${other}" member`)
  }
  const d = value as MemoryDocument
  if (d.kind === 'leaks' && d.leaks.totals.length !== d.leaks.iterations) {
    throw invalid('/leaks/totals', `expected one total per measured iteration (${d.leaks.iterations}), got ${d.leaks.totals.length}`)
  }
  if (d.kind === 'path') {
    d.path.paths.forEach((p, i) => {
      if (p.found && p.root === undefined) throw invalid(`/path/paths/${i}`, 'a found path without its "root"')
      if (p.found && p.steps === undefined) throw invalid(`/path/paths/${i}`, 'a found path without its "steps"')
    })
  }
  return d
}
