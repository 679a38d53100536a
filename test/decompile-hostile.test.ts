/**
 * The decompiler on the hostile .pyc files of test/fixtures/hostile (huge counts, negative
 * parameter counts, thousands of unreachable returns): never a throw, a marker naming the reason,
 * and work bounded by the input (the counts are refused before anything that large is made).
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { toCodeObject } from '../src/bytecode/index.js'
import { decompileModule } from '../src/decompile/index.js'
import { readPyc } from '../src/pyc/index.js'

const DIR = join(import.meta.dirname, 'fixtures', 'hostile')

function decompileFixture(name: string) {
  const pyc = readPyc(new Uint8Array(readFileSync(join(DIR, name))))
  return decompileModule(toCodeObject(pyc.code, pyc.version[1]), pyc.version)
}

test('every readable hostile .pyc decompiles to a result (markers, no exception)', () => {
  let readable = 0
  for (const name of readdirSync(DIR).filter((n) => n.endsWith('.pyc'))) {
    let result
    try {
      result = decompileFixture(name)
    } catch (e) {
      // Unreadable inputs are the reader's to refuse (typed errors), before the decompiler runs.
      assert.ok(e instanceof Error && 'code' in e, `${name}: ${String(e)}`)
      continue
    }
    readable++
    assert.ok(result.units.length >= 1, name)
    assert.equal(typeof result.source, 'string', name)
  }
  assert.ok(readable >= 10, `${readable} readable fixtures`)
})

test('a count of 2**24 stack slots and parameter counts beyond co_varnames are refused by name', () => {
  const deep = decompileFixture('stack-unpack-2pow24.pyc')
  assert.match(deep.source, /a value stack 16777216 deep \(more than 4096 is not modeled\)/)
  const counts = decompileFixture('fuzz-unpack-sequence-65535.pyc')
  assert.match(counts.source, /the parameter counts \(1073741824 positional, -2147483648 keyword-only\) exceed co_varnames \(2\)/)
})

test('8,000 unreachable returns at module level: one marker for the run of ranges that fail, its output bounded by the input', () => {
  const r = decompileFixture('stack-unreachable-returns-8000.pyc')
  const markers = r.source.match(/# pyxray: statements not recovered \(([^)]*)\)/g) ?? []
  assert.deepEqual(markers, ['# pyxray: statements not recovered (unsupported: return outside a function)'])
  assert.ok(r.source.length < 64 * readFileSync(join(DIR, 'stack-unreachable-returns-8000.pyc')).length, `${r.source.length} characters`)
})
