// `--explain` texts (src/bytecode/explain.ts): every instruction of every supported version has one
// line, well formed, about itself; and the texts that must differ between versions do.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { explainedOpcodes, explainOpcode, explanationTableProblems } from '../src/bytecode/explain.js'
import { opcodeTable, SUPPORTED_MINORS } from '../src/bytecode/opcodes/index.js'
import { MAX_MINOR } from '../src/versions/index.js'

/** Longest text allowed: the line is printed after the name in a 100-column view. */
const MAX_CHARS = 120

/** Every instruction name of 3.`minor`: base, pseudo and instrumented ones, and the specialized forms. */
function allNames(minor: number): string[] {
  const t = opcodeTable(minor)
  return [...Object.keys(t.opmap), ...Object.keys(t.specializedOpmap)].sort()
}

/** Every instruction name of every supported version. */
const EVERY_NAME = new Set(SUPPORTED_MINORS.flatMap(allNames))

/** The text for `name` in 3.`minor`, failing the test when there is none. */
function text(minor: number, name: string): string {
  const explained = explainOpcode(minor, name)
  assert.ok(explained !== undefined, `3.${minor} ${name} has no explanation`)
  return explained
}

/** Whether `text` mentions instruction `name` as a whole word. */
const mentions = (text: string, name: string): boolean => new RegExp(`(?<![A-Z0-9_])${name}(?![A-Z0-9_])`).test(text)

for (const minor of SUPPORTED_MINORS) {
  test(`3.${minor}: every base, pseudo and specialized instruction is explained`, () => {
    assert.deepEqual(explainedOpcodes(minor), allNames(minor))
  })

  test(`3.${minor}: each text is one short line about its own instruction`, () => {
    const t = opcodeTable(minor)
    for (const name of allNames(minor)) {
      const line = text(minor, name)
      const where = `3.${minor} ${name}: ${JSON.stringify(line)}`
      assert.ok(line.trim().length > 0, `${where} is empty`)
      assert.ok(line.length <= MAX_CHARS, `${where} has ${line.length} characters (max ${MAX_CHARS})`)
      assert.ok(!/[\n\r\t]/.test(line), `${where} is not a single line`)
      assert.ok(line === line.trim(), `${where} has surrounding spaces`)
      const first = /^[A-Z][A-Z0-9_]*/.exec(line)?.[0]
      assert.ok(first === undefined || !EVERY_NAME.has(first), `${where} starts with an instruction's name`)
      assert.ok(/^[a-z]/.test(line), `${where} should start with a lower-case word`)
      assert.ok(line.endsWith('.'), `${where} should end with a full stop`)
      assert.ok(!mentions(line, name), `${where} repeats its own name (callers print it)`)
      const base = t.deopt[name]
      if (base !== undefined) assert.ok(mentions(line, base), `${where} should name its base instruction ${base}`)
      const monitoredBase = name.startsWith('INSTRUMENTED_') ? name.slice('INSTRUMENTED_'.length) : undefined
      if (monitoredBase !== undefined && EVERY_NAME.has(monitoredBase)) {
        assert.ok(mentions(line, monitoredBase), `${where} should name the instruction it monitors`)
      }
    }
  })
}

test('names a version does not have, and unsupported versions, have no explanation', () => {
  assert.equal(explainOpcode(8, 'LOAD_SMALL_INT'), undefined)
  assert.equal(explainOpcode(14, 'BINARY_SUBSCR'), undefined)
  assert.equal(explainOpcode(14, 'RETURN_CONST'), undefined)
  assert.equal(explainOpcode(10, 'LOAD_ATTR_INSTANCE_VALUE'), undefined)
  assert.equal(explainOpcode(12, '<0>'), undefined)
  assert.equal(explainOpcode(12, 'toString'), undefined)
  assert.equal(explainOpcode(7, 'NOP'), undefined)
  assert.deepEqual(explainedOpcodes(MAX_MINOR + 1), [])
})

test('the tables have no unreachable, misspelt or colliding entries', () => {
  assert.deepEqual(explanationTableProblems(), [])
})

test('jump arguments: bytes in 3.8–3.9, code units from 3.10', () => {
  for (const minor of [8, 9]) {
    assert.match(text(minor, 'JUMP_FORWARD'), /\bbytes\b/)
    assert.match(text(minor, 'FOR_ITER'), /\bbytes\b/)
    assert.match(text(minor, 'POP_JUMP_IF_FALSE'), /byte offset arg/)
    assert.match(text(minor, 'JUMP_ABSOLUTE'), /byte offset arg/)
  }
  assert.match(text(10, 'JUMP_FORWARD'), /code units/)
  assert.match(text(10, 'FOR_ITER'), /code units/)
  assert.match(text(10, 'POP_JUMP_IF_FALSE'), /instruction number arg \(byte offset 2\*arg\)/)
  assert.match(text(10, 'JUMP_ABSOLUTE'), /instruction number arg/)
  for (const minor of [11, 12, 13, 14]) {
    assert.match(text(minor, 'JUMP_BACKWARD'), /back by arg code units/)
    assert.doesNotMatch(text(minor, 'JUMP_FORWARD'), /\bbytes?\b/)
  }
  assert.match(text(11, 'POP_JUMP_FORWARD_IF_TRUE'), /forward by arg code units/)
  assert.match(text(11, 'POP_JUMP_BACKWARD_IF_TRUE'), /back by arg code units/)
})

