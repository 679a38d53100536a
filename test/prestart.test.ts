/**
 * The default runtime started early (src/cli/prestart.ts, src/runtime/prestart.ts): which command
 * lines start python3's worker before the commands load, and that the command then uses that worker
 * instead of starting a second one. Worker starts are counted by a python3 on PATH that logs each
 * start of the agent's worker and runs the real interpreter.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { test } from 'node:test'
import { compilesWithDefaultRuntime } from '../src/cli/prestart.js'
import { requirePython } from './pyenv.js'

const ROOT = join(import.meta.dirname, '..')

test('which command lines compile source with the default runtime', () => {
  const yes = [
    ['dis', 'app.py'],
    ['dis', 'app.py', '--format', 'dis'],
    ['dis', 'app.py:Greeter.hello'],
    ['dis', 'app.py:12', '-O', '2'],
    ['dis', '-c', 'x = 1'],
    ['dis', '--command=x = 1'],
    ['dis', '-'],
    ['ast', 'app.py'],
    ['stack', '-v', 'app.py'],
    ['code', 'app.py', '--format', 'json'],
  ]
  const no = [
    [],
    ['dis', 'app.pyc'],
    ['dis', 'folder'],
    ['dis', 'app.py', '--python', '3.12'],
    ['dis', 'app.py', '--python=3.12'],
    ['dis', 'app.py', '--runtime', 'pyodide'],
    ['dis', 'app.py', '--help'],
    ['dis', '-h', 'app.py'],
    ['dis', 'raw.bin', '--python-version', '3.12'],
    ['dis', 'app.py', '--adaptive', '--call', 'f()'],
    ['dis', '--', 'app.py'],
    ['profile', 'app.py'],
    ['runtimes'],
    ['report', 'app.py'],
  ]
  for (const argv of yes) assert.equal(compilesWithDefaultRuntime(argv), true, argv.join(' '))
  for (const argv of no) assert.equal(compilesWithDefaultRuntime(argv), false, argv.join(' '))
})

test('a command started early uses the worker started early: one python3 worker per command', (t) => {
  const real = requirePython(t, 12)
  if (!real) return
  const dir = mkdtempSync(join(tmpdir(), 'pyxray-prestart-'))
  const log = join(dir, 'starts.log')
  const bin = join(dir, 'bin')
  spawnSync('mkdir', [bin])
  // python3 on PATH: logs each start of the agent's worker (not the probes), then runs the real one.
  writeFileSync(join(bin, 'python3'), `#!/bin/sh\ncase "$*" in *pyxray.worker*) echo worker >> ${JSON.stringify(log)};; esac\nexec ${JSON.stringify(real)} "$@"\n`)
  chmodSync(join(bin, 'python3'), 0o755)
  const app = join(dir, 'app.py')
  writeFileSync(app, 'def f(x):\n    return x + 1\n')
  const pyc = join(dir, 'app.cpython-312.pyc')
  spawnSync(real, ['-c', `import py_compile; py_compile.compile(${JSON.stringify(app)}, cfile=${JSON.stringify(pyc)})`])
  assert.ok(existsSync(pyc))

  // What bin/pyxray.js does, from the sources: prestart, then load and run the commands.
  const entry = `
    const argv = JSON.parse(process.env.ARGV)
    const { prestart } = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'src', 'cli', 'prestart.ts')).href)})
    const early = prestart(argv)
    const { main } = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'src', 'cli', 'main.ts')).href)})
    let out = ''
    const code = await main(argv, { out: (s) => { out += s }, err: (s) => process.stderr.write(s) })
    process.stdout.write(JSON.stringify({ early, code, out }))
  `
  const run = (argv: string[]) => {
    writeFileSync(log, '')
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', entry], {
      encoding: 'utf8',
      cwd: ROOT,
      env: { ...process.env, ARGV: JSON.stringify(argv), PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`, PYXRAY_PYTHON: '' },
    })
    assert.equal(r.status, 0, r.stderr)
    const result = JSON.parse(r.stdout) as { early: boolean; code: number; out: string }
    return { ...result, workers: readFileSync(log, 'utf8').split('\n').filter(Boolean).length, stderr: r.stderr }
  }

  const source = run(['dis', app, '--format', 'dis', '-v'])
  assert.equal(source.code, 0, source.stderr)
  assert.equal(source.early, true)
  assert.match(source.out, /BINARY_OP\s+0 \(\+\)/)
  assert.match(source.stderr, new RegExp(`runtime native CPython 3\\.12\\.\\d+ .*: python3 on PATH`))
  assert.equal(source.workers, 1, 'the worker started early is the one used')

  const compiled = run(['dis', pyc, '--format', 'dis'])
  assert.equal(compiled.code, 0, compiled.stderr)
  assert.equal(compiled.early, false)
  assert.equal(compiled.workers, 0, 'a .pyc needs no Python')
  assert.equal(compiled.out, source.out, 'the same code object, read from the .pyc')

  const chosen = run(['dis', app, '--format', 'dis', '--python', real])
  assert.equal(chosen.code, 0, chosen.stderr)
  assert.equal(chosen.early, false)
  assert.equal(chosen.workers, 0, 'python3 on PATH is not started for --python')
})
