/**
 * `npm run bench:cli`: the command line where people wait, timed as users run it (`node
 * bin/pyxray.js …` in a fresh process: Node start, module loading, reading, writing).
 *
 *   npm run bench:cli -- [--only dis|runtimes|small] [--runs N] [--files N|all] [--python 3.12]
 *
 * 1. dis: `pyxray dis DIR --format dis --out-dir D` over .pyc files of CPython 3.12's stdlib
 *    (compiled by that CPython with py_compile into .cache/bench-cli/, `--files` of them evenly
 *    spread over the sorted list, default 1,200) against CPython's own dis in one process: each file
 *    read, `marshal.loads` after the 16-byte header, `dis.dis(code, file=f)` into its own output
 *    file. Timed: CPython's dis.dis calls (writing included, loading excluded) and its whole
 *    process; pyxray's whole process. Every output file is compared with CPython's (code-object
 *    addresses and frozenset order normalized, as scripts/stdlib-diff.ts does): identical text.
 * 2. runtimes: `pyxray runtimes` warm (a first run has cached what Pyodide reports), median of N.
 * 3. small: a cold `pyxray dis small.py` against `python3 -m dis small.py`, the same python3 on
 *    PATH, runs interleaved, medians.
 *
 * Prints markdown rows for BENCHMARKS.md. Times dist/: run `npm run build` first (the npm script
 * does). Timing lives here only, never in a test.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { pythonOnPath, resolvePython } from '../src/runtime/index.js'
import { normalizeDis } from './stdlib-diff.js'

const root = join(import.meta.dirname, '..')
const bin = join(root, 'bin', 'pyxray.js')

const USAGE = 'usage: npm run bench:cli -- [--only dis|runtimes|small] [--runs N] [--files N|all] [--python 3.12]'

interface Options {
  only?: 'dis' | 'runtimes' | 'small'
  runs: number
  /** How many stdlib files; undefined: all. */
  files?: number
  python: string
}

function parseOptions(argv: readonly string[]): Options {
  const o: Options = { runs: 3, files: 1200, python: '3.12' }
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]
    const value = argv[++i]
    if (value === undefined) throw new Error(`${flag ?? ''} needs a value\n${USAGE}`)
    if (flag === '--only' && (value === 'dis' || value === 'runtimes' || value === 'small')) o.only = value
    else if (flag === '--runs' && /^[1-9]\d*$/.test(value)) o.runs = Number(value)
    else if (flag === '--files' && (value === 'all' || /^[1-9]\d*$/.test(value))) o.files = value === 'all' ? undefined : Number(value)
    else if (flag === '--python' && /^3\.\d+$/.test(value)) o.python = value
    else throw new Error(`bad argument ${flag} ${value}\n${USAGE}`)
  }
  return o
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`
const load = () => loadavg().map((l) => l.toFixed(1)).join(' ')

/** GNU time, to read a child's CPU time (user + system); without it only wall times are given. */
const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined

/**
 * Runs a command, timed: wall ms and, with GNU time, CPU ms (user + system, every thread);
 * throws with its stderr when it fails.
 */
function timed(cmd: string, args: readonly string[], env: Record<string, string> = {}): { ms: number; cpuMs?: number; stdout: string; stderr: string } {
  const cpuFile = GNU_TIME ? join(tmpdir(), `pyxray-bench-time-${process.pid}`) : undefined
  const [file, argv] = GNU_TIME && cpuFile ? [GNU_TIME, ['-f', '%U %S', '-o', cpuFile, cmd, ...args]] : [cmd, [...args]]
  const t0 = performance.now()
  const r = spawnSync(file, argv, { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 << 20 })
  const ms = performance.now() - t0
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`)
  let cpuMs: number | undefined
  if (cpuFile && existsSync(cpuFile)) {
    const [user, system] = readFileSync(cpuFile, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number)
    rmSync(cpuFile, { force: true })
    if (user !== undefined && system !== undefined) cpuMs = (user + system) * 1000
  }
  return { ms, ...(cpuMs !== undefined ? { cpuMs } : {}), stdout: r.stdout, stderr: r.stderr }
}

const cpu = (r: { cpuMs?: number }) => (r.cpuMs === undefined ? '' : `, CPU ${seconds(r.cpuMs)}`)

// --- 1. dis over the stdlib ------------------------------------------------------------------------

