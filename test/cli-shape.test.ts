/**
 * One command shape (issue #16): every command that writes one file takes `-o, --output FILE` and
 * treats it the same way (what stdout would get, written atomically, never over an input, checked
 * before anything runs); `pyxray help CMD` is `pyxray CMD --help`; `-` reads standard input where
 * a file is expected; old spellings work with a deprecation line; a flag that does not apply to
 * the format or the Python version is a warning, as is a pyxray option written after the script.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { type DisFlags, inapplicableDisFlags } from '../src/cli/dis-command.js'
import { COMMAND_NAMES, loadCommands, main, mainHelp } from '../src/cli/main.js'
import { optionsAfterTarget } from '../src/cli/profiler-options.js'
import { toProfileJson } from '../src/profile/document.js'
import { ALL_EXPORTERS as EXPORTERS } from '../src/pprof/index.js'
import { pythonOnPath } from '../src/runtime/index.js'
import { makeDoc } from './profile-docs.js'

const ROOT = join(import.meta.dirname, '..')
const MAIN = join(ROOT, 'src', 'cli', 'main.ts')
const TSX = import.meta.resolve('tsx')
const WORK = mkdtempSync(join(tmpdir(), 'pyxray-shape-'))
after(() => rmSync(WORK, { recursive: true, force: true }))
const at = (name: string) => join(WORK, name)

/** The CLI in a child process (stdin given as `input`). */
function pyxray(args: readonly string[], input?: string, cwd = ROOT) {
  const r = spawnSync(process.execPath, ['--import', TSX, MAIN, ...args], { encoding: 'utf8', cwd, input: input ?? '', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '' } })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** The CLI in this process. */
async function cli(...argv: string[]) {
  let stdout = ''
  let stderr = ''
  const code = await main(argv, { out: (t) => (stdout += t), err: (t) => (stderr += t) })
  return { code, stdout, stderr }
}

const PYC = at('hello.cpython-312.pyc')
const PYC39 = at('hello.cpython-39.pyc')
copyFileSync(join(ROOT, 'examples', 'hello.cpython-312.pyc'), PYC)
copyFileSync(join(ROOT, 'examples', 'hello.cpython-39.pyc'), PYC39)
const SOURCE = at('snippet.py')
writeFileSync(SOURCE, 'def f(x):\n    return x + 1\n')
const A = at('a.json')
const B = at('b.json')
writeFileSync(A, `${toProfileJson(makeDoc([['main', 1, 3000, [['work', 2, 2000]]]]))}\n`)
writeFileSync(B, `${toProfileJson(makeDoc([['main', 1, 4000, [['work', 2, 3000]]]]))}\n`)
const hasPython = pythonOnPath() !== undefined

test('pyxray help CMD prints what pyxray CMD --help prints, for every command; an unknown one is one line, exit 2', async () => {
  const commands = await loadCommands()
  const general = await mainHelp()
  assert.ok(commands.length >= 13)
  assert.deepEqual(commands.map((c) => c.name), COMMAND_NAMES, 'each command under its own name in the table')
  for (const c of commands) {
    const help = await cli('help', c.name)
    const flag = await cli(c.name, '--help')
    const short = await cli(c.name, '-h')
    assert.equal(help.code, 0, c.name)
    assert.equal(flag.code, 0, c.name)
    assert.equal(help.stdout, flag.stdout, `help ${c.name} = ${c.name} --help`)
    assert.equal(short.stdout, flag.stdout, `${c.name} -h = ${c.name} --help`)
    assert.match(help.stdout, new RegExp(`^Usage: pyxray ${c.name}\\b`), c.name)
    // The general help lists each command with its own summary (its first words).
    assert.ok(general.includes(`  ${c.name} `) && general.includes(c.summary.split(' ').slice(0, 4).join(' ')), `${c.name} in the general help`)
  }
  const unknown = await cli('help', 'disassemble')
  assert.equal(unknown.code, 2)
  assert.equal(unknown.stdout, '')
  assert.equal(unknown.stderr, 'pyxray: help: unknown command "disassemble": run pyxray --help for the list\n')
  assert.equal((await cli('help')).stdout, general)
})

