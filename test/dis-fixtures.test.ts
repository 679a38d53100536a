/**
 * Golden fixtures: each case in test/fixtures/src/, compiled by every supported CPython, with what
 * that interpreter's `dis.dis` printed (scripts/gen-fixtures.mjs makes them; never edit by hand).
 *
 * For test/fixtures/pyc/<X.Y>/<case>.pyc, {@link checkPycFixture} checks that
 * - formatDis prints <case>.dis.txt, and the show_caches / show_offsets / show_positions variants
 *   that exist beside it, up to code-object addresses and frozenset element order;
 * - readMarshal → writeMarshal reproduces the marshal bytes exactly;
 * - lineStarts / lineRanges / positions give <case>.lines.json (dis.findlinestarts, co_lines(),
 *   co_positions() of every code object).
 * No Python is needed to run this.
 */
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { type DisOptions, formatDis, toCodeObject } from '../src/bytecode/index.js'
import { readMarshal, writeMarshal } from '../src/marshal/index.js'
import { readPyc } from '../src/pyc/index.js'
import { readGolden } from './resources.js'
import { ALL_VERSIONS, checkLineTables, firstDifference, normalizeDis, type OracleCode, type Outcome } from '../scripts/stdlib-diff.js'

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url))
/** Length of a PEP 552 .pyc header. */
const HEADER_BYTES = 16

/** Golden text file suffix → the formatDis options that must reproduce it. */
const VARIANTS: readonly (readonly [suffix: string, options: DisOptions])[] = [
  ['dis', {}],
  ['caches.dis', { showCaches: true }],
  ['offsets.dis', { showOffsets: true }],
  ['positions.dis', { showPositions: true }],
]

function explain(what: string, outcome: Outcome | undefined): string {
  return outcome && !outcome.ok ? `${what}: ${outcome.kind}\n${outcome.excerpt.join('\n')}` : ''
}

/** Everything a golden .pyc fixture promises (see the file comment). */
function checkPycFixture(version: string, name: string): void {
  const dir = join(FIXTURES, 'pyc', version)
  const bytes = new Uint8Array(readFileSync(join(dir, `${name}.pyc`)))
  const pyc = readPyc(bytes)
  assert.equal(pyc.version.join('.'), version, 'the magic number names the version')
  const code = toCodeObject(pyc.code, pyc.version[1])

  let variants = 0
  for (const [suffix, options] of VARIANTS) {
    const golden = join(dir, `${name}.${suffix}.txt`)
    // The plain dis text exists for every case; the option variants only where gen-fixtures made them.
    if (!existsSync(golden) && suffix !== 'dis') continue
    variants++
    const diff = firstDifference(normalizeDis(readGolden(golden)), normalizeDis(formatDis(code, options)))
    if (diff) assert.fail(`formatDis differs from ${version}/${name}.${suffix}.txt at line ${diff.line + 1} (${diff.kind}):\n${diff.excerpt.join('\n')}`)
  }
  assert.ok(variants > 0, `no dis golden beside ${name}.pyc`)

  const { value, endOffset } = readMarshal(bytes, { pythonVersion: pyc.version }, HEADER_BYTES)
  assert.equal(endOffset, bytes.length, 'the code object ends the file')
  const written = writeMarshal(value, { pythonVersion: pyc.version })
  const original = bytes.subarray(HEADER_BYTES)
  const at = original.findIndex((b, i) => written[i] !== b)
  assert.ok(at < 0 && written.length === original.length, `marshal round trip differs at byte ${at < 0 ? written.length : at} of ${original.length}`)

  const expected = JSON.parse(readGolden(join(dir, `${name}.lines.json`))) as OracleCode[]
  const { lines, positions } = checkLineTables(code, expected)
  assert.ok(lines.ok, explain('lines', lines))
  assert.ok(positions?.ok ?? true, explain('positions', positions))
}

/** The cases, with the oldest version each applies to ("# min-version: 3.Y" in its first lines). */
function cases(): { name: string; minMinor: number }[] {
  return readdirSync(join(FIXTURES, 'src'))
    .filter((f) => f.endsWith('.py'))
    .sort()
    .map((f) => {
      const head = readFileSync(join(FIXTURES, 'src', f), 'utf8').split('\n', 3).join('\n')
      const minMinor = Number(/^# min-version: 3\.(\d+)$/m.exec(head)?.[1] ?? 8)
      return { name: f.slice(0, -3), minMinor }
    })
}

test('comparisons ignore code object addresses and the hash order of frozenset elements', () => {
  assert.equal(
    normalizeDis('LOAD_CONST 1 (<code object f at 0x7f3a2c, file "x.py", line 3>)'),
    'LOAD_CONST 1 (<code object f at 0xADDR, file "x.py", line 3>)',
  )
  assert.equal(
    normalizeDis("LOAD_CONST 2 (frozenset({'b, c', (1, frozenset({3, 2})), 'a'}))"),
    normalizeDis("LOAD_CONST 2 (frozenset({'a', (1, frozenset({2, 3})), 'b, c'}))"),
  )
  assert.notEqual(normalizeDis('LOAD_CONST 2 (frozenset({1, 2}))'), normalizeDis('LOAD_CONST 2 (frozenset({1, 3}))'))
  assert.equal(normalizeDis("LOAD_CONST 0 ('frozenset({')"), "LOAD_CONST 0 ('frozenset({')")
})

test('every case has fixtures for every version it applies to', () => {
  const missing: string[] = []
  for (const version of ALL_VERSIONS) {
    const minor = Number(version.split('.')[1])
    for (const { name, minMinor } of cases()) {
      if (minor >= minMinor && !existsSync(join(FIXTURES, 'pyc', version, `${name}.pyc`))) missing.push(`${version}/${name}`)
    }
  }
  assert.deepEqual(missing, [], 'run npm run gen:fixtures')
})

for (const version of ALL_VERSIONS) {
  const dir = join(FIXTURES, 'pyc', version)
  const names = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.pyc'))
        .map((f) => f.slice(0, -'.pyc'.length))
        .sort()
    : []
  describe(`CPython ${version}`, () => {
    for (const name of names) test(`${name} (${version})`, () => checkPycFixture(version, name))
  })
}
