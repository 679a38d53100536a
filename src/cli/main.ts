/**
 * The `pyxray` command line. Commands parse their options into the library's types and call it;
 * this is the only module that prints to the console or exits.
 */
import { readFileSync, realpathSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { type Console, DIS_FORMATS, type DisFormat, describeError, runDis } from './dis.js'
import { ExitCode, UsageError } from './errors.js'
import { styleFor } from './io.js'

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
  dis FILE.pyc|DIR…   disassemble .pyc files (pure TypeScript, CPython 3.8–3.14, no Python needed)

Options:
  -h, --help          show help (also: pyxray <command> --help)
  -V, --version       print the version

Exit codes: 0 ok, 1 a gate failed, 2 usage or input error.
`

const DIS_HELP = `Usage: pyxray dis FILE.pyc|DIR… [options]

Disassembles .pyc files of CPython 3.8–3.14 with pyxray's own engine. Folders are searched
recursively for *.pyc. One bad file does not stop the rest; the exit code is 2 if any failed.

Options:
  -f, --format FMT          text (default: for people, with source lines when found),
                            dis (exactly what CPython's dis.dis prints for that version),
                            json (every code-object field, instructions, positions)
      --show-caches         show inline CACHE entries (3.11+)
      --show-offsets        show byte offsets (3.13+ dis format; always shown before 3.13)
      --show-positions      show full source positions instead of lines (3.14 dis format)
      --python-version X.Y  the inputs are raw marshal data (no .pyc header) from Python X.Y
  -o, --out DIR             write one file per input under DIR (atomically) instead of stdout
      --color / --no-color  force colors on or off (default: on for a terminal, off for NO_COLOR)
  -h, --help                show this help

Examples:
  pyxray dis examples/hello.cpython-312.pyc
  pyxray dis __pycache__/models.cpython-313.pyc --format dis --show-caches
  pyxray dis /usr/lib/python3.11 --format json --out /tmp/dis-json
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

function disCommand(args: string[], con: Console): number {
  const { values, positionals } = parse(args, {
    format: { type: 'string', short: 'f', default: 'text' },
    'show-caches': { type: 'boolean', default: false },
    'show-offsets': { type: 'boolean', default: false },
    'show-positions': { type: 'boolean', default: false },
    'python-version': { type: 'string' },
    out: { type: 'string', short: 'o' },
    color: { type: 'boolean' },
    'no-color': { type: 'boolean' },
    help: { type: 'boolean', short: 'h', default: false },
  })
  if (values.help) {
    con.out(DIS_HELP)
    return ExitCode.Ok
  }
  const format = values.format as string
  if (!(DIS_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError('USAGE', `unknown format "${format}" for dis: use one of ${DIS_FORMATS.join(', ')}`)
  }
  if (positionals.length === 0) throw new UsageError('USAGE', 'dis needs at least one .pyc file or folder (see pyxray dis --help)')
  const color = values['no-color'] ? false : (values.color as boolean | undefined)
  return runDis(
    {
      inputs: positionals,
      format: format as DisFormat,
      showCaches: values['show-caches'] as boolean,
      showOffsets: values['show-offsets'] as boolean,
      showPositions: values['show-positions'] as boolean,
      ...(values['python-version'] !== undefined ? { pythonVersion: values['python-version'] as string } : {}),
      ...(values.out !== undefined ? { outDir: values.out as string } : {}),
      style: styleFor(process.stdout, values.out !== undefined ? false : color),
    },
    con,
  )
}

const COMMANDS: Record<string, (args: string[], con: Console) => number> = {
  dis: disCommand,
}

/** Runs the CLI with `argv` (without node and the script); returns the exit code. */
export function main(argv: string[], con: Console): number {
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
    return run(rest, con)
  } catch (e) {
    if (e instanceof UsageError) {
      con.err(`pyxray: ${e.message}\n`)
      return ExitCode.Usage
    }
    const line = describeError(command ?? 'pyxray', e)
    if (line !== undefined) {
      con.err(`pyxray: ${line}\n`)
      return ExitCode.Usage
    }
    throw e
  }
}

/** Writes to stdout, ignoring EPIPE (e.g. `pyxray dis … | head`). */
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
  process.exitCode = main(argv, { out: writeOut, err: (t) => process.stderr.write(t) })
}

// Run directly (node --import tsx src/cli/main.ts …) as well as through bin/pyxray.js.
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) runCli(process.argv.slice(2))
