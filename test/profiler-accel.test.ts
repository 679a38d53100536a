/**
 * The optional C engine of trace mode (python/pyxray/_accel.c, built by _accel_build.py) on every
 * native CPython of src/versions (pyenv's, and the Debian-root 3.14/3.15 of
 * scripts/setup-native-pythons.sh, whose headers are found under the interpreter's own prefix):
 *
 * - it builds from source with the interpreter's own toolchain into the cache folder (once, when
 *   several processes start at the same time), and `metadata.engine` says "c";
 * - the same programs profiled with PYXRAY_ACCEL=0 (pure Python) and PYXRAY_ACCEL=1 (C) give the
 *   same trees — every node's frame and call count, the tree's shape, one tree per thread — under
 *   several views (default, --libraries all, --exclude, --no-builtins, --clock cpu), and the C
 *   engine's Python-function call counts equal cProfile's ncalls;
 * - the fault cases keep working under the C engine: raise, sys.exit(3), SIGINT (partial),
 *   threads (threading and _thread), asyncio, 10,000-deep recursion;
 * - the cache is checked before anything is loaded: a truncated library (once a SIGBUS in every
 *   later run) or one another user could write to is rebuilt, also by concurrent runs, or the
 *   Python engine runs with the reason; a cache folder another user can write to is refused with
 *   the reason; index entries naming anything but a verified library inside the cache (.., an
 *   absolute path, a symlink out, garbage) are ignored and rewritten;
 * - the fallback: without a compiler (CC=/nonexistent) or with one that fails, the Python engine
 *   runs and `metadata.engineReason` says why (a failed build is remembered, not retried);
 *   PYXRAY_ACCEL=1 then fails with PROFILER_ACCEL_UNAVAILABLE;
 *   memory mode runs in the C engine too (its allocator wrapper: test/mem-accel.test.ts), and
 *   without a compiler in the Python engine (tracemalloc, no allocation counts);
 *   a version missing from _versions.ACCEL_VERIFIED_MINORS runs the Python engine, saying so.
 *
 * A missing interpreter is skipped, except under CI=true.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { after, describe, type TestContext, test } from 'node:test'
import type { ProfileDocument, ProfileNode as Node } from '../src/profile/document.js'
import { cprofileCalls, FAULT_PROGRAMS, interruptWhenReady, nodesOf, type Profiled, type PythonRunOptions, profileWith, pythonCalls, type Run, runPython, sortedEntries } from './agent-run.js'
import { NATIVE_MINORS, requirePython } from './pyenv.js'

const WORK = mkdtempSync(join(tmpdir(), 'pyxray-accel-'))
after(() => rmSync(WORK, { recursive: true, force: true }))

type Profile = ProfileDocument

/** Runs `python args` with only PATH, PYTHONPATH, a cache folder and `env`. */
function run(python: string, args: string[], env: { [key: string]: string }, options: Omit<PythonRunOptions, 'env'> = {}): Promise<Run> {
  return runPython(python, args, { ...options, env })
}

/** A readable, order-independent dump of every thread's tree: frame label and calls per node. */
function canonical(doc: Profile): string {
  const label = (index: number | null) => {
    if (index === null) return '<root>'
    const f = doc.frames[index]!
    return f.kind === 'builtin' ? `builtin ${f.module ?? ''}.${f.qualname}` : `${f.file.split(/[/\\]/).pop()}:${f.firstlineno}:${f.qualname}`
  }
  // Iterative post-order (deep recursion nests thousands of levels).
  const dump = (root: Node): string => {
    const text = new Map<Node, string>()
    const todo: [Node, boolean][] = [[root, false]]
    while (todo.length > 0) {
      const [node, done] = todo.pop()!
      if (!done) {
        todo.push([node, true])
        for (const child of node.children) todo.push([child, false])
        continue
      }
      const kids = node.children.map((c) => text.get(c)!).sort()
      text.set(node, `${label(node.frame)} x${node.calls}${kids.length > 0 ? ` [${kids.join(', ')}]` : ''}`)
    }
    return text.get(root)!
  }
  // Threads by role and content (other threads' names hold their ids, which differ per run).
  return doc.threads
    .map((t) => `${t.main ? 'main' : 'thread'}: ${dump(t.root)}`)
    .sort()
    .join('\n')
}

