import type { RuntimeError } from '../runtime/index.js'

/** Exit codes of the CLI. */
export const enum ExitCode {
  Ok = 0,
  /** A gate failed (a regression, a leak when asked to fail). */
  GateFailed = 1,
  /** Bad usage or bad input. */
  Usage = 2,
}

/** A usage problem: unknown option, missing argument, unreadable path. Printed as one line, exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
  constructor(
    readonly code: 'USAGE' | 'NOT_FOUND' | 'OUTPUT',
    message: string,
  ) {
    super(message)
  }
}

/** A RUN_ERROR as the CLI prints it: the message, then the user's traceback, indented. */
export function describeRunError(e: RuntimeError, prefix: string): string {
  const tb = typeof e.details.traceback === 'string' ? e.details.traceback.trimEnd() : ''
  return `${prefix}: ${e.message}${tb ? `\n${tb.replace(/^/gm, '    ')}` : ''}\n`
}
