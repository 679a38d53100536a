/**
 * Per-run statistics for reports of repeated profiles (`pyxray profile --repeat N`): the middle
 * value and spread over the runs of each function or call path, so figures read like those of a
 * single run. Spread is the interquartile range for 4 runs or more (quartiles interpolated
 * linearly between order statistics), else the full range (min–max): with 2 or 3 runs quartiles say
 * little more than the extremes.
 */
import { median } from './stats.js'

/** How the spread of a statistic over runs is measured. */
export type SpreadKind = 'iqr' | 'range'

/** A value over runs: its median and the ends of its spread. */
export interface RunSpread {
  readonly median: number
  /** First quartile (iqr) or smallest value (range). */
  readonly low: number
  /** Third quartile (iqr) or largest value (range). */
  readonly high: number
}

/** One value per run of a row (a function, a call path, a caller or callee). */
export interface RunValues {
  readonly calls: number
  readonly selfNs: number
  readonly totalNs: number
  readonly netBytes?: number
  readonly samples?: number
}

/** Per-run statistics of a report row; runs where the row did not occur count as 0. */
export interface RowRunStats {
  readonly selfNs: RunSpread
  readonly totalNs: RunSpread
  /** Calls in each run, in run order. */
  readonly calls: readonly number[]
  /** The runs did not all make the same number of calls (they did different work). */
  readonly callsDiffer: boolean
  /** Median net bytes per run (memory mode). */
  readonly netBytes?: number
  /** Median samples per run (sample mode). */
  readonly samples?: number
}

/** The spread used for `runs` runs: the IQR from 4 runs on, else min–max. */
export function spreadKind(runs: number): SpreadKind {
  return runs >= 4 ? 'iqr' : 'range'
}

/** The q-quantile (0 ≤ q ≤ 1) of ascending values, interpolated linearly between order statistics. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0
  const pos = (sorted.length - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo)
}

/** Median and spread of one value per run. */
export function runSpread(values: readonly number[], kind: SpreadKind): RunSpread {
  const s = [...values].sort((a, b) => a - b)
  if (s.length === 0) return { median: 0, low: 0, high: 0 }
  return kind === 'iqr' ? { median: median(s), low: quantile(s, 0.25), high: quantile(s, 0.75) } : { median: median(s), low: s[0]!, high: s[s.length - 1]! }
}

/** Half the width of a spread: the "±" of the reports. */
export function halfSpread(s: RunSpread): number {
  return (s.high - s.low) / 2
}

/** Statistics of a row from its value in each run (undefined: absent from that run, counted as 0). */
export function rowRunStats(perRun: readonly (RunValues | undefined)[], kind: SpreadKind): RowRunStats {
  const calls = perRun.map((v) => v?.calls ?? 0)
  const hasNet = perRun.some((v) => v?.netBytes !== undefined)
  const hasSamples = perRun.some((v) => v?.samples !== undefined)
  return {
    selfNs: runSpread(
      perRun.map((v) => v?.selfNs ?? 0),
      kind,
    ),
    totalNs: runSpread(
      perRun.map((v) => v?.totalNs ?? 0),
      kind,
    ),
    calls,
    callsDiffer: calls.some((c) => c !== calls[0]),
    ...(hasNet ? { netBytes: median(perRun.map((v) => v?.netBytes ?? 0)) } : {}),
    ...(hasSamples ? { samples: median(perRun.map((v) => v?.samples ?? 0)) } : {}),
  }
}

/** "12" when every run made the same calls, else "min–max". */
export function callsPerRun(s: RowRunStats): string {
  if (!s.callsDiffer) return String(s.calls[0] ?? 0)
  return `${Math.min(...s.calls)}–${Math.max(...s.calls)}`
}

/** Adds `b` into the accumulator `a` (rows seen twice in one run, e.g. duplicate call paths). */
export function addRunValues(a: RunValues | undefined, b: RunValues): RunValues {
  if (a === undefined) return { calls: b.calls, selfNs: b.selfNs, totalNs: b.totalNs, ...(b.netBytes !== undefined ? { netBytes: b.netBytes } : {}), ...(b.samples !== undefined ? { samples: b.samples } : {}) }
  return {
    calls: a.calls + b.calls,
    selfNs: a.selfNs + b.selfNs,
    totalNs: a.totalNs + b.totalNs,
    ...(a.netBytes !== undefined || b.netBytes !== undefined ? { netBytes: (a.netBytes ?? 0) + (b.netBytes ?? 0) } : {}),
    ...(a.samples !== undefined || b.samples !== undefined ? { samples: (a.samples ?? 0) + (b.samples ?? 0) } : {}),
  }
}
