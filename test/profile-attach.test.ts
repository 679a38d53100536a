/**
 * Sampling from outside (CPython 3.14+, `_remote_debugging.RemoteUnwinder`; python/pyxray/remote):
 * `pyxray profile --pid PID` on a running program, and `pyxray profile --mode sample` on 3.14+,
 * which starts the program as python would and samples it from a separate process. The programs
 * plant one hot function whose time is all on one line (a C call), so whatever the sampling rate,
 * the hottest function and line are known.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { test } from 'node:test'
import { readProfileDocument } from '../src/profile/document.js'
import { nativeCacheBin, requirePython } from './pyenv.js'

const MAIN = join(import.meta.dirname, '..', 'src', 'cli', 'main.ts')
const CLI_ENV = { ...process.env, PYXRAY_PYTHON_PATHS: [process.env.PYXRAY_PYTHON_PATHS, nativeCacheBin()].filter(Boolean).join(delimiter) }

/** The planted program: `planted_hot` spends its time on line HOT_LINE (sorting in C). */
const HOT_LINE = 7
const PROGRAM = `import random, sys, threading, time


def planted_hot(data):
    # all of this function's time is the next line's C call
    ordered = None
    ordered = sorted(data, reverse=True)
    return ordered[0]


def cold(k):
    return k + 1


def idle():
    while True:
        time.sleep(0.05)


def main(seconds):
    data = [random.random() for _ in range(100_000)]
    threading.Thread(target=idle, name="idler", daemon=True).start()
    sys.stdout.write("ready\\n")
    sys.stdout.flush()
    end = time.monotonic() + seconds
    k = 0
    while time.monotonic() < end:
        planted_hot(data)
        k = cold(k)


main(float(sys.argv[1]))
`

interface RawNode {
  readonly parent: number | null
  readonly frame: number | null
  readonly samples?: number
  readonly lines?: readonly (readonly [number, number])[]
}
interface RawDoc {
  readonly metadata: Record<string, unknown>
  readonly frames: readonly { readonly qualname: string; readonly file: string }[]
  readonly threads: readonly { readonly name: string; readonly main: boolean; readonly nodes: readonly RawNode[] }[]
}

/**
 * In the main thread (wall time counts the idler's sleep too): self samples per qualname (a node's
 * samples less its children's) and samples per line of `qualname`.
 */
function hottest(doc: RawDoc, qualname: string): { fn: string; line: number; selfByName: Map<string, number> } {
  const selfByName = new Map<string, number>()
  const lines = new Map<number, number>()
  for (const thread of doc.threads.filter((th) => th.main)) {
    const own = thread.nodes.map((n) => n.samples ?? 0)
    thread.nodes.forEach((n) => {
      if (n.parent !== null) own[n.parent]! -= n.samples ?? 0
    })
    thread.nodes.forEach((n, i) => {
      if (n.frame === null) return
      const name = doc.frames[n.frame]!.qualname
      selfByName.set(name, (selfByName.get(name) ?? 0) + own[i]!)
      if (name === qualname) for (const [line, count] of n.lines ?? []) lines.set(line, (lines.get(line) ?? 0) + count)
    })
  }
  const top = <K>(m: Map<K, number>): K => [...m.entries()].sort((a, b) => b[1] - a[1])[0]![0]
  return { fn: top(selfByName), line: lines.size ? top(lines) : 0, selfByName }
}

/** Starts the planted program; resolves once it says it runs. */
function startTarget(python: string, script: string, seconds: number): Promise<ChildProcess> {
  const child = spawn(python, [script, String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'] })
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString()
      if (out.includes('ready')) resolve(child)
    })
    child.on('exit', (code) => reject(new Error(`the target ended (${code}) before it was ready`)))
  })
}

function cli(args: readonly string[], env: NodeJS.ProcessEnv = CLI_ENV) {
  return new Promise<{ status: number | null; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()))
    child.on('exit', (status) => resolve({ status, stderr }))
  })
}

