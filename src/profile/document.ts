/**
 * The profile document written by pyxray's Python agent (python/pyxray/profiler.py): its
 * TypeScript types, and the one reader and writer of its JSON that the CLI, the server and the
 * web UI use. `schema/profile.schema.json` (version 3) is the contract.
 *
 * In the file (versions 2 and 3) each thread lists its call-tree nodes flat, each naming its parent by
 * index, so that no reader recurses by call depth; version 1 nested them (`root`, `children`).
 * In memory ({@link ProfileDocument}) every thread has its nested `root` again — the shape the
 * model, reports, exports and diffs walk — built and taken apart here without recursion.
 * Times are integer nanoseconds of the profile's clock, memory is in bytes.
 */
import { PROFILE_SCHEMA_V1, PROFILE_SCHEMA_V2, PROFILE_SCHEMA_V3 } from './profile-schema.js'
import { type JsonSchema, type PathLink, pointerOf as pointer, previewJson as preview, schemaViolation } from './schema-check.js'

/** The interpreter that produced the profile. */
export interface ProfilePython {
  /** "CPython" (sys.implementation.name, capitalised). */
  readonly implementation: string
  /** major.minor.micro. */
  readonly version: string
}

/** Trace mode: what was subtracted per call, in ns. */
export interface ProfileOverhead {
  readonly perCallNs: number
  /** Inside each call's own time. */
  readonly calleeNs: number
  /** In the caller's self time. */
  readonly callerNs: number
  /** Per folded (hidden) call, in the self time of the frame it folds into. */
  readonly hiddenNs: number
  /** The least self time per call the subtraction leaves a node (ns); absent from older agents. */
  readonly floorNs?: number
  /** Time subtracted over all nodes, after clamping (ns). */
  readonly subtractedNs?: number
  /** Estimated overhead not subtracted because it would have left a node less than floorNs per call (ns). */
  readonly clampedNs?: number
  /** Nodes where the subtraction was clamped. */
  readonly clampedNodes?: number
  readonly source: 'calibrated' | 'cache' | 'given' | 'off' | 'none'
}

export interface ProfileMetadata {
  readonly python: ProfilePython
  readonly argv: readonly string[]
  readonly cwd: string
  /** ISO 8601, UTC. */
  readonly startTime: string
  readonly durationNs: number
  readonly mode: 'trace' | 'sample'
  readonly clock: 'wall' | 'cpu' | 'gil'
  /** Half the calibrated per-call cost; 0 in sample mode or when not subtracted. */
  readonly overheadNsPerEvent: number
  /** The run was cut short (SIGINT). */
  readonly partial: boolean
  /** The program's exit status under `python -m pyxray`; null through the API. */
  readonly exitStatus: number | null
  readonly warnings: readonly string[]
  readonly memory?: boolean
  readonly tracer?: 'sys.monitoring' | 'sys.setprofile' | 'sampler'
  /** Sample mode: remote when the stacks were read from another process (3.14+'s _remote_debugging). */
  readonly sampler?: 'remote'
  /** Sample mode in process on 3.10+: running threads' instructions noted at SIGPROF on their own CPU clock (the C engine). */
  readonly instructionSampler?: 'signal'
  /** Sample mode in process on 3.10+ without `instructionSampler`: why the signal sampler did not run. */
  readonly instructionSamplerReason?: string
  /** The remote sampler with --async-aware: task stacks instead of thread stacks. */
  readonly asyncAware?: boolean
  /** Trace mode: the engine of the per-event hot path (the optional C accelerator or Python). */
  readonly engine?: 'c' | 'python'
  /** Why the Python engine ran; absent when the C engine did. */
  readonly engineReason?: string
  readonly libraries?: 'first' | 'all' | 'none'
  readonly builtins?: boolean
  readonly include?: readonly string[]
  readonly exclude?: readonly string[]
  readonly pid?: number
  /** A child process (`processes`): the process that started it (forked it, or ran it). */
  readonly parentPid?: number
  readonly agent?: string
  /** Sample mode: the sampling interval in ns. */
  readonly intervalNs?: number
  /** Sample mode: how many times the sampler looked. */
  readonly samples?: number
  readonly overhead?: ProfileOverhead
  /** `--count instructions`: every node has `executedInstructions` (and its times include the cost of counting). */
  readonly count?: 'instructions'
  /** Imported profiles (`pyxray import`): the file's format and tool. */
  readonly source?: { readonly format: 'tachyon-binary' | 'tachyon-pstats' | 'tachyon-jsonl' | 'collapsed' | 'gecko' | 'pprof'; readonly tool: 'tachyon' | 'py-spy' | 'austin' | 'perf' | 'pyxray' | 'go' | 'unknown' }
}

