/**
 * Memory mode (`Profiler(memory=True)`, `pyxray profile --memory`) on every native CPython of
 * src/versions, in both engines: the C engine's allocator wrapper (python/pyxray/_accel.c) and the
 * Python engine's tracemalloc polling. test/fixtures/mem-accel/acceptance.py profiles planted
 * functions and prints what the profile says; the expectations are here:
 *
 * - a function that keeps 10 MB alive shows net +10 MB (±1 %) on its node, and its siblings do not;
 * - a function that allocates and frees 10 MB shows net ≈ 0 and peak ≥ 10 MB;
 * - the C engine: a block freed by another function is credited to the one that allocated it
 *   (neither shows −10 MB); a thread's allocations land on its own tree; the allocation count of a
 *   planted loop equals tracemalloc's count of live blocks from the loop's allocating line, with
 *   tracemalloc started before the profile (it then runs below the wrapper) — and with tracemalloc
 *   started inside the profile (above the wrapper) tracemalloc still sees every block and a
 *   later profile still works (the allocators were put back or left passing through).
 *
 * A missing interpreter is skipped, except under CI=true.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { DEFAULT_DIFF_OPTIONS, diffProfiles } from '../src/profile/diff.js'
import { formatDiffText } from '../src/profile/diff-format.js'
import type { ProfileDocument } from '../src/profile/document.js'
import { speedscopeAllocationProfiles, toSpeedscope } from '../src/profile/export/speedscope.js'
import { buildReport, type ReportOptions } from '../src/profile/report.js'
import { formatReportMarkdown } from '../src/profile/report-markdown.js'
import { formatReportText, PLAIN_REPORT } from '../src/profile/report-text.js'
import { nodesOf, readProfile, runPython } from './agent-run.js'
import { NATIVE_MINORS, requirePython } from './pyenv.js'

const SCRIPT = join(import.meta.dirname, 'fixtures', 'mem-accel', 'acceptance.py')
const CACHE = mkdtempSync(join(tmpdir(), 'pyxray-mem-accel-'))
after(() => rmSync(CACHE, { recursive: true, force: true }))

interface Memory {
  netBytes: number
  peakBytes: number
  allocations?: number
  allocatedBytes?: number
}
interface Planted {
  engine: string
  profile: Memory[]
  tracemalloc: number
}
interface Result {
  engine: string
  keep: Memory[]
  sibling: Memory[]
  transient: Memory[]
  give: Memory[]
  take: Memory[]
  main: Memory[]
  worker: Memory[]
  again: Memory[]
  planted?: Planted[]
}

const MB10 = 10_000_000

/** The interpreter of the readers' test (python3 here). */
const SYSTEM_MINOR = 11

function one(list: Memory[], what: string): Memory {
  assert.equal(list.length, 1, `${what}: one node, got ${JSON.stringify(list)}`)
  return list[0]!
}

async function acceptance(python: string, accel: '0' | '1'): Promise<Result> {
  const r = await runPython(python, [SCRIPT], { env: { PYXRAY_ACCEL: accel, PYXRAY_CACHE_DIR: CACHE } })
  assert.equal(r.status, 0, r.stderr)
  return JSON.parse(r.stdout) as Result
}

for (const minor of NATIVE_MINORS) {
  for (const engine of ['c', 'python'] as const) {
    test(`memory mode, ${engine} engine, CPython 3.${minor}: kept, transient and planted allocations`, async (t) => {
      const python = requirePython(t, minor)
      if (python === undefined) return
      const r = await acceptance(python, engine === 'c' ? '1' : '0')
      assert.equal(r.engine, engine)

      const keep = one(r.keep, 'keep')
      assert.ok(Math.abs(keep.netBytes - MB10) <= MB10 / 100, `keep: net ${keep.netBytes}, not 10 MB ± 1 %`)
      assert.ok(keep.peakBytes >= MB10)
      const sibling = one(r.sibling, 'sibling')
      assert.ok(Math.abs(sibling.netBytes) < 10_000, `sibling: net ${sibling.netBytes}`)
      const transient = one(r.transient, 'transient')
      assert.ok(Math.abs(transient.netBytes) < 10_000, `transient: net ${transient.netBytes}, not ≈ 0`)
      assert.ok(transient.peakBytes >= MB10, `transient: peak ${transient.peakBytes} < 10 MB`)
      // keep's 10 MB is held while transient's 10 MB exists: main's peak has both.
      assert.ok(one(r.main, 'main').peakBytes >= 2 * MB10)
      const again = one(r.again, 'again')
      assert.ok(Math.abs(again.netBytes - MB10) <= MB10 / 100, `a later profile: keep's net ${again.netBytes}`)
      if (engine === 'python') {
        assert.equal(keep.allocations, undefined, 'the Python engine counts no allocations')
        return
      }

      // The C engine: frees are credited to the block's owner.
      const give = one(r.give, 'give')
      const take = one(r.take, 'take')
      assert.ok(give.peakBytes >= MB10)
      assert.ok(Math.abs(give.netBytes) < 10_000, `give: its block was freed before the end, net ${give.netBytes}`)
      assert.ok(Math.abs(take.netBytes) < 10_000, `take freed give's block: net ${take.netBytes}, not −10 MB`)
      assert.ok(keep.allocations! >= 1 && keep.allocatedBytes! >= MB10)
      assert.ok(sibling.allocatedBytes! < 10_000)
      const worker = one(r.worker, 'worker (its own thread)')
      assert.ok(Math.abs(worker.netBytes - MB10 / 2) <= MB10 / 200, `worker: net ${worker.netBytes}`)

      const [small, large, above] = r.planted!
      for (const p of [small!, large!]) {
        const counted = one(p.profile, 'planted')
        assert.ok(p.tracemalloc >= 5000, `tracemalloc saw ${p.tracemalloc} blocks`)
        assert.equal(counted.allocations, p.tracemalloc, 'planted(): the C engine counts what tracemalloc traced')
      }
      assert.equal(large!.tracemalloc, 2 * small!.tracemalloc)
      // tracemalloc above the wrapper: its own bookkeeping allocations are the program's to us,
      // so the count is at least tracemalloc's; tracemalloc itself misses nothing.
      assert.equal(above!.tracemalloc, small!.tracemalloc)
      assert.ok(one(above!.profile, 'planted').allocations! >= above!.tracemalloc)
    })
  }
}

