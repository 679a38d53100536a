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