for (const minor of [14, 15]) {
  test(`3.${minor}: pyxray profile --pid samples a running program from outside and finds the planted hot function and line`, async (t) => {
    const python = requirePython(t, minor)
    if (!python) return
    const dir = mkdtempSync(join(tmpdir(), 'pyxray-attach-'))
    const script = join(dir, 'planted.py')
    writeFileSync(script, PROGRAM)
    const out = join(dir, 'p.json')
    const target = await startTarget(python, script, 120)
    try {
      const r = await cli(['profile', '--pid', String(target.pid), '--duration', '2', '-q', '-o', out])
      assert.equal(r.status, 0, r.stderr)
      assert.equal(target.exitCode, null, 'the target still runs after the sampler detached')
    } finally {
      target.kill()
    }
    const text = readFileSync(out, 'utf8')
    readProfileDocument(text, out) // valid against the schema
    const doc = JSON.parse(text) as RawDoc
    const meta = doc.metadata
    assert.equal(meta.mode, 'sample')
    assert.equal(meta.sampler, 'remote')
    assert.equal(meta.pid, target.pid)
    assert.match((meta.python as { version: string }).version, new RegExp(`^3\\.${minor}\\.`))
    assert.deepEqual(meta.argv, [script, '120'])
    assert.ok((meta.samples as number) > 0)
    // every thread: the main one (first) and the idler, named from the OS
    assert.equal(doc.threads[0]!.main, true)
    assert.equal(doc.threads[0]!.name, 'MainThread')
    assert.ok(
      doc.threads.some((th) => th.name === 'idler'),
      doc.threads.map((th) => th.name).join(),
    )
    const hot = hottest(doc, 'planted_hot')
    assert.equal(hot.fn, 'planted_hot', JSON.stringify([...hot.selfByName]))
    assert.equal(hot.line, HOT_LINE)
    const frame = doc.frames.find((f) => f.qualname === 'planted_hot')!
    assert.equal(frame.file, script)
    assert.equal((frame as unknown as { firstlineno: number }).firstlineno, 4)
  })

  test(`3.${minor}: pyxray profile --mode sample runs the program untouched and samples it from another process`, async (t) => {
    const python = requirePython(t, minor)
    if (!python) return
    const dir = mkdtempSync(join(tmpdir(), 'pyxray-remote-run-'))
    const script = join(dir, 'planted.py')
    writeFileSync(script, PROGRAM.replace('main(float(sys.argv[1]))\n', 'main(float(sys.argv[1]))\nsys.exit(3)\n'))
    const out = join(dir, 'p.json')
    const r = await cli(['profile', '--python', `3.${minor}`, '--mode', 'sample', '-q', '-o', out, script, '1.5'])
    assert.equal(r.status, 3, r.stderr)
    const text = readFileSync(out, 'utf8')
    readProfileDocument(text, out)
    const doc = JSON.parse(text) as RawDoc
    assert.equal(doc.metadata.sampler, 'remote')
    assert.equal(doc.metadata.exitStatus, 3)
    assert.deepEqual(doc.metadata.argv, [script, '1.5'])
    const hot = hottest(doc, 'planted_hot')
    assert.equal(hot.fn, 'planted_hot', JSON.stringify([...hot.selfByName]))
    assert.equal(hot.line, HOT_LINE)
    // read after the program ended: the definition's line from the file, the idler's name from its run
    assert.equal((doc.frames.find((f) => f.qualname === 'planted_hot') as unknown as { firstlineno: number }).firstlineno, 4)
    assert.ok(
      doc.threads.some((th) => th.name === 'idler'),
      doc.threads.map((th) => th.name).join(),
    )
    // PYXRAY_SAMPLER=thread keeps the in-process sampler thread
    const inside = join(dir, 'inside.json')
    const r2 = await cli(['profile', '--python', `3.${minor}`, '--mode', 'sample', '-q', '-o', inside, script, '0.3'], { ...CLI_ENV, PYXRAY_SAMPLER: 'thread' })
    assert.equal(r2.status, 3, r2.stderr)
    assert.equal((JSON.parse(readFileSync(inside, 'utf8')) as RawDoc).metadata.sampler, undefined)
  })
}

test('3.12: pyxray profile --pid on an older CPython says what it needs, exit 2', async (t) => {
  const python = requirePython(t, 12)
  if (!python) return
  const dir = mkdtempSync(join(tmpdir(), 'pyxray-attach-old-'))
  const script = join(dir, 'planted.py')
  writeFileSync(script, PROGRAM)
  const target = await startTarget(python, script, 60)
  try {
    const r = await cli(['profile', '--pid', String(target.pid), '--duration', '1', '-o', join(dir, 'p.json')])
    assert.equal(r.status, 2)
    assert.equal(r.stderr, `pyxray: process ${target.pid} runs CPython 3.12: attaching (--pid) needs CPython 3.14 or newer in the target (its _remote_debugging); profile older programs by starting them with pyxray profile script.py\n`)
  } finally {
    target.kill()
  }
})

