/**
 * Differential test of pyxray against CPython over whole standard libraries — and over any
 * directory of third-party sources — for every supported CPython on the machine (src/versions).
 *
 * For each .pyc: CPython's `dis.dis` text, `co_lines()`, `co_positions()` and
 * `dis.findlinestarts()` of every code object (from scripts/fixtures_oracle.py, one process per
 * version, cached under .cache/oracle/<version>/ by file content) against pyxray's readPyc →
 * formatDis, lineRanges / positions / lineStarts, and a byte-identical marshal round trip.
 *
 *   npm run test:stdlib -- [--versions 3.12,3.13] [--sample N] [--limit N] [--opt] [--variants]
 *                          [--verbose[=K]] [--json report.json] [--jobs N]
 *   npm run test:stdlib -- --dir PATH --python PATH|3.X|pyodide     (third-party code)
 *
 * Interpreters: a native CPython of each version (pyenv's newest patch release; 3.14 and 3.15 from
 * scripts/setup-native-pythons.sh). `--python pyodide` checks the embedded Pyodide 3.14, whose
 * stdlib sources (python_stdlib.zip) are compiled inside Pyodide; it also stands in for 3.14 when
 * there is no native 3.14. Exits 1 when anything differs.
 *
 * The module also exports the pieces the tests and the benchmark share: interpreter discovery,
 * stdlib listing, the dis-text normalizer and the per-file check.
 */
