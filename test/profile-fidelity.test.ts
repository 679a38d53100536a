/**
 * Fidelity on real programs that are not ours: standard-library modules run as programs
 * (`-m json.tool` on a big generated file, `-m tabnanny` and `-m compileall -f` over copies of
 * stdlib modules, `-m pydoc -w`, `-m unittest` on a small suite, `-m zipfile -c`, `-m calendar`,
 * a difflib/textwrap/pprint workload) and, on the system python3 when Debian installed them,
 * third-party packages (Pygments' command line, PyYAML's pure-Python loader and dumper).
 *
 * Each program runs twice per interpreter: under pyxray's command line (`python -m pyxray
 * --libraries all`, so every Python frame is in the tree, not only the user's code and the first
 * call into libraries) and under cProfile driven by the very runner pyxray's command line uses
 * (pyxray/_profile_cli.py `prepare`/`_run`, with a cProfile hook for start/stop), so both see the
 * same program with the same modules imported beforehand. Python-function call counts (every
 * thread's tree vs cProfile's entries, keyed by file:firstlineno:name) must be equal, exactly,
 * with the default trace engine (the C accelerator where it builds) and with the pure-Python one
 * (PYXRAY_ACCEL=0).
 * Bytecode caches are off (PYTHONDONTWRITEBYTECODE) so the second run imports as the first did.
 *
 * Every native CPython of src/versions is used (pyenv's, and 3.14/3.15 of
 * scripts/setup-native-pythons.sh); a missing one is skipped visibly (a failure under CI=true).
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, type TestContext, test } from 'node:test'
import { type ProfileDocument, type ProfileNode, readProfileDocument } from '../src/profile/document.js'
import { NATIVE_MINORS, requirePython, stdlibDir } from './pyenv.js'
import { requireResource } from './resources.js'

const PYTHON_DIR = join(import.meta.dirname, '..', 'python')
const WORK = mkdtempSync(join(tmpdir(), 'pyxray-fidelity-'))
after(() => rmSync(WORK, { recursive: true, force: true }))

/**
 * `harness.py pyxray|cprofile OUT target…`: runs the target under pyxray's command line, or under
 * cProfile through the same runner, and writes the profile (pyxray) or {status, ncalls} (cProfile).
 */
const HARNESS = `"""Runs one program under pyxray's command line ('pyxray') or under cProfile through the very
runner that command line uses ('cprofile'), so both see the same program the same way."""
import cProfile
import json
import os
import sys

from pyxray import _profile_cli as cli
import pyxray.profiler  # noqa: F401  (both runs start with the same modules imported)

HERE = os.path.abspath(__file__)
OWN = os.path.dirname(os.path.abspath(cli.__file__))


def own(filename):
    if filename.startswith("<"):
        return False
    path = os.path.abspath(filename)
    return path == HERE or os.path.dirname(path) == OWN


class CProfileHook:
    """What cli._run needs of a profiler: start(), stop() and running."""

    def __init__(self):
        self.profile = cProfile.Profile()
        self.running = False

    def start(self):
        self.profile.enable()
        self.running = True

    def stop(self):
        self.profile.disable()
        self.running = False


class NoEnds:
    """The process's end handling (signals, os._exit): nothing to write for cProfile."""

    def install(self):
        pass

    def done(self):
        pass


class HookProcess:
    """What cli._run needs of a profiled process: its profiler and how the process ends."""

    def __init__(self, hook):
        self.profiler = hook
        self.ends = NoEnds()


def label(code, cwd):
    """file:firstlineno:name of a Python code object; None for builtins (cProfile gives a string)."""
    if isinstance(code, str):
        return None
    filename = code.co_filename
    if not (filename.startswith("<") or os.path.isabs(filename)):
        filename = os.path.normpath(os.path.join(cwd, filename))
    return "{}:{}:{}".format(filename, code.co_firstlineno, code.co_name)


def ncalls(profile, cwd):
    """ncalls per file:firstlineno:name of every Python function, from cProfile's own entries
    (getstats: pstats' dict keeps only one of several code objects with the same label, as the
    code namedtuple() evaluates), without pyxray's and this file's functions and without the
    calls they made themselves (the runner's own bookkeeping)."""
    out = {}
    for entry in profile.getstats():
        key = label(entry.code, cwd)
        if key is None:
            continue
        if own(entry.code.co_filename):
            for sub in entry.calls or ():
                callee = label(sub.code, cwd)
                if callee is not None and not own(sub.code.co_filename):
                    out[callee] = out.get(callee, 0) - sub.callcount
            continue
        out[key] = out.get(key, 0) + entry.callcount
    return {k: v for k, v in out.items() if v}


def main(argv):
    mode, out, target = argv[0], argv[1], argv[2:]
    if mode == "pyxray":
        return cli.main(["--libraries", "all", "-q", "-o", out] + target)
    cwd = os.getcwd()
    options = cli._parser().parse_args(["--libraries", "all", "-q", "-o", out])  # as main() does (argparse caches regexes)
    prepared = cli.prepare(target)
    cli._preload(options)
    with pyxray.profiler.Profiler(libraries="all"):  # what pyxray's run did before the program
        pass
    try:
        import _posixsubprocess  # noqa: F401  (imported by pyxray's child-process following)
    except ImportError:
        pass
    hook = CProfileHook()
    status, _ = cli._run(HookProcess(hook), prepared)
    with open(out, "w") as f:
        json.dump({"status": status, "ncalls": ncalls(hook.profile, cwd)}, f)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))`

