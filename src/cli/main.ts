/**
 * The `pyxray` command line. Commands parse their options into the library's types and call it;
 * this is the only module that prints to the console or exits.
 */
import { readFileSync, realpathSync, statSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { explainOpcode } from '../bytecode/explain.js'
import { agentDir, RuntimeError } from '../runtime/index.js'
import { runAst, runRuntimes } from './commands.js'
import { runCode } from './code.js'
import { compareCommand } from './compare.js'
import { runProfile } from './profile.js'
import { runMem } from './mem.js'
import { diffCommand } from './diff.js'
import { ProfileDocumentError } from '../profile/document.js'
import { reportCommand } from './report.js'
import { exportOptions, runExport } from './export.js'
import { parsePort, runServe } from './serve.js'
import { runStack } from './stack.js'
import type { AdaptiveOptions } from './adaptive.js'
import { type Console, DIS_FORMATS, type DisFormat, describeError, runDis, runDisTarget } from './dis.js'
import { ExitCode, UsageError } from './errors.js'
import { styleFor } from './io.js'
import { isSource, parseTarget, type SourceOptions, type Target } from './source.js'
import { SUPPORTED_RANGE } from '../versions/index.js'
import { escapeMessage } from '../text/escape.js'

const VERSION = (() => {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version
  } catch {
    return 'unknown'
  }
})()

const MAIN_HELP = `pyxray ${VERSION} — see inside Python programs

Usage: pyxray <command> [options]

Commands:
  dis TARGET…         disassemble: .py source (compiled by a Python runtime) or .pyc files/folders
                      (read by pyxray's own engine, CPython ${SUPPORTED_RANGE}, no Python needed)
  ast TARGET          the syntax tree of Python source
  stack TARGET        the value stack at every instruction, max depth vs co_stacksize
  code TARGET         everything a code object holds, explained
  compare A B         two implementations (or one across --versions) side by side: aligned
                      bytecode, executed instructions, timings, specializations
  profile SCRIPT…     profile a script: call tree with counts, times and memory (python -m pyxray)
  mem COMMAND …       memory: leaks (growth per iteration), size (deep), path (why alive), lines,
                      growth (objects per type)
  report PROFILE      a profile as a table, call tree or callers/callees (text, markdown, json, html)
  diff BASE HEAD      compare two profiles call path by call path; --fail-on regression for CI
  export PROFILE      a profile for other tools: speedscope, pstats, collapsed stacks, Chrome trace
  serve [PROFILE…]    the web UI (bytecode explorer, profile viewer) on a loopback server
  runtimes            the Python runtimes pyxray can use
  python-path         the folder of the pyxray Python agent (for PYTHONPATH or pip install)

Targets: FILE.py, FILE.py:Qualname (User.save, outer.<locals>.inner), FILE.py:LINE (innermost code
object covering the line), -c 'SOURCE', FILE.pyc[:Qualname|:LINE], or a folder of .pyc files (dis).

Options:
  -h, --help          show help (also: pyxray <command> --help)
  -V, --version       print the version

Exit codes: 0 ok, 1 a gate failed, 2 usage or input error.
`

const RUNTIME_HELP = `Runtime options (for .py source):
      --python X.Y|PATH     compile with this CPython (python3.X on PATH or pyenv); 3.14 falls
                            back to the embedded Pyodide when there is no native 3.14
      --runtime KIND        native or pyodide (default: native python3 3.8+ if found, else pyodide)
  -O, --optimize N          0, 1 or 2, as python -O/-OO (default: the interpreter's)
  -v, --verbose             say which runtime was chosen and why
      --max-output-mb N     dis, stack, code, compare: the output budget in MiB (default 16 MiB + 64× the
                            input's size); a larger output is refused with LIMIT_OUTPUT, exit 2`

