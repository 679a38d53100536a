/** `pyxray decompile TARGET`: bytecode back to Python source, verified by recompiling on request. */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { basename, dirname, join, relative, resolve, sep } from 'node:path'
import { type CodeObject, toCodeObject } from '../bytecode/index.js'
import type { DecompileResult, Decompiler } from '../decompile/types.js'
import { type CodeVerdict, type VerifyReport, verifyModule } from '../decompile/verify.js'
import { readMarshal } from '../marshal/index.js'
import { readPyc } from '../pyc/index.js'
import { type RuntimeInfo, RuntimeError, selectRuntime } from '../runtime/index.js'
import { Recompilers } from '../runtime/recompile.js'
import { escapeControls } from '../text/escape.js'
import { defineCommand, formatOption, formatValue, HELP_OPTION, numberOption, OUTPUT_OPTIONS, outputValue, parseOptions, RUNTIME_HELP, RUNTIME_OPTIONS, type RuntimeValues, runtimeValues } from './command.js'
import { coreDecompiler } from './decompiler.js'
import { describeError } from './dis-file.js'
import { ExitCode, UsageError } from './errors.js'
import { checkOutputPath, type Console, writeFileAtomic } from './io.js'
import { formatSyntaxError, readSourceFile } from './source.js'

/** Options of `pyxray decompile`. */
export interface DecompileOptions {
  readonly target: string
  /** -o FILE: the source of one .pyc or .py. */
  readonly output?: string
  /** --out-dir DIR: the sources of a folder's .pyc files, mirrored. */
  readonly outDir?: string
  readonly verify: boolean
  readonly format: 'text' | 'json'
  /** --fail-under PCT: exit 1 when fewer code objects than this are equivalent. */
  readonly failUnder?: number
  readonly runtime: RuntimeValues
}

/** One input: a .pyc, or the code object a .py compiled to. */
interface Input {
  readonly path: string
  /** Path relative to the folder given (its basename for a file). */
  readonly rel: string
}

/** What became of one input. */
interface FileOutcome {
  readonly path: string
  readonly pythonVersion?: string
  /** Where its source was written. */
  readonly output?: string
  readonly source?: string
  readonly units?: DecompileResult['units']
  /** The .pyc could not be read. */
  readonly unreadable?: string
  /** The decompiler threw. */
  readonly crashed?: string
  readonly verify?: VerifyReport
  /** The interpreter that recompiled the output. */
  readonly recompiledBy?: string
}

/** The optimization level a .pyc was written with, from its name (`.opt-1.pyc`, `.opt-2.pyc`), else 0. */
export function optimizeOf(path: string): 0 | 1 | 2 {
  const m = /\.opt-([12])\.pyc$/.exec(path)
  return m ? (Number(m[1]) as 1 | 2) : 0
}

/** Every .pyc under `dir`, sorted. */
function pycFiles(dir: string): string[] {
  const out: string[] = []
  const walk = (d: string) => {
    const entries = readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    for (const e of entries) {
      const p = join(d, e.name)
      if (e.isDirectory()) walk(p)
      else if (e.isFile() && e.name.endsWith('.pyc')) out.push(p)
    }
  }
  walk(dir)
  return out
}

/**
 * Where the source of each .pyc goes under the output folder: `pkg/__pycache__/m.cpython-312.pyc`
 * → `pkg/m.py` (the layout of the sources), `pkg/m.pyc` → `pkg/m.py`; when two inputs would land
 * on one name (two versions of one module), each keeps its own name with `.py` for `.pyc`.
 */
export function mirroredPaths(rels: readonly string[]): string[] {
  const short = rels.map((rel) => {
    const parts = rel.split(/[\\/]/)
    const name = parts.pop()!
    const stem = name.replace(/\.(cpython-\d+|pypy\d+)(\.opt-\d)?\.pyc$/, '').replace(/\.pyc$/, '')
    if (parts[parts.length - 1] === '__pycache__') parts.pop()
    return [...parts, `${stem}.py`].join('/')
  })
  const count = new Map<string, number>()
  for (const s of short) count.set(s, (count.get(s) ?? 0) + 1)
  return rels.map((rel, i) => (count.get(short[i]!) === 1 ? short[i]! : rel.split(/[\\/]/).join('/').replace(/\.pyc$/, '.py')))
}

/** Whether `inner` is `outer` or inside it. */
function isWithin(inner: string, outer: string): boolean {
  const rel = relative(resolve(outer), resolve(inner))
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep) && rel !== '..')
}

