/**
 * The one profile reader (src/profile/document.ts): version 1 (nested) and version 2 (flat) read to
 * the same document; each problem has its code and a one-line message naming the file and the JSON
 * path; 100,000-deep trees in either version read and write without recursion; the core's schema
 * checker agrees with ajv on valid and broken documents, and its schema module is generated from
 * the JSON schema files.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { flattenProfile, PROFILE_VERSION, type ProfileDocument, ProfileDocumentError, readProfileDocument, toProfileJson } from '../src/profile/document.js'
import { PROFILE_SCHEMA_V1, PROFILE_SCHEMA_V2, PROFILE_SCHEMA_V3 } from '../src/profile/profile-schema.js'
import { isDateTime, type JsonSchema, schemaViolation } from '../src/profile/schema-check.js'
import { schemaValidator } from './schemas.js'

const ROOT = join(import.meta.dirname, '..')
const FIXTURES = join(ROOT, 'test', 'fixtures', 'profiles')

/** The version-1 profile fixtures (written by an agent before version 2), by name. */
const V1_FIXTURES = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.json'))
  .map((f) => [f, readFileSync(join(FIXTURES, f), 'utf8')] as const)
  .filter(([, text]) => (JSON.parse(text) as { pyxray: string }).pyxray === 'profile')

type Mutable = { [key: string]: any } // eslint-disable-line @typescript-eslint/no-explicit-any

/** A fresh parsed copy of a JSON text, to break. */
const copy = (text: string): Mutable => JSON.parse(text) as Mutable

/** A document with one thread whose tree is a chain `depth` calls deep, as version-2 JSON text. */
function deepV2(depth: number): string {
  const nodes: string[] = [`{"parent":null,"frame":null,"calls":0,"totalNs":${depth},"selfNs":0}`]
  for (let i = 1; i <= depth; i++) nodes.push(`{"parent":${i - 1},"frame":0,"calls":1,"totalNs":${depth - i + 1},"selfNs":1}`)
  return `{"pyxray":"profile","version":2,"metadata":${META},"frames":[${FRAME}],"threads":[{"id":1,"name":"MainThread","main":true,"nodes":[${nodes.join(',')}]}]}`
}

/** The same chain as version-1 JSON text: nested `depth` levels (built as text: JSON.stringify would recurse). */
function deepV1(depth: number): string {
  const open: string[] = []
  for (let i = 1; i <= depth; i++) open.push(`{"frame":0,"calls":1,"totalNs":${depth - i + 1},"selfNs":1,"children":[`)
  const tree = `{"frame":null,"calls":0,"totalNs":${depth},"selfNs":0,"children":[${open.join('')}${']}'.repeat(depth)}]}`
  return `{"pyxray":"profile","version":1,"metadata":${META},"frames":[${FRAME}],"threads":[{"id":1,"name":"MainThread","main":true,"root":${tree}}]}`
}

const META = JSON.stringify({ python: { implementation: 'CPython', version: '3.12.1' }, argv: ['deep.py'], cwd: '/w', startTime: '2026-01-01T00:00:00.000Z', durationNs: 1, mode: 'trace', clock: 'wall', overheadNsPerEvent: 0, partial: false, exitStatus: 0, warnings: [] })
const FRAME = JSON.stringify({ file: '/w/deep.py', firstlineno: 3, qualname: 'down', kind: 'python' })

/** Depth of the first thread's tree and its node count, walked iteratively. */
function shape(doc: ProfileDocument): { depth: number; nodes: number } {
  let depth = 0
  let nodes = 0
  const todo: [ProfileDocument['threads'][number]['root'], number][] = [[doc.threads[0]!.root, 0]]
  while (todo.length > 0) {
    const [n, d] = todo.pop()!
    nodes++
    depth = Math.max(depth, d)
    for (const c of n.children) todo.push([c, d + 1])
  }
  return { depth, nodes }
}

function fails(input: unknown, code: string, message: RegExp, jsonPath?: string): void {
  assert.throws(
    () => readProfileDocument(input, 'p.json'),
    (e: unknown) => {
      assert.ok(e instanceof ProfileDocumentError, String(e))
      assert.equal(e.code, code)
      assert.match(e.message, message)
      assert.doesNotMatch(e.message, /\n/, 'one line')
      assert.equal(e.file, 'p.json')
      assert.equal(e.jsonPath, jsonPath)
      return true
    },
  )
}

