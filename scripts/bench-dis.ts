/**
 * Benchmark: pyxray's formatDis against CPython's own dis.dis over the same stdlib .pyc files.
 *
 *   npm run bench:dis -- [--version 3.12] [--limit N] [--runs N]
 *
 * CPython (one process, scripts/fixtures_oracle.py bench): loads every .pyc with marshal, then
 * times dis.dis of each module code object into a StringIO; the whole process is timed too.
 * pyxray (in this process): reads the files, readPyc → toCodeObject → formatDisBytes for each
 * (the UTF-8 text `pyxray dis` writes to a file; formatDis is the same text as a string). After
 * all the runs, each output of pyxray's best run is decoded once and compared with CPython's
 * text (after normalizing code-object addresses and frozenset order) and with formatDis's
 * string. Prints a markdown row for BENCHMARKS.md.
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { formatDis, formatDisBytes } from '../src/bytecode/format/dis.js'
import { toCodeObject } from '../src/bytecode/index.js'
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

/**
 * CPython's dis over the files, in one process. Its texts are left in the JSON-lines file `out`,
 * for {@link readCpythonTexts} after the timing: read now, they (200 MB of strings, and the
 * garbage of parsing them) would sit in the heap pyxray's runs are timed in.
 */
function runCpython(python: string, inputs: readonly PycInput[], out: string): { timing: CpythonTiming; processSeconds: number; out: string } {
  const list = `${out}.txt`
  writeFileSync(list, `${inputs.map((f) => f.path).join('\n')}\n`)
  try {
    const started = performance.now()
    const r = spawnSync(python, ['-B', '-s', ORACLE_SCRIPT, 'bench', list, out], {
      encoding: 'utf8',
      env: { ...process.env, PYTHONHASHSEED: '0' },
      maxBuffer: 1 << 20,
    })
    const processSeconds = (performance.now() - started) / 1000
    if (r.status !== 0) {
      rmSync(out, { force: true })
      throw new Error(`${python} bench failed:\n${r.stderr}`)
    }
    return { timing: JSON.parse(r.stdout) as CpythonTiming, processSeconds, out }
  } finally {
    rmSync(list, { force: true })
  }
}

/** The texts of a {@link runCpython} run, in the order of the files. */
function readCpythonTexts(out: string): string[] {
  return readFileSync(out, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as [string, string])[1])
}

/** How many of pyxray's outputs, decoded, are CPython's `texts` once both are normalized. */
function compareOutputs(
  inputs: readonly PycInput[],
  texts: readonly string[],
  outputs: readonly Uint8Array[],
): { identical: number; firstDifferent?: string } {
  let identical = 0
  let firstDifferent: string | undefined
  // Strict decoding: bytes that are not UTF-8 are a difference, not replaced.
  const utf8 = new TextDecoder('utf-8', { fatal: true })
  inputs.forEach((f, i) => {
    const bytes = outputs[i]
    let text: string | undefined
    try {
      text = bytes && utf8.decode(bytes)
    } catch {
      text = undefined
    }
    if (text !== undefined && normalizeDis(texts[i] ?? '') === normalizeDis(text)) identical++
    else firstDifferent ??= f.id
  })
  return firstDifferent === undefined ? { identical } : { identical, firstDifferent }
}

