/**
 * The decompiler measured on whole standard libraries: every stdlib .pyc of every supported
 * version is decompiled, the output recompiled by an interpreter of that version, and every code
 * object compared with the original (src/decompile/verify.ts). Per version: code objects, %
 * equivalent, % differing, % not recovered, decompiler crashes (must be 0), outputs that do not
 * compile (must be 0), unreadable files, and the time.
 *
 *   npm run test:decompile -- [--versions 3.8,3.14] [--sample N] [--opt] [--json FILE] [--verbose[=K]]
 *                             [--oracle | --unparse] [--dir PATH]
 *
 * Interpreters and .pyc files as scripts/stdlib-diff.ts finds them (a native CPython of every
 * version; Pyodide stands in for a missing native 3.14); --opt adds the .opt-1/.opt-2 files
 * (recompiled at their level). --dir PATH measures every .pyc under PATH instead (third-party
 * code), each recompiled by an interpreter of its own version.
 *
 * --oracle measures the verification itself: the "decompiler" returns each module's own source
 * (found beside the .pyc or at co_filename), so every code object must come out equivalent; any
 * other verdict is a false difference of the verifier or of the recompiling. --unparse (3.9+)
 * returns `ast.unparse(ast.parse(source))` instead: the code as a decompiler that writes it
 * perfectly but in its own layout would; what differs then is what the lines alone change in
 * the bytecode (or what ast.unparse gets wrong).
 *
 * Recompiles are batched: one interpreter process per version answers every file's compile
 * (several requests in flight), while this process decompiles and compares the next files.
 * Exits 1 when a decompiler crashed, an output did not compile or a file could not be read.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type CodeObject, toCodeObject } from '../src/bytecode/index.js'
import { coreDecompiler } from '../src/cli/decompiler.js'
import { optimizeOf } from '../src/cli/decompile.js'
import type { DecompileResult, Decompiler } from '../src/decompile/types.js'
import { verifyModule } from '../src/decompile/verify.js'
import { readPyc } from '../src/pyc/index.js'
import { Recompilers } from '../src/runtime/recompile.js'
import { findPycs } from '../test/pyenv.js'
import { findInterpreters, listStdlib, type PycInput, sampleInputs } from './stdlib-diff.js'

/** The outcome for one corpus (one version's stdlib, or a folder). */
export interface DecompileReport {
  readonly version: string
  readonly files: number
  readonly codes: number
  readonly equivalent: number
  readonly differs: number
  readonly notRecovered: number
  /** Files on which the decompiler threw. */
  readonly crashes: number
  /** Files whose output did not compile. */
  readonly compileFailures: number
  readonly unreadable: number
  /** --oracle: files whose source was not found (left out). */
  readonly noSource: number
  /** The most common first differences: "field: OPNAME" → count. */
  readonly differences: readonly (readonly [string, number])[]
  /** A few examples of each problem. */
  readonly examples: readonly string[]
  /** This process's CPU time (decompiling, comparing) and the wall time, in seconds. */
  readonly cpuSeconds: number
  readonly seconds: number
}

/** Files in flight at once per version: enough to keep the interpreter busy while this process works. */
const FILES_IN_FLIGHT = 6

/** The text of a source file as Python reads it: UTF-8, or the encoding its coding cookie names. */
export function decodeSource(bytes: Uint8Array): string {
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 400)).split('\n').slice(0, 2)
  for (const line of head) {
    const m = /^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)/.exec(line)
    if (m) {
      const name = m[1]!.toLowerCase().replace(/_/g, '-')
      // Python's latin-1 is ISO-8859-1 byte for byte (the WHATWG label "latin1" means windows-1252).
      if (/^(latin-?1|iso-?8859-1|iso-latin-1|l1|cp819|8859)$/.test(name)) return String.fromCharCode(...bytes.subarray(0, 0x8000)) + (bytes.length > 0x8000 ? latin1Rest(bytes) : '')
      try {
        return new TextDecoder(name.replace(/^utf-?8(-.*)?$/, 'utf-8')).decode(bytes)
      } catch {
        break
      }
    }
    if (!/^[ \t\f]*(#.*)?\r?$/.test(line)) break
  }
  return new TextDecoder('utf-8').decode(bytes)
}