/** One distinct function; nodes refer to frames by index. */
export interface ProfileFrame {
  /** co_filename made absolute; "<built-in>" for builtins. */
  readonly file: string
  /** co_firstlineno, 1-based; 0 for builtins. */
  readonly firstlineno: number
  readonly qualname: string
  readonly kind: 'python' | 'builtin'
  /** Builtins: the defining module. */
  readonly module?: string
  /** Library code (stdlib, site-packages) or a builtin. */
  readonly library?: boolean
  /** Sample mode: the sampled instructions of this function, in offset order (version 3). */
  readonly instructions?: readonly ProfileInstruction[]
}

/** One sampled instruction of a function, as the agent's `dis` saw it. */
export interface ProfileInstruction {
  /** Byte offset in co_code, as dis numbers it. */
  readonly offset: number
  /** As dis shows it (not specialised). */
  readonly opname: string
  readonly argrepr: string
  /** 1-based source line; absent when the instruction has none. */
  readonly line?: number
  /** 3.11+: last line of the source span. */
  readonly endLine?: number
  /** 3.11+: first column of the span, a 0-based UTF-8 byte offset into `line`. */
  readonly col?: number
  /** 3.11+: end column (exclusive), a 0-based UTF-8 byte offset into `endLine`. */
  readonly endCol?: number
  /** 3.11+: the specialised form the interpreter ran, when it differs from opname. */
  readonly specialized?: string
}

/** [key, samples] pairs: a node's samples per source line or per instruction offset. */
export type SampleCounts = readonly (readonly [number, number])[]

/** Memory of a call node: the C engine's allocator wrapper, or tracemalloc (the Python engine). */
export interface ProfileNodeMemory {
  /** Python engine: bytes still allocated when the calls returned, summed over calls (may be
   * negative). C engine: bytes the calls (and callees) allocated that nobody freed before the profile ended. */
  readonly netBytes: number
  /** Highest level above the level at entry, callees included, the maximum over calls. */
  readonly peakBytes: number
  /** C engine only: allocations made by the calls and their callees (a realloc is not one). */
  readonly allocations?: number
  /** C engine only: the bytes those allocations requested. */
  readonly allocatedBytes?: number
}

/** One call path (in memory: nested). `totalNs == selfNs + Σ children.totalNs`. */
export interface ProfileNode {
  /** Index into `frames`; null for a thread's root. */
  readonly frame: number | null
  /** Entries into this path (calls plus resumptions, as cProfile's ncalls); 0 in sample mode. */
  readonly calls: number
  readonly totalNs: number
  readonly selfNs: number
  readonly memory?: ProfileNodeMemory
  /** Sample mode: samples with this node on the stack. */
  readonly samples?: number
  /**
   * `--count instructions`: bytecode instructions executed in this path's own frame (and library
   * frames folded into it), summed over its calls — self, not inclusive. Exact for the Python
   * code the profiler sees (not C code, not excluded code).
   */
  readonly executedInstructions?: number
  /** Sample mode: [line, samples] where this node was the innermost visible frame, line order. */
  readonly lines?: SampleCounts
  /** Sample mode: [offset, samples] of the same samples by instruction (described by the frame's instructions), offset order. */
  readonly offsets?: SampleCounts
  /** Callees, largest totalNs first. */
  readonly children: readonly ProfileNode[]
}

export interface ProfileThread {
  /** threading.get_ident(). */
  readonly id: number
  readonly name: string
  readonly nativeId?: number
  readonly main: boolean
  /** frame null, calls 0; selfNs is time in frames older than the profile. */
  readonly root: ProfileNode
}