test('pyxray profile --pid: no such process, not a Python, bad values: one line, exit 2', async () => {
  const pidMax = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8').trim())
  const missing = await cli(['profile', '--pid', String(pidMax + 1), '--duration', '1'])
  assert.equal(missing.status, 2)
  assert.equal(missing.stderr, `pyxray: no process ${pidMax + 1} (give the id of a running CPython 3.14+ process)\n`)
  const node = await cli(['profile', '--pid', String(process.pid), '--duration', '1'])
  assert.equal(node.status, 2)
  assert.match(node.stderr, new RegExp(`^pyxray: process ${process.pid} \\(.*\\) does not look like a CPython interpreter: --pid samples CPython 3\\.14\\+ processes\\n$`))
  for (const [args, message] of [
    [['--pid', 'abc'], '--pid takes a process id (a whole number >= 1), not "abc"'],
    [['--pid', '1', '--duration', '0'], '--duration takes a positive number of seconds, not "0"'],
    [['--duration', '2', 'x.py'], '--duration goes with --pid (how long to sample a running process)'],
  ] as const) {
    const r = await cli(['profile', ...args])
    assert.equal(r.status, 2, r.stderr)
    assert.equal(r.stderr, `pyxray: ${message}\n`)
  }
})

test('3.15: --clock cpu samples only threads on a CPU (the sleeping idler is not the hottest), --clock gil the GIL holder; 3.14 refuses both', async (t) => {
  const python = requirePython(t, 15)
  if (!python) return
  const dir = mkdtempSync(join(tmpdir(), 'pyxray-attach-cpu-'))
  const script = join(dir, 'planted.py')
  writeFileSync(script, PROGRAM)
  const target = await startTarget(python, script, 120)
  try {
    for (const clock of ['cpu', 'gil']) {
      const out = join(dir, `${clock}.json`)
      const r = await cli(['profile', '--pid', String(target.pid), '--duration', '1.5', '--clock', clock, '-q', '-o', out])
      assert.equal(r.status, 0, r.stderr)
      const text = readFileSync(out, 'utf8')
      readProfileDocument(text, out)
      const doc = JSON.parse(text) as RawDoc
      assert.equal(doc.metadata.clock, clock)
      const all = hottest({ ...doc, threads: doc.threads.map((th) => ({ ...th, main: true })) }, 'planted_hot')
      assert.equal(all.fn, 'planted_hot', JSON.stringify([...all.selfByName]))
    }
    const trace = await cli(['profile', '--pid', String(target.pid), '--mode', 'trace'])
    assert.equal(trace.status, 2)
    assert.equal(trace.stderr, 'pyxray: --pid samples the process from outside: --mode trace cannot attach (use --mode sample, the default with --pid)\n')
    const memory = await cli(['profile', '--pid', String(target.pid), '--memory'])
    assert.equal(memory.status, 2)
    assert.match(memory.stderr, /^pyxray: --memory needs tracemalloc inside the program: it cannot go with --pid/)
  } finally {
    target.kill()
  }
  const python14 = requirePython(t, 14)
  if (!python14) return
  const old = await startTarget(python14, script, 60)
  try {
    const r = await cli(['profile', '--pid', String(old.pid), '--duration', '1', '--clock', 'cpu', '-o', join(dir, 'x.json')])
    assert.equal(r.status, 2)
    assert.equal(r.stderr, 'pyxray: --clock cpu needs a CPython 3.15 target (3.14\'s unwinder samples wall time only); use --clock wall\n')
  } finally {
    old.kill()
  }
})

const ASYNC_PROGRAM = `import asyncio, sys


def burn(n):
    s = 0
    for i in range(n):
        s += i
    return s


async def leaf():
    while True:
        burn(20000)
        await asyncio.sleep(0)


async def middle():
    await leaf()


async def main():
    sys.stdout.write("ready\\n")
    sys.stdout.flush()
    await asyncio.gather(middle(), asyncio.create_task(middle(), name="second"))


asyncio.run(main())
`

