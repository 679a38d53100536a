/**
 * The C engine's toolchain (python/pyxray/_accel_build.py), on the oldest and newest installed
 * CPython, each build into a fresh cache folder:
 *
 * - sysconfig's compiler is not on PATH (a conda-like prefixed name, faked in sysconfig's
 *   variables, LDSHARED with it): `cc`, `gcc`, `clang` are tried in turn, and with only `gcc` on
 *   PATH the engine is built with it, compiled and linked (LDSHARED's compiler replaced), and
 *   a profile says `engine: "c"`;
 * - no compiler on PATH at all: the Python engine runs, and `metadata.engineReason` names every
 *   compiler tried;
 * - the environment's CC, CFLAGS, LDFLAGS and LDSHARED take part as they do for setuptools:
 *   wrapper scripts record the two commands, which carry sysconfig's CFLAGS and CCSHARED
 *   (compile), $LDSHARED (link), $CFLAGS (both) and $LDFLAGS (link).
 */
import assert from 'node:assert/strict'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { PYTHON_DIR, runProcess } from './agent-run.js'
import { NATIVE_MINORS, pythonFor } from './pyenv.js'

const WORK = mkdtempSync(join(tmpdir(), 'pyxray-toolchain-'))
after(() => rmSync(WORK, { recursive: true, force: true }))

const BOGUS = 'x86_64-bogus-linux-gnu-gcc'

/**
 * Runs in the interpreter: with `fake` set, sysconfig's CC becomes the bogus prefixed compiler
 * (keeping its options) and LDSHARED starts with it, as in a conda build; then profiles a small
 * run with the C engine allowed and prints what the build found.
 */
const SCRIPT = String.raw`
import json, os, sys, sysconfig
sys.path.insert(0, sys.argv[1])
fake = sys.argv[2] == "fake"
config = sysconfig.get_config_vars()  # the dict sysconfig.get_config_var reads
if fake:
    cc = config["CC"].split()
    config["LDSHARED"] = config["LDSHARED"].replace(cc[0], "${BOGUS}", 1)
    config["CC"] = " ".join(["${BOGUS}"] + cc[1:])
from pyxray import _accel_build, Profiler
compiler, tried = _accel_build.find_compiler()
commands = _accel_build.build_commands(compiler, "/out/_accel.so") if compiler else None
p = Profiler(accel="auto", overhead="off")
with p:
    sorted(range(100))
meta = p.to_dict()["metadata"]
print(json.dumps({
    "compiler": compiler, "tried": tried, "commands": commands,
    "engine": meta["engine"], "reason": meta.get("engineReason"),
    "cflags": sysconfig.get_config_var("CFLAGS"), "ccshared": sysconfig.get_config_var("CCSHARED"),
}))
`

interface Found {
  compiler: string[] | null
  tried: string[]
  commands: string[][] | null
  engine: string
  reason: string | null
  cflags: string
  ccshared: string
}

/** A folder with only these programs of /usr/bin (and what gcc runs: as, ld), as PATH. */
function pathWith(name: string, programs: string[]): string {
  const dir = join(WORK, name)
  mkdirSync(dir)
  for (const p of programs) symlinkSync(join('/usr/bin', p), join(dir, p))
  return dir
}

async function probe(python: string, mode: 'fake' | 'real', env: { [key: string]: string }): Promise<Found> {
  const cache = mkdtempSync(join(WORK, 'cache-'))
  const r = await runProcess(python, ['-I', '-c', SCRIPT, PYTHON_DIR, mode], { env: { PYXRAY_CACHE_DIR: cache, ...env }, timeoutMs: 300_000 })
  assert.equal(r.status, 0, r.stderr)
  return JSON.parse(r.stdout) as Found
}

function installed(): { minor: number; python: string }[] {
  const all = NATIVE_MINORS.map((minor) => ({ minor, python: pythonFor(minor) })).filter((v): v is { minor: number; python: string } => v.python !== undefined)
  return [...new Set([all[0], all[all.length - 1]])].filter((v) => v !== undefined)
}

const haveGcc = (() => {
  try {
    readFileSync('/usr/bin/gcc')
    return true
  } catch {
    return false
  }
})()

