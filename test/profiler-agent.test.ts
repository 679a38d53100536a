/**
 * The profiler agent (python/pyxray/profiler.py and `python -m pyxray`) on every native CPython of
 * src/versions (pyenv's, and 3.14/3.15 of scripts/setup-native-pythons.sh), and inside Pyodide
 * (CPython 3.14, single-threaded) as an extra oracle:
 *
 * - call counts equal cProfile's ncalls for every Python function of real programs (recursion,
 *   an OO class hierarchy, generator pipelines, asyncio, threads) in the default view, and for
 *   every Python function the run touches (`--libraries all`) for programs that import nothing;
 *   before 3.12 cProfile sees only the thread that enabled it, so threads compare the main thread;
 * - a synthetic workload with a known self-time split (20/30/50 %, CPU clock) is attributed
 *   structurally (the shares' accuracy is timing: bench:known-split);
 * - fault cases: a script that raises, calls sys.exit(3), receives SIGINT, recurses 10,000 deep,
 *   runs threads or asyncio: the exit status is the script's and a valid profile is written;
 * - the Python API (context manager, start/stop, errors, the decorator on functions, generators,
 *   coroutines and async generators, memory, sample mode, exclude) from a plain interpreter with
 *   only PYTHONPATH set;
 * - every document is version 3, read by pyxray's core reader (as strict as
 *   schema/profile.schema.json), and checked for the invariants the schema cannot say
 *   (totalNs = selfNs + children, frame indexes).
 *
 * Versions run in parallel; a missing interpreter is skipped, except under CI=true.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, type TestContext, test } from 'node:test'
import type { ProfileDocument } from '../src/profile/document.js'
import {
  checkProfile,
  cprofileCalls,
  FAULT_PROGRAMS,
  interruptWhenReady,
  nodes,
  nodesOf,
  type PythonRunOptions,
  PYTHON_DIR,
  type Profiled,
  profileWith,
  pythonCalls,
  readProfile,
  type Run,
  runPython,
  sortedEntries as sorted,
} from './agent-run.js'
import { NATIVE_MINORS, requirePython } from './pyenv.js'

const WORK = mkdtempSync(join(tmpdir(), 'pyxray-profiler-'))
after(() => rmSync(WORK, { recursive: true, force: true }))

/** Besides PATH and PYTHONPATH only a private calibration cache: the API must work so. */
const ENV = { PYXRAY_CACHE_DIR: join(WORK, 'cache') }

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
type Profile = ProfileDocument

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0)

// ---------------------------------------------------------------------------------------------
// Running Python

/** Runs the interpreter with ENV; `onStdout` sees the output so far (to send a signal). */
function run(python: string, args: string[], options: Omit<PythonRunOptions, 'env'> = {}): Promise<Run> {
  return runPython(python, args, { timeoutMs: 60_000, ...options, env: ENV })
}

/** `python -m pyxray -q -o <dir>/<out> ...args` in `dir`; returns the run and the checked profile. */
function pyxray(python: string, dir: string, out: string, args: string[], options: Omit<PythonRunOptions, 'env'> = {}): Promise<Profiled> {
  return profileWith(python, join(dir, out), args, { timeoutMs: 60_000, cwd: dir, ...options, env: ENV })
}

// ---------------------------------------------------------------------------------------------
// The programs

