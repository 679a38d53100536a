/**
 * The `pyxray` command line: the table of commands (each defined in its own module with
 * src/cli/command.ts's shape), the general help built from their summaries, and the one place
 * that prints errors and exits.
 */
import { realpathSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { escapeMessage } from '../text/escape.js'
import { SUPPORTED_RANGE } from '../versions/index.js'
import { type Command, contextFor } from './command.js'
import { ExitCode, UsageError } from './errors.js'
import type { Console } from './io.js'
import { VERSION } from './version.js'

/**
 * Every command by name, in the order the general help lists them, each loaded when it is run: a
 * command's module (and what it imports: a runtime, the profiler, the server) is not loaded by
 * another command, so `pyxray dis small.py` starts without the rest.
 */
const COMMAND_TABLE: Readonly<Record<string, () => Promise<Command>>> = {
  dis: async () => (await import('./dis-command.js')).disCommand,
  ast: async () => (await import('./commands.js')).astCommand,
  stack: async () => (await import('./stack.js')).stackCommand,
  code: async () => (await import('./code.js')).codeCommand,
  decompile: async () => (await import('./decompile.js')).decompileCommand,
  compare: async () => (await import('./compare.js')).compareCommand,
  profile: async () => (await import('./profile.js')).profileCommand,
  mem: async () => (await import('./mem.js')).memCommand,
  report: async () => (await import('./report.js')).reportCommand,
  diff: async () => (await import('./diff.js')).diffCommand,
  export: async () => (await import('./export.js')).exportCommand,
  import: async () => (await import('./import.js')).importCommand,
  push: async () => (await import('./push.js')).pushCommand,
  serve: async () => (await import('./serve.js')).serveCommand,
  runtimes: async () => (await import('./commands.js')).runtimesCommand,
  'python-path': async () => (await import('./commands.js')).pythonPathCommand,
}

/** Commands that print no table or tree of the reports (profile/units.ts): they run without its cell widths. */
const OWN_LAYOUT: ReadonlySet<string> = new Set(['dis'])

/** The names of the commands, in the order of the general help. */
export const COMMAND_NAMES: readonly string[] = Object.keys(COMMAND_TABLE)

/** Every command, loaded (for the general help and the tests). */
export function loadCommands(): Promise<Command[]> {
  return Promise.all(COMMAND_NAMES.map((name) => COMMAND_TABLE[name]!()))
}

const commandNamed = (name: string): Promise<Command> | undefined => (Object.hasOwn(COMMAND_TABLE, name) ? COMMAND_TABLE[name]!() : undefined)

/** Words wrapped to `width` columns, the lines after the first indented by `indent`. */
function wrapText(text: string, width: number, indent: number): string {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else line = line ? `${line} ${word}` : word
  }
  lines.push(line)
  return lines.join(`\n${' '.repeat(indent)}`)
}

/** `pyxray --help`: the commands with their summaries, from the table. */
export async function mainHelp(): Promise<string> {
  const rows = (await loadCommands()).map((c) => `  ${`${c.name} ${c.synopsis}`.trimEnd().padEnd(20)}${wrapText(c.summary, 78, 22)}`)
  return `pyxray ${VERSION} — see inside Python programs

Usage: pyxray <command> [options]

Commands:
${rows.join('\n')}

Targets: FILE.py, 'FILE.py:Qualname' ('hello.py:User.save', 'hello.py:outer.<locals>.inner': quote
them, the shell reads < and >), FILE.py:LINE (innermost code object covering the line), -c 'SOURCE',
- (source on standard input), FILE.pyc[:Qualname|:LINE], or a folder of .pyc files (dis).

Options:
  -h, --help          show help (also: pyxray help <command>, pyxray <command> --help)
  -V, --version       print the version

A command that writes one output file takes -o, --output FILE (dis: --out-dir DIR for one file
per input); - reads standard input where a file is expected; a flag that does not apply to the
format or the Python version is a warning. CPython ${SUPPORTED_RANGE}.

Exit codes: 0 ok, 1 a gate failed, 2 usage or input error.
`
}

async function dispatch(command: string | undefined, rest: string[], con: Console): Promise<number> {
  if (command === undefined || command === '-h' || command === '--help') {
    con.out(await mainHelp())
    return command === undefined ? ExitCode.Usage : ExitCode.Ok
  }
  if (command === 'help') {
    if (rest.length === 0) {
      con.out(await mainHelp())
      return ExitCode.Ok
    }
    const named = await commandNamed(rest[0]!)
    if (!named || rest.length > 1) throw new UsageError('USAGE', named ? 'help takes one command name' : `help: unknown command "${rest[0]}": run pyxray --help for the list`)
    con.out(named.help)
    return ExitCode.Ok
  }
  if (command === '-V' || command === '--version') {
    con.out(`${VERSION}\n`)
    return ExitCode.Ok
  }
  const cmd = await commandNamed(command)
  if (!cmd) throw new UsageError('USAGE', `unknown command "${command}": run pyxray --help for the list`)
  if (cmd.wantsHelp(rest)) {
    con.out(cmd.help)
    return ExitCode.Ok
  }
  if (!OWN_LAYOUT.has(cmd.name)) {
    // Tables and trees measure names in terminal cells (a CJK qualname takes two per character).
    const [{ setTextWidth }, { terminalWidth }] = await Promise.all([import('../profile/units.js'), import('./text-width.js')])
    setTextWidth(terminalWidth)
  }
  return cmd.execute(rest, contextFor(cmd.name, con))
}

/** Runs the CLI with `argv` (without node and the script); resolves to the exit code. */
export async function main(argv: string[], con: Console): Promise<number> {
  const [command, ...rest] = argv
  try {
    return await dispatch(command, rest, con)
  } catch (e) {
    if (e instanceof UsageError || (e instanceof Error && (e.name === 'ProfileDocumentError' || e.name === 'RuntimeError') && (await isUsageLike(e)))) {
      con.err(`pyxray: ${escapeMessage(e.message)}\n`)
      return ExitCode.Usage
    }
    const { describeError } = await import('./dis-file.js')
    const line = describeError(command ?? 'pyxray', e)
    if (line !== undefined) {
      con.err(`pyxray: ${escapeMessage(line)}\n`)
      return ExitCode.Usage
    }
    throw e
  }
}

/** Whether `e` is a ProfileDocumentError or a RuntimeError (their modules loaded only when such an error is seen). */
async function isUsageLike(e: Error): Promise<boolean> {
  const [{ ProfileDocumentError }, { RuntimeError }] = await Promise.all([import('../profile/document.js'), import('../runtime/types.js')])
  return e instanceof ProfileDocumentError || e instanceof RuntimeError
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
