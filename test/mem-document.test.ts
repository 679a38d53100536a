/**
 * The memory document reader checks as deeply as the profile reader: every member against
 * schema/memory.schema.json (compiled into src/profile/memory-schema.ts), then what the schema
 * cannot say. Each broken document is a MemoryDocumentError (MEMORY_INVALID) whose one-line
 * message names the JSON path; `pyxray serve` refuses it with that line and exit 2. Documents the
 * real agent writes load (test/mem-cli.test.ts, test/mem-pyodide.test.ts).
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { createRequire } from 'node:module'
import { type MemoryDocument, MemoryDocumentError, parseMemoryDocument } from '../src/profile/memory-document.js'
import { renderMemoryReport } from '../src/profile/memory-report.js'
import { inline } from './markdown.js'

const ROOT = join(import.meta.dirname, '..')
const MAIN = join(ROOT, 'src', 'cli', 'main.ts')

type Validate = ((doc: unknown) => boolean) & { errors?: unknown }
const validate: Validate = (() => {
  const require = createRequire(import.meta.url)
  const Ajv2020 = (require('ajv/dist/2020.js') as { Ajv2020: new (o: object) => { compile(s: object): Validate } }).Ajv2020
  const addFormats = require('ajv-formats') as { default: (ajv: unknown, formats: string[]) => void }
  const ajv = new Ajv2020({ strict: true, allErrors: true })
  addFormats.default(ajv, ['date-time'])
  return ajv.compile(JSON.parse(readFileSync(join(ROOT, 'schema', 'memory.schema.json'), 'utf8')) as object)
})()

/** Cases the schema cannot express: the reader's own checks (ajv accepts these documents). */
const BEYOND_SCHEMA = new Set(['a result member of another kind', 'fewer totals than iterations', 'a found path without its root', 'a found path without its steps'])

const metadata = { python: '3.12.1', implementation: 'CPython', executable: 'python3', argv: ['leaks', 'app.py'], cwd: '/work', startTime: '2024-01-01T00:00:00+00:00' }
const frame = { file: '/work/app.py', line: 14, source: 'cache.append(x)' }

/** One valid document of each kind, as the agent writes them. */
const VALID: Record<string, unknown> = {
  leaks: {
    pyxray: 'memory',
    version: 1,
    kind: 'leaks',
    metadata,
    leaks: {
      iterations: 4,
      warmup: 1,
      minGrowthBytes: 128,
      leak: true,
      verdict: 'leaks ~1.0 KiB/iteration at app.py:14',
      bytesPerIteration: 1024,
      slopeBytesPerIteration: 1020.5,
      lateSlopeBytesPerIteration: 1019,
      r2: 0.99,
      totals: [1024, 2048, 3072, 4096],
      sites: [{ ...frame, bytesPerIteration: 1024, countPerIteration: 1, totalBytes: 4096 }],
      tracebacks: [{ bytesPerIteration: 1024, countPerIteration: 1, totalBytes: 4096, frames: [frame, { file: '/work/main.py', line: 3, source: 'handle()' }] }],
    },
  },
  size: { pyxray: 'memory', version: 1, kind: 'size', metadata, size: { expression: 'cache', type: 'list', totalBytes: 200, shallowBytes: 88, objects: 3, byType: [{ type: 'list', count: 1, bytes: 88 }, { type: 'int', count: 2, bytes: 112 }], skipped: [{ type: 'type', count: 1 }] } },
  path: {
    pyxray: 'memory',
    version: 1,
    kind: 'path',
    metadata,
    path: {
      type: 'Session',
      instances: 2,
      paths: [
        { target: { type: 'app.Session', id: 1401 }, found: true, root: { kind: 'module global', name: 'SESSIONS', module: 'app' }, steps: [{ edge: 'SESSIONS', type: 'dict', repr: '{…}' }, { edge: "['a']", type: 'app.Session', repr: '<Session a>' }], dot: 'digraph {}' },
        { target: { type: 'app.Session', id: 1402 }, found: false },
      ],
    },
  },
  lines: { pyxray: 'memory', version: 1, kind: 'lines', metadata, lines: { file: '/work/app.py', function: 'build', firstLine: 3, calls: 1, totalNetBytes: 900, peakBytes: 1200, lines: [{ line: 3, source: 'def build():', hits: 0, netBytes: 0, peakBytes: 0 }, { line: 4, source: 'x = [0] * 100', hits: 1, netBytes: 900, peakBytes: 1200 }, { line: 5, source: 'return x', hits: 1, netBytes: 0, peakBytes: 0 }] } },
  growth: { pyxray: 'memory', version: 1, kind: 'growth', metadata, growth: { iterations: 2, totalDelta: 6, rows: [{ type: 'app.Job', name: 'Job', count: 10, delta: 6 }] } },
  error: { pyxray: 'memory', version: 1, kind: 'error', metadata, error: { code: 'NOT_FOUND', message: 'no function build', command: 'lines' } },
}

