/**
 * `pyxray mem leaks|size|path|lines|growth …`: runs the agent's memory tools
 * (`python -m pyxray.memory`, python/pyxray/memory) in the chosen native interpreter, or in the
 * embedded Pyodide (CPython 3.14, src/runtime/pyodide/agent-cli.ts) with `--runtime pyodide` or
 * when no supported native CPython exists, reads the memory document it writes
 * (schema/memory.schema.json) and renders it (src/profile/memory-report).
 */
import { escapeControls } from '../text/escape.js'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { type MemoryDocument, MemoryDocumentError, parseMemoryDocument } from '../profile/memory-document.js'
import { leakGateFails, MEMORY_FORMATS, type MemoryFormat, renderMemoryReport } from '../profile/memory-report.js'
import { agentDir, PYODIDE_MINOR, RuntimeError } from '../runtime/index.js'
import { SUPPORTED_RANGE } from '../versions/index.js'
import { runPyodideAgent } from '../runtime/pyodide/agent-cli.js'
import { type AgentRuntimeChoice, agentArgs, chooseAgentRuntime, exitCodeOf, launchEnv } from './agent-process.js'
import { defineCommand, formatOption, formatValue, HELP_OPTION, OUTPUT_OPTIONS, type OptionSpec, outputValue, parseOptions, runtimeValues, type CommandContext } from './command.js'
import { ExitCode, UsageError } from './errors.js'
import { checkOutputPath, type Console, writeFileAtomic } from './io.js'

/** The help of `pyxray mem`. */
export const MEM_HELP = `Usage: pyxray mem COMMAND [options]

Memory investigations, run by pyxray's agent (tracemalloc, gc) in a native CPython ${SUPPORTED_RANGE} or
in the embedded Pyodide (CPython 3.${PYODIDE_MINOR} in WebAssembly, pure-Python scripts):

  leaks SCRIPT [--call EXPR]   run EXPR (default: the script again) --iterations times after
                               --warmup runs; steady growth per iteration by line and traceback,
                               and a verdict ("leaks ~2.1 KiB/iteration at cache.py:14")
  size EXPR [--setup CODE]     deep size of EXPR's value (each object once; __dict__, __slots__,
                               containers) by type, with the shallow sys.getsizeof beside it
  path --type NAME SCRIPT      after the script (and --call) ran: the shortest reference chain
                               from a root (module global, class attribute, local) to each live
                               instance of NAME; --dot FILE writes them as Graphviz
  lines SCRIPT:FUNC --call EXPR  per line of FUNC while EXPR runs: executions, net and peak bytes
  growth SCRIPT [--call EXPR]  objects per type that grew while EXPR ran (--iterations times), or
                               while the script ran

The script runs as __main__; EXPR is evaluated in its globals. Its output goes to stderr.

Options:
  -f, --format FMT          text (default), markdown or json (the memory document)
  -o, --output FILE         also write the memory document (JSON) to FILE (atomically; never the
                            script)
      --iterations N        leaks: measured runs (default 20); growth: runs of --call (default 1)
      --warmup N            leaks: runs before measuring (default 3)
      --top N               leaks: lines and tracebacks shown (default 10)
      --frames N            leaks: frames kept per allocation (default 10)
      --min-growth BYTES    leaks: less growth per iteration is never a leak (default 128)
      --fail                leaks: exit 1 when a leak of at least --threshold bytes/iteration is found
      --threshold BYTES     leaks: the --fail threshold (default: --min-growth)
      --setup CODE          size: run CODE first (in the namespace of --script, if given)
      --script FILE         size: run FILE first and evaluate EXPR in its globals
      --type NAME           path: class name (Widget, Outer.Widget or module.Widget)
      --max N               path: instances to explain (default 3)
      --max-depth N         path: longest chain searched (default 30)
      --dot FILE            path: write the chains as one Graphviz file
      --limit N             growth: types shown (default 20)
      --python X.Y|PATH     the interpreter to run in (default: $PYXRAY_PYTHON, else python3);
                            3.14 with no native 3.14 installed runs in Pyodide
      --runtime native|pyodide  where to run (default: native python3 when supported, else
                            the embedded Pyodide)
  -v, --verbose             say which runtime and interpreter run, and why
  -h, --help                show this help (also: pyxray help mem)

Exit codes: 0 ok, 1 a leak passed --threshold with --fail, 2 usage or input error (missing script,
bad expression, unknown type or function).

Examples:
  pyxray mem leaks app.py --call 'handle_request()' --iterations 20 --fail --threshold 1024
  pyxray mem size 'cache' --script app.py
  pyxray mem size '{"a": [1, 2, 3]}' --format json
  pyxray mem path --type Session app.py --dot sessions.dot
  pyxray mem lines 'app.py:build_index' --call 'build_index(10_000)'
  pyxray mem growth app.py --call 'handle_request()' --iterations 10
`

/** The commands of `pyxray mem`. */
export const MEM_COMMANDS = ['leaks', 'size', 'path', 'lines', 'growth'] as const
type MemCommand = (typeof MEM_COMMANDS)[number]

