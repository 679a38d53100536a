/**
 * The flame-graph layout of one thread's call tree, as flat typed arrays (200k nodes stay cheap):
 * every node gets a depth, a start and a width in the tree's units (ns, or samples), and nodes are
 * grouped by depth and sorted by start, so drawing a viewport is a binary search per row.
 */
import type { ProfileDocument, ProfileNode, ProfileThread } from '../../../src/profile/document.js'

/** One laid-out thread. Arrays are indexed by node id (pre-order). */
export interface FlameLayout {
  readonly nodes: readonly ProfileNode[]
  /** Index into the document's frames; -1 for the thread's root. */
  readonly frame: Int32Array
  readonly depth: Int32Array
  readonly parent: Int32Array
  /** Start, in units from the root's start. */
  readonly start: Float64Array
  /** Width (the node's total), in units. */
  readonly width: Float64Array
  /** Node ids per depth, sorted by start. */
  readonly rows: readonly Int32Array[]
  /** The root's width. */
  readonly total: number
  /** "ns" or "samples". */
  readonly unit: 'ns' | 'samples'
}

/** The weight the flame graph draws: time, or samples when a sampled profile has no times. */
export function weightOf(doc: ProfileDocument, thread: ProfileThread): { unit: 'ns' | 'samples'; w: (n: ProfileNode) => number } {
  if (thread.root.totalNs > 0 || doc.metadata.mode !== 'sample') return { unit: 'ns', w: (n) => n.totalNs }
  return { unit: 'samples', w: (n) => n.samples ?? 0 }
}

/** Lays out one thread. */
export function layoutThread(doc: ProfileDocument, thread: ProfileThread): FlameLayout {
  const { unit, w } = weightOf(doc, thread)
  const nodes: ProfileNode[] = []
  const frame: number[] = []
  const depth: number[] = []
  const parent: number[] = []
  const start: number[] = []
  const width: number[] = []
  // Iterative pre-order walk (deep recursion would overflow the JS stack).
  const stack: { n: ProfileNode; d: number; p: number; x: number }[] = [{ n: thread.root, d: 0, p: -1, x: 0 }]
  while (stack.length) {
    const { n, d, p, x } = stack.pop()!
    const id = nodes.length
    nodes.push(n)
    frame.push(n.frame ?? -1)
    depth.push(d)
    parent.push(p)
    start.push(x)
    width.push(w(n))
    let cx = x
    const kids: { n: ProfileNode; d: number; p: number; x: number }[] = []
    for (const c of n.children) {
      kids.push({ n: c, d: d + 1, p: id, x: cx })
      cx += w(c)
    }
    for (let k = kids.length - 1; k >= 0; k--) stack.push(kids[k]!)
  }
  const maxDepth = depth.reduce((m, v) => Math.max(m, v), 0)
  const buckets: number[][] = Array.from({ length: maxDepth + 1 }, () => [])
  for (let i = 0; i < nodes.length; i++) buckets[depth[i]!]!.push(i)
  const startArr = Float64Array.from(start)
  const rows = buckets.map((b) => Int32Array.from(b.sort((a, c) => startArr[a]! - startArr[c]!)))
  return {
    nodes,
    frame: Int32Array.from(frame),
    depth: Int32Array.from(depth),
    parent: Int32Array.from(parent),
    start: startArr,
    width: Float64Array.from(width),
    rows,
    total: width[0] ?? 0,
    unit,
  }
}

/** First position in `row` whose node ends after `x` (binary search). */
export function firstVisible(l: FlameLayout, row: Int32Array, x: number): number {
  let lo = 0
  let hi = row.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    const id = row[mid]!
    if (l.start[id]! + l.width[id]! <= x) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Per-function totals: self summed, total counted once per stack (recursion is not double counted). */
export interface FunctionRow {
  readonly frame: number
  calls: number
  selfNs: number
  totalNs: number
  memNet: number
  memPeak: number
  hasMemory: boolean
}

/** The top-functions table of one thread. */
export function functionTable(thread: ProfileThread): FunctionRow[] {
  const rows = new Map<number, FunctionRow>()
  const onStack = new Map<number, number>()
  // Iterative (trees of deep recursion nest 100,000+ levels): a frame leaves the stack after its subtree.
  const todo: (ProfileNode | { leave: number })[] = [thread.root]
  while (todo.length > 0) {
    const n = todo.pop()!
    if ('leave' in n) {
      onStack.set(n.leave, onStack.get(n.leave)! - 1)
      continue
    }
    const f = n.frame
    if (f !== null) {
      let r = rows.get(f)
      if (!r) rows.set(f, (r = { frame: f, calls: 0, selfNs: 0, totalNs: 0, memNet: 0, memPeak: 0, hasMemory: false }))
      r.calls += n.calls
      r.selfNs += n.selfNs
      if (!onStack.get(f)) {
        r.totalNs += n.totalNs
        if (n.memory) r.memNet += n.memory.netBytes
      }
      if (n.memory) {
        r.hasMemory = true
        r.memPeak = Math.max(r.memPeak, n.memory.peakBytes)
      }
      onStack.set(f, (onStack.get(f) ?? 0) + 1)
      todo.push({ leave: f })
    }
    for (let i = n.children.length - 1; i >= 0; i--) todo.push(n.children[i]!)
  }
  return [...rows.values()]
}
