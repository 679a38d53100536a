/**
 * `pyxray profile --runtime pyodide`: the profiler in the embedded CPython 3.14 (Pyodide, an npm
 * dependency, so these always run). The script sees its folder, its arguments and its current
 * folder as a native run would; its output and exit status pass through; the profile is written
 * where -o says, also when the script raises or gets SIGINT (partial); call counts equal those of
 * cProfile run on the same script in the same Pyodide.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import type { ProfileDocument } from '../src/profile/document.js'
import { mountRoots } from '../src/runtime/pyodide/profile.js'
import { interruptWhenReady, pythonCalls, type Run, type RunOptions, readProfile, runProcess, sortedEntries as sorted } from './agent-run.js'
import { withoutNativePython } from './pyenv.js'

const MAIN = join(import.meta.dirname, '..', 'src', 'cli', 'main.ts')
// The test's own tsx: the CLI runs with the script's folder as its current folder.
const TSX = import.meta.resolve('tsx')
const WORK = mkdtempSync(join(tmpdir(), 'pyxray-prof-pyodide-'))
after(() => rmSync(WORK, { recursive: true, force: true }))

/** `pyxray profile --runtime pyodide …` in `cwd`; `onStdout` may signal the process. */
function cli(cwd: string, args: string[], onStdout?: RunOptions['onStdout']): Promise<Run> {
  return runProcess(process.execPath, ['--import', TSX, MAIN, 'profile', '--runtime', 'pyodide', ...args], { cwd, ...(onStdout ? { onStdout } : {}) })
}

/** Reads a profile ({@link readProfile}: schema and invariants) and checks it came from Pyodide's one thread. */
function readDoc(path: string): ProfileDocument {
  const doc = readProfile(path)
  assert.match(doc.metadata.python.version, /^3\.14\./)
  assert.equal(doc.metadata.tracer, 'sys.monitoring')
  assert.equal(doc.threads.length, 1, 'one thread')
  return doc
}

/** Python calls per `firstlineno:name` of the functions defined in `file`. */
const callsIn = (doc: ProfileDocument, file: string): Map<string, number> => pythonCalls(doc, { file, mainOnly: false })

/** cProfile's ncalls per `firstlineno:name` of `file`, run in a fresh Pyodide with `dir` mounted. */
async function cprofileInPyodide(dir: string, file: string, args: string[]): Promise<Map<string, number>> {
  const { loadPyodide } = await import('pyodide')
  const py = await loadPyodide({ stdout: () => {}, stderr: () => {} })
  py.FS.mkdirTree(dir)
  py.FS.mount(py.FS.filesystems.NODEFS, { root: dir }, dir)
  py.globals.set('_args', py.toPy([file, ...args]))
  const text = String(
    py.runPython(`
import cProfile, json, os, sys
sys.argv = list(_args)
os.chdir(os.path.dirname(sys.argv[0]))
sys.path[0] = os.getcwd()
code = compile(open(sys.argv[0], "rb").read(), sys.argv[0], "exec")
profiler = cProfile.Profile()
profiler.enable()
try:
    exec(code, {"__name__": "__main__", "__file__": sys.argv[0], "__builtins__": __builtins__})
except SystemExit:
    pass
profiler.disable()
profiler.create_stats()
json.dumps({"{}:{}".format(l, n): nc for (f, l, n), (cc, nc, tt, ct, callers) in profiler.stats.items() if f == sys.argv[0]})
`),
  )
  return new Map(Object.entries(JSON.parse(text) as Record<string, number>))
}

const WORK_PY = `
import sys

def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

class Shape:
    def __init__(self, size):
        self.size = size

    def area(self):
        return self.size * self.size

class Circle(Shape):
    def area(self):
        return 3.14159 * super().area()

def numbers(n):
    for i in range(n):
        yield i

def squares(items):
    for x in items:
        yield x * x

with open("data.txt") as f:
    words = f.read().split()
total = fib(15) + sum(squares(numbers(50))) + sum(s.area() for s in [Circle(i) if i % 2 else Shape(i) for i in range(30)])
print("words", len(words), "argv", sys.argv[1:], "total", round(total, 3))
sys.exit(3)
`