/** One run of a repeated profile (`pyxray profile --repeat N`); nodes index the document's frames. */
export interface ProfileRun {
  readonly metadata: ProfileMetadata
  readonly threads: readonly ProfileThread[]
}

/**
 * One child process of the profiled program (`pyxray profile` follows forks, multiprocessing and
 * Python subprocesses); nodes index the document's frames, as in a run.
 */
export interface ProfileProcess {
  readonly metadata: ProfileMetadata
  readonly threads: readonly ProfileThread[]
}

/**
 * A whole profile document in memory: as read by {@link readProfileDocument} (any version, upgraded
 * to {@link PROFILE_VERSION}), its trees nested. Written out by {@link toProfileJson}.
 */
export interface ProfileDocument {
  readonly pyxray: 'profile'
  readonly version: typeof PROFILE_VERSION
  readonly metadata: ProfileMetadata
  readonly frames: readonly ProfileFrame[]
  readonly threads: readonly ProfileThread[]
  /** Repeated profiles: every run; metadata and threads above are then their merge (sums). */
  readonly runs?: readonly ProfileRun[]
  /** The profiled program's child processes (metadata and threads above are the root process's), oldest first. */
  readonly processes?: readonly ProfileProcess[]
}

/** The version of the profile document pyxray writes. */
export const PROFILE_VERSION = 3

/** The profile document versions pyxray reads (older ones are upgraded on read). */
export const SUPPORTED_PROFILE_VERSIONS: readonly number[] = [1, 2, PROFILE_VERSION]

/** A node as the file (versions 2 and 3) stores it: its fields, and its parent's index instead of children. */
export type FlatProfileNode = Omit<ProfileNode, 'children'> & {
  /** Index of the parent in the thread's `nodes` (smaller than the node's own); null for nodes[0], the root. */
  readonly parent: number | null
}

/** A thread as the file (versions 2 and 3) stores it: the call tree flat, in preorder, nodes[0] the root. */
export type FlatProfileThread = Omit<ProfileThread, 'root'> & { readonly nodes: readonly FlatProfileNode[] }

/** A run or process as the file (versions 2 and 3) stores it. */
export interface FlatProfileRun {
  readonly metadata: ProfileMetadata
  readonly threads: readonly FlatProfileThread[]
}

/** The profile document as the file (version 3, schema/profile.schema.json) stores it. */
export interface FlatProfileDocument {
  readonly pyxray: 'profile'
  readonly version: typeof PROFILE_VERSION
  readonly metadata: ProfileMetadata
  readonly frames: readonly ProfileFrame[]
  readonly threads: readonly FlatProfileThread[]
  readonly runs?: readonly FlatProfileRun[]
  readonly processes?: readonly FlatProfileRun[]
}

/** What is wrong with a profile document. */
export type ProfileDocumentErrorCode =
  /** The file cannot be read (missing, a folder, no permission); raised by the callers that read files. */
  | 'PROFILE_UNREADABLE'
  /** The text is not JSON. */
  | 'PROFILE_NOT_JSON'
  /** JSON, but not a pyxray profile document. */
  | 'PROFILE_NOT_PROFILE'
  /** A pyxray profile of a version this pyxray does not read. */
  | 'PROFILE_VERSION'
  /** A profile that breaks the schema or an invariant it states (the message names the JSON path). */
  | 'PROFILE_INVALID'

/** A profile document pyxray cannot use: one line naming the file, and where and what for PROFILE_INVALID. */
export class ProfileDocumentError extends Error {
  override readonly name = 'ProfileDocumentError'
  constructor(
    readonly code: ProfileDocumentErrorCode,
    message: string,
    /** The file (or other source) the problem is in, as given to the reader. */
    readonly file: string,
    /** JSON Pointer of the offending value (PROFILE_INVALID), e.g. /threads/0/nodes/3/calls. */
    readonly jsonPath?: string,
  ) {
    super(message)
  }
}


const invalid = (name: string, path: string, what: string): ProfileDocumentError => new ProfileDocumentError('PROFILE_INVALID', `${name}: invalid profile at ${path}: ${what}`, name, path)

type Json = { readonly [key: string]: unknown }

