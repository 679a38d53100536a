/**
 * Call trees as the flame graph draws them: flat, in pre-order, node 0 the root, every node's
 * children widest first — built from a profile thread, from a diff, or derived from another such
 * tree (library frames collapsed into their callers; a function's callers and callees merged over
 * all its call sites, the "sandwich"). The web UI lays these out and draws them; nothing here
 * knows about drawing. Everything is iterative: trees of 100,000-deep recursion are ordinary input.
 *
 * Weights: `value` and `self` are in the tree's {@link FlameTree.unit} (ns of the profile's clock,
 * or samples for a sampled profile without times); `totalNs` / `selfNs` are always ns.
 */
import type { NodeDiff, ProfileDiff } from './diff.js'
import type { ProfileDocument, ProfileFrame, ProfileNode, ProfileThread } from './document.js'
import { shortFile } from './model.js'

/** One node of a {@link FlameTree}. */
export interface FlameTreeNode {
  /** The node's function: an index into the tree's function table (a document's frames, or a diff's identities); -1 for the root. */
  readonly fn: number
  /** The caller's index; -1 for the root. Smaller than the node's own index (pre-order). */
  readonly parent: number
  /** Callees' indices, widest first; the first is `index + 1` when there is one (pre-order). */
  readonly children: readonly number[]
  /** Inclusive weight: the drawn width, in the tree's unit. */
  readonly value: number
  /** Exclusive weight, in the tree's unit: `value` less the children's values. */
  readonly self: number
  /** Entries into this path (calls plus resumptions); 0 in sample mode. */
  readonly calls: number
  /** Inclusive time, ns. */
  readonly totalNs: number
  /** Exclusive time, ns. */
  readonly selfNs: number
  /** Memory mode: bytes still allocated when the calls returned, summed over merged nodes. */
  readonly netBytes?: number
  /** Memory mode: highest level above the entry level, the maximum over merged nodes. */
  readonly peakBytes?: number
  /** Memory mode, C engine: allocations made by the calls and their callees, summed over merged nodes. */
  readonly allocations?: number
}

/** A call tree for the flame graph. */
export interface FlameTree {
  /** Pre-order; nodes[0] is the root. */
  readonly nodes: readonly FlameTreeNode[]
  /** What `value` and `self` count. */
  readonly unit: 'ns' | 'samples'
}

/** A node while a tree is built: children by function, merged on insertion. */
interface Acc {
  fn: number
  value: number
  self: number
  calls: number
  totalNs: number
  selfNs: number
  netBytes?: number
  peakBytes?: number
  allocations?: number
  kids: Acc[]
  byFn: Map<number, Acc>
}

function acc(fn: number): Acc {
  return { fn, value: 0, self: 0, calls: 0, totalNs: 0, selfNs: 0, kids: [], byFn: new Map() }
}

/** `a`'s child of function `fn`, made on first use (one child per function: same-function siblings merge). */
function childOf(a: Acc, fn: number): Acc {
  let c = a.byFn.get(fn)
  if (!c) {
    c = acc(fn)
    a.byFn.set(fn, c)
    a.kids.push(c)
  }
  return c
}

/** The values of `n` added into `a` (self included). */
function addValues(a: Acc, n: FlameTreeNode): void {
  a.value += n.value
  a.self += n.self
  a.calls += n.calls
  a.totalNs += n.totalNs
  a.selfNs += n.selfNs
  if (n.netBytes !== undefined) a.netBytes = (a.netBytes ?? 0) + n.netBytes
  if (n.peakBytes !== undefined) a.peakBytes = Math.max(a.peakBytes ?? 0, n.peakBytes)
  if (n.allocations !== undefined) a.allocations = (a.allocations ?? 0) + n.allocations
}

/**
 * The finished tree of an accumulator: pre-order, children widest first (ties keep insertion
 * order). `self` is recomputed as `value` less the children's values when `deriveSelf` (trees
 * whose values were summed along paths: the sandwich's callers), else kept as accumulated.
 */