const percent = (n: number, total: number) => (total === 0 ? '0' : ((100 * n) / total).toFixed(1))

/** Runs `pyxray decompile` with `decompile` (the core's, or another for the tests). */
export async function runDecompile(o: DecompileOptions, con: Console, decompile: Decompiler | undefined = coreDecompiler): Promise<number> {
  const { target } = o
  let stat
  try {
    stat = statSync(target)
  } catch {
    throw new UsageError('NOT_FOUND', `${target}: no such file or folder`)
  }
  const kind = stat.isDirectory() ? 'folder' : target.endsWith('.pyc') ? 'pyc' : /\.pyw?$/.test(target) ? 'py' : undefined
  if (kind === undefined) throw new UsageError('USAGE', `${target}: not a .pyc, a .py or a folder; decompile takes compiled bytecode (.pyc), a folder of them, or a .py to check itself`)
  if (kind === 'folder' && o.output !== undefined) throw new UsageError('USAGE', `-o FILE takes the source of one file; for the folder ${target} use --out-dir DIR`)
  if (kind !== 'folder' && o.outDir !== undefined) throw new UsageError('USAGE', `--out-dir is for a folder of .pyc files; for ${target} use -o FILE`)
  const verify = o.verify || kind === 'py'
  if (kind === 'folder' && o.outDir === undefined && !verify) throw new UsageError('USAGE', `a folder needs --out-dir DIR for the sources (or --verify to check them only)`)
  if (o.failUnder !== undefined && !verify) throw new UsageError('USAGE', '--fail-under needs --verify')
  if (o.output !== undefined) checkOutputPath(o.output, [target], '-o')
  if (o.outDir !== undefined) {
    if (isWithin(o.outDir, target)) throw new UsageError('OUTPUT', `--out-dir ${o.outDir}: inside the folder decompiled; give a folder outside ${target} (its sources are never overwritten)`)
    let out
    try {
      out = statSync(o.outDir)
    } catch {
      out = undefined
    }
    if (out && !out.isDirectory()) throw new UsageError('OUTPUT', `--out-dir ${o.outDir}: not a folder`)
    if (!out && !statSync(dirname(resolve(o.outDir)), { throwIfNoEntry: false })?.isDirectory()) throw new UsageError('OUTPUT', `--out-dir ${o.outDir}: folder ${dirname(resolve(o.outDir))} does not exist`)
  }
  if (kind === 'pyc') {
    // One file: a file that is not bytecode is bad input (exit 2), not a line of a report.
    try {
      readPyc(new Uint8Array(readFileSync(target)))
    } catch (e) {
      throw new UsageError('USAGE', describeError(target, e) ?? `${target}: ${e instanceof Error ? e.message : String(e)}`)
    }
  }
  if (decompile === undefined) throw new UsageError('USAGE', 'this build of pyxray has no decompiler core (src/decompile/index.ts, wired in src/cli/decompiler.ts)')

  const recompilers = new Recompilers({ ...(o.runtime.runtime ? { runtime: o.runtime.runtime } : {}), ...(o.runtime.python ? { python: o.runtime.python } : {}) })
  try {
    let outcomes: FileOutcome[]
    if (kind === 'py') {
      const outcome = await checkSource(target, o, decompile, recompilers, con)
      if (typeof outcome === 'number') return outcome
      outcomes = [outcome]
    } else {
      const inputs: Input[] = kind === 'pyc' ? [{ path: target, rel: basename(target) }] : pycFiles(target).map((p) => ({ path: p, rel: relative(target, p) }))
      const outputs = o.outDir !== undefined ? mirroredPaths(inputs.map((i) => i.rel)).map((p) => join(o.outDir!, p)) : []
      outcomes = await runPool(inputs, 4, (input, i) => decompileFile(input, { ...o, verify }, decompile, recompilers, outputs[i]))
    }
    if (kind !== 'folder' && o.output !== undefined && outcomes[0]?.source !== undefined) writeOutput(o.output, outcomes[0].source)
    return report(outcomes, { ...o, verify }, kind, con)
  } finally {
    await recompilers.close()
  }
}

/** Runs `work` over `items`, `lanes` at a time; the results in the order of `items`. */
async function runPool<T, R>(items: readonly T[], lanes: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length)
  let next = 0
  const lane = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await work(items[i]!, i)
  }
  await Promise.all(Array.from({ length: Math.min(lanes, items.length) }, lane))
  return out
}

function writeOutput(path: string, text: string): void {
  try {
    writeFileAtomic(path, text)
  } catch (e) {
    throw new UsageError('OUTPUT', `cannot write ${path}: ${e instanceof Error ? e.message : String(e)}`)
  }
}

