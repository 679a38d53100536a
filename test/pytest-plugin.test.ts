/**
 * The pytest plugin (python/pyxray/pytest_plugin.py) with Debian's python3-pytest on a small suite:
 * - `--pyxray-profile DIR` writes one profile document per test (read by the core reader, the
 *   test's function in it); `--pyxray-marked` only the marked test's;
 * - `--pyxray-counts FILE` writes each test's executed instructions, in total and per function;
 * - `--pyxray-baseline FILE`: the unchanged suite passes; a code path grown by 2 % executed
 *   instructions fails that test alone, naming the function; a bad baseline is a usage error;
 * - without its options the plugin does nothing; `pip install` enables it (a pytest11 entry point).
 *
 * Without python3-pytest (apt-get install -y python3-pytest) the tests are skipped with that reason;
 * under CI=true they fail.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test, type TestContext } from 'node:test'
import { readProfileDocument } from '../src/profile/document.js'
import { PYTHON_DIR } from './agent-run.js'
import { requireResource } from './resources.js'

const PYTHON = process.env.PYXRAY_PYTEST_PYTHON ?? '/usr/bin/python3'
const WORK = mkdtempSync(join(tmpdir(), 'pyxray-pytest-'))
after(() => rmSync(WORK, { recursive: true, force: true }))

function pytestMissing(): string | undefined {
  if (!existsSync(PYTHON)) return `${PYTHON} not found (set PYXRAY_PYTEST_PYTHON to a python3 with pytest)`
  const r = spawnSync(PYTHON, ['-c', 'import pytest'], { encoding: 'utf8' })
  return r.status === 0 ? undefined : `${PYTHON} has no pytest (apt-get install -y python3-pytest)`
}

function ready(t: TestContext): boolean {
  const why = pytestMissing()
  if (why !== undefined) requireResource(t, why)
  return why === undefined
}

/** The suite: crunch()'s loop runs n + EXTRA times (EXTRA from the environment: the planted growth). */
function suite(): string {
  const dir = mkdtempSync(join(WORK, 'suite-'))
  writeFileSync(
    join(dir, 'work.py'),
    `import os
EXTRA = int(os.environ.get("EXTRA", "0"))

def crunch(n):
    total = 0
    for i in range(n + EXTRA):
        total += i * i % 7
    return total

def other(n):
    out = []
    for j in range(n):
        out.append(j * 2)
    return len(out)
`,
  )
  writeFileSync(
    join(dir, 'test_work.py'),
    `import pytest
from work import crunch, other

def test_crunch():
    assert crunch(2000) > 0

def test_other():
    assert other(300) == 300

@pytest.mark.pyxray
def test_marked():
    assert other(50) == 50
`,
  )
  return dir
}

function pytest(dir: string, args: string[], env: Record<string, string> = {}) {
  return spawnSync(PYTHON, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', '-p', 'pyxray.pytest_plugin', ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? WORK, PYTHONPATH: PYTHON_DIR, ...env },
  })
}

interface Counts {
  pyxray: string
  python: string
  tests: Record<string, { instructions: number; functions: Record<string, number> }>
}

test('one profile per test, the counts of every test and function', (t) => {
  if (!ready(t)) return
  const dir = suite()
  const r = pytest(dir, ['--pyxray-profile', 'profiles', '--pyxray-counts', 'counts.json'])
  assert.equal(r.status, 0, r.stdout + r.stderr)
  assert.match(r.stdout, /pyxray: 3 profile\(s\) in .*profiles; instruction counts of 3 test\(s\) in .*counts\.json/)
  const files = readdirSync(join(dir, 'profiles')).sort()
  assert.deepEqual(files, ['test_work.py_test_crunch.json', 'test_work.py_test_marked.json', 'test_work.py_test_other.json'])
  for (const [file, fn] of [['test_work.py_test_crunch.json', 'crunch'], ['test_work.py_test_other.json', 'other']] as const) {
    const doc = readProfileDocument(readFileSync(join(dir, 'profiles', file), 'utf8'), file)
    const names = doc.frames.map((f) => f.qualname)
    assert.ok(names.includes(fn) && names.includes(`test_${fn}`), `${file} holds test_${fn} and ${fn}: ${names.join(', ')}`)
    assert.equal(doc.metadata.count, 'instructions')
  }
  const counts = JSON.parse(readFileSync(join(dir, 'counts.json'), 'utf8')) as Counts
  assert.equal(counts.pyxray, 'counts')
  assert.deepEqual(Object.keys(counts.tests), ['test_work.py::test_crunch', 'test_work.py::test_marked', 'test_work.py::test_other'])
  const crunch = counts.tests['test_work.py::test_crunch']!
  assert.ok(crunch.functions['work.py:crunch']! > 20_000, `crunch ran its loop: ${crunch.functions['work.py:crunch']}`)
  assert.ok(crunch.functions['test_work.py:test_crunch']! > 0)
  assert.ok(crunch.instructions >= Object.values(crunch.functions).reduce((a, b) => a + b, 0))
  // --pyxray-marked: only the marked test.
  const marked = pytest(dir, ['--pyxray-profile', 'only-marked', '--pyxray-marked'])
  assert.equal(marked.status, 0, marked.stdout + marked.stderr)
  assert.deepEqual(readdirSync(join(dir, 'only-marked')), ['test_work.py_test_marked.json'])
})