test('version-1 fixtures and their version-2 form read to the same document', () => {
  assert.ok(V1_FIXTURES.length >= 8, 'the fixtures are there')
  for (const [name, text] of V1_FIXTURES) {
    assert.equal(copy(text).version, 1, `${name} is a version-1 fixture`)
    const fromV1 = readProfileDocument(text, name)
    assert.equal(fromV1.version, PROFILE_VERSION)
    const flatText = toProfileJson(fromV1)
    const flat = copy(flatText)
    assert.equal(flat.version, 3)
    for (const t of flat.threads) {
      assert.ok(!('root' in t), 'no nested root in version 2')
      assert.equal(t.nodes[0].parent, null)
      t.nodes.forEach((n: Mutable, i: number) => i > 0 && assert.ok(n.parent < i && !('children' in n)))
    }
    const fromV2 = readProfileDocument(flatText, name)
    assert.deepEqual(fromV2, fromV1, `${name}: version 1 and version 2 read the same`)
    // Parsed values read as text does.
    assert.deepEqual(readProfileDocument(flat, name), fromV1)
    assert.deepEqual(flattenProfile(fromV2), flat)
  }
})

test('siblings keep their order (largest first, as written), parents come first', () => {
  const doc = readProfileDocument(readFileSync(join(FIXTURES, 'recursion.json'), 'utf8'), 'recursion.json')
  const flat = flattenProfile(doc)
  const nodes = flat.threads[0]!.nodes
  const kids = (i: number) => nodes.map((n, j) => [n, j] as const).filter(([n]) => n.parent === i)
  for (let i = 0; i < nodes.length; i++) {
    const totals = kids(i).map(([n]) => n.totalNs)
    assert.deepEqual(totals, [...totals].sort((a, b) => b - a))
  }
  assert.deepEqual(kids(0).map(([n]) => n.frame), doc.threads[0]!.root.children.map((c) => c.frame))
})

test('each problem has its code and a one-line message naming the file and the place', () => {
  const v2 = toProfileJson(readProfileDocument(readFileSync(join(FIXTURES, 'threads.json'), 'utf8'), 't'))
  fails('{"pyxray": ', 'PROFILE_NOT_JSON', /^p\.json: not JSON \(.*\); a profile is the JSON file pyxray profile -o writes$/)
  fails('[1, 2]', 'PROFILE_NOT_PROFILE', /^p\.json: not a pyxray profile \(no "pyxray": "profile" at the top\)/)
  fails({ pyxray: 'memory', version: 1 }, 'PROFILE_NOT_PROFILE', /^p\.json: not a pyxray profile/)
  fails(null, 'PROFILE_NOT_PROFILE', /^p\.json: not a pyxray profile/)
  fails('{"pyxray": "profile", "version": 4}', 'PROFILE_VERSION', /^p\.json: profile version 4 is not supported: this pyxray reads versions 1, 2 and 3; use the pyxray that wrote it, or profile again$/)
  fails('{"pyxray": "profile"}', 'PROFILE_VERSION', /^p\.json: profile version undefined is not supported/)
  const d = copy(v2)
  d.threads[1].nodes[0].calls = 2
  fails(d, 'PROFILE_INVALID', /^p\.json: invalid profile at \/threads\/1\/nodes\/0\/calls: expected 0 \(got 2\)$/, '/threads/1/nodes/0/calls')
  const d2 = copy(v2)
  d2.threads[0].nodes[1].parent = null
  fails(d2, 'PROFILE_INVALID', /at \/threads\/0\/nodes\/1\/parent: expected integer \(got null\)/, '/threads/0/nodes/1/parent')
  const d3 = copy(v2)
  d3.threads[0].nodes = []
  fails(d3, 'PROFILE_INVALID', /at \/threads\/0\/nodes: expected at least 1 item \(got \[\]\)/, '/threads/0/nodes')
  const d4 = copy(v2)
  d4.extra = 1
  fails(d4, 'PROFILE_INVALID', /^p\.json: invalid profile at \/: unexpected property "extra" \(not in the schema\)$/, '/')
  const d5 = copy(v2)
  d5.processes = [{ metadata: d5.metadata, threads: [{ ...d5.threads[0], nodes: [d5.threads[0].nodes[0], { ...d5.threads[0].nodes[1], parent: 1 }] }] }]
  fails(d5, 'PROFILE_INVALID', /at \/processes\/0\/threads\/0\/nodes\/1\/parent: expected the index of an earlier node, below 1 \(got 1\)/, '/processes/0/threads/0/nodes/1/parent')
  const d6 = copy(v2)
  d6.metadata.startTime = '2026-02-30T00:00:00Z'
  fails(d6, 'PROFILE_INVALID', /at \/metadata\/startTime: expected a date-time string/, '/metadata/startTime')
  // Version 1: the nested path.
  const v1 = copy(readFileSync(join(FIXTURES, 'recursion.json'), 'utf8'))
  v1.threads[0].root.children[0].children[0].frame = 99
  fails(v1, 'PROFILE_INVALID', /at \/threads\/0\/root\/children\/0\/children\/0\/frame: expected an index into frames, below \d+ \(got 99\)/, '/threads/0/root/children/0/children/0/frame')
})