/** The threads lists of a (schema-valid) document with their JSON paths: top level, runs, processes. */
function threadLists(doc: Json): [readonly Json[], PathLink][] {
  const out: [readonly Json[], PathLink][] = [[doc.threads as Json[], { up: undefined, key: 'threads' }]]
  for (const member of ['runs', 'processes'] as const) {
    const list = doc[member] as readonly Json[] | undefined
    list?.forEach((r, i) => out.push([r.threads as Json[], { up: { up: { up: undefined, key: member }, key: i }, key: 'threads' }]))
  }
  return out
}

/** The invariants the version-2 schema cannot state: parents before children, frames in the table. */
function checkFlat(doc: Json, frameCount: number, name: string): void {
  for (const [threads, at] of threadLists(doc)) {
    threads.forEach((t, ti) => {
      const nodes = t.nodes as readonly Json[]
      for (let i = 1; i < nodes.length; i++) {
        const n = nodes[i]!
        if ((n.parent as number) >= i) throw invalid(name, `${pointer(at)}/${ti}/nodes/${i}/parent`, `expected the index of an earlier node, below ${i} (got ${n.parent as number}): a parent comes before its children`)
        if ((n.frame as number) >= frameCount) throw invalid(name, `${pointer(at)}/${ti}/nodes/${i}/frame`, `expected an index into frames, below ${frameCount} (got ${n.frame as number})`)
      }
    })
  }
}

/** Version 1: every node's frame in the table (iterative). */
function checkNested(doc: Json, frameCount: number, name: string): void {
  for (const [threads, at] of threadLists(doc)) {
    threads.forEach((t, ti) => {
      const todo: [Json, PathLink][] = [[t.root as Json, { up: { up: at, key: ti }, key: 'root' }]]
      while (todo.length > 0) {
        const [n, path] = todo.pop()!
        if (typeof n.frame === 'number' && n.frame >= frameCount) throw invalid(name, `${pointer(path)}/frame`, `expected an index into frames, below ${frameCount} (got ${n.frame})`)
        ;(n.children as readonly Json[]).forEach((c, i) => todo.push([c, { up: { up: path, key: 'children' }, key: i }]))
      }
    })
  }
}

/** The nested tree of a flat thread (nodes in preorder, parents first). */
function nestThread(t: FlatProfileThread): ProfileThread {
  const built: (ProfileNode & { children: ProfileNode[] })[] = []
  const { nodes, ...rest } = t
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i]!
    const node = {
      frame: n.frame,
      calls: n.calls,
      totalNs: n.totalNs,
      selfNs: n.selfNs,
      ...(n.memory ? { memory: n.memory } : {}),
      ...(n.samples !== undefined ? { samples: n.samples } : {}),
      ...(n.executedInstructions !== undefined ? { executedInstructions: n.executedInstructions } : {}),
      ...(n.lines !== undefined ? { lines: n.lines } : {}),
      ...(n.offsets !== undefined ? { offsets: n.offsets } : {}),
      children: [] as ProfileNode[],
    }
    built.push(node)
    if (i > 0) built[n.parent!]!.children.push(node)
  }
  return { ...rest, root: built[0]! }
}

/** The flat form of a nested thread: preorder, children in their order (iterative). */
function flattenThread(t: ProfileThread): FlatProfileThread {
  const { root, ...rest } = t
  const nodes: FlatProfileNode[] = []
  const todo: [ProfileNode, number | null][] = [[root, null]]
  while (todo.length > 0) {
    const [n, parent] = todo.pop()!
    const index = nodes.length
    nodes.push({
      parent,
      frame: n.frame,
      calls: n.calls,
      totalNs: n.totalNs,
      selfNs: n.selfNs,
      ...(n.memory ? { memory: n.memory } : {}),
      ...(n.samples !== undefined ? { samples: n.samples } : {}),
      ...(n.executedInstructions !== undefined ? { executedInstructions: n.executedInstructions } : {}),
      ...(n.lines !== undefined ? { lines: n.lines } : {}),
      ...(n.offsets !== undefined ? { offsets: n.offsets } : {}),
    })
    for (let i = n.children.length - 1; i >= 0; i--) todo.push([n.children[i]!, index])
  }
  return { ...rest, nodes }
}