test('the baseline gate: unchanged passes, a code path grown by 2 % fails naming the function', (t) => {
  if (!ready(t)) return
  const dir = suite()
  const first = pytest(dir, ['--pyxray-counts', 'base.json'])
  assert.equal(first.status, 0, first.stdout + first.stderr)
  const same = pytest(dir, ['--pyxray-baseline', 'base.json', '--pyxray-max-increase', '1%'])
  assert.equal(same.status, 0, same.stdout + same.stderr)
  assert.match(same.stdout, /0 test\(s\) grew beyond 1\.00% of the baseline/)
  // 2 % more iterations of crunch's loop: +2 % of crunch's instructions.
  const grown = pytest(dir, ['--pyxray-baseline', 'base.json', '--pyxray-max-increase', '1%', '--pyxray-counts', 'head.json'], { EXTRA: '40' })
  assert.equal(grown.status, 1, grown.stdout + grown.stderr)
  assert.match(grown.stdout, /FAILED test_work\.py::test_crunch/)
  assert.doesNotMatch(grown.stdout, /FAILED test_work\.py::test_other|FAILED test_work\.py::test_marked/)
  assert.match(grown.stdout, /pyxray: executed bytecode instructions grew \+1\.\d\d% \([\d,]+ -> [\d,]+\), more than --pyxray-max-increase 1\.00%/)
  assert.match(grown.stdout, /\n {2}work\.py:crunch: [\d,]+ -> [\d,]+ \(\+2\.0\d%\)/)
  const base = JSON.parse(readFileSync(join(dir, 'base.json'), 'utf8')) as Counts
  const head = JSON.parse(readFileSync(join(dir, 'head.json'), 'utf8')) as Counts
  const growth = head.tests['test_work.py::test_crunch']!.functions['work.py:crunch']! / base.tests['test_work.py::test_crunch']!.functions['work.py:crunch']! - 1
  assert.ok(growth > 0.019 && growth < 0.021, `the plant is 2 %: ${growth}`)
  // A larger allowance lets it pass.
  const allowed = pytest(dir, ['--pyxray-baseline', 'base.json', '--pyxray-max-increase', '5%'], { EXTRA: '40' })
  assert.equal(allowed.status, 0, allowed.stdout + allowed.stderr)
})

test('bad options are usage errors (exit 4, one line); without options the plugin does nothing', (t) => {
  if (!ready(t)) return
  const dir = suite()
  writeFileSync(join(dir, 'not-counts.json'), '{"hello": 1}')
  for (const [args, message] of [
    [['--pyxray-baseline', 'missing.json'], /--pyxray-baseline missing\.json: cannot read it/],
    [['--pyxray-baseline', 'not-counts.json'], /not a pyxray counts file/],
    [['--pyxray-counts', 'c.json', '--pyxray-max-increase', 'lots'], /--pyxray-max-increase takes a percentage/],
    [['--pyxray-counts', 'not-counts.json', '--pyxray-baseline', 'not-counts.json'], /not a pyxray counts file|would overwrite/],
  ] as const) {
    const r = pytest(dir, [...args])
    assert.equal(r.status, 4, `${args.join(' ')}: ${r.stdout}${r.stderr}`)
    assert.match(r.stderr, message)
    assert.doesNotMatch(r.stderr, /Traceback/)
  }
  const plain = pytest(dir, [])
  assert.equal(plain.status, 0, plain.stdout + plain.stderr)
  assert.doesNotMatch(plain.stdout, /pyxray:/)
  assert.equal(readFileSync(join(dir, 'not-counts.json'), 'utf8'), '{"hello": 1}', 'nothing the user gave is overwritten')
})

test('pip install enables the plugin (a pytest11 entry point); -p and -p no: still work', (t) => {
  if (!ready(t)) return
  const venv = join(WORK, 'venv')
  const made = spawnSync(PYTHON, ['-m', 'venv', '--system-site-packages', venv], { encoding: 'utf8' })
  if (made.status !== 0) return requireResource(t, `${PYTHON} -m venv failed (apt-get install -y python3-venv): ${made.stderr.trim()}`)
  const python = join(venv, 'bin', 'python')
  const pip = spawnSync(python, ['-m', 'pip', 'install', '-q', '--no-index', PYTHON_DIR], { encoding: 'utf8' })
  assert.equal(pip.status, 0, pip.stdout + pip.stderr)
  const dir = suite()
  const run = (args: string[]) => spawnSync(python, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', ...args], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? WORK } })
  const auto = run(['--pyxray-profile', 'auto'])
  assert.equal(auto.status, 0, auto.stdout + auto.stderr)
  assert.equal(readdirSync(join(dir, 'auto')).length, 3, 'enabled without -p')
  const named = run(['-p', 'pyxray.pytest_plugin', '--pyxray-profile', 'named'])
  assert.equal(named.status, 0, named.stdout + named.stderr)
  const off = run(['-p', 'no:pyxray.pytest_plugin', '--pyxray-profile', 'off'])
  assert.equal(off.status, 4, 'disabled: its options are unknown')
})