function freeze(root: Acc, unit: FlameTree['unit'], deriveSelf = false): FlameTree {
  const nodes: FlameTreeNode[] = []
  const todo: Acc[] = [root]
  const parents: number[] = [-1]
  const byValue = (x: Acc, y: Acc) => y.value - x.value
  while (todo.length > 0) {
    const a = todo.pop()!
    const parent = parents.pop()!
    const id = nodes.length
    let kids = a.kids
    for (let k = 1; k < kids.length; k++) {
      if (kids[k]!.value > kids[k - 1]!.value) {
        kids = kids.slice().sort(byValue)
        break
      }
    }
    let self = a.self
    let selfNs = a.selfNs
    if (deriveSelf) {
      self = a.value
      selfNs = a.totalNs
      for (const k of kids) {
        self -= k.value
        selfNs -= k.totalNs
      }
      self = Math.max(0, self)
      selfNs = Math.max(0, selfNs)
    }
    const node: { -readonly [K in keyof FlameTreeNode]: FlameTreeNode[K] } = { fn: a.fn, parent, children: [], value: a.value, self, calls: a.calls, totalNs: a.totalNs, selfNs }
    if (a.netBytes !== undefined) node.netBytes = a.netBytes
    if (a.peakBytes !== undefined) node.peakBytes = a.peakBytes
    if (a.allocations !== undefined) node.allocations = a.allocations
    nodes.push(node)
    if (parent >= 0) (nodes[parent]!.children as number[]).push(id)
    // Pushed last-first so the widest child is visited (numbered) next.
    for (let k = kids.length - 1; k >= 0; k--) {
      todo.push(kids[k]!)
      parents.push(id)
    }
  }
  return { nodes, unit }
}

/**
 * A thread's call tree: functions are the document's frame indices. Its unit is ns, or samples
 * when a sampled profile has no times (then a node's self is its samples less its children's).
 */
export function threadTree(doc: ProfileDocument, thread: ProfileThread): FlameTree {
  const unit = thread.root.totalNs > 0 || doc.metadata.mode !== 'sample' ? 'ns' : 'samples'
  const weight = unit === 'ns' ? (n: ProfileNode) => n.totalNs : (n: ProfileNode) => n.samples ?? 0
  const nodes: FlameTreeNode[] = []
  const todo: ProfileNode[] = [thread.root]
  const parents: number[] = [-1]
  while (todo.length > 0) {
    const n = todo.pop()!
    const parent = parents.pop()!
    const id = nodes.length
    // Documents list callees largest first already: sort only when they are not (samples, or a hand-made file).
    let kids = n.children
    for (let k = 1; k < kids.length; k++) {
      if (weight(kids[k]!) > weight(kids[k - 1]!)) {
        kids = kids.slice().sort((a, b) => weight(b) - weight(a))
        break
      }
    }
    const value = weight(n)
    let self = n.selfNs
    if (unit === 'samples') {
      self = value
      for (const k of kids) self -= weight(k)
      if (self < 0) self = 0
    }
    const node: { -readonly [K in keyof FlameTreeNode]: FlameTreeNode[K] } = { fn: n.frame ?? -1, parent, children: [], value, self, calls: n.calls, totalNs: n.totalNs, selfNs: n.selfNs }
    if (n.memory) {
      node.netBytes = n.memory.netBytes
      node.peakBytes = n.memory.peakBytes
      if (n.memory.allocations !== undefined) node.allocations = n.memory.allocations
    }
    nodes.push(node)
    if (parent >= 0) (nodes[parent]!.children as number[]).push(id)
    for (let k = kids.length - 1; k >= 0; k--) {
      todo.push(kids[k]!)
      parents.push(id)
    }
  }
  return { nodes, unit }
}

/**
 * Whether a frame is library code: builtins, frames the agent marked as library (stdlib,
 * site-packages), and by path anything under site-packages or dist-packages, in a
 * `lib/pythonX.Y` folder, or frozen (`<frozen os>`).
 */
export function isLibraryFrame(f: ProfileFrame): boolean {
  if (f.library === true || f.kind === 'builtin') return true
  return /[\\/](?:site-packages|dist-packages|lib[\\/]python\d+\.\d+t?)[\\/]/.test(f.file) || f.file.startsWith('<frozen')
}

