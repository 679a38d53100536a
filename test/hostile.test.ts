// Hostile inputs (test/fixtures/hostile, written by scripts/gen-hostile-fixtures.ts): each problem
// the hardening review and the fuzzer found, with the typed error or bounded output it must give
// now — through the library with its input-derived budget and through the CLI (exit 2, one line
// naming the limit and how to raise it). No timing: the bounds are on output size and outcome.
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import {
  codeDocument,
  formatDis,
  formatStack,
  jsonText,
  LimitError,
  OUTPUT_BASE_BYTES,
  OUTPUT_BYTES_PER_INPUT_BYTE,
  outputBudget,
  PycError,
  readPyc,
  simulateStack,
  disassemble,
  codeTree,
  MAX_SYMBOLIC_DEPTH,
  stackToJson,
  analyzeDepth,
  toCodeObject,
} from '../src/index.js'
import { main } from '../src/cli/main.js'
import { terminalWidth } from '../src/cli/text-width.js'
import stringWidth from 'string-width'
import { lineRanges, positions } from '../src/bytecode/lines.js'

const dir = join(fileURLToPath(import.meta.url), '../fixtures/hostile')
const load = (name: string) => new Uint8Array(readFileSync(join(dir, name)))

/** Runs the CLI in-process; returns the exit code, stdout and stderr. */
async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) })
  return { code, out, err }
}

test('the output budget is 16 MiB + 64× the input, or what --max-output-mb / maxOutputBytes says', () => {
  assert.equal(outputBudget(1000), OUTPUT_BASE_BYTES + OUTPUT_BYTES_PER_INPUT_BYTE * 1000)
  assert.equal(outputBudget(1000, 5), 5)
  assert.ok(outputBudget(1e12) < 2 ** 29 - 24, 'never above the longest V8 string')
})

test('a long int of 30,000 digits is read exactly and printed in full', () => {
  const bytes = load('long-int-30k-digits.pyc')
  const pyc = readPyc(bytes)
  const last = pyc.code.consts.type === 'tuple' ? pyc.code.consts.items.at(-1) : undefined
  assert.equal(last?.type, 'int')
  assert.equal(last.type === 'int' && last.value, (1n << (15n * 30_000n)) - 12345n)
  const json = jsonText(codeDocument(toCodeObject(pyc.code, 12), 'x.pyc', {}, outputBudget(bytes.length)), 2, outputBudget(bytes.length))
  assert.ok(json.includes(((1n << (15n * 30_000n)) - 12345n).toString()))
})

test('an exception table entry keeping 2**29 slots is a finding, not an allocation', () => {
  const code = toCodeObject(readPyc(load('exception-depth-2pow29.pyc')).code, 12)
  const sim = simulateStack(disassemble(code))
  assert.ok(sim.depth.findings.some((f) => f.kind === 'exception-table' && /536870912 stack slots, more than co_stacksize 2/.test(f.message)))
  assert.equal(sim.depth.maxDepth, code.stacksize)
  assert.ok(formatStack(code).includes('entry ignored'))
})

test('with co_stacksize 2**30 the entry is believed: the depths are shown, the slots are not named (past MAX_SYMBOLIC_DEPTH)', async () => {
  const bytes = load('exception-depth-2pow29-stacksize.pyc')
  const code = toCodeObject(readPyc(bytes).code, 12)
  const sim = simulateStack(disassemble(code))
  assert.match(sim.omitted ?? '', /^slots not named: the stack reaches 536870915 slots, more than the 1024 /)
  assert.equal(sim.nodes, 0)
  assert.ok(sim.after.every((s) => s === undefined))
  assert.ok(formatStack(code, { maxOutputBytes: outputBudget(bytes.length) }).includes('slots not named'))
  const r = await cli('stack', join(dir, 'exception-depth-2pow29-stacksize.pyc'))
  assert.equal(r.code, 0, r.err)
  assert.match(r.out, /\n {2}slots not named: the stack reaches 536870915 slots/)
})

/** The depth-first code objects of a fixture. */
const codesOf = (name: string) => codeTree(toCodeObject(readPyc(load(name)).code, readPyc(load(name)).version[1])).map((e) => e.code)