describe('pyxray profile --runtime pyodide', { concurrency: true }, () => {
  test("a script's folder, files, argv, stdout and exit code; call counts equal cProfile's", async () => {
    const dir = join(WORK, 'work')
    mkdirSync(join(dir, 'out'), { recursive: true })
    const script = join(dir, 'work.py')
    writeFileSync(script, WORK_PY.replace(/^\n/, ''))
    writeFileSync(join(dir, 'data.txt'), 'one two three\nfour\n')
    const [r, expected] = await Promise.all([cli(dir, ['-q', '-o', 'out/p.json', 'work.py', 'arg1', '--flag']), cprofileInPyodide(dir, script, ['arg1', '--flag'])])
    assert.equal(r.status, 3, r.stderr)
    assert.match(r.stdout, /^words 4 argv \['arg1', '--flag'\] total /m)
    const doc = readDoc(join(dir, 'out', 'p.json'))
    assert.equal(doc.metadata.exitStatus, 3)
    assert.equal(doc.metadata.partial, false)
    assert.deepEqual(doc.metadata.argv, ['work.py', 'arg1', '--flag'])
    assert.equal(doc.metadata.cwd, dir)
    assert.ok(expected.size >= 6, `cProfile saw the script's functions: ${[...expected.keys()].join(', ')}`)
    assert.deepEqual(sorted(callsIn(doc, script)), sorted(expected))
    assert.equal(expected.get('3:fib'), 1973)
  })

  test('a script that raises: its traceback without pyxray frames, status 1, a profile', async () => {
    const dir = join(WORK, 'raises')
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'boom.py'), 'def inner():\n    raise ValueError("boom")\n\ndef outer():\n    inner()\n\nouter()\n')
    const r = await cli(dir, ['-o', 'p.json', 'boom.py'])
    assert.equal(r.status, 1, r.stderr)
    assert.match(r.stderr, /Traceback \(most recent call last\):\n {2}File ".*boom\.py", line 7, in <module>[^]*ValueError: boom/)
    assert.doesNotMatch(r.stderr, /pyxray-agent|_profile_cli/)
    assert.match(r.stderr, /pyxray: profile written to .*p\.json/, 'the table and where the profile went')
    const doc = readDoc(join(dir, 'p.json'))
    assert.equal(doc.metadata.exitStatus, 1)
    assert.deepEqual(sorted(callsIn(doc, join(dir, 'boom.py'))), sorted(new Map([['1:<module>', 1], ['1:inner', 1], ['4:outer', 1]])))
  })

  test('SIGINT: KeyboardInterrupt in the script, status 130, a partial profile', async () => {
    const dir = join(WORK, 'sigint')
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'spin.py'), 'def spin():\n    print("ready", flush=True)\n    x = 0\n    while True:\n        x += 1\n\nspin()\n')
    const r = await cli(dir, ['-q', '-o', 'p.json', 'spin.py'], interruptWhenReady(0).onStdout)
    assert.equal(r.status, 130, r.stderr)
    assert.match(r.stderr, /KeyboardInterrupt/)
    const doc = readDoc(join(dir, 'p.json'))
    assert.equal(doc.metadata.partial, true)
    assert.equal(doc.metadata.exitStatus, 130)
    assert.equal(callsIn(doc, join(dir, 'spin.py')).get('1:spin'), 1)
  })

  test('usage errors exit 2 before Pyodide loads', async () => {
    const dir = join(WORK, 'usage')
    mkdirSync(dir, { recursive: true })
    const sample = await cli(dir, ['--mode', 'sample', 'x.py'])
    assert.equal(sample.status, 2)
    assert.match(sample.stderr, /sample mode needs a sampler thread and Pyodide has no threads/)
    const python = await cli(dir, ['--python', '3.12', 'x.py'])
    assert.equal(python.status, 2)
    assert.match(python.stderr, /the Pyodide runtime is CPython 3\.14; --python 3\.12 needs --runtime native/)
  })
})

test('mountRoots: nested folders fold into one mount; Pyodide’s own folders are refused', () => {
  assert.deepEqual(mountRoots(['/a/b/c', '/a/b', '/a/bc', '/x/y/', '/a/b/c/d']), ['/a/b', '/a/bc', '/x/y'])
  assert.throws(() => mountRoots(['/lib/x']), /cannot see \/lib\/x/)
  assert.throws(() => mountRoots(['/']), /cannot see \//)
})

test('with no native Python to be found, pyxray profile falls back to the embedded Pyodide', () => {
  // No python3 on PATH (a folder holding only node), no PYXRAY_PYTHON, no pyenv.
  const env = withoutNativePython(WORK)
  const dir = mkdtempSync(join(WORK, 'fallback-'))
  writeFileSync(join(dir, 'fib.py'), 'def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n\nfib(12)\n')
  const r = spawnSync(process.execPath, ['--import', TSX, MAIN, 'profile', '-v', '-q', '-o', 'out.json', 'fib.py'], { cwd: dir, env, encoding: 'utf8' })
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stderr, /no native python3 found \(PATH, PYXRAY_PYTHON\): using the embedded Pyodide/)
  const doc = readDoc(join(dir, 'out.json'))
  assert.match(doc.metadata.python.version, /^3\.14\./)
  assert.equal(callsIn(doc, join(dir, 'fib.py')).get('1:fib'), 465)
  // Asking for a native interpreter when there is none is a usage error, without a stack trace.
  const native = spawnSync(process.execPath, ['--import', TSX, MAIN, 'profile', '--runtime', 'native', 'fib.py'], { cwd: dir, env, encoding: 'utf8' })
  assert.equal(native.status, 2, native.stderr)
  assert.doesNotMatch(native.stderr, /\n\s+at .*\.ts:\d+/)
})
