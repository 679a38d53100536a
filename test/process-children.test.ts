/**
 * Child processes of a profiled program, with real interpreters on every supported version: forks,
 * multiprocessing (fork, spawn, forkserver; Pool and Process) and Python subprocesses land in the
 * root's profile as `processes`, each with its pid, parent, argv, exit status and exact call counts;
 * exit codes are plain Python's. `--no-subprocesses` gives one process, `--subprocesses files` the
 * numbered siblings. Nothing here depends on measured time: counts, pids and statuses only.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'node:test'
import { type ProfileDocument, type ProfileFrame, type ProfileNode, type ProfileThread, readProfileDocument } from '../src/profile/document.js'
import { NATIVE_MINORS, requirePython } from './pyenv.js'

const MAIN = join(import.meta.dirname, '..', 'src', 'cli', 'main.ts')
const TSX = import.meta.resolve('tsx')

function work(): string {
  return mkdtempSync(join(tmpdir(), 'pyxray-children-'))
}

interface Ended {
  readonly code: number | null
  readonly stderr: string
  readonly stdout: string
}

function ended(child: ChildProcess): Promise<Ended> {
  let stderr = ''
  let stdout = ''
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()))
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()))
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr, stdout })))
}

/** `pyxray args…` in `cwd`. */
function pyxray(args: readonly string[], cwd: string): Promise<Ended> {
  return ended(spawn(process.execPath, ['--import', TSX, MAIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } }))
}

function readDoc(path: string): ProfileDocument {
  return readProfileDocument(readFileSync(path, 'utf8'), path)
}

/** Calls per qualname over a process's threads (frames of the whole document). */
function calls(frames: readonly ProfileFrame[], threads: readonly ProfileThread[]): Map<string, number> {
  const out = new Map<string, number>()
  for (const t of threads) {
    const stack: ProfileNode[] = [t.root]
    while (stack.length) {
      const n = stack.pop()!
      if (n.frame !== null) out.set(frames[n.frame]!.qualname, (out.get(frames[n.frame]!.qualname) ?? 0) + n.calls)
      stack.push(...n.children)
    }
  }
  return out
}

const FAMILY = [
  'import os, subprocess, sys',
  'def work():',
  '    return 1',
  'if __name__ == "__main__":',
  '    pid = os.fork()',
  '    if pid == 0:',
  '        for _ in range(7):',
  '            work()',
  '        sys.exit(3)',
  '    _, status = os.waitpid(pid, 0)',
  '    r = subprocess.run([sys.executable, "child.py", "a", "b"])',
  '    code = "import sys\\ndef f():\\n    pass\\nfor _ in range(5):\\n    f()\\nsys.exit(0)"',
  '    r2 = subprocess.run([sys.executable, "-c", code])',
  '    print("root", os.WEXITSTATUS(status), r.returncode, r2.returncode)',
  '    print("fork", pid, file=sys.stderr)',
  '    sys.exit(5)',
  '',
].join('\n')

const CHILD = ['import os, sys', 'def known():', '    return 1', 'for _ in range(11):', '    known()', 'print("child", sys.argv, os.path.basename(sys.path[0]))', 'sys.exit(4)', ''].join('\n')