const PROGRAMS: { [name: string]: string } = {
  'fib.py': `
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

def memo_fib(n, cache={}):
    if n in cache:
        return cache[n]
    value = n if n < 2 else memo_fib(n - 1) + memo_fib(n - 2)
    cache[n] = value
    return value

def main():
    total = 0
    for i in range(15):
        total += fib(i)
    return total + memo_fib(60)

main()
`,
  'oo.py': `
class Shape:
    count = 0
    def __init__(self, name):
        self.name = name
        Shape.count += 1
    def area(self):
        raise NotImplementedError
    def describe(self):
        return "{} with area {:.1f}".format(self.name, self.area())
    def __lt__(self, other):
        return self.area() < other.area()
    def __repr__(self):
        return "Shape({!r})".format(self.name)

class Rect(Shape):
    def __init__(self, w, h):
        super().__init__("rect")
        self.w, self.h = w, h
    def area(self):
        return self.w * self.h
    @property
    def perimeter(self):
        return 2 * (self.w + self.h)

class Square(Rect):
    def __init__(self, side):
        super().__init__(side, side)
        self.name = "square"
    @classmethod
    def unit(cls):
        return cls(1)
    @staticmethod
    def sides():
        return 4

class Circle(Shape):
    def __init__(self, r):
        super().__init__("circle")
        self.r = r
    def area(self):
        return 3.14159 * self.r * self.r
    def __eq__(self, other):
        return isinstance(other, Circle) and other.r == self.r
    __hash__ = None

def build(n):
    shapes = []
    for i in range(n):
        if i % 3 == 0:
            shapes.append(Rect(i, i + 1))
        elif i % 3 == 1:
            shapes.append(Square(i))
        else:
            shapes.append(Circle(i))
    shapes.append(Square.unit())
    return shapes

def main():
    shapes = build(60)
    ordered = sorted(shapes)
    texts = [s.describe() for s in ordered]
    perimeter = sum(s.perimeter for s in shapes if isinstance(s, Rect))
    same = sum(1 for s in shapes if s == Circle(2))
    try:
        Shape("x").area()
    except NotImplementedError:
        pass
    return len(texts), perimeter, same, Square.sides(), repr(shapes[0])

main()
`,
  'gens.py': `
def numbers(n):
    for i in range(n):
        yield i

def evens(source):
    for x in source:
        if x % 2 == 0:
            yield x

def squares(source):
    for x in source:
        yield square(x)

def square(x):
    return x * x

def chained(n):
    yield from numbers(n)
    yield from squares(numbers(n))

def accumulator():
    total = 0
    while True:
        value = yield total
        if value is None:
            return total
        total += value

def failing():
    yield 1
    raise ValueError("stop")

def closing():
    try:
        yield 1
        yield 2
    finally:
        cleanup()

def cleanup():
    return None

def main():
    a = sum(squares(evens(numbers(200))))
    b = list(chained(20))
    acc = accumulator()
    next(acc)
    for i in range(10):
        acc.send(i)
    try:
        acc.send(None)
    except StopIteration:
        pass
    try:
        for _ in failing():
            pass
    except ValueError:
        pass
    c = closing()
    next(c)
    c.close()
    g = (square(x) for x in range(30))
    return a, len(b), sum(g)

main()
`,
  'aio.py': `
import asyncio

async def leaf(i):
    await asyncio.sleep(0)
    return compute(i)

def compute(i):
    return i * 2

async def middle(i):
    a = await leaf(i)
    b = await leaf(i + 1)
    return a + b

async def failing():
    await asyncio.sleep(0)
    raise KeyError("x")

async def main():
    results = await asyncio.gather(*(middle(i) for i in range(20)))
    try:
        await failing()
    except KeyError:
        pass
    task = asyncio.ensure_future(leaf(99))
    await task
    return sum(results)

asyncio.run(main())
`,
  'threads.py': `
import threading

def work(n):
    total = 0
    for i in range(n):
        total += step(i)
    return total

def step(i):
    return i % 7

def run():
    threads = [threading.Thread(target=work, args=(3000,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return work(100)

run()
`,
  // Threads started with _thread directly, not through threading.
  'rawthreads.py': `
from _thread import allocate_lock, start_new_thread

def step(i):
    return i * 2

def work(n, done):
    for i in range(n):
        step(i)
    done.release()

locks = []
for _ in range(3):
    lock = allocate_lock()
    lock.acquire()
    locks.append(lock)
    start_new_thread(work, (2000, lock))
for lock in locks:
    lock.acquire()
`,
  // Three functions with loops of fixed cost per iteration, 2 : 3 : 5.
  'split.py': `
def a(n):
    x = 0
    for i in range(n):
        x += i
    return x

def b(n):
    x = 0
    for i in range(n):
        x += i
    return x

def c(n):
    x = 0
    for i in range(n):
        x += i
    return x

def main(rounds, unit):
    for _ in range(rounds):
        a(2 * unit)
        b(3 * unit)
        c(5 * unit)

main(20, 8000)
`,
  ...FAULT_PROGRAMS,
  'mem.py': `
def keep(n):
    return [bytes(1000) for _ in range(n)]

def temp(n):
    data = [bytes(1000) for _ in range(n)]
    del data
    return n

def main():
    kept = keep(100)
    temp(300)
    return kept

result = main()
`,
  'pkgdemo/__init__.py': '',
  'pkgdemo/__main__.py': `
import sys

def hello(name):
    return "hello " + name

print(hello(sys.argv[1]))
`,
}