/** Decompiles one .pyc, writes its source under --out-dir, and verifies it when asked. */
async function decompileFile(input: Input, o: DecompileOptions, decompile: Decompiler, recompilers: Recompilers, output: string | undefined): Promise<FileOutcome> {
  let code: CodeObject
  let minor: number
  try {
    const pyc = readPyc(new Uint8Array(readFileSync(input.path)))
    minor = pyc.version[1]
    code = toCodeObject(pyc.code, minor)
  } catch (e) {
    return { path: input.path, unreadable: describeError(input.path, e) ?? String(e) }
  }
  return decompileCode(input.path, code, minor, o.runtime.optimize ?? optimizeOf(input.path), o.verify, decompile, recompilers, output)
}

async function decompileCode(path: string, code: CodeObject, minor: number, optimize: 0 | 1 | 2, verify: boolean, decompile: Decompiler, recompilers: Recompilers, output: string | undefined): Promise<FileOutcome> {
  const pythonVersion = `3.${minor}`
  let result: DecompileResult
  try {
    result = decompile(code, [3, minor])
  } catch (e) {
    const crashed = e instanceof Error ? e.message : String(e)
    const verdict = verifyModule(code, undefined, { units: [{ qualname: code.qualname, firstLine: code.firstlineno, status: 'not-recovered', reason: `the decompiler failed: ${crashed}` }] })
    return { path, pythonVersion, crashed, ...(verify ? { verify: verdict } : {}) }
  }
  if (output !== undefined) writeOutput(output, result.source)
  const base = { path, pythonVersion, source: result.source, units: result.units, ...(output !== undefined ? { output } : {}) }
  if (!verify) return base
  const { selected, info } = await recompilers.runtimeFor(minor)
  const recompiled = await recompilers.compile(minor, result.source, { filename: code.filename, optimize })
  const report = 'code' in recompiled ? verifyModule(code, recompiled.code, { units: result.units }) : verifyModule(code, undefined, { units: result.units, compileError: recompiled.error })
  return { ...base, verify: report, recompiledBy: describeRuntime(info, selected.reason) }
}

const describeRuntime = (info: RuntimeInfo, reason: string) => `${info.kind} CPython ${info.version} (${info.executable}; ${reason})`

/** The .py self-check: compile it, decompile that, recompile the output with the same interpreter, compare. */
async function checkSource(path: string, o: DecompileOptions, decompile: Decompiler, recompilers: Recompilers, con: Console): Promise<FileOutcome | number> {
  const file = readSourceFile(path)
  const selected = await selectRuntime(o.runtime)
  let info: RuntimeInfo
  try {
    info = await selected.runtime.info()
  } catch (e) {
    await selected.runtime.close()
    throw e
  }
  recompilers.adopt(info.minor, selected)
  if (o.runtime.verbose) con.err(`pyxray: runtime ${info.kind} CPython ${info.version} (${info.executable}): ${selected.reason}\n`)
  const optimize = o.runtime.optimize ?? 0
  let bytes: Uint8Array
  try {
    bytes = await selected.runtime.compile(file.bytes, { filename: path, optimize })
  } catch (e) {
    if (e instanceof RuntimeError && e.code === 'SYNTAX_ERROR') {
      con.err(`${formatSyntaxError(e, path)}\n`)
      return ExitCode.Usage
    }
    throw e
  }
  const { value } = readMarshal(bytes, { pythonVersion: [3, info.minor] })
  if (value.type !== 'code') throw new RuntimeError('RUNTIME_PROTOCOL', `the runtime returned a ${value.type}, not a code object`)
  return decompileCode(path, toCodeObject(value, info.minor), info.minor, optimize, true, decompile, recompilers, undefined)
}

// --- the report --------------------------------------------------------------------------------

interface Totals {
  files: number
  codes: number
  equivalent: number
  differs: number
  notRecovered: number
  compiled: number
  verified: number
  crashed: number
  unreadable: number
}

function totalsOf(outcomes: readonly FileOutcome[]): Totals {
  const t: Totals = { files: outcomes.length, codes: 0, equivalent: 0, differs: 0, notRecovered: 0, compiled: 0, verified: 0, crashed: 0, unreadable: 0 }
  for (const f of outcomes) {
    if (f.unreadable !== undefined) t.unreadable++
    if (f.crashed !== undefined) t.crashed++
    if (f.verify) {
      t.codes += f.verify.verdicts.length
      t.equivalent += f.verify.equivalent
      t.differs += f.verify.differs
      t.notRecovered += f.verify.notRecovered
      if (f.crashed === undefined) {
        t.verified++
        if (f.verify.compileError === undefined) t.compiled++
      }
    }
  }
  return t
}

