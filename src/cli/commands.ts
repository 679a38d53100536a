/** `pyxray ast`, `pyxray runtimes` and `pyxray python-path`. */
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
import { escapeControls } from '../text/escape.js'
import { defineCommand, formatOption, formatValue, HELP_OPTION, OUTPUT_HELP, OUTPUT_OPTIONS, outputValue, parseOptions, withOutput } from './command.js'
import type { Console } from './io.js'
import { ExitCode, UsageError } from './errors.js'
import { formatSyntaxError, oneTarget, readSource, SOURCE_HELP, SOURCE_OPTIONS, type SourceOptions, sourceValues, type Target } from './source.js'

/** Options of `pyxray ast`. */
export interface AstOptions extends SourceOptions {
  readonly format: 'text' | 'json'
  readonly verbose: boolean
}

/** Runs `pyxray ast`. */
export async function runAst(target: Target, o: AstOptions, con: Console): Promise<number> {
  if (target.selector && 'line' in target.selector) {
    throw new UsageError('USAGE', "ast selects definitions by name ('FILE.py:Qualname'), not by line")
  }
  if (target.path?.endsWith('.pyc')) throw new UsageError('USAGE', 'ast needs Python source, not a .pyc')
  const source = target.inline ?? readSource(target.path!)
  const filename = target.path ?? target.filename ?? '<string>'
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
  // Paths, versions and errors come from the environment and the interpreters: controls escaped.
  const cells = rows.map((r) => r.map(escapeControls))
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)))
  for (const r of cells) con.out(`${r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`)
  con.out('* = default runtime for .py source (override with --python or --runtime)\n')
  if ('cached' in pyodide && pyodide.cached) con.out(`Pyodide as it reported on ${pyodide.checkedAt} (cached in ${runtimeCachePath()}; --check asks it again)\n`)
  return ExitCode.Ok
}

const AST_OPTIONS = { ...SOURCE_OPTIONS, ...formatOption('text'), ...OUTPUT_OPTIONS, ...HELP_OPTION } as const

/** `pyxray ast`. */
export const astCommand = defineCommand({
  name: 'ast',
  synopsis: 'TARGET',
  summary: 'the syntax tree of Python source',
  help: `Usage: pyxray ast TARGET [options]

The syntax tree of Python source as the chosen runtime parses it: node types, fields and
line:col-endline:endcol (1-based lines, 0-based UTF-8 byte columns). TARGET may name a definition
('FILE.py:Qualname') to show only its subtree; - reads the source from standard input.

Options:
  -f, --format FMT          text (default: an indented tree) or json (every field and position)
  -c, --command SOURCE      parse this source instead of a file
${OUTPUT_HELP}
${SOURCE_HELP}
  -h, --help                show this help (also: pyxray help ast)
`,
  options: AST_OPTIONS,
  parse(args, ctx) {
    const { values, positionals } = parseOptions(args, AST_OPTIONS)
    const format = formatValue('ast', values.format, ['text', 'json'] as const)
    const target = oneTarget('ast', values.command, positionals)
    return { target, output: outputValue(values, ctx), options: { ...sourceValues(values), format } }
  },
  run(o, ctx) {
    return withOutput(ctx, o.output, o.target.path !== undefined ? [o.target.path] : [], (con) => runAst(o.target, o.options, con))
  },
})

const RUNTIMES_OPTIONS = { ...formatOption('text'), check: { type: 'boolean', default: false }, ...HELP_OPTION } as const

/** `pyxray runtimes`. */
export const runtimesCommand = defineCommand({
  name: 'runtimes',
  synopsis: '',
  summary: 'the Python runtimes pyxray can use',
  help: `Usage: pyxray runtimes [--format text|json] [--check]

Lists the Python runtimes pyxray found: native CPython interpreters ($PYXRAY_PYTHON, python3 and
python3.X on PATH, pyenv) and the embedded Pyodide, with version, path and magic number.

What Pyodide reports is kept in pyxray's cache folder (runtimes.json in $PYXRAY_CACHE_DIR, else
$XDG_CACHE_HOME/pyxray or ~/.cache/pyxray) and read from there while the Pyodide package is the
same one; native interpreters are run to ask them, except executables (not shims or wrapper
scripts) already asked and unchanged since.

Options:
  -f, --format FMT          text (default) or json
      --check               boot Pyodide and ask again (takes seconds), refreshing the cache
  -h, --help                show this help (also: pyxray help runtimes)
`,
  options: RUNTIMES_OPTIONS,
  parse(args) {
    const { values, positionals } = parseOptions(args, RUNTIMES_OPTIONS)
    if (positionals.length) throw new UsageError('USAGE', `runtimes takes no arguments (got ${positionals.join(' ')})`)
    return { format: formatValue('runtimes', values.format, ['text', 'json'] as const), check: values.check }
  },
  run: (o, ctx) => runRuntimes(o, ctx.con),
})

/** `pyxray python-path`. */
export const pythonPathCommand = defineCommand({
  name: 'python-path',
  synopsis: '',
  summary: 'the folder of the pyxray Python agent (for PYTHONPATH or pip install)',
  help: `Usage: pyxray python-path

Prints the folder holding the pyxray Python agent: add it to PYTHONPATH, or pip install it.

Options:
  -h, --help                show this help (also: pyxray help python-path)
`,
  options: HELP_OPTION,
  parse(args) {
    const { positionals } = parseOptions(args, HELP_OPTION)
    if (positionals.length) throw new UsageError('USAGE', `python-path takes no arguments (got ${positionals.join(' ')})`)
  },
  run(_o, ctx) {
    ctx.con.out(`${agentDir()}\n`)
    return ExitCode.Ok
  },
})