test('fuzz finding (seed 42, #8864): UNPACK_SEQUENCE 65535 in a 1.3 kB file — the stack view gives the depths and a notice, not 65,535 named slots', async () => {
  const bytes = load('fuzz-unpack-sequence-65535.pyc')
  const code = toCodeObject(readPyc(bytes).code, 9)
  const deep = codeTree(code).find((e) => e.code.qualname === 'keyword_only')!.code
  const sim = simulateStack(disassemble(deep))
  assert.equal(sim.depth.after.at(-1), 65535)
  assert.ok(sim.depth.maxDepth > MAX_SYMBOLIC_DEPTH)
  assert.equal(sim.nodes, 0, 'no slot is made')
  assert.match(sim.omitted ?? '', /reaches 65535 slots, more than the 1024 the symbolic stack names/)
  // Output bounded by the instructions, not by the oparg: it was 8.2 MB of JSON.
  const budget = outputBudget(bytes.length)
  const json = jsonText(stackToJson(code, true, budget), 2, budget)
  assert.ok(json.length < 100 * bytes.length, `${json.length} characters of JSON`)
  const doc = JSON.parse(json) as { qualname: string; slotsOmitted: string | null; instructions: { stackAfter: unknown; depthAfter: number }[] }[]
  const entry = doc.find((c) => c.qualname === 'keyword_only')!
  assert.ok(entry.instructions.every((i) => i.stackAfter === null))
  assert.equal(entry.instructions.at(-1)!.depthAfter, 65535)
  assert.match(entry.slotsOmitted ?? '', /slots not named/)
  assert.ok(doc.filter((c) => c !== entry).every((c) => c.slotsOmitted === null && c.instructions.some((i) => Array.isArray(i.stackAfter))), 'the other code objects keep their slots')
  const text = formatStack(code, { maxOutputBytes: budget })
  assert.ok(text.length < 20 * bytes.length, `${text.length} characters of text`)
  assert.ok(!text.includes('undefined'), 'an operand an underflow does not find reads as ?')
  for (const argv of [['stack'], ['stack', '--format', 'json']]) assert.equal((await cli(...argv, join(dir, 'fuzz-unpack-sequence-65535.pyc'))).code, 0, argv.join(' '))
})

test('a stack of 1,000 slots kept for 2,000 instructions: the simulation makes a node per slot pushed, not per slot of every stack; the text shows what fits, the JSON is refused (LIMIT_STACK)', async () => {
  const bytes = load('stack-1000-deep-2000-nops.pyc')
  const [module] = codesOf('stack-1000-deep-2000-nops.pyc')
  const sim = simulateStack(disassemble(module!))
  assert.equal(sim.depth.maxDepth, 1000)
  assert.ok(sim.slots > 4_000_000, `the sum of the depths: ${sim.slots}`)
  // 1 (LOAD_CONST) + 1,000 (UNPACK_SEQUENCE): the NOPs share the stack they were given.
  assert.equal(sim.nodes, 1001)
  for (let k = 4; k < sim.after.length - 1; k++) assert.equal(sim.after[k], sim.after[3], `NOP #${k} shares the stack`)
  assert.deepEqual(sim.after[3]!.top(2).map((s) => s.pushedBy), [4, 4])
  assert.equal(sim.after[3]!.slots().length, 1000)
  const text = formatStack(module!, { maxOutputBytes: outputBudget(bytes.length), recursive: false })
  const rows = text.split('\n')
  assert.ok(rows.length > 2000 && rows.every((r) => r.length <= 100), 'one row per instruction, cut to the width')
  const r = await cli('stack', '--format', 'json', join(dir, 'stack-1000-deep-2000-nops.pyc'))
  assert.equal(r.code, 2)
  assert.match(r.err, /^pyxray: stack: LIMIT_STACK: the value stacks of <module> \(4003004 slots over 2004 instructions, max depth 1000, co_stacksize 1000\) would exceed .*--max-output-mb/)
  assert.equal((await cli('stack', join(dir, 'stack-1000-deep-2000-nops.pyc'))).code, 0)
})

/** The depth analysis of the module of a fixture, with its instruction and exception-entry counts. */
function depthOf(name: string) {
  const d = disassemble(codesOf(name)[0]!, { positions: false })
  return { a: analyzeDepth(d), instructions: d.instructions.length, entries: d.exceptionEntries.length }
}

