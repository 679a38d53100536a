/**
 * Instruction-level samples (profile documents version 3): `pyxray profile --mode sample` on every
 * supported CPython, in process (the sampler thread: f_lasti) and from outside on 3.14+ (the
 * unwinder: 3.14 lines, 3.15 instructions), then `pyxray report --lines` and `--instructions`.
 *
 * The planted programs spend nearly all their time (≫ 90 %) in one instruction of one line, so
 * whatever the sampling rate and the machine's load, that line and instruction come first; nothing
 * else about the counts is asserted. In process on 3.10+ a thread is only sampled where it lets
 * other threads run (calls, backward jumps), so the program planted for every mode makes the hot
 * instruction a call of a C function (big-integer multiplication through operator.mul); the one
 * with a plain BINARY_OP is checked where samples land where the thread was: in process on 3.8 and
 * 3.9 (the eval breaker follows every instruction there) and from outside on 3.15.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { readProfileDocument } from '../src/profile/document.js'
import { buildReport, type Report } from '../src/profile/report.js'
import { NATIVE_MINORS, nativeCacheBin, requirePython } from './pyenv.js'

const MAIN = join(import.meta.dirname, '..', 'src', 'cli', 'main.ts')
const ENV = { ...process.env, PYXRAY_PYTHON_PATHS: [process.env.PYXRAY_PYTHON_PATHS, nativeCacheBin()].filter(Boolean).join(delimiter) }
const DIR = mkdtempSync(join(tmpdir(), 'pyxray-lines-'))

/** Line 9 is the hot line; its CALL runs a big-integer multiplication in C. */
const CALL_HOT_LINE = 9
const CALL_PROGRAM = `from operator import mul


def work(n):
    a = 7 ** 40000
    b = 3 ** 40000
    x = 0
    for _ in range(n):
        x = mul(a, b)
        x = 1
    return x


work(150)
`

/** Line 6 is the hot line; its BINARY_OP multiplies big integers. */
const BINOP_HOT_LINE = 6
const BINOP_PROGRAM = `def work(n):
    a = 7 ** 40000
    b = 3 ** 40000
    x = 0
    for _ in range(n):
        x = a * b
        x = 1
    return x


work(150)
`

const CALL_FILE = join(DIR, 'hot_call.py')
const BINOP_FILE = join(DIR, 'hot_binop.py')
writeFileSync(CALL_FILE, CALL_PROGRAM)
writeFileSync(BINOP_FILE, BINOP_PROGRAM)

function cli(args: readonly string[], env: NodeJS.ProcessEnv = ENV): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { env, encoding: 'utf8', timeout: 120_000 })
  assert.equal(r.status, 0, `pyxray ${args.join(' ')}: exit ${r.status}\n${r.stderr}`)
  return r.stdout
}

/** Profiles `file` in sample mode with `python`; `inProcess`: the sampler thread even on 3.14+. */
function profile(python: string, file: string, inProcess: boolean, tag: string): string {
  const out = join(DIR, `${tag}.json`)
  const env = { ...ENV, ...(inProcess ? { PYXRAY_SAMPLER: 'thread' } : {}) }
  cli(['profile', '--python', python, '--mode', 'sample', '--interval', '1ms', '-q', '-o', out, file], env)
  return out
}

/** Source files as the CLI reads them for the report. */
const sources = (file: string) => {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}

/** The report of a view, built here (the CLI's own output is checked once per format, below). */
function report(doc: string, view: '--lines' | '--instructions'): Report {
  const d = readProfileDocument(readFileSync(doc, 'utf8'), doc)
  return buildReport(d, { view: view === '--lines' ? 'lines' : 'instructions', sort: 'self', top: 5, minPercent: 0, hide: [], name: doc, sources })
}

/** The hot line comes first, with its text; it holds most samples. */
function assertHotLine(doc: string, line: number, text: string): void {
  const r = report(doc, '--lines')
  const first = r.lines?.[0]
  assert.ok(first, `${doc}: no line samples (${r.note ?? ''})`)
  assert.equal(first.line, line, `${doc}: hottest line ${first.file}:${first.line}, not ${line}: ${JSON.stringify(r.lines)}`)
  assert.equal(first.function.qualname, 'work')
  assert.equal(first.text?.trim(), text)
  assert.ok(first.percent > 50, `${doc}: the hot line has ${first.percent}% of the samples`)
}

