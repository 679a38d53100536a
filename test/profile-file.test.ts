/**
 * Loading profile files: the core reader's validation names the file, the JSON path and what was
 * expected (in version-1 and version-2 documents); unreadable files, non-JSON, non-profiles and
 * unknown versions each have their own error.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { readProfileFile } from '../src/cli/profile-file.js'
import { ProfileDocumentError, readProfileDocument, toProfileJson } from '../src/profile/document.js'

const FIXTURE = join(import.meta.dirname, 'fixtures', 'profiles', 'recursion.json')

function fails(text: string, code: string, message: RegExp, jsonPath?: string): void {
  assert.throws(
    () => readProfileDocument(text, 'p.json'),
    (e: unknown) => {
      assert.ok(e instanceof ProfileDocumentError)
      assert.equal(e.code, code)
      assert.match(e.message, message)
      assert.equal(e.jsonPath, jsonPath)
      return true
    },
  )
}

test('a real profile validates', () => {
  const doc = readProfileFile(FIXTURE)
  assert.equal(doc.pyxray, 'profile')
  assert.ok(doc.frames.length > 0)
})

test('schema errors name the file, the JSON path and what was expected (version 1)', () => {
  const doc = JSON.parse(readFileSync(FIXTURE, 'utf8'))
  doc.threads[0].root.children[0].calls = -3
  fails(JSON.stringify(doc), 'PROFILE_INVALID', /^p\.json: invalid profile at \/threads\/0\/root\/children\/0\/calls: expected a number >= 0 \(got -3\)$/, '/threads/0/root/children/0/calls')
  const d2 = JSON.parse(readFileSync(FIXTURE, 'utf8'))
  d2.metadata.mode = 'fast'
  fails(JSON.stringify(d2), 'PROFILE_INVALID', /at \/metadata\/mode: expected one of "trace", "sample" \(got "fast"\)/, '/metadata/mode')
  const d3 = JSON.parse(readFileSync(FIXTURE, 'utf8'))
  delete d3.frames[0].qualname
  fails(JSON.stringify(d3), 'PROFILE_INVALID', /at \/frames\/0: missing required property "qualname"/, '/frames/0')
  const d4 = JSON.parse(readFileSync(FIXTURE, 'utf8'))
  d4.metadata.startTime = 'yesterday'
  fails(JSON.stringify(d4), 'PROFILE_INVALID', /at \/metadata\/startTime: expected a date-time string/, '/metadata/startTime')
  const d5 = JSON.parse(readFileSync(FIXTURE, 'utf8'))
  d5.threads[0].root.frame = 'x'
  fails(JSON.stringify(d5), 'PROFILE_INVALID', /at \/threads\/0\/root\/frame: expected integer or null \(got "x"\)/, '/threads/0/root/frame')
})

test('schema errors name the file, the JSON path and what was expected (version 2)', () => {
  const flat = () => JSON.parse(toProfileJson(readProfileFile(FIXTURE)))
  const d = flat()
  d.threads[0].nodes[3].calls = -3
  fails(JSON.stringify(d), 'PROFILE_INVALID', /^p\.json: invalid profile at \/threads\/0\/nodes\/3\/calls: expected a number >= 0 \(got -3\)$/, '/threads/0/nodes/3/calls')
  const d2 = flat()
  d2.threads[0].nodes[2].parent = 2
  fails(JSON.stringify(d2), 'PROFILE_INVALID', /^p\.json: invalid profile at \/threads\/0\/nodes\/2\/parent: expected the index of an earlier node, below 2 \(got 2\)/, '/threads/0/nodes/2/parent')
  const d3 = flat()
  d3.threads[0].nodes[1].frame = d3.frames.length
  fails(JSON.stringify(d3), 'PROFILE_INVALID', /at \/threads\/0\/nodes\/1\/frame: expected an index into frames, below \d+/, '/threads/0/nodes/1/frame')
  const d4 = flat()
  d4.threads[0].nodes[1].children = []
  fails(JSON.stringify(d4), 'PROFILE_INVALID', /at \/threads\/0\/nodes\/1: unexpected property "children"/, '/threads/0/nodes/1')
  const d5 = flat()
  d5.threads[0].root = d5.threads[0].nodes[0]
  delete d5.threads[0].nodes
  fails(JSON.stringify(d5), 'PROFILE_INVALID', /at \/threads\/0: missing required property "nodes"/, '/threads/0')
})

test('not JSON, not a profile, unknown version, unreadable: each its own message', () => {
  fails('{"pyxray": ', 'PROFILE_NOT_JSON', /^p\.json: not JSON/)
  fails('[1, 2]', 'PROFILE_NOT_PROFILE', /^p\.json: not a pyxray profile/)
  fails('{"pyxray": "profile", "version": 7}', 'PROFILE_VERSION', /^p\.json: profile version 7 is not supported: this pyxray reads versions 1, 2 and 3/)
  const dir = mkdtempSync(join(tmpdir(), 'pyxray-pf-'))
  assert.throws(() => readProfileFile(join(dir, 'missing.json')), (e: unknown) => e instanceof ProfileDocumentError && e.code === 'PROFILE_UNREADABLE' && /missing\.json: cannot read the profile: no such file/.test(e.message))
  assert.throws(() => readProfileFile(dir), (e: unknown) => e instanceof ProfileDocumentError && e.code === 'PROFILE_UNREADABLE' && /is a folder/.test(e.message))
  writeFileSync(join(dir, 'empty.json'), '')
  assert.throws(() => readProfileFile(join(dir, 'empty.json')), (e: unknown) => e instanceof ProfileDocumentError && e.code === 'PROFILE_NOT_JSON')
})