const DIS_HELP = `Usage: pyxray dis TARGET… [options]

Disassembles Python source (compiled by the chosen runtime) or .pyc files of CPython ${SUPPORTED_RANGE} with
pyxray's own engine. Folders are searched recursively for *.pyc; one bad file does not stop the
rest (exit code 2 if any failed).

Options:
  -f, --format FMT          text (default: for people, source lines above their instructions),
                            dis (exactly what CPython's dis.dis prints for that version),
                            json (every code-object field, instructions, positions)
  -c, --command SOURCE      disassemble this source instead of a file
      --show-caches         show inline CACHE entries (3.11+)
      --show-offsets        show byte offsets (3.13+ dis format; always shown before 3.13)
      --show-positions      show full source positions instead of lines (3.14+ dis format)
      --explain             text format: add a one-line explanation of every opcode that appears
      --adaptive            3.11+: run --call (after --setup) --warmup times (default 50), then show
                            the code as CPython specialized it (dis's adaptive=True), e.g.
                            LOAD_ATTR → LOAD_ATTR_INSTANCE_VALUE; needs --call
      --call EXPR / --setup CODE / --warmup N   what --adaptive runs
      --python-version X.Y  .pyc inputs are raw marshal data (no header) from Python X.Y
  -o, --out DIR             .pyc inputs: one output file per input under DIR (written atomically)
      --color / --no-color  force colors on or off (default: on for a terminal, off for NO_COLOR)
${RUNTIME_HELP}
  -h, --help                show this help

Examples:
  pyxray dis examples/hello.py
  pyxray dis examples/hello.py:counter.<locals>.bump --format dis --python 3.12
  pyxray dis -c 'x = [i * i for i in range(10)]' --python 3.14
  pyxray dis __pycache__/models.cpython-313.pyc --format dis --show-caches
  pyxray dis /usr/lib/python3.11 --format json --out /tmp/dis-json
`

const AST_HELP = `Usage: pyxray ast TARGET [options]

The syntax tree of Python source as the chosen runtime parses it: node types, fields and
line:col-endline:endcol (1-based lines, 0-based UTF-8 byte columns). TARGET may name a definition
(FILE.py:Qualname) to show only its subtree.

Options:
  -f, --format FMT          text (default: an indented tree) or json (every field and position)
  -c, --command SOURCE      parse this source instead of a file
${RUNTIME_HELP}
  -h, --help                show this help
`

const CODE_HELP = `Usage: pyxray code TARGET [options]

Everything a code object holds, explained: every co_* attribute, flags by name, locals and their
kinds, the closure map (which cell feeds which free variable), the constants tree, line-table entries
and positions, the exception table, and the .pyc header for .pyc input.

Options:
  -f, --format FMT          text (default) or json
  -c, --command SOURCE      inspect this source instead of a file
${RUNTIME_HELP}
  -h, --help                show this help
`

const STACK_HELP = `Usage: pyxray stack TARGET [options]

The value stack at every instruction, simulated symbolically: each slot shows the expression that
produced it (x + 1, obj.attr, f(x, y=2), NULL, <exception>…), top on the right, with the depth and
a summary line "max depth N (co_stacksize N)" per code object. TARGET as for dis (.py or .pyc).

Options:
  -f, --format FMT          text (default) or json (per instruction: offset, depthBefore,
                            depthAfter, stackAfter [{expr, pushedBy}])
      --explain             add a one-line explanation of every opcode that appears
  -c, --command SOURCE      simulate this source instead of a file
      --color / --no-color  force colors on or off
${RUNTIME_HELP}
  -h, --help                show this help
`

const PROFILE_HELP = `Usage: pyxray profile [options] script.py [args…] | -m module [args…] | -c code

Runs the script under pyxray's deterministic profiler in a native CPython 3.8+ (or, with --runtime
pyodide, in the embedded CPython 3.14 for pure-Python scripts) and writes a profile document
(JSON, with its schema in schema/profile.schema.json). The exit code is the script's.

Options (before the script):
      --python X.Y|PATH     the interpreter to run in (default: $PYXRAY_PYTHON, else python3)
      --runtime native|pyodide   pyodide: the embedded CPython 3.14 (one thread: trace mode only);
                            it sees the current folder, the script's and its arguments' folders
      --mode trace|sample   every call (default) or sampled stacks
      --memory              memory per call (tracemalloc)
      --clock wall|cpu      time source (default wall)
  -o FILE                   where to write the profile (default pyxray-profile.json)
      --repeat N            run the script N times and store every run in one document, so that
                            pyxray diff can test changes for significance
      --include GLOB / --exclude GLOB   code to show or hide, by path or module
      --interval DURATION   sample mode: time between samples (default 1ms; 500us, 0.002s)
      --libraries first|all|none   library code: the first call into it (default), all, or none
      --no-builtins         no nodes for builtins (less overhead on 3.12+)
      --overhead auto|fresh|off|NS   per-call overhead to subtract (default: calibrated, cached)
      --top N               rows of the table at the end (default 15)
      --subprocesses merge|files   child processes (os.fork, multiprocessing with fork, spawn or
                            forkserver, subprocess/os.exec*/os.spawn* of a Python program) are
                            profiled with the same options: merge (default) adds each to the same
                            profile ("processes": pid, parent, argv, exit status, its threads);
                            files writes each to FILE.<pid>.json beside -o FILE instead
      --no-subprocesses     profile only the script's own process
  -q, --quiet               no table at the end
  -v, --verbose             say which interpreter runs the script
  -h, --help                show this help
`

