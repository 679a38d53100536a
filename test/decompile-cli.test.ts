/**
 * `pyxray decompile`: bad input exits 2 with one line (through the real CLI); the .py self-check,
 * .pyc and folder targets, -o, --out-dir, --verify, --fail-under and --format json with the source
 * oracle (a decompiler returning the original source) and a deliberately wrong one, against real
 * interpreters (through the command's injection point: the core decompiler is wired in at one
 * line, src/cli/decompiler.ts).
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { type DecompileOptions, mirroredPaths, runDecompile } from '../src/cli/decompile.js'
import type { Console } from '../src/cli/io.js'
import { main } from '../src/cli/main.js'
import type { Decompiler } from '../src/decompile/types.js'
import { SAMPLE } from './decompile-sample.js'
import { NATIVE_MINORS, pythonFor, requirePython } from './pyenv.js'

const MAIN = join(import.meta.dirname, '..', 'src', 'cli', 'main.ts')
const TSX = import.meta.resolve('tsx')
const work = mkdtempSync(join(tmpdir(), 'pyxray-decompile-'))
after(() => rmSync(work, { recursive: true, force: true }))

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', TSX, MAIN, 'decompile', ...args], { encoding: 'utf8', cwd: work })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

function capture(): { con: Console; out: () => string; err: () => string } {
  const out: string[] = []
  const err: string[] = []
  return { con: { out: (t) => out.push(t), err: (t) => err.push(t) }, out: () => out.join(''), err: () => err.join('') }
}

/** A decompiler that returns `source` for any module (the oracle when it is the original text). */
const returning =
  (source: string, units: ReturnType<Decompiler>['units'] = []): Decompiler =>
  () => ({ source, units })

/** The source oracle for .pyc files: the text of the file at co_filename. */
const oracle: Decompiler = (code) => ({ source: readFileSync(code.filename, 'utf8'), units: [] })

const options = (target: string, more: Partial<DecompileOptions> = {}): DecompileOptions => ({ target, verify: false, format: 'text', runtime: { verbose: false }, ...more })

test('decompile: bad input exits 2 with one line', async () => {
  mkdirSync(join(work, 'folder'), { recursive: true })
  writeFileSync(join(work, 'notes.txt'), 'hello\n')
  writeFileSync(join(work, 'bad.pyc'), 'not bytecode at all\n')
  writeFileSync(join(work, 'good.py'), 'x = 1\n')
  const cases: [string[], RegExp][] = [
    [['missing.pyc'], /missing\.pyc: no such file or folder/],
    [['notes.txt'], /notes\.txt: not a \.pyc, a \.py or a folder/],
    [['folder', '-o', 'out.py'], /-o FILE takes the source of one file; for the folder \S*folder use --out-dir DIR/],
    [['folder'], /a folder needs --out-dir DIR/],
    [['folder', '--out-dir', 'folder/inside'], /inside the folder decompiled/],
    [['bad.pyc'], /bad\.pyc: .*magic/i],
    [['bad.pyc', '-o', 'bad.pyc'], /never overwrites its inputs/],
    [['good.py', '--out-dir', 'x'], /--out-dir is for a folder/],
    [['good.py', '--fail-under', '101', '--verify'], /--fail-under takes a number from 0 to 100/],
    [['bad.pyc', '--fail-under', '50'], /--fail-under needs --verify/],
    [['bad.pyc', '--format', 'xml'], /unknown format "xml"/],
    [[], /decompile needs one TARGET/],
    [['a.pyc', 'b.pyc'], /decompile needs one TARGET/],
  ]
  const check = (what: string, r: { status: number | null; stdout: string; stderr: string }, message: RegExp) => {
    assert.equal(r.status, 2, `${what}: ${r.stderr}`)
    assert.equal(r.stdout, '', what)
    assert.equal(r.stderr.split('\n').length, 2, `one line for ${what}: ${r.stderr}`)
    assert.match(r.stderr, /^pyxray: /)
    assert.match(r.stderr, message, what)
  }
  // In this process through the CLI's main (paths under the work folder) …
  for (const [args, message] of cases) {
    const c = capture()
    const absolute = args.map((a) => (a.startsWith('-') || /^\d+$/.test(a) || a === 'xml' ? a : join(work, a)))
    const status = await main(['decompile', ...absolute], c.con)
    check(args.join(' '), { status, stdout: c.out(), stderr: c.err() }, message)
  }
  // … and three as a process: the exit status and stderr as a shell sees them.
  for (const [args, message] of cases.slice(0, 3)) check(`process: ${args.join(' ')}`, cli(...args), message)
  assert.equal(readFileSync(join(work, 'bad.pyc'), 'utf8'), 'not bytecode at all\n', 'the input is untouched')
})

