/**
 * `mem lines` has two tracers: sys.monitoring (LINE events on the target's code only, Python 3.12+)
 * and sys.settrace (every version; what memory_profiler is compared with in mem-crosscheck). On
 * every native CPython 3.12+ both measure the same planted function (test/fixtures/memory/
 * lines_engines.py: a loop, a callee, a generator, a recursion, a raise caught in the function) and
 * must give the same hits on every line and the same per-line increments, to within the
 * tracers' own calibrated residue (a few dozen bytes per line event). Before 3.12 the default is
 * settrace.
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
}

/** Planted bytes per line (n = 10,000, three calls of `planted`: depth 2 recursion). */
const N = 10_000

for (const minor of NATIVE_MINORS) {
  test(`3.${minor}: mem lines, sys.monitoring and settrace give the same per-line increments`, (t) => {
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
    assert.equal(out.default, 'monitoring')
    const mon = out.reports.monitoring!
    const st = out.reports.settrace!
    assert.equal(mon.engine, 'monitoring')
    assert.equal(st.engine, 'settrace')
    assert.equal(mon.calls, 3)
    assert.equal(st.calls, 3)
    assert.deepEqual(
      mon.lines.map((l) => [l.line, l.hits]),
      st.lines.map((l) => [l.line, l.hits]),
    )
    for (const [i, m] of mon.lines.entries()) {
      const s = st.lines[i]!
      // 256 B per execution: the tracers' residue differs a little (on a recursing line it includes the
      // inner frames' bookkeeping, charged to the calling line by both)
      const slack = 256 * m.hits + 0.01 * Math.abs(s.netBytes)
      assert.ok(Math.abs(m.netBytes - s.netBytes) <= slack, `line ${m.line}: net ${m.netBytes} (monitoring) vs ${s.netBytes} (settrace)`)
      const peakSlack = 256 * m.hits + 0.01 * Math.abs(s.peakBytes)
      assert.ok(Math.abs(m.peakBytes - s.peakBytes) <= peakSlack, `line ${m.line}: peak ${m.peakBytes} (monitoring) vs ${s.peakBytes} (settrace)`)
    }
    // And both are right, not merely alike: the planted sizes on their lines (±2 %).
    const at = (rep: Report, mark: string) => rep.lines.find((l) => l.line === out.marks[mark])!
    for (const rep of [mon, st]) {
      const near = (mark: string, bytes: number) => {
        const got = at(rep, mark).netBytes
        assert.ok(Math.abs(got - bytes) <= 0.02 * Math.abs(bytes), `${rep.engine} ${mark}: ${got} vs planted ${bytes}`)
      }
      near('loop', 3 * 20 * N)
      near('callee', 3 * 50 * N)
      near('generator', 3 * 3 * N)
      near('blob', 3 * 30 * N)
      near('del', -3 * 30 * N)
      // The raised bytes, plus what a raise makes: the exception, its traceback and (on 3.11+,
      // where frames are objects only on demand) the frame object the traceback needs, < 1 KiB.
      const raised = at(rep, 'raise').netBytes
      assert.ok(raised >= 3 * N && raised <= 3 * N + 3 * 1024, `${rep.engine} raise: ${raised} vs planted ${3 * N}`)
      assert.equal(at(rep, 'recurse').hits, 2)
      assert.ok(at(rep, 'recurse').peakBytes >= (20 + 50 + 3) * N, `${rep.engine} recurse peak ${at(rep, 'recurse').peakBytes}`)
    }
  })
}
