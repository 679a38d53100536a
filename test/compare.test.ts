/**
 * `pyxray compare` and `pyxray dis --adaptive` end to end: the real command in a child process,
 * running code in real interpreters. Pairs with known outcomes must point the right way —
 * executed instruction counts exactly, timings by direction only (sizes are chosen so the gap is
 * several-fold, robust on a loaded machine) — and every JSON document must match
 * schema/compare.schema.json.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { Ajv2020 } from 'ajv/dist/2020.js'
import type { CompareDocument } from '../src/bytecode/compare/index.js'
import { has } from '../src/versions/index.js'
import { NATIVE_MINORS, pythonFor, requirePython } from './pyenv.js'

const ROOT = join(import.meta.dirname, '..')
const MAIN = join(ROOT, 'src', 'cli', 'main.ts')
const validate = new Ajv2020({ allErrors: true, strict: true }).compile(JSON.parse(readFileSync(join(ROOT, 'schema', 'compare.schema.json'), 'utf8')))

function pyxray(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined }, timeout: 300_000 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** Runs compare with --format json; checks the exit code and the schema; returns the document. */
function compareJson(args: string[]): CompareDocument {
  const r = pyxray(['compare', ...args, '--format', 'json', '--repeat', '5', '--min-time', '0.05'])
  assert.equal(r.code, 0, r.stderr)
  const doc = JSON.parse(r.stdout) as CompareDocument
  assert.ok(validate(doc), JSON.stringify(validate.errors, null, 2))
  return doc
}

/** Both sides measured: static summary, executed counts and timing statistics present. */
function assertMeasured(doc: CompareDocument): void {
  assert.equal(doc.sides.length, 2)
  for (const side of doc.sides) {
    assert.ok(side.static.total.instructions > 0)
    assert.ok(side.executed && side.executed.total > 0, 'executed counts')
    assert.equal(Object.values(side.executed.byOpcode).reduce((x, y) => x + y, 0), side.executed.total)
    assert.ok(side.timing && side.timing.secondsPerLoop.length === 5 && side.timing.median > 0, 'timing statistics')
  }
  assert.ok(doc.comparisons[0]?.timing)
}

const PAIRS = {
  comprehension: ['-c', 'r = [x * x for x in data]', '-c', 'r = []\nfor x in data:\n    r.append(x * x)', '--setup', 'data = list(range(20_000))'],
  membership: ['-c', 'found = probe in items_set', '-c', 'found = probe in items_list', '--setup', 'items_list = list(range(100_000)); items_set = set(items_list); probe = -1'],
  join: ['-c', "s = ''.join(parts)", '-c', "s = ''\nfor p in parts:\n    s += p", '--setup', "parts = [str(i) for i in range(20_000)]"],
}

for (const minor of [11, 12]) {
  test(`3.${minor}: a list comprehension executes fewer instructions than an append loop, and is faster`, (t) => {
    if (!requirePython(t, minor)) return
    const doc = compareJson([...PAIRS.comprehension, '--python', `3.${minor}`])
    assertMeasured(doc)
    const [a, b] = doc.sides as [CompareDocument['sides'][0], CompareDocument['sides'][0]]
    assert.equal(a.executed!.mechanism, minor >= 12 ? 'sys.monitoring' : 'sys.settrace')
    assert.ok(a.executed!.total < b.executed!.total, `${a.executed!.total} < ${b.executed!.total}`)
    // Per element: the loop's body runs at least 8 instructions, the comprehension's at most 7.
    assert.ok(b.executed!.total - a.executed!.total >= 20_000, `${b.executed!.total} - ${a.executed!.total}`)
    assert.equal(doc.comparisons[0]!.timing!.faster, 'a', doc.comparisons[0]!.timing!.text)
    // The hot instructions carry the per-element count.
    assert.ok(b.instructions.some((i) => i.opname === 'FOR_ITER' && i.count === 20_001))
    assert.ok(a.specializations && a.specializations.length > 0, 'specializations after warm-up')
  })
}

test('x in set is faster than x in list for a large list', () => {
  const doc = compareJson(PAIRS.membership)
  assertMeasured(doc)
  const c = doc.comparisons[0]!.timing!
  assert.equal(c.faster, 'a', c.text)
  assert.ok(c.ratio < 0.2, c.text)
  // The same number of instructions: the difference is inside CONTAINS_OP / COMPARE_OP.
  assert.equal(doc.sides[0]!.executed!.total, doc.sides[1]!.executed!.total)
})

test("''.join executes fewer instructions and is faster than += in a loop", () => {
  const doc = compareJson(PAIRS.join)
  assertMeasured(doc)
  assert.ok(doc.sides[0]!.executed!.total * 100 < doc.sides[1]!.executed!.total)
  assert.equal(doc.comparisons[0]!.timing!.faster, 'a', doc.comparisons[0]!.timing!.text)
})

