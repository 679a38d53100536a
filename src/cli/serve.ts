/** `pyxray serve [--port N] [--host H] [PROFILE…]`: the web UI on a loopback server. */
import { ProfileDocumentError } from '../profile/document.js'
import { startServer } from '../server/server.js'
import { defineCommand, HELP_OPTION, parseOptions } from './command.js'
import type { Console } from './io.js'
import { ExitCode, UsageError } from './errors.js'

/** Options of `pyxray serve`. */
export interface ServeCommandOptions {
  readonly host: string
  readonly port: number
  readonly profiles: readonly string[]
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1'])

/** Parses --port. */
export function parsePort(text: string | undefined): number {
  if (text === undefined) return 0
  if (!/^\d+$/.test(text) || Number(text) > 65535) throw new UsageError('USAGE', `--port takes a number 0–65535 (0 = any free port), not "${text}"`)
  return Number(text)
}

/**
 * Starts the server, prints its URL and keeps running until the process is interrupted (the
 * returned promise settles then). `stop` resolves when the server should stop (SIGINT).
 */
export async function runServe(o: ServeCommandOptions, con: Console, stop: Promise<void>): Promise<number> {
  if (!LOOPBACK.has(o.host)) {
    throw new UsageError('USAGE', `--host ${o.host}: pyxray serve runs your Python interpreters and only listens on loopback (127.0.0.1, ::1, localhost)`)
  }
  let server
  try {
    server = await startServer({ host: o.host === 'localhost' ? '127.0.0.1' : o.host, port: o.port, profiles: o.profiles, log: (line) => con.err(`${line}\n`) })
  } catch (e) {
    if (e instanceof ProfileDocumentError) throw new UsageError('USAGE', e.message)
    const err = e as NodeJS.ErrnoException
    if (err.code === 'EADDRINUSE') throw new UsageError('USAGE', `port ${o.port} is in use: pick another with --port, or --port 0 for any free one`)
    throw e
  }
  con.out(`pyxray serve: open ${server.url}\n`)
  con.err('(Ctrl-C stops the server; the URL carries a one-time secret: do not share it)\n')
  await stop
  await server.close()
  return ExitCode.Ok
}

const SERVE_OPTIONS = { port: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' }, ...HELP_OPTION } as const

/** `pyxray serve`. */
export const serveCommand = defineCommand({
  name: 'serve',
  synopsis: '[PROFILE…]',
  summary: 'the web UI (bytecode explorer, profile viewer) on a loopback server',
  help: `Usage: pyxray serve [--port N] [--host 127.0.0.1] [PROFILE.json | MEMORY.json…]

Serves the web UI — bytecode explorer, profile viewer, profile diff, memory — on a loopback
address and prints its URL, which carries a random token. The UI compiles with your native
interpreters (and Pyodide), and opens the files given here: profiles (pyxray profile -o; the
first two are the diff's base and head) and memory documents (pyxray mem … --format json).
Requests with a foreign Host or Origin, or without the token, are refused. A frame's source is
shown only for a regular Python file of at most 8 MB below the folders its profile ran in (cwd,
the script's folder, the recorded Python's lib/pythonX.Y). Ctrl-C stops it.

Options:
      --port N              port (default 0: any free port)
      --host ADDR           127.0.0.1 (default), ::1 or localhost; never a public address
  -h, --help                show this help (also: pyxray help serve)
`,
  options: SERVE_OPTIONS,
  parse(args) {
    const { values, positionals } = parseOptions(args, SERVE_OPTIONS)
    return { host: values.host, port: parsePort(values.port), profiles: positionals }
  },
  run(o, ctx) {
    const stop = new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve())
      process.once('SIGTERM', () => resolve())
    })
    return runServe(o, ctx.con, stop)
  },
})