const EXPORT_HELP = `Usage: pyxray export PROFILE.json --to FORMAT [-o FILE] [options]

Writes a profile document (pyxray profile -o) in another tool's format:
  speedscope   speedscope's JSON (https://www.speedscope.app): one profile per thread, the call tree
               laid out left-heavy, in nanoseconds
  pstats       the binary file Python's pstats reads: pstats.Stats(FILE), snakeviz, gprof2dot;
               cProfile's keys and ncalls, times in seconds (needs -o)
  collapsed    folded stacks "a;b;c 123" (self time per call path, integer µs by default) for
               flamegraph.pl, inferno, speedscope
  chrome       Trace Event Format JSON (chrome://tracing, Perfetto): complete events laid out
               left-heavy, ts/dur in µs

Options:
      --to FORMAT           speedscope, pstats, collapsed or chrome
  -o, --out FILE            write FILE (atomically) instead of stdout
      --thread NAME|ID|#N   only this thread (default: all; collapsed then starts stacks with
                            [thread name] when there are several)
      --unit us|ns|ms       collapsed: the unit of the values (default us)
  -h, --help                show this help

Examples:
  pyxray export run.json --to speedscope -o run.speedscope.json
  pyxray export run.json --to pstats -o run.pstats && python3 -m pstats run.pstats
  pyxray export run.json --to collapsed | flamegraph.pl > run.svg
`

const RUNTIMES_HELP = `Usage: pyxray runtimes [--format text|json]

Lists the Python runtimes pyxray found: native CPython interpreters ($PYXRAY_PYTHON, python3 and
python3.X on PATH, pyenv) and the embedded Pyodide, with version, path and magic number.
`

type Options = NonNullable<ParseArgsConfig['options']>

function parse(args: string[], options: Options) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true })
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e)
    throw new UsageError('USAGE', msg.replace(/\. To specify a positional argument.*$/s, ''))
  }
}

const RUNTIME_OPTIONS: Options = {
  python: { type: 'string' },
  runtime: { type: 'string' },
  optimize: { type: 'string', short: 'O' },
  verbose: { type: 'boolean', short: 'v', default: false },
  command: { type: 'string', short: 'c' },
  help: { type: 'boolean', short: 'h', default: false },
  'max-output-mb': { type: 'string' },
}

type Values = ReturnType<typeof parse>['values']

/** --max-output-mb N: the output budget in MiB (marshal/limits.ts), replacing the size-derived one. */
function maxOutputOf(values: Values): number | undefined {
  const text = values['max-output-mb'] as string | undefined
  if (text === undefined) return undefined
  const mb = Number(text)
  if (!/^\d+(\.\d+)?$/.test(text) || !(mb > 0)) throw new UsageError('USAGE', `--max-output-mb takes a positive number of MiB, not "${text}"`)
  return Math.round(mb * 2 ** 20)
}

function sourceOptions(values: Values): SourceOptions {
  const runtime = values.runtime as string | undefined
  if (runtime !== undefined && runtime !== 'native' && runtime !== 'pyodide') {
    throw new UsageError('USAGE', `unknown runtime "${runtime}": use native or pyodide`)
  }
  const optimize = values.optimize as string | undefined
  if (optimize !== undefined && !/^[012]$/.test(optimize)) {
    throw new UsageError('USAGE', `--optimize takes 0, 1 or 2, not "${optimize}"`)
  }
  const maxOutputBytes = maxOutputOf(values)
  return {
    ...(maxOutputBytes !== undefined ? { maxOutputBytes } : {}),
    ...(runtime ? { runtime } : {}),
    ...(values.python !== undefined ? { python: values.python as string } : {}),
    ...(optimize !== undefined ? { optimize: Number(optimize) as 0 | 1 | 2 } : {}),
  }
}