test('8,000 unreachable blocks that each return: the depth analysis gives them depths in steps proportional to the instructions (each pass over all of them was quadratic)', async () => {
  const { a, instructions } = depthOf('stack-unreachable-returns-8000.pyc')
  assert.equal(a.cfg.blocks.length, 8001)
  assert.ok(a.steps <= 4 * instructions, `${a.steps} steps for ${instructions} instructions`)
  assert.equal(a.maxDepth, 0)
  assert.deepEqual(a.findings.map((f) => f.kind), ['unreachable'], 'one finding for the whole unreachable run')
  assert.equal((await cli('stack', join(dir, 'stack-unreachable-returns-8000.pyc'))).code, 0)
})

test('4,000 exception-table entries over the same 4,000 instructions: each block is given its handler once (each entry walked all it covered: quadratic)', async () => {
  const { a, instructions, entries } = depthOf('stack-overlapping-handlers-4000.pyc')
  assert.equal(entries, 4000)
  assert.ok(a.cfg.steps <= 2 * (instructions + entries) + a.cfg.blocks.length, `${a.cfg.steps} graph steps`)
  assert.ok(a.steps <= 4 * (instructions + entries), `${a.steps} steps`)
  // The first entry covers everything: every block's handler is its target (offset 0).
  assert.ok(a.cfg.blocks.every((b) => b.successors.filter((e) => e.kind === 'handler').every((e) => e.to === 0)))
  assert.equal((await cli('stack', '--format', 'json', join(dir, 'stack-overlapping-handlers-4000.pyc'))).code, 0)
})

test('3.8 BUILD_TUPLE_UNPACK 2**31 - 1: the folded-tuple check looks at the slots the stack holds, not one per unit of the oparg (a hang)', async () => {
  const { a } = depthOf('stack-folded-tuples-2pow31.pyc')
  assert.ok(a.steps < 40, `${a.steps} steps`)
  assert.ok(a.findings.some((f) => f.kind === 'underflow'))
  for (const argv of [['stack'], ['stack', '--format', 'json'], ['dis'], ['compare', '--no-run']]) {
    const file = join(dir, 'stack-folded-tuples-2pow31.pyc')
    assert.equal((await cli(...argv, file, ...(argv[0] === 'compare' ? [file] : []))).code, 0, argv.join(' '))
  }
})

test('fuzz finding (seed 7, #2179): terminal widths of one-cell text are its length, as string-width says, without its grapheme segmentation (report --tree of a 3,000-deep chain took 18 s in it)', () => {
  for (const text of ['', 'func_1  /work/src/mod1.py:387', '│  │  └─ ', '[+2900] │  ├─ …', 'naïve', '漢字', 'e\u0301', '\x1b[1mbold\x1b[0m', '😀 x']) {
    assert.equal(terminalWidth(text), stringWidth(text), JSON.stringify(text))
  }
})

test('UNPACK_SEQUENCE 2**24 (co_stacksize 2**24): depths only, with the notice, in text and JSON', async () => {
  const bytes = load('stack-unpack-2pow24.pyc')
  const [module] = codesOf('stack-unpack-2pow24.pyc')
  const sim = simulateStack(disassemble(module!))
  assert.equal(sim.depth.maxDepth, 2 ** 24)
  assert.equal(sim.nodes, 0)
  const json = JSON.parse(jsonText(stackToJson(module!, false, outputBudget(bytes.length)), 2, outputBudget(bytes.length))) as { slotsOmitted: string }[]
  assert.match(json[0]!.slotsOmitted, /reaches 16777216 slots/)
  assert.match(formatStack(module!, { recursive: false }), /max depth 16777216 \(co_stacksize 16777216\)\n {2}slots not named/)
})

test('counts and lengths the remaining bytes cannot back are refused before anything is allocated', async () => {
  for (const [name, pattern] of [
    ['tuple-count-200m.pyc', /not a code object/],
    ['bytes-length-200m.pyc', /bytes claims 200000000 item\(s\) but only 8 byte\(s\) are left/],
    ['not-code-tuple-100k.pyc', /type code 0x28 \('\('\), not a code object/],
  ] as const) {
    assert.throws(() => readPyc(load(name)), (e) => e instanceof PycError && e.code === 'PYC_BAD_DATA' && pattern.test(e.message), name)
    const r = await cli('dis', join(dir, name))
    assert.equal(r.code, 2, name)
    assert.match(r.err, /PYC_BAD_DATA at byte \d+: /, name)
  }
})

