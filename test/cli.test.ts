/**
 * `pyxray dis` end to end: the real command in a child process, on the bundled examples and on
 * broken files. Fidelity to CPython is proven by the fixture and stdlib tests; this checks the
 * command's contract (formats, folders, --out-dir, errors, exit codes, colors).
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import { test } from 'node:test'
import { formatDis, toCodeObject } from '../src/bytecode/index.js'
import { readPyc } from '../src/pyc/index.js'
import { listRuntimes } from '../src/server/server.js'
import { isSupportedMinor, MAX_MINOR, MIN_MINOR } from '../src/versions/index.js'
import { requirePython } from './pyenv.js'
import { requireResource } from './resources.js'

const MAIN = join(import.meta.dirname, '..', 'src', 'cli', 'main.ts')
const EXAMPLES = join(import.meta.dirname, '..', 'examples')

function pyxray(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '', FORCE_COLOR: undefined, ...env },
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

const example = (minor: number) => join(EXAMPLES, `hello.cpython-3${minor}.pyc`)

test('dis --format dis prints what the library prints, for every bundled version', () => {
  for (const minor of [8, 9, 10, 11, 12, 13]) {
    const r = pyxray(['dis', example(minor), '--format', 'dis'])
    assert.equal(r.code, 0, r.stderr)
    const pyc = readPyc(new Uint8Array(readFileSync(example(minor))))
    assert.equal(r.stdout, formatDis(toCodeObject(pyc.code, minor)))
    assert.match(r.stdout, /Disassembly of <code object greet at 0x[0-9a-f]+, file "hello.py", line 4>:/)
  }
})

test('the default text format shows source lines above their instructions, without colors off a TTY', () => {
  const r = pyxray(['dis', example(12)])
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /^ {2}4 │ def greet\(names, punctuation="!"\):$/m)
  assert.match(r.stdout, /^greet {2}hello\.py:4 {2}Python 3\.12/m)
  assert.doesNotMatch(r.stdout, /\x1b\[/)
  const colored = pyxray(['dis', example(12), '--color'])
  assert.match(colored.stdout, /\x1b\[/)
  const noColor = pyxray(['dis', example(12), '--color'], { NO_COLOR: '1' })
  assert.match(noColor.stdout, /\x1b\[/, '--color wins over NO_COLOR')
})

test('--format json holds every code object with decoded instructions', () => {
  const r = pyxray(['dis', example(13), '--format', 'json'])
  assert.equal(r.code, 0, r.stderr)
  const doc = JSON.parse(r.stdout)
  assert.equal(doc.pythonVersion, '3.13')
  assert.equal(doc.header.release, '3.13')
  assert.equal(doc.code.qualname, '<module>')
  const greet = doc.code.children.find((c: { qualname: string }) => c.qualname === 'greet')
  assert.ok(greet)
  assert.deepEqual(greet.varnames.slice(0, 2), ['names', 'punctuation'])
  assert.ok(greet.instructions.some((i: { opname: string }) => i.opname === 'LOAD_FAST'))
  assert.ok(greet.exceptionEntries.length > 0)
  const first = greet.instructions[0]
  assert.equal(typeof first.position.line, 'number')
})

test('a folder: every .pyc, one bad file reported with its byte offset, the rest still written with --out-dir', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pyxray-cli-'))
  const src = join(dir, 'in')
  const out = join(dir, 'out')
  copyFileSync(example(11), join(dir, 'x.pyc'))
  spawnSync('mkdir', ['-p', join(src, 'pkg')])
  copyFileSync(example(11), join(src, 'good.cpython-311.pyc'))
  copyFileSync(example(13), join(src, 'pkg', 'good.cpython-313.pyc'))
  const bytes = readFileSync(example(12))
  writeFileSync(join(src, 'pkg', 'cut.cpython-312.pyc'), bytes.subarray(0, 200))
  writeFileSync(join(src, 'magic.pyc'), Buffer.from('not a pyc file at all'))
  const r = pyxray(['dis', src, '--format', 'dis', '--out-dir', out])
  assert.equal(r.code, 2)
  const errors = r.stderr.trim().split('\n')
  assert.equal(errors.length, 3, r.stderr)
  assert.match(errors[0]!, /magic\.pyc: PYC_BAD_MAGIC at byte 0: unknown magic number/)
  assert.match(errors[1]!, /cut\.cpython-312\.pyc: PYC_BAD_DATA at byte \d+: /)
  assert.match(errors[2]!, /4 file\(s\), 2 disassembled, 2 failed/)
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace')
  assert.deepEqual(readdirSync(out).sort(), ['good.cpython-311.dis.txt', 'pkg'])
  assert.deepEqual(readdirSync(join(out, 'pkg')), ['good.cpython-313.dis.txt'])
  assert.ok(!existsSync(join(out, 'pkg', 'cut.cpython-312.dis.txt')))
})

test('a folder with broken symlinks, symlink loops and a FIFO: each reported on one line and skipped, the good files still done, exit 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pyxray-cli-walk-'))
  const src = join(dir, 'in')
  const out = join(dir, 'out')
  mkdirSync(join(src, 'sub'), { recursive: true })
  copyFileSync(example(11), join(src, 'good.cpython-311.pyc'))
  copyFileSync(example(13), join(src, 'sub', 'good.cpython-313.pyc'))
  symlinkSync(join(dir, 'missing.pyc'), join(src, 'broken.pyc'))
  symlinkSync('.', join(src, 'a')) // a -> .
  symlinkSync('a', join(src, 'b')) // b -> a
  symlinkSync('self', join(src, 'self')) // ELOOP
  assert.equal(spawnSync('mkfifo', [join(src, 'pipe.pyc')]).status, 0, 'mkfifo')
  // An unreadable folder: chmod 000 does not stop root (as the tests run here), so only when not root.
  const root = process.getuid?.() === 0
  if (!root) {
    mkdirSync(join(src, 'z-locked'))
    copyFileSync(example(11), join(src, 'z-locked', 'x.pyc'))
    spawnSync('chmod', ['000', join(src, 'z-locked')])
  }
  const r = pyxray(['dis', src, '--format', 'dis', '--out-dir', out])
  assert.equal(r.code, 2, r.stderr)
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace')
  const lines = r.stderr.trim().split('\n')
  const expected = [
    `pyxray dis: ${join(src, 'a')}: skipped: symlink loop (leads back to ${src})`,
    `pyxray dis: ${join(src, 'b')}: skipped: symlink loop (leads back to ${src})`,
    `pyxray dis: ${join(src, 'broken.pyc')}: skipped: broken symlink (to ${join(dir, 'missing.pyc')}, which does not exist)`,
    `pyxray dis: ${join(src, 'pipe.pyc')}: skipped: a FIFO, not a regular file`,
    `pyxray dis: ${join(src, 'self')}: skipped: symlink loop (ELOOP)`,
    ...(root ? [] : [`pyxray dis: ${join(src, 'z-locked')}: skipped: cannot read the folder (EACCES)`]),
    `pyxray dis: 2 file(s), 2 disassembled, 0 failed, ${root ? 5 : 6} skipped, written to ${out}`,
  ]
  assert.deepEqual(lines, expected)
  assert.deepEqual(readdirSync(out).sort(), ['good.cpython-311.dis.txt', 'sub'])
  assert.deepEqual(readdirSync(join(out, 'sub')), ['good.cpython-313.dis.txt'])
  // To stdout, the same: each good file once (the loops are not walked again).
  const printed = pyxray(['dis', src, '--format', 'dis'])
  assert.equal(printed.code, 2)
  assert.equal(printed.stdout.match(/^==> /gm)?.length, 2)
  if (!root) spawnSync('chmod', ['755', join(src, 'z-locked')])
})

test('raw marshal data with --python-version', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pyxray-cli-'))
  const raw = join(dir, 'code.marshal')
  writeFileSync(raw, readFileSync(example(10)).subarray(16))
  const r = pyxray(['dis', raw, '--python-version', '3.10', '--format', 'dis'])
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stdout, pyxray(['dis', example(10), '--format', 'dis']).stdout)
  const bad = pyxray(['dis', raw, '--python-version', '3.99'])
  assert.equal(bad.code, 2)
  assert.match(bad.stderr, /unknown Python version "3\.99"/)
})

test('usage errors: one line, exit 2, no stack trace', () => {
  for (const args of [['dis', '--bogus', 'x'], ['dis'], ['dis', '/no/such/file.pyc'], ['dis', example(12), '--format', 'yaml'], ['frobnicate']]) {
    const r = pyxray(args)
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
    assert.match(r.stderr, /^pyxray: /)
  }
  const help = pyxray(['dis', '--help'])
  assert.equal(help.code, 0)
  assert.match(help.stdout, /--show-caches/)
})

/** An old pyenv interpreter (2.7, 3.6, 3.7) to be refused, or undefined. */
function pyenvOld(version: string): string | undefined {
  const versions = join(process.env.PYENV_ROOT ?? join(homedir(), '.pyenv'), 'versions')
  const found = existsSync(versions) ? readdirSync(versions).filter((v) => v.startsWith(`${version}.`)).sort() : []
  const dir = found.at(-1)
  return [dir && join(versions, dir, 'bin', 'python3'), dir && join(versions, dir, 'bin', 'python')].find((p): p is string => !!p && existsSync(p))
}