/** Options of `pyxray mem`, parsed. */
export interface MemOptions {
  readonly command: MemCommand
  readonly format: MemoryFormat
  /** Arguments for `python -m pyxray.memory COMMAND`. */
  readonly agentArgs: readonly string[]
  readonly output?: string
  readonly dot?: string
  readonly fail: boolean
  readonly threshold?: number
  readonly python?: string
  /** --runtime: native or pyodide (default: chosen, see chooseAgentRuntime). */
  readonly runtime?: 'native' | 'pyodide'
  /** The scripts the command reads (their folders are mounted in Pyodide). */
  readonly scripts: readonly string[]
  readonly verbose: boolean
}

const INT_OPTIONS: Record<string, { readonly commands: readonly MemCommand[]; readonly min: number }> = {
  iterations: { commands: ['leaks', 'growth'], min: 1 },
  warmup: { commands: ['leaks'], min: 0 },
  top: { commands: ['leaks'], min: 1 },
  frames: { commands: ['leaks'], min: 1 },
  'min-growth': { commands: ['leaks'], min: 0 },
  max: { commands: ['path'], min: 1 },
  'max-depth': { commands: ['path'], min: 1 },
  limit: { commands: ['growth'], min: 1 },
}
const STRING_OPTIONS: Record<string, readonly MemCommand[]> = {
  call: ['leaks', 'path', 'lines', 'growth'],
  setup: ['size'],
  script: ['size'],
  type: ['path'],
}

function intValue(name: string, text: string, min: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min) throw new UsageError('USAGE', `--${name} takes an integer >= ${min}, not "${text}"`)
  return Number(text)
}

const MEM_OPTIONS = {
  ...formatOption('text'),
  ...OUTPUT_OPTIONS,
  python: { type: 'string' },
  runtime: { type: 'string' },
  verbose: { type: 'boolean', short: 'v', default: false },
  fail: { type: 'boolean', default: false },
  threshold: { type: 'string' },
  dot: { type: 'string' },
  ...(Object.fromEntries([...Object.keys(INT_OPTIONS), ...Object.keys(STRING_OPTIONS)].map((k) => [k, { type: 'string' }])) as Record<string, OptionSpec>),
  ...HELP_OPTION,
} as const

/** Parses `pyxray mem …` (without "mem"); throws UsageError on bad usage. `ctx` warns about deprecated spellings. */
export function parseMemArgs(args: readonly string[], ctx?: CommandContext): MemOptions {
  const [command, ...rest] = args
  if (command === undefined || !(MEM_COMMANDS as readonly string[]).includes(command)) {
    throw new UsageError('USAGE', `${command === undefined ? 'mem needs a command' : `unknown mem command "${command}"`}: use one of ${MEM_COMMANDS.join(', ')} (see pyxray mem --help)`)
  }
  const cmd = command as MemCommand
  const { values, positionals } = parseOptions(rest, MEM_OPTIONS)
  const strings = new Map(Object.entries(values).flatMap(([name, v]) => (typeof v === 'string' ? [[name, v] as const] : [])))
  const text = (name: string): string | undefined => strings.get(name)
  const format = formatValue('mem', values.format, MEMORY_FORMATS)
  if (positionals.length !== 1) {
    const what = { leaks: 'a script', size: 'an expression', path: 'a script', lines: 'SCRIPT.py:FUNCTION', growth: 'a script' }[cmd]
    throw new UsageError('USAGE', `mem ${cmd} needs ${what} (got ${positionals.length} arguments); see pyxray mem --help`)
  }
  const agentArgs: string[] = [cmd, positionals[0]!]
  for (const [name, spec] of Object.entries(INT_OPTIONS)) {
    const v = text(name)
    if (v === undefined) continue
    if (!spec.commands.includes(cmd)) throw new UsageError('USAGE', `--${name} does not apply to mem ${cmd}`)
    agentArgs.push(`--${name}`, String(intValue(name, v, spec.min)))
  }
  for (const [name, commands] of Object.entries(STRING_OPTIONS)) {
    const v = text(name)
    if (v === undefined) continue
    if (!commands.includes(cmd)) throw new UsageError('USAGE', `--${name} does not apply to mem ${cmd}`)
    agentArgs.push(`--${name}`, v)
  }
  if (cmd === 'leaks' && text('iterations') !== undefined && Number(text('iterations')) < 3) throw new UsageError('USAGE', '--iterations takes an integer >= 3 for leaks (a trend needs points)')
  if (cmd === 'path' && text('type') === undefined) throw new UsageError('USAGE', 'mem path needs --type NAME (the class whose instances to explain)')
  if (cmd === 'lines' && text('call') === undefined) throw new UsageError('USAGE', "mem lines needs --call EXPR (what to run, e.g. --call 'build(100)')")
  if ((values.fail || values.threshold !== undefined) && cmd !== 'leaks') throw new UsageError('USAGE', '--fail and --threshold apply to mem leaks')
  if (values.dot !== undefined && cmd !== 'path') throw new UsageError('USAGE', '--dot applies to mem path')
  // Inputs are checked here so that a typo costs no interpreter start.
  const script = text('script')
  const scripts = cmd === 'size' ? (script !== undefined ? [script] : []) : [cmd === 'lines' ? scriptOfTarget(positionals[0]!) : positionals[0]!]
  for (const s of scripts) if (!existsSync(s)) throw new UsageError('NOT_FOUND', `${s}: no such file (give the path of a Python script)`)
  // Outputs are checked before the script runs: writable, and never one of its inputs.
  const output = ctx ? outputValue(values, ctx) : values.output
  const dot = values.dot
  if (output !== undefined) checkOutputPath(output, scripts, '-o')
  if (dot !== undefined) checkOutputPath(dot, output === undefined ? scripts : [...scripts, output], '--dot')
  if (output !== undefined && dot !== undefined && resolve(output) === resolve(dot)) throw new UsageError('OUTPUT', `--dot ${dot}: that is also the -o file; give two files`)
  return {
    command: cmd,
    format,
    agentArgs,
    ...(output !== undefined ? { output } : {}),
    ...(dot !== undefined ? { dot } : {}),
    fail: values.fail,
    ...(values.threshold !== undefined ? { threshold: intValue('threshold', values.threshold, 0) } : {}),
    ...runtimeValues(values),
    scripts,
  }
}

