/**
 * `pyxray diff`: two profiles compared call path by call path and function by function.
 *
 * Functions are identified by (file relative to the profile's cwd, qualname) — builtins by
 * (module, qualname) — so a function that moved to other lines, or a checkout in another folder,
 * still matches; call paths are sequences of those. Threads are merged. For a repeated document
 * (`runs`) every value is the median over its runs, and a function's time is also compared run by
 * run with a one-sided Mann-Whitney U test: a regression must be large (median past the threshold
 * and the minimum time) and significant (p < α), where the test's null hypothesis is that head is
 * at most base × (1 + threshold) — the growth must be significantly larger than the threshold, not
 * merely non-zero, which keeps machine noise (runs that are all slower together) from tripping the
 * gate. Call counts are exact and compare exactly.
 *
 * The gate sees everything that can cost time: besides functions that got slower, a function or a
 * call path that exists only in head is a regression when it adds at least the threshold's share
 * of the base total and at least the minimum time (only the outermost new path of a new subtree
 * counts), and the total time is gated like a function. A large growth that is not significant
 * but close to it (repeated profiles, see {@link INCONCLUSIVE_P_FACTOR}) is *inconclusive*:
 * neither passed nor failed, run more. The verdict is
 * `regression` when anything regressed, else `inconclusive` when anything was, else `pass`.
 * Profiles of different programs (argv), interpreters, modes, clocks or engines are compared all
 * the same, with a warning naming the difference.
 *
 * Everything is iterative: call trees of deep recursion (100,000 levels) are ordinary input.
 */
import type { ProfileDocument } from './document.js'
import { flatTable, type FunctionStats } from './flat.js'
import { buildThreadTrees, type CallNode, CallPathIds, type FunctionInfo, functionLabel, mergeNodes, mergeSameFunction, rebuildTree, relativeFile, shortFile } from './model.js'
import { runsOf } from './runs.js'
import { mannWhitney, median, smallestP } from './stats.js'

/** How `diff` decides what is a regression. */
export interface DiffOptions {
  /** self: a function's own time (default; names the function that got slower); total: inclusive. */
  readonly metric: 'self' | 'total'
  /** Relative growth that counts as large, as a fraction (0.1 = 10 %). */
  readonly threshold: number
  /** Functions below this time (ns) in both profiles are never regressions or improvements. */
  readonly minTimeNs: number
  /** Significance level of the Mann-Whitney test for repeated documents. */
  readonly alpha: number
}

/**
 * A large growth that is not significant is *inconclusive* only when the evidence leans towards it:
 * p below this many times α (0.1 for α = 0.05: "+219.6 % at p = 0.057"), or the smallest p the
 * numbers of runs allow (too few runs to ever be significant). A large median change with a p far
 * from α (a few slow runs drawn on one side: 0.4 in A/A comparisons) is noise, not a finding.
 */
export const INCONCLUSIVE_P_FACTOR = 2

/** Default options: self time, 10 %, 1 ms, α = 0.05. */
export const DEFAULT_DIFF_OPTIONS: DiffOptions = { metric: 'self', threshold: 0.1, minTimeNs: 1_000_000, alpha: 0.05 }

/** Values of one function or call path on one side (medians over runs). */
export interface DiffValues {
  readonly calls: number
  readonly selfNs: number
  readonly totalNs: number
  readonly netBytes?: number
  /** Memory mode with the C engine: allocations. */
  readonly allocations?: number
}

/** The deltas head − base. */
export interface DiffDelta {
  readonly calls: number
  readonly selfNs: number
  readonly totalNs: number
  readonly netBytes?: number
  /** Memory mode with the C engine: allocations. */
  readonly allocations?: number
}

/**
 * How a function compares. A new function that adds at least the threshold is a regression (its
 * base is null); a large growth that is not significant is inconclusive.
 */
export type FunctionStatus = 'regression' | 'inconclusive' | 'improvement' | 'unchanged' | 'new' | 'vanished'

