/**
 * The one way imported samples become a pyxray profile document: stacks (outermost frame first)
 * with a weight go into per-thread call trees, frames are interned by file and name.
 *
 * How samples map to the document (the same as pyxray's own sample mode,
 * python/pyxray/_profile_sample.py): metadata.mode is 'sample'; every node's `calls` is 0
 * (sampling cannot count calls); `samples` is the number of samples with the node on the stack;
 * `totalNs`/`selfNs` are samples × the sampling interval (`metadata.intervalNs`) — the interval
 * the file records (Tachyon's binary, jsonl and pstats formats), else the one given to the
 * importer, else 1 ms with a warning saying so. austin's collapsed output carries times in µs
 * instead of counts: its nodes get those times and no `samples`.
 *
 * Functions: a frame is a function (file, name); the files pyxray imports name the sampled line,
 * not the function's first line, so `firstlineno` is 0 (unknown) in imported documents.
 *
 * Budget: every stack walked costs its depth, every node one more; the total may not exceed
 * {@link outputBudget} of the input's size (16 MiB + 64 × its bytes), so a small hostile file is
 * an IMPORT_LIMIT error instead of minutes of work.
 */
import { outputBudget } from '../../marshal/limits.js'
import type { ProfileDocument, ProfileFrame, ProfileInstruction, ProfileMetadata, ProfileNode, ProfileThread } from '../document.js'
import { PROFILE_VERSION } from '../document.js'
import { ImportError } from './errors.js'

/** The formats pyxray imports. */
export type ImportFormat =
  /** Tachyon's `--binary` (profiling.sampling, CPython 3.15+): every sample, per thread. */
  | 'tachyon-binary'
  /** Tachyon's `--pstats`: a marshal dict of per-line counts and caller edges, no stacks. */
  | 'tachyon-pstats'
  /** Tachyon's `--jsonl`: per-line self and cumulative counts, no stacks, no callers. */
  | 'tachyon-jsonl'
  /** Folded stacks, one `frame;frame;… count` per line (Tachyon `--collapsed`, py-spy `--format raw`, austin, stackcollapse-perf). */
  | 'collapsed'
  /** The Firefox Profiler's processed format (Tachyon `--gecko`): per-thread samples and stack tables. */
  | 'gecko'

/** The tool that wrote the imported file, as far as its content tells. */
export type ImportTool = 'tachyon' | 'py-spy' | 'austin' | 'perf' | 'unknown'

/** Where an imported document came from (metadata.source). */
export interface ImportSource {
  readonly format: ImportFormat
  readonly tool: ImportTool
}

/** A frame as an importer reads it. */
export interface ImportedFrame {
  /** The file as the tool wrote it (a path, a base name, `<frozen runpy>`); `<built-in>` for native frames. */
  readonly file: string
  /** The function's name as the tool wrote it (co_qualname on 3.11+ for Tachyon, co_name for py-spy). */
  readonly qualname: string
  /** 'builtin' for native/synthetic frames (`<GC>`, `<native>`, perf's C symbols). */
  readonly kind?: 'python' | 'builtin'
  /** Builtin frames: what they are (`native`, `gc`). */
  readonly module?: string
}

/** Options every importer takes. */
export interface ImportOptions {
  /** The sampling interval in µs when the file does not record it (collapsed stacks); default 1000 with a warning. */
  readonly intervalUs?: number
  /** metadata.startTime when the file does not record a wall-clock start (ISO 8601); default the epoch. */
  readonly startTime?: string
  /**
   * A zstd decoder for Tachyon binaries compressed with zstd (the core has none): the compressed
   * bytes in, at most `maxBytes` out, an {@link ImportError} when it cannot (IMPORT_LIMIT past
   * `maxBytes`, IMPORT_CORRUPT for bad data). The CLI's runs Python 3.14+'s compression.zstd.
   */
  readonly zstd?: (compressed: Uint8Array, maxBytes: number) => Uint8Array
  /**
   * Tachyon binaries recorded with --opcodes: each request (a frame's file, function, source span
   * and opcode) resolved to the instruction it names — by compiling the file with the profiled
   * Python's version `python` (major.minor.micro), which the core cannot: the CLI runs the agent's
   * pyxray._profile_sites.resolve_requests. One answer per request, null when not found; undefined
   * when there is no such interpreter (no instructions then).
   */
  readonly instructions?: (python: string, requests: readonly InstructionRequest[]) => readonly (ProfileInstruction | null)[] | undefined
}

/** An instruction named the way Tachyon's --opcodes records it (see {@link ImportOptions.instructions}). */
export interface InstructionRequest {
  readonly file: string
  readonly qualname: string
  readonly line: number
  readonly endLine: number
  readonly col: number
  readonly endCol: number
  readonly opcode: number
}

const LIBRARY = /(^<frozen )|([\\/]site-packages[\\/])|([\\/]dist-packages[\\/])|([\\/]lib[\\/]python\d+\.\d+t?[\\/])/

