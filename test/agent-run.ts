/**
 * Running the profiler agent in tests and reading what it wrote: a child process with its output
 * collected, `python -m pyxray` with nothing but PATH and PYTHONPATH (plus what the test adds), a
 * profile read by the core reader (schema/profile.schema.json, strictly) and checked for the
 * invariants the schema cannot say,
 * call counts per function (ours and cProfile's), and the fault-case programs every trace engine
 * must survive.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { type ProfileDocument, type ProfileNode, type ProfileThread, readProfileDocument } from '../src/profile/document.js'

/** The folder holding the agent's `pyxray` package. */
export const PYTHON_DIR = join(import.meta.dirname, '..', 'python')

/** A finished child process. */
export interface Run {
  status: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Options of {@link runProcess}. */
export interface RunOptions {
  cwd?: string
  /** The child's whole environment; the parent's when absent. */
  env?: NodeJS.ProcessEnv
  /** Sees the output so far on every chunk (e.g. to send a signal once the script is ready). */
  onStdout?: (out: string, child: ChildProcess) => void
  /** Killed with SIGKILL after this many ms (default 120 s). */
  timeoutMs?: number
}

/** Runs `command args` with stdin closed and collects its output as text. */
export function runProcess(command: string, args: readonly string[], options: RunOptions = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000)
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d
      options.onStdout?.(stdout, child)
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
    })
    child.on('error', reject)
    child.on('close', (status, signal) => {
      clearTimeout(timer)
      resolve({ status, signal, stdout, stderr })
    })
  })
}

/** Options of {@link runPython}: `env` is added to PATH and PYTHONPATH, the only variables set. */
export type PythonRunOptions = Omit<RunOptions, 'env'> & { env?: { [key: string]: string } }

/** Runs `python args` with only PATH, PYTHONPATH (the agent) and `options.env` set. */
export function runPython(python: string, args: readonly string[], options: PythonRunOptions = {}): Promise<Run> {
  return runProcess(python, args, { ...options, env: { PATH: process.env.PATH ?? '', PYTHONPATH: PYTHON_DIR, ...options.env } })
}

/** A run of `python -m pyxray` and the (checked) profile it wrote. */
export interface Profiled {
  result: Run
  doc: ProfileDocument
}

/** `python -m pyxray -q -o <output> ...args`; the run and its profile, which must exist and be valid. */
export async function profileWith(python: string, output: string, args: readonly string[], options: PythonRunOptions = {}): Promise<Profiled> {
  const result = await runPython(python, ['-m', 'pyxray', '-q', '-o', output, ...args], options)
  let doc: ProfileDocument
  try {
    doc = readProfile(output)
  } catch (e) {
    assert.fail(`no valid profile from ${args.join(' ')} (status ${result.status}):\n${result.stderr}\n${e}`)
  }
  return { result, doc }
}

/** Every node of every thread (or of the given threads), with its depth. */
export function* nodes(doc: ProfileDocument, threads = doc.threads): Generator<{ node: ProfileNode; depth: number; thread: ProfileThread }> {
  for (const thread of threads) {
    const todo: [ProfileNode, number][] = [[thread.root, 0]]
    while (todo.length > 0) {
      const [node, depth] = todo.pop()!
      yield { node, depth, thread }
      for (const child of node.children) todo.push([child, depth + 1])
    }
  }
}

/**
 * Checks a profile as the agent wrote it (JSON text or parsed): the current version, read by the
 * core reader (as strict as the schema), then the invariants the schema cannot say; returns it.
 */
export function checkProfile(written: unknown, where: string): ProfileDocument {
  const raw = typeof written === 'string' ? (JSON.parse(written) as unknown) : written
  assert.equal((raw as { version?: unknown }).version, 3, `${where}: the agent writes version 3`)
  const doc = readProfileDocument(raw, where)
  for (const { node, depth } of nodes(doc)) {
    const children = node.children.reduce((sum, c) => sum + c.totalNs, 0)
    assert.equal(node.totalNs, node.selfNs + children, 'totalNs = selfNs + the children')
    if (depth === 0) {
      assert.equal(node.frame, null, 'a thread root has no frame')
      assert.equal(node.calls, 0)
    } else {
      assert.ok(node.frame !== null && node.frame < doc.frames.length, `frame ${node.frame} is in the table`)
      if (doc.metadata.mode === 'trace') assert.ok(node.calls > 0, 'a traced node was entered')
    }
    if (doc.metadata.memory) assert.ok(node.memory, 'memory mode: every node has memory')
    if (doc.metadata.mode === 'sample') assert.equal(typeof node.samples, 'number')
  }
  const main = doc.threads.filter((t) => t.main)
  assert.ok(main.length <= 1 && (main.length === 0 || doc.threads[0]!.main), 'the main thread comes first')
  return doc
}