/** One function of the diff. */
export interface FunctionDiff {
  readonly qualname: string
  readonly label: string
  /** File relative to the profile's cwd (no line: lines may shift); empty for builtins. */
  readonly file: string
  readonly kind: 'python' | 'builtin'
  readonly status: FunctionStatus
  /** null when the function is not in that profile. */
  readonly base: DiffValues | null
  readonly head: DiffValues | null
  readonly delta: DiffDelta
  /** Relative change of the metric, (head − base) / base; null when base is 0. */
  readonly change: number | null
  /** Past the threshold and the minimum time. */
  readonly large: boolean
  /**
   * One-sided Mann-Whitney p-value that the change exceeds the threshold (head runs against base
   * runs scaled by 1 ± threshold); null when not tested (fewer than 2 runs a side).
   */
  readonly p: number | null
  /** The call counts differ. */
  readonly callsChanged: boolean
}

/**
 * Paths up to this many calls are listed whole in {@link NodeDiff.path} and `functions`; a deeper
 * path lists its first {@link DIFF_PATH_ENDS} calls, one `… N calls …` entry for the calls left out,
 * and its last {@link DIFF_PATH_ENDS} calls, so a diff of 100,000-deep recursion stays linear in
 * size, about 17 entries a path (whole paths would grow with the square of the depth). `parent` and `depth` give the whole
 * structure in memory.
 */
export const DIFF_PATH_CALLS = 200

/** Calls kept at each end of a path deeper than {@link DIFF_PATH_CALLS}. */
export const DIFF_PATH_ENDS = 8

/**
 * One call path of the diff. `path` and `functions` are computed when read (from `parent`), and
 * `parent`, `depth`, `label` and `function` are not enumerable: the JSON form holds the lists only.
 */
export interface NodeDiff {
  /** Labels from the outermost call to this one (deeper than {@link DIFF_PATH_CALLS}: both ends, see there). */
  readonly path: readonly string[]
  /** The same calls as identities: FILE:QUALNAME (file relative to cwd), builtins MODULE.NAME. */
  readonly functions: readonly string[]
  /** The caller's path; null for a call at the top of a thread. Not in the JSON form. */
  readonly parent: NodeDiff | null
  /** Calls on the path (1 at the top). Not in the JSON form. */
  readonly depth: number
  /** The last call's label (`path`'s last entry). Not in the JSON form. */
  readonly label: string
  /** The last call's identity (`functions`' last entry). Not in the JSON form. */
  readonly function: string
  readonly status: 'changed' | 'unchanged' | 'new' | 'vanished'
  readonly base: DiffValues | null
  readonly head: DiffValues | null
  readonly delta: DiffDelta
  /**
   * New paths only: the gate's finding when this is the outermost new path and it adds at least the
   * threshold (regression, or inconclusive when not significant); absent otherwise.
   */
  readonly gate?: 'regression' | 'inconclusive'
  /** New paths with a gate finding: one-sided Mann-Whitney p that head's total exceeds 0 (repeated profiles). */
  readonly p?: number | null
}

/** The gate's view of the total time (all threads). */
export interface TotalDiff {
  readonly status: 'regression' | 'inconclusive' | 'improvement' | 'unchanged'
  /** Relative change of the total, (head − base) / base; null when base is 0. */
  readonly change: number | null
  /** As for functions: p that the growth (or shrinkage) exceeds the threshold; null when not tested. */
  readonly p: number | null
}

/** The gate's overall answer: anything regressed; else anything inconclusive; else pass. */
export type DiffVerdict = 'regression' | 'inconclusive' | 'pass'

/** A side of the diff. */
export interface DiffSide {
  readonly name: string
  readonly python: string
  readonly mode: 'trace' | 'sample'
  readonly clock: 'wall' | 'cpu' | 'gil'
  readonly runs: number
  /** Median over runs of the total time of all threads, ns. */
  readonly totalNs: number
  /** The profiled command line (argv of the first run). */
  readonly argv?: readonly string[]
  /** Trace mode: the engine of the hot path (c or python). */
  readonly engine?: string
}

