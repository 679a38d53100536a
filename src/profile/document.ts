/**
 * The profile document written by pyxray's Python agent (python/pyxray/profiler.py), as TypeScript
 * types. `schema/profile.schema.json` is the contract; these types mirror it field for field.
 * Times are integer nanoseconds of the profile's clock, memory is in bytes.
 */

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
  readonly clock: 'wall' | 'cpu'
  /** Half the calibrated per-call cost; 0 in sample mode or when not subtracted. */
  readonly overheadNsPerEvent: number
  /** The run was cut short (SIGINT). */
  readonly partial: boolean
  /** The program's exit status under `python -m pyxray`; null through the API. */
  readonly exitStatus: number | null
  readonly warnings: readonly string[]
  readonly memory?: boolean
  readonly tracer?: 'sys.monitoring' | 'sys.setprofile' | 'sampler'
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
}

/** Memory of a call node (tracemalloc). */
export interface ProfileNodeMemory {
  /** Bytes still allocated when the calls returned, summed over calls (may be negative). */
  readonly netBytes: number
  /** Highest level above the level at entry, the maximum over calls. */
  readonly peakBytes: number
}

/** One call path. `totalNs == selfNs + Σ children.totalNs`. */
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

/** A whole profile document, version 1. */
export interface ProfileDocument {
  readonly pyxray: 'profile'
  readonly version: 1
  readonly metadata: ProfileMetadata
  readonly frames: readonly ProfileFrame[]
  readonly threads: readonly ProfileThread[]
  /** Repeated profiles: every run; metadata and threads above are then their merge (sums). */
  readonly runs?: readonly ProfileRun[]
  /** The profiled program's child processes (metadata and threads above are the root process's), oldest first. */
  readonly processes?: readonly ProfileProcess[]
}
