/**
 * Deep recursion is ordinary input: a program that recurses 10,000 and 100,000 deep, profiled by
 * `python -m pyxray` on every native CPython, writes its profile (version 2: flat nodes), which
 * that same Python's plain `json.load` reads, and which pyxray's core reader reads (checked against
 * the schema and the tree invariants by test/agent-run.ts). The recursion runs in a thread with a
 * large stack, so that the interpreters that use the C stack per Python call (3.8–3.10) reach the
 * depth too.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import type { ProfileNode } from '../src/profile/document.js'
import { readProfile, runPython } from './agent-run.js'
import { NATIVE_MINORS, requirePython } from './pyenv.js'

const WORK = mkdtempSync(join(tmpdir(), 'pyxray-deep-'))
after(() => rmSync(WORK, { recursive: true, force: true }))

const PROGRAM = `
import sys, threading
sys.setrecursionlimit(250000)
threading.stack_size(1024 * 1024 * 1024)  # 3.8-3.10 use C stack per Python call

def down(n):
    if n == 0:
        return 0
    return down(n - 1) + 1

def main():
    print(down(int(sys.argv[1])))

worker = threading.Thread(target=main, name="deep")
worker.start()
worker.join()
`

/** Run by the profiled interpreter on the file: plain json.load, then the deepest chain of nodes. */
const JSON_LOAD = `
import json, sys
with open(sys.argv[1]) as f:
    doc = json.load(f)
deepest = 0
for thread in doc["threads"]:
    depth = []
    for node in thread["nodes"]:
        depth.append(0 if node["parent"] is None else depth[node["parent"]] + 1)
    deepest = max(deepest, max(depth))
print(json.dumps({"version": doc["version"], "deepest": deepest}))
`

/** The deepest node of the profile's trees and the calls of `down`, walked iteratively. */
function measure(doc: ReturnType<typeof readProfile>): { deepest: number; downCalls: number; downNodes: number } {
  const down = doc.frames.findIndex((f) => f.qualname === 'down')
  let deepest = 0
  let downCalls = 0
  let downNodes = 0
  for (const thread of doc.threads) {
    const todo: [ProfileNode, number][] = [[thread.root, 0]]
    while (todo.length > 0) {
      const [n, d] = todo.pop()!
      deepest = Math.max(deepest, d)
      if (n.frame === down) {
        downCalls += n.calls
        downNodes++
      }
      for (const c of n.children) todo.push([c, d + 1])
    }
  }
  return { deepest, downCalls, downNodes }
}

describe('deep recursion profiles on every native CPython', { timeout: 20 * 60_000 }, () => {
  const script = join(WORK, 'deep.py')
  writeFileSync(script, PROGRAM)
  for (const minor of NATIVE_MINORS) {
    for (const depth of [10_000, 100_000]) {
      test(`3.${minor}: ${depth.toLocaleString('en')} deep`, async (t) => {
        const python = requirePython(t, minor)
        if (!python) return
        const out = join(WORK, `deep-3${minor}-${depth}.json`)
        // Not quiet: the agent's end-of-run table walks the deep tree too.
        const run = await runPython(python, ['-m', 'pyxray', '-o', out, script, String(depth)], { cwd: WORK, timeoutMs: 600_000 })
        assert.equal(run.status, 0, run.stderr)
        assert.equal(run.stdout.trim(), String(depth))
        assert.match(run.stderr, /\bdown\b/, 'the table names the recursive function')
        const loaded = await runPython(python, ['-c', JSON_LOAD, out])
        assert.equal(loaded.status, 0, `json.load of the profile in 3.${minor}: ${loaded.stderr}`)
        const seen = JSON.parse(loaded.stdout) as { version: number; deepest: number }
        assert.equal(seen.version, 3)
        assert.ok(seen.deepest > depth, `json.load sees the whole chain (deepest ${seen.deepest})`)
        const doc = readProfile(out) // the core reader, then the invariants
        const m = measure(doc)
        assert.equal(m.deepest, seen.deepest, 'the core reader and json.load see the same tree')
        assert.equal(m.downNodes, depth + 1, 'one node per level of down')
        assert.equal(m.downCalls, depth + 1, 'down(n) … down(0)')
      })
    }
  }
})