/** The calls of every node of a function, by qualname. */
const callsOf = (doc: Profile, qualname: string): number[] => nodesOf(doc, qualname).map((n) => n.calls)

// ---------------------------------------------------------------------------------------------
// The programs

const PROGRAMS: { [name: string]: string } = {
  // Recursion, a class hierarchy, generators (a pipeline, send, throw), exceptions through
  // frames, builtins (module functions, method descriptors, bound methods, a sorted key calling
  // back), library code (json, re) and a helper module the views exclude.
  'mixed.py': `
import json, re
import helper

def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

class Shape:
    def __init__(self, size):
        self.size = size
    def area(self):
        return self.size * self.size

class Square(Shape):
    def area(self):
        return super().area() + 0

def numbers(n):
    for i in range(n):
        yield i

def evens(source):
    for x in source:
        if x % 2 == 0:
            yield x

def echo():
    received = 0
    while True:
        try:
            value = yield received
        except KeyError:
            value = -1
        received += 1 if value is not None else 0

def fails(n):
    if n % 3 == 0:
        raise ValueError(n)
    return n

def deeper(n):
    return fails(n)

def main():
    fib(16)
    total = sum(s.area() for s in [Square(i) if i % 2 else Shape(i) for i in range(300)])
    total += sum(evens(numbers(500)))
    gen = echo()
    next(gen)
    for i in range(20):
        gen.send(i)
    gen.throw(KeyError)
    gen.close()
    for i in range(30):
        try:
            deeper(i)
        except ValueError:
            pass
    items = list(range(200))
    items.sort(key=lambda v: -v)
    sorted(items, key=helper.negate)
    parts = []
    for i in range(100):
        parts.append(str(i))
    "-".join(parts).split("-")
    d = {}
    d.setdefault("a", []).append(1)
    json.loads(json.dumps({"a": [1, 2, {"b": None}] * 30}))
    re.findall(r"\\w+", "some words here " * 20)
    helper.apply(fib, 8)
    return total

main()
`,
  'helper.py': `
def negate(v):
    return -v

def apply(fn, x):
    return twice(fn, x)

def twice(fn, x):
    return fn(x) + fn(x)
`,
  'threads.py': `
import threading
import _thread
from _thread import allocate_lock

def step(i):
    return i * 2

def work(n):
    for i in range(n):
        step(i)

def raw(n, done):
    work(n)
    done.release()

threads = [threading.Thread(target=work, args=(2000,)) for _ in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
lock = allocate_lock()
lock.acquire()
# Looked up when called: a name bound before the profile started is the Python engine's
# thread-start wrapper, whose builtin call it records only sometimes (a known race, see DEVELOPERS.md).
_thread.start_new_thread(raw, (1000, lock))
lock.acquire()
work(100)
`,
  'aio.py': `
import asyncio

async def leaf(i):
    await asyncio.sleep(0)
    return i

async def compute(i):
    return await leaf(i) * 2

async def main():
    return sum(await asyncio.gather(*(compute(i) for i in range(40))))

asyncio.run(main())
`,
  ...FAULT_PROGRAMS,
}

/** The programs' folder of one interpreter and its cache folder (the C engine built there). */
function setup(t: TestContext, minor: number): { python: string; dir: string; env: { [key: string]: string } } | undefined {
  const python = requirePython(t, minor)
  if (python === undefined) return undefined
  const dir = join(WORK, `3.${minor}`)
  if (!existsSync(dir)) {
    mkdirSync(join(dir, 'out'), { recursive: true })
    for (const [name, text] of Object.entries(PROGRAMS)) writeFileSync(join(dir, name), text.replace(/^\n/, ''))
  }
  // No bytecode writes: the folder's contents (and so what the import system does, which
  // --libraries all shows) stay the same from run to run.
  return { python, dir, env: { PYXRAY_CACHE_DIR: join(WORK, 'cache'), PYTHONDONTWRITEBYTECODE: '1' } }
}

/** `python -m pyxray -q -o out/<out> ...args` in `dir` with `env`; the run and its (checked)
 * profile (written to a subfolder: a file appearing beside the scripts changes what the import
 * system does in the other engine's run). */