import { execFileSync, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { gunzipSync } from 'node:zlib'
import { type CodeObject, formatDis, lineRanges, lineStarts, positions, toCodeObject } from '../src/bytecode/index.js'
import { writeMarshal } from '../src/marshal/index.js'
import { readPyc } from '../src/pyc/index.js'
import { isSupportedMinor, minorOf, SUPPORTED_MINORS, SUPPORTED_RANGE, SUPPORTED_VERSIONS } from '../src/versions/index.js'
import { pythonFor } from '../test/pyenv.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
/** The oracle script, run by every interpreter (and imported inside Pyodide). */
export const ORACLE_SCRIPT = join(root, 'scripts/fixtures_oracle.py')
const CACHE = join(root, '.cache')
/** Bump when the oracle's record format changes: old cache entries are then ignored. */
const ORACLE_FORMAT = 'oracle-record-1'

/** Every version pyxray supports, oldest first. */
export const ALL_VERSIONS = SUPPORTED_VERSIONS

// --- normalizing dis text ---------------------------------------------------------------------------

/**
 * Makes two dis texts comparable: memory addresses (`at 0x7f…`) become `at 0xADDR`, and the
 * elements of every `frozenset({…})` repr are sorted, since their order follows the string hash
 * seed of the process that built the set. Applied to both sides of every comparison.
 */
export function normalizeDis(text: string): string {
  const addressFree = text.replace(/at 0x[0-9a-f]+/g, 'at 0xADDR')
  if (!addressFree.includes('frozenset({')) return addressFree
  return addressFree.split('\n').map(sortFrozensets).join('\n')
}

const FROZENSET_OPEN = 'frozenset({'

/** Sorts the elements of each frozenset repr in one line (nested ones first). */
function sortFrozensets(line: string): string {
  let out = ''
  let i = 0
  for (;;) {
    const at = line.indexOf(FROZENSET_OPEN, i)
    if (at < 0) return out + line.slice(i)
    const bodyStart = at + FROZENSET_OPEN.length
    const parsed = splitElements(line, bodyStart)
    if (!parsed) return out + line.slice(i) // unbalanced (e.g. inside a string): leave as is
    const elements = parsed.elements.map(sortFrozensets).sort()
    out += `${line.slice(i, bodyStart)}${elements.join(', ')}})`
    i = parsed.end + 2 // past "})"
  }
}

/**
 * Splits a set body starting at `start` into its top-level elements, honouring brackets and
 * Python string literals (with backslash escapes). Returns undefined when the body does not close.
 */
function splitElements(text: string, start: number): { elements: string[]; end: number } | undefined {
  const elements: string[] = []
  let depth = 0
  let quote: string | undefined
  let elementStart = start
  for (let i = start; i < text.length; i++) {
    const ch = text[i]!
    if (quote) {
      if (ch === '\\') i++
      else if (ch === quote) quote = undefined
      continue
    }
    if (ch === "'" || ch === '"') quote = ch
    else if (ch === '(' || ch === '[' || ch === '{') depth++
    else if (ch === ')' || ch === ']' || ch === '}') {
      if (depth > 0) depth--
      else if (ch === '}' && text[i + 1] === ')') {
        elements.push(text.slice(elementStart, i))
        return { elements, end: i }
      } else return undefined
    } else if (ch === ',' && depth === 0 && text[i + 1] === ' ') {
      elements.push(text.slice(elementStart, i))
      elementStart = i + 2
      i++
    }
  }
  return undefined
}

/** Where two (normalized) texts first differ: a readable excerpt and a short kind of mismatch. */
export interface TextDifference {
  /** 0-based index of the first differing line. */
  readonly line: number
  /** A short classification of the mismatch, for counting the most common kinds. */
  readonly kind: string
  /** A few lines of context, then the differing lines as `-expected` / `+actual`. */
  readonly excerpt: readonly string[]
}

/** The first difference between CPython's text (`expected`) and pyxray's, or undefined. */
export function firstDifference(expected: string, actual: string, context = 2, span = 6): TextDifference | undefined {
  if (expected === actual) return undefined
  const e = expected.split('\n')
  const a = actual.split('\n')
  let i = 0
  while (i < e.length && i < a.length && e[i] === a[i]) i++
  const excerpt = [
    ...e.slice(Math.max(0, i - context), i).map((l) => `  ${l}`),
    ...e.slice(i, i + span).map((l) => `- ${l}`),
    ...a.slice(i, i + span).map((l) => `+ ${l}`),
  ]
  return { line: i, kind: classify(e[i], a[i]), excerpt }
}

const OPNAME = /\b([A-Z][A-Z0-9_]{2,})\b/

function classify(expected: string | undefined, actual: string | undefined): string {
  if (expected === undefined || (expected === '' && actual !== '')) return 'extra output'
  if (actual === undefined) return 'output ends early'
  if (expected.startsWith('Disassembly of')) return 'Disassembly header'
  if (expected.startsWith('ExceptionTable') || /^\s+L?\d+ to L?\d+ ->/.test(expected)) return 'exception table'
  const op = OPNAME.exec(expected)?.[1]
  if (!op) return 'layout'
  const actualOp = OPNAME.exec(actual)?.[1]
  if (actualOp !== op) return `${op}: different instruction (${actualOp ?? 'none'})`
  const argOf = (l: string) => l.slice(l.indexOf(op) + op.length)
  if (argOf(expected) !== argOf(actual)) return `${op}: argument`
  return `${op}: line number/offset/label column`
}

// --- interpreters ----------------------------------------------------------------------------------

/** A CPython to compare against. */
export interface Interpreter {
  /** "3.X" */
  readonly version: string
  readonly minor: number
  /** The exact release ("3.12.1", or "pyodide 314.0.7"): part of the oracle cache key. */
  readonly release: string
  /** Path of a native interpreter; undefined for Pyodide (3.14). */
  readonly python?: string
}

/**
 * A native CPython of every supported version (pyenv's newest patch release, else the wrappers of
 * scripts/setup-native-pythons.sh; see test/pyenv.ts), oldest first. A version with no native
 * interpreter is left out, except 3.14, for which the embedded Pyodide stands in.
 */
export function findInterpreters(): Interpreter[] {
  const found: Interpreter[] = []
  for (const minor of SUPPORTED_MINORS) {
    const python = pythonFor(minor)
    if (python !== undefined) {
      const release = execFileSync(python, ['-B', ORACLE_SCRIPT, 'version'], { encoding: 'utf8' }).trim()
      found.push({ version: `3.${minor}`, minor, release, python })
    } else if (minor === PYODIDE.minor) found.push(PYODIDE)
  }
  return found
}

/** Pyodide's CPython 3.14 (the npm package), which runs in this process. */
const PYODIDE: Interpreter = {
  version: '3.14',
  minor: 14,
  release: `pyodide ${(JSON.parse(readFileSync(join(root, 'node_modules/pyodide/package.json'), 'utf8')) as { version: string }).version}`,
}

/** An interpreter named on the command line: a path, "3.X" (native) or "pyodide". */
function interpreterFor(spec: string): Interpreter {
  if (spec === 'pyodide') return PYODIDE
  const known = findInterpreters().find((i) => i.version === spec)
  if (known) return known
  const release = execFileSync(spec, ['-B', ORACLE_SCRIPT, 'version'], { encoding: 'utf8' }).trim()
  const minor = minorOf(release)
  if (minor === undefined || !isSupportedMinor(minor)) throw new Error(`${spec} is Python ${release}; pyxray supports ${SUPPORTED_RANGE}`)
  return { version: `3.${minor}`, minor, release, python: spec }
}

const ORACLE_ENV = { ...process.env, PYTHONHASHSEED: '0', PYTHONIOENCODING: 'utf-8', PYTHONDONTWRITEBYTECODE: '1' }

// --- Pyodide (3.14) --------------------------------------------------------------------------------

interface PyodideLike {
  runPython(code: string): unknown
  FS: { mkdir(path: string): void; mount(type: unknown, opts: { root: string }, mountpoint: string): void; filesystems: { NODEFS: unknown } }
}

let pyodide: Promise<PyodideLike> | undefined

/** Pyodide with the host file system at /host and the oracle imported as `fixtures_oracle`. */
function loadOracleInPyodide(): Promise<PyodideLike> {
  pyodide ??= (async () => {
    const { loadPyodide } = await import('pyodide')
    const py = (await loadPyodide({ env: { PYTHONHASHSEED: '0' } })) as unknown as PyodideLike
    py.FS.mkdir('/host')
    py.FS.mount(py.FS.filesystems.NODEFS, { root: '/' }, '/host')
    py.runPython(`import sys; sys.path.insert(0, ${pyString(hostPath(dirname(ORACLE_SCRIPT)))}); import fixtures_oracle`)
    return py
  })()
  return pyodide
}

/** Where a host path is inside Pyodide. */
const hostPath = (p: string) => `/host${resolve(p).split(sep).join('/')}`
/** A Python string literal (JSON string syntax is a subset of Python's). */
const pyString = (s: string) => JSON.stringify(s)

// --- the .pyc files of a standard library ----------------------------------------------------------

/** One .pyc to check. */
export interface PycInput {
  /** Stable name: the path relative to the library's root, with "/" separators. */
  readonly id: string
  /** Absolute path of the .pyc file. */
  readonly path: string
}

function* walk(dir: string, skipDir: (name: string) => boolean): Generator<string> {
  let entries: import('node:fs').Dirent[]
  try {
    entries = readdirSync(dir, { withFileTypes: true })
  } catch {
    return
  }
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const p = join(dir, entry.name)
    if (entry.isDirectory()) {
      if (!skipDir(entry.name)) yield* walk(p, skipDir)
    } else if (entry.isFile()) yield p
  }
}

