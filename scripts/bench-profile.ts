/**
 * Benchmark: the profiler's overhead — profiled ÷ unprofiled wall time — for pyxray (trace, sample,
 * trace+memory) against cProfile and, where it imports, yappi, over pyperformance-style programs of
 * our own (scripts/bench_profile.py: recursion, OO method calls, json, regex, generators,
 * comprehensions, float math).
 *
 *   npm run bench:profile -- [--python X.Y|system|PATH]… [--quick] [--memory] [--repeats N] [--write|--no-write] [--check]
 *
 * Every supported interpreter found (pyenv's, those of $PYXRAY_PYTHON_PATHS such as the native
 * 3.14/3.15 of scripts/setup-native-pythons.sh, and the system python3; `--python` picks some) is
 * measured in turn. For one interpreter, each round runs every program under every configuration,
 * each in a fresh process (scripts/bench_profile.py `run`, which times the profiler's start, the
 * program and the stop), in an order rotated from round to round, so slow drifts of the machine's
 * load spread over all configurations alike. The overhead of a configuration is the median of its
 * rounds divided by the median of the unprofiled rounds; trace+memory in the pure-Python engine
 * (tracemalloc polled at every event) runs at a tenth of the scale (it is 10–200× slower on
 * call-bound code) against unprofiled runs at that scale. Every run's checksum must equal the
 * unprofiled run's: all configurations did the same work.
 *
 * The trace engine is whatever the profile's metadata.engine says ("python" when the field is
 * absent); when it is not the pure-Python one, a second row forces it with PYXRAY_ACCEL=0 — for
 * trace mode and for trace+memory. Memory mode's own cost in the C engine, "memory ÷ trace, CPU",
 * is trace+memory (C) ÷ trace (C) by the program's CPU time (issue #19's goal: ≤ 1.5).
 *
 * `--memory` measures only memory mode's rows (unprofiled, trace, trace+memory in each engine), for
 * a quicker look at issue #19's goal; it never writes BENCHMARKS.md.
 *
 * Prints markdown (one table per interpreter, a summary with the goals: trace geomean ≤ cProfile's
 * on 3.12+ and ≤ 1.5× cProfile's on 3.8–3.11; sample ≤ 1.10×; on 3.14+ sampled from outside ≤ 1.02×). A default run (all interpreters,
 * not --quick) replaces the "Profiler overhead" section of BENCHMARKS.md; `--write`/`--no-write`
 * override that. `--check` exits 1 when a goal is missed.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir, totalmem } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { findInterpreters, type Interpreter, isSupported, probe, RuntimeError, resolvePython } from '../src/runtime/index.js'
import { SUPPORTED_RANGE } from '../src/versions/index.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const DRIVER = join(root, 'scripts', 'bench_profile.py')
const BENCHMARKS = join(root, 'BENCHMARKS.md')
const SECTION = '## Profiler overhead'
const USAGE = 'usage: npm run bench:profile -- [--python X.Y|system|PATH]… [--quick] [--memory] [--repeats N] [--write|--no-write] [--check]'

/** What a run measures (scripts/bench_profile.py CONFIGS) plus how it is launched. */
interface Config {
  /** Column name in the tables. */
  readonly name: string
  /** The driver's configuration. */
  readonly driver: 'base' | 'cprofile' | 'trace' | 'sample' | 'remote' | 'memory' | 'yappi'
  /** Extra environment (PYXRAY_ACCEL=0 for the pure-Python engine row). */
  readonly env?: Readonly<Record<string, string>>
  /** Scale relative to the run's scale (trace+memory runs smaller). */
  readonly scale: number
  /** The unprofiled configuration it is divided by. */
  readonly baseline: string
}

interface Options {
  pythons: string[]
  quick: boolean
  /** Only memory mode's rows (and what they are divided by). */
  memoryOnly: boolean
  repeats: number
  write: boolean | undefined
  check: boolean
}

class BenchUsageError extends Error {}

