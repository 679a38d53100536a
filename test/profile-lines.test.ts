/**
 * Instruction-level samples (profile documents version 3): `pyxray profile --mode sample` on every
 * supported CPython, in process (the sampler thread: f_lasti) and from outside on 3.14+ (the
 * unwinder: 3.14 lines, 3.15 instructions), then `pyxray report --lines` and `--instructions`.
 *
 * The planted programs spend nearly all their time (≫ 90 %) in one instruction of one line, so
 * whatever the sampling rate and the machine's load, that line and instruction come first; nothing
 * else about the counts is asserted. In process on 3.10+ a thread lets the sampler run only at
 * calls, backward jumps and function starts; where that is all the sampler sees (f_lasti), a slow
 * BINARY_OP counts at the loop's JUMP_BACKWARD. With the C engine on Linux the signal sampler
 * (python/pyxray/_accel_sigprof.c: SIGPROF on each thread's own CPU clock, the handler notes the
 * running instruction) names the BINARY_OP on 3.10–3.15 (`metadata.instructionSampler: "signal"`);
 * with the C engine off (PYXRAY_ACCEL=0) the document says nothing of it and the report prints the
 * bias note. 3.8 and 3.9 check the eval breaker before almost every instruction: f_lasti is exact.
 * From outside, 3.15's unwinder names the instruction; 3.14's reports lines only.
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

const built = new Set<string>()

/**
 * Builds the C engine for `python` now (once): the in-process sampler loads it on its own thread
 * and starts the signal sampler then, so a first build that outlasts a short program would leave
 * that profile without it (the document says so) — whatever the machine's load, not here.
 */
function buildEngine(python: string): void {
  if (built.has(python)) return
  const r = spawnSync(python, ['-m', 'pyxray._accel_build'], { env: { ...ENV, PYTHONPATH: join(import.meta.dirname, '..', 'python') }, encoding: 'utf8', timeout: 300_000 })
  assert.equal(r.status, 0, `the C engine did not build for ${python}: ${r.stderr}`)
  built.add(python)
}