test('processes (children of the profiled program) read and write like runs', () => {
  const doc = readProfileDocument(readFileSync(join(FIXTURES, 'threads.json'), 'utf8'), 't')
  const withChild: ProfileDocument = { ...doc, processes: [{ metadata: { ...doc.metadata, pid: 4243 }, threads: doc.threads }] }
  const text = toProfileJson(withChild)
  assert.ok(copy(text).processes[0].threads[0].nodes, 'flat in the file')
  assert.deepEqual(readProfileDocument(text, 't'), withChild)
})

test('100,000-deep trees read and write in either version, without recursion', () => {
  const depth = 100_000
  const v2 = readProfileDocument(deepV2(depth), 'deep-v2.json')
  assert.deepEqual(shape(v2), { depth, nodes: depth + 1 })
  const v1 = readProfileDocument(deepV1(depth), 'deep-v1.json')
  assert.deepEqual(shape(v1), { depth, nodes: depth + 1 })
  // Written flat, the two are one document (compared as text: deepEqual would recurse).
  const written = toProfileJson(v1)
  assert.equal(written, toProfileJson(v2))
  assert.equal(written, JSON.stringify(JSON.parse(deepV2(depth))).replace(`"version":2`, `"version":3`))
  // A broken node deep down is found and named.
  const broken = deepV1(depth).replace('"totalNs":1,"selfNs":1,"children":[]', '"totalNs":1,"selfNs":-1,"children":[]')
  assert.throws(() => readProfileDocument(broken, 'deep.json'), (e: unknown) => e instanceof ProfileDocumentError && e.code === 'PROFILE_INVALID' && e.jsonPath!.split('/children/').length === depth + 1 && e.jsonPath!.endsWith('/selfNs'))
})

test('10,000-deep trees too (the agent tests\' ordinary deep recursion)', () => {
  assert.deepEqual(shape(readProfileDocument(deepV1(10_000), 'd')), { depth: 10_000, nodes: 10_001 })
  assert.deepEqual(shape(readProfileDocument(deepV2(10_000), 'd')), { depth: 10_000, nodes: 10_001 })
})