function latin1Rest(bytes: Uint8Array): string {
  let text = ''
  for (let i = 0x8000; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return text
}

/** A stand-in decompiler that knows each file's source by its .pyc (the oracles of --oracle and --unparse). */
export interface SourceOracle {
  readonly sourceOf: (input: PycInput) => string | undefined
}

/** The oracle found no source for a .pyc. */
class NoSource extends Error {}

/** Decompiles, recompiles and verifies `inputs` (each recompiled by an interpreter of its own version). */
export async function measure(version: string, inputs: readonly PycInput[], recompilers: Recompilers, decompiler: Decompiler | 'oracle' | SourceOracle, verbose: number): Promise<DecompileReport> {
  const started = performance.now()
  const cpu = process.cpuUsage()
  let codes = 0
  let equivalent = 0
  let differs = 0
  let notRecovered = 0
  let crashes = 0
  let compileFailures = 0
  let unreadable = 0
  let noSource = 0
  const differences = new Map<string, number>()
  const examples: string[] = []
  const example = (text: string) => {
    if (examples.length < Math.max(verbose, 10) * 4) examples.push(text)
  }
  const one = async (input: PycInput) => {
    let code: CodeObject
    let minor: number
    try {
      const pyc = readPyc(new Uint8Array(readFileSync(input.path)))
      minor = pyc.version[1]
      code = toCodeObject(pyc.code, minor)
    } catch (e) {
      unreadable++
      example(`unreadable ${input.id}: ${e instanceof Error ? e.message : String(e)}`)
      return
    }
    let result: DecompileResult
    try {
      if (decompiler === 'oracle') {
        const path = findSourcePath(input.path, code.filename)
        if (path === undefined) throw new NoSource()
        result = { source: decodeSource(new Uint8Array(readFileSync(path))), units: [] }
      } else if (typeof decompiler === 'object') {
        const source = decompiler.sourceOf(input)
        if (source === undefined) throw new NoSource()
        result = { source, units: [] }
      } else result = decompiler(code, [3, minor])
    } catch (e) {
      if (e instanceof NoSource) {
        noSource++
        return
      }
      crashes++
      example(`crash ${input.id}: ${e instanceof Error ? (e.stack ?? e.message).split('\n').slice(0, 3).join(' | ') : String(e)}`)
      const v = verifyModule(code, undefined, { units: [{ qualname: code.qualname, firstLine: code.firstlineno, status: 'not-recovered', reason: 'crash' }] })
      codes += v.verdicts.length
      notRecovered += v.notRecovered
      return
    }
    const recompiled = await recompilers.compile(minor, result.source, { filename: code.filename, optimize: optimizeOf(input.path) })
    const v = 'code' in recompiled ? verifyModule(code, recompiled.code, { units: result.units }) : verifyModule(code, undefined, { units: result.units, compileError: recompiled.error })
    if (v.compileError !== undefined) {
      compileFailures++
      example(`does not compile ${input.id}: ${v.compileError}`)
    }
    codes += v.verdicts.length
    equivalent += v.equivalent
    differs += v.differs
    notRecovered += v.notRecovered
    for (const verdict of v.verdicts) {
      if (verdict.status !== 'differs' || v.compileError !== undefined) continue
      const d = verdict.difference!
      const key = `${d.field}: ${d.expected.split(' ')[0]}`
      differences.set(key, (differences.get(key) ?? 0) + 1)
      example(`differs ${input.id}:${verdict.qualname}:${verdict.firstLine}: ${d.field}${d.offset !== undefined ? ` at byte ${d.offset}` : ''}: expected ${d.expected}, got ${d.got}`)
    }
  }
  let next = 0
  const lane = async () => {
    for (let i = next++; i < inputs.length; i = next++) await one(inputs[i]!)
  }
  await Promise.all(Array.from({ length: Math.min(FILES_IN_FLIGHT, inputs.length) }, lane))
  const used = process.cpuUsage(cpu)
  return {
    version,
    files: inputs.length,
    codes,
    equivalent,
    differs,
    notRecovered,
    crashes,
    compileFailures,
    unreadable,
    noSource,
    differences: [...differences].sort((a, b) => b[1] - a[1]).slice(0, 20),
    examples,
    cpuSeconds: (used.user + used.system) / 1e6,
    seconds: (performance.now() - started) / 1000,
  }
}

/** The source of a .pyc for the oracle: beside it, in the folder above __pycache__, or at co_filename (as dis finds it). */
export function findSourcePath(pycPath: string, coFilename: string): string | undefined {
  let found: string | undefined
  for (const candidate of sourceCandidates(pycPath, coFilename)) {
    try {
      readFileSync(candidate)
      found = candidate
      break
    } catch {
      // next
    }
  }
  return found
}

function sourceCandidates(pycPath: string, coFilename: string): string[] {
  const parts = pycPath.split('/')
  const name = parts.pop()!
  const stem = name.replace(/\.(cpython-\d+|pypy\d+)(\.opt-\d)?\.pyc$/, '').replace(/\.pyc$/, '')
  if (parts[parts.length - 1] === '__pycache__') parts.pop()
  return [[...parts, `${stem}.py`].join('/'), resolve(parts.join('/'), coFilename), coFilename].filter(Boolean)
}

/** What --unparse runs: every source file's text, parsed and unparsed by the interpreter (null when it cannot). */
const UNPARSE = `import ast, json, sys, tokenize
out = []
for p in json.load(sys.stdin):
    try:
        with tokenize.open(p) as f:
            out.append(ast.unparse(ast.parse(f.read())))
    except Exception:
        out.append(None)
sys.stdout.write(json.dumps(out))
`

/** --unparse: each .pyc's source as `ast.unparse(ast.parse(source))` of its own interpreter (3.9+). */
function unparseOracle(python: string, inputs: readonly PycInput[]): SourceOracle {
  const paths = inputs.map((i) => findSourcePath(i.path, ''))
  const found = paths.filter((p): p is string => p !== undefined)
  const texts = JSON.parse(execFileSync(python, ['-I', '-W', 'ignore', '-c', UNPARSE], { input: JSON.stringify(found), encoding: 'utf8', maxBuffer: 2 ** 30 })) as (string | null)[]
  const byPath = new Map(found.map((p, i) => [p, texts[i] ?? undefined]))
  const byInput = new Map(inputs.map((input, i) => [input.path, paths[i] === undefined ? undefined : byPath.get(paths[i]!)]))
  return { sourceOf: (input) => byInput.get(input.path) }
}

const pct = (n: number, total: number) => (total === 0 ? 'n/a' : `${((100 * n) / total).toFixed(2)} %`)

/** One line per report. */
export function formatReport(r: DecompileReport, label: string): string {
  return (
    `${label}: ${r.codes} code objects in ${r.files} files: equivalent ${pct(r.equivalent, r.codes)}, differs ${pct(r.differs, r.codes)}, ` +
    `not recovered ${pct(r.notRecovered, r.codes)}; crashes ${r.crashes}, output does not compile ${r.compileFailures}` +
    `${r.unreadable ? `, unreadable ${r.unreadable}` : ''}${r.noSource ? `, no source ${r.noSource}` : ''}; ` +
    `${r.cpuSeconds.toFixed(1)} s CPU here, ${r.seconds.toFixed(1)} s wall`
  )
}

async function main(): Promise<number> {
  const args = process.argv.slice(2)
  const value = (name: string) => {
    const i = args.findIndex((a) => a === name || a.startsWith(`${name}=`))
    if (i < 0) return undefined
    const a = args[i]!
    return a.includes('=') ? a.slice(a.indexOf('=') + 1) : args[i + 1]
  }
  const known = ['--versions', '--sample', '--opt', '--json', '--verbose', '--oracle', '--unparse', '--dir']
  const unknown = args.filter((a) => a.startsWith('--') && !known.some((k) => a === k || a.startsWith(`${k}=`)))
  if (unknown.length > 0) {
    console.error(`unknown option(s) ${unknown.join(' ')}; known: ${known.join(' ')}`)
    return 2
  }
  const versions = value('--versions')?.split(',')
  const sampleText = value('--sample')
  const sample = sampleText === undefined ? undefined : Number(sampleText)
  if (sample !== undefined && !(Number.isInteger(sample) && sample > 0)) {
    console.error(`--sample takes a whole number > 0, not "${sampleText}"`)
    return 2
  }
  const verboseArg = args.find((a) => a.startsWith('--verbose'))
  const verbose = verboseArg === undefined ? 0 : verboseArg.includes('=') ? Number(verboseArg.split('=')[1]) : 20
  const oracle = args.includes('--oracle')
  const unparse = args.includes('--unparse')
  const decompiler: Decompiler | 'oracle' | undefined = oracle ? 'oracle' : unparse ? 'oracle' : coreDecompiler
  if (decompiler === undefined) {
    console.error('this tree has no decompiler core (src/decompile/index.ts, wired in src/cli/decompiler.ts); --oracle measures the verification alone')
    return 2
  }
  const reports: DecompileReport[] = []
  const print = (r: DecompileReport, label: string) => {
    console.log(formatReport(r, label))
    if (verbose > 0) {
      for (const [k, n] of r.differences.slice(0, verbose)) console.log(`  ${n}× ${k}`)
      for (const e of r.examples.slice(0, verbose)) console.log(`  ${e}`)
    }
  }
  const dir = value('--dir')
  if (dir !== undefined) {
    const all = findPycs(dir).map((path) => ({ id: relative(dir, path), path }))
    const inputs = sample === undefined ? all : sampleInputs(all, sample)
    const recompilers = new Recompilers()
    try {
      const r = await measure(dir, inputs, recompilers, decompiler, verbose)
      reports.push(r)
      print(r, dir)
    } finally {
      await recompilers.close()
    }
  } else {
    for (const interp of findInterpreters()) {
      if (versions && !versions.includes(interp.version)) continue
      const all = await listStdlib(interp, args.includes('--opt'))
      const inputs = sample === undefined ? all : sampleInputs(all, sample)
      if (unparse && (interp.python === undefined || interp.minor < 9)) {
        console.log(`${interp.version}: left out (--unparse needs a native CPython 3.9+, which has ast.unparse)`)
        continue
      }
      const recompilers = new Recompilers(interp.python ? { python: interp.python, runtime: 'native' } : { runtime: 'pyodide' })
      try {
        const r = await measure(interp.version, inputs, recompilers, unparse ? unparseOracle(interp.python!, inputs) : decompiler, verbose)
        reports.push(r)
        print(r, `${interp.version} (${interp.release})`)
      } finally {
        await recompilers.close()
      }
    }
  }
  const json = value('--json')
  if (json) writeFileSync(json, `${JSON.stringify(reports, null, 2)}\n`)
  if (oracle && reports.some((r) => r.differs > 0 || r.notRecovered > 0)) return 1
  return reports.some((r) => r.crashes > 0 || r.compileFailures > 0 || r.unreadable > 0) ? 1 : 0
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      console.error(err instanceof Error ? err.stack : err)
      process.exit(2)
    },
  )
}
