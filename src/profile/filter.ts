/**
 * Filters over call trees, each building new trees: focus (the subtrees rooted at a function),
 * hide (fold a function into its caller) and min-percent (drop small subtrees). All iterative: call
 * trees of deep recursion nest 100,000+ levels.
 */
import { type CallNode, type FunctionInfo, mergeNodes, mergeSameFunction, rebuildTree } from './model.js'

/**
 * The subtrees rooted at the outermost calls of the functions matched by `match`, merged per
 * function (every path into `f` becomes one tree rooted at `f`). Largest first; empty when none.
 */
export function focus(roots: readonly CallNode[], match: (fn: FunctionInfo) => boolean): CallNode[] {
  const found = new Map<string, CallNode[]>()
  // Pre-order (children pushed in reverse), not below a match.
  const todo = [...roots].reverse()
  while (todo.length > 0) {
    const n = todo.pop()!
    if (n.fn !== null && match(n.fn)) {
      const list = found.get(n.fn.key) ?? []
      list.push(n)
      found.set(n.fn.key, list)
      continue
    }
    for (let i = n.children.length - 1; i >= 0; i--) todo.push(n.children[i]!)
  }
  return [...found.values()].map((nodes) => mergeNodes(nodes)).sort((a, b) => b.totalNs - a.totalNs)
}

/**
 * Folds every call of the functions matched by `match` into its caller: the hidden node's self time
 * joins the caller's self time and its callees become the caller's (merged with the caller's own
 * calls of the same functions). Totals of the callers are unchanged.
 */
export function hide(root: CallNode, match: (fn: FunctionInfo) => boolean): CallNode {
  return rebuildTree(root, (n, built) => {
    let extraSelf = 0
    const kids: CallNode[] = []
    for (const [i, h] of built.entries()) {
      const c = n.children[i]!
      if (c.fn !== null && match(c.fn)) {
        extraSelf += h.selfNs
        for (const k of h.children) kids.push(k)
      } else kids.push(h)
    }
    const children = mergeSameFunction(kids).sort((a, b) => b.totalNs - a.totalNs)
    return { ...n, selfNs: n.selfNs + extraSelf, children }
  })
}

/**
 * Drops the subtrees whose total time is below `percent` % of `totalNs` (the caller's totals stay
 * as they were, so the children shown may add up to less than the caller's total).
 */
export function minPercent(root: CallNode, percent: number, totalNs: number): CallNode {
  const limit = (percent / 100) * totalNs
  const top: CallNode & { children: CallNode[] } = { ...root, children: [] }
  const todo: [CallNode, CallNode[]][] = [[root, top.children]]
  while (todo.length > 0) {
    const [n, out] = todo.pop()!
    for (const c of n.children) {
      if (c.totalNs < limit) continue
      const copy = { ...c, children: [] as CallNode[] }
      out.push(copy)
      todo.push([c, copy.children])
    }
  }
  return top
}
