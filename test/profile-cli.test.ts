/**
 * `pyxray profile`: the script runs under the agent's profiler in the chosen interpreter, its exit
 * code is kept, and the profile document holds exact call counts.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { test } from 'node:test'
import { readProfileDocument } from '../src/profile/document.js'
import { nativeCacheBin, requirePython } from './pyenv.js'

const MAIN = join(import.meta.dirname, '..', 'src', 'cli', 'main.ts')

interface Node {
  readonly frame: number | null
  readonly calls: number
  readonly children: readonly Node[]
}

/** Calls per qualname over every thread's tree. */
function callsByName(doc: { readonly frames: readonly { qualname: string }[]; readonly threads: readonly { readonly root: Node }[] }): Map<string, number> {
  const out = new Map<string, number>()
  const walk = (n: Node) => {
    if (n.frame !== null) {
      const q = doc.frames[n.frame]!.qualname
      out.set(q, (out.get(q) ?? 0) + n.calls)
    }
    n.children.forEach(walk)
  }
  for (const t of doc.threads) walk(t.root)
  return out
}

/** The environment of the CLI: $PYXRAY_PYTHON_PATHS also names the folder test/pyenv.ts finds 3.14/3.15 in. */
const CLI_ENV = { ...process.env, PYXRAY_PYTHON_PATHS: [process.env.PYXRAY_PYTHON_PATHS, nativeCacheBin()].filter(Boolean).join(delimiter) }

// pyenv's 3.11 and 3.12; 3.14 and 3.15 found through $PYXRAY_PYTHON_PATHS (scripts/setup-native-pythons.sh).
for (const minor of [11, 12, 14, 15]) {
  test(`3.${minor}: pyxray profile --python 3.${minor} keeps the exit code and counts every call, in the C engine`, (t) => {
    if (!requirePython(t, minor)) return
    const dir = mkdtempSync(join(tmpdir(), 'pyxray-prof-'))
    const script = join(dir, 'work.py')
    writeFileSync(script, 'import sys\n\ndef fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n\nfib(10)\nsys.exit(3)\n')
    const out = join(dir, 'p.json')
    const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'profile', '--python', `3.${minor}`, '-v', '--quiet', '-o', out, script, 'arg1'], { encoding: 'utf8', env: CLI_ENV })
    assert.equal(r.status, 3, r.stderr)
    assert.match(r.stderr, new RegExp(`^pyxray: profiling with \\S+ \\(--python 3\\.${minor}: CPython 3\\.${minor}\\.\\d+\\)$`, 'm'))
    const doc = readProfileDocument(readFileSync(out, 'utf8'), out)
    assert.equal(doc.pyxray, 'profile')
    assert.equal((JSON.parse(readFileSync(out, 'utf8')) as { version: number }).version, 3, 'the agent writes version 3')
    assert.equal(doc.metadata.exitStatus, 3)
    assert.match(doc.metadata.python.version, new RegExp(`^3\\.${minor}\\.`))
    assert.equal(doc.metadata.engine, 'c', doc.metadata.engineReason)
    assert.deepEqual(doc.metadata.argv, [script, 'arg1'])
    // fib(10) makes 177 calls.
    assert.equal(callsByName(doc).get('fib'), 177)
  })
}

test('pyxray profile: usage errors exit 2', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'profile'], { encoding: 'utf8' })
  assert.equal(r.status, 2)
  assert.match(r.stderr, /profile needs a script/)
  const p = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'profile', '--runtime', 'wasm', 'x.py'], { encoding: 'utf8' })
  assert.equal(p.status, 2)
  assert.match(p.stderr, /--runtime must be native or pyodide, got "wasm"/)
})