/**
 * The package a frame belongs to (what the flame graph's colours encode): site-packages and
 * stdlib files by their top import name (`numpy`, `json`), frozen modules by name, builtins by
 * module, the program's own files by their first folder under the working directory (or the
 * file's name at the top level; files elsewhere by their name); other pseudo-files (`<string>`)
 * as they are.
 */
export function packageOf(f: ProfileFrame, cwd: string): string {
  if (f.kind === 'builtin') return f.module ?? 'builtins'
  const frozen = /^<frozen ([\w.]+)>$/.exec(f.file)
  if (frozen) return frozen[1]!.split('.')[0]!
  if (f.file.startsWith('<')) return f.file
  // site-packages first: a virtualenv's lies under lib/pythonX.Y too.
  const installed = /[\\/](?:site-packages|dist-packages)[\\/](.+)$/.exec(f.file)
  const rel = installed ? installed[1]! : shortFile(f.file, cwd)
  const parts = rel.split(/[\\/]/).filter((p) => p !== '')
  // Still absolute (outside cwd, not a library path): the file itself names the package.
  const name = /^(?:[A-Za-z]:)?[\\/]/.test(rel) ? parts[parts.length - 1] : parts[0]
  return (name ?? rel).replace(/\.pyc?$/, '')
}

/**
 * The tree with the nodes whose function `hide` names merged into their callers: a hidden node's
 * self goes to the nearest shown caller, its callees become that caller's callees (merged with
 * the caller's own callees of the same function). The root is always shown; values are kept, so
 * the root's value does not change.
 */
export function collapseFrames(tree: FlameTree, hide: (fn: number) => boolean): FlameTree {
  const nodes = tree.nodes
  const root = nodes[0]
  const out = acc(root?.fn ?? -1)
  if (!root) return freeze(out, tree.unit)
  /** The accumulator each input node went into. */
  const into: Acc[] = new Array<Acc>(nodes.length)
  into[0] = out
  addValues(out, root)
  // Pre-order: a node's caller has its accumulator before the node is reached.
  for (let i = 1; i < nodes.length; i++) {
    const n = nodes[i]!
    const caller = into[n.parent]!
    if (hide(n.fn)) {
      into[i] = caller
      caller.self += n.self
      caller.selfNs += n.selfNs
    } else {
      const a = childOf(caller, n.fn)
      addValues(a, n)
      into[i] = a
    }
  }
  return freeze(out, tree.unit)
}

/**
 * The nodes of function `fn` that have no caller of the same function (its outermost calls): the
 * nodes whose values, summed, count each moment spent in `fn` once, also when it recurses.
 */
export function outermostCalls(tree: FlameTree, fn: number): number[] {
  const nodes = tree.nodes
  /** How many nodes of `fn` are on the path to each node, itself included. */
  const depthIn = new Int32Array(nodes.length)
  const out: number[] = []
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i]!
    const above = n.parent >= 0 ? depthIn[n.parent]! : 0
    if (n.fn === fn && above === 0) out.push(i)
    depthIn[i] = above + (n.fn === fn ? 1 : 0)
  }
  return out
}

/** A function's callers and callees, merged over all its call sites ({@link sandwich}). */
export interface Sandwich {
  /**
   * Inverted: the root is the function, its children the functions that called it, theirs their
   * callers, and so on up to the thread's top; a node's value is the function's time reached
   * through that chain of callers.
   */
  readonly callers: FlameTree
  /** The root is the function, below it everything it called, merged over its call sites. */
  readonly callees: FlameTree
}

/**
 * The sandwich of function `fn`: its callers (inverted) and its callees, each merged over all its
 * call sites. Only its outermost calls count (a recursive call is inside its caller's time), so
 * both roots have the function's total — each moment once.
 */