test('the export help and --to read the registry: each format once, with its description', async () => {
  const help = (await cli('export', '--help')).stdout
  for (const e of EXPORTERS) {
    assert.equal(help.match(new RegExp(`^ {2}${e.name} +`, 'gm'))?.length, 1, `${e.name} listed once`)
    assert.ok(help.includes(e.description.split('\n')[0]!), e.name)
  }
  assert.match(help, new RegExp(`--to FORMAT +${EXPORTERS.slice(0, -1).map((e) => e.name).join(', ')} or ${EXPORTERS.at(-1)!.name}`))
  const bad = await cli('export', A, '--to', 'svg')
  assert.equal(bad.code, 2)
  assert.match(bad.stderr, new RegExp(`use one of ${EXPORTERS.map((e) => e.name).join(', ')}\\n$`))
})

/** A command that writes one file: its arguments, and the inputs -o must never be. */
interface OutputCase {
  readonly name: string
  readonly args: readonly string[]
  readonly inputs: readonly string[]
  /** What -o writes is what stdout gets without it (false: a document of its own, as mem's). */
  readonly sameAsStdout: boolean
  readonly python?: boolean
}

const OUTPUT_CASES: readonly OutputCase[] = [
  { name: 'dis (one .pyc)', args: ['dis', PYC, '--format', 'dis'], inputs: [PYC], sameAsStdout: true },
  { name: 'dis (one .pyc, text)', args: ['dis', PYC], inputs: [PYC], sameAsStdout: true },
  { name: 'dis (qualname)', args: ['dis', `${PYC}:greet`], inputs: [PYC], sameAsStdout: true },
  { name: 'stack', args: ['stack', PYC], inputs: [PYC], sameAsStdout: true },
  { name: 'code', args: ['code', PYC, '--format', 'json'], inputs: [PYC], sameAsStdout: true },
  { name: 'report', args: ['report', A], inputs: [A], sameAsStdout: true },
  { name: 'export', args: ['export', A, '--to', 'collapsed'], inputs: [A], sameAsStdout: true },
  { name: 'diff', args: ['diff', A, B], inputs: [A, B], sameAsStdout: true },
  { name: 'ast', args: ['ast', SOURCE], inputs: [SOURCE], sameAsStdout: true, python: true },
  { name: 'dis (source)', args: ['dis', SOURCE, '--format', 'dis'], inputs: [SOURCE], sameAsStdout: true, python: true },
  { name: 'compare', args: ['compare', `${SOURCE}:f`, SOURCE, '--no-run', '--format', 'json'], inputs: [SOURCE], sameAsStdout: true, python: true },
]

test('-o and --output FILE: what stdout would get, written atomically, the same for every command', async (t) => {
  let n = 0
  for (const c of OUTPUT_CASES) {
    if (c.python && !hasPython) {
      t.diagnostic(`${c.name}: skipped, no python3 on PATH`)
      continue
    }
    const plain = await cli(...c.args)
    assert.equal(plain.code, 0, `${c.name}: ${plain.stderr}`)
    for (const flag of ['-o', '--output']) {
      const file = at(`out-${n++}.txt`)
      const r = await cli(...c.args, flag, file)
      assert.equal(r.code, 0, `${c.name} ${flag}: ${r.stderr}`)
      assert.equal(r.stdout, '', `${c.name} ${flag}: nothing on stdout`)
      const written = readFileSync(file, 'utf8')
      assert.ok(written.length > 0, `${c.name} ${flag}: written`)
      if (c.sameAsStdout && !c.args.includes('compare')) assert.equal(written, plain.stdout, `${c.name} ${flag}: the file holds what stdout gets`)
      if (c.args.includes('compare')) assert.deepEqual(JSON.parse(written).sides.length, JSON.parse(plain.stdout).sides.length, c.name)
      assert.doesNotMatch(written, /\x1b\[/, `${c.name}: no colors in a file`)
    }
  }
  assert.deepEqual(readdirSync(WORK).filter((f) => f.includes('.tmp-')), [], 'no temporary file is left behind')
})

test('-o naming an input, a folder or a file in a missing folder is refused before anything runs: one line, exit 2', async (t) => {
  mkdirSync(at('a-folder'), { recursive: true })
  for (const c of OUTPUT_CASES) {
    if (c.python && !hasPython) {
      t.diagnostic(`${c.name}: skipped, no python3 on PATH`)
      continue
    }
    const before = c.inputs.map((f) => readFileSync(f))
    for (const [out, expected] of [
      [c.inputs[0]!, /-o .*: that is an input of this command .*; pyxray never overwrites its inputs$/],
      [at('a-folder'), /-o .*a-folder: that is a folder; give a file name$/],
      [at('missing/out.txt'), /-o .*out\.txt: folder .*missing does not exist$/],
    ] as const) {
      const r = await cli(...c.args, '-o', out)
      assert.equal(r.code, 2, `${c.name} -o ${out}: ${r.stderr}`)
      assert.equal(r.stdout, '', c.name)
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, `${c.name}: one line\n${r.stderr}`)
      assert.match(r.stderr.trimEnd(), expected, c.name)
    }
    c.inputs.forEach((f, k) => assert.deepEqual(readFileSync(f), before[k], `${c.name}: ${f} untouched`))
  }
  assert.ok(!existsSync(at('missing')))
})