function oneTarget(command: string, values: Values, positionals: string[]): Target {
  if (values.command !== undefined) {
    if (positionals.length) throw new UsageError('USAGE', `${command}: give either -c SOURCE or a file, not both`)
    return { inline: values.command as string }
  }
  if (positionals.length !== 1) throw new UsageError('USAGE', `${command} needs one file (or -c SOURCE); see pyxray ${command} --help`)
  return parseTarget(positionals[0]!)
}

function formatOf(values: Values, allowed: readonly string[], command: string): string {
  const format = values.format as string
  if (!allowed.includes(format)) throw new UsageError('USAGE', `unknown format "${format}" for ${command}: use one of ${allowed.join(', ')}`)
  return format
}

async function disCommand(args: string[], con: Console): Promise<number> {
  const { values, positionals } = parse(args, {
    ...RUNTIME_OPTIONS,
    format: { type: 'string', short: 'f', default: 'text' },
    'show-caches': { type: 'boolean', default: false },
    'show-offsets': { type: 'boolean', default: false },
    'show-positions': { type: 'boolean', default: false },
    'python-version': { type: 'string' },
    explain: { type: 'boolean', default: false },
    adaptive: { type: 'boolean', default: false },
    call: { type: 'string' },
    setup: { type: 'string' },
    warmup: { type: 'string' },
    out: { type: 'string', short: 'o' },
    color: { type: 'boolean' },
    'no-color': { type: 'boolean' },
  })
  if (values.help) {
    con.out(DIS_HELP)
    return ExitCode.Ok
  }
  const format = formatOf(values, DIS_FORMATS, 'dis') as DisFormat
  if (positionals.length === 0 && values.command === undefined) {
    throw new UsageError('USAGE', 'dis needs a .py or .pyc file, a folder, or -c SOURCE (see pyxray dis --help)')
  }
  const color = values['no-color'] ? false : (values.color as boolean | undefined)
  const flags = {
    format,
    showCaches: values['show-caches'] as boolean,
    showOffsets: values['show-offsets'] as boolean,
    showPositions: values['show-positions'] as boolean,
  }
  const single = values.command !== undefined ? { inline: values.command as string } : positionals.length === 1 ? parseTarget(positionals[0]!) : undefined
  const adaptive = adaptiveOptions(values, single)
  if (single && (isSource(single) || single.selector || values.explain) && values['python-version'] === undefined && !isFolder(single.path)) {
    if (values.out !== undefined) throw new UsageError('USAGE', '--out applies to .pyc files and folders; redirect stdout for source')
    return runDisTarget(
      single,
      {
        ...flags,
        ...sourceOptions(values),
        style: styleFor(process.stdout, color),
        verbose: values.verbose as boolean,
        ...(values.explain ? { explain: explainOpcode } : {}),
        ...(adaptive ? { adaptive } : {}),
      },
      con,
    )
  }
  if (values.explain) throw new UsageError('USAGE', '--explain works on one target (a .py or .pyc file) in the text format')
  const sources = positionals.filter((p) => p.endsWith('.py'))
  if (sources.length) throw new UsageError('USAGE', `give one .py file at a time (got ${sources.length} among ${positionals.length} inputs)`)
  return runDis(
    {
      inputs: positionals,
      ...flags,
      ...(values['python-version'] !== undefined ? { pythonVersion: values['python-version'] as string } : {}),
      ...(values.out !== undefined ? { outDir: values.out as string } : {}),
      ...(values['max-output-mb'] !== undefined ? { maxOutputBytes: maxOutputOf(values)! } : {}),
      style: styleFor(process.stdout, values.out !== undefined ? false : color),
    },
    con,
  )
}

