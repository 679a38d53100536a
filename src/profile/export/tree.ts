/**
 * Helpers the exporters share: frame lookup with a clear error, thread selection, and an
 * iterative depth-first walk (profiles of deep recursion nest 10,000+ levels, more than the JS
 * stack allows for recursive functions).
 */
import type { ProfileDocument, ProfileFrame, ProfileNode, ProfileThread } from '../document.js'
import { ExportError } from './errors.js'

/** The frame a node refers to; throws EXPORT_BAD_PROFILE for a missing or dangling index. */
export function frameOf(doc: ProfileDocument, node: ProfileNode): ProfileFrame {
  const frame = node.frame === null ? undefined : doc.frames[node.frame]
  if (frame === undefined) {
    throw new ExportError('EXPORT_BAD_PROFILE', `a call node refers to frame ${String(node.frame)}, but the profile has ${doc.frames.length} frames`)
  }
  return frame
}

/** How a thread is named in exports: its name, and its id when names repeat. */
export function threadLabel(doc: ProfileDocument, thread: ProfileThread): string {
  const same = doc.threads.filter((t) => t.name === thread.name).length
  return same > 1 ? `${thread.name} (${thread.id})` : thread.name
}

/**
 * The threads to export: all, or the one `pick` names (a thread name, a thread id, or its index
 * in the document as `#N`). Throws EXPORT_NO_THREAD listing the threads there are.
 */
export function selectThreads(doc: ProfileDocument, pick?: string): readonly ProfileThread[] {
  if (pick === undefined) return doc.threads
  const index = /^#(\d+)$/.exec(pick)
  const found = index ? doc.threads[Number(index[1])] : doc.threads.find((t) => t.name === pick || String(t.id) === pick || String(t.nativeId) === pick)
  if (found === undefined) {
    const known = doc.threads.map((t, i) => `#${i} ${t.name} (id ${t.id})`).join(', ')
    throw new ExportError('EXPORT_NO_THREAD', `no thread "${pick}" in the profile; it has: ${known || 'no threads'} (pick by name, id or #index)`)
  }
  return [found]
}

/** Visits `root` and its descendants depth-first, children in document order. */
export function walk(root: ProfileNode, enter: (node: ProfileNode, parents: readonly ProfileNode[]) => void, leave?: (node: ProfileNode, parents: readonly ProfileNode[]) => void): void {
  const parents: ProfileNode[] = []
  // Each entry: a node, and whether its children were pushed (then it is being left).
  const todo: [ProfileNode, boolean][] = [[root, false]]
  while (todo.length > 0) {
    const top = todo[todo.length - 1]!
    const [node, expanded] = top
    if (expanded) {
      todo.pop()
      parents.pop()
      leave?.(node, parents)
      continue
    }
    top[1] = true
    enter(node, parents)
    parents.push(node)
    for (let i = node.children.length - 1; i >= 0; i--) todo.push([node.children[i]!, false])
  }
}
