/**
 * The exception table of CPython 3.11+ code objects (`co_exceptiontable`); see CPython's
 * InternalDocs/exception_handling.md. Each entry is four varints — start, length and target in
 * code units, then `depth << 1 | lasti` — and this module hands them out in byte offsets, the
 * values `dis._parse_exception_table` returns and `dis` prints (`4 to 20 -> 24 [0] lasti`).
 *
 * No Node or DOM API is used: this module runs in browsers too.
 */

/** Why an exception table could not be decoded. */
export type ExceptionTableErrorCode =
  /** The table ends in the middle of an entry. */
  | 'EXCTABLE_TRUNCATED'
  /** A number in the table is too large to be real. */
  | 'EXCTABLE_BAD'

/** A `co_exceptiontable` that cannot be decoded. */
export class ExceptionTableError extends Error {
  override readonly name = 'ExceptionTableError'
  constructor(
    readonly code: ExceptionTableErrorCode,
    message: string,
    /** 0-based offset in the table bytes where the problem was found. */
    readonly byteOffset?: number,
  ) {
    super(message)
  }
}

/** One exception-table entry: instructions with byte offsets in [start, end) jump to `target` (byte offset) on an exception, with the stack cut to `depth`; `lasti` says whether the offset of the raising instruction is pushed. */
export interface ExceptionEntry {
  /** Byte offset in `co_code` of the first instruction covered. */
  start: number
  /** Byte offset in `co_code` just past the instructions covered. */
  end: number
  /** Byte offset in `co_code` of the handler. */
  target: number
  /** Number of stack items kept when jumping to the handler. */
  depth: number
  /** Whether the byte offset of the raising instruction is pushed before the exception. */
  lasti: boolean
}

/**
 * Varint layout of the exception table: 6 value bits a byte, HIGH chunk first (unlike the
 * location table), bit 6 meaning "more follows"; bit 7 marks the first byte of an entry.
 */
const enum ExceptionVarint {
  /** Payload bits of a varint byte. */
  ValueMask = 0x3f,
  /** "Another byte follows" flag. */
  More = 0x40,
  /** Set on the first byte of each entry (dis ignores it, and so does this parser). */
  EntryStart = 0x80,
}

/** Multiplier per varint byte: 6 value bits. */
const RADIX = 64

/** The largest varint accepted; real tables hold offsets of at most a few million code units. */
const MAX_VARINT = 2 ** 32 - 1

/** Size of one code unit in bytes. */
const CODE_UNIT_BYTES = 2

/**
 * Decodes a 3.11+ `co_exceptiontable` like `dis._parse_exception_table`, with `start`, `end` and
 * `target` in byte offsets. Unlike dis, which silently drops a partial last entry, a table that
 * ends inside an entry throws.
 *
 * @throws ExceptionTableError `EXCTABLE_TRUNCATED` when the table ends inside an entry,
 *   `EXCTABLE_BAD` when a number exceeds 32 bits.
 */
export function parseExceptionTable(table: Uint8Array): ExceptionEntry[] {
  const entries: ExceptionEntry[] = []
  let pos = 0
  let entryAt = 0
  const varint = (): number => {
    const first = pos
    let b: number
    let value = 0
    do {
      if (pos >= table.length) {
        throw new ExceptionTableError(
          'EXCTABLE_TRUNCATED',
          `exception table ends inside the entry that starts at byte ${entryAt}`,
          pos,
        )
      }
      b = table[pos++]!
      value = value * RADIX + (b & ExceptionVarint.ValueMask)
      if (value > MAX_VARINT) {
        throw new ExceptionTableError('EXCTABLE_BAD', `varint at byte ${first} of the exception table exceeds 32 bits`, first)
      }
    } while (b & ExceptionVarint.More)
    return value
  }
  while (pos < table.length) {
    entryAt = pos
    const start = varint() * CODE_UNIT_BYTES
    const length = varint() * CODE_UNIT_BYTES
    const target = varint() * CODE_UNIT_BYTES
    const depthAndLasti = varint()
    entries.push({
      start,
      end: start + length,
      target,
      depth: Math.floor(depthAndLasti / 2),
      lasti: depthAndLasti % 2 === 1,
    })
  }
  return entries
}
