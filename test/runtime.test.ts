/**
 * The runtimes end to end: source compiled by each native CPython of src/versions (and by Pyodide
 * 3.14, an extra oracle) and disassembled by pyxray's engine must print what that interpreter's own
 * `python -m dis` prints — on stdlib files and on third-party files (pip's, from the newest pyenv
 * CPython's site-packages: one folder that every supported version compiles; the Debian root of
 * native 3.14/3.15 has no pip).
 * Also: target selection, syntax errors, a worker killed mid-request, and the CLI on source.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { formatDis, selectByLine, selectByQualname, toCodeObject } from '../src/bytecode/index.js'
import { readMarshal } from '../src/marshal/index.js'
import { agentDir, NativeRuntime, PyodideRuntime, type PythonRuntime, RuntimeError } from '../src/runtime/index.js'
import { normalizeDis } from '../scripts/stdlib-diff.js'
import { SUPPORTED_MINORS } from '../src/versions/index.js'
import { NATIVE_MINORS, pyenvPrefix, requirePython, stdlibDir } from './pyenv.js'
import { requireResource } from './resources.js'

const ROOT = join(import.meta.dirname, '..')
const MAIN = join(ROOT, 'src', 'cli', 'main.ts')
const HELLO = join(ROOT, 'examples', 'hello.py')

async function disOf(runtime: PythonRuntime, source: string, filename: string): Promise<string> {
  const info = await runtime.info()
  const bytes = await runtime.compile(source, { filename })
  const { value } = readMarshal(bytes, { pythonVersion: [3, info.minor] })
  assert.equal(value.type, 'code')
  return formatDis(toCodeObject(value as never, info.minor))
}

/** A few stdlib modules of 3.`minor` (a module or a package: `string` is a package from 3.14). */
function stdlibSamples(minor: number): string[] {
  const lib = stdlibDir(minor)!
  const modules = ['textwrap', 'json/decoder', 'dataclasses', 'asyncio/locks', 'string']
  return modules.flatMap((m) => [join(lib, `${m}.py`), join(lib, m, '__init__.py')].filter((f) => existsSync(f)).slice(0, 1))
}

/** Third-party source every supported version compiles: pip's, from the newest pyenv CPython (3.8+ source). */
function thirdPartySamples(): { files: string[] } | { missing: string } {
  for (const minor of [...SUPPORTED_MINORS].reverse()) {
    const prefix = pyenvPrefix(minor)
    const pip = prefix && join(prefix, 'lib', `python3.${minor}`, 'site-packages', 'pip', '_internal')
    if (pip && existsSync(pip)) {
      return { files: ['cli/parser.py', 'req/req_file.py', 'utils/misc.py', 'models/link.py'].map((f) => join(pip, f)).filter((f) => existsSync(f)) }
    }
  }
  return { missing: 'no pip in the site-packages of any pyenv CPython, so no third-party source to compile' }
}

const runtimes: PythonRuntime[] = []
after(async () => {
  for (const r of runtimes) await r.close()
})

for (const minor of NATIVE_MINORS) {
  test(`native CPython 3.${minor}: pyxray dis equals python -m dis on stdlib and third-party source`, async (t) => {
    const python = requirePython(t, minor)
    if (!python) return
    const runtime = new NativeRuntime(python, agentDir())
    runtimes.push(runtime)
    const check = async (files: string[]) => {
      for (const file of files) {
        const expected: { status: number | null; stdout: string; stderr: string } = spawnSync(python, ['-m', 'dis', file], { encoding: 'utf8', maxBuffer: 1 << 28 })
        assert.equal(expected.status, 0, expected.stderr)
        const ours = await disOf(runtime, readFileSync(file, 'utf8'), file)
        assert.equal(normalizeDis(ours), normalizeDis(expected.stdout), `${file} differs`)
      }
    }
    await t.test('stdlib', async () => {
      const files = stdlibSamples(minor)
      assert.equal(files.length, 5, `stdlib sample files of 3.${minor} in ${stdlibDir(minor)}`)
      await check(files)
    })
    await t.test('third-party (pip)', async (st) => {
      const third = thirdPartySamples()
      if ('missing' in third) {
        requireResource(st, third.missing)
        return
      }
      assert.equal(third.files.length, 4, 'pip sample files')
      await check(third.files)
    })
  })
}

