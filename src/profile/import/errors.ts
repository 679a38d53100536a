/** Errors of the profile importers (`pyxray import`). */

/** What an importer could not read. */
export type ImportErrorCode =
  /** The bytes are none of the formats pyxray imports. */
  | 'IMPORT_UNKNOWN_FORMAT'
  /** A recognised format whose content breaks it (truncated, an index out of range, a bad number). */
  | 'IMPORT_CORRUPT'
  /** A recognised format in a variant pyxray does not read (a newer format version, zstd compression, cProfile's pstats). */
  | 'IMPORT_UNSUPPORTED'
  /** The file holds no samples. */
  | 'IMPORT_EMPTY'
  /** Reading it would take more work or memory than its size allows (see the budget in build.ts). */
  | 'IMPORT_LIMIT'

/** An input pyxray cannot import: one line saying what is wrong and what to do. */
export class ImportError extends Error {
  override readonly name = 'ImportError'
  constructor(
    readonly code: ImportErrorCode,
    message: string,
    /** Where in the input: a byte offset (binary formats) or a 1-based line (text formats). */
    readonly at?: { readonly byteOffset?: number; readonly line?: number },
  ) {
    super(message)
  }
}