function profile(python: string, dir: string, env: { [key: string]: string }, out: string, args: string[], options: Pick<PythonRunOptions, 'onStdout'> = {}): Promise<Profiled> {
  return profileWith(python, join(dir, 'out', out), args, { cwd: dir, ...options, env })
}

/** The Python API's accel option; prints what the test checks as JSON. */
const API_SCRIPT = `
import json, sys, threading
from pyxray import Profiler, ProfilerError, profile

results = {}

def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

def tree(p):
    doc = p.to_dict()
    frames = doc["frames"]
    def nested(nodes):  # the flat nodes (parents first) as [label, calls, sorted children]
        out = []
        for node in nodes:
            label = "<root>" if node["frame"] is None else frames[node["frame"]]["qualname"]
            out.append([label, node["calls"], []])
            if node["parent"] is not None:
                out[node["parent"]][2].append(out[-1])
        for item in reversed(out):
            item[2].sort()
        return out[0]
    return doc["metadata"]["engine"], sorted(nested(t["nodes"]) for t in doc["threads"])

def work():
    fib(12)
    t = threading.Thread(target=fib, args=(10,))
    t.start()
    t.join()

if len(sys.argv) > 1:  # no compiler: the required engine is an error, auto falls back
    try:
        Profiler(accel="on").start()
    except ProfilerError as exc:
        results["required"] = [exc.code, str(exc)]
    with Profiler() as p:
        fib(5)
    meta = p.to_dict()["metadata"]
    results["auto"] = [meta["engine"], meta["engineReason"], meta["warnings"]]
    print(json.dumps(results))
    sys.exit(0)

# start/stop periods and a thread started while profiling, both engines
for accel in ("on", "off"):
    p = Profiler(accel=accel, libraries="none")
    p.start(); work(); p.stop()
    p.start(); fib(8); p.stop()
    results[accel] = tree(p)

try:
    Profiler(accel="sometimes")
except ValueError as exc:
    results["bad"] = str(exc)

@profile(accel=True, print=False)
def decorated(n):
    return fib(n)
decorated(9)
decorated(9)
results["decorated"] = tree(decorated.profiler)
print(json.dumps(results))
`

// ---------------------------------------------------------------------------------------------
// The tests

/** The views compared between the engines (extra options of python -m pyxray). */
const VIEWS: { [name: string]: string[] } = {
  default: [],
  'libraries-all': ['--libraries', 'all'],
  exclude: ['--exclude', '*/helper.py'],
  'no-builtins': ['--no-builtins'],
  'cpu-clock': ['--clock', 'cpu'],
}