function parseArgs(argv: readonly string[]): Options {
  const opts: Options = { pythons: [], quick: false, memoryOnly: false, repeats: 0, write: undefined, check: false }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    const value = () => {
      const v = argv[++i]
      if (v === undefined) throw new BenchUsageError(`${a} needs a value\n${USAGE}`)
      return v
    }
    if (a === '--python') opts.pythons.push(value())
    else if (a === '--quick') opts.quick = true
    else if (a === '--repeats') {
      const v = value()
      if (!/^[1-9]\d*$/.test(v)) throw new BenchUsageError(`--repeats needs a whole number ≥ 1, got ${v}\n${USAGE}`)
      opts.repeats = Number(v)
    } else if (a === '--memory') opts.memoryOnly = true
    else if (a === '--write') opts.write = true
    else if (a === '--no-write') opts.write = false
    else if (a === '--check') opts.check = true
    else throw new BenchUsageError(`unknown argument ${a}\n${USAGE}`)
  }
  if (opts.repeats === 0) opts.repeats = opts.quick ? 3 : 5
  return opts
}

const SYSTEM_PYTHON = '/usr/bin/python3'

/** The interpreters to measure: `--python` values, or every supported CPython found. */
function interpreters(specs: readonly string[]): Interpreter[] {
  if (specs.length > 0) {
    return specs.map((spec) => {
      if (spec !== 'system') return resolvePython(spec)
      const it = probe(SYSTEM_PYTHON, 'flag')
      if (!it) throw new BenchUsageError(`--python system: ${SYSTEM_PYTHON} is not a working Python`)
      return it
    })
  }
  const found = findInterpreters().filter(isSupported)
  // The system python3 (where Debian's python3-yappi lives) even when pyenv shadows it on PATH.
  const system = existsSync(SYSTEM_PYTHON) ? probe(SYSTEM_PYTHON, 'flag') : undefined
  if (system && !found.some((it) => it.realPath === system.realPath)) found.push(system)
  return found.sort((a, b) => a.minor - b.minor || a.version.localeCompare(b.version, 'en', { numeric: true }) || a.realPath.localeCompare(b.realPath))
}

/** "3.12.1", or "3.11.2 /usr/bin/python3.11" for an interpreter pyenv did not install. */
function label(it: Interpreter): string {
  return it.realPath.includes('/.pyenv/versions/') ? it.version : `${it.version} ${it.realPath}`
}

interface Probe {
  version: string
  minor: number
  engine: string
  memoryEngine: string
  yappi: string | null
  programs: string[]
}

interface RunResult {
  seconds: number
  /** The program's thread CPU time (null for cprofile and yappi). */
  cpu: number | null
  engine: string | null
  result: unknown
}

function driver(python: string, args: readonly string[], env: NodeJS.ProcessEnv): unknown {
  const r = spawnSync(python, [DRIVER, ...args], { encoding: 'utf8', env, timeout: 600_000 })
  if (r.status !== 0) throw new Error(`${python} ${DRIVER} ${args.join(' ')} failed (status ${r.status}${r.signal ? `, ${r.signal}` : ''}):\n${r.stderr}`)
  return JSON.parse(r.stdout)
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
const geomean = (xs: readonly number[]) => Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length)
const fmt = (x: number | undefined) => (x === undefined ? '—' : x >= 10 ? x.toFixed(1) : x.toFixed(2))

/** One interpreter's results: overhead per program and configuration. */
interface Measured {
  label: string
  minor: number
  probe: Probe
  configs: Config[]
  /** program → config name → profiled ÷ unprofiled. */
  ratios: Map<string, Map<string, number>>
  /** config name → geometric mean over the programs. */
  geomeans: Map<string, number>
  /** median unprofiled ms per program (at scale). */
  baseMs: Map<string, number>
}

