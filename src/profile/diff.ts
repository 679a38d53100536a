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
 */
import type { ProfileDocument } from './document.js'
import { flatTable, type FunctionStats } from './flat.js'
import { buildThreadTrees, type CallNode, type FunctionInfo, functionLabel, mergeNodes, shortFile } from './model.js'
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

/** Default options: self time, 10 %, 1 ms, α = 0.05. */
export const DEFAULT_DIFF_OPTIONS: DiffOptions = { metric: 'self', threshold: 0.1, minTimeNs: 1_000_000, alpha: 0.05 }

/** Values of one function or call path on one side (medians over runs). */
export interface DiffValues {
  readonly calls: number
  readonly selfNs: number
  readonly totalNs: number
  readonly netBytes?: number
}

/** The deltas head − base. */
export interface DiffDelta {
  readonly calls: number
  readonly selfNs: number
  readonly totalNs: number
  readonly netBytes?: number
}

/** How a function compares. */
export type FunctionStatus = 'regression' | 'improvement' | 'unchanged' | 'new' | 'vanished'

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

/** One call path of the diff. */
export interface NodeDiff {
  /** Labels from the outermost call to this one. */
  readonly path: readonly string[]
  /** The same calls as identities: FILE:QUALNAME (file relative to cwd), builtins MODULE.NAME. */
  readonly functions: readonly string[]
  readonly status: 'changed' | 'unchanged' | 'new' | 'vanished'
  readonly base: DiffValues | null
  readonly head: DiffValues | null
  readonly delta: DiffDelta
}