function verdictLine(v: CodeVerdict): string {
  const where = `${escapeControls(v.qualname)} (line ${v.firstLine})`
  if (v.status === 'equivalent') return `  equivalent     ${where}\n`
  if (v.status === 'not-recovered') return `  not recovered  ${where}: ${escapeControls(v.reason ?? '')}\n`
  const d = v.difference!
  const at = d.offset !== undefined ? ` at byte ${d.offset}${d.index !== undefined ? ` (instruction ${d.index})` : ''}` : d.index !== undefined ? ` [${d.index}]` : ''
  return `  differs        ${where}: ${d.field}${at}: expected ${escapeControls(d.expected)}, got ${escapeControls(d.got)}\n`
}

function summaryLine(t: Totals): string {
  const parts = [
    `${t.codes} code objects in ${t.files} file${t.files === 1 ? '' : 's'}: ${t.equivalent} equivalent (${percent(t.equivalent, t.codes)} %), ${t.differs} differ (${percent(t.differs, t.codes)} %), ${t.notRecovered} not recovered (${percent(t.notRecovered, t.codes)} %)`,
    `output compiles for ${t.compiled}/${t.verified} files`,
  ]
  if (t.crashed) parts.push(`${t.crashed} decompiler crash${t.crashed === 1 ? '' : 'es'}`)
  if (t.unreadable) parts.push(`${t.unreadable} unreadable`)
  return `${parts.join('; ')}\n`
}

function report(outcomes: readonly FileOutcome[], o: DecompileOptions, kind: 'pyc' | 'py' | 'folder', con: Console): number {
  const t = totalsOf(outcomes)
  if (o.format === 'json') {
    const files = outcomes.map((f) => ({
      path: f.path,
      ...(f.pythonVersion ? { pythonVersion: f.pythonVersion } : {}),
      ...(f.output ? { output: f.output } : {}),
      ...(f.unreadable !== undefined ? { unreadable: f.unreadable } : {}),
      ...(f.crashed !== undefined ? { crashed: f.crashed } : {}),
      // The source travels in the JSON when it goes nowhere else.
      ...(f.source !== undefined && f.output === undefined && o.output === undefined ? { source: f.source } : {}),
      ...(f.units ? { units: f.units } : {}),
      ...(f.verify
        ? { recompiledBy: f.recompiledBy ?? null, compiles: f.verify.compileError === undefined && f.crashed === undefined, ...(f.verify.compileError !== undefined ? { compileError: f.verify.compileError } : {}), verdicts: f.verify.verdicts }
        : {}),
    }))
    con.out(`${JSON.stringify({ pyxray: 'decompile', version: 1, verify: o.verify, files, summary: t }, null, 2)}\n`)
  } else if (!o.verify) {
    // Without --verify: a single file's source on stdout (unless -o took it), a folder's count.
    for (const f of outcomes) {
      if (f.unreadable !== undefined) con.err(`pyxray decompile: ${escapeControls(f.unreadable)}\n`)
      if (f.crashed !== undefined) con.err(`pyxray decompile: ${escapeControls(f.path)}: the decompiler failed: ${escapeControls(f.crashed)}\n`)
    }
    if (kind === 'pyc' && o.output === undefined && outcomes[0]?.source !== undefined) con.out(outcomes[0].source.endsWith('\n') || outcomes[0].source === '' ? outcomes[0].source : `${outcomes[0].source}\n`)
    if (kind === 'folder') con.out(`${t.files - t.unreadable - t.crashed} of ${t.files} files decompiled into ${o.outDir}${t.crashed ? `; ${t.crashed} decompiler crashes` : ''}${t.unreadable ? `; ${t.unreadable} unreadable` : ''}\n`)
  } else {
    for (const f of outcomes) {
      if (f.unreadable !== undefined) {
        con.out(`${escapeControls(f.path)}: unreadable: ${escapeControls(f.unreadable)}\n`)
        continue
      }
      const how = f.recompiledBy ? `, recompiled by ${escapeControls(f.recompiledBy)}` : ''
      con.out(`${escapeControls(f.path)}: CPython ${f.pythonVersion}${how}\n`)
      if (f.crashed !== undefined) con.out(`  the decompiler failed: ${escapeControls(f.crashed)}\n`)
      if (f.verify?.compileError !== undefined) con.out(`  the output does not compile: ${escapeControls(f.verify.compileError)}\n`)
      for (const v of f.verify?.verdicts ?? []) con.out(verdictLine(v))
    }
    con.out(summaryLine(t))
  }
  if (o.failUnder !== undefined) {
    const pct = t.codes === 0 ? 100 : (100 * t.equivalent) / t.codes
    if (pct < o.failUnder) {
      con.err(`pyxray decompile: ${pct.toFixed(1)} % of code objects equivalent, under --fail-under ${o.failUnder}\n`)
      return ExitCode.GateFailed
    }
  }
  return ExitCode.Ok
}