test('mem and profile write their documents with -o/--output too, and never over the script', { skip: !hasPython && 'no python3 on PATH' }, () => {
  const mem = pyxray(['mem', 'size', '[1, 2, 3]', '--output', at('mem.json')])
  assert.equal(mem.code, 0, mem.stderr)
  assert.equal(JSON.parse(readFileSync(at('mem.json'), 'utf8')).kind, 'size')
  const dir = mkdtempSync(join(WORK, 'profile-'))
  writeFileSync(join(dir, 'app.py'), 'print(sum(range(100)))\n')
  const profile = pyxray(['profile', '-q', '--output', 'p.json', 'app.py'], undefined, dir)
  assert.equal(profile.code, 0, profile.stderr)
  assert.equal(JSON.parse(readFileSync(join(dir, 'p.json'), 'utf8')).pyxray, 'profile')
  const refused = pyxray(['profile', '-q', '-o', 'app.py', 'app.py'], undefined, dir)
  assert.equal(refused.code, 2)
  assert.match(refused.stderr, /-o app\.py: that is an input of this command/)
  assert.equal(readFileSync(join(dir, 'app.py'), 'utf8'), 'print(sum(range(100)))\n')
})

test('- reads standard input: source for dis, stack, code and ast; a profile for report, export and diff', async (t) => {
  const report = pyxray(['report', '-'], readFileSync(A, 'utf8'))
  assert.equal(report.code, 0, report.stderr)
  assert.equal(report.stdout.replace(/^profile +.*\n/m, ''), (await cli('report', A)).stdout.replace(/^profile +.*\n/m, ''))
  const exported = pyxray(['export', '-', '--to', 'collapsed'], readFileSync(A, 'utf8'))
  assert.equal(exported.stdout, (await cli('export', A, '--to', 'collapsed')).stdout)
  const diff = pyxray(['diff', A, '-', '--format', 'json'], readFileSync(B, 'utf8'))
  assert.equal(diff.code, 0, diff.stderr)
  assert.ok(JSON.parse(diff.stdout).functions.length > 0)
  const twice = pyxray(['diff', '-', '-'], '')
  assert.equal(twice.code, 2)
  assert.match(twice.stderr, /^pyxray: only one of the two profiles can be - \(standard input\)\n$/)
  if (!hasPython) {
    t.diagnostic('source on stdin: skipped, no python3 on PATH')
    return
  }
  const dis = pyxray(['dis', '-'], 'x = 1\n')
  assert.equal(dis.code, 0, dis.stderr)
  assert.match(dis.stdout, /^<module> {2}<stdin>:1 /)
  assert.match(dis.stdout, /STORE_NAME +0 \(x\)/)
  const disFormat = pyxray(['dis', '-', '--format', 'dis'], 'x = 1\n')
  assert.equal(disFormat.stdout, (await cli('dis', '-c', 'x = 1\n', '--format', 'dis')).stdout)
  for (const command of ['stack', 'code', 'ast']) {
    const r = pyxray([command, '-'], 'def f(x):\n    return x + 1\n')
    assert.equal(r.code, 0, `${command} -: ${r.stderr}`)
    // The same, but for the file name (<stdin> for -, <string> for -c) and the padding after it.
    const squeeze = (text: string) => text.replace(/ at 0x[0-9a-f]+/g, ' at 0x').replace(/ +/g, ' ')
    assert.equal(squeeze(r.stdout), squeeze((await cli(command, '-c', 'def f(x):\n    return x + 1\n')).stdout.replaceAll('<string>', '<stdin>')), command)
  }
  const bad = pyxray(['dis', '-'], 'x = (\n')
  assert.equal(bad.code, 2)
  assert.match(bad.stderr, /^<stdin>:1:\d+: SyntaxError: /)
})