type Mutable = { [key: string]: any } // eslint-disable-line @typescript-eslint/no-explicit-any

/** A deep copy of a valid document with `change` applied. */
function broken(kind: string, change: (d: Mutable) => void): unknown {
  const d = structuredClone(VALID[kind]) as Mutable
  change(d)
  return d
}

/** [what, document, the JSON path the message names, a word of the reason]. */
const CASES: [string, unknown, string, RegExp][] = [
  ['leaks: {} (the web UI threw on it)', broken('leaks', (d) => (d.leaks = {})), '/leaks', /missing required property "iterations"/],
  ['leaks: []', broken('leaks', (d) => (d.leaks = [])), '/leaks', /expected object/],
  ['no result member of its kind', broken('leaks', (d) => delete d.leaks), '/', /missing required property "leaks"/],
  ['an unknown kind', broken('leaks', (d) => (d.kind = 'bogus')), '/kind', /expected one of/],
  ['a result member of another kind', broken('leaks', (d) => (d.size = (VALID.size as Record<string, unknown>).size)), '/size', /no "size" member/],
  ['a property the schema does not know', broken('leaks', (d) => (d.leaks.evil = 1)), '/leaks', /unexpected property "evil"/],
  ['a site line that is a string', broken('leaks', (d) => (d.leaks.sites[0].line = '14')), '/leaks/sites/0/line', /expected integer/],
  ['a frame file deep in a traceback', broken('leaks', (d) => (d.leaks.tracebacks[0].frames[1].file = 3)), '/leaks/tracebacks/0/frames/1/file', /expected string/],
  ['a frame without its source', broken('leaks', (d) => delete d.leaks.tracebacks[0].frames[0].source), '/leaks/tracebacks/0/frames/0', /missing required property "source"/],
  ['a total that is not an integer', broken('leaks', (d) => (d.leaks.totals[2] = 'x')), '/leaks/totals/2', /expected integer/],
  ['fewer totals than iterations', broken('leaks', (d) => d.leaks.totals.pop()), '/leaks/totals', /one total per measured iteration \(4\), got 3/],
  ['r² above 1', broken('leaks', (d) => (d.leaks.r2 = 2)), '/leaks/r2', /<= 1/],
  ['a negative line', broken('leaks', (d) => (d.leaks.sites[0].line = -1)), '/leaks/sites/0/line', />= 0/],
  ['metadata without startTime', broken('leaks', (d) => delete d.metadata.startTime), '/metadata', /missing required property "startTime"/],
  ['a startTime that is no date', broken('leaks', (d) => (d.metadata.startTime = 'yesterday')), '/metadata/startTime', /date-time/],
  ['argv with a number', broken('size', (d) => (d.metadata.argv = ['a', 2])), '/metadata/argv/1', /expected string/],
  ['a byType row without bytes', broken('size', (d) => delete d.size.byType[1].bytes), '/size/byType/1', /missing required property "bytes"/],
  ['a step repr null', broken('path', (d) => (d.path.paths[0].steps[1].repr = null)), '/path/paths/0/steps/1/repr', /expected string/],
  ['a root of an unknown kind', broken('path', (d) => (d.path.paths[0].root.kind = 'heap')), '/path/paths/0/root/kind', /expected one of/],
  ['a found path without its root', broken('path', (d) => delete d.path.paths[0].root), '/path/paths/0', /without its "root"/],
  ['a found path without its steps', broken('path', (d) => delete d.path.paths[0].steps), '/path/paths/0', /without its "steps"/],
  ['a target id that is a string', broken('path', (d) => (d.path.paths[1].target.id = '0x1')), '/path/paths/1/target/id', /expected integer/],
  ['hits of 1.5', broken('lines', (d) => (d.lines.lines[2].hits = 1.5)), '/lines/lines/2/hits', /expected integer/],
  ['lines as an object', broken('lines', (d) => (d.lines.lines = {})), '/lines/lines', /expected array/],
  ['a growth row without its type', broken('growth', (d) => delete d.growth.rows[0].type), '/growth/rows/0', /missing required property "type"/],
  ['an unknown error code', broken('error', (d) => (d.error.code = 'NOPE')), '/error/code', /expected one of/],
  ['a name with a newline and ESC is shown on one line', broken('leaks', (d) => (d.leaks.sites[0].file = ['\n\x1b[31m'])), '/leaks/sites/0/file', /expected string \(got \["\\n\\u001b\[31m"\]\)/],
]

