/**
 * The stdlib harness (scripts/decompile-all.ts): with the source oracle every code object of a
 * stdlib sample is equivalent; a decompiler that adds a statement makes every module differ, one
 * that throws counts crashes, one that writes broken Python counts outputs that do not compile.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { decodeSource, findSourcePath, measure } from '../scripts/decompile-all.js'
import { listStdlib, sampleInputs } from '../scripts/stdlib-diff.js'
import { Recompilers } from '../src/runtime/recompile.js'
import { NATIVE_MINORS, pythonFor, requirePython } from './pyenv.js'

test('decodeSource: UTF-8 unless a coding cookie on line 1 or 2 says otherwise', () => {
  const latin1 = (s: string) => Uint8Array.from([...s].map((c) => c.charCodeAt(0)))
  assert.equal(decodeSource(latin1('# -*- coding: latin-1 -*-\nx = "\xe9"\n')), '# -*- coding: latin-1 -*-\nx = "é"\n')
  assert.equal(decodeSource(latin1('#!/usr/bin/env python\n# coding=iso-8859-15\nx = "\xa4"\n')), '#!/usr/bin/env python\n# coding=iso-8859-15\nx = "€"\n')
  assert.equal(decodeSource(new TextEncoder().encode('x = "é"\n# coding: latin-1\n')), 'x = "é"\n# coding: latin-1\n', 'a cookie after code does not count')
  assert.equal(decodeSource(new TextEncoder().encode('# coding: utf-8-sig\nx = "é"\n')), '# coding: utf-8-sig\nx = "é"\n')
})

test('decompile-all: the oracle is equivalent on a stdlib sample; wrong, throwing and broken decompilers are counted', async (t) => {
  const minor = [...NATIVE_MINORS].reverse().find((m) => pythonFor(m) !== undefined)
  if (minor === undefined) {
    requirePython(t, NATIVE_MINORS.at(-1)!)
    return
  }
  const python = pythonFor(minor)!
  const inputs = sampleInputs(await listStdlib({ version: `3.${minor}`, minor, release: '', python }), 12)
  assert.equal(inputs.length, 12)
  const recompilers = new Recompilers({ python, runtime: 'native' })
  try {
    const oracle = await measure(`3.${minor}`, inputs, recompilers, 'oracle', 0)
    assert.ok(oracle.codes > 12, `${oracle.codes} code objects`)
    assert.deepEqual([oracle.equivalent, oracle.differs, oracle.notRecovered, oracle.crashes, oracle.compileFailures, oracle.unreadable], [oracle.codes, 0, 0, 0, 0, 0])

    // One statement added at the end of each module: the module differs, nothing else does.
    let codes = 0
    for (const input of inputs) {
      const source = decodeSource(new Uint8Array(readFileSync(findSourcePath(input.path, '')!)))
      const added = await measure(`3.${minor}`, [input], recompilers, () => ({ source: `${source}\n_added_by_the_test = 1\n`, units: [] }), 0)
      assert.deepEqual([added.differs, added.equivalent, added.crashes], [1, added.codes - 1, 0], input.id)
      codes += added.codes
    }
    assert.equal(codes, oracle.codes)

    const throwing = await measure(`3.${minor}`, inputs, recompilers, () => {
      throw new Error('boom')
    }, 0)
    assert.deepEqual([throwing.crashes, throwing.notRecovered, throwing.equivalent], [12, oracle.codes, 0])
    assert.match(throwing.examples[0]!, /^crash .*boom/)

    const broken = await measure(`3.${minor}`, inputs, recompilers, () => ({ source: 'def (:\n', units: [] }), 0)
    assert.deepEqual([broken.compileFailures, broken.differs, broken.equivalent], [12, oracle.codes, 0])
  } finally {
    await recompilers.close()
  }
})
