/**
 * The profile model: call trees with their frames resolved, built from an already-validated
 * {@link ProfileDocument}. Nodes are plain read-only data; every transformation (merge, focus,
 * hide, min-percent) builds new trees. Times are ns of the profile's clock, memory in bytes.
 */
import type { ProfileDocument, ProfileFrame, ProfileInstruction, ProfileThread, SampleCounts } from './document.js'

/** A function as the model identifies it. */
export interface FunctionInfo {
  /** Identity of the function within one profile: kind, file, first line and qualname. */
  readonly key: string
  readonly qualname: string
  /** As in the document: absolute path, "<built-in>", "<string>", "<frozen os>". */
  readonly file: string
  /** 1-based; 0 for builtins. */
  readonly firstlineno: number
  readonly kind: 'python' | 'builtin'
  /** Builtins: the defining module. */
  readonly module?: string
  readonly library: boolean
  /** Sample mode: the sampled instructions of the function, as the frame describes them. */
  readonly instructions?: readonly ProfileInstruction[]
}

/** One call path of a call tree. `totalNs == selfNs + Σ children.totalNs` as built from a document. */
export interface CallNode {
  /** null for a thread's root (time in frames older than the profile). */
  readonly fn: FunctionInfo | null
  /** Entries into this path (calls plus resumptions); 0 in sample mode. */
  readonly calls: number
  /** Inclusive time, ns. */
  readonly totalNs: number
  /** Exclusive time, ns. */
  readonly selfNs: number
  /** Bytes still allocated when the calls returned, summed over calls (memory mode). */
  readonly netBytes?: number
  /** Highest level above the entry level, max over calls (memory mode). */
  readonly peakBytes?: number
  /** Allocations by the calls and their callees (memory mode, C engine). */
  readonly allocations?: number
  /** Sample mode: samples with this node on the stack. */
  readonly samples?: number
  /** Sample mode: [line, samples] where this node was the innermost visible frame. */
  readonly lines?: SampleCounts
  /** Sample mode: [offset, samples] of the same samples by instruction. */
  readonly offsets?: SampleCounts
  /** Callees, largest totalNs first. */
  readonly children: readonly CallNode[]
}

/** A thread's call tree. */
export interface ThreadTree {
  readonly id: number
  readonly name: string
  readonly main: boolean
  readonly root: CallNode
}

/** The identity key of a frame (kind, file, first line, qualname; builtins by module). */
export function frameKey(f: ProfileFrame): string {
  return f.kind === 'builtin' ? `builtin\0${f.module ?? ''}\0${f.qualname}` : `python\0${f.file}\0${f.firstlineno}\0${f.qualname}`
}

/** The model's view of one frame. */
export function functionInfo(f: ProfileFrame): FunctionInfo {
  return {
    key: frameKey(f),
    qualname: f.qualname,
    file: f.file,
    firstlineno: f.firstlineno,
    kind: f.kind,
    ...(f.module !== undefined ? { module: f.module } : {}),
    library: f.library === true,
    ...(f.instructions !== undefined ? { instructions: f.instructions } : {}),
  }
}

/** Resolves a list of document threads against a frame table (iteratively: trees may nest 100,000+ levels). */
export function buildThreadTrees(frames: readonly ProfileFrame[], threads: readonly ProfileThread[]): ThreadTree[] {
  const infos = frames.map(functionInfo)
  const build = (n: ProfileThread['root']): CallNode & { children: CallNode[] } => ({
    fn: n.frame === null ? null : infos[n.frame]!,
    calls: n.calls,
    totalNs: n.totalNs,
    selfNs: n.selfNs,
    ...(n.memory ? { netBytes: n.memory.netBytes, peakBytes: n.memory.peakBytes } : {}),
    ...(n.memory?.allocations !== undefined ? { allocations: n.memory.allocations } : {}),
    ...(n.samples !== undefined ? { samples: n.samples } : {}),
    ...(n.lines !== undefined ? { lines: n.lines } : {}),
    ...(n.offsets !== undefined ? { offsets: n.offsets } : {}),
    children: [],
  })
  return threads.map((t) => {
    const root = build(t.root)
    const todo: [ProfileThread['root'], CallNode[]][] = [[t.root, root.children]]
    while (todo.length > 0) {
      const [n, out] = todo.pop()!
      for (const c of n.children) {
        const b = build(c)
        out.push(b)
        todo.push([c, b.children])
      }
    }
    return { id: t.id, name: t.name, main: t.main, root }
  })
}

/** The call tree of every thread of a document, main thread first (the document's order). */
export function buildTrees(doc: ProfileDocument): ThreadTree[] {
  return buildThreadTrees(doc.frames, doc.threads)
}