/** A whole diff; the JSON format is this object (schema/diff.schema.json). */
export interface ProfileDiff {
  readonly pyxray: 'diff'
  readonly version: 1
  readonly base: DiffSide
  readonly head: DiffSide
  readonly options: DiffOptions & { readonly test: 'mann-whitney' | 'none' }
  /** Regressions first (largest growth first), then improvements, then the rest by |Δ|. */
  readonly functions: readonly FunctionDiff[]
  /** Every call path of either profile, by |Δ total| largest first. */
  readonly nodes: readonly NodeDiff[]
  /** Regressions found: functions, new call paths and the total (each counted once). */
  readonly regressions: number
  readonly improvements: number
  /** Large growths that are not significant: functions, new call paths and the total. */
  readonly inconclusive: number
  readonly total: TotalDiff
  readonly verdict: DiffVerdict
  /** What to keep in mind (different programs, interpreters or modes, too few runs for the test). */
  readonly warnings: readonly string[]
}

/**
 * A profile's function identity for diffs: file relative to cwd (library files from their import
 * root, so `json/__init__.py` matches across interpreters and virtualenvs) and qualname, no line.
 */
function diffFunction(fn: FunctionInfo, cwd: string): FunctionInfo {
  const file = fn.kind === 'builtin' ? '' : shortFile(fn.file, cwd)
  const key = fn.kind === 'builtin' ? `builtin\0${fn.module ?? ''}\0${fn.qualname}` : `python\0${file}\0${fn.qualname}`
  return { ...fn, key, file, firstlineno: 0 }
}

/** A function's identity in diffs, readable: FILE:QUALNAME, or MODULE.NAME for builtins. */
function functionId(fn: FunctionInfo | null): string {
  if (fn === null) return ''
  return fn.kind === 'builtin' ? `${fn.module ?? 'builtins'}.${fn.qualname}` : `${fn.file}:${fn.qualname}`
}

/** Re-keys a tree by diff identity and merges what became the same path (post-order, iteratively). */
function rekey(root: CallNode, cwd: string): CallNode {
  return rebuildTree(root, (n, children) => ({ ...n, fn: n.fn === null ? null : diffFunction(n.fn, cwd), children: mergeSameFunction(children) }))
}

interface PathData {
  readonly node: CallNode
  /** The last call: its label and identity. */
  readonly label: string
  readonly function: string
  /** The parent path's id; -1 at the top. */
  readonly parent: number
}

interface RunData {
  readonly root: CallNode
  readonly functions: Map<string, FunctionStats>
  readonly paths: Map<number, PathData>
}

function runData(doc: ProfileDocument, ids: CallPathIds): RunData[] {
  return runsOf(doc).map((run) => {
    const merged = mergeNodes(buildThreadTrees(doc.frames, run.threads).map((t) => t.root))
    const root = rekey(merged, run.metadata.cwd)
    const functions = new Map(flatTable([root]).map((s) => [s.fn.key, s]))
    const paths = new Map<number, PathData>()
    // A path is its parent's id and a function key (O(1) per node, whatever the depth).
    const todo: [CallNode, number][] = [[root, -1]]
    while (todo.length > 0) {
      const [node, id] = todo.pop()!
      for (const c of node.children) {
        const k = ids.id(id, c.fn?.key ?? '')
        paths.set(k, { node: c, label: functionLabel(c.fn), function: functionId(c.fn), parent: id })
        todo.push([c, k])
      }
    }
    return { root, functions, paths }
  })
}

type NodeFields = Omit<NodeDiff, 'path' | 'functions' | 'parent' | 'depth' | 'label' | 'function'>