/** pyxray over the same files, in process: read + readPyc + toCodeObject + formatDisBytes. */
function runPyxray(inputs: readonly PycInput[]): { seconds: number; outputs: Uint8Array[] } {
  const started = performance.now()
  const outputs = inputs.map((f) => {
    const pyc = readPyc(new Uint8Array(readFileSync(f.path)))
    return formatDisBytes(toCodeObject(pyc.code, pyc.version[1]))
  })
  return { seconds: (performance.now() - started) / 1000, outputs }
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2))
  const interp = findInterpreters().find((i) => i.version === opts.version && i.python)
  if (!interp?.python) throw new Error(`bench:dis needs a native CPython ${opts.version} (pyenv); not found`)
  let inputs = await listStdlib(interp)
  if (opts.limit !== undefined) inputs = inputs.slice(0, opts.limit)
  const megabytes = inputs.reduce((n, f) => n + readFileSync(f.path).length, 0) / 1e6
  console.error(`${inputs.length} .pyc files of the ${opts.version} stdlib, ${megabytes.toFixed(1)} MB`)

  const tmp = join(root, '.cache', 'tmp')
  mkdirSync(tmp, { recursive: true })
  let cpython: ReturnType<typeof runCpython> | undefined
  let pyxray: ReturnType<typeof runPyxray> | undefined
  let texts: string[]
  try {
    for (let run = 0; run < opts.runs; run++) {
      const c = runCpython(interp.python, inputs, join(tmp, `bench-${process.pid}-${run}.jsonl`))
      // Only the best run's texts are kept, to compare with.
      if (!cpython || c.timing.dis_s < cpython.timing.dis_s) {
        if (cpython) rmSync(cpython.out, { force: true })
        cpython = c
      } else rmSync(c.out, { force: true })
      const p = runPyxray(inputs)
      if (!pyxray || p.seconds < pyxray.seconds) pyxray = p
      console.error(`run ${run + 1}: CPython dis ${c.timing.dis_s.toFixed(2)} s (process ${c.processSeconds.toFixed(2)} s), pyxray ${p.seconds.toFixed(2)} s`)
    }
    if (!cpython || !pyxray) return
    texts = readCpythonTexts(cpython.out)
  } finally {
    if (cpython) rmSync(cpython.out, { force: true })
  }

  const { identical, firstDifferent: differentFromCpython } = compareOutputs(inputs, texts, pyxray.outputs)
  let firstDifferent = differentFromCpython
  // formatDis, the string form, must give the same text as the bytes timed above.
  let stringsAgree = 0
  inputs.forEach((f, i) => {
    const pyc = readPyc(new Uint8Array(readFileSync(f.path)))
    const bytes = pyxray.outputs[i]
    if (bytes && formatDis(toCodeObject(pyc.code, pyc.version[1])) === new TextDecoder().decode(bytes)) stringsAgree++
    else firstDifferent ??= `${f.id} (formatDis and formatDisBytes)`
  })
  const ratio = cpython.timing.dis_s / pyxray.seconds
  const best = opts.runs > 1 ? ` (best of ${opts.runs})` : ''
  console.log(`files:            ${inputs.length}`)
  console.log(`MB in:            ${megabytes.toFixed(1)}`)
  console.log(`CPython dis.dis:  ${cpython.timing.dis_s.toFixed(2)} s${best} (marshal load ${cpython.timing.load_s.toFixed(2)} s; whole process ${cpython.processSeconds.toFixed(2)} s)`)
  console.log(`pyxray:           ${pyxray.seconds.toFixed(2)} s${best} (read + readPyc + formatDisBytes)`)
  console.log(`ratio:            ${ratio.toFixed(1)}× (CPython dis time / pyxray time)`)
  console.log(`identical output: ${identical}/${inputs.length}${firstDifferent ? ` (first different: ${firstDifferent})` : ''}`)
  console.log(`formatDis agrees: ${stringsAgree}/${inputs.length}`)
  console.log('')
  console.log('| corpus | files | MB in | CPython dis.dis | CPython process | pyxray | speed-up | identical |')
  console.log('|---|---|---|---|---|---|---|---|')
  console.log(
    `| ${opts.version} stdlib | ${inputs.length} | ${megabytes.toFixed(1)} | ${cpython.timing.dis_s.toFixed(2)} s | ${cpython.processSeconds.toFixed(2)} s | ${pyxray.seconds.toFixed(2)} s | ${ratio.toFixed(1)}× | ${identical}/${inputs.length} |`,
  )
  if (identical !== inputs.length || stringsAgree !== inputs.length) process.exitCode = 1
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e)
  process.exit(2)
})