test('an unsupported interpreter is refused up front by every command: one line (what and what to do), exit 2', async (t) => {
  const [py27, py36, py37] = ['2.7', '3.6', '3.7'].map(pyenvOld)
  if (!py27 || !py36 || !py37) {
    const reason = `pyenv's 2.7, 3.6 and 3.7 are needed (found: ${[py27, py36, py37].filter(Boolean).join(', ') || 'none'})`
    requireResource(t, reason)
    return
  }
  const dir = mkdtempSync(join(tmpdir(), 'pyxray-unsupported-'))
  const script = join(dir, 'x.py')
  writeFileSync(script, 'print("hi")\n')
  const range = `3\\.${MIN_MINOR}–3\\.${MAX_MINOR}`
  const cases: { args: string[]; env?: Record<string, string>; says: RegExp }[] = [
    { args: ['profile', '--python', '3.6', script], says: new RegExp(`^pyxray: --python 3\\.6: pyxray runs on CPython ${range}: pass --python 3\\.X`) },
    { args: ['profile', '--python', '2.7', script], says: /^pyxray: --python 2\.7: pyxray runs on CPython / },
    { args: ['profile', '--python', '3.99', script], says: /^pyxray: --python 3\.99: pyxray runs on CPython / },
    { args: ['profile', '--python', py37, script], says: new RegExp(`^pyxray: --python .* is CPython 3\\.7\\.\\d+; pyxray runs on CPython ${range}: pass --python 3\\.X`) },
    { args: ['profile', '--python', py27, script], says: /^pyxray: --python .* is CPython 2\.7\.\d+; pyxray runs on CPython / },
    { args: ['profile', '--repeat', '2', '--python', py36, script], says: /is CPython 3\.6\.\d+; pyxray runs on CPython / },
    { args: ['profile', script], env: { PYXRAY_PYTHON: py36 }, says: /^pyxray: PYXRAY_PYTHON=.* is CPython 3\.6\.\d+; pyxray runs on CPython / },
    { args: ['mem', 'size', '--python', '3.7', script], says: /^pyxray: --python 3\.7: pyxray runs on CPython / },
    { args: ['mem', 'size', script], env: { PYXRAY_PYTHON: py27 }, says: /^pyxray: PYXRAY_PYTHON=.* is CPython 2\.7\.\d+; / },
    { args: ['dis', script, '--python', py36], says: /^pyxray: --python .* is CPython 3\.6\.\d+; / },
    { args: ['dis', script], env: { PYXRAY_PYTHON: py37 }, says: /^pyxray: PYXRAY_PYTHON=.* is CPython 3\.7\.\d+; / },
    { args: ['compare', script, '--versions', '3.7,3.12'], says: /^pyxray: --python 3\.7: pyxray runs on CPython / },
    { args: ['diff', '--ab', script, script, '--python', py36], says: /is CPython 3\.6\.\d+; pyxray runs on CPython / },
  ]
  for (const c of cases) {
    const r = pyxray(c.args, c.env ?? {})
    const what = `${c.env ? `${Object.entries(c.env).map(([k, v]) => `${k}=${v}`).join(' ')} ` : ''}pyxray ${c.args.join(' ')}`
    assert.equal(r.code, 2, `${what}: exit ${r.code}\n${r.stderr}`)
    assert.equal(r.stderr.trim().split('\n').length, 1, `${what}: one line\n${r.stderr}`)
    assert.match(r.stderr, c.says, what)
    assert.doesNotMatch(r.stderr, /Traceback|SyntaxError|\n\s+at /, what)
  }
  // python3 on PATH is 3.6 and nothing else: --runtime native says what python3 is.
  const bin = join(dir, 'bin')
  mkdirSync(bin)
  symlinkSync(py36, join(bin, 'python3'))
  symlinkSync(process.execPath, join(bin, 'node'))
  const onPath = pyxray(['profile', '--runtime', 'native', script], { PATH: bin, HOME: dir, PYENV_ROOT: join(dir, 'none'), PYXRAY_PYTHON: '', PYXRAY_PYTHON_PATHS: '' })
  assert.equal(onPath.code, 2, onPath.stderr)
  assert.match(onPath.stderr, /^pyxray: .*python3.* is CPython 3\.6\.\d+; pyxray runs on CPython /)
  // Listed, but marked, by `pyxray runtimes`; never offered by `pyxray serve`.
  const listed = pyxray(['runtimes', '--format', 'json'])
  assert.equal(listed.code, 0, listed.stderr)
  const natives = (JSON.parse(listed.stdout) as { native: { version: string; major: number; minor: number }[] }).native
  assert.ok(natives.some((n) => n.minor === 6), 'pyenv 3.6 is listed')
  const text = pyxray(['runtimes']).stdout
  assert.match(text, /CPython 3\.6\.\d+ \(unsupported\)/)
  assert.ok(listRuntimes().every((r) => r.kind === 'pyodide' || isSupportedMinor(r.minor)), 'serve offers supported versions only')
})

