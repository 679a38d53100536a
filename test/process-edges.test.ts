/**
 * The edges of a profiled process, with real processes, each exit code compared with plain
 * Python's on the same program: outputs that would overwrite an input (or cannot be written) are
 * refused before anything runs; a pyxray.py/json.py in the current folder does not replace the
 * agent, and the script imports its own json.py as Python would; SIGTERM/SIGHUP/SIGINT to pyxray,
 * `timeout`, os._exit and SIGKILL; forked children writing their own numbered file (--subprocesses
 * files; test/process-children.test.ts covers following children into one profile). No timing:
 * a script says it is running by writing a marker file, which the test polls for.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import test from 'node:test'
import { NATIVE_MINORS, requirePython } from './pyenv.js'
import { requireResource } from './resources.js'

const MAIN = join(import.meta.dirname, '..', 'src', 'cli', 'main.ts')
// The test's own tsx: the CLI runs with the script's folder as its current folder.
const TSX = import.meta.resolve('tsx')
/** python3 3.11 (pyenv) and the newest native version: the brief's two. */
const MINORS = [11, 15]

function work(): string {
  return mkdtempSync(join(tmpdir(), 'pyxray-edges-'))
}

/** `pyxray args…` in `cwd`, started (not awaited). */
function pyxray(args: readonly string[], cwd: string): ChildProcess {
  return spawn(process.execPath, ['--import', TSX, MAIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } })
}

interface Ended {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stderr: string
  readonly stdout: string
}

function ended(child: ChildProcess): Promise<Ended> {
  let stderr = ''
  let stdout = ''
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()))
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()))
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr, stdout })))
}