/** The hot instruction comes first: opname, argrepr and (3.11+) the exact source span. */
function assertHotInstruction(doc: string, minor: number, line: number, opname: RegExp, span: string): Report['instructions'] {
  const r = report(doc, '--instructions')
  const first = r.instructions?.[0]
  assert.ok(first, `${doc}: no instruction samples (${r.note ?? ''})`)
  assert.match(first.opname, opname, `${doc}: hottest instruction ${JSON.stringify(first)}`)
  assert.equal(first.line, line)
  if (minor >= 11) assert.equal(first.span, span, `${doc}: span ${first.col}-${first.endCol} of line ${first.line}`)
  else assert.equal(first.col, undefined)
  return r.instructions
}

const CALL_OP = (minor: number) => (minor <= 10 ? /^CALL_FUNCTION$/ : minor === 11 ? /^PRECALL$/ : /^CALL$/)

for (const minor of NATIVE_MINORS) {
  test(`3.${minor} in process: --lines and --instructions name the planted call`, (t: TestContext) => {
    const python = requirePython(t, minor)
    if (python === undefined) return
    const doc = profile(python, CALL_FILE, true, `call-${minor}-thread`)
    assert.equal(readProfileDocument(readFileSync(doc, 'utf8'), doc).metadata.sampler, undefined, 'sampled in process')
    assertHotLine(doc, CALL_HOT_LINE, 'x = mul(a, b)')
    const ins = assertHotInstruction(doc, minor, CALL_HOT_LINE, CALL_OP(minor), 'mul(a, b)')!
    // 3.11+: the form the interpreter specialised the call to (a builtin's), read from the running code
    if (minor >= 11) assert.match(ins[0]!.specialized ?? '', /^(PRECALL|CALL)_/, JSON.stringify(ins[0]))
    else assert.equal(ins[0]!.specialized, undefined)
    const r = report(doc, '--instructions')
    if (minor >= 10) assert.match(r.note ?? '', /where it lets other threads run/)
    else assert.equal(r.note, undefined)
  })
}

for (const minor of [8, 9]) {
  test(`3.${minor} in process: a plain BINARY_MULTIPLY is named (samples land where the thread was)`, (t: TestContext) => {
    const python = requirePython(t, minor)
    if (python === undefined) return
    const doc = profile(python, BINOP_FILE, true, `binop-${minor}-thread`)
    assertHotLine(doc, BINOP_HOT_LINE, 'x = a * b')
    assertHotInstruction(doc, minor, BINOP_HOT_LINE, /^BINARY_MULTIPLY$/, '')
  })
}

test('3.15 from outside: the unwinder locates the BINARY_OP and the call exactly', (t: TestContext) => {
  const python = requirePython(t, 15)
  if (python === undefined) return
  const binop = profile(python, BINOP_FILE, false, 'binop-15-remote')
  assert.equal(readProfileDocument(readFileSync(binop, 'utf8'), binop).metadata.sampler, 'remote')
  assertHotLine(binop, BINOP_HOT_LINE, 'x = a * b')
  const ins = assertHotInstruction(binop, 15, BINOP_HOT_LINE, /^BINARY_OP$/, 'a * b')!
  assert.equal(ins[0]!.argrepr, '*')
  const call = profile(python, CALL_FILE, false, 'call-15-remote')
  assertHotLine(call, CALL_HOT_LINE, 'x = mul(a, b)')
  assertHotInstruction(call, 15, CALL_HOT_LINE, /^CALL$/, 'mul(a, b)')
  assert.equal(report(call, '--instructions').note, undefined, 'no bias note from outside')
  // the CLI's formats: json is the report above; markdown names the same first rows
  assert.deepEqual((JSON.parse(cli(['report', binop, '--instructions', '--format', 'json', '-n', '1'])) as Report).instructions, ins.slice(0, 1))
  const md = cli(['report', binop, '--lines', '--format', 'markdown', '-n', '1'])
  assert.match(md, new RegExp(`\\| \\d+ \\| [\\d.]+ \\| \`[^\`]*hot_binop\\.py:${BINOP_HOT_LINE}\` \\| \`work\` \\| \`x = a \\* b\` \\|`))
})

test('3.14 from outside: lines only (its unwinder has no instruction), and the report says so', (t: TestContext) => {
  const python = requirePython(t, 14)
  if (python === undefined) return
  const doc = profile(python, BINOP_FILE, false, 'binop-14-remote')
  assert.equal(readProfileDocument(readFileSync(doc, 'utf8'), doc).metadata.sampler, 'remote')
  assertHotLine(doc, BINOP_HOT_LINE, 'x = a * b')
  const r = report(doc, '--instructions')
  assert.deepEqual(r.instructions, [])
  assert.match(r.note ?? '', /3\.14's unwinder reports only lines/)
  const text = cli(['report', doc, '--instructions', '--no-color'])
  assert.match(text, /\(no instruction samples\)/)
})