const toId = (base: string, p: string) => relative(base, p).split(sep).join('/')

/**
 * The stdlib's cached .pyc files of a pyenv interpreter (`__pycache__/*.cpython-3X.pyc`, and with
 * `opt` the .opt-1/.opt-2 ones too), site-packages excluded; for 3.14, Pyodide's stdlib compiled
 * inside Pyodide (cached under .cache/pyodide-stdlib/).
 */
export async function listStdlib(interp: Interpreter, opt = false): Promise<PycInput[]> {
  if (!interp.python) return pyodideStdlib(opt)
  const stdlib = execFileSync(interp.python, ['-c', 'import sysconfig; print(sysconfig.get_paths()["stdlib"])'], {
    encoding: 'utf8',
  }).trim()
  const tag = `.cpython-3${interp.minor}`
  const wanted = opt ? [`${tag}.pyc`, `${tag}.opt-1.pyc`, `${tag}.opt-2.pyc`] : [`${tag}.pyc`]
  const files: PycInput[] = []
  for (const p of walk(stdlib, (name) => name === 'site-packages' || name === 'dist-packages')) {
    if (!p.includes(`${sep}__pycache__${sep}`)) continue
    if (wanted.some((suffix) => p.endsWith(suffix))) files.push({ id: toId(stdlib, p), path: p })
  }
  return files
}

/** Pyodide's stdlib sources, compiled by Pyodide's CPython 3.14 into .cache/pyodide-stdlib/<zip hash>/. */
async function pyodideStdlib(opt: boolean): Promise<PycInput[]> {
  const zip = join(root, 'node_modules/pyodide/python_stdlib.zip')
  const zipHash = createHash('sha256').update(readFileSync(zip)).digest('hex').slice(0, 16)
  const files: PycInput[] = []
  for (const level of opt ? [0, 1, 2] : [0]) {
    const dir = join(CACHE, 'pyodide-stdlib', `${zipHash}-O${level}`)
    const manifest = join(dir, 'manifest.json')
    if (!existsSync(manifest)) {
      const py = await loadOracleInPyodide()
      mkdirSync(dir, { recursive: true })
      const names = py.runPython(`
import json, os
_out = ${pyString(hostPath(dir))}
_names = []
for _name, _data in fixtures_oracle.compile_zip('/lib/python314.zip', '/lib/python3.14/', ${level}):
    _target = os.path.join(_out, _name + 'c')
    os.makedirs(os.path.dirname(_target), exist_ok=True)
    fixtures_oracle.write_bytes(_target, _data)
    _names.append(_name + 'c')
json.dumps(_names)
`) as string
      writeFileSync(manifest, names)
    }
    const suffix = level ? `.opt-${level}.pyc` : '.pyc'
    for (const name of JSON.parse(readFileSync(manifest, 'utf8')) as string[]) {
      files.push({ id: name.replace(/\.pyc$/, suffix), path: join(dir, name) })
    }
  }
  return files
}

/** Compiles every .py under `dir` with the interpreter into `out` (third-party code). */
async function compileDir(interp: Interpreter, dir: string, out: string, optimize: number): Promise<{ compiled: number; failed: number }> {
  mkdirSync(out, { recursive: true })
  if (!interp.python) {
    const py = await loadOracleInPyodide()
    const summary = py.runPython(
      `import json; json.dumps(fixtures_oracle.compile_tree(${pyString(hostPath(dir))}, ${pyString(hostPath(out))}, ${optimize}))`,
    ) as string
    return JSON.parse(summary)
  }
  const stdout = await run(interp.python, ['-B', '-s', ORACLE_SCRIPT, 'compile-dir', dir, out, '--optimize', String(optimize)])
  return JSON.parse(stdout)
}

