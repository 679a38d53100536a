/**
 * Export to folded stacks, the input of flamegraph.pl, inferno and speedscope: one line per call
 * path with self time, `frame;frame;frame value`, root first.
 *
 * - Values are self time as integers in `unit` (default `us`, microseconds, rounded per path);
 *   paths whose rounded value is 0 are left out, as a flame graph could not show them.
 * - Frames are `qualname (file:line)` (file relative to the profile's cwd when inside it), builtins
 *   by name (`len`, `math.sqrt`); see foldedLabel.
 * - The thread root's self time (time in frames older than the profile) is the line of the thread
 *   alone, `[MainThread] value`. With several threads exported, every stack starts with the
 *   thread's name in brackets; with one thread only that line has it.
 * - Lines come in depth-first tree order (largest paths first), so equal inputs give equal text.
 * - Deep recursion: every line repeats its whole path, so a tree 100,000 calls deep with time at
 *   every level would be 5 billion frames of text. When the whole paths would exceed
 *   {@link COLLAPSED_FRAME_BUDGET} frames, frames below a depth N are folded into one
 *   `[frames below depth N]` element, whose value is the self time of everything below N under
 *   that path (one line per depth-N call). N is the largest depth that keeps the text within the
 *   budget, and never less than {@link COLLAPSED_MIN_DEPTH}; {@link collapsedFoldDepth} says
 *   whether and where an export folds (`pyxray export` says so on stderr).
 */
import type { Exporter, ExportSettings } from './exporter.js'
import type { ProfileDocument, ProfileNode, ProfileThread } from '../document.js'
import { ExportError } from './errors.js'
import { foldedLabel } from './labels.js'
import { frameOf, selectThreads, threadLabel, walk } from './tree.js'

/** Units of collapsed values, in nanoseconds each. */
export const COLLAPSED_UNITS = { ns: 1, us: 1e3, ms: 1e6 } as const

/** A unit for collapsed values. */
export type CollapsedUnit = keyof typeof COLLAPSED_UNITS

/** Frames (over all lines) whole paths may take before deep frames are folded. */
export const COLLAPSED_FRAME_BUDGET = 1_000_000

/**
 * Characters the folded stacks may take: every line repeats its whole path, so long names on many
 * paths multiply (a 5,000-character name on 5,000 paths 60 deep made 430 MB from a 372 kB profile).
 * Past it the export is refused with EXPORT_TOO_LARGE before the text is made.
 */
export const COLLAPSED_CHAR_BUDGET = 64 * 2 ** 20

/** Folding never starts above this depth: paths up to 512 calls are always whole. */
export const COLLAPSED_MIN_DEPTH = 512

/** Options of {@link toCollapsed}. */
export interface CollapsedOptions {
  /** Only this thread (name, id or `#index`). */
  readonly thread?: string
  /** Unit of the values (default `us`). */
  readonly unit?: CollapsedUnit
}

/** The frames a thread's lines would take if folded below each depth: per depth, lines and frames. */
function depthCounts(root: ProfileNode, scale: number): { nodesAt: number[]; framesUpTo: number[] } {
  const nodesAt: number[] = []
  const framesAt: number[] = []
  const todo: [ProfileNode, number][] = [[root, 0]]
  while (todo.length > 0) {
    const [n, d] = todo.pop()!
    nodesAt[d] = (nodesAt[d] ?? 0) + 1
    if (Math.round(n.selfNs / scale) > 0) framesAt[d] = (framesAt[d] ?? 0) + Math.max(1, d)
    for (const c of n.children) todo.push([c, d + 1])
  }
  const framesUpTo: number[] = []
  let sum = 0
  for (let d = 0; d < nodesAt.length; d++) framesUpTo.push((sum += framesAt[d] ?? 0))
  return { nodesAt: nodesAt.map((x) => x ?? 0), framesUpTo }
}

/**
 * The depth below which {@link toCollapsed} folds frames of these threads, or undefined when every
 * path is written whole.
 */
export function collapsedFoldDepth(doc: ProfileDocument, options: CollapsedOptions = {}): number | undefined {
  const scale = COLLAPSED_UNITS[options.unit ?? 'us']
  const counts = selectThreads(doc, options.thread).map((t) => depthCounts(t.root, scale))
  const deepest = Math.max(0, ...counts.map((c) => c.nodesAt.length - 1))
  /** An upper bound of the frames written when folding below `n` (every depth-n call gets a folded line). */
  const frames = (n: number) => counts.reduce((s, c) => s + (c.framesUpTo[Math.min(n, c.framesUpTo.length - 1)] ?? 0) + (n < c.nodesAt.length - 1 ? (c.nodesAt[n] ?? 0) * (n + 1) : 0), 0)
  if (deepest <= COLLAPSED_MIN_DEPTH || frames(deepest) <= COLLAPSED_FRAME_BUDGET) return undefined
  let n = deepest - 1
  while (n > COLLAPSED_MIN_DEPTH && frames(n) > COLLAPSED_FRAME_BUDGET) n--
  return n
}

