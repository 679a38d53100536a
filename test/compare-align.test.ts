/**
 * The compare engine without a Python: the alignment (LCS, normalization, line blocks, pairing)
 * and the timing statistics, on small hand-made cases whose right answer is plain.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { alignByLine, alignByText, alignKey, type AlignInstruction, lcs, lineBlocks, pairInstructions, timingRatio, timingStats } from '../src/bytecode/compare/index.js'

const ins = (opname: string, argrepr = '', line?: number, isJump = false): AlignInstruction => ({ opname, argrepr, line, isJump })

test('lcs finds a longest common subsequence, in order', () => {
  assert.deepEqual(lcs([...'ABCBDAB'], [...'BDCABA'], (x, y) => x === y).length, 4)
  assert.deepEqual(lcs([1, 2, 3], [1, 2, 3], (x, y) => x === y), [[0, 0], [1, 1], [2, 2]])
  assert.deepEqual(lcs([1, 2], [], (x, y) => x === y), [])
  const pairs = lcs([...'XMJYAUZ'], [...'MZJAWXU'], (x, y) => x === y)
  assert.equal(pairs.length, 4)
  for (let k = 1; k < pairs.length; k++) assert.ok(pairs[k]![0] > pairs[k - 1]![0] && pairs[k]![1] > pairs[k - 1]![1])
})

test('the match key ignores jump targets, NULL markers and code-object addresses, not names or constants', () => {
  assert.equal(alignKey(ins('FOR_ITER', 'to 24', 1, true)), alignKey(ins('FOR_ITER', 'to L3', 1, true)))
  assert.equal(alignKey(ins('LOAD_GLOBAL', 'NULL + print')), alignKey(ins('LOAD_GLOBAL', 'print + NULL')))
  assert.equal(alignKey(ins('LOAD_ATTR', 'NULL|self + append')), alignKey(ins('LOAD_ATTR', 'append + NULL|self')))
  assert.equal(
    alignKey(ins('LOAD_CONST', '<code object f at 0x7f00, file "a.py", line 3>')),
    alignKey(ins('LOAD_CONST', '<code object f at 0x1234, file "b.py", line 9>')),
  )
  assert.notEqual(alignKey(ins('LOAD_FAST', 'x')), alignKey(ins('LOAD_FAST', 'y')))
  assert.notEqual(alignKey(ins('LOAD_CONST', '1')), alignKey(ins('LOAD_CONST', '2')))
  assert.notEqual(alignKey(ins('JUMP_FORWARD', 'to 4', 1, true)), alignKey(ins('JUMP_BACKWARD', 'to 4', 1, true)))
})

test('pairing: matches are same, facing leftovers changed, the rest one-sided', () => {
  const a = [ins('LOAD_FAST', 'x'), ins('LOAD_CONST', '1'), ins('BINARY_ADD'), ins('RETURN_VALUE')]
  const b = [ins('LOAD_FAST', 'x'), ins('LOAD_CONST', '1'), ins('BINARY_OP', '+'), ins('NOP'), ins('RETURN_VALUE')]
  const pairs = pairInstructions(a, b, [0, 1, 2, 3], [0, 1, 2, 3, 4])
  assert.deepEqual(
    pairs.map((p) => p.kind),
    ['same', 'same', 'changed', 'b', 'same'],
  )
  assert.deepEqual(pairs[2], { kind: 'changed', a: 2, b: 2 })
  assert.deepEqual(pairs[3], { kind: 'b', b: 3 })
})

test('line blocks: one per line in line order, lineless instructions last', () => {
  const list = [ins('RESUME', '', 1), ins('LOAD_FAST', 'x', 3), ins('STORE_FAST', 'y', 2), ins('POP_TOP', '', undefined), ins('RETURN_VALUE', '', 3)]
  assert.deepEqual(lineBlocks(list), [
    { line: 1, instructions: [0] },
    { line: 2, instructions: [2] },
    { line: 3, instructions: [1, 4] },
    { line: undefined, instructions: [3] },
  ])
})

test('across versions, rows are source lines: every side shows its code for the same line', () => {
  const v10 = [ins('LOAD_CONST', '0', 2), ins('STORE_FAST', 't', 2), ins('LOAD_FAST', 't', 3), ins('RETURN_VALUE', '', 3)]
  const v12 = [ins('RESUME', '', 1), ins('LOAD_CONST', '0', 2), ins('STORE_FAST', 't', 2), ins('LOAD_FAST', 't', 3), ins('RETURN_VALUE', '', 3)]
  const v14 = [ins('RESUME', '', 1), ins('LOAD_SMALL_INT', '0', 2), ins('STORE_FAST', 't', 2), ins('LOAD_FAST_BORROW', 't', 3), ins('RETURN_VALUE', '', 3)]
  const rows = alignByLine([v10, v12, v14])
  assert.deepEqual(
    rows.map((r) => r.blocks.map((b) => b?.line ?? null)),
    [
      [null, 1, 1],
      [2, 2, 2],
      [3, 3, 3],
    ],
  )
  const two = alignByLine([v10, v12])
  assert.deepEqual(two[1]!.pairs!.map((p) => p.kind), ['same', 'same'])
})

test('two implementations: equal lines match by text, differing ones face each other', () => {
  const srcA = ['def f(data):', '    r = [x * x for x in data]', '    return r']
  const srcB = ['def f(data):', '    r = []', '    for x in data:', '        r.append(x * x)', '    return r']
  const a = [ins('RESUME', '', 1), ins('BUILD_LIST', '', 2), ins('STORE_FAST', 'r', 2), ins('LOAD_FAST', 'r', 3), ins('RETURN_VALUE', '', 3)]
  const b = [ins('RESUME', '', 1), ins('BUILD_LIST', '', 2), ins('STORE_FAST', 'r', 2), ins('FOR_ITER', 'to 9', 3, true), ins('LOAD_FAST', 'r', 4), ins('LOAD_FAST', 'r', 5), ins('RETURN_VALUE', '', 5)]
  const rows = alignByText(a, b, (side, line) => (side === 0 ? srcA : srcB)[line - 1])
  assert.deepEqual(
    rows.map((r) => r.blocks.map((blk) => blk?.line ?? null)),
    [
      [1, 1],
      [2, 2],
      [null, 3],
      [null, 4],
      [3, 5],
    ],
  )
  assert.deepEqual(rows[1]!.pairs!.map((p) => p.kind), ['same', 'same'])
  assert.deepEqual(rows[4]!.pairs!.map((p) => p.kind), ['same', 'same'])
})

test('timing: median and spreads of repeats; the ratio from all pairwise ratios, with its direction', () => {
  const s = timingStats(10, [3, 1, 2, 100, 2])
  assert.equal(s.median, 2)
  assert.equal(s.min, 1)
  assert.equal(s.iqr, 1)
  assert.equal(s.mad, 1)
  const slow = [2.0, 2.1, 1.9, 2.05, 1.95]
  const fast = [1.0, 1.05, 0.95, 1.02, 0.98]
  const r = timingRatio(slow, fast)
  assert.ok(Math.abs(r.ratio - 2) < 0.05, String(r.ratio))
  assert.equal(r.faster, 'b')
  assert.ok(r.uncertaintyPct > 0 && r.uncertaintyPct < 10)
  assert.equal(timingRatio(fast, slow).faster, 'a')
  assert.equal(timingRatio([1, 1.1, 0.9], [1.05, 0.95, 1]).faster, 'same')
})