// --- the command -------------------------------------------------------------------------------

const DECOMPILE_OPTIONS = {
  ...RUNTIME_OPTIONS,
  ...OUTPUT_OPTIONS,
  'out-dir': { type: 'string' },
  verify: { type: 'boolean', default: false },
  'fail-under': { type: 'string' },
  ...formatOption('text'),
  ...HELP_OPTION,
} as const

/** `pyxray decompile`. */
export const decompileCommand = defineCommand({
  name: 'decompile',
  synopsis: 'TARGET',
  summary: 'Python source from bytecode, verified by recompiling',
  help: `Usage: pyxray decompile TARGET [-o FILE | --out-dir DIR] [--verify] [options]

Python source from CPython 3.8–3.15 bytecode. TARGET is a .pyc, a folder (every .pyc under it;
the sources go under --out-dir DIR in the same layout, pkg/__pycache__/m.cpython-312.pyc as
pkg/m.py), or a .py to check the decompiler on: it is compiled, decompiled and verified.
A function the decompiler cannot recover stays valid Python: a marker and its disassembly.

--verify recompiles the output with a CPython of the bytecode's version (the native one, or
Pyodide for 3.14 when there is none), at the .pyc's optimization level (from its name:
.opt-1.pyc, .opt-2.pyc), and compares every code object with the original: instructions and
their arguments, constants, names, locals, flags and the exception table; line and column data
(and NOP and EXTENDED_ARG, which follow from them) are ignored. It prints, per code object,
equivalent, differs (with the first difference: the instruction, its byte offset, expected and
got) or not recovered, and a summary. The output of one file goes to -o FILE with --verify
(stdout then carries the report).

Exit status: 0, also when code objects differ; 1 when --fail-under PCT is given and fewer than
PCT % of the code objects are equivalent; 2 for bad input (no such file, not a .pyc, a .pyc
that cannot be read, bad options).

Options:
  -o, --output FILE         write the source of one .pyc or .py to FILE (atomically; never an input)
      --out-dir DIR         a folder's sources, mirrored under DIR (not inside the folder itself)
      --verify              recompile and compare code objects (always on for a .py)
      --fail-under PCT      with --verify: exit 1 when under PCT % of code objects are equivalent
  -f, --format FMT          text (default) or json (the sources, units and verdicts)
${RUNTIME_HELP}
                            (for a .pyc the interpreter is the bytecode's version; --python must match it)
  -h, --help                show this help (also: pyxray help decompile)

Examples:
  pyxray decompile app.cpython-312.pyc -o app.py
  pyxray decompile build/lib --out-dir recovered --verify
  pyxray decompile mymodule.py --python 3.13
`,
  options: DECOMPILE_OPTIONS,
  parse(args, ctx) {
    const { values, positionals } = parseOptions(args, DECOMPILE_OPTIONS)
    if (positionals.length !== 1) throw new UsageError('USAGE', `decompile needs one TARGET (a .pyc, a folder or a .py), got ${positionals.length}; see pyxray decompile --help`)
    const format = formatValue('decompile', values.format, ['text', 'json'] as const)
    const output = outputValue(values, ctx)
    if (output !== undefined && values['out-dir'] !== undefined) throw new UsageError('USAGE', 'give either -o FILE (one source) or --out-dir DIR (a folder of sources)')
    const failUnder = values['fail-under'] === undefined ? undefined : numberOption('fail-under', values['fail-under'], 0, { min: 0, max: 100, integer: false })
    return {
      target: positionals[0]!,
      ...(output !== undefined ? { output } : {}),
      ...(values['out-dir'] !== undefined ? { outDir: values['out-dir'] } : {}),
      verify: values.verify,
      format,
      ...(failUnder !== undefined ? { failUnder } : {}),
      runtime: runtimeValues(values),
    }
  },
  run: (o, ctx) => runDecompile(o, ctx.con),
})
