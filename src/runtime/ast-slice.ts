/**
 * The AST in pieces: the web UI is sent the top levels of a tree and fetches a node's subtree when
 * it is opened, so a 5,000-line module's ~2 MB tree never crosses to the page (or its main thread's
 * JSON parser) whole. The full tree stays where it was parsed (the server, the Pyodide worker).
 *
 * A node is addressed by its path from the root, as the AST pane names rows: `""` is the root,
 * `/body[3]/value` the `value` field of the fourth statement. A slice copies a subtree down to a
 * depth; a node at that depth keeps its type, scalar fields and positions and gets `_more`, the
 * number of child nodes it has (its node fields are left out).
 */
import type { AstNode } from './types.js'

/** Depth of the slice a compile sends: deep enough for the rows the pane opens by default. */
export function initialSliceDepth(root: AstNode): number {
  return Array.isArray(root.body) && root.body.length > BIG_BODY ? BIG_OPEN_DEPTH : OPEN_DEPTH
}
/** Nodes shallower than this are open by default in the AST pane. */
export const OPEN_DEPTH = 4
/** The same in a module of more than {@link BIG_BODY} statements. */
export const BIG_OPEN_DEPTH = 2
export const BIG_BODY = 200
/** Depth of the slice fetched when a trimmed node is opened. */
export const FETCH_DEPTH = 3

const isNode = (v: unknown): v is AstNode => typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as { _type?: unknown })._type === 'string'

/** The number of child nodes of a node (in node fields and lists of nodes). */
export function childCount(node: AstNode): number {
  if (typeof node._more === 'number') return node._more
  let n = 0
  for (const [k, v] of Object.entries(node)) {
    if (k === '_type') continue
    if (isNode(v)) n++
    else if (Array.isArray(v)) for (const c of v) if (isNode(c)) n++
  }
  return n
}

/** A copy of `node` down to `depth` levels below it (0: the node alone, trimmed). */
export function astSlice(node: AstNode, depth: number): AstNode {
  const out: Record<string, unknown> = {}
  let more = 0
  for (const [k, v] of Object.entries(node)) {
    if (isNode(v)) {
      if (depth > 0) out[k] = astSlice(v, depth - 1)
      else more++
    } else if (Array.isArray(v) && v.some(isNode)) {
      if (depth > 0) out[k] = v.map((c) => (isNode(c) ? astSlice(c, depth - 1) : c))
      else more += v.filter(isNode).length
    } else out[k] = v
  }
  if (depth <= 0 && more > 0) out._more = more
  return out as AstNode
}

/** The node at `path` (see the module comment), or undefined when the tree has none there. */
export function astAt(root: AstNode, path: string): AstNode | undefined {
  let node: AstNode = root
  for (const part of path.split('/').slice(1)) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?$/.exec(part)
    if (!m) return undefined
    let v: unknown = Object.prototype.hasOwnProperty.call(node, m[1]!) ? node[m[1]!] : undefined
    if (m[2] !== undefined) v = Array.isArray(v) ? v[Number(m[2])] : undefined
    if (!isNode(v)) return undefined
    node = v
  }
  return node
}