/** Runs a process to completion; resolves with its stdout, rejects with its stderr. */
function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { env: ORACLE_ENV, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.on('error', reject)
    child.on('close', (status) => {
      if (status === 0) resolvePromise(stdout)
      else reject(new Error(`${cmd} ${args.slice(0, 3).join(' ')} … exited with ${status}:\n${stderr.slice(-2000)}`))
    })
  })
}

// --- the oracle ------------------------------------------------------------------------------------

/** One code object as the oracle sees it (see code_records() in fixtures_oracle.py). */
export interface OracleCode {
  /** co_qualname (3.11+) or co_name. */
  readonly name: string
  readonly firstlineno: number
  /** dis.findlinestarts(): [byte offset, line]. */
  readonly linestarts: readonly (readonly [number, number | null])[]
  /** co_lines() (3.10+): [start, end, line]. */
  readonly lines?: readonly (readonly [number, number, number | null])[]
  /** co_positions() (3.11+), run-length encoded: [count, line, endLine, col, endCol]. */
  readonly positions?: readonly (readonly [number, number | null, number | null, number | null, number | null])[]
}

/** What the oracle says about one .pyc. */
export interface OracleRecord {
  /** dis.dis(code) output, addresses normalized. */
  readonly dis?: string
  /** Every code object, in dis's order. */
  readonly codes?: readonly OracleCode[]
  /** With --variants: "caches" / "offsets" / "positions" → dis text with that option. */
  readonly variants?: Readonly<Record<string, string>>
  /** Set when CPython itself could not load the file. */
  readonly error?: string
}

/** Cache entries are keyed by the file's bytes, the exact interpreter release and the record format. */
function cachePath(interp: Interpreter, bytes: Uint8Array, variants: boolean): string {
  const key = createHash('sha256').update(`${ORACLE_FORMAT}\0${interp.release}\0${variants}\0`).update(bytes).digest('hex').slice(0, 40)
  return join(CACHE, 'oracle', interp.version, `${key}${variants ? '.variants' : ''}.json.gz`)
}

/**
 * Oracle records for the given files, from the cache or from one oracle process per chunk
 * (`jobs` of them at a time). Returns the cache path of each file, in input order.
 */
async function oracleRecords(
  interp: Interpreter,
  files: readonly { input: PycInput; bytes: Uint8Array }[],
  opts: { variants: boolean; jobs: number; log: (line: string) => void },
): Promise<{ paths: string[]; computed: number }> {
  const paths = files.map((f) => cachePath(interp, f.bytes, opts.variants))
  const missing = files.map((f, i) => ({ pyc: f.input.path, out: paths[i]! })).filter((item) => !existsSync(item.out))
  const unique = [...new Map(missing.map((m) => [m.out, m])).values()]
  if (unique.length === 0) return { paths, computed: 0 }
  mkdirSync(join(CACHE, 'oracle', interp.version), { recursive: true })
  const tmp = join(CACHE, 'tmp')
  mkdirSync(tmp, { recursive: true })
  opts.log(`  ${interp.version}: running the oracle on ${unique.length} file(s)…`)
  if (!interp.python) {
    const py = await loadOracleInPyodide()
    const request = join(tmp, `oracle-${process.pid}-pyodide.json`)
    const items = unique.map((m) => ({ pyc: hostPath(m.pyc), out: hostPath(m.out) }))
    writeFileSync(request, JSON.stringify({ items, variants: opts.variants }))
    try {
      py.runPython(`fixtures_oracle.dis_batch(${pyString(hostPath(request))})`)
    } finally {
      rmSync(request, { force: true })
    }
    return { paths, computed: unique.length }
  }
  const jobs = Math.max(1, Math.min(opts.jobs, Math.ceil(unique.length / 50)))
  const chunks = Array.from({ length: jobs }, (_, j) => unique.filter((_, i) => i % jobs === j))
  await Promise.all(
    chunks.map(async (items, j) => {
      const request = join(tmp, `oracle-${process.pid}-${interp.version}-${j}.json`)
      writeFileSync(request, JSON.stringify({ items, variants: opts.variants }))
      try {
        await run(interp.python!, ['-B', '-s', ORACLE_SCRIPT, 'dis-batch', request])
      } finally {
        rmSync(request, { force: true })
      }
    }),
  )
  return { paths, computed: unique.length }
}

function readRecord(path: string): OracleRecord {
  return JSON.parse(gunzipSync(readFileSync(path)).toString('utf8')) as OracleRecord
}

// --- checking one file -----------------------------------------------------------------------------

/** The outcome of one check: passed, failed with a first difference, or pyxray threw. */
export type Outcome = { readonly ok: true } | { readonly ok: false; readonly kind: string; readonly excerpt: readonly string[] }

const OK: Outcome = { ok: true }

function threw(what: string, e: unknown): Outcome {
  const error = e instanceof Error ? e : new Error(String(e))
  const message = error.message.split('\n')[0]!.slice(0, 160)
  return { ok: false, kind: `${what} threw ${error.name}: ${message.replace(/\d+/g, 'N')}`, excerpt: [`${error.name}: ${message}`] }
}