describe('the C engine of trace mode', { concurrency: true }, () => {
  for (const minor of NATIVE_MINORS) {
    describe(`CPython 3.${minor}`, { concurrency: false }, () => {
      test('builds into the cache folder on first use', async (t) => {
        const s = setup(t, minor)
        if (!s) return
        const result = await run(s.python, ['-m', 'pyxray._accel_build'], s.env)
        assert.equal(result.status, 0, result.stderr)
        const path = result.stdout.trim()
        assert.ok(path.startsWith(join(WORK, 'cache', 'accel', `cpython-3${minor}-`)), path)
        assert.match(path, new RegExp(`_accel\\.cpython-3${minor}[^/]*\\.so$`))
        assert.ok(existsSync(path))
        // Concurrent first runs: one compile (under the lock), one library, no leftovers.
        const race = { PYXRAY_CACHE_DIR: join(WORK, `race-3.${minor}`) }
        const runs = await Promise.all([1, 2, 3].map(() => run(s.python, ['-m', 'pyxray._accel_build'], race)))
        for (const r of runs) assert.equal(r.status, 0, r.stderr)
        assert.equal(new Set(runs.map((r) => r.stdout)).size, 1, 'the same library for all')
        const folder = join(WORK, `race-3.${minor}`, 'accel')
        assert.deepEqual(readdirSync(folder).filter((f) => f.startsWith('.build-')), [], 'no temporary build folders left')
      })

      test('the cache is checked before loading: truncated or writable libraries, unsafe folders, bad index entries', async (t) => {
        const s = setup(t, minor)
        if (!s) return
        const cache = join(WORK, `safety-3.${minor}`)
        const accel = join(cache, 'accel')
        const env = { ...s.env, PYXRAY_CACHE_DIR: cache }
        const build = async (extra: { [key: string]: string } = {}) => {
          const r = await run(s.python, ['-m', 'pyxray._accel_build'], { ...env, ...extra })
          assert.equal(r.signal, null, `no ${r.signal}: ${r.stderr}`)
          return r
        }
        /** Profiles aio.py; the run must end normally (exit 0, no SIGBUS) whatever the cache holds. */
        const profiled = async (out: string, extra: { [key: string]: string } = {}) => {
          const p = await profile(s.python, s.dir, { ...env, ...extra }, out, [join(s.dir, 'aio.py')])
          assert.equal(p.result.signal, null, `no ${p.result.signal}: ${p.result.stderr}`)
          assert.equal(p.result.status, 0, p.result.stderr)
          return p.doc.metadata
        }
        const first = await build()
        assert.equal(first.status, 0, first.stderr)
        const library = first.stdout.trim()
        assert.ok(library.startsWith(`${accel}/cpython-3${minor}-`), library)
        const size = statSync(library).size
        const [index] = readdirSync(accel).filter((f) => f.endsWith('.index.json'))
        assert.ok(index !== undefined, 'an index entry was written')
        const indexPath = join(accel, index)
        const entry = JSON.parse(readFileSync(indexPath, 'utf8')) as { folder: string; file: string; size: number; sha256: string }
        assert.deepEqual([entry.folder, entry.file, entry.size], [basename(dirname(library)), basename(library), size])
        // Folders and files are private (0700 folders, a library only its owner can write).
        for (const path of [cache, accel, dirname(library), library]) assert.equal(statSync(path).mode & 0o022, 0, `${path} is not group/world-writable`)

        // A truncated library (the SIGBUS report: mmap of a truncated ELF) is rebuilt, not loaded.
        truncateSync(library, Math.floor(size / 2))
        const rebuilt = await profiled('trunc.json')
        assert.equal(rebuilt.engine, 'c', rebuilt.engineReason)
        assert.equal(statSync(library).size, size, 'rebuilt whole')
        // ... also when several runs find it truncated at once (one rebuild under the lock).
        truncateSync(library, 4096)
        const together = await Promise.all(['t1', 't2', 't3'].map((n) => profiled(`${n}.json`)))
        assert.deepEqual(together.map((m) => m.engine), ['c', 'c', 'c'])
        assert.equal(statSync(library).size, size)
        assert.deepEqual(readdirSync(accel).filter((f) => f.startsWith('.')), [], 'no temporary or discarded folders left')
        // ... and when it cannot be rebuilt, the Python engine runs and says why.
        truncateSync(library, 4096)
        const nocc = await profiled('trunc-nocc.json', { CC: '/nonexistent/cc' })
        assert.equal(nocc.engine, 'python')
        assert.match(nocc.engineReason ?? '', /no C compiler found/)
        assert.equal((await build()).status, 0)

        // A library someone else could write to is not loaded either: built again.
        chmodSync(library, 0o775)
        const writable = await profiled('g+w.json')
        assert.equal(writable.engine, 'c', writable.engineReason)
        assert.equal(statSync(library).mode & 0o022, 0)
        if (process.getuid?.() === 0) {
          chownSync(library, 12345, 12345) // root can hand the file to another user
          const foreign = await profiled('foreign.json')
          assert.equal(foreign.engine, 'c', foreign.engineReason)
          assert.equal(statSync(library).uid, 0, 'a library of another user is replaced by our own')
        }

        // Index entries: only plain names inside the accel folder, no symlinks out, verified size
        // and SHA-256. A copy of the library outside, truncated (loading it would kill the run),
        // with its real size and hash in the entry, is never loaded whichever way it is named.
        const outside = join(WORK, `outside-3.${minor}`)
        mkdirSync(outside, { recursive: true })
        const evil = join(outside, basename(library))
        copyFileSync(library, evil)
        truncateSync(evil, 4096)
        const evilEntry = { file: basename(library), size: 4096, sha256: createHash('sha256').update(readFileSync(evil)).digest('hex') }
        symlinkSync(outside, join(accel, 'cpython-link'))
        const entries: [string, string][] = [
          ['parent folder', JSON.stringify({ ...evilEntry, folder: '..' })],
          ['absolute folder', JSON.stringify({ ...evilEntry, folder: outside })],
          ['traversal in the file', JSON.stringify({ ...evilEntry, folder: basename(dirname(library)), file: `../../../outside-3.${minor}/${basename(library)}` })],
          ['symlinked folder', JSON.stringify({ ...evilEntry, folder: 'cpython-link' })],
          ['an older index: a bare path', evil],
          ['garbage', '\u0000\u00ff{"folder": [1, 2'],
          ['not an object', '[1, 2, 3]'],
          ['wrong hash', JSON.stringify({ ...entry, sha256: '0'.repeat(64) })],
        ]
        for (const [what, text] of entries) {
          writeFileSync(indexPath, text)
          const r = await build()
          assert.equal(r.status, 0, `${what}: ${r.stderr}`)
          assert.equal(r.stdout.trim(), library, `${what}: the library in the cache is loaded`)
          assert.deepEqual(JSON.parse(readFileSync(indexPath, 'utf8')), entry, `${what}: the index is rewritten`)
        }

        // Folders another user could write to: refused, with the folder and the reason.
        for (const [folder, mode, word] of [[cache, 0o770, 'group-writable'], [accel, 0o707, 'world-writable']] as const) {
          chmodSync(folder, mode)
          const refused = await profiled(`refused-${word}.json`)
          chmodSync(folder, 0o700)
          assert.equal(refused.engine, 'python')
          assert.equal(
            refused.engineReason,
            `the C engine's cache folder ${folder} is ${word} (mode 0${mode.toString(8)}): a library another user could replace is never loaded (chmod go-w it, or set PYXRAY_CACHE_DIR to a private folder)`,
          )
          const required = await run(s.python, ['-m', 'pyxray._accel_build'], env)
          assert.equal(required.status, 0, 'restored: loads again')
        }
        chmodSync(cache, 0o770)
        const strict = await run(s.python, ['-m', 'pyxray', '-q', '-o', join(s.dir, 'out', 'never.json'), join(s.dir, 'aio.py')], { ...env, PYXRAY_ACCEL: '1' }, { cwd: s.dir })
        chmodSync(cache, 0o700)
        assert.equal(strict.status, 1)
        assert.match(strict.stderr, /PROFILER_ACCEL_UNAVAILABLE: .*cache folder .* is group-writable/)
      })

      test('PYXRAY_ACCEL=0 and =1 give the same trees; call counts equal cProfile', async (t) => {
        const s = setup(t, minor)
        if (!s) return
        for (const program of ['mixed.py', 'threads.py', 'aio.py']) {
          for (const [view, extra] of Object.entries(VIEWS)) {
            if (program !== 'mixed.py' && view !== 'default') continue
            const script = join(s.dir, program)
            const [py, c]: Profiled[] = await Promise.all(
              ['0', '1'].map((accel) => profile(s.python, s.dir, { ...s.env, PYXRAY_ACCEL: accel }, `${program}-${view}-${accel}.json`, [...extra, script])),
            )
            assert.equal(py!.result.status, 0, py!.result.stderr)
            assert.equal(c!.result.status, 0, c!.result.stderr)
            assert.equal(py!.doc.metadata.engine, 'python')
            assert.equal(c!.doc.metadata.engine, 'c', c!.doc.metadata.engineReason)
            assert.equal(c!.doc.metadata.engineReason, undefined)
            assert.equal(canonical(c!.doc), canonical(py!.doc), `${program} (${view}): the same tree from both engines`)
          }
        }
        for (const program of ['mixed.py', 'aio.py']) {
          const script = join(s.dir, program)
          const [expected, c]: [Map<string, number>, Profiled] = await Promise.all([
            cprofileCalls(s.python, script, { file: script, env: s.env }),
            profile(s.python, s.dir, { ...s.env, PYXRAY_ACCEL: '1' }, `${program}-all.json`, ['--libraries', 'all', script]),
          ])
          assert.ok(expected.size > 3)
          assert.deepEqual(sortedEntries(pythonCalls(c.doc, { file: script, mainOnly: true })), sortedEntries(expected), `${program}: calls per function vs cProfile`)
        }
      })

      test('fault cases under the C engine: raise, exit(3), SIGINT, threads, asyncio, 10,000 deep', async (t) => {
        const s = setup(t, minor)
        if (!s) return
        const env = { ...s.env, PYXRAY_ACCEL: '1' }
        const at = (name: string) => join(s.dir, name)
        const raised = await profile(s.python, s.dir, env, 'raise.json', [at('raise.py')])
        assert.equal(raised.result.status, 1)
        assert.match(raised.result.stderr, /ValueError: boom/)
        assert.equal(raised.doc.metadata.engine, 'c')
        assert.deepEqual(['<module>', 'g', 'f'].map((q) => callsOf(raised.doc, q)), [[1], [1], [1]])

        const exited = await profile(s.python, s.dir, env, 'exit3.json', [at('exit3.py')])
        assert.equal(exited.result.status, 3, exited.result.stderr)
        assert.equal(exited.doc.metadata.exitStatus, 3)
        assert.deepEqual(callsOf(exited.doc, 'leave'), [1])

        const interrupted = await profile(s.python, s.dir, env, 'sigint.json', [at('sigint.py')], { onStdout: interruptWhenReady().onStdout })
        assert.equal(interrupted.result.status, 130, interrupted.result.stderr)
        assert.equal(interrupted.doc.metadata.partial, true)
        assert.equal(interrupted.doc.metadata.engine, 'c')
        assert.ok(callsOf(interrupted.doc, 'busy').reduce((a, b) => a + b, 0) > 100, 'the loop was traced')

        const threads = await profile(s.python, s.dir, env, 'threads.json', [at('threads.py')])
        assert.equal(threads.result.status, 0, threads.result.stderr)
        assert.equal(threads.doc.threads.length, 5, 'main, three threading threads, one _thread thread')
        assert.equal(callsOf(threads.doc, 'step').reduce((a, b) => a + b, 0), 3 * 2000 + 1000 + 100)

        const aio = await profile(s.python, s.dir, env, 'aio.json', [at('aio.py')])
        assert.equal(aio.result.status, 0, aio.result.stderr)
        assert.equal(callsOf(aio.doc, 'leaf').reduce((a, b) => a + b, 0), 80, 'each coroutine entered and resumed once')

        const deep = await profile(s.python, s.dir, env, 'deep.json', [at('deep.py')])
        assert.equal(deep.result.status, 0, deep.result.stderr)
        assert.equal(deep.result.stdout.trim(), '10000')
        const downs = callsOf(deep.doc, 'down')
        assert.equal(downs.length, 10001)
        assert.ok(downs.every((n) => n === 1))
      })

      test('the Python API: accel= on/off/True, periods, threads, the decorator, errors', async (t) => {
        const s = setup(t, minor)
        if (!s) return
        const ok = await run(s.python, ['-c', API_SCRIPT], s.env)
        assert.equal(ok.status, 0, ok.stderr)
        const got = JSON.parse(ok.stdout) as { [key: string]: unknown }
        const [engineOn, treeOn] = got.on as [string, unknown]
        const [engineOff, treeOff] = got.off as [string, unknown]
        assert.deepEqual([engineOn, engineOff], ['c', 'python'])
        assert.deepEqual(treeOn, treeOff, 'two periods and a thread: the same trees')
        assert.match(JSON.stringify(treeOn), /\["fib",1,/)
        assert.equal(got.bad, "accel must be 'auto', 'on' (1) or 'off' (0), got 'sometimes'")
        const [engineDecorated] = got.decorated as [string]
        assert.equal(engineDecorated, 'c')
        assert.match(JSON.stringify(got.decorated), /\["decorated",2,/)

        const nocc = await run(s.python, ['-c', API_SCRIPT, 'nocc'], { PYXRAY_CACHE_DIR: join(WORK, `api-nocc-3.${minor}`), CC: '/nonexistent/cc' })
        assert.equal(nocc.status, 0, nocc.stderr)
        const fallback = JSON.parse(nocc.stdout) as { required: [string, string]; auto: [string, string, string[]] }
        assert.equal(fallback.required[0], 'PROFILER_ACCEL_UNAVAILABLE')
        assert.match(fallback.required[1], /^PROFILER_ACCEL_UNAVAILABLE: the C engine was required .*no C compiler found/)
        assert.deepEqual(fallback.auto, ['python', "no C compiler found (CC='/nonexistent/cc')", []])
      })

      test('fallback: no compiler -> the Python engine, and why; PYXRAY_ACCEL=1 -> a clear error', async (t) => {
        const s = setup(t, minor)
        if (!s) return
        const env = { PYXRAY_CACHE_DIR: join(WORK, `nocc-3.${minor}`), CC: '/nonexistent/cc' }
        const fallback = await profile(s.python, s.dir, env, 'nocc.json', [join(s.dir, 'aio.py')])
        assert.equal(fallback.result.status, 0, fallback.result.stderr)
        assert.equal(fallback.doc.metadata.engine, 'python')
        assert.match(fallback.doc.metadata.engineReason ?? '', /no C compiler found \(CC='\/nonexistent\/cc'\)/)
        assert.deepEqual(fallback.doc.metadata.warnings, [], 'a silent fallback when the C engine was not asked for')

        const required = await run(s.python, ['-m', 'pyxray', '-q', '-o', join(s.dir, 'never.json'), join(s.dir, 'aio.py')], { ...env, PYXRAY_ACCEL: '1' }, { cwd: s.dir })
        assert.equal(required.status, 1)
        assert.match(required.stderr, /^python -m pyxray: error: PROFILER_ACCEL_UNAVAILABLE: .*no C compiler found/m)
        assert.doesNotMatch(required.stderr, /Traceback/)
        assert.ok(!existsSync(join(s.dir, 'never.json')))

        const broken = { PYXRAY_CACHE_DIR: join(WORK, `broken-3.${minor}`), CC: 'gcc -include /nonexistent/missing.h' }
        const first = await profile(s.python, s.dir, broken, 'broken1.json', [join(s.dir, 'aio.py')])
        assert.equal(first.result.status, 0, first.result.stderr)
        assert.equal(first.doc.metadata.engine, 'python')
        assert.match(first.doc.metadata.engineReason ?? '', /^building the C engine failed: .*missing\.h/)
        const second = await profile(s.python, s.dir, broken, 'broken2.json', [join(s.dir, 'aio.py')])
        assert.match(second.doc.metadata.engineReason ?? '', /^an earlier build failed \(see .*\.failed\.txt; delete it to retry\)/)

        const memory = await profile(s.python, s.dir, { ...s.env, PYXRAY_ACCEL: '1' }, 'memory.json', ['--memory', join(s.dir, 'aio.py')])
        assert.equal(memory.result.status, 0, memory.result.stderr)
        assert.equal(memory.doc.metadata.engine, 'c')
        assert.deepEqual(memory.doc.metadata.warnings, [])
        assert.ok(memory.doc.threads[0]!.root.memory!.allocations! > 0, 'the C engine counts allocations')
        const noCompiler = await profile(s.python, s.dir, env, 'memory-nocc.json', ['--memory', join(s.dir, 'aio.py')])
        assert.equal(noCompiler.doc.metadata.engine, 'python')
        assert.equal(noCompiler.doc.threads[0]!.root.memory!.allocations, undefined, 'tracemalloc counts no allocations')

        const bad = await run(s.python, ['-m', 'pyxray', '-q', '-o', join(s.dir, 'never.json'), join(s.dir, 'aio.py')], { ...s.env, PYXRAY_ACCEL: 'maybe' }, { cwd: s.dir })
        assert.equal(bad.status, 2)
        assert.match(bad.stderr, /PYXRAY_ACCEL must be 'auto', 'on' \(1\) or 'off' \(0\), got 'maybe'/)
      })

      test('a version the C engine was not verified on runs the Python engine, and says why', async (t) => {
        const s = setup(t, minor)
        if (!s) return
        // As if this version were missing from _versions.ACCEL_VERIFIED_MINORS (the built library,
        // in the shared cache by now, must not be used either).
        const script = [
          'import json',
          'from pyxray import _accel_build, Profiler',
          '_accel_build.ACCEL_VERIFIED_MINORS = ()',
          'with Profiler() as p:',
          '    sum(range(10))',
          'meta = p.to_dict()["metadata"]',
          'print(json.dumps([meta["engine"], meta.get("engineReason")]))',
        ].join('\n')
        const r = await run(s.python, ['-c', script], s.env)
        assert.equal(r.status, 0, r.stderr)
        assert.deepEqual(JSON.parse(r.stdout), ['python', `the C engine was not verified on CPython 3.${minor} (it reads CPython's object layouts; verified on none)`])
      })
    })
  }
})