test('old spellings keep working with one deprecation line on stderr', async (t) => {
  const report = await cli('report', A, '--out', at('old-report.txt'))
  assert.equal(report.code, 0)
  assert.equal(report.stderr, 'pyxray report: warning: --out is deprecated: use -o/--output FILE\n')
  assert.equal(readFileSync(at('old-report.txt'), 'utf8'), (await cli('report', A)).stdout)
  for (const args of [['export', A, '--to', 'chrome'], ['diff', A, B], ['stack', PYC], ['code', PYC]]) {
    const r = await cli(...args, '--out', at(`old-${args[0]}.txt`))
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stderr, `pyxray ${args[0]}: warning: --out is deprecated: use -o/--output FILE\n`)
    assert.ok(existsSync(at(`old-${args[0]}.txt`)))
  }
  const both = await cli('report', A, '--out', at('x.txt'), '-o', at('y.txt'))
  assert.equal(both.code, 2)
  assert.match(both.stderr, /give -o\/--output once/)
  // dis --out DIR and -o DIR for several inputs: the old folder output, now --out-dir.
  const dir = at('dis-out')
  const dis = await cli('dis', PYC, PYC39, '--format', 'dis', '--out', dir)
  assert.equal(dis.code, 0, dis.stderr)
  assert.match(dis.stderr, /^pyxray dis: warning: --out is deprecated: use --out-dir DIR \(one file per input\) or -o\/--output FILE \(one output file\)\n/)
  assert.deepEqual(readdirSync(dir).sort(), ['hello.cpython-312.dis.txt', 'hello.cpython-39.dis.txt'])
  const dashO = await cli('dis', PYC, PYC39, '--format', 'dis', '-o', dir)
  assert.match(dashO.stderr, /^pyxray dis: warning: -o DIR for one file per input is deprecated: use --out-dir DIR\n/)
  const quiet = await cli('dis', PYC, PYC39, '--format', 'dis', '--out-dir', at('dis-out-2'), '-q')
  assert.equal(quiet.code, 0)
  assert.equal(quiet.stderr, '', '--out-dir: no deprecation; -q: no summary')
  assert.equal(readFileSync(join(at('dis-out-2'), 'hello.cpython-312.dis.txt'), 'utf8'), readFileSync(join(dir, 'hello.cpython-312.dis.txt'), 'utf8'))
  // Several inputs and -o FILE: everything stdout would get, in one file.
  const one = await cli('dis', PYC, PYC39, '--format', 'dis', '-o', at('both.dis.txt'))
  assert.equal(one.code, 0, one.stderr)
  assert.equal(readFileSync(at('both.dis.txt'), 'utf8'), (await cli('dis', PYC, PYC39, '--format', 'dis')).stdout)
  if (!hasPython) return t.diagnostic('profile --out: skipped, no python3 on PATH')
  const cwd = mkdtempSync(join(WORK, 'old-profile-'))
  const profile = pyxray(['profile', '--out', 'x.json', '-q', '-c', 'pass'], undefined, cwd)
  assert.equal(profile.code, 0, profile.stderr)
  assert.match(profile.stderr, /^pyxray profile: warning: --out is deprecated: use -o\/--output FILE$/m)
  assert.ok(existsSync(join(cwd, 'x.json')), '--out x.json wrote x.json')
  assert.doesNotMatch(profile.stderr, /usage: python -m pyxray/)
})

test('a flag that does not apply to the version or the format is a one-line warning, not silence', async () => {
  const positions = await cli('dis', PYC, '--format', 'dis', '--show-positions')
  assert.equal(positions.code, 0)
  assert.equal(positions.stderr, "pyxray dis: warning: --show-positions: CPython 3.12's dis has no show_positions (3.14+); ignored\n")
  assert.equal(positions.stdout, (await cli('dis', PYC, '--format', 'dis')).stdout)
  const caches = await cli('dis', PYC39, '--show-caches')
  assert.equal(caches.stderr, 'pyxray dis: warning: --show-caches: CPython 3.9 has no inline caches (3.11+); ignored\n')
  const offsets = await cli('dis', PYC, '--show-offsets')
  assert.equal(offsets.stderr, 'pyxray dis: warning: --show-offsets applies to --format dis; ignored for text\n')
  // Several files: each warning once.
  const many = await cli('dis', PYC39, join(ROOT, 'examples', 'hello.cpython-38.pyc'), '--show-caches', '--format', 'dis')
  assert.equal(many.stderr.match(/warning/g)?.length, 1, many.stderr)
  const none = await cli('dis', join(ROOT, 'examples', 'hello.cpython-314.pyc'), '--format', 'dis', '--show-positions', '--show-offsets', '--show-caches')
  assert.doesNotMatch(none.stderr, /warning/, '3.14 has all three')
  const stack = await cli('stack', PYC, '--format', 'json', '--explain')
  assert.equal(stack.stderr, 'pyxray stack: warning: --explain applies to the text format; ignored for json\n')
  const report = await cli('report', A, '--format', 'json', '--width', '80')
  assert.equal(report.stderr, 'pyxray report: warning: --width and --color apply to the text format; ignored for json\n')
})