function configsFor(p: Probe, memoryScale: number, memoryOnly: boolean): Config[] {
  if (memoryOnly) {
    return [
      { name: 'base', driver: 'base', scale: 1, baseline: 'base' },
      { name: `trace (${p.engine})`, driver: 'trace', scale: 1, baseline: 'base' },
      ...(p.memoryEngine !== 'python' ? [{ name: `trace+memory (${p.memoryEngine})`, driver: 'memory' as const, scale: 1, baseline: 'base' }] : []),
      { name: 'base (small)', driver: 'base', scale: memoryScale, baseline: 'base (small)' },
      { name: 'trace+memory (python)', driver: 'memory', env: p.memoryEngine !== 'python' ? { PYXRAY_ACCEL: '0' } : {}, scale: memoryScale, baseline: 'base (small)' },
    ]
  }
  const out: Config[] = [
    { name: 'base', driver: 'base', scale: 1, baseline: 'base' },
    { name: 'cProfile', driver: 'cprofile', scale: 1, baseline: 'base' },
    { name: `trace (${p.engine})`, driver: 'trace', scale: 1, baseline: 'base' },
  ]
  if (p.engine !== 'python') out.push({ name: 'trace (python)', driver: 'trace', env: { PYXRAY_ACCEL: '0' }, scale: 1, baseline: 'base' })
  out.push({ name: 'sample', driver: 'sample', scale: 1, baseline: 'base' })
  if (p.minor >= REMOTE_MINOR) out.push({ name: 'sample (remote)', driver: 'remote', scale: 1, baseline: 'base' })
  // Memory mode in the C engine runs at full scale (its cost is a fraction of trace mode's); the
  // pure-Python one (tracemalloc polled at every event) at a tenth.
  if (p.memoryEngine !== 'python') out.push({ name: `trace+memory (${p.memoryEngine})`, driver: 'memory', scale: 1, baseline: 'base' })
  out.push({ name: 'base (small)', driver: 'base', scale: memoryScale, baseline: 'base (small)' })
  out.push({ name: 'trace+memory (python)', driver: 'memory', env: p.memoryEngine !== 'python' ? { PYXRAY_ACCEL: '0' } : {}, scale: memoryScale, baseline: 'base (small)' })
  if (p.yappi) out.push({ name: 'yappi', driver: 'yappi', scale: 1, baseline: 'base' })
  return out
}

