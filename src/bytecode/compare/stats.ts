/**
 * Statistics of timing repeats and the ratio of two sides with its uncertainty.
 *
 * Method. Each side has `n` repeats, each the mean time of one loop over many loops (see the
 * agent's `measure`). A side is summarised by the median of its repeats and two spreads: the
 * interquartile range (IQR) and the median absolute deviation (MAD). Two sides A and B are
 * compared through every pairwise ratio `a_i / b_j` (n_A · n_B values): the ratio is their median
 * (a Hodges–Lehmann-style estimate that one outlying repeat cannot move), and its uncertainty is
 * half their IQR, relative to the ratio. "B is 1.8× faster (±4 %)" means the median pairwise ratio
 * A/B is 1.8 and half the middle 50 % of the pairwise ratios spans 4 % of it. When 1 lies inside
 * that middle 50 % the sides are reported as indistinguishable.
 */

/** Summary of one side's repeats (seconds per loop). */
export interface TimingStats {
  /** Loops per repeat, found by auto-ranging. */
  readonly loops: number
  /** Seconds per loop of every repeat, in the order they ran. */
  readonly secondsPerLoop: readonly number[]
  readonly median: number
  readonly min: number
  readonly max: number
  /** Interquartile range of the repeats, in seconds. */
  readonly iqr: number
  /** Median absolute deviation of the repeats, in seconds. */
  readonly mad: number
}

/** A/B of two timing distributions (see the module comment for the method). */
export interface TimingRatio {
  /** Median of the pairwise ratios a_i / b_j: above 1 when B is faster. */
  readonly ratio: number
  /** First and third quartiles of the pairwise ratios. */
  readonly q1: number
  readonly q3: number
  /** Half the IQR of the pairwise ratios relative to the ratio, in percent. */
  readonly uncertaintyPct: number
  /** Which side is faster: 'a', 'b', or 'same' when 1 lies within [q1, q3]. */
  readonly faster: 'a' | 'b' | 'same'
}

/** The q-quantile (0–1) of sorted values, linearly interpolated (as numpy's default). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN
  const pos = (sorted.length - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo)
}

/** The median of unsorted values. */
export function median(values: readonly number[]): number {
  return quantile([...values].sort((x, y) => x - y), 0.5)
}

/** Median, IQR and MAD of one side's repeats. */
export function timingStats(loops: number, secondsPerLoop: readonly number[]): TimingStats {
  const sorted = [...secondsPerLoop].sort((x, y) => x - y)
  const med = quantile(sorted, 0.5)
  return {
    loops,
    secondsPerLoop,
    median: med,
    min: sorted[0] ?? Number.NaN,
    max: sorted.at(-1) ?? Number.NaN,
    iqr: quantile(sorted, 0.75) - quantile(sorted, 0.25),
    mad: median(sorted.map((x) => Math.abs(x - med))),
  }
}

/** A/B from the pairwise ratios of the two sides' repeats. */
export function timingRatio(a: readonly number[], b: readonly number[]): TimingRatio {
  const ratios: number[] = []
  for (const x of a) for (const y of b) if (y > 0) ratios.push(x / y)
  ratios.sort((x, y) => x - y)
  const ratio = quantile(ratios, 0.5)
  const q1 = quantile(ratios, 0.25)
  const q3 = quantile(ratios, 0.75)
  return {
    ratio,
    q1,
    q3,
    uncertaintyPct: ratio > 0 ? ((q3 - q1) / 2 / ratio) * 100 : Number.NaN,
    faster: q1 <= 1 && 1 <= q3 ? 'same' : ratio > 1 ? 'b' : 'a',
  }
}

/** "B is 1.8× faster than A (±4 %)" or "A and B take the same time within the noise (A/B = 1.01 ±3 %)". */
export function describeRatio(r: TimingRatio, a: string, b: string): string {
  const pct = `±${r.uncertaintyPct < 10 ? r.uncertaintyPct.toFixed(1) : Math.round(r.uncertaintyPct)} %`
  if (r.faster === 'same') return `${a} and ${b} take the same time within the noise (${a}/${b} = ${r.ratio.toFixed(2)}, ${pct})`
  const times = r.ratio > 1 ? r.ratio : 1 / r.ratio
  const shown = times >= 100 ? times.toFixed(0) : times >= 10 ? times.toFixed(1) : times.toFixed(2)
  return r.faster === 'b' ? `${b} is ${shown}× faster than ${a} (${pct})` : `${a} is ${shown}× faster than ${b} (${pct})`
}