/** A label for a function: its qualname, and for builtins outside `builtins` the module. */
export function functionLabel(fn: FunctionInfo | null): string {
  if (fn === null) return '(root)'
  if (fn.kind === 'builtin' && fn.module && fn.module !== 'builtins') return `${fn.module}.${fn.qualname}`
  return fn.qualname
}

/**
 * Where a function is, with its first line: the file relative to `cwd` when inside it, library
 * files from their import root (`json/decoder.py` for …/lib/python3.12/json/decoder.py or
 * …/site-packages/…); empty for builtins.
 */
export function functionLocation(fn: FunctionInfo | null, cwd: string): string {
  if (fn === null || fn.kind === 'builtin') return ''
  return `${shortFile(fn.file, cwd)}:${fn.firstlineno}`
}

/** A file for display: relative to `cwd`, or from the import root for library paths. */
export function shortFile(file: string, cwd: string): string {
  const rel = relativeFile(file, cwd)
  if (rel !== file) return rel
  // An installed package is named from its import root even inside lib/pythonX.Y (a virtualenv's
  // site-packages), so the same file reads the same under site-packages and dist-packages.
  const m = /[\\/](?:site-packages|dist-packages)[\\/](.+)$/.exec(file) ?? /[\\/]lib[\\/]python\d+\.\d+t?[\\/](.+)$/.exec(file)
  return m ? m[1]! : file
}

/** `file` relative to `cwd` when it lies inside it (POSIX or Windows separators), else as it is. */
export function relativeFile(file: string, cwd: string): string {
  if (!cwd) return file
  const base = cwd.endsWith('/') || cwd.endsWith('\\') ? cwd : `${cwd}${cwd.includes('\\') && !cwd.includes('/') ? '\\' : '/'}`
  return file.startsWith(base) ? file.slice(base.length) : file
}

/** Whether `fn` is named by a user's pattern: its qualname, or FILE:QUALNAME with FILE a path suffix. */
export function matchesFunction(fn: FunctionInfo | null, pattern: string): boolean {
  if (fn === null) return false
  if (fn.qualname === pattern || functionLabel(fn) === pattern) return true
  const colon = pattern.lastIndexOf(':')
  if (colon <= 0) return false
  const file = pattern.slice(0, colon)
  const qualname = pattern.slice(colon + 1)
  return fn.qualname === qualname && (fn.file === file || fn.file.endsWith(`/${file}`) || fn.file.endsWith(`\\${file}`))
}

/**
 * Call path identities as small integers: a path is its parent path's id and a key (a function's,
 * or a root's), interned, so a path costs O(1) however deep it is (keys built by joining the
 * functions of a path would grow with the depth, and their total with its square).
 */
export class CallPathIds {
  private readonly ids = new Map<string, number>()
  /** The id of the path `parent` › `key`; the parent of a top-level path is -1. */
  id(parent: number, key: string): number {
    const k = `${parent}\u0001${key}`
    let id = this.ids.get(k)
    if (id === undefined) {
      id = this.ids.size
      this.ids.set(k, id)
    }
    return id
  }
  /** The id of `parent` › `key` if that path was interned, else undefined. */
  find(parent: number, key: string): number | undefined {
    return this.ids.get(`${parent}\u0001${key}`)
  }
}

/** Adds `b` into a mutable accumulator node of the same function (used by merges). */
interface MutableNode {
  fn: FunctionInfo | null
  calls: number
  totalNs: number
  selfNs: number
  netBytes?: number
  peakBytes?: number
  allocations?: number
  samples?: number
  lines?: Map<number, number>
  offsets?: Map<number, number>
  children: MutableNode[]
  index: Map<string, MutableNode>
}

function emptyNode(fn: FunctionInfo | null): MutableNode {
  return { fn, calls: 0, totalNs: 0, selfNs: 0, children: [], index: new Map() }
}

function addCounts(into: Map<number, number>, counts: SampleCounts): void {
  for (const [key, n] of counts) into.set(key, (into.get(key) ?? 0) + n)
}

const sortedCounts = (m: ReadonlyMap<number, number>): SampleCounts => [...m].sort((a, b) => a[0] - b[0])

/** Adds `n` and its subtree into `acc`, children merged by function (iterative). */
function addInto(acc: MutableNode, n: CallNode): void {
  const todo: [MutableNode, CallNode][] = [[acc, n]]
  while (todo.length > 0) {
    const [a, x] = todo.pop()!
    a.calls += x.calls
    a.totalNs += x.totalNs
    a.selfNs += x.selfNs
    if (x.netBytes !== undefined) a.netBytes = (a.netBytes ?? 0) + x.netBytes
    if (x.peakBytes !== undefined) a.peakBytes = Math.max(a.peakBytes ?? 0, x.peakBytes)
    if (x.allocations !== undefined) a.allocations = (a.allocations ?? 0) + x.allocations
    if (x.samples !== undefined) a.samples = (a.samples ?? 0) + x.samples
    if (x.lines !== undefined) addCounts((a.lines ??= new Map()), x.lines)
    if (x.offsets !== undefined) addCounts((a.offsets ??= new Map()), x.offsets)
    // In reverse, so the first child's subtree is merged first (pre-order, as a recursion would).
    const pairs = x.children.map((c): [MutableNode, CallNode] => [childOf(a, c.fn), c])
    for (let i = pairs.length - 1; i >= 0; i--) todo.push(pairs[i]!)
  }
}