/** The API exercised from a plain interpreter; prints what the test checks as JSON. */
const API_SCRIPT = `
import asyncio, io, json, os, sys, warnings
from pyxray import Profiler, ProfilerError, ProfilerWarning, profile

out = sys.argv[1]
results = {}
at = lambda name: os.path.join(out, name)

def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

with Profiler() as p:
    fib(12)
results["saved"] = p.save(at("with.json")) == at("with.json")
buf = io.StringIO()
p.print(top=5, file=buf)
results["table"] = buf.getvalue()

p2 = Profiler(clock="cpu")
p2.start()
try:
    p2.start()
except ProfilerError as e:
    results["running"] = [e.code, str(e), isinstance(e, RuntimeError)]
try:
    p2.to_dict()
except ProfilerError as e:
    results["read_while_running"] = e.code
fib(10)
p2.stop()
try:
    p2.stop()
except ProfilerError as e:
    results["not_running"] = e.code
p2.start()
fib(10)
p2.stop()
p2.save(at("restarted.json"))

p3 = Profiler()
p3.start()
try:
    Profiler().start()
except ProfilerError as e:
    results["two"] = [e.code, str(e)]
p3.stop()
import cProfile
cp = cProfile.Profile()
cp.enable()
try:
    Profiler().start()
except ProfilerError as e:
    results["under_cprofile"] = [e.code, str(e)]
finally:
    cp.disable()

@profile(save=at("deco_fn.json"))
def work(n):
    return fib(n)

@profile(save=at("deco_gen.json"))
def numbers(n):
    for i in range(n):
        yield fib(i)

@profile(save=at("deco_coro.json"), memory=True)
async def job(n):
    await asyncio.sleep(0)
    return fib(n)

@profile(save=at("deco_agen.json"), clock="cpu")
async def agen(n):
    for i in range(n):
        await asyncio.sleep(0)
        yield fib(i)

results["work"] = [work(8), work(9)]
results["gen"] = sum(numbers(6))
async def main():
    return await job(7), [x async for x in agen(5)]
results["async"] = list(asyncio.run(main()))
results["wrapped"] = [work.__name__, hasattr(work, "profiler")]

with Profiler():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        @profile(print=False)
        def inner():
            return fib(5)
        results["nested"] = [inner(), [str(w.message) for w in caught if issubclass(w.category, ProfilerWarning)]]

with Profiler(memory=True) as pm:
    kept = [bytes(1000) for _ in range(100)]
pm.save(at("memory.json"))

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    with Profiler(mode="sample") as ps:
        pass
results["sample_warning"] = [str(w.message) for w in caught if issubclass(w.category, ProfilerWarning)]
ps.save(at("sample_short.json"))
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    with Profiler(mode="sample", interval=0.0005) as ps2:
        fib(23)
ps2.save(at("sample.json"))

sys.path.insert(0, out)
with open(at("helper.py"), "w") as f:
    f.write("def apply(fn, x):\\n    return twice(fn, x)\\n\\ndef twice(fn, x):\\n    return fn(fn(x))\\n")
import helper
def inc(x):
    return x + 1
with Profiler(exclude=["*/helper.py"]) as pe:
    helper.apply(inc, 1)
pe.save(at("exclude.json"))

with Profiler(include=["helper"]) as pi:
    helper.apply(inc, 1)
pi.save(at("include.json"))

import threading
stop_spinning = threading.Event()
ticked = threading.Event()
def spin():
    while not stop_spinning.is_set():
        fib(3)
        ticked.set()
spinner = threading.Thread(target=spin, name="spinner")
spinner.start()
with Profiler() as pt:
    fib(15)
    for _ in range(2):  # the spinner called fib twice while profiling (the first may have begun before)
        ticked.clear()
        ticked.wait(60)
stop_spinning.set()
spinner.join()
pt.save(at("older_thread.json"))

@profile(top=3)
def printed():
    return fib(6)
printed()

for bad in ({"mode": "x"}, {"clock": "x"}, {"interval": 0}, {"libraries": "x"}, {"overhead": "x"}):
    try:
        Profiler(**bad)
    except ValueError:
        results.setdefault("bad", []).append(sorted(bad)[0])
print(json.dumps(results))
`

const written = new Set<number>()

/** The programs' folder of one interpreter, written once (its tests run concurrently). */
function programsDir(minor: number): string {
  const dir = join(WORK, `3.${minor}`)
  if (!written.has(minor)) {
    written.add(minor)
    mkdirSync(join(dir, 'pkgdemo'), { recursive: true })
    for (const [name, text] of Object.entries(PROGRAMS)) writeFileSync(join(dir, name), text.replace(/^\n/, ''))
  }
  return dir
}

