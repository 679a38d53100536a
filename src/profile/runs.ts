/**
 * Repeated profiles: several runs of one program stored in one document (`runs`, see
 * schema/profile.schema.json), their frames in one shared table and the top-level threads the
 * merge of the runs.
 */
import { PROFILE_VERSION, type ProfileDocument, type ProfileFrame, type ProfileMetadata, type ProfileNode, type ProfileRun, type ProfileThread, type SampleCounts } from './document.js'
import { copyTreeByTotal, frameKey } from './model.js'

/** The runs of a document: its `runs`, or the document itself as the only run. */
export function runsOf(doc: ProfileDocument): readonly ProfileRun[] {
  return doc.runs ?? [{ metadata: doc.metadata, threads: doc.threads }]
}

interface MNode {
  frame: number | null
  calls: number
  totalNs: number
  selfNs: number
  memory?: { netBytes: number; peakBytes: number; allocations?: number; allocatedBytes?: number }
  samples?: number
  lines?: Map<number, number>
  offsets?: Map<number, number>
  children: MNode[]
  index: Map<number | null, MNode>
}

function addCounts(into: Map<number, number>, counts: SampleCounts): void {
  for (const [key, n] of counts) into.set(key, (into.get(key) ?? 0) + n)
}

const sortedCounts = (m: ReadonlyMap<number, number>): SampleCounts => [...m].sort((a, b) => a[0] - b[0])

/** Adds `n` and its subtree into `acc`, children matched by (remapped) frame; iterative, pre-order. */
function addNode(acc: MNode, n: ProfileNode, remap: (i: number | null) => number | null): void {
  const todo: [MNode, ProfileNode][] = [[acc, n]]
  while (todo.length > 0) {
    const [a, x] = todo.pop()!
    a.calls += x.calls
    a.totalNs += x.totalNs
    a.selfNs += x.selfNs
    if (x.memory) {
      const m = x.memory
      a.memory = {
        netBytes: (a.memory?.netBytes ?? 0) + m.netBytes,
        peakBytes: Math.max(a.memory?.peakBytes ?? 0, m.peakBytes),
        ...(m.allocations !== undefined ? { allocations: (a.memory?.allocations ?? 0) + m.allocations } : {}),
        ...(m.allocatedBytes !== undefined ? { allocatedBytes: (a.memory?.allocatedBytes ?? 0) + m.allocatedBytes } : {}),
      }
    }
    if (x.samples !== undefined) a.samples = (a.samples ?? 0) + x.samples
    if (x.lines) addCounts((a.lines ??= new Map()), x.lines)
    if (x.offsets) addCounts((a.offsets ??= new Map()), x.offsets)
    const pairs: [MNode, ProfileNode][] = []
    for (const c of x.children) {
      const f = remap(c.frame)
      let child = a.index.get(f)
      if (!child) {
        child = { frame: f, calls: 0, totalNs: 0, selfNs: 0, children: [], index: new Map() }
        a.index.set(f, child)
        a.children.push(child)
      }
      pairs.push([child, c])
    }
    for (let i = pairs.length - 1; i >= 0; i--) todo.push(pairs[i]!)
  }
}

/** The document tree of an accumulator, children largest first (iterative). */
function freeze(root: MNode): ProfileNode {
  const make = (n: MNode): ProfileNode & { children: ProfileNode[] } => ({
    frame: n.frame,
    calls: n.calls,
    totalNs: n.totalNs,
    selfNs: n.selfNs,
    ...(n.memory ? { memory: n.memory } : {}),
    ...(n.samples !== undefined ? { samples: n.samples } : {}),
    ...(n.lines ? { lines: sortedCounts(n.lines) } : {}),
    ...(n.offsets ? { offsets: sortedCounts(n.offsets) } : {}),
    children: [],
  })
  return copyTreeByTotal(root, make)
}

const threadKey = (t: ProfileThread) => (t.main ? '\u0000main' : t.name)

/** Merges threads node by node (threads matched by name, the main thread with the main thread). */
function mergeThreadLists(lists: readonly (readonly ProfileThread[])[], remaps: readonly ((i: number | null) => number | null)[]): ProfileThread[] {
  const out = new Map<string, { thread: ProfileThread; root: MNode }>()
  lists.forEach((threads, i) => {
    for (const t of threads) {
      let m = out.get(threadKey(t))
      if (!m) {
        m = { thread: t, root: { frame: null, calls: 0, totalNs: 0, selfNs: 0, children: [], index: new Map() } }
        out.set(threadKey(t), m)
      }
      addNode(m.root, t.root, remaps[i]!)
    }
  })
  return [...out.values()].map(({ thread, root }) => ({ ...thread, root: freeze(root) }))
}

/** Metadata of merged runs: the first run's, with durations summed and flags combined. */
function mergeMetadata(all: readonly ProfileMetadata[]): ProfileMetadata {
  const first = all[0]!
  const warnings = [...new Set(all.flatMap((m) => m.warnings))]
  const exit = all.find((m) => m.exitStatus !== null && m.exitStatus !== 0)?.exitStatus ?? first.exitStatus
  const out: ProfileMetadata = {
    ...first,
    durationNs: all.reduce((s, m) => s + m.durationNs, 0),
    partial: all.some((m) => m.partial),
    exitStatus: exit,
    warnings,
  }
  if (first.samples !== undefined) return { ...out, samples: all.reduce((s, m) => s + (m.samples ?? 0), 0) }
  return out
}

/**
 * One repeated document from several profiles of the same program: a shared frames table, every
 * run under `runs` (runs of a repeated input are kept as runs), and their merge at the top level.
 */
export function mergeRuns(docs: readonly ProfileDocument[]): ProfileDocument {
  if (docs.length === 0) throw new RangeError('mergeRuns needs at least one profile')
  const frames: ProfileFrame[] = []
  const byKey = new Map<string, number>()
  const runs: ProfileRun[] = []
  const remaps: ((i: number | null) => number | null)[] = []
  for (const doc of docs) {
    const table = doc.frames.map((f) => {
      const k = frameKey(f)
      let i = byKey.get(k)
      if (i === undefined) {
        i = frames.length
        frames.push(f)
        byKey.set(k, i)
      } else if (f.instructions?.length) {
        // the sampled instructions of every run (the same code: the same offsets describe the same instructions)
        const had = frames[i]!
        const known = new Map((had.instructions ?? []).map((x) => [x.offset, x]))
        for (const x of f.instructions) if (!known.has(x.offset)) known.set(x.offset, x)
        frames[i] = { ...had, instructions: [...known.values()].sort((a, b) => a.offset - b.offset) }
      }
      return i
    })
    const remap = (i: number | null) => (i === null ? null : table[i]!)
    for (const run of runsOf(doc)) {
      runs.push({ metadata: run.metadata, threads: mergeThreadLists([run.threads], [remap]) })
      remaps.push((i) => i)
    }
  }
  return {
    pyxray: 'profile',
    version: PROFILE_VERSION,
    metadata: mergeMetadata(runs.map((r) => r.metadata)),
    frames,
    threads: mergeThreadLists(
      runs.map((r) => r.threads),
      remaps,
    ),
    runs,
  }
}