test('Pyodide 3.14: compiled in the embedded runtime, disassembled by pyxray = dis inside Pyodide', async () => {
  const runtime = new PyodideRuntime(agentDir())
  runtimes.push(runtime)
  const info = await runtime.info()
  assert.equal(info.minor, 14)
  assert.equal(info.kind, 'pyodide')
  // The oracle: Pyodide's own dis, in this process.
  const { loadPyodide } = await import('pyodide')
  const py = await loadPyodide()
  const sources: [string, string][] = [
    ['hello.py', readFileSync(HELLO, 'utf8')],
    ...['textwrap', 'json.decoder', 'dataclasses'].map((m): [string, string] => [
      `${m}.py`,
      String(py.runPython(`import importlib.util; importlib.util.find_spec(${JSON.stringify(m)}).loader.get_source(${JSON.stringify(m)})`)),
    ]),
  ]
  for (const [name, source] of sources) {
    py.globals.set('src', source)
    py.globals.set('fname', name)
    const expected = String(py.runPython('import dis, io\nbuf = io.StringIO()\ndis.dis(compile(src, fname, "exec", dont_inherit=True), file=buf)\nbuf.getvalue()'))
    assert.equal(normalizeDis(await disOf(runtime, source, name)), normalizeDis(expected), `${name} differs`)
  }
})

test('targets: qualname (with and without <locals>) and innermost code object of a line', async (t) => {
  const python = requirePython(t, 12)
  if (!python) return
  const runtime = new NativeRuntime(python, agentDir())
  runtimes.push(runtime)
  const bytes = await runtime.compile(readFileSync(HELLO, 'utf8'), { filename: HELLO })
  const module = toCodeObject(readMarshal(bytes, { pythonVersion: [3, 12] }).value as never, 12)
  assert.equal(selectByQualname(module, 'counter.<locals>.bump').name, 'bump')
  assert.equal(selectByQualname(module, 'counter.bump').name, 'bump')
  assert.equal(selectByQualname(module, 'greet.<locals>.<lambda>').name, '<lambda>')
  assert.equal(selectByLine(module, 19).name, 'bump')
  assert.equal(selectByLine(module, 6).name, '<lambda>')
  assert.equal(selectByLine(module, 9).name, 'greet')
  assert.equal(selectByLine(module, 26).name, '<module>')
  assert.throws(() => selectByQualname(module, 'nope'), /no code object named nope/)
})

test('a syntax error is a typed error with CPython location fields', async (t) => {
  const python = requirePython(t, 12)
  if (!python) return
  const runtime = new NativeRuntime(python, agentDir())
  runtimes.push(runtime)
  await assert.rejects(runtime.compile('x = 1\nif x\n    pass\n', { filename: 'bad.py' }), (e: unknown) => {
    assert.ok(e instanceof RuntimeError)
    assert.equal(e.code, 'SYNTAX_ERROR')
    assert.equal(e.syntax?.lineno, 2)
    assert.equal(e.syntax?.offset, 5)
    return true
  })
  // The worker survives a syntax error.
  assert.equal((await runtime.info()).minor, 12)
})

