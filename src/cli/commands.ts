/** `pyxray ast` and `pyxray runtimes`. */
import { formatAstTree, findDefinition } from '../runtime/ast.js'
import { findInterpreters, isSupported, NativeRuntime, PYODIDE_MINOR, RuntimeError, selectRuntime } from '../runtime/index.js'
import { escapeControls } from '../text/escape.js'
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

/** Runs `pyxray runtimes`. */
export async function runRuntimes(format: 'text' | 'json', con: Console): Promise<number> {
  const natives = findInterpreters()
  let pyodide: { version: string; magic: number } | { error: string }
  const sel = await selectRuntime({ runtime: 'pyodide' })
  try {
    const info = await sel.runtime.info()
    pyodide = { version: info.version, magic: info.magic }
  } catch (e) {
    pyodide = { error: e instanceof Error ? e.message : String(e) }
  } finally {
    await sel.runtime.close()
  }
  let chosen: string
  try {
    const d = await selectRuntime({})
    chosen = d.runtime instanceof NativeRuntime ? d.runtime.executable : 'pyodide'
    await d.runtime.close()
  } catch {
    chosen = 'pyodide'
  }
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
  // Paths, versions and errors come from the environment and the interpreters: controls escaped.
  const cells = rows.map((r) => r.map(escapeControls))
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)))
  for (const r of cells) con.out(`${r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`)
  con.out('* = default runtime for .py source (override with --python or --runtime)\n')
  return ExitCode.Ok
}