function measure(it: Interpreter, opts: Options, cacheDir: string, log: (s: string) => void): Measured {
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONPATH: join(root, 'python'), PYXRAY_CACHE_DIR: cacheDir }
  delete env.PYXRAY_ACCEL
  // Probing fills the calibration cache (both engines), so no timed run calibrates.
  const p = driver(it.path, ['probe'], env) as Probe
  driver(it.path, ['probe'], { ...env, PYXRAY_ACCEL: '0' })
  const scale = opts.quick ? 0.3 : 1
  const configs = configsFor(p, 0.1, opts.memoryOnly)
  const seconds = new Map<string, number[]>()
  const cpuSeconds = new Map<string, number[]>()
  const checksums = new Map<string, string>()
  let step = 0
  const total = opts.repeats * p.programs.length * configs.length
  for (let round = 0; round < opts.repeats; round++) {
    for (const [pi, program] of p.programs.entries()) {
      // Rotate the order per round and program: no configuration always runs first or last.
      const shift = (round + pi) % configs.length
      for (const c of [...configs.slice(shift), ...configs.slice(0, shift)]) {
        const r = driver(it.path, ['run', program, c.driver, String(scale * c.scale)], { ...env, ...c.env }) as RunResult
        const key = `${program}\0${c.name}`
        seconds.set(key, [...(seconds.get(key) ?? []), r.seconds])
        if (r.cpu !== null) cpuSeconds.set(key, [...(cpuSeconds.get(key) ?? []), r.cpu])
        const sumKey = `${program}\0${c.scale}`
        const sum = JSON.stringify(r.result)
        const seen = checksums.get(sumKey)
        if (seen === undefined) checksums.set(sumKey, sum)
        else if (seen !== sum) throw new Error(`${label(it)} ${program} under ${c.name} computed ${sum}, the other runs ${seen}: not the same work`)
        if ((c.driver === 'trace' || c.driver === 'memory') && r.engine !== null && !c.name.endsWith(`(${r.engine})`)) {
          throw new Error(`${label(it)} ${program}: the ${c.name} row ran the ${r.engine} engine`)
        }
        step++
      }
    }
    log(`  ${label(it)}: round ${round + 1}/${opts.repeats} (${step}/${total} runs)\n`)
  }
  const ratios = new Map<string, Map<string, number>>()
  const baseMs = new Map<string, number>()
  for (const program of p.programs) {
    const row = new Map<string, number>()
    for (const c of configs) {
      if (c.driver === 'base') continue
      row.set(c.name, median(seconds.get(`${program}\0${c.name}`)!) / median(seconds.get(`${program}\0${c.baseline}`)!))
    }
    ratios.set(program, row)
    baseMs.set(program, median(seconds.get(`${program}\0base`)!) * 1e3)
  }
  // The remote sampler also by the program's CPU time (not inflated by a busy machine's scheduling).
  if (configs.some((c) => c.driver === 'remote')) {
    for (const program of p.programs) {
      ratios.get(program)!.set(REMOTE_CPU, median(cpuSeconds.get(`${program}\0sample (remote)`)!) / median(cpuSeconds.get(`${program}\0base`)!))
    }
  }
  // Memory mode's own cost: trace+memory ÷ trace of the same engine, by the program's CPU time.
  const memoryC = configs.find((c) => c.driver === 'memory' && c.scale === 1)
  if (memoryC) {
    for (const program of p.programs) {
      ratios.get(program)!.set(MEMORY_CPU, median(cpuSeconds.get(`${program}\0${memoryC.name}`)!) / median(cpuSeconds.get(`${program}\0trace (${p.engine})`)!))
    }
  }
  const cpuColumns = [...(configs.some((c) => c.driver === 'remote') ? [REMOTE_CPU] : []), ...(memoryC ? [MEMORY_CPU] : [])]
  const geomeans = new Map<string, number>()
  for (const name of [...configs.filter((c) => c.driver !== 'base').map((c) => c.name), ...cpuColumns]) {
    geomeans.set(name, geomean(p.programs.map((program) => ratios.get(program)!.get(name)!)))
  }
  return { label: label(it), minor: it.minor, probe: p, configs, ratios, geomeans, baseMs }
}

/** Wraps prose at 100 columns (markdown paragraphs read better in a diff that way). */
function wrap(text: string, width = 100): string {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else line = line ? `${line} ${word}` : word
  }
  if (line) lines.push(line)
  return lines.join('\n')
}

/** 3.12: sys.monitoring (PEP 669), whose callbacks let trace mode match cProfile's overhead. */
const MONITORING_MINOR = 12

/** 3.14: _remote_debugging, which samples from another process (`pyxray profile --mode sample` there). */
const REMOTE_MINOR = 14

/** The column of the remote sampler's overhead by the program's CPU time. */
const REMOTE_CPU = 'sample (remote), CPU'

/** The column of memory mode's cost in the C engine: trace+memory ÷ trace by the program's CPU time. */
const MEMORY_CPU = 'memory ÷ trace, CPU'