/** Everything checked about one .pyc. */
export interface FileResult {
  readonly id: string
  /** formatDis equals dis.dis (normalized). */
  readonly dis: Outcome
  /** readMarshal → writeMarshal reproduces the bytes after the header. */
  readonly roundTrip: Outcome
  /** lineStarts (and lineRanges, 3.10+) equal dis.findlinestarts (and co_lines()). */
  readonly lines?: Outcome
  /** positions equal co_positions() (3.11+). */
  readonly positions?: Outcome
  /** With --variants: show_caches / show_offsets / show_positions texts. */
  readonly variants?: Readonly<Record<string, Outcome>>
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i])

/** Code objects in dis.dis's order: pre-order through co_consts. */
export function walkCodes(code: CodeObject): CodeObject[] {
  const out: CodeObject[] = []
  const visit = (c: CodeObject) => {
    out.push(c)
    c.children.forEach(visit)
  }
  visit(code)
  return out
}

const nullable = (v: number | undefined) => v ?? null

function compareList(what: string, name: string, expected: readonly unknown[], actual: readonly unknown[]): Outcome {
  const e = expected.map((x) => JSON.stringify(x))
  const a = actual.map((x) => JSON.stringify(x))
  let i = 0
  while (i < e.length && i < a.length && e[i] === a[i]) i++
  if (i === e.length && i === a.length) return OK
  return {
    ok: false,
    kind: `${what} differ`,
    excerpt: [`${name}: ${what}[${i}] (of ${e.length} / ${a.length})`, `- ${e.slice(i, i + 3).join(' ')}`, `+ ${a.slice(i, i + 3).join(' ')}`],
  }
}

/**
 * Compares pyxray's line tables with the oracle's, code object by code object: lineStarts with
 * dis.findlinestarts, lineRanges with co_lines() (3.10+), positions with co_positions() (3.11+).
 */
export function checkLineTables(code: CodeObject, expected: readonly OracleCode[]): { lines: Outcome; positions?: Outcome } {
  const minor = code.pythonVersion[1]
  const codes = walkCodes(code)
  if (codes.length !== expected.length) {
    const outcome: Outcome = {
      ok: false,
      kind: 'code object count differs',
      excerpt: [`${expected.length} code objects in CPython, ${codes.length} in pyxray`],
    }
    return { lines: outcome, ...(minor >= 11 ? { positions: outcome } : {}) }
  }
  let lines: Outcome = OK
  let pos: Outcome = OK
  codes.forEach((co, i) => {
    const rec = expected[i]!
    const args = [minor, co.linetable, co.firstlineno, co.code.length] as const
    const name = minor >= 11 ? co.qualname : co.name
    if (lines.ok) {
      try {
        if (name !== rec.name || co.firstlineno !== rec.firstlineno) {
          lines = compareList('name/firstlineno', rec.name, [[rec.name, rec.firstlineno]], [[name, co.firstlineno]])
        } else {
          lines = compareList('linestarts', name, rec.linestarts, lineStarts(...args).map(([o, l]) => [o, nullable(l)]))
          if (lines.ok && rec.lines) {
            lines = compareList('co_lines', name, rec.lines, lineRanges(...args).map((r) => [r.start, r.end, nullable(r.line)]))
          }
        }
      } catch (e) {
        lines = threw('lines', e)
      }
    }
    if (pos.ok && rec.positions) {
      try {
        const expanded = rec.positions.flatMap(([count, ...p]) => Array.from({ length: count }, () => p))
        const actual = positions(...args).map((p) => [nullable(p.line), nullable(p.endLine), nullable(p.col), nullable(p.endCol)])
        pos = compareList('co_positions', name, expanded, actual)
      } catch (e) {
        pos = threw('positions', e)
      }
    }
  })
  return { lines, ...(minor >= 11 ? { positions: pos } : {}) }
}

/** The dis.dis keyword argument behind each variant name of the oracle. */
const VARIANT_OPTIONS = {
  caches: { showCaches: true },
  offsets: { showOffsets: true },
  positions: { showPositions: true },
} as const