/** Compiles the stdlib with `python` (py_compile, one .pyc per .py, site-packages left out) into a cached folder. */
function stdlibPycs(python: string): { dir: string; version: string } {
  const version = execFileSync(python, ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3])'], { encoding: 'utf8' }).trim()
  const dir = join(root, '.cache', 'bench-cli', `stdlib-${version}`)
  const done = join(dir, '.complete')
  if (!existsSync(done)) {
    rmSync(dir, { recursive: true, force: true })
    console.error(`compiling the ${version} stdlib into ${dir} …`)
    const script = `
import os, py_compile, sys, sysconfig, warnings
warnings.simplefilter("ignore")
out, std = sys.argv[1], sysconfig.get_paths()["stdlib"]
for d, dirs, files in os.walk(std):
    dirs[:] = sorted(x for x in dirs if x not in ("site-packages", "dist-packages", "__pycache__"))
    for f in sorted(files):
        if f.endswith(".py"):
            src = os.path.join(d, f)
            try:
                py_compile.compile(src, cfile=os.path.join(out, os.path.relpath(src, std) + "c"), dfile=src, doraise=True)
            except py_compile.PyCompileError:
                pass  # test data that does not compile on purpose
`
    execFileSync(python, ['-c', script, dir], { stdio: ['ignore', 'ignore', 'inherit'] })
    writeFileSync(done, `${version}\n`)
  }
  return { dir, version }
}

function walkPycs(dir: string): string[] {
  const found: string[] = []
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name)
      if (statSync(p).isDirectory()) walk(p)
      else if (name.endsWith('.pyc')) found.push(p)
    }
  }
  walk(dir)
  return found
}

/** `count` of `files`, evenly spread (all when undefined or more than there are). */
function spread(files: readonly string[], count: number | undefined): string[] {
  if (count === undefined || count >= files.length) return [...files]
  return Array.from({ length: count }, (_, i) => files[Math.floor((i * files.length) / count)]!)
}

/** The input folder of one run: the chosen files hard-linked (else copied) into a folder of their own. */
function inputFolder(from: string, files: readonly string[], into: string): void {
  for (const f of files) {
    const target = join(into, relative(from, f))
    mkdirSync(join(target, '..'), { recursive: true })
    try {
      execFileSync('ln', [f, target])
    } catch {
      writeFileSync(target, readFileSync(f))
    }
  }
}

/** CPython's side: one process, every file loaded, then dis.dis of each into its own file. */
const CPYTHON_DIS = `
import dis, json, marshal, os, sys, time
src, out = sys.argv[1], sys.argv[2]
paths = []
for d, dirs, files in os.walk(src):
    dirs.sort()
    paths += [os.path.join(d, f) for f in sorted(files) if f.endswith(".pyc")]
t0 = time.perf_counter()
codes = []
for p in paths:
    with open(p, "rb") as f:
        codes.append(marshal.loads(f.read()[16:]))
t1 = time.perf_counter()
c1 = time.process_time()
for p, code in zip(paths, codes):
    target = os.path.join(out, os.path.relpath(p, src)[:-4] + ".dis.txt")
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "w", encoding="utf-8", newline="\\n") as f:
        dis.dis(code, file=f)
t2 = time.perf_counter()
c2 = time.process_time()
print(json.dumps({"files": len(paths), "load_s": t1 - t0, "dis_s": t2 - t1, "dis_cpu_s": c2 - c1}))
`

/** The flag naming pyxray dis's output folder: --out-dir where the CLI has it, else --out. */
function outDirFlag(): string {
  const help = timed(process.execPath, [bin, 'dis', '--help']).stdout
  return help.includes('--out-dir') ? '--out-dir' : '--out'
}

/** Every output of `theirs` and `ours` (same relative paths) compared after normalizing; the first that differs. */
function compareTrees(theirs: string, ours: string): { identical: number; total: number; first?: string } {
  const files = walkTexts(theirs)
  let identical = 0
  let first: string | undefined
  for (const rel of files) {
    const a = readFileSync(join(theirs, rel), 'utf8')
    const p = join(ours, rel)
    const b = existsSync(p) ? readFileSync(p, 'utf8') : undefined
    if (b !== undefined && (a === b || normalizeDis(a) === normalizeDis(b))) identical++
    else first ??= rel
  }
  const extra = walkTexts(ours).length - files.length
  if (extra !== 0) first ??= `${extra} more files in pyxray's output`
  return { identical, total: files.length, ...(first ? { first } : {}) }
}

function walkTexts(dir: string): string[] {
  const found: string[] = []
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name)
      if (statSync(p).isDirectory()) walk(p)
      else found.push(relative(dir, p))
    }
  }
  walk(dir)
  return found
}

