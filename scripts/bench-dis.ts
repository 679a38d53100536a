/**
 * Benchmark: pyxray's formatDis against CPython's own dis.dis over the same stdlib .pyc files.
 *
 *   npm run bench:dis -- [--version 3.12] [--limit N] [--runs N]
 *
 * CPython (one process, scripts/fixtures_oracle.py bench): loads every .pyc with marshal, then
 * times dis.dis of each module code object into a StringIO; the whole process is timed too.
 * pyxray (in this process): reads the files, readPyc → toCodeObject → formatDis for each. The
 * outputs are compared after normalizing code-object addresses and frozenset order. Prints a
 * markdown row for BENCHMARKS.md.
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { formatDis, toCodeObject } from '../src/bytecode/index.js'
import { readPyc } from '../src/pyc/index.js'
import { findInterpreters, listStdlib, normalizeDis, ORACLE_SCRIPT, type PycInput } from './stdlib-diff.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')

interface BenchOptions {
  version: string
  limit?: number
  runs: number
}

function parseArgs(argv: readonly string[]): BenchOptions {
  const opts: BenchOptions = { version: '3.12', runs: 1 }
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]
    const value = argv[i + 1]
    const number = () => {
      if (value === undefined || !/^\d+$/.test(value)) throw new Error(`${flag} needs a whole number`)
      i++
      return Number(value)
    }
    if (flag === '--version' && value !== undefined) {
      opts.version = value
      i++
    } else if (flag === '--limit') opts.limit = number()
    else if (flag === '--runs') opts.runs = Math.max(1, number())
    else throw new Error(`unknown argument ${flag}\nusage: npm run bench:dis -- [--version 3.12] [--limit N] [--runs N]`)
  }
  return opts
}

interface CpythonTiming {
  files: number
  bytes: number
  load_s: number
  dis_s: number
  write_s: number
}

/** CPython's dis over the files, in one process; its texts come back through a JSON-lines file. */
function runCpython(python: string, inputs: readonly PycInput[]): { timing: CpythonTiming; processSeconds: number; texts: string[] } {
  const tmp = join(root, '.cache', 'tmp')
  mkdirSync(tmp, { recursive: true })
  const list = join(tmp, `bench-${process.pid}.txt`)
  const out = join(tmp, `bench-${process.pid}.jsonl`)
  writeFileSync(list, `${inputs.map((f) => f.path).join('\n')}\n`)
  try {
    const started = performance.now()
    const r = spawnSync(python, ['-B', '-s', ORACLE_SCRIPT, 'bench', list, out], {
      encoding: 'utf8',
      env: { ...process.env, PYTHONHASHSEED: '0' },
      maxBuffer: 1 << 20,
    })
    const processSeconds = (performance.now() - started) / 1000
    if (r.status !== 0) throw new Error(`${python} bench failed:\n${r.stderr}`)
    const texts = readFileSync(out, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => (JSON.parse(line) as [string, string])[1])
    return { timing: JSON.parse(r.stdout) as CpythonTiming, processSeconds, texts }
  } finally {
    rmSync(list, { force: true })
    rmSync(out, { force: true })
  }
}

/** pyxray over the same files, in process: read + readPyc + toCodeObject + formatDis. */
function runPyxray(inputs: readonly PycInput[]): { seconds: number; texts: string[] } {
  const started = performance.now()
  const texts = inputs.map((f) => {
    const pyc = readPyc(new Uint8Array(readFileSync(f.path)))
    return formatDis(toCodeObject(pyc.code, pyc.version[1]))
  })
  return { seconds: (performance.now() - started) / 1000, texts }
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2))
  const interp = findInterpreters().find((i) => i.version === opts.version && i.python)
  if (!interp?.python) throw new Error(`bench:dis needs a native CPython ${opts.version} (pyenv); not found`)
  let inputs = await listStdlib(interp)
  if (opts.limit !== undefined) inputs = inputs.slice(0, opts.limit)
  const megabytes = inputs.reduce((n, f) => n + readFileSync(f.path).length, 0) / 1e6
  console.error(`${inputs.length} .pyc files of the ${opts.version} stdlib, ${megabytes.toFixed(1)} MB`)

  let cpython: ReturnType<typeof runCpython> | undefined
  let pyxray: ReturnType<typeof runPyxray> | undefined
  for (let run = 0; run < opts.runs; run++) {
    const c = runCpython(interp.python, inputs)
    if (!cpython || c.timing.dis_s < cpython.timing.dis_s) cpython = c
    const p = runPyxray(inputs)
    if (!pyxray || p.seconds < pyxray.seconds) pyxray = p
    console.error(`run ${run + 1}: CPython dis ${c.timing.dis_s.toFixed(2)} s (process ${c.processSeconds.toFixed(2)} s), pyxray ${p.seconds.toFixed(2)} s`)
  }
  if (!cpython || !pyxray) return

  let identical = 0
  let firstDifferent: string | undefined
  inputs.forEach((f, i) => {
    if (normalizeDis(cpython.texts[i] ?? '') === normalizeDis(pyxray.texts[i] ?? '')) identical++
    else firstDifferent ??= f.id
  })
  const ratio = cpython.timing.dis_s / pyxray.seconds
  const best = opts.runs > 1 ? ` (best of ${opts.runs})` : ''
  console.log(`files:            ${inputs.length}`)
  console.log(`MB in:            ${megabytes.toFixed(1)}`)
  console.log(`CPython dis.dis:  ${cpython.timing.dis_s.toFixed(2)} s${best} (marshal load ${cpython.timing.load_s.toFixed(2)} s; whole process ${cpython.processSeconds.toFixed(2)} s)`)
  console.log(`pyxray:           ${pyxray.seconds.toFixed(2)} s${best} (read + readPyc + formatDis)`)
  console.log(`ratio:            ${ratio.toFixed(1)}× (CPython dis time / pyxray time)`)
  console.log(`identical output: ${identical}/${inputs.length}${firstDifferent ? ` (first different: ${firstDifferent})` : ''}`)
  console.log('')
  console.log('| corpus | files | MB in | CPython dis.dis | CPython process | pyxray | speed-up | identical |')
  console.log('|---|---|---|---|---|---|---|---|')
  console.log(
    `| ${opts.version} stdlib | ${inputs.length} | ${megabytes.toFixed(1)} | ${cpython.timing.dis_s.toFixed(2)} s | ${cpython.processSeconds.toFixed(2)} s | ${pyxray.seconds.toFixed(2)} s | ${ratio.toFixed(1)}× | ${identical}/${inputs.length} |`,
  )
  if (identical !== inputs.length) process.exitCode = 1
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e)
  process.exit(2)
})
