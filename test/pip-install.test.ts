/**
 * `pip install` of the agent, the documented way to use `with Profiler()` in one's own code: on
 * every native CPython, a fresh virtual environment gets python/ installed offline
 * (`pip install --no-index`; the in-tree build backend python/build_backend/pyxray_build.py needs
 * nothing from an index), and from a folder outside the repository, with no PYTHONPATH:
 *
 * - the installed package carries `_accel.c`, so the C engine is built on first use and
 *   `python -m pyxray -o out.json script.py` and `from pyxray import Profiler` both profile with
 *   `metadata.engine == "c"`;
 * - `pyxray` is imported from the environment, not from the repository.
 *
 * An interpreter whose venv has no pip (the Debian-root 3.14/3.15 of
 * scripts/setup-native-pythons.sh have no ensurepip) gets a `--without-pip` environment that
 * another interpreter's pip installs into (`pip install --target` its site-packages: the wheel is
 * pure Python). A missing interpreter or pip skips with the reason, except under CI=true where it
 * fails.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, type TestContext, test } from 'node:test'
import { PYTHON_DIR, type Run, runProcess } from './agent-run.js'
import { NATIVE_MINORS, pythonFor, requirePython } from './pyenv.js'
import { requireResource } from './resources.js'

const WORK = mkdtempSync(join(tmpdir(), 'pyxray-pip-'))
after(() => rmSync(WORK, { recursive: true, force: true }))

/** The environment of every command: no PYTHONPATH (the package must come from the venv). */
const ENV = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? WORK, PYTHONDONTWRITEBYTECODE: '1', PIP_NO_INDEX: '1', PIP_DISABLE_PIP_VERSION_CHECK: '1' }

function run(command: string, args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<Run> {
  return runProcess(command, args, { timeoutMs: 300_000, cwd: options.cwd ?? WORK, env: { ...ENV, ...options.env } })
}

/** Skips (fails under CI=true) with `reason`. */
function missing(t: TestContext, reason: string): undefined {
  requireResource(t, reason)
  return undefined
}

let helper: Promise<string | undefined> | undefined
/** An interpreter with pip, to install into an environment that has none (`pip install --target`). */
function helperPip(): Promise<string | undefined> {
  helper ??= (async () => {
    for (const minor of NATIVE_MINORS) {
      const python = pythonFor(minor)
      if (python === undefined) continue
      if ((await run(python, ['-m', 'pip', '--version'])).status === 0) return python
    }
    return undefined
  })()
  return helper
}

const SCRIPT = `
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

print(fib(18))
`

const API = `
import json, pyxray
from pyxray import Profiler

def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

with Profiler() as p:
    fib(15)
meta = p.to_dict()["metadata"]
print(json.dumps({"file": pyxray.__file__, "engine": meta["engine"], "reason": meta.get("engineReason")}))
`

describe('pip install of the agent (offline, into a fresh venv)', { concurrency: 2 }, () => {
  for (const minor of NATIVE_MINORS) {
    test(`CPython 3.${minor}: the installed agent builds and runs the C engine`, async (t) => {
      const python = requirePython(t, minor)
      if (python === undefined) return
      const venv = join(WORK, `venv-3.${minor}`)
      const made = await run(python, ['-m', 'venv', venv])
      let install: [string, string[]]
      const venvPython = join(venv, 'bin', 'python')
      if (made.status === 0) {
        install = [venvPython, ['-m', 'pip', 'install', '-q', '--no-index', PYTHON_DIR]]
      } else {
        // No ensurepip: an environment without pip, installed into by another interpreter's pip
        // (the wheel is pure Python: pip unpacks it into the environment's site-packages).
        assert.match(made.stdout + made.stderr, /ensurepip/, made.stderr)
        rmSync(venv, { recursive: true, force: true })
        const bare = await run(python, ['-m', 'venv', '--without-pip', venv])
        assert.equal(bare.status, 0, bare.stderr)
        const pip = await helperPip()
        if (pip === undefined) return missing(t, `CPython 3.${minor} has no ensurepip and no interpreter here has pip to install with`)
        const purelib = await run(venvPython, ['-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'])
        assert.equal(purelib.status, 0, purelib.stderr)
        install = [pip, ['-m', 'pip', 'install', '-q', '--no-index', '--no-compile', '--target', purelib.stdout.trim(), PYTHON_DIR]]
      }
      const installed = await run(...install)
      assert.equal(installed.status, 0, `${install[1].join(' ')}:\n${installed.stderr}`)
      const site = await run(venvPython, ['-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'])
      assert.ok(existsSync(join(site.stdout.trim(), 'pyxray', '_accel.c')), 'the package carries the C engine source')
      assert.ok(existsSync(join(site.stdout.trim(), 'pyxray', '_accel_sigprof.c')), 'and the file it includes')

      // From a folder outside the repository, a private cache: the first run builds the engine.
      const here = join(WORK, `project-3.${minor}`)
      mkdirSync(here)
      writeFileSync(join(here, 'script.py'), SCRIPT)
      writeFileSync(join(here, 'api.py'), API)
      const env = { PYXRAY_CACHE_DIR: join(WORK, `cache-3.${minor}`) }
      const cli = await run(venvPython, ['-m', 'pyxray', '-q', '-o', 'out.json', 'script.py'], { cwd: here, env })
      assert.equal(cli.status, 0, cli.stderr)
      assert.equal(cli.stdout, '2584\n')
      const meta = (JSON.parse(readFileSync(join(here, 'out.json'), 'utf8')) as { metadata: { engine: string; engineReason?: string } }).metadata
      assert.equal(meta.engine, 'c', meta.engineReason)
      const api = await run(venvPython, ['api.py'], { cwd: here, env })
      assert.equal(api.status, 0, api.stderr)
      const got = JSON.parse(api.stdout) as { file: string; engine: string; reason: string | null }
      assert.ok(got.file.startsWith(venv), `pyxray imported from the venv: ${got.file}`)
      assert.equal(got.engine, 'c', got.reason ?? '')
    })
  }
})