export function sandwich(tree: FlameTree, fn: number): Sandwich {
  const nodes = tree.nodes
  const calls = outermostCalls(tree, fn)
  const callers = acc(fn)
  const callees = acc(fn)
  for (const o of calls) {
    const n = nodes[o]!
    // Callers: the call's values along the path to the top of the thread, reversed.
    addValues(callers, n)
    let a = callers
    for (let p = n.parent; p >= 0 && nodes[p]!.parent >= 0; p = nodes[p]!.parent) {
      a = childOf(a, nodes[p]!.fn)
      addValues(a, n)
    }
    // Callees: the call's subtree, merged by function at every level.
    addValues(callees, n)
    const todo: [number, Acc][] = n.children.map((c) => [c, callees])
    while (todo.length > 0) {
      const [i, parent] = todo.pop()!
      const m = nodes[i]!
      const c = childOf(parent, m.fn)
      addValues(c, m)
      for (const k of m.children) todo.push([k, c])
    }
  }
  return { callers: freeze(callers, tree.unit, true), callees: freeze(callees, tree.unit) }
}

/** The flame tree of a diff, each node's call path, and the identities its functions index. */
export interface DiffFlameTree {
  readonly tree: FlameTree
  /** Function identities (FILE:QUALNAME, builtins MODULE.NAME), indexed by a node's `fn`. */
  readonly functions: readonly string[]
  /** The labels of those functions. */
  readonly labels: readonly string[]
  /** Each node's call path of the diff (undefined for the root). */
  readonly diffs: readonly (NodeDiff | undefined)[]
}

/**
 * The union of both sides' call trees (the diff's call paths, linked by `parent`). A node's
 * values are its head values, or its base values for a call path only in base (vanished); its
 * width is its own time plus its children's widths, at least its total — so a vanished path keeps
 * its base width inside a parent that still exists. The unit is ns.
 */
export function diffFlameTree(d: ProfileDiff): DiffFlameTree {
  const functions: string[] = []
  const labels: string[] = []
  const fnIndex = new Map<string, number>()
  const root = acc(-1)
  const built = new Map<NodeDiff, Acc>()
  const diffOf = new Map<Acc, NodeDiff>()
  // Parents before children: shallower paths first.
  for (const n of [...d.nodes].sort((a, b) => a.depth - b.depth)) {
    const v = n.head ?? n.base
    if (!v) continue
    let f = fnIndex.get(n.function)
    if (f === undefined) {
      f = functions.length
      fnIndex.set(n.function, f)
      functions.push(n.function)
      labels.push(n.label)
    }
    const parent = n.parent === null ? root : built.get(n.parent)
    if (!parent) continue
    // Every call path is its own node (paths are unique per parent, so nothing merges).
    const a = acc(f)
    parent.kids.push(a)
    a.calls = v.calls
    a.totalNs = v.totalNs
    a.selfNs = v.selfNs
    built.set(n, a)
    diffOf.set(a, n)
  }
  // Widths bottom-up: a post-order over an explicit stack.
  const order: Acc[] = []
  const stack = [root]
  while (stack.length > 0) {
    const a = stack.pop()!
    order.push(a)
    for (const c of a.kids) stack.push(c)
  }
  for (let k = order.length - 1; k >= 0; k--) {
    const a = order[k]!
    const kids = a.kids.reduce((s, c) => s + c.value, 0)
    a.value = a === root ? kids : Math.max(a.totalNs, a.selfNs + kids)
    a.self = a.value - kids
  }
  root.totalNs = root.value
  const tree = freeze(root, 'ns')
  // freeze numbers nodes in the same walk order as this one: map them back through a second walk.
  const diffs: (NodeDiff | undefined)[] = []
  const todo: Acc[] = [root]
  while (todo.length > 0) {
    const a = todo.pop()!
    diffs.push(diffOf.get(a))
    const kids = a.kids.slice().sort((x, y) => y.value - x.value)
    for (let k = kids.length - 1; k >= 0; k--) todo.push(kids[k]!)
  }
  return { tree, functions, labels, diffs }
}

/** Indented text of a tree (`label value/self`), for tests and debugging: `name(fn)` labels a node. */
export function dumpFlameTree(tree: FlameTree, name: (fn: number) => string): string {
  const lines: string[] = []
  const depth = new Int32Array(tree.nodes.length)
  tree.nodes.forEach((n, i) => {
    if (n.parent >= 0) depth[i] = depth[n.parent]! + 1
    lines.push(`${'  '.repeat(depth[i]!)}${n.fn < 0 ? '(root)' : name(n.fn)} ${n.value}/${n.self}`)
  })
  return lines.join('\n')
}