function scriptOfTarget(target: string): string {
  const i = target.lastIndexOf(':')
  if (i <= 0 || i === target.length - 1) throw new UsageError('USAGE', `mem lines needs SCRIPT.py:FUNCTION (e.g. 'app.py:build' or 'app.py:Index.add'), not "${target}"`)
  return target.slice(0, i)
}

/**
 * Runs `python -m pyxray.memory …` natively, or its main() in Pyodide, and reads the document it
 * wrote. The script's stdout goes to our stderr: stdout is the report's.
 */
async function runAgent(where: AgentRuntimeChoice, o: MemOptions, con: Console): Promise<MemoryDocument> {
  const dir = mkdtempSync(join(tmpdir(), 'pyxray-mem-'))
  const out = join(dir, 'memory.json')
  const name = where.kind === 'native' ? where.python : 'Pyodide'
  try {
    let code: number
    if (where.kind === 'native') {
      const child = spawn(where.python, agentArgs('pyxray.memory', ['-o', out, ...o.agentArgs]), { stdio: ['inherit', process.stderr, 'inherit'], env: launchEnv() })
      code = await exitCodeOf(child, where.python)
    } else {
      const write = (t: string) => con.err(t)
      code = await runPyodideAgent({ agentDir: agentDir(), module: 'pyxray.memory._cli', argv: ['-o', out, ...o.agentArgs], folders: o.scripts.map((s) => dirname(s)), stdout: write, stderr: write })
    }
    if (!existsSync(out)) throw new RuntimeError('AGENT_ERROR', `the memory agent in ${name} stopped (exit ${code}) without writing its document; its output is above`)
    try {
      return parseMemoryDocument(readFileSync(out, 'utf8'))
    } catch (e) {
      if (e instanceof MemoryDocumentError) throw new RuntimeError('AGENT_ERROR', `the memory agent in ${name} wrote a bad document: ${e.message}`)
      throw e
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Runs `pyxray mem …` on parsed options; resolves to the exit code. */
export async function runMem(o: MemOptions, con: Console): Promise<number> {
  const where = chooseAgentRuntime(o.python, o.runtime, 'pyxray mem')
  if (o.verbose) con.err(`pyxray: mem ${o.command} in ${where.kind === 'native' ? where.python : `the embedded Pyodide (CPython 3.${PYODIDE_MINOR})`} (${where.reason})\n`)
  const doc = await runAgent(where, o, con)
  if (doc.kind === 'error') throw new UsageError('USAGE', `mem ${o.command}: ${doc.error.message}`)
  if (o.output !== undefined) writeFileAtomic(o.output, `${JSON.stringify(doc, null, 2)}\n`)
  if (o.dot !== undefined && doc.kind === 'path') {
    const graphs = doc.path.paths.filter((p) => p.dot !== undefined).map((p) => p.dot!)
    // One file: the chains as clusters of one digraph would need renaming; Graphviz reads several graphs from one file.
    writeFileAtomic(o.dot, graphs.join('\n'))
  }
  con.out(renderMemoryReport(doc, o.format))
  if (o.fail && doc.kind === 'leaks' && leakGateFails(doc.leaks, o.threshold)) {
    con.err(`pyxray: mem leaks: ${escapeControls(doc.leaks.verdict)} (threshold ${o.threshold ?? doc.leaks.minGrowthBytes} B/iteration)\n`)
    return ExitCode.GateFailed
  }
  return ExitCode.Ok
}

/** `pyxray mem`. */
export const memCommand = defineCommand({
  name: 'mem',
  synopsis: 'COMMAND …',
  summary: `memory: leaks (growth per iteration), size (deep), path (why alive), lines, growth (objects per type)`,
  help: MEM_HELP,
  options: MEM_OPTIONS,
  parse: (args, ctx) => parseMemArgs(args, ctx),
  run: (o, ctx) => runMem(o, ctx.con),
})