test('the text view: summary, ratio, and both sides in aligned columns with counts', () => {
  const r = pyxray(['compare', ...PAIRS.comprehension, '--repeat', '3', '--min-time', '0.02', '--width', '100'])
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /^executed instructions +\d+ +\d+$/m)
  assert.match(r.stdout, /^A is [\d.]+× faster than B \(±[\d.]+ %\)$/m)
  assert.match(r.stdout, /^A executes [\d.]+× fewer instructions/m)
  const columns = r.stdout.split('\n').filter((l) => / 20\.0k FOR_ITER/.test(l))
  assert.ok(columns.length >= 2, r.stdout)
  for (const l of r.stdout.split('\n')) assert.ok([...l].length <= 100, `wider than --width: ${l}`)
})

test('one snippet across 3.10, 3.12 and Pyodide 3.14, aligned by source line', (t) => {
  if (!requirePython(t, 10) || !requirePython(t, 12)) return
  const dir = mkdtempSync(join(tmpdir(), 'pyxray-compare-'))
  const file = join(dir, 'snippet.py')
  writeFileSync(file, 'def f(n):\n    total = 0\n    for i in range(n):\n        total += i * i\n    return total\n')
  const doc = compareJson([`${file}:f`, '--versions', '3.10,3.12,3.14', '--call', 'f(1000)'])
  assert.equal(doc.mode, 'versions')
  assert.deepEqual(doc.sides.map((s) => s.label), ['3.10', '3.12', '3.14'])
  assert.equal(doc.sides[2]!.runtime!.version.startsWith('3.14') && doc.sides[2]!.runtime!.kind, pythonFor(14) ? 'native' : 'pyodide')
  // Every row is one source line: the sides that have code for it agree on the line.
  for (const row of doc.rows) {
    const lines = new Set(row.lines.filter((l) => l !== null))
    assert.ok(lines.size <= 1, JSON.stringify(row.lines))
  }
  const rowOf = (line: number) => doc.rows.find((r) => r.lines.includes(line))!
  for (const line of [2, 3, 4, 5]) {
    const row = rowOf(line)
    assert.deepEqual(row.lines, [line, line, line], `line ${line} in every version`)
    row.instructions.forEach((list, s) => list.forEach((k) => assert.equal(doc.sides[s]!.instructions[k]!.line, line)))
  }
  // The loop body ran 1000 times in every version.
  for (const side of doc.sides) assert.equal(Math.max(...side.instructions.filter((i) => i.line === 4).map((i) => i.count ?? 0)), 1000)
  const text = pyxray(['compare', `${file}:f`, '--versions', '3.10,3.12,3.14', '--no-run'])
  assert.equal(text.code, 0, text.stderr)
  assert.equal(text.stdout.match(/^ {3}4 │ {9}total \+= i \* i$/gm)?.length, 1, text.stdout)
  assert.match(text.stdout, /^ {2}3\.10 +LOAD_FAST total$/m)
})

test('the three newest versions natively (3.13, 3.14, 3.15): counts, max depth = co_stacksize, one row per line', (t) => {
  const newest = NATIVE_MINORS.slice(-3)
  for (const minor of newest) if (!requirePython(t, minor)) return
  const versions = newest.map((m) => `3.${m}`)
  const dir = mkdtempSync(join(tmpdir(), 'pyxray-compare-'))
  const file = join(dir, 'snippet.py')
  writeFileSync(file, 'def f(n):\n    out = []\n    for i in range(n):\n        out.append(i * 2)\n    return sum([x for x in out if x % 3])\n')
  const doc = compareJson([`${file}:f`, '--versions', versions.join(','), '--call', 'f(300)'])
  assert.deepEqual(doc.sides.map((s) => s.label), versions)
  for (const [k, side] of doc.sides.entries()) {
    assert.equal(side.runtime!.kind, 'native')
    assert.ok(side.runtime!.version.startsWith(versions[k]!), side.runtime!.version)
    // The loop body ran 300 times in every version.
    assert.equal(Math.max(...side.instructions.filter((i) => i.line === 4).map((i) => i.count ?? 0)), 300)
  }
  const text = pyxray(['compare', `${file}:f`, '--versions', versions.join(','), '--no-run'])
  assert.equal(text.code, 0, text.stderr)
  const depth = text.stdout.split('\n').find((l) => l.startsWith('max stack depth'))!
  const pairs = [...depth.matchAll(/(\d+) \(co_stacksize (\d+)\)/g)]
  assert.equal(pairs.length, 3, depth)
  for (const [, computed, stacksize] of pairs) assert.equal(computed, stacksize, depth)
})

