/** Searching sorted instruction offsets. Core layer: no dependencies, no Node APIs. */

/** The index of the first entry of ascending `sorted` at or after `value` (`sorted.length` when none is). */
export function firstAtOrAfter(sorted: readonly number[], value: number): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (sorted[mid]! < value) lo = mid + 1
    else hi = mid
  }
  return lo
}