test('a string referenced 10,000 times is refused while reading (LIMIT_OUTPUT), in every command', async () => {
  const bytes = load('string-60k-referenced-10000x.pyc')
  assert.throws(() => readPyc(bytes), (e) => e instanceof LimitError && e.code === 'LIMIT_OUTPUT' && e.limit === outputBudget(bytes.length))
  for (const argv of [['dis'], ['dis', '--format', 'json'], ['stack'], ['code', '--format', 'json']]) {
    const r = await cli(...argv, join(dir, 'string-60k-referenced-10000x.pyc'))
    assert.equal(r.code, 2, argv.join(' '))
    assert.match(r.err, /LIMIT_OUTPUT: .* would exceed the output budget of 22\.\d MiB .*raise it with --max-output-mb/, argv.join(' '))
    assert.equal(r.out, '')
  }
})

test('a JSON document over the budget is refused (LIMIT_OUTPUT); the dis text of the same file is not', async () => {
  const file = join(dir, 'control-string-referenced-40x.pyc')
  const bytes = load('control-string-referenced-40x.pyc')
  const code = toCodeObject(readPyc(bytes).code, 12)
  assert.throws(() => jsonText(codeDocument(code, 'x', {}, outputBudget(bytes.length)), 2, outputBudget(bytes.length)), LimitError)
  const json = await cli('dis', '--format', 'json', file)
  assert.equal(json.code, 2)
  assert.match(json.err, /LIMIT_OUTPUT: the JSON document would exceed/)
  const raised = await cli('dis', '--format', 'json', '--max-output-mb', '200', file)
  assert.equal(raised.code, 0)
  assert.ok(raised.out.length > outputBudget(bytes.length))
  const dis = await cli('dis', '--format', 'dis', file)
  assert.equal(dis.code, 0)
  assert.equal(dis.out, formatDis(code))
})

test('--max-output-mb takes a positive number', async () => {
  const r = await cli('dis', '--max-output-mb', 'lots', join(dir, 'long-int-30k-digits.pyc'))
  assert.equal(r.code, 2)
  assert.match(r.err, /--max-output-mb takes a positive number of MiB/)
})

test('fuzz finding: a list-building oparg that names no stack slot is simulated, not a TypeError', async () => {
  const pyc = readPyc(load('fuzz-list-append-oparg.pyc'))
  assert.ok(formatStack(toCodeObject(pyc.code, pyc.version[1])).includes('max depth'))
  const r = await cli('stack', '--format', 'json', join(dir, 'fuzz-list-append-oparg.pyc'))
  assert.equal(r.code, 0)
})

test('fuzz finding: a long referenced 2,000 times is printed once and repeated (LIMIT_OUTPUT past the budget)', async () => {
  const bytes = load('fuzz-long-referenced-2000x.pyc')
  const code = toCodeObject(readPyc(bytes).code, 12)
  // 2,000 × 90,309 digits = 180 M characters: over this file's budget, refused while building.
  assert.throws(() => codeDocument(code, 'x', {}, outputBudget(bytes.length)), (e) => e instanceof LimitError && e.code === 'LIMIT_OUTPUT')
  const r = await cli('code', join(dir, 'fuzz-long-referenced-2000x.pyc'))
  assert.equal(r.code, 2)
  assert.match(r.err, /LIMIT_OUTPUT: the repr of a constant would exceed the output budget/)
})

test('compare takes --max-output-mb like dis, stack and code: a JSON document over it is refused (LIMIT_OUTPUT), a bad value is a usage error', async () => {
  const file = join(dir, 'control-string-referenced-40x.pyc')
  const fits = await cli('compare', file, file, '--no-run', '--format', 'json')
  assert.equal(fits.code, 0, fits.err)
  const small = await cli('compare', file, file, '--no-run', '--format', 'json', '--max-output-mb', '0.01')
  assert.equal(small.code, 2)
  assert.match(small.err, /^pyxray: .*LIMIT_OUTPUT: .*would exceed the output budget of 0\.01 MiB.*--max-output-mb/)
  assert.equal(small.err.trimEnd().split('\n').length, 1)
  assert.equal(small.out, '')
  const bad = await cli('compare', file, file, '--no-run', '--max-output-mb', '0')
  assert.equal(bad.code, 2)
  assert.match(bad.err, /--max-output-mb takes a positive number of MiB, not "0"/)
})