for (const minor of NATIVE_MINORS) {
  test(`3.${minor}: a fork and two Python subprocesses are processes of the root's profile, with exact calls, argv and exit statuses; exit code as plain Python's`, async (t) => {
    const python = requirePython(t, minor)
    if (!python) return
    const dir = work()
    writeFileSync(join(dir, 'app.py'), FAMILY)
    writeFileSync(join(dir, 'child.py'), CHILD)
    const plain = spawnSync(python, ['app.py'], { cwd: dir, encoding: 'utf8' })
    assert.equal(plain.status, 5, plain.stderr)
    const r = await pyxray(['profile', '--python', python, '-o', 'out.json', 'app.py'], dir)
    assert.equal(r.code, plain.status, r.stderr)
    assert.equal(r.stdout, plain.stdout) // the children see the argv and sys.path[0] plain Python gives them
    const forked = Number(/fork (\d+)/.exec(r.stderr)![1])
    const doc = readDoc(join(dir, 'out.json'))
    const root = doc.metadata
    assert.equal(root.exitStatus, 5)
    assert.deepEqual(root.warnings, [])
    const ps = doc.processes ?? []
    assert.equal(ps.length, 3, JSON.stringify(ps.map((p) => p.metadata.argv)))
    for (const p of ps) {
      assert.equal(p.metadata.parentPid, root.pid)
      assert.notEqual(p.metadata.pid, root.pid)
      assert.equal(p.metadata.partial, false)
    }
    const fork = ps.find((p) => p.metadata.pid === forked)
    assert.ok(fork, `no process ${forked}`)
    assert.equal(fork.metadata.exitStatus, 3)
    assert.equal(calls(doc.frames, fork.threads).get('work'), 7) // the tree starts at the fork
    const script = ps.find((p) => p.metadata.argv[0] === 'child.py')!
    assert.deepEqual(script.metadata.argv, ['child.py', 'a', 'b'])
    assert.equal(script.metadata.exitStatus, 4)
    assert.equal(calls(doc.frames, script.threads).get('known'), 11)
    const code = ps.find((p) => p.metadata.argv[0] === '-c')!
    assert.equal(code.metadata.exitStatus, 0)
    assert.equal(calls(doc.frames, code.threads).get('f'), 5)
    assert.equal(calls(doc.frames, doc.threads).get('known'), undefined) // the root's tree is the root's
    assert.match(r.stderr, /3 child processes added to/)
    assert.equal(r.stderr.match(/profile written to/g)?.length, 1, r.stderr)
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('out.') && f !== 'out.json'), [])
  })

  test(`3.${minor}: multiprocessing Pool and Process with fork, spawn and forkserver: every call in the workers is in the profile`, async (t) => {
    const python = requirePython(t, minor)
    if (!python) return
    const dir = work()
    const source = [
      'import multiprocessing as mp, sys',
      'def double(x):',
      '    return x * 2',
      'def triple_work():',
      '    for _ in range(3):',
      '        double(1)',
      '    sys.exit(6)',
      'if __name__ == "__main__":',
      '    ctx = mp.get_context(sys.argv[1])',
      '    with ctx.Pool(2) as pool:',
      '        print(sum(pool.map(double, range(10))))',
      '    p = ctx.Process(target=triple_work)',
      '    p.start()',
      '    p.join()',
      '    print(p.exitcode)',
      '',
    ].join('\n')
    writeFileSync(join(dir, 'mp.py'), source)
    const methods = spawnSync(python, ['-c', 'import multiprocessing as mp; print(" ".join(mp.get_all_start_methods()))'], { encoding: 'utf8' }).stdout.trim().split(' ')
    for (const method of ['fork', 'spawn', 'forkserver'].filter((m) => methods.includes(m))) {
      const out = `${method}.json`
      const r = await pyxray(['profile', '--python', python, '-q', '-o', out, 'mp.py', method], dir)
      assert.equal(r.code, 0, `${method}: ${r.stderr}`)
      assert.equal(r.stdout, '90\n6\n', method)
      const doc = readDoc(join(dir, out))
      assert.deepEqual(doc.metadata.warnings, [], method)
      const ps = doc.processes ?? []
      const doubles = ps.map((p) => calls(doc.frames, p.threads).get('double') ?? 0)
      // 10 from the pool's workers, 3 from the Process, none in the root.
      assert.equal(
        doubles.reduce((a, b) => a + b, 0),
        13,
        `${method}: ${JSON.stringify(ps.map((p) => [p.metadata.pid, p.metadata.exitStatus, p.metadata.argv]))}`,
      )
      assert.equal(calls(doc.frames, doc.threads).get('double'), undefined, method)
      const single = ps.filter((p) => calls(doc.frames, p.threads).get('triple_work') === 1)
      assert.equal(single.length, 1, method)
      assert.equal(single[0]!.metadata.exitStatus, 6, method)
      for (const p of ps) assert.equal(typeof p.metadata.parentPid, 'number', method)
    }
  })
}

test('--no-subprocesses profiles one process; --subprocesses files writes numbered siblings and never the root\'s file', async (t) => {
  const python = requirePython(t, 11)
  if (!python) return
  const dir = work()
  writeFileSync(join(dir, 'app.py'), FAMILY)
  writeFileSync(join(dir, 'child.py'), CHILD)
  const off = await pyxray(['profile', '--python', python, '--no-subprocesses', '-o', 'off.json', 'app.py'], dir)
  assert.equal(off.code, 5, off.stderr)
  const one = readDoc(join(dir, 'off.json'))
  assert.equal(one.processes, undefined)
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('off.') && f !== 'off.json'), [])

  const files = await pyxray(['profile', '--python', python, '--subprocesses=files', '-o', 'out.json', 'app.py'], dir)
  assert.equal(files.code, 5, files.stderr)
  const root = readDoc(join(dir, 'out.json'))
  assert.equal(root.processes, undefined)
  const siblings = readdirSync(dir).filter((f) => /^out\.\d+\.json$/.test(f))
  assert.equal(siblings.length, 3, siblings.join(' '))
  const metas = siblings.map((f) => readDoc(join(dir, f)).metadata)
  for (const [i, m] of metas.entries()) {
    assert.equal(siblings[i], `out.${m.pid}.json`)
    assert.equal(m.parentPid, root.metadata.pid)
  }
  assert.deepEqual(metas.map((m) => m.exitStatus).sort(), [0, 3, 4])
  assert.equal(root.metadata.exitStatus, 5)
})

