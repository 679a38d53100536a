/**
 * Filters over call trees, each building new trees: focus (the subtrees rooted at a function),
 * hide (fold a function into its caller) and min-percent (drop small subtrees).
 */
import { type CallNode, type FunctionInfo, mergeNodes } from './model.js'

/**
 * The subtrees rooted at the outermost calls of the functions matched by `match`, merged per
 * function (every path into `f` becomes one tree rooted at `f`). Largest first; empty when none.
 */
export function focus(roots: readonly CallNode[], match: (fn: FunctionInfo) => boolean): CallNode[] {
  const found = new Map<string, CallNode[]>()
  const go = (n: CallNode) => {
    if (n.fn !== null && match(n.fn)) {
      const list = found.get(n.fn.key) ?? []
      list.push(n)
      found.set(n.fn.key, list)
      return
    }
    n.children.forEach(go)
  }
  roots.forEach(go)
  return [...found.values()].map((nodes) => mergeNodes(nodes)).sort((a, b) => b.totalNs - a.totalNs)
}

/**
 * Folds every call of the functions matched by `match` into its caller: the hidden node's self time
 * joins the caller's self time and its callees become the caller's (merged with the caller's own
 * calls of the same functions). Totals of the callers are unchanged.
 */
export function hide(root: CallNode, match: (fn: FunctionInfo) => boolean): CallNode {
  const go = (n: CallNode): CallNode => {
    let extraSelf = 0
    const kids: CallNode[] = []
    for (const c of n.children) {
      const h = go(c)
      if (c.fn !== null && match(c.fn)) {
        extraSelf += h.selfNs
        kids.push(...h.children)
      } else kids.push(h)
    }
    const groups = new Map<string, CallNode[]>()
    for (const k of kids) {
      const key = k.fn?.key ?? ''
      groups.set(key, [...(groups.get(key) ?? []), k])
    }
    const children = [...groups.values()].map((g) => (g.length === 1 ? g[0]! : mergeNodes(g))).sort((a, b) => b.totalNs - a.totalNs)
    return { ...n, selfNs: n.selfNs + extraSelf, children }
  }
  return go(root)
}

/**
 * Drops the subtrees whose total time is below `percent` % of `totalNs` (the caller's totals stay
 * as they were, so the children shown may add up to less than the caller's total).
 */
export function minPercent(root: CallNode, percent: number, totalNs: number): CallNode {
  const limit = (percent / 100) * totalNs
  const go = (n: CallNode): CallNode => ({ ...n, children: n.children.filter((c) => c.totalNs >= limit).map(go) })
  return go(root)
}