/** The interpreter and the programs' folder, or undefined when the test was skipped. */
function setup(t: TestContext, minor: number): { python: string; dir: string } | undefined {
  const python = requirePython(t, minor)
  if (python === undefined) return undefined
  return { python, dir: programsDir(minor) }
}

// ---------------------------------------------------------------------------------------------
// The tests

describe('the profiler agent', { concurrency: true }, () => {
  for (const minor of NATIVE_MINORS) {
    describe(`CPython 3.${minor}`, { concurrency: true }, () => {
      test("call counts equal cProfile's ncalls for every function of the program", async (t) => {
        const env = setup(t, minor)
        if (!env) return
        await Promise.all(
          ['fib.py', 'oo.py', 'gens.py', 'aio.py', 'threads.py'].map(async (name) => {
            const script = join(env.dir, name)
            const [expected, { result, doc }] = await Promise.all([cprofileCalls(env.python, script, { file: script, env: ENV }), pyxray(env.python, env.dir, `${name}.json`, [script])])
            assert.equal(result.status, 0, result.stderr)
            // Before 3.12 cProfile (sys.setprofile) sees only the thread that enabled it.
            const ours = pythonCalls(doc, { file: script, mainOnly: minor < 12 })
            assert.ok(expected.size > 3, `${name}: cProfile saw the program`)
            assert.deepEqual(sorted(ours), sorted(expected), `${name}: calls per function (firstlineno:name)`)
          }),
        )
      })

      test("--libraries all: every Python function of the run has cProfile's count", async (t) => {
        const env = setup(t, minor)
        if (!env) return
        await Promise.all(
          ['fib.py', 'oo.py', 'gens.py'].map(async (name) => {
            const script = join(env.dir, name)
            const [expected, { doc }] = await Promise.all([cprofileCalls(env.python, script, { env: ENV }), pyxray(env.python, env.dir, `${name}.all.json`, ['--libraries', 'all', script])])
            assert.deepEqual(sorted(pythonCalls(doc, { mainOnly: true })), sorted(expected), name)
          }),
        )
      })

      // How close the shares come to 20/30/50 is timing (bench:known-split measures it); here the
      // structure: the CPU clock, every call counted, every function with real work has self time.
      test('a known self-time split (CPU clock): exact calls, self time in each function, totals add up', async (t) => {
        const env = setup(t, minor)
        if (!env) return
        const { result, doc } = await pyxray(env.python, env.dir, 'split.json', ['--clock', 'cpu', join(env.dir, 'split.py')])
        assert.equal(result.status, 0, result.stderr)
        assert.equal(doc.metadata.clock, 'cpu')
        for (const name of ['a', 'b', 'c']) {
          assert.equal(sum(nodesOf(doc, name).map((n) => n.calls)), 20, name)
          assert.ok(sum(nodesOf(doc, name).map((n) => n.selfNs)) > 0, `${name} has self time`)
        }
        const main = nodesOf(doc, 'main')[0]!
        assert.equal(main.totalNs, main.selfNs + sum(main.children.map((c) => c.totalNs)))
      })

      test('a script that raises: its traceback (without pyxray frames), status 1, a profile', async (t) => {
        const env = setup(t, minor)
        if (!env) return
        const { result, doc } = await pyxray(env.python, env.dir, 'raise.json', [join(env.dir, 'raise.py')])
        assert.equal(result.status, 1)
        assert.match(result.stderr, /^Traceback \(most recent call last\):/m)
        assert.match(result.stderr, /ValueError: boom/)
        assert.doesNotMatch(result.stderr, /pyxray[/\\]_profile/)
        assert.equal(doc.metadata.exitStatus, 1)
        assert.equal(doc.metadata.partial, false)
        assert.deepEqual(['<module>', 'g', 'f'].map((q) => nodesOf(doc, q).map((n) => n.calls)), [[1], [1], [1]])
      })

      test('a script that calls sys.exit(3): status 3 in the exit code and the profile', async (t) => {
        const env = setup(t, minor)
        if (!env) return
        const { result, doc } = await pyxray(env.python, env.dir, 'exit3.json', [join(env.dir, 'exit3.py'), 'arg'])
        assert.equal(result.status, 3, result.stderr)
        assert.equal(doc.metadata.exitStatus, 3)
        assert.deepEqual(doc.metadata.argv, [join(env.dir, 'exit3.py'), 'arg'])
        assert.equal(nodesOf(doc, 'leave').length, 1)
        const message = await pyxray(env.python, env.dir, 'exitmsg.json', ['-c', 'import sys; sys.exit("bye")'])
        assert.equal(message.result.status, 1)
        assert.match(message.result.stderr, /^bye$/m)
      })

      test("two code objects of one frame merge into one node that keeps both's callees", async (t) => {
        // Each exec compiles its own f: two siblings with the frame <string>:1:f, whose callees
        // (a, b) had the same position among their siblings (3.15's _colorize dataclasses lost
        // a __post_init__ call so).
        const env = setup(t, minor)
        if (!env) return
        const source = [
          'def a(): pass',
          'def b(): pass',
          'ns1, ns2 = {"callee": a}, {"callee": b}',
          'exec("def f():\\n    callee()\\n", ns1)',
          'exec("def f():\\n    callee()\\n", ns2)',
          'ns1["f"](); ns2["f"](); ns2["f"]()',
        ].join('\n')
        const { result, doc } = await pyxray(env.python, env.dir, 'twins.json', ['-c', source])
        assert.equal(result.status, 0, result.stderr)
        const calls = (name: string) => nodesOf(doc, name).map((n) => n.calls)
        assert.deepEqual([calls('f'), calls('a'), calls('b')], [[3], [1], [2]])
      })

      test('a script that receives SIGINT: status 130, a partial profile', async (t) => {
        const env = setup(t, minor)
        if (!env) return
        const interrupt = interruptWhenReady()
        const { result, doc } = await pyxray(env.python, env.dir, 'sigint.json', [join(env.dir, 'sigint.py')], { onStdout: interrupt.onStdout })
        assert.ok(interrupt.sent(), 'the script started')
        assert.equal(result.status, 130, result.stderr)
        assert.match(result.stderr, /KeyboardInterrupt/)
        assert.equal(doc.metadata.partial, true)
        assert.equal(doc.metadata.exitStatus, 130)
        assert.ok(sum(nodesOf(doc, 'busy').map((n) => n.calls)) > 100, 'the loop was traced')
      })

      test('10,000-deep recursion: every level is a node, the profile is valid', async (t) => {
        const env = setup(t, minor)
        if (!env) return
        const { result, doc } = await pyxray(env.python, env.dir, 'deep.json', [join(env.dir, 'deep.py')])
        assert.equal(result.status, 0, result.stderr)
        assert.equal(result.stdout.trim(), '10000')
        const downs = nodesOf(doc, 'down')
        assert.equal(downs.length, 10001)
        assert.ok(downs.every((n) => n.calls === 1))
        assert.ok(Math.max(...[...nodes(doc)].map((n) => n.depth)) >= 10001)
      })

      test('threads: one tree per thread, every call counted', async (t) => {
        const env = setup(t, minor)
        if (!env) return
        const { result, doc } = await pyxray(env.python, env.dir, 'threads.json', [join(env.dir, 'threads.py')])
        assert.equal(result.status, 0, result.stderr)
        const workers = doc.threads.filter((th) => nodesOf(doc, 'work', [th]).length > 0 && !th.main)
        assert.equal(workers.length, 4, 'four worker threads')
        assert.ok(doc.threads[0]!.main)
        assert.equal(sum(nodesOf(doc, 'step').map((n) => n.calls)), 4 * 3000 + 100)
        for (const worker of workers) assert.equal(sum(nodesOf(doc, 'step', [worker]).map((n) => n.calls)), 3000)
        const raw = await pyxray(env.python, env.dir, 'rawthreads.json', [join(env.dir, 'rawthreads.py')])
        assert.equal(raw.result.status, 0, raw.result.stderr)
        assert.equal(raw.doc.threads.filter((th) => nodesOf(raw.doc, 'work', [th]).length === 1).length, 3, 'threads of _thread.start_new_thread')
        assert.equal(sum(nodesOf(raw.doc, 'step').map((n) => n.calls)), 3 * 2000)
      })

      test('asyncio: coroutines resumed by the event loop are counted per resumption', async (t) => {
        const env = setup(t, minor)
        if (!env) return
        const { result, doc } = await pyxray(env.python, env.dir, 'aio.json', [join(env.dir, 'aio.py')])
        assert.equal(result.status, 0, result.stderr)
        // 41 coroutines, each started and resumed once after sleep(0).
        assert.equal(sum(nodesOf(doc, 'leaf').map((n) => n.calls)), 82)
        assert.equal(sum(nodesOf(doc, 'compute').map((n) => n.calls)), 41)
        assert.equal(nodesOf(doc, 'asyncio.run').length + nodesOf(doc, 'run').length, 1, 'asyncio.run: the first call into the library')
      })

      test('memory per call and sample mode from the command line', async (t) => {
        const env = setup(t, minor)
        if (!env) return
        const [memory, sample] = await Promise.all([
          pyxray(env.python, env.dir, 'mem.json', ['--memory', join(env.dir, 'mem.py')]),
          pyxray(env.python, env.dir, 'sample.json', ['--mode', 'sample', '--clock', 'cpu', '--interval', '500us', join(env.dir, 'split.py')]),
        ])
        assert.equal(memory.result.status, 0, memory.result.stderr)
        const keep = nodesOf(memory.doc, 'keep')[0]!.memory!
        assert.ok(keep.netBytes >= 100_000 && keep.netBytes < 200_000, `keep() keeps ~100 kB: ${keep.netBytes}`)
        const temp = nodesOf(memory.doc, 'temp')[0]!.memory!
        assert.ok(temp.peakBytes >= 300_000, `temp() peaks at 300+ kB: ${temp.peakBytes}`)
        assert.ok(Math.abs(temp.netBytes) < 50_000, `temp() keeps nothing: ${temp.netBytes}`)
        assert.equal(sample.result.status, 0, sample.result.stderr)
        const meta = sample.doc.metadata
        assert.equal(meta.mode, 'sample')
        assert.equal(meta.intervalNs, 500_000)
        assert.equal(meta.warnings.some((w) => /sample/.test(w)), (meta.samples as number) < 10, 'too few samples <=> a warning')
        if ((meta.samples as number) >= 10) assert.ok(nodesOf(sample.doc, 'c').length > 0)
        assert.ok([...nodes(sample.doc)].every(({ node }) => node.calls === 0))
      })

      test("sample mode's table counts each sample once per function, however deep the recursion", async (t) => {
        const env = setup(t, minor)
        if (!env) return
        // A live run: rec() is on the stack 40 times in every sample that sees spin(); no row of
        // the table (or of flat_table) may count more samples than the run took.
        const script = join(env.dir, 'recurse-sample.py')
        writeFileSync(script, ['import time', 'def spin():', '    end = time.process_time() + 0.25', '    while time.process_time() < end:', '        pass', 'def rec(n):', '    return spin() if n == 0 else rec(n - 1)', 'rec(40)', ''].join('\n'))
        const out = join(env.dir, 'recurse-sample.json')
        const live = await run(env.python, ['-m', 'pyxray', '--mode', 'sample', '--interval', '1ms', '--top', '50', '-o', out, script], { cwd: env.dir })
        assert.equal(live.status, 0, live.stderr)
        const taken = readProfile(out).metadata.samples as number
        const counts = live.stderr.split('\n').filter((l) => /^\s*\d+ /.test(l)).map((l) => Number(l.trim().split(/\s+/)[0]))
        assert.ok(counts.length >= 1, live.stderr)
        for (const count of counts) assert.ok(count <= taken, `a row counts ${count} samples of ${taken}:\n${live.stderr}`)
        // A synthetic document (no timing involved): r -> r -> r -> leaf, 10 samples, each with r
        // on the stack three times; r's row counts 10, not 30, and its total is the outermost's.
        const check = [
          'from pyxray._profile_tree import flat_table, format_table',
          'def node(frame, samples, total, self_ns, children=()):',
          '    return {"frame": frame, "calls": 0, "totalNs": total, "selfNs": self_ns, "samples": samples, "children": list(children)}',
          'leaf = node(1, 10, 1000, 1000)',
          'tree = node(0, 10, 1000, 0, [node(0, 10, 1000, 0, [node(0, 10, 1000, 0, [leaf])])])',
          'frames = [{"file": "/x/r.py", "firstlineno": 1, "qualname": q, "kind": "python"} for q in ("r", "leaf")]',
          'doc = {"metadata": {"mode": "sample", "clock": "wall", "durationNs": 1000, "samples": 10, "intervalNs": 100, "warnings": []},',
          '       "frames": frames, "threads": [{"root": node(None, 10, 1000, 0, [tree])}]}',
          'print([(r["frame"], r["samples"], r["totalNs"]) for r in flat_table(doc)])',
          'print(format_table(doc), end="")',
        ].join('\n')
        const synthetic = await run(env.python, ['-c', check], { cwd: env.dir })
        assert.equal(synthetic.status, 0, synthetic.stderr)
        const [rows, ...table] = synthetic.stdout.split('\n')
        assert.equal(rows, '[(1, 10, 1000), (0, 10, 1000)]')
        assert.match(table.find((l) => / r {2}\(/.test(l)) ?? '', /^\s+10 /)
      })

      test('-m module and -c code targets; usage errors', async (t) => {
        const env = setup(t, minor)
        if (!env) return
        const [module, code, missing, usage] = await Promise.all([
          pyxray(env.python, env.dir, 'module.json', ['--libraries', 'none', '--no-builtins', '--overhead', 'off', '-m', 'pkgdemo', 'world']),
          pyxray(env.python, env.dir, 'code.json', ['--exclude', 'x*', '-c', 'import sys\ndef f(): return sys.argv\nprint(f())', 'a', '-b']),
          run(env.python, ['-m', 'pyxray', '-q', join(env.dir, 'missing.py')], { cwd: env.dir }),
          run(env.python, ['-m', 'pyxray', '--mode', 'nope', 'x.py'], { cwd: env.dir }),
        ])
        assert.equal(module.result.status, 0, module.result.stderr)
        assert.equal(module.result.stdout, 'hello world\n')
        assert.deepEqual(module.doc.metadata.argv, [join(env.dir, 'pkgdemo', '__main__.py'), 'world'])
        assert.equal(nodesOf(module.doc, 'hello').length, 1)
        assert.ok(module.doc.frames.every((f) => f.kind === 'python' && !f.library), '--libraries none --no-builtins: only user code')
        assert.equal((module.doc.metadata.overhead as { source: string }).source, 'off')
        assert.equal(code.result.stdout, "['-c', 'a', '-b']\n")
        assert.deepEqual(code.doc.metadata.exclude, ['x*'])
        assert.equal(missing.status, 2)
        assert.match(missing.stderr, /can't open file/)
        assert.equal(usage.status, 2)
      })

      test('the Python API from a plain interpreter with only PYTHONPATH', async (t) => {
        const env = setup(t, minor)
        if (!env) return
        const out = join(env.dir, 'api')
        mkdirSync(out, { recursive: true })
        const result = await run(env.python, ['-c', API_SCRIPT, out], { cwd: env.dir })
        assert.equal(result.status, 0, result.stderr)
        const r = JSON.parse(result.stdout) as { [key: string]: Json }
        assert.equal(r.saved, true)
        assert.match(String(r.table), /calls +self ms +total ms +self% +function/)
        assert.match(String(r.table), /465 .* fib/)
        assert.deepEqual((r.running as Json[]).slice(0, 1), ['PROFILER_RUNNING'])
        assert.match(String((r.running as Json[])[1]), /^PROFILER_RUNNING: /)
        assert.equal((r.running as Json[])[2], true, 'a RuntimeError')
        assert.equal(r.read_while_running, 'PROFILER_RUNNING')
        assert.equal(r.not_running, 'PROFILER_NOT_RUNNING')
        assert.equal((r.two as Json[])[0], 'PROFILER_CONFLICT')
        assert.match(String((r.under_cprofile as Json[])[1]), minor >= 12 ? /tool id 2 .*'cProfile'/ : /sys\.setprofile is already set/)
        assert.deepEqual(r.work, [21, 34])
        assert.deepEqual(r.async, [13, [0, 1, 1, 2, 3]])
        assert.deepEqual(r.wrapped, ['work', true])
        assert.equal((r.nested as Json[])[0], 5)
        assert.match(String(((r.nested as Json[])[1] as Json[])[0]), /@profile on .*inner is not profiling: PROFILER_CONFLICT/)
        for (const warning of r.sample_warning as Json[]) assert.match(String(warning), /sample.*use trace mode/)
        assert.deepEqual(r.bad, ['mode', 'clock', 'interval', 'libraries', 'overhead'])

        const docs = Object.fromEntries(
          readdirSync(out)
            .filter((f) => f.endsWith('.json'))
            .map((f) => [f, readProfile(join(out, f))]),
        )
        const calls = (doc: Profile, q: string) => sum(nodesOf(doc, q).map((n) => n.calls))
        assert.equal(calls(docs['with.json']!, 'fib'), 465)
        assert.equal(docs['with.json']!.metadata.exitStatus, null)
        assert.equal(calls(docs['restarted.json']!, 'fib'), 2 * 177, 'start() after stop() adds to the same profile')
        assert.equal(calls(docs['deco_fn.json']!, 'work'), 2, 'every call of a decorated function adds up')
        assert.equal(calls(docs['deco_fn.json']!, 'fib'), 67 + 109)
        assert.equal(calls(docs['deco_gen.json']!, 'numbers'), 7, 'a generator: its start and six resumptions')
        assert.equal(calls(docs['deco_coro.json']!, 'job'), 2, 'a coroutine: its start and one resumption')
        assert.ok(docs['deco_coro.json']!.metadata.memory)
        assert.ok(calls(docs['deco_agen.json']!, 'agen') >= 6)
        assert.equal(calls(docs['deco_agen.json']!, 'fib'), 1 + 1 + 3 + 5 + 9)
        const kept = nodesOf(docs['memory.json']!, '<listcomp>').concat(nodesOf(docs['memory.json']!, 'root'))
        assert.ok(docs['memory.json']!.threads[0]!.root.memory!.netBytes >= 100_000 || kept.length > 0)
        // A run too short to sample says so, in the document and as a ProfilerWarning.
        const short = docs['sample_short.json']!.metadata
        assert.equal(short.warnings.length > 0, (short.samples as number) < 10)
        assert.equal((r.sample_warning as Json[]).length, short.warnings.length)
        // exclude: helper.py is folded; inc, called back from it, hangs under the with block.
        const excluded = docs['exclude.json']!
        assert.deepEqual(nodesOf(excluded, 'apply'), [])
        assert.deepEqual(nodesOf(excluded, 'twice'), [])
        assert.deepEqual(excluded.threads[0]!.root.children.map((c) => excluded.frames[c.frame!]!.qualname), ['inc'])
        assert.equal(calls(excluded, 'inc'), 2)
        // include: helper.py is the user's code, the rest (the -c script's inc) library code.
        const included = docs['include.json']!
        assert.deepEqual(['apply', 'twice', 'inc'].map((q) => calls(included, q)), [1, 1, 2])
        assert.equal(included.frames[nodesOf(included, 'inc')[0]!.frame!]!.file, '<string>')
        // A thread that was running before start(): traced on 3.12+, named in a warning before.
        const older = docs['older_thread.json']!
        const spinner = older.threads.find((th) => th.name === 'spinner')
        if (minor >= 12) assert.ok(spinner && sum(nodesOf(older, 'fib', [spinner]).map((n) => n.calls)) > 0, 'the spinner thread is traced')
        else {
          assert.equal(spinner, undefined)
          assert.match(older.metadata.warnings.join('\n'), /1 other thread\(s\) were already running .* not traced/)
        }
        // @profile without save= prints its table at exit.
        assert.match(result.stderr, /@profile printed:\npyxray: trace mode.*\n.*calls +self ms[^]* fib /)
      })
    })
  }
})

test('Pyodide 3.14: trace mode works in the single thread, sample mode says it cannot', async () => {
  const { loadPyodide } = await import('pyodide')
  const py = await loadPyodide()
  py.FS.mkdirTree('/agent/pyxray')
  for (const name of readdirSync(join(PYTHON_DIR, 'pyxray')).filter((f) => f.endsWith('.py'))) {
    py.FS.writeFile(`/agent/pyxray/${name}`, readFileSync(join(PYTHON_DIR, 'pyxray', name), 'utf8'))
  }
  const result = String(
    py.runPython(`
import json, sys
sys.path.insert(0, "/agent")
from pyxray import Profiler, ProfilerError

def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

def numbers(n):
    for i in range(n):
        yield i

with Profiler() as p:
    fib(15)
    sum(numbers(10))
    sorted([3, 1, 2])
try:
    Profiler(mode="sample").start()
    error = None
except ProfilerError as e:
    error = e.code
json.dumps({"doc": p.to_dict(), "error": error})
`),
  )
  const { doc, error } = JSON.parse(result) as { doc: Profile; error: string }
  const checked = checkProfile(doc, 'the Pyodide profile')
  assert.equal(checked.metadata.tracer, 'sys.monitoring')
  assert.match(checked.metadata.python.version, /^3\.14\./)
  assert.equal(sum(nodesOf(checked, 'fib').map((n) => n.calls)), 1973)
  assert.equal(sum(nodesOf(checked, 'numbers').map((n) => n.calls)), 11)
  assert.equal(nodesOf(checked, 'sorted').length, 1)
  assert.equal(error, 'PROFILER_UNSUPPORTED')
})
