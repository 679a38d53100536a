/**
 * `pyxray profile --runtime pyodide`: the profiler in the embedded CPython 3.14 (Pyodide, an npm
 * dependency, so these always run). The script sees its folder, its arguments and its current
 * folder as a native run would; its output and exit status pass through; the profile is written
 * where -o says, also when the script raises or gets SIGINT (partial); call counts equal those of
 * cProfile run on the same script in the same Pyodide.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { mountRoots } from '../src/runtime/pyodide/profile.js'

const MAIN = join(import.meta.dirname, '..', 'src', 'cli', 'main.ts')
// The test's own tsx: the CLI runs with the script's folder as its current folder.
const TSX = import.meta.resolve('tsx')
const WORK = mkdtempSync(join(tmpdir(), 'pyxray-prof-pyodide-'))
after(() => rmSync(WORK, { recursive: true, force: true }))

interface Node {
  frame: number | null
  calls: number
  totalNs: number
  selfNs: number
  children: Node[]
}
interface Doc {
  pyxray: string
  metadata: { python: { version: string }; argv: string[]; cwd: string; exitStatus: number; partial: boolean; tracer: string; mode: string }
  frames: { file: string; firstlineno: number; qualname: string; kind: string }[]
  threads: { main: boolean; root: Node }[]
}

interface Run {
  status: number | null
  stdout: string
  stderr: string
}

/** `pyxray profile --runtime pyodide …` in `cwd`; `onStdout` may signal the process. */
function cli(cwd: string, args: string[], onStdout?: (out: string, kill: (s: NodeJS.Signals) => void) => void): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, MAIN, 'profile', '--runtime', 'pyodide', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000)
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d
      onStdout?.(stdout, (s) => child.kill(s))
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.on('error', reject)
    child.on('close', (status) => {
      clearTimeout(timer)
      resolve({ status, stdout, stderr })
    })
  })
}

/** Reads a profile and checks the invariants every document keeps. */
function readDoc(path: string): Doc {
  const doc = JSON.parse(readFileSync(path, 'utf8')) as Doc
  assert.equal(doc.pyxray, 'profile')
  assert.match(doc.metadata.python.version, /^3\.14\./)
  assert.equal(doc.metadata.tracer, 'sys.monitoring')
  const walk = (n: Node, depth: number) => {
    assert.equal(n.totalNs, n.selfNs + n.children.reduce((s, c) => s + c.totalNs, 0), 'totalNs = selfNs + children')
    if (depth > 0) assert.ok(n.frame !== null && n.frame < doc.frames.length && n.calls > 0)
    n.children.forEach((c) => walk(c, depth + 1))
  }
  assert.equal(doc.threads.length, 1, 'one thread')
  walk(doc.threads[0]!.root, 0)
  return doc
}

/** Python calls per `firstlineno:name` of the functions defined in `file`. */
function callsIn(doc: Doc, file: string): Map<string, number> {
  const out = new Map<string, number>()
  const walk = (n: Node) => {
    if (n.frame !== null) {
      const f = doc.frames[n.frame]!
      if (f.kind === 'python' && f.file === file) {
        const key = `${f.firstlineno}:${f.qualname.split('.').pop()}`
        out.set(key, (out.get(key) ?? 0) + n.calls)
      }
    }
    n.children.forEach(walk)
  }
  walk(doc.threads[0]!.root)
  return out
}

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

const sorted = (m: Map<string, number>) => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1))

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
    let sent = false
    const r = await cli(dir, ['-q', '-o', 'p.json', 'spin.py'], (out, kill) => {
      if (!sent && out.includes('ready')) {
        sent = true
        kill('SIGINT')
      }
    })
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