/**
 * A NodeDiff: the structure (parent, depth, label, function, anchor) in private fields, the lists
 * computed when read, and the JSON form (`toJSON`) of the lists and the values only. A class, not
 * an object given accessors one by one: a 200,000-deep diff made as many dictionary-mode objects
 * (1 s of 5 s CPU, most of the rest in the collector).
 */
class PathNode {
  readonly #parent: PathNode | null
  readonly #depth: number
  readonly #label: string
  readonly #function: string
  /** The ancestor DIFF_PATH_ENDS calls deep (where the kept head of a deep path ends). */
  readonly #anchor: PathNode | null
  readonly status: NodeDiff['status']
  readonly base: DiffValues | null
  readonly head: DiffValues | null
  readonly delta: DiffDelta
  readonly gate?: NodeDiff['gate']
  readonly p?: number | null

  constructor(parent: PathNode | null, label: string, fn: string, fields: NodeFields) {
    this.#parent = parent
    this.#depth = (parent?.depth ?? 0) + 1
    this.#label = label
    this.#function = fn
    this.#anchor = this.#depth === DIFF_PATH_ENDS ? this : this.#depth > DIFF_PATH_ENDS ? (parent as PathNode).#anchor : null
    this.status = fields.status
    this.base = fields.base
    this.head = fields.head
    this.delta = fields.delta
    if (fields.gate !== undefined) {
      this.gate = fields.gate
      this.p = fields.p
    }
  }

  get parent(): PathNode | null {
    return this.#parent
  }
  get depth(): number {
    return this.#depth
  }
  get label(): string {
    return this.#label
  }
  get function(): string {
    return this.#function
  }
  get path(): string[] {
    return this.#list((x) => x.#label)
  }
  get functions(): string[] {
    return this.#list((x) => x.#function)
  }

  /** Whole up to DIFF_PATH_CALLS calls, else both ends around one `… N calls …` entry. */
  #list(pick: (x: PathNode) => string): string[] {
    const all = this.#depth <= DIFF_PATH_CALLS
    const tail: string[] = []
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the walk up starts here
    let x: PathNode | null = this
    while (x !== null && (all || tail.length < DIFF_PATH_ENDS)) {
      tail.push(pick(x))
      x = x.#parent
    }
    tail.reverse()
    if (x === null) return tail
    const left = x.#depth - DIFF_PATH_ENDS
    x = x.#anchor
    const head: string[] = []
    while (x !== null) {
      head.push(pick(x))
      x = x.#parent
    }
    head.reverse()
    return [...head, `… ${left} calls …`, ...tail]
  }

  /** The JSON form: the lists, then the values (schema/diff.schema.json). */
  toJSON(): Record<string, unknown> {
    return { path: this.path, functions: this.functions, status: this.status, base: this.base, head: this.head, delta: this.delta, ...(this.gate !== undefined ? { gate: this.gate, p: this.p } : {}) }
  }
}

function nodeDiff(parent: NodeDiff | null, label: string, fn: string, fields: NodeFields): NodeDiff {
  return new PathNode(parent as PathNode | null, label, fn, fields)
}

type Values = { calls: number; selfNs: number; totalNs: number; netBytes?: number; allocations?: number }

function values(list: readonly (Values | undefined)[]): DiffValues | null {
  if (list.every((v) => v === undefined)) return null
  const get = (f: (v: Values) => number) => median(list.map((v) => (v === undefined ? 0 : f(v))))
  const withMemory = list.some((v) => v?.netBytes !== undefined)
  const withAllocations = list.some((v) => v?.allocations !== undefined)
  return {
    calls: get((v) => v.calls),
    selfNs: get((v) => v.selfNs),
    totalNs: get((v) => v.totalNs),
    ...(withMemory ? { netBytes: get((v) => v.netBytes ?? 0) } : {}),
    ...(withAllocations ? { allocations: get((v) => v.allocations ?? 0) } : {}),
  }
}

const ZERO: DiffValues = { calls: 0, selfNs: 0, totalNs: 0 }