test('broken memory documents: a coded error naming the JSON path, on one line; ajv agrees each is invalid', () => {
  for (const [what, doc, path, reason] of CASES) {
    assert.equal(validate(doc), BEYOND_SCHEMA.has(what), `${what}: ajv ${BEYOND_SCHEMA.has(what) ? 'refuses' : 'accepts'} it`)
    assert.throws(
      () => parseMemoryDocument(JSON.stringify(doc)),
      (e: unknown) => {
        assert.ok(e instanceof MemoryDocumentError, `${what}: ${String(e)}`)
        assert.equal(e.code, 'MEMORY_INVALID', `${what}: ${e.message}`)
        assert.equal(e.path, path === '/' ? '' : path, `${what}: ${e.message}`)
        assert.ok(e.message.startsWith(`invalid memory document at ${path}: `), `${what}: ${e.message}`)
        assert.match(e.message, reason, what)
        assert.doesNotMatch(e.message, /[\n\r\x1b]/, `${what}: one line`)
        return true
      },
      what,
    )
  }
})

test('valid memory documents of every kind load, agree with ajv, and render in every format', () => {
  for (const [kind, doc] of Object.entries(VALID)) {
    assert.ok(validate(doc), `${kind}: ${JSON.stringify(validate.errors)}`)
    const read = parseMemoryDocument(JSON.stringify(doc))
    assert.deepEqual(read, doc)
    assert.equal(parseMemoryDocument(doc).kind, kind, 'an already parsed value is checked the same way')
    for (const format of ['text', 'markdown', 'json'] as const) assert.ok(renderMemoryReport(read as MemoryDocument, format).length > 0)
  }
})

test('not a document: JSON that is no object, an array, another pyxray document, a version from the future', () => {
  const code = (text: string) => {
    try {
      parseMemoryDocument(text)
    } catch (e) {
      return e instanceof MemoryDocumentError ? e.code : String(e)
    }
    return 'accepted'
  }
  assert.equal(code('nope'), 'MEMORY_NOT_JSON')
  assert.equal(code('[]'), 'MEMORY_NOT_A_DOCUMENT')
  assert.equal(code('null'), 'MEMORY_NOT_A_DOCUMENT')
  assert.equal(code('{"pyxray":"profile"}'), 'MEMORY_NOT_A_DOCUMENT')
  assert.equal(code(JSON.stringify({ ...(VALID.growth as object), version: 2 })), 'MEMORY_VERSION')
})

test('deep nesting where a number belongs is refused at that path without walking it', () => {
  const depth = 100_000
  const text = JSON.stringify(VALID.leaks).replace('"totals":[1024,', `"totals":[${'['.repeat(depth)}${']'.repeat(depth)},`)
  assert.throws(
    () => parseMemoryDocument(text),
    (e: unknown) => e instanceof MemoryDocumentError && e.code === 'MEMORY_INVALID' && e.path === '/leaks/totals/0' && !e.message.includes('\n'),
  )
  // Unknown members of a frame (the schema allows them) are not walked either.
  const frameExtra = JSON.stringify(VALID.leaks).replace('"source":"handle()"', `"source":"handle()","x":${'['.repeat(depth)}${']'.repeat(depth)}`)
  assert.equal(parseMemoryDocument(frameExtra).kind, 'leaks')
})