/** The accumulator child of `acc` for function `fn`, made on first use (children keep first-seen order). */
function childOf(acc: MutableNode, fn: FunctionInfo | null): MutableNode {
  const key = fn === null ? '' : fn.key
  let child = acc.index.get(key)
  if (!child) {
    child = emptyNode(fn)
    acc.index.set(key, child)
    acc.children.push(child)
  }
  return child
}

/** The read-only tree of an accumulator, children largest first (iterative). */
function freeze(root: MutableNode): CallNode {
  const make = (n: MutableNode): CallNode & { children: CallNode[] } => ({
    fn: n.fn,
    calls: n.calls,
    totalNs: n.totalNs,
    selfNs: n.selfNs,
    ...(n.netBytes !== undefined ? { netBytes: n.netBytes } : {}),
    ...(n.peakBytes !== undefined ? { peakBytes: n.peakBytes } : {}),
    ...(n.allocations !== undefined ? { allocations: n.allocations } : {}),
    ...(n.samples !== undefined ? { samples: n.samples } : {}),
    ...(n.lines !== undefined ? { lines: sortedCounts(n.lines) } : {}),
    ...(n.offsets !== undefined ? { offsets: sortedCounts(n.offsets) } : {}),
    children: [],
  })
  return copyTreeByTotal(root, make)
}

/**
 * Merges call trees node by node (the same path of functions is one node): counts, times,
 * net bytes and samples add up, peak bytes take the maximum. The roots are merged whatever their
 * function, under the function of the first.
 */
export function mergeNodes(nodes: readonly CallNode[]): CallNode {
  const acc = emptyNode(nodes[0]?.fn ?? null)
  for (const n of nodes) addInto(acc, n)
  return freeze(acc)
}

/** All threads of all `trees` merged into one tree (for flat tables over a whole profile). */
export function mergeThreads(trees: readonly ThreadTree[]): CallNode {
  return mergeNodes(trees.map((t) => t.root))
}

/** Sum of the roots' total time: 100 % for percentages. */
export function totalTime(roots: readonly CallNode[]): number {
  return roots.reduce((s, r) => s + r.totalNs, 0)
}

/**
 * A copy of a tree made by `make` (which gives each node's copy, its children empty), every
 * copy's children largest totalNs first. Iterative: any depth.
 */
export function copyTreeByTotal<S extends { readonly children: readonly S[] }, T extends { readonly totalNs: number }>(root: S, make: (n: S) => T & { children: T[] }): T & { children: T[] } {
  const out = make(root)
  const todo: [S, T[]][] = [[root, out.children]]
  while (todo.length > 0) {
    const [n, kids] = todo.pop()!
    for (const c of n.children) {
      const f = make(c)
      kids.push(f)
      todo.push([c, f.children])
    }
    kids.sort((a, b) => b.totalNs - a.totalNs)
  }
  return out
}

/**
 * Rebuilds a tree bottom-up: `build` gets each node with its children already rebuilt. Iterative
 * (post-order with an explicit stack): any depth.
 */
export function rebuildTree(root: CallNode, build: (n: CallNode, children: readonly CallNode[]) => CallNode): CallNode {
  const done = new Map<CallNode, CallNode>()
  const todo: [CallNode, boolean][] = [[root, false]]
  while (todo.length > 0) {
    const [n, expanded] = todo.pop()!
    if (!expanded) {
      todo.push([n, true])
      for (const c of n.children) todo.push([c, false])
      continue
    }
    const children = n.children.map((c) => done.get(c)!)
    for (const c of n.children) done.delete(c)
    done.set(n, build(n, children))
  }
  return done.get(root)!
}

/** Siblings of the same function merged into one node ({@link mergeNodes}), in first-seen order. */
export function mergeSameFunction(nodes: readonly CallNode[]): CallNode[] {
  const groups = new Map<string, CallNode[]>()
  for (const k of nodes) {
    const key = k.fn?.key ?? ''
    const g = groups.get(key)
    if (g) g.push(k)
    else groups.set(key, [k])
  }
  return [...groups.values()].map((g) => (g.length === 1 ? g[0]! : mergeNodes(g)))
}
