/** Errors of the profile exporters. */

/** What an exporter could not do. */
export type ExportErrorCode =
  /** A thread was asked for that the profile does not have. */
  | 'EXPORT_NO_THREAD'
  /** An option value the exporter does not know (a unit, a format). */
  | 'EXPORT_BAD_OPTION'
  /** The document breaks an invariant the exporter relies on (a frame index out of range). */
  | 'EXPORT_BAD_PROFILE'
  /** The profile recorded no calls, and the format cannot say so (pstats refuses an empty table). */
  | 'EXPORT_EMPTY'
  /** The HTML report template lacks the slot the profile goes into (not pyxray's build of it). */
  | 'EXPORT_BAD_TEMPLATE'
  /** The output would pass a size budget the format cannot stay under (collapsed stacks of long names). */
  | 'EXPORT_TOO_LARGE'

/** An export that cannot be made from this profile with these options. */
export class ExportError extends Error {
  override readonly name = 'ExportError'
  constructor(
    readonly code: ExportErrorCode,
    message: string,
  ) {
    super(message)
  }
}