/** Python calls per file:firstlineno:name over every thread's tree. */
function pyxrayCalls(doc: ProfileDocument): Map<string, number> {
  const out = new Map<string, number>()
  const todo: ProfileNode[] = doc.threads.map((t) => t.root)
  while (todo.length > 0) {
    const node = todo.pop()!
    todo.push(...node.children)
    if (node.frame === null) continue
    const f = doc.frames[node.frame]!
    if (f.kind !== 'python') continue
    const key = `${f.file}:${f.firstlineno}:${f.qualname.split('.').pop()}`
    out.set(key, (out.get(key) ?? 0) + node.calls)
  }
  return out
}

interface Run {
  status: number | null
  stderr: string
}

function run(python: string, args: string[], cwd: string, extraEnv: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env = { PATH: process.env.PATH ?? '', PYTHONPATH: PYTHON_DIR, PYTHONDONTWRITEBYTECODE: '1', PYXRAY_CACHE_DIR: join(WORK, 'cache'), ...extraEnv }
    const child = spawn(python, args, { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000)
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.on('error', reject)
    child.on('close', (status) => {
      clearTimeout(timer)
      resolve({ status, stderr })
    })
  })
}

/**
 * Runs `target` under cProfile, then under pyxray, in `cwd`, per engine; asserts equal call counts. `reset`
 * runs before each run, to undo what the first left behind that would change the second.
 */
