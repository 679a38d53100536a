/**
 * Filters over call trees, each building new trees: focus (the subtrees rooted at a function),
 * hide (fold a function into its caller) and min-percent (drop small subtrees). All iterative: call
 * trees of deep recursion nest 100,000+ levels.
 */
import { type CallNode, type FunctionInfo, mergeNodes } from './model.js'

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
  // Post-order: a node is rebuilt once its children are (`done` holds them until their parent takes them).
  const done = new Map<CallNode, CallNode>()
  const todo: [CallNode, boolean][] = [[root, false]]
  while (todo.length > 0) {
    const [n, expanded] = todo.pop()!
    if (!expanded) {
      todo.push([n, true])
      for (const c of n.children) todo.push([c, false])
      continue
    }
    let extraSelf = 0
    const kids: CallNode[] = []
    for (const c of n.children) {
      const h = done.get(c)!
      done.delete(c)
      if (c.fn !== null && match(c.fn)) {
        extraSelf += h.selfNs
        for (const k of h.children) kids.push(k)
      } else kids.push(h)
    }
    const groups = new Map<string, CallNode[]>()
    for (const k of kids) {
      const key = k.fn?.key ?? ''
      const g = groups.get(key)
      if (g) g.push(k)
      else groups.set(key, [k])
    }
    const children = [...groups.values()].map((g) => (g.length === 1 ? g[0]! : mergeNodes(g))).sort((a, b) => b.totalNs - a.totalNs)
    done.set(n, { ...n, selfNs: n.selfNs + extraSelf, children })
  }
  return done.get(root)!
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