/** Ways to break a document, each applied to a fresh copy: [what, change]. */
const BREAKS: [string, (d: Mutable, v: 1 | 2) => void][] = [
  ['no metadata', (d) => delete d.metadata],
  ['frames not an array', (d) => (d.frames = {})],
  ['a frame without qualname', (d) => delete d.frames[0].qualname],
  ['a frame of another kind', (d) => (d.frames[0].kind = 'native')],
  ['a frame with an extra property', (d) => (d.frames[0].color = 'red')],
  ['negative firstlineno', (d) => (d.frames[0].firstlineno = -1)],
  ['fractional firstlineno', (d) => (d.frames[0].firstlineno = 1.5)],
  ['a mode that is not one', (d) => (d.metadata.mode = 'fast')],
  ['a bad python version', (d) => (d.metadata.python.version = '3.12')],
  ['exitStatus a string', (d) => (d.metadata.exitStatus = '0')],
  ['exitStatus null', (d) => (d.metadata.exitStatus = null)],
  ['intervalNs 0', (d) => (d.metadata.intervalNs = 0)],
  ['intervalNs 1', (d) => (d.metadata.intervalNs = 1)],
  ['startTime without zone', (d) => (d.metadata.startTime = '2026-01-01T00:00:00')],
  ['startTime with offset', (d) => (d.metadata.startTime = '2026-01-01T00:00:00.5+02:00')],
  ['startTime 24:00', (d) => (d.metadata.startTime = '2026-01-01T24:00:00Z')],
  ['startTime leap day', (d) => (d.metadata.startTime = '2024-02-29T12:00:00Z')],
  ['startTime not a leap year', (d) => (d.metadata.startTime = '2023-02-29T12:00:00Z')],
  ['overhead without source', (d) => (d.metadata.overhead = { perCallNs: 1, calleeNs: 1, callerNs: 0, hiddenNs: 0 })],
  ['overhead with floor', (d) => (d.metadata.overhead = { perCallNs: 1, calleeNs: 1, callerNs: 0, hiddenNs: 0, floorNs: 0.5, source: 'cache' })],
  ['warnings of numbers', (d) => (d.metadata.warnings = [1])],
  ['a thread without main', (d) => delete d.threads[0].main],
  ['a thread id fractional', (d) => (d.threads[0].id = 0.5)],
  ['runs empty', (d) => (d.runs = [])],
  ['processes empty', (d) => (d.processes = [])],
  ['a run with an extra property', (d) => (d.runs = [{ metadata: d.metadata, threads: [], extra: 1 }])],
  ['a node with negative totalNs', (d, v) => ((v === 1 ? d.threads[0].root.children[0] : d.threads[0].nodes[1]).totalNs = -1)],
  ['a node with memory lacking peakBytes', (d, v) => ((v === 1 ? d.threads[0].root.children[0] : d.threads[0].nodes[1]).memory = { netBytes: -5 })],
  ['a node with negative netBytes', (d, v) => ((v === 1 ? d.threads[0].root.children[0] : d.threads[0].nodes[1]).memory = { netBytes: -5, peakBytes: 0 })],
  ['a node with string samples', (d, v) => ((v === 1 ? d.threads[0].root.children[0] : d.threads[0].nodes[1]).samples = '3')],
  ['a node with frame -1', (d, v) => ((v === 1 ? d.threads[0].root.children[0] : d.threads[0].nodes[1]).frame = -1)],
  ['the root with a frame', (d, v) => ((v === 1 ? d.threads[0].root : d.threads[0].nodes[0]).frame = 0)],
  ['a node without calls', (d, v) => delete (v === 1 ? d.threads[0].root.children[0] : d.threads[0].nodes[1]).calls],
  ['a v2 node with children / a v1 node without', (d, v) => (v === 1 ? delete d.threads[0].root.children[0].children : (d.threads[0].nodes[1].children = []))],
  ['a v2 node with parent / a v1 node with parent', (d, v) => ((v === 1 ? d.threads[0].root.children[0] : d.threads[0].nodes[1]).parent = 'x')],
  ['a v2 root with a parent index', (d, v) => v === 2 && (d.threads[0].nodes[0].parent = 0)],
  ['a v2 thread with root as well', (d, v) => v === 2 && (d.threads[0].root = d.threads[0].nodes[0])],
  ['version 2 as a string', (d) => (d.version = '2')],
]