/** A side of the diff. */
export interface DiffSide {
  readonly name: string
  readonly python: string
  readonly mode: 'trace' | 'sample'
  readonly clock: 'wall' | 'cpu'
  readonly runs: number
  /** Median over runs of the total time of all threads, ns. */
  readonly totalNs: number
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
  readonly regressions: number
  readonly improvements: number
  /** What to keep in mind (different interpreters or modes, too few runs for the test). */
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

/** Re-keys a tree by diff identity and merges what became the same path. */
function rekey(n: CallNode, cwd: string): CallNode {
  const children = n.children.map((c) => rekey(c, cwd))
  const groups = new Map<string, CallNode[]>()
  for (const c of children) groups.set(c.fn?.key ?? '', [...(groups.get(c.fn?.key ?? '') ?? []), c])
  return { ...n, fn: n.fn === null ? null : diffFunction(n.fn, cwd), children: [...groups.values()].map((g) => (g.length === 1 ? g[0]! : mergeNodes(g))) }
}

interface RunData {
  readonly root: CallNode
  readonly functions: Map<string, FunctionStats>
  readonly paths: Map<string, { node: CallNode; path: string[]; functions: string[] }>
}

function runData(doc: ProfileDocument): RunData[] {
  return runsOf(doc).map((run) => {
    const merged = mergeNodes(buildThreadTrees(doc.frames, run.threads).map((t) => t.root))
    const root = rekey(merged, run.metadata.cwd)
    const functions = new Map(flatTable([root]).map((s) => [s.fn.key, s]))
    const paths = new Map<string, { node: CallNode; path: string[]; functions: string[] }>()
    const walk = (n: CallNode, keys: string, labels: string[], ids: string[]) => {
      for (const c of n.children) {
        const k = `${keys}\u0001${c.fn?.key ?? ''}`
        const l = [...labels, functionLabel(c.fn)]
        const f = [...ids, functionId(c.fn)]
        paths.set(k, { node: c, path: l, functions: f })
        walk(c, k, l, f)
      }
    }
    walk(root, '', [], [])
    return { root, functions, paths }
  })
}

function values(list: readonly ({ calls: number; selfNs: number; totalNs: number; netBytes?: number } | undefined)[]): DiffValues | null {
  if (list.every((v) => v === undefined)) return null
  const get = (f: (v: { calls: number; selfNs: number; totalNs: number; netBytes?: number }) => number) => median(list.map((v) => (v === undefined ? 0 : f(v))))
  const withMemory = list.some((v) => v?.netBytes !== undefined)
  return {
    calls: get((v) => v.calls),
    selfNs: get((v) => v.selfNs),
    totalNs: get((v) => v.totalNs),
    ...(withMemory ? { netBytes: get((v) => v.netBytes ?? 0) } : {}),
  }
}

const ZERO: DiffValues = { calls: 0, selfNs: 0, totalNs: 0 }

function delta(b: DiffValues | null, h: DiffValues | null): DiffDelta {
  const x = b ?? ZERO
  const y = h ?? ZERO
  const memory = x.netBytes !== undefined || y.netBytes !== undefined
  return {
    calls: y.calls - x.calls,
    selfNs: y.selfNs - x.selfNs,
    totalNs: y.totalNs - x.totalNs,
    ...(memory ? { netBytes: (y.netBytes ?? 0) - (x.netBytes ?? 0) } : {}),
  }
}

function side(doc: ProfileDocument, name: string, runs: readonly RunData[]): DiffSide {
  const md = doc.metadata
  return {
    name,
    python: `${md.python.implementation} ${md.python.version}`,
    mode: md.mode,
    clock: md.clock,
    runs: runs.length,
    totalNs: median(runs.map((r) => r.root.totalNs)),
  }
}

/** Compares two validated profile documents. */
export function diffProfiles(base: ProfileDocument, head: ProfileDocument, o: DiffOptions, names: { base: string; head: string } = { base: 'base', head: 'head' }): ProfileDiff {
  const b = runData(base)
  const h = runData(head)
  const tested = b.length >= 2 && h.length >= 2
  const metric = (s: { selfNs: number; totalNs: number }) => (o.metric === 'self' ? s.selfNs : s.totalNs)
  const warnings: string[] = []
  if (base.metadata.mode !== head.metadata.mode || base.metadata.clock !== head.metadata.clock) {
    warnings.push(`the profiles were taken differently (${base.metadata.mode}/${base.metadata.clock} vs ${head.metadata.mode}/${head.metadata.clock}): times may not compare`)
  }
  if (base.metadata.python.version !== head.metadata.python.version) warnings.push(`different interpreters: ${base.metadata.python.version} vs ${head.metadata.python.version}`)
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
    const significant = p === null || p < o.alpha
    const status: FunctionStatus = !bv ? 'new' : !hv ? 'vanished' : large && significant && hm > bm ? 'regression' : large && significant && hm < bm ? 'improvement' : 'unchanged'
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
  const order: Record<FunctionStatus, number> = { regression: 0, improvement: 1, new: 2, vanished: 2, unchanged: 3 }
  const dm = (f: FunctionDiff) => Math.abs(o.metric === 'self' ? f.delta.selfNs : f.delta.totalNs)
  functions.sort((x, y) => order[x.status] - order[y.status] || dm(y) - dm(x) || (x.label < y.label ? -1 : x.label > y.label ? 1 : 0))

  const pathKeys = new Map<string, { path: string[]; functions: string[] }>()
  for (const r of [...b, ...h]) for (const [k, v] of r.paths) if (!pathKeys.has(k)) pathKeys.set(k, v)
  const nodes: NodeDiff[] = []
  for (const [k, { path, functions }] of pathKeys) {
    const bv = values(b.map((r) => r.paths.get(k)?.node))
    const hv = values(h.map((r) => r.paths.get(k)?.node))
    const d = delta(bv, hv)
    const status = !bv ? 'new' : !hv ? 'vanished' : d.calls === 0 && d.selfNs === 0 && d.totalNs === 0 && (d.netBytes ?? 0) === 0 ? 'unchanged' : 'changed'
    nodes.push({ path, functions, status, base: bv, head: hv, delta: d })
  }
  nodes.sort((x, y) => Math.abs(y.delta.totalNs) - Math.abs(x.delta.totalNs) || x.path.length - y.path.length)

  return {
    pyxray: 'diff',
    version: 1,
    base: side(base, names.base, b),
    head: side(head, names.head, h),
    options: { ...o, test: tested ? 'mann-whitney' : 'none' },
    functions,
    nodes,
    regressions: functions.filter((f) => f.status === 'regression').length,
    improvements: functions.filter((f) => f.status === 'improvement').length,
    warnings,
  }
}
