/**
 * The flame-graph layout of a call tree (src/profile/flame-tree.ts), as flat typed arrays (200k nodes stay cheap):
 * every node gets a depth, a start and a width in the tree's units (ns, or samples), and nodes are
 * grouped by depth and sorted by start, so drawing a viewport is a binary search per row.
 */
import type { ProfileNode, ProfileThread } from '../../../src/profile/document.js'
import type { FlameTree } from '../../../src/profile/flame-tree.js'

/** One laid-out tree. Arrays are indexed by node id (the tree's pre-order index). */
export interface FlameLayout {
  /** The tree laid out: a node's values are `tree.nodes[id]`. */
  readonly tree: FlameTree
  /** The node's function (the tree's function index); -1 for the root. */
  readonly frame: Int32Array
  readonly depth: Int32Array
  readonly parent: Int32Array
  /** Start, in units from the root's start. */
  readonly start: Float64Array
  /** Width (the node's value), in units. */
  readonly width: Float64Array
  /** Node ids per depth, sorted by start. */
  readonly rows: readonly Int32Array[]
  /** The root's width. */
  readonly total: number
  /** "ns" or "samples". */
  readonly unit: 'ns' | 'samples'
}

/** Lays out a tree: a node starts where its previous sibling ends, or where its parent starts. */
export function layoutTree(tree: FlameTree): FlameLayout {
  const n = tree.nodes.length
  const frame = new Int32Array(n)
  const depth = new Int32Array(n)
  const parent = new Int32Array(n)
  const start = new Float64Array(n)
  const width = new Float64Array(n)
  let maxDepth = 0
  // Pre-order: a parent is laid out before its children.
  for (let id = 0; id < n; id++) {
    const node = tree.nodes[id]!
    frame[id] = node.fn
    parent[id] = node.parent
    width[id] = node.value
    if (node.parent >= 0) depth[id] = depth[node.parent]! + 1
    if (depth[id]! > maxDepth) maxDepth = depth[id]!
    let x = start[id]!
    for (const c of node.children) {
      start[c] = x
      x += tree.nodes[c]!.value
    }
  }
  const counts = new Int32Array(n ? maxDepth + 1 : 0)
  for (let id = 0; id < n; id++) counts[depth[id]!]!++
  const rows = Array.from(counts, (c) => new Int32Array(c))
  // Pre-order meets the nodes of one depth from left to right: each row comes out sorted by start.
  const fill = new Int32Array(counts.length)
  for (let id = 0; id < n; id++) {
    const d = depth[id]!
    rows[d]![fill[d]!++] = id
  }
  return { tree, frame, depth, parent, start, width, rows, total: width[0] ?? 0, unit: tree.unit }
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
