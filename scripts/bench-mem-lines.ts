/**
 * `mem lines` speed per tracer: runs scripts/bench_mem_lines.py on every supported interpreter
 * found (pyenv, PYXRAY_PYTHON_PATHS) and prints one Markdown row per interpreter and target:
 * unprofiled, tracemalloc alone, sys.settrace, sys.monitoring in Python (3.12+), sys.monitoring with
 * the C accelerator (3.12+, when it loads), settrace / monitoring, settrace / monitoring (C) in wall
 * time and in CPU time (the machine may be shared: CPU time is the steadier of the two), and
 * settrace / unprofiled in CPU time: the most any tracer could gain over settrace on that target.
 *
 *   npm run bench:mem-lines -- [--runs N]
 *
 * Prints only; the numbers go into BENCHMARKS.md by hand with the date and the machine's load.
 */
import { spawnSync } from 'node:child_process'
import { loadavg } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { findInterpreters, isSupported } from '../src/runtime/index.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const DRIVER = join(root, 'scripts', 'bench_mem_lines.py')

interface Row {
  unprofiled: number
  tracemalloc: number
  settrace: number
  monitoring?: number
  'monitoring-c'?: number
  speedup?: number
  speedupC?: number
  cpuSpeedupC?: number
  cpu: Record<string, number>
}

const args = process.argv.slice(2)
let runs = 5
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--runs' && /^[1-9]\d*$/.test(args[i + 1] ?? '')) runs = Number(args[++i])
  else {
    console.error('usage: npm run bench:mem-lines -- [--runs N] (N a positive integer)')
    process.exit(2)
  }
}

const seen = new Set<string>()
const ms = (s: number) => `${(1000 * s).toFixed(0)} ms`
console.log(`load average before: ${loadavg().map((l) => l.toFixed(1)).join(' ')}`)
console.log(
  '| python | target | unprofiled | tracemalloc alone | settrace | sys.monitoring | sys.monitoring (C) | settrace / monitoring | settrace / monitoring (C) | same, CPU time | settrace / unprofiled, CPU (ceiling) |',
)
console.log('|---|---|---|---|---|---|---|---|---|---|---|')
for (const it of findInterpreters().filter(isSupported).sort((a, b) => a.minor - b.minor)) {
  if (seen.has(it.version)) continue
  seen.add(it.version)
  const r = spawnSync(it.path, [DRIVER, '--runs', String(runs)], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: join(root, 'python') } })
  if (r.status !== 0) {
    console.error(`${it.version}: ${r.stderr.trim().split('\n').at(-1)}`)
    process.exitCode = 1
    continue
  }
  const out = JSON.parse(r.stdout) as { python: string; targets: Record<string, Row> }
  for (const [target, row] of Object.entries(out.targets)) {
    const mon = row.monitoring === undefined ? '—' : ms(row.monitoring)
    const monC = row['monitoring-c'] === undefined ? '—' : ms(row['monitoring-c'])
    const x = (v: number | undefined) => (v === undefined ? '—' : `${v.toFixed(2)}×`)
    console.log(
      `| ${out.python} | ${target} | ${ms(row.unprofiled)} | ${ms(row.tracemalloc)} | ${ms(row.settrace)} | ${mon} | ${monC} | ${x(row.speedup)} | ${x(row.speedupC)} | ${x(row.cpuSpeedupC)} | ${x(row.cpu.settrace! / row.cpu.unprofiled!)} |`,
    )
  }
}
console.log(`load average after: ${loadavg().map((l) => l.toFixed(1)).join(' ')}`)