/** The exit code a shell reports for a process that ended so. */
function shellCode(e: { code: number | null; signal: NodeJS.Signals | null }): number {
  return e.code ?? 128 + (e.signal === null ? 0 : ({ SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[e.signal]!)
}

/** Waits until `path` exists with content (the script writes it once it runs). */
async function marker(path: string, child: ChildProcess): Promise<string> {
  for (;;) {
    if (existsSync(path)) {
      const text = readFileSync(path, 'utf8')
      if (text.endsWith('\n')) return text.trim()
    }
    if (child.exitCode !== null || child.signalCode !== null) assert.fail(`the process ended before writing ${path}`)
    await sleep(20)
  }
}

/** The metadata of a profile (what this file checks: the same in every document version). */
function meta(path: string): { pid: number; exitStatus: number; partial: boolean; warnings: string[] } {
  return (JSON.parse(readFileSync(path, 'utf8')) as { metadata: { pid: number; exitStatus: number; partial: boolean; warnings: string[] } }).metadata
}

/** A script that writes its pid to argv[1] once running, then spins until stopped. */
const SPIN = 'import os, sys\nwith open(sys.argv[1], "w") as f:\n    f.write(str(os.getpid()) + "\\n")\ndef step():\n    return sum(range(100))\nwhile True:\n    step()\n'

for (const minor of MINORS) {
  test(`3.${minor}: -o naming the script, a folder, a missing folder or a device is refused before the script runs (exit 2)`, (t) => {
    const python = requirePython(t, minor)
    if (!python) return
    const dir = work()
    const script = join(dir, 'victim.py')
    const source = `open(${JSON.stringify(join(dir, 'ran'))}, "w").close()\n`
    writeFileSync(script, source)
    mkdirSync(join(dir, 'sub'))
    const cases: [string[], RegExp][] = [
      [['-o', 'victim.py', 'victim.py'], /-o victim\.py: that is an input of this command \(victim\.py\); pyxray never overwrites its inputs/],
      [['-o', script, 'victim.py'], /that is an input/],
      [['-o', 'sub', 'victim.py'], /-o sub: that is a folder/],
      [['-o', 'nope/p.json', 'victim.py'], /folder \S+nope does not exist/],
      [['-o', '/dev/null', 'victim.py'], /not a regular file/],
      [['--repeat', '2', '-o', 'victim.py', 'victim.py'], /that is an input/],
    ]
    for (const [args, message] of cases) {
      const r: SpawnSyncReturns<string> = spawnSync(process.execPath, ['--import', TSX, MAIN, 'profile', '--python', python, ...args], { cwd: dir, encoding: 'utf8' })
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, message)
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
      assert.equal(readFileSync(script, 'utf8'), source)
      assert.ok(!existsSync(join(dir, 'ran')), `${args.join(' ')}: the script ran`)
    }
    // The agent itself checks too (python -m pyxray, and -m module, which pyxray cannot resolve).
    writeFileSync(join(dir, 'mod.py'), source)
    const agent = spawnSync(python, ['-m', 'pyxray', '-o', 'mod.py', '-m', 'mod'], { cwd: dir, encoding: 'utf8', env: { ...process.env, PYTHONPATH: join(import.meta.dirname, '..', 'python') } })
    assert.equal(agent.status, 2, agent.stderr)
    assert.match(agent.stderr, /-o \S+mod\.py: that is the program being profiled/)
    assert.equal(readFileSync(join(dir, 'mod.py'), 'utf8'), source)
    assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.tmp') || f.startsWith('.pyxray')), [])
  })

  test(`3.${minor}: mem -o and --dot never overwrite the script, checked before it runs`, (t) => {
    const python = requirePython(t, minor)
    if (!python) return
    const dir = work()
    writeFileSync(join(dir, 'app.py'), 'class W: pass\nw = W()\n')
    for (const args of [['growth', 'app.py', '-o', 'app.py'], ['path', '--type', 'W', 'app.py', '--dot', 'app.py'], ['path', '--type', 'W', 'app.py', '-o', 'x.json', '--dot', 'x.json']]) {
      const r: SpawnSyncReturns<string> = spawnSync(process.execPath, ['--import', TSX, MAIN, 'mem', ...args, '--python', python], { cwd: dir, encoding: 'utf8' })
      assert.equal(r.status, 2, r.stderr)
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
      assert.equal(readFileSync(join(dir, 'app.py'), 'utf8'), 'class W: pass\nw = W()\n')
    }
  })

  test(`3.${minor}: os._exit(7) writes a partial profile and keeps the exit code (plain Python: 7)`, async (t) => {
    const python = requirePython(t, minor)
    if (!python) return
    const dir = work()
    writeFileSync(join(dir, 'app.py'), 'import os\ndef work():\n    return sum(range(1000))\nwork()\nos._exit(7)\n')
    const plain = spawnSync(python, ['app.py'], { cwd: dir })
    const r = await ended(pyxray(['profile', '--python', python, '-q', '-o', 'p.json', 'app.py'], dir))
    assert.equal(shellCode(r), plain.status)
    assert.equal(r.code, 7)
    assert.match(r.stderr, /os\._exit\(7\): partial profile written to/)
    const m = meta(join(dir, 'p.json'))
    assert.equal(m.exitStatus, 7)
    assert.equal(m.partial, true)
  })

  for (const sig of ['SIGTERM', 'SIGHUP', 'SIGINT'] as const) {
    test(`3.${minor}: ${sig} to pyxray profile reaches the script, which writes a partial profile; exit code as plain Python's`, async (t) => {
      const python = requirePython(t, minor)
      if (!python) return
      const dir = work()
      writeFileSync(join(dir, 'spin.py'), SPIN)
      const alone = spawn(python, ['spin.py', join(dir, 'plain-ready')], { cwd: dir, stdio: 'ignore' })
      const plainEnd = ended(alone)
      await marker(join(dir, 'plain-ready'), alone)
      alone.kill(sig)
      const plain = shellCode(await plainEnd)
      const child = pyxray(['profile', '--python', python, '-q', '-o', 'p.json', 'spin.py', join(dir, 'ready')], dir)
      const end = ended(child)
      await marker(join(dir, 'ready'), child)
      child.kill(sig)
      const r = await end
      assert.equal(shellCode(r), plain, r.stderr)
      const m = meta(join(dir, 'p.json'))
      assert.equal(m.partial, true)
      assert.equal(m.exitStatus, plain)
    })
  }

  test(`3.${minor}: SIGKILL of the Python child gives 137, as plain Python's`, async (t) => {
    const python = requirePython(t, minor)
    if (!python) return
    const dir = work()
    writeFileSync(join(dir, 'spin.py'), SPIN)
    const child = pyxray(['profile', '--python', python, '-q', '-o', 'p.json', 'spin.py', join(dir, 'ready')], dir)
    const end = ended(child)
    process.kill(Number(await marker(join(dir, 'ready'), child)), 'SIGKILL')
    const r = await end
    assert.equal(shellCode(r), 137, r.stderr)
  })

  test(`3.${minor}: timeout N pyxray profile leaves a partial profile (exit code as with plain Python)`, async (t) => {
    const python = requirePython(t, minor)
    if (!python) return
    if (spawnSync('timeout', ['--version']).status !== 0) return requireResource(t, 'no timeout(1) (coreutils)')
    const dir = work()
    writeFileSync(join(dir, 'spin.py'), SPIN)
    // timeout signals its whole process group: pyxray and the script both get SIGTERM. The
    // duration is long enough for the slowest start; nothing is asserted about time.
    const r = await ended(spawn('timeout', ['20', process.execPath, '--import', TSX, MAIN, 'profile', '--python', python, '-q', '-o', 'p.json', 'spin.py', join(dir, 'ready')], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }))
    assert.equal(r.code, 124, r.stderr)
    const m = meta(join(dir, 'p.json'))
    assert.equal(m.partial, true)
    assert.equal(m.exitStatus, 143)
  })

  test(`3.${minor}: --subprocesses files: a forked child writes its own profile beside the parent's (out.<pid>.json), never the parent's; one table`, async (t) => {
    const python = requirePython(t, minor)
    if (!python) return
    const dir = work()
    const source = [
      'import multiprocessing as mp, os, sys',
      'def double(x):',
      '    return x * 2',
      'if __name__ == "__main__":',
      '    pid = os.fork()',
      '    if pid == 0:',
      '        sys.exit(3)',
      '    os.waitpid(pid, 0)',
      '    ctx = mp.get_context("fork")',
      '    p = ctx.Process(target=double, args=(1,))',
      '    p.start()',
      '    p.join()',
      '    print(pid, p.pid, p.exitcode)',
      '    sys.exit(5)',
      '',
    ].join('\n')
    writeFileSync(join(dir, 'app.py'), source)
    const plain = spawnSync(python, ['app.py'], { cwd: dir, encoding: 'utf8' })
    const r = await ended(pyxray(['profile', '--python', python, '--subprocesses', 'files', '-o', 'out.json', 'app.py'], dir))
    assert.equal(r.code, plain.status, r.stderr)
    assert.equal(r.code, 5)
    const [forked, processChild] = r.stdout.trim().split(' ').map(Number)
    const parent = meta(join(dir, 'out.json'))
    assert.equal(parent.exitStatus, 5)
    assert.notEqual(parent.pid, forked)
    assert.equal(meta(join(dir, `out.${forked}.json`)).exitStatus, 3)
    assert.equal(meta(join(dir, `out.${processChild}.json`)).pid, processChild)
    assert.equal((meta(join(dir, `out.${forked}.json`)) as { parentPid?: number }).parentPid, parent.pid)
    assert.equal(r.stderr.match(/profile written to/g)?.length, 1, r.stderr)
  })
}