function delta(b: DiffValues | null, h: DiffValues | null): DiffDelta {
  const x = b ?? ZERO
  const y = h ?? ZERO
  const memory = x.netBytes !== undefined || y.netBytes !== undefined
  const allocations = x.allocations !== undefined || y.allocations !== undefined
  return {
    calls: y.calls - x.calls,
    selfNs: y.selfNs - x.selfNs,
    totalNs: y.totalNs - x.totalNs,
    ...(memory ? { netBytes: (y.netBytes ?? 0) - (x.netBytes ?? 0) } : {}),
    ...(allocations ? { allocations: (y.allocations ?? 0) - (x.allocations ?? 0) } : {}),
  }
}

function side(doc: ProfileDocument, name: string, runs: readonly RunData[]): DiffSide {
  const md = runsOf(doc)[0]?.metadata ?? doc.metadata
  return {
    name,
    python: `${md.python.implementation} ${md.python.version}`,
    mode: md.mode,
    clock: md.clock,
    runs: runs.length,
    totalNs: median(runs.map((r) => r.root.totalNs)),
    argv: md.argv,
    ...(md.mode === 'trace' && md.engine !== undefined ? { engine: md.engine } : {}),
  }
}

/** argv with a script path inside the profile's cwd made relative, so two checkouts compare equal. */
function comparableArgv(argv: readonly string[], cwd: string): string[] {
  return argv.map((a, i) => (i === 0 && a.length > 0 ? relativeFile(a, cwd) : a))
}

/** Warnings for profiles that were not taken the same way (program, interpreter, mode, clock, engine). */
function differenceWarnings(base: ProfileDocument, head: ProfileDocument): string[] {
  const b = runsOf(base)[0]?.metadata ?? base.metadata
  const h = runsOf(head)[0]?.metadata ?? head.metadata
  const out: string[] = []
  const ba = comparableArgv(b.argv, b.cwd)
  const ha = comparableArgv(h.argv, h.cwd)
  if (ba.length !== ha.length || ba.some((a, i) => a !== ha[i])) {
    out.push(`the profiles ran different command lines (argv ${JSON.stringify(ba.join(' '))} vs ${JSON.stringify(ha.join(' '))}): they may be different programs or inputs`)
  }
  if (b.mode !== h.mode || b.clock !== h.clock) out.push(`the profiles were taken differently (${b.mode}/${b.clock} vs ${h.mode}/${h.clock}): times may not compare`)
  const bp = `${b.python.implementation} ${b.python.version}`
  const hp = `${h.python.implementation} ${h.python.version}`
  if (bp !== hp) out.push(`different interpreters: ${bp} vs ${hp}`)
  const be = b.mode === 'trace' ? (b.engine ?? 'python') : undefined
  const he = h.mode === 'trace' ? (h.engine ?? 'python') : undefined
  if (be !== undefined && he !== undefined && be !== he) out.push(`different trace engines (${be} vs ${he}): the profiler's own cost differs, times may not compare`)
  return out
}

