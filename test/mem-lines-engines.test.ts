/**
 * `mem lines` has three tracers: sys.monitoring with the C accelerator's callbacks and allocator
 * wrapper ("monitoring-c", the default on 3.12+ when the accelerator loads), sys.monitoring in
 * Python over tracemalloc (LINE events on the target's code only, Python 3.12+) and sys.settrace
 * (every version; what memory_profiler is compared with in mem-crosscheck). On every native
 * CPython 3.12+ all measure the same planted function (test/fixtures/memory/lines_engines.py: a
 * loop, a callee, a generator, a recursion, a raise caught in the function, a 1 MiB bytearray made
 * on one line and freed on the next) and must give the same hits on every line and the same
 * per-line increments, to within the tracemalloc tracers' calibrated residue (a few dozen bytes per
 * line event). Before 3.12 the default is settrace. The C tracer also sees a block its thread kept
 * freed by another thread (its level drops, as tracemalloc's total does).
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { test } from 'node:test'
import { NATIVE_MINORS, requirePython } from './pyenv.js'

const ROOT = join(import.meta.dirname, '..')
const SCRIPT = join(ROOT, 'test', 'fixtures', 'memory', 'lines_engines.py')

interface Row {
  line: number
  hits: number
  netBytes: number
  peakBytes: number
}
interface Report {
  engine: string
  calls: number
  lines: Row[]
}
interface Result {
  python: string
  default: string
  reports: Record<string, Report>
  marks: Record<string, number>
  busy?: { report: Report; error: string | null; profileEngine: string }
  crossThread?: Report
}

/** Planted bytes per line (n = 10,000, three calls of `planted`: depth 2 recursion). */
const N = 10_000

