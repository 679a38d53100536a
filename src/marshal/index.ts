/** CPython's marshal format: the object model, a reader and a byte-exact writer. */
export { MarshalError, type MarshalErrorCode } from './errors.js'
export { codeLayout, parsePyFloat, readMarshal, type ReadLimits, type ReadResult } from './reader.js'
export {
  checkOutput,
  DEFAULT_MAX_OUTPUT_BYTES,
  LimitError,
  type LimitErrorCode,
  OUTPUT_BASE_BYTES,
  OUTPUT_BYTES_PER_INPUT_BYTE,
  OUTPUT_BYTES_PER_SLOT,
  OUTPUT_MAX_BYTES,
  outputBudget,
} from './limits.js'
export * from './types.js'
export { expandedSize } from './size.js'
export { decodeUtf8, encodeUtf8 } from './utf8.js'
export { writeMarshal } from './writer.js'