test('LOAD_GLOBAL: the low bit pushes NULL from 3.11, before the global until 3.12, after it from 3.13', () => {
  for (const minor of [8, 9, 10]) {
    assert.doesNotMatch(text(minor, 'LOAD_GLOBAL'), /NULL/)
    assert.match(text(minor, 'LOAD_GLOBAL'), /co_names\[arg\]/)
  }
  for (const minor of [11, 12]) assert.match(text(minor, 'LOAD_GLOBAL'), /co_names\[arg>>1\].*arg&1.*NULL before/)
  for (const minor of [13, 14]) assert.match(text(minor, 'LOAD_GLOBAL'), /co_names\[arg>>1\].*arg&1.*NULL after/)
})

test('argument encodings that moved between versions', () => {
  assert.match(text(8, 'COMPARE_OP'), /exception match/)
  assert.match(text(11, 'COMPARE_OP'), /cmp_op\[arg\]/)
  assert.match(text(12, 'COMPARE_OP'), /cmp_op\[arg>>4\]/)
  assert.match(text(13, 'COMPARE_OP'), /cmp_op\[arg>>5\].*arg&16/)
  assert.match(text(14, 'COMPARE_OP'), /cmp_op\[arg>>5\].*arg&16/)

  assert.doesNotMatch(text(11, 'LOAD_ATTR'), /arg&1/)
  assert.match(text(12, 'LOAD_ATTR'), /arg&1.*NULL and attribute/)
  assert.match(text(13, 'LOAD_ATTR'), /arg&1.*attribute and NULL/)

  assert.match(text(10, 'MAKE_FUNCTION'), /qualname/)
  assert.match(text(12, 'MAKE_FUNCTION'), /8 closure/)
  assert.match(text(13, 'MAKE_FUNCTION'), /SET_FUNCTION_ATTRIBUTE/)
  assert.doesNotMatch(text(13, 'SET_FUNCTION_ATTRIBUTE'), /annotate/)
  assert.match(text(14, 'SET_FUNCTION_ATTRIBUTE'), /16 annotate/)

  assert.doesNotMatch(text(13, 'BINARY_OP'), /26/)
  assert.match(text(14, 'BINARY_OP'), /26: left\[right\]/)

  assert.match(text(11, 'YIELD_VALUE'), /sent in/)
  assert.match(text(12, 'YIELD_VALUE'), /depth/)
  assert.match(text(13, 'YIELD_VALUE'), /yield from or await/)
  assert.match(text(12, 'RESUME'), /1 yield, 2 yield from, 3 await/)
  assert.match(text(13, 'RESUME'), /arg&3.*\+4/)
})

test('calls: CALL_FUNCTION ≤ 3.10, PRECALL/CALL/KW_NAMES 3.11, CALL/KW_NAMES 3.12, CALL/CALL_KW from 3.13', () => {
  assert.match(text(10, 'CALL_METHOD'), /method\+self/)
  assert.match(text(11, 'CALL'), /PRECALL/)
  assert.match(text(11, 'KW_NAMES'), /keyword names/)
  assert.match(text(12, 'CALL'), /callable \(or self\) and the NULL \(or method\) under it/)
  assert.match(text(13, 'CALL'), /self-or-NULL/)
  assert.match(text(13, 'CALL_KW'), /keyword names/)
  assert.match(text(12, 'RETURN_CONST'), /co_consts\[arg\]/)
  assert.match(text(14, 'CALL_FUNCTION_EX'), /kwargs \(dict or NULL\)/)
})

test('loops: what FOR_ITER leaves behind and what ends the loop', () => {
  assert.match(text(11, 'FOR_ITER'), /pop the iterator/)
  assert.match(text(12, 'FOR_ITER'), /END_FOR/)
  assert.match(text(12, 'END_FOR'), /two values/)
  assert.match(text(13, 'FOR_ITER'), /END_FOR, POP_TOP/)
  assert.match(text(13, 'END_FOR'), /one value/)
  assert.match(text(14, 'FOR_ITER'), /POP_ITER/)
  assert.match(text(14, 'POP_ITER'), /iterator/)
})

test('3.14 additions are explained in their own terms', () => {
  assert.match(text(14, 'LOAD_SMALL_INT'), /int arg itself/)
  assert.match(text(14, 'LOAD_FAST_BORROW'), /without taking a reference/)
  assert.match(text(14, 'NOT_TAKEN'), /do nothing/)
  assert.match(text(14, 'LOAD_SPECIAL'), /__enter__/)
  assert.match(text(14, 'LOAD_COMMON_CONSTANT'), /AssertionError/)
})

test('specialized instructions name their base and what they assume', () => {
  assert.match(text(11, 'LOAD_ATTR_INSTANCE_VALUE'), /^specialized LOAD_ATTR: .*inline values/)
  assert.match(text(11, 'LOAD_ATTR_ADAPTIVE'), /^adaptive LOAD_ATTR:/)
  assert.match(text(12, 'LOAD_FAST__LOAD_FAST'), /^superinstruction: LOAD_FAST and the LOAD_FAST/)
  assert.match(text(14, 'BINARY_OP_SUBSCR_LIST_INT'), /^specialized BINARY_OP: list\[int\]/)
  assert.match(text(13, 'BINARY_SUBSCR_LIST_INT'), /^specialized BINARY_SUBSCR: list\[int\]/)
  assert.match(text(13, 'TO_BOOL_STR'), /^specialized TO_BOOL: a str/)
})