/** A frame of the document for an imported one. */
function documentFrame(f: ImportedFrame): ProfileFrame {
  if (f.kind === 'builtin') return { file: '<built-in>', firstlineno: 0, qualname: f.qualname, kind: 'builtin', module: f.module ?? 'native', library: true }
  return { file: f.file, firstlineno: 0, qualname: f.qualname, kind: 'python', ...(LIBRARY.test(f.file) ? { library: true } : {}) }
}

/** A thread being built. */
export interface ThreadState {
  readonly id: number
  name: string
  main: boolean
  readonly order: number
  /** Per node: frame index (-1 for the root), parent, samples on the stack, samples as the leaf. */
  readonly frame: number[]
  readonly parent: number[]
  readonly total: number[]
  readonly self: number[]
  /** Children by frame, per node. */
  readonly children: Map<number, number>[]
  /** Per node with line samples: line → samples as the leaf (formats that record the line). */
  lines?: Map<number, Map<number, number>>
  /** Per node with instruction samples: offset → samples as the leaf. */
  offsets?: Map<number, Map<number, number>>
}

/** Collects weighted stacks into per-thread trees, then writes the document (see the module comment). */
export class ProfileBuilder {
  private readonly frames: ProfileFrame[] = []
  private readonly frameIds = new Map<string, number>()
  private readonly threads = new Map<string, ThreadState>()
  /** Frame → the instructions its nodes' samples name, by offset. */
  private readonly described = new Map<number, Map<number, ProfileInstruction>>()
  private work = 0
  private readonly budget: number
  /** Samples (weight units) added, over all threads. */
  weight = 0

  constructor(inputBytes: number) {
    this.budget = outputBudget(inputBytes)
  }

  /** Counts `units` of work against the budget. */
  spend(units: number): void {
    this.work += units
    if (this.work > this.budget) throw new ImportError('IMPORT_LIMIT', `the input would take more than ${this.budget} units of work (16 MiB + 64 × its size): its stacks are deeper or more numerous than its size allows`)
  }

  /** The index of a frame in the document's table. */
  frame(f: ImportedFrame): number {
    const key = `${f.kind ?? 'python'}\0${f.file}\0${f.qualname}\0${f.module ?? ''}`
    let id = this.frameIds.get(key)
    if (id === undefined) {
      id = this.frames.length
      this.frames.push(documentFrame(f))
      this.frameIds.set(key, id)
      this.spend(1)
    }
    return id
  }

  /** The thread with this key, created on first use (ids: the tool's thread id when it is a safe integer, else the order seen). */
  thread(key: string, id: number | undefined, name: string, main = false): ThreadState {
    let t = this.threads.get(key)
    if (!t) {
      const order = this.threads.size
      t = { id: id !== undefined && Number.isSafeInteger(id) && id >= 0 ? id : order, name, main, order, frame: [-1], parent: [-1], total: [0], self: [0], children: [new Map()] }
      this.threads.set(key, t)
    } else if (main) t.main = true
    return t
  }

  /** The child of `node` for `frame` in thread `t`, created on first use (node 0 is the root). */
  child(t: ThreadState, node: number, frame: number): number {
    const kids = t.children[node]!
    let child = kids.get(frame)
    if (child === undefined) {
      this.spend(1)
      child = t.frame.length
      t.frame.push(frame)
      t.parent.push(node)
      t.total.push(0)
      t.self.push(0)
      t.children.push(new Map())
      kids.set(frame, child)
    }
    return child
  }

  /** Adds `weight` samples whose innermost frame is `node` (totals are summed up the tree in {@link finish}). */
  addAt(t: ThreadState, node: number, weight: number): void {
    if (!(weight > 0)) return
    t.self[node] = t.self[node]! + weight
    this.weight += weight
  }

  /** Counts `weight` of node's leaf samples at source `line` (1-based; others are ignored). */
  addLine(t: ThreadState, node: number, line: number, weight: number): void {
    if (!(weight > 0) || !(line > 0) || node === 0) return
    const all = (t.lines ??= new Map())
    let m = all.get(node)
    if (m === undefined) {
      m = new Map()
      all.set(node, m)
    }
    m.set(line, (m.get(line) ?? 0) + weight)
  }

  /** Counts `weight` of node's leaf samples at instruction `offset`, described by `info` in its frame's table. */
  addInstruction(t: ThreadState, node: number, info: ProfileInstruction, weight: number): void {
    if (!(weight > 0) || node === 0) return
    const all = (t.offsets ??= new Map())
    let m = all.get(node)
    if (m === undefined) {
      m = new Map()
      all.set(node, m)
    }
    m.set(info.offset, (m.get(info.offset) ?? 0) + weight)
    const frame = t.frame[node]!
    let known = this.described.get(frame)
    if (known === undefined) {
      known = new Map()
      this.described.set(frame, known)
    }
    if (!known.has(info.offset)) known.set(info.offset, info)
  }