/** The goals of issue #5 for one interpreter. */
function goals(m: Measured): { text: string; met: boolean; short: string } {
  const memoryCpu = m.geomeans.get(MEMORY_CPU)
  const memoryOk = memoryCpu === undefined || memoryCpu <= 1.5
  const memoryText = memoryCpu === undefined ? '' : `trace+memory ÷ trace ${memoryCpu.toFixed(2)}× by the program's CPU time (goal ≤ 1.5): ${memoryOk ? 'met' : 'not met'}`
  if (!m.geomeans.has('cProfile')) return { text: memoryText, met: memoryOk, short: memoryCpu === undefined ? '' : `memory ${memoryOk ? 'met' : 'not met'}` } // --memory
  const cprofile = m.geomeans.get('cProfile')!
  const trace = m.geomeans.get(`trace (${m.probe.engine})`)!
  const sample = m.geomeans.get('sample')!
  const limit = m.minor >= MONITORING_MINOR ? 1 : 1.5
  const traceOk = trace <= cprofile * limit
  const sampleOk = sample <= 1.1
  const remote = m.geomeans.get('sample (remote)')
  const remoteCpu = m.geomeans.get(REMOTE_CPU)
  // judged by the program's CPU time: wall ratios of a 100 ms program swing by more than 2 % on a busy machine
  const remoteOk = remoteCpu === undefined || remoteCpu <= 1.02
  const text =
    `trace ${fmt(trace)}× vs cProfile ${fmt(cprofile)}× = ${(trace / cprofile).toFixed(2)} of cProfile's (goal ≤ ${limit}): ${traceOk ? 'met' : 'not met'}; ` +
    `sample ${sample.toFixed(3)}× (goal ≤ 1.10): ${sampleOk ? 'met' : 'not met'}` +
    (remote === undefined ? '' : `; sample from outside ${remoteCpu!.toFixed(3)}× by the program's CPU time (goal ≤ 1.02): ${remoteOk ? 'met' : 'not met'} (by wall time ${remote.toFixed(3)}×)`) +
    (memoryText && `; ${memoryText}`)
  const short =
    `trace ${traceOk ? 'met' : 'not met'}, sample ${sampleOk ? 'met' : 'not met'}` +
    (remote === undefined ? '' : `, remote ${remoteOk ? 'met' : 'not met'}`) +
    (memoryCpu === undefined ? '' : `, memory ${memoryOk ? 'met' : 'not met'}`)
  return { text, met: traceOk && sampleOk && remoteOk && memoryOk, short }
}

