/**
 * The Mann-Whitney U test against values worked out by hand: exact tail probabilities counted from
 * the C(m+n, m) equally likely orderings, and the normal approximation with tie correction.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { mannWhitney, median, normalUpper, smallestP } from '../src/profile/stats.js'

const close = (a: number, b: number, eps = 1e-6) => assert.ok(Math.abs(a - b) < eps, `${a} ≉ ${b}`)

test('exact: complete separation is 1 / C(m+n, m)', () => {
  // y above every x: U = m·n, and only one ordering of the 6 values (of C(6,3) = 20) gives it.
  const r = mannWhitney([1, 2, 3], [4, 5, 6])
  assert.equal(r.u, 9)
  assert.equal(r.method, 'exact')
  close(r.pGreater, 1 / 20)
  close(r.pLess, 1)
  close(r.pTwoSided, 2 / 20)
  close(mannWhitney([1, 2, 3, 4], [5, 6, 7, 8]).pGreater, 1 / 70)
  close(mannWhitney([10, 11, 12, 13, 14], [1, 2, 3, 4, 5]).pLess, 1 / 252)
})

test('exact: interleaved samples, counted by hand', () => {
  // x = 1 3 5, y = 2 4 6: U_y = 1 + 2 + 3 = 6. For m = n = 3 the 20 orderings give
  // U = 0..9 with counts 1 1 2 3 3 3 3 2 1 1, so P(U ≥ 6) = (3+2+1+1)/20 and P(U ≤ 6) = 16/20.
  const r = mannWhitney([1, 3, 5], [2, 4, 6])
  assert.equal(r.u, 6)
  close(r.pGreater, 7 / 20)
  close(r.pLess, 16 / 20)
  // m = 2, n = 3: C(5,2) = 10 orderings, U = 0..6 with counts 1 1 2 2 2 1 1. x = 1 4, y = 2 3 5:
  // U_y = 1 + 1 + 2 = 4, P(U ≥ 4) = (2+1+1)/10.
  close(mannWhitney([1, 4], [2, 3, 5]).pGreater, 4 / 10)
})

test('normal approximation with tie correction', () => {
  // x = 1 2 2 3, y = 2 3 3 4: U_y = 2 + 3.5 + 3.5 + 4 = 13; m = n = 4, N = 8, μ = 8.
  // Ties: value 2 three times, value 3 three times: Σ(t³ − t) = 24 + 24 = 48.
  // σ² = (16/12)·(9 − 48/56) = 10.857142857; z = (13 − 8 − 0.5)/σ = 1.365698202;
  // P(Z > z) = 0.0860168545 (erfc).
  const r = mannWhitney([1, 2, 2, 3], [2, 3, 3, 4])
  assert.equal(r.method, 'normal')
  assert.equal(r.u, 13)
  close(r.pGreater, 0.0860168545, 2e-7)
  // All equal: no evidence either way.
  const same = mannWhitney([5, 5, 5], [5, 5, 5])
  assert.equal(same.pGreater, 1)
  assert.equal(same.pLess, 1)
})

test('the exact distribution sums to 1 and is symmetric', () => {
  for (const [m, n] of [
    [1, 1],
    [2, 5],
    [7, 7],
    [9, 4],
  ] as const) {
    const xs = Array.from({ length: m }, (_, i) => 2 * i)
    const ys = Array.from({ length: n }, (_, i) => 2 * i + 1)
    const r = mannWhitney(xs, ys)
    // P(U ≥ u) + P(U ≤ u) = 1 + P(U = u) ≥ 1, and the two tails of the mirrored sample agree.
    assert.ok(r.pGreater + r.pLess >= 1)
    const mirrored = mannWhitney(
      ys.map((v) => -v),
      xs.map((v) => -v),
    )
    close(r.pGreater, mirrored.pGreater)
  }
})

test('helpers: normal tail, median, smallest reachable p', () => {
  close(normalUpper(0), 0.5, 1e-7)
  close(normalUpper(1.959963985), 0.025, 1e-7)
  close(normalUpper(-1), 0.8413447461, 1e-7)
  assert.equal(median([3, 1, 2]), 2)
  assert.equal(median([4, 1, 3, 2]), 2.5)
  close(smallestP(5, 5), 1 / 252)
  close(smallestP(2, 2), 1 / 6)
})