  /** Adds `weight` samples of a stack given outermost frame first (frame indices from {@link frame}). */
  add(t: ThreadState, stack: readonly number[], weight: number): void {
    if (!(weight > 0)) return
    this.spend(stack.length + 1)
    let node = 0
    for (const f of stack) node = this.child(t, node, f)
    this.addAt(t, node, weight)
  }

  /**
   * The document: `meta` completes the metadata (interval, counts, source); `samples`: whether
   * weights are sample counts (kept as `samples`) or, austin's, times in µs.
   */
  finish(meta: {
    readonly source: ImportSource
    /** ns per weight unit: the sampling interval (or 1000 for weights in µs). */
    readonly weightNs: number
    readonly samplesAreCounts: boolean
    readonly intervalNs: number
    readonly python?: string
    readonly startTime?: string
    readonly durationNs?: number
    readonly clock?: 'wall' | 'cpu'
    readonly warnings: readonly string[]
    /** metadata.samples: how many times the tool sampled (default the total weight, for counts). */
    readonly samples?: number
  }): ProfileDocument {
    if (this.weight === 0) throw new ImportError('IMPORT_EMPTY', 'the file holds no samples (the program ran shorter than one sampling interval, or every sample was filtered out): nothing to import')
    const ns = (n: number): number => {
      const v = n * meta.weightNs
      if (!Number.isSafeInteger(Math.round(v))) throw new ImportError('IMPORT_CORRUPT', `a count of ${n} samples × ${meta.weightNs} ns does not fit a safe integer of ns: the counts are not a real profile's`)
      return Math.round(v)
    }
    const ordered = [...this.threads.values()].sort((a, b) => Number(b.main) - Number(a.main) || a.order - b.order)
    if (ordered.length > 0 && !ordered.some((t) => t.main)) ordered[0]!.main = true
    const threads: ProfileThread[] = ordered.map((t) => {
      // totals: own samples plus the children's, children after their parents in index order
      for (let i = 0; i < t.frame.length; i++) t.total[i] = t.self[i]!
      for (let i = t.frame.length - 1; i > 0; i--) t.total[t.parent[i]!] = t.total[t.parent[i]!]! + t.total[i]!
      const built: (ProfileNode & { children: ProfileNode[] })[] = new Array(t.frame.length)
      for (let i = t.frame.length - 1; i >= 0; i--) {
        const kids = [...t.children[i]!.values()].map((c) => built[c]!).sort((a, b) => b.totalNs - a.totalNs)
        let childNs = 0
        for (const k of kids) childNs += k.totalNs
        const totalNs = ns(t.total[i]!)
        built[i] = {
          frame: i === 0 ? null : t.frame[i]!,
          calls: 0,
          totalNs,
          // rounding (fractional intervals) must not break totalNs == selfNs + Σ children
          selfNs: Math.max(0, totalNs - childNs),
          ...(meta.samplesAreCounts ? { samples: t.total[i]! } : {}),
          ...(meta.samplesAreCounts && t.lines?.has(i) ? { lines: [...t.lines.get(i)!].sort((a, b) => a[0] - b[0]) } : {}),
          ...(meta.samplesAreCounts && t.offsets?.has(i) ? { offsets: [...t.offsets.get(i)!].sort((a, b) => a[0] - b[0]) } : {}),
          children: kids,
        }
      }
      return { id: t.id, name: t.name, main: t.main, root: built[0]! }
    })
    const total = ns(this.weight)
    const metadata: ProfileMetadata = {
      python: { implementation: 'CPython', version: meta.python ?? '0.0.0' },
      argv: [],
      cwd: '',
      startTime: meta.startTime ?? '1970-01-01T00:00:00.000Z',
      durationNs: meta.durationNs !== undefined && Number.isSafeInteger(meta.durationNs) && meta.durationNs >= 0 ? meta.durationNs : total,
      mode: 'sample',
      clock: meta.clock ?? 'wall',
      overheadNsPerEvent: 0,
      partial: false,
      exitStatus: null,
      warnings: meta.warnings,
      intervalNs: Math.max(1, Math.round(meta.intervalNs)),
      ...(meta.samplesAreCounts ? { samples: meta.samples ?? this.weight } : {}),
      source: meta.source,
    }
    const frames = this.frames.map((f, i) => {
      const known = this.described.get(i)
      return known ? { ...f, instructions: [...known.values()].sort((a, b) => a.offset - b.offset) } : f
    })
    return { pyxray: 'profile', version: PROFILE_VERSION, metadata, frames, threads }
  }
}

/** The interval in µs an importer uses when the file has none, and the warning that says so. */
export function assumedInterval(options: ImportOptions, what: string): { intervalUs: number; warning?: string } {
  if (options.intervalUs !== undefined) return { intervalUs: options.intervalUs }
  return { intervalUs: 1000, warning: `${what} does not record the sampling interval: times are samples × 1 ms (pass --interval-us N for the real one); sample counts are exact` }
}