test('which dis flags apply, by format and CPython version (show_caches 3.11+, show_offsets 3.13+, show_positions 3.14+)', () => {
  const all: DisFlags = { format: 'dis', showCaches: true, showOffsets: true, showPositions: true, explain: false }
  const flagsOf = (minor: number, f: DisFlags = all) => inapplicableDisFlags(f, minor).map((l) => l.split(/[: ]/)[0])
  assert.deepEqual(flagsOf(10), ['--show-caches', '--show-offsets', '--show-positions'])
  assert.deepEqual(flagsOf(11), ['--show-offsets', '--show-positions'])
  assert.deepEqual(flagsOf(13), ['--show-positions'])
  assert.deepEqual(flagsOf(14), [])
  assert.deepEqual(flagsOf(14, { ...all, format: 'json' }), ['--show-caches', '--show-offsets', '--show-positions'])
  assert.deepEqual(flagsOf(14, { ...all, format: 'text', showCaches: false, explain: true }), ['--show-offsets', '--show-positions'])
  assert.deepEqual(flagsOf(14, { ...all, format: 'json', showCaches: false, showOffsets: false, showPositions: false, explain: true }), ['--explain'])
})

test("options written after the script go to the script, with a warning naming them", () => {
  assert.deepEqual(optionsAfterTarget(['-c', 'pass', '-q', '-o', 'c.json']), ['-q', '-o'])
  assert.deepEqual(optionsAfterTarget(['--memory', 'app.py', '--verbose', '--top', '3', '--mode=sample', '-h']), ['--verbose', '--top', '--mode'])
  assert.deepEqual(optionsAfterTarget(['-o', 'x.json', 'app.py', 'data.txt']), [], 'options before the script')
  assert.deepEqual(optionsAfterTarget(['--', 'app.py', '-q']), [], 'the script marked with --')
  assert.deepEqual(optionsAfterTarget(['-m', 'json.tool', '-o', 'x']), ['-o'])
})

test('profile -c … -q -o c.json: -q and -o reach the code, and a warning says so; errors name pyxray profile', { skip: !hasPython && 'no python3 on PATH' }, () => {
  const cwd = mkdtempSync(join(WORK, 'late-'))
  const r = pyxray(['profile', '-c', 'import sys; print(sys.argv[1:])', '-q', '-o', 'c.json'], undefined, cwd)
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stdout, "['-q', '-o', 'c.json']\n", 'the code got them')
  assert.match(r.stderr, /^pyxray profile: warning: -q and -o come after the script and go to it, not to pyxray: put pyxray's options before the script \(or mark the script with --\)$/m)
  assert.ok(existsSync(join(cwd, 'pyxray-profile.json')) && !existsSync(join(cwd, 'c.json')), 'the profile went to the default file')
  const bad = pyxray(['profile', '--mode', 'often', '-c', 'pass'], undefined, cwd)
  assert.equal(bad.code, 2)
  assert.match(bad.stderr, /^usage: pyxray profile /m)
  assert.match(bad.stderr, /^pyxray profile: error: argument --mode: invalid choice/m)
  assert.doesNotMatch(bad.stderr, /python -m pyxray/)
})

test('in Pyodide too, a usage error of the profiler names pyxray profile and exits 2 (no traceback)', () => {
  const cwd = mkdtempSync(join(WORK, 'pyodide-'))
  writeFileSync(join(cwd, 'app.py'), 'pass\n')
  const bad = pyxray(['profile', '--runtime', 'pyodide', '--clock', 'sundial', 'app.py'], undefined, cwd)
  assert.equal(bad.code, 2, bad.stderr)
  assert.match(bad.stderr, /^usage: pyxray profile /m)
  assert.match(bad.stderr, /^pyxray profile: error: argument --clock: invalid choice/m)
  assert.doesNotMatch(bad.stderr, /Traceback|python -m pyxray/)
})
