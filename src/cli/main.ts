/**
 * The `pyxray` command line: the table of commands (each defined in its own module with
 * src/cli/command.ts's shape), the general help built from their summaries, and the one place
 * that prints errors and exits.
 */
import { realpathSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { ProfileDocumentError } from '../profile/document.js'
import { RuntimeError } from '../runtime/index.js'
import { escapeMessage } from '../text/escape.js'
import { SUPPORTED_RANGE } from '../versions/index.js'
import { codeCommand } from './code.js'
import { type Command, contextFor } from './command.js'
import { astCommand, pythonPathCommand, runtimesCommand } from './commands.js'
import { compareCommand } from './compare.js'
import { diffCommand } from './diff.js'
import { describeError } from './dis.js'
import { disCommand } from './dis-command.js'
import { ExitCode, UsageError } from './errors.js'
import { exportCommand } from './export.js'
import { importCommand } from './import.js'
import { pushCommand } from './push.js'
import { type Console, terminalWidth } from './io.js'
import { setTextWidth } from '../profile/units.js'
import { memCommand } from './mem.js'
import { profileCommand } from './profile.js'
import { reportCommand } from './report.js'
import { serveCommand } from './serve.js'
import { stackCommand } from './stack.js'
import { VERSION } from './version.js'

/** Every command, in the order the general help lists them. */
export const COMMANDS: readonly Command[] = [
  disCommand,
  astCommand,
  stackCommand,
  codeCommand,
  compareCommand,
  profileCommand,
  memCommand,
  reportCommand,
  diffCommand,
  exportCommand,
  importCommand,
  pushCommand,
  serveCommand,
  runtimesCommand,
  pythonPathCommand,
]

const commandNamed = (name: string) => COMMANDS.find((c) => c.name === name)

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
export function mainHelp(): string {
  const rows = COMMANDS.map((c) => `  ${`${c.name} ${c.synopsis}`.trimEnd().padEnd(20)}${wrapText(c.summary, 78, 22)}`)
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
    con.out(mainHelp())
    return command === undefined ? ExitCode.Usage : ExitCode.Ok
  }
  if (command === 'help') {
    if (rest.length === 0) {
      con.out(mainHelp())
      return ExitCode.Ok
    }
    const named = commandNamed(rest[0]!)
    if (!named || rest.length > 1) throw new UsageError('USAGE', named ? 'help takes one command name' : `help: unknown command "${rest[0]}": run pyxray --help for the list`)
    con.out(named.help)
    return ExitCode.Ok
  }
  if (command === '-V' || command === '--version') {
    con.out(`${VERSION}\n`)
    return ExitCode.Ok
  }
  const cmd = commandNamed(command)
  if (!cmd) throw new UsageError('USAGE', `unknown command "${command}": run pyxray --help for the list`)
  if (cmd.wantsHelp(rest)) {
    con.out(cmd.help)
    return ExitCode.Ok
  }
  return cmd.execute(rest, contextFor(cmd.name, con))
}

/** Runs the CLI with `argv` (without node and the script); resolves to the exit code. */
export async function main(argv: string[], con: Console): Promise<number> {
  const [command, ...rest] = argv
  // Tables and trees measure names in terminal cells (a CJK qualname takes two per character).
  setTextWidth(terminalWidth)
  try {
    return await dispatch(command, rest, con)
  } catch (e) {
    if (e instanceof UsageError || e instanceof ProfileDocumentError || e instanceof RuntimeError) {
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
