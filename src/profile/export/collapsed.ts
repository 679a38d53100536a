/**
 * Export to folded stacks, the input of flamegraph.pl, inferno and speedscope: one line per call
 * path with self time, `frame;frame;frame value`, root first.
 *
 * - Values are self time as integers in `unit` (default `us`, microseconds, rounded per path);
 *   paths whose rounded value is 0 are left out, as a flame graph could not show them.
 * - Frames are `qualname (file:line)` (file relative to the profile's cwd when inside it), builtins
 *   by name (`len`, `math.sqrt`); see foldedLabel.
 * - With several threads exported, each stack starts with the thread's name in brackets
 *   (`[MainThread]`), whose own value is the thread root's self time (time in frames older than
 *   the profile); with one thread there is no such frame and that time is left out.
 * - Lines come in depth-first tree order (largest paths first), so equal inputs give equal text.
 */
import type { ProfileDocument } from '../document.js'
import { ExportError } from './errors.js'
import { foldedLabel } from './labels.js'
import { frameOf, selectThreads, threadLabel, walk } from './tree.js'

/** Units of collapsed values, in nanoseconds each. */
export const COLLAPSED_UNITS = { ns: 1, us: 1e3, ms: 1e6 } as const

/** A unit for collapsed values. */
export type CollapsedUnit = keyof typeof COLLAPSED_UNITS

/** Options of {@link toCollapsed}. */
export interface CollapsedOptions {
  /** Only this thread (name, id or `#index`). */
  readonly thread?: string
  /** Unit of the values (default `us`). */
  readonly unit?: CollapsedUnit
}

/** The profile as folded stacks, one `a;b;c 123` line per path, each line ending in `\n`. */
export function toCollapsed(doc: ProfileDocument, options: CollapsedOptions = {}): string {
  const unit = options.unit ?? 'us'
  const scale = COLLAPSED_UNITS[unit]
  if (scale === undefined) throw new ExportError('EXPORT_BAD_OPTION', `unknown unit "${String(unit)}" for collapsed stacks: use ${Object.keys(COLLAPSED_UNITS).join(', ')}`)
  const threads = selectThreads(doc, options.thread)
  const labels = doc.frames.map((f) => foldedLabel(f, doc.metadata.cwd))
  const lines: string[] = []
  for (const thread of threads) {
    const prefix = threads.length > 1 ? [`[${threadLabel(doc, thread).replace(/;/g, ':')}]`] : []
    const path: string[] = [...prefix]
    walk(
      thread.root,
      (node) => {
        if (node.frame !== null) {
          frameOf(doc, node)
          path.push(labels[node.frame]!)
        }
        const value = Math.round(node.selfNs / scale)
        if (value > 0 && path.length > 0) lines.push(`${path.join(';')} ${value}`)
      },
      (node) => {
        if (node.frame !== null) path.pop()
      },
    )
  }
  return lines.length ? `${lines.join('\n')}\n` : ''
}
