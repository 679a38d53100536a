/** `pyxray ast` and `pyxray runtimes`. */
import { formatAstTree, findDefinition } from '../runtime/ast.js'
import {
  agentDir,
  cachedPyodideReport,
  defaultInterpreter,
  findInterpretersAsync,
  isSupported,
  PYODIDE_MINOR,
  PyodideRuntime,
  type PyodideReport,
  RuntimeError,
  runtimeCachePath,
  selectRuntime,
  storePyodideReport,
} from '../runtime/index.js'
import type { Console } from './dis.js'
import { ExitCode, UsageError } from './errors.js'
import { formatSyntaxError, readSource, type SourceOptions, type Target } from './source.js'

/** Options of `pyxray ast`. */
export interface AstOptions extends SourceOptions {
  readonly format: 'text' | 'json'
  readonly verbose: boolean
}

/** Runs `pyxray ast`. */
export async function runAst(target: Target, o: AstOptions, con: Console): Promise<number> {
  if (target.selector && 'line' in target.selector) {
    throw new UsageError('USAGE', 'ast selects definitions by name (FILE.py:Qualname), not by line')
  }
  if (target.path?.endsWith('.pyc')) throw new UsageError('USAGE', 'ast needs Python source, not a .pyc')
  const source = target.inline ?? readSource(target.path!)
  const filename = target.path ?? '<string>'
  const sel = await selectRuntime(o)
  try {
    const info = await sel.runtime.info()
    if (o.verbose) con.err(`pyxray: runtime ${info.kind} CPython ${info.version} (${info.executable}): ${sel.reason}\n`)
    let tree = await sel.runtime.parse(source, { filename })
    if (target.selector && 'qualname' in target.selector) {
      const def = findDefinition(tree, target.selector.qualname)
      if (!def) throw new UsageError('NOT_FOUND', `${filename}: no def or class named ${target.selector.qualname}`)
      tree = def
    }
    if (o.format === 'json') {
      con.out(`${JSON.stringify({ pyxray: 'ast', version: 1, file: target.path ?? null, pythonVersion: `3.${info.minor}`, runtime: { ...info, reason: sel.reason }, ast: tree }, null, 2)}\n`)
    } else {
      con.out(formatAstTree(tree))
    }
    return ExitCode.Ok
  } catch (e) {
    if (e instanceof RuntimeError && e.code === 'SYNTAX_ERROR') {
      con.err(`${formatSyntaxError(e, filename)}\n`)
      return ExitCode.Usage
    }
    throw e
  } finally {
    await sel.runtime.close()
  }
}

/** Options of `pyxray runtimes`. */
export interface RuntimesOptions {
  readonly format: 'text' | 'json'
  /** Boot Pyodide to ask its version again, instead of using what the cache holds. */
  readonly check: boolean
}

/** What Pyodide reports: from the cache unless asked to check or nothing is cached (see runtime/cache.ts). */
async function pyodideReport(check: boolean): Promise<(PyodideReport & { readonly cached: boolean }) | { readonly error: string }> {
  const cached = check ? undefined : cachedPyodideReport()
  if (cached) return { ...cached, cached: true }
  const runtime = new PyodideRuntime(agentDir())
  try {
    const info = await runtime.info()
    return { ...storePyodideReport(info), cached: false }
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) }
  } finally {
    await runtime.close()
  }
}

/** Runs `pyxray runtimes`. */
export async function runRuntimes(o: RuntimesOptions, con: Console): Promise<number> {
  const { format } = o
  const [natives, pyodide] = await Promise.all([findInterpretersAsync(), pyodideReport(o.check)])
  const chosen = defaultInterpreter(natives)?.path ?? 'pyodide'
  if (format === 'json') {
    con.out(`${JSON.stringify({ pyxray: 'runtimes', version: 1, default: chosen, native: natives, pyodide }, null, 2)}\n`)
    return ExitCode.Ok
  }
  const rows = [
    ['', 'kind', 'version', 'magic', 'found by', 'path'],
    ...natives.map((n) => [
      n.path === chosen ? '*' : '',
      'native',
      `${n.implementation} ${n.version}${isSupported(n) ? '' : ' (unsupported)'}`,
      String(n.magic),
      n.source,
      n.path,
    ]),
    'error' in pyodide
      ? ['', 'pyodide', `unavailable: ${pyodide.error}`, '', 'npm', '']
      : [chosen === 'pyodide' ? '*' : '', 'pyodide', `CPython ${pyodide.version}`, String(pyodide.magic), 'npm', `embedded (3.${PYODIDE_MINOR}, WebAssembly)`],
  ]
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  for (const r of rows) con.out(`${r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`)
  con.out('* = default runtime for .py source (override with --python or --runtime)\n')
  if ('cached' in pyodide && pyodide.cached) con.out(`Pyodide as it reported on ${pyodide.checkedAt} (cached in ${runtimeCachePath()}; --check asks it again)\n`)
  return ExitCode.Ok
}
