/**
 * Per-function views of call trees: the flat table (aggregated over every call path) and the
 * callers and callees of one function. Recursion-safe: a function's total time (and net memory, an
 * inclusive quantity too) counts only its outermost activations, so `fib` nested in `fib` is not
 * counted twice; calls and self time add up over every path. The same rule holds per edge for
 * callers and callees.
 */
import type { CallNode, FunctionInfo } from './model.js'

/** One row of the flat table. */
export interface FunctionStats {
  readonly fn: FunctionInfo
  /** Calls over every path. */
  readonly calls: number
  /** Exclusive time over every path, ns. */
  readonly selfNs: number
  /** Inclusive time, outermost activations only, ns. */
  readonly totalNs: number
  /** Net bytes, outermost activations only (memory mode). */
  readonly netBytes?: number
  /** Largest peak over every path (memory mode). */
  readonly peakBytes?: number
  /** Allocations, outermost activations only (memory mode, C engine). */
  readonly allocations?: number
  /** Sample mode: samples with the function on the stack (outermost activations only). */
  readonly samples?: number
}

interface Acc {
  fn: FunctionInfo
  calls: number
  selfNs: number
  totalNs: number
  netBytes?: number
  peakBytes?: number
  allocations?: number
  samples?: number
}

function acc(map: Map<string, Acc>, fn: FunctionInfo, key = fn.key): Acc {
  let a = map.get(key)
  if (!a) {
    a = { fn, calls: 0, selfNs: 0, totalNs: 0 }
    map.set(key, a)
  }
  return a
}

/** Adds node `n` into `a`; inclusive quantities only when `outermost`. */
function add(a: Acc, n: CallNode, outermost: boolean): void {
  a.calls += n.calls
  a.selfNs += n.selfNs
  if (n.peakBytes !== undefined) a.peakBytes = Math.max(a.peakBytes ?? 0, n.peakBytes)
  if (!outermost) return
  a.totalNs += n.totalNs
  if (n.netBytes !== undefined) a.netBytes = (a.netBytes ?? 0) + n.netBytes
  if (n.allocations !== undefined) a.allocations = (a.allocations ?? 0) + n.allocations
  if (n.samples !== undefined) a.samples = (a.samples ?? 0) + n.samples
}

/** Walks every node with the count of activations of each key on the path above it (iteratively, pre-order). */
function walk(roots: readonly CallNode[], visit: (n: CallNode, parent: CallNode | null, active: Map<string, number>) => void, keyOf: (n: CallNode, parent: CallNode | null) => string | null): void {
  const active = new Map<string, number>()
  // Entries: a node to enter (with its parent), or a key to leave (its subtree is done).
  const todo: ({ n: CallNode; parent: CallNode | null } | { leave: string })[] = []
  for (let i = roots.length - 1; i >= 0; i--) todo.push({ n: roots[i]!, parent: null })
  while (todo.length > 0) {
    const item = todo.pop()!
    if ('leave' in item) {
      active.set(item.leave, active.get(item.leave)! - 1)
      continue
    }
    const { n, parent } = item
    visit(n, parent, active)
    const k = keyOf(n, parent)
    if (k !== null) {
      active.set(k, (active.get(k) ?? 0) + 1)
      todo.push({ leave: k })
    }
    for (let i = n.children.length - 1; i >= 0; i--) todo.push({ n: n.children[i]!, parent: n })
  }
}

/** The flat table of the functions under `roots` (roots themselves included unless they are thread roots). */
export function flatTable(roots: readonly CallNode[]): FunctionStats[] {
  const out = new Map<string, Acc>()
  walk(
    roots,
    (n, _p, active) => {
      if (n.fn === null) return
      add(acc(out, n.fn), n, !active.get(n.fn.key))
    },
    (n) => n.fn?.key ?? null,
  )
  return [...out.values()]
}

const edgeKey = (parent: CallNode | null, child: CallNode) => `${parent?.fn?.key ?? ''}\u0001${child.fn?.key ?? ''}`

/** Callers or callees of one function: the function itself and one row per neighbour. */
export interface Neighbours {
  /** The function's own row of the flat table. */
  readonly self: FunctionStats
  /**
   * Callers: per caller, the calls into the function from it and the function's time on those
   * calls. Callees: per callee, its calls and time when called by the function. A null fn is the
   * thread root (called from outside the profile).
   */
  readonly rows: readonly (Omit<FunctionStats, 'fn'> & { readonly fn: FunctionInfo | null })[]
}

/** Who calls the functions matched by `match`, and with what time. */
export function callersOf(roots: readonly CallNode[], match: (fn: FunctionInfo) => boolean): Neighbours | undefined {
  return neighbours(roots, match, 'callers')
}

/** What the functions matched by `match` call, and with what time. */
export function calleesOf(roots: readonly CallNode[], match: (fn: FunctionInfo) => boolean): Neighbours | undefined {
  return neighbours(roots, match, 'callees')
}

const ROOT_FN: FunctionInfo = { key: '', qualname: '(root)', file: '', firstlineno: 0, kind: 'python', library: false }

function neighbours(roots: readonly CallNode[], match: (fn: FunctionInfo) => boolean, dir: 'callers' | 'callees'): Neighbours | undefined {
  const self = flatTable(roots).filter((s) => match(s.fn))
  if (self.length === 0) return undefined
  const rows = new Map<string, Acc>()
  walk(
    roots,
    (n, parent, active) => {
      // Callers: visit the calls of the function (row = the caller); callees: the calls made by
      // it (row = the callee). Either way the edge counts its time only when it is not nested in
      // itself on the path above.
      if (n.fn === null || parent === null) return
      const outermost = !active.get(edgeKey(parent, n))
      if (dir === 'callers' && match(n.fn)) add(acc(rows, parent.fn ?? ROOT_FN), n, outermost)
      else if (dir === 'callees' && parent.fn !== null && match(parent.fn)) add(acc(rows, n.fn), n, outermost)
    },
    (n, parent) => (parent === null ? null : edgeKey(parent, n)),
  )
  const merged = self.reduce<Acc>(
    (a, s) => {
      a.calls += s.calls
      a.selfNs += s.selfNs
      a.totalNs += s.totalNs
      if (s.netBytes !== undefined) a.netBytes = (a.netBytes ?? 0) + s.netBytes
      if (s.peakBytes !== undefined) a.peakBytes = Math.max(a.peakBytes ?? 0, s.peakBytes)
      if (s.allocations !== undefined) a.allocations = (a.allocations ?? 0) + s.allocations
      if (s.samples !== undefined) a.samples = (a.samples ?? 0) + s.samples
      return a
    },
    { fn: self[0]!.fn, calls: 0, selfNs: 0, totalNs: 0 },
  )
  return {
    self: merged,
    rows: [...rows.values()].map((r) => (r.fn === ROOT_FN ? { ...r, fn: null } : r)).sort((a, b) => b.totalNs - a.totalNs),
  }
}
