/**
 * Export to speedscope's file format (https://www.speedscope.app/file-format-schema.json).
 *
 * One "evented" profile per thread, in nanoseconds: the aggregated call tree is laid out as
 * open/close events, each node spanning its totalNs, children back to back from the start of their
 * parent in document order (largest first), the parent's self time after them. An aggregated tree
 * has no time order, so this is the "left heavy" picture in every speedscope view, and importing
 * it gives back every call path with exactly its total and self time.
 *
 * A memory profile of the C engine (nodes with `memory.allocatedBytes`) adds, per thread, a
 * "sampled" profile in bytes: one sample per call path weighted by the bytes allocated in that
 * path itself (its allocatedBytes less its children's), so speedscope's views show where memory
 * was allocated.
 */
import type { Exporter } from './exporter.js'
import type { ProfileDocument } from '../document.js'
import { frameName, relativeFile } from './labels.js'
import { frameOf, selectThreads, threadLabel, walk } from './tree.js'

/** The `$schema` value that marks a speedscope file. */
export const SPEEDSCOPE_SCHEMA = 'https://www.speedscope.app/file-format-schema.json'

/** A frame of speedscope's shared frame table. */
export interface SpeedscopeFrame {
  readonly name: string
  readonly file?: string
  /** 1-based first line of the function. */
  readonly line?: number
}

/** An open ('O') or close ('C') event of an evented profile; `at` in the profile's unit. */
export interface SpeedscopeEvent {
  readonly type: 'O' | 'C'
  readonly frame: number
  readonly at: number
}

/** speedscope's evented profile (values in nanoseconds here). */
export interface SpeedscopeEventedProfile {
  readonly type: 'evented'
  readonly name: string
  readonly unit: 'nanoseconds'
  readonly startValue: number
  readonly endValue: number
  readonly events: readonly SpeedscopeEvent[]
}

/** speedscope's sampled profile: stacks (frame indexes, root first) and their weights. */
export interface SpeedscopeSampledProfile {
  readonly type: 'sampled'
  readonly name: string
  readonly unit: 'bytes'
  readonly startValue: number
  readonly endValue: number
  readonly samples: readonly (readonly number[])[]
  readonly weights: readonly number[]
}

/** A speedscope file. */
export interface SpeedscopeFile {
  readonly $schema: typeof SPEEDSCOPE_SCHEMA
  readonly shared: { readonly frames: readonly SpeedscopeFrame[] }
  readonly profiles: readonly SpeedscopeEventedProfile[]
  readonly name: string
  readonly activeProfileIndex: number
  readonly exporter: string
}

/** Options of {@link toSpeedscope}. */
export interface SpeedscopeOptions {
  /** Only this thread (name, id or `#index`; see selectThreads). */
  readonly thread?: string
  /** The `exporter` field, e.g. `pyxray@0.1.0`. */
  readonly exporter?: string
}

/** The profile as a speedscope file object (JSON.stringify it to write). */
export function toSpeedscope(doc: ProfileDocument, options: SpeedscopeOptions = {}): SpeedscopeFile {
  const frames: SpeedscopeFrame[] = doc.frames.map((f) =>
    f.kind === 'builtin' ? { name: frameName(f) } : { name: f.qualname, file: relativeFile(f.file, doc.metadata.cwd), line: f.firstlineno },
  )
  const threads = selectThreads(doc, options.thread)
  const program = programName(doc)
  const profiles = threads.map((thread): SpeedscopeEventedProfile => {
    const events: SpeedscopeEvent[] = []
    // Where the next child of each open node starts: a node starts where its parent's cursor is.
    const cursor: number[] = [0]
    walk(
      thread.root,
      (node, parents) => {
        if (parents.length === 0) return
        const at = cursor[cursor.length - 1]!
        frameOf(doc, node)
        events.push({ type: 'O', frame: node.frame!, at })
        cursor.push(at)
      },
      (node, parents) => {
        if (parents.length === 0) return
        cursor.pop()
        const start = cursor[cursor.length - 1]!
        events.push({ type: 'C', frame: node.frame!, at: start + node.totalNs })
        cursor[cursor.length - 1] = start + node.totalNs
      },
    )
    return { type: 'evented', name: `${program} — ${threadLabel(doc, thread)}`, unit: 'nanoseconds', startValue: 0, endValue: thread.root.totalNs, events }
  })
  const main = threads.findIndex((t) => t.main)
  return {
    $schema: SPEEDSCOPE_SCHEMA,
    shared: { frames },
    profiles,
    name: program,
    activeProfileIndex: main < 0 ? 0 : main,
    exporter: options.exporter ?? 'pyxray',
  }
}

/**
 * The allocated-bytes profiles of a memory profile made by the C engine (see the module comment),
 * one per thread, in the order of {@link toSpeedscope}'s; none for other profiles. Their stacks
 * index the same shared frames.
 */
export function speedscopeAllocationProfiles(doc: ProfileDocument, options: SpeedscopeOptions = {}): SpeedscopeSampledProfile[] {
  const threads = selectThreads(doc, options.thread)
  const program = programName(doc)
  return threads.flatMap((thread): SpeedscopeSampledProfile[] => {
    if (thread.root.memory?.allocatedBytes === undefined) return []
    const samples: number[][] = []
    const weights: number[] = []
    walk(thread.root, (node, parents) => {
      if (parents.length === 0) return
      const own = (node.memory?.allocatedBytes ?? 0) - node.children.reduce((sum, c) => sum + (c.memory?.allocatedBytes ?? 0), 0)
      if (own <= 0) return
      samples.push([...parents.slice(1), node].map((n) => n.frame!))
      weights.push(own)
    })
    const total = weights.reduce((a, b) => a + b, 0)
    return [{ type: 'sampled', name: `${program} — ${threadLabel(doc, thread)} — allocated bytes`, unit: 'bytes', startValue: 0, endValue: total, samples, weights }]
  })
}

/** The profiled program's name: the last part of argv[0], or "python". */
export function programName(doc: ProfileDocument): string {
  const first = doc.metadata.argv[0]
  if (!first) return 'python'
  const parts = first.split(/[\\/]/)
  return parts[parts.length - 1] || first
}

/** The speedscope export format (see ./exporter.ts). */
export const speedscopeExporter: Exporter = {
  name: 'speedscope',
  description: "speedscope's JSON (https://www.speedscope.app): one profile per thread, the call tree\nlaid out left-heavy, in nanoseconds",
  binary: false,
  needsFile: false,
  options: {},
  run: (doc, s) => {
    const options = { ...(s.thread !== undefined ? { thread: s.thread } : {}), exporter: s.exporter }
    const file = toSpeedscope(doc, options)
    return `${JSON.stringify({ ...file, profiles: [...file.profiles, ...speedscopeAllocationProfiles(doc, options)] })}\n`
  },
}