test('pyxray report shows each process after the root\'s, with a summary; export notes that it covers the root only', async (t) => {
  const python = requirePython(t, 11)
  if (!python) return
  const dir = work()
  writeFileSync(join(dir, 'app.py'), FAMILY)
  writeFileSync(join(dir, 'child.py'), CHILD)
  const r = await pyxray(['profile', '--python', python, '-q', '-o', 'out.json', 'app.py'], dir)
  assert.equal(r.code, 5, r.stderr)
  const doc = readDoc(join(dir, 'out.json'))
  const report = await pyxray(['report', 'out.json', '--width', '120'], dir)
  assert.equal(report.code, 0, report.stderr)
  assert.match(report.stdout, /4 processes: this one and 3 child processes \(each below\), 2 with a non-zero exit status/)
  for (const p of doc.processes!) assert.match(report.stdout, new RegExp(`process ${p.metadata.pid} \\(child of ${doc.metadata.pid}, exit ${p.metadata.exitStatus}\\)`))
  assert.match(report.stdout, /process \d+ \(child of \d+, exit 4\): child\.py a b/)
  const known = report.stdout.slice(report.stdout.indexOf('child.py a b'))
  assert.match(known, /known/)
  const md = await pyxray(['report', 'out.json', '--format', 'markdown'], dir)
  assert.match(md.stdout, /#### process \d+ \(child of \d+, exit 3\)/)
  const exported = await pyxray(['export', 'out.json', '--to', 'collapsed'], dir)
  assert.equal(exported.code, 0, exported.stderr)
  assert.match(exported.stderr, /also holds 3 child processes; the export covers the root process only/)
  assert.doesNotMatch(exported.stdout, /known/)
})

test('the agent merges a child document into the root one: frames deduplicated and remapped in nested (root) and flat (nodes) threads alike', (t) => {
  const python = requirePython(t, 11)
  if (!python) return
  const code = [
    'import json, sys',
    'from pyxray._children import merge',
    'f = lambda q: {"file": "/a.py", "firstlineno": 1, "qualname": q, "kind": "python"}',
    'meta = lambda pid: {"pid": pid, "warnings": [], "startTime": "2026-01-01T00:00:00.000Z"}',
    'root = {"metadata": meta(1), "frames": [f("a"), f("b")], "threads": []}',
    'nested = {"root": {"frame": None, "children": [{"frame": 0, "children": [{"frame": 1, "children": []}]}]}}',
    'flat = {"nodes": [{"frame": None, "parent": None}, {"frame": 1, "parent": 0}, {"frame": 0, "parent": 1}]}',
    'child = {"metadata": meta(2), "frames": [f("c"), f("a")], "threads": [nested, flat]}',
    'out = merge(root, [child], ["child process 3 ended without writing its profile"])',
    'print(json.dumps(out))',
  ].join('\n')
  const r = spawnSync(python, ['-c', code], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: join(import.meta.dirname, '..', 'python') } })
  assert.equal(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout) as {
    frames: { qualname: string }[]
    metadata: { warnings: string[] }
    processes: { metadata: { pid: number }; threads: [{ root: { children: [{ frame: number; children: [{ frame: number }] }] } }, { nodes: { frame: number | null }[] }] }[]
  }
  assert.deepEqual(out.frames.map((f) => f.qualname), ['a', 'b', 'c'])
  const [nested, flat] = out.processes[0]!.threads
  assert.equal(nested.root.children[0].frame, 2) // c
  assert.equal(nested.root.children[0].children[0].frame, 0) // a
  assert.deepEqual(flat.nodes.map((n) => n.frame), [null, 0, 2])
  assert.deepEqual(out.metadata.warnings, ['child process 3 ended without writing its profile'])
})

test('the agent reads a Python child\'s command line as CPython does: interpreter options, then the target (or not followed)', (t) => {
  const python = requirePython(t, 11)
  if (!python) return
  const cases: [string[], [string[], string[]] | null][] = [
    [['app.py', 'a'], [[], ['app.py', 'a']]],
    [['-u', '-X', 'dev', '-W', 'error', 'app.py'], [['-u', '-X', 'dev', '-W', 'error'], ['app.py']]],
    [['-Bc', 'code', 'z'], [['-B'], ['-c', 'code', 'z']]],
    [['-mmod', 'a'], [[], ['-m', 'mod', 'a']]],
    [['-E', '--', 'app.py'], [['-E'], ['app.py']]],
    [['-i', 'app.py'], null], // interactive
    [['-'], null], // stdin
    [[], null],
    [['--version'], null],
    [['-m', 'pyxray', 'app.py'], null], // pyxray itself: one profiler per process
  ]
  const code = `import json, sys\nfrom pyxray._children import split_python_args\nprint(json.dumps([split_python_args(a) for a in json.loads(sys.argv[1])]))`
  const r = spawnSync(python, ['-c', code, JSON.stringify(cases.map((c) => c[0]))], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: join(import.meta.dirname, '..', 'python') } })
  assert.equal(r.status, 0, r.stderr)
  assert.deepEqual(JSON.parse(r.stdout), cases.map((c) => c[1]))
})
