/** The unit formatters of src/text/units.ts: one sign style (ASCII) for every report and the web UI. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { formatBytes, formatNs, formatSignedFraction, formatSignedNs } from '../src/text/units.js'

test('durations and bytes: 3 significant digits, ASCII minus', () => {
  assert.equal(formatNs(812), '812 ns')
  assert.equal(formatNs(-32_450_000), '-32.5 ms')
  assert.equal(formatBytes(-10_000), '-9.77 KiB')
})

test('signed changes: the sign always shown, the same minus as the unsigned formatters', () => {
  assert.equal(formatSignedNs(1_234_000), '+1.23 ms')
  assert.equal(formatSignedNs(-812), '-812 ns')
  assert.equal(formatSignedNs(0), '±0 ns')
  assert.equal(formatSignedNs(-32_450_000), formatNs(-32_450_000))
  assert.equal(formatSignedFraction(0.302), '+30.2%')
  assert.equal(formatSignedFraction(-0.623), '-62.3%')
  assert.equal(formatSignedFraction(0.00001), '0.0%')
  assert.equal(formatSignedFraction(null), '–')
  for (const s of [formatSignedNs(-5), formatSignedFraction(-0.5), formatNs(-5), formatBytes(-5)]) assert.ok(!s.includes('\u2212'), `${s}: ASCII minus`)
})