/** The --adaptive options of dis, checked; undefined without --adaptive. */
function adaptiveOptions(values: Values, single: Target | undefined): AdaptiveOptions | undefined {
  if (!values.adaptive) {
    if (values.call !== undefined || values.setup !== undefined || values.warmup !== undefined) throw new UsageError('USAGE', '--call, --setup and --warmup go with --adaptive')
    return undefined
  }
  if (!single || !isSource(single)) throw new UsageError('USAGE', '--adaptive works on one Python source target (FILE.py[:Qualname] or -c)')
  if (values.call === undefined) throw new UsageError('USAGE', "--adaptive needs --call EXPR: what to run before reading the specialized code, e.g. --call 'f(100)'")
  const warmup = values.warmup === undefined ? 50 : Number(values.warmup)
  if (!Number.isInteger(warmup) || warmup < 1 || warmup > 10_000_000) throw new UsageError('USAGE', `--warmup takes a whole number of runs from 1 to 10000000, not "${values.warmup as string}"`)
  return { call: values.call as string, warmup, ...(values.setup !== undefined ? { setup: values.setup as string } : {}) }
}

function isFolder(path: string | undefined): boolean {
  try {
    return path !== undefined && statSync(path).isDirectory()
  } catch {
    return false
  }
}

async function astCommand(args: string[], con: Console): Promise<number> {
  const { values, positionals } = parse(args, { ...RUNTIME_OPTIONS, format: { type: 'string', short: 'f', default: 'text' } })
  if (values.help) {
    con.out(AST_HELP)
    return ExitCode.Ok
  }
  const format = formatOf(values, ['text', 'json'], 'ast') as 'text' | 'json'
  return runAst(oneTarget('ast', values, positionals), { ...sourceOptions(values), format, verbose: values.verbose as boolean }, con)
}

async function stackCommand(args: string[], con: Console): Promise<number> {
  const { values, positionals } = parse(args, {
    ...RUNTIME_OPTIONS,
    format: { type: 'string', short: 'f', default: 'text' },
    explain: { type: 'boolean', default: false },
    color: { type: 'boolean' },
    'no-color': { type: 'boolean' },
  })
  if (values.help) {
    con.out(STACK_HELP)
    return ExitCode.Ok
  }
  const format = formatOf(values, ['text', 'json'], 'stack') as 'text' | 'json'
  const target = oneTarget('stack', values, positionals)
  const color = values['no-color'] ? false : (values.color as boolean | undefined)
  return runStack(
    target,
    { ...sourceOptions(values), format, verbose: values.verbose as boolean, style: styleFor(process.stdout, color), ...(values.explain ? { explain: explainOpcode } : {}) },
    con,
  )
}

async function codeCommand(args: string[], con: Console): Promise<number> {
  const { values, positionals } = parse(args, { ...RUNTIME_OPTIONS, format: { type: 'string', short: 'f', default: 'text' } })
  if (values.help) {
    con.out(CODE_HELP)
    return ExitCode.Ok
  }
  const format = formatOf(values, ['text', 'json'], 'code') as 'text' | 'json'
  return runCode(oneTarget('code', values, positionals), { ...sourceOptions(values), format, verbose: values.verbose as boolean }, con)
}

async function runtimesCommand(args: string[], con: Console): Promise<number> {
  const { values } = parse(args, { format: { type: 'string', short: 'f', default: 'text' }, help: { type: 'boolean', short: 'h', default: false } })
  if (values.help) {
    con.out(RUNTIMES_HELP)
    return ExitCode.Ok
  }
  return runRuntimes(formatOf(values, ['text', 'json'], 'runtimes') as 'text' | 'json', con)
}

async function pythonPathCommand(args: string[], con: Console): Promise<number> {
  const { values } = parse(args, { help: { type: 'boolean', short: 'h', default: false } })
  if (values.help) {
    con.out('Usage: pyxray python-path\n\nPrints the folder holding the pyxray Python agent: add it to PYTHONPATH, or pip install it.\n')
    return ExitCode.Ok
  }
  con.out(`${agentDir()}\n`)
  return ExitCode.Ok
}

async function profileCommand(args: string[], con: Console): Promise<number> {
  if (args[0] === '-h' || args[0] === '--help') {
    con.out(PROFILE_HELP)
    return ExitCode.Ok
  }
  return runProfile(args, con)
}

const SERVE_HELP = `Usage: pyxray serve [--port N] [--host 127.0.0.1] [PROFILE.json | MEMORY.json…]

Serves the web UI — bytecode explorer, profile viewer, profile diff, memory — on a loopback
address and prints its URL, which carries a random token. The UI compiles with your native
interpreters (and Pyodide), and opens the files given here: profiles (pyxray profile -o; the
first two are the diff's base and head) and memory documents (pyxray mem … --format json). Requests with a foreign Host or Origin, or without the token,
are refused. A frame's source is shown only for a regular Python file of at most 8 MB below the
folders its profile ran in (cwd, the script's folder, the recorded Python's lib/pythonX.Y).
Ctrl-C stops it.

Options:
      --port N              port (default 0: any free port)
      --host ADDR           127.0.0.1 (default), ::1 or localhost; never a public address
  -h, --help                show this help
`