for (const minor of [14, 15]) {
  test(`3.${minor}: --pid --async-aware samples task stacks: the hot coroutine under the task that awaits it`, async (t) => {
    const python = requirePython(t, minor)
    if (!python) return
    const dir = mkdtempSync(join(tmpdir(), 'pyxray-attach-async-'))
    const script = join(dir, 'tasks.py')
    writeFileSync(script, ASYNC_PROGRAM)
    const out = join(dir, 'p.json')
    const target = await startTarget(python, script, 0)
    try {
      const r = await cli(['profile', '--pid', String(target.pid), '--duration', '1.5', '--async-aware', '-q', '-o', out])
      assert.equal(r.status, 0, r.stderr)
    } finally {
      target.kill()
    }
    const text = readFileSync(out, 'utf8')
    readProfileDocument(text, out)
    const doc = JSON.parse(text) as RawDoc
    assert.equal(doc.metadata.asyncAware, true)
    const nodes = doc.threads[0]!.nodes
    // the node with the most samples of burn, and the functions above it: main's task awaits middle's
    const name = (i: number) => doc.frames[nodes[i]!.frame!]!.qualname
    const burns = nodes.map((_, i) => i).filter((i) => nodes[i]!.frame !== null && name(i) === 'burn')
    assert.ok(burns.length > 0, 'burn was sampled')
    const top = burns.sort((a, b) => (nodes[b]!.samples ?? 0) - (nodes[a]!.samples ?? 0))[0]!
    const path: string[] = []
    for (let i: number | null = top; i !== null && nodes[i]!.frame !== null; i = nodes[i]!.parent) path.unshift(name(i))
    assert.deepEqual(path, ['main', 'middle', 'leaf', 'burn'])
  })
}

test('3.15: a process pyxray may not ptrace (not dumpable, CAP_SYS_PTRACE dropped): one line saying why, exit 2', async (t) => {
  const python = requirePython(t, 15)
  if (!python) return
  const setpriv = spawnSync('setpriv', ['--bounding-set=-sys_ptrace', '--inh-caps=-sys_ptrace', 'true'])
  if (process.getuid?.() !== 0 || setpriv.status !== 0) {
    t.skip('needs root and setpriv (util-linux) to drop CAP_SYS_PTRACE')
    return
  }
  const dir = mkdtempSync(join(tmpdir(), 'pyxray-attach-perm-'))
  const script = join(dir, 'nodump.py')
  // PR_SET_DUMPABLE 0: only a process with CAP_SYS_PTRACE may read it, even of the same user
  writeFileSync(script, 'import ctypes, sys, time\nctypes.CDLL(None).prctl(4, 0, 0, 0, 0)\nsys.stdout.write("ready\\n")\nsys.stdout.flush()\nwhile True:\n    time.sleep(0.05)\n')
  const target = await startTarget(python, script, 0)
  try {
    const drop = ['--bounding-set=-sys_ptrace', '--inh-caps=-sys_ptrace']
    const r = spawnSync('setpriv', [...drop, process.execPath, '--import', 'tsx', MAIN, 'profile', '--pid', String(target.pid), '--duration', '1', '-o', join(dir, 'p.json')], { encoding: 'utf8', env: CLI_ENV })
    assert.equal(r.status, 2, r.stderr)
    assert.match(r.stderr, new RegExp(`^pyxray: cannot inspect process ${target.pid}: permission denied \\(.*CAP_SYS_PTRACE.*\\)\\n$`))
    // the agent's own check, past pyxray's (the same process as the sampler pyxray would run)
    const agent = spawnSync('setpriv', [...drop, python, '-m', 'pyxray.remote', 'attach', String(target.pid), '--duration', '1', '-o', join(dir, 'p.json')], {
      encoding: 'utf8',
      env: { ...process.env, PYTHONPATH: join(import.meta.dirname, '..', 'python') },
    })
    assert.equal(agent.status, 2, agent.stderr)
    assert.match(agent.stderr, new RegExp(`^pyxray: cannot read process ${target.pid}'s memory \\(Operation not permitted\\): .*CAP_SYS_PTRACE.*\\n$`))
  } finally {
    target.kill()
  }
})
