/**
 * Export to Chrome's Trace Event Format (the JSON object form: `{traceEvents: […]}`), which
 * chrome://tracing, Perfetto and speedscope open.
 *
 * One "X" (complete) event per call node, laid out left-heavy from the aggregated tree: children
 * sorted by total time, largest first, placed back to back from their parent's start, the parent's
 * self time after them; every thread's tree starts at 0. `pid` is the profiled process, `tid` the
 * thread's native id (or its Python id); "M" metadata events name the process and the threads.
 * `args` hold the function's file and line (the same for every node of a function, so viewers
 * that key frames by name and args, as speedscope does, still group a function's nodes).
 *
 * Times: `ts` and `dur` are microseconds, as the format wants, on a grid of 1/1024 µs (under 1 ns):
 * binary fractions are exact in floating point, so a consumer's `ts + dur` of a child never
 * lands past its parent's end by a rounding error, which would break the nesting.
 */
import type { Exporter } from './exporter.js'
import type { ProfileDocument, ProfileNode } from '../document.js'
import { frameName } from './labels.js'
import { programName } from './speedscope.js'
import { frameOf, selectThreads, threadLabel } from './tree.js'

/** A trace event: "X" complete events and "M" metadata events. */
export type TraceEvent =
  | {
      readonly ph: 'X'
      readonly name: string
      /** "python" or "builtin". */
      readonly cat: string
      /** Start, µs from the thread tree's start. */
      readonly ts: number
      /** Duration, µs: the node's total time. */
      readonly dur: number
      readonly pid: number
      readonly tid: number
      readonly args: { readonly file: string; readonly line: number }
    }
  | { readonly ph: 'M'; readonly name: 'process_name' | 'thread_name'; readonly pid: number; readonly tid: number; readonly args: { readonly name: string } }

/** A trace in the JSON object form. */
export interface ChromeTrace {
  readonly traceEvents: readonly TraceEvent[]
  readonly displayTimeUnit: 'ms' | 'ns'
  readonly otherData: { readonly exporter: string; readonly python: string; readonly mode: string; readonly clock: string }
}

/** Nanoseconds as microseconds on the 1/1024 µs grid (exact in binary floating point). */
function micros(ns: number): number {
  return Math.round((ns * 1024) / 1000) / 1024
}

/** Options of {@link toChromeTrace}. */
export interface ChromeOptions {
  /** Only this thread (name, id or `#index`). */
  readonly thread?: string
}

/** The profile as a trace (JSON.stringify it to write). */
export function toChromeTrace(doc: ProfileDocument, options: ChromeOptions = {}): ChromeTrace {
  const pid = doc.metadata.pid ?? 1
  const events: TraceEvent[] = [{ ph: 'M', name: 'process_name', pid, tid: 0, args: { name: programName(doc) } }]
  for (const thread of selectThreads(doc, options.thread)) {
    const tid = thread.nativeId ?? thread.id
    events.push({ ph: 'M', name: 'thread_name', pid, tid, args: { name: threadLabel(doc, thread) } })
    // Iterative: [node, start in ns]; a node's children are laid out when it is taken.
    const todo: [ProfileNode, number][] = [[thread.root, 0]]
    while (todo.length > 0) {
      const [node, start] = todo.pop()!
      if (node.frame !== null) {
        const frame = frameOf(doc, node)
        events.push({
          ph: 'X',
          name: frameName(frame),
          cat: frame.kind,
          ts: micros(start),
          dur: micros(start + node.totalNs) - micros(start),
          pid,
          tid,
          args: { file: frame.file, line: frame.firstlineno },
        })
      }
      const children = [...node.children].sort((a, b) => b.totalNs - a.totalNs)
      let at = start
      const placed: [ProfileNode, number][] = []
      for (const child of children) {
        placed.push([child, at])
        at += child.totalNs
      }
      for (let i = placed.length - 1; i >= 0; i--) todo.push(placed[i]!)
    }
  }
  return {
    traceEvents: events,
    displayTimeUnit: 'ns',
    otherData: { exporter: 'pyxray', python: `${doc.metadata.python.implementation} ${doc.metadata.python.version}`, mode: doc.metadata.mode, clock: doc.metadata.clock },
  }
}

/** The Chrome trace export format (see ./exporter.ts). */
export const chromeExporter: Exporter = {
  name: 'chrome',
  description: 'Trace Event Format JSON (chrome://tracing, Perfetto): complete events laid out\nleft-heavy, ts/dur in µs',
  binary: false,
  needsFile: false,
  options: {},
  run: (doc, s) => `${JSON.stringify(toChromeTrace(doc, s.thread !== undefined ? { thread: s.thread } : {}))}\n`,
}