test('the core checker and ajv agree on the schema, for both versions', () => {
  const ajv = { 1: schemaValidator('profile-v1.schema.json'), 2: schemaValidator('profile.schema.json') }
  const schemas: Record<1 | 2, JsonSchema> = { 1: PROFILE_SCHEMA_V1, 2: PROFILE_SCHEMA_V3 }
  let broken = 0
  for (const [name, text] of V1_FIXTURES) {
    const forms: [1 | 2, string][] = [
      [1, text],
      [2, toProfileJson(readProfileDocument(text, name))],
    ]
    for (const [v, form] of forms) {
      assert.ok(ajv[v](copy(form)), `${name} v${v} valid for ajv: ${JSON.stringify(ajv[v].errors)}`)
      assert.equal(schemaViolation(copy(form), schemas[v]), undefined, `${name} v${v} valid for the core checker`)
      if (name !== 'threads.json' && name !== 'memory.json') continue
      for (const [what, change] of BREAKS) {
        const d = copy(form)
        change(d, v)
        const theirs = ajv[v](d)
        const ours = schemaViolation(d, schemas[v])
        assert.equal(ours === undefined, theirs, `${name} v${v}, ${what}: ajv says ${theirs ? 'valid' : `invalid ${JSON.stringify(ajv[v].errors)}`}, the core checker ${ours ? `invalid at ${ours.path}: ${ours.expected}` : 'valid'}`)
        if (!theirs) {
          broken++
          assert.throws(() => readProfileDocument(d, name), ProfileDocumentError)
        }
      }
    }
  }
  assert.ok(broken >= 4 * 25, `most changes break the document (${broken})`)
})

test('date-time as ajv-formats checks it', () => {
  const validate = schemaValidator('profile.schema.json')
  const doc = copy(toProfileJson(readProfileDocument(readFileSync(join(FIXTURES, 'sample.json'), 'utf8'), 's')))
  for (const s of ['2026-01-01T00:00:00Z', '2026-01-01t00:00:00.123z', '2026-01-01 00:00:00Z', '2026-12-31T23:59:59-05:30', '2026-12-31T23:59:60Z', '2026-12-31T18:59:60-05:00', '2026-12-31T23:58:60Z', '2026-13-01T00:00:00Z', '2026-04-31T00:00:00Z', '2000-02-29T00:00:00Z', '1900-02-29T00:00:00Z', '2026-01-01T00:00:00+2400', '2026-01-01T00:00:00+0130', '2026-01-01', 'x']) {
    doc.metadata.startTime = s
    assert.equal(isDateTime(s), validate(doc), s)
  }
})

test('the schema module is generated from the JSON schemas, and unknown keywords are refused', () => {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'gen-profile-schema.mjs'), '--check'], { encoding: 'utf8' })
  assert.equal(r.status, 0, r.stderr)
  assert.equal(PROFILE_SCHEMA_V3.$id, 'urn:pyxray:profile:3')
  assert.equal(PROFILE_SCHEMA_V2.$id, 'urn:pyxray:profile:2')
  assert.equal(PROFILE_SCHEMA_V1.$id, 'urn:pyxray:profile:1')
  assert.throws(() => schemaViolation(1, { oneOf: [] }), /keyword "oneOf"/)
  assert.throws(() => schemaViolation('x', { format: 'email' }), /format "email"/)
})

test('version 3: instruction-level samples are kept through read and write; version 2 reads as 3', () => {
  const v3 = copy(toProfileJson(readProfileDocument(readFileSync(join(FIXTURES, 'sample.json'), 'utf8'), 's')))
  const at = v3.threads[0].nodes.findIndex((n: { frame: number | null }) => n.frame !== null)
  const frame = v3.threads[0].nodes[at].frame as number
  v3.frames[frame].instructions = [{ offset: 38, opname: 'CALL', argrepr: '', line: 9, endLine: 9, col: 12, endCol: 21, specialized: 'CALL_BUILTIN_O' }]
  v3.threads[0].nodes[at].offsets = [[38, 5]]
  v3.threads[0].nodes[at].lines = [[9, 5]]
  const doc = readProfileDocument(v3, 'v3.json')
  assert.equal(doc.version, 3)
  assert.deepEqual(copy(toProfileJson(doc)), v3)
  const v2 = copy(toProfileJson(readProfileDocument(readFileSync(join(FIXTURES, 'sample.json'), 'utf8'), 's')))
  v2.version = 2
  assert.equal(readProfileDocument(v2, 'v2.json').version, PROFILE_VERSION)
  v2.frames[frame].instructions = []
  fails(v2, 'PROFILE_INVALID', /^p\.json: invalid profile at \/frames\/\d+: /, `/frames/${frame}`)
  const bad = copy(JSON.stringify(v3))
  bad.threads[0].nodes[at].offsets = [[-2, 5]]
  fails(bad, 'PROFILE_INVALID', /offsets\/0\/0: expected/, `/threads/0/nodes/${at}/offsets/0/0`)
})