/** The profile as folded stacks, one `a;b;c 123` line per path, each line ending in `\n`. */
export function toCollapsed(doc: ProfileDocument, options: CollapsedOptions = {}): string {
  const unit = options.unit ?? 'us'
  const scale = COLLAPSED_UNITS[unit]
  if (scale === undefined) throw new ExportError('EXPORT_BAD_OPTION', `unknown unit "${String(unit)}" for collapsed stacks: use ${Object.keys(COLLAPSED_UNITS).join(', ')}`)
  const threads = selectThreads(doc, options.thread)
  const fold = collapsedFoldDepth(doc, options)
  const labels = doc.frames.map((f) => foldedLabel(f, doc.metadata.cwd))
  const lines: string[] = []
  const budget = { used: 0 }
  for (const thread of threads) for (const line of threadLines(doc, thread, threads.length > 1, labels, scale, fold, budget)) lines.push(line)
  return lines.length ? `${lines.join('\n')}\n` : ''
}

function threadLines(doc: ProfileDocument, thread: ProfileThread, several: boolean, labels: readonly string[], scale: number, fold: number | undefined, budget: { used: number }): string[] {
  const name = `[${threadLabel(doc, thread).replace(/;/g, ':')}]`
  const prefix = several ? [name] : []
  /** Characters of `path` joined; each line is charged before it is made. */
  let pathChars = several ? name.length : 0
  const charge = (extra: number) => {
    budget.used += pathChars + extra
    if (budget.used > COLLAPSED_CHAR_BUDGET) {
      throw new ExportError('EXPORT_TOO_LARGE', `the folded stacks would take over ${COLLAPSED_CHAR_BUDGET / 2 ** 20} MB (every line repeats its whole call path, and these names are long): export to speedscope or pprof, which name each function once`)
    }
  }
  // A folded line is a marker until its value (all the self time below it) is known.
  const lines: (string | { readonly text: string; ns: number })[] = []
  const path: string[] = [...prefix]
  const below = new Map<ProfileNode, { readonly text: string; ns: number }>()
  let depth = 0
  let anchor: ProfileNode | undefined
  walk(
    thread.root,
    (node) => {
      if (node.frame === null) {
        const value = Math.round(node.selfNs / scale)
        if (value > 0) lines.push(`${name} ${value}`)
        return
      }
      frameOf(doc, node)
      depth++
      if (fold !== undefined && depth > fold) {
        const acc = below.get(anchor!)!
        acc.ns += node.selfNs
        return
      }
      path.push(labels[node.frame]!)
      pathChars += labels[node.frame]!.length + 1
      if (fold !== undefined && depth === fold && node.children.length > 0) {
        anchor = node
        // The folded line goes right after this call's own line, before its siblings'.
        charge(64)
        const acc = { text: `${path.join(';')};[frames below depth ${fold}]`, ns: 0 }
        below.set(node, acc)
        const value = Math.round(node.selfNs / scale)
        if (value > 0) {
          charge(24)
          lines.push(`${path.join(';')} ${value}`)
        }
        lines.push(acc)
        return
      }
      const value = Math.round(node.selfNs / scale)
      if (value > 0) {
        charge(24)
        lines.push(`${path.join(';')} ${value}`)
      }
    },
    (node) => {
      if (node.frame === null) return
      if (fold === undefined || depth <= fold) pathChars -= path.pop()!.length + 1
      depth--
    },
  )
  // Folded lines get their values; those that round to 0 are left out.
  return lines.flatMap((l) => {
    if (typeof l === 'string') return [l]
    const v = Math.round(l.ns / scale)
    return v > 0 ? [`${l.text} ${v}`] : []
  })
}

function collapsedOptions(s: ExportSettings): CollapsedOptions {
  const unit = s.options.unit as CollapsedUnit | undefined
  return { ...(s.thread !== undefined ? { thread: s.thread } : {}), ...(unit !== undefined ? { unit } : {}) }
}

/** The folded-stacks export format (see ./exporter.ts). */
export const collapsedExporter: Exporter = {
  name: 'collapsed',
  description: 'folded stacks "a;b;c 123" (self time per call path, integer µs by default) for\nflamegraph.pl, inferno, speedscope',
  binary: false,
  needsFile: false,
  options: { unit: { choices: Object.keys(COLLAPSED_UNITS), help: 'the unit of the values (default us)' } },
  run: (doc, s) => toCollapsed(doc, collapsedOptions(s)),
  notes(doc, s) {
    const fold = collapsedFoldDepth(doc, collapsedOptions(s))
    if (fold === undefined) return []
    return [`the call tree is too deep for whole paths (more than ${COLLAPSED_FRAME_BUDGET.toLocaleString('en-US')} frames): frames below depth ${fold} are folded into one "[frames below depth ${fold}]" frame per path`]
  },
}