test('a worker killed mid-request fails that request with an error naming the interpreter, and restarts', async (t) => {
  const python = requirePython(t, 11)
  if (!python) return
  const runtime = new NativeRuntime(python, agentDir(), `python3.11 (${python})`)
  runtimes.push(runtime)
  await runtime.info()
  const pid = runtime.pid
  assert.ok(pid)
  // A big compile keeps the worker busy while we kill it.
  const big = Array.from({ length: 40_000 }, (_, i) => `v${i} = ${i} * 2 + f(${i})`).join('\n')
  const pending = runtime.compile(big)
  process.kill(pid, 'SIGKILL')
  await assert.rejects(pending, (e: unknown) => {
    assert.ok(e instanceof RuntimeError)
    assert.equal(e.code, 'RUNTIME_CRASHED')
    assert.match(e.message, /python3\.11 .* was killed by SIGKILL/)
    return true
  })
  const again = await runtime.compile('x = 1')
  assert.ok(again.length > 0)
  assert.notEqual(runtime.pid, pid)
})

function pyxray(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

test('CLI on source: dis --python, -c, a syntax error as file:line:col, ast and code', (t) => {
  const python = requirePython(t, 13)
  if (!python) return
  const r = pyxray(['dis', HELLO, '--format', 'dis', '--python', '3.13'])
  assert.equal(r.code, 0, r.stderr)
  const expected = spawnSync(python, ['-m', 'dis', HELLO], { encoding: 'utf8' }).stdout
  assert.equal(normalizeDis(r.stdout), normalizeDis(expected))

  const inline = pyxray(['dis', '-c', 'x = [i * i for i in range(10)]', '--python', '3.13', '--format', 'dis'])
  assert.equal(inline.code, 0, inline.stderr)
  assert.match(inline.stdout, /LOAD_FAST_AND_CLEAR/)

  const dir = mkdtempSync(join(tmpdir(), 'pyxray-rt-'))
  const bad = join(dir, 'bad.py')
  writeFileSync(bad, 'def f(x):\n    return (x +\n')
  const err = pyxray(['dis', bad, '--python', '3.13'])
  assert.equal(err.code, 2)
  assert.match(err.stderr, new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2:12: SyntaxError: `))
  assert.doesNotMatch(err.stderr, /\n\s+at /)

  const sel = pyxray(['dis', `${HELLO}:counter.<locals>.bump`, '--python', '3.13', '--format', 'dis'])
  assert.equal(sel.code, 0, sel.stderr)
  assert.match(sel.stdout, /STORE_DEREF +\d+ \(count\)/)

  const ast = pyxray(['ast', `${HELLO}:greet`, '--python', '3.13'])
  assert.equal(ast.code, 0, ast.stderr)
  assert.match(ast.stdout, /^FunctionDef {2}4:0-11:37$/m)

  const code = pyxray(['code', HELLO, '--python', '3.13'])
  assert.equal(code.code, 0, code.stderr)
  assert.match(code.stdout, /count: cell of counter → free in counter\.<locals>\.bump/)

  const unsupported = pyxray(['dis', HELLO, '--python', '3.2'])
  assert.equal(unsupported.code, 2)
  assert.match(unsupported.stderr, /^pyxray: --python 3\.2: pyxray runs on CPython 3\.8–3\.\d+: pass --python 3\.X or the path of one/)
})

test('without any Python on PATH, pyxray dis compiles with the embedded Pyodide', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pyxray-nopy-'))
  // A PATH holding only node, and a HOME without pyenv.
  spawnSync('ln', ['-s', process.execPath, join(dir, 'node')])
  const env = { PATH: dir, HOME: dir, NO_COLOR: '1' }
  const r = spawnSync(join(dir, 'node'), ['--import', 'tsx', MAIN, 'dis', HELLO, '--verbose'], { encoding: 'utf8', env, cwd: ROOT })
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stderr, /runtime pyodide CPython 3\.14\.\d+ .*no native python3 3\.8–3\.\d+ found: using embedded Pyodide/)
  assert.match(r.stdout, /^<module> {2}.*hello\.py:1 {2}Python 3\.14/m)
  const path = spawnSync(join(dir, 'node'), ['--import', 'tsx', MAIN, 'python-path'], { encoding: 'utf8', env, cwd: ROOT })
  assert.equal(path.stdout.trim(), join(ROOT, 'python'))
  assert.ok(existsSync(join(path.stdout.trim(), 'pyxray', 'worker.py')))
})
