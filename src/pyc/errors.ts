/** Why a .pyc file could not be read. */
export type PycErrorCode = 'PYC_BAD_MAGIC' | 'PYC_TRUNCATED' | 'PYC_TRAILING_BYTES' | 'PYC_BAD_FLAGS' | 'PYC_BAD_DATA' | 'PYC_UNSUPPORTED_VERSION'

/** A problem with a .pyc file; `byteOffset` is where in the file it was found. */
export class PycError extends Error {
  override readonly name = 'PycError'
  constructor(
    readonly code: PycErrorCode,
    message: string,
    /** 0-based byte offset in the file. */
    readonly byteOffset?: number,
    /** `cause`: the underlying error, e.g. the MarshalError behind PYC_BAD_DATA. */
    options?: ErrorOptions,
  ) {
    super(message, options)
  }
}
