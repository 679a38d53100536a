/**
 * report --lines / --instructions on constructed version-3 documents: rows add up over call paths,
 * spans are cut from the line's UTF-8 bytes (CPython's columns), the three formats show the same
 * first rows, and documents without instruction samples say why.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { readProfileDocument } from '../src/profile/document.js'
import { buildReport, type ReportOptions } from '../src/profile/report.js'
import { frameSamples, spanText } from '../src/profile/report-lines.js'
import { formatReportMarkdown } from '../src/profile/report-markdown.js'
import { formatReportText, PLAIN_REPORT } from '../src/profile/report-text.js'

const SOURCE = `def work(n):\n    total = 0\n    for _ in range(n):\n        total += len("žluťoučký") * mul(n, n)\n    return total\n`

function doc(python: string, sampler?: 'remote'): string {
  const frames = [
    { file: '/app/hot.py', firstlineno: 1, qualname: 'work', kind: 'python', instructions: [
      { offset: 20, opname: 'CALL', argrepr: '2', line: 4, endLine: 4, col: 40, endCol: 49, specialized: 'CALL_BUILTIN_FAST' },
      { offset: 30, opname: 'BINARY_OP', argrepr: '+=', line: 4, endLine: 4, col: 8, endCol: 49 },
      { offset: 40, opname: 'JUMP_BACKWARD', argrepr: 'to L1', line: 3, endLine: 3, col: 4, endCol: 22 },
    ] },
    { file: '/app/main.py', firstlineno: 1, qualname: '<module>', kind: 'python' },
    { file: '/app/main.py', firstlineno: 5, qualname: 'other', kind: 'python' },
  ]
  const node = (parent: number | null, frame: number | null, samples: number, selfNs: number, extra: object = {}) => ({ parent, frame, calls: 0, totalNs: 0, selfNs, samples, ...extra })
  const nodes = [
    node(null, null, 100, 0),
    node(0, 1, 100, 0),
    // work called from <module> and from other: two nodes of one function
    node(1, 0, 70, 70, { lines: [[3, 5], [4, 65]], offsets: [[20, 60], [30, 5], [40, 5]] }),
    node(1, 2, 30, 0),
    node(3, 0, 30, 30, { lines: [[4, 30]], offsets: [[20, 30]] }),
  ]
  // totals bottom-up: total = self + children
  for (let i = nodes.length - 1; i >= 0; i--) {
    const kids = nodes.filter((n) => n.parent === i)
    nodes[i]!.totalNs = nodes[i]!.selfNs + kids.reduce((s, k) => s + k.totalNs, 0)
  }
  const metadata = { python: { implementation: 'CPython', version: python }, argv: ['main.py'], cwd: '/app', startTime: '2026-12-07T00:00:00Z', durationNs: 100, mode: 'sample', clock: 'wall', overheadNsPerEvent: 0, partial: false, exitStatus: 0, warnings: [], tracer: 'sampler', intervalNs: 1_000_000, samples: 100, ...(sampler ? { sampler } : {}) }
  return JSON.stringify({ pyxray: 'profile', version: 3, metadata, frames, threads: [{ id: 1, name: 'MainThread', main: true, nodes }] })
}

const options = (view: ReportOptions['view']): ReportOptions => ({ view, sort: 'self', top: 10, minPercent: 0, hide: [], name: 'hot.json', sources: (f) => (f === '/app/hot.py' ? SOURCE : undefined) })

test('lines and instructions add up over call paths, with the source and the exact span', () => {
  const d = readProfileDocument(doc('3.15.2', 'remote'), 'hot.json')
  const lines = buildReport(d, options('lines'))
  assert.equal(lines.sampleTotal, 100)
  assert.deepEqual(lines.lines!.map((l) => [l.line, l.samples, l.percent, l.text?.trim()]), [
    [4, 95, 95, 'total += len("žluťoučký") * mul(n, n)'],
    [3, 5, 5, 'for _ in range(n):'],
  ])
  assert.equal(lines.lines![0]!.file, 'hot.py')
  assert.equal(lines.note, undefined)
  const ins = buildReport(d, options('instructions'))
  assert.deepEqual(ins.instructions!.map((i) => [i.offset, i.opname, i.specialized, i.samples, i.span]), [
    [20, 'CALL', 'CALL_BUILTIN_FAST', 90, 'mul(n, n)'],
    [30, 'BINARY_OP', undefined, 5, 'total += len("žluťoučký") * mul(n, n)'],
    [40, 'JUMP_BACKWARD', undefined, 5, 'for _ in range(n):'],
  ])
  assert.equal(ins.instructionCount, 3)
  const text = formatReportText(ins, { width: 120, style: PLAIN_REPORT })
  assert.match(text, /^ +90 +90\.0% +CALL 2 → CALL_BUILTIN_FAST +work @20 +hot\.py:4:40-49 +mul\(n, n\)$/m)
  const md = formatReportMarkdown(lines)
  assert.match(md, /^\| 95 \| 95\.0 \| `hot\.py:4` \| `work` \| `total \+= len\("žluťoučký"\) \* mul\(n, n\)` \|$/m)
  // --top 1, and --thread as in the other views
  assert.equal(buildReport(d, { ...options('instructions'), top: 1 }).instructions!.length, 1)
  assert.throws(() => buildReport(d, { ...options('lines'), thread: 'nope' }), /no thread named nope/)
})

test('UTF-8 byte columns: a span after non-ASCII text is cut at the right characters', () => {
  const line = '        total += len("žluťoučký") * mul(n, n)'
  // the columns CPython 3.11's compile gives this line (co_positions)
  assert.equal(spanText(line, 40, 49), 'mul(n, n)')
  assert.equal(spanText(line, 17, 37), 'len("žluťoučký")')
  assert.equal(spanText(line, 40, 99), undefined)
})

test('in process on 3.10+ the report says where samples land; 3.14 from outside says why there are no instructions', () => {
  const inProcess = buildReport(readProfileDocument(doc('3.12.1'), 'hot.json'), options('instructions'))
  assert.match(inProcess.note!, /sampled in process on 3\.12: a thread is seen only where it lets other threads run/)
  assert.equal(buildReport(readProfileDocument(doc('3.9.18'), 'hot.json'), options('instructions')).note, undefined)
  const v14 = JSON.parse(doc('3.14.1', 'remote'))
  for (const n of v14.threads[0].nodes) delete n.offsets
  for (const f of v14.frames) delete f.instructions
  const r = buildReport(readProfileDocument(v14, 'hot.json'), options('instructions'))
  assert.deepEqual(r.instructions, [])
  assert.match(r.note!, /3\.14's unwinder reports only lines/)
  assert.match(formatReportText(r, { width: 100, style: PLAIN_REPORT }), /\(no instruction samples\)/)
  assert.equal(buildReport(readProfileDocument(v14, 'hot.json'), options('lines')).lines![0]!.line, 4)
})

test("frameSamples (the web UI's heatmap): one function's lines and instructions over every call path", () => {
  const d = readProfileDocument(doc('3.15.2', 'remote'), 'hot.json')
  const s = frameSamples(d, 0)
  assert.equal(s.total, 100)
  assert.deepEqual([...s.lines].sort((a, b) => a[0] - b[0]), [[3, 5], [4, 95]])
  assert.deepEqual(s.instructions.map((i) => [i.offset, i.samples, i.info?.opname]), [[20, 90, 'CALL'], [30, 5, 'BINARY_OP'], [40, 5, 'JUMP_BACKWARD']])
  assert.equal(frameSamples(d, 1).total, 0)
})