// Shadowing is checked on every supported version: how -c and sys.path start differs between them.
for (const minor of NATIVE_MINORS) {
  test(`3.${minor}: a pyxray.py or json.py in the current folder neither replaces the agent nor breaks it; the script imports its own json.py, as with python`, async (t) => {
    const python = requirePython(t, minor)
    if (!python) return
    const dir = work()
    writeFileSync(join(dir, 'pyxray.py'), 'print("the folder\'s pyxray.py ran")\nraise SystemExit(0)\n')
    writeFileSync(join(dir, 'json.py'), 'MINE = "the folder\'s json"\n')
    writeFileSync(join(dir, 'app.py'), 'import json, sys\nprint(json.MINE)\nsys.exit(4)\n')
    const plain = spawnSync(python, ['app.py'], { cwd: dir, encoding: 'utf8' })
    assert.equal(plain.status, 4, plain.stderr)
    const r = await ended(pyxray(['profile', '--python', python, '-q', '-o', 'p.json', 'app.py'], dir))
    assert.equal(r.code, plain.status, r.stderr)
    assert.equal(r.stdout, plain.stdout)
    assert.equal(meta(join(dir, 'p.json')).exitStatus, 4)
    // pyxray mem starts the same way.
    const m = await ended(pyxray(['mem', 'growth', 'app.py', '--python', python], dir))
    assert.doesNotMatch(m.stdout + m.stderr, /the folder's pyxray\.py ran/)
  })
}