for (const minor of NATIVE_MINORS.filter((m) => has(m, 'adaptiveInterpreter'))) {
  test(`3.${minor}: dis --adaptive shows the attribute access specialized after warm-up`, (t) => {
    if (!requirePython(t, minor)) return
    const dir = mkdtempSync(join(tmpdir(), 'pyxray-adaptive-'))
    const file = join(dir, 'attr.py')
    writeFileSync(file, 'class Box:\n    def __init__(self):\n        self.v = 1\n\ndef f(n):\n    b = Box()\n    t = 0\n    for i in range(n):\n        t += b.v\n    return t\n')
    const r = pyxray(['dis', '--adaptive', '--call', 'f(100)', `${file}:f`, '--python', `3.${minor}`])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /LOAD_ATTR_INSTANCE_VALUE/)
    assert.match(r.stdout, /^ {2}f line 9 offset \d+: LOAD_ATTR → LOAD_ATTR_INSTANCE_VALUE$/m)
    const json = pyxray(['dis', '--adaptive', '--call', 'f(100)', `${file}:f`, '--python', `3.${minor}`, '--format', 'json'])
    const doc = JSON.parse(json.stdout)
    assert.ok(doc.adaptive.specializations.some((s: { opname: string; specialized: string }) => s.opname === 'LOAD_ATTR' && s.specialized === 'LOAD_ATTR_INSTANCE_VALUE'))
    assert.ok(doc.code.instructions.some((i: { opname: string }) => i.opname === 'LOAD_ATTR_INSTANCE_VALUE'))
  })
}

// 3.11's dis does not see the specialized JUMP_BACKWARD_QUICK as a jump, so it drops the loop's
// ">>" target marker: pyxray prints the same.
for (const minor of NATIVE_MINORS.filter((m) => has(m, 'adaptiveInterpreter'))) {
  test(`3.${minor}: dis --adaptive --format dis prints what dis.dis(f, adaptive=True) prints after the same runs`, (t) => {
    const python = requirePython(t, minor)
    if (!python) return
    const dir = mkdtempSync(join(tmpdir(), 'pyxray-adaptive-'))
    const file = join(dir, 'attr.py')
    writeFileSync(file, 'class Box:\n    def __init__(self):\n        self.v = 1\n\ndef f(n):\n    b = Box()\n    t = 0\n    for i in range(n):\n        t += b.v\n    return t\n')
    const ours = pyxray(['dis', '--adaptive', '--call', 'f(100)', '--warmup', '50', `${file}:f`, '--python', `3.${minor}`, '--format', 'dis'])
    assert.equal(ours.code, 0, ours.stderr)
    // The agent runs the call once to check it works, then the 50 warm-up runs.
    const program = `import dis\nns = {"__name__": "m"}\nexec(compile(open(${JSON.stringify(file)}).read(), ${JSON.stringify(file)}, "exec"), ns)\nfor _ in range(51): ns["f"](100)\ndis.dis(ns["f"], adaptive=True)\n`
    const theirs = spawnSync(python, ['-c', program], { encoding: 'utf8' })
    assert.equal(theirs.status, 0, theirs.stderr)
    assert.equal(ours.stdout, theirs.stdout)
  })
}

test('bad input: exit 2 with a message saying what was wrong', () => {
  const cases: [string[], RegExp][] = [
    [['compare', '-c', 'x = 1'], /compare needs two targets/],
    [['compare', '-c', 'x = 1', '-c', 'y = 2', '-c', 'z = 3'], /compare needs two targets .* got 3/],
    [['compare', '-c', 'x = 1', '--versions', '3.12,banana'], /--versions takes Python versions like 3\.10,3\.12,3\.14, not "banana"/],
    [['compare', '-c', 'x = 1', '--versions', '3.12'], /at least two different versions/],
    [['compare', '-c', 'x = 1', '-c', 'y = 2', '--repeat', '0'], /--repeat takes a whole number from 1/],
    [['compare', '-c', 'x = 1', '-c', 'y = 2', '--format', 'xml'], /unknown format "xml"/],
    [['compare', '-c', 'x = (', '-c', 'y = 2'], /A: .*SyntaxError/],
    [['compare', '-c', 'x = 1', '-c', 'y = undefined_name + 1'], /B: the first run raised NameError: name 'undefined_name' is not defined/],
    [['compare', '-c', 'x = 1', '-c', 'y = 2', '--setup', 'import no_such_module_here'], /A: setup raised ModuleNotFoundError/],
    [['compare', 'no-such-file.py', 'other.py', '--call', 'f()'], /no-such-file\.py: no such file/],
    [['dis', '--adaptive', '-c', 'x = 1'], /--adaptive needs --call EXPR/],
  ]
  for (const [args, message] of cases) {
    const r = pyxray(args)
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
    assert.match(r.stderr, message, args.join(' '))
    assert.doesNotMatch(r.stderr, /internal error| {4}at /, 'no stack trace')
  }
  const py310 = pythonFor(10)
  if (py310) {
    const r = pyxray(['dis', '--adaptive', '--call', 'x', '-c', 'x = 1', '--python', '3.10'])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /--adaptive needs CPython 3\.11\+/)
  }
})