for (const minor of NATIVE_MINORS) {
  test(`3.${minor}: mem lines, sys.monitoring (C and Python) and settrace give the same per-line increments`, (t) => {
    const python = requirePython(t, minor)
    if (!python) return
    const r = spawnSync(python, [SCRIPT], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: join(ROOT, 'python') } })
    assert.equal(r.status, 0, r.stderr)
    const out = JSON.parse(r.stdout) as Result
    assert.equal(out.python, `3.${minor}`)
    if (minor < 12) {
      assert.equal(out.default, 'settrace')
      assert.deepEqual(Object.keys(out.reports), ['settrace'])
      return
    }
    // The C accelerator is built on every native CPython 3.12+ (mem-accel checks that it loads).
    assert.equal(out.default, 'monitoring-c')
    const monC = out.reports['monitoring-c']!
    const mon = out.reports.monitoring!
    const st = out.reports.settrace!
    assert.equal(monC.engine, 'monitoring-c')
    assert.equal(mon.engine, 'monitoring')
    assert.equal(st.engine, 'settrace')
    const at = (rep: Report, mark: string) => rep.lines.find((l) => l.line === out.marks[mark])!
    for (const [other, ref] of [
      [mon, st],
      [monC, mon],
    ] as const) {
      assert.equal(other.calls, 3)
      assert.equal(ref.calls, 3)
      assert.deepEqual(
        other.lines.map((l) => [l.line, l.hits]),
        ref.lines.map((l) => [l.line, l.hits]),
      )
      for (const [i, m] of other.lines.entries()) {
        const s = ref.lines[i]!
        // 256 B per execution: the tracers' residue differs a little. A recursing line also carries its
        // inner calls' bookkeeping, which the Python tracers' calibration (on lines that call nothing)
        // does not see (3.14: 1,040 B by the Python monitoring tracer, 168 B by the C one, which
        // charges nothing of its own, over 2 executions): 512 B per execution there.
        const perHit = m.line === out.marks.recurse ? 512 : 256
        const slack = perHit * m.hits + 0.01 * Math.abs(s.netBytes)
        assert.ok(Math.abs(m.netBytes - s.netBytes) <= slack, `line ${m.line}: net ${m.netBytes} (${other.engine}) vs ${s.netBytes} (${ref.engine})`)
        const peakSlack = perHit * m.hits + 0.01 * Math.abs(s.peakBytes)
        assert.ok(Math.abs(m.peakBytes - s.peakBytes) <= peakSlack, `line ${m.line}: peak ${m.peakBytes} (${other.engine}) vs ${s.peakBytes} (${ref.engine})`)
      }
      // The 1 MiB made on one line and freed on the next: the same to within the residue, not 1 %.
      for (const mark of ['mb', 'freemb']) {
        const a = at(other, mark).netBytes
        const b = at(ref, mark).netBytes
        assert.ok(Math.abs(a - b) <= 256 * 3, `${mark}: net ${a} (${other.engine}) vs ${b} (${ref.engine})`)
      }
    }
    // The C path charges nothing of its own: a line that allocates nothing (the `try:`
    // before the raise) is 0 on each of its executions.
    assert.deepEqual(
      monC.lines.filter((l) => l.line === out.marks.raise! - 1).map((l) => [l.hits, l.netBytes, l.peakBytes]),
      [[3, 0, 0]],
    )
    // A block kept by one line and freed by another thread during the next two: +1 MiB, then -1 MiB
    // over those two lines (which of them depends on when the thread ran).
    const cross = out.crossThread!
    assert.equal(cross.engine, 'monitoring-c')
    const net = (mark: string) => cross.lines.find((l) => l.line === out.marks[mark])!.netBytes
    assert.ok(Math.abs(net('kept') - (1 << 20)) <= 0.02 * (1 << 20), `kept: ${net('kept')}`)
    const freed = net('start') + net('join')
    assert.ok(Math.abs(freed + (1 << 20)) <= 0.02 * (1 << 20), `freed by the other thread: ${freed}`)
    // While a profile measures memory with the C engine, the default falls back to the tracemalloc
    // tracer and an explicit monitoring-c is refused with a code.
    const busy = out.busy!
    assert.equal(busy.profileEngine, 'c')
    assert.equal(busy.error, 'MEMORY_BUSY')
    assert.equal(busy.report.engine, 'monitoring')
    assert.equal(busy.report.calls, 3)
    // (its lines that start profiled calls also carry the profile's own bookkeeping, which
    // tracemalloc sees: only the big planted blocks are compared)
    for (const [mark, bytes] of [
      ['blob', 3 * 30 * N],
      ['mb', 3 * (1 << 20)],
      ['freemb', -3 * (1 << 20)],
    ] as const) {
      const got = at(busy.report, mark).netBytes
      assert.ok(Math.abs(got - bytes) <= 0.02 * Math.abs(bytes), `busy ${mark}: ${got} vs planted ${bytes}`)
    }
    // And all are right, not merely alike: the planted sizes on their lines (±2 %).
    for (const rep of [monC, mon, st]) {
      const near = (mark: string, bytes: number) => {
        const got = at(rep, mark).netBytes
        assert.ok(Math.abs(got - bytes) <= 0.02 * Math.abs(bytes), `${rep.engine} ${mark}: ${got} vs planted ${bytes}`)
      }
      near('loop', 3 * 20 * N)
      near('callee', 3 * 50 * N)
      near('generator', 3 * 3 * N)
      near('blob', 3 * 30 * N)
      near('del', -3 * 30 * N)
      near('mb', 3 * (1 << 20))
      near('freemb', -3 * (1 << 20))
      // The raised bytes, plus what a raise makes: the exception, its traceback and (on 3.11+,
      // where frames are objects only on demand) the frame object the traceback needs, < 1 KiB.
      const raised = at(rep, 'raise').netBytes
      assert.ok(raised >= 3 * N && raised <= 3 * N + 3 * 1024, `${rep.engine} raise: ${raised} vs planted ${3 * N}`)
      assert.equal(at(rep, 'recurse').hits, 2)
      assert.ok(at(rep, 'recurse').peakBytes >= (20 + 50 + 3) * N, `${rep.engine} recurse peak ${at(rep, 'recurse').peakBytes}`)
    }
  })
}