/** Checks one .pyc against the oracle's record of it. */
export function checkPyc(id: string, bytes: Uint8Array, record: OracleRecord): FileResult {
  let pyc: ReturnType<typeof readPyc>
  try {
    pyc = readPyc(bytes)
  } catch (e) {
    const outcome = threw('readPyc', e)
    return { id, dis: outcome, roundTrip: outcome }
  }
  let roundTrip: Outcome
  try {
    const written = writeMarshal(pyc.code, { pythonVersion: pyc.version })
    const original = bytes.subarray(pyc.header?.byteLength ?? 0)
    roundTrip = sameBytes(written, original)
      ? OK
      : { ok: false, kind: 'marshal bytes differ', excerpt: [firstByteDifference(original, written)] }
  } catch (e) {
    roundTrip = threw('writeMarshal', e)
  }
  let code: CodeObject
  try {
    code = toCodeObject(pyc.code, pyc.version[1])
  } catch (e) {
    const outcome = threw('toCodeObject', e)
    return { id, dis: outcome, roundTrip, lines: outcome }
  }
  const compareDis = (expected: string, options: Parameters<typeof formatDis>[1]): Outcome => {
    try {
      const diff = firstDifference(normalizeDis(expected), normalizeDis(formatDis(code, options)))
      return diff ? { ok: false, kind: diff.kind, excerpt: [`first difference at line ${diff.line + 1}:`, ...diff.excerpt] } : OK
    } catch (e) {
      return threw('formatDis', e)
    }
  }
  const dis = compareDis(record.dis ?? '', {})
  const tables = record.codes ? checkLineTables(code, record.codes) : undefined
  let variants: Record<string, Outcome> | undefined
  if (record.variants) {
    variants = {}
    for (const [name, text] of Object.entries(record.variants)) {
      const options = VARIANT_OPTIONS[name as keyof typeof VARIANT_OPTIONS]
      if (options) variants[name] = compareDis(text, options)
    }
  }
  return {
    id,
    dis,
    roundTrip,
    ...(tables ? { lines: tables.lines, ...(tables.positions ? { positions: tables.positions } : {}) } : {}),
    ...(variants ? { variants } : {}),
  }
}

function firstByteDifference(expected: Uint8Array, actual: Uint8Array): string {
  let i = 0
  while (i < expected.length && i < actual.length && expected[i] === actual[i]) i++
  const hex = (b: Uint8Array) => Array.from(b.subarray(i, i + 12), (x) => x.toString(16).padStart(2, '0')).join(' ')
  return `first differing byte at marshal offset ${i} (of ${expected.length} / ${actual.length}): expected ${hex(expected)} | got ${hex(actual)}`
}

// --- a whole run ----------------------------------------------------------------------------------

/** Options of {@link runDifferential}. */
export interface DiffOptions {
  /** Versions to check ("3.X"); default: every one available. */
  readonly versions?: readonly string[]
  /** A deterministic sample of N files per version (by hash of the file's id). */
  readonly sample?: number
  /** Only the first N files (by id) per version. */
  readonly limit?: number
  /** Also the .opt-1/.opt-2 pycs. */
  readonly opt?: boolean
  /** Also compare the show_caches / show_offsets / show_positions variants. */
  readonly variants?: boolean
  /** Third-party mode: compile this directory's .py files with `python` instead of using the stdlib. */
  readonly dir?: string
  /** With `dir`: the interpreter (path, "3.X" or "pyodide"). */
  readonly python?: string
  /** Oracle processes to run at once. */
  readonly jobs?: number
  /** Progress lines (default: none). */
  readonly log?: (line: string) => void
}

/** Per-version totals and the failing files. */
export interface VersionReport {
  readonly version: string
  /** What was checked: "stdlib" or the third-party directory. */
  readonly corpus: string
  readonly files: number
  readonly disOk: number
  readonly roundTripOk: number
  readonly linesChecked: number
  readonly linesOk: number
  readonly positionsChecked: number
  readonly positionsOk: number
  readonly variantsChecked: number
  readonly variantsOk: number
  /** Files CPython itself could not load (not counted in `files`). */
  readonly oracleErrors: readonly string[]
  /** Files that failed any check. */
  readonly failures: readonly FileResult[]
  /** Mismatch kind → number of files, most common first. */
  readonly kinds: readonly (readonly [string, number])[]
  readonly seconds: number
}

const hashOf = (s: string) => createHash('sha1').update(s).digest('hex')