test('pyxray serve refuses a broken memory document with one line naming the file and the path, exit 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pyxray-memdoc-'))
  const cases: [unknown, string][] = [
    [CASES[0]![1], '/leaks'],
    [CASES[7]![1], '/leaks/tracebacks/0/frames/1/file'],
    [CASES[17]![1], '/path/paths/0/steps/1/repr'],
  ]
  for (const [i, [doc, path]] of cases.entries()) {
    const file = join(dir, `broken-${i}.json`)
    writeFileSync(file, JSON.stringify(doc))
    const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'serve', file, '--port', '0'], { encoding: 'utf8', timeout: 60_000 })
    assert.equal(r.status, 2, `${path}: ${r.stdout}${r.stderr}`)
    assert.equal(r.stderr, `pyxray: ${file}: invalid memory document at ${path}: ${r.stderr.split(`${path}: `)[1]}`)
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr)
  }
  // A memory document given to report says what it is.
  const file = join(dir, 'valid.json')
  writeFileSync(file, JSON.stringify(VALID.leaks))
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'report', file], { encoding: 'utf8' })
  assert.equal(r.status, 2)
  assert.match(r.stderr, /^pyxray: .*a memory document: pyxray serve shows it.*\n$/)
})

test('memory reports escape names from the program: no ESC or raw newline in text, code spans and cells intact in Markdown', () => {
  const evil = '\x1b[31mx`|](http://e)\n\u202e'
  const docs = [
    broken('leaks', (d) => {
      d.leaks.verdict = `leaks at ${evil}`
      d.leaks.sites[0].file = `/w/${evil}.py`
      d.leaks.sites[0].source = evil
      d.leaks.tracebacks[0].frames[0].source = evil
    }),
    broken('path', (d) => {
      d.path.type = evil
      d.path.paths[0].steps[1].repr = evil
      d.path.paths[0].root.name = evil
    }),
    broken('lines', (d) => (d.lines.lines[1].source = evil)),
    broken('size', (d) => (d.size.byType[0].type = evil)),
    broken('growth', (d) => (d.growth.rows[0].type = evil)),
  ]
  for (const raw of docs) {
    const doc = parseMemoryDocument(raw)
    for (const format of ['text', 'markdown'] as const) {
      const out = renderMemoryReport(doc, format)
      assert.doesNotMatch(out, /[\x1b\u202e]/, `${doc.kind} ${format}: ${out}`)
      // Text and code spans show \x1b[31m; escaped Markdown text writes it \\x1b\[31m (shown as \x1b[31m).
      assert.match(out, /\\x1b\[31m|\\\\x1b\\\[31m/, `${doc.kind} ${format}: the name is shown escaped: ${out}`)
      if (doc.kind === 'leaks') assert.ok(out.includes('\\u202e.py:14'), `the file's base name is taken before escaping: ${out}`)
      if (format === 'markdown') {
        for (const row of out.split('\n').filter((l) => l.startsWith('|'))) {
          const head = out.split('\n').find((l) => l.startsWith('|'))!
          const count = (l: string) => l.split(/(?<!\\)\|/).length
          assert.equal(count(row), count(head), `${doc.kind}: a name split a table row: ${row}`)
        }
        let fence = ''
        for (const line of out.split('\n')) {
          const f = /^`{3,}/.exec(line)?.[0]
          if (f && (fence === '' || f === fence)) {
            fence = fence === '' ? f : ''
            continue
          }
          if (fence) {
            assert.ok(!line.startsWith(fence), `${doc.kind}: a line closes the code block early: ${line}`)
            continue
          }
          assert.doesNotMatch(inline(line).outside, /\]\(|\[/, `${doc.kind}: link syntax outside code spans: ${line}`)
        }
      }
    }
    assert.equal(renderMemoryReport(doc, 'json'), `${JSON.stringify(doc, null, 2)}\n`, 'JSON keeps the strings as they are')
  }
})