async function serveCommand(args: string[], con: Console): Promise<number> {
  const { values, positionals } = parse(args, { port: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' }, help: { type: 'boolean', short: 'h', default: false } })
  if (values.help) {
    con.out(SERVE_HELP)
    return ExitCode.Ok
  }
  const stop = new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve())
    process.once('SIGTERM', () => resolve())
  })
  return runServe({ host: values.host as string, port: parsePort(values.port as string | undefined), profiles: positionals }, con, stop)
}

async function exportCommand(args: string[], con: Console): Promise<number> {
  const { values, positionals } = parse(args, {
    to: { type: 'string' },
    out: { type: 'string', short: 'o' },
    thread: { type: 'string' },
    unit: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  })
  if (values.help) {
    con.out(EXPORT_HELP)
    return ExitCode.Ok
  }
  if (positionals.length !== 1) throw new UsageError('USAGE', 'export needs one profile file (pyxray profile -o FILE writes one); see pyxray export --help')
  return runExport(exportOptions({ ...(values as { to?: string; out?: string; thread?: string; unit?: string }), input: positionals[0]!, exporter: `pyxray@${VERSION}` }), con)
}

const COMMANDS: Record<string, (args: string[], con: Console) => Promise<number>> = {
  serve: serveCommand,
  profile: profileCommand,
  mem: runMem,
  report: reportCommand,
  diff: diffCommand,
  compare: (args, con) => compareCommand(args, con, { ...(process.stdout.isTTY && process.stdout.columns ? { columns: process.stdout.columns } : {}), style: (flag) => styleFor(process.stdout, flag) }),
  export: exportCommand,
  dis: disCommand,
  ast: astCommand,
  code: codeCommand,
  stack: stackCommand,
  runtimes: runtimesCommand,
  'python-path': pythonPathCommand,
}

/** Runs the CLI with `argv` (without node and the script); resolves to the exit code. */
export async function main(argv: string[], con: Console): Promise<number> {
  const [command, ...rest] = argv
  try {
    if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
      con.out(MAIN_HELP)
      return command === undefined ? ExitCode.Usage : ExitCode.Ok
    }
    if (command === '-V' || command === '--version') {
      con.out(`${VERSION}\n`)
      return ExitCode.Ok
    }
    const run = COMMANDS[command]
    if (!run) throw new UsageError('USAGE', `unknown command "${command}": run pyxray --help for the list`)
    return await run(rest, con)
  } catch (e) {
    if (e instanceof UsageError) {
      con.err(`pyxray: ${escapeMessage(e.message)}\n`)
      return ExitCode.Usage
    }
    if (e instanceof ProfileDocumentError) {
      con.err(`pyxray: ${escapeMessage(e.message)}\n`)
      return ExitCode.Usage
    }
    if (e instanceof RuntimeError) {
      con.err(`pyxray: ${escapeMessage(e.message)}\n`)
      return ExitCode.Usage
    }
    const line = describeError(command ?? 'pyxray', e)
    if (line !== undefined) {
      con.err(`pyxray: ${escapeMessage(line)}\n`)
      return ExitCode.Usage
    }
    throw e
  }
}

/** Writes to stdout, ignoring a closed pipe (e.g. `pyxray dis … | head`). */
function writeOut(text: string): void {
  try {
    process.stdout.write(text)
  } catch {
    // the reader went away
  }
}

/** The process entry: runs the CLI with the process's arguments and sets the exit code. */
export function runCli(argv: string[]): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0)
  })
  main(argv, { out: writeOut, err: (t) => process.stderr.write(t) }).then(
    (code) => {
      process.exitCode = code
    },
    (e: unknown) => {
      process.stderr.write(`pyxray: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`)
      process.exitCode = 70
    },
  )
}

// Run directly (node --import tsx src/cli/main.ts …) as well as through bin/pyxray.js.
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) runCli(process.argv.slice(2))