/** Deterministic sample: the n inputs whose id hashes lowest. */
export function sampleInputs(inputs: readonly PycInput[], n: number): PycInput[] {
  return [...inputs]
    .map((input) => ({ input, key: hashOf(input.id) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .slice(0, n)
    .map((x) => x.input)
    .sort((a, b) => (a.id < b.id ? -1 : 1))
}

const failed = (o: Outcome | undefined) => o !== undefined && !o.ok

/** Checks one version's corpus. */
export async function diffVersion(interp: Interpreter, inputs: readonly PycInput[], corpus: string, opts: DiffOptions = {}): Promise<VersionReport> {
  const log = opts.log ?? (() => {})
  const started = performance.now()
  const files = inputs.map((input) => ({ input, bytes: new Uint8Array(readFileSync(input.path)) }))
  const { paths, computed } = await oracleRecords(interp, files, {
    variants: opts.variants ?? false,
    jobs: opts.jobs ?? Math.min(4, availableParallelism()),
    log,
  })
  if (computed) log(`  ${interp.version}: oracle done in ${((performance.now() - started) / 1000).toFixed(1)} s`)
  const failures: FileResult[] = []
  const oracleErrors: string[] = []
  const kinds = new Map<string, number>()
  const counts = { files: 0, disOk: 0, roundTripOk: 0, linesChecked: 0, linesOk: 0, positionsChecked: 0, positionsOk: 0, variantsChecked: 0, variantsOk: 0 }
  files.forEach(({ input, bytes }, i) => {
    const record = readRecord(paths[i]!)
    if (record.error !== undefined) {
      oracleErrors.push(`${input.id}: ${record.error}`)
      return
    }
    const result = checkPyc(input.id, bytes, record)
    counts.files++
    if (result.dis.ok) counts.disOk++
    if (result.roundTrip.ok) counts.roundTripOk++
    if (result.lines) {
      counts.linesChecked++
      if (result.lines.ok) counts.linesOk++
    }
    if (result.positions) {
      counts.positionsChecked++
      if (result.positions.ok) counts.positionsOk++
    }
    const variantOutcomes = Object.values(result.variants ?? {})
    if (variantOutcomes.length) {
      counts.variantsChecked++
      if (variantOutcomes.every((o) => o.ok)) counts.variantsOk++
    }
    const all = [result.dis, result.roundTrip, result.lines, result.positions, ...variantOutcomes]
    if (all.some(failed)) {
      failures.push(result)
      for (const kind of new Set(all.flatMap((o) => (o && !o.ok ? [o.kind] : [])))) kinds.set(kind, (kinds.get(kind) ?? 0) + 1)
    }
  })
  return {
    version: interp.version,
    corpus,
    ...counts,
    oracleErrors,
    failures,
    kinds: [...kinds].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)),
    seconds: (performance.now() - started) / 1000,
  }
}

/** Runs the differential over every requested version (stdlib, or `dir` compiled by `python`). */
export async function runDifferential(opts: DiffOptions = {}): Promise<VersionReport[]> {
  const log = opts.log ?? (() => {})
  const pick = (inputs: PycInput[]) => {
    let chosen = opts.sample !== undefined ? sampleInputs(inputs, opts.sample) : inputs
    if (opts.limit !== undefined) chosen = chosen.slice(0, opts.limit)
    return chosen
  }
  if (opts.dir !== undefined) {
    if (opts.python === undefined) throw new Error('--dir needs --python PATH|3.X|pyodide')
    const interp = interpreterFor(opts.python)
    const dir = resolve(opts.dir)
    const reports: VersionReport[] = []
    for (const level of opts.opt ? [0, 1, 2] : [0]) {
      const out = join(CACHE, 'tmp', `compiled-${process.pid}-${Date.now()}-O${level}`)
      try {
        const t = performance.now()
        const summary = await compileDir(interp, dir, out, level)
        log(`  ${interp.version}: compiled ${summary.compiled} file(s) from ${dir} (${summary.failed} not valid ${interp.version} source) in ${((performance.now() - t) / 1000).toFixed(1)} s`)
        const inputs = [...walk(out, () => false)].filter((p) => p.endsWith('.pyc')).map((p) => ({ id: toId(out, p), path: p }))
        reports.push(await diffVersion(interp, pick(inputs), `${dir}${level ? ` -O${level}` : ''}`, opts))
      } finally {
        rmSync(out, { recursive: true, force: true })
      }
    }
    return reports
  }
  const available = findInterpreters()
  const wanted = opts.versions ?? available.map((i) => i.version)
  const reports: VersionReport[] = []
  for (const version of wanted) {
    const interp = available.find((i) => i.version === version)
    if (!interp) throw new Error(`no CPython ${version} on this machine (found ${available.map((i) => i.version).join(', ')})`)
    const inputs = await listStdlib(interp, opts.opt)
    const chosen = pick(inputs)
    log(`  ${version}: ${chosen.length} of ${inputs.length} stdlib .pyc files`)
    reports.push(await diffVersion(interp, chosen, opts.opt ? 'stdlib (+opt)' : 'stdlib', opts))
  }
  return reports
}

// --- command line ---------------------------------------------------------------------------------

const USAGE = `usage: npm run test:stdlib -- [options]
  --versions 3.12,3.13   versions to check (default: every supported version found natively)
  --sample N             a deterministic sample of N files per version
  --limit N              at most N files per version (the first by path)
  --opt                  also the .opt-1 / .opt-2 pycs
  --variants             also compare dis with show_caches / show_offsets / show_positions
  --verbose[=K]          show the first differing lines of the first K failures (default 5)
  --json FILE            write the full report as JSON
  --jobs N               oracle processes at once (default: up to 4)
  --dir PATH --python P  check third-party code: compile PATH's .py files with P (a path, 3.X or pyodide)`

interface CliOptions extends DiffOptions {
  verbose: number
  json?: string
}

function parseCli(argv: readonly string[]): CliOptions {
  const opts: { -readonly [K in keyof CliOptions]: CliOptions[K] } = { verbose: 0 }
  const value = (i: number, flag: string) => {
    const v = argv[i + 1]
    if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`)
    return v
  }
  const count = (v: string, flag: string) => {
    if (!/^\d+$/.test(v)) throw new UsageError(`${flag} needs a whole number, got "${v}"`)
    return Number(v)
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined]
    const take = () => inline ?? value(i++, flag)
    switch (flag) {
      case '--versions': {
        const versions = take().split(',').map((v) => v.trim())
        const bad = versions.filter((v) => !(ALL_VERSIONS as readonly string[]).includes(v))
        if (bad.length) throw new UsageError(`unsupported version(s) ${bad.join(', ')}; choose from ${ALL_VERSIONS.join(', ')}`)
        opts.versions = versions
        break
      }
      case '--sample':
        opts.sample = count(take(), flag)
        break
      case '--limit':
        opts.limit = count(take(), flag)
        break
      case '--jobs':
        opts.jobs = Math.max(1, count(take(), flag))
        break
      case '--opt':
        opts.opt = true
        break
      case '--variants':
        opts.variants = true
        break
      case '--verbose':
        opts.verbose = inline !== undefined ? count(inline, flag) : 5
        break
      case '--json':
        opts.json = take()
        break
      case '--dir':
        opts.dir = take()
        break
      case '--python':
        opts.python = take()
        break
      case '--help':
      case '-h':
        console.log(USAGE)
        process.exit(0)
        break
      default:
        throw new UsageError(`unknown option ${arg}`)
    }
  }
  if ((opts.dir === undefined) !== (opts.python === undefined)) throw new UsageError('--dir and --python go together')
  if (opts.dir !== undefined && opts.versions) throw new UsageError('--versions does not apply to --dir (the version is that of --python)')
  return opts
}

class UsageError extends Error {}

const pct = (ok: number, n: number) => (n === 0 ? 'n/a' : `${((100 * ok) / n).toFixed(2)}%`)

/** The per-version table the command prints. */
export function formatReports(reports: readonly VersionReport[]): string {
  const withVariants = reports.some((r) => r.variantsChecked > 0)
  const header = ['version', 'files', 'dis', 'round-trip', 'lines', 'positions', ...(withVariants ? ['variants'] : []), 'time', 'corpus']
  const rows = reports.map((r) => [
    r.version,
    String(r.files),
    pct(r.disOk, r.files),
    pct(r.roundTripOk, r.files),
    pct(r.linesOk, r.linesChecked),
    pct(r.positionsOk, r.positionsChecked),
    ...(withVariants ? [pct(r.variantsOk, r.variantsChecked)] : []),
    `${r.seconds.toFixed(1)} s`,
    r.corpus,
  ])
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)))
  const line = (cells: string[]) => cells.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  ').trimEnd()
  return [line(header), ...rows.map(line)].join('\n')
}

async function main(): Promise<number> {
  let opts: CliOptions
  try {
    opts = parseCli(process.argv.slice(2))
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`stdlib-diff: ${e.message}\n${USAGE}`)
      return 2
    }
    throw e
  }
  const reports: VersionReport[] = []
  const log = (line: string) => console.error(line)
  const versions = opts.versions ?? findInterpreters().map((i) => i.version)
  if (!opts.dir) {
    const missing = ALL_VERSIONS.filter((v) => !findInterpreters().some((i) => i.version === v))
    if (missing.length && !opts.versions) log(`not on this machine (skipped): ${missing.join(', ')}`)
  }
  for (const version of opts.dir ? [undefined] : versions) {
    const partial = await runDifferential({ ...opts, ...(version ? { versions: [version] } : {}), log })
    for (const r of partial) {
      reports.push(r)
      console.log(`${r.version} ${r.corpus}: ${r.files} files, dis ${pct(r.disOk, r.files)}, round trip ${pct(r.roundTripOk, r.files)}, lines ${pct(r.linesOk, r.linesChecked)}, positions ${pct(r.positionsOk, r.positionsChecked)}, ${r.seconds.toFixed(1)} s`)
      for (const [kind, n] of r.kinds.slice(0, 8)) console.log(`    ${String(n).padStart(5)} × ${kind}`)
      if (r.oracleErrors.length) console.log(`    (${r.oracleErrors.length} file(s) CPython itself cannot load: ${r.oracleErrors.slice(0, 3).join('; ')})`)
      for (const f of r.failures.slice(0, opts.verbose)) {
        console.log(`\n  ✗ ${r.version} ${f.id}`)
        const parts: [string, Outcome | undefined][] = [
          ['dis', f.dis],
          ['round trip', f.roundTrip],
          ['lines', f.lines],
          ['positions', f.positions],
          ...Object.entries(f.variants ?? {}).map(([k, o]): [string, Outcome] => [`dis ${k}`, o]),
        ]
        for (const [what, o] of parts) {
          if (!o || o.ok) continue
          console.log(`    ${what}: ${o.kind}`)
          for (const l of o.excerpt) console.log(`      ${l}`)
        }
      }
      if (opts.verbose && r.failures.length) console.log('')
    }
  }
  console.log(`\n${formatReports(reports)}`)
  if (opts.json) {
    writeFileSync(opts.json, `${JSON.stringify(reports, null, 2)}\n`)
    console.log(`report written to ${opts.json}`)
  }
  const allGood = reports.every((r) => r.failures.length === 0)
  return allGood ? 0 : 1
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      // Setup problems (no such interpreter, a failing oracle) read best as one message.
      console.error(`stdlib-diff: ${e instanceof Error ? (process.env.DEBUG ? e.stack : e.message) : String(e)}`)
      process.exit(2)
    },
  )
}