const mapRuns = <A, B>(runs: readonly { readonly metadata: ProfileMetadata; readonly threads: readonly A[] }[] | undefined, f: (t: A) => B) =>
  runs?.map((r) => ({ ...r, threads: r.threads.map(f) }))

/**
 * Reads a profile document: JSON text (parsed here) or an already parsed value, of any version
 * pyxray reads (1: nested, 2 and 3: flat), checked as strictly as its JSON schema (and the invariants the
 * schema cannot state: a parent before its children, frames in the table), and returned in memory
 * with nested trees. Nothing recurses by call depth. Every problem is a {@link ProfileDocumentError}
 * whose one-line message starts with `name` (the file).
 */
export function readProfileDocument(input: unknown, name: string): ProfileDocument {
  let value = input
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input)
    } catch (e) {
      throw new ProfileDocumentError('PROFILE_NOT_JSON', `${name}: not JSON (${e instanceof Error ? e.message : String(e)}); a profile is the JSON file pyxray profile -o writes`, name)
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value) || (value as Json).pyxray !== 'profile') {
    const memory = (value as Json | null)?.pyxray === 'memory' ? ' (a memory document: pyxray serve shows it)' : ''
    throw new ProfileDocumentError('PROFILE_NOT_PROFILE', `${name}: not a pyxray profile (no "pyxray": "profile" at the top${memory}); write one with pyxray profile -o FILE script.py`, name)
  }
  const doc = value as Json
  const version = doc.version
  if (typeof version !== 'number' || !SUPPORTED_PROFILE_VERSIONS.includes(version)) {
    throw new ProfileDocumentError(
      'PROFILE_VERSION',
      `${name}: profile version ${JSON.stringify(version)} is not supported: this pyxray reads versions ${SUPPORTED_PROFILE_VERSIONS.slice(0, -1).join(', ')} and ${SUPPORTED_PROFILE_VERSIONS.at(-1)!}; use the pyxray that wrote it, or profile again`,
      name,
    )
  }
  const schema: JsonSchema = version === 1 ? PROFILE_SCHEMA_V1 : version === 2 ? PROFILE_SCHEMA_V2 : PROFILE_SCHEMA_V3
  const v = schemaViolation(doc, schema)
  if (v) {
    const got = v.keyword === 'required' || v.keyword === 'additionalProperties' ? '' : ` (got ${preview(v.value)})`
    throw invalid(name, v.path || '/', `${v.expected}${got}`)
  }
  const frameCount = (doc.frames as readonly unknown[]).length
  if (version === 1) {
    checkNested(doc, frameCount, name)
    return { ...(doc as unknown as Omit<ProfileDocument, 'version'>), version: PROFILE_VERSION }
  }
  checkFlat(doc, frameCount, name)
  // Version 2 is version 3 without instruction-level samples (nodes' lines came from the remote sampler only).
  const { runs: flatRuns, processes: flatProcesses, ...flat } = doc as unknown as FlatProfileDocument
  const runs = mapRuns(flatRuns, nestThread)
  const processes = mapRuns(flatProcesses, nestThread)
  return { ...flat, version: PROFILE_VERSION, threads: flat.threads.map(nestThread), ...(runs ? { runs } : {}), ...(processes ? { processes } : {}) }
}

/** The document as the file stores it (version 3: every thread's nodes flat), built without recursion. */
export function flattenProfile(doc: ProfileDocument): FlatProfileDocument {
  const { runs: nestedRuns, processes: nestedProcesses, ...rest } = doc
  const runs = mapRuns(nestedRuns, flattenThread)
  const processes = mapRuns(nestedProcesses, flattenThread)
  return { ...rest, version: PROFILE_VERSION, threads: rest.threads.map(flattenThread), ...(runs ? { runs } : {}), ...(processes ? { processes } : {}) }
}

/**
 * The document as JSON text in the current format (version 3, flat; compact, no newline at the
 * end). JSON.stringify recurses by nesting depth: flat nodes keep it shallow at any call depth.
 */
export function toProfileJson(doc: ProfileDocument): string {
  return JSON.stringify(flattenProfile(doc))
}
