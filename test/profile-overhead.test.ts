/**
 * Honest numbers: the agent's overhead subtraction (python/pyxray/_profile_tree.py `clamp_self`,
 * `thread_tree`, `OverheadTally`) never takes a node's self time below `floor` per own call, and
 * says how much it subtracted and how much the clamp gave back (metadata.overhead and the table's
 * header).
 *
 * - the clamp itself, on hand-built trees with chosen times (no timing: deterministic);
 * - a real run with a deliberately absurd overhead (--overhead 1ms per call): every node with
 *   calls keeps its floor (a function with 5,000 calls of real work never shows 0), the clamped
 *   total is reported in the document and the header; on every native CPython;
 * - synthetic programs whose true self-time split is known by construction (scripts/known_split.py):
 *   the report is complete and consistent on every version and engine. How close the shares come to
 *   the truth is timing, so it is a benchmark (`npm run bench:known-split`, BENCHMARKS.md), never a
 *   pass/fail test here.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { nodes, PYTHON_DIR, profileWith, runPython } from './agent-run.js'
import { NATIVE_MINORS, requirePython } from './pyenv.js'
import { requireResource } from './resources.js'

const WORK = mkdtempSync(join(tmpdir(), 'pyxray-overhead-'))
after(() => rmSync(WORK, { recursive: true, force: true }))
const ENV = { PYXRAY_CACHE_DIR: join(WORK, 'cache') }
const KNOWN_SPLIT = join(PYTHON_DIR, '..', 'scripts', 'known_split.py')

/** The clamp on hand-built trees: (measured, estimate, floor) in, (self, subtracted, clamped) out. */
const CLAMP_CASES = `
from pyxray._profile_tree import CALLS, CHILDREN, TOTAL, OverheadTally, clamp_self, new_node, new_root, thread_tree

# Not clamped: the estimate leaves more than the floor.
assert clamp_self(100.0, 30.0, 10.0) == (70.0, 30.0, 0.0)
# Clamped at the floor: 95 of the estimated 100 would be too much; 5 is given back.
assert clamp_self(100.0, 100.0, 5.0) == (5.0, 95.0, 5.0)
# The floor never adds time that was not measured.
assert clamp_self(3.0, 10.0, 5.0) == (3.0, 0.0, 10.0)
# Nothing measured, nothing subtracted.
assert clamp_self(0.0, 4.0, 1.0) == (0.0, 0.0, 4.0)

# root -> main (1 call, 1000 measured) -> leaf (10000 calls, 300 measured).
root = new_root()
main = new_node(0, "main", False)
leaf = new_node(1, "leaf", False)
root[CHILDREN][0] = main
main[CHILDREN][0] = leaf
root[TOTAL] = 1000.0
main[CALLS], main[TOTAL] = 1, 1000.0
leaf[CALLS], leaf[TOTAL] = 10000, 300.0
tally = OverheadTally()
# callee 0.05 per call would take 500 from leaf's 300: clamped at floor 0.01 * 10000 = 100.
tree = thread_tree(root, scale=1.0, callee=0.05, caller=0.0, floor=0.01, tally=tally)
main_out = tree["children"][0]
leaf_out = main_out["children"][0]
assert leaf_out["selfNs"] == 100, leaf_out
assert main_out["selfNs"] == 700, main_out  # 1000 - 300 measured in leaf - 0.05, rounded
assert tally.clamped_nodes == 1 and abs(tally.clamped - 300.0) < 1e-9 and abs(tally.subtracted - 200.05) < 1e-9, vars(tally)
print("ok")
`

const BUSY_LEAVES = `
def leaf(x):
    return x * 3 + 1

def main():
    total = 0
    for i in range(5000):
        total += leaf(i)
        if isinstance(i, int):
            total += 1
    return total

main()
`