/** Compares two validated profile documents. */
export function diffProfiles(base: ProfileDocument, head: ProfileDocument, o: DiffOptions, names: { base: string; head: string } = { base: 'base', head: 'head' }): ProfileDiff {
  const ids = new CallPathIds()
  const b = runData(base, ids)
  const h = runData(head, ids)
  const tested = b.length >= 2 && h.length >= 2
  const metric = (s: { selfNs: number; totalNs: number }) => (o.metric === 'self' ? s.selfNs : s.totalNs)
  const warnings = differenceWarnings(base, head)
  const baseTotal = median(b.map((r) => r.root.totalNs))
  const headTotal = median(h.map((r) => r.root.totalNs))
  /** What a new function or path must add to count: the threshold's share of the base total (of head's when base is empty), and the minimum time. */
  const newLimit = Math.max(o.minTimeNs, o.threshold * (baseTotal > 0 ? baseTotal : headTotal))
  /** Not significant, but close enough (or as extreme as the runs allow) to call for more runs. */
  const leaning = (p: number | null) => p !== null && p < Math.max(INCONCLUSIVE_P_FACTOR * o.alpha, smallestP(b.length, h.length) + 1e-12)
  /** p that head's values exceed base's scaled by `scale` (growth), one-sided; null when not tested. */
  const pGrowth = (xs: number[], ys: number[], scale: number) => (tested ? mannWhitney(xs.map((x) => x * scale), ys).pGreater : null)
  if (!tested) warnings.push('single runs: time changes are judged by the threshold alone; profile with --repeat N (N ≥ 4) for a significance test')
  else if (smallestP(b.length, h.length) >= o.alpha) {
    warnings.push(`with ${b.length} and ${h.length} runs no p-value can be below α = ${o.alpha} (smallest possible ${smallestP(b.length, h.length).toFixed(3)}): use more runs`)
  }

  const keys = new Map<string, FunctionInfo>()
  for (const r of [...b, ...h]) for (const [k, s] of r.functions) if (!keys.has(k)) keys.set(k, s.fn)
  const functions: FunctionDiff[] = []
  for (const [k, fn] of keys) {
    const bv = values(b.map((r) => r.functions.get(k)))
    const hv = values(h.map((r) => r.functions.get(k)))
    const d = delta(bv, hv)
    const bm = bv ? metric(bv) : 0
    const hm = hv ? metric(hv) : 0
    const change = bm > 0 ? (hm - bm) / bm : null
    const large = Math.max(bm, hm) >= o.minTimeNs && (change === null ? hm > 0 : Math.abs(change) >= o.threshold)
    let p: number | null = null
    if (tested && bv && hv) {
      // H0 for a regression: head ≤ base × (1 + threshold); for an improvement: head ≥ base ×
      // (1 − threshold). Testing against the scaled base asks whether the change is significantly
      // larger than the threshold, not merely significantly non-zero.
      const xs = b.map((r) => {
        const s = r.functions.get(k)
        return s ? metric(s) : 0
      })
      const ys = h.map((r) => {
        const s = r.functions.get(k)
        return s ? metric(s) : 0
      })
      p =
        hm >= bm
          ? mannWhitney(
              xs.map((x) => x * (1 + o.threshold)),
              ys,
            ).pGreater
          : mannWhitney(
              xs.map((x) => x * (1 - o.threshold)),
              ys,
            ).pLess
    }
    let significant = p === null || p < o.alpha
    let status: FunctionStatus
    if (!bv) {
      // A new function: a regression when it adds at least the threshold's share of the total.
      const adds = hm >= newLimit
      if (adds) {
        p = pGrowth(
          b.map(() => 0),
          h.map((r) => {
            const s = r.functions.get(k)
            return s ? metric(s) : 0
          }),
          1,
        )
        significant = p === null || p < o.alpha
      }
      status = adds ? (significant ? 'regression' : leaning(p) ? 'inconclusive' : 'new') : 'new'
    } else if (!hv) status = 'vanished'
    else if (large && hm > bm && significant) status = 'regression'
    else if (large && hm > bm && leaning(p)) status = 'inconclusive'
    else status = large && significant && hm < bm ? 'improvement' : 'unchanged'
    functions.push({
      qualname: fn.qualname,
      label: functionLabel(fn),
      file: fn.file,
      kind: fn.kind,
      status,
      base: bv,
      head: hv,
      delta: d,
      change,
      large,
      p,
      callsChanged: (bv?.calls ?? 0) !== (hv?.calls ?? 0),
    })
  }
  const order: Record<FunctionStatus, number> = { regression: 0, inconclusive: 1, improvement: 2, new: 3, vanished: 3, unchanged: 4 }
  const dm = (f: FunctionDiff) => Math.abs(o.metric === 'self' ? f.delta.selfNs : f.delta.totalNs)
  functions.sort((x, y) => order[x.status] - order[y.status] || dm(y) - dm(x) || (x.label < y.label ? -1 : x.label > y.label ? 1 : 0))

  const pathKeys = new Map<number, PathData>()
  for (const r of [...b, ...h]) for (const [k, v] of r.paths) if (!pathKeys.has(k)) pathKeys.set(k, v)
  const inBase = (k: number) => k === -1 || b.some((r) => r.paths.has(k))
  const nodes: NodeDiff[] = []
  // Parents come before their children in pathKeys (a path's id is made after its parent's).
  const byId = new Map<number, NodeDiff>()
  for (const [k, { label, function: fid, parent }] of pathKeys) {
    const bv = values(b.map((r) => r.paths.get(k)?.node))
    const hv = values(h.map((r) => r.paths.get(k)?.node))
    const d = delta(bv, hv)
    const status = !bv ? 'new' : !hv ? 'vanished' : d.calls === 0 && d.selfNs === 0 && d.totalNs === 0 && (d.netBytes ?? 0) === 0 ? 'unchanged' : 'changed'
    const up = byId.get(parent) ?? null
    let node: NodeDiff
    // The outermost new path of a new subtree is gated on what it adds (its total).
    if (status === 'new' && hv && hv.totalNs >= newLimit && inBase(parent)) {
      const p = pGrowth(
        b.map(() => 0),
        h.map((r) => r.paths.get(k)?.node.totalNs ?? 0),
        1,
      )
      const gate = p === null || p < o.alpha ? 'regression' : leaning(p) ? 'inconclusive' : undefined
      node = nodeDiff(up, label, fid, { status, base: bv, head: hv, delta: d, ...(gate ? { gate, p } : {}) })
    } else node = nodeDiff(up, label, fid, { status, base: bv, head: hv, delta: d })
    byId.set(k, node)
    nodes.push(node)
  }
  nodes.sort((x, y) => Math.abs(y.delta.totalNs) - Math.abs(x.delta.totalNs) || x.depth - y.depth)

  // The total time, gated like a function's.
  const totalChange = baseTotal > 0 ? (headTotal - baseTotal) / baseTotal : null
  const totalLarge = Math.max(baseTotal, headTotal) >= o.minTimeNs && Math.abs(headTotal - baseTotal) >= o.minTimeNs && totalChange !== null && Math.abs(totalChange) >= o.threshold
  const totalP = tested
    ? headTotal >= baseTotal
      ? pGrowth(
          b.map((r) => r.root.totalNs),
          h.map((r) => r.root.totalNs),
          1 + o.threshold,
        )
      : mannWhitney(
          b.map((r) => r.root.totalNs * (1 - o.threshold)),
          h.map((r) => r.root.totalNs),
        ).pLess
    : null
  const totalSignificant = totalP === null || totalP < o.alpha
  const total: TotalDiff = {
    status: !totalLarge ? 'unchanged' : headTotal > baseTotal ? (totalSignificant ? 'regression' : leaning(totalP) ? 'inconclusive' : 'unchanged') : totalSignificant ? 'improvement' : 'unchanged',
    change: totalChange,
    p: totalP,
  }
  const count = (fs: FunctionStatus | 'regression' | 'inconclusive') =>
    functions.filter((f) => f.status === fs).length + nodes.filter((n) => n.gate === fs).length + (total.status === fs ? 1 : 0)
  const regressions = count('regression')
  const inconclusive = count('inconclusive')

  return {
    pyxray: 'diff',
    version: 1,
    base: side(base, names.base, b),
    head: side(head, names.head, h),
    options: { ...o, test: tested ? 'mann-whitney' : 'none' },
    functions,
    nodes,
    regressions,
    improvements: functions.filter((f) => f.status === 'improvement').length + (total.status === 'improvement' ? 1 : 0),
    inconclusive,
    total,
    verdict: regressions > 0 ? 'regression' : inconclusive > 0 ? 'inconclusive' : 'pass',
    warnings,
  }
}