test('the JSON document counts its size while it is built: a constant referenced again is counted again, so an over-budget document is refused before it is made', () => {
  const bytes = load('control-string-referenced-40x.pyc')
  const code = toCodeObject(readPyc(bytes).code, 12)
  // The builder alone refuses it (no jsonText needed): its lower bound already passes the budget.
  assert.throws(() => codeDocument(code, 'x', {}, outputBudget(bytes.length)), (e) => e instanceof LimitError && e.code === 'LIMIT_OUTPUT')
  // What it counts is a lower bound: a budget the text fits in is never refused by the builder.
  const doc = codeDocument(code, 'x', {}, 500_000_000)
  const text = jsonText(doc, 2, 500_000_000)
  assert.doesNotThrow(() => codeDocument(code, 'x', {}, text.length))
})

test('fuzz finding: a 3.10 line table whose ranges run megabytes past the code: the disassembler makes one position per code unit, not one per claimed unit', async () => {
  const pyc = readPyc(load('fuzz-linetable-310-ranges-5mb.pyc'))
  const code = toCodeObject(pyc.code, pyc.version[1])
  // The table's ranges reach 5 MB, as co_lines() yields them; all positions are 2.5 million.
  const n = code.code.length
  assert.ok(lineRanges(10, code.linetable, code.firstlineno, n).at(-1)!.end > 5_000_000)
  assert.equal(positions(10, code.linetable, code.firstlineno, n, n / 2).length, n / 2)
  const d = disassemble(code)
  assert.equal(d.positions.length, n / 2)
  assert.ok(d.instructions.length > 0)
  const r = await cli('dis', join(dir, 'fuzz-linetable-310-ranges-5mb.pyc'))
  assert.equal(r.code, 0, r.err)
})

test('fuzz finding (seed 42, #27169): diff --format json of two profile files is bounded by their size — a 3,000-deep chain of 5,000-character names is refused in one line, not 140 MB of JSON', async () => {
  const profiles = join(dir, '../profiles')
  const sample = JSON.parse(readFileSync(join(profiles, 'sample.json'), 'utf8')) as { metadata: Record<string, unknown> }
  const depth = 3000
  const frames = Array.from({ length: 4 }, (_, i) => ({ file: '/work/app.py', firstlineno: 1 + i, qualname: `f${i}_${'x'.repeat(5000)}`, kind: 'python' }))
  const nodes = [{ frame: null, parent: null, calls: 0, totalNs: depth, selfNs: 0 }, ...Array.from({ length: depth }, (_, k) => ({ frame: k % 4, parent: k, calls: 1, totalNs: depth - k, selfNs: 1 }))]
  const doc = { pyxray: 'profile', version: 2, metadata: { ...sample.metadata, mode: 'trace', tracer: 'sys.setprofile', intervalNs: undefined, samples: undefined }, frames, threads: [{ id: 1, name: 'MainThread', main: true, nodes }] }
  const file = join(mkdtempSync(join(tmpdir(), 'pyxray-hostile-')), 'deep.json')
  writeFileSync(file, JSON.stringify(doc))
  const base = join(profiles, 'planted-base.json')
  const json = await cli('diff', base, file, '--format', 'json')
  assert.equal(json.code, 2)
  assert.equal(json.out, '')
  assert.match(json.err, /^pyxray: the diff as JSON would exceed \d+\.\d MiB \(16 MiB \+ 64× the two profiles' sizes\): .*--format text or markdown\n$/)
  // With -o the JSON streams into a temporary file: refused the same way, and nothing is left behind.
  const outDir = mkdtempSync(join(tmpdir(), 'pyxray-hostile-out-'))
  const toFile = await cli('diff', base, file, '--format', 'json', '-o', join(outDir, 'd.json'))
  assert.equal(toFile.code, 2)
  assert.match(toFile.err, /^pyxray: the diff as JSON would exceed/)
  assert.deepEqual(readdirSync(outDir), [])
  for (const format of ['text', 'markdown']) assert.equal((await cli('diff', base, file, '--format', format)).code, 0, format)
  // Real profiles stay far below it.
  assert.equal((await cli('diff', base, join(profiles, 'planted-head.json'), '--format', 'json')).code, 0)
})
