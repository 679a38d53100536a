/** `pyxray serve [--port N] [--host H] [PROFILE…]`: the web UI on a loopback server. */
import { ProfileDocumentError } from '../profile/document.js'
import { startServer } from '../server/server.js'
import type { Console } from './dis.js'
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