test('sysconfig names a compiler that is not on PATH: cc, gcc, clang are tried, and gcc builds it', async (t) => {
  const versions = installed()
  if (versions.length === 0 || !haveGcc) {
    const reason = versions.length === 0 ? 'no CPython 3.8+ is installed' : 'no /usr/bin/gcc'
    if (process.env.CI === 'true') assert.fail(`${reason} (required under CI=true)`)
    t.skip(reason)
    return
  }
  const onlyGcc = pathWith('only-gcc', ['gcc', 'as', 'ld'])
  const none = pathWith('no-compiler', [])
  for (const { minor, python } of versions) {
    const where = `CPython 3.${minor}`
    const built = await probe(python, 'fake', { PATH: onlyGcc })
    assert.deepEqual(built.tried, [BOGUS, 'cc', 'gcc'], where)
    assert.equal(built.compiler?.[0], 'gcc', where)
    assert.equal(built.commands?.[0]?.[0], 'gcc', `${where}: compiled with gcc`)
    assert.equal(built.commands?.[1]?.[0], 'gcc', `${where}: linked with LDSHARED, its compiler replaced`)
    assert.equal(built.engine, 'c', `${where}: ${built.reason}`)
    assert.equal(built.reason, null, where)

    const missing = await probe(python, 'fake', { PATH: none })
    assert.deepEqual(missing.tried, [BOGUS, 'cc', 'gcc', 'clang'], where)
    assert.equal(missing.engine, 'python', where)
    assert.equal(missing.reason, `no C compiler found on PATH (tried sysconfig's CC '${BOGUS}', then cc, gcc, clang)`, where)
  }
})

test("the environment's CC, CFLAGS, LDFLAGS and LDSHARED are used as setuptools uses them", async (t) => {
  const versions = installed()
  if (versions.length === 0 || !haveGcc) {
    const reason = versions.length === 0 ? 'no CPython 3.8+ is installed' : 'no /usr/bin/gcc'
    if (process.env.CI === 'true') assert.fail(`${reason} (required under CI=true)`)
    t.skip(reason)
    return
  }
  const wrappers = join(WORK, 'wrappers')
  mkdirSync(wrappers)
  const log = join(wrappers, 'log.txt')
  for (const name of ['my-cc', 'my-ld']) {
    writeFileSync(join(wrappers, name), `#!/bin/sh\necho "${name} $*" >> '${log}'\nexec /usr/bin/gcc "$@"\n`)
    chmodSync(join(wrappers, name), 0o755)
  }
  for (const { minor, python } of versions) {
    const where = `CPython 3.${minor}`
    writeFileSync(log, '')
    const found = await probe(python, 'real', {
      PATH: process.env.PATH ?? '',
      CC: join(wrappers, 'my-cc'),
      LDSHARED: `${join(wrappers, 'my-ld')} -shared`,
      CFLAGS: '-DPYXRAY_FROM_CFLAGS',
      LDFLAGS: '-Wl,--as-needed',
    })
    assert.equal(found.engine, 'c', `${where}: ${found.reason}`)
    const lines = readFileSync(log, 'utf8').trim().split('\n')
    const compile = lines.find((l) => l.startsWith('my-cc '))
    const link = lines.find((l) => l.startsWith('my-ld '))
    assert.ok(compile !== undefined && link !== undefined, `${where}: both wrappers ran: ${lines.join(' | ')}`)
    const words = compile.split(' ')
    for (const flag of [...found.cflags.split(/\s+/).filter(Boolean), ...found.ccshared.split(/\s+/).filter(Boolean), '-DPYXRAY_FROM_CFLAGS', '-c']) {
      assert.ok(words.includes(flag), `${where}: the compile command has ${flag}: ${compile}`)
    }
    const linkWords = link.split(' ')
    for (const flag of ['-shared', '-Wl,--as-needed', '-DPYXRAY_FROM_CFLAGS']) assert.ok(linkWords.includes(flag), `${where}: the link command has ${flag}: ${link}`)
    assert.ok(linkWords.some((w) => w.endsWith('.o')), `${where}: the link command links the object file: ${link}`)
  }
})