test('decompile: help and the command table', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'decompile', '--help'], { encoding: 'utf8' })
  assert.equal(r.status, 0)
  assert.match(r.stdout, /^Usage: pyxray decompile TARGET/)
  assert.match(r.stdout, /--fail-under PCT/)
  const all = spawnSync(process.execPath, ['--import', 'tsx', MAIN, '--help'], { encoding: 'utf8' })
  assert.match(all.stdout, /decompile/)
})

test('decompile: mirrored output paths', () => {
  assert.deepEqual(mirroredPaths(['a/__pycache__/m.cpython-312.pyc', 'b.pyc', 'c/__pycache__/n.cpython-312.opt-1.pyc']), ['a/m.py', 'b.py', 'c/n.py'])
  assert.deepEqual(mirroredPaths(['__pycache__/m.cpython-311.pyc', '__pycache__/m.cpython-312.pyc']), ['__pycache__/m.cpython-311.py', '__pycache__/m.cpython-312.py'])
})

for (const minor of NATIVE_MINORS) {
  test(`decompile 3.${minor}: a .py checks itself (the oracle: all equivalent; one token changed: differs, --fail-under)`, async (t) => {
    const python = requirePython(t, minor)
    if (python === undefined) return
    const dir = mkdtempSync(join(work, `py${minor}-`))
    const file = join(dir, 'sample.py')
    writeFileSync(file, SAMPLE)
    const runtime = { python, verbose: false }

    const same = capture()
    assert.equal(await runDecompile(options(file, { runtime }), same.con, returning(SAMPLE)), 0, same.err())
    const lines = same.out().trimEnd().split('\n')
    assert.match(lines[0]!, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: CPython 3\\.${minor}, recompiled by native CPython 3\\.${minor}\\.`))
    const verdicts = lines.slice(1, -1)
    assert.ok(verdicts.length >= 8)
    for (const l of verdicts) assert.match(l, /^ {2}equivalent {5}\S.* \(line \d+\)$/)
    assert.match(lines.at(-1)!, new RegExp(`^${verdicts.length} code objects in 1 file: ${verdicts.length} equivalent \\(100\\.0 %\\), 0 differ \\(0\\.0 %\\), 0 not recovered \\(0\\.0 %\\); output compiles for 1/1 files$`))

    const wrong = capture()
    const gate = { runtime, failUnder: 100 }
    assert.equal(await runDecompile(options(file, gate), wrong.con, returning(SAMPLE.replace('item * 7', 'item * 8'))), 1)
    const differing = wrong.out().split('\n').filter((l) => l.startsWith('  differs'))
    assert.equal(differing.length, 1, wrong.out())
    assert.match(differing[0]!, /: argument at byte \d+ \(instruction \d+\): expected (LOAD_CONST|LOAD_SMALL_INT) 7, got (LOAD_CONST|LOAD_SMALL_INT) 8$/)
    assert.match(wrong.err(), /% of code objects equivalent, under --fail-under 100\n$/)
    // The same run without the gate passes.
    assert.equal(await runDecompile(options(file, { runtime }), capture().con, returning(SAMPLE.replace('item * 7', 'item * 8'))), 0)
  })
}

/** The first version installed, for the tests that need one interpreter. */
function anyPython(t: import('node:test').TestContext): { python: string; minor: number } | undefined {
  const minor = NATIVE_MINORS.find((m) => pythonFor(m) !== undefined)
  if (minor === undefined) {
    requirePython(t, NATIVE_MINORS.at(-1)!)
    return undefined
  }
  return { python: pythonFor(minor)!, minor }
}

test('decompile: a .pyc to -o FILE, verified; not-recovered units and a crashing decompiler are reported', async (t) => {
  const found = anyPython(t)
  if (found === undefined) return
  const { python, minor } = found
  const dir = mkdtempSync(join(work, 'pyc-'))
  const src = join(dir, 'mod.py')
  writeFileSync(src, SAMPLE)
  assert.equal(spawnSync(python, ['-m', 'py_compile', src]).status, 0)
  const pyc = join(dir, '__pycache__', `mod.cpython-3${minor}.pyc`)
  assert.ok(existsSync(pyc))

  // Without --verify: the source to -o, nothing on stdout.
  const out = join(dir, 'out.py')
  const plain = capture()
  assert.equal(await runDecompile(options(pyc, { output: out }), plain.con, oracle), 0)
  assert.equal(plain.out(), '')
  assert.equal(readFileSync(out, 'utf8'), SAMPLE)
  // To stdout.
  const stdout = capture()
  assert.equal(await runDecompile(options(pyc), stdout.con, oracle), 0)
  assert.equal(stdout.out(), SAMPLE)

  // --verify: the report; outer not recovered takes its nested code objects with it.
  const units = [{ qualname: 'outer', firstLine: 5, status: 'not-recovered' as const, reason: 'try/finally' }]
  const verified = capture()
  assert.equal(await runDecompile(options(pyc, { verify: true }), verified.con, returning(SAMPLE, units)), 0)
  const text = verified.out()
  assert.match(text, /\n {2}not recovered {2}outer \(line 5\): try\/finally\n/)
  assert.match(text, /\n {2}not recovered {2}\S+ \(line \d+\): inside outer, which was not recovered\n/)
  assert.match(text, /\n {2}equivalent {5}fetch \(line \d+\)\n/)
  assert.match(text, /not recovered \([1-9]\d?\.\d %\); output compiles for 1\/1 files\n$/)

  // A decompiler that throws: reported, the run goes on (exit 0 without a gate, 1 under one).
  const crashing: Decompiler = () => {
    throw new Error('unexpected opcode')
  }
  const crashed = capture()
  assert.equal(await runDecompile(options(pyc, { verify: true, failUnder: 1 }), crashed.con, crashing), 1)
  assert.match(crashed.out(), /\n {2}the decompiler failed: unexpected opcode\n/)
  assert.match(crashed.out(), /; 1 decompiler crash\n$/)

  // Output that does not compile.
  const broken = capture()
  assert.equal(await runDecompile(options(pyc, { verify: true }), broken.con, returning('def (:\n')), 0)
  assert.match(broken.out(), /\n {2}the output does not compile: SyntaxError: .*\(line 1/)
  assert.match(broken.out(), /\n {2}differs {8}<module> \(line 1\): compile: expected source that compiles, got SyntaxError/)
  assert.match(broken.out(), /output compiles for 0\/1 files\n$/)
})

test('decompile: a folder to --out-dir, mirrored, verified as JSON', async (t) => {
  const found = anyPython(t)
  if (found === undefined) return
  const { python } = found
  const dir = mkdtempSync(join(work, 'tree-'))
  const tree = join(dir, 'project')
  mkdirSync(join(tree, 'pkg'), { recursive: true })
  writeFileSync(join(tree, 'top.py'), SAMPLE)
  writeFileSync(join(tree, 'pkg', '__init__.py'), '')
  writeFileSync(join(tree, 'pkg', 'leaf.py'), 'def leaf(x):\n    return [y for y in x if y > 1]\n')
  assert.equal(spawnSync(python, ['-m', 'compileall', '-q', tree]).status, 0)
  const outDir = join(dir, 'recovered')
  const run = capture()
  assert.equal(await runDecompile(options(tree, { outDir, verify: true, format: 'json' }), run.con, oracle), 0, run.err())
  assert.equal(readFileSync(join(outDir, 'top.py'), 'utf8'), SAMPLE)
  assert.equal(readFileSync(join(outDir, 'pkg', 'leaf.py'), 'utf8'), 'def leaf(x):\n    return [y for y in x if y > 1]\n')
  assert.equal(readFileSync(join(outDir, 'pkg', '__init__.py'), 'utf8'), '')
  const doc = JSON.parse(run.out()) as { pyxray: string; files: { path: string; output: string; compiles: boolean; verdicts: { status: string }[] }[]; summary: { files: number; codes: number; equivalent: number } }
  assert.equal(doc.pyxray, 'decompile')
  assert.equal(doc.files.length, 3)
  assert.equal(doc.summary.files, 3)
  assert.ok(doc.summary.codes >= 11)
  assert.equal(doc.summary.equivalent, doc.summary.codes)
  for (const f of doc.files) {
    assert.equal(f.compiles, true)
    assert.ok(f.verdicts.every((v) => v.status === 'equivalent'))
  }

  // Without --verify: the sources only, and a count.
  const again = join(dir, 'again')
  const quiet = capture()
  assert.equal(await runDecompile(options(tree, { outDir: again }), quiet.con, oracle), 0)
  assert.equal(quiet.out(), `3 of 3 files decompiled into ${again}\n`)
  assert.equal(readFileSync(join(again, 'top.py'), 'utf8'), SAMPLE)
})
