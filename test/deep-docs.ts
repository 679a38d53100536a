/**
 * Profile documents of deep recursion (100,000 levels), built iteratively: a chain of one
 * recursive function, of two functions calling each other, or a recursive walk with a sibling call
 * at every level. Every recursive call has 1 µs of self time (so every level shows in every view),
 * the siblings 2 µs.
 */
import type { ProfileDocument, ProfileFrame, ProfileNode } from '../src/profile/document.js'
import { makeMetadata } from './profile-docs.js'

/** The shape of the recursion. */
export type DeepShape = 'one' | 'two' | 'siblings'

/** Options of {@link deepDoc}. */
export interface DeepOptions {
  /** Extra self time (ns) of the recursive call at this depth (1 = the outermost). */
  readonly slowAt?: number
  readonly extraNs?: number
  /** The thread root's own time (frames older than the profile), ns. */
  readonly rootSelfNs?: number
  /** A call of `deepest` (3 µs) under the innermost call: a function found only at the bottom. */
  readonly deepest?: boolean
}

const CWD = '/work/app'

/** Frames: main, walk, step (the second function of 'two'), visit (the sibling). */
export const DEEP_FRAMES: readonly ProfileFrame[] = [
  { file: `${CWD}/app.py`, firstlineno: 1, qualname: 'main', kind: 'python' },
  { file: `${CWD}/app.py`, firstlineno: 10, qualname: 'walk', kind: 'python' },
  { file: `${CWD}/app.py`, firstlineno: 20, qualname: 'step', kind: 'python' },
  { file: `${CWD}/app.py`, firstlineno: 30, qualname: 'visit', kind: 'python' },
  { file: `${CWD}/app.py`, firstlineno: 40, qualname: 'deepest', kind: 'python' },
]

/** main → `depth` recursive calls (walk, or walk/step alternating), with a visit beside each for 'siblings'. */
export function deepDoc(depth: number, shape: DeepShape, o: DeepOptions = {}): ProfileDocument {
  // Bottom-up: the innermost call first, each level wrapping the one below.
  let below: ProfileNode | undefined
  for (let d = depth; d >= 1; d--) {
    const self = 1000 + (d === o.slowAt ? (o.extraNs ?? 0) : 0)
    const kids: ProfileNode[] = []
    if (below) kids.push(below)
    else if (o.deepest) kids.push({ frame: 4, calls: 1, totalNs: 3000, selfNs: 3000, children: [] })
    if (shape === 'siblings') kids.push({ frame: 3, calls: 1, totalNs: 2000, selfNs: 2000, children: [] })
    kids.sort((a, b) => b.totalNs - a.totalNs)
    const total = self + kids.reduce((s, k) => s + k.totalNs, 0)
    below = { frame: shape === 'two' && d % 2 === 0 ? 2 : 1, calls: 1, totalNs: total, selfNs: self, children: kids }
  }
  const main: ProfileNode = { frame: 0, calls: 1, totalNs: 500 + (below?.totalNs ?? 0), selfNs: 500, children: below ? [below] : [] }
  const rootSelf = o.rootSelfNs ?? 0
  return {
    pyxray: 'profile',
    version: 3,
    metadata: makeMetadata({ cwd: CWD, durationNs: main.totalNs + rootSelf }),
    frames: DEEP_FRAMES,
    threads: [{ id: 1, name: 'MainThread', main: true, root: { frame: null, calls: 0, totalNs: main.totalNs + rootSelf, selfNs: rootSelf, children: [main] } }],
  }
}

/** Anything with children: the deepest level below `root` (root = 0) and the node count, iteratively. */
export function treeShape(root: { readonly children: readonly unknown[] }): { depth: number; nodes: number } {
  let depth = 0
  let nodes = 0
  const todo: [{ readonly children: readonly unknown[] }, number][] = [[root, 0]]
  while (todo.length > 0) {
    const [n, d] = todo.pop()!
    nodes++
    if (d > depth) depth = d
    for (const c of n.children) todo.push([c as { readonly children: readonly unknown[] }, d + 1])
  }
  return { depth, nodes }
}
