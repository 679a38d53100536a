/**
 * Budgets: how much work and memory one input may cause. Everything the engine decodes, expands
 * or prints is bounded by a multiple of the input's size, so that a small hostile file cannot
 * make a reader allocate gigabytes or print for minutes.
 *
 * - **Marshal allocations** are justified by the bytes left: a tuple of n items needs n bytes, a
 *   bytes or str object of length n needs n bytes, a long of n digits 2n bytes (reader.ts).
 * - **Output budget** (units: bytes of output text, or characters where the output is a string;
 *   one per object plus its characters for a marshal tree): `OUTPUT_BASE_BYTES +
 *   OUTPUT_BYTES_PER_INPUT_BYTE × input size`, at most `OUTPUT_MAX_BYTES`. It bounds the marshal
 *   tree with every back-reference counted as a copy (readPyc), the dis / text / code / stack
 *   texts and JSON documents (the formatters). JSON, the largest output, is 50–70× a real .pyc's
 *   size, which the base covers up to a few hundred kilobytes; `--max-output-mb` for larger
 *   files. JSON documents are measured in bytes of memory (escapes, two-byte text counted).
 * - **Symbolic stack slots** (the `stack` view): the sum over instructions of the proven depth is
 *   at most the output budget / {@link OUTPUT_BYTES_PER_SLOT}.
 *
 * Exceeding a budget throws a {@link LimitError}: one line naming the limit and how to raise it
 * (`--max-output-mb` on the command line, `maxOutputBytes` in the API).
 *
 * No Node or DOM API is used: this module runs in browsers too.
 */

/** Output budget for any input: the base every input gets. */
export const OUTPUT_BASE_BYTES = 16 * 2 ** 20
/** Output budget: bytes of output allowed per byte of input on top of the base. */
export const OUTPUT_BYTES_PER_INPUT_BYTE = 64
/**
 * The largest output budget, derived or explicit: just under V8's longest string (2**29 − 24
 * characters), which a larger budget would turn into a RangeError.
 */
export const OUTPUT_MAX_BYTES = 500_000_000
/** The output budget when the input size is unknown (a formatter called without `maxOutputBytes`). */
export const DEFAULT_MAX_OUTPUT_BYTES = 256 * 2 ** 20
/** The `stack` view: output budget per symbolic stack slot. */
export const OUTPUT_BYTES_PER_SLOT = 64

/** The output budget for an input of `inputBytes` bytes, or `maxOutputBytes` when given (both at most {@link OUTPUT_MAX_BYTES}). */
export function outputBudget(inputBytes: number, maxOutputBytes?: number): number {
  if (maxOutputBytes !== undefined) return Math.min(OUTPUT_MAX_BYTES, maxOutputBytes)
  return Math.min(OUTPUT_MAX_BYTES, OUTPUT_BASE_BYTES + OUTPUT_BYTES_PER_INPUT_BYTE * inputBytes)
}

/** Which budget an input exceeded. */
export type LimitErrorCode =
  /** Output text, a JSON document or the expanded marshal tree would exceed the output budget. */
  | 'LIMIT_OUTPUT'
  /** The symbolic value stacks would hold more slots than the output budget allows. */
  | 'LIMIT_STACK'

/** An input that would take more than its budget (see the module comment). */
export class LimitError extends Error {
  override readonly name = 'LimitError'
  constructor(
    readonly code: LimitErrorCode,
    /** What would have been produced, in the units of `limit`. */
    readonly size: number,
    /** The budget that was exceeded: bytes (or characters) of output. */
    readonly limit: number,
    what: string,
  ) {
    super(
      `${what} would exceed the output budget of ${formatMb(limit)} (${formatMb(OUTPUT_BASE_BYTES)} + ${OUTPUT_BYTES_PER_INPUT_BYTE}× the input's size unless set); raise it with --max-output-mb (API: maxOutputBytes)`,
    )
  }
}

/** Throws LIMIT_OUTPUT when `size` is over `limit`. */
export function checkOutput(size: number, limit: number, what: string): void {
  if (size > limit) throw new LimitError('LIMIT_OUTPUT', size, limit, what)
}

function formatMb(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(bytes < 2 ** 20 ? 3 : 1).replace(/\.?0+$/, '')} MiB`
}