// The readers: report (text, markdown; flat and tree), diff and the speedscope export show the
// C engine's allocation counts, from real profiles of the system interpreter.
test('report, diff and speedscope show allocations of a C-engine memory profile', async (t) => {
  const python = requirePython(t, SYSTEM_MINOR)
  if (python === undefined) return
  const dir = mkdtempSync(join(CACHE, 'readers-'))
  const program = join(import.meta.dirname, 'fixtures', 'mem-accel', 'allocs.py')
  const profiled = async (n: number) => {
    const out = join(dir, `allocs-${n}.json`)
    const r = await runPython(python, ['-m', 'pyxray', '-q', '--memory', '-o', out, program, String(n)], { env: { PYXRAY_ACCEL: '1', PYXRAY_CACHE_DIR: CACHE } })
    assert.equal(r.status, 0, r.stderr)
    return readProfile(out)
  }
  const [base, head] = [await profiled(1000), await profiled(3000)]
  assert.equal(base.metadata.engine, 'c')
  const allocsOf = (doc: ProfileDocument, q: string) => nodesOf(doc, q).reduce((sum, n) => sum + n.memory!.allocations!, 0)
  const many = allocsOf(base, 'alloc_many')
  assert.ok(many >= 1000, `alloc_many: ${many} allocations for 1000 bytearrays`)

  const options: ReportOptions = { view: 'flat', sort: 'memory', top: 25, minPercent: 0, hide: [], name: 'allocs' }
  const flat = buildReport(base, options)
  const row = flat.functions!.find((r) => r.function?.qualname === 'alloc_many')!
  assert.equal(row.allocations, many)
  const text = formatReportText(flat, { width: 120, style: PLAIN_REPORT })
  assert.match(text, /\ballocs\b/)
  assert.ok(text.split('\n').some((l) => l.includes('alloc_many') && l.includes(` ${many} `)), text)
  assert.match(formatReportMarkdown(flat), new RegExp(`\\| allocs \\|[^]*\\| ${many} \\|`))
  const tree = formatReportText(buildReport(base, { ...options, view: 'tree', sort: 'total' }), { width: 140, style: PLAIN_REPORT })
  assert.ok(tree.split('\n').some((l) => l.includes('alloc_many') && l.includes(` ${many} `)), tree)

  const d = diffProfiles(base, head, { ...DEFAULT_DIFF_OPTIONS, minTimeNs: 1 })
  const fn = d.functions.find((f) => f.label.includes('alloc_many'))!
  assert.equal(fn.delta.allocations, allocsOf(head, 'alloc_many') - many)
  assert.ok(fn.delta.allocations! >= 2000)
  assert.match(formatDiffText(d, { width: 140, style: PLAIN_REPORT, top: 15 }), /Δ allocs/)

  const profiles = speedscopeAllocationProfiles(base)
  assert.equal(profiles.length, base.threads.length)
  const main = base.threads.findIndex((th) => th.main)
  const expected = base.threads[main]!.root.children.reduce((sum, c) => sum + c.memory!.allocatedBytes!, 0)
  assert.equal(profiles[main]!.weights.reduce((a, b) => a + b, 0), expected, 'every byte allocated under the root, once')
  assert.equal(toSpeedscope(base).profiles.length, base.threads.length, 'the time profiles stay as they were')
})