/** Reads a profile file and checks it ({@link checkProfile}). */
export function readProfile(path: string): ProfileDocument {
  return checkProfile(readFileSync(path, 'utf8'), path)
}

/** Python calls per function `firstlineno:name` of `file` (or `file:firstlineno:name` of all). */
export function pythonCalls(doc: ProfileDocument, options: { file?: string; mainOnly: boolean }): Map<string, number> {
  const out = new Map<string, number>()
  const threads = options.mainOnly ? doc.threads.filter((t) => t.main) : doc.threads
  for (const { node } of nodes(doc, threads)) {
    if (node.frame === null) continue
    const frame = doc.frames[node.frame]!
    if (frame.kind !== 'python' || (options.file !== undefined && frame.file !== options.file)) continue
    const name = frame.qualname.split('.').pop()!
    const key = options.file === undefined ? `${frame.file}:${frame.firstlineno}:${name}` : `${frame.firstlineno}:${name}`
    out.set(key, (out.get(key) ?? 0) + node.calls)
  }
  return out
}

/** The nodes of a function by qualname. */
export function nodesOf(doc: ProfileDocument, qualname: string, threads = doc.threads): ProfileNode[] {
  const out: ProfileNode[] = []
  for (const { node } of nodes(doc, threads)) if (node.frame !== null && doc.frames[node.frame]!.qualname === qualname) out.push(node)
  return out
}

/** A map's entries sorted by key, for comparing call counts. */
export const sortedEntries = (map: Map<string, number>): [string, number][] => [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))

/** cProfile's ncalls per `file:firstlineno:name` for a script run with exec (no runner frames). */
const CPROFILE = `
import cProfile, json, os, sys
path = sys.argv[1]
sys.argv = [path]
sys.path[0] = os.path.dirname(path)
code = compile(open(path, "rb").read(), path, "exec")
namespace = {"__name__": "__main__", "__file__": path, "__builtins__": __builtins__}
profiler = cProfile.Profile()
profiler.enable()
exec(code, namespace)
profiler.disable()
profiler.create_stats()
print(json.dumps({"{}:{}:{}".format(f, l, n): nc for (f, l, n), (cc, nc, tt, ct, callers) in profiler.stats.items() if f != "~"}))
`

/**
 * cProfile's ncalls of `script` run under `python` (with {@link runPython}'s environment plus
 * `env`): per `file:firstlineno:name` of every Python function, or per `firstlineno:name` of the
 * functions of `file` when given.
 */
export async function cprofileCalls(python: string, script: string, options: { file?: string; env?: { [key: string]: string } } = {}): Promise<Map<string, number>> {
  const result = await runPython(python, ['-c', CPROFILE, script], options.env ? { env: options.env } : {})
  assert.equal(result.status, 0, result.stderr)
  const { file } = options
  const out = new Map<string, number>()
  for (const [key, calls] of Object.entries(JSON.parse(result.stdout) as { [key: string]: number })) {
    if (file === undefined) out.set(key, calls)
    else if (key.startsWith(`${file}:`)) out.set(key.slice(file.length + 1), calls)
  }
  return out
}

/**
 * Scripts for the fault cases every trace engine must survive: one that raises (through g and
 * f), one that calls sys.exit(3) (in leave), one that prints "ready" then loops in busy until
 * SIGINT, and one that recurses 10,000 deep (down) and prints 10000.
 */
export const FAULT_PROGRAMS: { readonly [name: string]: string } = {
  'raise.py': `
def f():
    raise ValueError("boom")

def g():
    f()

g()
`,
  'exit3.py': `
import sys

def leave():
    sys.exit(3)

leave()
`,
  'sigint.py': `
def busy(i):
    return i * i

def loop():
    i = 0
    while True:
        busy(i)
        i += 1
        if i == 1000:
            # The test interrupts on this line: 1,000 calls are traced by then, however slow the machine.
            print("ready", flush=True)

loop()
`,
  'deep.py': `
import sys
sys.setrecursionlimit(25000)

def down(n):
    if n == 0:
        return 0
    return down(n - 1) + 1

print(down(10000))
`,
}

/** An onStdout that sends SIGINT `delayMs` after the script printed "ready"; `sent()` says whether it did. */
export function interruptWhenReady(delayMs = 0): { onStdout: (out: string, child: ChildProcess) => void; sent: () => boolean } {
  let sent = false
  return {
    onStdout: (out, child) => {
      if (!sent && out.includes('ready')) {
        sent = true
        setTimeout(() => child.kill('SIGINT'), delayMs)
      }
    },
    sent: () => sent,
  }
}