async function compare(python: string, cwd: string, name: string, target: string[], reset = () => {}): Promise<void> {
  const harness = join(WORK, 'harness.py')
  const cpOut = join(cwd, `${name}.cprofile.json`)
  const pxOut = join(cwd, `${name}.pyxray.json`)
  const expectStatus = 0
  // The default engine (the C accelerator where it builds), then the pure-Python one if that differs.
  // cProfile runs with the same environment each time: what the agent imports before the program
  // (the accelerator's loader imports hashlib, say) is then imported before it on both sides.
  for (const accel of [undefined, '0']) {
    const extraEnv: Record<string, string> = accel === undefined ? {} : { PYXRAY_ACCEL: accel }
    reset()
    const cp = await run(python, [harness, 'cprofile', cpOut, ...target], cwd, extraEnv)
    assert.equal(cp.status, expectStatus, `${name} under cProfile:\n${cp.stderr}`)
    const expected = new Map(Object.entries((JSON.parse(readFileSync(cpOut, 'utf8')) as { ncalls: Record<string, number> }).ncalls))
    const total = [...expected.values()].reduce((a, b) => a + b, 0)
    assert.ok(expected.size >= 20, `${name}: cProfile saw a real program (${expected.size} functions)`)
    reset()
    const px = await run(python, [harness, 'pyxray', pxOut, ...target], cwd, extraEnv)
    assert.equal(px.status, expectStatus, `${name} under pyxray:\n${px.stderr}`)
    const doc = readProfileDocument(readFileSync(pxOut, 'utf8'), pxOut)
    const engine = doc.metadata.engine ?? 'python'
    assert.equal(doc.metadata.libraries, 'all')
    assert.equal(doc.metadata.exitStatus, expectStatus)
    const ours = pyxrayCalls(doc)
    const keys = [...new Set([...expected.keys(), ...ours.keys()])].sort()
    const diffs = keys.filter((k) => ours.get(k) !== expected.get(k)).map((k) => `  ${k}: pyxray ${ours.get(k) ?? 0}, cProfile ${expected.get(k) ?? 0}`)
    assert.deepEqual(diffs, [], `${name} (${engine} engine): ${diffs.length} of ${keys.length} functions (${total} calls) differ:\n${diffs.slice(0, 25).join('\n')}`)
    if (engine === 'python') break
  }
}

/** Stdlib modules copied as data for tabnanny, compileall and zipfile. */
const COPIED = ['textwrap.py', 'difflib.py', 'shlex.py', 'fnmatch.py', 'colorsys.py']

const WORKLOAD = `
import difflib, pprint, textwrap
old = ["line {} {}".format(i, "x" * (i % 7)) for i in range(300)]
new = [s.replace("x", "y") if i % 11 == 0 else s for i, s in enumerate(old)] + ["tail"]
delta = list(difflib.unified_diff(old, new, "old", "new", n=2))
close = difflib.get_close_matches("line 12 xxxxx", old, n=5)
ratio = difflib.SequenceMatcher(None, " ".join(old[:60]), " ".join(new[:60])).ratio()
text = " ".join("word{} is a word of {} letters".format(i, len(str(i)) + 4) for i in range(400))
wrapped = textwrap.fill(text, width=58, initial_indent="  ", subsequent_indent="    ")
dedented = textwrap.dedent(textwrap.indent(wrapped, "> "))
nested = {"k{}".format(i): [list(range(i % 5)), {"v": i, "s": "x" * (i % 9)}, (i, str(i))] for i in range(150)}
shown = pprint.pformat(nested, width=60)
print(len(delta), close, round(ratio, 3), len(wrapped), len(dedented), len(shown))
`

const SUITE = `
import unittest

class Numbers(unittest.TestCase):
    def setUp(self):
        self.values = list(range(50))

    def test_sum(self):
        self.assertEqual(sum(self.values), 1225)

    def test_subtests(self):
        for i in range(10):
            with self.subTest(i=i):
                self.assertLess(i, 10)

    def test_raises(self):
        with self.assertRaises(ZeroDivisionError):
            1 / 0

    @unittest.skip("shows the skip path")
    def test_skipped(self):
        pass

    @unittest.expectedFailure
    def test_expected_failure(self):
        self.assertEqual(1, 2)

class Words(unittest.TestCase):
    def test_dicts(self):
        self.assertDictEqual({"a": 1, "b": [1, 2]}, {"b": [1, 2], "a": 1})

    def test_sequences(self):
        self.assertSequenceEqual("abc", ["a", "b", "c"])
`