function tables(results: readonly Measured[], opts: Options, startedAt: Date, elapsedS: number, load: readonly number[]): string {
  const lines: string[] = []
  const args = process.argv.slice(2).filter((a) => a !== '--write' && a !== '--no-write')
  const command = `npm run bench:profile${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`
  lines.push(
    wrap(`Measured ${startedAt.toISOString().slice(0, 10)} by \`${command}\` (${opts.repeats} rounds, ${elapsedS.toFixed(0)} s; ` +
      `${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, load average ${load.map((l) => l.toFixed(1)).join(' ')} at the start). ` +
      'Profiled ÷ unprofiled wall time of the same program in a fresh process, median of the rounds, every configuration ' +
      'interleaved in one run; trace+memory (python) runs at a tenth of the scale, against unprofiled runs at that scale; ' +
      '"memory ÷ trace, CPU" is trace+memory (C) ÷ trace (C) by the program\'s CPU time (issue #19: ≤ 1.5). ' +
      'The engine of the trace rows is read from the profile (`metadata.engine`; "python" = the pure-Python tracers, ' +
      '`sys.monitoring` on 3.12+, `sys.setprofile` before).'),
    '',
    '| Python | cProfile | pyxray trace | trace ÷ cProfile | sample | sample (remote) | trace+memory (C) | trace+memory (python) | memory ÷ trace, CPU | yappi | goals |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  )
  for (const m of results) {
    const g = (name: string) => m.geomeans.get(name)
    const engine = m.probe.engine
    const trace = g(`trace (${engine})`)!
    const tracePy = engine !== 'python' ? ` (python ${fmt(g('trace (python)'))})` : ''
    lines.push(
      `| ${m.label} | ${fmt(g('cProfile'))} | ${fmt(trace)} ${engine}${tracePy} | ${g('cProfile') === undefined ? '—' : (trace / g('cProfile')!).toFixed(2)} | ${g('sample')?.toFixed(3) ?? '—'} | ${g('sample (remote)')?.toFixed(3) ?? '—'} | ` +
        `${fmt(g('trace+memory (c)'))} | ${fmt(g('trace+memory (python)'))} | ${fmt(g(MEMORY_CPU))} | ${fmt(g('yappi'))} | ${goals(m).short} |`,
    )
  }
  lines.push('', 'Geometric means over the programs. Per program:', '')
  for (const m of results) {
    const columns = [...m.configs.filter((c) => c.driver !== 'base').map((c) => c.name), ...[REMOTE_CPU, MEMORY_CPU].filter((c) => m.geomeans.has(c))]
    lines.push(wrap(`**${m.label}** — ${goals(m).text}`), '', `| program | unprofiled ms | ${columns.join(' | ')} |`, `|---|---|${columns.map(() => '---|').join('')}`)
    for (const program of m.probe.programs) {
      const row = m.ratios.get(program)!
      lines.push(`| ${program} | ${m.baseMs.get(program)!.toFixed(1)} | ${columns.map((c) => fmt(row.get(c))).join(' | ')} |`)
    }
    lines.push(`| geomean | | ${columns.map((c) => fmt(m.geomeans.get(c))).join(' | ')} |`, '')
  }
  return lines.join('\n')
}

/** Replaces the "Profiler overhead" section of BENCHMARKS.md (up to the next `## `), atomically. */
function writeSection(body: string): void {
  const text = readFileSync(BENCHMARKS, 'utf8')
  const start = text.indexOf(SECTION)
  const intro = wrap(
    'Programs (scripts/bench_profile.py, ours, pyperformance-style): fib (recursion), methods (small OO methods, ' +
      'a property, super()), json (C and pure-Python encoders, loads), regex (findall, finditer, sub with a Python ' +
      'callback), generators (a four-stage pipeline), comprehensions, nbody (float math). Goals (issue #5): trace ' +
      "geomean ≤ cProfile's on 3.12+, ≤ 1.5× cProfile's on 3.8–3.11; sample ≤ 1.10×; sampled from outside (3.14+, issue #17) ≤ 1.02×.",
  )
  const rerun = wrap(
    'Rerun: `npm run bench:profile` (about 10 minutes; `-- --quick` for a short run, `-- --python 3.12` for one ' +
      'interpreter; `-- --check` exits 1 when a goal is missed).',
  )
  const section = `${SECTION} — \`npm run bench:profile\`\n\n${intro}\n\n${body.trimEnd()}\n\n${rerun}\n`
  let out: string
  if (start < 0) out = `${text.trimEnd()}\n\n${section}`
  else {
    const next = text.indexOf('\n## ', start + SECTION.length)
    out = text.slice(0, start) + section + (next < 0 ? '' : `\n${text.slice(next + 1)}`)
  }
  const temp = `${BENCHMARKS}.${process.pid}.tmp`
  writeFileSync(temp, out)
  renameSync(temp, BENCHMARKS)
}

function main(): number {
  let opts: Options
  try {
    opts = parseArgs(process.argv.slice(2))
  } catch (e) {
    if (e instanceof BenchUsageError) {
      process.stderr.write(`bench:profile: ${e.message}\n`)
      return 2
    }
    throw e
  }
  let its: Interpreter[]
  try {
    its = interpreters(opts.pythons)
  } catch (e) {
    if (!(e instanceof RuntimeError || e instanceof BenchUsageError)) throw e
    process.stderr.write(`bench:profile: ${e.message}\n`)
    return 2
  }
  if (its.length === 0) {
    process.stderr.write(`bench:profile: no CPython ${SUPPORTED_RANGE} found (pyenv, PYXRAY_PYTHON_PATHS or python3 on PATH)\n`)
    return 2
  }
  const log = (s: string) => process.stderr.write(s)
  const load = loadavg()
  const startedAt = new Date()
  const t0 = performance.now()
  const cacheDir = mkdtempSync(join(tmpdir(), 'pyxray-bench-profile-'))
  const results: Measured[] = []
  try {
    for (const it of its) {
      log(`bench:profile: ${label(it)}\n`)
      results.push(measure(it, opts, cacheDir, log))
    }
  } finally {
    rmSync(cacheDir, { recursive: true, force: true })
  }
  const body = tables(results, opts, startedAt, (performance.now() - t0) / 1e3, load)
  process.stdout.write(`${body}\n`)
  const write = !opts.memoryOnly && (opts.write ?? (!opts.quick && opts.pythons.length === 0))
  if (write) {
    writeSection(body)
    log(`bench:profile: wrote the "Profiler overhead" section of ${BENCHMARKS}\n`)
  }
  return opts.check && results.some((m) => !goals(m).met) ? 1 : 0
}

process.exitCode = main()
