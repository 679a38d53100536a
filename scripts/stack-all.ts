/**
 * The max-depth check over whole standard libraries: for every code object of every .pyc, the
 * maximum stack depth pyxray computes (src/bytecode/stack, analyzeDepth) must equal CPython's
 * own co_stacksize. Also counts the findings the analysis reports on this (valid) code.
 *
 *   node --import tsx scripts/stack-all.ts [--versions 3.8,3.14] [--sample N] [--no-opt]
 *                                          [--verbose[=K]] [--json report.json]
 *   node --import tsx scripts/stack-all.ts --dir PATH [--verbose[=K]]    every .pyc under PATH
 *                                          (third-party code; each file's own version)
 *
 * Interpreters and .pyc files as scripts/stdlib-diff.ts finds them: a native CPython of every
 * supported version (their cached stdlib .pyc files, all optimization levels unless --no-opt;
 * Pyodide stands in for a missing native 3.14). Exits 1 on any mismatch.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type CodeObject, toCodeObject } from '../src/bytecode/index.js'
import { analyzeDepth, type DepthFindingKind } from '../src/bytecode/stack/index.js'
import { readPyc } from '../src/pyc/index.js'
import { findPycs } from '../test/pyenv.js'
import { findInterpreters, listStdlib, type PycInput, sampleInputs, walkCodes } from './stdlib-diff.js'

/** One code object whose computed max depth differs from co_stacksize. */
export interface DepthMismatch {
  /** The .pyc (relative to the stdlib root) and the code object's qualified name and first line. */
  readonly where: string
  readonly stacksize: number
  readonly maxDepth: number
}

/** The outcome for one version. */
export interface StackReport {
  readonly version: string
  readonly files: number
  readonly unreadable: number
  readonly codes: number
  readonly matching: number
  readonly mismatches: readonly DepthMismatch[]
  /** Findings on this code, by kind (on compiler-made code these should be rare). */
  readonly findings: Readonly<Partial<Record<DepthFindingKind, number>>>
  /** A few example findings per kind. */
  readonly examples: Readonly<Partial<Record<DepthFindingKind, readonly string[]>>>
  readonly seconds: number
}

/** Checks the code objects of the given .pyc files of one version. */
export function checkFiles(version: string, inputs: readonly PycInput[]): StackReport {
  const started = performance.now()
  let codes = 0
  let matching = 0
  let unreadable = 0
  const mismatches: DepthMismatch[] = []
  const findings: Partial<Record<DepthFindingKind, number>> = {}
  const examples: Partial<Record<DepthFindingKind, string[]>> = {}
  for (const input of inputs) {
    let top: CodeObject
    try {
      const pyc = readPyc(new Uint8Array(readFileSync(input.path)))
      top = toCodeObject(pyc.code, pyc.version[1])
    } catch {
      unreadable++
      continue
    }
    for (const code of walkCodes(top)) {
      codes++
      const a = analyzeDepth(code)
      const where = `${input.id}:${code.qualname}:${code.firstlineno}`
      if (a.maxDepth === code.stacksize) matching++
      else mismatches.push({ where, stacksize: code.stacksize, maxDepth: a.maxDepth })
      for (const f of a.findings) {
        findings[f.kind] = (findings[f.kind] ?? 0) + 1
        const list = examples[f.kind] ?? []
        examples[f.kind] = list
        if (list.length < 5) list.push(`${where} @${f.offset}: ${f.message}`)
      }
    }
  }
  return {
    version,
    files: inputs.length,
    unreadable,
    codes,
    matching,
    mismatches,
    findings,
    examples,
    seconds: (performance.now() - started) / 1000,
  }
}

function percent(r: StackReport): string {
  return r.codes === 0 ? 'n/a' : `${((100 * r.matching) / r.codes).toFixed(r.matching === r.codes ? 0 : 3)} %`
}

async function main() {
  const args = process.argv.slice(2)
  const value = (name: string) => {
    const i = args.findIndex((a) => a === name || a.startsWith(`${name}=`))
    if (i < 0) return undefined
    const a = args[i]!
    return a.includes('=') ? a.slice(a.indexOf('=') + 1) : args[i + 1]
  }
  const known = ['--versions', '--sample', '--no-opt', '--verbose', '--json', '--dir']
  const unknown = args.filter((a) => a.startsWith('--') && !known.some((k) => a === k || a.startsWith(`${k}=`)))
  if (unknown.length > 0) {
    console.error(`unknown option(s) ${unknown.join(' ')}; known: ${known.join(' ')}`)
    process.exit(2)
  }
  const versions = value('--versions')?.split(',')
  const sample = value('--sample') === undefined ? undefined : Number(value('--sample'))
  const verboseArg = args.find((a) => a.startsWith('--verbose'))
  const verbose = verboseArg === undefined ? 0 : verboseArg.includes('=') ? Number(verboseArg.split('=')[1]) : 20
  const opt = !args.includes('--no-opt')
  const reports: StackReport[] = []
  const dir = value('--dir')
  const print = (r: StackReport, label: string) => {
    const found = Object.entries(r.findings)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')
    console.log(
      `${label}: ${r.matching}/${r.codes} code objects in ${r.files} files: maxDepth == co_stacksize ${percent(r)}` +
        `${r.unreadable ? `, ${r.unreadable} unreadable` : ''}; ${r.seconds.toFixed(1)} s${found ? `; findings: ${found}` : ''}`,
    )
    if (verbose > 0) {
      for (const m of r.mismatches.slice(0, verbose)) console.log(`  ${m.where}: computed ${m.maxDepth}, co_stacksize ${m.stacksize}`)
      for (const [kind, list] of Object.entries(r.examples)) for (const e of list.slice(0, verbose)) console.log(`  [${kind}] ${e}`)
    }
  }
  if (dir !== undefined) {
    const inputs = findPycs(dir).map((path) => ({ id: relative(dir, path), path }))
    const r = checkFiles(dir, inputs)
    reports.push(r)
    print(r, dir)
  }
  for (const interp of dir === undefined ? findInterpreters() : []) {
    if (versions && !versions.includes(interp.version)) continue
    const all = await listStdlib(interp, opt)
    const inputs = sample === undefined ? all : sampleInputs(all, sample)
    const r = checkFiles(interp.version, inputs)
    reports.push(r)
    print(r, `${r.version} (${interp.release})`)
  }
  const json = value('--json')
  if (json) writeFileSync(json, `${JSON.stringify(reports, null, 2)}\n`)
  if (reports.some((r) => r.mismatches.length > 0 || r.unreadable > 0)) process.exit(1)
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.stack : err)
    process.exit(2)
  })
}