/** A folder for one interpreter's programs, with the inputs they read. */
function setup(t: TestContext, minor: number): { python: string; dir: string } | undefined {
  const python = requirePython(t, minor)
  if (python === undefined) return undefined
  const dir = join(WORK, `3.${minor}`)
  mkdirSync(join(dir, 'src'), { recursive: true })
  for (const name of COPIED) copyFileSync(join(stdlibDir(minor)!, name), join(dir, 'src', name))
  const records = Array.from({ length: 2500 }, (_, i) => ({ id: i, name: `item ${i}`, tags: ['a', 'b', 'c'].slice(0, i % 4), price: i * 1.5, nested: { ok: i % 2 === 0, list: [i, null, 'x'] } }))
  writeFileSync(join(dir, 'big.json'), JSON.stringify(records))
  writeFileSync(join(dir, 'test_small.py'), SUITE.replace(/^\n/, ''))
  return { python, dir }
}

writeFileSync(join(WORK, 'harness.py'), HARNESS)

describe("real programs: pyxray's call counts equal cProfile's", { concurrency: true }, () => {
  for (const minor of NATIVE_MINORS) {
    test(`CPython 3.${minor}: stdlib programs`, async (t) => {
      const env = setup(t, minor)
      if (!env) return
      const { python, dir } = env
      await t.test('-m json.tool on a 2,500-record file', () => compare(python, dir, 'json.tool', ['-m', 'json.tool', '--sort-keys', 'big.json', 'out.json']))
      await t.test('-m tabnanny over stdlib copies', () => compare(python, dir, 'tabnanny', ['-m', 'tabnanny', '-v', 'src']))
      // py_compile checks an existing .pyc (os.path.isfile): each run starts without them.
      const noPycs = () => rmSync(join(dir, 'src', '__pycache__'), { recursive: true, force: true })
      await t.test('-m compileall -f over stdlib copies', () => compare(python, dir, 'compileall', ['-m', 'compileall', '-q', '-f', 'src'], noPycs))
      await t.test('-m pydoc -w textwrap', () => compare(python, dir, 'pydoc', ['-m', 'pydoc', '-w', 'textwrap']))
      await t.test('-m unittest on a small suite', () => compare(python, dir, 'unittest', ['-m', 'unittest', '-q', 'test_small']))
      await t.test('-m zipfile -c', () => compare(python, dir, 'zipfile', ['-m', 'zipfile', '-c', 'out.zip', 'src']))
      await t.test('-m calendar 2024', () => compare(python, dir, 'calendar', ['-m', 'calendar', '2024']))
      await t.test('difflib, textwrap and pprint (-c)', () => compare(python, dir, 'workload', ['-c', WORKLOAD]))
    })
  }

  test("system python3: Debian's Pygments and PyYAML", async (t) => {
    const python = '/usr/bin/python3'
    const missing = !existsSync(python)
      ? `${python} does not exist`
      : await run(python, ['-c', 'import pygments, yaml'], WORK).then((r) => (r.status === 0 ? undefined : 'python3-pygments or python3-yaml is not installed (apt-get install python3-pygments python3-yaml)'))
    if (missing) {
      requireResource(t, missing, { optional: true }) // Debian's packages are a bonus here, not a requirement
      return
    }
    const dir = join(WORK, 'system')
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'sample.py'), `${SUITE}\n${WORKLOAD}`)
    await t.test('-m pygments -f html', () => compare(python, dir, 'pygments', ['-m', 'pygments', '-l', 'python', '-f', 'html', '-O', 'linenos=1', '-o', 'out.html', 'sample.py']))
    const yamlWork =
      'import yaml\ndata = {"items": [{"id": i, "tags": ["a", "b"][: i % 3], "ok": i % 2 == 0, "ratio": i / 7} for i in range(120)], "meta": {"name": "x", "when": None}}\n' +
      'text = yaml.dump(data, Dumper=yaml.Dumper)\nassert yaml.load(text, Loader=yaml.Loader) == data\nprint(len(text))\n'
    await t.test('PyYAML dump and load (pure Python)', () => compare(python, dir, 'yaml', ['-c', yamlWork]))
  })
})
