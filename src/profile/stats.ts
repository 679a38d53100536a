/**
 * Statistics for comparing repeated profiles: the Mann-Whitney U test (Wilcoxon rank-sum) and
 * medians.
 *
 * The p-value is exact when neither sample has ties and both are small (m, n ≤ 30): the null
 * distribution of U is counted with the recurrence f(u; m, n) = f(u − n; m − 1, n) + f(u; m, n − 1)
 * (Mann & Whitney 1947). Otherwise it is the normal approximation with the tie correction of the
 * variance, σ² = mn/12 · ((N + 1) − Σ(t³ − t) / (N(N − 1))), and a continuity correction of ½.
 */

/** Result of a Mann-Whitney U test of `y` against `x`. */
export interface MannWhitney {
  /** U of y: pairs (x_i, y_j) with y_j > x_i, ties counting ½. Between 0 and m·n. */
  readonly u: number
  /** P(U ≥ u) under H0: the probability that y is this much larger by chance. */
  readonly pGreater: number
  /** P(U ≤ u) under H0. */
  readonly pLess: number
  /** min(1, 2 · min(pGreater, pLess)). */
  readonly pTwoSided: number
  readonly method: 'exact' | 'normal'
}

/** Largest sample size for which the exact distribution is computed. */
const EXACT_MAX = 30

/** The median of a non-empty list (mean of the middle two for even lengths). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return 0
  const s = [...values].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

/** Counts of U = 0..m·n over all C(m+n, m) orderings, as floats (exact up to 2^53). */
function uCounts(m: number, n: number): number[] {
  // f[j] for the current i: counts of u for samples of size i and j, built up row by row.
  let prev: number[][] = Array.from({ length: n + 1 }, () => [1]) // i = 0: only u = 0
  for (let i = 1; i <= m; i++) {
    const cur: number[][] = [Array.from({ length: 1 }, () => 1)] // j = 0: only u = 0
    for (let j = 1; j <= n; j++) {
      const size = i * j + 1
      const out = new Array<number>(size).fill(0)
      const a = prev[j]! // f(u - j; i - 1, j): the largest element is from x... shifted by j
      const b = cur[j - 1]! // f(u; i, j - 1)
      for (let u = 0; u < size; u++) out[u] = (u - j >= 0 && u - j < a.length ? a[u - j]! : 0) + (u < b.length ? b[u]! : 0)
      cur.push(out)
    }
    prev = cur
  }
  return prev[n]!
}

/** Standard normal upper tail P(Z > z) (erfc via Numerical Recipes' Chebyshev fit, |error| < 1.2e-7). */
export function normalUpper(z: number): number {
  const x = z / Math.SQRT2
  const t = 1 / (1 + 0.5 * Math.abs(x))
  const y =
    t *
    Math.exp(
      -x * x -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    )
  const erfc = x >= 0 ? y : 2 - y
  return erfc / 2
}

/** The Mann-Whitney U test of `y` (e.g. head runs) against `x` (base runs). Both need ≥ 1 value. */
export function mannWhitney(x: readonly number[], y: readonly number[]): MannWhitney {
  const m = x.length
  const n = y.length
  if (m === 0 || n === 0) throw new RangeError('mannWhitney needs two non-empty samples')
  let u = 0
  for (const b of y) for (const a of x) u += b > a ? 1 : b === a ? 0.5 : 0
  const all = [...x, ...y].sort((a, b) => a - b)
  let tieTerm = 0
  for (let i = 0; i < all.length; ) {
    let j = i
    while (j < all.length && all[j] === all[i]) j++
    const t = j - i
    tieTerm += t * t * t - t
    i = j
  }
  let pGreater: number
  let pLess: number
  let method: MannWhitney['method']
  if (tieTerm === 0 && m <= EXACT_MAX && n <= EXACT_MAX) {
    const counts = uCounts(m, n)
    const total = counts.reduce((s, c) => s + c, 0)
    let ge = 0
    let le = 0
    counts.forEach((c, k) => {
      if (k >= u) ge += c
      if (k <= u) le += c
    })
    pGreater = ge / total
    pLess = le / total
    method = 'exact'
  } else {
    const N = m + n
    const mu = (m * n) / 2
    const variance = ((m * n) / 12) * (N + 1 - tieTerm / (N * (N - 1)))
    if (variance <= 0) {
      // Every value equal: no evidence either way.
      pGreater = 1
      pLess = 1
    } else {
      const sd = Math.sqrt(variance)
      pGreater = Math.min(1, normalUpper((u - mu - 0.5) / sd))
      pLess = Math.min(1, normalUpper((mu - u - 0.5) / sd))
    }
    method = 'normal'
  }
  return { u, pGreater, pLess, pTwoSided: Math.min(1, 2 * Math.min(pGreater, pLess)), method }
}

/** The smallest one-sided p-value any outcome can reach with samples of m and n (1 / C(m+n, m)). */
export function smallestP(m: number, n: number): number {
  let c = 1
  for (let i = 1; i <= Math.min(m, n); i++) c = (c * (m + n - Math.min(m, n) + i)) / i
  return 1 / c
}