function benchDis(o: Options): string[] {
  const python = resolvePython(o.python).path
  const { dir: stdlib, version } = stdlibPycs(python)
  const all = walkPycs(stdlib)
  const chosen = spread(all, o.files)
  const work = mkdtempSync(join(tmpdir(), 'pyxray-bench-cli-'))
  try {
    const input = join(work, 'in')
    inputFolder(stdlib, chosen, input)
    const megabytes = chosen.reduce((n, f) => n + statSync(f).size, 0) / 1e6
    const flag = outDirFlag()
    console.error(`${chosen.length} of ${all.length} .pyc files of the ${version} stdlib, ${megabytes.toFixed(1)} MB; pyxray dis … ${flag}; load ${load()}`)
    const c: { dis: number[]; disCpu: number[]; process: number[] } = { dis: [], disCpu: [], process: [] }
    // pyxray as users run it (its threads chosen by the machine's load), then on one thread (with
    // and without the writer thread) and on every core.
    const variants: { name: string; env: Record<string, string>; wall: number[]; cpu: number[] }[] = [
      { name: 'pyxray', env: {}, wall: [], cpu: [] },
      { name: 'one thread', env: { PYXRAY_THREADS: '1' }, wall: [], cpu: [] },
      { name: 'one thread without the writer thread', env: { PYXRAY_THREADS: '1', PYXRAY_WRITER: '0' }, wall: [], cpu: [] },
      { name: `${cpus().length} threads`, env: { PYXRAY_THREADS: String(cpus().length) }, wall: [], cpu: [] },
    ]
    for (let run = 0; run < o.runs; run++) {
      const theirs = join(work, `cpython-${run}`)
      const cp = timed(python, ['-I', '-c', CPYTHON_DIS, input, theirs])
      const timing = JSON.parse(cp.stdout) as { files: number; dis_s: number; dis_cpu_s: number }
      c.dis.push(timing.dis_s * 1000)
      c.disCpu.push(timing.dis_cpu_s * 1000)
      c.process.push(cp.ms)
      if (timing.files !== chosen.length) process.exitCode = 1
      const notes = [`CPython dis.dis ${seconds(timing.dis_s * 1000)} (CPU ${seconds(timing.dis_cpu_s * 1000)}; process ${seconds(cp.ms)}${cpu(cp)})`]
      for (const [i, v] of variants.entries()) {
        const ours = join(work, `pyxray-${run}-${i}`)
        const px = timed(process.execPath, [bin, 'dis', input, '--format', 'dis', flag, ours], v.env)
        v.wall.push(px.ms)
        if (px.cpuMs !== undefined) v.cpu.push(px.cpuMs)
        const same = compareTrees(theirs, ours)
        if (same.identical !== same.total) process.exitCode = 1
        notes.push(`${v.name} ${seconds(px.ms)}${cpu(px)}, identical ${same.identical}/${same.total}${same.first ? ` (first different: ${same.first})` : ''}`)
        rmSync(ours, { recursive: true, force: true })
      }
      rmSync(theirs, { recursive: true, force: true })
      console.error(`run ${run + 1}: ${notes.join('; ')}; load ${load()}`)
    }
    const best = (xs: number[]) => Math.min(...xs)
    const [main, ...others] = variants as [(typeof variants)[0], ...typeof variants]
    const cpuOf = (v: (typeof variants)[0]) => (v.cpu.length ? ` (CPU ${seconds(best(v.cpu))})` : '')
    const ratio = (v: (typeof variants)[0]) => `${(best(c.dis) / best(v.wall)).toFixed(1)}×`
    // On a loaded machine wall times measure the scheduler: CPU time (CPython's dis.dis calls against
    // pyxray's whole process, every thread) is the comparison that holds.
    const cpuRatio = (v: (typeof variants)[0]) => (v.cpu.length ? `${(best(c.disCpu) / best(v.cpu)).toFixed(1)}×` : 'n/a')
    return [
      `| dis, ${chosen.length} .pyc of the ${version} stdlib (${megabytes.toFixed(1)} MB), best of ${o.runs} | ${seconds(best(main.wall))}${cpuOf(main)}; ${others.map((v) => `${v.name} ${seconds(best(v.wall))}${cpuOf(v)}`).join('; ')} | CPython dis.dis ${seconds(best(c.dis))} (CPU ${seconds(best(c.disCpu))}; whole process ${seconds(best(c.process))}) | wall ${ratio(main)} (${others.map((v) => `${v.name} ${ratio(v)}`).join(', ')}; process to process ${(best(c.process) / best(main.wall)).toFixed(1)}×); CPU ${cpuRatio(main)} (${others.map((v) => `${v.name} ${cpuRatio(v)}`).join(', ')}) | ≥ 20× |`,
    ]
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

// --- 2. runtimes, warm -----------------------------------------------------------------------------

function benchRuntimes(o: Options): string[] {
  // The first run caches what Pyodide reports (when the cache is empty); the timed runs are warm.
  const first = timed(process.execPath, [bin, 'runtimes'])
  const times: number[] = []
  for (let i = 0; i < Math.max(5, o.runs); i++) times.push(timed(process.execPath, [bin, 'runtimes']).ms)
  const check = timed(process.execPath, [bin, 'runtimes', '--check'])
  console.error(`runtimes: first ${seconds(first.ms)}, warm ${times.map((t) => seconds(t)).join(' ')}, --check ${seconds(check.ms)}; load ${load()}`)
  return [`| \`pyxray runtimes\` warm, median of ${times.length} | ${seconds(median(times))} | \`--check\` (boots Pyodide) ${seconds(check.ms)} | | < 1 s |`]
}

// --- 3. a cold dis of a small file -----------------------------------------------------------------

function benchSmall(o: Options): string[] {
  const python3 = pythonOnPath()
  if (!python3) {
    console.error('small: no python3 on PATH, skipped')
    return []
  }
  const dir = mkdtempSync(join(tmpdir(), 'pyxray-bench-small-'))
  try {
    const small = join(dir, 'small.py')
    writeFileSync(small, 'def greet(name):\n    return f"Hello, {name}!"\n\nclass Greeter:\n    def hello(self):\n        return [greet(n) for n in ("a", "b")]\n\nprint(greet("world"))\n')
    const ours: number[] = []
    const theirs: number[] = []
    const oursCpu: number[] = []
    const theirsCpu: number[] = []
    // Interleaved, so both see the same machine; one of each first, untimed (file cache).
    timed(process.execPath, [bin, 'dis', small, '--format', 'dis'])
    timed(python3, ['-m', 'dis', small])
    for (let i = 0; i < Math.max(10, o.runs); i++) {
      const a = timed(process.execPath, [bin, 'dis', small, '--format', 'dis'])
      const b = timed(python3, ['-m', 'dis', small])
      ours.push(a.ms)
      theirs.push(b.ms)
      if (a.cpuMs !== undefined && b.cpuMs !== undefined) {
        oursCpu.push(a.cpuMs)
        theirsCpu.push(b.cpuMs)
      }
    }
    const [a, b] = [median(ours), median(theirs)]
    // CPU: pyxray's process with the Python it starts to compile the source, against python3's.
    const cpuNote = (xs: number[]) => (xs.length ? ` (CPU ${median(xs).toFixed(0)} ms)` : '')
    console.error(`small: pyxray ${ours.map((t) => t.toFixed(0)).join(' ')} ms; python3 -m dis ${theirs.map((t) => t.toFixed(0)).join(' ')} ms; load ${load()}`)
    const cpuDelta = oursCpu.length ? `; CPU +${(median(oursCpu) - median(theirsCpu)).toFixed(0)} ms` : ''
    return [`| cold \`pyxray dis small.py --format dis\`, median of ${ours.length} | ${a.toFixed(0)} ms${cpuNote(oursCpu)} | \`python3 -m dis small.py\` (${python3}) ${b.toFixed(0)} ms${cpuNote(theirsCpu)} | +${(a - b).toFixed(0)} ms${cpuDelta} | ≤ +100 ms |`]
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

function main(): void {
  const o = parseOptions(process.argv.slice(2))
  if (!existsSync(join(root, 'dist', 'bundle', 'pyxray.js'))) throw new Error('bench:cli times the bundled CLI (dist/bundle/): run `npm run build` first')
  console.error(`${cpus().length} cores, load ${load()}`)
  const rows = [
    ...(o.only === undefined || o.only === 'dis' ? benchDis(o) : []),
    ...(o.only === undefined || o.only === 'runtimes' ? benchRuntimes(o) : []),
    ...(o.only === undefined || o.only === 'small' ? benchSmall(o) : []),
  ]
  console.log(`| measurement | pyxray | anchor | ratio | goal |`)
  console.log('|---|---|---|---|---|')
  for (const r of rows) console.log(r)
}

try {
  main()
} catch (e) {
  console.error(e instanceof Error ? e.message : e)
  process.exit(2)
}