test('the interpreters of $PYXRAY_PYTHON_PATHS: listed by pyxray runtimes, picked by --python 3.X', (t) => {
  // scripts/setup-native-pythons.sh's folder holds python3.14 and python3.15 (pyenv here has neither).
  const pythons = [14, MAX_MINOR].map((minor) => requirePython(t, minor))
  if (pythons.some((p) => p === undefined)) return
  const folders = [...new Set(pythons.map((p) => dirname(p!)))]
  const env = { PYXRAY_PYTHON_PATHS: folders.join(delimiter) }
  const listed = pyxray(['runtimes', '--format', 'json'], env)
  assert.equal(listed.code, 0, listed.stderr)
  const natives = (JSON.parse(listed.stdout) as { native: { path: string; minor: number; source: string }[] }).native
  for (const [i, minor] of [14, MAX_MINOR].entries()) {
    const it = natives.find((n) => n.path === pythons[i])
    assert.equal(it?.minor, minor, `${pythons[i]} is listed as 3.${minor}`)
    if (!pythons[i]!.includes('/.pyenv/')) assert.equal(it?.source, 'paths')
    const r = pyxray(['dis', '-c', 'x = 1', '--python', `3.${minor}`, '-v'], env)
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stderr, new RegExp(`^pyxray: runtime native CPython 3\\.${minor}\\.\\d+ \\(${pythons[i]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\): --python 3\\.${minor}$`, 'm'))
  }
})
