/**
 * toJsonText against JSON.stringify: byte for byte on arbitrary JSON-like values (shallower than
 * JSON_INDENT_LEVELS), compact and indented, with undefined, non-finite numbers and toJSON.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { JsonSizeError, toJsonText } from '../src/profile/json.js'

const leaf = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(undefined), fc.constantFrom(Number.NaN, Infinity, -Infinity))
const value = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, fc.array(tie('node')), fc.dictionary(fc.string(), tie('node'))),
})).node

test('toJsonText equals JSON.stringify for any plain value, compact and indented', () => {
  fc.assert(
    fc.property(value, fc.constantFrom(0, 1, 2, 4), (v, indent) => {
      assert.equal(toJsonText(v, indent), JSON.stringify(v, null, indent) ?? 'null')
    }),
    { numRuns: 2000, seed: 7 },
  )
})

test('toJsonText writes an object through its toJSON, as JSON.stringify does', () => {
  class Point {
    constructor(
      readonly x: number,
      readonly hidden: string,
    ) {}
    toJSON() {
      return { x: this.x, list: [1, 'a', null] }
    }
  }
  const v = { points: [new Point(1, 'h'), new Point(2, 'h')], at: new Date(0), plain: { a: [1, 2], b: 'c', d: undefined } }
  for (const indent of [0, 2]) assert.equal(toJsonText(v, indent), JSON.stringify(v, null, indent))
})

test('toJsonText stops at the limit with a JsonSizeError, also for one long run of scalars', () => {
  const big = Array.from({ length: 100_000 }, (_, i) => `name-${i}`)
  assert.throws(() => toJsonText({ big }, 2, 10_000), JsonSizeError)
  assert.equal(toJsonText({ big }, 2, 10_000_000), JSON.stringify({ big }, null, 2))
})