/** Profiles `file` in sample mode with `python`; `inProcess`: the sampler thread even on 3.14+. */
function profile(python: string, file: string, inProcess: boolean, tag: string): string {
  if (inProcess) buildEngine(python)
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

/** Whether the in-process sampler notes running threads' instructions at SIGPROF (the C engine, Linux, 3.10+). */
const signalSampled = (minor: number) => process.platform === 'linux' && minor >= 10

const BINOP_OP = (minor: number) => (minor <= 10 ? /^BINARY_MULTIPLY$/ : /^BINARY_OP$/)

for (const minor of NATIVE_MINORS) {
  test(`3.${minor} in process: --lines and --instructions name the planted call`, (t: TestContext) => {
    const python = requirePython(t, minor)
    if (python === undefined) return
    const doc = profile(python, CALL_FILE, true, `call-${minor}-thread`)
    const md = readProfileDocument(readFileSync(doc, 'utf8'), doc).metadata
    assert.equal(md.sampler, undefined, 'sampled in process')
    assert.equal(md.instructionSampler, signalSampled(minor) ? 'signal' : undefined)
    assertHotLine(doc, CALL_HOT_LINE, 'x = mul(a, b)')
    const ins = assertHotInstruction(doc, minor, CALL_HOT_LINE, CALL_OP(minor), 'mul(a, b)')!
    // 3.11+: the form the interpreter specialised the call to (a builtin's), read from the running code
    if (minor >= 11) assert.match(ins[0]!.specialized ?? '', /^(PRECALL|CALL)_/, JSON.stringify(ins[0]))
    else assert.equal(ins[0]!.specialized, undefined)
    assert.equal(report(doc, '--instructions').note, undefined, 'no bias note: exact where the signal sampler ran, and on 3.8/3.9')
  })

  test(`3.${minor} in process: a plain ${minor <= 10 ? 'BINARY_MULTIPLY' : 'BINARY_OP'} on big ints is named, not the loop's jump`, (t: TestContext) => {
    const python = requirePython(t, minor)
    if (python === undefined) return
    if (minor >= 10 && !signalSampled(minor)) return void t.skip('the signal sampler is Linux-only; elsewhere 3.10+ samples land at the next backward jump')
    const doc = profile(python, BINOP_FILE, true, `binop-${minor}-thread`)
    assert.equal(readProfileDocument(readFileSync(doc, 'utf8'), doc).metadata.instructionSampler, signalSampled(minor) ? 'signal' : undefined)
    assertHotLine(doc, BINOP_HOT_LINE, 'x = a * b')
    const ins = assertHotInstruction(doc, minor, BINOP_HOT_LINE, BINOP_OP(minor), 'a * b')!
    if (minor >= 11) assert.equal(ins[0]!.argrepr, '*')
  })
}

/** Two threads, each in its own hot loop: each thread's own timer notes its own frame. */
const THREADS_PROGRAM = `import threading


def left(n):
    a = 7 ** 30000
    b = 3 ** 30000
    for _ in range(n):
        x = a * b
        y = 0
    return x


def right(n):
    a = 5 ** 30000
    b = 11 ** 30000
    for _ in range(n):
        x = a * b
        y = 0
    return x


t = threading.Thread(target=right, args=(250,))
t.start()
left(250)
t.join()
`
const THREADS_FILE = join(DIR, 'hot_threads.py')
writeFileSync(THREADS_FILE, THREADS_PROGRAM)

for (const minor of [10, 11, 12, 13]) {
  test(`3.${minor} in process, two threads: each thread's hot BINARY_OP is its own`, (t: TestContext) => {
    const python = requirePython(t, minor)
    if (python === undefined) return
    if (!signalSampled(minor)) return void t.skip('the signal sampler is Linux-only')
    const doc = profile(python, THREADS_FILE, true, `threads-${minor}-thread`)
    const d = readProfileDocument(readFileSync(doc, 'utf8'), doc)
    assert.equal(d.metadata.instructionSampler, 'signal')
    const ins = report(doc, '--instructions').instructions!
    for (const [fn, line] of [['left', 8], ['right', 17]] as const) {
      const top = ins.find((i) => i.function.qualname === fn)
      assert.ok(top, `${fn}: no instruction samples: ${JSON.stringify(ins)}`)
      assert.match(top.opname, BINOP_OP(minor), `${fn}: ${JSON.stringify(top)}`)
      assert.equal(top.line, line)
    }
  })
}

/** Threads started one after another: glibc reuses an ended thread's stack, so its id too. */
const SEQUENTIAL_PROGRAM = `import threading


def work(n):
    a = 7 ** 30000
    b = 3 ** 30000
    for _ in range(n):
        x = a * b
        y = 0
    return x


idents = set()
for _ in range(6):
    t = threading.Thread(target=work, args=(40,))
    t.start()
    idents.add(t.ident)
    t.join()
print("threads", len(idents))
`
const SEQUENTIAL_FILE = join(DIR, 'hot_sequential.py')
writeFileSync(SEQUENTIAL_FILE, SEQUENTIAL_PROGRAM)

for (const minor of [10, 12]) {
  test(`3.${minor} in process, threads one after another (reused ids): the new thread gets the timer, its BINARY_OP is named`, (t: TestContext) => {
    const python = requirePython(t, minor)
    if (python === undefined) return
    if (!signalSampled(minor)) return void t.skip('the signal sampler is Linux-only')
    buildEngine(python)
    const out = join(DIR, `sequential-${minor}.json`)
    const stdout = cli(['profile', '--python', python, '--mode', 'sample', '--interval', '1ms', '-o', out, SEQUENTIAL_FILE])
    assert.match(stdout, /^threads \d+$/m)
    assert.equal(readProfileDocument(readFileSync(out, 'utf8'), out).metadata.instructionSampler, 'signal')
    const top = report(out, '--instructions').instructions!.find((i) => i.function.qualname === 'work')
    assert.ok(top, 'work has instruction samples')
    assert.match(top.opname, BINOP_OP(minor), JSON.stringify(top))
    assert.equal(top.line, 8)
  })
}

/** The signal sampler must not change what the program sees: forks, subprocesses, its own SIGPROF handler. */
const SAFETY_PROGRAM = `import os, signal, subprocess, sys


def burn(n):
    x = 0
    for i in range(n):
        x += i * i
    return x


burn(300000)
pid = os.fork()
if pid == 0:
    burn(2000000)  # the handler is inherited, no timer is: nothing may kill the child
    os._exit(7)
_, status = os.waitpid(pid, 0)
print("child", os.WEXITSTATUS(status) if os.WIFEXITED(status) else -os.WTERMSIG(status))
done = subprocess.run([sys.executable, "-c", "print(sum(i * i for i in range(2000000)) > 0)"], capture_output=True, text=True)
print("exec", done.returncode, done.stdout.strip())
`
const OWN_HANDLER_PROGRAM = `import signal

hits = []
signal.signal(signal.SIGPROF, lambda s, f: hits.append(s))


def work(n):
    a = 7 ** 30000
    b = 3 ** 30000
    for _ in range(n):
        x = a * b
    return x


work(100)
print("handler", signal.getsignal(signal.SIGPROF) is not signal.SIG_DFL, len(hits))
`
const SAFETY_FILE = join(DIR, 'safety.py')
const OWN_HANDLER_FILE = join(DIR, 'own_handler.py')
writeFileSync(SAFETY_FILE, SAFETY_PROGRAM)
writeFileSync(OWN_HANDLER_FILE, OWN_HANDLER_PROGRAM)

test('3.12 in process: the signal sampler leaves forks, subprocesses and a program\'s own SIGPROF handler alone', (t: TestContext) => {
  const python = requirePython(t, 12)
  if (python === undefined) return
  if (!signalSampled(12)) return void t.skip('the signal sampler is Linux-only')
  buildEngine(python)
  const out = join(DIR, 'safety-12.json')
  const stdout = cli(['profile', '--python', python, '--mode', 'sample', '--interval', '1ms', '-o', out, SAFETY_FILE])
  assert.match(stdout, /^child 7$/m, 'the forked child ran to its own exit')
  assert.match(stdout, /^exec 0 True$/m, 'a subprocess ran to its end')
  assert.equal(readProfileDocument(readFileSync(out, 'utf8'), out).metadata.instructionSampler, 'signal')
  const own = join(DIR, 'own-handler-12.json')
  assert.match(cli(['profile', '--python', python, '--mode', 'sample', '--interval', '1ms', '-o', own, OWN_HANDLER_FILE]), /^handler True 0$/m, "the program's handler kept, and no signal of pyxray's reached it")
  const md = readProfileDocument(readFileSync(own, 'utf8'), own).metadata
  assert.equal(md.instructionSampler, undefined)
  // the program's handler came before the sampler started (it starts on its own thread) or after
  const why = /SIGPROF already has a handler|the program put in its own SIGPROF handler/
  assert.match(md.instructionSamplerReason ?? '', why)
  assert.match(report(own, '--instructions').note ?? '', new RegExp(`did not run for this profile \\((${why.source})`))
})

test('3.12 in process with the C engine off: no signal sampler, and the report says where samples land', (t: TestContext) => {
  const python = requirePython(t, 12)
  if (python === undefined) return
  const out = join(DIR, 'binop-12-python.json')
  cli(['profile', '--python', python, '--mode', 'sample', '--interval', '1ms', '-q', '-o', out, BINOP_FILE], { ...ENV, PYXRAY_ACCEL: '0' })
  assert.equal(readProfileDocument(readFileSync(out, 'utf8'), out).metadata.instructionSampler, undefined)
  assert.match(report(out, '--instructions').note ?? '', /where it lets other threads run.*did not run for this profile/)
})

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