describe('overhead subtraction is clamped per node', () => {
  test('the clamp on hand-built trees (deterministic)', async (t) => {
    const python = requirePython(t, NATIVE_MINORS[NATIVE_MINORS.length - 1]!)
    if (!python) return
    const r = await runPython(python, ['-c', CLAMP_CASES], { env: ENV })
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stdout.trim(), 'ok')
  })

  for (const minor of NATIVE_MINORS) {
    test(`CPython 3.${minor}: an absurd overhead (--overhead 1ms) leaves every node its floor and says so`, async (t) => {
      const python = requirePython(t, minor)
      if (!python) return
      const dir = mkdtempSync(join(WORK, `absurd-${minor}-`))
      writeFileSync(join(dir, 'busy.py'), BUSY_LEAVES)
      const { result, doc } = await profileWith(python, join(dir, 'p.json'), ['--overhead', '1000000', join(dir, 'busy.py')], { env: ENV, cwd: dir })
      assert.equal(result.status, 0, result.stderr)
      const overhead = doc.metadata.overhead as unknown as Record<string, number>
      assert.ok(overhead.floorNs! > 0, `a floor was measured: ${JSON.stringify(overhead)}`)
      assert.ok(overhead.clampedNs! > 0 && overhead.clampedNodes! >= 2, `the clamp is reported: ${JSON.stringify(overhead)}`)
      assert.ok(overhead.subtractedNs! >= 0)
      for (const { node } of nodes(doc)) {
        if (node.calls >= 1000) assert.ok(node.selfNs > 0, `${doc.frames[node.frame!]!.qualname}: ${node.calls} calls of real work at ${node.selfNs} ns`)
      }
      // The table (printed without -q) says what was subtracted and clamped.
      const shown = await runPython(python, ['-m', 'pyxray', '-o', join(dir, 'q.json'), '--overhead', '1000000', join(dir, 'busy.py')], { env: ENV, cwd: dir })
      assert.match(shown.stderr, /ns\/event overhead subtracted \([\d.]+ ms in all, [\d.]+ ms clamped at \d+ nodes\)/)
    })
  }
})

describe('synthetic programs with a known split (CPU clock)', { concurrency: true }, () => {
  // How close the shares come to the truth is a measurement, not a pass/fail test: it depends on
  // what else the machine runs. It lives in `npm run bench:known-split` (BENCHMARKS.md). Here: the
  // script runs on every engine and version and its report is well formed (deterministic checks).
  for (const minor of NATIVE_MINORS) {
    for (const engine of ['c', 'python'] as const) {
      test(`CPython 3.${minor}, ${engine} engine: the known-split report is complete and consistent`, async (t) => {
        const python = requirePython(t, minor)
        if (!python) return
        const r = await runPython(python, [KNOWN_SPLIT, '--clock', 'cpu', '--rounds', '1'], { env: { ...ENV, PYXRAY_ACCEL: engine === 'c' ? '1' : '0' } })
        assert.equal(r.status, 0, r.stderr)
        const out = JSON.parse(r.stdout) as { engine: string; cases: Record<string, { errorPoints: number; shares: Record<string, number>; truth: Record<string, number> }> }
        if (engine === 'c' && out.engine !== 'c') {
          requireResource(t, `the C engine did not load on 3.${minor}`)
          return
        }
        assert.equal(out.engine, engine)
        assert.ok(Object.keys(out.cases).length >= 2, JSON.stringify(out))
        for (const [name, c] of Object.entries(out.cases)) {
          assert.deepEqual(Object.keys(c.shares).sort(), Object.keys(c.truth).sort(), name)
          const sum = Object.values(c.shares).reduce((a, b) => a + b, 0)
          assert.ok(Math.abs(sum - 1) < 0.01, `${name}: shares sum to ${sum}`)
          for (const share of Object.values(c.shares)) assert.ok(share > 0, `${name}: every function keeps a share: ${JSON.stringify(c.shares)}`)
          assert.ok(c.errorPoints >= 0 && c.errorPoints <= 100, `${name}: ${c.errorPoints}`)
        }
      })
    }
  }
})
